"""Server operations: TIME, LASTSAVE, SHUTDOWN, and the shutdown sequence signals also use.

Persistence plugs into shutdown through ``engine.extensions["shutdown_hooks"]``:
callables ``hook(flags) -> bool`` run in order before the server exits (saving the
final RDB, flushing the AOF); one returning False makes the shutdown fail (unless
FORCE), as a failed final save does in Redis. ``engine.extensions["shutdown"]`` is
the sequence itself (:func:`shutdown`), called by SHUTDOWN and by SIGTERM/SIGINT;
``engine.extensions["lastsave_s"]`` is the time of the last successful save.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from specredis.engine.client import CLIENT_CLOSE_AFTER_REPLY
from specredis.engine.core import wall_clock_ms
from specredis.engine.errors import BUSY_SCRIPT, SYNTAX, RedisError
from specredis.protocol.replies import NO_REPLY
from specredis.util.log import log

if TYPE_CHECKING:
    from specredis.engine.client import Client
    from specredis.engine.core import Engine

SHUTDOWN_NOSAVE = 1
SHUTDOWN_SAVE = 2
SHUTDOWN_NOW = 4
SHUTDOWN_FORCE = 8
_SHUTDOWN_OPTIONS = {b"nosave": SHUTDOWN_NOSAVE, b"save": SHUTDOWN_SAVE, b"now": SHUTDOWN_NOW,
                     b"force": SHUTDOWN_FORCE}


def unix_time_us(engine: Engine) -> int:
    """Unix time in microseconds: the wall clock, or the engine's injected clock in tests."""
    if engine.clock is wall_clock_ms:
        return time.time_ns() // 1000
    return engine.clock() * 1000


def time_command(client: Client, argv: list[bytes]) -> list[bytes]:
    """TIME"""
    now = unix_time_us(client.engine)
    return [str(now // 1_000_000).encode(), str(now % 1_000_000).encode()]


def lastsave_command(client: Client, argv: list[bytes]) -> int:
    """LASTSAVE"""
    engine = client.engine
    return engine.extensions.get("lastsave_s", engine.start_time_ms // 1000)


def shutdown(engine: Engine, flags: int = 0) -> bool:
    """Redis's prepareForShutdown/finishShutdown: run the persistence hooks, remove the pid file,
    and ask the server to exit with status 0. False if a hook failed (and FORCE was not given)."""
    log("warning", "User requested shutdown...")
    for hook in engine.extensions.get("shutdown_hooks", ()):
        if not hook(flags) and not flags & SHUTDOWN_FORCE:
            log("warning", "Errors trying to shut down the server. Check the logs for more information.")
            return False
    pidfile = engine.config["pidfile"]
    if pidfile:
        log("notice", "Removing the pid file.")
        try:
            os.unlink(pidfile)
        except OSError:
            pass
    log("warning", "Redis is now ready to exit, bye bye...")
    request = engine.extensions.get("request_shutdown")
    if request is not None:
        request(0)
    else:
        engine.shutdown_requested = 0
    return True


def shutdown_command(client: Client, argv: list[bytes]) -> object:
    """SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]"""
    engine = client.engine
    flags = 0
    abort = False
    for arg in argv[1:]:
        word = arg.lower()
        if word == b"abort":
            abort = True
        elif word in _SHUTDOWN_OPTIONS:
            flags |= _SHUTDOWN_OPTIONS[word]
        else:
            raise RedisError(SYNTAX)
    if (abort and flags) or (flags & SHUTDOWN_NOSAVE and flags & SHUTDOWN_SAVE):
        raise RedisError(SYNTAX)
    if abort:
        # Only a shutdown waiting for lagging replicas can be aborted; none ever waits here.
        raise RedisError("ERR No shutdown in progress.")
    if not flags & SHUTDOWN_NOSAVE and engine.busy_script is not None:
        raise RedisError(engine.busy_script if isinstance(engine.busy_script, str) else BUSY_SCRIPT)
    if not engine.extensions["shutdown"](flags=flags):
        raise RedisError("ERR Errors trying to SHUTDOWN. Check logs.")
    # The server exits without replying; nothing after this command runs.
    client.flags |= CLIENT_CLOSE_AFTER_REPLY
    return NO_REPLY


def install(engine: Engine) -> None:
    """Expose the shutdown sequence to SHUTDOWN and the signal handlers."""

    def run_shutdown(flags: int = 0, signal_name: str | None = None) -> bool:
        return shutdown(engine, flags)

    engine.extensions["shutdown"] = run_shutdown
    engine.extensions.setdefault("shutdown_hooks", [])

