"""``HyperliquidPerpetualConnector``: Hummingbot's public face on wingbeat's core, for Hyperliquid perps.

The Hyperliquid account layer (network, signing, user stream, order placement, status checks, dead man's
switch: :class:`~wingbeat.hyperliquid.base_connector.HyperliquidConnectorBase`) and core's
:class:`~wingbeat.core.connector_base.PerpetualConnectorBase` (positions, funding, leverage) meet here, through
the MRO. This class adds only what perpetuals have:

- rules and asset indices from ``meta``; CLOSE = reduce-only; trigger orders via :meth:`place_trigger_order`;
- positions and the USDC balance from ``clearinghouseState`` (pushed, or polled) and every fill of the account;
- funding and marks: traded pairs from ``activeAssetCtx``, any other listed perp from ``metaAndAssetCtxs``;
- leverage (:meth:`set_leverage`).

Example::

    conn = HyperliquidPerpetualConnector(Signer.from_env("HL_PRIVATE_KEY"), trading_pairs=["BTC-USD"],
                                         network="testnet", journal_path="orders.db")
    await conn.start(); await conn.wait_ready()
    cid = conn.buy("BTC-USD", Decimal("0.01"), OrderType.LIMIT, Decimal("50000"))
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from wingbeat.core.connector_base import PerpetualConnectorBase
from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.errors import InvalidOrderError, WingbeatError
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.core.positions import FundingInfo, Position, PositionFill
from wingbeat.core.trading_rule import TradingRule
from wingbeat.hyperliquid.base_connector import HyperliquidConfig, HyperliquidConnectorBase
from wingbeat.hyperliquid.bracket_orders import BracketOrder, Brackets, check_bracket_prices
from wingbeat.hyperliquid.constants import COLLATERAL_TOKEN, coin_to_trading_pair, trading_pair_to_coin
from wingbeat.hyperliquid.markets import dex_of_coin
from wingbeat.hyperliquid.order_placement import order_to_wire
from wingbeat.hyperliquid.reconciliation import balance_from_state, positions_from_state
from wingbeat.hyperliquid.schemas import ClearinghouseState, MetaAndAssetCtxs, SpotMeta
from wingbeat.hyperliquid.schemas_account import OpenOrder
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.wire import Grouping, Tpsl, TriggerType, perp_trading_rule, update_leverage_action

__all__ = ["HyperliquidConfig", "HyperliquidPerpetualConnector"]

_logger = logging.getLogger("wingbeat.hyperliquid.connector")


class HyperliquidPerpetualConnector(HyperliquidConnectorBase, PerpetualConnectorBase):
    """Trades Hyperliquid perpetuals for ``signer``'s account on ``network``.

    ``network`` is ``"testnet"`` (the default: never real money by accident), ``"mainnet"`` or a base URL
    (e.g. a local exchange's ``http://127.0.0.1:PORT``, which signs as testnet like the official SDK).
    ``start()`` first checks the account (see :mod:`~wingbeat.hyperliquid.account_check`): one that does
    not exist, holds nothing, or that an agent key may not trade raises :class:`AuthenticationError`. ``journal_path=None`` keeps
    orders in memory only. Further keyword arguments (``reconcile_interval``, ``stale_order_after``,
    ``lost_order_limit`` ...) go to the core base.
    """

    name = "hyperliquid_perpetual"

    def __init__(
        self,
        signer: Signer,
        trading_pairs: Sequence[str],
        network: str = "testnet",
        journal_path: str | os.PathLike[str] | None = None,
        *,
        config: HyperliquidConfig | None = None,
        **base_options: Any,
    ) -> None:
        super().__init__(signer, trading_pairs, network, journal_path, config=config, **base_options)
        self._coins = {pair: trading_pair_to_coin(pair) for pair in trading_pairs}
        # builder (HIP-3) dexes followed: those of the traded pairs, then any the config names
        traded = [dex_of_coin(coin) for coin in self._coins.values()]
        named = self._config.perp_dexs or ()
        self._dexes = tuple(dict.fromkeys(d for d in (*traded, *named) if d))
        self._dex_states: dict[str, tuple[int, dict[str, Position]]] = {}  # dex -> (as of ms, positions)
        self._dex_collateral: dict[str, str] = {}  # builder dex -> its collateral token's name
        self._isolated_only: set[str] = set()  # traded pairs whose dex allows isolated margin only
        self._rules_at_start: dict[str, TradingRule] | None = None
        self._venue_marks: dict[str, Decimal] = {}  # every listed perp's mark, from metaAndAssetCtxs
        self._marks_wanted: set[str] = set()  # untracked pairs someone asked a mark of
        self._triggers: dict[str, TriggerType] = {}
        self._brackets = Brackets()
        # orders restored from the journal (which keeps no trigger): their kind is the venue's to say
        self._kind_unknown: set[str] = set()
        self._venue_triggers: set[str] = set()

    # ------------------------------------------------------------------------------- public face
    def get_funding_info(self, trading_pair: str) -> FundingInfo | None:
        """Mark, oracle, funding rate and next funding time of ``trading_pair`` (from activeAssetCtx)."""
        if self._books is not None:
            info = self._books.funding_info(trading_pair)
            if info is not None:
                return info
        return super().get_funding_info(trading_pair)

    def get_mark_price(self, trading_pair: str) -> Decimal | None:
        """The venue's mark of any listed perpetual: a traded pair's from its live asset context, any other's
        from ``metaAndAssetCtxs`` (loaded at start, refreshed every ``account_refresh_interval`` while the
        account holds a position in such a pair or its mark was asked for). None when the venue lists none."""
        if trading_pair in self._coins:
            info = self.get_funding_info(trading_pair)
            if info is not None:
                return info.mark_price
        else:
            self._marks_wanted.add(trading_pair)
        return self._venue_marks.get(trading_pair)

    async def all_trading_pairs(self) -> list[str]:
        """Every perpetual the venue lists, main dex first (``BTC-USD``), then each builder-deployed (HIP-3)
        dex in ``perpDexs`` order (``xyz:XYZ100-USD``); delisted ones left out. Works before ``start()``."""
        return [m.trading_pair for m in await self._venue_markets(dexes=None, spot=False)]

    async def set_leverage(self, trading_pair: str, leverage: int, *, cross: bool | None = None) -> None:
        """Set the leverage (and cross / isolated margin) of ``trading_pair``; ExchangeRejection on refusal.

        ``cross`` None: cross margin, or isolated where the pair's dex allows only that (``onlyIsolated``,
        ``marginMode`` noCross / strictIsolated, as on many HIP-3 perps); ``cross=True`` there is refused."""
        rule = self._trading_rules.get(trading_pair)
        asset = self._assets.get(trading_pair)
        if rule is None or asset is None:
            raise InvalidOrderError(f"unknown trading pair {trading_pair!r}")
        isolated_only = trading_pair in self._isolated_only
        if cross is None:
            cross = not isolated_only
        elif cross and isolated_only:
            raise InvalidOrderError(
                f"{trading_pair} allows isolated margin only: set_leverage({trading_pair!r}, {leverage!r}) "
                "sets it isolated (cross=False)"
            )
        if (
            isinstance(leverage, bool)
            or not isinstance(leverage, int)
            or leverage < 1
            or (rule.max_leverage is not None and leverage > rule.max_leverage)
        ):
            raise InvalidOrderError(
                f"leverage must be an integer in 1..{rule.max_leverage}, got {leverage!r}"
            )
        await self._send(update_leverage_action(asset, is_cross=cross, leverage=leverage))
        if self._sync is not None:
            self._sync.schedule_refresh()

    def place_trigger_order(
        self,
        trading_pair: str,
        trade_type: TradeType,
        amount: Decimal,
        trigger_price: Decimal,
        *,
        tpsl: Literal["tp", "sl"],
        limit_price: Decimal | None = None,
        reduce_only: bool = True,
    ) -> str:
        """A stop-loss (``tpsl="sl"``) or take-profit (``"tp"``) order that rests untriggered until the mark
        price crosses ``trigger_price``; it then executes as market, or at ``limit_price`` when given.
        Returns its client order id at once, like ``buy()``."""
        rule = self._trading_rules.get(trading_pair)
        if tpsl not in ("tp", "sl"):
            raise InvalidOrderError(f"tpsl must be 'tp' or 'sl', got {tpsl!r}")
        if not isinstance(trigger_price, Decimal) or not trigger_price.is_finite() or trigger_price <= 0:
            raise InvalidOrderError(f"trigger_price must be a positive Decimal, got {trigger_price!r}")
        trigger_px = rule.quantize_price(trigger_price, trade_type) if rule is not None else trigger_price
        is_market = limit_price is None
        if is_market:
            # execution price bound for the triggered market order, as the SDK does
            limit_price = self._slipped(trigger_px, trade_type)
        trigger = TriggerType(trigger_px=trigger_px, is_market=is_market, tpsl=tpsl)
        return self._place_trigger(trading_pair, trade_type, amount, limit_price, trigger, reduce_only)

    def _place_trigger(self, trading_pair: str, trade_type: TradeType, amount: Decimal, limit_price: Decimal | None,
                       trigger: TriggerType, reduce_only: bool) -> str:
        cid = self._new_client_order_id(trade_type, trading_pair)
        # registered first: the order may be written inside _place_order (a burst's early batch), and its
        # wire is a trigger only by this
        self._triggers[cid] = trigger
        position = PositionAction.CLOSE if reduce_only else PositionAction.OPEN
        self._place_order(
            cid, trade_type, trading_pair, amount, OrderType.LIMIT, limit_price, None, position, reduce_only, None
        )
        order = self.get_order(cid)
        if order is None or order.is_done:  # refused at once, never sent
            del self._triggers[cid]
        return cid

    def place_bracket_order(
        self,
        trading_pair: str,
        trade_type: TradeType,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
        order_type: OrderType = OrderType.LIMIT,
        time_in_force: TimeInForce | None = None,
    ) -> BracketOrder:
        """An entry order (as :meth:`buy` / :meth:`sell`: LIMIT, LIMIT_MAKER or MARKET) with a take-profit and / or
        a stop-loss attached, in one action (Hyperliquid's ``normalTpsl``). The legs are reduce-only trigger
        orders of the entry's size on the other side, executed as market when triggered; they wait for the
        entry to fill, the venue cancels them with the entry and one when the other fills. Returns the client
        order ids at once; each order then has its events like any other. A bracket without a leg, or with a
        trigger price on the wrong side of the entry's price (a buy's take-profit at or below it, say), is
        refused with :class:`InvalidOrderError` and nothing is placed. A bracket's entry cannot be modified."""
        if not isinstance(trade_type, TradeType):
            raise InvalidOrderError(f"trade_type must be a TradeType, got {trade_type!r}")
        if order_type not in (OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET):
            raise InvalidOrderError(f"a bracket's entry is a LIMIT, LIMIT_MAKER or MARKET order, got {order_type!r}")
        reference = self._reference_price(trading_pair) if order_type is OrderType.MARKET else price
        check_bracket_prices(trade_type, reference if isinstance(reference, Decimal) else None, take_profit,
                             stop_loss)  # fmt: skip
        exit_side = TradeType.SELL if trade_type is TradeType.BUY else TradeType.BUY
        rule = self._trading_rules.get(trading_pair)
        with self._placed_together():  # one batch, so one action: no early send between the entry and its legs
            entry = self._place_order(self._new_client_order_id(trade_type, trading_pair), trade_type, trading_pair,
                                      amount, order_type, price, time_in_force, PositionAction.NIL, False, None)
            order = self.get_order(entry)
            if order is None or order.is_done or rule is None:  # refused at once: its failure event says why
                return BracketOrder(entry, None, None)
            legs: dict[str, str | None] = {"tp": None, "sl": None}
            wanted: tuple[tuple[Tpsl, Decimal | None], ...] = (("tp", take_profit), ("sl", stop_loss))
            for tpsl, price_given in wanted:
                if price_given is None:
                    continue
                trigger_px = rule.quantize_price(price_given, exit_side)
                trigger = TriggerType(trigger_px=trigger_px, is_market=True, tpsl=tpsl)
                legs[tpsl] = self._place_trigger(trading_pair, exit_side, order.amount,
                                                 self._slipped(trigger_px, exit_side), trigger, True)
            placed = [cid for cid in legs.values() if cid is not None]
            if any((leg := self.get_order(cid)) is None or leg.is_done for cid in placed):
                # a leg refused at once (its failure event says why): the bracket goes whole or not at all
                for cid in (entry, *placed):
                    self.cancel(trading_pair, cid)  # all still queued
            else:
                self._brackets.add(entry, placed)
        return BracketOrder(entry, legs["tp"], legs["sl"])

    # ------------------------------------------------------------------------------- market data
    async def _start_network(self) -> None:
        await super()._start_network()
        interval = self._config.account_refresh_interval
        self._tasks.create_task(self._marks_loop(interval), name="mark-refresh")

    async def _prepare_markets(self) -> None:
        # before the books wait for snapshots: an unlisted pair or dex fails start() at once, naming it
        self._rules_at_start = await self._load_trading_rules()

    async def _update_trading_rules(self) -> Mapping[str, TradingRule]:
        rules, self._rules_at_start = self._rules_at_start, None
        return rules if rules is not None else await self._load_trading_rules()

    async def _load_trading_rules(self) -> dict[str, TradingRule]:
        rest = self._rest_client()
        offsets = {"": 0}
        spot: SpotMeta | None = None
        if self._dexes:  # asset ids of a builder dex follow its place in perpDexs; collateral names spotMeta
            listed = {d.name: d for d in await rest.perp_dexs()}
            unknown = [d for d in self._dexes if d not in listed]
            if unknown:
                raise InvalidOrderError(
                    f"the exchange lists no perp dex {', '.join(map(repr, unknown))} "
                    f"(builder dexes: {', '.join(map(repr, listed)) or 'none'})"
                )
            offsets.update((d, listed[d].asset_offset) for d in self._dexes)
            spot = await rest.spot_meta()
        wanted = set(self._coins.values())
        rules: dict[str, TradingRule] = {}
        for dex, offset in offsets.items():
            contexts = await rest.meta_and_asset_ctxs(dex)
            self._store_marks(contexts)
            if dex and spot is not None and contexts.meta.collateral_token is not None:
                token = spot.token(contexts.meta.collateral_token)
                self._dex_collateral[dex] = token.name if token is not None else COLLATERAL_TOKEN
            for asset in contexts.meta.universe:
                if asset.name in wanted and not asset.is_delisted:
                    pair = coin_to_trading_pair(asset.name)
                    self._assets[pair] = offset + asset.asset
                    rules[pair] = perp_trading_rule(pair, asset.sz_decimals, asset.max_leverage)
                    if asset.isolated_only:
                        self._isolated_only.add(pair)
        missing = wanted - {self._coins[p] for p in rules}
        if missing:
            raise InvalidOrderError(f"the exchange lists no perpetual {sorted(missing)}")
        return rules

    def _store_marks(self, contexts: MetaAndAssetCtxs) -> None:
        for asset in contexts.meta.universe:
            ctx = contexts.ctx_of(asset.asset)
            if ctx is not None:
                self._venue_marks[coin_to_trading_pair(asset.name)] = ctx.mark_px

    async def _marks_loop(self, interval: float) -> None:
        """Keep the marks of untracked pairs fresh while they matter (a position, or someone asked)."""
        while True:
            await asyncio.sleep(interval)
            held = {pair for pair in self.account_positions if pair not in self._coins}
            if not held and not self._marks_wanted:
                continue
            try:
                for dex in ("", *self._dexes):
                    self._store_marks(await self._rest_client().meta_and_asset_ctxs(dex))
            except WingbeatError as exc:
                _logger.warning("mark refresh failed: %r", exc)

    def _reference_price(self, trading_pair: str) -> Decimal | None:
        info = self.get_funding_info(trading_pair)
        return info.mark_price if info is not None else None

    # ------------------------------------------------------------------------------- account state
    def margin_asset(self, trading_pair: str) -> str:
        """The balance (`get_balance` name) that margins ``trading_pair``: ``"USDC"`` on the main dex, the
        dex's collateral on a builder dex (``"xyz:USDC"`` for ``xyz:XYZ100-USD``; known once started)."""
        dex = dex_of_coin(trading_pair_to_coin(trading_pair))
        if not dex:
            return COLLATERAL_TOKEN
        return f"{dex}:{self._dex_collateral.get(dex, COLLATERAL_TOKEN)}"

    def _account_dexes(self) -> Sequence[str]:
        return self._dexes

    def _on_account_state(self, state: ClearinghouseState) -> None:
        asset, total, available = balance_from_state(state)
        self._set_balance(asset, total, available)
        if not self._dexes:
            self._set_positions(positions_from_state(state), state.time_ms)
        else:
            self._on_dex_state("", state)

    def _on_dex_account_state(self, dex: str, state: ClearinghouseState) -> None:
        # a builder dex's margin is its own balance, named after the dex: "xyz:USDC" (CHOSEN)
        collateral = self._dex_collateral.get(dex, COLLATERAL_TOKEN)
        self._set_balance(f"{dex}:{collateral}", state.margin_summary.account_value, state.withdrawable)
        self._on_dex_state(dex, state)

    def _on_dex_state(self, dex: str, state: ClearinghouseState) -> None:
        """Positions of every followed dex as one snapshot, once each dex has reported: as of the oldest
        dex's state, each pair as of its own dex's (a fill its dex's state holds already is not replayed on
        it: its size would come out right from the venue's start position, its entry price would not)."""
        as_of = state.time_ms if state.time_ms is not None else int(self._clock() * 1000)
        known = self._dex_states.get(dex)
        if known is not None and as_of < known[0]:
            return  # an older answer that arrived late
        self._dex_states[dex] = (as_of, positions_from_state(state))
        if len(self._dex_states) <= len(self._dexes):
            return
        positions: dict[str, Position] = {}
        for _, held in self._dex_states.values():
            positions.update(held)
        times = {name: when for name, (when, _) in self._dex_states.items()}
        oldest = min(times.values())

        def dex_time(trading_pair: str) -> int:
            return times.get(dex_of_coin(trading_pair_to_coin(trading_pair)), oldest)

        self._set_positions(positions, oldest, pair_as_of_ms=dex_time)

    def _on_account_fills(self, fills: Sequence[PositionFill]) -> None:
        # perp fills only: the user stream leaves out spot ones (market_kind), which never move a position
        for fill in fills:
            self._apply_position_fill(fill)

    # ------------------------------------------------------------------------------- orders
    def _on_state_change(self, order: InFlightOrder, previous: OrderState) -> None:
        super()._on_state_change(order, previous)
        if order.current_state.is_final:
            cid = order.client_order_id
            if self._triggers:
                self._triggers.pop(cid, None)  # e.g. cancelled before it was ever sent
            if self._brackets:
                self._brackets.forget(cid)
            if self._kind_unknown or self._venue_triggers:
                self._kind_unknown.discard(cid)
                self._venue_triggers.discard(cid)

    async def _restore_from_journal(self) -> None:
        await super()._restore_from_journal()
        self._kind_unknown = {o.client_order_id for o in self.open_orders}

    def _on_venue_order(self, order: InFlightOrder, venue: OpenOrder) -> None:
        cid = order.client_order_id
        if cid in self._kind_unknown and venue.is_trigger is not None and not order.current_state.is_final:
            self._kind_unknown.discard(cid)
            if venue.is_trigger:
                self._venue_triggers.add(cid)

    def _batch_actions(self, batch: list[InFlightOrder]) -> list[list[InFlightOrder]]:
        # each bracket in an action of its own (normalTpsl), after one for the other orders
        return self._brackets.split(batch) if self._brackets else [batch]

    def _action_grouping(self, orders: Sequence[InFlightOrder], wires: Sequence[Mapping[str, Any]]) -> Grouping:
        if self._brackets and orders and self._brackets.is_entry(orders[0].client_order_id):
            return "normalTpsl"
        return super()._action_grouping(orders, wires)

    async def _request_order_statuses(
        self, orders: Sequence[InFlightOrder]
    ) -> Sequence[OrderUpdate | BaseException | None]:
        brackets = self._brackets
        if not brackets or not any(brackets.waits_for_entry(o.client_order_id) for o in orders):
            return await super()._request_order_statuses(orders)
        # a leg waiting for its entry is not asked about (the venue may not know it by its cloid before the
        # entry fills, and "not found" would count towards giving it up): it stands as it is while its entry does
        waiting = [brackets.waits_for_entry(o.client_order_id) for o in orders]  # before the await changes it
        asked = [o for o, waits in zip(orders, waiting, strict=True) if not waits]
        answers = iter(await super()._request_order_statuses(asked) if asked else ())
        now = self._clock()
        return [
            next(answers) if not waits else OrderUpdate(
                client_order_id=o.client_order_id, trading_pair=o.trading_pair, update_timestamp=now,
                new_state=o.current_state, exchange_order_id=o.exchange_order_id,
            )
            for o, waits in zip(orders, waiting, strict=True)
        ]  # fmt: skip

    def _order_wire(self, order: InFlightOrder) -> dict[str, Any]:
        if self._brackets and self._brackets.lost_its_entry(order.client_order_id):
            raise InvalidOrderError("its bracket's entry ended before it was sent")
        asset = self._assets[order.trading_pair]
        # kept until the order ends (``_on_state_change``): ``modify`` refuses trigger orders by it
        return order_to_wire(order, asset, self._triggers.get(order.client_order_id))

    def modify(
        self, client_order_id: str, *, price: Decimal | None = None, amount: Decimal | None = None
    ) -> str:
        """As :meth:`ConnectorBase.modify`; a trigger order (:meth:`place_trigger_order`) is refused with
        :class:`InvalidOrderError` (its trigger would not survive the replacement: cancel it and place anew), and
        so is an order restored from the journal until a status check showed it is no trigger order."""
        if client_order_id in self._triggers or client_order_id in self._venue_triggers:
            raise InvalidOrderError(
                f"order {client_order_id} is a trigger order: cancel it and place a new one instead of modifying"
            )
        if self._brackets.is_entry(client_order_id):
            raise InvalidOrderError(
                f"order {client_order_id} is the entry of a bracket order (its take-profit / stop-loss wait on it): "
                "cancel it and place a new bracket instead of modifying"
            )
        if client_order_id in self._kind_unknown:
            raise InvalidOrderError(
                f"order {client_order_id} was restored from the journal and the venue has not said yet whether it "
                "is a trigger order: modify it once wait_recovered() returned"
            )
        return super().modify(client_order_id, price=price, amount=amount)
