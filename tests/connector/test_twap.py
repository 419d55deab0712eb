"""Native TWAPs through the connector, over real sockets against the local exchange: placement, slices
reported as fills (positions move, no order events, each trade id once), the end of a TWAP (finished,
terminated, stopped by the venue), local refusals (nothing sent), a venue refusal with its text, a TWAP
found again after a restart, and one placed by another program. Venue time is moved with the engine's
``advance`` (30-second slices without waiting for them)."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from typing import Any

import pytest
from hyperliquid.info import Info

from tests.conformance.recorder import EventRecorder
from tests.connector.harness import COIN, LocalExchangeHarness, new_signer
from wingbeat.core.enums import TradeType
from wingbeat.core.errors import ExchangeRejection, InvalidOrderError
from wingbeat.core.events import (
    OrderFilledEvent,
    TwapFailedEvent,
    TwapFinishedEvent,
    TwapSliceFilledEvent,
    TwapStartedEvent,
)
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.spot_connector import HyperliquidSpotConnector
from wingbeat.hyperliquid.twap_orders import TwapStatus
from wingbeat.sim.venue.twap_engine import SLICE_INTERVAL_MS, TwapRequest
from wingbeat.sim.venue.types import OrderRequest

PAIR = "BTC-USD"


class TwapRecorder(EventRecorder):
    """Records the TWAP events too."""

    on_twap_started = EventRecorder._record  # type: ignore[assignment]
    on_twap_slice_filled = EventRecorder._record  # type: ignore[assignment]
    on_twap_finished = EventRecorder._record  # type: ignore[assignment]
    on_twap_failed = EventRecorder._record  # type: ignore[assignment]


async def started(make_connector: Any) -> tuple[HyperliquidPerpetualConnector, TwapRecorder]:
    conn: HyperliquidPerpetualConnector = make_connector(
        config=HyperliquidConfig(dead_man_switch=None, order_validity=1.0)
    )
    recorder = TwapRecorder()
    conn.add_listener(recorder)
    await conn.start()
    return conn, recorder


def advance_slices(harness: LocalExchangeHarness, n: int) -> None:
    engine = harness.exchange.engine
    for _ in range(n):
        engine.advance(engine.now + SLICE_INTERVAL_MS)


async def asks(harness: LocalExchangeHarness, size: str = "1") -> None:
    await harness.provide_liquidity(is_buy=False, price=harness.reference_price, size=Decimal(size))


async def test_a_twap_buys_in_slices_reported_as_fills_that_move_the_position(
    harness: LocalExchangeHarness, make_connector: Any
) -> None:
    conn, recorder = await started(make_connector)
    try:
        await asks(harness)
        twap = await conn.place_twap(PAIR, TradeType.BUY, Decimal("0.05"), 5)
        assert twap.status is TwapStatus.RUNNING and twap.amount == Decimal("0.05") and twap.minutes == 5
        [start] = await recorder.wait_event(TwapStartedEvent)
        assert (start.twap_id, start.trading_pair, start.trade_type) == (twap.twap_id, PAIR, TradeType.BUY)
        await recorder.wait_event(TwapSliceFilledEvent)  # the first slice goes out at once
        assert conn.running_twaps == [twap]
        advance_slices(harness, 9)
        [end] = await recorder.wait_event(TwapFinishedEvent)
        assert (end.twap_id, end.status, end.reason) == (twap.twap_id, "finished", None)
        assert end.executed_amount_base == Decimal("0.05")
        assert end.executed_amount_quote == Decimal("0.05") * harness.reference_price
        assert (await twap.wait_done(1)).status is TwapStatus.FINISHED and not conn.running_twaps
        slices = recorder.of(TwapSliceFilledEvent)
        assert len(slices) == 10 and len({s.trade_id for s in slices}) == 10
        assert [s.amount for s in slices] == [Decimal("0.005")] * 10
        assert slices[-1].executed_amount_base == Decimal("0.05") and slices[0].fee_asset == "USDC"
        assert twap.average_price == harness.reference_price
        # the slices are fills of the account: the position moved by exactly their size, once
        await recorder.wait_for(lambda: PAIR in conn.account_positions, what="position")
        assert conn.account_positions[PAIR].amount == Decimal("0.05") == await harness.position_size()
        assert not recorder.of(OrderFilledEvent)  # no tracked order owns a slice
        # the official SDK reads the same slice fills from the venue
        info = await asyncio.to_thread(Info, harness.exchange.base_url, True)
        sdk_fills = await asyncio.to_thread(info.user_twap_slice_fills, harness.user)
        assert {str(f["fill"]["tid"]) for f in sdk_fills} == {s.trade_id for s in slices}
    finally:
        await conn.stop()


async def test_cancel_terminates_the_twap_and_a_second_cancel_is_refused_by_the_venue(
    harness: LocalExchangeHarness, make_connector: Any
) -> None:
    conn, recorder = await started(make_connector)
    try:
        await asks(harness)
        twap = await conn.place_twap(PAIR, TradeType.BUY, Decimal("0.05"), 30, randomize=True)
        assert twap.randomize
        await conn.cancel_twap(twap.twap_id)
        [end] = await recorder.wait_event(TwapFinishedEvent)
        assert end.status == "terminated" and twap.status is TwapStatus.TERMINATED
        advance_slices(harness, 3)  # nothing more is sent
        assert await harness.position_size() == twap.executed_amount_base
        with pytest.raises(ExchangeRejection, match=re.escape("TWAP was never placed, already canceled, or filled.")):
            await conn.cancel_twap(twap.twap_id)
        with pytest.raises(InvalidOrderError, match="no TWAP 12345"):
            await conn.cancel_twap(12345)
    finally:
        await conn.stop()


@pytest.mark.parametrize(
    ("amount", "minutes", "kw", "message"),
    [
        ("0.05", 4, {}, "a TWAP runs 5 to 1440 minutes"),
        ("0.05", 1441, {}, "a TWAP runs 5 to 1440 minutes"),
        ("0.001", 10, {}, "below Hyperliquid's minimum of \\$100"),
        ("0.000001", 10, {}, "below one lot of BTC-USD"),
        ("-1", 10, {}, "amount must be a positive Decimal"),
        ("0.05", 10, {"reduce_only": True}, "would increase the BTC-USD position \\(0\\)"),
    ],
)
async def test_bad_twaps_are_refused_locally_and_nothing_is_sent(
    harness: LocalExchangeHarness, make_connector: Any, amount: str, minutes: int, kw: Any, message: str
) -> None:
    conn, recorder = await started(make_connector)
    try:
        sent = conn.actions_sent
        with pytest.raises(InvalidOrderError, match=message):
            await conn.place_twap(PAIR, TradeType.BUY, Decimal(amount), minutes, **kw)
        with pytest.raises(InvalidOrderError, match="unknown trading pair 'ETH-USD'"):
            await conn.place_twap("ETH-USD", TradeType.BUY, Decimal(1), 10)
        assert conn.actions_sent == sent and not harness.exchange.engine.twaps.running
        assert not recorder.of(TwapFailedEvent)
    finally:
        await conn.stop()


async def test_a_venue_refusal_is_a_failure_event_with_the_venues_text(
    harness: LocalExchangeHarness, make_connector: Any
) -> None:
    conn, recorder = await started(make_connector)
    try:
        engine = harness.exchange.engine
        asset = engine.asset_index(COIN)
        assert asset is not None
        for _ in range(100):  # the venue's cap of running TWAPs, reached by another program (no liquidity)
            status = engine.place_twap(harness.user, TwapRequest(asset, True, Decimal("0.01"), False, 60, False))
            assert "running" in status, status
        await recorder.wait_event(TwapStartedEvent, count=100)
        with pytest.raises(ExchangeRejection, match=re.escape("Exceeded max number of active TWAP orders.")):
            await conn.place_twap(PAIR, TradeType.SELL, Decimal("0.01"), 10)
        [failed] = recorder.of(TwapFailedEvent)
        assert failed.reason == "Exceeded max number of active TWAP orders."
        assert (failed.trading_pair, failed.trade_type, failed.amount, failed.minutes) == (
            PAIR, TradeType.SELL, Decimal("0.01"), 10,
        )  # fmt: skip
        assert len(conn.running_twaps) == 100  # another program's TWAPs are followed too
    finally:
        await conn.stop()


async def test_a_slice_without_margin_ends_the_twap_with_the_venues_error(
    harness: LocalExchangeHarness, make_connector: Any
) -> None:
    poor = new_signer()
    await harness.exchange.fund(poor.address, Decimal(2))
    await asks(harness)
    conn = HyperliquidPerpetualConnector(
        poor, [PAIR], network=harness.exchange.base_url,
        config=HyperliquidConfig(dead_man_switch=None, order_validity=1.0),
    )  # fmt: skip
    recorder = TwapRecorder()
    conn.add_listener(recorder)
    await conn.start()
    try:
        twap = await conn.place_twap(PAIR, TradeType.BUY, Decimal("0.05"), 5)
        [end] = await recorder.wait_event(TwapFinishedEvent)
        assert end.status == "error" and end.reason and "margin" in end.reason.lower()
        assert twap.status is TwapStatus.ERROR and twap.reason == end.reason
        assert twap.executed_amount_base == 0 and not recorder.of(TwapSliceFilledEvent)
    finally:
        await conn.stop()


async def test_a_running_twap_is_found_again_after_a_restart(
    harness: LocalExchangeHarness, make_connector: Any
) -> None:
    await asks(harness)
    first, _ = await started(make_connector)
    try:
        twap = await first.place_twap(PAIR, TradeType.BUY, Decimal("0.05"), 5)
        advance_slices(harness, 2)
    finally:
        await first.stop()
    again, recorder = await started(make_connector)
    try:
        [found] = again.running_twaps
        assert (found.twap_id, found.amount, found.minutes, found.trade_type) == (
            twap.twap_id, Decimal("0.05"), 5, TradeType.BUY,
        )  # fmt: skip
        assert found.executed_amount_base == Decimal("0.015")  # three slices before the restart
        assert [e.twap_id for e in recorder.of(TwapStartedEvent)] == [twap.twap_id]
        assert not recorder.of(TwapSliceFilledEvent)  # the past is counted, not published again
        advance_slices(harness, 7)
        [end] = await recorder.wait_event(TwapFinishedEvent)
        assert end.status == "finished" and found.executed_amount_base == Decimal("0.05")
        assert len(recorder.of(TwapSliceFilledEvent)) == 7
    finally:
        await again.stop()


async def test_an_ended_twap_in_the_history_is_no_news_at_start(
    harness: LocalExchangeHarness, make_connector: Any
) -> None:
    await asks(harness)
    engine = harness.exchange.engine
    asset = engine.asset_index(COIN)
    assert asset is not None
    status = engine.place_twap(harness.user, TwapRequest(asset, True, Decimal("0.05"), False, 5, False))
    engine.cancel_twap(harness.user, asset, status["running"]["twapId"])
    conn, recorder = await started(make_connector)
    try:
        assert not conn.running_twaps and not recorder.of(TwapStartedEvent)
        twap = await conn.place_twap(PAIR, TradeType.BUY, Decimal("0.05"), 5)
        await recorder.wait_event(TwapStartedEvent)
        assert [e.twap_id for e in recorder.of(TwapStartedEvent)] == [twap.twap_id]
    finally:
        await conn.stop()


async def test_a_spot_twap_through_the_spot_connector_moves_token_balances(
    harness: LocalExchangeHarness,
) -> None:
    ex = harness.exchange
    signer, maker = new_signer(), new_signer().address
    await ex.fund(signer.address, 0, spot={"USDC": 1000})
    await ex.fund(maker, 0, spot={"PURR": 1_000_000})
    ask = OrderRequest(10_000, False, Decimal("0.2"), Decimal(100_000), False, "Gtc")
    [status] = ex.engine.place_orders(maker, [ask])
    assert "resting" in status, status
    conn = HyperliquidSpotConnector(
        signer, ["PURR-USDC"], network=ex.base_url, config=HyperliquidConfig(dead_man_switch=None)
    )
    recorder = TwapRecorder()
    conn.add_listener(recorder)
    await conn.start()
    try:
        with pytest.raises(InvalidOrderError, match="reduce-only is for perpetual positions"):
            await conn.place_twap("PURR-USDC", TradeType.BUY, Decimal(1000), 5, reduce_only=True)
        with pytest.raises(InvalidOrderError, match=re.escape("TWAP value 20.00 USDC")):  # at the book's only side
            await conn.place_twap("PURR-USDC", TradeType.BUY, Decimal(100), 5)
        twap = await conn.place_twap("PURR-USDC", TradeType.BUY, Decimal(1000), 5)  # $200 at the book's 0.2
        [start] = await recorder.wait_event(TwapStartedEvent)
        assert start.trading_pair == "PURR-USDC"
        advance_slices(harness, 9)
        [end] = await recorder.wait_event(TwapFinishedEvent)
        assert end.status == "finished" and twap.executed_amount_base == 1000 and twap.average_price == Decimal("0.2")
        slices = recorder.of(TwapSliceFilledEvent)
        assert len(slices) == 10 and {s.fee_asset for s in slices} == {"PURR"}  # fees in the token received
        fees = sum((s.fee_amount for s in slices), Decimal(0))
        await recorder.wait_for(lambda: conn.get_balance("PURR") == 1000 - fees, what="PURR balance")
        assert conn.get_balance("USDC") == 800 and not recorder.of(OrderFilledEvent)
    finally:
        await conn.stop()


async def test_a_twap_that_ended_unseen_ends_from_the_snapshot_after_a_reconnect(
    harness: LocalExchangeHarness, make_connector: Any
) -> None:
    conn, recorder = await started(make_connector)
    try:
        await asks(harness)
        twap = await conn.place_twap(PAIR, TradeType.BUY, Decimal("0.05"), 5)
        await recorder.wait_event(TwapSliceFilledEvent)
        faults = harness.exchange.faults
        channels = ("userTwapHistory", "userTwapSliceFills")
        for channel in channels:  # the TWAP's news is lost...
            faults.silence(channel)
        advance_slices(harness, 9)  # ...while it runs to its end
        assert not twap.is_done
        for channel in channels:
            faults.silence(channel, False)
        faults.drop_websockets()  # the reconnect's snapshots tell
        [end] = await recorder.wait_event(TwapFinishedEvent, timeout=15)
        assert end.status == "finished" and end.executed_amount_base == Decimal("0.05") == twap.executed_amount_base
        slices = await recorder.wait_event(TwapSliceFilledEvent, count=10)  # the missed ones, each once
        assert len({s.trade_id for s in slices}) == 10 == len(recorder.of(TwapSliceFilledEvent))
        assert conn.ws_reconnects >= 1
    finally:
        await conn.stop()


async def test_a_twap_on_a_builder_dex_perp_moves_that_dex_position(harness: LocalExchangeHarness) -> None:
    ex, xyz = harness.exchange, "xyz:XYZ100-USD"
    maker = new_signer().address
    await ex.fund(maker, 0, dexes={"xyz": 500_000})
    asset = ex.engine.asset_index("xyz:XYZ100")
    assert asset == 110_000
    ask = OrderRequest(asset, False, Decimal(25_000), Decimal(1), False, "Gtc")
    [status] = ex.engine.place_orders(maker, [ask])
    assert "resting" in status, status
    await ex.fund(harness.user, 0, dexes={"xyz": 10_000})
    conn = HyperliquidPerpetualConnector(
        harness.signer, [PAIR, xyz], network=ex.base_url, config=HyperliquidConfig(dead_man_switch=None)
    )
    recorder = TwapRecorder()
    conn.add_listener(recorder)
    await conn.start()
    try:
        twap = await conn.place_twap(xyz, TradeType.BUY, Decimal("0.01"), 5)  # $250 over 10 slices
        [start] = await recorder.wait_event(TwapStartedEvent)
        assert start.trading_pair == xyz
        advance_slices(harness, 9)
        [end] = await recorder.wait_event(TwapFinishedEvent)
        assert end.status == "finished" and twap.executed_amount_base == Decimal("0.01")
        assert {s.trading_pair for s in recorder.of(TwapSliceFilledEvent)} == {xyz}
        await recorder.wait_for(lambda: xyz in conn.account_positions, what="xyz position")
        assert conn.account_positions[xyz].amount == Decimal("0.01") and PAIR not in conn.account_positions
    finally:
        await conn.stop()
