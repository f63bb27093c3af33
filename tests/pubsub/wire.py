"""Differential multi-connection scenes: the same commands on named connections to the
reference Redis and to specredis, and everything each connection receives, compared.

Out-of-band output (Pub/Sub messages, keyspace notifications, tracking invalidations)
has no request to wait for, so a :class:`Lockstep` step first makes sure the reference
has executed the step (a PING on a barrier connection of its own is answered only after
the commands sent before it: on a loaded machine the reference may take longer than any
quiet period to start), then reads the reference's connections until they have been
quiet for a moment, then reads from specredis exactly
as many frames per connection (waiting as long as it takes), then checks specredis sent
nothing more. Frames are typed (:mod:`specredis.protocol.client`): RESP3 pushes, maps,
sets, nulls and RESP2 arrays stay distinct, so the comparison is exact.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from specredis.protocol.client import ConnectionClosed, RespClient, encode_command

QUIET_S = 0.06          # the reference is done when it has been silent this long
BARRIER_S = 5.0         # how long the barrier PING may take (CLIENT PAUSE would hold it)
OURS_TIMEOUT_S = 10.0   # how long specredis may take to send what the reference sent
CLOSED = "<closed>"


class ClientId:
    """A command argument standing for the id of a named connection on each server."""

    def __init__(self, name: str) -> None:
        self.name = name


class Side:
    """The named connections to one server."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.conns: dict[str, RespClient] = {}
        self.ids: dict[str, int] = {}
        self.closed: set[str] = set()

    def connect(self, name: str, protocol: int) -> None:
        conn = RespClient(self.server.host, self.server.port, timeout=OURS_TIMEOUT_S, protocol=protocol)
        self.conns[name] = conn
        self.ids[name] = conn.call("CLIENT", "ID")

    def resolve(self, argv: tuple) -> list:
        return [self.ids[arg.name] if isinstance(arg, ClientId) else arg for arg in argv]

    def send(self, name: str, commands: list[tuple]) -> None:
        self.conns[name].sock.sendall(b"".join(encode_command(self.resolve(argv)) for argv in commands))

    def _frames_ready(self, conn: RespClient) -> list:
        frames = []
        while True:
            done, value = conn.reader.read()
            if not done:
                return frames
            frames.append(value)

    def _receive(self, name: str) -> bool:
        """Read what is available on ``name`` into its reader; False if the peer closed."""
        conn = self.conns[name]
        try:
            data = conn.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            data = b""
        if not data:
            self.closed.add(name)
            return False
        conn.reader.feed(data)
        return True

    def drain_until_quiet(self, quiet: float = QUIET_S) -> dict[str, list]:
        """Everything each connection receives until all have been silent for ``quiet`` seconds."""
        got: dict[str, list] = {name: [] for name in self.conns}
        live = {name for name in self.conns if name not in self.closed}
        while live:
            socks = {self.conns[name].sock: name for name in live}
            ready, _, _ = select.select(list(socks), [], [], quiet)
            if not ready:
                break
            for sock in ready:
                name = socks[sock]
                if not self._receive(name):
                    live.discard(name)
                    got[name].append(CLOSED)
        for name in self.conns:
            frames = self._frames_ready(self.conns[name])
            if got[name] and got[name][-1] == CLOSED:
                got[name][-1:-1] = frames
            else:
                got[name].extend(frames)
        return got

    def read_frames(self, name: str, count: int, until_closed: bool = False,
                    timeout: float = OURS_TIMEOUT_S) -> list:
        """``count`` frames from ``name`` (and then its closing, with ``until_closed``), or what
        came before the connection closed or the time ran out."""
        conn = self.conns[name]
        frames = self._frames_ready(conn)
        deadline = time.monotonic() + timeout
        while (len(frames) < count or until_closed) and name not in self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([conn.sock], [], [], left)
            if ready and not self._receive(name):
                frames.extend(self._frames_ready(conn))
                frames.append(CLOSED)
                break
            frames.extend(self._frames_ready(conn))
        return frames

    def read_quiet(self, name: str, quiet: float) -> list:
        """Whatever ``name`` receives until it has been silent for ``quiet`` seconds."""
        conn = self.conns[name]
        frames: list = []
        while name not in self.closed:
            ready, _, _ = select.select([conn.sock], [], [], quiet)
            if not ready:
                break
            if not self._receive(name):
                frames.extend(self._frames_ready(conn))
                frames.append(CLOSED)
                return frames
            frames.extend(self._frames_ready(conn))
        return frames

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()


