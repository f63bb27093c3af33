"""Server configuration: the parameter registry behind redis.conf, the command line and CONFIG.

Each parameter is declared once (in :mod:`specredis.engine.settings`) with its kind,
default, bounds, aliases and flags; that one declaration

* parses redis.conf lines and ``--name value`` options at startup,
* parses CONFIG SET values (several at once, all or nothing, as Redis does),
* formats CONFIG GET values,
* and writes the parameter's lines for CONFIG REWRITE.

Values are kept as Python values (``bool``, ``int``, ``str``, or the structure a
special parameter documents), so the rest of the engine reads ``config["name"]``
without parsing. Text is ``str`` decoded with ``surrogateescape``: any byte string
round-trips.

Kinds (Redis's config types):

``bool``      yes/no
``int``       a canonical decimal integer (string2ll) within [minimum, maximum]
``memory``    an integer with an optional unit (``1gb``, ``100k``), within bounds
``percent``   a memory value or ``N%``; a percentage is stored negative, as Redis does
``octal``     an octal number (unixsocketperm)
``enum``      one of ``choices`` (case-insensitive); ``flags=True`` for multi-word bit sets
``string``    any text; ``nullable`` strings treat "" as unset (CONFIG REWRITE drops them)
``special``   ``parse``/``format``/``rewrite`` given by the declaration
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from specredis.engine.args import parse_yes_no as parse_yes_no_bytes
from specredis.engine.args import string_to_int
from specredis.engine.errors import RedisError
from specredis.engine.glob import glob_match
from specredis.util.text import quote_repr

ULLONG_MAX = (1 << 64) - 1
LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)
INT_MAX = (1 << 31) - 1
INT_MIN = -(1 << 31)
UINT_MAX = (1 << 32) - 1

_MEMORY_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3,
}
_STRTOLL = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)\Z")
_OCTAL = re.compile(r"(?:[ \t\n\v\f\r]*([+-]?)([0-7]+))?\Z")


class ConfigError(Exception):
    """A value that is refused; ``reason`` is Redis's wording (what follows the name in errors)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -----------------------------------------------------------------------------------------
# Number parsing with C's and Redis's rules
# -----------------------------------------------------------------------------------------

def string2ll(text: str) -> int | None:
    """Redis's string2ll on config text: a canonical 64-bit decimal integer, else None."""
    return string_to_int(text.encode("utf-8", "surrogateescape"))


def parse_yes_no(text: str) -> bool:
    """A yes/no value (any case); ConfigError with Redis's reason otherwise."""
    value = parse_yes_no_bytes(text.encode("utf-8", "surrogateescape"))
    if value is None:
        raise ConfigError("argument must be 'yes' or 'no'")
    return value


def strtoll_whole(text: str) -> int | None:
    """C strtoll that must consume the whole string: leading spaces and a sign allowed, saturating."""
    match = _STRTOLL.match(text)
    if match is None:
        return None
    value = int(match.group(2))
    if match.group(1) == "-":
        value = -value
    return max(LLONG_MIN, min(LLONG_MAX, value))


def to_c_int(value: int) -> int:
    """The value a C ``int`` keeps of a wider integer (two's complement truncation)."""
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)


def memtoull(text: str) -> int | None:
    """Redis's memtoull: digits then an optional unit (b k kb m mb g gb, any case); None if invalid.

    The digits may be empty (``"k"`` is 0); the number saturates at 2**64-1 and the
    unit multiplication wraps, as the C code does."""
    if text.startswith("-"):
        return None
    end = 0
    while end < len(text) and text[end].isdigit() and text[end].isascii():
        end += 1
    unit = text[end:].lower()
    multiplier = _MEMORY_UNITS.get(unit)
    if multiplier is None or end >= 128:
        return None
    digits = text[:end]
    value = min(int(digits), ULLONG_MAX) if digits else 0
    return (value * multiplier) & ULLONG_MAX


