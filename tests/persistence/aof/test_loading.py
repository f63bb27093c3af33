"""Starting on damaged or unusual AOF directories: specredis does what redis-server 7.0.15 does.

Every scene writes the same files for both servers and starts each on its own copy:
both must start or both must exit with status 1, with the same AOF log messages, the
same dataset (DEBUG DIGEST) and the same files afterwards (a torn tail is cut at the
same offset, an old single appendonly.aof moves into the directory the same way).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import free_port, require_reference
from zygote import ServerExited, alive, kill9, server_pid, start

from specredis.engine.persistence.aof import encode_command
from specredis.protocol.client import RespClient

MANIFEST = "appendonly.aof.manifest"
BASE = "appendonly.aof.1.base.aof"
INCR = "appendonly.aof.1.incr.aof"
# The log lines both servers must agree on (Redis's other lines are its own business).
_AOF_WORDS = ("AOF", "append", "manifest", ">>>", "Revert", "Unknown command", "DB loaded", "RDB", "Truncating",
              "short read", "migrated", "history")
_NOT_COMPARED = ("Memory overcommit", "Background", "Ready", "Calling fsync")
# Durations, and the age of an RDB preamble (written before both boots: a second boundary
# may fall between them).
_SECONDS = re.compile(r"\d+\.\d+ seconds|(?<=RDB age )\d+ seconds")
_STALE_ERRNO = re.compile(r"^(Unrecoverable error reading the append only file [^:]*: ).*$")


@dataclass
class Boot:
    """How a start on a directory went: ``ok``, the digest, the AOF log messages, the files."""

    ok: bool
    digest: str | None
    messages: list[str]
    files: dict[str, bytes]


def _messages(log: str) -> list[str]:
    out = []
    for line in log.splitlines():
        text = line.split(" ", 5)[5] if line.count(" ") >= 5 and ":" in line.split(" ", 1)[0] else line
        text = text[2:] if text[:2] in ("# ", "* ", "- ", ". ") else text
        if any(word in text for word in _AOF_WORDS) and not any(word in text for word in _NOT_COMPARED):
            text = _SECONDS.sub("<t> seconds", text.strip())
            # Redis prints a stale errno after this one (whatever its last failed call left).
            out.append(_STALE_ERRNO.sub(r"\1<errno>", text))
    return out


def _files(directory: str) -> dict[str, bytes]:
    out = {}
    for root, _, names in os.walk(directory):
        for name in names:
            if name.endswith((".log", ".rdb")) and root == directory:
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                data = handle.read()
            # An RDB base holds the time and memory of its writer: compare that it is one.
            out[os.path.relpath(path, directory)] = b"<an RDB file>" if data.startswith(b"REDIS") else data
    return out


def _write_tree(directory: str, tree: dict[str, bytes]) -> None:
    for name, data in tree.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)


def _digest(port: int) -> str:
    with RespClient(port=port) as client:
        return client.call("DEBUG", "DIGEST").text


_PORT_TAKEN = "Address already in use"


def boot_reference(tree: dict[str, bytes], *args: str) -> Boot:
    require_reference()
    while True:         # again on another port if another test took this one meanwhile
        directory = tempfile.mkdtemp(prefix="aof-load-ref-")
        try:
            _write_tree(directory, tree)
            port = free_port()
            log = os.path.join(directory, "server.log")
            proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
                                     "--save", "", "--appendonly", "yes", "--logfile", log,
                                     "--enable-debug-command", "yes", *args],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            digest = None
            try:
                digest = _wait_digest(port, proc)
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                proc.wait(10)
            with open(log, errors="replace") as handle:
                text = handle.read()
            if _PORT_TAKEN not in text:
                return Boot(digest is not None, digest, _messages(text), _files(directory))
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def boot_specredis(zygote, tree: dict[str, bytes], *args: str) -> Boot:
    while True:
        directory = tempfile.mkdtemp(prefix="aof-load-spec-")
        try:
            _write_tree(directory, tree)
            port = free_port()
            digest = None
            try:
                pid = start(zygote, directory, port, "--appendonly", "yes", *args)
            except ServerExited:
                pid = None
            if pid is not None:
                try:
                    digest = _digest(port)
                finally:
                    kill9(pid)
            with open(os.path.join(directory, "server.log"), errors="replace") as handle:
                text = handle.read()
            if pid is not None or "Failed listening on port" not in text:
                return Boot(digest is not None, digest, _messages(text), _files(directory))
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def _wait_digest(port: int, proc: subprocess.Popen) -> str | None:
    """The digest of the reference ``proc`` once it is ready; None if it exits first."""
    deadline = time.monotonic() + 20
    while proc.poll() is None:
        if server_pid(port) == proc.pid:
            return _digest(port)
        if time.monotonic() > deadline:
            raise TimeoutError("the reference did not start")
        time.sleep(0.01)
    return None


def assert_same_boot(zygote, tree: dict[str, bytes], *args: str) -> Boot:
    expected = boot_reference(tree, *args)
    actual = boot_specredis(zygote, tree, *args)
    assert actual.ok == expected.ok, (actual.messages, expected.messages)
    assert actual.messages == expected.messages
    assert actual.digest == expected.digest
    assert actual.files == expected.files
    return expected


def multi_part(incr: bytes, base: bytes = b"", extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    tree = {
        f"appendonlydir/{MANIFEST}": f"file {BASE} seq 1 type b\nfile {INCR} seq 1 type i\n".encode(),
        f"appendonlydir/{BASE}": base,
        f"appendonlydir/{INCR}": incr,
    }
    tree.update(extra or {})
    return tree


def cmd(*args: str | bytes) -> bytes:
    return encode_command([a if isinstance(a, bytes) else a.encode() for a in args])


WRITES = st.sampled_from([
    cmd("SET", "k", "v"), cmd("SET", "k2", "x" * 40), cmd("RPUSH", "l", "a", "b"), cmd("INCR", "n"),
    cmd("SADD", "s", "m", "1"), cmd("HSET", "h", "f", "v"), cmd("ZADD", "z", "1.5", "m"), cmd("DEL", "k"),
    cmd("SELECT", "1"), cmd("SELECT", "0"), cmd("APPEND", "k", "\r\n"), cmd("PEXPIREAT", "l", "4000000000000"),
    b"#TS:1700000000\r\n", cmd("MULTI") + cmd("INCR", "t") + cmd("LPUSH", "l", "x") + cmd("EXEC"),
])


@st.composite
def torn_aof(draw: st.DrawFn) -> tuple[bytes, int]:
    """An incr file whose last record (a command, a transaction) is cut at some byte."""
    records = draw(st.lists(WRITES, min_size=1, max_size=8))
    body = b"".join(records)
    last = records[-1]
    cut = draw(st.integers(len(body) - len(last), len(body)))
    return body, cut


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(aof=torn_aof(), truncated=st.sampled_from(["yes", "no"]))
def test_torn_tail_loads_or_fails_as_redis(zygote, aof: tuple[bytes, int], truncated: str) -> None:
    body, cut = aof
    assert_same_boot(zygote, multi_part(body[:cut]), "--aof-load-truncated", truncated)


@pytest.mark.parametrize("damage", ["star", "dollar", "length", "argc", "junk-line", "blank-line", "nul"])
def test_corruption_in_the_middle_stops_startup_as_redis(zygote, damage: str) -> None:
    good = cmd("SET", "a", "1") + cmd("SET", "b", "2")
    bad = {
        "star": b"x2\r\n$3\r\nSET\r\n$1\r\nb\r\n",
        "dollar": b"*2\r\n#3\r\nSET\r\n$1\r\nb\r\n",
        "length": b"*2\r\n$3\r\nSETX\r\n$1\r\nb\r\n",
        "argc": b"*0\r\n",
        "junk-line": b"hello\r\n",
        "blank-line": b"\r\n",
        "nul": b"*\x002\r\n",
    }[damage]
    for truncated in ("yes", "no"):
        assert_same_boot(zygote, multi_part(good + bad + good), "--aof-load-truncated", truncated)


def test_unknown_command_stops_startup_as_redis(zygote) -> None:
    assert_same_boot(zygote, multi_part(cmd("SET", "a", "1") + cmd("NOSUCHCOMMAND", "x") + cmd("SET", "b", "2")))


def test_commands_that_fail_are_skipped_as_redis(zygote) -> None:
    """Errors (WRONGTYPE, wrong arity, a bad integer) are ignored while loading, as in Redis."""
    assert_same_boot(zygote, multi_part(cmd("SET", "a", "1") + cmd("LPUSH", "a", "x") + cmd("INCR", "a", "extra")
                                        + cmd("INCRBY", "a", "notanumber") + cmd("SET", "b", "2")))


@pytest.mark.parametrize("truncated", ["yes", "no"])
def test_transaction_without_exec_is_reverted_as_redis(zygote, truncated: str) -> None:
    incr = cmd("SET", "a", "1") + cmd("MULTI") + cmd("SET", "b", "2") + cmd("INCR", "n")
    assert_same_boot(zygote, multi_part(incr), "--aof-load-truncated", truncated)


def test_torn_file_that_is_not_the_last_stops_startup_as_redis(zygote) -> None:
    tree = {
        f"appendonlydir/{MANIFEST}": (f"file {BASE} seq 1 type b\nfile {INCR} seq 1 type i\n"
                                      "file appendonly.aof.2.incr.aof seq 2 type i\n").encode(),
        f"appendonlydir/{BASE}": cmd("SET", "a", "1") + cmd("SET", "b", "2")[:-3],
        f"appendonlydir/{INCR}": cmd("SET", "c", "3"),
        "appendonlydir/appendonly.aof.2.incr.aof": cmd("SET", "d", "4"),
    }
    assert_same_boot(zygote, tree)


@pytest.mark.parametrize("manifest", [
    b"file a seq 1 type x\n", b"file a seq 1\n", b"", b"file a/b seq 1 type b\n",
    b"file a seq 1 type b\nfile c seq 2 type b\n", b"file a seq 2 type i\nfile b seq 1 type i\n",
    b"file a seq 1 type b", b"file nosuchfile seq 1 type i\n", b"# comment only\n", b"file a seq 1 type h\n",
])
def test_manifest_problems_at_startup_as_redis(zygote, manifest: bytes) -> None:
    assert_same_boot(zygote, {f"appendonlydir/{MANIFEST}": manifest, "appendonlydir/a": cmd("SET", "a", "1")})


@pytest.mark.parametrize("manifest", [b"file a seq 1 type x\n", b"file a seq 1 type h\nfile b seq 2 type b\n"])
def test_manifest_is_read_at_startup_even_without_aof_as_redis(zygote, manifest: bytes) -> None:
    """appendonly no: a broken manifest still stops the server, history files still go."""
    assert_same_boot(zygote, {f"appendonlydir/{MANIFEST}": manifest, "appendonlydir/a": b"", "appendonlydir/b": b""},
                     "--appendonly", "no")


def test_empty_files_as_redis(zygote) -> None:
    assert_same_boot(zygote, multi_part(b""))
    assert_same_boot(zygote, multi_part(b"", base=cmd("SET", "a", "1")))
    assert_same_boot(zygote, multi_part(cmd("SET", "a", "1")))


def test_history_files_are_removed_at_startup_as_redis(zygote) -> None:
    tree = multi_part(cmd("SET", "b", "2"), base=cmd("SET", "a", "1"))
    tree[f"appendonlydir/{MANIFEST}"] = (f"file {BASE} seq 1 type b\nfile old.aof seq 9 type h\n"
                                         f"file {INCR} seq 1 type i\n").encode()
    tree["appendonlydir/old.aof"] = cmd("SET", "old", "x")
    boot = assert_same_boot(zygote, tree)
    assert "appendonlydir/old.aof" not in boot.files


@pytest.mark.parametrize("preamble", [False, True])
def test_old_style_appendonly_aof_is_migrated_as_redis(zygote, preamble: bool) -> None:
    """A Redis 6 ``appendonly.aof`` in dir becomes the base of a new AOF directory."""
    data = cmd("SELECT", "0") + cmd("SET", "a", "1") + cmd("RPUSH", "l", "x", "y")
    if preamble:
        data = _reference_rdb() + data
    boot = assert_same_boot(zygote, {"appendonly.aof": data})
    assert "appendonly.aof" not in boot.files
    assert boot.files[f"appendonlydir/{MANIFEST}"].startswith(b"file appendonly.aof seq 1 type b\n")


def _reference_rdb() -> bytes:
    """An RDB file written by the reference (one key), to prefix an old-style AOF with."""
    require_reference()
    from servers import start_reference

    directory = tempfile.mkdtemp(prefix="aof-rdb-")
    server = start_reference(directory=directory)
    try:
        client = server.redis()
        client.set("from-rdb", "1")
        client.save()
        with open(os.path.join(directory, "dump.rdb"), "rb") as handle:
            return handle.read()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def test_startup_with_nothing_creates_base_and_incr_as_redis(zygote) -> None:
    for preamble in ("yes", "no"):
        expected = boot_reference({}, "--aof-use-rdb-preamble", preamble)
        actual = boot_specredis(zygote, {}, "--aof-use-rdb-preamble", preamble)
        assert actual.messages == expected.messages
        assert sorted(actual.files) == sorted(expected.files)
        assert actual.files[f"appendonlydir/{MANIFEST}"] == expected.files[f"appendonlydir/{MANIFEST}"]


def test_a_killed_server_is_really_gone(zygote) -> None:
    """The helper itself: SIGKILL ends the forked server at once."""
    directory = tempfile.mkdtemp(prefix="aof-kill-")
    try:
        port = free_port()
        pid = start(zygote, directory, port, "--appendonly", "yes")
        kill9(pid)
        assert not alive(pid)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
