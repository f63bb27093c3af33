"""Consumer groups and XREAD, differentially against Redis 7.0.15 (RESP2 and RESP3).

Replies holding clock readings (XPENDING's idle times, XINFO CONSUMERS' idle, XINFO
STREAM FULL's delivery and seen times) go through ``check_timed``; everything else,
including XINFO GROUPS' ``entries-read`` and ``lag``, is compared exactly.
"""

from __future__ import annotations

import pytest
from streams.differential import Pair

from specredis.protocol.client import RespError


def test_xgroup_subcommands_and_their_errors(pair: Pair) -> None:
    s, s2, missing, string = pair.key("s"), pair.key("s2"), pair.key("missing"), pair.key("str")
    pair.check("SET", string, "x")
    pair.run(
        ["XADD", s, "1-0", "a", 1], ["XADD", s, "5-0", "a", 1], ["XDEL", s, "5-0"],
        ["XGROUP", "CREATE", s, "g", "$"], ["XGROUP", "CREATE", s, "g2", 0], ["XGROUP", "CREATE", s, "g", 0],
        ["XGROUP", "CREATE", s, "g3", 0, "ENTRIESREAD", 3], ["XGROUP", "CREATE", s, "g4", 0, "ENTRIESREAD", -2],
        ["XGROUP", "CREATE", s, "g4", 0, "ENTRIESREAD", -1], ["XGROUP", "CREATE", s, "g5", 0, "ENTRIESREAD", 9, "MKSTREAM"],
        ["XGROUP", "CREATE", s, "g6", 0, "FOO"], ["XGROUP", "CREATE", s, "g6", 0, "ENTRIESREAD"],
        ["XGROUP", "CREATE", s, "g6", 0, "ENTRIESREAD", "x"], ["XGROUP", "CREATE", s, "g6", "x"],
        ["XGROUP", "CREATE", s, "g6", "-"], ["XGROUP", "CREATE", s, "g6", "(1"], ["XGROUP", "CREATE", s, "g6", "1"],
        ["XGROUP", "CREATE", s, "g7", "0", "MKSTREAM", "MKSTREAM", "MKSTREAM", "MKSTREAM"],
        ["XGROUP", "CREATE", s, "g7", "0", "mkstream", "mkstream", "mkstream"],
        ["XGROUP", "CREATE", missing, "g", "$"], ["XGROUP", "CREATE", string, "g", "$"],
        ["XGROUP", "CREATE", string, "g", "$", "MKSTREAM"], ["XGROUP", "CREATE", s2, "g", "$", "MKSTREAM"],
        ["XGROUP", "CREATE", missing, "g", "x", "MKSTREAM"], ["EXISTS", missing], ["XINFO", "STREAM", s2],
        ["XINFO", "GROUPS", s], ["XINFO", "GROUPS", s2], ["XINFO", "GROUPS", missing], ["XINFO", "GROUPS", string],
        ["XGROUP", "SETID", missing, "g", "$"], ["XGROUP", "SETID", s, "nog", "$"], ["XGROUP", "SETID", s, "g", "x"],
        ["XGROUP", "SETID", s, "g", "5", "ENTRIESREAD", 3], ["XGROUP", "SETID", s, "g", "-"],
        ["XINFO", "GROUPS", s], ["XGROUP", "SETID", s, "g", "+"], ["XGROUP", "SETID", s, "g", "5", "MKSTREAM"],
        ["XGROUP", "SETID", s, "g", "5", "ENTRIESREAD", 3, "FOO"], ["XGROUP", "SETID", s, "g", "$", "ENTRIESREAD", -3],
        ["XGROUP", "SETID", s, "g", "$"], ["XINFO", "GROUPS", s],
        ["XGROUP", "DESTROY", s, "nog"], ["XGROUP", "DESTROY", missing, "g"], ["XGROUP", "DESTROY", s, "g", "x"],
        ["XGROUP", "CREATECONSUMER", s, "nog", "c"], ["XGROUP", "CREATECONSUMER", missing, "g", "c"],
        ["XGROUP", "CREATECONSUMER", s, "g", "c"], ["XGROUP", "CREATECONSUMER", s, "g", "c"],
        ["XGROUP", "CREATECONSUMER", s, "g", "b"], ["XGROUP", "CREATECONSUMER", s, "g", "c", "x"],
        ["XINFO", "GROUPS", s], ["XGROUP", "DELCONSUMER", s, "nog", "c"], ["XGROUP", "DELCONSUMER", s, "g", "c"],
        ["XGROUP", "DELCONSUMER", s, "g", "c"], ["XGROUP", "DELCONSUMER", missing, "g", "c"],
        ["XGROUP", "DESTROY", s, "g"], ["XGROUP", "DESTROY", s, "g"], ["XINFO", "GROUPS", s],
        ["XGROUP", "HELP"], ["XGROUP", "help", "x"], ["XGROUP", "FOO", s, "g"], ["XGROUP", "FOO"], ["XGROUP"],
        ["XINFO", "HELP"], ["XINFO", "HELP", "x"], ["XINFO", "FOO"], ["XINFO", "FOO", "bar"], ["xinfo", "help"],
    )


