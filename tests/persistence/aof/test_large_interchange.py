"""AOF directories of more than 100,000 keys move between specredis and redis-server 7.0.15.

For each writer (ours, the reference) and each base format (``aof-use-rdb-preamble yes``:
an RDB base; ``no``: a RESP base), the writer gets the RDB tests' dataset of every type and
encoding and 60,000 small keys of every type, BGREWRITEAOF puts them in the base file, and
then 50,000 more keys in another database plus the writes an AOF records in a form of its
own (MULTI/EXEC, scripts, SPOP, blocking pops, FUNCTION LOAD...) and changes to keys of the
base go to the incr file. The other server starts on a copy of the directory: DEBUG DIGEST
and the key count must equal the writer's, and so must the consumer groups as the writer
itself reads them back (an AOF does not carry every group counter). ``redis-check-aof``
must accept the manifest and files we write.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest
from aof_helpers import aof_writes, manifest_files, rewrite_done, stream_groups, wait_until
from rdb_dataset import digest, populate, populate_bulk
from servers import LARGE_TEST_TIMEOUT_S, start_reference, start_specredis

# A fixed amount of work (100,000+ keys each way) that a loaded machine can stretch past
# the suite's 300 s per test; a hung server is caught by the clients' 120 s read timeout
# (servers.CLIENT_TIMEOUT_S), so this bounds only a run gone wrong.
pytestmark = pytest.mark.timeout(LARGE_TEST_TIMEOUT_S)

STARTERS = {"specredis": start_specredis, "reference": start_reference}
BASE_KEYS = 60_000
INCR_KEYS = 50_000


def _key_count(client) -> int:
    return sum(info.get("keys", 0) for info in client.info("keyspace").values())


def _write(start, preamble: str) -> tuple[str, bytes, int, list]:
    """A directory written by ``start``: (its path, digest, key count, stream groups)."""
    directory = tempfile.mkdtemp(prefix="aof-large-")
    server = start("--appendonly", "yes", "--aof-use-rdb-preamble", preamble, "--enable-debug-command", "yes",
                   directory=directory)
    try:
        client = server.redis()
        populate(client, seed=17)
        populate_bulk(client, BASE_KEYS, seed=18)
        client.bgrewriteaof()
        wait_until(lambda: rewrite_done(client), timeout=120)
        client.execute_command("SELECT", 2)
        populate_bulk(client, INCR_KEYS, seed=19)
        client.execute_command("SELECT", 0)
        aof_writes(client)
        client.set("bulk:0", "changed after the rewrite")
        client.delete("bulk:1", "db0:list:long", "db0:set:int16")
        client.rpush("bulk:6", "more")
        client.hdel("db0:hash:many", "field-1")
        client.execute_command("XADD", "db0:stream:main", "*", "late", "entry")
        client.execute_command("XDEL", "db0:stream:main", "1010-1")
        client.persist("db0:ttl")
        expected = digest(client), _key_count(client), stream_groups(client)
    finally:
        server.stop()
    kinds = [kind for _, _, kind in manifest_files(directory)]
    assert kinds == ["b", "i"]
    base = next(name for name, _, kind in manifest_files(directory) if kind == "b")
    assert base.endswith(".rdb" if preamble == "yes" else ".aof")
    return (directory, *expected)


def _load(start, source: str) -> tuple[bytes, int, list]:
    """Start a server on a copy of the AOF directory of ``source``: (digest, key count, groups)."""
    target = tempfile.mkdtemp(prefix="aof-large-")
    try:
        shutil.copytree(os.path.join(source, "appendonlydir"), os.path.join(target, "appendonlydir"))
        server = start("--appendonly", "yes", "--enable-debug-command", "yes", directory=target)
        try:
            client = server.redis()
            wait_until(lambda: client.info("persistence")["loading"] == 0, timeout=120)
            return digest(client), _key_count(client), stream_groups(client)
        finally:
            server.stop()
    finally:
        shutil.rmtree(target, ignore_errors=True)


@pytest.mark.parametrize("preamble", ["yes", "no"])
@pytest.mark.parametrize("writer,reader", [("reference", "specredis"), ("specredis", "reference")])
def test_a_large_aof_directory_loads_in_the_other_server(writer: str, reader: str, preamble: str) -> None:
    source, live_digest, live_keys, _ = _write(STARTERS[writer], preamble)
    try:
        assert live_keys > BASE_KEYS + INCR_KEYS
        if writer == "specredis":
            manifest = os.path.join(source, "appendonlydir", "appendonly.aof.manifest")
            check = subprocess.run(["redis-check-aof", manifest], capture_output=True, text=True, timeout=120)
            assert check.returncode == 0, check.stdout[-2000:]
            assert "All AOF files and manifest are valid" in check.stdout
        loaded_digest, loaded_keys, loaded_groups = _load(STARTERS[reader], source)
        assert (loaded_digest, loaded_keys) == (live_digest, live_keys)
        assert loaded_groups == _load(STARTERS[writer], source)[2]
    finally:
        shutil.rmtree(source, ignore_errors=True)
