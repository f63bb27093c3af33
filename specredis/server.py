"""``specredis-server``: the asyncio glue between sockets and the engine.

Everything protocol-related is in ``specredis.protocol`` (sans-IO) and everything
command-related in ``specredis.engine``; this module only moves bytes: read,
parse, ``engine.execute`` each request, encode, write the batch of replies once.

A client whose command cannot run yet (a blocking command waiting for data, a
command postponed by CLIENT PAUSE) is *blocked*: the rest of its pipeline waits
in ``Connection.backlog`` and the engine calls ``sink.resume()`` when it may go
on. A blocked state whose ``reprocess`` attribute is true asks for the same
command to be run again on resume (postponed commands never ran).
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import socket
import sys
import time
from typing import Any

from specredis import busy
from specredis.engine.client import (
    CLIENT_BLOCKED,
    CLIENT_CLOSE_AFTER_REPLY,
    CLIENT_CLOSE_ASAP,
    CLIENT_PENDING_PUSH,
    Client,
)
from specredis.engine.clients import protected_mode_denial
from specredis.engine.core import Engine
from specredis.protocol.encoder import encode, encode_into
from specredis.protocol.parser import ProtocolError, QueryBufferLimitExceeded, RequestParser
from specredis.protocol.replies import NO_REPLY, OK, PONG
from specredis.startup import StartupError, load_startup_config
from specredis.util.log import LOGGER, log

VERSION = "7.0.15"
# Past this much unsent output the connection stops reading from its client, so a
# client that never reads cannot make the server buffer without bound.
WRITE_HIGH_WATER = 64 * 1024 * 1024
MAX_CLIENTS_REACHED = b"-ERR max number of clients reached\r\n"
# Long pipelines run this many requests at a time, writing once more than _FLUSH_BYTES wait.
_CHUNK = 64
_FLUSH_BYTES = 256 * 1024
# A connection closing after this reply, or closed already: stop running its requests.
_STOP_FLAGS = CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP
# Flags that send a reply the long way: stopping, or output queued to follow the reply.
_SLOW_FLAGS = _STOP_FLAGS | CLIENT_PENDING_PUSH


class _NotRun:
    """What the C hot loop hands back with a request it did not run (see _run_hot)."""

    __slots__ = ()


_NOT_RUN = _NotRun()


def _load_hot_loop() -> Any:
    """The C hot loop's run(), bound to this module's classes; None when it is not built or is
    turned off (SPECREDIS_PURE_PYTHON=1), and then the pure-Python path does all the work."""
    if os.environ.get("SPECREDIS_PURE_PYTHON"):
        return None
    try:
        from specredis import _hotloop
    except ImportError:
        return None
    from specredis.engine.client import CLIENT_MULTI, CLIENT_PUBSUB
    from specredis.engine.errors import RedisError
    from specredis.protocol.parser import RequestParser

    _hotloop.configure(Client, RequestParser, CLIENT_MULTI | CLIENT_PUBSUB, _SLOW_FLAGS, OK, PONG, NO_REPLY,
                       _NOT_RUN, RedisError, encode_into)
    if hasattr(_hotloop, "configure_fast"):
        # The handlers with a C version of their plain case (INCR, DECR, HSET, SET, PUBLISH,
        # LPUSH, RPUSH).
        from specredis.engine.keyspace import Database
        from specredis.engine.pubsub import publish_command
        from specredis.engine.types import list as lists
        from specredis.engine.types import string
        from specredis.engine.types.hash import HashValue, hset_command

        _hotloop.configure_fast(string.incr_command, string.decr_command, hset_command, Database, HashValue,
                                string.set_command, string._SHARED, string._SHARED_LEN, string._SHARED_MAX,
                                publish_command, lists.lpush_command, lists.rpush_command, lists.ListValue)
    return _hotloop.run


_hot_run = _load_hot_loop()

# While a connection runs its requests: the other connections that output was delivered to
# meanwhile (PUBLISH's messages, keyspace events, invalidations, MONITOR lines), held in
# their Connection.held until the running connection's batch ends and written then, one
# write each, as Redis writes its clients' reply buffers once per event loop iteration
# (beforeSleep) instead of a send() per message.
_held_connections: list[Connection] | None = None


class Connection(asyncio.Protocol):
    """One client connection: the engine's ClientSink."""

    __slots__ = ("server", "engine", "transport", "client", "parser", "backlog", "closing", "reading_paused",
                 "registered", "read_peak", "out", "after_reply_callbacks", "held")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.engine = server.engine
        self.transport: Any = None
        self.client: Client | None = None
        self.backlog: collections.deque | None = None
        self.closing = False
        self.reading_paused = False
        self.registered = False
        self.read_peak = 0
        # The replies being collected while this connection's requests run (None otherwise):
        # out-of-band output for this client joins them, in order (deliver, after_reply).
        self.out: list[bytes] | None = None
        self.after_reply_callbacks: list | None = None
        # Output delivered while another connection's requests ran, not written yet (see
        # _held_connections); always written before anything else this connection writes.
        self.held: list[bytes] | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        if self.client is not None:
            # Accepted while a script was busy (specredis/busy.py): the loop takes the socket over.
            self._adopt_transport(transport)
            return
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
            self._refuse(MAX_CLIENTS_REACHED)
            return
        denial = protected_mode_denial(engine, peer[0] if isinstance(peer, tuple) else "")
        if denial is not None:
            engine.stats.total_connections_received += 1
            self._refuse(denial)
            return
        engine.register_client(client)
        self.registered = True

    def _adopt_transport(self, transport: Any) -> None:
        unsent = bytes(getattr(self.transport, "pending", b""))
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        if unsent:
            transport.write(unsent)
        if self.backlog is None and not self.closing:
            self.pump()

    def _refuse(self, reply: bytes) -> None:
        self.engine.stats.rejected_connections += 1
        self.transport.write(reply)
        self.transport.close()
        self.closing = True

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self._unregister()

    def _unregister(self) -> None:
        if self.registered:
            self.registered = False
            self.engine.unregister_client(self.client)

    def pause_writing(self) -> None:
        self.reading_paused = True
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.reading_paused and not self.closing:
            self.reading_paused = False
            self.transport.resume_reading()
            if self.backlog is not None:
                self._resume()      # requests held back while the output was over the mark

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        client = self.client
        size = len(data)
        client.total_net_input += size
        engine = self.engine
        engine.stats.total_net_input_bytes += size
        client.last_interaction_ms = engine.clock()
        if size > self.read_peak:
            self.read_peak = size
        try:
            self.parser.feed(data)
        except QueryBufferLimitExceeded:
            log("warning", "Closing client that reached max query buffer length")
            self.close()
            return
        if self.backlog is None:
            self.pump()

    # -- request processing -------------------------------------------------------------

    def pump(self) -> None:
        """Execute every complete request, then write all replies in one go."""
        global _held_connections
        outermost = _held_connections is None
        if outermost:
            _held_connections = []
        out: list[bytes] = []
        self.out = out
        try:
            self._pump(out)
        finally:
            self.out = None
            if outermost:
                _write_held()

    def _pump(self, out: list[bytes]) -> None:
        parser = self.parser
        while True:
            if _hot_run is not None and parser.hot_ready():
                if not self._run_hot(out):
                    break
                if not parser.pending_bytes():
                    break       # the hot loop took everything: nothing for the parser
            try:
                requests = parser.drain()
            except ProtocolError as error:
                out.append(error.reply)
                self._write(out)
                self.close()
                return
            if not requests or not self._run(requests, out):
                break
            parser.authenticated = self.client.authenticated
        self._write(out)

    def _run(self, requests: list[list[bytes]], out: list[bytes]) -> bool:
        """Run ``requests`` in order, encoding replies into ``out``.

        False when processing must stop: the client blocked, or its unsent output passed
        the high-water mark (the rest of the requests waits in the backlog), or the
        connection is closing."""
        if len(requests) <= _CHUNK:
            return self._run_batch(requests, out)
        # A long pipeline runs in chunks, its replies written as they come, so that a
        # client that does not read cannot make the server hold every reply at once.
        for start in range(0, len(requests), _CHUNK):
            chunk = requests[start:start + _CHUNK]
            if not self._run_batch(chunk, out):
                if self.backlog is not None:
                    self.backlog.extend(requests[start + _CHUNK:])
                return False
            if sum(map(len, out)) > _FLUSH_BYTES:
                self._write(out)
                out.clear()
                if self.reading_paused and start + _CHUNK < len(requests):
                    # Over the high-water mark: wait for resume_writing().
                    self.backlog = collections.deque(requests[start + _CHUNK:])
                    return False
        return True

    def _run_hot(self, out: list[bytes]) -> bool:
        """Run requests through the C hot loop (specredis/_hotloop.c) while it takes them.

        The requests it hands back -- not for the hot path, or with a reply that needs this
        class's handling -- go the long way one at a time, and the loop goes on after them.
        Returns False when processing must stop (as :meth:`_run`); True once the rest of
        the buffer is for the parser (a frame that is not canonical or not complete)."""
        parser = self.parser
        engine = self.engine
        client = self.client
        table = engine.hot_command_table()
        while parser.hot_ready():
            _, argv, reply = _hot_run(parser, engine, client, table, out)
            if argv is None:
                if sum(map(len, out)) <= _FLUSH_BYTES:
                    break
                # Much output: write it, and wait if the client does not read it.
                self._write(out)
                out.clear()
                if self.reading_paused:
                    self.backlog = collections.deque()     # resume_writing() goes on from the parser
                    return False
                continue
            if reply is _NOT_RUN:
                if not self._run_batch([argv], out):
                    return False
            elif not self._finish_reply([argv], argv, reply, out):
                return False
            parser.authenticated = client.authenticated
        parser.settle()
        return True

    def _run_batch(self, requests: list[list[bytes]], out: list[bytes]) -> bool:
        client = self.client
        execute = self.engine.execute
        for argv in requests:
            reply = execute(client, argv)
            # One test for the common case; blocked clients, CLIENT REPLY, closing and output
            # waiting for the reply go the long way.
            if reply is NO_REPLY or client.flags & _SLOW_FLAGS or client.skip_next_reply \
                    or client.reply_mode != "on":
                if not self._finish_reply(requests, argv, reply, out):
                    return False
            else:
                encode_into(out, reply, client.resp)
        return True

    def _finish_reply(self, requests: list[list[bytes]], argv: list[bytes], reply: Any, out: list[bytes]) -> bool:
        """The long way for the reply of ``argv`` (one of ``requests``): blocked clients, CLIENT
        REPLY, closing, output waiting for the reply. False when processing must stop."""
        client = self.client
        if reply is NO_REPLY:
            if client.flags & CLIENT_BLOCKED:
                if client.flags & CLIENT_PENDING_PUSH:
                    self._run_after_reply()
                # Redis stops reading a blocked client's pipeline until it is served.
                index = next(i for i, request in enumerate(requests) if request is argv)
                if not getattr(client.blocked, "reprocess", False):
                    index += 1
                self.backlog = collections.deque(requests[index:])
                return False
        elif client.reply_mode == "on":
            if client.skip_next_reply:
                client.skip_next_reply = False
            else:
                encode_into(out, reply, client.resp)
        if client.flags & CLIENT_PENDING_PUSH:
            self._run_after_reply()
        if client.flags & _STOP_FLAGS:
            self._write(out)
            out.clear()
            self.close()
            return False
        return True

    def _write(self, out: list[bytes]) -> None:
        held = self.held
        if held is not None:
            self.held = None
            out[:0] = held
        if out and not self.transport.is_closing():
            # What these replies acknowledge reaches the AOF first (and with appendfsync always,
            # the disk), as Redis writes its AOF buffer in beforeSleep before sending replies.
            flush_aof = self.engine.extensions.get("before_reply_flush")
            if flush_aof is not None:
                flush_aof()
            data = out[0] if len(out) == 1 else b"".join(out)
            self.client.total_net_output += len(data)
            self.engine.stats.total_net_output_bytes += len(data)
            self.transport.write(data)
            if self.transport.get_write_buffer_size():
                # Unsent output: the client-output-buffer-limit check (engine/pubsub.py).
                check = self.engine.extensions.get("output_limits")
                if check is not None:
                    check(self.client)

    # -- ClientSink ---------------------------------------------------------------------

    def deliver(self, reply: Any) -> None:
        if self.closing or self.transport.is_closing():
            return
        out = self.out
        if out is not None:
            # This client's own requests are running: keep the order of its output.
            encode_into(out, reply, self.client.resp)
            return
        held = self.held
        if held is None and _held_connections is not None and self.engine.busy_script is None \
                and not self.transport.get_write_buffer_size():
            # Another connection's requests are running: written when they are done. (Not
            # when this client's output is backed up already: written, and its output limits
            # checked, at once. Not while a script is busy: busy.py serves clients meanwhile.)
            self.held = held = []
            _held_connections.append(self)
        if held is not None:
            encode_into(held, reply, self.client.resp)
            return
        self._write([encode(reply, self.client.resp)])

    def after_reply(self, callback: Any) -> None:
        """Run ``callback`` once the reply of the command this client is running has been
        queued (client tracking's invalidations of keys the client itself changed); at once
        when none is running."""
        if self.out is None:
            callback()
            return
        if self.after_reply_callbacks is None:
            self.after_reply_callbacks = []
        self.after_reply_callbacks.append(callback)
        self.client.flags |= CLIENT_PENDING_PUSH

    def _run_after_reply(self) -> None:
        self.client.flags &= ~CLIENT_PENDING_PUSH
        callbacks, self.after_reply_callbacks = self.after_reply_callbacks or [], None
        for callback in callbacks:
            callback()

    def resume(self) -> None:
        """The client was unblocked: run the rest of its pipeline, then keep reading."""
        asyncio.get_running_loop().call_soon(self._resume)

    def _resume(self) -> None:
        backlog = self.backlog
        if backlog is None or self.closing:
            return
        client = self.client
        if client.flags & CLIENT_BLOCKED:
            return      # blocked again before this callback ran
        self.backlog = None
        global _held_connections
        outermost = _held_connections is None
        if outermost:
            _held_connections = []
        out: list[bytes] = []
        self.out = out
        try:
            done = self._run(list(backlog), out)
            if done:
                self.parser.authenticated = client.authenticated
            self._write(out)
        finally:
            self.out = None
            if outermost:
                _write_held()
        if done:
            self.pump()

    def close(self, after_reply: bool = False) -> None:
        if after_reply:
            self.client.flags |= CLIENT_CLOSE_AFTER_REPLY
            return
        if not self.closing:
            if self.held is not None:
                self._write([])     # output delivered before the close goes out, as before
            self.closing = True
            self.client.flags |= CLIENT_CLOSE_ASAP
            self.transport.close()
        # Gone for the engine at once (CLIENT KILL then CLIENT LIST must not show it).
        self._unregister()

    def abort(self) -> None:
        """Drop the connection and its unsent output at once (output buffer limits); the engine
        forgets the client when the transport reports the loss."""
        if not self.closing:
            self.held = None
            self.closing = True
            self.client.flags |= CLIENT_CLOSE_ASAP
            # (A socket accepted while a script was busy has a shim transport without abort.)
            getattr(self.transport, "abort", self.transport.close)()

    def output_buffer_size(self) -> int:
        held = sum(map(len, self.held)) if self.held is not None else 0
        return held + (self.transport.get_write_buffer_size() if self.transport else 0)

    def input_buffer_size(self) -> int:
        """Bytes received and not parsed yet (CLIENT LIST qbuf)."""
        return self.parser.pending_bytes()


