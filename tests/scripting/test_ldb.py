"""The Lua debugger (SCRIPT DEBUG YES|SYNC, LDB) against Redis 7.0.15: whole debugging
sessions, each debugger command and what both servers answer, compared line for line.

A session is driven as redis-cli drives it: ``SCRIPT DEBUG <mode>``, then ``EVAL``, then the
debugger commands as plain requests; each answer is one array of status lines, and the last
one (ending with ``<endsession>``) is followed by the script's reply and the connection's close.
Lua object addresses (``"function@0x..."``) are blanked before comparing. ``redis-cli --ldb``
itself is run against both servers through a pseudo-terminal too.
"""

from __future__ import annotations

import os
import pty
import re
import select
import time
from typing import Any

import pytest
from servers import ServerProcess

from specredis.protocol.client import ConnectionClosed, RespClient, Status, encode_command

_ADDRESS = re.compile(r"0x[0-9a-f]+")

VALUES_SCRIPT = """local a = 'x\\ny"z'
local n = 1.5
local big = 1e20
local t = {1, 2, nil, 4}
local m = {x=1, [5]='five', nested={1,{2,{3}}}}
local f = function() return 1 end
for i = 1, 2 do
  local inner = i
end
return 1
"""
VALUES_COMMANDS = [
    "b|8", "c", "p", "p|a", "p|KEYS", "p|ARGV", "p|nope", "p|i", "e|return {1,2,3}", "e|return {a=1}",
    "e|return 'str'", "e|return nil", "e|return 1.5", "e|return true", "e|error('x')", "e|syntax error here",
    "e|return redis.call('ping')", "e|1+1", "e|x = 5", "eval", "e|return {1,2,3,nil,5}", "e|return {x=3,1,2}",
    "e|return 0.1+0.2", "e|return 100000000000000", "e|return 2^53", "e|return -1.5e-7", "e|return 1/0",
    "e|return coroutine.create(function() end)", "e|return string.char(0, 1, 127, 128, 255, 7, 8, 9, 13)",
    "r|set|foo|bar", "r|get|foo", "r|get|nokey", "r|lrange|nolist|0|-1", "r|rpush|lst|a|b", "r|lrange|lst|0|-1",
    "r|incr|lst", "r|hset|h|f|v", "r|hgetall|h", "r|zadd|z|1.5|m", "r|zrange|z|0|-1|withscores", "r|bogus",
    "r|get", "r|eval|return 1|0", "redis", "t", "maxlen", "maxlen|5", "p|m", "maxlen|0",
    "e|return string.rep('x', 300)", "maxlen|256", "e|return string.rep('x', 300)", "r|set|long|" + "y" * 300,
    "r|get|long", "r|get|long", "l|1|1", "l|20", "l|0|2", "l|-5", "l|abc", "b", "b|-8", "b|-8", "b|0", "b|99",
    "b|abc", "b|3", "b|3", "b|2|4", "b", "xyz", "s|extra", "w", "whole", "h", "a",
]

FRAMES_SCRIPT = """local function add(a, b)
  local s = a + b
  redis.breakpoint()
  return s
end
local x = add(1, 2)
redis.setresp(3)
local y = redis.call('hgetall', KEYS[1])
redis.debug(1234567, 0.1, -0, 1/0, -1/0, nil, true, {}, {{}}, 'a\\tb\\0c\\1')
redis.pcall('incr', 'notanumber')
error('boom')
"""
FRAMES_COMMANDS = [
    "s", "s", "s", "t", "p", "p|x", "c", "t", "p", "s", "s", "r|hset|k|f|v", "r|hgetall|k", "r|smembers|nos",
    "r|sadd|set|a", "r|smembers|set", "r|zscore|nozset|a", "r|zadd|zz|1.5|m", "r|zscore|zz|m", "r|get|nokey",
    "r|set|notanumber|abc", "r|hello", "s", "s", "s", "s",
]

RUN_TO_END_SCRIPT = """redis.call('set', KEYS[1], ARGV[1])
local t = {}
for i = 1, 3 do t[i] = redis.call('incr', KEYS[2]) end
return {t, {ok = 'fine'}, redis.call('get', KEYS[1])}
"""

