"""maxmemory, eviction and access clocks compared with Redis 7.0.15: the same commands to both
servers, the same replies (error texts, refusals, MEMORY shapes, touch rules, RDB IDLE/FREQ)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest
from servers import ServerProcess, start_reference, start_specredis

from specredis.protocol.client import RDouble, RespError, RMap, RVerbatim


def both(specredis: ServerProcess, reference: ServerProcess, protocol: int = 2) -> list:
    return [reference.client(protocol=protocol), specredis.client(protocol=protocol)]


def run_both(clients: list, commands: list[list]) -> list[tuple]:
    """Each command on both servers in turn: (command, reference reply, specredis reply)."""
    results = []
    for command in commands:
        replies = [client.call(*command) for client in clients]
        results.append((command, replies[0], replies[1]))
    return results


def assert_same(results: list[tuple]) -> None:
    for command, expected, got in results:
        assert got == expected, command


@pytest.fixture
def pair(specredis: ServerProcess, reference: ServerProcess):
    clients = both(specredis, reference)
    for client in clients:
        client.call("FLUSHALL")
    yield clients
    for client in clients:
        client.call("CONFIG", "SET", "maxmemory", "0")
        client.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
        client.call("FLUSHALL")
        client.close()


def test_config_parameters(pair: list) -> None:
    commands = []
    for name, values in (("maxmemory", ["100mb", "1gb", "0", "-1", "12x", "1.5mb"]),
                         ("maxmemory-policy", ["allkeys-lru", "ALLKEYS-LFU", "volatile-ttl", "lru", "noeviction"]),
                         ("maxmemory-samples", ["10", "0", "-1", "x", "5"]),
                         ("maxmemory-eviction-tenacity", ["100", "101", "-1", "10"]),
                         ("lfu-log-factor", ["0", "-1", "100", "10"]),
                         ("lfu-decay-time", ["0", "-5", "2", "1"]),
                         ("lazyfree-lazy-eviction", ["yes", "maybe", "no"])):
        for value in values:
            commands.append(["CONFIG", "SET", name, value])
            commands.append(["CONFIG", "GET", name])
    commands.append(["CONFIG", "SET", "maxmemory", "0"])
    assert_same(run_both(pair, commands))


def test_oom_refusals(pair: list) -> None:
    """noeviction over the limit: which commands are refused, inside MULTI and scripts too."""
    setup = [["SET", "a", "1"], ["RPUSH", "l", "x"], ["SET", "ttl", "1", "EX", "100"],
             ["FUNCTION", "LOAD", "REPLACE",
              "#!lua name=h1lib\n"
              "redis.register_function('h1w', function(keys, args) return redis.call('set', keys[1], 'v') end)\n"
              "redis.register_function{function_name='h1r', callback=function(keys, args) "
              "return redis.call('get', keys[1]) end, flags={'no-writes'}}\n"
              "redis.register_function{function_name='h1oom', callback=function(keys, args) "
              "return redis.call('set', keys[1], 'v') end, flags={'allow-oom'}}"],
             ["CONFIG", "SET", "maxmemory", "1"]]
    checks = [
        ["SET", "b", "1"], ["GET", "a"], ["INCR", "a"], ["APPEND", "a", "x"], ["DEL", "a"], ["EXISTS", "a"],
        ["RPUSH", "l", "y"], ["LPOP", "l"], ["LPUSH", "l", "z"], ["EXPIRE", "ttl", "50"], ["PERSIST", "ttl"],
        ["HSET", "h", "f", "v"], ["SADD", "s", "m"], ["ZADD", "z", "1", "m"], ["XADD", "x", "*", "f", "v"],
        ["SETRANGE", "a", "0", "x"], ["GETDEL", "a"], ["PING"], ["DBSIZE"], ["FLUSHDB", "ASYNC"],
        ["SET", "c", "1"],
        ["EVAL", "return redis.call('set','x','y')", "0"],
        ["EVAL", "redis.call('get','a'); return redis.call('set','x','y')", "0"],
        ["EVAL", "return redis.pcall('set','x','y')", "0"],
        ["EVAL", "return redis.call('get','a')", "0"],
        ["EVAL", "#!lua\nreturn redis.call('get','a')", "0"],
        ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','a')", "0"],
        ["EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','x','y')", "0"],
        ["EVAL", "return 1", "0"],
        ["FCALL", "h1w", "1", "k"], ["FCALL", "h1r", "1", "k"], ["FCALL", "h1oom", "1", "k2"],
        ["MULTI"], ["GET", "a"], ["PING"], ["EXEC"],
        ["MULTI"], ["DISCARD"],
        ["CONFIG", "SET", "maxmemory", "0"],
        ["MULTI"], ["SET", "q", "1"], ["GET", "q"],
        ["CONFIG", "SET", "maxmemory", "1"],
    ]
    for client in pair:
        for command in setup:
            client.call(*command)
    results = run_both(pair, checks)
    # EXEC of a transaction whose queued SET is denyoom is itself refused; in both servers the
    # CONFIG SET above was queued too (we are inside MULTI), so finish the transaction the same way.
    results += run_both(pair, [["EXEC"], ["CONFIG", "SET", "maxmemory", "1"], ["SET", "after", "1"]])
    for client in pair:
        client.call("CONFIG", "SET", "maxmemory", "0")
    results += run_both(pair, [["SET", "after", "1"], ["FUNCTION", "DELETE", "h1lib"]])
    assert_same(results)


def test_policies_without_evictable_keys(pair: list) -> None:
    """volatile-* with no TTL keys cannot free anything: writes are refused, keys stay."""
    for client in pair:
        client.call("SET", "keep", "1")
    results = []
    for policy in ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"):
        results += run_both(pair, [["CONFIG", "SET", "maxmemory-policy", policy], ["CONFIG", "SET", "maxmemory", "1"],
                                   ["SET", "new", "1"], ["GET", "keep"], ["DBSIZE"], ["CONFIG", "SET", "maxmemory", "0"]])
    assert_same(results)


def test_object_freq_and_idletime_per_policy(pair: list) -> None:
    commands = [["SET", "k", "v"]]
    # LFU last: after it, Redis reads the LFU data of existing keys as LRU clocks (garbage idle times).
    for policy in ("noeviction", "allkeys-random", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu"):
        commands += [["CONFIG", "SET", "maxmemory-policy", policy], ["OBJECT", "FREQ", "k"],
                     ["OBJECT", "IDLETIME", "k"], ["OBJECT", "FREQ", "missing"], ["OBJECT", "IDLETIME", "missing"]]
    results = run_both(pair, commands)
    for command, expected, got in results:
        if isinstance(expected, int) and command[1] == "FREQ":
            # The key predates the LFU policy: its LRU clock read as LFU data, decayed (0).
            assert got == expected, command
    assert_same(results)


def test_memory_subcommands(pair: list) -> None:
    for client in pair:
        client.call("SET", "k", "v")
    commands = [["MEMORY", "HELP"], ["memory", "help"], ["MEMORY", "USAGE", "missing"],
                ["MEMORY", "USAGE", "k", "SAMPLES"], ["MEMORY", "USAGE", "k", "SAMPLES", "x"],
                ["MEMORY", "USAGE", "k", "SAMPLES", "-1"], ["MEMORY", "USAGE", "k", "FOO", "1"],
                ["MEMORY", "USAGE"], ["MEMORY", "DOCTOR", "x"], ["MEMORY", "STATS", "x"], ["MEMORY", "PURGE"],
                ["MEMORY", "PURGE", "x"], ["MEMORY", "MALLOC-STATS", "x"], ["MEMORY", "NOPE"], ["MEMORY"],
                ["MEMORY", "HELP", "x"]]
    assert_same(run_both(pair, commands))
    usage = [client.call("MEMORY", "USAGE", "k", "SAMPLES", "0") for client in pair]
    assert all(isinstance(value, int) and value > 0 for value in usage)
    assert isinstance(pair[1].call("MEMORY", "MALLOC-STATS"), bytes)


def _shape(value: object) -> object:
    if isinstance(value, RMap):
        return [(key, _shape(item)) for key, item in value.pairs]
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def test_memory_stats_and_doctor_shapes(specredis: ServerProcess, reference: ServerProcess) -> None:
    """Field names, order and reply types of MEMORY STATS in RESP2 and RESP3; DOCTOR's empty report."""
    for protocol in (2, 3):
        clients = both(specredis, reference, protocol)
        try:
            for client in clients:
                client.call("FLUSHALL")
                client.call("SET", "k", "v")
            expected, got = (client.call("MEMORY", "STATS") for client in clients)
            if protocol == 2:
                # RESP2: a flat array; names are at the even positions, db.0 holds a nested array.
                assert got[::2] == expected[::2]
                assert [type(v).__name__ for v in got[1::2]] == [type(v).__name__ for v in expected[1::2]]
            else:
                assert _shape(got) == _shape(expected)
                assert any(isinstance(item, RDouble) for _, item in got.pairs)
            for client in clients:
                client.call("FLUSHALL")
            expected, got = (client.call("MEMORY", "DOCTOR") for client in clients)
            if protocol == 3:
                assert isinstance(expected, RVerbatim) and got == expected
            else:
                assert got == expected
        finally:
            for client in clients:
                client.close()


