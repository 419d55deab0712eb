"""Spot-perp basis (funding carry): hold a token on spot, short its perpetual, collect funding.

While the perp's funding pays shorts enough (the hourly rate × 24 × 365 at least ``min_entry_funding_apr``)
and the perp trades at most ``max_entry_basis`` above spot, the strategy buys ``target_notional`` of the token
on spot with an IOC order capped ``max_slippage`` beyond the ask, then shorts the perp for what it actually
received (a spot buy's fee is taken in the token) with IOC orders, retried ``hedge_attempts`` times. A hedge
that does not come (the perp order refused, not filled) unwinds the spot it left naked. Once hedged it watches
funding: below ``exit_funding_apr`` it sells the spot and buys the perp back reduce-only, both at once.

The legs are this strategy's own fills (the account may hold the token or the perp for other reasons: those
are never traded). They may differ by ``hedge_tolerance`` (a fraction of the target size, never less than
one lot); beyond it the strategy rebalances, and a leg still naked after the attempts or ``naked_timeout``
seconds fires the kill switch. Every order is risk-checked by `Strategy` (``max_notional`` counts both legs;
a sell of tokens held and a reduce-only buy shrink exposure and always pass it) and every venue wait has a
deadline (``order_timeout``). `stop` finishes an entry or exit under way (bounded), so the legs are left
balanced, or the imbalance is logged and shown in `summary_rows`.

Connectors: ``{"spot": spot connector, "perp": perp connector}`` (any names: each pair goes to the connector
that trades it). Decisions (`basis_decision`) run on every clock tick and after every funding payment.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.events import FundingPaymentEvent, OrderFilledEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.trading_rule import TradingRule
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.risk import RiskLimits
from wingbeat.engine.strategy import Strategy, TradingConnector

__all__ = ["BasisConfig", "BasisDecision", "BasisPhase", "BasisStrategy", "annualised", "basis_decision"]

_ZERO = Decimal(0)
_NUMBER = re.compile(r"-?\d+(\.\d+)?")  # the numbers of a decision reason
_ONE = Decimal(1)
HOURS_PER_YEAR = 24 * 365


def annualised(hourly_rate: Decimal) -> Decimal:
    """An hourly funding rate as a yearly one (``rate × 24 × 365``, not compounded)."""
    return hourly_rate * HOURS_PER_YEAR


@dataclass(frozen=True, slots=True, kw_only=True)
class BasisConfig:
    """Parameters of `BasisStrategy`. Fractions are plain (``Decimal("0.1")`` = 10 %).

    ``token`` is traded as ``TOKEN-{spot_quote}`` on spot and ``TOKEN-{perp_quote}`` on perps;
    ``target_notional`` is the quote value of each leg; enter when the annualised funding is at least
    ``min_entry_funding_apr`` and the premium ``(perp mid - spot mid) / spot mid`` at most ``max_entry_basis``;
    exit when the annualised funding falls below ``exit_funding_apr``. ``max_slippage`` caps every IOC order's
    price beyond the touch; ``hedge_tolerance`` is how far the legs may differ, as a fraction of the target
    size (at least one lot); ``hedge_attempts`` orders per leg and step; ``naked_timeout`` seconds a leg may
    stay unhedged; ``order_timeout`` seconds to wait for one order's end; ``retry_interval`` seconds before
    another entry after one that did not fill.
    """

    token: str
    target_notional: Decimal
    min_entry_funding_apr: Decimal
    exit_funding_apr: Decimal = _ZERO
    max_entry_basis: Decimal = Decimal("0.005")
    max_slippage: Decimal = Decimal("0.005")
    hedge_tolerance: Decimal = Decimal("0.02")
    hedge_attempts: int = 3
    naked_timeout: float = 30.0
    order_timeout: float = 10.0
    retry_interval: float = 30.0
    spot_quote: str = "USDC"
    perp_quote: str = "USD"

    def __post_init__(self) -> None:
        if not self.token or "-" in self.token:
            raise ValueError(f"token must be a token name such as 'HYPE', got {self.token!r}")
        for name in ("target_notional", "min_entry_funding_apr", "exit_funding_apr", "max_entry_basis",
                     "max_slippage", "hedge_tolerance"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ValueError(f"{name} must be a finite Decimal, got {value!r}")
        if not self.target_notional > 0:
            raise ValueError("target_notional must be positive")
        if self.exit_funding_apr > self.min_entry_funding_apr:
            raise ValueError("exit_funding_apr must not be above min_entry_funding_apr (it would exit at once)")
        if not 0 < self.max_slippage < 1:
            raise ValueError("max_slippage must be above 0 and below 1")
        if not 0 <= self.hedge_tolerance < 1:
            raise ValueError("hedge_tolerance must be at least 0 and below 1")
        if self.hedge_attempts < 1:
            raise ValueError("hedge_attempts must be at least 1")
        for name in ("naked_timeout", "order_timeout", "retry_interval"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds")

    @property
    def spot_pair(self) -> str:
        """The spot pair, e.g. ``"HYPE-USDC"``."""
        return f"{self.token}-{self.spot_quote}"

    @property
    def perp_pair(self) -> str:
        """The perpetual, e.g. ``"HYPE-USD"``."""
        return f"{self.token}-{self.perp_quote}"


class BasisPhase(Enum):
    """Where the strategy is: FLAT (no legs), ENTERING, HEDGED (both legs on), EXITING, STOPPED."""

    FLAT = "flat"
    ENTERING = "entering"
    HEDGED = "hedged"
    EXITING = "exiting"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class BasisDecision:
    """What `basis_decision` says: ``action`` is ``"enter"``, ``"exit"`` or ``"hold"``, with the reason."""

    action: str
    reason: str


def basis_decision(config: BasisConfig, *, hedged: bool, funding_rate: Decimal | None,
                   spot_mid: Decimal | None, perp_mid: Decimal | None) -> BasisDecision:
    """Enter, exit or hold, from the hourly funding rate and the two mids (None while unknown)."""
    if funding_rate is None:
        return BasisDecision("hold", "no funding rate yet")
    apr = annualised(funding_rate)
    if hedged:
        if apr < config.exit_funding_apr:
            return BasisDecision("exit", f"funding {apr:.2%}/yr below exit {config.exit_funding_apr:.2%}/yr")
        return BasisDecision("hold", f"funding {apr:.2%}/yr")
    if apr < config.min_entry_funding_apr:
        return BasisDecision("hold", f"funding {apr:.2%}/yr below entry {config.min_entry_funding_apr:.2%}/yr")
    if spot_mid is None or perp_mid is None or spot_mid <= 0:
        return BasisDecision("hold", "no spot or perp price yet")
    premium = (perp_mid - spot_mid) / spot_mid
    if premium > config.max_entry_basis:
        return BasisDecision("hold", f"basis {premium:.4%} above max {config.max_entry_basis:.4%}")
    return BasisDecision("enter", f"funding {apr:.2%}/yr, basis {premium:.4%}")


class BasisStrategy(Strategy):
    """Long spot, short perp of one token while funding pays (see the module docstring)."""

    def __init__(self, connectors: Mapping[str, TradingConnector], config: BasisConfig, *,
                 risk: RiskLimits | None = None, metrics: Metrics | None = None) -> None:
        super().__init__(connectors, risk=risk, metrics=metrics)
        self.config = config
        self.phase = BasisPhase.FLAT
        self.spot_held = _ZERO
        """Tokens this strategy bought on spot and still holds (net of fees taken in the token)."""
        self.perp_short = _ZERO
        """Size of this strategy's perp short (positive when short)."""
        self.funding_received = _ZERO
        """Funding paid to the account on the perp since the start (negative: paid by it)."""
        self.entries = 0
        self.exits = 0
        self.last_decision: BasisDecision | None = None
        self._told: tuple[str, str] | None = None  # the last decision logged, its numbers left out
        self._work: asyncio.Task[None] | None = None
        self._naked_since: float | None = None
        self._next_entry_at = 0.0
        self._fill_seen = asyncio.Event()
        self._trades_seen: set[str] = set()
        self._counted: dict[str, Decimal] = {}  # base amount of each own order's fills counted in the legs

    # -- views ---------------------------------------------------------------------------------------

    @property
    def naked(self) -> Decimal:
        """Spot held minus perp short: positive = unhedged spot, negative = perp short without spot."""
        return self.spot_held - self.perp_short

    def tolerance(self) -> Decimal:
        """How far the legs may differ, in tokens: ``hedge_tolerance`` of the target size, at least a lot."""
        cfg = self.config
        lots = [r.size_increment for r in (self._rule(cfg.spot_pair), self._rule(cfg.perp_pair)) if r is not None]
        price = self.mid_price(cfg.spot_pair)
        target = cfg.target_notional / price if price else _ZERO
        return max([cfg.hedge_tolerance * target, *lots])

    def decide(self) -> BasisDecision:
        """The decision now, from the perp's funding and both mids."""
        cfg = self.config
        info = self.funding_info(cfg.perp_pair)
        return basis_decision(cfg, hedged=self.phase is BasisPhase.HEDGED,
                              funding_rate=info.rate if info is not None else None,
                              spot_mid=self.mid_price(cfg.spot_pair), perp_mid=self.mid_price(cfg.perp_pair))

    def summary_rows(self) -> list[tuple[str, str]]:
        """Phase, both legs, their difference, funding received, entries and exits."""
        t = self.config.token
        return [("basis phase", self.phase.value), ("basis spot held", f"{self.spot_held} {t}"),
                ("basis perp short", f"{self.perp_short} {t}"), ("basis unhedged", f"{self.naked} {t}"),
                ("basis funding received", f"{self.funding_received:.6f}"),
                ("basis entries / exits", f"{self.entries} / {self.exits}")]

    # -- lifecycle -----------------------------------------------------------------------------------

    async def on_start(self) -> None:
        """Check that some connector trades each pair."""
        cfg = self.config
        for pair in (cfg.spot_pair, cfg.perp_pair):
            if pair not in self.connector_for(pair).trading_pairs:
                raise ValueError(f"no connector of this strategy trades {pair}")

    async def on_tick(self, timestamp: float) -> None:
        """Enter, exit or rebalance when the decision says so and nothing is under way."""
        self._evaluate()

    async def stop(self) -> None:
        """Let an entry or exit under way finish (each of its waits is bounded), balance a naked leg if one is
        left and the kill switch is off, then stop as `Strategy.stop` does and log the legs."""
        cfg = self.config
        work = self._work
        if work is not None and not work.done():
            bound = cfg.naked_timeout + cfg.order_timeout * (2 * cfg.hedge_attempts + 2)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(work), bound)
        if self.running and self.kill_reason is None and abs(self.naked) > self.tolerance():
            await self._balance_legs()
        await super().stop()
        self.phase = BasisPhase.STOPPED
        self._report()

    async def on_stop(self) -> None:
        """Log the legs (a kill ends here without `stop`)."""
        self.phase = BasisPhase.STOPPED

    def _report(self) -> None:
        t = self.config.token
        if abs(self.naked) > self.tolerance():
            self.logger.error("stopped with unbalanced legs: spot %s %s, perp short %s %s (unhedged %s)",
                              self.spot_held, t, self.perp_short, t, self.naked)
        else:
            self.logger.info("stopped: spot %s %s, perp short %s %s", self.spot_held, t, self.perp_short, t)

    # -- events --------------------------------------------------------------------------------------

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        """Move the legs by this strategy's fills (a buy counts what was received)."""
        if not self.is_own_order(event.client_order_id) or event.trade_id in self._trades_seen:
            return
        self._trades_seen.add(event.trade_id)
        self._counted[event.client_order_id] = self._counted.get(event.client_order_id, _ZERO) + event.amount
        cfg = self.config
        is_buy = event.trade_type is TradeType.BUY
        if event.trading_pair == cfg.spot_pair:
            fee = event.fee_amount if event.fee_asset == cfg.token else _ZERO
            self.spot_held += event.amount - fee if is_buy else -event.amount
        elif event.trading_pair == cfg.perp_pair:
            self.perp_short += -event.amount if is_buy else event.amount
        self._fill_seen.set()

    def on_funding_payment(self, event: FundingPaymentEvent) -> None:
        """Count funding on the perp and re-decide at once (the rate just changed). Only the perp connector
        publishes it: the spot connector of the same account leaves the account's perp news out."""
        if event.trading_pair != self.config.perp_pair:
            return
        self.funding_received += event.amount
        self._evaluate()

    # -- decisions -----------------------------------------------------------------------------------

    def _evaluate(self) -> None:
        if not self.running or self.kill_reason is not None or (self._work is not None and not self._work.done()):
            return
        cfg = self.config
        now = asyncio.get_running_loop().time()
        tolerance = self.tolerance()
        if abs(self.naked) > tolerance:  # a late fill, an IOC that filled after its deadline...
            self._naked_since = self._naked_since if self._naked_since is not None else now
            if now - self._naked_since > cfg.naked_timeout:
                self.trigger_kill(f"{self._naked_text()} for more than {cfg.naked_timeout:g}s")
                return
            self._start(self._balance_legs(), "rebalance")
            return
        self._naked_since = None
        decision = self.decide()
        self.last_decision = decision
        told = (decision.action, _NUMBER.sub("#", decision.reason))
        if decision.action == "hold" and told != self._told:  # why it waits, once per kind of reason
            waiting = "staying hedged" if self.phase is BasisPhase.HEDGED else "waiting to enter"
            self.logger.info("%s: %s", waiting, decision.reason)
        self._told = told
        if self.phase is BasisPhase.FLAT and decision.action == "enter" and now >= self._next_entry_at:
            self.logger.info("entering: %s", decision.reason)
            self._start(self._enter(), "enter")
        elif self.phase is BasisPhase.HEDGED and decision.action == "exit":
            self.logger.info("exiting: %s", decision.reason)
            self._start(self._exit(), "exit")

    def _start(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self._work = self._tasks.create_task(work, name=name)

    # -- entry, exit, balance ------------------------------------------------------------------------

    async def _enter(self) -> None:
        cfg = self.config
        self.phase = BasisPhase.ENTERING
        self._next_entry_at = asyncio.get_running_loop().time() + cfg.retry_interval
        ask = self.order_book(cfg.spot_pair).best_ask
        amount = self._spot_size(cfg.target_notional / ask) if ask else _ZERO
        before = self.spot_held
        if amount:
            await self._settle(self._ioc(cfg.spot_pair, TradeType.BUY, amount))
        if self.spot_held <= before:
            self.logger.warning("spot buy of %s %s did not fill: no entry", amount, cfg.token)
        await self._balance_legs()
        if self.kill_reason is not None:
            return
        if self.spot_held > self.tolerance() and abs(self.naked) <= self.tolerance():
            self.entries += 1
            self.phase = BasisPhase.HEDGED
            self.logger.info("hedged: spot %s %s, perp short %s", self.spot_held, cfg.token, self.perp_short)
        else:
            self.phase = BasisPhase.FLAT

    async def _exit(self) -> None:
        cfg = self.config
        self.phase = BasisPhase.EXITING
        for _ in range(cfg.hedge_attempts):
            orders = []
            spot = self._sellable_spot()
            if spot:
                orders.append(self._ioc(cfg.spot_pair, TradeType.SELL, spot))
            perp = self._perp_size(self.perp_short)
            if perp:
                orders.append(self._ioc(cfg.perp_pair, TradeType.BUY, perp, reduce_only=True))
            if not orders or all(cid is None for cid in orders):
                break
            await asyncio.gather(*(self._settle(cid) for cid in orders))
        await self._balance_legs()
        if abs(self.naked) <= self.tolerance():
            self.exits += 1
            self.phase = BasisPhase.FLAT if self.perp_short <= self.tolerance() else BasisPhase.HEDGED
            self.logger.info("exited: spot %s %s, perp short %s left", self.spot_held, cfg.token, self.perp_short)

    async def _balance_legs(self) -> None:
        """Bring the perp short to the spot held: hedge unhedged spot, and when the hedge does not come
        (refused, unfilled) sell that spot; buy back a perp short without spot. Kill switch if a leg stays
        naked beyond the tolerance."""
        cfg = self.config
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(cfg.hedge_attempts):  # hedge first, as close as the perp's lot allows
            need = self._perp_size(self.naked)
            if not need or self.kill_reason is not None:
                break
            if await self._settle(self._ioc(cfg.perp_pair, TradeType.SELL, need)) is None:
                break  # refused before sending (risk limits): retrying cannot help
        for _ in range(cfg.hedge_attempts):  # then unwind whatever stays unhedged, either way
            if abs(self.naked) <= self.tolerance() or self.kill_reason is not None:
                break
            if loop.time() - started > cfg.naked_timeout:
                break
            if self.naked > 0:
                amount = min(self._spot_size(self.naked), self._sellable_spot())
                self.logger.warning("hedge not filled: unwinding %s %s of spot", amount, cfg.token)
                cid = self._ioc(cfg.spot_pair, TradeType.SELL, amount) if amount else None
            else:
                amount = self._perp_size(-self.naked)
                cid = self._ioc(cfg.perp_pair, TradeType.BUY, amount, reduce_only=True) if amount else None
            if cid is None:
                break
            await self._settle(cid)
        if abs(self.naked) > self.tolerance() and self.kill_reason is None and self.running:
            self.trigger_kill(f"{self._naked_text()} after {cfg.hedge_attempts} attempts to hedge and unwind")
        if abs(self.naked) <= self.tolerance():
            self._naked_since = None

    def _naked_text(self) -> str:
        t = self.config.token
        if self.naked > 0:
            return f"naked spot leg: {self.naked} {t} held without a perp short"
        return f"naked perp leg: short {-self.naked} {t} more than the spot held"

    # -- orders --------------------------------------------------------------------------------------

    def _rule(self, pair: str) -> TradingRule | None:
        return self.connector_for(pair).trading_rules.get(pair)

    def _spot_size(self, amount: Decimal) -> Decimal:
        return self._size(self.config.spot_pair, amount)

    def _perp_size(self, amount: Decimal) -> Decimal:
        return self._size(self.config.perp_pair, amount)

    def _size(self, pair: str, amount: Decimal) -> Decimal:
        """``amount`` on the pair's lot, or 0 when below its minimum size or value."""
        rule = self._rule(pair)
        if rule is None or amount <= 0:
            return _ZERO
        size = rule.quantize_size(amount)
        price = self.mid_price(pair)
        if size < rule.min_order_size or size <= 0 or (price is not None and size * price < rule.min_notional):
            return _ZERO
        return size

    def _sellable_spot(self) -> Decimal:
        """The spot this strategy holds, on the lot (the rest is dust below one lot)."""
        return self._spot_size(self.spot_held)

    def _ioc(self, pair: str, side: TradeType, amount: Decimal, *, reduce_only: bool = False) -> str | None:
        """An IOC limit order at the touch moved by ``max_slippage`` (risk-checked; None when refused)."""
        book = self.order_book(pair)
        is_buy = side is TradeType.BUY
        touch = book.best_ask if is_buy else book.best_bid
        rule = self._rule(pair)
        if touch is None or rule is None or amount <= 0:
            self.logger.warning("no %s price on %s: order not sent", "ask" if is_buy else "bid", pair)
            return None
        slip = self.config.max_slippage
        price = rule.quantize_price(touch * (_ONE + slip if is_buy else _ONE - slip), side)
        action = PositionAction.CLOSE if reduce_only else (
            PositionAction.NIL if pair == self.config.spot_pair else PositionAction.OPEN)
        place = self.buy if is_buy else self.sell
        return place(pair, amount, price, OrderType.LIMIT, action, time_in_force=TimeInForce.IOC)

    async def _settle(self, cid: str | None) -> InFlightOrder | None:
        """Wait (at most ``order_timeout``) until the order is final and its fills have arrived and moved the
        legs (the connector may publish a fill after the order's state changed); an order still open then is
        cancelled. None for a refused order."""
        if cid is None:
            return None
        order: InFlightOrder | None = None
        for conn in self.connectors.values():
            order = conn.get_order(cid)
            if order is not None:
                break
        if order is None:
            return None
        try:
            async with asyncio.timeout(self.config.order_timeout):
                await order.wait_until_done()
                while order.awaits_fills or self._counted.get(cid, _ZERO) < order.executed_amount_base:
                    self._fill_seen.clear()
                    await self._fill_seen.wait()
        except TimeoutError:
            self.logger.error("order %s on %s not settled within %.1fs (%s)", cid, order.trading_pair,
                              self.config.order_timeout, order.current_state.name)
            if order.is_open:
                self.cancel(order.trading_pair, cid)
        if order.is_failure and order.reason:
            self.logger.warning("order %s on %s failed: %s", cid, order.trading_pair, order.reason)
        return order
