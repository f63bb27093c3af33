"""The stream type: XADD ... XINFO, consumer groups, and XREAD/XREADGROUP BLOCK.

Type API first (:class:`StreamValue` and its consumer groups), then the commands,
grouped as in Redis's t_stream.c. Blocking reads use the generic machinery of
``engine/blocking.py``.

How a stream is held, and why
-----------------------------
Redis keeps a stream as a radix tree of *listpack nodes*: each node holds up to
``stream-node-max-entries`` entries (100) in at most ``stream-node-max-bytes``
(4096) bytes, and is keyed by the ID of the first entry ever put in it (its
*master* ID). That layout is visible from outside: approximate trimming
(``MAXLEN ~``/``MINID ~``) only ever removes whole nodes, and XINFO STREAM reports
the node count (``radix-tree-keys``) and the radix tree's own node count
(``radix-tree-nodes``). So the same nodes are kept here:

* :class:`StreamNode` holds the entries of one node: two ``array('Q')`` columns for
  the IDs (16 bytes per entry; bisected in O(log n)), and one list slot per entry
  for its content. An entry whose field names equal the node's *master fields*
  (the fields of the node's first entry -- the common case) keeps only its values,
  like Redis's SAMEFIELDS flag: a bare ``bytes`` for one field, a tuple for more.
  Other entries keep a list ``[field, value, ...]``. A deleted entry is a ``None``
  tombstone until its whole node goes, as in Redis; its content moves to the node's
  ``dead`` dict (index -> content), because Redis only flags a deleted entry in its
  listpack and DUMP and RDB files carry it with its fields and values.
* The node's listpack size in bytes is tracked with Redis's element encodings
  (integers stored compactly, string lengths, back-lengths), so new nodes start
  exactly where Redis starts them.
* :class:`StreamValue` keeps the nodes in ID order with their master IDs in a
  parallel list: finding the node of an ID is one bisect, so XRANGE and XADD cost
  O(log n) whatever the stream's length.

Consumer groups keep their pending entries (the PEL) in ``SortedDict``s keyed by
the packed ID (``engine/streamid.py``), shared between the group and the owning
consumer, as Redis shares its NACK structures.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from typing import Any

from sortedcontainers import SortedDict

from specredis.engine.args import parse_int, parse_int_range, parse_timeout_ms, string_to_int
from specredis.engine.blocking import block_for_keys, may_block, propagate
from specredis.engine.client import CLIENT_MASTER, CLIENT_SCRIPT, Client
from specredis.engine.core import NOTIFY_STREAM
from specredis.engine.debug import register_digest
from specredis.engine.errors import (
    NO_SUCH_KEY,
    RedisError,
    SyntaxErr,
    WrongTypeError,
    subcommand_syntax_error,
    wrong_arity,
)
from specredis.engine.help import help_reply
from specredis.engine.keyspace import Database, register_type
from specredis.engine.streamid import (
    MAX_ID,
    SEQ_MASK,
    UINT64_MAX,
    format_id,
    parse_id,
    parse_id_or_partial,
    parse_interval_id,
)
from specredis.protocol.replies import NULL_ARRAY, OK, Map

# Sentinel of an unknown group read counter (SCG_INVALID_ENTRIES_READ).
ENTRIES_READ_INVALID = -1
# A listpack may not grow past this (STREAM_LISTPACK_MAX_SIZE).
LISTPACK_MAX_SIZE = 1 << 30
# Entries a blocked XREAD without COUNT gets at most (XREAD_BLOCKED_DEFAULT_COUNT).
BLOCKED_DEFAULT_COUNT = 1000
# Listpack bytes of an empty listpack: the 6-byte header and the end byte.
_LP_EMPTY = 7

# XAUTOCLAIM allocates 16 bytes per COUNT up front for the deleted IDs and reports a failed
# allocation: on x86-64 Linux jemalloc refuses around 2**45 bytes (the exact bound depends on
# the machine's address space; 7.0.15 on the reference machine fails from COUNT 2e12 on).
XAUTOCLAIM_ALLOCATION_LIMIT = 1 << 41

_U64 = 1 << 64
_I64_LIMIT = 1 << 63


# -- listpack sizes -----------------------------------------------------------------------------
#
# Only sizes matter here: a node's listpack size decides where the next node starts. Each
# element is its encoding (type bits, then the integer or the string) followed by a
# back-length of 1 to 5 bytes.

def _int_element_size(value: int) -> int:
    """Bytes of an integer element, back-length included (lpEncodeIntegerGetType + 1)."""
    if 0 <= value <= 127:
        return 2
    if -4096 <= value <= 4095:
        return 3
    if -32768 <= value <= 32767:
        return 4
    if -8388608 <= value <= 8388607:
        return 5
    if -2147483648 <= value <= 2147483647:
        return 6
    return 10


# First bytes of the strings that may spell an integer (string2ll).
_INT_START = frozenset(b"-0123456789")


def _string_element_size(data: bytes) -> int:
    """Bytes of a field or value element: strings that spell a 64-bit integer are stored as one."""
    size = len(data)
    if size <= 20 and size and data[0] in _INT_START:
        number = string_to_int(data)
        if number is not None:
            return _int_element_size(number)
    if size < 64:
        encoded = 1 + size
    elif size < 4096:
        encoded = 2 + size
    else:
        encoded = 5 + size
    if encoded <= 127:
        return encoded + 1
    if encoded < 16383:
        return encoded + 2
    if encoded < 2097151:
        return encoded + 3
    if encoded < 268435455:
        return encoded + 4
    return encoded + 5


def _delta(a: int, b: int) -> int:
    """``a - b`` as C computes it in uint64_t and stores it as int64_t."""
    value = (a - b) % _U64
    return value - _U64 if value >= _I64_LIMIT else value


# -- Type API -----------------------------------------------------------------------------------

class StreamNode:
    """One listpack node: the entries added while it was the last node, up to its limits."""

    __slots__ = ("master", "fields", "ms", "seq", "items", "live", "deleted", "body", "dead")

    def __init__(self, master: int, fields: tuple[bytes, ...]) -> None:
        self.master = master                # the ID of its first entry: the node's key
        self.fields = fields                # the master fields (those of its first entry)
        self.ms: array = array("Q")         # entry IDs, ms part
        self.seq: array = array("Q")        # entry IDs, seq part
        # Entry contents (see the module docstring), None once deleted. A list while the node is
        # the tail; a tuple once it is full, which the garbage collector untracks: a million
        # entries then cost full collections ten thousand nodes, not a million slots.
        self.items: list[Any] | tuple = []
        self.live = 0                       # entries not deleted (the listpack's "count")
        self.deleted = 0                    # tombstones (the listpack's "deleted")
        # The content of each tombstone (index -> content as in ``items``), None while there
        # is none: kept only to serialize the node as Redis's listpack still holds it.
        self.dead: dict[int, Any] | None = None
        # Listpack bytes besides the two counters: header, master entry, entries.
        self.body = _LP_EMPTY + _int_element_size(len(fields)) + sum(map(_string_element_size, fields)) + 2

    def lp_bytes(self) -> int:
        """The size of this node's listpack (lpBytes)."""
        live, deleted = self.live, self.deleted
        if live <= 127 and deleted <= 127:
            return self.body + 4
        return self.body + _int_element_size(live) + _int_element_size(deleted)

    def id_at(self, index: int) -> int:
        """The packed ID of entry ``index`` (tombstones included)."""
        return self.ms[index] << 64 | self.seq[index]

    def last_id(self) -> int:
        """The ID of the last entry, tombstones included (lpGetEdgeStreamID)."""
        return self.ms[-1] << 64 | self.seq[-1]

    def lower_bound(self, stream_id: int) -> int:
        """Index of the first entry whose ID is >= ``stream_id``."""
        ms, seq = stream_id >> 64, stream_id & SEQ_MASK
        column = self.ms
        lo = bisect_left(column, ms)
        if lo < len(column) and column[lo] == ms:
            return bisect_left(self.seq, seq, lo, bisect_right(column, ms, lo))
        return lo

    def upper_bound(self, stream_id: int) -> int:
        """Index of the first entry whose ID is > ``stream_id``."""
        ms, seq = stream_id >> 64, stream_id & SEQ_MASK
        column = self.ms
        lo = bisect_left(column, ms)
        if lo < len(column) and column[lo] == ms:
            return bisect_right(self.seq, seq, lo, bisect_right(column, ms, lo))
        return lo

    def pairs(self, item: Any) -> list[bytes]:
        """The flat ``[field, value, ...]`` list of an entry's content."""
        kind = type(item)
        if kind is bytes:
            return [self.fields[0], item]
        if kind is tuple:
            out: list[bytes] = []
            for field, value in zip(self.fields, item, strict=True):
                out.append(field)
                out.append(value)
            return out
        return item

    def forget(self, index: int) -> None:
        """Make entry ``index`` a tombstone (its content goes to ``dead``)."""
        items = self.items
        if self.dead is None:
            self.dead = {}
        self.dead[index] = items[index]
        if type(items) is tuple:
            self.items = items[:index] + (None,) + items[index + 1:]
        else:
            items[index] = None

    def dup(self) -> StreamNode:
        """A copy sharing only immutable parts (bytes, sealed tuples)."""
        node = StreamNode.__new__(StreamNode)
        node.master, node.fields = self.master, self.fields
        node.ms, node.seq = array("Q", self.ms), array("Q", self.seq)
        node.items = self.items if type(self.items) is tuple else list(self.items)
        node.live, node.deleted, node.body = self.live, self.deleted, self.body
        node.dead = dict(self.dead) if self.dead is not None else None
        return node


