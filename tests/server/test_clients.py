"""CLIENT subcommands, client pause, maxclients, idle timeout and protected mode."""

from __future__ import annotations

import select
import socket
import threading
import time

import pytest
from servers import start_reference, start_specredis

from specredis.engine.client import CLIENT_BLOCKED
from specredis.engine.core import Engine
from specredis.protocol.client import ConnectionClosed, RespError, RVerbatim
from specredis.protocol.replies import NO_REPLY, OK

CLIENT_LIST_FIELDS = [
    "id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi",
    "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events",
    "cmd", "user", "redir", "resp",
]

SAME_REPLIES = [
    ("CLIENT",), ("CLIENT", "foo"), ("CLIENT", "ID", "x"), ("CLIENT", "GETNAME", "x"),
    ("CLIENT", "SETNAME"), ("CLIENT", "SETNAME", "a", "b"), ("CLIENT", "SETNAME", "a b"),
    ("CLIENT", "SETNAME", "a\nb"), ("CLIENT", "SETNAME", "é"), ("CLIENT", "SETNAME", "ok"),
    ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", ""), ("CLIENT", "GETNAME"),
    ("CLIENT", "LIST", "TYPE", "foo"), ("CLIENT", "LIST", "ID"), ("CLIENT", "LIST", "ID", "abc"),
    ("CLIENT", "LIST", "ID", "0"), ("CLIENT", "LIST", "ID", "-1"), ("CLIENT", "LIST", "ID", "99999"),
    ("CLIENT", "LIST", "foo"), ("CLIENT", "LIST", "TYPE"), ("CLIENT", "LIST", "TYPE", "pubsub"),
    ("CLIENT", "LIST", "type", "MASTER"), ("CLIENT", "LIST", "TYPE", "replica"),
    ("CLIENT", "LIST", "TYPE", "slave"), ("CLIENT", "LIST", "TYPE", "normal", "ID", "5"),
    ("CLIENT", "LIST", "ID", "1", "2", "abc"), ("CLIENT", "INFO", "x"),
    ("CLIENT", "KILL"), ("CLIENT", "KILL", "1.2.3.4:5"), ("CLIENT", "KILL", "foo"), ("CLIENT", "KILL", "id"),
    ("CLIENT", "KILL", "ID", "abc"), ("CLIENT", "KILL", "ID", "0"), ("CLIENT", "KILL", "ID", "-5"),
    ("CLIENT", "KILL", "ID", "99999"), ("CLIENT", "KILL", "TYPE", "foo"), ("CLIENT", "KILL", "SKIPME", "maybe"),
    ("CLIENT", "KILL", "USER", "nobody"), ("CLIENT", "KILL", "ADDR", "1.2.3.4:5"),
    ("CLIENT", "KILL", "LADDR", "1.2.3.4:5"), ("CLIENT", "KILL", "MAXAGE", "10"),
    ("CLIENT", "KILL", "ID", "5", "ID", "6"), ("CLIENT", "KILL", "ID", "5", "TYPE"),
    ("CLIENT", "KILL", "TYPE", "master"), ("CLIENT", "KILL", "TYPE", "replica"),
    ("CLIENT", "KILL", "TYPE", "pubsub"), ("CLIENT", "KILL", "SKIPME", "yes"),
    ("CLIENT", "KILL", "USER", "default"),
    ("CLIENT", "REPLY"), ("CLIENT", "REPLY", "foo"), ("CLIENT", "REPLY", "ON"),
    ("CLIENT", "PAUSE"), ("CLIENT", "PAUSE", "abc"), ("CLIENT", "PAUSE", "-1"), ("CLIENT", "PAUSE", "10", "foo"),
    ("CLIENT", "PAUSE", "10", "write", "x"), ("CLIENT", "PAUSE", "1.5"),
    ("CLIENT", "PAUSE", "9223372036854775807"), ("CLIENT", "UNPAUSE"),
    ("CLIENT", "UNPAUSE", "x"), ("CLIENT", "NO-EVICT"), ("CLIENT", "NO-EVICT", "maybe"),
    ("CLIENT", "NO-EVICT", "on"), ("CLIENT", "NO-EVICT", "OFF"), ("CLIENT", "HELP"), ("CLIENT", "HELP", "x"),
]


