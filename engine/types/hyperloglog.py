"""HyperLogLog commands (hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.

A HyperLogLog is a string value in Redis's own format, byte for byte, so that GET,
copies between servers (SET of the bytes) and DEBUG DIGEST agree with Redis:

* a 16-byte header: ``HYLL``, the encoding byte (0 dense, 1 sparse), 3 unused bytes,
  and the cached cardinality as 8 little-endian bytes whose most significant bit
  flags the cache as invalid (PFADD/PFMERGE set it, a single-key PFCOUNT rewrites
  the 8 bytes);
* **dense**: 16384 registers of 6 bits, packed little-endian (register ``i`` is bits
  ``6i .. 6i+5`` of the 12288 bytes read as one little-endian number);
* **sparse**: run-length opcodes -- ZERO ``00xxxxxx`` (1..64 zero registers), XZERO
  ``01xxxxxx yyyyyyyy`` (1..16384 zero registers) and VAL ``1vvvvvxx`` (1..4
  registers of value 1..32). A sparse value is promoted to dense when it would grow
  past ``hll-sparse-max-bytes`` or needs a register above 32.

Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the
register, the run of zero bits above them (plus one) is the candidate value. The
estimate is Redis 7.0's (Ertl's improved estimator with the tau/sigma series),
computed in the same double-precision steps so that it is identical to Redis's.

Speed, in pure Python: sparse values are tokenised into opcodes by one regular
expression and updated through a list of opcodes with their first-register indexes
(bisect instead of Redis's linear scan, same result); the decoded opcodes of the last
sparse values PFADD touched are kept (:class:`SparseCache`, checked against the bytes).
Dense registers are unpacked, packed and merged with big-integer lane arithmetic on
stride-3 slices, and counted with bytes.count, rather than a loop per register.
Values that are not well-formed (opcodes that do not cover exactly 16384 registers,
a truncated last opcode) get Redis's results too: updates through the same opcode
list, the byte-level code that follows Redis's scan for an update of a truncated last
opcode (reading the byte past the string's end where Redis reads it), and no work in
proportion to the registers a corrupted value claims to have.
"""

from __future__ import annotations

import itertools
import math
import re
import struct
from bisect import bisect_right
from collections import Counter
from typing import Any

from specredis.engine.client import Client
from specredis.engine.core import NOTIFY_STRING
from specredis.engine.errors import RedisError, WrongTypeError
from specredis.engine.keyspace import Database
from specredis.protocol.replies import OK, Status

# -- format constants (hyperloglog.c) ---------------------------------------------------------

HLL_P = 14                          # register index bits
HLL_Q = 64 - HLL_P                  # bits left for the run of zeros
HLL_REGISTERS = 1 << HLL_P          # 16384
HLL_P_MASK = HLL_REGISTERS - 1
HLL_BITS = 6
HLL_REGISTER_MAX = (1 << HLL_BITS) - 1
HLL_HDR_SIZE = 16
HLL_DENSE_BYTES = HLL_REGISTERS * HLL_BITS // 8     # 12288
HLL_DENSE_SIZE = HLL_HDR_SIZE + HLL_DENSE_BYTES     # 12304
HLL_DENSE = 0
HLL_SPARSE = 1
HLL_MAX_ENCODING = 1
HLL_ALPHA_INF = 0.721347520444481703680             # 1 / (2 ln 2)

SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
SPARSE_XZERO_MAX_LEN = 16384

MAGIC = b"HYLL"
INVALID_HLL = "INVALIDOBJ Corrupted HLL object detected"
NOT_AN_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."

# An empty HLL: a sparse header with a valid cached cardinality of 0, one XZERO of 16384.
EMPTY_HLL = MAGIC + bytes([HLL_SPARSE]) + bytes(11) + b"\x7f\xff"

# -- MurmurHash64A ----------------------------------------------------------------------------

_M = 0xC6A4A7935BD1E995
_MASK64 = (1 << 64) - 1
HLL_SEED = 0xADC83B19
_BLOCKS = [struct.Struct(f"<{n}Q").unpack_from for n in range(64)]


def murmurhash64a(data: bytes, seed: int = HLL_SEED) -> int:
    """Austin Appleby's MurmurHash64A of ``data``, 8-byte blocks read little-endian (as Redis)."""
    length = len(data)
    h = (seed ^ (length * _M)) & _MASK64
    nblocks = length >> 3
    if nblocks:
        blocks = _BLOCKS[nblocks](data) if nblocks < 64 else struct.unpack_from(f"<{nblocks}Q", data)
        for k in blocks:
            k = (k * _M) & _MASK64
            k ^= k >> 47
            h = ((h ^ ((k * _M) & _MASK64)) * _M) & _MASK64
    if length & 7:
        h = ((h ^ int.from_bytes(data[nblocks << 3:], "little")) * _M) & _MASK64
    h ^= h >> 47
    h = (h * _M) & _MASK64
    return h ^ (h >> 47)


def element_register(element: bytes) -> tuple[int, int]:
    """(register index, value) that ``element`` proposes (hllPatLen): the value is the
    position of the lowest set bit above the 14 index bits, counting from 1."""
    h = murmurhash64a(element)
    rest = (h >> HLL_P) | (1 << HLL_Q)
    return h & HLL_P_MASK, (rest & -rest).bit_length()


# -- the estimator ------------------------------------------------------------------------------


