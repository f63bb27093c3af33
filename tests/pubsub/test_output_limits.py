"""client-output-buffer-limit: slow subscribers (and normal clients, when limited) are
disconnected at their limits, on specredis as on the reference, while publishers keep
being served and the server's memory stays bounded. Real server processes, real sockets
that never read."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from servers import ServerProcess, start_reference, start_specredis

from specredis.engine.client import CollectingSink
from specredis.engine.core import Engine
from specredis.engine.pubsub import check_output_limits
from specredis.protocol.client import RespClient, encode_command

MB = 1 << 20


@pytest.fixture(scope="module", params=["specredis", "reference"])
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    started = start_specredis() if request.param == "specredis" else start_reference()
    yield started
    started.stop()


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _deaf_subscriber(port: int, channel: str) -> socket.socket:
    """A subscriber with a tiny receive buffer that never reads after its confirmation."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(encode_command(["SUBSCRIBE", channel]))
    sock.settimeout(5)
    assert sock.recv(100).startswith(b"*3\r\n$9\r\nsubscribe")
    return sock


def _subscribers(conn: RespClient, channel: str) -> int:
    return conn.call("PUBSUB", "NUMSUB", channel)[1]


def _configure(conn: RespClient, value: str) -> None:
    assert conn.call("CONFIG", "SET", "client-output-buffer-limit", value).text == "OK"


def test_a_subscriber_that_never_reads_is_dropped_at_the_hard_limit(server: ServerProcess) -> None:
    pub = server.client()
    _configure(pub, "pubsub 32mb 8mb 60")
    deaf = _deaf_subscriber(server.port, "firehose")
    listener = server.client()
    listener.call("SUBSCRIBE", "firehose")
    rss_before = _rss_kb(server.proc.pid)
    message = b"m" * MB
    peak_kb = 0
    slowest = 0.0
    try:
        sent = 0
        while sent < 160:
            sent += 1
            start = time.monotonic()
            receivers = pub.call("PUBLISH", "firehose", message)
            slowest = max(slowest, time.monotonic() - start)
            listener.read_reply()           # a reading subscriber keeps up
            peak_kb = max(peak_kb, _rss_kb(server.proc.pid))
            if receivers == 1:
                break
        # The deaf subscriber was dropped after about 32 MB (plus what the kernel buffers)...
        assert receivers == 1, "the subscriber that never reads was never disconnected"
        assert 24 <= sent <= 100, sent
        assert _subscribers(pub, "firehose") == 1
        # ... while the publisher was answered promptly and memory stayed bounded.
        assert slowest < 2.0
        assert (peak_kb - rss_before) / 1024 < 160, f"grew by {(peak_kb - rss_before) / 1024:.0f} MB"
        deaf.settimeout(5)
        data = b""
        try:
            while chunk := deaf.recv(1 << 20):
                data += chunk
        except ConnectionResetError:
            pass
        assert len(data) < 64 * MB          # its backlog was discarded, not sent
    finally:
        deaf.close()
        listener.close()
        pub.close()


def test_the_soft_limit_drops_a_subscriber_over_it_for_longer_than_its_seconds(server: ServerProcess) -> None:
    pub = server.client()
    _configure(pub, "pubsub 0 2mb 1")
    deaf = _deaf_subscriber(server.port, "soft")
    try:
        publishing_since = time.monotonic()
        for _ in range(12):                  # well over 2 MB beyond what the kernel takes
            pub.call("PUBLISH", "soft", b"s" * MB)
        over_since = time.monotonic()
        # Over the soft limit (since some moment during the publishing): still connected for
        # about a second, then dropped (at the next message or by the cron). A loaded machine
        # stretches both the publishing and the dropping, so the bounds are taken from the
        # side each can only grow: no earlier than a second after the publishing started,
        # and (at the latest) some seconds after it ended.
        assert _subscribers(pub, "soft") == 1 or over_since - publishing_since >= 0.9
        deadline = over_since + 30
        while _subscribers(pub, "soft") == 1 and time.monotonic() < deadline:
            pub.call("PUBLISH", "soft", "tick")
            time.sleep(0.1)
        dropped_at = time.monotonic()
        assert _subscribers(pub, "soft") == 0, "not dropped by the soft limit"
        assert dropped_at - publishing_since >= 0.9, dropped_at - publishing_since
    finally:
        _configure(pub, "pubsub 32mb 8mb 60")
        deaf.close()
        pub.close()


