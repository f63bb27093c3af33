"""Functions: FUNCTION LOAD/DELETE/DUMP/RESTORE/FLUSH/KILL/LIST/STATS/HELP, FCALL, FCALL_RO
(Redis 7.0's functions.c and function_lua.c).

A library is Lua code that starts with ``#!lua name=<library>`` and registers functions
with ``redis.register_function``. Libraries are part of the dataset: the
:class:`FunctionRegistry` in ``engine.extensions["functions"]`` is the API persistence
uses (``libraries``, :meth:`FunctionRegistry.load_library`,
:meth:`FunctionRegistry.dump_payload`, :meth:`FunctionRegistry.restore_payload`,
:meth:`FunctionRegistry.clear`). A DUMP payload is what Redis 7.0 writes: for each
library the RDB opcode ``FUNCTION2`` (245) and its code as an RDB string, then the RDB
version (10) and a CRC64 (Jones) of everything before it. Payloads from Redis, whose
long strings are LZF-compressed, restore too.

Libraries run in their own Lua state (``engine/luaapi.py``, flavour "function"): while a
library loads, its code sees only ``redis.register_function``, ``redis.log`` and the
constants; its functions then run with the full API. FCALL runs a function as EVAL
runs a script (``engine/scripting.py``: atomicity, effects, busy handling).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import lupa.lua51 as lua51

from specredis.engine.args import string_to_int
from specredis.engine.client import Client
from specredis.engine.errors import RedisError, subcommand_syntax_error
from specredis.engine.glob import glob_match
from specredis.engine.help import help_reply
from specredis.engine.luaapi import LuaState, ScriptRun
from specredis.engine.persistence.rdb import (
    OPCODE_FUNCTION2,
    RDB_VERSION,
    RdbError,
    RdbReader,
    crc64,
    encode_plain_string,
)
from specredis.engine.scripting import (
    BUSY_SCRIPT,
    FLAG_ALLOW_OOM,
    FLAG_NO_WRITES,
    RO_WITH_WRITE_FLAG,
    SCRIPT_FLAGS,
    scripting,
)
from specredis.protocol.replies import OK, Map, Set, Status

if TYPE_CHECKING:
    from specredis.engine.core import Engine

RDB_OPCODE_FUNCTION2 = OPCODE_FUNCTION2
LIBRARY_NAME_ERROR = ("ERR Library names can only contain letters, numbers, or underscores(_) and must be at "
                      "least one character long")
_VALID_NAME = re.compile(rb"[A-Za-z0-9_]+\Z")
# How long a library's top-level code may run at load (functions.c LOAD_TIMEOUT_MS).
LOAD_TIMEOUT_MS = 500
FLAG_NAMES = tuple(SCRIPT_FLAGS)        # in Redis's order: no-writes, allow-oom, allow-stale, ...

FUNCTION_HELP = (
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
)


class Function:
    """One registered function."""

    __slots__ = ("name", "library", "callback", "flags", "description")

    def __init__(self, name: bytes, library: Library, callback: Any, flags: int, description: bytes | None) -> None:
        self.name = name
        self.library = library
        self.callback = callback
        self.flags = flags
        self.description = description


class Library:
    """A loaded library: its name, its code, and its functions in registration order."""

    __slots__ = ("name", "code", "functions")

    def __init__(self, name: bytes, code: bytes) -> None:
        self.name = name
        self.code = code
        self.functions: dict[bytes, Function] = {}


def parse_library_metadata(code: bytes) -> tuple[bytes, bytes]:
    """The library name from ``#!lua name=<name>``, and the code Lua compiles (shebang blanked)."""
    if not code.startswith(b"#!"):
        raise RedisError("ERR Missing library metadata")
    end = code.find(b"\n")
    if end < 0:
        raise RedisError("ERR Invalid library metadata")
    parts = code[:end].split()
    engine_name = parts[0][2:] if parts else b""
    if engine_name.lower() != b"lua":
        raise RedisError(f"ERR Engine '{engine_name.decode('utf-8', 'surrogateescape')}' not found")
    name = None
    for part in parts[1:]:
        if part.startswith(b"name="):
            if name is not None:
                raise RedisError("ERR Invalid metadata value, name argument was given multiple times")
            name = part[5:]
        else:
            raise RedisError(f"ERR Invalid metadata value given: {part.decode('utf-8', 'surrogateescape')}")
    if name is None:
        raise RedisError("ERR Library name was not given")
    if not _VALID_NAME.match(name):
        raise RedisError(LIBRARY_NAME_ERROR)
    return name, code[end:]


