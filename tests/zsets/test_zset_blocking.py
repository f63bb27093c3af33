"""BZPOPMIN, BZPOPMAX and BZMPOP with several clients: the same scenario on both servers, same transcript."""

from __future__ import annotations

import pytest
from blocking.scenes import PENDING, Scene, compare


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request) -> int:
    return request.param


def test_waiters_are_served_in_arrival_order(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b, c, d = s.client(), s.client(), s.client(), s.client()
        z = s.key("z")
        s.send(b, "BZPOPMIN", z, 0)
        s.send(c, "BZPOPMAX", z, 0)
        s.send(d, "BZMPOP", 0, 1, z, "MIN", "COUNT", 2)
        s.call(a, "ZADD", z, 1, "a", 2, "b", 3, "c", 4, "d")
        s.expect(b), s.expect(c), s.expect(d)
        s.call(a, "ZRANGE", z, 0, -1, "WITHSCORES")
        s.call(a, "EXISTS", z)

    log = compare(specredis, reference, protocol, scenario)
    assert log[1][2][1] == b"a"         # the scenario does exercise the order


def test_each_waiter_takes_what_is_left(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b, c = s.client(), s.client(), s.client()
        z = s.key("z")
        s.send(b, "BZMPOP", 0, 1, z, "MAX", "COUNT", 10)
        s.send(c, "BZPOPMIN", z, 0)
        s.call(a, "ZADD", z, 1, "a", 2, "b")
        s.expect(b)
        s.expect(c, wait=0.3)
        s.call(a, "ZINCRBY", z, 5, "x")
        s.expect(c)

    log = compare(specredis, reference, protocol, scenario)
    assert log[-1][2][1] == b"x"


def test_several_keys_and_wrong_types(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k1, k2 = s.key("k1"), s.key("k2")
        s.send(b, "BZPOPMAX", k1, k2, 0)
        s.call(a, "SET", k1, "string")        # another type: the waiter keeps waiting
        s.call(a, "RPUSH", k2, "list")
        s.expect(b, wait=0.3)
        s.call(a, "DEL", k1, k2)
        s.call(a, "ZADD", k2, 7, "m")
        s.expect(b)
        s.send(b, "BZMPOP", 0, 2, k1, k2, "MIN")
        s.call(a, "ZADD", k1, 1, "one")
        s.expect(b)

    compare(specredis, reference, protocol, scenario)


def test_store_commands_and_transactions_wake_waiters(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        src, dst = s.key("src"), s.key("dst")
        s.call(a, "ZADD", src, 1, "a", 2, "b")
        s.send(b, "BZPOPMIN", dst, 0)
        s.call(a, "ZUNIONSTORE", dst, 1, src)
        s.expect(b)
        s.send(b, "BZPOPMAX", dst, 0)
        s.expect(b)
        s.send(b, "BZPOPMIN", dst, 0)
        for command in (["MULTI"], ["ZADD", dst, 5, "x"], ["ZADD", dst, 6, "y"], ["ZREM", dst, "x"], ["EXEC"]):
            s.call(a, *command)
        s.expect(b)
        s.call(a, "ZRANGE", dst, 0, -1)

    compare(specredis, reference, protocol, scenario)


def test_timeouts_and_multi(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        z = s.key("z")
        s.call(b, "BZPOPMIN", z, "0.05")
        s.call(b, "BZMPOP", "0.05", 1, z, "MIN")
        for command in (["MULTI"], ["BZPOPMAX", z, 0], ["BZMPOP", 0, 1, z, "MAX"], ["EXEC"]):
            s.call(a, *command)

    log = compare(specredis, reference, protocol, scenario)
    assert log[0][2] != PENDING


def test_info_and_client_unblock(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        z = s.key("z")
        b_id = b.call("CLIENT", "ID")        # differs between servers: kept out of the transcript
        s.send(b, "BZPOPMIN", z, 0)
        info = a.call("INFO", "clients")
        info = getattr(info, "text", info)             # RESP3 sends INFO as a verbatim string
        s.log.append(("blocked", [line for line in info.split(b"\r\n") if line.startswith(b"blocked_clients")]))
        s.call(a, "CLIENT", "UNBLOCK", b_id)
        s.expect(b)
        s.send(b, "BZMPOP", 0, 1, z, "MAX")
        s.call(a, "CLIENT", "UNBLOCK", b_id, "ERROR")
        s.expect(b)

    compare(specredis, reference, protocol, scenario)
