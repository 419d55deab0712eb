"""Instruction and cache-miss counts of one cancel, for callgrind (the cancel row of sim_matching.py).

The same flow as ``sim_matching.run_cancels`` (``RESTING`` orders over 100 price levels a side,
four makers, one random order canceled per action and placed again untimed), but each cancel is
made through ``operator.call``, so that callgrind can count the cancels alone:

    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=_operator_call \\
        --cache-sim=yes --D1=32768,8,64 --LL=1048576,16,64 \\
        .venv/bin/python benchmarks/sim_cancel_probe.py 10000 2000

(``--LL`` set to this machine's per-core L2, so that the misses counted are those that go to L3.)
Divide callgrind's "Collected" counts by the number of cancels. Instruction counts are repeatable;
the printed time is not (callgrind runs the program about 50x slower).

Run: ``.venv/bin/python benchmarks/sim_cancel_probe.py RESTING CANCELS [none|one client]``
"""

from __future__ import annotations

import operator
import random
import sys
import time

from sim_matching import RestingBook


def probe(resting: int, cancels: int, kind: str) -> float:
    """CPU seconds per cancel, each cancel made through ``operator.call`` (callgrind's toggle)."""
    rng = random.Random(7)
    book = RestingBook(resting, kind)
    engine, sink, live, rest = book.engine, book.sink, book.live, book.rest
    cancel, call = engine.cancel, operator.call
    elapsed = 0.0
    for _ in range(cancels):
        i = rng.randrange(len(live))
        live[i], live[-1] = live[-1], live[i]
        user, req, oid = live.pop()
        start = time.process_time()
        call(cancel, user, [(0, oid)])
        elapsed += time.process_time() - start
        rest(user, req)
        sink.clear()
    return elapsed / cancels


def main() -> None:
    if len(sys.argv) < 3 or not sys.argv[1].isdigit() or not sys.argv[2].isdigit():
        sys.exit("usage: sim_cancel_probe.py RESTING CANCELS [none|one client]")
    kind = sys.argv[3] if len(sys.argv) > 3 else "none"
    if kind not in ("none", "one client"):
        sys.exit(f"unknown subscriber kind {kind!r}: none or 'one client'")
    cost = probe(int(sys.argv[1]), int(sys.argv[2]), kind)
    print(f"{sys.argv[1]} resting, events {kind}: {cost * 1e6:.2f} us per cancel")


if __name__ == "__main__":
    main()
