"""The protocol layer against a live reference redis-server 7.0.15.

* every request-parsing case in ``resp_cases.py`` is sent to the reference over a
  raw socket: the number of replies, the protocol error line and whether the
  connection is then closed must be what the table (and so our parser) says;
* ``DEBUG PROTOCOL <type>`` replies, in RESP2 and RESP3, must equal our encoding
  of the equivalent typed value byte for byte;
* doubles (ZSCORE, Lua ``{double=...}``) and error-text sanitising likewise;
* random pipelines with malformed pieces: reference and parser must agree.

Skipped without a reference (``tests/servers.py``), failed instead under CI.
"""

from __future__ import annotations

import os
import socket
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))

from resp_cases import CASES, UNAUTHENTICATED_CASES, mb  # noqa: E402
from servers import ServerProcess, start_reference  # noqa: E402

from specredis.protocol.client import RespError, RespReader  # noqa: E402
from specredis.protocol.encoder import encode  # noqa: E402
from specredis.protocol.parser import ProtocolError, RequestParser  # noqa: E402
from specredis.protocol.replies import (  # noqa: E402
    FALSE,
    TRUE,
    Attribute,
    BigNumber,
    Double,
    ErrorReply,
    Map,
    Push,
    Set,
    Verbatim,
)


@pytest.fixture(scope="module")
def protected() -> ServerProcess:
    """A reference that requires a password, for the unauthenticated limits."""
    server = start_reference("--requirepass", "secret")
    yield server
    server.stop()


class RawConnection:
    """A socket that counts RESP replies and notices when the server hangs up."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.reader = RespReader()
        self.closed = False

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True

    def _fill(self, timeout: float) -> bool:
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(1 << 16)
        except TimeoutError:
            return False
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.reader.buf += chunk      # not feed(): it compacts, and raw_reply() needs offsets
        return True

    def reply(self, timeout: float = 5.0):
        """The next reply; raises AssertionError if none comes."""
        deadline = time.monotonic() + timeout
        while True:
            done, value = self.reader.read()
            if done:
                return value
            if self.closed or time.monotonic() > deadline:
                raise AssertionError("no reply from the reference")
            self._fill(max(0.01, deadline - time.monotonic()))

    def raw_reply(self, timeout: float = 5.0) -> bytes:
        """The next reply's exact bytes."""
        start = self.reader.pos
        self.reply(timeout)
        return bytes(self.reader.buf[start:self.reader.pos])

    def wait_closed(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self._fill(0.05)
        return self.closed

    def idle(self, quiet: float = 0.05) -> bool:
        """True if nothing more arrives for ``quiet`` seconds and the connection stays open."""
        got = self._fill(quiet)
        return not got and not self.closed and self.reader.pos == len(self.reader.buf)

    def close(self) -> None:
        self.sock.close()


def run_reference(server: ServerProcess, data: bytes, requests: int, error: str | None,
                  prefix: bytes = b"", prefix_replies: int = 0, partial: bool = False) -> None:
    """Send ``data``; expect ``requests`` replies, then ``error`` and a hang-up (or neither).

    Unless the data ends in the middle of a request (``partial``), a PING must then
    be answered: the reference is between requests, as the parser says.
    """
    conn = RawConnection(server.port, server.host)
    try:
        if prefix:
            conn.send(prefix)
            for _ in range(prefix_replies):
                conn.reply()
        conn.send(data)
        for index in range(requests):
            reply = conn.reply()
            assert not (isinstance(reply, RespError) and "Protocol error" in reply.text), \
                f"reply {index} is a protocol error: {reply}"
        if error is None:
            assert conn.idle(), "the reference sent more replies, or closed the connection"
            if not partial:
                conn.send(b"PING\r\n")
                assert conn.raw_reply() in (b"+PONG\r\n", b"-NOAUTH Authentication required.\r\n")
        else:
            line = conn.raw_reply()
            assert line == b"-ERR " + error.encode("utf-8", "surrogateescape") + b"\r\n"
            assert conn.wait_closed(), "the reference kept the connection open after a protocol error"
    finally:
        conn.close()


def ids(cases: list) -> list[str]:
    return [repr(data if len(data) < 40 else data[:30] + b"...%d bytes" % len(data)) for data, _, _ in cases]


def ends_mid_request(data: bytes, authenticated: bool = True) -> bool:
    parser = RequestParser()
    parser.authenticated = authenticated
    parser.feed(data)
    try:
        while parser.drain():
            pass
    except ProtocolError:
        return False
    return parser.partial


@pytest.mark.parametrize(("data", "requests", "error"), CASES, ids=ids(CASES))
def test_parsing_matches_reference(reference: ServerProcess, data: bytes, requests: list, error: str | None) -> None:
    run_reference(reference, data, len(requests), error, partial=ends_mid_request(data))


@pytest.mark.parametrize(("data", "requests", "error"), UNAUTHENTICATED_CASES, ids=ids(UNAUTHENTICATED_CASES))
def test_unauthenticated_limits_match_reference(protected: ServerProcess, data: bytes, requests: list,
                                                error: str | None) -> None:
    run_reference(protected, data, len(requests), error, partial=ends_mid_request(data, False))


def test_limits_lift_after_auth(protected: ServerProcess) -> None:
    run_reference(protected, mb(*[b"x"] * 11) + b"*1\r\n$16385\r\n", 1, None,
                  prefix=b"AUTH secret\r\n", prefix_replies=1, partial=True)


# -- random pipelines ---------------------------------------------------------------------

_GOOD = [mb(b"PING"), mb(b"ECHO", b"a\r\nb"), mb(b"ECHO", b""), b"PING\r\n", b"ECHO 'a b'\n", b"\r\n",
         b"*0\r\n", b"*-1\r\n", mb(b"PING", b"x" * 2000), mb(b"ECHO", b"\x00\xff")]
_BAD = [b"*1\r\n$-1\r\n", b"*x\r\n", b"*1\r\n+OK\r\n", b"*1\r\n$3\r\n", b"*2\r\n$4\r\n", b"ECHO \"a\r\n",
        b"*1\r\n$04\r\nPING\r\n", b"*1\rX$4\rXPING\r\n", b"*1\r\n$4\r\nPINGxy", b"\x00", b"'", b"*1\r\n:1\r\n"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.sampled_from(_GOOD), st.sampled_from(_BAD)), min_size=1, max_size=12))
