"""String commands (t_string.c).

Values are ``bytes`` (Redis's ``int``/``embstr`` encodings) or ``bytearray`` (``raw``:
a string that APPEND or SETRANGE modified in place). Readers hand out ``bytes``
copies of a bytearray, never the bytearray itself: a reply may sit in a MULTI or
pipeline buffer while a later command modifies the value.

GET, SET, INCR and MSET are on the benchmarked hot path: their common case is
written out inline (one dict lookup, no option parsing) and falls back to the
general code for anything unusual (options, TTLs, wrong types).
"""

from __future__ import annotations

from typing import Any

from specredis.engine.args import (
    LLONG_MAX,
    LLONG_MIN,
    add_long_double,
    format_long_double,
    parse_int,
    parse_positive_expire_ms,
    string_to_int,
    string_to_long_double,
)
from specredis.engine.client import CLIENT_MASTER, Client
from specredis.engine.core import NOTIFY_GENERIC, NOTIFY_STRING
from specredis.engine.errors import (
    NOT_FLOAT,
    NOT_INTEGER,
    OVERFLOW,
    STRING_TOO_LONG,
    SYNTAX,
    RedisError,
    WrongTypeError,
    wrong_arity,
)
from specredis.engine.expire import already_expired
from specredis.engine.keyspace import Database
from specredis.protocol.replies import OK, Map

# -----------------------------------------------------------------------------------------
# String API
# -----------------------------------------------------------------------------------------


def get_string(db: Database, key: bytes) -> bytes | bytearray | None:
    """The string at ``key`` for a read (counts a hit or miss); None if missing; WRONGTYPE otherwise."""
    value = db.lookup_read(key)
    if value is None:
        return None
    kind = type(value)
    if kind is bytes or kind is bytearray:
        return value
    raise WrongTypeError()


def get_string_for_write(db: Database, key: bytes) -> bytes | bytearray | None:
    """The string at ``key`` for a write (no hit/miss counted); None if missing; WRONGTYPE otherwise."""
    value = db.lookup_write(key)
    if value is None:
        return None
    kind = type(value)
    if kind is bytes or kind is bytearray:
        return value
    raise WrongTypeError()


def as_reply(value: bytes | bytearray | None) -> bytes | None:
    """A string value as a reply: bytearrays are copied (they may change before the reply is sent)."""
    return bytes(value) if type(value) is bytearray else value


def check_string_length(client: Client, size: int) -> None:
    """checkStringLength: a string may not grow past proto-max-bulk-len (the master is exempt)."""
    if size > client.engine.config["proto-max-bulk-len"] and not client.flags & CLIENT_MASTER:
        raise RedisError(STRING_TOO_LONG)


def _notify(client: Client, event_class: int, event: str, key: bytes) -> None:
    engine = client.engine
    if engine.notify_flags:
        engine.notify(event_class, event, key, client.db.id)


# -----------------------------------------------------------------------------------------
# SET family
# -----------------------------------------------------------------------------------------

SET_NX = 1 << 0          # set only if the key does not exist
SET_XX = 1 << 1          # set only if the key exists
SET_GET = 1 << 2         # reply with the old value
SET_KEEPTTL = 1 << 3     # keep the TTL of an existing key
SET_PERSIST = 1 << 4     # GETEX: remove the TTL
SET_EX = 1 << 5          # relative seconds
SET_PX = 1 << 6          # relative milliseconds
SET_EXAT = 1 << 7        # absolute unix seconds
SET_PXAT = 1 << 8        # absolute unix milliseconds
_EXPIRE_ANY = SET_EX | SET_PX | SET_EXAT | SET_PXAT

# For each expire option: its flag, and the flags that may not precede it. Repeating the
# same option is allowed (the last value wins), as in Redis.
_EXPIRE_OPTIONS = {
    b"ex": (SET_EX, SET_KEEPTTL | SET_PERSIST | SET_EXAT | SET_PX | SET_PXAT),
    b"px": (SET_PX, SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PXAT),
    b"exat": (SET_EXAT, SET_KEEPTTL | SET_PERSIST | SET_EX | SET_PX | SET_PXAT),
    b"pxat": (SET_PXAT, SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PX),
}


