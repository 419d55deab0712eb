"""Client-side weighted rate limiting, so a client waits instead of earning a 429.

Venues like Hyperliquid grant a weight budget per window (1200 per minute per IP) and charge each
request a weight (info 2/20/60, actions ``1 + batch // 40``). The limiter is a token bucket that
holds at most ``budget`` and refills ``budget`` per ``window`` continuously, the way the venue counts:
the common case (enough weight left, nobody queued) is a couple of float operations and no await
that suspends. When the budget is spent, callers queue in FIFO order and sleep exactly until their
weight is available. Weights are small integers, so float arithmetic here is not money arithmetic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

__all__ = ["WeightedRateLimiter"]

_logger = logging.getLogger("wingbeat.core.throttler")
_EPSILON = 1e-9


class WeightedRateLimiter:
    """Spends request weights against a budget per window; waits (async) rather than exceeding it.

    ``acquire(weight)`` before sending; ``charge(weight)`` afterwards for weight only known from the
    reply (it may push the bucket into debt, which later callers wait out); ``penalize(seconds)``
    when the venue answers 429 anyway. ``clock`` (monotonic seconds) and ``sleep`` are injectable.
    A caller may pass a ``budget`` slightly below the venue's to absorb latency jitter.
    """

    __slots__ = (
        "_blocked_until",
        "_budget",
        "_clock",
        "_lock",
        "_rate",
        "_sleep",
        "_tokens",
        "_updated",
        "throttled",
        "waited_seconds",
    )

    def __init__(
        self,
        budget: float,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if budget <= 0 or window <= 0:
            raise ValueError(f"budget and window must be positive, got budget={budget} window={window}")
        self._budget = float(budget)
        self._rate = float(budget) / float(window)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(budget)
        self._updated = clock()
        self._blocked_until = float("-inf")
        self._lock = asyncio.Lock()
        self.throttled = 0
        """How many ``acquire`` calls had to wait (for metrics)."""
        self.waited_seconds = 0.0
        """Total time callers spent waiting in ``acquire`` (for metrics)."""

    def __repr__(self) -> str:
        return f"WeightedRateLimiter(remaining={self.remaining:.1f}/{self._budget:g}, throttled={self.throttled})"

    @property
    def budget(self) -> float:
        """Largest weight the bucket holds (the venue's budget per window)."""
        return self._budget

    @property
    def remaining(self) -> float:
        """Weight that can be spent right now without waiting (negative while in debt or penalized)."""
        self._refill(self._clock())
        return self._tokens

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self._budget, self._tokens + elapsed * self._rate)
            self._updated = now

    def _delay_for(self, weight: float, now: float) -> float:
        """Seconds until ``weight`` can be spent (0 when it can be spent now)."""
        self._refill(now)
        blocked = self._blocked_until - now
        if blocked > _EPSILON:
            return blocked
        missing = weight - self._tokens
        # the tolerance keeps float rounding from turning into an endless chain of tiny sleeps
        return missing / self._rate if missing > _EPSILON else 0.0

    def try_acquire(self, weight: float) -> bool:
        """Spend ``weight`` now if it is available and nobody is queued; never waits."""
        self._check_weight(weight)
        if self._lock.locked() or self._delay_for(weight, self._clock()) > 0:
            return False
        self._tokens -= weight
        return True

    async def acquire(self, weight: float = 1) -> None:
        """Spend ``weight``, first waiting (FIFO behind earlier waiters) until the budget allows it."""
        if self.try_acquire(weight):
            return
        start = self._clock()
        self.throttled += 1
        async with self._lock:
            while True:
                now = self._clock()
                delay = self._delay_for(weight, now)
                if delay <= 0:
                    self._tokens -= weight
                    self.waited_seconds += now - start
                    return
                _logger.debug("throttling weight %s for %.3fs", weight, delay)
                await self._sleep(delay)

    def charge(self, weight: float) -> None:
        """Record weight spent without waiting (e.g. per-item weight learned from the reply)."""
        if weight < 0:
            raise ValueError(f"weight must be >= 0, got {weight}")
        self._refill(self._clock())
        self._tokens -= weight

    def penalize(self, seconds: float) -> None:
        """The venue rate-limited us anyway: spend nothing for ``seconds`` and restart from an empty bucket."""
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        now = self._clock()
        self._refill(now)
        self._tokens = min(self._tokens, 0.0)
        self._blocked_until = max(self._blocked_until, now + seconds)
        _logger.warning("rate limited by the venue: pausing requests for %.1fs", seconds)

    def _check_weight(self, weight: float) -> None:
        if not 0 <= weight <= self._budget:
            raise ValueError(f"weight {weight} must be between 0 and the budget {self._budget:g}")
