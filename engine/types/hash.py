"""The hash type: HSET ... HSCAN.

Type API first (:class:`HashValue`, with Redis's two encodings), then the
commands, grouped as in Redis's t_hash.c.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import Any

from specredis.engine.args import (
    LLONG_MAX,
    LLONG_MIN,
    add_long_double,
    format_long_double,
    parse_count,
    parse_int,
    parse_int_range,
    parse_long_double,
    parse_scan_cursor,
    string_to_int,
    string_to_long_double,
)
from specredis.engine.client import Client
from specredis.engine.core import NOTIFY_GENERIC, NOTIFY_HASH
from specredis.engine.debug import digest_pairs, register_digest
from specredis.engine.errors import OVERFLOW, RedisError, SyntaxErr, WrongTypeError, wrong_arity
from specredis.engine.glob import glob_match
from specredis.engine.keyspace import Database, register_type
from specredis.protocol.replies import OK, Map

# -- Type API -----------------------------------------------------------------------------
#
# A small hash (Redis's "listpack" encoding) is one bytes blob: for each entry, in insertion
# order, b"\x00" + field + b"\x01" + value, where the bytes 0x00, 0x01 and 0x02 inside a field
# or value are escaped as 0x02 followed by 0x03, 0x04 or 0x02. The separators then occur only
# as separators, so b"\x00" + field + b"\x01" matches exactly one field, wherever it is, and
# every lookup is one C-level bytes.find. Ten small fields cost about 200 bytes instead of the
# ~1,100 of a dict of bytes objects. Past the listpack thresholds the hash becomes a dict
# (Redis's "hashtable"), and never goes back, as in Redis 7.0.

_FIELD = b"\x00"
_VALUE = b"\x01"
_NEEDS_ESCAPE = re.compile(rb"[\x00-\x02]").search
_ESCAPED = re.compile(rb"\x02(.)", re.DOTALL)
_UNESCAPE = {b"\x02": b"\x02", b"\x03": b"\x00", b"\x04": b"\x01"}


def _escape(data: bytes) -> bytes:
    if _NEEDS_ESCAPE(data) is None:
        return data
    return data.replace(b"\x02", b"\x02\x02").replace(b"\x00", b"\x02\x03").replace(b"\x01", b"\x02\x04")


def _unescape(data: bytes) -> bytes:
    if b"\x02" not in data:
        return data
    return _ESCAPED.sub(lambda match: _UNESCAPE[match.group(1)], data)


class HashValue:
    """A Redis hash: a packed blob while small (``listpack``), a dict after (``hashtable``)."""

    __slots__ = ("blob", "count", "table", "scan_index")

    def __init__(self) -> None:
        self.blob: bytes | None = b""
        self.count = 0
        self.table: dict[bytes, bytes] | None = None
        self.scan_index: list | None = None     # HSCAN's hash-ordered view, dropped on writes

    def __len__(self) -> int:
        table = self.table
        return self.count if table is None else len(table)

    def encoding(self, config: Any = None) -> str:
        """OBJECT ENCODING."""
        return "listpack" if self.table is None else "hashtable"

    # -- reads ----------------------------------------------------------------------------

    def get(self, field: bytes) -> bytes | None:
        table = self.table
        if table is not None:
            return table.get(field)
        blob = self.blob
        needle = _FIELD + _escape(field) + _VALUE
        pos = blob.find(needle)
        if pos < 0:
            return None
        start = pos + len(needle)
        end = blob.find(_FIELD, start)
        return _unescape(blob[start:end] if end >= 0 else blob[start:])

    def __contains__(self, field: bytes) -> bool:
        table = self.table
        if table is not None:
            return field in table
        return self.blob.find(_FIELD + _escape(field) + _VALUE) >= 0

    def items(self) -> list[tuple[bytes, bytes]]:
        """(field, value) pairs in Redis's iteration order (insertion order while small)."""
        table = self.table
        if table is not None:
            return list(table.items())
        out = []
        for entry in self.blob.split(_FIELD)[1:]:
            field, _, value = entry.partition(_VALUE)
            out.append((_unescape(field), _unescape(value)))
        return out

    def fields(self) -> list[bytes]:
        if self.table is not None:
            return list(self.table)
        return [field for field, _ in self.items()]

    def values(self) -> list[bytes]:
        if self.table is not None:
            return list(self.table.values())
        return [value for _, value in self.items()]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.fields())

    # -- writes ---------------------------------------------------------------------------

    def set(self, field: bytes, value: bytes, max_entries: int, max_value: int) -> bool:
        """Set ``field``; True if it is new. Converts to a dict past the listpack limits."""
        table = self.table
        if table is None and (len(field) > max_value or len(value) > max_value):
            table = self.convert()
        if table is not None:
            self.scan_index = None
            new = field not in table
            table[field] = value
            return new
        blob = self.blob
        needle = _FIELD + _escape(field) + _VALUE
        pos = blob.find(needle)
        if pos >= 0:
            start = pos + len(needle)
            end = blob.find(_FIELD, start)
            self.blob = blob[:start] + _escape(value) + (blob[end:] if end >= 0 else b"")
            return False
        self.blob = blob + needle + _escape(value)
        self.count += 1
        if self.count > max_entries:
            self.convert()
        return True

    def delete(self, field: bytes) -> bool:
        table = self.table
        if table is not None:
            if table.pop(field, None) is None:
                return False
            self.scan_index = None
            return True
        blob = self.blob
        needle = _FIELD + _escape(field) + _VALUE
        pos = blob.find(needle)
        if pos < 0:
            return False
        end = blob.find(_FIELD, pos + len(needle))
        self.blob = blob[:pos] + (blob[end:] if end >= 0 else b"")
        self.count -= 1
        return True

    def convert(self) -> dict[bytes, bytes]:
        """Switch to the hashtable encoding (one way, as in Redis)."""
        table = dict(self.items())
        self.table = table
        self.blob = None
        self.count = 0
        return table

    # -- HSCAN over the hashtable encoding ---------------------------------------------------

    def scan(self, cursor: int, count: int) -> tuple[int, list[tuple[bytes, bytes]]]:
        """About ``count`` entries from ``cursor`` on, and the next cursor (0 when done).

        Entries are visited in the order of a 64-bit hash of their field, and the cursor is
        the hash to resume from, so every field present for a whole scan is returned however
        the hash changes meanwhile (Redis's SCAN guarantee). The sorted view is rebuilt only
        after the hash was written to."""
        index = self.scan_index
        if index is None:
            index = sorted((hash(field) & 0xFFFFFFFFFFFFFFFF, field) for field in self.table)
            self.scan_index = index
        pos = bisect.bisect_left(index, (cursor,))
        end = min(pos + count, len(index))
        # Entries sharing a hash go out together, or resuming after it would skip some.
        while end < len(index) and index[end][0] == index[end - 1][0]:
            end += 1
        table = self.table
        page = [(field, table[field]) for _, field in index[pos:end]]
        if end >= len(index):
            return 0, page
        next_cursor = index[end - 1][0] + 1
        return (next_cursor if next_cursor <= 0xFFFFFFFFFFFFFFFF else 0), page


