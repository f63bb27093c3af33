"""``specredis-check-aof [--fix|--truncate-to-timestamp T] MANIFEST|FILE``: redis-check-aof 7.0.

Checks a multi-part AOF through its manifest (the base, RDB or RESP, then each incr
file), or a single old-style file (RESP, or an RDB preamble followed by commands), and
prints what redis-check-aof prints: ``AOF analyzed: filename=..., size=...,
ok_up_to=..., ok_up_to_line=..., diff=...`` with the offset and line of the last
complete command, and the first error found (``0x<offset>: Expected ...``). Lines are
counted across the files of a manifest, as Redis counts them.

``--fix`` truncates the last file to its last complete command after asking
``Continue? [y/N]:`` on stdin (``--yes`` answers for you: for scripts and tests);
only the last file may be fixed. ``--truncate-to-timestamp T`` cuts the last file at
the first ``#TS:`` annotation later than T (``aof-timestamp-enabled``).

Exit status: 0 when everything is valid (or was fixed), 1 otherwise, as redis-check-aof.
On a terminal, large files get a progress bar on stderr.
"""

from __future__ import annotations

import io
import os
import sys
import time
from typing import TextIO

from specredis.engine.args import LLONG_MAX, LLONG_MIN, c_strtol
from specredis.engine.persistence.aof_manifest import Manifest, ManifestError
from specredis.util.log import LOGGER, log

USAGE = "Usage: {prog} [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>\n"
MANIFEST_MAX_LINE = 1024
ANNOTATION_LINE_MAX_LEN = 1024
PROGRESS_MIN_BYTES = 16 << 20
_BAR_WIDTH = 40

CHECK_OK = "ok"
CHECK_EMPTY = "empty"
CHECK_TRUNCATED = "truncated"
CHECK_TIMESTAMP_TRUNCATED = "timestamp-truncated"