LRU_TOUCH_CASES = [
    ["GET", "k"], ["STRLEN", "k"], ["GETRANGE", "k", "0", "1"], ["APPEND", "k", "x"], ["SET", "k", "w"],
    ["TYPE", "k"], ["TTL", "k"], ["PTTL", "k"], ["EXISTS", "k"], ["OBJECT", "ENCODING", "k"], ["DUMP", "k"],
    ["TOUCH", "k"], ["EXPIRE", "k", "100"], ["PERSIST", "k"], ["MEMORY", "USAGE", "k"], ["DEBUG", "OBJECT", "k"],
    ["SCAN", "0"], ["KEYS", "*"], ["RANDOMKEY"], ["MGET", "other", "k"], ["GETEX", "k"], ["SETNX", "k", "x"],
    ["EXPIRETIME", "k"], ["OBJECT", "REFCOUNT", "k"], ["COPY", "k", "copied"], ["SORT", "lst"],
    ["LRANGE", "lst", "0", "-1"], ["LPUSH", "lst", "9"], ["EVAL", "return redis.call('get', KEYS[1])", "1", "k"],
    ["SETRANGE", "k", "0", "z"], ["INCRBYFLOAT", "k", "1"], ["GETSET", "k", "v"], ["BITCOUNT", "k"],
    ["PFCOUNT", "k"], ["EXPIREAT", "k", "9999999999"], ["PEXPIRE", "k", "100000"], ["OBJECT", "FREQ", "k"],
    ["LMPOP", "1", "lst", "LEFT"], ["SINTERCARD", "1", "lst"], ["ZUNIONSTORE", "dst", "1", "lst"],
    ["SUNIONSTORE", "dst", "lst"], ["SORT", "lst", "STORE", "dst"], ["LINDEX", "lst", "0"],
    ["RPOPLPUSH", "lst", "lst"], ["LMOVE", "lst", "other", "LEFT", "RIGHT"], ["WATCH", "k"], ["TOUCH", "other", "k"],
]