def _option_name(raw: bytes) -> bytes:
    # Redis compares options as C strings: whatever follows a NUL byte is not seen.
    if b"\0" in raw:
        raw = raw.split(b"\0", 1)[0]
    return raw.lower()


def parse_string_options(argv: list[bytes], start: int, for_set: bool) -> tuple[int, bytes | None]:
    """SET's and GETEX's options (parseExtendedStringArgumentsOrReply): (flags, expire argument).

    Every combination Redis refuses is ``ERR syntax error``; GETEX (``for_set`` false)
    accepts only the expire options and PERSIST."""
    flags = 0
    expire: bytes | None = None
    j = start
    argc = len(argv)
    while j < argc:
        opt = _option_name(argv[j])
        expire_option = _EXPIRE_OPTIONS.get(opt)
        if expire_option is not None:
            flag, excluded = expire_option
            if flags & excluded or j + 1 >= argc:
                raise RedisError(SYNTAX)
            flags |= flag
            expire = argv[j + 1]
            j += 2
            continue
        if for_set and opt == b"nx" and not flags & SET_XX:
            flags |= SET_NX
        elif for_set and opt == b"xx" and not flags & SET_NX:
            flags |= SET_XX
        elif for_set and opt == b"get":
            flags |= SET_GET
        elif for_set and opt == b"keepttl" and not flags & (SET_PERSIST | _EXPIRE_ANY):
            flags |= SET_KEEPTTL
        elif not for_set and opt == b"persist" and not flags & (_EXPIRE_ANY | SET_KEEPTTL):
            flags |= SET_PERSIST
        else:
            raise RedisError(SYNTAX)
        j += 1
    return flags, expire


def _expire_ms(client: Client, flags: int, expire: bytes, command: str) -> int:
    return parse_positive_expire_ms(expire, bool(flags & (SET_EX | SET_EXAT)), bool(flags & (SET_EX | SET_PX)),
                                    client.engine.now_ms(), command)


def set_generic(client: Client, flags: int, key: bytes, value: bytes, expire: bytes | None, command: str,
                argv: list[bytes], ok_reply: Any = OK, abort_reply: Any = None) -> Any:
    """setGenericCommand: SET and its variants (SETNX, SETEX, PSETEX) after option parsing."""
    engine = client.engine
    db = client.db
    when = _expire_ms(client, flags, expire, command) if expire is not None else 0
    old = None
    if flags & SET_GET:
        old = as_reply(get_string(db, key))
    found = db.lookup_write(key) is not None
    if (flags & SET_NX and found) or (flags & SET_XX and not found):
        return old if flags & SET_GET else abort_reply
    db.set_key(key, value, keep_ttl=bool(flags & SET_KEEPTTL))
    engine.dirty += 1
    _notify(client, NOTIFY_STRING, "set", key)
    if expire is not None:
        db.expires[key] = when
        _notify(client, NOTIFY_GENERIC, "expire", key)
        # Replicas and the AOF get an absolute time (SET key value PXAT <ms>), so a replay
        # later does not extend the TTL; NX/XX/GET are dropped as the key is now set.
        engine.rewrite_command([b"SET", key, value, b"PXAT", b"%d" % when])
    elif flags & SET_GET:
        # Propagated without the GET tokens: a replica has no one to reply to.
        engine.rewrite_command([arg for i, arg in enumerate(argv) if i < 3 or _option_name(arg) != b"get"])
    return old if flags & SET_GET else ok_reply


# Short values are shared between keys, as Redis shares its small integers
# (OBJ_SHARED_INTEGERS): bytes are immutable, so a million keys holding b"xxx" can point at
# one object instead of a million (48 bytes each). The table is bounded: once it holds
# _SHARED_MAX values, new ones are stored unshared.
_SHARED: dict[bytes, bytes] = {}
_SHARED_MAX = 1 << 16
_SHARED_LEN = 16


