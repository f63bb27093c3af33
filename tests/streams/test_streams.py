"""Streams without groups, differentially: the same commands to specredis and to Redis 7.0.15,
RESP2 and RESP3. IDs are explicit (automatic IDs depend on the clock: their shape and order
are checked on their own), so every reply, error text, XINFO field and digest must be equal.
"""

from __future__ import annotations

import random
import re
import time

from streams.differential import Pair


def test_xadd_ids_and_their_errors(pair: Pair) -> None:
    s, s2, s3, s4 = pair.key("s"), pair.key("s2"), pair.key("s3"), pair.key("s4")
    pair.run(
        ["XADD", s, "1-1", "a", 1], ["XADD", s, "1-1", "a", 1], ["XADD", s, "0-0", "a", 1], ["XADD", s, "1-*", "a", 1],
        ["XADD", s, "0-*", "a", 1], ["XADD", s2, "0-0", "a", 1], ["EXISTS", s2], ["XADD", s2, "0-*", "a", 1],
        ["XADD", s2, "0-*", "a", 1], ["XADD", s2, "0", "a", 1], ["XADD", s, 5, "a", 1],
        ["XADD", s, "18446744073709551615-18446744073709551615", "a", 1], ["XADD", s, "*", "a", 1],
        ["XADD", s, "18446744073709551615-*", "a", 1], ["XADD", s3, "18446744073709551615-*", "a", 1],
        ["XADD", s3, "18446744073709551615-*", "a", 1], ["XADD", s3, "18446744073709551614-*", "a", 1],
        ["XADD", s3, "*", "a", 1],
    )
    for bad in ["abc", "1-abc", "-1", "1-", "-", "+", "1-2-3", "18446744073709551616", "1-18446744073709551616",
                "", "*-1", "1-**", "0x10", "1.5", "1 -1", "a-1", "1-\x00", "9" * 130, "-5-1", "1--5"]:
        pair.check("XADD", s4, bad, "a", 1)
    # strtoull's leniency: white space, signs and leading zeros are accepted.
    for odd in [" 1", "01-02", "+7-+5", "8- -5", "000000000000000000000000009"]:
        pair.check("XADD", s4, odd, "a", 1)
    pair.run(["XADD", s4, "*", "a"], ["XADD", s4, "*", "a", 1, "b"], ["XADD", s4, "10-1"], ["XRANGE", s4, "-", "+"],
             ["XLEN", s4])
    pair.check_digest(s, s2, s3, s4)


def test_xadd_options_and_their_errors(pair: Pair) -> None:
    s, missing = pair.key("s"), pair.key("missing")
    pair.run(
        ["XADD", missing, "NOMKSTREAM", "1-1", "a", 1], ["EXISTS", missing], ["XADD", missing, "nomkstream", "*", "a", 1],
        ["XADD", s, "NOMKSTREAM", "MAXLEN", 5, "1-1", "a", 1], ["XADD", s, "1-2", "a", 1],
        ["XADD", s, "nomkstream", "1-3", "a", 1], ["XADD", s, "NOMKSTREAM", "NOMKSTREAM", "1-4", "a", 1],
        ["XADD", s, "MAXLEN", -1, "2-1", "a", 1], ["XADD", s, "MAXLEN", "=", -1, "2-1", "a", 1],
        ["XADD", s, "MAXLEN", "abc", "2-1", "a", 1], ["XADD", s, "MAXLEN", 1, "LIMIT", 10, "2-1", "a", 1],
        ["XADD", s, "MAXLEN", "~", 1, "LIMIT", -1, "2-1", "a", 1], ["XADD", s, "MINID", "~", "abc", "2-1", "a", 1],
        ["XADD", s, "MINID", "~", 1, "MAXLEN", 5, "2-1", "a", 1], ["XADD", s, "MAXLEN", 1, "MAXLEN", 5, "2-1", "a", 1],
        ["XADD", s, "LIMIT", 5, "2-1", "a", 1], ["XADD", s, "LIMIT", 0, "2-1", "a", 1],
        ["XADD", s, "LIMIT", 0, "MAXLEN", 1, "2-1", "a", 1], ["XADD", s, "MAXLEN", 1], ["XADD", s, "MAXLEN", 1, "a"],
        ["XADD", s, "MAXLEN", "~", 1, "a", "b"], ["XADD", s, "MINID", "-", "2-1", "a", 1],
        ["XADD", s, "MINID", "+", "2-1", "a", 1], ["XADD", s, "MINID", "3-*", "2-1", "a", 1],
        ["XADD", s, "maxlen", "=", "~", 1, "2-1", "a", 1], ["XADD", s, "MAXLEN", "2", "2-1", "a", 1],
        ["XRANGE", s, "-", "+"], ["XADD", s, "MINID", "2-1", "2-2", "a", 1], ["XRANGE", s, "-", "+"],
        ["XADD", s, "MAXLEN", "=", 0, "3-0", "a", 1], ["XLEN", s], ["XINFO", "STREAM", s],
        ["XADD", s, "MINID", "=", "9-0", "4-0", "a", 1], ["XINFO", "STREAM", s],
        ["XADD", s, "maxlen", "~", 0, "limit", 0, "5-0", "a", 1], ["XLEN", s],
    )


