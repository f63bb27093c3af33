"""In-process tests of the HyperLogLog representation code (engine/types/hyperloglog.py).

The fast paths are checked against slow, obvious versions: the bisect-based sparse
update against the byte-level one that follows Redis's scan (which the differential
tests check against the reference), the vectorised dense (un)packing and register
maxima against per-register loops. Plus: the promotion of a register above 32, the
decoded-opcode cache, and time bounds that catch an accidental per-register Python loop.
"""

from __future__ import annotations

import random
import time
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from specredis.engine.core import Engine
from specredis.engine.types import hyperloglog as hll

updates = st.lists(st.tuples(st.integers(0, hll.HLL_REGISTERS - 1), st.integers(1, 32)), max_size=300)


def naive_registers(value: bytes) -> list[int]:
    """Registers of a dense value, one at a time: bits 6i..6i+5 of the register bytes read
    as one little-endian number."""
    bits = "".join(f"{byte:08b}"[::-1] for byte in value[hll.HLL_HDR_SIZE:])     # least significant first
    return [int(bits[6 * i:6 * i + 6][::-1], 2) for i in range(hll.HLL_REGISTERS)]


def naive_sparse(value: bytes) -> list[int] | None:
    registers: list[int] = []
    body = value[hll.HLL_HDR_SIZE:]
    i = 0
    while i < len(body):
        code = body[i]
        if code & 0x80:
            registers += [((code >> 2) & 31) + 1] * ((code & 3) + 1)
            i += 1
        elif code & 0x40:
            registers += [0] * (((code & 63) << 8 | body[i + 1]) + 1)
            i += 2
        else:
            registers += [0] * ((code & 63) + 1)
            i += 1
    return registers if len(registers) == hll.HLL_REGISTERS else None


@settings(max_examples=100, deadline=None)
@given(updates=updates, max_bytes=st.sampled_from([0, 40, 300, 3000]))
def test_sparse_update_paths_agree(updates: list[tuple[int, int]], max_bytes: int) -> None:
    fast, slow = bytearray(hll.EMPTY_HLL), bytearray(hll.EMPTY_HLL)
    fast_changes = hll.add_registers(fast, updates, max_bytes)
    slow_changes = byte_level_add(slow, updates, max_bytes)
    assert fast == slow
    assert fast_changes == slow_changes
    expected = [0] * hll.HLL_REGISTERS
    for index, count in updates:
        expected[index] = max(expected[index], count)
    got = naive_registers(fast) if fast[4] == hll.HLL_DENSE else naive_sparse(bytes(fast))
    assert got == expected
    assert list(hll.registers_of(fast)) == expected
    counts = Counter(expected)
    assert hll.count_value(fast) == hll.estimate([counts[v] for v in range(64)])


def byte_level_add(value: bytearray, updates: list[tuple[int, int]], max_bytes: int) -> int:
    """add_registers through hllSparseSet's byte-level scan only (the reference of the fast
    path), with the byte past the value's end as Redis keeps it, and the cached cardinality
    flagged invalid by every sparse update that changed a register."""
    changed = 0
    terminator = [0]
    for index, count in updates:
        if value[4] == hll.HLL_DENSE:
            changed += hll.dense_set(value, index, count)
            continue
        result = hll._sparse_set_bytes(value, index, count, max_bytes, terminator)
        if result == -1:
            return -1
        if result == -2:
            if not hll.to_dense(value, terminator[0]):
                return -1
            result = hll.dense_set(value, index, count)
        elif result == 1:
            hll.invalidate_cache(value)
        changed += result
    return changed


@settings(max_examples=100, deadline=None)
@given(updates=updates, max_bytes=st.sampled_from([0, 40, 300, 3000, 100_000]),
       tail=st.lists(st.sampled_from([b"\x00", b"\x3f", b"\x40\x00", b"\x7f\xff", b"\x80", b"\xfc", b"\x83"]),
                     min_size=1, max_size=200))
def test_sparse_paths_agree_on_values_covering_too_many_registers(updates: list[tuple[int, int]], max_bytes: int,
                                                                   tail: list[bytes]) -> None:
    """Opcodes past the 16384th register (a corrupted value): the opcode-list path keeps them
    as the byte-level scan does, and both fail the same way when the value must go dense."""
    start = bytearray(hll.EMPTY_HLL + b"".join(tail))
    fast, slow = bytearray(start), bytearray(start)
    assert hll.add_registers(fast, updates, max_bytes) == byte_level_add(slow, updates, max_bytes)
    assert fast == slow


@settings(max_examples=150, deadline=None)
@given(updates=updates, max_bytes=st.sampled_from([0, 40, 300, 3000, 100_000]),
       body=st.lists(st.sampled_from([b"\x00", b"\x07", b"\x3f", b"\x40\x00", b"\x40\xff", b"\x5f\xff",
                                      b"\x7f\xff", b"\x80", b"\xfc", b"\x83", b"\x9d"]), max_size=300),
       lone=st.sampled_from([b"", b"", b"\x40", b"\x41", b"\x5f", b"\x7f"]))
def test_sparse_paths_agree_on_any_opcodes(updates: list[tuple[int, int]], max_bytes: int, body: list[bytes],
                                           lone: bytes) -> None:
    """Opcodes covering any number of registers, maybe ending with a lone XZERO byte (read
    with the terminator as its second byte): the opcode-list path gives the byte-level
    scan's results, failures and bytes."""
    start = bytearray(hll.EMPTY_HLL[:16] + b"".join(body) + lone)
    fast, slow = bytearray(start), bytearray(start)
    assert hll.add_registers(fast, updates, max_bytes) == byte_level_add(slow, updates, max_bytes)
    assert fast == slow


