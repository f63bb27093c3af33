"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis's multi.c).

Queueing is done by the dispatcher's last gate, which calls
``engine.extensions["multi_queue"]``; a command refused before it could be
queued (unknown, wrong arity, a gate's error) calls
``engine.extensions["multi_flag_error"]`` and EXEC then fails with EXECABORT.
Errors raised while EXEC runs a command are that command's reply only.

WATCH keeps, per watched (db, key), the clients watching it. Any modification
signalled by ``Database.signal_modified`` (writes, expiry, eviction), FLUSHDB/
FLUSHALL of a database holding the key, and SWAPDB bringing in or taking away
the key, mark the watchers CLIENT_DIRTY_CAS and EXEC answers a null array.
A key that was already logically expired when watched counts as absent: its
deletion is no change (Redis 7.0's ``watchedKey.expired``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specredis.engine.blocking import suspend_serving
from specredis.engine.client import CLIENT_DIRTY_CAS, CLIENT_DIRTY_EXEC, CLIENT_MULTI, CLIENT_PUBSUB, Client
from specredis.engine.command import CommandDef
from specredis.engine.errors import (
    DISCARD_WITHOUT_MULTI,
    EXEC_WITHOUT_MULTI,
    EXECABORT,
    MULTI_NESTED,
    WATCH_INSIDE_MULTI,
    RedisError,
)
from specredis.protocol.encoder import encode
from specredis.protocol.replies import NULL_ARRAY, OK, QUEUED, Raw

if TYPE_CHECKING:
    from specredis.engine.core import Engine
    from specredis.engine.keyspace import Database


class WatchedKey:
    """One key a client watches; ``expired`` if it was logically expired when watched."""

    __slots__ = ("db", "key", "expired")

    def __init__(self, db: Database, key: bytes, expired: bool) -> None:
        self.db = db
        self.key = key
        self.expired = expired


def _is_expired(db: Database, key: bytes) -> bool:
    """keyIsExpired: the key has a deadline that has passed (whether or not it was deleted yet)."""
    when = db.expires.get(key)
    return when is not None and when <= db.engine.now_ms()


class WatchRegistry:
    """Who watches what. Its keyspace hooks are installed only while some key is watched."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # (db id, key) -> {client: WatchedKey}
        self.watchers: dict[tuple[int, bytes], dict[Client, WatchedKey]] = {}
        self.hooked = False

    def watch(self, client: Client, db: Database, key: bytes) -> None:
        watched = client.watched_keys
        if watched is None:
            watched = client.watched_keys = []
        for wk in watched:
            if wk.db is db and wk.key == key:
                return
        wk = WatchedKey(db, key, _is_expired(db, key))
        watched.append(wk)
        self.watchers.setdefault((db.id, key), {})[client] = wk
        if not self.hooked:
            self.hooked = True
            self.engine.key_modified_hooks.append(self.key_modified)
            self.engine.db_flushed_hooks.append(self.db_flushed)

    def unwatch_all(self, client: Client) -> None:
        watched = client.watched_keys
        if not watched:
            return
        watchers = self.watchers
        for wk in watched:
            slot = (wk.db.id, wk.key)
            clients = watchers.get(slot)
            if clients is not None:
                clients.pop(client, None)
                if not clients:
                    del watchers[slot]
        client.watched_keys = None
        if not watchers and self.hooked:
            self.hooked = False
            self.engine.key_modified_hooks.remove(self.key_modified)
            self.engine.db_flushed_hooks.remove(self.db_flushed)

    def _dirty(self, client: Client) -> None:
        client.flags |= CLIENT_DIRTY_CAS
        # Nothing can make it clean again before EXEC: stop watching (and paying for) its keys.
        self.unwatch_all(client)

    def key_modified(self, db: Database, key: bytes) -> None:
        """touchWatchedKey."""
        clients = self.watchers.get((db.id, key))
        if not clients:
            return
        for client, wk in list(clients.items()):
            if wk.expired:
                if key not in db.data:
                    # The expired key was deleted: logically nothing changed.
                    wk.expired = False
                    continue
            self._dirty(client)

    def db_flushed(self, db: Database) -> None:
        """FLUSHDB/FLUSHALL, before the database is emptied."""
        self.touch_all_in_db(db.id, db, None)

    def touch_all_in_db(self, dbid: int, emptied: Any, replaced_with: Any) -> None:
        """touchAllWatchedKeysInDb: database ``dbid`` loses the contents ``emptied`` and gets
        ``replaced_with`` (None for a flush). Both are objects with ``data`` and ``expires``."""
        now = self.engine.now_ms()

        def expired_in(contents: Any, key: bytes) -> bool:
            when = contents.expires.get(key)
            return when is not None and when <= now

        for (watched_db, key), clients in list(self.watchers.items()):
            if watched_db != dbid:
                continue
            exists_in_emptied = key in emptied.data
            exists_in_new = replaced_with is not None and key in replaced_with.data
            if not (exists_in_emptied or exists_in_new):
                continue
            for client, wk in list(clients.items()):
                if wk.expired:
                    if not exists_in_new:
                        wk.expired = False      # the expired key is gone: no logical change
                        continue
                    if expired_in(replaced_with, key):
                        continue                # still (logically) absent
                elif not exists_in_emptied and expired_in(replaced_with, key):
                    wk.expired = True           # absent before, and an expired key now
                    continue
                self._dirty(client)

    def databases_swapped(self, first: Database, second: Database) -> None:
        """SWAPDB, called after the contents of the two databases were exchanged."""
        # ``second`` now holds what ``first`` had, and the other way round.
        self.touch_all_in_db(first.id, second, first)
        self.touch_all_in_db(second.id, first, second)

    def any_expired(self, client: Client) -> bool:
        """isWatchedKeyExpired: a watched key (not expired when watched) has expired since."""
        for wk in client.watched_keys or ():
            if not wk.expired and _is_expired(wk.db, wk.key):
                return True
        return False


# -- the transaction state ------------------------------------------------------------------

def _registry(client: Client) -> WatchRegistry:
    return client.engine.extensions["watch"]


def queue_command(client: Client, cmd: CommandDef, argv: list[bytes]) -> Any:
    """The dispatcher's MULTI gate: keep the command for EXEC."""
    client.multi_queue.append((cmd, argv))
    return QUEUED


def flag_transaction(client: Client) -> None:
    """A command was refused while queueing: EXEC will abort (flagTransaction)."""
    client.flags |= CLIENT_DIRTY_EXEC


def discard_transaction(client: Client) -> None:
    """Leave MULTI state: drop the queue, the flags and every WATCH."""
    client.multi_queue = None
    client.flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC)
    _registry(client).unwatch_all(client)


# -- commands -------------------------------------------------------------------------------

def multi_command(client: Client, argv: list[bytes]) -> Any:
    """MULTI"""
    if client.flags & CLIENT_MULTI:
        raise RedisError(MULTI_NESTED)
    client.flags |= CLIENT_MULTI
    client.multi_queue = []
    return OK


def discard_command(client: Client, argv: list[bytes]) -> Any:
    """DISCARD"""
    if not client.flags & CLIENT_MULTI:
        raise RedisError(DISCARD_WITHOUT_MULTI)
    discard_transaction(client)
    return OK


def exec_command(client: Client, argv: list[bytes]) -> Any:
    """EXEC"""
    if not client.flags & CLIENT_MULTI:
        raise RedisError(EXEC_WITHOUT_MULTI)
    registry = _registry(client)
    if client.watched_keys and registry.any_expired(client):
        client.flags |= CLIENT_DIRTY_CAS
    if client.flags & CLIENT_DIRTY_EXEC:
        discard_transaction(client)
        raise RedisError(EXECABORT)
    if client.flags & CLIENT_DIRTY_CAS:
        discard_transaction(client)
        return NULL_ARRAY
    engine = client.engine
    queue = client.multi_queue
    registry.unwatch_all(client)       # as Redis: nothing can abort the transaction from here
    replies = []
    written: Raw | None = None
    consumers = engine.propagation_consumers
    propagated: list[tuple[int, list[list[bytes]]]] = []
    if consumers:
        # Collect what the transaction propagates, to send it wrapped in MULTI ... EXEC.
        engine.propagation_consumers = [lambda dbid, ops: propagated.append((dbid, ops))]
    # Every queued command sees keys expire against one time, EXEC's start (as in Redis):
    # PEXPIRE k 1 then GET k in one transaction finds k however slowly the queue runs.
    fixed_here = engine.fix_time()
    try:
        # CLIENT_MULTI stays set while the commands run: blocking commands then answer at
        # once, and keys made ready wake their waiters only once EXEC is over.
        with suspend_serving(engine):
            call = engine.call
            if client.flags & CLIENT_PUBSUB and client.resp == 3:
                # A RESP3 subscriber may hear its own commands' events: Redis writes them
                # between the replies, after EXEC's array header (engine/notify.py).
                written = _exec_writing_own_pushes(client, queue)
            else:
                for cmd, cmd_argv in queue:
                    replies.append(call(client, cmd, cmd_argv))
    finally:
        if fixed_here:
            engine.release_time()
        if consumers:
            engine.propagation_consumers = consumers
        discard_transaction(client)
    if propagated:
        first_db = propagated[0][0]
        for consumer in consumers:
            consumer(first_db, [[b"MULTI"]])
        for dbid, ops in propagated:
            for consumer in consumers:
                consumer(dbid, ops)
        for consumer in consumers:
            consumer(first_db, [[b"EXEC"]])
    return written if written is not None else replies


class _OwnPushes:
    """Stands in for a client's sink while one of its transaction's commands runs: the pushes
    it gets, and the output its command places after its reply (``after_command_reply``)."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink
        self.frames: list[Any] = []
        self.after: list[Any] = []

    def deliver(self, reply: Any) -> None:
        self.frames.append(reply)

    def after_command_reply(self, callback: Any) -> None:
        self.after.append(callback)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sink, name)


def _exec_writing_own_pushes(client: Client, queue: list) -> Raw:
    """EXEC's commands for a RESP3 subscriber: its reply as Redis 7.0.15 writes it, the pushes
    each command sends the client itself around that command's reply, inside EXEC's array."""
    call = client.engine.call
    parts = [b"*%d\r\n" % len(queue)]
    for cmd, cmd_argv in queue:
        sink = client.sink
        own = _OwnPushes(sink)
        client.sink = own
        try:
            reply = call(client, cmd, cmd_argv)
            before = own.frames
            own.frames = []
            for callback in own.after:
                callback()
        finally:
            client.sink = sink
        parts.extend(encode(frame, 3) for frame in before)
        parts.append(encode(reply, 3))
        parts.extend(encode(frame, 3) for frame in own.frames)
    return Raw(b"".join(parts))


def watch_command(client: Client, argv: list[bytes]) -> Any:
    """WATCH key [key ...]"""
    if client.flags & CLIENT_MULTI:
        raise RedisError(WATCH_INSIDE_MULTI)
    if client.flags & CLIENT_DIRTY_CAS:
        # Already doomed: watching more keys cannot change that (Redis skips them too).
        return OK
    registry = _registry(client)
    db = client.db
    for key in argv[1:]:
        registry.watch(client, db, key)
    return OK


def unwatch_command(client: Client, argv: list[bytes]) -> Any:
    """UNWATCH"""
    _registry(client).unwatch_all(client)
    client.flags &= ~CLIENT_DIRTY_CAS
    return OK


# -- installation ---------------------------------------------------------------------------

def install(engine: Engine) -> None:
    """Wire the dispatcher's MULTI gates, WATCH's keyspace hooks and client cleanup."""
    registry = WatchRegistry(engine)
    engine.extensions["watch"] = registry
    engine.extensions["multi_queue"] = queue_command
    engine.extensions["multi_flag_error"] = flag_transaction
    engine.extensions.setdefault("client_closed_hooks", []).append(registry.unwatch_all)
    # RESET discards any transaction state, a CAS failure of WATCHed keys included (discardTransaction).
    engine.extensions.setdefault("client_reset_hooks", []).append(discard_transaction)
    # engine/generic.py's swap_databases calls these after the swap.
    engine.extensions.setdefault("swapdb_hooks", []).append(registry.databases_swapped)
    previous = engine.extensions.get("dynamic_command_flags")

    def exec_flags(client: Client, cmd: CommandDef, argv: list[bytes], flags: int) -> int:
        # EXEC counts as the commands it will run (CLIENT PAUSE WRITE, replica read-only...).
        if cmd.fullname == "exec" and client.multi_queue:
            for queued, _ in client.multi_queue:
                flags |= queued.flags
        return previous(client, cmd, argv, flags) if previous is not None else flags

    engine.extensions["dynamic_command_flags"] = exec_flags
