"""SCAN's guarantee, in-process: every key present for the whole scan is returned at least once,
while keys are added and removed between the calls (so the table grows, shrinks and the
cursor index is rebuilt), and nothing is returned that does not exist when it is returned.

The index constants are shrunk so that a few hundred keys exercise what millions would:
chunked building, pending keys placed in chunks, rebuilds for growth and for dead entries.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specredis.engine import generic
from specredis.engine.core import Engine


@pytest.fixture
def small_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generic, "BUILD_CHUNK", 7)
    monkeypatch.setattr(generic, "TARGET_BUCKET_SIZE", 2)


def _scan_call(engine: Engine, client, cursor: bytes, count: int, extra: list[bytes]) -> tuple[bytes, list[bytes]]:
    reply = engine.execute(client, [b"SCAN", cursor, b"COUNT", b"%d" % count, *extra])
    assert isinstance(reply, list), reply
    return reply[0], reply[1]


# An operation between two SCAN calls: add keys, delete keys, or change nothing.
operation = st.one_of(
    st.tuples(st.just("add"), st.lists(st.integers(0, 400), max_size=60)),
    st.tuples(st.just("del"), st.lists(st.integers(0, 400), max_size=60)),
    st.tuples(st.just("none"), st.just([])),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.lists(st.integers(0, 400), max_size=200), steps=st.lists(st.tuples(operation, st.integers(1, 40)),
                                                                           min_size=1, max_size=80))
def test_every_key_present_for_the_whole_scan_is_returned(small_index: None, initial: list[int], steps: list) -> None:
    """Scans run back to back on one engine (so later scans find an index built earlier, with
    keys created since), with the operations applied between calls and between scans."""
    engine = Engine()
    client = engine.new_client()
    db = client.db
    for n in initial:
        engine.execute(client, [b"SET", b"k%d" % n, b"v"])
    scans_done = 0
    step_iter = iter(steps)
    while scans_done < 3:
        present_throughout = set(db.data)
        returned: set[bytes] = set()
        cursor = b"0"
        calls = 0
        while True:
            (kind, numbers), count = next(step_iter, (("none", []), 10))
            cursor, keys = _scan_call(engine, client, cursor, count, [])
            calls += 1
            for key in keys:
                assert key in db.data, "SCAN returned a key that does not exist"
            returned.update(keys)
            if kind == "add":
                for n in numbers:
                    engine.execute(client, [b"SET", b"k%d" % n, b"v"])
            elif kind == "del":
                for n in numbers:
                    key = b"k%d" % n
                    if engine.execute(client, [b"DEL", key]):
                        present_throughout.discard(key)
            if cursor == b"0":
                break
            assert calls < 10_000, "the scan does not terminate"
        missing = present_throughout - returned
        assert not missing, f"scan {scans_done}: {len(missing)} keys present for the whole scan never returned"
        scans_done += 1


def test_growth_from_empty_to_thousands_during_one_scan(small_index: None) -> None:
    engine = Engine()
    client = engine.new_client()
    for i in range(50):
        engine.execute(client, [b"SET", b"old%d" % i, b"v"])
    old = {b"old%d" % i for i in range(50)}
    returned: set[bytes] = set()
    cursor, calls = b"0", 0
    while True:
        cursor, keys = _scan_call(engine, client, cursor, 5, [])
        returned.update(keys)
        calls += 1
        if cursor == b"0":
            break
        # Grow the table a lot between calls: several rebuilds happen mid-scan.
        for j in range(60):
            engine.execute(client, [b"SET", b"new%d:%d" % (calls, j), b"v"])
    assert old <= returned


def test_shrink_to_almost_nothing_during_one_scan(small_index: None) -> None:
    engine = Engine()
    client = engine.new_client()
    keys = [b"k%d" % i for i in range(3000)]
    engine.execute(client, [b"MSET", *[x for k in keys for x in (k, b"v")]])
    survivors = set(keys[::97])
    doomed = [k for k in keys if k not in survivors]
    returned: set[bytes] = set()
    cursor = b"0"
    while True:
        cursor, found = _scan_call(engine, client, cursor, 20, [])
        returned.update(found)
        if cursor == b"0":
            break
        for _ in range(200):
            if doomed:
                engine.execute(client, [b"DEL", doomed.pop()])
    assert survivors <= returned


def test_flush_and_swapdb_mid_scan_terminate() -> None:
    engine = Engine()
    client = engine.new_client()
    engine.execute(client, [b"MSET", *[x for i in range(500) for x in (b"k%d" % i, b"v")]])
    cursor, _ = _scan_call(engine, client, b"0", 10, [])
    engine.execute(client, [b"SWAPDB", b"0", b"1"])
    engine.execute(client, [b"SET", b"after", b"v"])
    seen: set[bytes] = set()
    for _ in range(1000):
        cursor, keys = _scan_call(engine, client, cursor, 10, [])
        seen.update(keys)
        if cursor == b"0":
            break
    assert cursor == b"0"
    engine.execute(client, [b"FLUSHALL"])
    assert _scan_call(engine, client, b"0", 10, []) == (b"0", [])


def test_index_cost_per_key_and_call() -> None:
    """The index costs a few dozen bytes per key while scans run, and a call is O(COUNT)."""
    engine = Engine()
    client = engine.new_client()
    n = 100_000
    for i in range(0, n, 1000):
        engine.execute(client, [b"MSET", *[x for j in range(i, i + 1000) for x in (b"key:%d" % j, b"v")]])
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    cursor, keys = _scan_call(engine, client, b"0", 10, [])
    while not keys and cursor != b"0":           # chunks of the build answer empty pages
        cursor, keys = _scan_call(engine, client, cursor, 10, [])
    per_key = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    assert per_key < 40, f"{per_key:.1f} bytes per key"
    start = time.perf_counter()
    calls = 0
    total = len(keys)
    while cursor != b"0":
        cursor, keys = _scan_call(engine, client, cursor, 10, [])
        total += len(keys)
        calls += 1
    per_call_us = (time.perf_counter() - start) / max(calls, 1) * 1e6
    assert total == n
    assert calls < n / 5
    assert per_call_us < 2000, f"{per_call_us:.0f} us per SCAN call"
