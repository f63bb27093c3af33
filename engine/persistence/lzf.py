"""LZF compression as the RDB format uses it (liblzf's format, as in Redis's lzf_c.c/lzf_d.c).

The format is a sequence of runs. A control byte below 32 starts a literal run of
``ctrl + 1`` bytes. Any other control byte is a back reference: its top three bits
are the match length minus 2 (7 means "add the next byte"), its low five bits and
the following byte the distance minus 1 back into the output.

:func:`compress` and :func:`decompress` use the C extension ``lzf`` (package
``python-neo-lzf``) when it is installed and the pure-Python code below otherwise;
both produce and accept the same format, so files stay interchangeable.
"""

from __future__ import annotations

try:                                   # the C extension: ~100x faster
    import lzf as _c_lzf
except ImportError:                    # pragma: no cover - depends on the environment
    _c_lzf = None

# liblzf's limits: literal runs of at most 32 bytes, matches of 3..264 bytes at most 8 KiB back.
MAX_LITERAL = 32
MAX_OFFSET = 1 << 13
MAX_MATCH = 264
MAX_EXPANSION = 88


class LzfError(ValueError):
    """The data is not a valid LZF stream for the expected size."""


def compress(data: bytes | bytearray | memoryview, max_size: int) -> bytes | None:
    """LZF-compress ``data``; None when the result would not fit in ``max_size`` bytes
    (Redis stores a string compressed only when that saves at least four bytes)."""
    if max_size <= 0 or not data:
        return None
    if _c_lzf is not None:
        return _c_lzf.compress(bytes(data), max_size)
    return py_compress(bytes(data), max_size)


def decompress(data: bytes | bytearray | memoryview, size: int) -> bytes:
    """The ``size`` bytes ``data`` decompresses to; :class:`LzfError` if it does not give exactly that."""
    if size == 0:
        if data:
            raise LzfError("Invalid LZF compressed string")
        return b""
    if size > MAX_EXPANSION * len(data) + MAX_LITERAL:
        # No LZF stream expands this much (a 3-byte reference gives at most 264 bytes): refuse
        # before allocating what a corrupt length asks for.
        raise LzfError("Invalid LZF compressed string")
    if _c_lzf is not None:
        try:
            out = _c_lzf.decompress(bytes(data), size)
        except ValueError:
            raise LzfError("Invalid LZF compressed string") from None
        if out is None or len(out) != size:
            raise LzfError("Invalid LZF compressed string")
        return out
    return py_decompress(bytes(data), size)


def py_decompress(data: bytes, size: int) -> bytes:
    """Pure-Python LZF decompression (liblzf's lzf_decompress, with its bounds checks)."""
    out = bytearray()
    pos = 0
    end = len(data)
    while pos < end:
        ctrl = data[pos]
        pos += 1
        if ctrl < 32:
            run = ctrl + 1
            if pos + run > end or len(out) + run > size:
                raise LzfError("Invalid LZF compressed string")
            out += data[pos:pos + run]
            pos += run
            continue
        length = ctrl >> 5
        if length == 7:
            if pos >= end:
                raise LzfError("Invalid LZF compressed string")
            length += data[pos]
            pos += 1
        if pos >= end:
            raise LzfError("Invalid LZF compressed string")
        back = ((ctrl & 0x1F) << 8) + data[pos] + 1
        pos += 1
        length += 2
        start = len(out) - back
        if start < 0 or len(out) + length > size:
            raise LzfError("Invalid LZF compressed string")
        if back >= length:
            out += out[start:start + length]
        else:                           # an overlapping copy repeats the last ``back`` bytes
            for i in range(length):
                out.append(out[start + i])
    if len(out) != size:
        raise LzfError("Invalid LZF compressed string")
    return bytes(out)


def py_compress(data: bytes, max_size: int) -> bytes | None:
    """Pure-Python LZF compression: greedy matches found through a hash of the next 3 bytes."""
    n = len(data)
    out = bytearray()
    literal_start = 0
    table: dict[bytes, int] = {}
    i = 0
    while i < n - 2:
        trigram = data[i:i + 3]
        candidate = table.get(trigram)
        table[trigram] = i
        if candidate is not None and i - candidate <= MAX_OFFSET:
            length = 3
            limit = min(MAX_MATCH, n - i)
            while length < limit and data[candidate + length] == data[i + length]:
                length += 1
            _flush_literals(out, data, literal_start, i)
            back = i - candidate - 1
            encoded = length - 2
            if encoded < 7:
                out.append((encoded << 5) | (back >> 8))
            else:
                out.append((7 << 5) | (back >> 8))
                out.append(encoded - 7)
            out.append(back & 0xFF)
            if len(out) > max_size:
                return None
            # Index the positions inside the match so later data can refer to them.
            for j in range(i + 1, min(i + length, n - 2)):
                table[data[j:j + 3]] = j
            i += length
            literal_start = i
            continue
        i += 1
    _flush_literals(out, data, literal_start, n)
    if len(out) > max_size:
        return None
    return bytes(out)


def _flush_literals(out: bytearray, data: bytes, start: int, end: int) -> None:
    while start < end:
        run = min(MAX_LITERAL, end - start)
        out.append(run - 1)
        out += data[start:start + run]
        start += run
