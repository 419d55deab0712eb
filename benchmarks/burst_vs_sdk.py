"""Order bursts and place -> OPEN latency vs the official SDK, the local exchange in its own process.

The local exchange runs as a user runs it, in a child process of its own with ``wingbeat sim``'s
garbage-collector settings (``wingbeat.core.tune_gc``), as a ``LocalExchange`` with its built-in
liquidity off, so only the measured orders reach it, and relaxed rate limits, so a burst of 2,000
orders is not throttled. Both clients meet that same exchange. The official SDK runs in a second child process (its calls are
synchronous: in its own process nothing else shares its interpreter), wingbeat's
``HyperliquidPerpetualConnector`` in this one (actions over the websocket ``post``, a burst sent in
batches while it is placed, 100 orders then each batch twice the one before: its defaults). Rounds
alternate between the two sides (who goes first flips every round) and the table gives medians with
the spread (min-max) of the rounds.

Rows:

* a burst of N resting orders (N = 200 and 2,000): wingbeat, N ``buy()`` calls until every order's OPEN
  event is published; the SDK, ``bulk_orders`` with the same N orders (same asset, side, price, size,
  tif and a cloid each: the same wire orders) until its reply says all N rest. Also the CPU time each
  client and the exchange process spent in the burst (the exchange's time is part of the wall clock);
* place -> OPEN, one order at a time: wingbeat ``buy()`` -> OPEN event; the SDK ``order()`` -> its
  reply (resting).

The exchange stands for a remote venue, which never runs on the client's CPU: it gets a CPU of its own (the last
one this process may use) and both clients the others. Otherwise the OS tends to wake the exchange on the CPU of
the client that just wrote to it, where it preempts the client that is still placing orders (seen in a stamped
timeline: an early send's write returned only after the exchange had matched the whole batch), while the other
CPU idles; ``--no-pin`` measures that too.
Both clients run with the garbage-collector settings wingbeat gives a trading process (``tune_gc`` once set
up, as ``wingbeat run`` does and README advises): the SDK's process gets the same settings, so the two differ
by their code only. ``--python-gc`` measures both with Python's defaults instead (each full collection then
walks the start-up heap again, 14-25 ms on a slow core, one every one or two 2,000-order bursts).
Every round ends by cancelling what it placed (outside the clock), so each burst meets the same book.
Targets (issue 16): each burst no slower than ``bulk_orders``; place -> OPEN p50 at least 3x faster than
``order()``. ``--profile`` adds a cProfile of extra 2,000-order wingbeat bursts, client and exchange.
The machine may be shared: the spread column says how much the rounds differed.

Run: ``.venv/bin/python benchmarks/burst_vs_sdk.py`` (``--quick``: fewer rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import multiprocessing as mp
import os
import pstats
import secrets
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

from wingbeat.core.enums import OrderType
from wingbeat.core.events import EventListener, OrderCreatedEvent
from wingbeat.core.gc_tuning import tune_gc
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer

PAIR, COIN = "BTC-USD", "BTC"
SIZE = Decimal("0.001")
BURSTS = (200, 2_000)
TARGET_BURST_RATIO = 1.0  # the SDK's bulk_orders time over ours: at least this
TARGET_LATENCY_RATIO = 3.0  # the SDK's order() p50 over ours: at least this


def bid(i: int) -> Decimal:
    """The price of the i-th order of a burst: resting bids below the (empty) book, 500 levels."""
    return Decimal(50_000 - (i % 500))


def cloid_of(round_tag: int, i: int) -> str:
    return f"0x{round_tag:016x}{i:016x}"


# ------------------------------------------------------------------------------------ exchange process
def _exchange_main(pipe: Connection, addresses: list[str], cpus: set[int] | None = None) -> None:
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    asyncio.run(_serve_exchange(pipe, addresses))


async def _serve_exchange(pipe: Connection, addresses: list[str]) -> None:
    from wingbeat.sim import LocalExchange
    from wingbeat.sim.protocol.rate_limits import RELAXED_RATE_LIMITS

    async with LocalExchange(port=0, liquidity=False, rate_limits=RELAXED_RATE_LIMITS) as ex:
        # Hyperliquid allows 1,000 open orders per account, more with traded volume: resting 2,000 at
        # once needs the allowance of an account with that volume
        ex.engine.max_open_orders = 2 * max(BURSTS)
        for address in addresses:
            await ex.fund(address, Decimal(10_000_000))
        tune_gc()
        pipe.send(ex.base_url)
        profiler: cProfile.Profile | None = None
        while True:  # commands are handled on the event loop's thread (cProfile profiles that thread)
            command = await asyncio.to_thread(pipe.recv)
            if command == "cpu":
                pipe.send(time.process_time())
            elif command == "profile":  # (re)enable: the windows of several bursts add up
                profiler = profiler or cProfile.Profile(time.process_time)
                profiler.enable()
                pipe.send(None)
            elif command == "profile-pause":
                assert profiler is not None
                profiler.disable()
                pipe.send(None)
            elif command == "profile-report":
                assert profiler is not None
                profiler.disable()
                pipe.send(_top_functions(profiler))
            else:
                pipe.send(None)
                return


# ------------------------------------------------------------------------------------ SDK process
def _sdk_main(pipe: Connection, key: str, base_url: str, tune: bool, cpus: set[int] | None) -> None:
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    from eth_account import Account
    from hyperliquid.exchange import Exchange
    from hyperliquid.utils.types import Cloid

    exchange = Exchange(Account.from_key(key), base_url)
    if tune:  # the same process settings as wingbeat's side
        tune_gc()
    gtc: Any = {"limit": {"tif": "Gtc"}}
    resting: list[int] = []
    pipe.send("ready")
    while True:
        command, count, tag = pipe.recv()
        if command == "burst":
            orders: list[Any] = [
                {
                    "coin": COIN,
                    "is_buy": True,
                    "sz": float(SIZE),
                    "limit_px": float(bid(i)),
                    "order_type": gtc,
                    "reduce_only": False,
                    "cloid": Cloid.from_str(cloid_of(tag, i)),
                }
                for i in range(count)
            ]
            cpu, started = time.process_time(), time.perf_counter()
            reply = exchange.bulk_orders(orders)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            resting = _resting_oids(reply, count)
            pipe.send((wall, cpu))
        elif command == "cancel":
            _sdk_cancel(exchange, resting)
            pipe.send(None)
        elif command == "latency":
            samples, oids = [], []
            for i in range(count):
                started = time.perf_counter()
                reply = exchange.order(
                    COIN, True, float(SIZE), float(bid(i)), gtc, cloid=Cloid.from_str(cloid_of(tag, i))
                )
                samples.append(time.perf_counter() - started)
                oids.extend(_resting_oids(reply, 1))
            _sdk_cancel(exchange, oids)
            pipe.send(samples)
        else:
            return


def _resting_oids(reply: Any, count: int) -> list[int]:
    statuses = reply["response"]["data"]["statuses"]
    if len(statuses) != count or not all("resting" in s for s in statuses):
        raise RuntimeError(f"SDK orders did not all rest: {statuses[:3]}")
    return [s["resting"]["oid"] for s in statuses]


def _sdk_cancel(exchange: Any, oids: list[int]) -> None:
    reply = exchange.bulk_cancel([{"coin": COIN, "oid": oid} for oid in oids])
    if reply.get("status") != "ok":
        raise RuntimeError(f"SDK cancel failed: {reply}")


# ------------------------------------------------------------------------------------ wingbeat (here)
class _Opened(EventListener):
    """Counts OrderCreatedEvents (OPEN); resolves a future per awaited client order id."""

    def __init__(self) -> None:
        self.count = 0
        self.expect = 0
        self.all_done = asyncio.Event()
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def on_order_created(self, event: OrderCreatedEvent) -> None:
        now = time.perf_counter()
        self.count += 1
        if self.expect and self.count >= self.expect:
            self.all_done.set()
        fut = self.waiting.pop(event.client_order_id, None)
        if fut is not None and not fut.done():
            fut.set_result(now)


class Wingbeat:
    def __init__(self, signer: Signer, base_url: str) -> None:
        # relaxed limits on the venue: raise the client's own budget to match (its default is Hyperliquid's)
        config = HyperliquidConfig(dead_man_switch=None, rest_weight_budget=1_000_000)
        self.conn = HyperliquidPerpetualConnector(signer, [PAIR], base_url, config=config)
        self.opened = _Opened()
        self.conn.add_listener(self.opened)

    async def start(self) -> None:
        await self.conn.start()
        await self.conn.wait_ready(15)

    async def burst(self, count: int) -> tuple[float, float]:
        """(wall seconds, client CPU seconds) from the first ``buy()`` to the last OPEN event."""
        conn, opened = self.conn, self.opened
        opened.count, opened.expect = 0, count
        opened.all_done.clear()
        cpu, started = time.process_time(), time.perf_counter()
        for i in range(count):
            conn.buy(PAIR, SIZE, OrderType.LIMIT, bid(i))
        await asyncio.wait_for(opened.all_done.wait(), 60)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        opened.expect = 0
        return wall, cpu

    async def latency(self, count: int) -> list[float]:
        loop = asyncio.get_running_loop()
        samples = []
        for i in range(count):
            fut: asyncio.Future[float] = loop.create_future()
            started = time.perf_counter()
            cid = self.conn.buy(PAIR, SIZE, OrderType.LIMIT, bid(i))
            self.opened.waiting[cid] = fut
            samples.append(await asyncio.wait_for(fut, 10) - started)
        await self.cancel_all()
        return samples

    async def cancel_all(self) -> None:
        results = await self.conn.cancel_all(timeout=30)
        if not all(r.success for r in results):
            raise RuntimeError(f"wingbeat cancel failed: {[r for r in results if not r.success][:3]}")

    async def stop(self) -> None:
        await self.conn.stop()


# ------------------------------------------------------------------------------------ orchestration
class _Peer:
    """A child process answering one command at a time over a pipe."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        ctx = mp.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(child, *args), daemon=True)
        self.process.start()

    async def ask(self, message: Any) -> Any:
        self.pipe.send(message)
        return await asyncio.to_thread(self.pipe.recv)

    async def first(self) -> Any:
        return await asyncio.to_thread(self.pipe.recv)

    def close(self, message: Any) -> None:
        with contextlib.suppress(OSError):  # the child may have died already
            self.pipe.send(message)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