def test_random_pipelines_match_reference(reference: ServerProcess, pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    parser = RequestParser()
    parser.feed(data)
    requests: list = []
    error = None
    try:
        while batch := parser.drain():
            requests.extend(batch)
    except ProtocolError as exc:
        error = exc.message
    run_reference(reference, data, len(requests), error, partial=parser.partial)


# -- encoding -----------------------------------------------------------------------------

def debug_protocol(server: ServerProcess, kind: str, protocol: int, replies: int = 1) -> bytes:
    """The exact bytes of ``DEBUG PROTOCOL kind`` (and any replies that follow it)."""
    conn = RawConnection(server.port, server.host)
    try:
        if protocol == 3:
            conn.send(b"HELLO 3\r\n")
            conn.reply()
        conn.send(b"DEBUG PROTOCOL %s\r\n" % kind.encode())
        return b"".join(conn.raw_reply() for _ in range(replies))
    finally:
        conn.close()


DEBUG_PROTOCOL = {
    "string": b"Hello World",
    "integer": 12345,
    "double": Double(3.141),
    "bignum": BigNumber("1234567999999999999999999999999999999"),
    "null": None,
    "array": [0, 1, 2],
    "set": Set([0, 1, 2]),
    "map": Map([(0, FALSE), (1, TRUE), (2, FALSE)]),
    "attrib": Attribute([(b"key-popularity", [b"key:123", 90])], b"Some real reply following the attribute"),
    "verbatim": Verbatim("This is a verbatim\nstring"),
    "true": TRUE,
    "false": FALSE,
}


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("kind", sorted(DEBUG_PROTOCOL))
def test_encoding_matches_debug_protocol(reference: ServerProcess, kind: str, protocol: int) -> None:
    assert encode(DEBUG_PROTOCOL[kind], protocol) == debug_protocol(reference, kind, protocol)


def test_push_matches_debug_protocol(reference: ServerProcess) -> None:
    # RESP3 only: a push message, then the command's own reply.
    expected = debug_protocol(reference, "push", 3, replies=2)
    ours = encode(Push([b"server-cpu-usage", 42]), 3) + encode(b"Some real reply following the push reply", 3)
    assert ours == expected


def eval_raw(server: ServerProcess, script: str, protocol: int) -> bytes:
    conn = RawConnection(server.port, server.host)
    try:
        if protocol == 3:
            conn.send(b"HELLO 3\r\n")
            conn.reply()
        conn.send(mb(b"EVAL", script.encode(), b"0"))
        return conn.raw_reply()
    finally:
        conn.close()


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("score", ["0.1", "1e300", "-1e308", "1.5", "100", "3", "1e17", "123456789012345678",
                                   "5e-324", "1e-5", "1e16", "1e15", "0.000001", "2.5e-7", "inf", "-inf",
                                   "2.2250738585072014e-308", "9007199254740993"])
def test_zscore_doubles_match_reference(reference: ServerProcess, score: str, protocol: int) -> None:
    conn = RawConnection(reference.port, reference.host)
    try:
        if protocol == 3:
            conn.send(b"HELLO 3\r\n")
            conn.reply()
        conn.send(mb(b"DEL", b"proto:z") + mb(b"ZADD", b"proto:z", score.encode(), b"m")
                  + mb(b"ZSCORE", b"proto:z", b"m"))
        conn.reply()
        conn.reply()
        assert encode(Double(float(score)), protocol) == conn.raw_reply()
    finally:
        conn.close()


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize(("expr", "value"), [("-0.0", -0.0), ("0/0", float("-nan")), ("-(0/0)", float("nan")),
                                             ("1/0", float("inf")), ("-1/0", float("-inf")), ("0.1", 0.1)])
def test_lua_doubles_match_reference(reference: ServerProcess, expr: str, value: float, protocol: int) -> None:
    assert encode(Double(value), protocol) == eval_raw(reference, f"return {{double={expr}}}", protocol)


@pytest.mark.parametrize("text", ["ERR a\\r\\nb\\n", "\\nERR a b\\n\\n", "MY a\\nb", "ERR plain"])
def test_error_sanitising_matches_reference(reference: ServerProcess, text: str) -> None:
    expected = eval_raw(reference, f"return redis.error_reply('{text}')", 2)
    literal = text.replace("\\r", "\r").replace("\\n", "\n")
    assert encode(ErrorReply(literal), 2) == expected
