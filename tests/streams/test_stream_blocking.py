"""XREAD BLOCK and XREADGROUP BLOCK with several clients: the same scenario on both servers,
the same transcript (RESP2 and RESP3)."""

from __future__ import annotations

from blocking.scenes import PENDING, Scene, compare


def test_xread_waiters_are_all_served_by_one_xadd(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b, c, d = s.client(), s.client(), s.client(), s.client()
        k = s.key("s")
        s.call(a, "XADD", k, "1-0", "f", "old")
        s.send(b, "XREAD", "BLOCK", 0, "STREAMS", k, "$")
        s.send(c, "XREAD", "BLOCK", 0, "COUNT", 1, "STREAMS", k, "0-5")
        s.send(d, "XREAD", "BLOCK", 0, "STREAMS", s.key("other"), k, "$", "$")
        s.call(a, "XADD", k, "2-0", "f", "new")
        s.expect(b), s.expect(c), s.expect(d)

    log = compare(specredis, reference, protocol, scenario)
    assert log[2][2] != PENDING


def test_xreadgroup_waiters_share_the_group_first_come_first_served(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b, c, d = s.client(), s.client(), s.client(), s.client()
        k = s.key("s")
        s.call(a, "XGROUP", "CREATE", k, "g", "$", "MKSTREAM")
        s.send(b, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", 0, "STREAMS", k, ">")
        s.send(c, "XREADGROUP", "GROUP", "g", "carol", "BLOCK", 0, "STREAMS", k, ">")
        s.send(d, "XREADGROUP", "GROUP", "g2", "dan", "BLOCK", 0, "STREAMS", k, ">")
        s.call(a, "XADD", k, "1-0", "f", "one")
        s.expect(b)
        s.expect(c, wait=0.3)          # the group already took 1-0: carol waits on
        s.expect(d)                    # g2 does not exist: -NOGROUP
        s.call(a, "XADD", k, "2-0", "f", "two")
        s.expect(c)
        s.call(a, "XPENDING", k, "g")
        s.call(a, "XINFO", "GROUPS", k)

    log = compare(specredis, reference, protocol, scenario)
    assert log[3][2] == PENDING


def test_deleting_the_stream_unblocks_xreadgroup_only(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b, c = s.client(), s.client(), s.client()
        k = s.key("s")
        for delete in (["DEL", k], ["UNLINK", k], ["SET", k, "x"], ["FLUSHDB"], ["RENAME", k, s.key("moved")],
                       ["XGROUP", "DESTROY", k, "g"]):
            s.call(a, "DEL", k)
            s.call(a, "XADD", k, "1-0", "f", "v")
            s.call(a, "XGROUP", "CREATE", k, "g", "$")
            s.send(b, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", k, ">")
            s.send(c, "XREAD", "BLOCK", 0, "STREAMS", k, "$")
            s.call(a, *delete)
            s.expect(b)                # -UNBLOCKED / -NOGROUP
            s.expect(c, wait=0.2)      # XREAD keeps waiting
            s.call(a, "DEL", k)
            s.call(a, "XADD", k, "5-0", "f", "v")
            s.expect(c)

    compare(specredis, reference, protocol, scenario)


def test_stream_recreated_in_a_transaction_reports_nogroup(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("s")
        s.call(a, "XADD", k, "1-0", "f", "v")
        s.call(a, "XGROUP", "CREATE", k, "g", "$")
        s.send(b, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", k, ">")
        for command in (["MULTI"], ["DEL", k], ["XADD", k, "5-0", "f", "v"], ["EXEC"]):
            s.call(a, *command)
        s.expect(b)
        s.send(b, "XREAD", "BLOCK", 0, "STREAMS", k, "$")
        for command in (["MULTI"], ["XADD", k, "6-0", "f", "v"], ["XDEL", k, "6-0"], ["EXEC"]):
            s.call(a, *command)
        s.expect(b)                    # served with no entries: the last ID moved on
        s.send(b, "XREAD", "BLOCK", 0, "STREAMS", k, "$")
        s.call(a, "XSETID", k, "9-0")  # a new last ID alone does not wake anyone
        s.expect(b, wait=0.2)
        s.call(a, "XADD", k, "10-0", "f", "v")
        s.expect(b)

    compare(specredis, reference, protocol, scenario)


def test_expired_stream_unblocks_xreadgroup(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("s")
        s.call(a, "XADD", k, "1-0", "f", "v")
        s.call(a, "XGROUP", "CREATE", k, "g", "$")
        s.send(b, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", k, ">")
        s.call(a, "PEXPIRE", k, 20)
        s.call(a, "DEBUG", "SLEEP", "0.05")
        s.call(a, "EXISTS", k)
        s.expect(b)

    compare(specredis, reference, protocol, scenario)


def test_group_position_moved_while_waiting(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k = s.key("s")
        s.call(a, "XADD", k, "1-0", "f", "1")
        s.call(a, "XADD", k, "2-0", "f", "2")
        s.call(a, "XGROUP", "CREATE", k, "g", "$")
        s.send(b, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "COUNT", 2, "STREAMS", k, ">")
        s.call(a, "XGROUP", "SETID", k, "g", "0")
        s.call(a, "XADD", k, "3-0", "f", "3")
        s.expect(b)
        s.send(b, "XREADGROUP", "GROUP", "g", "c", "NOACK", "BLOCK", 0, "STREAMS", k, ">")
        s.call(a, "XADD", k, "4-0", "f", "4")
        s.expect(b)
        s.call(a, "XINFO", "GROUPS", k)
        s.call(a, "XPENDING", k, "g")

    compare(specredis, reference, protocol, scenario)


def test_timeouts_several_keys_and_client_unblock(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b = s.client(), s.client()
        k1, k2 = s.key("k1"), s.key("k2")
        s.call(b, "XREAD", "BLOCK", 30, "STREAMS", k1, "$")
        s.call(a, "XGROUP", "CREATE", k2, "g", "$", "MKSTREAM")
        s.call(b, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 30, "STREAMS", k2, ">")
        s.send(b, "XREAD", "BLOCK", 0, "STREAMS", k1, k2, "$", "$")
        s.call(a, "SET", k1, "not a stream")
        s.expect(b, wait=0.2)
        s.call(a, "XADD", k2, "1-0", "f", "v")
        s.expect(b)
        b_id = b.call("CLIENT", "ID")      # differs between servers: kept out of the transcript
        s.send(b, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", k2, ">")
        s.call(a, "CLIENT", "UNBLOCK", b_id)
        s.expect(b)
        s.send(b, "XREAD", "BLOCK", 0, "STREAMS", k2, "$")
        s.call(a, "CLIENT", "UNBLOCK", b_id, "ERROR")
        s.expect(b)

    compare(specredis, reference, protocol, scenario)


def test_entries_added_in_a_transaction_are_served_together(specredis, reference, protocol) -> None:
    def scenario(s: Scene) -> None:
        a, b, c = s.client(), s.client(), s.client()
        k = s.key("s")
        s.call(a, "XGROUP", "CREATE", k, "g", "$", "MKSTREAM")
        s.send(b, "XREAD", "BLOCK", 0, "STREAMS", k, "$")
        s.send(c, "XREADGROUP", "GROUP", "g", "c", "COUNT", 2, "BLOCK", 0, "STREAMS", k, ">")
        for command in (["MULTI"], ["XADD", k, "1-0", "f", "1"], ["XADD", k, "2-0", "f", "2"],
                        ["XADD", k, "3-0", "f", "3"], ["EXEC"]):
            s.call(a, *command)
        s.expect(b), s.expect(c)
        s.call(a, "XINFO", "GROUPS", k)

    compare(specredis, reference, protocol, scenario)
