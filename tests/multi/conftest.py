"""Fixtures: ``pair`` and ``protocol`` for the transaction tests."""

from blocking.scenes import protocol  # noqa: F401 - the fixture
from lists.differential import pair  # noqa: F401 - the fixture
