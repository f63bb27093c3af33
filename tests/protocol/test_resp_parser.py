"""Unit tests for specredis.protocol.parser.RequestParser.

The expected outcomes in ``resp_cases.py`` are checked against the reference by
``test_resp_reference.py``; here the parser must produce them however the input
is cut into reads.
"""

from __future__ import annotations

import os
import sys
import tracemalloc

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from resp_cases import CASES, UNAUTHENTICATED_CASES, mb  # noqa: E402
from resp_oracle import model_parse  # noqa: E402

from specredis.protocol.parser import (  # noqa: E402
    ProtocolError,
    QueryBufferLimitExceeded,
    RequestParser,
    split_args,
)


def parse(chunks: list[bytes], authenticated: bool = True, **limits: int) -> tuple[list, str | None]:
    """Feed each chunk and drain until nothing is left: (requests, protocol error text)."""
    parser = RequestParser(**limits)
    parser.authenticated = authenticated
    requests: list = []
    try:
        for chunk in chunks:
            parser.feed(chunk)
            while batch := parser.drain():
                requests.extend(batch)
    except ProtocolError as error:
        return requests, error.message
    return requests, None


def ids(cases: list) -> list[str]:
    return [repr(data if len(data) < 40 else data[:30] + b"...%d bytes" % len(data)) for data, _, _ in cases]


# -- the reference-checked table ------------------------------------------------------------

@pytest.mark.parametrize(("data", "requests", "error"), CASES, ids=ids(CASES))
def test_cases_in_one_read(data: bytes, requests: list, error: str | None) -> None:
    assert parse([data]) == (requests, error)


@pytest.mark.parametrize(("data", "requests", "error"), [c for c in CASES if len(c[0]) < 200],
                         ids=ids([c for c in CASES if len(c[0]) < 200]))
def test_cases_byte_by_byte_and_every_split(data: bytes, requests: list, error: str | None) -> None:
    assert parse([data[i:i + 1] for i in range(len(data))]) == (requests, error)
    for cut in range(1, len(data)):
        assert parse([data[:cut], data[cut:]]) == (requests, error), cut


@pytest.mark.parametrize(("data", "requests", "error"), UNAUTHENTICATED_CASES, ids=ids(UNAUTHENTICATED_CASES))
def test_unauthenticated_cases(data: bytes, requests: list, error: str | None) -> None:
    assert parse([data], authenticated=False) == (requests, error)
    assert parse([data[:7], data[7:]], authenticated=False) == (requests, error)


def test_authenticated_lifts_the_limits() -> None:
    assert parse([mb(*[b"a"] * 11) + mb(b"x" * 16385)]) == ([[b"a"] * 11, [b"x" * 16385]], None)


def test_unauthenticated_drain_returns_one_request_at_a_time() -> None:
    # So that an AUTH takes effect before the rest of the pipeline is parsed.
    parser = RequestParser()
    parser.authenticated = False
    parser.feed(mb(b"AUTH", b"pw") + mb(*[b"a"] * 11))
    assert parser.drain() == [[b"AUTH", b"pw"]]
    parser.authenticated = True
    assert parser.drain() == [[b"a"] * 11]
    assert parser.drain() == []


# -- error handling -------------------------------------------------------------------------

def test_requests_before_an_error_come_first_then_the_error_sticks() -> None:
    parser = RequestParser()
    parser.feed(mb(b"PING") + mb(b"ECHO", b"x") + b"*1\r\n$-3\r\n" + mb(b"PING"))
    assert parser.drain() == [[b"PING"], [b"ECHO", b"x"]]
    for _ in range(2):
        with pytest.raises(ProtocolError) as info:
            parser.drain()
        assert info.value.message == "Protocol error: invalid bulk length"
    parser.feed(mb(b"PING"))            # ignored from now on
    with pytest.raises(ProtocolError):
        parser.next_request()