@pytest.mark.parametrize("command", SAME_REPLIES, ids=lambda c: " ".join(c)[:40])
def test_same_reply_as_reference(pair, command):
    pair.same(*command)


def _fields(line: bytes) -> dict[str, str]:
    return dict(item.split("=", 1) for item in line.decode().split(" "))


def test_client_list_fields_in_reference_order(pair):
    pair.same("CLIENT", "SETNAME", "lister")
    ours, ref = pair.call("CLIENT", "LIST", "ID", pair.ours.call("CLIENT", "ID"))
    ref = pair.ref.call("CLIENT", "LIST", "ID", pair.ref.call("CLIENT", "ID"))
    assert ours.endswith(b"\n") and ref.endswith(b"\n")
    ours_fields, ref_fields = _fields(ours.rstrip(b"\n")), _fields(ref.rstrip(b"\n"))
    assert list(ours_fields) == list(ref_fields) == CLIENT_LIST_FIELDS
    for name in ("name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi", "argv-mem",
                 "obl", "oll", "omem", "events", "cmd", "user", "redir", "resp"):
        assert ours_fields[name] == ref_fields[name], name
    host, port = ours_fields["addr"].rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    assert ours_fields["laddr"].endswith(f":{pair.ours.sock.getpeername()[1]}")
    assert int(ours_fields["fd"]) > 0


def test_client_info_is_verbatim_in_resp3(pair3):
    ours, ref = pair3.call("CLIENT", "INFO")
    assert isinstance(ours, RVerbatim) and isinstance(ref, RVerbatim) and ours.format == ref.format == "txt"
    assert list(_fields(ours.text.rstrip(b"\n"))) == CLIENT_LIST_FIELDS
    assert _fields(ours.text.rstrip(b"\n"))["resp"] == "3"


def test_client_list_filters(specredis):
    a, b = specredis.client(), specredis.client()
    a_id, b_id = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
    listing = a.call("CLIENT", "LIST", "ID", b_id, a_id, b_id, 99999).decode().splitlines()
    assert [_fields(line.encode())["id"] for line in listing] == [str(b_id), str(a_id), str(b_id)]
    assert _fields(listing[0].encode())["cmd"] == "client|id"
    normal = a.call("CLIENT", "LIST", "TYPE", "normal").decode().splitlines()
    assert {str(a_id), str(b_id)} <= {_fields(line.encode())["id"] for line in normal}
    assert a.call("CLIENT", "LIST", "TYPE", "pubsub") == b""


def test_client_list_flags_and_multi(specredis):
    client = specredis.client()
    client.call("CLIENT", "NO-EVICT", "on")
    assert _fields(client.call("CLIENT", "INFO").rstrip(b"\n"))["flags"] == "e"
    client.call("CLIENT", "NO-EVICT", "off")
    assert _fields(client.call("CLIENT", "INFO").rstrip(b"\n"))["flags"] == "N"


def test_client_kill_by_id_and_addr(specredis):
    killer, victim = specredis.client(), specredis.client()
    victim_id = victim.call("CLIENT", "ID")
    assert killer.call("CLIENT", "KILL", "ID", victim_id) == 1
    with pytest.raises((ConnectionClosed, ConnectionResetError)):
        victim.call("PING")
    # Gone at once from CLIENT LIST.
    assert killer.call("CLIENT", "LIST", "ID", victim_id) == b""
    victim = specredis.client()
    addr = _fields(victim.call("CLIENT", "INFO").rstrip(b"\n"))["addr"]
    assert killer.call("CLIENT", "KILL", addr).text == "OK"
    with pytest.raises((ConnectionClosed, ConnectionResetError)):
        victim.call("PING")
    assert killer.call("CLIENT", "KILL", addr) == RespError("ERR No such client")