def test_automatic_ids_follow_the_clock_and_never_go_back(pair: Pair) -> None:
    s = pair.key("s")
    before = int(time.time() * 1000)
    ids = [pair.both("XADD", s, "*", "f", i) for i in range(20)]
    after = int(time.time() * 1000)
    for expected, actual in ids:
        for reply in (expected, actual):
            assert re.fullmatch(rb"\d+-\d+", reply), reply
            assert before - 1000 <= int(reply.split(b"-")[0]) <= after + 1000
    ours = [tuple(map(int, actual.split(b"-"))) for _, actual in ids]
    assert ours == sorted(ours) and len(set(ours)) == len(ours)
    # An ID set far in the future: automatic IDs continue from it, on both servers.
    pair.check("XADD", s, "99999999999999-5", "f", "x")
    pair.run(["XADD", s, "*", "f", "y"], ["XADD", s, "*", "f", "z"], ["XADD", s, "99999999999999-*", "f", "w"],
             ["XRANGE", s, "99999999999999", "+"])


def test_xrange_and_xrevrange(pair: Pair) -> None:
    s, missing, string = pair.key("s"), pair.key("missing"), pair.key("str")
    for i, entry in enumerate(["1-5", "1-6", "3-0", "7-5", "7-6", "18446744073709551615-18446744073709551614"]):
        pair.check("XADD", s, entry, "f", i, "g", "x" * i)
    pair.check("SET", string, "x")
    for bounds in [("-", "+"), ("(1-5", "+"), ("-", "(7-5"), ("(", "+"), ("(-", "+"), ("-", "(+"), ("(0-0", "+"),
                   ("-", "(0-0"), ("(18446744073709551615-18446744073709551615", "+"), ("-", "(0-1"),
                   ("1", "7"), ("7", "1"), ("1", "1"), ("7", "7"), ("(1", "+"), ("-", "(7"), ("3-0", "3-0"),
                   ("(3-0", "(3-0"), ("0", "0"), ("x", "+"), ("-", "x"), ("1-", "+"), ("- ", "+"), ("+", "-"),
                   ("18446744073709551615", "+"), ("((1", "+")]:
        pair.check("XRANGE", s, *bounds)
        pair.check("XREVRANGE", s, *reversed(bounds))
    for tail in [["COUNT", 0], ["COUNT", -1], ["COUNT", 1], ["COUNT", 2, "COUNT", 3], ["COUNT"], ["FOO", 1],
                 ["COUNT", "x"], ["count", 100], ["COUNT", 1, "junk"], ["COUNT", "9223372036854775808"]]:
        pair.check("XRANGE", s, "-", "+", *tail)
        pair.check("XREVRANGE", s, "+", "-", *tail)
    pair.run(["XRANGE", missing, "-", "+"], ["XRANGE", missing, "-", "+", "COUNT", 0], ["XRANGE", missing, "x", "+"],
             ["XREVRANGE", missing, "+", "-"], ["XRANGE", string, "-", "+"], ["XRANGE", string, "x", "+"],
             ["XREVRANGE", string, "+", "-", "COUNT", 0], ["XRANGE", s], ["XREVRANGE", s, "+"])


