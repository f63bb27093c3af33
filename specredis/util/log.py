"""Server log lines in Redis's format: ``pid:M 26 Nov 2026 00:16:57.123 * message``."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3}
MARKS = {"debug": ".", "verbose": "-", "notice": "*", "warning": "#"}


class Logger:
    """Writes to stdout or a log file, dropping lines below the configured level."""

    def __init__(self) -> None:
        self.level = LEVELS["notice"]
        self.stream: TextIO = sys.stdout
        self.role = "M"

    def configure(self, level: str, logfile: str) -> None:
        self.level = LEVELS.get(level, 2)
        if logfile:
            self.stream = open(logfile, "a", buffering=1)  # noqa: SIM115 - lives as long as the server
        else:
            self.stream = sys.stdout

    def log(self, level: str, message: str) -> None:
        if LEVELS.get(level, 2) < self.level:
            return
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
        try:
            self.stream.write(f"{os.getpid()}:{self.role} {stamp} {MARKS.get(level, '*')} {message}\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass


LOGGER = Logger()


def log(level: str, message: str) -> None:
    """Log ``message`` at ``level`` (debug, verbose, notice, warning)."""
    LOGGER.log(level, message)
