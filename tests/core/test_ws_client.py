"""ReconnectingWebSocket against a real aiohttp websocket server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from wingbeat.core.errors import RequestTimeout, TransportError
from wingbeat.core.ws_client import ReconnectingWebSocket, WebSocketConfig

NO_KEEPALIVE = WebSocketConfig()


class Signal:
    """Wakes waiters whose predicate became true; ``poke()`` is synchronous so callbacks can call it."""

    def __init__(self) -> None:
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    def poke(self) -> None:
        for predicate, fut in self._waiters:
            if not fut.done() and predicate():
                fut.set_result(None)

    async def wait(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        if predicate():
            return
        entry = (predicate, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(entry[1], timeout)
        finally:
            self._waiters.remove(entry)


class WsServer:
    """A scriptable websocket server: records frames, can refuse handshakes, drop or stay silent."""

    def __init__(self) -> None:
        self.connections: list[web.WebSocketResponse] = []
        self.received: list[str] = []
        self.refuse = 0  # refuse this many handshakes with a 503
        self.handshakes = 0
        self.reply_pong = True
        self.changed = Signal()
        self.wait = self.changed.wait
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self._handler)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"ws://{host}:{port}/ws"

    async def stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handler(self, request: web.Request) -> web.StreamResponse:
        self.handshakes += 1
        if self.refuse > 0:
            self.refuse -= 1
            self.changed.poke()
            return web.Response(status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections.append(ws)
        self.changed.poke()
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                self.received.append(msg.data)
                if msg.data == '{"method":"ping"}' and self.reply_pong:
                    await ws.send_str('{"channel":"pong"}')
            self.changed.poke()
        self.changed.poke()
        return ws

    @property
    def live(self) -> web.WebSocketResponse:
        return self.connections[-1]


@pytest.fixture
async def server() -> AsyncIterator[WsServer]:
    srv = WsServer()
    await srv.start()
    yield srv
    await srv.stop()


class Recorder:
    """Collects what the client hands to its callbacks."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.connected_calls = 0
        self.disconnects: list[BaseException | None] = []
        self.changed = Signal()
        self.wait = self.changed.wait

    def on_message(self, data: bytes) -> None:
        self.frames.append(data)
        self.changed.poke()

    def on_disconnected(self, error: BaseException | None) -> None:
        self.disconnects.append(error)


def client(
    server: WsServer, rec: Recorder, config: WebSocketConfig = NO_KEEPALIVE, **kwargs: Any
) -> ReconnectingWebSocket:
    async def on_connected() -> None:
        rec.connected_calls += 1
        await ws.send('{"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}}')

    kwargs.setdefault("on_connected", on_connected)
    ws = ReconnectingWebSocket(
        server.url,
        on_message=rec.on_message,
        on_disconnected=rec.on_disconnected,
        config=config,
        name="test.ws",
        **kwargs,
    )
    return ws


