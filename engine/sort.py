"""SORT and SORT_RO (sort.c): sort the elements of a list, set or sorted set.

The options are Redis's: BY pattern (``nosort`` or any pattern without ``*`` means
"keep the native order"; ``key_*->field`` reads a hash field), LIMIT offset count,
GET pattern (``#`` is the element itself), ASC/DESC, ALPHA and STORE destination
(SORT only: the result is stored as a list).

Ordering rules, as Redis 7.0 has them:

* numeric (the default): every element (or its BY value) must parse as a C
  ``strtod`` number over the whole string (leading spaces, hex and ``inf`` are
  fine; trailing junk, NaN and out-of-range values are ``One or more scores can't
  be converted into double``); a missing BY value counts as 0; equal scores are
  ordered by the element's bytes, so the order is total;
* ALPHA: byte order. Without STORE Redis compares with ``strcoll``, which stops at
  the first NUL byte (and, in the C/C.UTF-8 locales Redis runs under here, is byte
  order); with STORE it compares whole strings. Ties keep their input order (glibc's
  qsort is a stable merge sort). With BY, elements whose BY key is missing sort
  first;
* a set with no sort order under STORE (or in a script) is sorted ALPHA anyway, so
  that replicas and the AOF see the same list;
* sorting a listpack-encoded sorted set converts it to a skiplist (Redis does this
  in place, and OBJECT ENCODING shows it).

In cluster mode BY (with a pattern) and GET are refused, as in Redis. An ACL module
may install ``engine.extensions["acl_full_key_access"](client, argv) -> bool``; when
it returns False, BY and GET are refused the way Redis refuses them for users whose
key permissions are restricted.
"""

from __future__ import annotations

from typing import Any

from specredis.engine.args import parse_int
from specredis.engine.client import CLIENT_SCRIPT, Client
from specredis.engine.core import NOTIFY_GENERIC, NOTIFY_LIST
from specredis.engine.errors import SYNTAX, RedisError, WrongTypeError
from specredis.engine.keyspace import Database
from specredis.engine.types.hash import HashValue
from specredis.engine.types.list import ListValue
from specredis.engine.types.set import SetValue
from specredis.engine.types.zset import ZSetValue, strtod_whole

NOT_DOUBLE = "ERR One or more scores can't be converted into double"


def lookup_by_pattern(db: Database, pattern: bytes, element: bytes) -> bytes | None:
    """The value a BY/GET pattern names for ``element`` (lookupKeyByPattern), or None.

    ``#`` is the element itself. Otherwise the first ``*`` is replaced by the element
    to form a key; ``->field`` after the ``*`` reads that field of a hash. Keys of
    other types (and patterns without ``*``) give None."""
    if pattern == b"#":
        return element
    # Redis finds the '*' and the '->' with C string functions (they stop at a NUL byte),
    # then copies the pattern's pieces by length.
    text = _c_string(pattern)
    star = text.find(b"*")
    if star < 0:
        return None
    arrow = text.find(b"->", star + 1)
    if arrow >= 0 and arrow + 2 < len(text):
        field: bytes | None = pattern[arrow + 2:]
        key = pattern[:star] + element + pattern[star + 1:arrow]
    else:
        field = None
        key = pattern[:star] + element + pattern[star + 1:]
    value = db.lookup_read(key)
    if value is None:
        return None
    if field is not None:
        return value.get(field) if type(value) is HashValue else None
    if type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytes(value)
    return None


def _sort_score(text: bytes) -> float | None:
    """A numeric sort key: strtod over the whole string, refusing NaN and ERANGE results."""
    parsed = strtod_whole(text)
    if parsed is None:
        return None
    value, out_of_range = parsed
    return None if out_of_range else value


def _c_string(data: bytes) -> bytes:
    # strcoll() sees the element only up to its first NUL byte.
    end = data.find(b"\0")
    return data if end < 0 else data[:end]


def _full_key_access(client: Client, argv: list[bytes]) -> bool:
    check = client.engine.extensions.get("acl_full_key_access")
    return True if check is None else bool(check(client, argv))


