"""Bitmap commands, differentially: the same commands to specredis and to Redis 7.0.15, RESP2 and RESP3.

Every reply -- integers, arrays with nulls, error texts -- must be identical, and so
must the strings the commands leave behind (GET, STRLEN, OBJECT ENCODING, DEBUG
DIGEST-VALUE): bitmaps are strings, and the string commands see the same bytes.
"""

from __future__ import annotations

from lists.differential import Pair

OFFSET_ERROR = "bit offset is not an integer or out of range"


def check_string(pair: Pair, key: bytes) -> None:
    """The string at ``key`` is byte-identical on both servers, with the same encoding."""
    pair.run(["GET", key], ["STRLEN", key], ["OBJECT", "ENCODING", key], ["DEBUG", "DIGEST-VALUE", key])


def test_setbit_getbit(pair: Pair) -> None:
    k, missing = pair.key("k"), pair.key("missing")
    pair.run(
        ["SETBIT", k, 7, 1], ["SETBIT", k, 7, 1], ["SETBIT", k, 7, 0], ["SETBIT", k, 0, 1], ["SETBIT", k, 100, 1],
        ["GETBIT", k, 0], ["GETBIT", k, 1], ["GETBIT", k, 100], ["GETBIT", k, 101], ["GETBIT", k, 10000],
        ["GETBIT", missing, 0], ["GETBIT", missing, 4294967295], ["EXISTS", missing],
    )
    check_string(pair, k)
    # Bits and strings are the same bytes: '`' is 0x60, 'a' is 0x61.
    s = pair.key("s")
    pair.run(["SET", s, "`"], ["SETBIT", s, 7, 1], ["GET", s], ["APPEND", s, "b"], ["SETBIT", s, 15, 1],
             ["SETRANGE", s, 4, "z"], ["GETBIT", s, 33], ["SETBIT", s, 1, 0], ["SET", s, 1234], ["SETBIT", s, 2, 1],
             ["GETBIT", s, 2], ["INCR", s])
    check_string(pair, s)


def test_setbit_keeps_ttl_and_makes_a_raw_string(pair: Pair) -> None:
    k = pair.key("k")
    pair.run(["SET", k, "ab", "EX", 1000], ["OBJECT", "ENCODING", k], ["SETBIT", k, 0, 0], ["OBJECT", "ENCODING", k])
    expected, actual = pair.both("TTL", k)
    assert actual > 990 and expected > 990
    pair.run(["SET", k, 12], ["OBJECT", "ENCODING", k], ["GETBIT", k, 3], ["OBJECT", "ENCODING", k],
             ["SETBIT", k, 3, 1], ["GET", k], ["OBJECT", "ENCODING", k])


def test_setbit_getbit_errors(pair: Pair) -> None:
    k, lst = pair.key("k"), pair.key("list")
    pair.run(
        ["SETBIT", k, -1, 1], ["SETBIT", k, 4294967296, 1], ["SETBIT", k, "9223372036854775807", 1],
        ["SETBIT", k, "x", 1], ["SETBIT", k, "1.5", 1], ["SETBIT", k, " 1", 1], ["SETBIT", k, "#1", 1],
        ["SETBIT", k, 1, 2], ["SETBIT", k, 1, -1], ["SETBIT", k, 1, "x"], ["SETBIT", k, 1, ""], ["SETBIT", k, 1, "01"],
        ["SETBIT", k, "x", "x"], ["GETBIT", k, -1], ["GETBIT", k, 4294967296], ["GETBIT", k, "x"], ["EXISTS", k],
        ["SETBIT", k], ["GETBIT", k], ["GETBIT", k, 1, 2], ["SETBIT", k, 1, 1, 1],
        ["RPUSH", lst, "x"], ["SETBIT", lst, 1, 1], ["GETBIT", lst, 1], ["GETBIT", lst, -1], ["SETBIT", lst, -1, 1],
    )