class Barrier:
    """A connection of the harness's own, opened on both servers before the scene's (so client
    ids and counts stay alike), whose PING returns only after the server has run every
    command sent to it earlier: the reference finished the step, whatever the machine load."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.conn: RespClient | None = None
        self.unanswered = 0
        self.connect()

    def connect(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = RespClient(self.server.host, self.server.port, timeout=BARRIER_S)
        self.unanswered = 0

    def wait(self) -> None:
        """Send a PING and read every PONG still owed (a paused server may not answer: then go on)."""
        assert self.conn is not None
        try:
            self.conn.sock.sendall(encode_command(["PING"]))
            self.unanswered += 1
            while self.unanswered:
                self.conn.read_reply()
                self.unanswered -= 1
        except TimeoutError:
            pass
        except (ConnectionClosed, OSError):
            self.connect()      # killed by the scene (CLIENT KILL): a new one for next time


class Lockstep:
    """Named connections to both servers, driven together."""

    def __init__(self, reference: Any, specredis: Any) -> None:
        self.barriers = (Barrier(reference), Barrier(specredis))
        self.ref = Side(reference)
        self.ours = Side(specredis)
        self.transcript: list[tuple[str, Any]] = []

    def connect(self, name: str, protocol: int = 2) -> None:
        self.ref.connect(name, protocol)
        self.ours.connect(name, protocol)

    def id_of(self, side: Side, name: str) -> int:
        return side.ids[name]

    def step(self, name: str, *commands: tuple, normalize: Callable[[Side, str, list], list] | None = None,
             quiet: float = QUIET_S) -> dict[str, list]:
        """Send ``commands`` (pipelined) on connection ``name`` of both servers, then compare
        what every connection received. Returns the reference's frames per connection."""
        self.ref.send(name, list(commands))
        self.ours.send(name, list(commands))
        return self.settle(normalize=normalize, quiet=quiet, label=f"{name}: {list(commands)}")

    def settle(self, normalize: Callable[[Side, str, list], list] | None = None, quiet: float = QUIET_S,
               label: str = "settle") -> dict[str, list]:
        for barrier in self.barriers:     # both: the servers see the same commands
            barrier.wait()
        expected = self.ref.drain_until_quiet(quiet)
        actual: dict[str, list] = {}
        for name, frames in expected.items():
            closes = CLOSED in frames
            got = self.ours.read_frames(name, len(frames) - closes, until_closed=closes)
            if CLOSED not in got:
                got.extend(self.ours.read_quiet(name, 0.02))
            actual[name] = got
        # Frames from connections the reference left silent.
        for name in self.ours.conns:
            actual.setdefault(name, [])
        if normalize is not None:
            expected = {name: normalize(self.ref, name, frames) for name, frames in expected.items()}
            actual = {name: normalize(self.ours, name, frames) for name, frames in actual.items()}
        self.transcript.append((label, expected))
        assert actual == expected, f"after {label}\nreference: {expected}\nspecredis: {actual}"
        return expected

    def close(self) -> None:
        self.ref.close()
        self.ours.close()
        for barrier in self.barriers:
            if barrier.conn is not None:
                barrier.conn.close()


def quietly_read(conn: RespClient, quiet: float = QUIET_S) -> list:
    """Every frame ``conn`` receives until it has been silent for ``quiet`` seconds."""
    frames = []
    conn.sock.settimeout(quiet)
    try:
        while True:
            frames.append(conn.read_reply())
    except (TimeoutError, ConnectionClosed):
        pass
    finally:
        conn.sock.settimeout(OURS_TIMEOUT_S)
    return frames


# -- fixtures (imported by the conftest.py of tests/pubsub, tests/tracking, tests/notifications) --


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request: pytest.FixtureRequest) -> int:
    """The protocol of the connections under test."""
    return request.param


@pytest.fixture
def lockstep(reference: Any, specredis: Any) -> Iterator[Lockstep]:
    """A fresh :class:`Lockstep` over the module's two servers, left clean afterwards."""
    scene = Lockstep(reference, specredis)
    yield scene
    scene.close()
    for server in (reference, specredis):
        conn = server.client()
        conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        conn.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 pubsub 32mb 8mb 60")
        conn.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")
        conn.call("FLUSHALL")
        conn.close()
