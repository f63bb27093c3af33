"""specredis-check-aof against redis-check-aof 7.0.15: the same files, the same output.

Hypothesis builds AOFs (commands with binary arguments, MULTI/EXEC blocks, ``#TS:``
annotations), as single old-style files or as multi-part directories with a manifest,
damages them (a torn tail, a changed byte, junk inserted), and runs both tools on the
same path -- plain check, ``--fix`` answered yes or no, ``--truncate-to-timestamp`` --
comparing what they print, their exit status and what the files hold afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import pytest
from aof_helpers import run_redis_check_aof, run_specredis_check_aof
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import require_reference

from specredis.engine.persistence.aof import encode_command

pytestmark = pytest.mark.skipif(shutil.which("redis-check-aof") is None and not os.environ.get("CI"),
                                reason="redis-check-aof (the reference tool) is not installed")

ARG = st.one_of(
    st.sampled_from([b"SET", b"set", b"k", b"v", b"", b"MULTI", b"EXEC", b"exec", b"\r\n", b"a\r\nb", b"*1", b"$3",
                     b"#TS:1", b"x" * 300]),
    st.binary(max_size=8),
)
COMMAND = st.lists(ARG, min_size=1, max_size=4)


@st.composite
def records(draw: st.DrawFn) -> list[bytes]:
    """Serialized records: commands, MULTI/EXEC blocks and annotations, in order."""
    out: list[bytes] = []
    timestamp = draw(st.integers(1_600_000_000, 1_700_000_000))
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["command", "command", "multi", "ts", "note"]))
        if kind == "command":
            out.append(encode_command(draw(COMMAND)))
        elif kind == "multi":
            block = [encode_command([b"MULTI"])]
            block += [encode_command(draw(COMMAND)) for _ in range(draw(st.integers(0, 3)))]
            if draw(st.integers(0, 3)):
                block.append(encode_command([draw(st.sampled_from([b"EXEC", b"exec"]))]))
            out.append(b"".join(block))
        elif kind == "ts":
            timestamp += draw(st.integers(0, 3))
            out.append(b"#TS:%d\r\n" % timestamp)
        else:
            out.append(b"#" + draw(st.binary(max_size=5)).replace(b"\n", b"") + b"\r\n")
    return out


@st.composite
def damage(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` as it is, torn, with a changed byte, or with junk inserted."""
    if not data:
        return data
    kind = draw(st.sampled_from(["none", "torn", "byte", "junk", "append"]))
    position = draw(st.integers(0, len(data) - 1))
    if kind == "torn":
        return data[:position]
    if kind == "byte":
        return data[:position] + bytes([draw(st.integers(0, 255))]) + data[position + 1:]
    if kind == "junk":
        return data[:position] + draw(st.binary(min_size=1, max_size=4)) + data[position:]
    if kind == "append":
        return data + draw(st.sampled_from([b"*", b"*2\r\n$3\r\nGET", b"x", b"#TS:", b"\r\n"]))
    return data


MODES = st.sampled_from(["check", "fix-yes", "fix-no", "timestamp"])


def _mode_args(mode: str, timestamp: int) -> tuple[list[str], bytes]:
    if mode == "fix-yes":
        return ["--fix"], b"y\n"
    if mode == "fix-no":
        return ["--fix"], b"n\n"
    if mode == "timestamp":
        return ["--truncate-to-timestamp", str(timestamp)], b""
    return [], b""


def _snapshot(directory: str) -> dict[str, bytes]:
    out = {}
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as handle:
            out[name] = handle.read()
    return out


def _restore(directory: str, files: dict[str, bytes]) -> None:
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))
    for name, data in files.items():
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(data)


# redis-check-aof reads past the end of a line that ends right after its number (a torn
# "$12" at the end of the file): the second byte it prints is whatever its stack held.
_UNDEFINED_BYTE = re.compile(r"(Expected \\r\\n, got: 00)[0-9a-f]{2}$")


def _lines(output: bytes) -> list[str]:
    return [_UNDEFINED_BYTE.sub(r"\1??", line) for line in output.decode("utf-8", "replace").splitlines()]


def compare_tools(files: dict[str, bytes], target: str, extra: list[str], answer: bytes) -> None:
    """Run both tools on ``target`` in a directory holding ``files``; same output, status, files."""
    directory = tempfile.mkdtemp(prefix="check-aof-")
    try:
        path = os.path.join(directory, target)
        _restore(directory, files)
        expected = run_redis_check_aof([*extra, path], answer)
        expected_files = _snapshot(directory)
        _restore(directory, files)
        actual = run_specredis_check_aof([*extra, path], answer.decode())
        assert _lines(actual[0]) == _lines(expected[0])
        assert actual[1] == expected[1]
        assert _snapshot(directory) == expected_files
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), parts=records(), mode=MODES, ts_offset=st.integers(-1, 4))
def test_old_style_file_checked_as_redis_check_aof_does(data: st.DataObject, parts: list[bytes], mode: str,
                                                         ts_offset: int) -> None:
    require_reference()
    content = data.draw(damage(b"".join(parts)))
    args, answer = _mode_args(mode, 1_600_000_000 + ts_offset if mode == "timestamp" else 0)
    compare_tools({"appendonly.aof": content}, "appendonly.aof", args, answer)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), base=records(), incrs=st.lists(records(), min_size=0, max_size=2), mode=MODES,
       damaged=st.integers(0, 2), history=st.booleans())
