"""Expiry in-process, with an injected clock: lazy expiry on access, the active cycle in the
cron, their counters and effects, replicas, DEBUG SET-ACTIVE-EXPIRE; and, against a real
server, that unread keys with a short TTL are reclaimed within a second."""

from __future__ import annotations

import time

import pytest

from specredis.engine.core import NOTIFY_EXPIRED, NOTIFY_GENERIC, NOTIFY_KEYEVENT, Engine
from specredis.engine.expire import active_expire_cycle


class Clock:
    """A settable clock in unix milliseconds."""

    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(clock: Clock) -> Engine:
    return Engine(clock=clock)


def run(engine: Engine, client, *argv: object) -> object:
    return engine.execute(client, [a if isinstance(a, bytes) else str(a).encode() for a in argv])


def test_lazy_expiry_on_access(engine: Engine, clock: Clock) -> None:
    c = engine.new_client()
    run(engine, c, "SET", "k", "v", "PX", 100)
    assert run(engine, c, "PTTL", "k") == 100
    clock.now += 99
    assert run(engine, c, "GET", "k") == b"v"
    assert run(engine, c, "TTL", "k") == 0            # 1 ms left rounds to 0 s
    clock.now += 1
    assert run(engine, c, "DBSIZE") == 1               # not reclaimed until touched
    assert run(engine, c, "GET", "k") is None
    assert run(engine, c, "DBSIZE") == 0
    assert engine.stats.expired_keys == 1
    assert engine.stats.keyspace_hits == 3 and engine.stats.keyspace_misses == 1   # PTTL, GET, TTL; GET


def test_expired_key_counts_as_missing_everywhere(engine: Engine, clock: Clock) -> None:
    c = engine.new_client()
    for key in ("a", "b", "c", "d", "e"):
        run(engine, c, "SET", key, "5", "EX", 10)
    clock.now += 10_000
    assert run(engine, c, "EXISTS", "a") == 0
    assert run(engine, c, "INCR", "b") == 1           # starts again from 0, without TTL
    assert run(engine, c, "TTL", "b") == -1
    assert run(engine, c, "SET", "c", "x", "XX") is None
    assert run(engine, c, "RENAME", "d", "z").text == b"ERR no such key"
    assert run(engine, c, "KEYS", "*") == [b"b"]      # KEYS hides 'e' without deleting it
    assert run(engine, c, "DBSIZE") == 2
    assert engine.stats.expired_keys == 4


def test_active_cycle_reclaims_unread_keys(engine: Engine, clock: Clock) -> None:
    c = engine.new_client()
    for i in range(2000):
        run(engine, c, "SET", f"tmp:{i}", "v", "PX", 100)
        run(engine, c, "SET", f"keep:{i}", "v")
    run(engine, c, "SET", "later", "v", "EX", 1000)
    clock.now += 100
    cycles = 0
    while len(c.db.data) > 2001 and cycles < 50:
        engine.cron()
        cycles += 1
    assert len(c.db.data) == 2001
    assert engine.stats.expired_keys == 2000
    assert cycles <= 10        # stale keys are over 10%: each cycle keeps going while time allows
    assert len(c.db.expires) == 1


def test_active_cycle_average_ttl(engine: Engine, clock: Clock) -> None:
    c = engine.new_client()
    for i in range(100):
        run(engine, c, "SET", f"k{i}", "v", "EX", 100)
    assert c.db.avg_ttl == 0
    engine.cron()
    # The first estimate is taken as is, then weighted 2% (integer arithmetic, as Redis).
    assert 97_000 <= c.db.avg_ttl <= 100_000
    clock.now += 50_000
    for _ in range(200):
        engine.cron()
    assert 49_000 <= c.db.avg_ttl < 97_000
    run(engine, c, "PERSIST", *[f"k{i}" for i in range(1)])
    run(engine, c, "FLUSHDB")
    engine.cron()
    assert c.db.avg_ttl == 0


def test_debug_set_active_expire_disables_the_cycle(engine: Engine, clock: Clock) -> None:
    c = engine.new_client()
    run(engine, c, "SET", "k", "v", "PX", 10)
    clock.now += 20
    engine.extensions["active_expire_enabled"] = False
    for _ in range(5):
        active_expire_cycle(engine)
    assert len(c.db.data) == 1
    engine.extensions["active_expire_enabled"] = True
    active_expire_cycle(engine)
    assert len(c.db.data) == 0


def test_replica_keeps_keys_but_reports_them_missing(engine: Engine, clock: Clock) -> None:
    c = engine.new_client()
    run(engine, c, "SET", "k", "v", "PX", 10)
    run(engine, c, "SET", "n", "v")
    engine.is_replica = True
    clock.now += 20
    active_expire_cycle(engine)
    assert run(engine, c, "GET", "k") is None
    assert b"k" in c.db.data                      # the master's DEL will remove it
    # A time in the past does not delete on a replica either: the key keeps a past TTL.
    assert run(engine, c, "PEXPIREAT", "n", 1) == 1
    assert b"n" in c.db.data and c.db.expires[b"n"] == 1
    assert engine.stats.expired_keys == 0


def test_expiry_effects_events_and_propagation(engine: Engine, clock: Clock) -> None:
    c = engine.new_client()
    events: list[tuple[str, bytes, int]] = []
    propagated: list[tuple[int, list[bytes]]] = []
    engine.notify_flags = NOTIFY_KEYEVENT | NOTIFY_GENERIC | NOTIFY_EXPIRED
    engine.notify_hooks.append(lambda cls, event, key, dbid: events.append((event, key, dbid)))
    engine.propagation_consumers.append(lambda dbid, ops: propagated.extend((dbid, op) for op in ops))
    run(engine, c, "SET", "lazy", "v", "PX", 5)
    run(engine, c, "SET", "active", "v", "PX", 5)
    clock.now += 5
    run(engine, c, "GET", "lazy")
    engine.cron()
    assert ("expired", b"lazy", 0) in events and ("expired", b"active", 0) in events
    assert (0, [b"DEL", b"lazy"]) in propagated and (0, [b"DEL", b"active"]) in propagated
    engine.config.values["lazyfree-lazy-expire"] = True
    run(engine, c, "SET", "x", "v", "PX", 5)
    clock.now += 5
    run(engine, c, "EXISTS", "x")
    assert propagated[-1] == (0, [b"UNLINK", b"x"])


def test_expire_in_the_past_deletes_with_del_event(engine: Engine, clock: Clock) -> None:
    c = engine.new_client()
    events: list[str] = []
    engine.notify_flags = NOTIFY_KEYEVENT | NOTIFY_GENERIC
    engine.notify_hooks.append(lambda cls, event, key, dbid: events.append(event))
    run(engine, c, "SET", "k", "v")
    assert run(engine, c, "EXPIRE", "k", -1) == 1
    assert events == ["del"] and run(engine, c, "EXISTS", "k") == 0
    assert engine.stats.expired_keys == 0              # deleted by the command, not expired


def test_unread_short_ttl_keys_leave_dbsize_within_a_second(specredis) -> None:
    conn = specredis.client()
    try:
        conn.call("SELECT", 5)
        conn.call("FLUSHDB")
        for i in range(50):
            conn.call("SET", f"short:{i}", "v", "PX", 100)
        conn.call("SET", "long", "v", "EX", 100)
        deadline = time.monotonic() + 1.1
        while conn.call("DBSIZE") != 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert conn.call("DBSIZE") == 1
        assert conn.call("EXISTS", "long") == 1
    finally:
        conn.call("FLUSHDB")
        conn.close()