def _write_held() -> None:
    """Write the output held for other connections while a connection's requests ran."""
    global _held_connections
    held, _held_connections = _held_connections, None
    for connection in held or ():
        if connection.held is not None:
            connection._write([])


def _format_addr(addr: Any) -> str:
    """``ip:port`` as Redis prints peers (IPv6 in brackets), or a unix socket path."""
    if not addr:
        return ""
    if isinstance(addr, str):
        return addr
    host, port = addr[0], addr[1]
    if ":" in host:
        return f"[{host}]:{port}"
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
        for item in engine.config["bind"].split():
            optional = item.startswith("-")
            shown = item.lstrip("-")
            host = {"*": "0.0.0.0", "::*": "::"}.get(shown, shown)
            try:
                listener = await loop.create_server(
                    lambda: Connection(self), host, port, backlog=engine.config["tcp-backlog"],
                    reuse_address=True)
            except OSError as error:
                if optional or (host in ("::", "::1") and error.errno in (97, 99)):   # no IPv6 here
                    continue
                log("warning", f"Warning: Could not create server TCP listening socket {shown}:{port}: bind: "
                               f"{error.strerror}")
                raise OSError(f"Failed listening on port {port} (TCP), aborting.") from error
            self.listeners.append(listener)
        if not self.listeners and port != 0:
            raise OSError(f"Failed listening on port {port} (TCP), aborting.")
        engine.extensions["request_shutdown"] = self.request_shutdown
        busy.install(self)
        self._schedule_cron()

    def _schedule_cron(self) -> None:
        hz = max(1, min(500, self.engine.config["hz"] or 1))
        asyncio.get_running_loop().call_later(1.0 / hz, self._cron)

    def _cron(self) -> None:
        try:
            if not self.engine.extensions.get("cron_paused"):
                self.engine.cron()
        finally:
            if self.stopping is not None and not self.stopping.done():
                self._schedule_cron()

    def request_shutdown(self, exit_code: int = 0) -> None:
        if self.stopping is not None and not self.stopping.done():
            self.stopping.set_result(exit_code)

    async def serve(self) -> int:
        await self.start()
        log("notice", "Server initialized")
        # Load the dataset (RDB or AOF) with the listeners up: clients that connect meanwhile get
        # -LOADING, as in Redis. A file that does not load stops the server (exit status 1).
        load = self.engine.extensions.get("load_data_from_disk")
        if load is not None and not load():
            for listener in self.listeners:
                listener.close()
            return 1
        log("notice", "Ready to accept connections")
        exit_code = await self.stopping
        for listener in self.listeners:
            listener.close()
        for client in list(self.engine.clients.values()):
            client.sink.close()
        return exit_code


