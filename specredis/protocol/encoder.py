"""Reply encoding for RESP2 and RESP3, byte for byte as Redis 7.0 writes replies.

:func:`encode_into` appends the encoding of one reply to a list of byte strings
(the server joins a pipeline's replies and writes them once); :func:`encode`
returns the bytes of one reply. Replies are the values described in
:mod:`specredis.protocol.replies`; in addition ``bool`` encodes as an integer
(``:1``/``:0``, as Redis's integer replies: use :class:`Bool` for a RESP3
boolean), ``float`` as a :class:`Double`, ``dict`` as a :class:`Map`,
``set``/``frozenset`` as a :class:`Set` and ``memoryview`` as a bulk string.

RESP2 has fewer types; the downgrades are Redis's:

===============  ==========================  ===============================
reply            RESP2                       RESP3
===============  ==========================  ===============================
None             ``$-1``                     ``_``
NULL_ARRAY       ``*-1``                     ``_``
Map              flat array ``k1 v1 ...``    ``%``
Set              array                       ``~``
Double           bulk string (``%.17g``)     ``,``
DoubleText       bulk string of its text     ``,`` and its text
Bool             ``:1`` / ``:0``             ``#t`` / ``#f``
BigNumber        bulk string                 ``(``
Verbatim         bulk string of the text     ``=len\\r\\ntxt:...``
Push             array                       ``>``
Attribute        only the reply              ``|`` pairs, then the reply
===============  ==========================  ===============================

``resp2_hints`` are a command's RESP2 deviations, applied to the top level of
its reply only: ``{"null": "array"}`` sends a None as ``*-1``; ``{"map":
"pairs"}`` sends a Map as an array of two-element arrays (XREAD);
``{"pairs": "flat"}`` flattens a list of two-element lists (ZRANGE WITHSCORES).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from math import copysign
from typing import Any

from specredis.protocol.parser import RequestParser
from specredis.protocol.replies import (
    NULL_ARRAY,
    OK,
    PONG,
    QUEUED,
    Attribute,
    BigNumber,
    Bool,
    Double,
    DoubleText,
    ErrorReply,
    Map,
    NoReply,
    NullArray,
    Push,
    Raw,
    Set,
    Status,
    Verbatim,
)

__all__ = ["RespConnection", "encode", "encode_into", "encode_many", "format_double"]

_CRLF = b"\r\n"
_SMALL = 1024
# Precomputed wire forms: integer replies 0..1023 and bulk headers for short strings.
_INTS = [b":%d\r\n" % n for n in range(_SMALL)]
_BULK = [b"$%d\r\n" % n for n in range(_SMALL)]
_ARRAY = [b"*%d\r\n" % n for n in range(_SMALL)]
_BULK_STRING_LIMIT = 16 * 1024     # longer strings are appended without copying
_NULL2 = b"$-1\r\n"
_NULL_ARRAY2 = b"*-1\r\n"
_NULL3 = b"_\r\n"
_STATUS = {id(OK): b"+OK\r\n", id(PONG): b"+PONG\r\n", id(QUEUED): b"+QUEUED\r\n"}

Writer = Callable[[list, Any], None]


def format_double(value: float) -> bytes:
    """A double as Redis 7.0 prints it: ``%.17g``, and ``inf``/``-inf``/``nan``/``-nan``.

    (INCRBYFLOAT and friends format with ``%.17Lg`` and trim zeros: that is the
    handler's business, not this function's.)
    """
    if value != value:
        # glibc prints the sign of a NaN; 0/0 is negative on x86.
        return b"-nan" if copysign(1.0, value) < 0 else b"nan"
    return b"%.17g" % value


def _bulk(out: list, data: bytes) -> None:
    n = len(data)
    if n < _SMALL:
        out.append(_BULK[n] + data + _CRLF)
    elif n < _BULK_STRING_LIMIT:
        out.append(b"$%d\r\n%s\r\n" % (n, data))
    else:
        out.append(b"$%d\r\n" % n)
        out.append(data)
        out.append(_CRLF)


def _bulk_other(out: list, data: Any) -> None:
    _bulk(out, bytes(data))


def _str(out: list, text: str) -> None:
    _bulk(out, text.encode("utf-8", "surrogateescape"))


def _int(out: list, value: int) -> None:
    if 0 <= value < _SMALL:
        out.append(_INTS[value])
    else:
        out.append(b":%d\r\n" % value)


def _status(out: list, status: Status) -> None:
    cached = _STATUS.get(id(status))
    if cached is not None:
        out.append(cached)
        return
    text = status.text
    if b"\r" in text or b"\n" in text:
        # Redis maps CR and LF to spaces rather than break the protocol.
        text = text.replace(b"\r", b" ").replace(b"\n", b" ")
    out.append(b"+" + text + _CRLF)


def _error(out: list, error: ErrorReply) -> None:
    text = error.text
    if text[:1] == b"-":
        # Redis takes a leading '-' as "the code is given": it is not doubled.
        text = text[1:]
    if b"\r" in text or b"\n" in text:
        # As addReplyErrorFormat(): trim line ends at the end, map the others to spaces.
        text = text.rstrip(b"\r\n").replace(b"\r", b" ").replace(b"\n", b" ")
    out.append(b"-" + text + _CRLF)


def _raw(out: list, raw: Raw) -> None:
    out.append(raw.data)


def _noreply(out: list, _: NoReply) -> None:
    pass


def _header(out: list, prefix: bytes, n: int) -> None:
    out.append(b"%s%d\r\n" % (prefix, n))


# -- RESP2 ---------------------------------------------------------------------------------


def _array2(out: list, items: list | tuple) -> None:
    n = len(items)
    out.append(_ARRAY[n] if n < _SMALL else b"*%d\r\n" % n)
    _elements2(out, items)


def _elements2(out: list, items: Iterable) -> None:
    # The common element types are written inline: a call per element costs more.
    for item in items:
        kind = type(item)
        if kind is bytes:
            n = len(item)
            if n < _SMALL:
                out.append(_BULK[n] + item + _CRLF)
            else:
                _bulk(out, item)
        elif kind is int:
            out.append(_INTS[item] if 0 <= item < _SMALL else b":%d\r\n" % item)
        elif item is None:
            out.append(_NULL2)
        else:
            _W2.get(kind, _other2)(out, item)


def _none2(out: list, _: None) -> None:
    out.append(_NULL2)


def _null_array2(out: list, _: NullArray) -> None:
    out.append(_NULL_ARRAY2)


def _map2(out: list, value: Map) -> None:
    pairs = value.pairs
    _header(out, b"*", 2 * len(pairs))
    _elements2(out, chain.from_iterable(pairs))


def _dict2(out: list, value: dict) -> None:
    _map2(out, Map(value))


def _set2(out: list, value: Set) -> None:
    _array2(out, value.items if isinstance(value.items, list | tuple) else list(value.items))


def _pyset2(out: list, value: set | frozenset) -> None:
    _array2(out, list(value))


def _double2(out: list, value: Double) -> None:
    _bulk(out, format_double(value.value))


def _double_text2(out: list, value: DoubleText) -> None:
    _bulk(out, value.text)


def _float2(out: list, value: float) -> None:
    _bulk(out, format_double(value))


def _bool2(out: list, value: Bool) -> None:
    out.append(b":1\r\n" if value.value else b":0\r\n")


def _pybool(out: list, value: bool) -> None:
    out.append(b":1\r\n" if value else b":0\r\n")


def _bignum2(out: list, value: BigNumber) -> None:
    _bulk(out, value.digits)


def _verbatim2(out: list, value: Verbatim) -> None:
    _bulk(out, value.text)


def _push2(out: list, value: Push) -> None:
    _array2(out, value.items)


def _attribute2(out: list, value: Attribute) -> None:
    _write2(out, value.reply)


def _write2(out: list, reply: Any) -> None:
    _W2.get(type(reply), _other2)(out, reply)


def _other2(out: list, reply: Any) -> None:
    _W2[_kind(reply)](out, reply)


_W2: dict[type, Writer] = {
    bytes: _bulk,
    int: _int,
    type(None): _none2,
    list: _array2,
    tuple: _array2,
    str: _str,
    bytearray: _bulk_other,
    memoryview: _bulk_other,
    Status: _status,
    ErrorReply: _error,
    NullArray: _null_array2,
    Map: _map2,
    dict: _dict2,
    Set: _set2,
    set: _pyset2,
    frozenset: _pyset2,
    Double: _double2,
    DoubleText: _double_text2,
    float: _float2,
    Bool: _bool2,
    bool: _pybool,
    BigNumber: _bignum2,
    Verbatim: _verbatim2,
    Push: _push2,
    Attribute: _attribute2,
    Raw: _raw,
    NoReply: _noreply,
}


# -- RESP3 ---------------------------------------------------------------------------------


def _array3(out: list, items: list | tuple) -> None:
    n = len(items)
    out.append(_ARRAY[n] if n < _SMALL else b"*%d\r\n" % n)
    _elements3(out, items)


def _elements3(out: list, items: Iterable) -> None:
    for item in items:
        kind = type(item)
        if kind is bytes:
            n = len(item)
            if n < _SMALL:
                out.append(_BULK[n] + item + _CRLF)
            else:
                _bulk(out, item)
        elif kind is int:
            out.append(_INTS[item] if 0 <= item < _SMALL else b":%d\r\n" % item)
        elif item is None:
            out.append(_NULL3)
        else:
            _W3.get(kind, _other3)(out, item)


def _items3(out: list, prefix: bytes, items: Any) -> None:
    _header(out, prefix, len(items))
    _elements3(out, items)


def _none3(out: list, _: Any) -> None:
    out.append(_NULL3)


def _map3(out: list, value: Map) -> None:
    _pairs3(out, b"%", value.pairs)


def _pairs3(out: list, prefix: bytes, pairs: Any) -> None:
    _header(out, prefix, len(pairs))
    _elements3(out, chain.from_iterable(pairs))


def _dict3(out: list, value: dict) -> None:
    _pairs3(out, b"%", list(value.items()))


def _set3(out: list, value: Set) -> None:
    _items3(out, b"~", value.items if isinstance(value.items, list | tuple) else list(value.items))


def _pyset3(out: list, value: set | frozenset) -> None:
    _items3(out, b"~", list(value))


def _double3(out: list, value: Double) -> None:
    out.append(b"," + format_double(value.value) + _CRLF)


def _double_text3(out: list, value: DoubleText) -> None:
    out.append(b"," + value.text + _CRLF)


def _float3(out: list, value: float) -> None:
    out.append(b"," + format_double(value) + _CRLF)


def _bool3(out: list, value: Bool) -> None:
    out.append(b"#t\r\n" if value.value else b"#f\r\n")


def _bignum3(out: list, value: BigNumber) -> None:
    out.append(b"(" + value.digits + _CRLF)


def _verbatim3(out: list, value: Verbatim) -> None:
    text = value.text
    fmt = value.format.encode() if isinstance(value.format, str) else value.format
    out.append(b"=%d\r\n%s:" % (len(text) + len(fmt) + 1, fmt))
    out.append(text)
    out.append(_CRLF)


def _push3(out: list, value: Push) -> None:
    _items3(out, b">", value.items)


def _attribute3(out: list, value: Attribute) -> None:
    _pairs3(out, b"|", value.pairs)
    _write3(out, value.reply)


def _write3(out: list, reply: Any) -> None:
    _W3.get(type(reply), _other3)(out, reply)


def _other3(out: list, reply: Any) -> None:
    _W3[_kind(reply)](out, reply)


_W3: dict[type, Writer] = {
    **_W2,
    type(None): _none3,
    list: _array3,
    tuple: _array3,
    NullArray: _none3,
    Map: _map3,
    dict: _dict3,
    Set: _set3,
    set: _pyset3,
    frozenset: _pyset3,
    Double: _double3,
    DoubleText: _double_text3,
    float: _float3,
    Bool: _bool3,
    BigNumber: _bignum3,
    Verbatim: _verbatim3,
    Push: _push3,
    Attribute: _attribute3,
}

# Subclasses (an IntEnum, a bytes subclass, ...) are written as their nearest base.
_BASES = (bool, int, float, bytes, bytearray, memoryview, str, list, tuple, dict, set, frozenset,
          Status, ErrorReply, NullArray, Map, Set, Double, Bool, BigNumber, Verbatim, Push, Attribute,
          Raw, NoReply)


def _kind(reply: Any) -> type:
    for base in _BASES:
        if isinstance(reply, base):
            return base
    raise TypeError(f"cannot encode a {type(reply).__name__} as a RESP reply: {reply!r:.80}")


# -- public API ----------------------------------------------------------------------------


def _downgrade(reply: Any, hints: dict) -> Any:
    """Apply a command's RESP2 deviations to its top-level reply."""
    if reply is None:
        if hints.get("null") == "array":
            return NULL_ARRAY
    elif type(reply) is Map:
        if hints.get("map") == "pairs":
            return [[key, value] for key, value in reply.pairs]
    elif type(reply) is list or type(reply) is tuple:
        if hints.get("pairs") == "flat":
            flat = []
            for item in reply:
                if isinstance(item, list | tuple) and len(item) == 2:
                    flat.extend(item)
                else:
                    flat.append(item)
            return flat
    return reply



