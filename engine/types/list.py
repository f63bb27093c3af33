"""The list type: LPUSH ... LMPOP, and the blocking pops BLPOP ... BLMPOP.

Type API first (:class:`ListValue`), then the commands, grouped as in Redis's
t_list.c. Blocking commands use the generic machinery of ``engine/blocking.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from specredis.engine.args import parse_int
from specredis.engine.blocking import block_for_keys, may_block, parse_timeout_seconds, propagate
from specredis.engine.client import Client
from specredis.engine.core import NOTIFY_GENERIC, NOTIFY_LIST
from specredis.engine.debug import digest_ordered, register_digest
from specredis.engine.errors import (
    NO_SUCH_KEY,
    OUT_OF_RANGE,
    RedisError,
    SyntaxErr,
    WrongTypeError,
    wrong_arity,
)
from specredis.engine.keyspace import Database, register_type
from specredis.protocol.replies import NULL_ARRAY, OK

LEFT, RIGHT = 0, 1
LONG_MIN = -(1 << 63)


# -- Type API -----------------------------------------------------------------------------

class ListValue:
    """A Redis list: O(1) push and pop at both ends, O(1) access by index.

    Two Python lists back it: ``head`` holds the first elements in reverse order
    (so pushing and popping on the left are appends and pops at its end) and
    ``tail`` the rest in order. When one side runs empty, half of the other is
    moved over, so pops stay amortised O(1) from either end, and an index is one
    subscript. Ranges are C-level slices; middle insertions and removals are a
    memmove, like the listpack nodes of Redis's quicklist."""

    __slots__ = ("head", "tail")

    def __init__(self, items: list[bytes] | None = None) -> None:
        self.head: list[bytes] = []
        self.tail: list[bytes] = items if items is not None else []

    def __len__(self) -> int:
        return len(self.head) + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield from reversed(self.head)
        yield from self.tail

    def encoding(self, config: Any = None) -> str:
        """OBJECT ENCODING: Redis 7.0 keeps every list in a quicklist (listpack lists came in 7.2)."""
        return "quicklist"

    # -- ends -----------------------------------------------------------------------------

    def push_left(self, items: list[bytes]) -> None:
        """LPUSH order: each item goes to the head in turn."""
        self.head.extend(items)

    def push_right(self, items: list[bytes]) -> None:
        self.tail.extend(items)

    def pop_left(self) -> bytes:
        head = self.head
        if not head:
            self._refill_head()
            head = self.head
        return head.pop()

    def pop_right(self) -> bytes:
        tail = self.tail
        if not tail:
            self._refill_tail()
            tail = self.tail
        return tail.pop()

    def pop_many(self, where: int, count: int) -> list[bytes]:
        """Up to ``count`` elements from one end, in pop order."""
        count = min(count, len(self))
        if where == LEFT:
            if count > len(self.head):
                self._normalize()
                out = self.tail[:count]
                del self.tail[:count]
                return out
            out = self.head[-count:]
            del self.head[-count:]
            out.reverse()
            return out
        if count > len(self.tail):
            self._normalize()
        out = self.tail[-count:]
        del self.tail[-count:]
        out.reverse()
        return out

    def _refill_head(self) -> None:
        # Move the first half of tail (at least one element) over to head, reversed.
        tail = self.tail
        half = (len(tail) + 1) // 2
        moved = tail[:half]
        del tail[:half]
        moved.reverse()
        self.head = moved

    def _refill_tail(self) -> None:
        head = self.head
        half = (len(head) + 1) // 2
        moved = head[:half]
        del head[:half]
        moved.reverse()
        self.tail = moved

    def _normalize(self) -> list[bytes]:
        """Put every element in ``tail`` (for whole-list operations) and return it."""
        if self.head:
            head = self.head
            head.reverse()
            head.extend(self.tail)
            self.tail = head
            self.head = []
        return self.tail

    # -- indexes --------------------------------------------------------------------------

    def get(self, index: int) -> bytes:
        """The element at ``index`` (0 <= index < len)."""
        head_len = len(self.head)
        if index < head_len:
            return self.head[head_len - 1 - index]
        return self.tail[index - head_len]

    def set(self, index: int, value: bytes) -> None:
        head_len = len(self.head)
        if index < head_len:
            self.head[head_len - 1 - index] = value
        else:
            self.tail[index - head_len] = value

    def range(self, start: int, end: int) -> list[bytes]:
        """Elements ``start`` to ``end`` inclusive (0 <= start <= end < len)."""
        head = self.head
        head_len = len(head)
        if start >= head_len:
            return self.tail[start - head_len:end - head_len + 1]
        last = min(end, head_len - 1)
        out = head[head_len - 1 - last:head_len - start]
        out.reverse()
        if end >= head_len:
            out.extend(self.tail[:end - head_len + 1])
        return out

    def items(self) -> list[bytes]:
        """Every element in order (the backing list: do not keep it across writes)."""
        return self._normalize()

    def trim(self, start: int, end: int) -> None:
        """Keep elements ``start`` to ``end`` inclusive (an empty range empties the list)."""
        items = self._normalize()
        if start > end:
            items.clear()
            return
        del items[end + 1:]
        del items[:start]


