"""COMMAND and its subcommands: what this server serves, described as Redis 7.0.15 describes it.

The INFO and DOCS replies are pre-built by codegen (``generated/introspection.py``)
for every served command; this module picks them, filters command lists, and
extracts keys through :mod:`specredis.engine.keys`. Only commands the engine
serves exist here: an unserved name is answered like an unknown one.
"""

from __future__ import annotations

from typing import Any

from specredis.engine.client import Client
from specredis.engine.command import CATEGORY_BITS, CMD_NO_MANDATORY_KEYS, CommandDef
from specredis.engine.errors import SYNTAX, RedisError
from specredis.engine.glob import glob_match
from specredis.engine.help import help_reply
from specredis.engine.keys import command_has_keys, command_keys, keyspec_flag_names
from specredis.generated import introspection as generated
from specredis.protocol.replies import Map, Set, Status


def _served(engine: Any, fullname: str) -> CommandDef | None:
    cmd = engine.command_defs.get(fullname)
    return cmd if cmd is not None and cmd.implemented else None


def _top_level(engine: Any) -> list[str]:
    return [name for name in generated.SERVED_TOP_LEVEL if _served(engine, name) is not None]


def _all_served(engine: Any) -> list[str]:
    return [name for name in generated.SERVED_COMMANDS if _served(engine, name) is not None]


def _lookup_by_name(engine: Any, raw: bytes) -> str | None:
    """The fullname a COMMAND INFO/DOCS argument names (``get``, ``config|get``, any case), if served."""
    name = raw.decode("utf-8", "replace").lower()
    parts = name.split("|")
    if len(parts) > 2 or not all(parts):
        return None
    return name if _served(engine, name) is not None else None


# -----------------------------------------------------------------------------------------
# Commands
# -----------------------------------------------------------------------------------------

def command_command(client: Client, argv: list[bytes]) -> list:
    """COMMAND"""
    return [generated.COMMAND_INFO[name] for name in _top_level(client.engine)]


def command_count_command(client: Client, argv: list[bytes]) -> int:
    """COMMAND COUNT"""
    return len(_top_level(client.engine))


def command_info_command(client: Client, argv: list[bytes]) -> list:
    """COMMAND INFO [command-name [command-name ...]]"""
    engine = client.engine
    if len(argv) == 2:
        return command_command(client, argv)
    reply: list[Any] = []
    for raw in argv[2:]:
        fullname = _lookup_by_name(engine, raw)
        reply.append(generated.COMMAND_INFO[fullname] if fullname is not None else None)
    return reply


def command_docs_command(client: Client, argv: list[bytes]) -> Map:
    """COMMAND DOCS [command-name [command-name ...]]"""
    engine = client.engine
    if len(argv) == 2:
        names = _top_level(engine)
    else:
        names = [name for name in (_lookup_by_name(engine, raw) for raw in argv[2:]) if name is not None]
    return Map([(name.encode(), generated.COMMAND_DOCS[name]) for name in names])


def command_list_command(client: Client, argv: list[bytes]) -> list[bytes]:
    """COMMAND LIST [FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]"""
    engine = client.engine
    names = _all_served(engine)
    if len(argv) == 2:
        return [name.encode() for name in names]
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise RedisError(SYNTAX)
    kind, value = argv[3].lower(), argv[4]
    if kind == b"module":
        return []                                  # no module commands
    if kind == b"aclcat":
        bit = CATEGORY_BITS.get(value.decode("utf-8", "replace").lower())
        if bit is None:
            return []
        return [name.encode() for name in names if engine.command_defs[name].acl_categories & bit]
    if kind == b"pattern":
        return [name.encode() for name in names if glob_match(value, name.encode(), nocase=True)]
    raise RedisError(SYNTAX)


def getkeys_reply(cmd: CommandDef | None, target: list[bytes], with_flags: bool) -> list:
    """COMMAND GETKEYS[ANDFLAGS]'s reply for ``target`` (a full command line naming ``cmd``).

    Raises Redis's errors: an unknown command, one without key arguments, a wrong number
    of arguments, or arguments in which no keys can be found (an empty reply instead for
    commands whose keys are optional, like EVAL with 0 keys)."""
    if cmd is None:
        raise RedisError("ERR Invalid command specified")
    if not command_has_keys(cmd):
        raise RedisError("ERR The command has no key arguments")
    arity = cmd.arity
    if (arity > 0 and arity != len(target)) or len(target) < -arity:
        raise RedisError("ERR Invalid number of arguments specified for command")
    keys = command_keys(cmd, target)
    if not keys:
        if cmd.flags & CMD_NO_MANDATORY_KEYS:
            return []
        raise RedisError("ERR Invalid arguments specified for command")
    if not with_flags:
        return [target[index] for index, _ in keys]
    return [[target[index], Set([Status(name) for name in keyspec_flag_names(flags)])] for index, flags in keys]


def _keys_reply(client: Client, argv: list[bytes], with_flags: bool) -> list:
    target = argv[2:]
    cmd = client.engine.lookup_command(target)
    return getkeys_reply(cmd if cmd is not None and cmd.implemented else None, target, with_flags)


def command_getkeys_command(client: Client, argv: list[bytes]) -> list:
    """COMMAND GETKEYS command [arg [arg ...]]"""
    return _keys_reply(client, argv, with_flags=False)


def command_getkeysandflags_command(client: Client, argv: list[bytes]) -> list:
    """COMMAND GETKEYSANDFLAGS command [arg [arg ...]]"""
    return _keys_reply(client, argv, with_flags=True)


COMMAND_HELP = (
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
)


def command_help_command(client: Client, argv: list[bytes]) -> list:
    """COMMAND HELP"""
    return help_reply(argv, COMMAND_HELP)
