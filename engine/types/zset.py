"""The sorted set type (t_zset.c): ZADD ... ZSCAN, BZPOPMIN/BZPOPMAX/BZMPOP.

Type API first, then the commands. A sorted set is a dict member -> score plus a
``SortedList`` of ``(score, member)`` tuples, which orders exactly as Redis's
skiplist does (by score, ties by member bytes) and gives O(log n) rank, range and
update, like the skiplist with spans.

Encodings as Redis 7.0.15 reports them: ``listpack`` while the set has at most
``zset-max-listpack-entries`` members none longer than ``zset-max-listpack-value``,
``skiplist`` after that (never back, except where Redis builds a fresh set: the
STORE commands). The encoding is visible beyond OBJECT ENCODING, and mirrored here:
a listpack keeps scores as text, so it stores ``-0`` as ``0`` and ZSCAN prints its
scores as integers where they are integral; SORT converts a listpack to a skiplist.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from sortedcontainers import SortedList

from specredis.engine.args import LLONG_MAX, parse_float, parse_int, parse_scan_cursor
from specredis.engine.blocking import block_for_keys, may_block, parse_timeout_seconds, propagate
from specredis.engine.client import Client
from specredis.engine.core import NOTIFY_GENERIC, NOTIFY_ZSET
from specredis.engine.debug import digest_scored, register_digest
from specredis.engine.errors import NOT_POSITIVE, SYNTAX, RedisError, WrongTypeError
from specredis.engine.keyspace import Database, register_type
from specredis.engine.types.set import SetValue, parse_scan_options
from specredis.protocol.replies import NULL_ARRAY, Double

NAN_SCORE = "ERR resulting score is not a number (NaN)"
NOT_FLOAT_RANGE = "ERR min or max is not a float"
NOT_LEX_RANGE = "ERR min or max not valid string range item"
COUNT_NOT_POSITIVE = "ERR count should be greater than 0"
NUMKEYS_NOT_POSITIVE = "ERR numkeys should be greater than 0"
RANDMEMBER_RANGE = ("ERR value is out of range, value must between -9223372036854775807 "
                    "and 9223372036854775807")
LONG_MAX = LLONG_MAX

# ZRANDMEMBER with a negative count builds its whole reply in memory: Redis would try
# (and die) for absurd counts, we refuse them.
RANDMEMBER_MAX_REPEATS = 1 << 32

_INF = math.inf
_DBL_MIN = sys.float_info.min     # smallest normal double: below it strtod may report ERANGE
# Listpacks print integral scores in this range as integers (double2ll's safe range).
_LISTPACK_INT_LIMIT = float(1 << 62)


class _AfterAll:
    """Sorts after every member: ``(score, AFTER_ALL)`` bounds all entries of that score."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return other is self

    def __gt__(self, other: object) -> bool:
        return other is not self

    def __ge__(self, other: object) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return other is self

    __hash__ = object.__hash__


AFTER_ALL = _AfterAll()


def _scan_hash(member: bytes) -> int:
    # ZSCAN visits members in the order of this hash; >= 1 so that cursor 0 means "start".
    return (hash(member) & 0x3FFF_FFFF_FFFF_FFFF) + 1


def format_listpack_score(score: float) -> bytes:
    """A score as a listpack holds it (d2string-like): integral values as integers."""
    if score.is_integer() and -_LISTPACK_INT_LIMIT <= score <= _LISTPACK_INT_LIMIT:
        return b"%d" % int(score)
    return b"%.17g" % score


# -- type API -------------------------------------------------------------------------------