def encode_into(out: list[bytes], reply: Any, protocol: int, resp2_hints: dict | None = None) -> None:
    """Append the encoding of ``reply`` for RESP ``protocol`` (2 or 3) to ``out``.

    ``b"".join(out)`` is the wire form of all the replies appended so far.
    """
    kind = type(reply)
    if kind is bytes:
        n = len(reply)
        if n < _SMALL:
            out.append(_BULK[n] + reply + _CRLF)
        else:
            _bulk(out, reply)
    elif reply is OK:
        out.append(b"+OK\r\n")
    elif kind is int:
        out.append(_INTS[reply] if 0 <= reply < _SMALL else b":%d\r\n" % reply)
    elif protocol == 3:
        _W3.get(kind, _other3)(out, reply)
    else:
        if resp2_hints:
            reply = _downgrade(reply, resp2_hints)
            kind = type(reply)
        _W2.get(kind, _other2)(out, reply)


def encode(reply: Any, protocol: int, resp2_hints: dict | None = None) -> bytes:
    """The wire form of one reply for RESP ``protocol`` (2 or 3)."""
    out: list[bytes] = []
    encode_into(out, reply, protocol, resp2_hints)
    return out[0] if len(out) == 1 else b"".join(out)


def encode_many(replies: list | tuple, protocol: int) -> bytes:
    """The wire form of several replies back to back (a pipeline's replies)."""
    out: list[bytes] = []
    for reply in replies:
        encode_into(out, reply, protocol)
    return b"".join(out)


