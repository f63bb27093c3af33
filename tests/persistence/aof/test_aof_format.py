"""What the AOF records for each kind of write, byte for byte as redis-server 7.0.15 records it.

The same command sequences run on both servers with ``appendonly yes``; the incr files
must hold the same commands, SELECTs and MULTI/EXEC wrappers in the same order (times
computed from "now" and SPOP's random choices aside).
"""

from __future__ import annotations

import re
import shutil
import time

import pytest
from aof_helpers import incr_data, parse_aof
from servers import start_reference, start_specredis

from specredis.protocol.parser import split_args

SEQUENCES = {
    "strings": """
        SET s1 v EX 100
        SET s2 v PX 100000
        SET s3 v EXAT 4000000000
        SET s4 v PXAT 4000000000000
        SET s1 w KEEPTTL
        SET s5 v GET
        SET s5 x NX
        SET s5 y XX GET
        SETEX s6 100 v
        PSETEX s7 100000 v
        SETNX s8 v
        GETEX s6 EX 200
        GETEX s6 PERSIST
        GETEX s6
        GETDEL s8
        GETSET s5 z
        INCRBYFLOAT f 1.5
        INCRBYFLOAT f 2e3
        INCR n
        INCRBY n 5
        DECRBY n 2
        APPEND s1 xyz
        SETRANGE s1 10 abc
        MSET m1 a m2 b
        MSETNX m3 c m4 d
        SETBIT bits 7 1
        BITOP OR bits2 bits s1
        BITFIELD bits INCRBY u8 0 10
        BITFIELD bits OVERFLOW FAIL INCRBY u8 0 300
        PFADD hll a b c
        PFCOUNT hll
        PFADD hll2 x
        PFMERGE hll3 hll hll2
    """,
    "keyspace": """
        MSET m1 a m2 b m3 c m4 d
        EXPIRE m1 100
        PEXPIRE m2 100000
        EXPIREAT m3 4000000000
        PEXPIREAT m4 4000000000000
        EXPIRE m1 50 GT
        EXPIRE m1 200 GT
        PERSIST m1
        EXPIRE m4 -1
        RENAME m2 m2b
        RENAMENX m3 m3b
        COPY m2b m2c
        MOVE m2c 3
        SELECT 3
        SET indb3 1
        SWAPDB 3 4
        SELECT 0
        DEL m3b nothere
        UNLINK m1
        SELECT 5
        SET x 1
        FLUSHDB
        SELECT 0
        SET after 1
        FLUSHALL
        SET last 1
    """,
    "lists": """
        RPUSH l a b c d e
        LPUSH l z
        LPUSHX nolist x
        LPOP l
        RPOP l 2
        LSET l 0 q
        LINSERT l BEFORE q p
        LREM l 1 p
        LTRIM l 0 10
        LMOVE l l2 LEFT RIGHT
        RPOPLPUSH l l2
        BLPOP l 1
        BRPOP l2 1
        BLMOVE l2 l LEFT LEFT 1
        LMPOP 2 l l2 LEFT COUNT 1
        BLMPOP 1 2 l l2 RIGHT
        BRPOPLPUSH l l3 1
        SORT l3 STORE sorted
    """,
    "sets-and-sorted-sets": """
        SADD st a b c 1 2
        SREM st a
        SMOVE st st2 b
        SINTERSTORE st3 st st2
        SUNIONSTORE st4 st st2
        SDIFFSTORE st5 st st2
        ZADD z 1 a 2 b 3 c
        ZADD z GT CH 5 a
        ZADD z INCR 2 b
        ZINCRBY z 1.5 b
        ZREM z c
        ZPOPMIN z
        ZPOPMAX z 2
        ZADD z 1 a 2 b 3 c 4 d
        BZPOPMIN z 1
        BZPOPMAX z 1
        ZMPOP 1 z MIN COUNT 1
        BZMPOP 1 1 z MAX
        ZADD z2 1 x 2 y
        ZUNIONSTORE z3 2 z z2
        ZINTERSTORE z4 2 z z2
        ZDIFFSTORE z7 2 z2 z
        ZRANGESTORE z5 z2 0 -1
        ZREMRANGEBYSCORE z2 0 1
        ZREMRANGEBYRANK z2 0 0
        ZADD z6 0 a 0 b 0 c
        ZREMRANGEBYLEX z6 [a [b
        GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
        GEOSEARCHSTORE geo2 geo FROMLONLAT 15 37 BYRADIUS 200 km ASC
        GEORADIUS geo 15 37 200 km STORE geo3
    """,
    "hashes": """
        HSET h f v g w
        HSETNX h f v
        HSETNX h new v
        HMSET h a 1 b 2
        HINCRBY h a 5
        HINCRBYFLOAT h b 1.5
        HDEL h g
        HDEL h nothere
    """,
    "streams": """
        XADD x 1-1 f v
        XADD x 2-1 f v g w
        XADD x MAXLEN 5 3-1 f v
        XADD x NOMKSTREAM 4-1 a b
        XADD x MINID = 1-5 5-1 c d
        XTRIM x MAXLEN 3
        XDEL x 2-1
        XGROUP CREATE x g 0
        XGROUP CREATE x g2 $ ENTRIESREAD 3
        XGROUP CREATECONSUMER x g c1
        XREADGROUP GROUP g c1 COUNT 1 STREAMS x >
        XACK x g 3-1
        XGROUP SETID x g 0
        XREADGROUP GROUP g c2 STREAMS x >
        XCLAIM x g c3 0 3-1
        XAUTOCLAIM x g c4 0 0
        XGROUP DELCONSUMER x g c1
        XSETID x 10-1
        XGROUP DESTROY x g
    """,
    "transactions-and-scripts": """
        MULTI
        SET e 1
        GET e
        EXEC
        MULTI
        SET f 1
        PUBLISH x y
        EXEC
        MULTI
        SET a 1
        SELECT 2
        SET b 2
        EXEC
        SELECT 0
        PUBLISH chan msg
        EVAL "redis.call('set','y','2')" 0
        EVAL "redis.call('set','y','2') redis.call('set','z','3')" 0
        EVAL "redis.call('publish','a','b') redis.call('set','y','3')" 0
        EVAL "redis.call('select', 1) redis.call('set','in1','x') redis.call('set','in1b','y')" 0
        FUNCTION LOAD "#!lua name=mylib\\nredis.register_function('myset', function(keys, args) return redis.call('set', keys[1], args[1]) end)"
        FCALL myset 1 fk fv
        FUNCTION DELETE mylib
        SADD big 1 2 3 4 5 6 7 8 9 10
        SPOP big 3
        SPOP big
        SPOP big 100
    """,
}

