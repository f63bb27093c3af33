"""String commands, differentially: the same commands to specredis and to Redis 7.0.15, RESP2 and RESP3.

Every reply -- values, integers, nulls, error texts -- must be identical. Commands whose
reply depends on the clock (TTL after EX) are checked on values that cannot drift in
the few milliseconds between the two servers.
"""

from __future__ import annotations

import random

from lists.differential import Pair


def test_set_get_and_conditions(pair: Pair) -> None:
    k, missing = pair.key("k"), pair.key("missing")
    pair.run(
        ["GET", k], ["SET", k, "v"], ["GET", k], ["SET", k, "v2", "NX"], ["SET", k, "v3", "XX"], ["GET", k],
        ["SET", missing, "x", "XX"], ["GET", missing], ["SET", k, "new", "GET"], ["SET", k, "n2", "get", "GET"],
        ["SET", missing, "v", "NX", "GET"], ["SET", missing, "w", "NX", "GET"], ["SET", pair.key("m2"), "v", "XX", "GET"],
        ["set", k, "lower"], ["get", k], ["SET", k, ""], ["GET", k], ["SET", k, "x" * 100], ["GET", k],
        ["SET", k, "\x00\r\n binary \xff"], ["GET", k], ["STRLEN", k],
    )


def test_set_option_errors(pair: Pair) -> None:
    k = pair.key("k")
    pair.run(
        ["SET", k, "v", "NX", "XX"], ["SET", k, "v", "XX", "NX"], ["SET", k, "v", "EX", 10, "PX", 10],
        ["SET", k, "v", "EX", 10, "EXAT", 10], ["SET", k, "v", "PXAT", 10, "EX", 10], ["SET", k, "v", "KEEPTTL", "EX", 10],
        ["SET", k, "v", "EX", 10, "KEEPTTL"], ["SET", k, "v", "EX"], ["SET", k, "v", "PX"], ["SET", k, "v", "FOO"],
        ["SET", k, "v", "PERSIST"], ["SET", k, "v", "EX", 0], ["SET", k, "v", "EX", -1], ["SET", k, "v", "PX", 0],
        ["SET", k, "v", "EXAT", 0], ["SET", k, "v", "PXAT", -5], ["SET", k, "v", "EX", "abc"], ["SET", k, "v", "EX", "1.5"],
        ["SET", k, "v", "EX", "9223372036854775"], ["SET", k, "v", "EX", "9223372036854776"],
        ["SET", k, "v", "PX", "9223372036854775807"], ["SET", k, "v", "EX", "99999999999999999999"],
        ["SET", k], ["SET", k, "v", "GET", "EX"], ["GET", k],
    )


def test_set_expiry_options(pair: Pair) -> None:
    k = pair.key("k")
    pair.run(
        ["SET", k, "v", "EX", 100], ["TTL", k], ["SET", k, "v", "KEEPTTL"], ["TTL", k], ["SET", k, "v"], ["TTL", k],
        ["SET", k, "v", "PX", 100000], ["TTL", k], ["SET", k, "v", "EXAT", 4000000000], ["EXPIRETIME", k],
        ["SET", k, "v", "PXAT", 4000000000123], ["PEXPIRETIME", k], ["SET", k, "v", "ex", 5, "ex", 50], ["TTL", k],
        ["SET", k, "v", "XX", "GET", "PX", 50000], ["TTL", k], ["SET", k, "w", "PXAT", 1], ["GET", k], ["EXISTS", k],
        ["SET", k, "v", "EX", 100, "NX"], ["SET", k, "v", "EX", 100, "XX"], ["TTL", k],
    )


def test_setnx_setex_psetex(pair: Pair) -> None:
    k, k2 = pair.key("k"), pair.key("k2")
    pair.run(
        ["SETNX", k, "a"], ["SETNX", k, "b"], ["GET", k], ["SETEX", k2, 100, "v"], ["TTL", k2], ["GET", k2],
        ["SETEX", k2, 0, "v"], ["SETEX", k2, -3, "v"], ["SETEX", k2, "x", "v"], ["SETEX", k2, "9223372036854776", "v"],
        ["PSETEX", k2, 0, "v"], ["PSETEX", k2, 100200, "w"], ["TTL", k2], ["GET", k2], ["SETEX", k2, 10],
        ["PSETEX", k2, "1.5", "v"],
    )


