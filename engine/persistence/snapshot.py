"""RDB snapshots as a server does them: SAVE, BGSAVE, save points, loading at startup,
SHUTDOWN's final save, DEBUG RELOAD, INFO persistence and the MISCONF gate.

**BGSAVE** forks (:meth:`Persistence.fork_child`): the child holds a copy-on-write image
of the dataset as it was at the fork, writes ``temp-<pid>.rdb`` in ``dir``, fsyncs it,
renames it over ``dbfilename`` and leaves with ``os._exit``, never touching the parent's
event loop. The parent keeps serving; the engine's cron reaps the child (``waitpid``
with ``WNOHANG``) and records the outcome (``rdb_last_bgsave_status``; on success the
changes made before the fork no longer count as dirty). A child killed by a signal
leaves the old file as it was and its temp file is removed. While the child runs it
reports keys written and copy-on-write bytes through a pipe (INFO's ``current_*``).

**Save points** (``save <seconds> <changes>``) are checked by the cron like serverCron:
a BGSAVE starts when ``changes`` writes happened and ``seconds`` passed since the last
save (after a failure, not sooner than 5 seconds after the last try).

**MISCONF**: after a failed BGSAVE, with ``stop-writes-on-bgsave-error yes`` and save
points configured, write commands (and PING, as in Redis) are refused until a save
succeeds. The check is a dispatcher gate present only while the last BGSAVE failed.

**Loading** (startup and DEBUG RELOAD) reads the file with ``rdb_load.RdbLoader``; every
``loading-process-events-interval-bytes`` the server serves other clients (they get
``-LOADING``, INFO shows the progress), as Redis's processEventsWhileBlocked does.
A file that does not load stops the server at startup with Redis's report (the file
itself is left as it is).

Hooks for the AOF: ``engine.extensions["persistence"]`` is the :class:`Persistence`
state (its ``fork_child`` runs any child under the one-child rule);
``engine.extensions["aof_load"]``, when the AOF module sets it, is called instead of
loading the RDB at startup when ``appendonly yes`` (as loadDataFromDisk does).
"""

from __future__ import annotations

import gc
import os
import signal
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from specredis.engine.client import CLIENT_MASTER, CLIENT_MULTI
from specredis.engine.command import CMD_WRITE
from specredis.engine.errors import MISCONF, SYNTAX, RedisError
from specredis.engine.persistence.rdb import RdbError
from specredis.engine.persistence.rdb_load import LoadReport, LoadSink, RdbLoader
from specredis.engine.persistence.rdb_save import rdb_path, save_to_file, temp_file_name
from specredis.protocol.replies import OK, Status
from specredis.util.log import LOGGER, log

if TYPE_CHECKING:
    from specredis.engine.client import Client
    from specredis.engine.command import CommandDef
    from specredis.engine.core import Engine

BGSAVE_RETRY_DELAY_S = 5                # CONFIG_BGSAVE_RETRY_DELAY
CHILD_INFO_INTERVAL_S = 1.0             # how often a child reports its progress
_CHILD_INFO = struct.Struct("<qq")      # (keys processed, copy-on-write bytes)
BGSAVE_IN_PROGRESS = "ERR Background save already in progress"
OTHER_CHILD_ACTIVE = ("ERR Another child process is active (AOF?): can't BGSAVE right now. "
                      "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")


