"""Hyperliquid's order semantics around positions (issue 13): one-cancels-other TP/SL brackets,
position TP/SL that follow the position, reduce-only orders canceled with their position, the
triggered status, market trigger slippage, builder fees, the open-order limit, price/size range."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any, Literal

from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import EngineError, OrderRequest, TriggerSpec

A = "0x" + "a" * 40
C = "0x" + "c" * 40
B = "0x" + "b" * 40  # a builder
T0 = 1_700_000_000_000


def setup(**kwargs: Any) -> ExchangeEngine:
    e = ExchangeEngine(clock=lambda: T0, **kwargs)
    e.fund(A, D(1_000_000))
    e.fund(C, D(10_000_000))
    return e


def limit(is_buy: bool, px: str, sz: str, tif: Any = "Gtc", ro: bool = False) -> OrderRequest:
    return OrderRequest(0, is_buy, D(px), D(sz), ro, tif)


def trigger(
    is_buy: bool, px: str, sz: str, trig: str, tpsl: Literal["tp", "sl"], market: bool = True
) -> OrderRequest:
    return OrderRequest(0, is_buy, D(px), D(sz), True, None, TriggerSpec(market, D(trig), tpsl))


def go_long(e: ExchangeEngine, sz: str = "0.1") -> None:
    e.place_orders(C, [limit(False, "60000", sz)])
    e.place_orders(A, [limit(True, "60000", sz, "Ioc")])
    assert e.accounts[A].szi(0) == D(sz)


def order_status(e: ExchangeEngine, oid: int) -> str:
    answer: Any = handle_info(e, {"type": "orderStatus", "user": A, "oid": oid})
    return str(answer["order"]["status"])


def history(e: ExchangeEngine, user: str = A) -> list[tuple[int, str]]:
    return [
        (h["order"]["oid"], h["status"]) for h in handle_info(e, {"type": "historicalOrders", "user": user})
    ]


def bracket(e: ExchangeEngine, tp_market: bool = True) -> tuple[int, list[int]]:
    """A long 0.1 entered at 60000 with a TP at 62000 and an SL at 58000; (parent oid, [tp, sl])."""
    e.place_orders(C, [limit(False, "60000", "0.1")])
    st = e.place_orders(
        A,
        [
            limit(True, "60000", "0.1", "Ioc"),
            trigger(False, "61000", "0.1", "62000", "tp", market=tp_market),
            trigger(False, "57000", "0.1", "58000", "sl"),
        ],
        grouping="normalTpsl",
    )
    assert "filled" in st[0] and st[1:] == ["waitingForTrigger", "waitingForTrigger"]
    tp, sl = sorted(o.oid for o in e.accounts[A].open_orders.values())
    return st[0]["filled"]["oid"], [tp, sl]


def test_stop_loss_fill_cancels_its_take_profit_sibling() -> None:
    e = setup()
    _, (tp, sl) = bracket(e)
    e.place_orders(C, [limit(True, "57900", "0.1")])
    e.set_oracle_price("BTC", D("57950"))
    assert e.accounts[A].szi(0) == 0
    assert not e.accounts[A].open_orders and not e.markets[0].triggers.orders
    assert order_status(e, tp) == "siblingFilledCanceled"
    assert (sl, "filled") in history(e) and (sl, "triggered") in history(e)


def test_take_profit_fill_cancels_its_stop_loss_sibling() -> None:
    e = setup()
    _, (tp, sl) = bracket(e)
    e.place_orders(C, [limit(True, "62100", "0.1")])  # the bid lifts the mark to the TP
    e.set_oracle_price("BTC", D("62100"))
    assert e.accounts[A].szi(0) == 0
    assert order_status(e, tp) == "filled" and order_status(e, sl) == "siblingFilledCanceled"


def test_canceling_one_bracket_leg_keeps_the_other() -> None:
    e = setup()
    _, (tp, sl) = bracket(e)
    assert e.cancel(A, [(0, tp)]) == ["success"]
    assert sl in e.accounts[A].open_orders and order_status(e, sl) == "open"


def test_resting_reduce_only_order_is_canceled_when_its_position_closes() -> None:
    e = setup()
    go_long(e)
    oid = e.place_orders(A, [limit(False, "65000", "0.1", ro=True)])[0]["resting"]["oid"]
    e.place_orders(C, [limit(True, "60000", "0.1")])
    e.place_orders(A, [limit(False, "60000", "0.1", "Ioc")])  # closes the long another way
    assert e.accounts[A].szi(0) == 0
    assert oid not in e.live and e.markets[0].book.best_ask() is None
    assert order_status(e, oid) == "reduceOnlyCanceled"


def test_reduce_only_order_on_the_new_side_of_a_flipped_position_is_canceled() -> None:
    e = setup()
    go_long(e)
    closing = e.place_orders(A, [limit(False, "65000", "0.1", ro=True)])[0]["resting"]["oid"]
    e.place_orders(C, [limit(True, "60000", "0.3")])
    e.place_orders(A, [limit(False, "60000", "0.3", "Ioc")])  # long 0.1 -> short 0.2
    assert e.accounts[A].szi(0) == D("-0.2")
    assert order_status(e, closing) == "reduceOnlyCanceled"


def test_reduce_only_order_stays_while_the_position_only_shrinks() -> None:
    e = setup()
    go_long(e, "0.2")
    oid = e.place_orders(A, [limit(False, "65000", "0.1", ro=True)])[0]["resting"]["oid"]
    e.place_orders(C, [limit(True, "60000", "0.1")])
    e.place_orders(A, [limit(False, "60000", "0.1", "Ioc")])
    assert e.accounts[A].szi(0) == D("0.1") and oid in e.live


def test_position_tpsl_of_size_zero_closes_the_whole_position() -> None:
    e = setup()
    go_long(e, "0.3")
    st = e.place_orders(A, [trigger(False, "50000", "0", "58000", "sl")], grouping="positionTpsl")
    assert st == ["waitingForTrigger"]
    (oid,) = e.accounts[A].open_orders
    front: Any = handle_info(e, {"type": "frontendOpenOrders", "user": A})
    assert front[0]["isPositionTpsl"] is True and front[0]["sz"] == "0.0"
    e.place_orders(C, [limit(True, "57900", "1")])
    e.set_oracle_price("BTC", D("57950"))
    assert e.accounts[A].szi(0) == 0
    assert order_status(e, oid) == "filled"


def test_position_tpsl_is_canceled_when_the_position_closes() -> None:
    e = setup()
    go_long(e)
    e.place_orders(A, [trigger(False, "50000", "0", "58000", "sl")], grouping="positionTpsl")
    (oid,) = e.accounts[A].open_orders
    e.place_orders(C, [limit(True, "60000", "0.1")])
    e.place_orders(A, [limit(False, "60000", "0.1", "Ioc")])
    assert not e.accounts[A].open_orders and not e.markets[0].triggers.orders
    assert order_status(e, oid) == "reduceOnlyCanceled"


def test_size_zero_outside_position_tpsl_is_a_per_order_error() -> None:
    e = setup()
    go_long(e)
    st = e.place_orders(A, [trigger(False, "50000", "0", "58000", "sl")])
    assert st == [{"error": "Order has zero size. asset=0"}]


def test_triggered_limit_order_reports_triggered_then_its_outcome() -> None:
    e = setup()
    go_long(e)
    oid = e.place_orders(A, [trigger(False, "61000", "0.1", "60900", "tp", market=False)])[0]["resting"][
        "oid"
    ]
    assert order_status(e, oid) == "open"
    e.set_oracle_price("BTC", D("60950"))
    assert e.markets[0].book.best_ask() == D("61000")  # fired: rests as a limit order
    assert order_status(e, oid) == "triggered"
    assert history(e)[0] == (oid, "triggered")
    e.place_orders(C, [limit(True, "61000", "0.1", "Ioc")])
    assert order_status(e, oid) == "filled"
    assert [s for o, s in history(e) if o == oid] == ["filled", "triggered"]  # newest first
    fired = next(
        h for h in handle_info(e, {"type": "historicalOrders", "user": A}) if h["status"] == "triggered"
    )
    assert fired["order"]["isTrigger"] is True and fired["order"]["triggerCondition"] == "Price above 60900"


def test_market_trigger_fills_within_ten_percent_of_the_mark_not_only_its_wire_limit() -> None:
    e = setup()
    go_long(e)
    # wire limit 57900, but the only bid is 56000: inside 10% of the 57950 mark
    oid = e.place_orders(A, [trigger(False, "57900", "0.1", "58000", "sl")])[0]["resting"]["oid"]
    e.place_orders(C, [limit(True, "56000", "0.1")])
    e.set_oracle_price("BTC", D("57950"))
    assert e.accounts[A].szi(0) == 0 and e.accounts[A].fills[-1].px == D("56000")
    assert order_status(e, oid) == "filled"


def test_market_trigger_does_not_trade_beyond_ten_percent() -> None:
    e = setup()
    go_long(e)
    oid = e.place_orders(A, [trigger(False, "57900", "0.1", "58000", "sl")])[0]["resting"]["oid"]
    e.place_orders(C, [limit(True, "52000", "0.1")])  # more than 10% under the 57950 mark
    e.set_oracle_price("BTC", D("57950"))
    assert e.accounts[A].szi(0) == D("0.1")
    assert order_status(e, oid) == "iocCancelRejected"


def test_order_with_unapproved_builder_fee_is_refused_as_a_whole() -> None:
    e = setup()
    e.place_orders(C, [limit(False, "60000", "0.1")])
    for approved in (None, 9):
        if approved is not None:
            e.accounts[A].builder_fees[B] = approved
        try:
            e.place_orders(A, [limit(True, "60000", "0.1", "Ioc")], builder=(B, 10))
        except EngineError as exc:
            assert exc.message == "Builder fee has not been approved."
        else:
            raise AssertionError("a builder fee above the approved maximum was accepted")
    assert e.accounts[A].szi(0) == 0 and not e.accounts[A].fills
    e.accounts[A].builder_fees[B] = 10
    st = e.place_orders(A, [limit(True, "60000", "0.1", "Ioc")], builder=(B.upper().replace("0X", "0x"), 10))
    assert "filled" in st[0]


def test_open_order_limit_rejects_reduce_only_and_triggers_first_and_grows_with_volume() -> None:
    e = setup(max_open_orders=3)
    go_long(e)
    for px in ("50000", "50100", "50200"):
        assert "resting" in e.place_orders(A, [limit(True, px, "0.01")])[0]
    too_many = {"error": "Too many open orders. asset=0"}
    assert e.place_orders(A, [limit(False, "65000", "0.01", ro=True)]) == [too_many]
    assert e.place_orders(A, [trigger(False, "50000", "0.01", "58000", "sl")]) == [too_many]
    assert e.place_orders(A, [limit(True, "50300", "0.01")]) == [too_many]
    e.accounts[A].cum_volume += D(10_000_000)  # two more regular orders (one per 5M USDC)
    assert "resting" in e.place_orders(A, [limit(True, "50300", "0.01")])[0]
    assert "resting" in e.place_orders(A, [limit(True, "50400", "0.01")])[0]
    assert e.place_orders(A, [limit(True, "50500", "0.01")]) == [too_many]
    assert e.place_orders(A, [limit(False, "65000", "0.01", ro=True)]) == [too_many]
    e.accounts[A].cum_volume += D(10**12)  # the limit stops at five times the base
    for px in ("50500", "50600", "50700", "50800", "50900", "51000", "51100", "51200", "51300", "51400"):
        assert "resting" in e.place_orders(A, [limit(True, px, "0.01")])[0]
    assert len(e.accounts[A].open_orders) == 15
    assert e.place_orders(A, [limit(True, "51500", "0.01")]) == [too_many]


def test_zero_and_out_of_range_numbers_are_per_order_errors() -> None:
    e = setup()
    huge = "1" + "0" * 30
    cases = [
        (limit(True, "0", "0.1"), "Order has invalid price."),
        (limit(True, "60000", huge), "Order has invalid size."),
        (limit(True, huge, "0.1"), "Order price cannot be more than 80% away from the reference price"),
        (trigger(False, "57000", "0.1", huge, "sl"), "Invalid TP/SL price."),
    ]
    for req, text in cases:
        (status,) = e.place_orders(A, [req])
        assert isinstance(status, dict) and status["error"].startswith(text), status