def test_xreadgroup_new_entries_history_and_noack(pair: Pair) -> None:
    s = pair.key("s")
    pair.run(
        ["XADD", s, "1-0", "a", 1], ["XADD", s, "2-0", "b", 2, "c", 3], ["XADD", s, "3-0", "a", 3],
        ["XGROUP", "CREATE", s, "g", 0], ["XREADGROUP", "GROUP", "g", "c1", "COUNT", 1, "STREAMS", s, ">"],
        ["XREADGROUP", "GROUP", "g", "c1", "COUNT", 1, "STREAMS", s, ">"], ["XINFO", "GROUPS", s],
        ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", s, ">"], ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", s, ">"],
        ["XINFO", "GROUPS", s], ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", s, 0],
        ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", s, "1-0"], ["XREADGROUP", "GROUP", "g", "c2", "COUNT", 1, "STREAMS", s, 0],
        ["XREADGROUP", "GROUP", "g", "c3", "STREAMS", s, 0], ["XDEL", s, "2-0"],
        # A deleted entry in a consumer's history reads as [id, nil] (*-1 in RESP2).
        ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", s, 0], ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", s, "0"],
        ["XADD", s, "4-0", "a", 4], ["XADD", s, "5-0", "a", 5],
        ["XREADGROUP", "GROUP", "g", "c3", "NOACK", "COUNT", 1, "STREAMS", s, ">"], ["XINFO", "GROUPS", s],
        ["XREADGROUP", "GROUP", "g", "c3", "STREAMS", s, "0"], ["XPENDING", s, "g"],
        ["XREADGROUP", "GROUP", "g", "c4", "NOACK", "STREAMS", s, ">"], ["XINFO", "GROUPS", s],
        # The greatest ID means ">" (Redis marks ">" that way).
        ["XADD", s, "6-0", "a", 6], ["XREADGROUP", "GROUP", "g", "c4", "STREAMS", s,
                                     "18446744073709551615-18446744073709551615"],
        ["XGROUP", "SETID", s, "g", "0"], ["XREADGROUP", "GROUP", "g", "c5", "COUNT", 2, "STREAMS", s, ">"],
        ["XPENDING", s, "g"], ["XINFO", "GROUPS", s],
    )


