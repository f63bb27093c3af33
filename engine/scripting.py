"""Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis 7.0's eval.c/script.c).

Scripts compile once into the script cache (by SHA1 of the body) and run in the eval
Lua state of ``engine/luaapi.py``. A run is atomic: the server is single-threaded, and
clients blocked on keys the script writes are served only after it ends (the run holds
``engine/blocking.py``'s ``suspend_serving``). Commands a script runs go through
``engine.call`` as the script's fake client (``CLIENT_SCRIPT``: blocking commands answer
at once). Their propagation is the script's effects: the commands it ran, wrapped in
MULTI/EXEC when there are several, as Redis 7.0 does (EVAL itself never propagates).

Busy scripts: the Lua state calls back every 100000 instructions. Past
``busy-reply-threshold`` milliseconds the script is *busy*: ``engine.busy_script``
makes the dispatcher answer BUSY to commands without the ``allow_busy`` flag, and
``engine.extensions["process_events_while_blocked"]`` (installed by the server glue)
lets other clients in while the script runs, so that SCRIPT KILL or SHUTDOWN NOSAVE
can reach the server. SCRIPT KILL ends a script that has not written yet.

The shared run state (which script runs now) lives in :class:`Scripting`, also used by
``engine/functions.py`` for FCALL and FUNCTION KILL/STATS.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from specredis.engine.args import parse_int
from specredis.engine.blocking import suspend_serving
from specredis.engine.client import CLIENT_MULTI, Client
from specredis.engine.errors import BUSY_SCRIPT, NOSCRIPT, RedisError, subcommand_syntax_error
from specredis.engine.help import help_reply
from specredis.engine.luaapi import REPL_AOF, LuaState, ScriptRun
from specredis.protocol.replies import OK
from specredis.util.log import log

if TYPE_CHECKING:
    from specredis.engine.core import Engine

BUSY_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
NOTBUSY = "NOTBUSY No scripts in execution right now."
UNKILLABLE = ("UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
              "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
              "NOSAVE command.")
RO_WITH_WRITE_FLAG = "ERR Can not execute a script with write flag using *_ro command."

# Script flags (shebang ``flags=`` / FUNCTION flags), as Redis names them.
FLAG_NO_WRITES = 1 << 0
FLAG_ALLOW_OOM = 1 << 1
FLAG_ALLOW_STALE = 1 << 2
FLAG_NO_CLUSTER = 1 << 3
FLAG_ALLOW_CROSS_SLOT = 1 << 4
FLAG_EVAL_COMPAT = 1 << 5       # an EVAL script without a shebang: the pre-7.0 rules
SCRIPT_FLAGS = {
    b"no-writes": FLAG_NO_WRITES,
    b"allow-oom": FLAG_ALLOW_OOM,
    b"allow-stale": FLAG_ALLOW_STALE,
    b"no-cluster": FLAG_NO_CLUSTER,
    b"allow-cross-slot-keys": FLAG_ALLOW_CROSS_SLOT,
}

SCRIPT_HELP = (
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
)


class CachedScript:
    """A compiled EVAL script: its body, its Lua function and its shebang flags."""

    __slots__ = ("body", "function", "flags")

    def __init__(self, body: bytes, function: Any, flags: int) -> None:
        self.body = body
        self.function = function
        self.flags = flags


def parse_shebang_flags(body: bytes) -> tuple[int, bytes]:
    """The flags of an EVAL script's ``#!lua`` line, and the body Lua compiles.

    The shebang line is blanked rather than removed, so line numbers in errors stay right."""
    if not body.startswith(b"#!"):
        return FLAG_EVAL_COMPAT, body
    end = body.find(b"\n")
    if end < 0:
        raise RedisError("ERR Invalid script shebang")
    parts = body[:end].split()
    if not parts or parts[0] != b"#!lua":
        engine = parts[0] if parts else b"#!"
        raise RedisError(f"ERR Unexpected engine in script shebang: {engine.decode('utf-8', 'surrogateescape')}")
    flags = 0
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise RedisError(f"ERR Unknown lua shebang option: {part.decode('utf-8', 'surrogateescape')}")
        for name in part[6:].split(b","):
            if not name:
                continue
            flag = SCRIPT_FLAGS.get(name)
            if flag is None:
                raise RedisError(f"ERR Unexpected flag in script shebang: {name.decode('utf-8', 'surrogateescape')}")
            flags |= flag
    return flags, body[end:]


def parse_numkeys(argv: list[bytes], first_key: int = 3) -> int:
    """EVAL/FCALL's numkeys, with Redis's errors."""
    numkeys = parse_int(argv[2])
    if numkeys > len(argv) - first_key:
        raise RedisError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise RedisError("ERR Number of keys can't be negative")
    return numkeys


class Scripting:
    """Per-engine scripting state: the eval Lua state, the script cache, the running script."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lua: LuaState | None = None
        self.scripts: dict[bytes, CachedScript] = {}
        self.current: ScriptRun | None = None
        self.cache_bytes = 0

    @property
    def lua(self) -> LuaState:
        if self._lua is None:
            self._lua = LuaState(self.engine, "eval")
            self._lua.hook_callback = self.on_hook
        return self._lua

    # -- the cache --------------------------------------------------------------------

    def load(self, body: bytes) -> tuple[bytes, CachedScript]:
        """Compile ``body`` into the cache (once); its SHA1 and the cached script."""
        sha = hashlib.sha1(body).hexdigest().encode()
        script = self.scripts.get(sha)
        if script is not None:
            return sha, script
        flags, code = parse_shebang_flags(body)
        function, error = self.lua.compile(code, b"@user_script")
        if function is None:
            text = error.decode("utf-8", "surrogateescape") if isinstance(error, bytes) else str(error)
            raise RedisError(f"ERR Error compiling script (new function): {text}")
        script = CachedScript(body, function, flags)
        self.scripts[sha] = script
        self.cache_bytes += len(body)
        self.engine.extensions["cached_scripts"] = len(self.scripts)
        return sha, script

    def flush(self) -> None:
        """SCRIPT FLUSH: forget every script and start a fresh Lua state, as Redis does."""
        self.scripts = {}
        self.cache_bytes = 0
        self._lua = None
        self.engine.extensions["cached_scripts"] = 0

    # -- running ----------------------------------------------------------------------

    def run(self, client: Client, lua: LuaState, function: Any, run: ScriptRun, keys: list[bytes],
            args: list[bytes], session: Any = None) -> Any:
        """Run ``function`` as ``run``: atomically, with the script's effects propagated
        (under the Lua debugger when ``session``, an engine/ldb.py session, is given)."""
        engine = self.engine
        consumers = engine.propagation_consumers
        collected: list[tuple[int, list[bytes]]] = []
        if consumers:
            def collect(dbid: int, ops: list[list[bytes]]) -> None:
                # redis.set_repl(): the consumers here feed the AOF (specredis has no replicas),
                # so only effects made with the REPL_AOF bit reach them.
                if run.repl & REPL_AOF:
                    collected.extend((dbid, op) for op in ops)
            engine.propagation_consumers = [collect]
        dirty = engine.dirty
        previous = self.current
        self.current = run
        # Keys expire against the script's start time for all its calls (Redis's
        # scriptTimeSnapshot); its busy time is measured on the clock itself (on_hook).
        fixed_here = engine.fix_time()
        try:
            with suspend_serving(engine):
                if session is not None:
                    return lua.call_debug(run, function, keys, args, session)
                return lua.call(run, function, keys, args)
        finally:
            if fixed_here:
                engine.release_time()
            self.current = previous
            if run.busy:
                engine.busy_script = None
                engine.update_gates()
                log("warning", "Slow script ended" if not run.killed else "Script killed by user")
            engine.propagation_consumers = consumers
            if engine.dirty != dirty:
                engine.prevent_propagation()        # the script's effects stand for it
            if collected:
                self._propagate(client, consumers, collected)

    @staticmethod
    def _propagate(client: Client, consumers: list, ops: list[tuple[int, list[bytes]]]) -> None:
        wrap = len(ops) > 1 and not client.flags & CLIENT_MULTI
        if wrap:
            for consumer in consumers:
                consumer(ops[0][0], [[b"MULTI"]])
        for dbid, op in ops:
            for consumer in consumers:
                consumer(dbid, [op])
        if wrap:
            for consumer in consumers:
                consumer(ops[0][0], [[b"EXEC"]])

    def on_hook(self, run: ScriptRun) -> None:
        """The Lua instruction hook: past busy-reply-threshold, serve other clients."""
        engine = self.engine
        if not run.busy:
            elapsed = engine.clock() - run.start_ms
            if elapsed < engine.config["busy-reply-threshold"]:
                return
            run.busy = True
            engine.busy_script = BUSY_FUNCTION if run.is_function else BUSY_SCRIPT
            engine.update_gates()
            kill = "FUNCTION KILL" if run.is_function else "SCRIPT KILL"
            log("warning", f"Slow script detected: still in execution after {elapsed} milliseconds. You can try "
                           f"killing the script using the {kill} command. Script name is: {run.name}.")
        process = engine.extensions.get("process_events_while_blocked")
        if process is not None:
            process(run.caller)

    def kill(self, by_function_kill: bool) -> Any:
        """SCRIPT KILL / FUNCTION KILL."""
        run = self.current
        if run is None or not run.busy:
            raise RedisError(NOTBUSY)
        if run.is_function != by_function_kill:
            raise RedisError(BUSY_FUNCTION if run.is_function else BUSY_SCRIPT)
        if run.wrote:
            raise RedisError(UNKILLABLE)
        run.killed = True
        return OK


