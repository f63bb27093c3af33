"""Client-side caching against the reference Redis 7.0.15: CLIENT TRACKING in default,
OPTIN/OPTOUT, BCAST and NOLOOP modes, REDIRECT to RESP3 and RESP2 (``__redis__:invalidate``)
clients, broken redirects, CLIENT CACHING's one-request window, invalidation on writes,
expiry, FLUSHALL/FLUSHDB, the order of invalidations relative to replies, errors and
introspection. Every step compares all that every connection receives (``wire.py``)."""

from __future__ import annotations

import time

import pytest
from pubsub.wire import ClientId, Lockstep, Side, quietly_read

from specredis.protocol.client import RespClient, RMap, RPush, RSet, encode_command


def read_until_quiet(conn: RespClient) -> list:
    return quietly_read(conn, 0.5)


def wait_for_info(conn: RespClient, wanted: bytes, deadline_s: float = 15.0) -> bytes:
    """INFO, read until it shows ``wanted`` (or the deadline passes: the caller's assertion fails)."""
    deadline = time.monotonic() + deadline_s
    while True:
        info = conn.call("INFO")
        if wanted in info or time.monotonic() > deadline:
            return info
        time.sleep(0.01)


def sets_sorted(side: Side, name: str, frames: list) -> list:
    return [RSet(tuple(sorted(frame.items))) if isinstance(frame, RSet) else frame for frame in frames]


def ids_as_names(side: Side, name: str, frames: list) -> list:
    """Client ids differ between the servers: show them as connection names where a frame
    carries one (tracking-redir-broken pushes, TRACKINGINFO's redirect)."""
    names = {client_id: f"<id {conn}>" for conn, client_id in side.ids.items()}

    def fix(frame: object) -> object:
        if isinstance(frame, RPush) and frame.items[:1] == (b"tracking-redir-broken",):
            return RPush((frame.items[0], names.get(frame.items[1], frame.items[1])))
        if isinstance(frame, RMap) and frame.get(b"redirect") is not None:
            return RMap(tuple((k, names.get(v, v) if k == b"redirect" else v) for k, v in frame.pairs))
        if isinstance(frame, list) and len(frame) == 6 and frame[0] == b"flags" and frame[2] == b"redirect":
            return frame[:3] + [names.get(frame[3], frame[3])] + frame[4:]
        return frame

    return [fix(frame) for frame in frames]


def test_default_mode_invalidates_keys_read_once(lockstep: Lockstep) -> None:
    lockstep.connect("c", 3)
    lockstep.connect("w", 2)
    lockstep.step("c", ("CLIENT", "TRACKING", "on"), ("GET", "a"), ("MGET", "b", "c"), ("HGET", "h", "f"))
    lockstep.step("w", ("SET", "a", "1"))
    lockstep.step("w", ("SET", "a", "2"))          # not read again since: no message
    lockstep.step("w", ("MSET", "b", "1", "c", "2", "z", "3"), ("HSET", "h", "f", "v"))
    lockstep.step("c", ("GET", "a"), ("STRLEN", "b"), ("EXISTS", "c"), ("TYPE", "h"), ("HGETALL", "h"))
    lockstep.step("w", ("DEL", "a", "b"), ("EXPIRE", "c", "100"), ("HDEL", "h", "nofield"), ("HDEL", "h", "f"))


