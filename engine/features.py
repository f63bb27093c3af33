"""The feature modules that plug hooks into an engine at startup.

Each module listed here has ``install(engine)``: it registers its hooks
(cron jobs, gates, keyspace-modified listeners, client-closed cleanup) and its
per-engine state under ``engine.extensions``. Modules that declare configuration
parameters register them in ``specredis.engine.settings.PARAM_PROVIDERS`` when
imported; :func:`load_parameter_providers` imports them before the Config is built.
"""

from __future__ import annotations

import importlib
from typing import Any

FEATURE_MODULES: tuple[str, ...] = (
    "specredis.engine.clients",
    "specredis.engine.monitor",
    "specredis.engine.serverops",
    "specredis.engine.slowlog",
    "specredis.engine.latency",
    "specredis.engine.debug",
    "specredis.engine.scripting",
    "specredis.engine.ldb",
    "specredis.engine.functions",
    "specredis.engine.blocking",
    "specredis.engine.multi",
    "specredis.engine.info",
    "specredis.engine.memory",
    "specredis.engine.eviction",
    "specredis.engine.configcmd",
    "specredis.engine.expire",
    "specredis.engine.generic",
    "specredis.engine.persistence.snapshot",
    "specredis.engine.persistence.aof",
    "specredis.engine.pubsub",
    "specredis.engine.notify",
    "specredis.engine.tracking",
)


def load_parameter_providers() -> None:
    """Import every feature module so its parameters are declared."""
    for name in FEATURE_MODULES:
        importlib.import_module(name)


def install(engine: Any) -> None:
    """Install every feature module into ``engine``."""
    for name in FEATURE_MODULES:
        module = importlib.import_module(name)
        install_fn = getattr(module, "install", None)
        if install_fn is not None:
            install_fn(engine)
