"""Reading the startup configuration: ``specredis-server [/path/redis.conf] [--name value ...]``.

The same command line as ``redis-server``: an optional config file (``-`` reads
stdin), then ``--directive value...`` options, which are appended to the file's
text as extra lines, exactly as Redis does, so both are read by one parser.

A bad line stops startup with Redis's FATAL CONFIG FILE ERROR report. Redis does
not say which file the line was in; this report does (``Reading the configuration
file /etc/redis/redis.conf, at line 12``), and keeps Redis's wording otherwise.
Lines that came from command-line options are reported as Redis reports them.

Besides parameters, a config file may hold the directives Redis accepts there:
``include`` (glob patterns allowed), ``rename-command``, ``user``, ``loadmodule``,
module parameters (``name.param value``), ``sentinel`` and the three deprecated
directives Redis ignores. Handlers registered in ``Config.extra_directives`` take
precedence, so a feature module can take one over (the ACL module for ``user``).
"""

from __future__ import annotations

import glob
import os
import sys
import time
from dataclasses import dataclass

from specredis.engine.config import Config, ConfigError
from specredis.engine.settings import default_config
from specredis.protocol.parser import ProtocolError, split_args

VERSION = "7.0.15"

# Directives Redis 7.0 still accepts and ignores (deprecated_configs), with their argument counts.
DEPRECATED_DIRECTIVES = {"list-max-ziplist-entries": 2, "list-max-ziplist-value": 2, "lua-replicate-commands": 2}


class StartupError(Exception):
    """A configuration error; ``str()`` is the whole report to print.

    With ``config``, a failure Redis finds once the configuration is read and reports as
    ``warnings`` in its log (the configured ``logfile``, else stdout) instead of stderr."""

    def __init__(self, report: str, warnings: list[str] | None = None, config: Config | None = None) -> None:
        super().__init__(report)
        self.warnings = warnings or []
        self.config = config


def _logged_failure(config: Config, warnings: list[str]) -> StartupError:
    """A startup failure Redis writes to its log: the report holds the same lines, formatted."""
    return StartupError("".join(_log_line(message) for message in warnings), warnings, config)


@dataclass
class _Source:
    """Where config text came from: a file name ("" for stdin/none) and how many of its lines are the file's."""

    path: str
    file_lines: int


def _quote(arg: str) -> str:
    # Redis quotes option values with sdscatrepr when it turns --options into config lines.
    out = []
    for ch in arg:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def options_to_config_text(options: list[str]) -> str:
    """``--port 7000 --save 900 1`` -> the config lines Redis appends (one per option)."""
    lines: list[str] = []
    current: list[str] | None = None
    for arg in options:
        if arg.startswith("--") and len(arg) > 2:
            if current is not None:
                lines.append(" ".join(current))
            current = [arg[2:]]
        elif current is None:
            raise StartupError(f"Invalid option '{arg}'\n")
        else:
            current.append(_quote(arg))
    if current is not None:
        lines.append(" ".join(current))
    return "\n" + "\n".join(lines) + ("\n" if lines else "")


def fatal(line_number: int, line: str, reason: str, source: str) -> StartupError:
    """Redis's FATAL CONFIG FILE ERROR report, naming ``source`` (the file) when there is one."""
    where = f" {source}" if source else ""
    shown = line.strip(" \t\r\n")
    return StartupError(
        f"\n*** FATAL CONFIG FILE ERROR (Redis {VERSION}) ***\n"
        f"Reading the configuration file{where}, at line {line_number}\n"
        f">>> '{shown}'\n"
        f"{reason}\n")


def _open_error(path: str, error: OSError) -> StartupError:
    return StartupError(f"Fatal error, can't open config file '{path}': {error.strerror}\n")


def _include(config: Config, pattern: str, depth: int) -> None:
    """``include path``: a file, or every file a glob pattern matches (none is fine), relative to the cwd."""
    if depth > 16:
        raise StartupError(f"Fatal error, too many nested includes at '{pattern}'\n")
    if any(c in pattern for c in "*?["):
        paths = sorted(glob.glob(pattern))
    else:
        paths = [pattern]
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                text = handle.read()
        except OSError as error:
            raise _open_error(path, error) from None
        apply_config_text(config, text, _Source(os.path.abspath(path), text.count("\n") + 1), depth + 1)


