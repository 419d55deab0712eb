"""Builder codes on the connector's orders, against the local exchange: the config is checked, an order whose
builder fee the account has not approved fails locally with how to approve (nothing sent), and once approved
every order action carries {"b", "f"}."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from tests.connector.harness import PAIR, LocalExchangeHarness, new_signer
from wingbeat.core.enums import OrderType
from wingbeat.core.events import EventListener, OrderFailedEvent
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector

WAIT = 10.0


class Failures(EventListener):
    def __init__(self) -> None:
        self.events: list[OrderFailedEvent] = []

    def on_order_failed(self, event: OrderFailedEvent) -> None:
        self.events.append(event)


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"builder_fee": 10}, "needs builder_address"),
        ({"builder_address": "0x12", "builder_fee": 10}, "40 hex digits"),
        ({"builder_address": "ab" * 32, "builder_fee": 10}, "looks like a private key \\(not shown\\)"),
        ({"builder_address": "0x" + "ab" * 20}, "1 to 1000"),
        ({"builder_address": "0x" + "ab" * 20, "builder_fee": 1001}, "1 to 1000"),
        ({"builder_address": "0x" + "ab" * 20, "builder_fee": 1.5}, "must be an integer"),
        ({"vault_address": "0x" + "ab" * 32}, "vault_address .* looks like a private key \\(not shown\\)"),
    ],
)
def test_builder_and_vault_addresses_are_checked(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle) as info:
        HyperliquidConfig(**options)
    assert "ab" * 32 not in str(info.value)


def test_a_perp_connector_refuses_a_builder_fee_above_the_perp_cap() -> None:
    config = HyperliquidConfig(builder_address="0x" + "ab" * 20, builder_fee=101)  # fine for spot (1 %)
    with pytest.raises(ValueError, match="above 100 tenths of a basis point"):
        HyperliquidPerpetualConnector(new_signer(), [PAIR], "http://127.0.0.1:1", config=config)


async def test_unapproved_builder_fee_fails_locally_then_orders_carry_the_builder(
    harness: LocalExchangeHarness, make_connector: Any
) -> None:
    builder = new_signer().address
    config = HyperliquidConfig(dead_man_switch=None, builder_address=builder, builder_fee=10)
    conn: HyperliquidPerpetualConnector = make_connector(config=config)
    failures = Failures()
    conn.add_listener(failures)
    engine = harness.exchange.engine
    price = (harness.reference_price * Decimal("0.9")).quantize(Decimal(1))
    await conn.start()
    try:
        await conn.wait_ready(WAIT)
        sent_before = conn.actions_sent
        cid = conn.buy(PAIR, harness.order_size, OrderType.LIMIT, price)
        assert await asyncio.wait_for(conn.get_order(cid).wait_until_done(), WAIT) is OrderState.FAILED
        assert conn.actions_sent == sent_before  # nothing sent
        [event] = failures.events
        assert f"wingbeat approve-builder-fee {builder} 10" in event.reason
        assert "approve_builder_fee" in event.reason and "approved no fee" in event.reason
        assert not engine.accounts[harness.user].open_orders

        await conn.account_actions.approve_builder_fee(builder, 5)  # too little still
        assert await conn.refresh_builder_fee() == 5
        cid = conn.buy(PAIR, harness.order_size, OrderType.LIMIT, price)
        assert await asyncio.wait_for(conn.get_order(cid).wait_until_done(), WAIT) is OrderState.FAILED
        assert "approved at most 5" in failures.events[-1].reason

        await conn.account_actions.approve_builder_fee(builder, 10)
        assert await conn.refresh_builder_fee() == 10
        cid = conn.buy(PAIR, harness.order_size, OrderType.LIMIT, price)
        assert await asyncio.wait_for(conn.get_order(cid).wait_until_open(), WAIT) is OrderState.OPEN
        [resting] = engine.accounts[harness.user].open_orders.values()
        assert resting.cloid == cid and resting.builder == (builder, 10)
    finally:
        await conn.stop()


async def test_a_revoked_approval_is_refused_by_the_venue_even_at_zero_fee(
    harness: LocalExchangeHarness,
) -> None:
    from wingbeat.sim.venue.types import EngineError, OrderRequest

    engine = harness.exchange.engine
    builder = new_signer().address
    asset = engine.asset_index("BTC")
    assert asset is not None
    order = OrderRequest(asset=asset, is_buy=True, price=Decimal(1000), size=Decimal("0.01"), reduce_only=False,
                         tif="Gtc")  # fmt: skip
    engine.accounts[harness.user].builder_fees[builder] = 0  # approved "0%": a revocation
    with pytest.raises(EngineError, match="Builder fee has not been approved"):
        engine.place_orders(harness.user, [order], builder=(builder, 0))
    engine.accounts[harness.user].builder_fees[builder] = 1000
    with pytest.raises(EngineError, match="perp maximum of 100"):
        engine.place_orders(harness.user, [order], builder=(builder, 101))
