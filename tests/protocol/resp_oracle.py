"""A deliberately simple model of how Redis 7.0 parses client input (networking.c).

The tests compare :class:`specredis.protocol.parser.RequestParser` with this model
on random input. It favours obviousness over speed: line ends are found the way
``strchr`` finds them (stopping at a NUL byte), one byte at a time, and every
read re-parses the pending request from its first byte.
"""

from __future__ import annotations

import re

INLINE_MAX = 64 * 1024
_STRICT_INT = re.compile(rb"0|-?[1-9][0-9]*")


class ModelError(Exception):
    """A protocol error; ``message`` is the text after ``-ERR ``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def string2ll(text: bytes) -> int | None:
    if len(text) >= 21 or not _STRICT_INT.fullmatch(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def strchr(buf: bytes, char: int, start: int) -> int:
    for index in range(start, len(buf)):
        if buf[index] == 0:
            return -1
        if buf[index] == char:
            return index
    return -1


def split_inline(line: bytes) -> list[bytes] | None:
    """sdssplitargs(); None for unbalanced quotes."""
    line = line.split(b"\0", 1)[0]
    spaces = b" \t\n\v\f\r"
    args = []
    i = 0
    n = len(line)

    def at(k: int) -> int:
        return line[k] if k < n else 0

    while True:
        while i < n and line[i] in spaces:
            i += 1
        if i >= n:
            return args
        token = bytearray()
        mode = None          # None, '"' or "'"
        while True:
            c = at(i)
            if mode == '"':
                if c == ord("\\") and at(i + 1) == ord("x") and chr(at(i + 2)) in "0123456789abcdefABCDEF" \
                        and at(i + 2) and chr(at(i + 3)) in "0123456789abcdefABCDEF" and at(i + 3):
                    token.append(int(bytes([at(i + 2), at(i + 3)]), 16))
                    i += 4
                    continue
                if c == ord("\\") and at(i + 1):
                    escaped = at(i + 1)
                    token.append({ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}.get(escaped, escaped))
                    i += 2
                    continue
                if c == ord('"'):
                    if at(i + 1) and at(i + 1) not in spaces:
                        return None
                    i += 1
                    break
                if c == 0:
                    return None
                token.append(c)
                i += 1
            elif mode == "'":
                if c == ord("\\") and at(i + 1) == ord("'"):
                    token.append(ord("'"))
                    i += 2
                    continue
                if c == ord("'"):
                    if at(i + 1) and at(i + 1) not in spaces:
                        return None
                    i += 1
                    break
                if c == 0:
                    return None
                token.append(c)
                i += 1
            else:
                if c in b" \n\r\t" or c == 0:
                    if c:
                        i += 1
                    break
                if c == ord('"'):
                    mode = '"'
                elif c == ord("'"):
                    mode = "'"
                else:
                    token.append(c)
                i += 1
        args.append(bytes(token))


def parse_one(buf: bytes, pos: int, authenticated: bool, max_bulk: int) -> tuple[list[bytes], int] | None:
    """One request at ``pos``: (args, next position), None if incomplete; raises ModelError."""
    if buf[pos] == ord("*"):
        newline = strchr(buf, 13, pos)
        if newline < 0:
            if len(buf) - pos > INLINE_MAX:
                raise ModelError("Protocol error: too big mbulk count string")
            return None
        if newline >= len(buf) - 1:
            return None
        count = string2ll(buf[pos + 1:newline])
        if count is None or count > 2**31 - 1:
            raise ModelError("Protocol error: invalid multibulk length")
        if count > 10 and not authenticated:
            raise ModelError("Protocol error: unauthenticated multibulk length")
        pos = newline + 2
        args = []
        for _ in range(max(count, 0)):
            newline = strchr(buf, 13, pos)
            if newline < 0:
                if len(buf) - pos > INLINE_MAX:
                    raise ModelError("Protocol error: too big bulk count string")
                return None
            if newline >= len(buf) - 1:
                return None
            if buf[pos] != ord("$"):
                got = " " if buf[pos] in (10, 13) else bytes([buf[pos]]).decode("utf-8", "surrogateescape")
                raise ModelError(f"Protocol error: expected '$', got '{got}'")
            length = string2ll(buf[pos + 1:newline])
            if length is None or length < 0 or length > max_bulk:
                raise ModelError("Protocol error: invalid bulk length")
            if length > 16384 and not authenticated:
                raise ModelError("Protocol error: unauthenticated bulk length")
            pos = newline + 2
            if len(buf) - pos < length + 2:
                return None
            args.append(buf[pos:pos + length])
            pos += length + 2
        return args, pos
    newline = strchr(buf, 10, pos)
    if newline < 0:
        if len(buf) - pos > INLINE_MAX:
            raise ModelError("Protocol error: too big inline request")
        return None
    end = newline - 1 if newline > pos and buf[newline - 1] == 13 else newline
    args = split_inline(buf[pos:end])
    if args is None:
        raise ModelError("Protocol error: unbalanced quotes in request")
    return args, newline + 1


def model_parse(chunks: list[bytes], authenticated: bool = True,
                max_bulk: int = 512 * 1024 * 1024) -> tuple[list[list[bytes]], str | None]:
    """Feed ``chunks`` one read at a time; the requests Redis would run, and its error."""
    buf = b""
    requests: list[list[bytes]] = []
    for chunk in chunks:
        buf += chunk
        while buf:
            try:
                parsed = parse_one(buf, 0, authenticated, max_bulk)
            except ModelError as error:
                return requests, error.message
            if parsed is None:
                break
            args, pos = parsed
            if args:
                requests.append(args)
            buf = buf[pos:]
    return requests, None