register_type(HashValue, "hash")
# DEBUG DIGEST: each (field, value) digested on its own and xor-ed in, so order does not matter.
register_digest(HashValue, lambda digest, value: digest_pairs(digest, value.items()))


# -- helpers ------------------------------------------------------------------------------

def _lookup_hash(db: Database, key: bytes, write: bool = False) -> HashValue | None:
    value = db.lookup_write(key) if write else db.lookup_read(key)
    if value is not None and type(value) is not HashValue:
        raise WrongTypeError()
    return value


def _lookup_or_create(db: Database, key: bytes) -> HashValue:
    value = db.lookup_write(key)
    if value is None:
        value = HashValue()
        db.add(key, value)
    elif type(value) is not HashValue:
        raise WrongTypeError()
    return value


def _limits(client: Client) -> tuple[int, int]:
    values = client.engine.config.values        # canonical names: one dict lookup each
    return values["hash-max-listpack-entries"], values["hash-max-listpack-value"]


def _notify(client: Client, event: str, key: bytes) -> None:
    engine = client.engine
    if engine.notify_flags:
        engine.notify(NOTIFY_HASH, event, key, client.db.id)


def _written(client: Client, key: bytes, event: str, dirty: int) -> None:
    """The effects of a write: WATCH/tracking, the keyspace event, the dirty counter."""
    client.db.signal_modified(key)
    _notify(client, event, key)
    client.engine.dirty += dirty


# -- writes -------------------------------------------------------------------------------

