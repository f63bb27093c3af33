"""The manifest of a multi-part AOF (Redis 7.0): which files make up the AOF, in which order.

The AOF lives in ``appenddirname`` inside ``dir``: one *base* file (the dataset as a
rewrite saw it, ``<appendfilename>.<seq>.base.rdb`` or ``.base.aof``), the *incr*
files written since (``<appendfilename>.<seq>.incr.aof``, loaded in manifest order)
and, until they are deleted, *history* files that a rewrite made obsolete. The
manifest ``<appendfilename>.manifest`` lists them one per line::

    file appendonly.aof.2.base.rdb seq 2 type b
    file appendonly.aof.1.incr.aof seq 1 type h
    file appendonly.aof.2.incr.aof seq 2 type i

Lines are read as Redis reads them (fgets into a 1025-byte buffer, ``#`` comment lines,
sdssplitargs, keys in any case, unknown key/value pairs ignored for forward
compatibility) and rejected with Redis's reasons; file names that need it are written
quoted as sdscatrepr quotes them. The manifest is replaced atomically: a temp file in
the same directory, fsync, rename, fsync of the directory.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field

from specredis.engine.args import c_strtol
from specredis.engine.config import repr_string
from specredis.protocol.parser import ProtocolError, split_args

BASE = "b"
HISTORY = "h"
INCR = "i"

BASE_SUFFIX = ".base"
INCR_SUFFIX = ".incr"
RDB_FORMAT_SUFFIX = ".rdb"
AOF_FORMAT_SUFFIX = ".aof"
MANIFEST_SUFFIX = ".manifest"
TEMP_PREFIX = "temp-"
# fgets(buf, MANIFEST_MAX_LINE + 1): a line (its newline included) longer than this is refused.
MANIFEST_MAX_LINE = 1024


class ManifestError(Exception):
    """A manifest Redis would refuse: ``reason`` is its message; ``line_number`` and ``line``
    (the trimmed text) say where, when the error is about a line."""

    def __init__(self, reason: str, line_number: int = 0, line: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line_number = line_number
        self.line = line

    def log_lines(self) -> list[str]:
        """The messages Redis logs for this error (each ends with a newline, as Redis's do)."""
        lines = ["\n*** FATAL AOF MANIFEST FILE ERROR ***\n"]
        if self.line is not None:
            lines.append(f"Reading the manifest file, at line {self.line_number}\n")
            lines.append(f">>> '{self.line}'\n")
        lines.append(f"{self.reason}\n")
        return lines


@dataclass
class AofInfo:
    """One file of the AOF: its name (in appenddirname), sequence number and type (b, h or i)."""

    file_name: str
    file_seq: int
    file_type: str

    def line(self) -> str:
        """This file's manifest line (aofInfoFormat)."""
        return f"file {_quote_if_needed(self.file_name)} seq {self.file_seq} type {self.file_type}\n"


@dataclass
class Manifest:
    """The files of a multi-part AOF (aofManifest)."""

    base: AofInfo | None = None
    incrs: list[AofInfo] = field(default_factory=list)
    history: list[AofInfo] = field(default_factory=list)
    base_seq: int = 0           # curr_base_file_seq
    incr_seq: int = 0           # curr_incr_file_seq

    def copy(self) -> Manifest:
        """An independent copy to modify (aofManifestDup): committed only once persisted."""
        return copy.deepcopy(self)

    def is_empty(self) -> bool:
        """No base and no incr file: there is no AOF to load."""
        return self.base is None and not self.incrs

    def files_to_load(self) -> list[AofInfo]:
        """The base (if any), then the incr files, in loading order."""
        return ([self.base] if self.base is not None else []) + list(self.incrs)

    # -- text -------------------------------------------------------------------------------

    def to_text(self) -> str:
        """The manifest as Redis writes it: base, history files, then incr files."""
        infos = ([self.base] if self.base is not None else []) + self.history + self.incrs
        return "".join(info.line() for info in infos)

    @classmethod
    def parse(cls, data: bytes) -> Manifest:
        """Read a manifest (aofLoadManifestFromFile); ManifestError with Redis's reason."""
        manifest = cls()
        max_seq = 0
        line_number = 0
        for chunk in _fgets_chunks(data, MANIFEST_MAX_LINE + 1):
            line_number += 1
            if chunk.startswith(b"#"):
                continue
            text = _c_string(chunk)
            if b"\n" not in text:
                raise ManifestError("The AOF manifest file contains too long line")
            trimmed = text.strip(b" \t\r\n")
            shown = trimmed.decode("utf-8", "surrogateescape")
            if not trimmed:
                raise ManifestError("Invalid AOF manifest file format", line_number, shown)
            try:
                args = split_args(trimmed)
            except ProtocolError:
                args = None
            # At least file, seq and type; extra pairs are allowed for forward compatibility.
            if args is None or len(args) < 6 or len(args) % 2:
                raise ManifestError("Invalid AOF manifest file format", line_number, shown)
            name: str | None = None
            seq = 0
            kind = ""
            for i in range(0, len(args), 2):
                key, value = args[i].lower(), args[i + 1]
                if key == b"file":
                    name = _c_string(value).decode("utf-8", "surrogateescape")
                    if not path_is_base_name(name):
                        raise ManifestError("File can't be a path, just a filename", line_number, shown)
                elif key == b"seq":
                    seq = c_strtol(value)[0]     # atoll
                elif key == b"type":
                    kind = chr(value[0]) if value and value[0] else ""
            if not name or not seq or not kind:
                raise ManifestError("Invalid AOF manifest file format", line_number, shown)
            info = AofInfo(name, seq, kind)
            if kind == BASE:
                if manifest.base is not None:
                    raise ManifestError("Found duplicate base file information", line_number, shown)
                manifest.base = info
                manifest.base_seq = seq
            elif kind == HISTORY:
                manifest.history.append(info)
            elif kind == INCR:
                if seq <= max_seq:
                    raise ManifestError("Found a non-monotonic sequence number", line_number, shown)
                manifest.incrs.append(info)
                manifest.incr_seq = seq
                max_seq = seq
            else:
                raise ManifestError("Unknown AOF file type", line_number, shown)
        if line_number == 0:
            raise ManifestError("Found an empty AOF manifest")
        return manifest

    @classmethod
    def load(cls, path: str) -> Manifest:
        """Read the manifest file at ``path`` (OSError if it cannot be read)."""
        with open(path, "rb") as handle:
            return cls.parse(handle.read())

    # -- changes (all on a copy, committed by persisting it) -----------------------------

    def new_base(self, prefix: str, rdb_format: bool) -> str:
        """Name the next base file and turn the current base, if any, into history
        (getNewBaseFileNameAndMarkPreAsHistory)."""
        if self.base is not None:
            self.base.file_type = HISTORY
            self.history.insert(0, self.base)
        self.base_seq += 1
        suffix = RDB_FORMAT_SUFFIX if rdb_format else AOF_FORMAT_SUFFIX
        name = f"{prefix}.{self.base_seq}{BASE_SUFFIX}{suffix}"
        self.base = AofInfo(name, self.base_seq, BASE)
        return name

    def new_incr(self, prefix: str) -> str:
        """Name the next incr file and append it to the list (getNewIncrAofName)."""
        self.incr_seq += 1
        name = f"{prefix}.{self.incr_seq}{INCR_SUFFIX}{AOF_FORMAT_SUFFIX}"
        self.incrs.append(AofInfo(name, self.incr_seq, INCR))
        return name

    def last_incr(self, prefix: str) -> str:
        """The incr file to append to: the last one, or a new one if there is none
        (getLastIncrAofName)."""
        if not self.incrs:
            return self.new_incr(prefix)
        return self.incrs[-1].file_name

    def mark_rewritten_incrs_as_history(self, keep_last: bool) -> None:
        """After a rewrite, the incr files it covers become history; with ``keep_last`` the
        file being written now stays (markRewrittenIncrAofAsHistory)."""
        covered = self.incrs[:-1] if keep_last else self.incrs
        for info in reversed(covered):
            info.file_type = HISTORY
            self.history.insert(0, info)
        self.incrs = self.incrs[-1:] if keep_last and self.incrs else []

    def persist(self, directory: str, name: str) -> None:
        """Write the manifest atomically as ``directory/name`` (persistAofManifest); OSError
        on failure, the previous manifest then stays in place."""
        temp = os.path.join(directory, TEMP_PREFIX + name)
        final = os.path.join(directory, name)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            data = self.to_text().encode("utf-8", "surrogateescape")
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, final)
        fsync_directory(directory)


