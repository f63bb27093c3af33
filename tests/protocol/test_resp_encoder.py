"""Unit and property tests for specredis.protocol.encoder.

The shapes for DEBUG PROTOCOL types, doubles and error texts are checked against
the reference in ``test_resp_reference.py``; these tests pin every type in both
protocols, the RESP2 hints, and round-trip random reply trees through the RESP
reader in ``specredis.protocol.client``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specredis.protocol import RespConnection, encode, encode_into, encode_many, format_double
from specredis.protocol import client as rc
from specredis.protocol.replies import (
    FALSE,
    NO_REPLY,
    NULL_ARRAY,
    OK,
    PONG,
    QUEUED,
    TRUE,
    Attribute,
    BigNumber,
    Bool,
    Double,
    ErrorReply,
    Map,
    Push,
    Raw,
    Set,
    Status,
    Verbatim,
)

BOTH = pytest.mark.parametrize("protocol", [2, 3])

# (reply, RESP2 bytes, RESP3 bytes)
TYPES = [
    (b"hello", b"$5\r\nhello\r\n", b"$5\r\nhello\r\n"),
    (b"", b"$0\r\n\r\n", b"$0\r\n\r\n"),
    (bytearray(b"ab"), b"$2\r\nab\r\n", b"$2\r\nab\r\n"),
    (memoryview(b"ab"), b"$2\r\nab\r\n", b"$2\r\nab\r\n"),
    ("h\u00e9", b"$3\r\nh\xc3\xa9\r\n", b"$3\r\nh\xc3\xa9\r\n"),
    ("\udcff", b"$1\r\n\xff\r\n", b"$1\r\n\xff\r\n"),
    (0, b":0\r\n", b":0\r\n"),
    (1023, b":1023\r\n", b":1023\r\n"),
    (1024, b":1024\r\n", b":1024\r\n"),
    (-1, b":-1\r\n", b":-1\r\n"),
    (-(2**63), b":-9223372036854775808\r\n", b":-9223372036854775808\r\n"),
    (True, b":1\r\n", b":1\r\n"),
    (False, b":0\r\n", b":0\r\n"),
    (None, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    ([], b"*0\r\n", b"*0\r\n"),
    ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
    ((b"a",), b"*1\r\n$1\r\na\r\n", b"*1\r\n$1\r\na\r\n"),
    ([[b"a"], []], b"*2\r\n*1\r\n$1\r\na\r\n*0\r\n", b"*2\r\n*1\r\n$1\r\na\r\n*0\r\n"),
    ([NULL_ARRAY], b"*1\r\n*-1\r\n", b"*1\r\n_\r\n"),
    (OK, b"+OK\r\n", b"+OK\r\n"),
    (PONG, b"+PONG\r\n", b"+PONG\r\n"),
    (QUEUED, b"+QUEUED\r\n", b"+QUEUED\r\n"),
    (Status("string"), b"+string\r\n", b"+string\r\n"),
    (Status(b"a\r\nb"), b"+a  b\r\n", b"+a  b\r\n"),
    (ErrorReply("ERR bad"), b"-ERR bad\r\n", b"-ERR bad\r\n"),
    (ErrorReply("-WRONGTYPE x"), b"-WRONGTYPE x\r\n", b"-WRONGTYPE x\r\n"),
    (ErrorReply("ERR a\r\nb\n"), b"-ERR a  b\r\n", b"-ERR a  b\r\n"),
    (Map([(b"k", b"v"), (b"n", 1)]), b"*4\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\nn\r\n:1\r\n",
     b"%2\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\nn\r\n:1\r\n"),
    (Map({b"k": None}), b"*2\r\n$1\r\nk\r\n$-1\r\n", b"%1\r\n$1\r\nk\r\n_\r\n"),
    ({b"k": 1}, b"*2\r\n$1\r\nk\r\n:1\r\n", b"%1\r\n$1\r\nk\r\n:1\r\n"),
    (Map([]), b"*0\r\n", b"%0\r\n"),
    (Set([b"a", b"b"]), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"~2\r\n$1\r\na\r\n$1\r\nb\r\n"),
    (frozenset([b"a"]), b"*1\r\n$1\r\na\r\n", b"~1\r\n$1\r\na\r\n"),
    (Double(1.5), b"$3\r\n1.5\r\n", b",1.5\r\n"),
    (Double(0.1), b"$19\r\n0.10000000000000001\r\n", b",0.10000000000000001\r\n"),
    (Double(3.0), b"$1\r\n3\r\n", b",3\r\n"),
    (Double(-0.0), b"$2\r\n-0\r\n", b",-0\r\n"),
    (Double(1e300), b"$23\r\n1.0000000000000001e+300\r\n", b",1.0000000000000001e+300\r\n"),
    (Double(math.inf), b"$3\r\ninf\r\n", b",inf\r\n"),
    (Double(-math.inf), b"$4\r\n-inf\r\n", b",-inf\r\n"),
    (Double(math.nan), b"$3\r\nnan\r\n", b",nan\r\n"),
    (Double(-math.nan), b"$4\r\n-nan\r\n", b",-nan\r\n"),
    (2.5, b"$3\r\n2.5\r\n", b",2.5\r\n"),
    (TRUE, b":1\r\n", b"#t\r\n"),
    (FALSE, b":0\r\n", b"#f\r\n"),
    (Bool(1), b":1\r\n", b"#t\r\n"),
    (BigNumber("12345678901234567890"), b"$20\r\n12345678901234567890\r\n", b"(12345678901234567890\r\n"),
    (Verbatim("hi\nthere"), b"$8\r\nhi\nthere\r\n", b"=12\r\ntxt:hi\nthere\r\n"),
    (Verbatim(b"# x", "mkd"), b"$3\r\n# x\r\n", b"=7\r\nmkd:# x\r\n"),
    (Push([b"message", b"ch", b"hi"]), b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
     b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
    (Attribute([(b"a", 1)], b"x"), b"$1\r\nx\r\n", b"|1\r\n$1\r\na\r\n:1\r\n$1\r\nx\r\n"),
    (Raw(b"+RAW\r\n"), b"+RAW\r\n", b"+RAW\r\n"),
    (NO_REPLY, b"", b""),
    ([Map([(b"a", Double(2.0))]), Set([TRUE]), [BigNumber("1")]],
     b"*3\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*1\r\n:1\r\n*1\r\n$1\r\n1\r\n",
     b"*3\r\n%1\r\n$1\r\na\r\n,2\r\n~1\r\n#t\r\n*1\r\n(1\r\n"),
]


def type_id(reply: object) -> str:
    # A memoryview's repr has its address: ids must be the same in every xdist worker.
    return "memoryview" if isinstance(reply, memoryview) else repr(reply)[:40]


@pytest.mark.parametrize(("reply", "resp2", "resp3"), TYPES, ids=[type_id(t[0]) for t in TYPES])
def test_every_type(reply: object, resp2: bytes, resp3: bytes) -> None:
    assert encode(reply, 2) == resp2
    assert encode(reply, 3) == resp3
    for protocol, expected in ((2, resp2), (3, resp3)):
        out = [b"before"]
        encode_into(out, reply, protocol)
        assert b"".join(out) == b"before" + expected


@BOTH
@pytest.mark.parametrize("size", [1023, 1024, 16383, 16384, 100000])
def test_long_strings(protocol: int, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    assert encode(data, protocol) == b"$%d\r\n%s\r\n" % (size, data)
    assert encode([data, data], protocol) == b"*2\r\n" + (b"$%d\r\n%s\r\n" % (size, data)) * 2


@BOTH
def test_long_arrays(protocol: int) -> None:
    items = list(range(2000))
    assert encode(items, protocol) == b"*2000\r\n" + b"".join(b":%d\r\n" % i for i in items)


@BOTH
def test_subclasses_encode_as_their_base(protocol: int) -> None:
    class Level(enum.IntEnum):
        HIGH = 7

    class Blob(bytes):
        pass

    class Items(list):
        pass

    assert encode(Level.HIGH, protocol) == b":7\r\n"
    assert encode(Blob(b"ab"), protocol) == b"$2\r\nab\r\n"
    assert encode(Items([1]), protocol) == b"*1\r\n:1\r\n"


@BOTH
def test_unknown_types_are_refused(protocol: int) -> None:
    with pytest.raises(TypeError, match="cannot encode"):
        encode(object(), protocol)
    with pytest.raises(TypeError):
        encode([1, object()], protocol)


# -- RESP2 hints ----------------------------------------------------------------------------

def test_hint_null_array() -> None:
    hints = {"null": "array"}
    assert encode(None, 2, hints) == b"*-1\r\n"
    assert encode(None, 3, hints) == b"_\r\n"
    assert encode([None], 2, hints) == b"*1\r\n$-1\r\n"          # top level only
    assert encode(b"x", 2, hints) == b"$1\r\nx\r\n"


def test_hint_map_pairs() -> None:
    reply = Map([(b"stream", [[b"1-0", [b"f", b"v"]]])])
    hints = {"map": "pairs"}
    assert encode(reply, 2, hints) == encode([[b"stream", [[b"1-0", [b"f", b"v"]]]]], 2)
    assert encode(reply, 3, hints) == encode(reply, 3)
    assert encode([reply], 2, hints) == encode([reply], 2)           # nested maps stay flat


def test_hint_pairs_flat() -> None:
    reply = [[b"a", Double(1.0)], [b"b", Double(2.5)]]
    hints = {"pairs": "flat"}
    assert encode(reply, 2, hints) == b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"
    assert encode(reply, 3, hints) == b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    assert encode([], 2, hints) == b"*0\r\n"


def test_encode_many() -> None:
    assert encode_many([OK, 1, None], 2) == b"+OK\r\n:1\r\n$-1\r\n"
    assert encode_many([OK, 1, None], 3) == b"+OK\r\n:1\r\n_\r\n"


# -- doubles ---------------------------------------------------------------------------------

_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None


def libc_g17(value: float) -> bytes:
    buf = ctypes.create_string_buffer(64)
    _LIBC.snprintf(buf, 64, b"%.17g", ctypes.c_double(value))
    return buf.value


@pytest.mark.skipif(_LIBC is None, reason="no C library to compare with")
@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_format_double_is_printf_g17(value: float) -> None:
    assert format_double(value) == libc_g17(value)


@pytest.mark.skipif(_LIBC is None, reason="no C library to compare with")
@pytest.mark.parametrize("value", [0.0, -0.0, 1e-320, 5e-324, 1.7976931348623157e308, 123456789012345678.0,
                                   1e16, 1e17, 0.1, 1 / 3, -math.nan, math.nan, math.inf, -math.inf])
def test_format_double_edges(value: float) -> None:
    assert format_double(value) == libc_g17(value)


# -- round trip through the RESP reader ------------------------------------------------------

SCALAR = st.one_of(
    st.binary(max_size=20),
    st.integers(-(2**63), 2**63 - 1),
    st.none(),
    st.builds(Status, st.text("abcdefghij OK", max_size=10)),
    st.builds(ErrorReply, st.text("ERR abc", min_size=1, max_size=10)),
    st.builds(Double, st.floats(allow_nan=False)),
    st.builds(Bool, st.booleans()),
    st.builds(BigNumber, st.integers(-(10**40), 10**40).map(str)),
    st.builds(Verbatim, st.binary(max_size=10)),
)
REPLY = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.builds(Set, st.lists(inner, max_size=4)),
        st.builds(Push, st.lists(inner, max_size=4)),
        st.builds(Map, st.lists(st.tuples(st.binary(max_size=5), inner), max_size=4)),
    ),
    max_leaves=12,
)


def expected(reply: object, protocol: int) -> object:
    """What RespReader (specredis.protocol.client) reads back for ``reply``."""
    kind = type(reply)
    if kind in (bytes, int) or reply is None:
        return reply
    if kind is list:
        return [expected(x, protocol) for x in reply]
    if kind is Status:
        return rc.Status(reply.text.decode())
    if kind is ErrorReply:
        return rc.RespError(reply.text.decode())
    if kind is Double:
        text = format_double(reply.value)
        return rc.RDouble(text.decode()) if protocol == 3 else text
    if kind is Bool:
        return reply.value if protocol == 3 else int(reply.value)
    if kind is BigNumber:
        return rc.RBigNumber(reply.digits.decode()) if protocol == 3 else reply.digits
    if kind is Verbatim:
        return rc.RVerbatim(reply.format, reply.text) if protocol == 3 else reply.text
    if kind is Set:
        items = [expected(x, protocol) for x in reply.items]
        return rc.RSet(tuple(items)) if protocol == 3 else items
    if kind is Push:
        items = [expected(x, protocol) for x in reply.items]
        return rc.RPush(tuple(items)) if protocol == 3 else items
    if kind is Map:
        if protocol == 3:
            return rc.RMap(tuple((k, expected(v, protocol)) for k, v in reply.pairs))
        return [x for k, v in reply.pairs for x in (k, expected(v, protocol))]
    raise AssertionError(kind)


@settings(max_examples=300, deadline=None)
@given(REPLY, st.sampled_from([2, 3]))
def test_round_trip_through_reader(reply: object, protocol: int) -> None:
    reader = rc.RespReader()
    reader.feed(encode(reply, protocol) + encode(OK, protocol))
    done, value = reader.read()
    assert done
    assert value == expected(reply, protocol)
    assert reader.read() == (True, rc.Status("OK"))       # nothing left over


# -- RespConnection -------------------------------------------------------------------------

def test_resp_connection() -> None:
    conn = RespConnection()
    assert conn.protocol == 2 and conn.authenticated
    conn.receive_data(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\nPI")
    assert conn.next_request() == [b"HELLO", b"3"]
    assert conn.next_request() is None
    conn.protocol = 3
    assert conn.send(None) == b"_\r\n"
    assert conn.send(Map({b"a": TRUE})) == b"%1\r\n$1\r\na\r\n#t\r\n"
    conn.protocol = 2
    assert conn.send(None, {"null": "array"}) == b"*-1\r\n"
    conn.receive_data(b"NG\r\n")
    assert conn.next_request() == [b"PING"]
    conn.authenticated = False
    assert not conn.parser.authenticated
