"""``/exchange`` TWAP actions of the local exchange: ``twapOrder`` and ``twapCancel`` (L1 actions).

Decoded into typed fields and rebuilt in the canonical form the SDKs sign (``hyperliquid.twap_wire``);
the effects are in :mod:`wingbeat.sim.venue.twap_engine`. Both answer in an ok envelope whose
``data.status`` carries the outcome, a refusal included (Hyperliquid's own shape: ``{"running":
{"twapId"}}`` / ``"success"`` or ``{"error": text}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from wingbeat.core.errors import InvalidOrderError
from wingbeat.hyperliquid.twap_wire import twap_cancel_action, twap_spec_from_wire
from wingbeat.hyperliquid.wire import float_to_wire
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.twap_engine import TwapRequest

__all__ = ["TWAP_ACTIONS", "TwapCancel", "TwapMalformed", "dispatch_twap", "parse_twap"]

TWAP_ACTIONS = frozenset({"twapOrder", "twapCancel"})


class TwapMalformed(Exception):
    """A field that does not decode (answered 422 like any undecodable body)."""


class TwapCancel(NamedTuple):
    """A decoded ``twapCancel``."""

    asset: int
    twap_id: int


def parse_twap(action: Mapping[str, Any]) -> tuple[dict[str, Any], TwapRequest | TwapCancel]:
    """(canonical action, typed fields) of a ``twapOrder`` or ``twapCancel``."""
    try:
        if action["type"] == "twapCancel":
            cancel = TwapCancel(action["a"], action["t"])
            return twap_cancel_action(cancel.asset, cancel.twap_id), cancel
        if action.get("details") is not None:
            # newer twapOrders may carry a trigger and a stop price: not run here
            raise TwapMalformed(
                "details: TWAP trigger and stop prices are not supported by the local exchange"
            )
        spec = twap_spec_from_wire(action["twap"])
    except KeyError as exc:
        raise TwapMalformed(f"missing field `{exc.args[0]}`") from None
    except InvalidOrderError as exc:
        raise TwapMalformed(str(exc)) from None
    twap = {
        "a": spec.asset,
        "b": spec.is_buy,
        "s": float_to_wire(spec.size),
        "r": spec.reduce_only,
        "m": spec.minutes,
        "t": spec.randomize,
    }
    canonical = {"type": "twapOrder", "twap": twap}
    request = TwapRequest(spec.asset, spec.is_buy, spec.size, spec.reduce_only, spec.minutes, spec.randomize)
    return canonical, request


def dispatch_twap(engine: ExchangeEngine, user: str, fields: TwapRequest | TwapCancel) -> dict[str, Any]:
    """Carry out a TWAP action for ``user``: the ``response`` of the ok answer."""
    if isinstance(fields, TwapCancel):
        status = engine.cancel_twap(user, fields.asset, fields.twap_id)
        return {"type": "twapCancel", "data": {"status": status}}
    return {"type": "twapOrder", "data": {"status": engine.place_twap(user, fields)}}
