"""Local exchange HTTP throughput: place + cancel requests per second from concurrent clients.

The server runs in its own process (so the load generator does not share its GIL); clients are
aiohttp sessions posting pre-signed bodies (signing cost stays out of the client side, the server
verifies every signature). Each client loops: place a resting order with a cloid, cancel it by cloid.

The peer, measured in the same run on the same sockets with the same clients, is a bare aiohttp
server that reads the body, decodes it with orjson and answers a fixed JSON: the ceiling set by
aiohttp itself. A cProfile of the local exchange's process then says where server time goes.

Usage: ``python benchmarks/sim_server.py [--clients 4] [--seconds 4] [--no-profile]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing as mp
import pstats
import secrets
import sys
import time
from decimal import Decimal
from typing import Any

import aiohttp
import coincurve
import orjson

from wingbeat.hyperliquid.signing import address_from_public_key, sign_l1_action

_OK = orjson.dumps({"status": "ok", "response": {"type": "default"}})


# --------------------------------------------------------------------------------------------- server side
async def _bare_app(port_q: Any, stop: Any) -> float:
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        orjson.loads(await request.read())
        return web.Response(body=_OK, content_type="application/json")

    app = web.Application()
    app.router.add_post("/exchange", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    cpu = time.process_time()
    port_q.put(runner.addresses[0][1])
    await asyncio.to_thread(stop.wait)
    cpu = time.process_time() - cpu
    await runner.cleanup()
    return cpu


async def _sim_app(port_q: Any, stop: Any, addresses: list[str]) -> float:
    from wingbeat.sim import LocalExchange
    from wingbeat.sim.rate_limits import RELAXED_RATE_LIMITS

    async with LocalExchange(port=0, rate_limits=RELAXED_RATE_LIMITS) as ex:
        for address in addresses:
            await ex.fund(address, Decimal(10_000_000))
        cpu = time.process_time()
        port_q.put(ex.port)
        await asyncio.to_thread(stop.wait)
        return time.process_time() - cpu


def _serve(mode: str, port_q: Any, stop: Any, result_q: Any, addresses: list[str], profile: bool) -> None:
    # CPU time, not wall time: on a busy machine wall time bills whatever syscall was running when
    # the process got descheduled (typically socket send), which says nothing about our code
    profiler = cProfile.Profile(time.process_time) if profile else None
    if profiler is not None:
        profiler.enable()
    if mode == "bare":
        cpu = asyncio.run(_bare_app(port_q, stop))
    else:
        cpu = asyncio.run(_sim_app(port_q, stop, addresses))
    if profiler is not None:
        profiler.disable()
    result_q.put((cpu, None if profiler is None else _summarise(pstats.Stats(profiler))))


def _cumulative(raw: dict[Any, Any], path_end: str, func: str) -> float:
    return sum(v[3] for (f, _line, name), v in raw.items() if f.endswith(path_end) and name == func)


def _summarise(stats: pstats.Stats) -> dict[str, Any]:
    """Inclusive CPU time of our request stages, and what is left for aiohttp/asyncio/sockets."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = 0.0
    functions: list[tuple[float, str]] = []
    for (filename, line, func), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        if "threading.py" in filename or "acquire" in func:
            continue  # the main thread waiting for the stop event, not serving
        total += tottime
        short = filename.split("site-packages/")[-1].split("src/")[-1]
        functions.append((tottime, f"{short}:{line}({func})"))
    functions.sort(reverse=True)
    parse = _cumulative(raw, "sim/actions.py", "parse")
    execute = _cumulative(raw, "sim/actions.py", "execute")
    recover = _cumulative(raw, "hyperliquid/signing.py", "recover_signer")
    apply = _cumulative(raw, "sim/actions.py", "_dispatch")
    stages = {
        "parse + canonical rebuild (actions, wire)": parse,
        "signature recovery (keccak + secp256k1)": recover,
        "engine: apply the action": apply,
        "nonce, expiry and rate-limit checks": max(execute - recover - apply, 0.0),
        "HTTP path: aiohttp, asyncio, sockets, rest": max(total - parse - execute, 0.0),
    }
    return {"totals": stages, "top": functions[:12]}


# --------------------------------------------------------------------------------------------- client side
def _new_key() -> tuple[str, str]:
    secret = secrets.token_bytes(32)
    return "0x" + secret.hex(), address_from_public_key(coincurve.PrivateKey(secret).public_key)


def _bodies(key: str, count: int, start_nonce: int, client: int) -> list[bytes]:
    """Alternating place / cancel-by-cloid bodies, signed in advance."""
    out: list[bytes] = []
    nonce = start_nonce
    for i in range(count):
        cloid = f"0x{client:08x}{i:024x}"
        order = {
            "type": "order",
            "orders": [
                {
                    "a": 0,
                    "b": True,
                    "p": "50000",
                    "s": "0.001",
                    "r": False,
                    "t": {"limit": {"tif": "Gtc"}},
                    "c": cloid,
                }
            ],
            "grouping": "na",
        }
        cancel = {"type": "cancelByCloid", "cancels": [{"asset": 0, "cloid": cloid}]}
        for action in (order, cancel):
            nonce += 1
            sig = sign_l1_action(key, action, None, nonce, None, False)
            envelope = {
                "action": action,
                "nonce": nonce,
                "signature": sig,
                "vaultAddress": None,
                "expiresAfter": None,
            }
            out.append(orjson.dumps(envelope))
    return out


