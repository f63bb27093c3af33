"""Write effects of the GEO commands: what a replica receives and which keyspace events fire.

GEOADD reaches replicas as the ZADD it runs (scores as integers) and fires ``zadd``;
the STORE forms propagate verbatim and fire ``georadiusstore``/``geosearchstore`` (or
``del`` for an empty result); the readers propagate nothing. The reference's effects
are observed from a replica's MONITOR feed and a keyevent subscription; specredis's
in-process, with the helpers of the sorted-set effect tests.
"""

from __future__ import annotations

import pytest
from zsets.test_effects import (  # noqa: F401 - replicated is a fixture
    reference_events,
    reference_propagation,
    replicated,
    specredis_effects,
)

from specredis.engine.core import Engine

SEQUENCE: list[list[str]] = [
    ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
    ["GEOADD", "g", "13.361389", "38.115556", "Palermo"],            # no change: nothing propagated
    ["GEOADD", "g", "CH", "XX", "13.5", "38.1", "Palermo", "1", "1", "absent"],
    ["GEOADD", "g", "nx", "1", "1", "new"], ["GEOADD", "g", "180", "85.05112878", "corner"],
    ["GEOPOS", "g", "Palermo"], ["GEODIST", "g", "Palermo", "Catania"], ["GEOHASH", "g", "new"],
    ["GEORADIUS", "g", "15", "37", "200", "km"], ["GEORADIUS_RO", "g", "15", "37", "200", "km"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d1"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "d2", "COUNT", "1"],
    ["GEORADIUSBYMEMBER", "g", "Palermo", "1", "m", "STORE", "d1"],          # empty: deletes d1
    ["GEORADIUSBYMEMBER", "g", "Palermo", "1", "m", "STORE", "d1"],          # nothing to delete
    ["GEORADIUSBYMEMBER", "nokey", "x", "1", "m", "STORE", "d2"],            # missing source: deletes d2
    ["GEOSEARCHSTORE", "d3", "g", "FROMMEMBER", "Catania", "BYRADIUS", "300", "km", "STOREDIST"],
    ["GEOSEARCHSTORE", "d3", "g", "FROMLONLAT", "0", "0", "BYBOX", "1", "1", "km"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km"],
    ["GEOSEARCHSTORE", "g", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km"],
    ["SET", "after", "1"],
]


def test_propagation_matches_the_reference_replica(replicated) -> None:  # noqa: F811
    expected = reference_propagation(*replicated, SEQUENCE)
    actual, _ = specredis_effects(SEQUENCE)
    assert actual == expected


def test_keyspace_events_match_the_reference(replicated) -> None:  # noqa: F811
    expected = reference_events(replicated[0], SEQUENCE)
    _, actual = specredis_effects(SEQUENCE)
    assert actual == expected


@pytest.mark.parametrize("again", [["GEOADD", "g", "1", "1", "m"], ["GEOADD", "g", "XX", "2", "2", "nosuch"],
                                   ["GEOADD", "g", "NX", "5", "5", "m"]])
def test_an_unchanged_geoadd_leaves_no_rewrite_behind(again: list[str]) -> None:
    """The ZADD rewrite is only registered when GEOADD changed something: a rewrite left
    pending would be propagated in place of the next write."""
    engine = Engine()
    client = engine.new_client()
    propagated: list[list[bytes]] = []
    engine.propagation_consumers.append(lambda dbid, ops: propagated.extend(ops))
    engine.execute(client, [b"GEOADD", b"g", b"1", b"1", b"m"])
    engine.execute(client, [arg.encode() for arg in again])
    engine.execute(client, [b"SET", b"k", b"v"])
    # 3377822707026402: the score the reference gives (1, 1).
    assert propagated == [[b"zadd", b"g", b"3377822707026402", b"m"], [b"SET", b"k", b"v"]]
