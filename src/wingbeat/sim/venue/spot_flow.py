"""The spot order flow mixed into :class:`~wingbeat.sim.venue.engine.ExchangeEngine`: check, match,
settle, rest and remove spot orders. No positions, margin, funding or liquidation: a fill moves base
and quote tokens between the two accounts' spot balances.

Balances (``Account.spot``) are per token; a resting buy holds ``limit price x remaining size`` of
the quote token, a resting sell ``remaining size`` of the base token (``Account.spot_hold``), and an
order is refused when the balance less what is held cannot cover it
(``Insufficient spot balance asset=<asset>``, status ``insufficientSpotBalanceRejected``). Fees are
taken in the token received, as Hyperliquid charges spot (recorded fills: a buy of ``@107`` pays
``feeToken: "HYPE"``, a sell ``"USDC"``): the buyer receives the size less its fee, the seller the
notional less its fee, each rounded to the token's ``weiDecimals``. A sell realises
``(price - average entry) x size`` as ``closedPnl`` against the entry notional the buys built up
(``Account.spot_entry``, reported as ``entryNtl``); fills read ``dir`` ``"Buy"``/``"Sell"`` and
``startPosition`` the base balance before the fill.

Kept apart from the perp matching loop (:mod:`.matching`) so that path has no spot branch: the
engine dispatches by market kind when an order is placed or removed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from wingbeat.sim.venue.accounts import FILLS_KEPT, TRIM_AT, Account
from wingbeat.sim.venue.book import BookSide, Order
from wingbeat.sim.venue.market_state import SpotMarketState
from wingbeat.sim.venue.validation import (
    BELOW_MIN_NOTIONAL,
    INVALID_TYPE,
    REDUCE_ONLY_REJECTED,
    TOO_MANY_ORDERS,
    open_order_limit,
    post_only_crossing,
    static_problem,
)

if TYPE_CHECKING:
    from wingbeat.sim.venue.event_queue import EventQueue
    from wingbeat.sim.venue.market_state import MarketState
    from wingbeat.sim.venue.types import OrderRequest

__all__ = ["INSUFFICIENT_SPOT_BALANCE", "SpotFlow", "available", "min_value_problem", "spot_problem"]

ZERO = Decimal(0)
INSUFFICIENT_SPOT_BALANCE = ("Insufficient spot balance", "insufficientSpotBalanceRejected")
_QUANTA: dict[int, Decimal] = {}


def _quantum(places: int) -> Decimal:
    q = _QUANTA.get(places)
    if q is None:
        q = _QUANTA[places] = Decimal(1).scaleb(-places)
    return q


def available(acct: Account, token: str) -> Decimal:
    """``token`` balance of ``acct`` not held by resting orders."""
    return acct.spot.get(token, ZERO) - acct.spot_hold.get(token, ZERO)


def min_value_problem(m: SpotMarketState) -> tuple[str, str]:
    """Hyperliquid's refusal of a spot order under 10 quote tokens (docs, error responses:
    MinTradeSpotNtl names the quote token)."""
    return f"Order must have minimum value of 10 {m.quote.name}.", "minTradeSpotNtlRejected"


def spot_problem(
    acct: Account, m: SpotMarketState, req: OrderRequest, max_open_orders: int
) -> tuple[str, str] | None:
    """``(message, order status)`` of the first rule a spot order breaks, or None when it may trade."""
    problem = static_problem(m, req, m.mark)
    if problem is BELOW_MIN_NOTIONAL:
        return min_value_problem(m)
    if problem is not None:
        return problem
    if req.trigger is not None:
        # CHOSEN: no source for TP/SL orders on spot pairs; the local exchange refuses them
        return INVALID_TYPE
    if req.reduce_only:
        # CHOSEN: no source; a spot pair has no position for a reduce-only order to reduce
        return REDUCE_ONLY_REJECTED
    n_open = len(acct.open_orders)
    if n_open >= max_open_orders and n_open >= open_order_limit(acct, max_open_orders):
        return TOO_MANY_ORDERS
    if req.tif == "Alo":
        crossing = post_only_crossing(m.book, req)
        if crossing is not None:
            return crossing
    if req.is_buy:
        if available(acct, m.quote.name) < req.price * req.size:
            return INSUFFICIENT_SPOT_BALANCE
    elif available(acct, m.base.name) < req.size:
        return INSUFFICIENT_SPOT_BALANCE
    return None


class SpotFlow:
    """Placing, matching, resting and removing spot orders (mixed into the engine)."""

    # engine state this mixin works on (set by ExchangeEngine.__init__)
    accounts: dict[str, Account]
    spot_taker_fee: Decimal
    spot_maker_fee: Decimal
    spot_fees_collected: dict[str, Decimal]  # token -> fees taken in it
    max_open_orders: int
    _next_oid: int
    _next_tid: int
    _hash: str | None
    _events: EventQueue
    _subscribers: list[Any]
    _touched: dict[int, None]

    if TYPE_CHECKING:  # provided by OrderFlow and the engine

        def tx_hash(self) -> str: ...
        def _book_changed(self, m: MarketState, side: BookSide, top: Decimal | None) -> None: ...
        def _emit_update(self, order: Order, status: str, now: int) -> None: ...
        def _finish(self, order: Order, status: str, now: int) -> None: ...
        def _reject(
            self, acct: Account, m: MarketState, req: OrderRequest, msg: str, status: str, now: int
        ) -> Any: ...
        @staticmethod
        def _resting(order: Order) -> dict[str, Any]: ...
        @staticmethod
        def _filled(order: Order, sz: Decimal, ntl: Decimal) -> dict[str, Any]: ...

    def _place_spot(self, acct: Account, m: SpotMarketState, req: OrderRequest, now: int) -> Any:
        """Check and execute one spot order (its cloid already normalised and free)."""
        problem = spot_problem(acct, m, req, self.max_open_orders)
        if problem is not None:
            return self._reject(acct, m, req, problem[0], problem[1], now)
        oid = self._next_oid
        self._next_oid = oid + 1
        order = Order(oid, acct.user, m.index, m.coin, req.is_buy, req.price, req.size, now,
                      False, req.tif, None, req.cloid)  # fmt: skip
        if req.cloid is not None:
            acct.cloids[req.cloid] = oid
        return self._execute_spot(acct, m, order, now)

    def _execute_spot(self, acct: Account, m: SpotMarketState, order: Order, now: int) -> Any:
        """Match ``order`` as a taker, then rest (holding its balance), cancel or reject the rest."""
        side = m.book.asks if order.is_buy else m.book.bids
        top = side.top
        if top is not None and (top <= order.limit_px if order.is_buy else top >= order.limit_px):
            filled_sz, filled_ntl = self._match_spot(acct, m, order, side, now)
        else:
            filled_sz = filled_ntl = ZERO
        if not order.sz:
            self._finish(order, "filled", now)
            return self._filled(order, filled_sz, filled_ntl)
        if order.tif == "Ioc":
            if not filled_sz:
                self._finish(order, "iocCancelRejected", now)
                return {
                    "error": f"Order could not immediately match against any resting orders. asset={m.index}"
                }
            self._finish(order, "canceled", now)
            return self._filled(order, filled_sz, filled_ntl)
        token, amount = _held(m, order)
        acct.spot_hold[token] = acct.spot_hold.get(token, ZERO) + amount
        side = m.book.bids if order.is_buy else m.book.asks
        top = side.top
        side.add(order)
        acct.open_orders[order.oid] = order
        self._book_changed(m, side, top)
        if self._subscribers:
            self._emit_update(order, "open", now)
        return self._resting(order)

    def _remove_spot(self, order: Order, m: SpotMarketState) -> None:
        """Take a resting spot order off its book and release what it held."""
        side = m.book.bids if order.is_buy else m.book.asks
        top = side.top
        side.remove(order)
        _release(self.accounts[order.user], m, order, order.sz)
        self._book_changed(m, side, top)

    def _match_spot(
        self, acct: Account, m: SpotMarketState, order: Order, side: BookSide, now: int
    ) -> tuple[Decimal, Decimal]:
        """Trade ``order`` against the resting orders of ``side`` while they cross its limit,
        settling base and quote; returns the size and notional it filled."""
        levels = side.levels
        is_buy = order.is_buy
        limit = order.limit_px
        user = acct.user
        base, quote = m.base.name, m.quote.name
        base_q, quote_q = _quantum(m.base.wei_decimals), _quantum(m.quote.wei_decimals)
        taker_rate, maker_rate = self.spot_taker_fee, self.spot_maker_fee
        subscribed = bool(self._subscribers)
        tx = self._hash or self.tx_hash()
        coin = m.coin
        queued_fills = self._events.fills
        queued_trades = self._events.trades
        trade_rows: list[tuple[Any, ...]]  # this order's trades, one group (render_trade_rows), from the first
        twap = order.twap_id
        remaining = order.sz
        filled_sz = filled_ntl = first_px = last_px = ZERO
        fees_base = fees_quote = ZERO
        n = 0
        tid = self._next_tid
        while remaining:
            px = side.top
            if px is None or ((px > limit) if is_buy else (px < limit)):
                break
            level = levels[px]
            maker = next(iter(level.values()))
            if maker.user == user:
                # self-trade prevention: the resting order goes, the taker keeps matching
                self._remove_spot(maker, m)
                self._finish(maker, "selfTradeCanceled", now)
                continue
            maker_acct = self.accounts[maker.user]
            sz = remaining if remaining < maker.sz else maker.sz
            ntl = px * sz
            _release(maker_acct, m, maker, sz)
            buyer, seller = (acct, maker_acct) if is_buy else (maker_acct, acct)
            buyer_rate, seller_rate = (taker_rate, maker_rate) if is_buy else (maker_rate, taker_rate)
            buy_fee = (sz * buyer_rate).quantize(base_q)
            sell_fee = (ntl * seller_rate).quantize(quote_q)
            fees_base += buy_fee
            fees_quote += sell_fee
            b_start = buyer.spot.get(base, ZERO)
            s_start = seller.spot.get(base, ZERO)
            buyer.spot[base] = b_start + sz - buy_fee
            buyer.spot[quote] = buyer.spot.get(quote, ZERO) - ntl
            buyer.spot_entry[base] = buyer.spot_entry.get(base, ZERO) + ntl
            seller.spot[base] = s_start - sz
            seller.spot[quote] = seller.spot.get(quote, ZERO) + ntl - sell_fee
            entry = seller.spot_entry.get(base, ZERO)
            cost = entry * sz / s_start if s_start > 0 else ZERO
            seller.spot_entry[base] = entry - cost
            pnl = ntl - cost
            buyer.cum_volume += ntl
            seller.cum_volume += ntl
            # Fill fields as plain tuples (see FillLog); only the taker can be a TWAP slice
            b_row = (coin, px, sz, True, now, b_start, "Buy", ZERO, tx,
                     order.oid if is_buy else maker.oid, is_buy, buy_fee, tid,
                     order.cloid if is_buy else maker.cloid, None, twap if is_buy else None, base)  # fmt: skip
            s_row = (coin, px, sz, False, now, s_start, "Sell", pnl, tx,
                     maker.oid if is_buy else order.oid, not is_buy, sell_fee, tid,
                     maker.cloid if is_buy else order.cloid, None, None if is_buy else twap, quote)  # fmt: skip
            tf, mf = (b_row, s_row) if is_buy else (s_row, b_row)
            for who, row in ((acct, tf), (maker_acct, mf)):
                rows = who.fills.rows
                rows.append(row)
                if len(rows) > TRIM_AT:
                    del rows[:-FILLS_KEPT]
            if subscribed:
                watched = self._events.watched  # rows are queued for the watched users only (EventQueue)
                if watched is None or user in watched:
                    queued_fills.setdefault(user, []).append(tf)
                if watched is None or maker.user in watched:
                    queued_fills.setdefault(maker.user, []).append(mf)
                if not n:
                    trade_rows = []
                    queued_trades.setdefault(coin, []).append((coin, is_buy, tx, now, user, trade_rows))
                trade_rows.append((px, sz, tid, maker.user))
            if not n:
                first_px = px
            last_px = px
            tid += 1
            n += 1
            filled_sz += sz
            filled_ntl += ntl
            remaining -= sz
            maker.sz -= sz
            if not maker.sz:
                del level[maker.oid]
                if not level:
                    side.drop_level(px)
                self._finish(maker, "filled", now)
        order.sz = remaining
        if n:
            self._next_tid = tid
            fees = self.spot_fees_collected
            fees[base] = fees.get(base, ZERO) + fees_base
            fees[quote] = fees.get(quote, ZERO) + fees_quote
            m.on_trades(first_px, last_px, filled_sz, filled_ntl, n, now)
            m.oracle = last_px  # the spot reference price follows the last trade
            self._touched[m.index] = None
        return filled_sz, filled_ntl


def _held(m: SpotMarketState, order: Order) -> tuple[str, Decimal]:
    """The token and amount a resting ``order`` holds for its remaining size."""
    if order.is_buy:
        return m.quote.name, order.limit_px * order.sz
    return m.base.name, order.sz


def _release(acct: Account, m: SpotMarketState, order: Order, sz: Decimal) -> None:
    """Release what ``sz`` of the resting ``order`` held."""
    token, amount = (m.quote.name, order.limit_px * sz) if order.is_buy else (m.base.name, sz)
    left = acct.spot_hold.get(token, ZERO) - amount
    if left > 0:
        acct.spot_hold[token] = left
    else:
        acct.spot_hold.pop(token, None)
