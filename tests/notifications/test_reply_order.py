"""Where a command's own keyspace events fall around its reply, compared with Redis 7.0.15.

A RESP3 connection subscribes to every keyspace and keyevent channel itself and runs every
case of ``cases.py`` on both servers; after each command an ``ECHO`` marker closes what that
command sent. Redis 7.0 writes pushes into the client's output as the command emits them, so
some commands show ``pushes, reply`` (SET, DEL, SADD...), others ``reply, pushes`` (LPUSH,
HSET, ZADD, GETDEL, EXPIRE...) and some ``push, reply, push`` (LMOVE, SPOP): the frame
sequence, replies and pushes, must be the reference's exactly. The spec says which events
follow the reply (``engine.events_after_reply``); this test is the proof the lists are right.

Redis 7.0.15 also writes some pushes into the middle of an aggregate reply (ZPOPMIN's pop
event after the array header, BZPOPMIN's after the key, ZMPOP's, XREADGROUP/XCLAIM/XAUTOCLAIM's
``xgroup-createconsumer``, MGET's keymiss between its elements): the spec's
``engine.events_inside_reply`` places them, and the frames, pushes nested in replies included,
must be the same. The cases run with ``KEAn`` and again with key-miss events only (``Km``);
XREAD is left out (its second lookup of a missing stream writes keymiss after part of its reply).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from notifications.cases import CASES
from servers import ServerProcess

from specredis.protocol.client import RespClient, RPush, encode_command

SPEC_DIR = Path(__file__).resolve().parents[2] / "spec" / "commands"
FLAGS = "KEAn"      # and a second run with keymiss events (see the fixture)

class SelfSubscriber:
    """A RESP3 connection subscribed to its own keyspace events."""

    def __init__(self, server: ServerProcess, flags: str = FLAGS) -> None:
        self.conn = RespClient(server.host, server.port, protocol=3)
        self.marks = 0
        self.conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        self.conn.call("CONFIG", "SET", "notify-keyspace-events", flags)
        self.conn.call("PSUBSCRIBE", "__key*__:*")

    def run(self, argvs: list[list[Any]]) -> list[Any]:
        """Send ``argvs`` and an ECHO marker; every frame received before the marker."""
        self.marks += 1
        marker = f"mark-{self.marks}".encode()
        self.conn.sock.sendall(b"".join(encode_command(argv) for argv in argvs) + encode_command(["ECHO", marker]))
        frames = []
        while (frame := self.conn.read_reply()) != marker:
            frames.append(frame)
        return frames

    def close(self) -> None:
        self.conn.call("PUNSUBSCRIBE")
        self.conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        self.conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        self.conn.close()


@pytest.fixture(scope="module", params=[FLAGS, "Km"], ids=["KEAn", "keymiss"])
def pair(request: pytest.FixtureRequest, specredis: ServerProcess,
         reference: ServerProcess) -> Iterator[tuple[SelfSubscriber, SelfSubscriber]]:
    ref, ours = SelfSubscriber(reference, request.param), SelfSubscriber(specredis, request.param)
    yield ref, ours
    ref.close()
    ours.close()


def _has_nested_push(frame: Any) -> bool:
    if isinstance(frame, list | tuple):
        return any(isinstance(item, RPush) or _has_nested_push(item) for item in frame)
    pairs = getattr(frame, "pairs", None)
    if pairs is not None:
        return any(_has_nested_push(list(pair)) for pair in pairs)
    return False


def _pushes(frames: list[Any]) -> list[Any]:
    found: list[Any] = []
    for frame in frames:
        if isinstance(frame, RPush):
            found.append(frame)
        elif isinstance(frame, list | tuple):
            found.extend(_pushes(list(frame)))
        elif getattr(frame, "pairs", None) is not None:
            for pair in frame.pairs:
                found.extend(_pushes(list(pair)))
    return found


def _shape(frames: list[Any]) -> list[str]:
    """The frames as 'reply' or the event name of a push, for messages; a reply with pushes
    inside shows where they are."""
    return [f"push {frame.items[-1]!r}" if isinstance(frame, RPush)
            else f"reply with {_shape(list(frame))}" if isinstance(frame, list) and _has_nested_push(frame)
            else "reply" for frame in frames]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_own_events_fall_around_the_reply_as_in_redis(pair: tuple[SelfSubscriber, SelfSubscriber],
                                                      case: tuple) -> None:
    name, setup, commands = case
    ref, ours = pair
    for side in pair:
        side.run([["FLUSHALL"], *setup])
    for argv in commands:
        if argv[0].upper() == "XREAD":
            # Its second lookup of a missing stream writes keymiss after part of the reply.
            continue
        if argv[0] == "SLEEP":
            time.sleep(float(argv[1]))
            continue
        if argv[0] == "$RESTORE":
            # Each server restores the DUMP it made itself.
            results = []
            for side in pair:
                payload = side.run([["DUMP", argv[1]]])[-1]
                results.append(side.run([["RESTORE", argv[2], "0", payload if payload is not None else "x"]]))
            expected, actual = results
        else:
            expected, actual = ref.run([argv]), ours.run([argv])
        if argv[0].upper() in ("DUMP", "RANDOMKEY", "SPOP", "SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER", "SCAN",
                               "KEYS", "XINFO", "OBJECT", "XAUTOCLAIM", "XCLAIM", "XREADGROUP", "XPENDING",
                               "SMEMBERS", "SINTER", "SUNION", "SDIFF", "EVALSHA_RO", "FUNCTION", "TTL", "PTTL",
                               "EXPIRETIME", "PEXPIRETIME"):
            # Replies that differ by nature (payloads, random picks, set order): the order only,
            # pushes inside the reply included.
            assert _shape(actual) == _shape(expected), f"{name}: {argv}: reference {expected}, specredis {actual}"
            assert _pushes(actual) == _pushes(expected), f"{name}: {argv}: events"
        else:
            assert actual == expected, f"{name}: {argv}"


def test_spec_lists_only_declared_events() -> None:
    """``events_after_reply`` names events the command declares it can emit."""
    for path in sorted(SPEC_DIR.glob("*.yaml")):
        engine = (yaml.safe_load(path.read_text()) or {}).get("engine") or {}
        after = engine.get("events_after_reply") or []
        events = after["events"] if isinstance(after, dict) else after
        inside = (engine.get("events_inside_reply") or {}).get("events") or []
        assert set(events) | set(inside) <= set(engine.get("keyspace_events") or ()), path.name


def test_events_after_the_reply_stay_in_order_for_other_subscribers(specredis: ServerProcess,
                                                                    reference: ServerProcess) -> None:
    """Holding a subscriber's own pushes back does not reorder what others receive."""
    for server in (reference, specredis):
        own = RespClient(server.host, server.port, protocol=3)
        other = server.client()
        try:
            own.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
            own.call("PSUBSCRIBE", "__keyevent@*__:*")
            other.call("PSUBSCRIBE", "__keyevent@*__:*")
            frames = SelfSubscriberAdapter(own).run([["RPUSH", "src", "a"], ["LMOVE", "src", "dst", "LEFT", "RIGHT"]])
            received = [other.read_reply()[2] for _ in range(4)]
            assert received == [b"__keyevent@0__:rpush", b"__keyevent@0__:rpush", b"__keyevent@0__:lpop",
                                b"__keyevent@0__:del"], server.name
            assert _shape(frames) == ["reply", "push b'src'", "push b'dst'", "reply", "push b'src'",
                                      "push b'src'"], server.name
        finally:
            own.call("PUNSUBSCRIBE")
            own.call("CONFIG", "SET", "notify-keyspace-events", "")
            own.call("FLUSHALL")
            own.close()
            other.close()


