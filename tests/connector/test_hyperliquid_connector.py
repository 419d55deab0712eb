"""Hyperliquid-specific behaviour of the connector, end to end against the local exchange on loopback."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from decimal import Decimal
from typing import Any

import pytest

from tests.conformance.recorder import EventRecorder, assert_legal_order_events
from tests.conformance.suite import Session, wait_book
from tests.connector.harness import LocalExchangeHarness
from wingbeat.core.enums import OrderType, PositionAction, TradeType
from wingbeat.core.errors import ExchangeRejection, InvalidOrderError
from wingbeat.core.events import (
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderFailedEvent,
    OrderFilledEvent,
)
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.order_placement import ActionSender
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.wire import Cloid, LimitType, OrderSpec, order_action
from wingbeat.hyperliquid.ws import HyperliquidWebSocket
from wingbeat.sim.protocol.faults import FaultKind

FAST = {"reconcile_interval": 0.1, "stale_order_after": 30.0}


def _bid(harness: LocalExchangeHarness, offset: int = 0) -> Decimal:
    return (harness.reference_price * Decimal("0.98")).quantize(Decimal(1)) - offset


async def test_orders_of_one_tick_go_out_as_one_signed_action_and_cancels_as_another(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    assert isinstance(conn, HyperliquidPerpetualConnector)
    before = conn.actions_sent
    # fewer than eager_send_at (100 by default; a longer burst goes in batches: test_eager_send.py)
    cids = [conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness, i))
            for i in range(90)]
    await session.recorder.wait_event(OrderCreatedEvent, count=90)
    assert conn.actions_sent - before == 1  # 90 orders: one nonce, one signature, one request
    exchange_ids = {conn.get_order(c).exchange_order_id for c in cids}  # type: ignore[union-attr]
    assert len(exchange_ids) == 90 and None not in exchange_ids
    results = await conn.cancel_all(timeout=5)
    assert all(r.success for r in results)
    assert conn.actions_sent - before == 2  # every cancel in one cancelByCloid batch
    assert await harness.open_order_count() == 0


async def test_client_order_ids_are_the_cloids_the_exchange_reports(
        session: Session, harness: LocalExchangeHarness) -> None:
    cid = session.connector.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
    await session.recorder.wait_event(OrderCreatedEvent, cid)
    assert Cloid.from_str(cid).raw == cid
    [order] = harness.exchange.engine.accounts[harness.user].open_orders.values()
    assert order.cloid == cid


async def test_lost_placement_answer_is_reconciled_by_cloid_and_never_resent(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    harness.exchange.faults.add(FaultKind.LOSE_ANSWER, count=1, action="order")
    config = HyperliquidConfig(actions_over_websocket=False, request_timeout=2.0, order_validity=1.0,
                               dead_man_switch=None)
    s = await Session.open(lambda **kw: make_connector(config=config, **FAST, **kw))
    try:
        cid = s.connector.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
        await s.recorder.wait_event(OrderCreatedEvent, cid)
        order = s.connector.get_order(cid)
        assert order is not None and order.current_state is OrderState.OPEN
        assert harness.exchange.faults.counters.get(FaultKind.LOSE_ANSWER, 0) == 1
        assert await harness.open_order_count() == 1  # applied once, never resent
    finally:
        await s.close()


async def test_order_lost_over_the_websocket_post_is_reconciled_too(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    harness.exchange.faults.add(FaultKind.LOSE_ANSWER, count=1, action="order", path="/ws")
    config = HyperliquidConfig(request_timeout=2.0, order_validity=1.0, dead_man_switch=None)
    s = await Session.open(lambda **kw: make_connector(config=config, **FAST, **kw))
    try:
        cid = s.connector.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
        await s.recorder.wait_event(OrderCreatedEvent, cid, timeout=5)
        assert await harness.open_order_count() == 1
    finally:
        await s.close()


async def test_fills_missed_while_the_user_stream_was_down_are_caught_up_once(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn, faults = session.connector, harness.exchange.faults
    price = _bid(harness)
    cid = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, price)
    await session.recorder.wait_event(OrderCreatedEvent, cid)
    for channel in ("userFills", "user", "orderUpdates"):
        faults.silence(channel)
    await harness.take_liquidity(is_buy=False, price=price, size=harness.order_size)
    assert not session.recorder.of(OrderFilledEvent, cid)  # the stream really missed it
    for channel in ("userFills", "user", "orderUpdates"):
        faults.silence(channel, False)
    assert conn.ws_reconnects == 0
    faults.drop_websockets()
    await session.recorder.wait_event(OrderCompletedEvent, cid, timeout=10)
    fills = session.recorder.of(OrderFilledEvent, cid)
    assert len(fills) == 1 and fills[0].amount == harness.order_size
    assert_legal_order_events(session.recorder.for_order(cid), harness.order_size)
    assert conn.ws_reconnects == 1  # the metric the engine exports
    remaining = conn.rate_limit_remaining
    assert remaining is not None and remaining < 1200  # the catch-up and the placement spent weight


async def test_dead_mans_switch_is_armed_while_running_and_disarmed_on_stop(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    s = await Session.open(lambda **kw: make_connector(config=HyperliquidConfig(dead_man_switch=30.0), **kw))
    account = harness.exchange.engine.accounts[harness.user]
    try:
        assert account.scheduled_cancel is not None  # armed before start() returned
        assert account.scheduled_cancel > harness.exchange.engine.now + 20_000
    finally:
        await s.close()
    assert account.scheduled_cancel is None


async def test_two_connectors_of_one_account_the_switch_stays_armed_until_the_last_one_stops(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    # the switch is the account's (the perp and spot legs of a basis trade run two connectors on one account)
    def armed(**kw: Any) -> Any:
        return make_connector(config=HyperliquidConfig(dead_man_switch=30.0), **kw)

    first, second = await Session.open(armed), await Session.open(armed)
    account = harness.exchange.engine.accounts[harness.user]
    try:
        await first.close()
        assert account.scheduled_cancel is not None  # the second connector still relies on it
        assert account.scheduled_cancel > harness.exchange.engine.now + 5_000
    finally:
        await second.close()
    assert account.scheduled_cancel is None  # the last one to stop disarmed it


async def test_a_refused_rearm_disarms_the_switch_instead_of_letting_the_last_deadline_fire(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    refused = asyncio.Event()

    class Refusal(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "dead man's switch refused" in record.getMessage():
                refused.set()

    handler = Refusal()
    logging.getLogger("wingbeat.hyperliquid.connector").addHandler(handler)
    s = await Session.open(lambda **kw: make_connector(config=HyperliquidConfig(dead_man_switch=10.0), **kw))
    account = harness.exchange.engine.accounts[harness.user]
    try:
        armed_until = account.scheduled_cancel
        assert armed_until is not None
        account.scheduled_cancel_count = 10  # the switch fired 10 times today: the venue refuses the re-arm
        await asyncio.wait_for(refused.wait(), 10)  # re-armed every window / 3
        assert harness.exchange.engine.now < armed_until  # the old deadline has not passed yet
        assert account.scheduled_cancel is None  # and will not cancel the running connector's orders
    finally:
        logging.getLogger("wingbeat.hyperliquid.connector").removeHandler(handler)
        await s.close()


async def test_market_order_is_an_ioc_at_the_book_price_plus_slippage(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    config = HyperliquidConfig(market_slippage=Decimal("0.01"))
    s = await Session.open(lambda **kw: make_connector(config=config, **kw))
    try:
        ask = (harness.reference_price * Decimal("1.001")).quantize(Decimal(1))
        await harness.provide_liquidity(is_buy=False, price=ask, size=harness.order_size)
        await wait_book(s.connector, harness.trading_pair, lambda book: book.best_ask == ask)
        cid = s.connector.buy(harness.trading_pair, harness.order_size, OrderType.MARKET)
        order = s.connector.get_order(cid)
        assert order is not None
        rule = s.connector.trading_rules[harness.trading_pair]
        assert order.price == rule.quantize_price(ask * Decimal("1.01"), TradeType.BUY)
        completed = await s.recorder.wait_event(OrderCompletedEvent, cid)
        assert completed[0].average_price == ask  # the taker gets the book's price, not its limit
    finally:
        await s.close()


async def test_stop_loss_rests_untriggered_then_closes_the_position_when_the_mark_falls(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    assert isinstance(conn, HyperliquidPerpetualConnector)
    size = harness.order_size
    ask = (harness.reference_price * Decimal("1.001")).quantize(Decimal(1))
    await harness.provide_liquidity(is_buy=False, price=ask, size=size)
    await wait_book(conn, harness.trading_pair, lambda book: book.best_ask == ask)
    opened = conn.buy(harness.trading_pair, size, OrderType.MARKET, position_action=PositionAction.OPEN)
    await session.recorder.wait_event(OrderCompletedEvent, opened)

    trigger = (harness.reference_price * Decimal("0.95")).quantize(Decimal(1))
    cid = conn.place_trigger_order(harness.trading_pair, TradeType.SELL, size, trigger, tpsl="sl")
    await session.recorder.wait_event(OrderCreatedEvent, cid)
    assert await harness.position_size() == size  # resting untriggered

    bid = (harness.reference_price * Decimal("0.94")).quantize(Decimal(1))
    await harness.provide_liquidity(is_buy=True, price=bid, size=size)
    engine = harness.exchange.engine
    engine.set_oracle_price("BTC", harness.reference_price * Decimal("0.93"))
    engine.advance(engine.now)
    await session.recorder.wait_event(OrderCompletedEvent, cid)
    assert await harness.position_size() == 0


async def test_actions_go_over_rest_when_the_websocket_is_down(harness: LocalExchangeHarness) -> None:
    ex = harness.exchange
    async with HyperliquidRestClient(ex.base_url) as rest:
        ws = HyperliquidWebSocket(ex.ws_url)  # never started: down
        sender = ActionSender(harness.signer, rest, nonces=harness.signer.next_nonce, is_mainnet=False, ws=ws)
        spec = OrderSpec(asset=0, is_buy=True, price=_bid(harness), size=harness.order_size,
                         order_type=LimitType("Gtc"), cloid=Cloid.new())
        reply = await sender.send(order_action([spec]), valid_for=5.0)
    assert reply.ok and sender.sent_over_ws == 0 and sender.requests_sent == 1
    assert await harness.open_order_count() == 1


async def test_leverage_above_the_market_maximum_is_refused_locally(
        session: Session, harness: LocalExchangeHarness) -> None:
    with pytest.raises(InvalidOrderError):
        await session.connector.set_leverage(harness.trading_pair, 500)
    with pytest.raises(InvalidOrderError):
        await session.connector.set_leverage("NOPE-USD", 2)


async def test_positions_balances_rules_and_funding_info_are_loaded(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    rule = conn.trading_rules[harness.trading_pair]
    assert rule.size_increment == Decimal("0.00001") and rule.min_notional == 10
    assert conn.get_balance("USDC") > 0 and conn.get_available_balance("USDC") > 0
    assert conn.account_positions == {}
    await session.recorder.wait_for(lambda: conn.get_funding_info(harness.trading_pair) is not None, 5,
                                    "funding info")


async def test_cancel_of_an_order_the_venue_already_filled_ends_filled(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn, price = session.connector, _bid(harness)
    cid = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, price)
    await session.recorder.wait_event(OrderCreatedEvent, cid)
    await harness.take_liquidity(is_buy=False, price=price, size=harness.order_size)
    conn.cancel(harness.trading_pair, cid)  # races the fill news
    await session.recorder.wait_event(OrderCompletedEvent, cid)
    assert not session.recorder.of(OrderCancelledEvent, cid)
    assert_legal_order_events(session.recorder.for_order(cid), harness.order_size)


async def test_the_private_key_never_appears_in_reprs_or_logs(
        make_connector: Any, harness: LocalExchangeHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = EventRecorder()
    conn = make_connector()
    conn.add_listener(recorder)
    await conn.start()
    try:
        cid = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
        await recorder.wait_event(OrderCreatedEvent, cid)
    finally:
        await conn.stop()
    secret = harness.signer._key.secret.hex()
    assert secret not in repr(conn) and secret not in str(conn)
    assert secret not in caplog.text


async def test_cancels_missed_while_the_stream_was_down_are_found_after_reconnect(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn, faults, engine = session.connector, harness.exchange.faults, harness.exchange.engine
    cids = [conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness, i)) for i in range(8)]
    await session.recorder.wait_event(OrderCreatedEvent, count=8)
    faults.silence("orderUpdates")
    gone = cids[:2]
    oids = [int(conn.get_order(c).exchange_order_id) for c in gone]  # type: ignore[arg-type, union-attr]
    engine.cancel(harness.user, [(0, oid) for oid in oids])  # e.g. cancelled from another session
    faults.silence("orderUpdates", False)
    faults.drop_websockets()
    await session.recorder.wait_event(OrderCancelledEvent, count=2, timeout=10)
    assert {e.client_order_id for e in session.recorder.of(OrderCancelledEvent)} == set(gone)
    assert all(conn.get_order(c).current_state is OrderState.OPEN for c in cids[2:])  # type: ignore[union-attr]


async def test_a_429_on_placement_fails_the_batch_at_once_and_places_nothing(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    config = HyperliquidConfig(actions_over_websocket=False, dead_man_switch=None)
    s = await Session.open(lambda **kw: make_connector(config=config, **kw))
    try:
        harness.exchange.faults.add(FaultKind.RATE_LIMIT, count=1, action="order")
        cids = [s.connector.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness, i))
                for i in range(3)]
        failed = await s.recorder.wait_event(OrderFailedEvent, count=3)
        assert {f.client_order_id for f in failed} == set(cids)
        assert all("429" in f.reason for f in failed)
        assert await harness.open_order_count() == 0
    finally:
        await s.close()


async def test_when_the_switch_is_not_refreshed_the_exchange_cancels_and_we_hear_of_it(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    s = await Session.open(lambda **kw: make_connector(config=HyperliquidConfig(dead_man_switch=30.0), **kw))
    try:
        cid = s.connector.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
        await s.recorder.wait_event(OrderCreatedEvent, cid)
        engine = harness.exchange.engine
        deadline = engine.accounts[harness.user].scheduled_cancel
        assert deadline is not None
        engine.advance(deadline)  # as if we had died: the deadline passes without a refresh
        [cancelled] = await s.recorder.wait_event(OrderCancelledEvent, cid)
        assert cancelled.reason
        assert await harness.open_order_count() == 0
    finally:
        await s.close()


async def test_an_api_wallet_trades_the_main_account_it_was_approved_for(harness: LocalExchangeHarness) -> None:
    ex = harness.exchange
    agent = Signer("0x" + secrets.token_hex(32), account_address=harness.user)
    ex.engine.approve_agent(harness.user, agent.address, "bot")
    conn = HyperliquidPerpetualConnector(agent, [harness.trading_pair], ex.base_url,
                                         config=HyperliquidConfig(dead_man_switch=None))
    recorder = EventRecorder()
    conn.add_listener(recorder)
    await conn.start()
    try:
        assert conn.account_address == harness.user != agent.address
        cid = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
        await recorder.wait_event(OrderCreatedEvent, cid)
        assert await harness.open_order_count() == 1  # on the main account
        assert conn.get_balance("USDC") > 0  # the main account's collateral, not the agent's (it has none)
    finally:
        await conn.stop()


async def test_a_vault_leader_trades_for_the_vault(harness: LocalExchangeHarness) -> None:
    ex = harness.exchange
    vault = Signer("0x" + secrets.token_hex(32)).address
    await ex.fund(vault, Decimal(50_000))
    ex.register_vault(vault, harness.user)
    conn = HyperliquidPerpetualConnector(harness.signer, [harness.trading_pair], ex.base_url,
                                         config=HyperliquidConfig(dead_man_switch=None, vault_address=vault))
    recorder = EventRecorder()
    conn.add_listener(recorder)
    await conn.start()
    try:
        cid = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
        await recorder.wait_event(OrderCreatedEvent, cid)
        assert len(ex.engine.accounts[vault].open_orders) == 1
        assert await harness.open_order_count() == 0  # nothing on the leader's own account
        conn.cancel(harness.trading_pair, cid)
        await recorder.wait_event(OrderCancelledEvent, cid)
    finally:
        await conn.stop()


async def test_a_trigger_order_cancelled_before_it_was_sent_is_forgotten(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    assert isinstance(conn, HyperliquidPerpetualConnector)
    cid = conn.place_trigger_order(harness.trading_pair, TradeType.SELL, harness.order_size,
                                   harness.reference_price * Decimal("0.9"), tpsl="sl")
    conn.cancel(harness.trading_pair, cid)  # same tick: still queued, cancelled locally
    await session.recorder.wait_event(OrderCancelledEvent, cid)
    assert cid not in conn._triggers
    assert await harness.open_order_count() == 0


async def test_stop_leaves_no_task_running(make_connector: Any, harness: LocalExchangeHarness) -> None:
    before = asyncio.all_tasks()
    s = await Session.open(make_connector)
    cid = s.connector.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
    await s.recorder.wait_event(OrderCreatedEvent, cid)
    harness.exchange.faults.drop_websockets()  # a reconnect (and its catch-up task) in flight at stop
    await s.close()
    # the exchange's own per-connection handlers end when it notices the closed sockets: not ours
    leftover = [(t.get_name(), t.get_coro()) for t in asyncio.all_tasks() - before
                if not t.done() and "RequestHandler" not in getattr(t.get_coro(), "__qualname__", "")]
    assert not leftover


async def test_order_actions_carry_a_deadline_the_exchange_enforces(harness: LocalExchangeHarness) -> None:
    ex = harness.exchange
    async with HyperliquidRestClient(ex.base_url) as rest:
        sender = ActionSender(harness.signer, rest, nonces=harness.signer.next_nonce, is_mainnet=False)

        def action() -> dict[str, Any]:
            return order_action([OrderSpec(asset=0, is_buy=True, price=_bid(harness), size=harness.order_size,
                                           cloid=Cloid.new())])

        with pytest.raises(ExchangeRejection, match="expired"):  # arrived after its deadline: refused, definite
            await sender.send(action(), valid_for=-1.0)
        assert await harness.open_order_count() == 0
        reply = await sender.send(action(), valid_for=5.0)
    assert reply.ok and await harness.open_order_count() == 1


async def test_an_unanswered_order_is_not_given_up_before_its_deadline_has_passed(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    harness.exchange.faults.add(FaultKind.HTTP_5XX, count=1, path="/exchange", action="order")  # never applied
    config = HyperliquidConfig(actions_over_websocket=False, order_validity=1.0, dead_man_switch=None)
    s = await Session.open(lambda **kw: make_connector(config=config, **FAST, **kw))
    try:
        sent_at = time.time()
        cid = s.connector.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
        [failed] = await s.recorder.wait_event(OrderFailedEvent, cid, timeout=10)
        # until its expiresAfter (+1 s of clock slack) the request could still have landed
        assert failed.timestamp >= sent_at + config.order_validity + 1.0
        assert "lost" in failed.reason
        assert await harness.open_order_count() == 0
    finally:
        await s.close()


async def test_rest_weight_budget_is_configurable_for_venues_that_allow_more(make_connector: Any) -> None:
    config = HyperliquidConfig(order_validity=1.0, rest_weight_budget=100_000)
    s = await Session.open(lambda **kw: make_connector(config=config, **kw))
    try:
        remaining = s.connector.rate_limit_remaining
        assert remaining is not None and 1200 < remaining <= 100_000
    finally:
        await s.close()
    with pytest.raises(ValueError, match="rest_weight_budget"):
        HyperliquidConfig(rest_weight_budget=0)


def test_a_dead_mans_switch_the_exchange_would_refuse_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="dead_man_switch must be >= 10"):
        HyperliquidConfig(dead_man_switch=5.0)  # arrives less than 5 s ahead: refused, the switch silently off
    assert HyperliquidConfig(dead_man_switch=10.0).dead_man_switch == 10.0


@pytest.mark.parametrize("before", [0, 99], ids=["sent-at-once", "hundredth-of-a-burst"])
async def test_a_trigger_order_that_fills_an_early_batch_goes_out_as_a_trigger(
        harness: LocalExchangeHarness, before: int) -> None:
    # without a journal a burst is sent while it is placed (eager_send_at): the order that makes the batch
    # full is written at once, inside place_order; a trigger order must already carry its trigger then
    ex = harness.exchange
    conn = HyperliquidPerpetualConnector(harness.signer, [harness.trading_pair], ex.base_url, journal_path=None,
                                         config=HyperliquidConfig(dead_man_switch=None),
                                         eager_send_at=before + 1)
    recorder = EventRecorder()
    conn.add_listener(recorder)
    await conn.start()
    try:
        bids = [conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness, i % 50))
                for i in range(before)]
        trigger = (harness.reference_price * Decimal("0.9")).quantize(Decimal(1))
        cid = conn.place_trigger_order(harness.trading_pair, TradeType.SELL, harness.order_size, trigger,
                                       tpsl="sl", reduce_only=False)
        for each in (*bids, cid):
            await recorder.wait_event(OrderCreatedEvent, each)
        [stop] = [o for o in ex.engine.accounts[harness.user].open_orders.values() if not o.is_buy]
        assert stop.trigger is not None and stop.trigger.trigger_px == trigger and not stop.triggered
        assert await harness.position_size() == 0
    finally:
        await conn.stop()


async def test_a_trigger_order_refused_at_once_is_forgotten(session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    assert isinstance(conn, HyperliquidPerpetualConnector)
    trigger = (harness.reference_price * Decimal("0.9")).quantize(Decimal(1))
    cid = conn.place_trigger_order(harness.trading_pair, TradeType.SELL, Decimal(0), trigger, tpsl="sl")
    [failed] = await session.recorder.wait_event(OrderFailedEvent, cid)
    assert "amount" in failed.reason and cid not in conn._triggers


async def test_a_dust_position_below_the_minimum_order_value_closes_whole_not_in_part(
        session: Session, harness: LocalExchangeHarness) -> None:
    # a position worth less than $10 (left by partial fills): a reduce-only order closing all of it may go
    # below the minimum order value, one closing part of it may not
    conn = session.connector
    assert isinstance(conn, HyperliquidPerpetualConnector)
    ask = (harness.reference_price * Decimal("1.001")).quantize(Decimal(1))
    bid = (harness.reference_price * Decimal("0.999")).quantize(Decimal(1))
    await harness.provide_liquidity(is_buy=False, price=ask, size=Decimal("0.0003"))
    await harness.provide_liquidity(is_buy=True, price=bid, size=Decimal("0.0003"))
    await wait_book(conn, harness.trading_pair, lambda book: book.best_ask == ask and book.best_bid == bid)
    opened = conn.buy(harness.trading_pair, Decimal("0.0003"), OrderType.MARKET)  # ~$18
    await session.recorder.wait_event(OrderCompletedEvent, opened)
    reduced = conn.sell(harness.trading_pair, Decimal("0.0002"), OrderType.MARKET, position_action=PositionAction.CLOSE)
    await session.recorder.wait_event(OrderCompletedEvent, reduced)
    dust = Decimal("0.0001")  # ~$6 left
    assert await harness.position_size() == dust and conn.account_positions[harness.trading_pair].amount == dust

    part = conn.sell(harness.trading_pair, dust / 2, OrderType.MARKET, position_action=PositionAction.CLOSE)
    [refused] = await session.recorder.wait_event(OrderFailedEvent, part)
    assert "below the minimum" in refused.reason
    whole = conn.sell(harness.trading_pair, dust, OrderType.MARKET, position_action=PositionAction.CLOSE)
    await session.recorder.wait_event(OrderCompletedEvent, whole)
    assert await harness.position_size() == 0