def fsync_directory(directory: str) -> None:
    """Make renames and creations in ``directory`` durable (fsyncFileDir)."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def path_is_base_name(name: str) -> bool:
    """A plain file name, not a path (pathIsBaseName)."""
    return "/" not in name and "\\" not in name


def manifest_name(prefix: str) -> str:
    """``appendonly.aof.manifest`` for the prefix ``appendonly.aof``."""
    return prefix + MANIFEST_SUFFIX


def temp_incr_name(prefix: str) -> str:
    """The incr file written while AOF is being switched on (getTempIncrAofName)."""
    return f"{TEMP_PREFIX}{prefix}{INCR_SUFFIX}"


def _fgets_chunks(data: bytes, size: int) -> list[bytes]:
    """``data`` cut as successive fgets(buf, size) calls read it: up to and including a
    newline, at most ``size - 1`` bytes each."""
    chunks = []
    pos = 0
    limit = size - 1
    end = len(data)
    while pos < end:
        newline = data.find(b"\n", pos, pos + limit)
        stop = newline + 1 if newline >= 0 else min(pos + limit, end)
        chunks.append(data[pos:stop])
        pos = stop
    return chunks


def _c_string(raw: bytes) -> bytes:
    """What C string functions see of ``raw``: the bytes before its first NUL."""
    nul = raw.find(b"\0")
    return raw if nul < 0 else raw[:nul]


def _quote_if_needed(name: str) -> str:
    """The name as the manifest spells it: quoted and escaped when sdsneedsrepr says so."""
    raw = name.encode("utf-8", "surrogateescape")
    if any(byte in b'\\"' or byte < 0x21 or byte >= 0x7F for byte in raw):
        return repr_string(name)
    return name
