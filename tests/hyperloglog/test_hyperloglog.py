"""HyperLogLog commands, differentially: the same commands to specredis and to Redis 7.0.15, RESP2 and RESP3.

A HyperLogLog is a string in Redis's own format, so besides the replies the tests
compare the bytes (GET) after every write: the sparse opcodes, the dense registers,
the cached cardinality and its 'invalid' bit must all be the reference's. Values
the reference wrote are loaded into specredis with SET, and corrupted values must
produce the reference's errors, or its results when it accepts them.
"""

from __future__ import annotations

import random

import pytest
from lists.differential import Pair

from specredis.protocol.client import RespError


def elements(prefix: str, count: int, start: int = 0) -> list[str]:
    return [f"{prefix}{i}" for i in range(start, start + count)]


def add_and_compare(pair: Pair, key: bytes, items: list[str], chunk: int = 500) -> None:
    """PFADD ``items`` in chunks; replies and the resulting bytes must match."""
    for i in range(0, len(items), chunk):
        pair.check("PFADD", key, *items[i:i + chunk])
    pair.check("GET", key)


def test_pfadd_pfcount_and_the_bytes(pair: Pair) -> None:
    h, missing = pair.key("h"), pair.key("missing")
    pair.run(["PFCOUNT", missing], ["PFADD", h], ["GET", h], ["PFCOUNT", h], ["GET", h], ["PFADD", h],
             ["PFADD", h, "a", "b", "c"], ["GET", h], ["PFADD", h, "a"], ["GET", h], ["PFCOUNT", h], ["GET", h],
             ["PFADD", h, "a", "d"], ["GET", h], ["PFCOUNT", h], ["PFCOUNT", h], ["GET", h], ["OBJECT", "ENCODING", h],
             ["PFADD", h, ""], ["PFADD", h, "\x00\xff" * 20], ["PFCOUNT", h], ["GET", h], ["STRLEN", h],
             ["PFDEBUG", "ENCODING", h], ["PFDEBUG", "DECODE", h], ["TYPE", h])


def test_pfcount_is_exact_for_growing_sparse_and_dense(pair: Pair) -> None:
    h = pair.key("h")
    for start, count in ((0, 10), (10, 90), (100, 400), (500, 1500), (2000, 8000), (10000, 30000)):
        add_and_compare(pair, h, elements("item:", count, start))
        pair.run(["PFCOUNT", h], ["GET", h], ["PFDEBUG", "ENCODING", h])


def test_promotion_follows_hll_sparse_max_bytes(pair: Pair) -> None:
    small, big, zero = pair.key("small"), pair.key("big"), pair.key("zero")
    try:
        pair.run(["CONFIG", "SET", "hll-sparse-max-bytes", "100"])
        for i in range(0, 60, 3):
            pair.run(["PFADD", small, *elements("x", 3, i)], ["PFDEBUG", "ENCODING", small], ["GET", small])
        pair.run(["CONFIG", "SET", "hll-sparse-max-bytes", "0"], ["PFADD", zero, "a"], ["PFDEBUG", "ENCODING", zero],
                 ["GET", zero], ["CONFIG", "SET", "hll-sparse-max-bytes", "20000"])
        add_and_compare(pair, big, elements("y", 12000))
        pair.run(["PFDEBUG", "ENCODING", big], ["PFCOUNT", big], ["STRLEN", big])
    finally:
        pair.run(["CONFIG", "SET", "hll-sparse-max-bytes", "3000"])


