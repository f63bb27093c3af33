"""Stream IDs: ``<ms>-<seq>``, two unsigned 64-bit numbers, packed into one int.

A stream ID is held as the single integer ``ms << 64 | seq`` so that IDs compare,
sort and bisect as plain ints, in the order Redis gives them (ms first, then seq).
The parsers follow t_stream.c's streamGenericParseIDOrReply: each part is read with
``string2ull`` (a canonical integer, or else whatever C ``strtoull`` accepts: leading
spaces, a sign, leading zeros), ``-`` and ``+`` stand for the least and greatest IDs
where a range is given, ``(`` makes a range bound exclusive, and a missing sequence
part takes a default that depends on the command (0 for starts, the maximum for ends).
"""

from __future__ import annotations

import re

from specredis.engine.args import string_to_int
from specredis.engine.errors import RedisError

UINT64_MAX = (1 << 64) - 1
SEQ_MASK = UINT64_MAX
MIN_ID = 0
MAX_ID = (1 << 128) - 1

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"

# What strtoull() reads: optional white space, an optional sign, decimal digits, nothing after.
_STRTOULL = re.compile(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)\Z")


def pack(ms: int, seq: int) -> int:
    """The packed form of ``ms-seq``."""
    return ms << 64 | seq


def format_id(stream_id: int) -> bytes:
    """``b"ms-seq"``, as replies show IDs."""
    return b"%d-%d" % (stream_id >> 64, stream_id & SEQ_MASK)


def string_to_ull(text: bytes) -> int | None:
    """Redis's string2ull: the unsigned 64-bit value of ``text``, or None.

    A canonical integer must not be negative; anything else goes through strtoull, which
    skips leading white space, takes a sign (``-N`` wraps around modulo 2**64) and leading
    zeros, and fails on an empty string, trailing bytes or overflow (ERANGE)."""
    value = string_to_int(text)
    if value is not None:
        return value if value >= 0 else None
    match = _STRTOULL.match(text)
    if match is None:
        return None
    value = int(match.group(2))
    if value > UINT64_MAX:
        return None
    return (-value) & UINT64_MAX if match.group(1) == b"-" else value


def parse_id(raw: bytes, missing_seq: int = 0, strict: bool = False) -> int:
    """A stream ID argument (streamParseIDOrReply / streamParseStrictIDOrReply).

    ``-`` and ``+`` are the least and greatest IDs unless ``strict``; a missing
    sequence part is ``missing_seq``."""
    stream_id, _ = parse_id_or_partial(raw, missing_seq, strict, partial=False)
    return stream_id


def parse_id_or_partial(raw: bytes, missing_seq: int = 0, strict: bool = False,
                        partial: bool = True) -> tuple[int, bool]:
    """Like :func:`parse_id`, also accepting ``ms-*`` when ``partial`` (XADD).

    Returns ``(id, seq_given)``: for ``ms-*`` the id has sequence 0 and seq_given is False."""
    # C reads the argument as a NUL-terminated string of at most 127 bytes.
    if len(raw) > 127:
        raise RedisError(INVALID_ID)
    text = raw.split(b"\0", 1)[0] if b"\0" in raw else raw
    if text == b"-":
        if strict:
            raise RedisError(INVALID_ID)
        return MIN_ID, True
    if text == b"+":
        if strict:
            raise RedisError(INVALID_ID)
        return MAX_ID, True
    ms_text, dash, seq_text = text.partition(b"-")
    ms = string_to_ull(ms_text)
    if ms is None:
        raise RedisError(INVALID_ID)
    if not dash:
        return ms << 64 | missing_seq, True
    if partial and seq_text == b"*":
        return ms << 64, False
    seq = string_to_ull(seq_text)
    if seq is None:
        raise RedisError(INVALID_ID)
    return ms << 64 | seq, True


def parse_interval_id(raw: bytes, missing_seq: int) -> tuple[int, bool]:
    """A range bound of XRANGE/XREVRANGE/XPENDING/XAUTOCLAIM: ``(id, exclusive)``.

    ``(`` before an ID (of at least one more byte) makes it exclusive, and then the
    ID is parsed strictly (``(-`` and ``(+`` are invalid)."""
    if len(raw) > 1 and raw[0] == 0x28:     # '('
        return parse_id(raw[1:], missing_seq, strict=True), True
    return parse_id(raw, missing_seq), False


def increment_id(stream_id: int) -> int | None:
    """The next ID (streamIncrID), or None after the greatest one."""
    return stream_id + 1 if stream_id < MAX_ID else None


def decrement_id(stream_id: int) -> int | None:
    """The previous ID (streamDecrID), or None before 0-0."""
    return stream_id - 1 if stream_id > MIN_ID else None
