"""The C hot loop (specredis/_hotloop.c) against the pure-Python request path.

The same bytes go through two server Connections on fake transports, one with the C loop
and one without (``specredis.server._hot_run = None``, as when the extension is not
built); the bytes written back, the datasets, the counters INFO reports and the
propagated commands must be identical. Inputs mix hot commands with everything that
makes the C loop hand a request back: unknown and non-hot commands, arity and type
errors, MULTI/EXEC, CLIENT REPLY, HELLO 3, blocking pops, inline requests, non-canonical
and oversized frames, frames cut across reads, lowercase names. The commands with a C
version of their handler (INCR, DECR, HSET: specredis/_hotloop.c "handlers in C") are also
compared case by case: every reason to leave a request to the Python handler (errors,
TTLs, listeners of key changes, encoding conversions, escapes), with other clients
watching, tracking, subscribed to keyspace events or monitoring through the run.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specredis import server as server_mod
from specredis.engine.core import Engine
from specredis.engine.debug import dataset_digest
from specredis.engine.types.hash import HashValue
from specredis.protocol.encoder import encode
from specredis.protocol.replies import NULL_ARRAY, Status

pytestmark = pytest.mark.skipif(server_mod._hot_run is None, reason="specredis._hotloop is not built")

PURE = None
HOT = server_mod._hot_run


class FakeTransport:
    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    abort = close

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 6379)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class FakeServer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine


def resp(*args: bytes | str) -> bytes:
    parts = [a.encode() if isinstance(a, str) else a for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def run(chunks: list[bytes], hot: Any, monkeypatch: pytest.MonkeyPatch, propagation: bool = True) -> dict:
    """Feed ``chunks`` to a fresh engine's connection; everything observable afterwards."""
    monkeypatch.setattr(server_mod, "_hot_run", hot)
    resumed: list = []      # Connection.resume defers to the event loop: run them after the step
    monkeypatch.setattr(server_mod.Connection, "resume", lambda self: resumed.append(self))
    now = [1_700_000_000_000]
    engine = Engine(clock=lambda: now[0])
    engine.rng.seed(7)      # SPOP, SRANDMEMBER
    propagated: list = []
    if propagation:     # (without: as a server with no AOF and no replicas)
        engine.propagation_consumers.append(lambda dbid, ops: propagated.append((dbid, [list(op) for op in ops])))
    connection = server_mod.Connection(FakeServer(engine))   # type: ignore[arg-type]
    transport = FakeTransport()
    connection.connection_made(transport)
    # A second client that pushes to lists, to serve a pop blocked by the first.
    other = engine.new_client()
    # No slow log unless a test asks for one: a loaded machine would log different commands.
    engine.config.set_from_text(engine, "slowlog-log-slower-than", "-1")
    # In-process clients that run commands between reads: (name, argv) chunks.
    side: dict[str, Any] = {}
    side_replies: list = []
    for chunk in chunks:
        if isinstance(chunk, tuple) and chunk[0] == "clock":
            now[0] += chunk[1]          # ("clock", ms): time passes
            continue
        if isinstance(chunk, tuple):
            name, argv = chunk
            if name not in side:
                side[name] = engine.new_client()
            reply = engine.execute(side[name], [a.encode() if isinstance(a, str) else a for a in argv])
            side_replies.append((name, encode(reply, 3)))
            continue
        if chunk == b"<serve>":
            engine.execute(other, [b"RPUSH", b"blocked", b"x"])
            while resumed:
                resumed.pop(0)._resume()
            continue
        if transport.closed:
            break
        connection.data_received(chunk)
    client = connection.client
    stats = engine.stats
    counters = {d.fullname: (d.calls, d.failed_calls, d.rejected_calls, sum((d.latency_us or {}).values()))
                for d in engine.command_defs.values() if d.calls or d.failed_calls or d.rejected_calls}
    return {
        "output": bytes(transport.data),
        "closed": transport.closed,
        "data": dataset_digest(engine),
        "keys": [sorted(db.data) for db in engine.databases],
        "expires": [dict(db.expires) for db in engine.databases],
        "counters": counters,
        "stats": (stats.total_commands_processed, stats.keyspace_hits, stats.keyspace_misses,
                  stats.total_error_replies, dict(stats.errors)),
        "client": (client.commands_processed, client.resp, client.flags,
                   client.last_command.fullname if client.last_command else None),
        "dirty": engine.dirty,
        "propagated": propagated,
        "hashes": [{key: _hash_state(value) for key, value in db.data.items() if type(value) is HashValue}
                   for db in engine.databases],
        "side": side_replies,
        "side_sinks": {name: [encode(_without_monitor_time(item), 3) for item in client.sink.delivered]
                       for name, client in side.items()},
        "slowlog": [entry[3] for entry in engine.extensions["slowlog"].entries],
    }


