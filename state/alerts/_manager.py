"""The bus subscriber that feeds every sink, catching per sink (as Freqtrade's RPCManager).

The manager reads notices from its own bounded subscription in its own task, formats each
one once and offers it to every sink with a synchronous ``send``; a sink that raises is
logged and skipped, the others still get the message. Nothing here runs inside the
strategy's transaction or awaits a sink, so the strategy's loop never waits on HTTP.

Delivery failures are kept in memory (``failures``, newest last) and published as
``Notice(strategy, "alert_delivery_failed", {...})`` so the store and dashboard can show
them. The manager does not subscribe to that kind, so a failing sink cannot feed itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Callable

from state import DEFAULT_MAXSIZE, EventBus, Notice, Subscription

from ._format import AlertMessage, format_notice
from ._redact import install_log_redaction, logger, redact_exception
from ._sink import DeliveryFailure, Sink
from ._slack import SlackSink
from ._telegram import TelegramSink
from ._webhook import WebhookSink
from .config import EVENT_KINDS, AlertsConfig, SinkConfig

__all__ = ["FAILURE_NOTICE", "AlertManager", "build_sink"]

FAILURE_NOTICE = "alert_delivery_failed"
# Failures kept in memory: enough to show the recent history of a dead sink, bounded so a
# sink that fails for days cannot grow the process.
FAILURES_KEPT = 200
# The reader only formats and queues, so draining what the bus already holds is quick;
# this bounds it anyway.
_READER_DRAIN_S = 1.0

_SINK_TYPES: dict[str, type[Sink]] = {
    "slack": SlackSink,
    "telegram": TelegramSink,
    "webhook": WebhookSink,
}


def build_sink(
    config: SinkConfig,
    *,
    on_failure: Callable[[DeliveryFailure], None] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> Sink:
    """The sink class for ``config.kind``, constructed (not started)."""
    return _SINK_TYPES[config.kind](config, on_failure=on_failure, monotonic=monotonic, rng=rng)


class AlertManager:
    """Subscribes to the bus for notices and fans each out to the configured sinks.

    Args:
        config: the parsed ``[alerts]`` table; disabled sinks are left out.
        bus: where notices come from and failures are published.
        strategy: only this strategy's notices. Defaults to every strategy on the bus.
        monotonic: clock for cooldowns and retry budgets. Defaults to ``time.monotonic``.
        rng: jitter source (seed it in tests). Defaults to a fresh ``random.Random``.
        maxsize: the bus subscription's bound. Defaults to the bus default (256).
    """

    def __init__(
        self,
        config: AlertsConfig,
        bus: EventBus,
        *,
        strategy: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        maxsize: int = DEFAULT_MAXSIZE,
    ) -> None:
        install_log_redaction()
        self.config = config
        self.bus = bus
        self.strategy = strategy
        self.failures: deque[DeliveryFailure] = deque(maxlen=FAILURES_KEPT)
        self.sinks: tuple[Sink, ...] = tuple(
            build_sink(sc, on_failure=self._failed, monotonic=monotonic, rng=rng)
            for sc in config.active_sinks
        )
        self._maxsize = maxsize
        self._sub: Subscription | None = None
        self._reader: asyncio.Task[None] | None = None
        self._seen_dropped = 0

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self.sinks)
        return f"<AlertManager sinks=[{names}] failures={len(self.failures)}>"

    @property
    def running(self) -> bool:
        return self._reader is not None and not self._reader.done()

    def sink(self, name: str) -> Sink:
        for sink in self.sinks:
            if sink.name == name:
                return sink
        raise KeyError(name)

    def start(self) -> None:
        """Subscribe and start the sinks' workers (needs a running loop). No sinks, no-op."""
        if self._reader is not None or not self.sinks:
            return
        for sink in self.sinks:
            sink.start()
        self._sub = self.bus.subscribe(
            "alerts", maxsize=self._maxsize, strategy=self.strategy, kinds=EVENT_KINDS
        )
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="alerts-reader")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop listening, deliver what is queued for up to ``grace_s`` seconds, then close.

        Notices already published (a ``strategy_stopped`` just before shutdown) are still
        handed to the sinks first.
        """
        reader, self._reader = self._reader, None
        if self._sub is not None:
            self._sub.close()
        if reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(reader), _READER_DRAIN_S)
            except TimeoutError:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        await asyncio.gather(*(sink.close(grace_s) for sink in self.sinks))

    def dispatch(self, notice: Notice) -> AlertMessage | None:
        """Format ``notice`` once and offer it to every sink; one failing sink is skipped."""
        try:
            message = format_notice(notice.strategy, notice.kind, notice.data)
        except Exception as exc:
            logger.error("cannot format %s notice: %s", notice.kind, redact_exception(exc))
            return None
        if message is None:
            return None
        for sink in self.sinks:
            try:
                sink.send(message)
            except Exception as exc:
                logger.error(
                    "alert sink %s refused a message: %s", sink.name, redact_exception(exc)
                )
        return message

    async def _read(self) -> None:
        sub = self._sub
        assert sub is not None
        async for item in sub:
            if sub.dropped != self._seen_dropped:
                # The subscription overflowed: some notices never reached us.
                self._seen_dropped = sub.dropped
                for sink in self.sinks:
                    sink.note_lost()
            if type(item) is Notice:
                self.dispatch(item)

    def _failed(self, failure: DeliveryFailure) -> None:
        self.failures.append(failure)
        strategy = failure.strategy or self.strategy or "dash"
        try:
            self.bus.publish(Notice(strategy, FAILURE_NOTICE, failure.as_notice_data()))
        except Exception as exc:
            logger.error("cannot publish alert failure: %s", redact_exception(exc))
