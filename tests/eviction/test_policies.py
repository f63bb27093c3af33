"""Eviction behaviour in process (an injected clock, no sockets): what each policy evicts, the
limit kept, the effects of an eviction (events, stats, propagation, WATCH), access clocks.

The choices are randomized (sampling), so the assertions are statistical with wide margins."""

from __future__ import annotations

from typing import Any

import pytest

from specredis.engine.core import Engine
from specredis.engine.memory import STARTUP_BYTES, accounting
from specredis.protocol.replies import ErrorReply

OOM_TEXT = b"OOM command not allowed when used memory > 'maxmemory'."


class Server:
    def __init__(self) -> None:
        self.now = [1_700_000_000_000]
        self.engine = Engine(clock=lambda: self.now[0])
        self.client = self.engine.new_client()

    def __call__(self, *argv: Any) -> Any:
        return self.engine.execute(self.client, [a if isinstance(a, bytes) else str(a).encode() for a in argv])

    def advance(self, ms: int) -> None:
        self.now[0] += ms
        self.engine.cron()

    def settle(self) -> None:
        """Let the eviction timer finish what one call's time budget left (evictionTimeProc)."""
        state = self.engine.extensions["eviction"]
        for _ in range(10_000):
            if state.timer is None:
                return
            self.engine.scheduler.run_due()

    def used(self) -> int:
        return accounting(self.engine).used_memory_fast()

    def dbsize(self) -> int:
        return sum(len(db.data) for db in self.engine.databases)


def fill(server: Server, prefix: str, count: int, size: int = 100, **options: Any) -> None:
    for i in range(count):
        extra = ["PX", str(options["ttl"] + i)] if "ttl" in options else []
        server("SET", f"{prefix}{i}", "x" * size, *extra)


@pytest.fixture
def server() -> Server:
    return Server()


def limit_for(server: Server, keys: int, size: int = 100) -> int:
    """A maxmemory that holds about ``keys`` keys of ``size`` bytes: in all while ``server`` has
    no maxmemory yet, else beyond what it stores now."""
    probe = Server()
    probe("CONFIG", "SET", "maxmemory", "1gb")
    base = probe.used()
    fill(probe, "probe", 100, size)
    per_key = (probe.used() - base) / 100
    return server.used() + int(per_key * keys) if server.engine.config["maxmemory"] else \
        STARTUP_BYTES + int(per_key * keys)


def test_allkeys_lru_keeps_within_the_limit_and_prefers_recent_keys(server: Server) -> None:
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    fill(server, "old", 500)
    server.advance(60_000)
    # Half of the old keys are read a minute later: they are the recent ones.
    for i in range(0, 500, 2):
        server("GET", f"old{i}")
    server.advance(10_000)
    limit = limit_for(server, 700)
    server("CONFIG", "SET", "maxmemory", limit)
    fill(server, "new", 600)
    server.settle()
    # Redis's tolerance: the check comes before each command, so the last one may overshoot.
    assert server.used() <= limit + 300
    assert server.engine.stats.evicted_keys > 0
    data = server.engine.databases[0].data
    read_survivors = sum(1 for i in range(0, 500, 2) if f"old{i}".encode() in data)
    unread_survivors = sum(1 for i in range(1, 500, 2) if f"old{i}".encode() in data)
    assert read_survivors > 2 * unread_survivors + 10, (read_survivors, unread_survivors)


def test_allkeys_lfu_prefers_frequently_read_keys(server: Server) -> None:
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    fill(server, "k", 400)
    for _ in range(30):
        for i in range(0, 400, 4):
            server("GET", f"k{i}")
    limit = limit_for(server, 200)
    server("CONFIG", "SET", "maxmemory", limit)
    fill(server, "new", 300)
    data = server.engine.databases[0].data
    hot = sum(1 for i in range(0, 400, 4) if f"k{i}".encode() in data)
    cold = sum(1 for i in range(400) if i % 4 and f"k{i}".encode() in data)
    assert hot >= 80, hot                    # of 100 frequently read keys
    assert cold < 150, cold                  # of 300 never read ones


