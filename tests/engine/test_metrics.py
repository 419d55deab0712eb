"""Metrics: own registry per engine, counts from events, latencies, HTTP endpoint."""

from decimal import Decimal

import aiohttp

from wingbeat.core.enums import OrderType, PositionAction, TradeType
from wingbeat.core.events import BuyOrderCreatedEvent, OrderCancelledEvent, OrderFilledEvent
from wingbeat.engine.metrics import Metrics, percentile

D = Decimal


def _created(cid: str) -> BuyOrderCreatedEvent:
    return BuyOrderCreatedEvent(timestamp=1.0, client_order_id=cid, exchange_order_id="1", trading_pair="BTC-USD",
                                trade_type=TradeType.BUY, order_type=OrderType.LIMIT, amount=D(1), price=D(100),
                                position_action=PositionAction.OPEN, creation_timestamp=1.0)


def _filled(cid: str, tid: str) -> OrderFilledEvent:
    return OrderFilledEvent(timestamp=2.0, client_order_id=cid, exchange_order_id="1", trading_pair="BTC-USD",
                            trade_type=TradeType.BUY, order_type=OrderType.LIMIT, position_action=PositionAction.OPEN,
                            trade_id=tid, price=D(100), amount=D("0.5"), quote_amount=D(50), fee_asset="USDC",
                            fee_amount=D("0.01"), is_taker=False)


def test_two_engines_have_separate_registries() -> None:
    a, b = Metrics(), Metrics()
    a.order_refused("BTC-USD")
    assert a.registry.get_sample_value("wingbeat_orders_total", {"pair": "BTC-USD", "state": "refused"}) == 1
    assert b.registry.get_sample_value("wingbeat_orders_total", {"pair": "BTC-USD", "state": "refused"}) is None


def test_events_count_orders_fills_and_latencies() -> None:
    m = Metrics()
    m.order_submitted("c1")
    m.on_order_created(_created("c1"))
    m.on_order_filled(_filled("c1", "t1"))
    m.on_order_filled(_filled("c1", "t2"))
    m.on_order_cancelled(OrderCancelledEvent(timestamp=3.0, client_order_id="c1", exchange_order_id="1",
                                             trading_pair="BTC-USD", executed_amount_base=D(1)))
    r = m.registry
    assert r.get_sample_value("wingbeat_orders_total", {"pair": "BTC-USD", "state": "created"}) == 1
    assert r.get_sample_value("wingbeat_orders_total", {"pair": "BTC-USD", "state": "cancelled"}) == 1
    assert r.get_sample_value("wingbeat_fills_total", {"pair": "BTC-USD", "side": "buy", "liquidity": "maker"}) == 2
    assert r.get_sample_value("wingbeat_place_to_open_seconds_count") == 1
    assert r.get_sample_value("wingbeat_place_to_fill_seconds_count") == 1  # first fill only
    assert len(m.open_samples) == 1 and len(m.fill_samples) == 1


def test_account_gauges() -> None:
    m = Metrics()
    m.set_account(open_orders={("BTC-USD", "OPEN"): 2, ("BTC-USD", "PENDING_CANCEL"): 1}, positions={"BTC-USD": D("-0.5")},
                  pnl={"BTC-USD": (D(3), D(-1), D("0.5"))}, ws_reconnects=4, rate_limit_remaining=1100)
    r = m.registry
    assert r.get_sample_value("wingbeat_open_orders", {"pair": "BTC-USD", "state": "OPEN"}) == 2
    m.set_account(open_orders={("BTC-USD", "OPEN"): 1}, positions={}, pnl={})
    assert r.get_sample_value("wingbeat_open_orders", {"pair": "BTC-USD", "state": "OPEN"}) == 1
    assert r.get_sample_value("wingbeat_open_orders", {"pair": "BTC-USD", "state": "PENDING_CANCEL"}) is None
    assert r.get_sample_value("wingbeat_position", {"pair": "BTC-USD"}) == -0.5
    assert r.get_sample_value("wingbeat_pnl", {"pair": "BTC-USD", "kind": "unrealized"}) == -1
    assert r.get_sample_value("wingbeat_ws_reconnects") == 4
    assert r.get_sample_value("wingbeat_rate_limit_remaining") == 1100


async def test_http_endpoint_serves_the_registry() -> None:
    m = Metrics()
    m.order_refused("ETH-USD")
    port = await m.start_http(0)
    try:
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as resp:
            text = await resp.text()
        assert resp.status == 200
        assert 'wingbeat_orders_total{pair="ETH-USD",state="refused"} 1.0' in text
    finally:
        await m.stop()


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile(range(101), 0.99) == 99
