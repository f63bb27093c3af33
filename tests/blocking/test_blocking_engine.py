"""The blocking machinery in process: a fake clock and scheduler, propagation, cleanup."""

from __future__ import annotations

import pytest

from specredis.engine.blocking import parse_timeout_seconds
from specredis.engine.client import CLIENT_BLOCKED
from specredis.engine.core import Engine, ManualScheduler
from specredis.engine.errors import RedisError
from specredis.protocol.replies import NO_REPLY, NULL_ARRAY, ErrorReply


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def env():
    clock = Clock()
    engine = Engine(clock=clock)
    engine.scheduler = ManualScheduler(clock)
    propagated: list = []
    engine.propagation_consumers.append(lambda dbid, ops: propagated.extend(ops))
    return engine, clock, propagated


def run(engine, client, *argv):
    return engine.execute(client, [a if isinstance(a, bytes) else str(a).encode() for a in argv])


def test_timeout_fires_at_the_deadline_not_before(env) -> None:
    engine, clock, _ = env
    client = engine.new_client()
    assert run(engine, client, "BLPOP", "k", "0.25") is NO_REPLY
    assert client.flags & CLIENT_BLOCKED
    clock.now += 249
    engine.scheduler.run_due()
    assert client.sink.delivered == []
    clock.now += 1
    engine.scheduler.run_due()
    assert client.sink.delivered == [NULL_ARRAY]
    assert not client.flags & CLIENT_BLOCKED and client.blocked is None
    assert engine.extensions["blocking"].stats() == {"blocked_clients": 0, "clients_in_timeout_table": 0}


def test_fifo_service_and_propagation_as_the_non_blocking_form(env) -> None:
    engine, _, propagated = env
    first, second, third, pusher = (engine.new_client() for _ in range(4))
    run(engine, first, "BLPOP", "k", 0)
    run(engine, second, "BRPOP", "k", 0)
    run(engine, third, "BLMOVE", "k", "dst", "LEFT", "RIGHT", 0)
    assert engine.extensions["blocking"].stats()["blocked_clients"] == 3
    assert run(engine, pusher, "RPUSH", "k", "a", "b", "c") == 3
    assert first.sink.delivered == [[b"k", b"a"]]
    assert second.sink.delivered == [[b"k", b"c"]]
    assert third.sink.delivered == [b"b"]
    # (A BLMOVE served after blocking is written with Redis's shared lowercase directions.)
    assert propagated == [[b"RPUSH", b"k", b"a", b"b", b"c"], [b"LPOP", b"k"], [b"RPOP", b"k"],
                          [b"LMOVE", b"k", b"dst", b"left", b"right"]]
    assert all(c.sink.resumed == 1 for c in (first, second, third))


def test_served_immediately_propagates_the_rewrite(env) -> None:
    engine, _, propagated = env
    client = engine.new_client()
    run(engine, client, "RPUSH", "k", "a", "b", "c")
    assert run(engine, client, "BLPOP", "k", 0) == [b"k", b"a"]
    assert run(engine, client, "BLMPOP", 0, 1, "k", "RIGHT", "COUNT", 5) == [b"k", [b"c", b"b"]]
    run(engine, client, "HSET", "h", "f", "1")
    run(engine, client, "HINCRBYFLOAT", "h", "f", "0.5")
    assert propagated[1:] == [[b"LPOP", b"k"], [b"RPOP", b"k", b"2"], [b"HSET", b"h", b"f", b"1"],
                              [b"HSET", b"h", b"f", b"1.5"]]


def test_transaction_propagates_wrapped_and_wakes_after_exec(env) -> None:
    engine, _, propagated = env
    waiter, client = engine.new_client(), engine.new_client()
    run(engine, waiter, "BLPOP", "k", 0)
    for argv in (["MULTI"], ["RPUSH", "k", "x"], ["LLEN", "k"], ["EXEC"]):
        reply = run(engine, client, *argv)
    assert reply == [1, 1]          # the waiter was not served in the middle of the transaction
    assert waiter.sink.delivered == [[b"k", b"x"]]
    assert propagated == [[b"MULTI"], [b"RPUSH", b"k", b"x"], [b"EXEC"], [b"LPOP", b"k"]]


def test_closed_and_unblocked_clients_leave_the_queues(env) -> None:
    engine, _, _ = env
    gone, unblocked, stays, pusher = (engine.new_client() for _ in range(4))
    for client in (gone, unblocked, stays):
        run(engine, client, "BLPOP", "k", "k2", 100)
    engine.unregister_client(gone)
    assert run(engine, pusher, "CLIENT", "UNBLOCK", unblocked.id, "ERROR") == 1
    assert unblocked.sink.delivered == [ErrorReply(b"UNBLOCKED client unblocked via CLIENT UNBLOCK")]
    run(engine, pusher, "RPUSH", "k2", "v")
    assert stays.sink.delivered == [[b"k2", b"v"]]
    assert gone.sink.delivered == []
    db = engine.databases[0]
    assert db.blocking_keys == {}
    assert engine.extensions["blocking"].stats() == {"blocked_clients": 0, "clients_in_timeout_table": 0}


def test_timeout_parsing() -> None:
    now = 1_000
    assert parse_timeout_seconds(b"0", now) == 0
    assert parse_timeout_seconds(b"0.0001", now) == 0          # truncated to 0 ms: forever, as Redis
    assert parse_timeout_seconds(b"1.5", now) == 2_500
    assert parse_timeout_seconds(b"0x1p-3", now) == 1_125
    for raw, error in ((b"-0.5", "negative"), (b"inf", "negative"), (b"1e400", "negative"),
                       (b"abc", "not a float"), (b"nan", "not a float"), (b" 1", "not a float")):
        with pytest.raises(RedisError, match=error):
            parse_timeout_seconds(raw, now)
