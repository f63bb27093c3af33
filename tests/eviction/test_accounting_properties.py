"""Properties of the incremental memory accounting and of eviction, over random command
sequences (Hypothesis): the kept total always equals a fresh scan of the keyspace; under a
volatile policy keys without TTL are never evicted; used memory stays within maxmemory
(plus the last command's own size) once evictions have run."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specredis.engine.core import Engine
from specredis.engine.memory import (
    ACCOUNTING_SAMPLES,
        STARTUP_BYTES,
    accounting,
    key_bytes,
)

KEYS = [b"k%d" % i for i in range(12)]
key = st.sampled_from(KEYS)
small = st.binary(min_size=0, max_size=40)
field = st.sampled_from([b"f1", b"f2", b"f3", b"f4"])

command = st.one_of(
    st.tuples(st.just(b"SET"), key, small),
    st.tuples(st.just(b"SET"), key, small, st.just(b"PX"), st.sampled_from([b"50", b"100000"])),
    st.tuples(st.just(b"APPEND"), key, small),
    st.tuples(st.just(b"INCR"), key),
    st.tuples(st.just(b"DEL"), key),
    st.tuples(st.just(b"RPUSH"), key, small, small),
    st.tuples(st.just(b"LPOP"), key),
    st.tuples(st.just(b"HSET"), key, field, small),
    st.tuples(st.just(b"HDEL"), key, field),
    st.tuples(st.just(b"SADD"), key, small),
    st.tuples(st.just(b"SREM"), key, small),
    st.tuples(st.just(b"ZADD"), key, st.sampled_from([b"1", b"2.5"]), small),
    st.tuples(st.just(b"XADD"), key, st.just(b"*"), field, small),
    st.tuples(st.just(b"RENAME"), key, key),
    st.tuples(st.just(b"MOVE"), key, st.just(b"1")),
    st.tuples(st.just(b"EXPIRE"), key, st.just(b"100")),
    st.tuples(st.just(b"PERSIST"), key),
    st.tuples(st.just(b"SWAPDB"), st.just(b"0"), st.just(b"1")),
    st.tuples(st.just(b"FLUSHDB")),
    st.tuples(st.just(b"SELECT"), st.sampled_from([b"0", b"1"])),
    st.tuples(st.just(b"GET"), key),
)
advance = st.sampled_from([0, 0, 0, 60, 200])


def scanned_total(engine: Engine) -> int:
    total = 0
    for db in engine.databases:
        for name, value in db.data.items():
            total += key_bytes(name, value, ACCOUNTING_SAMPLES)
    return total


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(command, advance), min_size=1, max_size=40))
def test_kept_total_equals_a_scan(steps: list) -> None:
    now = [1_700_000_000_000]
    engine = Engine(clock=lambda: now[0])
    client = engine.new_client()
    engine.execute(client, [b"CONFIG", b"SET", b"maxmemory", b"1gb"])
    state = accounting(engine)
    for argv, ms in steps:
        now[0] += ms
        engine.execute(client, list(argv))
        if ms:
            engine.cron()       # active expiry deletes keys outside any command
        assert state.total == scanned_total(engine), argv


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(command, advance), min_size=1, max_size=60),
       st.sampled_from(["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
                        "allkeys-lfu", "allkeys-random", "noeviction"]),
       st.integers(min_value=200, max_value=3000))
def test_eviction_invariants(steps: list, policy: str, room: int) -> None:
    now = [1_700_000_000_000]
    engine = Engine(clock=lambda: now[0])
    client = engine.new_client()
    limit = STARTUP_BYTES + room
    for argv in ([b"CONFIG", b"SET", b"maxmemory-policy", policy.encode()],
                 [b"CONFIG", b"SET", b"maxmemory-eviction-tenacity", b"100"],
                 [b"CONFIG", b"SET", b"maxmemory", b"%d" % limit]):
        engine.execute(client, argv)
    state = accounting(engine)
    for argv, ms in steps:
        now[0] += ms
        before = {(db.id, name) for db in engine.databases for name in db.data if name not in db.expires}
        evicted_before = engine.stats.evicted_keys
        used_before = state.used_memory_fast()
        engine.execute(client, list(argv))
        if policy.startswith("volatile-") and engine.stats.evicted_keys > evicted_before:
            # Keys without a TTL are never evicted: only commands remove them.
            after = {(db.id, name) for db in engine.databases for name in db.data}
            gone = before - after
            assert not gone or argv[0] in (b"DEL", b"RENAME", b"MOVE", b"SWAPDB", b"FLUSHDB", b"LPOP",
                                           b"HDEL", b"SREM", b"SET", b"APPEND", b"INCR"), (argv, gone)
        if policy.startswith("allkeys-") and used_before > limit:
            # The command ran after evictions made room (or nothing was left to evict).
            assert state.used_memory_fast() <= limit + 600 or engine.stats.evicted_keys > evicted_before \
                or not any(db.data for db in engine.databases)
    if policy.startswith("allkeys-"):
        engine.execute(client, [b"PING"])
        assert state.used_memory_fast() <= limit or not any(db.data for db in engine.databases)