register_type(ListValue, "list")
register_digest(ListValue, digest_ordered)      # DEBUG DIGEST: every element mixed in, in order


# -- helpers ------------------------------------------------------------------------------

def _lookup_list(db: Database, key: bytes, write: bool = True) -> ListValue | None:
    value = db.lookup_write(key) if write else db.lookup_read(key)
    if value is not None and type(value) is not ListValue:
        raise WrongTypeError()
    return value


def _parse_where(raw: bytes) -> int:
    """LEFT or RIGHT, any case (getListPositionFromObjectOrReply)."""
    low = raw.lower()
    if low == b"left":
        return LEFT
    if low == b"right":
        return RIGHT
    raise SyntaxErr()


def _notify(client: Client, event: str, key: bytes) -> None:
    engine = client.engine
    if engine.notify_flags:
        engine.notify(NOTIFY_LIST, event, key, client.db.id)


def _delete_if_empty(client: Client, key: bytes, value: ListValue) -> bool:
    """Delete an emptied list with its 'del' event; True if it was deleted."""
    if len(value):
        return False
    client.db.delete(key)
    engine = client.engine
    if engine.notify_flags:
        engine.notify(NOTIFY_GENERIC, "del", key, client.db.id)
    return True


def _push(client: Client, argv: list[bytes], where: int, only_existing: bool) -> int:
    db = client.db
    key = argv[1]
    value = db.data.get(key)
    if value is None or db.expires:
        value = _lookup_list(db, key)       # the slow path: expiry, creation
        if value is None:
            if only_existing:
                return 0
            value = ListValue()
            db.add(key, value)          # signals the key ready for clients blocked on it
    elif type(value) is not ListValue:
        raise WrongTypeError()
    if where == LEFT:
        value.head.extend(argv[2:])
    else:
        value.tail.extend(argv[2:])
    engine = client.engine
    engine.dirty += len(argv) - 2
    if engine.key_modified_hooks:
        db.signal_modified(key)
    if engine.notify_flags:
        engine.notify(NOTIFY_LIST, "lpush" if where == LEFT else "rpush", key, db.id)
    return len(value.head) + len(value.tail)


def _pop_one(client: Client, key: bytes, value: ListValue, where: int) -> bytes:
    """Pop one element with every write effect (the key is deleted when emptied)."""
    element = value.pop_left() if where == LEFT else value.pop_right()
    engine = client.engine
    engine.dirty += 1
    if engine.notify_flags:
        engine.notify(NOTIFY_LIST, "lpop" if where == LEFT else "rpop", key, client.db.id)
    if not value.head and not value.tail:
        _delete_if_empty(client, key, value)
    if engine.key_modified_hooks:
        client.db.signal_modified(key)
    return element


def _pop_count(client: Client, key: bytes, value: ListValue, where: int, count: int) -> list[bytes]:
    elements = value.pop_many(where, count)
    client.engine.dirty += len(elements)
    _notify(client, "lpop" if where == LEFT else "rpop", key)
    _delete_if_empty(client, key, value)
    client.db.signal_modified(key)
    return elements


