"""Positions as a user of the public API sees them: a market order's fill is in ``account_positions`` the
moment the order completes, and a fill another program makes on the account while the fill stream is lost
is corrected to the venue's numbers, with a warning, without waiting for a poll. Also: a connector made
without ``network`` is not on mainnet, and an account that does not exist refuses to start."""

from __future__ import annotations

import asyncio
import logging
import secrets
from decimal import Decimal

import eth_account
import pytest
from hyperliquid.exchange import Exchange

from tests.conftest import Trader
from wingbeat.core import AuthenticationError, OrderCompletedEvent, OrderType
from wingbeat.core.events import EventListener
from wingbeat.hyperliquid import HyperliquidPerpetualConnector, Signer
from wingbeat.hyperliquid.connector import HyperliquidConfig
from wingbeat.sim import LocalExchange


class _Completed(EventListener):
    def __init__(self) -> None:
        self.done: dict[str, asyncio.Event] = {}

    def wait(self, cid: str) -> asyncio.Event:
        return self.done.setdefault(cid, asyncio.Event())

    def on_order_completed(self, event: OrderCompletedEvent) -> None:
        self.wait(event.client_order_id).set()


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "position diverged from the venue" in record.getMessage():
            self.lines.append(record.getMessage())
            self.seen.set()


def _close(a: Decimal, b: Decimal | None) -> bool:
    return b is not None and abs(a - b) <= Decimal("0.000001") * max(abs(b), Decimal(1))


def test_a_connector_made_without_network_is_not_on_mainnet() -> None:
    conn = HyperliquidPerpetualConnector(Signer("0x" + secrets.token_hex(32)), ["BTC-USD"])
    assert "hyperliquid-testnet" in repr(conn) and "api.hyperliquid.xyz" not in repr(conn)


async def test_start_on_an_account_that_does_not_exist_raises_naming_the_address(
    live_exchange: LocalExchange,
) -> None:
    key = "0x" + secrets.token_hex(32)
    signer = Signer(key)
    conn = HyperliquidPerpetualConnector(signer, ["BTC-USD"], network=live_exchange.base_url)
    try:
        with pytest.raises(AuthenticationError, match=f"account {signer.address} does not exist on ") as info:
            await conn.start()
    finally:
        await conn.stop()
    assert key[2:] not in str(info.value)


async def test_fills_move_positions_at_once_and_the_venue_corrects_what_was_missed(
    live_exchange: LocalExchange, funded_account: Trader
) -> None:
    completed = _Completed()
    warnings = _Warnings()
    logging.getLogger("wingbeat").addHandler(warnings)
    # polling a minute away: whatever moves the position here is a fill or the venue's push
    conn = HyperliquidPerpetualConnector(
        Signer(funded_account.key),
        ["BTC-USD"],
        network=live_exchange.base_url,
        config=HyperliquidConfig(account_refresh_interval=60.0),
    )
    conn.add_listener(completed)
    await conn.start()
    try:
        cid = conn.buy("BTC-USD", Decimal("0.01"), OrderType.MARKET)
        await asyncio.wait_for(completed.wait(cid).wait(), 10)
        order = conn.get_order(cid)
        assert order is not None
        opened = conn.account_positions["BTC-USD"]
        assert opened.amount == Decimal("0.01") and _close(opened.entry_price, order.average_executed_price)

        cid = conn.sell("BTC-USD", Decimal("0.004"), OrderType.MARKET)
        await asyncio.wait_for(completed.wait(cid).wait(), 10)
        sold = conn.get_order(cid)
        assert sold is not None and sold.average_executed_price is not None
        reduced = conn.account_positions["BTC-USD"]
        assert reduced.amount == Decimal("0.006") and reduced.entry_price == opened.entry_price
        expected = (sold.average_executed_price - opened.entry_price) * Decimal("0.004")
        assert _close(reduced.realized_pnl, expected)  # the venue books it rounded to its USD places

        for channel in ("userFills", "user"):  # the fill news of the next trade is lost on the way
            live_exchange.faults.silence(channel)
        other = await asyncio.to_thread(
            Exchange, eth_account.Account.from_key(funded_account.key), live_exchange.base_url
        )
        answer = await asyncio.to_thread(other.market_open, "BTC", True, 0.002)
        assert answer["status"] == "ok", answer
        await asyncio.wait_for(warnings.seen.wait(), 10)
        venue = live_exchange.engine.accounts[funded_account.address]
        assert conn.account_positions["BTC-USD"].amount == Decimal("0.008") == venue.szi(0)
        assert "BTC-USD: ours 0.006" in warnings.lines[0] and "the venue's 0.008" in warnings.lines[0]
    finally:
        logging.getLogger("wingbeat").removeHandler(warnings)
        await conn.stop()
