"""Shared fixtures: a specredis-server and the reference redis-server, each on a free port."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from servers import ServerProcess, start_reference, start_specredis  # noqa: E402


@pytest.fixture(scope="module")
def specredis() -> ServerProcess:
    """A specredis-server for the test module (DEBUG enabled, as the reference below)."""
    server = start_specredis("--enable-debug-command", "yes")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def reference() -> ServerProcess:
    """The reference redis-server for the test module; skipped (failed under CI) if missing."""
    server = start_reference("--enable-debug-command", "yes")
    yield server
    server.stop()


@pytest.fixture
def r(specredis: ServerProcess):
    """A redis-py client on a flushed specredis."""
    client = specredis.redis()
    client.flushall()
    yield client
    client.close()