def shared_value(value: bytes) -> bytes:
    """The shared object equal to ``value`` when it is short bytes, else ``value`` itself."""
    if type(value) is not bytes or len(value) > _SHARED_LEN:
        return value
    shared = _SHARED.get(value)
    if shared is not None:
        return shared
    if len(_SHARED) < _SHARED_MAX:
        _SHARED[value] = value
    return value


def set_command(client: Client, argv: list[bytes]) -> Any:
    """SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]"""
    if len(argv) == 3:
        # The hot path: no options, so no parsing, no old value, no TTL to set. (specredis/
        # _hotloop.c has a C version of it, fast_set: change both together.)
        db = client.db
        key = argv[1]
        if db.expires and key in db.expires:
            db.expire_if_needed(key)      # lookupKeyWrite: an expired key is deleted first
        value = argv[2]
        if len(value) <= _SHARED_LEN and type(value) is bytes:
            value = _SHARED.get(value) or shared_value(value)
        db.set_key(key, value)
        engine = client.engine
        engine.dirty += 1
        if engine.notify_flags:
            engine.notify(NOTIFY_STRING, "set", key, db.id)
        return OK
    flags, expire = parse_string_options(argv, 3, True)
    return set_generic(client, flags, argv[1], shared_value(argv[2]), expire, "set", argv)


def setnx_command(client: Client, argv: list[bytes]) -> Any:
    """SETNX key value"""
    return set_generic(client, SET_NX, argv[1], argv[2], None, "setnx", argv, 1, 0)


def setex_command(client: Client, argv: list[bytes]) -> Any:
    """SETEX key seconds value"""
    return set_generic(client, SET_EX, argv[1], argv[3], argv[2], "setex", argv)


def psetex_command(client: Client, argv: list[bytes]) -> Any:
    """PSETEX key milliseconds value"""
    return set_generic(client, SET_PX, argv[1], argv[3], argv[2], "psetex", argv)


def mset_command(client: Client, argv: list[bytes]) -> Any:
    """MSET key value [key value ...]"""
    if len(argv) % 2 == 0:
        raise wrong_arity("mset")
    _mset(client, argv)
    return OK


def _mset(client: Client, argv: list[bytes]) -> None:
    db = client.db
    engine = client.engine
    # (Values are not shared here as SET shares them: even a C-level pass over them costs
    # MSET a third of its time.)
    keys, values = argv[1::2], argv[2::2]
    if db.expires:
        expires = db.expires
        for key in keys:
            if key in expires:
                db.expire_if_needed(key)      # lookupKeyWrite: an expired key is deleted first
    if engine.notify_flags:
        # Events interleave per key as in Redis: new, set, new, set...
        for key, value in zip(keys, values, strict=True):
            db.set_key(key, value)
            engine.notify(NOTIFY_STRING, "set", key, db.id)
    else:
        db.set_keys(keys, values)
    engine.dirty += len(keys)


def msetnx_command(client: Client, argv: list[bytes]) -> Any:
    """MSETNX key value [key value ...]"""
    if len(argv) % 2 == 0:
        raise wrong_arity("msetnx")
    db = client.db
    for i in range(1, len(argv), 2):
        if db.lookup_write(argv[i]) is not None:
            return 0
    _mset(client, argv)
    return 1


# -----------------------------------------------------------------------------------------
# GET family
# -----------------------------------------------------------------------------------------

def get_command(client: Client, argv: list[bytes]) -> Any:
    """GET key"""
    db = client.db
    key = argv[1]
    value = db.data.get(key)
    if value is not None and not (db.expires and key in db.expires):
        # The hot path: a key without TTL (lookup_read's work, inline).
        client.engine.stats.keyspace_hits += 1
        kind = type(value)
        if kind is bytes:
            return value
        if kind is bytearray:
            return bytes(value)
        raise WrongTypeError()
    return as_reply(get_string(db, key))


def mget_command(client: Client, argv: list[bytes]) -> list:
    """MGET key [key ...]"""
    lookup = client.db.lookup_read
    out: list = []
    for key in argv[1:]:
        value = lookup(key)
        kind = type(value)
        out.append(value if kind is bytes else bytes(value) if kind is bytearray else None)
    return out


