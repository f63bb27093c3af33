"""Sans-IO parser for client requests (RESP multibulk and inline), as Redis 7.0 parses them.

:class:`RequestParser` turns the bytes a client sends into argument vectors
(``list[bytes]``). It accepts exactly what ``redis-server`` 7.0 accepts and fails
with the same ``Protocol error: ...`` texts, at the same points of the stream:

* multibulk requests (``*N\\r\\n$len\\r\\narg\\r\\n...``), with Redis's limits: a count
  above ``INT_MAX`` or not a strict integer is an invalid multibulk length, a
  negative or too large (``proto-max-bulk-len``) length an invalid bulk length;
  until the client is authenticated, more than 10 arguments or arguments longer
  than 16384 bytes are refused. ``*0`` and negative counts are skipped.
* inline requests (a line of space-separated words with ``sdssplitargs`` quoting),
  where empty lines are skipped.
* a header line with no ``\\r`` (or an inline request with no ``\\n``) after 64KB is
  an error; Redis finds line ends with ``strchr``, so a NUL byte before the line
  end hides it, and only the byte after ``\\r`` is skipped, never checked.

Requests that precede a protocol error are returned first; the error is raised
by the next call (Redis runs those commands, replies with the error and closes).

Speed: the hot path splits a window of the buffer on ``\\r\\n`` once and takes
whole runs of well-formed frames with a few C-level list operations; every frame
it accepts is proved canonical (each ``$len`` header equals the length of the
token after it), so anything unusual -- binary data containing CRLF, large
arguments, malformed input, inline commands -- goes through the exact,
byte-by-byte path below, which keeps Redis's semantics and resumable state for
arguments that arrive over many reads. Nothing is ever allocated in proportion
to a claimed length: counts and lengths only ever bound loops over data that has
actually arrived.

hiredis is not used: its reader allocates a list as soon as it reads ``*N`` and
accepts elements that are not bulk strings, and making it safe (scanning for large
counts first, then re-encoding every request to compare with the input) costs
more than this parser (``tests/protocol/test_resp_bench.py`` measures both).
"""

from __future__ import annotations

from collections import deque

__all__ = [
    "INLINE_MAX_SIZE",
    "ProtocolError",
    "QueryBufferLimitExceeded",
    "RequestParser",
    "split_args",
]

# networking.c: PROTO_INLINE_MAX_SIZE, and the limits authRequired() clients get.
INLINE_MAX_SIZE = 64 * 1024
INT_MAX = 2**31 - 1
UNAUTH_MULTIBULK_MAX = 10
UNAUTH_BULK_MAX = 16384
_LLONG_MAX = 2**63 - 1

# Fast-path tables: the canonical text of a count / bulk header. A dict lookup both
# validates (only canonical spellings are keys) and converts.
_FAST_MAX_COUNT = 1024
_FAST_MAX_LEN = 16384
_COUNT = {b"*%d" % n: n for n in range(1, _FAST_MAX_COUNT + 1)}
_LEN = {b"$%d" % n: n for n in range(_FAST_MAX_LEN)}
# The split-based path scans every byte it takes (about 1.5ns a byte), the
# length-driven one does not: past about 1.5KB an argument is cheaper to take by length.
_SPLIT_MAX_LEN = 1536
_HDR = list(_LEN)[:_SPLIT_MAX_LEN]
_HDR_OF = _HDR.__getitem__
# The fast path splits at most this much of the buffer at a time; it shrinks after a
# window that yielded nothing (large or unusual frames) so those stay cheap.
_WINDOW_MAX = 64 * 1024
_WINDOW_MIN = 512
# After a window that yielded nothing, this many requests skip the fast path.
_COOLDOWN = 8
# The C hot loop (specredis/_hotloop.c) takes arguments up to this long: it may run only
# while proto-max-bulk-len is at least that (longer ones stop it, and this parser decides).
HOT_MAX_LEN = 512 * 1024