def private_dirty_bytes() -> int:
    """Bytes of this process's memory that are private and dirty (its copy-on-write cost
    after a fork; zmalloc_get_private_dirty)."""
    try:
        with open("/proc/self/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class ChildProcess:
    """A forked child the server waits for: its kind ('rdb', 'aof', ...), pid, start time,
    the pipe it reports progress on, and what to do when it exits."""

    def __init__(self, kind: str, pid: int, info_fd: int, on_exit: Callable[[int, int], None]) -> None:
        self.kind = kind
        self.pid = pid
        self.info_fd = info_fd
        self.on_exit = on_exit
        self.start = time.monotonic()
        self.keys_processed = 0
        self.cow_size = 0
        self.cow_peak = 0
        self.cow_updated = 0.0
        self.buffer = b""


class Persistence:
    """The persistence state of one engine (the server.* fields of rdb.c)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.child: ChildProcess | None = None
        self.lastsave_s = engine.clock() // 1000
        self.last_bgsave_ok = True
        self.last_bgsave_try_s = 0
        self.last_bgsave_time_s = -1
        self.bgsave_scheduled = False
        self.dirty_before_bgsave = 0
        self.saves = 0
        self.last_cow_size = 0
        self.keys_total = 0
        self.load_keys_loaded = 0
        self.load_keys_expired = 0
        self.loading_start_s = 0
        self.loading_total_bytes = 0
        self.loading_loaded_bytes = 0
        self.loading_rdb_used_mem = 0
        self.gate_installed = False
        engine.extensions["lastsave_s"] = self.lastsave_s

    # -- state -------------------------------------------------------------------------------

    def now_s(self) -> int:
        """The engine's clock in seconds."""
        return self.engine.clock() // 1000

    def set_lastsave(self, when_s: int) -> None:
        """Record a successful save (LASTSAVE, rdb_last_save_time)."""
        self.lastsave_s = when_s
        self.engine.extensions["lastsave_s"] = when_s

    def set_bgsave_status(self, ok: bool) -> None:
        """Record the last BGSAVE's outcome; the MISCONF gate exists only while it failed."""
        self.last_bgsave_ok = ok
        engine = self.engine
        if ok and self.gate_installed:
            gates = engine.extensions["gates"]
            gates.remove(self.misconf_gate)
            if not gates:
                del engine.extensions["gates"]
            self.gate_installed = False
            engine.update_gates()
        elif not ok and not self.gate_installed:
            engine.extensions.setdefault("gates", []).append(self.misconf_gate)
            self.gate_installed = True
            engine.update_gates()

    def writes_denied(self) -> bool:
        """writeCommandsDeniedByDiskError, RDB part."""
        engine = self.engine
        values = engine.config.values
        return (not self.last_bgsave_ok and values["stop-writes-on-bgsave-error"] and bool(values["save"])
                and not engine.is_replica)

    def misconf_gate(self, client: Client, cmd: CommandDef, argv: list[bytes]) -> RedisError | None:
        """Gate 9 of processCommand: writes (and PING) are refused while RDB saves fail."""
        if not self.writes_denied():
            return None
        flags = cmd.flags
        dynamic = self.engine.extensions.get("dynamic_command_flags")
        if dynamic is not None:
            flags = dynamic(client, cmd, argv, flags)       # EXEC counts as its queued commands
        if flags & CMD_WRITE or cmd.fullname == "ping":
            if client.flags & CLIENT_MASTER:
                return None
            return RedisError(MISCONF)
        return None

    # -- children ----------------------------------------------------------------------------

    def has_active_child(self) -> bool:
        """Whether a forked child (RDB, AOF rewrite) is running: there is at most one."""
        return self.child is not None

    def fork_child(self, kind: str, work: Callable[[Callable[[int], None]], int],
                   on_exit: Callable[[int, int], None]) -> int:
        """Fork a child that runs ``work(report)`` and exits with its return value.

        ``report(keys_processed)`` lets the work tell the parent how far it got (sent at most
        once a second with the child's copy-on-write size). ``on_exit(exitcode, bysignal)``
        runs in the parent once the cron reaps the child. Returns the child's pid; OSError
        if the fork failed."""
        if self.child is not None:
            raise RuntimeError("a child process is already active")
        read_fd, write_fd = os.pipe()
        engine = self.engine
        started = time.perf_counter_ns()
        # Frozen objects are left alone by the parent's garbage collector while the child runs:
        # collections would write to every object's header and copy pages the child shares.
        gc.freeze()
        try:
            pid = os.fork()
        except OSError:
            gc.unfreeze()
            os.close(read_fd)
            os.close(write_fd)
            raise
        if pid == 0:                                        # the child: never returns
            status = 1
            try:
                os.close(read_fd)
                _become_child()
                last = [0.0]

                def report(keys: int) -> None:
                    now = time.monotonic()
                    if now - last[0] >= CHILD_INFO_INTERVAL_S:
                        last[0] = now
                        _send_child_info(write_fd, keys, private_dirty_bytes())

                status = work(report)
                _send_child_info(write_fd, -1, private_dirty_bytes())
            except BaseException as error:  # noqa: BLE001 - the child must exit whatever happens
                try:
                    log("warning", f"Child process failed: {error}")
                except BaseException:  # noqa: BLE001
                    pass
            finally:
                os._exit(status)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        stats = engine.stats
        stats.total_forks = getattr(stats, "total_forks", 0) + 1
        stats.latest_fork_usec = (time.perf_counter_ns() - started) // 1000
        self.child = ChildProcess(kind, pid, read_fd, on_exit)
        return pid

    def _read_child_info(self, child: ChildProcess) -> None:
        while True:
            try:
                chunk = os.read(child.info_fd, 4096)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            if not chunk:
                break
            child.buffer += chunk
        size = _CHILD_INFO.size
        while len(child.buffer) >= size:
            keys, cow = _CHILD_INFO.unpack_from(child.buffer)
            child.buffer = child.buffer[size:]
            if keys >= 0:
                child.keys_processed = keys
            child.cow_size = cow
            child.cow_peak = max(child.cow_peak, cow)
            child.cow_updated = time.monotonic()

    def check_child(self) -> None:
        """checkChildrenDone: reap the child if it exited and run its completion handler."""
        child = self.child
        if child is None:
            return
        self._read_child_info(child)
        try:
            pid, status = os.waitpid(child.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = child.pid, 1 << 8
        if pid == 0:
            return
        self._read_child_info(child)
        os.close(child.info_fd)
        self.child = None
        gc.unfreeze()
        if os.WIFSIGNALED(status):
            exitcode, bysignal = 0, os.WTERMSIG(status)
        else:
            exitcode, bysignal = os.WEXITSTATUS(status), 0
        if child.kind == "rdb":
            self.last_bgsave_time_s = int(time.monotonic() - child.start)
            self.last_cow_size = child.cow_size
            if bysignal:
                _remove_quietly(self.temp_path(child.pid))
        child.on_exit(exitcode, bysignal)

    def kill_child(self) -> None:
        """Stop the running child (killRDBChild / killAppendOnlyChild) and wait for it."""
        child = self.child
        if child is None:
            return
        try:
            os.kill(child.pid, signal.SIGUSR1)
            os.waitpid(child.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(child.info_fd)
        self.child = None
        gc.unfreeze()
        if child.kind == "rdb":
            _remove_quietly(self.temp_path(child.pid))
            self.last_cow_size = child.cow_size

    # -- saving ------------------------------------------------------------------------------

    def path(self) -> str:
        """The RDB file: ``dir``/``dbfilename``."""
        return rdb_path(self.engine.config)

    def save(self) -> bool:
        """rdbSave (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD): write the file in the foreground."""
        engine = self.engine
        try:
            save_to_file(engine, self.path())
        except (OSError, RdbError) as error:
            log("warning", f"{error.strerror if isinstance(error, OSError) and error.strerror else error}")
            return False
        log("notice", "DB saved on disk")
        engine.dirty = 0
        self.set_lastsave(self.now_s())
        self.set_bgsave_status(True)
        return True

    def bgsave(self) -> bool:
        """rdbSaveBackground: fork a child that writes the file. False if the fork failed."""
        engine = self.engine
        self.dirty_before_bgsave = engine.dirty
        self.last_bgsave_try_s = self.now_s()
        self.keys_total = sum(len(db.data) for db in engine.databases)
        path = self.path()

        def work(report: Callable[[int], None]) -> int:
            try:
                save_to_file(engine, path, progress=report)
            except OSError as error:
                log("warning", error.strerror or str(error))
                return 1
            log("notice", "DB saved on disk")
            return 0

        try:
            pid = self.fork_child("rdb", work, self._bgsave_done)
        except OSError as error:
            self.set_bgsave_status(False)
            log("warning", f"Can't save in background: fork: {error.strerror}")
            return False
        self.saves += 1
        self.bgsave_scheduled = False
        log("notice", f"Background saving started by pid {pid}")
        return True

    def _bgsave_done(self, exitcode: int, bysignal: int) -> None:
        """backgroundSaveDoneHandlerDisk."""
        engine = self.engine
        if not bysignal and exitcode == 0:
            log("notice", "Background saving terminated with success")
            engine.dirty = max(0, engine.dirty - self.dirty_before_bgsave)
            self.set_lastsave(self.now_s())
            self.set_bgsave_status(True)
        elif not bysignal:
            log("warning", "Background saving error")
            self.set_bgsave_status(False)
        else:
            log("warning", f"Background saving terminated by signal {bysignal}")
            # SIGUSR1 is how the server itself stops a child: not a failure.
            if bysignal != signal.SIGUSR1:
                self.set_bgsave_status(False)

    def temp_path(self, pid: int) -> str:
        """The temp file the child ``pid`` writes (removed when the child is killed)."""
        return os.path.join(os.path.dirname(self.path()) or ".", temp_file_name(pid))

    # -- cron --------------------------------------------------------------------------------

    def cron(self) -> None:
        """The serverCron part of persistence: reap children, start scheduled and due saves."""
        if self.child is not None:
            self.check_child()
            return
        if self.bgsave_scheduled and (self.last_bgsave_ok or
                                      self.now_s() - self.last_bgsave_try_s > BGSAVE_RETRY_DELAY_S):
            self.bgsave()
            return
        params = self.engine.config.values["save"]
        if not params:
            return
        engine = self.engine
        now = self.now_s()
        for seconds, changes in params:
            if engine.dirty >= changes and now - self.lastsave_s > seconds and \
                    (now - self.last_bgsave_try_s > BGSAVE_RETRY_DELAY_S or self.last_bgsave_ok):
                log("notice", f"{changes} changes in {seconds} seconds. Saving...")
                self.bgsave()
                break

    # -- loading -----------------------------------------------------------------------------

    def start_loading(self, total_bytes: int) -> None:
        """startLoading: INFO's loading_* fields follow a load of ``total_bytes`` from now."""
        self.loading_start_s = self.now_s()
        self.loading_total_bytes = total_bytes
        self.loading_loaded_bytes = 0
        self.loading_rdb_used_mem = 0

    def load(self, data: bytes, *, allow_dup: bool = False, caller: Client | None = None,
             expire_keys: bool | None = None, aof_base: bool = False) -> LoadReport:
        """Load an RDB image into the engine, serving other clients every so many bytes.

        ``aof_base``: the image is the RDB base of an AOF, whose loading progress (over all
        its files, started by the AOF loader) goes on. Raises RdbError (the dataset may then
        be partly loaded, as in Redis)."""
        engine = self.engine
        config = engine.config
        process_events = engine.extensions.get("process_events_while_blocked")
        if not aof_base:
            self.start_loading(len(data))

        def events(position: int) -> None:
            self.loading_loaded_bytes = position
            if process_events is not None:
                process_events(caller)

        # engine/eviction.py supplies a sink that applies IDLE/FREQ while it keeps access clocks.
        sink_factory = engine.extensions.get("rdb_load_sink")
        sink = sink_factory(engine, self) if sink_factory is not None else EngineSink(engine, self)
        sanitize = config.values["sanitize-dump-payload"] == "yes"
        loader = RdbLoader(data, sink, config=config, deep=sanitize, now_ms=engine.now_ms(),
                           expire_keys=(not engine.is_replica) if expire_keys is None else expire_keys,
                           allow_dup=allow_dup, verify_checksum=bool(config.values["rdbchecksum"])
                           and not engine.extensions.get("skip_checksum_validation"),
                           events=events, events_interval=config.values["loading-process-events-interval-bytes"],
                           key_delay_us=config.values["key-load-delay"], databases=len(engine.databases))
        was_loading = engine.loading
        engine.loading = True
        engine.update_gates()
        try:
            report = loader.run()
        finally:
            engine.loading = was_loading
            engine.update_gates()
            for db in engine.databases:
                db.scan_index = None        # keys came in behind SCAN's back
        self.load_keys_loaded = report.keys_loaded
        self.load_keys_expired = report.keys_expired
        if report.checksum == "disabled":
            log("notice", "RDB file was saved with checksum disabled: no check performed.")
        if report.empty_keys_skipped:
            log("notice", f"Done loading RDB, keys loaded: {report.keys_loaded}, keys expired: "
                          f"{report.keys_expired}, empty keys skipped: {report.empty_keys_skipped}.")
        else:
            log("notice", f"Done loading RDB, keys loaded: {report.keys_loaded}, keys expired: "
                          f"{report.keys_expired}.")
        return report

    def load_file(self, path: str, **options: Any) -> LoadReport | None:
        """Load the RDB file at ``path``; None if there is no such file."""
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return None
        return self.load(data, **options)

    # -- INFO ----------------------------------------------------------------------------------

    def info_fields(self, engine: Engine) -> list[tuple[str, Any]]:
        """INFO persistence: the RDB fields, in Redis's order."""
        child = self.child
        rdb_child = child is not None and child.kind == "rdb"
        now = time.monotonic()
        fields: list[tuple[str, Any]] = [("loading", 1 if engine.loading else 0)]
        if child is not None:
            self._read_child_info(child)
            processed = child.keys_processed
            fields += [
                ("current_cow_peak", child.cow_peak),
                ("current_cow_size", child.cow_size),
                ("current_cow_size_age", int(now - child.cow_updated) if child.cow_updated else 0),
                ("current_fork_perc", f"{processed * 100 / self.keys_total if self.keys_total else 0:.2f}"),
                ("current_save_keys_processed", processed),
                ("current_save_keys_total", self.keys_total),
            ]
        fields += [
            ("rdb_changes_since_last_save", engine.dirty),
            ("rdb_bgsave_in_progress", 1 if rdb_child else 0),
            ("rdb_last_save_time", self.lastsave_s),
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_bgsave_time_s),
            ("rdb_current_bgsave_time_sec", int(now - child.start) if rdb_child else -1),
            ("rdb_saves", self.saves),
            ("rdb_last_cow_size", self.last_cow_size),
            ("rdb_last_load_keys_expired", self.load_keys_expired),
            ("rdb_last_load_keys_loaded", self.load_keys_loaded),
        ]
        return fields

    def loading_info(self, engine: Engine) -> list[tuple[str, Any]]:
        """The fields INFO persistence adds while a dataset loads (after the AOF ones)."""
        if not engine.loading:
            return []
        elapsed = max(0, self.now_s() - self.loading_start_s)
        total = self.loading_total_bytes
        loaded = self.loading_loaded_bytes
        perc = loaded * 100 / total if total else 0.0
        eta = int((total - loaded) / (loaded / elapsed)) if elapsed and loaded else 1
        return [
            ("loading_start_time", self.loading_start_s),
            ("loading_total_bytes", total),
            ("loading_rdb_used_mem", self.loading_rdb_used_mem),
            ("loading_loaded_bytes", loaded),
            ("loading_loaded_perc", f"{perc:.2f}"),
            ("loading_eta_seconds", eta),
        ]


def _send_child_info(fd: int, keys: int, cow: int) -> None:
    try:
        os.write(fd, _CHILD_INFO.pack(keys, cow))
    except OSError:
        pass


def _become_child() -> None:
    """Set up a forked child: default signal handlers (the parent's loop handlers would never
    run here), no asyncio wakeup fd, 'C' in log lines, no garbage collection (the child
    exits soon, and collecting would touch -- and copy -- every page)."""
    gc.disable()
    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGHUP):
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (ValueError, OSError):
            pass
    LOGGER.role = "C"


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class EngineSink(LoadSink):
    """Loads a file's content into an engine: its databases and function libraries."""

    def __init__(self, engine: Engine, state: Persistence) -> None:
        self.engine = engine
        self.state = state

    def database(self, dbid: int) -> Any:
        return self.engine.databases[dbid]

    def aux(self, name: bytes, value: bytes, offset: int) -> None:
        text = value.decode("utf-8", "replace")
        if name == b"redis-ver":
            log("notice", f"Loading RDB produced by version {text}")
        elif name == b"ctime":
            try:
                age = int(time.time()) - int(value)
            except ValueError:
                return
            log("notice", f"RDB age {max(age, 0)} seconds")
        elif name == b"used-mem":
            try:
                used = int(value)
            except ValueError:
                return
            self.state.loading_rdb_used_mem = used
            log("notice", f"RDB memory usage when created {used / (1024 * 1024):.2f} Mb")
        elif name in (b"redis-bits", b"aof-base", b"aof-preamble", b"repl-stream-db", b"repl-id",
                      b"repl-offset", b"lua"):
            hook = self.engine.extensions.get("rdb_aux_loaded")
            if hook is not None:
                hook(name, value)
        else:
            log("debug", f"Unrecognized RDB AUX field: '{name.decode('utf-8', 'replace')}'")

    def function(self, code: bytes, allow_dup: bool) -> None:
        registry = self.engine.extensions.get("functions")
        if registry is None:
            raise RdbError("Failed loading library, functions are not available")
        try:
            library = registry.compile_library(code)
            registry.install([library], replace=allow_dup)
        except RedisError as error:
            raise RdbError(f"Failed loading library, {error.text}") from None


# -- commands ------------------------------------------------------------------------------------

def state(engine: Engine) -> Persistence:
    """The persistence state of ``engine``."""
    return engine.extensions["persistence"]


def save_command(client: Client, argv: list[bytes]) -> Status:
    """SAVE"""
    persistence = state(client.engine)
    if persistence.child is not None and persistence.child.kind == "rdb":
        raise RedisError(BGSAVE_IN_PROGRESS)
    persistence.saves += 1          # rdb_saves counts SAVE commands (failed ones too) and BGSAVE forks
    if not persistence.save():
        raise RedisError("ERR")
    return OK


def bgsave_command(client: Client, argv: list[bytes]) -> Status:
    """BGSAVE [SCHEDULE]"""
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise RedisError(SYNTAX)
    persistence = state(client.engine)
    child = persistence.child
    if child is not None and child.kind == "rdb":
        raise RedisError(BGSAVE_IN_PROGRESS)
    # Inside EXEC (the only way a handler runs with CLIENT_MULTI set) the fork waits for the cron.
    in_exec = bool(client.flags & CLIENT_MULTI)
    if child is not None or in_exec:
        if schedule or in_exec:
            persistence.bgsave_scheduled = True
            return Status(b"Background saving scheduled")
        raise RedisError(OTHER_CHILD_ACTIVE)
    if not persistence.bgsave():
        raise RedisError("ERR")
    return Status(b"Background saving started")


def debug_reload(client: Client, argv: list[bytes]) -> Status:
    """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the dataset, load the file back."""
    flush = save = True
    allow_dup = False
    for option in argv[2:]:
        word = option.lower()
        if word == b"merge":
            allow_dup = True
        elif word == b"noflush":
            flush = False
        elif word == b"nosave":
            save = False
        else:
            raise RedisError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    engine = client.engine
    persistence = state(engine)
    if save and not persistence.save():
        raise RedisError("ERR")
    if flush:
        engine.flush_all()
        functions = engine.extensions.get("functions")
        if functions is not None:
            functions.clear()
    try:
        report = persistence.load_file(persistence.path(), allow_dup=allow_dup, caller=client)
    except RdbError as error:
        log("warning", f"Internal error in RDB reading offset {max(error.offset, 0)} -> {error.message}")
        report = None
    if report is None:
        raise RedisError("ERR Error trying to load the RDB dump")
    log("warning", "DB reloaded by DEBUG RELOAD")
    return OK


# -- shutdown, FLUSHALL, startup -----------------------------------------------------------------

def _shutdown_hook(engine: Engine) -> Callable[[int], bool]:
    from specredis.engine.serverops import SHUTDOWN_NOSAVE, SHUTDOWN_SAVE

    def hook(flags: int) -> bool:
        persistence = state(engine)
        child = persistence.child
        if child is not None and child.kind == "rdb":
            log("warning", "There is a child saving an .rdb. Killing it!")
            persistence.kill_child()
        if (engine.config.values["save"] and _served(engine) and not flags & SHUTDOWN_NOSAVE) or flags & SHUTDOWN_SAVE:
            log("notice", "Saving the final RDB snapshot before exiting.")
            if not persistence.save():
                log("warning", "Error trying to save the DB, can't exit.")
                return False
        return True

    return hook


def _flushall_hook(engine: Engine) -> Callable[[], None]:
    def hook() -> None:
        # flushAllDataAndResetRDB: a running BGSAVE would write the old data; with save points
        # the (empty) dataset is saved at once.
        persistence = state(engine)
        child = persistence.child
        if child is not None and child.kind == "rdb":
            persistence.kill_child()
        if engine.config.values["save"] and _served(engine):
            persistence.save()

    return hook


def _served(engine: Engine) -> bool:
    """Whether a server runs this engine. An in-process engine (tests, tools) never writes an RDB
    on its own (FLUSHALL or SHUTDOWN with save points); SAVE, SHUTDOWN SAVE, BGSAVE and DEBUG
    RELOAD still do."""
    return engine.extensions.get("request_shutdown") is not None


def load_data_from_disk(engine: Engine) -> bool:
    """loadDataFromDisk at startup: the AOF when ``appendonly yes`` (through the AOF module's
    ``aof_load``), else the RDB file if there is one. False if the data could not be loaded:
    the server must then exit with status 1, leaving the file as it is."""
    if engine.config.values["appendonly"]:
        aof_load = engine.extensions.get("aof_load")
        if aof_load is not None:
            return bool(aof_load())
    persistence = state(engine)
    path = persistence.path()
    start = time.monotonic()
    try:
        report = persistence.load_file(path)
    except RdbError as error:
        if error.message.startswith("Unexpected EOF"):
            log("warning", "Short read or OOM loading DB. Unrecoverable error, aborting now.")
        log("warning", f"Internal error in RDB reading offset {max(error.offset, 0)}, function at rdb.c:0 -> "
                       f"{error.message}")
        _report_corruption(path)
        log("warning", "Terminating server after rdb file reading failure.")
        return False
    except OSError as error:
        log("warning", f"Fatal error loading the DB: {error.strerror}. Exiting.")
        return False
    if report is not None:
        log("notice", f"DB loaded from disk: {time.monotonic() - start:.3f} seconds")
    return True


def _report_corruption(path: str) -> None:
    # rdbCheckThenExit: Redis runs redis-check-rdb on the file and prints its report.
    try:
        from specredis.tools.check_rdb import check_file
    except ImportError:
        return
    try:
        check_file(path, out=LOGGER.stream, progress=False)
    except Exception:  # noqa: BLE001 - the report is best effort, the exit is not
        pass


# -- DEBUG OBJECT -------------------------------------------------------------------------------

_inspected_config: list[Any] = [None]       # the configuration DEBUG OBJECT measures with


def _serialized_length(value: Any) -> tuple[int, str]:
    """DEBUG OBJECT's serializedlength (rdbSavedObjectLen) and, for lists, the quicklist details."""
    from specredis.engine.persistence.rdb_save import SaveOptions, quicklist_nodes, serialize_value

    options = SaveOptions(_inspected_config[0])
    length = len(serialize_value(value, options)[1])
    if type(value).__name__ != "ListValue":
        return length, ""
    nodes = quicklist_nodes(list(value), options.list_fill)
    sizes = [len(elements[0]) if plain else 7 + sum(map(len, elements)) for plain, elements in nodes]
    count = sum(len(elements) for _, elements in nodes)
    average = count / len(nodes) if nodes else 0.0
    return length, (f" ql_nodes:{len(nodes)} ql_avg_node:{average:.2f} ql_listpack_max:{options.list_fill} "
                    f"ql_compressed:0 ql_uncompressed_size:{sum(sizes)}")


def _register_inspectors(engine: Engine) -> None:
    from specredis.engine import debug
    from specredis.engine.persistence.rdb_save import value_classes

    _inspected_config[0] = engine.config
    for cls in (bytes, bytearray, *value_classes()):
        debug.register_object_inspector(cls, _serialized_length)


# -- installation --------------------------------------------------------------------------------

def _script_write_gate(engine: Engine, previous: Any) -> Callable[[Any, Any], bytes | None]:
    """Writes from scripts meet the same MISCONF refusal (scriptVerifyWriteCommandAllow)."""
    def gate(run: Any, cmd: Any) -> bytes | None:
        if state(engine).writes_denied() and not run.caller.flags & CLIENT_MASTER:
            return MISCONF.encode()
        return previous(run, cmd) if previous is not None else None
    return gate


def install(engine: Engine) -> None:
    """Persistence state, cron, INFO fields, the shutdown and FLUSHALL hooks, DEBUG RELOAD."""
    persistence = Persistence(engine)
    engine.extensions["persistence"] = persistence
    engine.extensions["load_data_from_disk"] = lambda: load_data_from_disk(engine)
    engine.cron_hooks.append(persistence.cron)
    fields = engine.extensions.setdefault("info_fields", {}).setdefault("persistence", [])
    fields.insert(0, persistence.info_fields)
    fields.append(persistence.loading_info)
    engine.extensions.setdefault("shutdown_hooks", []).insert(0, _shutdown_hook(engine))
    engine.extensions.setdefault("flushall_hooks", []).append(_flushall_hook(engine))
    engine.extensions["script_write_gate"] = _script_write_gate(engine, engine.extensions.get("script_write_gate"))
    from specredis.engine import debug
    debug.register_subcommand("reload", debug_reload, 2, 1 << 31)
    _register_inspectors(engine)


__all__ = ["Persistence", "bgsave_command", "debug_reload", "load_data_from_disk", "private_dirty_bytes",
           "save_command", "state"]
