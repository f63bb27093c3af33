"""Server configuration: the parameter registry behind redis.conf, the command line and CONFIG.

Each parameter is declared once with its kind, default, bounds and aliases; the
same declaration parses redis.conf lines, ``--name value`` arguments and
CONFIG SET, and formats CONFIG GET and CONFIG REWRITE output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from specredis.engine.errors import RedisError
from specredis.engine.glob import glob_match

MEMORY_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3,
}


class ConfigError(Exception):
    """A value that does not parse; ``reason`` is Redis's wording after the argument name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_bool(text: str) -> bool:
    low = text.lower()
    if low == "yes":
        return True
    if low == "no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


def parse_memory(text: str) -> int:
    """Redis's memtoull: an integer with an optional unit (k, kb, m, mb, g, gb; case-insensitive)."""
    low = text.lower()
    digits = low.rstrip("kmgb")
    unit = low[len(digits):]
    if unit not in MEMORY_UNITS or not digits or not (digits.isdigit() or (digits[0] == "-" and digits[1:].isdigit())):
        raise ConfigError("argument must be a memory value")
    return int(digits) * MEMORY_UNITS[unit]


@dataclass
class ConfigParam:
    """One configuration parameter.

    ``kind``: bool | int | memory | enum | string | special. For ``special``, ``parse``
    and ``format`` must be given. ``apply(engine, value)`` runs after a change (it may
    raise ConfigError to reject it)."""

    name: str
    kind: str
    default: Any
    aliases: tuple[str, ...] = ()
    immutable: bool = False
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    multi_arg: bool = False         # 'save' and 'client-output-buffer-limit' style values
    parse: Callable[[str], Any] | None = None
    format: Callable[[Any], str] | None = None
    apply: Callable[[Any, Any], None] | None = None
    sensitive: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def parse_value(self, text: str) -> Any:
        if self.parse is not None:
            return self.parse(text)
        if self.kind == "bool":
            return parse_bool(text)
        if self.kind in ("int", "memory"):
            if self.kind == "memory":
                value = parse_memory(text)
            else:
                try:
                    value = int(text)
                except ValueError:
                    raise ConfigError("argument couldn't be parsed into an integer") from None
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise ConfigError(f"argument must be between {self.minimum} and {self.maximum} inclusive")
            return value
        if self.kind == "enum":
            low = text.lower()
            if low not in self.choices:
                raise ConfigError(f"argument(s) must be one of the following: {', '.join(self.choices)}")
            return low
        return text

    def format_value(self, value: Any) -> str:
        if self.format is not None:
            return self.format(value)
        if self.kind == "bool":
            return "yes" if value else "no"
        return str(value)


class Config:
    """The live configuration: values by canonical name, lookups by name or alias."""

    def __init__(self, params: list[ConfigParam]) -> None:
        self.params: dict[str, ConfigParam] = {}
        self.by_name: dict[str, ConfigParam] = {}
        self.values: dict[str, Any] = {}
        # Config-file directives that are not parameters ('user', 'rename-command', ...):
        # name -> handler(config, args); raising ConfigError stops startup.
        self.extra_directives: dict[str, Callable[[Config, list[str]], None]] = {}
        for param in params:
            self.declare(param)

    def declare(self, param: ConfigParam) -> None:
        self.params[param.name] = param
        self.by_name[param.name] = param
        for alias in param.aliases:
            self.by_name[alias] = param
        self.values[param.name] = param.default

    def __getitem__(self, name: str) -> Any:
        return self.values[self.by_name[name].name]

    def lookup(self, name: str) -> ConfigParam | None:
        return self.by_name.get(name.lower())

    def set_from_text(self, engine: Any, name: str, text: str, startup: bool = False) -> None:
        """Parse and apply one value; raises ConfigError (or KeyError for unknown names)."""
        param = self.by_name[name.lower()]
        if param.immutable and not startup:
            raise ConfigError("can't set immutable config")
        value = param.parse_value(text)
        old = self.values[param.name]
        self.values[param.name] = value
        if param.apply is not None and engine is not None:
            try:
                param.apply(engine, value)
            except ConfigError:
                self.values[param.name] = old
                raise

    def matching(self, pattern: str) -> list[tuple[str, str]]:
        """(name, formatted value) pairs for CONFIG GET: names and aliases matching the glob."""
        out = []
        pattern = pattern.lower()
        exact = self.by_name.get(pattern)
        if exact is not None and not any(c in pattern for c in "*?["):
            return [(pattern, exact.format_value(self.values[exact.name]))]
        for name, param in self.by_name.items():
            if glob_match(pattern.encode(), name.encode()):
                out.append((name, param.format_value(self.values[param.name])))
        return out


def config_set_error(name: str, reason: str) -> RedisError:
    return RedisError(f"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
