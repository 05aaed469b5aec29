"""Turn a notice into a short message a phone shows whole, and render it per sink.

Formatting happens once per notice (in the manager), not once per sink; each sink only
renders the same :class:`AlertMessage` into its own body (Slack blocks, Telegram HTML,
plain JSON). Formatting never raises on odd data: a value it cannot read prints as ``?``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "AlertMessage",
    "dropped_summary",
    "format_notice",
    "slack_body",
    "telegram_text",
    "test_message",
]

_ICONS = {
    "position_opened": "🟢",
    "position_closed": "🏁",
    "warn": "⚠️",
    "critical": "🚨",
    "completed": "✅",
    "failed": "❌",
    "strategy_started": "▶️",
    "strategy_stopped": "⏹️",
    "feed_lost": "📡",
    "feed_restored": "📶",
    "dropped": "🗑️",
    "test": "🔔",
}


@dataclass(frozen=True)
class AlertMessage:
    """What one notice says, before any sink-specific rendering.

    ``key`` identifies "the same alert" for the cooldown: for risk alerts it is the rule and
    position (ids differ on each firing), for everything else the notice's whole content.
    """

    strategy: str
    kind: str
    level: str
    title: str
    lines: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    key: str = ""
    ts: str = ""

    @property
    def text(self) -> str:
        return "\n".join((self.title, *self.lines))


def _now_iso() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def money(value: Any, *, signed: bool = False) -> str:
    """``1234.5`` -> ``1,234.50``; small non-zero amounts keep four decimals."""
    number = _dec(value)
    if number is None:
        return "?"
    places = 4 if 0 < abs(number) < 1 else 2
    sign = "+" if signed else ""
    return f"{number:{sign},.{places}f}"


def quantity(value: Any) -> str:
    number = _dec(value)
    if number is None:
        return "?"
    text = f"{number.normalize():f}"
    return text


def percent(value: Any) -> str:
    """A fraction as a percentage: ``0.2134`` -> ``21.3%``."""
    number = _dec(value)
    if number is None:
        return "?"
    return f"{number * 100:,.1f}%"


def _quote(symbol: Any) -> str:
    if isinstance(symbol, str) and "/" in symbol:
        return " " + symbol.split("/", 1)[1].split(":", 1)[0]
    return ""


def _s(value: Any, default: str = "?") -> str:
    if value is None or value == "":
        return default
    return str(value)


# A free-text field (a risk message, an error) is cut here so a message stays phone-sized
# and far below Telegram's 4096-character limit.
_MAX_LINE = 300


def _clip(line: str) -> str:
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…"


def _canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))


def format_notice(strategy: str, kind: str, data: Mapping[str, Any]) -> AlertMessage | None:
    """The message for one strategy notice, or ``None`` for kinds that are not alerts."""
    render = _RENDERERS.get(kind)
    if render is None:
        return None
    level, title, lines, key = render(data)
    return AlertMessage(
        strategy=strategy,
        kind=kind,
        level=level,
        title=title,
        lines=tuple(_clip(line) for line in lines if line),
        data=dict(data),
        key=f"{strategy}|{kind}|{key if key is not None else _canonical(data)}",
        ts=_now_iso(),
    )


_Rendered = tuple[str, str, list[str], str | None]


def _opened(d: Mapping[str, Any]) -> _Rendered:
    cur = _quote(d.get("symbol"))
    title = f"{_ICONS['position_opened']} Opened {_s(d.get('symbol'))} {_s(d.get('position'), '')}"
    lines = [
        f"long {_s(d.get('long_venue'))} / short {_s(d.get('short_venue'))}",
        f"qty {quantity(d.get('qty'))} · notional {money(d.get('notional'))}{cur}",
        f"entry spread {percent(d.get('entry_spread_apr'))} APR",
    ]
    return "info", title.rstrip(), lines, None


def _closed(d: Mapping[str, Any]) -> _Rendered:
    cur = _quote(d.get("symbol"))
    title = f"{_ICONS['position_closed']} Closed {_s(d.get('symbol'))} {_s(d.get('position'), '')}"
    lines = [
        f"reason: {_s(d.get('reason'))}",
        f"PnL {money(d.get('realized_pnl'), signed=True)}{cur}",
        f"funding {money(d.get('funding_collected'), signed=True)}{cur}"
        + (f" · fees {money(d.get('fees'))}{cur}" if d.get("fees") is not None else ""),
    ]
    return "info", title.rstrip(), lines, None


def _alert(d: Mapping[str, Any]) -> _Rendered:
    raw_level = d.get("level")
    # An unknown level is treated as the worse one: better a loud alert than a lost one.
    level: str = raw_level if raw_level in ("warn", "critical") else "critical"
    position = d.get("position")
    title = f"{_ICONS[level]} {level.upper()} {_s(d.get('code'))}"
    if position:
        title += f" · {position}"
    key = f"{level}|{d.get('code')}|{position}"
    return level, title, [_s(d.get("message"), "")], key


def _command(d: Mapping[str, Any]) -> _Rendered:
    status = _s(d.get("status"))
    op = _s(d.get("op"))
    what = "Close" if op == "close_position" else op
    target = f" {d['position']}" if d.get("position") else ""
    icon = _ICONS.get(status, "ℹ️")
    title = f"{icon} {what}{target} {status}"
    uid = d.get("peer_uid")
    lines = [f"requested by uid {uid}" if uid is not None else "requested by the strategy"]
    error = d.get("error")
    if isinstance(error, Mapping):  # {"code", "message"}, as the control adapter sends it
        error = error.get("message") or error.get("code")
    if error:
        lines.append(f"error: {error}")
    elif d.get("reason"):
        lines.append(f"reason: {d['reason']}")
    level = "warn" if status == "failed" else "info"
    return level, title, lines, None


def _started(d: Mapping[str, Any]) -> _Rendered:
    lines = [f"reason: {d['reason']}"] if d.get("reason") else []
    title = f"{_ICONS['strategy_started']} Strategy started ({_s(d.get('mode'))})"
    return "info", title, lines, None


def _stopped(d: Mapping[str, Any]) -> _Rendered:
    lines = [f"reason: {d['reason']}"] if d.get("reason") else []
    title = f"{_ICONS['strategy_stopped']} Strategy stopped ({_s(d.get('mode'))})"
    return "warn", title, lines, None


def _feed(kind: str) -> Any:
    def render(d: Mapping[str, Any]) -> _Rendered:
        where = _s(d.get("venue"))
        if d.get("symbol"):
            where += f" {d['symbol']}"
        state = "lost" if kind == "feed_lost" else "restored"
        level = "warn" if kind == "feed_lost" else "info"
        return level, f"{_ICONS[kind]} Market data {state}: {where}", [], None

    return render


_RENDERERS: dict[str, Any] = {
    "position_opened": _opened,
    "position_closed": _closed,
    "alert": _alert,
    "command": _command,
    "strategy_started": _started,
    "strategy_stopped": _stopped,
    "feed_lost": _feed("feed_lost"),
    "feed_restored": _feed("feed_restored"),
}


def test_message(strategy: str, sink_name: str) -> AlertMessage:
    """What ``dash alerts test`` sends: proves the URL, token and chat are right."""
    return AlertMessage(
        strategy=strategy,
        kind="test",
        level="info",
        title=f"{_ICONS['test']} dash test alert",
        lines=(f"sink {sink_name} is configured correctly",),
        key=f"test|{sink_name}|{_now_iso()}",
        ts=_now_iso(),
    )


test_message.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def dropped_summary(strategy: str, counts: Mapping[str, int], lost_upstream: bool) -> AlertMessage:
    """One message standing for the alerts a full queue (or the bus) threw away."""
    total = sum(counts.values())
    parts = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    lines = []
    if total:
        lines.append(f"{total} dropped: {parts}")
    if lost_upstream:
        lines.append("some notices were lost on the event bus")
    return AlertMessage(
        strategy=strategy,
        kind="dropped",
        level="warn",
        title=f"{_ICONS['dropped']} Alerts dropped (sink was backed up)",
        lines=tuple(lines),
        data={"dropped": dict(counts), "lost_upstream": lost_upstream},
        key=f"dropped|{_now_iso()}",
        ts=_now_iso(),
    )


# --- per-sink rendering -------------------------------------------------------------------


def _slack_escape(text: str) -> str:
    # Slack mrkdwn treats only these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(message: AlertMessage) -> dict[str, Any]:
    """Incoming-webhook JSON: ``text`` is the notification fallback, ``blocks`` the layout."""
    body = "\n".join(_slack_escape(line) for line in message.lines)
    section = f"*{_slack_escape(message.title)}*" + (f"\n{body}" if body else "")
    context = " · ".join(
        part for part in (message.strategy, message.kind, message.level, message.ts) if part
    )
    return {
        "text": _slack_escape(message.text),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": section}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(context)}]},
        ],
    }


_MD_V2_SPECIAL = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")


def _md_v2_escape(text: str) -> str:
    return _MD_V2_SPECIAL.sub(r"\\\1", text)


def telegram_text(message: AlertMessage, parse_mode: str) -> str:
    """The ``text`` field for ``sendMessage``, escaped for ``parse_mode``."""
    tag = f"{message.strategy}" if message.strategy else ""
    if parse_mode == "HTML":
        lines = [f"<b>{html.escape(message.title, quote=False)}</b>"]
        lines += [html.escape(line, quote=False) for line in message.lines]
        if tag:
            lines.append(f"<i>{html.escape(tag, quote=False)}</i>")
        return "\n".join(lines)
    if parse_mode == "MarkdownV2":
        lines = [f"*{_md_v2_escape(message.title)}*"]
        lines += [_md_v2_escape(line) for line in message.lines]
        if tag:
            lines.append(f"_{_md_v2_escape(tag)}_")
        return "\n".join(lines)
    return message.text + (f"\n{tag}" if tag else "")
