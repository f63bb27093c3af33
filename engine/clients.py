"""CLIENT subcommands and the connection policies of networking.c.

* CLIENT ID/SETNAME/GETNAME/INFO/LIST/KILL/REPLY/PAUSE/UNPAUSE/NO-EVICT/HELP;
* the CLIENT LIST line (:func:`client_info_line`), with Redis 7.0.15's fields in order;
* client pause (:class:`ClientPause`): a late gate postpones the commands of paused
  clients; the server keeps the rest of their pipeline until :meth:`ClientPause.end`;
* the idle ``timeout`` (closed by the cron) and protected mode (:func:`protected_mode_denial`).

The connection limit (``maxclients``) is enforced where connections are accepted,
in ``specredis/server.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specredis.engine.args import parse_int, parse_timeout_ms
from specredis.engine.client import (
    CLIENT_BLOCKED,
    CLIENT_CLOSE_AFTER_REPLY,
    CLIENT_CLOSE_ASAP,
    CLIENT_DIRTY_CAS,
    CLIENT_MASTER,
    CLIENT_MONITOR,
    CLIENT_MULTI,
    CLIENT_NO_EVICT,
    CLIENT_PUBSUB,
    CLIENT_READONLY,
    CLIENT_REPLICA,
    CLIENT_SCRIPT,
    CLIENT_TRACKING,
    CLIENT_UNBLOCKED,
    Client,
)
from specredis.engine.command import CMD_MAY_REPLICATE, CMD_WRITE
from specredis.engine.errors import SYNTAX, RedisError, subcommand_syntax_error
from specredis.engine.help import help_reply
from specredis.protocol.replies import NO_REPLY, OK, Verbatim
from specredis.util.log import log

if TYPE_CHECKING:
    from specredis.engine.command import CommandDef
    from specredis.engine.core import Engine

# Client types (getClientType in networking.c), by the names CLIENT LIST/KILL TYPE accept.
TYPE_NORMAL, TYPE_REPLICA, TYPE_PUBSUB, TYPE_MASTER = range(4)
CLIENT_TYPE_NAMES = {
    b"normal": TYPE_NORMAL, b"slave": TYPE_REPLICA, b"replica": TYPE_REPLICA,
    b"pubsub": TYPE_PUBSUB, b"master": TYPE_MASTER,
}
# What a connection costs us besides its buffers (Client, Connection, parser and transport
# objects): an estimate, reported in tot-mem as Redis reports sizeof(client).
CLIENT_BASE_MEMORY = 4096
# Redis's default reader buffer size (PROTO_IOBUF_LEN), reported as rbs.
READ_BUFFER_SIZE = 16384

CLIENT_HELP = (
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
)

# The CLIENT LIST 'flags=' letters, in Redis's order (catClientInfoString).
_FLAG_LETTERS = (
    (CLIENT_MASTER, "M"), (CLIENT_PUBSUB, "P"), (CLIENT_MULTI, "x"), (CLIENT_BLOCKED, "b"),
    (CLIENT_TRACKING, "t"), (CLIENT_DIRTY_CAS, "d"), (CLIENT_CLOSE_AFTER_REPLY, "c"),
    (CLIENT_UNBLOCKED, "u"), (CLIENT_CLOSE_ASAP, "A"), (CLIENT_READONLY, "r"), (CLIENT_NO_EVICT, "e"),
)


# -- client descriptions ---------------------------------------------------------------


def client_type(client: Client) -> int:
    """getClientType: monitors count as normal clients, subscribers as pubsub."""
    flags = client.flags
    if flags & CLIENT_MASTER:
        return TYPE_MASTER
    if flags & CLIENT_REPLICA and not flags & CLIENT_MONITOR:
        return TYPE_REPLICA
    if flags & CLIENT_PUBSUB:
        return TYPE_PUBSUB
    return TYPE_NORMAL


def parse_client_type(raw: bytes) -> int:
    """A TYPE argument, or ``ERR Unknown client type '<raw>'``."""
    kind = CLIENT_TYPE_NAMES.get(raw.lower())
    if kind is None:
        raise RedisError(f"ERR Unknown client type '{raw.decode('utf-8', 'surrogateescape')}'")
    return kind


def client_flags(client: Client) -> str:
    """The CLIENT LIST ``flags=`` field ('N' when none applies)."""
    flags = client.flags
    letters = []
    if flags & (CLIENT_REPLICA | CLIENT_MONITOR):
        letters.append("O" if flags & CLIENT_MONITOR else "S")
    for bit, letter in _FLAG_LETTERS:
        if flags & bit:
            letters.append(letter)
            if bit == CLIENT_TRACKING and client.tracking is not None:
                # Tracking options live in client.tracking (engine/tracking.py): R, B after t.
                if client.tracking.broken_redirect:
                    letters.append("R")
                if client.tracking.bcast:
                    letters.append("B")
    return "".join(letters) or "N"


def _queued_commands_memory(client: Client) -> int:
    total = 0
    for item in client.multi_queue or ():
        argv = getattr(item, "argv", None)
        if argv is None and isinstance(item, tuple | list):
            argv = next((part for part in item if isinstance(part, list)), ())
        total += sum(len(arg) for arg in argv or ())
    return total


def client_info_line(client: Client, now_ms: int, current_argv: list[bytes] | None = None) -> str:
    """One CLIENT LIST line (catClientInfoString), without the trailing newline.

    ``current_argv`` is the command the client is running now (its argv-mem)."""
    sink = client.sink
    pending_input = getattr(sink, "input_buffer_size", None)
    qbuf = pending_input() if pending_input is not None else client.query_buffer_size
    argv_mem = sum(len(arg) for arg in current_argv) if current_argv is not None else client.argv_mem
    omem = sink.output_buffer_size()
    multi_mem = _queued_commands_memory(client)
    peak = getattr(sink, "read_peak", READ_BUFFER_SIZE)
    cmd = client.last_command
    if client.flags & CLIENT_TRACKING:
        redirect = getattr(client.tracking, "redirect", 0)
    else:
        redirect = -1
    return (
        f"id={client.id} addr={client.addr} laddr={client.laddr} fd={client.fd} "
        f"name={(client.name or b'').decode('utf-8', 'surrogateescape')} "
        f"age={(now_ms - client.created_ms) // 1000} idle={(now_ms - client.last_interaction_ms) // 1000} "
        f"flags={client_flags(client)} db={client.db.id} sub={len(client.channels or ())} "
        f"psub={len(client.patterns or ())} ssub={len(client.shard_channels or ())} "
        f"multi={len(client.multi_queue or ()) if client.flags & CLIENT_MULTI else -1} "
        f"qbuf={qbuf} qbuf-free={max(0, READ_BUFFER_SIZE - qbuf)} argv-mem={argv_mem} multi-mem={multi_mem} "
        f"rbs={max(READ_BUFFER_SIZE, qbuf)} rbp={peak} obl=0 oll={1 if omem else 0} omem={omem} "
        f"tot-mem={CLIENT_BASE_MEMORY + qbuf + argv_mem + multi_mem + omem} "
        f"events={'rw' if omem else 'r'} cmd={cmd.fullname if cmd is not None else 'NULL'} "
        f"user={client.user} redir={redirect} resp={client.resp}"
    )


def validate_client_name(name: bytes) -> None:
    """Client names are printable ASCII without spaces (validateClientName)."""
    for byte in name:
        if byte < 33 or byte > 126:
            raise RedisError("ERR Client names cannot contain spaces, newlines or special characters.")


# -- CLIENT subcommands ----------------------------------------------------------------


def client_id_command(client: Client, argv: list[bytes]) -> int:
    """CLIENT ID"""
    return client.id


def client_getname_command(client: Client, argv: list[bytes]) -> bytes | None:
    """CLIENT GETNAME"""
    return client.name


def client_setname_command(client: Client, argv: list[bytes]) -> object:
    """CLIENT SETNAME connection-name"""
    validate_client_name(argv[2])
    client.name = argv[2] or None
    return OK


def client_info_command(client: Client, argv: list[bytes]) -> Verbatim:
    """CLIENT INFO"""
    return Verbatim(client_info_line(client, client.engine.now_ms(), argv) + "\n")


def client_list_command(client: Client, argv: list[bytes]) -> Verbatim:
    """CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]"""
    engine = client.engine
    now = engine.now_ms()
    chosen: list[Client]
    if len(argv) == 4 and argv[2].lower() == b"type":
        kind = parse_client_type(argv[3])
        chosen = [c for c in engine.clients.values() if client_type(c) == kind]
    elif len(argv) >= 4 and argv[2].lower() == b"id":
        chosen = []
        for raw in argv[3:]:
            found = engine.clients.get(parse_int(raw, "ERR Invalid client ID"))
            if found is not None:
                chosen.append(found)
    elif len(argv) != 2:
        raise RedisError(SYNTAX)
    else:
        chosen = list(engine.clients.values())
    lines = [client_info_line(c, now, argv if c is client else None) + "\n" for c in chosen]
    return Verbatim("".join(lines))


def client_kill_command(client: Client, argv: list[bytes]) -> object:
    """CLIENT KILL ip:port | [ID client-id] [TYPE type] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME yes/no]"""
    engine = client.engine
    addr = laddr = user = None
    client_id = 0
    kind = -1
    skipme = True
    if len(argv) == 3:
        # The old form: CLIENT KILL addr, which may kill the caller itself.
        addr = argv[2].decode("utf-8", "surrogateescape")
        skipme = False
    else:
        index = 2
        while index < len(argv):
            option = argv[index].lower()
            if index + 1 >= len(argv):
                raise RedisError(SYNTAX)
            value = argv[index + 1]
            if option == b"id":
                client_id = parse_int(value, "ERR client-id should be greater than 0")
                if client_id < 1:
                    raise RedisError("ERR client-id should be greater than 0")
            elif option == b"type":
                kind = parse_client_type(value)
            elif option == b"addr":
                addr = value.decode("utf-8", "surrogateescape")
            elif option == b"laddr":
                laddr = value.decode("utf-8", "surrogateescape")
            elif option == b"user":
                user = value.decode("utf-8", "surrogateescape")
                if not user_exists(engine, value):
                    raise RedisError(f"ERR No such user '{user}'")
            elif option == b"skipme":
                if value.lower() == b"yes":
                    skipme = True
                elif value.lower() == b"no":
                    skipme = False
                else:
                    raise RedisError(SYNTAX)
            else:
                raise RedisError(SYNTAX)
            index += 2
    killed = 0
    kill_self = False
    for other in list(engine.clients.values()):
        if addr is not None and other.addr != addr:
            continue
        if laddr is not None and other.laddr != laddr:
            continue
        if kind != -1 and client_type(other) != kind:
            continue
        if client_id and other.id != client_id:
            continue
        if user is not None and other.user != user:
            continue
        if other is client:
            if skipme:
                continue
            kill_self = True
        else:
            other.sink.close()
        killed += 1
    if kill_self:
        # The caller gets its reply first (CLIENT_CLOSE_AFTER_REPLY).
        client.flags |= CLIENT_CLOSE_AFTER_REPLY
    if len(argv) == 3:
        if not killed:
            raise RedisError("ERR No such client")
        return OK
    return killed


def user_exists(engine: Engine, name: bytes) -> bool:
    """Whether an ACL user exists (only 'default' until the ACL module plugs in)."""
    lookup = engine.extensions.get("acl_user_exists")
    if lookup is not None:
        return bool(lookup(name))
    return name == b"default"


def client_reply_command(client: Client, argv: list[bytes]) -> object:
    """CLIENT REPLY ON|OFF|SKIP"""
    mode = argv[2].lower()
    if mode == b"on":
        client.reply_mode = "on"
        client.skip_next_reply = False
        return OK
    if mode == b"off":
        client.reply_mode = "off"
        return NO_REPLY
    if mode == b"skip":
        if client.reply_mode != "off":
            client.skip_next_reply = True
        return NO_REPLY
    raise RedisError(SYNTAX)


def client_no_evict_command(client: Client, argv: list[bytes]) -> object:
    """CLIENT NO-EVICT ON|OFF"""
    mode = argv[2].lower()
    if mode == b"on":
        client.flags |= CLIENT_NO_EVICT
    elif mode == b"off":
        client.flags &= ~CLIENT_NO_EVICT
    else:
        raise RedisError(SYNTAX)
    return OK


def client_pause_command(client: Client, argv: list[bytes]) -> object:
    """CLIENT PAUSE timeout [WRITE|ALL]"""
    engine = client.engine
    end_ms = parse_timeout_ms(argv[2], engine.now_ms())
    mode = PAUSE_ALL
    if len(argv) == 4:
        word = argv[3].lower()
        if word == b"write":
            mode = PAUSE_WRITE
        elif word != b"all":
            raise RedisError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    elif len(argv) > 4:
        raise subcommand_syntax_error(argv)
    engine.extensions["client_pause"].pause(end_ms, mode)
    return OK


def client_unpause_command(client: Client, argv: list[bytes]) -> object:
    """CLIENT UNPAUSE"""
    client.engine.extensions["client_pause"].end()
    return OK


def client_help_command(client: Client, argv: list[bytes]) -> object:
    """CLIENT HELP"""
    return help_reply(argv, CLIENT_HELP)


# -- client pause ----------------------------------------------------------------------

PAUSE_OFF, PAUSE_WRITE, PAUSE_ALL = 0, 1, 2


class Postponed:
    """The blocked state of a client whose command waits for the pause to end.

    ``reprocess`` tells the server to run the same command again on resume."""

    __slots__ = ()
    reprocess = True
    kind = "postpone"


POSTPONED = Postponed()


class ClientPause:
    """CLIENT PAUSE state: the most restrictive mode and the latest end asked for.

    While a pause lasts, a late gate postpones the commands it covers (every
    command for ALL; for WRITE, commands that write or may replicate), and keys
    are not expired (they read as missing but stay until the pause ends)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.mode = PAUSE_OFF
        self.end_ms = 0
        self.postponed: list[Client] = []
        self._timer: Any = None

    @property
    def active(self) -> bool:
        return self.mode != PAUSE_OFF

    def pause(self, end_ms: int, mode: int) -> None:
        """Start or extend the pause (pauseClients: keep the later end, the stricter mode)."""
        engine = self.engine
        if not self.active:
            if end_ms <= engine.now_ms():
                return      # already over (a 0 timeout, or one that wrapped around)
            self.end_ms = end_ms
            self.mode = mode
            gates = engine.extensions.setdefault("late_gates", [])
            if self.gate not in gates:
                gates.append(self.gate)
            engine.expiry_paused = True
            engine.update_gates()
        else:
            self.end_ms = max(self.end_ms, end_ms)
            self.mode = max(self.mode, mode)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        delay_ms = max(0, self.end_ms - self.engine.now_ms())
        self._timer = self.engine.scheduler.call_later(delay_ms / 1000.0, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if not self.active:
            return
        if self.engine.now_ms() >= self.end_ms:
            self.end()
        else:
            self._schedule()

    def end(self) -> None:
        """Unpause: drop the gate and let every postponed client run its command, in order."""
        engine = self.engine
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.active:
            return
        self.mode = PAUSE_OFF
        self.end_ms = 0
        gates = engine.extensions.get("late_gates")
        if gates and self.gate in gates:
            gates.remove(self.gate)
            if not gates:
                del engine.extensions["late_gates"]
        engine.expiry_paused = False
        engine.update_gates()
        waiting, self.postponed = self.postponed, []
        for client in waiting:
            if client.blocked is POSTPONED:
                client.flags &= ~CLIENT_BLOCKED
                client.blocked = None
                client.argv_mem = 0
                client.sink.resume()

    def gate(self, client: Client, cmd: CommandDef, argv: list[bytes]) -> Any:
        """The pause gate (processCommand): postpone the command or let it through (None)."""
        if not self.active or client.flags & (CLIENT_REPLICA | CLIENT_MONITOR | CLIENT_MASTER | CLIENT_SCRIPT):
            return None
        if self.engine.now_ms() >= self.end_ms:
            self.end()
            return None
        if self.mode == PAUSE_WRITE:
            flags = cmd.flags
            if cmd.fullname == "exec" and client.multi_queue:
                # EXEC writes if anything it would run writes (mstate.cmd_flags in Redis).
                for item in client.multi_queue:
                    queued = item[0] if isinstance(item, tuple) else getattr(item, "cmd", None)
                    if queued is not None:
                        flags |= queued.flags
            dynamic = self.engine.extensions.get("dynamic_command_flags")
            if dynamic is not None:
                # EVAL and FCALL take the flags their script declares.
                flags = dynamic(client, cmd, argv, flags)
            if not flags & (CMD_WRITE | CMD_MAY_REPLICATE):
                return None
        client.flags |= CLIENT_BLOCKED
        client.blocked = POSTPONED
        client.argv_mem = sum(len(arg) for arg in argv)
        self.postponed.append(client)
        return NO_REPLY

    def forget(self, client: Client) -> None:
        """A postponed client went away."""
        if client.blocked is POSTPONED and client in self.postponed:
            self.postponed.remove(client)


# -- connection policies ----------------------------------------------------------------

PROTECTED_MODE_DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no password "
    b"is set for the default user. In this mode connections are only accepted from the loopback "
    b"interface. If you want to connect from external computers to Redis you may adopt one of the "
    b"following solutions: 1) Just disable protected mode sending the command 'CONFIG SET "
    b"protected-mode no' from the loopback interface by connecting to Redis from the same host the "
    b"server is running, however MAKE SURE Redis is not publicly accessible from internet if you do "
    b"so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable "
    b"the protected mode by editing the Redis configuration file, and setting the protected mode "
    b"option to 'no', and then restarting the server. 3) If you started the server manually just for "
    b"testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication "
    b"password for the default user. NOTE: You only need to do one of the above things in order for "
    b"the server to start accepting connections from the outside.\r\n"
)