def test_reads_of_every_type_and_multi_key_reads_are_tracked(lockstep: Lockstep) -> None:
    lockstep.connect("c", 3)
    lockstep.connect("w", 2)
    lockstep.step("w", ("RPUSH", "l", "1"), ("SADD", "s1", "a"), ("SADD", "s2", "b"), ("ZADD", "z", "1", "m"),
                  ("XADD", "x", "1-1", "f", "v"), ("SET", "str", "hello"))
    lockstep.step("c", ("CLIENT", "TRACKING", "on"), ("LRANGE", "l", "0", "-1"), ("SUNION", "s1", "s2"),
                  ("ZSCORE", "z", "m"), ("XRANGE", "x", "-", "+"), ("GETRANGE", "str", "0", "1"),
                  ("SORT_RO", "l"), ("ZUNION", "2", "z", "nokey"), ("LCS", "str", "nokey2"), normalize=sets_sorted)
    lockstep.step("w", ("RPUSH", "l", "2"), ("SREM", "s2", "b"), ("ZINCRBY", "z", "1", "m"), ("XDEL", "x", "1-1"),
                  ("APPEND", "str", "!"), ("SET", "nokey", "1"), ("SET", "nokey2", "1"), ("SADD", "s1", "q"))
    # Writes by a command that also reads do not track (SUNIONSTORE is not read-only).
    lockstep.step("c", ("SUNIONSTORE", "dest", "s1", "s2"), ("COPY", "str", "copy"))
    lockstep.step("w", ("SADD", "s1", "new"), ("SET", "copy", "x"), ("SET", "dest", "x"))


def test_keys_are_not_told_apart_by_database(lockstep: Lockstep) -> None:
    lockstep.connect("c", 3)
    lockstep.connect("w", 2)
    lockstep.step("c", ("CLIENT", "TRACKING", "on"), ("GET", "k"))
    lockstep.step("w", ("SELECT", "3"), ("SET", "k", "in db 3"))


def test_own_writes_are_invalidated_after_the_reply(lockstep: Lockstep) -> None:
    lockstep.connect("c", 3)
    lockstep.step("c", ("CLIENT", "TRACKING", "on"), ("GET", "k"), ("SET", "k", "v"), ("GET", "k"),
                  ("PING",))
    # In a transaction: after EXEC's whole reply, in the order the keys changed.
    lockstep.step("c", ("GET", "a"), ("GET", "b"), ("MULTI",), ("SET", "b", "1"), ("GET", "b"), ("SET", "a", "2"),
                  ("SET", "b", "3"), ("EXEC",), ("PING",))
    # In a script: after the script's reply.
    lockstep.step("c", ("GET", "s"), ("EVAL", "redis.call('set', KEYS[1], 'x') return redis.call('get', KEYS[1])",
                                       "1", "s"), ("PING",))
    lockstep.step("c", ("EVAL", "return redis.call('set', KEYS[1], 'y')", "1", "s"))


def test_noloop_skips_the_clients_own_writes(lockstep: Lockstep) -> None:
    lockstep.connect("c", 3)
    lockstep.connect("w", 3)
    lockstep.step("c", ("CLIENT", "TRACKING", "on", "NOLOOP"), ("GET", "a"), ("GET", "b"), ("SET", "a", "1"))
    lockstep.step("w", ("SET", "a", "2"), ("SET", "b", "2"))
    lockstep.step("c", ("GET", "a"))
    lockstep.step("w", ("SET", "a", "3"))


def test_optin_and_optout_with_client_caching(lockstep: Lockstep) -> None:
    lockstep.connect("o", 3)
    lockstep.connect("w", 2)
    lockstep.step("o", ("CLIENT", "TRACKING", "on", "OPTIN"), ("GET", "x1"), ("CLIENT", "CACHING", "yes"),
                  ("GET", "x2"), ("GET", "x3"), ("CLIENT", "CACHING", "yes"), ("CLIENT", "GETNAME"), ("GET", "x4"),
                  ("CLIENT", "CACHING", "yes"), ("NOSUCH",), ("GET", "x5"), ("CLIENT", "CACHING", "yes"), ("GET",),
                  ("GET", "x6"), ("CLIENT", "CACHING", "yes"), ("CLIENT", "TRACKINGINFO"), ("GET", "x7"),
                  normalize=ids_as_names)
    lockstep.step("w", ("MSET", "x1", "1", "x2", "2", "x3", "3", "x4", "4", "x5", "5", "x6", "6", "x7", "7"))
    # CACHING covers a whole transaction, and ends with EXEC or DISCARD.
    lockstep.step("o", ("CLIENT", "CACHING", "yes"), ("MULTI",), ("GET", "y1"), ("GET", "y2"), ("EXEC",),
                  ("GET", "y3"), ("CLIENT", "CACHING", "yes"), ("MULTI",), ("DISCARD",), ("GET", "y4"))
    lockstep.step("w", ("MSET", "y1", "1", "y2", "2", "y3", "3", "y4", "4"))
    lockstep.step("o", ("MULTI",), ("CLIENT", "CACHING", "yes"), ("GET", "z1"), ("EXEC",), ("GET", "z2"))
    lockstep.step("w", ("MSET", "z1", "1", "z2", "2"))
    lockstep.step("o", ("CLIENT", "TRACKING", "off"), ("CLIENT", "TRACKING", "on", "OPTOUT"), ("GET", "n1"),
                  ("CLIENT", "CACHING", "no"), ("GET", "n2"), ("GET", "n3"), ("CLIENT", "CACHING", "yes"))
    lockstep.step("w", ("MSET", "n1", "1", "n2", "2", "n3", "3"))


