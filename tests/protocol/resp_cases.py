"""Request-parsing cases with the outcome Redis 7.0.15 gives for each.

Every entry is ``(input, requests, error)``: the requests Redis runs (in order)
and the text of the protocol error it then sends before closing the connection
(None: no error, the connection stays open). ``test_resp_reference.py`` checks
each entry against a live redis-server; ``test_resp_parser.py`` checks the parser
against the same entries, so the expectations here are the reference's.

Only PING, ECHO and unknown commands appear, so each request gets exactly one
reply and nothing blocks or changes the dataset.
"""

from __future__ import annotations

PING = [b"PING"]


def mb(*args: bytes) -> bytes:
    """A well-formed multibulk request."""
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


CASES: list[tuple[bytes, list[list[bytes]], str | None]] = [
    # -- well-formed ----------------------------------------------------------------------
    (mb(b"PING"), [PING], None),
    (mb(b"ECHO", b"a\r\nb") + mb(b"PING"), [[b"ECHO", b"a\r\nb"], PING], None),
    (mb(b"ECHO", b"") * 3, [[b"ECHO", b""]] * 3, None),
    (b"*0\r\nPING\r\n", [PING], None),
    (b"*-1\r\nPING\r\n", [PING], None),
    (b"*-5\r\nPING\r\n", [PING], None),
    # Redis skips the byte after each '\r' without looking at it.
    (b"*1\rX$4\rXPING\r\n", [PING], None),
    (b"*1\r\n$4\r\nPINGXY", [PING], None),
    (b"*1\r\n$4\r\nPINGXYPING\r\n", [PING, PING], None),
    # -- incomplete: nothing to run, no error --------------------------------------------
    (b"*2147483647\r\n", [], None),
    (b"*1\r\n$536870912\r\n", [], None),
    (b"*1\r\n$4\r\nPING", [], None),
    (b"*1\r\n$4\r", [], None),
    (b"*1\r", [], None),
    (b"*1", [], None),
    (b"*1\r\n+PING", [], None),
    # strchr() stops at a NUL: the line end after it is never seen.
    (b"*1\r\n\x00$4\r\nPING\r\n", [], None),
    (b"*1\x00\r\n$4\r\nPING\r\n", [], None),
    (b"*1\r\n$4\x00\r\nPING\r\n", [], None),
    (b"ECHO \x00\r\n", [], None),
    # -- multibulk count -----------------------------------------------------------------
    (b"*abc\r\n", [], "Protocol error: invalid multibulk length"),
    (b"*\r\n", [], "Protocol error: invalid multibulk length"),
    (b"*\r\nPING\r\n", [], "Protocol error: invalid multibulk length"),
    (b"*3000000000\r\n", [], "Protocol error: invalid multibulk length"),
    (b"*2147483648\r\n", [], "Protocol error: invalid multibulk length"),
    (b"*99999999999999999999\r\n", [], "Protocol error: invalid multibulk length"),
    (b"*+1\r\n$4\r\nPING\r\n", [], "Protocol error: invalid multibulk length"),
    (b"* 1\r\n$4\r\nPING\r\n", [], "Protocol error: invalid multibulk length"),
    (b"*1 \r\n$4\r\nPING\r\n", [], "Protocol error: invalid multibulk length"),
    (b"*01\r\n$4\r\nPING\r\n", [], "Protocol error: invalid multibulk length"),
    (b"*-0\r\nPING\r\n", [], "Protocol error: invalid multibulk length"),
    (b"*1\n$4\r\nPING\r\n", [], "Protocol error: invalid multibulk length"),
    # -- bulk headers --------------------------------------------------------------------
    (b"*1\r\n$-1\r\n", [], "Protocol error: invalid bulk length"),
    (b"*1\r\n$-5\r\n", [], "Protocol error: invalid bulk length"),
    (b"*1\r\n$-0\r\n", [], "Protocol error: invalid bulk length"),
    (b"*1\r\n$\r\n", [], "Protocol error: invalid bulk length"),
    (b"*1\r\n$+4\r\nPING\r\n", [], "Protocol error: invalid bulk length"),
    (b"*1\r\n$ 4\r\nPING\r\n", [], "Protocol error: invalid bulk length"),
    (b"*1\r\n$4 \r\nPING\r\n", [], "Protocol error: invalid bulk length"),
    (b"*1\r\n$04\r\nPING\r\n", [], "Protocol error: invalid bulk length"),
    (b"*1\r\n$536870913\r\n", [], "Protocol error: invalid bulk length"),
    (b"*1\r\n$999999999999999999999\r\n", [], "Protocol error: invalid bulk length"),
    (b"*1\r\n+PING\r\n", [], "Protocol error: expected '$', got '+'"),
    (b"*1\r\n:1\r\n", [], "Protocol error: expected '$', got ':'"),
    (b"*2\r\n$4\r\nECHO\r\n*1\r\n", [], "Protocol error: expected '$', got '*'"),
    # The offending byte is quoted raw; CR and LF become spaces.
    (b"*1\r\n\xff$4\r\n", [], "Protocol error: expected '$', got '\udcff'"),
    (b"*1\r\n\r\n", [], "Protocol error: expected '$', got ' '"),
    (b"*1\r\n\n\r\n", [], "Protocol error: expected '$', got ' '"),
    # Requests before the error run; the ones after it do not.
    (mb(b"PING") + b"*1\r\n$-2\r\n" + mb(b"PING"), [PING], "Protocol error: invalid bulk length"),
    (mb(b"PING") * 3 + b"*x\r\n", [PING] * 3, "Protocol error: invalid multibulk length"),
    # -- inline --------------------------------------------------------------------------
    (b"PING\n", [PING], None),
    (b"PING\r\n", [PING], None),
    (b"\n\nPING\r\n", [PING], None),
    (b"   \r\nPING\r\n", [PING], None),
    (b"$4\r\nPING\r\n", [[b"$4"], PING], None),
    (b"PING\rPING\n", [[b"PING", b"PING"]], None),
    (b"ECHO  a \t b\r\n", [[b"ECHO", b"a", b"b"]], None),
    (b'ECHO "a\\x41b\\n"\r\n', [[b"ECHO", b"aAb\n"]], None),
    (b'ECHO "\\xzz\\q\\t\\r\\b\\a\\\\\\""\r\n', [[b"ECHO", b'xzzq\t\r\b\a\\"']], None),
    (b'ECHO ""\r\n', [[b"ECHO", b""]], None),
    (b"ECHO ''\r\n", [[b"ECHO", b""]], None),
    (b"ECHO 'a\\'b'\r\n", [[b"ECHO", b"a'b"]], None),
    (b"ECHO 'a\\nb'\r\n", [[b"ECHO", b"a\\nb"]], None),
    (b"ECHO a\"b c\"\r\n", [[b"ECHO", b"ab c"]], None),
    (b"ECHO a\x0bb\r\n", [[b"ECHO", b"a\x0bb"]], None),
    (b"\x0bPING\x0c\r\n", [[b"PING\x0c"]], None),
    (b'ECHO "a"\x0bb\r\n', [[b"ECHO", b"a", b"b"]], None),
    (b"ECHO \xe9\r\n", [[b"ECHO", b"\xe9"]], None),
    (b'ECHO "abc"def\r\n', [], "Protocol error: unbalanced quotes in request"),
    (b"ECHO 'abc'def\r\n", [], "Protocol error: unbalanced quotes in request"),
    (b'ECHO "abc\r\n', [], "Protocol error: unbalanced quotes in request"),
    (b"ECHO 'abc\r\n", [], "Protocol error: unbalanced quotes in request"),
    (b'ECHO "a\\\r\n', [], "Protocol error: unbalanced quotes in request"),
    (b'ECHO a"b c"d\r\n', [], "Protocol error: unbalanced quotes in request"),
    (b"PING\r\nECHO 'x\r\nPING\r\n", [PING], "Protocol error: unbalanced quotes in request"),
    # -- 64KB without a line end -----------------------------------------------------------
    (b"A" * 65536, [], None),
    (b"A" * 65537, [], "Protocol error: too big inline request"),
    (b"*" + b"1" * 65535, [], None),
    (b"*" + b"1" * 65536, [], "Protocol error: too big mbulk count string"),
    (b"*1\r\n$" + b"1" * 65535, [], None),
    (b"*1\r\n$" + b"1" * 65536, [], "Protocol error: too big bulk count string"),
    (b"*1\r\n$\x00" + b"1" * 65535, [], "Protocol error: too big bulk count string"),
]

# The same, for a client that has not authenticated yet (requirepass set).
UNAUTHENTICATED_CASES: list[tuple[bytes, list[list[bytes]], str | None]] = [
    (mb(*[b"a"] * 10), [[b"a"] * 10], None),
    (mb(*[b"a"] * 11), [], "Protocol error: unauthenticated multibulk length"),
    (b"*11\r\n", [], "Protocol error: unauthenticated multibulk length"),
    (b"*11", [], None),
    (b"*-1\r\nPING\r\n", [PING], None),
    (mb(b"a" * 16384), [[b"a" * 16384]], None),
    (b"*1\r\n$16385\r\n", [], "Protocol error: unauthenticated bulk length"),
    (b"*1\r\n$16385", [], None),
    (b"*1\r\n$536870913\r\n", [], "Protocol error: invalid bulk length"),
    (b"*2147483648\r\n", [], "Protocol error: invalid multibulk length"),
]
