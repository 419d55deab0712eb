"""Per-market order rules and quantization of prices and sizes, always rounding in the safe direction.

Safe means: a buy price never rounds up (we never pay more than asked), a sell price never rounds down,
and a size never rounds up (we never trade more than asked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from wingbeat.core.enums import TradeType

__all__ = ["TradingRule"]

_ONE = Decimal(1)
_ZERO = Decimal(0)
_BUY = TradeType.BUY



def _round_to_quantum(value: Decimal, quantum: Decimal, rounding: str) -> Decimal:
    """``value`` rounded to a multiple of ``quantum`` (floor or ceiling), shown with quantum's exponent."""
    steps = (value / quantum).to_integral_value(rounding=rounding)
    result = steps * quantum
    exponent = quantum.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0:
        return result.quantize(_power_of_ten(exponent))
    return result.quantize(_ONE)  # plain digits, never "1.2345E+6"


_POWERS = {e: Decimal((0, (1,), e)) for e in range(-40, 41)}


def _as_power_of_ten(increment: Decimal) -> Decimal | None:
    """``increment`` as a quantum usable by ``Decimal.quantize`` (10**e, e <= 0), or None."""
    exponent = increment.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent <= 0 and increment == _power_of_ten(exponent):
        return _power_of_ten(exponent)
    return None


def _power_of_ten(exponent: int) -> Decimal:
    power = _POWERS.get(exponent)
    return power if power is not None else Decimal((0, (1,), exponent))


def _significant_figures(value: Decimal) -> int:
    return len(value.normalize().as_tuple().digits)


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _usable(value: Decimal) -> bool:
    return value.is_finite() and value > 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingRule:
    """What a market accepts. Prices follow either a fixed tick (``price_increment``) or the
    significant-figure rule (``max_price_significant_figures`` and ``max_price_decimals``; with
    ``integer_price_always_valid`` an integer price passes whatever its number of digits, as on Hyperliquid).
    """

    trading_pair: str
    min_order_size: Decimal
    size_increment: Decimal  # lot, e.g. Decimal("0.001")
    price_increment: Decimal | None = None  # fixed tick; None: use the significant-figure rule
    max_price_significant_figures: int | None = None
    max_price_decimals: int | None = None
    integer_price_always_valid: bool = False  # Hyperliquid: integer prices pass the sig-fig rule
    min_notional: Decimal = Decimal(0)
    # Hyperliquid: a reduce-only order that closes the whole position may be worth less (a dust position closes)
    min_notional_waived_for_full_close: bool = False
    max_leverage: int | None = None
    # Derived once: the lot / tick as a power-of-ten quantum when it is one (then rounding is one C call).
    _size_quantum: Decimal | None = field(init=False, repr=False, compare=False, default=None)
    _tick_quantum: Decimal | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if not _usable(self.size_increment):
            raise ValueError(f"{self.trading_pair}: size_increment must be positive, got {self.size_increment}")
        if self.price_increment is not None and not _usable(self.price_increment):
            raise ValueError(f"{self.trading_pair}: price_increment must be positive, got {self.price_increment}")
        if self.min_order_size.is_nan() or self.min_order_size < 0:
            raise ValueError(f"{self.trading_pair}: min_order_size must be >= 0, got {self.min_order_size}")
        object.__setattr__(self, "_size_quantum", _as_power_of_ten(self.size_increment))
        if self.price_increment is not None:
            object.__setattr__(self, "_tick_quantum", _as_power_of_ten(self.price_increment))

    def quantize_price(self, price: Decimal, side: TradeType) -> Decimal:
        """The nearest valid price on the safe side: BUY rounds down, SELL rounds up.

        Non-finite or non-positive input is returned unchanged (``is_valid_price`` refuses it)."""
        # On the buy() hot path: module constants and positional arguments keep it around a microsecond.
        if not price.is_finite() or price <= _ZERO:
            return price
        rounding = ROUND_FLOOR if side is _BUY else ROUND_CEILING
        if self._tick_quantum is not None:
            return price.quantize(self._tick_quantum, rounding)
        if self.price_increment is not None:
            return _round_to_quantum(price, self.price_increment, rounding)
        sig = self.max_price_significant_figures
        if self.integer_price_always_valid and sig is not None and price.adjusted() + 1 > sig:
            # More integer digits than significant figures allowed: the closest valid price is an integer.
            return price.to_integral_value(rounding=rounding)
        # Both limits are powers of ten: rounding once to the coarser one is the same as rounding to each.
        exponents = []
        if sig is not None:
            exponents.append(price.adjusted() - sig + 1)
        if self.max_price_decimals is not None:
            exponents.append(-self.max_price_decimals)
        if not exponents:
            return price
        exponent = max(exponents)
        if exponent <= 0:
            return price.quantize(_POWERS.get(exponent) or _power_of_ten(exponent), rounding)
        return _round_to_quantum(price, _power_of_ten(exponent), rounding)

    def quantize_size(self, size: Decimal) -> Decimal:
        """``size`` rounded down to a multiple of the lot size (non-finite input returned unchanged)."""
        if not size.is_finite():
            return size
        if self._size_quantum is not None:
            return size.quantize(self._size_quantum, ROUND_FLOOR)
        return _round_to_quantum(size, self.size_increment, ROUND_FLOOR)

    def is_valid_price(self, price: Decimal) -> bool:
        """Whether the venue accepts ``price`` as it is (positive, finite, on the tick / sig-fig grid)."""
        if not _usable(price):
            return False
        if self.price_increment is not None:
            return price % self.price_increment == 0
        if self.max_price_decimals is not None and _decimals(price) > self.max_price_decimals:
            return False
        if self.integer_price_always_valid and price == price.to_integral_value():
            return True
        sig = self.max_price_significant_figures
        return sig is None or _significant_figures(price) <= sig

    def is_valid_size(self, size: Decimal) -> bool:
        """Whether ``size`` is positive, a whole number of lots and at least the minimum order size."""
        return _usable(size) and size >= self.min_order_size and size % self.size_increment == 0

    def quantize_order(
        self, side: TradeType, price: Decimal, size: Decimal, *, full_close: Decimal | None = None
    ) -> tuple[Decimal, Decimal, str | None]:
        """Quantize an order's price and size and check it against every rule: ``(price, size, None)`` when
        the venue will accept it, else ``(price, size, reason)`` with a human-readable reason. ``full_close``:
        the size of the position a reduce-only order closes (with ``min_notional_waived_for_full_close``, an
        order of at least that size passes below the minimum notional)."""
        if not price.is_finite() or price <= _ZERO:
            return price, size, f"price must be a positive number, got {price}"
        price = self.quantize_price(price, side)
        size = self.quantize_size(size)
        pair = self.trading_pair
        if price <= _ZERO:
            return price, size, f"price rounds to {price} under the {pair} tick rule"
        if size <= _ZERO or size < self.min_order_size:
            return price, size, f"size {size} is below the minimum {self.min_order_size} for {pair}"
        if price * size < self.min_notional and not (
            full_close is not None and self.min_notional_waived_for_full_close and size >= full_close
        ):
            return price, size, f"notional {price * size} is below the minimum {self.min_notional} for {pair}"
        return price, size, None

    def is_valid_notional(self, price: Decimal, size: Decimal) -> bool:
        """Whether the order's value reaches the market's minimum notional."""
        return price * size >= self.min_notional
