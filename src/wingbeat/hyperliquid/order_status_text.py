"""What each Hyperliquid order status means, as the reason a failed or cancelled order carries.

Hyperliquid tells a refused order twice: the placement reply carries a sentence (``"Insufficient margin to place
order. asset=0"``), and the ``orderUpdates`` stream (like ``orderStatus`` and ``historicalOrders``) the order's
status, a bare code (``"perpMarginRejected"``). Whichever arrives first decides the order: the reply's sentence is
kept as it is; a status gets the sentence here (:func:`status_reason`), the code first so it can still be matched
(``"perpMarginRejected: Insufficient margin to place order."``). The sentences are those the venue's replies use
for the same refusal (Hyperliquid's documented error strings), or say what happened where a status has no reply
(an order the exchange cancelled later). A status not listed (a new one) stays its bare code.
"""

from __future__ import annotations

__all__ = ["status_reason"]

_OI_CAP = (
    "the perp is at its open interest cap (HIP-3 dexes cap each perp and the dex): orders that would grow a "
    "position are refused, reducing stays allowed"
)

_SENTENCES = {
    # refused when placed (the reply's sentence, without its " asset=N" tail)
    "rejected": "the exchange refused the order (its reply states why)",
    "tickRejected": "Price must be divisible by tick size.",
    "minTradeNtlRejected": "Order must have minimum value of $10.",
    "minTradeSpotNtlRejected": "Order must have minimum value of 10 in the quote token.",
    "perpMarginRejected": "Insufficient margin to place order.",
    "reduceOnlyRejected": "Reduce only order would increase position.",
    "badAloPxRejected": "Post only order would have immediately matched.",
    "iocCancelRejected": "Order could not immediately match against any resting orders.",
    "badTriggerPxRejected": "Invalid TP/SL price.",
    "marketOrderNoLiquidityRejected": "No liquidity available for market order.",
    "positionIncreaseAtOpenInterestCapRejected": _OI_CAP,
    "positionFlipAtOpenInterestCapRejected": _OI_CAP,
    "tooAggressiveAtOpenInterestCapRejected": (
        "Order rejected due to price more aggressive than oracle while at open interest cap: " + _OI_CAP
    ),
    "openInterestIncreaseRejected": "Order would increase open interest too quickly: " + _OI_CAP,
    "insufficientSpotBalanceRejected": "Order has insufficient spot balance to trade.",
    "oracleRejected": "Order price too far from oracle.",
    "perpMaxPositionRejected": "Order would cause position to exceed margin tier limit at current leverage.",
    # cancelled by the exchange after it rested
    "marginCanceled": "cancelled by the exchange: the account lacked the margin to keep it",
    "vaultWithdrawalCanceled": "cancelled by the exchange for a vault withdrawal",
    "openInterestCapCanceled": "cancelled by the exchange: " + _OI_CAP,
    "selfTradeCanceled": "cancelled by the exchange: it would have traded against the account's own order",
    "reduceOnlyCanceled": "cancelled by the exchange: reduce-only, and the position it reduced is gone",
    "siblingFilledCanceled": "cancelled by the exchange: its sibling take-profit / stop-loss order filled",
    "delistedCanceled": "cancelled by the exchange: the asset was delisted",
    "liquidatedCanceled": "cancelled by the exchange: the account was liquidated",
    "scheduledCancel": "cancelled by the exchange: the scheduled cancel (dead man's switch) fired",
}


def status_reason(status: str) -> str:
    """The reason an order with venue status ``status`` carries: ``"<status>: <what it means>"``; a status with
    nothing to explain (``canceled`` by the user) or not known stays as it is."""
    sentence = _SENTENCES.get(status)
    return status if sentence is None else f"{status}: {sentence}"