class Nack:
    """A pending entry: delivered to ``consumer`` and not acknowledged yet (streamNACK)."""

    __slots__ = ("consumer", "delivery_time", "delivery_count")

    def __init__(self, consumer: Consumer | None, delivery_time: int, delivery_count: int) -> None:
        self.consumer = consumer
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count


class Consumer:
    """A consumer of a group: its name, when it was last seen, and its own pending entries."""

    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes, seen_time: int) -> None:
        self.name = name
        self.seen_time = seen_time
        self.pel: SortedDict = SortedDict()     # packed ID -> Nack (the same objects as the group's)


class ConsumerGroup:
    """A consumer group: the last ID delivered, its read counter, its PEL and consumers."""

    __slots__ = ("last_id", "entries_read", "pel", "consumers")

    def __init__(self, last_id: int, entries_read: int) -> None:
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: SortedDict = SortedDict()     # packed ID -> Nack
        self.consumers: dict[bytes, Consumer] = {}

    def sorted_consumers(self) -> list[Consumer]:
        """Consumers in name order (Redis keeps them in a radix tree: bytewise order)."""
        return [self.consumers[name] for name in sorted(self.consumers)]

    def remove_nack(self, stream_id: int) -> Nack | None:
        """Forget a pending entry in the group and in its consumer; return it."""
        nack = self.pel.pop(stream_id, None)
        if nack is not None and nack.consumer is not None:
            nack.consumer.pel.pop(stream_id, None)
        return nack


