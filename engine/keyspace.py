"""The keyspace: databases of keys, their expiry times, and the write-effect hooks.

Values are stored bare in ``Database.data`` to keep small keys small:

* strings are ``bytes`` (Redis encodings ``int``/``embstr``) or ``bytearray``
  (``raw``: a string modified in place by APPEND/SETRANGE/SETBIT);
* every other type is an instance of its class in ``engine/types/<type>.py``,
  registered with :func:`register_type` so TYPE and WRONGTYPE checks work.

Expiry times live apart, in ``Database.expires`` (key -> absolute unix ms), as in
Redis. Reads and writes go through :meth:`Database.lookup_read` /
:meth:`Database.lookup_write`, which expire keys lazily.

Every write handler follows one checklist (db.c / t_*.c in Redis):
lookup → type check → mutate → ``engine.dirty += n`` → :meth:`Database.signal_modified`
(WATCH, client tracking) → :meth:`Engine.notify` (keyspace events). Propagation to
AOF and replicas is derived from ``dirty`` by the dispatcher, with explicit
rewrites through :meth:`Engine.rewrite_command` / :meth:`Engine.also_propagate`.

Keys are created only through :meth:`Database.set_key` or :meth:`Database.add`
(never ``db.data[key] = ...`` for a new key): they emit the ``new`` keyspace event,
and SCAN's cursor index (``engine/generic.py``) learns of new keys there.

Value classes of the other types may define ``dup()`` (a deep copy, for COPY; else
``copy.deepcopy`` is used) and ``encoding(config=None)`` (the OBJECT ENCODING name).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specredis.engine.errors import WrongTypeError

if TYPE_CHECKING:
    from specredis.engine.core import Engine

# notify-keyspace-events classes used here (the NOTIFY_* of engine/core.py, which imports this module).
NOTIFY_KEY_MISS = 1 << 11
NOTIFY_NEW = 1 << 14

# Python class -> Redis type name (as TYPE reports it).
TYPE_NAMES: dict[type, str] = {bytes: "string", bytearray: "string"}
STRING_TYPES = (bytes, bytearray)


def register_type(cls: type, name: str) -> None:
    """Declare the Python class that holds values of the Redis type ``name``."""
    TYPE_NAMES[cls] = name


def type_name(value: Any) -> str:
    """The Redis type name of a stored value ('string', 'list', ...)."""
    return TYPE_NAMES[type(value)]


class Database:
    """One numbered database: ``data`` (key -> value) and ``expires`` (key -> unix ms)."""

    __slots__ = ("id", "engine", "data", "expires", "avg_ttl", "expire_cursor", "blocking_keys", "scan_index")

    def __init__(self, engine: Engine, index: int) -> None:
        self.id = index
        self.engine = engine
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        self.avg_ttl = 0
        self.expire_cursor = 0
        # key -> clients blocked on it (engine/blocking.py fills it).
        self.blocking_keys: dict[bytes, Any] = {}
        # SCAN's cursor index while scans are in progress (engine/generic.py KeyScanIndex).
        self.scan_index: Any = None

    def __len__(self) -> int:
        return len(self.data)

    # -- lookups ------------------------------------------------------------------------

    def expire_if_needed(self, key: bytes) -> bool:
        """Delete ``key`` if its time has passed; return True if it is (logically) gone.

        Replicas never delete on their own (the master sends DEL); they only report
        the key as missing, as Redis does."""
        when = self.expires.get(key)
        if when is None:
            return False
        engine = self.engine
        if when > engine.now_ms():
            return False
        if engine.is_replica:
            return True
        if engine.expiry_paused:
            # CLIENT PAUSE: the key reads as missing but is only deleted once the pause ends
            # (expireIfNeeded with checkClientPauseTimeoutAndReturnIfPaused, verified on 7.0.15).
            return True
        self.expire_key(key, lazy=True)
        return True

    def expire_key(self, key: bytes, lazy: bool = False) -> None:
        """Remove an expired key with all the effects Redis has for it (``lazy``: a command
        met it, and its DEL joins that command's propagation)."""
        engine = self.engine
        self.data.pop(key, None)
        self.expires.pop(key, None)
        engine.stats.expired_keys += 1
        engine.propagate_expired(self, key, lazy)
        engine.notify(engine.NOTIFY_EXPIRED, "expired", key, self.id)
        self.signal_modified(key)

    def lookup_read(self, key: bytes) -> Any:
        """The value of ``key`` for a read, or None; counts keyspace hits and misses."""
        value = self.data.get(key)
        if value is None or (self.expires and key in self.expires and self.expire_if_needed(key)):
            engine = self.engine
            engine.stats.keyspace_misses += 1
            if engine.notify_flags & NOTIFY_KEY_MISS:
                engine.notify(NOTIFY_KEY_MISS, "keymiss", key, self.id)
            return None
        self.engine.stats.keyspace_hits += 1
        return value

    def lookup_write(self, key: bytes) -> Any:
        """The value of ``key`` for a write (expired keys are removed first), or None."""
        value = self.data.get(key)
        if value is None:
            return None
        if self.expires and key in self.expires and self.expire_if_needed(key):
            return None
        return value

    def lookup_nostats(self, key: bytes) -> Any:
        """Like :meth:`lookup_write`: for commands that must not count hits (TYPE uses lookup_read in Redis)."""
        return self.lookup_write(key)

    def exists(self, key: bytes) -> bool:
        return self.lookup_write(key) is not None

    def get_typed(self, key: bytes, cls: type | tuple[type, ...], write: bool = False) -> Any:
        """The value of ``key`` if it is an instance of ``cls``; None if missing; WRONGTYPE otherwise."""
        value = self.lookup_write(key) if write else self.lookup_read(key)
        if value is not None and not isinstance(value, cls):
            raise WrongTypeError()
        return value

    # -- writes -------------------------------------------------------------------------

    def set_key(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store ``value`` at ``key`` (create or overwrite) and signal the modification.

        Overwriting drops any TTL unless ``keep_ttl`` (setKey in db.c)."""
        data = self.data
        engine = self.engine
        if self.scan_index is not None:
            self.scan_index.pending.add(key)
        if engine.notify_flags & NOTIFY_NEW and key not in data:
            data[key] = value
            engine.notify(NOTIFY_NEW, "new", key, self.id)
        else:
            data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        if self.blocking_keys:
            self.signal_ready(key)      # RENAME/MOVE/RESTORE onto a key clients wait on
        if engine.key_modified_hooks:   # signal_modified, inline: SET and MSET run this per key
            for hook in engine.key_modified_hooks:
                hook(self, key)

    def set_keys(self, keys: list[bytes], values: list[Any]) -> None:
        """:meth:`set_key` for many keys in order (MSET): one C-level dict update when nothing
        listens to new or modified keys."""
        engine = self.engine
        if self.scan_index is not None or engine.notify_flags & NOTIFY_NEW or self.blocking_keys \
                or engine.key_modified_hooks:
            for key, value in zip(keys, values, strict=True):
                self.set_key(key, value)
            return
        expires = self.expires
        if expires:
            for key in keys:
                expires.pop(key, None)
        if len(keys) != len(values):
            raise ValueError("set_keys: as many values as keys")
        self.data.update(zip(keys, values))     # (zip's strict=True costs MSET a tenth of its time)

    def add(self, key: bytes, value: Any) -> None:
        """Store a value at a key known to be absent (dbAdd: emits the ``new`` event)."""
        self.data[key] = value
        if self.scan_index is not None:
            self.scan_index.pending.add(key)
        engine = self.engine
        if engine.notify_flags & NOTIFY_NEW:
            engine.notify(NOTIFY_NEW, "new", key, self.id)
        if self.blocking_keys:
            self.signal_ready(key)      # dbAdd signals keys clients may be blocked on

    def delete(self, key: bytes) -> bool:
        """Delete ``key`` (no effects besides the removal); True if it existed."""
        if self.data.pop(key, None) is None:
            return False
        if self.expires:
            self.expires.pop(key, None)
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms

    def get_expire(self, key: bytes) -> int:
        """Absolute expiry time in unix ms, or -1."""
        return self.expires.get(key, -1)

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def signal_modified(self, key: bytes) -> None:
        """A key changed: invalidate WATCHes and client-side caches (signalModifiedKey)."""
        engine = self.engine
        if engine.key_modified_hooks:
            for hook in engine.key_modified_hooks:
                hook(self, key)

    def signal_ready(self, key: bytes) -> None:
        """A key that blocked clients wait on may now serve them (signalKeyAsReady)."""
        if key in self.blocking_keys:
            self.engine.ready_keys.append((self, key))

    def flush(self) -> int:
        """Remove every key; return how many there were."""
        removed = len(self.data)
        for hook in self.engine.db_flushed_hooks:
            hook(self)      # before clearing: WATCH checks which watched keys existed
        self.data = {}
        self.expires = {}
        self.avg_ttl = 0
        return removed