def test_xlen_xdel_and_the_recorded_ids(pair: Pair) -> None:
    s, missing, string = pair.key("s"), pair.key("missing"), pair.key("str")
    pair.check("SET", string, "x")
    for i in range(1, 8):
        pair.check("XADD", s, f"{i}-0", "f", i)
    pair.run(
        ["XLEN", s], ["XLEN", missing], ["XLEN", string], ["XDEL", s, "1-0"], ["XINFO", "STREAM", s],
        ["XDEL", s, "1-0", "2-0", "9-0"], ["XINFO", "STREAM", s], ["XDEL", s, "5-0"], ["XINFO", "STREAM", s],
        ["XDEL", s, "x"], ["XDEL", s, "3-0", "x"], ["XLEN", s], ["XDEL", s, "-"], ["XDEL", s, "+"], ["XDEL", s, "4"],
        ["XDEL", missing, "x"], ["XDEL", string, "1-0"], ["XDEL", string, "x"], ["XDEL", s, "3-0", "6-0", "7-0"],
        ["XINFO", "STREAM", s], ["XLEN", s], ["EXISTS", s], ["XADD", s, "8-0", "f", 8], ["XINFO", "STREAM", s],
        ["XADD", s, "7-9", "f", 8], ["XDEL", s, "8-0"], ["XINFO", "STREAM", s],
    )
    pair.check_digest(s)


def test_xtrim_exact_and_approximate(pair: Pair) -> None:
    s, missing, string = pair.key("s"), pair.key("missing"), pair.key("str")
    pair.check("SET", string, "x")
    for i in range(1, 351):
        pair.check("XADD", s, f"{i}-1", "f", i)
    pair.run(
        ["XTRIM", s, "LIMIT", 5], ["XTRIM", s, "MAXLEN"], ["XTRIM", s, "FOO", 1], ["XTRIM", s, "MAXLEN", 1, "FOO"],
        ["XTRIM", s, "MAXLEN", "~"], ["XTRIM", s, "MAXLEN", "~", 1, "LIMIT"], ["XTRIM", s, "MAXLEN", -1],
        ["XTRIM", s, "MAXLEN", "=", "~", 1], ["XTRIM", s, "MINID", "-"], ["XTRIM", s, "MINID", "5-*"],
        ["XTRIM", s, "MAXLEN", 1, "LIMIT", 5], ["XTRIM", s, "MAXLEN", 1, "MINID", 5], ["XTRIM", missing, "MAXLEN", 1],
        ["XTRIM", missing, "MAXLEN", "~", 1, "LIMIT", -1], ["XTRIM", string, "MAXLEN", 1],
        ["XTRIM", string, "MAXLEN", -1],
        # Approximate trims remove whole nodes of 100 entries only.
        ["XTRIM", s, "MAXLEN", "~", 300], ["XLEN", s], ["XTRIM", s, "MAXLEN", "~", 249], ["XLEN", s],
        ["XINFO", "STREAM", s], ["XTRIM", s, "MAXLEN", "~", 0, "LIMIT", 50], ["XLEN", s],
        ["XTRIM", s, "MAXLEN", "~", 0, "LIMIT", 100], ["XLEN", s], ["XTRIM", s, "MINID", "~", "260-0"], ["XLEN", s],
        ["XTRIM", s, "MINID", "~", "301-2"], ["XLEN", s], ["XINFO", "STREAM", s],
        ["XTRIM", s, "MINID", "=", "305-1"], ["XLEN", s], ["XTRIM", s, "MAXLEN", "=", 40], ["XLEN", s],
        ["XRANGE", s, "-", "+", "COUNT", 2], ["XINFO", "STREAM", s], ["XTRIM", s, "MAXLEN", 40], ["XTRIM", s, "MAXLEN", 0],
        ["XINFO", "STREAM", s], ["EXISTS", s],
    )
    pair.check_digest(s)


