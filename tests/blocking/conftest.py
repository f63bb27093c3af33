"""Fixtures: ``protocol`` (RESP2 and RESP3) for the multi-client scenarios."""

from blocking.scenes import protocol  # noqa: F401 - the fixture
