"""Bitmap commands (bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

Bitmaps are plain string values: bit ``n`` is bit ``7 - n % 8`` of byte ``n // 8``
(the most significant bit first). A string that a bit command modifies becomes a
``bytearray`` (Redis's ``raw`` encoding) and is changed in place, so GET, SETRANGE and
APPEND see exactly the bytes Redis would have.

Whole-range work is done by C code rather than Python loops: population counts with
``int.from_bytes(...).bit_count()``, the first set/clear bit with a regular-expression
search for the first byte that is not 0x00/0xFF, BITOP with big-integer ``& | ^`` and
``bytes.translate`` for NOT.
"""

from __future__ import annotations

import re

from specredis.engine.args import parse_int, string_to_int
from specredis.engine.client import Client
from specredis.engine.core import NOTIFY_GENERIC, NOTIFY_STRING
from specredis.engine.errors import NOT_INTEGER, SYNTAX, RedisError, WrongTypeError
from specredis.engine.keyspace import Database

BIT_OFFSET_ERROR = "ERR bit offset is not an integer or out of range"
BIT_VALUE_ERROR = "ERR bit is not an integer or out of range"
BITFIELD_TYPE_ERROR = ("ERR Invalid bitfield type. Use something like i16 u8. "
                       "Note that u64 is not supported but i64 is.")

_U64 = (1 << 64) - 1


def _c_string(raw: bytes) -> bytes:
    # Redis compares these words with strcasecmp: the argument ends at its first NUL byte.
    if b"\0" in raw:
        return raw.split(b"\0", 1)[0]
    return raw


def _notify(client: Client, event_class: int, event: str, key: bytes) -> None:
    engine = client.engine
    if engine.notify_flags:
        engine.notify(event_class, event, key, client.db.id)


def _string_for_read(db: Database, key: bytes) -> bytes | bytearray | None:
    value = db.lookup_read(key)
    if value is not None and type(value) is not bytes and type(value) is not bytearray:
        raise WrongTypeError()
    return value


def bit_offset(client: Client, raw: bytes, hash_allowed: bool = False, bits: int = 0) -> int:
    """A bit offset argument (getBitOffsetFromArgument): a non-negative integer whose byte
    lies below proto-max-bulk-len; with ``hash_allowed``, ``#N`` means N * ``bits``."""
    times = False
    if hash_allowed and raw[:1] == b"#":
        raw = raw[1:]
        times = True
    offset = string_to_int(raw)
    if offset is None:
        raise RedisError(BIT_OFFSET_ERROR)
    if times:
        offset *= bits
        # C multiplies in a signed 64-bit integer: a huge #N wraps around.
        offset = ((offset + (1 << 63)) & _U64) - (1 << 63)
    if offset < 0 or offset >> 3 >= client.engine.config["proto-max-bulk-len"]:
        raise RedisError(BIT_OFFSET_ERROR)
    return offset


def string_for_bit_write(client: Client, key: bytes, max_bit: int) -> tuple[bytearray, bool]:
    """lookupStringForBitCommand: the string at ``key`` as a bytearray long enough to hold
    bit ``max_bit`` (created, or zero-padded, as needed); and whether it was created or grown."""
    db = client.db
    size = (max_bit >> 3) + 1
    value = db.lookup_write(key)
    if value is None:
        value = bytearray(size)
        db.add(key, value)
        return value, True
    kind = type(value)
    if kind is bytes:
        value = bytearray(value)
        db.data[key] = value
    elif kind is not bytearray:
        raise WrongTypeError()
    if len(value) < size:
        value.extend(bytes(size - len(value)))
        return value, True
    return value, False


# -- SETBIT / GETBIT ------------------------------------------------------------------------


def setbit_command(client: Client, argv: list[bytes]) -> int:
    """SETBIT key offset value"""
    offset = bit_offset(client, argv[2])
    on = string_to_int(argv[3])
    if on is None or on & ~1:
        raise RedisError(BIT_VALUE_ERROR)
    key = argv[1]
    value, grown = string_for_bit_write(client, key, offset)
    at = offset >> 3
    mask = 0x80 >> (offset & 7)
    byte = value[at]
    old = 1 if byte & mask else 0
    if on:
        value[at] = byte | mask
    else:
        value[at] = byte & ~mask
    if grown or old != on:
        client.db.signal_modified(key)
        _notify(client, NOTIFY_STRING, "setbit", key)
        client.engine.dirty += 1
    return old


