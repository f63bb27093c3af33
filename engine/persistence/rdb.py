"""RDB format primitives (Redis 7.0, RDB version 10): codes, lengths, strings, CRC64 and the
packed encodings a value can be stored in (listpack, ziplist, intset, zipmap).

An RDB file is ``REDIS`` + four version digits, then opcodes and key/value records,
``EOF`` (255) and an 8-byte little-endian CRC64 of everything before it (0 when
``rdbchecksum no``). A DUMP payload is one value record (type byte + value) followed by
the 2-byte RDB version and the CRC64 of both.

Lengths: ``00xxxxxx`` (6 bits), ``01xxxxxx xxxxxxxx`` (14 bits, big-endian),
``0x80`` + 32-bit and ``0x81`` + 64-bit big-endian lengths; ``11xxxxxx`` marks a
specially encoded string: 8/16/32-bit little-endian integers (0, 1, 2) or an LZF
blob (3: compressed length, plain length, data).

Everything here is pure functions over bytes; :class:`RdbReader` reads a buffer with
the exact offset of any failure (what ``specredis-check-rdb`` reports).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from specredis.engine.args import string_to_int
from specredis.engine.persistence import lzf

RDB_VERSION = 10
MAGIC = b"REDIS"

# Value type codes (rdb.h).
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_MODULE_PRE_GA = 6
TYPE_MODULE_2 = 7
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19

# The value types RDB version 10 knows (rdbIsObjectType).
OBJECT_TYPES = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19})

TYPE_NAMES = {
    0: "string", 1: "list-linked", 2: "set-hashtable", 3: "zset-v1", 4: "hash-hashtable", 5: "zset-v2",
    6: "module-pre-release", 7: "module-value", 9: "hash-zipmap", 10: "list-ziplist", 11: "set-intset",
    12: "zset-ziplist", 13: "hash-ziplist", 14: "quicklist", 15: "stream", 16: "hash-listpack",
    17: "zset-listpack", 18: "quicklist-v2", 19: "stream-v2",
}

# Opcodes (rdb.h).
OPCODE_FUNCTION2 = 245
OPCODE_FUNCTION_PRE_GA = 246
OPCODE_MODULE_AUX = 247
OPCODE_IDLE = 248
OPCODE_FREQ = 249
OPCODE_AUX = 250
OPCODE_RESIZEDB = 251
OPCODE_EXPIRETIME_MS = 252
OPCODE_EXPIRETIME = 253
OPCODE_SELECTDB = 254
OPCODE_EOF = 255

# Special string encodings (the low 6 bits after a 11xxxxxx length byte).
ENC_INT8 = 0
ENC_INT16 = 1
ENC_INT32 = 2
ENC_LZF = 3

# Quicklist 2 node containers.
QUICKLIST_NODE_PLAIN = 1
QUICKLIST_NODE_PACKED = 2

# Stream entry flags inside its listpacks.
STREAM_ITEM_FLAG_NONE = 0
STREAM_ITEM_FLAG_DELETED = 1
STREAM_ITEM_FLAG_SAMEFIELDS = 2

# Strings of up to this length are never LZF-compressed (Redis: "under 20 bytes it's unable
# to compress even aaaaaaaaaaaaaaaaaa").
LZF_MIN_LENGTH = 21

_PACK_Q_BE = struct.Struct(">Q").pack
_PACK_I_BE = struct.Struct(">I").pack
_PACK_D = struct.Struct("<d").pack
_UNPACK_D = struct.Struct("<d").unpack_from
_PACK_Q = struct.Struct("<Q").pack
_UNPACK_q = struct.Struct("<q").unpack_from


class RdbError(Exception):
    """A malformed RDB file or payload: ``message`` in Redis's words, at byte ``offset``."""

    def __init__(self, message: str, offset: int = -1) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


# -- CRC64 ---------------------------------------------------------------------------------------
#
# Redis's CRC64 is "CRC-64-Jones": reflected, polynomial 0xad93d23594c935a9, initial value 0,
# no final xor. anycrc computes it with carry-less multiplication (~10 GB/s); the table-driven
# loop below is the fallback.

