"""The command model: flag and ACL-category vocabularies, and the command table entry.

The vocabularies are Redis's, in Redis's table order (``flagNames`` and
``ACLCommandCategories`` in server.c / acl.c), because COMMAND INFO lists flags
and categories in that order. Codegen imports them from here to validate the
spec and to render ``generated/``; the dispatcher reads the bitmasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# -- command flags ------------------------------------------------------------------------
# Visible flags, in COMMAND INFO order (flagNames in server.c). 'movablekeys' is derived.
VISIBLE_FLAGS: tuple[str, ...] = (
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
    "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
    "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy",
)
# Flags Redis has but never shows in COMMAND INFO; the spec keeps them in engine.hidden_flags.
HIDDEN_FLAGS: tuple[str, ...] = (
    "may_replicate", "sentinel", "only_sentinel", "protected", "touches_arbitrary_keys",
)
ALL_FLAGS = VISIBLE_FLAGS + HIDDEN_FLAGS
FLAG_BITS: dict[str, int] = {name: 1 << i for i, name in enumerate(ALL_FLAGS)}

CMD_WRITE = FLAG_BITS["write"]
CMD_READONLY = FLAG_BITS["readonly"]
CMD_DENYOOM = FLAG_BITS["denyoom"]
CMD_ADMIN = FLAG_BITS["admin"]
CMD_PUBSUB = FLAG_BITS["pubsub"]
CMD_NOSCRIPT = FLAG_BITS["noscript"]
CMD_BLOCKING = FLAG_BITS["blocking"]
CMD_LOADING = FLAG_BITS["loading"]
CMD_STALE = FLAG_BITS["stale"]
CMD_SKIP_MONITOR = FLAG_BITS["skip_monitor"]
CMD_SKIP_SLOWLOG = FLAG_BITS["skip_slowlog"]
CMD_ASKING = FLAG_BITS["asking"]
CMD_FAST = FLAG_BITS["fast"]
CMD_NO_AUTH = FLAG_BITS["no_auth"]
CMD_NO_MANDATORY_KEYS = FLAG_BITS["no_mandatory_keys"]
CMD_NO_ASYNC_LOADING = FLAG_BITS["no_async_loading"]
CMD_NO_MULTI = FLAG_BITS["no_multi"]
CMD_MOVABLE_KEYS = FLAG_BITS["movablekeys"]
CMD_ALLOW_BUSY = FLAG_BITS["allow_busy"]
CMD_MAY_REPLICATE = FLAG_BITS["may_replicate"]
CMD_SENTINEL = FLAG_BITS["sentinel"]
CMD_ONLY_SENTINEL = FLAG_BITS["only_sentinel"]
CMD_PROTECTED = FLAG_BITS["protected"]
CMD_TOUCHES_ARBITRARY_KEYS = FLAG_BITS["touches_arbitrary_keys"]

# -- ACL categories -----------------------------------------------------------------------
# In ACLCommandCategories order (acl.c): ACL CAT and COMMAND INFO list them this way.
ACL_CATEGORIES: tuple[str, ...] = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
    "connection", "transaction", "scripting",
)
CATEGORY_BITS: dict[str, int] = {name: 1 << i for i, name in enumerate(ACL_CATEGORIES)}

# Categories implied by flags (server.c setImplicitACLCategories); never declared in the spec.
IMPLIED_BY_FLAG: dict[str, tuple[str, ...]] = {
    "write": ("write",),
    "readonly": ("read",),
    "admin": ("admin", "dangerous"),
    "pubsub": ("pubsub",),
    "fast": ("fast",),
    "blocking": ("blocking",),
}


def implied_categories(flags: list[str] | tuple[str, ...], declared: list[str] | tuple[str, ...]) -> list[str]:
    """Categories Redis adds from the flags: @read is not implied for @scripting commands
    (EVAL_RO, EVALSHA_RO, FCALL_RO), and a command that is not @fast is @slow."""
    implied: list[str] = []
    for flag in flags:
        for cat in IMPLIED_BY_FLAG.get(flag, ()):
            if cat == "read" and "scripting" in declared:
                continue
            implied.append(cat)
    if "fast" not in flags:
        implied.append("slow")
    return implied


# -- key specs ----------------------------------------------------------------------------
# Key-spec flags in COMMAND INFO order and spelling (server.c addReplyFlagsForKeyArgs).
KEYSPEC_FLAGS: tuple[tuple[str, str], ...] = (
    ("ro", "RO"), ("rw", "RW"), ("ow", "OW"), ("rm", "RM"),
    ("access", "access"), ("update", "update"), ("insert", "insert"), ("delete", "delete"),
    ("not_key", "not_key"), ("incomplete", "incomplete"), ("variable_flags", "variable_flags"),
)
KEYSPEC_FLAG_BITS: dict[str, int] = {name: 1 << i for i, (name, _) in enumerate(KEYSPEC_FLAGS)}
KS_RO = KEYSPEC_FLAG_BITS["ro"]
KS_RW = KEYSPEC_FLAG_BITS["rw"]
KS_OW = KEYSPEC_FLAG_BITS["ow"]
KS_RM = KEYSPEC_FLAG_BITS["rm"]
KS_ACCESS = KEYSPEC_FLAG_BITS["access"]
KS_UPDATE = KEYSPEC_FLAG_BITS["update"]
KS_INSERT = KEYSPEC_FLAG_BITS["insert"]
KS_DELETE = KEYSPEC_FLAG_BITS["delete"]
KS_NOT_KEY = KEYSPEC_FLAG_BITS["not_key"]
KS_INCOMPLETE = KEYSPEC_FLAG_BITS["incomplete"]
KS_VARIABLE_FLAGS = KEYSPEC_FLAG_BITS["variable_flags"]


@dataclass(frozen=True)
class KeySpec:
    """One key spec. ``begin`` is ("index", pos) | ("keyword", keyword, startfrom) | ("unknown",);
    ``find`` is ("range", lastkey, keystep, limit) | ("keynum", keynumidx, firstkey, keystep) | ("unknown",)."""

    flags: int
    begin: tuple
    find: tuple
    notes: str | None = None


@dataclass
class CommandDef:
    """One entry of the generated command table (a command or a subcommand).

    Everything here comes from the spec through codegen; ``handler`` is resolved
    from its dotted name when the engine builds its dispatch table.
    """

    id: int
    fullname: str                 # 'get', 'client|kill'
    name: str                     # 'get', 'kill'
    container: str | None
    arity: int
    flags: int                    # CMD_* bits, movablekeys included when derived
    acl_categories: int           # declared | implied, as CATEGORY_BITS
    first_key: int                # legacy range, derived
    last_key: int
    key_step: int
    key_specs: tuple[KeySpec, ...]
    tips: tuple[str, ...]
    group: str
    implemented: bool
    handler_name: str | None      # "specredis.engine.types.string:set_command"
    getkeys_name: str | None = None
    engine: dict[str, Any] = field(default_factory=dict)   # the spec's hand-written engine section
    reply: dict[str, Any] = field(default_factory=dict)    # the spec's hand-written reply section
    subcommands: dict[bytes, CommandDef] = field(default_factory=dict)
    handler: Callable | None = None
    getkeys: Callable | None = None

    def has_flag(self, bit: int) -> bool:
        return bool(self.flags & bit)