def getbit_command(client: Client, argv: list[bytes]) -> int:
    """GETBIT key offset"""
    offset = bit_offset(client, argv[2])
    value = _string_for_read(client.db, argv[1])
    if value is None:
        return 0
    at = offset >> 3
    if at >= len(value):
        return 0
    return 1 if value[at] & (0x80 >> (offset & 7)) else 0


# -- BITCOUNT / BITPOS ------------------------------------------------------------------------


def _range_unit(raw: bytes) -> bool:
    """BYTE or BIT (any case): True for BIT."""
    unit = _c_string(raw).lower()
    if unit == b"bit":
        return True
    if unit == b"byte":
        return False
    raise RedisError(SYNTAX)


def _popcount(value: bytes | bytearray, start: int, end: int) -> int:
    """Set bits in bytes ``start..end`` (inclusive)."""
    if start == 0 and end == len(value) - 1:
        return int.from_bytes(value, "big").bit_count()
    return int.from_bytes(memoryview(value)[start:end + 1], "big").bit_count()


def bitcount_command(client: Client, argv: list[bytes]) -> int:
    """BITCOUNT key [start end [BYTE | BIT]]"""
    value = _string_for_read(client.db, argv[1])
    if value is None:
        return 0
    length = len(value)
    argc = len(argv)
    if argc == 2:
        return _popcount(value, 0, length - 1) if length else 0
    if argc not in (4, 5):
        raise RedisError(SYNTAX)
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    in_bits = _range_unit(argv[4]) if argc == 5 else False
    total = length * 8 if in_bits else length
    if start < 0 and end < 0 and start > end:
        return 0
    if start < 0:
        start = max(0, total + start)
    if end < 0:
        end = max(0, total + end)
    if end >= total:
        end = total - 1
    if start > end:
        return 0
    if not in_bits:
        return _popcount(value, start, end)
    first, last = start >> 3, end >> 3
    count = _popcount(value, first, last)
    # Take off the bits of the edge bytes that lie outside the range.
    count -= (value[first] & (0xFF00 >> (start & 7)) & 0xFF).bit_count()
    count -= (value[last] & ((1 << (7 - (end & 7))) - 1)).bit_count()
    return count


_NOT_ZERO = re.compile(rb"[^\x00]")
_NOT_ONES = re.compile(rb"[^\xff]")


def first_bit(value: bytes | bytearray, bit: int, start: int, end: int) -> int:
    """The first bit equal to ``bit`` in bit positions ``start..end`` (inclusive), or -1."""
    first, last = start >> 3, end >> 3
    if first == last:
        return _first_in_byte(value[first], bit, start & 7, end & 7, first)
    pos = _first_in_byte(value[first], bit, start & 7, 7, first)
    if pos >= 0:
        return pos
    if last > first + 1:
        at = _first_byte_not(value, 0 if bit else 0xFF, first + 1, last)
        if at >= 0:
            return _first_in_byte(value[at], bit, 0, 7, at)
    return _first_in_byte(value[last], bit, 0, end & 7, last)


_RUN = 4096
_RUNS = {0: bytes(_RUN), 0xFF: b"\xff" * _RUN}


def _first_byte_not(value: bytes | bytearray, fill: int, start: int, end: int) -> int:
    """The index of the first byte in ``start..end-1`` that is not ``fill``, or -1."""
    run = _RUNS[fill]
    # Whole runs of 'fill' are skipped with startswith (a memcmp); the regex then finds
    # the byte within the first run that differs.
    while start + _RUN <= end and value.startswith(run, start):
        start += _RUN
    found = (_NOT_ZERO if fill == 0 else _NOT_ONES).search(value, start, end)
    return -1 if found is None else found.start()


def _first_in_byte(byte: int, bit: int, low: int, high: int, at: int) -> int:
    # Bits low..high of the byte, counted from its most significant bit.
    if not bit:
        byte ^= 0xFF
    window = byte & (0xFF >> low) & (0xFF00 >> (high + 1))
    if not window:
        return -1
    return at * 8 + 8 - window.bit_length()