def _tau(x: float) -> float:
    """hllTau: the correction for registers at their maximum (Ertl)."""
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        d = 1 - x
        z -= d * d * y          # pow(1 - x, 2) * y: the compiler turns pow(.., 2) into a product
        if previous == z:
            return z / 3


def _sigma(x: float) -> float:
    """hllSigma: the correction for registers still at zero (Ertl)."""
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if previous == z:
            return z


LLROUND_INVALID = 1 << 63


def estimate(histogram: list[int]) -> int:
    """Redis 7.0's cardinality estimate from the histogram of register values (hllCount),
    as the uint64 Redis stores in the header.

    Register values above HLL_Q + 1 (possible only in hand-made dense values) count for
    nothing, as in Redis."""
    m = float(HLL_REGISTERS)
    z = m * _tau((m - histogram[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += histogram[j]
        z *= 0.5
    z += m * _sigma(histogram[0] / m)
    if z == 0.0:
        # Only hand-made dense values get here (every register at 51 or more): C divides
        # by zero, and llroundl(inf) is the x86 'invalid' result 0x8000000000000000.
        return LLROUND_INVALID
    e = HLL_ALPHA_INF * m * m / z
    if e >= 2.0 ** 63:
        return LLROUND_INVALID
    # llroundl: halves away from zero (e is never negative).
    whole = int(e)
    return whole + 1 if e - whole >= 0.5 else whole


def as_reply_integer(card: int) -> int:
    """The cardinality as Redis replies it: a uint64 sent as a signed 64-bit integer."""
    return card - (1 << 64) if card >= 1 << 63 else card


# -- dense registers ----------------------------------------------------------------------------
#
# Four registers fill three bytes exactly: r0 = b0 & 63, r1 = b0 >> 6 | (b1 & 15) << 2,
# r2 = b1 >> 4 | (b2 & 3) << 4, r3 = b2 >> 2. The bytes of each kind are taken with a
# stride-3 slice and read as one big integer with a byte per lane; shifts and per-lane
# masks then move all 4096 lanes at once (bits shifted into a neighbouring lane are
# masked off), without a Python loop per register.

_QUARTER = HLL_REGISTERS // 4       # 4096 groups of 4 registers / 3 bytes


def _lanes(byte: int) -> int:
    return int.from_bytes(bytes([byte]) * _QUARTER, "little")


_L03, _L0F, _L3F, _LC0, _LF0, _LFC = (_lanes(b) for b in (0x03, 0x0F, 0x3F, 0xC0, 0xF0, 0xFC))


def _dense_quarters(packed: bytes | bytearray | memoryview) -> tuple[bytes, bytes, bytes, bytes]:
    """Registers 4g, 4g+1, 4g+2 and 4g+3 (g = 0..4095) of packed dense registers, as four
    byte strings of 4096 registers each."""
    packed = bytes(packed)
    b0 = int.from_bytes(packed[0::3], "little")
    b1 = int.from_bytes(packed[1::3], "little")
    b2 = int.from_bytes(packed[2::3], "little")
    return ((b0 & _L3F).to_bytes(_QUARTER, "little"),
            (((b0 >> 6) & _L03) | ((b1 & _L0F) << 2)).to_bytes(_QUARTER, "little"),
            (((b1 >> 4) & _L0F) | ((b2 & _L03) << 4)).to_bytes(_QUARTER, "little"),
            ((b2 >> 2) & _L3F).to_bytes(_QUARTER, "little"))


def unpack_dense(packed: bytes | bytearray | memoryview) -> bytearray:
    """The 16384 registers of a dense value's 12288 register bytes, one byte each."""
    raw = bytearray(HLL_REGISTERS)
    raw[0::4], raw[1::4], raw[2::4], raw[3::4] = _dense_quarters(packed)
    return raw


def pack_dense(raw: bytes | bytearray) -> bytearray:
    """The 12288 packed register bytes of 16384 registers (each at most 63)."""
    raw = bytes(raw)
    r0 = int.from_bytes(raw[0::4], "little")
    r1 = int.from_bytes(raw[1::4], "little")
    r2 = int.from_bytes(raw[2::4], "little")
    r3 = int.from_bytes(raw[3::4], "little")
    packed = bytearray(HLL_DENSE_BYTES)
    packed[0::3] = (r0 | ((r1 << 6) & _LC0)).to_bytes(_QUARTER, "little")
    packed[1::3] = (((r1 >> 2) & _L0F) | ((r2 << 4) & _LF0)).to_bytes(_QUARTER, "little")
    packed[2::3] = (((r2 >> 4) & _L03) | ((r3 << 2) & _LFC)).to_bytes(_QUARTER, "little")
    return packed


def dense_get(value: bytes | bytearray, index: int) -> int:
    """Register ``index`` of a dense value (header included in ``value``)."""
    pos = index * HLL_BITS
    at = HLL_HDR_SIZE + (pos >> 3)
    shift = pos & 7
    word = value[at]
    if shift > 2:
        word |= value[at + 1] << 8
    return (word >> shift) & HLL_REGISTER_MAX


def dense_set(value: bytearray, index: int, count: int) -> int:
    """hllDenseSet: raise register ``index`` to ``count``; 1 if it changed, else 0."""
    pos = index * HLL_BITS
    at = HLL_HDR_SIZE + (pos >> 3)
    shift = pos & 7
    if shift > 2:
        word = value[at] | value[at + 1] << 8
        if (word >> shift) & HLL_REGISTER_MAX >= count:
            return 0
        word = (word & ~(HLL_REGISTER_MAX << shift)) | (count << shift)
        value[at] = word & 0xFF
        value[at + 1] = word >> 8
    else:
        word = value[at]
        if (word >> shift) & HLL_REGISTER_MAX >= count:
            return 0
        value[at] = (word & ~(HLL_REGISTER_MAX << shift) & 0xFF) | (count << shift)
    return 1


_SINGLE_BYTES = [bytes([v]) for v in range(256)]


def histogram_of_registers(raw: bytes | bytearray) -> list[int]:
    """How many registers hold each value 0..63 (registers in any order)."""
    if type(raw) is not bytes:
        raw = bytes(raw)
    histogram = [0] * 64
    left = len(raw)
    value = 0
    count = raw.count
    # One C count per value, lowest first; the few registers above the bulk are picked
    # out by deleting every lower value rather than counting 64 values one by one.
    while left > 64 and value < 64:
        found = count(_SINGLE_BYTES[value])
        histogram[value] = found
        left -= found
        value += 1
    if left and value < 64:
        for register in raw.translate(None, bytes(range(value))):
            histogram[register] += 1
    return histogram


def dense_histogram(packed: bytes | bytearray | memoryview) -> list[int]:
    """The register histogram of packed dense registers."""
    return histogram_of_registers(b"".join(_dense_quarters(packed)))


_LANE_HIGH = int.from_bytes(b"\x80" * HLL_REGISTERS, "little")
_LANE_ALL = (1 << (8 * HLL_REGISTERS)) - 1


def max_registers(a: bytes | bytearray, b: bytes | bytearray) -> bytearray:
    """The register-wise maximum of two register arrays (values below 128).

    One subtraction compares all 16384 lanes at once: with bit 7 set in every lane of a,
    lane ``a|128 - b`` keeps bit 7 exactly when a >= b, and never borrows from the next."""
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    ge = ((x | _LANE_HIGH) - y) & _LANE_HIGH
    mask = (ge >> 7) * 0xFF
    return bytearray(((x & mask) | (y & (mask ^ _LANE_ALL))).to_bytes(HLL_REGISTERS, "little"))


# -- sparse opcodes -------------------------------------------------------------------------

# One opcode per match: an XZERO lead byte with the byte after it, or any other single byte.
_OPCODE = re.compile(rb"[\x40-\x7f].|[\x00-\x3f\x80-\xff]", re.S)


def _span_of(op: bytes) -> int:
    first = op[0]
    if first & 0x80:
        return (first & 3) + 1
    if first & 0x40:
        return ((first & 0x3F) << 8 | op[1]) + 1
    return (first & 0x3F) + 1


# Registers covered by each possible opcode.
_SPAN: dict[bytes, int] = {bytes([b]): _span_of(bytes([b])) for b in range(256) if not 0x40 <= b < 0x80}
_SPAN.update({bytes([b, c]): _span_of(bytes([b, c])) for b in range(0x40, 0x80) for c in range(256)})


def val_op(value: int, run: int) -> bytes:
    """VAL: ``run`` (1..4) registers set to ``value`` (1..32)."""
    return bytes([0x80 | (value - 1) << 2 | (run - 1)])


def zero_op(run: int) -> bytes:
    """ZERO (run <= 64) or XZERO: ``run`` zero registers."""
    if run > SPARSE_ZERO_MAX_LEN:
        run -= 1
        return bytes([0x40 | run >> 8, run & 0xFF])
    return bytes([run - 1])


def tokenize_sparse(body: bytes | bytearray, terminator: int = 0) -> tuple[list[bytes], bool]:
    """The opcodes of a sparse body, and whether the last byte was a lone XZERO lead byte.
    Redis then reads its second byte past the end of the string: ``terminator``, the sds
    NUL terminator -- unless an earlier update of the value wrote there (see
    SparseRegisters)."""
    ops = _OPCODE.findall(body)
    if (ops and len(body) != sum(map(len, ops))) or (not ops and body):
        # The regex skips only a final lone XZERO byte.
        ops.append(bytes([body[-1], terminator]))
        return ops, True
    return ops, False


class SparseRegisters:
    """A sparse body as opcodes and their first registers, for updates in place.

    ``ops[i]`` covers registers ``starts[i] .. starts[i+1]-1``; for a well-formed value
    ``starts`` ends with 16384 (a corrupted one may cover fewer or more registers: updates
    past its end fail as in Redis, opcodes past the 16384th stay as they are). ``truncated``:
    the body ends with a lone XZERO byte, whose second byte Redis reads from the string's
    terminator; the last opcode then holds that NUL, which is not part of the value. ``size``
    is the byte size of the whole value (header included), which Redis compares with
    hll-sparse-max-bytes.

    The byte past the string's end is the NUL terminator, except that Redis, splitting a
    lone final XZERO byte as if it had two, copies the last byte of the new opcodes there;
    a later read of a final lone XZERO byte takes that byte. Any other change of length
    writes a NUL there again. So the last opcode of a truncated value holds that byte
    (:attr:`terminator`)."""

    __slots__ = ("ops", "starts", "size", "truncated")

    def __init__(self, ops: list[bytes], truncated: bool = False) -> None:
        self.ops = ops
        self.starts = list(itertools.accumulate(map(_SPAN.__getitem__, ops), initial=0))
        self.size = HLL_HDR_SIZE + sum(map(len, ops)) - truncated
        self.truncated = truncated

    def body(self) -> bytes:
        body = b"".join(self.ops)
        return body[:-1] if self.truncated else body

    @property
    def terminator(self) -> int:
        """The byte past the value's end (read by a final lone XZERO byte)."""
        return self.ops[-1][1] if self.truncated else 0

    def _new_terminator(self) -> None:
        # The string changed length: Redis wrote a NUL past its new end.
        if self.truncated and self.ops[-1][1]:
            self.ops[-1] = bytes([self.ops[-1][0], 0])
            self.starts[-1] = self.starts[-2] + _SPAN[self.ops[-1]]

    def set(self, index: int, count: int, max_bytes: int) -> int:
        """hllSparseSet: 1 if register ``index`` was raised to ``count``, 0 if it was already
        at least that, -2 if the value must be promoted to dense first, -1 if no opcode
        covers the register (a corrupted value); nothing changed on -2 and -1."""
        if count > SPARSE_VAL_MAX_VALUE:
            return -2
        ops = self.ops
        starts = self.starts
        if index >= starts[-1]:
            return -1
        i = bisect_right(starts, index) - 1
        if self.truncated and i == len(ops) - 1:
            return self._set_in_truncated_opcode(index, count, max_bytes)
        op = ops[i]
        code = op[0]
        first = starts[i]
        if code & 0x80:
            old = ((code >> 2) & 0x1F) + 1
            if old >= count:
                return 0
            if code & 3 == 0:                   # a VAL of one register: just raise it
                ops[i] = val_op(count, 1)
                self._merge(i)
                return 1
        elif code == 0:                         # a ZERO of one register
            ops[i] = val_op(count, 1)
            self._merge(i)
            return 1
        # Split the opcode around the register: at most XZERO-VAL-XZERO.
        last = starts[i + 1] - 1
        new_ops: list[bytes] = []
        new_starts: list[int] = []
        if code & 0x80:
            current = ((code >> 2) & 0x1F) + 1
            if index != first:
                new_ops.append(val_op(current, index - first))
                new_starts.append(first)
            new_ops.append(val_op(count, 1))
            new_starts.append(index)
            if index != last:
                new_ops.append(val_op(current, last - index))
                new_starts.append(index + 1)
        else:
            if index != first:
                new_ops.append(zero_op(index - first))
                new_starts.append(first)
            new_ops.append(val_op(count, 1))
            new_starts.append(index)
            if index != last:
                new_ops.append(zero_op(last - index))
                new_starts.append(index + 1)
        grow = sum(map(len, new_ops)) - len(op)
        if grow > 0 and self.size + grow > max_bytes:
            return -2
        ops[i:i + 1] = new_ops
        starts[i:i + 1] = new_starts
        self.size += grow
        self._new_terminator()
        self._merge(i)
        return 1

    def _set_in_truncated_opcode(self, index: int, count: int, max_bytes: int) -> int:
        # Redis splits the opcode as if it had its two bytes, and the value's end cuts the
        # last byte of the new sequence off: the byte-level code reproduces that, then the
        # opcodes are read again from the result.
        value = bytearray(HLL_HDR_SIZE) + self.body()
        terminator = [self.terminator]
        result = _sparse_set_bytes(value, index, count, max_bytes, terminator)
        if result == 1:
            ops, truncated = tokenize_sparse(memoryview(value)[HLL_HDR_SIZE:], terminator[0])
            self.__init__(ops, truncated)       # type: ignore[misc]
        return result

    def _merge(self, i: int) -> None:
        # Redis looks at up to 5 opcodes from the one before the change and merges adjacent
        # VALs of equal value whose runs fit in one VAL.
        ops = self.ops
        starts = self.starts
        p = i - 1 if i > 0 else 0
        budget = 5
        while p < len(ops) and budget:
            budget -= 1
            code = ops[p][0]
            if not code & 0x80:
                p += 1
                continue
            if p + 1 < len(ops):
                following = ops[p + 1][0]
                if following & 0x80 and (following ^ code) & 0x7C == 0:
                    run = (code & 3) + (following & 3) + 2
                    if run <= SPARSE_VAL_MAX_LEN:
                        ops[p] = bytes([(code & 0xFC) | (run - 1)])
                        del ops[p + 1]
                        del starts[p + 1]
                        self.size -= 1
                        self._new_terminator()
                        continue
            p += 1


class _Expansions(dict):
    """opcode -> the registers it stands for; XZERO expansions are made on demand (there
    are 16384 of them, up to 16 KB each)."""

    def __missing__(self, op: bytes) -> bytes:
        return bytes(_SPAN[op])


_EXPAND = _Expansions()
for _op, _span in _SPAN.items():
    if len(_op) == 1:
        _EXPAND[_op] = bytes([((_op[0] >> 2) & 0x1F) + 1]) * _span if _op[0] & 0x80 else bytes(_span)


def sparse_histogram(body: bytes | bytearray, terminator: int = 0) -> list[int] | None:
    """hllSparseRegHisto: the register histogram, or None if the opcodes do not cover
    exactly 16384 registers (a final lone XZERO byte is completed by ``terminator``, the
    byte past the string's end, as Redis reads it)."""
    ops, _ = tokenize_sparse(body, terminator)
    histogram = [0] * 64
    total = 0
    for op, times in Counter(ops).items():
        code = op[0]
        run = _SPAN[op] * times
        total += run
        if code & 0x80:
            histogram[((code >> 2) & 0x1F) + 1] += run
        else:
            histogram[0] += run
    return histogram if total == HLL_REGISTERS else None


def sparse_registers(body: bytes | bytearray, terminator: int = 0) -> bytes | None:
    """The registers of a sparse body (hllSparseToDense / hllMerge), or None if it is
    corrupted: its opcodes do not cover exactly 16384 registers (which includes a VAL
    reaching past the last register)."""
    ops = tokenize_sparse(body, terminator)[0]
    # Count first: a corrupted value's opcodes may claim far more registers than it has
    # bytes (an XZERO of 16384 registers in every 2 bytes), and expanding them all would
    # take time and memory in proportion to that claim (Redis stops at the overflow).
    if sum(map(_SPAN.__getitem__, ops)) != HLL_REGISTERS:
        return None
    return b"".join(map(_EXPAND.__getitem__, ops))


# -- byte-level sparse update, for values that are not well-formed --------------------------


def _sparse_set_bytes(value: bytearray, index: int, count: int, max_bytes: int,
                      terminator: list[int] | None = None) -> int:
    """hllSparseSet on the raw bytes of any sparse value: 1 / 0 as SparseRegisters.set,
    -1 if no opcode covers the register (corrupted), -2 to promote. ``value`` is changed
    in place, with Redis's results even on malformed opcodes. ``terminator``: the byte
    past the string's end (``[0]``, the NUL, if None), which a final lone XZERO byte reads
    and which this may change as Redis does."""
    if count > SPARSE_VAL_MAX_VALUE:
        return -2
    n = len(value)
    past_end = terminator[0] if terminator is not None else 0

    def at(pos: int) -> int:
        return value[pos] if pos < n else past_end

    p = HLL_HDR_SIZE
    first = 0
    prev = -1
    span = 0
    while p < n:
        code = value[p]
        size = 1
        if code & 0x80:
            span = (code & 3) + 1
        elif code & 0x40:
            span = ((code & 0x3F) << 8 | at(p + 1)) + 1
            size = 2
        else:
            span = (code & 0x3F) + 1
        if index <= first + span - 1:
            break
        prev = p
        p += size
        first += span
    if span == 0 or p >= n:
        return -1
    code = value[p]
    is_val = bool(code & 0x80)
    is_xzero = not is_val and bool(code & 0x40)
    end = n
    if is_val:
        old = ((code >> 2) & 0x1F) + 1
        if old >= count:
            return 0
        if span == 1:
            value[p] = val_op(count, 1)[0]
            return _merge_bytes(value, prev, end, terminator)
    elif not is_xzero and span == 1:
        value[p] = val_op(count, 1)[0]
        return _merge_bytes(value, prev, end, terminator)
    last = first + span - 1
    seq = bytearray()
    if is_val:
        old = ((code >> 2) & 0x1F) + 1
        if index != first:
            seq += val_op(old, index - first)
        seq += val_op(count, 1)
        if index != last:
            seq += val_op(old, last - index)
    else:
        if index != first:
            seq += zero_op(index - first)
        seq += val_op(count, 1)
        if index != last:
            seq += zero_op(last - index)
    old_size = 2 if is_xzero else 1
    delta = len(seq) - old_size
    if delta > 0 and n + delta > max_bytes:
        return -2
    # Replace the opcode; a lone final XZERO byte counts as two bytes, so the last byte of
    # the new sequence then falls just past the end of the string, as in Redis.
    tail = bytes(value[p + old_size:]) if p + old_size < n else b""
    new_end = n + delta
    whole = bytes(value[:p]) + bytes(seq) + tail
    value[:] = whole[:new_end]
    if terminator is not None:
        # Redis sets the new NUL terminator (sdsIncrLen), then copies the sequence over it
        # when the opcode replaced was a lone final XZERO byte.
        terminator[0] = whole[new_end] if len(whole) > new_end else 0
    return _merge_bytes(value, prev, new_end, terminator)


def _merge_bytes(value: bytearray, prev: int, end: int, terminator: list[int] | None = None) -> int:
    p = prev if prev >= 0 else HLL_HDR_SIZE
    budget = 5
    while p < end and budget:
        budget -= 1
        code = value[p]
        if not code & 0x80:
            p += 2 if code & 0x40 else 1
            continue
        if p + 1 < end and value[p + 1] & 0x80:
            following = value[p + 1]
            if (following ^ code) & 0x7C == 0:
                run = (code & 3) + (following & 3) + 2
                if run <= SPARSE_VAL_MAX_LEN:
                    value[p + 1] = (code & 0xFC) | (run - 1)
                    del value[p]
                    end -= 1
                    if terminator is not None:
                        terminator[0] = 0           # the string shrank: a new NUL terminator
                    continue
        p += 1
    return 1


# -- values ---------------------------------------------------------------------------------


def is_valid_hll(value: Any) -> bool:
    """isHLLObjectOrReply's checks on a string: header, magic, encoding, dense length."""
    if len(value) < HLL_HDR_SIZE or value[:4] != MAGIC:
        return False
    encoding = value[4]
    if encoding > HLL_MAX_ENCODING:
        return False
    return encoding != HLL_DENSE or len(value) == HLL_DENSE_SIZE


def check_hll(value: Any) -> None:
    """Raise Redis's errors for a value that is not a string, or not a HyperLogLog string."""
    kind = type(value)
    if kind is not bytes and kind is not bytearray:
        raise WrongTypeError()
    if not is_valid_hll(value):
        raise RedisError(NOT_AN_HLL)


def invalidate_cache(value: bytearray) -> None:
    """HLL_INVALIDATE_CACHE: set the flag bit of the cached cardinality."""
    value[15] |= 0x80


def registers_of(value: bytes | bytearray, terminator: int = 0) -> bytes | bytearray | None:
    """The 16384 registers of a valid HLL value, or None if its sparse body is corrupted."""
    if value[4] == HLL_DENSE:
        return unpack_dense(memoryview(value)[HLL_HDR_SIZE:])
    return sparse_registers(value[HLL_HDR_SIZE:], terminator)


def count_value(value: bytes | bytearray, terminator: int = 0) -> int | None:
    """hllCount of one valid HLL value; None if its sparse body is corrupted."""
    if value[4] == HLL_DENSE:
        histogram = dense_histogram(memoryview(value)[HLL_HDR_SIZE:])
    else:
        histogram = sparse_histogram(value[HLL_HDR_SIZE:], terminator)
        if histogram is None:
            return None
    return estimate(histogram)


def to_dense(value: bytearray, terminator: int = 0) -> bool:
    """hllSparseToDense in place (the header, cached cardinality included, is kept);
    False if the sparse body is corrupted. A dense value is left alone."""
    if value[4] == HLL_DENSE:
        return True
    raw = sparse_registers(value[HLL_HDR_SIZE:], terminator)
    if raw is None:
        return False
    header = bytearray(value[:HLL_HDR_SIZE])
    header[4] = HLL_DENSE
    value[:] = header + pack_dense(raw)
    return True


class SparseCache:
    """The decoded opcodes of recently updated sparse values, so that a run of PFADDs to one
    key decodes it once. An entry is used only if the value's body still has exactly the
    bytes it was decoded from (one memcmp), so nothing can make it stale: SETRANGE, SET,
    RENAME or FLUSHALL just make it miss."""

    LIMIT = 32

    def __init__(self) -> None:
        self.entries: dict[Any, tuple[bytes, SparseRegisters]] = {}

    def get(self, slot: Any, value: bytearray) -> SparseRegisters | None:
        hit = self.entries.get(slot)
        if hit is not None and len(value) == HLL_HDR_SIZE + len(hit[0]) and value.endswith(hit[0]):
            return hit[1]
        return None

    def put(self, slot: Any, value: bytearray, sparse: SparseRegisters) -> None:
        entries = self.entries
        if slot not in entries and len(entries) >= self.LIMIT:
            del entries[next(iter(entries))]
        entries[slot] = (bytes(value[HLL_HDR_SIZE:]), sparse)

    def drop(self, slot: Any) -> None:
        self.entries.pop(slot, None)


class Terminators:
    """The byte past the end of the HLL values whose last update left one there other than
    the NUL (see SparseRegisters): Redis keeps it in the string's allocation, where the next
    read of a final lone XZERO byte finds it. An entry holds the value object itself and
    its bytes: it applies only while the key holds that very object, unchanged (a SET makes
    a new string, with a NUL past its end, in Redis too)."""

    LIMIT = 32

    def __init__(self) -> None:
        self.entries: dict[int, tuple[bytearray, bytes, int]] = {}

    def get(self, value: bytes | bytearray) -> int:
        if not self.entries:
            return 0
        hit = self.entries.get(id(value))
        return hit[2] if hit is not None and hit[0] is value and hit[1] == value else 0

    def put(self, value: bytearray, byte: int) -> None:
        entries = self.entries
        entries.pop(id(value), None)
        if byte:
            if len(entries) >= self.LIMIT:
                del entries[next(iter(entries))]
            entries[id(value)] = (value, bytes(value), byte)


def _terminators(engine: Any) -> Terminators:
    table = engine.extensions.get("hll_terminators")
    if table is None:
        table = engine.extensions["hll_terminators"] = Terminators()
    return table


def add_registers(value: bytearray, updates: list[tuple[int, int]], max_bytes: int,
                  cache: SparseCache | None = None, slot: Any = None, terminator: list[int] | None = None,
                  keep_going: bool = False) -> int:
    """Raise registers of an HLL value in order (hllAdd for each element); return how many
    changed a register, or -1 if the value is corrupted (changes made so far are kept, and
    the cached cardinality is flagged invalid if any, as Redis's sparse updates do).
    ``cache``/``slot``: where the decoded sparse opcodes of this value may be kept.
    ``terminator``: ``[byte]``, the byte past the value's end, updated (see SparseRegisters).
    ``keep_going``: go on with the next update after a failed one (PFMERGE ignores them)."""
    updated = 0
    failed = False
    pending = iter(updates)
    if value[4] == HLL_SPARSE:
        sparse = cache.get(slot, value) if cache is not None else None
        if sparse is None:
            ops, truncated = tokenize_sparse(memoryview(value)[HLL_HDR_SIZE:], terminator[0] if terminator else 0)
            sparse = SparseRegisters(ops, truncated)
        for index, count in pending:
            result = sparse.set(index, count, max_bytes)
            if result >= 0:
                updated += result
                continue
            if result == -2:
                if updated:
                    value[HLL_HDR_SIZE:] = sparse.body()     # the changes so far, then convert
                    invalidate_cache(value)
                if to_dense(value, sparse.terminator):
                    if cache is not None:
                        cache.drop(slot)
                    updated += dense_set(value, index, count)
                    break
            failed = True
            if not keep_going:
                break
        if value[4] == HLL_SPARSE:
            if updated:
                value[HLL_HDR_SIZE:] = sparse.body()
            if terminator is not None:
                terminator[0] = sparse.terminator
            if updated:
                invalidate_cache(value)
            if cache is not None:
                if sparse.truncated:
                    cache.drop(slot)        # its terminator is not in the bytes the cache checks
                else:
                    cache.put(slot, value, sparse)
            if failed:
                return -1
            return updated
    if terminator is not None:
        terminator[0] = 0
    for index, count in pending:
        updated += dense_set(value, index, count)
    return -1 if failed else updated


def merge_into(value: bytearray, registers: bytes | bytearray, max_bytes: int,
               terminator: list[int] | None = None) -> None:
    """PFMERGE's write of the merged registers (which include the destination's own) into
    a sparse or dense value, register by register in index order as Redis does it (the
    sparse result depends on that order)."""
    if value[4] == HLL_DENSE:
        # Redis raises each register to the union's value; the union includes the
        # destination's registers, so the result is the union itself.
        value[HLL_HDR_SIZE:] = pack_dense(registers)
        return
    updates = [(j, v) for j, v in enumerate(registers) if v]
    add_registers(value, updates, max_bytes, terminator=terminator, keep_going=True)


# -- commands ---------------------------------------------------------------------------------


def _notify(client: Client, event: str, key: bytes) -> None:
    engine = client.engine
    if engine.notify_flags:
        engine.notify(NOTIFY_STRING, event, key, client.db.id)


def _hll_for_write(db: Database, key: bytes, value: Any) -> bytearray:
    """dbUnshareStringValue: the value as a bytearray (a 'raw' string) stored at ``key``."""
    if type(value) is bytes:
        value = bytearray(value)
        db.data[key] = value
    return value


def pfadd_command(client: Client, argv: list[bytes]) -> int:
    """PFADD key [element [element ...]]"""
    db = client.db
    key = argv[1]
    value = db.lookup_write(key)
    updated = 0
    if value is None:
        value = bytearray(EMPTY_HLL)
        db.add(key, value)
        updated = 1
    else:
        check_hll(value)
        value = _hll_for_write(db, key, value)
    if len(argv) > 2:
        engine = client.engine
        cache = engine.extensions.get("hll_sparse_cache")
        if cache is None:
            cache = engine.extensions["hll_sparse_cache"] = SparseCache()
        terminators = _terminators(engine)
        terminator = [terminators.get(value)]
        changed = add_registers(value, [element_register(e) for e in argv[2:]],
                                engine.config["hll-sparse-max-bytes"], cache, (db.id, key), terminator)
        terminators.put(value, terminator[0])
        if changed < 0:
            raise RedisError(INVALID_HLL)
        updated += changed
    if updated:
        invalidate_cache(value)
        db.signal_modified(key)
        _notify(client, "pfadd", key)
        client.engine.dirty += updated
    return 1 if updated else 0


def pfcount_command(client: Client, argv: list[bytes]) -> int:
    """PFCOUNT key [key ...]"""
    db = client.db
    if len(argv) > 2:
        # The union of several HLLs: nothing is cached or changed.
        union: bytearray | None = None
        for key in argv[1:]:
            value = db.lookup_read(key)
            if value is None:
                continue
            check_hll(value)
            registers = registers_of(value, _terminators(client.engine).get(value))
            if registers is None:
                raise RedisError(INVALID_HLL)
            union = registers if union is None else max_registers(union, registers)
        return 0 if union is None else as_reply_integer(estimate(histogram_of_registers(union)))
    key = argv[1]
    value = db.lookup_read(key)
    if value is None:
        return 0
    check_hll(value)
    value = _hll_for_write(db, key, value)
    if not value[15] & 0x80:
        return int.from_bytes(value[8:16], "little")     # below 2**63: the flag bit is clear
    terminators = _terminators(client.engine)
    terminator = terminators.get(value)
    card = count_value(value, terminator)
    if card is None:
        raise RedisError(INVALID_HLL)
    # A read that rewrites the cached cardinality: WATCH sees it, replicas get the PFCOUNT.
    value[8:16] = card.to_bytes(8, "little")
    terminators.put(value, terminator)      # the header changed, not the byte past the end
    db.signal_modified(key)
    client.engine.dirty += 1
    return as_reply_integer(card)


def pfmerge_command(client: Client, argv: list[bytes]) -> Any:
    """PFMERGE destkey [sourcekey [sourcekey ...]]"""
    db = client.db
    union: bytes | bytearray = bytes(HLL_REGISTERS)
    use_dense = False
    any_union = False
    for key in argv[1:]:            # the destination's own registers are part of the union
        value = db.lookup_read(key)
        if value is None:
            continue
        check_hll(value)
        if value[4] == HLL_DENSE:
            use_dense = True
        registers = registers_of(value, _terminators(client.engine).get(value))
        if registers is None:
            raise RedisError(INVALID_HLL)
        union = max_registers(union, registers) if any_union else registers
        any_union = True
    dest = argv[1]
    value = db.lookup_write(dest)
    if value is None:
        value = bytearray(EMPTY_HLL)
        db.add(dest, value)
    else:
        value = _hll_for_write(db, dest, value)
    terminators = _terminators(client.engine)
    terminator = [terminators.get(value)]
    if use_dense and value[4] == HLL_SPARSE:
        if not to_dense(value, terminator[0]):
            raise RedisError(INVALID_HLL)
        terminator[0] = 0
    merge_into(value, union, client.engine.config["hll-sparse-max-bytes"], terminator)
    terminators.put(value, terminator[0])
    invalidate_cache(value)
    db.signal_modified(dest)
    _notify(client, "pfadd", dest)
    client.engine.dirty += 1
    return OK


def decode_sparse(body: bytes | bytearray, terminator: int = 0) -> bytes:
    """PFDEBUG DECODE's text: ``z:<run>``, ``Z:<run>`` and ``v:<value>,<run>`` opcodes."""
    words = []
    for op in tokenize_sparse(body, terminator)[0]:
        code = op[0]
        if code & 0x80:
            words.append(b"v:%d,%d" % (((code >> 2) & 0x1F) + 1, (code & 3) + 1))
        elif code & 0x40:
            words.append(b"Z:%d" % _SPAN[op])
        else:
            words.append(b"z:%d" % ((code & 0x3F) + 1))
    return b" ".join(words)


def pfdebug_command(client: Client, argv: list[bytes]) -> Any:
    """PFDEBUG subcommand key"""
    db = client.db
    key = argv[2]
    value = db.lookup_write(key)
    if value is None:
        raise RedisError("ERR The specified key does not exist")
    check_hll(value)
    value = _hll_for_write(db, key, value)
    sub = argv[1].split(b"\0", 1)[0].lower()
    terminator = _terminators(client.engine).get(value)
    if sub == b"getreg":
        if value[4] == HLL_SPARSE:
            if not to_dense(value, terminator):
                raise RedisError(INVALID_HLL)
            client.engine.dirty += 1        # replicas convert too
        return list(unpack_dense(memoryview(value)[HLL_HDR_SIZE:]))
    if sub == b"decode":
        if value[4] != HLL_SPARSE:
            raise RedisError("ERR HLL encoding is not sparse")
        return decode_sparse(value[HLL_HDR_SIZE:], terminator)
    if sub == b"encoding":
        return Status(b"sparse" if value[4] == HLL_SPARSE else b"dense")
    if sub == b"todense":
        if value[4] == HLL_SPARSE:
            if not to_dense(value, terminator):
                raise RedisError(INVALID_HLL)
            client.engine.dirty += 1
            return 1
        return 0
    shown = argv[1].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    raise RedisError(f"ERR Unknown PFDEBUG subcommand '{shown}'")


# -- PFSELFTEST -------------------------------------------------------------------------------


def self_test(max_elements: int = 100_000, seed: int = 0) -> str | None:
    """The checks of PFSELFTEST; None if they pass, else the failure text.

    1. Register packing: random registers written one by one with dense_set read back
       with dense_get and with the vectorised unpack, and packed again identically.
    2. Estimates: the same elements added to a sparse and to a dense HLL give equal
       estimates at every power of ten, within 5 standard errors of the true count.
       (Redis goes to 10 million elements; in Python that would hold the server for a
       minute, so this goes to ``max_elements``.)"""
    import random

    rng = random.Random(seed)
    for _ in range(2):
        value = bytearray(HLL_DENSE_SIZE)
        expected = [rng.randrange(HLL_REGISTER_MAX + 1) for _ in range(HLL_REGISTERS)]
        for index in rng.sample(range(HLL_REGISTERS), HLL_REGISTERS):
            dense_set(value, index, expected[index])
        for index, reg in enumerate(expected):
            if dense_get(value, index) != reg:
                return f"TESTFAILED Register error at {index}"
        raw = unpack_dense(memoryview(value)[HLL_HDR_SIZE:])
        if list(raw) != expected or pack_dense(raw) != value[HLL_HDR_SIZE:]:
            return "TESTFAILED Register packing error"
    sparse = bytearray(EMPTY_HLL)
    dense = bytearray(EMPTY_HLL)
    to_dense(dense)
    relative_error = 1.04 / math.sqrt(HLL_REGISTERS)
    checkpoint = 1
    added = 0
    while checkpoint <= max_elements:
        updates = [element_register(struct.pack("<Q", j)) for j in range(added + 1, checkpoint + 1)]
        added = checkpoint
        if add_registers(sparse, updates, 3000) < 0 or add_registers(dense, updates, 3000) < 0:
            return "TESTFAILED Corrupted HLL"
        sparse_card = count_value(sparse)
        dense_card = count_value(dense)
        if sparse_card != dense_card:
            return "TESTFAILED Sparse and dense HLL cardinality mismatch"
        maxerr = max(checkpoint * relative_error * 5, 1.0)
        if abs(checkpoint - dense_card) > maxerr:
            return f"TESTFAILED too big error. card:{dense_card} abserr:{abs(checkpoint - dense_card):f}"
        checkpoint *= 10
    return None


def pfselftest_command(client: Client, argv: list[bytes]) -> Any:
    """PFSELFTEST"""
    failure = self_test()
    if failure is not None:
        raise RedisError(f"ERR {failure}")
    return OK
