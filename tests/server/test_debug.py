"""DEBUG: digests, OBJECT, PROTOCOL, POPULATE, SLEEP, errors and the enable-debug-command gate."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import start_reference, start_specredis

from specredis.engine.core import Engine
from specredis.engine.debug import dataset_digest, value_digest
from specredis.protocol.client import RespError, Status

PROTOCOL_TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push",
                  "verbatim", "true", "false"]


def _read_until(sock: socket.socket, suffix: bytes) -> bytes:
    data = b""
    while not data.endswith(suffix):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("kind", PROTOCOL_TYPES)
def test_debug_protocol_is_byte_identical(specredis, reference, protocol, kind):
    outputs = []
    for server in (specredis, reference):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        if protocol == 3:
            sock.sendall(b"HELLO 3\r\nPING\r\n")
            _read_until(sock, b"+PONG\r\n")
        sock.sendall(f"DEBUG PROTOCOL {kind}\r\nPING\r\n".encode())
        outputs.append(_read_until(sock, b"+PONG\r\n"))
        sock.close()
    assert outputs[0] == outputs[1]
    assert outputs[0].endswith(b"+PONG\r\n")


SAME_REPLIES = [
    ("DEBUG",), ("DEBUG", "foo"), ("DEBUG", "object"), ("DEBUG", "object", "nokey"), ("DEBUG", "object", "a", "b"),
    ("DEBUG", "sleep"), ("DEBUG", "sleep", "abc"), ("DEBUG", "sleep", "-1"), ("DEBUG", "sleep", "0"),
    ("DEBUG", "protocol"), ("DEBUG", "protocol", "foo"), ("DEBUG", "PROTOCOL", "STRING"),
    ("DEBUG", "populate", "-1"), ("DEBUG", "populate", "abc"), ("DEBUG", "populate", "3", "p", "5", "x"),
    ("DEBUG", "populate", "3", "p", "-1"), ("DEBUG", "digest", "x"), ("DEBUG", "digest-value"),
    ("DEBUG", "digest-value", "nokey"), ("DEBUG", "set-active-expire"), ("DEBUG", "jmap"),
    ("DEBUG", "error", "foo"), ("DEBUG", "error", "XYZ some text"), ("DEBUG", "error", "a\r\nb"),
    ("DEBUG", "error", ""), ("DEBUG", "log"), ("DEBUG", "leak", "x"),
    ("DEBUG", "HELP"), ("DEBUG", "help", "x"), ("DEBUG", "set-active-expire", "1"),
]


@pytest.mark.parametrize("command", SAME_REPLIES, ids=lambda c: " ".join(c)[:40])
def test_same_reply_as_reference(pair, command):
    pair.same(*command)


def test_stringmatch_test(specredis):
    # The reference runs a fuzzer for seconds before answering this; the reply is what matters.
    reply = specredis.client().call("DEBUG", "STRINGMATCH-TEST")
    assert reply == Status("Apparently Redis did not crash: test passed")


def test_debug_error_is_not_counted_in_errorstats(specredis):
    client = specredis.client()
    assert client.call("DEBUG", "ERROR", "QWERTY oops") == RespError("QWERTY oops")
    info = client.call("INFO", "errorstats")
    if isinstance(info, RespError):
        pytest.skip("INFO not served yet")
    assert b"QWERTY" not in info


def test_populate_digest_and_object_match_reference(pair):
    for client in (pair.ours, pair.ref):
        client.call("FLUSHALL")
    commands = [("DEBUG", "POPULATE", "50"), ("DEBUG", "POPULATE", "20", "pre", "3"),
                ("DEBUG", "POPULATE", "10", "big", "60"), ("DEBUG", "POPULATE", "5", "zero", "0"),
                ("DEBUG", "POPULATE", "60")]
    for command in commands:
        pair.same(*command)
    pair.same("SELECT", "2")
    pair.same("DEBUG", "POPULATE", "7", "other")
    digest = pair.same("DEBUG", "DIGEST")
    assert digest.text != "0" * 40
    pair.same("DEBUG", "DIGEST-VALUE", "other:1", "other:6", "missing")
    pair.same("SELECT", "0")
    pair.same("DEBUG", "DIGEST-VALUE", "key:0", "pre:3", "big:9", "zero:4")
    shape = re.compile(r"Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\w+) serializedlength:(\d+) "
                       r"lru:\d+ lru_seconds_idle:\d+$")
    for key in ("key:0", "pre:3", "zero:1"):
        ours, ref = pair.call("DEBUG", "OBJECT", key)
        assert shape.match(ours.text) and shape.match(ref.text)
        assert shape.match(ours.text).groups() == shape.match(ref.text).groups()
    ours, ref = pair.call("DEBUG", "OBJECT", "big:0")
    assert shape.match(ours.text).group(1, 2) == shape.match(ref.text).group(1, 2) == ("1", "raw")


def test_empty_dataset_digest_is_zero(pair):
    for client in (pair.ours, pair.ref):
        client.call("FLUSHALL")
    assert pair.same("DEBUG", "DIGEST") == Status("0" * 40)


keys = st.binary(min_size=1, max_size=12)
values = st.one_of(st.binary(max_size=60), st.integers(-(2**63), 2**63 - 1).map(lambda n: str(n).encode()))
datasets = st.lists(st.tuples(st.integers(0, 2), keys, values, st.booleans()), max_size=15)


@pytest.fixture(scope="module")
def digest_reference():
    server = start_reference("--enable-debug-command", "yes")
    yield server.client()
    server.stop()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(datasets)
def test_digest_of_random_string_datasets(digest_reference, dataset):
    """The digest of strings with and without TTLs, computed in process, equals the reference's."""
    ref = digest_reference
    engine = Engine()
    ref.call("FLUSHALL")
    commands = []
    for dbid, key, value, with_ttl in dataset:
        db = engine.databases[dbid]
        db.set_key(key, value)
        commands.append(("SELECT", dbid))
        commands.append(("SET", key, value))
        if with_ttl:
            db.set_expire(key, engine.now_ms() + 100_000)
            commands.append(("PEXPIRE", key, 100_000))
    ref.pipeline(commands)
    assert ref.call("DEBUG", "DIGEST").text == dataset_digest(engine).hex()
    if dataset:
        dbid, key = dataset[-1][0], dataset[-1][1]
        ref.call("SELECT", dbid)
        db = engine.databases[dbid]
        assert ref.call("DEBUG", "DIGEST-VALUE", key) == [Status(value_digest(db, key, db.data[key]).hex())]