class FunctionRegistry:
    """Loaded libraries by name, and the functions they export by name."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}
        self._lua: LuaState | None = None
        self._loading: Library | None = None

    @property
    def lua(self) -> LuaState:
        if self._lua is None:
            self._lua = LuaState(self.engine, "function", register_function=self._register_function)
            self._lua.hook_callback = self._on_hook
        return self._lua

    def _on_hook(self, run: ScriptRun) -> None:
        scripting(self.engine).on_hook(run)

    # -- the registry API -------------------------------------------------------------

    def clear(self) -> None:
        """Delete every library (FUNCTION FLUSH), with a fresh Lua state as Redis does."""
        self.libraries.clear()
        self.functions.clear()
        self._lua = None

    def compile_library(self, code: bytes) -> Library:
        """Run a library's code and collect what it registers (nothing is installed yet)."""
        name, body = parse_library_metadata(code)
        library = Library(name, code)
        lua = self.lua
        self._loading = library
        # The library's top-level code gets LOAD_TIMEOUT_MS, then fails with "FUNCTION LOAD timeout".
        lua.load_deadline = time.monotonic() + LOAD_TIMEOUT_MS / 1000
        try:
            result = lua.entry[b"load_library"](body, b"@user_function")
        finally:
            self._loading = None
            lua.load_deadline = None
        if isinstance(result, tuple):
            kind, message = result[0], result[1]
            text = message.decode("utf-8", "surrogateescape") if isinstance(message, bytes) else str(message)
            if kind == b"C":
                raise RedisError(f"ERR Error compiling function: {text}")
            raise RedisError(f"ERR Error registering functions: {text}")
        if not library.functions:
            raise RedisError("ERR No functions registered")
        return library

    def install(self, libraries: list[Library], replace: bool, restoring: bool = False) -> None:
        """Add compiled libraries; all or nothing. ``replace`` lets a library replace its namesake."""
        for library in libraries:
            old = self.libraries.get(library.name)
            if old is not None and not replace:
                name = library.name.decode("utf-8", "surrogateescape")
                # FUNCTION RESTORE names the library without quotes, FUNCTION LOAD with them.
                raise RedisError(f"ERR Library {name} already exists" if restoring
                                 else f"ERR Library '{name}' already exists")
        replaced = {library.name for library in libraries if library.name in self.libraries}
        for library in libraries:
            for fname in library.functions:
                owner = self.functions.get(fname)
                if owner is not None and owner.library.name not in replaced:
                    raise RedisError(f"ERR Function {fname.decode('utf-8', 'surrogateescape')} already exists")
        for library in libraries:
            self.delete_library(library.name)
            self.libraries[library.name] = library
            for fname, function in library.functions.items():
                self.functions[fname] = function

    def load_library(self, code: bytes, replace: bool = False) -> bytes:
        """FUNCTION LOAD: compile and install one library; its name."""
        name, _ = parse_library_metadata(code)
        if name in self.libraries and not replace:
            raise RedisError(f"ERR Library '{name.decode('utf-8', 'surrogateescape')}' already exists")
        library = self.compile_library(code)
        self.install([library], replace)
        return library.name

    def delete_library(self, name: bytes) -> bool:
        library = self.libraries.pop(name, None)
        if library is None:
            return False
        for fname in library.functions:
            if self.functions.get(fname) is not None and self.functions[fname].library is library:
                del self.functions[fname]
        return True

    def dump_payload(self) -> bytes:
        """FUNCTION DUMP's payload (see the module docstring)."""
        out = bytearray()
        for library in self.libraries.values():
            out.append(RDB_OPCODE_FUNCTION2)
            out += encode_plain_string(library.code)
        out += RDB_VERSION.to_bytes(2, "little")
        out += crc64(bytes(out)).to_bytes(8, "little")
        return bytes(out)

    def restore_payload(self, payload: bytes, policy: bytes = b"append") -> None:
        """FUNCTION RESTORE with the FLUSH, APPEND or REPLACE policy."""
        codes = parse_function_payload(payload)
        libraries = [self.compile_library(code) for code in codes]
        seen: set[bytes] = set()
        for library in libraries:
            if library.name in seen:
                raise RedisError(f"ERR Library '{library.name.decode('utf-8', 'surrogateescape')}' already exists")
            seen.add(library.name)
        if policy == b"flush":
            saved = (dict(self.libraries), dict(self.functions))
            self.libraries.clear()
            self.functions.clear()
            try:
                self.install(libraries, replace=False, restoring=True)
            except RedisError:
                self.libraries, self.functions = saved
                raise
        else:
            self.install(libraries, replace=policy == b"replace", restoring=True)

    # -- redis.register_function --------------------------------------------------------

    def _register_function(self, *args: Any) -> tuple:
        library = self._loading
        if library is None:
            return False, b"ERR redis.register_function can only be called on FUNCTION LOAD command"
        try:
            name, callback, flags, description = _register_arguments(args)
        except RedisError as error:
            return False, error.text.encode("utf-8", "surrogateescape")
        if not _VALID_NAME.match(name):
            return False, LIBRARY_NAME_ERROR.encode()
        if name in library.functions:
            return False, b"ERR Function already exists in the library"
        library.functions[name] = Function(name, library, callback, flags, description)
        return (True,)


