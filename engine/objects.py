"""OBJECT ENCODING / FREQ / IDLETIME / REFCOUNT / HELP (object.c), and the encoding names.

Strings have no stored encoding: it follows from the value, by Redis's rules
(tryObjectEncoding, createStringObject*): a ``bytearray`` is ``raw`` (a string
APPEND/SETRANGE modified in place); ``bytes`` that spell a canonical integer of at
most 20 characters in the 64-bit range are ``int``; other ``bytes`` of up to 44
bytes are ``embstr``, longer ones ``raw``. The one case this cannot tell apart:
INCRBYFLOAT stores an integral result like "3" as ``embstr`` where this says ``int``.

Values of other types name their encoding through an ``encoding(config=None)`` method.

Access times and LFU counters are kept by engine/eviction.py, only while the
maxmemory-policy is an LRU or LFU policy (a per-key clock costs a dict entry, ~50 bytes,
next to a small string key's ~120). OBJECT IDLETIME and OBJECT FREQ ask
``engine.extensions["object_idle_seconds"]`` / ``["object_lfu_frequency"]``
(``(db, key) -> int``); under other policies IDLETIME answers 0 (never idle: the safe
answer for tools that delete idle keys).
"""

from __future__ import annotations

from typing import Any

from specredis.engine.args import string_to_int
from specredis.engine.client import Client
from specredis.engine.errors import RedisError
from specredis.engine.help import help_reply
from specredis.engine.keyspace import Database, type_name

EMBSTR_SIZE_LIMIT = 44          # OBJ_ENCODING_EMBSTR_SIZE_LIMIT
SHARED_INTEGERS = 10000         # OBJ_SHARED_INTEGERS: 0..9999 are shared objects
SHARED_REFCOUNT = 2**31 - 1     # OBJ_SHARED_REFCOUNT (INT_MAX)

_DEFAULT_ENCODINGS = {
    "list": "quicklist", "hash": "hashtable", "set": "hashtable", "zset": "skiplist", "stream": "stream",
}


def string_encoding(value: bytes | bytearray) -> str:
    """The OBJECT ENCODING name of a string value."""
    if type(value) is bytearray:
        return "raw"
    if len(value) <= 20 and string_to_int(value) is not None:
        return "int"
    return "embstr" if len(value) <= EMBSTR_SIZE_LIMIT else "raw"


def object_encoding(value: Any, config: Any = None) -> str:
    """The OBJECT ENCODING name of any stored value (types answer ``encoding(config)``)."""
    kind = type(value)
    if kind is bytes or kind is bytearray:
        return string_encoding(value)
    encoding = getattr(value, "encoding", None)
    if encoding is not None:
        return encoding(config) if callable(encoding) else str(encoding)
    return _DEFAULT_ENCODINGS.get(type_name(value), "raw")


def _maxmemory_policy(engine: Any) -> str:
    try:
        return engine.config["maxmemory-policy"]
    except KeyError:
        return "noeviction"


def shares_integers(engine: Any) -> bool:
    """Redis shares the objects of small integers unless an LRU/LFU policy needs per-key clocks."""
    try:
        maxmemory = engine.config["maxmemory"]
    except KeyError:
        maxmemory = 0
    policy = _maxmemory_policy(engine)
    return not maxmemory or not (policy.endswith("-lru") or policy.endswith("-lfu"))


def object_refcount(engine: Any, value: Any) -> int:
    """OBJECT REFCOUNT: INT_MAX for a shared small integer, else 1 (values are never shared here)."""
    kind = type(value)
    if kind is bytes and len(value) <= 4 and shares_integers(engine):
        number = string_to_int(value)
        if number is not None and 0 <= number < SHARED_INTEGERS:
            return SHARED_REFCOUNT
    return 1


def _lookup(client: Client, key: bytes) -> Any:
    # objectCommandLookup: a read lookup (hits and misses count) without the keymiss event.
    db: Database = client.db
    value = db.lookup_write(key)
    stats = client.engine.stats
    if value is None:
        stats.keyspace_misses += 1
    else:
        stats.keyspace_hits += 1
    return value


def object_encoding_command(client: Client, argv: list[bytes]) -> Any:
    """OBJECT ENCODING key"""
    value = _lookup(client, argv[2])
    return None if value is None else object_encoding(value, client.engine.config).encode()


def object_refcount_command(client: Client, argv: list[bytes]) -> Any:
    """OBJECT REFCOUNT key"""
    value = _lookup(client, argv[2])
    return None if value is None else object_refcount(client.engine, value)


def object_idletime_command(client: Client, argv: list[bytes]) -> Any:
    """OBJECT IDLETIME key"""
    value = _lookup(client, argv[2])
    if value is None:
        return None
    if _maxmemory_policy(client.engine).endswith("-lfu"):
        raise RedisError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
                         "switching between policies at runtime LRU and LFU data will take some time to adjust.")
    # An eviction module that keeps access clocks (for LRU policies) answers through this hook.
    idle_seconds = client.engine.extensions.get("object_idle_seconds")
    return idle_seconds(client.db, argv[2]) if idle_seconds is not None else 0


def object_freq_command(client: Client, argv: list[bytes]) -> Any:
    """OBJECT FREQ key"""
    value = _lookup(client, argv[2])
    if value is None:
        return None
    if not _maxmemory_policy(client.engine).endswith("-lfu"):
        raise RedisError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
                         "that when switching between policies at runtime LRU and LFU data will take some time "
                         "to adjust.")
    frequency = client.engine.extensions.get("object_lfu_frequency")
    return frequency(client.db, argv[2]) if frequency is not None else 0


OBJECT_HELP = (
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
)


def object_help_command(client: Client, argv: list[bytes]) -> list:
    """OBJECT HELP"""
    return help_reply(argv, OBJECT_HELP)
