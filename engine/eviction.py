"""maxmemory: eviction policies, per-key access clocks (LRU/LFU), the OOM gate (evict.c).

**Access clocks.** Redis keeps 24 bits per object: an LRU clock (unix seconds, wrapping at
2^24) or, under an LFU policy, 16 bits of minutes and an 8-bit logarithmic counter.
Here a clock costs a dict entry per key (~50 bytes, plus an int under LFU), which would
break the memory budget of a small key, so clocks are kept only **while the
maxmemory-policy is an LRU or LFU policy** (whatever ``maxmemory`` is, like Redis, whose
OBJECT IDLETIME/FREQ answer without maxmemory): ``Eviction.clocks[db]`` maps key -> clock.
Under LRU every touched key shares one int, the cached clock the cron refreshes
(``server.lruclock``). A key with no entry (it existed before tracking started) counts as
accessed when tracking started; under LFU its clock value is read as LFU data, as Redis
reads an object's old LRU field after a switch to LFU (mostly a decayed 0). With any other
policy nothing is kept: OBJECT IDLETIME answers 0 (never idle). Measured (RSS growth,
200,000 small string keys): 103 bytes per key without clocks, 202 under allkeys-lru, 233
under allkeys-lfu.

Keys are touched as Redis's lookupKey touches them: while clocks are kept, the handler of
every command with keys is wrapped (``cmd.handler`` and notify's ``cmd.hot_handler``, so
the C hot loop, EXEC and scripts all run the wrapper); around the handler, a key that
existed before is accessed (LRU: the clock now; LFU: decay and logarithmic increment), a
key the command created gets a new object's clock (LFU_INIT_VAL), a key it deleted loses
its clock. Commands that look their keys up with LOOKUP_NOTOUCH (TYPE, TTL, EXISTS,
OBJECT, MEMORY USAGE...) are not wrapped; RESTORE sets the clock from IDLETIME/FREQ.
Clocks of keys deleted elsewhere (active expiry) are swept by the cron. When clocks stop,
the original handlers come back: with a non-LRU/LFU policy the hot path costs nothing.
Measured CPU per command in process: +0.15 µs under LRU, +0.5 µs under LFU; the wrapped
INCR/HSET no longer take the C hot loop's own fast paths.

**Memory and eviction.** ``used_memory`` is engine/memory.py's estimate (kept per key,
O(1) per write, while ``maxmemory`` > 0). Once the dataset comes within
:meth:`Eviction.gate_margin` of ``maxmemory``, a gate in processCommand's place (before
MISCONF) runs :meth:`Eviction.perform_evictions` before every command, then
refuses ``denyoom`` commands (every command inside MULTI but EXEC/DISCARD/QUIT/RESET,
EXEC with queued denyoom commands, scripts whose shebang flags make them denyoom) with
``-OOM``; the gate makes the C hot loop step aside (below the margin it runs, and a
batch of pipelined requests can add at most about the margin). Evictions follow evict.c: an
eviction pool of 16 candidates fed by ``maxmemory-samples`` random keys of each
database (idle time for LRU, 255 - counter for LFU, the expire time for volatile-ttl),
best candidate first; random policies pick from the databases in turn;
``maxmemory-eviction-tenacity`` bounds the time per call, the rest continues from a
timer. Each eviction deletes the key, counts ``evicted_keys``, signals the key (WATCH,
tracking), sends the ``evicted`` keyspace event and propagates DEL (UNLINK with
lazyfree-lazy-eviction).
"""

from __future__ import annotations

import bisect
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from specredis.engine.args import string_to_int
from specredis.engine.client import CLIENT_MASTER, CLIENT_MULTI, Client
from specredis.engine.command import CMD_DENYOOM, CMD_MOVABLE_KEYS, CommandDef
from specredis.engine.errors import OOM, RedisError
from specredis.engine.memory import STARTUP_BYTES, accounting, sample_keys
from specredis.engine.settings import on_change

if TYPE_CHECKING:
    from specredis.engine.core import Engine
    from specredis.engine.keyspace import Database

NOTIFY_EVICTED = 1 << 9
LRU_CLOCK_MAX = (1 << 24) - 1
LRU_CLOCK_RESOLUTION = 1000         # ms
LFU_INIT_VAL = 5
EVPOOL_SIZE = 16
ULLONG_MAX = (1 << 64) - 1
EVICT_OK, EVICT_RUNNING, EVICT_FAIL = 0, 1, 2
GATE_MARGIN_BYTES = 4 * 1024 * 1024