def test_xreadgroup_several_streams_and_errors(pair: Pair) -> None:
    s, t, missing, string = pair.key("s"), pair.key("t"), pair.key("missing"), pair.key("str")
    pair.run(
        ["SET", string, "x"], ["XADD", s, "1-0", "a", 1], ["XADD", t, "1-0", "b", 1], ["XGROUP", "CREATE", s, "g", 0],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, t, ">", ">"], ["XGROUP", "CREATE", t, "g", "$"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, t, ">", ">"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, t, ">", ">"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, t, "0", ">"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, t, "0", "0"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, "$"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, "x"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, "-"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, t, ">"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", missing, ">"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", string, ">"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, missing, ">", ">"],
        ["XREADGROUP", "GROUP", "nog", "c", "STREAMS", s, ">"], ["XREADGROUP", "STREAMS", s, ">"],
        ["XREADGROUP", "COUNT", 1, "STREAMS", s, ">"], ["XREADGROUP", "GROUP", "g", "c", "FOO", "STREAMS", s, ">"],
        ["XREADGROUP", "GROUP", "g", "c", "COUNT", "x", "STREAMS", s, ">"],
        ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "x", "STREAMS", s, ">"],
        ["XREADGROUP", "GROUP", "g", "c", "BLOCK", -1, "STREAMS", s, ">"],
        ["XREADGROUP", "GROUP", "g", "c", "GROUP", "g2", "c2", "STREAMS", s, ">"],
        ["XREADGROUP", "GROUP", "g", "c", "NOACK", "NOACK", "STREAMS", s, "0"],
        ["XREADGROUP", "GROUP", "g", "c", "COUNT", 5, "COUNT", 1, "STREAMS", s, "0"],
        ["XREADGROUP", "GROUP", "g", "c", "COUNT", -5, "STREAMS", s, "0"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, "(0"], ["XREADGROUP", "group", "g", "c", "streams", s, ">"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", s, "0", "1"],
    )


def test_xread(pair: Pair) -> None:
    s, t, missing, string = pair.key("s"), pair.key("t"), pair.key("missing"), pair.key("str")
    pair.run(
        ["SET", string, "x"], ["XADD", s, "1-0", "a", 1], ["XADD", s, "2-0", "a", 2], ["XADD", t, "5-0", "b", 1],
        ["XREAD", "STREAMS", s, 0], ["XREAD", "STREAMS", s, t, 0, 0], ["XREAD", "STREAMS", s, t, "1-0", "5-0"],
        ["XREAD", "STREAMS", s, t, "$", "$"], ["XREAD", "COUNT", 1, "STREAMS", s, t, 0, 0],
        ["XREAD", "COUNT", 0, "STREAMS", s, 0], ["XREAD", "COUNT", -1, "STREAMS", s, 0],
        ["XREAD", "STREAMS", missing, s, 0, 0], ["XREAD", "STREAMS", missing, 0], ["XREAD", "STREAMS", string, 0],
        ["XREAD", "STREAMS", s, string, 0, 0], ["XREAD", "STREAMS", s, "x"], ["XREAD", "STREAMS", s, "-"],
        ["XREAD", "STREAMS", s, "+"], ["XREAD", "STREAMS", s, "(0"], ["XREAD", "STREAMS", s, ">"],
        ["XREAD", "STREAMS", s, t, 0], ["XREAD", "STREAMS"], ["XREAD", "COUNT", 1],
        ["XREAD", "COUNT", 1, "BLOCK", 5], ["XREAD", "COUNT", "x", "STREAMS", s, 0],
        ["XREAD", "BLOCK", -1, "STREAMS", s, 0], ["XREAD", "BLOCK", "x", "STREAMS", s, 0],
        ["XREAD", "BLOCK", 0, "STREAMS", s, 0], ["XREAD", "GROUP", "g", "c", "STREAMS", s, 0],
        ["XREAD", "NOACK", "STREAMS", s, 0], ["XREAD", "FOO", "STREAMS", s, 0], ["XREAD", "STREAMS", s, 0, "BLOCK", 5],
        ["XREAD", "BLOCK", 0, "COUNT", 1, "STREAMS", s, 0, "extra"], ["xread", "count", 1, "streams", s, "1"],
        ["XDEL", s, "2-0"], ["XREAD", "STREAMS", s, "1-0"], ["XREAD", "STREAMS", s, "$"],
        ["XREAD", "STREAMS", s, "18446744073709551615-18446744073709551615"],
    )