def test_offset_limit_follows_proto_max_bulk_len(pair: Pair) -> None:
    """The last bit is below 8 * proto-max-bulk-len (512MB by default: 2**32 bits); checked
    at 1MB so that no server allocates 512MB."""
    k = pair.key("k")
    pair.run(["CONFIG", "SET", "proto-max-bulk-len", "1mb"])
    try:
        pair.run(["SETBIT", k, 8 * 1048576, 1], ["SETBIT", k, 8 * 1048576 - 1, 1], ["STRLEN", k],
                 ["GETBIT", k, 8 * 1048576], ["BITFIELD", k, "SET", "u8", 8 * 1048576 - 8, 255],
                 ["BITFIELD", k, "SET", "u8", 8 * 1048576 - 7, 1], ["BITFIELD", k, "GET", "u8", "#1048576"],
                 ["BITFIELD", k, "GET", "u8", "#1048575"], ["BITCOUNT", k], ["BITPOS", k, 1, -1])
    finally:
        pair.run(["CONFIG", "SET", "proto-max-bulk-len", "512mb"])


def test_bitcount(pair: Pair) -> None:
    k, missing, lst, empty = pair.key("k"), pair.key("missing"), pair.key("list"), pair.key("empty")
    pair.run(["SET", k, "foobar"], ["BITCOUNT", k], ["BITCOUNT", k, 0, 0], ["BITCOUNT", k, 1, 1],
             ["BITCOUNT", k, 1, 1, "BYTE"], ["BITCOUNT", k, 5, 30, "BIT"], ["BITCOUNT", k, -1, -1],
             ["BITCOUNT", k, -2, -1, "bit"], ["BITCOUNT", k, 0, -1, "BiT"], ["BITCOUNT", k, -100, 100],
             ["BITCOUNT", k, 3, 1], ["BITCOUNT", k, -1, -3], ["BITCOUNT", k, 7, 7, "BIT"],
             ["BITCOUNT", k, 0, "9223372036854775807", "BIT"], ["BITCOUNT", k, "-9223372036854775808", -1, "BIT"],
             ["BITCOUNT", missing], ["BITCOUNT", missing, 0, 1], ["BITCOUNT", missing, "x", "y"],
             ["BITCOUNT", missing, 1], ["APPEND", empty, ""], ["BITCOUNT", empty], ["BITCOUNT", empty, 0, -1],
             ["BITCOUNT", empty, 0, -1, "BIT"])
    # Errors: a range needs both ends, the unit must be BYTE or BIT; the key is looked up first.
    pair.run(["BITCOUNT", k, 1], ["BITCOUNT", k, 1, 2, 3], ["BITCOUNT", k, "x", 1], ["BITCOUNT", k, 1, "x"],
             ["BITCOUNT", k, 1, 2, "bits"], ["BITCOUNT", k, 1, 2, "BIT", "x"], ["BITCOUNT", k, "x", "y", "z"],
             ["BITCOUNT"], ["RPUSH", lst, "x"], ["BITCOUNT", lst], ["BITCOUNT", lst, "x", "y"])


def test_bitpos(pair: Pair) -> None:
    k, missing, empty = pair.key("k"), pair.key("missing"), pair.key("empty")
    # A missing key is all zeros; an existing one continues with zeros only if no end is given.
    pair.run(["BITPOS", missing, 0], ["BITPOS", missing, 1], ["BITPOS", missing, 0, 5, 9, "BIT"],
             ["BITPOS", missing, 1, 0, -1], ["APPEND", empty, ""], ["BITPOS", empty, 0], ["BITPOS", empty, 1],
             ["BITPOS", empty, 0, 0, -1, "BIT"])
    for value in ("\xff\xff\xff", "\x00\x00\x00", "\xff\xf0\x00", "\x00\x0f\xff", "\x00\x00\x01", "\xfe\xff\xff"):
        pair.check("SET", k, value.encode("latin-1"))
        for bit in (0, 1):
            pair.run(["BITPOS", k, bit], ["BITPOS", k, bit, 0], ["BITPOS", k, bit, 1], ["BITPOS", k, bit, -1],
                     ["BITPOS", k, bit, 0, -1], ["BITPOS", k, bit, 1, 1], ["BITPOS", k, bit, 2, 100],
                     ["BITPOS", k, bit, 3, 21, "BIT"], ["BITPOS", k, bit, 7, 8, "BIT"], ["BITPOS", k, bit, 0, -1, "BIT"],
                     ["BITPOS", k, bit, -3, -1, "bit"], ["BITPOS", k, bit, 9, 9, "BIT"], ["BITPOS", k, bit, 5, 2],
                     ["BITPOS", k, bit, 23, 23, "BIT"], ["BITPOS", k, bit, 20, 100, "BIT"],
                     ["BITPOS", k, bit, -100, -90], ["BITPOS", k, bit, 0, 0, "BYTE"])