def _hash_state(value: HashValue) -> tuple:
    """A hash's representation: its encoding's data, entry order included."""
    table = value.table
    return (value.blob, value.count, None if table is None else list(table.items()), value.scan_index is None)


def _without_monitor_time(item: Any) -> Any:
    # MONITOR lines start with the wall-clock time: keep what follows it.
    if type(item) is Status and b" [" in item.text:
        return Status(item.text.split(b" ", 1)[1])
    return item


def same(chunks: list[bytes], monkeypatch: pytest.MonkeyPatch, propagation: bool = True) -> dict:
    hot = run(chunks, HOT, monkeypatch, propagation)
    pure = run(chunks, PURE, monkeypatch, propagation)
    for field in pure:
        assert hot[field] == pure[field], field
    return hot


SCRIPT = [
    resp("PING"), resp("ping", "hello"), resp("SET", "k", "v"), resp("get", "k"), resp("GeT", "k"),
    resp("SET", "n", "41"), resp("INCR", "n"), resp("INCRBY", "n", "-50"), resp("DECR", "n"),
    resp("SET", "big", "9223372036854775807"), resp("INCR", "big"), resp("INCR", "k"),
    resp("MSET", "a", "1", "b", "2", "c", "3"), resp("MSET", "a", "1", "b"), resp("MGET", "a", "b", "nope"),
    resp("LPUSH", "l", "x", "y", "z"), resp("RPUSH", "l", "w"), resp("LRANGE", "l", "0", "-1"),
    resp("LPOP", "l"), resp("RPOP", "l"), resp("LPOP", "l", "5"), resp("LPOP", "l"), resp("LPOP", "l", "x"),
    resp("GET", "l"), resp("LPUSH", "k", "x"), resp("SADD", "s", "a", "b", "a"), resp("SPOP", "s"),
    resp("SCARD", "s"), resp("SMEMBERS", "s"), resp("HSET", "h", "f", "v", "g", "w"), resp("HGET", "h", "f"),
    resp("HGETALL", "h"), resp("HSET", "h", "f"), resp("HINCRBY", "h", "n", "5"), resp("ZADD", "z", "1", "m"),
    resp("ZSCORE", "z", "m"), resp("ZINCRBY", "z", "2.5", "m"), resp("SET", "t", "v", "PX", "100000"),
    resp("TTL", "t"), resp("GET"), resp("NOSUCHCOMMAND", "x"), resp("CONFIG", "GET", "hz"),
    resp("INFO", "keyspace"), resp("MULTI"), resp("SET", "m", "1"), resp("INCR", "m"), resp("GET", "m", "x"),
    resp("EXEC"), resp("MULTI"), resp("INCR", "m"), resp("EXEC"), resp("CLIENT", "REPLY", "SKIP"),
    resp("SET", "skipped", "1"), resp("GET", "skipped"), resp("CLIENT", "REPLY", "OFF"), resp("INCR", "off"),
    resp("CLIENT", "REPLY", "ON"), resp("GET", "off"), b"PING\r\n", b"SET inline 1\r\nGET inline\r\n",
    resp("HELLO", "3"), resp("GET", "nope"), resp("HGETALL", "h"), resp("SMEMBERS", "s"), resp("ZSCORE", "z", "m"),
    resp("HELLO", "2"), resp("SET", "large", "x" * 600_000), resp("STRLEN", "large"), resp("APPEND", "k2", "ab"),
    resp("APPEND", "k2", "cd"), resp("GET", "k2"), resp("SETRANGE", "k2", "1", "ZZ"), resp("GET", "k2"),
    resp("DEL", "a", "b", "zz"), resp("EXISTS", "a", "c"), resp("TYPE", "h"), resp("DBSIZE"),
    resp("BLPOP", "blocked", "0"), resp("GET", "after-block"), resp("SET", "after-block", "1"),
    b"<serve>", resp("GET", "after-block"), resp("SELECT", "1"), resp("SET", "k", "db1"), resp("GET", "k"),
    resp("SELECT", "0"), resp("ECHO", "e"), resp("QUIT"), resp("PING"),
]