class CheckExit(Exception):
    """redis-check-aof exits here with ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, name: str, total: int, stream: TextIO) -> None:
        self.name = name
        self.total = total
        self.stream = stream
        self.start = time.monotonic()
        self.next_update = 0.0
        self.shown = False

    def update(self, position: int, force: bool = False) -> None:
        now = time.monotonic()
        if now < self.next_update and not force:
            return
        self.next_update = now + 0.1
        fraction = position / self.total if self.total else 1.0
        filled = int(_BAR_WIDTH * fraction)
        rate = position / max(now - self.start, 1e-6) / (1 << 20)
        self.stream.write(f"\r{self.name} [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {fraction * 100:5.1f}% "
                          f"{rate:.1f} MB/s")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * (len(self.name) + _BAR_WIDTH + 30) + "\r")
            self.stream.flush()


class AofChecker:
    """The state redis-check-aof keeps across the files it checks (its line count, error text)."""

    def __init__(self, out: TextIO, fix: bool = False, to_timestamp: int = 0, answer: str | None = None,
                 stdin: TextIO | None = None, progress: bool | None = None) -> None:
        self.out = out
        self.fix = fix
        self.to_timestamp = to_timestamp
        self.answer = answer
        self.stdin = stdin if stdin is not None else sys.stdin
        self.progress = progress
        self.line = 1
        self.epos = 0
        self.error = ""
        # The file being read, as C's stdio would: its bytes, the read position, feof().
        self.data = b""
        self.pos = 0
        self.eof = False

    def write(self, text: str) -> None:
        self.out.write(text)

    def set_error(self, message: str) -> None:
        # ERROR(): the message (a C string: it ends at a NUL byte) with the offset where the
        # failing read started.
        self.error = f"0x{self.epos:16x}: {message.partition(chr(0))[0]}"

    # -- stdio on a byte buffer --------------------------------------------------------------

    def fgets(self, size: int) -> bytes | None:
        """fgets(buf, size): a line (newline included) of at most size - 1 bytes; None at EOF."""
        if self.pos >= len(self.data):
            self.eof = True
            return None
        limit = min(self.pos + size - 1, len(self.data))
        newline = self.data.find(b"\n", self.pos, limit)
        stop = newline + 1 if newline >= 0 else limit
        if stop == len(self.data) and newline < 0:
            self.eof = True
        line = self.data[self.pos:stop]
        self.pos = stop
        return line

    def fread(self, length: int) -> bytes:
        chunk = self.data[self.pos:self.pos + length]
        self.pos += len(chunk)
        if len(chunk) < length:
            self.eof = True
        return chunk

    # -- the RESP reader (readLong, readString, processRESP) ----------------------------------

    def consume_newline(self, rest: bytes) -> bool:
        if rest[:2] != b"\r\n":
            first = _signed_hex(rest[0]) if len(rest) > 0 else "00"
            second = _signed_hex(rest[1]) if len(rest) > 1 else "00"
            self.set_error(f"Expected \\r\\n, got: {first}{second}")
            return False
        self.line += 1
        return True

    def read_long(self, prefix: bytes) -> int | None:
        self.epos = self.pos
        buf = self.fgets(128)
        if buf is None:
            return None
        if buf[:1] != prefix:
            got = buf[:1].decode("utf-8", "surrogateescape")     # the raw byte, as %c prints it
            self.set_error(f"Expected prefix '{prefix.decode()}', got: '{got}'")
            return None
        value, consumed = c_strtol(buf, 1)
        if not self.consume_newline(buf[consumed:]):
            return None
        return value

    def read_string(self) -> bytes | None:
        length = self.read_long(b"$")
        if length is None:
            return None
        if length < 0 or length > LLONG_MAX - 2:
            self.set_error(f"Expected to read string of {length} bytes, which is not in the suitable range")
            return None
        length += 2
        self.epos = self.pos
        data = self.fread(length)
        if len(data) != length:
            self.set_error(f"Expected to read {length} bytes, got {len(data)} bytes")
            return None
        if not self.consume_newline(data[-2:]):
            return None
        return data[:-2]

    def process_resp(self, path: str) -> bool:
        argc = self.read_long(b"*")
        if argc is None:
            return False
        for index in range(argc):
            arg = self.read_string()
            if arg is None:
                return False
            if index == 0:
                name = _c_string(arg).lower()
                if name == b"multi":
                    self.multi += 1
                    if self.multi > 1:
                        self.set_error(f"Unexpected MULTI in AOF {path}")
                        return False
                elif name == b"exec":
                    self.multi -= 1
                    if self.multi:
                        self.set_error(f"Unexpected EXEC in AOF {path}")
                        return False
        return True

    def process_annotation(self, handle: int, path: str, last_file: bool) -> bool:
        """An annotation line; False once the file was cut at a timestamp past --truncate-to-timestamp."""
        self.epos = self.pos
        buf = self.fgets(ANNOTATION_LINE_MAX_LEN)
        if buf is None:
            self.write(f"Failed to read annotations from AOF {path}, aborting...\n")
            raise CheckExit(1)
        if not self.to_timestamp or not buf.startswith(b"#TS:"):
            return True
        value, consumed = c_strtol(buf, 4)
        if buf[consumed:consumed + 1] != b"\r" or value in (LLONG_MAX, LLONG_MIN):
            self.write("Invalid timestamp annotation\n")
            raise CheckExit(1)
        if value <= self.to_timestamp:
            return True
        if self.epos == 0:
            self.write(f"AOF {path} has nothing before timestamp {self.to_timestamp}, aborting...\n")
            raise CheckExit(1)
        if not last_file:
            self.write(f"Failed to truncate AOF {path} to timestamp {self.to_timestamp} to offset {self.epos} "
                       "because it is not the last file.\n")
            self.write("If you insist, please delete all files after this file according to the manifest file "
                       "and delete the corresponding records in manifest file manually. Then re-run "
                       "redis-check-aof.\n")
            raise CheckExit(1)
        try:
            os.ftruncate(handle, self.epos)
        except OSError:
            self.write(f"Failed to truncate AOF {path} to timestamp {self.to_timestamp}\n")
            raise CheckExit(1) from None
        return False

    # -- one file (checkSingleAof) -------------------------------------------------------------

    def check_single(self, name: str, path: str, last_file: bool, preamble: bool) -> str:
        try:
            handle = os.open(path, os.O_RDWR)
        except OSError as error:
            self.write(f"Cannot open file {path}: {error.strerror}, aborting...\n")
            raise CheckExit(1) from None
        try:
            return self._check_open(handle, name, path, last_file, preamble)
        finally:
            os.close(handle)

    def _check_open(self, handle: int, name: str, path: str, last_file: bool, preamble: bool) -> str:
        size = os.fstat(handle).st_size
        if size == 0:
            return CHECK_EMPTY
        with open(path, "rb") as reader:
            self.data = reader.read()
        self.pos = 0
        self.eof = False
        self.error = ""
        self.multi = 0
        if preamble:
            end = self._check_rdb_preamble(name)
            if end is None:
                self.write("RDB preamble of AOF file is not sane, aborting.\n")
                raise CheckExit(1)
            self.write("RDB preamble is OK, proceeding with AOF tail...\n")
            self.pos = end
        bar = None
        if self.progress or (self.progress is None and sys.stderr.isatty() and size >= PROGRESS_MIN_BYTES):
            bar = _Progress(name, size, sys.stderr)
        pos = self.pos
        while True:
            if not self.multi:
                pos = self.pos
            if bar is not None:
                bar.update(self.pos)
            if self.pos >= len(self.data):
                self.eof = True
                break
            first = self.data[self.pos:self.pos + 1]
            if first == b"#":
                if not self.process_annotation(handle, path, last_file):
                    if bar is not None:
                        bar.clear()
                    return CHECK_TIMESTAMP_TRUNCATED
            elif first == b"*":
                if not self.process_resp(path):
                    break
            else:
                self.write(f"AOF {name} format error\n")
                break
        if bar is not None:
            bar.update(self.pos, force=True)
            bar.clear()
        if self.eof and self.multi and not self.error:
            self.set_error("Reached EOF before reading EXEC for MULTI")
        if self.error:
            self.write(f"{self.error}\n")
        diff = size - pos
        if diff == 0 and self.to_timestamp:
            self.write(f"Truncate nothing in AOF {name} to timestamp {self.to_timestamp}\n")
            return CHECK_OK
        self.write(f"AOF analyzed: filename={name}, size={size}, ok_up_to={pos}, ok_up_to_line={self.line}, "
                   f"diff={diff}\n")
        if diff > 0:
            if not self.fix:
                self.write(f"AOF {name} is not valid. Use the --fix option to try fixing it.\n")
                raise CheckExit(1)
            if not last_file:
                self.write(f"Failed to truncate AOF {name} because it is not the last file\n")
                raise CheckExit(1)
            self.write(f"This will shrink the AOF {name} from {size} bytes, with {diff} bytes, to {pos} bytes\n")
            self.write("Continue? [y/N]: ")
            self.out.flush()
            answer = self.answer if self.answer is not None else self.stdin.readline()
            if not answer[:1] or answer[:1].lower() != "y":
                self.write("Aborting...\n")
                raise CheckExit(1)
            try:
                os.ftruncate(handle, pos)
            except OSError:
                self.write(f"Failed to truncate AOF {name}\n")
                raise CheckExit(1) from None
            return CHECK_TRUNCATED
        return CHECK_OK

    def _check_rdb_preamble(self, name: str) -> int | None:
        """redis-check-rdb on the RDB part; where it ends, or None if it is not sound."""
        from specredis.tools.check_rdb import check_data_report

        report = check_data_report(self.data, name, self.out)
        return None if report is None else report.end_offset

    def print_style(self, result: str, name: str, kind: str) -> None:
        """printAofStyle."""
        if result == CHECK_OK:
            self.write(f"{kind} {name} is valid\n")
        elif result == CHECK_EMPTY:
            self.write(f"{kind} {name} is empty\n")
        elif result == CHECK_TIMESTAMP_TRUNCATED:
            self.write(f"Successfully truncated AOF {name} to timestamp {self.to_timestamp}\n")
        elif result == CHECK_TRUNCATED:
            self.write(f"Successfully truncated AOF {name}\n")

    # -- what to check ---------------------------------------------------------------------------

    def check_multi_part(self, directory: str, manifest_path: str) -> None:
        self.write("Start checking Multi Part AOF\n")
        try:
            manifest = Manifest.load(manifest_path)
        except ManifestError as error:
            self.out.flush()
            for text in error.log_lines():
                log("warning", text)
            raise CheckExit(1) from None
        files = manifest.files_to_load()
        number = 0
        if manifest.base is not None:
            name = manifest.base.file_name
            path = _make_path(directory, name)
            number += 1
            preamble = _file_is_rdb(path, self.out)
            self.write(f"Start to check BASE AOF ({'RDB' if preamble else 'RESP'} format).\n")
            result = self.check_single(name, path, number == len(files), preamble)
            self.print_style(result, name, "BASE AOF")
        if manifest.incrs:
            self.write("Start to check INCR files.\n")
            for info in manifest.incrs:
                path = _make_path(directory, info.file_name)
                number += 1
                result = self.check_single(info.file_name, path, number == len(files), False)
                self.print_style(result, info.file_name, "INCR AOF")
        self.write("All AOF files and manifest are valid\n")

    def check_old_style(self, path: str, preamble: bool) -> None:
        self.write("Start checking Old-Style AOF\n")
        result = self.check_single(path, path, True, preamble)
        self.print_style(result, path, "AOF")


def _make_path(directory: str, name: str) -> str:
    return f"{directory}/{name}"


def _c_string(raw: bytes) -> bytes:
    nul = raw.find(b"\0")
    return raw if nul < 0 else raw[:nul]


def _signed_hex(byte: int) -> str:
    # printf("%02x", (char)c) with a signed char: bytes >= 0x80 print as ffffffXX.
    return f"{byte:02x}" if byte < 0x80 else f"{0xFFFFFF00 | byte:08x}"


def _file_is_rdb(path: str, out: TextIO) -> bool:
    """fileIsRDB: at least 8 bytes starting with REDIS."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            return size >= 8 and handle.read(5) == b"REDIS"
    except OSError as error:
        out.write(f"Cannot open file {path}: {error.strerror}\n")
        raise CheckExit(1) from None