def _move(client: Client, source_key: bytes, source: ListValue, dest_key: bytes, dest: ListValue | None,
          wherefrom: int, whereto: int) -> bytes:
    """Pop from ``source`` and push onto ``dest`` (created if None): LMOVE's effects, in Redis's order."""
    db = client.db
    element = source.pop_left() if wherefrom == LEFT else source.pop_right()
    if dest is None:
        if source_key == dest_key:
            dest = source
        else:
            dest = ListValue()
            db.add(dest_key, dest)
    db.signal_modified(dest_key)
    if whereto == LEFT:
        dest.head.append(element)
    else:
        dest.tail.append(element)
    _notify(client, "lpush" if whereto == LEFT else "rpush", dest_key)
    _notify(client, "lpop" if wherefrom == LEFT else "rpop", source_key)
    _delete_if_empty(client, source_key, source)
    db.signal_modified(source_key)
    client.engine.dirty += 1
    return element


def _normalize_range(start: int, end: int, length: int) -> tuple[int, int] | None:
    """LRANGE/LTRIM index rules: negative from the end, clamped; None when empty."""
    if start < 0:
        start += length
    if end < 0:
        end += length
    if start < 0:
        start = 0
    if start > end or start >= length:
        return None
    if end >= length:
        end = length - 1
    return start, end


# -- push ---------------------------------------------------------------------------------

def lpush_command(client: Client, argv: list[bytes]) -> int:
    """LPUSH key element [element ...]"""
    # The hot case inline (_push's steps): an existing list without TTL, nothing listening.
    db = client.db
    value = db.data.get(argv[1])
    if type(value) is ListValue and not db.expires:
        engine = client.engine
        if not engine.key_modified_hooks and not engine.notify_flags:
            value.head.extend(argv[2:])
            engine.dirty += len(argv) - 2
            return len(value.head) + len(value.tail)
    return _push(client, argv, LEFT, False)


def rpush_command(client: Client, argv: list[bytes]) -> int:
    """RPUSH key element [element ...]"""
    db = client.db
    value = db.data.get(argv[1])
    if type(value) is ListValue and not db.expires:
        engine = client.engine
        if not engine.key_modified_hooks and not engine.notify_flags:
            value.tail.extend(argv[2:])
            engine.dirty += len(argv) - 2
            return len(value.head) + len(value.tail)
    return _push(client, argv, RIGHT, False)


def lpushx_command(client: Client, argv: list[bytes]) -> int:
    """LPUSHX key element [element ...]"""
    return _push(client, argv, LEFT, True)


def rpushx_command(client: Client, argv: list[bytes]) -> int:
    """RPUSHX key element [element ...]"""
    return _push(client, argv, RIGHT, True)


def linsert_command(client: Client, argv: list[bytes]) -> int:
    """LINSERT key BEFORE|AFTER pivot element"""
    where = argv[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        raise SyntaxErr()
    db = client.db
    key = argv[1]
    value = _lookup_list(db, key)
    if value is None:
        return 0
    items = value.items()
    try:
        index = items.index(argv[3])
    except ValueError:
        return -1
    items.insert(index + 1 if after else index, argv[4])
    db.signal_modified(key)
    _notify(client, "linsert", key)
    client.engine.dirty += 1
    return len(value)


# -- read ---------------------------------------------------------------------------------

def llen_command(client: Client, argv: list[bytes]) -> int:
    """LLEN key"""
    value = _lookup_list(client.db, argv[1], write=False)
    return 0 if value is None else len(value)


def lindex_command(client: Client, argv: list[bytes]) -> bytes | None:
    """LINDEX key index"""
    value = _lookup_list(client.db, argv[1], write=False)
    if value is None:
        return None
    index = parse_int(argv[2])
    length = len(value)
    if index < 0:
        index += length
    if index < 0 or index >= length:
        return None
    return value.get(index)


def lrange_command(client: Client, argv: list[bytes]) -> list[bytes]:
    """LRANGE key start stop"""
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    value = _lookup_list(client.db, argv[1], write=False)
    if value is None:
        return []
    bounds = _normalize_range(start, end, len(value))
    if bounds is None:
        return []
    return value.range(*bounds)


def lpos_command(client: Client, argv: list[bytes]) -> Any:
    """LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]"""
    rank, count, maxlen = 1, None, 0
    index = 3
    while index < len(argv):
        option = argv[index].lower()
        more = index + 1 < len(argv)
        if option == b"rank" and more:
            rank = parse_int(argv[index + 1])
            if rank == 0:
                raise RedisError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                                 "second ... or use negative to start from the end of the list")
        elif option == b"count" and more:
            count = _parse_non_negative(argv[index + 1], "ERR COUNT can't be negative")
        elif option == b"maxlen" and more:
            maxlen = _parse_non_negative(argv[index + 1], "ERR MAXLEN can't be negative")
        else:
            raise SyntaxErr()
        index += 2
    value = _lookup_list(client.db, argv[1], write=False)
    if value is None:
        return [] if count is not None else None
    items = value.items()
    length = len(items)
    element = argv[2]
    from_tail = rank < 0
    if rank == LONG_MIN:
        # Redis negates LONG_MIN in C, which leaves it negative: every match then satisfies
        # 'matches >= rank', so it behaves as -1.
        rank = 1
    else:
        rank = abs(rank)
    window = length if maxlen == 0 else min(maxlen, length)
    haystack = items[length - window:][::-1] if from_tail else items
    wanted = None if count is None else (count or length)
    found: list[int] = []
    matches = 0
    position = 0
    while position < window:
        try:
            position = haystack.index(element, position, window)
        except ValueError:
            break
        matches += 1
        if matches >= rank:
            found.append(length - 1 - position if from_tail else position)
            if wanted is None or len(found) >= wanted:
                break
        position += 1
    if count is None:
        return found[0] if found else None
    return found


