"""Writing RDB files and DUMP payloads (rdbSave / rdbSaveObject / dumpCommand's payload).

Every value is written in the encoding it reports, as Redis 7.0 writes it, so that a
file loaded by redis-server (or by us) gives back the same OBJECT ENCODING:

=====================  ===========================================================
string                 ``STRING``: integer-encoded, LZF-compressed or plain
list (quicklist)       ``LIST_QUICKLIST_2``: listpack nodes cut by list-max-listpack-size
set intset/hashtable   ``SET_INTSET`` (an intset blob) / ``SET`` (the members)
zset listpack/skiplist ``ZSET_LISTPACK`` (member, score pairs) / ``ZSET_2`` (binary scores,
                       highest first, as Redis walks its skiplist from the tail)
hash listpack/table    ``HASH_LISTPACK`` / ``HASH``
stream                 ``STREAM_LISTPACKS_2``: one listpack per node, metadata, groups
=====================  ===========================================================

Blobs (listpacks, intsets) are RDB strings, LZF-compressed when ``rdbcompression`` is on
and that saves space, as Redis does.

:class:`RdbWriter` streams a whole file: the header and AUX fields, function
libraries, each database (SELECTDB, RESIZEDB, keys with their expiry), EOF and the
CRC64, flushing to the file every megabyte. :func:`write_rdb` is also what the AOF
engineer's rewrite uses for its RDB preamble (``aof_base=True``).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from specredis.engine.persistence.rdb import (
    MAGIC,
    OPCODE_AUX,
    OPCODE_EOF,
    OPCODE_EXPIRETIME_MS,
    OPCODE_FREQ,
    OPCODE_FUNCTION2,
    OPCODE_IDLE,
    OPCODE_RESIZEDB,
    OPCODE_SELECTDB,
    QUICKLIST_NODE_PACKED,
    QUICKLIST_NODE_PLAIN,
    RDB_VERSION,
    STREAM_ITEM_FLAG_DELETED,
    STREAM_ITEM_FLAG_NONE,
    STREAM_ITEM_FLAG_SAMEFIELDS,
    TYPE_HASH,
    TYPE_HASH_LISTPACK,
    TYPE_LIST_QUICKLIST_2,
    TYPE_SET,
    TYPE_SET_INTSET,
    TYPE_STREAM_LISTPACKS_2,
    TYPE_STRING,
    TYPE_ZSET_2,
    TYPE_ZSET_LISTPACK,
    crc64,
    encode_binary_double,
    encode_length,
    encode_millis,
    encode_string,
    intset_encode,
    listpack_from_encoded,
    lp_encode_element,
    lp_encode_int,
    lp_encode_string,
)

if TYPE_CHECKING:
    from specredis.engine.core import Engine

REDIS_VERSION = "7.0.15"
# Flush the output buffer to the file past this many bytes; fsync every AUTOSYNC_BYTES when
# rdb-save-incremental-fsync is on (REDIS_AUTOSYNC_BYTES).
FLUSH_BYTES = 1 << 20
AUTOSYNC_BYTES = 4 << 20
# Quicklist nodes: a node's listpack may grow to the byte limit of its fill factor (negative
# list-max-listpack-size) or to 'fill' entries within SIZE_SAFETY_LIMIT bytes (positive).
_QUICKLIST_SIZE_LIMITS = (4096, 8192, 16384, 32768, 65536)
_QUICKLIST_SAFETY_LIMIT = 8192
_QUICKLIST_ESTIMATE_OVERHEAD = 8
PACKED_THRESHOLD = 1 << 30          # elements this big get a plain node of their own
_U64 = 1 << 64
_I64 = 1 << 63


class SaveOptions:
    """What a save needs from the configuration, read once per save."""

    __slots__ = ("compress", "checksum", "list_fill", "policy_lru", "policy_lfu")

    def __init__(self, config: Any = None) -> None:
        if config is None:
            self.compress = True
            self.checksum = True
            self.list_fill = -2
            self.policy_lru = self.policy_lfu = False
            return
        values = config.values
        self.compress = bool(values["rdbcompression"])
        self.checksum = bool(values["rdbchecksum"])
        self.list_fill = values["list-max-listpack-size"]
        policy = values["maxmemory-policy"]
        self.policy_lru = policy.endswith("-lru")
        self.policy_lfu = policy.endswith("-lfu")


# -- values ------------------------------------------------------------------------------------

def value_classes() -> dict[type, Callable[[Any, SaveOptions], tuple[int, bytes]]]:
    """The value classes of engine/types and the function that serializes each."""
    from specredis.engine.types.hash import HashValue
    from specredis.engine.types.list import ListValue
    from specredis.engine.types.set import SetValue
    from specredis.engine.types.stream import StreamValue
    from specredis.engine.types.zset import ZSetValue

    return {ListValue: save_list, SetValue: save_set, ZSetValue: save_zset, HashValue: save_hash,
            StreamValue: save_stream}


_SAVERS: dict[type, Callable[[Any, SaveOptions], tuple[int, bytes]]] = {}


def serialize_value(value: Any, options: SaveOptions) -> tuple[int, bytes]:
    """(RDB type code, serialized value) of a stored value (rdbSaveObjectType + rdbSaveObject)."""
    kind = type(value)
    if kind is bytes or kind is bytearray:
        return TYPE_STRING, encode_string(value, options.compress)
    saver = _SAVERS.get(kind)
    if saver is None:
        if not _SAVERS:
            _SAVERS.update(value_classes())
            saver = _SAVERS.get(kind)
        if saver is None:
            raise TypeError(f"no RDB encoding for values of type {kind.__name__}")
    return saver(value, options)


def quicklist_nodes(items: list[bytes], fill: int) -> list[tuple[bool, list[bytes]]]:
    """Cut a list into quicklist nodes as pushing its elements one by one does
    (_quicklistNodeAllowInsert): by the node's listpack size for negative fill factors, by
    entry count (within the safety limit) for positive ones; huge elements get plain nodes.

    Returns (plain, elements) per node: a plain node's one raw element, or the encoded
    listpack elements of a packed node."""
    nodes: list[tuple[bool, list[bytes]]] = []
    current: list[bytes] | None = None
    node_size = 0
    limit = _QUICKLIST_SIZE_LIMITS[-fill - 1] if -5 <= fill < 0 else 0
    for item in items:
        length = len(item)
        if length >= PACKED_THRESHOLD:
            nodes.append((True, [item]))
            current = None
            continue
        allowed = False
        if current is not None:
            new_size = node_size + length + _QUICKLIST_ESTIMATE_OVERHEAD
            if limit:
                allowed = new_size <= limit
            elif fill >= 0 and new_size <= _QUICKLIST_SAFETY_LIMIT:
                allowed = len(current) < fill
        if not allowed:
            current = []
            nodes.append((False, current))
            node_size = 7                           # an empty listpack: header and end byte
        encoded = lp_encode_element(item)
        current.append(encoded)
        node_size += len(encoded)
    return nodes


def save_list(value: Any, options: SaveOptions) -> tuple[int, bytes]:
    """A list as LIST_QUICKLIST_2: its node count, then each node's container and listpack."""
    nodes = quicklist_nodes(list(value), options.list_fill)
    out = [encode_length(len(nodes))]
    compress = options.compress
    for plain, elements in nodes:
        if plain:
            out.append(encode_length(QUICKLIST_NODE_PLAIN))
            out.append(encode_string(elements[0], compress))
        else:
            out.append(encode_length(QUICKLIST_NODE_PACKED))
            out.append(encode_string(listpack_from_encoded(elements), compress))
    return TYPE_LIST_QUICKLIST_2, b"".join(out)


