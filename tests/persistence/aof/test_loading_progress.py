"""While an AOF directory loads, clients get -LOADING and INFO reports the progress, as in 7.0.15.

The same directory (written by the reference: a RESP base and an incr file, or an RDB base
and an incr file) is loaded by both servers slowed down with ``key-load-delay`` (which
Redis applies per command of an AOF as well as per key of an RDB): PING gets the LOADING
error, ``loading_total_bytes`` is the size of all the AOF files together, and
``loading_loaded_bytes`` grows through them to the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest
from aof_helpers import manifest_files, rewrite_done, wait_until
from servers import start_reference, start_specredis

from specredis.protocol.client import RespError

KEYS = 6000


def _write_directory(preamble: str) -> tuple[str, int]:
    """A reference AOF directory: KEYS keys in the base, KEYS more in the incr file."""
    directory = tempfile.mkdtemp(prefix="aof-progress-")
    server = start_reference("--appendonly", "yes", "--aof-use-rdb-preamble", preamble, directory=directory)
    try:
        client = server.redis()
        for first in (0, KEYS):
            pipe = client.pipeline(transaction=False)
            for i in range(first, first + KEYS):
                pipe.set(f"key:{i}", f"value-{i}")
            pipe.execute()
            if first == 0:
                client.bgrewriteaof()
                wait_until(lambda: rewrite_done(client))
    finally:
        server.stop()
    files = [name for name, _, _ in manifest_files(directory)]
    total = sum(os.path.getsize(os.path.join(directory, "appendonlydir", name)) for name in files)
    return directory, total


def _watch_loading(start, source: str) -> tuple[object, list[tuple[int, int]], int]:
    """(PING's first reply, the (total, loaded) bytes seen while loading, keys at the end)."""
    target = tempfile.mkdtemp(prefix="aof-progress-")
    shutil.copytree(os.path.join(source, "appendonlydir"), os.path.join(target, "appendonlydir"))
    server = start("--appendonly", "yes", "--key-load-delay", "200", directory=target)
    try:
        raw = server.client()
        first = raw.call("PING")
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            fields = dict(line.split(":", 1) for line in raw.call("INFO", "persistence").decode().split("\r\n")
                          if ":" in line)
            if fields["loading"] == "0":
                break
            seen.append((int(fields["loading_total_bytes"]), int(fields["loading_loaded_bytes"])))
            time.sleep(0.02)
        return first, seen, server.redis().dbsize()
    finally:
        server.stop()
        shutil.rmtree(target, ignore_errors=True)


@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_aof_loading_reports_progress_as_redis(preamble: str) -> None:
    source, total = _write_directory(preamble)
    try:
        for start in (start_reference, start_specredis):
            first, seen, keys = _watch_loading(start, source)
            assert first == RespError("LOADING Redis is loading the dataset in memory"), start
            assert keys == 2 * KEYS
            assert len(seen) >= 3, (start, seen)
            assert {total_bytes for total_bytes, _ in seen} == {total}, (start, seen)
            loaded = [loaded_bytes for _, loaded_bytes in seen]
            assert loaded == sorted(loaded) and 0 < loaded[-1] <= total, (start, seen)
            assert len(set(loaded)) >= 2, (start, seen)
    finally:
        shutil.rmtree(source, ignore_errors=True)