def test_pfcount_union_and_pfmerge(pair: Pair) -> None:
    a, b, c, d, dest = (pair.key(n) for n in ("a", "b", "c", "d", "dest"))
    add_and_compare(pair, a, elements("e", 100))
    add_and_compare(pair, b, elements("e", 100, 50))
    add_and_compare(pair, c, elements("e", 20000, 1000))          # dense
    add_and_compare(pair, d, elements("f", 3))
    pair.run(["PFCOUNT", a, b], ["PFCOUNT", a, b, c], ["PFCOUNT", a, pair.key("missing")],
             ["PFCOUNT", pair.key("missing"), pair.key("missing2")], ["PFCOUNT", a, a], ["GET", a],
             ["PFMERGE", dest, a, b], ["GET", dest], ["PFCOUNT", dest], ["PFMERGE", dest, d], ["GET", dest],
             ["PFMERGE", dest], ["GET", dest], ["PFMERGE", dest, pair.key("missing")], ["GET", dest],
             ["PFMERGE", pair.key("new"), a, d], ["GET", pair.key("new")], ["PFMERGE", pair.key("new0")],
             ["GET", pair.key("new0")], ["PFMERGE", pair.key("new1"), pair.key("missing")], ["GET", pair.key("new1")],
             ["PFMERGE", dest, c], ["GET", dest], ["PFDEBUG", "ENCODING", dest], ["PFCOUNT", dest],
             ["PFMERGE", a, a], ["GET", a], ["PFMERGE", b, c, a], ["GET", b], ["PFCOUNT", b, c, d],
             ["PFMERGE", c, d], ["GET", c])


def test_pfmerge_into_a_sparse_destination_register_by_register(pair: Pair) -> None:
    """A sparse destination gets the union's registers one at a time, in index order; the
    opcodes (and when it turns dense) depend on that order."""
    dest = pair.key("dest")
    sources = [pair.key(f"s{i}") for i in range(6)]
    rng = random.Random(7)
    for i, source in enumerate(sources):
        add_and_compare(pair, source, [f"m{rng.randrange(10**6)}" for _ in range(50 + 120 * i)])
    for source in sources:
        pair.run(["PFMERGE", dest, source], ["GET", dest], ["PFDEBUG", "ENCODING", dest], ["PFCOUNT", dest])


def test_pfdebug(pair: Pair) -> None:
    h, dense, lst = pair.key("h"), pair.key("dense"), pair.key("list")
    add_and_compare(pair, h, elements("e", 40))
    pair.run(["PFDEBUG", "DECODE", h], ["PFDEBUG", "encoding", h], ["PFDEBUG", "TODENSE", h], ["GET", h],
             ["PFDEBUG", "TODENSE", h], ["PFDEBUG", "ENCODING", h], ["PFDEBUG", "DECODE", h], ["PFCOUNT", h])
    pair.run(["PFADD", dense, "a", "b"], ["PFDEBUG", "GETREG", dense], ["PFDEBUG", "ENCODING", dense], ["GET", dense],
             ["PFDEBUG", "GETREG", dense])
    pair.run(["PFDEBUG", "NOSUCH", h], ["PFDEBUG", "NOSUCH", pair.key("missing")],
             ["PFDEBUG", "DECODE", pair.key("missing")], ["PFDEBUG", "GETREG"], ["PFDEBUG", "GETREG", h, h],
             ["RPUSH", lst, "x"], ["PFDEBUG", "ENCODING", lst], ["SET", lst, "notanhll"], ["PFDEBUG", "DECODE", lst],
             ["PFDEBUG", "get\x00reg", h])


def test_type_checks(pair: Pair) -> None:
    lst, s, i, short, magic = (pair.key(n) for n in ("list", "s", "i", "short", "magic"))
    pair.run(["RPUSH", lst, "x"], ["PFADD", lst, "a"], ["PFCOUNT", lst], ["PFCOUNT", lst, lst], ["PFMERGE", lst],
             ["PFMERGE", pair.key("d"), lst], ["EXISTS", pair.key("d")],
             ["SET", s, "hello world, this is not an HLL"], ["PFADD", s, "a"], ["PFCOUNT", s], ["PFMERGE", s, s],
             ["PFCOUNT", s, pair.key("missing")], ["SET", i, 12345], ["PFADD", i], ["PFCOUNT", i],
             ["SET", short, "HYLL\x01"], ["PFADD", short, "a"], ["PFCOUNT", short],
             ["SET", magic, "HYLL" + "\x02" + "\x00" * 11 + "\x7f\xff"], ["PFADD", magic, "a"],
             ["SET", magic, "HYLX" + "\x01" + "\x00" * 11 + "\x7f\xff"], ["PFCOUNT", magic],
             ["SET", magic, "HYLL" + "\x00" + "\x00" * 11 + "\x7f\xff"], ["PFCOUNT", magic], ["PFDEBUG", "GETREG", magic],
             ["PFADD"], ["PFCOUNT"], ["PFMERGE"], ["PFSELFTEST", "x"])


