"""A websocket client that stays connected: reconnects with backoff, resubscribes, pings, and notices silence.

One task per client runs the standard loop: connect, let the owner resubscribe (``on_connected``),
consume, and on any failure log and back off with full jitter (capped exponential). While a connection
is up, a keepalive task sends the application heartbeat (Hyperliquid: ``{"method":"ping"}``) and closes
the connection when nothing has arrived for ``stale_timeout`` seconds, which sends the loop around
again. Frames are handed to ``on_message`` as raw ``bytes`` (text frames are not decoded: JSON parsers
such as orjson take UTF-8 bytes directly, which saves a decode per message on the hot path).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from wingbeat.core.errors import RequestTimeout, TransportError
from wingbeat.core.tasks import TaskOwner

__all__ = ["ReconnectingWebSocket", "WebSocketConfig"]

_logger = logging.getLogger("wingbeat.core.ws_client")

_DATA_TYPES = (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketConfig:
    """Connection behaviour of a :class:`ReconnectingWebSocket`; every duration is in seconds."""

    heartbeat_interval: float | None = None
    """Send ``heartbeat_message`` this often while connected; None disables the heartbeat."""
    heartbeat_message: str | bytes = b'{"method":"ping"}'
    """Application-level ping, sent as a text frame."""
    stale_timeout: float | None = None
    """Reconnect when no frame has arrived for this long; None disables the watchdog."""
    backoff_initial: float = 0.5
    """Upper bound of the first reconnect delay."""
    backoff_max: float = 30.0
    """Cap of the reconnect delay bound."""
    backoff_factor: float = 2.0
    """Growth of the delay bound per consecutive failure."""
    connect_timeout: float = 10.0
    """Deadline for the TCP + TLS + websocket handshake."""
    close_timeout: float = 2.0
    """How long a close waits for the server's close frame before dropping the connection."""
    max_message_size: int = 64 * 1024 * 1024
    """Largest frame accepted (user snapshots can be several MB)."""

    def __post_init__(self) -> None:
        for name in ("heartbeat_interval", "stale_timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None, got {value}")
        if not 0 < self.backoff_initial <= self.backoff_max:
            raise ValueError("backoff_initial must be positive and at most backoff_max")
        if self.backoff_factor < 1:
            raise ValueError(f"backoff_factor must be >= 1, got {self.backoff_factor}")
        if self.connect_timeout <= 0 or self.close_timeout <= 0 or self.max_message_size <= 0:
            raise ValueError("connect_timeout, close_timeout and max_message_size must be positive")