class SelfSubscriberAdapter(SelfSubscriber):
    """A :class:`SelfSubscriber` over a connection already set up."""

    def __init__(self, conn: RespClient) -> None:    # noqa: D107 - no setup beyond the connection
        self.conn = conn
        self.marks = 0


def test_own_events_inside_exec_are_written_between_the_replies(specredis: ServerProcess,
                                                              reference: ServerProcess) -> None:
    """EXEC for a RESP3 client subscribed to its own events: Redis writes each command's pushes
    around that command's reply inside EXEC's array; client tracking's invalidation comes after
    the whole reply. Compared byte for byte."""
    received = []
    transaction = [["MULTI"], ["SET", "a", "1"], ["LPUSH", "l", "x"], ["ZADD", "z", "1", "m"], ["ZPOPMIN", "z"],
                   ["GET", "a"], ["SET", "tracked", "1"], ["INCR", "l"], ["EXEC"], ["ECHO", "end"]]
    for server in (reference, specredis):
        conn = RespClient(server.host, server.port, protocol=3)
        try:
            conn.call("FLUSHALL")
            conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
            conn.call("CLIENT", "TRACKING", "on")
            conn.call("SET", "tracked", "0")
            conn.call("GET", "tracked")
            conn.call("PSUBSCRIBE", "__keyevent*__:*")
            conn.sock.sendall(b"".join(encode_command(argv) for argv in transaction))
            data = b""
            while not data.endswith(b"$3\r\nend\r\n"):
                data += conn.sock.recv(65536)
            received.append(data)
        finally:
            conn.call("CONFIG", "SET", "notify-keyspace-events", "")
            conn.close()
    assert b"__keyevent@0__:zpopmin" in received[0]
    assert received[1] == received[0]