def test_which_commands_touch_the_lru_clock(pair: list) -> None:
    """RESTORE ... IDLETIME 100 makes the key 100 s idle at once; a command that looks it up
    without LOOKUP_NOTOUCH brings that to 0 (checked in both servers, command by command)."""
    for client in pair:
        client.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        client.call("SET", "k", "v")
        client.call("RPUSH", "lst", "3", "1", "2")
    payloads = [client.call("DUMP", "k") for client in pair]
    list_payloads = [client.call("DUMP", "lst") for client in pair]
    for case in LRU_TOUCH_CASES:
        idle = []
        for client, payload, list_payload in zip(pair, payloads, list_payloads, strict=True):
            client.call("RESTORE", "k", "0", payload, "REPLACE", "IDLETIME", "100")
            client.call("RESTORE", "lst", "0", list_payload, "REPLACE", "IDLETIME", "100")
            client.call("DEL", "copied", "dst", "other")
            client.call(*case)
            client.call("UNWATCH")
            key = "lst" if "lst" in case else "k"
            idle.append(client.call("OBJECT", "IDLETIME", key))
        touched = [value < 50 for value in idle]
        assert touched[1] == touched[0], (case, idle)


def test_restore_idletime_and_freq(pair: list) -> None:
    for client in pair:
        client.call("SET", "k", "v")
    payloads = [client.call("DUMP", "k") for client in pair]
    results = []
    for policy, option, value, query in (("allkeys-lru", "IDLETIME", "1000", "IDLETIME"),
                                         ("allkeys-lfu", "FREQ", "77", "FREQ"),
                                         ("allkeys-lru", "FREQ", "77", "IDLETIME"),
                                         ("allkeys-lfu", "IDLETIME", "1000", "FREQ")):
        for client, payload in zip(pair, payloads, strict=True):
            client.call("CONFIG", "SET", "maxmemory-policy", policy)
            client.call("RESTORE", "k", "0", payload, "REPLACE", option, value)
        results += run_both(pair, [["OBJECT", query, "k"]])
    results += run_both(pair, [["RESTORE", "k", "0", "x", "REPLACE", "IDLETIME", "-1"],
                               ["RESTORE", "k", "0", "x", "REPLACE", "FREQ", "256"],
                               ["RESTORE", "k", "0", "x", "REPLACE", "FREQ", "1", "IDLETIME", "1"]])
    for command, expected, got in results:
        if isinstance(expected, int) and command[1] == "IDLETIME":
            assert abs(got - expected) <= 1, command
        else:
            assert got == expected, command


