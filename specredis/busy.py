"""Serving other clients while a script is busy (Redis's processEventsWhileBlocked).

A Lua script runs inside one asyncio callback, so the event loop is blocked for as long
as it runs. Past ``busy-reply-threshold`` the script's instruction hook
(``engine/scripting.py``) calls ``engine.extensions["process_events_while_blocked"]``,
which is :class:`BusyEventPump`: without the event loop, it polls the listening sockets
and the client sockets with ``select`` (no waiting), reads what clients sent and feeds
it to their connections as the loop would. Their commands then meet the dispatcher's
busy gate (BUSY replies), or run if they may (SCRIPT KILL, FUNCTION KILL, SHUTDOWN
NOSAVE...). Replies are written at once through the transports.

New connections are accepted too (``redis-cli script kill`` opens one): the socket is
served through a small blocking-free transport of its own until the loop runs again,
then handed to the loop with ``connect_accepted_socket``; the connection keeps its
client and whatever the script's end left unsent.

The client running the script is never read from: its next requests wait for the
script's reply, as Redis protects the script's caller.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
import sys
from typing import TYPE_CHECKING, Any

from specredis.util.log import log

if TYPE_CHECKING:
    from specredis.engine.client import Client
    from specredis.server import Server

READ_SIZE = 64 * 1024


class ShimTransport:
    """A transport for a socket accepted while the loop is blocked: direct non-blocking sends."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending = bytearray()
        self.closed = False
        self.eof = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        try:
            if name == "socket":
                return self.sock
            if name == "peername":
                return self.sock.getpeername()
            if name == "sockname":
                return self.sock.getsockname()
        except OSError:
            return default
        return default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        self.pending += data
        self.flush()

    def flush(self) -> None:
        while self.pending and not self.closed:
            try:
                sent = self.sock.send(self.pending)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.closed = True
                return
            del self.pending[:sent]

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.flush()
            self.closed = True

    def get_write_buffer_size(self) -> int:
        return len(self.pending)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class DirectWriter:
    """Wraps a loop-owned transport while the loop is blocked: its writes would wait for the
    loop, so they go to the socket directly (only while nothing is queued before them)."""

    def __init__(self, transport: Any, fd: int) -> None:
        self.transport = transport
        self.fd = fd
        self.queued = False

    def write(self, data: bytes) -> None:
        if not self.queued and not self.transport.is_closing() and self.transport.get_write_buffer_size() == 0:
            try:
                sent = os.write(self.fd, data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                return
            data = data[sent:]
        if data:
            self.queued = True          # everything after it must queue too, to keep the order
            self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class BusyEventPump:
    """``engine.extensions["process_events_while_blocked"]`` for one server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.shims: list[tuple[Any, socket.socket, ShimTransport]] = []
        self.eof: set[int] = set()
        self.adoption_scheduled = False
        self._listen: dict[int, socket.socket] = {}

    def _listening_sockets(self) -> dict[int, socket.socket]:
        if not self._listen:
            for listener in self.server.listeners:
                for sock in listener.sockets or ():
                    fd = sock.fileno()
                    # A socket object of our own on a duplicate of the loop's listening descriptor.
                    own = socket.socket(fileno=os.dup(fd))
                    own.setblocking(False)
                    self._listen[fd] = own
        return self._listen

    def _connection_class(self) -> Any:
        # The server's own class: under ``python -m specredis.server`` that module is __main__.
        return sys.modules[type(self.server).__module__].Connection

    def __call__(self, running: Client) -> None:
        Connection = self._connection_class()  # noqa: N806 - a class
        server = self.server
        engine = server.engine
        connections: dict[int, Any] = {}
        live: set[int] = set()
        for client in list(engine.clients.values()):
            conn = client.sink
            if client is running or not isinstance(conn, Connection) or conn.closing or conn.reading_paused:
                continue
            live.add(client.fd)
            if client.fd < 0 or client.fd in self.eof:
                continue
            connections[client.fd] = conn
        self.eof &= live
        listening = self._listening_sockets()
        try:
            readable, _, _ = select.select(list(connections) + list(listening), [], [], 0)
        except (OSError, ValueError):
            return
        for fd in readable:
            if fd in listening:
                self._accept(listening[fd])
                continue
            conn = connections[fd]
            try:
                data = os.read(fd, READ_SIZE)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                # The peer closed: the loop notices when it runs again.
                self.eof.add(fd)
                shim = conn.transport
                if isinstance(shim, ShimTransport):
                    shim.eof = True
                continue
            transport = conn.transport
            if not isinstance(transport, ShimTransport):
                conn.transport = DirectWriter(transport, fd)
            try:
                conn.data_received(data)
            finally:
                if conn.transport.__class__ is DirectWriter:
                    conn.transport = transport
        for _, _, shim in self.shims:
            shim.flush()
        stopping = server.stopping
        if stopping is not None and stopping.done():
            # SHUTDOWN NOSAVE while the script runs: Redis exits from right here.
            for _, _, shim in self.shims:
                shim.flush()
            sys.stdout.flush()
            os._exit(stopping.result() or 0)

    def _accept(self, listener: socket.socket) -> None:
        Connection = self._connection_class()  # noqa: N806 - a class
        while True:
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                log("warning", f"Accepting client connection: {error}")
                return
            sock.setblocking(False)
            shim = ShimTransport(sock)
            conn = Connection(self.server)
            conn.connection_made(shim)
            self.shims.append((conn, sock, shim))
            if not self.adoption_scheduled:
                self.adoption_scheduled = True
                asyncio.get_event_loop().call_soon(self._adopt_all)

    def _adopt_all(self) -> None:
        """The loop runs again: hand the sockets accepted meanwhile over to it."""
        self.adoption_scheduled = False
        self.eof.clear()
        shims, self.shims = self.shims, []
        loop = asyncio.get_event_loop()
        for conn, sock, shim in shims:
            if shim.closed or shim.eof or conn.closing:
                conn.connection_lost(None)
                sock.close()
                continue
            loop.create_task(self._adopt(loop, conn, sock))

    @staticmethod
    async def _adopt(loop: asyncio.AbstractEventLoop, conn: Any, sock: socket.socket) -> None:
        try:
            await loop.connect_accepted_socket(lambda: conn, sock)
        except OSError:
            conn.connection_lost(None)
            sock.close()


def install(server: Server) -> None:
    """Let busy scripts serve this server's clients."""
    server.engine.extensions["process_events_while_blocked"] = BusyEventPump(server)
