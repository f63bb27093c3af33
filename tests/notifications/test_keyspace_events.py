"""Keyspace notifications over the network, compared with Redis 7.0.15.

Every case of ``cases.py`` (every served command that takes keys, and the keyless ones
that expire keys) runs on both servers with ``notify-keyspace-events`` set, while a
pattern subscriber (``PSUBSCRIBE __key*__:*``) listens: after each command a marker
message (``__keymark__:<n>``, which the same pattern matches) closes that command's
notifications, so each command's ``__keyspace@<db>__:<key>`` and ``__keyevent@<db>__:<event>``
messages are compared, in order, with the reference's. The run is repeated with single
event classes enabled, which checks the class of every event.

The spec declares the events each command can emit (``engine.keyspace_events``, as
``class:event``): every event the reference emits for a command must be declared.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from notifications.cases import CASES
from servers import ServerProcess

from specredis.protocol.client import RespClient, encode_command

SPEC_DIR = Path(__file__).resolve().parents[2] / "spec" / "commands"
PATTERN = "__key*__:*"
MARK = "__keymark__:"

# The event names Redis 7.0 emits, by class (notifyKeyspaceEvent calls in its sources).
EVENT_CLASSES = {
    "generic": {"del", "expire", "rename_from", "rename_to", "copy_to", "move_from", "move_to", "persist", "restore"},
    "string": {"set", "setrange", "incrby", "incrbyfloat", "append", "setbit", "pfadd"},
    "list": {"lpush", "rpush", "lpop", "rpop", "linsert", "lset", "lrem", "ltrim", "sortstore"},
    "hash": {"hset", "hdel", "hincrby", "hincrbyfloat"},
    "set": {"sadd", "srem", "spop", "sinterstore", "sunionstore", "sdiffstore"},
    "zset": {"zadd", "zincr", "zrem", "zpopmin", "zpopmax", "zremrangebyscore", "zremrangebyrank",
             "zremrangebylex", "zunionstore", "zinterstore", "zdiffstore", "zrangestore", "georadiusstore",
             "geosearchstore"},
    "stream": {"xadd", "xtrim", "xdel", "xsetid", "xgroup-create", "xgroup-createconsumer", "xgroup-delconsumer",
               "xgroup-destroy", "xgroup-setid"},
    "new": {"new"},
    "keymiss": {"keymiss"},
    "expired": {"expired"},
    "evicted": {"evicted"},
}
CLASS_OF = {event: cls for cls, events in EVENT_CLASSES.items() for event in events}

Events = list[tuple[bytes, bytes]]


class EventRun:
    """One server: a connection running the cases and a pattern subscriber."""

    def __init__(self, server: ServerProcess, flags: str) -> None:
        self.server = server
        self.conn = server.client()
        self.sub = server.client()
        self.sub.call("PSUBSCRIBE", PATTERN)
        self.conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        self.conn.call("CONFIG", "SET", "notify-keyspace-events", flags)
        self.marks = 0

    def close(self) -> None:
        self.conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        self.conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        self.conn.close()
        self.sub.close()

    def run(self, setup: list[list[str]], commands: list[list[str]]) -> tuple[list[Events], list[Any]]:
        """Events of the setup (all together) and of each command; replies of the commands."""
        pipeline: list[bytes] = []
        replies: list[Any] = []
        expected = 0

        def flush() -> None:
            nonlocal expected
            if pipeline:
                self.conn.sock.sendall(b"".join(pipeline))
                pipeline.clear()
                for _ in range(expected):
                    replies.append(self.conn.read_reply())
                expected = 0

        def send(argv: list) -> None:
            nonlocal expected
            pipeline.append(encode_command(argv))
            expected += 1

        def mark() -> None:
            self.marks += 1
            send(["PUBLISH", f"{MARK}{self.marks}", "x"])

        flush_all = ["FLUSHALL"]
        send(flush_all)
        for argv in setup:
            send(argv)
        mark()
        for argv in commands:
            if argv[0] == "SLEEP":
                flush()
                time.sleep(float(argv[1]))
                continue
            if argv[0] == "$RESTORE":
                flush()
                payload = self.conn.call("DUMP", argv[1])
                send(["RESTORE", argv[2], "0", payload] if payload is not None else ["RESTORE", argv[2], "0", "x"])
            else:
                send(argv)
            mark()
        flush()
        # Drop the replies of FLUSHALL, the setup and the markers: keep each command's own.
        own = []
        position = 1 + len(setup) + 1
        for argv in commands:
            if argv[0] == "SLEEP":
                continue
            own.append(replies[position])
            position += 2
        return self._collect(1 + len([c for c in commands if c[0] != "SLEEP"])), own

    def _collect(self, sections: int) -> list[Events]:
        out: list[Events] = []
        current: Events = []
        while len(out) < sections:
            kind, _pattern, channel, message = self.sub.read_reply()
            assert kind == b"pmessage"
            if channel.startswith(MARK.encode()):
                out.append(current)
                current = []
            else:
                current.append((channel, message))
        return out


@pytest.fixture(scope="module")
def runs(specredis: ServerProcess, reference: ServerProcess) -> Iterator[dict]:
    opened: dict[tuple[str, str], EventRun] = {}

    def get(server: ServerProcess, flags: str) -> EventRun:
        key = (server.name, flags)
        if key not in opened:
            for other_key in [k for k in opened if k[0] == server.name]:
                opened.pop(other_key).close()
            opened[key] = EventRun(server, flags)
        return opened[key]

    yield {"get": get}
    for run in opened.values():
        run.close()


def _event_names(events: Events) -> list[str]:
    """The event names of the ``__keyevent`` messages."""
    return [channel.split(b"__:", 1)[1].decode() for channel, _ in events if channel.startswith(b"__keyevent@")]


@cache
def declared_events(fullname: str) -> set[str]:
    path = SPEC_DIR / (fullname.replace("|", "-") + ".yaml")
    spec = yaml.safe_load(path.read_text())
    return set((spec.get("engine") or {}).get("keyspace_events") or [])


def _fullname(argv: list[str]) -> str:
    name = argv[0].lower()
    if name in ("object", "xgroup", "xinfo", "client", "config", "function", "script") and len(argv) > 1:
        return f"{name}|{argv[1].lower()}"
    return name


FLAG_SETS = [
    "KEAnm",        # everything, both channels
    "Eg$x",         # generic, string, expired on the keyevent channel only
    "Klshn",        # lists, sets, hashes and new keys on the keyspace channel only
    "Eztm",         # sorted sets, streams, key misses
]


@pytest.mark.parametrize("flags", FLAG_SETS)
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_notifications_match_the_reference(runs: dict, specredis: ServerProcess, reference: ServerProcess,
                                           case: tuple, flags: str) -> None:
    name, setup, commands = case
    ref_events, ref_replies = runs["get"](reference, flags).run(setup, commands)
    our_events, our_replies = runs["get"](specredis, flags).run(setup, commands)
    assert our_events[0] == ref_events[0], f"setup of {name}"
    plain = [c for c in commands if c[0] != "SLEEP"]
    for argv, expected, actual in zip(plain, ref_events[1:], our_events[1:], strict=True):
        assert actual == expected, f"{argv}: reference {expected}, specredis {actual}"
    # The replies agree too (or the events above would mean little); DUMP payloads may differ.
    for argv, expected, actual in zip(plain, ref_replies, our_replies, strict=True):
        if argv[0] not in ("DUMP", "RANDOMKEY", "SPOP", "SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER", "SCAN",
                           "KEYS", "XINFO", "OBJECT", "XAUTOCLAIM", "XCLAIM", "XREADGROUP", "XPENDING", "SMEMBERS",
                           "SINTER", "SUNION", "SDIFF", "EVALSHA_RO", "FUNCTION", "TTL", "PTTL",
                           "EXPIRETIME", "PEXPIRETIME"):
            assert actual == expected, f"{argv}: reference replied {expected!r}, specredis {actual!r}"


def test_every_event_the_reference_emits_is_declared(runs: dict, reference: ServerProcess) -> None:
    undeclared: dict[str, set[str]] = {}
    for _name, setup, commands in CASES:
        events, _ = runs["get"](reference, "KEAnm").run(setup, commands)
        plain = [c for c in commands if c[0] != "SLEEP"]
        for argv, emitted in zip(plain, events[1:], strict=True):
            if argv[0] in ("$RESTORE",):
                argv = ["RESTORE"]
            fullname = _fullname(argv)
            if fullname in ("eval", "eval_ro", "evalsha", "evalsha_ro", "fcall", "fcall_ro", "function|load",
                            "function|delete"):
                continue        # a script's events are those of the commands it runs
            for event in _event_names(emitted):
                cls = CLASS_OF.get(event, "?")
                if cls == "expired":
                    continue    # lazy expiry happens in any command that looks a key up
                if f"{cls}:{event}" not in declared_events(fullname):
                    undeclared.setdefault(fullname, set()).add(f"{cls}:{event}")
    assert not undeclared, f"events emitted by the reference but not declared in the spec: {undeclared}"


def test_flag_strings_are_converted_as_redis_does(specredis: ServerProcess, reference: ServerProcess) -> None:
    texts = ["", "KEA", "An", "KEAnm", "gx", "m", "nK", "Ex$", "g$lshzxetd", "g$lshzxetdn", "KEAmn", "d", "A",
             "EKx", "Z", "KEA!", "ee"]
    for server in (specredis, reference):
        server.shown = []
    results = {}
    for server in (reference, specredis):
        conn = server.client()
        got = []
        for text in texts:
            set_reply = conn.call("CONFIG", "SET", "notify-keyspace-events", text)
            got.append((text, set_reply, conn.call("CONFIG", "GET", "notify-keyspace-events")))
        conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        conn.close()
        results[server.name] = got
    assert results["specredis"] == results["reference"]


def test_keyspace_and_keyevent_channels_with_plain_subscribers(specredis: ServerProcess,
                                                               reference: ServerProcess) -> None:
    """SUBSCRIBE to exact channels (no pattern), in databases other than 0, RESP3 pushes."""
    transcripts = {}
    for server in (reference, specredis):
        conn = server.client()
        sub = server.client(protocol=3)
        sub.call("SUBSCRIBE", "__keyspace@5__:k", "__keyevent@5__:del", "__keyevent@0__:set")
        for _ in range(2):
            sub.read_reply()
        conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        conn.call("SELECT", "5")
        conn.call("SET", "k", "1")
        conn.call("DEL", "k")
        conn.call("SELECT", "0")
        conn.call("SET", "k", "2")
        conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        sub.send("PING")
        got = []
        while True:
            frame = sub.read_reply()
            if getattr(frame, "text", None) == "PONG":
                break
            got.append(frame)
        transcripts[server.name] = got
        conn.call("FLUSHALL")
        conn.close()
        sub.close()
    assert transcripts["specredis"] == transcripts["reference"]
    assert len(transcripts["reference"]) == 4


def test_a_subscriber_in_resp3_sees_its_own_notifications_before_the_reply(specredis: ServerProcess,
                                                                          reference: ServerProcess) -> None:
    streams = {}
    for server in (reference, specredis):
        conn = RespClient(server.host, server.port, protocol=3)
        conn.call("CONFIG", "SET", "notify-keyspace-events", "KA")
        conn.call("SUBSCRIBE", "__keyspace@0__:own")
        conn.sock.sendall(encode_command(["GET", "own"]) + encode_command(["SET", "own", "1"])
                          + encode_command(["INCR", "own"]) + encode_command(["PING"]))
        frames = []
        while not frames or getattr(frames[-1], "text", None) != "PONG":
            frames.append(conn.read_reply())
        streams[server.name] = frames
        conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        conn.call("DEL", "own")
        conn.close()
    assert streams["specredis"] == streams["reference"]