def test_blocking_reads_inside_multi_answer_at_once(pair: Pair) -> None:
    s = pair.key("s")
    pair.run(["XADD", s, "1-0", "a", 1], ["XGROUP", "CREATE", s, "g", "$"], ["MULTI"],
             ["XREAD", "BLOCK", 0, "STREAMS", s, "$"], ["XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", s, ">"],
             ["XREADGROUP", "GROUP", "nog", "c", "BLOCK", 0, "STREAMS", s, ">"], ["XREAD", "BLOCK", 0, "STREAMS", s, 0],
             ["EXEC"])


def test_blocking_reads_are_refused_in_scripts(pair: Pair) -> None:
    if isinstance(pair.ours.call("EVAL", "return 1", 0), RespError):
        pytest.skip("specredis does not serve EVAL yet")
    s = pair.key("s")
    for script in ("return redis.pcall('xread','BLOCK','x','STREAMS',KEYS[1],'0')",
                   "return redis.pcall('XREADgroup','group','g','c','BLOCK','0','STREAMS',KEYS[1],'>')",
                   "return redis.pcall('xread','count','x','BLOCK','0','STREAMS',KEYS[1],'0')",
                   "return redis.pcall('xread','STREAMS',KEYS[1],'0')"):
        pair.check("EVAL", script, 1, s)


def test_xack_and_xpending(pair: Pair) -> None:
    s, missing, string = pair.key("s"), pair.key("missing"), pair.key("str")
    pair.run(["SET", string, "x"], *[["XADD", s, f"{i}-0", "f", i] for i in range(1, 6)],
             ["XGROUP", "CREATE", s, "g", 0], ["XGROUP", "CREATE", s, "empty", "$"],
             ["XREADGROUP", "GROUP", "g", "bob", "COUNT", 2, "STREAMS", s, ">"],
             ["XREADGROUP", "GROUP", "g", "alice", "COUNT", 2, "STREAMS", s, ">"],
             ["XREADGROUP", "GROUP", "g", "Zed", "COUNT", 1, "STREAMS", s, ">"],
             ["XGROUP", "CREATECONSUMER", s, "g", "idle-one"])
    pair.run(
        ["XPENDING", s, "g"], ["XPENDING", s, "empty"], ["XPENDING", s, "nog"], ["XPENDING", missing, "g"],
        ["XPENDING", string, "g"], ["XPENDING", missing, "g", "x", "+", 1], ["XPENDING", s, "g", "-"],
        ["XPENDING", s, "g", "-", "+"], ["XPENDING", s, "g", "-", "+", "x"], ["XPENDING", s, "g", "x", "+", 1],
        ["XPENDING", s, "g", "(-", "+", 1], ["XPENDING", s, "g", "IDLE", "x", "-", "+", 10],
        ["XPENDING", s, "g", "IDLE", 0, "-", "+"],
        ["XPENDING", s, "g", "-", "+", 1, "bob", "a", "b", "c"], ["XPENDING", s, "g", "-", "+", 0],
        ["XPENDING", s, "g", "-", "+", -1], ["XPENDING", s, "g", "-", "+", 10, "nobody"],
        ["XPENDING", s, "g", "IDLE", 100000, "-", "+", 10], ["XPENDING", s, "g", "5", "1", 10],
        ["XPENDING", s, "g", "(18446744073709551615-18446744073709551615", "+", 10],
        ["XPENDING", s, "g", "-", "(0-0", 10],
    )
    for argv in (["XPENDING", s, "g", "-", "+", 10], ["XPENDING", s, "g", "-", "+", 2],
                 ["XPENDING", s, "g", "-", "+", 10, "alice"], ["XPENDING", s, "g", "(1-0", "(5", 10],
                 ["XPENDING", s, "g", "IDLE", 0, "-", "+", 10], ["XPENDING", s, "g", "IDLE", -5, "2", "+", 3, "bob"],
                 ["XPENDING", s, "g", "idle", 0, "-", "+", 10, "Zed"],
                 ["XPENDING", s, "g", "-", "+", 1, "bob", "ignored"]):
        pair.check_timed(*argv)
    pair.run(
        ["XACK", s, "g", "1-0", "9-0"], ["XACK", s, "g", "1-0"], ["XACK", s, "g", "x"], ["XACK", s, "g", "2-0", "x"],
        ["XACK", s, "nog", "x"], ["XACK", missing, "g", "x"], ["XACK", string, "g", "1-0"], ["XACK", s, "g", "-"],
        ["XACK", s, "g", "2"], ["XPENDING", s, "g"], ["XACK", s, "g", "3-0", "4-0", "5-0", "3-0"], ["XPENDING", s, "g"],
        ["XINFO", "GROUPS", s],
    )
    pair.check_timed("XINFO", "CONSUMERS", s, "g")
    pair.run(["XINFO", "CONSUMERS", s, "nog"], ["XINFO", "CONSUMERS", missing, "g"], ["XINFO", "CONSUMERS", s, "empty"])