def apply_config_text(config: Config, text: str, source: _Source | str = "", depth: int = 0) -> None:
    """Apply redis.conf text to ``config`` (startup semantics: immutable parameters allowed)."""
    if isinstance(source, str):
        source = _Source(source, text.count("\n") + 1)
    special = config.extra_directives
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(" \t\r\n")
        if not line or line.startswith("#"):
            continue
        where = source.path if number <= source.file_lines else ""
        try:
            args = split_args(line.encode("utf-8", "surrogateescape"))
        except ProtocolError:
            raise fatal(number, raw, "Unbalanced quotes in configuration line", where) from None
        if not args:
            continue
        words = [a.decode("utf-8", "surrogateescape") for a in args]
        name = words[0].lower()
        try:
            handler = special.get(name)
            if handler is not None:
                handler(config, words[1:])
                continue
            if config.lookup(name) is not None:
                config.set_at_startup(name, words[1:])
                continue
            if DEPRECATED_DIRECTIVES.get(name) == len(words):
                continue
            if name == "include" and len(words) == 2:
                _include(config, words[1], depth)
            elif "." in name:
                if len(words) < 2:
                    raise ConfigError("Module config specified without value")
                config.extra_state.setdefault("module-config", []).append(words)
            else:
                raise ConfigError("Bad directive or wrong number of arguments")
        except ConfigError as error:
            raise fatal(number, raw, error.reason, where) from None


def _log_line(message: str) -> str:
    # A warning in Redis's log format: the server has not started logging yet.
    now = time.time()
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
    return f"{os.getpid()}:M {stamp} # {message}\n"


def check_modules(config: Config) -> None:
    """Fail startup as Redis does when modules or module parameters are configured: there are no modules."""
    for args in config.extra_state.get("loadmodule", []):
        path = args[0]
        # The same attempt as MODULE LOAD (engine/modules.py), so the log says what Redis's does.
        from specredis.engine.modules import load_failure
        raise _logged_failure(config, [*load_failure(path), f"Can't load module from {path}: server aborting"])
    if config.extra_state.get("module-config"):
        raise _logged_failure(
            config, ["Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting"])


def check_tls(config: Config) -> None:
    """TLS cannot be set up (there is no TLS support): fail startup as Redis does without certificates."""
    if config["tls-port"] or config["tls-replication"] or config["tls-cluster"]:
        lines = "" if config["tls-cert-file"] else _log_line("No tls-cert-file configured!")
        raise StartupError(lines + _log_line("Failed to configure TLS. Check logs for more info."))


def load_startup_config(argv: list[str]) -> tuple[Config, str | None]:
    """Build the startup Config from ``argv``; returns (config, absolute config file path or None)."""
    if argv and argv[0] in ("-v", "--version"):
        sys.stdout.write(f"Redis server v={VERSION} sha=00000000:0 malloc=libc bits=64 build=specredis\n")
        raise SystemExit(0)
    if argv and argv[0] in ("-h", "--help"):
        sys.stdout.write("Usage: specredis-server [/path/to/redis.conf] [options] [-]\n"
                         "       specredis-server - (read config from stdin)\n"
                         "       specredis-server -v or --version\n"
                         "       specredis-server -h or --help\n\n"
                         "Examples:\n"
                         "       specredis-server (run the server with default config)\n"
                         "       specredis-server /etc/redis/6379.conf\n"
                         "       specredis-server --port 7777\n"
                         "       specredis-server /etc/myredis.conf --loglevel verbose\n")
        raise SystemExit(0)
    config = default_config()
    config_file: str | None = None
    text = ""
    options = list(argv)
    if options and not options[0].startswith("--"):
        path = options.pop(0)
        if path == "-":
            text = sys.stdin.read()
        else:
            config_file = os.path.abspath(path)
            try:
                with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                    text = handle.read()
            except OSError as error:
                raise StartupError(f"Fatal error, can't open config file '{config_file}': "
                                   f"{error.strerror}\n") from None
    file_lines = text.count("\n") + 1 if config_file else 0
    if options and options[-1] == "-":
        options.pop()
        text += "\n" + sys.stdin.read()
    apply_config_text(config, text + options_to_config_text(options), _Source(config_file or "", file_lines))
    check_modules(config)
    check_tls(config)
    return config, config_file
