"""Sorted sets, differentially: the same commands to specredis and to Redis 7.0.15, RESP2 and RESP3.

Scores travel as doubles in RESP3 and as ``%.17g`` text in RESP2; WITHSCORES
replies are nested pairs in RESP3 and flat in RESP2. Every reply, error text and
encoding below is compared with the reference's.
"""

from __future__ import annotations

import random

from zsets.differential import Pair


def test_zadd_flags_and_their_errors(pair: Pair) -> None:
    z = pair.key("z")
    pair.run(
        ["ZADD", z, 1, "a", 2, "b", 3, "c"],
        ["ZADD", z, "NX", "XX", 1, "a"], ["ZADD", z, "GT", "LT", 1, "a"], ["ZADD", z, "nx", "gt", 1, "a"],
        ["ZADD", z, "NX", "LT", 1, "a"], ["ZADD", z, "INCR", 1, "a", 2, "b"], ["ZADD", z, 1, "a", 2],
        ["ZADD", z, "CH", 1], ["ZADD", z, "x", "a"], ["ZADD", z, "nan", "a"], ["ZADD", z, 1, "a", "x"],
        ["ZADD", z, "CH"], ["ZADD", z, "INCR"],
        ["ZADD", z, "GT", "CH", "INCR", 1, "a"], ["ZADD", z, 1, "a"], ["ZADD", z, "XX", 1, "nob"],
        ["ZADD", z, "CH", 2, "a", 3, "b"], ["ZADD", z, "GT", "CH", 1, "a", 5, "b"],
        ["ZADD", z, "LT", "CH", 1, "a", 5, "b"], ["ZADD", z, "GT", "INCR", -1, "a"],
        ["ZADD", z, "LT", "INCR", -1, "a"], ["ZADD", z, "LT", "INCR", 1, "a"], ["ZADD", z, "NX", "INCR", 1, "a"],
        ["ZADD", z, "XX", "INCR", 1, "a"], ["ZADD", z, "xx", "gt", "ch", 10, "a", 10, "new"],
        ["ZADD", z, "XX", "LT", 0, "a", 0, "b"], ["ZADD", z, "NX", 9, "a", 9, "d"],
        ["ZRANGE", z, 0, -1, "WITHSCORES"], ["ZCARD", z],
    )
    missing = pair.key("missing")
    pair.run(["ZADD", missing, "XX", 1, "a"], ["ZADD", missing, "XX", "INCR", 1, "a"], ["EXISTS", missing],
             ["ZADD", missing, "GT", 1, "a"], ["ZRANGE", missing, 0, -1, "WITHSCORES"])


def test_score_syntax_and_formatting(pair: Pair) -> None:
    z = pair.key("z")
    for score in ["1e400", "-1e400", "1e-400", "3e-324", "0x10", "-0X1P-2", "0x1.8p1", " 1", "1 ", "",
                  "+inf", "-INF", "+Infinity", "infinity", "inf ", "1_0", "1.5e", ".5", "5.", "+5",
                  "0.1", "1e17", "123456789012345678", "-0", "4611686018427387904", "1e20", "nan", "-nan",
                  "2.5e-300", "1.7976931348623157e308", "9223372036854775807"]:
        pair.check("ZADD", z, score, "m:" + score)
    pair.run(["ZRANGE", z, 0, -1, "WITHSCORES"], ["ZSCORE", z, "m:0.1"], ["ZSCORE", z, "m:-0"],
             ["ZSCAN", z, 0])
    pair.check_encoding(z)
    pair.check_digest(z)


def test_zincrby_and_zadd_incr(pair: Pair) -> None:
    z = pair.key("z")
    pair.run(
        ["ZINCRBY", z, 0.1, "a"], ["ZINCRBY", z, 0.2, "a"], ["ZSCORE", z, "a"], ["ZINCRBY", z, "x", "a"],
        ["ZINCRBY", z, "inf", "a"], ["ZINCRBY", z, "-inf", "a"], ["ZINCRBY", z, "nan", "a"], ["ZSCORE", z, "a"],
        ["ZINCRBY", z, 1], ["ZINCRBY", z, 1, "b", "c"], ["ZADD", z, "INCR", "-0", "n"], ["ZSCORE", z, "n"],
        ["ZINCRBY", z, "-0", "z0"], ["ZINCRBY", z, "1e308", "big"], ["ZINCRBY", z, "1e308", "big"],
        ["ZRANGE", z, 0, -1, "WITHSCORES"],
    )