def save_set(value: Any, options: SaveOptions) -> tuple[int, bytes]:
    """A set as SET_INTSET (one intset blob) or SET (its count and members)."""
    if value.intset:
        return TYPE_SET_INTSET, encode_string(intset_encode(int(m) for m in value.items), options.compress)
    compress = options.compress
    out = [encode_length(len(value.items))]
    out.extend(encode_string(member, compress) for member in value.items)
    return TYPE_SET, b"".join(out)


def save_zset(value: Any, options: SaveOptions) -> tuple[int, bytes]:
    """A sorted set as ZSET_LISTPACK (member, score pairs in order) or ZSET_2 (highest first)."""
    compress = options.compress
    if value.listpack:
        from specredis.engine.types.zset import format_listpack_score

        elements = []
        append = elements.append
        for score, member in value.ordered:
            append(lp_encode_element(member))
            text = format_listpack_score(score)
            # An integral score's text is an integer element (what lpAppend makes of it).
            append(lp_encode_int(int(score)) if text[-1:].isdigit() and b"." not in text and b"e" not in text
                   else lp_encode_string(text))
        return TYPE_ZSET_LISTPACK, encode_string(listpack_from_encoded(elements), compress)
    out = [encode_length(len(value.ordered))]
    append = out.append
    for score, member in reversed(value.ordered):
        append(encode_string(member, compress))
        append(encode_binary_double(score))
    return TYPE_ZSET_2, b"".join(out)


