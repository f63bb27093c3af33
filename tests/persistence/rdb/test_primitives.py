"""The RDB format primitives, in process: CRC64, LZF, lengths, strings, packed encodings,
and whole-dataset round trips through an Engine (write_rdb, then RdbLoader)."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specredis.engine.core import Engine
from specredis.engine.debug import dataset_digest
from specredis.engine.objects import object_encoding
from specredis.engine.persistence import lzf, rdb
from specredis.engine.persistence.rdb_load import RdbLoader, load_dump_payload
from specredis.engine.persistence.rdb_save import dump_payload, write_rdb
from specredis.engine.persistence.snapshot import EngineSink, state


def test_crc64_is_redis_crc64_jones() -> None:
    # The check value of Redis's crc64.c test ("123456789").
    assert rdb.crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert rdb.py_crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    data = random.Random(1).randbytes(5000)
    assert rdb.crc64(data) == rdb.py_crc64(data)
    assert rdb.crc64(data[2000:], rdb.crc64(data[:2000])) == rdb.crc64(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_lzf_implementations_agree(data: bytes) -> None:
    for packed in (lzf.compress(data, len(data) + 64), lzf.py_compress(data, len(data) + 64) if data else None):
        if packed is not None:
            assert lzf.decompress(packed, len(data)) == data
            assert lzf.py_decompress(packed, len(data)) == data


def test_lzf_refuses_bad_streams() -> None:
    packed = lzf.compress(b"hello hello hello hello hello", 100)
    for bad, size in ((packed, 10), (packed[:-2], 29), (b"\xff\xff", 10), (b"\x00", 10**9)):
        with pytest.raises(lzf.LzfError):
            lzf.decompress(bad, size)
        with pytest.raises(lzf.LzfError):
            lzf.py_decompress(bad, size)


@pytest.mark.parametrize("length", [0, 1, 63, 64, 16383, 16384, 2**32 - 1, 2**32, 2**63])
def test_lengths_round_trip(length: int) -> None:
    encoded = rdb.encode_length(length)
    reader = rdb.RdbReader(encoded)
    assert reader.length() == length and reader.pos == len(encoded)


@pytest.mark.parametrize("value,expected", [
    (b"0", b"\xc0\x00"), (b"-128", b"\xc0\x80"), (b"128", b"\xc1\x80\x00"), (b"-32769", b"\xc2\xff\x7f\xff\xff"),
    (b"2147483648", b"\x0a2147483648"), (b"007", b"\x03007"), (b"-0", b"\x02-0"), (b"", b"\x00"),
])
def test_strings_use_redis_integer_encodings(value: bytes, expected: bytes) -> None:
    assert rdb.encode_string(value) == expected
    assert rdb.RdbReader(expected).string() == value


def test_long_strings_are_lzf_compressed_only_when_it_pays() -> None:
    compressible = b"abc" * 50
    encoded = rdb.encode_string(compressible)
    assert encoded[0] == 0xC3 and len(encoded) < len(compressible)
    assert rdb.RdbReader(encoded).string() == compressible
    incompressible = random.Random(2).randbytes(100)
    assert rdb.encode_string(incompressible) == rdb.encode_length(100) + incompressible
    assert rdb.encode_string(compressible, compress=False) == rdb.encode_length(150) + compressible


elements = st.one_of(st.binary(max_size=70), st.integers(-2**63, 2**63 - 1),
                     st.binary(min_size=4000, max_size=4200))


@settings(max_examples=150, deadline=None)
@given(st.lists(elements, max_size=40))
def test_listpack_round_trips_with_deep_checks(items: list) -> None:
    blob = rdb.listpack_encode(items)
    decoded = rdb.listpack_decode(blob, deep=True)
    assert [rdb.as_bytes(x) for x in decoded] == [x if type(x) is bytes else b"%d" % x for x in items]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=300), st.integers(-2**63, 2**63 - 1)), max_size=30))
def test_ziplist_round_trips(items: list) -> None:
    decoded = rdb.ziplist_decode(rdb.ziplist_encode(items), deep=True)
    assert [rdb.as_bytes(x) for x in decoded] == [x if type(x) is bytes else b"%d" % x for x in items]


@given(st.sets(st.integers(-2**63, 2**63 - 1), max_size=50))
def test_intset_round_trips(members: set) -> None:
    assert rdb.intset_decode(rdb.intset_encode(members), deep=True) == sorted(members)


def test_zipmap_round_trips() -> None:
    pairs = [(b"f", b"v"), (b"long", b"x" * 300), (b"", b"")]
    assert rdb.zipmap_decode(rdb.zipmap_encode(pairs)) == pairs


def test_corrupt_listpacks_are_refused() -> None:
    blob = bytearray(rdb.listpack_encode([b"abc", 5, b"x" * 200]))
    for position in range(len(blob)):
        broken = bytearray(blob)
        broken[position] ^= 0xFF
        try:
            decoded = rdb.listpack_decode(bytes(broken), deep=True)
        except rdb.RdbError:
            continue
        assert len(decoded) == 3        # a flip inside string content decodes, structure never lies


def _engine_with_data() -> Engine:
    engine = Engine()
    client = engine.new_client()
    commands = [
        ["SET", "s", "hello"], ["SET", "i", "42"], ["SET", "big", "z" * 500], ["APPEND", "big", "!"],
        ["RPUSH", "l", *[str(i) for i in range(3000)]], ["SADD", "si", "1", "2", "3"],
        ["SADD", "ss", "a", "b"], ["ZADD", "z", "1", "a", "2", "b"], ["HSET", "h", "f", "v\x00\x01\x02"],
        ["XADD", "x", "1-1", "f", "v"], ["XADD", "x", "2-2", "g", "w"], ["XGROUP", "CREATE", "x", "grp", "0"],
        ["XREADGROUP", "GROUP", "grp", "c", "COUNT", "1", "STREAMS", "x", ">"], ["SELECT", "3"],
        ["SET", "other-db", "1"], ["PEXPIREAT", "other-db", "4000000000000"],
    ]
    for command in commands:
        engine.execute(client, [part.encode() for part in command])
    return engine


def test_a_dataset_round_trips_in_process() -> None:
    source = _engine_with_data()
    handle = io.BytesIO()
    assert write_rdb(source, handle) == 10
    target = Engine()
    report = RdbLoader(handle.getvalue(), EngineSink(target, state(target)), config=target.config).run()
    assert report.keys_loaded == 10 and report.checksum == "ok"
    assert dataset_digest(target) == dataset_digest(source)
    for db_source, db_target in zip(source.databases, target.databases, strict=True):
        assert db_source.expires == db_target.expires
        for key, value in db_source.data.items():
            expected = object_encoding(value)
            if expected == "raw" and len(value) <= 44:
                expected = "embstr"         # loading makes short strings embstr, as in Redis
            assert object_encoding(db_target.data[key]) == expected


def test_dump_payloads_round_trip_in_process() -> None:
    source = _engine_with_data()
    for key, value in source.databases[0].data.items():
        payload = dump_payload(value, source.config)
        copy = load_dump_payload(payload, source.config, deep=True)
        assert dump_payload(copy, source.config) == payload, key
