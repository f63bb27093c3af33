"""Functions (FUNCTION ...): the library registry; for now only FUNCTION FLUSH is served.

Client test suites start with FUNCTION FLUSH, so it answers as Redis does from the
start. The registry lives in ``engine.extensions["functions"]``; the scripting
work that adds FUNCTION LOAD/LIST/... and FCALL owns and extends it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specredis.engine.errors import RedisError, subcommand_syntax_error
from specredis.protocol.replies import OK

if TYPE_CHECKING:
    from specredis.engine.client import Client
    from specredis.engine.core import Engine


class FunctionRegistry:
    """Loaded libraries by name, and the functions they export by name."""

    def __init__(self) -> None:
        self.libraries: dict[bytes, Any] = {}
        self.functions: dict[bytes, Any] = {}

    def clear(self) -> None:
        self.libraries.clear()
        self.functions.clear()


def function_flush_command(client: Client, argv: list[bytes]) -> object:
    """FUNCTION FLUSH [ASYNC|SYNC]"""
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        raise RedisError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    engine = client.engine
    engine.extensions["functions"].clear()
    # Replicated and written to the AOF like any write (server.dirty++ in Redis).
    engine.dirty += 1
    return OK


def install(engine: Engine) -> None:
    """An empty function registry."""
    engine.extensions.setdefault("functions", FunctionRegistry())