def test_negative_zero_depends_on_the_encoding(pair: Pair) -> None:
    lp, sl, dst = pair.key("lp"), pair.key("sl"), pair.key("dst")
    pair.run(["ZADD", lp, "-0", "b", "-0.0", "c", 0, "a"], ["ZRANGE", lp, 0, -1, "WITHSCORES"],
             ["ZSCORE", lp, "b"], ["ZSCAN", lp, 0])
    members = [x for i in range(130) for x in (0, f"m{i}")]
    pair.run(["ZADD", sl, *members], ["ZADD", sl, "-0", "neg"], ["ZSCORE", sl, "neg"],
             ["ZRANGE", sl, 0, 3, "WITHSCORES"], ["ZREM", sl, *[f"m{i}" for i in range(130)]],
             ["OBJECT", "ENCODING", sl], ["ZUNIONSTORE", dst, 1, sl], ["ZSCORE", dst, "neg"],
             ["OBJECT", "ENCODING", dst], ["ZUNION", 1, sl, "WITHSCORES"],
             ["ZUNIONSTORE", dst, 1, lp, "WEIGHTS", -1], ["ZRANGE", dst, 0, -1, "WITHSCORES"])
    pair.check_digest(lp, sl, dst)


def test_reads(pair: Pair) -> None:
    z, missing, s = pair.key("z"), pair.key("missing"), pair.key("str")
    pair.run(
        ["ZADD", z, 1, "a", 2, "b", 2, "c", 3, "d"], ["ZCARD", z], ["ZCARD", missing], ["ZSCORE", z, "c"],
        ["ZSCORE", z, "x"], ["ZSCORE", missing, "a"], ["ZMSCORE", z, "a", "x", "d"], ["ZMSCORE", missing, "a", "b"],
        ["ZMSCORE", z], ["ZRANK", z, "c"], ["ZREVRANK", z, "c"], ["ZRANK", z, "x"], ["ZRANK", missing, "a"],
        ["ZREVRANK", z, "a"], ["ZRANK", z, "a", "withscore"], ["ZCOUNT", z, "-inf", "+inf"], ["ZCOUNT", z, "(1", 2],
        ["ZCOUNT", z, 2, "(2"], ["ZCOUNT", z, 3, 1], ["ZCOUNT", z, "x", 1], ["ZCOUNT", missing, 0, 1],
        ["SET", s, "x"], ["ZCARD", s], ["ZSCORE", s, "a"], ["ZMSCORE", s, "a"], ["ZRANK", s, "a"],
        ["ZCOUNT", s, 0, 1], ["ZCOUNT", s, "x", 1], ["ZLEXCOUNT", s, "-", "+"],
    )


def test_score_ranges(pair: Pair) -> None:
    z = pair.key("z")
    pair.check("ZADD", z, *[x for i in range(12) for x in (i % 5, f"m{i:02}")], "-inf", "lo", "inf", "hi")
    for low, high in [("-inf", "+inf"), ("(1", "3"), ("1", "(3"), ("(1", "(1"), ("2", "2"), ("3", "1"),
                      ("", "+inf"), ("(", "+inf"), ("  5", "+inf"), ("1e400", "+inf"), ("-1e400", "1e400"),
                      ("0x1", "0X3"), ("-inf", "-inf"), ("(-inf", "(inf")]:
        pair.check("ZRANGEBYSCORE", z, low, high, "WITHSCORES")
        pair.check("ZREVRANGEBYSCORE", z, high, low)
        pair.check("ZCOUNT", z, low, high)
    for bad in ["  ", "((1", "1 ", "nan", "a", "(nan", "1_0"]:
        pair.check("ZRANGEBYSCORE", z, bad, "+inf")
        pair.check("ZCOUNT", z, 0, bad)
    for offset, count in [(0, 1), (2, 3), (-1, 2), (1, 0), (4, -5), (100, 1), (0, -1)]:
        pair.check("ZRANGEBYSCORE", z, "-inf", "+inf", "LIMIT", offset, count)
        pair.check("ZREVRANGEBYSCORE", z, "+inf", "-inf", "WITHSCORES", "LIMIT", offset, count)
        pair.check("ZRANGE", z, "(0", 3, "BYSCORE", "LIMIT", offset, count)
        pair.check("ZRANGE", z, 3, "(0", "BYSCORE", "REV", "LIMIT", offset, count, "WITHSCORES")
    pair.run(["ZRANGEBYSCORE", z, 1, 2, "LIMIT"], ["ZRANGEBYSCORE", z, 1, 2, "LIMIT", 0],
             ["ZRANGEBYSCORE", z, 1, 2, "LIMIT", "x", 1], ["ZRANGEBYSCORE", z, 1, 2, "foo"],
             ["ZRANGEBYSCORE", z, 1, 2, "WITHSCORES", "LIMIT", 0, 1, "LIMIT", 1, 2],
             ["ZRANGEBYSCORE", z, 1, 2, "REV"], ["ZRANGEBYSCORE", z, 1, 2, "BYSCORE"])


