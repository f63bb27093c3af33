"""``specredis-server``: the asyncio glue between sockets and the engine.

Everything protocol-related is in ``specredis.protocol`` (sans-IO) and everything
command-related in ``specredis.engine``; this module only moves bytes: read,
parse, ``engine.execute`` each request, encode, write the batch of replies once.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import socket
import sys
from typing import Any

from specredis.engine.client import CLIENT_BLOCKED, CLIENT_CLOSE_AFTER_REPLY, Client
from specredis.engine.core import Engine
from specredis.protocol.encoder import encode, encode_into
from specredis.protocol.parser import ProtocolError, QueryBufferLimitExceeded, RequestParser
from specredis.protocol.replies import NO_REPLY
from specredis.startup import StartupError, load_startup_config
from specredis.util.log import log

VERSION = "7.0.15"
# Past this much unsent output the connection stops reading from its client, so a
# client that never reads cannot make the server buffer without bound.
WRITE_HIGH_WATER = 64 * 1024 * 1024


class Connection(asyncio.Protocol):
    """One client connection: the engine's ClientSink."""

    __slots__ = ("server", "engine", "transport", "client", "parser", "backlog", "closing", "reading_paused")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.engine = server.engine
        self.transport: Any = None
        self.client: Client | None = None
        self.backlog: collections.deque | None = None
        self.closing = False
        self.reading_paused = False

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        sock = transport.get_extra_info("socket")
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        fd = -1
        if sock is not None:
            fd = sock.fileno()
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        engine = self.engine
        self.client = client = Client(engine, self, _format_addr(peer), _format_addr(local), fd)
        config = engine.config
        self.parser = RequestParser(config["proto-max-bulk-len"], config["client-query-buffer-limit"])
        self.parser.authenticated = client.authenticated
        if len(engine.clients) >= config["maxclients"]:
            engine.stats.rejected_connections += 1
            transport.write(b"-ERR max number of clients reached\r\n")
            transport.close()
            self.closing = True
            return
        engine.register_client(client)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        if self.client is not None:
            self.engine.unregister_client(self.client)

    def pause_writing(self) -> None:
        self.reading_paused = True
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.reading_paused and not self.closing:
            self.reading_paused = False
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        client = self.client
        client.total_net_input += len(data)
        self.engine.stats.total_net_input_bytes += len(data)
        parser = self.parser
        try:
            parser.feed(data)
        except QueryBufferLimitExceeded:
            log("warning", "Closing client that reached max query buffer length")
            self.close()
            return
        if self.backlog is None:
            self.pump()

    # -- request processing -------------------------------------------------------------

    def pump(self) -> None:
        """Execute every complete request, then write all replies in one go."""
        client = self.client
        parser = self.parser
        execute = self.engine.execute
        out: list[bytes] = []
        while not self.closing:
            try:
                requests = parser.drain()
            except ProtocolError as error:
                out.append(b"-ERR " + error.message.encode() + b"\r\n")
                self._write(out)
                self.close()
                return
            if not requests:
                break
            for index, argv in enumerate(requests):
                reply = execute(client, argv)
                if reply is NO_REPLY:
                    if client.flags & CLIENT_BLOCKED:
                        # Redis stops reading a blocked client's pipeline until it is served.
                        self.backlog = collections.deque(requests[index + 1:])
                        self._write(out)
                        return
                elif client.reply_mode == "on":
                    if client.skip_next_reply:
                        client.skip_next_reply = False
                    else:
                        encode_into(out, reply, client.resp)
                if client.flags & CLIENT_CLOSE_AFTER_REPLY or self.closing:
                    self._write(out)
                    self.close()
                    return
            parser.authenticated = client.authenticated
        self._write(out)

    def _write(self, out: list[bytes]) -> None:
        if out and not self.transport.is_closing():
            data = out[0] if len(out) == 1 else b"".join(out)
            self.client.total_net_output += len(data)
            self.engine.stats.total_net_output_bytes += len(data)
            self.transport.write(data)

    # -- ClientSink ---------------------------------------------------------------------

    def deliver(self, reply: Any) -> None:
        if self.closing or self.transport.is_closing():
            return
        self._write([encode(reply, self.client.resp)])

    def resume(self) -> None:
        """The client was unblocked: run the rest of its pipeline, then keep reading."""
        asyncio.get_running_loop().call_soon(self._resume)

    def _resume(self) -> None:
        backlog = self.backlog
        if backlog is None or self.closing:
            return
        client = self.client
        execute = self.engine.execute
        out: list[bytes] = []
        while backlog:
            argv = backlog.popleft()
            reply = execute(client, argv)
            if reply is NO_REPLY:
                if client.flags & CLIENT_BLOCKED:
                    self._write(out)
                    return
            elif client.reply_mode == "on":
                if client.skip_next_reply:
                    client.skip_next_reply = False
                else:
                    encode_into(out, reply, client.resp)
            if client.flags & CLIENT_CLOSE_AFTER_REPLY:
                self._write(out)
                self.close()
                return
        self.backlog = None
        self._write(out)
        self.pump()

    def close(self, after_reply: bool = False) -> None:
        if after_reply:
            self.client.flags |= CLIENT_CLOSE_AFTER_REPLY
            return
        if not self.closing:
            self.closing = True
            self.transport.close()

    def output_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport else 0