def test_node_boundaries_follow_listpack_sizes(pair: Pair) -> None:
    """Random workloads under several node limits: the node count (radix-tree-keys), the radix
    tree's node count, what approximate trims remove, and the digests agree with Redis."""
    rng = random.Random(0x57EA)
    config = pair.ref.call("CONFIG", "GET", "stream-node-max-*")
    try:
        for entries, max_bytes in [(100, 4096), (5, 100), (0, 300), (7, 0), (3, 1)]:
            for conn in (pair.ref, pair.ours):
                conn.call("CONFIG", "SET", "stream-node-max-entries", str(entries), "stream-node-max-bytes",
                          str(max_bytes))
            s = pair.key(f"s{entries}-{max_bytes}")
            ms = rng.randrange(1, 1000)
            added: list[int] = []
            for _ in range(250):
                ms += rng.choice([0, 1, 255, 256, 65536, 1 << 33, 1 << 40])
                fields = rng.choice([["a"], ["a", "b"], ["b", "a"], ["c"]])
                values = [rng.choice(["1", "12345", "x" * rng.randrange(0, 100), "-77", "y" * 70,
                                      str(rng.randrange(-10**12, 10**12)), "0", "-0", "007"]) for _ in fields]
                pair.check("XADD", s, f"{ms}-*", *[x for fv in zip(fields, values, strict=True) for x in fv])
                added.append(ms)
                roll = rng.random()
                if roll < 0.2:
                    pair.check("XDEL", s, f"{rng.choice(added)}-{rng.randrange(0, 3)}")
                elif roll < 0.25:
                    pair.check("XTRIM", s, "MAXLEN", "~", rng.randrange(0, 200))
                elif roll < 0.28:
                    pair.check("XTRIM", s, "MINID", "~", rng.choice(added))
                elif roll < 0.30:
                    pair.check("XTRIM", s, "MINID", rng.choice(added))
                elif roll < 0.32:
                    pair.check("XADD", s, "MAXLEN", "~", rng.randrange(0, 200), "LIMIT", rng.randrange(0, 20),
                               f"{ms}-*", "a", "1")
                if roll > 0.93:
                    pair.check("XINFO", "STREAM", s)
            pair.check("XINFO", "STREAM", s, "FULL", "COUNT", 0)
            pair.check_digest(s)
    finally:
        for conn in (pair.ref, pair.ours):
            conn.call("CONFIG", "SET", *[item for kv in _pairs(config) for item in kv])


def _pairs(reply) -> list:
    items = list(reply.pairs) if hasattr(reply, "pairs") else list(zip(reply[0::2], reply[1::2], strict=True))
    return items


def test_radix_tree_counts_for_many_nodes(pair: Pair) -> None:
    s = pair.key("s")
    ms = 1
    rng = random.Random(7)
    pair.check("CONFIG", "SET", "stream-node-max-entries", "2")
    try:
        for _ in range(30):
            for _ in range(20):
                ms += rng.choice([1, 2, 256, 1 << 16, 1 << 24, 1 << 32])
                pair.check("XADD", s, f"{ms}-{rng.randrange(0, 1 << 20)}", "f", "v")
            pair.check("XINFO", "STREAM", s)
            pair.check("XTRIM", s, "MAXLEN", "~", rng.randrange(0, 300))
            pair.check("XDEL", s, f"{ms}-0")
            pair.check("XINFO", "STREAM", s)
    finally:
        pair.check("CONFIG", "SET", "stream-node-max-entries", "100")