def test_rank_ranges(pair: Pair) -> None:
    z, missing = pair.key("z"), pair.key("missing")
    pair.check("ZADD", z, *[x for i in range(10) for x in (i, f"m{i}")])
    for start, stop in [(0, -1), (-100, 100), (2, 1), (5, 20), (-1, -1), (-3, -2), (9, 9), (10, 20),
                        (-20, -11), (0, 0), (3, -4)]:
        pair.check("ZRANGE", z, start, stop)
        pair.check("ZRANGE", z, start, stop, "REV", "WITHSCORES")
        pair.check("ZREVRANGE", z, start, stop, "WITHSCORES")
    pair.run(["ZRANGE", z, "x", 1], ["ZRANGE", z, 0, "1.5"], ["ZRANGE", z, 0, 1, "LIMIT", 0, 1],
             ["ZRANGE", z, 0, 1, "LIMIT", 1, -1], ["ZRANGE", z, 0, 1, "LIMIT", -1, -1], ["ZRANGE", z, 0, 1, "LIMIT", 0, 0],
             ["ZRANGE", z, "", "", "LIMIT", 1, -1], ["ZRANGE", z, "x", "y", "LIMIT", 1, 1],
             ["ZREVRANGE", z, 0, 1, "LIMIT", 0, 1], ["ZRANGE", z, 0, 1, "BYSCORE", "BYLEX"],
             ["ZRANGE", z, 0, 1, "REV", "REV"], ["ZRANGE", z, 0, 1, "withscores", "withscores"],
             ["ZREVRANGE", z, 0, 1, "REV"], ["ZREVRANGE", z, 0, 1, "BYSCORE"], ["ZRANGE", missing, 0, -1],
             ["ZRANGE", z, 0, 1, "foo"], ["zrange", z, 0, 1, "WithScores"])


def test_lex_ranges(pair: Pair) -> None:
    z, mixed = pair.key("z"), pair.key("mixed")
    pair.check("ZADD", z, *[x for c in "abcdefg" for x in (0, c)], 0, "", 0, "b\x00", 0, "\xff")
    for low, high in [("-", "+"), ("[b", "(e"), ("(b", "[e"), ("[c", "[a"), ("[b", "[b"), ("(b", "(b"),
                      ("(b", "[b"), ("-", "-"), ("+", "+"), ("+", "-"), ("(a", "+"), ("[", "("), ("[", "["),
                      ("(", "+"), ("[b\x00", "+"), ("-", "[\xff")]:
        pair.check("ZRANGEBYLEX", z, low, high)
        pair.check("ZREVRANGEBYLEX", z, high, low)
        pair.check("ZLEXCOUNT", z, low, high)
        pair.check("ZRANGE", z, low, high, "BYLEX", "LIMIT", 1, 3)
        pair.check("ZRANGE", z, high, low, "BYLEX", "REV", "LIMIT", 1, 2)
    for bad in ["a", "", "x[", "+a", "-a"]:
        pair.check("ZRANGEBYLEX", z, bad, "+")
        pair.check("ZLEXCOUNT", z, "-", bad)
    pair.run(["ZRANGEBYLEX", z, "-", "+", "WITHSCORES"], ["ZRANGE", z, "-", "+", "BYLEX", "WITHSCORES"],
             ["ZRANGEBYLEX", z, "-", "+", "LIMIT", 0, 1, 2], ["ZRANGEBYLEX", z, "-", "+", "LIMIT", -1, 2],
             ["ZRANGE", z, 0, 1, "BYLEX"])
    # Mixed scores: Redis's listpack walk decides (the result is "undefined" but deterministic).
    pair.check("ZADD", mixed, 1, "a", 2, "b", 0, "c", 5, "d", 3, "e")
    for low, high in [("-", "+"), ("[b", "[d"), ("[a", "(c"), ("(a", "+")]:
        pair.check("ZRANGEBYLEX", mixed, low, high)
        pair.check("ZREVRANGEBYLEX", mixed, high, low)
        pair.check("ZLEXCOUNT", mixed, low, high)


