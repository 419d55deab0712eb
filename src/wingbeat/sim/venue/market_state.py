"""Per-market venue state: book, trigger orders, oracle/mark price, volumes, candles, funding; and
the spot pair's variant (its tokens, the spot price rule)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from wingbeat.hyperliquid.wire import is_valid_price, is_valid_size
from wingbeat.sim.venue.book import Book
from wingbeat.sim.venue.markets import MarketConfig
from wingbeat.sim.venue.spot_markets import SPOT_ASSET_OFFSET, SpotToken
from wingbeat.sim.venue.triggers import TriggerBook

if TYPE_CHECKING:
    from wingbeat.sim.venue.accounts import Account

__all__ = ["MarketState", "SpotMarketState"]

ZERO = Decimal(0)
_MINUTE = 60_000
_DAY = 86_400_000
CANDLES_KEPT = 43_200  # 30 days of 1m candles
_CACHE_MAX = 65_536


class MarketState:
    """Everything the venue knows about one perp market (mutable engine state)."""

    #: A spot pair (its own price rule, no positions); class-level so the slots stay as they are.
    is_spot = False

    __slots__ = (
        "accounts",
        "book",
        "candles",
        "cfg",
        "coin",
        "day_base_vlm",
        "day_ntl_vlm",
        "fee_scale",
        "funding_history",
        "funding_rate",
        "holders",
        "index",
        "last_px",
        "mark",
        "next_funding",
        "oracle",
        "premium",
        "prev_day_px",
        "triggers",
        "valid_px",
        "valid_sz",
        "window",
    )

    def __init__(
        self, index: int, cfg: MarketConfig, accounts: Mapping[str, Account], *, coin: str | None = None
    ) -> None:
        self.index = index
        self.cfg = cfg
        self.coin = cfg.name if coin is None else coin  # a builder dex's perp: "dex:NAME"
        self.book = Book(self.coin)
        self.triggers = TriggerBook()
        self.oracle = cfg.start_price
        self.mark = cfg.start_price
        self.last_px: Decimal | None = None
        self.prev_day_px = cfg.start_price
        self.funding_rate = Decimal("0.0000125")
        self.premium = ZERO
        self.day_ntl_vlm = ZERO
        self.day_base_vlm = ZERO
        # 1m candles by open time: [open, high, low, close, base volume, trade count, notional]
        self.candles: dict[int, list[Any]] = {}
        self.window: deque[int] = deque()  # open times of the candles of the last 24h
        self.funding_history: list[tuple[int, Decimal, Decimal]] = []  # (time, rate, premium)
        self.holders: dict[str, None] = {}  # users with a non-zero position, in first-seen order
        # the clearinghouse of the market's dex (user -> margin account): the engine's accounts for
        # the main dex and spot, a builder dex's own for its perps; makers are looked up here
        self.accounts = accounts
        # fee multiplier: 1 on the main dex and spot; a builder dex's perps charge more
        # (PerpDexConfig.fee_multiplier)
        self.fee_scale = Decimal(1)
        self.next_funding = 0
        # validity of recently seen prices and sizes: order flow repeats the same few values
        self.valid_px: dict[Decimal, bool] = {}
        self.valid_sz: dict[Decimal, bool] = {}

    def price_ok(self, px: Decimal) -> bool:
        """Hyperliquid's tick rule for this market (5 significant figures; at most ``6 - szDecimals``
        decimals on a perp, ``8 - szDecimals`` on a spot pair)."""
        if not px.is_finite():
            return False
        ok = self.valid_px.get(px)
        if ok is None:
            if len(self.valid_px) >= _CACHE_MAX:
                self.valid_px.clear()
            ok = self.valid_px[px] = is_valid_price(px, self.cfg.sz_decimals, self.is_spot)
        return ok

    def size_ok(self, sz: Decimal) -> bool:
        """Hyperliquid's lot rule for this market (at most ``sz_decimals`` decimals, positive)."""
        if not sz.is_finite():
            return False
        ok = self.valid_sz.get(sz)
        if ok is None:
            if len(self.valid_sz) >= _CACHE_MAX:
                self.valid_sz.clear()
            ok = self.valid_sz[sz] = is_valid_size(sz, self.cfg.sz_decimals)
        return ok

    def mid(self) -> Decimal:
        """Book mid, else the last trade price, else the oracle price (as ``allMids`` answers)."""
        mid = self.book.mid()
        if mid is not None:
            return mid
        return self.last_px if self.last_px is not None else self.oracle

    @property
    def open_interest(self) -> Decimal:
        """Total long size, summed over the holders when asked (it is rendered far less often
        than fills change it)."""
        total = ZERO
        index = self.index
        accounts = self.accounts
        for user in self.holders:
            szi = accounts[user].positions[index].szi
            if szi > 0:
                total += szi
        return total

    def on_position_change(self, user: str, after: Decimal) -> None:
        """Track the holders funding is paid to (``after``: the user's position size now)."""
        if after:
            self.holders[user] = None
        else:
            self.holders.pop(user, None)

    def on_trades(
        self, first_px: Decimal, last_px: Decimal, sz: Decimal, ntl: Decimal, n: int, now: int
    ) -> None:
        """Record the ``n`` trades of one taker order (prices from ``first_px`` to ``last_px``,
        ``sz`` and notional ``ntl`` in all) in the 24h volumes and the 1m candle."""
        self.last_px = last_px
        self.day_ntl_vlm += ntl
        self.day_base_vlm += sz
        hi, lo = (last_px, first_px) if last_px > first_px else (first_px, last_px)
        start = now - now % _MINUTE
        candle = self.candles.get(start)
        if candle is None:
            self.candles[start] = [first_px, hi, lo, last_px, sz, n, ntl]
            self.window.append(start)
            if len(self.candles) > CANDLES_KEPT:
                del self.candles[next(iter(self.candles))]
            self.roll(now)
            return
        if hi > candle[1]:
            candle[1] = hi
        if lo < candle[2]:
            candle[2] = lo
        candle[3] = last_px
        candle[4] += sz
        candle[5] += n
        candle[6] += ntl

    def roll(self, now: int) -> None:
        """Drop trades older than 24h from the day volumes; the last price that left the window
        is the previous day's price."""
        window, candles = self.window, self.candles
        while window and window[0] <= now - _DAY:
            candle = candles.get(window.popleft())
            if candle is not None:
                self.day_base_vlm -= candle[4]
                self.day_ntl_vlm -= candle[6]
                self.prev_day_px = candle[3]


class SpotMarketState(MarketState):
    """One spot pair: a book of ``base`` priced in ``quote``; no positions, no funding.

    ``index`` is the order asset id (``10000 + spot_index``), so the engine keys its per-market
    tables (marks, touched books) the same way for both kinds. The reference price the 80% band
    and the mark follow (``oracle``) is the start price, then the last trade price.
    """

    __slots__ = ("base", "quote", "spot_index")
    is_spot = True

    def __init__(
        self,
        spot_index: int,
        name: str,
        base: SpotToken,
        quote: SpotToken,
        start_price: Decimal,
        accounts: Mapping[str, Account],
    ) -> None:
        cfg = MarketConfig(name=name, sz_decimals=base.sz_decimals, max_leverage=1, start_price=start_price)
        super().__init__(SPOT_ASSET_OFFSET + spot_index, cfg, accounts)
        self.spot_index = spot_index
        self.base = base
        self.quote = quote
        self.funding_rate = ZERO