def _parse_non_negative(raw: bytes, error: str) -> int:
    """getPositiveLongFromObjectOrReply with a message: one error for junk and for < 0."""
    value = parse_int(raw, error)
    if value < 0:
        raise RedisError(error)
    return value


# -- modify -------------------------------------------------------------------------------

def lset_command(client: Client, argv: list[bytes]) -> Any:
    """LSET key index element"""
    db = client.db
    key = argv[1]
    value = _lookup_list(db, key)
    if value is None:
        raise RedisError(NO_SUCH_KEY)
    index = parse_int(argv[2])
    length = len(value)
    if index < 0:
        index += length
    if index < 0 or index >= length:
        raise RedisError(OUT_OF_RANGE)
    value.set(index, argv[3])
    db.signal_modified(key)
    _notify(client, "lset", key)
    client.engine.dirty += 1
    return OK


def ltrim_command(client: Client, argv: list[bytes]) -> Any:
    """LTRIM key start stop"""
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    db = client.db
    key = argv[1]
    value = _lookup_list(db, key)
    if value is None:
        return OK
    length = len(value)
    bounds = _normalize_range(start, end, length)
    if bounds is None:
        value.trim(1, 0)
        removed = length
    else:
        value.trim(*bounds)
        removed = length - len(value)
    _notify(client, "ltrim", key)
    _delete_if_empty(client, key, value)
    db.signal_modified(key)
    client.engine.dirty += removed
    return OK


def lrem_command(client: Client, argv: list[bytes]) -> int:
    """LREM key count element"""
    count = parse_int(argv[2])
    db = client.db
    key = argv[1]
    value = _lookup_list(db, key)
    if value is None:
        return 0
    items = value.items()
    element = argv[3]
    if count == 0:
        kept = [item for item in items if item != element]
        removed = len(items) - len(kept)
        if removed:
            items[:] = kept
    else:
        # The positions of the first |count| matches from the chosen end, found by C-level search.
        search = items if count > 0 else items[::-1]
        limit = abs(count)
        positions: list[int] = []
        position = 0
        while len(positions) < limit:
            try:
                position = search.index(element, position)
            except ValueError:
                break
            positions.append(position)
            position += 1
        removed = len(positions)
        if count < 0:
            last = len(items) - 1
            positions = [last - p for p in positions]
        for position in sorted(positions, reverse=True):
            del items[position]
    if removed:
        _notify(client, "lrem", key)
        _delete_if_empty(client, key, value)
        db.signal_modified(key)
        client.engine.dirty += removed
    return removed


# -- pop ----------------------------------------------------------------------------------

def _pop_command(client: Client, argv: list[bytes], where: int) -> Any:
    if len(argv) > 3:
        raise wrong_arity(argv[0].decode(errors="replace").lower())
    count = None
    if len(argv) == 3:
        count = _parse_non_negative(argv[2], "ERR value is out of range, must be positive")
    key = argv[1]
    value = _lookup_list(client.db, key)
    if value is None:
        return None if count is None else NULL_ARRAY
    if count is None:
        return _pop_one(client, key, value, where)
    if count == 0:
        return []
    return _pop_count(client, key, value, where, count)


