"""The Lua debugger (LDB): SCRIPT DEBUG YES|SYNC|NO and EVAL debugging sessions, as Redis 7.0
offers them to ``redis-cli --ldb``.

After ``SCRIPT DEBUG YES`` or ``SYNC`` the client's next EVAL (or EVAL_RO) starts a session:
the script stops before its first line, and the client drives it with debugger commands sent as
ordinary requests (``step``, ``continue``, ``list``, ``print``, ``break``, ``eval``, ``redis``,
``trace``, ``maxlen``, ``abort``, ``help``...). Every answer is an array of status lines (the
session's log: ``* Stopped at 3, stop reason = step over``, ``<value> ...``, ``<redis> ...``,
``<reply> ...``). When the script ends the client gets the remaining log with ``<endsession>``,
then the script's reply, and the connection is closed.

Like Redis, the session talks to the client's socket directly and blocks on it:

* ``SYNC``: the session runs in the server process, which serves no one else meanwhile; the
  script's writes stay (and propagate as usual).
* ``YES``: the server forks; the child runs the session on its copy of the dataset and exits,
  so every change is rolled back; the parent closes its side of the connection at once and goes
  on serving. The cron reaps finished children.

The Lua side (``engine/luaapi.py``) keeps the session state the hook reads on every line
(``step``, breakpoints, ``redis.breakpoint()``), and calls :meth:`LdbSession.stop` with the
script's frames when it stops; what a stepped line sends to Redis is logged through
:meth:`LdbSession.traced_call`.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from typing import TYPE_CHECKING, Any

from specredis.engine.client import Client
from specredis.engine.errors import RedisError
from specredis.protocol.encoder import encode
from specredis.protocol.parser import ProtocolError, RequestParser
from specredis.protocol.replies import NO_REPLY, ErrorReply
from specredis.util.log import LOGGER, log
from specredis.util.text import quote_repr

if TYPE_CHECKING:
    from specredis.engine.core import Engine
    from specredis.engine.luaapi import LuaState, ScriptRun

DEFAULT_MAXLEN = 256        # replies and values longer than this are trimmed in the log
MIN_MAXLEN = 60
MAX_BREAKPOINTS = 64
DEFAULT_TIMEOUT_MS = 5000   # a running script stops by itself after this (busy-reply-threshold)
SEND_TIMEOUT_S = 5.0        # the socket's send timeout during a session

HELP = (
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
)
UNKNOWN_COMMAND = "<error> Unknown Redis Lua debugger command or wrong number of arguments."
ABORTED = b"ERR script aborted for user request"
TRIM_HINT = "<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming."


def c_atoi(text: bytes) -> int:
    """C's atoi: optional blanks and sign, then digits as far as they go; 0 if none."""
    text = text.lstrip(b" \t\n\r\v\f")
    sign = 1
    if text[:1] in (b"-", b"+"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    digits = 0
    value = 0
    for byte in text:
        if not 48 <= byte <= 57:
            break
        value = value * 10 + byte - 48
        digits += 1
    return sign * value if digits else 0


def quoted(data: bytes) -> str:
    """A string as the debugger quotes it (sdscatrepr)."""
    return quote_repr(data).decode("ascii")


def reply_to_human(data: bytes) -> str:
    """An encoded reply as the debugger logs it (``<reply> ...``): ``"+OK"``, ``"bar"``, ``1``,
    ``NULL``, ``["a","b"]``, and for RESP3 ``{"f" => "v"}``, ``~("a")``, ``(null)``,
    ``(double) 1.5``, ``#true``."""
    text, _ = _human(data, 0)
    return text


def _line(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.index(b"\r\n", pos)
    return data[pos:end], end + 2


def _human(data: bytes, pos: int) -> tuple[str, int]:
    kind = data[pos:pos + 1]
    line, pos = _line(data, pos + 1)
    if kind in (b"+", b"-"):
        return quoted(kind + line), pos
    if kind == b":":
        return line.decode(), pos
    if kind in (b"$", b"="):
        length = int(line)
        if length < 0:
            return "NULL", pos
        return quoted(data[pos:pos + length]), pos + length + 2
    if kind == b"_":
        return "(null)", pos
    if kind == b",":
        return "(double) " + line.decode(), pos
    if kind == b"(":
        return "(big number) " + line.decode(), pos
    if kind == b"#":
        return ("#true" if line == b"t" else "#false"), pos
    count = int(line)
    if count < 0:
        return "NULL", pos
    items = []
    if kind == b"%":
        for _ in range(count):
            key, pos = _human(data, pos)
            value, pos = _human(data, pos)
            items.append(f"{key} => {value}")
        return "{" + ",".join(items) + "}", pos
    for _ in range(count):
        item, pos = _human(data, pos)
        items.append(item)
    if kind == b"~":
        return "~(" + ",".join(items) + ")", pos
    return "[" + ",".join(items) + "]", pos


class SocketChannel:
    """The debugging client's connection, read and written with blocking calls."""

    def __init__(self, fd: int, proto_max_bulk_len: int, query_buffer_limit: int) -> None:
        # A socket object on a duplicate of the connection's descriptor (the event loop keeps
        # the original); blocking mode is shared between the two, so it is restored after.
        self.sock = socket.socket(fileno=os.dup(fd))
        self.was_blocking = self.sock.getblocking()
        self.sock.setblocking(True)
        self.sock.settimeout(None)
        self.parser = RequestParser(proto_max_bulk_len, query_buffer_limit)
        self.pending: list[list[bytes]] = []
        self.closed = False

    def read_command(self) -> list[bytes] | None:
        """The client's next request, or None once it has gone."""
        while not self.pending:
            if self.closed:
                return None
            try:
                data = self.sock.recv(64 * 1024)
            except OSError:
                data = b""
            if not data:
                self.closed = True
                return None
            try:
                self.parser.feed(data)
                self.pending.extend(self.parser.drain())
            except ProtocolError:
                self.closed = True
                return None
        return self.pending.pop(0)

    def write(self, data: bytes) -> None:
        if self.closed or not data:
            return
        try:
            self.sock.settimeout(SEND_TIMEOUT_S)
            self.sock.sendall(data)
        except OSError:
            self.closed = True
        finally:
            self.sock.settimeout(None)

    def release(self) -> None:
        """Give the connection back to the event loop (SYNC sessions)."""
        try:
            self.sock.setblocking(self.was_blocking)
        except OSError:
            pass
        self.sock.close()


class LdbSession:
    """One debugging session: the script's source, breakpoints, the log, and the REPL."""

    def __init__(self, engine: Engine, lua: LuaState, channel: Any, body: bytes) -> None:
        self.engine = engine
        self.lua = lua
        self.channel = channel
        text = body.rstrip(b"\r\n")
        self.lines = text.split(b"\n")
        self.logs: list[str] = []
        self.maxlen = DEFAULT_MAXLEN
        self.hint_sent = False
        self.breakpoints: list[int] = []
        self.current_line = 0
        self.tracing = False        # log the Redis commands the script sends (a stepped line, 'redis')
        self.last_reply: Any = None
        self.state = lua.entry[b"ldb_state"]()
        self.started = time.monotonic()

    # -- the log ---------------------------------------------------------------------------------

    def log(self, line: str) -> None:
        self.logs.append(line)

    def log_trimmed(self, line: str, hint: bool = False) -> None:
        """A log line cut at maxlen characters, then ' ...'."""
        if self.maxlen and len(line) > self.maxlen:
            line = line[:self.maxlen] + " ..."
            self.logs.append(line)
            if hint and not self.hint_sent:
                self.hint_sent = True
                self.logs.append(TRIM_HINT)
            return
        self.logs.append(line)

    def send_logs(self) -> None:
        """The pending log as one array of status lines."""
        logs, self.logs = self.logs, []
        parts = [b"*%d\r\n" % len(logs)]
        for line in logs:
            parts.append(b"+" + line.encode("utf-8", "surrogateescape").replace(b"\r\n", b"  ") + b"\r\n")
        self.channel.write(b"".join(parts))

    def source_line(self, line: int) -> str:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1].decode("utf-8", "surrogateescape")
        return "<out of range source code line>"

    def log_source_line(self, line: int) -> None:
        current = line == self.current_line
        if line in self.breakpoints:
            prefix = "->#" if current else "  #"
        else:
            prefix = "-> " if current else "   "
        self.log(f"{prefix}{line:<3d} {self.source_line(line)}")

    # -- called from the Lua hook ------------------------------------------------------------

    def timed_out(self) -> bool:
        """Whether a script running without a stop has run for longer than busy-reply-threshold."""
        limit = self.engine.config["busy-reply-threshold"] or DEFAULT_TIMEOUT_MS
        return (time.monotonic() - self.started) * 1000 >= limit

    def stop(self, line: int, reason: str, frames: Any) -> bytes | None:
        """The script stopped before ``line``: report it and run the REPL until the client lets
        it go on. Returns an error for the script to die with (abort), else None."""
        self.current_line = line
        self.log(f"* Stopped at {line}, stop reason = {reason}")
        self.log_source_line(line)
        self.send_logs()
        try:
            failure = self.repl(_frames(frames))
        finally:
            self.started = time.monotonic()
        self.tracing = bool(self.state[b"step"])
        return failure

    def log_debug(self, line: int, values: str) -> None:
        """redis.debug(...): its arguments, formatted by the Lua side."""
        self.log(f"<debug> line {line}: {values}")

    def traced_call(self, lua: LuaState, run: ScriptRun, argv: list[bytes]) -> tuple:
        """A redis.call made while tracing: ``<redis>`` before, ``<reply>`` or ``<error>`` after."""
        self.log("<redis> " + b" ".join(argv).decode("utf-8", "surrogateescape"))
        self.last_reply = None
        result = lua.run_command(run, argv)
        reply = self.last_reply
        self.last_reply = None
        if reply is None and result[0] == 2:
            # Refused before it ran (unknown command, arity, not allowed from scripts...).
            text = result[1].decode("utf-8", "surrogateescape")
            self.log("<error> " + (text[4:] if text.startswith("ERR ") else text))
            return result
        if isinstance(reply, ErrorReply):
            self.log("<error> -" + reply.text.decode("utf-8", "surrogateescape"))
        self.log_trimmed("<reply> " + reply_to_human(encode(reply, run.resp)), hint=True)
        return result

    # -- the REPL ------------------------------------------------------------------------------------

    def repl(self, frames: list[dict]) -> bytes | None:
        self.tracing = False
        while True:
            argv = self.channel.read_command()
            if argv is None:
                # The client is gone: the script runs to its end without stopping.
                self.state[b"step"] = False
                self.breakpoints.clear()
                self.state[b"bps"] = self.lua.lua.table_from({})
                return None
            name = argv[0].lower()
            if name in (b"s", b"step", b"n", b"next"):
                self.state[b"step"] = True
                return None
            if name in (b"c", b"continue"):
                return None
            if name in (b"a", b"abort"):
                return ABORTED
            if name in (b"h", b"help"):
                for line in HELP:
                    self.log(line)
            elif name in (b"t", b"trace"):
                self.trace(frames)
            elif name in (b"m", b"maxlen"):
                self.set_maxlen(argv)
            elif name in (b"b", b"break"):
                self.breakpoint_command(argv)
            elif name in (b"e", b"eval"):
                self.eval(b" ".join(argv[1:]))
            elif name in (b"r", b"redis") and len(argv) > 1:
                self.redis(argv[1:])
            elif name in (b"p", b"print"):
                if len(argv) > 1:
                    self.print_variable(argv[1], frames)
                else:
                    self.print_locals(frames)
            elif name in (b"l", b"list"):
                around = self.current_line
                if len(argv) > 1:
                    number = c_atoi(argv[1])
                    if number > 0:
                        around = number
                context = c_atoi(argv[2]) if len(argv) > 2 else 5
                self.list_source(around, context)
            elif name in (b"w", b"whole"):
                self.list_source(1, 1000000)
            else:
                self.log(UNKNOWN_COMMAND)
            self.send_logs()

    def list_source(self, around: int, context: int) -> None:
        for line in range(1, len(self.lines) + 1):
            if around - context <= line <= around + context:
                self.log_source_line(line)

    def trace(self, frames: list[dict]) -> None:
        if not frames:
            self.log("<error> Can't retrieve Lua stack.")
            return
        for depth, frame in enumerate(frames):
            where = frame["name"] or "top level"
            self.log(f"{'In' if depth == 0 and frame['innermost'] else 'From'} {where}:")
            self.log_source_line(frame["line"])

    def print_locals(self, frames: list[dict]) -> None:
        shown = 0
        if frames and frames[0]["innermost"]:
            for name, value in frames[0]["vars"]:
                if "(*temporary)" in name:
                    continue
                self.log_trimmed(f"<value> {name} = {value}")
                shown += 1
        if not shown:
            self.log("No local variables in the current context.")

    def print_variable(self, wanted: bytes, frames: list[dict]) -> None:
        name = wanted.decode("utf-8", "surrogateescape")
        for frame in frames:
            for var, value in frame["vars"]:
                if var == name:
                    self.log_trimmed(f"<value> {value}")
                    return
        if wanted in (b"KEYS", b"ARGV"):
            shown = self.lua.entry[b"ldb_global"](wanted).decode("utf-8", "surrogateescape")
            self.log_trimmed(f"<value> {shown}")
            return
        self.log("No such variable.")

    def set_maxlen(self, argv: list[bytes]) -> None:
        if len(argv) > 1:
            self.hint_sent = True       # the client knows about maxlen: no trimming hint
            value = c_atoi(argv[1])
            self.maxlen = MIN_MAXLEN if 0 < value <= MIN_MAXLEN else max(value, 0)
        if self.maxlen:
            self.log(f"<value> replies are truncated at {self.maxlen} bytes.")
        else:
            self.log("<value> replies are unlimited.")

    def breakpoint_command(self, argv: list[bytes]) -> None:
        if len(argv) == 1:
            if not self.breakpoints:
                self.log("No breakpoints set. Use 'b <line>' to add one.")
                return
            self.log(f"{len(self.breakpoints)} breakpoints set:")
            for line in self.breakpoints:
                self.log_source_line(line)
            return
        for arg in argv[1:]:
            line = c_atoi(arg)
            if line == 0 and arg != b"0":
                self.log(f"Invalid argument:'{arg.decode('utf-8', 'surrogateescape')}'")
            elif line == 0:
                self.breakpoints.clear()
                self._sync_breakpoints()
                self.log("All breakpoints removed.")
            elif line > 0:
                if line > len(self.lines) or line in self.breakpoints or len(self.breakpoints) >= MAX_BREAKPOINTS:
                    self.log("Wrong line number.")
                else:
                    self.breakpoints.append(line)
                    self._sync_breakpoints()
                    self.list_source(line, 1)
            elif -line in self.breakpoints:
                self.breakpoints.remove(-line)
                self._sync_breakpoints()
                self.log("Breakpoint removed.")
            else:
                self.log("No breakpoint in the specified line.")

    def _sync_breakpoints(self) -> None:
        self.state[b"bps"] = self.lua.lua.table_from({line: True for line in self.breakpoints})

    def eval(self, code: bytes) -> None:
        ok, shown = self.lua.entry[b"ldb_eval"](code)
        text = shown.decode("utf-8", "surrogateescape")
        if ok:
            self.log_trimmed(f"<retval> {text}")
        else:
            self.log(f"<error> {text}")

    def redis(self, argv: list[bytes]) -> None:
        """The 'redis' command: run it as the script would, with its log."""
        lua = self.lua
        run = lua.run
        tracing = self.tracing
        self.tracing = True
        try:
            self.traced_call(lua, run, argv)
        finally:
            self.tracing = tracing


def _frames(frames: Any) -> list[dict]:
    """The frames the Lua hook collected, as Python dicts (innermost first)."""
    out = []
    index = 1
    while True:
        frame = frames[index]
        if frame is None:
            break
        count = frame[b"count"]
        raw = frame[b"vars"]
        variables = []
        for i in range(1, count + 1):
            name = raw[2 * i - 1]
            variables.append((name.decode("utf-8", "surrogateescape"), raw[2 * i].decode("utf-8", "surrogateescape")))
        name = frame[b"name"]
        out.append({"line": frame[b"line"], "name": name.decode("utf-8", "surrogateescape") if name else None,
                    "vars": variables, "innermost": index == 1})
        index += 1
    return out


# -- starting sessions -------------------------------------------------------------------------------

def debug_eval(client: Client, argv: list[bytes], read_only: bool) -> Any:
    """EVAL (or EVAL_RO) from a client in debug mode: the whole debugging session."""
    from specredis.engine.scripting import run_eval

    engine = client.engine
    if client.fd < 0:
        raise RedisError("ERR The Lua debugger needs a network client")
    forked = client.extra.get("ldb") == "yes"
    if forked:
        pid = os.fork()
        if pid:
            log("warning", "Redis forked for debugging eval")
            engine.extensions.setdefault("ldb_children", set()).add(pid)
            client.extra.pop("ldb", None)
            # The child owns the conversation now: close our side without a word.
            client.sink.close()
            return NO_REPLY
        _become_debugging_child(engine, client.fd)
    else:
        log("warning", "Redis synchronous debugging eval session started")
    config = engine.config
    channel = SocketChannel(client.fd, config["proto-max-bulk-len"], config["client-query-buffer-limit"])
    # The session's log goes to the socket at once, ahead of replies to earlier requests still
    # waiting in the connection's output (as in Redis): those follow at the end.
    session = LdbSession(engine, _eval_lua(engine), channel, argv[1])
    try:
        reply = run_eval(client, argv, False, read_only, session=session)
        error = None
    except RedisError as failure:
        reply, error = None, failure
    session.log("<endsession>")
    session.send_logs()
    if forked:
        final = engine.error_reply(error) if error is not None else reply
        waiting = getattr(client.sink, "out", None) or []
        channel.write(b"".join(waiting) + encode(final, client.resp))
        log("warning", "Lua debugging session child exiting")
        os._exit(0)
    log("warning", "Redis synchronous debugging eval session ended")
    channel.release()
    client.extra.pop("ldb", None)
    # The end of the session: the client gets the script's reply, then the connection closes.
    client.sink.close(after_reply=True)
    if error is not None:
        raise error
    return reply


def _eval_lua(engine: Engine) -> LuaState:
    from specredis.engine.scripting import scripting

    return scripting(engine).lua


def _become_debugging_child(engine: Engine, keep_fd: int) -> None:
    """In the forked child: drop everything but the client's connection (listening sockets,
    the AOF, the event loop's descriptors), and propagate nothing."""
    from specredis.engine.persistence.snapshot import _become_child

    _become_child()     # default signal handlers, no wakeup fd, 'C' in log lines
    keep = {keep_fd}
    try:
        keep.add(LOGGER.stream.fileno())        # the log file, when there is one
    except (AttributeError, OSError, ValueError):
        pass
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, _max_fd())
    engine.propagation_consumers = []
    engine.cron_hooks = []
    log("warning", "Lua debugging session child started")


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        return 65536


def reap_children(engine: Engine) -> None:
    """Cron: forget the forked debugging sessions that ended."""
    children = engine.extensions.get("ldb_children")
    if not children:
        return
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)


def kill_children(engine: Engine) -> None:
    """At shutdown: end the forked debugging sessions (ldbKillForkedSessions)."""
    children = engine.extensions.get("ldb_children") or set()
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    children.clear()


def install(engine: Engine) -> None:
    """Reap finished debugging children from the cron; end the running ones at shutdown."""
    engine.cron_hooks.append(lambda: reap_children(engine))

    def kill_at_shutdown(flags: int) -> bool:
        kill_children(engine)
        return True

    engine.extensions.setdefault("shutdown_hooks", []).insert(0, kill_at_shutdown)
