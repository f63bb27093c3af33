"""Memory accounting (``used_memory``), the per-key size estimator, and the MEMORY command.

Python cannot attribute its allocations to keys cheaply (tracemalloc costs more than the
server's work), so ``used_memory`` is an *estimate*, built the way Redis's
``zmalloc_used_memory`` is composed:

``used_memory = used_memory_startup + overhead (client buffers, script cache, AOF buffer) + dataset``

* ``used_memory_startup`` is a fixed :data:`STARTUP_BYTES`, of the order of what an empty
  Redis 7.0 reports, so a ``maxmemory`` sized for Redis bounds a dataset here too. The
  interpreter's own memory is not in it: it shows in ``used_memory_rss`` (read from
  /proc) and therefore in ``mem_fragmentation_ratio``. Eviction never looks at RSS
  (RSS does not go down when keys are deleted).
* the dataset is the sum of per-key estimates (:func:`key_bytes`): the Python sizes of
  the key, the value and its containers (``sys.getsizeof``, rounded to the allocator's
  16-byte blocks), the dict slot, and for collections ``len × a sampled average element
  size``: O(samples) per key, like Redis's MEMORY USAGE sampling.

While ``maxmemory`` is 0 nothing is kept per key (the hot path and the memory per key
stay as they are): the dataset is ``keys × the average size of a few randomly sampled
keys`` per database, computed when asked (INFO, MEMORY STATS). While ``maxmemory`` > 0,
:class:`MemoryAccounting` keeps every key's estimate in a per-database dict, updated
O(1) on each write through ``engine.key_modified_hooks`` (and ``db_flushed_hooks``,
SWAPDB), so the eviction gate reads ``used_memory`` in O(1) before every command; turning
``maxmemory`` on scans the keyspace once. That costs a dict entry (and an int past 256)
per key only while ``maxmemory`` is set: measured RSS growth for 200,000 small string
keys, 155 bytes per key instead of 103.

Keys are sampled at random from a database's dict with :func:`sample_keys` (CPython's
``PyDict_Next`` from a random entry index, through ctypes): O(1) per sample, as Redis's
``dictGetSomeKeys``.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import random
import sys
from typing import TYPE_CHECKING, Any

from specredis.engine.args import parse_int
from specredis.engine.client import CLIENT_REPLICA, Client
from specredis.engine.errors import SYNTAX, RedisError
from specredis.engine.help import help_reply
from specredis.engine.keyspace import TYPE_NAMES
from specredis.protocol.replies import OK, Double, Map

if TYPE_CHECKING:
    from specredis.engine.core import Engine
    from specredis.engine.keyspace import Database  # noqa: F401 - annotations

# What an empty server counts as used (Redis 7.0.15 reports ~870K for its own structures).
STARTUP_BYTES = 880 * 1024
# One entry of a large dict: 24 bytes of entry plus its index slot, at the usual 1/2..2/3 fill.
DICT_SLOT_BYTES = 52
# A key's entry in db.expires: the dict slot and the int of its time.
EXPIRE_ENTRY_BYTES = DICT_SLOT_BYTES + 32
# An int that is not one of the interpreter's cached small ints.
INT_BYTES = 32
FLOAT_BYTES = 32
TUPLE2_BYTES = 64
MEMORY_USAGE_SAMPLES = 5        # MEMORY USAGE's default SAMPLES
ACCOUNTING_SAMPLES = 1          # elements sampled per write while maxmemory is set
DATASET_SAMPLE_KEYS = 16        # keys sampled per database for the estimate while maxmemory is 0
_SAMPLE_TRIES = 8               # random slots tried per sampled key before taking a walked-to one
_getsizeof = sys.getsizeof


def _block(size: int) -> int:
    """An allocation rounded up to the allocator's 16-byte blocks."""
    return (size + 15) & ~15


# -----------------------------------------------------------------------------------------
# Random keys of a dict
# -----------------------------------------------------------------------------------------

