"""Keyspace commands (db.c): DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME,
RENAMENX, COPY, MOVE, SWAPDB, FLUSHDB, FLUSHALL, DBSIZE, TOUCH.

SCAN's cursor
-------------
Redis walks its hash table with a reverse-binary cursor (dictScan), which survives
rehashing. A Python dict has no stable bucket order, so SCAN here walks a fixed
48-bit *hash space* instead: every key has the position ``(hash(key) + 2**63) >> 16``
(Python caches the hash of a bytes object, so this is cheap), and a cursor ``c > 0``
means "continue at position ``c - 1``". The space does not depend on the size of
the table, so growing or shrinking cannot make a key jump behind the cursor: a key
present for the whole scan is met when the walk crosses its position.

To find the keys of a range without visiting the whole dict, each database gets a
:class:`KeyScanIndex` while scans are in progress: the keys bucketed by the top bits
of their position (2**bits buckets, ~16 keys each; 8 bytes per key plus the bucket
lists). A call returns whole buckets until COUNT keys are gathered, so every cursor
it returns is a bucket boundary. Keys created after the index was built reach it
through ``Database.set_key``/``Database.add`` (``index.pending``) and are placed
before the next call is served. Deleted keys stay in their bucket until the index is
rebuilt and are skipped. Building is done in chunks of :data:`BUILD_CHUNK` keys, one
chunk per call, so no call pauses the server for long: the first index of a database
answers empty pages meanwhile (SCAN may return no keys with a non-zero cursor); an
index that outgrew its buckets keeps serving while its resized successor is built.
An index unused for :data:`INDEX_IDLE_MS` is dropped by the cron; rebuilding it later
is always safe, because a rebuilt index holds every key that exists at that time.
"""

from __future__ import annotations

import copy
from itertools import islice
from typing import Any

from specredis.engine.args import parse_c_int, parse_count, parse_scan_cursor
from specredis.engine.client import Client
from specredis.engine.core import NOTIFY_GENERIC
from specredis.engine.errors import DB_INDEX_OUT_OF_RANGE, NO_SUCH_KEY, SYNTAX, RedisError
from specredis.engine.glob import compile_glob
from specredis.engine.keyspace import Database, type_name
from specredis.protocol.replies import OK, Status

SAME_OBJECT = "ERR source and destination objects are the same"

# -----------------------------------------------------------------------------------------
# Value helpers
# -----------------------------------------------------------------------------------------


def duplicate_value(value: Any) -> Any:
    """A copy of a stored value that shares nothing mutable with it (COPY).

    Immutable ``bytes`` are shared, as Redis shares int/embstr encodings; other types
    provide ``dup()`` or are deep-copied."""
    kind = type(value)
    if kind is bytes:
        return value
    if kind is bytearray:
        return bytearray(value)
    dup = getattr(value, "dup", None)
    return dup() if dup is not None else copy.deepcopy(value)


def _in_cluster(client: Client) -> bool:
    return client.engine.extensions.get("cluster") is not None


def _force_propagation(client: Client, argv: list[bytes]) -> None:
    """Propagate the command even if it changed nothing (forceCommandPropagation)."""
    engine = client.engine
    engine.also_propagate(client.db.id, list(argv))
    engine.prevent_propagation()


# -----------------------------------------------------------------------------------------
# SCAN's cursor index
# -----------------------------------------------------------------------------------------

POSITION_BITS = 48
_HASH_OFFSET = 1 << 63
_POSITION_SHIFT = 64 - POSITION_BITS
TARGET_BUCKET_SIZE = 16
MAX_BUCKET_BITS = 24
BUILD_CHUNK = 8192            # keys placed per SCAN call while building: a few ms
INDEX_IDLE_MS = 60_000


def key_position(key: bytes) -> int:
    """The key's place in the 48-bit hash space that SCAN cursors walk."""
    return (hash(key) + _HASH_OFFSET) >> _POSITION_SHIFT