def test_values_written_by_the_reference_work_here(pair: Pair) -> None:
    """SET of the reference's bytes on both servers, then the same commands."""
    src, copy = pair.key("src"), pair.key("copy")
    for count in (5, 300, 5000):
        pair.ref.conn.call("DEL", src)
        pair.ref.conn.call("PFADD", src, *elements("r", count))
        raw = pair.ref.conn.call("GET", src)
        pair.run(["SET", copy, raw], ["PFCOUNT", copy], ["GET", copy], ["PFADD", copy, *elements("n", 50)],
                 ["GET", copy], ["PFCOUNT", copy], ["GET", copy], ["OBJECT", "ENCODING", copy],
                 ["SET", copy, raw], ["PFMERGE", copy, copy], ["GET", copy], ["PFDEBUG", "GETREG", copy])


def test_the_cached_cardinality(pair: Pair) -> None:
    """PFCOUNT trusts a valid cache: a planted cardinality is returned as is; PFADD
    invalidates it (only the flag bit), PFCOUNT rewrites it."""
    h = pair.key("h")
    pair.run(["PFADD", h, "a", "b"], ["PFCOUNT", h], ["GET", h], ["SETRANGE", h, 8, "\x39\x30"], ["PFCOUNT", h],
             ["SETRANGE", h, 15, "\x80"], ["PFCOUNT", h], ["GET", h], ["PFADD", h, "a"], ["GET", h],
             ["PFADD", h, "zz"], ["GET", h], ["SETRANGE", h, 8, "\xff\xff\xff\xff\xff\xff\xff\x7f"], ["PFCOUNT", h],
             ["PFCOUNT", h, h])


def test_string_writes_between_pfadds(pair: Pair) -> None:
    """SETRANGE, APPEND and SETBIT change an HLL's bytes behind PFADD's back."""
    h = pair.key("h")
    add_and_compare(pair, h, elements("w", 300))
    for write in (["SETRANGE", h, 16, "\x3f"], ["SETBIT", h, 200, 1], ["APPEND", h, "\x80"], ["SETRANGE", h, 40, "\x7f"]):
        pair.run(write, ["PFADD", h, *elements("v", 20)], ["GET", h], ["PFCOUNT", h], ["PFADD", h, "one"], ["GET", h])


def test_a_watched_key_is_touched_by_a_pfcount_that_updates_the_cache(pair: Pair) -> None:
    h = pair.key("h")
    pair.run(["PFADD", h, "a"])
    for side in (pair.ref, pair.ours):
        other = side.connect()
        for refresh in (True, False):
            side.conn.call("WATCH", h)
            other.call("PFCOUNT", h)      # the first time rewrites the cache; then it is valid
            side.conn.call("MULTI")
            side.conn.call("PING")
            reply = side.conn.call("EXEC")
            assert (reply is None or "Null" in type(reply).__name__) == refresh, (side.server.name, refresh, reply)


# -- corrupted values --------------------------------------------------------------------------------


def sparse_bytes(pair: Pair, count: int) -> bytes:
    """The reference's sparse HLL of ``count`` elements."""
    tmp = pair.key("tmp")
    pair.ref.conn.call("DEL", tmp)
    pair.ref.conn.call("PFADD", tmp, *elements("c", count))
    return pair.ref.conn.call("GET", tmp)