def bitpos_command(client: Client, argv: list[bytes]) -> int:
    """BITPOS key bit [start [end [BYTE | BIT]]]"""
    bit = parse_int(argv[2])
    if bit not in (0, 1):
        raise RedisError("ERR The bit argument must be 1 or 0.")
    value = _string_for_read(client.db, argv[1])
    if value is None:
        # A missing key is an endless run of zeros.
        return -1 if bit else 0
    length = len(value)
    argc = len(argv)
    end_given = False
    in_bits = False
    if argc == 3:
        start, end = 0, length - 1
    elif argc <= 6:
        start = parse_int(argv[3])
        if argc == 6:
            in_bits = _range_unit(argv[5])
        if argc >= 5:
            end = parse_int(argv[4])
            end_given = True
        else:
            end = length * 8 + 7 if in_bits else length - 1
        total = length * 8 if in_bits else length
        if start < 0:
            start = max(0, total + start)
        if end < 0:
            end = max(0, total + end)
        if end >= total:
            end = total - 1
    else:
        raise RedisError(SYNTAX)
    if start > end:
        return -1
    if not in_bits:
        start, end = start * 8, end * 8 + 7
    pos = first_bit(value, bit, start, end)
    if pos < 0 and not bit and not end_given:
        # Looking for a clear bit without an explicit end: the string continues with zeros.
        return end + 1
    return pos


# -- BITOP ------------------------------------------------------------------------------------

_INVERT = bytes(255 - b for b in range(256))


def bitop_command(client: Client, argv: list[bytes]) -> int:
    """BITOP <AND | OR | XOR | NOT> destkey key [key ...]"""
    op = _c_string(argv[1]).lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise RedisError(SYNTAX)
    if op == b"not" and len(argv) != 4:
        raise RedisError("ERR BITOP NOT must be called with a single source key.")
    db = client.db
    sources: list[bytes | bytearray | None] = []
    for key in argv[3:]:
        sources.append(_string_for_read(db, key))
    size = max((len(s) for s in sources if s is not None), default=0)
    dest = argv[2]
    engine = client.engine
    if not size:
        if db.delete(dest):
            db.signal_modified(dest)
            _notify(client, NOTIFY_GENERIC, "del", dest)
            engine.dirty += 1
        return 0
    if op == b"not":
        result = bytearray(sources[0].translate(_INVERT))
    else:
        # Strings shorter than the longest are padded with zero bytes on the right.
        numbers = [0 if s is None else int.from_bytes(s, "big") << (8 * (size - len(s))) for s in sources]
        acc = numbers[0]
        if op == b"and":
            for n in numbers[1:]:
                acc &= n
        elif op == b"or":
            for n in numbers[1:]:
                acc |= n
        else:
            for n in numbers[1:]:
                acc ^= n
        result = bytearray(acc.to_bytes(size, "big"))
    db.set_key(dest, result)
    _notify(client, NOTIFY_STRING, "set", dest)
    engine.dirty += 1
    return size


# -- BITFIELD ---------------------------------------------------------------------------------

OP_GET, OP_SET, OP_INCRBY = 0, 1, 2
WRAP, SAT, FAIL = 0, 1, 2


def bitfield_type(raw: bytes) -> tuple[bool, int]:
    """``i<bits>`` (1..64) or ``u<bits>`` (1..63): (signed, bits)."""
    raw = _c_string(raw)
    kind = raw[:1]
    if kind not in (b"i", b"u"):
        raise RedisError(BITFIELD_TYPE_ERROR)
    signed = kind == b"i"
    bits = string_to_int(raw[1:])
    if bits is None or bits < 1 or bits > (64 if signed else 63):
        raise RedisError(BITFIELD_TYPE_ERROR)
    return signed, bits