def save_hash(value: Any, options: SaveOptions) -> tuple[int, bytes]:
    """A hash as HASH_LISTPACK (field, value pairs in order) or HASH (its count and pairs)."""
    compress = options.compress
    if value.table is None:
        elements = []
        for field, item in value.items():
            elements.append(lp_encode_element(field))
            elements.append(lp_encode_element(item))
        return TYPE_HASH_LISTPACK, encode_string(listpack_from_encoded(elements), compress)
    table = value.table
    out = [encode_length(len(table))]
    append = out.append
    for field, item in table.items():
        append(encode_string(field, compress))
        append(encode_string(item, compress))
    return TYPE_HASH, b"".join(out)


def _int64(delta: int) -> int:
    """A difference of two uint64 as C stores it in an int64 (wrapping)."""
    delta %= _U64
    return delta - _U64 if delta >= _I64 else delta


def stream_node_listpack(node: Any) -> bytes:
    """The listpack of one stream node, as Redis lays it out (t_stream.c's header comment):
    the master entry (count, deleted, master fields, 0), then per entry its flags, ID deltas
    to the master ID, its fields unless they are the master fields, values, and lp-count.

    Deleted entries keep their place and content with the DELETED flag, as Redis leaves them
    in the listpack until the node goes (their content is in ``node.dead``)."""
    fields = node.fields
    nfields = len(fields)
    encode = lp_encode_element
    elements = [lp_encode_int(node.live), lp_encode_int(node.deleted), lp_encode_int(nfields)]
    elements.extend(encode(field) for field in fields)
    elements.append(lp_encode_int(0))
    master_ms, master_seq = node.master >> 64, node.master & (_U64 - 1)
    same_count = lp_encode_int(nfields + 3)
    empty = encode(b"")
    dead = node.dead or {}
    for index, (ms, seq, item) in enumerate(zip(node.ms, node.seq, node.items, strict=True)):
        flags = 0
        if item is None:
            item = dead.get(index)
            flags = STREAM_ITEM_FLAG_DELETED
        kind = type(item)
        if kind is bytes:
            elements.append(lp_encode_int(flags | STREAM_ITEM_FLAG_SAMEFIELDS))
            elements.append(lp_encode_int(_int64(ms - master_ms)))
            elements.append(lp_encode_int(_int64(seq - master_seq)))
            elements.append(encode(item))
            elements.append(same_count)
        elif kind is tuple:
            elements.append(lp_encode_int(flags | STREAM_ITEM_FLAG_SAMEFIELDS))
            elements.append(lp_encode_int(_int64(ms - master_ms)))
            elements.append(lp_encode_int(_int64(seq - master_seq)))
            elements.extend(encode(v) for v in item)
            elements.append(same_count)
        elif item is None:      # a tombstone whose content was not kept: empty values
            elements.append(lp_encode_int(STREAM_ITEM_FLAG_DELETED | STREAM_ITEM_FLAG_SAMEFIELDS))
            elements.append(lp_encode_int(_int64(ms - master_ms)))
            elements.append(lp_encode_int(_int64(seq - master_seq)))
            elements.extend([empty] * nfields)
            elements.append(same_count)
        else:
            pairs = len(item) >> 1
            elements.append(lp_encode_int(flags | STREAM_ITEM_FLAG_NONE))
            elements.append(lp_encode_int(_int64(ms - master_ms)))
            elements.append(lp_encode_int(_int64(seq - master_seq)))
            elements.append(lp_encode_int(pairs))
            elements.extend(encode(v) for v in item)
            elements.append(lp_encode_int(2 * pairs + 4))
    return listpack_from_encoded(elements)


def _stream_id(stream_id: int) -> bytes:
    return encode_length(stream_id >> 64) + encode_length(stream_id & (_U64 - 1))


def _raw_stream_id(stream_id: int) -> bytes:
    return stream_id.to_bytes(16, "big")


def save_stream(value: Any, options: SaveOptions) -> tuple[int, bytes]:
    """A stream as STREAM_LISTPACKS_2: nodes, length, IDs, entries added, consumer groups."""
    compress = options.compress
    out = [encode_length(len(value.nodes))]
    for node in value.nodes:
        out.append(encode_string(_raw_stream_id(node.master), compress))
        out.append(encode_string(stream_node_listpack(node), compress))
    out.append(encode_length(value.length))
    out.append(_stream_id(value.last_id))
    out.append(_stream_id(value.first_id))
    out.append(_stream_id(value.max_deleted))
    out.append(encode_length(value.entries_added))
    groups = value.groups or {}
    out.append(encode_length(len(groups)))
    for name in sorted(groups):
        group = groups[name]
        out.append(encode_string(name, compress))
        out.append(_stream_id(group.last_id))
        out.append(encode_length(group.entries_read % _U64))
        out.append(encode_length(len(group.pel)))
        for stream_id, nack in group.pel.items():
            out.append(_raw_stream_id(stream_id))
            out.append(encode_millis(nack.delivery_time))
            out.append(encode_length(nack.delivery_count))
        out.append(encode_length(len(group.consumers)))
        for consumer in group.sorted_consumers():
            out.append(encode_string(consumer.name, compress))
            out.append(encode_millis(consumer.seen_time))
            out.append(encode_length(len(consumer.pel)))
            out.extend(_raw_stream_id(stream_id) for stream_id in consumer.pel)
    return TYPE_STREAM_LISTPACKS_2, b"".join(out)


