"""Helpers for engine tests on the local exchange: a second account that makes the book, a started
connector for the trader, and the exchange's own view of open orders (over HTTP, as a user would)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import aiohttp

from tests.conftest import TRADER_FUNDS, Trader, limit_order_action, new_trader, signed_body
from wingbeat.core.events import EventListener

if TYPE_CHECKING:
    from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector
    from wingbeat.sim import LocalExchange

BTC = 0  # asset index of BTC on the local exchange


async def post(ex: LocalExchange, path: str, body: dict[str, Any]) -> Any:
    """POST a JSON body to the exchange and return the decoded answer."""
    async with aiohttp.ClientSession() as s, s.post(f"{ex.base_url}{path}", json=body) as resp:
        return await resp.json(content_type=None)


async def place(ex: LocalExchange, who: Trader, *, is_buy: bool, price: str, size: str, tif: str = "Gtc") -> Any:
    """Place one BTC limit order for ``who``; returns the exchange's status of it."""
    reply = await post(ex, "/exchange", signed_body(who.key, limit_order_action(
        BTC, is_buy=is_buy, price=price, size=size, tif=tif)))
    assert reply["status"] == "ok", reply
    return reply["response"]["data"]["statuses"][0]


def other_program(ex: LocalExchange, account: Trader) -> Trader:
    """Another program trading ``account`` while a connector of this test does: its own API wallet (an agent
    approved for the account), as Hyperliquid advises for every process that signs. Nonces are kept per signer,
    so two programs signing with one key may pick the same millisecond and one of them is refused."""
    agent = new_trader()
    ex.engine.approve_agent(account.address, agent.address, "other program")
    return agent


async def exchange_open_orders(ex: LocalExchange, address: str) -> list[dict[str, Any]]:
    """The account's open orders as the exchange reports them."""
    orders = await post(ex, "/info", {"type": "openOrders", "user": address})
    assert isinstance(orders, list)
    return orders


async def make_book(ex: LocalExchange, bid: str = "59990", ask: str = "60010", size: str = "1") -> Trader:
    """A funded second account resting one bid and one ask on BTC; returns it (to trade more later)."""
    maker = new_trader()
    await ex.fund(maker.address, TRADER_FUNDS)
    await place(ex, maker, is_buy=True, price=bid, size=size)
    await place(ex, maker, is_buy=False, price=ask, size=size)
    return maker


class Pulse(EventListener):
    """Sets ``changed`` on every connector event, so a test can re-check a condition exactly then."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()

    def _any(self, event: object) -> None:
        self.changed.set()

    on_order_created = on_order_filled = on_order_partially_filled = on_order_completed = _any
    on_order_cancelled = on_order_failed = on_order_expired = on_funding_payment = on_position_liquidated = _any
    on_order_modified = on_order_modify_failed = _any


async def wait_until(predicate: Callable[[], bool], pulse: Pulse, limit: float = 10.0) -> None:
    """Wait until ``predicate()`` holds, re-checking after each connector event; fail after ``limit`` s."""
    async with asyncio.timeout(limit):
        while not predicate():
            pulse.changed.clear()
            await pulse.changed.wait()


async def wait_book(conn: HyperliquidPerpetualConnector, predicate: Callable[[], bool], limit: float = 10.0) -> None:
    """Wait until ``predicate()`` holds, re-checking after each BTC-USD book update."""
    async with asyncio.timeout(limit):
        while not predicate():
            await conn.order_book_tracker.wait_for_update("BTC-USD")


@asynccontextmanager
async def connector_for(ex: LocalExchange, trader: Trader) -> AsyncIterator[HyperliquidPerpetualConnector]:
    """A started connector trading ``trader``'s account on ``ex`` (memory journal)."""
    from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector
    from wingbeat.hyperliquid.signer import Signer

    conn = HyperliquidPerpetualConnector(Signer(trader.key), ["BTC-USD"], network=ex.base_url, journal_path=None)
    await conn.start()
    try:
        await conn.wait_ready(15)
        book = conn.get_order_book("BTC-USD")
        await wait_book(conn, lambda: book.best_bid is not None and book.best_ask is not None)
        yield conn
    finally:
        await conn.stop()

