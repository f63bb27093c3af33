"""Reading the startup configuration: ``specredis-server [/path/redis.conf] [--name value ...]``.

The same command line as ``redis-server``: an optional config file (``-`` reads
stdin), then ``--directive value...`` options, which are appended to the file's
text as extra lines, exactly as Redis does, so both are read by one parser.
A bad line stops startup with Redis's FATAL CONFIG FILE ERROR report.
"""

from __future__ import annotations

import os
import sys

from specredis.engine.config import Config, ConfigError
from specredis.engine.settings import default_config
from specredis.protocol.parser import split_args

VERSION = "7.0.15"


class StartupError(Exception):
    """A configuration error; ``str()`` is the whole report to print."""


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
    where = f" {source}" if source else ""
    return StartupError(
        f"\n*** FATAL CONFIG FILE ERROR (Redis {VERSION}) ***\n"
        f"Reading the configuration file{where}, at line {line_number}\n"
        f">>> '{line.strip()}'\n"
        f"{reason}\n")


def apply_config_text(config: Config, text: str, source: str = "", base_dir: str = ".",
                      depth: int = 0) -> None:
    """Apply redis.conf text to ``config`` (startup semantics: immutable parameters allowed)."""
    special = config.extra_directives
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        args = split_args(line.encode())
        if args is None:
            raise fatal(number, raw, "Unbalanced quotes in configuration line", source)
        if not args:
            continue
        words = [a.decode("utf-8", "surrogateescape") for a in args]
        name = words[0].lower()
        if name == "include" and len(words) == 2:
            path = words[1] if os.path.isabs(words[1]) else os.path.join(base_dir, words[1])
            if depth > 16:
                raise fatal(number, raw, "Too many nested includes", source)
            try:
                with open(path) as included:
                    apply_config_text(config, included.read(), path, os.path.dirname(path), depth + 1)
            except OSError as error:
                raise fatal(number, raw, f"Fatal error, can't open config file '{path}': {error.strerror}",
                            source) from None
            continue
        handler = special.get(name)
        if handler is not None:
            try:
                handler(config, words[1:])
            except ConfigError as error:
                raise fatal(number, raw, error.reason, source) from None
            continue
        param = config.lookup(name)
        if param is None:
            raise fatal(number, raw, "Bad directive or wrong number of arguments", source)
        values = words[1:]
        if not param.multi_arg and len(values) != 1:
            raise fatal(number, raw, "wrong number of arguments", source)
        try:
            config.set_from_text(None, name, " ".join(values) if param.multi_arg else values[0], startup=True)
        except ConfigError as error:
            raise fatal(number, raw, error.reason, source) from None


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
                with open(path) as handle:
                    text = handle.read()
            except OSError as error:
                raise StartupError(f"Fatal error, can't open config file '{config_file}': "
                                   f"{error.strerror}\n") from None
    if options and options[-1] == "-":
        options.pop()
        text += "\n" + sys.stdin.read()
    base_dir = os.path.dirname(config_file) if config_file else "."
    apply_config_text(config, text + options_to_config_text(options), config_file or "", base_dir)
    return config, config_file
