"""Many subscribers in one separate process, so they do not share the server's loop.

A foreign client on purpose: plain sockets, ``selectors`` and regular expressions, no ipc
code. Used by the slow-consumer test and the fan-out benchmark::

    python -m tests.ipc._load_client SOCKET N [--times]

It connects N sockets, subscribes each (patch mode), prints ``ready`` once every one has
its first snapshot, then reads until stdin says ``stop SEQ`` and every client has seen
SEQ (or 15 s pass), and prints one JSON line: per client the first and last seq, patches
received, gaps (a ``prev`` that is not the seq held), resyncs and a ``bye`` reason; with
``--times``, the monotonic receive times of each seq across all clients.
"""

from __future__ import annotations

import json
import re
import resource
import selectors
import socket
import sys
import time
from typing import Any

_PATCH = re.compile(rb'"event":"patch","strategy":"[^"]*","seq":(\d+),"prev":(\d+)')
_SNAPSHOT = re.compile(rb'"event":"snapshot","strategy":"[^"]*","seq":(\d+),"resync":(true|false)')


class _Peer:
    __slots__ = ("buf", "bye", "first", "gaps", "last", "patches", "resyncs", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.first = -1
        self.last = -1
        self.patches = 0
        self.gaps = 0
        self.resyncs = 0
        self.bye: str | None = None


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str]) -> int:
    path, count = argv[0], int(argv[1])
    keep_times = "--times" in argv
    _raise_fd_limit()
    sel = selectors.DefaultSelector()
    peers: list[_Peer] = []
    for _ in range(count):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        sock.sendall(b'{"id":1,"op":"subscribe","mode":"patch"}\n')
        sock.setblocking(False)
        peer = _Peer(sock)
        peers.append(peer)
        sel.register(sock, selectors.EVENT_READ, peer)
    sel.register(sys.stdin, selectors.EVENT_READ, None)
    times: dict[int, list[float]] = {}
    ready_sent = False
    stop_seq: int | None = None
    deadline = float("inf")
    open_peers = count
    while True:
        if stop_seq is not None and (
            time.monotonic() > deadline
            or all(p.last >= stop_seq or p.bye is not None for p in peers)
        ):
            break
        if open_peers == 0 and stop_seq is not None:
            break
        for key, _ in sel.select(timeout=0.5):
            peer = key.data
            if peer is None:
                line = sys.stdin.readline()
                if line.startswith("stop"):
                    stop_seq = int(line.split()[1])
                    deadline = time.monotonic() + 15.0
                elif not line:
                    sel.unregister(sys.stdin)
                continue
            try:
                data = peer.sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            now = time.monotonic()
            if not data:
                sel.unregister(peer.sock)
                open_peers -= 1
                if peer.bye is None:
                    peer.bye = "eof"
                continue
            buf = peer.buf + data
            lines = buf.split(b"\n")
            peer.buf = lines.pop()
            for raw in lines:
                _consume(peer, raw, now, times if keep_times else None)
        if not ready_sent and all(p.first >= 0 for p in peers):
            ready_sent = True
            print("ready", flush=True)
    result: dict[str, Any] = {
        "peers": [
            {
                "first": p.first,
                "last": p.last,
                "patches": p.patches,
                "gaps": p.gaps,
                "resyncs": p.resyncs,
                "bye": p.bye,
            }
            for p in peers
        ]
    }
    if keep_times:
        result["times"] = {str(seq): ts for seq, ts in times.items()}
    print(json.dumps(result), flush=True)
    return 0


def _consume(peer: _Peer, raw: bytes, now: float, times: dict[int, list[float]] | None) -> None:
    head = raw[:200]
    match = _PATCH.search(head)
    if match is not None:
        seq, prev = int(match.group(1)), int(match.group(2))
        if prev != peer.last:
            peer.gaps += 1
        peer.last = seq
        peer.patches += 1
        if times is not None:
            times.setdefault(seq, []).append(now)
        return
    match = _SNAPSHOT.search(head)
    if match is not None:
        seq = int(match.group(1))
        if match.group(2) == b"true":
            peer.resyncs += 1
        if peer.first < 0:
            peer.first = seq
        peer.last = seq
        return
    if b'"event":"bye"' in head:
        peer.bye = json.loads(raw).get("reason")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
