"""Typed decoding of Hyperliquid websocket frames.

A server frame is ``{"channel": <name>, "data": <payload>}``; :func:`parse_frame` splits it and the
``parse_*`` functions here (or the shared ones in :mod:`wingbeat.hyperliquid.schemas` for l2Book,
fills and orders) decode the payload. Errors are :class:`MalformedMessageError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from wingbeat.hyperliquid.schemas import (
    AssetCtx,
    MalformedMessageError,
    arr,
    obj,
    opt_bool,
    opt_str,
    parse_asset_ctx,
    parse_list,
    req_dec,
    req_int,
    req_side,
    req_str,
    to_decimal,
)
from wingbeat.hyperliquid.schemas_account import (
    ClearinghouseState,
    Fill,
    FundingPayment,
    OrderWithStatus,
    parse_clearinghouse_state,
    parse_fill,
    parse_funding_payment,
    parse_order_with_status,
)

__all__ = [
    "CANDLE_INTERVALS",
    "ActiveAssetCtx",
    "Bbo",
    "Candle",
    "ClearinghouseStateMessage",
    "Liquidation",
    "NonUserCancel",
    "PostReply",
    "Trade",
    "UserEvents",
    "UserFillsMessage",
    "UserFundingsMessage",
    "parse_active_asset_ctx",
    "parse_bbo",
    "parse_candle",
    "parse_clearinghouse_state_message",
    "parse_frame",
    "parse_order_updates",
    "parse_post_reply",
    "parse_subscription_ack",
    "parse_trades",
    "parse_user_events",
    "parse_user_fills_message",
    "parse_user_fundings_message",
    "parse_ws_all_mids",
]


def parse_frame(raw: bytes | str) -> tuple[str, Any]:
    """Split a server frame into ``(channel, data)``; ``data`` is ``None`` for ``pong``.

    The plain-text banner some servers send on connect is returned as channel ``""``.
    """
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        if text.startswith("Websocket connection established"):
            return "", None
        raise MalformedMessageError(f"websocket frame is not JSON: {text!r:.60}") from None
    if type(message) is not dict:
        raise MalformedMessageError(f"websocket frame: expected an object, got {type(message).__name__}")
    channel = message.get("channel")
    if type(channel) is not str:
        raise MalformedMessageError("websocket frame: missing or non-string 'channel'")
    return channel, message.get("data")


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One public trade; ``side`` is the aggressor's (``"B"`` buy, ``"A"`` sell)."""

    coin: str
    side: str
    px: Decimal
    sz: Decimal
    time_ms: int
    tid: int
    hash: str | None = None
    users: tuple[str, str] | None = None

    @property
    def is_buy(self) -> bool:
        """True when the aggressor bought."""
        return self.side == "B"


def _trade(raw: Any, what: str) -> Trade:
    d = obj(raw, what)
    users_raw = d.get("users")
    users: tuple[str, str] | None = None
    if users_raw is not None:
        pair = arr(users_raw, f"{what}.users")
        if len(pair) != 2 or type(pair[0]) is not str or type(pair[1]) is not str:
            raise MalformedMessageError(f"{what}.users: expected [buyer, seller] addresses")
        users = (pair[0], pair[1])
    return Trade(
        coin=req_str(d, "coin", what),
        side=req_side(d, "side", what),
        px=req_dec(d, "px", what),
        sz=req_dec(d, "sz", what),
        time_ms=req_int(d, "time", what),
        tid=req_int(d, "tid", what),
        hash=opt_str(d, "hash", what),
        users=users,
    )


def parse_trades(raw: Any) -> tuple[Trade, ...]:
    """Decode the ``trades`` channel payload."""
    return parse_list(raw, "trades", _trade)


@dataclass(frozen=True, slots=True, kw_only=True)
class Bbo:
    """Best bid and offer of one coin; a side is ``None`` when empty."""

    coin: str
    time_ms: int
    bid: tuple[Decimal, Decimal] | None
    ask: tuple[Decimal, Decimal] | None


def _bbo_level(raw: Any, what: str) -> tuple[Decimal, Decimal] | None:
    if raw is None:
        return None
    d = obj(raw, what)
    return req_dec(d, "px", what), req_dec(d, "sz", what)