def hset_command(client: Client, argv: list[bytes]) -> int:
    """HSET key field value [field value ...]"""
    # specredis/_hotloop.c has a C version of the case of an existing hash without listeners
    # (fast_hset, which writes the listpack blob format above): change both together.
    if len(argv) % 2:
        raise wrong_arity("hset")
    db = client.db
    key = argv[1]
    value = db.data.get(key)
    if value is None or db.expires:
        value = _lookup_or_create(db, key)
    elif type(value) is not HashValue:
        raise WrongTypeError()
    engine = client.engine
    limits = engine.config.values
    max_entries, max_value = limits["hash-max-listpack-entries"], limits["hash-max-listpack-value"]
    created = 0
    for i in range(2, len(argv), 2):
        created += value.set(argv[i], argv[i + 1], max_entries, max_value)
    if engine.key_modified_hooks:
        db.signal_modified(key)
    if engine.notify_flags:
        engine.notify(NOTIFY_HASH, "hset", key, db.id)
    engine.dirty += (len(argv) - 2) // 2
    return created


def hmset_command(client: Client, argv: list[bytes]) -> Any:
    """HMSET key field value [field value ...]"""
    if len(argv) % 2:
        raise wrong_arity("hmset")
    hset_command(client, argv)
    return OK


def hsetnx_command(client: Client, argv: list[bytes]) -> int:
    """HSETNX key field value"""
    value = _lookup_or_create(client.db, argv[1])
    if argv[2] in value:
        return 0
    value.set(argv[2], argv[3], *_limits(client))
    _written(client, argv[1], "hset", 1)
    return 1


def hdel_command(client: Client, argv: list[bytes]) -> int:
    """HDEL key field [field ...]"""
    db = client.db
    key = argv[1]
    value = _lookup_hash(db, key, write=True)
    if value is None:
        return 0
    deleted = 0
    emptied = False
    for field in argv[2:]:
        if value.delete(field):
            deleted += 1
            if not len(value):
                db.delete(key)
                emptied = True
                break
    if deleted:
        _written(client, key, "hdel", deleted)
        if emptied:
            engine = client.engine
            if engine.notify_flags:
                engine.notify(NOTIFY_GENERIC, "del", key, db.id)
    return deleted


def hincrby_command(client: Client, argv: list[bytes]) -> int:
    """HINCRBY key field increment"""
    increment = parse_int(argv[3])
    value = _lookup_or_create(client.db, argv[1])
    current = value.get(argv[2])
    if current is None:
        number = 0
    else:
        number = string_to_int(current)
        if number is None:
            raise RedisError("ERR hash value is not an integer")
    result = number + increment
    if result > LLONG_MAX or result < LLONG_MIN:
        raise RedisError(OVERFLOW)
    value.set(argv[2], str(result).encode(), *_limits(client))
    _written(client, argv[1], "hincrby", 1)
    return result


def hincrbyfloat_command(client: Client, argv: list[bytes]) -> bytes:
    """HINCRBYFLOAT key field increment"""
    increment = parse_long_double(argv[3])
    if isinstance(increment, float):
        raise RedisError("ERR value is NaN or Infinity")
    value = _lookup_or_create(client.db, argv[1])
    current = value.get(argv[2])
    if current is None:
        number = 0
    else:
        number = string_to_long_double(current)
        if number is None:
            raise RedisError("ERR hash value is not a float")
    result = add_long_double(number, increment)
    if result is None or isinstance(result, float):
        raise RedisError("ERR increment would produce NaN or Infinity")
    text = format_long_double(result)
    value.set(argv[2], text, *_limits(client))
    _written(client, argv[1], "hincrbyfloat", 1)
    # Replicas and the AOF get the result, so float formatting can never make them diverge.
    client.engine.rewrite_command([b"HSET", argv[1], argv[2], text])
    return text


# -- reads --------------------------------------------------------------------------------

def hget_command(client: Client, argv: list[bytes]) -> bytes | None:
    """HGET key field"""
    value = _lookup_hash(client.db, argv[1])
    return None if value is None else value.get(argv[2])


def hmget_command(client: Client, argv: list[bytes]) -> list[bytes | None]:
    """HMGET key field [field ...]"""
    value = _lookup_hash(client.db, argv[1])
    if value is None:
        return [None] * (len(argv) - 2)
    get = value.get
    return [get(field) for field in argv[2:]]


