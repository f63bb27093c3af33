"""Multi-client scenarios run against both servers: the same steps, the same transcript.

A scenario drives a few connections to one server and records what every client
sees (replies, or ``"pending"`` when nothing arrives in time). :func:`compare`
runs it against the reference Redis and against specredis with the same keys and
asserts that the two transcripts are identical.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from specredis.protocol.client import RespClient, encode_command

PENDING = "pending"


class Scene:
    """Connections to one server and the transcript of what they saw."""

    def __init__(self, server: Any, protocol: int, prefix: str) -> None:
        self.server = server
        self.protocol = protocol
        self.prefix = prefix
        self.conns: list[RespClient] = []
        self.log: list[Any] = []

    def key(self, name: str) -> bytes:
        return f"{self.prefix}{name}".encode()

    def client(self) -> RespClient:
        conn = self.server.client(protocol=self.protocol, timeout=5)
        self.conns.append(conn)
        return conn

    def call(self, conn: RespClient, *argv: Any) -> Any:
        reply = conn.call(*argv)
        self.log.append((self.conns.index(conn), argv[0], reply))
        return reply

    def send(self, conn: RespClient, *argv: Any) -> None:
        conn.send(*argv)
        time.sleep(0.05)        # let the server block it before anyone else acts

    def expect(self, conn: RespClient, wait: float = 1.0) -> Any:
        """The next reply of ``conn``, or PENDING if none arrives within ``wait`` seconds."""
        conn.sock.settimeout(wait)
        try:
            reply = conn.read_reply()
        except TimeoutError:
            reply = PENDING
        finally:
            conn.sock.settimeout(5)
        self.log.append((self.conns.index(conn), "reply", reply))
        return reply

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


Scenario = Callable[[Scene], None]


def compare(specredis: Any, reference: Any, protocol: int, scenario: Scenario) -> list:
    transcripts = []
    prefix = f"b{time.monotonic_ns()}:"        # the same keys on both servers
    for server in (reference, specredis):
        scene = Scene(server, protocol, prefix)
        try:
            scenario(scene)
        finally:
            scene.close()
        transcripts.append(scene.log)
    assert transcripts[1] == transcripts[0]
    return transcripts[0]


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request: Any) -> int:
    return request.param


def encode(argv: list) -> bytes:
    """One request in RESP, for pipelines sent with sock.sendall."""
    return encode_command(argv)
