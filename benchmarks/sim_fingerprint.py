"""A sha256 over everything the local exchange's engine says during seeded flows: every status,
every event (with its payload) and the ``/info`` answers after each flow.

A guard for performance work on the venue: the digest printed before and after a change must be
identical (behaviour unchanged). Flows mix resting and crossing GTC, IOC and ALO orders, cloids,
reduce-only orders, TP/SL triggers (alone and in normalTpsl brackets), modifies, cancels by oid
and cloid, oracle moves, funding, liquidations and leverage changes, on two markets.

Run: ``.venv/bin/python benchmarks/sim_fingerprint.py [--seeds N] [--actions N]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from decimal import Decimal
from typing import Any

from wingbeat.sim.protocol.info import InfoError, handle_info
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import EngineError, EngineEvent, OrderRequest, TriggerSpec

USERS = [f"0x{0xC000 + i:040x}" for i in range(5)]
T0 = 1_700_000_000_000
PRICES = {0: 60000, 1: 3000}  # BTC, ETH (the default markets' start prices)


def _event_json(event: EngineEvent) -> Any:
    return [type(event).__name__, {name: getattr(event, name) for name in type(event).__match_args__}]


def _order(rng: random.Random, asset: int, user_cloids: set[str]) -> OrderRequest:
    mid = PRICES[asset]
    is_buy = rng.random() < 0.5
    step = 1 if asset == 0 else Decimal("0.1")
    kind = rng.random()
    sz = Decimal(rng.randint(1, 30)) / (100 if asset == 0 else 10)
    cloid = None
    if rng.random() < 0.3:
        cloid = f"0x{rng.getrandbits(128):032x}"
        if user_cloids and rng.random() < 0.1:
            cloid = rng.choice(sorted(user_cloids))  # a duplicate
        user_cloids.add(cloid)
    reduce_only = rng.random() < 0.08
    if kind < 0.45:
        off = rng.randint(1, 40) * step
        px = Decimal(mid) - off if is_buy else Decimal(mid) + off
        return OrderRequest(asset, is_buy, px, sz, reduce_only, "Gtc", cloid=cloid)
    if kind < 0.75:
        px = Decimal(mid) + 60 * step if is_buy else Decimal(mid) - 60 * step
        return OrderRequest(asset, is_buy, px, sz * 2, reduce_only, "Ioc", cloid=cloid)
    if kind < 0.85:
        off = rng.randint(-5, 20) * step
        px = Decimal(mid) - off if is_buy else Decimal(mid) + off
        return OrderRequest(asset, is_buy, px, sz, reduce_only, "Alo", cloid=cloid)
    tpsl = rng.choice(["tp", "sl"])
    trig = Decimal(mid) + rng.randint(-30, 30) * step
    spec = TriggerSpec(rng.random() < 0.5, trig, tpsl)  # type: ignore[arg-type]
    return OrderRequest(asset, is_buy, trig, sz, rng.random() < 0.5, None, spec, cloid)


def run_flow(seed: int, actions: int, digest: Any) -> None:
    """Run one seeded flow, feeding every status, event and final info answer into ``digest``."""
    rng = random.Random(seed)
    clock = [T0]
    engine = ExchangeEngine(clock=lambda: clock[0], seed=seed)
    out: list[Any] = []
    # events are kept and read only when the flow is over: a payload must not depend on when it is read
    engine.subscribe(out.append)
    for user in USERS:
        engine.fund(user, Decimal(rng.choice([500, 5_000, 1_000_000])))
    cloids: dict[str, set[str]] = {u: set() for u in USERS}

    def call(name: str, *args: Any) -> None:
        try:
            out.append([name, getattr(engine, name)(*args)])
        except EngineError as exc:
            out.append([name, "EngineError", exc.message])

    for _ in range(actions):
        clock[0] += rng.randint(0, 3000)
        user = rng.choice(USERS)
        asset = rng.choice([0, 0, 1])
        r = rng.random()
        open_orders = list(engine.accounts[user].open_orders.values())
        if r < 0.55:
            call("place_orders", user, [_order(rng, asset, cloids[user]) for _ in range(rng.randint(1, 3))])
        elif r < 0.62:
            mid = Decimal(PRICES[asset])
            is_buy = rng.random() < 0.5
            step = 1 if asset == 0 else Decimal("0.1")
            parent = OrderRequest(
                asset, is_buy, mid + (5 if is_buy else -5) * step, Decimal("0.05"), False, "Gtc"
            )
            tp_px = mid + (100 if is_buy else -100) * step
            sl_px = mid - (100 if is_buy else -100) * step
            tp = OrderRequest(
                asset, not is_buy, tp_px, Decimal("0.05"), True, None, TriggerSpec(True, tp_px, "tp")
            )
            sl = OrderRequest(
                asset, not is_buy, sl_px, Decimal("0.05"), True, None, TriggerSpec(False, sl_px, "sl")
            )
            call("place_orders", user, [parent, tp, sl], "normalTpsl")
        elif r < 0.75 and open_orders:
            picks = rng.sample(open_orders, min(len(open_orders), rng.randint(1, 3)))
            call("cancel", user, [(o.asset, o.oid) for o in picks] + [(asset, 42)])
        elif r < 0.8 and cloids[user]:
            call("cancel_by_cloid", user, [(asset, c) for c in rng.sample(sorted(cloids[user]), 1)])
        elif r < 0.86 and open_orders:
            o = rng.choice(open_orders)
            call("batch_modify", user, [(o.oid, _order(rng, o.asset, cloids[user]))])
        elif r < 0.92:
            coin = "BTC" if asset == 0 else "ETH"
            PRICES[asset] = PRICES[asset] + rng.randint(-40, 40)
            call("set_oracle_price", coin, Decimal(PRICES[asset]))
        elif r < 0.96:
            clock[0] += rng.randint(0, 1_000_000)
            call("advance")
        else:
            call("update_leverage", user, asset, rng.random() < 0.7, rng.randint(1, 40))
    bodies: list[dict[str, Any]] = [{"type": "allMids"}, {"type": "metaAndAssetCtxs"}]
    for coin in ("BTC", "ETH"):
        bodies += [{"type": "l2Book", "coin": coin}, {"type": "l2Book", "coin": coin, "nSigFigs": 3}]
    for user in USERS:
        for kind in (
            "clearinghouseState",
            "openOrders",
            "frontendOpenOrders",
            "userFills",
            "historicalOrders",
        ):
            bodies.append({"type": kind, "user": user})
        bodies.append({"type": "userFunding", "user": user, "startTime": 0})
    for oid in range(engine.new_oid() - 60, engine.new_oid()):
        bodies.append({"type": "orderStatus", "user": USERS[oid % len(USERS)], "oid": oid})
    for body in bodies:
        try:
            out.append([body, handle_info(engine, body)])
        except InfoError as exc:
            out.append([body, "InfoError", str(exc)])
    for item in out:
        if not isinstance(item, list):
            item = _event_json(item)
        digest.update(json.dumps(item, default=str).encode())
        digest.update(b"\n")


def fingerprint(seeds: int, actions: int) -> str:
    """The sha256 hex digest over ``seeds`` flows of ``actions`` actions each."""
    digest = hashlib.sha256()
    for seed in range(seeds):
        PRICES.update({0: 60000, 1: 3000})
        run_flow(seed, actions, digest)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--actions", type=int, default=3000)
    args = parser.parse_args()
    print(fingerprint(args.seeds, args.actions))


if __name__ == "__main__":
    main()
