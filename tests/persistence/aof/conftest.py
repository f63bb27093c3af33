"""AOF tests: ``aof_helpers``, ``zygote`` and ``rdb_dataset`` (the RDB tests' dataset of every
type and encoding) are importable from the test modules; ``zygote`` is a fixture too."""

from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "rdb"))

from zygote import Zygote  # noqa: E402


@pytest.fixture(scope="module")
def zygote():
    """A warm process forking specredis servers (see zygote.py)."""
    warm = Zygote()
    yield warm
    warm.close()