def test_multi_part_aof_checked_as_redis_check_aof_does(data: st.DataObject, base: list[bytes],
                                                         incrs: list[list[bytes]], mode: str, damaged: int,
                                                         history: bool) -> None:
    require_reference()
    files = {"appendonly.aof.1.base.aof": b"".join(base)}
    lines = ["file appendonly.aof.1.base.aof seq 1 type b\n"]
    if history:
        lines.append("file appendonly.aof.0.incr.aof seq 7 type h\n")
    for number, parts in enumerate(incrs, start=1):
        name = f"appendonly.aof.{number}.incr.aof"
        files[name] = b"".join(parts)
        lines.append(f"file {name} seq {number} type i\n")
    names = [name for name in files]
    target = names[min(damaged, len(names) - 1)]
    files[target] = data.draw(damage(files[target]))
    files["appendonly.aof.manifest"] = "".join(lines).encode()
    args, answer = _mode_args(mode, 1_600_000_001)
    compare_tools(files, "appendonly.aof.manifest", args, answer)


MANIFESTS = [
    b"",
    b"\n",
    b"# only a comment\n",
    b"file a seq 1 type x\n",
    b"file a seq 1\n",
    b"file a/b seq 1 type b\n",
    b"file a seq 1 type b\nfile c seq 2 type b\n",
    b"file a seq 2 type i\nfile b seq 1 type i\n",
    b"file a seq 3 type i\nfile b seq 3 type i\n",
    b"file a seq 1 type b",
    b"file a seq 0 type b\n",
    b"file a seq 1 type b x\n",
    b"file \"unterminated seq 1 type b\n",
    b"FILE a SEQ 1 TYPE b\n",
    b"file a seq 1 type b x y\n",
    b"file a seq 1 type h\n",
    b"file a seq -5 type i\n",
    b"file a seq 1x type i\n",
    b"file a seq 1 type \"\"\n",
    b"file \"a\\x00b\" seq 1 type b\n",
    b"file " + b"a" * 1100 + b" seq 1 type b\n",
    b"# " + b"c" * 1100 + b"\nfile a seq 1 type b\n",
    b"file a seq 1 type b\r\n\r\n",
    b"   \t\n",
    b"file a seq 1 type b\nfile\n",
]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=range(len(MANIFESTS)))
def test_manifest_read_as_redis_reads_it(manifest: bytes) -> None:
    """Manifest errors (the same reader as the server's): message, line, exit status."""
    require_reference()
    files = {"appendonly.aof.manifest": manifest, "a": b"*1\r\n$4\r\nPING\r\n", "b": b"", "c": b""}
    compare_tools(files, "appendonly.aof.manifest", [], b"")


@pytest.mark.parametrize("args", [[], ["--fix"], ["--truncate-to-timestamp"], ["--truncate-to-timestamp", "12x", "f"],
                                  ["--truncate-to-timestamp", "", "f"], ["--bogus", "f"], ["f", "g", "h", "i"],
                                  ["nosuchfile"], ["--fix", "nosuchfile"]])
def test_command_line_as_redis_check_aof(args: list[str]) -> None:
    require_reference()
    directory = tempfile.mkdtemp(prefix="check-aof-args-")
    try:
        cwd = os.getcwd()
        os.chdir(directory)
        try:
            expected = run_redis_check_aof(args)
            actual = run_specredis_check_aof(args)
        finally:
            os.chdir(cwd)
        assert actual[1] == expected[1]
        assert actual[0].replace(b"Usage: redis-check-aof", b"Usage: X") == \
            expected[0].replace(b"Usage: redis-check-aof", b"Usage: X")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_rdb_preamble_file_checked_with_its_tail(tmp_path) -> None:
    """An old-style file with an RDB preamble (written by redis-server) and commands after it."""
    require_reference()
    from servers import start_reference

    server = start_reference("--appendonly", "yes", "--aof-use-rdb-preamble", "yes", directory=str(tmp_path))
    try:
        client = server.redis()
        client.mset({"a": "1", "b": "2"})
        client.rpush("l", *range(10))
        client.bgrewriteaof()
        directory = os.path.join(str(tmp_path), "appendonlydir")
        import time

        deadline = time.monotonic() + 10
        while not any(name.endswith(".base.rdb") and not name.startswith("appendonly.aof.1.")
                      for name in os.listdir(directory)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        base = next(name for name in sorted(os.listdir(directory)) if name.endswith(".base.rdb"))
        with open(os.path.join(directory, base), "rb") as handle:
            preamble = handle.read()
    finally:
        server.stop()
    tail = encode_command([b"SET", b"c", b"3"]) + encode_command([b"MULTI"]) + encode_command([b"INCR", b"c"])
    for content in (preamble, preamble + tail, preamble + tail[:-3]):
        for args, answer in (([], b""), (["--fix"], b"y\n")):
            compare_tools({"appendonly.aof": content}, "appendonly.aof", args, answer)
    compare_tools({"appendonly.aof.manifest": b"file base.rdb seq 1 type b\nfile i.aof seq 1 type i\n",
                   "base.rdb": preamble, "i.aof": tail}, "appendonly.aof.manifest", ["--fix"], b"y\n")


def test_progress_bar_goes_to_stderr_only(tmp_path, capsys) -> None:
    """The progress bar (shown on terminals for large files) never mixes with the report."""
    import io

    from specredis.tools.check_aof import AofChecker

    path = tmp_path / "big.aof"
    path.write_bytes(b"".join(encode_command([b"SET", b"k%d" % i, b"v" * 100]) for i in range(20000)))
    quiet, shown = io.StringIO(), io.StringIO()
    AofChecker(quiet, progress=False).check_old_style(str(path), False)
    AofChecker(shown, progress=True).check_old_style(str(path), False)
    assert shown.getvalue() == quiet.getvalue()
    assert "AOF analyzed: filename=" in shown.getvalue()
    assert "100.0%" in capsys.readouterr().err
