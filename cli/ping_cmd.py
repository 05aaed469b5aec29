"""``dash ping``: is the strategy there, how fast does it answer, what is it running."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from cli._emit import fail, out
from cli._errors import CliError, from_ipc
from cli._options import SocketOpt, StrategyOpt, TimeoutOpt
from cli._target import Target, resolve

__all__ = ["ping", "ping_target"]

PROG = "dash ping"


def ping_target(target: Target) -> dict[str, Any]:
    """Connect, ping once, and report round trip, server, protocol, seq and uptime.

    The round trip is one ``ping`` request on an open connection, so it measures the
    server, not the connection set-up.
    """
    from ipc import BlockingClient, ClientError

    try:
        with BlockingClient(target.socket, timeout=target.timeout) as client:
            started = time.perf_counter()
            result = client.request("ping")
            rtt_ms = (time.perf_counter() - started) * 1000
            hello = client.hello
    except ClientError as exc:
        raise from_ipc(exc, target.socket) from exc
    seqs = result.get("seq") or {}
    if target.strategy is not None:
        if target.strategy not in seqs:
            served = ", ".join(seqs) or "none"
            raise CliError(f"{target.socket} does not serve {target.strategy!r} (serves {served})")
        seqs = {target.strategy: seqs[target.strategy]}
    return {
        "socket": str(target.socket),
        "rtt_ms": round(rtt_ms, 3),
        "server": hello.get("server"),
        "protocol": hello.get("protocol"),
        "session": hello.get("session"),
        "read_only": bool(hello.get("read_only", False)),
        "strategies": hello.get("strategies", []),
        "seq": seqs,
        "uptime_s": result.get("uptime"),
        "time": result.get("time"),
    }


def ping(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON line.")
    ] = False,
    socket: SocketOpt = None,
    strategy: StrategyOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Round trip, server, protocol, seq and uptime.

    Exit status: 0 answered, 69 not reachable.
    """
    try:
        info = ping_target(resolve(socket, strategy, timeout))
    except CliError as exc:
        fail(PROG, exc)
    if as_json:
        import orjson

        out(orjson.dumps(info).decode())
        return
    seq = " ".join(f"{name}={value}" for name, value in info["seq"].items()) or "-"
    uptime = info["uptime_s"]
    rows = [
        ("socket", info["socket"]),
        ("rtt", f"{info['rtt_ms']:.2f} ms"),
        ("server", str(info["server"])),
        ("protocol", str(info["protocol"])),
        ("seq", seq),
        ("uptime", "-" if uptime is None else _duration(float(uptime))),
        ("read-only", "yes" if info["read_only"] else "no"),
    ]
    for key, value in rows:
        out(f"{key:<10} {value}")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}h{minutes:02d}m{int(secs):02d}s"
    if minutes:
        return f"{minutes}m{int(secs):02d}s"
    return f"{secs:.1f}s"
