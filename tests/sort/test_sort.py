"""SORT and SORT_RO, differentially against Redis 7.0.15, RESP2 and RESP3."""

from __future__ import annotations

from zsets.differential import Pair


def test_numeric_sort_and_limit(pair: Pair) -> None:
    k, missing, d = pair.key("l"), pair.key("missing"), pair.key("d")
    pair.check("RPUSH", k, 3, " 2", "0x10", "", "1e2", "-inf", "2", "10", "-0", "0")
    for tail in ([], ["DESC"], ["ASC"], ["LIMIT", 1, 2], ["LIMIT", -5, 2], ["LIMIT", 2, -1], ["LIMIT", 10, 2],
                 ["LIMIT", 0, 0], ["DESC", "LIMIT", 3, 4], ["LIMIT", 1, 2, "LIMIT", 0, 1], ["ALPHA"],
                 ["alpha", "desc", "limit", 1, 3], ["BY", "nosort"], ["BY", "nosort", "DESC"],
                 ["BY", "nosort", "LIMIT", 1, 2], ["BY", "nosort", "DESC", "LIMIT", 1, 2], ["BY", "nosort", "LIMIT", 10, 2],
                 ["BY", "constant", "LIMIT", 2, -1]):
        pair.check("SORT", k, *tail)
        pair.check("SORT_RO", k, *tail)
    pair.run(["SORT_RO", k, "STORE", d], ["SORT", k, "foo"], ["SORT", k, "LIMIT", "x", 1], ["SORT", k, "LIMIT", 1],
             ["SORT", k, "BY"], ["SORT", k, "GET"], ["SORT", k, "STORE"], ["SORT", missing], ["SORT", missing, "STORE", d],
             ["EXISTS", d], ["SORT", k, "STORE", d], ["LRANGE", d, 0, -1], ["SORT", k, "LIMIT", 0, 0, "STORE", d],
             ["EXISTS", d])


def test_values_that_are_not_numbers(pair: Pair) -> None:
    # Values whose conversion overflows or underflows (ERANGE) are in test_sort_erange.py:
    # Redis 7.0 leaves errno set afterwards, which changes later SORTs on the same server.
    for i, value in enumerate(["  7", "inf", "-inf", "1 ", "nan", "abc", "1_0", "0x", "0x1p3", "+5", ".5"]):
        k = pair.key(f"l{i}")
        pair.check("RPUSH", k, value, "1")
        pair.check("SORT", k)
        pair.check("SORT", k, "ALPHA")


def test_alpha_order_is_bytes_and_nul_terminated_without_store(pair: Pair) -> None:
    k, d = pair.key("a"), pair.key("d")
    pair.check("RPUSH", k, "b\x00z", "b\x00a", "\xc3\xa9", "e", "z", "B", "a", "b")
    for tail in (["ALPHA"], ["ALPHA", "DESC"], ["ALPHA", "LIMIT", 1, 3]):
        pair.check("SORT", k, *tail)
        pair.check("SORT", k, *tail, "STORE", d)
        pair.check("LRANGE", d, 0, -1)
    pair.check("SORT", k)


def test_by_and_get_patterns(pair: Pair) -> None:
    ids, d = pair.key("ids"), pair.key("d")
    p = pair.prefix
    pair.run(["RPUSH", ids, 3, 1, 2, 4], ["SET", f"{p}w_1", 30], ["SET", f"{p}w_2", 10], ["SET", f"{p}w_3", 20],
             ["SET", f"{p}w_4", "x"], ["HSET", f"{p}h_1", "f", 5, "name", "one"], ["HSET", f"{p}h_2", "f", 6, "name", "two"],
             ["HSET", f"{p}h_3", "f", 4, "name", "three"], ["RPUSH", f"{p}lst_1", "x"])
    pair.run(
        ["SORT", ids, "BY", f"{p}w_*"], ["SORT", ids, "BY", f"{p}w_*", "ALPHA"], ["SORT", ids, "BY", f"{p}w_*", "DESC", "ALPHA"],
        ["SORT", ids, "BY", f"{p}h_*->f"], ["SORT", ids, "BY", f"{p}h_*->f", "DESC"],
        ["SORT", ids, "BY", f"{p}h_*->f", "GET", f"{p}h_*->name", "GET", "#", "GET", f"{p}w_*"],
        ["SORT", ids, "BY", f"{p}h_*->f", "GET", f"{p}nokey_*", "GET", f"{p}h_*->nofield", "GET", f"{p}lst_*"],
        ["SORT", ids, "BY", "nosort", "GET", f"{p}h_*->name"], ["SORT", ids, "GET", "nostar"],
        ["SORT", ids, "BY", f"{p}missing_*"], ["SORT", ids, "BY", f"{p}missing_*", "ALPHA"],
        ["SORT", ids, "BY", f"{p}h_*->"], ["SORT", ids, "BY", f"{p}lst_*"], ["SORT", ids, "BY", f"{p}lst_*", "ALPHA"],
        ["SORT", ids, "BY", f"{p}h_*->f", "GET", f"{p}h_*->name", "STORE", d], ["LRANGE", d, 0, -1],
        ["SORT", ids, "BY", f"{p}h_*->f", "GET", f"{p}h_*->nofield", "GET", "#", "STORE", d], ["LRANGE", d, 0, -1],
        ["SORT", ids, "BY", f"{p}w_*", "BY", "nosort"], ["SORT", ids, "BY", "nosort", "BY", f"{p}w_*"],
        ["SORT", ids, "BY", f"{p}w_*", "LIMIT", 1, 2, "GET", "#"], ["SORT_RO", ids, "BY", f"{p}h_*->f", "GET", "#"],
        ["SORT", ids, "GET", f"{p}w_\x00*"], ["SORT", ids, "GET", f"{p}h_*->\x00f"], ["SORT", ids, "BY", f"{p}w_\x00*"],
    )


