"""Blocking list commands with several clients: the same scenario on both servers, same transcript.

Each scenario drives a few connections to one server and records what every
client sees (replies, or ``"pending"`` when nothing arrives in time). It runs
against the reference Redis and against specredis, on RESP2 and RESP3, and the
two transcripts must be identical.
"""

from __future__ import annotations

import time

import pytest
from blocking.scenes import PENDING, Scene, compare
from blocking.scenes import encode as _encode

from specredis.protocol.client import RespClient, RespError


def test_clients_are_served_first_come_first_served(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b, c, d = s.client(), s.client(), s.client(), s.client()
        k = s.key("k")
        s.send(b, "BLPOP", k, 0)
        s.send(c, "BRPOP", k, 0)
        s.send(d, "BLPOP", k, 0)
        s.call(a, "RPUSH", k, 1, 2)
        s.expect(b), s.expect(c), s.expect(d, wait=0.3)
        s.call(a, "LPUSH", k, 3, 4)
        s.expect(d)
        s.call(a, "LRANGE", k, 0, -1)

    log = compare(specredis, reference, protocol, scenario)
    assert log[1][2][1] == b"1" and log[3][2] == PENDING       # the scenario does exercise the order


def test_a_transaction_wakes_waiters_only_when_it_ends(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b, c = s.client(), s.client(), s.client()
        k, k1, k2 = s.key("k"), s.key("k1"), s.key("k2")
        s.send(b, "BLPOP", k, 0)
        for command in (["MULTI"], ["RPUSH", k, "a"], ["RPUSH", k, "b"], ["LPOP", k], ["EXEC"]):
            s.call(a, *command)
        s.expect(b)
        s.call(a, "LRANGE", k, 0, -1)
        # Pushed and popped inside one transaction: nothing left, the waiter keeps waiting.
        s.send(b, "BLPOP", k, 0)
        for command in (["MULTI"], ["RPUSH", k, "x"], ["LPOP", k], ["EXEC"]):
            s.call(a, *command)
        s.expect(b, wait=0.3)
        s.call(a, "RPUSH", k, "y")
        s.expect(b)
        # Two keys made ready in one transaction: the first one signalled serves.
        s.send(c, "BLPOP", k1, k2, 0)
        for command in (["MULTI"], ["RPUSH", k2, "x"], ["RPUSH", k1, "y"], ["EXEC"]):
            s.call(a, *command)
        s.expect(c)

    compare(specredis, reference, protocol, scenario)


def test_pushing_and_popping_in_one_pipeline(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("k")
        s.send(b, "BLPOP", k, 0)
        a.sock.sendall(b"".join(_encode(c) for c in (["LPUSH", k, "a"], ["LPOP", k])))
        s.expect(a), s.expect(a), s.expect(b)

    compare(specredis, reference, protocol, scenario)


def test_a_blocked_client_s_pipeline_waits(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("k")
        blocked_before = s.blocked_clients()
        b.sock.sendall(b"".join(_encode(c) for c in (["BLPOP", k, 0], ["PING", "after"], ["LLEN", k])))
        s.wait_taken(b, blocked_before)
        s.expect(b, wait=0.3)
        s.call(a, "RPUSH", k, "v", "w")
        s.expect(b), s.expect(b), s.expect(b)

    compare(specredis, reference, protocol, scenario)


def test_keys_deleted_or_retyped_while_waited_on(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("k")
        s.send(b, "BLPOP", k, 0)
        s.call(a, "HSET", k, "f", "v")         # now a hash: the waiter declines it
        s.expect(b, wait=0.3)
        s.call(a, "HDEL", k, "f")              # gone again
        s.expect(b, wait=0.3)
        s.call(a, "RPUSH", k, "x")
        s.expect(b)

    compare(specredis, reference, protocol, scenario)


def test_blmove_chains_and_wrong_destination(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b, c = s.client(), s.client(), s.client()
        src, dst, h = s.key("src"), s.key("dst"), s.key("h")
        s.send(b, "BLMOVE", src, dst, "LEFT", "RIGHT", 0)
        s.send(c, "BLPOP", dst, 0)
        s.call(a, "RPUSH", src, "x")
        s.expect(b), s.expect(c)
        s.call(a, "LLEN", src), s.call(a, "LLEN", dst)
        # A destination of the wrong type: the waiter gets WRONGTYPE, nothing is moved.
        s.call(a, "HSET", h, "f", "v")
        s.send(b, "BRPOPLPUSH", src, h, 0)
        s.call(a, "RPUSH", src, "y")
        s.expect(b)
        s.call(a, "LRANGE", src, 0, -1)

    compare(specredis, reference, protocol, scenario)


def test_blmpop_and_several_keys(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k1, k2 = s.key("k1"), s.key("k2")
        s.send(b, "BLMPOP", 0, 2, k1, k2, "RIGHT", "COUNT", 2)
        s.call(a, "RPUSH", k2, "a", "b", "c")
        s.expect(b)
        s.send(b, "BLPOP", k1, k2, 0)
        s.expect(b)
        s.send(b, "BRPOP", k1, 0)
        s.call(a, "LPUSH", k1, "p", "q")
        s.expect(b)
        s.call(a, "LRANGE", k1, 0, -1)

    compare(specredis, reference, protocol, scenario)


def test_other_databases_do_not_wake_waiters(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("k")
        s.send(b, "BLPOP", k, 0)
        s.call(a, "SELECT", 1)
        s.call(a, "RPUSH", k, "other-db")
        s.expect(b, wait=0.3)
        s.call(a, "LPOP", k)
        s.call(a, "SELECT", 0)
        s.call(a, "RPUSH", k, "here")
        s.expect(b)

    compare(specredis, reference, protocol, scenario)


def test_disconnected_waiters_are_forgotten(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b, c = s.client(), s.client(), s.client()
        k = s.key("k")
        s.send(b, "BLPOP", k, 0)
        s.send(c, "BLPOP", k, 0)
        blocked = s.blocked_clients()
        b.close()
        deadline = time.monotonic() + 15
        while s.blocked_clients() == blocked:       # the server has seen b go
            assert time.monotonic() < deadline
            time.sleep(0.002)
        s.call(a, "RPUSH", k, "only")
        s.expect(c)
        s.call(a, "LLEN", k)

    compare(specredis, reference, protocol, scenario)


@pytest.mark.parametrize("command", [
    ["BLPOP", "{k}", "0.1"], ["BRPOP", "{k}", "{k}2", "0.1"], ["BLMOVE", "{k}", "{k}d", "LEFT", "LEFT", "0.1"],
    ["BRPOPLPUSH", "{k}", "{k}d", "0.1"], ["BLMPOP", "0.1", 1, "{k}", "LEFT"],
])
def test_timeouts_answer_null_within_tolerance(specredis, reference, protocol, command) -> None:
    def scenario(s: Scene) -> None:
        b = s.client()
        argv = [str(x).replace("{k}", s.key("k").decode()) for x in command]
        start = time.monotonic()
        b.send(*argv)
        s.expect(b, wait=2)
        elapsed = time.monotonic() - start
        assert 0.09 <= elapsed <= 0.6, elapsed

    log = compare(specredis, reference, protocol, scenario)
    assert log[0][2] is not PENDING


def test_client_unblock(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("k")
        b_id = b.call("CLIENT", "ID")
        for reason in ([], ["TIMEOUT"], ["error"]):
            s.send(b, "BLPOP", k, 0)
            s.call(a, "CLIENT", "UNBLOCK", b_id, *reason)
            s.expect(b)
        s.send(b, "BLMOVE", k, s.key("d"), "LEFT", "LEFT", 0)
        s.call(a, "CLIENT", "UNBLOCK", b_id)
        s.expect(b)
        s.send(b, "BLMPOP", 0, 1, k, "LEFT")
        s.call(a, "CLIENT", "UNBLOCK", b_id, "ERROR")
        s.expect(b)
        s.call(a, "CLIENT", "UNBLOCK", b_id)              # not blocked: 0
        s.call(a, "CLIENT", "UNBLOCK", b_id, "foo")
        s.call(a, "CLIENT", "UNBLOCK", "x")
        s.call(a, "CLIENT", "UNBLOCK", 999999)
        s.call(a, "CLIENT", "UNBLOCK", b_id, "timeout", "x")
        # Unblocked, it runs its next commands normally.
        s.call(b, "RPUSH", k, "v")
        s.call(b, "BLPOP", k, 0)

    compare(specredis, reference, protocol, scenario)


def test_blocking_commands_inside_multi_do_not_block(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a = s.client()
        k, d = s.key("k"), s.key("d")
        for command in (["MULTI"], ["BLPOP", k, 0], ["BRPOP", k, 0], ["BLMOVE", k, d, "LEFT", "LEFT", 0],
                        ["BRPOPLPUSH", k, d, 0], ["BLMPOP", 0, 1, k, "LEFT"], ["RPUSH", k, "x"], ["BLPOP", k, 0],
                        ["EXEC"]):
            s.call(a, *command)

    compare(specredis, reference, protocol, scenario)


def test_keys_arriving_by_rename_move_and_swapdb_serve_waiters(specredis, reference, protocol) -> None:
    probe = specredis.client()
    try:
        for command in (["RENAME", "a", "b"], ["MOVE", "a", "1"], ["SWAPDB", "0", "0"]):
            reply = probe.call(*command)
            if isinstance(reply, RespError) and "unknown command" in reply.text:
                pytest.skip(f"specredis does not serve {command[0]} yet")
    finally:
        probe.close()

    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k, other = s.key("k"), s.key("other")
        s.send(b, "BLPOP", k, 0)
        s.call(a, "RPUSH", other, "renamed")
        s.call(a, "RENAME", other, k)
        s.expect(b)
        s.send(b, "BLPOP", k, 0)
        s.call(a, "SELECT", 1), s.call(a, "RPUSH", k, "moved"), s.call(a, "MOVE", k, 0), s.call(a, "SELECT", 0)
        s.expect(b)
        s.send(b, "BLPOP", k, 0)
        s.call(a, "SELECT", 1), s.call(a, "RPUSH", k, "swapped"), s.call(a, "SELECT", 0)
        s.call(a, "SWAPDB", 0, 1)
        s.expect(b)
        s.call(a, "SWAPDB", 0, 1)

    compare(specredis, reference, protocol, scenario)


def test_info_counts_blocked_clients(specredis, reference, protocol) -> None:
    probe = specredis.client()
    reply = probe.call("INFO", "clients")
    probe.close()
    if isinstance(reply, RespError):
        pytest.skip("specredis does not serve INFO yet")

    def blocked(s: Scene, conn: RespClient) -> tuple[int, int]:
        info = conn.call("INFO", "clients")
        text = (info.text if hasattr(info, "text") else info).decode() if not isinstance(info, str) else info
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        return int(fields["blocked_clients"]), int(fields.get("clients_in_timeout_table", -1))

    def scenario(s: Scene) -> None:
        a, b, c = s.client(), s.client(), s.client()
        base = blocked(s, a)
        s.send(b, "BLPOP", s.key("k"), 0)
        s.send(c, "BLPOP", s.key("k"), 100)
        now = blocked(s, a)
        s.log.append(("delta", now[0] - base[0], now[1] - base[1]))
        s.call(a, "RPUSH", s.key("k"), 1, 2)
        s.expect(b), s.expect(c)
        end = blocked(s, a)
        s.log.append(("after", end[0] - base[0], end[1] - base[1]))

    compare(specredis, reference, protocol, scenario)