def test_zrangestore(pair: Pair) -> None:
    z, dst, missing = pair.key("z"), pair.key("dst"), pair.key("missing")
    pair.check("ZADD", z, *[x for i in range(200) for x in (i % 7, f"m{i:03}")])
    pair.run(
        ["ZRANGESTORE", dst, z, 0, 9], ["ZRANGE", dst, 0, -1, "WITHSCORES"], ["OBJECT", "ENCODING", dst],
        ["ZRANGESTORE", dst, z, 0, -1], ["OBJECT", "ENCODING", dst], ["ZCARD", dst],
        ["ZRANGESTORE", dst, z, "(2", 4, "BYSCORE", "LIMIT", 3, 5], ["ZRANGE", dst, 0, -1, "WITHSCORES"],
        ["ZRANGESTORE", dst, z, 4, "(2", "BYSCORE", "REV"], ["ZCARD", dst],
        ["ZRANGESTORE", dst, z, 0, 1, "WITHSCORES"], ["ZRANGESTORE", dst, z, 100, 200],
        ["EXISTS", dst], ["ZRANGESTORE", dst, missing, 0, -1], ["ZRANGESTORE", dst, z, "x", 1],
        ["SET", dst, "string"], ["ZRANGESTORE", dst, z, 0, 0], ["TYPE", dst],
    )
    pair.check_digest(dst)


def test_zrem_and_zremrange(pair: Pair) -> None:
    z, missing, s = pair.key("z"), pair.key("missing"), pair.key("s")
    members = [x for i in range(20) for x in (i, f"m{i:02}")]
    pair.run(
        ["ZADD", z, *members], ["ZREM", z, "m00", "nosuch", "m00"], ["ZREM", missing, "a"],
        ["ZREMRANGEBYRANK", z, 0, 0], ["ZREMRANGEBYRANK", z, -2, -1], ["ZREMRANGEBYRANK", z, 100, 200],
        ["ZREMRANGEBYRANK", z, 5, 2], ["ZREMRANGEBYRANK", z, "a", 1], ["ZREMRANGEBYRANK", missing, 0, 1],
        ["ZREMRANGEBYSCORE", z, "(3", 5], ["ZREMRANGEBYSCORE", z, "x", 1], ["ZREMRANGEBYSCORE", z, 100, 200],
        ["ZRANGE", z, 0, -1, "WITHSCORES"], ["ZADD", z, 0, "a", 0, "b", 0, "c"],
        ["ZREMRANGEBYLEX", z, "a", "b"], ["ZREMRANGEBYLEX", z, "[a", "(c"], ["ZRANGE", z, 0, -1],
        ["ZREMRANGEBYSCORE", z, "-inf", "+inf"], ["EXISTS", z],
        ["SET", s, "x"], ["ZREM", s, "a"], ["ZREMRANGEBYRANK", s, 0, 1], ["ZREMRANGEBYRANK", s, "x", 1],
        ["ZREMRANGEBYSCORE", s, "x", 1], ["ZREMRANGEBYLEX", s, "-", "+"],
    )


def test_pops(pair: Pair) -> None:
    z, missing = pair.key("z"), pair.key("missing")
    pair.run(
        ["ZADD", z, 1, "a", 2, "b", 3, "c", 4, "d", 5, "e", 6, "f"], ["ZPOPMIN", z], ["ZPOPMIN", z, 2],
        ["ZPOPMAX", z], ["ZPOPMAX", z, 10], ["EXISTS", z], ["ZPOPMIN", z], ["ZPOPMIN", z, 3],
        ["ZPOPMIN", missing, 0], ["ZPOPMIN", z, 0], ["ZPOPMIN", z, -1], ["ZPOPMIN", z, "x"],
        ["ZPOPMIN", z, 1, 2], ["ZADD", z, 1, "a", 2, "b", 3, "c", 4, "d", 5, "e", 6, "f"],
        ["ZMPOP", 1, z, "MIN"], ["ZMPOP", 2, missing, z, "max", "COUNT", 2], ["ZMPOP", 1, z, "MIN", "COUNT", 10],
        ["EXISTS", z], ["ZMPOP", 1, z, "MIN"], ["ZMPOP", 0, z, "MIN"], ["ZMPOP", "x", z, "MIN"],
        ["ZMPOP", 2, z, "MIN"], ["ZMPOP", 1, z, "foo"], ["ZMPOP", 1, z, "MIN", "COUNT", 0],
        ["ZMPOP", 1, z, "MIN", "COUNT", -1], ["ZMPOP", 1, z, "MIN", "COUNT", "x"],
        ["ZMPOP", 1, z, "MIN", "COUNT", 1, "COUNT", 2], ["ZMPOP", 1, z, "MIN", "foo", 1],
        ["ZMPOP", 1, z, "MIN", "COUNT"], ["ZADD", z, 1, "a"], ["SET", missing, "x"], ["ZMPOP", 2, missing, z, "MIN"],
        ["ZMPOP", 2, z, missing, "MIN"], ["ZPOPMAX", missing],
    )


