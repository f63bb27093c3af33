"""Multi-client scenarios run against both servers: the same steps, the same transcript.

A scenario drives a few connections to one server and records what every client
sees (replies, or ``"pending"`` when nothing arrives in time). :func:`compare`
runs it against the reference Redis and against specredis with the same keys and
asserts that the two transcripts are identical.

Nothing here waits a fixed time for the server to have done something: :meth:`Scene.send`
returns once the server has taken the command (its reply is there, or one more client is
blocked), and where the reference saw a reply, :meth:`Scene.expect` waits for specredis's
as long as it takes (up to a generous deadline). Only "nothing arrives" is decided by a
short wait, which can only make a wrong reply go unseen, never a right one look wrong.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any

import pytest

from specredis.protocol.client import RespClient, encode_command

PENDING = "pending"
#: How long to wait for something the server will do (a reply the reference gave, taking a
#: sent command): only a hung server gets near it.
DEADLINE_S = 15.0


class Scene:
    """Connections to one server and the transcript of what they saw."""

    def __init__(self, server: Any, protocol: int, prefix: str, expected: list[Any] | None = None) -> None:
        self.server = server
        self.protocol = protocol
        self.prefix = prefix
        self.conns: list[RespClient] = []
        self.log: list[Any] = []
        #: The reference's transcript, when this scene replays the scenario on specredis.
        self.expected = expected
        self._admin: RespClient | None = None

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

    def blocked_clients(self) -> int:
        """INFO clients' blocked_clients, read on a connection of the harness's own."""
        if self._admin is None:
            self._admin = self.server.client(timeout=DEADLINE_S)
        info = self._admin.call("INFO", "clients")
        for line in info.decode().splitlines():
            if line.startswith("blocked_clients:"):
                return int(line.split(":", 1)[1])
        return 0

    def send(self, conn: RespClient, *argv: Any) -> None:
        """Send without reading the reply, and return once the server has taken the command:
        before anyone else acts, it must be blocked (or answered) as it would be at once."""
        blocked_before = self.blocked_clients()
        conn.send(*argv)
        self.wait_taken(conn, blocked_before)

    def wait_taken(self, conn: RespClient, blocked_before: int) -> None:
        """Wait until ``conn``'s reply is readable or one more client is blocked than
        ``blocked_before`` (or, for a command that does neither, until the deadline)."""
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if select.select([conn.sock], [], [], 0)[0] or self.blocked_clients() > blocked_before:
                return
            time.sleep(0.002)

    def expect(self, conn: RespClient, wait: float = DEADLINE_S) -> Any:
        """The next reply of ``conn``, or PENDING if none arrives within ``wait`` seconds.

        Without ``wait`` a reply is expected: it is waited for as long as it takes. A short
        ``wait`` checks that nothing comes; replaying after the reference, where the reference
        got a reply it is still waited for as long as it takes (DEADLINE_S)."""
        if self.expected is not None and len(self.log) < len(self.expected):
            seen = self.expected[len(self.log)]
            if seen[1] == "reply" and seen[2] != PENDING:
                wait = max(wait, DEADLINE_S)
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
        for conn in [*self.conns, self._admin]:
            if conn is not None:
                conn.close()


Scenario = Callable[[Scene], None]


def compare(specredis: Any, reference: Any, protocol: int, scenario: Scenario) -> list:
    transcripts = []
    prefix = f"b{time.monotonic_ns()}:"        # the same keys on both servers
    for server in (reference, specredis):
        scene = Scene(server, protocol, prefix, expected=transcripts[0] if transcripts else None)
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
