"""What writes propagate to replicas and the AOF, compared with a real Redis 7.0.15 master.

The reference side is a master with a replica; MONITOR on the replica shows exactly the
commands the master propagated (with the database they ran in). Our side is an
in-process engine with a consumer in ``engine.propagation_consumers``. Both run the same
command sequence; absolute times computed from "now" (SET EX -> SET PXAT <ms>) are
compared up to a tolerance.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from servers import ServerProcess, reference_master_and_replica

from specredis.engine.core import Engine
from specredis.protocol.client import RespClient, Status
from specredis.protocol.parser import split_args

END_MARK = b"__end_of_sequence__"
START_MARK = b"__start_of_sequence__"


@pytest.fixture(scope="module")
def master_and_replica() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with reference_master_and_replica("--enable-debug-command", "yes") as (master, replica):
        # A key set with a time already past (SET k v PXAT 1) stays until something reclaims
        # it: on the in-process side only a command; on the reference its active expiry too,
        # whenever its cron comes round (within a slow sequence, a DEL k more). Off, as here.
        with RespClient(master.host, master.port) as admin:
            assert admin.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == Status("OK")
        yield master, replica


Op = tuple[int, list[bytes]]


def reference_stream(master: ServerProcess, replica: ServerProcess, commands: list) -> list[Op]:
    monitor = replica.client()
    assert monitor.call("MONITOR") == Status("OK")
    conn = master.client()
    try:
        # The replica may still be applying what the master sent before MONITOR was on (the
        # FLUSHALL, an earlier test's sequence): the feed counts from this mark, which
        # touches no key.
        conn.call("PUBLISH", START_MARK, "1")
        for command in commands:
            if command[0] == "SLEEP":
                time.sleep(command[1])
            else:
                conn.call(*command)
        conn.call("SET", END_MARK, "1")
        ops: list[Op] | None = None
        while True:
            line = monitor.read_reply()
            text = line.text.encode("latin-1") if isinstance(line, Status) else line
            head, _, rest = text.partition(b"] ")
            dbid = int(head.split(b"[", 1)[1].split()[0])
            argv = split_args(rest)
            if argv[:2] == [b"PUBLISH", START_MARK]:
                ops = []
            elif argv[:2] == [b"SET", END_MARK]:
                assert ops is not None, "the end mark came before the start mark"
                return ops
            elif ops is not None and argv[0].upper() not in (b"SELECT", b"PING", b"REPLCONF"):
                ops.append((dbid, argv))
    finally:
        conn.close()
        monitor.close()


def our_stream(commands: list) -> list[Op]:
    engine = Engine()
    client = engine.new_client()
    ops: list[Op] = []
    engine.propagation_consumers.append(lambda dbid, batch: ops.extend((dbid, list(argv)) for argv in batch))
    for command in commands:
        if command[0] == "SLEEP":
            time.sleep(command[1])
        else:
            engine.execute(client, [a if isinstance(a, bytes) else str(a).encode() for a in command])
    return ops


def normalize(ops: list[Op]) -> list[Op]:
    """Absolute times near now (computed from relative TTLs) become a placeholder."""
    now = time.time() * 1000
    out: list[Op] = []
    for dbid, argv in ops:
        norm = []
        for arg in argv:
            if arg.isdigit() and abs(int(arg) - now) < 600_000:
                arg = b"<now-based ms>"
            norm.append(arg)
        out.append((dbid, norm))
    return out


def assert_same_stream(master_and_replica: tuple, commands: list) -> list[Op]:
    master, replica = master_and_replica
    RespClient(port=master.port).call("FLUSHALL")
    expected = normalize(reference_stream(master, replica, commands))
    actual = normalize(our_stream(commands))
    assert actual == expected
    return expected


def test_string_commands_propagate_like_redis(master_and_replica: tuple) -> None:
    stream = assert_same_stream(master_and_replica, [
        ["SET", "a", 1], ["SET", "b", 2, "EX", 100], ["SET", "c", 3, "PX", 100000], ["SET", "d", 4, "EXAT", 4000000000],
        ["SET", "e", 5, "PXAT", 4000000000000], ["SET", "e", 5, "PXAT", 4000000000000, "GET"], ["SET", "f", 6, "KEEPTTL"],
        ["SET", "b", 7, "GET", "EX", 100], ["SET", "b", 8, "GET"], ["SET", "b", 9, "get", "XX", "GET"],
        ["SET", "nx1", 9, "NX", "GET"], ["SET", "b", "x", "NX"], ["SET", "b", "y", "XX", "PX", 5000, "GET"],
        ["SET", "b", "z", "EX", 0], ["SET", "k", "v", "PXAT", 1], ["SETEX", "g", 100, "v"], ["PSETEX", "h", 100000, "v"],
        ["SETNX", "i", "v"], ["SETNX", "i", "w"], ["GETSET", "i", "w"], ["GETDEL", "i"], ["GETDEL", "nosuch"],
        ["GETEX", "g", "EX", 100], ["GETEX", "g", "PERSIST"], ["GETEX", "g", "PERSIST"], ["GETEX", "g", "PXAT", 4000000000000],
        ["GETEX", "g"], ["GETEX", "g", "EXAT", 1], ["INCR", "n"], ["INCRBY", "n", 5], ["DECR", "n"], ["DECRBY", "n", 2],
        ["INCRBYFLOAT", "fl", "1.5"], ["INCRBYFLOAT", "fl", "3.0e3"], ["SET", "fl", "x"], ["INCRBYFLOAT", "fl", 1],
        ["APPEND", "ap", "x"], ["APPEND", "ap", ""], ["SETRANGE", "ap", 3, "y"], ["SETRANGE", "ap", 0, ""],
        ["SETRANGE", "nokey", 0, ""], ["MSET", "m1", 1, "m2", 2], ["MSETNX", "m3", 1, "m4", 2], ["MSETNX", "m3", 1],
        ["SET", "zz", 1, "PX", 1], ["SLEEP", 0.01], ["GET", "zz"],
    ])
    assert (0, [b"SET", b"b", b"2", b"PXAT", b"<now-based ms>"]) in stream


def test_keyspace_and_expire_commands_propagate_like_redis(master_and_replica: tuple) -> None:
    assert_same_stream(master_and_replica, [
        ["MSET", "a", 1, "m1", 1, "m2", 2, "m5", "z"], ["EXPIRE", "a", 100], ["PEXPIRE", "a", 100000],
        ["EXPIREAT", "a", 4000000000], ["PEXPIREAT", "a", 4000000000000], ["pexpireat", "a", 4000000000000, "gt"],
        ["EXPIRE", "a", 100, "NX"], ["EXPIRE", "a", 200, "XX"], ["EXPIRE", "a", 100, "GT"], ["EXPIRE", "a", 1, "lt"],
        ["PERSIST", "a"], ["PERSIST", "a"], ["EXPIRE", "a", 100, "GT"], ["EXPIRE", "m1", -1], ["PEXPIREAT", "m5", 1],
        ["EXPIRE", "nosuch", 10], ["RENAME", "m2", "m6"], ["RENAME", "m6", "m6"], ["RENAMENX", "m6", "m7"],
        ["COPY", "m7", "m8"], ["COPY", "m7", "m8"], ["COPY", "m7", "m8", "REPLACE", "DB", 3], ["MOVE", "m8", 1],
        ["SELECT", 1], ["MOVE", "m8", 0], ["SET", "in1", "v"], ["SELECT", 0], ["SWAPDB", 0, 1], ["SWAPDB", 0, 1],
        ["UNLINK", "m7"], ["DEL", "m3", "m4", "nosuch"], ["DEL", "nosuch"], ["TOUCH", "a"], ["EXISTS", "a"],
        ["FLUSHDB"], ["FLUSHDB"], ["FLUSHALL", "ASYNC"], ["FLUSHDB", "sync"], ["SET", "x", 1], ["FLUSHALL"],
    ])


def test_lazyfree_options_change_the_deletion_verb(master_and_replica: tuple) -> None:
    master, _ = master_and_replica
    conn = RespClient(port=master.port)
    engine_settings = [["CONFIG", "SET", "lazyfree-lazy-expire", "yes"], ["CONFIG", "SET", "lazyfree-lazy-user-del", "yes"]]
    for command in engine_settings:
        conn.call(*command)
    try:
        assert_same_stream(master_and_replica, [
            *engine_settings, ["SET", "a", 1], ["EXPIRE", "a", -1], ["SET", "b", 1], ["GETDEL", "b"],
            ["SET", "c", 1], ["GETEX", "c", "PXAT", 1], ["SET", "d", 1, "PX", 1], ["SLEEP", 0.01], ["EXISTS", "d"],
            ["SET", "e", 1], ["DEL", "e"],
        ])
    finally:
        conn.call("CONFIG", "SET", "lazyfree-lazy-expire", "no")
        conn.call("CONFIG", "SET", "lazyfree-lazy-user-del", "no")
        conn.close()
