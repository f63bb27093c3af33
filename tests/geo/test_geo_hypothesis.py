"""Random points and searches, differentially: Hypothesis draws a point cloud and searches,
both servers answer, every reply must be identical.

Points cluster around a centre drawn anywhere, the poles' latitude limits and the
antimeridian included, so that searches cross cell edges, wrap around, and meet
points exactly on the limits; a share of points repeat, for equal distances under
COUNT. Searches use every form (BYRADIUS/BYBOX, FROMLONLAT/FROMMEMBER, GEORADIUS...)
with random radii from a metre to beyond half the Earth, units, orders, COUNT [ANY]
and WITH* options, then a STORE form whose result is compared with DEBUG DIGEST-VALUE.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specredis.protocol.client import RespClient

LAT_LIMIT = 85.05112878
UNIT_METERS = {"m": 1.0, "km": 1000.0, "mi": 1609.34, "ft": 0.3048}

special_lons = st.sampled_from([180.0, -180.0, 179.99, -179.99, 0.0])
special_lats = st.sampled_from([LAT_LIMIT, -LAT_LIMIT, 85.0, -85.0, 80.5, -66.5, 0.0])
centre_lon = st.one_of(st.floats(-180, 180), special_lons)
centre_lat = st.one_of(st.floats(-LAT_LIMIT, LAT_LIMIT), special_lats)


def _clamp(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))


@st.composite
def clouds(draw: st.DrawFn) -> tuple[float, float, float, list[tuple[float, float]]]:
    """A centre, a spread in degrees and up to 40 points around (some far away, some repeated)."""
    lon, lat = draw(centre_lon), draw(centre_lat)
    spread = draw(st.sampled_from([0.001, 0.1, 2.0, 30.0, 180.0]))
    points: list[tuple[float, float]] = []
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.integers(0, 9))
        if kind == 0 and points:
            points.append(points[-1])
        elif kind == 1:
            points.append((draw(st.floats(-180, 180)), draw(st.floats(-LAT_LIMIT, LAT_LIMIT))))
        else:
            points.append((_clamp(lon + draw(st.floats(-spread, spread)), 180.0),
                           _clamp(lat + draw(st.floats(-spread, spread)), LAT_LIMIT)))
    return lon, lat, spread, points


sizes = st.one_of(st.sampled_from([0.0, 1.0, 150.0, 5e5, 2e7]), st.floats(0, 2.5e7))


@st.composite
def searches(draw: st.DrawFn, members: int, near: tuple[float, float]) -> list[str]:
    """One search command on key ``g`` (members are m0..m{members-1}), centred ``near``
    the cloud's centre or anywhere."""
    unit = draw(st.sampled_from(sorted(UNIT_METERS)))
    size = lambda: repr(draw(sizes) / UNIT_METERS[unit])  # noqa: E731 - a draw per call
    member = f"m{draw(st.integers(0, members - 1))}"
    if draw(st.booleans()):
        lon, lat = repr(draw(centre_lon)), repr(draw(centre_lat))
    else:
        lon, lat = repr(_clamp(near[0] + draw(st.floats(-1, 1)), 180.0)), repr(_clamp(near[1], LAT_LIMIT))
    options: list[str] = []
    if draw(st.booleans()):
        options += ["COUNT", str(draw(st.integers(1, members + 2)))] + (["ANY"] if draw(st.booleans()) else [])
    options += draw(st.sampled_from([[], [], ["ASC"], ["DESC"]]))
    withs = draw(st.lists(st.sampled_from(["WITHDIST", "WITHCOORD", "WITHHASH"]), unique=True, max_size=3))
    form = draw(st.integers(0, 5))
    if form == 0:
        return ["GEORADIUS", "g", lon, lat, size(), unit, *withs, *options]
    if form == 1:
        return ["GEORADIUSBYMEMBER_RO", "g", member, size(), unit, *options, *withs]
    origin = ["FROMMEMBER", member] if draw(st.booleans()) else ["FROMLONLAT", lon, lat]
    by = ["BYRADIUS", size(), unit] if draw(st.booleans()) else ["BYBOX", size(), size(), unit]
    if form == 5:
        return ["GEOSEARCHSTORE", "dst", "g", *origin, *by, *options,
                *(["STOREDIST"] if draw(st.booleans()) else [])]
    return ["GEOSEARCH", "g", *by, *origin, *options, *withs]


@pytest.fixture(scope="module")
def connections(specredis, reference):
    conns = [(reference.client(protocol=protocol), specredis.client(protocol=protocol)) for protocol in (2, 3)]
    yield conns
    for pair in conns:
        for conn in pair:
            conn.close()


def _both(pair: tuple[RespClient, RespClient], *argv: str) -> None:
    expected, actual = pair[0].call(*argv), pair[1].call(*argv)
    assert actual == expected, f"{' '.join(argv)}: reference {expected!r}, specredis {actual!r}"


@settings(max_examples=120, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(clouds(), st.data())
def test_searches_equal_the_reference(connections, cloud, data: st.DataObject) -> None:
    lon, lat, spread, points = cloud
    geoadd = ["GEOADD", "g"]
    for i, (lon, lat) in enumerate(points):
        geoadd += [repr(lon), repr(lat), f"m{i}"]
    for pair in connections:
        for conn in pair:
            conn.call("FLUSHALL")
    _both(connections[0], *geoadd)
    _both(connections[1], "GEOPOS", "g", *[f"m{i}" for i in range(len(points))])
    # Unsorted, about as wide as the cloud: the reply lists the points cell by cell, so its
    # order shows which cells were scanned, in which order, at which step.
    reach = spread * 111_000 * data.draw(st.sampled_from([0.3, 0.7, 1.0, 1.5, 2.0]))
    centre = [repr(lon), repr(lat)]
    _both(connections[0], "GEORADIUS", "g", *centre, repr(reach), "m")
    _both(connections[1], "GEOSEARCH", "g", "FROMLONLAT", *centre, "BYBOX", repr(reach), repr(reach / 2), "m")
    _both(connections[0], "GEOSEARCH", "g", "FROMLONLAT", *centre, "BYRADIUS", repr(reach), "m", "COUNT", "3", "ANY")
    for _ in range(5):
        pair = connections[data.draw(st.integers(0, 1))]
        command = data.draw(searches(len(points), (lon, lat)))
        _both(pair, *command)
        if command[0] == "GEOSEARCHSTORE":
            _both(pair, "DEBUG", "DIGEST-VALUE", "dst")
