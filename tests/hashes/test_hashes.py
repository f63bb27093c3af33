"""Hashes, differentially: the same commands to specredis and to Redis 7.0.15, RESP2 and RESP3."""

from __future__ import annotations

import random

import pytest
from lists.differential import Pair

from specredis.protocol.client import RespError, RMap


def test_set_get_delete(pair: Pair) -> None:
    h, missing = pair.key("h"), pair.key("missing")
    pair.run(
        ["HSET", h, "a", 1, "b", 2], ["HSET", h, "a", 10, "c", 3], ["HSET", h, "a", 1, "b"], ["HMSET", h, "d", 4],
        ["HMSET", h, "x"], ["HSETNX", h, "d", 5], ["HSETNX", h, "e", 5], ["HGET", h, "a"], ["HGET", h, "zz"],
        ["HGET", missing, "a"], ["HMGET", h, "a", "zz", "b"], ["HMGET", missing, "a", "b"], ["HLEN", h],
        ["HLEN", missing], ["HSTRLEN", h, "a"], ["HSTRLEN", h, "zz"], ["HSTRLEN", missing, "a"],
        ["HEXISTS", h, "b"], ["HEXISTS", h, "zz"], ["HEXISTS", missing, "b"], ["HKEYS", h], ["HVALS", h],
        ["HGETALL", h], ["HKEYS", missing], ["HVALS", missing], ["HGETALL", missing], ["HDEL", h, "a", "zz", "a"],
        ["HDEL", missing, "a"], ["HGETALL", h], ["HDEL", h, "b", "c", "d", "e"], ["HLEN", h], ["HGETALL", h],
        ["HSET", h, "", ""], ["HGET", h, ""], ["HGETALL", h],
    )


def test_binary_fields_and_values(pair: Pair) -> None:
    """Bytes the compact encoding uses internally (0x00-0x02) must round-trip untouched."""
    h = pair.key("h")
    tricky = [b"\x00", b"\x01", b"\x02", b"a\x00b\x01c\x02d", b"\x02\x03", b"\x02\x04\x00", b"\x00\x00", b"\xff"]
    for i, field in enumerate(tricky):
        pair.check("HSET", h, field, tricky[-1 - i])
    for field in tricky:
        pair.check("HGET", h, field)
        pair.check("HEXISTS", h, field)
    pair.run(["HGETALL", h], ["HKEYS", h], ["HVALS", h], ["HSTRLEN", h, b"\x02\x03"], ["HSCAN", h, 0],
             ["HGET", h, b"\x03"], ["HGET", h, b"b"], ["HDEL", h, b"\x02", b"\x00"], ["HGETALL", h])


def test_hincrby(pair: Pair) -> None:
    h = pair.key("h")
    pair.run(
        ["HINCRBY", h, "n", 5], ["HINCRBY", h, "n", -10], ["HINCRBY", h, "n", "x"], ["HINCRBY", h, "n", "1.5"],
        ["HINCRBY", h, "big", "9223372036854775807"], ["HINCRBY", h, "big", 1], ["HINCRBY", h, "neg",
                                                                                  "-9223372036854775808"],
        ["HINCRBY", h, "neg", -1], ["HINCRBY", h, "n", "9223372036854775808"], ["HSET", h, "s", "abc", "sp", " 12"],
        ["HINCRBY", h, "s", 1], ["HINCRBY", h, "sp", 1], ["HSET", h, "z", "012"], ["HINCRBY", h, "z", 1],
        ["HGETALL", h],
    )


def test_hincrbyfloat_formatting(pair: Pair) -> None:
    h = pair.key("h")
    for field, increment in [
        ("f", "1.5"), ("f", "0.1"), ("g", "0.1"), ("g", "0.2"), ("g", "-0.3"), ("f", "1e400"), ("f", "3.0e3"),
        ("e", "5.0e3"), ("e", "2.0e2"), ("e", "-5000.5"), ("h", "0x10"), ("h", "-0"), ("h", "-16"),
        ("h", "-0.0000001"), ("h", "1.00000000000000000001"), ("i", "1e-20"), ("j", "123456789012345678"),
        ("j", "0.5"), ("k", "inf"), ("k", "nan"), ("k", "abc"), ("k", ""), ("k", " 1"), ("k", "1e5000"),
        ("m", "1e308"), ("m", "1e308"), ("n", "10.50"), ("n", "-10.5"),
    ]:
        pair.check("HINCRBYFLOAT", h, field, increment)
    pair.run(["HSET", h, "s", "abc", "big", "1e4932"], ["HINCRBYFLOAT", h, "s", 1], ["HINCRBYFLOAT", h, "big", "1e4932"])
    pair.check_unordered("HGETALL", h)      # a 400-digit value made it a hashtable