def _lua_string(value: Any) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return b"%d" % value
    if isinstance(value, float):
        return b"%.14g" % value
    return None


def _register_arguments(args: tuple) -> tuple[bytes, Any, int, bytes | None]:
    if len(args) == 1:
        table = args[0]
        if lua51.lua_type(table) != "table":
            raise RedisError("ERR calling redis.register_function with a single argument is only applicable to "
                             "Lua table (representing named arguments).")
        name = callback = description = None
        flags = 0
        for key, value in table.items():
            if key == b"function_name":
                name = _lua_string(value)
            elif key == b"callback":
                callback = value
            elif key == b"description":
                description = _lua_string(value)
            elif key == b"flags":
                if lua51.lua_type(value) != "table":
                    raise RedisError("ERR flags argument to redis.register_function must be a table representing "
                                     "function flags")
                for flag_name in value.values():
                    flag = SCRIPT_FLAGS.get(flag_name) if isinstance(flag_name, bytes) else None
                    if flag is None:
                        raise RedisError("ERR unknown flag given")
                    flags |= flag
            else:
                raise RedisError("ERR unknown argument given to redis.register_function")
        if name is None:
            raise RedisError("ERR redis.register_function must get a function name argument")
        if callback is None or lua51.lua_type(callback) != "function":
            raise RedisError("ERR redis.register_function must get a callback argument")
        return name, callback, flags, description
    if len(args) == 2:
        name = _lua_string(args[0])
        if name is None:
            raise RedisError("ERR first argument to redis.register_function must be a string")
        if lua51.lua_type(args[1]) != "function":
            raise RedisError("ERR second argument to redis.register_function must be a function")
        return name, args[1], 0, None
    raise RedisError("ERR wrong number of arguments to redis.register_function")


# -- the payload (RDB primitives from engine/persistence/rdb.py) ---------------------------

def parse_function_payload(payload: bytes) -> list[bytes]:
    """The library codes in a FUNCTION DUMP payload, after checking its version and CRC64."""
    if len(payload) < 10:
        raise RedisError("ERR DUMP payload version or checksum are wrong")
    body, footer = payload[:-10], payload[-10:]
    version = int.from_bytes(footer[:2], "little")
    checksum = int.from_bytes(footer[2:], "little")
    if version > RDB_VERSION or (checksum != 0 and crc64(payload[:-8]) != checksum):
        raise RedisError("ERR DUMP payload version or checksum are wrong")
    reader = RdbReader(body)
    codes = []
    try:
        while reader.pos < len(body):
            opcode = reader.byte()
            if opcode != RDB_OPCODE_FUNCTION2:
                raise RedisError("ERR given type is not a function")
            codes.append(reader.string())
    except RdbError:
        raise RedisError("ERR payload is not a valid function payload") from None
    return codes


# -- commands -------------------------------------------------------------------------------

def registry(engine: Engine) -> FunctionRegistry:
    return engine.extensions["functions"]


def function_load_command(client: Client, argv: list[bytes]) -> Any:
    """FUNCTION LOAD [REPLACE] function-code"""
    replace = False
    for option in argv[2:-1]:
        if option.lower() == b"replace":
            replace = True
        else:
            raise RedisError(f"ERR Unknown option given: {option.decode('utf-8', 'surrogateescape')}")
    if len(argv) < 3:
        raise subcommand_syntax_error(argv)
    name = registry(client.engine).load_library(argv[-1], replace)
    client.engine.dirty += 1
    return name


def function_delete_command(client: Client, argv: list[bytes]) -> Any:
    """FUNCTION DELETE library-name"""
    if not registry(client.engine).delete_library(argv[2]):
        raise RedisError("ERR Library not found")
    client.engine.dirty += 1
    return OK


def function_flush_command(client: Client, argv: list[bytes]) -> object:
    """FUNCTION FLUSH [ASYNC|SYNC]"""
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        raise RedisError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    engine = client.engine
    registry(engine).clear()
    # Replicated and written to the AOF like any write (server.dirty++ in Redis).
    engine.dirty += 1
    return OK


def function_dump_command(client: Client, argv: list[bytes]) -> Any:
    """FUNCTION DUMP"""
    return registry(client.engine).dump_payload()


