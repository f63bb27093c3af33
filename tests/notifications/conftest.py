"""Fixtures: ``lockstep`` (connections to both servers driven together) and ``protocol``."""

from pubsub.wire import lockstep, protocol  # noqa: F401 - the fixtures
