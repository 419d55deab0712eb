"""``HyperliquidConnectorBase``: the Hyperliquid account layer every Hyperliquid market connector shares.

The core base owns order entry, batching, journaling and reconciliation; this class fills the hooks that do
not depend on the market (perpetuals or spot):

- network: one REST client, one websocket (market data, user stream and action ``post``), an order book
  tracker and the user stream feeding :class:`~wingbeat.hyperliquid.reconciliation.AccountSync`; the account
  check (:mod:`~wingbeat.hyperliquid.account_check`) first;
- every batch the base flushes in one loop tick is ONE signed action (see ``order_placement``); LIMIT = Gtc,
  LIMIT_MAKER = Alo, MARKET = an aggressive Ioc at the book price moved by ``market_slippage``;
- client order ids are cloids, so every order can be found by cloid after any failure: status checks (lost
  answers, stale orders, reconnects, restart from the journal) ask ``orderStatus`` by cloid, or one
  ``frontendOpenOrders`` + one ``historicalOrders`` for many orders (``order_status``), and fetch the fills
  the venue made that we have not counted before the new state is applied;
- a ``scheduleCancel`` dead man's switch kept armed while running (``dead_man_switch``).

A market connector (``HyperliquidPerpetualConnector`` in ``connector``, ``HyperliquidSpotConnector`` in
``spot_connector``) adds what only its market has: the trading rules and asset ids (``_update_trading_rules``
fills ``self._assets``), what an account state is and means (``_account_state_channel``,
``_fetch_account_state``, ``_on_account_state``, ``_on_account_fills``), the books' coins
(``_prepare_markets``, ``_market_data_source``) and, optionally, a reference price for MARKET orders when the
book is empty (``_reference_price``), extra fields of an order (``_order_wire``) and the grouping of an
order action (``_action_grouping``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import weakref
from abc import abstractmethod
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Literal

from wingbeat.core.connector_base import ConnectorBase, PerpetualConnectorBase
from wingbeat.core.enums import TradeType
from wingbeat.core.errors import (
    AuthenticationError,
    ExchangeRejection,
    InvalidOrderError,
    NotReadyError,
    RateLimitedError,
    TransportError,
    WingbeatError,
)
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_book import OrderBook
from wingbeat.core.order_book_tracker import OrderBookTracker
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.core.positions import PositionFill
from wingbeat.core.throttler import WeightedRateLimiter
from wingbeat.hyperliquid.account_actions import MAX_BUILDER_FEE_PERP, MAX_BUILDER_FEE_SPOT, AccountActions
from wingbeat.hyperliquid.account_check import check_account
from wingbeat.hyperliquid.builder_fee import BuilderFeeGate
from wingbeat.hyperliquid.constants import (
    REST_WEIGHT_BUDGET,
    REST_WEIGHT_WINDOW_S,
    coin_to_trading_pair,
    looks_like_private_key,
    resolve_network,
    shown,
)
from wingbeat.hyperliquid.market_kind import MarketKind
from wingbeat.hyperliquid.markets import VenueMarket, venue_markets
from wingbeat.hyperliquid.order_book_data_source import HyperliquidOrderBookDataSource
from wingbeat.hyperliquid.order_placement import (
    ActionSender,
    cancel_results,
    modify_results,
    modify_spec,
    order_grouping,
    order_to_wire,
    order_updates,
)
from wingbeat.hyperliquid.order_status import OrderStatusChecker
from wingbeat.hyperliquid.reconciliation import AccountSync
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas import ClearinghouseState
from wingbeat.hyperliquid.schemas_account import OpenOrder
from wingbeat.hyperliquid.schemas_exchange import ExchangeReply, PendingStatus, TwapRunningStatus
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.twap_orders import AccountTwaps, TwapOrder, checked_twap_size
from wingbeat.hyperliquid.twap_wire import TwapSpec, twap_cancel_action, twap_order_action
from wingbeat.hyperliquid.user_stream_data_source import HyperliquidUserStreamDataSource
from wingbeat.hyperliquid.wire import (
    Builder,
    Cloid,
    Grouping,
    batch_modify_action,
    cancel_by_cloid_action,
    new_cloid,
    schedule_cancel_action,
    wired_order_action,
)
from wingbeat.hyperliquid.ws import HyperliquidWebSocket

__all__ = ["HyperliquidConfig", "HyperliquidConnectorBase"]

# every Hyperliquid connector logs under one name, whatever the market: users filter on it
_logger = logging.getLogger("wingbeat.hyperliquid.connector")

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
# builder dex names as AccountActions checks them (CHOSEN there: short lowercase words such as "xyz")
_DEX_NAME = re.compile(r"[a-z0-9]{1,16}")
#: Our clock and the exchange's may differ by this much when judging an action's expiresAfter, seconds.
_CLOCK_SLACK = 1.0
#: The exchange refuses a scheduleCancel time less than 5 s ahead on arrival: the rest is room for latency.
_MIN_DEAD_MAN_SWITCH = 10.0
#: How long stop() waits for the dead man's switch to be disarmed, seconds (at most the request timeout).
_DISARM_TIMEOUT = 1.0
# The connectors of this process keeping a dead man's switch armed, by (REST URL, account): the switch is the
# account's, so a connector that stops leaves it armed while another one (the spot leg of a basis trade, say)
# still keeps it; the last one to stop disarms it.
_ARMED_SWITCHES: dict[tuple[str, str], weakref.WeakSet[HyperliquidConnectorBase]] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class HyperliquidConfig:
    """Tuning of a Hyperliquid connector (:class:`HyperliquidPerpetualConnector` and the other markets on
    :class:`HyperliquidConnectorBase`); every field has a safe default."""

    actions_over_websocket: bool = True
    """Send actions with the websocket ``post`` method (lower latency); REST when the socket is down."""
    market_slippage: Decimal = Decimal("0.05")
    """A MARKET order is an Ioc limit at the book price moved this fraction against us (the SDK's 5%)."""
    dead_man_switch: float | None = 60.0
    """Seconds ahead the ``scheduleCancel`` switch is kept armed (>= 10); None disables it."""
    account_refresh_interval: float = 10.0
    """Seconds between ``clearinghouseState`` polls of positions and balances, made only while the venue
    has pushed no state on the websocket for that long (fills move positions at once either way)."""
    request_timeout: float = 10.0
    """Deadline of one REST request or websocket post, seconds."""
    order_validity: float | None = None
    """Seconds an order action stays valid (its ``expiresAfter``; None: ``request_timeout``, the time we
    wait for its answer): arriving later, the exchange refuses it. An order whose request got no answer is
    declared lost only once this has passed (plus 1 s of clock slack), so a late request can never bring
    back an order we called FAILED."""
    vault_address: str | None = None
    """Trade for this vault / subaccount (the signer is its leader or master)."""
    ready_timeout: float = 15.0
    """How long ``start()`` waits for the websocket and the first order books, seconds."""
    rest_weight_budget: int | None = None
    """REST request weight spent per minute at most (None: just under Hyperliquid's 1200 per IP). Raise
    it only against a venue that allows more, such as a local exchange with relaxed limits."""
    max_rate_limit_pause: float = 30.0
    """Longest pause honoured when the venue answers 429 with ``Retry-After`` (a proxy may send absurd
    values), seconds; meanwhile requests are refused at once and ``ready`` is False."""
    builder_address: str | None = None
    """Builder code: every order action carries ``{"b": builder_address, "f": builder_fee}`` and the builder
    earns that fee on the orders' fills. The account must have approved at least ``builder_fee`` for this
    builder (approveBuilderFee, signed by the account's own key: ``wingbeat approve-builder-fee ADDRESS FEE``
    or ``AccountActions.approve_builder_fee``); read at start, orders above the approval fail locally."""
    builder_fee: int = 0
    """The builder fee in tenths of a basis point (10 = 1 bp = 0.01 %): 1 to 100 on perps (0.1 %), up to 1000
    on spot (1 %; Hyperliquid charges it only where the fee is in USDC, not on spot buys)."""
    priority_fee: int | None = None
    """Priority fee (Hyperliquid's order priority, ``grouping`` ``{"p": rate}``) of order batches the venue
    takes it on: every order of the batch immediate-or-cancel (MARKET included), or every order post-only
    (LIMIT_MAKER) and none reduce-only; other batches go without it. ``rate`` in units of 1e-8 of the notional
    (10000 = 1 bp), paid in HYPE from the undelegated staking balance: on the filled notional of an Ioc, on
    the resting notional of a post-only order when placed. None: no priority fee."""

    perp_dexs: tuple[str, ...] | None = None
    """Builder-deployed (HIP-3) perp dexes a perp connector follows beside the main dex: their rules and
    marks, and the account's positions and margin there (None: the dexes of the traded pairs, e.g. "xyz"
    for "xyz:XYZ100-USD"; name more to see positions on dexes you do not trade)."""

    def __post_init__(self) -> None:
        if self.perp_dexs is not None and (
            not isinstance(self.perp_dexs, tuple)
            or any(not isinstance(d, str) or _DEX_NAME.fullmatch(d) is None for d in self.perp_dexs)
        ):
            text = repr(self.perp_dexs)
            what = "a value that looks like a private key (not shown)" if looks_like_private_key(text) else text[:80]
            raise ValueError(f'perp_dexs must be a tuple of builder dex names such as ("xyz",), got {what}')
        if not self.market_slippage.is_finite() or not 0 < self.market_slippage < 1:
            raise ValueError(f"market_slippage must be in (0, 1), got {self.market_slippage}")
        if self.dead_man_switch is not None and self.dead_man_switch < _MIN_DEAD_MAN_SWITCH:
            raise ValueError(
                f"dead_man_switch must be >= {_MIN_DEAD_MAN_SWITCH:g} s (the exchange wants the cancel time at least "
                f"5 s ahead when the request arrives), got {self.dead_man_switch}"
            )
        for name in (
            "account_refresh_interval",
            "request_timeout",
            "ready_timeout",
            "order_validity",
            "max_rate_limit_pause",
        ):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        fee = self.priority_fee
        if fee is not None and (isinstance(fee, bool) or not isinstance(fee, int) or fee <= 0):
            raise ValueError(f"priority_fee must be a positive integer (units of 1e-8 of the notional) or None, "
                             f"got {fee!r}")
        if self.rest_weight_budget is not None and not self.rest_weight_budget > 0:
            raise ValueError(f"rest_weight_budget must be positive, got {self.rest_weight_budget!r}")
        if self.vault_address is not None and _ADDRESS.fullmatch(self.vault_address) is None:
            raise ValueError(f"vault_address must be '0x' followed by 40 hex digits, got {shown(self.vault_address)}")
        self._check_builder()

    def _check_builder(self) -> None:
        address, fee = self.builder_address, self.builder_fee
        if isinstance(fee, bool) or not isinstance(fee, int):
            raise ValueError(f"builder_fee must be an integer (tenths of a basis point), got {fee!r}")
        if address is None:
            if fee:
                raise ValueError("builder_fee needs builder_address (the builder who earns it)")
            return
        if _ADDRESS.fullmatch(address) is None:
            raise ValueError(f"builder_address must be '0x' followed by 40 hex digits, got {shown(address)}")
        if not 1 <= fee <= MAX_BUILDER_FEE_SPOT:
            raise ValueError(
                f"builder_fee must be 1 to {MAX_BUILDER_FEE_SPOT} tenths of a basis point with a builder_address "
                f"(10 = 0.01 %; at most {MAX_BUILDER_FEE_PERP} on perps), got {fee}"
            )


class HyperliquidConnectorBase(ConnectorBase):
    """One Hyperliquid account on ``network``, traded by ``signer``: network, signing, user stream, orders.

    ``network`` is ``"testnet"`` (the default: never real money by accident), ``"mainnet"`` or a base URL
    (e.g. a local exchange's ``http://127.0.0.1:PORT``, which signs as testnet like the official SDK).
    ``start()`` first checks the account (see :mod:`~wingbeat.hyperliquid.account_check`): one that does
    not exist, holds nothing, or that an agent key may not trade raises :class:`AuthenticationError`.
    ``journal_path=None`` keeps orders in memory only. Further keyword arguments (``reconcile_interval``,
    ``stale_order_after``, ``lost_order_limit`` ...) go to the core base. Subclasses add a market (see the
    module docstring); ``__init__`` cooperates with other bases through ``super()``.
    """

    name = "hyperliquid"
    #: The market kind traded: this connector publishes only that kind's share of the account-wide news
    #: (fills, funding, liquidations, TWAPs: the rule is :mod:`~wingbeat.hyperliquid.market_kind`'s).
    market_kind: ClassVar[MarketKind] = MarketKind.PERP
    #: The user-stream channel that pushes this market's account state (its REST twin: _fetch_account_state).
    _account_state_channel: ClassVar[Literal["clearinghouseState", "spotState"]] = "clearinghouseState"
    #: Largest builder fee an order of this market may carry, tenths of a basis point (perps: 0.1 %).
    max_builder_fee: int = MAX_BUILDER_FEE_PERP

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
        super().__init__(trading_pairs=trading_pairs, journal_path=journal_path, **base_options)
        self._signer = signer
        self._config = config or HyperliquidConfig()
        self._rest_url, self._ws_url, self._is_mainnet = resolve_network(network)
        self._network = network.strip()
        vault = self._config.vault_address
        self._user = (vault or signer.account_address).lower()
        self._assets: dict[str, int] = {}  # asset id by trading pair, filled by _update_trading_rules
        self._rest: HyperliquidRestClient | None = None
        self._ws: HyperliquidWebSocket | None = None
        self._sender: ActionSender | None = None
        self._books: OrderBookTracker | None = None
        self._user_stream: HyperliquidUserStreamDataSource | None = None
        self._sync: AccountSync[Any] | None = None
        self._dead_man_armed = False
        self._actions_sent = 0
        self._builder_gate: BuilderFeeGate | None = None
        if self._config.builder_address is not None:
            if self._config.builder_fee > self.max_builder_fee:
                raise ValueError(
                    f"builder_fee {self._config.builder_fee} is above {self.max_builder_fee} tenths of a basis "
                    f"point, the most Hyperliquid allows on {type(self).__name__} orders"
                )
            builder = Builder(self._config.builder_address.lower(), self._config.builder_fee)
            self._builder_gate = BuilderFeeGate(builder, self._user)
        self._account_actions: AccountActions | None = None
        self._twaps = AccountTwaps(
            self._user, self._publisher, self._trading_pair_of_coin, clock=self._clock, market=self.market_kind
        )
        self._status_checker = OrderStatusChecker(
            self._rest_client,
            self._user,
            undecided_for=self._undecided_for,
            catch_up=self._fetch_missing_fills,
            clock=self._clock,
            on_venue_order=self._on_venue_order,
            dexes=self._account_dexes,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account={self._user}, network={self._rest_url!r})"

    # ------------------------------------------------------------------------------- public face
    @property
    def account_address(self) -> str:
        """The lowercase address whose orders and positions this connector manages."""
        return self._user

    @property
    def order_book_tracker(self) -> OrderBookTracker:
        """The books of the traded pairs (await ``wait_for_update`` to follow changes)."""
        if self._books is None:
            raise NotReadyError("connector is not started")
        return self._books

    def get_order_book(self, trading_pair: str) -> OrderBook:
        """The live L2 book of ``trading_pair``."""
        return self.order_book_tracker.order_book(trading_pair)

    @property
    def ws_reconnects(self) -> int:
        """Websocket reconnections since start (0 before start)."""
        return self._ws.reconnects if self._ws is not None else 0

    @property
    def rate_limit_remaining(self) -> float | None:
        """Request weight left in the current rate-limit window (None before start)."""
        return self._rest.limiter.remaining if self._rest is not None else None

    @property
    def account_actions(self) -> AccountActions:
        """Transfers, withdrawals, approvals and sub-accounts for this connector's signer (see
        :class:`~wingbeat.hyperliquid.account_actions.AccountActions`), on its REST client: after ``start()``."""
        rest = self._rest_client()
        if self._account_actions is None or self._account_actions.rest is not rest:
            self._account_actions = AccountActions(self._signer, self._network, rest=rest)
        return self._account_actions

    async def refresh_builder_fee(self) -> int | None:
        """Read the account's approval for the configured builder again (``maxBuilderFee``), e.g. right after
        approving it while running; returns it (None without a builder). Refused batches re-read it on their
        own, at most every few seconds."""
        if self._builder_gate is None:
            return None
        return await self._builder_gate.refresh(self._rest_client())

    async def _venue_markets(self, *, dexes: Sequence[str] | None, spot: bool) -> tuple[VenueMarket, ...]:
        """What the venue lists (see :func:`~wingbeat.hyperliquid.markets.venue_markets`), on the running
        REST client or, before ``start()``, on a short-lived one."""
        if self._rest is not None:
            return await venue_markets(self._rest, dexes=dexes, spot=spot)
        async with HyperliquidRestClient(self._rest_url, timeout=self._config.request_timeout) as rest:
            return await venue_markets(rest, dexes=dexes, spot=spot)

    # ------------------------------------------------------------------------------- native TWAP
    @property
    def running_twaps(self) -> list[TwapOrder]:
        """The account's running native TWAPs (ours, found at start, or another program's), oldest first."""
        return self._twaps.running

    def get_twap(self, twap_id: int) -> TwapOrder | None:
        """The TWAP with venue id ``twap_id``: running, or ended while this connector ran."""
        return self._twaps.get(twap_id)

    async def place_twap(
        self,
        trading_pair: str,
        side: TradeType,
        amount: Decimal,
        minutes: int,
        *,
        reduce_only: bool = False,
        randomize: bool = False,
    ) -> TwapOrder:
        """Start a native TWAP: the venue trades ``amount`` (base, quantized down to the lot) over ``minutes``
        (5 to 1440), one slice every 30 s; returns its state once the venue accepted it. Checked first, nothing
        sent otherwise (:class:`InvalidOrderError`): the pair, side, size, duration, a value of at least $100
        at the mark and, with ``reduce_only`` (perpetuals only), a position it reduces. A refusal publishes
        :class:`TwapFailedEvent` and raises :class:`ExchangeRejection` with the venue's text. Its life comes
        as TWAP events (see :mod:`~wingbeat.hyperliquid.twap_orders`); ``await twap.wait_done()`` for its end."""
        rule, asset = self._trading_rules.get(trading_pair), self._assets.get(trading_pair)
        if rule is None or asset is None:
            raise InvalidOrderError(f"unknown trading pair {trading_pair!r}")
        position: Decimal | None = None
        if isinstance(self, PerpetualConnectorBase):
            held = self.account_positions.get(trading_pair)
            position = held.amount if held is not None else Decimal(0)
        size = checked_twap_size(
            rule, side, amount, minutes, reference_price=self._twap_reference_price(trading_pair),
            reduce_only=reduce_only, position=position,
        )  # fmt: skip
        spec = TwapSpec(asset, side is TradeType.BUY, size, bool(reduce_only), minutes, bool(randomize))
        try:
            reply = await self._send(twap_order_action(spec))
            status = reply.status
            if not isinstance(status, TwapRunningStatus):
                text = getattr(status, "message", None) or f"unexpected twapOrder answer {status!r}"
                raise ExchangeRejection(text)
        except ExchangeRejection as exc:
            self._twaps.refused(trading_pair, side, size, minutes, exc.reason)
            raise
        return self._twaps.placed(
            status.twap_id, trading_pair, side, size, minutes, reduce_only=spec.reduce_only,
            randomize=spec.randomize,
        )  # fmt: skip

    async def cancel_twap(self, twap_id: int) -> TwapOrder:
        """Stop TWAP ``twap_id`` (of a pair this connector trades). Returns once the venue accepted the cancel;
        the TWAP ends ``terminated`` with its :class:`TwapFinishedEvent` when the venue's news arrives
        (``await twap.wait_done()``). Unknown: InvalidOrderError; refused: ExchangeRejection (venue text)."""
        twap = self._twaps.get(twap_id)
        asset = self._assets.get(twap.trading_pair) if twap is not None else None
        if twap is None or asset is None:
            raise InvalidOrderError(f"no TWAP {twap_id!r} of a pair this connector trades")
        reply = await self._send(twap_cancel_action(asset, twap_id))
        if not (isinstance(reply.status, PendingStatus) and reply.status.is_success):
            text = getattr(reply.status, "message", None) or f"twapCancel answered {reply.status!r}"
            raise ExchangeRejection(text)
        return twap

    def _twap_reference_price(self, trading_pair: str) -> Decimal | None:
        """The price a TWAP's $100 minimum is judged at: the mark (``_reference_price``), else the book's mid
        or its one side; None (the venue judges) without any."""
        price = self._reference_price(trading_pair)
        if price is None and self._books is not None:
            book = self._books.order_book(trading_pair)
            price = book.mid_price or book.best_ask or book.best_bid
        return price

    def _trading_pair_of_coin(self, coin: str) -> str:
        """Hook (optional): the trading pair of a venue coin named in TWAP news [``COIN-USD``]."""
        return coin_to_trading_pair(coin)

    @property
    def actions_sent(self) -> int:
        """Signed actions sent since this connector was created (one per batch, whatever its size)."""
        return self._actions_sent

    async def start(self) -> None:
        """Start as the base does (account check first); then, with the dead man's switch armed, warn once
        about open orders of the account that this connector did not place: the switch is account-wide."""
        await super().start()
        if self._dead_man_armed:
            self._tasks.create_task(self._warn_about_foreign_orders(), name="foreign-orders")

    async def _warn_about_foreign_orders(self) -> None:
        rest = self._rest_client()
        try:  # the switch cancels on every dex, not only those this connector trades or follows
            resting = list(await rest.frontend_open_orders(self._user))
            listed = [d.name for d in await rest.perp_dexs()]
            for dex in dict.fromkeys([*self._account_dexes(), *listed]):
                if dex:
                    resting += await rest.frontend_open_orders(self._user, dex)
        except WingbeatError as exc:
            _logger.debug("open orders not checked: %r", exc)
            return
        foreign = [o for o in resting if not (o.cloid and self._order_tracker.get_order(o.cloid.lower()))]
        if foreign:
            _logger.warning(
                "the account has %d open order(s) this connector did not place: they are never cancelled by "
                "it, but Hyperliquid's dead man's switch is account-wide, so if this process dies without "
                "stopping they are cancelled too (HyperliquidConfig(dead_man_switch=None) turns it off)",
                len(foreign),
            )

    # ------------------------------------------------------------------------------- market hooks
    @abstractmethod
    def _on_account_state(self, state: Any) -> None:
        """Hook (required): an account state the venue pushed or we fetched (a ``ClearinghouseState``, or what
        ``_fetch_account_state`` returns); apply balances (and positions)."""

    async def _fetch_account_state(self) -> Any:
        """Hook (optional): fetch the account state over REST [``clearinghouseState``]."""
        state: ClearinghouseState = await self._rest_client().clearinghouse_state(self._user)
        return state

    async def _prepare_markets(self) -> None:
        """Hook (optional): load what the market needs before its books start (REST is up) [nothing]."""

    def _market_data_source(
        self, rest: HyperliquidRestClient, ws: HyperliquidWebSocket
    ) -> HyperliquidOrderBookDataSource:
        """Hook (optional): the books' data source [perp coins, with funding from ``activeAssetCtx``]."""
        return HyperliquidOrderBookDataSource(rest, ws, clock=self._clock)

    def _account_dexes(self) -> Sequence[str]:
        """Hook (optional): builder (HIP-3) perp dexes whose account state to follow beside the main dex's,
        each delivered to `_on_dex_account_state` [none]."""
        return ()

    def _on_dex_account_state(self, dex: str, state: ClearinghouseState) -> None:
        """Hook (optional): an account state of builder dex ``dex`` (of `_account_dexes`) [nothing]."""

    def _on_account_fills(self, fills: Sequence[PositionFill]) -> None:
        """Hook (optional): every fill of the account (ours or another program's), before the order tracker
        sees it; stream and REST catch-up alike [nothing]."""

    def _on_venue_order(self, order: InFlightOrder, venue: OpenOrder) -> None:
        """Hook (optional): the venue's record of one of our orders, as a status check found it [nothing]."""

    def _reference_price(self, trading_pair: str) -> Decimal | None:
        """Hook (optional): the price a MARKET order slips from when the book has none [None: refused]."""
        return None

    def _order_wire(self, order: InFlightOrder) -> dict[str, Any]:
        """Hook (optional): the wire order (``order_wire`` dict) of a journaled order; raising InvalidOrderError
        or KeyError fails it before anything is sent [a plain limit order on the pair's asset id]."""
        return order_to_wire(order, self._assets[order.trading_pair])

    # ------------------------------------------------------------------------------- network
    async def _start_network(self) -> None:
        config = self._config
        budget = REST_WEIGHT_BUDGET if config.rest_weight_budget is None else config.rest_weight_budget
        limiter = WeightedRateLimiter(budget, REST_WEIGHT_WINDOW_S, max_pause=config.max_rate_limit_pause)
        self._rest = HyperliquidRestClient(self._rest_url, timeout=config.request_timeout, limiter=limiter)
        await check_account(
            self._rest,
            account=self._user,
            key_address=self._signer.address,
            key_account=self._signer.account_address,
            network=self._network,
        )
        if self._builder_gate is not None:
            approved = await self._builder_gate.refresh(self._rest)
            if not self._builder_gate.allows:
                _logger.warning(
                    "account %s approved %s tenths of a basis point for builder %s, below builder_fee %s: "
                    "orders fail until it is approved (wingbeat approve-builder-fee %s %s)",
                    self._user, approved, self._builder_gate.builder.address, config.builder_fee,
                    self._builder_gate.builder.address, config.builder_fee,
                )  # fmt: skip
        await self._prepare_markets()
        self._ws = HyperliquidWebSocket(
            self._ws_url, post_timeout=config.request_timeout, name=f"hyperliquid.ws.{self._user[:10]}"
        )
        self._sender = ActionSender(
            self._signer,
            self._rest,
            nonces=self._signer.next_nonce,
            is_mainnet=self._is_mainnet,
            vault_address=config.vault_address,
            ws=self._ws if config.actions_over_websocket else None,
        )
        self._sync = AccountSync(
            self._rest,
            self._user,
            self._order_tracker,
            self._publisher,
            self._tasks,
            self._on_account_state,
            fetch_state=self._fetch_account_state,
            on_reconnected=self._on_user_stream_reconnected,
            on_account_fills=self._on_account_fills,
            dexes=self._account_dexes(),
            on_dex_state=self._on_dex_account_state,
            push_fresh_for=config.account_refresh_interval,
            clock=self._clock,
            market=self.market_kind,
        )
        await self._ws.start()
        await self._ws.wait_connected(config.ready_timeout)
        self._user_stream = HyperliquidUserStreamDataSource(
            self._ws,
            self._user,
            clock=self._clock,
            on_account_fills=self._on_account_fills,
            on_account_state=self._sync.on_venue_state,
            account_state_channel=self._account_state_channel,
            dexes=self._account_dexes(),
            on_dex_account_state=self._sync.on_venue_dex_state,
            market=self.market_kind,
        )
        await self._user_stream.start(self._sync)
        try:
            await self._twaps.start(self._ws, self._rest)
        except WingbeatError as exc:  # orders work without it; TWAP news still comes on the channels
            _logger.warning("TWAP history not read: %r", exc)
        source = self._market_data_source(self._rest, self._ws)
        self._books = OrderBookTracker(source, self.trading_pairs, name=f"{self.name}.books")
        await self._books.start()
        await self._books.wait_ready(config.ready_timeout)
        self._tasks.create_task(
            self._sync.refresh_loop(config.account_refresh_interval), name="account-refresh"
        )
        if config.dead_man_switch is not None and await self._arm_dead_man_switch(config.dead_man_switch):
            self._tasks.create_task(
                self._dead_man_switch_loop(config.dead_man_switch), name="dead-man-switch"
            )

    async def _stop_network(self) -> None:
        await self._release_dead_man_switch()  # a clean stop leaves resting orders as they are
        for stop in (
            self._books.stop if self._books else None,
            self._user_stream.stop if self._user_stream else None,
            self._ws.stop if self._ws else None,
            self._rest.close if self._rest else None,
        ):
            if stop is None:
                continue
            try:
                await stop()
            except Exception:
                _logger.exception("error while stopping %r", stop)
        self._books = self._user_stream = self._ws = self._rest = None
        self._sender = self._sync = None

    def _paused_for(self) -> float:
        return self._rest.limiter.blocked_for if self._rest is not None else 0.0

    def _rest_client(self) -> HyperliquidRestClient:
        if self._rest is None:
            raise NotReadyError("connector is not started")
        return self._rest

    async def _update_balances_and_positions(self) -> None:
        if self._sync is None:
            raise NotReadyError("connector is not started")
        await self._sync.refresh_account()

    def _on_user_stream_reconnected(self) -> None:
        # order news may have been missed too: ask the venue about every active order
        # (not those still being sent: their answer is on its way)
        active = [
            o
            for o in self._order_tracker.active_orders.values()
            if o.current_state is not OrderState.PENDING_CREATE
        ]
        if active:
            self._tasks.create_task(self._check_orders(active), name="reconnect-order-check")

    # ------------------------------------------------------------------------------- orders
    def _new_client_order_id(self, trade_type: TradeType, trading_pair: str) -> str:
        return new_cloid()

    def _slipped(self, reference: Decimal, trade_type: TradeType) -> Decimal:
        slippage = self._config.market_slippage
        return reference * (1 + slippage if trade_type is TradeType.BUY else 1 - slippage)

    def _market_order_price(self, trading_pair: str, trade_type: TradeType, amount: Decimal) -> Decimal:
        reference: Decimal | None = None
        if self._books is not None:
            book = self._books.order_book(trading_pair)
            is_buy = trade_type is TradeType.BUY
            reference = book.get_price_for_volume(is_buy, amount) or (
                book.best_ask if is_buy else book.best_bid
            )
        if reference is None:
            reference = self._reference_price(trading_pair)
        if reference is None:
            raise InvalidOrderError(f"no book or mark price for {trading_pair}")
        return self._slipped(reference, trade_type)

    async def _send(
        self, action: dict[str, Any], batch_length: int = 1, valid_for: float | None = None
    ) -> Any:
        if self._sender is None:
            raise NotReadyError("connector is not started")
        self._actions_sent += 1
        return await _definite_refusals(
            self._sender.send(action, batch_length=batch_length, valid_for=valid_for)
        )

    def _order_wires(
        self, orders: Sequence[InFlightOrder]
    ) -> tuple[list[InFlightOrder], list[dict[str, Any]], dict[str, OrderUpdate]]:
        """(orders to send, their wire orders, FAILED updates of those that cannot be sent, by client id)."""
        sendable: list[InFlightOrder] = []
        wires: list[dict[str, Any]] = []
        refused: dict[str, OrderUpdate] = {}
        for order in orders:
            try:
                wire = self._order_wire(order)
            except (InvalidOrderError, KeyError) as exc:  # never sent: a definite local failure
                refused[order.client_order_id] = self._unsent(order, f"not sent: {exc}")
                continue
            sendable.append(order)
            wires.append(wire)
        return sendable, wires, refused

    def _unsent(self, order: InFlightOrder, reason: str) -> OrderUpdate:
        """The update that ends ``order`` unsent: FAILED with ``reason``."""
        return OrderUpdate(client_order_id=order.client_order_id, trading_pair=order.trading_pair,
                           update_timestamp=self._clock(), new_state=OrderState.FAILED, reason=reason)  # fmt: skip

    def _action_grouping(self, orders: Sequence[InFlightOrder], wires: Sequence[Mapping[str, Any]]) -> Grouping:
        """Hook (optional): the ``grouping`` of the order action of one batch [the priority fee where it
        applies, see ``order_grouping``]."""
        return order_grouping(wires, self._config.priority_fee)

    def _wired_batch(
        self, orders: Sequence[InFlightOrder]
    ) -> tuple[list[InFlightOrder], list[dict[str, Any]], dict[str, OrderUpdate], Grouping]:
        """``_order_wires`` and the action's grouping; a ``normalTpsl`` action (an entry and its legs) goes
        whole or not at all: a leg without its entry is no bracket."""
        sendable, wires, refused = self._order_wires(orders)
        grouping = self._action_grouping(orders, wires)
        if refused and grouping == "normalTpsl":
            reason = next(iter(refused.values())).reason
            for order in sendable:
                refused[order.client_order_id] = self._unsent(order, f"{reason} (an order of the same bracket)")
            sendable, wires = [], []
        return sendable, wires, refused, grouping

    def _batch_answers(
        self,
        orders: Sequence[InFlightOrder],
        sendable: Sequence[InFlightOrder],
        refused: dict[str, OrderUpdate],
        reply: ExchangeReply | None,
    ) -> list[OrderUpdate | None]:
        if reply is not None and not refused:  # every order was sent (sendable is orders): already in order
            return order_updates(sendable, reply, self._clock())
        sent: dict[str, OrderUpdate | None] = {}
        if reply is not None:
            updates = order_updates(sendable, reply, self._clock())  # one per order sent, in order
            sent = {o.client_order_id: u for o, u in zip(sendable, updates, strict=True)}
        return [refused[o.client_order_id] if o.client_order_id in refused else sent[o.client_order_id]
                for o in orders]

    async def _place_orders(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate | None]:
        sendable, wires, refused, grouping = self._wired_batch(orders)
        gate = self._builder_gate
        if wires and gate is not None:
            reason = await gate.refusal(self._rest_client())
            if reason is not None:  # the venue would refuse the whole batch: nothing is sent
                for order in sendable:
                    refused[order.client_order_id] = self._unsent(order, reason)
                wires = []
        reply = None
        if wires:
            builder = gate.builder if gate is not None else None
            action = wired_order_action(wires, grouping=grouping, builder=builder)
            reply = await self._send(action, len(wires), self._order_validity)
        return self._batch_answers(orders, sendable, refused, reply)

    def _start_place_orders(self, orders: Sequence[InFlightOrder]) -> Awaitable[Sequence[OrderUpdate | None]] | None:
        sender = self._sender
        if sender is None or self._builder_gate is not None:  # a builder fee's approval is awaited per batch
            return None
        sendable, wires, refused, grouping = self._wired_batch(orders)
        if not wires:
            return None
        action = wired_order_action(wires, grouping=grouping)
        pending = sender.send_now(action, batch_length=len(wires), valid_for=self._order_validity)
        if pending is None:
            return None
        self._actions_sent += 1
        return self._answers_later(orders, sendable, refused, pending)

    async def _answers_later(
        self,
        orders: Sequence[InFlightOrder],
        sendable: Sequence[InFlightOrder],
        refused: dict[str, OrderUpdate],
        pending: Awaitable[ExchangeReply],
    ) -> Sequence[OrderUpdate | None]:
        return self._batch_answers(orders, sendable, refused, await _definite_refusals(pending))

    async def _place_cancels(self, orders: Sequence[InFlightOrder]) -> Sequence[bool | str]:
        cancels = [(self._assets[o.trading_pair], Cloid.from_str(o.client_order_id)) for o in orders]
        reply = await self._send(cancel_by_cloid_action(cancels), len(cancels))
        return cancel_results(len(orders), reply)

    async def _place_modifies(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate | str]:
        """Every modify of the batch in ONE ``batchModify``, each by the order's oid: the replacement keeps the
        cloid under a new oid (a reply short of statuses leaves the rest to reconciliation)."""
        specs = [modify_spec(order, self._assets[order.trading_pair]) for order in orders]
        reply = await self._send(batch_modify_action(specs), len(specs), self._order_validity)
        return modify_results(orders, reply, self._clock())

    def _modify_undecided_for(self) -> float:
        return self._undecided_for()  # the batchModify carries the orders' expiresAfter

    async def _request_order_statuses(
        self, orders: Sequence[InFlightOrder]
    ) -> Sequence[OrderUpdate | BaseException | None]:
        """The venue's view of several orders, as cheaply as its weights allow (see ``order_status``)."""
        return await self._status_checker.check(orders)

    async def _fetch_missing_fills(self, orders: Sequence[InFlightOrder]) -> None:
        """One ``userFillsByTime`` from the oldest order's creation on (duplicates dropped by trade id)."""
        if self._sync is None:
            raise NotReadyError("connector is not started")
        await self._sync.catch_up_orders(orders)

    @property
    def _order_validity(self) -> float:
        validity = self._config.order_validity
        return self._config.request_timeout if validity is None else validity

    def _undecided_for(self) -> float:
        """How long after an order became unanswered its request may still be applied (expiresAfter + slack)."""
        return self._order_validity + _CLOCK_SLACK

    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate | None:
        [answer] = await self._request_order_statuses([order])
        if isinstance(answer, BaseException):
            raise answer
        return answer

    # ------------------------------------------------------------------------------- dead man's switch
    async def _arm_dead_man_switch(self, window: float) -> bool:
        """Set ``scheduleCancel`` to now + ``window``; False when the exchange refuses it (then it stays off)."""
        deadline_ms = int((time.time() + window) * 1000)
        try:
            await self._send(schedule_cancel_action(deadline_ms))
        except (TransportError, TimeoutError) as exc:
            _logger.warning("dead man's switch not refreshed: %r", exc)
            return True  # a transient fault: try again next period
        except Exception as exc:  # a refusal (e.g. the volume requirement) will not improve by retrying
            # an earlier deadline must not fire on a connector still running: disarm it
            await self._release_dead_man_switch()
            _logger.error("dead man's switch refused, disabled: %r", exc)
            return False
        self._dead_man_armed = True
        _ARMED_SWITCHES.setdefault(self._switch_key, weakref.WeakSet()).add(self)
        return True

    async def _release_dead_man_switch(self) -> None:
        """Stop keeping the switch armed: disarm it on the venue unless another connector of the account
        keeps it (bounded: ``stop()`` has a deadline)."""
        if not self._dead_man_armed:
            return
        self._dead_man_armed = False
        holders = _ARMED_SWITCHES.get(self._switch_key)
        if holders is not None:
            holders.discard(self)
        if holders:
            _logger.info("dead man's switch left armed: %d other connector(s) of this account keep it", len(holders))
            return
        _ARMED_SWITCHES.pop(self._switch_key, None)
        if self._sender is None:
            return
        try:
            async with asyncio.timeout(min(self._config.request_timeout, _DISARM_TIMEOUT)):
                await self._send(schedule_cancel_action(None))
        except Exception as exc:
            _logger.warning("could not disarm the dead man's switch: %r", exc)

    @property
    def _switch_key(self) -> tuple[str, str]:
        return self._rest_url, self._user

    async def _dead_man_switch_loop(self, window: float) -> None:
        """Keep the switch armed: if this process dies, the exchange cancels our orders ``window`` s later."""
        while True:
            await asyncio.sleep(window / 3)
            if not await self._arm_dead_man_switch(window):
                return


async def _definite_refusals(pending: Awaitable[ExchangeReply]) -> ExchangeReply:
    try:
        return await pending
    except (RateLimitedError, AuthenticationError) as exc:
        # refused before anything was done: as definite as a rejection, so no reconciliation round
        raise ExchangeRejection(str(exc), code=type(exc).__name__) from exc
