"""Hyperliquid websocket client: subscriptions routed to typed handlers, and ``post`` requests.

Built on :class:`~wingbeat.core.ws_client.ReconnectingWebSocket`, which reconnects with backoff,
sends Hyperliquid's ``{"method":"ping"}`` heartbeat (the server closes a connection idle for 60 s)
and drops a connection that has gone silent. On every (re)connect all current subscriptions are
sent again; after a *re*connect the reconnect listeners run so owners can catch up on what they
missed (fresh book snapshots, fills over REST).

Each frame is decoded once: ``{"channel", "data"}`` is split, ``data`` is parsed by the channel's
schema, and the typed object goes to the handlers of the matching subscription, found by channel
plus a route key: the values of the subscription's key fields read back from the message - coin
(l2Book, trades, bbo, activeAssetCtx), coin and interval (candle) or user (userFills, userFundings,
clearinghouseState). A handler of a keyless channel may subscribe ``raw`` instead: it gets ``data`` as
the JSON decoder left it and validates it itself (the user stream decodes orderUpdates this way).
Coins and users match case-insensitively, as on the venue; an interval matches exactly ("1m" is a
minute, "1M" a month). Handlers are synchronous and must be cheap; one that raises is logged and
the others still run. Malformed frames are logged and skipped (counted in ``malformed``).

``post_info`` / ``post_action`` send a request over the socket and await the answer with the same
id. When the socket is down they raise :class:`TransportError` at once, so the caller can fall back
to REST; an action whose answer never comes (timeout, connection lost) has an *unknown* outcome.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from wingbeat.core.errors import ExchangeRejection, RateLimitedError, RequestTimeout, TransportError
from wingbeat.core.ws_client import ReconnectingWebSocket, WebSocketConfig
from wingbeat.hyperliquid.constants import WS_MAX_INFLIGHT_POSTS
from wingbeat.hyperliquid.rest import raise_for_exchange_error
from wingbeat.hyperliquid.schemas import MalformedMessageError, parse_l2_book
from wingbeat.hyperliquid.schemas_spot import parse_spot_state_message
from wingbeat.hyperliquid.schemas_twap import parse_twap_history_message, parse_twap_slice_fills_message
from wingbeat.hyperliquid.schemas_ws import (
    CANDLE_INTERVALS,
    parse_active_asset_ctx,
    parse_bbo,
    parse_candle,
    parse_clearinghouse_state_message,
    parse_frame,
    parse_order_updates,
    parse_post_reply,
    parse_trades,
    parse_user_events,
    parse_user_fills_message,
    parse_user_fundings_message,
    parse_ws_all_mids,
)

__all__ = ["Handler", "HyperliquidWebSocket"]

_logger = logging.getLogger("wingbeat.hyperliquid.ws")

Handler = Callable[[Any], None]
"""Receives the decoded payload of one message (the type depends on the subscription)."""


_RouteKey = tuple[str, ...]
"""Values of a subscription's key fields, normalised (``()`` for a channel without key fields)."""


@dataclass(frozen=True, slots=True)
class _ChannelSpec:
    channel: str
    parse: Callable[[Any], Any]
    # subscription fields that route within the channel, e.g. ("coin", "interval")
    key_fields: tuple[str, ...]
    # the same fields' values read from a decoded message, in order (None: routes nowhere)
    message_key: Callable[[Any], tuple[str, ...] | None]
    # subscription fields restricted to known values (a typo would otherwise subscribe to silence)
    allowed: tuple[tuple[str, frozenset[str]], ...] = ()


@dataclass(frozen=True, slots=True)
class _Raw:
    """A handler subscribed with ``raw=True``: it receives the undecoded ``data`` of the message."""

    handler: Handler

    def __call__(self, data: Any) -> None:
        self.handler(data)


def _no_key(_: Any) -> tuple[()]:
    return ()


def _first_trade_coin(trades: Any) -> tuple[str] | None:
    return (trades[0].coin,) if trades else None


def _coin(message: Any) -> tuple[str]:
    return (message.coin,)


def _user(message: Any) -> tuple[str]:
    return (message.user,)


def _coin_interval(candle: Any) -> tuple[str, str]:
    return candle.coin, candle.interval


