"""The set type (t_set.c): SADD ... SSCAN, and the SetValue that holds a set.

Type API first, then the commands. A set is stored as a list of its members plus
a dict member -> position in that list: membership is a dict lookup, a random
member is a list index (SRANDMEMBER/SPOP are O(1) per element, as in Redis), and
removal swaps the last member into the hole.

Encodings as Redis 7.0.15 reports them (7.0 has no listpack sets; 7.2 added
them): ``intset`` while every member is the canonical text of a 64-bit integer
and there are at most ``set-max-intset-entries`` members, ``hashtable`` after
that, never back (except where Redis builds a fresh set: the STORE commands and
SPOP's "keep the survivors" strategy). An intset iterates in numeric order, so
SMEMBERS and friends reply in that order as Redis does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from specredis.engine.args import parse_int, parse_scan_cursor, string_to_int
from specredis.engine.client import Client
from specredis.engine.core import NOTIFY_GENERIC, NOTIFY_SET
from specredis.engine.debug import digest_unordered, register_digest
from specredis.engine.errors import NOT_POSITIVE, SYNTAX, RedisError, WrongTypeError
from specredis.engine.glob import compile_glob
from specredis.engine.keyspace import Database, register_type
from specredis.protocol.replies import Set

# SPOP with a count pops one by one unless it would take more than a fifth of the set,
# in which case it keeps the survivors instead (SPOP_MOVE_STRATEGY_MUL in t_set.c).
SPOP_MOVE_STRATEGY_MUL = 5

# SRANDMEMBER with a negative count builds its whole reply in memory; Redis would try
# (and die) for absurd counts, we refuse them.
SRANDMEMBER_MAX_REPEATS = 1 << 32

SRANDMEMBER_RANGE = ("ERR value is out of range, value must between -9223372036854775807 "
                     "and 9223372036854775807")


# -- type API -------------------------------------------------------------------------------

class SetValue:
    """A Redis set: ``items`` (members, in no particular order) and ``index`` (member -> position)."""

    __slots__ = ("items", "index", "intset")

    def __init__(self, intset: bool = True) -> None:
        self.items: list[bytes] = []
        self.index: dict[bytes, int] = {}
        self.intset = intset

    @classmethod
    def for_first_member(cls, member: bytes) -> SetValue:
        """An empty set about to receive ``member`` (setTypeCreate: intset if it is an integer)."""
        return cls(string_to_int(member) is not None)

    @classmethod
    def from_members(cls, members: Iterable[bytes], max_intset: int) -> SetValue:
        """A new set built by adding ``members`` one by one to an empty intset."""
        value = cls()
        value.add_many(members, max_intset)
        return value

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, member: bytes) -> bool:
        return member in self.index

    def encoding(self, config: Any = None) -> str:
        """The OBJECT ENCODING name."""
        return "intset" if self.intset else "hashtable"

    def dup(self) -> SetValue:
        """A copy (COPY, SORT ... STORE sources stay untouched)."""
        copy = SetValue(self.intset)
        copy.items = self.items.copy()
        copy.index = self.index.copy()
        return copy

    def add(self, member: bytes, max_intset: int) -> bool:
        """Add one member; False if it was already there."""
        index = self.index
        if member in index:
            return False
        items = self.items
        if self.intset and (len(items) >= max_intset or string_to_int(member) is None):
            self.intset = False
        index[member] = len(items)
        items.append(member)
        return True

    def add_many(self, members: Iterable[bytes], max_intset: int) -> int:
        """Add members; return how many were new."""
        index = self.index
        items = self.items
        before = len(items)
        if self.intset:
            for member in members:
                if member not in index:
                    if self.intset and (len(items) >= max_intset or string_to_int(member) is None):
                        self.intset = False
                    index[member] = len(items)
                    items.append(member)
        else:
            for member in members:
                if member not in index:
                    index[member] = len(items)
                    items.append(member)
        return len(items) - before

    def remove(self, member: bytes) -> bool:
        """Remove one member; False if it was not there."""
        position = self.index.pop(member, None)
        if position is None:
            return False
        items = self.items
        last = items.pop()
        if position < len(items):
            items[position] = last
            self.index[last] = position
        return True

    def ordered(self) -> list[bytes]:
        """The members in iteration order (numeric for an intset, storage order otherwise), as a
        new list: a reply may be encoded after later commands changed the set (MULTI/EXEC)."""
        if self.intset:
            return sorted(self.items, key=int)
        return self.items.copy()

    def random_member(self, rng: Any) -> bytes:
        items = self.items
        return items[rng.randrange(len(items))]

    def pop_random(self, rng: Any) -> bytes:
        """Remove and return a random member (the set must not be empty)."""
        items = self.items
        position = rng.randrange(len(items))
        member = items[position]
        last = items.pop()
        del self.index[member]
        if position < len(items):
            items[position] = last
            self.index[last] = position
        return member


register_type(SetValue, "set")
# DEBUG DIGEST: members xor-ed in, so the order does not matter.
register_digest(SetValue, lambda digest, value: digest_unordered(digest, value.items))


def max_intset_entries(client: Client) -> int:
    return client.engine.config.values["set-max-intset-entries"]


def get_set(db: Database, key: bytes, write: bool = False) -> SetValue | None:
    """The set at ``key``, None if missing; WRONGTYPE for another type."""
    value = db.lookup_write(key) if write else db.lookup_read(key)
    if value is not None and type(value) is not SetValue:
        raise WrongTypeError()
    return value


def delete_if_empty(client: Client, key: bytes, value: SetValue) -> None:
    """Remove a set that became empty, with its ``del`` event (Redis never keeps empty sets)."""
    if not value.items:
        db = client.db
        db.delete(key)
        client.engine.notify(NOTIFY_GENERIC, "del", key, db.id)


# -- SCAN-family option parsing, shared by SSCAN and ZSCAN -------------------------------------

def parse_scan_options(argv: list[bytes], start: int) -> tuple[int, Any]:
    """COUNT and MATCH of SSCAN/ZSCAN (HSCAN alike): (count, compiled pattern or None)."""
    count = 10
    pattern = None
    i = start
    argc = len(argv)
    while i < argc:
        option = argv[i].lower()
        if option == b"count" and i + 1 < argc:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise RedisError(SYNTAX)
            i += 2
        elif option == b"match" and i + 1 < argc:
            pattern = None if argv[i + 1] == b"*" else compile_glob(argv[i + 1])
            i += 2
        else:
            raise RedisError(SYNTAX)
    return count, pattern


def scan_set(value: SetValue, cursor: int, count: int) -> tuple[int, list[bytes]]:
    """One SSCAN step over a hashtable-encoded set.

    Members are visited from the end of ``items`` toward its start; the cursor is the
    number of positions still to visit. Removal moves the last member into the hole,
    i.e. from the visited tail (or from the unvisited part into the unvisited part), and
    additions go to the tail, so every member present for the whole scan is returned,
    which is SCAN's guarantee."""
    items = value.items
    stop = len(items) if cursor == 0 or cursor > len(items) else cursor
    start = max(0, stop - count)
    return start, items[start:stop][::-1]


