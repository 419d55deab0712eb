"""ExchangeEngine: the local exchange's venue state machine (matching, margin, positions), no I/O.

Every action is synchronous and returns the per-item statuses exactly as Hyperliquid puts them in
``response.data.statuses``. Time comes from the injected clock, so a run is deterministic given
the seed and the sequence of calls. Events are buffered during an action and published at its end,
already in the websocket ``data`` shapes, and only rendered when someone subscribed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Container, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

from wingbeat.sim.venue.accounts import Account, Fill
from wingbeat.sim.venue.book import Order, OrderHistory
from wingbeat.sim.venue.event_queue import EventQueue
from wingbeat.sim.venue.market_state import MarketState, SpotMarketState
from wingbeat.sim.venue.markets import DEFAULT_MARKETS, MarketConfig, venue_context
from wingbeat.sim.venue.matching import OrderFlow
from wingbeat.sim.venue.perp_dex import PerpDex
from wingbeat.sim.venue.perp_dexes import BUILDER_DEX_ASSET_OFFSET, DEFAULT_PERP_DEXES, PerpDexConfig
from wingbeat.sim.venue.render import usd
from wingbeat.sim.venue.spot_flow import SpotFlow, min_value_problem
from wingbeat.sim.venue.spot_markets import DEFAULT_SPOT, SpotConfig
from wingbeat.sim.venue.twap_engine import TwapBook, TwapRequest
from wingbeat.sim.venue.types import (
    AccountChanged,
    AssetCtxChanged,
    EngineError,
    EngineEvent,
    NonUserCancelEvent,
    OrderRequest,
)
from wingbeat.sim.venue.validation import (
    BELOW_MIN_NOTIONAL,
    check_order,
    has_margin,
    reducible,
    slippage_price,
    static_problem,
)

from . import account_actions, dex_oracle, risk, transfers, twap_engine

__all__ = ["LIQUIDATOR", "ExchangeEngine"]

_log = logging.getLogger("wingbeat.sim.venue.engine")

LIQUIDATOR = "0x00000000000000000000000000000000000000ff"
"""The backstop liquidator's address: takes over the positions of liquidated accounts."""

