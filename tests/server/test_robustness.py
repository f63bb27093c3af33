"""Bad clients must not crash the server or hang the others.

Every case runs while a watchdog connection keeps sending PING and must keep
getting PONG within a second; malformed input must get Redis's exact reply
bytes (compared with the reference) and the connection closed.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import threading
import time

import pytest
from servers import start_reference, start_specredis

from specredis.protocol.client import RespClient, RespReader


class Watchdog:
    """A connection that pings the server every 20 ms and records slow or failed answers."""

    def __init__(self, port: int) -> None:
        self.client = RespClient(port=port, timeout=2)
        self.failures: list[str] = []
        self.pings = 0
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop_flag.is_set():
            start = time.monotonic()
            try:
                reply = self.client.call("PING")
                if getattr(reply, "text", None) != "PONG":
                    self.failures.append(f"reply {reply!r}")
            except Exception as error:  # noqa: BLE001 - any failure is what we record
                self.failures.append(f"{type(error).__name__}: {error}")
                return
            if time.monotonic() - start > 1.0:
                self.failures.append(f"PING took {time.monotonic() - start:.2f}s")
            self.pings += 1
            time.sleep(0.02)

    def __enter__(self) -> Watchdog:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_flag.set()
        self.thread.join(5)
        self.client.close()
        assert not self.failures, self.failures
        assert self.pings > 0


@pytest.fixture(scope="module")
def server():
    ours = start_specredis()
    yield ours
    ours.stop()


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class _Exchange:
    """One connection that sent ``payload`` and collects what comes back."""

    def __init__(self, port: int, payload: bytes) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.data = b""
        self.closed = False
        try:
            self.sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def read(self, quiet: float, until: float) -> None:
        """Read until the server closes, ``quiet`` seconds pass without data, or ``until``
        (a monotonic time) passes."""
        while not self.closed and time.monotonic() < until:
            self.sock.settimeout(max(0.001, min(quiet, until - time.monotonic())))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
                self.sock.close()
                return
            self.data += chunk

    def close(self) -> None:
        self.sock.close()


def _exchange_both(port_a: int, port_b: int, payload: bytes, timeout: float = 1.0) -> tuple[bytes, bytes]:
    """Send ``payload`` to both servers and read each until it closes the connection or goes
    quiet for ``timeout``. A server still sending (or not yet done) when the two differ gets
    more time: up to 15 s more, until the two agree or both have closed -- a loaded machine
    can delay a reply past any quiet period, and only a lasting difference counts."""
    sides = [_Exchange(port_a, payload), _Exchange(port_b, payload)]
    try:
        threads = [threading.Thread(target=side.read, args=(timeout, time.monotonic() + 15)) for side in sides]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        deadline = time.monotonic() + 15
        while sides[0].data != sides[1].data and time.monotonic() < deadline \
                and not (sides[0].closed and sides[1].closed):
            for side in sides:
                side.read(0.05, deadline)
        return sides[0].data, sides[1].data
    finally:
        for side in sides:
            side.close()


MALFORMED = [
    b"*abc\r\n", b"*-\r\n", b"*2\r\n$3\r\nGET\r\n:1\r\n", b"*1\r\n$-5\r\n", b"*1\r\n$abc\r\n",
    b"*3000000000\r\n", b"*1\r\n$536870913\r\n", b"*1\r\n$9999999999999999999999\r\n",
    b'ECHO "unbalanced\r\n', b"ECHO 'a'b\r\n", b"*1\r\n$4\r\nPINGxx\r\nPING\r\n",
    b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n", b"*1\r\n" + b"$" * 70000, b"A" * 70000,
    b"*1\r\n$4\r\n\x00\x01\x02\x03\r\n",
]


@pytest.fixture(scope="module")
def reference_server():
    ref = start_reference()
    yield ref
    ref.stop()


@pytest.mark.parametrize("payload", MALFORMED, ids=lambda p: repr(p[:24]))
def test_malformed_requests_get_redis_replies(server, reference_server, payload):
    with Watchdog(server.port):
        ours, ref = _exchange_both(server.port, reference_server.port, payload)
    assert ours == ref


def test_inline_requests(server, reference_server):
    payload = b'PING\r\n\r\n  \r\nECHO hello\nECHO "a b\\x41\\n"\r\nECHO \'x y\'\r\nping   spaced   \r\nQUIT\r\n'
    ours, ref = _exchange_both(server.port, reference_server.port, payload)
    assert ours == ref


def test_binary_garbage(server, reference_server):
    rng = random.Random(20240601)
    with Watchdog(server.port):
        for _ in range(20):
            garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
            garbage = garbage.replace(b"\n", b" ") + b"\r\nPING\r\n"
            ours, ref = _exchange_both(server.port, reference_server.port, garbage, timeout=0.3)
            assert ours == ref, garbage


def test_huge_length_prefixes_do_not_allocate(server):
    rss_before = _rss_kb(server.proc.pid)
    with Watchdog(server.port):
        hangers = []
        for payload in (b"*2147483647\r\n", b"*1\r\n$536870912\r\n", b"*2147483647\r\n$536870912\r\n",
                        b"*1\r\n$536870912\r\n" + b"x" * 100_000):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(payload)
            hangers.append(sock)
        time.sleep(0.3)
        # The server waits for the rest without reserving memory for it.
        assert _rss_kb(server.proc.pid) - rss_before < 50_000
        for sock in hangers:
            sock.close()


def test_client_that_never_reads(server):
    """A client pipelining GETs of a large value and never reading: memory stays bounded, others are served."""
    setter = RespClient(port=server.port)
    assert setter.call("SET", "big", b"x" * (1 << 20)).text == "OK"
    setter.close()
    rss_before = _rss_kb(server.proc.pid)
    # GETRANGE builds a new 1 MB reply each time (a GET reply could share the stored value).
    request = b"*4\r\n$8\r\nGETRANGE\r\n$3\r\nbig\r\n$1\r\n0\r\n$2\r\n-1\r\n"
    hog = socket.create_connection(("127.0.0.1", server.port))
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hog.setblocking(False)
    sent = 0
    deadline = time.monotonic() + 8
    with Watchdog(server.port):
        # Keep pushing requests until the server stops reading from us (its output is backed up).
        stalled_since = None
        stream = memoryview(request * 2000)
        while time.monotonic() < deadline and sent < len(stream):
            try:
                sent += hog.send(stream[sent:sent + (1 << 20)])
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 1.0:
                    break
                time.sleep(0.01)
        # The server answers requests until the hog's output backs up past its limit, then
        # stops reading from it: wait until omem has reached that and stays put (a loaded
        # machine takes longer than any fixed pause to get there).
        observer = RespClient(port=server.port)
        hog_line: list[str] = []
        settle_deadline = time.monotonic() + 30
        previous = None
        while time.monotonic() < settle_deadline:
            hog_line = [line for line in observer.call("CLIENT", "LIST").decode().splitlines()
                        if "cmd=getrange" in line]
            omem_now = int(hog_line[0].split(" omem=")[1].split(" ")[0]) if hog_line else None
            if omem_now is not None and omem_now >= 16 << 20 and omem_now == previous:
                break
            previous = omem_now
            time.sleep(0.2)
        observer.close()
        growth_mb = (_rss_kb(server.proc.pid) - rss_before) / 1024
    hog.close()
    # 2000 requests of 1 MB replies were sent (they are small); the server answered some, stopped
    # reading past its output limit, and its memory stayed far below the 2 GB the replies need.
    assert sent == len(stream)
    omem = int(hog_line[0].split(" omem=")[1].split(" ")[0])
    assert 16 << 20 <= omem <= 128 << 20, omem
    assert growth_mb < 256, f"server grew by {growth_mb:.0f} MB"
    assert RespClient(port=server.port).call("PING").text == "PONG"


def test_many_concurrent_clients(server):
    with Watchdog(server.port):
        sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(200)]
        for index, sock in enumerate(sockets):
            sock.sendall(b"PING\r\nECHO client-%d\r\n" % index)
        for index, sock in enumerate(sockets):
            reader = RespReader()
            replies = []
            while len(replies) < 2:
                reader.feed(sock.recv(4096))
                while True:
                    done, reply = reader.read()
                    if not done:
                        break
                    replies.append(reply)
            assert replies[0].text == "PONG" and replies[1] == b"client-%d" % index
        for sock in sockets:
            sock.close()


def test_pipeline_of_ten_thousand_commands_in_order(server):
    with Watchdog(server.port):
        client = RespClient(port=server.port, timeout=20)
        commands = [("ECHO", f"n{i}") for i in range(10_000)]
        assert client.pipeline(commands) == [f"n{i}".encode() for i in range(10_000)]
        client.close()


def _cli_hint(port: int) -> str:
    session = f"specredis-hint-{os.getpid()}-{port}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "10",
                    f"redis-cli -p {port}"], check=True)
    try:
        time.sleep(0.5)
        subprocess.run(["tmux", "send-keys", "-t", session, "SET k "], check=True)
        screen = ""
        for _ in range(30):
            time.sleep(0.1)
            screen = subprocess.run(["tmux", "capture-pane", "-t", session, "-p"], capture_output=True,
                                    text=True, check=True).stdout
            if "value" in screen:
                break
        return screen.splitlines()[0]
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


@pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("redis-cli") is None,
                    reason="needs tmux and redis-cli")
def test_redis_cli_shows_argument_hints(server, reference_server):
    ours = _cli_hint(server.port)
    assert "SET k value [NX|XX] [GET]" in ours
    assert ours.split("> ", 1)[1] == _cli_hint(reference_server.port).split("> ", 1)[1]
