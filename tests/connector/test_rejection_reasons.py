"""A refused order's reason says why, over real sockets against the local exchange.

Hyperliquid tells a refusal twice: the ``orderUpdates`` stream pushes the status code (``perpMarginRejected``)
and the placement reply carries the sentence (``Insufficient margin to place order. asset=0``). The stream
usually comes first on the socket the reply also travels on, so the failure is decided by the code: its reason
explains it at once (no waiting for the reply), and the order's reason becomes the reply's exact text once
the reply arrives.
"""

from __future__ import annotations

from decimal import Decimal

from tests.conformance.suite import Session
from tests.connector.harness import LocalExchangeHarness
from wingbeat.core.enums import OrderType
from wingbeat.core.events import OrderCreatedEvent, OrderFailedEvent
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.order_status_text import status_reason
from wingbeat.hyperliquid.user_stream_data_source import order_state_from_status

#: Every order status Hyperliquid documents for a refused or exchange-cancelled order.
DOCUMENTED = (
    "rejected", "marginCanceled", "vaultWithdrawalCanceled", "openInterestCapCanceled", "selfTradeCanceled",
    "reduceOnlyCanceled", "siblingFilledCanceled", "delistedCanceled", "liquidatedCanceled", "scheduledCancel",
    "tickRejected", "minTradeNtlRejected", "minTradeSpotNtlRejected", "perpMarginRejected",
    "reduceOnlyRejected", "badAloPxRejected", "iocCancelRejected", "badTriggerPxRejected",
    "marketOrderNoLiquidityRejected", "positionIncreaseAtOpenInterestCapRejected",
    "positionFlipAtOpenInterestCapRejected", "tooAggressiveAtOpenInterestCapRejected",
    "openInterestIncreaseRejected", "insufficientSpotBalanceRejected", "oracleRejected",
    "perpMaxPositionRejected",
)


def test_every_documented_status_is_explained_after_its_code() -> None:
    for status in DOCUMENTED:
        reason = status_reason(status)
        assert order_state_from_status(status) in (OrderState.FAILED, OrderState.CANCELED), status
        assert reason.startswith(status + ": ") and len(reason) > len(status) + 10, reason
    assert status_reason("canceled") == "canceled"  # the user's own cancel: nothing to explain
    assert status_reason("someNewRejected") == "someNewRejected"  # unknown: the venue's code, as it is


async def test_a_margin_refusal_says_insufficient_margin_at_once_then_carries_the_replys_text(
    session: Session, harness: LocalExchangeHarness
) -> None:
    conn, recorder = session.connector, session.recorder
    price = (harness.reference_price * Decimal("0.9")).quantize(Decimal(1))
    too_big = conn.buy(harness.trading_pair, Decimal(20), OrderType.LIMIT, price)  # ~1M USDC on 20k
    [failed] = await recorder.wait_event(OrderFailedEvent, too_big)
    assert "Insufficient margin to place order" in failed.reason, failed.reason
    # a later order's answer comes after the refused one's on the same socket: that reply was applied
    later = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, price)
    await recorder.wait_event(OrderCreatedEvent, later)
    order = conn.get_order(too_big)
    assert order is not None and order.current_state is OrderState.FAILED
    assert order.reason == "Insufficient margin to place order. asset=0"  # the venue's sentence, exact
    assert len(recorder.of(OrderFailedEvent, too_big)) == 1  # one failure, however many times it was told
