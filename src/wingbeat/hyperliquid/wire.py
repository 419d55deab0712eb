"""Hyperliquid wire formats: numbers, client order ids, order and action dicts, price and size rules.

Every builder returns exactly the dict the exchange hashes when it checks a signature: the L1 action hash
is the keccak of ``msgpack(action)``, and msgpack keeps dict insertion order, so the key order written
here IS the protocol (it matches the official SDK and the exchange's canonical re-serialisation).
Inputs are typed (``OrderSpec`` with Decimal price and size); bad input raises ``InvalidOrderError``
with a message naming the offending field, before anything is built.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, TypeAlias

from wingbeat.core.errors import InvalidOrderError
from wingbeat.core.frozen_init import fast_frozen_init
from wingbeat.core.trading_rule import TradingRule

__all__ = [
    "GTC",
    "MIN_ORDER_VALUE",
    "Builder",
    "Cloid",
    "Grouping",
    "LimitType",
    "ModifySpec",
    "Number",
    "OidOrCloid",
    "OrderSpec",
    "PriorityFee",
    "Tif",
    "Tpsl",
    "TpslGrouping",
    "TriggerType",
    "batch_modify_action",
    "cancel_action",
    "cancel_by_cloid_action",
    "check_priority_orders",
    "float_to_wire",
    "is_valid_price",
    "is_valid_size",
    "limit_order_wire",
    "modify_action",
    "new_cloid",
    "order_action",
    "order_spec_from_wire",
    "order_wire",
    "perp_trading_rule",
    "resolve_asset",
    "schedule_cancel_action",
    "spot_trading_rule",
    "update_isolated_margin_action",
    "update_leverage_action",
    "usd_to_ntli",
    "wired_order_action",
]

Number: TypeAlias = Decimal | int | float | str
Tif: TypeAlias = Literal["Gtc", "Ioc", "Alo"]
Tpsl: TypeAlias = Literal["tp", "sl"]
TpslGrouping: TypeAlias = Literal["na", "normalTpsl", "positionTpsl"]

MIN_ORDER_VALUE: Final = Decimal(10)
"""Minimum notional (price x size, in USDC) of a perp order."""

_ZERO: Final = Decimal(0)
_FLOAT_TOLERANCE: Final = 1e-12
_TIFS: Final = frozenset(("Gtc", "Ioc", "Alo"))
_TPSLS: Final = frozenset(("tp", "sl"))
_GROUPINGS: Final = frozenset(("na", "normalTpsl", "positionTpsl"))
_ADDRESS_RE: Final = re.compile(r"0x[0-9a-fA-F]{40}")
_CLOID_RE: Final = re.compile(r"0x[0-9a-fA-F]{32}")
_MAX_CLOID: Final = (1 << 128) - 1


# --------------------------------------------------------------------------------------------- numbers


def float_to_wire(x: Number) -> str:
    """Format a price or size the way Hyperliquid hashes it: at most 8 decimals, no exponent, no trailing zeros.

    Accepts Decimal, int, str and float. A value that 8 decimals cannot represent exactly is refused
    rather than silently rounded (floats get the SDK's 1e-12 tolerance, so ``0.1 + 0.2`` gives ``"0.3"``).
    Negative zero is written ``"0"`` (the SDK intends this but writes ``"-0"``).
    """
    if isinstance(x, bool):
        raise InvalidOrderError(f"float_to_wire expects a number, got bool {x!r}")
    if isinstance(x, float):
        if not math.isfinite(x):
            raise InvalidOrderError(f"float_to_wire: {x!r} is not a finite number")
        rounded = f"{x:.8f}"
        if abs(float(rounded) - x) >= _FLOAT_TOLERANCE:
            raise InvalidOrderError(f"float_to_wire: {x!r} has more than 8 decimals (would round)")
        value = Decimal(rounded)
    elif isinstance(x, Decimal):
        value = x
    elif isinstance(x, int | str):
        try:
            value = Decimal(x)
        except InvalidOperation:
            raise InvalidOrderError(f"float_to_wire: {x!r} is not a number") from None
    else:
        raise InvalidOrderError(f"float_to_wire expects Decimal, int, float or str, got {type(x).__name__}")
    if not value.is_finite():
        raise InvalidOrderError(f"float_to_wire: {x!r} is not a finite number")
    return _finite_decimal_wire(value, x)


def _finite_decimal_wire(value: Decimal, original: object) -> str:
    # Plain formatting, not normalize(): normalize() rounds to the context precision. str() is the plain form
    # unless it picks an exponent (1E+3, 1E-8), and costs half of format(value, "f") (twice per order sent).
    text = str(value)
    if "E" in text:
        text = f"{value:f}"
    whole, _, frac = text.partition(".")
    if frac:
        frac = frac.rstrip("0")
        if len(frac) > 8:
            raise InvalidOrderError(f"float_to_wire: {original!r} has more than 8 decimals (would round)")
        if frac:
            return f"{whole}.{frac}"
    return "0" if whole == "-0" else whole


def usd_to_ntli(amount: Number) -> int:
    """USDC amount -> the integer micro-dollars (``ntli``) of ``updateIsolatedMargin``; refuses sub-micro amounts."""
    value = _decimal(amount, "amount")
    scaled = value.scaleb(6)
    if scaled != scaled.to_integral_value():
        raise InvalidOrderError(f"amount {amount!r} has more than 6 decimals")
    return int(scaled)


def _decimal(x: Number, field: str) -> Decimal:
    """Convert a user number to a finite Decimal (floats through their shortest repr)."""
    if isinstance(x, bool):
        raise InvalidOrderError(f"{field} must be a number, got bool")
    try:
        value = Decimal(repr(x)) if isinstance(x, float) else Decimal(x)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidOrderError(f"{field} must be a number, got {x!r}") from None
    if not value.is_finite():
        raise InvalidOrderError(f"{field} must be finite, got {x!r}")
    return value


# --------------------------------------------------------------------------------------------- cloid


_cloid_prefix = os.urandom(8).hex()
_cloid_counter = itertools.count(1)


def _reseed_cloids() -> None:
    """A forked child must not continue its parent's sequence: new prefix, new counter."""
    global _cloid_prefix, _cloid_counter
    _cloid_prefix = os.urandom(8).hex()
    _cloid_counter = itertools.count(1)


os.register_at_fork(after_in_child=_reseed_cloids)


def new_cloid() -> str:
    """The string of a fresh cloid (``Cloid.new().raw`` without building the object: one per order placed)."""
    return f"0x{_cloid_prefix}{next(_cloid_counter):016x}"


@dataclass(frozen=True, slots=True)
class Cloid:
    """A Hyperliquid client order id: 16 bytes written ``0x`` + 32 lowercase hex digits.

    A wingbeat client order id of a Hyperliquid order IS its cloid string, so the id is recoverable
    from anything the exchange reports (``str(cloid)`` / ``Cloid.from_str(client_order_id)``).
    """

    raw: str

    def __post_init__(self) -> None:
        if not isinstance(self.raw, str) or _CLOID_RE.fullmatch(self.raw) is None:
            raise InvalidOrderError(f"cloid must be '0x' followed by 32 hex digits, got {self.raw!r}")
        if self.raw != self.raw.lower():
            object.__setattr__(self, "raw", self.raw.lower())

    @classmethod
    def new(cls) -> Cloid:
        """A fresh cloid, unique across processes: a random 8-byte prefix per process and a counter."""
        return cls(new_cloid())

    @classmethod
    def from_int(cls, value: int) -> Cloid:
        """The cloid whose 16 bytes are ``value`` big-endian (``Cloid.from_int(1)`` is ``0x000...01``)."""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_CLOID:
            raise InvalidOrderError(f"cloid integer must be in [0, 2**128), got {value!r}")
        return cls(f"0x{value:032x}")

    @classmethod
    def from_str(cls, value: str) -> Cloid:
        """Parse and validate a cloid string (case-insensitive; stored lowercase)."""
        if cls is Cloid and type(value) is str and _LOWER_CLOID_RE.fullmatch(value) is not None:
            # already in its stored form (every client order id wingbeat makes): the same object, built
            # without the dataclass __init__ (this runs for every order sent and every cancel by cloid)
            cloid = _new_object(Cloid)
            _set_raw(cloid, value)
            return cloid
        return cls(value)

    def to_raw(self) -> str:
        """The wire string (the official SDK's name for it)."""
        return self.raw

    def to_int(self) -> int:
        """The 16 bytes as an integer."""
        return int(self.raw, 16)

    def __str__(self) -> str:
        return self.raw


_LOWER_CLOID_RE: Final = re.compile(r"0x[0-9a-f]{32}")
_new_object = object.__new__
_set_raw = vars(Cloid)["raw"].__set__  # the slot's descriptor (the class is frozen)

OidOrCloid: TypeAlias = int | Cloid


# --------------------------------------------------------------------------------------------- orders


@dataclass(frozen=True, slots=True)
class LimitType:
    """A resting or immediate limit order: ``Gtc`` (normal), ``Ioc`` (remainder cancelled), ``Alo`` (post-only)."""

    tif: Tif = "Gtc"


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerType:
    """A take-profit / stop-loss trigger; ``is_market`` executes as market when triggered, else at the limit price."""

    trigger_px: Decimal
    is_market: bool
    tpsl: Tpsl


GTC: Final = LimitType("Gtc")


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSpec:
    """One order as the caller means it: asset index, side, Decimal price and size, type, flags and cloid."""

    asset: int
    is_buy: bool
    price: Decimal
    size: Decimal
    reduce_only: bool = False
    order_type: LimitType | TriggerType = GTC
    cloid: Cloid | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModifySpec:
    """Replace the order ``oid`` (exchange id or cloid) by ``order``."""

    oid: OidOrCloid
    order: OrderSpec


@dataclass(frozen=True, slots=True)
class PriorityFee:
    """Order (write) priority: the ``grouping`` ``{"p": rate}`` of an order action (Hyperliquid docs,
    "Priority fees"; the SDK's ``PriorityGrouping``). ``rate`` is a fraction of the notional in units of
    1e-8 (10000 = 1 basis point), paid in HYPE from the undelegated staking balance. Accepted only for a
    batch of Ioc orders, or of Alo orders none of them reduce-only (so never with TP/SL grouping)."""

    rate: int

    def __post_init__(self) -> None:
        _check_int(self.rate, "priority fee rate", minimum=0)

    def to_wire(self) -> dict[str, int]:
        """The grouping as the action carries it (and the exchange hashes it)."""
        return {"p": self.rate}


Grouping: TypeAlias = TpslGrouping | PriorityFee


def check_priority_orders(wires: Sequence[Mapping[str, Any]]) -> None:
    """Raise ``InvalidOrderError`` unless a priority fee may ride on the wire orders ``wires`` (``order_wire``
    dicts): all Ioc limit orders, or all Alo limit orders none of them reduce-only (as Hyperliquid's
    priority-fee docs restrict it)."""
    tifs = {w["t"]["limit"]["tif"] if "limit" in w["t"] else None for w in wires}
    if tifs == {"Ioc"}:
        return
    if tifs == {"Alo"} and not any(w["r"] for w in wires):
        return
    raise InvalidOrderError("a priority fee needs every order of the batch Ioc, or every order Alo and "
                            "not reduce-only")


@dataclass(frozen=True, slots=True)
class Builder:
    """A builder-code fee: ``address`` receives ``fee_tenths_bp`` tenths of a basis point of the notional."""

    address: str
    fee_tenths_bp: int

    def __post_init__(self) -> None:
        _check_address(self.address, "builder address")
        _check_int(self.fee_tenths_bp, "builder fee", minimum=0)


def _check_int(value: object, field: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidOrderError(f"{field} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise InvalidOrderError(f"{field} must be >= {minimum}, got {value}")
    return value


def _check_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidOrderError(f"{field} must be a bool, got {value!r}")
    return value


def _check_address(value: object, field: str) -> str:
    if not isinstance(value, str) or _ADDRESS_RE.fullmatch(value) is None:
        raise InvalidOrderError(f"{field} must be '0x' followed by 40 hex digits, got {value!r}")
    return value.lower()


def _positive_wire(value: object, field: str) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidOrderError(f"{field} must be finite, got {value}")
        if value > _ZERO:
            return _finite_decimal_wire(value, value)
    elif isinstance(value, int) and not isinstance(value, bool):
        if value > 0:
            return str(value)
    else:
        raise InvalidOrderError(f"{field} must be a Decimal, got {type(value).__name__}")
    raise InvalidOrderError(f"{field} must be positive, got {value}")


def _order_type_wire(order_type: LimitType | TriggerType) -> dict[str, Any]:
    if isinstance(order_type, LimitType):
        if order_type.tif not in _TIFS:
            raise InvalidOrderError(f"tif must be one of Gtc, Ioc, Alo, got {order_type.tif!r}")
        return {"limit": {"tif": order_type.tif}}
    if isinstance(order_type, TriggerType):
        if order_type.tpsl not in _TPSLS:
            raise InvalidOrderError(f"tpsl must be 'tp' or 'sl', got {order_type.tpsl!r}")
        return {
            "trigger": {
                "isMarket": _check_bool(order_type.is_market, "is_market"),
                "triggerPx": _positive_wire(order_type.trigger_px, "trigger price"),
                "tpsl": order_type.tpsl,
            }
        }
    raise InvalidOrderError(f"order type must be LimitType or TriggerType, got {type(order_type).__name__}")


def _typed_limit_wire(
    asset: object, is_buy: object, price: object, size: object, reduce_only: object, tif: object
) -> dict[str, Any] | None:
    """The ``a b p s r t`` keys of a limit order whose fields already have their wire types (every order a
    connector sends): only the numbers are left to check, with ``order_wire``'s errors; None when a field has
    another type (the checked path then decides and names it)."""
    if type(asset) is int and asset >= 0 and type(is_buy) is bool and type(reduce_only) is bool and tif in _TIFS:
        return {
            "a": asset,
            "b": is_buy,
            "p": _positive_wire(price, "price"),
            "s": _positive_wire(size, "size"),
            "r": reduce_only,
            "t": {"limit": {"tif": tif}},
        }
    return None


def order_wire(spec: OrderSpec) -> dict[str, Any]:
    """The wire dict of one order: keys ``a b p s r t`` and ``c`` when a cloid is set, in that order."""
    order_type, cloid = spec.order_type, spec.cloid
    if type(order_type) is LimitType and (cloid is None or type(cloid) is Cloid):
        typed = _typed_limit_wire(spec.asset, spec.is_buy, spec.price, spec.size, spec.reduce_only, order_type.tif)
        if typed is not None:
            if cloid is not None:
                typed["c"] = cloid.raw
            return typed
    wire = {
        "a": _check_int(spec.asset, "asset", minimum=0),
        "b": _check_bool(spec.is_buy, "is_buy"),
        "p": _positive_wire(spec.price, "price"),
        "s": _positive_wire(spec.size, "size"),
        "r": _check_bool(spec.reduce_only, "reduce_only"),
        "t": _order_type_wire(spec.order_type),
    }
    if spec.cloid is not None:
        if not isinstance(spec.cloid, Cloid):
            raise InvalidOrderError(f"cloid must be a Cloid, got {type(spec.cloid).__name__}")
        wire["c"] = spec.cloid.raw
    return wire


def limit_order_wire(
    asset: int, is_buy: bool, price: Decimal, size: Decimal, reduce_only: bool, tif: Tif, cloid: str
) -> dict[str, Any]:
    """:func:`order_wire` of the limit order made of these fields and ``Cloid.from_str(cloid)``: the same dict and
    the same errors, without building the ``OrderSpec`` and the ``Cloid`` when the fields are already of their
    wire types and the cloid in its stored form (every order a connector sends, once per order sent)."""
    if type(cloid) is str and _LOWER_CLOID_RE.fullmatch(cloid) is not None:
        typed = _typed_limit_wire(asset, is_buy, price, size, reduce_only, tif)
        if typed is not None:
            typed["c"] = cloid
            return typed
    spec = OrderSpec(asset=asset, is_buy=is_buy, price=price, size=size, reduce_only=reduce_only,
                     order_type=LimitType(tif), cloid=Cloid.from_str(cloid))
    return order_wire(spec)


def order_action(
    orders: Sequence[OrderSpec], *, grouping: Grouping = "na", builder: Builder | None = None
) -> dict[str, Any]:
    """``{"type":"order","orders":[...],"grouping":g}`` plus ``"builder":{"b","f"}`` when a builder fee is set;
    a :class:`PriorityFee` grouping is written ``{"p": rate}``."""
    return wired_order_action([order_wire(o) for o in orders], grouping=grouping, builder=builder)


def wired_order_action(
    wires: list[dict[str, Any]], *, grouping: Grouping = "na", builder: Builder | None = None
) -> dict[str, Any]:
    """:func:`order_action` of orders already in their wire form (``order_wire`` dicts, kept as given)."""
    if not wires:
        raise InvalidOrderError("an order action needs at least one order")
    wired: str | dict[str, int]
    if isinstance(grouping, PriorityFee):
        check_priority_orders(wires)
        wired = grouping.to_wire()
    elif grouping in _GROUPINGS:
        wired = grouping
    else:
        raise InvalidOrderError(f"grouping must be na, normalTpsl, positionTpsl or a PriorityFee, got {grouping!r}")
    action: dict[str, Any] = {
        "type": "order",
        "orders": wires,
        "grouping": wired,
    }
    if builder is not None:
        action["builder"] = {"b": builder.address.lower(), "f": builder.fee_tenths_bp}
    return action


def cancel_action(cancels: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """Cancel by exchange order id: ``cancels`` is a sequence of ``(asset, oid)``."""
    if not cancels:
        raise InvalidOrderError("a cancel action needs at least one cancel")
    return {
        "type": "cancel",
        "cancels": [
            {"a": _check_int(a, "asset", minimum=0), "o": _check_int(o, "oid", minimum=0)} for a, o in cancels
        ],
    }


def cancel_by_cloid_action(cancels: Sequence[tuple[int, Cloid]]) -> dict[str, Any]:
    """Cancel by client order id: ``cancels`` is a sequence of ``(asset, cloid)`` (wire keys ``asset``, ``cloid``)."""
    if not cancels:
        raise InvalidOrderError("a cancelByCloid action needs at least one cancel")
    out = []
    for asset, cloid in cancels:
        if not isinstance(cloid, Cloid):
            raise InvalidOrderError(f"cloid must be a Cloid, got {type(cloid).__name__}")
        out.append({"asset": _check_int(asset, "asset", minimum=0), "cloid": cloid.raw})
    return {"type": "cancelByCloid", "cancels": out}


def _oid_wire(oid: OidOrCloid) -> int | str:
    if isinstance(oid, Cloid):
        return oid.raw
    return _check_int(oid, "oid", minimum=0)


def modify_action(modify: ModifySpec) -> dict[str, Any]:
    """``{"type":"modify","oid":..,"order":wire}`` (the single-order form; the SDK only sends batchModify)."""
    return {"type": "modify", "oid": _oid_wire(modify.oid), "order": order_wire(modify.order)}


def batch_modify_action(modifies: Sequence[ModifySpec]) -> dict[str, Any]:
    """``{"type":"batchModify","modifies":[{"oid","order"}...]}``."""
    if not modifies:
        raise InvalidOrderError("a batchModify action needs at least one modify")
    return {
        "type": "batchModify",
        "modifies": [{"oid": _oid_wire(m.oid), "order": order_wire(m.order)} for m in modifies],
    }


def schedule_cancel_action(time_ms: int | None = None) -> dict[str, Any]:
    """Dead man's switch: cancel all orders at ``time_ms``; ``None`` clears a scheduled cancel."""
    if time_ms is None:
        return {"type": "scheduleCancel"}
    return {"type": "scheduleCancel", "time": _check_int(time_ms, "time", minimum=0)}


def update_leverage_action(asset: int, *, is_cross: bool, leverage: int) -> dict[str, Any]:
    """Set an asset's leverage and margin mode (cross or isolated)."""
    return {
        "type": "updateLeverage",
        "asset": _check_int(asset, "asset", minimum=0),
        "isCross": _check_bool(is_cross, "is_cross"),
        "leverage": _check_int(leverage, "leverage", minimum=1),
    }


def update_isolated_margin_action(asset: int, *, is_buy: bool, amount_usd: Number) -> dict[str, Any]:
    """Add (or, with a negative amount, remove) isolated margin; the wire amount is integer micro-USDC."""
    return {
        "type": "updateIsolatedMargin",
        "asset": _check_int(asset, "asset", minimum=0),
        "isBuy": _check_bool(is_buy, "is_buy"),
        "ntli": usd_to_ntli(amount_usd),
    }


def order_spec_from_wire(wire: Mapping[str, Any]) -> OrderSpec:
    """Decode an order wire dict (as received by an exchange) into an ``OrderSpec``; raises on any malformed field.

    ``order_wire(order_spec_from_wire(w))`` is ``w`` in canonical key order and number format.
    """
    if not isinstance(wire, Mapping):
        raise InvalidOrderError(f"order must be an object, got {type(wire).__name__}")
    try:
        kind = wire["t"]
        order_type: LimitType | TriggerType
        if isinstance(kind, Mapping) and "limit" in kind:
            tif = kind["limit"]["tif"]
            if tif not in _TIFS:
                raise InvalidOrderError(f"tif must be one of Gtc, Ioc, Alo, got {tif!r}")
            order_type = LimitType(tif)
        elif isinstance(kind, Mapping) and "trigger" in kind:
            trig = kind["trigger"]
            if trig["tpsl"] not in _TPSLS:
                raise InvalidOrderError(f"tpsl must be 'tp' or 'sl', got {trig['tpsl']!r}")
            order_type = TriggerType(
                trigger_px=_wire_decimal(trig["triggerPx"], "triggerPx"),
                is_market=_check_bool(trig["isMarket"], "isMarket"),
                tpsl=trig["tpsl"],
            )
        else:
            raise InvalidOrderError(f"order type must be limit or trigger, got {kind!r}")
        cloid = wire.get("c")
        return OrderSpec(
            asset=_check_int(wire["a"], "asset", minimum=0),
            is_buy=_check_bool(wire["b"], "b"),
            price=_wire_decimal(wire["p"], "p"),
            size=_wire_decimal(wire["s"], "s"),
            reduce_only=_check_bool(wire["r"], "r"),
            order_type=order_type,
            cloid=None if cloid is None else Cloid.from_str(cloid),
        )
    except (KeyError, TypeError) as exc:
        raise InvalidOrderError(f"malformed order wire: missing or invalid field {exc}") from None


# a received wire number: ASCII digits with an optional fraction, as the SDK's float_to_wire writes
# them; Decimal() alone would also take " 1", "1_000", full-width digits, exponents and "NaN"
_WIRE_NUMBER: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)


def _wire_decimal(value: object, field: str) -> Decimal:
    if not isinstance(value, str) or _WIRE_NUMBER.fullmatch(value) is None:
        raise InvalidOrderError(f"{field} must be a decimal string, got {value!r}")
    return Decimal(value)


def resolve_asset(coin: str, assets: Mapping[str, int]) -> int:
    """The asset index of ``coin`` in a name -> index map (from ``meta``); a clear error for an unknown coin."""
    try:
        return assets[coin]
    except (KeyError, TypeError):
        raise InvalidOrderError(f"unknown asset {coin!r}") from None


# --------------------------------------------------------------------------------------------- rules


def perp_trading_rule(name: str, sz_decimals: int, max_leverage: int | None = None) -> TradingRule:
    """Hyperliquid's perp rules as a core ``TradingRule``.

    Sizes in steps of ``10**-szDecimals``; prices of at most 5 significant figures and at most
    ``6 - szDecimals`` decimals, integer prices always valid; minimum order value $10.
    """
    return _rule(name, sz_decimals, max_leverage, perp=True)


def spot_trading_rule(name: str, sz_decimals: int) -> TradingRule:
    """Hyperliquid's spot rules: as perps but prices may have ``8 - szDecimals`` decimals (min value 10 quote)."""
    return _rule(name, sz_decimals, None, perp=False)


def _rule(name: str, sz_decimals: int, max_leverage: int | None, *, perp: bool) -> TradingRule:
    max_decimals = 6 if perp else 8
    _check_int(sz_decimals, "szDecimals", minimum=0)
    if sz_decimals > max_decimals:
        raise InvalidOrderError(f"szDecimals {sz_decimals} exceeds {max_decimals}")
    lot = Decimal(1).scaleb(-sz_decimals)
    return TradingRule(
        trading_pair=name,
        min_order_size=lot,
        size_increment=lot,
        max_price_significant_figures=5,
        max_price_decimals=max_decimals - sz_decimals,
        integer_price_always_valid=True,
        min_notional=MIN_ORDER_VALUE,
        # a reduce-only order closing the whole position may be worth less (spot orders are never reduce-only)
        min_notional_waived_for_full_close=perp,
        max_leverage=max_leverage,
    )


@functools.lru_cache(maxsize=64)
def _cached_rule(sz_decimals: int, is_spot: bool) -> TradingRule:
    return _rule("", sz_decimals, None, perp=not is_spot)


def is_valid_price(px: Decimal, sz_decimals: int, is_spot: bool = False) -> bool:
    """Whether ``px`` is a valid Hyperliquid limit price for an asset with ``sz_decimals`` (tick rule only)."""
    if not isinstance(px, Decimal) or not px.is_finite() or px <= 0:
        return False
    return _cached_rule(sz_decimals, is_spot).is_valid_price(px)


def is_valid_size(sz: Decimal, sz_decimals: int) -> bool:
    """Whether ``sz`` is a positive multiple of ``10**-sz_decimals`` (the lot rule; min notional is separate)."""
    if not isinstance(sz, Decimal) or not sz.is_finite() or sz <= 0:
        return False
    return _cached_rule(sz_decimals, False).is_valid_size(sz)