async def _load(port: int, bodies: list[list[bytes]], seconds: float) -> tuple[int, int]:
    url = f"http://127.0.0.1:{port}/exchange"
    deadline = time.perf_counter() + seconds
    errors = 0

    async def client(mine: list[bytes]) -> int:
        nonlocal errors
        done = 0
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:
            headers = {"Content-Type": "application/json"}
            for body in mine:
                if time.perf_counter() >= deadline:
                    break
                async with session.post(url, data=body, headers=headers) as resp:
                    answer = await resp.read()
                    if resp.status != 200 or b'"err"' in answer:
                        errors += 1
                done += 1
        return done

    counts = await asyncio.gather(*(client(b) for b in bodies))
    return sum(counts), errors


def _measure(
    mode: str, bodies: list[list[bytes]], addresses: list[str], seconds: float, profile: bool
) -> tuple[float, float, int, dict[str, Any] | None]:
    """(requests/s, server CPU microseconds per request, errors, profile summary)."""
    ctx = mp.get_context("spawn")
    port_q, result_q = ctx.Queue(), ctx.Queue()
    stop = ctx.Event()
    proc = ctx.Process(target=_serve, args=(mode, port_q, stop, result_q, addresses, profile), daemon=True)
    proc.start()
    try:
        port = port_q.get(timeout=30)
        started = time.perf_counter()
        done, errors = asyncio.run(_load(port, bodies, seconds))
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
    cpu, summary = result_q.get(timeout=60)
    proc.join(timeout=10)
    return done / elapsed, cpu / max(done, 1) * 1e6, errors, summary


def _in_process(bodies: list[bytes], address: str) -> float:
    """Actions per second through ``ActionProcessor`` alone (parse, verify, apply; no HTTP)."""
    from wingbeat.sim.actions import ActionProcessor
    from wingbeat.sim.engine import ExchangeEngine
    from wingbeat.sim.rate_limits import RELAXED_RATE_LIMITS, RateLimiter

    engine = ExchangeEngine()
    engine.fund(address, Decimal(10_000_000))
    clock = lambda: time.time_ns() // 1_000_000  # noqa: E731
    processor = ActionProcessor(engine, RateLimiter(RELAXED_RATE_LIMITS), is_mainnet=False, clock=clock)
    started = time.perf_counter()
    for body in bodies:
        processor.handle(body)
    return len(bodies) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()

    keys = [_new_key() for _ in range(args.clients)]
    per_client = 3000  # place+cancel pairs per client: more than a client can send in the time box
    start_nonce = time.time_ns() // 1_000_000
    print(f"pre-signing {2 * per_client * args.clients} bodies ...", file=sys.stderr)
    signed = time.perf_counter()
    bodies = [_bodies(key, per_client, start_nonce, i) for i, (key, _) in enumerate(keys)]
    sign_rate = 2 * per_client * args.clients / (time.perf_counter() - signed)
    addresses = [address for _, address in keys]

    direct_rps = _in_process(bodies[0][:2000], addresses[0])
    bare_rps, bare_cpu, _, _ = _measure("bare", bodies, addresses, args.seconds, profile=False)
    sim_rps, sim_cpu, sim_errors, _ = _measure("sim", bodies, addresses, args.seconds, profile=False)
    profile = None
    if not args.no_profile:
        _, _, _, profile = _measure("sim", bodies, addresses, min(args.seconds, 3.0), profile=True)

    print()
    print(
        f"Local exchange over loopback: {args.clients} concurrent clients, place + cancel-by-cloid, pre-signed"
    )
    direct_cpu = 1e6 / direct_rps
    print(f"{'server':<44}{'requests/s':>12}{'vs bare':>9}{'server CPU us/req':>19}{'vs bare':>9}")
    rows = [
        ("bare aiohttp (read + orjson + fixed answer)", bare_rps, bare_cpu),
        ("wingbeat LocalExchange (verify + apply)", sim_rps, sim_cpu),
        ("ActionProcessor in-process (no HTTP at all)", direct_rps, direct_cpu),
    ]
    for name, rps, cpu in rows:
        print(f"{name:<44}{rps:>12,.0f}{rps / bare_rps:>8.2f}x{cpu:>19,.0f}{cpu / bare_cpu:>8.2f}x")
    print(
        "(CPU per request is the stable figure on a shared machine: requests/s also depends on what else runs)"
    )
    print(
        f"(client-side signing for the setup ran at {sign_rate:,.0f} signatures/s; errors in sim run: {sim_errors})"
    )
    if profile is not None:
        totals: dict[str, float] = profile["totals"]
        total = sum(totals.values()) or 1.0
        print()
        print("Where the local exchange's process spends CPU time (cProfile, inclusive per stage)")
        print(f"{'stage':<44}{'seconds':>10}{'share':>9}")
        for name, secs in totals.items():
            print(f"{name:<44}{secs:>10.2f}{secs / total:>8.0%}")
        print()
        print("Top functions by own time")
        for secs, where in profile["top"]:
            print(f"  {secs:7.3f}s  {where}")


if __name__ == "__main__":
    main()
