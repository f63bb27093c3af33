"""Pub/Sub against the reference Redis 7.0.15, in RESP2 and RESP3: every command, its reply
shapes and errors, message delivery, the RESP2 subscribed context, transactions, CLIENT
REPLY, cleanup on disconnect and RESET. Each step compares everything every connection
received (see ``wire.py``)."""

from __future__ import annotations

import pytest
from pubsub.wire import Lockstep, Side

from specredis.protocol.client import RPush, encode_command


def sorted_frames(side: Side, name: str, frames: list) -> list:
    """For steps whose frames come in hash order in Redis (several patterns matching)."""
    return sorted(frames, key=repr)


def unordered_confirmations(side: Side, name: str, frames: list) -> list:
    """UNSUBSCRIBE/SUNSUBSCRIBE of every channel walk the client's channel dict in hash order:
    compare which channels were confirmed and the counts, not their pairing."""
    items = [tuple(f.items if isinstance(f, RPush) else f) for f in frames]
    return [sorted((kind, channel) for kind, channel, _ in items), sorted(count for *_, count in items),
            [type(f).__name__ for f in frames]]


def without_hello_id(side: Side, name: str, frames: list) -> list:
    out = []
    for frame in frames:
        if isinstance(frame, list) and frame[:2] == [b"server", b"redis"]:
            frame = [item if key != b"id" else "<id>" for key, item in zip([None, *frame], frame, strict=False)]
        out.append(frame)
    return out


def sorted_arrays(side: Side, name: str, frames: list) -> list:
    """PUBSUB CHANNELS lists channels in hash order."""
    return [sorted(frame) if isinstance(frame, list) else frame for frame in frames]