def test_volatile_policies_spare_keys_without_ttl(server: Server) -> None:
    for policy in ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"):
        server("FLUSHALL")
        server("CONFIG", "SET", "maxmemory", "0")
        server("CONFIG", "SET", "maxmemory-policy", policy)
        fill(server, "keep", 200)
        fill(server, "ttl", 200, ttl=1_000_000)
        server("CONFIG", "SET", "maxmemory", limit_for(server, 0) + 1)
        server.settle()
        data = server.engine.databases[0].data
        assert all(f"keep{i}".encode() in data for i in range(200)), policy
        assert not any(f"ttl{i}".encode() in data for i in range(200)), policy
        reply = server("SET", "more", "1")
        assert isinstance(reply, ErrorReply) and reply.text == OOM_TEXT, policy
        assert server("GET", "keep0") == b"x" * 100


def test_volatile_ttl_evicts_the_nearest_expiry_first(server: Server) -> None:
    server("CONFIG", "SET", "maxmemory-policy", "volatile-ttl")
    server("CONFIG", "SET", "maxmemory-samples", "10")
    # ttl0 expires first, ttl399 last.
    fill(server, "ttl", 400, ttl=1_000_000)
    # Room for 400 plain keys in all: 200 plain keys come, so most TTL keys must go.
    server("CONFIG", "SET", "maxmemory", limit_for(server, 400))
    fill(server, "plain", 200)
    server.settle()
    data = server.engine.databases[0].data
    survivors = [i for i in range(400) if f"ttl{i}".encode() in data]
    assert survivors, "all TTL keys evicted"
    assert sum(survivors) / len(survivors) > 240, survivors[:20]


def test_random_policy_and_effects(server: Server) -> None:
    engine = server.engine
    propagated: list = []
    engine.propagation_consumers.append(lambda dbid, ops: propagated.extend((dbid, op) for op in ops))
    events: list = []
    engine.notify_hooks.append(lambda cls, event, key, dbid: events.append((cls, event, key, dbid)))
    server("CONFIG", "SET", "notify-keyspace-events", "Ee")
    watcher = engine.new_client()
    for db in (0, 3):
        server("SELECT", db)
        fill(server, f"db{db}-", 200)
    server("SELECT", 0)
    engine.execute(watcher, [b"WATCH", b"db0-1", b"db0-2", b"db0-3"])
    engine.execute(watcher, [b"MULTI"])
    engine.execute(watcher, [b"PING"])
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    server("CONFIG", "SET", "maxmemory", limit_for(server, 0) + 1)
    server.settle()
    assert server.dbsize() == 0
    assert engine.stats.evicted_keys == 400
    evicted = [e for e in events if e[1] == "evicted"]
    assert len(evicted) == 400 and {e[3] for e in evicted} == {0, 3}
    assert all(op[0] == b"DEL" for _, op in propagated if op[0] in (b"DEL", b"UNLINK"))
    assert len([op for _, op in propagated if op[0] == b"DEL"]) == 400
    assert engine.execute(watcher, [b"EXEC"]) is not None and engine.execute(watcher, [b"PING"]) is not None
    server("CONFIG", "SET", "maxmemory", "0")
    server("CONFIG", "SET", "lazyfree-lazy-eviction", "yes")
    fill(server, "lazy", 10)
    server("CONFIG", "SET", "maxmemory", limit_for(server, 0) + 1)
    server.settle()
    assert [op[0] for _, op in propagated[-10:]] == [b"UNLINK"] * 10


def test_watch_sees_an_eviction(server: Server) -> None:
    engine = server.engine
    server("SET", "w", "1")
    watcher = engine.new_client()
    engine.execute(watcher, [b"WATCH", b"w"])
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    server("CONFIG", "SET", "maxmemory", limit_for(server, 0) + 1)
    engine.execute(watcher, [b"MULTI"])
    engine.execute(watcher, [b"GET", b"x"])
    reply = engine.execute(watcher, [b"EXEC"])
    assert not isinstance(reply, list), reply       # the watched key was evicted: EXEC aborts