def test_wrong_type(pair: Pair) -> None:
    k = pair.key("l")
    pair.check("RPUSH", k, "a")
    for command in (["HSET", k, "f", "v"], ["HSETNX", k, "f", "v"], ["HMSET", k, "f", "v"], ["HGET", k, "f"],
                    ["HMGET", k, "f"], ["HDEL", k, "f"], ["HLEN", k], ["HSTRLEN", k, "f"], ["HEXISTS", k, "f"],
                    ["HKEYS", k], ["HVALS", k], ["HGETALL", k], ["HINCRBY", k, "f", 1], ["HINCRBY", k, "f", "x"],
                    ["HINCRBYFLOAT", k, "f", 1], ["HRANDFIELD", k], ["HRANDFIELD", k, 2], ["HSCAN", k, 0],
                    ["HSCAN", k, "x"]):
        pair.check(*command)


def test_hrandfield_errors_and_edges(pair: Pair) -> None:
    h, missing, one = pair.key("h"), pair.key("missing"), pair.key("one")
    pair.run(["HSET", h, "a", 1, "b", 2, "c", 3], ["HSET", one, "only", "v"])
    for command in (
        ["HRANDFIELD", missing], ["HRANDFIELD", missing, 3], ["HRANDFIELD", missing, -3, "WITHVALUES"],
        ["HRANDFIELD", h, 0], ["HRANDFIELD", h, 0, "withvalues"], ["HRANDFIELD", h, "-9223372036854775808"],
        ["HRANDFIELD", h, "-9223372036854775807", "WITHVALUES"], ["HRANDFIELD", h, "4611686018427387904",
                                                                  "WITHVALUES"],
        ["HRANDFIELD", missing, "4611686018427387904", "WITHVALUES"], ["HRANDFIELD", h, 1, "foo"],
        ["HRANDFIELD", h, 1, "WITHVALUES", "x"], ["HRANDFIELD", h, "x"], ["HRANDFIELD", one],
        ["HRANDFIELD", one, 5], ["HRANDFIELD", one, -3], ["HRANDFIELD", one, -2, "WITHVALUES"],
        ["HRANDFIELD", h, 3], ["HRANDFIELD", h, 10, "WITHVALUES"], ["HRANDFIELD", h, "4611686018427387903"],
    ):
        pair.check(*command)


def _pairs(reply: object, protocol: int, withvalues: bool) -> list:
    if not withvalues:
        return list(reply)
    if protocol == 3:
        assert all(isinstance(item, list) and len(item) == 2 for item in reply)
        return [tuple(item) for item in reply]
    return list(zip(reply[::2], reply[1::2], strict=True))


@pytest.mark.parametrize("size", [5, 300])
def test_hrandfield_random_replies_have_redis_shape(pair: Pair, size: int) -> None:
    h = pair.key("h")
    fields = {b"f%d" % i: b"v%d" % i for i in range(size)}
    args = [x for item in fields.items() for x in item]
    pair.check("HSET", h, *args)
    for count, withvalues in [(3, False), (3, True), (-7, False), (-7, True), (size - 1, True), (size, False)]:
        extra = ["WITHVALUES"] if withvalues else []
        expected, actual = pair.both("HRANDFIELD", h, count, *extra)
        for reply in (expected, actual):
            items = _pairs(reply, pair.protocol, withvalues)
            assert len(items) == abs(count)
            for item in items:
                if withvalues:
                    assert fields[item[0]] == item[1]
                else:
                    assert item in fields
            if count > 0:
                assert len(set(items)) == len(items)       # distinct when the count is positive
    expected, actual = pair.both("HRANDFIELD", h)
    assert expected in fields and actual in fields


def test_hscan(pair: Pair) -> None:
    small, missing = pair.key("small"), pair.key("missing")
    pair.run(["HSET", small, *[x for i in range(20) for x in (f"f{i}", i)]])
    # A listpack is returned whole with cursor 0, whatever the cursor and COUNT.
    for command in (["HSCAN", small, 0], ["HSCAN", small, 12345], ["HSCAN", small, 0, "COUNT", 1],
                    ["HSCAN", small, 0, "MATCH", "f1*"], ["HSCAN", small, 0, "MATCH", "*", "COUNT", 5],
                    ["HSCAN", small, "18446744073709551615"], ["HSCAN", small, -1], ["HSCAN", small, "x"],
                    ["HSCAN", small, "18446744073709551616"], ["HSCAN", small, 0, "COUNT", 0],
                    ["HSCAN", small, 0, "COUNT", "x"], ["HSCAN", small, 0, "foo"], ["HSCAN", small, 0, "MATCH"],
                    ["HSCAN", small, 0, "TYPE", "string"], ["HSCAN", missing, 0], ["HSCAN", missing, 0, "foo"],
                    ["HSCAN", missing, "x"]):
        pair.check(*command)


@pytest.mark.parametrize("count", [1, 10, 1000])
def test_hscan_of_a_hashtable_visits_every_field_once(pair: Pair, count: int) -> None:
    big = pair.key("big")
    fields = {b"field:%d" % i: b"%d" % i for i in range(700)}
    pair.check("HSET", big, *[x for item in fields.items() for x in item])
    for side in (pair.ref, pair.ours):
        seen: dict[bytes, bytes] = {}
        cursor = b"0"
        calls = 0
        while True:
            cursor, page = side.conn.call("HSCAN", big, cursor, "COUNT", count)
            for field, value in zip(page[::2], page[1::2], strict=True):
                seen[field] = value
            calls += 1
            if cursor == b"0":
                break
        assert seen == fields
        assert calls >= len(fields) // (count * 10)     # paged, not one reply (the reference does ~count)