def getset_command(client: Client, argv: list[bytes]) -> Any:
    """GETSET key value"""
    db = client.db
    key, value = argv[1], argv[2]
    old = as_reply(get_string(db, key))
    db.set_key(key, value)
    _notify(client, NOTIFY_STRING, "set", key)
    engine = client.engine
    engine.dirty += 1
    engine.rewrite_command([b"SET", key, value])
    return old


def getdel_command(client: Client, argv: list[bytes]) -> Any:
    """GETDEL key"""
    db = client.db
    key = argv[1]
    old = as_reply(get_string(db, key))
    if old is None:
        return None
    db.delete(key)
    engine = client.engine
    engine.rewrite_command([b"UNLINK" if engine.config["lazyfree-lazy-user-del"] else b"DEL", key])
    db.signal_modified(key)
    _notify(client, NOTIFY_GENERIC, "del", key)
    engine.dirty += 1
    return old


def getex_command(client: Client, argv: list[bytes]) -> Any:
    """GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]"""
    flags, expire = parse_string_options(argv, 2, False)
    db = client.db
    key = argv[1]
    value = as_reply(get_string(db, key))
    if value is None:
        return None
    engine = client.engine
    when = _expire_ms(client, flags, expire, "getex") if expire is not None else 0
    # Never propagated as is: as PEXPIREAT, DEL/UNLINK or PERSIST.
    if flags & (SET_EXAT | SET_PXAT) and already_expired(engine, when):
        db.delete(key)
        engine.rewrite_command([b"UNLINK" if engine.config["lazyfree-lazy-expire"] else b"DEL", key])
        db.signal_modified(key)
        _notify(client, NOTIFY_GENERIC, "del", key)
        engine.dirty += 1
    elif expire is not None:
        db.expires[key] = when
        engine.rewrite_command([b"PEXPIREAT", key, b"%d" % when])
        db.signal_modified(key)
        _notify(client, NOTIFY_GENERIC, "expire", key)
        engine.dirty += 1
    elif flags & SET_PERSIST and db.expires.pop(key, None) is not None:
        db.signal_modified(key)
        engine.rewrite_command([b"PERSIST", key])
        _notify(client, NOTIFY_GENERIC, "persist", key)
        engine.dirty += 1
    return value


def strlen_command(client: Client, argv: list[bytes]) -> int:
    """STRLEN key"""
    value = get_string(client.db, argv[1])
    return 0 if value is None else len(value)


def getrange_command(client: Client, argv: list[bytes]) -> bytes:
    """GETRANGE key start end"""
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    value = get_string(client.db, argv[1])
    if value is None:
        return b""
    length = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = max(0, length + start)
    if end < 0:
        end = max(0, length + end)
    if end >= length:
        end = length - 1
    if start > end or length == 0:
        return b""
    return bytes(value[start:end + 1])


def substr_command(client: Client, argv: list[bytes]) -> bytes:
    """SUBSTR key start end"""
    return getrange_command(client, argv)


# -----------------------------------------------------------------------------------------
# In-place modification
# -----------------------------------------------------------------------------------------

def append_command(client: Client, argv: list[bytes]) -> int:
    """APPEND key value"""
    db = client.db
    key, suffix = argv[1], argv[2]
    value = get_string_for_write(db, key)
    if value is None:
        db.add(key, suffix)
        length = len(suffix)
    else:
        check_string_length(client, len(value) + len(suffix))
        if type(value) is bytes:
            # The value becomes a 'raw' string, modified in place from now on.
            value = bytearray(value)
            db.data[key] = value
        value += suffix
        length = len(value)
    db.signal_modified(key)
    _notify(client, NOTIFY_STRING, "append", key)
    client.engine.dirty += 1
    return length