# -- commands -------------------------------------------------------------------------------

def sadd_command(client: Client, argv: list[bytes]) -> object:
    """SADD key member [member ...]"""
    db = client.db
    key = argv[1]
    value = db.data.get(key)
    if type(value) is SetValue and len(argv) == 3 and argv[2] in value.index \
            and not (db.expires and key in db.expires):
        return 0        # the hot case of a benchmark: already a member, so nothing changes
    value = db.lookup_write(key)
    if value is None:
        value = SetValue.for_first_member(argv[2])
        db.add(key, value)
    elif type(value) is not SetValue:
        raise WrongTypeError()
    added = value.add_many(argv[2:], client.engine.config.values["set-max-intset-entries"])
    if added:
        engine = client.engine
        engine.dirty += added
        db.signal_modified(key)
        engine.notify(NOTIFY_SET, "sadd", key, db.id)
    return added


def srem_command(client: Client, argv: list[bytes]) -> object:
    """SREM key member [member ...]"""
    db = client.db
    key = argv[1]
    value = get_set(db, key, write=True)
    if value is None:
        return 0
    removed = 0
    for member in argv[2:]:
        if value.remove(member):
            removed += 1
            if not value.items:
                break
    if removed:
        engine = client.engine
        engine.dirty += removed
        db.signal_modified(key)
        engine.notify(NOTIFY_SET, "srem", key, db.id)
        delete_if_empty(client, key, value)
    return removed


def smembers_command(client: Client, argv: list[bytes]) -> object:
    """SMEMBERS key"""
    value = get_set(client.db, argv[1])
    if value is None:
        return Set([])
    return Set(value.ordered())


def sismember_command(client: Client, argv: list[bytes]) -> object:
    """SISMEMBER key member"""
    value = get_set(client.db, argv[1])
    return 1 if value is not None and argv[2] in value.index else 0


def smismember_command(client: Client, argv: list[bytes]) -> object:
    """SMISMEMBER key member [member ...]"""
    value = get_set(client.db, argv[1])
    if value is None:
        return [0] * (len(argv) - 2)
    index = value.index
    return [1 if member in index else 0 for member in argv[2:]]


def scard_command(client: Client, argv: list[bytes]) -> object:
    """SCARD key"""
    value = get_set(client.db, argv[1])
    return 0 if value is None else len(value.items)