class StreamValue:
    """A Redis stream: entries in ID order (in listpack-sized nodes) and consumer groups."""

    __slots__ = ("keys", "nodes", "length", "last_id", "first_id", "max_deleted", "entries_added", "groups")

    def __init__(self) -> None:
        self.keys: list[int] = []           # master ID of each node, ascending
        self.nodes: list[StreamNode] = []
        self.length = 0
        self.last_id = 0                    # last-generated-id
        self.first_id = 0                   # recorded-first-entry-id (0-0 when empty)
        self.max_deleted = 0                # max-deleted-entry-id
        self.entries_added = 0
        self.groups: dict[bytes, ConsumerGroup] | None = None

    def __len__(self) -> int:
        return self.length

    def encoding(self, config: Any = None) -> str:
        """OBJECT ENCODING: always ``stream``."""
        return "stream"

    def dup(self) -> StreamValue:
        """A deep copy, consumer groups included (COPY)."""
        copy = StreamValue()
        copy.keys = list(self.keys)
        copy.nodes = [node.dup() for node in self.nodes]
        copy.length, copy.last_id, copy.first_id = self.length, self.last_id, self.first_id
        copy.max_deleted, copy.entries_added = self.max_deleted, self.entries_added
        if self.groups is not None:
            copy.groups = {}
            for name, group in self.groups.items():
                twin = ConsumerGroup(group.last_id, group.entries_read)
                for consumer in group.consumers.values():
                    twin.consumers[consumer.name] = Consumer(consumer.name, consumer.seen_time)
                for stream_id, nack in group.pel.items():
                    owner = twin.consumers[nack.consumer.name] if nack.consumer is not None else None
                    copied = Nack(owner, nack.delivery_time, nack.delivery_count)
                    twin.pel[stream_id] = copied
                    if owner is not None:
                        owner.pel[stream_id] = copied
                copy.groups[name] = twin
        return copy

    # -- appending --------------------------------------------------------------------------

    def append(self, stream_id: int, pairs: list[bytes], max_bytes: int, max_entries: int,
               total_size: int) -> None:
        """Add an entry with an ID above ``last_id`` (streamAppendItem, ID already chosen).

        ``pairs`` is ``[field, value, ...]``; ``total_size`` the sum of their lengths, which
        Redis adds to the tail listpack's size to decide whether the entry starts a node."""
        nodes = self.nodes
        node = nodes[-1] if nodes else None
        if node is not None:
            if max_bytes == 0 or max_bytes > LISTPACK_MAX_SIZE:
                max_bytes = LISTPACK_MAX_SIZE
            if node.lp_bytes() + total_size >= max_bytes or \
                    (max_entries and node.live + node.deleted >= max_entries):
                node.items = tuple(node.items)      # full: sealed
                node = None
        nfields = len(pairs) >> 1
        if node is None:
            node = StreamNode(stream_id, tuple(pairs[0::2]))
            self.keys.append(stream_id)
            nodes.append(node)
            same = True
        else:
            fields = node.fields
            same = nfields == len(fields) and (pairs[0] == fields[0] if nfields == 1
                                               else tuple(pairs[0::2]) == fields)
        ms, seq = stream_id >> 64, stream_id & SEQ_MASK
        master = node.master
        # flags, the ID's ms and seq deltas to the master ID, and (below) the lp-count.
        ms_delta = ms - (master >> 64)
        seq_delta = seq - (master & SEQ_MASK)
        size = 2 + (2 if 0 <= ms_delta <= 127 else _int_element_size(_delta(ms, master >> 64))) \
            + (2 if 0 <= seq_delta <= 127 else _int_element_size(_delta(seq, master & SEQ_MASK)))
        if same:
            if nfields == 1:
                size += _string_element_size(pairs[1]) + 2
                item: Any = pairs[1]
            else:
                for value in pairs[1::2]:
                    size += _string_element_size(value)
                size += _int_element_size(nfields + 3)
                item = tuple(pairs[1::2])
        else:
            for element in pairs:
                size += _string_element_size(element)
            size += _int_element_size(nfields) + _int_element_size(2 * nfields + 4)
            item = list(pairs)
        node.body += size
        node.ms.append(ms)
        node.seq.append(seq)
        items = node.items
        if type(items) is tuple:        # a sealed node became the tail again (XDEL emptied the last)
            node.items = items = list(items)
        items.append(item)
        node.live += 1
        self.length += 1
        self.entries_added += 1
        self.last_id = stream_id
        if self.length == 1:
            self.first_id = stream_id

    # -- lookups ----------------------------------------------------------------------------

    def _locate(self, stream_id: int) -> tuple[StreamNode, int] | None:
        """The node and index of the entry with this exact ID, tombstones included."""
        index = bisect_right(self.keys, stream_id) - 1
        if index < 0:
            return None
        node = self.nodes[index]
        position = node.lower_bound(stream_id)
        if position < len(node.items) and node.id_at(position) == stream_id:
            return node, position
        return None

    def entry(self, stream_id: int) -> list[bytes] | None:
        """The ``[field, value, ...]`` of a live entry, or None."""
        found = self._locate(stream_id)
        if found is None:
            return None
        node, position = found
        item = node.items[position]
        return None if item is None else node.pairs(item)

    def exists(self, stream_id: int) -> bool:
        """Whether a live entry has this ID (streamEntryExists)."""
        found = self._locate(stream_id)
        return found is not None and found[0].items[found[1]] is not None

    def iter_ids(self, start: int = 0, end: int = MAX_ID, reverse: bool = False) -> Iterator[tuple[int, StreamNode, int]]:
        """Live entries with start <= ID <= end: (id, node, index), in order or reversed."""
        keys, nodes = self.keys, self.nodes
        if not reverse:
            index = max(bisect_right(keys, start) - 1, 0)
            first = True
            while index < len(nodes):
                node = nodes[index]
                position = node.lower_bound(start) if first else 0
                first = False
                items, ms, seq = node.items, node.ms, node.seq
                for i in range(position, len(items)):
                    stream_id = ms[i] << 64 | seq[i]
                    if stream_id > end:
                        return
                    if items[i] is not None:
                        yield stream_id, node, i
                index += 1
        else:
            index = bisect_right(keys, end) - 1
            first = True
            while index >= 0:
                node = nodes[index]
                position = node.upper_bound(end) - 1 if first else len(node.items) - 1
                first = False
                items, ms, seq = node.items, node.ms, node.seq
                for i in range(position, -1, -1):
                    stream_id = ms[i] << 64 | seq[i]
                    if stream_id < start:
                        return
                    if items[i] is not None:
                        yield stream_id, node, i
                index -= 1

    def range(self, start: int, end: int, count: int = 0, reverse: bool = False) -> list[list]:
        """``[[id, [field, value, ...]], ...]`` of the live entries in [start, end]; count 0: all.

        XRANGE's hot path: one bisect to the first node, then a plain loop comparing the
        ms and seq columns (no packed ints, no generator)."""
        out: list[list] = []
        if start > end or not self.length:
            return out
        keys, nodes = self.keys, self.nodes
        append = out.append
        if not reverse:
            index = bisect_right(keys, start) - 1
            if index < 0:
                index = 0
            position = nodes[index].lower_bound(start)
            limit_ms, limit_seq = end >> 64, end & SEQ_MASK
            while index < len(nodes):
                node = nodes[index]
                items, ms, seq, fields = node.items, node.ms, node.seq, node.fields
                for i in range(position, len(items)):
                    m = ms[i]
                    if m >= limit_ms and (m > limit_ms or seq[i] > limit_seq):
                        return out
                    item = items[i]
                    if item is None:
                        continue
                    kind = type(item)
                    if kind is bytes:
                        pairs = [fields[0], item]
                    elif kind is tuple:
                        pairs = node.pairs(item)
                    else:
                        pairs = item
                    append([b"%d-%d" % (m, seq[i]), pairs])
                    if len(out) == count:
                        return out
                index += 1
                position = 0
            return out
        index = bisect_right(keys, end) - 1
        if index < 0:
            return out
        position = nodes[index].upper_bound(end) - 1
        limit_ms, limit_seq = start >> 64, start & SEQ_MASK
        while index >= 0:
            node = nodes[index]
            items, ms, seq, fields = node.items, node.ms, node.seq, node.fields
            for i in range(position, -1, -1):
                m = ms[i]
                if m <= limit_ms and (m < limit_ms or seq[i] < limit_seq):
                    return out
                item = items[i]
                if item is None:
                    continue
                kind = type(item)
                if kind is bytes:
                    pairs = [fields[0], item]
                elif kind is tuple:
                    pairs = node.pairs(item)
                else:
                    pairs = item
                append([b"%d-%d" % (m, seq[i]), pairs])
                if len(out) == count:
                    return out
            index -= 1
            if index >= 0:
                position = len(nodes[index].items) - 1
        return out

    def first_entry_id(self) -> int | None:
        """The ID of the first live entry, or None."""
        for stream_id, _, _ in self.iter_ids():
            return stream_id
        return None

    def last_entry_id(self) -> int | None:
        """The ID of the last live entry (streamLastValidID), or None."""
        for stream_id, _, _ in self.iter_ids(reverse=True):
            return stream_id
        return None

    # -- deleting ---------------------------------------------------------------------------

    def delete(self, stream_id: int) -> bool:
        """Delete one entry (streamDeleteItem): a tombstone, or the whole node if it was its last."""
        found = self._locate(stream_id)
        if found is None:
            return False
        node, position = found
        if node.items[position] is None:
            return False
        if node.live == 1:
            index = bisect_right(self.keys, node.master) - 1
            del self.keys[index]
            del self.nodes[index]
        else:
            node.forget(position)
            node.live -= 1
            node.deleted += 1
        self.length -= 1
        if not self.length:
            self.first_id = 0
        elif stream_id == self.first_id:
            self._refresh_first_id()
        return True

    def trim(self, maxlen: int | None, minid: int | None, approx: bool, limit: int) -> int:
        """Trim from the head (streamTrim): whole nodes first; with ``approx`` only whole nodes.

        Exactly one of ``maxlen``/``minid`` is given; ``limit`` (0: none) caps the entries
        removed, counted in whole nodes. Returns how many entries were removed."""
        deleted = 0
        keys, nodes = self.keys, self.nodes
        while nodes:
            if maxlen is not None and self.length <= maxlen:
                break
            node = nodes[0]
            entries = node.live
            if limit and deleted + entries > limit:
                break
            if maxlen is not None:
                remove_node = self.length - entries >= maxlen
            else:
                remove_node = node.last_id() < minid
            if remove_node:
                del keys[0]
                del nodes[0]
                self.length -= entries
                deleted += entries
                continue
            if approx:
                break
            # Mark entries of this node deleted, in order, until the condition holds.
            removed_here = 0
            items = list(node.items)
            if node.dead is None:
                node.dead = {}
            dead = node.dead
            for i in range(len(items)):
                if maxlen is not None:
                    if self.length <= maxlen:
                        break
                elif node.id_at(i) >= minid:
                    break
                if items[i] is not None:
                    dead[i] = items[i]
                    items[i] = None
                    removed_here += 1
                    self.length -= 1
            node.items = items if nodes[-1] is node else tuple(items)
            node.live -= removed_here
            node.deleted += removed_here
            deleted += removed_here
            break
        if deleted:
            self._refresh_first_id()
        return deleted

    def _refresh_first_id(self) -> None:
        first = self.first_entry_id() if self.length else None
        self.first_id = first if first is not None else 0

    # -- radix tree statistics --------------------------------------------------------------

    def rax_node_count(self) -> int:
        """The node count of Redis's radix tree over the node keys (``radix-tree-nodes``).

        Keys are the 16-byte big-endian master IDs. Redis's rax is a compressed trie: a
        branching node holds one byte per child; a run of single-child bytes is one
        compressed node; every key ends in its own (leaf) node. For keys of equal length the
        count is 1 (the root, branching or compressed) + the branching nodes below the root
        + one leaf per key + one compressed node per edge of two bytes or more out of a
        branching node. The branching nodes and edges come from the common prefixes of
        neighbouring keys, with a stack, as when building a suffix tree from sorted suffixes."""
        keys = self.keys
        count = len(keys)
        if count == 0:
            return 1
        leaf_depth = 16
        stack = [0]                 # depths of the branching nodes on the rightmost path
        internal = 0                # branching nodes below the root
        long_edges = 0              # edges of >= 2 bytes out of branching nodes below the root
        root_children = 0
        root_long_edges = 0

        def attach(parent: int, child: int, parent_is_root: bool) -> None:
            nonlocal long_edges, root_children, root_long_edges
            if parent_is_root:
                root_children += 1
                root_long_edges += child - parent >= 2
            elif child - parent >= 2:
                long_edges += 1

        for i in range(1, count):
            common = (128 - (keys[i - 1] ^ keys[i]).bit_length()) >> 3
            # The subtree left of key i (``last``) is complete below depth ``common``.
            last = leaf_depth
            while stack[-1] > common:
                top = stack.pop()
                attach(top, last, False)
                last = top
            if stack[-1] < common:
                stack.append(common)
                internal += 1
            attach(stack[-1], last, len(stack) == 1)
        last = leaf_depth
        while len(stack) > 1:
            top = stack.pop()
            attach(top, last, False)
            last = top
        attach(0, last, True)
        if root_children >= 2:
            long_edges += root_long_edges
        return 1 + internal + count + long_edges

    # -- consumer groups --------------------------------------------------------------------

    def group(self, name: bytes) -> ConsumerGroup | None:
        """The consumer group called ``name`` (streamLookupCG), or None."""
        groups = self.groups
        return groups.get(name) if groups is not None else None

    def has_tombstones_in(self, start: int, end: int = MAX_ID) -> bool:
        """streamRangeHasTombstones: may a deleted entry lie between start and end?"""
        if not self.length or not self.max_deleted:
            return False
        if self.first_id > self.max_deleted:
            return False
        return start <= self.max_deleted <= end

    def estimate_distance(self, stream_id: int) -> int:
        """streamEstimateDistanceFromFirstEverEntry: the read counter of ``stream_id``, or -1."""
        if not self.entries_added:
            return 0
        if not self.length and stream_id <= self.last_id:
            return self.entries_added
        if stream_id == self.last_id:
            return self.entries_added
        if stream_id > self.last_id:
            return ENTRIES_READ_INVALID
        if not self.max_deleted or self.max_deleted < self.first_id:
            if stream_id < self.first_id:
                return self.entries_added - self.length
            if stream_id == self.first_id:
                return self.entries_added - self.length + 1
        return ENTRIES_READ_INVALID

    def group_lag(self, group: ConsumerGroup) -> int | None:
        """The lag XINFO reports for a group (streamReplyWithCGLag), or None when unknown."""
        if not self.entries_added:
            return 0
        if group.entries_read != ENTRIES_READ_INVALID and not self.has_tombstones_in(group.last_id):
            return self.entries_added - group.entries_read
        entries_read = self.estimate_distance(group.last_id)
        if entries_read != ENTRIES_READ_INVALID:
            return self.entries_added - entries_read
        return None


