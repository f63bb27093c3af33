"""Keyspace and expiry commands, differentially against Redis 7.0.15 (RESP2 and RESP3).

Tests that look at whole databases (KEYS, DBSIZE, FLUSH*, SWAPDB, RANDOMKEY) start
with FLUSHALL: the servers belong to this module and its tests run one at a time.
"""

from __future__ import annotations

import random
import time

from lists.differential import Pair

from specredis.protocol.client import RespError


def check_as_set(pair: Pair, *argv: object) -> None:
    """Send ``argv`` to both servers; the replies must hold the same elements (KEYS and SCAN
    orders are a hash table's)."""
    expected, actual = pair.both(*argv)
    if argv[0] == "SCAN" and isinstance(expected, list) and isinstance(actual, list):
        # Only a one-call SCAN (cursor 0 back) is comparable: the keys, in any order.
        assert expected[0] == actual[0] == b"0", (expected, actual)
        expected, actual = sorted(expected[1]), sorted(actual[1])
    elif isinstance(expected, list) and isinstance(actual, list):
        expected, actual = sorted(expected), sorted(actual)
    assert actual == expected, f"{argv}: reference {expected!r}, specredis {actual!r}"


def test_del_unlink_exists_touch_type(pair: Pair) -> None:
    a, b, c, lst, h, missing = (pair.key(n) for n in ("a", "b", "c", "list", "hash", "missing"))
    pair.run(
        ["MSET", a, 1, b, 2, c, 3], ["EXISTS", a, b, missing, a], ["TOUCH", a, a, missing], ["DEL", a, missing, a],
        ["EXISTS", a], ["UNLINK", b, c, missing], ["EXISTS", b, c], ["DEL", missing], ["UNLINK", missing],
        ["RPUSH", lst, 1], ["HSET", h, "f", "v"], ["SET", a, "s"], ["TYPE", a], ["TYPE", lst], ["TYPE", h],
        ["TYPE", missing], ["type", a], ["DEL", lst, h], ["EXISTS", lst, h], ["DEL"], ["EXISTS"], ["TYPE"],
        ["TYPE", a, b],
    )


def test_rename_renamenx(pair: Pair) -> None:
    a, b, c, lst, missing = (pair.key(n) for n in ("a", "b", "c", "list", "missing"))
    pair.run(
        ["SET", a, 1], ["RENAME", a, b], ["GET", a], ["GET", b], ["RENAME", missing, c], ["RENAME", b, b],
        ["RENAME", missing, missing], ["RENAMENX", b, b], ["RENAMENX", missing, missing], ["SET", c, 3],
        ["RENAMENX", b, c], ["RENAMENX", b, a], ["GET", a], ["RENAME", a, c], ["GET", c], ["EXISTS", a],
        ["SET", a, "v", "EX", 100], ["RENAME", a, b], ["TTL", b], ["SET", c, "w", "EX", 200], ["RENAME", b, c],
        ["TTL", c], ["RPUSH", lst, 1, 2], ["RENAME", lst, a], ["LRANGE", a, 0, -1], ["TYPE", lst], ["RENAME", a],
    )


def test_copy(pair: Pair) -> None:
    a, b, lst, h, missing = (pair.key(n) for n in ("a", "b", "list", "hash", "missing"))
    pair.run(
        ["SET", a, "v", "EX", 100], ["COPY", a, b], ["GET", b], ["TTL", b], ["COPY", a, b], ["COPY", a, b, "REPLACE"],
        ["COPY", a, a], ["COPY", a, a, "DB", 0], ["COPY", missing, b], ["COPY", a, b, "DB", 16],
        ["COPY", a, b, "DB", -1], ["COPY", a, b, "DB", "x"], ["COPY", a, b, "DB"], ["COPY", a, b, "FOO"],
        ["COPY", a, b, "REPLACE", "REPLACE"], ["COPY", a, b, "db", 9, "replace"], ["SELECT", 9], ["GET", b],
        ["TTL", b], ["DEL", b], ["SELECT", 0], ["RPUSH", lst, 1, 2], ["COPY", lst, pair.key("l2")],
        ["RPUSH", lst, 3], ["LRANGE", pair.key("l2"), 0, -1], ["HSET", h, "f", "v"], ["COPY", h, pair.key("h2")],
        ["HSET", h, "g", "w"], ["HGETALL", pair.key("h2")], ["SET", a, "12"], ["APPEND", a, "3"],
        ["COPY", a, pair.key("raw"), "REPLACE"], ["APPEND", a, "4"], ["GET", pair.key("raw")],
        ["OBJECT", "ENCODING", pair.key("raw")],
    )


