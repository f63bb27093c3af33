"""Every configuration parameter of Redis 7.0.15, with its kind, default, bounds, flags and aliases.

The set of names is exactly what Redis 7.0.15's ``CONFIG GET *`` lists (192 names,
aliases included), plus its hidden parameters (readable by exact name only). A
parameter whose feature does not exist yet is still declared: any valid redis.conf
loads, CONFIG GET/SET behave as in Redis, and the value becomes live when its
feature lands and reads ``engine.config["name"]``.

Feature modules react to changes with :func:`on_change` (at import time), which
chains an ``apply(engine, value)`` hook onto a parameter; a hook may raise
:class:`ConfigError` to refuse a value. Modules that need a parameter Redis does
not have may still append a provider to :data:`PARAM_PROVIDERS`.

Value types of the special parameters:

``save``                              list of (seconds, changes)
``client-output-buffer-limit``        {"normal"|"replica"|"pubsub": (hard, soft, soft_seconds)}
``notify-keyspace-events``            NOTIFY_* bit set (engine.core)
``oom-score-adj-values``              (replica, master, bgchild)
``latency-tracking-info-percentiles`` tuple of floats
``shutdown-on-sigint|sigterm``        SHUTDOWN_* bit set (0: default)
``replicaof``                         (host, port) or None
``bind``                              the addresses, space-separated
``dir``                               absolute path; "" until set (the current directory)
``maxmemory-clients``                 bytes, or -percent
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from specredis.engine.config import (
    DENY_LOADING,
    HIDDEN,
    IMMUTABLE,
    INT_MAX,
    INT_MIN,
    LLONG_MAX,
    PROTECTED,
    SENSITIVE,
    UINT_MAX,
    ULLONG_MAX,
    Config,
    ConfigError,
    ConfigParam,
    parse_yes_no,
    strtoll_whole,
    to_c_int,
)

GB = 1024**3
MB = 1024**2
KB = 1024
LONG_MAX = LLONG_MAX

# shutdown-on-sigint / shutdown-on-sigterm bits (SHUTDOWN_* in server.h).
SHUTDOWN_SAVE = 1
SHUTDOWN_NOSAVE = 2
SHUTDOWN_NOW = 4
SHUTDOWN_FORCE = 8

# notify-keyspace-events classes, in the order CONFIG GET spells them (keyspaceEventsFlagsToString).
_NOTIFY_CHARS = (
    ("g", 1 << 2), ("$", 1 << 3), ("l", 1 << 4), ("s", 1 << 5), ("h", 1 << 6), ("z", 1 << 7),
    ("x", 1 << 8), ("e", 1 << 9), ("t", 1 << 10), ("d", 1 << 13), ("n", 1 << 14),
)
NOTIFY_KEYSPACE = 1 << 0
NOTIFY_KEYEVENT = 1 << 1
NOTIFY_KEY_MISS = 1 << 11
NOTIFY_ALL = sum(bit for char, bit in _NOTIFY_CHARS if char != "n")   # 'A': g$lshzxetd

CLIENT_CLASSES = ("normal", "replica", "pubsub")
DEFAULT_OUTPUT_LIMITS = {"normal": (0, 0, 0), "replica": (256 * MB, 64 * MB, 60), "pubsub": (32 * MB, 8 * MB, 60)}

_APPLY_HOOKS: dict[str, list[Callable[[Any, Any], None]]] = {}


def on_change(name: str, hook: Callable[[Any, Any], None]) -> None:
    """Run ``hook(engine, value)`` whenever parameter ``name`` changes on a live engine (and once
    when the engine is created). Call it at import time of the feature module."""
    _APPLY_HOOKS.setdefault(name, []).append(hook)


# -----------------------------------------------------------------------------------------
# Special parameters: parse / format / rewrite
# -----------------------------------------------------------------------------------------

def _parse_save(args: list[str]) -> list[tuple[int, int]]:
    if args == [""]:
        return []                          # save "" : no snapshots
    if len(args) % 2:
        raise ConfigError("Invalid save parameters")
    pairs = []
    for i in range(0, len(args), 2):
        seconds, changes = strtoll_whole(args[i]), strtoll_whole(args[i + 1])
        if seconds is None or changes is None or seconds < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        pairs.append((seconds, to_c_int(changes)))
    return pairs


def _combine_save(old: Any, new: Any, args: list[str], repeated: bool) -> Any:
    # In a config file the first 'save' line replaces the defaults and later ones add to it;
    # 'save ""' always clears.
    if repeated and args != [""]:
        return old + new
    return new


def _format_save(value: list[tuple[int, int]]) -> str:
    return " ".join(f"{seconds} {changes}" for seconds, changes in value)


def _rewrite_save(value: list[tuple[int, int]], default: Any) -> tuple[list[str], bool]:
    if not value:
        return ['save ""'], True
    return [f"save {seconds} {changes}" for seconds, changes in value], True


def _parse_output_limits(args: list[str]) -> dict[str, tuple[int, int, int]]:
    from specredis.engine.config import memtoull

    if len(args) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    limits: dict[str, tuple[int, int, int]] = {}
    for i in range(0, len(args), 4):
        cls = args[i].lower()
        if cls == "slave":
            cls = "replica"
        if cls not in CLIENT_CLASSES:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        hard, soft = memtoull(args[i + 1]), memtoull(args[i + 2])
        seconds = strtoll_whole(args[i + 3])
        if seconds is not None:
            seconds = to_c_int(seconds)
        if hard is None or soft is None or seconds is None or seconds < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        limits[cls] = (hard, soft, seconds)
    return limits


def _combine_output_limits(old: Any, new: Any, args: list[str], repeated: bool) -> Any:
    # Only the classes named change.
    merged = dict(old)
    merged.update(new)
    return merged


def _format_output_limits(value: dict[str, tuple[int, int, int]]) -> str:
    parts = []
    for cls in CLIENT_CLASSES:
        hard, soft, seconds = value[cls]
        parts.append(f"{'slave' if cls == 'replica' else cls} {hard} {soft} {seconds}")
    return " ".join(parts)


def _rewrite_output_limits(value: dict, default: dict) -> tuple[list[Any], bool]:
    from specredis.engine.config import format_memory

    # One line per class, each forced only when that class differs from its default; a class at
    # its default still takes over an old line of the file.
    lines = []
    for cls in CLIENT_CLASSES:
        hard, soft, seconds = value[cls]
        line = f"client-output-buffer-limit {cls} {format_memory(hard)} {format_memory(soft)} {seconds}"
        lines.append((line, value[cls] != default[cls]))
    return lines, False


def parse_notify_flags(text: str) -> int:
    """notify-keyspace-events text -> NOTIFY_* bits (keyspaceEventsStringToFlags)."""
    flags = 0
    table = dict(_NOTIFY_CHARS)
    for char in text:
        if char == "A":
            flags |= NOTIFY_ALL
        elif char == "K":
            flags |= NOTIFY_KEYSPACE
        elif char == "E":
            flags |= NOTIFY_KEYEVENT
        elif char == "m":
            flags |= NOTIFY_KEY_MISS
        elif char in table:
            flags |= table[char]
        else:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    return flags


def format_notify_flags(flags: int) -> str:
    """NOTIFY_* bits -> text, in Redis's order ('A' for all of g$lshzxetd)."""
    if flags & NOTIFY_ALL == NOTIFY_ALL:
        out = "A"
    else:
        out = "".join(char for char, bit in _NOTIFY_CHARS if flags & bit)
    if flags & NOTIFY_KEYSPACE:
        out += "K"
    if flags & NOTIFY_KEYEVENT:
        out += "E"
    if flags & NOTIFY_KEY_MISS:
        out += "m"
    return out


