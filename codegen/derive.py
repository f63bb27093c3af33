"""Facts derived from the spec, never stored in YAML (design doc §1.5, §3.2).

* ``fullname`` (``container|name``) and the command id (position in sorted fullname order);
* the flag set: declared visible flags + ``engine.hidden_flags`` + derived ``movablekeys``;
* the ACL category set: declared ∪ implied (:func:`specredis.engine.command.implied_categories`);
* the legacy ``(first, last, step)`` key range of COMMAND INFO and ``movablekeys``;
* served-ness (``implemented``/``partial``; a container is served iff a subcommand is);
* the syntax line, built from the argument grammar the way redis-cli builds its hints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specredis.engine.command import (
    ACL_CATEGORIES,
    ALL_FLAGS,
    CATEGORY_BITS,
    FLAG_BITS,
    KEYSPEC_FLAG_BITS,
    VISIBLE_FLAGS,
    implied_categories,
)

from .load import SpecFile
from .validate import SERVED_STATUSES, fullname_of

_UINT32 = 0xFFFFFFFF


@dataclass
class Command:
    """One runtime command (or subcommand) with everything codegen derives for it."""

    spec: SpecFile
    fullname: str
    name: str
    container: str | None
    id: int = -1
    subcommands: list[Command] = field(default_factory=list)   # sorted by name
    parent: Command | None = None
    flags: tuple[str, ...] = ()          # every flag, ALL_FLAGS order (visible, movablekeys, hidden)
    categories: tuple[str, ...] = ()     # declared | implied, ACL_CATEGORIES order
    first_key: int = 0
    last_key: int = 0
    key_step: int = 0
    movablekeys: bool = False
    syntax: str = ""
    own_status: str = "unimplemented"
    implemented: bool = False

    # -- spec sections -----------------------------------------------------------------
    @property
    def info(self) -> dict[str, Any]:
        return self.spec.data["info"]

    @property
    def docs(self) -> dict[str, Any]:
        return self.spec.data["docs"]

    @property
    def engine(self) -> dict[str, Any]:
        return self.spec.data.get("engine") or {}

    @property
    def reply(self) -> dict[str, Any]:
        return self.spec.data.get("reply") or {}

    @property
    def arity(self) -> int:
        return self.info["arity"]

    @property
    def group(self) -> str:
        return self.docs["group"]

    @property
    def key_specs(self) -> list[dict[str, Any]]:
        return self.info["key_specs"]

    @property
    def is_container(self) -> bool:
        return bool(self.subcommands)

    @property
    def handler_name(self) -> str | None:
        return self.engine.get("handler")

    @property
    def getkeys_name(self) -> str | None:
        return self.engine.get("getkeys")

    # -- derived views -----------------------------------------------------------------
    @property
    def visible_flags(self) -> tuple[str, ...]:
        """Flags COMMAND INFO shows, in its order (movablekeys included when derived)."""
        return tuple(f for f in VISIBLE_FLAGS if f in self.flags)

    @property
    def flag_bits(self) -> int:
        bits = 0
        for name in self.flags:
            bits |= FLAG_BITS[name]
        return bits

    @property
    def category_bits(self) -> int:
        bits = 0
        for name in self.categories:
            bits |= CATEGORY_BITS[name]
        return bits

    @property
    def served_subcommands(self) -> list[Command]:
        return [sub for sub in self.subcommands if sub.implemented]

    @property
    def file_stem(self) -> str:
        """``client-kill`` for ``client|kill``: the spec file and docs page name."""
        return self.fullname.replace("|", "-")

    @property
    def display_name(self) -> str:
        """``CLIENT KILL`` for ``client|kill``."""
        return self.fullname.replace("|", " ").upper()


# ------------------------------------------------------------------------------------------
# Legacy key range
# ------------------------------------------------------------------------------------------

def legacy_range(key_specs: list[dict[str, Any]]) -> tuple[int, int, int, bool]:
    """COMMAND INFO's ``(firstkey, lastkey, step)`` and whether the command has movable keys.

    The rules of design doc §1.5 point 3: a single index+range spec is reported as it is
    (movable only if INCOMPLETE); otherwise consecutive unit-step index+range specs are
    merged, and any other spec (keyword, keynum, unknown, non-unit step, a gap, INCOMPLETE)
    makes the keys movable. A negative last key stays negative ("from the end") and wins
    over any positive one. No mergeable spec at all gives ``0 0 0`` and movable keys.
    """
    if not key_specs:
        return 0, 0, 0, False

    def plain(ks: dict[str, Any]) -> bool:
        bs, fk = ks["begin_search"], ks["find_keys"]
        return isinstance(bs, dict) and "index" in bs and isinstance(fk, dict) and "range" in fk

    if len(key_specs) == 1 and plain(key_specs[0]):
        ks = key_specs[0]
        first = ks["begin_search"]["index"]
        rng = ks["find_keys"]["range"]
        last = first + rng["lastkey"] if rng["lastkey"] >= 0 else rng["lastkey"]
        return first, last, rng["keystep"], "incomplete" in ks["flags"]

    movable = False
    first: int | None = None
    last = 0          # compared as unsigned 32-bit, so "-1" (to the end) beats any position
    prev_last = 0
    for ks in key_specs:
        if not plain(ks):
            movable = True
            continue
        pos = ks["begin_search"]["index"]
        rng = ks["find_keys"]["range"]
        if rng["keystep"] != 1 or (prev_last and prev_last != pos - 1):
            movable = True
            continue
        if "incomplete" in ks["flags"]:
            movable = True
        first = pos if first is None else min(first, pos)
        absolute = rng["lastkey"] + pos if rng["lastkey"] >= 0 else rng["lastkey"]
        if (absolute & _UINT32) > (last & _UINT32):
            last = absolute
        prev_last = last
    if first is None:
        return 0, 0, 0, True
    return first, last, 1, movable


# ------------------------------------------------------------------------------------------
# Syntax line (redis-cli hint style)
# ------------------------------------------------------------------------------------------

def _token_text(token: str) -> str:
    # MIGRATE's empty-string token is shown as "" (as redis-cli does).
    return token if token else '""'


def argument_syntax(arg: dict[str, Any]) -> str:
    """One argument as redis-cli shows it: ``[ ]`` around optional ones, ``|`` between the
    alternatives of a oneof, blocks joined by spaces, and ``x [x ...]`` for multiple (the token
    repeated only with ``multiple_token``)."""
    kind = arg["type"]
    token = arg.get("token")
    subs = arg.get("arguments") or []
    if kind == "oneof":
        value = "|".join(argument_syntax(sub) for sub in subs)
    elif kind == "block":
        value = " ".join(argument_syntax(sub) for sub in subs)
    elif kind == "pure-token":
        value = ""
    else:
        value = arg.get("display") or arg["name"]
    if token is not None:
        text = _token_text(token) + (" " + value if value else "")
    else:
        text = value
    if arg.get("multiple"):
        repeated = text if arg.get("multiple_token") else value
        text = f"{text} [{repeated} ...]"
    if arg.get("optional"):
        text = f"[{text}]"
    return text


def syntax_line(display_name: str, arguments: list[dict[str, Any]]) -> str:
    """``SET key value [NX|XX] ...``: the command's name followed by its argument grammar."""
    params = " ".join(argument_syntax(arg) for arg in arguments)
    return f"{display_name} {params}" if params else display_name


