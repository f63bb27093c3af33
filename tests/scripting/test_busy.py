"""Busy scripts with real processes: BUSY replies, SCRIPT KILL, UNKILLABLE, SHUTDOWN NOSAVE.

Each scenario runs on specredis and on the reference with busy-reply-threshold at 100 ms:
a client starts an endless script, other connections (old and new) see the same replies
on both servers, and the data survives a killed script.
"""

from __future__ import annotations

import threading
import time

import pytest
from servers import start_reference, start_specredis

from specredis.protocol.client import ConnectionClosed, RespError, Status

THRESHOLD_MS = "100"


def _servers():
    ours = start_specredis("--busy-reply-threshold", THRESHOLD_MS)
    theirs = start_reference("--busy-reply-threshold", THRESHOLD_MS)
    return ours, theirs


class Runner:
    """Run one blocking command in a thread and keep its reply."""

    def __init__(self, server, *args) -> None:
        self.conn = server.client(timeout=30)
        self.reply = None
        self.thread = threading.Thread(target=self._run, args=args, daemon=True)
        self.thread.start()

    def _run(self, *args) -> None:
        try:
            self.reply = self.conn.call(*args)
        except (ConnectionClosed, OSError) as error:
            self.reply = error

    def join(self) -> object:
        self.thread.join(20)
        assert not self.thread.is_alive()
        return self.reply


_watchers: dict[int, object] = {}


def _watch(server) -> None:
    """A connection made (and answered) before the script starts, to poll for BUSY with.

    Polling with fresh connections would race with the script's start: a connection the
    event loop accepted just before the script blocked it stays unserved until the end."""
    conn = server.client(timeout=10)
    assert conn.call("PING") == Status("PONG")
    _watchers[server.port] = conn


def _wait_busy(server) -> None:
    conn = _watchers.pop(server.port)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        reply = conn.call("PING")
        if isinstance(reply, RespError) and reply.text.startswith("BUSY"):
            conn.close()
            return
        time.sleep(0.05)
    raise AssertionError("the script never became busy")


def _scenario_kill(server) -> list:
    seen = []
    early = server.client(timeout=10)
    early.call("SET", "survivor", "1")
    _watch(server)
    runner = Runner(server, "EVAL", "local i = 0 while true do i = i + 1 end", "0")
    _wait_busy(server)
    seen.append(early.call("GET", "survivor"))                # an old connection
    fresh = server.client(timeout=10)                          # a new connection
    seen.append(fresh.call("INFO", "server"))
    seen.append(fresh.call("FUNCTION", "KILL"))
    seen.append(fresh.call("SCRIPT", "KILL"))
    seen.append(runner.join())
    seen.append(early.call("GET", "survivor"))
    seen.append(fresh.call("SCRIPT", "KILL"))
    fresh.close()
    early.close()
    return seen


def _scenario_unkillable(server) -> list:
    seen = []
    _watch(server)
    runner = Runner(server, "EVAL", "redis.call('set', 'written', '1') while true do end", "0")
    _wait_busy(server)
    conn = server.client(timeout=10)
    seen.append(conn.call("SCRIPT", "KILL"))
    seen.append(conn.call("GET", "written"))
    try:
        seen.append(conn.call("SHUTDOWN", "NOSAVE"))
    except ConnectionClosed:
        seen.append("closed")
    seen.append(type(runner.join()).__name__)
    return seen


def _scenario_function_kill(server) -> list:
    seen = []
    conn = server.client(timeout=10)
    conn.call("FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function('spin', function() while true do end end)")
    _watch(server)
    runner = Runner(server, "FCALL", "spin", "0")
    _wait_busy(server)
    other = server.client(timeout=10)
    seen.append(other.call("PING"))
    seen.append(other.call("SCRIPT", "KILL"))
    stats = other.call("FUNCTION", "STATS")     # RESP2: running_script, [name, spin, ...], engines, ...
    seen.append(stats[1][:2])
    seen.append(other.call("FUNCTION", "KILL"))
    seen.append(runner.join())
    seen.append(other.call("PING"))
    return seen


@pytest.mark.parametrize("scenario", [_scenario_kill, _scenario_function_kill, _scenario_unkillable])
def test_busy_scenarios_match_redis(scenario):
    results = []
    for server in _servers():
        try:
            results.append(scenario(server))
        finally:
            server.stop()
    ours, theirs = results
    if scenario is _scenario_kill:
        # INFO's contents differ; both must be BUSY errors.
        assert ours[1] == theirs[1] and isinstance(ours[1], RespError)
    assert ours == theirs


def test_shutdown_nosave_ends_the_process():
    server = start_specredis("--busy-reply-threshold", THRESHOLD_MS)
    try:
        _watch(server)
        Runner(server, "EVAL", "redis.call('set', 'x', '1') while true do end", "0")
        _wait_busy(server)
        conn = server.client(timeout=10)
        with pytest.raises(ConnectionClosed):
            conn.call("SHUTDOWN", "NOSAVE")
        assert server.proc.wait(10) == 0
    finally:
        server.stop()


def test_a_pipeline_behind_the_script_waits_for_its_reply():
    server = start_specredis("--busy-reply-threshold", THRESHOLD_MS)
    try:
        conn = server.client(timeout=20)
        # The script's own client pipelines more commands: they run after the script, in order.
        conn.send_raw(b"*3\r\n$4\r\nEVAL\r\n$84\r\nlocal t = redis.call('time')[1] + 1 while tonumber(redis.call('time')[1]) < t do end\r\n$1\r\n0\r\n")
        conn.send("SET", "after", "1")
        conn.send("GET", "after")
        assert conn.read_reply() is None
        assert conn.read_reply() == Status("OK")
        assert conn.read_reply() == b"1"
    finally:
        server.stop()