ZERO = Decimal(0)
MAX_FUNDING = Decimal(10) ** 15  # keeps every rendered USDC amount within Decimal's 28 digits
MAX_ORACLE_PRICE = Decimal(10) ** 12  # with the 80% band, keeps prices renderable
MISSING_ORDER = "Order was never placed, already canceled, or filled."
#: Hyperliquid's refusal of a modify whose order is not open (seen by SDK users; CHOSEN: no " asset=" suffix,
#: none of the reports shows one).
CANNOT_MODIFY = "Cannot modify canceled or filled order."
# how long an agent approval lasts: not documented; 180 days is an assumption (recorded extraAgents
# answers only show that validUntil is a millisecond time)
AGENT_VALIDITY_MS = 180 * 86_400_000


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class ExchangeEngine(OrderFlow, SpotFlow):
    """The venue: books, accounts, orders, fills, funding and liquidation of the local exchange,
    and its spot pairs (``spot``: tokens and pairs, `DEFAULT_SPOT` unless given; asset ids
    ``10000 + spot index``; spot fees ``spot_maker_fee`` / ``spot_taker_fee``, Hyperliquid's base
    tier of 0.040 % / 0.070 %), and its HIP-3 builder dexes (``perp_dexes``, `DEFAULT_PERP_DEXES`
    unless given: ``dexes[0]`` is the main dex, each other a `PerpDex` with its own perps, asset ids
    ``110000 + (i - 1) * 10000 + j``, and its own clearinghouse)."""

    def __init__(
        self,
        markets: Sequence[MarketConfig] = DEFAULT_MARKETS,
        *,
        seed: int = 0,
        clock: Callable[[], int] = _wall_clock_ms,
        maker_fee: Decimal = Decimal("0.00015"),
        taker_fee: Decimal = Decimal("0.00045"),
        funding_interval_ms: int = 3_600_000,
        max_open_orders: int = 1000,
        spot: SpotConfig = DEFAULT_SPOT,
        spot_maker_fee: Decimal = Decimal("0.0004"),
        spot_taker_fee: Decimal = Decimal("0.0007"),
        perp_dexes: Sequence[PerpDexConfig] = DEFAULT_PERP_DEXES,
    ) -> None:
        if not markets:
            raise ValueError("at least one market is required")
        self.is_mainnet = False
        self.seed = seed
        self.clock = clock
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.funding_interval_ms = funding_interval_ms
        self.max_open_orders = max_open_orders
        self.accounts: dict[str, Account] = {}
        self.markets: list[MarketState] = [
            MarketState(i, cfg, self.accounts) for i, cfg in enumerate(markets)
        ]
        self.spot = spot
        self.spot_maker_fee = spot_maker_fee
        self.spot_taker_fee = spot_taker_fee
        self.spot_fees_collected: dict[str, Decimal] = {}
        tokens = {t.name: t for t in spot.tokens}
        self.spot_markets: list[SpotMarketState] = [
            SpotMarketState(
                i, spot.pair_name(i), tokens[p.base], tokens[p.quote], p.start_price, self.accounts
            )
            for i, p in enumerate(spot.pairs)
        ]
        self._spot_by_asset = {m.index: m for m in self.spot_markets}
        # the perp dexes: the main one (these markets and accounts), then the builder dexes (HIP-3)
        self.dexes: list[PerpDex] = [PerpDex(0, None, self.markets, self.accounts)]
        for i, dex_cfg in enumerate(perp_dexes, start=1):
            if dex_cfg.collateral_token >= len(spot.tokens):
                raise ValueError(f"perp dex {dex_cfg.name}: no spot token {dex_cfg.collateral_token}")
            dex = PerpDex(i, dex_cfg, [], {})
            for j, perp in enumerate(dex_cfg.perps):
                market = MarketState(dex.offset + j, perp.market(dex_cfg.name), dex.accounts,
                                     coin=dex_cfg.coin(perp))  # fmt: skip
                market.fee_scale = dex_cfg.fee_multiplier
                dex.markets.append(market)
            self.dexes.append(dex)
        self._dex_by_name = {d.name: d for d in self.dexes}
        if len(self._dex_by_name) != len(self.dexes):
            raise ValueError("duplicate perp dex names")
        self.perp_markets: list[MarketState] = [m for d in self.dexes for m in d.markets]
        """Every perp market, main dex first, then each builder dex's."""
        self._perp_by_asset: dict[int, MarketState] = {m.index: m for m in self.perp_markets}
        self._dex_of_asset: dict[int, PerpDex] = {m.index: d for d in self.dexes for m in d.markets}
        # the markets _settle_marks cannot index by position: spot pairs and builder-dex perps
        self._other_markets: dict[int, MarketState] = {**self._spot_by_asset}
        self._other_markets.update((m.index, m) for d in self.dexes[1:] for m in d.markets)
        self._by_coin: dict[str, MarketState] = {m.coin: m for m in self.perp_markets}
        for s in self.spot_markets:
            if s.coin in self._by_coin:
                raise ValueError(f"market {s.coin} is both a perp and a spot pair")
            self._by_coin[s.coin] = s
        self.marks: dict[int, Decimal] = {m.index: m.mark for m in self.perp_markets}
        self.marks.update((m.index, m.mark) for m in self.spot_markets)
        self.max_leverages: dict[int, int] = {m.index: m.cfg.max_leverage for m in self.perp_markets}
        self._agent_owner: dict[str, str] = {}
        self.history = OrderHistory()  # finished orders, oldest first
        self.fees_collected = ZERO
        self._action_builder: tuple[str, int] | None = None  # the builder of the order action being placed
        # ids start at seed-dependent bases so two runs with different seeds do not share ids
        self._next_oid = 1_000_000 + (seed % 1000) * 1_000_000_000
        self._next_tid = 1_000 + (seed % 1000) * 1_000_000_000
        self._action_count = 0
        self._hash: str | None = None
        self.now = clock()
        start = self.now
        for m in self.perp_markets:
            m.next_funding = (start // funding_interval_ms + 1) * funding_interval_ms
        self._events = EventQueue()
        self._subscribers = self._events.subscribers
        self._touched: dict[int, None] = {}
        self._reduced: dict[tuple[str, int], None] = {}
        self.liquidator = LIQUIDATOR
        self.accounts[LIQUIDATOR] = Account(LIQUIDATOR)
        self.twaps = TwapBook(seed)  # native TWAP orders (twap_engine)

    # ------------------------------------------------------------------ accounts
    @venue_context
    def fund(self, user: str, amount: Decimal) -> None:
        """Credit ``amount`` USDC to ``user``, creating the account on first funding."""
        if not amount.is_finite() or not 0 < amount <= MAX_FUNDING:
            raise ValueError(f"funding amount must be in (0, {MAX_FUNDING}], got {amount}")
        user = user.lower()
        acct = self.accounts.get(user)
        if acct is None:
            acct = self.accounts[user] = Account(user)
        with self.account_frame() as now:
            acct.balance += amount
            transfers.record(self, acct, now, {"type": "deposit", "usdc": usd(amount)})

    @venue_context
    def fund_spot(self, user: str, token: str, amount: Decimal) -> None:
        """Credit ``amount`` of the spot token ``token`` (its name) to ``user``'s spot balance,
        creating the account on first funding; booked as a deposit (USDC) or a received spot
        transfer (any other token) in the ledger."""
        transfers.fund_spot(self, user, token, amount)

    @contextmanager
    def account_frame(self) -> Iterator[int]:
        """An action frame (yields its time) for account actions outside the order flow: events
        emitted inside are published, and the tx hash is fresh, when it ends."""
        now = self._begin()
        try:
            yield now
        finally:
            self._end()

    def account_changed(self, user: str) -> None:
        """Within an action frame: ``user``'s balance or margin settings changed."""
        if self._subscribers:
            self._events.other.append(AccountChanged(user))

    def has_account(self, user: str) -> bool:
        """Whether ``user`` was ever funded (an unknown address "does not exist")."""
        return user.lower() in self.accounts

    def approve_agent(self, user: str, agent: str, name: str) -> None:
        """Let ``agent`` sign for ``user``; a new unnamed agent replaces the previous unnamed one."""
        acct = self._account(user)
        agent = agent.lower()
        previous_owner = self._agent_owner.get(agent)
        if previous_owner is not None and previous_owner != acct.user:
            previous = self.accounts[previous_owner]
            del previous.agents[agent]  # an agent key signs for one account
            previous.agents_valid_until.pop(agent, None)
        for old, old_name in list(acct.agents.items()):
            if old_name == name or old == agent:
                del acct.agents[old]
                acct.agents_valid_until.pop(old, None)
                self._agent_owner.pop(old, None)
        acct.agents[agent] = name
        acct.agents_valid_until[agent] = self.clock() + AGENT_VALIDITY_MS
        self._agent_owner[agent] = acct.user

    def account_for_signer(self, signer: str) -> str | None:
        """The account a signer acts for: itself if funded, else the owner of that agent, else None."""
        signer = signer.lower()
        if signer in self.accounts:
            return signer
        return self._agent_owner.get(signer)

    def asset_index(self, coin: str) -> int | None:
        """Asset id of ``coin`` (a perp index, ``10000 + spot index``, or a builder dex's perp
        ``"dex:COIN"``: ``110000 + ...``), or None if no such market."""
        m = self._by_coin.get(coin)
        return m.index if m is not None else None

    def market(self, coin: str) -> MarketState | None:
        """The market named ``coin`` (a perp, or a spot pair: ``"PURR/USDC"``, ``"@1"``), or None."""
        return self._by_coin.get(coin)

    def market_by_asset(self, asset: int) -> MarketState | None:
        """The market of asset id ``asset`` (perp of any dex, or spot), or None."""
        if 0 <= asset < len(self.markets):
            return self.markets[asset]
        return self._spot_by_asset.get(asset) or self._perp_by_asset.get(asset)

    def volume_of(self, user: str) -> Decimal:
        """``user``'s traded notional on every dex and spot (what fee tiers and the address rate
        limit count; each dex's margin account keeps its own sum)."""
        user = user.lower()
        return sum((a.cum_volume for d in self.dexes if (a := d.accounts.get(user)) is not None), ZERO)

    def dex(self, name: str) -> PerpDex | None:
        """The perp dex named ``name`` (``""``: the main dex), or None."""
        return self._dex_by_name.get(name)

    def dex_of(self, asset: int) -> PerpDex | None:
        """The perp dex that lists perp asset ``asset``, or None (spot, or no such asset)."""
        return self._dex_of_asset.get(asset)

    def open_order(self, user: str, oid: int) -> Order | None:
        """The open order ``oid`` of ``user`` on any dex, or None."""
        for dex in self.dexes:
            acct = dex.accounts.get(user)
            order = acct.open_orders.get(oid) if acct is not None else None
            if order is not None:
                return order
        return None

    @property
    def live(self) -> dict[int, Order]:
        """Every open order (resting, untriggered, waiting for a parent) by oid, of every account
        on every dex: built on each read, for inspection (the engine keeps an open order in its
        account's ``open_orders`` only, so that placing and canceling update one index)."""
        return {oid: o for d in self.dexes for a in d.accounts.values() for oid, o in a.open_orders.items()}

    def margin_account(self, acct: Account, asset: int) -> Account | None:
        """``acct``'s margin account for ``asset``: itself for the main dex and spot, its account on
        the asset's builder dex (None when it never had one)."""
        if asset < BUILDER_DEX_ASSET_OFFSET:
            return acct
        dex = self._dex_of_asset.get(asset)
        return dex.accounts.get(acct.user) if dex is not None else acct

    def dex_collateral_name(self, dex: str) -> str | None:
        """The name of builder dex ``dex``'s collateral token (e.g. ``"USDC"``), or None when
        there is no such builder dex."""
        target = self._dex_by_name.get(dex)
        if target is None or target.cfg is None:
            return None
        return self.spot.tokens[target.cfg.collateral_token].name

    @venue_context
    def fund_dex(self, user: str, dex: str, amount: Decimal) -> None:
        """Credit ``amount`` of a builder dex's collateral to ``user``'s margin account on ``dex``:
        funded on the main dex, then moved with a ``sendAsset`` (booked in the ledger as one)."""
        target = self._dex_by_name.get(dex)
        if target is None or target.cfg is None:
            raise ValueError(f"no builder perp dex {dex!r}")
        self.fund(user, amount)
        token = self.spot.tokens[target.cfg.collateral_token].name
        transfers.send_asset(self, user.lower(), user.lower(), "", dex, token, amount, self.now)

    def subscribe(self, callback: Callable[[EngineEvent], None], users: Container[str] | None = None) -> None:
        """Receive engine events, called synchronously at the end of each action: every event, or with
        ``users`` (lowercase addresses; a container the caller may keep changing, read at every action)
        the public ones (books, trades, asset contexts) and the per-account ones (every event with a
        ``user``: order updates, fills, funding, ledger, ...) of those users only. A per-account event
        no subscriber watches is not built; the engine's state is the same either way."""
        self._events.add(callback, users)

    def _account(self, user: str) -> Account:
        acct = self.accounts.get(user) or self.accounts.get(user.lower())
        if acct is None:
            raise EngineError(f"User or API Wallet {user.lower()} does not exist.")
        return acct

    # ------------------------------------------------------------------ action frame
    def _begin(self, now_ms: int | None = None) -> int:
        now = self.clock() if now_ms is None else now_ms
        if now > self.now:
            self.now = now
        self._action_count += 1
        self._hash = None
        return self.now

    @property
    def has_subscribers(self) -> bool:
        """Whether anyone listens (events are only rendered then)."""
        return bool(self._subscribers)

    def emit(self, event: EngineEvent) -> None:
        """Queue ``event`` for publication at the end of the current action."""
        self._events.other.append(event)

    def queue_fill(self, user: str, fill: Fill) -> None:
        """Queue a fill of ``user`` for the ``FillsEvent`` at the end of the current action."""
        if self._subscribers and self._events.watches(user):
            self._events.fills.setdefault(user, []).append(fill)

    def new_tid(self) -> int:
        """A fresh trade id."""
        tid = self._next_tid
        self._next_tid += 1
        return tid

    def new_oid(self) -> int:
        """A fresh order id."""
        oid = self._next_oid
        self._next_oid += 1
        return oid

    def _end(self) -> None:
        if self._reduced:
            self._settle_reducing(self.now)
        if self._touched:
            self._settle_marks()
        events = self._events
        if events.subscribers or events.other:
            events.publish()

    # ------------------------------------------------------------------ orders
    @venue_context
    def place_orders(
        self,
        user: str,
        orders: Sequence[OrderRequest],
        grouping: str = "na",
        builder: tuple[str, int] | None = None,
    ) -> list[Any]:
        """Place a batch; one status per order: resting / filled / error (or a TP/SL child string).

        ``builder`` is the action's ``(builder address, fee in tenths of a basis point)``: refused
        as a whole (EngineError) unless the user approved at least that fee for that builder.
        """
        acct = self._account(user)
        if builder is not None:
            approved = acct.builder_fees.get(builder[0].lower())
            # an approval of 0 (a revocation) is none: refused even for f = 0 (reports of SDK users)
            if not approved or builder[1] > approved:
                # the text clients match on (Hyperliquid's own; seen in SDK users' error handling)
                raise EngineError("Builder fee has not been approved.")
            cap = transfers.MAX_PERP_BUILDER_FEE_TENTHS_BP
            if builder[1] > cap and not all(transfers.is_spot_asset(r.asset) for r in orders):
                # Hyperliquid's builder-code docs cap perps at 0.1 %; CHOSEN: no source for the text
                raise EngineError(f"Builder fee above the perp maximum of {cap} (0.1%).")
        now = self._begin()
        statuses: list[Any] = []
        self._action_builder = None if builder is None else (builder[0].lower(), builder[1])
        try:
            if grouping == "na":
                for req in orders:
                    statuses.append(self._place_one(acct, req, now))
            elif grouping == "normalTpsl" and orders and orders[0].trigger is None:
                parent_status = self._place_one(acct, orders[0], now)
                statuses.append(parent_status)
                parent = self._resting_order(acct, orders[0].asset, parent_status)
                bracket: list[Order] = []
                for req in orders[1:]:
                    status, child = self._place_child(acct, req, parent, parent_status, now)
                    statuses.append(status)
                    if child is not None:
                        bracket.append(child)
                for child in bracket:  # the TP and the SL of one bracket cancel each other
                    child.siblings = tuple(o for o in bracket if o is not child)
            elif grouping == "positionTpsl":
                for req in orders:
                    status = self._place_one(acct, req, now, position_tpsl=req.trigger is not None)
                    if req.trigger is not None and "resting" in status:
                        status = "waitingForTrigger"
                    statuses.append(status)
            else:
                for req in orders:
                    statuses.append(self._place_one(acct, req, now))
        finally:
            self._action_builder = None
            self._end()
        return statuses

    def _resting_order(self, acct: Account, asset: int, status: Any) -> Order | None:
        """The open order of ``acct`` on ``asset`` that the order status ``status`` names as
        resting, or None."""
        if isinstance(status, dict) and "resting" in status:
            margin_acct = self.margin_account(acct, asset)
            return margin_acct.open_orders.get(status["resting"]["oid"]) if margin_acct is not None else None
        return None

    def _place_child(
        self, acct: Account, req: OrderRequest, parent: Order | None, parent_status: Any, now: int
    ) -> tuple[Any, Order | None]:
        """(status, the child order if it waits) of one TP/SL of a normalTpsl bracket."""
        if "error" in parent_status:
            return parent_status, None
        if req.trigger is None:
            return self._place_one(acct, req, now), None
        status = self._place_one(acct, req, now, hold=parent is not None)
        if "error" in status:
            return status, None
        child = self._resting_order(acct, req.asset, status)
        assert child is not None  # _place_one answered "resting"
        if parent is not None:
            parent.children = (*parent.children, child)
            return "waitingForFill", child
        return "waitingForTrigger", child

    def _reject(
        self, acct: Account, m: MarketState, req: OrderRequest, msg: str, status: str, now: int
    ) -> Any:
        oid = self.new_oid()
        order = self._new_order(acct, m, req, oid, now)
        if req.cloid is not None and req.cloid not in acct.cloids:
            acct.cloids[req.cloid] = oid
        self._record(order, status, now)
        self._emit_update(order, status, now)
        return {"error": f"{msg} asset={m.index}"}

    @staticmethod
    def _new_order(acct: Account, m: MarketState, req: OrderRequest, oid: int, now: int) -> Order:
        return Order(oid, acct.user, m.index, m.coin, req.is_buy, req.price, req.size, now,
                     req.reduce_only, req.tif, req.trigger, req.cloid)  # fmt: skip

    def _place_one(
        self, acct: Account, req: OrderRequest, now: int, *, hold: bool = False, position_tpsl: bool = False
    ) -> Any:
        cloid = req.cloid
        if cloid is not None:
            if cloid != cloid.lower():
                cloid = cloid.lower()  # cloids are compared lowercase
                req = replace(req, cloid=cloid)
            if cloid in acct.cloids:
                if self.market_by_asset(req.asset) is not None:
                    return {"error": f"Duplicate cloid. asset={req.asset}"}
                return {"error": f"Invalid asset. asset={req.asset}"}
        try:
            m = self.markets[req.asset] if req.asset >= 0 else None
        except IndexError:
            # not a main-dex perp: a spot pair trades through its own flow (spot_flow.py); a builder
            # dex's perp through this one, on the user's margin account of that dex
            spot = self._spot_by_asset.get(req.asset)
            if spot is not None:
                return self._place_spot(acct, spot, req, now)
            dex = self._dex_of_asset.get(req.asset)
            m = self._perp_by_asset[req.asset] if dex is not None else None
            if dex is not None and m is not None:
                acct = dex.account(acct)
                problem = dex.open_interest_problem(
                    acct, m, req.is_buy, req.size, req.reduce_only, self.marks
                )
                if problem is not None:
                    return self._reject(acct, m, req, problem[0], problem[1], now)
        if m is None:
            return {"error": f"Invalid asset. asset={req.asset}"}
        problem = check_order(
            acct, m, req, self.max_open_orders, self.marks, self.max_leverages, whole_position=position_tpsl
        )
        if problem is not None:
            return self._reject(acct, m, req, problem[0], problem[1], now)
        oid = self._next_oid
        self._next_oid = oid + 1
        order = Order(oid, acct.user, m.index, m.coin, req.is_buy, req.price, req.size, now,
                      req.reduce_only, req.tif, req.trigger, cloid)  # fmt: skip
        if self._action_builder is not None:
            order.builder = self._action_builder  # charged on every fill of the order (matching.py)
        if cloid is not None:
            acct.cloids[cloid] = oid
        if req.trigger is not None:
            order.position_tpsl = position_tpsl
            acct.open_orders[oid] = order
            if not hold:
                self._arm(order)
            self._emit_update(order, "open", now)
            return self._resting(order)
        return self._execute(acct, m, order, now, fresh=True)

    @venue_context
    def cancel(self, user: str, cancels: Sequence[tuple[int, int]]) -> list[Any]:
        """Cancel by ``(asset, oid)``: ``"success"`` or the missing-order error per item."""
        acct = self._account(user)
        now = self._begin()
        out: list[Any] = []
        try:
            for asset, oid in cancels:
                margin_acct = self.margin_account(acct, asset)
                order = margin_acct.open_orders.get(oid) if margin_acct is not None else None
                if order is None or order.asset != asset:
                    out.append({"error": f"{MISSING_ORDER} asset={asset}"})
                    continue
                self._remove_live(order)
                self._finish(order, "canceled", now)
                out.append("success")
        finally:
            self._end()
        return out

    @venue_context
    def cancel_by_cloid(self, user: str, cancels: Sequence[tuple[int, str]]) -> list[Any]:
        """Cancel by ``(asset, cloid)``; same statuses as :meth:`cancel`."""
        acct = self._account(user)
        pairs: list[tuple[int, int]] = []
        for asset, cloid in cancels:
            pairs.append((asset, acct.cloids.get(cloid.lower(), -1)))
        return self.cancel(user, pairs)

    @venue_context
    def batch_modify(self, user: str, modifies: Sequence[tuple[int | str, OrderRequest]]) -> list[Any]:
        """Replace orders (by oid or cloid): the old order is canceled, the new one gets a new oid
        and joins the back of its level (modify loses time priority). A replacement that breaks a
        rule of its own (tick, size, price band, minimum value, duplicate cloid) is refused and the
        original order stays."""
        acct = self._account(user)
        now = self._begin()
        out: list[Any] = []
        try:
            for ref, req in modifies:
                if req.cloid is not None and req.cloid != req.cloid.lower():
                    req = replace(req, cloid=req.cloid.lower())
                oid = acct.cloids.get(ref.lower(), -1) if isinstance(ref, str) else ref
                margin_acct = self.margin_account(acct, req.asset)
                order = margin_acct.open_orders.get(oid) if margin_acct is not None else None
                if order is None or order.asset != req.asset:
                    out.append({"error": CANNOT_MODIFY})
                    continue
                m = self.market_by_asset(req.asset)
                assert m is not None  # the order it replaces is on this asset
                problem = static_problem(m, req, self.marks[m.index])
                if problem is BELOW_MIN_NOTIONAL and isinstance(m, SpotMarketState):
                    problem = min_value_problem(m)
                if (
                    problem is None
                    and req.cloid is not None
                    and acct.cloids.get(req.cloid, order.oid) != order.oid
                ):
                    problem = ("Duplicate cloid.", "rejected")
                if problem is not None:
                    out.append({"error": f"{problem[0]} asset={m.index}"})
                    continue
                self._remove_live(order)
                self._finish(order, "canceled", now)
                if req.cloid is not None and acct.cloids.get(req.cloid) == order.oid:
                    del acct.cloids[req.cloid]  # the replacement keeps the order's cloid
                out.append(self._place_one(acct, req, now))
        finally:
            self._end()
        return out

    @venue_context
    def place_twap(self, user: str, request: TwapRequest) -> Any:
        """Start a native TWAP: ``{"running": {"twapId"}}`` or ``{"error"}`` (see twap_engine)."""
        acct = self._account(user)
        with self.account_frame() as now:
            return twap_engine.place(self, acct, request, now)

    @venue_context
    def cancel_twap(self, user: str, asset: int, twap_id: int) -> Any:
        """Stop a running TWAP: ``"success"`` or ``{"error"}``."""
        acct = self._account(user)
        with self.account_frame() as now:
            return twap_engine.cancel(self, acct, asset, twap_id, now)

    @venue_context
    def update_leverage(self, user: str, asset: int, is_cross: bool, leverage: int) -> None:
        """Set leverage (and cross/isolated) for ``asset``; EngineError with the exchange's text."""
        acct = self._account(user)
        dex = self._dex_of_asset.get(asset)
        if dex is None:
            raise EngineError("Invalid asset.")
        with self.account_frame():
            account_actions.update_leverage(self, dex, dex.account(acct), asset, is_cross, leverage)
            self.account_changed(acct.user)

    @venue_context
    def update_isolated_margin(self, user: str, asset: int, is_buy: bool, ntli: int) -> None:
        """Add (``ntli`` > 0) or remove isolated margin, in USDC x 1e6, for an isolated position."""
        acct = self._account(user)
        dex = self._dex_of_asset.get(asset)
        if dex is None:
            raise EngineError("Invalid asset.")
        with self.account_frame():
            account_actions.update_isolated_margin(self, dex, dex.account(acct), asset, ntli)
            self.account_changed(acct.user)

    @venue_context
    def schedule_cancel(self, user: str, time_ms: int | None) -> None:
        """Set (or clear, with None) the dead man's switch: cancel all open orders at ``time_ms``."""
        acct = self._account(user)
        account_actions.schedule_cancel(acct, time_ms, self._begin())

    def cancel_all_of(
        self, acct: Account, status: str, now: int, *, asset: int | None = None, perp_only: bool = False
    ) -> None:
        """Venue-initiated cancel of the open orders of ``acct`` (all, those on ``asset``, or with
        ``perp_only`` those on perps), announced in one nonUserCancel event."""
        canceled = [
            o
            for o in acct.open_orders.values()
            if (asset is None or o.asset == asset) and not (perp_only and o.asset in self._spot_by_asset)
        ]
        for order in canceled:
            if self.is_open(order):  # a TP/SL child may already be gone with its parent
                self._remove_live(order)
                self._finish(order, status, now)
        if canceled and self._subscribers:
            cancels = [{"coin": o.coin, "oid": o.oid} for o in canceled]
            self._events.other.append(NonUserCancelEvent(acct.user, cancels))

    # ------------------------------------------------------------------ time and prices
    @venue_context
    def advance(self, now_ms: int | None = None) -> None:
        """Run what is due by ``now_ms`` (default: the clock): scheduled cancels, triggers,
        TWAP slices, funding, liquidations."""
        now = self._begin(now_ms)
        try:
            risk.run_scheduled_cancels(self, now)
            for m in self.perp_markets:
                m.roll(now)
                self._touched[m.index] = None
            for s in self.spot_markets:
                s.roll(now)
                self._touched[s.index] = None
            self._settle_marks()
            twap_engine.run_due(self, now)
            risk.run_funding(self, now)
            risk.run_liquidations(self, now)
        finally:
            self._end()

    @venue_context
    def pay_funding(self, coin: str, rate: Decimal, now_ms: int | None = None) -> None:
        """Pay one funding period of ``coin`` now at ``rate`` (per period, longs pay when positive),
        outside the engine's own schedule: a backtest replays recorded rates through it (and builds the
        engine with a ``funding_interval_ms`` beyond its data, so the formula never pays as well)."""
        m = self._by_coin.get(coin)
        if m is None or isinstance(m, SpotMarketState):
            raise EngineError(f"Unknown coin {coin}.")  # a spot pair pays no funding
        if not rate.is_finite() or abs(rate) > risk.MAX_RATE:
            raise EngineError(f"Funding rate must be within +-{risk.MAX_RATE}.")
        now = self._begin(now_ms)
        try:
            risk.pay_funding_at(self, m, now, rate)
        finally:
            self._end()

    @venue_context
    def perp_deploy_set_oracle(
        self,
        user: str,
        dex: str,
        oracle_pxs: Sequence[tuple[str, Decimal]],
        mark_pxs: Sequence[Sequence[tuple[str, Decimal]]] = (),
        external_pxs: Sequence[tuple[str, Decimal]] = (),
    ) -> None:
        """``perpDeploy`` ``setOracle`` of a builder dex's oracle updater (see dex_oracle.py)."""
        target = self._dex_by_name.get(dex)
        if target is None:
            raise EngineError(f"Invalid dex {dex}")  # CHOSEN: as sendAsset's refusal
        with self.account_frame() as now:
            for m in dex_oracle.set_oracle(target, user.lower(), oracle_pxs, mark_pxs, external_pxs, now):
                self._touched[m.index] = None

    @venue_context
    def set_oracle_price(self, coin: str, px: Decimal) -> None:
        """Move the oracle price of ``coin`` (the mark follows it within the book's spread)."""
        m = self._by_coin.get(coin)
        if m is None:
            raise EngineError(f"Unknown coin {coin}.")
        if not px.is_finite() or not 0 < px <= MAX_ORACLE_PRICE:
            raise EngineError(f"Oracle price must be in (0, {MAX_ORACLE_PRICE}].")
        self._begin()
        try:
            m.oracle = px
            self._touched[m.index] = None
        finally:
            self._end()

    def _settle_marks(self) -> None:
        # fills move the mark, which may fire triggers, whose fills move it again
        markets = self.markets
        n_perps = len(markets)
        others = self._other_markets
        for _ in range(100):
            if self._reduced:
                self._settle_reducing(self.now)
            touched = self._touched
            if not touched:
                return
            self._touched = {}
            for index in touched:
                # mark price: the oracle clamped into the book's spread (median of oracle, bid, ask)
                m = markets[index] if index < n_perps else others[index]
                book = m.book
                bid, ask = book.bids.top, book.asks.top
                mark = m.oracle
                if bid is not None and ask is not None:
                    # min(max(oracle, bid), ask), keeping the same object on ties
                    if mark < bid:
                        mark = bid
                    if mark > ask:
                        mark = ask
                if mark != m.mark:
                    m.mark = mark
                    self.marks[index] = mark
                    if self._subscribers:
                        self._events.other.append(AssetCtxChanged(m.coin))
                if m.triggers.orders:
                    for order in m.triggers.due(mark):
                        self._fire(order, self.now)

    def _fire(self, order: Order, now: int) -> None:
        m = self._perp_by_asset[order.asset]
        acct = m.accounts[order.user]
        assert order.trigger is not None
        acct.open_orders.pop(order.oid, None)
        acct.reducing.pop(order.oid, None)
        # open -> triggered -> filled/open/canceled, as orderUpdates and historicalOrders show it
        self.history.add_triggered(order, now)
        order.triggered = True
        self._emit_update(order, "triggered", now)
        if (order.reduce_only or not order.sz) and reducible(acct, m.index, order.is_buy) == 0:
            self._finish(order, "reduceOnlyCanceled", now)
            return
        if not order.sz:  # a position TP/SL of size 0 closes the whole position it finds
            order.sz = order.orig_sz = reducible(acct, m.index, order.is_buy)
            order.texts = None
        if not order.reduce_only and not has_margin(
            acct, m, order.is_buy, order.limit_px, order.sz, self.marks, self.max_leverages
        ):
            self._finish(order, "marginCanceled", now)
            return
        if order.trigger.is_market:
            # a market TP/SL trades like a market order, within Hyperliquid's 10% slippage
            # tolerance from the mark (docs, "My TP/SL did not execute correctly")
            order.limit_px = slippage_price(self.marks[m.index], order.is_buy, m.cfg.sz_decimals)
            order.texts = None
            order.tif = "Ioc"
        else:
            order.tif = "Gtc"
        self._execute(acct, m, order, now, fresh=False)
