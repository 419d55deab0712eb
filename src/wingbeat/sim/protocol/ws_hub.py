"""Websocket side of the local exchange: subscriptions, channel fan-out, ping, ``post``.

Engine events arrive synchronously through ``ExchangeEngine.subscribe``, filtered to the users some
subscription names (the engine builds no per-account events of the others). Book and context
signals are coalesced: they mark a coin dirty and one flush, scheduled with ``call_soon``, renders
each affected channel once (from ``info.handle_info``, so the websocket and ``/info`` agree).
Account-state channels (``ws_user_channels.STATE_TYPES``: clearinghouseState, openOrders, webData2/3,
activeAssetData, twapStates, spotState) are coalesced the same way per user: any event of the user
marks all of them dirty, a mark change of a coin the user holds (or watches) the mark-dependent ones,
and the flush renders each once; all are re-sent every ``state_refresh_s``. Every rendered message is serialised once with orjson and the same bytes are queued to
every subscriber; each connection has one writer task, owned by its handler, that drains its queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from wingbeat.sim.protocol.actions import ActionProcessor, ParseFailure
from wingbeat.sim.protocol.faults import FaultInjector, FaultKind
from wingbeat.sim.protocol.info import (
    InfoError,
    handle_info,
    render_active_asset_ctx,
    render_all_mids,
    render_bbo,
    render_candle,
    render_l2_book,
)
from wingbeat.sim.protocol.info_twap import render_slice_fills
from wingbeat.sim.protocol.rate_limits import action_weight, info_weight
from wingbeat.sim.protocol.ws_limits import WsIpLimits, WsLimitConfig
from wingbeat.sim.protocol.ws_subscriptions import (
    CANDLE_INTERVALS_MS,
    InvalidSubscription,
    Subscription,
    parse_subscription,
)
from wingbeat.sim.protocol.ws_user_channels import (
    MARK_TYPES,
    SNAPSHOT_TYPES,
    STATE_TYPES,
    render_snapshot,
    render_state,
)
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import (
    AssetCtxChanged,
    BookChanged,
    EngineEvent,
    FillsEvent,
    FundingEvent,
    LedgerEvent,
    LiquidationEvent,
    NonUserCancelEvent,
    OrderUpdatesEvent,
    TradesEvent,
    TwapHistoryEvent,
    TwapSliceFillsEvent,
)

__all__ = ["CANDLE_INTERVALS_MS", "MAX_BACKLOG", "STATE_REFRESH_S", "WsHub"]

_log = logging.getLogger("wingbeat.sim.protocol.ws_hub")

_PONG = orjson.dumps({"channel": "pong"})
_TOO_MANY: dict[str, Any] = {"type": "error", "payload": "429 Too Many Requests"}
_INTERNAL_ERROR: dict[str, Any] = {"type": "error", "payload": "500 Internal Server Error"}
_SWALLOWED: dict[str, Any] = {}  # identity marker: a post the timeout fault leaves unanswered
STATE_REFRESH_S = 2.0
"""Seconds between re-sends of an unchanged account state. Hyperliquid's cadence for these channels
is not documented (no source found); its ``time`` field shows the state is re-rendered, and a client
that opens a second watch on the same stream (ccxt.pro) waits for the next push."""
MAX_BACKLOG = 10_000
"""Messages queued for one websocket client before the server gives up on it and disconnects."""


class _Connection:
    """One websocket client: its subscriptions and its outbound queue."""

    __slots__ = ("faults", "held", "inflight", "ip", "last_sent", "queue", "subs", "transport", "ws")

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, faults: FaultInjector, ip: str
    ) -> None:
        self.ws = ws
        self.ip = ip
        self.inflight = 0  # posts received, not answered yet
        self.transport = request.transport
        self.faults = faults
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.subs: set[Subscription] = set()
        self.held: bytes | None = None  # a message held back by the reorder fault
        self.last_sent = asyncio.get_running_loop().time()  # the idle clock starts at connect

    def send(self, frame: bytes) -> None:
        """Queue a control frame (acks, pong, post answers): never duplicated nor reordered."""
        if self.queue.qsize() >= MAX_BACKLOG:
            # a client that does not read would grow this queue without bound: cut it off instead
            _log.warning("dropping a websocket client %d messages behind", self.queue.qsize())
            self.drop()
            return
        self.queue.put_nowait(frame)
        if self.held is not None:
            self.queue.put_nowait(self.held)
            self.held = None

    def send_data(self, frame: bytes) -> None:
        """Queue a channel message, through the duplicate / reorder faults."""
        if self.held is None and self.faults.fire(FaultKind.WS_REORDER, path="/ws") is not None:
            self.held = frame
            return
        self.send(frame)
        if self.faults.fire(FaultKind.WS_DUPLICATE, path="/ws") is not None:
            self.queue.put_nowait(frame)

    def drop(self) -> None:
        """Cut the connection abruptly, as a network failure would."""
        if self.transport is not None:
            self.transport.abort()
        self.queue.put_nowait(None)


def _frame(channel: str, data: Any) -> bytes:
    return orjson.dumps({"channel": channel, "data": data})


class WsHub:
    """All websocket connections of one local exchange."""

    def __init__(
        self,
        engine: ExchangeEngine,
        actions: ActionProcessor,
        faults: FaultInjector,
        *,
        clock: Callable[[], int],
        idle_timeout_s: float = 60.0,
        charge_ip: Callable[[str, int], bool] | None = None,
        limits: WsLimitConfig | None = None,
    ) -> None:
        self._engine = engine
        self._actions = actions
        self._faults = faults
        self._clock = clock
        self.idle_timeout_s = idle_timeout_s
        self.state_refresh_s = STATE_REFRESH_S
        self._charge_ip = charge_ip
        self._connections: set[_Connection] = set()
        self._limits = WsIpLimits(limits)  # per-IP caps (connections, subscriptions, users, messages, posts)
        self._index: dict[Subscription, set[_Connection]] = {}
        # user -> how many subscriptions in _index name them: the engine builds no per-account
        # events of anyone else (the hub's filter on the engine, read at every action)
        self._watched: Counter[str] = Counter()
        self._dirty_books: set[str] = set()
        self._dirty_ctx: set[str] = set()
        self._dirty_candles: set[str] = set()
        self._state_subs: dict[str, set[Subscription]] = {}  # user -> its subscribed account-state channels
        self._dirty_users: set[str] = set()  # every account-state channel of these is stale
        self._dirty_marks: set[str] = set()  # only the mark-dependent ones (MARK_TYPES)
        self._refresh: asyncio.TimerHandle | None = None
        self._mids_dirty = False
        self._flush_scheduled = False
        self._last_bbo: dict[str, bytes] = {}
        self._last_mids: dict[str | None, bytes] = {}  # by dex (None: the main dex)
        self.messages_sent = 0
        # the engine renders events only for subscribers: join at the first subscription, so a
        # server nobody subscribes to (an HTTP-only benchmark) pays nothing for websocket data
        self._listening = False
        faults.add_drop_listener(self.drop_all)

    @property
    def connection_count(self) -> int:
        """Open websocket connections."""
        return len(self._connections)

    @property
    def state_counts(self) -> dict[str, int]:
        """Sizes of the hub's per-connection and per-subscription state (all 0 once every socket closed
        and no account stream is subscribed): what a leak would grow."""
        return {
            "connections": len(self._connections),
            "subscriptions": len(self._index),
            "user_streams": len(self._state_subs),
            "watched_users": len(self._watched),
            "limited_ips": self._limits.tracked_ips,
        }

    def drop_all(self) -> None:
        """Cut every connection now (the ``ws_drop`` fault)."""
        for conn in list(self._connections):
            conn.drop()

    # -- connection lifecycle -----------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler of ``/ws``: read frames until the client leaves or idles out."""
        ip = request.remote or "?"
        if self._faults.armed and self._faults.refuses():  # the venue is down (an outage fault)
            return web.Response(status=503, text="Service Unavailable")
        if not self._limits.try_connect(ip):
            # Hyperliquid's answer to one connection too many is not documented: refuse the upgrade
            text = f"Too many websocket connections from this IP (max {self._limits.config.connections})"
            return web.Response(status=429, text=text)
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        try:
            await ws.prepare(request)
        except BaseException:
            self._limits.disconnect(ip)
            raise
        conn = _Connection(ws, request, self._faults, ip)
        self._connections.add(conn)
        writer = asyncio.get_running_loop().create_task(self._writer(conn), name="sim.ws.writer")
        try:
            await self._reader(conn, ip)
        finally:
            self._connections.discard(conn)
            for sub in conn.subs:
                self._unindex(sub, conn)
                self._limits.unsubscribe(ip, sub.user)
            conn.subs.clear()
            while conn.inflight:
                self._post_answered(conn)  # posts never answered (a fault swallowed them)
            self._limits.disconnect(ip)
            conn.queue.put_nowait(None)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            if not ws.closed:
                await ws.close()
        return ws

    async def _reader(self, conn: _Connection, ip: str) -> None:
        ws = conn.ws
        loop = asyncio.get_running_loop()
        while True:
            # Hyperliquid closes a connection it has sent nothing on for the idle timeout: a busy
            # subscription keeps it alive, a quiet one needs the client's pings (answered by pongs)
            remaining = conn.last_sent + self.idle_timeout_s - loop.time()
            if remaining <= 0:
                _log.info("closing idle websocket connection from %s", ip)
                return
            try:
                msg = await ws.receive(timeout=remaining)
            except TimeoutError:
                continue
            if msg.type is WSMsgType.TEXT or msg.type is WSMsgType.BINARY:
                try:
                    self._on_message(conn, msg.data, ip)
                except Exception:
                    # a bug here must not take the connection (or the server) down silently
                    _log.exception("websocket message handling failed")
                    conn.send(_frame("error", "Internal error"))
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return

    async def _writer(self, conn: _Connection) -> None:
        ws = conn.ws
        while True:
            frame = await conn.queue.get()
            if frame is None:
                return
            try:
                await ws.send_frame(frame, WSMsgType.TEXT)
            except (ConnectionError, RuntimeError):
                return
            conn.last_sent = asyncio.get_running_loop().time()
            self.messages_sent += 1

    # -- client messages ----------------------------------------------------------------------
    def _on_message(self, conn: _Connection, data: str | bytes, ip: str) -> None:
        refused = self._limits.try_message(ip, self._clock())
        if refused is not None:
            conn.send(_frame("error", refused))
            return
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            conn.send(_frame("error", f"Invalid JSON: {str(data)[:200]}"))
            return
        method = msg.get("method") if isinstance(msg, dict) else None
        if method == "ping":
            conn.send(_PONG)
        elif method in ("subscribe", "unsubscribe"):
            self._on_subscription(conn, method, msg.get("subscription"))
        elif method == "post":
            error = self._limits.try_post(ip, msg.get("id"))
            if error is not None:
                conn.send(_frame("error", error))
                return
            conn.inflight += 1
            if self._on_post(conn, msg, ip):
                self._post_answered(conn)
        else:
            conn.send(_frame("error", f"Unknown method: {str(data)[:200]}"))

    def _on_subscription(self, conn: _Connection, method: str, raw: Any) -> None:
        text = orjson.dumps(raw).decode()
        try:
            sub = parse_subscription(raw, self._engine.asset_index, self._is_builder_dex)
        except InvalidSubscription:
            conn.send(_frame("error", f"Invalid subscription {text}"))
            return
        if method == "subscribe":
            if sub in conn.subs:
                conn.send(_frame("error", f"Already subscribed: {text}"))
                return
            refused = self._limits.try_subscribe(conn.ip, sub.user)
            if refused is not None:
                conn.send(_frame("error", refused))
                return
            if not self._listening:
                self._listening = True
                self._engine.subscribe(self._on_event, users=self._watched)
            conn.subs.add(sub)
            conns = self._index.get(sub)
            if conns is None:
                conns = self._index[sub] = set()
                if sub.user is not None:
                    self._watched[sub.user] += 1
            conns.add(conn)
            if sub.type in STATE_TYPES and sub.user is not None:
                self._state_subs.setdefault(sub.user, set()).add(sub)
                self._arm_refresh()
            conn.send(_frame("subscriptionResponse", {"method": "subscribe", "subscription": sub.echo()}))
            self._send_snapshot(conn, sub)
        else:
            if sub not in conn.subs:
                conn.send(_frame("error", f"Already unsubscribed: {text}"))
                return
            conn.subs.discard(sub)
            self._unindex(sub, conn)
            self._limits.unsubscribe(conn.ip, sub.user)
            conn.send(_frame("subscriptionResponse", {"method": "unsubscribe", "subscription": sub.echo()}))

    def _unindex(self, sub: Subscription, conn: _Connection) -> None:
        conns = self._index.get(sub)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._index[sub]
                if sub.user is not None:
                    self._watched[sub.user] -= 1
                    if not self._watched[sub.user]:
                        del self._watched[sub.user]  # the engine's filter: present means watched
                state = self._state_subs.get(sub.user or "")
                if state is not None:
                    state.discard(sub)
                    if not state:
                        del self._state_subs[sub.user or ""]
                        if not self._state_subs and self._refresh is not None:
                            self._refresh.cancel()
                            self._refresh = None

    def _on_post(self, conn: _Connection, msg: Mapping[str, Any], ip: str) -> bool:
        """Answer one post; False when its answer is not sent yet (delayed or swallowed by a fault)."""
        post_id = msg.get("id")
        request = msg.get("request")
        if isinstance(post_id, bool) or not isinstance(post_id, int) or not isinstance(request, dict):
            conn.send(_frame("error", f"Invalid post request id={post_id}"))
            return True
        kind = request.get("type")
        payload = request.get("payload")
        response: dict[str, Any]
        if kind == "info" and isinstance(payload, dict) and isinstance(payload.get("type"), str):
            if not self._charge(ip, info_weight(payload["type"])):
                response = _TOO_MANY
            elif (early := self._post_faults(None)) is not None:
                response = early
            else:
                try:
                    reply = handle_info(
                        self._engine,
                        payload,
                        requests_used=self._actions.requests_used,
                        requests_cap=self._actions.requests_cap,
                    )
                    response = {"type": "info", "payload": {"type": payload["type"], "data": reply}}
                except InfoError as exc:
                    response = {"type": "error", "payload": f"{exc.status} {exc.text}"}
                except Exception:
                    _log.exception("info post %r failed", payload.get("type"))
                    response = _INTERNAL_ERROR
        elif kind == "action":
            parsed = self._actions.parse(payload)
            weight = 1 if isinstance(parsed, ParseFailure) else action_weight(parsed.batch_length)
            if not self._charge(ip, weight):
                response = _TOO_MANY
            elif isinstance(parsed, ParseFailure):
                response = {"type": "error", "payload": f"{parsed.status} {parsed.text}"}
            elif (early := self._post_faults(parsed.action_type)) is not None:
                response = early
            else:
                try:
                    result = self._actions.execute(parsed)
                except Exception:
                    _log.exception("action post %s failed", parsed.action_type)
                    conn.send(_frame("post", {"id": post_id, "response": _INTERNAL_ERROR}))
                    return True
                if self._faults.fire(FaultKind.LOSE_ANSWER, path="/ws", action=parsed.action_type):
                    conn.drop()
                    return True
                response = {"type": "action", "payload": result.payload}
        else:
            conn.send(_frame("error", f"Invalid post request id={post_id}"))
            return True
        if response is _SWALLOWED:
            return False  # in flight until the connection closes
        frame = _frame("post", {"id": post_id, "response": response})
        delay = self._faults.fire(FaultKind.DELAY, path="/ws") if self._faults.armed else None
        if delay is None:
            conn.send(frame)
            return True
        # the answer is late, not the action: it was applied on receipt
        asyncio.get_running_loop().call_later(delay.delay_ms / 1000, self._answer_late, conn, frame)
        return False

    def _answer_late(self, conn: _Connection, frame: bytes) -> None:
        conn.send(frame)
        self._post_answered(conn)

    def _post_answered(self, conn: _Connection) -> None:
        if conn.inflight:
            conn.inflight -= 1
            self._limits.post_answered(conn.ip)

    def _post_faults(self, action: str | None) -> dict[str, Any] | None:
        """Faults that replace a post's answer before anything is applied (None: no fault)."""
        faults = self._faults
        if not faults.armed:
            return None
        if faults.fire(FaultKind.RATE_LIMIT, path="/ws", action=action) is not None:
            return _TOO_MANY
        if faults.fire(FaultKind.TIMEOUT, path="/ws", action=action) is not None:
            return _SWALLOWED  # never answered
        rule = faults.fire(FaultKind.HTTP_5XX, path="/ws", action=action)
        if rule is not None:
            return {"type": "error", "payload": f"{rule.status or 502} Bad Gateway"}
        return None

    def _charge(self, ip: str, weight: int) -> bool:
        return self._charge_ip is None or self._charge_ip(ip, weight)

    # -- rendering ----------------------------------------------------------------------------
    def _is_builder_dex(self, name: str) -> bool:
        dex = self._engine.dex(name)
        return dex is not None and dex.is_builder

    def _render(self, sub: Subscription) -> Any:
        """The current data of a snapshot-able subscription, None when there is nothing to send."""
        engine = self._engine
        if sub.type == "allMids":
            dex = engine.dex(sub.dex) if sub.dex is not None else None
            if dex is None:
                return {"mids": render_all_mids(engine)}
            # a builder dex's event names it (the main dex's has no "dex"; nktkas SDK's AllMidsEvent)
            return {"dex": sub.dex, "mids": render_all_mids(engine, dex)}
        market = engine.market(sub.coin or "")
        if market is None:
            return None
        if sub.type == "l2Book":
            return render_l2_book(engine, market, sub.n_sig_figs)
        if sub.type == "bbo":
            return render_bbo(engine, market)
        if sub.type == "activeAssetCtx":
            return render_active_asset_ctx(engine, market)
        if sub.type == "candle":
            span = CANDLE_INTERVALS_MS[sub.interval or "1m"]
            now = self._clock()
            return render_candle(market, sub.interval or "1m", now - now % span)
        return None

    def _render_state(self, sub: Subscription) -> Any:
        return render_state(self._engine, sub.type, sub.user or "", sub.coin, sub.dex)

    def _send_snapshot(self, conn: _Connection, sub: Subscription) -> None:
        if self._faults.suppresses(sub.channel):
            return
        user = sub.user or ""
        if sub.type == "userFills":
            fills = handle_info(self._engine, {"type": "userFills", "user": user})
            conn.send(_frame("userFills", {"isSnapshot": True, "user": user, "fills": fills}))
            return
        if sub.type == "userFundings":
            history = handle_info(self._engine, {"type": "userFunding", "user": user, "startTime": 0})
            fundings = [_funding_item(h) for h in history] if isinstance(history, list) else []
            conn.send(_frame("userFundings", {"isSnapshot": True, "user": user, "fundings": fundings}))
            return
        if sub.type in SNAPSHOT_TYPES:
            conn.send(_frame(sub.channel, render_snapshot(self._engine, sub.type, user)))
            return
        if sub.type == "notification":
            return  # the local exchange sends no notifications
        data = self._render_state(sub) if sub.type in STATE_TYPES else self._render(sub)
        if data is not None:
            conn.send(_frame(sub.channel, data))

    # -- engine events ------------------------------------------------------------------------
    def _publish(self, subs: Iterable[Subscription], channel: str, data: Any) -> None:
        conns = [c for sub in subs for c in self._index.get(sub, ())]
        if not conns or self._faults.suppresses(channel):
            return
        frame = _frame(channel, data)
        for conn in conns:
            conn.send_data(frame)

    def _on_event(self, event: EngineEvent) -> None:
        if not self._index:
            return
        try:
            self._route(event)
        except Exception:
            # the engine must never fail an action because a subscriber could not be served
            _log.exception("websocket fan-out of %s failed", type(event).__name__)

    def _route(self, event: EngineEvent) -> None:
        if self._state_subs:
            self._mark_state(event)
        if isinstance(event, BookChanged):
            self._mark(self._dirty_books, event.coin)
        elif isinstance(event, AssetCtxChanged):
            self._mark(self._dirty_ctx, event.coin)
        elif isinstance(event, TradesEvent):
            # the payloads of trades, order updates and fills are rendered when first read: only
            # read them for a channel someone subscribed to
            sub = Subscription("trades", coin=event.coin)
            if sub in self._index and event.trades:
                self._publish([sub], "trades", event.trades)
            self._mark(self._dirty_candles, event.coin)
        elif isinstance(event, OrderUpdatesEvent):
            sub = Subscription("orderUpdates", user=event.user)
            if sub in self._index:
                self._publish([sub], "orderUpdates", event.updates)
        elif isinstance(event, FillsEvent):
            sub = Subscription("userFills", user=event.user)
            if sub in self._index:
                self._publish([sub], "userFills", {"user": event.user, "fills": event.fills})
            sub = Subscription("userEvents", user=event.user)
            if sub in self._index:
                self._publish([sub], "user", {"fills": event.fills})
        elif isinstance(event, FundingEvent):
            self._publish([Subscription("userEvents", user=event.user)], "user", {"funding": event.funding})
            data = {"user": event.user, "fundings": [event.funding]}
            self._publish([Subscription("userFundings", user=event.user)], "userFundings", data)
        elif isinstance(event, LiquidationEvent):
            self._publish(
                [Subscription("userEvents", user=event.user)], "user", {"liquidation": event.liquidation}
            )
        elif isinstance(event, NonUserCancelEvent):
            self._publish(
                [Subscription("userEvents", user=event.user)], "user", {"nonUserCancel": event.cancels}
            )
        elif isinstance(event, LedgerEvent):
            sub = Subscription("userNonFundingLedgerUpdates", user=event.user)
            self._publish([sub], sub.channel, {"user": event.user, "nonFundingLedgerUpdates": [event.update]})
        elif isinstance(event, TwapHistoryEvent | TwapSliceFillsEvent):
            self._route_twap(event)

    def _route_twap(self, event: TwapHistoryEvent | TwapSliceFillsEvent) -> None:
        """A TWAP's start or end, or its slice fills: its channel and ``userEvents`` (which carries
        ``twapHistory`` and ``twapSliceFills`` too)."""
        user = event.user
        if isinstance(event, TwapHistoryEvent):
            kind, key, data = "userTwapHistory", "history", event.entries
            user_key = "twapHistory"
        else:
            sub = Subscription("userTwapSliceFills", user=user)
            events = Subscription("userEvents", user=user)
            if sub not in self._index and events not in self._index:
                return
            kind, key, data = "userTwapSliceFills", "twapSliceFills", render_slice_fills(event.rows)
            user_key = "twapSliceFills"
        self._publish([Subscription(kind, user=user)], kind, {"user": user, key: data})
        self._publish([Subscription("userEvents", user=user)], "user", {user_key: data})

    def _mark_state(self, event: EngineEvent) -> None:
        """Mark the users whose account state ``event`` may have changed."""
        if isinstance(event, AssetCtxChanged):
            # a mark move changes the unrealized PnL and margin of everyone holding the coin, and
            # what anyone watching the coin's activeAssetData may trade
            coin = event.coin
            market = self._engine.market(coin)
            index = market.index if market is not None else None
            accounts = market.accounts if market is not None else self._engine.accounts  # its dex's
            for user, subs in self._state_subs.items():
                acct = accounts.get(user)
                if (acct is not None and index is not None and acct.szi(index)) or any(
                    sub.coin == coin for sub in subs
                ):
                    self._dirty_marks.add(user)
        elif isinstance(event, BookChanged | TradesEvent):
            return
        elif event.user in self._state_subs:
            self._dirty_users.add(event.user)
        else:
            return
        self._schedule_flush()

    def _arm_refresh(self) -> None:
        if self._refresh is None:
            self._refresh = asyncio.get_running_loop().call_later(self.state_refresh_s, self._on_refresh)

    def _on_refresh(self) -> None:
        self._refresh = None
        if self._state_subs:
            self._dirty_users.update(self._state_subs)
            self._schedule_flush()
            self._arm_refresh()

    def _mark(self, dirty: set[str], coin: str) -> None:
        dirty.add(coin)
        self._mids_dirty = True
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            # one loop turn later: the connections' writers woken by the same action (a post's answer, its
            # orderUpdates) send first, then the pushes are rendered (the frames' order is the same either way)
            loop = asyncio.get_running_loop()
            loop.call_soon(loop.call_soon, self._flush)

    def _flush(self) -> None:
        """Render every dirty coin's book, bbo, context and candle channels once."""
        self._flush_scheduled = False
        books, ctxs, candles = self._dirty_books, self._dirty_ctx, self._dirty_candles
        self._dirty_books, self._dirty_ctx, self._dirty_candles = set(), set(), set()
        users, self._dirty_users = self._dirty_users, set()
        marks, self._dirty_marks = self._dirty_marks - users, set()
        try:
            for user in users:
                subs = self._state_subs.get(user)
                if subs:
                    self._publish_state(subs)
            for user in marks:
                subs = self._state_subs.get(user)
                if subs:
                    self._publish_state({sub for sub in subs if sub.type in MARK_TYPES})
            for sub in list(self._index):
                if sub.coin in books and sub.type == "l2Book":
                    self._publish([sub], "l2Book", self._render(sub))
                elif sub.coin in books and sub.type == "bbo":
                    self._publish_bbo(sub)
                elif (sub.coin in ctxs and sub.type == "activeAssetCtx") or (
                    sub.coin in candles and sub.type == "candle"
                ):
                    data = self._render(sub)
                    if data is not None:
                        self._publish([sub], sub.channel, data)
            if self._mids_dirty:
                self._mids_dirty = False
                self._publish_mids()
        except Exception:
            _log.exception("websocket flush failed")

    def _publish_state(self, subs: set[Subscription]) -> None:
        """Render each account-state channel of one user once for all its subscriptions of the same
        dex."""
        by_kind: dict[tuple[str, str | None, str | None], list[Subscription]] = {}
        for sub in subs:
            by_kind.setdefault((sub.type, sub.coin, sub.dex), []).append(sub)
        for same in by_kind.values():
            self._publish(same, same[0].channel, self._render_state(same[0]))

    def _publish_bbo(self, sub: Subscription) -> None:
        data = self._render(sub)
        if data is None:
            return
        # bbo is only pushed when it changed
        key = orjson.dumps(data["bbo"])
        if self._last_bbo.get(sub.coin or "") == key:
            return
        self._last_bbo[sub.coin or ""] = key
        self._publish([sub], "bbo", data)

    def _publish_mids(self) -> None:
        for dex in self._engine.dexes:
            sub = Subscription("allMids", dex=dex.name or None)
            if sub not in self._index:
                continue
            data = self._render(sub)
            key = orjson.dumps(data)
            if key == self._last_mids.get(sub.dex):
                continue
            self._last_mids[sub.dex] = key
            self._publish([sub], "allMids", data)


def _funding_item(entry: Mapping[str, Any]) -> dict[str, Any]:
    delta = entry.get("delta", {})
    return {
        "time": entry.get("time"),
        "coin": delta.get("coin"),
        "usdc": delta.get("usdc"),
        "szi": delta.get("szi"),
        "fundingRate": delta.get("fundingRate"),
        "nSamples": delta.get("nSamples"),
    }