def spop_command(client: Client, argv: list[bytes]) -> object:
    """SPOP key [count]"""
    if len(argv) == 3:
        return _spop_with_count(client, argv)
    if len(argv) > 3:
        raise RedisError(SYNTAX)
    db = client.db
    key = argv[1]
    if key not in db.data:
        return None     # lookup_write's answer for a missing key, without the call
    value = get_set(db, key, write=True)
    if value is None:
        return None
    engine = client.engine
    member = value.pop_random(engine.rng)
    engine.notify(NOTIFY_SET, "spop", key, db.id)
    engine.rewrite_command([b"SREM", key, member])
    delete_if_empty(client, key, value)
    engine.dirty += 1
    db.signal_modified(key)
    return member


def _spop_with_count(client: Client, argv: list[bytes]) -> object:
    count = parse_int(argv[2], NOT_POSITIVE)
    if count < 0:
        raise RedisError(NOT_POSITIVE)
    db = client.db
    key = argv[1]
    value = get_set(db, key, write=True)
    if value is None or count == 0:
        return Set([])
    engine = client.engine
    size = len(value.items)
    engine.notify(NOTIFY_SET, "spop", key, db.id)
    if count >= size:
        # The whole set: reply with it, delete the key, propagate a DEL (7.0.15 sends DEL
        # whatever the lazyfree settings, as its replication stream shows).
        members = value.ordered()
        db.delete(key)
        engine.notify(NOTIFY_GENERIC, "del", key, db.id)
        engine.rewrite_command([b"DEL", key])
        engine.dirty += size
        db.signal_modified(key)
        return Set(members)
    rng = engine.rng
    if count * SPOP_MOVE_STRATEGY_MUL > size:
        # Most of the set goes: pick the survivors instead, and store them as a new set.
        survivors = rng.sample(value.items, size - count)
        kept = SetValue.from_members(survivors, engine.config.values["set-max-intset-entries"])
        index = kept.index
        popped = [member for member in value.ordered() if member not in index]
        db.data[key] = kept
    else:
        popped = [value.pop_random(rng) for _ in range(count)]
    for member in popped:
        engine.also_propagate(db.id, [b"SREM", key, member])
    engine.prevent_propagation()
    engine.dirty += count
    db.signal_modified(key)
    return Set(popped)


def srandmember_command(client: Client, argv: list[bytes]) -> object:
    """SRANDMEMBER key [count]"""
    if len(argv) > 3:
        raise RedisError(SYNTAX)
    if len(argv) == 2:
        value = get_set(client.db, argv[1])
        if value is None:
            return None
        return value.random_member(client.engine.rng)
    count = parse_int(argv[2])
    if count < -(1 << 63) + 1:
        raise RedisError(SRANDMEMBER_RANGE)
    value = get_set(client.db, argv[1])
    if value is None or count == 0:
        return []
    rng = client.engine.rng
    items = value.items
    if count < 0:
        if -count > SRANDMEMBER_MAX_REPEATS:
            raise RedisError(SRANDMEMBER_RANGE)
        return rng.choices(items, k=-count)
    if count >= len(items):
        return value.ordered()
    return rng.sample(items, count)


def smove_command(client: Client, argv: list[bytes]) -> object:
    """SMOVE source destination member"""
    db = client.db
    src_key, dst_key, member = argv[1], argv[2], argv[3]
    src = db.lookup_write(src_key)
    if src is None:
        return 0
    dst = db.lookup_write(dst_key)
    if type(src) is not SetValue or (dst is not None and type(dst) is not SetValue):
        raise WrongTypeError()
    if src is dst:
        return 1 if member in src.index else 0
    if not src.remove(member):
        return 0
    engine = client.engine
    engine.notify(NOTIFY_SET, "srem", src_key, db.id)
    delete_if_empty(client, src_key, src)
    if dst is None:
        dst = SetValue.for_first_member(member)
        db.add(dst_key, dst)
    db.signal_modified(src_key)
    engine.dirty += 1
    if dst.add(member, engine.config.values["set-max-intset-entries"]):
        engine.dirty += 1
        db.signal_modified(dst_key)
        engine.notify(NOTIFY_SET, "sadd", dst_key, db.id)
    return 1


# -- SINTER / SUNION / SDIFF ------------------------------------------------------------------

def _lookup_sets(client: Client, keys: list[bytes]) -> list[SetValue | None]:
    """Every key's set (None if missing), all type-checked before anything is computed."""
    db = client.db
    return [get_set(db, key) for key in keys]


def _intersection(sets: list[SetValue]) -> list[bytes]:
    """The members common to all ``sets``, in the iteration order of the smallest one."""
    sets = sorted(sets, key=len)
    smallest = sets[0]
    if len(sets) == 1:
        return smallest.ordered()
    others = [s.index for s in sets[1:]]
    if len(others) == 1:
        other = others[0]
        return [m for m in smallest.ordered() if m in other]
    return [m for m in smallest.ordered() if all(m in other for other in others)]