def client_tasks(before: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """Tasks started since ``before`` that are still running, except the test server's own handlers."""
    return {
        t
        for t in asyncio.all_tasks() - before
        if not t.done() and not t.get_coro().__qualname__.startswith("RequestHandler")  # type: ignore[union-attr]
    }


SUBSCRIBE = '{"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}}'


async def test_text_and_binary_frames_arrive_as_bytes_and_are_counted(server: WsServer) -> None:
    rec = Recorder()
    async with client(server, rec) as ws:
        await ws.wait_connected(5)
        await server.live.send_str('{"channel":"trades","data":[]}')
        await server.live.send_bytes(b"\x00\x01")
        await rec.wait(lambda: len(rec.frames) == 2)
        assert rec.frames == [b'{"channel":"trades","data":[]}', b"\x00\x01"]
        assert ws.messages == 2
        assert ws.connected and ws.connects == 1 and ws.reconnects == 0


async def test_on_connected_subscribes_before_connected_turns_true(server: WsServer) -> None:
    rec = Recorder()
    seen_connected: list[bool] = []

    async def on_connected() -> None:
        seen_connected.append(ws.connected)
        await ws.send(SUBSCRIBE.encode())

    ws = client(server, rec, on_connected=on_connected)
    async with ws:
        await ws.wait_connected(5)
        await server.wait(lambda: server.received == [SUBSCRIBE])
    assert seen_connected == [False]


async def test_server_drop_reconnects_and_resubscribes(server: WsServer) -> None:
    rec = Recorder()
    async with client(server, rec, rng=lambda: 0.0) as ws:
        await ws.wait_connected(5)
        await server.wait(lambda: len(server.received) == 1)
        await server.live.close()
        await server.wait(lambda: len(server.connections) == 2 and len(server.received) == 2)
        await ws.wait_connected(5)
        assert server.received == [SUBSCRIBE, SUBSCRIBE]
        assert rec.connected_calls == 2
        assert ws.reconnects == 1
        assert rec.disconnects == [None]
        await server.live.send_str("after reconnect")
        await rec.wait(lambda: rec.frames == [b"after reconnect"])


async def test_backoff_delays_grow_with_full_jitter_up_to_the_cap(server: WsServer) -> None:
    server.refuse = 6
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(0)

    config = WebSocketConfig(backoff_initial=0.5, backoff_max=4.0, backoff_factor=2.0)
    rec = Recorder()
    async with client(server, rec, config, sleep=fake_sleep, rng=lambda: 0.75) as ws:
        await ws.wait_connected(5)
        # six refused handshakes: bounds 0.5, 1, 2, 4, 4, 4 scaled by the jitter draw
        assert delays == [0.375, 0.75, 1.5, 3.0, 3.0, 3.0]
        assert ws.failures == 6
        assert server.handshakes == 7
        # a healthy connection (it delivered a frame) resets the backoff
        await server.live.send_str("hello")
        await rec.wait(lambda: len(rec.frames) == 1)
        await server.live.close()
        await server.wait(lambda: len(server.connections) == 2)
        assert delays[6:] == [0.375]


async def test_failed_on_connected_drops_the_connection_and_retries(server: WsServer) -> None:
    rec = Recorder()
    calls = 0

    async def flaky_on_connected() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("subscribe failed")

    async with client(server, rec, on_connected=flaky_on_connected, rng=lambda: 0.0) as ws:
        await ws.wait_connected(5)
        assert calls == 2
        assert ws.failures == 1 and ws.connects == 1
        assert len(server.connections) == 2
        assert rec.disconnects == []  # the first connection was never established


async def test_watchdog_reconnects_a_silent_connection(server: WsServer) -> None:
    rec = Recorder()
    config = WebSocketConfig(stale_timeout=0.2)
    async with client(server, rec, config, rng=lambda: 0.0) as ws:
        await ws.wait_connected(5)
        # the resubscription on the second connection proves the full reconnect cycle ran
        await server.wait(lambda: server.received.count(SUBSCRIBE) >= 2)
        assert len(server.connections) >= 2
        assert ws.stale_disconnects >= 1
        assert rec.connected_calls >= 2


async def test_heartbeat_frames_arrive_and_pongs_keep_the_connection_alive(server: WsServer) -> None:
    rec = Recorder()
    config = WebSocketConfig(heartbeat_interval=0.05, stale_timeout=0.6)
    async with client(server, rec, config) as ws:
        await ws.wait_connected(5)
        # 20 pings take ~1 s, well past the stale timeout: only the pongs keep it alive
        await server.wait(lambda: server.received.count('{"method":"ping"}') >= 20)
        assert len(server.connections) == 1
        assert ws.stale_disconnects == 0
        assert ws.connected
        assert b'{"channel":"pong"}' in rec.frames


async def test_heartbeat_without_answers_ends_in_a_watchdog_reconnect(server: WsServer) -> None:
    server.reply_pong = False
    rec = Recorder()
    config = WebSocketConfig(heartbeat_interval=0.03, stale_timeout=0.2)
    async with client(server, rec, config, rng=lambda: 0.0) as ws:
        await ws.wait_connected(5)
        await server.wait(lambda: len(server.connections) >= 2)
        assert ws.stale_disconnects >= 1


async def test_raising_on_message_is_logged_and_the_connection_survives(
    server: WsServer, caplog: pytest.LogCaptureFixture
) -> None:
    rec = Recorder()

    def on_message(data: bytes) -> None:
        if data == b"bad":
            raise ValueError("cannot parse")
        rec.on_message(data)

    ws = ReconnectingWebSocket(server.url, on_message=on_message, config=NO_KEEPALIVE)
    with caplog.at_level(logging.ERROR, logger="wingbeat.core.ws_client"):
        async with ws:
            await ws.wait_connected(5)
            await server.live.send_str("bad")
            await server.live.send_str("good")
            await rec.wait(lambda: rec.frames == [b"good"])
            assert ws.connects == 1 and ws.messages == 2
    assert "on_message callback failed" in caplog.text


async def test_stop_cancels_every_task_and_closes_the_connection(server: WsServer) -> None:
    before = asyncio.all_tasks()
    rec = Recorder()
    ws = client(server, rec, WebSocketConfig(heartbeat_interval=0.05, stale_timeout=1.0))
    await ws.start()
    await ws.wait_connected(5)
    await ws.stop()
    assert not client_tasks(before)
    assert not ws.connected
    await server.wait(lambda: server.live.closed)
    assert rec.disconnects == [None]
    with pytest.raises(TransportError):
        await ws.send("late")


async def test_stop_during_backoff_returns_promptly(server: WsServer) -> None:
    server.refuse = 1000
    never = asyncio.Event()
    sleeping = asyncio.Event()

    async def stuck_sleep(seconds: float) -> None:
        sleeping.set()
        await never.wait()

    before = asyncio.all_tasks()
    ws = client(server, Recorder(), sleep=stuck_sleep)
    await ws.start()
    await asyncio.wait_for(sleeping.wait(), 5)
    await asyncio.wait_for(ws.stop(), 5)
    assert not client_tasks(before)


async def test_stop_from_inside_a_callback_is_refused_not_deadlocked(server: WsServer) -> None:
    errors: list[BaseException] = []

    async def on_connected() -> None:
        try:
            await ws.stop()
        except RuntimeError as exc:
            errors.append(exc)

    ws = client(server, Recorder(), on_connected=on_connected)
    async with ws:
        await ws.wait_connected(5)
    assert len(errors) == 1 and "callback" in str(errors[0])


async def test_wait_connected_times_out_with_request_timeout(server: WsServer) -> None:
    server.refuse = 1000
    async with client(server, Recorder(), rng=lambda: 0.0) as ws:
        with pytest.raises(RequestTimeout):
            await ws.wait_connected(0.1)
        assert ws.failures >= 1


async def test_client_can_be_restarted_after_stop(server: WsServer) -> None:
    rec = Recorder()
    ws = client(server, rec)
    for _ in range(2):
        async with ws:
            await ws.wait_connected(5)
        assert not ws.connected
    assert ws.connects == 2 and rec.connected_calls == 2


async def test_send_before_start_raises_transport_error(server: WsServer) -> None:
    ws = client(server, Recorder())
    with pytest.raises(TransportError):
        await ws.send("{}")
    await ws.stop()  # stopping a never-started client is a no-op


async def test_shared_session_is_not_closed_by_the_client(server: WsServer) -> None:
    async with aiohttp.ClientSession() as session:
        rec = Recorder()
        ws = client(server, rec, session=session)
        async with ws:
            await ws.wait_connected(5)
        assert not session.closed


def test_backoff_bound_is_capped_and_never_overflows() -> None:
    ws = ReconnectingWebSocket(
        "ws://127.0.0.1:1/ws",
        on_message=lambda _: None,
        config=WebSocketConfig(backoff_max=30),
        rng=lambda: 1.0,
    )
    assert ws.backoff_delay(0) == 0.5
    assert ws.backoff_delay(3) == 4.0
    assert ws.backoff_delay(10_000) == 30.0
    assert "connected=False" in repr(ws)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"heartbeat_interval": 0},
        {"stale_timeout": -1},
        {"backoff_initial": 0},
        {"backoff_initial": 10, "backoff_max": 1},
        {"backoff_factor": 0.5},
        {"connect_timeout": 0},
    ],
)
def test_invalid_config_is_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        WebSocketConfig(**kwargs)
