"""Client-side weighted rate limiting, so a client waits instead of earning a 429.

Venues like Hyperliquid grant a weight budget per window (1200 per minute per IP, shared by ``/info`` and
``/exchange``) and charge each request a weight (info 2/20/60, actions ``1 + batch // 40``). The limiter is a
token bucket that holds at most ``budget`` and refills ``budget`` per ``window`` continuously, the way the
venue counts: the common case (enough weight left, nobody queued) is a couple of float operations and no
await that suspends. When the budget is spent, callers queue in FIFO order and sleep exactly until their
weight is available. Weights are small integers, so float arithmetic here is not money arithmetic.

Two priorities share the one budget. :attr:`Priority.ACTION` (orders and cancels) may spend all of it;
:attr:`Priority.BOOKKEEPING` (status checks, fills, account refreshes) may not dig into the last
``reserve`` weight, and waits while an action waits. After an outage, when bookkeeping would spend the
whole budget catching up, new orders and cancels still go out at once.

A pause the venue asks for (HTTP 429, ``Retry-After``) is honoured up to ``max_pause`` seconds: a proxy or
CDN may send absurd values, and a client frozen for a day is worse than one that earns another 429.
``acquire(..., timeout=...)`` never waits past its deadline: when the weight cannot be had in time it
raises :class:`~wingbeat.core.errors.RateLimitedError` at once (nothing was sent).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from enum import Enum

from wingbeat.core.errors import RateLimitedError

__all__ = ["Priority", "WeightedRateLimiter"]

_logger = logging.getLogger("wingbeat.core.throttler")
_EPSILON = 1e-9
#: A venue pause at least this long is logged as a warning (shorter ones are routine backoff).
_LONG_PAUSE_S = 5.0


class Priority(Enum):
    """Who a request is for: placing and cancelling orders, or finding out what happened (bookkeeping)."""

    ACTION = "action"
    BOOKKEEPING = "bookkeeping"


_ACTION, _BOOKKEEPING = Priority.ACTION, Priority.BOOKKEEPING


class WeightedRateLimiter:
    """Spends request weights against a budget per window; waits (async) rather than exceeding it.

    ``acquire(weight, priority=..., timeout=...)`` before sending; ``charge(weight)`` afterwards for weight
    only known from the reply (it may push the bucket into debt, which later callers wait out);
    ``penalize(seconds)`` when the venue answers 429 anyway. ``reserve``: weight only actions may spend
    (default a quarter of the budget). ``max_pause``: the longest venue pause honoured, seconds.
    ``clock`` (monotonic seconds) and ``sleep`` are injectable. A caller may pass a ``budget`` slightly
    below the venue's to absorb latency jitter.
    """

    __slots__ = (
        "_action_waiters",
        "_blocked_until",
        "_budget",
        "_clock",
        "_locks",
        "_max_pause",
        "_rate",
        "_reserve",
        "_sleep",
        "_tokens",
        "_updated",
        "capped_pauses",
        "paused_seconds",
        "pauses",
        "throttled",
        "waited_seconds",
    )

    def __init__(
        self,
        budget: float,
        window: float,
        *,
        reserve: float | None = None,
        max_pause: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not (budget > 0 and window > 0 and math.isfinite(budget) and math.isfinite(window)):
            raise ValueError(f"budget and window must be positive, got budget={budget} window={window}")
        if not (max_pause > 0 and math.isfinite(max_pause)):
            raise ValueError(f"max_pause must be a positive number of seconds, got {max_pause}")
        reserve = budget / 4 if reserve is None else reserve
        if not 0 <= reserve < budget:
            raise ValueError(f"reserve must be in [0, budget), got {reserve}")
        self._budget = float(budget)
        self._rate = float(budget) / float(window)
        self._reserve = float(reserve)
        self._max_pause = float(max_pause)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(budget)
        self._updated = clock()
        self._blocked_until = float("-inf")
        self._locks = {_ACTION: asyncio.Lock(), _BOOKKEEPING: asyncio.Lock()}
        self._action_waiters = 0
        self.throttled = 0
        """How many ``acquire`` calls had to wait or were refused (for metrics)."""
        self.waited_seconds = 0.0
        """Total time callers spent waiting in ``acquire`` (for metrics)."""
        self.pauses = 0
        """How many venue pauses (429) were honoured (for metrics)."""
        self.paused_seconds = 0.0
        """Total seconds of venue pauses honoured, after capping (for metrics)."""
        self.capped_pauses = 0
        """How many venue pauses asked for more than ``max_pause`` and were cut to it (for metrics)."""

    def __repr__(self) -> str:
        return f"WeightedRateLimiter(remaining={self.remaining:.1f}/{self._budget:g}, throttled={self.throttled})"

    @property
    def budget(self) -> float:
        """Largest weight the bucket holds (the venue's budget per window)."""
        return self._budget

    @property
    def reserve(self) -> float:
        """Weight bookkeeping leaves for actions."""
        return self._reserve

    @property
    def max_pause(self) -> float:
        """The longest venue pause honoured, seconds."""
        return self._max_pause

    @property
    def remaining(self) -> float:
        """Weight that can be spent right now without waiting (negative while in debt or penalized)."""
        self._refill(self._clock())
        return self._tokens

    @property
    def blocked_for(self) -> float:
        """Seconds left of the venue's pause (0 when none is in force)."""
        return max(self._blocked_until - self._clock(), 0.0)

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self._budget, self._tokens + elapsed * self._rate)
            self._updated = now

    def _delay_for(self, weight: float, now: float, priority: Priority) -> float:
        """Seconds until ``weight`` can be spent at ``priority`` (0 when it can be spent now)."""
        self._refill(now)
        blocked = self._blocked_until - now
        if blocked > _EPSILON:
            return blocked
        floor = 0.0 if priority is _ACTION else self._reserve
        missing = weight + floor - self._tokens
        # the tolerance keeps float rounding from turning into an endless chain of tiny sleeps
        return missing / self._rate if missing > _EPSILON else 0.0

    def try_acquire(self, weight: float, *, priority: Priority = _ACTION) -> bool:
        """Spend ``weight`` now if it is available and nobody is queued ahead; never waits."""
        self._check_weight(weight, priority)
        if self._locks[priority].locked() or (priority is _BOOKKEEPING and self._action_waiters):
            return False
        if self._delay_for(weight, self._clock(), priority) > 0:
            return False
        self._tokens -= weight
        return True

    async def acquire(
        self,
        weight: float = 1,
        *,
        priority: Priority = _ACTION,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> None:
        """Spend ``weight``, first waiting (FIFO behind earlier waiters of the same priority) until the budget
        allows it. With ``timeout`` (seconds), raise :class:`RateLimitedError` rather than wait longer: at once
        when the wait is known to be longer (a venue pause, a deep debt), or when the deadline passes."""
        if self.try_acquire(weight, priority=priority):
            return
        start = self._clock()
        self.throttled += 1
        deadline = None if timeout is None else start + timeout
        is_action = priority is _ACTION
        if is_action:
            self._action_waiters += 1
        try:
            async with asyncio.timeout(timeout):
                async with self._locks[priority]:
                    while True:
                        now = self._clock()
                        delay = self._delay_for(weight, now, priority)
                        if delay <= 0 and (is_action or not self._action_waiters):
                            self._tokens -= weight
                            self.waited_seconds += now - start
                            return
                        if delay <= 0:  # an action is waiting: it goes first
                            delay = max(self._delay_for(1, now, _ACTION), 0.01)
                        if deadline is not None and now + delay > deadline:
                            self._refuse(weight, now + delay - start, timeout)
                        _logger.debug("throttling %s weight %s for %.3fs", priority.value, weight, delay)
                        await self._sleep(delay)
        except TimeoutError:
            self._refuse(weight, None, timeout)
        finally:
            if is_action:
                self._action_waiters -= 1

    def _refuse(self, weight: float, wait: float | None, timeout: float | None) -> None:
        blocked = self.blocked_for
        raise RateLimitedError(
            f"rate limited: weight {weight:g} not available within {timeout}s"
            + (f" (the venue asked for a pause, {blocked:.1f}s left)" if blocked else ""),
            retry_after=wait if wait is not None else (blocked or None),
        )

    def charge(self, weight: float) -> None:
        """Record weight spent without waiting (e.g. per-item weight learned from the reply)."""
        if weight < 0:
            raise ValueError(f"weight must be >= 0, got {weight}")
        self._refill(self._clock())
        self._tokens -= weight

    def penalize(self, seconds: float) -> float:
        """The venue rate-limited us anyway: spend nothing for ``seconds`` (at most ``max_pause``) and restart
        from an empty bucket. Returns the pause honoured; a negative or non-finite ``seconds`` is refused
        (ValueError)."""
        if not (seconds >= 0 and math.isfinite(seconds)):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds}")
        if seconds > self._max_pause:
            self.capped_pauses += 1
            _logger.warning(
                "the venue asked for a %.0fs pause: honouring %.1fs at most", seconds, self._max_pause
            )
            seconds = self._max_pause
        now = self._clock()
        self._refill(now)
        self._tokens = min(self._tokens, 0.0)
        until = now + seconds
        if until > self._blocked_until:
            self.paused_seconds += until - max(self._blocked_until, now)
            self._blocked_until = until
        self.pauses += 1
        level = logging.WARNING if seconds >= _LONG_PAUSE_S else logging.INFO
        _logger.log(level, "rate limited by the venue: pausing requests for %.1fs", seconds)
        return seconds

    def _check_weight(self, weight: float, priority: Priority) -> None:
        most = self._budget if priority is _ACTION else self._budget - self._reserve
        if not 0 <= weight <= most:
            raise ValueError(f"weight {weight} must be between 0 and {most:g} for {priority.value}")