def test_client_kill_skipme(specredis):
    me = specredis.client()
    my_addr = _fields(me.call("CLIENT", "INFO").rstrip(b"\n"))["addr"]
    assert me.call("CLIENT", "KILL", "ADDR", my_addr) == 0              # SKIPME yes by default
    assert me.call("CLIENT", "KILL", "ADDR", my_addr, "SKIPME", "no") == 1   # the reply comes first
    with pytest.raises((ConnectionClosed, ConnectionResetError)):
        me.call("PING")


def test_client_kill_old_form_kills_self_after_reply(specredis):
    me = specredis.client()
    my_addr = _fields(me.call("CLIENT", "INFO").rstrip(b"\n"))["addr"]
    assert me.call("CLIENT", "KILL", my_addr).text == "OK"
    with pytest.raises((ConnectionClosed, ConnectionResetError)):
        me.call("PING")


def _raw_replies(client, payload: bytes) -> bytes:
    """The raw bytes ``payload`` gets back. A final PING marks the end (the payload must leave
    replies on), so nothing depends on how soon a loaded server answers."""
    marker = b"$20\r\n__end_of_raw_replies\r\n"
    client.send_raw(payload + b"PING __end_of_raw_replies\r\n")
    client.sock.settimeout(15)
    data = b""
    while not data.endswith(marker):
        chunk = client.sock.recv(65536)
        if not chunk:
            break
        data += chunk
    assert data.endswith(marker), data
    return data[: -len(marker)]


def test_client_reply_modes_byte_identical(pair):
    script = (b"CLIENT REPLY SKIP\r\nPING a\r\nPING b\r\nCLIENT REPLY OFF\r\nPING c\r\nNOSUCHCMD\r\n"
              b"CLIENT REPLY SKIP\r\nPING d\r\nCLIENT REPLY ON\r\nPING e\r\nCLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\n"
              b"PING f\r\n")
    ours = _raw_replies(pair.ours, script)
    ref = _raw_replies(pair.ref, script)
    assert ours == ref
    assert ours == b"$1\r\nb\r\n+OK\r\n$1\r\ne\r\n+OK\r\n$1\r\nf\r\n"


# -- CLIENT PAUSE (in process, injected clock) --------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


def test_pause_postpones_writes_until_timeout():
    clock = Clock()
    engine = Engine(clock=clock)
    admin, writer = engine.new_client(), engine.new_client()
    assert engine.execute(admin, [b"CLIENT", b"PAUSE", b"100", b"WRITE"]) == OK
    assert engine.execute(writer, [b"PING"]) is not NO_REPLY
    assert engine.execute(writer, [b"FUNCTION", b"FLUSH"]) is NO_REPLY
    assert writer.flags & CLIENT_BLOCKED and writer.blocked.reprocess
    assert b"flags=b" in engine.execute(admin, [b"CLIENT", b"LIST", b"ID", str(writer.id).encode()]).text
    clock.now += 99
    engine.scheduler.run_due()
    assert writer.flags & CLIENT_BLOCKED and writer.sink.resumed == 0
    clock.now += 1
    engine.scheduler.run_due()
    assert not writer.flags & CLIENT_BLOCKED and writer.sink.resumed == 1
    assert engine.execute(writer, [b"FUNCTION", b"FLUSH"]) == OK
    assert not engine.gated        # the gate is gone with the pause


def test_pause_keeps_latest_end_and_strictest_mode():
    clock = Clock()
    engine = Engine(clock=clock)
    admin, other = engine.new_client(), engine.new_client()
    engine.execute(admin, [b"CLIENT", b"PAUSE", b"600", b"WRITE"])
    engine.execute(admin, [b"CLIENT", b"PAUSE", b"100", b"ALL"])
    clock.now += 300
    engine.scheduler.run_due()
    assert engine.execute(other, [b"PING"]) is NO_REPLY            # ALL, until 600
    assert engine.execute(admin, [b"CLIENT", b"UNPAUSE"]) is NO_REPLY   # ALL covers UNPAUSE too
    clock.now += 300
    engine.scheduler.run_due()
    assert other.sink.resumed == 1 and admin.sink.resumed == 1