_NOW_BASED = re.compile(rb"^1[789]\d{11}$")


def normalize(commands: list[list[bytes]]) -> list[list[bytes]]:
    """Times from "now" and SPOP's random members become placeholders."""
    out = []
    for argv in commands:
        argv = [b"<now-based ms>" if _NOW_BASED.match(arg) else arg for arg in argv]
        if argv[0] == b"XCLAIM":
            argv[argv.index(b"TIME") + 1] = b"<delivery time>"
        if argv[0] == b"SREM" and argv[1] == b"big":
            argv = [argv[0], argv[1], b"<random member>"]
        out.append(argv)
    return out


def aof_of(start, lines: list[str], *args: str) -> list[list[bytes]]:
    server = start("--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--appendfsync", "always",
                   "--enable-debug-command", "yes", *args)
    try:
        client = server.client()
        for line in lines:
            client.call(*split_args(line.encode()))
        time.sleep(0.1)
        return normalize(parse_aof(incr_data(server.dir)))
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.mark.parametrize("sequence", sorted(SEQUENCES))
def test_aof_records_writes_as_redis(sequence: str) -> None:
    lines = [line.strip() for line in SEQUENCES[sequence].strip().splitlines() if line.strip()]
    assert aof_of(start_specredis, lines) == aof_of(start_reference, lines)


