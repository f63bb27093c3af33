"""DUMP, RESTORE and RESTORE-ASKING (cluster.c): values in the RDB format, between servers.

A payload is one RDB value (type byte + value, ``engine/persistence/rdb_save.py``),
the 2-byte RDB version and a CRC64 of both, so payloads move freely between
specredis and redis-server in both directions. RESTORE checks, in Redis's order:
options, BUSYKEY, the TTL, the version and checksum, then the value itself (which
is read from the whole payload, footer included, as Redis reads it).

``sanitize-dump-payload``: ``yes`` checks packed encodings deeply (listpack
back-lengths and counts, intset order, stream entries, PEL owners), ``clients``
does so for every client but a master; each deep-checked blob counts in INFO's
``dump_payload_sanitizations``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specredis.engine.args import parse_int
from specredis.engine.client import CLIENT_MASTER
from specredis.engine.core import NOTIFY_GENERIC
from specredis.engine.errors import SYNTAX, RedisError
from specredis.engine.persistence.rdb import OBJECT_TYPES, RdbError, RdbReader
from specredis.engine.persistence.rdb_load import (
    BAD_DATA_FORMAT,
    DUMP_PAYLOAD_ERROR,
    EmptyKey,
    LoadLimits,
    load_value,
    verify_dump_payload,
)
from specredis.engine.persistence.rdb_save import dump_payload
from specredis.protocol.replies import OK

if TYPE_CHECKING:
    from specredis.engine.client import Client

BUSYKEY = "BUSYKEY Target key name already exists."


def dump_command(client: Client, argv: list[bytes]) -> bytes | None:
    """DUMP key"""
    value = client.db.lookup_read(argv[1])
    if value is None:
        return None
    return dump_payload(value, client.engine.config)


def deep_sanitization(client: Client) -> bool:
    """Whether RESTORE from ``client`` checks payloads deeply (sanitize-dump-payload)."""
    engine = client.engine
    mode = engine.config.values["sanitize-dump-payload"]
    if mode == "yes":
        return True
    if mode == "clients":
        return not (engine.loading or client.flags & CLIENT_MASTER)
    return False


def decode_payload(client: Client, payload: bytes) -> Any:
    """The value in a RESTORE payload, with Redis's two error replies."""
    engine = client.engine
    try:
        verify_dump_payload(payload, bool(engine.extensions.get("skip_checksum_validation")))
    except RdbError:
        raise RedisError(DUMP_PAYLOAD_ERROR) from None
    limits = LoadLimits(engine.config, deep_sanitization(client))
    reader = RdbReader(payload)
    try:
        type_code = reader.byte()
        if type_code not in OBJECT_TYPES:
            raise RedisError(BAD_DATA_FORMAT)
        return load_value(reader, type_code, limits)
    except (RdbError, EmptyKey, ValueError, IndexError, TypeError, OverflowError, MemoryError):
        # Whatever a hostile payload trips over is "Bad data format"; the server goes on.
        raise RedisError(BAD_DATA_FORMAT) from None
    finally:
        if limits.sanitized:
            engine.stats.dump_payload_sanitizations += limits.sanitized


def restore_command(client: Client, argv: list[bytes]) -> Any:
    """RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]"""
    replace = absttl = False
    idle = freq = -1
    argc = len(argv)
    j = 4
    while j < argc:
        word = argv[j].lower()
        more = argc - j - 1
        if word == b"replace":
            replace = True
        elif word == b"absttl":
            absttl = True
        elif word == b"idletime" and more >= 1 and freq == -1:
            idle = parse_int(argv[j + 1])
            if idle < 0:
                raise RedisError("ERR Invalid IDLETIME value, must be >= 0")
            j += 1
        elif word == b"freq" and more >= 1 and idle == -1:
            freq = parse_int(argv[j + 1])
            if freq < 0 or freq > 255:
                raise RedisError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            j += 1
        else:
            raise RedisError(SYNTAX)
        j += 1
    db = client.db
    key = argv[1]
    if not replace and db.lookup_write(key) is not None:
        raise RedisError(BUSYKEY)
    ttl = parse_int(argv[2])
    if ttl < 0:
        raise RedisError("ERR Invalid TTL value, must be >= 0")
    value = decode_payload(client, argv[3])
    engine = client.engine
    deleted = replace and db.delete(key)
    now = engine.now_ms()
    if ttl and not absttl:
        # C's int64 addition wraps: a relative TTL near 2^63 becomes a past time, so Redis
        # treats the key as already expired.
        ttl = (ttl + now + 2**63) % 2**64 - 2**63
    if ttl and ttl <= now and not engine.loading and not engine.is_replica:
        # Already expired: nothing is created; a replaced key is gone (propagated as DEL).
        if deleted:
            engine.rewrite_command([b"DEL", key])
            db.signal_modified(key)
            engine.notify(NOTIFY_GENERIC, "del", key, db.id)
            engine.dirty += 1
        return OK
    db.add(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            # Propagate the TTL as an absolute time, as Redis does.
            engine.rewrite_command([*argv[:2], b"%d" % ttl, *argv[3:], b"ABSTTL"])
    access = engine.extensions.get("object_set_access")
    if access is not None:
        # A new object's clock, or IDLETIME/FREQ (objectSetLRUOrLFU); -1 means not given.
        access(db, key, idle, freq)
    db.signal_modified(key)
    engine.notify(NOTIFY_GENERIC, "restore", key, db.id)
    engine.dirty += 1
    return OK


def restore_asking_command(client: Client, argv: list[bytes]) -> Any:
    """RESTORE-ASKING key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]"""
    return restore_command(client, argv)