def test_getset_getdel_getex(pair: Pair) -> None:
    k, missing, lst = pair.key("k"), pair.key("missing"), pair.key("list")
    pair.run(
        ["GETSET", k, "a"], ["GETSET", k, "b"], ["GET", k], ["SET", k, "v", "EX", 100], ["GETSET", k, "c"], ["TTL", k],
        ["GETDEL", k], ["GETDEL", k], ["EXISTS", k], ["GETEX", missing], ["GETEX", missing, "EX", 0],
        ["SET", k, "v"], ["GETEX", k], ["TTL", k], ["GETEX", k, "EX", 100], ["TTL", k], ["GETEX", k, "PERSIST"],
        ["TTL", k], ["GETEX", k, "PX", 100000], ["TTL", k], ["GETEX", k, "EXAT", 4000000000], ["EXPIRETIME", k],
        ["GETEX", k, "PXAT", 4000000000999], ["PEXPIRETIME", k], ["GETEX", k, "PERSIST", "EX", 1],
        ["GETEX", k, "EX", 1, "PERSIST"], ["GETEX", k, "NX"], ["GETEX", k, "KEEPTTL"], ["GETEX", k, "GET"],
        ["GETEX", k, "EX", 0], ["GETEX", k, "EX", "x"], ["GETEX", k, "EX"], ["GETEX", k, "EXAT", 1], ["GET", k],
        ["RPUSH", lst, "x"], ["GETSET", lst, "v"], ["GETDEL", lst], ["GETEX", lst], ["GETEX", lst, "FOO"],
        ["SET", lst, "v", "GET"], ["GET", lst], ["LLEN", lst],
    )


def test_mset_mget_msetnx(pair: Pair) -> None:
    a, b, c, lst = pair.key("a"), pair.key("b"), pair.key("c"), pair.key("list")
    pair.run(
        ["MSET", a, 1, b, 2], ["MGET", a, b, c], ["MSET", a, 1, b], ["MSET", a], ["MSETNX", a, 5, c, 3],
        ["MGET", a, c], ["MSETNX", c, 3, pair.key("d"), 4], ["MGET", c, pair.key("d")], ["MSETNX", c, 1, c],
        ["MSET", a, "x", a, "y"], ["GET", a], ["RPUSH", lst, 1], ["MGET", lst, a, lst], ["MSET", lst, "s"], ["GET", lst],
        ["SET", b, "v", "EX", 100], ["MSET", b, "w"], ["TTL", b],
    )


def test_append_strlen_getrange_setrange(pair: Pair) -> None:
    k, missing, lst, sr = pair.key("k"), pair.key("missing"), pair.key("list"), pair.key("sr")
    pair.run(
        ["APPEND", k, "hello"], ["APPEND", k, " world"], ["APPEND", k, ""], ["GET", k], ["STRLEN", k],
        ["STRLEN", missing], ["GETRANGE", missing, 0, 1], ["SUBSTR", k, 0, 4],
        ["SETRANGE", sr, 5, "abc"], ["GET", sr], ["SETRANGE", sr, 0, "XY"], ["SETRANGE", sr, 10, ""],
        ["GET", sr], ["SETRANGE", sr, -1, "x"], ["SETRANGE", sr, "x", "x"], ["SETRANGE", missing, 0, ""],
        ["EXISTS", missing], ["SETRANGE", missing, 536870912, "x"], ["SETRANGE", missing, 536870911, "xy"],
        ["SETRANGE", missing, "9223372036854775807", "x"], ["APPEND", missing, ""], ["GET", missing],
        ["RPUSH", lst, "x"], ["APPEND", lst, "x"], ["STRLEN", lst], ["SETRANGE", lst, 0, "x"],
        ["SETRANGE", lst, 0, ""], ["GETRANGE", lst, 0, 1], ["SET", k, "v", "EX", 100], ["APPEND", k, "w"], ["TTL", k],
        ["SETRANGE", k, 1, "zz"], ["TTL", k], ["GET", k],
    )
    pair.check("SET", k, "0123456789")
    for start, end in [(0, 4), (-5, -1), (5, 2), (-1, -5), (0, -100), (-100, -50), (100, 200), (-3, 100),
                       (0, "9223372036854775807"), ("-9223372036854775808", 3), (9, 9), (10, 10), ("x", 1), (0, "1.5")]:
        pair.check("GETRANGE", k, start, end)
    pair.check("SET", k, "")
    pair.check("GETRANGE", k, 0, -1)
    pair.check("GETRANGE", k, -1, 0)