def read_bits(value: bytes | bytearray, offset: int, bits: int) -> int:
    """The unsigned integer in bits ``offset .. offset+bits-1`` (most significant first);
    bits past the end of the string read as zero."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    chunk = value[first:last + 1]
    number = int.from_bytes(chunk, "big") << (8 * (last + 1 - first - len(chunk)))
    return (number >> (7 - ((offset + bits - 1) & 7))) & ((1 << bits) - 1)


def write_bits(value: bytearray, offset: int, bits: int, number: int) -> None:
    """Store the low ``bits`` bits of ``number`` at bit ``offset`` (the string is long enough)."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    shift = 7 - ((offset + bits - 1) & 7)
    width = 8 * (last + 1 - first)
    mask = ((1 << bits) - 1) << shift
    current = int.from_bytes(value[first:last + 1], "big")
    current = (current & ~mask) | ((number << shift) & mask)
    value[first:last + 1] = current.to_bytes(width // 8, "big")


def _signed(number: int, bits: int) -> int:
    return number - (1 << bits) if number >> (bits - 1) else number


def overflow_signed(total: int, bits: int, behaviour: int) -> tuple[int | None, bool]:
    """(value to store, overflowed) for a signed field: WRAP wraps modulo 2**bits, SAT
    clamps, FAIL stores nothing (None)."""
    high = (1 << (bits - 1)) - 1
    low = -high - 1
    if low <= total <= high:
        return total, False
    if behaviour == WRAP:
        return _signed(total & ((1 << bits) - 1), bits), True
    if behaviour == SAT:
        return (high if total > high else low), True
    return None, True


def overflow_unsigned(total: int, bits: int, behaviour: int) -> tuple[int | None, bool]:
    """As :func:`overflow_signed` for an unsigned field."""
    high = (1 << bits) - 1
    if 0 <= total <= high:
        return total, False
    if behaviour == WRAP:
        return total & high, True
    if behaviour == SAT:
        return (high if total > high else 0), True
    return None, True


def _bitfield(client: Client, argv: list[bytes], readonly_command: bool) -> list:
    ops: list[tuple[int, bool, int, int, int, int]] = []    # (op, signed, bits, offset, arg, overflow)
    behaviour = WRAP
    writes = False
    highest = 0
    argc = len(argv)
    j = 2
    while j < argc:
        remaining = argc - j - 1
        word = _c_string(argv[j]).lower()
        if word == b"get" and remaining >= 2:
            opcode = OP_GET
        elif word == b"set" and remaining >= 3:
            opcode = OP_SET
        elif word == b"incrby" and remaining >= 3:
            opcode = OP_INCRBY
        elif word == b"overflow" and remaining >= 1:
            kind = _c_string(argv[j + 1]).lower()
            if kind == b"wrap":
                behaviour = WRAP
            elif kind == b"sat":
                behaviour = SAT
            elif kind == b"fail":
                behaviour = FAIL
            else:
                raise RedisError("ERR Invalid OVERFLOW type specified")
            j += 2
            continue
        else:
            raise RedisError(SYNTAX)
        signed, bits = bitfield_type(argv[j + 1])
        offset = bit_offset(client, argv[j + 2], True, bits)
        arg = 0
        if opcode != OP_GET:
            writes = True
            highest = max(highest, offset + bits - 1)
            arg = string_to_int(argv[j + 3])
            if arg is None:
                raise RedisError(NOT_INTEGER)
        ops.append((opcode, signed, bits, offset, arg, behaviour))
        j += 3 if opcode == OP_GET else 4
    key = argv[1]
    db = client.db
    value: bytes | bytearray | None
    grown = False
    if not writes:
        value = _string_for_read(db, key)
    elif readonly_command:
        raise RedisError("ERR BITFIELD_RO only supports the GET subcommand")
    else:
        value, grown = string_for_bit_write(client, key, highest)
    replies: list = []
    changes = 0
    for opcode, signed, bits, offset, arg, how in ops:
        if opcode == OP_GET:
            if value is None:
                replies.append(0)
                continue
            number = read_bits(value, offset, bits)
            replies.append(_signed(number, bits) if signed else number)
            continue
        old = read_bits(value, offset, bits)
        if signed:
            old = _signed(old, bits)
            total = old + arg if opcode == OP_INCRBY else arg
            new, _ = overflow_signed(total, bits, how)
        else:
            # SET of a negative number to an unsigned field is that number modulo 2**64 in C.
            total = old + arg if opcode == OP_INCRBY else arg & _U64
            new, _ = overflow_unsigned(total, bits, how)
        if new is None:
            # OVERFLOW FAIL: nothing written, nothing counted -- even if the key was just
            # created or grown, which then is neither signalled nor propagated (as in 7.0).
            replies.append(None)
            continue
        replies.append(new if opcode == OP_INCRBY else old)
        write_bits(value, offset, bits, new)
        if grown or new != old:
            changes += 1
    if changes:
        db.signal_modified(key)
        _notify(client, NOTIFY_STRING, "setbit", key)
        client.engine.dirty += changes
    return replies


def bitfield_command(client: Client, argv: list[bytes]) -> list:
    """BITFIELD key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> ...]]"""
    return _bitfield(client, argv, False)


def bitfield_ro_command(client: Client, argv: list[bytes]) -> list:
    """BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]"""
    return _bitfield(client, argv, True)