def _store_result(client: Client, dst_key: bytes, members: Iterable[bytes], event: str) -> int:
    """Store a computed set at ``dst_key`` (or delete it when empty); the STORE commands' reply."""
    db = client.db
    engine = client.engine
    result = SetValue.from_members(members, engine.config.values["set-max-intset-entries"])
    if result.items:
        db.lookup_write(dst_key)        # an expired destination goes first, with its effects
        db.set_key(dst_key, result)
        engine.notify(NOTIFY_SET, event, dst_key, db.id)
        engine.dirty += 1
        return len(result.items)
    if db.lookup_write(dst_key) is not None and db.delete(dst_key):
        engine.dirty += 1
        db.signal_modified(dst_key)
        engine.notify(NOTIFY_GENERIC, "del", dst_key, db.id)
    return 0


def sinter_command(client: Client, argv: list[bytes]) -> object:
    """SINTER key [key ...]"""
    sets = _lookup_sets(client, argv[1:])
    if any(s is None for s in sets):
        return Set([])
    return Set(_intersection(sets))


def sinterstore_command(client: Client, argv: list[bytes]) -> object:
    """SINTERSTORE destination key [key ...]"""
    sets = _lookup_sets(client, argv[2:])
    members = [] if any(s is None for s in sets) else _intersection(sets)
    return _store_result(client, argv[1], members, "sinterstore")


def sintercard_command(client: Client, argv: list[bytes]) -> object:
    """SINTERCARD numkeys key [key ...] [LIMIT limit]"""
    numkeys = parse_int(argv[1], "ERR numkeys should be greater than 0")
    if numkeys <= 0:
        raise RedisError("ERR numkeys should be greater than 0")
    if numkeys > len(argv) - 2:
        raise RedisError("ERR Number of keys can't be greater than number of args")
    limit = 0
    i = 2 + numkeys
    while i < len(argv):
        if argv[i].lower() == b"limit" and i + 1 < len(argv):
            limit = parse_int(argv[i + 1], "ERR LIMIT can't be negative")
            if limit < 0:
                raise RedisError("ERR LIMIT can't be negative")
            i += 2
        else:
            raise RedisError(SYNTAX)
    sets = _lookup_sets(client, argv[2:2 + numkeys])
    if any(s is None for s in sets):
        return 0
    sets.sort(key=len)
    others = [s.index for s in sets[1:]]
    found = 0
    for member in sets[0].items:
        if all(member in other for other in others):
            found += 1
            if found == limit:
                break
    return found


def _union(sets: list[SetValue | None]) -> Iterable[bytes]:
    for value in sets:
        if value is not None:
            yield from value.ordered()


def _difference(sets: list[SetValue | None]) -> list[bytes]:
    first = sets[0]
    if first is None:
        return []
    others = [s.index for s in sets[1:] if s is not None]
    return [m for m in first.ordered() if not any(m in other for other in others)]


def sunion_command(client: Client, argv: list[bytes]) -> object:
    """SUNION key [key ...]"""
    sets = _lookup_sets(client, argv[1:])
    result = SetValue.from_members(_union(sets), max_intset_entries(client))
    return Set(result.ordered())


def sunionstore_command(client: Client, argv: list[bytes]) -> object:
    """SUNIONSTORE destination key [key ...]"""
    sets = _lookup_sets(client, argv[2:])
    return _store_result(client, argv[1], _union(sets), "sunionstore")


def sdiff_command(client: Client, argv: list[bytes]) -> object:
    """SDIFF key [key ...]"""
    sets = _lookup_sets(client, argv[1:])
    result = SetValue.from_members(_difference(sets), max_intset_entries(client))
    return Set(result.ordered())


def sdiffstore_command(client: Client, argv: list[bytes]) -> object:
    """SDIFFSTORE destination key [key ...]"""
    sets = _lookup_sets(client, argv[2:])
    return _store_result(client, argv[1], _difference(sets), "sdiffstore")


def sscan_command(client: Client, argv: list[bytes]) -> object:
    """SSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_scan_cursor(argv[2])
    value = get_set(client.db, argv[1])
    if value is None:
        return [b"0", []]
    count, pattern = parse_scan_options(argv, 3)
    if value.intset:
        # Small encodings are returned whole in one call, as Redis does.
        next_cursor, members = 0, value.ordered()
    else:
        next_cursor, members = scan_set(value, cursor, count)
    if pattern is not None:
        match = pattern.match
        members = [m for m in members if match(m)]
    return [b"%d" % next_cursor, list(members)]
