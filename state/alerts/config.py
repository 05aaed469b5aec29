"""The ``[alerts]`` table: which sinks exist, what each is sent, how hard each one tries.

The runner loads the TOML file and hands the parsed dict to :func:`from_toml_dict`; secrets
(webhook URLs, bot tokens, header values) may be written inline or named by environment
variable (``token_env = "DASH_TELEGRAM_TOKEN"``), and are wrapped in :class:`Secret` at
once so that no repr, log line or error message can show them.

Keys set directly under ``[alerts]`` (``cooldown_s``, ``events``, ...) are defaults for every
sink; a sink's own keys win. Unknown keys are errors, so a typo cannot silently turn an
alert off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ._exceptions import AlertConfigError
from ._redact import MASK, register_secret

__all__ = [
    "EVENT_KINDS",
    "LEVELS",
    "SINK_KINDS",
    "AlertsConfig",
    "Secret",
    "SinkConfig",
    "from_toml_dict",
]

SinkKind = Literal["slack", "telegram", "webhook"]
Level = Literal["warn", "critical"]

SINK_KINDS: Final = ("slack", "telegram", "webhook")
LEVELS: Final = ("warn", "critical")
# Notice kinds a sink can be switched on or off for; they are the strategy's notice kinds.
EVENT_KINDS: Final = (
    "position_opened",
    "position_closed",
    "alert",
    "command",
    "strategy_started",
    "strategy_stopped",
    "feed_lost",
    "feed_restored",
)
TELEGRAM_PARSE_MODES: Final = ("HTML", "MarkdownV2", "")
DEFAULT_TELEGRAM_BASE_URL: Final = "https://api.telegram.org"


class Secret:
    """A string that prints as ``***``; :meth:`reveal` is the only way to read it.

    Creating one registers the value with the redactor, so even a value that leaks through
    an exception message from a library is masked before it is logged or shown.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise AlertConfigError("a secret must be a non-empty string")
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return MASK

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class SinkConfig:
    """One alert destination.

    Args:
        name: unique label used in logs, failures and ``dash alerts test --sink NAME``.
        kind: ``slack`` (incoming webhook), ``telegram`` (Bot API) or ``webhook`` (any JSON
            endpoint).
        url: the Slack incoming-webhook URL or the generic webhook URL (a secret: Slack's
            URL is its credential).
        token: the Telegram bot token.
        chat_id: Telegram chat (numeric id or ``@channel``).
        thread_id: Telegram forum topic (``message_thread_id``). Defaults to none.
        parse_mode: Telegram ``parse_mode``: ``HTML``, ``MarkdownV2`` or empty for plain
            text. Defaults to ``HTML``.
        base_url: Telegram API root. Defaults to ``https://api.telegram.org``; tests and
            self-hosted Bot API servers override it.
        headers: extra request headers for the generic webhook (values are secrets).
        events: notice kinds this sink is sent.
        min_level: lowest risk-alert level sent. Defaults to ``warn``.
        cooldown_s: the same alert is sent at most once per this many seconds.
        queue_max: alerts waiting for this sink; beyond it the oldest is dropped and a
            summary follows.
        give_up_after_s: time budget for one alert, retries included.
        backoff_base_s / backoff_max_s: exponential backoff (with jitter) between retries.
        max_attempts: attempts per alert, whatever the time budget says.
        timeout_s: one HTTP request's timeout.
    """

    name: str
    kind: SinkKind
    url: Secret | None = None
    token: Secret | None = None
    chat_id: str | None = None
    thread_id: int | None = None
    parse_mode: str = "HTML"
    base_url: str | None = None
    headers: Mapping[str, Secret] = field(default_factory=dict)
    events: frozenset[str] = frozenset(EVENT_KINDS)
    min_level: Level = "warn"
    cooldown_s: float = 300.0
    queue_max: int = 100
    give_up_after_s: float = 120.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 30.0
    max_attempts: int = 8
    timeout_s: float = 10.0
    enabled: bool = True

    def wants(self, kind: str, level: str | None) -> bool:
        """Whether a notice of ``kind`` (and risk ``level``) is for this sink."""
        if kind not in self.events:
            return False
        if kind == "alert":
            rank = LEVELS.index(level) if level in LEVELS else len(LEVELS) - 1
            return rank >= LEVELS.index(self.min_level)
        return True


@dataclass(frozen=True)
class AlertsConfig:
    """Every configured sink; ``enabled = false`` turns the whole feature off."""

    sinks: tuple[SinkConfig, ...] = ()
    enabled: bool = True

    @property
    def active_sinks(self) -> tuple[SinkConfig, ...]:
        if not self.enabled:
            return ()
        return tuple(s for s in self.sinks if s.enabled)

    def sink(self, name: str) -> SinkConfig:
        for sink in self.sinks:
            if sink.name == name:
                return sink
        known = ", ".join(s.name for s in self.sinks) or "none"
        raise AlertConfigError(f"no alert sink named {name!r} (configured: {known})")