def test_scripted_pipeline_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """One big read (but the blocking step), as a pipelining client sends it."""
    serve = SCRIPT.index(b"<serve>")
    result = same([b"".join(SCRIPT[:serve]), b"<serve>", b"".join(SCRIPT[serve + 1:])], monkeypatch)
    assert result["closed"] and b"+PONG\r\n$5\r\nhello\r\n+OK\r\n$1\r\nv\r\n$1\r\nv\r\n" in result["output"]
    assert result["counters"]["set"][0] >= 5


def test_scripted_pipeline_one_request_per_read(monkeypatch: pytest.MonkeyPatch) -> None:
    same(SCRIPT, monkeypatch)


@pytest.mark.parametrize("seed", range(6))
def test_scripted_pipeline_cut_anywhere(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """Reads cut frames at random places (partial headers, partial arguments, CR without LF)."""
    rng = random.Random(seed)
    chunks: list[bytes] = []
    for part in (b"".join(SCRIPT[:SCRIPT.index(b"<serve>")]), b"<serve>",
                 b"".join(SCRIPT[SCRIPT.index(b"<serve>") + 1:])):
        if part == b"<serve>":
            chunks.append(part)
            continue
        i = 0
        while i < len(part):
            n = rng.choice((1, 2, 3, 7, 20, 100, 1000, 70_000))
            chunks.append(part[i:i + n])
            i += n
    same(chunks, monkeypatch)


def test_protocol_error_after_hot_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests before a malformed frame run, then the error, then the connection closes."""
    result = same([resp("SET", "a", "1") + resp("INCR", "a") + b"*1\r\n$04\r\nPING\r\n" + resp("INCR", "a")],
                  monkeypatch)
    assert result["output"] == b"+OK\r\n:2\r\n-ERR Protocol error: invalid bulk length\r\n"
    assert result["closed"]


def test_non_canonical_but_valid_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames Redis accepts that are not canonical go through the Python parser: same replies."""
    chunks = [b"*2\r\n$3\r\nGET\r\n$1\r\nk\n\n", resp("SET", "k", "v"), b"*0\r\n" + resp("GET", "k"),
              b"*-1\r\n" + resp("GET", "k"), b"*1\r\n$4\r\nPING\rX" + resp("GET", "k")]
    same(chunks, monkeypatch)


def test_inline_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain inline lines are split in C, the others by the Python parser: same replies."""
    chunks = [b"PING\r\n", b"  ECHO   a  \r\n", b"SET k v\nGET k\n", b"PING\r\r\n", b"ECHO 'a b'\r\n",
              b"\r\n\n", b"ECHO\ta\r\n", b"ECHO \"x\\ny\"\r\n", b"ECHO caf\xc3\xa9\r\n", b"GET k", b"\r\n",
              b"ECHO a\x00b\r\n", b"INCR n\r\n" * 20, b"ping\r\n" + resp("PING")]
    result = same(chunks, monkeypatch)
    assert result["output"].startswith(b"+PONG\r\n$1\r\na\r\n+OK\r\n$1\r\nv\r\n+PONG\r\n$3\r\na b\r\n")


def test_slow_hooks_and_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The slow log (threshold 0: every command) and MONITOR's after-command hook see the hot commands."""
    chunks = [resp("CONFIG", "SET", "slowlog-log-slower-than", "0"), resp("SET", "a", "1") + resp("GET", "a"),
              resp("SLOWLOG", "LEN"), resp("CONFIG", "SET", "slowlog-log-slower-than", "10000"), resp("SLOWLOG", "LEN")]
    same(chunks, monkeypatch)


def test_latency_histogram_and_stats_match(monkeypatch: pytest.MonkeyPatch) -> None:
    result = same([resp("SET", "k", "v") * 50 + resp("GET", "k") * 30 + resp("INCR", "k")], monkeypatch)
    assert result["counters"]["set"] == (50, 0, 0, 50)
    assert result["counters"]["get"] == (30, 0, 0, 30)
    assert result["counters"]["incr"] == (1, 1, 0, 1)
    assert result["stats"][0] == 81


def test_info_sees_the_counts_of_earlier_hot_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counters added up in C are written back before a request that could read them."""
    result = run([resp("SET", "k", "v") * 3 + resp("INFO", "commandstats") + resp("GET", "k") +
                  resp("INFO", "commandstats")], HOT, monkeypatch)
    first, second = result["output"].split(b"# Commandstats")[1:]
    assert b"cmdstat_set:calls=3," in first and b"cmdstat_get" not in first
    assert b"cmdstat_get:calls=1," in second and b"cmdstat_info:calls=1," in second


def test_many_distinct_commands_in_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """More distinct commands than the C loop batches counters for."""
    names = [("SET", "k", "1"), ("GET", "k"), ("INCR", "k"), ("DECR", "k"), ("INCRBY", "k", "2"), ("DECRBY", "k", "1"),
             ("STRLEN", "k"), ("APPEND", "k", "0"), ("EXISTS", "k"), ("TYPE", "k"), ("LPUSH", "l", "a"),
             ("RPUSH", "l", "b"), ("LLEN", "l"), ("LINDEX", "l", "0"), ("SADD", "s", "m"), ("SCARD", "s")]
    same([b"".join(resp(*n) for n in names) * 3], monkeypatch)


COMMANDS = st.sampled_from([
    ("SET", "k{}", "v{}"), ("GET", "k{}"), ("INCR", "k{}"), ("INCRBY", "k{}", "{}"), ("MSET", "k{}", "{}", "k{}", "x"),
    ("MGET", "k{}", "k{}"), ("LPUSH", "k{}", "{}"), ("RPUSH", "k{}", "{}", "x"), ("LPOP", "k{}"), ("RPOP", "k{}"),
    ("LRANGE", "k{}", "0", "{}"), ("SADD", "k{}", "{}"), ("SPOP", "k{}"), ("HSET", "k{}", "f{}", "{}"),
    ("HGETALL", "k{}"), ("DEL", "k{}"), ("EXPIRE", "k{}", "{}"), ("TTL", "k{}"), ("GET",), ("SET", "k{}"),
    ("DBSIZE",), ("INFO", "keyspace"), ("MULTI",), ("EXEC",), ("DISCARD",), ("HELLO", "3"), ("HELLO", "2"),
    ("CLIENT", "REPLY", "SKIP"), ("ZADD", "k{}", "{}", "m"), ("ZSCORE", "k{}", "m"), ("WATCH", "k{}"),
    ("PUBLISH", "c{}", "m{}"), ("HSET", "k{}", "f{}", "{}", "g", "{}"), ("DECR", "k{}"), ("SET", "k{}", "{}"),
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(COMMANDS, st.integers(0, 3), st.booleans(), st.booleans()), min_size=1, max_size=40),
       st.lists(st.integers(1, 200), min_size=1, max_size=10))
def test_random_pipelines(monkeypatch: pytest.MonkeyPatch, commands: list, cuts: list[int]) -> None:
    data = b"".join(
        (b" ".join(a.format(n).encode() for a in args) + b"\r\n") if inline
        else resp(*[a.format(n) if i else (a.lower() if lower else a) for i, a in enumerate(args)])
        for args, n, inline, lower in commands)
    chunks, i = [], 0
    while i < len(data):
        step = cuts[len(chunks) % len(cuts)]
        chunks.append(data[i:i + step])
        i += step
    same(chunks, monkeypatch)


# -- the handlers with a C version (INCR, DECR, HSET) ---------------------------------------

LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"

INCR_VALUES = ["0", "1", "-1", "41", "-0", "007", "+1", " 1", "1 ", "1.5", "", "abc", "99999999999999999",
               "999999999999999999", "-999999999999999999", "9999999999999999999", "1000000000000000000",
               LLONG_MAX, LLONG_MIN, str(2**63 - 2), str(-(2**63) + 1), "12\x003", "\xff"]


def _incr_script() -> list[bytes]:
    script = []
    for i, value in enumerate(INCR_VALUES):
        key = f"n{i}"
        script += [resp("SET", key, value), resp("INCR", key), resp("INCR", key), resp("DECR", key), resp("DECR", key),
                   resp("DECR", key), resp("GET", key)]
    script += [resp("INCR", "missing"), resp("DECR", "missing2"), resp("LPUSH", "list", "x"), resp("INCR", "list"),
               resp("DECR", "list"), resp("HSET", "h", "f", "1"), resp("INCR", "h"), resp("SET", "ttl", "5", "EX", "100"),
               resp("INCR", "ttl"), resp("TTL", "ttl"), resp("SET", "raw", "1"), resp("APPEND", "raw", "2"),
               resp("INCR", "raw"), resp("OBJECT", "ENCODING", "raw"), resp("INCR"), resp("INCR", "a", "b"),
               resp("DECR", "a", "b"), resp("INCR", "n3") * 5 + resp("DECR", "n3") * 7, resp("INCRBY", "n3", "10")]
    return script


def test_incr_decr_c_handler_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    """Integers of every shape, errors (not an integer, overflow, WRONGTYPE, arity), missing
    keys, TTLs and raw strings: the C INCR/DECR and the Python handlers agree."""
    result = same(_incr_script(), monkeypatch)
    out = result["output"]
    assert b"-ERR increment or decrement would overflow\r\n" in out
    assert b"-ERR value is not an integer or out of range\r\n" in out
    assert b"-WRONGTYPE" in out
    assert result["counters"]["incr"][1] > 5        # failed calls counted on both paths
    assert result["propagated"]


def _hset_script() -> list[bytes]:
    script = [resp("CONFIG", "SET", "hash-max-listpack-entries", "4"),
              resp("CONFIG", "SET", "hash-max-listpack-value", "8"),
              resp("HSET", "h", "f", "v")]                      # created by the Python handler
    script += [resp("HSET", "h", "f", "w"), resp("HSET", "h", "g", "1", "f", "22"), resp("HSET", "h", "f", "3", "f", "4"),
               resp("HSET", "h", "", ""), resp("HGETALL", "h"), resp("OBJECT", "ENCODING", "h"),
               resp("HSET", "h", "h1", "x"),                    # a fifth entry: converted
               resp("OBJECT", "ENCODING", "h"), resp("HSET", "h", "f", "new", "z", "1"), resp("HGETALL", "h"),
               resp("HSCAN", "h", "0", "COUNT", "2"), resp("HSET", "h", "q", "1"), resp("HSCAN", "h", "0"),
               resp("HLEN", "h")]
    # Listpack hashes: escapes, the value limit on fields and on values, the entry limit.
    script += [resp("HSET", "e", "a", "1"), resp("HSET", "e", "x\x00y", "1"), resp("HSET", "e", "b", "\x01\x02"),
               resp("HSET", "e", "b", "plain"), resp("HGETALL", "e"), resp("HSET", "e", "a", "12345678"),
               resp("OBJECT", "ENCODING", "e"), resp("HSET", "e", "a", "123456789"), resp("OBJECT", "ENCODING", "e"),
               resp("HSET", "k", "a", "1"), resp("HSET", "k", "f" * 9, "1"), resp("OBJECT", "ENCODING", "k"),
               resp("HSET", "m", "a", "1"), resp("HSET", "m", "b", "1", "c", "1", "d", "1"),
               resp("OBJECT", "ENCODING", "m"), resp("HSET", "m", "a", "2", "b", "2", "c", "2", "d", "2"),
               resp("HSET", "m", "a", "3", "b", "3", "c", "3", "d", "3", "e", "3"), resp("OBJECT", "ENCODING", "m")]
    # Errors and the cases the Python handler keeps: arity, wrong type, TTL, a hash grown to
    # exactly its limit by one command, limits changed between commands.
    script += [resp("HSET", "h", "f"), resp("HSET", "h", "f", "1", "g"), resp("SET", "s", "1"),
               resp("HSET", "s", "f", "1"), resp("HSET", "t", "f", "1"), resp("EXPIRE", "t", "100"),
               resp("HSET", "t", "f", "2", "g", "2"), resp("HGETALL", "t"), resp("TTL", "t"),
               resp("CONFIG", "SET", "hash-max-listpack-value", "0"), resp("HSET", "z", "a", "1"),
               resp("HSET", "t", "", ""), resp("OBJECT", "ENCODING", "t"),
               resp("CONFIG", "SET", "hash-max-listpack-entries", "0"),
               resp("CONFIG", "SET", "hash-max-listpack-value", "64"), resp("HSET", "y", "a", "1"),
               resp("OBJECT", "ENCODING", "y"), resp("CONFIG", "SET", "hash-max-listpack-entries", "128"),
               resp("HSET", "w", "a", "1"), resp("HSET", "w", *[f"f{i}" for i in range(254)]),
               resp("HLEN", "w"), resp("OBJECT", "ENCODING", "w"), resp("HSET", "w", "f0", "x" * 300)]
    return script


def test_hset_c_handler_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    """HSET on both encodings, conversions by entry count and by length, escaped bytes,
    repeated fields, errors: same replies, same listpack bytes, same dict order."""
    result = same(_hset_script(), monkeypatch)
    hashes = result["hashes"][0]
    assert hashes[b"m"][2] is not None and hashes[b"k"][2] is not None     # converted by count, by length
    assert hashes[b"t"][2] is None and b"\x02\x03" not in hashes[b"t"][0]
    assert b"-WRONGTYPE" in result["output"]
    assert b"-ERR wrong number of arguments for 'hset' command\r\n" in result["output"]


def _set_script() -> list[bytes]:
    return [resp("SET", "a", "1"), resp("SET", "a", "2"), resp("SET", "a", ""), resp("SET", "a", "x" * 16),
            resp("SET", "b", "x" * 16), resp("SET", "c", "y" * 17), resp("LPUSH", "l", "1"), resp("SET", "l", "now a string"),
            resp("TYPE", "l"), resp("SET", "t", "1", "EX", "100"), resp("SET", "t", "2"), resp("TTL", "t"),
            resp("SET", "t2", "1", "PX", "10"), resp("SET", "other", "1"), resp("SET", "a", "1", "NX"), resp("SET", "a"),
            resp("SET", "a", "1", "2"), resp("OBJECT", "ENCODING", "c"), resp("MGET", "a", "b", "c", "t")]


def test_set_c_handler_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    """SET key value over every type, with TTLs, with options (the Python handler), arity errors;
    then with a client blocked on a key and during a SCAN (both leave SET to Python)."""
    chunks: list = [b"".join(_set_script()), ("clock", 50), resp("SET", "t2", "later") + resp("TTL", "t2")]
    chunks += [("blocker", ["BLPOP", "wait", "0"]), resp("SET", "x", "1") + resp("SET", "wait", "str") +
               resp("DEL", "wait") + resp("RPUSH", "wait", "v")]
    chunks += [resp("SCAN", "0", "COUNT", "2"), resp("SET", "new1", "1") + resp("SET", "new2", "2") + resp("SET", "a", "9"),
               resp("SCAN", "0", "COUNT", "1000")]
    result = same(chunks, monkeypatch)
    assert b"-ERR syntax error" in result["output"]
    assert ("blocker", encode([b"wait", b"v"], 3)) in result["side"] or result["side_sinks"]["blocker"]


def test_c_handlers_cut_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"".join(_incr_script() + _hset_script() + _set_script())
    rng = random.Random(3)
    chunks, i = [], 0
    while i < len(data):
        n = rng.choice((1, 5, 40, 300, 5000))
        chunks.append(data[i:i + n])
        i += n
    same(chunks, monkeypatch)


def test_c_handlers_with_listeners(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other clients watch, track, monitor and subscribe to keyspace events while INCR, DECR and
    HSET run: the Python handlers (which the C ones defer to) give them the same view."""
    setup = [resp("SET", "n", "1"), resp("HSET", "h", "f", "v"), resp("HSET", "big", *[f"f{i}" for i in range(600)]),
             resp("RPUSH", "l", "0")]
    hot = [resp("INCR", "n"), resp("DECR", "n"), resp("HSET", "h", "f", "w", "g", "1"), resp("HSET", "big", "f1", "x"),
           resp("SET", "s", "v"), resp("SET", "n2", "1"), resp("LPUSH", "l", "a", "b"), resp("RPUSH", "l", "c")]
    chunks: list = [b"".join(setup)]
    chunks += [("watcher", ["WATCH", "n", "h", "big"]), b"".join(hot), ("watcher", ["MULTI"]),
               ("watcher", ["GET", "n"]), ("watcher", ["EXEC"])]
    chunks += [("tracker", ["HELLO", "3"]), ("tracker", ["CLIENT", "TRACKING", "ON"]), ("tracker", ["GET", "n"]),
               ("tracker", ["HGET", "h", "f"]), b"".join(hot), ("tracker", ["CLIENT", "TRACKING", "OFF"])]
    chunks += [("subscriber", ["SUBSCRIBE", "ch"]), resp("PUBLISH", "ch", "before") + b"".join(hot) +
               resp("PUBLISH", "ch", "after") + resp("PUBLISH", "nobody", "x")]
    chunks += [("subscriber", ["PSUBSCRIBE", "__key*__:*"]), resp("CONFIG", "SET", "notify-keyspace-events", "KEA"),
               b"".join(hot), resp("CONFIG", "SET", "notify-keyspace-events", "")]
    chunks += [("monitor", ["MONITOR"]), b"".join(hot), resp("CONFIG", "SET", "slowlog-log-slower-than", "0"),
               b"".join(hot), resp("SLOWLOG", "LEN"), resp("CONFIG", "SET", "slowlog-log-slower-than", "-1")]
    chunks += [resp("MULTI") + b"".join(hot) + resp("EXEC"), resp("WATCH", "n") + b"".join(hot) + resp("MULTI") +
               resp("PING") + resp("EXEC"), b"".join(hot)]
    result = same(chunks, monkeypatch)
    sinks = result["side_sinks"]
    assert any(b"invalidate" in item for item in sinks["tracker"])
    assert any(b"hset" in item for item in sinks["subscriber"])
    assert any(b"before" in item for item in sinks["subscriber"])
    assert [b"PUBLISH", b"ch", b"after"] in [op for _, ops in result["propagated"] for op in ops]
    assert any(b"INCR" in item for item in sinks["monitor"])
    assert result["side"][3] == ("watcher", encode(NULL_ARRAY, 3))          # EXEC after the watched keys changed
    assert [b"INCR", b"n"] in result["slowlog"]


# -- output for other connections, held while a connection's requests run ------------------


class RecordingTransport(FakeTransport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        super().write(data)
        self.writes.append(bytes(data))


def _connection(engine: Engine) -> tuple[Any, RecordingTransport]:
    connection = server_mod.Connection(FakeServer(engine))   # type: ignore[arg-type]
    transport = RecordingTransport()
    connection.connection_made(transport)
    return connection, transport


@pytest.mark.parametrize("hot", [HOT, PURE], ids=["hot", "pure"])
def test_messages_to_other_connections_written_once_per_batch(monkeypatch: pytest.MonkeyPatch, hot: Any) -> None:
    """PUBLISH's messages (and keyspace events) for a subscriber go out in one write when the
    publisher's batch is done, in order, before anything else the subscriber is sent."""
    monkeypatch.setattr(server_mod, "_hot_run", hot)
    engine = Engine()
    subscriber, sub_transport = _connection(engine)
    publisher, pub_transport = _connection(engine)
    subscriber.data_received(resp("SUBSCRIBE", "ch"))
    assert len(sub_transport.writes) == 1
    publisher.data_received(resp("PUBLISH", "ch", "m1") + resp("SET", "k", "v") + resp("PUBLISH", "ch", "m2") +
                            resp("PUBLISH", "other", "x") + resp("PUBLISH", "ch", "m3"))
    assert pub_transport.writes == [b":1\r\n+OK\r\n:1\r\n:0\r\n:1\r\n"]
    message = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$%d\r\n%s\r\n"
    assert sub_transport.writes[1:] == [b"".join(message % (len(m), m) for m in (b"m1", b"m2", b"m3"))]
    assert subscriber.held is None and server_mod._held_connections is None
    # Held output goes before the subscriber's own replies, and out before a kill closes it.
    publisher.data_received(resp("PUBLISH", "ch", "m4") + resp("CLIENT", "KILL", "ID", str(subscriber.client.id)) +
                            resp("PUBLISH", "ch", "m5"))
    assert sub_transport.writes[2] == message % (2, b"m4") and sub_transport.closed
    assert pub_transport.writes[-1] == b":1\r\n:1\r\n:0\r\n"


@pytest.mark.parametrize("hot", [HOT, PURE], ids=["hot", "pure"])
def test_held_output_precedes_the_connections_own_replies(monkeypatch: pytest.MonkeyPatch, hot: Any) -> None:
    """A RESP3 client tracking a key: the invalidation caused by another connection's write,
    then its own reply, whatever runs first."""
    monkeypatch.setattr(server_mod, "_hot_run", hot)
    engine = Engine()
    tracker, tracker_transport = _connection(engine)
    writer, _ = _connection(engine)
    tracker.data_received(resp("HELLO", "3") + resp("CLIENT", "TRACKING", "ON") + resp("GET", "k"))
    before = len(tracker_transport.data)
    writer.data_received(resp("SET", "k", "1") + resp("INCR", "k"))
    tracker.data_received(resp("GET", "k"))
    assert bytes(tracker_transport.data[before:]) == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n$1\r\n2\r\n"


def test_writes_meeting_expired_keys_propagate_as_the_python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hot write that finds its key expired: the DEL, then the command only if it changed
    something (Engine._propagate's ``changed``), wrapped in MULTI/EXEC when both go."""
    setup = (resp("SET", "k", "1", "PX", "10") + resp("RPUSH", "l", "a") + resp("PEXPIRE", "l", "10") +
             resp("HSET", "h", "f", "v") + resp("PEXPIRE", "h", "10") + resp("SET", "n", "5", "PX", "10") +
             resp("SADD", "s", "m") + resp("PEXPIRE", "s", "10"))
    later = (resp("LPOP", "l") + resp("GET", "k") + resp("HSET", "h", "f", "w") + resp("INCR", "n") +
             resp("SREM", "s", "m") + resp("DEL", "nothing") + resp("RPOP", "l"))
    result = same([setup, ("clock", 100), later], monkeypatch)
    ops = [op for _, batch in result["propagated"] for op in batch]
    assert [b"DEL", b"l"] in ops and [b"LPOP", b"l"] not in ops


@pytest.mark.parametrize("propagation", [False, True], ids=["no-consumers", "aof"])
def test_publish_c_handler_cases(monkeypatch: pytest.MonkeyPatch, propagation: bool) -> None:
    """PUBLISH with nobody listening (the C case: nothing propagates it either), then to
    channel and pattern subscribers, after they leave, inside MULTI, with a bad arity."""
    pub = resp("PUBLISH", "ch", "m") + resp("PUBLISH", "other", "m") + resp("PUBLISH", "ch", "")
    chunks: list = [pub, ("sub", ["SUBSCRIBE", "ch"]), pub, ("sub", ["UNSUBSCRIBE", "ch"]), pub,
                    ("psub", ["PSUBSCRIBE", "o*"]), pub, ("psub", ["PUNSUBSCRIBE"]), pub,
                    resp("MULTI") + pub + resp("EXEC"), resp("PUBLISH", "ch") + resp("PUBLISH", "ch", "a", "b") + pub]
    result = same(chunks, monkeypatch, propagation)
    assert result["output"].count(b":1\r\n") == 3       # ch twice to its subscriber, other to o*
    assert b"-ERR wrong number of arguments for 'publish' command" in result["output"]
    published = [op for _, ops in result["propagated"] for op in ops if op[0] == b"PUBLISH"]
    assert len(published) == (21 if propagation else 0)


def test_push_c_handler_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    """LPUSH/RPUSH onto existing lists (the C case), new keys, other types, a database with
    TTLs (the Python handler), pops in between that move elements between the list's halves,
    a client blocked on another list, LRANGE to check the order."""
    pushes = (resp("LPUSH", "l", "a") + resp("RPUSH", "l", "b", "c") + resp("LPUSH", "l", "d", "e", "f") +
              resp("RPOP", "l") + resp("LPOP", "l") + resp("RPUSH", "l", "g") + resp("LRANGE", "l", "0", "-1") +
              resp("LPUSH", "s", "x") + resp("LPUSH", "new", "1", "2") + resp("RPUSH", "new", "3") + resp("LLEN", "new"))
    chunks: list = [resp("SET", "s", "v") + pushes, resp("SET", "t", "1", "EX", "100") + pushes,
                    resp("DEL", "t") + pushes, ("blocker", ["BLPOP", "empty", "0"]), pushes + resp("RPUSH", "empty", "z"),
                    resp("LPOP", "l", "100") + resp("RPUSH", "l", "again") + resp("LRANGE", "l", "0", "-1"),
                    resp("RPUSH", "e", "old") + resp("PEXPIRE", "e", "10"), ("clock", 100),
                    resp("LPUSH", "e", "x") + resp("RPUSH", "e", "y") + resp("LRANGE", "e", "0", "-1")]
    result = same(chunks, monkeypatch)
    assert result["output"].endswith(b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n")       # the expired list is gone
    assert b"-WRONGTYPE" in result["output"]
    assert result["side_sinks"]["blocker"] or ("blocker", encode([b"empty", b"z"], 3)) in result["side"]