def is_local_address(host: str) -> bool:
    """Loopback or unix socket: what Redis's protected mode and 'local' settings accept."""
    return host in ("127.0.0.1", "::1", "") or host.startswith("127.") or host.startswith("/") \
        or host == "::ffff:127.0.0.1"


def protected_mode_denial(engine: Engine, peer_host: str) -> bytes | None:
    """The DENIED reply for a non-local connection in protected mode without a password, else None."""
    if not engine.config["protected-mode"] or is_local_address(peer_host):
        return None
    nopass = engine.extensions.get("acl_default_user_nopass")
    if nopass is not None:
        if not nopass():
            return None
    elif engine.config["requirepass"]:
        return None
    return PROTECTED_MODE_DENIED


class IdleClientReaper:
    """Closes clients idle longer than ``timeout`` seconds (clientsCron), checked once a second.

    Replicas, monitors, masters, blocked clients and subscribers are never timed out."""

    EXEMPT = CLIENT_REPLICA | CLIENT_MONITOR | CLIENT_MASTER | CLIENT_BLOCKED | CLIENT_PUBSUB

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.last_run_ms = 0

    def __call__(self) -> None:
        engine = self.engine
        timeout_s = engine.config["timeout"]
        if not timeout_s:
            return
        now = engine.now_ms()
        if now - self.last_run_ms < 1000:
            return
        self.last_run_ms = now
        limit_ms = timeout_s * 1000
        for client in list(engine.clients.values()):
            if client.flags & self.EXEMPT or client.flags & CLIENT_SCRIPT:
                continue
            if now - client.last_interaction_ms > limit_ms:
                log("verbose", "Closing idle client")
                client.sink.close()


def install(engine: Engine) -> None:
    """Client pause state, the idle-client reaper and the cleanup of closed clients."""
    pause = ClientPause(engine)
    engine.extensions["client_pause"] = pause
    engine.extensions.setdefault("client_closed_hooks", []).append(pause.forget)
    engine.cron_hooks.append(IdleClientReaper(engine))
