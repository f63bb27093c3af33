"""DUMP/RESTORE of more than 100,000 keys of every type and encoding, both ways with redis-server 7.0.15.

Two source servers (ours and the reference) are filled by the same commands: the RDB tests'
dataset of every encoding (``populate``: int/embstr/raw strings, quicklists, intsets of every
width, listpack and hashtable sets and hashes, listpack and skiplist sorted sets, streams
with tombstones, groups and PELs, several databases, TTLs) plus 100,000 small keys of every
type (``populate_bulk``). Every key of each source is DUMPed and RESTOREd, with its absolute
expire time (PEXPIRETIME + ABSTTL, so that DEBUG DIGEST, which covers expire times, can be
compared exactly), into an empty server of the other kind, all pipelined. Then:

* DEBUG DIGEST of each target equals its source's, and key counts match;
* OBJECT ENCODING matches for a sample of keys of every database;
* DUMP bytes (with rdbcompression off) are identical between the two sources and between
  each restored key and its source for every key except where Redis's own DUMP of the same
  dataset would differ: hashtable sets and hashes and skiplist sorted sets (their elements
  are written in hash-table order, which differs between two Redis processes too) and
  streams whose groups hold pending entries (each carries its delivery time). What such a
  key holds is covered by the digests.
"""

from __future__ import annotations

import shutil
import time

import pytest
from rdb_dataset import digest, populate, populate_bulk
from servers import LARGE_TEST_TIMEOUT_S, ServerProcess, start_reference, start_specredis

# A fixed amount of work (100,000+ keys each way) that a loaded machine can stretch past
# the suite's 300 s per test; a hung server is caught by the clients' 120 s read timeout
# (servers.CLIENT_TIMEOUT_S), so this bounds only a run gone wrong.
pytestmark = pytest.mark.timeout(LARGE_TEST_TIMEOUT_S)

BULK_KEYS = 100_000
DBS = (0, 1, 9)
BATCH = 2000
# Encodings whose serialization order is a hash table's iteration order.
UNORDERED = {b"hashtable", b"skiplist"}


def _keys(client, db: int) -> list[bytes]:
    client.execute_command("SELECT", db)
    return sorted(client.keys("*"))


def _dump_all(client, keys: list[bytes]) -> list[tuple[bytes, int]]:
    """(payload, absolute expire ms or -1) of each key, pipelined."""
    out: list[tuple[bytes, int]] = []
    for start in range(0, len(keys), BATCH):
        pipe = client.pipeline(transaction=False)
        for key in keys[start:start + BATCH]:
            pipe.dump(key)
            pipe.execute_command("PEXPIRETIME", key)
        replies = pipe.execute()
        out.extend(zip(replies[0::2], replies[1::2], strict=True))
    return out


def _restore_all(client, keys: list[bytes], dumped: list[tuple[bytes, int]]) -> None:
    for start in range(0, len(keys), BATCH):
        pipe = client.pipeline(transaction=False)
        for key, (payload, when) in zip(keys[start:start + BATCH], dumped[start:start + BATCH], strict=True):
            if when > 0:
                pipe.execute_command("RESTORE", key, when, payload, "ABSTTL")
            else:
                pipe.execute_command("RESTORE", key, 0, payload)
        assert all(reply == b"OK" for reply in pipe.execute())


def _copy_every_key(source, target) -> dict[int, list[bytes]]:
    """DUMP every key of ``source`` and RESTORE it into ``target``; the keys of each database."""
    keys_by_db = {}
    for db in DBS:
        keys = _keys(source, db)
        dumped = _dump_all(source, keys)
        target.execute_command("SELECT", db)
        _restore_all(target, keys, dumped)
        keys_by_db[db] = keys
    for client in (source, target):
        client.execute_command("SELECT", 0)
    return keys_by_db


