"""Random Pub/Sub sessions against the reference (Hypothesis): three clients (RESP2, RESP3,
RESP2) subscribe, unsubscribe, publish and run ordinary commands in any order; after each
command every client is sent ``PING <marker>`` and read up to the marker's reply, and all
that each received must match the reference's.

Messages to other clients are written before the publisher's reply on both servers, so the
markers need no waiting. Redis walks channel dicts in hash order (UNSUBSCRIBE of every
channel, several patterns matching one message, PUBSUB CHANNELS): those frames are compared
without their order."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specredis.protocol.client import RespClient, RPush, encode_command

PROTOCOLS = (2, 3, 2)
channel = st.sampled_from(["a", "b", "c", "news.1"])
pattern = st.sampled_from(["a*", "*", "news.?", "[ab]", "c"])
argv_strategy = st.one_of(
    st.lists(channel, min_size=1, max_size=3).map(lambda cs: ["SUBSCRIBE", *cs]),
    st.lists(channel, max_size=2).map(lambda cs: ["UNSUBSCRIBE", *cs]),
    st.lists(pattern, min_size=1, max_size=2).map(lambda ps: ["PSUBSCRIBE", *ps]),
    st.lists(pattern, max_size=2).map(lambda ps: ["PUNSUBSCRIBE", *ps]),
    st.lists(channel, min_size=1, max_size=2).map(lambda cs: ["SSUBSCRIBE", *cs]),
    st.lists(channel, max_size=2).map(lambda cs: ["SUNSUBSCRIBE", *cs]),
    st.tuples(channel, st.sampled_from(["m1", "m2"])).map(lambda cm: ["PUBLISH", *cm]),
    st.tuples(channel, st.sampled_from(["s1"])).map(lambda cm: ["SPUBLISH", *cm]),
    st.lists(channel, max_size=3).map(lambda cs: ["PUBSUB", "NUMSUB", *cs]),
    st.just(["PUBSUB", "NUMPAT"]),
    st.just(["PUBSUB", "CHANNELS"]),
    st.just(["PUBSUB", "SHARDCHANNELS"]),
    st.just(["GET", "k"]),
    st.just(["SET", "k", "v"]),
    st.just(["RESET"]),
)
step_strategy = st.tuples(st.integers(0, len(PROTOCOLS) - 1), argv_strategy)

_UNORDERED = {b"unsubscribe", b"sunsubscribe", b"pmessage"}


def _items(frame: Any) -> tuple | None:
    if isinstance(frame, RPush):
        return frame.items
    if isinstance(frame, list) and frame and isinstance(frame[0], bytes):
        return tuple(frame)
    return None


def normalize(frames: list, argv: list[str]) -> list:
    """Frames in hash order compared as a multiset (counts apart from the channels they follow)."""
    ordered, unordered, counts = [], [], []
    for frame in frames:
        items = _items(frame)
        if items is not None and items[0] in _UNORDERED:
            kind = "push" if isinstance(frame, RPush) else "array"
            if items[0] == b"pmessage":
                unordered.append((kind, items))
            else:
                unordered.append((kind, items[:2]))
                counts.append(items[2])
        elif argv[:2] in (["PUBSUB", "CHANNELS"], ["PUBSUB", "SHARDCHANNELS"]) and isinstance(frame, list):
            ordered.append(sorted(frame))
        else:
            ordered.append(frame)
    return [ordered, sorted(unordered, key=repr), sorted(counts)]


class Side:
    def __init__(self, server: Any) -> None:
        self.conns = [RespClient(server.host, server.port, timeout=5, protocol=p) for p in PROTOCOLS]
        self.marks = 0

    def run(self, index: int, argv: list[str]) -> list[list]:
        """Send ``argv`` on client ``index``, then read every client up to a PING marker."""
        self.conns[index].sock.sendall(encode_command(argv))
        self.marks += 1
        marker = f"mark{self.marks}".encode()
        received = []
        for conn in self.conns:
            conn.sock.sendall(encode_command(["PING", marker]))
            frames = []
            while True:
                frame = conn.read_reply()
                if frame == marker or frame == [b"pong", marker] or frame == RPush((b"pong", marker)):
                    break
                frames.append(frame)
            received.append(frames)
        return received

    def reset(self) -> None:
        for conn in self.conns:
            conn.call("RESET")
        for conn, protocol in zip(self.conns, PROTOCOLS, strict=True):
            if protocol == 3:
                conn.call("HELLO", "3")

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


def test_random_pubsub_sessions(specredis, reference) -> None:
    ref, ours = Side(reference), Side(specredis)
    try:
        @settings(max_examples=300, deadline=None, database=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
        @given(steps=st.lists(step_strategy, min_size=1, max_size=12))
        def session(steps: list) -> None:
            ref.reset()
            ours.reset()
            for index, argv in steps:
                expected = [normalize(frames, argv) for frames in ref.run(index, argv)]
                actual = [normalize(frames, argv) for frames in ours.run(index, argv)]
                assert actual == expected, f"client {index} sent {argv}"

        session()
    finally:
        ref.close()
        ours.close()