def lpop_command(client: Client, argv: list[bytes]) -> Any:
    """LPOP key [count]"""
    # The hot case inline (_pop_one's steps): no count, a list that keeps an element on
    # the popped side after the pop, no TTL, nothing listening.
    if len(argv) == 2:
        db = client.db
        value = db.data.get(argv[1])
        if type(value) is ListValue and len(value.head) > 1 and not db.expires:
            engine = client.engine
            if not engine.key_modified_hooks and not engine.notify_flags:
                engine.dirty += 1
                return value.head.pop()
    return _pop_command(client, argv, LEFT)


def rpop_command(client: Client, argv: list[bytes]) -> Any:
    """RPOP key [count]"""
    if len(argv) == 2:
        db = client.db
        value = db.data.get(argv[1])
        if type(value) is ListValue and len(value.tail) > 1 and not db.expires:
            engine = client.engine
            if not engine.key_modified_hooks and not engine.notify_flags:
                engine.dirty += 1
                return value.tail.pop()
    return _pop_command(client, argv, RIGHT)


def lmove_command(client: Client, argv: list[bytes]) -> bytes | None:
    """LMOVE source destination LEFT|RIGHT LEFT|RIGHT"""
    wherefrom = _parse_where(argv[3])
    whereto = _parse_where(argv[4])
    return _lmove(client, argv[1], argv[2], wherefrom, whereto)


def rpoplpush_command(client: Client, argv: list[bytes]) -> bytes | None:
    """RPOPLPUSH source destination"""
    return _lmove(client, argv[1], argv[2], RIGHT, LEFT)


def _lmove(client: Client, source_key: bytes, dest_key: bytes, wherefrom: int, whereto: int) -> bytes | None:
    db = client.db
    source = _lookup_list(db, source_key)
    if source is None:
        return None
    dest = _lookup_list(db, dest_key)
    return _move(client, source_key, source, dest_key, dest, wherefrom, whereto)


def _parse_mpop(argv: list[bytes], numkeys_index: int) -> tuple[list[bytes], int, int]:
    """numkeys key [key ...] LEFT|RIGHT [COUNT count] -> (keys, where, count)."""
    numkeys = parse_int(argv[numkeys_index], "ERR numkeys should be greater than 0")
    if numkeys < 1:
        raise RedisError("ERR numkeys should be greater than 0")
    where_index = numkeys_index + 1 + numkeys
    if numkeys > len(argv) or where_index >= len(argv):
        raise SyntaxErr()
    where = _parse_where(argv[where_index])
    count = None
    index = where_index + 1
    while index < len(argv):
        if argv[index].lower() == b"count" and index + 1 < len(argv) and count is None:
            count = parse_int(argv[index + 1], "ERR count should be greater than 0")
            if count < 1:
                raise RedisError("ERR count should be greater than 0")
            index += 2
        else:
            raise SyntaxErr()
    return argv[numkeys_index + 1:where_index], where, count or 1


def _mpop_first(client: Client, keys: list[bytes], where: int, count: int) -> Any:
    """Pop from the first non-empty list among ``keys``; None if all are empty."""
    db = client.db
    for key in keys:
        value = _lookup_list(db, key)
        if value is not None:
            popped = _pop_count(client, key, value, where, count)
            client.engine.rewrite_command([b"LPOP" if where == LEFT else b"RPOP", key,
                                           str(len(popped)).encode()])
            return [key, popped]
    return None


def lmpop_command(client: Client, argv: list[bytes]) -> Any:
    """LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]"""
    keys, where, count = _parse_mpop(argv, 1)
    reply = _mpop_first(client, keys, where, count)
    return NULL_ARRAY if reply is None else reply


# -- blocking pops ------------------------------------------------------------------------