# --- parsing ------------------------------------------------------------------------------

_DEFAULTABLE = {
    "events": None,
    "min_level": None,
    "cooldown_s": float,
    "queue_max": int,
    "give_up_after_s": float,
    "backoff_base_s": float,
    "backoff_max_s": float,
    "max_attempts": int,
    "timeout_s": float,
}
_SINK_ONLY = {
    "name",
    "kind",
    "enabled",
    "url",
    "url_env",
    "token",
    "token_env",
    "chat_id",
    "chat_id_env",
    "thread_id",
    "parse_mode",
    "base_url",
    "headers",
    "headers_env",
}
_TOP_LEVEL = {"enabled", "sinks", *_DEFAULTABLE}


def from_toml_dict(
    document: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> AlertsConfig:
    """Build an :class:`AlertsConfig` from a parsed TOML document or its ``[alerts]`` table.

    Args:
        document: the whole parsed file (its ``alerts`` table is read; none means no
            alerts) or the ``[alerts]`` table itself.
        environ: where ``*_env`` keys are looked up. Defaults to ``os.environ``.

    Raises:
        AlertConfigError: naming the key at fault, never a secret's value.
    """
    env = os.environ if environ is None else environ
    if "alerts" in document:
        table = document["alerts"]
    elif document and set(document) <= _TOP_LEVEL:
        table = document
    else:
        return AlertsConfig(sinks=(), enabled=False)
    if not isinstance(table, Mapping):
        raise AlertConfigError("[alerts] must be a table")
    _reject_unknown(table, _TOP_LEVEL, "[alerts]")
    enabled = _bool(table.get("enabled", True), "alerts.enabled")
    defaults = {k: table[k] for k in _DEFAULTABLE if k in table}
    raw_sinks = table.get("sinks", [])
    if not isinstance(raw_sinks, list):
        raise AlertConfigError("alerts.sinks must be an array of tables ([[alerts.sinks]])")
    sinks: list[SinkConfig] = []
    for index, raw in enumerate(raw_sinks):
        if not isinstance(raw, Mapping):
            raise AlertConfigError(f"alerts.sinks[{index}] must be a table")
        sinks.append(_parse_sink(raw, defaults, env, index))
    names = [s.name for s in sinks]
    for name in names:
        if names.count(name) > 1:
            raise AlertConfigError(f"alert sink name {name!r} is used more than once")
    return AlertsConfig(sinks=tuple(sinks), enabled=enabled)


def _parse_sink(
    raw: Mapping[str, Any], defaults: Mapping[str, Any], env: Mapping[str, str], index: int
) -> SinkConfig:
    where = f"alerts.sinks[{index}]"
    _reject_unknown(raw, _SINK_ONLY | set(_DEFAULTABLE), where)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise AlertConfigError(f"{where}.name must be a non-empty string")
    where = f"alert sink {name!r}"
    kind = raw.get("kind")
    if kind not in SINK_KINDS:
        raise AlertConfigError(f"{where}: kind must be one of {', '.join(SINK_KINDS)}")
    enabled = _bool(raw.get("enabled", True), f"{where}.enabled")

    events = _events(defaults.get("events"), frozenset(EVENT_KINDS), "alerts.events")
    events = _events(raw.get("events"), events, f"{where}: events")
    merged = {**defaults, **raw}
    min_level = merged.get("min_level", "warn")
    if min_level not in LEVELS:
        raise AlertConfigError(f"{where}: min_level must be one of {', '.join(LEVELS)}")
    numbers: dict[str, Any] = {}
    for key, cast in _DEFAULTABLE.items():
        if cast is None or key not in merged:
            continue
        numbers[key] = _positive(merged[key], cast, f"{where}: {key}")

    url = _secret(raw, "url", env, where, required=enabled and kind in ("slack", "webhook"))
    token = _secret(raw, "token", env, where, required=enabled and kind == "telegram")
    if url is not None:
        _check_url(url.reveal(), f"{where}: url")
    chat_id = _plain(raw, "chat_id", env, where, required=enabled and kind == "telegram")
    thread_id = raw.get("thread_id")
    if thread_id is not None and (isinstance(thread_id, bool) or not isinstance(thread_id, int)):
        raise AlertConfigError(f"{where}: thread_id must be an integer")
    parse_mode = raw.get("parse_mode", "HTML")
    if parse_mode not in TELEGRAM_PARSE_MODES:
        raise AlertConfigError(f'{where}: parse_mode must be HTML, MarkdownV2 or ""')
    base_url = raw.get("base_url")
    if base_url is not None:
        if not isinstance(base_url, str):
            raise AlertConfigError(f"{where}: base_url must be a string")
        _check_url(base_url, f"{where}: base_url")
    if kind != "telegram":
        for key in ("token", "token_env", "chat_id", "chat_id_env", "thread_id", "base_url"):
            if key in raw:
                raise AlertConfigError(f"{where}: {key} applies to telegram sinks only")
    if kind == "telegram" and ("url" in raw or "url_env" in raw):
        raise AlertConfigError(f"{where}: a telegram sink takes token and chat_id, not url")
    if kind != "webhook" and ("headers" in raw or "headers_env" in raw):
        raise AlertConfigError(f"{where}: headers apply to webhook sinks only")
    headers = _headers(raw, env, where)

    return SinkConfig(
        name=name,
        kind=kind,
        url=url,
        token=token,
        chat_id=chat_id,
        thread_id=thread_id,
        parse_mode=parse_mode,
        base_url=base_url,
        headers=headers,
        events=events,
        min_level=min_level,
        enabled=enabled,
        **numbers,
    )


def _reject_unknown(table: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise AlertConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise AlertConfigError(f"{where} must be true or false")
    return value


def _positive(value: Any, cast: type, where: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AlertConfigError(f"{where} must be a number")
    if cast is int and not isinstance(value, int):
        raise AlertConfigError(f"{where} must be an integer")
    if value < 0 or (cast is int and value < 1):
        raise AlertConfigError(f"{where} must be positive")
    return cast(value)


def _events(spec: Any, start: frozenset[str], where: str) -> frozenset[str]:
    """A list replaces the set; a table of booleans switches kinds on or off."""
    if spec is None:
        return start
    if isinstance(spec, list):
        bad = [k for k in spec if k not in EVENT_KINDS]
        if bad:
            raise AlertConfigError(f"{where}: unknown event kind(s) {bad}; known: {EVENT_KINDS}")
        return frozenset(spec)
    if isinstance(spec, Mapping):
        chosen = set(start)
        for kind, on in spec.items():
            if kind not in EVENT_KINDS:
                raise AlertConfigError(f"{where}: unknown event kind {kind!r}")
            if _bool(on, f"{where}.{kind}"):
                chosen.add(kind)
            else:
                chosen.discard(kind)
        return frozenset(chosen)
    raise AlertConfigError(f"{where} must be a list of kinds or a table of booleans")


def _lookup(
    raw: Mapping[str, Any], key: str, env: Mapping[str, str], where: str, required: bool
) -> str | None:
    inline = raw.get(key)
    env_name = raw.get(f"{key}_env")
    if inline is not None and env_name is not None:
        raise AlertConfigError(f"{where}: set {key} or {key}_env, not both")
    if env_name is not None:
        if not isinstance(env_name, str) or not env_name:
            raise AlertConfigError(f"{where}: {key}_env must name an environment variable")
        value = env.get(env_name)
        if not value:
            if required:
                raise AlertConfigError(f"{where}: environment variable {env_name} is not set")
            return None
        return value
    if inline is None:
        if required:
            raise AlertConfigError(f"{where}: {key} (or {key}_env) is required")
        return None
    if isinstance(inline, int) and not isinstance(inline, bool) and key == "chat_id":
        return str(inline)
    if not isinstance(inline, str) or not inline:
        raise AlertConfigError(f"{where}: {key} must be a non-empty string")
    return inline


def _secret(
    raw: Mapping[str, Any], key: str, env: Mapping[str, str], where: str, required: bool
) -> Secret | None:
    value = _lookup(raw, key, env, where, required)
    return None if value is None else Secret(value)


def _plain(
    raw: Mapping[str, Any], key: str, env: Mapping[str, str], where: str, required: bool
) -> str | None:
    return _lookup(raw, key, env, where, required)


def _headers(raw: Mapping[str, Any], env: Mapping[str, str], where: str) -> dict[str, Secret]:
    headers: dict[str, Secret] = {}
    for key, table, from_env in (
        ("headers", raw.get("headers"), False),
        ("headers_env", raw.get("headers_env"), True),
    ):
        if table is None:
            continue
        if not isinstance(table, Mapping):
            raise AlertConfigError(f"{where}: {key} must be a table of strings")
        for header, value in table.items():
            if not isinstance(value, str) or not value:
                raise AlertConfigError(f"{where}: {key}.{header} must be a non-empty string")
            if from_env:
                resolved = env.get(value)
                if not resolved:
                    raise AlertConfigError(
                        f"{where}: environment variable {value} (header {header}) is not set"
                    )
                value = resolved
            headers[str(header)] = Secret(value)
    return headers


def _check_url(url: str, where: str) -> None:
    # The message never quotes the URL: for Slack the URL is the credential.
    if not url.startswith(("https://", "http://")):
        raise AlertConfigError(f"{where} must be an http(s) URL")
