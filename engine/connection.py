"""Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET."""

from __future__ import annotations

from specredis.engine.client import CLIENT_CLOSE_AFTER_REPLY, CLIENT_PUBSUB, Client
from specredis.engine.errors import DB_INDEX_OUT_OF_RANGE, NOT_INTEGER, WRONGPASS, RedisError
from specredis.protocol.replies import OK, PONG, Map, Status

VERSION = b"7.0.15"


def parse_db_index(client: Client, raw: bytes) -> int:
    """A database number, with Redis's errors for non-integers and out-of-range indexes."""
    try:
        index = int(raw)
    except ValueError:
        raise RedisError(NOT_INTEGER) from None
    if index < 0 or index >= len(client.engine.databases):
        raise RedisError(DB_INDEX_OUT_OF_RANGE)
    return index


def ping_command(client: Client, argv: list[bytes]) -> object:
    """PING [message]"""
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
    try:
        index = int(argv[1])
    except ValueError:
        raise RedisError(NOT_INTEGER) from None
    cluster = client.engine.extensions.get("cluster")
    if cluster is not None and index != 0:
        raise RedisError("ERR SELECT is not allowed in cluster mode")
    if index < 0 or index >= len(client.engine.databases):
        raise RedisError(DB_INDEX_OUT_OF_RANGE)
    client.db = client.engine.databases[index]
    return OK


def check_password(client: Client, username: bytes, password: bytes) -> bool:
    """True if the credentials are valid (the ACL module replaces this when loaded)."""
    check = client.engine.extensions.get("acl_check_password")
    if check is not None:
        return check(client, username, password)
    required = client.engine.config["requirepass"]
    return username == b"default" and (not required or password == required.encode())


def auth_command(client: Client, argv: list[bytes]) -> object:
    """AUTH [username] password"""
    if len(argv) > 3:
        raise RedisError("ERR syntax error")
    if len(argv) == 2:
        if not client.engine.config["requirepass"] and "acl_check_password" not in client.engine.extensions:
            raise RedisError("ERR AUTH <password> called without any password configured for the default "
                             "user. Are you sure your configuration is correct?")
        username, password = b"default", argv[1]
    else:
        username, password = argv[1], argv[2]
    if not check_password(client, username, password):
        raise RedisError(WRONGPASS)
    client.authenticated = True
    client.user = username.decode(errors="replace")
    return OK


def hello_command(client: Client, argv: list[bytes]) -> object:
    """HELLO [protover [AUTH username password] [SETNAME clientname]]"""
    protocol = client.resp
    index = 1
    if len(argv) >= 2:
        try:
            protocol = int(argv[1])
        except ValueError:
            raise RedisError("ERR Protocol version is not an integer or out of range") from None
        index = 2
        if protocol < 2 or protocol > 3:
            raise RedisError("NOPROTO unsupported protocol version")
    username = password = name = None
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
            raise RedisError(f"ERR Syntax error in HELLO option '{argv[index].decode(errors='replace')}'")
    if username is not None:
        if not check_password(client, username, password):
            raise RedisError(WRONGPASS)
        client.authenticated = True
        client.user = username.decode(errors="replace")
    if not client.authenticated:
        raise RedisError("NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                         "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
                         "select the RESP protocol version at the same time")
    if name is not None:
        from specredis.engine.clients import validate_client_name

        validate_client_name(name)
        client.name = name or None
    client.resp = protocol
    engine = client.engine
    role = b"replica" if engine.is_replica else b"master"
    mode = b"cluster" if engine.extensions.get("cluster") is not None else b"standalone"
    return Map([
        (b"server", b"redis"),
        (b"version", VERSION),
        (b"proto", protocol),
        (b"id", client.id),
        (b"mode", mode),
        (b"role", role),
        (b"modules", []),
    ])


def reset_command(client: Client, argv: list[bytes]) -> object:
    """RESET"""
    for hook in client.engine.extensions.get("client_reset_hooks", ()):
        hook(client)
    client.db = client.engine.databases[0]
    client.resp = 2
    client.name = None
    client.reply_mode = "on"
    client.skip_next_reply = False
    client.authenticated = not client.engine.auth_required()
    client.user = "default"
    return Status(b"RESET")
