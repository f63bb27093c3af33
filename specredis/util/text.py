"""Quoting strings as Redis's ``sdscatrepr`` does (MONITOR, CONFIG REWRITE, the AOF manifest,
the Lua debugger): one implementation for every place Redis shows a quoted string."""

from __future__ import annotations

# Printable bytes stay, a few escapes are named, the rest is \xNN.
_REPR = [f"\\x{b:02x}".encode() for b in range(256)]
for _b in range(0x20, 0x7F):
    _REPR[_b] = bytes([_b])
for _b, _text in ((0x5C, b"\\\\"), (0x22, b'\\"'), (0x0A, b"\\n"), (0x0D, b"\\r"), (0x09, b"\\t"),
                  (0x07, b"\\a"), (0x08, b"\\b")):
    _REPR[_b] = _text
_PLAIN = frozenset(range(0x20, 0x7F)) - {0x5C, 0x22}


def quote_repr(arg: bytes) -> bytes:
    """``arg`` double-quoted and escaped as Redis's sdscatrepr does."""
    if all(b in _PLAIN for b in arg):
        return b'"' + arg + b'"'
    return b'"' + b"".join([_REPR[b] for b in arg]) + b'"'
