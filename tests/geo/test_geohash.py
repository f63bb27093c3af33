"""engine/geohash.py and the sorting of engine/types/geo.py, in-process.

The shortcuts of engine/geohash.py (neighbours by index arithmetic, the step from
binary exponents, table-driven interleaving) are checked against redis_model.py,
which does it the way Redis's code comments describe; the partial quicksort against
its contract. What the numbers mean is checked differentially in test_geo.py.
"""

from __future__ import annotations

import math
import random

from geo import redis_model
from hypothesis import given, settings
from hypothesis import strategies as st
from sortedcontainers import SortedList

from specredis.engine import geohash
from specredis.engine.geohash import LAT_MAX, LAT_MIN, MERCATOR_MAX, Shape
from specredis.engine.types.geo import (
    _ascending_cmp,
    _descending_cmp,
    cell_entries,
    coordinate_reply,
    partial_quicksort,
)

longitudes = st.one_of(st.floats(-180, 180), st.sampled_from([180.0, -180.0, 0.0, 179.99999, -179.99999]))
latitudes = st.one_of(st.floats(LAT_MIN, LAT_MAX), st.sampled_from([LAT_MAX, LAT_MIN, 0.0, 66.0, -80.0, 85.0]))
sizes = st.one_of(st.floats(0, 3e7), st.sampled_from([0.0, 5e-324, math.inf, MERCATOR_MAX, MERCATOR_MAX / 2,
                                                      MERCATOR_MAX / 4 * 1.0000001]))
units = st.sampled_from([1.0, 1000.0, 0.3048, 1609.34])


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    lon, lat, unit = draw(longitudes), draw(latitudes), draw(units)
    if draw(st.booleans()):
        return Shape(lon, lat, unit, radius=draw(sizes) / unit)
    return Shape(lon, lat, unit, width=draw(sizes) / unit, height=draw(sizes) / unit)


@settings(max_examples=800, deadline=None, database=None)
@given(shapes())
def test_search_cells_equal_the_long_way(shape: Shape) -> None:
    assert geohash.estimate_step(shape.reach_meters(), shape.lat) == redis_model.estimate_step(
        shape.reach_meters(), shape.lat)
    assert geohash.search_cells(shape) == redis_model.search_cells(shape)


def _spread(value: int) -> int:
    return sum(((value >> i) & 1) << (2 * i) for i in range(32))


@settings(max_examples=500, deadline=None, database=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_interleaving_puts_latitude_in_the_even_bits(lat_index: int, lon_index: int) -> None:
    bits = _spread(lat_index) | _spread(lon_index) << 1
    assert geohash.interleave(lat_index, lon_index) == bits
    assert geohash.deinterleave(bits) == (lat_index, lon_index)


def test_scores_convert_to_bits_as_x86_64_truncates() -> None:
    assert geohash.score_to_bits(3479099956230698.0) == 3479099956230698
    assert geohash.score_to_bits(2.9) == 2
    assert geohash.score_to_bits(-0.0) == 0
    assert geohash.score_to_bits(-1.0) == 2**64 - 1
    assert geohash.score_to_bits(-1.5) == 2**64 - 1
    assert geohash.score_to_bits(float(2**63)) == 2**63
    assert geohash.score_to_bits(float(2**64 - 2048)) == 2**64 - 2048
    for out_of_range in (float(2**64), 1e30, math.inf):
        assert geohash.score_to_bits(out_of_range) == 0
    for below_int64 in (-math.inf, -1e30, float(-(2**63))):
        assert geohash.score_to_bits(below_int64) == 2**63


def test_points_on_the_upper_limits_index_one_past_the_last_cell() -> None:
    assert geohash.cell_indexes(180.0, LAT_MAX) == (2**26, 2**26)
    assert geohash.encode(180.0, LAT_MAX) == 3 << 52
    assert geohash.decode(3 << 52) == (180.0, LAT_MAX)


def test_coordinates_print_like_redis() -> None:
    assert coordinate_reply(13.36138933897018433).text == b"13.36138933897018433"
    assert coordinate_reply(180.0).text == b"180"
    assert coordinate_reply(-0.0).text == b"0"
    assert coordinate_reply(-1e-30).text == b"0"
    assert coordinate_reply(0.5).text == b"0.5"
    assert coordinate_reply(85.05112878).text == b"85.0511287799999991"


@settings(max_examples=500, deadline=None, database=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=120), st.data())
def test_partial_quicksort_puts_the_wanted_ranks_in_place(keys: list[int], data: st.DataObject) -> None:
    last = data.draw(st.integers(0, len(keys) - 1))
    descending = data.draw(st.booleans())
    items = [(float(k), i) for i, k in enumerate(keys)]
    partial_quicksort(items, _descending_cmp if descending else _ascending_cmp, 0, last)
    assert sorted(items) == sorted((float(k), i) for i, k in enumerate(keys))      # a permutation
    expected = sorted(keys, reverse=descending)[:last + 1]
    assert [item[0] for item in items[:last + 1]] == expected


def test_partial_quicksort_orders_ties_its_own_way() -> None:
    """Ties are not kept in input order (the reference's order is checked in test_geo.py)."""
    rnd = random.Random(1)
    items = [(float(rnd.randrange(3)), i) for i in range(60)]
    partial_quicksort(items, _ascending_cmp, 0, 9)
    assert items[:10] != sorted(items[:10])


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.integers(0, 2**20), max_size=3000), st.integers(0, 2**20), st.integers(0, 2**18))
def test_cell_entries_equal_the_public_sortedlist_api(scores: list[int], low: int, width: int) -> None:
    """cell_entries reads SortedList's internals: the public bisect + islice must agree."""
    ordered = SortedList((float(score), b"m%d" % i) for i, score in enumerate(scores))
    high = low + width
    expected = list(ordered.islice(ordered.bisect_left((float(low),)), ordered.bisect_left((float(high),))))
    assert list(cell_entries(ordered, float(low), float(high))) == expected