# -- DUMP payloads ------------------------------------------------------------------------------

def dump_payload(value: Any, config: Any = None) -> bytes:
    """DUMP's serialization: type, value, the 2-byte RDB version and a CRC64 of it all."""
    options = SaveOptions(config)
    type_code, body = serialize_value(value, options)
    payload = bytes((type_code,)) + body + RDB_VERSION.to_bytes(2, "little")
    return payload + crc64(payload).to_bytes(8, "little")


# -- whole files --------------------------------------------------------------------------------

class RdbWriter:
    """Buffered RDB output with a running CRC64; ``write`` takes bytes pieces."""

    def __init__(self, handle: BinaryIO, checksum: bool = True, fsync_every: int = 0) -> None:
        self.handle = handle
        self.parts: list[bytes] = []
        self.pending = 0
        self.crc = 0
        self.checksum = checksum
        self.written = 0
        self.fsync_every = fsync_every
        self.synced = 0

    def write(self, data: bytes) -> None:
        """Queue ``data``; the buffer goes to the file past FLUSH_BYTES."""
        self.parts.append(data)
        self.pending += len(data)
        if self.pending >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write the buffer out, updating the CRC (and fsync every ``fsync_every`` bytes)."""
        if not self.parts:
            return
        chunk = b"".join(self.parts)
        self.parts = []
        self.pending = 0
        if self.checksum:
            self.crc = crc64(chunk, self.crc)
        self.handle.write(chunk)
        self.written += len(chunk)
        if self.fsync_every and self.written - self.synced >= self.fsync_every:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.synced = self.written

    def finish(self) -> None:
        """EOF and the checksum (0 when rdbchecksum is off)."""
        self.write(bytes((OPCODE_EOF,)))
        self.flush()
        self.handle.write((self.crc if self.checksum else 0).to_bytes(8, "little"))
        self.written += 8


def _aux(name: bytes, value: bytes) -> bytes:
    return bytes((OPCODE_AUX,)) + encode_string(name) + encode_string(value)


def aux_fields(engine: Engine | None, aof_base: bool = False, used_memory: int | None = None) -> list[tuple[bytes, bytes]]:
    """The AUX fields Redis 7.0.15 writes, in its order (rdbSaveInfoAuxFields)."""
    now = int(time.time()) if engine is None else engine.now_ms() // 1000
    if used_memory is None:
        from specredis.engine.info import process_rss
        used_memory = process_rss()
    fields = [(b"redis-ver", REDIS_VERSION.encode()), (b"redis-bits", b"64"), (b"ctime", b"%d" % now),
              (b"used-mem", b"%d" % used_memory)]
    save_info = engine.extensions.get("rdb_save_info") if engine is not None else None
    info = save_info() if save_info is not None else None
    if info is not None:
        # Replication offsets, written when the server has a replication history (rdbPopulateSaveInfo).
        stream_db, repl_id, repl_offset = info
        fields += [(b"repl-stream-db", b"%d" % stream_db), (b"repl-id", repl_id), (b"repl-offset", b"%d" % repl_offset)]
    fields.append((b"aof-base", b"1" if aof_base else b"0"))
    return fields


def write_rdb(engine: Engine, handle: BinaryIO, *, aof_base: bool = False, fsync_every: int | None = None,
              key_delay_us: int | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Write the whole dataset of ``engine`` as an RDB file to ``handle``; returns the key count.

    ``aof_base`` marks the file as an AOF's RDB preamble (AUX aof-base 1). ``progress``
    is called with the number of keys written so far every 1024 keys."""
    config = engine.config
    options = SaveOptions(config)
    if fsync_every is None:
        fsync_every = AUTOSYNC_BYTES if config.values["rdb-save-incremental-fsync"] else 0
    if key_delay_us is None:
        key_delay_us = config.values["rdb-key-save-delay"]
    collecting = gc.isenabled()
    gc.disable()            # saving allocates many short-lived containers and no cycles
    try:
        return _write_rdb(engine, handle, options, fsync_every, key_delay_us, progress, aof_base)
    finally:
        if collecting:
            gc.enable()