def test_a_subscriber_that_catches_up_is_kept(server: ServerProcess) -> None:
    pub = server.client()
    _configure(pub, "pubsub 0 2mb 2")
    sub = server.client()
    sub.call("SUBSCRIBE", "bursty")
    try:
        for _ in range(3):
            for _ in range(6):
                pub.call("PUBLISH", "bursty", b"b" * MB)
            for _ in range(6):
                assert len(sub.read_reply()[2]) == MB
            time.sleep(1.2)
        assert _subscribers(pub, "bursty") == 1
    finally:
        _configure(pub, "pubsub 32mb 8mb 60")
        sub.close()
        pub.close()


def test_normal_clients_are_unlimited_by_default_and_limited_when_configured(server: ServerProcess) -> None:
    admin = server.client()
    admin.call("SET", "big", b"v" * (256 * 1024))
    request = encode_command(["GETRANGE", "big", "0", "-1"]) * 400      # 100 MB of replies
    try:
        for limit, dropped in (("normal 0 0 0", False), ("normal 4mb 0 0", True)):
            _configure(admin, limit)
            hog = socket.socket()
            hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            hog.connect(("127.0.0.1", server.port))
            hog.setblocking(False)
            hog_id_before = set(admin.call("CLIENT", "LIST").decode().split("\n"))
            sent = 0
            deadline = time.monotonic() + 5
            while sent < len(request) and time.monotonic() < deadline:
                try:
                    sent += hog.send(request[sent:sent + 65536])
                except BlockingIOError:
                    time.sleep(0.01)
                except OSError:
                    break
            # Until the server has answered enough to decide: the hog dropped, or (unlimited)
            # still there with more than the 4 MB that would have dropped it queued.
            settle_deadline = time.monotonic() + 30
            while True:
                lines = [line for line in admin.call("CLIENT", "LIST").decode().split("\n")
                         if line and line not in hog_id_before and "cmd=getrange" in line]
                omem = int(lines[0].split(" omem=")[1].split(" ")[0]) if lines else 0
                if (not lines if dropped else omem > 4 * MB) or time.monotonic() > settle_deadline:
                    break
                time.sleep(0.05)
            assert bool(lines) != dropped, (limit, lines)
            assert admin.call("PING").text == "PONG"
            hog.close()
    finally:
        _configure(admin, "normal 0 0 0")
        admin.close()


class SizedSink(CollectingSink):
    """An in-process sink whose unsent output the test sets."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0
        self.aborted = False

    def output_buffer_size(self) -> int:
        return self.size

    def abort(self) -> None:
        self.aborted = True


def test_limit_rules_on_a_fake_clock() -> None:
    now = [1_000_000]
    engine = Engine(clock=lambda: now[0])
    admin = engine.new_client()
    engine.execute(admin, [b"CONFIG", b"SET", b"client-output-buffer-limit", b"pubsub 10mb 1mb 2 normal 5mb 0 0"])
    sink = SizedSink()
    sub = engine.new_client(sink)
    engine.execute(sub, [b"SUBSCRIBE", b"c"])
    sink.size = 1 * MB - 1
    assert not check_output_limits(sub)
    sink.size = 1 * MB                       # soft limit reached: the clock starts
    assert not check_output_limits(sub)
    now[0] += 2000
    assert not check_output_limits(sub)      # 2 s: not more than soft-seconds yet
    sink.size = 10                           # back under: forgotten
    assert not check_output_limits(sub)
    sink.size = 2 * MB
    now[0] += 1000
    assert not check_output_limits(sub)
    now[0] += 3000
    assert check_output_limits(sub) and sink.aborted
    # The hard limit acts at once; a normal client falls under the normal class.
    other_sink = SizedSink()
    other = engine.new_client(other_sink)
    other_sink.size = 5 * MB - 1
    assert not check_output_limits(other)
    other_sink.size = 5 * MB
    assert check_output_limits(other) and other_sink.aborted