_dict_next = ctypes.pythonapi.PyDict_Next
_dict_next.argtypes = [ctypes.py_object, ctypes.POINTER(ctypes.c_ssize_t), ctypes.POINTER(ctypes.py_object),
                       ctypes.POINTER(ctypes.py_object)]
_dict_next.restype = ctypes.c_int
# CPython 3.11/3.12 layout: PyDictObject.ma_keys at offset 32; PyDictKeysObject.dk_nentries
# at offset 24. Used only to spread the random start over the whole entry array (entries of
# deleted keys included); checked for sanity and skipped on other versions.
_ENTRIES_LAYOUT = sys.implementation.name == "cpython" and sys.version_info[:2] in ((3, 11), (3, 12))


def _entry_count(d: dict) -> int:
    """How many entry slots ``d`` uses (live and deleted keys), or its length if unknown."""
    size = len(d)
    if _ENTRIES_LAYOUT:
        keys_ptr = ctypes.c_void_p.from_address(id(d) + 32).value
        if keys_ptr:
            entries = ctypes.c_ssize_t.from_address(keys_ptr + 24).value
            if size <= entries <= 4 * size + 8:
                return entries
    return size


def sample_keys(d: dict, count: int, rng: random.Random) -> list:
    """Up to ``count`` keys of ``d`` picked at random (with repeats possible), O(count).

    Each pick is the key at a random entry index (PyDict_Next from there), as Redis's
    dictGetRandomKey picks a random bucket. Slots of deleted keys are retried a few times;
    in a dict that is mostly deleted slots (mass deletions without inserts since, which
    would resize it) picks then favour the keys that follow runs of deleted ones."""
    size = len(d)
    if size == 0:
        return []
    if size <= count:
        return list(d)
    span = _entry_count(d)
    pos = ctypes.c_ssize_t()
    key = ctypes.py_object()
    value = ctypes.py_object()
    pos_ref, key_ref, value_ref = ctypes.byref(pos), ctypes.byref(key), ctypes.byref(value)
    picked = []
    randrange = rng.randrange
    for _ in range(count):
        # Accept a pick only if the random slot itself holds a live key (rejection sampling):
        # walking on from a slot of a deleted key would favour the key after a run of
        # deleted ones (evictions delete the oldest keys, at the front). After a few tries,
        # take the walk's key anyway.
        found = False
        for _attempt in range(_SAMPLE_TRIES):
            start = randrange(span)
            pos.value = start
            if _dict_next(d, pos_ref, key_ref, value_ref):
                found = True
                if pos.value == start + 1:
                    break
        if not found:
            # Every try was past the last live entry: the first key.
            pos.value = 0
            if not _dict_next(d, pos_ref, key_ref, value_ref):
                break
        picked.append(key.value)
    return picked


# -----------------------------------------------------------------------------------------
# Size estimates
# -----------------------------------------------------------------------------------------

def _sampled_average(items: Any, samples: int, size_of: Any) -> float:
    """The average ``size_of`` over the first ``samples`` items (all of them when samples is 0)."""
    total = count = 0
    for item in (items if samples <= 0 else itertools.islice(items, samples)):
        total += size_of(item)
        count += 1
    return total / count if count else 0.0


# Rounding each small object up to its 16-byte allocation block adds 8 bytes on average.
_ROUNDING = 8


def _average_size(objects: list) -> float:
    """The average allocation of ``objects`` (a sample): C-level sums, no per-item Python call."""
    return sum(map(_getsizeof, objects)) / len(objects) + _ROUNDING if objects else 0.0


def _first(iterable: Any, samples: int) -> list:
    return list(iterable if samples <= 0 else itertools.islice(iterable, samples))


def _list_size(value: Any, samples: int) -> int:
    head, tail = value.head, value.tail
    count = len(head) + len(tail)
    if samples <= 0:
        sample = tail + head
    else:
        sample = tail[:samples]
        if len(sample) < samples and head:
            sample += head[-(samples - len(sample)):]
    # Each element: its bytes object and its slot in the list.
    average = _average_size(sample) + 8 if sample else 0
    return _block(_getsizeof(value)) + _getsizeof(head) + _getsizeof(tail) + int(count * average)


