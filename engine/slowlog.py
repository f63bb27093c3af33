"""SLOWLOG: the log of commands that took at least ``slowlog-log-slower-than`` microseconds.

Entries are made after a command runs (the dispatcher's slow-command hook, called
only for commands at least as slow as the threshold) from its original arguments, with secrets redacted and long
arguments cut as Redis does: at most 32 arguments, the last one standing for
"... (N more arguments)", and each at most 128 bytes followed by "... (N more bytes)".
A blocking command is logged when it is served: its module calls
``engine.extensions["slowlog_push"]``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from specredis.engine.args import parse_int
from specredis.engine.client import CLIENT_BLOCKED, Client
from specredis.engine.command import CMD_SKIP_SLOWLOG
from specredis.engine.errors import RedisError, subcommand_syntax_error
from specredis.engine.help import help_reply
from specredis.engine.monitor import redacted_argv
from specredis.engine.settings import on_change
from specredis.protocol.replies import OK

if TYPE_CHECKING:
    from specredis.engine.command import CommandDef
    from specredis.engine.core import Engine

ENTRY_MAX_ARGC = 32
ENTRY_MAX_STRING = 128

SLOWLOG_HELP = (
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
)


class SlowLog:
    """The entries, newest first, and the id of the next one (never reset)."""

    __slots__ = ("engine", "entries", "next_id", "threshold_us", "max_len")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.entries: deque[list] = deque()
        self.next_id = 0
        self.threshold_us = 10000
        self.max_len = 128

    def push(self, client: Client, cmd: CommandDef, argv: list[bytes], duration_us: int) -> None:
        """Log the command if it was slow enough (slowlogPushEntryIfNeeded)."""
        if self.threshold_us < 0 or duration_us < self.threshold_us or cmd.flags & CMD_SKIP_SLOWLOG:
            return
        shown = redacted_argv(self.engine, cmd, argv)
        count = len(shown)
        if count > ENTRY_MAX_ARGC:
            shown = shown[:ENTRY_MAX_ARGC - 1] + [b"... (%d more arguments)" % (count - ENTRY_MAX_ARGC + 1)]
        shown = [arg if len(arg) <= ENTRY_MAX_STRING
                 else arg[:ENTRY_MAX_STRING] + b"... (%d more bytes)" % (len(arg) - ENTRY_MAX_STRING)
                 for arg in shown]
        entry = [self.next_id, self.engine.now_ms() // 1000, duration_us, shown,
                 client.addr.encode(), client.name or b""]
        self.next_id += 1
        self.entries.appendleft(entry)
        self.trim()

    def trim(self) -> None:
        while len(self.entries) > self.max_len:
            self.entries.pop()

    def after_command(self, client: Client, cmd: CommandDef, argv: list[bytes], elapsed_us: int) -> None:
        """The dispatcher's slow-command hook."""
        # A blocked command is logged when it is served, with its whole duration.
        if not client.flags & CLIENT_BLOCKED:
            self.push(client, cmd, argv, elapsed_us)


def _slowlog(engine: Engine) -> SlowLog:
    return engine.extensions["slowlog"]


def slowlog_get_command(client: Client, argv: list[bytes]) -> list:
    """SLOWLOG GET [count]"""
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    count = 10
    if len(argv) == 3:
        count = parse_int(argv[2], "ERR count should be greater than or equal to -1")
        if count < -1:
            raise RedisError("ERR count should be greater than or equal to -1")
    entries = _slowlog(client.engine).entries
    if count == -1 or count >= len(entries):
        chosen = list(entries)
    else:
        chosen = [entries[i] for i in range(count)]
    return [list(entry) for entry in chosen]


def slowlog_len_command(client: Client, argv: list[bytes]) -> int:
    """SLOWLOG LEN"""
    return len(_slowlog(client.engine).entries)


def slowlog_reset_command(client: Client, argv: list[bytes]) -> object:
    """SLOWLOG RESET"""
    _slowlog(client.engine).entries.clear()
    return OK


def slowlog_help_command(client: Client, argv: list[bytes]) -> object:
    """SLOWLOG HELP"""
    return help_reply(argv, SLOWLOG_HELP)


# -- configuration ---------------------------------------------------------------------


def _apply_threshold(engine: Engine, value: int) -> None:
    log = engine.extensions.get("slowlog")
    if log is None:
        return
    log.threshold_us = value
    # The dispatcher calls the hook only for commands at least this slow; -1 turns it off.
    engine.set_slow_command_hook("slowlog", log.after_command if value >= 0 else None, max(value, 0))


def _apply_max_len(engine: Engine, value: int) -> None:
    log = engine.extensions.get("slowlog")
    if log is not None:
        log.max_len = value
        log.trim()


on_change("slowlog-log-slower-than", _apply_threshold)
on_change("slowlog-max-len", _apply_max_len)


def install(engine: Engine) -> None:
    """The slow log of this engine; its hook follows slowlog-log-slower-than."""
    log = SlowLog(engine)
    engine.extensions["slowlog"] = log
    engine.extensions["slowlog_push"] = log.push
