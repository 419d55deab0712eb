"""A restart on the journal: a process places an order and crashes; the next one finds the order.

    python examples/restart_on_journal.py

Every order is written to the journal (SQLite) before its request leaves. Here a child process places a
resting order and dies at once (``os._exit``: no stop, no cancel, no cleanup). A new connector on the
same journal restores the order, reconciles it with the exchange by client order id, and cancels it.
"""

import asyncio
import os
import secrets
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from wingbeat.core import OrderType
from wingbeat.hyperliquid import HyperliquidPerpetualConnector, Signer
from wingbeat.sim import LocalExchange

PAIR = "BTC-USD"


async def place_and_crash(url: str, journal: str) -> None:
    """The first run (a child process): place one resting order, print its id, crash."""
    conn = HyperliquidPerpetualConnector(
        Signer.from_env("HL_PRIVATE_KEY"), [PAIR], network=url, journal_path=journal
    )
    await conn.start()
    await conn.wait_ready(timeout=30)
    bid = conn.get_order_book(PAIR).best_bid
    assert bid is not None
    cid = conn.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, bid * Decimal("0.98"))
    order = conn.get_order(cid)
    assert order is not None
    await asyncio.wait_for(order.wait_until_open(), 10)
    print(cid, flush=True)
    os._exit(1)  # the crash


async def main() -> None:
    async with LocalExchange(port=0) as ex:
        key = "0x" + secrets.token_hex(32)
        signer = Signer(key)
        await ex.fund(signer.account_address, 10_000)
        with tempfile.TemporaryDirectory() as tmp:
            journal = str(Path(tmp) / "orders.db")
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--place-and-crash",
                ex.base_url,
                journal,
                env={**os.environ, "HL_PRIVATE_KEY": key},  # the key never goes on a command line
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await asyncio.wait_for(child.communicate(), 60)
            cid = out.decode().strip()
            print("first run placed", cid, "and crashed with exit code", child.returncode)

            conn = HyperliquidPerpetualConnector(signer, [PAIR], network=ex.base_url, journal_path=journal)
            await conn.start()  # restores unfinished orders from the journal; ready before they are resolved
            try:
                order = conn.get_order(cid)
                assert order is not None, "the journal lost the order"
                print("restored", cid, order.current_state.name)
                await asyncio.wait_for(order.wait_until_open(), 30)  # reconciled with the venue by client id
                print("after restart", cid, order.current_state.name, order.amount, "@", order.price)
                conn.cancel(PAIR, cid)
                print("cancelled:", (await asyncio.wait_for(order.wait_until_done(), 10)).name)
            finally:
                await conn.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--place-and-crash"]:
        asyncio.run(place_and_crash(sys.argv[2], sys.argv[3]))
    else:
        asyncio.run(main())