def _log_from_signal_handler(message: str) -> None:
    # Redis's serverLogFromHandler format: "pid:signal-handler (unixtime) message".
    try:
        LOGGER.stream.write(f"{os.getpid()}:signal-handler ({int(time.time())}) {message}\n")
        LOGGER.stream.flush()
    except (OSError, ValueError):
        pass


def _write_pidfile(path: str) -> None:
    try:
        with open(path, "w") as handle:
            handle.write(f"{os.getpid()}\n")
    except OSError as error:
        log("warning", f"Failed to write PID file: {error.strerror}")


def run(argv: list[str]) -> int:
    """Parse the command line, build the engine and serve until shutdown."""
    try:
        config, config_file = load_startup_config(argv)
    except StartupError as error:
        if error.config is not None:
            # Found after reading the configuration (a module that does not load): Redis
            # reports it in its log, wherever the configuration sends the log.
            LOGGER.configure(error.config["loglevel"], error.config["logfile"])
            for message in error.warnings:
                log("warning", message)
        else:
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
            loop.add_signal_handler(sig, lambda s=sig: _on_signal(engine, s))
        return await server.serve()

    log("notice", f"specredis {VERSION} (Redis {VERSION} compatible) starting, pid={os.getpid()}")
    if config["pidfile"]:
        _write_pidfile(config["pidfile"])
    try:
        return asyncio.run(main_task())
    except OSError as error:
        log("warning", f"{error}")
        return 1


def _on_signal(engine: Engine, sig: int) -> None:
    """SIGTERM/SIGINT: a clean shutdown (as SHUTDOWN would), or exit at once on a second SIGINT."""
    name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
    if engine.shutdown_requested is not None and sig == signal.SIGINT:
        _log_from_signal_handler("You insist... exiting now.")
        os._exit(1)
    _log_from_signal_handler(f"Received {name} scheduling shutdown...")
    engine.shutdown_requested = sig
    if not engine.extensions["shutdown"](flags=0, signal_name=name):
        engine.shutdown_requested = None
        log("warning", f"{name} received but errors trying to shut down the server, check the logs for more "
                       "information")


def main() -> None:
    """Console entry point."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