CRC64_POLY_REFLECTED = 0x95AC9329AC4BC9B5      # 0xad93d23594c935a9 with its bits reversed

try:
    import anycrc as _anycrc

    _CRC64_MODEL = _anycrc.Model("CRC64-REDIS")
    if _CRC64_MODEL.calc(b"123456789") != 0xE9C6D914C4B8D9CA:    # pragma: no cover - a broken build
        _CRC64_MODEL = None
except Exception:                       # pragma: no cover - depends on the environment
    _CRC64_MODEL = None


def _crc64_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ CRC64_POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64_TABLE = _crc64_table()


def py_crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC64 (Jones, reflected) in pure Python."""
    table = _CRC64_TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """Redis's CRC64 of ``data``, continuing from ``crc`` (the CRC of the bytes before it)."""
    if _CRC64_MODEL is not None:
        return _CRC64_MODEL.calc(data, crc) if crc else _CRC64_MODEL.calc(data)
    return py_crc64(data, crc)


# -- lengths and strings -------------------------------------------------------------------------

def encode_length(length: int) -> bytes:
    """rdbSaveLen."""
    if length < 0x40:
        return bytes((length,))
    if length < 0x4000:
        return bytes((0x40 | (length >> 8), length & 0xFF))
    if length <= 0xFFFFFFFF:
        return b"\x80" + _PACK_I_BE(length)
    return b"\x81" + _PACK_Q_BE(length)


_SMALL_LENGTHS = [bytes((n,)) for n in range(64)]


def encode_int_string(value: int) -> bytes | None:
    """rdbEncodeInteger: the 2, 3 or 5 bytes of an integer string, or None past 32 bits."""
    if -(1 << 7) <= value < 1 << 7:
        return bytes((0xC0, value & 0xFF))
    if -(1 << 15) <= value < 1 << 15:
        return b"\xc1" + (value & 0xFFFF).to_bytes(2, "little")
    if -(1 << 31) <= value < 1 << 31:
        return b"\xc2" + (value & 0xFFFFFFFF).to_bytes(4, "little")
    return None


def encode_string(data: bytes | bytearray, compress: bool = True) -> bytes:
    """rdbSaveRawString: an integer encoding for short canonical integers, LZF when it saves
    space (strings over 20 bytes, ``rdbcompression yes``), the plain bytes otherwise."""
    size = len(data)
    if size <= 11 and size:
        first = data[0]
        if 48 <= first <= 57 or first == 45:
            number = string_to_int(data)
            if number is not None:
                encoded = encode_int_string(number)
                if encoded is not None:
                    return encoded
    if compress and size >= LZF_MIN_LENGTH:
        packed = lzf.compress(data, size - 4)
        if packed:
            return b"\xc3" + encode_length(len(packed)) + encode_length(size) + packed
    if size < 0x40:
        return _SMALL_LENGTHS[size] + data
    return encode_length(size) + data


def encode_plain_string(data: bytes | bytearray) -> bytes:
    """A string written verbatim, length first (no integer or LZF encoding)."""
    return encode_length(len(data)) + data


def encode_millis(ms: int) -> bytes:
    """rdbSaveMillisecondTime: 8 bytes, little-endian."""
    return _PACK_Q(ms & 0xFFFFFFFFFFFFFFFF)


def encode_binary_double(value: float) -> bytes:
    """rdbSaveBinaryDoubleValue: the IEEE 754 double, little-endian."""
    return _PACK_D(value)


def encode_string_double(value: float) -> bytes:
    """rdbSaveDoubleValue (the old text form): 253 nan, 254 +inf, 255 -inf, else a length
    byte and ``%.17g``."""
    if value != value:
        return b"\xfd"
    if value == float("inf"):
        return b"\xfe"
    if value == float("-inf"):
        return b"\xff"
    text = b"%.17g" % value
    return bytes((len(text),)) + text


# -- listpack ------------------------------------------------------------------------------------
#
# <total bytes:u32 LE> <element count:u16 LE, 65535 = unknown> <element>... <0xFF>
# element = <encoding+data> <back-length: the size of encoding+data in 1..5 bytes>