def _file_is_manifest(path: str, out: TextIO) -> bool:
    """fileIsManifest: some line (read as fgets reads them) starts with ``file``."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        out.write(f"Cannot open file {path}: {error.strerror}\n")
        raise CheckExit(1) from None
    pos = 0
    found = False
    while pos < len(data):
        newline = data.find(b"\n", pos, pos + MANIFEST_MAX_LINE)
        stop = newline + 1 if newline >= 0 else min(pos + MANIFEST_MAX_LINE, len(data))
        chunk = data[pos:stop]
        pos = stop
        if not chunk.startswith(b"#") and chunk.startswith(b"file"):
            found = True
    return found


def run(argv: list[str], out: TextIO | None = None, stdin: TextIO | None = None, prog: str = "redis-check-aof") -> int:
    """Check the AOF ``argv`` names (redis_check_aof_main); returns the exit status."""
    out = out or sys.stdout
    args = list(argv)
    answer = None
    if "--yes" in args or "-y" in args:
        args = [a for a in args if a not in ("--yes", "-y")]
        answer = "y"
    fix = False
    to_timestamp = 0
    if len(args) == 1:
        path = args[0]
    elif len(args) == 2 and args[0] == "--fix":
        fix = True
        path = args[1]
    elif len(args) == 3 and args[0] == "--truncate-to-timestamp":
        text = args[1].encode()
        value, consumed = c_strtol(text, 0)
        # strtol must take the whole argument and not overflow (errno ERANGE).
        if consumed != len(text) or value in (LLONG_MAX, LLONG_MIN):
            out.write("Invalid timestamp, aborting...\n")
            return 1
        to_timestamp = value
        path = args[2]
    else:
        out.write(USAGE.format(prog=prog))
        return 1
    checker = AofChecker(out, fix=fix, to_timestamp=to_timestamp, answer=answer, stdin=stdin)
    previous_stream, previous_role = LOGGER.stream, LOGGER.role
    LOGGER.stream, LOGGER.role = out, "C"
    try:
        if _file_is_manifest(path, out):
            checker.check_multi_part(os.path.dirname(path) or ".", path)
        else:
            checker.check_old_style(path, _file_is_rdb(path, out))
    except CheckExit as stop:
        return stop.status
    finally:
        LOGGER.stream, LOGGER.role = previous_stream, previous_role
        out.flush()
    return 0


def main() -> None:
    """Console entry point (``specredis-check-aof``)."""
    # Bytes from the files (an unexpected prefix byte, file names) are printed as they are.
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="surrogateescape", line_buffering=True)
    sys.exit(run(sys.argv[1:], out=out, prog=os.path.basename(sys.argv[0]) or "specredis-check-aof"))


if __name__ == "__main__":
    main()
