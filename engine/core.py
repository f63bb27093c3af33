"""The engine: databases, the command table built from ``generated/``, and dispatch.

``Engine.execute(client, argv)`` is the whole command path, in Redis's gate order
(processCommand in server.c): lookup → arity → protected → auth → NO_MULTI → ACL →
cluster → OOM → MISCONF → read-only replica → RESP2 pub/sub context → loading →
busy script → pause → MULTI queueing → call. The common case (a known command,
no gate active) takes a short straight path; every gate lives behind one test.

The engine knows nothing of sockets or asyncio: time comes from an injectable
clock, timers from an injectable scheduler, and out-of-band replies go through
each client's sink.
"""

from __future__ import annotations

import copy
import importlib
import os
import random
import time
from collections.abc import Callable
from typing import Any

from specredis.engine import client as client_mod
from specredis.engine.client import (
    CLIENT_BLOCKED,
    CLIENT_MULTI,
    CLIENT_PUBSUB,
    CLIENT_SCRIPT,
    CLIENT_TRACKING_CACHING,
    Client,
)
from specredis.engine.command import (
    CMD_ALLOW_BUSY,
    CMD_DENYOOM,
    CMD_LOADING,
    CMD_MAY_REPLICATE,
    CMD_NO_AUTH,
    CMD_NO_MULTI,
    CMD_PROTECTED,
    CMD_TOUCHES_ARBITRARY_KEYS,
    CMD_WRITE,
    CommandDef,
)
from specredis.engine.errors import (
    BUSY_SCRIPT,
    LOADING,
    NOAUTH,
    RedisError,
    unknown_command,
    unknown_subcommand,
    wrong_arity,
)
from specredis.engine.keyspace import Database
from specredis.protocol.replies import NULL_ARRAY, QUEUED, ErrorReply, Map

# notify-keyspace-events classes (server.h NOTIFY_*).
NOTIFY_KEYSPACE = 1 << 0     # K
NOTIFY_KEYEVENT = 1 << 1     # E
NOTIFY_GENERIC = 1 << 2      # g
NOTIFY_STRING = 1 << 3       # $
NOTIFY_LIST = 1 << 4         # l
NOTIFY_SET = 1 << 5          # s
NOTIFY_HASH = 1 << 6         # h
NOTIFY_ZSET = 1 << 7         # z
NOTIFY_EXPIRED = 1 << 8      # x
NOTIFY_EVICTED = 1 << 9      # e
NOTIFY_STREAM = 1 << 10      # t
NOTIFY_KEY_MISS = 1 << 11    # m
NOTIFY_LOADED = 1 << 12      # module only
NOTIFY_MODULE = 1 << 13      # d
NOTIFY_NEW = 1 << 14         # n


# The commands the C hot loop may run (see Engine.hot_command_table): data commands whose
# handlers only touch the keyspace, the stats they own (keyspace hits...) and propagation.
# Not here: anything that reads command counters (INFO, COMMAND...), runs other commands
# (EXEC, EVAL...), or changes the connection (AUTH, HELLO, SELECT, CLIENT...).
HOT_COMMANDS = frozenset((
    "ping", "echo",
    "get", "set", "setnx", "setex", "psetex", "getset", "mget", "mset", "incr", "decr", "incrby", "decrby",
    "append", "strlen", "getrange", "setrange", "exists", "del", "unlink", "expire", "pexpire", "ttl", "pttl",
    "type", "persist",
    "lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange", "lindex", "lset", "ltrim",
    "sadd", "srem", "spop", "sismember", "smismember", "scard", "smembers", "srandmember",
    "hset", "hsetnx", "hget", "hmget", "hmset", "hdel", "hlen", "hexists", "hincrby", "hgetall", "hkeys", "hvals",
    "hstrlen",
    "zadd", "zrem", "zscore", "zcard", "zincrby", "zrank", "zrevrank", "zcount",
    "publish",
))

# Above any command duration: no slow-command hook is installed.
_NEVER_SLOW = 1 << 62
_perf_ns = time.perf_counter_ns


def wall_clock_ms() -> int:
    """Unix time in milliseconds."""
    return time.time_ns() // 1_000_000


