"""Built-in liquidity for the local exchange: market makers quoting around a random-walk mid.

Each market gets a maker account that re-quotes a ladder of ``levels`` bids and asks around a
seeded random-walk mid every ``refresh_ms``, and a noise taker that now and then sends an IOC into
the book, so a demo strategy sees a moving book, public trades and its own fills. The oracle (and
so the mark) follows the walk, and the walk follows the oracle: an oracle price set from outside
(``/admin setOraclePrice``) becomes the mid, re-quoted at the next step. Spot pairs are quoted the
same way (on the spot price grid, ``8 - szDecimals`` decimals), by accounts funded with both tokens;
a spot pair's reference price follows its trades, so the walk there also follows the last trade.
The perps of each HIP-3 builder dex are quoted too, by accounts funded with the dex's collateral
(moved there with ``sendAsset``), on a random walk of their own generator, so adding or removing a
builder dex leaves the main dex's and spot's walks as they were.
No asyncio: the server calls :meth:`MarketMakers.step` on a timer.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.market_state import MarketState, SpotMarketState
from wingbeat.sim.venue.markets import venue_context
from wingbeat.sim.venue.types import EngineError, OrderRequest

__all__ = ["LiquidityConfig", "MarketMakers", "round_price", "round_size"]

_log = logging.getLogger("wingbeat.sim.venue.liquidity")

_BPS = Decimal("0.0001")
_MIN_NOTIONAL = Decimal(10)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiquidityConfig:
    """How the built-in makers quote.

    ``levels`` per side; the first level sits ``half_spread_bps`` from the mid, each next one
    ``level_step_bps`` further; ``level_notional`` USDC per level; quotes are refreshed every
    ``refresh_ms``; the mid moves each refresh by a uniform step of at most ``volatility_bps``;
    with probability ``taker_probability`` per refresh a noise taker trades ``taker_notional``
    USDC against the book. ``fund`` is each synthetic account's USDC balance.
    """

    levels: int = 20  # l2Book shows up to 20 levels a side
    half_spread_bps: Decimal = Decimal(2)
    level_step_bps: Decimal = Decimal(2)
    level_notional: Decimal = Decimal(20_000)
    refresh_ms: int = 500
    volatility_bps: Decimal = Decimal(3)
    taker_probability: float = 0.3
    taker_notional: Decimal = Decimal(2_000)
    fund: Decimal = Decimal(1_000_000_000)

    def __post_init__(self) -> None:
        if self.levels < 1 or self.refresh_ms <= 0:
            raise ValueError("levels must be >= 1 and refresh_ms > 0")
        if self.half_spread_bps <= 0 or self.level_step_bps < 0 or self.volatility_bps < 0:
            raise ValueError("spreads must be positive and volatility non-negative")
        if not 0 <= self.taker_probability <= 1:
            raise ValueError("taker_probability must be in [0, 1]")
        if self.level_notional < _MIN_NOTIONAL or self.taker_notional < _MIN_NOTIONAL:
            raise ValueError("level and taker notionals must be at least the $10 minimum")


def round_price(px: Decimal, sz_decimals: int, *, up: bool, max_decimals: int = 6) -> Decimal:
    """The nearest valid price (5 significant figures, ``max_decimals - sz_decimals`` decimals:
    6 on perps, 8 on spot) in the given direction, and at least the smallest price tick."""
    rounding = ROUND_CEILING if up else ROUND_FLOOR
    exp = max(px.adjusted() - 4, -(max_decimals - sz_decimals))
    if exp >= 0:
        exp = 0  # integer prices are always valid
    quantum = Decimal(1).scaleb(exp)
    return max(px.quantize(quantum, rounding=rounding), quantum)  # never below one tick


def round_size(notional: Decimal, px: Decimal, sz_decimals: int) -> Decimal:
    """A size worth about ``notional`` at ``px``, on the lot, never under the $10 minimum."""
    lot = Decimal(1).scaleb(-sz_decimals)
    sz = (notional / px).quantize(lot, rounding=ROUND_FLOOR)
    while sz * px < _MIN_NOTIONAL:
        sz += lot
    return sz


class _Quoter:
    """Maker + noise taker of one market."""

    __slots__ = ("decimals", "maker", "market", "mid", "oids", "oracle_set", "rng", "taker")

    def __init__(self, market: MarketState, maker: str, taker: str, rng: random.Random) -> None:
        self.market = market
        self.rng = rng  # the makers' generator (a builder dex's perps share one of their own)
        self.decimals = 8 if isinstance(market, SpotMarketState) else 6  # the price grid's max decimals
        self.maker = maker
        self.taker = taker
        self.mid = market.cfg.start_price
        self.oracle_set = market.oracle  # the oracle price this quoter last set
        self.oids: list[int] = []


class MarketMakers:
    """The built-in market makers of one engine (deterministic given ``seed``)."""

    def __init__(
        self, engine: ExchangeEngine, config: LiquidityConfig | None = None, *, seed: int = 0
    ) -> None:
        self.engine = engine
        self.config = config or LiquidityConfig()
        self._rng = random.Random(seed)
        self._dex_rng = random.Random(f"builder-dexes:{seed}")
        self._last_ms: int | None = None
        self._quoters: list[_Quoter] = []
        for m in engine.markets:
            maker = f"0x{0xA11CE000 + m.index:040x}"
            taker = f"0x{0xB0B00000 + m.index:040x}"
            for user in (maker, taker):
                engine.fund(user, self.config.fund)
            self._quoters.append(_Quoter(m, maker, taker, self._rng))
        for s in engine.spot_markets:
            maker = f"0x{0xA11CE000 + s.index:040x}"
            taker = f"0x{0xB0B00000 + s.index:040x}"
            base_lot = Decimal(1).scaleb(-s.base.wei_decimals)
            for user in (maker, taker):
                engine.fund_spot(user, s.quote.name, self.config.fund)
                engine.fund_spot(
                    user, s.base.name, (self.config.fund / s.oracle).quantize(base_lot, ROUND_FLOOR)
                )
            self._quoters.append(_Quoter(s, maker, taker, self._rng))
        for dex in engine.dexes[1:]:
            for m in dex.markets:
                maker = f"0x{0xA11CE000 + m.index:040x}"
                taker = f"0x{0xB0B00000 + m.index:040x}"
                for user in (maker, taker):
                    engine.fund_dex(user, dex.name, self.config.fund)
                self._quoters.append(_Quoter(m, maker, taker, self._dex_rng))

    @property
    def addresses(self) -> list[str]:
        """Every synthetic account (makers and takers)."""
        return [a for q in self._quoters for a in (q.maker, q.taker)]

    def mid(self, coin: str) -> Decimal | None:
        """The current random-walk mid of ``coin``."""
        for q in self._quoters:
            if q.market.coin == coin:
                return q.mid
        return None

    @venue_context
    def step(self, now_ms: int) -> None:
        """Re-quote every market if ``refresh_ms`` passed since the last step, else only the
        markets whose oracle price was moved from outside (their mid jumps to it)."""
        if self._last_ms is not None and now_ms - self._last_ms < self.config.refresh_ms:
            for q in self._quoters:
                if q.market.oracle != q.oracle_set:
                    self._step_guarded(q)
            return
        self._last_ms = now_ms
        for q in self._quoters:
            self._step_guarded(q)

    def _step_guarded(self, q: _Quoter) -> None:
        try:
            self._step_market(q)
        except EngineError as exc:
            _log.warning("maker on %s refused: %s", q.market.coin, exc.message)

    def _step_market(self, q: _Quoter) -> None:
        cfg = self.config
        rng = q.rng
        szd = q.market.cfg.sz_decimals
        if q.market.oracle != q.oracle_set:
            # someone else set the oracle (the admin endpoint): quote around it from now on
            q.mid = round_price(q.market.oracle, szd, up=False, max_decimals=q.decimals)
            move = Decimal(0)
        else:
            # uniform step in [-volatility, +volatility] bps, drawn as an integer for exact Decimal math
            move = Decimal(rng.randint(-1000, 1000)) / 1000 * cfg.volatility_bps * _BPS
            q.mid = round_price(q.mid * (1 + move), szd, up=move > 0, max_decimals=q.decimals)
        self.engine.set_oracle_price(q.market.coin, q.mid)
        q.oracle_set = q.market.oracle
        if q.oids:
            self.engine.cancel(q.maker, [(q.market.index, oid) for oid in q.oids])
        orders: list[OrderRequest] = []
        for i in range(cfg.levels):
            offset = (cfg.half_spread_bps + i * cfg.level_step_bps) * _BPS
            bid = round_price(q.mid * (1 - offset), szd, up=False, max_decimals=q.decimals)
            ask = round_price(q.mid * (1 + offset), szd, up=True, max_decimals=q.decimals)
            orders.append(
                OrderRequest(
                    q.market.index, True, bid, round_size(cfg.level_notional, bid, szd), False, "Gtc"
                )
            )
            orders.append(
                OrderRequest(
                    q.market.index, False, ask, round_size(cfg.level_notional, ask, szd), False, "Gtc"
                )
            )
        statuses = self.engine.place_orders(q.maker, orders)
        q.oids = [s["resting"]["oid"] for s in statuses if isinstance(s, dict) and "resting" in s]
        if rng.random() < cfg.taker_probability:
            is_buy = rng.random() < 0.5
            limit = q.mid * (Decimal("1.01") if is_buy else Decimal("0.99"))
            px = round_price(limit, szd, up=is_buy, max_decimals=q.decimals)
            sz = round_size(cfg.taker_notional, q.mid, szd)
            self.engine.place_orders(q.taker, [OrderRequest(q.market.index, is_buy, px, sz, False, "Ioc")])
            q.oracle_set = q.market.oracle  # a spot pair's reference price follows this trade