def function_restore_command(client: Client, argv: list[bytes]) -> Any:
    """FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE]"""
    policy = b"append"
    if len(argv) > 4:
        raise subcommand_syntax_error(argv)
    if len(argv) == 4:
        policy = argv[3].lower()
        if policy not in (b"flush", b"append", b"replace"):
            raise RedisError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    registry(client.engine).restore_payload(argv[2], policy)
    client.engine.dirty += 1
    return OK


def function_list_command(client: Client, argv: list[bytes]) -> Any:
    """FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]"""
    with_code = False
    pattern = None
    index = 2
    while index < len(argv):
        word = argv[index].lower()
        if word == b"withcode" and not with_code:
            with_code = True
        elif word == b"libraryname" and pattern is None:
            if index + 1 >= len(argv):
                raise RedisError("ERR library name argument was not given")
            index += 1
            pattern = argv[index]
        else:
            raise RedisError(f"ERR Unknown argument {argv[index].decode('utf-8', 'surrogateescape')}")
        index += 1
    reply = []
    for library in registry(client.engine).libraries.values():
        if pattern is not None and not glob_match(pattern, library.name):
            continue
        functions = []
        for function in library.functions.values():
            flags = [Status(name) for name in FLAG_NAMES if function.flags & SCRIPT_FLAGS[name]]
            functions.append(Map([(b"name", function.name), (b"description", function.description),
                                  (b"flags", Set(flags))]))
        pairs: list[tuple[Any, Any]] = [(b"library_name", library.name), (b"engine", b"LUA"),
                                        (b"functions", functions)]
        if with_code:
            pairs.append((b"library_code", library.code))
        reply.append(Map(pairs))
    return reply


def function_stats_command(client: Client, argv: list[bytes]) -> Any:
    """FUNCTION STATS"""
    engine = client.engine
    run = scripting(engine).current
    if run is not None and not run.is_function:
        raise RedisError(BUSY_SCRIPT)
    running: Any = None
    if run is not None:
        running = Map([(b"name", run.name.encode()), (b"command", list(run.command_argv)),
                       (b"duration_ms", engine.clock() - run.start_ms)])
    reg = registry(engine)
    engines = Map([(b"LUA", Map([(b"libraries_count", len(reg.libraries)),
                                 (b"functions_count", len(reg.functions))]))])
    return Map([(b"running_script", running), (b"engines", engines)])


def function_kill_command(client: Client, argv: list[bytes]) -> Any:
    """FUNCTION KILL"""
    return scripting(client.engine).kill(by_function_kill=True)


def function_help_command(client: Client, argv: list[bytes]) -> Any:
    """FUNCTION HELP"""
    return help_reply(argv, FUNCTION_HELP)


def _fcall(client: Client, argv: list[bytes], read_only: bool) -> Any:
    engine = client.engine
    reg = registry(engine)
    function = reg.functions.get(argv[1])
    if function is None:
        raise RedisError("ERR Function not found")
    numkeys = string_to_int(argv[2])
    if numkeys is None or numkeys < 0 or numkeys > len(argv) - 3:
        if numkeys is not None and numkeys > len(argv) - 3:
            raise RedisError("ERR Number of keys can't be greater than number of args")
        if numkeys is not None and numkeys < 0:
            raise RedisError("ERR Number of keys can't be negative")
        raise RedisError("ERR Bad number of keys provided")
    if read_only and not function.flags & FLAG_NO_WRITES:
        raise RedisError(RO_WITH_WRITE_FLAG)
    run = ScriptRun(client, function.name.decode("utf-8", "surrogateescape"),
                    read_only or bool(function.flags & FLAG_NO_WRITES), True, engine.now_ms(), argv[0].lower(),
                    bool(function.flags & FLAG_ALLOW_OOM))
    run.command_argv = argv
    keys = argv[3:3 + numkeys]
    args = argv[3 + numkeys:]
    return scripting(engine).run(client, reg.lua, function.callback, run, keys, args)


def fcall_command(client: Client, argv: list[bytes]) -> Any:
    """FCALL function numkeys [key [key ...]] [arg [arg ...]]"""
    return _fcall(client, argv, False)


def fcall_ro_command(client: Client, argv: list[bytes]) -> Any:
    """FCALL_RO function numkeys [key [key ...]] [arg [arg ...]]"""
    return _fcall(client, argv, True)


def _memory_info(engine: Engine) -> list[tuple[str, Any]]:
    reg = registry(engine)
    return [("number_of_functions", len(reg.functions)), ("number_of_libraries", len(reg.libraries))]


def install(engine: Engine) -> None:
    """An empty function registry."""
    engine.extensions["functions"] = FunctionRegistry(engine)
    engine.extensions.setdefault("info_fields", {}).setdefault("memory", []).append(_memory_info)


__all__ = ["FunctionRegistry", "Library", "Function", "crc64", "parse_function_payload"]