class ReconnectingWebSocket:
    """A websocket connection that reconnects until ``stop()``.

    Callbacks: ``on_message(frame)`` for every data frame (synchronous and cheap; an exception is
    logged and the connection survives); ``on_connected()`` (async) after each (re)connect, before
    ``connected`` turns true, where the owner resubscribes (if it raises, the connection is dropped
    and retried); ``on_disconnected(error)`` when an established connection ends (``error`` is None for
    a clean close). ``sleep``, ``clock`` (monotonic seconds) and ``rng`` (uniform in [0, 1)) are
    injectable so tests need not wait.
    """

    def __init__(
        self,
        url: str,
        *,
        on_message: Callable[[bytes], None],
        on_connected: Callable[[], Awaitable[None]] | None = None,
        on_disconnected: Callable[[BaseException | None], None] | None = None,
        config: WebSocketConfig | None = None,
        session: aiohttp.ClientSession | None = None,
        name: str = "ws",
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.url = url
        self.config = config or WebSocketConfig()
        self._on_message = on_message
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._session = session
        self._owns_session = session is None
        self._name = name
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._tasks = TaskOwner(name, _logger)
        self._ws: aiohttp.ClientWebSocketResponse[bool] | None = None
        self._connected = asyncio.Event()
        self._running = False
        self._heartbeat = (
            self.config.heartbeat_message.encode()
            if isinstance(self.config.heartbeat_message, str)
            else self.config.heartbeat_message
        )
        self.last_message_time: float = 0.0
        """``clock()`` when the last frame arrived."""
        self.messages = 0
        """Data frames received over the client's lifetime."""
        self.connects = 0
        """Successful connections (handshake and ``on_connected`` done)."""
        self.failures = 0
        """Connection attempts or connections that ended in an error."""
        self.stale_disconnects = 0
        """Connections dropped by the watchdog."""

    def __repr__(self) -> str:
        return f"ReconnectingWebSocket({self._name!r}, {self.url!r}, connected={self.connected})"

    @property
    def connected(self) -> bool:
        """True while a connection is up and ``on_connected`` has completed."""
        return self._connected.is_set()

    @property
    def reconnects(self) -> int:
        """Successful connections after the first one."""
        return max(self.connects - 1, 0)

    async def start(self) -> None:
        """Start connecting in the background; returns immediately (see ``wait_connected``)."""
        if self._running:
            return
        self._running = True
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self._tasks.create_task(self._run(), name="run")

    async def stop(self) -> None:
        """Close the connection, cancel and await every task, and close the session if we made it.

        Must not be called from inside a callback (it would wait for itself): schedule it instead.
        """
        if not self._running:
            return
        if asyncio.current_task() in self._tasks.tasks:
            raise RuntimeError(f"{self._name}: stop() called from a callback of the client itself")
        self._running = False
        await self._tasks.stop()
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ReconnectingWebSocket:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def wait_connected(self, timeout: float) -> None:  # noqa: ASYNC109 - a plain deadline is the API
        """Wait until ``connected``; raise :class:`RequestTimeout` if that takes longer than ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            raise RequestTimeout(f"{self._name}: not connected to {self.url} within {timeout}s") from None

    async def send(self, data: str | bytes, *, binary: bool = False) -> None:
        """Send one frame: text (``bytes`` must then be UTF-8), or binary when ``binary`` is true.

        Works from ``on_connected`` on. Raises :class:`TransportError` when there is no open connection
        or the write fails; the frame is then not sent.
        """
        ws = self._ws
        if ws is None or ws.closed:
            raise TransportError(f"{self._name}: not connected to {self.url}")
        payload = data.encode() if isinstance(data, str) else data
        opcode = aiohttp.WSMsgType.BINARY if binary else aiohttp.WSMsgType.TEXT
        try:
            await ws.send_frame(payload, opcode)
        except (ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
            raise TransportError(f"{self._name}: send failed: {exc!r}") from exc

    def send_now(self, data: bytes) -> bool:
        """Write one text frame (UTF-8 ``data``) at once, without awaiting: for callers that must not yield.

        True when the frame was written (handed to the connection's transport, as :meth:`send` hands it);
        False when it cannot be written without waiting (no open connection, or a compressed one, whose
        frames aiohttp may compress in a thread): nothing was written then. Raises :class:`TransportError`
        when the write fails.
        """
        ws = self._ws
        if ws is None or ws.closed or ws.compress:
            return False
        # aiohttp writes an uncompressed frame before its only wait, the flow-control drain: run the send up
        # to there. Skipping that drain leaves the frame buffered in the transport, where the next send's
        # drain (or the transport itself) pushes it out.
        step = ws.send_frame(data, aiohttp.WSMsgType.TEXT)
        try:
            step.send(None)
        except StopIteration:
            return True
        except (ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
            raise TransportError(f"{self._name}: send failed: {exc!r}") from exc
        step.close()
        return True

    def backoff_delay(self, attempt: int) -> float:
        """Full-jitter delay before reconnect attempt ``attempt`` (0-based): uniform below a capped bound."""
        cfg = self.config
        bound = min(cfg.backoff_max, cfg.backoff_initial * cfg.backoff_factor ** min(attempt, 64))
        return bound * self._rng()

    # ------------------------------------------------------------------ internals

    async def _run(self) -> None:
        attempt = 0
        while True:
            messages_before = self.messages
            try:
                await self._connect_and_consume()
                _logger.info("%s: connection to %s closed", self._name, self.url)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                _logger.warning("%s: connection to %s failed: %r", self._name, self.url, exc)
            if self.messages > messages_before:
                attempt = 0  # the connection was healthy: start the backoff over
            delay = self.backoff_delay(attempt)
            attempt += 1
            _logger.info("%s: reconnecting in %.2fs (attempt %d)", self._name, delay, attempt)
            await self._sleep(delay)

    async def _connect_and_consume(self) -> None:
        assert self._session is not None
        cfg = self.config
        async with asyncio.timeout(cfg.connect_timeout):
            ws = await self._session.ws_connect(
                self.url,
                timeout=aiohttp.ClientWSTimeout(ws_close=cfg.close_timeout),
                max_msg_size=cfg.max_message_size,
                decode_text=False,
            )
        self._ws = ws
        error: BaseException | None = None
        established = False
        keepalive: asyncio.Task[None] | None = None
        try:
            self.last_message_time = self._clock()
            if self._on_connected is not None:
                await self._on_connected()
            established = True
            self.connects += 1
            self._connected.set()
            _logger.info("%s: connected to %s", self._name, self.url)
            if cfg.heartbeat_interval is not None or cfg.stale_timeout is not None:
                keepalive = self._tasks.create_task(self._keepalive(ws), name="keepalive")
            await self._consume(ws)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._connected.clear()
            self._ws = None
            if keepalive is not None:
                keepalive.cancel()
                await asyncio.gather(keepalive, return_exceptions=True)
            await ws.close()
            if established and self._on_disconnected is not None:
                try:
                    self._on_disconnected(None if isinstance(error, asyncio.CancelledError) else error)
                except Exception:
                    _logger.exception("%s: on_disconnected callback failed", self._name)

    async def _consume(self, ws: aiohttp.ClientWebSocketResponse[bool]) -> None:
        receive = ws.receive
        on_message = self._on_message
        clock = self._clock
        while True:
            msg = await receive()
            if msg.type in _DATA_TYPES:
                self.messages += 1
                self.last_message_time = clock()
                try:
                    on_message(msg.data)
                except Exception:
                    _logger.exception("%s: on_message callback failed; frame skipped", self._name)
            elif msg.type is aiohttp.WSMsgType.ERROR:
                raise TransportError(f"{self._name}: websocket error: {msg.data!r}")
            else:  # CLOSE, CLOSING, CLOSED
                return

    async def _keepalive(self, ws: aiohttp.ClientWebSocketResponse[bool]) -> None:
        """Send heartbeats and close the connection when it has gone silent."""
        interval = self.config.heartbeat_interval
        stale = self.config.stale_timeout
        next_ping = self._clock() + interval if interval is not None else float("inf")
        while True:
            now = self._clock()
            if stale is not None and now - self.last_message_time >= stale:
                self.stale_disconnects += 1
                _logger.warning("%s: nothing received for %.1fs, reconnecting", self._name, stale)
                await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)
                return
            if interval is not None and now >= next_ping:
                try:
                    await ws.send_frame(self._heartbeat, aiohttp.WSMsgType.TEXT)
                except (ConnectionError, aiohttp.ClientError) as exc:
                    # the consumer sees the broken connection too and reconnects
                    _logger.info("%s: heartbeat not sent: %r", self._name, exc)
                    return
                next_ping = now + interval
            deadline = next_ping if stale is None else min(next_ping, self.last_message_time + stale)
            await self._sleep(max(deadline - now, 0.001))