register_type(StreamValue, "stream")


def _digest_stream(digest: Any, value: StreamValue) -> None:
    # xorObjectDigest: each live entry's "ms.seq", then its fields and values, in ID order.
    # Consumer groups are not part of the digest.
    for stream_id, node, i in value.iter_ids():
        digest.mix(b"%d.%d" % (stream_id >> 64, stream_id & SEQ_MASK))
        for element in node.pairs(node.items[i]):
            digest.mix(element)


register_digest(StreamValue, _digest_stream)


# -- shared helpers -----------------------------------------------------------------------------

def _text(raw: bytes) -> str:
    """An argument as C's %s prints it: up to its first NUL byte."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _stream_for_read(db: Database, key: bytes) -> StreamValue | None:
    value = db.lookup_read(key)
    if value is not None and type(value) is not StreamValue:
        raise WrongTypeError()
    return value


def _stream_for_write(db: Database, key: bytes) -> StreamValue | None:
    value = db.lookup_write(key)
    if value is not None and type(value) is not StreamValue:
        raise WrongTypeError()
    return value


def _notify(client: Client, event: str, key: bytes) -> None:
    client.engine.notify(NOTIFY_STREAM, event, key, client.db.id)


def _must_obey(client: Client) -> bool:
    """Commands from the master, or replayed while loading (the AOF), are applied as they
    come (mustObeyClient): a propagated ``MAXLEN = n LIMIT m`` must not be refused."""
    return bool(client.flags & CLIENT_MASTER) or client.engine.loading


Emit = Callable[[int, list[bytes]], None]


def _effects_only(engine: Any, dirty_before: int) -> None:
    """The command is propagated as the effects it emitted (preventCommandPropagation).

    Only when it changed something: the dispatcher consumes the flag only for commands
    it propagates, so a flag set by a command that changed nothing would silence the next."""
    if engine.dirty != dirty_before:
        engine.prevent_propagation()


# -- XADD / XTRIM -------------------------------------------------------------------------------

class AddTrimArgs:
    """The options of XADD and XTRIM (streamAddTrimArgs)."""

    __slots__ = ("maxlen", "minid", "approx", "limit", "strategy_index", "nomkstream", "id", "id_given",
                 "seq_given", "id_index")

    def __init__(self) -> None:
        self.maxlen: int | None = None
        self.minid: int | None = None
        self.approx = False
        self.limit = 0
        self.strategy_index = 0         # argv index of the MAXLEN/MINID threshold
        self.nomkstream = False
        self.id = 0
        self.id_given = False
        self.seq_given = True
        self.id_index = 0               # argv index of the ID (XADD)


def _parse_add_trim(client: Client, argv: list[bytes], xadd: bool) -> AddTrimArgs:
    """streamParseAddOrTrimArgsOrReply: options in any order, then (XADD) the ID."""
    args = AddTrimArgs()
    limit_given = False
    strategy = False
    argc = len(argv)
    i = 2
    while i < argc:
        more = argc - 1 - i
        option = argv[i]
        if xadd and option == b"*":
            break
        low = option.lower()
        if low == b"maxlen" and more:
            if strategy:
                raise RedisError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
            args.approx = False
            following = argv[i + 1]
            if more >= 2 and following == b"~":
                args.approx = True
                i += 1
            elif more >= 2 and following == b"=":
                i += 1
            maxlen = parse_int(argv[i + 1])
            if maxlen < 0:
                raise RedisError("ERR The MAXLEN argument must be >= 0.")
            i += 1
            args.maxlen = maxlen
            strategy = True
            args.strategy_index = i
        elif low == b"minid" and more:
            if strategy:
                raise RedisError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
            args.approx = False
            following = argv[i + 1]
            if more >= 2 and following == b"~":
                args.approx = True
                i += 1
            elif more >= 2 and following == b"=":
                i += 1
            args.minid = parse_id(argv[i + 1], strict=True)
            i += 1
            strategy = True
            args.strategy_index = i
        elif low == b"limit" and more:
            limit = parse_int(argv[i + 1])
            if limit < 0:
                raise RedisError("ERR The LIMIT argument must be >= 0.")
            args.limit = limit
            limit_given = True
            i += 1
        elif xadd and low == b"nomkstream":
            args.nomkstream = True
        elif xadd:
            args.id, args.seq_given = parse_id_or_partial(option, strict=True)
            args.id_given = True
            break
        else:
            raise SyntaxErr()
        i += 1
    args.id_index = i
    if args.limit and not strategy:
        raise RedisError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    if not xadd and not strategy:
        raise RedisError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if _must_obey(client):
        args.limit = 0
    elif limit_given:
        if not args.approx:
            raise RedisError("ERR syntax error, LIMIT cannot be used without the special ~ option")
    elif args.approx:
        entries = client.engine.config.values["stream-node-max-entries"]
        args.limit = 100 * entries if entries else 10000
        if args.limit <= 0 or args.limit > 1_000_000:
            args.limit = 1_000_000 if args.limit > 0 else 10000
    else:
        args.limit = 0
    return args


def _trim_rewrite(argv: list[bytes], stream: StreamValue, args: AddTrimArgs) -> list[bytes]:
    """An approximate trim is propagated as the exact one it turned out to be:
    ``MAXLEN = <length>`` or ``MINID = <first ID, tombstones included>``."""
    rewritten = list(argv)
    rewritten[args.strategy_index - 1] = b"="
    if args.maxlen is not None:
        rewritten[args.strategy_index] = b"%d" % stream.length
    else:
        first = MAX_ID
        if stream.nodes:
            first = stream.nodes[0].id_at(0)
        rewritten[args.strategy_index] = format_id(first)
    return rewritten


def xadd_command(client: Client, argv: list[bytes]) -> Any:
    """XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]"""
    if argv[2] == b"*" and len(argv) == 5:
        args = None             # the common case: no options, an automatic ID
        field_index = 3
    else:
        args = _parse_add_trim(client, argv, True)
        field_index = args.id_index + 1
        pending = len(argv) - field_index
        if pending < 2 or pending & 1:
            raise wrong_arity("xadd")
        if args.id_given and args.seq_given and args.id == 0:
            raise RedisError("ERR The ID specified in XADD must be greater than 0-0")
    engine = client.engine
    db = client.db
    key = argv[1]
    stream = db.lookup_write(key)
    if stream is None:
        if args is not None and args.nomkstream:
            return None
        stream = StreamValue()
        db.add(key, stream)
    elif type(stream) is not StreamValue:
        raise WrongTypeError()
    last_id = stream.last_id
    if last_id == MAX_ID:
        raise RedisError("ERR The stream has exhausted the last possible ID, unable to add more items")
    if args is None or not args.id_given:
        now = engine.now_ms()
        if now > last_id >> 64:
            new_id = now << 64
        else:
            new_id = last_id + 1
    elif args.seq_given:
        new_id = args.id
    elif last_id >> 64 == args.id >> 64:
        if last_id & SEQ_MASK == UINT64_MAX:
            raise RedisError("ERR The ID specified in XADD is equal or smaller than the target stream top item")
        new_id = last_id + 1
    else:
        new_id = args.id
    if new_id <= last_id:
        raise RedisError("ERR The ID specified in XADD is equal or smaller than the target stream top item")
    pairs = argv[field_index:]
    total = sum(map(len, pairs))
    if total > LISTPACK_MAX_SIZE:
        raise RedisError("ERR Elements are too large to be stored")
    values = engine.config.values
    stream.append(new_id, pairs, values["stream-node-max-bytes"], values["stream-node-max-entries"], total)
    reply = b"%d-%d" % (new_id >> 64, new_id & SEQ_MASK)
    if engine.key_modified_hooks:
        db.signal_modified(key)
    if engine.notify_flags:
        engine.notify(NOTIFY_STREAM, "xadd", key, db.id)
    engine.dirty += 1
    rewritten = None
    if args is not None and (args.maxlen is not None or args.minid is not None):
        if stream.trim(args.maxlen, args.minid, args.approx, args.limit):
            _notify(client, "xtrim", key)
        if args.approx:
            rewritten = _trim_rewrite(argv, stream, args)
    if args is None or not args.id_given or not args.seq_given:
        # The generated ID is propagated, so replicas and the AOF add the same entry.
        if rewritten is None:
            rewritten = list(argv)
        rewritten[field_index - 1] = reply
    if rewritten is not None:
        engine.rewrite_command(rewritten)
    if db.blocking_keys:
        db.signal_ready(key)
    return reply


def xtrim_command(client: Client, argv: list[bytes]) -> int:
    """XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]"""
    args = _parse_add_trim(client, argv, False)
    db = client.db
    key = argv[1]
    stream = _stream_for_write(db, key)
    if stream is None:
        return 0
    deleted = stream.trim(args.maxlen, args.minid, args.approx, args.limit)
    if deleted:
        _notify(client, "xtrim", key)
        if args.approx:
            client.engine.rewrite_command(_trim_rewrite(argv, stream, args))
        db.signal_modified(key)
        client.engine.dirty += deleted
    return deleted


# -- XRANGE / XREVRANGE / XLEN / XDEL / XSETID --------------------------------------------------

def _parse_range_start(raw: bytes) -> int:
    start, exclusive = parse_interval_id(raw, 0)
    if exclusive:
        if start == MAX_ID:
            raise RedisError("ERR invalid start ID for the interval")
        start += 1
    return start


def _parse_range_end(raw: bytes) -> int:
    end, exclusive = parse_interval_id(raw, UINT64_MAX)
    if exclusive:
        if end == 0:
            raise RedisError("ERR invalid end ID for the interval")
        end -= 1
    return end


def _range(client: Client, argv: list[bytes], reverse: bool) -> Any:
    start = _parse_range_start(argv[3] if reverse else argv[2])
    end = _parse_range_end(argv[2] if reverse else argv[3])
    count = -1
    j = 4
    argc = len(argv)
    while j < argc:
        if argv[j].lower() == b"count" and j + 1 < argc:
            count = parse_int(argv[j + 1])
            if count < 0:
                count = 0
            j += 2
        else:
            raise SyntaxErr()
    stream = _stream_for_read(client.db, argv[1])
    if stream is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return stream.range(start, end, 0 if count == -1 else count, reverse)


def xrange_command(client: Client, argv: list[bytes]) -> Any:
    """XRANGE key start end [COUNT count]"""
    return _range(client, argv, False)


def xrevrange_command(client: Client, argv: list[bytes]) -> Any:
    """XREVRANGE key end start [COUNT count]"""
    return _range(client, argv, True)


def xlen_command(client: Client, argv: list[bytes]) -> int:
    """XLEN key"""
    stream = _stream_for_read(client.db, argv[1])
    return 0 if stream is None else stream.length


def xdel_command(client: Client, argv: list[bytes]) -> int:
    """XDEL key id [id ...]"""
    db = client.db
    key = argv[1]
    stream = _stream_for_write(db, key)
    if stream is None:
        return 0
    ids = [parse_id(raw, strict=True) for raw in argv[2:]]
    deleted = 0
    for stream_id in ids:
        if stream.delete(stream_id):
            if stream_id > stream.max_deleted:
                stream.max_deleted = stream_id
            deleted += 1
    if deleted:
        db.signal_modified(key)
        _notify(client, "xdel", key)
        client.engine.dirty += deleted
    return deleted


def xsetid_command(client: Client, argv: list[bytes]) -> Any:
    """XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]"""
    new_last = parse_id(argv[2], strict=True)
    entries_added = -1
    max_deleted = 0
    i = 3
    argc = len(argv)
    while i < argc:
        more = argc - 1 - i
        option = argv[i].lower()
        if option == b"entriesadded" and more:
            entries_added = parse_int(argv[i + 1])
            if entries_added < 0:
                raise RedisError("ERR entries_added must be positive")
            i += 2
        elif option == b"maxdeletedid" and more:
            max_deleted = parse_id(argv[i + 1], strict=True)
            if new_last < max_deleted:
                raise RedisError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
            i += 2
        else:
            raise SyntaxErr()
    db = client.db
    key = argv[1]
    stream = _stream_for_write(db, key)
    if stream is None:
        raise RedisError(NO_SUCH_KEY)
    # 7.0 does not compare the new ID with the stream's max-deleted-entry-id (7.2 does).
    if stream.length:
        top = stream.last_entry_id()
        if top is not None and new_last < top:
            raise RedisError("ERR The ID specified in XSETID is smaller than the target stream top item")
        if entries_added != -1 and stream.length > entries_added:
            raise RedisError("ERR The entries_added specified in XSETID is smaller than the target stream length")
    stream.last_id = new_last
    if entries_added != -1:
        stream.entries_added = entries_added
    if max_deleted:
        stream.max_deleted = max_deleted
    db.signal_modified(key)
    _notify(client, "xsetid", key)
    client.engine.dirty += 1
    return OK


# -- consumer group reads ---------------------------------------------------------------------

def _xclaim_argv(key: bytes, groupname: bytes, group: ConsumerGroup, id_arg: bytes, nack: Nack) -> list[bytes]:
    """The XCLAIM that replays a delivery or a claim (streamPropagateXCLAIM)."""
    return [b"XCLAIM", key, groupname, nack.consumer.name if nack.consumer is not None else b"", b"0", id_arg,
            b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count, b"FORCE",
            b"JUSTID", b"LASTID", format_id(group.last_id)]


def _setid_argv(key: bytes, groupname: bytes, group: ConsumerGroup) -> list[bytes]:
    """The XGROUP SETID that replays a group's position (streamPropagateGroupID)."""
    return [b"XGROUP", b"SETID", key, groupname, format_id(group.last_id), b"ENTRIESREAD",
            b"%d" % group.entries_read]


