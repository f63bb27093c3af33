"""Shared by tests/scripting and tests/functions: ``both`` runs a command on specredis and the reference."""

from __future__ import annotations

import re
from typing import Any

import pytest

from specredis.protocol.client import RespClient

_ADDRESS = re.compile(r"0x[0-9a-f]+")


def normalized(reply: Any) -> str:
    """A reply's repr with Lua object addresses blanked (``table: 0x55...`` differs per process)."""
    return _ADDRESS.sub("0xADDR", repr(reply))


class Both:
    """The same protocol connection to specredis and to the reference."""

    def __init__(self, ours: RespClient, theirs: RespClient) -> None:
        self.ours = ours
        self.theirs = theirs

    def call(self, *args: Any) -> tuple[Any, Any]:
        return self.ours.call(*args), self.theirs.call(*args)

    def same(self, *args: Any) -> Any:
        """Send ``args`` to both servers; assert equal replies and return ours."""
        ours, theirs = self.call(*args)
        assert normalized(ours) == normalized(theirs), f"{args!r}: ours {ours!r} != reference {theirs!r}"
        return ours

    def reset(self) -> None:
        for conn in (self.ours, self.theirs):
            conn.call("FLUSHALL")
            conn.call("SCRIPT", "FLUSH")
            conn.call("FUNCTION", "FLUSH")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def both(request: Any, specredis: Any, reference: Any) -> Both:
    pair = Both(specredis.client(protocol=request.param), reference.client(protocol=request.param))
    pair.reset()
    yield pair
    pair.ours.close()
    pair.theirs.close()