class Stats:
    """Counters reported by INFO stats; reset by CONFIG RESETSTAT where Redis resets them."""

    def __init__(self) -> None:
        self.reset()
        self.total_connections_received = 0

    def reset(self) -> None:
        self.total_commands_processed = 0
        self.expired_keys = 0
        self.expired_stale_perc = 0.0
        self.expired_time_cap_reached_count = 0
        self.expire_cycle_time_used_us = 0          # active expiry's time (engine/expire.py)
        self.expire_cycle_cpu_milliseconds = 0
        self.evicted_keys = 0
        self.keyspace_hits = 0
        self.keyspace_misses = 0
        self.rejected_connections = 0
        self.total_net_input_bytes = 0
        self.total_net_output_bytes = 0
        self.total_error_replies = 0
        self.unexpected_error_replies = 0
        self.dump_payload_sanitizations = 0
        self.total_reads_processed = 0
        self.total_writes_processed = 0
        self.errors: dict[str, int] = {}


class ManualScheduler:
    """A scheduler for in-process use: timers run when :meth:`run_due` is called."""

    def __init__(self, clock: Callable[[], int]) -> None:
        self.clock = clock
        self.timers: list[list] = []

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Any:
        timer = [self.clock() + int(delay_s * 1000), callback, False]
        self.timers.append(timer)
        return _ManualHandle(timer)

    def run_due(self) -> None:
        now = self.clock()
        due = [t for t in self.timers if t[0] <= now and not t[2]]
        self.timers = [t for t in self.timers if t[0] > now and not t[2]]
        for timer in sorted(due, key=lambda t: t[0]):
            timer[1]()


class _ManualHandle:
    def __init__(self, timer: list) -> None:
        self.timer = timer

    def cancel(self) -> None:
        self.timer[2] = True


def _resolve(dotted: str) -> Callable:
    module_name, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def downgrade_for_resp2(reply: Any, hints: dict) -> Any:
    """Apply a command's RESP2 deviations (spec ``reply.resp2``) to its reply.

    ``null: array`` turns every null of the reply into ``*-1`` (BLPOP's timeout,
    GEOPOS's missing members); ``map`` and ``pairs`` apply to the top level."""
    if hints.get("null") == "array":
        reply = _nulls_as_arrays(reply)
    if type(reply) is Map and hints.get("map") == "pairs":
        return [[k, v] for k, v in reply.pairs]
    if type(reply) is list and hints.get("pairs") == "flat":
        flat: list = []
        for item in reply:
            if type(item) in (list, tuple):
                flat.extend(item)
            else:
                flat.append(item)
        return flat
    return reply


def _container_without_handler(client: Any, argv: list[bytes]) -> Any:
    raise wrong_arity(argv[0].decode(errors="replace").lower())


def _nulls_as_arrays(reply: Any) -> Any:
    if reply is None:
        return NULL_ARRAY
    if type(reply) is list:
        return [_nulls_as_arrays(item) for item in reply]
    if type(reply) is Map:
        return Map([(k, _nulls_as_arrays(v)) for k, v in reply.pairs])
    return reply