# Commands whose key lookups do not update the access clock (LOOKUP_NOTOUCH in Redis, or no
# lookup at all), and those whose keys are touched by what they run (scripts) or set by
# their own arguments (RESTORE's IDLETIME/FREQ).
NOTOUCH_COMMANDS = frozenset((
    "type", "ttl", "pttl", "expiretime", "pexpiretime", "exists", "object|encoding", "object|freq",
    "object|idletime", "object|refcount", "memory|usage", "restore", "restore-asking", "del", "unlink",
    "watch", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "migrate", "debug|object",
))
# Commands never refused inside MULTI under OOM (processCommand's exceptions).
_MULTI_OOM_EXEMPT = frozenset(("exec", "discard", "quit", "reset"))
_SCRIPT_COMMANDS = frozenset(("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"))
# Commands that move a key's object (and its access data) to another name or database.
_MOVING_COMMANDS = frozenset(("rename", "renamenx", "move"))


def eviction_time_limit_us(tenacity: int) -> int:
    """How long one performEvictions call may run (evictionTimeLimitUs)."""
    if tenacity <= 10:
        return 50 * tenacity        # 0 .. 500 µs
    if tenacity < 100:
        return int(500.0 * 1.15 ** (tenacity - 10.0))
    return ULLONG_MAX               # no limit


def _script_flags_deny_oom(engine: Engine, cmd: CommandDef, argv: list[bytes]) -> bool:
    """Whether EVAL*/FCALL* are denyoom by their script's flags (scriptFlagsToCmdFlags)."""
    from specredis.engine import scripting

    name = cmd.fullname
    if name.startswith("fcall"):
        registry = engine.extensions.get("functions")
        function = registry.functions.get(argv[1]) if registry is not None and len(argv) > 1 else None
        if function is None:
            return False
        flags = function.flags
    else:
        state = engine.extensions.get("scripting")
        if name.startswith("evalsha"):
            script = state.scripts.get(argv[1].lower()) if state is not None and len(argv[1]) == 40 else None
            if script is None:
                return False
            flags = script.flags
        else:
            try:
                flags, _ = scripting.parse_shebang_flags(argv[1])
            except RedisError:
                return False
    if flags & scripting.FLAG_EVAL_COMPAT:
        return False
    return not flags & (scripting.FLAG_ALLOW_OOM | scripting.FLAG_NO_WRITES)


