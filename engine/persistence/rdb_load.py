"""Reading RDB files and DUMP payloads back into values (rdbLoad / rdbLoadObject).

Every encoding Redis 7.0 can load is read: strings (plain, integer, LZF), lists
(linked, ziplist, quicklist of ziplists, quicklist 2 of listpacks and plain nodes),
sets (hashtable, intset), sorted sets (text or binary scores, ziplist, listpack),
hashes (hashtable, zipmap, ziplist, listpack) and streams (listpacks, v1 and v2),
with the AUX fields, SELECTDB/RESIZEDB, expiry times in seconds or milliseconds,
FREQ/IDLE and function libraries.

The value a key gets follows Redis's loading rules, not just the file's encoding: a
``hashtable`` set of at most set-max-intset-entries integers loads as an intset, a
small skiplist sorted set as a listpack, a packed hash with too many fields as a
hashtable, and so on, so OBJECT ENCODING after a load matches redis-server's.

Failures raise :class:`~specredis.engine.persistence.rdb.RdbError` carrying Redis's
message and the offset of the failing read. :class:`RdbLoader` also keeps what it
was doing (the check-rdb "While doing" state), for ``specredis-check-rdb``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from sortedcontainers import SortedDict

from specredis.engine.persistence.rdb import (
    MAGIC,
    OBJECT_TYPES,
    OPCODE_AUX,
    OPCODE_EOF,
    OPCODE_EXPIRETIME,
    OPCODE_EXPIRETIME_MS,
    OPCODE_FREQ,
    OPCODE_FUNCTION2,
    OPCODE_FUNCTION_PRE_GA,
    OPCODE_IDLE,
    OPCODE_MODULE_AUX,
    OPCODE_RESIZEDB,
    OPCODE_SELECTDB,
    QUICKLIST_NODE_PACKED,
    QUICKLIST_NODE_PLAIN,
    RDB_VERSION,
    STREAM_ITEM_FLAG_DELETED,
    STREAM_ITEM_FLAG_SAMEFIELDS,
    TYPE_HASH,
    TYPE_HASH_LISTPACK,
    TYPE_HASH_ZIPLIST,
    TYPE_HASH_ZIPMAP,
    TYPE_LIST,
    TYPE_LIST_QUICKLIST,
    TYPE_LIST_QUICKLIST_2,
    TYPE_LIST_ZIPLIST,
    TYPE_MODULE_2,
    TYPE_MODULE_PRE_GA,
    TYPE_NAMES,
    TYPE_SET,
    TYPE_SET_INTSET,
    TYPE_STREAM_LISTPACKS,
    TYPE_STREAM_LISTPACKS_2,
    TYPE_STRING,
    TYPE_ZSET,
    TYPE_ZSET_2,
    TYPE_ZSET_LISTPACK,
    TYPE_ZSET_ZIPLIST,
    RdbError,
    RdbReader,
    as_bytes,
    crc64,
    intset_decode,
    listpack_decode,
    string_to_int,
    ziplist_decode,
    zipmap_decode,
)

_U64 = 1 << 64
_I64 = 1 << 63
_MODULE_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
DUMP_PAYLOAD_ERROR = "ERR DUMP payload version or checksum are wrong"
BAD_DATA_FORMAT = "ERR Bad data format"


class EmptyKey(Exception):
    """The value is an empty collection: Redis skips such keys when loading (RDB_LOAD_ERR_EMPTY_KEY)."""


def module_type_name(module_id: int) -> str:
    """The 9-character module type name inside a module type ID (moduleTypeNameByID)."""
    value = module_id >> 10
    chars = []
    for _ in range(9):
        chars.append(_MODULE_CHARSET[value & 63])
        value >>= 6
    return "".join(reversed(chars))


class LoadLimits:
    """The encoding thresholds a load converts by, read once from the configuration."""

    __slots__ = ("hash_entries", "hash_value", "zset_entries", "zset_value", "intset_entries", "deep", "sanitized")

    def __init__(self, config: Any = None, deep: bool = False) -> None:
        if config is None:
            from specredis.engine.settings import default_config
            config = default_config()
        values = config.values
        self.hash_entries = values["hash-max-listpack-entries"]
        self.hash_value = values["hash-max-listpack-value"]
        self.zset_entries = values["zset-max-listpack-entries"]
        self.zset_value = values["zset-max-listpack-value"]
        self.intset_entries = min(values["set-max-intset-entries"], 1 << 30)
        self.deep = deep
        self.sanitized = 0          # packed blobs deep-checked (INFO dump_payload_sanitizations)


# -- building values ----------------------------------------------------------------------------

def _types() -> Any:
    from specredis.engine.types import hash as hash_type
    from specredis.engine.types import list as list_type
    from specredis.engine.types import set as set_type
    from specredis.engine.types import stream as stream_type
    from specredis.engine.types import zset as zset_type
    return list_type, set_type, zset_type, hash_type, stream_type


_MODULES: list[Any] = []


def _modules() -> Any:
    if not _MODULES:
        _MODULES.extend(_types())
    return _MODULES


def make_list(items: list[bytes]) -> Any:
    """A ListValue of ``items`` (EmptyKey if there are none)."""
    if not items:
        raise EmptyKey()
    return _modules()[0].ListValue(items)


def make_set(members: list[bytes], intset: bool) -> Any:
    """A SetValue of distinct ``members`` in the given encoding."""
    if not members:
        raise EmptyKey()
    value = _modules()[1].SetValue(intset)
    index = {member: i for i, member in enumerate(members)}
    if len(index) != len(members):
        raise RdbError("Duplicate set members detected")
    value.items = members
    value.index = index
    return value


def make_zset(pairs: list[tuple[bytes, float]], listpack: bool) -> Any:
    """A ZSetValue of distinct (member, score) ``pairs`` in the given encoding."""
    if not pairs:
        raise EmptyKey()
    value = _modules()[2].ZSetValue(listpack)
    if listpack:
        # A listpack holds scores as text, where -0 is written as 0 (see engine/types/zset.py).
        pairs = [(member, 0.0 if score == 0.0 else score) for member, score in pairs]
    scores = dict(pairs)
    if len(scores) != len(pairs):
        raise RdbError("Duplicate zset fields detected")
    value.scores = scores
    value.ordered.update([(score, member) for member, score in pairs])     # the new value's empty list
    return value


def make_hash(pairs: list[tuple[bytes, bytes]], listpack: bool) -> Any:
    """A HashValue of distinct (field, value) ``pairs``, packed when ``listpack``."""
    if not pairs:
        raise EmptyKey()
    hash_type = _modules()[3]
    value = hash_type.HashValue()
    table = dict(pairs)
    if len(table) != len(pairs):
        raise RdbError("Duplicate hash fields detected")
    if listpack:
        # The packed form of engine/types/hash.py: NUL field SOH value, with 0x00-0x02 escaped.
        escape = hash_type._escape
        value.blob = b"".join([b"\x00" + escape(field) + b"\x01" + escape(item) for field, item in pairs])
        value.count = len(pairs)
    else:
        value.blob = None
        value.count = 0
        value.table = table
    return value


# -- values -------------------------------------------------------------------------------------

def _pairs(elements: list[bytes | int], what: str) -> list[tuple[bytes, bytes]]:
    if len(elements) & 1:
        raise RdbError(f"{what} integrity check failed.")
    items = [as_bytes(e) for e in elements]
    return list(zip(items[0::2], items[1::2], strict=True))


def _score(element: bytes | int) -> float:
    """A packed score as zzlGetScore reads it: an integer, or strtod's reading of the text
    (a prefix; 0 when there is none)."""
    if type(element) is int:
        return float(element)
    try:
        if b"_" not in element:         # Python's float() reads "1_0" as 10, strtod as 1
            return float(element)
    except ValueError:
        pass
    from specredis.engine.args import strtod_prefix
    return strtod_prefix(bytes(element[:127]))


def load_value(reader: RdbReader, type_code: int, limits: LoadLimits) -> Any:
    """rdbLoadObject: the value of type ``type_code`` at the reader's position.

    Raises :class:`EmptyKey` for an empty collection and RdbError for bad data."""
    deep = limits.deep
    if type_code == TYPE_STRING:
        return reader.string()
    if type_code == TYPE_LIST_QUICKLIST_2:
        nodes = reader.length()
        items: list[bytes] = []
        for _ in range(nodes):
            container = reader.length()
            if container != QUICKLIST_NODE_PACKED and container != QUICKLIST_NODE_PLAIN:
                raise RdbError("Quicklist integrity check failed.", reader.offset())
            blob = reader.string()
            if container == QUICKLIST_NODE_PLAIN:
                items.append(blob)
                continue
            elements = _decoded(reader, listpack_decode, blob, limits)
            items.extend([e if type(e) is not int else b"%d" % e for e in elements])
        return make_list(items)
    if type_code == TYPE_SET:
        count = reader.length()
        members = []
        seen: set[bytes] = set()
        for _ in range(count):
            member = reader.string()
            if member in seen:
                # Checked as each element comes, as Redis adds them: a corrupt length further on
                # must not be met first.
                raise RdbError("Duplicate set members detected", reader.offset())
            seen.add(member)
            members.append(member)
        intset = count <= limits.intset_entries and all(string_to_int(m) is not None for m in members)
        return make_set(members, intset)
    if type_code == TYPE_SET_INTSET:
        blob = reader.string()
        numbers = _decoded(reader, intset_decode, blob, limits)
        if not deep and len(set(numbers)) != len(numbers):
            raise RdbError("Intset integrity check failed.", reader.offset())
        members = [b"%d" % n for n in numbers]
        return make_set(members, len(members) <= limits.intset_entries)
    if type_code == TYPE_ZSET_2 or type_code == TYPE_ZSET:
        count = reader.length()
        pairs = []
        read_score = reader.binary_double if type_code == TYPE_ZSET_2 else reader.string_double
        longest = 0
        seen = set()
        for _ in range(count):
            member = reader.string()
            score = read_score()
            if score != score:
                raise RdbError("Zset with NAN score detected", reader.offset())
            if member in seen:
                raise RdbError("Duplicate zset fields detected", reader.offset())
            seen.add(member)
            if len(member) > longest:
                longest = len(member)
            pairs.append((member, score))
        return make_zset(pairs, count <= limits.zset_entries and longest <= limits.zset_value)
    if type_code == TYPE_ZSET_LISTPACK or type_code == TYPE_ZSET_ZIPLIST:
        blob = reader.string()
        decoder = listpack_decode if type_code == TYPE_ZSET_LISTPACK else ziplist_decode
        elements = _decoded(reader, decoder, blob, limits, "Zset")
        if len(elements) & 1:
            raise RdbError("Zset listpack integrity check failed.", reader.offset())
        pairs = []
        for i in range(0, len(elements), 2):
            score = _score(elements[i + 1])
            if score != score:
                raise RdbError("Zset with NAN score detected", reader.offset())
            pairs.append((as_bytes(elements[i]), score))
        try:
            return make_zset(pairs, len(pairs) <= limits.zset_entries)
        except RdbError as error:
            # Redis finds a repeated member while it validates the listpack.
            raise RdbError("Zset listpack integrity check failed.", reader.offset()) from error
    if type_code == TYPE_HASH:
        count = reader.length()
        pairs = []
        longest = 0
        fields = set()
        # Redis fills a listpack first (while the hash may stay one) and names a repeated field
        # differently there than in the hash table it converts to.
        packed = count <= limits.hash_entries
        for _ in range(count):
            field = reader.string()
            item = reader.string()
            if field in fields:
                raise RdbError("Hash with dup elements" if packed else "Duplicate hash fields detected",
                               reader.offset())
            fields.add(field)
            longest = max(longest, len(field), len(item))
            if longest > limits.hash_value:
                packed = False
            pairs.append((field, item))
        return make_hash(pairs, count <= limits.hash_entries and longest <= limits.hash_value)
    if type_code == TYPE_HASH_LISTPACK or type_code == TYPE_HASH_ZIPLIST:
        blob = reader.string()
        decoder = listpack_decode if type_code == TYPE_HASH_LISTPACK else ziplist_decode
        what = "Hash listpack" if type_code == TYPE_HASH_LISTPACK else "Hash ziplist"
        pairs = _pairs(_decoded(reader, decoder, blob, limits, "Hash"), what)
        try:
            return make_hash(pairs, len(pairs) <= limits.hash_entries)
        except RdbError as error:
            # Redis finds a repeated field while it validates the listpack.
            raise RdbError(f"{what} integrity check failed.", reader.offset()) from error
    if type_code == TYPE_HASH_ZIPMAP:
        blob = reader.string()
        pairs = _decoded(reader, lambda b, _deep: zipmap_decode(b), blob, limits)
        longest = max((max(len(f), len(v)) for f, v in pairs), default=0)
        return make_hash(pairs, len(pairs) <= limits.hash_entries and longest <= limits.hash_value)
    if type_code == TYPE_LIST:
        count = reader.length()
        return make_list([reader.string() for _ in range(count)])
    if type_code == TYPE_LIST_ZIPLIST:
        blob = reader.string()
        return make_list([as_bytes(e) for e in _decoded(reader, ziplist_decode, blob, limits)])
    if type_code == TYPE_LIST_QUICKLIST:
        nodes = reader.length()
        items = []
        for _ in range(nodes):
            blob = reader.string()
            items.extend(as_bytes(e) for e in _decoded(reader, ziplist_decode, blob, limits))
        return make_list(items)
    if type_code == TYPE_STREAM_LISTPACKS_2 or type_code == TYPE_STREAM_LISTPACKS:
        return load_stream(reader, type_code == TYPE_STREAM_LISTPACKS_2, limits)
    if type_code == TYPE_MODULE_2 or type_code == TYPE_MODULE_PRE_GA:
        start = reader.offset()
        module_id = reader.length()
        raise RdbError("The RDB file contains module data I can't load: no matching module type "
                       f"'{module_type_name(module_id)}'", start)
    raise RdbError(f"Unknown RDB encoding type {type_code}", reader.offset())


def _decoded(reader: RdbReader, decoder: Callable[[bytes, bool], Any], blob: bytes, limits: LoadLimits,
             what: str = "") -> Any:
    """``decoder(blob)``; a bad blob is reported at the reader's offset, a listpack as
    ``what`` says (Redis names the hash's and the sorted set's: "Hash listpack ...")."""
    if limits.deep:
        limits.sanitized += 1
    try:
        return decoder(blob, limits.deep)
    except RdbError as error:
        message = error.message
        if what and message == "Listpack integrity check failed.":
            message = f"{what} listpack integrity check failed."
        raise RdbError(message, reader.offset()) from None


def _int64(value: int) -> int:
    return value - _U64 if value >= _I64 else value


def _stream_node(master: int, elements: list[bytes | int], lp_size: int) -> Any:
    """A StreamNode from the elements of its listpack (see stream_node_listpack in rdb_save)."""
    stream_type = _modules()[4]
    try:
        live, deleted, nmaster = elements[0], elements[1], elements[2]
        if type(live) is not int or type(deleted) is not int or type(nmaster) is not int or nmaster < 1:
            raise ValueError
        fields = tuple(as_bytes(f) for f in elements[3:3 + nmaster])
        if len(fields) != nmaster or elements[3 + nmaster] != 0:
            raise ValueError
        node = stream_type.StreamNode(master, fields)
        master_ms, master_seq = master >> 64, master & (_U64 - 1)
        i = 4 + nmaster
        total = len(elements)
        seen_live = seen_deleted = 0
        ms_column, seq_column, items = node.ms, node.seq, node.items
        while i < total:
            flags, ms_diff, seq_diff = elements[i], elements[i + 1], elements[i + 2]
            if type(flags) is not int or type(ms_diff) is not int or type(seq_diff) is not int:
                raise ValueError
            i += 3
            if flags & STREAM_ITEM_FLAG_SAMEFIELDS:
                values = [as_bytes(v) for v in elements[i:i + nmaster]]
                if len(values) != nmaster:
                    raise ValueError
                i += nmaster
                expected = nmaster + 3
                item: Any = values[0] if nmaster == 1 else tuple(values)
            else:
                count = elements[i]
                if type(count) is not int or count < 1:
                    raise ValueError
                pairs = [as_bytes(v) for v in elements[i + 1:i + 1 + 2 * count]]
                if len(pairs) != 2 * count:
                    raise ValueError
                i += 1 + 2 * count
                expected = 2 * count + 4
                item = pairs
            if elements[i] != expected:
                raise ValueError
            i += 1
            ms_column.append((master_ms + ms_diff) % _U64)
            seq_column.append((master_seq + seq_diff) % _U64)
            if flags & STREAM_ITEM_FLAG_DELETED:
                # Kept to be written back as it was read (see StreamNode.dead).
                if node.dead is None:
                    node.dead = {}
                node.dead[len(items)] = item
                items.append(None)
                seen_deleted += 1
            else:
                items.append(item)
                seen_live += 1
    except (IndexError, ValueError, TypeError):
        raise RdbError("Stream listpack integrity check failed.") from None
    # (Like Redis, the entries' order is not checked: a corrupt order gives odd answers, no crash.)
    if seen_live != live or seen_deleted != deleted or not items:
        raise RdbError("Stream listpack integrity check failed.")
    node.live, node.deleted = live, deleted
    counters = 4 if live <= 127 and deleted <= 127 else \
        stream_type._int_element_size(live) + stream_type._int_element_size(deleted)
    node.body = lp_size - counters
    return node


def _stream_id(reader: RdbReader) -> int:
    ms = reader.length()
    seq = reader.length()
    return ms << 64 | seq


def load_stream(reader: RdbReader, v2: bool, limits: LoadLimits) -> Any:
    """A stream (RDB_TYPE_STREAM_LISTPACKS / _2): listpack nodes, metadata, consumer groups."""
    stream_type = _modules()[4]
    deep = limits.deep
    value = stream_type.StreamValue()
    node_count = reader.length()
    unordered = False
    for _ in range(node_count):
        try:
            node_key = reader.string()
        except RdbError as error:
            if not error.message.startswith("Unexpected EOF"):
                raise
            raise RdbError("Stream master ID loading failed: invalid encoding or I/O error.", error.offset) from None
        if len(node_key) != 16:
            raise RdbError("Stream node key entry is not the size of a stream ID", reader.offset())
        master = int.from_bytes(node_key, "big")
        try:
            lp = reader.string()
        except RdbError as error:
            if not error.message.startswith("Unexpected EOF"):
                raise
            raise RdbError("Stream listpacks loading failed.", error.offset) from None
        if deep:
            limits.sanitized += 1
        try:
            elements = listpack_decode(lp, deep, check_count=False)
            if not elements:
                raise RdbError("Empty listpack inside stream")
            node = _stream_node(master, elements, len(lp))
        except RdbError as error:
            message = error.message if error.message.startswith(("Empty", "Stream")) else \
                "Stream listpack integrity check failed."
            raise RdbError(message, reader.offset()) from None
        if value.keys and master <= value.keys[-1]:
            # Out of order (Redis's radix tree sorts its keys whatever the file's order).
            if master in value.keys:
                raise RdbError("Listpack re-added with existing key", reader.offset())
            unordered = True
        value.keys.append(master)
        value.nodes.append(node)
    if unordered:
        pairs = sorted(zip(value.keys, value.nodes, strict=True), key=lambda pair: pair[0])
        value.keys = [key for key, _ in pairs]
        value.nodes = [node for _, node in pairs]
    try:
        length = reader.length()
        value.last_id = _stream_id(reader)
        if v2:
            first_id = _stream_id(reader)
            max_deleted = _stream_id(reader)
            entries_added = reader.length()
    except RdbError as error:
        if not error.message.startswith("Unexpected EOF"):
            raise
        raise RdbError("Stream object metadata loading failed.", error.offset) from None
    live = sum(node.live for node in value.nodes)
    if length and not value.nodes:
        raise RdbError("Stream length inconsistent with rax entries", reader.offset())
    value.length = live
    if v2:
        value.first_id, value.max_deleted, value.entries_added = first_id, max_deleted, entries_added
    else:
        value.max_deleted = 0
        value.entries_added = length
        value.first_id = value.first_entry_id() or 0
    group_count = reader.length()
    if group_count:
        value.groups = {}
    for _ in range(group_count):
        name = reader.string()
        last_id = _stream_id(reader)
        if v2:
            try:
                entries_read = _int64(reader.length())
            except RdbError as error:
                if not error.message.startswith("Unexpected EOF"):
                    raise
                raise RdbError("Stream cgroup offset loading failed.", error.offset) from None
        else:
            entries_read = value.estimate_distance(last_id)
        if name in value.groups:
            raise RdbError(f"Duplicated consumer group name {name.decode('utf-8', 'replace')}", reader.offset())
        group = stream_type.ConsumerGroup(last_id, entries_read)
        value.groups[name] = group
        pel_size = reader.length()
        pel = group.pel
        for _ in range(pel_size):
            if reader.pos + 16 > reader.size:
                raise RdbError("Stream PEL ID loading failed.", reader.offset())
            stream_id = int.from_bytes(reader.read(16), "big")
            try:
                delivery_time = reader.millis()
                delivery_count = reader.length()
            except RdbError as error:
                raise RdbError("Stream PEL NACK loading failed.", error.offset) from None
            if stream_id in pel:
                raise RdbError("Duplicated global PEL entry loading stream consumer group", reader.offset())
            pel[stream_id] = stream_type.Nack(None, delivery_time, delivery_count)
        consumer_count = reader.length()
        for _ in range(consumer_count):
            try:
                cname = reader.string()
            except RdbError as error:
                if not error.message.startswith("Unexpected EOF"):
                    raise
                raise RdbError("Error reading the consumer name from Stream group.", error.offset) from None
            if cname in group.consumers:
                raise RdbError("Duplicate stream consumer detected.", reader.offset())
            try:
                seen_time = reader.millis()
            except RdbError as error:
                raise RdbError("Stream short read reading seen time.", error.offset) from None
            consumer = stream_type.Consumer(cname, seen_time)
            group.consumers[cname] = consumer
            owned = reader.length()
            consumer_pel: SortedDict = consumer.pel
            for _ in range(owned):
                if reader.pos + 16 > reader.size:
                    raise RdbError("Stream short read reading PEL streamID.", reader.offset())
                stream_id = int.from_bytes(reader.read(16), "big")
                nack = pel.get(stream_id)
                if nack is None:
                    raise RdbError("Consumer entry not found in group global PEL", reader.offset())
                if stream_id in consumer_pel:
                    raise RdbError("Duplicated consumer PEL entry loading a stream consumer group", reader.offset())
                nack.consumer = consumer
                consumer_pel[stream_id] = nack
        if deep and any(nack.consumer is None for nack in pel.values()):
            raise RdbError("Stream CG PEL entry without consumer", reader.offset())
    return value


# -- DUMP payloads ------------------------------------------------------------------------------

def verify_dump_payload(payload: bytes, skip_checksum: bool = False) -> int:
    """verifyDumpPayload: the payload's RDB version, or RdbError(DUMP_PAYLOAD_ERROR)."""
    if len(payload) < 10:
        raise RdbError(DUMP_PAYLOAD_ERROR)
    version = int.from_bytes(payload[-10:-8], "little")
    if version > RDB_VERSION:
        raise RdbError(DUMP_PAYLOAD_ERROR)
    if not skip_checksum and crc64(payload[:-8]) != int.from_bytes(payload[-8:], "little"):
        raise RdbError(DUMP_PAYLOAD_ERROR)
    return version


