"""Lists, differentially: the same commands to specredis and to Redis 7.0.15, RESP2 and RESP3."""

from __future__ import annotations

import random

from lists.differential import Pair


def test_push_pop_and_length(pair: Pair) -> None:
    k, other = pair.key("l"), pair.key("other")
    pair.run(
        ["RPUSH", k, "a", "b", "c"], ["LPUSH", k, "z", "y"], ["LLEN", k], ["LRANGE", k, 0, -1],
        ["LPUSHX", other, "x"], ["RPUSHX", other, "x"], ["LPUSHX", k, "p", "q"], ["RPUSHX", k, "r"],
        ["LRANGE", k, 0, -1], ["LPOP", k], ["RPOP", k], ["LPOP", k, 2], ["RPOP", k, 0], ["RPOP", k, 100],
        ["LLEN", k], ["LPOP", k], ["LPOP", k, 0], ["LPOP", k, 3], ["RPOP", other], ["LLEN", other],
        ["lpush", k, "lower"], ["Lpop", k],
    )


def test_pop_errors(pair: Pair) -> None:
    k = pair.key("l")
    pair.run(["RPUSH", k, "a"], ["LPOP", k, -1], ["LPOP", k, "x"], ["LPOP", k, 1, 2], ["RPOP", k, "1.5"],
             ["LPOP"], ["RPOP", k, "9223372036854775808"], ["LRANGE", k, 0, -1])


def test_lrange_and_lindex_bounds(pair: Pair) -> None:
    k = pair.key("l")
    pair.check("RPUSH", k, *range(10))
    for start, stop in [(0, -1), (-100, 100), (2, 1), (5, 10), (-1, -1), (-3, -2), (9, 9), (10, 20),
                        (-20, -11), (0, 0), (3, -4)]:
        pair.check("LRANGE", k, start, stop)
    for index in [0, 9, 10, -1, -10, -11, 4]:
        pair.check("LINDEX", k, index)
    pair.run(["LRANGE", k, 0, "abc"], ["LRANGE", k, "1.0", 2], ["LINDEX", k, "x"],
             ["LINDEX", k, "9223372036854775808"], ["LINDEX", pair.key("missing"), "x"],
             ["LRANGE", pair.key("missing"), 0, -1])


def test_lset_linsert_lrem_ltrim(pair: Pair) -> None:
    k, missing = pair.key("l"), pair.key("missing")
    pair.run(
        ["RPUSH", k, 1, 2, 3, 2, 1, 2], ["LSET", k, 0, "first"], ["LSET", k, -1, "last"], ["LSET", k, 6, "x"],
        ["LSET", k, -7, "x"], ["LSET", k, "x", "y"], ["LSET", missing, 0, "a"], ["LSET", missing, "x", "a"],
        ["LINSERT", k, "BEFORE", 2, "b"], ["LINSERT", k, "after", 3, "c"], ["LINSERT", k, "before", "zz", "n"],
        ["LINSERT", k, "middle", 2, "n"], ["LINSERT", missing, "before", 1, "n"], ["LINSERT", missing, "x", 1, "n"],
        ["LRANGE", k, 0, -1], ["LREM", k, 1, 2], ["LREM", k, -1, 2], ["LRANGE", k, 0, -1], ["LREM", k, 0, 1],
        ["LREM", k, 0, "nothere"], ["LREM", k, "x", 1], ["LREM", missing, 0, 1], ["LRANGE", k, 0, -1],
        ["LTRIM", k, 1, -2], ["LRANGE", k, 0, -1], ["LTRIM", k, "a", 1], ["LTRIM", missing, 0, 1],
        ["LTRIM", k, 5, 10], ["LLEN", k], ["LRANGE", k, 0, -1],
    )


def test_lrem_count_directions(pair: Pair) -> None:
    k = pair.key("l")
    for count in (2, -2, 0, 5, -5):
        pair.check("RPUSH", k, "a", "b", "a", "c", "a", "b", "a")
        pair.check("LREM", k, count, "a")
        pair.check("LRANGE", k, 0, -1)
        pair.check("LTRIM", k, 1, 0)