def test_xclaim(pair: Pair) -> None:
    s, missing = pair.key("s"), pair.key("missing")
    pair.run(*[["XADD", s, f"{i}-0", "f", i] for i in range(1, 6)], ["XGROUP", "CREATE", s, "g", 0],
             ["XREADGROUP", "GROUP", "g", "c1", "COUNT", 3, "STREAMS", s, ">"])
    pair.run(
        ["XCLAIM", s, "g", "c2", 0, "1-0", "2-0"], ["XCLAIM", s, "g", "c2", 0, "2-0", "JUSTID"],
        ["XCLAIM", s, "g", "c2", 0, "2-0", "FOO"], ["XCLAIM", s, "g", "c2", "x", "2-0"],
        ["XCLAIM", s, "g", "c2", 0, "2-0", "IDLE", "x"], ["XCLAIM", s, "g", "c2", 0, "2-0", "TIME", "x"],
        ["XCLAIM", s, "g", "c2", 0, "2-0", "RETRYCOUNT", "x"], ["XCLAIM", s, "g", "c2", 0, "2-0", "LASTID", "x"],
        ["XCLAIM", s, "g", "c2", 0, "2-0", "IDLE"], ["XCLAIM", s, "g", "c2", 0, "2-0", "RETRYCOUNT", 7, "JUSTID"],
        ["XCLAIM", s, "g", "c2", 0, "foo"], ["XCLAIM", s, "g", "c2", 0, "-"], ["XCLAIM", s, "g", "c2", 0, "+"],
        ["XCLAIM", s, "nog", "c2", 0, "1-0"], ["XCLAIM", missing, "g", "c2", 0, "1-0"],
        ["XCLAIM", s, "g", "c2", 0, "4-0"], ["XCLAIM", s, "g", "c2", 0, "4-0", "FORCE", "JUSTID"],
        ["XCLAIM", s, "g", "c3", 0, "5-0", "FORCE"], ["XCLAIM", s, "g", "c3", 0, "99-0", "FORCE"],
        ["XCLAIM", s, "g", "c4", 3600000, "3-0"], ["XCLAIM", s, "g", "c4", -5, "3-0", "JUSTID"],
        ["XCLAIM", s, "g", "c4", 0, "3-0", "LASTID", "10-0", "JUSTID"], ["XINFO", "GROUPS", s],
        ["XCLAIM", s, "g", "c4", 0, "1-0", "99-0", "LASTID", "20-0"], ["XINFO", "GROUPS", s],
        ["XCLAIM", s, "g", "c4", 0, "1-0", "LASTID", "15-0", "justid"], ["XINFO", "GROUPS", s],
        ["XCLAIM", s, "g", "c4", 0, "1-0", "IDLE", 100000, "RETRYCOUNT", 3, "JUSTID"],
        ["XCLAIM", s, "g", "c4", 0, "1-0", "TIME", 5, "JUSTID"], ["XCLAIM", s, "g", "c4", 0, "1-0", "TIME", -5, "JUSTID"],
        ["XCLAIM", s, "g", "c4", 0, "1-0", "IDLE", -100000, "JUSTID"],
        ["XCLAIM", s, "g", "c4", 0, "0001-0", "2-0", "2-0", "JUSTID"], ["XPENDING", s, "g"],
        # A pending entry whose stream entry was deleted is dropped from the PEL.
        ["XDEL", s, "2-0"], ["XCLAIM", s, "g", "c1", 0, "2-0"], ["XPENDING", s, "g"], ["XINFO", "GROUPS", s],
    )
    pair.check_timed("XPENDING", s, "g", "-", "+", 10)
    pair.check_timed("XINFO", "STREAM", s, "FULL")


