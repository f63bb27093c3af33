"""100,000 keys each way between specredis and redis-server 7.0.15 (the dedicated large test)."""

from __future__ import annotations

import os
import subprocess

import pytest
from rdb_dataset import digest, encodings, populate_bulk
from servers import LARGE_TEST_TIMEOUT_S, start_reference, start_specredis

# A fixed amount of work (100,000+ keys each way) that a loaded machine can stretch past
# the suite's 300 s per test; a hung server is caught by the clients' 120 s read timeout
# (servers.CLIENT_TIMEOUT_S), so this bounds only a run gone wrong.
pytestmark = pytest.mark.timeout(LARGE_TEST_TIMEOUT_S)

KEYS = 100_000


def test_a_hundred_thousand_keys_each_way() -> None:
    ours = start_specredis("--save", "", "--enable-debug-command", "yes")
    reference = start_reference("--enable-debug-command", "yes")
    try:
        populate_bulk(ours.redis(), KEYS)
        populate_bulk(reference.redis(), KEYS)
        expected = digest(reference.redis())
        assert digest(ours.redis()) == expected
        assert ours.redis().save() and reference.redis().save()
    finally:
        ours.stop()
        reference.stop()
    ours_file = os.path.join(ours.dir, "dump.rdb")
    check = subprocess.run(["redis-check-rdb", ours_file], capture_output=True, text=True)
    assert check.returncode == 0 and f"[info] {KEYS} keys read" in check.stdout, check.stdout
    # Each server loads the other's file.
    theirs_loaded = start_reference("--dir", ours.dir, "--enable-debug-command", "yes")
    ours_loaded = start_specredis("--save", "", "--enable-debug-command", "yes", directory=reference.dir)
    try:
        for server in (theirs_loaded, ours_loaded):
            client = server.redis()
            assert client.dbsize() == KEYS
            assert digest(client) == expected
        sample_theirs = encodings(theirs_loaded.redis(), dbs=(0,), limit=3000)
        sample_ours = encodings(ours_loaded.redis(), dbs=(0,), limit=3000)
        assert sample_theirs == sample_ours
        assert ours_loaded.redis().info("persistence")["rdb_last_load_keys_loaded"] == KEYS
    finally:
        theirs_loaded.stop()
        ours_loaded.stop()