# ------------------------------------------------------------------------------------------
# The command set
# ------------------------------------------------------------------------------------------

@dataclass
class CommandSet:
    """All commands, in sorted fullname order, with lookups."""

    commands: list[Command]
    by_fullname: dict[str, Command]

    @property
    def top_level(self) -> list[Command]:
        return [c for c in self.commands if c.container is None]

    @property
    def served(self) -> list[Command]:
        return [c for c in self.commands if c.implemented]

    def in_category(self, category: str) -> list[Command]:
        return [c for c in self.commands if category in c.categories]


def _ordered(names: set[str], order: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in order if name in names)


def derive(specs: list[SpecFile]) -> CommandSet:
    """Build the derived command set from validated specs."""
    commands = []
    for spec in specs:
        data = spec.data
        commands.append(Command(spec=spec, fullname=fullname_of(data), name=data["name"],
                                container=data.get("container")))
    commands.sort(key=lambda c: c.fullname)
    by_fullname = {c.fullname: c for c in commands}
    for cid, cmd in enumerate(commands):
        cmd.id = cid
        if cmd.container:
            parent = by_fullname[cmd.container]
            cmd.parent = parent
            parent.subcommands.append(cmd)     # already in name order: commands are sorted

    for cmd in commands:
        info = cmd.info
        first, last, step, movable = legacy_range(cmd.key_specs)
        cmd.first_key, cmd.last_key, cmd.key_step, cmd.movablekeys = first, last, step, movable
        flag_names = set(info["flags"]) | set(cmd.engine.get("hidden_flags") or [])
        if movable:
            flag_names.add("movablekeys")
        cmd.flags = _ordered(flag_names, ALL_FLAGS)
        declared = info["acl_categories"]
        cats = set(declared) | set(implied_categories(info["flags"], declared))
        cmd.categories = _ordered(cats, ACL_CATEGORIES)
        cmd.syntax = syntax_line(cmd.display_name, cmd.docs.get("arguments") or [])
        cmd.own_status = cmd.engine.get("status") or "unimplemented"

    for cmd in commands:
        own = cmd.own_status in SERVED_STATUSES and (cmd.handler_name is not None)
        if cmd.is_container:
            cmd.implemented = own or any(sub.own_status in SERVED_STATUSES for sub in cmd.subcommands)
        else:
            cmd.implemented = cmd.own_status in SERVED_STATUSES
    return CommandSet(commands=commands, by_fullname=by_fullname)


def keyspec_flag_names(ks: dict[str, Any]) -> tuple[str, ...]:
    """A key spec's flags in COMMAND INFO order."""
    return tuple(name for name in KEYSPEC_FLAG_BITS if name in ks["flags"])
