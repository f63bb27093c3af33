"""TIME, LASTSAVE, SHUTDOWN, FUNCTION FLUSH and clean exits on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import time

import pytest
from servers import start_reference, start_specredis

from specredis.engine.core import Engine
from specredis.protocol.client import ConnectionClosed

SAME_REPLIES = [
    ("TIME", "x"), ("LASTSAVE", "x"), ("SHUTDOWN", "foo"), ("SHUTDOWN", "ABORT"), ("SHUTDOWN", "save", "nosave"),
    ("SHUTDOWN", "abort", "now"), ("SHUTDOWN", "nosave", "abort"), ("FUNCTION", "FLUSH"),
    ("FUNCTION", "FLUSH", "async"), ("FUNCTION", "FLUSH", "SYNC"), ("FUNCTION", "FLUSH", "foo"),
    ("FUNCTION", "FLUSH", "sync", "x"),
]


@pytest.mark.parametrize("command", SAME_REPLIES, ids=lambda c: " ".join(c)[:40])
def test_same_reply_as_reference(pair, command):
    pair.same(*command)


def test_time_is_now(pair):
    ours, ref = pair.call("TIME")
    assert len(ours) == 2 and all(isinstance(part, bytes) for part in ours)
    assert abs(int(ours[0]) - int(ref[0])) <= 2
    assert 0 <= int(ours[1]) < 1_000_000
    assert abs(int(ours[0]) - time.time()) <= 2


def test_time_follows_an_injected_clock():
    engine = Engine(clock=lambda: 1_700_000_000_250)
    assert engine.execute(engine.new_client(), [b"TIME"]) == [b"1700000000", b"250000"]


def test_lastsave_is_the_start_time_until_a_save():
    before = int(time.time())
    server = start_specredis()
    try:
        lastsave = server.client().call("LASTSAVE")
        assert before - 1 <= lastsave <= int(time.time())
    finally:
        server.stop()


def _log(server) -> str:
    with open(os.path.join(server.dir, "server.log"), "rb") as handle:
        return handle.read().decode(errors="replace")


def test_shutdown_command_exits_cleanly():
    server = start_specredis()
    client = server.client()
    client.send("SHUTDOWN", "NOSAVE")
    with pytest.raises((ConnectionClosed, ConnectionResetError)):
        client.read_reply()
    assert server.proc.wait(10) == 0
    log = _log(server)
    assert "# User requested shutdown..." in log
    assert "# Redis is now ready to exit, bye bye..." in log


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_shutdown_exits_zero_and_logs_like_redis(sig, tmp_path):
    pidfile = tmp_path / "server.pid"
    server = start_specredis("--pidfile", str(pidfile))
    assert pidfile.read_text().strip() == str(server.proc.pid)
    assert server.client().call("PING").text == "PONG"
    server.proc.send_signal(sig)
    assert server.proc.wait(10) == 0
    log = _log(server)
    name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
    lines = [line for line in log.splitlines() if "shutdown" in line or "bye bye" in line or "pid file" in line]
    assert ":signal-handler (" in lines[0] and lines[0].endswith(f"Received {name} scheduling shutdown...")
    assert lines[1].endswith("# User requested shutdown...")
    assert lines[2].endswith("* Removing the pid file.")
    assert lines[3].endswith("# Redis is now ready to exit, bye bye...")
    assert not pidfile.exists()


def test_shutdown_hooks_can_refuse(pair):
    engine = Engine()
    client = engine.new_client()
    engine.extensions["shutdown_hooks"].append(lambda flags: False)
    reply = engine.execute(client, [b"SHUTDOWN"])
    assert reply.text == b"ERR Errors trying to SHUTDOWN. Check logs."
    assert engine.shutdown_requested is None
    engine.execute(client, [b"SHUTDOWN", b"FORCE"])
    assert engine.shutdown_requested == 0


def test_shutdown_in_multi_is_refused_like_redis():
    ours, ref = start_specredis(), start_reference()
    try:
        for server in (ours, ref):
            client = server.client()
            if client.call("MULTI").text != "OK":
                pytest.skip("MULTI not served yet")
        a, b = ours.client(), ref.client()
        a.call("MULTI")
        b.call("MULTI")
        assert a.call("SHUTDOWN") == b.call("SHUTDOWN")
        assert a.call("EXEC") == b.call("EXEC")
    finally:
        ours.stop()
        ref.stop()