def test_debug_sleep_blocks_the_server(specredis):
    sleeper, other = specredis.client(), specredis.client()
    result = {}

    def sleep() -> None:
        result["reply"] = sleeper.call("DEBUG", "SLEEP", "0.4")

    thread = threading.Thread(target=sleep)
    thread.start()
    time.sleep(0.1)
    start = time.monotonic()
    assert other.call("PING").text == "PONG"
    assert time.monotonic() - start >= 0.2
    thread.join(5)
    assert result["reply"].text == "OK"


def test_debug_log_writes_the_server_log(specredis):
    client = specredis.client()
    assert client.call("DEBUG", "LOG", "marker-7f3a").text == "OK"
    deadline = time.monotonic() + 15          # until the line is in the file, however loaded
    while True:
        with open(f"{specredis.dir}/server.log", "rb") as handle:
            if b"# DEBUG LOG: marker-7f3a" in handle.read():
                break
        assert time.monotonic() < deadline, "DEBUG LOG's line never reached server.log"
        time.sleep(0.02)


def test_set_active_expire_flag():
    engine = Engine()
    engine.config.values["enable-debug-command"] = "yes"
    client = engine.new_client()
    assert engine.extensions["active_expire_enabled"] is True
    engine.execute(client, [b"DEBUG", b"SET-ACTIVE-EXPIRE", b"0"])
    assert engine.extensions["active_expire_enabled"] is False
    engine.execute(client, [b"DEBUG", b"SET-ACTIVE-EXPIRE", b"abc"])    # atoi: 0
    assert engine.extensions["active_expire_enabled"] is False
    engine.execute(client, [b"DEBUG", b"SET-ACTIVE-EXPIRE", b"1"])
    assert engine.extensions["active_expire_enabled"] is True


def test_debug_disabled_and_local_modes():
    ours, ref = start_specredis(), start_reference()
    try:
        a, b = ours.client(), ref.client()
        for command in (("DEBUG", "SLEEP", "0"), ("DEBUG", "HELP"), ("DEBUG", "foo")):
            got, expected = a.call(*command), b.call(*command)
            assert got == expected and got.text.startswith("ERR DEBUG command not allowed.")
    finally:
        ours.stop()
        ref.stop()
    local = start_specredis("--enable-debug-command", "local")
    try:
        assert local.client().call("DEBUG", "SLEEP", "0").text == "OK"     # loopback is local
    finally:
        local.stop()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(datasets)
def test_digest_matches_reference_over_the_network(pair, dataset):
    """The same SET/PEXPIRE commands sent to both servers give the same DEBUG DIGEST."""
    commands = [("FLUSHALL",)]
    for dbid, key, value, with_ttl in dataset:
        commands.append(("SELECT", dbid))
        commands.append(("SET", key, value))
        if with_ttl:
            commands.append(("PEXPIRE", key, 100_000))
    commands.append(("SELECT", 0))
    for client in (pair.ours, pair.ref):
        client.pipeline(commands)
    pair.same("DEBUG", "DIGEST")
    keys = [key for dbid, key, _, _ in dataset if dbid == 0][:5]
    pair.same("DEBUG", "DIGEST-VALUE", *keys, "missing")