def test_xautoclaim(pair: Pair) -> None:
    s = pair.key("s")
    pair.run(*[["XADD", s, f"{i}-0", "f", i] for i in range(1, 8)], ["XGROUP", "CREATE", s, "g", 0],
             ["XREADGROUP", "GROUP", "g", "c1", "COUNT", 4, "STREAMS", s, ">"])
    pair.run(
        ["XAUTOCLAIM", s, "g", "c2", 0, 0], ["XAUTOCLAIM", s, "g", "c3", 0, 0, "COUNT", 1],
        ["XAUTOCLAIM", s, "g", "c3", 0, "(1-0", "COUNT", 2], ["XAUTOCLAIM", s, "g", "c3", 0, "0", "COUNT", 0],
        ["XAUTOCLAIM", s, "g", "c3", 0, "0", "COUNT", "x"], ["XAUTOCLAIM", s, "g", "c3", 0, "0", "COUNT"],
        ["XAUTOCLAIM", s, "g", "c3", 0, "0", "JUSTID"], ["XAUTOCLAIM", s, "g", "c3", 0, "0", "FOO"],
        ["XAUTOCLAIM", s, "g", "c3", "x", "0"], ["XAUTOCLAIM", s, "g", "c3", 0, "x"],
        ["XAUTOCLAIM", s, "g", "c3", 0, "(18446744073709551615-18446744073709551615"],
        ["XAUTOCLAIM", s, "nog", "c3", 0, "0"], ["XAUTOCLAIM", pair.key("missing"), "g", "c3", 0, "0"],
        ["XAUTOCLAIM", s, "g", "c3", 0, "0", "COUNT", "9223372036854775807"],
        ["XAUTOCLAIM", s, "g", "c3", 0, "0", "COUNT", "576460752303423487"],
        ["XAUTOCLAIM", s, "g", "c3", 0, "0", "COUNT", "576460752303423488"],
        ["XAUTOCLAIM", s, "g", "c3", 3600000, "0"], ["XAUTOCLAIM", s, "g", "c3", -1, "0", "COUNT", 1, "JUSTID"],
        ["XDEL", s, "2-0", "3-0"], ["XAUTOCLAIM", s, "g", "c4", 0, "0", "COUNT", 1],
        ["XAUTOCLAIM", s, "g", "c4", 0, "0", "COUNT", 1], ["XAUTOCLAIM", s, "g", "c4", 0, "0", "COUNT", 5],
        ["XPENDING", s, "g"], ["XINFO", "GROUPS", s], ["XAUTOCLAIM", s, "g", "c5", 0, "5", "JUSTID"],
    )
    pair.check_timed("XINFO", "CONSUMERS", s, "g")


