"""A small blocking RESP client that keeps every RESP3 type distinct.

Used by tools (the spec importer) and by tests, which need to compare replies
from two servers exactly: a map must stay a map, a set a set, a double a double.
It is not used by the server itself.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RespError:
    """An error reply (``-ERR ...`` or ``!<len>``)."""

    text: str


@dataclass(frozen=True)
class Status:
    """A simple-string reply (``+OK``)."""

    text: str


@dataclass(frozen=True)
class RMap:
    """A RESP3 map, as an ordered tuple of (key, value) pairs."""

    pairs: tuple

    def get(self, key: Any, default: Any = None) -> Any:
        for k, v in self.pairs:
            if k == key:
                return v
        return default

    def keys(self) -> list:
        return [k for k, _ in self.pairs]


@dataclass(frozen=True)
class RSet:
    """A RESP3 set, as a tuple in wire order."""

    items: tuple


@dataclass(frozen=True)
class RDouble:
    """A RESP3 double, kept as its wire text so comparisons are exact."""

    text: str


@dataclass(frozen=True)
class RBigNumber:
    text: str


@dataclass(frozen=True)
class RVerbatim:
    format: str
    text: bytes


@dataclass(frozen=True)
class RPush:
    items: tuple


@dataclass(frozen=True)
class RAttribute:
    pairs: tuple


class NullArray:
    """RESP2 ``*-1``: distinct from the null bulk string ``$-1``."""

    _instance = None

    def __new__(cls) -> NullArray:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NullArray"


NULL_ARRAY = NullArray()


class ConnectionClosed(Exception):
    pass


class RespReader:
    """Reads typed replies from a byte stream; ``feed`` then ``read`` until ``None``."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.pos = 0

    def feed(self, data: bytes) -> None:
        if self.pos:
            del self.buf[: self.pos]
            self.pos = 0
        self.buf += data

    def read(self) -> tuple[bool, Any]:
        """Return (True, reply) for a complete reply, else (False, None)."""
        try:
            value, pos = self._parse(self.pos)
        except IndexError:
            return False, None
        self.pos = pos
        return True, value

    def _line(self, pos: int) -> tuple[bytes, int]:
        end = self.buf.find(b"\r\n", pos)
        if end < 0:
            raise IndexError
        return bytes(self.buf[pos:end]), end + 2

    def _parse(self, pos: int) -> tuple[Any, int]:
        if pos >= len(self.buf):
            raise IndexError
        kind = self.buf[pos : pos + 1]
        line, pos = self._line(pos + 1)
        if kind == b"+":
            return Status(line.decode()), pos
        if kind == b"-":
            return RespError(line.decode(errors="replace")), pos
        if kind == b":":
            return int(line), pos
        if kind in (b"$", b"=", b"!"):
            length = int(line)
            if length < 0:
                return None, pos
            if len(self.buf) < pos + length + 2:
                raise IndexError
            data = bytes(self.buf[pos : pos + length])
            pos += length + 2
            if kind == b"!":
                return RespError(data.decode(errors="replace")), pos
            if kind == b"=":
                return RVerbatim(data[:3].decode(), data[4:]), pos
            return data, pos
        if kind in (b"*", b"~", b">"):
            count = int(line)
            if count < 0:
                return NULL_ARRAY, pos
            items = []
            for _ in range(count):
                item, pos = self._parse(pos)
                items.append(item)
            if kind == b"~":
                return RSet(tuple(items)), pos
            if kind == b">":
                return RPush(tuple(items)), pos
            return items, pos
        if kind in (b"%", b"|"):
            count = int(line)
            pairs = []
            for _ in range(count):
                key, pos = self._parse(pos)
                value, pos = self._parse(pos)
                pairs.append((_hashable(key), value))
            if kind == b"|":
                # An attribute precedes the real reply; keep both.
                inner, pos = self._parse(pos)
                return (RAttribute(tuple(pairs)), inner), pos
            return RMap(tuple(pairs)), pos
        if kind == b"_":
            return None, pos
        if kind == b"#":
            return line == b"t", pos
        if kind == b",":
            return RDouble(line.decode()), pos
        if kind == b"(":
            return RBigNumber(line.decode()), pos
        raise ValueError(f"unknown RESP type byte {kind!r}")


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def encode_command(args: tuple | list) -> bytes:
    """Encode a command as a RESP multibulk request."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int | float):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class RespClient:
    """A blocking connection that returns typed replies (see the classes above)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 6379, timeout: float | None = 30.0,
                 protocol: int = 2) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = RespReader()
        self.protocol = 2
        if protocol == 3:
            self.hello(3)

    def hello(self, protocol: int) -> Any:
        reply = self.call("HELLO", protocol)
        if not isinstance(reply, RespError):
            self.protocol = protocol
        return reply

    def send(self, *args: Any) -> None:
        self.sock.sendall(encode_command(args))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_reply(self) -> Any:
        while True:
            done, value = self.reader.read()
            if done:
                return value
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionClosed("connection closed by server")
            self.reader.feed(chunk)

    def call(self, *args: Any) -> Any:
        self.send(*args)
        return self.read_reply()

    def pipeline(self, commands: list) -> list:
        self.sock.sendall(b"".join(encode_command(c) for c in commands))
        return [self.read_reply() for _ in commands]

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> RespClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