def test_protocol_error_reply_and_message_bytes() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_strict(b"*1\r\n\xfe\r\n")
    error = info.value
    assert error.message == "Protocol error: expected '$', got '\udcfe'"
    assert error.message.encode() == b"Protocol error: expected '$', got '\xfe'"
    assert error.reply == b"-ERR Protocol error: expected '$', got '\xfe'\r\n"
    assert isinstance(error.message, str)


def parse_strict(data: bytes) -> list:
    parser = RequestParser()
    parser.feed(data)
    out = parser.drain()
    out += parser.drain()
    return out


def test_next_request() -> None:
    parser = RequestParser()
    assert parser.next_request() is None
    parser.feed(b"*2\r\n$4\r\nECHO\r\n$1\r\na\r\nPING\r\n*1\r\n$4\r\nPI")
    assert parser.next_request() == [b"ECHO", b"a"]
    assert parser.next_request() == [b"PING"]
    assert parser.next_request() is None
    assert parser.partial
    parser.feed(b"NG\r\n")
    assert parser.next_request() == [b"PING"]
    assert parser.next_request() is None
    assert not parser.partial


def test_next_request_then_drain_keeps_order() -> None:
    parser = RequestParser()
    parser.feed(mb(b"A") + mb(b"B") + mb(b"C"))
    assert parser.next_request() == [b"A"]
    parser.feed(mb(b"D"))
    assert parser.drain() == [[b"B"], [b"C"], [b"D"]]


def test_empty_requests_are_skipped() -> None:
    assert parse([b"*0\r\n*-1\r\n\r\n  \r\n\n" + mb(b"PING")]) == ([[b"PING"]], None)


# -- limits ---------------------------------------------------------------------------------

def test_proto_max_bulk_len() -> None:
    limit = 1024 * 1024
    assert parse([b"*1\r\n$%d\r\n" % (limit + 1)], proto_max_bulk_len=limit) == \
        ([], "Protocol error: invalid bulk length")
    value = b"v" * limit
    assert parse([mb(value)], proto_max_bulk_len=limit) == ([[value]], None)
    # Small limits (tests) turn the table-driven paths off but keep the checks.
    assert parse([mb(b"abcd", b"abcde")], proto_max_bulk_len=4) == ([], "Protocol error: invalid bulk length")
    assert parse([mb(b"abcd") * 3], proto_max_bulk_len=4) == ([[b"abcd"]] * 3, None)


def test_query_buffer_limit() -> None:
    parser = RequestParser(client_query_buffer_limit=1000)
    parser.feed(b"*1\r\n$2000\r\n")
    parser.drain()
    parser.feed(b"x" * 900)
    with pytest.raises(QueryBufferLimitExceeded):
        parser.feed(b"x" * 200)
    parser.feed(b"more")                # ignored
    with pytest.raises(QueryBufferLimitExceeded):
        parser.drain()


def test_query_buffer_limit_counts_only_unparsed_input() -> None:
    parser = RequestParser(client_query_buffer_limit=1000)
    for _ in range(100):
        parser.feed(mb(b"SET", b"k", b"v" * 50) * 5)
        assert len(parser.drain()) == 5


def test_claimed_lengths_allocate_nothing() -> None:
    tracemalloc.start()
    try:
        for data in (b"*2147483647\r\n", b"*1\r\n$536870912\r\n", b"*2147483647\r\n$536870912\r\nabc",
                     b"*1000000\r\n" + b"$0\r\n\r\n" * 10):
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            parser = RequestParser()
            parser.feed(data)
            assert parser.drain() == []
            parser.feed(b"x" * 1000)
            assert parser.drain() == []
            peak = tracemalloc.get_traced_memory()[1] - before
            assert peak < 256 * 1024, (data[:20], peak)
    finally:
        tracemalloc.stop()


# -- big and unusual input ------------------------------------------------------------------