def test_used_memory_goes_down_with_deletes(server: Server) -> None:
    server("CONFIG", "SET", "maxmemory", "1gb")
    empty = server.used()
    fill(server, "k", 300, 1000)
    server("RPUSH", "list", *["e" * 50] * 500)
    server("HSET", "hash", *[f"f{i}" for i in range(400)])
    full = server.used()
    assert full - empty > 300 * 1000
    server("FLUSHALL")
    assert server.used() == empty
    # The sampled estimate without maxmemory agrees roughly with the kept one.
    fill(server, "k", 300, 1000)
    kept = server.used()
    server("CONFIG", "SET", "maxmemory", "0")
    assert abs(server.used() - kept) < 0.2 * (kept - empty)


def test_lfu_counter_and_decay(server: Server) -> None:
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    server("SET", "k", "v")
    assert server("OBJECT", "FREQ", "k") == 5
    server("CONFIG", "SET", "lfu-log-factor", "0")
    for _ in range(20):
        server("GET", "k")
    assert server("OBJECT", "FREQ", "k") == 25           # factor 0: every access counts
    server.advance(3 * 60_000)
    assert server("OBJECT", "FREQ", "k") == 22           # lfu-decay-time 1: one per minute
    server("CONFIG", "SET", "lfu-decay-time", "0")
    server.advance(10 * 60_000)
    # No decay at all: OBJECT FREQ never stored the decayed value, so the stored 25 shows.
    assert server("OBJECT", "FREQ", "k") == 25
    server("CONFIG", "SET", "lfu-log-factor", "10")
    for _ in range(1000):
        server("GET", "k")
    assert 25 < server("OBJECT", "FREQ", "k") < 60       # logarithmic from there


def test_lru_idle_time_and_touching(server: Server) -> None:
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    server("SET", "k", "v")
    server.advance(5000)
    assert server("OBJECT", "IDLETIME", "k") == 5
    server("TYPE", "k")
    server("EXISTS", "k")
    assert server("OBJECT", "IDLETIME", "k") == 5
    server("GET", "k")
    assert server("OBJECT", "IDLETIME", "k") == 0
    server.advance(2000)
    server("MULTI")
    server("STRLEN", "k")
    server("EXEC")
    assert server("OBJECT", "IDLETIME", "k") == 0
    server.advance(2000)
    server("EVAL", "return redis.call('get', KEYS[1])", 1, "k")
    assert server("OBJECT", "IDLETIME", "k") == 0
    # Back to a policy without clocks: nothing kept, the handlers are the plain ones again.
    server("CONFIG", "SET", "maxmemory-policy", "noeviction")
    assert server.engine.extensions["eviction"].clocks is None
    assert not hasattr(server.engine.commands[b"get"].handler, "__wrapped__")
    assert server("OBJECT", "IDLETIME", "k") == 0


def test_tenacity_limits_one_call_and_a_timer_finishes(server: Server) -> None:
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    server("CONFIG", "SET", "maxmemory-eviction-tenacity", "0")
    fill(server, "k", 2000)
    server("CONFIG", "SET", "maxmemory", limit_for(server, 0) + 1)
    # Tenacity 0: 16 keys per call, the rest from the timer (EVICT_RUNNING is not OOM).
    assert 0 < server.dbsize() < 2000
    assert server("GET", "k1") in (None, b"x" * 100)
    for _ in range(500):
        server.engine.scheduler.run_due()
        if server.dbsize() == 0:
            break
    assert server.dbsize() == 0


