"""HELP replies of container commands, in Redis's shape (addReplyHelp in networking.c)."""

from __future__ import annotations

from specredis.protocol.replies import Status


def help_reply(argv: list[bytes], lines: tuple[str, ...] | list[str]) -> list[Status]:
    """``<NAME> <subcommand> [<arg> [value] [opt] ...]. Subcommands are:``, ``lines``, then HELP.

    The name is ``argv[0]`` upper-cased, as the client typed it."""
    name = argv[0].decode("utf-8", "surrogateescape").upper()
    reply = [Status(f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")]
    reply.extend(Status(line) for line in lines)
    reply.append(Status("HELP"))
    reply.append(Status("    Prints this help."))
    return reply
