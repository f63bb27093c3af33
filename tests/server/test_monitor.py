"""MONITOR: the line format, quoting, redaction and hidden commands, compared with the reference."""

from __future__ import annotations

import re

from specredis.engine.core import Engine
from specredis.engine.monitor import monitor_line, quote_repr
from specredis.protocol.client import Status
from specredis.protocol.replies import OK

LINE = re.compile(r"^(\d{10})\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)$")


def _monitor_session(server, commands):
    """Run ``commands`` on one connection while another monitors; return the normalized lines."""
    watcher = server.client()
    assert watcher.call("MONITOR") == Status("OK")
    worker = server.client()
    worker_addr = worker.sock.getsockname()
    for command in commands:
        worker.call(*command)
    worker.call("ECHO", "the-end")
    lines = []
    while True:
        reply = watcher.read_reply()
        assert isinstance(reply, Status)
        match = LINE.match(reply.text)
        assert match, reply.text
        seconds, micros, db, origin, args = match.groups()
        assert origin == f"{worker_addr[0]}:{worker_addr[1]}"
        lines.append(f"[{db}] {args}")
        if args == '"ECHO" "the-end"':
            break
    watcher.close()
    worker.close()
    return lines


COMMANDS = [
    ("PING",), ("ECHO", bytes(range(256))), ("ECHO", b'a"b\\c\t\r\n\x07\x08\x0b \x7f'), ("SELECT", "3"),
    ("ECHO", "in-db-3"), ("SELECT", "0"), ("AUTH", "someone", "pw"), ("AUTH", "pw"),
    ("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "watched"), ("CLIENT", "LIST"), ("CLIENT", "ID"),
    ("DEBUG", "SLEEP", "0"), ("SLOWLOG", "LEN"), ("NOSUCHCOMMAND",), ("ECHO",), ("PING", "a", "b"),
    ("LATENCY", "LATEST"), ("CLIENT", "SETNAME", "x"),
]


def test_monitor_lines_match_reference(specredis, reference):
    assert _monitor_session(specredis, COMMANDS) == _monitor_session(reference, COMMANDS)


def test_quote_repr():
    assert quote_repr(b"plain text") == b'"plain text"'
    assert quote_repr(b'\\"\n\r\t\x07\x08\x00\x7f\xff') == b'"\\\\\\"\\n\\r\\t\\a\\b\\x00\\x7f\\xff"'


def test_monitor_hook_only_while_monitoring():
    engine = Engine(clock=lambda: 1_700_000_000_123)
    watcher, worker = engine.new_client(addr="127.0.0.1:5555"), engine.new_client(addr="127.0.0.1:6666")
    hooks_before = list(engine.after_command_hooks)
    assert engine.execute(watcher, [b"MONITOR"]) == OK
    assert len(engine.after_command_hooks) == len(hooks_before) + 1
    engine.execute(worker, [b"PING", b"x y"])
    assert watcher.sink.delivered[-1].text == b'1700000000.123000 [0 127.0.0.1:6666] "PING" "x y"'
    engine.execute(watcher, [b"RESET"])
    assert engine.after_command_hooks == hooks_before and not engine.monitors
    engine.execute(worker, [b"PING"])
    assert len(watcher.sink.delivered) == 1        # RESET left the monitors before it could be fed


def test_monitor_line_for_script_and_unix_clients():
    engine = Engine(clock=lambda: 1_700_000_000_000)
    from specredis.engine.client import CLIENT_SCRIPT

    script = engine.new_client()
    script.flags |= CLIENT_SCRIPT
    assert monitor_line(script, [b"set", b"k"], 2) == b'1700000000.000000 [2 lua] "set" "k"'
    unix = engine.new_client(addr="/tmp/redis.sock")
    assert monitor_line(unix, [b"get"], 0) == b'1700000000.000000 [0 unix:/tmp/redis.sock] "get"'
