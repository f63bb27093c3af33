"""specredis-check-rdb reports what redis-check-rdb reports: the same AUX/SELECT lines at the
same offsets, the same verdict, the offset of the first corruption and the same counts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

import pytest
from rdb_dataset import populate
from servers import start_reference, start_specredis
from test_old_formats import old_file


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    out = {}
    ours = start_specredis("--save", "", "--enable-debug-command", "yes")
    reference = start_reference("--enable-debug-command", "yes")
    try:
        for name, server in (("ours", ours), ("reference", reference)):
            client = server.redis()
            populate(client, seed=31)
            client.set("gone-soon", "x", px=1)
            assert client.save()
            with open(os.path.join(server.dir, "dump.rdb"), "rb") as handle:
                out[name] = handle.read()
    finally:
        ours.stop()
        reference.stop()
    out["old-format"] = old_file()
    good = out["reference"]
    out["truncated"] = good[:len(good) // 2]
    out["truncated-in-header"] = good[:30]
    flipped = bytearray(good)
    flipped[len(good) // 3] ^= 0x04
    out["bit-flip"] = bytes(flipped)
    out["no-checksum"] = good[:-8] + bytes(8)
    out["bad-magic"] = b"RADIS" + good[5:]
    out["future-version"] = b"REDIS0011" + good[9:]
    out["empty"] = b""
    return out


def _normalized(output: str) -> list[str]:
    lines = []
    for line in output.splitlines():
        if not line.startswith(("[", "---")):
            continue                # redis-check-rdb's own log lines
        # Messages about the corruption itself are worded per implementation: keep the offset.
        line = re.sub(r"^(\[offset \d+\]) (?!AUX FIELD|Selecting DB|Checking RDB|Checksum OK|\\o/|RDB file was).*",
                      r"\1 <error>", line)
        line = re.sub(r"^\[additional info\] Reading type (\d+) .*", r"[additional info] Reading type \1", line)
        lines.append(line)
    return lines


@pytest.mark.parametrize("name", ["ours", "reference", "old-format", "truncated", "truncated-in-header", "bit-flip",
                                  "no-checksum", "bad-magic", "future-version", "empty"])
def test_reports_match_redis_check_rdb(files: dict[str, bytes], name: str) -> None:
    path = os.path.join(tempfile.mkdtemp(prefix="check-"), "dump.rdb")
    with open(path, "wb") as handle:
        handle.write(files[name])
    theirs = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True)
    ours = subprocess.run([sys.executable, "-m", "specredis.tools.check_rdb", path], capture_output=True, text=True)
    assert (ours.returncode == 0) == (theirs.returncode == 0), ours.stdout + theirs.stdout
    if name == "empty":
        return              # redis-check-rdb reports an empty file oddly (offset of a failed read)
    assert _normalized(ours.stdout) == _normalized(theirs.stdout), ours.stdout + "\n---\n" + theirs.stdout


def test_console_script_and_usage() -> None:
    result = subprocess.run([sys.executable, "-m", "specredis.tools.check_rdb"], capture_output=True, text=True)
    assert result.returncode == 1 and "Usage" in result.stderr
    missing = subprocess.run([sys.executable, "-m", "specredis.tools.check_rdb", "/nonexistent/dump.rdb"],
                             capture_output=True, text=True)
    assert missing.returncode == 1


def test_progress_bar_on_request(files: dict[str, bytes]) -> None:
    from io import StringIO

    from specredis.tools import check_rdb

    path = os.path.join(tempfile.mkdtemp(prefix="check-"), "dump.rdb")
    with open(path, "wb") as handle:
        handle.write(files["ours"])
    out = StringIO()
    assert check_rdb.check_file(path, out=out, progress=True)
    assert "RDB looks OK" in out.getvalue()


def _report_lines(output: str) -> list[str]:
    """A report's lines, log prefixes removed and the file name left out."""
    lines = []
    for line in output.splitlines():
        line = re.sub(r"^\d+:[CM] \d+ \w+ \d+ [\d:.]+ [#*.-] ", "", line)
        if not line.startswith("[offset 0] Checking RDB file"):
            lines.append(line)
    return lines


@pytest.mark.parametrize("seed", [1, 2])
def test_corrupted_files_are_reported_word_for_word_as_redis_check_rdb(seed: int) -> None:
    """Random bit flips and truncations of a file of every type: the same report as
    redis-check-rdb, line for line -- the error text (``Internal error in RDB reading ...
    rdb.c:<line> -> ...`` for what rdb.c finds inside a value), its offset, what was being read,
    the counts and the last words."""
    import io
    import random

    from rdb_dataset import random_commands, run_commands

    from specredis.tools import check_rdb

    reference = start_reference("--enable-debug-command", "yes")
    try:
        client = reference.redis()
        populate(client, seed=40 + seed)
        client.execute_command("SELECT", 3)       # streams with groups, PELs and consumers
        run_commands(client, random_commands(seed, 2000))
        client.execute_command("SELECT", 0)
        assert client.save()
        with open(os.path.join(reference.dir, "dump.rdb"), "rb") as handle:
            good = handle.read()
    finally:
        reference.stop()
    rng = random.Random(seed)
    path = os.path.join(tempfile.mkdtemp(prefix="check-"), "dump.rdb")
    errors = set()
    for trial in range(100):
        data = bytearray(good)
        if trial % 3 == 0:
            data = data[:rng.randrange(10, len(data))]
        else:
            position = rng.randrange(9, len(data) - 8)
            data[position] ^= 1 << rng.randrange(8)
        with open(path, "wb") as handle:
            handle.write(data)
        theirs = subprocess.run(["redis-check-rdb", path], capture_output=True, timeout=60)
        out = io.StringIO()
        ok = check_rdb.check_data(bytes(data), path, out)
        expected = _report_lines(theirs.stdout.decode("utf-8", "backslashreplace"))
        assert (theirs.returncode == 0) == ok, (trial, expected)
        assert _report_lines(out.getvalue()) == expected, (trial, out.getvalue())
        errors.update(line.split("] ", 1)[1].split(" -> ")[-1] for line in expected
                      if line.startswith("[offset") and "Internal error" in line)
    assert len(errors) >= 4, errors
