"""Rate limits of the local exchange, counted the way Hyperliquid counts them.

Two independent budgets:

* IP weight: 1200 per minute per client IP, refilled continuously (a token bucket). ``/exchange``
  costs ``1 + batch_length // 40``; ``/info`` costs 2, 20 or 60 by request type, plus extra weight
  per returned items for the history-like types. Exhausted: HTTP 429.
* Address actions: every signed action counts ``n`` requests (``n`` = batch length) against
  ``10000 + 1 per USDC of cumulative traded volume``; when exhausted one request per 10 s is
  still allowed; cancels get the larger cap ``min(cap + 100000, 2 * cap)``. Exhausted: the
  exchange's ``Too many cumulative requests`` error.

Time is injected (milliseconds) so tests do not wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from wingbeat.hyperliquid.constants import REST_WEIGHT_LIMIT, action_weight, info_weight

__all__ = [
    "RELAXED_RATE_LIMITS",
    "AddressLimitExceeded",
    "RateLimitConfig",
    "RateLimiter",
    "action_weight",
    "info_weight",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitConfig:
    """Budgets of the local exchange; the defaults are Hyperliquid's.

    ``enabled=False`` switches both budgets off (nothing is counted).
    """

    enabled: bool = True
    ip_weight_per_minute: int = REST_WEIGHT_LIMIT
    address_initial_buffer: int = 10_000
    requests_per_usdc: Decimal = Decimal(1)
    exhausted_interval_ms: int = 10_000
    cancel_extra_buffer: int = 100_000

    def __post_init__(self) -> None:
        if (
            self.ip_weight_per_minute <= 0
            or self.address_initial_buffer < 0
            or self.exhausted_interval_ms <= 0
            or self.requests_per_usdc < 0
            or self.cancel_extra_buffer < 0
        ):
            raise ValueError("rate limit budgets must be positive")


# what the test fixture uses: large enough that no test is throttled unless it asks to be
RELAXED_RATE_LIMITS = RateLimitConfig(ip_weight_per_minute=10_000_000, address_initial_buffer=100_000_000)


class AddressLimitExceeded(Exception):
    """An address spent its action budget; ``message`` is the exchange's own text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_ms: int


@dataclass(slots=True)
class _AddressBudget:
    used: int = 0
    last_exhausted_ms: int | None = None


def _no_volume(address: str) -> Decimal:
    return Decimal(0)


class RateLimiter:
    """Both budgets of one local exchange; cheap enough to run on every request.

    ``volume_of(address)`` gives an address's cumulative traded USDC volume (the engine knows it).
    """

    def __init__(self, config: RateLimitConfig, volume_of: Callable[[str], Decimal] = _no_volume) -> None:
        self.config = config
        self._volume_of = volume_of
        self._buckets: dict[str, _Bucket] = {}
        self._addresses: dict[str, _AddressBudget] = {}
        self.rejected_ip = 0
        self.rejected_address = 0

    def charge_ip(self, ip: str, weight: int, now_ms: int) -> bool:
        """Take ``weight`` from the IP's budget; False (and nothing taken) when it is exhausted."""
        if not self.config.enabled:
            return True
        bucket = self._refill(ip, now_ms)
        if bucket.tokens < weight:
            self.rejected_ip += 1
            return False
        bucket.tokens -= weight
        return True

    def add_ip_weight(self, ip: str, weight: int, now_ms: int) -> None:
        """Take ``weight`` unconditionally (the per-item surcharge of an answer already sent);
        the budget may go below zero and refills from there."""
        if self.config.enabled and weight > 0:
            self._refill(ip, now_ms).tokens -= weight

    def _refill(self, ip: str, now_ms: int) -> _Bucket:
        capacity = float(self.config.ip_weight_per_minute)
        bucket = self._buckets.get(ip)
        if bucket is None:
            bucket = self._buckets[ip] = _Bucket(capacity, now_ms)
        elapsed = max(now_ms - bucket.updated_ms, 0)
        # weights are small integers, the float bucket is not money
        bucket.tokens = min(capacity, bucket.tokens + elapsed * capacity / 60_000.0)
        bucket.updated_ms = now_ms
        return bucket

    def cap(self, address: str) -> int:
        """Current request cap of ``address``: the initial buffer plus one per traded USDC."""
        volume = self._volume_of(address)
        return self.config.address_initial_buffer + int(volume * self.config.requests_per_usdc)

    def used(self, address: str) -> int:
        """Requests ``address`` has used so far."""
        budget = self._addresses.get(address)
        return 0 if budget is None else budget.used

    def charge_address(self, address: str, count: int, now_ms: int, *, is_cancel: bool = False) -> None:
        """Count ``count`` requests for ``address``; raise `AddressLimitExceeded` when over its cap."""
        if not self.config.enabled:
            return
        budget = self._budget(address)
        if budget.used + count <= self.config.address_initial_buffer:
            # every cap is at least the initial buffer: no need to ask the volume (a Decimal product)
            budget.used += count
            return
        cap = self.cap(address)
        if is_cancel:
            cap = min(cap + self.config.cancel_extra_buffer, 2 * cap)
        if budget.used + count <= cap:
            budget.used += count
            return
        # exhausted: one request per interval still goes through
        last = budget.last_exhausted_ms
        if last is None or now_ms - last >= self.config.exhausted_interval_ms:
            budget.last_exhausted_ms = now_ms
            budget.used += count
            return
        self.rejected_address += 1
        raise AddressLimitExceeded(
            f"Too many cumulative requests sent ({budget.used + count} > {cap}) for cumulative volume traded "
            f"${self._volume_of(address):.2f}. Place taker orders to free up 1 request per USDC traded."
        )

    def _budget(self, address: str) -> _AddressBudget:
        budget = self._addresses.get(address)
        if budget is None:
            budget = self._addresses[address] = _AddressBudget()
        return budget