def hlen_command(client: Client, argv: list[bytes]) -> int:
    """HLEN key"""
    value = _lookup_hash(client.db, argv[1])
    return 0 if value is None else len(value)


def hstrlen_command(client: Client, argv: list[bytes]) -> int:
    """HSTRLEN key field"""
    value = _lookup_hash(client.db, argv[1])
    found = None if value is None else value.get(argv[2])
    return 0 if found is None else len(found)


def hexists_command(client: Client, argv: list[bytes]) -> int:
    """HEXISTS key field"""
    value = _lookup_hash(client.db, argv[1])
    return int(value is not None and argv[2] in value)


def hkeys_command(client: Client, argv: list[bytes]) -> list[bytes]:
    """HKEYS key"""
    value = _lookup_hash(client.db, argv[1])
    return [] if value is None else value.fields()


def hvals_command(client: Client, argv: list[bytes]) -> list[bytes]:
    """HVALS key"""
    value = _lookup_hash(client.db, argv[1])
    return [] if value is None else value.values()


def hgetall_command(client: Client, argv: list[bytes]) -> Map:
    """HGETALL key"""
    value = _lookup_hash(client.db, argv[1])
    return Map([] if value is None else value.items())


HRANDFIELD_RANGE_ERROR = ("ERR value is out of range, value must between -9223372036854775807 and "
                          "9223372036854775807")


def hrandfield_command(client: Client, argv: list[bytes]) -> Any:
    """HRANDFIELD key [count [WITHVALUES]]"""
    if len(argv) == 2:
        value = _lookup_hash(client.db, argv[1])
        if value is None:
            return None
        rng = client.engine.rng
        if value.table is not None:
            # dict has no O(1) random access; an index into its key list is O(n) in C.
            return next(iter(_nth_fields(value, [rng.randrange(len(value))])))
        return value.items()[rng.randrange(len(value))][0]
    # The count is parsed before the WITHVALUES token is looked at (7.0.15).
    if string_to_int(argv[2]) == LLONG_MIN:
        raise RedisError(HRANDFIELD_RANGE_ERROR)
    count = parse_int_range(argv[2], -LLONG_MAX, LLONG_MAX)
    withvalues = False
    if len(argv) >= 4:
        if len(argv) > 4 or argv[3].lower() != b"withvalues":
            raise SyntaxErr()
        withvalues = True
    if withvalues and (count < -(LLONG_MAX // 2) or count > LLONG_MAX // 2):
        raise RedisError("ERR value is out of range")
    value = _lookup_hash(client.db, argv[1])
    if value is None or count == 0:
        return []
    rng = client.engine.rng
    size = len(value)
    if count < 0:
        # With repetitions: |count| independent picks.
        items = value.items()
        picks = [items[rng.randrange(size)] for _ in range(-count)]
    elif count >= size:
        picks = value.items()
    else:
        # Distinct fields; a small hash answers in its own order, as Redis's listpack sampling.
        chosen = rng.sample(range(size), count)
        if value.table is None:
            items = value.items()
            picks = [items[i] for i in sorted(chosen)]
        else:
            items = value.items()
            picks = [items[i] for i in chosen]
    if withvalues:
        return [[field, val] for field, val in picks]
    return [field for field, _ in picks]


def _nth_fields(value: HashValue, positions: list[int]) -> list[bytes]:
    fields = list(value.table)
    return [fields[i] for i in positions]


def hscan_command(client: Client, argv: list[bytes]) -> list:
    """HSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_scan_cursor(argv[2])
    value = _lookup_hash(client.db, argv[1])
    if value is None:
        return [b"0", []]
    count = 10
    pattern = None
    index = 3
    while index < len(argv):
        option = argv[index].lower()
        if index + 1 >= len(argv):
            raise SyntaxErr()
        if option == b"count":
            count = parse_count(argv[index + 1])
        elif option == b"match":
            pattern = argv[index + 1]
        else:
            raise SyntaxErr()
        index += 2
    if pattern == b"*":
        pattern = None
    if value.table is None:
        # A listpack is returned whole in one call, whatever the cursor (as Redis does).
        next_cursor, page = 0, value.items()
    else:
        next_cursor, page = value.scan(cursor, count)
    out: list[bytes] = []
    for field, val in page:
        if pattern is None or glob_match(pattern, field):
            out.append(field)
            out.append(val)
    return [str(next_cursor).encode(), out]