def test_sets_and_sorted_sets(pair: Pair) -> None:
    s, i, z, zn, d = pair.key("s"), pair.key("i"), pair.key("z"), pair.key("zn"), pair.key("d")
    pair.run(["SADD", s, 5, 3, 1, 4, "a"], ["SADD", i, 5, 3, 1, 4], ["ZADD", z, 3, "c", 1, "a", 2, "b", 5, "e", 4, "d"],
             ["ZADD", zn, 3, 30, 1, 10, 2, 20])
    pair.run(["SORT", s], ["SORT", s, "ALPHA"], ["SORT", s, "ALPHA", "DESC", "LIMIT", 1, 2], ["SORT", i],
             ["SORT", i, "BY", "nosort"], ["SORT", i, "BY", "nosort", "STORE", d], ["LRANGE", d, 0, -1],
             ["SORT", s, "BY", "nosort", "STORE", d], ["LRANGE", d, 0, -1])
    pair.check_unordered("SORT", s, "BY", "nosort", "ALPHA")
    pair.run(["OBJECT", "ENCODING", z], ["SORT", z, "ALPHA"], ["OBJECT", "ENCODING", z], ["SORT", z, "BY", "nosort"],
             ["SORT", z, "BY", "nosort", "DESC"], ["SORT", z, "BY", "nosort", "LIMIT", 1, 2],
             ["SORT", z, "BY", "nosort", "DESC", "LIMIT", 1, 2], ["SORT", z, "BY", "nosort", "LIMIT", 10, 2],
             ["SORT", z, "BY", "nosort", "LIMIT", 2, -1], ["SORT", z, "BY", "nosort", "LIMIT", -3, 1],
             ["OBJECT", "ENCODING", zn], ["SORT", zn], ["SORT", zn, "DESC", "LIMIT", 0, 2], ["OBJECT", "ENCODING", zn],
             ["SORT", z], ["ZRANGE", z, 0, -1, "WITHSCORES"])


def test_ties_in_alpha_by_keep_the_input_order(pair: Pair) -> None:
    k = pair.key("al")
    p = pair.prefix
    pair.run(["SET", f"{p}wk_a", 1], ["SET", f"{p}wk_b", 1], ["SET", f"{p}wk_c", 0], ["RPUSH", k, "c", "b", "a", "d"])
    for tail in (["ALPHA"], ["ALPHA", "DESC"], [], ["DESC"]):
        pair.check("SORT", k, "BY", f"{p}wk_*", *tail)


def test_wrong_types_and_store_over_other_types(pair: Pair) -> None:
    st, h, k, d = pair.key("str"), pair.key("h"), pair.key("l"), pair.key("d")
    pair.run(["SET", st, "x"], ["HSET", h, "f", "v"], ["RPUSH", k, 2, 1], ["SORT", st], ["SORT", h], ["SORT_RO", st],
             ["SORT", st, "foo"], ["SET", d, "string"], ["SORT", k, "STORE", d], ["TYPE", d], ["LRANGE", d, 0, -1],
             ["SORT", k, "STORE", k], ["LRANGE", k, 0, -1])
