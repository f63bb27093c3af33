"""Fixtures: ``pair`` (specredis and the reference side by side, RESP2 and RESP3) and
``protocol`` for the multi-client scenarios."""

from blocking.scenes import protocol  # noqa: F401 - the fixture
from streams.differential import pair  # noqa: F401 - the fixture