def test_unpause_releases_in_order_and_expiry_waits():
    clock = Clock()
    engine = Engine(clock=clock)
    admin, first, second = engine.new_client(), engine.new_client(), engine.new_client()
    db = engine.databases[0]
    db.add(b"gone", b"v")
    db.set_expire(b"gone", clock.now + 10)
    engine.execute(admin, [b"CLIENT", b"PAUSE", b"1000"])
    clock.now += 20
    # Expired keys read as missing during a pause but are only deleted after it.
    assert db.lookup_read(b"gone") is None and b"gone" in db.data
    engine.execute(first, [b"PING"])
    engine.execute(second, [b"PING"])
    order = []
    first.sink.resume = lambda: order.append("first")
    second.sink.resume = lambda: order.append("second")
    assert engine.execute(admin, [b"CLIENT", b"UNPAUSE"]) is NO_REPLY    # postponed as well (ALL)
    engine.extensions["client_pause"].end()
    assert order == ["first", "second"]
    assert db.lookup_read(b"gone") is None and b"gone" not in db.data


# -- CLIENT PAUSE over the network ----------------------------------------------------------


def test_pause_all_over_the_network(specredis):
    admin, other = specredis.client(), specredis.client()
    assert admin.call("CLIENT", "PAUSE", 300, "ALL").text == "OK"
    start = time.monotonic()
    # A pipeline sent during the pause is answered after it, complete and in order.
    other.send_raw(b"PING one\r\nECHO two\r\nPING three\r\n")
    assert [other.read_reply() for _ in range(3)] == [b"one", b"two", b"three"]
    assert time.monotonic() - start >= 0.25


def test_pause_write_lets_reads_through_and_unpause_releases(specredis):
    admin, other, third = specredis.client(), specredis.client(), specredis.client()
    admin.call("CLIENT", "PAUSE", 5000, "WRITE")
    start = time.monotonic()
    assert other.call("PING").text == "PONG"
    result = {}

    def write() -> None:
        result["reply"] = third.call("FUNCTION", "FLUSH")
        result["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.3)
    assert "reply" not in result
    assert other.call("CLIENT", "UNPAUSE").text == "OK"
    thread.join(5)
    assert result["reply"].text == "OK" and 0.25 <= result["elapsed"] < 3


# -- connection limits -------------------------------------------------------------------------


def test_maxclients():
    ours = start_specredis("--maxclients", "2")
    ref = start_reference("--maxclients", "2")
    try:
        for server in (ours, ref):
            keep = [server.client(), server.client()]
            assert all(c.call("PING").text == "PONG" for c in keep)
            extra = socket.create_connection(("127.0.0.1", server.port))
            extra.settimeout(5)
            assert extra.recv(100) == b"-ERR max number of clients reached\r\n"
            extra.close()
            keep[0].close()
            # A slot is free once the server has seen the close: wait for that, not 0.2 s.
            deadline = time.monotonic() + 15
            while len(keep[1].call("CLIENT", "LIST").splitlines()) > 1:
                assert time.monotonic() < deadline, server.name
                time.sleep(0.01)
            assert server.client().call("PING").text == "PONG"
    finally:
        ours.stop()
        ref.stop()


def test_idle_timeout_closes_idle_clients_only():
    ours = start_specredis("--timeout", "1", "--hz", "50")
    try:
        idle, busy = ours.client(), ours.client()
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            assert busy.call("PING").text == "PONG"
            time.sleep(0.2)
        with pytest.raises((ConnectionClosed, ConnectionResetError)):
            idle.call("PING")
        assert busy.call("PING").text == "PONG"
    finally:
        ours.stop()


def _non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))      # no packet is sent: this only picks a route
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_protected_mode_denies_remote_clients_like_redis():
    address = _non_loopback_address()
    if address is None:
        pytest.skip("no non-loopback IPv4 address to connect from")
    replies = []
    for start in (start_specredis, start_reference):
        server = start("--bind", f"127.0.0.1 {address}")
        try:
            remote = socket.create_connection((address, server.port), timeout=5)
            remote.sendall(b"PING\r\n")
            data = b""
            while not data.endswith(b"\r\n"):
                chunk = remote.recv(65536)
                if not chunk:
                    break
                data += chunk
            replies.append(data)
            remote.close()
            assert server.client().call("PING").text == "PONG"      # loopback is fine
        finally:
            server.stop()
    assert replies[0] == replies[1] and replies[0].startswith(b"-DENIED Redis is running in protected mode")