LP_HEADER_SIZE = 6
LP_EOF = 0xFF


def _lp_backlen(size: int) -> bytes:
    # lpEncodeBacklen: 7 bits per byte, the most significant group first, every byte but the
    # first with its high bit set (the listpack is walked backwards from its end).
    if size <= 127:
        return bytes((size,))
    if size < 16383:
        return bytes((size >> 7, (size & 127) | 128))
    if size < 2097151:
        return bytes((size >> 14, ((size >> 7) & 127) | 128, (size & 127) | 128))
    if size < 268435455:
        return bytes((size >> 21, ((size >> 14) & 127) | 128, ((size >> 7) & 127) | 128, (size & 127) | 128))
    return bytes((size >> 28, ((size >> 21) & 127) | 128, ((size >> 14) & 127) | 128,
                  ((size >> 7) & 127) | 128, (size & 127) | 128))


_LP_SMALL_INTS = [bytes((n, 1)) for n in range(128)]


def lp_encode_int(value: int) -> bytes:
    """One listpack integer element with its back-length."""
    if 0 <= value <= 127:
        return _LP_SMALL_INTS[value]
    if -4096 <= value <= 4095:
        v = value & 0x1FFF
        return bytes((0xC0 | (v >> 8), v & 0xFF, 2))
    if -32768 <= value <= 32767:
        return b"\xf1" + (value & 0xFFFF).to_bytes(2, "little") + b"\x03"
    if -8388608 <= value <= 8388607:
        return b"\xf2" + (value & 0xFFFFFF).to_bytes(3, "little") + b"\x04"
    if -2147483648 <= value <= 2147483647:
        return b"\xf3" + (value & 0xFFFFFFFF).to_bytes(4, "little") + b"\x05"
    return b"\xf4" + (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little") + b"\x09"


def lp_encode_string(data: bytes | bytearray) -> bytes:
    """One listpack string element (no integer conversion) with its back-length."""
    size = len(data)
    if size < 64:
        return bytes((0x80 | size,)) + data + _lp_backlen(size + 1)
    if size < 4096:
        return bytes((0xE0 | (size >> 8), size & 0xFF)) + data + _lp_backlen(size + 2)
    return b"\xf0" + size.to_bytes(4, "little") + data + _lp_backlen(size + 5)


def lp_encode_element(data: bytes | bytearray | int) -> bytes:
    """lpAppend's element: strings that spell a 64-bit integer are stored as integers."""
    if type(data) is int:
        return lp_encode_int(data)
    if len(data) <= 20 and data:
        first = data[0]
        if 48 <= first <= 57 or first == 45:
            number = string_to_int(data)
            if number is not None:
                return lp_encode_int(number)
    return lp_encode_string(data)


def listpack_from_encoded(elements: list[bytes]) -> bytes:
    """A listpack holding already-encoded elements."""
    body = b"".join(elements)
    total = LP_HEADER_SIZE + len(body) + 1
    count = len(elements) if len(elements) < 65535 else 65535
    return total.to_bytes(4, "little") + count.to_bytes(2, "little") + body + b"\xff"


def listpack_encode(items: Iterable[bytes | bytearray | int]) -> bytes:
    """A listpack of ``items`` (bytes or ints), as lpAppend builds it."""
    return listpack_from_encoded([lp_encode_element(item) for item in items])


def listpack_decode(blob: bytes, deep: bool = False, check_count: bool = True) -> list[bytes | int]:
    """The elements of a listpack: ``bytes`` for strings, ``int`` for integers.

    The header, every element's bounds and the header's element count are always checked;
    ``deep`` also checks each back-length (lpValidateIntegrity). Stream nodes are read with
    ``check_count=False``: Redis never checks their header count."""
    size = len(blob)
    if size < LP_HEADER_SIZE + 1:
        raise RdbError("Listpack integrity check failed.")
    total = int.from_bytes(blob[0:4], "little")
    count = int.from_bytes(blob[4:6], "little")
    if total != size or blob[-1] != LP_EOF:
        raise RdbError("Listpack integrity check failed.")
    out: list[bytes | int] = []
    append = out.append
    pos = LP_HEADER_SIZE
    end = size - 1
    try:
        while pos < end:
            start = pos
            b = blob[pos]
            if b < 0x80:                                # 7-bit unsigned int
                append(b)
                pos += 1
            elif b < 0xC0:                              # 6-bit string length
                n = b & 0x3F
                pos += 1
                if pos + n > end:
                    raise IndexError
                append(blob[pos:pos + n])
                pos += n
            elif b < 0xE0:                              # 13-bit signed int
                v = ((b & 0x1F) << 8) | blob[pos + 1]
                append(v - 0x2000 if v >= 0x1000 else v)
                pos += 2
            elif b < 0xF0:                              # 12-bit string length
                n = ((b & 0x0F) << 8) | blob[pos + 1]
                pos += 2
                if pos + n > end:
                    raise IndexError
                append(blob[pos:pos + n])
                pos += n
            elif b == 0xF0:                             # 32-bit string length
                n = int.from_bytes(blob[pos + 1:pos + 5], "little")
                pos += 5
                if pos + n > end:
                    raise IndexError
                append(blob[pos:pos + n])
                pos += n
            elif b == 0xF1:
                append(int.from_bytes(blob[pos + 1:pos + 3], "little", signed=True))
                pos += 3
            elif b == 0xF2:
                append(int.from_bytes(blob[pos + 1:pos + 4], "little", signed=True))
                pos += 4
            elif b == 0xF3:
                append(int.from_bytes(blob[pos + 1:pos + 5], "little", signed=True))
                pos += 5
            elif b == 0xF4:
                append(int.from_bytes(blob[pos + 1:pos + 9], "little", signed=True))
                pos += 9
            else:
                raise RdbError("Listpack integrity check failed.")
            if pos > end:
                raise IndexError
            encoded = pos - start
            # The back-length: 1 byte for entries up to 127 bytes, more for bigger ones.
            if encoded <= 127:
                if deep and blob[pos] != encoded:
                    raise RdbError("Listpack integrity check failed.")
                pos += 1
            else:
                backlen = _lp_backlen(encoded)
                if deep and blob[pos:pos + len(backlen)] != backlen:
                    raise RdbError("Listpack integrity check failed.")
                pos += len(backlen)
            if pos > end:
                raise IndexError
    except IndexError:
        raise RdbError("Listpack integrity check failed.") from None
    if pos != end or (check_count and count != 65535 and count != len(out)):
        raise RdbError("Listpack integrity check failed.")
    return out


def as_bytes(element: bytes | int) -> bytes:
    """A decoded packed element as the string it stands for."""
    return element if type(element) is not int else b"%d" % element


# -- ziplist (RDB version <= 9: lists, hashes and sorted sets) -----------------------------------
#
# <zlbytes:u32 LE> <zltail:u32 LE> <zllen:u16 LE> <entry>... <0xFF>
# entry = <prevlen: 1 byte, or 0xFE + u32 LE> <encoding> <data>

def ziplist_decode(blob: bytes, deep: bool = False) -> list[bytes | int]:
    """The elements of a ziplist (bounds always checked; ``deep`` also checks prevlens,
    the tail offset and the count)."""
    size = len(blob)
    if size < 11:
        raise RdbError("Ziplist integrity check failed.")
    total = int.from_bytes(blob[0:4], "little")
    tail = int.from_bytes(blob[4:8], "little")
    count = int.from_bytes(blob[8:10], "little")
    if total != size or blob[-1] != 0xFF:
        raise RdbError("Ziplist integrity check failed.")
    out: list[bytes | int] = []
    pos = 10
    end = size - 1
    prev_size = 0
    last_start = 10
    try:
        while pos < end:
            start = pos
            last_start = start
            if blob[pos] < 254:
                prevlen = blob[pos]
                pos += 1
            elif blob[pos] == 254:
                prevlen = int.from_bytes(blob[pos + 1:pos + 5], "little")
                pos += 5
            else:
                raise RdbError("Ziplist integrity check failed.")
            if deep and prevlen != prev_size:
                raise RdbError("Ziplist integrity check failed.")
            b = blob[pos]
            kind = b >> 6
            if kind == 0:
                n = b & 0x3F
                pos += 1
                out.append(blob[pos:pos + n])
                pos += n
            elif kind == 1:
                n = ((b & 0x3F) << 8) | blob[pos + 1]
                pos += 2
                out.append(blob[pos:pos + n])
                pos += n
            elif b == 0x80:
                n = int.from_bytes(blob[pos + 1:pos + 5], "big")
                pos += 5
                out.append(blob[pos:pos + n])
                pos += n
            elif b == 0xC0:
                out.append(int.from_bytes(blob[pos + 1:pos + 3], "little", signed=True))
                pos += 3
            elif b == 0xD0:
                out.append(int.from_bytes(blob[pos + 1:pos + 5], "little", signed=True))
                pos += 5
            elif b == 0xE0:
                out.append(int.from_bytes(blob[pos + 1:pos + 9], "little", signed=True))
                pos += 9
            elif b == 0xF0:
                out.append(int.from_bytes(blob[pos + 1:pos + 4], "little", signed=True))
                pos += 4
            elif b == 0xFE:
                out.append(int.from_bytes(blob[pos + 1:pos + 2], "little", signed=True))
                pos += 2
            elif 0xF1 <= b <= 0xFD:
                out.append((b & 0x0F) - 1)
                pos += 1
            else:
                raise RdbError("Ziplist integrity check failed.")
            if pos > end:
                raise IndexError
            prev_size = pos - start
    except IndexError:
        raise RdbError("Ziplist integrity check failed.") from None
    if pos != end:
        raise RdbError("Ziplist integrity check failed.")
    if deep and ((count != 65535 and count != len(out)) or (out and tail != last_start)
                 or (not out and tail != 10)):
        raise RdbError("Ziplist integrity check failed.")
    return out


def ziplist_encode(items: Iterable[bytes | int]) -> bytes:
    """A ziplist of ``items`` as Redis <= 6.2 wrote them (for loading tests and old formats)."""
    entries = []
    prev = 0
    offsets = []
    offset = 10
    for item in items:
        number = item if type(item) is int else (string_to_int(item) if len(item) <= 20 else None)
        if number is not None:
            if 0 <= number <= 12:
                body = bytes((0xF1 + number,))
            elif -128 <= number <= 127:
                body = b"\xfe" + (number & 0xFF).to_bytes(1, "little")
            elif -32768 <= number <= 32767:
                body = b"\xc0" + (number & 0xFFFF).to_bytes(2, "little")
            elif -8388608 <= number <= 8388607:
                body = b"\xf0" + (number & 0xFFFFFF).to_bytes(3, "little")
            elif -2147483648 <= number <= 2147483647:
                body = b"\xd0" + (number & 0xFFFFFFFF).to_bytes(4, "little")
            else:
                body = b"\xe0" + (number & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
        else:
            n = len(item)
            if n < 64:
                body = bytes((n,)) + item
            elif n < 16384:
                body = bytes((0x40 | (n >> 8), n & 0xFF)) + item
            else:
                body = b"\x80" + n.to_bytes(4, "big") + item
        prevlen = bytes((prev,)) if prev < 254 else b"\xfe" + prev.to_bytes(4, "little")
        entry = prevlen + body
        offsets.append(offset)
        offset += len(entry)
        prev = len(entry)
        entries.append(entry)
    body = b"".join(entries)
    total = 10 + len(body) + 1
    tail = offsets[-1] if offsets else 10
    count = len(entries) if len(entries) < 65535 else 65535
    return total.to_bytes(4, "little") + tail.to_bytes(4, "little") + count.to_bytes(2, "little") + body + b"\xff"


# -- intset --------------------------------------------------------------------------------------
#
# <encoding: u32 LE, 2/4/8 bytes per member> <length: u32 LE> <members, ascending, LE signed>

def intset_decode(blob: bytes, deep: bool = False) -> list[int]:
    """The members of an intset (header and size always checked; ``deep`` checks the order)."""
    if len(blob) < 8:
        raise RdbError("Intset integrity check failed.")
    width = int.from_bytes(blob[0:4], "little")
    count = int.from_bytes(blob[4:8], "little")
    if width not in (2, 4, 8) or len(blob) != 8 + width * count:
        raise RdbError("Intset integrity check failed.")
    fmt = {2: "h", 4: "i", 8: "q"}[width]
    members = list(struct.unpack_from(f"<{count}{fmt}", blob, 8))
    if deep:
        for i in range(1, count):
            if members[i] <= members[i - 1]:
                raise RdbError("Intset integrity check failed.")
    return members


def intset_encode(members: Iterable[int]) -> bytes:
    """An intset of ``members`` with the smallest width that holds them all."""
    ordered = sorted(set(members))
    width = 2
    for number in (ordered[0], ordered[-1]) if ordered else ():
        if not -(1 << 15) <= number < 1 << 15:
            width = max(width, 4)
        if not -(1 << 31) <= number < 1 << 31:
            width = 8
    fmt = {2: "h", 4: "i", 8: "q"}[width]
    return width.to_bytes(4, "little") + len(ordered).to_bytes(4, "little") + \
        struct.pack(f"<{len(ordered)}{fmt}", *ordered)


# -- zipmap (hashes of RDB version <= 3) --------------------------------------------------------
#
# <zmlen:1 byte> (<len>field<len><free>value<free bytes>)... <0xFF>; len = 1 byte < 254, or 254 + u32

def zipmap_decode(blob: bytes) -> list[tuple[bytes, bytes]]:
    """The (field, value) pairs of a zipmap."""
    pairs = []
    pos = 1
    end = len(blob)

    def length() -> int:
        nonlocal pos
        b = blob[pos]
        if b < 254:
            pos += 1
            return b
        if b == 254:
            n = int.from_bytes(blob[pos + 1:pos + 5], "little")
            pos += 5
            return n
        raise IndexError

    try:
        if end < 2:
            raise IndexError
        while blob[pos] != 0xFF:
            n = length()
            field = blob[pos:pos + n]
            pos += n
            n = length()
            free = blob[pos]
            pos += 1
            value = blob[pos:pos + n]
            pos += n + free
            if pos >= end:
                raise IndexError
            pairs.append((field, value))
    except IndexError:
        raise RdbError("Zipmap integrity check failed.") from None
    if pos != end - 1:
        raise RdbError("Zipmap integrity check failed.")
    return pairs


def zipmap_encode(pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    """A zipmap of (field, value) pairs (for loading tests: Redis 2.x hashes)."""
    out = bytearray()
    items = list(pairs)
    out.append(min(len(items), 254))

    def length(n: int) -> bytes:
        return bytes((n,)) if n < 254 else b"\xfe" + n.to_bytes(4, "little")

    for field, value in items:
        out += length(len(field)) + field + length(len(value)) + b"\x00" + value
    out.append(0xFF)
    return bytes(out)


# -- reading -------------------------------------------------------------------------------------

class RdbReader:
    """Reads RDB primitives from a buffer; every failure is an :class:`RdbError` at the offset
    of the read that failed (``base`` is added, for buffers that are part of a file)."""

    __slots__ = ("data", "pos", "size", "base")

    def __init__(self, data: bytes, pos: int = 0, base: int = 0) -> None:
        self.data = data
        self.pos = pos
        self.size = len(data)
        self.base = base

    def eof(self, what: str = "") -> RdbError:
        return RdbError(f"Unexpected EOF reading RDB file{(' ' + what) if what else ''}", self.base + self.pos)

    def offset(self) -> int:
        return self.base + self.pos

    def read(self, n: int) -> bytes:
        pos = self.pos
        end = pos + n
        if end > self.size:
            raise self.eof()
        self.pos = end
        return self.data[pos:end]

    def byte(self) -> int:
        pos = self.pos
        if pos >= self.size:
            raise self.eof()
        self.pos = pos + 1
        return self.data[pos]

    def length_or_encoding(self) -> tuple[int, bool]:
        """rdbLoadLenByRef: (length, False), or (special encoding, True) for 11xxxxxx."""
        data = self.data
        pos = self.pos
        if pos >= self.size:
            raise self.eof()
        b = data[pos]
        kind = b >> 6
        if kind == 0:
            self.pos = pos + 1
            return b, False
        if kind == 1:
            if pos + 2 > self.size:
                self.pos = pos + 1          # Redis has read the first byte when the rest is missing
                raise self.eof()
            self.pos = pos + 2
            return ((b & 0x3F) << 8) | data[pos + 1], False
        if kind == 3:
            self.pos = pos + 1
            return b & 0x3F, True
        if b == 0x80:
            if pos + 5 > self.size:
                self.pos = pos + 1          # Redis has read the first byte when the rest is missing
                raise self.eof()
            self.pos = pos + 5
            return int.from_bytes(data[pos + 1:pos + 5], "big"), False
        if b == 0x81:
            if pos + 9 > self.size:
                self.pos = pos + 1          # Redis has read the first byte when the rest is missing
                raise self.eof()
            self.pos = pos + 9
            return int.from_bytes(data[pos + 1:pos + 9], "big"), False
        # (Redis names the two type bits, 2 for a 10xxxxxx byte other than 0x80 and 0x81.)
        raise RdbError(f"Unknown length encoding {b >> 6} in rdbLoadLen()", self.base + pos + 1)

    def length(self) -> int:
        """rdbLoadLen: a plain length (a special encoding here is an error)."""
        data = self.data
        pos = self.pos
        if pos < self.size:
            b = data[pos]
            if b < 0x40:
                self.pos = pos + 1
                return b
        # An encoded-value byte (11xxxxxx) reads as its 6 low bits, as rdbLoadLen reads it.
        return self.length_or_encoding()[0]

    def string(self) -> bytes:
        """rdbGenericLoadStringObject: plain, integer-encoded or LZF-compressed."""
        data = self.data
        pos = self.pos
        size = self.size
        if pos < size:
            b = data[pos]
            if b < 0x40:                            # the common case: a short plain string
                end = pos + 1 + b
                if end > size:
                    self.pos = pos + 1
                    raise self.eof()
                self.pos = end
                return data[pos + 1:end]
        length, encoded = self.length_or_encoding()
        if not encoded:
            return self.read(length)
        if length == ENC_INT8:
            return b"%d" % int.from_bytes(self.read(1), "little", signed=True)
        if length == ENC_INT16:
            return b"%d" % int.from_bytes(self.read(2), "little", signed=True)
        if length == ENC_INT32:
            return b"%d" % int.from_bytes(self.read(4), "little", signed=True)
        if length == ENC_LZF:
            compressed = self.length()
            plain = self.length()
            blob = self.read(compressed)
            try:
                return lzf.decompress(blob, plain)
            except lzf.LzfError:
                # Found once the whole blob is read, where Redis reports it.
                raise RdbError("Invalid LZF compressed string", self.base + self.pos) from None
        raise RdbError(f"Unknown RDB string encoding type {length}", self.base + self.pos)

    def millis(self) -> int:
        """rdbLoadMillisecondTime: 8 bytes, little-endian, signed."""
        pos = self.pos
        if pos + 8 > self.size:
            raise self.eof()
        self.pos = pos + 8
        return _UNPACK_q(self.data, pos)[0]

    def seconds(self) -> int:
        """rdbLoadTime: a 4-byte little-endian signed time in seconds."""
        return int.from_bytes(self.read(4), "little", signed=True)

    def binary_double(self) -> float:
        pos = self.pos
        if pos + 8 > self.size:
            raise self.eof()
        self.pos = pos + 8
        return _UNPACK_D(self.data, pos)[0]

    def string_double(self) -> float:
        """rdbLoadDoubleValue: the text form (253 nan, 254 +inf, 255 -inf)."""
        n = self.byte()
        if n == 253:
            return float("nan")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        text = self.read(n)
        try:
            return float(text)
        except ValueError:
            raise RdbError("Invalid double value", self.base + self.pos - n) from None