def _hash_size(value: Any, samples: int) -> int:
    table = value.table
    if table is None:
        return _block(_getsizeof(value)) + _block(_getsizeof(value.blob))
    fields = _first(table, samples)
    average = _average_size(fields) + _average_size([table[field] for field in fields])
    return _block(_getsizeof(value)) + _getsizeof(table) + int(len(table) * average)


def _set_size(value: Any, samples: int) -> int:
    items = value.items
    # Each member: its bytes, a list slot, an index dict slot and the int of its position.
    average = _average_size(items[:samples] if samples > 0 else items) + 8 + INT_BYTES
    return _block(_getsizeof(value)) + _getsizeof(items) + _getsizeof(value.index) + int(len(items) * average)


def _zset_size(value: Any, samples: int) -> int:
    scores = value.scores
    # Each member: its bytes, a dict slot with its float score, the (score, member) tuple
    # in the sorted list and its slot there.
    average = _average_size(_first(scores, samples)) + FLOAT_BYTES + TUPLE2_BYTES + 8
    return _block(_getsizeof(value)) + _getsizeof(scores) + int(len(scores) * average)


def _entry_size(entry: Any) -> int:
    if entry is None:
        return 0
    if type(entry) in (tuple, list):
        return _block(_getsizeof(entry)) + sum(_block(_getsizeof(part)) for part in entry if type(part) is bytes)
    return _block(_getsizeof(entry))


def _stream_size(value: Any, samples: int) -> int:
    nodes = value.nodes
    size = _block(_getsizeof(value)) + _getsizeof(nodes) + _getsizeof(value.keys)
    if nodes:
        last = nodes[-1]
        average = _sampled_average(iter(last.items), samples, _entry_size)
        # Each node: its object and arrays; each entry: its two ID array cells, its slot in
        # the node and its contents.
        size += len(nodes) * 232 + int(value.length * (16 + 8 + average))
    groups = value.groups
    if groups:
        for group in groups.values():
            # Each pending entry: a NACK object and its slots in the group's and its consumer's PEL.
            size += 200 + len(group.pel) * 160 + len(group.consumers) * 120
    return size


_SIZERS: dict[str, Any] = {
    "list": _list_size, "hash": _hash_size, "set": _set_size, "zset": _zset_size, "stream": _stream_size,
}


def _string_size(value: bytes | bytearray, samples: int) -> int:
    return _block(_getsizeof(value))


def _other_size(value: Any, samples: int) -> int:
    size = _block(_getsizeof(value))
    try:
        size += len(value) * 64
    except TypeError:
        pass
    return size


# Python class -> sizer, filled in on first sight of each class (types register at import).
_SIZER_BY_CLASS: dict[type, Any] = {bytes: _string_size, bytearray: _string_size}


def value_bytes(value: Any, samples: int = MEMORY_USAGE_SAMPLES) -> int:
    """The estimated memory of a stored value (objectComputeSize): collections sample
    ``samples`` elements for their average size (0: all of them)."""
    kind = type(value)
    sizer = _SIZER_BY_CLASS.get(kind)
    if sizer is None:
        sizer = _SIZER_BY_CLASS[kind] = _SIZERS.get(TYPE_NAMES.get(kind, ""), _other_size)
    return sizer(value, samples)


def key_bytes(key: bytes, value: Any, samples: int = MEMORY_USAGE_SAMPLES) -> int:
    """MEMORY USAGE's figure: the key, its dict slot and the value."""
    return _block(_getsizeof(key)) + DICT_SLOT_BYTES + value_bytes(value, samples)


# -----------------------------------------------------------------------------------------
# Accounting
# -----------------------------------------------------------------------------------------

