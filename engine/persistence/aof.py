"""The append-only file, as Redis 7.0 keeps it: a multi-part AOF in ``appenddirname``.

**Feeding.** The engine's propagation (``engine.propagation_consumers``) hands every
write already in its deterministic form (SET PXAT, PEXPIREAT, SREM for SPOP, MULTI/EXEC
around transactions and script effects); :meth:`Aof.feed` appends it, in RESP, to the
AOF buffer, with a SELECT whenever the database changes and, with
``aof-timestamp-enabled``, a ``#TS:<unix time>`` annotation once a second.

**Writing.** The buffer is written to the current incr file before any reply leaves
the server (``engine.extensions["before_reply_flush"]``, called by the server before it
writes to a socket, as Redis writes the buffer in beforeSleep), so an acknowledged
write is in the file. ``appendfsync always`` fsyncs there too, before the reply;
``everysec`` has a background thread fsync once a second (the event loop never waits
on the disk, unless a fsync takes more than two seconds: then writes are postponed
and ``aof_delayed_fsync`` counts it); ``no`` leaves it to the kernel. A write error
stops write commands (MISCONF) until a later write succeeds; with ``always`` the
server exits, as Redis does.

**Rewriting.** BGREWRITEAOF (and CONFIG SET appendonly yes, and the growth check of
``auto-aof-rewrite-percentage``/``-min-size`` in the cron) forks a child through the
persistence module's one-child rule. The parent first opens a new incr file, so every
write made while the child works lands in a file the new AOF keeps; the child writes
the dataset it sees (an RDB with ``aof-use-rdb-preamble yes``, else commands) to
``temp-rewriteaof-bg-<pid>.aof``; when it is reaped the parent renames it into the AOF
directory as the next base, turns the incr files it covers into history, persists the
manifest and deletes the history files (unless ``aof-disable-auto-gc``). While AOF is
being switched on, writes go to ``temp-<appendfilename>.incr``, renamed when the
rewrite is done.

**Loading** (startup, DEBUG LOADAOF) reads the base, then each incr file in manifest
order, and runs each command with a fake client, as Redis does (no gates, no command
statistics, no propagation). A torn last command is dropped and the file truncated
when ``aof-load-truncated yes`` (only the last file may be torn); an unfinished
MULTI at the end is reverted the same way; anything else malformed stops the server
with Redis's messages. An old single ``appendonly.aof`` in ``dir`` is moved into the
AOF directory as its base, as Redis 7's upgrade does.
"""

from __future__ import annotations

import errno
import mmap
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hiredis import pack_command as _pack_command

from specredis.engine.args import c_strtol
from specredis.engine.client import CLIENT_MASTER, CLIENT_MULTI, Client, CollectingSink
from specredis.engine.command import CMD_WRITE
from specredis.engine.config import ConfigError, to_c_int
from specredis.engine.errors import RedisError
from specredis.engine.persistence.aof_manifest import (
    AofInfo,
    Manifest,
    ManifestError,
    manifest_name,
    temp_incr_name,
)
from specredis.engine.settings import on_change
from specredis.protocol.replies import OK, ErrorReply, Status
from specredis.util.log import LOGGER, log

if TYPE_CHECKING:
    from specredis.engine.command import CommandDef
    from specredis.engine.core import Engine

# server.aof_state
AOF_OFF = 0
AOF_ON = 1
AOF_WAIT_REWRITE = 2

# Results of loading a file or the whole AOF (AOF_OK ... AOF_TRUNCATED in server.h).
LOAD_OK = "ok"
LOAD_NOT_EXIST = "not-exist"
LOAD_EMPTY = "empty"
LOAD_OPEN_ERR = "open-error"
LOAD_FAILED = "failed"
LOAD_TRUNCATED = "truncated"

REWRITE_ITEMS_PER_CMD = 64              # AOF_REWRITE_ITEMS_PER_CMD
ANNOTATION_LINE_MAX_LEN = 1024          # fgets() buffer of the loader
WRITE_LOG_ERROR_RATE_S = 30             # AOF_WRITE_LOG_ERROR_RATE
REWRITE_LIMIT_THRESHOLD = 3             # consecutive failures before rewrites are delayed
REWRITE_LIMIT_MAX_MINUTES = 60
FSYNC_POSTPONE_S = 2                    # everysec: how long a write may wait for a busy fsync
AUTOSYNC_BYTES = 4 * 1024 * 1024        # REDIS_AUTOSYNC_BYTES (aof-rewrite-incremental-fsync)
LOAD_EVENTS_EVERY = 1024                # commands between two processEventsWhileBlocked
_SELECT = b"*2\r\n$6\r\nSELECT\r\n"
# Errors Redis replies with shared objects (their log lines keep the '-' and the code).
_SHARED_ERRORS = frozenset({"ERR", "ERR syntax error", "ERR no such key", "ERR index out of range",
                            "ERR source and destination objects are the same"})


def strerror(code: int) -> str:
    """C's strerror text for an errno."""
    return os.strerror(code)


def fatal_exit() -> None:
    """exit(1) where Redis gives up at once (the event loop must not catch it): logs are
    flushed, nothing else runs."""
    try:
        LOGGER.stream.flush()
    except (OSError, ValueError):
        pass
    os._exit(1)


# -----------------------------------------------------------------------------------------
# RESP encoding of commands
# -----------------------------------------------------------------------------------------

def _as_bytes(arg: Any) -> bytes:
    kind = type(arg)
    if kind is bytes:
        return arg
    if kind is bytearray or kind is memoryview:
        return bytes(arg)
    if kind is int:
        return b"%d" % arg
    if kind is str:
        return arg.encode("utf-8", "surrogateescape")
    return bytes(arg)


def encode_command(argv: list[Any]) -> bytes:
    """``argv`` as a RESP array of bulk strings (catAppendOnlyGenericCommand)."""
    try:
        return _pack_command(tuple(argv))       # hiredis, in C (bytes, str and numbers)
    except TypeError:
        pass
    parts = [b"*%d\r\n" % len(argv)]
    append = parts.append
    for arg in argv:
        if type(arg) is not bytes:
            arg = _as_bytes(arg)
        append(b"$%d\r\n" % len(arg))
        append(arg)
        append(b"\r\n")
    return b"".join(parts)


def select_command(dbid: int) -> bytes:
    """``SELECT <dbid>`` as the AOF writes it."""
    digits = b"%d" % dbid
    return _SELECT + b"$%d\r\n%s\r\n" % (len(digits), digits)


def timestamp_annotation(unix_s: int) -> bytes:
    """The ``#TS:<unix time>`` line of aof-timestamp-enabled."""
    return b"#TS:%d\r\n" % unix_s


# -----------------------------------------------------------------------------------------
# The rewrite: the dataset as commands (rewriteAppendOnlyFileRio)
# -----------------------------------------------------------------------------------------

def _format_score(score: float) -> bytes:
    # rioWriteBulkDouble: "%.17g".
    return b"%.17g" % score


def _batched(command: bytes, key: bytes, items: list[bytes], per_item: int,
             write: Callable[[bytes], None]) -> None:
    """``command key item...`` in commands of at most REWRITE_ITEMS_PER_CMD items, where an
    item is ``per_item`` arguments (two for a field and its value)."""
    step = REWRITE_ITEMS_PER_CMD * per_item
    for start in range(0, len(items), step):
        write(encode_command([command, key, *items[start:start + step]]))


def rewrite_value(key: bytes, value: Any, write: Callable[[bytes], None]) -> None:
    """The commands that rebuild ``value`` at ``key`` (the type's rewrite*Object)."""
    kind = type(value)
    if kind is bytes or kind is bytearray:
        write(encode_command([b"SET", key, value]))
        return
    from specredis.engine.keyspace import type_name

    name = type_name(value)
    if name == "list":
        _batched(b"RPUSH", key, list(value), 1, write)
    elif name == "set":
        _batched(b"SADD", key, list(value.items), 1, write)
    elif name == "zset":
        flat: list[bytes] = []
        for score, member in value.ordered:
            flat.append(_format_score(score))
            flat.append(member)
        _batched(b"ZADD", key, flat, 2, write)
    elif name == "hash":
        flat = []
        for field, field_value in value.items():
            flat.append(field)
            flat.append(field_value)
        _batched(b"HMSET", key, flat, 2, write)
    elif name == "stream":
        _rewrite_stream(key, value, write)
    else:
        raise ValueError(f"Unknown object type {name}")