def _create_consumer(client: Client, key: bytes, group: ConsumerGroup, name: bytes) -> Consumer:
    """streamCreateConsumer with its effects: dirty and the xgroup-createconsumer event."""
    consumer = Consumer(name, client.engine.now_ms())
    group.consumers[name] = consumer
    client.engine.dirty += 1
    _notify(client, "xgroup-createconsumer", key)
    return consumer


def _read_consumer(client: Client, key: bytes, group: ConsumerGroup, groupname: bytes, name: bytes,
                   noack: bool, emit: Emit) -> Consumer:
    """The consumer an XREADGROUP reads as, created on first use (with NOACK the creation is
    propagated on its own, as no XCLAIM will create it on the replica)."""
    consumer = group.consumers.get(name)
    if consumer is None:
        consumer = _create_consumer(client, key, group, name)
        if noack:
            emit(client.db.id, [b"XGROUP", b"CREATECONSUMER", key, groupname, name])
    consumer.seen_time = client.engine.now_ms()
    return consumer


def _deliver_new(client: Client, key: bytes, stream: StreamValue, group: ConsumerGroup, groupname: bytes,
                 consumer: Consumer, start: int, count: int, noack: bool, emit: Emit) -> list[list]:
    """New entries for a consumer (streamReplyWithRange with a group): advance the group,
    add them to the PELs unless NOACK, and propagate each delivery."""
    engine = client.engine
    dbid = client.db.id
    out: list[list] = []
    moved = False
    for stream_id, node, i in stream.iter_ids(start):
        if stream_id > group.last_id:
            if group.entries_read != ENTRIES_READ_INVALID and not stream.has_tombstones_in(stream_id):
                group.entries_read += 1
            elif stream.entries_added:
                group.entries_read = stream.estimate_distance(stream_id)
            group.last_id = stream_id
            if noack:
                moved = True
        id_bytes = format_id(stream_id)
        out.append([id_bytes, node.pairs(node.items[i])])
        if not noack:
            now = engine.now_ms()
            nack = group.pel.get(stream_id)
            if nack is None:
                nack = Nack(consumer, now, 1)
                group.pel[stream_id] = nack
            else:
                if nack.consumer is not None:
                    nack.consumer.pel.pop(stream_id, None)
                nack.consumer = consumer
                nack.delivery_time = now
                nack.delivery_count = 1
            consumer.pel[stream_id] = nack
            emit(dbid, _xclaim_argv(key, groupname, group, id_bytes, nack))
        if len(out) == count:
            break
    if moved:
        emit(dbid, _setid_argv(key, groupname, group))
    return out


def _deliver_history(client: Client, stream: StreamValue, consumer: Consumer, start: int,
                     count: int) -> list[list]:
    """A consumer's own pending entries from ``start`` (streamReplyWithRangeFromConsumerPEL):
    entries deleted since delivery show as ``[id, nil]``."""
    out: list[list] = []
    now = client.engine.now_ms()
    pel = consumer.pel
    for stream_id in pel.irange(start):
        if count and len(out) >= count:
            break
        pairs = stream.entry(stream_id)
        if pairs is None:
            out.append([format_id(stream_id), None])
        else:
            nack = pel[stream_id]
            nack.delivery_time = now
            nack.delivery_count += 1
            out.append([format_id(stream_id), pairs])
    return out