def test_corrupted_values_claiming_many_registers_are_rejected_quickly() -> None:
    """An XZERO claims 16384 registers in 2 bytes: 100,000 of them are refused without
    expanding 1.6 billion registers."""
    body = b"\x7f\xff" * 100_000
    start = time.process_time()
    assert hll.sparse_registers(body) is None and hll.sparse_histogram(body) is None
    assert hll.add_registers(bytearray(hll.EMPTY_HLL[:16] + body), [(5, 3)], 3000) == -1
    assert time.process_time() - start < 1.0


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32), top=st.sampled_from([1, 5, 32, 63]))
def test_dense_packing_and_histograms(seed: int, top: int) -> None:
    rng = random.Random(seed)
    registers = [rng.randint(0, top) for _ in range(hll.HLL_REGISTERS)]
    value = bytearray(hll.HLL_DENSE_SIZE)
    for index in rng.sample(range(hll.HLL_REGISTERS), hll.HLL_REGISTERS):
        hll.dense_set(value, index, registers[index])
    assert naive_registers(bytes(value)) == registers
    assert [hll.dense_get(value, i) for i in range(hll.HLL_REGISTERS)] == registers
    assert list(hll.unpack_dense(value[hll.HLL_HDR_SIZE:])) == registers
    assert hll.pack_dense(bytes(registers)) == value[hll.HLL_HDR_SIZE:]
    counts = Counter(registers)
    assert hll.histogram_of_registers(bytes(registers)) == [counts[v] for v in range(64)]
    assert hll.dense_histogram(value[hll.HLL_HDR_SIZE:]) == [counts[v] for v in range(64)]
    other = [rng.randint(0, 63) for _ in range(hll.HLL_REGISTERS)]
    assert list(hll.max_registers(bytes(registers), bytes(other))) == [max(a, b) for a, b in zip(registers, other, strict=True)]


def test_a_register_above_32_promotes_a_sparse_value() -> None:
    value = bytearray(hll.EMPTY_HLL)
    assert hll.add_registers(value, [(5, 3), (100, 40), (7, 2), (100, 39)], 3000) == 3
    assert value[4] == hll.HLL_DENSE and len(value) == hll.HLL_DENSE_SIZE
    registers = naive_registers(bytes(value))
    assert (registers[5], registers[7], registers[100]) == (3, 2, 40)
    assert sum(registers) == 45


def test_murmurhash64a_block_and_tail_lengths() -> None:
    """Every tail length and several block counts, against a plain transcription."""
    def plain(data: bytes, seed: int = 0xADC83B19) -> int:
        m, mask = 0xC6A4A7935BD1E995, (1 << 64) - 1
        h = (seed ^ (len(data) * m)) & mask
        end = len(data) - len(data) % 8
        for i in range(0, end, 8):
            k = int.from_bytes(data[i:i + 8], "little")
            k = (k * m) & mask
            k ^= k >> 47
            k = (k * m) & mask
            h ^= k
            h = (h * m) & mask
        tail = data[end:]
        for j in reversed(range(len(tail))):
            h ^= tail[j] << (8 * j)
        if tail:
            h = (h * m) & mask
        h ^= h >> 47
        h = (h * m) & mask
        return h ^ (h >> 47)

    rng = random.Random(1)
    for length in [*range(0, 40), 63 * 8, 64 * 8, 64 * 8 + 5, 1000]:
        data = rng.randbytes(length)
        assert hll.murmurhash64a(data) == plain(data), length


def test_the_sparse_cache_never_serves_stale_opcodes() -> None:
    """A string write between two PFADDs changes the bytes: the cache must miss."""
    engine = Engine()
    client = engine.new_client()
    run = lambda *argv: engine.execute(client, [a if isinstance(a, bytes) else str(a).encode() for a in argv])  # noqa: E731
    run("PFADD", "h", *[f"e{i}" for i in range(200)])
    run("PFADD", "h", "more")
    cache = engine.extensions["hll_sparse_cache"]
    assert cache.entries
    run("SETRANGE", "h", 16, b"\x3f")             # ZERO(64) over the first opcode
    before = bytes(engine.databases[0].data[b"h"])
    run("PFADD", "h", "again", "and again")
    expected = bytearray(before)
    hll.add_registers(expected, [hll.element_register(b"again"), hll.element_register(b"and again")], 3000)
    expected[15] |= 0x80
    assert engine.databases[0].data[b"h"] == expected


def test_the_fast_paths_are_fast() -> None:
    """Generous bounds (CI machines are slow and shared): each would take several times
    longer with a Python loop per register or per byte."""
    engine = Engine()
    client = engine.new_client()
    engine.execute(client, [b"PFADD", b"dense", *[b"%d" % i for i in range(30000)]])
    engine.execute(client, [b"SET", b"bits", random.Random(0).randbytes(1 << 20)])
    value = engine.databases[0].data[b"dense"]
    assert value[4] == hll.HLL_DENSE

    def best_of(argv: list[bytes], repeat: int = 5) -> float:
        times = []
        for _ in range(repeat):
            value[15] |= 0x80         # invalidate the cached cardinality each time
            start = time.perf_counter()
            engine.execute(client, argv)
            times.append(time.perf_counter() - start)
        return min(times)

    assert best_of([b"PFCOUNT", b"dense"]) < 0.005
    assert best_of([b"PFCOUNT", b"dense", b"dense"]) < 0.01
    assert best_of([b"BITCOUNT", b"bits"]) < 0.01
    assert best_of([b"BITPOS", b"bits", b"1", b"100", b"-1"]) < 0.01