def _rewrite_stream(key: bytes, stream: Any, write: Callable[[bytes], None]) -> None:
    """rewriteStreamObject: XADDs (or an emptied XADD), XSETID, groups, consumers, PELs."""
    from specredis.engine.streamid import format_id

    if stream.length:
        for stream_id, node, index in stream.iter_ids():
            write(encode_command([b"XADD", key, format_id(stream_id), *node.pairs(node.items[index])]))
    else:
        # An empty stream: add an entry and trim it at once, so the key exists.
        write(encode_command([b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]))
    write(encode_command([b"XSETID", key, format_id(stream.last_id), b"ENTRIESADDED", b"%d" % stream.entries_added,
                          b"MAXDELETEDID", format_id(stream.max_deleted)]))
    for group_name in sorted(stream.groups or ()):
        group = stream.groups[group_name]
        write(encode_command([b"XGROUP", b"CREATE", key, group_name, format_id(group.last_id), b"ENTRIESREAD",
                              b"%d" % group.entries_read]))
        for consumer in group.sorted_consumers():
            if not consumer.pel:
                write(encode_command([b"XGROUP", b"CREATECONSUMER", key, group_name, consumer.name]))
                continue
            for stream_id, nack in consumer.pel.items():
                write(encode_command([b"XCLAIM", key, group_name, consumer.name, b"0", format_id(stream_id),
                                      b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT",
                                      b"%d" % nack.delivery_count, b"JUSTID", b"FORCE"]))


def rewrite_dataset(engine: Engine, write: Callable[[bytes], None], timestamp: int | None = None,
                    key_delay_us: int = 0) -> int:
    """Write the whole dataset of ``engine`` as commands; returns the number of keys.

    ``timestamp`` (aof-timestamp-enabled) starts the file with a ``#TS:`` annotation;
    ``key_delay_us`` (rdb-key-save-delay, a testing knob) slows the rewrite down per key."""
    if timestamp is not None:
        write(timestamp_annotation(timestamp))
    functions = engine.extensions.get("functions")
    if functions is not None:
        for library in functions.libraries.values():
            write(encode_command([b"FUNCTION", b"LOAD", library.code]))
    keys = 0
    for db in engine.databases:
        data = db.data
        if not data:
            continue
        write(select_command(db.id))
        expires = db.expires
        for key, value in data.items():
            rewrite_value(key, value, write)
            if expires:
                when = expires.get(key)
                if when is not None:
                    write(encode_command([b"PEXPIREAT", key, b"%d" % when]))
            keys += 1
            if key_delay_us:
                time.sleep(key_delay_us / 1_000_000 if key_delay_us > 0 else -key_delay_us / 1_000_000_000)
    return keys


class _SyncingWriter:
    """Buffered writes to a file descriptor, fsynced every ``fsync_every`` bytes (rioSetAutoSync)."""

    def __init__(self, fd: int, fsync_every: int) -> None:
        self.fd = fd
        self.fsync_every = fsync_every
        self.parts: list[bytes] = []
        self.buffered = 0
        self.since_fsync = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.buffered += len(data)
        if self.buffered >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        _write_all(self.fd, b"".join(self.parts))
        self.since_fsync += self.buffered
        self.parts = []
        self.buffered = 0
        if self.fsync_every and self.since_fsync >= self.fsync_every:
            os.fdatasync(self.fd)
            self.since_fsync = 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_base_file(engine: Engine, path: str, rdb_preamble: bool, timestamps: bool,
                    incremental_fsync: bool, now_s: int) -> None:
    """rewriteAppendOnlyFile: the dataset into ``temp-rewriteaof-<pid>.aof`` next to ``path``,
    fsynced and renamed to ``path``. OSError on failure (the temp file is removed)."""
    directory = os.path.dirname(path)
    temp = os.path.join(directory, f"temp-rewriteaof-{os.getpid()}.aof")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        fsync_every = AUTOSYNC_BYTES if incremental_fsync else 0
        if rdb_preamble:
            from specredis.engine.persistence.rdb_save import write_rdb

            with os.fdopen(os.dup(fd), "wb", buffering=1 << 20) as handle:
                write_rdb(engine, handle, aof_base=True, fsync_every=fsync_every)
        else:
            writer = _SyncingWriter(fd, fsync_every)
            rewrite_dataset(engine, writer.write, now_s if timestamps else None,
                            engine.config.values["rdb-key-save-delay"])
            writer.flush()
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_quietly(temp)
        raise
    os.close(fd)
    try:
        os.replace(temp, path)
    except OSError:
        _unlink_quietly(temp)
        raise


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# -----------------------------------------------------------------------------------------
# Background fsync and close (Redis's bio thread for AOF jobs)
# -----------------------------------------------------------------------------------------