# subscription type -> how its channel is decoded and routed
_SPECS: dict[str, _ChannelSpec] = {
    "l2Book": _ChannelSpec("l2Book", parse_l2_book, ("coin",), _coin),
    "trades": _ChannelSpec("trades", parse_trades, ("coin",), _first_trade_coin),
    "bbo": _ChannelSpec("bbo", parse_bbo, ("coin",), _coin),
    "candle": _ChannelSpec(
        "candle", parse_candle, ("coin", "interval"), _coin_interval, (("interval", CANDLE_INTERVALS),)
    ),
    "activeAssetCtx": _ChannelSpec("activeAssetCtx", parse_active_asset_ctx, ("coin",), _coin),
    "allMids": _ChannelSpec("allMids", parse_ws_all_mids, (), _no_key),
    "orderUpdates": _ChannelSpec("orderUpdates", parse_order_updates, (), _no_key),
    "userFills": _ChannelSpec("userFills", parse_user_fills_message, ("user",), _user),
    "userFundings": _ChannelSpec("userFundings", parse_user_fundings_message, ("user",), _user),
    "clearinghouseState": _ChannelSpec(
        "clearinghouseState", parse_clearinghouse_state_message, ("user",), _user
    ),
    "userEvents": _ChannelSpec("user", parse_user_events, (), _no_key),
    "userTwapHistory": _ChannelSpec("userTwapHistory", parse_twap_history_message, ("user",), _user),
    "userTwapSliceFills": _ChannelSpec("userTwapSliceFills", parse_twap_slice_fills_message, ("user",), _user),
    "spotState": _ChannelSpec("spotState", parse_spot_state_message, ("user",), _user),
}
_BY_CHANNEL: dict[str, _ChannelSpec] = {spec.channel: spec for spec in _SPECS.values()}

_IGNORED_CHANNELS = frozenset({"pong", "subscriptionResponse", ""})

# Key fields the venue matches case-insensitively (a coin, an address); others match exactly.
_CASE_INSENSITIVE = frozenset({"coin", "user"})


def _route_key(fields: tuple[str, ...], values: tuple[str, ...]) -> _RouteKey:
    """The route key of the string ``values`` of ``fields``: the one normalisation applied to a
    subscription's fields and to the key values read from a message, so the two always agree."""
    if len(fields) == 1:  # most channels: no comprehension on the hot path (same result)
        return (values[0].lower() if fields[0] in _CASE_INSENSITIVE else values[0],)
    return tuple(
        [
            value.lower() if field in _CASE_INSENSITIVE else value
            for field, value in zip(fields, values, strict=True)
        ]
    )


def _post_error(text: str) -> Exception:
    """Exception for a post answered with ``{"type":"error"}`` ("<HTTP status> <description>")."""
    status = text[:3]
    if status == "429":
        return RateLimitedError(f"websocket post: {text}")
    if status.isdigit() and status.startswith("5"):
        return TransportError(f"websocket post: {text}")
    return ExchangeRejection(text, code=f"http_{status}" if status.isdigit() else None)