def load_dump_payload(payload: bytes, config: Any = None, deep: bool = False, skip_checksum: bool = False) -> Any:
    """The value a DUMP payload holds. RdbError(DUMP_PAYLOAD_ERROR) for a bad version or CRC,
    RdbError(BAD_DATA_FORMAT) for anything that does not parse (empty collections included)."""
    verify_dump_payload(payload, skip_checksum)
    # Redis reads the value from the whole payload, footer included.
    reader = RdbReader(payload)
    try:
        type_code = reader.byte()
        if type_code not in OBJECT_TYPES:
            raise RdbError(BAD_DATA_FORMAT)
        return load_value(reader, type_code, LoadLimits(config, deep))
    except (RdbError, EmptyKey, ValueError, IndexError, TypeError, OverflowError, MemoryError):
        raise RdbError(BAD_DATA_FORMAT) from None


# -- whole files --------------------------------------------------------------------------------

class LoadSink:
    """Where a file's content goes. The engine's sink fills its databases; the checker's counts.

    ``database(dbid)`` returns an object with ``data`` and ``expires`` dicts."""

    def database(self, dbid: int) -> Any:
        raise NotImplementedError

    def aux(self, name: bytes, value: bytes, offset: int) -> None:
        """An AUX field, read up to ``offset``."""

    def selected(self, dbid: int, offset: int) -> None:
        """A SELECTDB opcode, read up to ``offset``."""

    def resize(self, db_size: int, expires_size: int) -> None:
        """A RESIZEDB hint."""

    def function(self, code: bytes, allow_dup: bool) -> None:
        """A function library (FUNCTION2 opcode)."""

    def key(self, key: bytes, value: Any, expire_ms: int | None, idle: int | None, freq: int | None) -> None:
        """Per key, for sinks that do more than store it (the checker ignores values)."""