def test_non_blocking_paths_of_blocking_pops(pair: Pair) -> None:
    z, missing = pair.key("z"), pair.key("missing")
    pair.run(
        ["ZADD", z, 1, "a", 2, "b", 3, "c"], ["BZPOPMIN", missing, z, 0], ["BZPOPMAX", z, 0],
        ["BZMPOP", 0, 1, z, "MAX", "COUNT", 5], ["BZMPOP", 0, 0, z, "MAX"], ["BZMPOP", "x", 1, z, "MAX"],
        ["BZPOPMIN", z, -1], ["BZPOPMIN", z, "x"], ["BZPOPMIN", z, "inf"], ["BZMPOP", 0, 2, z, "MIN"],
        ["BZMPOP", 0, 1, z, "MIN", "COUNT", 0], ["SET", missing, "x"], ["BZPOPMIN", missing, z, 0],
        ["BZMPOP", 1, 1, missing, "MIN"],
    )
    # Inside MULTI a blocking pop never blocks: it answers as on timeout.
    pair.run(["MULTI"], ["BZPOPMIN", pair.key("empty"), 0], ["BZMPOP", 0, 1, pair.key("empty"), "MIN"],
             ["BZPOPMAX", z, 0], ["EXEC"])


def test_zrandmember(pair: Pair) -> None:
    z, missing, s = pair.key("z"), pair.key("missing"), pair.key("s")
    names = [f"m{i}".encode() for i in range(10)]
    pair.check("ZADD", z, *[x for i, m in enumerate(names) for x in (i, m)])
    pair.check_random("ZRANDMEMBER", z, universe=names)
    for count in (1, 3, 10, 15, -3, -15):
        pair.check_random("ZRANDMEMBER", z, count, universe=names, distinct=count > 0)
    pair.check_random("ZRANDMEMBER", z, 3, "WITHSCORES")
    pair.check_random("ZRANDMEMBER", z, -20, "WITHSCORES")
    pair.check_random("ZRANDMEMBER", z, 20, "withscores")
    pair.run(["ZRANDMEMBER", missing], ["ZRANDMEMBER", missing, 3], ["ZRANDMEMBER", missing, 3, "WITHSCORES"],
             ["ZRANDMEMBER", z, 0], ["ZRANDMEMBER", z, 0, "WITHSCORES"], ["ZRANDMEMBER", z, "x"],
             ["ZRANDMEMBER", z, 1, "foo"], ["ZRANDMEMBER", z, 1, "WITHSCORES", "x"],
             ["ZRANDMEMBER", z, "x", "WITHSCORES"], ["ZRANDMEMBER", z, "-9223372036854775808"],
             ["ZRANDMEMBER", z, "4611686018427387904", "WITHSCORES"],
             ["ZRANDMEMBER", z, "-4611686018427387904", "WITHSCORES"], ["SET", s, "x"], ["ZRANDMEMBER", s],
             ["ZRANDMEMBER", s, 1])


