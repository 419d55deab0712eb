"""WeightedRateLimiter driven by an injected clock: no real waiting anywhere."""

from __future__ import annotations

import asyncio
import math
import random

import pytest

from wingbeat.core.errors import RateLimitedError
from wingbeat.core.throttler import Priority, WeightedRateLimiter
from wingbeat.sim.protocol.rate_limits import RateLimitConfig, RateLimiter


class FakeTime:
    """A clock that only moves when someone sleeps on it; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def limiter(t: FakeTime, budget: float = 1200, window: float = 60) -> WeightedRateLimiter:
    return WeightedRateLimiter(budget, window, clock=t.clock, sleep=t.sleep)


async def test_spending_within_budget_never_sleeps() -> None:
    t = FakeTime()
    rl = limiter(t)
    for _ in range(60):
        await rl.acquire(20)
    assert t.sleeps == []
    assert rl.remaining == 0
    assert rl.throttled == 0


async def test_exhausted_budget_waits_exactly_until_weight_refills() -> None:
    t = FakeTime()
    rl = limiter(t)  # refills 20 weight per second
    await rl.acquire(1200)
    await rl.acquire(20)
    assert t.sleeps == [pytest.approx(1.0)]
    assert rl.throttled == 1
    assert rl.waited_seconds == pytest.approx(1.0)
    assert rl.remaining == pytest.approx(0.0)


async def test_budget_refills_with_time_but_never_above_the_budget() -> None:
    t = FakeTime()
    rl = limiter(t)
    await rl.acquire(600)
    t.now += 15  # +300
    assert rl.remaining == pytest.approx(900)
    t.now += 3600
    assert rl.remaining == pytest.approx(1200)


async def test_never_spends_more_than_budget_in_any_window() -> None:
    t = FakeTime()
    rl = limiter(t, budget=100, window=10)
    spent: list[tuple[float, float]] = []
    for i in range(300):
        w = (2, 20, 1)[i % 3]
        await rl.acquire(w)
        spent.append((t.now, w))
    # a token bucket never lets more than budget + rate * window through in a window
    for start, _ in spent:
        in_window = sum(w for ts, w in spent if start <= ts < start + 10)
        assert in_window <= 100 + 100
    total_time = spent[-1][0] - spent[0][0]
    total_weight = sum(w for _, w in spent)
    assert total_weight <= 100 + total_time * 10 + 1e-6


async def test_waiters_are_served_in_fifo_order() -> None:
    t = FakeTime()
    rl = limiter(t, budget=10, window=1)
    await rl.acquire(10)
    order: list[str] = []

    async def take(name: str, weight: float) -> None:
        await rl.acquire(weight)
        order.append(name)

    big = asyncio.create_task(take("big", 10))
    await asyncio.sleep(0)  # big is queued first
    small = asyncio.create_task(take("small", 1))
    await asyncio.wait_for(asyncio.gather(big, small), timeout=5)
    assert order == ["big", "small"]


async def test_try_acquire_spends_only_when_available() -> None:
    t = FakeTime()
    rl = limiter(t, budget=10, window=10)
    assert rl.try_acquire(7)
    assert not rl.try_acquire(7)
    assert rl.remaining == pytest.approx(3)
    t.now += 4
    assert rl.try_acquire(7)


async def test_charge_after_the_reply_creates_debt_that_later_callers_wait_out() -> None:
    t = FakeTime()
    rl = limiter(t, budget=100, window=10)  # 10 per second
    await rl.acquire(100)
    rl.charge(50)
    assert rl.remaining == pytest.approx(-50)
    await rl.acquire(10)
    assert sum(t.sleeps) == pytest.approx(6.0)


async def test_penalize_blocks_every_caller_for_the_given_time() -> None:
    t = FakeTime()
    rl = limiter(t)
    rl.penalize(5.0)
    assert rl.remaining <= 0
    await rl.acquire(2)
    assert sum(t.sleeps) == pytest.approx(5.0)


async def test_penalize_shorter_than_current_block_does_not_shorten_it() -> None:
    t = FakeTime()
    rl = limiter(t)
    rl.penalize(10.0)
    rl.penalize(1.0)
    await rl.acquire(1)
    assert sum(t.sleeps) == pytest.approx(10.0)


async def test_cancelled_waiter_releases_the_queue() -> None:
    t = FakeTime()
    gate = asyncio.Event()

    async def blocking_sleep(seconds: float) -> None:
        await gate.wait()

    rl = WeightedRateLimiter(10, 1, clock=t.clock, sleep=blocking_sleep)
    await rl.acquire(10)
    stuck = asyncio.create_task(rl.acquire(5))
    await asyncio.sleep(0)
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    t.now += 1
    assert rl.try_acquire(10)


@pytest.mark.parametrize("weight", [-1, 1201])
async def test_impossible_weight_is_rejected(weight: float) -> None:
    rl = limiter(FakeTime())
    with pytest.raises(ValueError):
        await rl.acquire(weight)


@pytest.mark.parametrize(("budget", "window"), [(0, 60), (1200, 0), (-1, 1)])
def test_invalid_configuration_is_rejected(budget: float, window: float) -> None:
    with pytest.raises(ValueError):
        WeightedRateLimiter(budget, window)


def test_negative_charge_or_penalty_is_rejected() -> None:
    rl = limiter(FakeTime())
    with pytest.raises(ValueError):
        rl.charge(-1)
    with pytest.raises(ValueError):
        rl.penalize(-1)
    assert "remaining=1200" in repr(rl)


async def test_client_with_headroom_never_earns_a_429_from_the_local_exchange_bucket() -> None:
    """Cross-check against the venue-side counter: paced by the limiter, every request is admitted,
    even with up to 50 ms of random network latency reordering arrival gaps."""
    t = FakeTime()
    client = WeightedRateLimiter(1150, 60, clock=t.clock, sleep=t.sleep)  # headroom below 1200
    venue = RateLimiter(RateLimitConfig(ip_weight_per_minute=1200))
    rng = random.Random(3)
    last_arrival = 0
    for _ in range(3000):
        weight = rng.choice((1, 2, 2, 20, 20, 60))
        await client.acquire(weight)
        arrival = max(math.floor(t.now * 1000) + rng.randint(0, 50), last_arrival)
        last_arrival = arrival
        assert venue.charge_ip("127.0.0.1", weight, arrival)
        t.now += rng.random() * 0.05
    assert venue.rejected_ip == 0
    assert client.throttled > 100  # the budget really was the bottleneck


# --- venue pauses, deadlines and priorities (issue 12) -------------------------------------------


async def test_an_absurd_venue_pause_is_capped_at_max_pause() -> None:
    t = FakeTime()
    rl = WeightedRateLimiter(1200, 60, max_pause=30, clock=t.clock, sleep=t.sleep)
    assert rl.penalize(99_999_999) == 30
    assert rl.blocked_for == pytest.approx(30) and rl.capped_pauses == 1 and rl.pauses == 1
    await rl.acquire(1)
    assert sum(t.sleeps) == pytest.approx(30)  # the capped pause (the emptied bucket refills meanwhile)
    assert rl.blocked_for == 0


@pytest.mark.parametrize("seconds", [math.inf, math.nan, -1.0])
def test_a_non_finite_or_negative_pause_is_refused(seconds: float) -> None:
    rl = limiter(FakeTime())
    with pytest.raises(ValueError, match="finite"):
        rl.penalize(seconds)
    assert rl.blocked_for == 0


async def test_acquire_refuses_at_once_when_the_pause_outlasts_its_deadline() -> None:
    t = FakeTime()
    rl = limiter(t)
    rl.penalize(20)
    with pytest.raises(RateLimitedError) as info:
        await rl.acquire(1, timeout=10)
    assert t.sleeps == []  # nothing gained by waiting: refused before any sleep
    assert info.value.retry_after == pytest.approx(20)


async def test_acquire_waits_for_a_pause_shorter_than_its_deadline() -> None:
    t = FakeTime()
    rl = limiter(t)
    rl.penalize(2)
    await rl.acquire(1, timeout=10)
    assert sum(t.sleeps) == pytest.approx(2)


async def test_acquire_deadline_counts_real_time_spent_queueing() -> None:
    rl = WeightedRateLimiter(10, 1.0)  # 10 weight per second
    await rl.acquire(10)
    waiter = asyncio.ensure_future(rl.acquire(10))  # ahead in the queue: ~1 s
    await asyncio.sleep(0)
    with pytest.raises(RateLimitedError):
        await rl.acquire(1, timeout=0.05)
    await waiter


async def test_bookkeeping_leaves_the_reserve_to_actions() -> None:
    t = FakeTime()
    rl = WeightedRateLimiter(100, 10, reserve=25, clock=t.clock, sleep=t.sleep)  # 10 weight per second
    for _ in range(3):
        assert rl.try_acquire(25, priority=Priority.BOOKKEEPING)
    assert not rl.try_acquire(1, priority=Priority.BOOKKEEPING)  # the last 25 are the actions'
    for _ in range(25):
        assert rl.try_acquire(1)  # an action spends them without waiting
    await rl.acquire(20, priority=Priority.BOOKKEEPING)
    assert sum(t.sleeps) == pytest.approx((20 + 25) / 10)  # waited until 20 above the reserve


async def test_a_waiting_action_goes_before_waiting_bookkeeping() -> None:
    rl = WeightedRateLimiter(20, 0.2, reserve=5)  # 100 weight per second: real waits of a few ms
    await rl.acquire(20)
    order: list[str] = []

    async def take(name: str, weight: float, priority: Priority) -> None:
        await rl.acquire(weight, priority=priority)
        order.append(name)

    bookkeeping = asyncio.ensure_future(take("bookkeeping", 10, Priority.BOOKKEEPING))
    await asyncio.sleep(0)
    action = asyncio.ensure_future(take("action", 10, Priority.ACTION))
    await asyncio.gather(bookkeeping, action)
    assert order == ["action", "bookkeeping"]


def test_bookkeeping_weight_above_budget_less_reserve_is_refused() -> None:
    rl = WeightedRateLimiter(100, 10, reserve=25)
    with pytest.raises(ValueError):
        rl.try_acquire(80, priority=Priority.BOOKKEEPING)
    assert rl.try_acquire(80)