_SPACE = frozenset(b" \t\n\v\f\r")        # C isspace() in the C locale
_TOKEN_END = frozenset(b" \n\r\t")        # what ends an unquoted sdssplitargs token
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


class _Message(str):
    """An error text that encodes back to Redis's exact bytes by default.

    Protocol errors can quote a raw byte (``expected '$', got '\\xff'``); the text
    keeps it as a surrogate escape, so ``message.encode()`` needs no arguments.
    """

    __slots__ = ()

    def encode(self, encoding: str = "utf-8", errors: str = "surrogateescape") -> bytes:
        return str.encode(self, encoding, errors)


class ProtocolError(Exception):
    """A malformed request. ``message`` is the text Redis sends after ``-ERR ``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message: str = _Message(message)

    @property
    def reply(self) -> bytes:
        """The whole error reply line Redis writes before closing the connection."""
        return b"-ERR " + self.message.encode() + b"\r\n"


class QueryBufferLimitExceeded(Exception):
    """More than ``client-query-buffer-limit`` unparsed bytes: close without a reply."""


def _err(text: str) -> ProtocolError:
    return ProtocolError("Protocol error: " + text)


def _string2ll(s: bytes) -> int | None:
    """Redis's string2ll(): a strict decimal long long, or None.

    No sign but ``-``, no spaces, no leading zeros, at most 20 characters.
    """
    n = len(s)
    if n == 0 or n >= 21:
        return None
    if s[0] == 45:                       # '-'
        digits = s[1:]
        if not digits or not digits.isdigit() or digits[0] == 48:
            return None
        value = -int(digits)
        return value if value >= -_LLONG_MAX - 1 else None
    if not s.isdigit():
        return None
    if s[0] == 48:
        return 0 if n == 1 else None
    value = int(s)
    return value if value <= _LLONG_MAX else None


def split_args(line: bytes) -> list[bytes]:
    """Split an inline request line as Redis's ``sdssplitargs`` does.

    Raises :class:`ProtocolError` (``unbalanced quotes in request``) for an
    unterminated quote, or a closing quote not followed by a space or the end.
    """
    if b"\0" in line:
        line = line[:line.index(b"\0")]    # a C string ends at its first NUL
    if b'"' not in line and b"'" not in line and b"\v" not in line and b"\f" not in line:
        # Without quotes, and with only the four separators that both skip and
        # end tokens, bytes.split() is exactly sdssplitargs.
        return line.split()
    args: list[bytes] = []
    n = len(line)
    i = 0
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            c = line[i] if i < n else 0      # the terminating NUL
            if in_double:
                if (c == 92 and i + 3 < n and line[i + 1] == 120
                        and line[i + 2] in _HEX and line[i + 3] in _HEX):
                    current.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    e = line[i]
                    current.append(_ESCAPES.get(e, e))
                elif c == 34:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        raise _err("unbalanced quotes in request")
                    i += 1
                    break
                elif i >= n:
                    raise _err("unbalanced quotes in request")
                else:
                    current.append(c)
            elif in_single:
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    current.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        raise _err("unbalanced quotes in request")
                    i += 1
                    break
                elif i >= n:
                    raise _err("unbalanced quotes in request")
                else:
                    current.append(c)
            elif i >= n or c in _TOKEN_END:
                if i < n:
                    i += 1
                break
            elif c == 34:
                in_double = True
            elif c == 39:
                in_single = True
            else:
                current.append(c)
            i += 1
        args.append(bytes(current))


class RequestParser:
    """Incremental request parser: :meth:`feed` bytes, then :meth:`drain` requests.

    ``authenticated`` mirrors Redis's ``authRequired()``: set it to False for a
    client that still has to AUTH, and back to True once it has. While it is
    False the smaller limits apply and :meth:`drain` returns at most one request,
    so that an AUTH takes effect before the rest of a pipeline is parsed.
    """

    __slots__ = (
        "proto_max_bulk_len", "client_query_buffer_limit", "authenticated",
        "_buf", "_pos", "_args", "_remaining", "_bulklen", "_error", "_window", "_cooldown", "_queue",
    )

    def __init__(self, proto_max_bulk_len: int = 512 * 1024 * 1024,
                 client_query_buffer_limit: int = 1024**3) -> None:
        self.proto_max_bulk_len = proto_max_bulk_len
        self.client_query_buffer_limit = client_query_buffer_limit
        self.authenticated: bool = True
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._args: list[bytes] = []        # arguments of a multibulk request in progress
        self._remaining = 0                 # arguments it still needs (0: between requests)
        self._bulklen = -1                  # length of the argument being read, -1 before its header
        self._error: Exception | None = None
        self._window = _WINDOW_MAX
        self._cooldown = 0
        self._queue: deque[list[bytes]] = deque()   # parsed, not yet returned by next_request()

    # -- input ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Append received bytes.

        Raises :class:`QueryBufferLimitExceeded` when the unparsed input grows past
        ``client_query_buffer_limit`` (Redis then closes the connection silently).
        Once an error has been raised, further input is ignored.
        """
        if self._error is not None or not data:
            return
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            self._buf = data if type(data) is bytes else bytes(data)
            self._pos = 0
        elif type(buf) is bytes:
            if len(buf) - pos <= 4096:
                # A short tail (a request cut by the read): one copy, and the buffer
                # stays bytes, which the fast path can split without another copy.
                self._buf = buf[pos:] + data
            else:
                # A long tail (a big argument arriving over many reads): append in
                # place from now on instead of copying the whole tail every time.
                grown = bytearray(memoryview(buf)[pos:])
                grown += data
                self._buf = grown
            self._pos = 0
        else:
            buf += data
        if len(self._buf) - self._pos > self.client_query_buffer_limit:
            self._error = QueryBufferLimitExceeded()
            self._buf = b""
            self._pos = 0
            raise self._error

    def pending_bytes(self) -> int:
        """Bytes received but not parsed yet (Redis's ``qbuf``)."""
        return len(self._buf) - self._pos

    @property
    def partial(self) -> bool:
        """Whether part of a request has been received (after a :meth:`drain`)."""
        return bool(self._remaining or len(self._buf) > self._pos)

    # -- the C hot loop's view -------------------------------------------------------------

    def hot_ready(self) -> bool:
        """Whether the C hot loop may take requests from ``_buf`` at ``_pos``: unparsed bytes
        that start a new request, nothing half-parsed, queued or failed, an authenticated
        client's limits, and a bytes buffer. The hot loop advances ``_pos`` itself, past
        canonical frames only; :meth:`settle` afterwards."""
        return (not self._remaining and self._pos < len(self._buf) and type(self._buf) is bytes
                and self._error is None and not self._queue and self.authenticated
                and self.proto_max_bulk_len >= HOT_MAX_LEN)

    def settle(self) -> None:
        """Drop the buffer once the hot loop has consumed all of it."""
        if self._pos >= len(self._buf):
            self._buf = b""
            self._pos = 0

    # -- output --------------------------------------------------------------------------

    def next_request(self) -> list[bytes] | None:
        """The next complete request, or None when more data is needed."""
        queue = self._queue
        if not queue:
            queue.extend(self.drain())
            if not queue:
                return None
        return queue.popleft()

    def drain(self) -> list[list[bytes]]:
        """Every complete request buffered so far (at most one while unauthenticated).

        Raises :class:`ProtocolError` for malformed input -- after returning the
        requests that preceded it, on the following call.
        """
        if self._queue:
            out = list(self._queue)
            self._queue.clear()
        else:
            out = []
        if self._error is not None:
            if out:
                return out
            raise self._error
        slow = self._slow
        try:
            if not self.authenticated:
                while not out:
                    request = slow()
                    if request is None:
                        break
                    if request:
                        out.append(request)
            elif self.proto_max_bulk_len < _FAST_MAX_LEN:
                while (request := slow()) is not None:
                    if request:
                        out.append(request)
            else:
                while True:
                    buf = self._buf
                    pos = self._pos
                    if pos >= len(buf):
                        break
                    if not self._remaining and buf[pos] == 42:   # '*'
                        if self._cooldown > 0:
                            self._cooldown -= 1
                        elif self._fast(out):
                            if self._pos >= len(self._buf):
                                break
                        else:
                            # The head of the buffer is a large or unusual frame: let
                            # the byte-by-byte path take the next few before retrying.
                            self._cooldown = _COOLDOWN
                    request = slow()
                    if request is None:
                        break
                    if request:
                        out.append(request)
        except ProtocolError as error:
            self._error = error
            self._buf = b""
            self._pos = 0
            if out:
                return out
            raise
        buf = self._buf
        if self._pos >= len(buf):
            self._buf = b""
            self._pos = 0
        elif self._pos > 65536 and type(buf) is bytearray and self._pos * 2 > len(buf):
            del buf[:self._pos]
            self._pos = 0
        return out

    # -- internals -----------------------------------------------------------------------

    def _fast(self, out: list[list[bytes]]) -> bool:
        """Take the leading well-formed multibulk frames from a window of the buffer.

        Returns whether it took any. Only frames whose every ``$len`` header is the
        canonical spelling of the length of the token after it are taken, which
        proves that Redis would parse those bytes into the same arguments.
        """
        buf = self._buf
        pos = self._pos
        window = self._window
        if type(buf) is bytes:
            data = buf if pos == 0 and len(buf) <= window else buf[pos:pos + window]
        else:
            data = bytes(memoryview(buf)[pos:pos + window])
        toks = data.split(b"\r\n")
        last = len(toks) - 1        # toks[last] is not followed by CRLF: never part of a frame
        i = 0
        count_of = _COUNT.get
        hdr_of = _HDR_OF
        append = out.append
        while i < last:
            head = toks[i]
            n = count_of(head)
            if n is None:
                break
            size = 2 * n + 1
            end = i + size
            if end > last:
                break
            if end + size > last or toks[end] != head:
                # A lone frame: its headers and its arguments, by stride.
                args = toks[i + 2:end:2]
                try:
                    if toks[i + 1:end:2] != list(map(hdr_of, map(len, args))):
                        break
                except IndexError:      # an argument longer than the fast tables
                    break
                append(args)
                i = end
                continue
            # A run of frames with the same count: checked and cut in one go.
            end += size
            while end + size <= last and toks[end] == head:
                end += size
            seg = toks[i:end]
            del seg[::size]
            args = seg[1::2]
            try:
                ok = seg[::2] == list(map(hdr_of, map(len, args)))
            except IndexError:
                ok = False
            if not ok:
                # Some frame of the run is unusual: take the next one alone.
                args = toks[i + 2:i + size:2]
                try:
                    if toks[i + 1:i + size:2] != list(map(hdr_of, map(len, args))):
                        break
                except IndexError:
                    break
                append(args)
                i += size
                continue
            if n == 1:
                out.extend([arg] for arg in args)
            else:
                # Exact grouping: len(args) is a multiple of n by construction.
                out.extend(map(list, zip(*[iter(args)] * n)))  # noqa: B905
            i = end
        if not i:
            self._window = _WINDOW_MIN
            return False
        if i == last:
            consumed = len(data) - len(toks[last])
            if self._window < _WINDOW_MAX:
                self._window = window * 2
        else:
            consumed = len(data) - sum(map(len, toks[i:])) - 2 * (last - i)
        self._pos = pos + consumed
        return True

    def _line_end(self, needle: bytes, start: int) -> int:
        """Where strchr() would find ``needle``: -1 if absent or after a NUL byte."""
        buf = self._buf
        end = buf.find(needle, start)
        if end >= 0 and buf.find(b"\0", start, end) >= 0:
            return -1
        return end

    def _header(self, pos: int, dollar: bool) -> int | None:
        """Parse a count (``*``) or bulk (``$``) header at ``pos`` exactly as Redis does.

        Returns the value (the new position is after the header's line end) or
        None when more input is needed; raises ProtocolError.
        """
        buf = self._buf
        size = len(buf)
        newline = self._line_end(b"\r", pos)
        if newline < 0:
            if size - pos > INLINE_MAX_SIZE:
                raise _err("too big bulk count string" if dollar else "too big mbulk count string")
            return None
        if newline > size - 2:              # the byte after '\r' has not arrived
            return None
        if dollar and buf[pos] != 36:       # '$'
            byte = buf[pos]
            got = " " if byte in (10, 13) else chr(byte) if byte < 128 else chr(0xDC00 + byte)
            raise _err(f"expected '$', got '{got}'")
        # string2ll() refuses 21+ characters: don't copy a long bogus line to find out.
        value = _string2ll(bytes(buf[pos + 1:newline])) if newline - pos <= 21 else None
        if dollar:
            if value is None or value < 0 or value > self.proto_max_bulk_len:
                raise _err("invalid bulk length")
            if value > UNAUTH_BULK_MAX and not self.authenticated:
                raise _err("unauthenticated bulk length")
        else:
            if value is None or value > INT_MAX:
                raise _err("invalid multibulk length")
            if value > UNAUTH_MULTIBULK_MAX and not self.authenticated:
                raise _err("unauthenticated multibulk length")
        self._pos = newline + 2
        return value

    def _slow(self) -> list[bytes] | None:
        """Parse one request the way Redis does, resumable across feeds.

        Returns the arguments (an empty list for a skipped request) or None when
        more input is needed.
        """
        buf = self._buf
        size = len(buf)
        limit = size - 2                    # a line end must leave room for the byte after '\r'
        remaining = self._remaining
        is_bytes = type(buf) is bytes
        # Canonical headers are looked up in a table; anything else goes to _header().
        tables = self.authenticated and self.proto_max_bulk_len >= _FAST_MAX_LEN
        if not remaining:
            pos = self._pos
            if pos >= size:
                return None
            if buf[pos] != 42:
                return self._inline()
            newline = buf.find(b"\r", pos)
            count = None
            if tables and 0 <= newline <= limit:
                count = _COUNT.get(buf[pos:newline] if is_bytes else bytes(buf[pos:newline]))
            if count is None:
                count = self._header(pos, False)
                if count is None:
                    return None
                if count <= 0:
                    return []
                pos = self._pos
            else:
                pos = newline + 2
            remaining = count
            args = []
            length = -1
        else:
            pos = self._pos
            args = self._args
            length = self._bulklen
        find = buf.find
        len_of = _LEN.get if tables else {}.get
        append = args.append
        while remaining:
            if length < 0:
                newline = find(b"\r", pos)
                if 0 <= newline <= limit:
                    length = len_of(buf[pos:newline] if is_bytes else bytes(buf[pos:newline]))
                if length is None or length < 0:
                    self._pos = pos
                    length = self._header(pos, True)
                    if length is None:
                        length = -1
                        break
                    pos = self._pos
                else:
                    pos = newline + 2
            if size - pos < length + 2:
                break
            if is_bytes:
                append(buf[pos:pos + length])
            elif length < 4096:
                append(bytes(buf[pos:pos + length]))
            else:
                with memoryview(buf) as view:
                    append(bytes(view[pos:pos + length]))
            pos += length + 2
            length = -1
            remaining -= 1
        self._pos = pos
        if remaining:
            self._remaining = remaining
            self._bulklen = length
            self._args = args
            return None
        self._remaining = 0
        self._bulklen = -1
        return args

    def _inline(self) -> list[bytes] | None:
        buf = self._buf
        pos = self._pos
        newline = self._line_end(b"\n", pos)
        if newline < 0:
            if len(buf) - pos > INLINE_MAX_SIZE:
                raise _err("too big inline request")
            return None
        end = newline - 1 if newline > pos and buf[newline - 1] == 13 else newline
        args = split_args(bytes(buf[pos:end]))
        self._pos = newline + 1
        return args