class HyperliquidWebSocket:
    """One websocket connection to Hyperliquid (or the local exchange) at ``ws_url``.

    ``ping_interval`` is the heartbeat period and ``stale_timeout`` the silence after which the
    connection is dropped and re-established (seconds). ``post_timeout`` bounds each ``post``.
    ``config`` overrides the whole :class:`WebSocketConfig` (backoff etc.) when given.
    """

    def __init__(
        self,
        ws_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        ping_interval: float = 30.0,
        stale_timeout: float = 65.0,
        post_timeout: float = 10.0,
        config: WebSocketConfig | None = None,
        name: str = "hyperliquid.ws",
    ) -> None:
        if post_timeout <= 0:
            raise ValueError(f"post_timeout must be positive, got {post_timeout}")
        self._client = ReconnectingWebSocket(
            ws_url,
            on_message=self._on_message,
            on_connected=self._on_connected,
            on_disconnected=self._on_disconnected,
            config=config or WebSocketConfig(heartbeat_interval=ping_interval, stale_timeout=stale_timeout),
            session=session,
            name=name,
        )
        self._name = name
        self._post_timeout = post_timeout
        # canonical subscription JSON -> (subscription, spec, route key)
        self._subscriptions: dict[bytes, tuple[dict[str, Any], _ChannelSpec, _RouteKey]] = {}
        self._routes: dict[tuple[str, _RouteKey], list[Handler]] = {}
        self._reconnect_listeners: list[Callable[[], None]] = []
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._post_ids = itertools.count(1)
        self._slot_waiters: list[asyncio.Future[None]] = []
        self.malformed = 0
        """Frames that could not be decoded (logged and skipped)."""

    def __repr__(self) -> str:
        return f"HyperliquidWebSocket({self._client.url!r}, connected={self.connected})"

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the connection is up and subscriptions have been sent."""
        return self._client.connected

    @property
    def can_post_now(self) -> bool:
        """True while a post can be written at once (connected, a post slot free): see :meth:`post_action_now`."""
        return self._client.connected and len(self._pending) < WS_MAX_INFLIGHT_POSTS

    @property
    def reconnects(self) -> int:
        """Successful connections after the first one."""
        return self._client.reconnects

    async def start(self) -> None:
        """Start connecting in the background (see :meth:`wait_connected`)."""
        await self._client.start()

    async def wait_connected(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a deadline is the API
        """Wait for the connection; :class:`RequestTimeout` after ``timeout`` seconds."""
        await self._client.wait_connected(timeout)

    async def stop(self) -> None:
        """Close the connection, fail pending posts and cancel every task."""
        await self._client.stop()
        self._fail_pending(TransportError(f"{self._name}: stopped"))

    async def __aenter__(self) -> HyperliquidWebSocket:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def add_reconnect_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every reconnect, once subscriptions have been re-sent."""
        self._reconnect_listeners.append(callback)

    def remove_reconnect_listener(self, callback: Callable[[], None]) -> None:
        """Forget a reconnect listener (no-op when unknown)."""
        if callback in self._reconnect_listeners:
            self._reconnect_listeners.remove(callback)

    # -- subscriptions -----------------------------------------------------------------------------

    async def subscribe(
        self, subscription: Mapping[str, Any], handler: Handler, *, raw: bool = False
    ) -> None:
        """Route messages of ``subscription`` (e.g. ``{"type":"l2Book","coin":"BTC"}``) to ``handler``.

        The subscription is sent now if connected and again after every reconnect. Handlers get
        typed objects: l2Book -> ``L2Book``, trades -> ``tuple[Trade]``, bbo -> ``Bbo``,
        candle (``{"type":"candle","coin":"BTC","interval":"1m"}``) -> ``Candle``, activeAssetCtx
        -> ``ActiveAssetCtx``, allMids -> ``dict[str, Decimal]``, orderUpdates ->
        ``tuple[OrderWithStatus]``, userFills -> ``UserFillsMessage``, userFundings ->
        ``UserFundingsMessage``, clearinghouseState -> ``ClearinghouseStateMessage``, userEvents ->
        ``UserEvents``, spotState -> ``SpotStateMessage``. With ``raw=True`` the handler gets the
        message's ``data`` as the JSON decoder left it and validates it itself (a :class:`MalformedMessageError` it raises counts as a
        malformed frame); only channels routed without key fields (orderUpdates, allMids,
        userEvents) offer it, and a frame is decoded into typed objects only for typed handlers.
        Raises ``ValueError`` for another type, a missing coin / user / interval, an interval not in
        ``CANDLE_INTERVALS`` or ``raw`` on a keyed channel.
        """
        sub = dict(subscription)
        spec = _SPECS.get(sub.get("type"))  # type: ignore[arg-type]
        if spec is None:
            raise ValueError(f"unsupported subscription type {sub.get('type')!r}; known: {sorted(_SPECS)}")
        if raw and spec.key_fields:
            raise ValueError(f"{spec.channel} is routed by {spec.key_fields}: it has no raw delivery")
        values = tuple(value for field in spec.key_fields if type(value := sub.get(field)) is str)
        if len(values) != len(spec.key_fields):
            fields = " and ".join(repr(field) for field in spec.key_fields)
            raise ValueError(f"a {spec.channel} subscription needs a string {fields}")
        key = _route_key(spec.key_fields, values)
        for field, known in spec.allowed:
            if sub[field] not in known:
                raise ValueError(f"unknown {spec.channel} {field} {sub[field]!r}; known: {sorted(known)}")
        canonical = orjson.dumps(sub, option=orjson.OPT_SORT_KEYS)
        handlers = self._routes.setdefault((spec.channel, key), [])
        routed = _Raw(handler) if raw else handler
        if routed not in handlers:
            handlers.append(routed)
        if canonical in self._subscriptions:
            return
        self._subscriptions[canonical] = (sub, spec, key)
        await self._send_quietly({"method": "subscribe", "subscription": sub})

    async def unsubscribe(self, subscription: Mapping[str, Any], handler: Handler | None = None) -> None:
        """Stop routing ``subscription`` to ``handler`` (to every handler when None); the server is
        told once no handler is left."""
        sub = dict(subscription)
        canonical = orjson.dumps(sub, option=orjson.OPT_SORT_KEYS)
        entry = self._subscriptions.get(canonical)
        if entry is None:
            return
        _, spec, key = entry
        handlers = self._routes.get((spec.channel, key), [])
        if handler is None:
            handlers.clear()
        else:
            for routed in (handler, _Raw(handler)):
                if routed in handlers:
                    handlers.remove(routed)
        if handlers:
            return
        self._routes.pop((spec.channel, key), None)
        del self._subscriptions[canonical]
        await self._send_quietly({"method": "unsubscribe", "subscription": sub})

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        try:
            await self._client.send(orjson.dumps(message))
        except TransportError:
            # Not connected: the subscription set is replayed on the next connect.
            _logger.debug("%s: %s deferred until connected", self._name, message["method"])

    async def _on_connected(self) -> None:
        for sub, _, _ in list(self._subscriptions.values()):
            await self._client.send(orjson.dumps({"method": "subscribe", "subscription": sub}))
        if self._client.connects > 0:
            # Run the listeners once the connection is marked up (right after this hook returns), so
            # a listener that posts over the socket finds it connected.
            asyncio.get_running_loop().call_soon(self._notify_reconnected)

    def _notify_reconnected(self) -> None:
        for callback in list(self._reconnect_listeners):
            try:
                callback()
            except Exception:
                _logger.exception("%s: reconnect listener failed", self._name)

    def _on_disconnected(self, error: BaseException | None) -> None:
        self._fail_pending(
            TransportError(f"{self._name}: connection lost before the answer; outcome unknown")
        )

    # -- incoming frames (hot path) ----------------------------------------------------------------

    def _on_message(self, frame: bytes) -> None:
        try:
            channel, data = parse_frame(frame)
            spec = _BY_CHANNEL.get(channel)
            if spec is not None:
                if not spec.key_fields:  # routed without decoding: raw handlers may skip the typed decode
                    self._deliver(channel, spec, data, self._routes.get((channel, ())))
                    return
                message = spec.parse(data)
                values = spec.message_key(message)
                handlers = (
                    None
                    if values is None
                    else self._routes.get((channel, _route_key(spec.key_fields, values)))
                )
                if handlers:
                    for handler in tuple(handlers):  # a handler may unsubscribe
                        try:
                            handler(message)
                        except Exception:
                            _logger.exception("%s: %s handler failed", self._name, channel)
            elif channel == "post":
                self._on_post(data)
            elif channel == "error":
                self._on_error(data)
            elif channel not in _IGNORED_CHANNELS:
                _logger.debug("%s: ignoring channel %r", self._name, channel)
        except MalformedMessageError as exc:
            self._count_malformed(exc)

    def _deliver(self, channel: str, spec: _ChannelSpec, data: Any, handlers: list[Handler] | None) -> None:
        """Hand the ``data`` of a keyless channel to its handlers: decoded once, before any delivery, when a
        typed handler (or none at all: the frame is still checked) listens; as is to the raw ones."""
        if not handlers or not all(isinstance(handler, _Raw) for handler in handlers):
            message = spec.parse(data)  # MalformedMessageError: the frame is skipped, nobody gets it
            if not handlers:
                return
        for handler in tuple(handlers):  # a handler may unsubscribe
            raw = isinstance(handler, _Raw)
            try:
                handler(data if raw else message)
            except Exception as exc:
                if raw and isinstance(exc, MalformedMessageError):  # a raw handler refused the frame
                    self._count_malformed(exc)
                else:
                    _logger.exception("%s: %s handler failed", self._name, channel)

    def _count_malformed(self, exc: MalformedMessageError) -> None:
        self.malformed += 1
        # A venue-side format change would repeat on every push: log the first few, then sample.
        if self.malformed <= 10 or self.malformed % 1000 == 0:
            _logger.warning("%s: malformed frame skipped (%d so far): %s", self._name, self.malformed, exc)

    def _on_post(self, data: Any) -> None:
        reply = parse_post_reply(data)
        future = self._pending.get(reply.id)
        if future is not None and not future.done():
            future.set_result(reply)

    def _on_error(self, data: Any) -> None:
        text = data if isinstance(data, str) else str(data)
        _, sep, tail = text.rpartition("id=")
        if sep and tail.strip().isdigit():
            future = self._pending.get(int(tail.strip()))
            if future is not None and not future.done():
                future.set_exception(ExchangeRejection(text))
                return
        _logger.warning("%s: server error: %s", self._name, text[:300])

    def _fail_pending(self, error: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    # -- post --------------------------------------------------------------------------------------

    async def _post(self, kind: str, payload: Mapping[str, Any], timeout: float | None) -> Any:  # noqa: ASYNC109
        if not self._client.connected:
            raise TransportError(f"{self._name}: websocket is down")
        while len(self._pending) >= WS_MAX_INFLIGHT_POSTS:  # a venue limit: wait for an answer to free a slot
            waiter = asyncio.get_running_loop().create_future()
            self._slot_waiters.append(waiter)
            await waiter
        post_id, future, frame = self._open_post(kind, payload)
        try:
            await self._client.send(frame)
        except BaseException:
            self._close_post(post_id)
            raise
        return await self._answer(post_id, future, kind, timeout)

    def _open_post(self, kind: str, payload: Mapping[str, Any]) -> tuple[int, asyncio.Future[Any], bytes]:
        post_id = next(self._post_ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[post_id] = future  # a post holds its slot until it is answered or given up on
        frame = {"method": "post", "id": post_id, "request": {"type": kind, "payload": payload}}
        return post_id, future, orjson.dumps(frame)

    def _close_post(self, post_id: int) -> None:
        del self._pending[post_id]
        waiters, self._slot_waiters = self._slot_waiters, []
        for waiter in waiters:  # each looks again: one of them gets the slot
            if not waiter.done():
                waiter.set_result(None)

    async def _answer(
        self, post_id: int, future: asyncio.Future[Any], kind: str, timeout: float | None  # noqa: ASYNC109
    ) -> Any:
        try:
            async with asyncio.timeout(self._post_timeout if timeout is None else timeout):
                reply = await future
        except TimeoutError:
            raise RequestTimeout(f"{self._name}: no answer to post {post_id} ({kind})") from None
        finally:
            self._close_post(post_id)
        if reply.kind == "error":
            raise _post_error(reply.payload)
        if reply.kind != kind:
            raise MalformedMessageError(f"post {post_id}: asked {kind!r}, answered {reply.kind!r}")
        return reply.payload

    async def post_info(self, body: Mapping[str, Any], *, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        """Send an info request (``{"type": ...}``) over the socket; returns the answer's data."""
        return await self._post("info", body, timeout)

    async def post_action(self, payload: Mapping[str, Any], *, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        """Send a signed ``/exchange`` envelope over the socket; returns the raw exchange reply.

        ``{"status":"err"}`` raises :class:`ExchangeRejection`, as over REST. A timeout or a lost
        connection raises :class:`RequestTimeout` / :class:`TransportError`: outcome unknown.
        """
        reply = await self._post("action", payload, timeout)
        raise_for_exchange_error(reply, "websocket action")
        return reply

    def post_action_now(
        self, payload: Mapping[str, Any], *, timeout: float | None = None
    ) -> Awaitable[Any] | None:
        """:meth:`post_action` for a caller that must not yield: the frame is written before this returns.

        Returns what awaits the raw exchange reply (with :meth:`post_action`'s exceptions), or None when the
        frame cannot be written at once (socket down or busy: every post slot taken, a compressed connection,
        a failed write): nothing was sent then.
        """
        if not self.can_post_now:
            return None
        post_id, future, frame = self._open_post("action", payload)
        try:
            written = self._client.send_now(frame)
        except TransportError as exc:
            _logger.debug("%s: post not written (%s)", self._name, exc)
            written = False
        if not written:
            self._close_post(post_id)
            return None
        return self._action_answer(post_id, future, timeout)

    async def _action_answer(
        self, post_id: int, future: asyncio.Future[Any], timeout: float | None  # noqa: ASYNC109
    ) -> Any:
        reply = await self._answer(post_id, future, "action", timeout)
        raise_for_exchange_error(reply, "websocket action")
        return reply