SERVED = [
    (["BLPOP", "l", "0"], ["RPUSH", "l", "a"]),
    (["BZPOPMIN", "z", "0"], ["ZADD", "z", "1", "m"]),
    (["BLMOVE", "s", "d", "LEFT", "RIGHT", "0"], ["RPUSH", "s", "x", "y"]),
    (["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "2"], ["RPUSH", "l", "a", "b"]),
    (["BZMPOP", "0", "1", "z", "MIN"], ["ZADD", "z", "1", "m"]),
    (["BRPOPLPUSH", "q", "q", "0"], ["LPUSH", "q", "1"]),
    (["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "st", ">"], ["XADD", "st", "1-1", "f", "v"]),
]


def test_own_events_of_a_served_blocked_command(specredis: ServerProcess, reference: ServerProcess) -> None:
    """A subscribed RESP3 client blocked, then served by another client's write: its events
    fall around (or inside) its reply as for the command run directly, byte for byte."""
    received: list[list[bytes]] = []
    for server in (reference, specredis):
        conn = RespClient(server.host, server.port, protocol=3)
        writer = server.client()
        frames = []
        try:
            conn.call("FLUSHALL")
            conn.call("XGROUP", "CREATE", "st", "g", "$", "MKSTREAM")
            conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
            conn.call("PSUBSCRIBE", "__keyevent*")
            for blocking, write in SERVED:
                conn.sock.sendall(encode_command(blocking))
                deadline = time.monotonic() + 5
                while int(writer.call("INFO", "clients").split(b"blocked_clients:")[1].split(b"\r\n")[0]) < 1:
                    assert time.monotonic() < deadline, f"{server.name}: {blocking} did not block"
                    time.sleep(0.01)
                writer.call(*write)
                conn.sock.sendall(encode_command(["ECHO", "served"]))
                data = b""
                while not data.endswith(b"$6\r\nserved\r\n"):
                    data += conn.sock.recv(65536)
                frames.append(data)
        finally:
            writer.call("CONFIG", "SET", "notify-keyspace-events", "")
            conn.close()
            writer.close()
        received.append(frames)
    for (blocking, _), want, got in zip(SERVED, received[0], received[1], strict=True):
        assert got == want, blocking