class RespConnection:
    """One client connection's protocol state, h11 style: bytes in, requests out, replies to bytes.

    A thin convenience over :class:`~specredis.protocol.parser.RequestParser` and
    :func:`encode` for tests and tools; ``protocol`` (2 or 3) is what HELLO set.
    """

    __slots__ = ("parser", "protocol")

    def __init__(self, protocol: int = 2, proto_max_bulk_len: int = 512 * 1024 * 1024,
                 client_query_buffer_limit: int = 1024**3) -> None:
        self.protocol = protocol
        self.parser = RequestParser(proto_max_bulk_len, client_query_buffer_limit)

    @property
    def authenticated(self) -> bool:
        """Whether the client is past AUTH (the parser's limits depend on it)."""
        return self.parser.authenticated

    @authenticated.setter
    def authenticated(self, value: bool) -> None:
        self.parser.authenticated = value

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client (raises QueryBufferLimitExceeded)."""
        self.parser.feed(data)

    def next_request(self) -> list[bytes] | None:
        """The next complete request, or None (raises ProtocolError)."""
        return self.parser.next_request()

    def send(self, reply: Any, resp2_hints: dict | None = None) -> bytes:
        """The bytes to write for ``reply`` in the current protocol."""
        return encode(reply, self.protocol, resp2_hints)
