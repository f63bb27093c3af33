"""Argument parsing with Redis's rules and error texts.

Redis parses numeric arguments strictly (``string2ll``: no spaces, no ``+``, no
leading zeros, no ``_``) where Python's ``int()`` is lenient, so every handler
parses numbers through these helpers and gets Redis's exact error replies.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from specredis.engine.errors import NOT_FLOAT, NOT_INTEGER, RedisError

LLONG_MIN = -(1 << 63)
LLONG_MAX = (1 << 63) - 1

# The prefix strtod() accepts (atof/strtod without an end-pointer check).
_FLOAT_PREFIX = re.compile(
    rb"\s*[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    rb"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)",
    re.IGNORECASE)


def string_to_int(raw: bytes) -> int | None:
    """Redis's string2ll: the 64-bit integer ``raw`` spells canonically, or None."""
    # bytes.isdigit() is ASCII-only, so this is the regex above without its cost (INCR's hot path).
    if len(raw) > 20:
        return None
    if raw.isdigit():
        if raw[0] == 48 and len(raw) > 1:      # leading zero
            return None
        value = int(raw)
        return value if value <= LLONG_MAX else None
    if raw[:1] == b"-" and raw[1:].isdigit() and raw[1] != 48:
        value = int(raw)
        return value if value >= LLONG_MIN else None
    return None


def c_strtol(raw: bytes, start: int = 0) -> tuple[int, int]:
    """C strtol(raw + start, &end, 10) for a 64-bit long: spaces, a sign, then digits, saturating
    at the long range. Returns (value, end index); without digits, (0, start) as strtol does.
    For readers of Redis's files (the AOF loader and its checker, the AOF manifest)."""
    pos = start
    size = len(raw)
    while pos < size and raw[pos] in b" \t\n\v\f\r":
        pos += 1
    negative = pos < size and raw[pos] == 45        # '-'
    if pos < size and raw[pos] in b"+-":
        pos += 1
    digits = pos
    while pos < size and 48 <= raw[pos] <= 57:
        pos += 1
    if pos == digits:
        return 0, start
    value = int(raw[digits:pos])
    return (max(LLONG_MIN, -value) if negative else min(LLONG_MAX, value)), pos


def parse_int(raw: bytes, error: str = NOT_INTEGER) -> int:
    """A 64-bit integer argument (getLongLongFromObjectOrReply); ``error`` is the full error text."""
    value = string_to_int(raw)
    if value is None:
        raise RedisError(error)
    return value


def parse_int_range(raw: bytes, low: int, high: int, error: str | None = None) -> int:
    """An integer that must lie in [low, high] (getRangeLongFromObjectOrReply).

    With ``error``, that text is the reply for both failures; without it, as in Redis,
    a non-integer is NOT_INTEGER and an out-of-range value names the range."""
    value = parse_int(raw, error or NOT_INTEGER)
    if value < low or value > high:
        raise RedisError(error or f"ERR value is out of range, value must between {low} and {high}")
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


# -- int / long ranges ----------------------------------------------------------------------

INT_MIN = -(1 << 31)
INT_MAX = (1 << 31) - 1


def parse_c_int(raw: bytes, error: str | None = None) -> int:
    """A C ``int`` argument (getIntFromObjectOrReply): a 64-bit integer in the 32-bit range."""
    return parse_int_range(raw, INT_MIN, INT_MAX, error)


def parse_count(raw: bytes) -> int:
    """A COUNT-style long that must be positive (SCAN, ...): ``ERR syntax error`` below 1, as Redis."""
    value = parse_int(raw)
    if value < 1:
        raise RedisError("ERR syntax error")
    return value


ULONG_MAX = (1 << 64) - 1
_STRTOUL = re.compile(rb"[ \t\n\v\f\r]*([+-]?)([0-9]*)")


def parse_scan_cursor(raw: bytes) -> int:
    """A SCAN cursor (parseScanCursorOrReply): C ``strtoul`` over the whole argument.

    Like strtoul, a sign is accepted and ``-N`` wraps around (``-1`` is 2**64-1), and an
    empty string is cursor 0; leading spaces, trailing junk and overflow are ``invalid cursor``."""
    text = raw.split(b"\0", 1)[0]       # C reads the argument up to its first NUL
    match = _STRTOUL.match(text)
    sign, digits = match.group(1), match.group(2)
    if text[:1].isspace() or (match.end() != len(text) if digits else text not in (b"",)):
        raise RedisError("ERR invalid cursor")
    if not digits:
        return 0
    value = int(digits)
    if value > ULONG_MAX:
        raise RedisError("ERR invalid cursor")
    return (-value) & ULONG_MAX if sign == b"-" else value


