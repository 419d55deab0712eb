"""`LocalExchange`: the Hyperliquid-compatible local exchange as an aiohttp server.

``POST /info`` answers from the engine (``info.handle_info``), ``POST /exchange`` runs signed actions
(``actions``), ``/ws`` is the websocket (``ws_hub``), ``POST /admin`` switches faults and funds
accounts (only when started with ``admin=True``, only from loopback, only with a JSON content type
and the admin token, so a browser page cannot post to it cross-origin). A timer task drives
``engine.advance()`` (funding, triggers, scheduled cancels, liquidations), the liquidity makers and
the periodic websocket drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import secrets
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import orjson
from aiohttp import web

from wingbeat.core.gc_tuning import tune_gc
from wingbeat.core.tasks import TaskOwner
from wingbeat.hyperliquid.constants import action_weight, info_weight
from wingbeat.sim.protocol.actions import ActionProcessor, ActionResult, ParseFailure
from wingbeat.sim.protocol.durable_venue import DurableVenue
from wingbeat.sim.protocol.faults import FaultInjector, FaultKind
from wingbeat.sim.protocol.info import InfoError, handle_info
from wingbeat.sim.protocol.rate_limits import RateLimitConfig, RateLimiter
from wingbeat.sim.protocol.state_store import StateStore
from wingbeat.sim.protocol.venue_clock import VenueClock
from wingbeat.sim.protocol.ws_hub import WsHub
from wingbeat.sim.protocol.ws_limits import WsLimitConfig
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.liquidity import LiquidityConfig, MarketMakers
from wingbeat.sim.venue.markets import DEFAULT_MARKETS, MarketConfig, load_markets, markets_from_dicts
from wingbeat.sim.venue.perp_dexes import DEFAULT_PERP_DEXES, PerpDexConfig, load_perp_dexes
from wingbeat.sim.venue.spot_markets import DEFAULT_SPOT, SpotConfig, load_spot
from wingbeat.sim.venue.types import EngineError

__all__ = ["DEFAULT_FUND_AMOUNT", "LocalExchange", "run_local_exchange"]

_log = logging.getLogger("wingbeat.sim.protocol.server")

DEFAULT_FUND_AMOUNT = Decimal(1_000_000)
# axum's default body limit on the real exchange is 2 MiB; oversized bodies get 413
_MAX_BODY_BYTES = 2 * 1024 * 1024
_JSON = "application/json"
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_MIN_TOKEN_CHARS = 16
_FUND_FIELDS = frozenset({"type", "user", "amount", "spot", "dexes"})  # the /admin fund command's


def _rate_limited(retry_after: str | None = None) -> web.Response:
    # what Hyperliquid answers an IP over its weight budget (a proxy in front may add Retry-After)
    headers = None if retry_after is None else {"Retry-After": retry_after}
    return web.Response(status=429, body=b"null", content_type=_JSON, headers=headers)


class _Dropped(Exception):
    """A fault dropped the connection instead of answering."""


MarketsArg = Sequence[MarketConfig] | Sequence[Mapping[str, Any]] | str | Path | None
AmountArg = Decimal | int | str
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def _load(markets: MarketsArg) -> tuple[MarketConfig, ...]:
    if markets is None:
        return DEFAULT_MARKETS
    if isinstance(markets, str | Path):
        return load_markets(markets)
    items = list(markets)
    if all(isinstance(m, MarketConfig) for m in items):
        return tuple(m for m in items if isinstance(m, MarketConfig))
    return markets_from_dicts([m for m in items if isinstance(m, Mapping)])


class LocalExchange:
    """A Hyperliquid-compatible exchange on a local socket, for tests, demos and paper trading.

    ::

        async with LocalExchange(port=0) as ex:       # started on a free port, stopped on exit
            await ex.fund(address, 10_000)            # USDC; creates the account
            conn = HyperliquidPerpetualConnector(signer, ["BTC-USD"], network=ex.base_url)

    ``ex.base_url`` (``http://127.0.0.1:PORT``) is what the connector, the official SDK, ccxt or
    ``wingbeat --network`` take. By default it runs as ``wingbeat sim`` does: built-in liquidity on
    (synthetic makers quote every market and noise takers trade), testnet signatures, the markets of
    `DEFAULT_MARKETS`. Pass ``liquidity=False`` for an empty book that moves only with your own
    orders (deterministic tests); the test suite's fixtures do. Nothing starts before `start`.

    Args:
        markets: `MarketConfig` objects, dicts with the same keys, or the path of a TOML
            file (as ``wingbeat sim --markets``); None for `DEFAULT_MARKETS` (BTC, ETH, SOL, HYPE).
        spot: the spot tokens and pairs (a `SpotConfig`); None for those of the ``markets`` TOML
            file when it has ``[[spot_pair]]`` tables, else `DEFAULT_SPOT` (USDC, PURR, HYPE;
            ``PURR/USDC`` at spot index 0, HYPE/USDC as ``@1``).
        perp_dexes: the HIP-3 builder dexes (`PerpDexConfig` objects; ``()`` for none); None for
            those of the ``markets`` TOML file when it has ``[[perp_dex]]`` tables, else
            `DEFAULT_PERP_DEXES` (``xyz`` with ``xyz:XYZ100`` and ``xyz:GOLD``).
        seed: seeds the makers' price walk, the takers and the fault injector (same seed, same run).
        host, port: where to listen; ``port=0`` picks a free port (read it back from `port`).
        admin: serve ``POST /admin`` (funding, oracle prices, faults) to loopback clients that send
            ``Content-Type: application/json`` and `admin_token` (``Authorization: Bearer TOKEN``
            or ``X-Wingbeat-Admin-Token: TOKEN``).
        admin_token: the token ``/admin`` requires; None for a fresh random one.
        chain: the chain whose signatures are accepted, ``"testnet"`` or ``"mainnet"``.
        liquidity: True for the built-in makers with their defaults, a `LiquidityConfig` to tune
            them, False for none.
        funding_interval_ms: how often funding is paid (an hour, as on Hyperliquid).
        rate_limits: per-IP and per-address budgets; None for Hyperliquid's.
        ws_idle_timeout_s: a websocket that sends nothing for this long is closed (60 s, as there).
        ws_limits: per-IP websocket caps (connections, subscriptions, users, messages a minute,
            posts in flight); None for Hyperliquid's.
        header_timeout_s: a connection must send a request's complete headers within this long of
            opening (or of its previous answer), else it is closed: a slow client cannot hold
            sockets open by trickling bytes.
        max_body_bytes: larger request bodies are answered 413.
        tick_ms: how often the timer advances funding, triggers, liquidations and the makers.
        state: a SQLite state file (created if missing): the venue's accounts, orders, fills and
            nonces are restored from it at `start` and every acknowledged input is in it before it
            is answered, so a restart (even after a SIGKILL) continues where the venue was. The
            file belongs to one configuration (markets, spot, perp dexes, seed, chain, liquidity,
            funding interval):
            another one is refused with `StateFileError` at `start`. None: memory only.
        snapshot_interval_s: how often the whole state is snapshotted into ``state`` (it blocks
            the event loop for up to a few seconds once the order history is large; the log
            replayed at a restart is what came after the latest snapshot).
    """

    def __init__(
        self,
        markets: MarketsArg = None,
        *,
        spot: SpotConfig | None = None,
        perp_dexes: Sequence[PerpDexConfig] | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        admin: bool = False,
        admin_token: str | None = None,
        chain: Literal["testnet", "mainnet"] = "testnet",
        liquidity: bool | LiquidityConfig = True,
        funding_interval_ms: int = 3_600_000,
        rate_limits: RateLimitConfig | None = None,
        ws_idle_timeout_s: float = 60.0,
        max_body_bytes: int = _MAX_BODY_BYTES,
        tick_ms: int = 100,
        ws_limits: WsLimitConfig | None = None,
        header_timeout_s: float = 30.0,
        state: str | Path | None = None,
        snapshot_interval_s: float = 300.0,
    ) -> None:
        if chain not in ("testnet", "mainnet"):
            raise ValueError(f"chain must be 'testnet' or 'mainnet', got {chain!r}")
        if tick_ms <= 0:
            raise ValueError("tick_ms must be positive")
        if not header_timeout_s > 0:
            raise ValueError("header_timeout_s must be positive")
        self._header_timeout_s = header_timeout_s
        self.host = host
        self._requested_port = port
        self.admin = admin
        if admin_token is not None and len(admin_token) < _MIN_TOKEN_CHARS:
            raise ValueError(f"admin_token must have at least {_MIN_TOKEN_CHARS} characters")
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        """What ``POST /admin`` requires (``Authorization: Bearer`` or ``X-Wingbeat-Admin-Token``)."""
        self.chain = chain
        self._tick_s = tick_ms / 1000
        self._max_body = max_body_bytes
        self.clock = VenueClock()
        loaded = _load(markets)
        if spot is None:
            spot = (load_spot(markets) if isinstance(markets, str | Path) else None) or DEFAULT_SPOT
        if perp_dexes is None:
            from_file = load_perp_dexes(markets) if isinstance(markets, str | Path) else None
            perp_dexes = DEFAULT_PERP_DEXES if from_file is None else from_file
        dexes = tuple(perp_dexes)
        self.engine = ExchangeEngine(
            loaded,
            seed=seed,
            funding_interval_ms=funding_interval_ms,
            clock=self.clock,
            spot=spot,
            perp_dexes=dexes,
        )
        self.engine.is_mainnet = chain == "mainnet"
        self.faults = FaultInjector(seed)
        self.limiter = RateLimiter(rate_limits or RateLimitConfig(), self._cum_volume)
        self.actions = ActionProcessor(
            self.engine, self.limiter, is_mainnet=chain == "mainnet", clock=self.clock
        )
        self.hub = WsHub(
            self.engine,
            self.actions,
            self.faults,
            clock=_wall_ms,
            idle_timeout_s=ws_idle_timeout_s,
            charge_ip=self._charge_ip,
            limits=ws_limits,
        )
        config = liquidity if isinstance(liquidity, LiquidityConfig) else None
        self.makers = MarketMakers(self.engine, config, seed=seed) if liquidity else None
        self.state_path = None if state is None else Path(state)
        # what a state file must have been written by: the inputs of a deterministic replay
        self._venue_text = repr(
            (
                loaded,
                seed,
                chain,
                liquidity and (config or LiquidityConfig()),
                funding_interval_ms,
                spot,
                dexes,
            )
        )
        self._snapshot_interval_s = snapshot_interval_s
        self.durable: DurableVenue | None = None
        self._tasks = TaskOwner("sim.server", _log)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._last_drop_ms: int | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound TCP port (after `start`)."""
        if self._port is None:
            raise RuntimeError("the local exchange is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://host:port`` without a trailing slash (what the SDK and the connector take)."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://host:port/ws``."""
        return f"ws://{self.host}:{self.port}/ws"

    async def start(self) -> None:
        """Bind the socket and start the timer task."""
        if self._runner is not None:
            return
        if self.state_path is not None and self.durable is None:
            self._open_state(self.state_path)
        # no aiohttp middleware: each one adds its own layers to every request; _guarded is one frame
        app = web.Application(client_max_size=self._max_body)
        app.router.add_post("/info", self._guarded(self._info))
        app.router.add_post("/exchange", self._guarded(self._exchange))
        app.router.add_get("/ws", self._guarded(self.hub.handle))
        app.router.add_post("/admin", self._guarded(self._admin))
        # a request whose client went away is still carried out, as on the exchange (a client that
        # timed out must reconcile, not assume nothing happened); stop() cancels what is still running
        # aiohttp's keep-alive timer runs from the connection's start and is not pushed back by
        # partial data, so it closes a connection whose headers have not all arrived in time (and an
        # idle keep-alive one): the header timeout against slow clients
        runner = web.AppRunner(
            app,
            access_log=None,
            shutdown_timeout=0.25,
            handler_cancellation=False,
            keepalive_timeout=self._header_timeout_s,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        bound = runner.addresses  # (host, port, ...) of every listening socket
        self._port = int(bound[0][1]) if bound else self._requested_port
        if self.makers is not None and (self.durable is None or not self.durable.restored):
            with self._applying("tick") as now:  # quote at once: the book is live from the first request
                self._tick(now)
        self._tasks.create_task(self._timer(), name="timer")
        _log.info("local exchange listening on %s (%s)", self.base_url, self.chain)

    async def stop(self) -> None:
        """Stop the timer, close every connection and release the socket."""
        await self._tasks.stop()
        runner, self._runner = self._runner, None
        if runner is not None:
            self.hub.drop_all()
            await runner.cleanup()
        durable, self.durable = self.durable, None
        if durable is not None:
            self.actions.recorder = None
            durable.close()

    def _open_state(self, path: Path) -> None:
        store = StateStore(path, self._venue_text)
        durable = DurableVenue(
            store,
            engine=self.engine,
            actions=self.actions,
            limiter=self.limiter,
            makers=self.makers,
            clock=self.clock,
            tick=self._tick,
            owner=self,
            snapshot_interval_s=self._snapshot_interval_s,
        )
        try:
            restored = durable.restore()
        except BaseException:
            store.close()
            raise
        if restored:
            _log.info("state restored from %s (%d log entries replayed)", path, durable.replayed)
        self.actions.recorder = durable.record_action
        self.durable = durable

    def _applying(self, kind: str, args: tuple[Any, ...] = ()) -> contextlib.AbstractContextManager[int]:
        """One venue input at one pinned time, logged to the state file (if any) once applied."""
        if self.durable is None:
            return self.clock.pinned(self.clock.wall())
        return self.durable.applying(kind, args)

    def _tick(self, now: int) -> None:
        self.engine.advance(now)
        if self.makers is not None:
            self.makers.step(now)

    async def __aenter__(self) -> LocalExchange:
        """`start`, and return the started exchange."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """`stop` (also when the block raised)."""
        await self.stop()

    # -- in-process API -----------------------------------------------------------------------
    async def fund(
        self,
        address: str,
        usdc: AmountArg = DEFAULT_FUND_AMOUNT,
        *,
        spot: Mapping[str, AmountArg] | None = None,
        dexes: Mapping[str, AmountArg] | None = None,
    ) -> None:
        """Credit ``usdc`` USDC to ``address``'s perp balance (a ``0x`` address, any case), creating
        the account, and each ``spot`` entry (token name -> amount, e.g. ``{"PURR": 5000, "USDC":
        1000}``) to its spot balances. ``usdc=0`` with ``spot`` funds spot only. Each ``dexes``
        entry (builder dex name -> amount, e.g. ``{"xyz": 1000}``) credits that much of the dex's
        collateral to the address's margin account on that HIP-3 dex (booked as a deposit to the
        main dex and a ``sendAsset`` on to the dex).

        An address that was never funded does not exist on the exchange, as on Hyperliquid.
        Raises ValueError for a malformed address, an unknown token, an amount with more decimals
        than the token keeps, or an amount that is not a positive exact number (floats are refused:
        money is exact).
        """
        if not isinstance(address, str) or _ADDRESS.fullmatch(address) is None:
            raise ValueError(f"address must be 0x followed by 40 hex digits, got {address!r}")
        amount = _amount(usdc, "usdc")
        tokens = [(str(token), _amount(value, str(token))) for token, value in (spot or {}).items()]
        for token, value in tokens:
            if self.engine.spot.token(token) is None:
                raise ValueError(
                    f"unknown spot token {token!r}: the venue lists {[t.name for t in self.engine.spot.tokens]}"
                )
            if value <= 0:
                raise ValueError(f"{token}: the amount must be positive, got {value}")
        on_dexes = [(str(name), _amount(value, str(name))) for name, value in (dexes or {}).items()]
        for name, value in on_dexes:
            dex = self.engine.dex(name)
            if dex is None or not dex.is_builder:
                names = [d.name for d in self.engine.dexes[1:]]
                raise ValueError(f"unknown builder dex {name!r}: the venue lists {names}")
            if value <= 0:
                raise ValueError(f"{name}: the amount must be positive, got {value}")
        if amount or not (tokens or on_dexes):
            with self._applying("fund", (address.lower(), str(amount))):
                self.engine.fund(address.lower(), amount)
        for token, value in tokens:
            with self._applying("fundSpot", (address.lower(), token, str(value))):
                self.engine.fund_spot(address.lower(), token, value)
        for name, value in on_dexes:
            with self._applying("fundDex", (address.lower(), name, str(value))):
                self.engine.fund_dex(address.lower(), name, value)

    async def pay_funding(self, coin: str, rate: AmountArg) -> None:
        """Pay one funding period of the perp ``coin`` now at the hourly ``rate`` (a fraction, e.g.
        ``"0.0001"``; longs pay shorts when positive), outside the hourly schedule: the rate is then the
        market's current funding in ``metaAndAssetCtxs`` and ``activeAssetCtx`` until the next period.
        Raises ValueError for an unknown coin, a spot pair or a rate beyond the venue's cap."""
        value = _signed_rate(rate)
        with self._applying("funding", (str(coin), str(value))):
            try:
                self.engine.pay_funding(str(coin), value)
            except EngineError as exc:
                raise ValueError(exc.message) from None

    def register_vault(self, vault: str, leader: str) -> None:
        """Let ``leader`` trade for ``vault`` through ``vaultAddress`` (the vault must be funded)."""
        with self._applying("vault", (vault, leader)):
            self.actions.register_vault(vault, leader)

    # -- timer --------------------------------------------------------------------------------
    async def _timer(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            now = _wall_ms()
            try:
                with self._applying("tick"):
                    self._tick(now)
            except Exception:
                _log.exception("engine tick failed")
            durable = self.durable
            if durable is not None and durable.snapshot_due(now):
                try:
                    durable.snapshot()
                except Exception:
                    _log.exception("state snapshot failed (the log keeps every input)")
            interval = self.faults.drop_interval_ms
            if interval is None:
                self._last_drop_ms = None
            elif self._last_drop_ms is None:
                self._last_drop_ms = now  # the first drop comes one interval after arming
            elif now - self._last_drop_ms >= interval:
                self._last_drop_ms = now
                self.faults.drop_websockets()

    def _cum_volume(self, address: str) -> Decimal:
        return self.engine.volume_of(address)  # every dex's

    def _charge_ip(self, ip: str, weight: int) -> bool:
        return self.limiter.charge_ip(ip, weight, _wall_ms())

    # -- HTTP ---------------------------------------------------------------------------------
    def _guarded(self, handler: Handler) -> Handler:
        """``handler`` with the server's failure policy: a dropped-connection fault aborts the
        socket, any other error is logged and answered 500 (the server keeps serving)."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except web.HTTPRequestEntityTooLarge:
                # what the exchange (axum) answers a body over its limit
                return web.Response(
                    status=413, text="Failed to buffer the request body: length limit exceeded"
                )
            except web.HTTPException:
                raise
            except _Dropped:
                # the client sees its connection reset with no answer; the response below is never written
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=499)
            except (asyncio.CancelledError, ConnectionError):
                raise
            except Exception:
                _log.exception("%s %s failed", request.method, request.path)
                return web.Response(status=500, text="Internal Server Error")

        return guarded

    async def _pre_faults(self, path: str, action: str | None) -> web.Response | None:
        """Faults that replace the answer before anything is applied (callers ask `armed` first)."""
        faults = self.faults
        if faults.refuses():
            return web.Response(status=503, text="Service Unavailable")
        rule = faults.fire(FaultKind.RATE_LIMIT, path=path, action=action)
        if rule is not None:
            return _rate_limited(rule.retry_after)
        rule = faults.fire(FaultKind.TIMEOUT, path=path, action=action)
        if rule is not None:
            await asyncio.sleep(rule.delay_ms / 1000)
            raise _Dropped("timeout fault")
        rule = faults.fire(FaultKind.HTTP_5XX, path=path, action=action)
        if rule is not None:
            return web.Response(status=rule.status or 502, text="Bad Gateway")
        rule = faults.fire(FaultKind.DELAY, path=path, action=action)
        if rule is not None:
            await asyncio.sleep(rule.delay_ms / 1000)
        return None

    def _lost_answer(self, request: web.Request, path: str, action: str | None) -> web.Response | None:
        """The lost-answer fault, after the request was applied."""
        rule = self.faults.fire(FaultKind.LOSE_ANSWER, path=path, action=action)
        if rule is None:
            return None
        if rule.status is not None:
            return web.Response(status=rule.status, text="Bad Gateway")
        raise _Dropped("lost-answer fault")

    async def _info(self, request: web.Request) -> web.Response:
        body = _decode_json(await request.read())
        if isinstance(body, web.Response):
            return body
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return web.Response(
                status=422,
                text="Failed to deserialize the JSON body into the target type: missing field `type`",
            )
        kind: str = body["type"]
        if not self._charge_ip(request.remote or "?", info_weight(kind)):
            return _rate_limited()
        if self.faults.armed:
            early = await self._pre_faults("/info", None)
            if early is not None:
                return early
        try:
            reply = handle_info(
                self.engine, body, requests_used=self.limiter.used, requests_cap=self.limiter.cap
            )
        except InfoError as exc:
            return web.Response(status=exc.status, text=exc.text)
        if isinstance(reply, list) and len(reply) >= 20:
            # history-like answers cost extra per item returned, charged once the count is known
            extra = info_weight(kind, len(reply)) - info_weight(kind)
            self.limiter.add_ip_weight(request.remote or "?", extra, _wall_ms())
        return web.Response(body=orjson.dumps(reply), content_type=_JSON)

    async def _exchange(self, request: web.Request) -> web.Response:
        body = _decode_json(await request.read())
        if isinstance(body, web.Response):
            return body
        parsed = self.actions.parse(body)
        if isinstance(parsed, ParseFailure):
            if not self._charge_ip(request.remote or "?", 1):
                return _rate_limited()
            return web.Response(status=parsed.status, text=parsed.text)
        if not self._charge_ip(request.remote or "?", action_weight(parsed.batch_length)):
            return _rate_limited()
        action = parsed.action_type
        if self.faults.armed:
            early = await self._pre_faults("/exchange", action)
            if early is not None:
                return early
        result: ActionResult = self.actions.execute(parsed)
        if self.faults.armed:
            lost = self._lost_answer(request, "/exchange", action)
            if lost is not None:
                return lost
        return web.Response(status=result.status, body=result.body(), content_type=_JSON)

    async def _admin(self, request: web.Request) -> web.Response:
        if not self.admin or not _is_loopback(request.remote):
            return web.Response(status=404, text="Not Found")
        # a cross-origin browser post can only be a "simple" request (text/plain, form types, no
        # custom header): requiring JSON and a token header refuses it without reading the body
        if request.content_type != _JSON:
            return web.Response(status=415, text="/admin takes Content-Type: application/json")
        if not self._admin_authorized(request):
            return web.Response(status=401, text="/admin needs the admin token printed at start-up")
        body = _decode_json(await request.read())
        if isinstance(body, web.Response):
            return body
        try:
            answer = await self._admin_command(body)
        except EngineError as exc:
            return web.Response(status=400, text=f"Bad admin command: {exc.message}")
        except (ValueError, TypeError, KeyError, InvalidOperation) as exc:
            return web.Response(status=400, text=f"Bad admin command: {exc}")
        return web.Response(body=orjson.dumps({"status": "ok", "response": answer}), content_type=_JSON)

    def _admin_authorized(self, request: web.Request) -> bool:
        given = request.headers.get("X-Wingbeat-Admin-Token")
        if given is None:
            scheme, _, value = request.headers.get("Authorization", "").partition(" ")
            given = value.strip() if scheme.lower() == "bearer" else ""
        return secrets.compare_digest(given.encode(), self.admin_token.encode())

    async def _admin_command(self, command: Any) -> Any:
        """``fund`` (user, amount), ``setOraclePrice`` (coin, px), ``payFunding`` (coin, rate),
        ``advance`` (optional nowMs), ``registerVault`` (vault, leader), and the fault commands of
        `FaultInjector.apply_command`."""
        if not isinstance(command, dict):
            raise ValueError("the command must be a JSON object")
        kind = command.get("type")
        if kind == "fund":
            unknown = sorted(set(command) - _FUND_FIELDS)
            if unknown:  # a mistyped amount ("usdc") would fund the default, or nothing, and answer ok
                raise ValueError(f"fund takes user, amount, spot and dexes; unknown: {', '.join(unknown)}")
            spot = command.get("spot")
            if spot is not None and not isinstance(spot, dict):
                raise ValueError('"spot" must be an object of token name -> amount')
            dexes = command.get("dexes")  # builder dex name -> collateral on its margin account
            if dexes is not None and not isinstance(dexes, dict):
                raise ValueError('"dexes" must be an object of builder dex name -> amount')
            amount = Decimal(str(command.get("amount", 0 if spot or dexes else DEFAULT_FUND_AMOUNT)))
            await self.fund(
                str(command["user"]),
                amount,
                spot={k: str(v) for k, v in (spot or {}).items()},
                dexes={k: str(v) for k, v in (dexes or {}).items()},
            )
            return "ok"
        if kind == "setOraclePrice":
            coin, px = str(command["coin"]), Decimal(str(command["px"]))
            with self._applying("oracle", (coin, str(px))):
                self.engine.set_oracle_price(coin, px)
            return "ok"
        if kind == "payFunding":
            await self.pay_funding(str(command["coin"]), str(command["rate"]))
            return "ok"
        if kind == "advance":
            now = command.get("nowMs")
            to = None if now is None else int(now)
            with self._applying("advance", (to,)):
                self.engine.advance(to)
            return "ok"
        if kind == "registerVault":
            self.register_vault(str(command["vault"]), str(command["leader"]))
            return "ok"
        return self.faults.apply_command(command)


def _amount(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValueError(f"{what} must be a Decimal, int or str, got {type(value).__name__}")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what} must be a number, got {value!r}") from None


def _signed_rate(value: Any) -> Decimal:
    if isinstance(value, float | bool):
        raise ValueError(f"rate must be an exact number (a str, int or Decimal), got {value!r}")
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"rate is not a number: {value!r}") from None
    if not rate.is_finite():
        raise ValueError(f"rate must be finite, got {value!r}")
    return rate


def _decode_json(raw: bytes) -> Any | web.Response:
    """The JSON value of a request body, or the exchange's 400 answer."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return web.Response(status=400, text=f"Failed to parse the request body as JSON: {exc}")


def _is_loopback(remote: str | None) -> bool:
    if remote is None:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


async def run_local_exchange(
    host: str = "127.0.0.1",
    port: int = 8080,
    fund: Sequence[
        tuple[str, Decimal]
        | tuple[str, Decimal, Mapping[str, Decimal]]
        | tuple[str, Decimal, Mapping[str, Decimal], Mapping[str, tuple[str, Decimal]]]
    ] = (),
    chain: Literal["testnet", "mainnet"] = "testnet",
    admin: bool = False,
    seed: int = 0,
    *,
    admin_token: str | None = None,
    markets: MarketsArg = None,
    spot: SpotConfig | None = None,
    liquidity: bool | LiquidityConfig = True,
    state: str | Path | None = None,
    perp_dexes: Sequence[PerpDexConfig] | None = None,
) -> None:
    """Run a local exchange until SIGINT/SIGTERM (what ``wingbeat sim`` calls); prints its URL. The process
    is taken to serve nothing else: its garbage collector is set by :func:`~wingbeat.core.gc_tuning.tune_gc`.

    ``fund`` holds ``(address, perp USDC)``, ``(address, perp USDC, {spot token: amount})`` or
    ``(address, perp USDC, {spot token: amount}, {builder dex: (collateral token, amount)})``; a
    token that is not the dex's collateral is refused (ValueError).
    With ``state``, ``fund`` credits accounts only when the state file is new (a restart must not
    fund them twice)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # not on the main thread or not supported: the caller cancels us instead
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with LocalExchange(
        markets,
        spot=spot,
        perp_dexes=perp_dexes,
        seed=seed,
        host=host,
        port=port,
        admin=admin,
        admin_token=admin_token,
        chain=chain,
        liquidity=liquidity,
        state=state,
    ) as ex:
        restored = ex.durable is not None and ex.durable.restored
        if not restored:
            for entry in fund:
                address, amount = entry[0], entry[1]
                tokens: Mapping[str, Decimal] = entry[2] if len(entry) > 2 else {}
                on_dexes: Mapping[str, tuple[str, Decimal]] = entry[3] if len(entry) > 3 else {}
                for name, (token, _) in on_dexes.items():
                    collateral = ex.engine.dex_collateral_name(name)
                    if collateral is not None and token != collateral:
                        raise ValueError(
                            f"{name}:{token}: the collateral of builder dex {name!r} is {collateral}"
                        )
                await ex.fund(
                    address,
                    amount,
                    spot=dict(tokens),
                    dexes={name: value for name, (_, value) in on_dexes.items()},
                )
        if ex.durable is not None:
            how = f"restored, {ex.durable.replayed} logged inputs replayed" if restored else "new"
            print(f"state file: {ex.durable.store.path} ({how})", flush=True)
        if admin:
            # the token is a local-control credential, not a key: printing it is how the user gets it
            print(
                f"admin token: {ex.admin_token}  (POST /admin with Authorization: Bearer <token>)", flush=True
            )
        tune_gc()
        print(
            f"wingbeat local exchange ({chain}) listening on {ex.base_url}  (websocket {ex.ws_url})",
            flush=True,
        )
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
