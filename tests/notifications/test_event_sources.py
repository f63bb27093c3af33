"""Keyspace events that no command of the listening connection causes: active expiry (the
cron), blocked clients served by another client's write, keys changed inside transactions
and scripts, eviction. Compared with Redis 7.0.15 through a pattern subscriber."""

from __future__ import annotations

import time

from pubsub.wire import Lockstep, Side


def sorted_frames(side: Side, name: str, frames: list) -> list:
    return sorted(frames, key=repr)


def blocked_on_both(lockstep: Lockstep, deadline_s: float = 30.0) -> None:
    """Wait until each server has one client blocked (the one just sent a blocking command):
    whatever comes next must find it blocked, not race it."""
    for side in (lockstep.ref, lockstep.ours):
        with side.server.client() as probe:
            deadline = time.monotonic() + deadline_s
            while b"blocked_clients:1" not in probe.call("INFO", "clients"):
                assert time.monotonic() < deadline, f"{side.server.name}: the client never blocked"
                time.sleep(0.005)


def wait_until_reaped(side: Side, sizes: dict[int, int], deadline_s: float = 30.0) -> None:
    """Wait until DBSIZE of each database in ``sizes`` is as given on ``side``'s server."""
    with side.server.client() as probe:
        deadline = time.monotonic() + deadline_s
        while True:
            seen = {}
            for db in sizes:
                probe.call("SELECT", db)
                seen[db] = probe.call("DBSIZE")
            if seen == sizes:
                return
            assert time.monotonic() < deadline, f"{side.server.name}: keys left {seen}, expected {sizes}"
            time.sleep(0.02)


def test_active_expiry_notifies_expired_keys(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("w", 2)
    lockstep.connect("sub", protocol)
    lockstep.step("w", ("CONFIG", "SET", "notify-keyspace-events", "Ex"))
    lockstep.step("sub", ("PSUBSCRIBE", "__keyevent@*__:expired"))
    lockstep.step("w", ("SET", "a", "1", "PX", "500"), ("SET", "b", "1", "PX", "500"), ("SELECT", "2"),
                  ("SET", "c", "1", "PX", "500"), ("SET", "keep", "1"))
    # Nobody touches the keys: each server's cron finds them (in hash order) once their time
    # has passed. Wait until both have reaped all three (DBSIZE counts keys not reaped yet and
    # reaps none itself), however late a loaded machine runs the cron.
    for side in (lockstep.ref, lockstep.ours):
        wait_until_reaped(side, {0: 0, 2: 1})
    lockstep.settle(normalize=sorted_frames, quiet=0.3)
    lockstep.step("w", ("DBSIZE",), ("SELECT", "0"), ("DBSIZE",))


def test_blocked_clients_served_by_a_push(lockstep: Lockstep) -> None:
    lockstep.connect("w", 2)
    lockstep.connect("blocked", 2)
    lockstep.connect("sub", 2)
    lockstep.step("w", ("CONFIG", "SET", "notify-keyspace-events", "KEAn"))
    lockstep.step("sub", ("PSUBSCRIBE", "__key*__:*"))
    lockstep.ref.send("blocked", [("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")])
    lockstep.ours.send("blocked", [("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")])
    blocked_on_both(lockstep)
    lockstep.step("w", ("RPUSH", "src", "x", "y"))
    lockstep.ref.send("blocked", [("BZPOPMIN", "z", "0")])
    lockstep.ours.send("blocked", [("BZPOPMIN", "z", "0")])
    blocked_on_both(lockstep)
    lockstep.step("w", ("MULTI",), ("ZADD", "z", "1", "a"), ("ZADD", "z", "2", "b"), ("EXEC",))


def test_events_from_transactions_and_scripts(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("w", protocol)
    lockstep.connect("sub", protocol)
    lockstep.step("w", ("CONFIG", "SET", "notify-keyspace-events", "KEA"))
    lockstep.step("sub", ("PSUBSCRIBE", "__key*__:*"))
    lockstep.step("w", ("MULTI",), ("SET", "k", "1"), ("INCR", "k"), ("DEL", "k"), ("EXEC",))
    lockstep.step("w", ("EVAL", "redis.call('rpush', KEYS[1], 'a') redis.call('lpop', KEYS[1]) return 1", "1", "l"))
    # The subscriber's own writes in RESP3 reach it before its replies.
    lockstep.step("sub", ("SET", "own", "1"), ("INCR", "own"), ("DEL", "own"))


def test_commands_that_reply_before_notifying(lockstep: Lockstep) -> None:
    lockstep.connect("sub", 3)
    lockstep.step("sub", ("CONFIG", "SET", "notify-keyspace-events", "KEA"), ("PSUBSCRIBE", "__key*__:*"))
    lockstep.step("sub", ("SET", "own", "1"), ("GETDEL", "own"), ("RPUSH", "l", "a"), ("LPOP", "l"))


def test_evicted_keys_are_notified_and_invalidated(specredis, reference) -> None:
    for server in (reference, specredis):
        conn, sub, tracker = server.client(), server.client(), server.client(protocol=3)
        try:
            conn.call("CONFIG", "SET", "notify-keyspace-events", "Ee")
            sub.call("PSUBSCRIBE", "__keyevent@*__:evicted")
            tracker.call("CLIENT", "TRACKING", "on", "BCAST")
            used = int(conn.call("INFO", "memory").decode().split("used_memory:")[1].split("\r\n")[0])
            conn.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
            conn.call("CONFIG", "SET", "maxmemory", str(used + 2_000_000))
            conn.pipeline([["SET", f"key:{i}", "v" * 1000] for i in range(5000)])
            evicted_count = int(conn.call("INFO", "stats").decode().split("evicted_keys:")[1].split("\r\n")[0])
            assert evicted_count > 0, f"{server.name} evicted nothing"
            events = []
            sub.sock.settimeout(0.5)
            try:
                while len(events) < evicted_count:
                    events.append(sub.read_reply()[3])
            except TimeoutError:
                pass
            assert len(events) == evicted_count, server.name
            assert all(conn.call("EXISTS", key) == 0 for key in events[:50])
        finally:
            conn.call("CONFIG", "SET", "maxmemory", "0")
            conn.call("CONFIG", "SET", "notify-keyspace-events", "")
            conn.call("FLUSHALL")
            for c in (conn, sub, tracker):
                c.close()