# -- expire times ---------------------------------------------------------------------------

def invalid_expire_time(command: str) -> RedisError:
    """``ERR invalid expire time in 'set' command`` (addReplyErrorExpireTime; ``command`` is the fullname)."""
    return RedisError(f"ERR invalid expire time in '{command}' command")


def parse_positive_expire_ms(raw: bytes, unit_seconds: bool, relative: bool, now_ms: int, command: str) -> int:
    """The absolute unix-ms deadline of SET/SETEX/PSETEX/GETEX's EX/PX/EXAT/PXAT argument.

    Redis's getExpireMillisecondsOrReply: the number must be a positive 64-bit integer whose
    conversion to ms (and, for EX/PX, addition of the current time) does not overflow."""
    value = parse_int(raw)
    if value <= 0 or (unit_seconds and value > LLONG_MAX // 1000):
        raise invalid_expire_time(command)
    if unit_seconds:
        value *= 1000
    if relative:
        value += now_ms
        if value > LLONG_MAX:           # C's signed overflow turns this negative: same error
            raise invalid_expire_time(command)
    return value


def parse_expire_when_ms(raw: bytes, unit_seconds: bool, basetime_ms: int, command: str) -> int:
    """The absolute unix-ms time of EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (expireGenericCommand).

    Negative values are allowed (the key is then deleted); only overflows of the unit
    conversion or of the addition of ``basetime_ms`` are errors."""
    when = parse_int(raw)
    if unit_seconds:
        # LLONG_MAX/1000 and LLONG_MIN/1000 as C computes them (truncating toward zero).
        if when > LLONG_MAX // 1000 or when < -(-LLONG_MIN // 1000):
            raise invalid_expire_time(command)
        when *= 1000
    if when > LLONG_MAX - basetime_ms:
        raise invalid_expire_time(command)
    return when + basetime_ms


# -- long double (x87 80-bit) arithmetic ----------------------------------------------------
#
# INCRBYFLOAT and HINCRBYFLOAT compute in C ``long double``: on x86-64 an 80-bit float with a
# 64-bit significand, parsed by strtold and printed with "%.17Lf". Python has no such type,
# so values are kept as exact Fractions, rounded to the nearest representable long double
# (ties to even) after every operation, exactly as the x87 unit does.

LD_SIGNIFICAND_BITS = 64
LD_MIN_EXPONENT = -16445           # the least subnormal is 2**-16445
LD_MAX_BITS = 16384                # every finite value is < 2**16384
LD_MAX_CHARS = 5 * 1024            # MAX_LONG_DOUBLE_CHARS: strings this long are rejected
LongDouble = Fraction | float      # a finite value as a Fraction; ±inf as a float

_DECIMAL_LD = re.compile(rb"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?\Z")
_HEX_LD = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?\Z")
_INF_LD = re.compile(rb"([+-]?)(?:inf|infinity)\Z", re.IGNORECASE)


def round_long_double(value: Fraction) -> LongDouble:
    """The long double nearest to ``value`` (ties to even); ±inf on overflow."""
    if value == 0:
        return Fraction(0)
    negative = value < 0
    num, den = abs(value.numerator), value.denominator
    # floor(log2(num/den)), then the exponent of the last significand bit.
    exp2 = num.bit_length() - den.bit_length()
    if (num << -exp2 if exp2 < 0 else num) < (den << exp2 if exp2 > 0 else den):
        exp2 -= 1
    shift = max(exp2 - (LD_SIGNIFICAND_BITS - 1), LD_MIN_EXPONENT)
    if shift >= 0:
        divisor = den << shift
        quotient, remainder = divmod(num, divisor)
    else:
        divisor = den
        quotient, remainder = divmod(num << -shift, den)
    if 2 * remainder > divisor or (2 * remainder == divisor and quotient & 1):
        quotient += 1
    if quotient.bit_length() + shift > LD_MAX_BITS:
        return -math.inf if negative else math.inf
    result = Fraction(quotient << shift) if shift >= 0 else Fraction(quotient, 1 << -shift)
    return -result if negative else result


_CHUNK_DIGITS = 4000     # below Python's int<->str conversion limit (sys.get_int_max_str_digits)


def _digits_to_int(digits: bytes, base: int = 10) -> int:
    """``int(digits, base)`` for digit strings longer than Python's conversion limit."""
    if len(digits) <= _CHUNK_DIGITS:
        return int(digits, base)
    head, tail = digits[:-_CHUNK_DIGITS], digits[-_CHUNK_DIGITS:]
    return _digits_to_int(head, base) * base**_CHUNK_DIGITS + int(tail, base)


def _int_to_digits(value: int) -> bytes:
    """``b"%d" % value`` for non-negative integers of any size."""
    if value < 10**_CHUNK_DIGITS:
        return b"%d" % value
    head, tail = divmod(value, 10**_CHUNK_DIGITS)
    return _int_to_digits(head) + (b"%d" % tail).rjust(_CHUNK_DIGITS, b"0")


def _scaled(mantissa: int, base: int, exponent: int) -> Fraction:
    return Fraction(mantissa * base**exponent) if exponent >= 0 else Fraction(mantissa, base**-exponent)


def string_to_long_double(raw: bytes) -> LongDouble | None:
    """Redis's string2ld (strtold over the whole string): the value, or None if invalid.

    Rejected like Redis: empty or too long strings, leading space, trailing junk, NaN, and
    values whose conversion overflows or underflows to zero (strtold's ERANGE)."""
    if not raw or len(raw) >= LD_MAX_CHARS or raw[:1].isspace():
        return None
    match = _DECIMAL_LD.match(raw)
    if match is not None:
        sign, whole, frac, exp = match.groups()
        frac = frac or b""
        if not whole and not frac:
            return None
        digits = (whole + frac).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exponent = int(exp or b"0") - len(frac)
        # Decimal position of the leading digit: outside these bounds the result is certainly
        # inf or 0, and computing 10**exponent would be pointless (or impossibly large).
        leading = exponent + len(digits) - 1
        if leading > 4933:
            return None
        if leading < -4952:
            return None
        value = round_long_double(_scaled(_digits_to_int(digits), 10, exponent))
    else:
        match = _HEX_LD.match(raw)
        if match is not None:
            sign, whole, frac, exp = match.groups()
            frac = frac or b""
            if not whole and not frac:
                return None
            digits = (whole + frac).lstrip(b"0")
            if not digits:
                return Fraction(0)
            exponent = int(exp or b"0") - 4 * len(frac)
            leading = exponent + 4 * len(digits)
            if leading > LD_MAX_BITS + 4 or leading < LD_MIN_EXPONENT - 8:
                return None
            value = round_long_double(_scaled(_digits_to_int(digits, 16), 2, exponent))
        else:
            match = _INF_LD.match(raw)
            if match is None:
                return None
            return -math.inf if match.group(1) == b"-" else math.inf
    if isinstance(value, float) or value == 0:      # ERANGE: overflow, or underflow to zero
        return None
    return -value if sign == b"-" else value


def parse_long_double(raw: bytes, error: str = NOT_FLOAT) -> LongDouble:
    """A long double argument (getLongDoubleFromObjectOrReply)."""
    value = string_to_long_double(raw)
    if value is None:
        raise RedisError(error)
    return value


def add_long_double(a: LongDouble, b: LongDouble) -> LongDouble | None:
    """``a + b`` in long double arithmetic; None when the result is NaN (inf - inf)."""
    if isinstance(a, float) or isinstance(b, float):
        total = float(a) + float(b) if isinstance(a, float) and isinstance(b, float) else (
            a if isinstance(a, float) else b)
        return None if math.isnan(total) else total
    return round_long_double(a + b)


def format_long_double(value: LongDouble) -> bytes:
    """Redis's ld2string in LD_STR_HUMAN mode: "%.17Lf" with trailing zeros removed, "-0" as "0"."""
    if isinstance(value, float):
        return b"inf" if value > 0 else b"-inf"
    scaled = value * 10**17
    units, remainder = divmod(abs(scaled.numerator), scaled.denominator)
    if 2 * remainder > scaled.denominator or (2 * remainder == scaled.denominator and units & 1):
        units += 1
    digits = _int_to_digits(units).rjust(18, b"0")
    text = digits[:-17] + b"." + digits[-17:]
    text = text.rstrip(b"0").rstrip(b".")
    if value < 0 and text != b"0":
        text = b"-" + text
    return text