def test_union_inter_diff(pair: Pair) -> None:
    u1, u2, s1, dst, missing, st = (pair.key(n) for n in ("u1", "u2", "s1", "dst", "missing", "str"))
    pair.run(["ZADD", u1, 1, "a", 2, "b", 3, "c"], ["ZADD", u2, 10, "b", 20, "c", 30, "d"],
             ["SADD", s1, "a", "d", "e"], ["SET", st, "x"])
    for op in ("ZUNION", "ZINTER"):
        for tail in ([], ["WITHSCORES"], ["WEIGHTS", 2, 3, "WITHSCORES"], ["AGGREGATE", "MIN", "WITHSCORES"],
                     ["AGGREGATE", "max", "WITHSCORES"], ["weights", 1, -1, "aggregate", "sum", "withscores"],
                     ["WEIGHTS", 2], ["WEIGHTS", 2, "x"], ["AGGREGATE", "avg"], ["AGGREGATE"], ["WITHSCORES", "x"]):
            pair.check(op, 2, u1, u2, *tail)
        pair.check(op, 3, u1, u2, s1, "WITHSCORES")
        pair.check(op, 2, u1, missing, "WITHSCORES")
        pair.check(op, 2, u1, u1, "WEIGHTS", 1, 2, "WITHSCORES")
    pair.run(["ZDIFF", 2, u1, u2, "WITHSCORES"], ["ZDIFF", 2, u1, s1, "WITHSCORES"], ["ZDIFF", 1, u1, "WEIGHTS", 1],
             ["ZDIFF", 1, u1, "AGGREGATE", "SUM"], ["ZDIFF", 2, missing, u1], ["ZDIFF", 2, u1, u1],
             ["ZDIFF", 3, s1, u1, missing, "WITHSCORES"])
    for op in ("ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD"):
        pair.run([op, 0, u1], [op, -1, u1], [op, "x", u1], [op, 3, u1, u2], [op, 2, u1, st],
                 [op, 2, st, "WEIGHTS", "x"], [op.lower(), 1])
    for op in ("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"):
        pair.run([op, dst, 2, u1, u2], ["ZRANGE", dst, 0, -1, "WITHSCORES"], ["OBJECT", "ENCODING", dst],
                 [op, dst, 2, u1, u2, "WITHSCORES"], [op, dst, 0, u1], [op, dst, 3, u1, u2], [op, dst, 1, st],
                 [op, dst, 1, missing], ["EXISTS", dst], [op, dst, 2, u1, s1, "WEIGHTS", 0.5, "inf"],
                 ["ZRANGE", dst, 0, -1, "WITHSCORES"])
    pair.check_digest(dst)
    pair.run(["ZINTERCARD", 2, u1, u2], ["ZINTERCARD", 2, u1, u2, "LIMIT", 1], ["ZINTERCARD", 2, u1, u2, "LIMIT", 0],
             ["ZINTERCARD", 2, u1, u2, "LIMIT", -1], ["ZINTERCARD", 2, u1, u2, "LIMIT", "x"],
             ["ZINTERCARD", 2, u1, u2, "LIMIT"], ["ZINTERCARD", 2, u1, u2, "WITHSCORES"], ["ZINTERCARD", 1, missing],
             ["ZINTERCARD", 2, u1, s1], ["ZINTERCARD", 2, u1, u2, "LIMIT", 5, "LIMIT", 1])


def test_infinities_and_nan_in_aggregates(pair: Pair) -> None:
    a, b = pair.key("a"), pair.key("b")
    pair.run(["ZADD", a, "inf", "x", "-inf", "y", 0, "z"], ["ZADD", b, "-inf", "x", "inf", "y", "inf", "z"])
    for tail in (["WITHSCORES"], ["WEIGHTS", 0, 1, "WITHSCORES"], ["AGGREGATE", "MIN", "WITHSCORES"],
                 ["AGGREGATE", "MAX", "WITHSCORES"], ["WEIGHTS", "-inf", "inf", "WITHSCORES"]):
        pair.check("ZUNION", 2, a, b, *tail)
        pair.check("ZINTER", 2, a, b, *tail)


def test_sums_follow_the_reference_order() -> None:
    """Float sums depend on the order of addition: sources are added smallest first, as Redis does."""
    from specredis.engine.types.zset import _combine, _from_entries

    small = _from_entries([(0.1, b"x")])
    large = _from_entries([(0.2, b"x"), (1.0, b"y")])
    mid = _from_entries([(0.3, b"x"), (2.0, b"z")])
    result = _combine("union", [large, mid, small], [1.0, 1.0, 1.0], "sum")
    # smallest first: (0.1 + 0.2) + 0.3 = 0.6000000000000001; largest first would give 0.6.
    assert result.scores[b"x"] == (0.1 + 0.2) + 0.3


