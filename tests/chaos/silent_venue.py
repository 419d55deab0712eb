"""A loopback TCP server in front of the local exchange that can go silent: it keeps accepting connections and
reading what the client sends, but forwards nothing and answers nothing, on new and established connections
alike (REST keep-alive sockets and the websocket). What a hung load balancer or a frozen venue looks like."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["SilentVenue"]

_CHUNK = 65_536


class SilentVenue:
    """Forwards ``127.0.0.1:<port>`` to ``target_port`` until :meth:`go_silent`; ``silent=True`` at start: a
    venue that never answers at all. Use as an async context manager; ``base_url`` is what a client targets."""

    def __init__(self, target_port: int, *, silent: bool = False) -> None:
        self._target_port = target_port
        self._silent = asyncio.Event()
        if silent:
            self._silent.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        """Connections accepted so far."""

    @property
    def base_url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def go_silent(self) -> None:
        """From now on nothing reaches the exchange and nothing comes back, on every connection."""
        self._silent.set()

    async def __aenter__(self) -> SilentVenue:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        if self._silent.is_set():
            self._spawn(self._swallow(reader))
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        self._writers.add(up_writer)
        self._spawn(self._pipe(reader, up_writer))
        self._spawn(self._pipe(up_reader, writer))

    async def _swallow(self, reader: asyncio.StreamReader) -> None:
        while await reader.read(_CHUNK):
            pass  # read and forget: the client's writes never block, it just never hears back

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(_CHUNK):
                if self._silent.is_set():
                    await self._swallow(reader)
                    return
                writer.write(data)
                await writer.drain()
