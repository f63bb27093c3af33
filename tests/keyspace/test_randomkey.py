"""RANDOMKEY in-process: uniform over the keys (including keys created after the first call),
expired keys are reclaimed instead of returned, and a replica whose keys are all expired
gives up after 100 tries as Redis does."""

from __future__ import annotations

from collections import Counter

from specredis.engine.core import Engine


def test_uniform_and_new_keys_become_eligible() -> None:
    engine = Engine()
    client = engine.new_client()
    assert engine.execute(client, [b"RANDOMKEY"]) is None
    for i in range(10):
        engine.execute(client, [b"SET", b"k%d" % i, b"v"])
    counts = Counter(engine.execute(client, [b"RANDOMKEY"]) for _ in range(10_000))
    assert set(counts) == {b"k%d" % i for i in range(10)}
    assert min(counts.values()) > 800          # 1000 expected each
    for i in range(10, 20):
        engine.execute(client, [b"SET", b"k%d" % i, b"v"])
    counts = Counter(engine.execute(client, [b"RANDOMKEY"]) for _ in range(10_000))
    assert len(counts) == 20 and min(counts.values()) > 350


def test_expired_keys_are_deleted_not_returned() -> None:
    now = [1_000_000]
    engine = Engine(clock=lambda: now[0])
    client = engine.new_client()
    for i in range(50):
        engine.execute(client, [b"SET", b"gone%d" % i, b"v", b"PX", b"10"])
    engine.execute(client, [b"SET", b"stays", b"v"])
    now[0] += 10
    assert {engine.execute(client, [b"RANDOMKEY"]) for _ in range(20)} == {b"stays"}
    engine.execute(client, [b"DEL", b"stays"])
    assert engine.execute(client, [b"RANDOMKEY"]) is None
    assert engine.stats.expired_keys == 50


def test_replica_with_only_expired_keys_returns_one_after_tries() -> None:
    now = [1_000_000]
    engine = Engine(clock=lambda: now[0])
    client = engine.new_client()
    engine.execute(client, [b"SET", b"a", b"v", b"PX", b"10"])
    engine.is_replica = True
    now[0] += 10
    assert engine.execute(client, [b"RANDOMKEY"]) == b"a"
    assert engine.execute(client, [b"DBSIZE"]) == 1