def check_corrupted(pair: Pair, raw: bytes) -> None:
    """Every command on the corrupted value ``raw``: same replies, same bytes after."""
    h, other = pair.key("bad"), pair.key("other")
    pair.run(["PFADD", other, "o1", "o2"])
    for command in (["PFCOUNT", h], ["PFADD", h, "a", "b", "c", "d"], ["PFADD", h, *elements("z", 30)],
                    ["PFCOUNT", h, other], ["PFMERGE", other, h], ["PFMERGE", h, other], ["PFDEBUG", "DECODE", h],
                    ["PFDEBUG", "TODENSE", h], ["PFDEBUG", "GETREG", h]):
        pair.check("SET", h, raw)
        pair.check(*command)
        pair.check("GET", h)


def test_corrupted_sparse_values(pair: Pair) -> None:
    good = sparse_bytes(pair, 20)
    header, body = good[:16], good[16:]
    variants = [
        good + b"\x7f\xff",                 # registers past 16384 (an extra XZERO at the tail)
        good + b"\x80",                     # an extra VAL
        good + b"\x40",                     # a lone XZERO byte: its second byte is the NUL terminator
        header + body[:-1],                 # the last opcode cut short
        header + body[:-2],
        header,                             # no opcodes at all
        header + b"\x7f\xff" * 2,
        header + b"\x3f" * 256,             # 256 ZERO(64): exactly 16384, valid
        header + b"\x3f" * 255 + b"\x83\x83" + b"\x3b",   # VALs reaching past the end
        header + b"\xfc" * 4096,             # 16384 registers at 32 in VALs: valid, but too long
    ]
    for raw in variants:
        check_corrupted(pair, raw)


def test_corrupted_dense_values(pair: Pair) -> None:
    h = pair.key("h")
    add_and_compare(pair, h, elements("d", 6000))
    pair.check("PFDEBUG", "TODENSE", h)
    good = pair.ref.conn.call("GET", h)
    for raw in (good[:-1], good + b"\x00", good[:16] + b"\xff" * 12288, good[:16] + b"\x3f" * 12288):
        check_corrupted(pair, raw)


def pack_registers(registers: list[int]) -> bytes:
    """Dense register bytes: register i in bits 6i..6i+5 of a little-endian number."""
    number = 0
    for i, value in enumerate(registers):
        number |= value << (6 * i)
    return number.to_bytes(12288, "little")


def test_hand_made_dense_values_with_high_registers(pair: Pair) -> None:
    """Registers at 51 (HLL_Q + 1) bring in the tau correction, higher ones count for
    nothing; every register at 51 or more makes Redis divide by zero."""
    h = pair.key("h")
    header = b"HYLL" + bytes(11) + b"\x80"
    rng = random.Random(3)
    # Only where the registers below 51 are few and high does tau weigh in the estimate
    # without it overflowing: [51] * 40 + [40] is such a mix.
    for mix in ([51], [51, 52, 63], [0, 51], [1, 2, 3, 51], [50], [50, 51], [0, 63], [5, 6, 7, 8, 51, 51, 51],
                [51] * 40 + [40], [51] * 10 + [38, 45], [51, 63] * 20 + [36, 37]):
        registers = [rng.choice(mix) for _ in range(16384)]
        pair.run(["SET", h, header + pack_registers(registers)], ["PFCOUNT", h], ["GET", h], ["PFCOUNT", h, h],
                 ["PFADD", h, "x"], ["PFCOUNT", h])


@pytest.mark.parametrize("seed", range(3))
def test_fuzzed_sparse_values(pair: Pair, seed: int) -> None:
    """Random bytes flipped in sparse values: errors where Redis errs, Redis's results where not."""
    rng = random.Random(seed)
    good = sparse_bytes(pair, rng.choice([5, 50, 400]))
    for _ in range(15):
        raw = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(16, len(raw))] = rng.randrange(256)
        check_corrupted(pair, bytes(raw))


def test_pfselftest(pair: Pair) -> None:
    pair.check("PFSELFTEST")


def test_replies_are_errors_not_crashes(pair: Pair) -> None:
    """After all of the above on one connection, the server still answers."""
    assert not isinstance(pair.ours.conn.call("PING"), RespError)