def test_lfu_counter_grows_logarithmically(pair: list) -> None:
    """OBJECT FREQ after N reads under the same lfu-log-factor: the counter is random, so the two
    servers' values over several keys must fall in the same range."""
    reads = 300
    results = []
    for factor in ("1", "10"):
        freqs = []
        for client in pair:
            client.call("FLUSHALL")
            client.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
            client.call("CONFIG", "SET", "lfu-log-factor", factor)
            values = []
            for key in range(8):
                client.call("SET", f"k{key}", "v")
                client.pipeline([["GET", f"k{key}"]] * reads)
                values.append(client.call("OBJECT", "FREQ", f"k{key}"))
            freqs.append(values)
        results.append((factor, freqs))
    for client in pair:
        client.call("CONFIG", "SET", "lfu-log-factor", "10")
    for factor, (expected, got) in results:
        low, high = min(expected), max(expected)
        spread = max(3, (high - low))
        assert low - spread <= sum(got) / len(got) <= high + spread, (factor, expected, got)
        assert all(value > 5 for value in got), (factor, got)


def _rdb_roundtrip(writer: ServerProcess, policy: str, option: str, value: str, query: str, reader_start) -> tuple:
    client = writer.client()
    try:
        client.call("FLUSHALL")
        client.call("CONFIG", "SET", "maxmemory-policy", policy)
        client.call("SET", "k", "v")
        payload = client.call("DUMP", "k")
        client.call("RESTORE", "k", "0", payload, "REPLACE", option, value)
        client.call("SET", "fresh", "v")
        expected = (client.call("OBJECT", query, "k"), client.call("OBJECT", query, "fresh"))
        client.call("SAVE")
        directory = tempfile.mkdtemp(prefix="h1-rdb-")
        shutil.copy(os.path.join(writer.dir, "dump.rdb"), os.path.join(directory, "dump.rdb"))
    finally:
        client.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
        client.call("FLUSHALL")
        client.close()
    reader = reader_start("--maxmemory-policy", policy, "--dbfilename", "dump.rdb", directory=directory)
    try:
        other = reader.client()
        try:
            got = (other.call("OBJECT", query, "k"), other.call("OBJECT", query, "fresh"))
        finally:
            other.close()
    finally:
        reader.stop()
        shutil.rmtree(directory, ignore_errors=True)
    return expected, got


@pytest.mark.parametrize("direction", ["reference-to-specredis", "specredis-to-reference"])
def test_rdb_idle_and_freq_opcodes(specredis: ServerProcess, reference: ServerProcess, direction: str) -> None:
    writer, reader_start = ((reference, start_specredis) if direction == "reference-to-specredis"
                            else (specredis, start_reference))
    expected, got = _rdb_roundtrip(writer, "allkeys-lru", "IDLETIME", "5000", "IDLETIME", reader_start)
    assert expected[0] >= 5000 and abs(got[0] - expected[0]) <= 2, (expected, got)
    assert got[1] <= 2
    expected, got = _rdb_roundtrip(writer, "allkeys-lfu", "FREQ", "123", "FREQ", reader_start)
    assert expected == (123, 5) and got == expected, (expected, got)


