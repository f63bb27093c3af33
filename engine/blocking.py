"""Clients blocked on keys: BLPOP and friends, BZPOPMIN and friends, XREAD BLOCK.

The machinery is generic. A blocking command that finds nothing to serve calls
:func:`block_for_keys` with the keys to wait on, a deadline and a *serve*
callback, and returns what that returns (``NO_REPLY``). From then on:

* every write that may make a key servable calls ``db.signal_ready(key)``
  (``signalKeyAsReady``); after each top-level command the engine runs
  :meth:`BlockingState.handle_ready_keys`, which offers each ready key to the
  clients waiting on it, first come first served (FIFO per key);
* ``serve(key)`` runs as the blocked client: it looks the key up, and either
  returns ``None`` (nothing for me here: keep waiting, e.g. the key is missing or
  of another type) or performs the write with all its effects (dirty, keyspace
  events, signal_modified, propagation through :func:`propagate`) and returns
  the reply, or raises ``RedisError`` (the client gets the error and is unblocked);
* when the deadline passes, or CLIENT UNBLOCK says so, the client gets its
  ``timeout_reply`` (``NULL_ARRAY`` for BLPOP: ``*-1`` in RESP2, ``_`` in RESP3);
  ``CLIENT UNBLOCK id ERROR`` sends ``-UNBLOCKED client unblocked via CLIENT UNBLOCK``.

Commands run inside MULTI/EXEC (and scripts) must not block: they check
:func:`may_block` first and answer as if the timeout had expired. Writes inside
a transaction wake waiters only after EXEC completes, because EXEC holds
:meth:`BlockingState.suspend` while its commands run.

This mirrors Redis 7.0's blocked.c: a key deleted, or overwritten with a value of
another type, leaves its waiters blocked (the serve callback declines); a key
created by RENAME, MOVE, SWAPDB or a push is signalled and served.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from specredis.engine.args import LLONG_MAX, LLONG_MIN, parse_int, string_to_long_double
from specredis.engine.client import CLIENT_BLOCKED, CLIENT_MULTI, CLIENT_PUBSUB, CLIENT_SCRIPT, Client
from specredis.engine.errors import TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT, RedisError, subcommand_syntax_error
from specredis.protocol.replies import NO_REPLY

if TYPE_CHECKING:
    from specredis.engine.core import Engine
    from specredis.engine.keyspace import Database

UNBLOCKED_ERROR = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

ServeCallback = Callable[[bytes], Any]


# -- timeouts -------------------------------------------------------------------------------

def parse_timeout_seconds(raw: bytes, now_ms: int) -> int:
    """The absolute deadline (unix ms) of a blocking timeout given in seconds; 0 means forever.

    Redis's getTimeoutFromObjectOrReply with UNIT_SECONDS: the argument is a long double
    (strtold rules), converted to whole milliseconds by C truncation. A product outside
    the 64-bit range converts to LLONG_MIN on x86-64, hence 'negative' for ``inf`` or
    ``1e400``; a timeout under a millisecond truncates to 0 and blocks forever."""
    value = string_to_long_double(raw)
    if value is None:
        raise RedisError(TIMEOUT_NOT_FLOAT)
    if isinstance(value, float):             # ±inf
        millis = LLONG_MIN
    else:
        scaled = value * 1000
        millis = math.trunc(scaled)
        if millis > LLONG_MAX or millis < LLONG_MIN:
            millis = LLONG_MIN
    if millis < 0:
        raise RedisError(TIMEOUT_NEGATIVE)
    if millis > 0:
        if millis > LLONG_MAX - now_ms:
            raise RedisError("ERR timeout is out of range")
        return now_ms + millis
    return 0


def may_block(client: Client) -> bool:
    """False inside MULTI/EXEC and scripts (CLIENT_DENY_BLOCKING): answer as on timeout instead."""
    return not client.flags & (CLIENT_MULTI | CLIENT_SCRIPT)


# -- the blocked state ----------------------------------------------------------------------

class BlockedOnKeys:
    """``client.blocked`` while the client waits on keys (Redis's ``c->bpop``)."""

    __slots__ = ("client", "db", "keys", "deadline_ms", "serve", "timeout_reply", "timer", "command")
    kind = "keys"
    reprocess = False       # served by the callback, not by running the command again

    def __init__(self, client: Client, keys: list[bytes], deadline_ms: int, serve: ServeCallback,
                 timeout_reply: Any) -> None:
        self.client = client
        self.db: Database = client.db
        self.keys = keys
        self.deadline_ms = deadline_ms
        self.serve = serve
        self.timeout_reply = timeout_reply
        self.timer: Any = None
        self.command = client.current_command

    def client_unblock(self, error: bool) -> None:
        """CLIENT UNBLOCK: end the wait with the timeout reply, or with the UNBLOCKED error."""
        state: BlockingState = self.client.engine.extensions["blocking"]
        if error:
            reply = self.client.engine.error_reply(RedisError(UNBLOCKED_ERROR))
        else:
            reply = self.timeout_reply
        state.unblock(self.client, reply)


class BlockingState:
    """Per-engine bookkeeping: who waits on what, timers, and serving ready keys."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.blocked_count = 0          # clients blocked on keys (INFO clients blocked_clients)
        self.with_timeout = 0           # of which have a deadline (clients_in_timeout_table)
        self.suspended = 0              # >0 while EXEC or a script runs: wake-ups wait for its end
        self.serving = False

    # -- blocking ---------------------------------------------------------------------------

    def block(self, client: Client, keys: Iterable[bytes], deadline_ms: int, serve: ServeCallback,
              timeout_reply: Any) -> Any:
        """Block ``client`` on ``keys`` of its current database; returns ``NO_REPLY``."""
        unique = list(dict.fromkeys(keys))
        blocked = BlockedOnKeys(client, unique, deadline_ms, serve, timeout_reply)
        waiting = blocked.db.blocking_keys
        for key in unique:
            queue = waiting.get(key)
            if queue is None:
                waiting[key] = queue = {}
            queue[blocked] = None
        client.blocked = blocked
        client.flags |= CLIENT_BLOCKED
        self.blocked_count += 1
        if deadline_ms:
            self.with_timeout += 1
            delay_ms = max(0, deadline_ms - self.engine.now_ms())
            blocked.timer = self.engine.scheduler.call_later(delay_ms / 1000.0,
                                                             lambda: self._on_timeout(blocked))
        return NO_REPLY

    def _detach(self, blocked: BlockedOnKeys) -> None:
        """Forget the client's wait: its place in every key's queue, its timer, its flags."""
        waiting = blocked.db.blocking_keys
        for key in blocked.keys:
            queue = waiting.get(key)
            if queue is not None:
                queue.pop(blocked, None)
                if not queue:
                    del waiting[key]
        if blocked.timer is not None:
            blocked.timer.cancel()
            blocked.timer = None
        if blocked.deadline_ms:
            self.with_timeout -= 1
        self.blocked_count -= 1
        client = blocked.client
        client.blocked = None
        client.flags &= ~CLIENT_BLOCKED

    def unblock(self, client: Client, reply: Any) -> None:
        """End the client's wait with ``reply`` and let it go on with its pipeline."""
        blocked = client.blocked
        if not isinstance(blocked, BlockedOnKeys):
            return
        self._detach(blocked)
        client.sink.deliver(reply)
        client.sink.resume()

    def _on_timeout(self, blocked: BlockedOnKeys) -> None:
        blocked.timer = None
        if blocked.client.blocked is blocked:
            self.unblock(blocked.client, blocked.timeout_reply)

    def client_closed(self, client: Client) -> None:
        """A blocked client disconnected: drop it from the queues without a reply."""
        if isinstance(client.blocked, BlockedOnKeys):
            self._detach(client.blocked)

    # -- serving ----------------------------------------------------------------------------

    @contextmanager
    def suspend(self):
        """Hold wake-ups while a transaction or script runs (they happen after it, as in Redis)."""
        self.suspended += 1
        try:
            yield
        finally:
            self.suspended -= 1

    def handle_ready_keys(self) -> None:
        """Serve clients blocked on keys that were signalled ready (handleClientsBlockedOnKeys).

        Serving may make more keys ready (BLMOVE pushes to its destination), so this loops
        until no key is left."""
        if self.suspended or self.serving:
            return
        engine = self.engine
        self.serving = True
        try:
            while engine.ready_keys:
                ready, engine.ready_keys = engine.ready_keys, []
                seen: set[tuple[int, bytes]] = set()
                for db, key in ready:
                    if (db.id, key) in seen:
                        continue
                    seen.add((db.id, key))
                    self._serve_key(db, key)
        finally:
            self.serving = False
            # A serving that found a key expired and then propagated nothing left its DEL.
            engine.flush_propagation()

    def _serve_key(self, db: Database, key: bytes) -> None:
        queue = db.blocking_keys.get(key)
        if not queue:
            return
        engine = self.engine
        # FIFO: the clients that were waiting when the key became ready, oldest first.
        for blocked in list(queue):
            client = blocked.client
            if client.blocked is not blocked:
                continue
            if db.data.get(key) is None and not getattr(blocked.serve, "serves_missing_keys", False):
                # Nothing left (or never was) for this waiter. A serve callback with
                # ``serves_missing_keys`` is called anyway: 7.0 answers a blocked XREADGROUP
                # whose stream was deleted with -UNBLOCKED.
                continue
            after = None
            serve_start_ns = time.perf_counter_ns()
            try:
                if client.flags & CLIENT_PUBSUB and client.resp == 3 and "serve_placed" in engine.extensions:
                    # A RESP3 subscriber may hear its own events: engine/notify.py places them
                    # around (or inside) the reply as the command would have.
                    reply, after = engine.extensions["serve_placed"](client, blocked.serve, key)
                else:
                    reply = blocked.serve(key)
            except RedisError as error:
                reply = engine.error_reply(error)
            if reply is not None:
                _time_served_command(blocked, serve_start_ns)
                self.unblock(client, reply)
            if after is not None:
                after()

    def stats(self) -> dict[str, int]:
        """The INFO clients fields this module knows."""
        return {"blocked_clients": self.blocked_count, "clients_in_timeout_table": self.with_timeout}


def _time_served_command(blocked: BlockedOnKeys, serve_start_ns: int) -> None:
    """Count the served command in its latency histogram (LATENCY HISTOGRAM, INFO latencystats):
    call() left it out when the command blocked, as Redis counts it once served."""
    latency = blocked.command.latency_us if blocked.command is not None else None
    if latency is not None:
        elapsed_us = (time.perf_counter_ns() - serve_start_ns) // 1000
        latency[elapsed_us] = latency.get(elapsed_us, 0) + 1


# -- the API for blocking commands ----------------------------------------------------------

def block_for_keys(client: Client, keys: Iterable[bytes], deadline_ms: int, serve: ServeCallback,
                   timeout_reply: Any) -> Any:
    """Block ``client`` until ``serve(key)`` serves it or ``deadline_ms`` (unix ms; 0 = never) passes.

    Return its result from the command handler (it is ``NO_REPLY``). ``timeout_reply`` is
    what the client gets on timeout or CLIENT UNBLOCK TIMEOUT, already in its final form
    (Redis's null array: ``NULL_ARRAY``)."""
    return client.engine.extensions["blocking"].block(client, keys, deadline_ms, serve, timeout_reply)


def propagate(engine: Engine, dbid: int, argv: list[bytes]) -> None:
    """Propagate a write done while serving a blocked client (outside any command's call),
    with the DELs of keys the serving found expired before it (MULTI ... EXEC, as Redis)."""
    if engine.propagation_consumers:
        engine.propagate_now(dbid, argv)


def suspend_serving(engine: Engine):
    """Context manager: wake no blocked client until the block ends (EXEC, scripts)."""
    return engine.extensions["blocking"].suspend()


# -- CLIENT UNBLOCK -------------------------------------------------------------------------

def client_unblock_command(client: Client, argv: list[bytes]) -> object:
    """CLIENT UNBLOCK client-id [TIMEOUT|ERROR]"""
    client_id = parse_int(argv[2])
    error = False
    if len(argv) == 4:
        reason = argv[3].lower()
        if reason == b"error":
            error = True
        elif reason != b"timeout":
            raise RedisError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    elif len(argv) > 4:
        raise subcommand_syntax_error(argv)
    target = client.engine.clients.get(client_id)
    unblock = getattr(target.blocked, "client_unblock", None) if target is not None else None
    if unblock is None:
        # Not blocked, or waiting for something CLIENT UNBLOCK does not end (CLIENT PAUSE).
        return 0
    unblock(error)
    return 1


def install(engine: Engine) -> None:
    """Create the engine's blocking state and hook it into the dispatcher."""
    state = BlockingState(engine)
    engine.extensions["blocking"] = state
    engine.handle_ready_keys = state.handle_ready_keys
    engine.extensions.setdefault("client_closed_hooks", []).append(state.client_closed)


__all__ = [
    "BlockedOnKeys", "BlockingState", "UNBLOCKED_ERROR", "block_for_keys",
    "client_unblock_command", "may_block", "parse_timeout_seconds", "propagate", "suspend_serving",
]
