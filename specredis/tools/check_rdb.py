"""``specredis-check-rdb FILE``: verify an RDB file the way ``redis-check-rdb`` does.

The file is read by the server's own loader (``engine/persistence/rdb_load.py``) in a
checking mode: values are decoded and deep-checked (listpack back-lengths and counts,
intset order, stream entries...) as ``redis-check-rdb`` does with
``sanitize-dump-payload yes``, then thrown away, and nothing is loaded anywhere.

The report follows redis-check-rdb's lines::

    [offset 0] Checking RDB file dump.rdb
    [offset 27] AUX FIELD redis-ver = '7.0.15'
    [offset 82] Selecting DB ID 0
    [offset 337] Checksum OK
    [offset 337] \\o/ RDB looks OK! \\o/
    [info] 8 keys read
    [info] 1 expires
    [info] 0 already expired

On corruption it prints ``--- RDB ERROR DETECTED ---``, the offset of the first bad
read with what was wrong, what was being read (``[additional info]``), the counts so
far, and exits with status 1. On a terminal, a progress bar goes to stderr while a
large file is read.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

from specredis.engine.persistence.rdb import RdbError
from specredis.engine.persistence.rdb_load import LoadSink, RdbLoader, describe_type

PROGRESS_MIN_BYTES = 4 << 20        # smaller files are read without a progress bar
_BAR_WIDTH = 30


class _Discard(dict):
    """A database that keeps nothing: the checker only decodes values."""

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class _DiscardDatabase:
    def __init__(self) -> None:
        self.data = _Discard()
        self.expires = _Discard()


class CheckSink(LoadSink):
    """Prints what redis-check-rdb prints while it reads."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.db = _DiscardDatabase()

    def database(self, dbid: int) -> Any:
        return self.db

    def aux(self, name: bytes, value: bytes, offset: int) -> None:
        self.out.write(f"[offset {offset}] AUX FIELD {_text(name)} = '{_text(value)}'\n")

    def selected(self, dbid: int, offset: int) -> None:
        self.out.write(f"[offset {offset}] Selecting DB ID {dbid}\n")

    def function(self, code: bytes, allow_dup: bool) -> None:
        # Like redis-check-rdb, a library is read, not run.
        return None