class KeyScanIndex:
    """The keys of one ``Database.data`` dict bucketed by hash position (see the module doc)."""

    __slots__ = ("data", "bits", "buckets", "unplaced", "placed", "pending", "entries", "last_used_ms",
                 "successor")

    def __init__(self, data: dict, now_ms: int) -> None:
        self.data = data
        bits = min(MAX_BUCKET_BITS, (len(data) // TARGET_BUCKET_SIZE).bit_length())
        self.bits = bits
        self.buckets: list[list[bytes]] = [[] for _ in range(1 << bits)]
        self.unplaced: list[bytes] | None = list(data)   # snapshot, placed chunk by chunk
        self.placed = 0
        self.pending: set[bytes] = set()                   # keys created since the snapshot
        self.entries = 0
        self.last_used_ms = now_ms
        self.successor: KeyScanIndex | None = None         # a resized index being built

    def _place(self, keys: Any) -> None:
        buckets = self.buckets
        shift = 64 - self.bits
        count = 0
        for key in keys:
            buckets[(hash(key) + _HASH_OFFSET) >> shift].append(key)
            count += 1
        self.entries += count

    def place_pending(self) -> None:
        """Place every key created since the last call (O(writes), so the writers pay for it)."""
        pending = self.pending
        if pending:
            successor = self.successor
            if successor is not None:
                successor.pending |= pending
            self._place(pending)
            pending.clear()

    def build_step(self) -> bool:
        """Place one chunk of the snapshot; True once the snapshot is all placed."""
        if self.unplaced is None:
            return True
        end = self.placed + BUILD_CHUNK
        self._place(islice(self.unplaced, self.placed, end))
        if end >= len(self.unplaced):
            self.unplaced = None
            return True
        self.placed = end
        return False

    def needs_resize(self) -> bool:
        """True when the buckets are far from their target size: too many dead entries,
        a table grown well past the bucket count, or shrunk well below it."""
        size = len(self.data)
        if self.entries > 2 * size + 4096:
            return True
        capacity = TARGET_BUCKET_SIZE << self.bits
        return (self.bits < MAX_BUCKET_BITS and size > 4 * capacity) or (self.bits > 4 and size < capacity // 16)

    def collect(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """Keys in whole buckets from ``cursor`` until ``count`` are gathered, and the next cursor."""
        start = cursor - 1 if cursor else 0
        if start >> POSITION_BITS:
            return 0, []
        shift = POSITION_BITS - self.bits
        buckets = self.buckets
        nbuckets = len(buckets)
        index = start >> shift
        found: list[bytes] = []
        if start & ((1 << shift) - 1):
            # A cursor from an index with finer buckets: the first bucket is only partly ahead.
            found.extend(k for k in buckets[index] if key_position(k) >= start)
            index += 1
        visited = 0
        limit = count * 10      # like Redis, bound the empty buckets visited per call
        while index < nbuckets and len(found) < count and visited < limit:
            found.extend(buckets[index])
            index += 1
            visited += 1
        return (0 if index >= nbuckets else (index << shift) + 1), found


def scan_keys(db: Database, cursor: int, count: int) -> tuple[int, list[bytes]]:
    """One SCAN step over ``db``: (next cursor, candidate keys that exist now).

    Only the first index of a database is built with empty pages; a resized one is built
    in the background while the current one goes on serving, so writes can never keep a
    scan from progressing."""
    now = db.engine.now_ms()
    data = db.data
    index = db.scan_index
    if index is None or index.data is not data:
        index = db.scan_index = KeyScanIndex(data, now)
    index.last_used_ms = now
    index.place_pending()
    if not index.build_step():
        return (cursor or 1), []          # still indexing: an empty page, same position
    successor = index.successor
    if successor is None:
        if index.needs_resize():
            index.successor = KeyScanIndex(data, now)
    else:
        successor.place_pending()
        if successor.build_step():
            successor.last_used_ms = now
            db.scan_index = index = successor
    next_cursor, found = index.collect(cursor, count)
    return next_cursor, [k for k in dict.fromkeys(found) if k in data]


def drop_idle_scan_indexes(engine: Any) -> None:
    """Cron: forget indexes no SCAN has used for a while (they cost memory and write-time work)."""
    now = engine.now_ms()
    for db in engine.databases:
        index = db.scan_index
        if index is not None and now - index.last_used_ms > INDEX_IDLE_MS:
            db.scan_index = None


def _forget_key_snapshots(db: Database) -> None:
    # A flushed database's old dict must not stay alive through our copies of its keys.
    db.scan_index = None
    snapshots = db.engine.extensions.get("randomkey_snapshots")
    if snapshots:
        snapshots.pop(db.id, None)


def install(engine: Any) -> None:
    """Feature hook: the cron drops idle SCAN indexes; flushes drop the key snapshots."""
    engine.cron_hooks.append(lambda: drop_idle_scan_indexes(engine))
    engine.db_flushed_hooks.append(_forget_key_snapshots)


# -----------------------------------------------------------------------------------------
# Random keys
# -----------------------------------------------------------------------------------------

class _RandomKeySnapshot:
    """A list copy of a dict's keys for O(1) random picks (a dict has no random access).

    Refreshed (one C-speed list copy) when the dict was replaced, its size moved by more
    than 1/16, or after len/16 picks, so new keys become eligible quickly and the copy
    costs O(1) amortized per pick."""

    __slots__ = ("data", "keys", "size", "picks")

    def __init__(self, data: dict) -> None:
        self.data = data
        self.keys = list(data)
        self.size = len(data)
        self.picks = 0

    def fresh(self, data: dict) -> bool:
        size = len(data)
        slack = max(16, size >> 4)
        return data is self.data and abs(size - self.size) <= slack and self.picks <= slack


def random_key(db: Database) -> bytes | None:
    """A random existing key (dbRandomKey), or None if the database is empty.

    Expired keys met on the way are deleted, and another key is tried. A replica never
    deletes, so when every key is volatile it gives up after 100 tries, as Redis does."""
    engine = db.engine
    snapshots: dict[int, _RandomKeySnapshot] = engine.extensions.setdefault("randomkey_snapshots", {})
    all_volatile = len(db.data) == len(db.expires)
    tries = 100
    rng = engine.rng
    while db.data:
        snap = snapshots.get(db.id)
        if snap is None or not snap.fresh(db.data):
            snap = snapshots[db.id] = _RandomKeySnapshot(db.data)
        snap.picks += 1
        key = snap.keys[int(rng.random() * len(snap.keys))]
        if key not in db.data:
            snap.picks += len(snap.keys) >> 6      # stale copy: refresh sooner
            continue
        if key in db.expires:
            if all_volatile and engine.is_replica:
                tries -= 1
                if tries == 0:
                    return key
            if db.expire_if_needed(key):
                continue
        return key
    return None


# -----------------------------------------------------------------------------------------
# Commands
# -----------------------------------------------------------------------------------------

def _delete_keys(client: Client, keys: list[bytes]) -> int:
    db = client.db
    engine = client.engine
    deleted = 0
    for key in keys:
        db.expire_if_needed(key)
        if db.delete(key):
            db.signal_modified(key)
            engine.notify(NOTIFY_GENERIC, "del", key, db.id)
            engine.dirty += 1
            deleted += 1
    return deleted


def del_command(client: Client, argv: list[bytes]) -> int:
    """DEL key [key ...]"""
    return _delete_keys(client, argv[1:])


def unlink_command(client: Client, argv: list[bytes]) -> int:
    """UNLINK key [key ...]"""
    # Python frees memory by reference counting: there is no background freeing to defer to.
    return _delete_keys(client, argv[1:])


def exists_command(client: Client, argv: list[bytes]) -> int:
    """EXISTS key [key ...]"""
    lookup = client.db.lookup_read
    return sum(1 for key in argv[1:] if lookup(key) is not None)


def touch_command(client: Client, argv: list[bytes]) -> int:
    """TOUCH key [key ...]"""
    lookup = client.db.lookup_read
    return sum(1 for key in argv[1:] if lookup(key) is not None)


def type_command(client: Client, argv: list[bytes]) -> Status:
    """TYPE key"""
    value = client.db.lookup_read(argv[1])
    return Status(b"none" if value is None else type_name(value).encode())


def dbsize_command(client: Client, argv: list[bytes]) -> int:
    """DBSIZE"""
    return len(client.db.data)


def keys_command(client: Client, argv: list[bytes]) -> list[bytes]:
    """KEYS pattern"""
    db = client.db
    pattern = argv[1]
    if pattern == b"*":
        keys = list(db.data)
    else:
        match = compile_glob(pattern).match
        keys = [k for k in db.data if match(k) is not None]
    expires = db.expires
    if expires:
        # Like Redis, logically expired keys are left out but not deleted here.
        now = client.engine.now_ms()
        keys = [k for k in keys if expires.get(k, now + 1) > now]
    return keys


def scan_command(client: Client, argv: list[bytes]) -> list:
    """SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]"""
    cursor = parse_scan_cursor(argv[1])
    count = 10
    pattern: bytes | None = None
    wanted_type: bytes | None = None
    i = 2
    argc = len(argv)
    while i < argc:
        option = argv[i].lower()
        if i + 1 >= argc:
            raise RedisError(SYNTAX)
        if option == b"count":
            count = parse_count(argv[i + 1])
        elif option == b"match":
            pattern = argv[i + 1]
            if pattern == b"*":
                pattern = None
        elif option == b"type":
            wanted_type = argv[i + 1].lower()
        else:
            raise RedisError(SYNTAX)
        i += 2
    db = client.db
    next_cursor, candidates = scan_keys(db, cursor, count)
    match = compile_glob(pattern).match if pattern is not None else None
    keys: list[bytes] = []
    for key in candidates:
        if match is not None and match(key) is None:
            continue
        if wanted_type is not None:
            # Redis looks the key up for its type (counting a keyspace hit or miss).
            value = db.lookup_read(key)
            name = b"none" if value is None else type_name(value).encode()
            if name != wanted_type:
                continue
        if db.expires and db.expire_if_needed(key):
            continue
        keys.append(key)
    return [b"%d" % next_cursor, keys]


def randomkey_command(client: Client, argv: list[bytes]) -> bytes | None:
    """RANDOMKEY"""
    return random_key(client.db)


def _rename(client: Client, argv: list[bytes], nx: bool) -> Any:
    db = client.db
    engine = client.engine
    source, target = argv[1], argv[2]
    value = db.lookup_write(source)
    if value is None:
        raise RedisError(NO_SUCH_KEY)
    if source == target:
        return 0 if nx else OK
    expire = db.expires.get(source)
    if db.lookup_write(target) is not None:
        if nx:
            return 0
        db.delete(target)
    db.delete(source)
    db.add(target, value)
    if expire is not None:
        db.expires[target] = expire
    db.signal_modified(source)
    db.signal_modified(target)
    engine.notify(NOTIFY_GENERIC, "rename_from", source, db.id)
    engine.notify(NOTIFY_GENERIC, "rename_to", target, db.id)
    engine.dirty += 1
    return 1 if nx else OK


def rename_command(client: Client, argv: list[bytes]) -> Any:
    """RENAME key newkey"""
    return _rename(client, argv, nx=False)


def renamenx_command(client: Client, argv: list[bytes]) -> Any:
    """RENAMENX key newkey"""
    return _rename(client, argv, nx=True)


def _target_db(client: Client, raw: bytes) -> Database:
    index = parse_c_int(raw)
    databases = client.engine.databases
    if index < 0 or index >= len(databases):
        raise RedisError(DB_INDEX_OUT_OF_RANGE)
    return databases[index]


def move_command(client: Client, argv: list[bytes]) -> int:
    """MOVE key db"""
    if _in_cluster(client):
        raise RedisError("ERR MOVE is not allowed in cluster mode")
    source = client.db
    target = _target_db(client, argv[2])
    if source is target:
        raise RedisError(SAME_OBJECT)
    key = argv[1]
    value = source.lookup_write(key)
    if value is None:
        return 0
    expire = source.expires.get(key)
    if target.lookup_write(key) is not None:
        return 0
    target.add(key, value)
    if expire is not None:
        target.expires[key] = expire
    source.delete(key)
    engine = client.engine
    source.signal_modified(key)
    target.signal_modified(key)
    engine.notify(NOTIFY_GENERIC, "move_from", key, source.id)
    engine.notify(NOTIFY_GENERIC, "move_to", key, target.id)
    engine.dirty += 1
    return 1


def copy_command(client: Client, argv: list[bytes]) -> int:
    """COPY source destination [DB destination-db] [REPLACE]"""
    source = target = client.db
    replace = False
    i = 3
    while i < len(argv):
        option = argv[i].lower()
        if option == b"replace":
            replace = True
        elif option == b"db" and i + 1 < len(argv):
            target = _target_db(client, argv[i + 1])
            i += 1
        else:
            raise RedisError(SYNTAX)
        i += 1
    if _in_cluster(client) and (source.id != 0 or target.id != 0):
        raise RedisError("ERR Copying to another database is not allowed in cluster mode")
    key, new_key = argv[1], argv[2]
    if source is target and key == new_key:
        raise RedisError(SAME_OBJECT)
    value = source.lookup_read(key)
    if value is None:
        return 0
    expire = source.expires.get(key)
    if target.lookup_write(new_key) is not None:
        if not replace:
            return 0
        target.delete(new_key)
    target.add(new_key, duplicate_value(value))
    if expire is not None:
        target.expires[new_key] = expire
    target.signal_modified(new_key)
    engine = client.engine
    engine.notify(NOTIFY_GENERIC, "copy_to", new_key, target.id)
    engine.dirty += 1
    return 1


def swap_databases(engine: Any, first: Database, second: Database) -> None:
    """Exchange the contents of two databases (dbSwapDatabases).

    Clients stay attached to their database number; blocked clients and WATCHes follow
    the number too, so both are re-checked against the new contents."""
    if first is second:
        return
    first.data, second.data = second.data, first.data
    first.expires, second.expires = second.expires, first.expires
    first.avg_ttl, second.avg_ttl = second.avg_ttl, first.avg_ttl
    first.expire_cursor, second.expire_cursor = second.expire_cursor, first.expire_cursor
    first.scan_index = second.scan_index = None
    for db in (first, second):
        for key in list(db.blocking_keys):
            if key in db.data:
                db.signal_ready(key)
    for hook in engine.extensions.get("swapdb_hooks", ()):
        hook(first, second)


def swapdb_command(client: Client, argv: list[bytes]) -> Any:
    """SWAPDB index1 index2"""
    if _in_cluster(client):
        raise RedisError("ERR SWAPDB is not allowed in cluster mode")
    first = parse_c_int(argv[1], "ERR invalid first DB index")
    second = parse_c_int(argv[2], "ERR invalid second DB index")
    engine = client.engine
    databases = engine.databases
    if not (0 <= first < len(databases) and 0 <= second < len(databases)):
        raise RedisError(DB_INDEX_OUT_OF_RANGE)
    swap_databases(engine, databases[first], databases[second])
    engine.dirty += 1
    return OK


def _flush_option(argv: list[bytes]) -> None:
    # ASYNC and SYNC are both accepted; Python frees by reference counting either way.
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"async", b"sync")):
        raise RedisError(SYNTAX)


def flushdb_command(client: Client, argv: list[bytes]) -> Any:
    """FLUSHDB [ASYNC|SYNC]"""
    _flush_option(argv)
    client.engine.dirty += client.db.flush()
    _force_propagation(client, argv)
    return OK


def flushall_command(client: Client, argv: list[bytes]) -> Any:
    """FLUSHALL [ASYNC|SYNC]"""
    _flush_option(argv)
    engine = client.engine
    engine.dirty += engine.flush_all()
    # Persistence saves an RDB here when save points are configured (it may reset dirty).
    # 7.0.15 counts only the removed keys as changes (6.2 added one more after the save).
    for hook in engine.extensions.get("flushall_hooks", ()):
        hook()
    _force_propagation(client, argv)
    return OK
