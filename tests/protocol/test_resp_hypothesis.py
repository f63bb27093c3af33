"""Property tests for the request parser.

* Whatever bytes arrive, cut however into reads, the parser raises nothing but
  ProtocolError / QueryBufferLimitExceeded, terminates, and agrees with the
  simple model of Redis's parser in ``resp_oracle.py`` (which the reference
  tables in ``resp_cases.py`` pin down).
* Claimed counts and lengths (``*2147483647``, ``$536870912``) never turn into
  allocations: memory follows the bytes received.
"""

from __future__ import annotations

import os
import sys
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))

from resp_oracle import model_parse  # noqa: E402

from specredis.protocol.parser import ProtocolError, QueryBufferLimitExceeded, RequestParser  # noqa: E402

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(chunks: list[bytes], authenticated: bool = True, **limits: int) -> tuple[list, str | None]:
    parser = RequestParser(**limits)
    parser.authenticated = authenticated
    requests: list = []
    try:
        for chunk in chunks:
            parser.feed(chunk)
            # drain() must make progress each call: a bounded loop proves it terminates.
            for _ in range(len(chunk) + 2):
                batch = parser.drain()
                if not batch:
                    break
                requests.extend(batch)
            else:
                raise AssertionError("drain() kept returning requests without input")
    except ProtocolError as error:
        assert error.message.startswith("Protocol error: ")
        return requests, error.message
    return requests, None


@st.composite
def split(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at random points into reads."""
    if len(data) < 2:
        return [data] if data else []
    cuts = sorted(set(draw(st.lists(st.integers(1, len(data) - 1), max_size=6))))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def chunked(data: st.SearchStrategy[bytes]) -> st.SearchStrategy[list[bytes]]:
    return data.flatmap(lambda d: split(d))


# Pieces of requests, well-formed and not, for streams that get past the first byte.
ARGUMENT = st.one_of(
    st.sampled_from([b"SET", b"GET", b"PING", b"key:000123", b"xxx", b""]),
    st.binary(max_size=12),
    st.sampled_from([b"a\r\nb", b"\r\n", b"\r", b"\n", b"$3\r\n", b"*1\r\n", b"\x00"]),
    st.sampled_from([1535, 1536, 1537, 16383, 16384, 16385]).map(lambda n: b"v" * n),
)


@st.composite
def frame(draw: st.DrawFn) -> bytes:
    args = draw(st.lists(ARGUMENT, min_size=1, max_size=12))
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


HEADER_TEXT = st.one_of(
    st.sampled_from([b"0", b"1", b"-1", b"-0", b"01", b"+1", b" 1", b"1 ", b"", b"-", b"abc",
                     b"2147483647", b"2147483648", b"536870912", b"536870913", b"99999999999999999999",
                     b"-9223372036854775808", b"9223372036854775808", b"11", b"16385"]),
    st.integers(-5, 40).map(lambda n: b"%d" % n),
)
JUNK = st.one_of(
    HEADER_TEXT.map(lambda t: b"*" + t + b"\r\n"),
    HEADER_TEXT.map(lambda t: b"$" + t + b"\r\n"),
    st.sampled_from([b"+OK\r\n", b":1\r\n", b"\r\n", b"\n", b"\r", b"\x00", b"*", b"$", b"'", b'"', b"\\",
                     b"PING\r\n", b"ECHO 'a b'\n", b'ECHO "\\x41\\n"\r\n', b"ECHO \"a\"b\r\n", b"\xff",
                     b"*1\r\n", b"*3\r\n", b"$3\r\n", b"foo\r\n", b"*0\r\n", b"*-1\r\n"]),
    st.binary(max_size=8),
)


@st.composite
def stream(draw: st.DrawFn) -> bytes:
    pieces = draw(st.lists(st.one_of(frame(), frame().map(lambda f: f * 4), JUNK), min_size=1, max_size=20))
    data = bytearray(b"".join(pieces))
    for _ in range(draw(st.integers(0, 2))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "drop", "insert"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "drop":
            del data[at]
        else:
            data[at:at] = draw(st.sampled_from([b"\r", b"\n", b"\r\n", b"$", b"*", b"0", b"\x00"]))
    return bytes(data)


@SETTINGS
@given(chunked(st.binary(max_size=300)), st.booleans())
def test_arbitrary_bytes(chunks: list[bytes], authenticated: bool) -> None:
    assert parse(chunks, authenticated) == model_parse(chunks, authenticated)


@SETTINGS
@given(chunked(stream()), st.booleans())
def test_malformed_streams_match_model(chunks: list[bytes], authenticated: bool) -> None:
    assert parse(chunks, authenticated) == model_parse(chunks, authenticated)


@SETTINGS
@given(chunked(st.lists(frame(), min_size=1, max_size=30).map(b"".join)))
def test_well_formed_pipelines(chunks: list[bytes]) -> None:
    requests, error = parse(chunks)
    assert error is None
    assert (requests, error) == model_parse(chunks)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([b"*", b"$"]), st.integers(10**5, 2**31 - 1), st.binary(max_size=64),
       st.integers(1, 4))
def test_claimed_lengths_do_not_allocate(kind: bytes, claimed: int, tail: bytes, reads: int) -> None:
    head = b"*%d\r\n" % claimed if kind == b"*" else b"*1\r\n$%d\r\n" % claimed
    tracemalloc.start()
    try:
        parser = RequestParser()
        for _ in range(reads):
            parser.feed(head + tail)
            try:
                parser.drain()
            except ProtocolError:
                break
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 4096), st.integers(1, 64))
def test_query_buffer_limit_is_never_exceeded_silently(limit: int, step: int) -> None:
    parser = RequestParser(client_query_buffer_limit=limit)
    data = b"*1\r\n$%d\r\n" % (limit * 2) + b"x" * (limit * 2)
    received = 0
    try:
        for at in range(0, len(data), step):
            received += len(data[at:at + step])
            parser.feed(data[at:at + step])
            parser.drain()
            assert parser.pending_bytes() <= limit
    except QueryBufferLimitExceeded:
        assert received > limit
    else:
        raise AssertionError("the limit was never enforced")
