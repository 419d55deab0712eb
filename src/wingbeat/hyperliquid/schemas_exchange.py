"""Typed decoding of ``/exchange`` replies (REST or websocket ``post`` action replies).

``{"status":"ok","response":{"type":"order"|"cancel"|"default", "data":{"statuses":[...]}}}`` becomes
an :class:`ExchangeReply` with one typed status per order or cancel, in request order;
``{"status":"err","response":"<text>"}`` becomes ``ExchangeReply(ok=False, error=text)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wingbeat.core.frozen_init import fast_frozen_init
from wingbeat.hyperliquid.schemas import (
    MalformedMessageError,
    arr,
    obj,
    opt_str,
    req_dec,
    req_int,
)


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RestingStatus:
    """The order rests on the book (possibly after a partial fill)."""

    oid: int
    cloid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FilledStatus:
    """The order filled on arrival; for an IOC ``total_sz`` may be below the requested size."""

    oid: int
    total_sz: Decimal
    avg_px: Decimal
    cloid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorStatus:
    """The exchange refused this one order or cancel; ``message`` is its text."""

    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingStatus:
    """A bare status string: ``"waitingForFill"`` / ``"waitingForTrigger"`` (TP/SL children) or
    ``"success"`` (the answer to a cancel)."""

    kind: str

    @property
    def is_success(self) -> bool:
        """True for ``"success"``."""
        return self.kind == "success"


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapRunningStatus:
    """A ``twapOrder`` was accepted: ``{"running": {"twapId"}}``."""

    twap_id: int


ActionStatus = RestingStatus | FilledStatus | ErrorStatus | PendingStatus | TwapRunningStatus
"""One item of ``response.data.statuses`` (or the single ``response.data.status`` of a TWAP action)."""

_PENDING_KINDS = frozenset({"waitingForFill", "waitingForTrigger", "success"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeReply:
    """A decoded ``/exchange`` reply.

    ``ok`` False means the whole request was refused (``error`` holds the text). Otherwise
    ``response_type`` is ``"order"``, ``"cancel"``, ``"default"`` or another type, and
    ``statuses`` has one item per order / cancel for the batch types.
    """

    ok: bool
    response_type: str | None = None
    statuses: tuple[ActionStatus, ...] = ()
    error: str | None = None
    status: ActionStatus | None = None
    """The single ``response.data.status`` of ``twapOrder`` / ``twapCancel`` answers."""


def _cloid(d: dict[str, Any], what: str) -> str | None:
    cloid = opt_str(d, "cloid", what)
    return None if cloid is None else cloid.lower()


def parse_action_status(raw: Any, what: str = "status") -> ActionStatus:
    """Decode one element of ``response.data.statuses``."""
    if type(raw) is str:
        if raw not in _PENDING_KINDS:
            raise MalformedMessageError(f"{what}: unknown status {raw!r:.40}")
        return PendingStatus(kind=raw)
    d = obj(raw, what)
    if "resting" in d:
        r = obj(d["resting"], f"{what}.resting")
        return RestingStatus(oid=req_int(r, "oid", f"{what}.resting"), cloid=_cloid(r, f"{what}.resting"))
    if "filled" in d:
        f = obj(d["filled"], f"{what}.filled")
        w = f"{what}.filled"
        return FilledStatus(
            oid=req_int(f, "oid", w),
            total_sz=req_dec(f, "totalSz", w),
            avg_px=req_dec(f, "avgPx", w),
            cloid=_cloid(f, w),
        )
    if "running" in d:
        r = obj(d["running"], f"{what}.running")
        return TwapRunningStatus(twap_id=req_int(r, "twapId", f"{what}.running"))
    if "error" in d:
        message = d["error"]
        if type(message) is not str:
            raise MalformedMessageError(f"{what}.error: expected a string, got {type(message).__name__}")
        return ErrorStatus(message=message)
    raise MalformedMessageError(f"{what}: unknown status object with keys {sorted(d)[:5]}")


def parse_exchange_reply(raw: Any) -> ExchangeReply:
    """Decode an ``/exchange`` JSON reply."""
    d = obj(raw, "exchange")
    status = d.get("status")
    if status == "err":
        response = d.get("response")
        return ExchangeReply(ok=False, error=response if type(response) is str else str(response))
    if status != "ok":
        raise MalformedMessageError(f"exchange.status: expected 'ok' or 'err', got {status!r:.40}")
    response = obj(d.get("response"), "exchange.response")
    response_type = response.get("type")
    if type(response_type) is not str:
        raise MalformedMessageError("exchange.response: missing or non-string 'type'")
    data = response.get("data")
    if data is None:
        return ExchangeReply(ok=True, response_type=response_type)
    data = obj(data, "exchange.response.data")
    raw_statuses = data.get("statuses")
    if raw_statuses is None:
        single = data.get("status")
        status = None if single is None else parse_action_status(single, "exchange.response.data.status")
        return ExchangeReply(ok=True, response_type=response_type, status=status)
    items = arr(raw_statuses, "exchange.response.data.statuses")
    statuses = tuple(
        _resting(item) or parse_action_status(item, f"exchange.statuses[{i}]") for i, item in enumerate(items)
    )
    return ExchangeReply(ok=True, response_type=response_type, statuses=statuses)


def _resting(raw: Any) -> RestingStatus | None:
    """``parse_action_status`` of a well-formed ``{"resting": {"oid", "cloid"?}}`` (a batch's usual status),
    without building its error paths; None for anything else."""
    if type(raw) is not dict:
        return None
    resting = raw.get("resting")
    if type(resting) is not dict:
        return None
    oid, cloid = resting.get("oid"), resting.get("cloid")
    if type(oid) is not int or (cloid is not None and type(cloid) is not str):
        return None
    return RestingStatus(oid=oid, cloid=None if cloid is None else cloid.lower())
