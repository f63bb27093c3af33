"""Differential helpers for the set, sorted set and SORT tests.

A :class:`Pair` sends the same command to specredis and to the reference Redis
7.0.15 on the same protocol and asserts that the typed replies are identical
(errors included, text and all). Replies whose order Redis leaves to a hash table
are compared as multisets (:meth:`Pair.check_unordered`), random replies by shape
and membership (:meth:`Pair.check_random`). Keys carry a per-test prefix so tests
never see each other's data; :meth:`Pair.check_digest` compares whole values with
DEBUG DIGEST-VALUE.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest

from specredis.protocol.client import RDouble, RespClient, RespError, RMap, RSet, Status

_counter = itertools.count()


def encode(arg: Any) -> bytes:
    """An argument as bytes (ints and floats as their decimal text)."""
    if isinstance(arg, bytes):
        return arg
    return str(arg).encode()


def show(argv: Iterable[Any]) -> str:
    return " ".join(encode(a).decode(errors="replace")[:60] for a in argv)


def as_multiset(reply: Any) -> Any:
    """A reply whose top-level order does not matter, in a comparable form."""
    if isinstance(reply, RSet):
        return ("set", sorted(map(repr, reply.items)))
    if isinstance(reply, RMap):
        return ("map", sorted(map(repr, reply.pairs)))
    if isinstance(reply, list):
        return ("array", sorted(map(repr, reply)))
    return reply


class Pair:
    """specredis and the reference side by side, one connection each on ``protocol``."""

    def __init__(self, specredis: Any, reference: Any, protocol: int = 2) -> None:
        self.protocol = protocol
        self.specredis = specredis
        self.reference = reference
        self.ours = specredis.client(protocol=protocol, timeout=10)
        self.ref = reference.client(protocol=protocol, timeout=10)
        self.prefix = f"t{next(_counter)}:{time.monotonic_ns()}:"

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

    def run(self, *commands: Iterable[Any]) -> list:
        """check() each command in turn."""
        return [self.check(*command) for command in commands]

    def check_unordered(self, *argv: Any) -> Any:
        """The replies must hold the same elements (a hash table's order is Redis's own)."""
        expected, actual = self.both(*argv)
        assert type(actual) is type(expected) and as_multiset(actual) == as_multiset(expected), \
            f"{show(argv)}: reference {expected!r}, specredis {actual!r}"
        return expected

    def check_random(self, *argv: Any, universe: Iterable[Any] = (), distinct: bool = False) -> Any:
        """Random replies: the same shape (types and lengths), every element from ``universe``."""
        expected, actual = self.both(*argv)
        assert shape(actual) == shape(expected), f"{show(argv)}: reference {expected!r}, specredis {actual!r}"
        allowed = set(universe)
        if allowed:
            leaves = list(members_of(actual))
            assert all(leaf in allowed for leaf in leaves), f"{show(argv)}: {actual!r} not within {allowed!r}"
            if distinct:
                assert len(set(leaves)) == len(leaves), f"{show(argv)}: repeated members in {actual!r}"
        return actual

    def check_digest(self, *keys: bytes) -> None:
        """Each key holds the same value on both servers (DEBUG DIGEST-VALUE)."""
        for key in keys:
            self.check("DEBUG", "DIGEST-VALUE", key)

    def check_encoding(self, key: bytes) -> Any:
        return self.check("OBJECT", "ENCODING", key)

    def connect(self) -> tuple[RespClient, RespClient]:
        """Another connection to each server: (reference, specredis)."""
        return (self.reference.client(protocol=self.protocol, timeout=10),
                self.specredis.client(protocol=self.protocol, timeout=10))

    def close(self) -> None:
        self.ours.close()
        self.ref.close()


def shape(reply: Any) -> Any:
    """A reply with its strings blanked: what must agree even when content is random."""
    if isinstance(reply, list):
        return ["array", [shape(item) for item in reply]]
    if isinstance(reply, RSet):
        return ["set", [shape(item) for item in reply.items]]
    if isinstance(reply, bytes):
        return "bulk"
    if isinstance(reply, RDouble):
        return "double"
    if isinstance(reply, (RespError, Status)):
        return reply
    return type(reply).__name__


def members_of(reply: Any) -> Iterable[bytes]:
    """The member names in a random reply (bulk strings that are not scores)."""
    items = reply.items if isinstance(reply, RSet) else reply
    if isinstance(items, bytes):
        yield items
    elif isinstance(items, list):
        for item in items:
            if isinstance(item, list):
                yield item[0]
            elif isinstance(item, bytes):
                yield item


def unordered_equal(a: Any, b: Any) -> bool:
    return Counter(map(repr, a)) == Counter(map(repr, b))


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request: Any, specredis: Any, reference: Any) -> Pair:
    """A Pair on RESP2 and on RESP3."""
    p = Pair(specredis, reference, request.param)
    yield p
    p.close()
