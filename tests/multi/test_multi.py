"""MULTI/EXEC/DISCARD/WATCH/UNWATCH against the reference: queueing, aborts, WATCH invalidation."""

from __future__ import annotations

import time

import pytest
from blocking.scenes import Scene, compare, encode
from lists.differential import Pair


def test_transaction_errors_and_queueing(pair: Pair) -> None:
    k = pair.key("k")
    pair.run(
        ["EXEC"], ["DISCARD"], ["MULTI"], ["MULTI"], ["WATCH", k], ["RPUSH", k, "a"], ["EXEC"],
        # A queueing error (arity, unknown command) aborts the whole transaction.
        ["MULTI"], ["RPUSH", k], ["LLEN", k], ["EXEC"], ["MULTI"], ["NOSUCHCMD", "x"], ["EXEC"],
        ["MULTI"], ["hget", k], ["EXEC"], ["LLEN", k],
        # Runtime errors do not: the other commands run.
        ["MULTI"], ["HSET", k, "f", "v"], ["RPUSH", k, "b"], ["LPOP", k, "x"], ["LRANGE", k, 0, -1], ["EXEC"],
        ["MULTI"], ["DISCARD"], ["UNWATCH"], ["WATCH"], ["MULTI"], ["UNWATCH"], ["EXEC"],
        ["MULTI"], ["EXEC"], ["multi"], ["ping"], ["exec"],
    )


def test_replies_inside_exec_keep_their_types(pair: Pair) -> None:
    h, k = pair.key("h"), pair.key("k")
    pair.run(["MULTI"], ["HSET", h, "a", 1], ["HGETALL", h], ["HRANDFIELD", h, 1, "WITHVALUES"], ["LPOP", k, 2],
             ["BLPOP", k, 0], ["LMPOP", 1, k, "LEFT"], ["HINCRBYFLOAT", h, "a", "0.5"], ["PING"], ["ECHO", "x"],
             ["EXEC"])


def test_multi_in_a_pipeline(pair: Pair) -> None:
    k = pair.key("k")
    commands = [["MULTI"], ["RPUSH", k, 1], ["RPUSH", k, 2], ["LRANGE", k, 0, -1], ["EXEC"], ["LLEN", k],
                ["MULTI"], ["RPUSH", k], ["EXEC"], ["MULTI"], ["DISCARD"], ["EXEC"]]
    expected = pair.ref.conn.pipeline(commands)
    actual = pair.ours.conn.pipeline(commands)
    assert actual == expected


WATCH_CASES = [
    # (name, setup by the watcher, commands by another client between WATCH and EXEC)
    ("modified by another client", [], [["RPUSH", "{k}", "x"]]),
    ("deleting a missing key is no change", [], [["DEL", "{k}"]]),
    ("popping a missing key is no change", [], [["LPOP", "{k}"]]),
    ("same value written again", [["HSET", "{k}", "f", "v"]], [["HSET", "{k}", "f", "v"]]),
    ("another key", [], [["RPUSH", "{k}other", "x"]]),
    ("HDEL of a missing field", [["HSET", "{k}", "f", "v"]], [["HDEL", "{k}", "zz"]]),
    ("HSETNX on an existing field", [["HSET", "{k}", "f", "1"]], [["HSETNX", "{k}", "f", "2"]]),
    ("HINCRBY by 0 still writes", [["HSET", "{k}", "f", "1"]], [["HINCRBY", "{k}", "f", 0]]),
    ("LREM removing nothing", [["RPUSH", "{k}", "a"]], [["LREM", "{k}", 0, "z"]]),
    ("LTRIM keeping everything still writes", [["RPUSH", "{k}", "a"]], [["LTRIM", "{k}", 0, -1]]),
    ("LINSERT without the pivot", [["RPUSH", "{k}", "a"]], [["LINSERT", "{k}", "BEFORE", "z", "q"]]),
    ("LSET to the same value", [["RPUSH", "{k}", "a"]], [["LSET", "{k}", 0, "a"]]),
    ("LMOVE onto itself", [["RPUSH", "{k}", "a"]], [["LMOVE", "{k}", "{k}", "LEFT", "LEFT"]]),
    ("expire set", [["RPUSH", "{k}", "a"]], [["EXPIRE", "{k}", 100]]),
    ("persist without a TTL", [["RPUSH", "{k}", "a"]], [["PERSIST", "{k}"]]),
    ("FLUSHALL of a missing key", [], [["FLUSHALL"]]),
    ("FLUSHALL of an existing key", [["RPUSH", "{k}", "a"]], [["FLUSHALL"]]),
    ("FLUSHDB of another database", [["RPUSH", "{k}", "a"]], [["SELECT", 1], ["FLUSHDB"], ["SELECT", 0]]),
    ("SWAPDB, both missing", [], [["SWAPDB", 0, 1]]),
    ("SWAPDB bringing the key in", [["SELECT", 1], ["RPUSH", "{k}", "a"], ["SELECT", 0]], [["SWAPDB", 0, 1]]),
    ("key expires meanwhile", [["RPUSH", "{k}", "a"], ["PEXPIRE", "{k}", 50]], [["SLEEP"]]),
]