def test_config_set_maxmemory_evicts_at_once(pair: list) -> None:
    evicted = []
    for client in pair:
        client.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
        client.pipeline([["SET", f"key:{i}", "v" * 100] for i in range(3000)])
        used = int(client.call("INFO", "memory").decode().split("used_memory:")[1].split("\r\n")[0])
        client.call("CONFIG", "SET", "maxmemory", str(used - 100_000))
        # No command ran since: the CONFIG SET itself evicted.
        stats = client.call("INFO", "stats").decode()
        evicted.append(int(stats.split("evicted_keys:")[1].split("\r\n")[0]))
        assert client.call("DBSIZE") < 3000
        client.call("CONFIG", "SET", "maxmemory", "0")
        client.call("CONFIG", "RESETSTAT")
    assert all(count > 0 for count in evicted), evicted


def test_evicted_keyspace_events(pair: list, specredis: ServerProcess, reference: ServerProcess) -> None:
    """The ``evicted`` event in both channels, class ``e`` (not in ``g``), then DEL on the replication
    stream seen by MONITOR-free means: the key is gone and the counter moved."""
    frames = []
    for server, client in zip((reference, specredis), pair, strict=True):
        sub = server.client()
        try:
            client.call("CONFIG", "SET", "notify-keyspace-events", "KEg")
            sub.call("PSUBSCRIBE", "__key*@*__:*")
            client.call("SET", "victim", "v")
            client.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
            client.call("CONFIG", "SET", "maxmemory", "1")          # g only: no evicted event
            client.call("CONFIG", "SET", "maxmemory", "0")
            client.call("SET", "victim2", "v")
            client.call("CONFIG", "SET", "notify-keyspace-events", "KEe")
            client.call("CONFIG", "SET", "maxmemory", "1")
            client.call("CONFIG", "SET", "maxmemory", "0")
            sub.sock.settimeout(0.5)
            got = []
            try:
                while True:
                    got.append(sub.read_reply())
            except TimeoutError:
                pass
            frames.append(got)
        finally:
            client.call("CONFIG", "SET", "notify-keyspace-events", "")
            sub.close()
    assert frames[1] == frames[0]
    assert [b"pmessage", b"__key*@*__:*", b"__keyevent@0__:evicted", b"victim2"] in frames[0]


def test_clients_read_through_eviction(specredis: ServerProcess) -> None:
    """Under allkeys-lru with a small maxmemory, a long insert stays within the limit (Redis's
    tolerance: the last command may overshoot by its own size) and the server keeps serving."""
    client = specredis.client()
    try:
        client.call("FLUSHALL")
        used = int(client.call("INFO", "memory").decode().split("used_memory:")[1].split("\r\n")[0])
        limit = used + 1_000_000
        client.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        client.call("CONFIG", "SET", "maxmemory", str(limit))
        for start in range(0, 20000, 2000):
            client.pipeline([["SET", f"key:{i}", "x" * 200] for i in range(start, start + 2000)])
            info = client.call("INFO", "memory").decode()
            now = int(info.split("used_memory:")[1].split("\r\n")[0])
            assert now <= limit + 2000, (now, limit)
        stats = client.call("INFO", "stats").decode()
        assert int(stats.split("evicted_keys:")[1].split("\r\n")[0]) > 5000
        assert client.call("SET", "last", "1") == b"OK" or client.call("SET", "last", "1").text == "OK"
    finally:
        client.call("CONFIG", "SET", "maxmemory", "0")
        client.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
        client.call("FLUSHALL")
        client.close()


def test_errors_are_not_fatal(specredis: ServerProcess) -> None:
    client = specredis.client()
    try:
        assert isinstance(client.call("MEMORY", "USAGE", "k", "SAMPLES", "99999999999999999999"), RespError)
        assert client.call("PING") is not None
    finally:
        client.close()