def test_move(pair: Pair) -> None:
    a, missing = pair.key("a"), pair.key("missing")
    pair.run(
        ["SET", a, "v", "PX", 100000], ["MOVE", a, 1], ["MOVE", a, 1], ["EXISTS", a], ["SELECT", 1], ["TTL", a],
        ["MOVE", a, 1], ["SET", pair.key("b"), 2], ["SELECT", 0], ["SET", a, "other"], ["SELECT", 1], ["MOVE", a, 0],
        ["GET", a], ["DEL", a, pair.key("b")], ["SELECT", 0], ["GET", a], ["MOVE", a, 16], ["MOVE", a, -1],
        ["MOVE", a, "x"], ["MOVE", a, "4294967296"], ["MOVE", missing, 1], ["MOVE", a], ["DEL", a],
    )


def test_whole_database_commands(pair: Pair) -> None:
    pair.check("FLUSHALL")
    pair.run(
        ["DBSIZE"], ["RANDOMKEY"], ["KEYS", "*"], ["SCAN", 0], ["MSET", "a", 1, "b", 2, "c", 3], ["DBSIZE"],
        ["SELECT", 1], ["SET", "x", 1], ["DBSIZE"], ["SELECT", 0], ["SWAPDB", 0, 1], ["DBSIZE"], ["GET", "x"],
        ["SWAPDB", 0, 1], ["GET", "x"], ["SWAPDB", 1, 1], ["SWAPDB", 0, 16], ["SWAPDB", -1, 0], ["SWAPDB", "x", 0],
        ["SWAPDB", 0, "x"], ["SWAPDB", "4294967296", 0], ["SWAPDB", 0], ["FLUSHDB", "FOO"], ["FLUSHDB", "SYNC", "X"],
        ["FLUSHALL", "x"], ["DBSIZE", "x"], ["RANDOMKEY", "x"], ["FLUSHDB", "ASYNC"], ["DBSIZE"], ["SELECT", 1],
        ["DBSIZE"], ["FLUSHDB", "sync"], ["DBSIZE"], ["SELECT", 0], ["SET", "only", 1], ["RANDOMKEY"],
        ["FLUSHALL", "ASYNC"], ["DBSIZE"], ["FLUSHALL", "SYNC"], ["FLUSHDB"],
    )


def test_keys_sorted(pair: Pair) -> None:
    pair.check("FLUSHALL")
    names = ["a", "b", "ab", "aXb", "a*b", "a?b", "a[b", "a\\b", "a]b", "{t}x", "hello", "hallo", "hxllo", "",
             "\x00bin", "é"]
    for name in names:
        pair.check("SET", name, 1)
    pair.check("SET", "gone", 1, "PX", 1)
    time.sleep(0.01)
    for pattern in ["*", "a*", "a?b", "a\\*b", "a[*]b", "a[^X]b", "a[a-c]b", "a[c-a]*", "a[\\]*", "*[", "a[", "[]",
                    "?", "*\\", "{t}*", "h[ae]llo", "h[^e]llo", "h*llo", "*b", "**b", "a\\", "[a-]*", "[!a]*", "\\?*",
                    "*?*?*", "nomatch", "", "\x00*", "[]]*", "[^]*"]:
        check_as_set(pair, "KEYS", pattern)


def test_keys_random_patterns(pair: Pair) -> None:
    pair.check("FLUSHALL")
    rng = random.Random(3)
    alphabet = "ab-^]\\[*?"
    keys = {"".join(rng.choice("ab-^]\\[") for _ in range(rng.randint(0, 4))) for _ in range(60)}
    for key in keys:
        pair.check("SET", key, 1)
    for _ in range(200):
        pattern = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
        check_as_set(pair, "KEYS", pattern)


def test_keys_many_stars(pair: Pair) -> None:
    """Patterns with several stars, against keys with repeats: the leftmost-segment matching
    must agree with Redis, and a pathological pattern must not backtrack exponentially."""
    pair.check("FLUSHALL")
    rng = random.Random(5)
    for _ in range(40):
        pair.check("SET", "".join(rng.choice("ab") for _ in range(rng.randint(0, 12))), 1)
    for _ in range(150):
        pattern = "".join(rng.choice(["*", "a", "b", "?", "[ab]", "[^a]"]) for _ in range(rng.randint(1, 7)))
        check_as_set(pair, "KEYS", pattern)
        check_as_set(pair, "SCAN", 0, "MATCH", pattern, "COUNT", 1000)
    pair.check("SET", "a" * 5000, 1)
    start = time.monotonic()
    pair.check("KEYS", "*a" * 30 + "*b")
    pair.check("SCAN", 0, "MATCH", "*a" * 30 + "*b", "COUNT", 1000)
    assert time.monotonic() - start < 2