class ZSetValue:
    """A Redis sorted set: ``scores`` (member -> score) and ``ordered`` ((score, member), sorted)."""

    __slots__ = ("scores", "ordered", "listpack", "scan_index")

    def __init__(self, listpack: bool = True) -> None:
        self.scores: dict[bytes, float] = {}
        self.ordered = SortedList()
        self.listpack = listpack
        # ZSCAN's index of the skiplist encoding: (scan hash, member), built on demand.
        self.scan_index: SortedList | None = None

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[bytes, float]], max_entries: int, max_value: int) -> ZSetValue:
        """A set of (member, score) pairs with distinct members, encoded as Redis encodes a
        set of that size when it builds one (loading a dump, the STORE commands)."""
        value = _from_entries((score, member) for member, score in pairs)
        value.to_listpack_if_fits(max_entries, max_value)
        return value

    def __len__(self) -> int:
        return len(self.scores)

    def encoding(self, config: Any = None) -> str:
        """The OBJECT ENCODING name."""
        return "listpack" if self.listpack else "skiplist"

    def dup(self) -> ZSetValue:
        """A copy (COPY)."""
        copy = ZSetValue(self.listpack)
        copy.scores = self.scores.copy()
        copy.ordered = SortedList(self.ordered)
        return copy

    # -- writes ---------------------------------------------------------------------------

    def fits_listpack(self, member: bytes, max_entries: int, max_value: int) -> None:
        """Before inserting ``member``: convert to a skiplist if a listpack could not hold it."""
        if len(self.scores) >= max_entries or len(member) > max_value:
            self.listpack = False

    def insert(self, member: bytes, score: float) -> None:
        """Add a member known to be absent."""
        if score == 0.0 and self.listpack:
            score = 0.0         # a listpack stores the text "0" for -0
        self.scores[member] = score
        self.ordered.add((score, member))
        if self.scan_index is not None:
            self.scan_index.add((_scan_hash(member), member))

    def update(self, member: bytes, old: float, new: float) -> None:
        """Change the score of a present member."""
        if new == 0.0 and self.listpack:
            new = 0.0
        ordered = self.ordered
        ordered.remove((old, member))
        ordered.add((new, member))
        self.scores[member] = new

    def delete(self, member: bytes) -> bool:
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.ordered.remove((score, member))
        if self.scan_index is not None:
            self.scan_index.discard((_scan_hash(member), member))
        return True

    def delete_range(self, lo: int, hi: int) -> int:
        """Remove the entries at ranks [lo, hi); return how many."""
        if hi <= lo:
            return 0
        ordered = self.ordered
        removed = list(ordered.islice(lo, hi))
        del ordered[lo:hi]
        scores = self.scores
        index = self.scan_index
        for _, member in removed:
            del scores[member]
            if index is not None:
                index.discard((_scan_hash(member), member))
        return len(removed)

    def pop(self, from_max: bool, count: int) -> list[tuple[float, bytes]]:
        """Remove and return up to ``count`` entries from the low or the high end."""
        ordered = self.ordered
        count = min(count, len(ordered))
        if from_max:
            popped = list(ordered.islice(len(ordered) - count, len(ordered), reverse=True))
            del ordered[len(ordered) - count:]
        else:
            popped = list(ordered.islice(0, count))
            del ordered[:count]
        scores = self.scores
        index = self.scan_index
        for _, member in popped:
            del scores[member]
            if index is not None:
                index.discard((_scan_hash(member), member))
        return popped

    def to_listpack_if_fits(self, max_entries: int, max_value: int) -> None:
        """Store results become listpacks when small (zsetConvertToListpackIfNeeded)."""
        if len(self.scores) <= max_entries and all(len(m) <= max_value for m in self.scores):
            self.listpack = True
            if any(score == 0.0 and math.copysign(1.0, score) < 0 for score in self.scores.values()):
                negative_zeros = [m for m, s in self.scores.items() if s == 0.0]
                for member in negative_zeros:
                    self.update(member, self.scores[member], 0.0)

    # -- reads ----------------------------------------------------------------------------

    def rank(self, member: bytes) -> int | None:
        score = self.scores.get(member)
        if score is None:
            return None
        return self.ordered.bisect_left((score, member))

    def score_interval(self, rng: ScoreRange) -> tuple[int, int]:
        """The ranks [lo, hi) of the entries whose score lies in ``rng``."""
        ordered = self.ordered
        lo = ordered.bisect_left((rng.min, AFTER_ALL) if rng.minex else (rng.min,))
        hi = ordered.bisect_left((rng.max,) if rng.maxex else (rng.max, AFTER_ALL))
        return lo, hi

    def lex_interval(self, rng: LexRange, reverse: bool = False) -> tuple[int, int]:
        """The ranks [lo, hi) of the entries whose member lies in ``rng``.

        Lex ranges are meant for sets whose scores are all equal; then this is two
        bisections. Otherwise it follows the listpack's linear walk, which is what
        Redis does for small sets (its skiplist walk is undefined for mixed scores)."""
        ordered = self.ordered
        n = len(ordered)
        if not n or rng.empty():
            return 0, 0
        first_score = ordered[0][0]
        if first_score == ordered[-1][0]:
            return rng.bisect(ordered, first_score, n)
        members = [m for _, m in ordered]
        if not rng.gte_min(members[-1]) or not rng.lte_max(members[0]):
            return 0, 0
        if not reverse:
            lo = 0
            while lo < n and not rng.gte_min(members[lo]):
                lo += 1
            if lo == n or not rng.lte_max(members[lo]):
                return 0, 0
            hi = lo
            while hi < n and rng.lte_max(members[hi]):
                hi += 1
            return lo, hi
        hi = n
        while hi > 0 and not rng.lte_max(members[hi - 1]):
            hi -= 1
        if hi == 0 or not rng.gte_min(members[hi - 1]):
            return 0, 0
        lo = hi
        while lo > 0 and rng.gte_min(members[lo - 1]):
            lo -= 1
        return lo, hi

    def slice(self, lo: int, hi: int, reverse: bool, offset: int = 0, limit: int = -1) -> list:
        """Entries of ranks [lo, hi), from the top if ``reverse``, after LIMIT offset count."""
        if offset < 0 or hi <= lo:
            return []
        if reverse:
            stop = hi - offset
            start = lo if limit < 0 else max(lo, stop - limit)
            if stop <= start:
                return []
            return list(self.ordered.islice(start, stop, reverse=True))
        start = lo + offset
        stop = hi if limit < 0 else min(hi, start + limit)
        if stop <= start:
            return []
        return list(self.ordered.islice(start, stop))

    def scan(self, cursor: int, count: int) -> tuple[int, list[tuple[bytes, float]]]:
        """One ZSCAN step over the skiplist encoding: (next cursor, [(member, score)]).

        Members are visited in the order of a hash of the member and the cursor is the
        hash to resume from, so every member present for the whole scan is returned
        however the set changes meanwhile (SCAN's guarantee)."""
        index = self.scan_index
        if index is None:
            index = self.scan_index = SortedList((_scan_hash(m), m) for m in self.scores)
        pos = index.bisect_left((cursor,))
        end = min(pos + count, len(index))
        # Members sharing a hash go out together, or resuming after it would skip some.
        while end < len(index) and index[end][0] == index[end - 1][0]:
            end += 1
        scores = self.scores
        page = [(member, scores[member]) for _, member in index.islice(pos, end)]
        if end >= len(index):
            self.scan_index = None      # the cursor does not depend on it: rebuilt when needed
            return 0, page
        return index[end][0], page


register_type(ZSetValue, "zset")
# DEBUG DIGEST: each (member, score) mixed into a fresh digest, with the score as %.17g.
register_digest(ZSetValue, lambda digest, value: digest_scored(digest, value.scores.items()))


class ScoreRange:
    """A score interval of ZRANGEBYSCORE and friends."""

    __slots__ = ("min", "minex", "max", "maxex")

    def __init__(self, low: float, lowex: bool, high: float, highex: bool) -> None:
        self.min, self.minex, self.max, self.maxex = low, lowex, high, highex