class Engine:
    """A Redis instance without its sockets."""

    NOTIFY_EXPIRED = NOTIFY_EXPIRED

    def __init__(self, config: Any = None, command_defs: tuple[CommandDef, ...] | None = None,
                 clock: Callable[[], int] | None = None, scheduler: Any = None) -> None:
        from specredis.engine.settings import default_config

        self.config = config if config is not None else default_config()
        self.clock = clock or wall_clock_ms
        self.scheduler = scheduler or ManualScheduler(self.clock)
        self.start_time_ms = self.clock()
        self.run_id = f"{random.getrandbits(160):040x}"
        self.pid = os.getpid()
        self.stats = Stats()
        self.dirty = 0
        self.rng = random.Random()
        self._client_id = 0
        self.clients: dict[int, Client] = {}
        self.databases = [Database(self, i) for i in range(self.config["databases"])]
        self.is_replica = False
        self.expiry_paused = False
        self.loading = False
        self.busy_script = None        # set while a script exceeds busy-reply-threshold
        self.gated = False             # any engine-wide gate active (recomputed by update_gates)
        self.shutdown_requested: Any = None
        # Hooks other modules plug into; each list is empty unless a feature is in use.
        self.key_modified_hooks: list[Callable[[Database, bytes], None]] = []
        self.db_flushed_hooks: list[Callable[[Database], None]] = []
        self.propagation_consumers: list[Callable[[int, list[list[bytes]]], None]] = []
        self.notify_hooks: list[Callable[[int, str, bytes, int], None]] = []
        self.after_command_hooks: list[Callable[[Client, CommandDef, list[bytes], int], None]] = []
        # Hooks for commands that took at least their threshold (slow log, latency monitor):
        # name -> (threshold_us, hook). slow_us is the lowest threshold, so a fast command
        # pays one comparison instead of a call per hook (see set_slow_command_hook).
        self.slow_command_hooks: dict[str, tuple[int, Callable[[Client, CommandDef, list[bytes], int], None]]] = {}
        self.slow_us = _NEVER_SLOW
        self.cron_hooks: list[Callable[[], None]] = []
        self.ready_keys: list[tuple[Database, bytes]] = []
        self.handle_ready_keys: Callable[[], None] | None = None
        self.notify_flags = 0
        # The client whose request is being processed (Redis's server.current_client), kept
        # only while client tracking needs it (its NOLOOP and deferred invalidations): set by a
        # late gate engine/tracking.py installs, cleared by cron().
        self.current_client: Client | None = None
        self._rewritten: list[bytes] | None = None
        self._also: list[tuple[int, list[bytes]]] = []
        self._prevent = False
        self.monitors: list[Client] = []
        self.slowlog: list = []
        self.slowlog_next_id = 0
        self.build_command_table(command_defs)
        self._hot_table: dict | None = None     # hot_command_table()'s cache
        self._hot_key: tuple | None = None
        self.extensions: dict[str, Any] = {}
        from specredis.engine import features
        features.install(self)
        self.apply_config()

    # -- setup ------------------------------------------------------------------------

    def build_command_table(self, command_defs: tuple[CommandDef, ...] | None) -> None:
        """Build the dispatch dicts from the generated table: only implemented commands are served."""
        if command_defs is None:
            from specredis.generated.command_table import COMMAND_DEFS
            command_defs = COMMAND_DEFS
        defs = {d.fullname: copy.copy(d) for d in command_defs}
        for d in defs.values():
            d.subcommands = {}
            d.calls = d.usec = d.rejected_calls = d.failed_calls = 0
            d.latency_us = None        # {elapsed_us: count} while latency-tracking is on (engine/info.py)
            hints = (d.reply or {}).get("resp2") if isinstance(d.reply, dict) else None
            d.resp2_hints = hints or None
            d.handler = _resolve(d.handler_name) if d.implemented and d.handler_name else None
            d.getkeys = _resolve(d.getkeys_name) if d.getkeys_name and d.implemented else None
            d.multi_immediate = (d.engine or {}).get("multi") == "immediate"
            d.pubsub_allowed = (d.engine or {}).get("pubsub_resp2") == "allow"
        for d in defs.values():
            if d.handler is None and d.implemented:
                # A container called without a subcommand: only COMMAND (arity -1) gets here.
                d.handler = _container_without_handler
            if d.container and d.implemented:
                defs[d.container].subcommands[d.name.encode()] = d
        self.command_defs = defs
        self.commands: dict[bytes, CommandDef] = {}
        for d in defs.values():
            if d.container is None and d.implemented:
                for variant in (d.name, d.name.upper()):
                    self.commands[variant.encode()] = d

    def apply_config(self) -> None:
        """Run every parameter's apply hook once, so derived engine state matches the config."""
        for param in self.config.params.values():
            if param.apply is not None:
                param.apply(self, self.config.values[param.name])

    def update_gates(self) -> None:
        """Recompute whether any engine-wide gate may reject or divert commands."""
        self.gated = bool(self.loading or self.busy_script is not None or self.extensions.get("gates")
                          or self.extensions.get("late_gates"))

    # -- small services -----------------------------------------------------------------

    def now_ms(self) -> int:
        return self.clock()

    def fix_time(self) -> bool:
        """Make :meth:`now_ms` return the time of this call until :meth:`release_time`.

        Redis fixes the time keys expire against for the whole of an outermost command
        (call()'s fixed_time_expire): a key alive when EXEC starts is alive for every
        command it runs, however long they take. Returns False (and changes nothing) when
        the time is already fixed by an outer command; only the caller that got True
        releases it. An instance attribute shadows the method, so the common path pays
        nothing. Elapsed-time measurements (busy scripts) read :attr:`clock` instead."""
        if "now_ms" in self.__dict__:
            return False
        fixed = self.clock()
        self.now_ms = lambda: fixed  # type: ignore[method-assign]
        return True

    def release_time(self) -> None:
        """Undo :meth:`fix_time`: :meth:`now_ms` reads the clock again."""
        self.__dict__.pop("now_ms", None)

    def next_client_id(self) -> int:
        self._client_id += 1
        return self._client_id

    def auth_required(self) -> bool:
        return bool(self.config["requirepass"])

    def register_client(self, client: Client) -> None:
        self.clients[client.id] = client
        self.stats.total_connections_received += 1

    def unregister_client(self, client: Client) -> None:
        """Forget a closed connection: subscriptions, watches, blocking state go with it."""
        for hook in self.extensions.get("client_closed_hooks", ()):
            hook(client)
        self.clients.pop(client.id, None)
        if client in self.monitors:
            self.monitors.remove(client)

    def new_client(self, sink: Any = None, addr: str = "", laddr: str = "") -> Client:
        """A client for in-process use (tests, scripts, tools)."""
        client = Client(self, sink or client_mod.CollectingSink(), addr, laddr)
        self.register_client(client)
        return client

    # -- write effects ------------------------------------------------------------------

    def notify(self, event_class: int, event: str, key: bytes, dbid: int) -> None:
        """Keyspace notification (notifyKeyspaceEvent); a no-op unless enabled for the class."""
        if self.notify_flags & event_class and self.notify_hooks:
            for hook in self.notify_hooks:
                hook(event_class, event, key, dbid)

    def rewrite_command(self, argv: list[bytes]) -> None:
        """Propagate the current command as ``argv`` instead (SET EX -> SET PXAT)."""
        self._rewritten = argv

    def also_propagate(self, dbid: int, argv: list[bytes]) -> None:
        """Propagate ``argv`` besides (or, with prevent_propagation, instead of) the command."""
        self._also.append((dbid, argv))

    def prevent_propagation(self) -> None:
        """Do not propagate the current command itself (SPOP → its SREMs)."""
        self._prevent = True

    def discard_propagation(self) -> None:
        """Forget what the command that just ran asked to propagate (commands replayed from
        the AOF run their handler only and propagate nothing)."""
        self._rewritten = None
        self._also = []
        self._prevent = False

    def propagate_expired(self, db: Database, key: bytes, lazy: bool = False) -> None:
        """An expired or evicted key is propagated as DEL (UNLINK with lazyfree).

        ``lazy``: a command met the expired key. Its DEL then joins the command's own effects
        (Redis's alsoPropagate), so that a write to the key travels as ``MULTI, DEL, write,
        EXEC`` and several DELs of one read as one transaction (propagatePendingCommands)."""
        if self.propagation_consumers:
            verb = b"UNLINK" if self.config["lazyfree-lazy-expire"] else b"DEL"
            if lazy:
                self._also.append((db.id, [verb, key]))
                return
            for consumer in self.propagation_consumers:
                consumer(db.id, [[verb, key]])

    def propagate_now(self, dbid: int, argv: list[bytes]) -> None:
        """Propagate ``argv`` outside a command's call() (a blocked client being served), after
        the effects pending meanwhile (the DEL of a key the serving found expired): several
        travel as one transaction, as Redis propagates a served blocked command."""
        ops = self._also
        if ops:
            self._also = []
            ops.append((dbid, argv))
        else:
            ops = [(dbid, argv)]
        self._send_ops(ops)

    def flush_propagation(self) -> None:
        """Send the effects left pending outside any command (keys found expired while blocked
        clients were served), as one transaction if there are several."""
        ops = self._also
        if ops:
            self._also = []
            self._send_ops(ops)

    def _send_ops(self, ops: list[tuple[int, list[bytes]]], wrap: bool | None = None) -> None:
        """Send ``ops`` to the propagation consumers, inside MULTI/EXEC when ``wrap``
        (default: when there are several)."""
        consumers = self.propagation_consumers
        if wrap is None:
            wrap = len(ops) > 1
        if wrap:
            for consumer in consumers:
                consumer(ops[0][0], [[b"MULTI"]])
        for dbid, one in ops:
            for consumer in consumers:
                consumer(dbid, [one])
        if wrap:
            for consumer in consumers:
                consumer(ops[-1][0], [[b"EXEC"]])

    def _propagate(self, client: Client, cmd: CommandDef, argv: list[bytes], changed: bool | None = None) -> None:
        """Send what the command that just ran propagates: its pending effects, then itself.

        ``changed``: whether the command changed the dataset (its dirty count moved); a
        command that changed nothing is not propagated itself even when effects are pending
        (the DEL of a key it found expired). None when the caller does not know: as changed."""
        ops: list[tuple[int, list[bytes]]] = self._also
        if not ops and self._rewritten is None and not self._prevent:
            # The common case (a write propagated as it was sent): nothing to reset or wrap.
            if cmd.flags & (CMD_WRITE | CMD_MAY_REPLICATE):
                dbid = client.db.id
                for consumer in self.propagation_consumers:
                    consumer(dbid, [argv])
            return
        # Redis's order: what the command asked for while it ran, then the command itself.
        if not self._prevent and changed is not False and cmd.flags & (CMD_WRITE | CMD_MAY_REPLICATE):
            ops.append((client.db.id, self._rewritten if self._rewritten is not None else argv))
        self._rewritten = None
        self._also = []
        self._prevent = False
        if ops and self.propagation_consumers:
            # Several effects of one command travel as one transaction (propagatePendingCommands),
            # unless EXEC or a script is already collecting them into theirs, or the command
            # touches arbitrary keys (SCAN's expired keys go one by one, as active expiry's).
            self._send_ops(ops, wrap=len(ops) > 1 and not client.flags & (CLIENT_MULTI | CLIENT_SCRIPT)
                           and not cmd.flags & CMD_TOUCHES_ARBITRARY_KEYS)

    # -- dispatch -----------------------------------------------------------------------

    def lookup_command(self, argv: list[bytes]) -> CommandDef | None:
        """The command (or subcommand) ``argv`` names, or None. No arity check."""
        cmd = self.commands.get(argv[0]) or self.commands.get(argv[0].lower())
        if cmd is not None and cmd.subcommands and len(argv) >= 2:
            return cmd.subcommands.get(argv[1].lower())
        return cmd

    def execute(self, client: Client, argv: list[bytes]) -> Any:
        """Run one request and return its reply (a typed reply value)."""
        cmd = self.commands.get(argv[0])
        if cmd is None:
            cmd = self.commands.get(argv[0].lower())
            if cmd is None:
                client.last_command = None
                return self.reject(client, unknown_command(argv[0], argv[1:]), None)
        argc = len(argv)
        if cmd.subcommands and argc > 1:
            sub = cmd.subcommands.get(argv[1].lower())
            if sub is None:
                client.last_command = None
                return self.reject(client, unknown_subcommand(argv[1], argv[0].decode(errors="replace")), None)
            cmd = sub
        # Redis's c->lastcmd (CLIENT LIST cmd=): the command looked up, whether it then runs,
        # is refused or queued; the commands EXEC runs do not change it.
        client.last_command = cmd
        arity = cmd.arity
        if arity != argc and (arity > 0 or argc < -arity):
            return self.reject(client, wrong_arity(cmd.fullname), cmd)
        if self.gated or client.flags & (CLIENT_MULTI | CLIENT_PUBSUB) or not client.authenticated \
                or cmd.flags & CMD_PROTECTED:
            gate_reply = self.check_gates(client, cmd, argv)
            if gate_reply is not None:
                return gate_reply
        return self.call(client, cmd, argv)

    def check_gates(self, client: Client, cmd: CommandDef, argv: list[bytes]) -> Any:
        """The gates after arity, in Redis's order; a reply ends the command, None lets it run."""
        if cmd.flags & CMD_PROTECTED:
            allowed = self.extensions.get("protected_allowed")
            if allowed is not None and not allowed(client, cmd):
                name = cmd.fullname.split("|")[0].upper()
                return self.reject(client, RedisError(
                    f"ERR {name} command not allowed. If the {(cmd.engine or {}).get('protected_by', 'enable-debug-command')}"
                    " option is set to \"local\", you can run it from a local connection, otherwise you need to"
                    " set this option in the configuration file, and then restart the server."), cmd)
        if not client.authenticated and not cmd.flags & CMD_NO_AUTH:
            return self.reject(client, RedisError(NOAUTH), cmd)
        if client.flags & CLIENT_MULTI and cmd.flags & CMD_NO_MULTI:
            return self.reject(client, RedisError("ERR Command not allowed inside a transaction"), cmd)
        for gate in self.extensions.get("gates", ()):
            # Gates 6-12 (ACL, cluster redirection, OOM, MISCONF, read-only replica), plugged
            # in by their modules: each returns None to let the command through, a RedisError
            # to reject it, or a finished reply (e.g. -MOVED).
            reply = gate(client, cmd, argv)
            if reply is not None:
                return self.reject(client, reply, cmd) if isinstance(reply, RedisError) else reply
        if client.flags & CLIENT_PUBSUB and client.resp == 2 and not cmd.pubsub_allowed:
            return self.reject(client, RedisError(
                f"ERR Can't execute '{cmd.fullname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
                "RESET are allowed in this context"), cmd)
        if self.loading and not cmd.flags & CMD_LOADING:
            return self.reject(client, RedisError(LOADING), cmd)
        if self.busy_script is not None and not cmd.flags & CMD_ALLOW_BUSY:
            return self.reject(client, RedisError(self.busy_script if isinstance(self.busy_script, str)
                                                  else BUSY_SCRIPT), cmd)
        for gate in self.extensions.get("late_gates", ()):
            # Gates 14-19 (stale replica, async loading, client pause), same contract.
            reply = gate(client, cmd, argv)
            if reply is not None:
                return self.reject(client, reply, cmd) if isinstance(reply, RedisError) else reply
        if client.flags & CLIENT_MULTI and not cmd.multi_immediate:
            queue = self.extensions.get("multi_queue")
            if queue is not None:
                return queue(client, cmd, argv)
            return QUEUED
        return None

    def reject(self, client: Client, error: RedisError, cmd: CommandDef | None) -> ErrorReply:
        """A command refused before it ran: counts rejected_calls and errorstats.

        Inside MULTI a rejected command also flags the transaction (EXECABORT)."""
        if cmd is not None:
            cmd.rejected_calls += 1
        if client.flags & CLIENT_TRACKING_CACHING and not client.flags & CLIENT_MULTI \
                and (cmd is None or cmd.container != "client"):
            # CLIENT CACHING covers the next request only, even a refused one (engine/tracking.py).
            client.flags &= ~CLIENT_TRACKING_CACHING
        if client.flags & CLIENT_MULTI:
            flag_exec = self.extensions.get("multi_flag_error")
            if flag_exec is not None:
                flag_exec(client)
        return self.error_reply(error)

    def error_reply(self, error: RedisError) -> ErrorReply:
        stats = self.stats
        stats.total_error_replies += 1
        code = error.code
        stats.errors[code] = stats.errors.get(code, 0) + 1
        return ErrorReply(error.text.encode("utf-8", "surrogateescape"))

    def call(self, client: Client, cmd: CommandDef, argv: list[bytes]) -> Any:
        """Run a command that passed the gates (Redis's call()): timing, stats, propagation."""
        dirty = self.dirty
        client.current_command = cmd
        start = _perf_ns()
        try:
            reply = cmd.handler(client, argv)
        except RedisError as error:
            cmd.failed_calls += 1
            reply = self.error_reply(error)
        elapsed_us = (_perf_ns() - start) // 1000
        cmd.calls += 1
        cmd.usec += elapsed_us
        latency = cmd.latency_us
        if latency is not None and not client.flags & CLIENT_BLOCKED:
            # A command that blocked is timed when it is served (engine/blocking.py); one that
            # times out is not timed at all, as in Redis 7.0.
            latency[elapsed_us] = latency.get(elapsed_us, 0) + 1
        self.stats.total_commands_processed += 1
        client.commands_processed += 1
        if self.dirty != dirty or self._also:
            # Nothing to send and nothing to reset (the common case without AOF or replicas):
            # skip the call.
            if self.propagation_consumers or self._also or self._rewritten is not None or self._prevent:
                self._propagate(client, cmd, argv, self.dirty != dirty)
        if elapsed_us >= self.slow_us:
            self.run_slow_hooks(client, cmd, argv, elapsed_us)
        if self.after_command_hooks:
            self.run_after_command_hooks(client, cmd, argv, elapsed_us)
        if self.ready_keys and self.handle_ready_keys is not None:
            self.handle_ready_keys()
        if cmd.resp2_hints is not None and client.resp == 2:
            reply = downgrade_for_resp2(reply, cmd.resp2_hints)
        return reply

    def run_slow_hooks(self, client: Client, cmd: CommandDef, argv: list[bytes], elapsed_us: int) -> None:
        """The slow-command hooks whose threshold ``elapsed_us`` reaches (call() and the C hot loop)."""
        for threshold_us, slow_hook in list(self.slow_command_hooks.values()):
            if elapsed_us >= threshold_us:
                slow_hook(client, cmd, argv, elapsed_us)

    def run_after_command_hooks(self, client: Client, cmd: CommandDef, argv: list[bytes], elapsed_us: int) -> None:
        """Every after-command hook (MONITOR, client tracking), in order."""
        for hook in self.after_command_hooks:
            hook(client, cmd, argv, elapsed_us)

    def hot_command_table(self) -> dict[bytes, tuple[CommandDef, Callable, int]]:
        """The commands the C hot loop (specredis/_hotloop.c) may run: name -> (cmd, handler, arity).

        Plain data commands only (HOT_COMMANDS): no subcommands, no RESP2 reply rewriting,
        not protected, and handlers that never read the per-command counters the hot loop
        adds up per batch. Built from ``self.commands`` (so renamed commands keep their new
        names) and rebuilt when that table changes size."""
        commands = self.commands
        key = (id(commands), len(commands))
        if self._hot_table is not None and key == self._hot_key:
            return self._hot_table
        table: dict[bytes, tuple[CommandDef, Callable, int]] = {}
        for name, d in commands.items():
            if d.fullname in HOT_COMMANDS and d.handler is not None and not d.subcommands \
                    and d.resp2_hints is None and not d.flags & CMD_PROTECTED:
                # hot_handler: the plain handler where a feature wrapped it for clients the hot
                # loop never runs (engine/notify.py's reply-first ordering for subscribers).
                table[name] = (d, getattr(d, "hot_handler", None) or d.handler, d.arity)
        self._hot_table = table
        self._hot_key = key
        return table

    def set_slow_command_hook(self, name: str, hook: Callable[[Client, CommandDef, list[bytes], int], None] | None,
                              threshold_us: int = 0) -> None:
        """Call ``hook(client, cmd, argv, elapsed_us)`` after every command that took at least
        ``threshold_us`` microseconds (replacing any hook of that name); None removes it."""
        if hook is None:
            self.slow_command_hooks.pop(name, None)
        else:
            self.slow_command_hooks[name] = (threshold_us, hook)
        self.slow_us = min((threshold for threshold, _ in self.slow_command_hooks.values()), default=_NEVER_SLOW)

    # -- periodic work ------------------------------------------------------------------

    def cron(self) -> None:
        """serverCron: called hz times a second by the server loop (active expiry, timeouts...)."""
        self.current_client = None      # keys expired from here were changed by no client
        if self._also:
            self.flush_propagation()
        for hook in self.cron_hooks:
            hook()

    def flush_all(self) -> int:
        removed = 0
        for db in self.databases:
            removed += db.flush()
        return removed

    def denyoom(self, cmd: CommandDef) -> bool:
        return bool(cmd.flags & CMD_DENYOOM)