def test_xsetid(pair: Pair) -> None:
    s, missing, string = pair.key("s"), pair.key("missing"), pair.key("str")
    pair.check("SET", string, "x")
    for i in range(1, 4):
        pair.check("XADD", s, f"{i}-0", "f", i)
    pair.run(
        ["XSETID", missing, "1-0"], ["XSETID", string, "1-0"], ["XSETID", s, "x"], ["XSETID", s, "-"],
        ["XSETID", s, "2-0"], ["XSETID", s, "3-0"], ["XINFO", "STREAM", s], ["XSETID", s, "5"],
        ["XINFO", "STREAM", s], ["XADD", s, "5-0", "f", 5], ["XADD", s, "5-1", "f", 6],
        ["XSETID", s, "9-0", "ENTRIESADDED", 1], ["XSETID", s, "9-0", "ENTRIESADDED", -1],
        ["XSETID", s, "9-0", "ENTRIESADDED", "x"], ["XSETID", s, "9-0", "ENTRIESADDED", 10],
        ["XSETID", s, "9-0", "MAXDELETEDID", "10-0"], ["XSETID", s, "9-0", "MAXDELETEDID", "x"],
        ["XSETID", s, "9-0", "MAXDELETEDID", "8-0"], ["XINFO", "STREAM", s], ["XSETID", s, "8-5"],
        ["XSETID", s, "9-0", "FOO", 1], ["XSETID", s, "9-0", "ENTRIESADDED"], ["XSETID", missing, "9-0", "FOO"],
        ["XSETID", missing, "9-0", "ENTRIESADDED", -5], ["XDEL", s, "1-0", "2-0", "3-0", "5-0", "5-1"],
        ["XSETID", s, "1-0"], ["XSETID", s, "9-0", "ENTRIESADDED", 0], ["XINFO", "STREAM", s],
        ["XSETID", s, "8-9"], ["XSETID", s, "0-0", "MAXDELETEDID", "0-0"], ["XINFO", "STREAM", s],
        ["XSETID", s, "0-5", "MAXDELETEDID", "0-6"],
        ["XSETID", s, "18446744073709551615-18446744073709551615"], ["XADD", s, "*", "a", 1],
    )


def test_wrong_types_and_arity(pair: Pair) -> None:
    string, s = pair.key("str"), pair.key("s")
    pair.check("SET", string, "x")
    pair.check("XADD", s, "1-1", "a", "1")
    for argv in (["XADD", string, "*", "a", 1], ["XLEN", string], ["XRANGE", string, "-", "+"],
                 ["XTRIM", string, "MAXLEN", 1], ["XDEL", string, "1-1"], ["XSETID", string, "1-1"],
                 ["XINFO", "STREAM", string], ["XINFO", "GROUPS", string], ["XINFO", "CONSUMERS", string, "g"],
                 ["XGROUP", "CREATE", string, "g", "$"], ["XGROUP", "CREATE", string, "g", "$", "MKSTREAM"],
                 ["XACK", string, "g", "1-1"], ["XPENDING", string, "g"], ["XCLAIM", string, "g", "c", 0, "1-1"],
                 ["XAUTOCLAIM", string, "g", "c", 0, "0"], ["XREAD", "STREAMS", string, "0"],
                 ["XREADGROUP", "GROUP", "g", "c", "STREAMS", string, ">"], ["GET", s], ["LPUSH", s, "x"],
                 ["XADD"], ["XADD", s], ["XADD", s, "*"], ["XLEN"], ["XRANGE", s, "-"], ["XDEL", s], ["XTRIM", s],
                 ["XSETID", s], ["XINFO"], ["XINFO", "STREAM"], ["XGROUP"], ["XGROUP", "CREATE", s, "g"],
                 ["XACK", s, "g"], ["XPENDING", s], ["XCLAIM", s, "g", "c", 0], ["XAUTOCLAIM", s, "g", "c", 0],
                 ["XREAD", "STREAMS", s], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s]):
        pair.check(*argv)


def test_type_encoding_copy_and_digests(pair: Pair) -> None:
    s, copy, renamed = pair.key("s"), pair.key("copy"), pair.key("renamed")
    pair.run(["XADD", s, "1-1", "a", "1", "b", "2"], ["XADD", s, "1-2", "a", "3"], ["XGROUP", "CREATE", s, "g", "0"],
             ["XREADGROUP", "GROUP", "g", "c", "COUNT", 1, "STREAMS", s, ">"],
             ["TYPE", s], ["OBJECT", "ENCODING", s], ["COPY", s, copy], ["XRANGE", copy, "-", "+"],
             ["XINFO", "GROUPS", copy], ["XPENDING", copy, "g"], ["XINFO", "STREAM", copy],
             ["XADD", copy, "2-0", "c", "4"], ["XLEN", s], ["XLEN", copy], ["RENAME", copy, renamed],
             ["XINFO", "STREAM", renamed], ["DEBUG", "DIGEST-VALUE", s, renamed])
    pair.check_digest(s, renamed)
    # Groups do not enter the digest: a stream and its copy without groups digest alike.
    pair.run(["XGROUP", "DESTROY", renamed, "g"], ["XDEL", renamed, "2-0"])
    pair.check_digest(s, renamed)
