"""DUMP / RESTORE / RESTORE-ASKING against redis-server 7.0.15.

Payloads cross in both directions for every type and encoding (DEBUG DIGEST-VALUE and
OBJECT ENCODING compared where each server restored the same payload), error replies
are compared for bad options, TTLs, versions, checksums and data, and mutated
payloads are fed to both servers with sanitize-dump-payload yes.
"""

from __future__ import annotations

import random
import time

import pytest
import redis
from rdb_dataset import populate

from specredis.engine.persistence.rdb import crc64


@pytest.fixture(scope="module")
def servers(specredis, reference):
    ours, theirs = specredis.redis(), reference.redis()
    for client in (ours, theirs):
        client.flushall()
        populate(client, seed=21)
    yield ours, theirs
    for client in (ours, theirs):
        client.flushall()


def _keys(client) -> list[bytes]:
    return sorted(client.keys("db0:*")) + [k for k in client.keys("*") if not k.startswith(b"db0:")]


def reply(client, *args):
    try:
        return client.execute_command(*args)
    except redis.ResponseError as error:
        return f"ERR:{error}"


def test_dump_of_a_missing_key_is_null(servers) -> None:
    for client in servers:
        assert client.dump("no-such-key") is None


@pytest.mark.parametrize("direction", ["redis-to-specredis", "specredis-to-redis"])
def test_payloads_cross_for_every_type_and_encoding(servers, direction: str) -> None:
    ours, theirs = servers
    source, target = (theirs, ours) if direction == "redis-to-specredis" else (ours, theirs)
    keys = _keys(source)
    assert len(keys) > 40
    for key in keys:
        payload = source.dump(key)
        copy = b"copy:" + key
        for client in (ours, theirs):
            client.delete(copy)
            assert client.restore(copy, 0, payload) == b"OK"
        assert ours.object("encoding", copy) == theirs.object("encoding", copy), key
        if source.pttl(key) == -1:      # (a TTL is part of a key's digest, and not of its payload)
            assert reply(target, "DEBUG", "DIGEST-VALUE", copy) == reply(source, "DEBUG", "DIGEST-VALUE", key), key
        assert ours.execute_command("DEBUG", "DIGEST-VALUE", copy) == \
            theirs.execute_command("DEBUG", "DIGEST-VALUE", copy), key
    for client in (ours, theirs):
        client.delete(*[b"copy:" + key for key in keys])


def test_payloads_are_byte_identical_where_the_encoding_fixes_the_order(servers) -> None:
    ours, theirs = servers
    compared = 0
    # Without LZF: another LZF compressor may pick other (equally valid) matches.
    for client in servers:
        client.config_set("rdbcompression", "no")
    try:
        for key in _keys(theirs):
            encoding = theirs.object("encoding", key)
            if encoding in (b"hashtable", b"skiplist"):
                continue        # hash-table order differs
            if theirs.type(key) == b"stream" and any(group["pending"] for group in theirs.xinfo_groups(key)):
                continue        # pending entries carry their delivery times
            assert ours.dump(key) == theirs.dump(key), (key, encoding)
            compared += 1
    finally:
        for client in servers:
            client.config_set("rdbcompression", "yes")
    assert compared > 30