class _LexBound:
    """The ``-`` and ``+`` of lex ranges."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


LEX_MIN = _LexBound("-")
LEX_MAX = _LexBound("+")


class LexRange:
    """A member interval of ZRANGEBYLEX and friends; bounds are bytes, LEX_MIN or LEX_MAX."""

    __slots__ = ("min", "minex", "max", "maxex")

    def __init__(self, low: Any, lowex: bool, high: Any, highex: bool) -> None:
        self.min, self.minex, self.max, self.maxex = low, lowex, high, highex

    def empty(self) -> bool:
        """Ranges that can hold nothing (min after max, or equal with an exclusive end)."""
        low, high = self.min, self.max
        if low is LEX_MAX or high is LEX_MIN:
            return True
        if low is LEX_MIN or high is LEX_MAX:
            return False
        return low > high or (low == high and (self.minex or self.maxex))

    def gte_min(self, member: bytes) -> bool:
        low = self.min
        if low is LEX_MIN:
            return True
        if low is LEX_MAX:
            return False
        return member > low if self.minex else member >= low

    def lte_max(self, member: bytes) -> bool:
        high = self.max
        if high is LEX_MAX:
            return True
        if high is LEX_MIN:
            return False
        return member < high if self.maxex else member <= high

    def bisect(self, ordered: SortedList, score: float, n: int) -> tuple[int, int]:
        """[lo, hi) in a set whose scores all equal ``score``."""
        low, high = self.min, self.max
        if low is LEX_MIN:
            lo = 0
        elif self.minex:
            lo = ordered.bisect_right((score, low))
        else:
            lo = ordered.bisect_left((score, low))
        if high is LEX_MAX:
            hi = n
        elif self.maxex:
            hi = ordered.bisect_left((score, high))
        else:
            hi = ordered.bisect_right((score, high))
        return (lo, hi) if lo < hi else (0, 0)


# -- argument parsing -----------------------------------------------------------------------

def parse_score(raw: bytes) -> float:
    """A score argument (ZADD, ZINCRBY): Redis's strict float syntax, not NaN."""
    # Fast path for plain decimal numbers; everything else takes the exact rules.
    if raw[-1:].isdigit() and (raw[:1].isdigit() or raw[:1] == b"-") and b"_" not in raw:
        try:
            value = float(raw)
        except ValueError:
            value = None
        if value is not None:
            if value != 0.0:
                if value - value == 0.0:        # finite
                    return value
            elif not raw.strip(b"-0."):         # zero spelled with zeros only: no underflow
                return value
    return parse_float(raw)


_C_SPACE = b" \t\n\v\f\r"


