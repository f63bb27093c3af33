"""MONITOR: stream every command the server runs to the monitoring clients.

Each line is Redis's ``replicationFeedMonitors`` format, sent as a status reply::

    +1700000000.123456 [0 127.0.0.1:5555] "SET" "k" "v"

with the arguments quoted as ``sdscatrepr`` does and secrets shown as
``(redacted)`` (:func:`redacted_argv`, shared with the slow log). Commands flagged
``admin`` or ``skip_monitor`` are not shown (EVAL-like commands feed themselves
through :func:`feed_monitors` before running). The feed is an after-command hook
that is installed only while some client monitors, so it costs nothing otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from specredis.engine.client import CLIENT_MONITOR, CLIENT_MULTI, CLIENT_SCRIPT, Client
from specredis.engine.command import CMD_ADMIN, CMD_SKIP_MONITOR
from specredis.engine.errors import RedisError
from specredis.engine.serverops import unix_time_us
from specredis.protocol.replies import NO_REPLY, OK, Status
from specredis.util.text import quote_repr

if TYPE_CHECKING:
    from specredis.engine.command import CommandDef
    from specredis.engine.core import Engine

REDACTED = b"(redacted)"

def redacted_argv(engine: Engine, cmd: CommandDef, argv: list[bytes]) -> list[bytes]:
    """``argv`` with passwords replaced by ``(redacted)``, as Redis shows it in MONITOR and SLOWLOG.

    Redis redacts in the handlers (redactClientCommandArgument); the set of commands
    doing so is small and fixed: AUTH, HELLO AUTH, MIGRATE AUTH/AUTH2, ACL SETUSER and
    CONFIG SET of sensitive parameters."""
    name = cmd.fullname
    if name == "auth":
        return [argv[0]] + [REDACTED] * (len(argv) - 1)
    if name == "acl|setuser":
        return argv[:2] + [REDACTED] * (len(argv) - 2)
    if name == "hello" or name == "migrate":
        out = list(argv)
        index = 2 if name == "hello" else 6
        while index < len(out):
            word = out[index].lower()
            if word == b"auth" and index + 1 < len(out):
                count = 2 if name == "hello" else 1
                out[index + 1:index + 1 + count] = [REDACTED] * len(out[index + 1:index + 1 + count])
                index += 1 + count
            elif word == b"auth2" and name == "migrate" and index + 2 < len(out):
                out[index + 1:index + 3] = [REDACTED, REDACTED]
                index += 3
            elif word == b"setname" and name == "hello":
                index += 2
            else:
                index += 1
        return out
    if name == "config|set":
        out = list(argv)
        config = engine.config
        for index in range(2, len(out) - 1, 2):
            param = config.lookup(out[index].decode("utf-8", "surrogateescape"))
            if param is not None and param.sensitive:
                out[index + 1] = REDACTED
        return out
    return argv


def monitor_line(client: Client, argv: list[bytes], dbid: int) -> bytes:
    """The text of one MONITOR line (without the status reply framing)."""
    now = unix_time_us(client.engine)
    if client.flags & CLIENT_SCRIPT:
        origin = "lua"
    elif client.addr.startswith("/"):
        origin = "unix:" + client.addr
    else:
        origin = client.addr
    head = f"{now // 1_000_000}.{now % 1_000_000:06d} [{dbid} {origin}] ".encode()
    return head + b" ".join([quote_repr(arg) for arg in argv])


def feed_monitors(client: Client, cmd: CommandDef, argv: list[bytes]) -> None:
    """Send one command to every monitor (EVAL and FCALL call this before running the script)."""
    engine = client.engine
    if not engine.monitors:
        return
    line = Status(monitor_line(client, redacted_argv(engine, cmd, argv), client.db.id))
    for monitor in list(engine.monitors):
        monitor.sink.deliver(line)


def _after_command(client: Client, cmd: CommandDef, argv: list[bytes], elapsed_us: int) -> None:
    if cmd.flags & (CMD_ADMIN | CMD_SKIP_MONITOR):
        return
    feed_monitors(client, cmd, argv)


def monitor_command(client: Client, argv: list[bytes]) -> object:
    """MONITOR"""
    if client.flags & CLIENT_MULTI:
        raise RedisError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if client.flags & CLIENT_MONITOR:
        return NO_REPLY     # already monitoring: Redis ignores the command, with no reply
    engine = client.engine
    client.flags |= CLIENT_MONITOR
    engine.monitors.append(client)
    if _after_command not in engine.after_command_hooks:
        engine.after_command_hooks.append(_after_command)
    return OK


def stop_monitoring(client: Client) -> None:
    """Remove ``client`` from the monitors (RESET, disconnection); drop the hook with the last one."""
    if not client.flags & CLIENT_MONITOR:
        return
    engine = client.engine
    client.flags &= ~CLIENT_MONITOR
    if client in engine.monitors:
        engine.monitors.remove(client)
    if not engine.monitors and _after_command in engine.after_command_hooks:
        engine.after_command_hooks.remove(_after_command)


def install(engine: Engine) -> None:
    """Monitors stop with their connection."""
    engine.extensions.setdefault("client_closed_hooks", []).append(stop_monitoring)