def parse_bbo(raw: Any) -> Bbo:
    """Decode the ``bbo`` channel payload."""
    d = obj(raw, "bbo")
    pair = arr(d.get("bbo"), "bbo.bbo")
    if len(pair) != 2:
        raise MalformedMessageError(f"bbo.bbo: expected [bid, ask], got {len(pair)} items")
    return Bbo(
        coin=req_str(d, "coin", "bbo"),
        time_ms=req_int(d, "time", "bbo"),
        bid=_bbo_level(pair[0], "bbo.bid"),
        ask=_bbo_level(pair[1], "bbo.ask"),
    )


def parse_ws_all_mids(raw: Any) -> dict[str, Decimal]:
    """Decode the ``allMids`` channel payload ``{"mids": {coin: px}}``."""
    mids = obj(obj(raw, "allMids").get("mids"), "allMids.mids")
    return {coin: to_decimal(px, f"allMids.mids.{coin}") for coin, px in mids.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveAssetCtx:
    """``activeAssetCtx`` push: live context (mark, oracle, funding...) of one perpetual."""

    coin: str
    ctx: AssetCtx


def parse_active_asset_ctx(raw: Any) -> ActiveAssetCtx:
    """Decode the ``activeAssetCtx`` channel payload."""
    d = obj(raw, "activeAssetCtx")
    return ActiveAssetCtx(
        coin=req_str(d, "coin", "activeAssetCtx"),
        ctx=parse_asset_ctx(d.get("ctx"), "activeAssetCtx.ctx"),
    )


def parse_order_updates(raw: Any) -> tuple[OrderWithStatus, ...]:
    """Decode the ``orderUpdates`` channel payload."""
    return parse_list(raw, "orderUpdates", parse_order_with_status)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFillsMessage:
    """``userFills`` push; the first one after subscribing is the snapshot (``is_snapshot``)."""

    user: str
    fills: tuple[Fill, ...]
    is_snapshot: bool = False


def parse_user_fills_message(raw: Any) -> UserFillsMessage:
    """Decode the ``userFills`` channel payload."""
    d = obj(raw, "userFills")
    return UserFillsMessage(
        user=req_str(d, "user", "userFills").lower(),
        fills=parse_list(d.get("fills"), "userFills.fills", parse_fill),
        is_snapshot=bool(opt_bool(d, "isSnapshot", "userFills")),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFundingsMessage:
    """``userFundings`` push: funding payments of ``user``; the first one after subscribing is the
    snapshot of past payments (``is_snapshot``), then each hourly payment as it happens."""

    user: str
    fundings: tuple[FundingPayment, ...]
    is_snapshot: bool = False


def parse_user_fundings_message(raw: Any) -> UserFundingsMessage:
    """Decode the ``userFundings`` channel payload ``{"user", "fundings": [...], "isSnapshot"?}``."""
    d = obj(raw, "userFundings")
    return UserFundingsMessage(
        user=req_str(d, "user", "userFundings").lower(),
        fundings=parse_list(d.get("fundings"), "userFundings.fundings", parse_funding_payment),
        is_snapshot=bool(opt_bool(d, "isSnapshot", "userFundings")),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearinghouseStateMessage:
    """``clearinghouseState`` push: the perp account state of ``user`` on ``dex`` ("" = the first perp dex),
    the same shape as the ``/info`` answer."""

    user: str
    dex: str
    state: ClearinghouseState


def parse_clearinghouse_state_message(raw: Any) -> ClearinghouseStateMessage:
    """Decode the ``clearinghouseState`` channel payload ``{"dex", "user", "clearinghouseState"}``."""
    d = obj(raw, "clearinghouseState")
    return ClearinghouseStateMessage(
        user=req_str(d, "user", "clearinghouseState").lower(),
        dex=opt_str(d, "dex", "clearinghouseState") or "",
        state=parse_clearinghouse_state(d.get("clearinghouseState")),
    )


# --- candle ------------------------------------------------------------------------------------

CANDLE_INTERVALS: frozenset[str] = frozenset(
    {"1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M"}
)
"""Candle intervals Hyperliquid serves; case matters (``"1m"`` is a minute, ``"1M"`` a month)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Candle:
    """One OHLCV candle of ``coin`` over ``interval``, as pushed on the ``candle`` channel (the
    current candle again on every trade) and answered by ``candleSnapshot``.

    ``open_time_ms`` / ``close_time_ms`` bound the period (close = open + span - 1 ms); ``volume``
    is in the coin, ``n_trades`` counts the trades in the period.
    """

    coin: str
    interval: str
    open_time_ms: int
    close_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    n_trades: int


def parse_candle(raw: Any, what: str = "candle") -> Candle:
    """Decode one candle ``{"t","T","s","i","o","c","h","l","v","n"}`` (the ``candle`` channel
    payload, or an item of a ``candleSnapshot`` answer)."""
    d = obj(raw, what)
    return Candle(
        coin=req_str(d, "s", what),
        interval=req_str(d, "i", what),
        open_time_ms=req_int(d, "t", what),
        close_time_ms=req_int(d, "T", what),
        open=req_dec(d, "o", what),
        high=req_dec(d, "h", what),
        low=req_dec(d, "l", what),
        close=req_dec(d, "c", what),
        volume=req_dec(d, "v", what),
        n_trades=req_int(d, "n", what),
    )


# --- userEvents (channel "user") ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Liquidation:
    """``userEvents`` liquidation notice for the subscribed user."""

    lid: int
    liquidator: str
    liquidated_user: str
    liquidated_ntl_pos: Decimal
    liquidated_account_value: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class NonUserCancel:
    """An order canceled by the exchange, not by the user (e.g. margin, delisting)."""

    coin: str
    oid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UserEvents:
    """One ``userEvents`` push. Exactly one field is set for the kinds wingbeat uses; an event
    of another kind (twapHistory, twapSliceFills...) leaves all of them empty."""

    fills: tuple[Fill, ...] = ()
    funding: FundingPayment | None = None
    liquidation: Liquidation | None = None
    non_user_cancels: tuple[NonUserCancel, ...] = ()


def _liquidation(raw: Any, what: str) -> Liquidation:
    d = obj(raw, what)
    return Liquidation(
        lid=req_int(d, "lid", what),
        liquidator=req_str(d, "liquidator", what),
        liquidated_user=req_str(d, "liquidated_user", what),
        liquidated_ntl_pos=req_dec(d, "liquidated_ntl_pos", what),
        liquidated_account_value=req_dec(d, "liquidated_account_value", what),
    )


def _non_user_cancel(raw: Any, what: str) -> NonUserCancel:
    d = obj(raw, what)
    return NonUserCancel(coin=req_str(d, "coin", what), oid=req_int(d, "oid", what))


def parse_user_events(raw: Any) -> UserEvents:
    """Decode the payload of channel ``user`` (subscription ``userEvents``)."""
    d = obj(raw, "userEvents")
    if "fills" in d:
        return UserEvents(fills=parse_list(d["fills"], "userEvents.fills", parse_fill))
    if "funding" in d:
        return UserEvents(funding=parse_funding_payment(d["funding"], "userEvents.funding"))
    if "liquidation" in d:
        return UserEvents(liquidation=_liquidation(d["liquidation"], "userEvents.liquidation"))
    if "nonUserCancel" in d:
        return UserEvents(
            non_user_cancels=parse_list(d["nonUserCancel"], "userEvents.nonUserCancel", _non_user_cancel)
        )
    return UserEvents()


# --- post replies, subscription acks, errors ---------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PostReply:
    """Reply to a websocket ``post``.

    ``kind`` is ``"info"`` (``payload`` = the info answer's data), ``"action"`` (``payload`` = the
    exact ``/exchange`` JSON reply) or ``"error"`` (``payload`` = the error text).
    """

    id: int
    kind: str
    payload: Any


def parse_post_reply(raw: Any) -> PostReply:
    """Decode the ``post`` channel payload."""
    d = obj(raw, "post")
    post_id = req_int(d, "id", "post")
    response = obj(d.get("response"), "post.response")
    kind = req_str(response, "type", "post.response")
    if kind not in ("info", "action", "error"):
        raise MalformedMessageError(f"post.response.type: unexpected {kind!r:.30}")
    if "payload" not in response:
        raise MalformedMessageError("post.response: missing field 'payload'")
    payload = response["payload"]
    if kind == "info":
        payload = obj(payload, "post.response.payload").get("data")
    elif kind == "error":
        payload = payload if type(payload) is str else str(payload)
    return PostReply(id=post_id, kind=kind, payload=payload)


def parse_subscription_ack(raw: Any) -> tuple[str, dict[str, Any]]:
    """Decode a ``subscriptionResponse`` payload into ``(method, subscription)``."""
    d = obj(raw, "subscriptionResponse")
    return (
        req_str(d, "method", "subscriptionResponse"),
        obj(d.get("subscription"), "subscriptionResponse.subscription"),
    )
