"""Crash recovery of the Hyperliquid connector: a child process trading with a journal is SIGKILLed at random
moments, including right after the journal commit (nothing sent), right after the exchange answered an order
or a cancel (answer never read) and in the middle of recovering from the previous crash. While it is down its
resting orders fill. A connector restarted on the same journal must then know every order the exchange holds,
never call FAILED an order the exchange filled, and report each fill made while it was down exactly once (and
none already journaled or already reported by the killed process again, even when the kill comes right after
a listener received a fill event). Seeded, many rounds (``WINGBEAT_CRASH_ROUNDS``), every moment."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tests.chaos.crash_child import connector_for
from tests.chaos.truth import EventLog, VenueRecorder, venue_state
from tests.conftest import new_trader
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.rate_limits import RELAXED_RATE_LIMITS
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.liquidity import LiquidityConfig
from wingbeat.sim.venue.types import OrderRequest

ROOT = Path(__file__).resolve().parents[2]
MOMENTS = ("journaled", "answered", "cancel_answered", "recovering", "fill_published", "none")
ROUNDS = int(os.environ.get("WINGBEAT_CRASH_ROUNDS", "12"))  # a sixth of each moment
_RESTING = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED})


@dataclass
class ChildRun:
    """What one killed child reported."""

    sent: set[str] = field(default_factory=set)
    fills: Counter[str] = field(default_factory=Counter)
    frozen: str | None = None


async def run_child_until_killed(
    exchange: LocalExchange,
    key: str,
    journal: Path,
    seed: int,
    moment: str,
    over_ws: bool,
    rng: random.Random,
    extra_env: dict[str, str] | None = None,
) -> ChildRun:
    """Start the child; SIGKILL it once frozen at ``moment`` (or after a random number of orders)."""
    nth = rng.randint(1, 4 if moment == "cancel_answered" else 12)
    kill_after = rng.randint(1, 60)
    env = {**os.environ, **(extra_env or {}), "HL_PRIVATE_KEY": key}  # the key never on the command line
    child = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the pipe is read in a thread
        [
            sys.executable,
            "-m",
            "tests.chaos.crash_child",
            exchange.base_url,
            str(journal),
            str(seed),
            moment,
            str(nth),
            "1" if over_ws else "0",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    run = ChildRun()
    assert child.stdout is not None
    stdout = child.stdout

    def record(line: bytes) -> str:
        word, _, rest = line.decode().strip().partition(" ")
        if word == "SENT":
            run.sent.add(rest)
        elif word == "FILL" and rest:
            run.fills[rest.split()[0]] += 1
        elif word == "FROZEN":
            run.frozen = rest
        return word

    try:
        async with asyncio.timeout(60):  # the exchange lives in this loop: read the pipe in a thread
            ready = False  # before READY: a restart catching up fills, or frozen while recovering
            while True:
                line = await asyncio.to_thread(stdout.readline)
                assert line, "the child exited on its own"
                word = record(line)
                assert word in ("READY", "FILL", "SENT", "FROZEN"), line
                ready = ready or word == "READY"
                if word == "FROZEN" or (moment == "none" and ready and len(run.sent) >= kill_after):
                    break
        os.kill(child.pid, signal.SIGKILL)
        *complete, _cut = (await asyncio.to_thread(stdout.read)).split(b"\n")
        for line in complete:  # written before the kill: it happened
            record(line)
    finally:
        if child.poll() is None:
            child.kill()
        await asyncio.to_thread(child.wait, 10)
        stdout.close()
    assert child.returncode == -signal.SIGKILL
    return run


def fill_resting_orders(exchange: LocalExchange, user: str, counterparty: str, rng: random.Random) -> int:
    """While the child is down, the market trades through some of its resting orders; returns how many."""
    engine = exchange.engine
    account = engine.accounts[user]
    resting = [o for o in account.open_orders.values() if o.cloid]
    hit = rng.sample(resting, min(len(resting), rng.randint(1, 3)))
    for order in hit:
        market = engine.market(order.coin)
        assert market is not None
        # sweep through the makers' better levels down/up to our price: our order is reached
        sweep = order.sz + Decimal(30_000) / order.limit_px
        request = OrderRequest(
            asset=order.asset,
            is_buy=not order.is_buy,
            price=order.limit_px,
            size=sweep.quantize(Decimal(10) ** -market.cfg.sz_decimals),
            reduce_only=False,
            tif="Ioc",
        )
        engine.place_orders(counterparty, [request])
    return len(hit)


async def restart_and_check(
    exchange: LocalExchange,
    key: str,
    journal: Path,
    recorder: VenueRecorder,
    reported_before: set[str],
    over_ws: bool,
) -> tuple[list[str], set[str]]:
    """Restart on the journal, let it reconcile; return (problems, trade ids reported by the restart).
    ``reported_before``: every fill reported by earlier processes."""
    # fills whose event went out before the crash (the others are for the restart to publish)
    journaled_fills = {
        (f.client_order_id, f.trade_id) for f in OrderJournal(journal).iter_fills(published=True)
    }
    conn = connector_for(exchange.base_url, Signer(key), str(journal), over_ws)
    log = EventLog()
    conn.add_listener(log)
    user = conn.account_address
    # the market holds still meanwhile: a maker's fill racing the final stop would be nobody's fault
    makers, exchange.makers = exchange.makers, None
    await conn.start()
    try:
        await conn.wait_recovered(20)  # the journal's orders are reconciled in the background
        problems = ["not reconciled"]
        async with asyncio.timeout(20):
            while problems:
                await conn.reconcile_now()
                problems = [
                    f"{o.client_order_id} {o.current_state.name} vs venue {state}"
                    for o in conn.open_orders
                    if (state := venue_state(exchange, user, o.client_order_id)) is not OrderState.OPEN
                    or o.current_state not in _RESTING
                ]
                if problems:  # the connector's reconcile timer is still working: wake on its news
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(log.changed.wait(), 0.5)
                    log.changed.clear()
    finally:
        await conn.stop()
        exchange.makers = makers
    problems = []
    orders = {o.client_order_id: o for o in OrderJournal(journal).iter_orders()}
    journal_fills = {(f.client_order_id, f.trade_id) for f in OrderJournal(journal).iter_fills()}
    account = exchange.engine.accounts[user]
    unknown = set(account.cloids) - set(orders)
    if unknown:
        problems.append(f"orders on the exchange unknown to the connector: {sorted(unknown)[:3]}")
    venue_fills = {(f.cloid, f.trade_id) for f in recorder.fills.values() if f.user == user and f.cloid}
    if venue_fills != journal_fills:
        problems.append(
            f"fills missing {sorted(venue_fills - journal_fills)[:3]}, "
            f"unknown {sorted(journal_fills - venue_fills)[:3]}"
        )
    for cid, order in orders.items():
        state = venue_state(exchange, user, cid)
        if order.current_state is OrderState.FAILED and state is not None and state is not OrderState.FAILED:
            problems.append(f"{cid} is FAILED but the exchange has it {state.name}")
        if state is OrderState.FILLED and order.current_state is not OrderState.FILLED:
            problems.append(f"{cid} was filled but is {order.current_state.name}")
    reported = Counter(f.trade_id for f in log.fills)
    twice = [t for t, n in reported.items() if n > 1]
    if twice:
        problems.append(f"fills reported twice by the restart: {twice[:3]}")
    again = {t for c, t in journaled_fills if t in reported}
    if again:
        problems.append(f"fills published before the crash reported again: {sorted(again)[:3]}")
    twice_across = reported_before & set(reported)
    if twice_across:
        problems.append(
            f"fills reported before the crash reported again by the restart: {sorted(twice_across)[:3]}"
        )
    unreported = {t for c, t in venue_fills if t not in reported and t not in reported_before}
    if unreported:
        problems.append(f"fills never reported: {sorted(unreported)[:3]}")
    return problems, set(reported)


async def test_sigkill_at_every_moment_loses_no_order_and_reports_each_fill_once(tmp_path: Path) -> None:
    rng = random.Random(6)
    trader, counterparty = new_trader(), new_trader()
    journal = tmp_path / "orders.db"
    liquidity = LiquidityConfig(refresh_ms=200, level_notional=Decimal(5_000))
    async with LocalExchange(seed=6, liquidity=liquidity, rate_limits=RELAXED_RATE_LIMITS) as exchange:
        await exchange.fund(trader.address, Decimal(5_000_000))
        await exchange.fund(counterparty.address, Decimal(500_000_000))
        recorder = VenueRecorder.attach(exchange, [trader.address])
        frozen: Counter[str] = Counter()
        reported: set[str] = set()
        down_fills = 0
        for round_no in range(ROUNDS):
            moment, over_ws = MOMENTS[round_no % len(MOMENTS)], rng.random() < 0.5
            run = await run_child_until_killed(
                exchange, trader.key, journal, rng.randrange(1 << 30), moment, over_ws, rng
            )
            if run.frozen:
                frozen[run.frozen] += 1
            assert not [t for t, n in run.fills.items() if n > 1], "the child reported a fill twice"
            reported |= set(run.fills)
            journaled = {o.client_order_id for o in OrderJournal(journal).iter_orders()}
            assert run.sent <= journaled, f"round {round_no}: sent but not journaled {run.sent - journaled}"
            fills_before = len(recorder.fills)
            fill_resting_orders(exchange, trader.address, counterparty.address, rng)
            while_down = {
                f.trade_id
                for f in list(recorder.fills.values())[fills_before:]
                if f.user == trader.address and f.cloid
            }
            down_fills += len(while_down)
            problems, by_restart = await restart_and_check(
                exchange, trader.key, journal, recorder, reported, over_ws
            )
            assert not problems, f"round {round_no} ({moment}, over_ws={over_ws}): {problems}"
            assert while_down <= by_restart, "a fill made while down was not reported by the restart"
            reported |= by_restart
        expected = Counter(m for i in range(ROUNDS) if (m := MOMENTS[i % len(MOMENTS)]) != "none")
        assert frozen["recovering"] + frozen["nothing to recover"] == expected.pop("recovering"), frozen
        assert frozen["recovering"] > 0, "never killed during recovery"
        assert {k: v for k, v in frozen.items() if k not in ("recovering", "nothing to recover")} == expected
        assert down_fills > 0, "no fill happened while the connector was down: the test proved nothing"


async def test_sigkill_between_filled_and_its_fills_still_reports_the_fills_after_restart(
    tmp_path: Path,
) -> None:
    rng = random.Random(8)
    trader = new_trader()
    journal = tmp_path / "orders.db"
    liquidity = LiquidityConfig(refresh_ms=200, level_notional=Decimal(5_000), taker_probability=0.0)
    async with LocalExchange(seed=8, liquidity=liquidity, rate_limits=RELAXED_RATE_LIMITS) as exchange:
        await exchange.fund(trader.address, Decimal(5_000_000))
        recorder = VenueRecorder.attach(exchange, [trader.address])
        for channel in ("userFills", "user"):  # the fills are late: they cannot arrive before the kill
            exchange.faults.silence(channel)
        run = await run_child_until_killed(exchange, trader.key, journal, 1, "filled_early", False, rng)
        assert run.frozen == "filled_early" and not run.fills
        exchange.faults.clear()
        problems, reported = await restart_and_check(exchange, trader.key, journal, recorder, set(), False)
        assert problems == []
        assert reported, "the fills of the FILLED order were never reported"


async def test_dead_mans_switch_cancels_after_a_crash_and_the_restart_sees_it(tmp_path: Path) -> None:
    rng = random.Random(9)
    trader = new_trader()
    journal = tmp_path / "orders.db"
    liquidity = LiquidityConfig(refresh_ms=200, level_notional=Decimal(5_000), taker_probability=0.0)
    async with LocalExchange(seed=9, liquidity=liquidity, rate_limits=RELAXED_RATE_LIMITS) as exchange:
        await exchange.fund(trader.address, Decimal(5_000_000))
        recorder = VenueRecorder.attach(exchange, [trader.address])
        run = await run_child_until_killed(
            exchange, trader.key, journal, 2, "none", True, rng, {"WINGBEAT_CHILD_DEAD_MAN_SWITCH": "10"}
        )
        account = exchange.engine.accounts[trader.address]
        resting = {o.cloid for o in account.open_orders.values()}
        assert run.sent and resting and account.scheduled_cancel is not None, "the switch was not armed"
        exchange.engine.advance(
            account.scheduled_cancel + 1
        )  # the switch's deadline passes while we are down
        assert not account.open_orders
        problems, _reported = await restart_and_check(
            exchange, trader.key, journal, recorder, set(run.fills), True
        )
        assert problems == []
        stored = {o.client_order_id: o for o in OrderJournal(journal).iter_orders()}
        assert {stored[c].current_state for c in resting if c is not None} == {OrderState.CANCELED}


async def test_sigkill_right_after_a_listener_got_a_fill_never_publishes_it_again(tmp_path: Path) -> None:
    """The kill lands inside the listener of a fill event (it has booked it): the restart fetches that fill from
    the venue and must not publish it a second time. (Fill events wait until their fill is in the journal.)"""
    rng = random.Random(10)
    trader = new_trader()
    journal = tmp_path / "orders.db"
    liquidity = LiquidityConfig(refresh_ms=200, level_notional=Decimal(5_000))
    async with LocalExchange(seed=10, liquidity=liquidity, rate_limits=RELAXED_RATE_LIMITS) as exchange:
        await exchange.fund(trader.address, Decimal(5_000_000))
        recorder = VenueRecorder.attach(exchange, [trader.address])
        reported: set[str] = set()
        for round_no in range(3):
            over_ws = round_no % 2 == 0
            run = await run_child_until_killed(
                exchange, trader.key, journal, rng.randrange(1 << 30), "fill_published", over_ws, rng
            )
            assert run.frozen == "fill_published" and run.fills
            reported |= set(run.fills)
            problems, by_restart = await restart_and_check(
                exchange, trader.key, journal, recorder, reported, over_ws
            )
            assert not problems, f"round {round_no}: {problems}"
            reported |= by_restart