def test_counters(pair: Pair) -> None:
    n, lst = pair.key("n"), pair.key("list")
    pair.run(
        ["INCR", n], ["INCR", n], ["DECR", n], ["INCRBY", n, 10], ["DECRBY", n, 3], ["INCRBY", n, -100], ["GET", n],
        ["INCRBY", n, "abc"], ["INCRBY", n, "1.5"], ["INCRBY", n, " 1"], ["INCRBY", n, "+1"], ["INCRBY", n, "01"],
        ["DECRBY", n, "-9223372036854775808"], ["DECRBY", n, "9223372036854775808"],
        ["SET", n, "9223372036854775807"], ["INCR", n], ["INCRBY", n, -1], ["DECRBY", n, 1],
        ["SET", n, "-9223372036854775808"], ["DECR", n], ["INCRBY", n, "-1"], ["INCRBY", n, "9223372036854775807"],
        ["SET", n, " 1"], ["INCR", n], ["SET", n, "01"], ["INCR", n], ["SET", n, "-0"], ["INCR", n],
        ["SET", n, "+1"], ["INCR", n], ["SET", n, "1.0"], ["INCR", n], ["SET", n, ""], ["INCR", n],
        ["SET", n, "12345678901234567890"], ["INCR", n], ["SET", n, 5, "EX", 100], ["INCR", n], ["TTL", n],
        ["APPEND", n, "0"], ["INCR", n], ["GET", n], ["RPUSH", lst, 1], ["INCR", lst], ["DECRBY", lst, 1],
        ["DECR", pair.key("neg")], ["GET", pair.key("neg")],
    )


def test_incrbyfloat_formatting(pair: Pair) -> None:
    f = pair.key("f")
    pair.run(
        ["INCRBYFLOAT", f, "10.5"], ["INCRBYFLOAT", f, "0.1"], ["INCRBYFLOAT", f, "3.0e3"], ["INCRBYFLOAT", f, "5.0e3"],
        ["INCRBYFLOAT", f, "-8010.6"], ["GET", f], ["INCRBYFLOAT", f, "1e400"], ["INCRBYFLOAT", f, "-1e400"],
        ["INCRBYFLOAT", f, "1.18e4932"], ["INCRBYFLOAT", f, "1.5e4932"], ["INCRBYFLOAT", f, "1e-5000"],
        ["SET", f, 0], ["INCRBYFLOAT", f, "2e-4950"], ["INCRBYFLOAT", f, "1e-4952"], ["INCRBYFLOAT", f, "0x1p3"],
        ["INCRBYFLOAT", f, ".5"], ["INCRBYFLOAT", f, "5."], ["INCRBYFLOAT", f, "+3"], ["INCRBYFLOAT", f, "-0"],
        ["INCRBYFLOAT", f, "inf"], ["INCRBYFLOAT", f, "-inf"], ["INCRBYFLOAT", f, "nan"], ["INCRBYFLOAT", f, "abc"],
        ["INCRBYFLOAT", f, " 1"], ["INCRBYFLOAT", f, "1 "], ["INCRBYFLOAT", f, ""], ["INCRBYFLOAT", f, "1e"],
        ["INCRBYFLOAT", f, "0x"], ["INCRBYFLOAT", f, "1_0"], ["INCRBYFLOAT", f, "Infinity"], ["GET", f],
        ["SET", f, "abc"], ["INCRBYFLOAT", f, 1], ["SET", f, "1e400"], ["INCRBYFLOAT", f, "1e400"],
        ["SET", f, "inf"], ["INCRBYFLOAT", f, 1], ["SET", f, 3, "EX", 100], ["INCRBYFLOAT", f, "0.5"], ["TTL", f],
        ["SET", f, "-0.5"], ["INCRBYFLOAT", f, "0.5"], ["INCRBYFLOAT", f, "-0.0000000000000000001"],
        ["RPUSH", pair.key("list"), 1], ["INCRBYFLOAT", pair.key("list"), 1], ["INCRBYFLOAT", pair.key("list"), "x"],
    )


def test_incrbyfloat_random_sums_match(pair: Pair) -> None:
    """Random operands: the 80-bit long double emulation must print what Redis prints."""
    rng = random.Random(7)
    f = pair.key("f")
    for _ in range(150):
        kind = rng.random()
        if kind < 0.3:
            operand = f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 20)}f}"
        elif kind < 0.6:
            operand = f"{rng.uniform(-10, 10):.{rng.randint(1, 25)}e}{rng.randint(-30, 30):+d}"
        elif kind < 0.8:
            operand = str(rng.randint(-10**20, 10**20))
        else:
            operand = rng.choice(["0.1", "0.2", "0.3", "1e-17", "1.5e17", "-3.3333333333333333333", "7e-320"])
        pair.check("INCRBYFLOAT", f, operand)
        if rng.random() < 0.1:
            pair.check("SET", f, rng.choice(["0", "1.1", "-2.5e10", "123456789.987654321"]))


