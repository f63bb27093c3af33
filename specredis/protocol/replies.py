"""Typed, protocol-neutral reply values.

Command handlers return these (or plain Python values) and say what a reply
*means*; the encoders in ``encoder.py`` choose the bytes for RESP2 or RESP3.

Plain Python values map as follows, so the hot path needs no wrapping:

==================  =====================  ======================
handler returns     RESP2                  RESP3
==================  =====================  ======================
``bytes``           bulk string ``$``      bulk string ``$``
``bytearray``       bulk string ``$``      bulk string ``$``
``int``             integer ``:``          integer ``:``
``None``            null bulk ``$-1``      null ``_``
``list``/``tuple``  array ``*``            array ``*``
``str``             bulk string (UTF-8)    bulk string (UTF-8)
==================  =====================  ======================

Everything else has a class below. ``bool`` is *not* a plain value (it is an
``int`` in Python): wrap it in :class:`Bool`.
"""

from __future__ import annotations

from typing import Any


class Status:
    """A simple string (``+OK``). Must not contain CR or LF."""

    __slots__ = ("text",)

    def __init__(self, text: bytes | str) -> None:
        self.text = text.encode() if isinstance(text, str) else text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Status) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Status({self.text!r})"


class ErrorReply:
    """An error reply; ``text`` is the full message including its code (``ERR ...``)."""

    __slots__ = ("text",)

    def __init__(self, text: bytes | str) -> None:
        self.text = text.encode() if isinstance(text, str) else text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ErrorReply) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"ErrorReply({self.text!r})"


class NullArray:
    """A null that RESP2 sends as ``*-1`` (BLPOP/XREAD timeouts); RESP3 ``_``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"


class Map:
    """A map: RESP3 ``%``; RESP2 a flat array ``k1 v1 k2 v2``.

    ``pairs`` is a list of (key, value) tuples (order is kept), or a dict.
    """

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[Any, Any]] | dict) -> None:
        self.pairs = list(pairs.items()) if isinstance(pairs, dict) else pairs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and other.pairs == self.pairs

    def __repr__(self) -> str:
        return f"Map({self.pairs!r})"


class Set:
    """A set: RESP3 ``~``; RESP2 an array."""

    __slots__ = ("items",)

    def __init__(self, items: list | tuple) -> None:
        self.items = items

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Set) and list(other.items) == list(self.items)

    def __repr__(self) -> str:
        return f"Set({self.items!r})"


class Double:
    """A double: RESP3 ``,``; RESP2 a bulk string in Redis's ``%.17g`` style."""

    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Double) and other.value == self.value

    def __repr__(self) -> str:
        return f"Double({self.value!r})"


class DoubleText(Double):
    """A double sent with the text its command formats (Redis's addReplyHumanLongDouble:
    GEOPOS and WITHCOORD print ``%.17Lf`` without trailing zeros): RESP3 ``,<text>``;
    RESP2 a bulk string of the text. ``value`` keeps the number for other consumers."""

    __slots__ = ("text",)

    def __init__(self, value: float, text: bytes) -> None:
        self.value = value
        self.text = text

    def __repr__(self) -> str:
        return f"DoubleText({self.value!r}, {self.text!r})"


class Bool:
    """A boolean: RESP3 ``#t``/``#f``; RESP2 integer 1/0."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = bool(value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bool) and other.value == self.value

    def __repr__(self) -> str:
        return f"Bool({self.value!r})"


class BigNumber:
    """A big number: RESP3 ``(``; RESP2 a bulk string. ``digits`` is its decimal text."""

    __slots__ = ("digits",)

    def __init__(self, digits: bytes | str) -> None:
        self.digits = digits.encode() if isinstance(digits, str) else digits

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BigNumber) and other.digits == self.digits

    def __repr__(self) -> str:
        return f"BigNumber({self.digits!r})"


class Verbatim:
    """A verbatim string: RESP3 ``=``; RESP2 a bulk string of the text alone."""

    __slots__ = ("format", "text")

    def __init__(self, text: bytes | str, format: str = "txt") -> None:
        self.text = text.encode() if isinstance(text, str) else text
        self.format = format

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verbatim) and (other.format, other.text) == (self.format, self.text)

    def __repr__(self) -> str:
        return f"Verbatim({self.text!r}, {self.format!r})"


class Push:
    """An out-of-band push message: RESP3 ``>``; RESP2 an array."""

    __slots__ = ("items",)

    def __init__(self, items: list) -> None:
        self.items = items

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Push) and other.items == self.items

    def __repr__(self) -> str:
        return f"Push({self.items!r})"


class Attribute:
    """A RESP3 attribute (``|``) attached to the reply that follows it.

    RESP2 has no attributes: only ``reply`` is sent.
    """

    __slots__ = ("pairs", "reply")

    def __init__(self, pairs: list[tuple[Any, Any]], reply: Any) -> None:
        self.pairs = pairs
        self.reply = reply

    def __repr__(self) -> str:
        return f"Attribute({self.pairs!r}, {self.reply!r})"


class Raw:
    """Bytes already encoded for the wire, the same in both protocols."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Raw({self.data!r})"


class NoReply:
    """The command sends nothing (yet): blocked clients, CLIENT REPLY OFF, SUBSCRIBE replies sent as pushes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_REPLY"


OK = Status(b"OK")
QUEUED = Status(b"QUEUED")
PONG = Status(b"PONG")
NULL_ARRAY = NullArray()
NO_REPLY = NoReply()
TRUE = Bool(True)
FALSE = Bool(False)
