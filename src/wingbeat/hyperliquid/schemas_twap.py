"""Typed decoding of Hyperliquid's native TWAP answers: ``twapHistory`` and ``userTwapSliceFills`` (REST
``/info``) and the ``userTwapHistory`` / ``userTwapSliceFills`` websocket channels.

Shapes as Hyperliquid sends them (the nktkas SDK's types; Hyperliquid documents the calls): a history entry
is ``{"time": seconds, "state": {coin, user, side, sz, executedSz, executedNtl, minutes, reduceOnly,
randomize, timestamp (ms)}, "status": {"status": "activated"|"finished"|"terminated"|"error",
"description"?}, "twapId"?}``; a slice fill is ``{"fill": <userFills fill>, "twapId"}``. Channel payloads
are ``{"user", "history" | "twapSliceFills": [...], "isSnapshot"?}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wingbeat.hyperliquid.schemas_account import Fill, parse_fill
from wingbeat.hyperliquid.schemas_fields import (
    obj,
    opt_bool,
    opt_int,
    opt_str,
    parse_list,
    req_bool,
    req_dec,
    req_int,
    req_side,
    req_str,
)

__all__ = [
    "TwapHistoryEntry",
    "TwapHistoryMessage",
    "TwapSliceFill",
    "TwapSliceFillsMessage",
    "TwapVenueState",
    "parse_twap_history",
    "parse_twap_history_message",
    "parse_twap_slice_fills",
    "parse_twap_slice_fills_message",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapVenueState:
    """A TWAP's ``state`` as the venue reports it: what was asked and what is executed so far."""

    coin: str
    side: str
    size: Decimal
    executed_size: Decimal
    executed_notional: Decimal
    minutes: int
    reduce_only: bool
    randomize: bool
    timestamp_ms: int

    @property
    def is_buy(self) -> bool:
        """True for a buying TWAP."""
        return self.side == "B"


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapHistoryEntry:
    """One start or end of a TWAP: ``status`` is ``activated``, ``finished``, ``terminated`` or ``error``
    (``description`` the venue's text, when it gives one). ``twap_id`` is None in entries that lack it."""

    time_s: int
    state: TwapVenueState
    status: str
    description: str | None
    twap_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapSliceFill:
    """One fill of a TWAP slice."""

    twap_id: int
    fill: Fill


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapHistoryMessage:
    """``userTwapHistory`` push; the first after subscribing is the snapshot (``is_snapshot``)."""

    user: str
    history: tuple[TwapHistoryEntry, ...]
    is_snapshot: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapSliceFillsMessage:
    """``userTwapSliceFills`` push; the first after subscribing is the snapshot (``is_snapshot``)."""

    user: str
    fills: tuple[TwapSliceFill, ...]
    is_snapshot: bool = False


def _state(raw: Any, what: str) -> TwapVenueState:
    d = obj(raw, what)
    return TwapVenueState(
        coin=req_str(d, "coin", what),
        side=req_side(d, "side", what),
        size=req_dec(d, "sz", what),
        executed_size=req_dec(d, "executedSz", what),
        executed_notional=req_dec(d, "executedNtl", what),
        minutes=req_int(d, "minutes", what),
        reduce_only=req_bool(d, "reduceOnly", what),
        randomize=req_bool(d, "randomize", what),
        timestamp_ms=req_int(d, "timestamp", what),
    )


def _history_entry(raw: Any, what: str) -> TwapHistoryEntry:
    d = obj(raw, what)
    status = obj(d.get("status"), f"{what}.status")
    return TwapHistoryEntry(
        time_s=req_int(d, "time", what),
        state=_state(d.get("state"), f"{what}.state"),
        status=req_str(status, "status", f"{what}.status"),
        description=opt_str(status, "description", f"{what}.status"),
        twap_id=opt_int(d, "twapId", what),
    )


def _slice_fill(raw: Any, what: str) -> TwapSliceFill:
    d = obj(raw, what)
    return TwapSliceFill(twap_id=req_int(d, "twapId", what), fill=parse_fill(d.get("fill"), f"{what}.fill"))


def parse_twap_history(raw: Any) -> tuple[TwapHistoryEntry, ...]:
    """Decode a ``twapHistory`` answer (oldest first, as sent)."""
    return parse_list(raw, "twapHistory", _history_entry)


def parse_twap_slice_fills(raw: Any, what: str = "userTwapSliceFills") -> tuple[TwapSliceFill, ...]:
    """Decode a ``userTwapSliceFills`` / ``userTwapSliceFillsByTime`` answer."""
    return parse_list(raw, what, _slice_fill)


def parse_twap_history_message(raw: Any) -> TwapHistoryMessage:
    """Decode the ``userTwapHistory`` channel payload."""
    d = obj(raw, "userTwapHistory")
    return TwapHistoryMessage(
        user=req_str(d, "user", "userTwapHistory").lower(),
        history=parse_list(d.get("history"), "userTwapHistory.history", _history_entry),
        is_snapshot=bool(opt_bool(d, "isSnapshot", "userTwapHistory")),
    )


def parse_twap_slice_fills_message(raw: Any) -> TwapSliceFillsMessage:
    """Decode the ``userTwapSliceFills`` channel payload."""
    d = obj(raw, "userTwapSliceFills")
    return TwapSliceFillsMessage(
        user=req_str(d, "user", "userTwapSliceFills").lower(),
        fills=parse_twap_slice_fills(d.get("twapSliceFills"), "userTwapSliceFills.twapSliceFills"),
        is_snapshot=bool(opt_bool(d, "isSnapshot", "userTwapSliceFills")),
    )
