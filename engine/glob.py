"""Redis glob-style patterns (util.c stringmatchlen), compiled to regular expressions.

Used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, COMMAND LIST PATTERN, ACL key
patterns. Supports ``*``, ``?``, ``[abc]``, ``[^a-z]`` and ``\\`` escapes, with
Redis's treatment of odd cases: a reversed range ``[z-a]`` matches as ``[a-z]``,
``-`` before the last byte always makes a range (``[a-]`` is ``]``..``a``), and an
unterminated ``[`` class runs to the end of the pattern.
"""

from __future__ import annotations

import re
from functools import lru_cache


def _translate(pattern: bytes) -> bytes:
    out = bytearray()
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x2A:  # *
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            out += b".*"
        elif c == 0x3F:  # ?
            out += b"."
        elif c == 0x5B:  # [
            i += 1
            negate = i < n and pattern[i] == 0x5E
            if negate:
                i += 1
            items: list[bytes] = []
            while i < n and pattern[i] != 0x5D:
                if pattern[i] == 0x5C and i + 1 < n:  # escaped char inside a class
                    i += 1
                    items.append(re.escape(bytes([pattern[i]])))
                elif i + 2 < n and pattern[i + 1] == 0x2D:
                    # Like stringmatchlen, 'x-' takes the next byte as the range end even if it
                    # is ']' (so '[a-]' is the range ']'..'a', and the class goes on after it).
                    lo, hi = pattern[i], pattern[i + 2]
                    if lo > hi:
                        lo, hi = hi, lo
                    items.append(re.escape(bytes([lo])) + b"-" + re.escape(bytes([hi])))
                    i += 2
                else:
                    items.append(re.escape(bytes([pattern[i]])))
                i += 1
            if not items:
                # '[]' or '[^]' never matches / always matches one char in Redis.
                out += b"." if negate else b"(?!)"
            else:
                out += b"[" + (b"^" if negate else b"") + b"".join(items) + b"]"
        elif c == 0x5C and i + 1 < n:  # \x
            i += 1
            out += re.escape(bytes([pattern[i]]))
        else:
            out += re.escape(bytes([c]))
        i += 1
    return bytes(out)


@lru_cache(maxsize=4096)
def compile_glob(pattern: bytes, nocase: bool = False) -> re.Pattern[bytes]:
    """A compiled regex matching exactly what the Redis glob ``pattern`` matches."""
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    return re.compile(_translate(pattern) + b"\\Z", flags)


def glob_match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    """True if ``subject`` matches the Redis glob ``pattern``."""
    if pattern == b"*":
        return True
    return compile_glob(pattern, nocase).match(subject) is not None