class MemoryAccounting:
    """``used_memory`` and its parts for one engine (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tracking = False
        self.sizes: list[dict[bytes, int]] = []     # per database: key -> estimated bytes
        self.db_totals: list[int] = []
        self.total = 0
        self.peak = 0
        self.rng = random.Random(0)
        # While tracking: past this dataset size, on_near_limit() runs (engine/eviction.py
        # then checks memory before every command).
        self.near_limit = 1 << 62
        self.on_near_limit: Any = None
        self.expires_cached = 0         # expires_bytes() as of the last cron tick

    # -- incremental tracking (maxmemory > 0) ----------------------------------------------

    def start_tracking(self) -> None:
        """Keep every key's estimate from now on (one scan of the keyspace)."""
        if self.tracking:
            return
        self.tracking = True
        self.sizes = [{} for _ in self.engine.databases]
        self.db_totals = [0] * len(self.engine.databases)
        self.total = 0
        for db in self.engine.databases:
            self.rescan(db)
        engine = self.engine
        engine.key_modified_hooks.append(self.key_modified)
        engine.db_flushed_hooks.append(self.db_flushed)

    def stop_tracking(self) -> None:
        """Forget the per-key estimates (maxmemory back to 0)."""
        if not self.tracking:
            return
        self.tracking = False
        engine = self.engine
        engine.key_modified_hooks.remove(self.key_modified)
        engine.db_flushed_hooks.remove(self.db_flushed)
        self.sizes = []
        self.db_totals = []
        self.total = 0

    def rescan(self, db: Database) -> None:
        """Recompute one database's estimates from scratch (after a load, or a mismatch)."""
        sizes = {key: key_bytes(key, value, ACCOUNTING_SAMPLES) for key, value in db.data.items()}
        db_total = sum(sizes.values())
        self.total += db_total - self.db_totals[db.id]
        self.db_totals[db.id] = db_total
        self.sizes[db.id] = sizes
        if self.total + self.expires_cached > self.near_limit and self.on_near_limit is not None:
            self.on_near_limit()

    def key_modified(self, db: Database, key: bytes) -> None:
        """A key was written, created or deleted: update its estimate (O(samples))."""
        sizes = self.sizes[db.id]
        value = db.data.get(key)
        if value is None:
            new = 0
            old = sizes.pop(key, 0)
        else:
            # key_bytes(), inline for the common string value.
            new = ((_getsizeof(key) + 15) & ~15) + DICT_SLOT_BYTES
            if type(value) is bytes:
                new += (_getsizeof(value) + 15) & ~15
            else:
                # One sampled element per write keeps this O(1) and cheap; MEMORY USAGE samples 5.
                new += value_bytes(value, ACCOUNTING_SAMPLES)
            old = sizes.get(key, 0)
            sizes[key] = new
        if new != old:
            self.db_totals[db.id] += new - old
            self.total += new - old
            if self.total + self.expires_cached > self.near_limit and self.on_near_limit is not None:
                self.on_near_limit()

    def db_flushed(self, db: Database) -> None:
        self.total -= self.db_totals[db.id]
        self.db_totals[db.id] = 0
        self.sizes[db.id] = {}

    def databases_swapped(self, first: Database, second: Database) -> None:
        if not self.tracking:
            return
        sizes, totals = self.sizes, self.db_totals
        sizes[first.id], sizes[second.id] = sizes[second.id], sizes[first.id]
        totals[first.id], totals[second.id] = totals[second.id], totals[first.id]

    def cron(self) -> None:
        """Catch up with keys stored without the write hooks (a load from disk fills the dicts
        directly): a database whose key count differs from its estimates is scanned again."""
        if self.tracking:
            self.expires_cached = self.expires_bytes()
            for db in self.engine.databases:
                if len(db.data) != len(self.sizes[db.id]):
                    self.rescan(db)
            if self.total + self.expires_cached > self.near_limit and self.on_near_limit is not None:
                self.on_near_limit()

    # -- the figures ----------------------------------------------------------------------

    def expires_bytes(self) -> int:
        """The TTL entries (counted apart: a TTL may be set after the write hook ran)."""
        return sum(len(db.expires) for db in self.engine.databases) * EXPIRE_ENTRY_BYTES

    def dataset_bytes(self) -> int:
        """The estimated memory of all keys, values and TTLs."""
        if self.tracking:
            return self.total + self.expires_bytes()
        total = self.expires_bytes()
        rng = self.rng
        for db in self.engine.databases:
            data = db.data
            if not data:
                continue
            # A fixed seed per dataset size: INFO answers the same for an unchanged dataset.
            rng.seed(len(data))
            keys = sample_keys(data, DATASET_SAMPLE_KEYS, rng)
            average = sum(key_bytes(key, data[key]) for key in keys if key in data) / max(len(keys), 1)
            total += int(average * len(data))
        return total

    def overhead_bytes(self) -> dict[str, int]:
        """The non-dataset parts Redis counts (MEMORY STATS names)."""
        engine = self.engine
        normal = replicas = 0
        for client in engine.clients.values():
            try:
                buffered = client.sink.output_buffer_size()
            except Exception:       # a sink without a buffer to report
                buffered = 0
            buffered += client.query_buffer_size
            if client.flags & CLIENT_REPLICA:
                replicas += buffered
            else:
                normal += buffered
        aof_state = engine.extensions.get("aof")
        aof = len(getattr(aof_state, "buf", b"") or b"")
        return {
            "replication.backlog": 0,
            "clients.slaves": replicas,
            "clients.normal": normal,
            "cluster.links": 0,
            "aof.buffer": aof,
            "lua.caches": int(engine.extensions.get("scripts_memory", 0) or 0),
            "functions.caches": 0,
        }

    def used_memory(self, overhead: dict[str, int] | None = None) -> int:
        """``used_memory``: startup + overhead + dataset; updates the peak."""
        if overhead is None:
            overhead = self.overhead_bytes() if self.engine.clients else {}
        used = STARTUP_BYTES + sum(overhead.values()) + self.dataset_bytes()
        if used > self.peak:
            self.peak = used
        return used

    def used_memory_fast(self) -> int:
        """``used_memory`` for the eviction check before each command: O(1) while tracking
        (the client buffers are not walked: Redis does not count them for eviction either
        when they are replica buffers, and normal ones are small)."""
        used = STARTUP_BYTES + self.dataset_bytes()
        if used > self.peak:
            self.peak = used
        return used