def strtod_whole(raw: bytes) -> tuple[float, bool] | None:
    """C ``strtod`` over a whole argument: (value, errno ERANGE) or None when not a number.

    As in C, leading white space is skipped, an empty string converts to 0, hex and
    inf/infinity are accepted, overflow gives ±inf; NaN is refused. ERANGE is what
    glibc reports: overflow, underflow to zero, and inexact subnormal results."""
    text = raw.split(b"\0", 1)[0]       # the C string ends at the first NUL
    if not text:
        return 0.0, False
    body = text.lstrip(_C_SPACE)
    if not body or body[-1:] in (b" ", b"\t", b"\n", b"\v", b"\f", b"\r") or b"_" in body:
        return None
    unsigned = body[1:] if body[:1] in (b"+", b"-") else body
    is_hex = unsigned[:2] in (b"0x", b"0X")
    try:
        if is_hex:
            try:
                value = float.fromhex(body.decode("ascii"))
            except OverflowError:
                return (-_INF if body[:1] == b"-" else _INF), True
        else:
            value = float(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if value != value:
        return None
    if value in (_INF, -_INF):
        return value, b"inf" not in body.lower()
    if abs(value) < _DBL_MIN:
        # Zero or subnormal: ERANGE unless the text is exactly that value.
        return value, _exact_value(unsigned, is_hex) != Fraction(abs(value))
    return value, False


def _exact_value(unsigned: bytes, is_hex: bool) -> Fraction:
    """The exact rational a (sign-less) decimal or hex number text denotes."""
    text = unsigned.decode("ascii").lower()
    if not is_hex:
        return Fraction(text)
    mantissa, _, exponent = text[2:].partition("p")
    whole, _, frac = mantissa.partition(".")
    digits = int((whole + frac) or "0", 16)
    shift = int(exponent or "0") - 4 * len(frac)
    return Fraction(digits) * (Fraction(2) ** shift)


def _parse_range_bound(raw: bytes) -> tuple[float, bool]:
    exclusive = raw[:1] == b"("
    parsed = strtod_whole(raw[1:] if exclusive else raw)
    if parsed is None:
        raise RedisError(NOT_FLOAT_RANGE)
    return parsed[0], exclusive


def parse_score_range(low: bytes, high: bytes) -> ScoreRange:
    """``min max`` of a score range: ``(`` marks an exclusive bound."""
    lo, loex = _parse_range_bound(low)
    hi, hiex = _parse_range_bound(high)
    return ScoreRange(lo, loex, hi, hiex)


def _parse_lex_bound(raw: bytes) -> tuple[Any, bool]:
    first = raw[:1]
    if first == b"+" and len(raw) == 1:
        return LEX_MAX, False
    if first == b"-" and len(raw) == 1:
        return LEX_MIN, False
    if first == b"(":
        return raw[1:], True
    if first == b"[":
        return raw[1:], False
    raise RedisError(NOT_LEX_RANGE)


def parse_lex_range(low: bytes, high: bytes) -> LexRange:
    """``min max`` of a lex range: ``[x`` inclusive, ``(x`` exclusive, ``-`` and ``+``."""
    lo, loex = _parse_lex_bound(low)
    hi, hiex = _parse_lex_bound(high)
    return LexRange(lo, loex, hi, hiex)


def rank_interval(start: int, end: int, length: int) -> tuple[int, int] | None:
    """Redis's index sanitizing for rank ranges: [lo, hi) or None when empty."""
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
    return start, end + 1


# -- shared helpers -------------------------------------------------------------------------

def get_zset(db: Database, key: bytes, write: bool = False) -> ZSetValue | None:
    """The sorted set at ``key``, None if missing; WRONGTYPE for another type."""
    value = db.lookup_write(key) if write else db.lookup_read(key)
    if value is not None and type(value) is not ZSetValue:
        raise WrongTypeError()
    return value


def _listpack_limits(client: Client) -> tuple[int, int]:
    values = client.engine.config.values
    return values["zset-max-listpack-entries"], values["zset-max-listpack-value"]


def _pairs_reply(entries: Iterable[tuple[float, bytes]], withscores: bool) -> list:
    """Members, or [member, score] pairs (flattened for RESP2 by the spec's reply hint)."""
    if withscores:
        return [[member, Double(score)] for score, member in entries]
    return [member for _, member in entries]


def _after_removal(client: Client, key: bytes, value: ZSetValue, event: str, removed: int) -> None:
    """The effects of removing ``removed`` members: event, ``del`` when emptied, dirty."""
    if not removed:
        return
    db = client.db
    engine = client.engine
    engine.notify(NOTIFY_ZSET, event, key, db.id)
    if not value.scores:
        db.delete(key)
        engine.notify(NOTIFY_GENERIC, "del", key, db.id)
    db.signal_modified(key)
    engine.dirty += removed


def _store(client: Client, dst_key: bytes, result: ZSetValue, event: str) -> int:
    """Store a computed sorted set at ``dst_key``, or delete the key when it is empty."""
    db = client.db
    engine = client.engine
    if result.scores:
        result.to_listpack_if_fits(*_listpack_limits(client))
        db.lookup_write(dst_key)        # an expired destination goes first, with its effects
        db.set_key(dst_key, result)
        engine.notify(NOTIFY_ZSET, event, dst_key, db.id)
        engine.dirty += 1
        db.signal_ready(dst_key)
        return len(result.scores)
    if db.lookup_write(dst_key) is not None and db.delete(dst_key):
        db.signal_modified(dst_key)
        engine.notify(NOTIFY_GENERIC, "del", dst_key, db.id)
        engine.dirty += 1
    return 0


def _from_entries(entries: Iterable[tuple[float, bytes]]) -> ZSetValue:
    """A skiplist-encoded set of (score, member) entries with distinct members."""
    result = ZSetValue(listpack=False)
    scores = result.scores
    items = []
    for score, member in entries:
        scores[member] = score
        items.append((score, member))
    result.ordered = SortedList(items)
    return result


# -- ZADD / ZINCRBY -------------------------------------------------------------------------

_ZADD_NX, _ZADD_XX, _ZADD_GT, _ZADD_LT, _ZADD_CH, _ZADD_INCR = 1, 2, 4, 8, 16, 32
_ZADD_FLAGS = {b"nx": _ZADD_NX, b"xx": _ZADD_XX, b"gt": _ZADD_GT, b"lt": _ZADD_LT,
               b"ch": _ZADD_CH, b"incr": _ZADD_INCR}


def _zadd_generic(client: Client, argv: list[bytes], score_index: int, flags: int) -> object:
    argc = len(argv)
    while score_index < argc:
        flag = _ZADD_FLAGS.get(argv[score_index].lower())
        if flag is None:
            break
        flags |= flag
        score_index += 1
    elements = argc - score_index
    if elements % 2 or not elements:
        raise RedisError(SYNTAX)
    elements //= 2
    incr = flags & _ZADD_INCR
    if flags & _ZADD_NX and flags & _ZADD_XX:
        raise RedisError("ERR XX and NX options at the same time are not compatible")
    if (flags & _ZADD_NX and flags & (_ZADD_GT | _ZADD_LT)) or (flags & _ZADD_GT and flags & _ZADD_LT):
        raise RedisError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and elements > 1:
        raise RedisError("ERR INCR option supports a single increment-element pair")
    scores = [parse_score(argv[i]) for i in range(score_index, argc, 2)]
    db = client.db
    key = argv[1]
    value = db.lookup_write(key)
    created = False
    if value is None:
        if flags & _ZADD_XX:
            return None if incr else 0
        max_entries, max_value = _listpack_limits(client)
        value = ZSetValue(max_entries != 0 and len(argv[score_index + 1]) <= max_value)
        db.add(key, value)
        created = True
    elif type(value) is not ZSetValue:
        raise WrongTypeError()
    added = updated = processed = 0
    score = 0.0
    members = value.scores
    for j in range(elements):
        score = scores[j]
        member = argv[score_index + 1 + 2 * j]
        current = members.get(member)
        if current is not None:
            if flags & _ZADD_NX:
                continue
            if incr:
                score += current
                if score != score:
                    _zadd_finish(client, key, added, updated, incr, created)
                    raise RedisError(NAN_SCORE)
            if (flags & _ZADD_LT and score >= current) or (flags & _ZADD_GT and score <= current):
                continue
            processed += 1
            if score != current:
                value.update(member, current, score)
                updated += 1
        elif not flags & _ZADD_XX:
            if value.listpack:
                value.fits_listpack(member, *_listpack_limits(client))
            value.insert(member, score)
            added += 1
            processed += 1
    _zadd_finish(client, key, added, updated, incr, created)
    if incr:
        return Double(score) if processed else None
    return added + updated if flags & _ZADD_CH else added


def _zadd_finish(client: Client, key: bytes, added: int, updated: int, incr: int, created: bool) -> None:
    if added or updated:
        db = client.db
        engine = client.engine
        engine.dirty += added + updated
        db.signal_modified(key)
        engine.notify(NOTIFY_ZSET, "zincr" if incr else "zadd", key, db.id)
        if created:
            db.signal_ready(key)


def zadd_command(client: Client, argv: list[bytes]) -> object:
    """ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"""
    if len(argv) == 4 and argv[2][:1] in _NUMBER_STARTS:
        return _zadd_one(client, argv[1], parse_score(argv[2]), argv[3])
    return _zadd_generic(client, argv, 2, 0)


# A score never starts like an option (NX, XX, GT, LT, CH, INCR): the fast path's test.
_NUMBER_STARTS = frozenset(bytes([c]) for c in b"0123456789-+.")


def _zadd_one(client: Client, key: bytes, score: float, member: bytes) -> int:
    """ZADD key score member, without options: the common case, kept short."""
    db = client.db
    value = db.lookup_write(key)
    created = False
    if value is None:
        max_entries, max_value = _listpack_limits(client)
        value = ZSetValue(max_entries != 0 and len(member) <= max_value)
        db.add(key, value)
        created = True
    elif type(value) is not ZSetValue:
        raise WrongTypeError()
    current = value.scores.get(member)
    if current is None:
        if value.listpack:
            value.fits_listpack(member, *_listpack_limits(client))
        value.insert(member, score)
        _zadd_finish(client, key, 1, 0, 0, created)
        return 1
    if score != current:
        value.update(member, current, score)
        _zadd_finish(client, key, 0, 1, 0, created)
    return 0


def zincrby_command(client: Client, argv: list[bytes]) -> object:
    """ZINCRBY key increment member"""
    return _zadd_generic(client, argv, 2, _ZADD_INCR)


# -- simple reads and ZREM ----------------------------------------------------------------

def zrem_command(client: Client, argv: list[bytes]) -> object:
    """ZREM key member [member ...]"""
    key = argv[1]
    value = get_zset(client.db, key, write=True)
    if value is None:
        return 0
    removed = 0
    for member in argv[2:]:
        if value.delete(member):
            removed += 1
            if not value.scores:
                break
    _after_removal(client, key, value, "zrem", removed)
    return removed


def zcard_command(client: Client, argv: list[bytes]) -> object:
    """ZCARD key"""
    value = get_zset(client.db, argv[1])
    return 0 if value is None else len(value.scores)


def zscore_command(client: Client, argv: list[bytes]) -> object:
    """ZSCORE key member"""
    value = get_zset(client.db, argv[1])
    if value is None:
        return None
    score = value.scores.get(argv[2])
    return None if score is None else Double(score)


def zmscore_command(client: Client, argv: list[bytes]) -> object:
    """ZMSCORE key member [member ...]"""
    value = get_zset(client.db, argv[1])
    if value is None:
        return [None] * (len(argv) - 2)
    scores = value.scores
    reply = []
    for member in argv[2:]:
        score = scores.get(member)
        reply.append(None if score is None else Double(score))
    return reply


def _rank(client: Client, argv: list[bytes], reverse: bool) -> object:
    value = get_zset(client.db, argv[1])
    if value is None:
        return None
    rank = value.rank(argv[2])
    if rank is None:
        return None
    return len(value.scores) - 1 - rank if reverse else rank


def zrank_command(client: Client, argv: list[bytes]) -> object:
    """ZRANK key member"""
    return _rank(client, argv, False)


def zrevrank_command(client: Client, argv: list[bytes]) -> object:
    """ZREVRANK key member"""
    return _rank(client, argv, True)


def zcount_command(client: Client, argv: list[bytes]) -> object:
    """ZCOUNT key min max"""
    rng = parse_score_range(argv[2], argv[3])
    value = get_zset(client.db, argv[1])
    if value is None:
        return 0
    lo, hi = value.score_interval(rng)
    return max(0, hi - lo)


def zlexcount_command(client: Client, argv: list[bytes]) -> object:
    """ZLEXCOUNT key min max"""
    rng = parse_lex_range(argv[2], argv[3])
    value = get_zset(client.db, argv[1])
    if value is None:
        return 0
    lo, hi = value.lex_interval(rng)
    return hi - lo


# -- the ZRANGE family ----------------------------------------------------------------------

_RANK, _SCORE, _LEX = "rank", "score", "lex"


def _zrange_generic(client: Client, argv: list[bytes], key_index: int, store_key: bytes | None,
                    rangetype: str | None, reverse: bool | None) -> object:
    """ZRANGE and its variants: ``rangetype``/``reverse`` None when options may choose them."""
    withscores = False
    offset, limit = 0, -1
    argc = len(argv)
    j = key_index + 3
    while j < argc:
        option = argv[j].lower()
        if option == b"withscores" and store_key is None:
            withscores = True
        elif option == b"limit" and argc - j - 1 >= 2:
            offset = parse_int(argv[j + 1])
            limit = parse_int(argv[j + 2])
            j += 2
        elif reverse is None and option == b"rev":
            reverse = True
        elif rangetype is None and option == b"bylex":
            rangetype = _LEX
        elif rangetype is None and option == b"byscore":
            rangetype = _SCORE
        else:
            raise RedisError(SYNTAX)
        j += 1
    rangetype = rangetype or _RANK
    reverse = bool(reverse)
    if limit != -1 and rangetype == _RANK:      # Redis looks at the count only: LIMIT 5 -1 passes
        raise RedisError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    if withscores and rangetype == _LEX:
        raise RedisError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    low, high = argv[key_index + 1], argv[key_index + 2]
    if reverse and rangetype != _RANK:
        low, high = high, low       # ZRANGE ... REV BYSCORE takes max before min
    if rangetype == _RANK:
        start, end = parse_int(low), parse_int(high)
    elif rangetype == _SCORE:
        rng: Any = parse_score_range(low, high)
    else:
        rng = parse_lex_range(low, high)
    value = get_zset(client.db, argv[key_index])
    entries: list = []
    if value is not None:
        if rangetype == _RANK:
            interval = rank_interval(start, end, len(value.scores))
            if interval is not None:
                lo, hi = interval
                if reverse:
                    n = len(value.scores)
                    lo, hi = n - hi, n - lo
                entries = value.slice(lo, hi, reverse)
        elif rangetype == _SCORE:
            lo, hi = value.score_interval(rng)
            entries = value.slice(lo, hi, reverse, offset, limit)
        else:
            lo, hi = value.lex_interval(rng, reverse)
            entries = value.slice(lo, hi, reverse, offset, limit)
    if store_key is not None:
        return _store(client, store_key, _from_entries(entries), "zrangestore")
    return _pairs_reply(entries, withscores)


def zrange_command(client: Client, argv: list[bytes]) -> object:
    """ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"""
    return _zrange_generic(client, argv, 1, None, None, None)


def zrangestore_command(client: Client, argv: list[bytes]) -> object:
    """ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]"""
    return _zrange_generic(client, argv, 2, argv[1], None, None)


def zrevrange_command(client: Client, argv: list[bytes]) -> object:
    """ZREVRANGE key start stop [WITHSCORES]"""
    return _zrange_generic(client, argv, 1, None, _RANK, True)


def zrangebyscore_command(client: Client, argv: list[bytes]) -> object:
    """ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]"""
    return _zrange_generic(client, argv, 1, None, _SCORE, False)


def zrevrangebyscore_command(client: Client, argv: list[bytes]) -> object:
    """ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]"""
    return _zrange_generic(client, argv, 1, None, _SCORE, True)


def zrangebylex_command(client: Client, argv: list[bytes]) -> object:
    """ZRANGEBYLEX key min max [LIMIT offset count]"""
    return _zrange_generic(client, argv, 1, None, _LEX, False)


def zrevrangebylex_command(client: Client, argv: list[bytes]) -> object:
    """ZREVRANGEBYLEX key max min [LIMIT offset count]"""
    return _zrange_generic(client, argv, 1, None, _LEX, True)


# -- ZREMRANGEBY* ---------------------------------------------------------------------------

def _zremrange(client: Client, argv: list[bytes], rangetype: str) -> object:
    if rangetype == _RANK:
        start, end = parse_int(argv[2]), parse_int(argv[3])
    elif rangetype == _SCORE:
        rng: Any = parse_score_range(argv[2], argv[3])
    else:
        rng = parse_lex_range(argv[2], argv[3])
    key = argv[1]
    value = get_zset(client.db, key, write=True)
    if value is None:
        return 0
    if rangetype == _RANK:
        interval = rank_interval(start, end, len(value.scores))
        lo, hi = interval if interval is not None else (0, 0)
    elif rangetype == _SCORE:
        lo, hi = value.score_interval(rng)
    else:
        lo, hi = value.lex_interval(rng)
    removed = value.delete_range(lo, hi)
    _after_removal(client, key, value, "zremrangeby" + rangetype, removed)
    return removed


def zremrangebyrank_command(client: Client, argv: list[bytes]) -> object:
    """ZREMRANGEBYRANK key start stop"""
    return _zremrange(client, argv, _RANK)


def zremrangebyscore_command(client: Client, argv: list[bytes]) -> object:
    """ZREMRANGEBYSCORE key min max"""
    return _zremrange(client, argv, _SCORE)


def zremrangebylex_command(client: Client, argv: list[bytes]) -> object:
    """ZREMRANGEBYLEX key min max"""
    return _zremrange(client, argv, _LEX)


# -- pops -----------------------------------------------------------------------------------

def _pop(client: Client, key: bytes, value: ZSetValue, from_max: bool, count: int) -> list:
    """Pop up to ``count`` entries with all the effects of ZPOPMIN/ZPOPMAX."""
    popped = value.pop(from_max, count)
    _after_removal(client, key, value, "zpopmax" if from_max else "zpopmin", len(popped))
    return popped


def _zpop_command(client: Client, argv: list[bytes], from_max: bool) -> object:
    if len(argv) > 3:
        raise RedisError(SYNTAX)
    count = 1
    if len(argv) == 3:
        count = parse_int(argv[2], NOT_POSITIVE)
        if count < 0:
            raise RedisError(NOT_POSITIVE)
    value = get_zset(client.db, argv[1], write=True)
    if value is None or count == 0:
        return []
    popped = _pop(client, argv[1], value, from_max, count)
    if len(argv) == 2:
        score, member = popped[0]
        return [member, Double(score)]
    return [[member, Double(score)] for score, member in popped]


def zpopmin_command(client: Client, argv: list[bytes]) -> object:
    """ZPOPMIN key [count]"""
    return _zpop_command(client, argv, False)


def zpopmax_command(client: Client, argv: list[bytes]) -> object:
    """ZPOPMAX key [count]"""
    return _zpop_command(client, argv, True)


def _parse_min_max(raw: bytes) -> bool:
    """MIN or MAX: True for MAX."""
    low = raw.lower()
    if low == b"min":
        return False
    if low == b"max":
        return True
    raise RedisError(SYNTAX)


def _parse_mpop(argv: list[bytes], numkeys_index: int) -> tuple[list[bytes], bool, int]:
    """numkeys key [key ...] MIN|MAX [COUNT count] -> (keys, from_max, count)."""
    numkeys = parse_int(argv[numkeys_index], NUMKEYS_NOT_POSITIVE)
    if numkeys < 1:
        raise RedisError(NUMKEYS_NOT_POSITIVE)
    where_index = numkeys_index + 1 + numkeys
    if where_index >= len(argv):
        raise RedisError(SYNTAX)
    from_max = _parse_min_max(argv[where_index])
    count = 0
    j = where_index + 1
    while j < len(argv):
        if argv[j].lower() == b"count" and j + 1 < len(argv) and not count:
            count = parse_int(argv[j + 1], COUNT_NOT_POSITIVE)
            if count < 1:
                raise RedisError(COUNT_NOT_POSITIVE)
            j += 2
        else:
            raise RedisError(SYNTAX)
    return argv[numkeys_index + 1:where_index], from_max, count or 1


def _mpop_reply(key: bytes, popped: list) -> list:
    return [key, [[member, Double(score)] for score, member in popped]]


def _pop_as(from_max: bool) -> bytes:
    return b"ZPOPMAX" if from_max else b"ZPOPMIN"


def zmpop_command(client: Client, argv: list[bytes]) -> object:
    """ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]"""
    keys, from_max, count = _parse_mpop(argv, 1)
    db = client.db
    for key in keys:
        value = get_zset(db, key, write=True)
        if value is not None:
            popped = _pop(client, key, value, from_max, count)
            client.engine.rewrite_command([_pop_as(from_max), key, b"%d" % len(popped)])
            return _mpop_reply(key, popped)
    return None


# -- blocking pops --------------------------------------------------------------------------

def _serve_blocked_pop(client: Client, key: bytes, from_max: bool, count: int | None) -> Any:
    """Serve a client blocked in BZPOPMIN/BZPOPMAX (``count`` None) or BZMPOP."""
    value = client.db.lookup_write(key)
    if type(value) is not ZSetValue:
        return None
    popped = _pop(client, key, value, from_max, count or 1)
    engine = client.engine
    if count is None:
        propagate(engine, client.db.id, [_pop_as(from_max), key])
        score, member = popped[0]
        return [key, member, Double(score)]
    propagate(engine, client.db.id, [_pop_as(from_max), key, b"%d" % len(popped)])
    return _mpop_reply(key, popped)


def _bzpop_command(client: Client, argv: list[bytes], from_max: bool) -> object:
    deadline = parse_timeout_seconds(argv[-1], client.engine.now_ms())
    db = client.db
    keys = argv[1:-1]
    for key in keys:
        value = get_zset(db, key, write=True)
        if value is not None:
            score, member = _pop(client, key, value, from_max, 1)[0]
            client.engine.rewrite_command([_pop_as(from_max), key])
            return [key, member, Double(score)]
    if not may_block(client):
        return None

    def serve(key: bytes) -> Any:
        return _serve_blocked_pop(client, key, from_max, None)

    return block_for_keys(client, keys, deadline, serve, NULL_ARRAY)


def bzpopmin_command(client: Client, argv: list[bytes]) -> object:
    """BZPOPMIN key [key ...] timeout"""
    return _bzpop_command(client, argv, False)


def bzpopmax_command(client: Client, argv: list[bytes]) -> object:
    """BZPOPMAX key [key ...] timeout"""
    return _bzpop_command(client, argv, True)


def bzmpop_command(client: Client, argv: list[bytes]) -> object:
    """BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]"""
    deadline = parse_timeout_seconds(argv[1], client.engine.now_ms())
    keys, from_max, count = _parse_mpop(argv, 2)
    db = client.db
    for key in keys:
        value = get_zset(db, key, write=True)
        if value is not None:
            popped = _pop(client, key, value, from_max, count)
            client.engine.rewrite_command([_pop_as(from_max), key, b"%d" % len(popped)])
            return _mpop_reply(key, popped)
    if not may_block(client):
        return None

    def serve(key: bytes) -> Any:
        return _serve_blocked_pop(client, key, from_max, count)

    return block_for_keys(client, keys, deadline, serve, NULL_ARRAY)


# -- ZRANDMEMBER ----------------------------------------------------------------------------

def zrandmember_command(client: Client, argv: list[bytes]) -> object:
    """ZRANDMEMBER key [count [WITHSCORES]]"""
    argc = len(argv)
    rng = client.engine.rng
    if argc == 2:
        value = get_zset(client.db, argv[1])
        if value is None:
            return None
        return value.ordered[rng.randrange(len(value.ordered))][1]
    count = parse_int(argv[2])
    if count < -LONG_MAX:
        raise RedisError(RANDMEMBER_RANGE)
    withscores = False
    if argc > 4 or (argc == 4 and argv[3].lower() != b"withscores"):
        raise RedisError(SYNTAX)
    if argc == 4:
        withscores = True
        if count < -(LONG_MAX // 2) or count > LONG_MAX // 2:
            raise RedisError("ERR value is out of range")
    value = get_zset(client.db, argv[1])
    if value is None or count == 0:
        return []
    ordered = value.ordered
    n = len(ordered)
    if count < 0:
        if -count > RANDMEMBER_MAX_REPEATS:
            raise RedisError("ERR value is out of range")
        picked = [ordered[rng.randrange(n)] for _ in range(-count)]
    elif count >= n:
        picked = list(ordered)
        rng.shuffle(picked)
    else:
        picked = [ordered[i] for i in rng.sample(range(n), count)]
    return _pairs_reply(picked, withscores)


# -- ZUNION / ZINTER / ZDIFF ----------------------------------------------------------------

_UNION, _INTER, _DIFF = "union", "inter", "diff"
_SUM, _MIN, _MAX = "sum", "min", "max"


def _source_items(value: Any) -> Iterable[tuple[bytes, float]]:
    """(member, score) of a sorted set, or of a set (every score 1)."""
    if value is None:
        return ()
    if type(value) is ZSetValue:
        return ((member, score) for score, member in value.ordered)
    return ((member, 1.0) for member in value.ordered())


def _source_score(value: Any, member: bytes) -> float | None:
    if type(value) is ZSetValue:
        return value.scores.get(member)
    return 1.0 if member in value.index else None


def _aggregate(current: float, new: float, how: str) -> float:
    if how == _SUM:
        total = current + new
        return 0.0 if total != total else total
    if how == _MIN:
        return new if new < current else current
    return new if new > current else current


def _lookup_sources(client: Client, keys: list[bytes]) -> list[Any]:
    db = client.db
    sources = []
    for key in keys:
        value = db.lookup_read(key)
        if value is not None and type(value) is not ZSetValue and type(value) is not SetValue:
            raise WrongTypeError()
        sources.append(value)
    return sources


def _setop(client: Client, argv: list[bytes], op: str, store: bool, cardinality: bool = False) -> object:
    """ZUNION/ZINTER/ZDIFF, their STORE forms and ZINTERCARD (zunionInterDiffGenericCommand)."""
    numkeys_index = 2 if store else 1
    numkeys = parse_int(argv[numkeys_index])
    if numkeys < 1:
        name = argv[0].decode("utf-8", "replace").lower()
        raise RedisError(f"ERR at least 1 input key is needed for '{name}' command")
    argc = len(argv)
    if numkeys > argc - numkeys_index - 1:
        raise RedisError(SYNTAX)
    keys = argv[numkeys_index + 1:numkeys_index + 1 + numkeys]
    sources = _lookup_sources(client, keys)
    weights = [1.0] * numkeys
    how = _SUM
    withscores = False
    limit = 0
    j = numkeys_index + 1 + numkeys
    while j < argc:
        remaining = argc - j
        option = argv[j].lower()
        if op != _DIFF and not cardinality and option == b"weights" and remaining >= numkeys + 1:
            for i in range(numkeys):
                weights[i] = parse_float(argv[j + 1 + i], "ERR weight value is not a float")
            j += numkeys + 1
        elif op != _DIFF and not cardinality and option == b"aggregate" and remaining >= 2:
            how = argv[j + 1].lower().decode("latin-1")
            if how not in (_SUM, _MIN, _MAX):
                raise RedisError(SYNTAX)
            j += 2
        elif not store and not cardinality and option == b"withscores":
            withscores = True
            j += 1
        elif cardinality and option == b"limit" and remaining >= 2:
            limit = parse_int(argv[j + 1], "ERR LIMIT can't be negative")
            if limit < 0:
                raise RedisError("ERR LIMIT can't be negative")
            j += 2
        else:
            raise RedisError(SYNTAX)
    if cardinality:
        return _intercard(sources, limit)
    result = _combine(op, sources, weights, how)
    if store:
        return _store(client, argv[1], result, "z" + op + "store")
    return _pairs_reply(result.ordered, withscores)


def _intercard(sources: list[Any], limit: int) -> int:
    """How many members all ``sources`` share, counting up to ``limit`` (0: no limit)."""
    if any(s is None for s in sources):
        return 0
    sources = sorted(sources, key=len)
    rest = sources[1:]
    found = 0
    for member, _ in _source_items(sources[0]):
        if all(_source_score(other, member) is not None for other in rest):
            found += 1
            if found == limit:
                break
    return found


def _combine(op: str, sources: list[Any], weights: list[float], how: str) -> ZSetValue:
    """The result of ZUNION/ZINTER/ZDIFF as a skiplist-encoded set."""
    if op == _DIFF:
        first = sources[0]
        others = [s for s in sources[1:] if s is not None]
        entries = ((score, member) for member, score in _source_items(first)
                   if not any(_source_score(other, member) is not None for other in others))
        return _from_entries(entries)
    # Smallest sources first (as Redis orders them): sums are added up in that order.
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]) if sources[i] is not None else 0)
    acc: dict[bytes, float] = {}
    if op == _UNION:
        for i in order:
            weight = weights[i]
            for member, score in _source_items(sources[i]):
                value = score * weight
                if value != value:
                    value = 0.0
                current = acc.get(member)
                acc[member] = value if current is None else _aggregate(current, value, how)
    else:
        first = order[0]
        if sources[first] is None:
            return ZSetValue(listpack=False)
        rest = [(sources[i], weights[i]) for i in order[1:]]
        for member, score in _source_items(sources[first]):
            total = score * weights[first]
            if total != total:
                total = 0.0
            for other, weight in rest:
                if other is None:
                    break
                found = _source_score(other, member)
                if found is None:
                    break
                value = found * weight
                if value != value:
                    value = 0.0
                total = _aggregate(total, value, how)
            else:
                acc[member] = total
    return _from_entries((score, member) for member, score in acc.items())