def test_scan_semantics(pair: Pair) -> None:
    pair.check("FLUSHALL")
    pair.run(["SCAN", "x"], ["SCAN", "-"], ["SCAN", "+"], ["SCAN", " 1"], ["SCAN", "1 "], ["SCAN", "18446744073709551616"],
             ["SCAN", 0, "COUNT", 0], ["SCAN", 0, "COUNT", -1], ["SCAN", 0, "COUNT", "x"], ["SCAN", 0, "COUNT"],
             ["SCAN", 0, "MATCH"], ["SCAN", 0, "FOO", "x"], ["SCAN", 0, "TYPE"], ["SCAN"], ["SCAN", 0],
             ["SCAN", "", "COUNT", 5])
    for i in range(300):
        pair.check("SET", f"s:{i}", i)
    for i in range(20):
        pair.check("RPUSH", f"l:{i}", i)
    pair.check("SET", "expired", 1, "PX", 1)
    time.sleep(0.01)
    for args in ([], ["COUNT", 7], ["MATCH", "s:1*"], ["TYPE", "list"], ["TYPE", "LIST", "COUNT", 100],
                 ["MATCH", "l:*", "TYPE", "string"], ["TYPE", "nosuchtype"], ["COUNT", 1000, "MATCH", "*"]):
        expected, actual = set(), set()
        for side, found in ((pair.ref.conn, expected), (pair.ours.conn, actual)):
            cursor, calls = b"0", 0
            while True:
                reply = side.call("SCAN", cursor, *args)
                assert not isinstance(reply, RespError), reply
                cursor, keys = reply
                found.update(keys)
                calls += 1
                assert calls < 2000
                if cursor == b"0":
                    break
        assert actual == expected, args


def test_expire_family(pair: Pair) -> None:
    k, missing, lst = pair.key("k"), pair.key("missing"), pair.key("list")
    pair.run(
        ["SET", k, "v"], ["TTL", k], ["PTTL", k], ["EXPIRETIME", k], ["PEXPIRETIME", k], ["TTL", missing],
        ["PTTL", missing], ["EXPIRETIME", missing], ["PEXPIRETIME", missing], ["EXPIRE", k, 100], ["TTL", k],
        ["EXPIRE", k, 100, "NX"], ["EXPIRE", k, 200, "XX"], ["TTL", k], ["EXPIRE", k, 50, "GT"], ["EXPIRE", k, 500, "GT"],
        ["TTL", k], ["EXPIRE", k, 5000, "LT"], ["EXPIRE", k, 50, "LT"], ["TTL", k], ["EXPIRE", k, 1, "NX", "XX"],
        ["EXPIRE", k, 1, "GT", "LT"], ["EXPIRE", k, 1, "XX", "GT"], ["EXPIRE", k, 1, "nx", "gt"], ["EXPIRE", k, 1, "FOO"],
        ["EXPIRE", k, 1, "nx", "foo"], ["EXPIRE", k, "abc"], ["EXPIRE", k, "1.5"], ["EXPIRE", k, "9223372036854776"],
        ["EXPIRE", k, "-9223372036854776"], ["PEXPIRE", k, "9223372036854775807"], ["EXPIREAT", k, "9223372036854775"],
        ["EXPIREAT", k, "9223372036854775"], ["EXPIRETIME", k], ["PEXPIREAT", k, "9223372036854775807"],
        ["EXPIRETIME", k], ["PEXPIRETIME", k], ["PERSIST", k], ["PERSIST", k], ["PERSIST", missing], ["TTL", k],
        ["EXPIRE", k, 100, "GT"], ["EXPIRE", k, 100, "LT"], ["TTL", k], ["PERSIST", k], ["EXPIRE", k, 100, "XX"],
        ["PEXPIRE", k, 100200], ["TTL", k], ["EXPIREAT", k, 4000000000], ["EXPIRETIME", k],
        ["PEXPIREAT", k, 4000000000001], ["PEXPIRETIME", k], ["EXPIRETIME", k],
        ["EXPIRE", missing, 10], ["PEXPIRE", missing, 10], ["EXPIRE", k, -1], ["EXISTS", k], ["SET", k, "v"],
        ["PEXPIREAT", k, 0], ["EXISTS", k], ["SET", k, "v"], ["EXPIREAT", k, 1, "GT"], ["EXISTS", k],
        ["EXPIRE", k, 0, "NX"], ["EXISTS", k], ["RPUSH", lst, 1], ["EXPIRE", lst, 100], ["TTL", lst], ["PERSIST", lst],
        ["EXPIRE", k], ["TTL"], ["PERSIST", k, k],
    )


def test_object_subcommands(pair: Pair) -> None:
    k, lst, missing = pair.key("k"), pair.key("list"), pair.key("missing")
    pair.run(
        ["SET", k, "v"], ["OBJECT", "ENCODING", k], ["OBJECT", "REFCOUNT", k], ["OBJECT", "FREQ", k],
        ["OBJECT", "ENCODING", missing], ["OBJECT", "REFCOUNT", missing], ["OBJECT", "FREQ", missing],
        ["OBJECT", "IDLETIME", missing], ["OBJECT", "HELP"], ["object", "help"], ["OBJECT", "HELP", "x"],
        ["OBJECT"], ["OBJECT", "FOO", k], ["OBJECT", "ENCODING"], ["OBJECT", "ENCODING", k, k],
        ["RPUSH", lst, 1], ["OBJECT", "ENCODING", lst],
    )
    expected, actual = pair.both("OBJECT", "IDLETIME", k)
    assert isinstance(expected, int) and isinstance(actual, int)
