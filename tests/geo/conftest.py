"""Fixtures: ``pair`` (specredis and the reference side by side, RESP2 and RESP3)."""

from zsets.differential import pair  # noqa: F401 - the fixture
