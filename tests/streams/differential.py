"""Differential helpers for the stream tests.

A :class:`Pair` sends the same command to specredis and to the reference Redis
7.0.15 on the same protocol and asserts that the typed replies are identical,
errors included. IDs are explicit in these tests, so replies are deterministic --
except the few numbers that are clock readings (delivery times, idle times, a
consumer's seen-time). :meth:`Pair.check_timed` compares those within a tolerance
and everything else exactly. Keys carry a per-test prefix.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from typing import Any

import pytest

from specredis.protocol.client import RespClient, RMap

_counter = itertools.count()

#: Milliseconds two clock readings of the same event may differ by (the servers run each
#: command a moment apart; a loaded CI machine may add a little).
TIME_TOLERANCE_MS = 1500


def encode(arg: Any) -> bytes:
    if isinstance(arg, bytes):
        return arg
    return str(arg).encode()


def show(argv: Iterable[Any]) -> str:
    return " ".join(encode(a).decode(errors="replace")[:60] for a in argv)


class Clock:
    """A clock reading inside a reply: equal to another within the tolerance."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Clock) and abs(self.value - other.value) <= TIME_TOLERANCE_MS

    def __repr__(self) -> str:
        return f"Clock({self.value})"


def _clock(value: Any) -> Any:
    return Clock(value) if isinstance(value, int) else value


def _map_items(reply: Any) -> list | None:
    """A map reply's (key, value) pairs, RESP3 map or RESP2 flat array."""
    if isinstance(reply, RMap):
        return list(reply.pairs)
    if isinstance(reply, list) and len(reply) % 2 == 0 and all(isinstance(k, bytes) for k in reply[0::2]):
        return list(zip(reply[0::2], reply[1::2], strict=True))
    return None


def _rebuild(reply: Any, pairs: list) -> Any:
    if isinstance(reply, RMap):
        return RMap(tuple(pairs))
    return [x for pair in pairs for x in pair]


def clocks_marked(command: str, reply: Any) -> Any:
    """``reply`` with its clock readings wrapped in :class:`Clock`.

    XPENDING's extended form: the idle time of each entry; XINFO CONSUMERS: ``idle``;
    XINFO STREAM FULL: delivery times and consumers' ``seen-time``."""
    command = command.lower()
    if not isinstance(reply, list):
        if isinstance(reply, RMap) and command == "xinfo stream":
            return _mark_full(reply)
        return reply
    if command == "xpending":
        if reply and all(isinstance(e, list) and len(e) == 4 for e in reply):
            return [[e[0], e[1], _clock(e[2]), e[3]] for e in reply]
        return reply
    if command == "xinfo consumers":
        out = []
        for consumer in reply:
            pairs = _map_items(consumer)
            out.append(_rebuild(consumer, [(k, _clock(v) if k == b"idle" else v) for k, v in pairs]))
        return out
    if command == "xinfo stream":
        return _mark_full(reply)
    return reply


def _mark_full(reply: Any) -> Any:
    pairs = _map_items(reply)
    if pairs is None:
        return reply
    out = []
    for key, value in pairs:
        if key == b"groups" and isinstance(value, list):
            value = [_mark_group(group) for group in value]
        out.append((key, value))
    return _rebuild(reply, out)


def _mark_group(group: Any) -> Any:
    out = []
    for key, value in _map_items(group):
        if key == b"pending":
            value = [[e[0], e[1], _clock(e[2]), e[3]] for e in value]
        elif key == b"consumers":
            consumers = []
            for consumer in value:
                fields = []
                for ckey, cvalue in _map_items(consumer):
                    if ckey == b"seen-time":
                        cvalue = _clock(cvalue)
                    elif ckey == b"pending":
                        cvalue = [[e[0], _clock(e[1]), e[2]] for e in cvalue]
                    fields.append((ckey, cvalue))
                consumers.append(_rebuild(consumer, fields))
            value = consumers
        out.append((key, value))
    return _rebuild(group, out)


class Pair:
    """specredis and the reference side by side, one connection each on ``protocol``."""

    def __init__(self, specredis: Any, reference: Any, protocol: int = 2) -> None:
        self.protocol = protocol
        self.specredis = specredis
        self.reference = reference
        self.ours = specredis.client(protocol=protocol, timeout=10)
        self.ref = reference.client(protocol=protocol, timeout=10)
        self.prefix = f"x{next(_counter)}:{time.monotonic_ns()}:"

    def key(self, name: str) -> bytes:
        """A key private to this test."""
        return (self.prefix + name).encode()

    def both(self, *argv: Any) -> tuple[Any, Any]:
        """Send ``argv`` to both servers: (reference reply, specredis reply)."""
        args = [encode(a) for a in argv]
        return self.ref.call(*args), self.ours.call(*args)

    def check(self, *argv: Any) -> Any:
        """The replies must be identical; returns the reference's."""
        expected, actual = self.both(*argv)
        assert actual == expected, f"{show(argv)}: reference {expected!r}, specredis {actual!r}"
        return expected

    def check_timed(self, *argv: Any) -> Any:
        """Identical replies, except clock readings (see :func:`clocks_marked`): close enough."""
        expected, actual = self.both(*argv)
        words = [encode(a).decode(errors="replace").lower() for a in argv[:2]]
        command = " ".join(words) if words[0] == "xinfo" else words[0]
        assert clocks_marked(command, actual) == clocks_marked(command, expected), \
            f"{show(argv)}: reference {expected!r}, specredis {actual!r}"
        return expected

    def run(self, *commands: Iterable[Any]) -> list:
        """check() each command in turn."""
        return [self.check(*command) for command in commands]

    def check_digest(self, *keys: bytes) -> None:
        """Each key holds the same value on both servers (DEBUG DIGEST-VALUE)."""
        for key in keys:
            self.check("DEBUG", "DIGEST-VALUE", key)

    def connect(self) -> tuple[RespClient, RespClient]:
        """Another connection to each server: (reference, specredis)."""
        return (self.reference.client(protocol=self.protocol, timeout=10),
                self.specredis.client(protocol=self.protocol, timeout=10))

    def close(self) -> None:
        self.ours.close()
        self.ref.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request: Any, specredis: Any, reference: Any) -> Pair:
    """A Pair on RESP2 and on RESP3."""
    p = Pair(specredis, reference, request.param)
    yield p
    p.close()
