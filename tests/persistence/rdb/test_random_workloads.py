"""Random write workloads (every type, encodings converting, stream tombstones and groups) run
on both servers; each server's RDB is then loaded by the other: equal DEBUG DIGEST, OBJECT
ENCODING and consumer-group state."""

from __future__ import annotations

import pytest
from rdb_dataset import digest, encodings, random_commands, run_commands
from servers import start_reference, start_specredis


def _groups(client) -> list:
    out = []
    for key in sorted(client.keys("x*")):
        for group in client.xinfo_groups(key):
            out.append((key, group["name"], group["pending"], group["last-delivered-id"], group["entries-read"],
                        group["lag"], group["consumers"]))
        stream = client.xinfo_stream(key)
        out.append((key, stream["length"], stream["entries-added"], stream["max-deleted-entry-id"],
                    stream["recorded-first-entry-id"], stream["last-generated-id"]))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_workload_files_cross_both_ways(seed: int) -> None:
    commands = random_commands(seed)
    ours = start_specredis("--enable-debug-command", "yes")
    reference = start_reference("--enable-debug-command", "yes")
    try:
        for server in (ours, reference):
            run_commands(server.redis(), commands)
        expected = digest(reference.redis())
        assert digest(ours.redis()) == expected
        groups = _groups(reference.redis())
        assert ours.redis().save() and reference.redis().save()
    finally:
        ours.stop()
        reference.stop()
    loaded = [start_reference("--dir", ours.dir, "--enable-debug-command", "yes"),
              start_specredis("--enable-debug-command", "yes", directory=ours.dir),
              start_specredis("--enable-debug-command", "yes", directory=reference.dir),
              start_reference("--dir", reference.dir, "--enable-debug-command", "yes")]
    try:
        for server in loaded:
            assert digest(server.redis()) == expected, server.name
            assert _groups(server.redis()) == groups, server.name
        assert encodings(loaded[0].redis(), dbs=(0,)) == encodings(loaded[1].redis(), dbs=(0,))
        assert encodings(loaded[2].redis(), dbs=(0,)) == encodings(loaded[3].redis(), dbs=(0,))
    finally:
        for server in loaded:
            server.stop()
