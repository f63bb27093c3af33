"""Datasets of every type and encoding, built through commands so both servers hold the same.

:func:`populate` covers the encodings an RDB can carry (int/embstr/raw/LZF strings,
quicklists of many nodes and huge elements, intsets of every width, hashtables,
listpack and skiplist sorted sets with special scores, listpack and hashtable hashes
with binary fields, streams with tombstones, consumer groups and PELs), in several
databases, with TTLs. :func:`populate_bulk` adds many small keys fast.
"""

from __future__ import annotations

import random
from typing import Any

FUTURE_MS = 4_000_000_000_000          # an expiry time that stays in the future


def _binary(rng: random.Random, size: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(size))


def populate(client: Any, seed: int = 1, scale: int = 1) -> None:
    """Fill databases 0, 1 and 9 of a redis-py client (decode_responses off)."""
    rng = random.Random(seed)
    pipe = client.pipeline(transaction=False)
    for db in (0, 1, 9):
        pipe.execute_command("SELECT", db)
        prefix = f"db{db}:"
        # Strings: integers of every width, short and long text, compressible and not.
        for value in (0, 1, -1, 127, -128, 128, 32767, -32768, 65536, 2**31 - 1, -2**31, 2**31, 2**63 - 1, -2**63):
            pipe.set(f"{prefix}int:{value}", value)
        pipe.set(prefix + "int:leading-zero", "007")
        pipe.set(prefix + "int:plus", "+5")
        pipe.set(prefix + "float", "3.14159")
        pipe.set(prefix + "empty", "")
        pipe.set(prefix + "embstr", "hello world")
        pipe.set(prefix + "lzf", "abcdefgh" * 40 * scale)
        pipe.set(prefix + "random", _binary(rng, 300))
        pipe.set(prefix + "binary", b"\x00\x01\x02\xff" * 10)
        pipe.set(prefix + "appended", "x")
        pipe.append(prefix + "appended", "y" * 10)
        pipe.set(prefix + "ttl", "expires later")
        pipe.pexpireat(prefix + "ttl", FUTURE_MS)
        pipe.set(b"\x00\xffbinary key\x01" + prefix.encode(), "v")
        # Lists: small, many quicklist nodes, integers, a big element.
        pipe.rpush(prefix + "list:small", "a", "b", 1, 2, -3, "x" * 70)
        pipe.rpush(prefix + "list:long", *[f"element-{i}" for i in range(2000 * scale)])
        pipe.rpush(prefix + "list:ints", *range(-300, 300))
        pipe.rpush(prefix + "list:big-element", "small", "B" * 20000, "small again")
        pipe.lpush(prefix + "list:lpush", *[rng.randrange(10**12) for _ in range(100)])
        # Sets: intsets of 16/32/64-bit members, hashtables.
        pipe.sadd(prefix + "set:int16", *range(-100, 100))
        pipe.sadd(prefix + "set:int32", 1, 70000, -70000)
        pipe.sadd(prefix + "set:int64", 1, 2**40, -2**62)
        pipe.sadd(prefix + "set:strings", "a", "b", "c", b"\x00\x01")
        pipe.sadd(prefix + "set:big-ints", *range(600))
        pipe.sadd(prefix + "set:mixed", *[f"m{i}" for i in range(300)], *range(300))
        # Sorted sets: listpack and skiplist, with special and integral scores.
        pipe.zadd(prefix + "zset:small", {"a": 1, "b": 2.5, "c": -3, "inf": float("inf"), "-inf": float("-inf"),
                                           "tiny": 1e-300, "huge": 1e300, "int": 2**53, "zero": 0})
        pipe.zadd(prefix + "zset:big", {f"member-{i}": rng.random() * 1000 - 500 for i in range(300 * scale)})
        pipe.zadd(prefix + "zset:long-member", {"m" * 100: 1, "n": 2})
        pipe.zadd(prefix + "zset:ties", {f"t{i}": 7 for i in range(50)})
        # Hashes: listpack, binary fields (the packed form escapes 0x00-0x02), hashtable.
        pipe.hset(prefix + "hash:small", mapping={"f": "v", "n": 2, "neg": -70000, "big": 2**40})
        pipe.hset(prefix + "hash:binary", mapping={b"\x00\x01\x02": b"\x02\x01\x00", b"\x02": b"", b"": b"\x00"})
        pipe.hset(prefix + "hash:long-value", mapping={"f": "v" * 100, "g": "w"})
        pipe.hset(prefix + "hash:many", mapping={f"field-{i}": i * 3 for i in range(700 * scale)})
        # Streams: several nodes, tombstones, other fields, groups with PELs and consumers.
        stream = prefix + "stream:main"
        for i in range(1, 350 * scale):
            fields = {"sensor": i % 7, "value": f"{rng.random():.6f}"} if i % 50 else {"other": "fields", "n": i}
            pipe.xadd(stream, fields, id=f"{1000 + i}-{i % 3}")
        pipe.xdel(stream, "1005-2", "1006-0", "1200-2")
        pipe.xgroup_create(stream, "readers", id="0")
        pipe.xgroup_create(stream, "late", id="$")
        pipe.xreadgroup("readers", "alice", {stream: ">"}, count=5)
        pipe.xreadgroup("readers", "bob", {stream: ">"}, count=3)
        pipe.xack(stream, "readers", "1002-2")
        pipe.execute_command("XGROUP", "CREATECONSUMER", stream, "readers", "carol")
        pipe.xadd(prefix + "stream:trimmed", {"a": 1}, id="1-1")
        pipe.xadd(prefix + "stream:trimmed", {"a": 2}, id="2-1")
        pipe.xtrim(prefix + "stream:trimmed", maxlen=1)
        pipe.xgroup_create(prefix + "stream:empty", "g", id="$", mkstream=True)
        pipe.xadd(prefix + "stream:seq", {"big": "v" * 500}, id="5-18446744073709551615")
        pipe.xadd(prefix + "stream:seq", {"big": "w"}, id="6-0")
    pipe.execute_command("SELECT", 0)
    pipe.execute()


