"""INFO keyspace and the keyspace counters of INFO stats agree with Redis 7.0.15 after the same
commands: which lookups count as hits or misses, which expiries count, keys/expires per db."""

from __future__ import annotations

import time

from lists.differential import Pair

from specredis.protocol.client import RVerbatim


def info_fields(conn, section: str) -> dict[str, str]:
    reply = conn.call("INFO", section)
    text = (reply.text if isinstance(reply, RVerbatim) else reply).decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#"))


def counters(conn) -> tuple[int, int, int]:
    stats = info_fields(conn, "stats")
    return int(stats["keyspace_hits"]), int(stats["keyspace_misses"]), int(stats["expired_keys"])


def test_hits_misses_and_expired_counts_agree(pair: Pair) -> None:
    pair.check("FLUSHALL")
    pair.check("CONFIG", "RESETSTAT")
    commands = [
        ["SET", "s", "v"], ["GET", "s"], ["GET", "missing"], ["MGET", "s", "missing", "s"], ["EXISTS", "s", "missing"],
        ["TYPE", "s"], ["TYPE", "missing"], ["TTL", "s"], ["PTTL", "missing"], ["EXPIRETIME", "s"], ["STRLEN", "s"],
        ["GETRANGE", "missing", 0, 1], ["OBJECT", "ENCODING", "s"], ["OBJECT", "ENCODING", "missing"],
        ["TOUCH", "s", "missing"], ["COPY", "s", "s2"], ["COPY", "missing", "s3"], ["LCS", "s", "missing"],
        ["SET", "s", "w", "GET"], ["SET", "s", "w", "NX"], ["SETNX", "s", "x"], ["GETSET", "s", "v"],
        ["GETDEL", "s2"], ["GETDEL", "s2"], ["GETEX", "s"], ["GETEX", "missing"], ["INCR", "n"], ["APPEND", "s", "x"],
        ["SETRANGE", "s", 0, "y"], ["INCRBYFLOAT", "f", 1], ["RENAME", "s", "t"], ["RENAME", "missing", "t2"],
        ["MOVE", "t", 2], ["DEL", "n", "missing"], ["EXPIRE", "f", 100], ["PERSIST", "f"], ["MSETNX", "f", 1],
        ["SCAN", 0, "TYPE", "string"], ["KEYS", "*"], ["RANDOMKEY"], ["DBSIZE"],
        ["SET", "e1", 1, "PX", 1], ["SET", "e2", 1, "PX", 1], ["SET", "e3", 1, "PX", 1], ["SET", "e4", 1, "PX", 1],
    ]
    for command in commands:
        pair.both(*command)
    time.sleep(0.01)
    for command in (["GET", "e1"], ["EXISTS", "e2"], ["SET", "e3", "v"], ["INCR", "e4"]):
        pair.both(*command)
    assert counters(pair.ours.conn) == counters(pair.ref.conn)


def test_info_keyspace_agrees(pair: Pair) -> None:
    pair.check("FLUSHALL")
    for db in (0, 3):
        pair.check("SELECT", db)
        for i in range(40):
            pair.check("SET", f"k{i}", "v")
        for i in range(25):
            pair.check("EXPIRE", f"k{i}", 1000 + db)
    pair.check("SELECT", 0)
    # avg_ttl stays 0 until the active cycle has sampled TTLs: wait for the cron of both
    # servers to have run (a loaded machine may take longer than a few ticks).
    deadline = time.monotonic() + 30
    while True:
        ours, ref = info_fields(pair.ours.conn, "keyspace"), info_fields(pair.ref.conn, "keyspace")
        sampled = all("avg_ttl=0" not in fields.get(db, "avg_ttl=0") for fields in (ours, ref) for db in ("db0", "db3"))
        if sampled or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert set(ours) == set(ref) == {"db0", "db3"}
    for db in ref:
        expected = dict(item.split("=") for item in ref[db].split(","))
        actual = dict(item.split("=") for item in ours[db].split(","))
        assert (actual["keys"], actual["expires"]) == (expected["keys"], expected["expires"]) == ("40", "25")
        # avg_ttl is a running estimate from samples; both start from ~1000 s.
        assert abs(int(actual["avg_ttl"]) - int(expected["avg_ttl"])) < 5000, (actual, expected)
        assert int(actual["avg_ttl"]) > 900_000