def test_subscribe_and_unsubscribe_confirmations(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("sub", protocol)
    lockstep.step("sub", ("UNSUBSCRIBE",), ("PUNSUBSCRIBE",), ("SUNSUBSCRIBE",))
    lockstep.step("sub", ("SUBSCRIBE", "a", "b", "a"), ("PSUBSCRIBE", "a*", "b?", "a*"))
    lockstep.step("sub", ("SSUBSCRIBE", "s1", "s2", "s1"))
    lockstep.step("sub", ("UNSUBSCRIBE", "zz", "a"), ("PUNSUBSCRIBE", "nope", "b?"), ("SUNSUBSCRIBE", "s2", "x"))
    lockstep.step("sub", ("UNSUBSCRIBE",))
    lockstep.step("sub", ("PUNSUBSCRIBE",), ("UNSUBSCRIBE",), ("PUNSUBSCRIBE",))
    lockstep.step("sub", ("SUNSUBSCRIBE",), ("SUNSUBSCRIBE",))
    lockstep.step("sub", ("subscribe", "MiXeD"), ("unsubscribe", "mixed"), ("Unsubscribe", "MiXeD"))


def test_unsubscribe_from_every_channel(lockstep: Lockstep, protocol: int) -> None:
    # Redis walks the client's channel dict: the order of the confirmations is its hash order.
    lockstep.connect("sub", protocol)
    lockstep.step("sub", ("SUBSCRIBE", "c1", "c2", "c3", "c4"), ("SSUBSCRIBE", "s1", "s2", "s3"))
    lockstep.step("sub", ("UNSUBSCRIBE",), normalize=unordered_confirmations)
    lockstep.step("sub", ("SUNSUBSCRIBE",), normalize=unordered_confirmations)
    # Patterns are a list in 7.0: PUNSUBSCRIBE walks them in subscription order.
    lockstep.step("sub", ("PSUBSCRIBE", "p3*", "p1*", "p2*"))
    lockstep.step("sub", ("PUNSUBSCRIBE",))


def test_messages_reach_subscribers_and_patterns(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("pub", 2)
    lockstep.connect("s1", protocol)
    lockstep.connect("s2", protocol)
    lockstep.connect("p", protocol)
    lockstep.step("s1", ("SUBSCRIBE", "news", "sport"))
    lockstep.step("s2", ("SUBSCRIBE", "news"))
    lockstep.step("p", ("PSUBSCRIBE", "n*", "h[ae]llo", "x\\*y"))
    lockstep.step("pub", ("PUBLISH", "news", "hello"), ("PUBLISH", "sport", ""), ("PUBLISH", "nobody", "x"))
    lockstep.step("pub", ("PUBLISH", "hallo", "1"), ("PUBLISH", "hillo", "2"), ("PUBLISH", "x*y", "3"),
                  ("PUBLISH", "xzy", "4"))
    lockstep.step("pub", ("PUBLISH", "news", b"\x00binary\r\n\xff"))
    lockstep.step("s2", ("UNSUBSCRIBE", "news"))
    lockstep.step("pub", ("PUBLISH", "news", "again"))
    lockstep.step("pub", ("PUBLISH", "news"), ("PUBLISH", "news", "a", "b"), ("PUBLISH",))


def test_a_client_matching_several_patterns_gets_one_message_each(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("pub", 2)
    lockstep.connect("p", protocol)
    lockstep.step("p", ("PSUBSCRIBE", "*", "c*", "ch?"), ("SUBSCRIBE", "chx"))
    # The pattern messages come in the order of Redis's pattern dict: compare them as a multiset.
    lockstep.step("pub", ("PUBLISH", "chx", "m"), normalize=sorted_frames)


def test_shard_channels(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("pub", 2)
    lockstep.connect("s", protocol)
    lockstep.step("s", ("SSUBSCRIBE", "{u}a", "{u}b"), ("PSUBSCRIBE", "*"))
    # SPUBLISH reaches shard subscribers only; PUBLISH to the same name reaches the others only.
    lockstep.step("pub", ("SPUBLISH", "{u}a", "one"), ("PUBLISH", "{u}a", "two"), ("SPUBLISH", "none", "x"))
    lockstep.step("pub", ("PUBSUB", "SHARDCHANNELS"), normalize=sorted_arrays)
    lockstep.step("pub", ("PUBSUB", "SHARDCHANNELS", "*a"), ("PUBSUB", "SHARDNUMSUB", "{u}a", "zz"),
                  ("PUBSUB", "SHARDNUMSUB"), ("PUBSUB", "SHARDCHANNELS", "a", "b"))
    lockstep.step("s", ("SUNSUBSCRIBE", "{u}a"), ("PUNSUBSCRIBE",))
    lockstep.step("pub", ("PUBSUB", "SHARDNUMSUB", "{u}a", "{u}b"), ("SPUBLISH", "{u}b", "3"))


def test_pubsub_introspection(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("q", protocol)
    lockstep.connect("a", 2)
    lockstep.connect("b", 3)
    lockstep.step("q", ("PUBSUB", "CHANNELS"), ("PUBSUB", "NUMPAT"), ("PUBSUB", "NUMSUB"))
    lockstep.step("a", ("SUBSCRIBE", "ch1", "ch2", "other"), ("PSUBSCRIBE", "ch*", "x*"))
    lockstep.step("b", ("SUBSCRIBE", "ch1"), ("PSUBSCRIBE", "ch*", "y*"))
    lockstep.step("q", ("PUBSUB", "CHANNELS"), ("PUBSUB", "CHANNELS", "ch*"), normalize=sorted_arrays)
    lockstep.step("q", ("PUBSUB", "CHANNELS", "ch1"), ("PUBSUB", "CHANNELS", "[a-c]h?"), normalize=sorted_arrays)
    lockstep.step("q", ("PUBSUB", "NUMSUB", "ch1", "ch2", "none", "ch1"), ("PUBSUB", "NUMPAT"))
    lockstep.step("q", ("PUBSUB", "NUMPAT", "x"), ("PUBSUB", "CHANNELS", "a", "b"), ("PUBSUB", "NOPE"),
                  ("PUBSUB",), ("PUBSUB", "HELP"), ("pubsub", "help", "x"), ("PUBSUB", "numsub"))
    lockstep.step("a", ("UNSUBSCRIBE", "ch1"), ("PUNSUBSCRIBE", "ch*"))
    lockstep.step("q", ("PUBSUB", "NUMSUB", "ch1"), ("PUBSUB", "NUMPAT"))


def test_resp2_subscribed_context(lockstep: Lockstep) -> None:
    lockstep.connect("s", 2)
    lockstep.step("s", ("SUBSCRIBE", "c"))
    lockstep.step("s", ("GET", "k"), ("SET", "k", "v"), ("PUBSUB", "CHANNELS"), ("PUBLISH", "c", "m"),
                  ("CLIENT", "ID"), ("nosuchcommand",), ("GET",))
    lockstep.step("s", ("PING",), ("PING", "hi"), ("ping", "a", "b"), ("SSUBSCRIBE", "s"), ("PSUBSCRIBE", "p"))
    lockstep.step("s", ("UNSUBSCRIBE",), ("PUNSUBSCRIBE",), ("GET", "k"))
    # Shard subscriptions keep the context even with no channel or pattern left.
    lockstep.step("s", ("SUNSUBSCRIBE",), ("GET", "k"), ("PING",))
    lockstep.step("s", ("PSUBSCRIBE", "p*"), ("RESET",), ("GET", "k"), ("PING",))
    lockstep.step("s", ("SUBSCRIBE", "c"), ("QUIT",))


def test_resp3_clients_run_any_command_while_subscribed(lockstep: Lockstep) -> None:
    lockstep.connect("s", 3)
    lockstep.connect("other", 3)
    lockstep.step("s", ("SUBSCRIBE", "c"), ("PSUBSCRIBE", "c*"))
    # A message published to itself comes before the PUBLISH reply, after the replies before it.
    lockstep.step("s", ("SET", "k", "v"), ("GET", "k"), ("PUBLISH", "c", "to myself"), ("PING",), ("ECHO", "x"))
    lockstep.step("other", ("PUBLISH", "c", "from other"))
    lockstep.step("s", ("GET", "k"), ("PING", "x"), ("HELLO", "2"), ("PING",), ("GET", "k"),
                  normalize=without_hello_id)
    lockstep.step("other", ("PUBLISH", "c", "now resp2"))


def test_subscribe_inside_multi(lockstep: Lockstep, protocol: int) -> None:
    # EXEC's array counts commands; the confirmations are written inline, one per channel.
    lockstep.connect("s", protocol)
    lockstep.connect("pub", 2)
    lockstep.step("s", ("MULTI",), ("SUBSCRIBE", "a"), ("PING",), ("EXEC",))
    lockstep.step("pub", ("PUBLISH", "a", "m"))
    lockstep.step("s", ("MULTI",), ("UNSUBSCRIBE", "a"), ("EXEC",), ("GET", "x"))
    lockstep.step("s", ("MULTI",), ("PSUBSCRIBE", "p1", "p2"), ("SET", "k", "1"), ("EXEC",))


def test_subscribe_with_client_reply_off_and_skip(lockstep: Lockstep, protocol: int) -> None:
    # Confirmations and messages are pushed: CLIENT REPLY does not hold them back.
    lockstep.connect("s", protocol)
    lockstep.connect("pub", 2)
    lockstep.step("s", ("CLIENT", "REPLY", "OFF"), ("SUBSCRIBE", "a"), ("PING",))
    lockstep.step("pub", ("PUBLISH", "a", "m"))
    lockstep.step("s", ("CLIENT", "REPLY", "ON"), ("PING",))
    lockstep.step("s", ("CLIENT", "REPLY", "SKIP"), ("SUBSCRIBE", "b"), ("PING",))


def test_disconnected_subscribers_are_forgotten(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("s", protocol)
    lockstep.connect("q", 2)
    lockstep.step("s", ("SUBSCRIBE", "gone"), ("PSUBSCRIBE", "gone*"), ("SSUBSCRIBE", "sgone"))
    lockstep.step("q", ("PUBSUB", "NUMSUB", "gone"), ("PUBSUB", "NUMPAT"), ("PUBSUB", "SHARDNUMSUB", "sgone"))
    lockstep.step("s", ("QUIT",))
    lockstep.step("q", ("PUBLISH", "gone", "x"), ("PUBSUB", "NUMSUB", "gone"), ("PUBSUB", "NUMPAT"),
                  ("PUBSUB", "SHARDNUMSUB", "sgone"), ("PUBSUB", "CHANNELS"))


def test_reset_drops_subscriptions(lockstep: Lockstep, protocol: int) -> None:
    lockstep.connect("s", protocol)
    lockstep.connect("pub", 2)
    lockstep.step("s", ("SUBSCRIBE", "a"), ("PSUBSCRIBE", "a*"), ("SSUBSCRIBE", "sa"))
    lockstep.step("s", ("RESET",))
    lockstep.step("pub", ("PUBLISH", "a", "x"), ("SPUBLISH", "sa", "y"), ("PUBSUB", "NUMPAT"))
    lockstep.step("s", ("GET", "k"), ("UNSUBSCRIBE",))


def test_client_list_and_kill_by_pubsub_type(specredis) -> None:
    sub = specredis.client(protocol=3)
    other = specredis.client()
    try:
        sub_id = sub.call("CLIENT", "ID")
        sub.send_raw(b"".join(encode_command(c) for c in (["SUBSCRIBE", "a", "b"], ["PSUBSCRIBE", "p*"],
                                                           ["SSUBSCRIBE", "s"], ["PING"])))
        frames = [sub.read_reply() for _ in range(5)]
        assert frames[1] == RPush((b"subscribe", b"b", 2)) and frames[-1].text == "PONG"
        line = other.call("CLIENT", "LIST", "ID", sub_id).decode()
        assert " flags=P " in line and " sub=2 psub=1 ssub=1 " in line, line
        assert other.call("CLIENT", "LIST", "TYPE", "pubsub").decode().count("\n") == 1
        assert other.call("CLIENT", "KILL", "TYPE", "pubsub") == 1
        assert other.call("PUBSUB", "NUMSUB", "a") == [b"a", 0]
        assert other.call("PUBSUB", "NUMPAT") == 0
    finally:
        sub.close()
        other.close()


def test_info_counts_channels_and_patterns(specredis, reference) -> None:
    for server in (specredis, reference):
        a, b, q = server.client(), server.client(), server.client()
        try:
            a.call("SUBSCRIBE", "x", "y")
            a.call("PSUBSCRIBE", "p*")
            b.call("SUBSCRIBE", "x")
            b.call("PSUBSCRIBE", "p*", "q*")
            b.call("SSUBSCRIBE", "s")
            info = q.call("INFO", "stats").decode()
            fields = dict(line.split(":", 1) for line in info.splitlines() if line.startswith("pubsub"))
            assert fields == {"pubsub_channels": "2", "pubsub_patterns": "2", "pubsubshard_channels": "1"}, server.name
        finally:
            a.close()
            b.close()
            q.close()


def test_subscribers_keep_receiving_while_others_work(specredis) -> None:
    """Many messages to several subscribers arrive complete and in order."""
    subs = [specredis.client(protocol=p) for p in (2, 3, 2)]
    pub = specredis.client()
    try:
        for sub in subs:
            sub.call("SUBSCRIBE", "flood")
        replies = pub.pipeline([["PUBLISH", "flood", str(i)] for i in range(2000)])
        assert replies == [3] * 2000
        for sub in subs:
            got = [sub.read_reply() for _ in range(2000)]
            items = [g.items if isinstance(g, RPush) else tuple(g) for g in got]
            assert items == [(b"message", b"flood", str(i).encode()) for i in range(2000)]
    finally:
        for conn in subs + [pub]:
            conn.close()


@pytest.mark.parametrize("command", ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE"])
def test_pubsub_commands_are_refused_in_scripts(lockstep: Lockstep, command: str) -> None:
    lockstep.connect("c", 2)
    lockstep.step("c", ("EVAL", f"return redis.call('{command}', 'x')", "0"))