def test_lcs(pair: Pair) -> None:
    a, b, lst, missing = pair.key("a"), pair.key("b"), pair.key("list"), pair.key("missing")
    pair.run(
        ["MSET", a, "ohmytext", b, "mynewtext"], ["LCS", a, b], ["LCS", a, b, "LEN"], ["LCS", a, b, "IDX"],
        ["LCS", a, b, "IDX", "MINMATCHLEN", 4], ["LCS", a, b, "IDX", "MINMATCHLEN", 4, "WITHMATCHLEN"],
        ["LCS", a, b, "idx", "withmatchlen"], ["LCS", a, b, "IDX", "LEN"], ["LCS", a, b, "LEN", "IDX"],
        ["LCS", a, b, "FOO"], ["LCS", a, b, "MINMATCHLEN"], ["LCS", a, b, "MINMATCHLEN", "x"],
        ["LCS", a, b, "LEN", "MINMATCHLEN", -5], ["LCS", a, missing], ["LCS", missing, missing, "IDX"],
        ["LCS", missing, a, "LEN"], ["RPUSH", lst, 1], ["LCS", a, lst], ["LCS", lst, a, "FOO"], ["LCS", a],
    )
    # Redis refuses when its (alen+1)*(blen+1) table of uint32 would pass proto-max-bulk-len.
    pair.check("CONFIG", "SET", "proto-max-bulk-len", "1mb")
    try:
        pair.run(["SET", a, "x" * 511], ["SET", b, "xy" * 256], ["LCS", a, b, "LEN"], ["APPEND", b, "y"],
                 ["LCS", a, b, "LEN"], ["LCS", a, b, "IDX"], ["APPEND", a, "z" * 2000], ["APPEND", b, "z"],
                 ["APPEND", a, "z" * 1048576])
    finally:
        pair.check("CONFIG", "SET", "proto-max-bulk-len", "512mb")


def test_lcs_random_strings(pair: Pair) -> None:
    rng = random.Random(11)
    a, b = pair.key("a"), pair.key("b")
    for _ in range(40):
        alphabet = "ab" if rng.random() < 0.5 else "abcdxyz"
        first = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        second = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        pair.check("MSET", a, first, b, second)
        pair.check("LCS", a, b)
        pair.check("LCS", a, b, "IDX", "WITHMATCHLEN")
        pair.check("LCS", a, b, "IDX", "MINMATCHLEN", rng.randint(0, 4))


def test_encodings(pair: Pair) -> None:
    k = pair.key("k")
    cases = ["1", "-1", "0", "9999", "10000", "01", "-0", "+5", "1.5", " 1", "9223372036854775807",
             "-9223372036854775808", "9223372036854775808", "12345678901234567890", "x" * 44, "x" * 45, ""]
    for value in cases:
        pair.check("SET", k, value)
        pair.check("OBJECT", "ENCODING", k)
        pair.check("OBJECT", "REFCOUNT", k)
    pair.run(
        ["SET", k, "12"], ["APPEND", k, "3"], ["OBJECT", "ENCODING", k], ["INCR", k], ["OBJECT", "ENCODING", k],
        ["DEL", k], ["APPEND", k, "12"], ["OBJECT", "ENCODING", k], ["DEL", k], ["SETRANGE", k, 0, "12"],
        ["OBJECT", "ENCODING", k], ["SET", k, "ab"], ["SETRANGE", k, 0, ""], ["OBJECT", "ENCODING", k],
        ["APPEND", k, ""], ["OBJECT", "ENCODING", k], ["SET", k, "7"], ["GETSET", k, "8"], ["OBJECT", "ENCODING", k],
        ["MSET", k, "123"], ["OBJECT", "ENCODING", k], ["SETEX", k, 100, "45"], ["OBJECT", "ENCODING", k],
        ["INCRBYFLOAT", k, "0.5"], ["OBJECT", "ENCODING", k], ["SETNX", pair.key("nx"), "99"],
        ["OBJECT", "ENCODING", pair.key("nx")],
    )