def test_info_fields(server: Server) -> None:
    from specredis.engine.info import info_text

    server("CONFIG", "SET", "maxmemory", "10mb")
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    memory = dict(line.split(":", 1) for line in info_text(server.engine, [b"memory"]).splitlines()[1:] if line)
    assert memory["maxmemory"] == str(10 * 1024 * 1024) and memory["maxmemory_human"] == "10.00M"
    assert memory["maxmemory_policy"] == "allkeys-lru"
    assert int(memory["used_memory"]) == server.used()
    assert int(memory["used_memory_startup"]) == STARTUP_BYTES
    assert int(memory["used_memory_rss"]) > 0
    stats = info_text(server.engine, [b"stats"])
    assert "evicted_keys:0" in stats and "total_eviction_exceeded_time:0" in stats


def test_keys_stored_without_hooks_are_counted_after_the_cron(server: Server) -> None:
    """A load from disk fills the dicts directly: the cron's check finds the difference."""
    server("CONFIG", "SET", "maxmemory", "1gb")
    empty = server.used()
    server.engine.databases[0].data.update({b"loaded:%d" % i: b"x" * 100 for i in range(1000)})
    server.advance(100)
    assert server.used() - empty > 1000 * 100


def test_memory_doctor_reports(server: Server) -> None:
    from specredis.engine.memory import DOCTOR_EMPTY, DOCTOR_OK, DOCTOR_PEAK

    assert server("MEMORY", "DOCTOR").text == DOCTOR_EMPTY.encode()
    server("CONFIG", "SET", "maxmemory", "1gb")
    fill(server, "big", 12_000, 1000)
    assert server("MEMORY", "DOCTOR").text == DOCTOR_OK.encode()
    for i in range(6000):
        server("DEL", f"big{i}")
    report = server("MEMORY", "DOCTOR").text.decode()
    assert report.startswith("Sam, I detected a few issues in this Redis instance memory implants:\n\n")
    assert DOCTOR_PEAK in report and report.endswith("I'm here to keep you safe, Sam. I want to help you.\n")
    stats = dict(server("MEMORY", "STATS").pairs)
    assert stats[b"peak.allocated"] > stats[b"total.allocated"] > 6000 * 1000
    assert stats[b"keys.count"] == 6000


def test_a_load_past_the_limit_evicts_after_the_cron(server: Server) -> None:
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    server("CONFIG", "SET", "maxmemory-eviction-tenacity", "100")
    server("CONFIG", "SET", "maxmemory", STARTUP_BYTES + 50_000)
    server.engine.databases[0].data.update({b"loaded:%d" % i: b"x" * 100 for i in range(2000)})
    server.advance(100)
    server("PING")
    assert 0 < server.dbsize() < 2000
    assert server.used() <= STARTUP_BYTES + 50_000


def test_nothing_per_command_while_off(server: Server) -> None:
    """Default configuration (noeviction, no maxmemory): no hook, no gate, no wrapped handler,
    nothing kept per key: the hot path is what it was without this feature."""
    engine = server.engine
    state = engine.extensions["eviction"]

    def idle() -> bool:
        return (not engine.key_modified_hooks and "gates" not in engine.extensions and not state.wrapped
                and state.clocks is None and not accounting(engine).tracking and not engine.gated)

    assert idle()
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    server("CONFIG", "SET", "maxmemory", "1mb")
    assert state.wrapped and accounting(engine).tracking
    server("CONFIG", "SET", "maxmemory", "0")
    server("CONFIG", "SET", "maxmemory-policy", "volatile-ttl")
    assert idle()


def test_latency_monitor_sees_eviction_cycles(server: Server) -> None:
    server("CONFIG", "SET", "latency-monitor-threshold", "1")
    server("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    server("CONFIG", "SET", "maxmemory-eviction-tenacity", "100")
    fill(server, "k", 5000)
    server("CONFIG", "SET", "maxmemory", limit_for(server, 0) + 1)
    assert server.dbsize() == 0
    events = [entry[0] for entry in server("LATENCY", "LATEST")]
    assert b"eviction-cycle" in events, events
