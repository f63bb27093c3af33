"""PUBLISH and SPUBLISH reach replicas; keyspace notifications do not (replicas make their
own). The reference side is a 7.0.15 master with a replica (MONITOR on the replica shows
what the master propagated, and a subscriber on the replica what reached its clients);
our side is an in-process engine with a consumer in ``engine.propagation_consumers``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import ServerProcess, reference_master_and_replica

from specredis.engine.core import Engine
from specredis.protocol.client import Status
from specredis.protocol.parser import split_args

END_MARK = b"__end_of_sequence__"
# Published first: the replica's feed and its subscriber count from this mark (the replica
# may still be applying what an earlier test sent); the subscriber reads up to END_MARK.
START_MARK = b"__start_of_sequence__"

COMMANDS = [
    ["CONFIG", "SET", "notify-keyspace-events", "KEA"],
    ["PUBLISH", "ch", "hello"], ["SET", "k", "v"], ["SPUBLISH", "shard", "m"], ["SELECT", "3"],
    ["PUBLISH", "ch", "from db 3"], ["SELECT", "0"], ["MULTI"], ["PUBLISH", "ch", "in multi"], ["SET", "k", "w"],
    ["EXEC"], ["EVAL", "redis.call('publish', 'ch', 'in a script') return 1", "0"],
    ["PUBLISH", "nobody", "listens"], ["CONFIG", "SET", "notify-keyspace-events", ""],
]


@pytest.fixture(scope="module")
def master_and_replica() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """A reference master and its replica."""
    with reference_master_and_replica() as pair:
        yield pair


def reference_stream(master: ServerProcess, replica: ServerProcess) -> tuple[list, list]:
    listener = replica.client()
    listener.call("PSUBSCRIBE", "*")
    monitor = replica.client()
    assert monitor.call("MONITOR") == Status("OK")
    conn = master.client()
    try:
        conn.call("PUBLISH", START_MARK, "1")
        for command in COMMANDS:
            conn.call(*command)
        conn.call("SET", END_MARK, "1")
        conn.call("PUBLISH", END_MARK, "1")
        ops: list | None = None
        while True:
            line = monitor.read_reply()
            text = line.text.encode("latin-1") if isinstance(line, Status) else line
            head, _, rest = text.partition(b"] ")
            dbid = int(head.split(b"[", 1)[1].split()[0])
            argv = split_args(rest)
            if argv[:2] == [b"PUBLISH", START_MARK]:
                ops = []
            elif argv[:2] == [b"SET", END_MARK]:
                break
            elif ops is not None and argv[0].upper() not in (b"SELECT", b"PING", b"REPLCONF"):
                ops.append((dbid, argv))
        assert ops is not None, "the end mark came before the start mark"
        # The subscriber's messages between the marks (no read timeout: the end mark says
        # when everything the sequence published has arrived).
        messages: list | None = None
        while True:
            channel_and_data = tuple(listener.read_reply()[2:])
            if channel_and_data[:1] == (START_MARK,):
                messages = []
            elif channel_and_data[:1] == (END_MARK,):
                break
            elif messages is not None:
                messages.append(channel_and_data)
        assert messages is not None
        return ops, messages
    finally:
        conn.call("FLUSHALL")
        conn.close()
        monitor.close()
        listener.close()


def our_stream() -> list:
    engine = Engine()
    client = engine.new_client()
    ops: list = []
    engine.propagation_consumers.append(lambda dbid, batch: ops.extend((dbid, list(argv)) for argv in batch))
    for command in COMMANDS:
        engine.execute(client, [str(a).encode() for a in command])
    return ops


def test_publish_is_replicated_and_notifications_are_not(master_and_replica: tuple) -> None:
    expected, replica_messages = reference_stream(*master_and_replica)
    assert our_stream() == expected
    # On the replica, the propagated PUBLISHes are published again; the SETs it applies make
    # notifications only if the replica itself has them enabled (it has not).
    channels = [message[0] for message in replica_messages]
    assert channels.count(b"ch") == 4 and not any(c.startswith(b"__key") for c in channels), replica_messages
