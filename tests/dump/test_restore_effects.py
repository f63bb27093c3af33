"""What RESTORE propagates and notifies, compared with redis-server 7.0.15: a relative TTL
goes out as an absolute one (ABSTTL), an already expired RESTORE ... REPLACE as DEL, and
keyspace events 'restore' / 'del' are emitted as Redis emits them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from servers import ServerProcess, reference_master_and_replica

from specredis.engine.core import Engine
from specredis.protocol.client import Status
from specredis.protocol.parser import split_args

END = b"__end__"
# Published on the master once the replica's MONITOR is on: the replica may still be applying
# the setup commands sent before (FLUSHALL, SET src), so the feed counts from this mark.
START = b"__start__"


@pytest.fixture(scope="module")
def master_and_replica() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """A reference master and its replica."""
    with reference_master_and_replica() as pair:
        yield pair


def _commands(payload: bytes) -> list[list]:
    now = int(time.time() * 1000)
    return [["SET", "victim", "x"], ["RESTORE", "k1", 0, payload], ["RESTORE", "k2", 100000, payload],
            ["RESTORE", "k3", now + 100000, payload, "ABSTTL"], ["RESTORE", "victim", 1, payload, "REPLACE", "ABSTTL"],
            ["RESTORE", "gone", 1, payload, "ABSTTL"], ["RESTORE", "k1", 0, payload], ["RESTORE", "k1", 0, payload, "REPLACE"],
            ["RESTORE-ASKING", "k4", 0, payload]]


def _normalize(ops: list) -> list:
    now = time.time() * 1000
    return [[b"<ms>" if arg.isdigit() and abs(int(arg) - now) < 600_000 else arg for arg in argv] for argv in ops]


def test_restore_propagates_and_notifies_like_redis(master_and_replica) -> None:
    master, replica = master_and_replica
    conn = master.client()
    conn.call("FLUSHALL")
    conn.call("SET", "src", "value")
    payload = conn.call("DUMP", "src")
    conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    events_conn = master.client()
    events_conn.call("PSUBSCRIBE", "__keyevent@0__:*")
    monitor = replica.client()
    assert monitor.call("MONITOR") == Status("OK")
    conn.call("PUBLISH", START, "1")
    for command in _commands(payload):
        conn.call(*command)
    conn.call("SET", END, "1")
    expected_ops = []
    started = False
    while True:
        line = monitor.read_reply()
        text = line.text.encode("latin-1") if isinstance(line, Status) else line
        argv = split_args(text.partition(b"] ")[2])
        if argv[:2] == [b"PUBLISH", START]:
            started = True
        elif argv[:2] == [b"SET", END]:
            break
        elif started and argv[0].upper() not in (b"SELECT", b"PING", b"REPLCONF"):
            expected_ops.append(argv)
    assert started
    expected_events = []
    while True:
        message = events_conn.read_reply()
        if message[2] == b"__keyevent@0__:set" and message[3] == END:
            break
        expected_events.append((message[2].split(b":", 1)[1], message[3]))
    conn.call("CONFIG", "SET", "notify-keyspace-events", "")
    for client in (monitor, events_conn, conn):
        client.close()

    engine = Engine()
    client = engine.new_client()
    ops, events = [], []
    engine.propagation_consumers.append(lambda dbid, batch: ops.extend(list(argv) for argv in batch))
    engine.execute(client, [b"CONFIG", b"SET", b"notify-keyspace-events", b"KEA"])
    engine.notify_hooks.append(lambda cls, event, key, dbid: events.append((event.encode(), key)))
    for command in _commands(payload):
        engine.execute(client, [a if isinstance(a, bytes) else str(a).encode() for a in command])
    assert _normalize(ops) == _normalize(expected_ops)
    assert [event for event in events if event[0] != b"new"] == [e for e in expected_events if e[0] != b"new"]
    assert ([b"RESTORE", b"k2", b"<ms>", payload, b"ABSTTL"]) in _normalize(ops)
    assert [b"DEL", b"victim"] in ops


def test_a_relative_ttl_that_overflows_is_already_expired(reference) -> None:
    """ttl + now wraps in Redis's int64 arithmetic: the key is not created (found by the
    streams differential machine: RESTORE k 9223372036854775806 ... then EXISTS k)."""
    import servers

    ours = servers.start_specredis()
    try:
        results = []
        for server in (reference, ours):
            c = server.client()
            c.call("SET", "src", "v")
            payload = c.call("DUMP", "src")
            c.call("DEL", "k3")
            results.append([c.call("RESTORE", "k3", "9223372036854775806", payload),
                            c.call("EXISTS", "k3"),
                            c.call("RESTORE", "k4", "9223372036854775806", payload, "IDLETIME", "1"),
                            c.call("EXISTS", "k4")])
            c.close()
        assert results[0] == results[1]
        assert results[1][1] == 0
    finally:
        ours.stop()