RECURSION_SCRIPT = """local function fact(n)
  if n <= 1 then
    redis.breakpoint()
    return 1
  end
  local x = 1
  do
    local x = 2
    redis.debug(x)
  end
  return n * fact(n - 1)
end
local r = fact(3)
local ok = pcall(function() redis.call('incr', KEYS[1]) end)
redis.call('set', KEYS[1], 'a')
return redis.call('incr', KEYS[1])
"""
RECURSION_COMMANDS = ["c", "t", "p", "p|x", "p|n", "p|r", "l|3|1", "b|11", "c", "t", "c"] + ["s"] * 9

NESTING_SCRIPT = """local t = {}
for i = 1, 100 do t[i] = i end
local s = string.rep('y', 300)
local n = """ + "".join(f"{{{c}=" for c in "abcdefghijklmnopqrstuv") + "{}" + "}" * 22 + """
return 'done'
"""
NESTING_COMMANDS = [
    "s", "s", "s", "s", "s", "s", "p|n", "e|return KEYS", "e|return redis.debug('in eval')",
    "e|return redis.breakpoint()", "maxlen|60", "e|return redis.debug(string.rep('z', 100))", "r|rpush|lst|a",
    "r|set|k|1", "r|incrbyfloat|k|1.5", "r|sort|lst|alpha", "r|object|encoding|lst", "r|xadd|s|1-1|f|v",
    "r|xrange|s|-|+", "r|config|get|maxmemory", "r|ping", "r|echo|a b", "c",
]

TRANSCRIPTS = {
    "recursion": (RECURSION_SCRIPT, RECURSION_COMMANDS),
    "nesting and replies": (NESTING_SCRIPT, NESTING_COMMANDS),
    "values": (VALUES_SCRIPT, VALUES_COMMANDS),
    "frames": (FRAMES_SCRIPT, FRAMES_COMMANDS),
    "run to the end": (RUN_TO_END_SCRIPT, ["c"]),
    "step to the end": (RUN_TO_END_SCRIPT, ["n", "next", "step", "s", "s", "s", "s", "s", "s", "s", "s"]),
    "breakpoints then continue": (RUN_TO_END_SCRIPT, ["b|3|4", "c", "p", "c", "c", "c", "c"]),
    "abort": (RUN_TO_END_SCRIPT, ["s", "abort"]),
    "compile error": ("local t = {\nreturn 1\n", []),
    "shebang": ("#!lua flags=no-writes\nlocal v = redis.call('get', KEYS[1])\nreturn v\n", ["w", "s", "s"]),
}


def _normalized(frame: Any) -> str:
    return _ADDRESS.sub("0xADDR", repr(frame))


def debug_session(server: ServerProcess, mode: str, script: str, commands: list[str],
                  keys: tuple = ("k", "k2"), args: tuple = ("a1", "a2")) -> list[str]:
    """Everything the server answers in one debugging session, frame by frame."""
    conn = RespClient(server.host, server.port, timeout=10)
    frames = [conn.call("SCRIPT", "DEBUG", mode)]

    def answer(*request: Any) -> bool:
        """Send one request, read its array (and the final reply); False once the session ended."""
        conn.send(*request)
        frame = conn.read_reply()
        frames.append(frame)
        if isinstance(frame, list) and frame and frame[-1] == Status("<endsession>"):
            frames.append(conn.read_reply())
            try:
                frames.append(conn.read_reply())
            except (ConnectionClosed, OSError):
                frames.append("<closed>")
            return False
        return True

    try:
        if answer("EVAL", script, len(keys), *keys, *args):
            for command in commands:
                if not answer(*command.split("|")):
                    break
    finally:
        conn.close()
    return [_normalized(frame) for frame in frames]


def _flush(*servers: ServerProcess) -> None:
    for server in servers:
        with RespClient(server.host, server.port) as conn:
            conn.call("FLUSHALL")