def test_zscan(pair: Pair) -> None:
    z, big, missing = pair.key("z"), pair.key("big"), pair.key("missing")
    pair.run(["ZADD", z, 0.1, "a", "1e20", "b", "inf", "c", 1.5, "d", "-0", "e", 3, "f", "1e17", "g"],
             ["ZSCAN", z, 0], ["ZSCAN", z, 0, "MATCH", "[a-c]"], ["ZSCAN", z, 0, "COUNT", 1],
             ["ZSCAN", z, 0, "COUNT", 0], ["ZSCAN", z, "x"], ["ZSCAN", z, -1], ["ZSCAN", z, 0, "MATCH"],
             ["ZSCAN", z, 0, "TYPE", "zset"], ["ZSCAN", z, "18446744073709551616"],
             ["ZSCAN", missing, 0, "COUNT", 0], ["ZSCAN", missing, "x"])
    members = {f"m{i}".encode(): i / 4 for i in range(300)}
    pair.check("ZADD", big, *[x for m, s in members.items() for x in (s, m)])
    for conn in (pair.ref, pair.ours):
        seen: dict[bytes, bytes] = {}
        cursor = b"0"
        while True:
            cursor, page = conn.call("ZSCAN", big, cursor, "COUNT", 7)
            seen.update(zip(page[::2], page[1::2], strict=True))
            if cursor == b"0":
                break
        assert seen == {m: b"%.17g" % s for m, s in members.items()}


def test_encodings_and_conversions(pair: Pair) -> None:
    z, v, w, e = pair.key("z"), pair.key("v"), pair.key("w"), pair.key("e")
    try:
        pair.run(["CONFIG", "SET", "zset-max-listpack-entries", 3], ["ZADD", z, 1, "a", 2, "b", 3, "c"],
                 ["OBJECT", "ENCODING", z], ["ZADD", z, 4, "d"], ["OBJECT", "ENCODING", z], ["ZREM", z, "d", "c"],
                 ["OBJECT", "ENCODING", z], ["ZADD", z, 9, "a"], ["OBJECT", "ENCODING", z],
                 ["CONFIG", "SET", "zset-max-listpack-entries", 128],
                 ["CONFIG", "SET", "zset-max-listpack-value", 5], ["ZADD", v, 1, "aaaaa"], ["OBJECT", "ENCODING", v],
                 ["ZADD", v, 1, "aaaaaa"], ["OBJECT", "ENCODING", v], ["ZADD", w, 1, "aaaaaa"],
                 ["OBJECT", "ENCODING", w], ["ZINCRBY", e, 1, "aaaaaaa"], ["OBJECT", "ENCODING", e],
                 ["CONFIG", "SET", "zset-max-listpack-value", 64],
                 ["CONFIG", "SET", "zset-max-listpack-entries", 0], ["ZADD", e, 1, "a"], ["ZADD", pair.key("e0"), 1, "a"],
                 ["OBJECT", "ENCODING", pair.key("e0")])
    finally:
        pair.both("CONFIG", "SET", "zset-max-listpack-entries", 128)
        pair.both("CONFIG", "SET", "zset-max-listpack-value", 64)
    pair.check_digest(z, v, w, e)


def test_digest_of_random_sorted_sets(pair: Pair) -> None:
    rng = random.Random(7)
    for n in (5, 200):
        z = pair.key(f"z{n}")
        args = []
        for i in range(n):
            args += [rng.choice(["0.1", "1e17", "-3", "2.5", str(rng.random()), "inf", "-0"]), f"m{i}"]
        pair.check("ZADD", z, *args)
        pair.check_digest(z)
        pair.check("ZRANGE", z, 0, -1, "WITHSCORES")


def test_wrong_type(pair: Pair) -> None:
    s = pair.key("str")
    pair.check("SET", s, "x")
    for argv in (["ZADD", s, 1, "a"], ["ZADD", s, "XX", 1, "a"], ["ZINCRBY", s, 1, "a"], ["ZRANGE", s, 0, 1],
                 ["ZRANGE", s, 0, "x"], ["ZRANGESTORE", pair.key("d"), s, 0, 1], ["ZPOPMIN", s], ["ZMPOP", 1, s, "MIN"],
                 ["ZUNION", 1, s], ["ZUNIONSTORE", pair.key("d"), 1, s], ["ZINTERCARD", 1, s], ["ZSCAN", s, 0],
                 ["ZRANDMEMBER", s, 2], ["ZREVRANGEBYLEX", s, "+", "-"], ["BZPOPMAX", s, 0]):
        pair.check(*argv)