def _text(raw: bytes) -> str:
    """A key as redis-check-rdb prints it with %s: up to its first NUL byte."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")


class _Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, position: int) -> None:
        fraction = position / self.total if self.total else 1.0
        filled = int(_BAR_WIDTH * fraction)
        rate = position / max(time.monotonic() - self.start, 1e-6) / (1 << 20)
        self.stream.write(f"\r[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {fraction * 100:5.1f}% "
                          f"{position}/{self.total} bytes {rate:.1f} MB/s")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * (_BAR_WIDTH + 60) + "\r")
            self.stream.flush()


# Where 7.0.15's rdb.c reports each corruption it finds inside a value (rdbReportCorruptRDB):
# redis-check-rdb prints those as "Internal error in RDB reading offset 0, function at
# rdb.c:<line> -> <message>" (the offset in the text is always 0 in 7.0), then logs that it
# terminates. The lines were read off the reference's own reports on corrupted files.
RDB_C_LINES = {
    "Unknown length encoding ": 236,
    "Invalid LZF compressed string": 413,
    "Unknown RDB string encoding type ": 529,
    "Duplicate set members detected": 1829,
    "Zset with NAN score detected": 1882,
    "Duplicate zset fields detected": 1894,
    "Hash with dup elements": 1951,
    "Duplicate hash fields detected": 2019,
    "Quicklist integrity check failed.": 2048,
    "Listpack integrity check failed.": 2071,
    "Intset integrity check failed.": 2214,
    "Zset listpack integrity check failed.": 2255,
    "Hash listpack integrity check failed.": 2301,
    "Stream master ID loading failed: invalid encoding or I/O error.": 2338,
    "Stream node key entry is not the size of a stream ID": 2343,
    "Stream listpacks loading failed.": 2355,
    "Stream object metadata loading failed.": 2424,
    "Stream length inconsistent with rax entries": 2430,
    "Stream listpack integrity check failed.": 2362,
    "Stream cgroup offset loading failed.": 2469,
    "Stream PEL ID loading failed.": 2502,
    "Stream PEL NACK loading failed.": 2510,
    "Duplicated global PEL entry loading stream consumer group": 2516,
    "Error reading the consumer name from Stream group.": 2534,
    "Duplicate stream consumer detected.": 2543,
    "Stream short read reading seen time.": 2549,
    "Stream short read reading PEL streamID.": 2566,
    "Consumer entry not found in group global PEL": 2573,
    "Stream CG PEL entry without consumer": 2611,
    "The RDB file contains module data I can't load": 2636,
}


def _rdb_c_line(message: str) -> int | None:
    for prefix, line in RDB_C_LINES.items():
        if message.startswith(prefix):
            return line
    return None


def _log_line(message: str) -> str:
    """A warning in the server log format redis-check-rdb uses for its last words."""
    now = time.time()
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
    return f"{os.getpid()}:C {stamp} # {message}\n"


def check_data(data: bytes, name: str, out: TextIO, progress: _Progress | None = None) -> bool:
    """Check an RDB image and print the report to ``out``; True if it is sound."""
    return check_data_report(data, name, out, progress) is not None


def check_data_report(data: bytes, name: str, out: TextIO, progress: _Progress | None = None) -> Any:
    """:func:`check_data`, returning the loader's report (``end_offset``: where the RDB ends,
    an AOF's commands may follow) or None if the image is not sound."""
    out.write(f"[offset 0] Checking RDB file {name}\n")
    sink = CheckSink(out)
    interval = max(1 << 20, len(data) // 200)
    loader = RdbLoader(data, sink, deep=True, expire_keys=False, events=progress,
                       events_interval=interval, databases=1 << 31)
    try:
        report = loader.run()
    except RdbError as error:
        if progress is not None:
            progress.clear()
        out.write("--- RDB ERROR DETECTED ---\n")
        message = "RDB CRC error" if error.message.startswith("Wrong RDB checksum") else error.message
        if loader.doing == "read-type" and message.startswith("Unknown RDB encoding type "):
            # redis-check-rdb refuses the type byte itself (the server would read the key first).
            message = "Invalid object type: " + message.rsplit(" ", 1)[1]
        rdb_c_line = _rdb_c_line(message)
        if rdb_c_line is not None:
            message = f"Internal error in RDB reading offset 0, function at rdb.c:{rdb_c_line} -> {message}"
        out.write(f"[offset {max(error.offset, 0)}] {message}\n")
        out.write(f"[additional info] While doing: {loader.doing}\n")
        if loader.key is not None:
            out.write(f"[additional info] Reading key '{_text(loader.key)}'\n")
        if loader.type_code >= 0:
            out.write(f"[additional info] Reading type {loader.type_code} ({describe_type(loader.type_code)})\n")
        _counts(out, loader)
        if rdb_c_line is not None:
            out.write(_log_line("Terminating server after rdb file reading failure."))
        return None
    if progress is not None:
        progress.clear()
    if report.checksum == "disabled":
        out.write(f"[offset {report.end_offset}] RDB file was saved with checksum disabled: no check performed.\n")
    elif report.checksum == "ok":
        out.write(f"[offset {report.end_offset}] Checksum OK\n")
    out.write(f"[offset {report.end_offset}] \\o/ RDB looks OK! \\o/\n")
    _counts(out, loader)
    return report


def _counts(out: TextIO, loader: RdbLoader) -> None:
    out.write(f"[info] {loader.keys_read} keys read\n")
    out.write(f"[info] {loader.expires_read} expires\n")
    out.write(f"[info] {loader.already_expired} already expired\n")


def check_file(path: str, out: TextIO | None = None, progress: bool | None = None) -> bool:
    """Check the RDB file at ``path``; True if it is sound. ``progress`` None: a bar on stderr
    when it is a terminal and the file is large."""
    out = out or sys.stdout
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        out.write(f"[offset 0] Checking RDB file {path}\n")
        out.write(f"--- RDB ERROR DETECTED ---\n[offset 0] Cannot open file {path}: {error.strerror}\n")
        return False
    bar = None
    if progress or (progress is None and sys.stderr.isatty() and len(data) >= PROGRESS_MIN_BYTES):
        bar = _Progress(len(data), sys.stderr)
    return check_data(data, path, out, bar)


USAGE = "Usage: specredis-check-rdb <rdb-file-name>\n"


def main(argv: list[str] | None = None) -> int:
    """Console entry point: ``specredis-check-rdb FILE``; exit status 0 if the file is sound."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        sys.stderr.write(USAGE)
        return 1
    if args[0] in ("-v", "--version"):
        sys.stdout.write("specredis-check-rdb 7.0.15 (RDB version 10)\n")
        return 0
    ok = check_file(args[0])
    sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
