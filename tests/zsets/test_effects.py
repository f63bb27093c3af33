"""Write effects of the set, sorted set and SORT commands: propagation and keyspace events.

The reference's effects are observed from outside: what a replica receives (its
MONITOR feed) and what ``PSUBSCRIBE __keyevent@0__:*`` delivers with
``notify-keyspace-events KEA``. specredis's are taken in-process from the same
command sequence: the propagation consumers and the notification hooks of an
Engine. The two sequences must be equal (MULTI/EXEC framing, which the
replication layer adds around commands that propagate several writes, aside).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from servers import ServerProcess, reference_master_and_replica

from specredis.engine.core import Engine
from specredis.engine.settings import parse_notify_flags
from specredis.protocol.client import RPush

# Deterministic sequences (random pops only from one-member sets).
SEQUENCES: dict[str, list[list[str]]] = {
    "sets": [
        ["SADD", "s", "a", "b", "c"], ["SADD", "s", "a"], ["SREM", "s", "a", "x"], ["SREM", "s", "x"],
        ["SADD", "one", "x"], ["SPOP", "one"], ["SADD", "one", "y"], ["SPOP", "one", "5"], ["SPOP", "one", "0"],
        ["SMOVE", "s", "d", "b"], ["SMOVE", "s", "d", "c"], ["SMOVE", "d", "d", "b"], ["SMOVE", "d", "e", "zz"],
        ["SADD", "a1", "1", "2", "3"], ["SADD", "a2", "2", "3", "4"], ["SINTERSTORE", "dst", "a1", "a2"],
        ["SUNIONSTORE", "dst", "a1", "a2"], ["SDIFFSTORE", "dst", "a1", "a1"], ["SDIFFSTORE", "dst", "a1", "a1"],
        ["SINTERSTORE", "dst", "a1", "nokey"], ["SUNIONSTORE", "dst", "a1"], ["SINTERSTORE", "dst", "nokey"],
        ["SREM", "a1", "1", "2", "3"], ["SINTER", "a1", "a2"], ["SCARD", "a2"],
        # SPOP of the whole set is propagated as DEL even under lazyfree-lazy-server-del.
        ["CONFIG", "SET", "lazyfree-lazy-server-del", "yes"], ["SADD", "two", "a", "b"], ["SPOP", "two", "2"],
        ["CONFIG", "SET", "lazyfree-lazy-server-del", "no"],
    ],
    "zsets": [
        ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"], ["ZADD", "z", "NX", "9", "a"],
        ["ZADD", "z", "XX", "CH", "9", "a"], ["ZINCRBY", "z", "1", "b"], ["ZADD", "z", "INCR", "1", "b"],
        ["ZADD", "z", "GT", "INCR", "-1", "b"], ["ZREM", "z", "nosuch"], ["ZREM", "z", "c"],
        ["ZPOPMIN", "z"], ["ZPOPMAX", "z", "2"], ["ZPOPMIN", "z", "0"], ["ZPOPMIN", "nokey", "3"],
        ["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["ZMPOP", "1", "z", "MIN", "COUNT", "10"],
        ["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["BZPOPMIN", "z", "0"], ["BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"],
        ["ZMPOP", "1", "nokey", "MAX"], ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
        ["ZREMRANGEBYRANK", "z", "0", "0"], ["ZREMRANGEBYSCORE", "z", "10", "20"], ["ZREMRANGEBYSCORE", "z", "3", "3"],
        ["ZREMRANGEBYLEX", "z", "-", "+"], ["ZADD", "z", "1", "a", "2", "b"], ["ZADD", "y", "5", "b", "6", "c"],
        ["ZUNIONSTORE", "d", "2", "z", "y"], ["ZINTERSTORE", "d", "2", "z", "y"], ["ZDIFFSTORE", "d", "1", "nokey"],
        ["ZDIFFSTORE", "d", "1", "nokey"], ["ZRANGESTORE", "d", "z", "0", "-1"], ["ZRANGESTORE", "d", "z", "5", "9"],
        ["ZUNION", "2", "z", "y"], ["ZCARD", "z"], ["ZREM", "z", "a", "b"],
    ],
    "sort": [
        ["RPUSH", "l", "3", "1", "2"], ["SORT", "l"], ["SORT", "l", "STORE", "dst"], ["SORT", "l", "LIMIT", "0", "0",
                                                                                      "STORE", "dst"],
        ["SORT", "l", "LIMIT", "0", "0", "STORE", "dst"], ["SORT_RO", "l"], ["SADD", "s", "b", "a"],
        ["SORT", "s", "BY", "nosort", "STORE", "dst"], ["SORT", "nokey", "STORE", "dst"],
    ],
}

_MONITOR_LINE = re.compile(r'^\d+\.\d+ \[\d+ [^\]]*\] (.*)$')
_MONITOR_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    return re.sub(r"\\(x[0-9a-f]{2}|.)",
                  lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "x" else _ESCAPES.get(m.group(1),
                                                                                                 m.group(1)), text)


def monitor_argv(line: str) -> list[str]:
    """The argv of one MONITOR line."""
    match = _MONITOR_LINE.match(line)
    assert match, line
    return [_unquote(arg) for arg in _MONITOR_ARG.findall(match.group(1))]


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


def specredis_effects(commands: list[list[str]]) -> tuple[list, list]:
    """(propagated argvs, keyevent notifications) of ``commands`` run in-process."""
    engine = Engine()
    client = engine.new_client()
    propagated: list[list[str]] = []
    events: list[tuple[str, str]] = []
    engine.propagation_consumers.append(
        lambda dbid, ops: propagated.extend([a.decode() for a in op] for op in ops))
    engine.notify_hooks.append(lambda cls, event, key, dbid: events.append((event, key.decode())))
    engine.notify_flags = parse_notify_flags("KEA")
    for command in commands:
        reply = engine.execute(client, [c.encode() for c in command])
        assert "ErrorReply" not in repr(reply), (command, reply)
    return propagated, events


@pytest.mark.parametrize("family", sorted(SEQUENCES))
def test_propagation_matches_the_reference_replica(replicated, family: str) -> None:
    commands = SEQUENCES[family]
    expected = reference_propagation(*replicated, commands)
    actual, _ = specredis_effects(commands)
    assert actual == expected


@pytest.mark.parametrize("family", sorted(SEQUENCES))
def test_keyspace_events_match_the_reference(replicated, family: str) -> None:
    commands = SEQUENCES[family]
    expected = reference_events(replicated[0], commands)
    _, actual = specredis_effects(commands)
    assert actual == expected