def accounting(engine: Engine) -> MemoryAccounting:
    """The engine's memory accounting (created on first use)."""
    state = engine.extensions.get("memory")
    if state is None:
        state = engine.extensions["memory"] = MemoryAccounting(engine)
    return state


# -----------------------------------------------------------------------------------------
# MEMORY
# -----------------------------------------------------------------------------------------

def memory_usage_command(client: Client, argv: list[bytes]) -> Any:
    """MEMORY USAGE key [SAMPLES count]"""
    samples = MEMORY_USAGE_SAMPLES
    j = 3
    argc = len(argv)
    while j < argc:
        if argv[j].lower() == b"samples" and j + 1 < argc:
            samples = parse_int(argv[j + 1])
            if samples < 0:
                raise RedisError(SYNTAX)
            j += 1
        else:
            raise RedisError(SYNTAX)
        j += 1
    # dictFind, as Redis: no lazy expiry, no access-time update, no hit/miss counting.
    value = client.db.data.get(argv[2])
    if value is None:
        return None
    return key_bytes(argv[2], value, samples)


def memory_stats_command(client: Client, argv: list[bytes]) -> Map:
    """MEMORY STATS"""
    from specredis.engine.info import process_rss

    engine = client.engine
    state = accounting(engine)
    overhead = state.overhead_bytes()
    used = state.used_memory(overhead)
    peak = max(state.peak, used)
    rss = process_rss()
    pairs: list[tuple[bytes, Any]] = [
        (b"peak.allocated", peak),
        (b"total.allocated", used),
        (b"startup.allocated", STARTUP_BYTES),
    ]
    pairs.extend((name.encode(), value) for name, value in overhead.items())
    overhead_total = STARTUP_BYTES + sum(overhead.values())
    keys = 0
    for db in engine.databases:
        if not db.data:
            continue
        main = _getsizeof(db.data)
        expires = _getsizeof(db.expires) if db.expires else 0
        overhead_total += main + expires
        keys += len(db.data)
        pairs.append((b"db.%d" % db.id, Map([(b"overhead.hashtable.main", main),
                                               (b"overhead.hashtable.expires", expires),
                                               (b"overhead.hashtable.slot-to-keys", 0)])))
    net = used - STARTUP_BYTES
    dataset = max(used - overhead_total, 0)
    pairs.extend([
        (b"overhead.total", overhead_total),
        (b"keys.count", keys),
        (b"keys.bytes-per-key", net // keys if keys else 0),
        (b"dataset.bytes", dataset),
        (b"dataset.percentage", Double(dataset * 100.0 / net if net > 0 else 0.0)),
        (b"peak.percentage", Double(used * 100.0 / peak if peak else 0.0)),
        # No allocator statistics without jemalloc: the allocator figures are ours.
        (b"allocator.allocated", used),
        (b"allocator.active", used),
        (b"allocator.resident", used),
        (b"allocator-fragmentation.ratio", Double(1.0)),
        (b"allocator-fragmentation.bytes", 0),
        (b"allocator-rss.ratio", Double(1.0)),
        (b"allocator-rss.bytes", 0),
        (b"rss-overhead.ratio", Double(rss / used if used else 1.0)),
        (b"rss-overhead.bytes", rss - used),
        (b"fragmentation", Double(rss / used if used else 1.0)),
        (b"fragmentation.bytes", rss - used),
    ])
    return Map(pairs)


DOCTOR_EMPTY = ("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be "
                "used in these conditions. Please, leave for your mission on Earth and fill it with some data. "
                "The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
DOCTOR_OK = ("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on "
             "this base.\n")
DOCTOR_PEAK = (" * Peak memory: In the past this instance used more than 150% the memory that is currently "
               "using. The allocator is normally not able to release memory after a peak, so you can expect to "
               "see a big fragmentation ratio, however this is actually harmless and is only due to the memory "
               "peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the "
               "memory will be used as soon as you fill the Redis instance with more data. If the memory peak "
               "was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, "
               "otherwise the only other option is to shutdown and restart the instance.\n\n")
DOCTOR_CLIENTS = (" * Big client buffers: The clients output buffers in this instance are greater than 200K per "
                  "client (on average). This may result from different causes, like Pub/Sub clients subscribed "
                  "to channels bot not receiving data fast enough, so that data piles on the Redis instance "
                  "output buffer, or clients sending commands with large replies or very large sequences of "
                  "commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the "
                  "issue if it causes problems in your instance, or to understand better why certain clients "
                  "are using a big amount of memory.\n\n")
DOCTOR_REPLICA_CLIENTS = (" * Big replica buffers: The replica output buffers in this instance are greater than "
                          "10MB for each replica (on average). This likely means that there is some replica "
                          "instance that is struggling receiving data, either because it is too slow or because "
                          "of networking issues. As a result, data piles on the master output buffers. Please "
                          "try to identify what replica is not receiving data correctly and why. You can use the "
                          "INFO output in order to check the replicas delays and the CLIENT LIST command to check "
                          "the output buffers of each replica.\n\n")
_DOCTOR_MIN_BYTES = 5 * 1024 * 1024


def memory_doctor_report(engine: Engine) -> str:
    """MEMORY DOCTOR's text (getMemoryDoctorReport), from the figures this server has: the
    peak, and client buffers. (Allocator fragmentation checks need jemalloc's figures.)"""
    state = accounting(engine)
    overhead = state.overhead_bytes()
    used = state.used_memory(overhead)
    if used < _DOCTOR_MIN_BYTES:
        return DOCTOR_EMPTY
    issues = []
    if state.peak / used > 1.5:
        issues.append(DOCTOR_PEAK)
    clients = [c for c in engine.clients.values() if not c.flags & CLIENT_REPLICA]
    replicas = len(engine.clients) - len(clients)
    if clients and overhead["clients.normal"] / len(clients) > 200 * 1024:
        issues.append(DOCTOR_CLIENTS)
    if replicas and overhead["clients.slaves"] / replicas > 10 * 1024 * 1024:
        issues.append(DOCTOR_REPLICA_CLIENTS)
    if not issues:
        return DOCTOR_OK
    return ("Sam, I detected a few issues in this Redis instance memory implants:\n\n" + "".join(issues)
            + "I'm here to keep you safe, Sam. I want to help you.\n")


def memory_doctor_command(client: Client, argv: list[bytes]) -> Any:
    """MEMORY DOCTOR"""
    from specredis.protocol.replies import Verbatim

    return Verbatim(memory_doctor_report(client.engine), "txt")


def memory_malloc_stats_command(client: Client, argv: list[bytes]) -> bytes:
    """MEMORY MALLOC-STATS"""
    # Redis built without jemalloc (mem_allocator: libc, as INFO reports here) answers this.
    return b"Stats not supported for the current allocator"


_libc_trim: Any = None


def _malloc_trim() -> None:
    global _libc_trim
    if _libc_trim is None:
        try:
            _libc_trim = ctypes.CDLL("libc.so.6").malloc_trim
            _libc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _libc_trim = False
    if _libc_trim:
        _libc_trim(0)


def memory_purge_command(client: Client, argv: list[bytes]) -> Any:
    """MEMORY PURGE"""
    # The collectable garbage first, then hand free heap pages back to the system.
    gc.collect()
    _malloc_trim()
    return OK


MEMORY_HELP = (
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
)


def memory_help_command(client: Client, argv: list[bytes]) -> list:
    """MEMORY HELP"""
    return help_reply(argv, MEMORY_HELP)


def info_memory_fields(engine: Engine) -> list[tuple[str, Any]]:
    """INFO memory's accounting fields (they replace the RSS-based defaults of engine/info.py)."""
    from specredis.engine.info import bytes_to_human, process_rss

    state = accounting(engine)
    overhead = state.overhead_bytes()
    used = state.used_memory(overhead)
    peak = max(state.peak, used)
    rss = process_rss()
    overhead_total = STARTUP_BYTES + sum(overhead.values())
    for db in engine.databases:
        if db.data:
            overhead_total += _getsizeof(db.data) + (_getsizeof(db.expires) if db.expires else 0)
    overhead_total = min(overhead_total, used)
    dataset = used - overhead_total
    net = used - STARTUP_BYTES
    return [
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", bytes_to_human(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", bytes_to_human(peak)),
        ("used_memory_peak_perc", f"{used * 100 / peak if peak else 100:.2f}%"),
        ("used_memory_overhead", overhead_total),
        ("used_memory_startup", STARTUP_BYTES),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", f"{dataset * 100 / net if net > 0 else 0:.2f}%"),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", rss),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", f"{rss / used if used else 1.0:.2f}"),
        ("allocator_rss_bytes", rss - used),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        # The interpreter's own memory is in the RSS, not in used_memory: this ratio is high.
        ("mem_fragmentation_ratio", f"{rss / used if used else 1.0:.2f}"),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_clients_slaves", overhead["clients.slaves"]),
        ("mem_clients_normal", overhead["clients.normal"]),
    ]


def install(engine: Engine) -> None:
    """Give ``engine`` its memory accounting (incremental tracking starts with maxmemory)."""
    state = accounting(engine)
    engine.cron_hooks.append(state.cron)
    engine.extensions.setdefault("swapdb_hooks", []).append(state.databases_swapped)
    engine.extensions.setdefault("info_fields", {}).setdefault("memory", []).append(info_memory_fields)