def test_bitpos_errors(pair: Pair) -> None:
    k, lst = pair.key("k"), pair.key("list")
    pair.run(["SET", k, "\x0f"], ["BITPOS", k, 2], ["BITPOS", k, -1], ["BITPOS", k, "x"], ["BITPOS", k, "1.0"],
             ["BITPOS", pair.key("missing"), 2], ["BITPOS", k, 1, "x"], ["BITPOS", k, 1, 0, "x"],
             ["BITPOS", k, 1, 0, 1, "bits"], ["BITPOS", k, 1, 0, 1, "BIT", "x"], ["BITPOS", k, 1, "x", 1, "BIT"],
             ["BITPOS", k], ["RPUSH", lst, "x"], ["BITPOS", lst, 1], ["BITPOS", lst, 2])


def test_bitop(pair: Pair) -> None:
    a, b, c, dest, lst = pair.key("a"), pair.key("b"), pair.key("c"), pair.key("dest"), pair.key("list")
    pair.run(["SET", a, "foobar"], ["SET", b, "abcdef"], ["SET", c, "\xff\x00"])
    for op in ("AND", "OR", "XOR", "and", "Or"):
        pair.run(["BITOP", op, dest, a, b, c], ["GET", dest], ["BITOP", op, dest, a], ["GET", dest],
                 ["BITOP", op, dest, pair.key("missing"), a], ["GET", dest], ["OBJECT", "ENCODING", dest])
    pair.run(["BITOP", "NOT", dest, a], ["GET", dest], ["BITOP", "NOT", dest, dest], ["GET", dest],
             ["SET", dest, "x", "EX", 1000], ["BITOP", "AND", dest, a, b], ["TTL", dest],
             ["SET", pair.key("int"), 12345], ["BITOP", "XOR", dest, pair.key("int"), a], ["GET", dest])
    # An empty result deletes the destination.
    pair.run(["BITOP", "OR", dest, pair.key("missing"), pair.key("missing2")], ["EXISTS", dest],
             ["BITOP", "NOT", dest, pair.key("missing")], ["APPEND", pair.key("e"), ""],
             ["SET", dest, "x"], ["BITOP", "AND", dest, pair.key("e")], ["EXISTS", dest],
             ["RPUSH", lst, "x"], ["BITOP", "AND", lst, a], ["TYPE", lst], ["GET", lst])
    pair.run(["BITOP", "NOT", dest, a, b], ["BITOP", "NAND", dest, a], ["BITOP", "AND", dest, a, lst],
             ["BITOP", "AND", dest], ["BITOP", "AND"], ["BITOP", "and\x00x", dest, a], ["BITOP", "", dest, a])


