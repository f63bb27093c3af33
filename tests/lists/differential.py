"""Differential helpers for the list, hash, blocking and transaction tests.

A :class:`Pair` sends the same command to specredis and to the reference Redis on
the same protocol and asserts that the typed replies are identical (errors
included, text and all). Keys are prefixed per test so that tests never see each
other's data, whether or not FLUSHALL is available.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from specredis.protocol.client import RespClient, RespError, RMap

_counter = itertools.count()


def encode(arg: Any) -> bytes:
    if isinstance(arg, bytes):
        return arg
    return str(arg).encode()


class Side:
    """One server of the pair: a connection on the chosen protocol."""

    def __init__(self, server: Any, protocol: int) -> None:
        self.server = server
        self.protocol = protocol
        self.conn = server.client(protocol=protocol, timeout=10)
        self.extra: list[RespClient] = []

    def connect(self) -> RespClient:
        """Another connection to the same server, on the same protocol."""
        conn = self.server.client(protocol=self.protocol, timeout=10)
        self.extra.append(conn)
        return conn

    def close(self) -> None:
        for conn in [self.conn, *self.extra]:
            conn.close()


class Pair:
    """specredis and the reference, side by side."""

    def __init__(self, specredis: Any, reference: Any, protocol: int = 2) -> None:
        self.protocol = protocol
        self.ours = Side(specredis, protocol)
        self.ref = Side(reference, protocol)
        self.prefix = f"t{next(_counter)}:{time.monotonic_ns()}:"

    def key(self, name: str) -> bytes:
        """A key private to this test: ``{prefix}name``."""
        return (self.prefix + name).encode()

    def both(self, *argv: Any) -> tuple[Any, Any]:
        """Send ``argv`` to both servers; (reference reply, specredis reply)."""
        args = [encode(a) for a in argv]
        return self.ref.conn.call(*args), self.ours.conn.call(*args)

    def check(self, *argv: Any) -> Any:
        """Send ``argv`` to both and assert the replies are equal; return the reply."""
        expected, actual = self.both(*argv)
        assert actual == expected, f"{_show(argv)}: reference {expected!r}, specredis {actual!r}"
        return expected

    def check_unordered(self, *argv: Any) -> Any:
        """Like check() for replies whose order is a hash table's: compared as multisets."""
        expected, actual = self.both(*argv)
        assert _multiset(actual) == _multiset(expected), \
            f"{_show(argv)}: reference {expected!r}, specredis {actual!r}"
        return expected

    def run(self, *commands: list | tuple) -> list:
        """check() each command in turn."""
        return [self.check(*command) for command in commands]

    def require(self, *argv: Any) -> None:
        """Skip the test if specredis does not serve the command ``argv`` starts with."""
        reply = self.ours.conn.call(*[encode(a) for a in argv])
        if isinstance(reply, RespError) and reply.text.startswith("ERR unknown command"):
            pytest.skip(f"specredis does not serve {argv[0]} yet")

    def close(self) -> None:
        self.ours.close()
        self.ref.close()


def _multiset(reply: Any) -> Any:
    if isinstance(reply, RMap):
        return sorted(reply.pairs)
    if isinstance(reply, list):
        if len(reply) % 2 == 0 and all(isinstance(x, bytes) for x in reply):
            return sorted(zip(reply[::2], reply[1::2], strict=True))
        return sorted(reply, key=repr)
    return reply


def _show(argv: tuple) -> str:
    return " ".join(encode(a).decode(errors="replace")[:60] for a in argv)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request: Any, specredis: Any, reference: Any) -> Pair:
    """A Pair on RESP2 and on RESP3."""
    p = Pair(specredis, reference, request.param)
    yield p
    p.close()