def test_restore_errors_and_options_match(servers) -> None:
    ours, theirs = servers
    transcripts = []
    for client in (ours, theirs):
        client.set("src", "value")
        payload = client.dump("src")
        bad_type = b"\x63\x01a" + b"\x0a\x00"
        future = b"\x00\x01a" + b"\x0b\x00"
        old = b"\x00\x01a" + b"\x09\x00"
        garbage_after = b"\x00\x01a" + b"garbage" + b"\x0a\x00"
        into_footer = b"\x00\x05ab" + b"\x0a\x00"          # Redis reads the value into the footer
        empty_set = b"\x02\x00" + b"\x0a\x00"
        cases = [
            ("RESTORE", "src", 0, payload),
            ("RESTORE", "n1", -1, payload),
            ("RESTORE", "n1", "abc", payload),
            ("RESTORE", "src", "abc", payload),
            ("RESTORE", "n1", 0, payload, "foo"),
            ("RESTORE", "n1", 0, payload, "IDLETIME", -1),
            ("RESTORE", "n1", 0, payload, "IDLETIME", "x"),
            ("RESTORE", "n1", 0, payload, "FREQ", 256),
            ("RESTORE", "n1", 0, payload, "FREQ", -1),
            ("RESTORE", "n1", 0, payload, "FREQ", 5, "IDLETIME", 3),
            ("RESTORE", "n1", 0, payload, "IDLETIME", 3, "FREQ", 5),
            ("RESTORE", "n1", 0, payload, "IDLETIME"),
            ("RESTORE", "n2", 0, payload, "replace", "REPLACE", "absttl"),
            ("RESTORE", "n3", 0, b"xx"),
            ("RESTORE", "n3", 0, payload[:-1] + bytes([payload[-1] ^ 1])),
            ("RESTORE", "n4", 0, bad_type + crc64(bad_type).to_bytes(8, "little")),
            ("RESTORE", "n5", 0, future + crc64(future).to_bytes(8, "little")),
            ("RESTORE", "n6", 0, old + crc64(old).to_bytes(8, "little")),
            ("RESTORE", "n7", 0, garbage_after + crc64(garbage_after).to_bytes(8, "little")),
            ("RESTORE", "n8", 0, into_footer + crc64(into_footer).to_bytes(8, "little")),
            ("RESTORE", "n9", 0, empty_set + crc64(empty_set).to_bytes(8, "little")),
            ("RESTORE-ASKING", "n10", 0, payload),
            ("RESTORE", "n11", 0, payload, "IDLETIME", 100),
            ("RESTORE", "n12", 0, payload, "FREQ", 100),
        ]
        steps = [reply(client, *case) for case in cases]
        steps += [client.get(name) for name in ("n1", "n2", "n6", "n7", "n10", "n11", "n12")]
        steps.append(client.strlen("n8"))
        client.delete(*[f"n{i}" for i in range(13)], "src")
        transcripts.append(steps)
    assert transcripts[0] == transcripts[1]


def test_restore_ttls(servers) -> None:
    ours, theirs = servers
    results = []
    for client in (ours, theirs):
        client.set("src", "v")
        payload = client.dump("src")
        now_ms = int(time.time() * 1000)
        steps = [client.restore("ttl-rel", 100_000, payload),
                 90_000 < client.pttl("ttl-rel") <= 100_000,
                 client.restore("ttl-abs", now_ms + 50_000, payload, absttl=True),
                 40_000 < client.pttl("ttl-abs") <= 50_000,
                 client.restore("ttl-past", now_ms - 1000, payload, absttl=True),
                 client.exists("ttl-past"),
                 client.set("victim", "x"),
                 client.restore("victim", now_ms - 1000, payload, absttl=True, replace=True),
                 client.exists("victim"),
                 client.restore("persistent", 0, payload),
                 client.pttl("persistent")]
        client.delete("src", "ttl-rel", "ttl-abs", "persistent")
        results.append(steps)
    assert results[0] == results[1]
    assert results[0][5] == 0 and results[0][8] == 0


def _mutations(payload: bytes, rng: random.Random, count: int) -> list[bytes]:
    body = payload[:-10]
    out = []
    for _ in range(count):
        data = bytearray(body)
        action = rng.randrange(4)
        if action == 0 and len(data) > 1:
            data[rng.randrange(1, len(data))] ^= 1 << rng.randrange(8)
        elif action == 1 and len(data) > 2:
            del data[rng.randrange(1, len(data)):]
        elif action == 2:
            data[rng.randrange(1, len(data) + 1):1] = bytes([rng.randrange(256)])
        else:
            position = rng.randrange(1, len(data)) if len(data) > 1 else 1
            data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4)))
        framed = bytes(data) + payload[-10:-8]
        out.append(framed + crc64(framed).to_bytes(8, "little"))
    return out


def test_mutated_payloads_are_refused_or_accepted_alike_with_sanitization(servers) -> None:
    ours, theirs = servers
    rng = random.Random(99)
    sources = [b"db0:list:small", b"db0:hash:small", b"db0:zset:small", b"db0:set:int16",
               b"db0:stream:trimmed", b"db0:int:65536", b"db0:embstr"]
    for client in (ours, theirs):
        client.config_set("sanitize-dump-payload", "yes")
    try:
        before = [client.info("stats")["dump_payload_sanitizations"] for client in (ours, theirs)]
        for source in sources:
            for payload in _mutations(theirs.dump(source), rng, 40):
                outcomes = []
                for client in (ours, theirs):
                    client.delete("fuzz")
                    result = reply(client, "RESTORE", "fuzz", 0, payload)
                    digest = reply(client, "DEBUG", "DIGEST-VALUE", "fuzz") if result == b"OK" else None
                    outcomes.append((result, digest))
                assert outcomes[0] == outcomes[1], (source, payload)
        after = [client.info("stats")["dump_payload_sanitizations"] for client in (ours, theirs)]
        assert after[0] - before[0] == after[1] - before[1] > 0
    finally:
        for client in (ours, theirs):
            client.config_set("sanitize-dump-payload", "no")
            client.delete("fuzz")