def test_hscan_keeps_its_guarantee_while_the_hash_changes() -> None:
    """Fields present for the whole scan are returned, whatever is added or deleted meanwhile."""
    from specredis.engine.types.hash import HashValue

    value = HashValue()
    for i in range(500):
        value.set(b"keep:%d" % i, b"v", 0, 64)
    rng = random.Random(3)
    seen: set[bytes] = set()
    cursor = 0
    while True:
        cursor, page = value.scan(cursor, 7)
        seen.update(field for field, _ in page)
        for _ in range(5):
            value.set(b"tmp:%d" % rng.randrange(10**6), b"x", 0, 64)
        for field in [f for f in value.table if f.startswith(b"tmp:")][:3]:
            value.delete(field)
        if cursor == 0:
            break
    assert {b"keep:%d" % i for i in range(500)} <= seen


def test_encodings_follow_the_listpack_limits(pair: Pair) -> None:
    pair.require("OBJECT", "ENCODING", "x")
    pair.require("CONFIG", "GET", "hash-max-listpack-entries")
    try:
        for name, value in (("hash-max-listpack-entries", 2), ("hash-max-ziplist-value", 3)):
            pair.check("CONFIG", "SET", name, value)
        h = [pair.key(f"h{i}") for i in range(8)]
        for command in (
            ["HSET", h[0], "a", 1, "b", 2], ["OBJECT", "ENCODING", h[0]], ["HSET", h[0], "c", 3],
            ["OBJECT", "ENCODING", h[0]], ["HDEL", h[0], "a", "b"], ["OBJECT", "ENCODING", h[0]],
            ["HSET", h[1], "aaaa", 1], ["OBJECT", "ENCODING", h[1]], ["HSET", h[2], "a", "1234"],
            ["OBJECT", "ENCODING", h[2]], ["HSET", h[3], "aaa", 1], ["HSETNX", h[3], "aaa", 12345],
            ["OBJECT", "ENCODING", h[3]], ["HSETNX", h[3], "abcd", 1], ["OBJECT", "ENCODING", h[3]],
            ["HSET", h[4], "a", 1], ["HINCRBY", h[4], "a", 12345], ["OBJECT", "ENCODING", h[4]],
            ["HSET", h[5], "a", 1], ["HINCRBYFLOAT", h[5], "a", "1.5"], ["OBJECT", "ENCODING", h[5]],
            ["HINCRBYFLOAT", h[5], "a", 10], ["OBJECT", "ENCODING", h[5]], ["CONFIG", "SET",
                                                                           "hash-max-listpack-entries", 0],
            ["HSET", h[6], "a", 1], ["OBJECT", "ENCODING", h[6]], ["RPUSH", h[7], 1], ["OBJECT", "ENCODING", h[7]],
        ):
            pair.check(*command)
    finally:
        pair.both("CONFIG", "SET", "hash-max-listpack-entries", 512)
        pair.both("CONFIG", "SET", "hash-max-listpack-value", 64)


def test_random_operations_agree(pair: Pair) -> None:
    rng = random.Random(9000 + pair.protocol)
    h = pair.key("h")
    fields = [b"f%d" % i for i in range(40)] + [b"\x00x", b"y\x02"]
    for _ in range(500):
        field = rng.choice(fields)
        command = rng.choice([
            ["HSET", h, field, rng.choice([b"v", b"1", b"-2.5", b"x" * rng.randint(0, 90)])],
            ["HSETNX", h, field, b"nx"], ["HGET", h, field], ["HDEL", h, field, rng.choice(fields)],
            ["HINCRBY", h, field, rng.randint(-5, 5)], ["HINCRBYFLOAT", h, field, rng.choice(["0.5", "-1.25", "3"])],
            ["HMGET", h, field, rng.choice(fields)], ["HLEN", h], ["HSTRLEN", h, field], ["HEXISTS", h, field],
            ["HGETALL", h], ["HKEYS", h], ["HVALS", h],
        ])
        expected, actual = pair.both(*command)
        if command[0] in ("HGETALL", "HKEYS", "HVALS") and not isinstance(expected, RespError):
            # Past the listpack limits the order is the hash table's: compare as multisets.
            expected, actual = _multiset(expected), _multiset(actual)
        assert actual == expected, (command, expected, actual)


def _multiset(reply: object) -> list:
    if isinstance(reply, RMap):
        return sorted(reply.pairs)
    return sorted(reply)


def test_debug_digest_matches_the_reference(pair: Pair) -> None:
    small, big = pair.key("small"), pair.key("big")
    pair.check("HSET", small, "a", 1, "b", "two", "\x00", "\x02")
    pair.check("HSET", big, *[x for i in range(600) for x in (f"f{i}", i)])
    pair.check("DEBUG", "DIGEST-VALUE", small, big)