def format_memory(value: int) -> str:
    """How CONFIG REWRITE writes a byte count: the largest exact unit of gb, mb, kb (rewriteConfigFormatMemory)."""
    for unit, size in (("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)):
        if value and value % size == 0:
            return f"{value // size}{unit}"
    return str(value)


def repr_string(text: str) -> str:
    """A double-quoted, escaped string as Redis's sdscatrepr writes it (CONFIG REWRITE values)."""
    return quote_repr(text.encode("utf-8", "surrogateescape")).decode("ascii")


def split_multi_arg(text: str) -> list[str]:
    """How CONFIG SET splits a multi-argument value: on every single space (sdssplitlen)."""
    return text.split(" ") if text else []


# -----------------------------------------------------------------------------------------
# Parameters
# -----------------------------------------------------------------------------------------

# Parameter flags, as Redis names them.
IMMUTABLE = "immutable"       # set only at startup
PROTECTED = "protected"       # CONFIG SET needs enable-protected-configs
HIDDEN = "hidden"             # not matched by CONFIG GET patterns, only by its exact name
SENSITIVE = "sensitive"       # its value is redacted from logs, SLOWLOG and MONITOR
DENY_LOADING = "deny_loading"  # CONFIG SET refused (-LOADING) while a dataset loads


@dataclass
class ConfigParam:
    """One configuration parameter. See the module docstring for ``kind``.

    ``parse(args) -> value`` (special kinds) receives the list of arguments (one
    element unless ``multi_arg``); ``format(value) -> str`` gives CONFIG GET's text;
    ``rewrite(value, default) -> (lines, force)`` gives CONFIG REWRITE's lines
    (``None`` for lines means "remove any line of this parameter"; a line may be a
    ``(line, force)`` pair to force it alone).
    ``apply(engine, value)`` runs after a change on a live engine; it may raise
    :class:`ConfigError` to refuse the change (everything is then rolled back)."""

    name: str
    kind: str
    default: Any
    aliases: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    choice_values: dict[str, Any] | None = None  # several names for one value (oom-score-adj)
    multi_arg: bool = False
    nullable: bool = False
    parse: Callable[[list[str]], Any] | None = None
    format: Callable[[Any], str] | None = None
    rewrite: Callable[[Any, Any], tuple[list[Any] | None, bool]] | None = None
    apply: Callable[[Any, Any], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    immutable: bool = False         # shorthand for the IMMUTABLE flag
    sensitive: bool = False         # shorthand for the SENSITIVE flag

    def __post_init__(self) -> None:
        flags = set(self.flags)
        if self.immutable:
            flags.add(IMMUTABLE)
        if self.sensitive:
            flags.add(SENSITIVE)
        self.flags = frozenset(flags)
        self.immutable = IMMUTABLE in flags
        self.sensitive = SENSITIVE in flags

    @property
    def hidden(self) -> bool:
        return HIDDEN in self.flags

    # -- parsing --------------------------------------------------------------------------

    def parse_args(self, args: list[str]) -> Any:
        """The value ``args`` spell (one argument unless ``multi_arg``); raises ConfigError."""
        if self.parse is not None:
            return self.parse(args)
        if self.kind == "enum" and self.extra.get("flags"):
            return self._parse_enum_flags(args)
        if len(args) != 1:
            raise ConfigError("wrong number of arguments")
        text = args[0]
        kind = self.kind
        if kind == "bool":
            return parse_yes_no(text)
        if kind == "enum":
            low = text.lower()
            if low not in self.choices:
                raise ConfigError(f"argument(s) must be one of the following: {', '.join(self.choices)}")
            return self.choice_values[low] if self.choice_values else low
        if kind in ("int", "memory", "percent", "octal"):
            return self._check_bounds(self._parse_number(text))
        return text

    def _parse_number(self, text: str) -> int:
        kind = self.kind
        if kind in ("memory", "percent"):
            value = memtoull(text)
            if value is not None:
                if kind == "percent" and value > LLONG_MAX:
                    value -= 1 << 64      # stored in a signed long long: read back as a percentage
                return value
        if kind == "percent" and len(text) > 1 and text.endswith("%"):
            percent = string2ll(text[:-1])
            if percent is not None and percent >= 0:
                return -percent
        if kind == "int":
            value = string2ll(text)
            if value is not None:
                return value
        if kind == "octal":
            # strtoll(..., 8) that must reach the end: spaces and a sign first; "" reads as 0.
            match = _OCTAL.match(text)
            if match is not None:
                digits = match.group(2)
                value = int(digits, 8) if digits else 0
                return -value if match.group(1) == "-" else value
            raise ConfigError("argument couldn't be parsed as an octal number")
        if kind == "percent":
            raise ConfigError("argument must be a memory or percent value")
        if kind == "memory":
            raise ConfigError("argument must be a memory value")
        raise ConfigError("argument couldn't be parsed into an integer")

    def _check_bounds(self, value: int) -> int:
        low, high = self.minimum, self.maximum
        if self.kind == "percent" and value < 0:
            if low is not None and value < low:
                raise ConfigError(f"percentage argument must be less or equal to {-low}")
            return value
        if (low is not None and value < low) or (high is not None and value > high):
            if self.kind == "octal":
                raise ConfigError(f"argument must be between {low:o} and {high:o} inclusive")
            raise ConfigError(f"argument must be between {low} and {high} inclusive")
        return value

    def _parse_enum_flags(self, args: list[str]) -> int:
        values = self.choice_values or {}
        result = 0
        if not args:
            raise ConfigError(f"argument(s) must be one of the following: {', '.join(self.choices)}")
        for arg in args:
            low = arg.lower()
            if low not in values:
                raise ConfigError(f"argument(s) must be one of the following: {', '.join(self.choices)}")
            result |= values[low]
        check = self.extra.get("check")
        if check is not None:
            check(result)
        return result

    # -- formatting -----------------------------------------------------------------------

    def format_value(self, value: Any) -> str:
        """CONFIG GET's text for ``value``."""
        if self.format is not None:
            return self.format(value)
        kind = self.kind
        if kind == "bool":
            return "yes" if value else "no"
        if kind == "percent" and value < 0:
            return f"{-value}%"
        if kind == "octal":
            return f"{value:o}"
        if kind == "enum":
            return self._enum_name(value)
        return str(value)

    def _enum_name(self, value: Any) -> str:
        if not self.choice_values:
            return value
        if self.extra.get("flags"):
            names = [name for name, bit in self.choice_values.items() if bit and value & bit == bit]
            if value == 0 or not names:
                return next((name for name, bit in self.choice_values.items() if bit == value), "")
            return " ".join(names)
        return next(name for name, v in self.choice_values.items() if v == value)

    def rewrite_lines(self, value: Any, name: str | None = None) -> tuple[list[str] | None, bool]:
        """CONFIG REWRITE's lines for ``value`` and whether they must be written even if absent.

        ``None`` lines mean the parameter is unset: its old lines are removed."""
        name = name or self.name
        if self.rewrite is not None:
            return self.rewrite(value, self.default)
        force = value != self.default
        kind = self.kind
        if kind == "string":
            if self.nullable and value == "":
                return None, False
            return [f"{name} {repr_string(value)}"], force
        if kind == "memory":
            return [f"{name} {format_memory(value)}"], force
        if kind == "percent":
            return [f"{name} {-value}%" if value < 0 else f"{name} {format_memory(value)}"], force
        return [f"{name} {self.format_value(value)}"], force


# -----------------------------------------------------------------------------------------
# The live configuration
# -----------------------------------------------------------------------------------------

class Config:
    """The live configuration: values by canonical name, lookups by name or alias (any case)."""

    def __init__(self, params: list[ConfigParam]) -> None:
        self.params: dict[str, ConfigParam] = {}
        self.by_name: dict[str, ConfigParam] = {}
        self.values: dict[str, Any] = {}
        # Config-file directives that are not parameters ('user', 'rename-command', ...):
        # name -> handler(config, args); raising ConfigError stops startup.
        self.extra_directives: dict[str, Callable[[Config, list[str]], None]] = {}
        # What those directives recorded (renamed commands, 'user' lines, modules...), by directive.
        self.extra_state: dict[str, Any] = {}
        # Parameters set by the config file or the command line so far (startup 'save' lines
        # replace the defaults on the first one, then accumulate).
        self.seen_at_startup: set[str] = set()
        for param in params:
            self.declare(param)

    def declare(self, param: ConfigParam) -> None:
        """Add a parameter (a later declaration of the same name replaces the earlier one)."""
        old = self.params.get(param.name)
        if old is not None:
            for alias in old.aliases:
                self.by_name.pop(alias, None)
        self.params[param.name] = param
        self.by_name[param.name] = param
        for alias in param.aliases:
            self.by_name[alias] = param
        self.values[param.name] = param.default

    def __getitem__(self, name: str) -> Any:
        return self.values[self.by_name[name].name]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.by_name

    def lookup(self, name: str) -> ConfigParam | None:
        """The parameter called ``name`` (or one of its aliases), any case."""
        return self.by_name.get(name.lower())

    def get_text(self, name: str) -> str:
        """CONFIG GET's text for parameter ``name``."""
        param = self.by_name[name.lower()]
        return param.format_value(self.values[param.name])

    # -- startup --------------------------------------------------------------------------

    def set_at_startup(self, name: str, args: list[str]) -> None:
        """Apply one config-file line (``name arg...``); raises ConfigError with Redis's reason."""
        param = self.by_name[name.lower()]
        if not param.multi_arg and len(args) != 1:
            raise ConfigError("wrong number of arguments")
        if param.multi_arg and len(args) == 1 and args[0]:
            # One non-empty argument holding several ("--save '900 1 300 10'"): split it
            # like a config line, so that both forms are accepted.
            from specredis.protocol.parser import ProtocolError, split_args

            try:
                split = split_args(args[0].encode("utf-8", "surrogateescape"))
            except ProtocolError:
                split = None
            if split is not None:
                args = [a.decode("utf-8", "surrogateescape") for a in split]
        value = param.parse_args(args)
        combine = param.extra.get("combine")
        if combine is not None:
            value = combine(self.values[param.name], value, args, param.name in self.seen_at_startup)
        self.seen_at_startup.add(param.name)
        self.values[param.name] = value

    def set_from_text(self, engine: Any, name: str, text: str, startup: bool = False) -> None:
        """Set one parameter from its text (CONFIG SET rules unless ``startup``); raises ConfigError."""
        if startup:
            param = self.by_name[name.lower()]
            self.set_at_startup(name, split_multi_arg(text) if param.multi_arg else [text])
            return
        error = self.set_many(engine, [(name, text)])
        if error is not None:
            raise ConfigError(error.text)

    # -- CONFIG SET -----------------------------------------------------------------------

    def set_many(self, engine: Any, pairs: list[tuple[str, str]], client: Any = None) -> RedisError | None:
        """CONFIG SET name value [name value ...]: all or nothing, Redis's checks and error texts.

        Every value is parsed and stored first; then each distinct apply hook runs once.
        If a value does not parse or a hook refuses, every value is restored (and the
        hooks re-run with the old values). Returns the error, or None on success."""
        invalid_name: str | None = None
        error_name: str | None = None
        reason: str | None = None
        loading_error = False
        chosen: list[tuple[str, ConfigParam, str]] = []
        seen: set[str] = set()
        for name, text in pairs:
            key = name.lower()
            param = self.by_name.get(key)
            if param is None:
                if invalid_name is None and reason is None and not loading_error:
                    invalid_name = name
                continue
            if invalid_name is not None or reason is not None or loading_error:
                continue
            if param.immutable or (PROTECTED in param.flags and not _protected_allowed(self, client)):
                reason = "can't set immutable config" if param.immutable else "can't set protected config"
                error_name = name
                continue
            if DENY_LOADING in param.flags and engine is not None and getattr(engine, "loading", False):
                loading_error = True
                continue
            if key in seen:
                reason, error_name = "duplicate parameter", name
                continue
            seen.add(key)
            chosen.append((key, param, text))
        if loading_error:
            from specredis.engine.errors import LOADING

            return RedisError(LOADING)
        if invalid_name is not None:
            return RedisError(f"ERR Unknown option or number of arguments for CONFIG SET - '{invalid_name}'")
        if reason is not None:
            return config_set_error(error_name or "", reason)

        old_values = {param.name: self.values[param.name] for _, param, _ in chosen}
        to_apply: list[tuple[str, ConfigParam]] = []
        for key, param, text in chosen:
            try:
                args = split_multi_arg(text) if param.multi_arg else [text]
                value = param.parse_args(args)
                combine = param.extra.get("combine")
                if combine is not None:
                    value = combine(self.values[param.name], value, args, False)
            except ConfigError as error:
                self.values.update(old_values)
                return config_set_error(key, error.reason)
            if value != self.values[param.name]:
                self.values[param.name] = value
                if param.apply is not None and all(p.apply is not param.apply for _, p in to_apply):
                    to_apply.append((key, param))
        if engine is not None:
            for key, param in to_apply:
                try:
                    param.apply(engine, self.values[param.name])
                except ConfigError as error:
                    self.values.update(old_values)
                    for _, undo in to_apply:
                        try:
                            undo.apply(engine, self.values[undo.name])
                        except ConfigError:
                            pass
                    return config_set_error(key, error.reason)
        return None

    # -- CONFIG GET -----------------------------------------------------------------------

    def matching(self, patterns: list[str] | str) -> list[tuple[str, str]]:
        """(name, value text) pairs for CONFIG GET: each pattern is an exact name (any case, reported
        as typed) or a glob over names and aliases; hidden parameters match only exactly; each
        name is reported once."""
        if isinstance(patterns, str):
            patterns = [patterns]
        found: dict[str, tuple[str, str]] = {}
        for pattern in patterns:
            if not any(c in pattern for c in "[*?"):
                key = pattern.lower()
                if key in found:
                    continue
                param = self.by_name.get(key)
                if param is not None:
                    found[key] = (pattern, param.format_value(self.values[param.name]))
                continue
            compiled = pattern.encode("utf-8", "surrogateescape")
            for name, param in self.by_name.items():
                if param.hidden or name in found:
                    continue
                if glob_match(compiled, name.encode(), nocase=True):
                    found[name] = (name, param.format_value(self.values[param.name]))
        return list(found.values())


def _protected_allowed(config: Config, client: Any) -> bool:
    """enable-protected-configs: 'yes', or 'local' for a loopback / unix-socket client."""
    mode = config.values.get("enable-protected-configs", "no")
    if mode == "yes":
        return True
    if mode == "local" and client is not None:
        return is_local_client(client)
    return False


def is_local_client(client: Any) -> bool:
    """True for a connection from the loopback interface or a unix socket (islocalClient)."""
    addr = getattr(client, "addr", "") or ""
    if not addr or addr.startswith("/") or addr.startswith("unix"):
        return True
    host = addr.rsplit(":", 1)[0]
    return host in ("127.0.0.1", "::1", "[::1]") or host.startswith("127.")


def config_set_error(name: str, reason: str) -> RedisError:
    """``ERR CONFIG SET failed (possibly related to argument 'name') - reason``."""
    return RedisError(f"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
