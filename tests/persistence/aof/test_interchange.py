"""AOF directories written by redis-server 7.0.15 load in specredis, and the other way round.

Each scene fills one server with the RDB tests' dataset (every type and encoding, streams
with consumer groups and pending entries, several databases, TTLs) plus writes that only
an AOF carries the way it does (MULTI/EXEC, scripts, SPOP, INCRBYFLOAT, blocking pops
served at once, FUNCTION LOAD...), with a rewrite in the middle so that the directory
holds a base and an incr file, shuts it down, and starts the other server on a copy of
its AOF directory: DEBUG DIGEST, the consumer groups and the functions must be equal.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest
from aof_helpers import aof_writes, manifest_files, rewrite_done, stream_groups, wait_until
from rdb_dataset import digest, populate
from servers import start_reference, start_specredis

STARTERS = {"specredis": start_specredis, "reference": start_reference}


def build_aof(start, preamble: str, timestamps: str) -> tuple[str, bytes, list, list]:
    """Write a dataset with ``start``; returns (its dir, digest, stream groups, functions)."""
    directory = tempfile.mkdtemp(prefix="aof-interchange-")
    server = start("--appendonly", "yes", "--aof-use-rdb-preamble", preamble, "--aof-timestamp-enabled", timestamps,
                   "--enable-debug-command", "yes", directory=directory)
    try:
        client = server.redis()
        populate(client, seed=7)
        client.bgrewriteaof()
        wait_until(lambda: rewrite_done(client))
        aof_writes(client)
        # After the rewrite: overwrites, deletions and changes of the base's keys.
        client.set("db0:int:0", "changed")
        client.delete("db0:list:long", "db0:set:int16")
        client.rpush("db0:list:small", "more")
        client.zincrby("db0:zset:big", 5, "member-1")
        client.hdel("db0:hash:many", "field-1")
        client.execute_command("XADD", "db0:stream:main", "*", "late", "entry")
        client.persist("db0:ttl")
        expected = digest(client), stream_groups(client), client.execute_command("FUNCTION", "LIST", "WITHCODE")
    finally:
        server.stop()
    kinds = sorted(kind for _, _, kind in manifest_files(directory))
    assert kinds == ["b", "i"]
    return (directory, *expected)


def load_copy(start, source: str) -> tuple[bytes, list, list]:
    """Start a server on a copy of the AOF directory of ``source``: (digest, groups, functions)."""
    target = tempfile.mkdtemp(prefix="aof-interchange-")
    try:
        shutil.copytree(os.path.join(source, "appendonlydir"), os.path.join(target, "appendonlydir"))
        server = start("--appendonly", "yes", "--enable-debug-command", "yes", directory=target)
        try:
            client = server.redis()
            wait_until(lambda: client.info("persistence")["loading"] == 0)
            assert client.info("persistence")["aof_enabled"] == 1
            return digest(client), stream_groups(client), client.execute_command("FUNCTION", "LIST", "WITHCODE")
        finally:
            server.stop()
    finally:
        shutil.rmtree(target, ignore_errors=True)


@pytest.mark.parametrize("timestamps", ["no", "yes"])
@pytest.mark.parametrize("preamble", ["yes", "no"])
@pytest.mark.parametrize("writer,reader", [("reference", "specredis"), ("specredis", "reference")])
def test_aof_directory_loads_in_the_other_server(writer: str, reader: str, preamble: str, timestamps: str) -> None:
    source, live_digest, _, live_functions = build_aof(STARTERS[writer], preamble, timestamps)
    try:
        loaded = load_copy(STARTERS[reader], source)
        # The data as it was; consumer groups as the writer itself reads them back (an AOF
        # does not carry every group counter: Redis reloads entries-read as unknown too).
        assert loaded[0] == live_digest
        assert loaded[2] == live_functions
        assert loaded[1] == load_copy(STARTERS[writer], source)[1]
    finally:
        shutil.rmtree(source, ignore_errors=True)


def test_rewritten_base_has_the_same_commands_as_the_reference() -> None:
    """A RESP base written by BGREWRITEAOF holds the same commands as the reference's (keys in
    any order): RPUSH/SADD/ZADD/HMSET batches of 64, PEXPIREAT, streams with XSETID, groups,
    XCLAIMs and CREATECONSUMER, FUNCTION LOAD."""
    bases = {}
    for name, start in STARTERS.items():
        directory = tempfile.mkdtemp(prefix="aof-base-")
        server = start("--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--enable-debug-command", "yes",
                       directory=directory)
        try:
            client = server.redis()
            populate(client, seed=3)
            aof_writes(client)
            client.bgrewriteaof()
            wait_until(lambda c=client: rewrite_done(c))
            base = next(n for n, _, kind in manifest_files(directory) if kind == "b")
            with open(os.path.join(directory, "appendonlydir", base), "rb") as handle:
                bases[name] = handle.read()
        finally:
            server.stop()
            shutil.rmtree(directory, ignore_errors=True)
    from aof_helpers import parse_aof

    def by_key(data: bytes) -> dict:
        commands: dict = {}
        db = None
        for argv in parse_aof(data):
            if argv[0] == b"SELECT":
                db = argv[1]
                continue
            key = argv[2] if argv[0] in (b"XGROUP", b"FUNCTION") else argv[1]
            if key == b"t:set":
                continue        # SPOP chose other members on each server
            if argv[0] == b"XCLAIM":
                argv[argv.index(b"TIME") + 1] = b"<delivery time>"
            if argv[0] == b"PEXPIREAT" and abs(int(argv[2]) - time.time() * 1000) < 10_000_000:
                argv[2] = b"<computed from a relative TTL>"
            commands.setdefault((db, key), []).append(argv)
        for key, entries in commands.items():
            # Hash tables iterate in another order in Redis: compare what the batches add up
            # to, not how the elements were split between them.
            if entries[0][0] == b"SADD":
                commands[key] = sorted(member for entry in entries for member in entry[2:])
            elif entries[0][0] in (b"HMSET", b"ZADD"):
                commands[key] = sorted(pair for entry in entries for pair in zip(entry[2::2], entry[3::2], strict=True))
        return commands

    assert by_key(bases["specredis"]) == by_key(bases["reference"])
