"""Argument parsing with Redis's rules and error texts.

Redis parses numeric arguments strictly (``string2ll``: no spaces, no ``+``, no
leading zeros, no ``_``) where Python's ``int()`` is lenient, so every handler
parses numbers through these helpers and gets Redis's exact error replies.
"""

from __future__ import annotations

import math
import re

from specredis.engine.errors import NOT_FLOAT, NOT_INTEGER, RedisError

LLONG_MIN = -(1 << 63)
LLONG_MAX = (1 << 63) - 1

# string2ll: optional '-', then "0" alone or a digit 1-9 followed by digits.
_INTEGER = re.compile(rb"(?:0|-?[1-9][0-9]*)\Z")
# The prefix strtod() accepts (atof/strtod without an end-pointer check).
_FLOAT_PREFIX = re.compile(
    rb"\s*[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    rb"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)",
    re.IGNORECASE)


def string_to_int(raw: bytes) -> int | None:
    """Redis's string2ll: the 64-bit integer ``raw`` spells canonically, or None."""
    if len(raw) > 20 or not _INTEGER.match(raw):
        return None
    value = int(raw)
    if value < LLONG_MIN or value > LLONG_MAX:
        return None
    return value


def parse_int(raw: bytes, error: str = NOT_INTEGER) -> int:
    """A 64-bit integer argument (getLongLongFromObjectOrReply); ``error`` is the full error text."""
    value = string_to_int(raw)
    if value is None:
        raise RedisError(error)
    return value


def parse_int_range(raw: bytes, low: int, high: int, error: str = NOT_INTEGER) -> int:
    """An integer that must lie in [low, high] (getRangeLongFromObjectOrReply); same error either way."""
    value = parse_int(raw, error)
    if value < low or value > high:
        raise RedisError(error)
    return value


def strtod_prefix(raw: bytes) -> float:
    """C ``strtod``/``atof`` without an end check: the longest numeric prefix, or 0.0."""
    match = _FLOAT_PREFIX.match(raw)
    if match is None:
        return 0.0
    text = match.group(0).strip()
    try:
        return float(text)
    except ValueError:
        return float.fromhex(text.decode())


def string_to_float(raw: bytes) -> float | None:
    """Redis's getDoubleFromObject rules: the whole string is a strtod number, no spaces, not NaN."""
    if not raw or raw[:1].isspace() or raw[-1:].isspace() or b"_" in raw:
        return None
    match = _FLOAT_PREFIX.match(raw)
    if match is None or match.end() != len(raw):
        return None
    value = strtod_prefix(raw)
    if math.isnan(value):
        return None
    # strtod's ERANGE: an overflow to ±inf or an underflow to zero is rejected.
    if math.isinf(value) and b"inf" not in raw.lower():
        return None
    if value == 0.0 and re.search(rb"[1-9]", raw.split(b"e")[0].split(b"E")[0].split(b"p")[0].split(b"P")[0]):
        return None
    return value


def parse_float(raw: bytes, error: str = NOT_FLOAT) -> float:
    """A double argument (getDoubleFromObjectOrReply); ``error`` is the full error text."""
    value = string_to_float(raw)
    if value is None:
        raise RedisError(error)
    return value


def parse_timeout_ms(raw: bytes, now_ms: int) -> int:
    """An absolute deadline from a millisecond timeout (getTimeoutFromObjectOrReply, UNIT_MILLISECONDS).

    0 stays 0 (no timeout). Redis 7.0 adds the current time without an overflow check, so a
    huge timeout wraps to a negative deadline, one that has already passed (verified on 7.0.15)."""
    value = parse_int(raw, "ERR timeout is not an integer or out of range")
    if value < 0:
        raise RedisError("ERR timeout is negative")
    if value == 0:
        return 0
    deadline = now_ms + value
    return deadline - (1 << 64) if deadline > LLONG_MAX else deadline


def parse_yes_no(raw: bytes) -> bool | None:
    """``yes``/``no`` (any case) as a bool; None for anything else."""
    low = raw.lower()
    if low == b"yes":
        return True
    if low == b"no":
        return False
    return None