def _cpu_split() -> tuple[set[int] | None, set[int] | None]:
    """(the exchange's CPUs, the clients' CPUs): the last CPU this process may use for the exchange, the others
    for the client under test; (None, None) where affinity cannot be set or only one CPU is there."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return {cpus[-1]}, set(cpus[:-1])


def _top_functions(profiler: cProfile.Profile, limit: int = 25) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit + 15)
    return out.getvalue()


def _spread(values: list[float], scale: float, fmt: str) -> str:
    return f"{min(values) * scale:{fmt}}-{max(values) * scale:{fmt}}"


async def main(args: argparse.Namespace) -> None:
    signer = Signer("0x" + secrets.token_hex(32))  # throwaway keys
    sdk_key = "0x" + secrets.token_hex(32)
    from eth_account import Account

    venue_cpus, client_cpus = _cpu_split() if not args.no_pin else (None, None)
    exchange = _Peer(_exchange_main, [signer.address, Account.from_key(sdk_key).address.lower()], venue_cpus)
    if client_cpus is not None:
        os.sched_setaffinity(0, client_cpus)  # this thread, and the threads it starts from now on
    sdk: _Peer | None = None
    ours: Wingbeat | None = None
    try:
        base_url = await exchange.first()
        sdk = _Peer(_sdk_main, sdk_key, base_url, not args.python_gc, client_cpus)
        ours = Wingbeat(signer, base_url)
        await asyncio.gather(ours.start(), sdk.first())
        if not args.python_gc:
            tune_gc()
        tag = 0

        async def server_cpu() -> float:
            cpu: float = await exchange.ask("cpu")
            return cpu

        # wall / client CPU / server CPU per side per burst size, one value per round
        burst: dict[tuple[str, int], dict[str, list[float]]] = {
            (side, n): {"wall": [], "client": [], "server": []}
            for side in ("wingbeat", "sdk")
            for n in BURSTS
        }
        latency: dict[str, list[float]] = {"wingbeat": [], "sdk": []}
        latency_p50: dict[str, list[float]] = {"wingbeat": [], "sdk": []}
        for round_no in range(args.rounds + 1):  # round 0 warms both sides up and is not counted
            sides = ("wingbeat", "sdk") if round_no % 2 else ("sdk", "wingbeat")
            for n in BURSTS:
                for side in sides:
                    tag += 1
                    before = await server_cpu()
                    if side == "wingbeat":
                        wall, client = await ours.burst(n)
                    else:
                        wall, client = await sdk.ask(("burst", n, tag))
                    server = await server_cpu() - before
                    if side == "wingbeat":  # outside the clock: every burst meets an empty book
                        await ours.cancel_all()
                    else:
                        await sdk.ask(("cancel", 0, 0))
                    if round_no:
                        row = burst[(side, n)]
                        row["wall"].append(wall)
                        row["client"].append(client)
                        row["server"].append(server)
            for side in sides:
                tag += 1
                if side == "wingbeat":
                    samples = await ours.latency(args.latency)
                else:
                    samples = await sdk.ask(("latency", args.latency, tag))
                if round_no:
                    latency[side].extend(samples)
                    latency_p50[side].append(statistics.median(samples))
        if args.profile:
            profiler = cProfile.Profile(time.process_time)
            for _ in range(3):
                await exchange.ask("profile")
                profiler.enable()
                await ours.burst(BURSTS[-1])
                await asyncio.sleep(0.2)  # what arrives after the last OPEN (the echo) is the burst's too
                profiler.disable()
                await exchange.ask("profile-pause")
                await ours.cancel_all()
            server_top = await exchange.ask("profile-report")
    finally:
        if ours is not None:
            await ours.stop()
        if sdk is not None:
            sdk.close(("stop", 0, 0))
        exchange.close("stop")

    gc_note = "Python's garbage-collector defaults" if args.python_gc else "both clients with tune_gc"
    pin_note = "placed by the OS" if args.no_pin or venue_cpus is None else f"the exchange on CPU {min(venue_cpus)}"
    print(
        f"\nBursts of resting orders and place -> OPEN, local exchange in its own process ({pin_note}),"
        f" {args.rounds} alternating rounds, {gc_note} (median, min-max of the rounds; the machine may be shared)"
    )
    head = f"{'measure':<58}{'wingbeat':>22}{'official SDK':>22}{'ratio':>8}   target"
    print(head)
    print("-" * len(head))
    for n in BURSTS:
        w, s = burst[("wingbeat", n)], burst[("sdk", n)]
        ratio = statistics.median(s["wall"]) / statistics.median(w["wall"])
        verdict = "MET" if ratio >= TARGET_BURST_RATIO else "MISSED"
        print(
            f"{f'burst of {n:,}: buy() x{n:,} vs bulk_orders, until all rest (ms)':<58}"
            f"{statistics.median(w['wall']) * 1e3:>10.1f} ({_spread(w['wall'], 1e3, '.1f'):>9})"
            f"{statistics.median(s['wall']) * 1e3:>10.1f} ({_spread(s['wall'], 1e3, '.1f'):>9})"
            f"{ratio:>7.2f}x   no slower than bulk_orders: {verdict}"
        )
        for key, label in (("client", "client"), ("server", "local exchange")):
            print(
                f"{f'  {label} CPU in the burst, per order (us)':<58}"
                f"{statistics.median(w[key]) / n * 1e6:>22.1f}{statistics.median(s[key]) / n * 1e6:>22.1f}"
            )
    w_p50 = statistics.median(latency["wingbeat"])
    s_p50 = statistics.median(latency["sdk"])
    verdict = "MET" if s_p50 / w_p50 >= TARGET_LATENCY_RATIO else "MISSED"
    print(
        f"{'place -> OPEN, one at a time, p50 (ms)':<58}"
        f"{w_p50 * 1e3:>10.3f} ({_spread(latency_p50['wingbeat'], 1e3, '.2f'):>9})"
        f"{s_p50 * 1e3:>10.3f} ({_spread(latency_p50['sdk'], 1e3, '.2f'):>9})"
        f"{s_p50 / w_p50:>7.2f}x   >= {TARGET_LATENCY_RATIO:g}x faster than order(): {verdict}"
    )
    if args.profile:
        print("\nwingbeat client, 3 bursts of 2,000 (cProfile, CPU clock, top by own and by cumulative time)")
        print(_top_functions(profiler))
        print("local exchange process over the same bursts")
        print(server_top)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--latency", type=int, default=100, help="orders per latency round and side")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-pin", action="store_true",
                        help="let the OS place the exchange and the clients (by default the exchange has a CPU of its own)")
    parser.add_argument("--python-gc", action="store_true",
                        help="both clients with Python's garbage-collector defaults (not tune_gc)")
    parsed = parser.parse_args()
    if parsed.rounds is None:
        parsed.rounds = 3 if parsed.quick else 7
    asyncio.run(main(parsed))