@pytest.mark.parametrize("mode", ["SYNC", "YES"])
@pytest.mark.parametrize("name", list(TRANSCRIPTS))
def test_debugging_sessions_match_redis(specredis: ServerProcess, reference: ServerProcess, name: str,
                                        mode: str) -> None:
    script, commands = TRANSCRIPTS[name]
    _flush(reference, specredis)
    expected = debug_session(reference, mode, script, commands)
    actual = debug_session(specredis, mode, script, commands)
    for step, (want, got) in enumerate(zip(expected, actual, strict=True)):
        request = (["SCRIPT DEBUG", "EVAL"] + commands)[min(step, len(commands) + 1)]
        assert got == want, f"{name} ({mode}) at frame {step} ({request})"


@pytest.mark.parametrize("mode, kept", [("SYNC", True), ("YES", False)])
def test_sync_keeps_changes_and_yes_rolls_them_back(specredis: ServerProcess, reference: ServerProcess,
                                                   mode: str, kept: bool) -> None:
    _flush(reference, specredis)
    for server in (reference, specredis):
        debug_session(server, mode, RUN_TO_END_SCRIPT, ["c"], keys=("written", "counter"), args=("v",))
        with RespClient(server.host, server.port) as conn:
            # A forked session's child may still be exiting; the parent answers at once anyway.
            assert conn.call("GET", "written") == (b"v" if kept else None), server.name
            assert conn.call("GET", "counter") == (b"3" if kept else None), server.name


def test_forked_session_leaves_the_server_serving(specredis: ServerProcess) -> None:
    """While a YES session waits for its client, the server answers everyone else."""
    debugger = RespClient(specredis.host, specredis.port, timeout=10)
    try:
        assert debugger.call("SCRIPT", "DEBUG", "YES") == Status("OK")
        stopped = debugger.call("EVAL", "redis.call('set', KEYS[1], 'x')\nreturn 1", 1, "during")
        assert stopped[0] == Status("* Stopped at 1, stop reason = step over")
        with RespClient(specredis.host, specredis.port, timeout=5) as other:
            assert other.call("SET", "other", "1") == Status("OK")
            assert other.call("GET", "during") is None
        assert debugger.call("s")[0] == Status("<redis> set during x")
        debugger.send("c")
        assert debugger.read_reply() == [Status("<endsession>")]
        assert debugger.read_reply() == 1
    finally:
        debugger.close()
    with RespClient(specredis.host, specredis.port) as conn:
        assert conn.call("GET", "other") == b"1"
        assert conn.call("GET", "during") is None


def test_debug_mode_refusals_match_redis(both) -> None:
    both.reset()
    both.same("SCRIPT", "DEBUG", "maybe")
    both.same("SCRIPT", "DEBUG", "YES")
    both.same("EVALSHA", "a" * 40, 0)
    both.same("EVALSHA_RO", "a" * 40, 0)
    both.same("SCRIPT", "DEBUG", "NO")
    both.same("EVAL", "redis.breakpoint() redis.debug('x') return redis.breakpoint()", 0)
    both.same("MULTI")
    both.same("SCRIPT", "DEBUG", "YES")
    both.same("EXEC")


def test_wrong_arguments_end_the_session(specredis: ServerProcess, reference: ServerProcess) -> None:
    for mode in ("SYNC", "YES"):
        expected = []
        for server in (reference, specredis):
            conn = RespClient(server.host, server.port, timeout=10)
            try:
                conn.call("SCRIPT", "DEBUG", mode)
                conn.send("EVAL", "return 1", 5, "a")
                expected.append([conn.read_reply(), conn.read_reply()])
            finally:
                conn.close()
        assert expected[1] == expected[0], mode


def test_runaway_script_stops_at_the_time_limit(specredis: ServerProcess, reference: ServerProcess) -> None:
    """Continuing into an endless loop stops it after busy-reply-threshold."""
    transcripts = []
    for server in (reference, specredis):
        with RespClient(server.host, server.port) as conn:
            conn.call("CONFIG", "SET", "busy-reply-threshold", "200")
        try:
            transcripts.append(debug_session(server, "SYNC", "local i = 0\nwhile true do i = i + 1 end\n",
                                             ["c", "a"]))
        finally:
            with RespClient(server.host, server.port) as conn:
                conn.call("CONFIG", "SET", "busy-reply-threshold", "5000")
    assert transcripts[1] == transcripts[0]


