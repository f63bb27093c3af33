"""The C hot loop and the pure-Python path agree while access clocks and maxmemory are on
(tests/perf/test_hot_loop.py's harness: same replies, data, counters, propagation)."""

from __future__ import annotations

import importlib.util
import os

import pytest

from specredis import server as server_mod

pytestmark = pytest.mark.skipif(server_mod._hot_run is None, reason="specredis._hotloop is not built")

_spec = importlib.util.spec_from_file_location(
    "hot_loop_harness", os.path.join(os.path.dirname(__file__), os.pardir, "perf", "test_hot_loop.py"))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)
resp = harness.resp

WORKLOAD = (resp("SET", "a", "1") + resp("GET", "a") + resp("INCR", "n") + resp("LPUSH", "l", "x", "y")
            + resp("HSET", "h", "f", "v") + resp("SADD", "s", "m") + resp("ZADD", "z", "1", "m")
            + resp("MSET", "b", "2", "c", "3") + resp("MGET", "a", "b", "missing") + resp("DEL", "c")
            + resp("EXPIRE", "a", "100") + resp("TYPE", "l") + resp("LPOP", "l"))


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "volatile-ttl"])
def test_clocks_on(monkeypatch: pytest.MonkeyPatch, policy: str) -> None:
    chunks = [resp("CONFIG", "SET", "maxmemory-policy", policy), WORKLOAD,
              resp("OBJECT", "IDLETIME", "a") if not policy.endswith("lfu") else resp("OBJECT", "FREQ", "b"),
              WORKLOAD, resp("CONFIG", "SET", "maxmemory-policy", "noeviction"), WORKLOAD]
    harness.same(chunks, monkeypatch)


def test_maxmemory_gate_and_evictions(monkeypatch: pytest.MonkeyPatch) -> None:
    fill = b"".join(resp("SET", f"key:{i}", "v" * 200) for i in range(300))
    # Tenacity 100: no time limit per eviction call (else how much one call frees is timing).
    chunks = [resp("CONFIG", "SET", "maxmemory-eviction-tenacity", "100"), resp("CONFIG", "SET", "maxmemory", "1gb"),
              WORKLOAD, fill,
              resp("CONFIG", "SET", "maxmemory", "1"), WORKLOAD,      # noeviction: writes refused
              resp("CONFIG", "SET", "maxmemory-policy", "allkeys-random"), WORKLOAD, fill,
              resp("CONFIG", "SET", "maxmemory", "0"), WORKLOAD, resp("DBSIZE")]
    result = harness.same(chunks, monkeypatch)
    assert b"-OOM command not allowed" in result["output"]