def test_lpos(pair: Pair) -> None:
    k, missing = pair.key("l"), pair.key("missing")
    pair.check("RPUSH", k, "a", "b", "c", "a", "b", "a")
    for options in (
        [], ["RANK", 2], ["RANK", -1], ["RANK", -2], ["RANK", 5], ["COUNT", 0], ["COUNT", 2], ["RANK", -1, "COUNT", 0],
        ["RANK", 2, "COUNT", 0, "MAXLEN", 4], ["RANK", -2, "COUNT", 2, "MAXLEN", 3], ["MAXLEN", 1],
        ["RANK", -1, "MAXLEN", 1], ["RANK", "-9223372036854775808"], ["RANK", "-9223372036854775807"],
        ["RANK", 1, "RANK", 2], ["rank", 0], ["COUNT", -1], ["MAXLEN", -1], ["COUNT", "x"], ["MAXLEN", "x"],
        ["RANK", "x"], ["foo"], ["RANK"], ["COUNT", 1, "bar", 2],
    ):
        pair.check("LPOS", k, "a", *options)
        pair.check("LPOS", k, "b", *options)
    pair.run(["LPOS", missing, "a"], ["LPOS", missing, "a", "COUNT", 0], ["LPOS", missing, "a", "RANK", 0],
             ["LPOS", k, "zz", "COUNT", 0], ["LPOS", k, "zz"])


def test_lmove_and_rpoplpush(pair: Pair) -> None:
    src, dst, missing = pair.key("src"), pair.key("dst"), pair.key("missing")
    pair.run(["RPUSH", src, 1, 2, 3, 4])
    for wherefrom in ("LEFT", "RIGHT"):
        for whereto in ("LEFT", "right"):
            pair.check("LMOVE", src, dst, wherefrom, whereto)
    pair.run(
        ["LRANGE", src, 0, -1], ["LRANGE", dst, 0, -1], ["LMOVE", dst, dst, "LEFT", "RIGHT"], ["LRANGE", dst, 0, -1],
        ["RPOPLPUSH", dst, src], ["RPOPLPUSH", missing, src], ["LMOVE", missing, dst, "LEFT", "LEFT"],
        ["LMOVE", src, dst, "up", "LEFT"], ["LMOVE", missing, dst, "x", "x"], ["LRANGE", src, 0, -1],
        ["LPOP", src, 10], ["LMOVE", dst, dst, "LEFT", "LEFT"], ["LLEN", src], ["LRANGE", dst, 0, -1],
    )
    single = pair.key("single")
    pair.run(["RPUSH", single, "only"], ["LMOVE", single, single, "LEFT", "RIGHT"], ["LRANGE", single, 0, -1])


def test_lmpop(pair: Pair) -> None:
    a, b, missing = pair.key("a"), pair.key("b"), pair.key("missing")
    pair.run(
        ["RPUSH", b, 1, 2, 3, 4, 5], ["LMPOP", 2, a, b, "LEFT"], ["LMPOP", 2, a, b, "RIGHT", "COUNT", 2],
        ["LMPOP", 1, b, "left", "count", 10], ["LMPOP", 2, a, b, "LEFT"], ["LMPOP", 1, missing, "LEFT", "COUNT", 3],
        ["LMPOP", 0, a, "LEFT"], ["LMPOP", -1, a, "LEFT"], ["LMPOP", "x", a, "LEFT"], ["LMPOP", 2, a, "LEFT"],
        ["LMPOP", 1, a, "MIDDLE"], ["LMPOP", 1, a, "LEFT", "COUNT", 0], ["LMPOP", 1, a, "LEFT", "COUNT", -1],
        ["LMPOP", 1, a, "LEFT", "COUNT", 1, "COUNT", 2], ["LMPOP", 1, a, "LEFT", "foo"], ["LMPOP", 1, a],
        ["LMPOP", 1, a, "LEFT", "COUNT"], ["LMPOP", 1, a, "LEFT", "COUNT", "9223372036854775808"],
        ["LMPOP", "9223372036854775807", a, "LEFT"],
    )