def _rewrite_notify(value: int, default: int) -> tuple[list[str], bool]:
    from specredis.engine.config import repr_string

    return [f"notify-keyspace-events {repr_string(format_notify_flags(value))}"], value != 0


def _apply_notify(engine: Any, value: int) -> None:
    engine.notify_flags = value


def _parse_oom_values(args: list[str]) -> tuple[int, ...]:
    if len(args) != 3:
        raise ConfigError("wrong number of arguments")
    values = []
    for arg in args:
        number = strtoll_whole(arg)
        if number is None or number < -2000 or number > 2000:
            raise ConfigError("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
        values.append(number)
    return tuple(values)


def _parse_percentiles(args: list[str]) -> tuple[float, ...]:
    from specredis.engine.args import string_to_float

    if args == [""]:
        return ()
    values = []
    for arg in args:
        number = string_to_float(arg.encode("utf-8", "surrogateescape"))
        if number is None:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
        if number > 100.0 or number < 0.0:
            raise ConfigError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
        values.append(number)
    return tuple(values)


def format_percentile(value: float) -> str:
    """A percentile as Redis prints it: %f without trailing zeros (99.9, 50, 0.0001)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _format_percentiles(value: tuple[float, ...]) -> str:
    return " ".join(format_percentile(v) for v in value)


def _rewrite_percentiles(value: tuple[float, ...], default: Any) -> tuple[list[str], bool]:
    if not value:
        return ['latency-tracking-info-percentiles ""'], True
    return [f"latency-tracking-info-percentiles {_format_percentiles(value)}"], True


def _check_shutdown_flags(flags: int) -> None:
    if flags & SHUTDOWN_SAVE and flags & SHUTDOWN_NOSAVE:
        raise ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously")


def _parse_replicaof(args: list[str]) -> tuple[str, int] | None:
    if len(args) != 2:
        raise ConfigError("wrong number of arguments")
    if args[0].lower() == "no" and args[1].lower() == "one":
        return None
    match = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", args[1])
    port = int(match.group(1)) if match else -1
    if port < 0 or port > 65535:
        raise ConfigError("Invalid master port")
    return args[0], port


def _format_replicaof(value: tuple[str, int] | None) -> str:
    return "" if value is None else f"{value[0]} {value[1]}"


def _rewrite_replicaof(value: tuple[str, int] | None, default: Any) -> tuple[list[str] | None, bool]:
    if value is None:
        return None, False
    return [f"replicaof {value[0]} {value[1]}"], True


def _parse_bind(args: list[str]) -> str:
    if args == [""]:
        return ""                          # bind "" : listen nowhere
    if len(args) > 16:
        raise ConfigError("Too many bind addresses specified.")
    if any(not arg for arg in args):
        # An empty address cannot be bound (CONFIG SET "a  b" splits into a, "", b).
        raise ConfigError("Failed to bind to specified addresses.")
    return " ".join(args)


def _rewrite_bind(value: str, default: str) -> tuple[list[str] | None, bool]:
    if value == default:
        return None, False
    return [f"bind {value}"], True


def _apply_listeners(engine: Any, value: Any) -> None:
    # The server re-creates its listening sockets (it registers the hook when it starts);
    # an in-process engine has none.
    rebind = engine.extensions.get("rebind")
    if rebind is not None:
        rebind()


_ERRNO_TEXT = {2: "No such file or directory", 13: "Permission denied", 20: "Not a directory"}


def _parse_dir(args: list[str]) -> str:
    path = args[0]
    try:
        if not path:
            raise FileNotFoundError(2, _ERRNO_TEXT[2])
        if not os.path.isdir(path):
            if os.path.exists(path):
                raise NotADirectoryError(20, _ERRNO_TEXT[20])
            raise FileNotFoundError(2, _ERRNO_TEXT[2])
        if not os.access(path, os.X_OK):
            raise PermissionError(13, _ERRNO_TEXT[13])
    except OSError as error:
        raise ConfigError(_ERRNO_TEXT.get(error.errno or 0, error.strerror or str(error))) from None
    return os.path.realpath(path)


def _format_dir(value: str) -> str:
    return value or os.getcwd()


def _rewrite_dir(value: str, default: Any) -> tuple[list[str], bool]:
    from specredis.engine.config import repr_string

    return [f"dir {repr_string(_format_dir(value))}"], True


def _apply_dir(engine: Any, value: str) -> None:
    if value:
        try:
            os.chdir(value)
        except OSError as error:
            raise ConfigError(error.strerror or str(error)) from None


def _aof_name_parser(name: str, what: str) -> Callable[[list[str]], str]:
    """isValidAOFfilename / isValidAOFdirname: not empty, and a plain name, not a path."""
    def parse(args: list[str]) -> str:
        if not args[0]:
            raise ConfigError(f"{name} can't be empty")
        if "/" in args[0] or "\\" in args[0]:
            raise ConfigError(f"{name} can't be a path, just a {what}")
        return args[0]
    return parse


def _parse_dbfilename(args: list[str]) -> str:
    if "/" in args[0]:
        raise ConfigError("dbfilename can't be a path, just a filename")
    return args[0]


_TITLE_VARIABLES = {"title", "listen-addr", "server-mode", "port", "tls-port", "config-file"}


def _parse_proc_title(args: list[str]) -> str:
    template = args[0]
    invalid = ConfigError("template format is invalid or contains unknown variables")
    # Expand with an empty title and mode, the way Redis validates: the result must not be blank.
    out: list[str] = []
    i, n = 0, len(template)
    while i < n:
        char = template[i]
        if char == "{":
            if template.startswith("{{", i):
                out.append("{")
                i += 2
                continue
            end = template.find("}", i + 1)
            if end == -1:
                raise invalid
            name = template[i + 1:end]
            if name not in _TITLE_VARIABLES:
                raise invalid
            out.append("" if name in ("title", "server-mode") else "x")
            i = end + 1
        elif char == "}" and template.startswith("}}", i):
            out.append("}")
            i += 2
        else:
            out.append(char)
            i += 1
    if not "".join(out).strip(" "):
        raise invalid
    return template


def _apply_loglevel(engine: Any, value: str) -> None:
    from specredis.util.log import LEVELS, LOGGER

    LOGGER.level = LEVELS.get(value, LEVELS["notice"])


def _apply_logfile(engine: Any, value: str) -> None:
    # Immutable: runs once, when the engine is created from the startup configuration.
    if value:
        from specredis.util.log import LOGGER

        LOGGER.configure(engine.config["loglevel"], value)


def _clamp_hz(args: list[str]) -> int:
    from specredis.engine.config import string2ll

    value = string2ll(args[0]) if len(args) == 1 else None
    if value is None:
        raise ConfigError("argument couldn't be parsed into an integer")
    if value < 0 or value > INT_MAX:
        raise ConfigError(f"argument must be between 0 and {INT_MAX} inclusive")
    # Redis keeps hz within 1..500 and reports the clamped value.
    return max(1, min(500, value))


def _parse_activedefrag(args: list[str]) -> bool:
    # Checked when the value is set (config file or CONFIG SET): there is no defragmenter here,
    # as in a Redis built without its own Jemalloc.
    if len(args) != 1:
        raise ConfigError("wrong number of arguments")
    if parse_yes_no(args[0]):
        raise ConfigError("Active defragmentation cannot be enabled: it requires a Redis server compiled with a "
                          "modified Jemalloc like the one shipped by default with the Redis source distribution")
    return False


def _refuse_tls(engine: Any, value: Any) -> None:
    # There is no TLS support: enabling it fails as Redis does when TLS cannot be configured.
    if value:
        raise ConfigError("Unable to update TLS configuration. Check server logs.")


# -----------------------------------------------------------------------------------------
# The parameter table
# -----------------------------------------------------------------------------------------

def _b(name: str, default: bool, *flags: str, aliases: tuple[str, ...] = (), apply: Any = None) -> ConfigParam:
    return ConfigParam(name, "bool", default, aliases=aliases, flags=frozenset(flags), apply=apply)


def _i(name: str, default: int, low: int, high: int, *flags: str, aliases: tuple[str, ...] = (),
       kind: str = "int", apply: Any = None) -> ConfigParam:
    return ConfigParam(name, kind, default, aliases=aliases, flags=frozenset(flags), minimum=low, maximum=high,
                       apply=apply)


def _m(name: str, default: int, low: int, high: int, *flags: str, aliases: tuple[str, ...] = ()) -> ConfigParam:
    return _i(name, default, low, high, *flags, aliases=aliases, kind="memory")


def _e(name: str, default: str, choices: tuple[str, ...], *flags: str, values: dict | None = None,
       aliases: tuple[str, ...] = ()) -> ConfigParam:
    return ConfigParam(name, "enum", default, aliases=aliases, flags=frozenset(flags), choices=choices,
                       choice_values=values)


def _s(name: str, default: str, *flags: str, nullable: bool = False, parse: Any = None,
       aliases: tuple[str, ...] = (), apply: Any = None) -> ConfigParam:
    return ConfigParam(name, "string", default, aliases=aliases, flags=frozenset(flags), nullable=nullable,
                       parse=parse, apply=apply)


_YES_NO_LOCAL = ("no", "yes", "local")
_SHUTDOWN_CHOICES = ("default", "save", "nosave", "now", "force")
_SHUTDOWN_VALUES = {"default": 0, "save": SHUTDOWN_SAVE, "nosave": SHUTDOWN_NOSAVE, "now": SHUTDOWN_NOW,
                    "force": SHUTDOWN_FORCE}


def _shutdown_param(name: str) -> ConfigParam:
    return ConfigParam(name, "enum", 0, choices=_SHUTDOWN_CHOICES, choice_values=dict(_SHUTDOWN_VALUES),
                       multi_arg=True, extra={"flags": True, "check": _check_shutdown_flags})


def redis_params() -> list[ConfigParam]:
    """Every parameter of Redis 7.0.15 (standardConfig table), at its default."""
    return [
        # -- general / networking ----------------------------------------------------------
        ConfigParam("bind", "special", "* -::*", multi_arg=True, parse=_parse_bind, rewrite=_rewrite_bind,
                    apply=_apply_listeners),
        _s("bind-source-addr", "", nullable=True),
        _i("port", 6379, 0, 65535, apply=_apply_listeners),
        _i("tcp-backlog", 511, 0, INT_MAX, IMMUTABLE),
        _s("unixsocket", "", IMMUTABLE, nullable=True),
        _i("unixsocketperm", 0, 0, 0o777, IMMUTABLE, kind="octal"),
        _i("socket-mark-id", 0, 0, UINT_MAX, IMMUTABLE),
        _i("timeout", 0, 0, INT_MAX),
        _i("tcp-keepalive", 300, 0, INT_MAX),
        _b("protected-mode", True),
        _e("enable-protected-configs", "no", _YES_NO_LOCAL, IMMUTABLE),
        _e("enable-debug-command", "no", _YES_NO_LOCAL, IMMUTABLE),
        _e("enable-module-command", "no", _YES_NO_LOCAL, IMMUTABLE),
        _i("maxclients", 10000, 1, UINT_MAX),
        _i("io-threads", 1, 1, 128, IMMUTABLE),
        _b("io-threads-do-reads", False, IMMUTABLE),
        _m("client-query-buffer-limit", GB, MB, LONG_MAX),
        _m("proto-max-bulk-len", 512 * MB, MB, LONG_MAX),
        ConfigParam("client-output-buffer-limit", "special", dict(DEFAULT_OUTPUT_LIMITS), multi_arg=True,
                    parse=_parse_output_limits, format=_format_output_limits, rewrite=_rewrite_output_limits,
                    extra={"combine": _combine_output_limits}),
        ConfigParam("hz", "int", 10, minimum=0, maximum=INT_MAX, parse=_clamp_hz),
        _b("dynamic-hz", True),
        # -- process ----------------------------------------------------------------------
        _b("daemonize", False, IMMUTABLE),
        _e("supervised", "no", ("upstart", "systemd", "auto", "no"), IMMUTABLE),
        _s("pidfile", "", IMMUTABLE, nullable=True),
        ConfigParam("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning"),
                    apply=_apply_loglevel),
        _s("logfile", "", IMMUTABLE, apply=_apply_logfile),
        _b("syslog-enabled", False, IMMUTABLE),
        _s("syslog-ident", "redis", IMMUTABLE),
        _e("syslog-facility", "local0", ("user", "local0", "local1", "local2", "local3", "local4", "local5",
                                         "local6", "local7"), IMMUTABLE),
        _b("crash-log-enabled", True),
        _b("crash-memcheck-enabled", True),
        _b("use-exit-on-panic", False, HIDDEN),
        _b("always-show-logo", False, IMMUTABLE),
        _b("set-proc-title", True, IMMUTABLE),
        _s("proc-title-template", "{title} {listen-addr} {server-mode}", parse=_parse_proc_title),
        _i("databases", 16, 1, INT_MAX, IMMUTABLE),
        _b("disable-thp", True, IMMUTABLE),
        _s("ignore-warnings", ""),
        _s("server_cpulist", "", IMMUTABLE, nullable=True),
        _s("bio_cpulist", "", IMMUTABLE, nullable=True),
        _s("aof_rewrite_cpulist", "", IMMUTABLE, nullable=True),
        _s("bgsave_cpulist", "", IMMUTABLE, nullable=True),
        _b("jemalloc-bg-thread", True),
        _e("oom-score-adj", "no", ("no", "yes", "relative", "absolute"),
           values={"no": "no", "yes": "yes", "relative": "yes", "absolute": "absolute"}),
        ConfigParam("oom-score-adj-values", "special", (0, 200, 800), multi_arg=True, parse=_parse_oom_values,
                    format=lambda v: " ".join(str(x) for x in v)),
        _shutdown_param("shutdown-on-sigint"),
        _shutdown_param("shutdown-on-sigterm"),
        _i("shutdown-timeout", 10, 0, INT_MAX),
        _i("watchdog-period", 0, 0, INT_MAX, HIDDEN),
        # -- snapshotting -----------------------------------------------------------------
        ConfigParam("save", "special", [(3600, 1), (300, 100), (60, 10000)], multi_arg=True, parse=_parse_save,
                    format=_format_save, rewrite=_rewrite_save, extra={"combine": _combine_save}),
        _b("stop-writes-on-bgsave-error", True),
        _b("rdbcompression", True),
        _b("rdbchecksum", True, IMMUTABLE),
        _s("dbfilename", "dump.rdb", PROTECTED, DENY_LOADING, parse=_parse_dbfilename),
        _b("rdb-del-sync-files", False),
        ConfigParam("dir", "special", "", flags=frozenset({PROTECTED, DENY_LOADING}), parse=_parse_dir,
                    format=_format_dir, rewrite=_rewrite_dir, apply=_apply_dir),
        _b("rdb-save-incremental-fsync", True),
        _i("rdb-key-save-delay", 0, INT_MIN, INT_MAX, HIDDEN),
        _i("key-load-delay", 0, INT_MIN, INT_MAX, HIDDEN),
        _i("loading-process-events-interval-bytes", 2 * MB, 1024, INT_MAX, HIDDEN),
        _e("sanitize-dump-payload", "no", ("no", "yes", "clients")),
        # -- replication ------------------------------------------------------------------
        ConfigParam("replicaof", "special", None, aliases=("slaveof",), flags=frozenset({IMMUTABLE}),
                    multi_arg=True, parse=_parse_replicaof, format=_format_replicaof, rewrite=_rewrite_replicaof),
        _s("masterauth", "", SENSITIVE, nullable=True),
        _s("masteruser", "", SENSITIVE, nullable=True),
        _b("replica-serve-stale-data", True, aliases=("slave-serve-stale-data",)),
        _b("replica-read-only", True, aliases=("slave-read-only",)),
        _b("replica-ignore-disk-write-errors", False),
        _b("repl-diskless-sync", True),
        _i("repl-diskless-sync-delay", 5, 0, INT_MAX),
        _i("repl-diskless-sync-max-replicas", 0, 0, INT_MAX),
        _e("repl-diskless-load", "disabled", ("disabled", "on-empty-db", "swapdb")),
        _i("repl-ping-replica-period", 10, 1, INT_MAX, aliases=("repl-ping-slave-period",)),
        _i("repl-timeout", 60, 1, INT_MAX),
        _b("repl-disable-tcp-nodelay", False),
        _m("repl-backlog-size", MB, 1, LLONG_MAX),
        _i("repl-backlog-ttl", 3600, 0, LONG_MAX),
        _i("replica-priority", 100, 0, INT_MAX, aliases=("slave-priority",)),
        _b("replica-announced", True),
        _s("replica-announce-ip", "", nullable=True, aliases=("slave-announce-ip",)),
        _i("replica-announce-port", 0, 0, 65535, aliases=("slave-announce-port",)),
        _i("min-replicas-to-write", 0, 0, INT_MAX, aliases=("min-slaves-to-write",)),
        _i("min-replicas-max-lag", 10, 0, INT_MAX, aliases=("min-slaves-max-lag",)),
        _b("replica-lazy-flush", False, aliases=("slave-lazy-flush",)),
        _b("replica-ignore-maxmemory", True, aliases=("slave-ignore-maxmemory",)),
        _e("propagation-error-behavior", "ignore", ("ignore", "panic", "panic-on-replicas")),
        # -- security ---------------------------------------------------------------------
        _s("requirepass", "", SENSITIVE, nullable=True),
        _s("aclfile", "", IMMUTABLE),
        _i("acllog-max-len", 128, 0, LONG_MAX),
        _e("acl-pubsub-default", "resetchannels", ("allchannels", "resetchannels")),
        # -- memory management ------------------------------------------------------------
        ConfigParam("maxmemory", "memory", 0, minimum=0, maximum=ULLONG_MAX),
        _e("maxmemory-policy", "noeviction", ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                              "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")),
        _i("maxmemory-samples", 5, 1, INT_MAX),
        _i("maxmemory-eviction-tenacity", 10, 0, 100),
        ConfigParam("maxmemory-clients", "percent", 0, minimum=-100, maximum=LLONG_MAX),
        _i("lfu-log-factor", 10, 0, INT_MAX),
        _i("lfu-decay-time", 1, 0, INT_MAX),
        _b("lazyfree-lazy-eviction", False),
        _b("lazyfree-lazy-expire", False),
        _b("lazyfree-lazy-server-del", False),
        _b("lazyfree-lazy-user-del", False),
        _b("lazyfree-lazy-user-flush", False),
        ConfigParam("activedefrag", "bool", False, parse=_parse_activedefrag),
        _m("active-defrag-ignore-bytes", 100 * MB, 1, LLONG_MAX),
        _i("active-defrag-threshold-lower", 10, 0, 1000),
        _i("active-defrag-threshold-upper", 100, 0, 1000),
        _i("active-defrag-cycle-min", 1, 1, 99),
        _i("active-defrag-cycle-max", 25, 1, 99),
        _i("active-defrag-max-scan-fields", 1000, 1, LONG_MAX),
        _b("activerehashing", True),
        _i("active-expire-effort", 1, 1, 10),
        # -- append only file -------------------------------------------------------------
        _b("appendonly", False, DENY_LOADING),
        _s("appendfilename", "appendonly.aof", IMMUTABLE, parse=_aof_name_parser("appendfilename", "filename")),
        _s("appenddirname", "appendonlydir", IMMUTABLE, parse=_aof_name_parser("appenddirname", "dirname")),
        _e("appendfsync", "everysec", ("everysec", "always", "no")),
        _b("no-appendfsync-on-rewrite", False),
        _i("auto-aof-rewrite-percentage", 100, 0, INT_MAX),
        _m("auto-aof-rewrite-min-size", 64 * MB, 0, LLONG_MAX),
        _b("aof-load-truncated", True),
        _b("aof-use-rdb-preamble", True),
        _b("aof-timestamp-enabled", False),
        _b("aof-rewrite-incremental-fsync", True),
        _b("aof-disable-auto-gc", False),
        # -- scripting, slow log, latency, events -----------------------------------------
        _i("busy-reply-threshold", 5000, 0, LONG_MAX, aliases=("lua-time-limit",)),
        _i("slowlog-log-slower-than", 10000, -1, LLONG_MAX),
        _i("slowlog-max-len", 128, 0, LONG_MAX),
        _i("latency-monitor-threshold", 0, 0, LLONG_MAX),
        _b("latency-tracking", True),
        ConfigParam("latency-tracking-info-percentiles", "special", (50.0, 99.0, 99.9), multi_arg=True,
                    parse=_parse_percentiles, format=_format_percentiles, rewrite=_rewrite_percentiles),
        ConfigParam("notify-keyspace-events", "special", 0, parse=lambda args: parse_notify_flags(args[0]),
                    format=format_notify_flags, rewrite=_rewrite_notify, apply=_apply_notify),
        _i("tracking-table-max-keys", 1000000, 0, LONG_MAX),
        # -- encodings --------------------------------------------------------------------
        _i("hash-max-listpack-entries", 512, 0, LONG_MAX, aliases=("hash-max-ziplist-entries",)),
        _m("hash-max-listpack-value", 64, 0, LONG_MAX, aliases=("hash-max-ziplist-value",)),
        _i("list-max-listpack-size", -2, INT_MIN, INT_MAX, aliases=("list-max-ziplist-size",)),
        _i("list-compress-depth", 0, 0, INT_MAX),
        _i("set-max-intset-entries", 512, 0, LONG_MAX),
        _i("zset-max-listpack-entries", 128, 0, LONG_MAX, aliases=("zset-max-ziplist-entries",)),
        _m("zset-max-listpack-value", 64, 0, LONG_MAX, aliases=("zset-max-ziplist-value",)),
        _m("hll-sparse-max-bytes", 3000, 0, LONG_MAX),
        _m("stream-node-max-bytes", 4096, 0, LONG_MAX),
        _i("stream-node-max-entries", 100, 0, LLONG_MAX),
        # -- cluster ----------------------------------------------------------------------
        _b("cluster-enabled", False, IMMUTABLE),
        _s("cluster-config-file", "nodes.conf", IMMUTABLE),
        _i("cluster-node-timeout", 15000, 0, LLONG_MAX),
        _i("cluster-port", 0, 0, 65535, IMMUTABLE),
        _i("cluster-replica-validity-factor", 10, 0, INT_MAX, aliases=("cluster-slave-validity-factor",)),
        _i("cluster-migration-barrier", 1, 0, INT_MAX),
        _b("cluster-allow-replica-migration", True),
        _b("cluster-require-full-coverage", True),
        _b("cluster-replica-no-failover", False, aliases=("cluster-slave-no-failover",)),
        _b("cluster-allow-reads-when-down", False),
        _b("cluster-allow-pubsubshard-when-down", True),
        _s("cluster-announce-ip", "", nullable=True),
        _s("cluster-announce-hostname", "", nullable=True),
        _i("cluster-announce-port", 0, 0, 65535),
        _i("cluster-announce-bus-port", 0, 0, 65535),
        _i("cluster-announce-tls-port", 0, 0, 65535),
        _e("cluster-preferred-endpoint-type", "ip", ("ip", "hostname", "unknown-endpoint")),
        ConfigParam("cluster-link-sendbuf-limit", "memory", 0, minimum=0, maximum=ULLONG_MAX),
        # -- TLS ----------------------------------------------------------------------------
        _i("tls-port", 0, 0, 65535, apply=_refuse_tls),
        _b("tls-cluster", False, apply=_refuse_tls),
        _b("tls-replication", False, apply=_refuse_tls),
        _e("tls-auth-clients", "yes", ("no", "yes", "optional")),
        _b("tls-prefer-server-ciphers", False),
        _b("tls-session-caching", True),
        _i("tls-session-cache-size", 20 * 1024, 0, INT_MAX),
        _i("tls-session-cache-timeout", 300, 0, INT_MAX),
        _s("tls-cert-file", "", nullable=True),
        _s("tls-key-file", "", nullable=True),
        _s("tls-key-file-pass", "", nullable=True),          # not redacted in 7.0.15
        _s("tls-client-cert-file", "", nullable=True),
        _s("tls-client-key-file", "", nullable=True),
        _s("tls-client-key-file-pass", "", nullable=True),          # not redacted in 7.0.15
        _s("tls-dh-params-file", "", nullable=True),
        _s("tls-ca-cert-file", "", nullable=True),
        _s("tls-ca-cert-dir", "", nullable=True),
        _s("tls-protocols", "", nullable=True),
        _s("tls-ciphers", "", nullable=True),
        _s("tls-ciphersuites", "", nullable=True),
    ]


# Providers of parameter lists, in declaration order; later declarations of a name replace
# earlier ones. Feature modules may append their own providers at import time.
PARAM_PROVIDERS: list[Callable[[], list[ConfigParam]]] = [redis_params]


def default_config() -> Config:
    """A Config holding every declared parameter at its default, with the feature modules' hooks."""
    from specredis.engine.features import load_parameter_providers

    load_parameter_providers()
    params: list[ConfigParam] = []
    for provider in PARAM_PROVIDERS:
        params.extend(provider())
    for param in params:
        hooks = _APPLY_HOOKS.get(param.name)
        if hooks:
            param.apply = _chain(param.apply, hooks)
    config = Config(params)
    config.extra_directives.update({
        "rename-command": _directive_rename_command,
        "user": _directive_record("user", 1),
        "loadmodule": _directive_record("loadmodule", 1),
        "sentinel": _directive_sentinel,
    })
    return config


# -----------------------------------------------------------------------------------------
# Config-file directives that are not parameters
# -----------------------------------------------------------------------------------------

BAD_DIRECTIVE = "Bad directive or wrong number of arguments"


def _directive_rename_command(config: Config, args: list[str]) -> None:
    """``rename-command name new-name`` ("" removes the command). The renames, original name ->
    new name, are kept in ``config.extra_state["rename-command"]``; the engine applies them."""
    if len(args) != 2:
        raise ConfigError(BAD_DIRECTIVE)
    from specredis.generated.command_table import COMMAND_DEFS

    renames: dict[str, str] = config.extra_state.setdefault("rename-command", {})
    current = {renames.get(d.fullname, d.fullname): d.fullname for d in COMMAND_DEFS if d.container is None}
    current.pop("", None)
    old, new = args[0].lower(), args[1].lower()
    original = current.pop(old, None)
    if original is None:
        raise ConfigError("No such command in rename-command")
    if new and new in current:
        raise ConfigError("Target command name already exists")
    renames[original] = new


def _directive_record(key: str, min_args: int) -> Callable[[Config, list[str]], None]:
    """A directive whose lines are kept for the feature that owns it (``user`` for ACL, ``loadmodule``)."""
    def record(config: Config, args: list[str]) -> None:
        if len(args) < min_args:
            raise ConfigError(BAD_DIRECTIVE)
        config.extra_state.setdefault(key, []).append(args)
    return record


def _directive_sentinel(config: Config, args: list[str]) -> None:
    # A bare 'sentinel' line is how Redis is told to run as Sentinel; it takes effect before the
    # file is read, so here it is ignored. Sentinel configuration needs Sentinel mode.
    if args:
        raise ConfigError("sentinel directive while not in sentinel mode")


def _chain(first: Callable | None, hooks: list[Callable]) -> Callable[[Any, Any], None]:
    chain = ([first] if first is not None else []) + list(hooks)

    def apply(engine: Any, value: Any) -> None:
        for hook in chain:
            hook(engine, value)
    return apply