def _format_addr(addr: Any) -> str:
    if not addr:
        return ""
    if isinstance(addr, str):
        return addr
    host, port = addr[0], addr[1]
    return f"{host}:{port}"


class Server:
    """Listening sockets, the cron timer and shutdown for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.listeners: list[Any] = []
        self.stopping: asyncio.Future | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        engine = self.engine
        engine.scheduler = loop
        self.stopping = loop.create_future()
        port = engine.config["port"]
        for host in _bind_hosts(engine.config["bind"]):
            try:
                listener = await loop.create_server(
                    lambda: Connection(self), host, port, backlog=engine.config["tcp-backlog"],
                    reuse_address=True)
            except OSError as error:
                if host.startswith("-"):
                    continue
                if host in ("::", "::1") and error.errno in (97, 99):   # no IPv6 here
                    continue
                raise
            self.listeners.append(listener)
        if not self.listeners and port != 0:
            raise OSError(f"Could not create server TCP listening socket *:{port}")
        engine.extensions["request_shutdown"] = self.request_shutdown
        self._schedule_cron()

    def _schedule_cron(self) -> None:
        hz = max(1, min(500, self.engine.config["hz"] or 1))
        asyncio.get_running_loop().call_later(1.0 / hz, self._cron)

    def _cron(self) -> None:
        try:
            self.engine.cron()
        finally:
            if self.stopping is not None and not self.stopping.done():
                self._schedule_cron()

    def request_shutdown(self, exit_code: int = 0) -> None:
        if self.stopping is not None and not self.stopping.done():
            self.stopping.set_result(exit_code)

    async def serve(self) -> int:
        await self.start()
        log("notice", "Ready to accept connections tcp")
        exit_code = await self.stopping
        for listener in self.listeners:
            listener.close()
        for client in list(self.engine.clients.values()):
            client.sink.close()
        return exit_code


def _bind_hosts(bind: str) -> list[str]:
    hosts = []
    for item in bind.split():
        optional = item.startswith("-")
        host = item.lstrip("-")
        if host == "*":
            host = "0.0.0.0"
        elif host == "::*":
            host = "::"
        hosts.append(("-" if optional else "") + host if optional else host)
    return [h.lstrip("-") if not h.startswith("-") else h for h in hosts]


def run(argv: list[str]) -> int:
    """Parse the command line, build the engine and serve until shutdown."""
    try:
        config, config_file = load_startup_config(argv)
    except StartupError as error:
        sys.stderr.write(str(error))
        return 1
    engine = Engine(config=config)
    engine.extensions["config_file"] = config_file
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass

    async def main_task() -> int:
        server = Server(engine)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda s=sig: _on_signal(engine, server, s))
        return await server.serve()

    log("notice", f"specredis {VERSION} (Redis {VERSION} compatible) starting, pid={os.getpid()}")
    try:
        return asyncio.run(main_task())
    except OSError as error:
        log("warning", f"{error}")
        return 1


def _on_signal(engine: Engine, server: Server, sig: int) -> None:
    name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
    log("warning", f"Received {name} scheduling shutdown...")
    shutdown = engine.extensions.get("shutdown")
    if shutdown is not None:
        shutdown(signal_name=name)
    else:
        server.request_shutdown(0)


def main() -> None:
    """Console entry point."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
