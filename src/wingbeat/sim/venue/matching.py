"""The order flow of :class:`~wingbeat.sim.venue.engine.ExchangeEngine`: match a taker, trade, rest or
finish orders, keep the history. A mixin so that the engine module stays about the actions.

This is the hot path of the local exchange (target: 100,000 matches/s in-process): attribute and
method lookups are hoisted into locals, and tuples are built directly, on purpose.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from wingbeat.sim.venue.accounts import FILLS_KEPT, TRIM_AT, Account
from wingbeat.sim.venue.book import BookSide, Order, OrderHistory
from wingbeat.sim.venue.markets import fmt, fmt_new
from wingbeat.sim.venue.perp_dexes import BUILDER_DEX_ASSET_OFFSET
from wingbeat.sim.venue.render import update_row
from wingbeat.sim.venue.spot_markets import SPOT_ASSET_OFFSET
from wingbeat.sim.venue.validation import reducible

if TYPE_CHECKING:
    from collections.abc import Callable

    from wingbeat.sim.venue.event_queue import EventQueue
    from wingbeat.sim.venue.market_state import MarketState, SpotMarketState
    from wingbeat.sim.venue.types import EngineEvent

__all__ = ["HISTORY_LIMIT", "OrderFlow"]

ZERO = Decimal(0)
USDC_QUANTUM = Decimal("0.000001")
HISTORY_LIMIT = 200_000  # finished orders kept for orderStatus; older ones become unknownOid


class OrderFlow:
    """Matching, trading, resting and finishing orders (mixed into the engine, which owns the state)."""

    # engine state this mixin works on (set by ExchangeEngine.__init__)
    seed: int
    maker_fee: Decimal
    taker_fee: Decimal
    fees_collected: Decimal
    markets: list[MarketState]
    marks: dict[int, Decimal]
    accounts: dict[str, Account]
    history: OrderHistory
    _next_tid: int
    _action_count: int
    _hash: str | None
    _events: EventQueue
    _subscribers: list[Callable[[EngineEvent], None]]
    _touched: dict[int, None]
    _reduced: dict[tuple[str, int], None]  # (user, asset) whose position shrank, for _settle_reducing
    _spot_by_asset: dict[int, SpotMarketState]
    _perp_by_asset: dict[int, MarketState]  # every perp, main and builder dexes

    if TYPE_CHECKING:  # provided by SpotFlow

        def _remove_spot(self, order: Order, m: SpotMarketState) -> None: ...

    def tx_hash(self) -> str:
        """The hash shared by every fill of the current action."""
        if self._hash is None:
            digest = hashlib.sha256(f"{self.seed}:{self._action_count}".encode()).hexdigest()
            self._hash = "0x" + digest
        return self._hash

    def _book_changed(self, m: MarketState, side: BookSide, top: Decimal | None) -> None:
        """``side`` of ``m``'s book changed (its best price was ``top``): the mark is only settled
        again when the best price moved or a trigger may be due; subscribers see the book anyway."""
        if side.top is not top or m.triggers.orders:
            self._touched[m.index] = None
        if self._subscribers and m.coin not in self._events.trades:
            self._events.trades[m.coin] = []

    def _emit_update(self, order: Order, status: str, now: int) -> None:
        if self._subscribers and self._events.watches(order.user):
            self._events.updates.setdefault(order.user, []).append(update_row(order, status, now))

    @staticmethod
    def _resting(order: Order) -> dict[str, Any]:
        inner: dict[str, Any] = {"oid": order.oid}
        if order.cloid is not None:
            inner["cloid"] = order.cloid
        return {"resting": inner}

    @staticmethod
    def _filled(order: Order, sz: Decimal, ntl: Decimal) -> dict[str, Any]:
        inner: dict[str, Any] = {"totalSz": fmt_new(sz), "avgPx": fmt(ntl / sz, 8), "oid": order.oid}
        if order.cloid is not None:
            inner["cloid"] = order.cloid
        return {"filled": inner}

    def _execute(self, acct: Account, m: MarketState, order: Order, now: int, *, fresh: bool) -> Any:
        """Match ``order`` as a taker, then rest, cancel or reject what is left by its tif."""
        side = m.book.asks if order.is_buy else m.book.bids
        top = side.top
        if top is not None and (top <= order.limit_px if order.is_buy else top >= order.limit_px):
            filled_sz, filled_ntl = self._match(acct, m, order, side, now)
        else:
            filled_sz = filled_ntl = ZERO
        if not order.sz:
            self._finish(order, "filled", now)
            return self._filled(order, filled_sz, filled_ntl)
        if order.tif == "Ioc" or (order.reduce_only and reducible(acct, m.index, order.is_buy) == 0):
            if not filled_sz:
                msg = (
                    "Order could not immediately match against any resting orders."
                    if order.tif == "Ioc"
                    else "Reduce only order would increase position."
                )
                status = "iocCancelRejected" if order.tif == "Ioc" else "reduceOnlyRejected"
                self._finish(order, status, now)
                return {"error": f"{msg} asset={m.index}"} if fresh else None
            self._finish(order, "canceled", now)
            return self._filled(order, filled_sz, filled_ntl)
        # rest the remainder
        oid = order.oid
        if not order.reduce_only:
            setting = acct.leverage.get(m.index)
            per_sz = order.margin_per_sz = order.limit_px / (setting[1] if setting else m.cfg.max_leverage)
            acct.order_margin += per_sz * order.sz
        else:
            acct.reducing[oid] = order
        side = m.book.bids if order.is_buy else m.book.asks
        top = side.top
        side.add(order)
        acct.open_orders[oid] = order
        self._book_changed(m, side, top)
        if self._subscribers:
            self._emit_update(order, "open", now)
        return self._resting(order)

    def _match(
        self, acct: Account, m: MarketState, order: Order, side: BookSide, now: int
    ) -> tuple[Decimal, Decimal]:
        """Trade ``order`` against the resting orders of ``side`` (the opposite side) while they
        cross its limit; returns the size and notional it filled."""
        levels = side.levels
        is_buy = order.is_buy
        maker_is_buy = not is_buy
        limit = order.limit_px
        reduce_only = order.reduce_only
        user = acct.user
        accounts = m.accounts  # the clearinghouse of the market's dex
        asset = m.index
        scale = m.fee_scale  # 1, or a builder dex's fee multiplier (its deployer fee scale)
        taker_rate, maker_rate = self.taker_fee * scale, self.maker_fee * scale
        subscribed = bool(self._subscribers)
        watched = self._events.watched  # rows are queued for the watched users only (EventQueue)
        t_watched = watched is None or user in watched
        tx = self._hash or self.tx_hash()
        coin = m.coin
        queued_fills = self._events.fills
        queued_trades = self._events.trades
        t_rows: list[tuple[Any, ...]] = []  # bound to the queued lists at the first trade
        trade_rows: list[tuple[Any, ...]]  # this order's trades, one group (render_trade_rows), from the first
        holders = m.holders
        taker_fills = acct.fills.rows
        taker_fill = acct.apply_fill
        taker_reducing = acct.reducing
        reduced = self._reduced
        t_cloid = order.cloid
        t_twap = order.twap_id
        t_oid = order.oid
        remaining = order.sz
        filled_sz = filled_ntl = fees = first_px = last_px = ZERO
        n = 0
        tid = self._next_tid
        while remaining:
            px = side.top
            if px is None or ((px > limit) if is_buy else (px < limit)):
                break
            level = levels[px]
            maker = next(iter(level.values()))
            m_user = maker.user
            if m_user == user:
                # self-trade prevention: the resting order goes, the taker keeps matching
                self._remove_live(maker)
                self._finish(maker, "selfTradeCanceled", now)
                continue
            maker_acct = accounts[m_user]
            msz = maker.sz
            sz = remaining if remaining < msz else msz
            if reduce_only:
                cap = reducible(acct, asset, is_buy)
                if cap == 0:
                    break
                if cap < sz:
                    sz = cap
            if maker.reduce_only:
                cap = reducible(maker_acct, asset, maker_is_buy)
                if cap == 0:
                    self._remove_live(maker)
                    self._finish(maker, "reduceOnlyCanceled", now)
                    continue
                if cap < sz:
                    sz = cap
            ntl = px * sz
            # fees are charged in whole micro-USDC, as the exchange's 6-decimal USDC does
            taker_fee = (ntl * taker_rate).quantize(USDC_QUANTUM)
            maker_fee = (ntl * maker_rate).quantize(USDC_QUANTUM)
            fees += taker_fee + maker_fee
            t_start, t_pnl, t_dir = taker_fill(asset, is_buy, px, sz, taker_fee, ntl)
            m_start, m_pnl, m_dir = maker_acct.apply_fill(asset, maker_is_buy, px, sz, maker_fee, ntl)
            # the holders of a position change only when one opens or closes out
            if not t_start:
                holders[user] = None
            elif t_start == (-sz if is_buy else sz):
                del holders[user]
            if not m_start:
                holders[m_user] = None
            elif m_start == (sz if is_buy else -sz):
                del holders[m_user]
            # a shrinking position may leave reduce-only and position TP/SL orders with nothing to reduce
            if taker_reducing and t_start and (t_start > 0) != is_buy:
                reduced[(user, asset)] = None
            if maker_acct.reducing and m_start and (m_start > 0) == is_buy:
                reduced[(m_user, asset)] = None
            # Fill fields as plain tuples (see FillLog), FillLog.trim inlined for both logs
            tf = (coin, px, sz, is_buy, now, t_start, t_dir, t_pnl, tx, t_oid, True, taker_fee, tid,
                  t_cloid, None, t_twap, "USDC")  # fmt: skip
            mf = (coin, px, sz, maker_is_buy, now, m_start, m_dir, m_pnl, tx, maker.oid, False, maker_fee,
                  tid, maker.cloid, None, None, "USDC")  # fmt: skip
            taker_fills.append(tf)
            if len(taker_fills) > TRIM_AT:
                del taker_fills[:-FILLS_KEPT]
            maker_fills = maker_acct.fills.rows
            maker_fills.append(mf)
            if len(maker_fills) > TRIM_AT:
                del maker_fills[:-FILLS_KEPT]
            remaining -= sz
            msz -= sz
            maker.sz = msz
            if maker.margin_per_sz:
                maker_acct.order_margin -= maker.margin_per_sz * sz
            if subscribed:
                # queued as rows, rendered only if a subscriber reads the events (see EventQueue)
                if not n:  # the taker's fills and the trades: looked up once, on the first trade
                    if t_watched:
                        t_rows = queued_fills.setdefault(user, t_rows)
                    trade_rows = []
                    queued_trades.setdefault(coin, []).append((coin, is_buy, tx, now, user, trade_rows))
                if t_watched:
                    t_rows.append(tf)
                if watched is None or m_user in watched:
                    m_rows = queued_fills.get(m_user)
                    if m_rows is None:
                        m_rows = queued_fills[m_user] = []
                    m_rows.append(mf)
                trade_rows.append((px, sz, tid, m_user))
            if not n:
                first_px = px
            last_px = px
            tid += 1
            n += 1
            filled_sz += sz
            filled_ntl += ntl
            if not msz:
                del level[maker.oid]
                if not level:
                    side.drop_level(px)
                self._finish(maker, "filled", now)
        order.sz = remaining
        if n:
            self._next_tid = tid
            self.fees_collected += fees
            m.on_trades(first_px, last_px, filled_sz, filled_ntl, n, now)
            self._touched[asset] = None
        return filled_sz, filled_ntl

    def _remove_live(self, order: Order) -> None:
        """Take a live order off its book or trigger list (not yet recorded as finished)."""
        spot = self._spot_by_asset.get(order.asset) if order.asset >= SPOT_ASSET_OFFSET else None
        if spot is not None:
            self._remove_spot(order, spot)  # releases what the order held (spot_flow.py)
            return
        m = self._perp_by_asset[order.asset]
        if order.trigger is not None and not order.triggered:
            m.triggers.remove(order)
        else:
            side = m.book.bids if order.is_buy else m.book.asks
            top = side.top
            side.remove(order)
            self._book_changed(m, side, top)

    def owner(self, order: Order) -> Account:
        """The account whose ``open_orders`` hold ``order`` while it is open: its user's margin
        account on the order's dex (spot orders: the main account)."""
        asset = order.asset
        accounts = self.accounts if asset < BUILDER_DEX_ASSET_OFFSET else self._perp_by_asset[asset].accounts
        return accounts[order.user]

    def is_open(self, order: Order) -> bool:
        """Whether ``order`` is still open (resting, untriggered or waiting for its parent)."""
        return order.oid in self.owner(order).open_orders

    def _finish(self, order: Order, status: str, now: int) -> None:
        """Record the final ``status`` of ``order``; release its margin; settle TP/SL children."""
        asset = order.asset
        # owner(order), inlined: this is every cancel's and every fill's path
        accounts = self.accounts if asset < BUILDER_DEX_ASSET_OFFSET else self._perp_by_asset[asset].accounts
        acct = accounts[order.user]
        oid = order.oid
        open_orders = acct.open_orders
        open_orders.pop(oid, None)
        if order.reduce_only or order.position_tpsl:
            acct.reducing.pop(oid, None)
        if order.margin_per_sz:
            acct.order_margin -= order.margin_per_sz * order.sz
            order.margin_per_sz = ZERO
            if not open_orders or acct.order_margin < 0:
                acct.order_margin = ZERO  # clear rounding dust
        if self.history.add(order, status, now) > HISTORY_LIMIT:
            self._evict_oldest()
        if self._subscribers and self._events.watches(order.user):
            row = (order, status, now, order.sz, order.texts, order.limit_px, order.orig_sz)  # update_row
            rows = self._events.updates.get(order.user)
            if rows is None:
                self._events.updates[order.user] = [row]
            else:
                rows.append(row)
        if order.children:
            children, order.children = order.children, ()
            for child in children:
                if not self.is_open(child):
                    continue
                if status == "filled":
                    self._arm(child)
                else:
                    self._finish(child, "canceled", now)
        if order.siblings:
            siblings, order.siblings = order.siblings, ()
            if status == "filled":
                # one-cancels-other (docs, order statuses: "TP/SL only. Canceled due to sibling
                # ordering being filled")
                for sibling in siblings:
                    if self.is_open(sibling):
                        self._remove_live(sibling)
                        self._finish(sibling, "siblingFilledCanceled", now)

    def _arm(self, order: Order) -> None:
        """Start watching the trigger order ``order`` (placed, or its parent filled)."""
        m = self._perp_by_asset[order.asset]
        m.triggers.add(order)
        if order.reduce_only or order.position_tpsl:
            m.accounts[order.user].reducing[order.oid] = order

    def _settle_reducing(self, now: int) -> None:
        """Cancel the reduce-only and position TP/SL orders left with nothing to reduce by the
        positions that shrank in this action (closed, or flipped to the order's own side):
        ``reduceOnlyCanceled`` (docs, order statuses: "Canceled reduced-only order that does
        not reduce position")."""
        while self._reduced:
            reduced, self._reduced = self._reduced, {}
            for user, asset in reduced:
                acct = self._perp_by_asset[asset].accounts[user]
                szi = acct.szi(asset)
                stale = [
                    o
                    for o in acct.reducing.values()
                    if o.asset == asset and (not szi or (szi > 0) == o.is_buy)
                ]
                for order in stale:
                    if self.is_open(order):
                        self._remove_live(order)
                        self._finish(order, "reduceOnlyCanceled", now)

    def _record(self, order: Order, status: str, now: int) -> None:
        """Keep ``order`` with its final status for orderStatus, within the history limit."""
        if self.history.add(order, status, now) > HISTORY_LIMIT:
            self._evict_oldest()

    def _evict_oldest(self) -> None:
        """Forget the oldest finished order (with its cloid: it becomes unknown, and the cloid
        reusable)."""
        old = self.history.pop_oldest()
        if old.cloid is not None:
            cloids = self.accounts[old.user].cloids
            if cloids.get(old.cloid) == old.oid:
                del cloids[old.cloid]
