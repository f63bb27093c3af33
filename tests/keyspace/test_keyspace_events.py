"""Keyspace events (notify-keyspace-events), compared with Redis 7.0.15.

The reference's events are read from a PSUBSCRIBE to ``__keyevent@*__:*``; ours from a hook
in ``engine.notify_hooks`` of an in-process engine configured the same way. Both must be
the same (event, key, db) sequence for the same commands.
"""

from __future__ import annotations

import time

import pytest

from specredis.engine.core import Engine

END_KEY = b"__end_of_events__"
FLAGS = "EAnm"          # key-event channel, all classes, plus new-key and key-miss events

Event = tuple[str, bytes, int]


def reference_events(reference, commands: list) -> list[Event]:
    conn = reference.client()
    listener = reference.client()
    try:
        conn.call("FLUSHALL")
        conn.call("CONFIG", "SET", "notify-keyspace-events", FLAGS)
        listener.call("PSUBSCRIBE", "__keyevent@*__:*")
        for command in commands:
            if command[0] == "SLEEP":
                time.sleep(command[1])
            else:
                conn.call(*command)
        conn.call("SET", END_KEY, 1)
        events: list[Event] = []
        while True:
            kind, _pattern, channel, key = listener.read_reply()
            assert kind == b"pmessage"
            prefix, _, event = channel.partition(b"__:")
            dbid = int(prefix.split(b"@")[1])
            if key == END_KEY:
                return events
            events.append((event.decode(), key, dbid))
    finally:
        conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        conn.close()
        listener.close()


def our_events(commands: list) -> list[Event]:
    engine = Engine()
    client = engine.new_client()
    engine.execute(client, [b"CONFIG", b"SET", b"notify-keyspace-events", FLAGS.encode()])
    events: list[Event] = []
    engine.notify_hooks.append(lambda cls, event, key, dbid: events.append((event, key, dbid)))
    for command in commands:
        if command[0] == "SLEEP":
            time.sleep(command[1])
        else:
            engine.execute(client, [a if isinstance(a, bytes) else str(a).encode() for a in command])
    return events


@pytest.mark.parametrize("commands", [
    pytest.param([
        ["SET", "a", 1], ["SET", "a", 2, "EX", 100], ["SET", "a", 3, "KEEPTTL"], ["SET", "b", 1, "NX"], ["SET", "b", 1, "NX"],
        ["SET", "c", 1, "XX"], ["SET", "a", 4, "GET"], ["GET", "missing"], ["SETNX", "d", 1], ["SETEX", "e", 10, 1],
        ["PSETEX", "f", 10000, 1], ["GETSET", "g", 1], ["GETDEL", "g"], ["GETDEL", "g"], ["GETEX", "a", "EX", 10],
        ["GETEX", "a", "PERSIST"], ["GETEX", "a", "PXAT", 1], ["MSET", "h", 1, "i", 2], ["MSETNX", "j", 1, "h", 1],
        ["MSETNX", "j", 1, "k", 1], ["MGET", "h", "missing"], ["APPEND", "l", "x"], ["APPEND", "l", "y"],
        ["APPEND", "l", ""], ["SETRANGE", "m", 2, "x"], ["SETRANGE", "m", 0, ""], ["SETRANGE", "m", 0, "y"],
        ["INCR", "n"], ["INCRBY", "n", 2], ["DECR", "n"], ["DECRBY", "n2", 1], ["INCRBYFLOAT", "o", "1.5"],
        ["INCRBYFLOAT", "o", 1], ["STRLEN", "missing"], ["GETRANGE", "missing", 0, 1], ["LCS", "l", "missing"],
        ["SET", "p", 1, "PX", 1], ["SLEEP", 0.01], ["GET", "p"], ["INCR", "a"],
    ], id="strings"),
    pytest.param([
        ["MSET", "a", 1, "b", 2, "c", 3], ["DEL", "a", "missing"], ["UNLINK", "b"], ["EXISTS", "missing"], ["TYPE", "nope"],
        ["TOUCH", "missing"], ["RENAME", "c", "d"], ["SET", "e", 1], ["RENAME", "d", "e"], ["RENAMENX", "e", "f"],
        ["RENAMENX", "f", "f"], ["COPY", "f", "g"], ["COPY", "f", "g", "REPLACE"], ["COPY", "f", "g", "DB", 2],
        ["COPY", "missing", "h"], ["MOVE", "g", 1], ["MOVE", "g", 1], ["SELECT", 1], ["MOVE", "g", 0], ["SELECT", 0],
        ["EXPIRE", "f", 100], ["PEXPIRE", "f", 200000, "GT"], ["PEXPIRE", "f", 100000, "GT"], ["EXPIREAT", "f", 4000000000], ["PEXPIREAT", "f", 1, "XX"],
        ["SET", "i", 1], ["EXPIRE", "i", 10, "XX"], ["EXPIRE", "i", -5], ["SET", "j", 1, "EX", 100], ["PERSIST", "j"],
        ["PERSIST", "j"], ["TTL", "missing"], ["OBJECT", "ENCODING", "missing"], ["SWAPDB", 0, 1], ["FLUSHDB"],
        ["SET", "k", 1], ["FLUSHALL"], ["SET", "q", 1, "PX", 1], ["SLEEP", 0.01], ["EXISTS", "q"],
    ], id="keyspace"),
])
def test_events_match_redis(reference, commands: list) -> None:
    assert our_events(commands) == reference_events(reference, commands)
