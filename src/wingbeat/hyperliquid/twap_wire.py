"""Native TWAP actions on the wire: ``twapOrder`` and ``twapCancel`` (L1 actions, signed like orders).

Shapes from Hyperliquid's exchange-endpoint docs as the SDKs send them (ccxt's ``create_twap_order``
and ``cancel_twap_order``, the nktkas TypeScript SDK): ``{"type": "twapOrder", "twap": {"a": asset,
"b": is_buy, "s": size, "r": reduce_only, "m": minutes, "t": randomize}}`` and ``{"type":
"twapCancel", "a": asset, "t": twap_id}``, keys in that order (the msgpack hash depends on it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wingbeat.core.errors import InvalidOrderError
from wingbeat.hyperliquid.wire import float_to_wire

__all__ = [
    "TWAP_MAX_MINUTES",
    "TWAP_MIN_MINUTES",
    "TwapSpec",
    "twap_cancel_action",
    "twap_order_action",
    "twap_spec_from_wire",
]

TWAP_MIN_MINUTES = 5
"""The shortest TWAP Hyperliquid accepts, in minutes."""
TWAP_MAX_MINUTES = 1440
"""The longest TWAP Hyperliquid accepts, in minutes (24 hours; the nktkas SDK's action schema)."""


@dataclass(frozen=True, slots=True)
class TwapSpec:
    """One ``twapOrder``: total ``size`` of ``asset`` over ``minutes``."""

    asset: int
    is_buy: bool
    size: Decimal
    reduce_only: bool
    minutes: int
    randomize: bool


def _int(value: object, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidOrderError(f"{field} must be an integer >= {minimum}, got {value!r}")
    return value


def _bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidOrderError(f"{field} must be a bool, got {value!r}")
    return value


def twap_order_action(spec: TwapSpec) -> dict[str, Any]:
    """The ``twapOrder`` action for ``spec`` (the size written as ``float_to_wire`` writes it)."""
    if not spec.size.is_finite() or spec.size <= 0:
        raise InvalidOrderError(f"TWAP size must be positive, got {spec.size}")
    twap = {
        "a": _int(spec.asset, "asset"),
        "b": _bool(spec.is_buy, "is_buy"),
        "s": float_to_wire(spec.size),
        "r": _bool(spec.reduce_only, "reduce_only"),
        "m": _int(spec.minutes, "minutes"),
        "t": _bool(spec.randomize, "randomize"),
    }
    return {"type": "twapOrder", "twap": twap}


def twap_cancel_action(asset: int, twap_id: int) -> dict[str, Any]:
    """The ``twapCancel`` action stopping TWAP ``twap_id`` of ``asset``."""
    return {"type": "twapCancel", "a": _int(asset, "asset"), "t": _int(twap_id, "twap id")}


def twap_spec_from_wire(twap: Mapping[str, Any]) -> TwapSpec:
    """Decode the ``twap`` object of a received ``twapOrder``; InvalidOrderError on any malformed field.

    ``twap_order_action(twap_spec_from_wire(w))["twap"]`` is ``w`` in canonical form.
    """
    if not isinstance(twap, Mapping):
        raise InvalidOrderError(f"twap must be an object, got {type(twap).__name__}")
    try:
        size = twap["s"]
        if (
            not isinstance(size, str)
            or not size
            or not size.replace(".", "", 1).isdigit()
            or not size.isascii()
        ):
            raise InvalidOrderError(f"s must be a decimal string, got {size!r}")
        return TwapSpec(
            asset=_int(twap["a"], "a"),
            is_buy=_bool(twap["b"], "b"),
            size=Decimal(size),
            reduce_only=_bool(twap["r"], "r"),
            minutes=_int(twap["m"], "m"),
            randomize=_bool(twap["t"], "t"),
        )
    except KeyError as exc:
        raise InvalidOrderError(f"missing field `{exc.args[0]}`") from None