def setrange_command(client: Client, argv: list[bytes]) -> int:
    """SETRANGE key offset value"""
    offset = parse_int(argv[2])
    if offset < 0:
        raise RedisError("ERR offset is out of range")
    db = client.db
    key, patch = argv[1], argv[3]
    value = get_string_for_write(db, key)
    if value is None:
        if not patch:
            return 0
        check_string_length(client, offset + len(patch))
        value = bytearray(offset + len(patch))
        db.add(key, value)
    else:
        if not patch:
            return len(value)
        check_string_length(client, offset + len(patch))
        if type(value) is bytes:
            value = bytearray(value)
            db.data[key] = value
    end = offset + len(patch)
    if len(value) < end:
        value.extend(bytes(end - len(value)))
    value[offset:end] = patch
    db.signal_modified(key)
    _notify(client, NOTIFY_STRING, "setrange", key)
    client.engine.dirty += 1
    return len(value)


# -----------------------------------------------------------------------------------------
# Counters
# -----------------------------------------------------------------------------------------

def incr_decr(client: Client, key: bytes, increment: int) -> int:
    """incrDecrCommand: add ``increment`` to the integer at ``key`` (0 if missing); TTL is kept."""
    db = client.db
    data = db.data
    value = data.get(key)
    if value is not None and db.expires and key in db.expires and db.expire_if_needed(key):
        value = None
    if value is None:
        current = 0
    else:
        kind = type(value)
        if kind is bytes and len(value) < 19 and value.isdigit() and (value[0] != 48 or len(value) == 1):
            current = int(value)          # the common case: a small non-negative canonical integer
        elif kind is bytes or kind is bytearray:
            current = string_to_int(bytes(value))
            if current is None:
                raise RedisError(NOT_INTEGER)
        else:
            raise WrongTypeError()
        if (increment < 0 and current < 0 and increment < LLONG_MIN - current) or \
                (increment > 0 and current > 0 and increment > LLONG_MAX - current):
            raise RedisError(OVERFLOW)
    result = current + increment
    engine = client.engine
    if value is None:
        db.add(key, b"%d" % result)
    else:
        data[key] = b"%d" % result
    if engine.key_modified_hooks:
        db.signal_modified(key)
    if engine.notify_flags:
        engine.notify(NOTIFY_STRING, "incrby", key, db.id)
    engine.dirty += 1
    return result


def incr_command(client: Client, argv: list[bytes]) -> int:
    """INCR key"""
    # specredis/_hotloop.c has a C version of the plain case (fast_incr, for DECR too):
    # change both together.
    # The hot case inline: a small non-negative canonical integer without TTL, nothing
    # listening for modifications (incr_decr's steps for it, in its order).
    db = client.db
    key = argv[1]
    value = db.data.get(key)
    if type(value) is bytes and len(value) < 18 and value.isdigit() and (value[0] != 48 or len(value) == 1) \
            and not (db.expires and key in db.expires):
        engine = client.engine
        if not engine.key_modified_hooks and not engine.notify_flags:
            result = int(value) + 1
            db.data[key] = b"%d" % result
            engine.dirty += 1
            return result
    return incr_decr(client, key, 1)


def decr_command(client: Client, argv: list[bytes]) -> int:
    """DECR key"""
    return incr_decr(client, argv[1], -1)


def incrby_command(client: Client, argv: list[bytes]) -> int:
    """INCRBY key increment"""
    return incr_decr(client, argv[1], parse_int(argv[2]))


def decrby_command(client: Client, argv: list[bytes]) -> int:
    """DECRBY key decrement"""
    decrement = parse_int(argv[2])
    if decrement == LLONG_MIN:
        raise RedisError("ERR decrement would overflow")
    return incr_decr(client, argv[1], -decrement)


def incrbyfloat_command(client: Client, argv: list[bytes]) -> bytes:
    """INCRBYFLOAT key increment"""
    db = client.db
    key = argv[1]
    value = get_string_for_write(db, key)
    current = 0 if value is None else string_to_long_double(bytes(value))
    if current is None:
        raise RedisError(NOT_FLOAT)
    increment = string_to_long_double(argv[2])
    if increment is None:
        raise RedisError(NOT_FLOAT)
    total = add_long_double(current, increment)
    if total is None or isinstance(total, float):
        raise RedisError("ERR increment would produce NaN or Infinity")
    text = format_long_double(total)
    if value is None:
        db.add(key, text)
    else:
        db.data[key] = text
    db.signal_modified(key)
    _notify(client, NOTIFY_STRING, "incrbyfloat", key)
    engine = client.engine
    engine.dirty += 1
    # Float formatting may differ between machines: replicas get the result, keeping the TTL.
    engine.rewrite_command([b"SET", key, text, b"KEEPTTL"])
    return text