def test_client_that_leaves_lets_the_script_finish(specredis: ServerProcess) -> None:
    """A SYNC session whose client disconnects runs the script to its end; the server goes on."""
    _flush(specredis)
    conn = RespClient(specredis.host, specredis.port, timeout=10)
    conn.call("SCRIPT", "DEBUG", "SYNC")
    conn.call("EVAL", "redis.call('set', 'left', '1')\nreturn 1", 0)
    conn.close()
    deadline = time.monotonic() + 5
    with RespClient(specredis.host, specredis.port) as other:
        while other.call("GET", "left") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert other.call("GET", "left") == b"1"


def _redis_cli_ldb(server: ServerProcess, mode_flag: str, script_path: str, typed: list[str]) -> str:
    """Run ``redis-cli --ldb`` in a pseudo-terminal, type ``typed``; what it printed."""
    pid, fd = pty.fork()
    if pid == 0:    # pragma: no cover - the child becomes redis-cli
        os.environ["TERM"] = "dumb"     # no line editing: plain prompts
        os.execvp("redis-cli", ["redis-cli", "-h", server.host, "-p", str(server.port), mode_flag, "--eval",
                                script_path, "mykey", ",", "21"])
    output = b""

    def read_for(seconds: float) -> None:
        nonlocal output
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    output += os.read(fd, 65536)
                except OSError:
                    return

    try:
        read_for(1.0)
        for line in typed:
            os.write(fd, line.encode() + b"\n")
            read_for(0.4)
        os.write(fd, b"\x04")
        read_for(0.3)
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    text = output.decode(errors="replace").replace("\r", "")
    return text.replace(f"{server.host}:{server.port}>", "HOST:PORT>")


@pytest.mark.parametrize("mode_flag, typed", [
    ("--ldb", ["s", "s", "p", "w", "b 5", "c", "s", "print v", "c"]),
    # redis-cli's own 'restart' reconnects and starts over; 'abort' ends with the script's error.
    ("--ldb-sync-mode", ["s", "restart", "s", "s", "e redis.call('get', KEYS[1])", "abort"]),
])
def test_redis_cli_ldb_sessions_look_the_same(specredis: ServerProcess, reference: ServerProcess, tmp_path,
                                              mode_flag: str, typed: list[str]) -> None:
    script = tmp_path / "debug.lua"
    script.write_text("local x = tonumber(ARGV[1])\nredis.call('set', KEYS[1], x * 2)\nredis.breakpoint()\n"
                      "local v = redis.call('get', KEYS[1])\nreturn v\n")
    _flush(reference, specredis)
    expected = _redis_cli_ldb(reference, mode_flag, str(script), typed)
    actual = _redis_cli_ldb(specredis, mode_flag, str(script), typed)
    assert "<reply> " in expected
    assert actual == expected


def test_script_debug_inside_a_pipeline_is_refused(specredis: ServerProcess, reference: ServerProcess) -> None:
    replies = []
    for server in (reference, specredis):
        with RespClient(server.host, server.port) as conn:
            replies.append(conn.pipeline([["PING"], ["SCRIPT", "DEBUG", "YES"], ["EVAL", "return 1", "0"]]))
    assert replies[1] == replies[0]


def test_session_log_goes_ahead_of_waiting_replies(specredis: ServerProcess, reference: ServerProcess) -> None:
    """An EVAL debugged inside MULTI/EXEC (SYNC): the session's log reaches the client before the
    replies still waiting in its output (OK, QUEUED, EXEC's array), byte for byte as Redis does."""
    received = []
    for server in (reference, specredis):
        conn = RespClient(server.host, server.port, timeout=5)
        try:
            conn.call("SCRIPT", "DEBUG", "SYNC")
            conn.sock.sendall(b"".join(encode_command(argv) for argv in (["MULTI"], ["EVAL", "return 1", "0"],
                                                                         ["EXEC"])))
            data = b""
            while b"-> 1" not in data:
                data += conn.sock.recv(65536)
            conn.send("c")
            while chunk := conn.sock.recv(65536):
                data += chunk
            received.append(data)
        finally:
            conn.close()
    assert received[1] == received[0]