def test_idle_time_grows(specredis: ServerProcess, reference: ServerProcess) -> None:
    """A key left alone ages in both servers (LRU clock of seconds resolution)."""
    clients = both(specredis, reference)
    try:
        for client in clients:
            client.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
            client.call("SET", "aging", "v")
        time.sleep(2.2)
        idle = [client.call("OBJECT", "IDLETIME", "aging") for client in clients]
        assert all(1 <= value <= 3 for value in idle), idle
        debug = [client.call("DEBUG", "OBJECT", "aging") for client in clients]
        for reply in debug:
            text = reply.text if hasattr(reply, "text") else reply.decode()
            assert int(text.split("lru_seconds_idle:")[1].split()[0]) in (idle[0] - 1, idle[0], idle[0] + 1)
    finally:
        for client in clients:
            client.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
            client.call("DEL", "aging")
            client.close()


def _info(client: object, section: str) -> dict[str, str]:
    text = client.call("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.splitlines()[1:] if ":" in line)


def test_info_memory_fields_and_their_movement(pair: list) -> None:
    """INFO memory has Redis's fields in Redis's order; used_memory grows with keys and goes
    back down when they are deleted (RSS would not), with or without maxmemory."""
    names = [list(_info(client, "memory")) for client in pair]
    assert names[1] == names[0]
    for maxmemory in ("0", "1gb"):
        for client in pair:
            client.call("CONFIG", "SET", "maxmemory", maxmemory)
            empty = int(_info(client, "memory")["used_memory"])
            client.pipeline([["SET", f"key:{i}", "v" * 100] for i in range(5000)])
            full = int(_info(client, "memory")["used_memory"])
            assert full - empty > 5000 * 100, (maxmemory, empty, full)
            client.call("FLUSHALL")
            assert int(_info(client, "memory")["used_memory"]) < empty + (full - empty) // 10, maxmemory
            info = _info(client, "memory")
            assert info["maxmemory"] == ("0" if maxmemory == "0" else str(1 << 30))
            assert int(info["used_memory_rss"]) > 0 and float(info["mem_fragmentation_ratio"]) > 0
        assert all(_info(client, "memory")["maxmemory_policy"] == "noeviction" for client in pair)


def test_debug_reload_keeps_idle_times_and_counters(pair: list) -> None:
    """DEBUG RELOAD saves and loads the IDLE/FREQ opcodes: the clocks survive it."""
    for client in pair:
        client.call("SET", "k", "v")
    payloads = [client.call("DUMP", "k") for client in pair]
    results = []
    for policy, option, value, query in (("allkeys-lru", "IDLETIME", "500", "IDLETIME"),
                                         ("allkeys-lfu", "FREQ", "42", "FREQ")):
        for client, payload in zip(pair, payloads, strict=True):
            client.call("CONFIG", "SET", "maxmemory-policy", policy)
            client.call("RESTORE", "k", "0", payload, "REPLACE", option, value)
            client.call("DEBUG", "RELOAD")
        results += run_both(pair, [["OBJECT", query, "k"]])
    for command, expected, got in results:
        assert abs(got - expected) <= 1 and abs(expected - (500 if command[1] == "IDLETIME" else 42)) <= 1, command


def test_rename_and_move_carry_the_lfu_counter(pair: list) -> None:
    """The object moves with its counter (and is looked up once, so bumped); with
    lfu-log-factor 0 every access counts, so both servers agree exactly."""
    commands = [["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"], ["CONFIG", "SET", "lfu-log-factor", "0"],
                ["SET", "a", "v"]] + [["GET", "a"]] * 20 + [
        ["OBJECT", "FREQ", "a"], ["RENAME", "a", "b"], ["OBJECT", "FREQ", "b"], ["RENAMENX", "b", "c"],
        ["OBJECT", "FREQ", "c"], ["RENAME", "c", "c"], ["OBJECT", "FREQ", "c"], ["RENAMENX", "c", "c"],
        ["OBJECT", "FREQ", "c"], ["MOVE", "c", "x"], ["MOVE", "c", "99"], ["MOVE", "c", "0"],
        ["OBJECT", "FREQ", "c"], ["MOVE", "c", "1"], ["SELECT", "1"], ["OBJECT", "FREQ", "c"],
        ["SET", "d", "w"], ["RENAME", "c", "d"], ["OBJECT", "FREQ", "d"], ["FLUSHDB"], ["SELECT", "0"],
        ["CONFIG", "SET", "lfu-log-factor", "10"]]
    assert_same(run_both(pair, commands))