# -----------------------------------------------------------------------------------------
# LCS
# -----------------------------------------------------------------------------------------

def lcs_rows(a: bytes, b: bytes) -> list[int]:
    """The LCS table of ``a`` and ``b``, one bit-vector row per prefix of ``a`` (Hyyrö's
    bit-parallel algorithm): with ``rows[i]``, LCS(a[:i], b[:j]) is ``j`` minus the number of
    set bits among its low ``j`` bits. This is Redis's DP table in 1/32 of its memory,
    computed with big-integer operations instead of a Python loop per cell."""
    masks: dict[int, int] = {}
    for j, char in enumerate(b):
        masks[char] = masks.get(char, 0) | (1 << j)
    full = (1 << len(b)) - 1
    row = full
    rows = [row]
    for char in a:
        matched = row & masks.get(char, 0)
        row = ((row + matched) | (row - matched)) & full
        rows.append(row)
    return rows


def _lcs_at(rows: list[int], i: int, j: int) -> int:
    return j - (rows[i] & ((1 << j) - 1)).bit_count()


def lcs_command(client: Client, argv: list[bytes]) -> Any:
    """LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]"""
    db = client.db
    first = db.lookup_read(argv[1])
    second = db.lookup_read(argv[2])
    if (first is not None and type(first) not in (bytes, bytearray)) or \
            (second is not None and type(second) not in (bytes, bytearray)):
        raise RedisError("ERR The specified keys must contain string values")
    a = bytes(first) if first is not None else b""
    b = bytes(second) if second is not None else b""
    get_len = get_idx = with_match_len = False
    min_match_len = 0
    j = 3
    while j < len(argv):
        option = argv[j].lower()
        if option == b"idx":
            get_idx = True
        elif option == b"len":
            get_len = True
        elif option == b"withmatchlen":
            with_match_len = True
        elif option == b"minmatchlen" and j + 1 < len(argv):
            min_match_len = max(0, parse_int(argv[j + 1]))
            j += 1
        else:
            raise RedisError(SYNTAX)
        j += 1
    if get_idx and get_len:
        raise RedisError("ERR If you want both the length and indexes, please just use IDX.")
    alen, blen = len(a), len(b)
    if alen >= 0xFFFFFFFF - 1 or blen >= 0xFFFFFFFF - 1:
        raise RedisError("ERR String too long for LCS")
    # Redis refuses when its (alen+1)*(blen+1) table of uint32 would exceed proto-max-bulk-len.
    if (alen + 1) * (blen + 1) * 4 > client.engine.config["proto-max-bulk-len"]:
        raise RedisError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    rows = lcs_rows(a, b)
    total = _lcs_at(rows, alen, blen)
    if get_len and not get_idx:
        return total
    # Walk back from the end as Redis does, building the LCS and its ranges of matches.
    result = bytearray(total)
    matches: list = []
    idx = total
    i, j = alen, blen
    a_start = alen          # 'alen' means: no range in progress
    a_end = b_start = b_end = 0
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if a_start == alen:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            if _lcs_at(rows, i - 1, j) > _lcs_at(rows, i, j - 1):
                i -= 1
            else:
                j -= 1
            if a_start != alen:
                emit = True
        if emit:
            match_len = a_end - a_start + 1
            if get_idx and (min_match_len == 0 or match_len >= min_match_len):
                match = [[a_start, a_end], [b_start, b_end]]
                if with_match_len:
                    match.append(match_len)
                matches.append(match)
            a_start = alen
    if get_idx:
        return Map([(b"matches", matches), (b"len", total)])
    return bytes(result)