# A key found expired by a command: its DEL joins the command's propagation (MULTI, DEL, the
# write, EXEC); a read that finds several expired keys propagates their DELs as one transaction;
# a command that changes nothing propagates only the DEL; SCAN's DELs go one by one.
LAZY_EXPIRY = {
    "write": ["SET k 5 PX 1", "DEBUG SLEEP 0.05", "INCR k"],
    "write-with-ttl": ["SET k 5 PX 1", "DEBUG SLEEP 0.05", "SET k v EX 100"],
    "write-changing-nothing": ["SET k 5 PX 1", "DEBUG SLEEP 0.05", "EXPIRE k 100"],
    "read": ["SET k 5 PX 1", "DEBUG SLEEP 0.05", "GET k", "SET z 1"],
    "read-of-two": ["SET k 5 PX 1", "SET j 5 PX 1", "DEBUG SLEEP 0.05", "MGET k j"],
    "delete-after-a-delete": ["SET a 1", "SET k 5 PX 1", "DEBUG SLEEP 0.05", "DEL a k"],
    "delete-of-two-expired": ["SET k 5 PX 1", "SET j 5 PX 1", "DEBUG SLEEP 0.05", "DEL k j q"],
    "in-multi": ["SET k 5 PX 1", "SET j 1 PX 1", "DEBUG SLEEP 0.05", "MULTI", "INCR k", "GET j", "SET x 1", "EXEC"],
    "read-in-multi": ["SET k 5 PX 1", "DEBUG SLEEP 0.05", "MULTI", "GET k", "EXEC"],
    "in-script": ["SET k 5 PX 1", "DEBUG SLEEP 0.05", "EVAL \"redis.call('incr','k') return 1\" 0"],
    "read-in-script": ["SET k 5 PX 1", "DEBUG SLEEP 0.05", "EVAL \"return redis.call('get','k')\" 0"],
    "other-db": ["SELECT 2", "SET k 5 PX 1", "DEBUG SLEEP 0.05", "SELECT 0", "SET a 1", "SELECT 2", "INCR k"],
    "scan": ["SET k 5 PX 1", "DEBUG SLEEP 0.05", "SCAN 0"],
}


@pytest.mark.parametrize("path", ["hot-loop", "pure-python"])
def test_lazy_expiry_inside_a_command_is_propagated_as_redis(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case in one AOF per server (a FLUSHALL between cases), through the C hot loop
    and through the pure-Python path (both decide whether the command itself propagates)."""
    if path == "pure-python":
        monkeypatch.setenv("SPECREDIS_PURE_PYTHON", "1")
    lines = ["DEBUG SET-ACTIVE-EXPIRE 0"]
    for case in sorted(LAZY_EXPIRY):
        lines += ["SELECT 0", "FLUSHALL", f"SET case {case}", *LAZY_EXPIRY[case]]
    expected = aof_of(start_reference, lines)
    assert len(expected) > 60
    assert aof_of(start_specredis, lines) == expected


def _served_blocked_aof(start) -> list[list[bytes]]:
    """A BLMOVE served after blocking whose destination had expired meanwhile, and one served
    at once with directions in mixed case."""
    server = start("--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--appendfsync", "always",
                   "--enable-debug-command", "yes")
    try:
        blocked, other = server.client(), server.client()
        other.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        other.call("RPUSH", "dst", "old")
        other.call("PEXPIRE", "dst", "1")
        time.sleep(0.05)
        blocked.send("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
        deadline = time.monotonic() + 5
        while other.call("CLIENT", "LIST", "TYPE", "normal").count(b"cmd=blmove") == 0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        other.call("RPUSH", "src", "v", "w")
        assert blocked.read_reply() == b"v"
        other.call("BLMOVE", "src", "dst", "LeFt", "rIGHT", "0")
        other.call("SET", "after", "1")
        time.sleep(0.1)
        return normalize(parse_aof(incr_data(server.dir)))
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


def test_blocked_clients_served_are_propagated_as_redis() -> None:
    expected = _served_blocked_aof(start_reference)
    assert [b"MULTI"] in expected
    assert _served_blocked_aof(start_specredis) == expected
