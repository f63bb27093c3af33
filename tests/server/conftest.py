"""Fixtures for the server tests: paired connections to specredis and the reference."""

from __future__ import annotations

from typing import Any

import pytest
from servers import ServerProcess


class Pair:
    """One connection to each server; :meth:`same` sends a command to both and checks the replies match."""

    def __init__(self, ours: ServerProcess, ref: ServerProcess, protocol: int = 2) -> None:
        self.ours = ours.client(protocol=protocol, timeout=10)
        self.ref = ref.client(protocol=protocol, timeout=10)

    def call(self, *args: Any) -> tuple[Any, Any]:
        return self.ours.call(*args), self.ref.call(*args)

    def same(self, *args: Any) -> Any:
        ours, ref = self.call(*args)
        assert ours == ref, f"{args!r}: specredis {ours!r} != reference {ref!r}"
        return ours

    def close(self) -> None:
        self.ours.close()
        self.ref.close()


@pytest.fixture
def pair(specredis: ServerProcess, reference: ServerProcess):
    """RESP2 connections to both servers."""
    connections = Pair(specredis, reference)
    yield connections
    connections.close()


@pytest.fixture
def pair3(specredis: ServerProcess, reference: ServerProcess):
    """RESP3 connections to both servers."""
    connections = Pair(specredis, reference, protocol=3)
    yield connections
    connections.close()

