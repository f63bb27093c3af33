"""Write effects of the stream commands: what replicas and the AOF get, and keyspace events.

The reference's effects are observed from outside: what its replica receives (the
replica's MONITOR feed) and what ``PSUBSCRIBE __keyevent@0__:*`` delivers with
``notify-keyspace-events KEA``. specredis's come in-process from the same command
sequence: the propagation consumers and notification hooks of an Engine. The two
must be equal, except the delivery times XREADGROUP and XCLAIM propagate (``TIME <ms>``,
a clock reading), which are compared as placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from servers import ServerProcess, reference_master_and_replica

from specredis.engine.core import Engine
from specredis.engine.settings import parse_notify_flags
from specredis.protocol.client import RPush

SEQUENCES: dict[str, list[list[str]]] = {
    "add-trim-delete": [
        ["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "1-*", "f", "v"], ["XADD", "s", "2", "f", "v"],
        *[["XADD", "s", f"{i}-0", "f", str(i)] for i in range(3, 230)],
        ["XADD", "s", "MAXLEN", "~", "150", "230-0", "f", "v"], ["XADD", "s", "MAXLEN", "~", "10", "LIMIT", "50", "231-0",
                                                                   "f", "v"],
        ["XADD", "s", "MINID", "~", "200", "232-0", "f", "v"], ["XADD", "s", "maxlen", "=", "100", "233-0", "f", "v"],
        ["XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "5"], ["XTRIM", "s", "MAXLEN", "~", "20"],
        ["XTRIM", "s", "MINID", "~", "232-0"], ["XTRIM", "s", "MINID", "230-0"], ["XTRIM", "s", "MAXLEN", "1000"],
        ["XDEL", "s", "231-0", "999-0"], ["XDEL", "s", "999-0"], ["XTRIM", "s", "MINID", "~", "999-0"],
        ["XADD", "s", "NOMKSTREAM", "5000-0", "f", "v"], ["XADD", "missing", "NOMKSTREAM", "1-0", "f", "v"],
        ["XSETID", "s", "6000-0"], ["XSETID", "s", "6000-0", "ENTRIESADDED", "9999", "MAXDELETEDID", "5999-0"],
        ["XTRIM", "s", "MAXLEN", "0"], ["XTRIM", "s", "MAXLEN", "0"], ["XLEN", "s"], ["XRANGE", "s", "-", "+"],
    ],
    "groups": [
        ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], ["XGROUP", "CREATE", "s", "g", "$"],
        ["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "0"], ["XGROUP", "CREATECONSUMER", "s", "g", "c"],
        ["XGROUP", "CREATECONSUMER", "s", "g", "c"], ["XGROUP", "DELCONSUMER", "s", "g", "c"],
        ["XGROUP", "DELCONSUMER", "s", "g", "c"], ["XGROUP", "SETID", "s", "g2", "0", "ENTRIESREAD", "0"],
        ["XGROUP", "DESTROY", "s", "g2"], ["XGROUP", "DESTROY", "s", "g2"],
        *[["XADD", "s", f"{i}-0", "f", str(i)] for i in range(1, 9)],
        ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
        ["XREADGROUP", "GROUP", "g", "bob", "NOACK", "COUNT", "2", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g", "bob", "NOACK", "COUNT", "1", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0"],
        ["XREADGROUP", "GROUP", "g", "dave", "COUNT", "2", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g", "erin", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g", "erin", "STREAMS", "s", ">"],
        ["XACK", "s", "g", "1-0", "99-0"], ["XACK", "s", "g", "1-0"],
        ["XCLAIM", "s", "g", "frank", "0", "2-0", "6-0"], ["XCLAIM", "s", "g", "frank", "0", "0002-0", "JUSTID"],
        ["XCLAIM", "s", "g", "frank", "0", "2-0", "JUSTID", "LASTID", "100-0"],
        ["XCLAIM", "s", "g", "frank", "0", "99-0", "LASTID", "200-0"],
        ["XCLAIM", "s", "g", "frank", "0", "99-0", "LASTID", "150-0"],
        ["XCLAIM", "s", "g", "frank", "3600000", "6-0"], ["XDEL", "s", "2-0", "7-0"],
        ["XCLAIM", "s", "g", "grace", "0", "2-0"], ["XAUTOCLAIM", "s", "g", "heidi", "0", "0", "COUNT", "1"],
        ["XAUTOCLAIM", "s", "g", "heidi", "0", "0"], ["XAUTOCLAIM", "s", "g", "heidi", "3600000", "0"],
        ["XAUTOCLAIM", "s", "g", "ivan", "0", "0", "JUSTID"], ["XPENDING", "s", "g"],
        ["XREADGROUP", "GROUP", "g", "judy", "STREAMS", "s", ">"],
    ],
}

_MONITOR_LINE = re.compile(r'^\d+\.\d+ \[\d+ [^\]]*\] (.*)$')
_MONITOR_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')


def monitor_argv(line: str) -> list[str]:
    match = _MONITOR_LINE.match(line)
    assert match, line
    return [re.sub(r"\\(.)", r"\1", arg) for arg in _MONITOR_ARG.findall(match.group(1))]


def without_clocks(ops: list[list[str]]) -> list[list[str]]:
    """Propagated commands with the delivery times of XCLAIM (``TIME <ms>``) blanked."""
    out = []
    for op in ops:
        if op[0].upper() == "XCLAIM" and "TIME" in op:
            op = list(op)
            op[op.index("TIME") + 1] = "<time>"
        out.append(op)
    return out


@pytest.fixture(scope="module")
def replicated() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """A reference master and its replica."""
    with reference_master_and_replica() as pair:
        yield pair


def reference_propagation(master: ServerProcess, replica: ServerProcess, commands: list[list[str]]) -> list:
    """What the replica receives for ``commands``, without SELECT/PING and MULTI/EXEC framing."""
    master_conn, monitor = master.client(), replica.client()
    try:
        master_conn.call("FLUSHALL")
        monitor.send("MONITOR")
        monitor.read_reply()
        # The replica may still be applying what the master sent before MONITOR was on (an
        # earlier sequence, the FLUSHALL): the feed counts from this mark, which touches no key.
        master_conn.call("PUBLISH", "start-of-sequence", "1")
        for command in commands:
            master_conn.call(*command)
        master_conn.call("SET", "end-of-sequence", "1")
        seen: list | None = None
        while True:
            argv = monitor_argv(monitor.read_reply().text)
            if argv[:2] == ["PUBLISH", "start-of-sequence"]:
                seen = []
            elif argv[:2] == ["SET", "end-of-sequence"]:
                assert seen is not None, "the end mark came before the start mark"
                return seen
            elif seen is not None and argv[0].upper() not in ("SELECT", "PING", "MULTI", "EXEC", "FLUSHALL"):
                seen.append(argv)
    finally:
        master_conn.close()
        monitor.close()


def reference_events(master: ServerProcess, commands: list[list[str]]) -> list:
    """The keyevent notifications of ``commands``: [(event, key), ...]."""
    conn, subscriber = master.client(), master.client(protocol=3)
    try:
        conn.call("FLUSHALL")
        conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        subscriber.call("PSUBSCRIBE", "__keyevent@0__:*")
        for command in commands:
            conn.call(*command)
        conn.call("SET", "end-of-sequence", "1")
        seen = []
        while True:
            push = subscriber.read_reply()
            assert isinstance(push, RPush)
            event = push.items[2].decode().split(":", 1)[1]
            key = push.items[3].decode()
            if key == "end-of-sequence":
                return seen
            seen.append((event, key))
    finally:
        conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        conn.close()
        subscriber.close()


def specredis_effects(commands: list[list[str]], clock=None) -> tuple[list, list, Engine]:
    """(propagated argvs, keyevent notifications, engine) of ``commands`` run in-process."""
    engine = Engine(clock=clock)
    client = engine.new_client()
    propagated: list[list[str]] = []
    events: list[tuple[str, str]] = []
    engine.propagation_consumers.append(
        lambda dbid, ops: propagated.extend([a.decode() for a in op] for op in ops if op[0] not in (b"MULTI", b"EXEC")))
    engine.notify_hooks.append(lambda cls, event, key, dbid: events.append((event, key.decode())))
    engine.notify_flags = parse_notify_flags("KEA")
    for command in commands:
        engine.execute(client, [c.encode() for c in command])
    return propagated, events, engine


@pytest.mark.parametrize("sequence", sorted(SEQUENCES))
def test_propagation_matches_the_reference_replica(replicated, sequence: str) -> None:
    commands = SEQUENCES[sequence]
    expected = reference_propagation(*replicated, commands)
    actual, _, _ = specredis_effects(commands)
    assert without_clocks(actual) == without_clocks(expected)
    assert any(op[0] == "XCLAIM" for op in expected) or sequence != "groups"


@pytest.mark.parametrize("sequence", sorted(SEQUENCES))
def test_keyspace_events_match_the_reference(replicated, sequence: str) -> None:
    commands = SEQUENCES[sequence]
    expected = reference_events(replicated[0], commands)
    _, actual, _ = specredis_effects(commands)
    assert actual == expected


def test_automatic_ids_are_propagated_as_generated() -> None:
    now = [1_700_000_000_000]
    propagated, _, engine = specredis_effects([], clock=lambda: now[0])
    client = engine.new_client()
    replies = [engine.execute(client, argv) for argv in (
        [b"XADD", b"s", b"*", b"f", b"1"], [b"XADD", b"s", b"*", b"f", b"2"],
        [b"XADD", b"s", b"MAXLEN", b"~", b"5", b"*", b"f", b"3"], [b"XADD", b"s", b"1700000000000-*", b"f", b"4"])]
    now[0] -= 5000          # a clock going back does not make IDs go back
    replies.append(engine.execute(client, [b"XADD", b"s", b"*", b"f", b"5"]))
    now[0] += 10000
    replies.append(engine.execute(client, [b"XADD", b"s", b"*", b"f", b"6"]))
    assert replies == [b"1700000000000-0", b"1700000000000-1", b"1700000000000-2", b"1700000000000-3",
                       b"1700000000000-4", b"1700000005000-0"]
    assert propagated == [
        ["XADD", "s", "1700000000000-0", "f", "1"], ["XADD", "s", "1700000000000-1", "f", "2"],
        ["XADD", "s", "MAXLEN", "=", "3", "1700000000000-2", "f", "3"], ["XADD", "s", "1700000000000-3", "f", "4"],
        ["XADD", "s", "1700000000000-4", "f", "5"], ["XADD", "s", "1700000005000-0", "f", "6"],
    ]


def test_blocked_reads_propagate_what_they_deliver() -> None:
    """A blocked XREADGROUP served by an XADD propagates its deliveries after the XADD."""
    now = [1_700_000_000_000]
    propagated, _, engine = specredis_effects([["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]], clock=lambda: now[0])
    waiter, noack_waiter, writer = engine.new_client(), engine.new_client(), engine.new_client()
    assert engine.execute(waiter, [b"XREADGROUP", b"GROUP", b"g", b"c", b"BLOCK", b"0", b"STREAMS", b"s", b">"]) \
        is not None
    engine.execute(writer, [b"XADD", b"s", b"1-0", b"f", b"v"])
    engine.execute(noack_waiter, [b"XREADGROUP", b"GROUP", b"g", b"n", b"NOACK", b"BLOCK", b"0", b"STREAMS", b"s", b">"])
    engine.execute(writer, [b"XADD", b"s", b"2-0", b"f", b"v"])
    assert waiter.sink.delivered == [[[b"s", [[b"1-0", [b"f", b"v"]]]]]]
    assert noack_waiter.sink.delivered == [[[b"s", [[b"2-0", [b"f", b"v"]]]]]]
    assert propagated == [
        ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], ["XADD", "s", "1-0", "f", "v"],
        ["XCLAIM", "s", "g", "c", "0", "1-0", "TIME", str(now[0]), "RETRYCOUNT", "1", "FORCE", "JUSTID", "LASTID", "1-0"],
        ["XADD", "s", "2-0", "f", "v"], ["XGROUP", "CREATECONSUMER", "s", "g", "n"],
        ["XGROUP", "SETID", "s", "g", "2-0", "ENTRIESREAD", "2"],
    ]