class BackgroundJobs:
    """One thread that fsyncs and closes AOF file descriptors off the event loop."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.pending_fsyncs = 0
        self.fsync_ok = True            # aof_bio_fsync_status
        self.fsync_errno = 0
        self.thread: threading.Thread | None = None

    def _start(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._run, name="aof-fsync", daemon=True)
            self.thread.start()

    def fsync(self, fd: int) -> None:
        """Queue a fsync of ``fd`` (BIO_AOF_FSYNC)."""
        with self.lock:
            self.pending_fsyncs += 1
        self._start()
        self.jobs.put(("fsync", fd))

    def fsync_and_close(self, fd: int) -> None:
        """Queue a fsync then a close of ``fd`` (BIO_CLOSE_AOF)."""
        self._start()
        self.jobs.put(("close", fd))

    def in_progress(self) -> bool:
        return self.pending_fsyncs != 0

    def drain(self) -> None:
        """Wait until every queued job is done (bioDrainWorker)."""
        if self.thread is None or not self.thread.is_alive():
            return
        done = threading.Event()
        self.jobs.put(("mark", done))
        done.wait()

    def _run(self) -> None:
        while True:
            kind, arg = self.jobs.get()
            if kind == "mark":
                arg.set()
                continue
            try:
                os.fdatasync(arg)
                if kind == "fsync":
                    self.fsync_ok = True
            except OSError as error:
                # The descriptor may have been closed meanwhile: not a failed fsync.
                if kind == "fsync" and error.errno not in (errno.EBADF, errno.EINVAL):
                    if self.fsync_ok:
                        log("warning", f"Fail to fsync the AOF file: {strerror(error.errno)}")
                    self.fsync_ok = False
                    self.fsync_errno = error.errno
            if kind == "close":
                try:
                    os.close(arg)
                except OSError:
                    pass
            else:
                with self.lock:
                    self.pending_fsyncs -= 1


# -----------------------------------------------------------------------------------------
# The AOF state
# -----------------------------------------------------------------------------------------

def _in_exec(engine: Engine) -> bool:
    """A transaction is running its commands (server.in_exec): EXEC is the last command looked
    up for a client still flagged MULTI."""
    for client in engine.clients.values():
        if client.flags & CLIENT_MULTI and client.last_command is not None \
                and client.last_command.fullname == "exec":
            return True
    return False


class Aof:
    """The AOF of one engine (the server.aof_* fields of Redis)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        config = engine.config.values
        self.state = AOF_ON if config["appendonly"] else AOF_OFF
        self.fd = -1
        self.buf = bytearray()
        self.selected_db = -1
        self.transaction: list[tuple[int, list[bytes]]] | None = None   # a MULTI held until its EXEC
        self.transaction_depth = 0
        self.timestamps = bool(config["aof-timestamp-enabled"])
        self.manifest = Manifest()
        self.manifest_loaded = False
        self.current_size = 0
        self.last_incr_size = 0
        self.rewrite_base_size = 0
        self.fsync_offset = 0
        self.last_fsync_s = 0
        self.cur_timestamp = 0
        self.flush_postponed_start = 0
        self.delayed_fsync = 0
        self.rewrite_scheduled = False
        self.rewrite_time_start = -1
        self.rewrite_time_last = -1
        self.last_bgrewrite_ok = True
        self.rewrites = 0
        self.consecutive_failures = 0
        self.last_write_ok = True
        self.last_write_errno = 0
        self.last_write_error_log = 0
        self.last_cow_size = 0
        self._progress_offset = 0           # bytes of the AOF files loaded before the current one
        self.child: Any = None              # the persistence module's ChildProcess of our rewrite
        self.limit_delay_minutes = 0
        self.limit_next_rewrite = 0
        self.gate_installed = False
        self.bio = BackgroundJobs()
        if self.state != AOF_OFF:
            self._register_feed()

    # -- configuration and paths ------------------------------------------------------------

    @property
    def prefix(self) -> str:
        return self.engine.config.values["appendfilename"]

    def base_dir(self) -> str:
        """``dir`` (the server's working directory once set)."""
        return self.engine.config.values["dir"] or "."

    def aof_dir(self) -> str:
        return os.path.join(self.base_dir(), self.engine.config.values["appenddirname"])

    def path(self, name: str) -> str:
        """A file of the AOF directory."""
        return os.path.join(self.aof_dir(), name)

    def now_s(self) -> int:
        return self.engine.clock() // 1000

    def fsync_policy(self) -> str:
        return self.engine.config.values["appendfsync"]

    def persistence(self) -> Any:
        return self.engine.extensions.get("persistence")

    def has_active_child(self) -> bool:
        persistence = self.persistence()
        return persistence is not None and persistence.has_active_child()

    def rewrite_in_progress(self) -> bool:
        persistence = self.persistence()
        child = persistence.child if persistence is not None else None
        return child is not None and child.kind == "aof"

    # -- feeding (feedAppendOnlyFile) -------------------------------------------------------

    def _register_feed(self) -> None:
        """Receive propagated writes, and write them before replies go out (AOF on)."""
        consumers = self.engine.propagation_consumers
        if self.feed not in consumers:
            consumers.append(self.feed)
        self.engine.extensions["before_reply_flush"] = self.before_reply

    def _unregister_feed(self) -> None:
        """AOF off: the propagation path and the server's writes pay nothing for it."""
        self.engine.extensions.pop("before_reply_flush", None)
        try:
            self.engine.propagation_consumers.remove(self.feed)
        except ValueError:
            pass        # EXEC swapped the list while its commands run: the cron tidies up

    def feed(self, dbid: int, ops: list[list[bytes]]) -> None:
        """A propagation consumer: append ``ops`` (run in database ``dbid``) to the AOF buffer.

        A transaction (MULTI ... EXEC from EXEC or a script) is held until its EXEC and
        written wrapped in MULTI/EXEC only if more than one of its commands goes to the
        AOF, as Redis 7.0 writes it."""
        state = self.state
        if state != AOF_ON and (state != AOF_WAIT_REWRITE or not self.rewrite_in_progress()):
            return
        for argv in ops:
            size = len(argv[0])
            # Only PUBLISH, SPUBLISH, MULTI and EXEC need a look (names of 4, 5, 7 and 8 bytes).
            if 4 <= size <= 8 and size != 6 and self._special(argv):
                continue
            if self.transaction is not None:
                self.transaction.append((dbid, argv))
            elif dbid == self.selected_db and not self.timestamps:
                try:
                    self.buf += _pack_command(tuple(argv))
                except TypeError:
                    self.buf += encode_command(argv)
            else:
                self._append(dbid, argv)

    def _special(self, argv: list[bytes]) -> bool:
        """PUBLISH is never written; MULTI and EXEC start and end a held transaction."""
        lowered = argv[0].lower()
        if lowered == b"publish" or lowered == b"spublish":
            # Forced to replicas only (forceCommandPropagation(c, PROPAGATE_REPL)):
            # Redis never writes a PUBLISH into its AOF.
            return True
        if len(argv) == 1 and (lowered == b"multi" or lowered == b"exec"):
            self._transaction_marker(lowered == b"multi")
            return True
        return False

    def _transaction_marker(self, begin: bool) -> None:
        if begin:
            if self.transaction is None:
                self.transaction = []
            else:
                self.transaction_depth += 1     # nested: flattened into the outer one
            return
        if self.transaction_depth:
            self.transaction_depth -= 1
            return
        ops, self.transaction = self.transaction or [], None
        if len(ops) > 1:
            self._append(ops[0][0], [b"MULTI"])
            for dbid, argv in ops:
                self._append(dbid, argv)
            self._append(ops[-1][0], [b"EXEC"])
        elif ops:
            self._append(*ops[0])

    def _append(self, dbid: int, argv: list[bytes]) -> None:
        """feedAppendOnlyFile for one command: annotation, SELECT if needed, the command."""
        buf = self.buf
        if self.timestamps:
            now = self.now_s()
            if self.cur_timestamp < now:
                self.cur_timestamp = now
                buf += timestamp_annotation(now)
        if dbid != self.selected_db:
            buf += select_command(dbid)
            self.selected_db = dbid
        buf += encode_command(argv)

    # -- writing (flushAppendOnlyFile) --------------------------------------------------------

    def before_reply(self) -> None:
        """Write (and with ``always`` fsync) the buffer before replies go out (beforeSleep)."""
        if self.buf:
            self.flush(False)

    def flush(self, force: bool) -> None:
        """Write the AOF buffer to the current file and fsync as the policy says."""
        if self.fd == -1:
            return
        policy = self.fsync_policy()
        now = self.now_s()
        if not self.buf:
            # Nothing to write, but an everysec fsync may be due for what earlier calls wrote.
            if policy == "everysec" and self.fsync_offset != self.current_size and \
                    now > self.last_fsync_s and not self.bio.in_progress():
                self._fsync_in_background(now)
            return
        if policy == "everysec" and not force and self.bio.in_progress():
            if not self.flush_postponed_start:
                self.flush_postponed_start = now
                return
            if now - self.flush_postponed_start < FSYNC_POSTPONE_S:
                return
            self.delayed_fsync += 1
            log("notice", "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF "
                          "buffer without waiting for fsync to complete, this may slow down Redis.")
        buf = self.buf
        written, error_code = self._write(buf)
        if written != len(buf):
            self._write_failed(written, error_code, now)
            return
        if not self.last_write_ok:
            log("warning", "AOF write error looks solved, Redis can write again.")
            self._set_write_ok(True)
        self.flush_postponed_start = 0
        self.current_size += written
        self.last_incr_size += written
        self.buf = bytearray()
        if self.engine.config.values["no-appendfsync-on-rewrite"] and self.has_active_child():
            return
        if policy == "always":
            try:
                os.fdatasync(self.fd)
            except OSError as error:
                log("warning", f"Can't persist AOF for fsync error when the AOF fsync policy is 'always': "
                               f"{strerror(error.errno)}. Exiting...")
                fatal_exit()
            self.fsync_offset = self.current_size
            self.last_fsync_s = now
        elif policy == "everysec" and now > self.last_fsync_s:
            if not self.bio.in_progress():
                self._fsync_in_background(now)

    def _fsync_in_background(self, now: int) -> None:
        self.bio.fsync(self.fd)
        self.fsync_offset = self.current_size
        self.last_fsync_s = now

    def _write(self, data: bytearray) -> tuple[int, int]:
        """aofWrite: write everything, retrying on EINTR; (bytes written, errno of a failure)."""
        try:
            total = os.write(self.fd, data)     # the whole buffer, almost always
        except InterruptedError:
            total = 0
        except OSError as error:
            return 0, error.errno or errno.EIO
        if total == len(data):
            return total, 0
        view = memoryview(data)[total:]
        while view:
            try:
                n = os.write(self.fd, view)
            except InterruptedError:
                continue
            except OSError as error:
                return total, error.errno or errno.EIO
            if n == 0:
                return total, errno.ENOSPC
            total += n
            view = view[n:]
        return total, 0

    def _write_failed(self, written: int, error_code: int, now: int) -> None:
        can_log = now - self.last_write_error_log > WRITE_LOG_ERROR_RATE_S
        if can_log:
            self.last_write_error_log = now
        if written == 0 and error_code:
            if can_log:
                log("warning", f"Error writing to the AOF file: {strerror(error_code)}")
            self.last_write_errno = error_code
        else:
            if can_log:
                log("warning", f"Short write while writing to the AOF file: (nwritten={written}, "
                               f"expected={len(self.buf)})")
            try:
                os.ftruncate(self.fd, self.last_incr_size)
                written = 0     # the partial write is gone: the whole buffer is written again
            except OSError as error:
                if can_log:
                    log("warning", "Could not remove short write from the append-only file.  Redis may refuse "
                                   f"to load the AOF the next time it starts.  ftruncate: {strerror(error.errno)}")
            self.last_write_errno = errno.ENOSPC
        if self.fsync_policy() == "always":
            # Replies already computed cannot be taken back: the contract is broken, stop.
            log("warning", "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
            fatal_exit()
        self._set_write_ok(False)
        if written > 0:
            self.current_size += written
            self.last_incr_size += written
            del self.buf[:written]

    def _set_write_ok(self, ok: bool) -> None:
        self.last_write_ok = ok
        self._update_gate()

    # -- the MISCONF gate -------------------------------------------------------------------

    def writes_denied(self) -> bool:
        """writeCommandsDeniedByDiskError, AOF part."""
        return self.state != AOF_OFF and (not self.last_write_ok or not self.bio.fsync_ok)

    def misconf_error(self) -> str:
        """The MISCONF text: the failed write's errno, else the failed background fsync's."""
        if self.last_write_ok and not self.bio.fsync_ok:
            self.last_write_errno = self.bio.fsync_errno
        return f"MISCONF Errors writing to the AOF file: {strerror(self.last_write_errno)}"

    def misconf_gate(self, client: Client, cmd: CommandDef, argv: list[bytes]) -> RedisError | None:
        """Writes (and PING) are refused while the AOF cannot be written."""
        if not self.writes_denied():
            return None
        persistence = self.persistence()
        if persistence is not None and persistence.writes_denied():
            return None         # the RDB gate answers first, as Redis checks RDB first
        flags = cmd.flags
        dynamic = self.engine.extensions.get("dynamic_command_flags")
        if dynamic is not None:
            flags = dynamic(client, cmd, argv, flags)
        if (flags & CMD_WRITE or cmd.fullname == "ping") and not client.flags & CLIENT_MASTER:
            return RedisError(self.misconf_error())
        return None

    def _update_gate(self) -> None:
        engine = self.engine
        wanted = self.writes_denied()
        if wanted and not self.gate_installed:
            engine.extensions.setdefault("gates", []).append(self.misconf_gate)
            self.gate_installed = True
            engine.update_gates()
        elif not wanted and self.gate_installed:
            gates = engine.extensions.get("gates", [])
            if self.misconf_gate in gates:
                gates.remove(self.misconf_gate)
            if not gates:
                engine.extensions.pop("gates", None)
            self.gate_installed = False
            engine.update_gates()

    # -- switching AOF on and off -------------------------------------------------------------

    def start(self) -> bool:
        """startAppendOnly (CONFIG SET appendonly yes): rewrite to create the base, then go on."""
        if not self.ensure_manifest():
            return False
        self.state = AOF_WAIT_REWRITE
        self._register_feed()
        persistence = self.persistence()
        child = persistence.child if persistence is not None else None
        if child is not None and child.kind != "aof":
            self.rewrite_scheduled = True
            log("warning", "AOF was enabled but there is already another background operation. An AOF "
                           "background was scheduled to start when possible.")
        elif _in_exec(self.engine):
            self.rewrite_scheduled = True
            log("warning", "AOF was enabled during a transaction. An AOF background was scheduled to start "
                           "when possible.")
        else:
            if child is not None:
                log("warning", "AOF was enabled but there is already an AOF rewriting in background. Stopping "
                               "background AOF and starting a rewrite now.")
                self.kill_child()
            if not self.rewrite_background():
                self.state = AOF_OFF
                self._unregister_feed()
                log("warning", "Redis needs to enable the AOF but can't trigger a background AOF rewrite "
                               "operation. Check the above logs for more info about the error.")
                return False
        self.last_fsync_s = self.now_s()
        if not self.bio.fsync_ok:
            log("warning", "AOF reopen, just ignore the AOF fsync error in bio job")
            self.bio.fsync_ok = True
        if not self.last_write_ok:
            log("warning", "AOF reopen, just ignore the last error.")
            self.last_write_ok = True
        self._update_gate()
        return True

    def stop(self) -> None:
        """stopAppendOnly (CONFIG SET appendonly no)."""
        self.flush(True)
        if self.fd != -1:
            try:
                os.fdatasync(self.fd)
                self.fsync_offset = self.current_size
                self.last_fsync_s = self.now_s()
            except OSError as error:
                log("warning", f"Fail to fsync the AOF file: {strerror(error.errno)}")
            os.close(self.fd)
        self.fd = -1
        self.selected_db = -1
        self.state = AOF_OFF
        self.rewrite_scheduled = False
        self.last_incr_size = 0
        self.kill_child()
        self.buf = bytearray()
        self._unregister_feed()
        self._update_gate()

    # -- the manifest on disk -----------------------------------------------------------------

    def ensure_manifest(self) -> bool:
        """Read the manifest once (aofLoadManifestFromDisk at startup), deleting history files;
        False (after logging why) if it is malformed."""
        if not self.manifest_loaded:
            try:
                self.load_manifest_from_disk()
            except ManifestError as error:
                for line in error.log_lines():
                    log("warning", line)
                self.manifest_loaded = False
                return False
            self.delete_history_files()
        return True

    def load_manifest_from_disk(self) -> None:
        """aofLoadManifestFromDisk; ManifestError if the manifest is malformed."""
        self.manifest = Manifest()
        self.manifest_loaded = True
        directory = self.aof_dir()
        if not os.path.isdir(directory):
            log("debug", f"The AOF directory {self.engine.config.values['appenddirname']} doesn't exist")
            return
        name = manifest_name(self.prefix)
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            log("debug", f"The AOF manifest file {name} doesn't exist")
            return
        try:
            self.manifest = Manifest.load(path)
        except OSError as error:
            raise ManifestError(f"Fatal error: can't open the AOF manifest file {path} for reading: "
                                f"{strerror(error.errno or errno.EIO)}") from None

    def persist_manifest(self, manifest: Manifest) -> bool:
        """persistAofManifest: False (and a log line) if it could not be written."""
        try:
            manifest.persist(self.aof_dir(), manifest_name(self.prefix))
        except OSError as error:
            log("warning", f"Can't persist the AOF manifest file {manifest_name(self.prefix)}: "
                           f"{strerror(error.errno or errno.EIO)}")
            return False
        return True

    def delete_history_files(self) -> bool:
        """aofDelHistoryFiles: remove history files (unless aof-disable-auto-gc)."""
        manifest = self.manifest
        if self.engine.config.values["aof-disable-auto-gc"] or not manifest.history:
            return True
        for info in manifest.history:
            log("notice", f"Removing the history file {info.file_name} in the background")
            _unlink_quietly(self.path(info.file_name))
        manifest.history = []
        return self.persist_manifest(manifest)

    def _create_dir(self) -> bool:
        try:
            os.makedirs(self.aof_dir(), exist_ok=True)
        except OSError as error:
            log("warning", f"Can't open or create append-only dir {self.engine.config.values['appenddirname']}: "
                           f"{strerror(error.errno or errno.EIO)}")
            return False
        return True

    def file_size(self, name: str) -> tuple[int, str]:
        """getAppendOnlyFileSize: (size, LOAD_OK | LOAD_NOT_EXIST | LOAD_OPEN_ERR)."""
        try:
            return os.stat(self.path(name)).st_size, LOAD_OK
        except OSError as error:
            log("warning", f"Unable to obtain the AOF file {name} length. stat: "
                           f"{strerror(error.errno or errno.EIO)}")
            return 0, LOAD_NOT_EXIST if error.errno == errno.ENOENT else LOAD_OPEN_ERR

    # -- the incr file being written ----------------------------------------------------------

    def open_new_incr_for_append(self) -> bool:
        """openNewIncrAofForAppend: writes from now on go to a new incr file (or, while AOF is
        being switched on, to the temp incr file), so a rewrite starting now loses nothing."""
        if self.state == AOF_OFF:
            return True
        temp_manifest = None
        if self.state == AOF_WAIT_REWRITE:
            name = temp_incr_name(self.prefix)
        else:
            temp_manifest = self.manifest.copy()
            name = temp_manifest.new_incr(self.prefix)
        try:
            fd = os.open(self.path(name), os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
        except OSError as error:
            log("warning", f"Can't open the append-only file {name}: {strerror(error.errno or errno.EIO)}")
            return False
        if temp_manifest is not None and not self.persist_manifest(temp_manifest):
            os.close(fd)
            return False
        log("notice", f"Creating AOF incr file {name} on background rewrite")
        if self.fd != -1:
            # Writes so far are in the old file: fsync and close it off the event loop.
            self.bio.fsync_and_close(self.fd)
            self.fsync_offset = self.current_size
            self.last_fsync_s = self.now_s()
        self.fd = fd
        self.last_incr_size = 0
        if temp_manifest is not None:
            self.manifest = temp_manifest
        return True

    # -- rewriting ---------------------------------------------------------------------------

    def rewrite_background(self) -> bool:
        """rewriteAppendOnlyFileBackground: fork a child that writes the new base file."""
        persistence = self.persistence()
        if persistence is None or persistence.has_active_child() or not self.ensure_manifest():
            return False
        if not self._create_dir():
            self.last_bgrewrite_ok = False
            return False
        # The next write names its database: the new incr file must start with a SELECT.
        self.selected_db = -1
        self.flush(True)
        if not self.open_new_incr_for_append():
            self.last_bgrewrite_ok = False
            return False
        self.rewrites += 1
        engine = self.engine
        values = engine.config.values
        rdb_preamble = bool(values["aof-use-rdb-preamble"])
        timestamps = bool(values["aof-timestamp-enabled"])
        incremental = bool(values["aof-rewrite-incremental-fsync"])
        base_dir = self.base_dir()
        now = self.now_s()

        def work(report: Callable[[int], None]) -> int:
            temp = os.path.join(base_dir, f"temp-rewriteaof-bg-{os.getpid()}.aof")
            try:
                write_base_file(engine, temp, rdb_preamble, timestamps, incremental, now)
            except OSError as error:
                log("warning", f"Write error writing append only file on disk: {strerror(error.errno or errno.EIO)}")
                return 1
            log("notice", f"Successfully created the temporary AOF base file {os.path.basename(temp)}")
            from specredis.engine.persistence.snapshot import private_dirty_bytes

            cow_mb = private_dirty_bytes() >> 20
            log("notice", f"Fork CoW for AOF rewrite: current {cow_mb} MB, peak {cow_mb} MB, average {cow_mb} MB")
            return 0

        try:
            pid = persistence.fork_child("aof", work, self._rewrite_done)
        except OSError as error:
            self.last_bgrewrite_ok = False
            log("warning", f"Can't rewrite append only file in background: fork: {strerror(error.errno or 0)}")
            return False
        self.child = persistence.child
        log("notice", f"Background append only file rewriting started by pid {pid}")
        self.rewrite_scheduled = False
        self.rewrite_time_start = now
        return True

    def _temp_rewrite_path(self, pid: int) -> str:
        return os.path.join(self.base_dir(), f"temp-rewriteaof-bg-{pid}.aof")

    def _remove_temp_files(self, pid: int) -> None:
        """aofRemoveTempFile."""
        _unlink_quietly(self._temp_rewrite_path(pid))
        _unlink_quietly(os.path.join(self.base_dir(), f"temp-rewriteaof-{pid}.aof"))

    def _rewrite_done(self, exitcode: int, bysignal: int) -> None:
        """backgroundRewriteDoneHandler: install the new base, or record the failure."""
        child = self.child
        self.child = None
        pid = child.pid if child is not None else 0
        if child is not None:
            self.last_cow_size = child.cow_size
        if not bysignal and exitcode == 0:
            log("notice", "Background AOF rewrite terminated with success")
            self._install_rewrite(pid)
        elif not bysignal:
            self.last_bgrewrite_ok = False
            self.consecutive_failures += 1
            log("warning", "Background AOF rewrite terminated with error")
        else:
            # SIGUSR1 is how the server itself stops a rewrite: not a failure.
            if bysignal != signal.SIGUSR1:
                self.last_bgrewrite_ok = False
                self.consecutive_failures += 1
            log("warning", f"Background AOF rewrite terminated by signal {bysignal}")
        self._remove_temp_files(pid)
        if self.state == AOF_WAIT_REWRITE:
            self.buf = bytearray()
            self._delete_temp_incr()
        if self.rewrite_time_start != -1:
            self.rewrite_time_last = self.now_s() - self.rewrite_time_start
        self.rewrite_time_start = -1
        if self.state == AOF_WAIT_REWRITE:
            self.rewrite_scheduled = True

    def _delete_temp_incr(self) -> None:
        """aofDelTempIncrAofFile (after a failed rewrite while switching AOF on)."""
        name = temp_incr_name(self.prefix)
        log("notice", f"Removing the temp incr aof file {name} in the background")
        if self.fd != -1:
            self.bio.fsync_and_close(self.fd)
            self.fd = -1
        _unlink_quietly(self.path(name))

    def _install_rewrite(self, pid: int) -> None:
        temp = self._temp_rewrite_path(pid)
        manifest = self.manifest.copy()
        rdb_format = _is_rdb_file(temp)
        base_name = manifest.new_base(self.prefix, rdb_format)
        base_path = self.path(base_name)
        try:
            os.replace(temp, base_path)
        except OSError as error:
            log("warning", f"Error trying to rename the temporary AOF base file {os.path.basename(temp)} into "
                           f"{base_path}: {strerror(error.errno or errno.EIO)}")
            self._rewrite_failed()
            return
        log("notice", f"Successfully renamed the temporary AOF base file {os.path.basename(temp)} into {base_name}")
        incr_path = None
        if self.state == AOF_WAIT_REWRITE:
            temp_incr = temp_incr_name(self.prefix)
            incr_name = manifest.new_incr(self.prefix)
            incr_path = self.path(incr_name)
            try:
                os.replace(self.path(temp_incr), incr_path)
            except OSError as error:
                log("warning", f"Error trying to rename the temporary AOF incr file {self.path(temp_incr)} into "
                               f"{incr_path}: {strerror(error.errno or errno.EIO)}")
                _unlink_quietly(base_path)
                self._rewrite_failed()
                return
            log("notice", f"Successfully renamed the temporary AOF incr file {temp_incr} into {incr_name}")
        manifest.mark_rewritten_incrs_as_history(keep_last=self.fd != -1)
        if not self.persist_manifest(manifest):
            _unlink_quietly(base_path)
            if incr_path is not None:
                _unlink_quietly(incr_path)
            self._rewrite_failed()
            return
        self.manifest = manifest
        if self.fd != -1:
            base_size, _ = self.file_size(base_name)
            self.current_size = base_size + self.last_incr_size
            self.rewrite_base_size = self.current_size
            self.fsync_offset = self.current_size
            self.last_fsync_s = self.now_s()
        self.delete_history_files()
        self.last_bgrewrite_ok = True
        self.consecutive_failures = 0
        log("notice", "Background AOF rewrite finished successfully")
        if self.state == AOF_WAIT_REWRITE:
            self.state = AOF_ON

    def _rewrite_failed(self) -> None:
        self.last_bgrewrite_ok = False
        self.consecutive_failures += 1

    def kill_child(self) -> None:
        """killAppendOnlyChild: stop a running rewrite and wait for it."""
        if not self.rewrite_in_progress():
            return
        persistence = self.persistence()
        child = persistence.child
        log("notice", f"Killing running AOF rewrite child: {child.pid}")
        persistence.kill_child()
        self.child = None
        self._remove_temp_files(child.pid)
        self.rewrite_time_start = -1

    def rewrite_limited(self) -> bool:
        """aofRewriteLimited: after repeated failures, wait 1, 2, 4... up to 60 minutes."""
        if self.consecutive_failures < REWRITE_LIMIT_THRESHOLD:
            self.limit_delay_minutes = 0
            self.limit_next_rewrite = 0
            return False
        now = self.now_s()
        if self.limit_next_rewrite:
            if now < self.limit_next_rewrite:
                return True
            self.limit_next_rewrite = 0
            return False
        self.limit_delay_minutes = min(REWRITE_LIMIT_MAX_MINUTES, self.limit_delay_minutes * 2 or 1)
        self.limit_next_rewrite = now + self.limit_delay_minutes * 60
        log("warning", "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in "
                       f"{self.limit_delay_minutes} minutes")
        return True

    # -- the cron ------------------------------------------------------------------------------

    def cron(self) -> None:
        """serverCron's AOF duties: scheduled and automatic rewrites, postponed and failed writes."""
        if self.state == AOF_OFF:
            if self.feed in self.engine.propagation_consumers:
                self._unregister_feed()
        else:
            self._register_feed()
        if not self.has_active_child():
            if self.rewrite_scheduled and not self.rewrite_limited():
                self.rewrite_background()
            elif self.state == AOF_ON:
                values = self.engine.config.values
                percentage = values["auto-aof-rewrite-percentage"]
                if percentage and self.current_size > values["auto-aof-rewrite-min-size"]:
                    base = self.rewrite_base_size or 1
                    growth = self.current_size * 100 // base - 100
                    if growth >= percentage and not self.rewrite_limited():
                        log("notice", f"Starting automatic rewriting of AOF on {growth}% growth")
                        self.rewrite_background()
        if self.state != AOF_OFF:
            # beforeSleep's flush, for writes no reply carried out (expired keys, CLIENT REPLY OFF).
            self.flush(False)
        if self.gate_installed != self.writes_denied():
            self._update_gate()     # a background fsync failed, or works again

    # -- startup -------------------------------------------------------------------------------

    def load_at_startup(self) -> bool:
        """Startup with ``appendonly yes``: load the AOF, open the incr file to append to and
        drop history files (main() after loadDataFromDisk). False: the server must exit(1)."""
        try:
            self.load_manifest_from_disk()
        except ManifestError as error:
            for line in error.log_lines():
                log("warning", line)
            return False
        start = time.monotonic()
        result = self.load_append_only_files()
        if result in (LOAD_FAILED, LOAD_OPEN_ERR):
            return False
        if result != LOAD_NOT_EXIST:
            log("notice", f"DB loaded from append only file: {time.monotonic() - start:.3f} seconds")
        if not self.open_on_server_start():
            return False
        self.delete_history_files()
        return True

    def open_on_server_start(self) -> bool:
        """aofOpenIfNeededOnServerStart: create a base for an empty dataset, open the last incr file."""
        if self.state != AOF_ON:
            return True
        if not self._create_dir():
            return False
        manifest = self.manifest
        had_incrs = bool(manifest.incrs)
        if manifest.base is None and not had_incrs:
            values = self.engine.config.values
            rdb_preamble = bool(values["aof-use-rdb-preamble"])
            base_name = manifest.new_base(self.prefix, rdb_preamble)
            try:
                write_base_file(self.engine, self.path(base_name), rdb_preamble,
                                bool(values["aof-timestamp-enabled"]),
                                bool(values["aof-rewrite-incremental-fsync"]), self.now_s())
            except OSError as error:
                log("warning", f"Write error writing append only file on disk: {strerror(error.errno or errno.EIO)}")
                return False
            log("notice", f"Creating AOF base file {base_name} on server start")
        name = manifest.last_incr(self.prefix)
        try:
            self.fd = os.open(self.path(name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            log("warning", f"Can't open the append-only file {name}: {strerror(error.errno or errno.EIO)}")
            return False
        if not self.persist_manifest(manifest):
            return False
        self.last_incr_size, _ = self.file_size(name)
        if had_incrs:
            log("notice", f"Opening AOF incr file {name} on server start")
        else:
            log("notice", f"Creating AOF incr file {name} on server start")
        self.last_fsync_s = self.now_s()
        return True

    # -- loading ---------------------------------------------------------------------------------

    def _upgrade_if_needed(self) -> None:
        """aofUpgradePrepare: an old single ``appendonly.aof`` in ``dir`` becomes the base of a
        multi-part AOF. SystemExit(1) if it cannot be moved."""
        prefix = self.prefix
        old = os.path.join(self.base_dir(), prefix)
        if not os.path.isfile(old):
            return
        manifest = self.manifest
        if os.path.isdir(self.aof_dir()) and not (
                manifest.is_empty()
                or (manifest.base is not None and not manifest.incrs and manifest.base.file_name == prefix
                    and not os.path.exists(self.path(prefix)))):
            return
        if not self._create_dir():
            raise SystemExit(1)
        manifest.base = AofInfo(prefix, 1, "b")
        manifest.base_seq = 1
        if not self.persist_manifest(manifest):
            raise SystemExit(1)
        try:
            os.replace(old, self.path(prefix))
        except OSError as error:
            log("warning", f"Error trying to rename the existing AOF to dir "
                           f"{self.engine.config.values['appenddirname']}: {strerror(error.errno or errno.EIO)}")
            raise SystemExit(1) from None
        log("notice", f"Successfully migrated an old-style AOF file ({prefix}) into the AOF directory "
                      f"({self.engine.config.values['appenddirname']}).")

    def load_append_only_files(self, caller: Client | None = None) -> str:
        """loadAppendOnlyFiles: the base, then the incr files; a LOAD_* result. Other clients
        are served meanwhile (they get -LOADING); ``caller`` (DEBUG LOADAOF's) is not read."""
        try:
            self._upgrade_if_needed()
        except SystemExit:
            return LOAD_FAILED
        manifest = self.manifest
        if manifest.is_empty():
            return LOAD_NOT_EXIST
        files = manifest.files_to_load()
        total_size = 0
        for info in files:
            size, status = self.file_size(info.file_name)
            if status != LOAD_OK:
                return LOAD_FAILED if status == LOAD_NOT_EXIST else status
            total_size += size
        if total_size == 0:
            return LOAD_EMPTY
        engine = self.engine
        persistence = self.persistence()
        if persistence is not None:
            persistence.start_loading(total_size)     # INFO's loading_* fields, over all the files
        self._progress_offset = 0
        was_loading = engine.loading
        engine.loading = True
        engine.update_gates()
        consumers = engine.propagation_consumers
        engine.propagation_consumers = []       # nothing loaded is propagated
        result = LOAD_OK
        base_size = 0
        try:
            for number, info in enumerate(files, start=1):
                last_file = number == len(files)
                kind = "base" if info is manifest.base else "incr"
                if kind == "base":
                    base_size, _ = self.file_size(info.file_name)
                start = time.monotonic()
                result = self.load_single_file(info.file_name, caller)
                self._progress_offset += self.file_size(info.file_name)[0]
                if result == LOAD_OK or (result == LOAD_TRUNCATED and last_file):
                    log("notice", f"DB loaded from {kind} file {info.file_name}: "
                                  f"{time.monotonic() - start:.3f} seconds")
                if result == LOAD_EMPTY and kind == "incr":
                    result = LOAD_OK        # an empty incr file is fine when others have data
                if result == LOAD_TRUNCATED and not last_file:
                    result = LOAD_FAILED
                    log("warning", "Fatal error: the truncated file is not the last file")
                if result in (LOAD_OPEN_ERR, LOAD_FAILED):
                    return result
            self.current_size = total_size
            # The base size at the last rewrite is not persisted: the base file's size stands in.
            self.rewrite_base_size = base_size
            self.fsync_offset = total_size
            return result
        finally:
            engine.propagation_consumers = consumers
            engine.loading = was_loading
            engine.update_gates()
            for db in engine.databases:
                db.scan_index = None        # keys came in behind SCAN's back

    def load_single_file(self, name: str, caller: Client | None = None) -> str:
        """loadSingleAppendOnlyFile: run every command of one file; a LOAD_* result."""
        path = self.path(name)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as error:
            if error.errno != errno.ENOENT:
                log("warning", f"Fatal error: can't open the append log file {name} for reading: "
                               f"{strerror(error.errno or errno.EIO)}")
                return LOAD_OPEN_ERR
            log("warning", f"The append log file {name} doesn't exist: {strerror(error.errno)}")
            return LOAD_NOT_EXIST
        with handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return LOAD_EMPTY
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                outcome, valid_up_to = self._replay(name, data, caller)
            finally:
                data.close()
        if outcome == "eof":
            return self._short_read(name, path, valid_up_to)
        return outcome

    def _replay(self, name: str, data: Any, caller: Client | None) -> tuple[str, int]:
        """Run the commands of ``data``: (LOAD_OK | LOAD_FAILED | "eof", last good offset)."""
        engine = self.engine
        truncate_ok = engine.config.values["aof-load-truncated"]
        client = Client(engine, CollectingSink())
        end = len(data)
        pos = 0
        valid_up_to = 0
        valid_before_multi = 0
        if data[:5] == b"REDIS":
            result = self._load_rdb_part(name, data)
            if result is None:
                return LOAD_FAILED, 0
            pos = result
        events = engine.extensions.get("process_events_while_blocked")
        persistence = self.persistence()
        progress_offset = self._progress_offset
        key_delay = engine.config.values["key-load-delay"]
        find = data.find
        loops = 0
        lookup = engine.lookup_command
        queue_command = engine.extensions.get("multi_queue")
        while True:
            if events is not None and not loops % LOAD_EVENTS_EVERY:
                if persistence is not None:
                    persistence.loading_loaded_bytes = progress_offset + pos
                events(caller)
            loops += 1
            if pos >= end:
                break
            line, pos = _fgets(find, data, pos, end)
            if line[:1] == b"#":
                continue                    # an annotation (#TS:...)
            if line[:1] != b"*":
                return self._format_error(name), valid_up_to
            if len(line) == 1:
                return "eof", valid_up_to   # "*" and nothing more: a torn record
            if line[1] == 0:
                # Redis takes a NUL after '*' for a read error (buf[1] == '\0') and prints
                # whatever errno happens to hold; an I/O error is what it means.
                log("warning", f"Unrecoverable error reading the append only file {name}: {strerror(errno.EIO)}")
                return LOAD_FAILED, valid_up_to
            argc = _c_atoi(line[1:])
            if argc < 1:
                return self._format_error(name), valid_up_to
            argv: list[bytes] = []
            for _ in range(argc):
                if pos >= end:
                    return "eof", valid_up_to
                line, pos = _fgets(find, data, pos, end)
                if line[:1] != b"$":
                    return self._format_error(name), valid_up_to
                length = c_strtol(line[1:])[0]
                if length < 0:
                    return self._format_error(name), valid_up_to
                if pos + length > end:
                    return "eof", valid_up_to
                argv.append(bytes(data[pos:pos + length]))
                pos += length
                if pos + 2 > end:           # the CRLF after the argument is discarded unread
                    return "eof", valid_up_to
                pos += 2
            cmd = lookup(argv)
            if cmd is None or cmd.handler is None:
                log("warning", f"Unknown command '{_c_text(argv[0])}' reading the append only file {name}")
                return LOAD_FAILED, valid_up_to
            if cmd.fullname == "multi":
                valid_before_multi = valid_up_to
            if client.flags & CLIENT_MULTI and cmd.fullname != "exec":
                if queue_command is not None:
                    queue_command(client, cmd, argv)
            else:
                self._run_loaded(client, cmd, argv)
            if truncate_ok:
                valid_up_to = pos
            if key_delay:
                # key-load-delay (a testing knob) slows AOF loading down per command too.
                time.sleep(key_delay / 1_000_000 if key_delay > 0 else -key_delay / 1_000_000_000)
        if client.flags & CLIENT_MULTI:
            # A transaction without its EXEC: as if the file ended before its MULTI.
            log("warning", f"Revert incomplete MULTI/EXEC transaction in AOF file {name}")
            return "eof", valid_before_multi
        return LOAD_OK, valid_up_to

    def _run_loaded(self, client: Client, cmd: CommandDef, argv: list[bytes]) -> None:
        """Run one command read from the AOF as Redis does: its handler only (no gates, no
        command statistics, nothing propagated, no arity check); an error reply is logged
        and counted as unexpected, and otherwise dropped."""
        engine = self.engine
        client.current_command = cmd
        client.last_command = cmd
        arity = cmd.arity
        argc = len(argv)
        exact = arity == argc or (arity < 0 and argc >= -arity)
        if not exact and argc < abs(arity):
            return      # too few arguments: a handler would read past argv (Redis reads garbage)
        restore = self._command_stats(client) if cmd.fullname == "exec" else None
        try:
            reply = cmd.handler(client, argv)
        except RedisError as error:
            self._loaded_error(cmd, engine.error_reply(error).text)
        except (IndexError, ValueError) as error:
            if exact:
                raise
            log("debug", f"Skipped {cmd.fullname} with {argc} arguments in the AOF: {error}")
        else:
            if restore is not None:
                restore()
                if type(reply) is list:
                    for item in reply:
                        if type(item) is ErrorReply:
                            self._loaded_error(cmd, item.text)
        engine.discard_propagation()
        if engine.ready_keys and engine.handle_ready_keys is not None:
            engine.handle_ready_keys()

    def _loaded_error(self, cmd: CommandDef, text: bytes) -> None:
        """afterErrorReply for the AOF client: a CRITICAL log line; the error is unexpected."""
        self.engine.stats.unexpected_error_replies += 1
        message = text.decode("utf-8", "replace")
        # Redis logs the text its command passed: shared error objects with their '-' and
        # code, plain addReplyError messages without the "ERR " it adds.
        message = message[4:] if message.startswith("ERR ") and message not in _SHARED_ERRORS else "-" + message
        log("warning", "== CRITICAL == This server is sending an error to its AOF-loading-client: "
                       f"'{message}' after processing the command '{cmd.fullname}'")

    def _command_stats(self, client: Client) -> Callable[[], None]:
        """Commands EXEC runs while the AOF loads count no calls, time or latency (Redis's call()
        skips its statistics in the AOF loading context): a function that undoes them."""
        engine = self.engine
        saved = {}
        for queued, _ in client.multi_queue or ():
            if id(queued) not in saved:
                latency = queued.latency_us
                saved[id(queued)] = (queued, queued.calls, queued.usec, dict(latency) if latency is not None else None)
        total = engine.stats.total_commands_processed
        processed = client.commands_processed

        def restore() -> None:
            for queued, calls, usec, latency in saved.values():
                queued.calls, queued.usec = calls, usec
                if latency is not None and queued.latency_us is not None:
                    queued.latency_us.clear()
                    queued.latency_us.update(latency)
            engine.stats.total_commands_processed = total
            client.commands_processed = processed
        return restore

    def _load_rdb_part(self, name: str, data: Any) -> int | None:
        """The RDB base (or old-style RDB preamble) of an AOF file: load it and return where
        the commands that may follow start; None after logging why it failed."""
        from specredis.engine.persistence.rdb import RdbError

        old_style = name == self.prefix
        log("notice", "Reading RDB preamble from AOF file..." if old_style else
            "Reading RDB base file on AOF loading...")
        persistence = self.persistence()
        previous_aux = self.engine.extensions.get("rdb_aux_loaded")

        def aux(key: bytes, value: bytes) -> None:
            if key == b"aof-base" and c_strtol(value)[0]:
                log("notice", "RDB is base AOF")
            elif previous_aux is not None:
                previous_aux(key, value)

        self.engine.extensions["rdb_aux_loaded"] = aux
        try:
            report = persistence.load(data, expire_keys=False, aof_base=True)
        except RdbError as error:
            if error.message.startswith("Unexpected EOF"):
                log("warning", "Short read or OOM loading DB. Unrecoverable error, aborting now.")
                reason = error.message
            elif error.message.startswith("Wrong RDB checksum"):
                log("warning", error.message)
                reason = "RDB CRC error"
            else:
                reason = error.message
            log("warning", f"Internal error in RDB reading offset 0, function at rdb.c:0 -> {reason}")
            log("warning", "Error reading the RDB preamble of the AOF file " + name + ", AOF loading aborted"
                if old_style else f"Error reading the RDB base file {name}, AOF loading aborted")
            return None
        finally:
            if previous_aux is None:
                self.engine.extensions.pop("rdb_aux_loaded", None)
            else:
                self.engine.extensions["rdb_aux_loaded"] = previous_aux
        if old_style:
            log("notice", "Reading the remaining AOF tail...")
        return report.end_offset

    def _format_error(self, name: str) -> str:
        log("warning", f"Bad file format reading the append only file {name}: make a backup of your AOF file, "
                       "then use ./redis-check-aof --fix <filename.manifest>")
        return LOAD_FAILED

    def _short_read(self, name: str, path: str, valid_up_to: int) -> str:
        """The file ends inside a command: truncate it there if aof-load-truncated allows."""
        if self.engine.config.values["aof-load-truncated"]:
            log("warning", f"!!! Warning: short read while loading the AOF file {name}!!!")
            log("warning", f"!!! Truncating the AOF {name} at offset {valid_up_to} !!!")
            try:
                os.truncate(path, valid_up_to)
            except OSError as error:
                log("warning", f"Error truncating the AOF file {name}: {strerror(error.errno or errno.EIO)}")
            else:
                log("warning", f"AOF {name} loaded anyway because aof-load-truncated is enabled")
                return LOAD_TRUNCATED
        log("warning", f"Unexpected end of file reading the append only file {name}. You can: 1) Make a backup "
                       "of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively "
                       "you can set the 'aof-load-truncated' configuration option to yes and restart the server.")
        return LOAD_FAILED

    # -- DEBUG LOADAOF -----------------------------------------------------------------------------

    def debug_loadaof(self, caller: Client | None = None) -> None:
        """Flush, empty the dataset and load the AOF again; the server exits with status 1 if it
        does not load, as Redis does."""
        engine = self.engine
        if self.state == AOF_ON:
            self.flush(True)
        engine.flush_all()
        functions = engine.extensions.get("functions")
        if functions is not None:
            functions.clear()
        try:
            self.load_manifest_from_disk()
        except ManifestError as error:
            for line in error.log_lines():
                log("warning", line)
            fatal_exit()
        self.delete_history_files()
        result = self.load_append_only_files(caller)
        if result not in (LOAD_OK, LOAD_EMPTY):
            fatal_exit()
        engine.dirty = 0
        log("warning", "Append Only File loaded by DEBUG LOADAOF")

    # -- shutdown --------------------------------------------------------------------------------

    def shutdown_hook(self, flags: int) -> bool:
        """prepareForShutdown's AOF part: stop a rewrite, then flush and fsync the AOF."""
        from specredis.engine.serverops import SHUTDOWN_FORCE

        if self.rewrite_in_progress():
            if self.state == AOF_WAIT_REWRITE:
                if flags & SHUTDOWN_FORCE:
                    log("warning", "Writing initial AOF. Exit anyway.")
                else:
                    log("warning", "Writing initial AOF, can't exit.")
                    return False
            log("warning", "There is a child rewriting the AOF. Killing it!")
            self.kill_child()
        if self.state != AOF_OFF:
            log("notice", "Calling fsync() on the AOF file.")
            self.flush(True)
            if self.fd != -1:
                try:
                    os.fdatasync(self.fd)
                except OSError as error:
                    log("warning", f"Fail to fsync the AOF file: {strerror(error.errno or errno.EIO)}.")
        return True

    # -- INFO --------------------------------------------------------------------------------------

    def info_fields(self, engine: Engine) -> list[tuple[str, Any]]:
        """INFO persistence's AOF fields."""
        values = engine.config.values
        fields: list[tuple[str, Any]] = [
            ("aof_enabled", 1 if self.state != AOF_OFF else 0),
            ("aof_rewrite_in_progress", 1 if self.rewrite_in_progress() else 0),
            ("aof_rewrite_scheduled", 1 if self.rewrite_scheduled else 0),
            ("aof_last_rewrite_time_sec", self.rewrite_time_last),
            ("aof_current_rewrite_time_sec",
             -1 if self.rewrite_time_start == -1 else self.now_s() - self.rewrite_time_start),
            ("aof_last_bgrewrite_status", "ok" if self.last_bgrewrite_ok else "err"),
            ("aof_rewrites", self.rewrites),
            ("aof_rewrites_consecutive_failures", self.consecutive_failures),
            ("aof_last_write_status", "ok" if self.last_write_ok and self.bio.fsync_ok else "err"),
            ("aof_last_cow_size", self.last_cow_size),
        ]
        if values["appendonly"]:
            fields += [
                ("aof_current_size", self.current_size),
                ("aof_base_size", self.rewrite_base_size),
                ("aof_pending_rewrite", 1 if self.rewrite_scheduled else 0),
                ("aof_buffer_length", len(self.buf)),
                ("aof_pending_bio_fsync", self.bio.pending_fsyncs),
                ("aof_delayed_fsync", self.delayed_fsync),
            ]
        return fields

    def memory_fields(self, engine: Engine) -> list[tuple[str, Any]]:
        return [("mem_aof_buffer", len(self.buf))]


# -----------------------------------------------------------------------------------------
# Reading helpers (the loader reads with fgets, atoi and strtol, and so must we)
# -----------------------------------------------------------------------------------------

def _fgets(find: Callable[..., int], data: Any, pos: int, end: int) -> tuple[bytes, int]:
    """fgets(buf, 1024): up to and including a newline, at most 1023 bytes."""
    limit = min(pos + ANNOTATION_LINE_MAX_LEN - 1, end)
    newline = find(b"\n", pos, limit)
    stop = newline + 1 if newline >= 0 else limit
    return bytes(data[pos:stop]), stop


def _c_atoi(raw: bytes) -> int:
    """atoi: strtol truncated to a C int."""
    return to_c_int(c_strtol(raw)[0])


def _c_text(raw: bytes) -> str:
    nul = raw.find(b"\0")
    return (raw if nul < 0 else raw[:nul]).decode("utf-8", "replace")


def _is_rdb_file(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(5) == b"REDIS"
    except OSError:
        return False


# -----------------------------------------------------------------------------------------
# Commands
# -----------------------------------------------------------------------------------------

def state(engine: Engine) -> Aof:
    """The AOF state of ``engine``."""
    return engine.extensions["aof"]


def bgrewriteaof_command(client: Client, argv: list[bytes]) -> Status:
    """BGREWRITEAOF"""
    engine = client.engine
    aof = state(engine)
    if aof.rewrite_in_progress():
        raise RedisError("ERR Background append only file rewriting already in progress")
    if aof.has_active_child() or client.flags & CLIENT_MULTI:
        aof.rewrite_scheduled = True
        # Asked for by hand: the failure limit does not delay it.
        aof.consecutive_failures = 0
        return Status(b"Background append only file rewriting scheduled")
    if aof.rewrite_background():
        return Status(b"Background append only file rewriting started")
    raise RedisError("ERR Can't execute an AOF background rewriting. Please check the server logs for more "
                     "information.")


def debug_loadaof(client: Client, argv: list[bytes]) -> Status:
    """DEBUG LOADAOF"""
    state(client.engine).debug_loadaof(client)
    return OK


# -----------------------------------------------------------------------------------------
# Configuration hooks and installation
# -----------------------------------------------------------------------------------------

def _apply_appendonly(engine: Engine, enabled: bool) -> None:
    aof = engine.extensions.get("aof")
    if aof is None:
        return
    if not enabled and aof.state != AOF_OFF:
        aof.stop()
    elif enabled and aof.state == AOF_OFF:
        if not aof.start():
            raise ConfigError("Unable to turn on AOF. Check server logs.")


def _apply_appendfsync(engine: Engine, policy: str) -> None:
    aof = engine.extensions.get("aof")
    if aof is not None and policy == "always":
        # Queued background fsyncs finish first (bioDrainWorker).
        aof.bio.drain()


def _apply_auto_gc(engine: Engine, disabled: bool) -> None:
    aof = engine.extensions.get("aof")
    if aof is not None and not disabled and aof.manifest_loaded:
        aof.delete_history_files()


def _apply_timestamps(engine: Engine, enabled: bool) -> None:
    aof = engine.extensions.get("aof")
    if aof is not None:
        aof.timestamps = bool(enabled)


on_change("appendonly", _apply_appendonly)
on_change("aof-timestamp-enabled", _apply_timestamps)
on_change("appendfsync", _apply_appendfsync)
on_change("aof-disable-auto-gc", _apply_auto_gc)


def _script_write_gate(aof: Aof, previous: Any) -> Callable[[Any, Any], bytes | None]:
    def gate(run: Any, cmd: Any) -> bytes | None:
        if previous is not None:
            denied = previous(run, cmd)
            if denied is not None:
                return denied
        if aof.writes_denied() and not run.caller.flags & CLIENT_MASTER:
            return aof.misconf_error().encode()
        return None
    return gate


def install(engine: Engine) -> None:
    """The AOF state, its propagation consumer, cron, INFO fields, shutdown hook and commands."""
    aof = Aof(engine)
    engine.extensions["aof"] = aof
    engine.extensions["aof_load"] = aof.load_at_startup
    load_data = engine.extensions.get("load_data_from_disk")
    if load_data is not None:
        def load_data_from_disk() -> bool:
            # Redis reads the manifest (and drops history files) at startup whether or not AOF
            # is on: a broken manifest stops the server either way.
            if not engine.config.values["appendonly"] and not aof.ensure_manifest():
                return False
            return load_data()
        engine.extensions["load_data_from_disk"] = load_data_from_disk
    engine.cron_hooks.append(aof.cron)
    fields = engine.extensions.setdefault("info_fields", {})
    persistence_fields = fields.setdefault("persistence", [])
    persistence = engine.extensions.get("persistence")
    loading_info = getattr(persistence, "loading_info", None)
    # After the RDB fields, before the loading_* ones (INFO's order).
    if loading_info is not None and loading_info in persistence_fields:
        persistence_fields.insert(persistence_fields.index(loading_info), aof.info_fields)
    else:
        persistence_fields.append(aof.info_fields)
    fields.setdefault("memory", []).append(aof.memory_fields)
    engine.extensions.setdefault("shutdown_hooks", []).append(aof.shutdown_hook)
    engine.extensions["script_write_gate"] = _script_write_gate(aof, engine.extensions.get("script_write_gate"))
    from specredis.engine import debug
    debug.register_subcommand("loadaof", debug_loadaof, 2, 2)


__all__ = ["AOF_OFF", "AOF_ON", "AOF_WAIT_REWRITE", "Aof", "bgrewriteaof_command", "encode_command",
           "rewrite_dataset", "state"]