@pytest.mark.parametrize("chunk", [1, 7, 4096, 65536])
def test_large_argument_over_many_reads(chunk: int) -> None:
    value = bytes(range(256)) * 1200          # 300KB, CRLF and NUL bytes inside
    data = mb(b"SET", b"k", value) + mb(b"GET", b"k")
    if chunk == 1:
        # Byte by byte through the headers and into the value; 300KB of it would be slow.
        chunks = [data[i:i + 1] for i in range(2000)] + [data[2000:]]
    else:
        chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    assert parse(chunks) == ([[b"SET", b"k", value], [b"GET", b"k"]], None)


def test_mixed_pipeline_equals_model() -> None:
    frames = []
    for i in range(300):
        kind = i % 7
        if kind == 0:
            frames.append(mb(b"SET", b"key:%d" % i, b"x" * (i % 40)))
        elif kind == 1:
            frames.append(mb(b"GET", b"key:%d" % i))
        elif kind == 2:
            frames.append(mb(b"SET", b"bin", b"a\r\nb\r\n" * i))
        elif kind == 3:
            frames.append(b"INLINE 'a b' \"c\\x41\" %d\r\n" % i)
        elif kind == 4:
            frames.append(mb(b"MSET", *[b"k%d" % j for j in range(i % 30 + 1)]))
        elif kind == 5:
            frames.append(mb(b"SET", b"big", b"y" * (1500 + 37 * i)))
        else:
            frames.append(mb(b"PING") * (i % 5 + 1))
    data = b"".join(frames)
    for size in (len(data), 65536, 1000, 97):
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        assert parse(chunks) == model_parse(chunks)


def test_runs_with_one_bad_frame_in_the_middle() -> None:
    good = mb(b"SET", b"key", b"val")
    odd = mb(b"SET", b"key", b"v\r\nl")            # same shape, CRLF inside: not splittable
    data = good * 5 + odd + good * 5 + b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$03\r\nval\r\n" + good
    requests, error = parse([data])
    assert requests == [[b"SET", b"key", b"val"]] * 5 + [[b"SET", b"key", b"v\r\nl"]] + [[b"SET", b"key", b"val"]] * 5
    assert error == "Protocol error: invalid bulk length"


def test_buffer_is_released_once_consumed() -> None:
    parser = RequestParser()
    parser.feed(mb(b"SET", b"k", b"v" * 200000)[:100000])
    parser.drain()
    parser.feed(mb(b"SET", b"k", b"v" * 200000)[100000:])
    assert parser.drain() == [[b"SET", b"k", b"v" * 200000]]
    assert parser.pending_bytes() == 0 and not parser.partial


def test_accepts_bytearray_and_memoryview() -> None:
    parser = RequestParser()
    parser.feed(bytearray(b"*1\r\n$4\r\nPI"))
    parser.feed(memoryview(b"NG\r\nPING\r\n"))
    assert parser.drain() == [[b"PING"], [b"PING"]]
    assert all(type(arg) is bytes for request in parser.drain() for arg in request)


# -- inline splitting -----------------------------------------------------------------------

@pytest.mark.parametrize(("line", "args"), [
    (b"", []),
    (b"   ", []),
    (b"a b  c", [b"a", b"b", b"c"]),
    (b"\ta\x0bb\x0c c", [b"a\x0bb\x0c", b"c"]),
    (b'"a b" c', [b"a b", b"c"]),
    (b'"\\x4a\\x4B\\x4" \\x41', [b"JKx4", b"\\x41"]),
    (b"'a\\\\b' 'it\\'s'", [b"a\\\\b", b"it's"]),
    (b'x"y z"', [b"xy z"]),
    (b'"a"\x0c"b"', [b"a", b"b"]),
    (b"a\x00b c", [b"a"]),
])
def test_split_args(line: bytes, args: list[bytes]) -> None:
    assert split_args(line) == args


@pytest.mark.parametrize("line", [b'"a', b"'a", b'"a"b', b"'a'b", b'"\\"', b"a 'b\\'"])
def test_split_args_unbalanced(line: bytes) -> None:
    with pytest.raises(ProtocolError, match="unbalanced quotes in request"):
        split_args(line)