def scripting(engine: Engine) -> Scripting:
    return engine.extensions["scripting"]


# -- EVAL family ----------------------------------------------------------------------------

def _eval(client: Client, argv: list[bytes], by_sha: bool, read_only: bool) -> Any:
    if client.extra and "ldb" in client.extra:
        # SCRIPT DEBUG YES|SYNC was given: this EVAL is a debugging session (engine/ldb.py).
        if by_sha:
            raise RedisError("ERR Please use EVAL instead of EVALSHA for debugging")
        from specredis.engine import ldb
        return ldb.debug_eval(client, argv, read_only)
    return run_eval(client, argv, by_sha, read_only)


def run_eval(client: Client, argv: list[bytes], by_sha: bool, read_only: bool, session: Any = None) -> Any:
    """The EVAL family's work: load (or find) the script and run it."""
    numkeys = parse_numkeys(argv)
    state = scripting(client.engine)
    if by_sha:
        sha = argv[1].lower()
        script = state.scripts.get(sha) if len(sha) == 40 else None
        if script is None:
            raise RedisError(NOSCRIPT)
    else:
        sha, script = state.load(argv[1])
    flags = script.flags
    if read_only and not flags & (FLAG_EVAL_COMPAT | FLAG_NO_WRITES):
        raise RedisError(RO_WITH_WRITE_FLAG)
    engine = client.engine
    run = ScriptRun(client, sha.decode(), read_only or bool(flags & FLAG_NO_WRITES), False, engine.now_ms(),
                    argv[0].lower(), bool(flags & FLAG_ALLOW_OOM))
    run.command_argv = argv
    keys = argv[3:3 + numkeys]
    args = argv[3 + numkeys:]
    return state.run(client, state.lua, script.function, run, keys, args, session)