def test_bitfield(pair: Pair) -> None:
    k = pair.key("k")
    pair.run(
        ["BITFIELD", k, "SET", "i8", 0, 100, "GET", "i8", 0, "INCRBY", "i8", 0, 100, "GET", "u4", 0],
        ["BITFIELD", k, "INCRBY", "u2", 100, 1, "OVERFLOW", "SAT", "INCRBY", "u2", 102, 1],
        ["BITFIELD", k, "OVERFLOW", "FAIL", "INCRBY", "u2", 102, 5, "INCRBY", "i5", "#3", -20, "GET", "u2", 102],
        ["BITFIELD", k, "overflow", "wrap", "incrby", "i64", 0, "9223372036854775807", "get", "i64", 0],
        ["BITFIELD", k, "OVERFLOW", "SAT", "INCRBY", "i64", 0, "9223372036854775807", "INCRBY", "i64", 0,
         "-9223372036854775808", "INCRBY", "i64", 0, "-9223372036854775808"],
        ["BITFIELD", k, "SET", "u63", 1, "-1", "GET", "u63", 1, "OVERFLOW", "SAT", "SET", "u8", 3, -5, "GET", "u8", 3],
        ["BITFIELD", k, "OVERFLOW", "FAIL", "SET", "i3", "#2", 4, "SET", "u3", 2, 8, "GET", "i3", "#2"],
        ["BITFIELD", k, "SET", "i1", 5, -1, "GET", "i1", 5, "GET", "u1", 5, "SET", "i1", 5, 1],
        ["BITFIELD", k, "GET", "u8", 1000, "GET", "i64", "#200"], ["BITFIELD", k], ["GET", k],
        ["BITFIELD", pair.key("missing"), "GET", "i16", 3], ["EXISTS", pair.key("missing")],
        ["BITFIELD_RO", k, "GET", "u8", 0, "GET", "i8", "#1"], ["BITFIELD_RO", k],
        ["BITFIELD", pair.key("fail"), "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 8], ["GET", pair.key("fail")],
    )
    check_string(pair, k)


def test_bitfield_errors(pair: Pair) -> None:
    k, lst = pair.key("k"), pair.key("list")
    pair.run(
        ["BITFIELD", k, "GET", "u64", 0], ["BITFIELD", k, "GET", "i65", 0], ["BITFIELD", k, "GET", "I8", 0],
        ["BITFIELD", k, "GET", "u0", 0], ["BITFIELD", k, "GET", "i", 0], ["BITFIELD", k, "GET", "i08", 0],
        ["BITFIELD", k, "GET", "x8", 0], ["BITFIELD", k, "GET", "", 0], ["BITFIELD", k, "GET", "i8", -1],
        ["BITFIELD", k, "GET", "i8", "#-1"], ["BITFIELD", k, "GET", "i8", "4294967296"],
        ["BITFIELD", k, "GET", "i8", "#536870912"], ["BITFIELD", k, "GET", "i8", "#9223372036854775807"],
        ["BITFIELD", k, "GET", "i8", "#1152921504606846976"], ["BITFIELD", k, "GET", "i8", "##1"],
        ["BITFIELD", k, "GET", "i8", "x"], ["BITFIELD", k, "GET", "i8"], ["BITFIELD", k, "SET", "i8", 0],
        ["BITFIELD", k, "SET", "i8", 0, "x"], ["BITFIELD", k, "INCRBY", "i8", 0, "1.5"],
        ["BITFIELD", k, "SET", "i8", 0, "9223372036854775808"], ["BITFIELD", k, "OVERFLOW", "foo"],
        ["BITFIELD", k, "OVERFLOW"], ["BITFIELD", k, "FOO"], ["BITFIELD", k, "GET", "i8", 0, "SET"],
        ["BITFIELD", k, "SET", "i8", 0, 1, "GET", "u64", 0], ["EXISTS", k],
        ["BITFIELD_RO", k, "SET", "i8", 0, 1], ["BITFIELD_RO", k, "INCRBY", "i8", 0, 1, "GET", "i9", 0],
        ["BITFIELD_RO", k, "OVERFLOW", "SAT"], ["BITFIELD_RO", k, "GET", "u64", 0, "SET", "i8", 0, 1],
        ["EXISTS", k], ["BITFIELD"],
        ["RPUSH", lst, "x"], ["BITFIELD", lst, "GET", "u8", 0], ["BITFIELD", lst, "SET", "u8", 0, 1],
        ["BITFIELD_RO", lst, "GET", "u8", 0], ["BITFIELD", lst], ["BITFIELD", lst, "GET", "u64", 0],
    )


def test_bitmaps_in_one_dataset_digest(pair: Pair) -> None:
    """DEBUG DIGEST-VALUE over strings built only with bit commands."""
    a, b, d = pair.key("a"), pair.key("b"), pair.key("d")
    for i in range(0, 400, 7):
        pair.check("SETBIT", a, i, 1)
    pair.run(["BITFIELD", b, "SET", "u16", "#5", 65535, "INCRBY", "i7", 3, -3], ["BITOP", "XOR", d, a, b])
    pair.run(["DEBUG", "DIGEST-VALUE", a, b, d], ["BITCOUNT", d], ["BITPOS", d, 0, 2])
