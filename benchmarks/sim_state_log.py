"""Cost per action of the ``--state`` log: pre-signed place + cancel actions through the action
processor, memory-only vs logged to a SQLite state file (WAL, synchronous=NORMAL, one commit per
action before it is answered), the time of a restart that replays the log, and of one snapshot
once the built-in makers have filled the order history to its cap (what a long paper session holds).

No HTTP: the difference between the two runs is the log write alone (pickling the parsed action,
one INSERT, one commit). Usage: ``python benchmarks/sim_state_log.py [--actions 4000]``
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import coincurve

from sim_server import signed_place_cancel
from wingbeat.hyperliquid.signing import address_from_public_key
from wingbeat.sim import LocalExchange
from wingbeat.sim.protocol.rate_limits import RELAXED_RATE_LIMITS


def _bodies(key: str, count: int) -> list[dict[str, Any]]:
    return signed_place_cancel(key, count // 2, time.time_ns() // 1_000_000, 0)


async def _run(state: Path | None, bodies: list[dict[str, Any]], address: str) -> float:
    async with LocalExchange(port=0, liquidity=False, rate_limits=RELAXED_RATE_LIMITS, state=state) as ex:
        await ex.fund(address, Decimal(10_000_000))
        parsed = [ex.actions.parse(b) for b in bodies]
        start = time.perf_counter()
        for p in parsed:
            result = ex.actions.execute(p)  # type: ignore[arg-type]
            assert result.applied
        elapsed = (time.perf_counter() - start) / len(parsed)
        if state is not None:  # the file as a SIGKILL would leave it: every action still in the log
            shutil.copyfile(state, state.with_suffix(".crash"))
            shutil.copyfile(f"{state}-wal", f"{state.with_suffix('.crash')}-wal")
        return elapsed


async def _restart(state: Path) -> tuple[float, int]:
    start = time.perf_counter()
    async with LocalExchange(port=0, liquidity=False, rate_limits=RELAXED_RATE_LIMITS, state=state) as ex:
        assert ex.durable is not None
        return time.perf_counter() - start, ex.durable.replayed


async def _full_history_snapshot(state: Path, steps: int) -> tuple[float, int]:
    async with LocalExchange(port=0, state=state, tick_ms=3_600_000) as ex:
        assert ex.durable is not None and ex.makers is not None
        now = ex.clock.wall()
        for _ in range(steps):  # the makers re-quote (cancel + place) every step
            now += ex.makers.config.refresh_ms
            ex.engine.advance(now)
            ex.makers.step(now)
        start = time.perf_counter()
        ex.durable.snapshot()
        return time.perf_counter() - start, len(ex.engine.history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--maker-steps", type=int, default=3000, help="for the full-history snapshot")
    args = parser.parse_args()
    secret = secrets.token_bytes(32)
    key = "0x" + secret.hex()
    address = address_from_public_key(coincurve.PrivateKey(secret).public_key)
    memory, logged = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            bodies = _bodies(key, args.actions)
            memory.append(asyncio.run(_run(None, bodies, address)))
            bodies = _bodies(key, args.actions)
            logged.append(asyncio.run(_run(Path(tmp) / f"s{r}.sqlite", bodies, address)))
        mem, log = min(memory) * 1e6, min(logged) * 1e6
        print(f"{args.actions} actions (place/cancel by cloid, signature verified), best of {args.rounds}:")
        print(f"  memory only      {mem:8.1f} us/action")
        print(
            f"  --state logged   {log:8.1f} us/action  (+{log - mem:.1f} us, +{(log / mem - 1) * 100:.0f}%)"
        )
        print(
            f"  spread: memory {statistics.pstdev(memory) * 1e6:.1f}, logged {statistics.pstdev(logged) * 1e6:.1f} us"
        )
        restart, replayed = asyncio.run(_restart(Path(tmp) / "s0.sqlite"))
        print(f"  restart after a graceful stop: {restart * 1000:.1f} ms ({replayed} entries replayed)")
        restart, replayed = asyncio.run(_restart(Path(tmp) / "s0.crash"))
        print(f"  restart after a crash: {restart * 1000:.1f} ms ({replayed} entries replayed)")
        full = Path(tmp) / "full.sqlite"
        took, orders = asyncio.run(_full_history_snapshot(full, args.maker_steps))
        size = full.stat().st_size
        print(f"  snapshot with {orders} finished orders: {took * 1000:.0f} ms, file {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