# -- XREAD / XREADGROUP -------------------------------------------------------------------------

_UNBALANCED = "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."


def _nogroup_read(key: bytes, groupname: bytes) -> RedisError:
    return RedisError(f"NOGROUP No such key '{_text(key)}' or consumer group '{_text(groupname)}' "
                      "in XREADGROUP with GROUP option")


def _read(client: Client, argv: list[bytes], group_read: bool) -> Any:
    """xreadCommand: XREAD and XREADGROUP, synchronously or blocking."""
    engine = client.engine
    deadline = -1
    count = 0
    noack = False
    groupname: bytes | None = None
    consumername = b""
    streams_at = 0
    argc = len(argv)
    i = 1
    while i < argc:
        more = argc - i - 1
        option = argv[i].lower()
        if option == b"block" and more:
            if client.flags & CLIENT_SCRIPT:
                raise RedisError(f"ERR {_text(argv[0])} command is not allowed with BLOCK option from scripts")
            i += 1
            deadline = parse_timeout_ms(argv[i], engine.now_ms())
        elif option == b"count" and more:
            i += 1
            count = max(parse_int(argv[i]), 0)
        elif option == b"streams" and more:
            streams_at = i + 1
            if (argc - streams_at) & 1:
                raise RedisError(_UNBALANCED)
            break
        elif option == b"group" and more >= 2:
            if not group_read:
                raise RedisError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
            groupname = argv[i + 1]
            consumername = argv[i + 2]
            i += 2
        elif option == b"noack":
            if not group_read:
                raise RedisError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
            noack = True
        else:
            raise SyntaxErr()
        i += 1
    if streams_at == 0:
        raise SyntaxErr()
    if group_read and groupname is None:
        raise RedisError("ERR Missing GROUP option for XREADGROUP")
    nstreams = (argc - streams_at) >> 1
    keys = argv[streams_at:streams_at + nstreams]
    db = client.db
    ids: list[int] = []
    groups: list[ConsumerGroup | None] = []
    for index in range(nstreams):
        key = keys[index]
        raw = argv[streams_at + nstreams + index]
        stream = _stream_for_read(db, key)
        group = None
        if groupname is not None:
            group = stream.group(groupname) if stream is not None else None
            if group is None:
                raise _nogroup_read(key, groupname)
        groups.append(group)
        if raw == b"$":
            if group_read:
                raise RedisError(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history "
                    "of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID "
                    "would just return an empty result set.")
            ids.append(stream.last_id if stream is not None else 0)
        elif raw == b">":
            if not group_read:
                raise RedisError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
                                 "<group> <consumer> option.")
            ids.append(MAX_ID)      # resolved to the group's last ID when served
        else:
            ids.append(parse_id(raw, strict=True))

    dirty = engine.dirty
    emit = engine.also_propagate
    served: list[tuple[bytes, Any]] = []
    for index in range(nstreams):
        key = keys[index]
        stream = _stream_for_read(db, key)
        if stream is None:
            continue
        gt = ids[index]
        group = groups[index]
        history = False
        if group is not None:
            if gt != MAX_ID:
                history = True
            elif stream.length:
                top = stream.last_entry_id()
                if top is None or top <= group.last_id:
                    continue
                gt = group.last_id
            else:
                continue
        elif stream.length:
            top = stream.last_entry_id()
            if top is None or top <= gt:
                continue
        else:
            continue
        start = gt + 1 if gt < MAX_ID else gt
        if group is not None:
            consumer = _read_consumer(client, key, group, groupname, consumername, noack, emit)
            if history:
                entries = _deliver_history(client, stream, consumer, start, count)
            else:
                entries = _deliver_new(client, key, stream, group, groupname, consumer, start, count, noack, emit)
            engine.dirty += 1
        else:
            entries = stream.range(start, MAX_ID, count)
        served.append((key, entries))
    _effects_only(engine, dirty)
    if served:
        return Map(served)
    if deadline != -1:
        if not may_block(client):
            return NULL_ARRAY
        waits = dict(zip(keys, ids, strict=True))
        return _block(client, keys, waits, deadline, count or BLOCKED_DEFAULT_COUNT, groupname, consumername, noack)
    return NULL_ARRAY


def xread_command(client: Client, argv: list[bytes]) -> Any:
    """XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]"""
    return _read(client, argv, False)


def xreadgroup_command(client: Client, argv: list[bytes]) -> Any:
    """XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]"""
    return _read(client, argv, True)


# -- blocking reads -----------------------------------------------------------------------------

def _block(client: Client, keys: list[bytes], waits: dict[bytes, int], deadline: int, count: int,
           groupname: bytes | None, consumername: bytes, noack: bool) -> Any:
    """Wait for entries above ``waits[key]`` on any of ``keys`` (blockForKeys, BLOCKED_STREAM)."""
    engine = client.engine

    def emit(dbid: int, argv: list[bytes]) -> None:
        propagate(engine, dbid, argv)

    def serve(key: bytes) -> Any:
        db = client.db
        stream = db.data.get(key)
        if type(stream) is not StreamValue or (db.expires and key in db.expires and db.expire_if_needed(key)):
            if groupname is not None:
                # 7.0: a stream deleted or replaced under a blocked XREADGROUP ends its wait.
                raise RedisError("UNBLOCKED the stream key no longer exists")
            return None
        gt = waits[key]
        group = None
        if groupname is not None:
            group = stream.group(groupname)
            if group is None:
                raise RedisError("NOGROUP the consumer group this client was blocked on no longer exists")
            gt = waits[key] = group.last_id
        if stream.last_id <= gt:
            return None
        start = gt + 1
        if group is not None:
            consumer = _read_consumer(client, key, group, groupname, consumername, noack, emit)
            entries = _deliver_new(client, key, stream, group, groupname, consumer, start, count, noack, emit)
        else:
            entries = stream.range(start, MAX_ID, count)
        return [[key, entries]] if client.resp == 2 else Map([(key, entries)])

    if groupname is not None:
        serve.serves_missing_keys = True        # type: ignore[attr-defined]
        _watch_for_deletions(engine)
    return block_for_keys(client, keys, deadline, serve, NULL_ARRAY)


def _watch_for_deletions(engine: Any) -> None:
    """Blocked XREADGROUP clients must hear of their stream's deletion (DEL, expiry, FLUSHALL,
    an overwrite): while clients are blocked, a modified or flushed key that clients wait on is
    signalled ready, and the XREADGROUP waiters' serve callbacks answer UNBLOCKED."""
    state = engine.extensions.get("stream_deletion_watch")
    if state is not None:
        return
    blocking = engine.extensions["blocking"]

    def key_modified(db: Database, key: bytes) -> None:
        if not blocking.blocked_count:
            _unwatch(engine)
            return
        if db.blocking_keys and key in db.blocking_keys and type(db.data.get(key)) is not StreamValue:
            db.signal_ready(key)

    def db_flushed(db: Database) -> None:
        for key in list(db.blocking_keys):
            if type(db.data.get(key)) is StreamValue:
                db.signal_ready(key)

    engine.extensions["stream_deletion_watch"] = (key_modified, db_flushed)
    engine.key_modified_hooks.append(key_modified)
    engine.db_flushed_hooks.append(db_flushed)


def _unwatch(engine: Any) -> None:
    hooks = engine.extensions.pop("stream_deletion_watch", None)
    if hooks is not None:
        engine.key_modified_hooks.remove(hooks[0])
        engine.db_flushed_hooks.remove(hooks[1])


# -- XGROUP -------------------------------------------------------------------------------------

XGROUP_HELP = (
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
)

_KEY_MUST_EXIST = ("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
                   "to use the MKSTREAM option to create an empty stream automatically.")


def _nogroup(key: bytes, groupname: bytes) -> RedisError:
    return RedisError(f"NOGROUP No such consumer group '{_text(groupname)}' for key name '{_text(key)}'")


def _xgroup_target(client: Client, argv: list[bytes], subcommand: bytes) -> tuple[StreamValue | None,
                                                                                    ConsumerGroup | None,
                                                                                    bool, int]:
    """xgroupCommand's common part: options (MKSTREAM, ENTRIESREAD), the key and the group."""
    mkstream = False
    entries_read = ENTRIES_READ_INVALID
    create = subcommand == b"create"
    setid = subcommand == b"setid"
    i = 5
    argc = len(argv)
    while i < argc:
        option = argv[i].lower()
        if create and option == b"mkstream":
            mkstream = True
            i += 1
        elif (create or setid) and option == b"entriesread" and i + 1 < argc:
            entries_read = parse_int(argv[i + 1])
            if entries_read < 0 and entries_read != ENTRIES_READ_INVALID:
                raise RedisError("ERR value for ENTRIESREAD must be positive or -1")
            i += 2
        else:
            raise subcommand_syntax_error(argv)
    stream = _stream_for_write(client.db, argv[2])
    group = None
    if not mkstream:
        if stream is None:
            raise RedisError(_KEY_MUST_EXIST)
        group = stream.group(argv[3])
        if group is None and subcommand in (b"setid", b"createconsumer", b"delconsumer"):
            raise _nogroup(argv[2], argv[3])
    elif stream is not None:
        group = stream.group(argv[3])
    return stream, group, mkstream, entries_read