def _write_rdb(engine: Engine, handle: BinaryIO, options: SaveOptions, fsync_every: int, key_delay_us: int,
               progress: Callable[[int], None] | None, aof_base: bool) -> int:
    writer = RdbWriter(handle, options.checksum, fsync_every)
    write = writer.write
    write(MAGIC + b"%04d" % RDB_VERSION)
    for name, value in aux_fields(engine, aof_base):
        write(_aux(name, value))
    functions = engine.extensions.get("functions")
    if functions is not None:
        for library in functions.libraries.values():
            write(bytes((OPCODE_FUNCTION2,)) + encode_string(library.code, options.compress))
    idle_seconds = engine.extensions.get("object_idle_seconds") if options.policy_lru else None
    lfu_frequency = engine.extensions.get("object_lfu_frequency") if options.policy_lfu else None
    keys = 0
    for db in engine.databases:
        data = db.data
        if not data:
            continue
        expires = db.expires
        write(bytes((OPCODE_SELECTDB,)) + encode_length(db.id))
        write(bytes((OPCODE_RESIZEDB,)) + encode_length(len(data)) + encode_length(len(expires)))
        keys += _write_keys(writer, db, options, idle_seconds, lfu_frequency, key_delay_us, progress, keys)
    writer.finish()
    return keys


def _write_keys(writer: RdbWriter, db: Any, options: SaveOptions, idle_seconds: Any, lfu_frequency: Any,
                key_delay_us: int, progress: Callable[[int], None] | None, done: int) -> int:
    compress = options.compress
    expires = db.expires
    write = writer.write
    expire_op = bytes((OPCODE_EXPIRETIME_MS,))
    string_op = bytes((TYPE_STRING,))
    idle_op = bytes((OPCODE_IDLE,))
    freq_op = bytes((OPCODE_FREQ,))
    track_access = options.policy_lru or options.policy_lfu
    count = 0
    for key, value in db.data.items():
        if expires:
            when = expires.get(key)
            if when is not None:
                write(expire_op + encode_millis(when))
        if track_access:
            if options.policy_lru:
                write(idle_op + encode_length(idle_seconds(db, key) if idle_seconds is not None else 0))
            else:
                write(freq_op + bytes((min(255, lfu_frequency(db, key)) if lfu_frequency is not None else 0,)))
        kind = type(value)
        if kind is bytes or kind is bytearray:
            write(string_op + encode_string(key, compress) + encode_string(value, compress))
        else:
            type_code, body = serialize_value(value, options)
            write(bytes((type_code,)) + encode_string(key, compress) + body)
        count += 1
        if key_delay_us:
            # rdb-key-save-delay (a testing knob in Redis too): slow the save down per key.
            time.sleep(key_delay_us / 1_000_000 if key_delay_us > 0 else -key_delay_us / 1_000_000_000)
        if progress is not None and not count & 1023:
            progress(done + count)
    return count


def temp_file_name(pid: int | None = None) -> str:
    """The temp file a save writes before renaming it over dbfilename (``temp-<pid>.rdb``)."""
    return f"temp-{os.getpid() if pid is None else pid}.rdb"


def rdb_path(config: Any) -> str:
    """Where ``dir`` and ``dbfilename`` put the RDB file."""
    directory = config["dir"]
    name = config["dbfilename"]
    return os.path.join(directory, name) if directory else name


def save_to_file(engine: Engine, path: str, *, aof_base: bool = False,
                 progress: Callable[[int], None] | None = None) -> int:
    """rdbSave: write a temp file next to ``path``, fsync it and rename it over ``path``.

    An error leaves ``path`` untouched (the temp file is removed) and raises OSError."""
    directory = os.path.dirname(path) or "."
    temp = os.path.join(directory, temp_file_name())
    try:
        handle = open(temp, "wb")  # noqa: SIM115 - closed below, also on errors
    except OSError as error:
        raise OSError(error.errno, f"Failed opening the temp RDB file {os.path.basename(temp)} (in server root dir "
                                   f"{os.path.abspath(directory)}) for saving: {error.strerror}") from None
    try:
        keys = write_rdb(engine, handle, aof_base=aof_base, progress=progress)
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        os.replace(temp, path)
        _fsync_directory(directory)
    except BaseException:
        try:
            handle.close()
        except OSError:
            pass
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    return keys


def _fsync_directory(directory: str) -> None:
    # Make the rename durable (fsyncFileDir).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