def _sort(client: Client, argv: list[bytes], readonly: bool) -> object:
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    store_key: bytes | None = None
    sortby: bytes | None = None
    gets: list[bytes] = []
    cluster = client.engine.extensions.get("cluster") is not None
    argc = len(argv)
    j = 2
    while j < argc:
        left = argc - j - 1
        option = argv[j].lower()
        if option == b"asc":
            desc = False
        elif option == b"desc":
            desc = True
        elif option == b"alpha":
            alpha = True
        elif option == b"limit" and left >= 2:
            limit_start = parse_int(argv[j + 1])
            limit_count = parse_int(argv[j + 2])
            j += 2
        elif not readonly and option == b"store" and left >= 1:
            store_key = argv[j + 1]
            j += 1
        elif option == b"by" and left >= 1:
            sortby = argv[j + 1]
            if b"*" not in _c_string(sortby):
                dontsort = True         # no pattern to sort by (BY nosort): keep the native order
            elif cluster:
                raise RedisError("ERR BY option of SORT denied in Cluster mode.")
            elif not _full_key_access(client, argv):
                raise RedisError("ERR BY option of SORT denied due to insufficient ACL permissions.")
            j += 1
        elif option == b"get" and left >= 1:
            if cluster:
                raise RedisError("ERR GET option of SORT denied in Cluster mode.")
            if not _full_key_access(client, argv):
                raise RedisError("ERR GET option of SORT denied due to insufficient ACL permissions.")
            gets.append(argv[j + 1])
            j += 1
        else:
            raise RedisError(SYNTAX)
        j += 1

    db = client.db
    value = db.lookup_read(argv[1])
    kind = type(value)
    if value is not None and kind is not ListValue and kind is not SetValue and kind is not ZSetValue:
        raise WrongTypeError()
    if dontsort and kind is SetValue and (store_key is not None or client.flags & CLIENT_SCRIPT):
        # A set's order is arbitrary: replicas and the AOF must get the same list.
        dontsort, alpha, sortby = False, True, None
    if kind is ZSetValue:
        value.listpack = False          # SORT converts listpacks to skiplists, in place

    length = len(value) if value is not None else 0
    start = max(limit_start, 0)
    end = length - 1 if limit_count < 0 else start + limit_count - 1
    if start >= length:
        start, end = length - 1, length - 2
    if end >= length:
        end = length - 1

    # Load the elements. Lists and sorted sets in native order take the LIMIT range directly.
    if value is None:
        elements: list[bytes] = []
    elif dontsort and kind is ListValue:
        native = list(value)
        if desc:
            native.reverse()
        elements = native[start:end + 1] if end >= start else []
        start, end = 0, end - start
    elif dontsort and kind is ZSetValue:
        count = end - start + 1 if (start != 0 or end != length - 1) else length
        entries = value.slice(0, length, desc, start, max(count, 0)) if count > 0 else []
        elements = [member for _, member in entries]
        start, end = 0, end - start
    elif kind is ListValue:
        elements = list(value)
    elif kind is SetValue:
        elements = value.ordered()
    else:
        elements = list(value.scores)

    if not dontsort and elements:
        elements = _sorted(db, elements, sortby, alpha, desc, store_key is not None)

    selected = elements[start:end + 1] if end >= start else []
    if store_key is None:
        if not gets:
            return selected
        reply: list[Any] = []
        for element in selected:
            for pattern in gets:
                reply.append(lookup_by_pattern(db, pattern, element))
        return reply
    if not gets:
        stored = selected
    else:
        stored = []
        for element in selected:
            for pattern in gets:
                found = lookup_by_pattern(db, pattern, element)
                stored.append(b"" if found is None else found)
    return _store(client, store_key, stored)


def _sorted(db: Database, elements: list[bytes], sortby: bytes | None, alpha: bool, desc: bool,
            store: bool) -> list[bytes]:
    """``elements`` in SORT's order; raises the conversion error for non-numbers."""
    if alpha:
        if sortby is None:
            if store:
                return sorted(elements, reverse=desc)
            return sorted(elements, key=_c_string, reverse=desc)
        keyed = []
        for element in elements:
            found = lookup_by_pattern(db, sortby, element)
            if found is None:
                keyed.append(((0, b""), element))
            else:
                keyed.append(((1, found if store else _c_string(found)), element))
        keyed.sort(key=lambda pair: pair[0], reverse=desc)
        return [element for _, element in keyed]
    scored = []
    failed = False
    for element in elements:
        if sortby is not None:
            found = lookup_by_pattern(db, sortby, element)
            if found is None:
                scored.append((0.0, element))
                continue
        else:
            found = element
        score = _sort_score(found)
        if score is None:
            failed = True
            score = 0.0
        scored.append((score, element))
    if failed:
        raise RedisError(NOT_DOUBLE)
    scored.sort(reverse=desc)
    return [element for _, element in scored]


def _store(client: Client, key: bytes, items: list[bytes]) -> int:
    """SORT ... STORE: the result as a list at ``key`` (or the key deleted when empty)."""
    db = client.db
    engine = client.engine
    if items:
        db.lookup_write(key)            # an expired destination goes first, with its effects
        db.set_key(key, ListValue(list(items)))
        engine.notify(NOTIFY_LIST, "sortstore", key, db.id)
        engine.dirty += len(items)
        db.signal_ready(key)
        return len(items)
    if db.lookup_write(key) is not None and db.delete(key):
        db.signal_modified(key)
        engine.notify(NOTIFY_GENERIC, "del", key, db.id)
        engine.dirty += 1
    return 0


def sort_command(client: Client, argv: list[bytes]) -> object:
    """SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]"""
    return _sort(client, argv, readonly=False)


def sort_ro_command(client: Client, argv: list[bytes]) -> object:
    """SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]"""
    return _sort(client, argv, readonly=True)