def test_wrong_type(pair: Pair) -> None:
    h, k = pair.key("h"), pair.key("l")
    pair.run(["HSET", h, "f", "v"], ["RPUSH", k, "a"])
    for command in (
        ["LPUSH", h, "a"], ["RPUSHX", h, "a"], ["LPOP", h], ["RPOP", h, 2], ["LLEN", h], ["LRANGE", h, 0, -1],
        ["LINDEX", h, 0], ["LSET", h, 0, "a"], ["LINSERT", h, "BEFORE", "a", "b"], ["LREM", h, 0, "a"],
        ["LTRIM", h, 0, 1], ["LPOS", h, "a"], ["LMOVE", h, k, "LEFT", "LEFT"], ["LMOVE", k, h, "LEFT", "LEFT"],
        ["RPOPLPUSH", k, h], ["LMPOP", 2, h, k, "LEFT"], ["LMPOP", 2, k, h, "LEFT"], ["BLPOP", h, 0],
        ["BRPOP", k, h, 0], ["BLMOVE", h, k, "LEFT", "LEFT", 0], ["BLMPOP", 0, 1, h, "LEFT"],
    ):
        pair.check(*command)
    pair.check("LRANGE", k, 0, -1)


def test_arity(pair: Pair) -> None:
    k = pair.key("l")
    for command in (["LPUSH", k], ["RPUSH"], ["LINDEX", k], ["LSET", k, 0], ["LINSERT", k, "BEFORE", "a"],
                    ["LRANGE", k, 0], ["LPOS", k], ["LMOVE", k, k, "LEFT"], ["BLPOP", k], ["BLMPOP", 0, 1],
                    ["RPOPLPUSH", k], ["LREM", k, 0], ["LTRIM", k, 0]):
        pair.check(*command)


def test_timeout_argument_errors(pair: Pair) -> None:
    k = pair.key("l")
    pair.check("RPUSH", k, *range(30))      # never empty: a valid timeout must not block
    for timeout in ("x", "-1", "inf", "-inf", "nan", "1e400", " 1", "9223372036854775807", "0.0001x", "",
                    "0x1p-3", "1.", ".5", "0", "1e-10"):
        pair.check("BLPOP", k, timeout)
        pair.check("BLMOVE", k, k, "LEFT", "RIGHT", timeout)
        pair.check("BLMPOP", timeout, 1, k, "LEFT")
        pair.check("BRPOPLPUSH", k, k, timeout)
    pair.check("LRANGE", k, 0, -1)


def test_random_operations_agree(pair: Pair) -> None:
    """Seeded random sequences over big and small lists: every reply and the final contents."""
    rng = random.Random(7000 + pair.protocol)
    k, other = pair.key("l"), pair.key("o")
    values = [b"v%d" % i for i in range(12)]
    pair.check("RPUSH", k, *[rng.choice(values) for _ in range(300)])
    for _ in range(600):
        n = rng.randint(-320, 320)
        command = rng.choice([
            ["LPUSH", k, *rng.sample(values, 3)], ["RPUSH", k, rng.choice(values)], ["LPOP", k],
            ["RPOP", k, rng.randint(0, 4)], ["LINDEX", k, n], ["LSET", k, n, rng.choice(values)],
            ["LRANGE", k, n, rng.randint(-320, 320)], ["LINSERT", k, rng.choice(["BEFORE", "AFTER"]),
                                                       rng.choice(values), b"new"],
            ["LREM", k, rng.randint(-3, 3), rng.choice(values)], ["LPOS", k, rng.choice(values), "RANK",
                                                                  rng.choice([1, 2, -1, -3]), "COUNT", 2],
            ["LMOVE", k, other, rng.choice(["LEFT", "RIGHT"]), rng.choice(["LEFT", "RIGHT"])],
            ["LMOVE", other, k, "LEFT", "RIGHT"], ["LLEN", k], ["LTRIM", k, 0, rng.randint(150, 400)],
            ["LMPOP", 2, other, k, rng.choice(["LEFT", "RIGHT"]), "COUNT", rng.randint(1, 3)],
        ])
        pair.check(*command)
    pair.check("LRANGE", k, 0, -1)
    pair.check("LRANGE", other, 0, -1)


def test_debug_digest_matches_the_reference(pair: Pair) -> None:
    k, e = pair.key("l"), pair.key("e")
    pair.run(["RPUSH", k, "a", "b", "", "\x00", "12", "-3"], ["LPUSH", k, "z"], ["RPUSH", e, "x"], ["LPOP", e])
    pair.check("DEBUG", "DIGEST-VALUE", k, e)
    pair.check("PEXPIRE", k, 100000)
    pair.check("DEBUG", "DIGEST-VALUE", k)
