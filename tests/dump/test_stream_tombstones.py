"""Deleted stream entries travel in DUMP payloads and RDB files exactly as Redis 7.0.15 writes them.

Redis never rewrites a stream node's listpack when an entry goes: XDEL and a partial exact
trim (XTRIM / XADD MAXLEN = or MINID =) only flag the entry deleted, with its fields and
values left in place, until the node's last live entry goes and the node with it. The same
random workloads run on both servers; every stream's DUMP must then be byte-identical
(rdbcompression off: another LZF compressor may pick other, equally valid, matches), each
server must re-DUMP the other's payload unchanged after RESTORE, and the streams must come
back from an RDB file (ours read by Redis, Redis's read by us) with the same DUMP bytes.
"""

from __future__ import annotations

import random
import shutil

import pytest
from servers import start_reference, start_specredis

STREAMS = 6


def workload(seed: int, count: int = 1500) -> list[list]:
    """XADD with master and other fields, XDEL, exact and approximate trims, groups without PELs."""
    rng = random.Random(seed)
    out: list[list] = []
    next_ms = [1] * STREAMS
    added: list[list[str]] = [[] for _ in range(STREAMS)]
    for _ in range(count):
        n = rng.randrange(STREAMS)
        key = f"s{n}"
        pick = rng.randrange(20)
        if pick < 11:
            next_ms[n] += rng.choice((1, 1, 1, 7, 1000))
            if rng.random() < 0.8:
                fields = ["temp", rng.randrange(-5000, 5000), "unit", rng.choice(["c", "f", "x" * 70])]
            else:
                fields = ["other", "fields", "n", rng.randrange(10**15)]
            if rng.random() < 0.05:
                fields += ["big", "v" * rng.choice((200, 5000))]
            trim = []
            if rng.random() < 0.1:
                trim = ["MAXLEN", rng.choice(["=", "~"]), rng.randrange(20, 200)]
            elif rng.random() < 0.05:
                trim = ["MINID", rng.choice(["=", "~"]), f"{max(next_ms[n] - rng.randrange(300), 0)}"]
            entry_id = f"{next_ms[n]}-{rng.randrange(3)}"
            added[n].append(entry_id)
            out.append(["XADD", key, *trim, entry_id, *fields])
        elif pick < 16:
            ids = [rng.choice(added[n]) if added[n] and rng.random() < 0.9 else f"{rng.randrange(1, 10**6)}-0"
                   for _ in range(rng.randrange(1, 6))]
            out.append(["XDEL", key, *ids])
        elif pick < 18:
            if rng.random() < 0.15:
                out.append(["XTRIM", key, "MAXLEN", "~", rng.randrange(0, 150), "LIMIT", rng.randrange(0, 300)])
            elif rng.random() < 0.5:
                out.append(["XTRIM", key, "MAXLEN", rng.choice(["=", "~"]), rng.randrange(0, 150)])
            else:
                out.append(["XTRIM", key, "MINID", rng.choice(["=", "~"]), rng.randrange(next_ms[n] + 1)])
        elif pick == 18:
            out.append(["XGROUP", "CREATE", key, f"g{rng.randrange(3)}", rng.choice(["0", "$"]), "MKSTREAM"])
        else:
            out.append(["XGROUP", "SETID", key, f"g{rng.randrange(3)}", "$", "ENTRIESREAD", rng.randrange(100)])
    return out


def run(client, commands: list[list]) -> list:
    pipe = client.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    return pipe.execute(raise_on_error=False)


def dumps(client) -> dict[bytes, bytes]:
    return {key: client.dump(key) for key in sorted(client.keys("s*"))}


@pytest.fixture
def pair():
    ours = start_specredis("--enable-debug-command", "yes", "--rdbcompression", "no")
    theirs = start_reference("--enable-debug-command", "yes", "--rdbcompression", "no")
    yield ours, theirs
    for server in (ours, theirs):
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.mark.parametrize("node_entries", [100, 7])
@pytest.mark.parametrize("seed", [1, 2])
def test_streams_with_deleted_entries_dump_and_save_as_redis(pair, seed: int, node_entries: int) -> None:
    ours_server, theirs_server = pair
    ours, theirs = ours_server.redis(), theirs_server.redis()
    commands = workload(seed)
    for client in (ours, theirs):
        client.config_set("stream-node-max-entries", node_entries)
    replies = [run(client, commands) for client in (ours, theirs)]
    assert [str(r) for r in replies[0]] == [str(r) for r in replies[1]]
    expected = dumps(theirs)
    assert len(expected) >= STREAMS - 1
    # The workload did leave tombstones: entries deleted one by one, nodes trimmed part-way.
    assert sum(reply for command, reply in zip(commands, replies[1], strict=True)
               if command[0] == "XDEL" and isinstance(reply, int)) > 50
    assert dumps(ours) == expected
    # Each server re-DUMPs the other's payload unchanged.
    for key, payload in expected.items():
        for client in (ours, theirs):
            client.restore(b"copy:" + key, 0, payload, replace=True)
            assert client.dump(b"copy:" + key) == payload, key
        ours.delete(b"copy:" + key)
        theirs.delete(b"copy:" + key)
    # Through RDB files: our own reload, then each server's file read by the other.
    assert ours.execute_command("DEBUG", "RELOAD") == b"OK"
    assert dumps(ours) == expected
    assert ours.save() and theirs.save()
    ours_server.stop()
    theirs_server.stop()
    theirs_on_ours = start_reference("--enable-debug-command", "yes", "--rdbcompression", "no",
                                     "--dir", ours_server.dir)
    ours_on_theirs = start_specredis("--enable-debug-command", "yes", "--rdbcompression", "no",
                                     directory=theirs_server.dir)
    try:
        assert dumps(theirs_on_ours.redis()) == expected
        assert dumps(ours_on_theirs.redis()) == expected
    finally:
        theirs_on_ours.stop()
        ours_on_theirs.stop()


def test_a_deleted_entry_keeps_its_content_in_the_payload(pair) -> None:
    """The payload still holds a deleted entry's value (Redis only flags it), until its node goes."""
    ours, theirs = (server.redis() for server in pair)
    for client in (ours, theirs):
        client.xadd("s", {"f": "kept-after-xdel"}, id="1-1")
        client.xadd("s", {"f": "live"}, id="2-1")
        client.xadd("s", {"g": "other-field-deleted", "h": "x"}, id="3-1")
        client.xadd("s", {"f": "trimmed-away"}, id="4-1")
        client.xadd("s", {"f": "last"}, id="5-1")
        client.xdel("s", "1-1", "3-1")
        client.xtrim("s", minid="5-0", approximate=False)
    payloads = [client.dump("s") for client in (ours, theirs)]
    assert payloads[0] == payloads[1]
    for text in (b"kept-after-xdel", b"other-field-deleted", b"trimmed-away"):
        assert text in payloads[0]
    for client in (ours, theirs):
        client.xdel("s", "5-1")           # the node's last live entry: the node goes
    payloads = [client.dump("s") for client in (ours, theirs)]
    assert payloads[0] == payloads[1]
    assert b"kept-after-xdel" not in payloads[0]