def test_bcast_mode(lockstep: Lockstep) -> None:
    lockstep.connect("b", 3)
    lockstep.connect("all", 3)
    lockstep.connect("w", 2)
    lockstep.step("b", ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "item:"))
    lockstep.step("all", ("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"))
    lockstep.step("w", ("MSET", "user:2", "x", "user:1", "y", "item:9", "z", "other", "o"))
    lockstep.step("w", ("DEL", "user:1"))
    lockstep.step("all", ("SET", "user:3", "mine"), ("SET", "own", "1"))
    lockstep.step("w", ("SET", "user:3", "theirs"))
    lockstep.step("b", ("CLIENT", "TRACKINGINFO"), ("GET", "user:1"), normalize=ids_as_names)
    lockstep.step("b", ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x"), ("CLIENT", "TRACKINGINFO"),
                  normalize=ids_as_names)
    lockstep.step("w", ("SET", "xy", "1"))
    lockstep.step("b", ("CLIENT", "TRACKING", "off"))
    lockstep.step("w", ("SET", "user:4", "gone"))


def test_redirect_to_resp3_and_resp2_clients(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("sub", 2)
    lockstep.connect("push", 3)
    lockstep.connect("plain", 2)
    lockstep.connect("c", protocol)
    lockstep.connect("w", 2)
    lockstep.step("sub", ("SUBSCRIBE", "__redis__:invalidate"))
    lockstep.step("c", ("CLIENT", "TRACKING", "on", "REDIRECT", ClientId("sub")), ("GET", "a"), ("GET", "b"))
    lockstep.step("w", ("SET", "a", "1"), ("SET", "c", "1"))
    lockstep.step("c", ("SET", "b", "own write"))
    lockstep.step("c", ("GET", "a"), ("FLUSHALL",))
    lockstep.step("c", ("CLIENT", "TRACKING", "on", "REDIRECT", ClientId("push")), ("GET", "d"))
    lockstep.step("w", ("SET", "d", "1"))
    lockstep.step("c", ("GET", "d"), ("FLUSHDB",))
    # A RESP2 client that is not subscribed receives nothing.
    lockstep.step("c", ("CLIENT", "TRACKING", "on", "REDIRECT", ClientId("plain")), ("GET", "e"))
    lockstep.step("w", ("SET", "e", "1"))


def test_broken_redirect(lockstep: Lockstep) -> None:
    lockstep.connect("target", 3)
    lockstep.connect("c", 3)
    lockstep.connect("w", 2)
    lockstep.step("c", ("CLIENT", "TRACKING", "on", "REDIRECT", ClientId("target")), ("GET", "k"), ("GET", "j"))
    lockstep.step("target", ("QUIT",))
    for side in (lockstep.ref, lockstep.ours):          # until each server has freed it
        with side.server.client() as probe:
            deadline = time.monotonic() + 15
            while f"id={side.ids['target']} ".encode() in probe.call("CLIENT", "LIST"):
                assert time.monotonic() < deadline, side.server.name
                time.sleep(0.01)
    lockstep.step("w", ("SET", "k", "1"), normalize=ids_as_names)
    lockstep.step("c", ("CLIENT", "TRACKINGINFO"), ("SET", "j", "own"), ("PING",), normalize=ids_as_names)
    lockstep.step("c", ("CLIENT", "TRACKING", "on"), ("CLIENT", "TRACKINGINFO"), ("GET", "k"), ("SET", "k", "2"),
                  normalize=ids_as_names)


def test_flush_sends_a_null_invalidation_to_every_tracking_client(lockstep: Lockstep) -> None:
    lockstep.connect("c", 3)
    lockstep.connect("bc", 3)
    lockstep.connect("idle", 3)
    lockstep.connect("w", 2)
    lockstep.step("c", ("CLIENT", "TRACKING", "on"), ("GET", "k"))
    lockstep.step("bc", ("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"))
    lockstep.step("idle", ("CLIENT", "TRACKING", "on", "OPTIN"))
    lockstep.step("w", ("FLUSHALL",))
    lockstep.step("w", ("SET", "k", "after the flush"))          # k left the table with the flush
    lockstep.step("c", ("GET", "k"), ("FLUSHDB",), ("PING",))
    lockstep.step("c", ("MULTI",), ("FLUSHALL",), ("FLUSHALL",), ("EXEC",))


def test_expired_keys_are_invalidated(lockstep: Lockstep) -> None:
    lockstep.connect("c", 3)
    lockstep.connect("w", 2)
    lockstep.step("w", ("SET", "lazy", "1", "PX", "30"), ("SET", "active", "1", "PX", "30"),
                  ("SET", "self", "1", "PX", "30"), ("DEBUG", "SET-ACTIVE-EXPIRE", "0"))
    lockstep.step("c", ("CLIENT", "TRACKING", "on"), ("GET", "lazy"), ("GET", "active"), ("GET", "self"))
    time.sleep(0.1)
    lockstep.step("w", ("EXISTS", "lazy"))                     # lazy expiry on another client's read
    lockstep.step("c", ("GET", "self"), ("PING",))             # ... on the tracking client's own read
    lockstep.step("w", ("DEBUG", "SET-ACTIVE-EXPIRE", "1"))
    # Active expiry, by the cron: wait until each server has reaped the last key (DBSIZE
    # reaps nothing itself), however late a loaded machine runs it, then compare.
    for side in (lockstep.ref, lockstep.ours):
        with side.server.client() as probe:
            deadline = time.monotonic() + 30
            while probe.call("DBSIZE") != 0:
                assert time.monotonic() < deadline, side.server.name
                time.sleep(0.01)
    lockstep.settle(quiet=0.5)


def test_tracking_errors(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("c", protocol)
    lockstep.connect("other", 2)
    lockstep.step("c", ("CLIENT", "TRACKING", "on", "PREFIX", "a"), ("CLIENT", "TRACKING", "on", "BCAST", "OPTIN"),
                  ("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"), ("CLIENT", "TRACKING", "on", "REDIRECT", "999999"),
                  ("CLIENT", "TRACKING", "on", "REDIRECT", "abc"), ("CLIENT", "TRACKING", "on", "REDIRECT", "0"),
                  ("CLIENT", "TRACKING", "on", "REDIRECT", "-1"), ("CLIENT", "TRACKING", "on", "FOO"),
                  ("CLIENT", "TRACKING", "maybe"), ("CLIENT", "TRACKING", "on", "PREFIX"),
                  ("CLIENT", "TRACKING", "on", "REDIRECT"), ("CLIENT", "TRACKING"), ("CLIENT", "TRACKING", "off", "x"))
    lockstep.step("c", ("CLIENT", "TRACKING", "on", "REDIRECT", ClientId("other"), "REDIRECT", ClientId("other")),
                  ("CLIENT", "CACHING", "yes"), ("CLIENT", "CACHING", "maybe"), ("CLIENT", "CACHING"),
                  ("CLIENT", "GETREDIR", "x"), ("CLIENT", "TRACKINGINFO", "x"))
    lockstep.step("c", ("CLIENT", "TRACKING", "on"), ("CLIENT", "CACHING", "yes"), ("CLIENT", "CACHING", "no"),
                  ("CLIENT", "CACHING", "maybe"), ("CLIENT", "TRACKING", "on", "BCAST"),
                  ("CLIENT", "TRACKING", "on", "OPTIN"), ("CLIENT", "CACHING", "no"),
                  ("CLIENT", "TRACKING", "on", "OPTOUT"), ("CLIENT", "TRACKINGINFO"), normalize=ids_as_names)
    lockstep.step("c", ("CLIENT", "TRACKING", "off"), ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"),
                  ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "", "PREFIX", "z"), ("CLIENT", "TRACKINGINFO"),
                  normalize=ids_as_names)
    # A collision between two new prefixes after the first: Redis replies with the error, then
    # enables tracking anyway and replies OK too.
    lockstep.step("c", ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "bc"),
                  ("CLIENT", "TRACKINGINFO"), ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "abc"),
                  ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "y", "PREFIX", "x"), ("CLIENT", "TRACKINGINFO"),
                  ("CLIENT", "TRACKING", "on"), normalize=ids_as_names)


