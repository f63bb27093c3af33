"""Helpers for the AOF tests: reading AOF directories, running both check tools."""

from __future__ import annotations

import io
import os
import re
import subprocess
import time

from specredis.tools import check_aof

_LOG_PREFIX = re.compile(rb"^\d+:[CM] \d+ \w+ \d+ [\d:.]+ ", re.MULTILINE)


def parse_aof(data: bytes) -> list[list[bytes]]:
    """The commands of a well-formed AOF (annotations as one-element lists ``[b'#...']``)."""
    out: list[list[bytes]] = []
    pos = 0
    while pos < len(data):
        if data[pos:pos + 1] == b"#":
            end = data.index(b"\n", pos)
            out.append([data[pos:end].rstrip(b"\r")])
            pos = end + 1
            continue
        end = data.index(b"\r\n", pos)
        count = int(data[pos + 1:end])
        pos = end + 2
        argv = []
        for _ in range(count):
            end = data.index(b"\r\n", pos)
            length = int(data[pos + 1:end])
            pos = end + 2
            argv.append(data[pos:pos + length])
            pos += length + 2
        out.append(argv)
    return out


def manifest_files(directory: str, prefix: str = "appendonly.aof") -> list[tuple[str, str, str]]:
    """(file name, seq, type) of each line of the manifest in ``directory/appendonlydir``."""
    with open(os.path.join(directory, "appendonlydir", prefix + ".manifest")) as handle:
        rows = []
        for line in handle:
            words = line.split()
            rows.append((words[1], words[3], words[5]))
        return rows


def incr_data(directory: str) -> bytes:
    """The incr files of an AOF directory, concatenated in manifest order."""
    data = b""
    for name, _, kind in manifest_files(directory):
        if kind == "i":
            with open(os.path.join(directory, "appendonlydir", name), "rb") as handle:
                data += handle.read()
    return data


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def rewrite_done(client) -> bool:
    info = client.info("persistence")
    return info["aof_rewrite_in_progress"] == 0 and info["aof_rewrite_scheduled"] == 0


def without_log_prefix(text: bytes) -> bytes:
    """Log lines without their ``pid:role date time`` prefix."""
    return _LOG_PREFIX.sub(b"", text)


def run_redis_check_aof(args: list[str], answer: bytes = b"") -> tuple[bytes, int]:
    """redis-check-aof's stdout (log prefixes removed) and exit status."""
    done = subprocess.run(["redis-check-aof", *args], input=answer, capture_output=True, timeout=60)
    return without_log_prefix(done.stdout), done.returncode


def run_specredis_check_aof(args: list[str], answer: str = "") -> tuple[bytes, int]:
    """specredis-check-aof's stdout (log prefixes removed) and exit status, run in-process."""
    out = io.StringIO()
    status = check_aof.run(args, out=out, stdin=io.StringIO(answer))
    return without_log_prefix(out.getvalue().encode("utf-8", "surrogateescape")), status
