"""HyperliquidUserStreamDataSource end to end against the local exchange, plus the status mapping."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal

import orjson
import pytest

from tests.chaos.fuzz_seeds import parsers, random_mutation
from wingbeat.core.events import FundingPaymentEvent, PositionLiquidatedEvent
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderOpened, OrderUpdate, TradeUpdate
from wingbeat.core.ws_client import WebSocketConfig
from wingbeat.hyperliquid.schemas import MalformedMessageError, parse_fill, parse_order_with_status
from wingbeat.hyperliquid.schemas_ws import parse_order_updates
from wingbeat.hyperliquid.user_stream_data_source import (
    HyperliquidUserStreamDataSource,
    fill_to_trade_update,
    order_state_from_status,
    order_update_from_status,
    order_updates_from_payload,
)
from wingbeat.hyperliquid.ws import HyperliquidWebSocket
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

MAKER = "0x" + "a1" * 20
TAKER = "0x" + "b2" * 20
CLOID = "0x" + "0f" * 16
FAST = WebSocketConfig(heartbeat_interval=5.0, stale_timeout=10.0, backoff_initial=0.01, backoff_max=0.05)


class RecordingListener:
    """The listener side of the contract (the connector in production), recording every call."""

    def __init__(self) -> None:
        self.orders: list[OrderUpdate] = []
        self.trades: list[TradeUpdate] = []
        self.funding: list[FundingPaymentEvent] = []
        self.liquidations: list[PositionLiquidatedEvent] = []
        self.reconnects = 0
        self._changed = asyncio.Event()

    def on_order_updates(self, updates: Sequence[OrderUpdate]) -> None:
        self.orders.extend(updates)
        self._changed.set()

    def on_trade_updates(self, updates: Sequence[TradeUpdate]) -> None:
        self.trades.extend(updates)
        self._changed.set()

    def on_funding_payments(self, payments: Sequence[FundingPaymentEvent]) -> None:
        self.funding.extend(payments)
        self._changed.set()

    def on_liquidation(self, liquidation: PositionLiquidatedEvent) -> None:
        self.liquidations.append(liquidation)
        self._changed.set()

    def on_reconnected(self) -> None:
        self.reconnects += 1
        self._changed.set()

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(funding_interval_ms=300, liquidity=False) as ex:
        await ex.fund(MAKER)
        await ex.fund(TAKER)
        yield ex


@pytest.fixture
async def stream(
    exchange: LocalExchange,
) -> AsyncIterator[tuple[HyperliquidUserStreamDataSource, RecordingListener]]:
    ws = HyperliquidWebSocket(exchange.ws_url, config=FAST)
    source = HyperliquidUserStreamDataSource(ws, MAKER.upper().replace("0X", "0x"), owns_ws=True)
    listener = RecordingListener()
    await source.start(listener)
    await ws.wait_connected(5.0)
    await ws.post_info({"type": "allMids"})  # the subscriptions are in place once this is answered
    yield source, listener
    await source.stop()


def place(
    exchange: LocalExchange,
    user: str,
    is_buy: bool,
    px: str,
    sz: str,
    tif: str = "Gtc",
    cloid: str | None = None,
) -> None:
    request = OrderRequest(0, is_buy, Decimal(px), Decimal(sz), False, tif, cloid=cloid)  # type: ignore[arg-type]
    exchange.engine.place_orders(user, [request])


async def test_resting_then_filled_order_with_cloid(
    exchange: LocalExchange, stream: tuple[HyperliquidUserStreamDataSource, RecordingListener]
) -> None:
    _, listener = stream
    place(exchange, MAKER, True, "50000", "0.1", cloid=CLOID)
    await listener.wait_until(lambda: any(u.new_state is OrderState.OPEN for u in listener.orders))
    opened = listener.orders[0]
    assert opened.client_order_id == CLOID and opened.trading_pair == "BTC-USD" and opened.exchange_order_id
    place(exchange, TAKER, False, "50000", "0.1", tif="Ioc")
    await listener.wait_until(lambda: any(u.new_state is OrderState.FILLED for u in listener.orders))
    await listener.wait_until(lambda: bool(listener.trades))
    trade = listener.trades[0]
    assert trade.client_order_id == CLOID and trade.exchange_order_id == opened.exchange_order_id
    assert trade.fill_price == Decimal("50000") and trade.fill_base_amount == Decimal("0.1")
    assert trade.fill_quote_amount == Decimal("5000") and not trade.is_taker and trade.fee_asset == "USDC"
    assert trade.trade_id.isdigit()
    # the same fill comes on userFills and userEvents: same trade id, counted once by the tracker
    await listener.wait_until(lambda: len(listener.trades) >= 2)
    assert {t.trade_id for t in listener.trades} == {trade.trade_id}


async def test_order_without_cloid_is_delivered_with_its_exchange_id(
    exchange: LocalExchange, stream: tuple[HyperliquidUserStreamDataSource, RecordingListener]
) -> None:
    _, listener = stream
    place(exchange, MAKER, True, "50000", "0.1")
    await listener.wait_until(lambda: bool(listener.orders))
    assert listener.orders[0].client_order_id == "" and listener.orders[0].exchange_order_id is not None


async def test_canceled_order_maps_to_canceled(
    exchange: LocalExchange, stream: tuple[HyperliquidUserStreamDataSource, RecordingListener]
) -> None:
    _, listener = stream
    place(exchange, MAKER, True, "50000", "0.1", cloid=CLOID)
    await listener.wait_until(lambda: bool(listener.orders))
    exchange.engine.cancel_by_cloid(MAKER, [(0, CLOID)])
    await listener.wait_until(lambda: any(u.new_state is OrderState.CANCELED for u in listener.orders))
    assert listener.orders[-1].client_order_id == CLOID and listener.orders[-1].reason == "canceled"


async def test_funding_payment_on_an_open_position(
    exchange: LocalExchange, stream: tuple[HyperliquidUserStreamDataSource, RecordingListener]
) -> None:
    _, listener = stream
    place(exchange, TAKER, False, "60000", "0.1")
    place(exchange, MAKER, True, "60000", "0.1", tif="Ioc")
    await listener.wait_until(lambda: bool(listener.funding))
    payment = listener.funding[0]
    assert payment.trading_pair == "BTC-USD" and payment.position_size == Decimal("0.1")


async def test_reconnect_notifies_the_listener_and_replays_the_fills_snapshot(
    exchange: LocalExchange, stream: tuple[HyperliquidUserStreamDataSource, RecordingListener]
) -> None:
    _, listener = stream
    place(exchange, MAKER, True, "50000", "0.1", cloid=CLOID)
    place(exchange, TAKER, False, "50000", "0.1", tif="Ioc")
    await listener.wait_until(lambda: bool(listener.trades))
    exchange.faults.drop_websockets()
    await listener.wait_until(lambda: listener.reconnects == 1)
    seen = len(listener.trades)
    await listener.wait_until(lambda: len(listener.trades) > seen)  # userFills snapshot after resubscribe
    assert {t.trade_id for t in listener.trades} == {listener.trades[0].trade_id}


# --- pure mapping ---------------------------------------------------------------------------

ALL_STATUSES = {
    "open": OrderState.OPEN,
    "triggered": OrderState.OPEN,
    "filled": OrderState.FILLED,
    "canceled": OrderState.CANCELED,
    "rejected": OrderState.FAILED,
    "scheduledCancel": OrderState.CANCELED,
    "marginCanceled": OrderState.CANCELED,
    "vaultWithdrawalCanceled": OrderState.CANCELED,
    "openInterestCapCanceled": OrderState.CANCELED,
    "selfTradeCanceled": OrderState.CANCELED,
    "reduceOnlyCanceled": OrderState.CANCELED,
    "siblingFilledCanceled": OrderState.CANCELED,
    "delistedCanceled": OrderState.CANCELED,
    "liquidatedCanceled": OrderState.CANCELED,
    "tickRejected": OrderState.FAILED,
    "minTradeNtlRejected": OrderState.FAILED,
    "perpMarginRejected": OrderState.FAILED,
    "reduceOnlyRejected": OrderState.FAILED,
    "badAloPxRejected": OrderState.FAILED,
    "iocCancelRejected": OrderState.FAILED,
    "badTriggerPxRejected": OrderState.FAILED,
    "marketOrderNoLiquidityRejected": OrderState.FAILED,
    "positionIncreaseAtOpenInterestCapRejected": OrderState.FAILED,
    "positionFlipAtOpenInterestCapRejected": OrderState.FAILED,
    "tooAggressiveAtOpenInterestCapRejected": OrderState.FAILED,
    "openInterestIncreaseRejected": OrderState.FAILED,
    "insufficientSpotBalanceRejected": OrderState.FAILED,
    "oracleRejected": OrderState.FAILED,
    "perpMaxPositionRejected": OrderState.FAILED,
}


@pytest.mark.parametrize(("status", "state"), sorted(ALL_STATUSES.items()))
def test_every_documented_status_maps_to_a_core_state(status: str, state: OrderState) -> None:
    assert order_state_from_status(status) is state


def test_unknown_status_is_not_guessed() -> None:
    assert order_state_from_status("somethingNew") is None
    entry = parse_order_with_status(
        {
            "order": {"coin": "ETH", "side": "B", "limitPx": "1", "sz": "1", "oid": 3, "timestamp": 1},
            "status": "somethingNew",
            "statusTimestamp": 2,
        }
    )
    assert order_update_from_status(entry) is None


def test_fill_without_tid_gets_a_stable_fallback_trade_id() -> None:
    raw = {
        "coin": "BTC", "px": "1", "sz": "2", "side": "B", "time": 1000, "startPosition": "0", "dir": "Open Long",
        "closedPnl": "0", "hash": "0xabc", "oid": 9, "crossed": True, "fee": "0.1",
    }  # fmt: skip
    update = fill_to_trade_update(parse_fill(raw))
    assert update.trade_id == fill_to_trade_update(parse_fill(dict(raw))).trade_id
    assert "0xabc" in update.trade_id and update.client_order_id == "" and update.exchange_order_id == "9"
    assert update.fill_timestamp == 1.0 and update.is_taker


async def test_liquidation_and_exchange_cancels_from_user_events() -> None:
    # No socket: frames are injected where the websocket hands them to the router (the sim cannot be
    # made to liquidate on demand here; the conformance suite covers a real liquidation).
    ws = HyperliquidWebSocket("ws://127.0.0.1:1/ws")
    source = HyperliquidUserStreamDataSource(ws, MAKER, clock=lambda: 123.0)
    listener = RecordingListener()
    await source.start(listener)
    liquidation = {
        "lid": 7,
        "liquidator": TAKER,
        "liquidated_user": MAKER,
        "liquidated_ntl_pos": "1500.5",
        "liquidated_account_value": "12.25",
    }
    ws._on_message(orjson.dumps({"channel": "user", "data": {"liquidation": liquidation}}))
    ws._on_message(orjson.dumps({"channel": "user", "data": {"nonUserCancel": [{"coin": "ETH", "oid": 77}]}}))
    (event,) = listener.liquidations
    assert (
        event.notional == Decimal("1500.5")
        and event.account_value == Decimal("12.25")
        and event.timestamp == 123.0
    )
    (cancel,) = listener.orders
    assert cancel.new_state is OrderState.CANCELED and cancel.exchange_order_id == "77"
    assert cancel.trading_pair == "ETH-USD" and cancel.client_order_id == ""
    await source.stop()


def _full_decode(raw: object) -> list[OrderUpdate] | str:
    """The reference: the typed decoder, then the status mapping (unknown statuses left out)."""
    try:
        entries = parse_order_updates(raw)
    except MalformedMessageError as exc:
        return str(exc)
    return [u for u in (order_update_from_status(e) for e in entries) if u is not None]


def _fast_decode(raw: object) -> list[OrderUpdate] | str:
    """The decoder under test, its OrderOpened news as the OrderUpdates they stand for."""
    try:
        decoded = order_updates_from_payload(raw)
    except MalformedMessageError as exc:
        return str(exc)
    return [u.as_update() if isinstance(u, OrderOpened) else u for u in decoded]


def test_the_order_updates_decoder_agrees_with_the_typed_one_on_valid_and_mutated_payloads() -> None:
    seed = parsers()["ws.orderUpdates"][1][0]
    extra = [
        {
            "order": {**seed[0]["order"], "cloid": CLOID.upper().replace("0X", "0x")},
            "status": "open",
            "statusTimestamp": 5,
        },
        {"order": {**seed[0]["order"], "origSz": None}, "status": "marginCanceled", "statusTimestamp": 6},
        {
            "order": {**seed[0]["order"], "reduceOnly": True, "children": []},
            "status": "open",
            "statusTimestamp": 7,
        },
        {"order": seed[0]["order"], "status": "someNewStatus", "statusTimestamp": 8},
    ]
    payloads: list[object] = [seed, extra, [], "junk"]
    rng = random.Random(16)
    for _ in range(3_000):
        payloads.append(random_mutation(rng.choice([seed, extra]), rng))
    malformed = 0
    for raw in payloads:
        expected = _full_decode(raw)
        assert _fast_decode(raw) == expected, raw
        malformed += isinstance(expected, str)
    assert 300 < malformed < 2_900  # the mutations produced both kinds


def test_an_order_resting_with_nothing_filled_under_a_cloid_comes_as_order_opened() -> None:
    base = {"coin": "BTC", "side": "B", "limitPx": "50000", "oid": 7, "timestamp": 1, "cloid": CLOID.upper()}
    rows = [
        {"order": {**base, "sz": "0.10", "origSz": "0.10"}, "status": "open", "statusTimestamp": 2_000},
        {"order": {**base, "sz": "0.04", "origSz": "0.10"}, "status": "open", "statusTimestamp": 3_000},
        {"order": {**base, "sz": "0.10", "origSz": "0.1"}, "status": "open", "statusTimestamp": 4_000},
        {"order": {**base, "cloid": None, "sz": "0.10", "origSz": "0.10"}, "status": "open", "statusTimestamp": 5},
        {"order": {**base, "sz": "0.10", "origSz": "0.10"}, "status": "triggered", "statusTimestamp": 6},
        {"order": {**base, "sz": "0", "origSz": "0.10"}, "status": "canceled", "statusTimestamp": 7},
    ]
    decoded = order_updates_from_payload(rows)
    assert decoded[0] == OrderOpened(CLOID, "BTC-USD", "7", 2.0)
    # partly filled, the same size in another text, no cloid, another status: the full update
    assert [type(u) for u in decoded[1:]] == [OrderUpdate] * 5
    assert decoded[1].filled_amount == Decimal("0.06")
    assert decoded[2].filled_amount == 0 and decoded[2].exchange_order_id == "7"