def test_trackinginfo_and_getredir(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("c", protocol)
    lockstep.connect("target", 3)
    lockstep.step("c", ("CLIENT", "TRACKINGINFO"), ("CLIENT", "GETREDIR"))
    lockstep.step("c", ("CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP"), ("CLIENT", "TRACKINGINFO"),
                  ("CLIENT", "GETREDIR"), ("CLIENT", "CACHING", "yes"), ("CLIENT", "TRACKINGINFO"),
                  ("GET", "k"), ("CLIENT", "TRACKINGINFO"), normalize=ids_as_names)
    lockstep.step("c", ("CLIENT", "TRACKING", "on", "OPTOUT"), ("CLIENT", "TRACKING", "off"),
                  ("CLIENT", "TRACKING", "on", "OPTOUT", "REDIRECT", ClientId("target")),
                  ("CLIENT", "CACHING", "no"), ("CLIENT", "TRACKINGINFO"), normalize=ids_as_names)
    ours = lockstep.ours.conns["c"].call("CLIENT", "GETREDIR")
    assert ours == lockstep.ours.ids["target"]
    assert lockstep.ref.conns["c"].call("CLIENT", "GETREDIR") == lockstep.ref.ids["target"]


def test_reset_and_disconnect_end_tracking(specredis, reference) -> None:
    for server in (specredis, reference):
        c, q = server.client(protocol=3), server.client()
        try:
            c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p")
            c.call("GET", "k")
            info = q.call("INFO")
            assert b"tracking_clients:1" in info and b"tracking_total_prefixes:1" in info, server.name
            assert c.call("RESET").text == "RESET"
            assert c.call("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1, b"prefixes", []]
            c.call("HELLO", "3")
            c.call("CLIENT", "TRACKING", "on")
            c.call("GET", "k")
            c.call("GET", "j")
            info = q.call("INFO")
            assert b"tracking_clients:1" in info and b"tracking_total_keys:2" in info, server.name
            assert b" flags=t " in q.call("CLIENT", "LIST", "TYPE", "normal")
            c.close()
            info = wait_for_info(q, b"tracking_clients:0")      # the server has seen it go
            # The keys it read stay in the table until they change.
            assert b"tracking_clients:0" in info and b"tracking_total_keys:2" in info, server.name
            q.call("SET", "k", "1")
            q.call("SET", "j", "1")
            assert b"tracking_total_keys:0" in q.call("INFO", "stats"), server.name
        finally:
            c.close()
            q.close()


def test_info_counts_match_the_reference(lockstep: Lockstep) -> None:
    lockstep.connect("a", 3)
    lockstep.connect("b", 3)
    lockstep.connect("q", 2)
    lockstep.step("a", ("CLIENT", "TRACKING", "on"), ("MGET", "k1", "k2", "k3"))
    lockstep.step("b", ("CLIENT", "TRACKING", "on"), ("GET", "k1"), ("GET", "k4"))

    def tracking_fields(side: Side, name: str, frames: list) -> list:
        return [sorted(line for line in frame.decode().splitlines() if line.startswith("tracking_"))
                if isinstance(frame, bytes) else frame for frame in frames]

    lockstep.step("q", ("INFO", "stats"), ("INFO", "clients"), normalize=tracking_fields)
    lockstep.step("q", ("SET", "k1", "x"))
    lockstep.step("q", ("INFO", "stats"), normalize=tracking_fields)


def test_the_tracking_table_is_kept_within_its_limit(specredis, reference) -> None:
    """Past tracking-table-max-keys keys are invalidated until the table fits (Redis picks them
    at random, specredis oldest first: the counts are compared, not the keys)."""
    for server in (specredis, reference):
        c, q = server.client(protocol=3), server.client()
        try:
            q.call("CONFIG", "SET", "tracking-table-max-keys", "5")
            c.call("CLIENT", "TRACKING", "on")
            c.send_raw(b"".join(encode_command(["GET", f"key{i}"]) for i in range(8)) + encode_command(["PING"]))
            frames = read_until_quiet(c)
            invalidated = [key for frame in frames if isinstance(frame, RPush) for key in frame.items[1]]
            assert len([frame for frame in frames if not isinstance(frame, RPush)]) == 9
            stats = q.call("INFO", "stats").decode()
            assert "tracking_total_keys:5" in stats, (server.name, stats)
            assert len(invalidated) == 3, (server.name, invalidated)
        finally:
            q.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")
            c.close()
            q.close()


@pytest.mark.parametrize("mode", [(), ("BCAST",)])
def test_many_tracked_keys_and_writers(specredis, mode: tuple) -> None:
    """Hundreds of keys read by two trackers and changed in pipelines: each change of a key
    read since its last change arrives exactly once."""
    c1, c2, w = specredis.client(protocol=3), specredis.client(protocol=3), specredis.client()
    try:
        for conn in (c1, c2):
            conn.call("CLIENT", "TRACKING", "on", *mode)
        keys = [f"k{i}" for i in range(300)]
        if not mode:
            c1.pipeline([["GET", key] for key in keys])
            c2.pipeline([["GET", key] for key in keys[::2]])
        w.pipeline([["SET", key, "v"] for key in keys])
        w.pipeline([["SET", key, "again"] for key in keys])
        for conn, expected in ((c1, keys), (c2, keys if mode else keys[::2])):
            seen = [key for frame in read_until_quiet(conn) if isinstance(frame, RPush) for key in frame.items[1]]
            wanted = [key.encode() for key in expected]
            if mode:
                assert sorted(seen) == sorted(wanted * 2)
            else:
                assert seen == wanted
    finally:
        for conn in (c1, c2, w):
            conn.close()


def test_client_list_flags_of_tracking_clients(specredis, reference) -> None:
    """CLIENT LIST/INFO: t for tracking, then R for a broken redirect and B for BCAST."""
    seen = {}
    for server in (reference, specredis):
        c, target, w = server.client(protocol=3), server.client(protocol=3), server.client()
        try:
            def flags(conn: RespClient = c) -> str:
                return conn.call("CLIENT", "INFO").text.decode().split(" flags=")[1].split(" ")[0]

            shown = [flags()]
            c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x")
            shown.append(flags())
            c.call("CLIENT", "TRACKING", "off")
            c.call("CLIENT", "TRACKING", "on", "REDIRECT", target.call("CLIENT", "ID"))
            c.call("GET", "k")
            shown.append(flags())
            target_id = target.call("CLIENT", "ID")
            target.close()
            deadline = time.monotonic() + 15            # until the server has seen it go
            while f"id={target_id} ".encode() in w.call("CLIENT", "LIST"):
                assert time.monotonic() < deadline, server.name
                time.sleep(0.01)
            w.call("SET", "k", "1")
            c.send("CLIENT", "INFO")
            frame = c.read_reply()
            while isinstance(frame, RPush):             # the tracking-redir-broken push first
                frame = c.read_reply()
            shown.append(frame.text.decode().split(" flags=")[1].split(" ")[0])
            seen[server.name] = shown
        finally:
            for conn in (c, target, w):
                conn.close()
    assert seen["specredis"] == seen["reference"] == ["N", "tB", "t", "tR"]