def populate_bulk(client: Any, count: int, seed: int = 2, batch: int = 5000) -> None:
    """``count`` keys in database 0: mostly strings, then small lists, hashes, sorted sets, sets,
    streams and HyperLogLogs; some with TTLs."""
    rng = random.Random(seed)
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        kind = i % 10
        key = f"bulk:{i}"
        if kind < 6:
            pipe.set(key, rng.randrange(10**9) if kind < 3 else f"value-{i}-{'z' * (i % 40)}")
        elif kind == 6:
            pipe.rpush(key, *range(i % 5 + 1))
        elif kind == 7:
            pipe.hset(key, mapping={"a": i, "b": "text"})
        elif kind == 8:
            pipe.zadd(key, {"x": i, "y": -i / 7})
        elif i % 20 == 19:
            pipe.xadd(key, {"n": i}, id=f"{i}-1")
            pipe.xadd(key, {"n": i + 1, "text": "t"}, id=f"{i}-2")
        elif i % 100 == 9:
            pipe.pfadd(key, *[f"visitor-{j}" for j in range(i % 37 + 1)])
        else:
            pipe.sadd(key, i, i + 1, "s" if i % 20 == 9 else i + 2)
        if i % 13 == 0:
            pipe.pexpireat(key, FUTURE_MS)
        if len(pipe) >= batch:
            pipe.execute()
    pipe.execute()


def digest(client: Any) -> bytes:
    return client.execute_command("DEBUG", "DIGEST")


def encodings(client: Any, dbs: tuple[int, ...] = (0, 1, 9), limit: int | None = None) -> dict:
    """(db, key) -> OBJECT ENCODING for every key (or the first ``limit`` keys in order) of ``dbs``."""
    out = {}
    for db in dbs:
        client.execute_command("SELECT", db)
        keys = sorted(client.keys("*"))
        if limit is not None:
            keys = keys[:limit]
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.object("encoding", key)
        for key, encoding in zip(keys, pipe.execute(), strict=True):
            out[(db, key)] = encoding
    client.execute_command("SELECT", 0)
    return out


def random_commands(seed: int, count: int = 3000) -> list[list]:
    """A random write workload over a few keys of every type, growing and shrinking them so
    encodings convert (listpack to hashtable, intset to hashtable, stream tombstones...)."""
    rng = random.Random(seed)
    out: list[list] = []
    for i in range(count):
        n = rng.randrange(8)
        member = rng.choice([str(rng.randrange(100)), f"m{rng.randrange(200)}", "x" * rng.choice((1, 70, 300))])
        pick = rng.randrange(16)
        if pick == 0:
            out.append(["SET", f"s{n}", member])
        elif pick == 1:
            out.append(["APPEND", f"s{n}", member])
        elif pick == 2:
            out.append(["RPUSH" if rng.random() < 0.5 else "LPUSH", f"l{n}", member, member + "2"])
        elif pick == 3:
            out.append(["LREM", f"l{n}", 0, member])
        elif pick == 4:
            out.append(["SADD", f"t{n}", member])
        elif pick == 5:
            out.append(["SREM", f"t{n}", member])
        elif pick == 6:
            out.append(["ZADD", f"z{n}", rng.choice([rng.randrange(-5, 5), rng.random() * 100, "inf"]), member])
        elif pick == 7:
            out.append(["ZREM", f"z{n}", member])
        elif pick == 8:
            out.append(["HSET", f"h{n}", member, rng.choice(["v", "1", "w" * 100])])
        elif pick == 9:
            out.append(["HDEL", f"h{n}", member])
        elif pick == 10:
            out.append(["XADD", f"x{n % 3}", "MAXLEN", "~", 300, f"{i + 1}-{rng.randrange(3)}", "f", member] +
                       (["g", "2"] if rng.random() < 0.2 else []))
        elif pick == 11:
            out.append(["XDEL", f"x{n % 3}", f"{rng.randrange(1, i + 2)}-{rng.randrange(3)}"])
        elif pick == 12:
            out.append(["XGROUP", "CREATE", f"x{n % 3}", f"g{n}", "0", "MKSTREAM"])
        elif pick == 13:
            out.append(["XREADGROUP", "GROUP", f"g{n}", f"c{rng.randrange(3)}", "COUNT", 2, "STREAMS", f"x{n % 3}", ">"])
        elif pick == 14:
            out.append(["PEXPIREAT", rng.choice(["s", "l", "t", "z", "h"]) + str(n), FUTURE_MS + i])
        else:
            out.append(["DEL", rng.choice(["s", "l", "t", "z", "h"]) + str(n)])
    return out


def run_commands(client: Any, commands: list[list]) -> None:
    """Send ``commands`` (errors such as WRONGTYPE or a missing group are part of the workload)."""
    pipe = client.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    pipe.execute(raise_on_error=False)