@pytest.mark.parametrize("case", WATCH_CASES, ids=[case[0] for case in WATCH_CASES])
def test_watch_is_invalidated_as_in_redis(specredis, reference, protocol, case) -> None:
    name, setup, between = case
    needed = {command[0] for command in setup + between} - {"SLEEP"}
    probe = specredis.client()
    try:
        for command in needed:
            reply = probe.call("COMMAND", "INFO", command)
            if reply == [None]:
                pytest.skip(f"specredis does not serve {command} yet")
    finally:
        probe.close()

    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("k").decode()

        def run(conn, command):
            if command == ["SLEEP"]:
                time.sleep(0.1)
                return
            s.call(conn, *[str(x).replace("{k}", k) for x in command])

        s.call(a, "FLUSHALL")
        for command in setup:
            run(a, command)
        s.call(a, "WATCH", k)
        for command in between:
            run(b, command)
        for command in (["MULTI"], ["PING"], ["EXEC"]):
            s.call(a, *command)
        # The transaction is over: WATCH no longer applies.
        s.call(b, "RPUSH", k, "after")
        for command in (["MULTI"], ["PING"], ["EXEC"]):
            s.call(a, *command)

    compare(specredis, reference, protocol, scenario)


def test_watch_details(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("k")
        exec_ = [["MULTI"], ["PING"], ["EXEC"]]

        def transaction() -> None:
            for command in exec_:
                s.call(a, *command)

        # Modified by the watcher itself before MULTI: aborted too.
        s.call(a, "WATCH", k), s.call(a, "RPUSH", k, "self"), transaction()
        # UNWATCH forgets; DISCARD forgets.
        s.call(a, "WATCH", k), s.call(a, "UNWATCH"), s.call(b, "RPUSH", k, "x"), transaction()
        s.call(a, "WATCH", k), s.call(b, "RPUSH", k, "y")
        s.call(a, "MULTI"), s.call(a, "DISCARD"), transaction()
        # Several keys, one touched; watching the same key twice.
        s.call(a, "WATCH", k, s.key("j"), k), s.call(b, "HSET", s.key("j"), "f", "v"), transaction()
        # A key watched in another database.
        s.call(a, "SELECT", 2), s.call(a, "WATCH", k), s.call(a, "SELECT", 0), s.call(b, "RPUSH", k, "z")
        transaction()
        s.call(b, "SELECT", 2), s.call(a, "WATCH", k), s.call(b, "RPUSH", k, "w"), transaction()
        # The watched transaction's own writes go through.
        s.call(a, "WATCH", k)
        for command in (["MULTI"], ["RPUSH", k, "mine"], ["LLEN", k], ["EXEC"]):
            s.call(a, *command)

    compare(specredis, reference, protocol, scenario)


def test_watching_an_already_expired_key(specredis, reference, protocol) -> None:
    probe = specredis.client()
    reply = probe.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    probe.close()
    if not reply or getattr(reply, "text", "") != "OK":
        pytest.skip("specredis does not serve DEBUG SET-ACTIVE-EXPIRE yet")

    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("k")
        s.call(a, "DEBUG", "SET-ACTIVE-EXPIRE", 0)
        try:
            s.call(a, "RPUSH", k, "v"), s.call(a, "PEXPIRE", k, 20)
            time.sleep(0.05)
            s.call(a, "WATCH", k)
            for command in (["MULTI"], ["PING"], ["EXEC"]):
                s.call(a, *command)
            s.call(a, "RPUSH", k, "v"), s.call(a, "PEXPIRE", k, 20)
            time.sleep(0.05)
            s.call(a, "WATCH", k)
            s.call(b, "LLEN", k)                # lazily deletes it: no logical change
            for command in (["MULTI"], ["PING"], ["EXEC"]):
                s.call(a, *command)
        finally:
            s.call(a, "DEBUG", "SET-ACTIVE-EXPIRE", 1)

    compare(specredis, reference, protocol, scenario)


def test_exec_and_discard_on_a_pipeline_of_raw_requests(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a = s.client()
        k = s.key("k")
        a.sock.sendall(b"".join(encode(c) for c in (["MULTI"], ["RPUSH", k, "a"], ["WATCH", k], ["MULTI"],
                                                     ["EXEC"], ["LRANGE", k, 0, -1])))
        for _ in range(6):
            s.expect(a)

    compare(specredis, reference, protocol, scenario)