def test_pause_write_postpones_exec_of_queued_writes(specredis, reference):
    """A transaction queued before the pause is postponed at EXEC if it writes; reads are not."""
    for server in (specredis, reference):
        admin, tx, reader_tx = server.client(), server.client(), server.client()
        assert tx.call("MULTI").text == "OK"
        assert tx.call("SET", "paused-key", "v").text == "QUEUED"
        reader_tx.call("MULTI")
        reader_tx.call("GET", "paused-key")
        # A pause far longer than any load-induced delay, ended by UNPAUSE: the read-only EXEC
        # must come back well before the pause would end, the writing one only after UNPAUSE.
        admin.call("CLIENT", "PAUSE", 20000, "WRITE")
        start = time.monotonic()
        assert reader_tx.call("EXEC") is not None and time.monotonic() - start < 10, server.name
        tx.send("EXEC")
        assert select.select([tx.sock], [], [], 0.3)[0] == [], server.name     # postponed
        admin.call("CLIENT", "UNPAUSE")
        assert [r.text for r in tx.read_reply()] == ["OK"]


def test_idle_timeout_spares_blocked_and_subscribed_clients():
    ours = start_specredis("--timeout", "1", "--hz", "50")
    try:
        blocked, idle = ours.client(), ours.client()
        blocked.send("BLPOP", "never-pushed", "0")
        subscriber = ours.client()
        subscribed = not isinstance(subscriber.call("SUBSCRIBE", "news"), RespError)
        time.sleep(2.5)
        with pytest.raises((ConnectionClosed, ConnectionResetError)):
            idle.call("PING")
        pusher = ours.client()
        pusher.call("RPUSH", "never-pushed", "x")
        assert blocked.read_reply() == [b"never-pushed", b"x"]
        if subscribed:
            assert subscriber.call("PING") == [b"pong", b""]
    finally:
        ours.stop()


def _state_fields(line: bytes) -> dict[str, str]:
    fields = _fields(line.rstrip(b"\n"))
    return {name: fields[name] for name in ("flags", "multi", "cmd", "db", "name")}


def test_client_list_states_match_reference(specredis, reference):
    """flags/multi/cmd of a client in MULTI and of one blocked in BLPOP, as the reference shows them."""
    seen = []
    for server in (specredis, reference):
        observer, tx, blocked = server.client(), server.client(), server.client()
        tx.call("CLIENT", "SETNAME", "tx")
        tx.call("MULTI")
        tx.call("SET", "a", "1")
        tx.call("GET", "a")
        blocked.call("CLIENT", "SETNAME", "blocked")
        blocked.call("SELECT", "2")
        blocked.send("BLPOP", "nothing-here", "0")
        time.sleep(0.2)
        lines = observer.call("CLIENT", "LIST").splitlines()
        by_name = {_fields(line)["name"]: _state_fields(line) for line in lines}
        seen.append((by_name["tx"], by_name["blocked"]))
        observer.call("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal")
    assert seen[0] == seen[1]
    assert seen[0][0]["flags"] == "x" and seen[0][0]["multi"] == "2"
    assert seen[0][1]["flags"] == "b" and seen[0][1]["cmd"] == "blpop"
