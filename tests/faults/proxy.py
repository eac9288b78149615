"""A TCP proxy the fault test owns: the services reach the broker and PostgreSQL through it,
and the test cuts those connections (reset) or freezes them (stall) whenever it likes.

It runs its own event loop in a thread, so the test's blocking calls never slow it down.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any

from looptrace_shared.embedded import free_port

CHUNK = 64 * 1024


class _Link:
    """One proxied connection: the client's side and the upstream side."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.sides = (client, upstream)

    def reset(self) -> None:
        """Close both sides with a TCP RST (SO_LINGER 0), as a dropped network would."""
        for writer in self.sides:
            sock = writer.get_extra_info("socket")
            with contextlib.suppress(OSError):
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()


class FaultProxy:
    """Listens on ``port`` and forwards every connection to ``127.0.0.1:upstream_port``."""

    def __init__(self, name: str, upstream_port: int, port: int | None = None) -> None:
        self.name = name
        self.upstream_port = upstream_port
        self.port = port or free_port()
        self.links: set[_Link] = set()
        self.resets = 0
        self.stalls = 0
        self._flowing: asyncio.Event | None = None
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # ---- control, from any thread -------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def reset_all(self) -> int:
        """Reset every open connection now; returns how many were cut."""
        return int(self._call(self._reset()))

    def stall(self, seconds: float) -> None:
        """Forward nothing, in either direction, for ``seconds`` (returns when it resumes)."""
        self._call(self._stall(seconds), timeout=seconds + 10)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # ---- inside the proxy's loop ----------------------------------------------------

    async def _listen(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _reset(self) -> int:
        cut = list(self.links)
        for link in cut:
            link.reset()
        self.links.clear()
        self.resets += 1
        return len(cut)

    async def _stall(self, seconds: float) -> None:
        assert self._flowing is not None
        self._flowing.clear()
        self.stalls += 1
        try:
            await asyncio.sleep(seconds)
        finally:
            self._flowing.set()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._reset()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:  # upstream down (PostgreSQL restarting): the client sees a closed socket
            writer.transport.abort()
            return
        link = _Link(writer, up_writer)
        self.links.add(link)
        await asyncio.gather(
            self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
        )
        self.links.discard(link)
        for w in (writer, up_writer):
            w.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        try:
            while data := await reader.read(CHUNK):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        finally:  # one side closed: close the other, so both ends see it
            writer.transport.abort()