def _ask_each(client, db: int, keys: list[bytes], command: tuple) -> list:
    """``command + (key,)`` for each key, pipelined."""
    client.execute_command("SELECT", db)
    out: list = []
    for start in range(0, len(keys), BATCH):
        pipe = client.pipeline(transaction=False)
        for key in keys[start:start + BATCH]:
            pipe.execute_command(*command, key)
        out.extend(pipe.execute())
    client.execute_command("SELECT", 0)
    return out


def _with_pending_entries(client, db: int, keys: list[bytes], encodings: list[bytes]) -> set[bytes]:
    client.execute_command("SELECT", db)
    out = {key for key, encoding in zip(keys, encodings, strict=True)
           if encoding == b"stream" and any(group["pending"] for group in client.xinfo_groups(key))}
    client.execute_command("SELECT", 0)
    return out


def _stop(*servers: ServerProcess) -> None:
    for server in servers:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


def test_every_key_dumped_on_one_server_restores_on_the_other() -> None:
    options = ("--enable-debug-command", "yes")
    ours_source, theirs_source = start_specredis(*options), start_reference(*options)
    ours_target, theirs_target = start_specredis(*options), start_reference(*options)
    try:
        ours, theirs = ours_source.redis(), theirs_source.redis()
        started = time.monotonic()
        for client in (theirs, ours):
            populate(client, seed=11)
            populate_bulk(client, BULK_KEYS, seed=12)
        expected = digest(theirs)
        assert digest(ours) == expected
        total = sum(info.get("keys", 0) for info in theirs.info("keyspace").values())
        assert total > BULK_KEYS
        populated = time.monotonic()

        # Reference -> ours, and ours -> reference.
        keys_by_db = _copy_every_key(theirs, ours_target.redis())
        assert sum(map(len, keys_by_db.values())) == total
        assert _copy_every_key(ours, theirs_target.redis()) == keys_by_db
        copied = time.monotonic()
        for target in (ours_target, theirs_target):
            assert digest(target.redis()) == expected
            assert target.redis().dbsize() == ours.dbsize()

        # DUMP bytes, uncompressed: the two sources, and our copies of the reference's keys
        # (what we loaded from its payloads, written back). (The reference's copies of our
        # keys hold what our payloads said: the digests above cover them.)
        servers = {"ours": ours, "theirs": theirs, "ours restored": ours_target.redis()}
        for client in servers.values():
            client.config_set("rdbcompression", "no")
        compared = skipped = 0
        for db, keys in keys_by_db.items():
            dumps = {name: _ask_each(client, db, keys, ("DUMP",)) for name, client in servers.items()}
            reference_payloads = dumps["theirs"]
            # OBJECT ENCODING of every key on the sources; of a sample on the restored copies (a
            # restored APPENDed string is embstr again, in Redis too).
            reference_encodings = _ask_each(theirs, db, keys, ("OBJECT", "ENCODING"))
            assert _ask_each(ours, db, keys, ("OBJECT", "ENCODING")) == reference_encodings
            sample = keys[::7]
            assert _ask_each(ours_target.redis(), db, sample, ("OBJECT", "ENCODING")) == \
                _ask_each(theirs_target.redis(), db, sample, ("OBJECT", "ENCODING"))
            pending = _with_pending_entries(theirs, db, keys, reference_encodings)
            for i, key in enumerate(keys):
                if reference_encodings[i] in UNORDERED or key in pending:
                    skipped += 1
                    continue
                for name in ("ours", "ours restored"):
                    assert dumps[name][i] == reference_payloads[i], (name, db, key, reference_encodings[i])
                compared += 1
        assert compared > BULK_KEYS * 0.9 and skipped > 10
        finished = time.monotonic()
        print(f"populate {populated - started:.1f}s, copies {copied - populated:.1f}s, "
              f"byte comparison {finished - copied:.1f}s; {compared} keys byte-identical, {skipped} skipped")
    finally:
        _stop(ours_source, theirs_source, ours_target, theirs_target)