def xgroup_create_command(client: Client, argv: list[bytes]) -> Any:
    """XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]"""
    stream, _, mkstream, entries_read = _xgroup_target(client, argv, b"create")
    if len(argv) > 8:
        raise subcommand_syntax_error(argv)
    if argv[4] == b"$":
        last_id = stream.last_id if stream is not None else 0
    else:
        last_id = parse_id(argv[4], strict=True)
    key, name = argv[2], argv[3]
    db = client.db
    if stream is None:
        stream = StreamValue()
        db.add(key, stream)
        db.signal_modified(key)
    if stream.groups is None:
        stream.groups = {}
    if name in stream.groups:
        raise RedisError("BUSYGROUP Consumer Group name already exists")
    stream.groups[name] = ConsumerGroup(last_id, entries_read)
    client.engine.dirty += 1
    _notify(client, "xgroup-create", key)
    return OK


def xgroup_setid_command(client: Client, argv: list[bytes]) -> Any:
    """XGROUP SETID key group id|$ [ENTRIESREAD entries-read]"""
    stream, group, _, entries_read = _xgroup_target(client, argv, b"setid")
    if len(argv) not in (5, 7):
        raise subcommand_syntax_error(argv)
    if argv[4] == b"$":
        last_id = stream.last_id
    else:
        last_id = parse_id(argv[4])
    group.last_id = last_id
    group.entries_read = entries_read
    client.engine.dirty += 1
    _notify(client, "xgroup-setid", argv[2])
    return OK


def xgroup_destroy_command(client: Client, argv: list[bytes]) -> int:
    """XGROUP DESTROY key group"""
    stream, group, _, _ = _xgroup_target(client, argv, b"destroy")
    if group is None:
        return 0
    del stream.groups[argv[3]]
    client.engine.dirty += 1
    _notify(client, "xgroup-destroy", argv[2])
    # Clients blocked in XREADGROUP on this group get -NOGROUP.
    client.db.signal_ready(argv[2])
    return 1


def xgroup_createconsumer_command(client: Client, argv: list[bytes]) -> int:
    """XGROUP CREATECONSUMER key group consumer"""
    _, group, _, _ = _xgroup_target(client, argv, b"createconsumer")
    if argv[4] in group.consumers:
        return 0
    _create_consumer(client, argv[2], group, argv[4])
    return 1


def xgroup_delconsumer_command(client: Client, argv: list[bytes]) -> int:
    """XGROUP DELCONSUMER key group consumer"""
    _, group, _, _ = _xgroup_target(client, argv, b"delconsumer")
    consumer = group.consumers.pop(argv[4], None)
    if consumer is None:
        return 0
    pending = len(consumer.pel)
    for stream_id in consumer.pel:
        group.pel.pop(stream_id, None)
    client.engine.dirty += 1
    _notify(client, "xgroup-delconsumer", argv[2])
    return pending


def xgroup_help_command(client: Client, argv: list[bytes]) -> Any:
    """XGROUP HELP"""
    return help_reply(argv, XGROUP_HELP)


# -- XACK / XPENDING / XCLAIM / XAUTOCLAIM ----------------------------------------------------

def xack_command(client: Client, argv: list[bytes]) -> int:
    """XACK key group id [id ...]"""
    stream = _stream_for_read(client.db, argv[1])
    group = stream.group(argv[2]) if stream is not None else None
    if group is None:
        return 0
    ids = [parse_id(raw, strict=True) for raw in argv[3:]]
    acknowledged = 0
    for stream_id in ids:
        if group.remove_nack(stream_id) is not None:
            acknowledged += 1
    client.engine.dirty += acknowledged
    return acknowledged


def xpending_command(client: Client, argv: list[bytes]) -> Any:
    """XPENDING key group [[IDLE min-idle-time] start end count [consumer]]"""
    argc = len(argv)
    summary = argc == 3
    if not summary and (argc < 6 or argc > 9):
        raise SyntaxErr()
    min_idle = 0
    consumername = None
    start = end = count = 0
    if argc >= 6:
        at = 3
        if argv[3].lower() == b"idle":
            min_idle = parse_int(argv[4])
            if argc < 8:
                raise SyntaxErr()
            at += 2
        count = max(parse_int(argv[at + 2]), 0)
        start = _parse_range_start(argv[at])
        end = _parse_range_end(argv[at + 1])
        if at + 3 < argc:
            consumername = argv[at + 3]
    stream = _stream_for_read(client.db, argv[1])
    group = stream.group(argv[2]) if stream is not None else None
    if group is None:
        raise RedisError(f"NOGROUP No such key '{_text(argv[1])}' or consumer group '{_text(argv[2])}'")
    if summary:
        pel = group.pel
        if not pel:
            return [0, None, None, NULL_ARRAY]
        owners = [[consumer.name, b"%d" % len(consumer.pel)]
                  for consumer in group.sorted_consumers() if consumer.pel]
        return [len(pel), format_id(pel.keys()[0]), format_id(pel.keys()[-1]), owners]
    if consumername is not None:
        consumer = group.consumers.get(consumername)
        if consumer is None:
            return []
        pel = consumer.pel
    else:
        pel = group.pel
    now = client.engine.now_ms()
    out: list[list] = []
    if not count or start > end:
        return out
    for stream_id in pel.irange(start, end):
        nack = pel[stream_id]
        if min_idle and now - nack.delivery_time < min_idle:
            continue
        out.append([format_id(stream_id), nack.consumer.name, max(now - nack.delivery_time, 0),
                    nack.delivery_count])
        if len(out) == count:
            break
    return out


def _claim_group(client: Client, argv: list[bytes]) -> tuple[StreamValue, ConsumerGroup]:
    stream = _stream_for_read(client.db, argv[1])
    group = stream.group(argv[2]) if stream is not None else None
    if group is None:
        raise RedisError(f"NOGROUP No such key '{_text(argv[1])}' or consumer group '{_text(argv[2])}'")
    return stream, group


def _claimer(client: Client, key: bytes, group: ConsumerGroup, name: bytes) -> Consumer:
    """The claiming consumer: looked up (seen now) or created (streamLookupConsumer, SLC_DEFAULT)."""
    consumer = group.consumers.get(name)
    if consumer is None:
        return _create_consumer(client, key, group, name)
    consumer.seen_time = client.engine.now_ms()
    return consumer


def _is_strict_id(raw: bytes) -> bool:
    try:
        parse_id(raw, strict=True)
    except RedisError:
        return False
    return True