class Eviction:
    """The maxmemory machinery of one engine (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.memory = accounting(engine)
        self.rng: random.Random = engine.rng      # the engine's (seedable) source, as Redis's random()
        self.maxmemory = 0
        self.policy = "noeviction"
        self.lru = self.lfu = self.volatile = False
        # Access clocks, per database, while the policy is LRU or LFU.
        self.clocks: list[dict[bytes, int]] | None = None
        self.lru_clock = 0                  # server.lruclock: refreshed by the cron
        self.lfu_minutes = 0                # LFUGetTimeInMinutes, refreshed with it
        self.lfu_log_factor = 10            # the lfu-* parameters (kept in step by reconfigure)
        self.lfu_decay_time = 1
        self.start_clock = 0                # the clock of keys that have no entry
        self.wrapped: dict[str, tuple[Callable, Any]] = {}     # fullname -> (handler, hot_handler)
        self.pool: list[tuple[int, int, bytes]] = []     # (score, dbid, key), best last
        self.next_random_db = 0
        self.gate_installed = False
        self.timer: Any = None
        self.exceeded_since_us = 0          # stat_last_eviction_exceeded_time
        self.exceeded_total_us = 0
        self.pre_command_oom = False        # server.pre_command_oom_state

    # -- configuration ----------------------------------------------------------------------

    def reconfigure(self) -> None:
        """Follow maxmemory and maxmemory-policy: clocks, accounting, the gate."""
        engine = self.engine
        config = engine.config
        self.lfu_log_factor = config["lfu-log-factor"]
        self.lfu_decay_time = config["lfu-decay-time"]
        policy = config["maxmemory-policy"]
        lru, lfu = policy.endswith("-lru"), policy.endswith("-lfu")
        if (lru, lfu) != (self.lru, self.lfu):
            self.stop_clocks()
            self.lru, self.lfu = lru, lfu
            if lru or lfu:
                self.start_clocks()
        self.policy = policy
        self.volatile = policy.startswith("volatile-")
        self.pool = []
        self.maxmemory = maxmemory = config["maxmemory"]
        memory = self.memory
        if maxmemory:
            memory.start_tracking()
            memory.near_limit = maxmemory - STARTUP_BYTES - self.gate_margin()
            memory.on_near_limit = self.install_gate
            memory.expires_cached = memory.expires_bytes()
            if memory.dataset_bytes() > memory.near_limit:
                self.install_gate()
        else:
            memory.on_near_limit = None
            memory.stop_tracking()
            self.remove_gate()
            self.end_exceeded()

    def gate_margin(self) -> int:
        """How far below maxmemory the gate goes on. Under it, the C hot loop runs, which checks
        no gate within a batch of pipelined requests: a batch may add this much at most."""
        return max(self.maxmemory // 16, GATE_MARGIN_BYTES)

    def install_gate(self) -> None:
        """Check memory before every command (processCommand's maxmemory step)."""
        if self.gate_installed:
            return
        engine = self.engine
        # A new list rather than an insert: check_gates may be iterating the old one.
        engine.extensions["gates"] = [self.oom_gate, *engine.extensions.get("gates", ())]
        self.gate_installed = True
        engine.update_gates()

    def remove_gate(self) -> None:
        if not self.gate_installed:
            return
        engine = self.engine
        gates = [gate for gate in engine.extensions.get("gates", ()) if gate != self.oom_gate]
        if gates:
            engine.extensions["gates"] = gates
        else:
            engine.extensions.pop("gates", None)
        self.gate_installed = False
        self.pre_command_oom = False
        engine.update_gates()

    # -- clocks -------------------------------------------------------------------------------

    def refresh_clock(self) -> None:
        """server.lruclock (LRU) or the LFU minutes, from the engine's clock."""
        now_ms = self.engine.clock()
        self.lru_clock = (now_ms // LRU_CLOCK_RESOLUTION) & LRU_CLOCK_MAX
        self.lfu_minutes = (now_ms // 60000) & 65535

    def new_clock(self) -> int:
        """The clock of a new object (createObject: LRU_CLOCK(), or LFU_INIT_VAL now)."""
        if self.lfu:
            return (self.lfu_minutes << 8) | LFU_INIT_VAL
        return self.lru_clock

    def start_clocks(self) -> None:
        engine = self.engine
        self.refresh_clock()
        self.clocks = [{} for _ in engine.databases]
        # Keys that exist already keep Redis's 24-bit field as it was: an LRU clock, which an
        # LFU policy reads as minutes and a counter (mostly decayed to 0: "LRU and LFU data
        # will take some time to adjust", as OBJECT FREQ's error puts it).
        self.start_clock = self.lru_clock
        engine.db_flushed_hooks.append(self.db_flushed)
        self.wrap_handlers()

    def stop_clocks(self) -> None:
        if self.clocks is None:
            return
        engine = self.engine
        engine.db_flushed_hooks.remove(self.db_flushed)
        self.unwrap_handlers()
        self.clocks = None

    def wrap_handlers(self) -> None:
        """Touch a command's keys before its handler runs (lookupKey's updateLRU/updateLFU).

        ``hot_handler`` (the plain handler the C hot loop runs where engine/notify.py wrapped
        ``handler``) is wrapped too."""
        for cmd in self.engine.command_defs.values():
            handler = cmd.handler
            if handler is None or cmd.fullname in NOTOUCH_COMMANDS or cmd.fullname in self.wrapped:
                continue
            if not (cmd.flags & CMD_MOVABLE_KEYS or cmd.first_key > 0):
                continue
            hot = getattr(cmd, "hot_handler", None)
            self.wrapped[cmd.fullname] = (handler, hot)
            cmd.handler = self._touching(cmd, handler)
            if hot is not None:
                cmd.hot_handler = self._touching(cmd, hot)
        self.engine._hot_table = None       # the hot loop's table holds the handlers

    def _touching(self, cmd: CommandDef, handler: Callable) -> Callable:
        """``handler`` with ``cmd``'s keys touched around it: a key that existed before is
        accessed (LRU clock now, LFU counter bumped), a key it created gets a new object's
        clock, a key it deleted loses its clock."""
        from specredis.engine.keys import command_keys

        settle = self.settle_keys
        if cmd.fullname in _MOVING_COMMANDS:
            return self._moving(cmd, handler)
        if cmd.flags & CMD_MOVABLE_KEYS:
            def keys_of(argv: list[bytes]) -> list[bytes]:
                return [argv[pos] for pos, _ in command_keys(cmd, argv) if pos < len(argv)]
        elif cmd.first_key == cmd.last_key:
            position = cmd.first_key
            clocks_of = self.clocks_of
            lru_clock_holder = self

            if not self.lfu:
                # The common case, inline: one key, LRU (touching after the handler is the same
                # as at its lookup: the clock only moves in the cron).
                def touching_lru(client: Client, argv: list[bytes]) -> Any:
                    try:
                        return handler(client, argv)
                    finally:
                        if position < len(argv):
                            db = client.db
                            key = argv[position]
                            if key in db.data:
                                clocks_of(db)[key] = lru_clock_holder.lru_clock
                            else:
                                clocks_of(db).pop(key, None)
                touching_lru.__doc__ = handler.__doc__
                touching_lru.__wrapped__ = handler      # type: ignore[attr-defined]
                return touching_lru

            lfu_touched = self.lfu_touched

            def touching_lfu(client: Client, argv: list[bytes]) -> Any:
                if position >= len(argv):
                    return handler(client, argv)
                db = client.db
                key = argv[position]
                existed = key in db.data
                try:
                    return handler(client, argv)
                finally:
                    clocks = clocks_of(db)
                    if key not in db.data:
                        clocks.pop(key, None)
                    elif existed:
                        clocks[key] = lfu_touched(clocks.get(key, lru_clock_holder.start_clock))
                    else:
                        clocks[key] = (lru_clock_holder.lfu_minutes << 8) | LFU_INIT_VAL
            touching_lfu.__doc__ = handler.__doc__
            touching_lfu.__wrapped__ = handler      # type: ignore[attr-defined]
            return touching_lfu
        else:
            first, last, step = cmd.first_key, cmd.last_key, cmd.key_step or 1

            def keys_of(argv: list[bytes]) -> list[bytes]:
                return argv[first:last + 1 if last >= 0 else len(argv) + last + 1:step]

        if self.lfu:
            def touching(client: Client, argv: list[bytes]) -> Any:
                db = client.db
                keys = keys_of(argv)
                data = db.data
                existed = [key in data for key in keys]
                try:
                    return handler(client, argv)
                finally:
                    settle(db, keys, existed)
        else:
            # LRU: whether a key existed before does not matter (its clock is "now" either way).
            settle_lru = self.settle_keys_lru

            def touching(client: Client, argv: list[bytes]) -> Any:
                try:
                    return handler(client, argv)
                finally:
                    settle_lru(client.db, keys_of(argv))
        touching.__doc__ = handler.__doc__
        touching.__wrapped__ = handler      # type: ignore[attr-defined]
        return touching

    def _moving(self, cmd: CommandDef, handler: Callable) -> Callable:
        """RENAME/RENAMENX/MOVE: the object moves with its access data (looked up, so touched)."""
        databases = self.engine.databases
        is_move = cmd.fullname == "move"

        def touching_moved(client: Client, argv: list[bytes]) -> Any:
            db = client.db
            source = argv[1]
            target_db, target = db, argv[2]
            if is_move:
                # A bad index, or the same database, is refused before any lookup.
                index = string_to_int(argv[2])
                if index is None or not 0 <= index < len(databases) or databases[index] is db:
                    return handler(client, argv)
                target_db = databases[index]
                target = source
            existed = [source in db.data, target in target_db.data]
            old = self.clocks_of(db).get(source, self.start_clock) if existed[0] else None
            try:
                return handler(client, argv)
            finally:
                if self.clocks is not None:
                    if old is not None and source not in db.data and target in target_db.data:
                        self.clocks_of(db).pop(source, None)
                        self.clocks_of(target_db)[target] = self.lfu_touched(old) if self.lfu else self.lru_clock
                    elif target_db is db and target == source:
                        self.settle_keys(db, [source], existed[:1])      # RENAME k k: one lookup
                    else:
                        self.settle_keys(db, [source], existed[:1])
                        self.settle_keys(target_db, [target], existed[1:])
        touching_moved.__doc__ = handler.__doc__
        touching_moved.__wrapped__ = handler        # type: ignore[attr-defined]
        return touching_moved

    def clocks_of(self, db: Database) -> dict[bytes, int]:
        clocks = self.clocks
        return clocks[db.id] if clocks is not None else {}

    def settle_keys_lru(self, db: Database, keys: list[bytes]) -> None:
        """:meth:`settle_keys` under LRU."""
        clocks = self.clocks
        if clocks is None:
            return
        clocks = clocks[db.id]
        data = db.data
        now = self.lru_clock
        for key in keys:
            if key in data:
                clocks[key] = now
            else:
                clocks.pop(key, None)

    def settle_keys(self, db: Database, keys: list[bytes], existed: list[bool]) -> None:
        """After a command: clocks of the keys it named (see :meth:`_touching`)."""
        clocks = self.clocks
        if clocks is None:
            return
        clocks = clocks[db.id]
        data = db.data
        lfu = self.lfu
        for key, was in zip(keys, existed, strict=False):
            if key not in data:
                clocks.pop(key, None)
            elif not lfu:
                clocks[key] = self.lru_clock
            elif was:
                clocks[key] = self.lfu_touched(clocks.get(key, self.start_clock))
            else:
                clocks[key] = (self.lfu_minutes << 8) | LFU_INIT_VAL

    def unwrap_handlers(self) -> None:
        defs = self.engine.command_defs
        for name, (handler, hot) in self.wrapped.items():
            cmd = defs.get(name)
            if cmd is not None:
                cmd.handler = handler
                if hot is not None:
                    cmd.hot_handler = hot
        self.wrapped = {}
        self.engine._hot_table = None

    def db_flushed(self, db: Database) -> None:
        self.clocks[db.id] = {}

    def databases_swapped(self, first: Database, second: Database) -> None:
        clocks = self.clocks
        if clocks is not None:
            clocks[first.id], clocks[second.id] = clocks[second.id], clocks[first.id]

    def clock_of(self, db: Database, key: bytes) -> int:
        clocks = self.clocks
        if clocks is None:
            return self.start_clock
        return clocks[db.id].get(key, self.start_clock)

    # -- LRU / LFU arithmetic (evict.c) -------------------------------------------------------

    def idle_ms(self, clock: int) -> int:
        """estimateObjectIdleTime: milliseconds since the access that set ``clock``."""
        now = self.lru_clock
        if now >= clock:
            return (now - clock) * LRU_CLOCK_RESOLUTION
        return (now + (LRU_CLOCK_MAX - clock)) * LRU_CLOCK_RESOLUTION

    def lfu_decayed(self, value: int) -> int:
        """LFUDecrAndReturn: the counter less one per lfu-decay-time minutes since the last access."""
        last_minutes = value >> 8
        counter = value & 255
        decay = self.lfu_decay_time
        if not decay:
            return counter
        now = self.lfu_minutes
        elapsed = now - last_minutes if now >= last_minutes else 65535 - last_minutes + now
        periods = elapsed // decay
        return 0 if periods > counter else counter - periods

    def lfu_touched(self, value: int) -> int:
        """updateLFU: decay, then the logarithmic increment (LFULogIncr), stamped now."""
        counter = self.lfu_decayed(value)
        if counter < 255:
            base = counter - LFU_INIT_VAL
            if base < 0:
                base = 0
            if self.rng.random() < 1.0 / (base * self.lfu_log_factor + 1):
                counter += 1
        return (self.lfu_minutes << 8) | counter

    # -- OBJECT, DEBUG OBJECT, RDB and RESTORE ------------------------------------------------

    def object_idle_seconds(self, db: Database, key: bytes) -> int:
        """OBJECT IDLETIME (and the RDB IDLE opcode)."""
        if self.clocks is None:
            return 0
        self.refresh_clock()
        return self.idle_ms(self.clock_of(db, key)) // 1000

    def object_lfu_frequency(self, db: Database, key: bytes) -> int:
        """OBJECT FREQ (and the RDB FREQ opcode)."""
        if self.clocks is None:
            return 0
        self.refresh_clock()
        return self.lfu_decayed(self.clock_of(db, key))

    def object_lru_field(self, db: Database, key: bytes) -> tuple[int, int]:
        """DEBUG OBJECT's ``lru:`` and ``lru_seconds_idle:``."""
        self.refresh_clock()
        if self.clocks is None:
            return self.lru_clock, 0
        clock = self.clock_of(db, key)
        return clock, self.idle_ms(clock) // 1000

    def set_access(self, db: Database, key: bytes, idle: int, freq: int) -> None:
        """A key restored or loaded (objectSetLRUOrLFU): IDLETIME/FREQ when given and the policy
        uses them, a new object's clock otherwise."""
        if self.clocks is None:
            return
        self.refresh_clock()
        self.apply_access(db, key, idle, freq)

    def apply_access(self, db: Database, key: bytes, idle: int, freq: int) -> None:
        """:meth:`set_access` with the clock as last refreshed (per key of a load)."""
        clocks = self.clocks
        if self.lfu:
            if freq is not None and freq >= 0:
                clocks[db.id][key] = (self.lfu_minutes << 8) | min(freq, 255)
                return
        elif idle is not None and idle >= 0:
            absolute = self.lru_clock - idle * 1000 // LRU_CLOCK_RESOLUTION
            if absolute < 0:
                # The wrapping clock underflows: half-way in the future, as Redis does.
                absolute = (self.lru_clock + LRU_CLOCK_MAX // 2) % LRU_CLOCK_MAX
            clocks[db.id][key] = absolute
            return
        clocks[db.id][key] = self.new_clock()

    # -- eviction -------------------------------------------------------------------------------

    def over_limit(self) -> int:
        """Bytes above maxmemory (0 when within it)."""
        return max(self.memory.used_memory_fast() - self.maxmemory, 0) if self.maxmemory else 0

    def safe_to_evict(self) -> bool:
        """isSafeToPerformEvictions: not while loading, a script is busy, a replica ignores
        maxmemory, or clients are paused (the evictions would be writes)."""
        engine = self.engine
        if engine.loading or engine.busy_script is not None or engine.expiry_paused:
            return False
        return not (engine.is_replica and engine.config["replica-ignore-maxmemory"])

    def score(self, db: Database, key: bytes) -> int:
        """The pool's ordering: higher means a better candidate (evictionPoolPopulate's idle)."""
        if self.lru:
            return self.idle_ms(self.clock_of(db, key))
        if self.lfu:
            return 255 - self.lfu_decayed(self.clock_of(db, key))
        return ULLONG_MAX - db.expires.get(key, 0)      # volatile-ttl

    def populate_pool(self, db: Database, source: dict) -> None:
        pool = self.pool
        samples = self.engine.config["maxmemory-samples"]
        for key in sample_keys(source, samples, self.rng):
            entry = (self.score(db, key), db.id, key)
            if len(pool) >= EVPOOL_SIZE and entry[0] < pool[0][0]:
                continue
            if any(e[2] == key and e[1] == db.id for e in pool):
                continue
            bisect.insort(pool, entry)
            if len(pool) > EVPOOL_SIZE:
                pool.pop(0)

    def best_key(self) -> tuple[Database, bytes] | None:
        """The next key to evict, or None if no database has a key the policy may evict."""
        databases = self.engine.databases
        if self.policy.endswith("-random"):
            for _ in range(len(databases)):
                db = databases[self.next_random_db]
                self.next_random_db = (self.next_random_db + 1) % len(databases)
                source = db.expires if self.volatile else db.data
                if source:
                    keys = sample_keys(source, 1, self.rng)
                    if keys:
                        return db, keys[0]
            return None
        self.refresh_clock()
        while True:
            total = 0
            for db in databases:
                source = db.expires if self.volatile else db.data
                if source:
                    self.populate_pool(db, source)
                    total += len(source)
            if not total:
                return None
            pool = self.pool
            while pool:
                _, dbid, key = pool.pop()
                db = databases[dbid]
                if key in (db.expires if self.volatile else db.data):
                    return db, key
            # Every candidate was a ghost (deleted meanwhile): sample again.

    def evict(self, db: Database, key: bytes) -> None:
        """Delete one key with every effect Redis gives an eviction."""
        engine = self.engine
        db.delete(key)
        if self.clocks is not None:
            self.clocks[db.id].pop(key, None)
        engine.stats.evicted_keys += 1
        db.signal_modified(key)
        engine.notify(NOTIFY_EVICTED, "evicted", key, db.id)
        if engine.propagation_consumers:
            verb = b"UNLINK" if engine.config["lazyfree-lazy-eviction"] else b"DEL"
            for consumer in engine.propagation_consumers:
                consumer(db.id, [[verb, key]])

    def perform_evictions(self) -> int:
        """performEvictions: free memory down to maxmemory; EVICT_OK, EVICT_RUNNING (time is up,
        a timer goes on) or EVICT_FAIL (nothing more may be evicted)."""
        if not self.safe_to_evict():
            return EVICT_OK
        to_free = self.over_limit()
        if not to_free:
            result = EVICT_OK
        elif self.policy == "noeviction":
            result = EVICT_FAIL
        else:
            result = self._evict_until(to_free)
        if result == EVICT_OK:
            self.end_exceeded()
        elif not self.exceeded_since_us:
            self.exceeded_since_us = time.monotonic_ns() // 1000
        return result

    def _evict_until(self, to_free: int) -> int:
        memory = self.memory
        limit_us = eviction_time_limit_us(self.engine.config["maxmemory-eviction-tenacity"])
        # The latency monitor's eviction-del (per key) and eviction-cycle (per call) events.
        add_sample = self.engine.extensions.get("latency_add_sample") \
            if self.engine.config["latency-monitor-threshold"] else None
        start = time.perf_counter_ns()
        freed = 0
        evicted = 0
        result = EVICT_OK
        while freed < to_free:
            best = self.best_key()
            if best is None:
                result = EVICT_FAIL
                break
            before = memory.total
            deleted_at = time.perf_counter_ns() if add_sample is not None else 0
            self.evict(*best)
            if add_sample is not None:
                add_sample("eviction-del", (time.perf_counter_ns() - deleted_at) // 1_000_000)
            freed += max(before - memory.total, 1)
            evicted += 1
            if not evicted % 16:
                if self.over_limit() == 0:
                    break
                if (time.perf_counter_ns() - start) // 1000 > limit_us:
                    self.start_timer()
                    result = EVICT_RUNNING
                    break
        if add_sample is not None:
            add_sample("eviction-cycle", (time.perf_counter_ns() - start) // 1_000_000)
        return result

    def start_timer(self) -> None:
        """startEvictionTimeProc: go on evicting from the event loop."""
        if self.timer is None:
            self.timer = self.engine.scheduler.call_later(0, self.timer_proc)

    def timer_proc(self) -> None:
        self.timer = None
        if self.maxmemory and self.perform_evictions() == EVICT_RUNNING:
            self.start_timer()

    def end_exceeded(self) -> None:
        if self.exceeded_since_us:
            self.exceeded_total_us += time.monotonic_ns() // 1000 - self.exceeded_since_us
            self.exceeded_since_us = 0

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT: the exceeded-time counters restart (a current excess from now)."""
        self.exceeded_total_us = 0
        if self.exceeded_since_us:
            self.exceeded_since_us = time.monotonic_ns() // 1000

    def info_fields(self) -> list[tuple[str, Any]]:
        current = time.monotonic_ns() // 1000 - self.exceeded_since_us if self.exceeded_since_us else 0
        return [("total_eviction_exceeded_time", (self.exceeded_total_us + current) // 1000),
                ("current_eviction_exceeded_time", current // 1000)]

    # -- the gate and scripts -------------------------------------------------------------------

    def oom_gate(self, client: Client, cmd: CommandDef, argv: list[bytes]) -> RedisError | None:
        """processCommand's maxmemory step: evict, then refuse denyoom commands if still over."""
        engine = self.engine
        if engine.busy_script is not None:
            return None         # isInsideYieldingLongCommand
        out_of_memory = self.perform_evictions() == EVICT_FAIL
        self.pre_command_oom = out_of_memory
        if not out_of_memory:
            memory = self.memory
            if memory.dataset_bytes() <= memory.near_limit and self.timer is None:
                self.remove_gate()      # well under the limit again: the hot path may run
            return None
        if client.flags & CLIENT_MASTER:
            return None         # the master's stream is obeyed (mustObeyClient)
        name = cmd.fullname
        if client.flags & CLIENT_MULTI and name not in _MULTI_OOM_EXEMPT:
            return RedisError(OOM)
        flags = cmd.flags
        dynamic = engine.extensions.get("dynamic_command_flags")
        if dynamic is not None and name == "exec":
            flags = dynamic(client, cmd, argv, flags)
        if flags & CMD_DENYOOM:
            return RedisError(OOM)
        if name in _SCRIPT_COMMANDS and len(argv) > 1 and _script_flags_deny_oom(engine, cmd, argv):
            return RedisError(OOM)
        return None

    def script_write_gate(self, previous: Any) -> Callable[[Any, Any], bytes | None]:
        """scriptVerifyOOM: a script's first write is refused if the server was out of memory
        when the script started (pcall sees the error; call raises it)."""
        def gate(run: Any, cmd: CommandDef) -> bytes | None:
            if self.maxmemory and self.pre_command_oom and not run.allow_oom and not run.wrote \
                    and cmd.flags & CMD_DENYOOM and not run.caller.flags & CLIENT_MASTER:
                return OOM.encode()
            return previous(run, cmd) if previous is not None else None
        return gate

    def cron(self) -> None:
        clocks = self.clocks
        if clocks is not None:
            self.refresh_clock()
            # Clocks of keys deleted outside a command naming them (active expiry, a blocked
            # client served later...): a few random entries checked per tick, more while many.
            for db, db_clocks in zip(self.engine.databases, clocks, strict=False):
                excess = len(db_clocks) - len(db.data)
                if excess > 0:
                    data = db.data
                    for key in sample_keys(db_clocks, 20 if excess < 1000 else 200, self.rng):
                        if key not in data:
                            db_clocks.pop(key, None)


def rdb_load_sink(engine: Engine, persistence: Any) -> Any:
    """The RDB loader's sink: while access clocks are kept, one that applies each key's IDLE or
    FREQ opcode (rdbLoad's objectSetLRUOrLFU); the plain sink otherwise (no per-key call)."""
    from specredis.engine.persistence.snapshot import EngineSink

    state = engine.extensions["eviction"]
    if state.clocks is None:
        return EngineSink(engine, persistence)

    class ClockSettingSink(EngineSink):
        def key(self, key: bytes, value: Any, expire_ms: int | None, idle: int | None, freq: int | None) -> None:
            state.apply_access(self.current_db, key, -1 if idle is None else idle, -1 if freq is None else freq)

        def database(self, dbid: int) -> Any:
            self.current_db = super().database(dbid)
            return self.current_db

    state.refresh_clock()
    sink = ClockSettingSink(engine, persistence)
    sink.current_db = engine.databases[0]
    return sink


def eviction(engine: Engine) -> Eviction:
    """The engine's eviction state."""
    return engine.extensions["eviction"]


def _reconfigure(engine: Any, value: Any) -> None:
    state = engine.extensions.get("eviction")
    if state is None:
        return
    was = state.maxmemory
    state.reconfigure()
    if state.maxmemory and state.maxmemory != was:
        # CONFIG SET maxmemory below the usage evicts at once (updateMaxmemory).
        state.perform_evictions()


def _lfu_parameters(engine: Any, value: Any) -> None:
    state = engine.extensions.get("eviction")
    if state is not None:
        state.lfu_log_factor = engine.config["lfu-log-factor"]
        state.lfu_decay_time = engine.config["lfu-decay-time"]


on_change("maxmemory", _reconfigure)
on_change("maxmemory-policy", _reconfigure)
on_change("lfu-log-factor", _lfu_parameters)
on_change("lfu-decay-time", _lfu_parameters)


def install(engine: Engine) -> None:
    """The eviction state, its config reactions, hooks for OBJECT/RDB/RESTORE, INFO fields."""
    state = Eviction(engine)
    engine.extensions["eviction"] = state
    engine.extensions["object_idle_seconds"] = state.object_idle_seconds
    engine.extensions["object_lfu_frequency"] = state.object_lfu_frequency
    engine.extensions["object_set_access"] = state.set_access
    engine.extensions["object_lru_field"] = state.object_lru_field
    engine.extensions["rdb_load_sink"] = rdb_load_sink
    engine.extensions["script_write_gate"] = state.script_write_gate(engine.extensions.get("script_write_gate"))
    engine.extensions.setdefault("swapdb_hooks", []).append(state.databases_swapped)
    engine.cron_hooks.append(state.cron)
    engine.extensions.setdefault("info_fields", {}).setdefault("stats", []).append(
        lambda _engine: state.info_fields())
    engine.extensions.setdefault("resetstat_hooks", []).append(state.reset_stats)
    state.reconfigure()
