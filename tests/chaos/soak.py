"""Chaos soak: a strategy-like load through two connectors while the local exchange injects every fault.

Two accounts trade BTC, ETH and SOL against the exchange's built-in makers: one connector sends actions
over the websocket ``post`` method, the other over REST. The load is random limit (some crossing),
IOC, market and cancel calls, a few per step. Meanwhile the exchange, at random: drops every websocket,
silences a channel for a while, answers 5xx, holds requests past the client's deadline (dropped unapplied,
or applied late - as Hyperliquid does - within the order's validity or refused after it), applies an
action and loses the answer (REST and websocket), delays answers, duplicates and reorders websocket
messages, and answers 429 (now and then with an absurd ``Retry-After: 99999999``, which the client caps).
It also takes the whole venue down for a few seconds (``outage``) right when a burst of a hundred or more
orders goes out, and makes it hang (every request held unanswered, every channel silent) for a few seconds.
At the end faults are switched off, reconciliation is allowed to settle, and the
connectors' views are compared with the venue's truth (``truth.divergences``).

Run the long version with ``python -m tests.chaos.soak --orders 20000 --report soak-report.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.chaos.truth import (
    EventLog,
    LogWatch,
    VenueRecorder,
    count_venue_requests,
    divergences,
    venue_state,
)
from wingbeat.core.enums import OrderType, TimeInForce, TradeType
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.faults import FaultKind
from wingbeat.sim.protocol.rate_limits import RELAXED_RATE_LIMITS
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.liquidity import LiquidityConfig

__all__ = ["SoakConfig", "SoakReport", "run_soak"]

PAIRS = ("BTC-USD", "ETH-USD", "SOL-USD")
_RESTING = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED})
_FUNDS = Decimal(50_000_000)
_CLIENT_WEIGHT_BUDGET = 60_000
#: Silenced together: the user stream's order news, one fill channel (the other still brings the fills), both
#: fill channels (fills are then only found by reconciliation), and a market-data channel.
_SILENCEABLE: tuple[tuple[str, ...], ...] = (
    ("orderUpdates",),
    ("userFills",),
    ("user",),
    ("userFills", "user"),
    ("l2Book",),
)
#: Steps at which a one-off fault is forced (its kind's roll), so a short run sees every kind.
_FIRST_FAULTS = {5: 0.0, 10: 0.5, 15: 0.75, 20: 0.85, 25: 0.9, 30: 0.97}
#: Pause honoured after a 429, at most: the soak's absurd Retry-After must not stall it for the default 30 s.
_MAX_PAUSE_S = 2.0
#: An order that reached the venue later than this after it was placed counts as late.
_LATE_AFTER_S = 5.0
_ALL_CHANNELS = ("l2Book", "trades", "bbo", "activeAssetCtx", "allMids", "orderUpdates", "userFills", "user")


@dataclass(frozen=True, slots=True, kw_only=True)
class SoakConfig:
    """One soak run. ``fault_scale`` multiplies every fault probability (0 = a clean run)."""

    orders: int = 1_000
    seed: int = 1
    fault_scale: float = 1.0
    settle_timeout: float = 30.0


@dataclass(slots=True)
class SoakReport:
    """What a run did and found; ``divergences`` and ``unexpected_errors`` must be empty."""

    orders: int = 0
    cancels: int = 0
    actions: int = 0
    fills: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    final_states: dict[str, int] = field(default_factory=dict)
    divergences: list[str] = field(default_factory=list)
    unexpected_errors: list[str] = field(default_factory=list)
    leftover_tasks: list[str] = field(default_factory=list)
    warnings: dict[str, int] = field(default_factory=dict)
    load_seconds: float = 0.0
    settle_seconds: float = 0.0
    lost: int = 0
    duplicated_fills: int = 0
    duplicated_fill_events: int = 0
    stuck: int = 0
    late: int = 0
    venue_age_ms: dict[str, float] = field(default_factory=dict)

    def render(self) -> str:
        """A human-readable table of the report."""
        rows = [
            ("orders placed", self.orders),
            ("cancels requested", self.cancels),
            ("signed actions sent", self.actions),
            ("fills", self.fills),
            *((f"fault: {k}", v) for k, v in sorted(self.faults.items())),
            *((f"final state: {k}", v) for k, v in sorted(self.final_states.items())),
            ("lost orders", self.lost),
            ("duplicated fills (venue or journal)", self.duplicated_fills),
            ("duplicated fill events", self.duplicated_fill_events),
            ("stuck orders", self.stuck),
            (f"late orders (reached the venue > {_LATE_AFTER_S:g} s after placement)", self.late),
            *((f"age on reaching the venue, {k} (ms)", f"{v:.1f}") for k, v in self.venue_age_ms.items()),
            ("divergences", len(self.divergences)),
            ("unexpected errors in logs", len(self.unexpected_errors)),
            ("tasks left running", len(self.leftover_tasks)),
            ("load time (s)", f"{self.load_seconds:.1f}"),
            ("settle time (s)", f"{self.settle_seconds:.1f}"),
        ]
        width = max(len(name) for name, _ in rows)
        lines = [f"{name:<{width}}  {value}" for name, value in rows]
        lines += [f"DIVERGENCE {d}" for d in self.divergences[:50]]
        lines += [f"UNEXPECTED {e}" for e in self.unexpected_errors[:50]]
        lines += [f"LEFTOVER TASK {t}" for t in self.leftover_tasks[:50]]
        return "\n".join(lines)


class _Account:
    """One connector and everything the soak placed through it."""

    def __init__(self, connector: HyperliquidPerpetualConnector, recorder: VenueRecorder) -> None:
        self.connector = connector
        self.recorder = recorder
        self.event_log = EventLog()
        self.orders: dict[str, InFlightOrder] = {}
        connector.add_listener(self.event_log)

    def resting(self) -> list[InFlightOrder]:
        return [o for o in self.connector.open_orders if o.current_state in _RESTING]


def _arm_standing_faults(exchange: LocalExchange, scale: float) -> None:
    faults = exchange.faults
    if scale <= 0:
        return

    def p(base: float) -> float:
        return min(1.0, base * scale)

    faults.add(FaultKind.HTTP_5XX, probability=p(0.03), path="/exchange")
    faults.add(FaultKind.HTTP_5XX, probability=p(0.01), path="/info", status=503)
    faults.add(FaultKind.TIMEOUT, probability=p(0.01), delay_ms=700)
    faults.add(FaultKind.LOSE_ANSWER, probability=p(0.04), action="order")
    faults.add(FaultKind.LOSE_ANSWER, probability=p(0.04), action="cancelByCloid")
    # answered after the client's deadline, yet applied (within the order's validity) or refused (after it)
    faults.add(FaultKind.DELAY, probability=p(0.01), delay_ms=1_000, path="/exchange")
    faults.add(FaultKind.DELAY, probability=p(0.005), delay_ms=3_000, path="/exchange")
    faults.add(FaultKind.DELAY, probability=p(0.03), delay_ms=300)
    faults.add(FaultKind.WS_DUPLICATE, probability=p(0.02))
    faults.add(FaultKind.WS_REORDER, probability=p(0.01))


def _random_fault(
    exchange: LocalExchange,
    rng: random.Random,
    silenced: dict[str, int],
    step: int,
    roll: float | None = None,
) -> str | None:
    """A one-off fault now: drop every websocket, silence a channel for a few steps, one 429 (sometimes with
    an absurd Retry-After), an outage of a few seconds (returns "outage": the caller sends a burst into it),
    or a hang of a few seconds (nothing answered, every channel silent)."""
    roll = rng.random() if roll is None else roll
    faults = exchange.faults
    if roll < 0.4:
        faults.drop_websockets()
    elif roll < 0.7:
        channels = rng.choice(_SILENCEABLE)
        until = step + rng.randint(3, 30)
        for channel in channels:
            if channel not in silenced:
                faults.silence(channel)
                silenced[channel] = until
    elif roll < 0.8:
        faults.add(FaultKind.RATE_LIMIT, count=1, path=rng.choice(["/exchange", "/info", None]))
    elif roll < 0.88:  # what a proxy or CDN may send: the client must not freeze for three years
        faults.add(
            FaultKind.RATE_LIMIT, count=1, path=rng.choice(["/exchange", "/info"]), retry_after="99999999"
        )
    elif roll < 0.94:
        faults.outage(rng.uniform(2.0, 4.0))
        return "outage"
    else:
        _hang(exchange, rng.uniform(1.5, 3.0), silenced)
    return None


def _hang(exchange: LocalExchange, seconds: float, silenced: dict[str, int]) -> None:
    """The venue hangs for ``seconds``: requests are held unanswered (then dropped unapplied), posts get no
    answer, and no channel sends anything; afterwards everything works again."""
    faults = exchange.faults
    rule = faults.add(FaultKind.TIMEOUT, delay_ms=int(seconds * 1000))
    channels = [c for c in _ALL_CHANNELS if c not in silenced]
    for channel in channels:
        faults.silence(channel)

    def end() -> None:
        faults.remove(rule)
        for channel in channels:
            if channel not in silenced:
                faults.silence(channel, False)

    asyncio.get_running_loop().call_later(seconds, end)


def _place_random(account: _Account, rng: random.Random) -> str | None:
    conn = account.connector
    pair = rng.choice(PAIRS)
    book = conn.get_order_book(pair)
    bid, ask = book.best_bid, book.best_ask
    if bid is None or ask is None:
        return None
    mid = (bid + ask) / 2
    side = TradeType.BUY if rng.random() < 0.5 else TradeType.SELL
    size = (Decimal(rng.randint(15, 80)) / mid).quantize(Decimal("0.00001"))
    kind = rng.random()
    if kind < 0.6:  # a limit: mostly resting near the touch, some crossing the spread
        offset = Decimal(rng.randint(-15, 40)) / 10_000
        price = mid * (1 - offset) if side is TradeType.BUY else mid * (1 + offset)
        return conn.place_order(side, pair, size, OrderType.LIMIT, price)
    if kind < 0.8:
        price = mid * (Decimal("1.01") if side is TradeType.BUY else Decimal("0.99"))
        return conn.place_order(side, pair, size, OrderType.LIMIT, price, time_in_force=TimeInForce.IOC)
    if kind < 0.85:  # bigger than the first levels, limited just past the touch: a partial fill, then EXPIRED
        size = (Decimal(rng.randint(4_000, 12_000)) / mid).quantize(Decimal("0.00001"))
        price = ask * Decimal("1.0003") if side is TradeType.BUY else bid * Decimal("0.9997")
        return conn.place_order(side, pair, size, OrderType.LIMIT, price, time_in_force=TimeInForce.IOC)
    return conn.place_order(side, pair, size, OrderType.MARKET)


async def _pace(orders: list[InFlightOrder], limit_s: float) -> None:
    """Wait (bounded) until this step's orders are acknowledged or ended: keeps the load realistic."""
    waiters = [asyncio.ensure_future(o.wait_until_open()) for o in orders if not o.current_state.is_submitted]
    if not waiters:
        return
    _done, pending = await asyncio.wait(waiters, timeout=limit_s)
    for waiter in pending:
        waiter.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def _load(
    accounts: list[_Account], exchange: LocalExchange, config: SoakConfig, report: SoakReport
) -> None:
    rng = random.Random(config.seed)
    silenced: dict[str, int] = {}
    step = 0
    while report.orders < config.orders:
        step += 1
        for channel, until in list(silenced.items()):
            if step >= until:
                exchange.faults.silence(channel, False)
                del silenced[channel]
        burst = 0
        faulty = config.fault_scale > 0 and (
            step in _FIRST_FAULTS or rng.random() < 0.05 * config.fault_scale
        )
        if faulty and _random_fault(exchange, rng, silenced, step, _FIRST_FAULTS.get(step)) == "outage":
            # hundreds of orders in flight when the venue goes down (fewer in a short run: it has other work)
            burst = min(rng.randint(100, 200), max(config.orders // 40, 10))
        account = rng.choice(accounts)
        if not account.connector.ready:  # paused by the venue (a 429): a strategy waits, as ``ready`` says
            await account.connector.wait_ready(10)
        placed: list[InFlightOrder] = []
        for _ in range(burst or rng.randint(1, 6)):
            if rng.random() < 0.25:
                resting = account.resting()
                if len(resting) > 40 or (resting and rng.random() < 0.8):
                    victim = rng.choice(resting)
                    account.connector.cancel(victim.trading_pair, victim.client_order_id)
                    report.cancels += 1
                    continue
            cid = _place_random(account, rng)
            if cid is None:
                continue
            order = account.connector.get_order(cid)
            assert order is not None, cid
            account.orders[cid] = order
            placed.append(order)
            report.orders += 1
        await _pace(placed, limit_s=1.0)
    for channel in silenced:
        exchange.faults.silence(channel, False)


async def _settle(accounts: list[_Account], exchange: LocalExchange, limit_s: float) -> list[str]:
    """Faults are off: let the connectors reconcile until they agree with the venue (or time runs out)."""
    exchange.makers = None  # freeze the market: balances are compared at one price
    problems: list[str] = []
    deadline = time.monotonic() + limit_s
    while True:
        for account in accounts:
            await account.connector.reconcile_now()
        problems = [
            p for a in accounts for p in divergences(a.connector, exchange, a.recorder, a.orders, a.event_log)
        ]
        if not problems or time.monotonic() > deadline:
            return problems
        # give the connectors' own timers (stale-order checks, account refresh) a chance: wake on news
        await _news(accounts, limit_s=0.5)


async def _news(accounts: list[_Account], limit_s: float) -> None:
    """Wait until any connector publishes an event, at most ``limit_s`` seconds."""
    waiters = [asyncio.ensure_future(a.event_log.changed.wait()) for a in accounts]
    _done, pending = await asyncio.wait(waiters, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for account in accounts:
        account.event_log.changed.clear()


def _new_connector(
    exchange: LocalExchange, signer: Signer, over_ws: bool, journal: Path
) -> HyperliquidPerpetualConnector:
    # the local exchange runs with relaxed rate limits: at Hyperliquid's 1,150/min the soak would measure
    # the client's throttle, not its correctness
    config = HyperliquidConfig(
        actions_over_websocket=over_ws,
        request_timeout=0.5,
        order_validity=2.0,
        dead_man_switch=None,
        account_refresh_interval=10.0,
        rest_weight_budget=_CLIENT_WEIGHT_BUDGET,
        max_rate_limit_pause=_MAX_PAUSE_S,
    )
    return HyperliquidPerpetualConnector(
        signer,
        trading_pairs=list(PAIRS),
        network=exchange.base_url,
        config=config,
        journal_path=journal,
        reconcile_interval=0.2,
        stale_order_after=10.0,
        status_retry_delay=0.05,
    )


def _journal_divergences(account: _Account) -> list[str]:
    """The journal a stopped connector left agrees with what it published: every order in its final state,
    every fill once."""
    journal = account.connector.journal
    assert journal is not None
    stored = {o.client_order_id: o for o in journal.iter_orders()}
    problems = [
        f"{cid}: journal says {stored[cid].current_state.name if cid in stored else 'nothing'}, "
        f"connector {order.current_state.name}"
        for cid, order in account.orders.items()
        if cid not in stored or stored[cid].current_state is not order.current_state
    ]
    fills = sorted(f.trade_id for f in journal.iter_fills())
    published = sorted(f.trade_id for f in account.event_log.fills)
    if fills != published:
        problems.append(f"journal holds {len(fills)} fills, {len(published)} were published")
    return problems[:20]


def _count_outcomes(
    report: SoakReport, accounts: list[_Account], exchange: LocalExchange, recorder: VenueRecorder
) -> None:
    """Lost (the venue accepted it, we say FAILED), duplicated (fills booked or journaled twice, fill events
    published twice), stuck (not final and not resting, or resting here but not on the venue) and late orders,
    and the age of each order when it first reached the venue."""
    ages: list[float] = []
    report.duplicated_fills = len(recorder.duplicate_fill_ids)
    for account in accounts:
        user = account.connector.account_address
        for cid, order in account.orders.items():
            state = venue_state(exchange, user, cid)
            if (
                order.current_state is OrderState.FAILED
                and state is not None
                and state is not OrderState.FAILED
            ):
                report.lost += 1
            if not order.current_state.is_final and (
                order.current_state not in _RESTING or state is not OrderState.OPEN
            ):
                report.stuck += 1
            seen = recorder.first_seen.get(cid)
            if seen is not None:
                age = seen - order.creation_timestamp
                ages.append(age)
                report.late += age > _LATE_AFTER_S
        events = Counter(f.trade_id for f in account.event_log.fills)
        report.duplicated_fill_events += sum(n - 1 for n in events.values() if n > 1)
        journal = account.connector.journal
        if journal is not None:
            journaled = Counter((f.client_order_id, f.trade_id) for f in journal.iter_fills())
            report.duplicated_fills += sum(n - 1 for n in journaled.values() if n > 1)
    if ages:
        ages.sort()
        report.venue_age_ms = {
            "p50": ages[len(ages) // 2] * 1000,
            "p99": ages[min(len(ages) - 1, len(ages) * 99 // 100)] * 1000,
            "max": ages[-1] * 1000,
            "mean": sum(ages) / len(ages) * 1000,
        }


async def run_soak(config: SoakConfig) -> SoakReport:
    """Run one soak (own local exchange on loopback) and return its report."""
    report = SoakReport()
    baseline = set(asyncio.all_tasks())
    liquidity = LiquidityConfig(refresh_ms=200, taker_probability=0.5, level_notional=Decimal(5_000))
    with LogWatch() as logs, tempfile.TemporaryDirectory(prefix="wingbeat-soak-") as journals:
        exchange = LocalExchange(
            seed=config.seed, admin=True, liquidity=liquidity, rate_limits=RELAXED_RATE_LIMITS, tick_ms=50
        )
        venue_requests = count_venue_requests(exchange)
        async with exchange:
            rng = random.Random(config.seed)
            signers = [Signer("0x" + rng.randbytes(32).hex()) for _ in range(2)]
            for signer in signers:
                await exchange.fund(signer.address, _FUNDS)
            recorder = VenueRecorder.attach(exchange, [s.address for s in signers])
            accounts = [
                _Account(_new_connector(exchange, s, over_ws, Path(journals) / f"{s.address}.db"), recorder)
                for s, over_ws in zip(signers, (True, False), strict=True)
            ]
            try:
                for account in accounts:
                    await account.connector.start()
                _arm_standing_faults(exchange, config.fault_scale)
                started = time.monotonic()
                await _load(accounts, exchange, config, report)
                report.load_seconds = time.monotonic() - started
                report.faults = dict(exchange.faults.counters)
                exchange.faults.clear()
                started = time.monotonic()
                report.divergences = await _settle(accounts, exchange, config.settle_timeout)
                report.settle_seconds = time.monotonic() - started
            finally:
                for account in accounts:
                    report.actions += account.connector.actions_sent
                    await account.connector.stop()
                # requests held by a delay fault finish on the venue after their clients gave up
                await asyncio.wait_for(venue_requests.wait_idle(), config.settle_timeout)
            states: Counter[str] = Counter()
            _count_outcomes(report, accounts, exchange, recorder)
            for account in accounts:
                report.fills += len(account.event_log.fills)
                states.update(o.current_state.name for o in account.orders.values())
                report.divergences += _journal_divergences(account)
                owned = account.connector._tasks.tasks  # the owner's view: must be empty after stop
                report.leftover_tasks += [t.get_name() for t in owned if not t.done()]
            report.final_states = dict(states)
    report.unexpected_errors = logs.unexpected
    report.warnings = dict(logs.warnings)
    current = asyncio.current_task()
    report.leftover_tasks += [
        t.get_name() for t in asyncio.all_tasks() - baseline if t is not current and not t.done()
    ]
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.chaos.soak``: run a soak, print the report, write it as JSON; exit 1 on divergence."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-scale", type=float, default=1.0)
    parser.add_argument("--report", type=Path, default=Path("soak-report.json"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = SoakConfig(
        orders=args.orders,
        seed=args.seed,
        fault_scale=args.fault_scale,
        settle_timeout=max(30.0, args.orders / 200),
    )
    report = asyncio.run(run_soak(config))
    text = report.render()
    sys.stdout.write(text + "\n")
    payload: dict[str, Any] = {"config": asdict(config), **asdict(report)}
    args.report.write_text(json.dumps(payload, indent=2, default=str))
    sys.stdout.write(f"report written to {args.report}\n")
    failed = (
        report.divergences or report.unexpected_errors or report.leftover_tasks or report.lost or report.stuck
    )
    return 1 if failed or report.duplicated_fills or report.duplicated_fill_events else 0


if __name__ == "__main__":
    raise SystemExit(main())