class LoadReport:
    """What a load read: counts, AUX fields, the checksum verdict."""

    def __init__(self) -> None:
        self.version = 0
        self.keys_loaded = 0
        self.keys_expired = 0
        self.empty_keys_skipped = 0
        self.expires = 0
        self.aux: dict[bytes, bytes] = {}
        self.functions = 0
        self.checksum: str = "none"        # ok | disabled | none (version < 5) | skipped
        self.end_offset = 0


class RdbLoader:
    """Loads a whole RDB image into a sink (rdbLoadRioWithLoadingCtx).

    ``events`` is called with the bytes read so far each time another
    ``events_interval`` bytes were read (processEventsWhileBlocked while loading).
    The attributes ``doing``, ``key`` and ``type_code`` tell what was being read when
    an error is raised; ``keys_read`` counts the keys whose reading began."""

    def __init__(self, data: bytes, sink: LoadSink, *, config: Any = None, deep: bool = False,
                 now_ms: int | None = None, expire_keys: bool = True, allow_dup: bool = False,
                 verify_checksum: bool = True, events: Callable[[int], None] | None = None,
                 events_interval: int = 2 << 20, key_delay_us: int = 0, databases: int = 16) -> None:
        self.data = data
        self.sink = sink
        self.limits = LoadLimits(config, deep)
        self.now_ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
        self.expire_keys = expire_keys
        self.allow_dup = allow_dup
        self.verify_checksum = verify_checksum
        self.events = events
        self.events_interval = events_interval
        self.key_delay_us = key_delay_us
        self.databases = databases
        self.doing = "start"
        self.key: bytes | None = None
        self.type_code = 0
        self.keys_read = 0
        self.expires_read = 0
        self.already_expired = 0
        self.report = LoadReport()
        self.reader = RdbReader(data)

    def run(self) -> LoadReport:
        """Read the file to its EOF opcode and checksum; RdbError on anything wrong."""
        # Loading builds many containers and frees none: the cyclic garbage collector would walk
        # the growing heap again and again for nothing (a third of the time of a mixed dataset).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        except (ValueError, IndexError, TypeError, OverflowError, KeyError, MemoryError) as error:
            raise RdbError(f"Bad data: {error}", self.reader.offset()) from None
        finally:
            if collecting:
                gc.enable()

    def _run(self) -> LoadReport:
        reader = self.reader
        report = self.report
        data = self.data
        if len(data) < 9:
            raise RdbError("Short read or OOM loading DB. Unrecoverable error, aborting now.", len(data))
        if data[:5] != MAGIC:
            raise RdbError("Wrong signature trying to load DB from file", 9)
        try:
            version = int(data[5:9])
        except ValueError:
            raise RdbError("Wrong signature trying to load DB from file", 9) from None
        if version < 1 or version > RDB_VERSION:
            raise RdbError(f"Can't handle RDB format version {version}", 9)
        report.version = version
        reader.pos = 9
        sink = self.sink
        limits = self.limits
        now_ms = self.now_ms
        expire_keys = self.expire_keys
        allow_dup = self.allow_dup
        events = self.events
        interval = self.events_interval
        next_event = interval if events is not None else len(data) + 1
        key_delay = self.key_delay_us
        db = None
        data_dict: dict = {}
        expires_dict: dict = {}
        expire_ms: int | None = None
        idle: int | None = None
        freq: int | None = None
        size = len(data)
        read_string = reader.string
        sink_key = sink.key if type(sink).key is not LoadSink.key else None
        # What is being read lives in locals (the error handler below publishes it): one
        # attribute write per key would cost more than the rest of a small key's load.
        doing = self.doing
        cur_key: bytes | None = None
        cur_type = self.type_code
        keys_read = expires_read = already_expired = keys_loaded = 0
        try:
            while True:
                doing = "read-type"
                pos = reader.pos
                if pos >= size:
                    raise reader.eof()
                type_code = data[pos]
                reader.pos = pos + 1
                if type_code == OPCODE_EXPIRETIME_MS:
                    doing = "read-expire"
                    expire_ms = reader.millis()
                    continue
                if type_code == OPCODE_EXPIRETIME:
                    doing = "read-expire"
                    expire_ms = reader.seconds() * 1000
                    continue
                if type_code == OPCODE_FREQ:
                    freq = reader.byte()
                    continue
                if type_code == OPCODE_IDLE:
                    idle = reader.length()
                    continue
                if type_code == OPCODE_EOF:
                    break
                if type_code == OPCODE_SELECTDB:
                    doing = "read-len"
                    dbid = reader.length()
                    if dbid >= self.databases:
                        raise RdbError("FATAL: Data file was created with a Redis server configured to handle "
                                       f"more than {self.databases} databases. Exiting\n", reader.offset())
                    db = sink.database(dbid)
                    data_dict, expires_dict = db.data, db.expires
                    sink.selected(dbid, reader.offset())
                    continue
                if type_code == OPCODE_RESIZEDB:
                    doing = "read-len"
                    db_size = reader.length()
                    expires_size = reader.length()
                    sink.resize(db_size, expires_size)
                    continue
                if type_code == OPCODE_AUX:
                    doing = "read-aux"
                    name = read_string()
                    value = read_string()
                    report.aux[name] = value
                    sink.aux(name, value, reader.offset())
                    continue
                if type_code == OPCODE_MODULE_AUX:
                    doing = "read-module-aux"
                    start = reader.offset()
                    module_id = reader.length()
                    raise RdbError("The RDB file contains AUX module data I can't load: no matching module "
                                   f"'{module_type_name(module_id)}'", start)
                if type_code == OPCODE_FUNCTION_PRE_GA:
                    doing = "read-functions"
                    raise RdbError("Pre-release function format not supported.", reader.offset())
                if type_code == OPCODE_FUNCTION2:
                    doing = "read-functions"
                    code = read_string()
                    sink.function(code, allow_dup)
                    report.functions += 1
                    continue
                if type_code not in OBJECT_TYPES:
                    raise RdbError(f"Unknown RDB encoding type {type_code}", reader.offset())
                # A key and its value.
                cur_type = type_code
                doing = "read-key"
                cur_key = None
                key = read_string()
                cur_key = key
                keys_read += 1
                doing = "read-object-value"
                try:
                    value = load_value(reader, type_code, limits) if type_code else read_string()
                except EmptyKey:
                    if expire_ms is not None:
                        expires_read += 1
                        if expire_ms < now_ms:
                            already_expired += 1
                    report.empty_keys_skipped += 1
                    expire_ms = idle = freq = None
                    cur_key = None
                    cur_type = -1
                    continue
                if expire_ms is not None:
                    # Counted once the value is read, as redis-check-rdb counts them.
                    expires_read += 1
                    if expire_ms < now_ms:
                        already_expired += 1
                if db is None:
                    db = sink.database(0)
                    data_dict, expires_dict = db.data, db.expires
                if expire_ms is not None and expire_keys and expire_ms < now_ms:
                    # A master does not load keys that expired meanwhile (a replica, or an AOF
                    # preamble, keeps them: the master's DEL follows).
                    report.keys_expired += 1
                else:
                    if data_dict.setdefault(key, value) is not value:
                        if not allow_dup:
                            raise RdbError(f"Duplicate key '{key.decode('utf-8', 'replace')}' found in RDB file",
                                           reader.offset())
                        data_dict[key] = value
                        expires_dict.pop(key, None)
                    if expire_ms is not None:
                        expires_dict[key] = expire_ms
                        report.expires += 1
                    keys_loaded += 1
                    if sink_key is not None:
                        sink_key(key, value, expire_ms, idle, freq)
                expire_ms = idle = freq = None
                cur_key = None
                cur_type = -1
                if key_delay:
                    time.sleep(key_delay / 1_000_000 if key_delay > 0 else -key_delay / 1_000_000_000)
                if reader.pos >= next_event:
                    events(reader.pos)
                    next_event = (reader.pos // interval + 1) * interval
        finally:
            self.doing, self.key, self.type_code = doing, cur_key, cur_type
            self.keys_read, self.expires_read, self.already_expired = keys_read, expires_read, already_expired
            report.keys_loaded = keys_loaded
        self.doing = "check-sum"
        if version >= 5:
            end = reader.pos
            stored = int.from_bytes(reader.read(8), "little")
            if not self.verify_checksum:
                report.checksum = "skipped"
            elif stored == 0:
                report.checksum = "disabled"
            else:
                computed = crc64(memoryview(data)[:end])
                if computed != stored:
                    raise RdbError(f"Wrong RDB checksum expected: ({computed:x}) but got ({stored:x}). Aborting now.",
                                   reader.offset())
                report.checksum = "ok"
        report.end_offset = reader.pos
        if events is not None:
            events(reader.pos)
        return report


def describe_type(type_code: int) -> str:
    """A type code as check-rdb names it (7.0.15's redis-check-rdb has no name for 19, stream-v2)."""
    return TYPE_NAMES.get(type_code, "unknown") if type_code != TYPE_STREAM_LISTPACKS_2 else "unknown"


__all__ = [
    "BAD_DATA_FORMAT", "DUMP_PAYLOAD_ERROR", "EmptyKey", "LoadLimits", "LoadReport", "LoadSink", "RdbLoader",
    "describe_type", "load_dump_payload", "load_stream", "load_value", "make_hash", "make_list", "make_set",
    "make_zset", "verify_dump_payload",
]
