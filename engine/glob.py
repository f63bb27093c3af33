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


def _tokens(pattern: bytes) -> list[bytes | None]:
    """The pattern as regex pieces that each match exactly one byte, and None for each run of stars."""
    out: list[bytes | None] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x2A:  # *
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            out.append(None)
        elif c == 0x3F:  # ?
            out.append(b".")
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
                out.append(b"." if negate else b"(?!)")
            else:
                out.append(b"[" + (b"^" if negate else b"") + b"".join(items) + b"]")
        elif c == 0x5C and i + 1 < n:  # \x
            i += 1
            out.append(re.escape(bytes([pattern[i]])))
        else:
            out.append(re.escape(bytes([c])))
        i += 1
    return out


def _translate(pattern: bytes) -> bytes:
    """The regex of a glob, built so that matching takes O(len(subject) * len(pattern)).

    A naive ``.*`` per star backtracks exponentially (``*a*a*a*a*b`` against a long run of
    a's), where Redis's stringmatchlen is linear per star. Between two stars the pattern is
    a fixed-width segment, and taking its leftmost occurrence is always right (it leaves the
    longest rest of the subject), so each middle segment is an atomic ``(?>.*?SEGMENT)``
    that never backtracks; the last one is anchored at the end."""
    tokens = _tokens(pattern)
    segments: list[bytes] = [b""]
    for token in tokens:
        if token is None:
            segments.append(b"")
        else:
            segments[-1] += token
    if len(segments) == 1:
        return segments[0]
    head, *middle, tail = segments
    return head + b"".join(b"(?>.*?" + segment + b")" for segment in middle if segment) + b".*" + tail


@lru_cache(maxsize=4096)
def compile_glob(pattern: bytes, nocase: bool = False) -> re.Pattern[bytes]:
    """A compiled regex matching exactly what the Redis glob ``pattern`` matches."""
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    # stringmatchlen never matches an empty subject against a non-empty pattern, not even
    # '*' (KEYS and SCAN special-case a lone '*' themselves).
    return re.compile((b"(?=.)" if pattern else b"") + _translate(pattern) + b"\\Z", flags)


def glob_match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    """True if ``subject`` matches the Redis glob ``pattern``."""
    if pattern == b"*":
        return bool(subject)
    return compile_glob(pattern, nocase).match(subject) is not None