def test_lag_and_entries_read(pair: Pair) -> None:
    """XINFO GROUPS' entries-read and lag under 7.0's rules: exact while no tombstone lies ahead,
    estimated from the first entry, or unknown (nil)."""
    s = pair.key("s")
    steps = [
        ["XGROUP", "CREATE", s, "early", "$", "MKSTREAM"], ["XINFO", "GROUPS", s],
        *[["XADD", s, f"{i}-0", "f", i] for i in range(1, 11)],
        ["XGROUP", "CREATE", s, "g0", "0"], ["XGROUP", "CREATE", s, "gd", "$"], ["XGROUP", "CREATE", s, "g5", "5-0"],
        ["XGROUP", "CREATE", s, "ge", "0", "ENTRIESREAD", "4"], ["XGROUP", "CREATE", s, "gbig", "0", "ENTRIESREAD", 99],
        ["XINFO", "GROUPS", s], ["XREADGROUP", "GROUP", "g0", "c", "COUNT", 3, "STREAMS", s, ">"], ["XINFO", "GROUPS", s],
        ["XREADGROUP", "GROUP", "g5", "c", "COUNT", 1, "STREAMS", s, ">"], ["XINFO", "GROUPS", s],
        ["XDEL", s, "8-0"], ["XINFO", "GROUPS", s], ["XREADGROUP", "GROUP", "g0", "c", "COUNT", 2, "STREAMS", s, ">"],
        ["XINFO", "GROUPS", s], ["XREADGROUP", "GROUP", "g0", "c", "STREAMS", s, ">"], ["XINFO", "GROUPS", s],
        ["XDEL", s, "1-0"], ["XINFO", "GROUPS", s], ["XTRIM", s, "MAXLEN", 5], ["XINFO", "GROUPS", s],
        ["XINFO", "STREAM", s], ["XADD", s, "11-0", "f", 11], ["XINFO", "GROUPS", s],
        ["XGROUP", "SETID", s, "g5", "3-0"], ["XINFO", "GROUPS", s], ["XGROUP", "SETID", s, "g5", "6-0", "ENTRIESREAD", 6],
        ["XINFO", "GROUPS", s], ["XREADGROUP", "GROUP", "g5", "c", "NOACK", "STREAMS", s, ">"], ["XINFO", "GROUPS", s],
        ["XSETID", s, "20-0", "ENTRIESADDED", 30, "MAXDELETEDID", "15-0"], ["XINFO", "GROUPS", s],
        ["XTRIM", s, "MAXLEN", 0], ["XINFO", "GROUPS", s], ["XINFO", "STREAM", s],
        ["XGROUP", "SETID", s, "ge", "25-0"], ["XINFO", "GROUPS", s], ["XADD", s, "30-0", "f", 1], ["XINFO", "GROUPS", s],
    ]
    pair.run(*steps)
    pair.check_timed("XINFO", "STREAM", s, "FULL")


def test_xinfo_stream_full(pair: Pair) -> None:
    s, missing = pair.key("s"), pair.key("missing")
    pair.run(*[["XADD", s, f"{i}-0", "f", i] for i in range(1, 16)], ["XGROUP", "CREATE", s, "g", 0],
             ["XGROUP", "CREATE", s, "b", "$"], ["XREADGROUP", "GROUP", "g", "c1", "COUNT", 12, "STREAMS", s, ">"],
             ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", s, ">"], ["XGROUP", "CREATECONSUMER", s, "b", "x"])
    pair.run(
        ["XINFO", "STREAM", s, "FOO"], ["XINFO", "STREAM", s, "FULL", "FOO"], ["XINFO", "STREAM", s, "FULL", "COUNT"],
        ["XINFO", "STREAM", s, "FULL", "COUNT", "x"], ["XINFO", "STREAM", s, "FULL", "COUNT", 1, "x"],
        ["XINFO", "STREAM", s, "FULL", "LIMIT", 1], ["XINFO", "STREAM", missing], ["XINFO", "STREAM", missing, "FOO"],
        ["XINFO", "STREAM", s],
    )
    for tail in ([], ["COUNT", 0], ["COUNT", 3], ["COUNT", -5], ["count", 1]):
        pair.check_timed("XINFO", "STREAM", s, "full", *tail)