def eval_command(client: Client, argv: list[bytes]) -> Any:
    """EVAL script numkeys [key [key ...]] [arg [arg ...]]"""
    return _eval(client, argv, False, False)


def evalsha_command(client: Client, argv: list[bytes]) -> Any:
    """EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]]"""
    return _eval(client, argv, True, False)


def eval_ro_command(client: Client, argv: list[bytes]) -> Any:
    """EVAL_RO script numkeys [key [key ...]] [arg [arg ...]]"""
    return _eval(client, argv, False, True)


def evalsha_ro_command(client: Client, argv: list[bytes]) -> Any:
    """EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]]"""
    return _eval(client, argv, True, True)


# -- SCRIPT ---------------------------------------------------------------------------------

def script_load_command(client: Client, argv: list[bytes]) -> Any:
    """SCRIPT LOAD script"""
    sha, _ = scripting(client.engine).load(argv[2])
    return sha


def script_exists_command(client: Client, argv: list[bytes]) -> Any:
    """SCRIPT EXISTS sha1 [sha1 ...]"""
    scripts = scripting(client.engine).scripts
    return [1 if sha.lower() in scripts else 0 for sha in argv[2:]]


def script_flush_command(client: Client, argv: list[bytes]) -> Any:
    """SCRIPT FLUSH [ASYNC|SYNC]"""
    if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"sync", b"async")):
        raise RedisError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    scripting(client.engine).flush()
    return OK


def script_kill_command(client: Client, argv: list[bytes]) -> Any:
    """SCRIPT KILL"""
    return scripting(client.engine).kill(by_function_kill=False)


def script_debug_command(client: Client, argv: list[bytes]) -> Any:
    """SCRIPT DEBUG YES|SYNC|NO"""
    # Redis refuses it while replies to earlier requests wait to be written (a pipeline, or
    # EXEC's array around it): the session will write to the socket directly.
    if client.flags & CLIENT_MULTI or getattr(client.sink, "out", None) or client.sink.output_buffer_size():
        raise RedisError("ERR SCRIPT DEBUG must be called outside a pipeline")
    mode = argv[2].lower()
    if mode == b"no":
        client.extra.pop("ldb", None)
        return OK
    if mode in (b"yes", b"sync"):
        # The client's next EVAL starts a Lua debugger session (engine/ldb.py): forked for YES.
        client.extra["ldb"] = mode.decode()
        return OK
    raise RedisError("ERR Use SCRIPT DEBUG YES/SYNC/NO")


def script_help_command(client: Client, argv: list[bytes]) -> Any:
    """SCRIPT HELP"""
    if len(argv) != 2:
        raise subcommand_syntax_error(argv)
    return help_reply(argv, SCRIPT_HELP)


def _memory_info(engine: Engine) -> list[tuple[str, Any]]:
    state = engine.extensions["scripting"]
    return [("number_of_cached_scripts", len(state.scripts)),
            ("used_memory_scripts_eval", state.cache_bytes)]


def install(engine: Engine) -> None:
    """Give the engine its scripting state (the Lua state itself is created on first use)."""
    engine.extensions["scripting"] = Scripting(engine)
    engine.extensions.setdefault("info_fields", {}).setdefault("memory", []).append(_memory_info)
