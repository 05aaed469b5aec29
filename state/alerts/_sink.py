"""The part every sink shares: a bounded queue, one worker task and the retry policy.

``send`` is synchronous and never waits: it filters, deduplicates and queues, so the
manager (and through it the event bus) cannot be slowed by a sink. The worker delivers
one message at a time, in order, retrying network errors, 5xx and 429 with exponential
backoff and jitter (a ``Retry-After`` wins) until the message's time budget is spent;
then the failure is recorded and the next message goes. A full queue drops its oldest
message and the worker later sends one summary saying how many were dropped.

Subclasses only say how a message becomes an HTTP request (:meth:`Sink._request`) and,
where the service has its own conventions, how to read its reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import enum
import json
import random
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from ._exceptions import SinkClosedError
from ._format import AlertMessage, dropped_summary
from ._redact import install_log_redaction, logger, redact, redact_exception
from .config import SinkConfig

__all__ = ["Attempt", "DeliveryFailure", "Request", "Sink", "SinkStats"]

USER_AGENT = "dash-alerts/0.1"
# How many "already sent" keys a sink remembers before pruning expired ones; one per
# distinct alert within a cooldown, so this is far above any real alert rate.
_DEDUP_PRUNE_AT = 1024
# A message body is cut here when quoted in an error: enough for Slack's and Telegram's
# error descriptions, too little to flood a log.
_ERROR_BODY_CHARS = 200
# Shortest per-request timeout when the time budget is nearly spent.
_MIN_TIMEOUT_S = 0.05


@dataclass(frozen=True)
class DeliveryFailure:
    """An alert a sink gave up on. Holds no secret: ``error`` is already masked."""

    sink: str
    sink_kind: str
    strategy: str
    kind: str
    attempts: int
    http_status: int | None
    error: str
    at: str

    def as_notice_data(self) -> dict[str, Any]:
        return {
            "sink": self.sink,
            "sink_kind": self.sink_kind,
            "kind": self.kind,
            "attempts": self.attempts,
            "http_status": self.http_status,
            "error": self.error,
            "at": self.at,
        }


@dataclass(frozen=True)
class Attempt:
    """The outcome of one HTTP request."""

    ok: bool
    http_status: int | None = None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None


@dataclass(frozen=True)
class Request:
    """What a sink posts: the URL (may hold a secret) and a JSON body."""

    url: str
    body: Mapping[str, Any]
    headers: Mapping[str, str] | None = None


@dataclass
class SinkStats:
    """Counters for tests, logs and the dashboard."""

    accepted: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    suppressed: int = 0
    filtered: int = 0
    retries: int = 0


class _Lifecycle(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


def _utc_iso() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class Sink(ABC):
    """One alert destination with its own queue, worker, HTTP client and retry budget.

    Args:
        config: the sink's settings.
        on_failure: called (on the loop) with each :class:`DeliveryFailure`. Defaults to
            logging only.
        monotonic: clock for cooldowns and budgets. Defaults to ``time.monotonic``.
        rng: jitter source. Defaults to a fresh ``random.Random``.
    """

    kind: ClassVar[str]

    def __init__(
        self,
        config: SinkConfig,
        *,
        on_failure: Callable[[DeliveryFailure], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        install_log_redaction()
        self.config = config
        self.stats = SinkStats()
        self._on_failure = on_failure
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._queue: deque[AlertMessage] = deque()
        self._dropped: Counter[str] = Counter()
        self._lost_upstream = False
        self._recent: dict[str, float] = {}
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._inflight: AlertMessage | None = None
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._state = _Lifecycle.UNOPENED

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} queued={len(self._queue)}>"

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def queued(self) -> int:
        return len(self._queue)

    # -- producer side ----------------------------------------------------------------

    def send(self, message: AlertMessage) -> bool:
        """Queue ``message`` unless this sink does not want it or sent it recently.

        Returns whether it was queued. Never waits and never does I/O.
        """
        if self._state is _Lifecycle.CLOSED:
            raise SinkClosedError("Cannot send an alert, as the sink has been closed.")
        if not self.config.wants(message.kind, message.level):
            self.stats.filtered += 1
            return False
        if self._is_duplicate(message):
            self.stats.suppressed += 1
            return False
        if len(self._queue) >= self.config.queue_max:
            evicted = self._queue.popleft()
            self._dropped[evicted.kind] += 1
            self.stats.dropped += 1
        self._queue.append(message)
        self.stats.accepted += 1
        self._idle.clear()
        self._wakeup.set()
        return True

    def note_lost(self) -> None:
        """Notices were lost before reaching the sink; the next summary says so."""
        if self._state is _Lifecycle.CLOSED:
            return
        self._lost_upstream = True
        self._idle.clear()
        self._wakeup.set()

    def _is_duplicate(self, message: AlertMessage) -> bool:
        cooldown = self.config.cooldown_s
        if cooldown <= 0 or not message.key:
            return False
        now = self._monotonic()
        last = self._recent.get(message.key)
        if last is not None and now - last < cooldown:
            return True
        self._recent[message.key] = now
        if len(self._recent) > _DEDUP_PRUNE_AT:
            self._recent = {k: t for k, t in self._recent.items() if now - t < cooldown}
        return False

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker (needs a running loop). Idempotent."""
        if self._state is _Lifecycle.CLOSED:
            raise SinkClosedError("Cannot start a sink that has been closed.")
        if self._worker is None:
            self._state = _Lifecycle.OPENED
            self._worker = asyncio.get_running_loop().create_task(
                self._run(), name=f"alert-sink-{self.name}"
            )

    async def close(self, grace_s: float = 5.0) -> None:
        """Deliver what is queued for up to ``grace_s`` seconds, then stop.

        Whatever is still undelivered is recorded as one failure. Idempotent.
        """
        if self._state is _Lifecycle.CLOSED:
            return
        self._state = _Lifecycle.CLOSED
        worker, self._worker = self._worker, None
        if worker is not None and not worker.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace_s)
        inflight = self._inflight  # the worker clears it as it is cancelled
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        left = len(self._queue) + (1 if inflight is not None else 0)
        left += sum(self._dropped.values())
        if left:
            sample = inflight or (self._queue[0] if self._queue else None)
            self._record(
                sample.strategy if sample else "",
                "shutdown",
                attempts=0,
                http_status=None,
                error=f"{left} alert(s) not delivered before shutdown",
            )
        self._queue.clear()
        self._dropped.clear()
        self._inflight = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- delivery -----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            message = self._next_message()
            if message is None:
                self._idle.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            self._inflight = message
            try:
                await self.deliver(message)
            except Exception as exc:  # the worker must outlive any bug in one delivery
                self._record(message.strategy, message.kind, 0, None, redact_exception(exc))
            finally:
                self._inflight = None

    def _next_message(self) -> AlertMessage | None:
        if self._dropped or self._lost_upstream:
            strategy = self._queue[0].strategy if self._queue else ""
            summary = dropped_summary(strategy, dict(self._dropped), self._lost_upstream)
            self._dropped.clear()
            self._lost_upstream = False
            return summary
        if self._queue:
            return self._queue.popleft()
        return None

    async def deliver(self, message: AlertMessage) -> bool:
        """Send ``message`` with retries inside its time budget; record it if that fails."""
        cfg = self.config
        started = self._monotonic()
        attempts = 0
        while True:
            attempts += 1
            remaining = cfg.give_up_after_s - (self._monotonic() - started)
            outcome = await self.deliver_once(
                message, timeout_s=max(_MIN_TIMEOUT_S, min(cfg.timeout_s, remaining))
            )
            if outcome.ok:
                self.stats.sent += 1
                return True
            elapsed = self._monotonic() - started
            reason = outcome.error or "failed"
            if not outcome.retryable:
                break
            if attempts >= cfg.max_attempts:
                reason = f"{reason} (gave up after {attempts} attempts)"
                break
            if outcome.retry_after is not None:
                delay = outcome.retry_after
            else:
                ceiling = min(cfg.backoff_max_s, cfg.backoff_base_s * 2 ** (attempts - 1))
                delay = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
            if elapsed + delay >= cfg.give_up_after_s:
                reason = f"{reason} (gave up after {attempts} attempts in {elapsed:.1f}s)"
                break
            self.stats.retries += 1
            logger.info(
                "alert sink %s: %s; retry %d in %.2fs", self.name, redact(reason), attempts, delay
            )
            await asyncio.sleep(delay)
        self._record(message.strategy, message.kind, attempts, outcome.http_status, reason)
        return False

    async def deliver_once(self, message: AlertMessage, timeout_s: float | None = None) -> Attempt:
        """One HTTP attempt, no retry: what ``dash alerts test`` reports."""
        try:
            request = self._request(message)
            headers = {"Content-Type": "application/json", **(request.headers or {})}
            content = json.dumps(request.body, ensure_ascii=False, default=str).encode()
            response = await self._http().post(
                request.url,
                content=content,
                headers=headers,
                timeout=self.config.timeout_s if timeout_s is None else timeout_s,
            )
        except httpx.TransportError as exc:  # connect, read, write, timeouts, protocol
            return Attempt(ok=False, error=redact_exception(exc), retryable=True)
        return self._judge(response)

    def _judge(self, response: httpx.Response) -> Attempt:
        status = response.status_code
        if 200 <= status < 300:
            problem = self._reply_problem(response)
            if problem is None:
                return Attempt(ok=True, http_status=status)
            return Attempt(ok=False, http_status=status, error=redact(problem))
        snippet = " ".join(response.text[:_ERROR_BODY_CHARS].split())
        error = redact(f"HTTP {status}" + (f": {snippet}" if snippet else ""))
        retryable = status == 429 or status >= 500
        retry_after = self._retry_after(response) if retryable else None
        return Attempt(
            ok=False, http_status=status, error=error, retryable=retryable, retry_after=retry_after
        )

    def _retry_after(self, response: httpx.Response) -> float | None:
        return parse_retry_after(response.headers.get("Retry-After"))

    def _reply_problem(self, response: httpx.Response) -> str | None:
        """Why a 2xx reply still means "not delivered", for services that say so in the body."""
        return None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
                timeout=self.config.timeout_s,
            )
        return self._client

    def _record(
        self, strategy: str, kind: str, attempts: int, http_status: int | None, error: str
    ) -> None:
        failure = DeliveryFailure(
            sink=self.name,
            sink_kind=self.kind,
            strategy=strategy,
            kind=kind,
            attempts=attempts,
            http_status=http_status,
            error=redact(error),
            at=_utc_iso(),
        )
        self.stats.failed += 1
        logger.warning(
            "alert sink %s: %s alert not delivered after %d attempt(s): %s",
            self.name,
            kind,
            attempts,
            failure.error,
        )
        if self._on_failure is not None:
            try:
                self._on_failure(failure)
            except Exception as exc:
                logger.error("alert failure callback raised: %s", redact_exception(exc))

    @abstractmethod
    def _request(self, message: AlertMessage) -> Request:
        """The HTTP request that delivers ``message`` to this service."""