def xclaim_command(client: Client, argv: list[bytes]) -> Any:
    """XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds]
    [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]"""
    stream, group = _claim_group(client, argv)
    engine = client.engine
    min_idle = max(parse_int(argv[4], "ERR Invalid min-idle-time argument for XCLAIM"), 0)
    argc = len(argv)
    j = 5
    while j < argc and _is_strict_id(argv[j]):
        j += 1
    last_id_arg = j - 1
    now = engine.now_ms()
    retrycount = -1
    delivery_time = -1
    force = justid = False
    last_id = 0
    while j < argc:
        more = argc - 1 - j
        option = argv[j].lower()
        if option == b"force":
            force = True
        elif option == b"justid":
            justid = True
        elif option == b"idle" and more:
            j += 1
            delivery_time = now - parse_int(argv[j], "ERR Invalid IDLE option argument for XCLAIM")
        elif option == b"time" and more:
            j += 1
            delivery_time = parse_int(argv[j], "ERR Invalid TIME option argument for XCLAIM")
        elif option == b"retrycount" and more:
            j += 1
            retrycount = parse_int(argv[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif option == b"lastid" and more:
            j += 1
            last_id = parse_id(argv[j], strict=True)
        else:
            raise RedisError(f"ERR Unrecognized XCLAIM option '{_text(argv[j])}'")
        j += 1
    key, groupname = argv[1], argv[2]
    propagate_last_id = False
    if last_id > group.last_id:
        group.last_id = last_id
        propagate_last_id = True
    if delivery_time != -1:
        if delivery_time < 0 or delivery_time > now:
            delivery_time = now
    else:
        delivery_time = now
    dirty = engine.dirty
    dbid = client.db.id
    consumer: Consumer | None = None
    out: list[Any] = []
    for j in range(5, last_id_arg + 1):
        stream_id = parse_id(argv[j], strict=True)
        nack = group.pel.get(stream_id)
        if not stream.exists(stream_id):
            # The entry is gone: its pending entry goes too.
            if nack is not None:
                engine.also_propagate(dbid, _xclaim_argv(key, groupname, group, argv[j], nack))
                propagate_last_id = False
                engine.dirty += 1
                group.remove_nack(stream_id)
            continue
        if force and nack is None:
            nack = Nack(None, now, 1)       # streamCreateNACK: delivered once, now
            group.pel[stream_id] = nack
        if nack is None:
            continue
        if nack.consumer is not None and min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = _claimer(client, key, group, argv[3])
        if nack.consumer is not consumer:
            if nack.consumer is not None:
                nack.consumer.pel.pop(stream_id, None)
        nack.delivery_time = delivery_time
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel[stream_id] = nack
            nack.consumer = consumer
        if justid:
            out.append(format_id(stream_id))
        else:
            pairs = stream.entry(stream_id)
            out.append(None if pairs is None else [format_id(stream_id), pairs])
        engine.also_propagate(dbid, _xclaim_argv(key, groupname, group, argv[j], nack))
        propagate_last_id = False
        engine.dirty += 1
    if propagate_last_id:
        engine.also_propagate(dbid, _setid_argv(key, groupname, group))
        engine.dirty += 1
    _effects_only(engine, dirty)
    return out


def xautoclaim_command(client: Client, argv: list[bytes]) -> Any:
    """XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]"""
    engine = client.engine
    min_idle = max(parse_int(argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM"), 0)
    start = _parse_range_start(argv[5])
    count = 100
    justid = False
    argc = len(argv)
    j = 6
    while j < argc:
        more = argc - 1 - j
        option = argv[j].lower()
        if option == b"count" and more:
            count = parse_int_range(argv[j + 1], 1, ((1 << 63) - 1) // 16, "ERR COUNT must be > 0")
            j += 1
        elif option == b"justid":
            justid = True
        else:
            raise SyntaxErr()
        j += 1
    stream, group = _claim_group(client, argv)
    if count >= XAUTOCLAIM_ALLOCATION_LIMIT:
        raise RedisError("ERR Insufficient memory, failed allocating transient memory, COUNT too high.")
    key, groupname = argv[1], argv[2]
    dbid = client.db.id
    dirty = engine.dirty
    attempts = count * 10
    now = engine.now_ms()
    consumer: Consumer | None = None
    claimed: list[Any] = []
    deleted_ids: list[bytes] = []
    pel = group.pel
    cursor = start
    next_id: int | None = None
    while True:
        if not attempts:
            next_id = _first_at_or_after(pel, cursor)
            break
        attempts -= 1
        if not count:
            next_id = _first_at_or_after(pel, cursor)
            break
        stream_id = _first_at_or_after(pel, cursor)
        if stream_id is None:
            next_id = None
            break
        cursor = stream_id + 1
        nack = pel[stream_id]
        if not stream.exists(stream_id):
            engine.also_propagate(dbid, _xclaim_argv(key, groupname, group, format_id(stream_id), nack))
            engine.dirty += 1
            group.remove_nack(stream_id)
            deleted_ids.append(format_id(stream_id))
            count -= 1
            continue
        if min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = _claimer(client, key, group, argv[3])
        if nack.consumer is not consumer and nack.consumer is not None:
            nack.consumer.pel.pop(stream_id, None)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel[stream_id] = nack
            nack.consumer = consumer
        if justid:
            claimed.append(format_id(stream_id))
        else:
            pairs = stream.entry(stream_id)
            claimed.append(None if pairs is None else [format_id(stream_id), pairs])
        count -= 1
        engine.also_propagate(dbid, _xclaim_argv(key, groupname, group, format_id(stream_id), nack))
        engine.dirty += 1
    _effects_only(engine, dirty)
    return [format_id(next_id) if next_id is not None else b"0-0", claimed, deleted_ids]


def _first_at_or_after(pel: SortedDict, stream_id: int) -> int | None:
    if stream_id > MAX_ID:
        return None
    index = pel.bisect_left(stream_id)
    return pel.keys()[index] if index < len(pel) else None


# -- XINFO --------------------------------------------------------------------------------------

XINFO_HELP = (
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
)


def _info_stream(client: Client, key: bytes) -> StreamValue:
    value = client.db.lookup_read(key)
    if value is None:
        raise RedisError(NO_SUCH_KEY)
    if type(value) is not StreamValue:
        raise WrongTypeError()
    return value


def _lag_reply(stream: StreamValue, group: ConsumerGroup) -> int | None:
    return stream.group_lag(group)


def _entries_read_reply(group: ConsumerGroup) -> int | None:
    return group.entries_read if group.entries_read != ENTRIES_READ_INVALID else None


def xinfo_stream_command(client: Client, argv: list[bytes]) -> Any:
    """XINFO STREAM key [FULL [COUNT count]]"""
    stream = _info_stream(client, argv[2])      # the key is looked up before the options are read
    argc = len(argv)
    full = argc > 3
    count = 10
    if full:
        if argv[3].lower() != b"full" or argc == 5 or argc > 6:
            raise subcommand_syntax_error(argv)
        if argc == 6:
            if argv[4].lower() != b"count":
                raise subcommand_syntax_error(argv)
            count = parse_int(argv[5])
            if count < 0:
                count = 10
    pairs: list[tuple[bytes, Any]] = [
        (b"length", stream.length),
        (b"radix-tree-keys", len(stream.nodes)),
        (b"radix-tree-nodes", stream.rax_node_count()),
        (b"last-generated-id", format_id(stream.last_id)),
        (b"max-deleted-entry-id", format_id(stream.max_deleted)),
        (b"entries-added", stream.entries_added),
        (b"recorded-first-entry-id", format_id(stream.first_id)),
    ]
    groups = stream.groups or {}
    if not full:
        first = stream.range(0, MAX_ID, 1)
        last = stream.range(0, MAX_ID, 1, reverse=True)
        pairs.append((b"groups", len(groups)))
        pairs.append((b"first-entry", first[0] if first else None))
        pairs.append((b"last-entry", last[0] if last else None))
        return Map(pairs)
    pairs.append((b"entries", stream.range(0, MAX_ID, count)))
    group_replies = []
    for name in sorted(groups):
        group = groups[name]
        pending = []
        for stream_id, nack in group.pel.items():
            if count and len(pending) >= count:
                break
            pending.append([format_id(stream_id), nack.consumer.name, nack.delivery_time, nack.delivery_count])
        consumers = []
        for consumer in group.sorted_consumers():
            own = []
            for stream_id, nack in consumer.pel.items():
                if count and len(own) >= count:
                    break
                own.append([format_id(stream_id), nack.delivery_time, nack.delivery_count])
            consumers.append(Map([(b"name", consumer.name), (b"seen-time", consumer.seen_time),
                                  (b"pel-count", len(consumer.pel)), (b"pending", own)]))
        group_replies.append(Map([
            (b"name", name), (b"last-delivered-id", format_id(group.last_id)),
            (b"entries-read", _entries_read_reply(group)), (b"lag", _lag_reply(stream, group)),
            (b"pel-count", len(group.pel)), (b"pending", pending), (b"consumers", consumers),
        ]))
    pairs.append((b"groups", group_replies))
    return Map(pairs)


def xinfo_groups_command(client: Client, argv: list[bytes]) -> Any:
    """XINFO GROUPS key"""
    stream = _info_stream(client, argv[2])
    groups = stream.groups or {}
    return [Map([(b"name", name), (b"consumers", len(group.consumers)), (b"pending", len(group.pel)),
                 (b"last-delivered-id", format_id(group.last_id)), (b"entries-read", _entries_read_reply(group)),
                 (b"lag", _lag_reply(stream, group))])
            for name, group in sorted(groups.items())]


def xinfo_consumers_command(client: Client, argv: list[bytes]) -> Any:
    """XINFO CONSUMERS key group"""
    stream = _info_stream(client, argv[2])
    group = stream.group(argv[3])
    if group is None:
        raise _nogroup(argv[2], argv[3])
    now = client.engine.now_ms()
    return [Map([(b"name", consumer.name), (b"pending", len(consumer.pel)),
                 (b"idle", max(now - consumer.seen_time, 0))])
            for consumer in group.sorted_consumers()]


def xinfo_help_command(client: Client, argv: list[bytes]) -> Any:
    """XINFO HELP"""
    return help_reply(argv, XINFO_HELP)
