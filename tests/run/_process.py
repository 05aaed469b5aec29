"""A strategy process run in-process for tests: started, cycling, stopped in order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from strategy.runner import RunOptions, StrategyProcess


@contextlib.asynccontextmanager
async def running(db: Path, sock: Path | None, **options: Any) -> AsyncIterator[StrategyProcess]:
    """A :class:`StrategyProcess` at 3600x serving ``sock``, stopped on exit."""
    run_options = RunOptions(db=db, socket=sock, speed=3600.0)
    for key, value in options.items():
        setattr(run_options, key, value)
    proc = StrategyProcess(run_options)
    await proc.start()
    task = asyncio.create_task(proc.run())
    try:
        yield proc
    finally:
        proc.stop_event.set()
        await asyncio.wait_for(task, 10)
        await proc.stop()
