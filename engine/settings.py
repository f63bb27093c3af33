"""The declared configuration parameters (names, kinds, defaults as in Redis 7.0.15).

Feature modules declare their own parameters here, so CONFIG GET '*' lists
every parameter the server implements. Values apply to the running engine
through each parameter's ``apply`` hook.
"""

from __future__ import annotations

from typing import Any

from specredis.engine.config import Config, ConfigParam

GB = 1024**3
MB = 1024**2


def _set_attr(attr: str):
    def apply(engine: Any, value: Any) -> None:
        setattr(engine, attr, value)
    return apply


def core_params() -> list[ConfigParam]:
    """Parameters of the server core (networking, limits, databases, logging)."""
    return [
        ConfigParam("port", "int", 6379, minimum=0, maximum=65535),
        ConfigParam("bind", "string", "* -::*"),
        ConfigParam("databases", "int", 16, immutable=True, minimum=1, maximum=2**31 - 1),
        ConfigParam("hz", "int", 10, minimum=0, maximum=2**31 - 1),
        ConfigParam("timeout", "int", 0, minimum=0, maximum=2**31 - 1),
        ConfigParam("tcp-keepalive", "int", 300, minimum=0, maximum=2**31 - 1),
        ConfigParam("tcp-backlog", "int", 511, immutable=True, minimum=0, maximum=2**31 - 1),
        ConfigParam("maxclients", "int", 10000, minimum=1, maximum=2**31 - 1),
        ConfigParam("protected-mode", "bool", True),
        ConfigParam("requirepass", "string", "", sensitive=True),
        ConfigParam("daemonize", "bool", False, immutable=True),
        ConfigParam("pidfile", "string", "", immutable=True),
        ConfigParam("logfile", "string", "", immutable=True),
        ConfigParam("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning")),
        ConfigParam("dir", "string", "."),
        ConfigParam("dbfilename", "string", "dump.rdb"),
        ConfigParam("enable-debug-command", "enum", "no", choices=("no", "yes", "local"), immutable=True),
        ConfigParam("enable-module-command", "enum", "no", choices=("no", "yes", "local"), immutable=True),
        ConfigParam("proto-max-bulk-len", "memory", 512 * MB, minimum=1024 * 1024, maximum=2**63 - 1),
        ConfigParam("client-query-buffer-limit", "memory", GB, minimum=1024 * 1024, maximum=2**63 - 1),
        ConfigParam("lazyfree-lazy-expire", "bool", False),
        ConfigParam("lazyfree-lazy-server-del", "bool", False),
        ConfigParam("lazyfree-lazy-user-del", "bool", False),
        ConfigParam("lazyfree-lazy-user-flush", "bool", False),
        ConfigParam("lazyfree-lazy-eviction", "bool", False),
    ]


# Feature modules append their parameter lists here at import time.
PARAM_PROVIDERS: list = [core_params]


def default_config() -> Config:
    """A Config holding every declared parameter at its default."""
    from specredis.engine.features import load_parameter_providers

    load_parameter_providers()
    params: list[ConfigParam] = []
    for provider in PARAM_PROVIDERS:
        params.extend(provider())
    return Config(params)