def zunion_command(client: Client, argv: list[bytes]) -> object:
    """ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]"""
    return _setop(client, argv, _UNION, False)


def zinter_command(client: Client, argv: list[bytes]) -> object:
    """ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]"""
    return _setop(client, argv, _INTER, False)


def zdiff_command(client: Client, argv: list[bytes]) -> object:
    """ZDIFF numkeys key [key ...] [WITHSCORES]"""
    return _setop(client, argv, _DIFF, False)


def zunionstore_command(client: Client, argv: list[bytes]) -> object:
    """ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]"""
    return _setop(client, argv, _UNION, True)


def zinterstore_command(client: Client, argv: list[bytes]) -> object:
    """ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]"""
    return _setop(client, argv, _INTER, True)


def zdiffstore_command(client: Client, argv: list[bytes]) -> object:
    """ZDIFFSTORE destination numkeys key [key ...]"""
    return _setop(client, argv, _DIFF, True)


def zintercard_command(client: Client, argv: list[bytes]) -> object:
    """ZINTERCARD numkeys key [key ...] [LIMIT limit]"""
    return _setop(client, argv, _INTER, False, cardinality=True)


# -- ZSCAN ----------------------------------------------------------------------------------

def zscan_command(client: Client, argv: list[bytes]) -> object:
    """ZSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_scan_cursor(argv[2])
    value = get_zset(client.db, argv[1])
    if value is None:
        return [b"0", []]
    count, pattern = parse_scan_options(argv, 3)
    if value.listpack:
        # Small encodings are returned whole in one call, scores as the listpack holds them.
        next_cursor = 0
        page = [(member, format_listpack_score(score)) for score, member in value.ordered]
    else:
        next_cursor, entries = value.scan(cursor, count)
        page = [(member, b"%.17g" % score) for member, score in entries]
    reply = []
    match = pattern.match if pattern is not None else None
    for member, score_text in page:
        if match is None or match(member):
            reply.append(member)
            reply.append(score_text)
    return [b"%d" % next_cursor, reply]

