"""Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET.

Authentication goes through :func:`check_password`, which uses the ACL module's
checker when one is installed (``engine.extensions["acl_check_password"]``) and
``requirepass`` otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from specredis.engine.args import parse_int
from specredis.engine.client import (
    CLIENT_ASKING,
    CLIENT_CLOSE_AFTER_REPLY,
    CLIENT_PUBSUB,
    CLIENT_READONLY,
    Client,
)
from specredis.engine.errors import DB_INDEX_OUT_OF_RANGE, SYNTAX, WRONGPASS, RedisError
from specredis.protocol.replies import OK, PONG, Map, Status

if TYPE_CHECKING:
    from specredis.engine.core import Engine

VERSION = b"7.0.15"

HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
    "<user> <pass> option can be used to authenticate the client and select the RESP protocol "
    "version at the same time"
)
AUTH_WITHOUT_PASSWORD = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
RESET = Status(b"RESET")


def parse_db_index(client: Client, raw: bytes) -> int:
    """A database number, with Redis's errors for non-integers and out-of-range indexes."""
    index = parse_int(raw)
    if index < 0 or index >= len(client.engine.databases):
        raise RedisError(DB_INDEX_OUT_OF_RANGE)
    return index


def ping_command(client: Client, argv: list[bytes]) -> object:
    """PING [message]"""
    if len(argv) == 1 and not client.flags & CLIENT_PUBSUB:
        return PONG
    if len(argv) > 2:
        raise RedisError("ERR wrong number of arguments for 'ping' command")
    if client.flags & CLIENT_PUBSUB and client.resp == 2:
        # In the RESP2 subscribed context PING answers as a pub/sub message.
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    if len(argv) == 2:
        return argv[1]
    return PONG


def echo_command(client: Client, argv: list[bytes]) -> object:
    """ECHO message"""
    return argv[1]


def quit_command(client: Client, argv: list[bytes]) -> object:
    """QUIT"""
    client.flags |= CLIENT_CLOSE_AFTER_REPLY
    return OK


def select_command(client: Client, argv: list[bytes]) -> object:
    """SELECT index"""
    index = parse_int(argv[1])
    if index < -(1 << 31) or index >= 1 << 31:
        # getIntFromObjectOrReply's own wording for a 64-bit value outside the C int range.
        raise RedisError("ERR value is out of range, value must between -2147483648 and 2147483647")
    cluster = client.engine.extensions.get("cluster")
    if cluster is not None and index != 0:
        raise RedisError("ERR SELECT is not allowed in cluster mode")
    if index < 0 or index >= len(client.engine.databases):
        raise RedisError(DB_INDEX_OUT_OF_RANGE)
    client.db = client.engine.databases[index]
    return OK


def default_user_nopass(engine: Engine) -> bool:
    """True when the default user needs no password (no requirepass, or ACL 'nopass')."""
    nopass = engine.extensions.get("acl_default_user_nopass")
    if nopass is not None:
        return bool(nopass())
    return not engine.config["requirepass"]


def check_password(client: Client, username: bytes, password: bytes) -> bool:
    """True if the credentials are valid (the ACL module replaces this when loaded)."""
    check = client.engine.extensions.get("acl_check_password")
    if check is not None:
        return check(client, username, password)
    required = client.engine.config["requirepass"]
    return username == b"default" and (not required or password == required.encode())


def _authenticate(client: Client, username: bytes, password: bytes) -> None:
    if not check_password(client, username, password):
        raise RedisError(WRONGPASS)
    client.authenticated = True
    client.user = username.decode("utf-8", "surrogateescape")


def auth_command(client: Client, argv: list[bytes]) -> object:
    """AUTH [username] password"""
    if len(argv) > 3:
        raise RedisError(SYNTAX)
    if len(argv) == 2:
        if default_user_nopass(client.engine):
            raise RedisError(AUTH_WITHOUT_PASSWORD)
        _authenticate(client, b"default", argv[1])
    else:
        _authenticate(client, argv[1], argv[2])
    return OK


def hello_command(client: Client, argv: list[bytes]) -> object:
    """HELLO [protover [AUTH username password] [SETNAME clientname]]"""
    protocol = 0
    if len(argv) >= 2:
        protocol = parse_int(argv[1], "ERR Protocol version is not an integer or out of range")
        if protocol < 2 or protocol > 3:
            raise RedisError("NOPROTO unsupported protocol version")
    username = password = name = None
    index = 2
    while index < len(argv):
        option = argv[index].lower()
        remaining = len(argv) - index - 1
        if option == b"auth" and remaining >= 2:
            username, password = argv[index + 1], argv[index + 2]
            index += 3
        elif option == b"setname" and remaining >= 1:
            name = argv[index + 1]
            index += 2
        else:
            raise RedisError(f"ERR Syntax error in HELLO option '{argv[index].decode('utf-8', 'surrogateescape')}'")
    if username is not None:
        _authenticate(client, username, password)
    if not client.authenticated:
        raise RedisError(HELLO_NOAUTH)
    if name is not None:
        from specredis.engine.clients import validate_client_name

        validate_client_name(name)
        client.name = name or None
    if protocol:
        client.resp = protocol
    engine = client.engine
    role = b"replica" if engine.is_replica else b"master"
    mode = b"cluster" if engine.extensions.get("cluster") is not None else b"standalone"
    return Map([
        (b"server", b"redis"),
        (b"version", VERSION),
        (b"proto", client.resp),
        (b"id", client.id),
        (b"mode", mode),
        (b"role", role),
        (b"modules", []),
    ])


def reset_command(client: Client, argv: list[bytes]) -> object:
    """RESET"""
    from specredis.engine import monitor

    engine = client.engine
    monitor.stop_monitoring(client)
    # MULTI, WATCH, subscriptions and tracking are dropped by their modules' hooks.
    for hook in engine.extensions.get("client_reset_hooks", ()):
        hook(client)
    client.db = engine.databases[0]
    client.resp = 2
    client.name = None
    client.reply_mode = "on"
    client.skip_next_reply = False
    client.user = "default"
    client.authenticated = default_user_nopass(engine)
    client.flags &= ~(CLIENT_ASKING | CLIENT_READONLY | CLIENT_PUBSUB)
    return RESET