def _blocking_pop(client: Client, argv: list[bytes], where: int) -> Any:
    deadline = parse_timeout_seconds(argv[-1], client.engine.now_ms())
    db = client.db
    keys = argv[1:-1]
    for key in keys:
        value = _lookup_list(db, key)
        if value is not None:
            element = _pop_one(client, key, value, where)
            client.engine.rewrite_command([b"LPOP" if where == LEFT else b"RPOP", key])
            return [key, element]
    if not may_block(client):
        return NULL_ARRAY

    def serve(key: bytes) -> Any:
        value = client.db.lookup_write(key)
        if type(value) is not ListValue:
            return None
        element = _pop_one(client, key, value, where)
        propagate(client.engine, client.db.id, [b"LPOP" if where == LEFT else b"RPOP", key])
        return [key, element]

    return block_for_keys(client, keys, deadline, serve, NULL_ARRAY)


def _is_list(db: Database, key: bytes) -> bool:
    """True if ``key`` holds a list now (a waiter declines keys of other types and stays blocked)."""
    return type(db.lookup_write(key)) is ListValue


def blpop_command(client: Client, argv: list[bytes]) -> Any:
    """BLPOP key [key ...] timeout"""
    return _blocking_pop(client, argv, LEFT)


def brpop_command(client: Client, argv: list[bytes]) -> Any:
    """BRPOP key [key ...] timeout"""
    return _blocking_pop(client, argv, RIGHT)


def blmpop_command(client: Client, argv: list[bytes]) -> Any:
    """BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]"""
    deadline = parse_timeout_seconds(argv[1], client.engine.now_ms())
    keys, where, count = _parse_mpop(argv, 2)
    reply = _mpop_first(client, keys, where, count)
    if reply is not None:
        return reply
    if not may_block(client):
        return NULL_ARRAY

    def serve(key: bytes) -> Any:
        if not _is_list(client.db, key):
            return None
        value = _lookup_list(client.db, key)
        popped = _pop_count(client, key, value, where, count)
        propagate(client.engine, client.db.id, [b"LPOP" if where == LEFT else b"RPOP", key,
                                                str(len(popped)).encode()])
        return [key, popped]

    return block_for_keys(client, keys, deadline, serve, NULL_ARRAY)


def _blocking_move(client: Client, argv: list[bytes], wherefrom: int, whereto: int, deadline: int,
                   propagated_as: list[bytes], served_as: list[bytes] | None = None) -> Any:
    """BLMOVE/BRPOPLPUSH: propagated as ``propagated_as`` when served at once, as
    ``served_as`` (default the same) when served after blocking."""
    db = client.db
    source_key, dest_key = argv[1], argv[2]
    source = _lookup_list(db, source_key)
    if source is not None:
        dest = _lookup_list(db, dest_key)
        element = _move(client, source_key, source, dest_key, dest, wherefrom, whereto)
        client.engine.rewrite_command(propagated_as)
        return element
    if not may_block(client):
        return None         # a null bulk, not an array, as Redis answers inside MULTI

    def serve(key: bytes) -> Any:
        db = client.db
        if not _is_list(db, key):
            return None
        source = _lookup_list(db, key)
        dest = _lookup_list(db, dest_key)      # WRONGTYPE ends the wait, nothing popped
        element = _move(client, key, source, dest_key, dest, wherefrom, whereto)
        propagate(client.engine, db.id, served_as or propagated_as)
        return element

    return block_for_keys(client, [source_key], deadline, serve, NULL_ARRAY)


def blmove_command(client: Client, argv: list[bytes]) -> Any:
    """BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout"""
    wherefrom = _parse_where(argv[3])
    whereto = _parse_where(argv[4])
    deadline = parse_timeout_seconds(argv[5], client.engine.now_ms())
    # Served at once: LMOVE with the directions as written; served after blocking: Redis's
    # shared lowercase "left"/"right" (both as 7.0.15 writes them to the AOF).
    return _blocking_move(client, argv, wherefrom, whereto, deadline,
                          [b"LMOVE", argv[1], argv[2], argv[3], argv[4]],
                          [b"LMOVE", argv[1], argv[2], b"left" if wherefrom == LEFT else b"right",
                           b"left" if whereto == LEFT else b"right"])


def brpoplpush_command(client: Client, argv: list[bytes]) -> Any:
    """BRPOPLPUSH source destination timeout"""
    deadline = parse_timeout_seconds(argv[3], client.engine.now_ms())
    return _blocking_move(client, argv, RIGHT, LEFT, deadline, [b"RPOPLPUSH", argv[1], argv[2]])
