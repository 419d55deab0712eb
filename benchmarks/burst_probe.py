"""Instructions per order of wingbeat's side of a burst, for callgrind (the burst rows of burst_vs_sdk.py).

Timings of a burst swing by 2x on a shared machine; instruction counts repeat within about 0.5%. This runs
``BURSTS`` bursts of ``SIZE`` resting orders (``buy()`` until every order is OPEN, as ``burst_vs_sdk.py``
does, the answers read back) against the local exchange in its own process, which callgrind does not trace.
A burst's asynchronous work spans many loop turns, so instead of toggling collection, run it twice and
subtract, one burst apart:

    for n in 1 2; do valgrind --tool=callgrind --trace-children=no --callgrind-out-file=/tmp/burst.$n \\
        .venv/bin/python benchmarks/burst_probe.py $n 2000 2>&1 | grep refs; done

(refs of 2 minus refs of 1) / 2,000 is the client's instructions per order (start-up and stop cancel out).
The orders are not cancelled between bursts (each meets the book the one before left), so keep
BURSTS x SIZE within the exchange's 4,000 open orders.

Run: ``.venv/bin/python benchmarks/burst_probe.py BURSTS SIZE``
"""

from __future__ import annotations

import asyncio
import sys

from burst_vs_sdk import Wingbeat, _exchange_main, _Peer
from wingbeat.core.gc_tuning import tune_gc
from wingbeat.hyperliquid.signer import Signer


async def main(bursts: int, size: int) -> None:
    signer = Signer("0x" + "11" * 32)  # a throwaway key: the same account each run, the same work
    exchange = _Peer(_exchange_main, [signer.address])
    try:
        ours = Wingbeat(signer, await exchange.first())
        await ours.start()
        tune_gc()  # as burst_vs_sdk.py runs both clients
        for _ in range(bursts):
            wall, cpu = await ours.burst(size)
            await asyncio.sleep(1.0)  # the answers arrive after the last OPEN: they belong to the burst
            print(f"burst of {size:,}: {wall * 1e3:.1f} ms, client CPU {cpu / size * 1e6:.1f} us per order")
        await ours.stop()
    finally:
        exchange.close("stop")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
