"""Files in the encodings older Redis versions wrote (RDB version 9 and before): linked and
ziplist lists, quicklists of ziplists, zipmap and ziplist hashes, ziplist sorted sets, text
scores, v1 streams, expiry in seconds, IDLE/FREQ opcodes. Such files are synthesized here,
loaded by redis-server 7.0.15 and by specredis, and compared (DEBUG DIGEST, OBJECT ENCODING,
the v1 stream's consumer-group counters)."""

from __future__ import annotations

import os
import struct
import tempfile

from servers import start_reference, start_specredis

from specredis.engine.persistence.rdb import (
    OPCODE_AUX,
    OPCODE_EOF,
    OPCODE_EXPIRETIME,
    OPCODE_EXPIRETIME_MS,
    OPCODE_FREQ,
    OPCODE_IDLE,
    OPCODE_RESIZEDB,
    OPCODE_SELECTDB,
    crc64,
    encode_length,
    encode_plain_string,
    encode_string,
    encode_string_double,
    intset_encode,
    listpack_encode,
    ziplist_encode,
    zipmap_encode,
)

FUTURE_S = 2_100_000_000          # within the 32-bit seconds of the old opcode


def _key(type_code: int, key: bytes, body: bytes) -> bytes:
    return bytes((type_code,)) + encode_string(key) + body


def old_file(version: int = 9) -> bytes:
    out = [b"REDIS%04d" % version, bytes((OPCODE_AUX,)) + encode_string(b"redis-ver") + encode_string(b"5.0.7"),
           bytes((OPCODE_SELECTDB,)) + encode_length(0), bytes((OPCODE_RESIZEDB,)) + encode_length(20) + encode_length(2)]
    items = [b"a", b"12", b"-5", b"x" * 80, b"4000000000"]
    out.append(_key(1, b"list:linked", encode_length(len(items)) + b"".join(encode_string(i) for i in items)))
    out.append(_key(10, b"list:ziplist", encode_string(ziplist_encode(items))))
    nodes = [ziplist_encode(items), ziplist_encode([b"more", b"7"])]
    out.append(_key(14, b"list:quicklist", encode_length(2) + b"".join(encode_string(n) for n in nodes)))
    out.append(_key(2, b"set:ints-as-table", encode_length(3) + b"".join(encode_string(m) for m in (b"3", b"1", b"2"))))
    out.append(_key(2, b"set:strings", encode_length(2) + encode_string(b"a") + encode_string(b"b")))
    out.append(_key(11, b"set:intset64", encode_string(intset_encode([1, -2**40, 2**62]))))
    zset_body = encode_length(4) + b"".join(encode_string(m) + encode_string_double(s) for m, s in
                                            ((b"a", 1.5), (b"b", float("inf")), (b"c", float("-inf")), (b"d", -2.0)))
    out.append(_key(3, b"zset:text-scores", zset_body))
    out.append(_key(12, b"zset:ziplist", encode_string(ziplist_encode([b"m1", b"1", b"m2", b"2.5", b"m3", b"-7"]))))
    many = [(b"m%d" % i, b"%d" % i) for i in range(200)]
    out.append(_key(12, b"zset:ziplist-too-long", encode_string(ziplist_encode([x for pair in many for x in pair]))))
    out.append(_key(9, b"hash:zipmap", encode_string(zipmap_encode([(b"f1", b"v1"), (b"f2", b"300"), (b"f3", b"")]))))
    out.append(_key(9, b"hash:zipmap-long", encode_string(zipmap_encode([(b"f", b"v" * 100)]))))
    out.append(_key(13, b"hash:ziplist", encode_string(ziplist_encode([b"f1", b"v1", b"n", b"-3"]))))
    out.append(bytes((OPCODE_EXPIRETIME,)) + struct.pack("<i", FUTURE_S))
    out.append(_key(0, b"expires:seconds", encode_string(b"soon")))
    out.append(bytes((OPCODE_EXPIRETIME_MS,)) + struct.pack("<q", FUTURE_S * 1000 + 5))
    out.append(bytes((OPCODE_IDLE,)) + encode_length(1000))
    out.append(_key(0, b"expires:ms", encode_string(b"later")))
    out.append(bytes((OPCODE_FREQ,)) + b"\x07")
    out.append(_key(0, b"string:lzf", encode_string(b"abc" * 100)))
    out.append(_key(0, b"string:plain-int-text", encode_plain_string(b"123")))
    # A v1 stream (RDB_TYPE_STREAM_LISTPACKS): one node, no first-id/max-deleted/entries-added,
    # a group without its read counter.
    node = listpack_encode([3, 1, 1, b"f", 0,
                            2, 0, 0, b"v", 4,                   # 1-1
                            3, 0, 1, b"gone", 4,                # 1-2, deleted
                            2, 1, -1, b"w", 4,                  # 2-0
                            0, 1, 5, 2, b"a", b"1", b"b", b"2", 8])   # 2-6, other fields
    stream = [encode_length(1), encode_string((1 << 64 | 1).to_bytes(16, "big")), encode_string(node),
              encode_length(3), encode_length(2), encode_length(6),
              encode_length(1), encode_string(b"g"), encode_length(1), encode_length(1),
              encode_length(1), (1 << 64 | 1).to_bytes(16, "big"), struct.pack("<q", 1_700_000_000_000), encode_length(2),
              encode_length(1), encode_string(b"consumer"), struct.pack("<q", 1_700_000_000_000), encode_length(1),
              (1 << 64 | 1).to_bytes(16, "big")]
    out.append(_key(15, b"stream:v1", b"".join(stream)))
    out.append(bytes((OPCODE_SELECTDB,)) + encode_length(3))
    out.append(_key(0, b"in-db-3", encode_string(b"x")))
    out.append(bytes((OPCODE_EOF,)))
    body = b"".join(out)
    return body + crc64(body).to_bytes(8, "little")


def _snapshot(server) -> tuple:
    client = server.redis()
    encodings = {}
    for key in sorted(client.keys("*")):
        encodings[key] = client.object("encoding", key)
    groups = client.xinfo_groups("stream:v1")
    stream = client.xinfo_stream("stream:v1")
    return (client.execute_command("DEBUG", "DIGEST"), encodings, client.dbsize(), client.execute_command("PEXPIRETIME", "expires:seconds"),
            client.execute_command("PEXPIRETIME", "expires:ms"),
            [(g["name"], g["entries-read"], g["lag"], g["pending"]) for g in groups],
            (stream["length"], stream["entries-added"], stream["max-deleted-entry-id"],
             stream["recorded-first-entry-id"], stream["last-generated-id"]),
            client.xrange("stream:v1"), client.lrange("list:quicklist", 0, -1), client.zrange("zset:text-scores", 0, -1,
                                                                                            withscores=True))


def test_old_encodings_load_like_redis_loads_them() -> None:
    data = old_file()
    snapshots = []
    for start in (start_reference, start_specredis):
        directory = tempfile.mkdtemp(prefix="oldrdb-")
        with open(os.path.join(directory, "dump.rdb"), "wb") as handle:
            handle.write(data)
        server = start("--save", "", "--enable-debug-command", "yes", directory=directory)
        try:
            snapshots.append(_snapshot(server))
        finally:
            server.stop()
    assert snapshots[0] == snapshots[1]
    encodings = snapshots[1][1]
    assert encodings[b"set:ints-as-table"] == b"intset"
    assert encodings[b"zset:ziplist-too-long"] == b"skiplist"
    assert encodings[b"hash:zipmap-long"] == b"hashtable"
