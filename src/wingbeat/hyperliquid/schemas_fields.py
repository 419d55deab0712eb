"""Field readers shared by every Hyperliquid ``/info`` and websocket decoder, and the one error they raise.

``what`` is the path of the object being read, used only to build error messages. Kept apart from
:mod:`wingbeat.hyperliquid.schemas` so the market and account decoders both build on it without
importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from wingbeat.core.errors import WingbeatError

_T = TypeVar("_T")


class MalformedMessageError(WingbeatError, ValueError):
    """A REST answer or websocket message does not have the shape Hyperliquid documents.

    The message names the offending field; the caller logs it and skips the message.
    """


def obj(value: Any, what: str) -> dict[str, Any]:
    """``value`` as a JSON object, else :class:`MalformedMessageError`."""
    if type(value) is not dict:
        raise MalformedMessageError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def arr(value: Any, what: str) -> list[Any]:
    """``value`` as a JSON array, else :class:`MalformedMessageError`."""
    if type(value) is not list:
        raise MalformedMessageError(f"{what}: expected an array, got {type(value).__name__}")
    return value


def _missing(what: str, key: str) -> MalformedMessageError:
    return MalformedMessageError(f"{what}: missing field {key!r}")


def _wrong(what: str, key: str, expected: str, value: Any) -> MalformedMessageError:
    return MalformedMessageError(
        f"{what}.{key}: expected {expected}, got {type(value).__name__} {value!r:.40}"
    )


def to_decimal(value: Any, what: str) -> Decimal:
    """A finite ``Decimal`` from a JSON string, else :class:`MalformedMessageError`."""
    if type(value) is not str:
        raise MalformedMessageError(f"{what}: expected a decimal string, got {type(value).__name__}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise MalformedMessageError(f"{what}: not a decimal: {value!r:.40}") from None
    if not result.is_finite():
        raise MalformedMessageError(f"{what}: not a finite decimal: {value!r:.40}")
    return result


def req_str(d: dict[str, Any], key: str, what: str) -> str:
    """Required string field."""
    try:
        value = d[key]
    except KeyError:
        raise _missing(what, key) from None
    if type(value) is not str:
        raise _wrong(what, key, "a string", value)
    return value


def opt_str(d: dict[str, Any], key: str, what: str) -> str | None:
    """Optional string field: missing or null gives ``None``."""
    value = d.get(key)
    if value is None:
        return None
    if type(value) is not str:
        raise _wrong(what, key, "a string or null", value)
    return value


def req_dec(d: dict[str, Any], key: str, what: str) -> Decimal:
    """Required decimal field (a JSON string)."""
    try:
        value = d[key]
    except KeyError:
        raise _missing(what, key) from None
    return to_decimal(value, f"{what}.{key}")


def opt_dec(d: dict[str, Any], key: str, what: str) -> Decimal | None:
    """Optional decimal field: missing or null gives ``None``."""
    value = d.get(key)
    if value is None:
        return None
    return to_decimal(value, f"{what}.{key}")


def req_int(d: dict[str, Any], key: str, what: str) -> int:
    """Required integer field (a JSON number without fraction; booleans refused)."""
    try:
        value = d[key]
    except KeyError:
        raise _missing(what, key) from None
    if type(value) is not int:
        raise _wrong(what, key, "an integer", value)
    return value


def opt_int(d: dict[str, Any], key: str, what: str) -> int | None:
    """Optional integer field: missing or null gives ``None``."""
    value = d.get(key)
    if value is None:
        return None
    if type(value) is not int:
        raise _wrong(what, key, "an integer or null", value)
    return value


def req_bool(d: dict[str, Any], key: str, what: str) -> bool:
    """Required boolean field."""
    try:
        value = d[key]
    except KeyError:
        raise _missing(what, key) from None
    if type(value) is not bool:
        raise _wrong(what, key, "a boolean", value)
    return value


def opt_bool(d: dict[str, Any], key: str, what: str) -> bool | None:
    """Optional boolean field: missing or null gives ``None``."""
    value = d.get(key)
    if value is None:
        return None
    if type(value) is not bool:
        raise _wrong(what, key, "a boolean or null", value)
    return value


def req_side(d: dict[str, Any], key: str, what: str) -> str:
    """Required side field: ``"B"`` (bid / buy) or ``"A"`` (ask / sell)."""
    side = req_str(d, key, what)
    if side != "B" and side != "A":
        raise MalformedMessageError(f"{what}.{key}: expected 'B' or 'A', got {side!r:.20}")
    return side


def parse_list(value: Any, what: str, item: Callable[[Any, str], _T]) -> tuple[_T, ...]:
    """Parse a JSON array with ``item(element, path)``."""
    return tuple(item(element, f"{what}[{i}]") for i, element in enumerate(arr(value, what)))
