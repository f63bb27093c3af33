"""Straight transcriptions of how Redis computes search cells, as oracles for engine/geohash.py.

engine/geohash.py takes shortcuts (neighbours by index arithmetic, the step estimate from
binary exponents); these do it the long way, as geohash.c and geohash_helper.c describe
it in their comments: neighbours by adding through the other axis's bits filled with
ones, the step by doubling the reach. Tests compare the two on many shapes.
"""

from __future__ import annotations

from specredis.engine import geohash
from specredis.engine.geohash import MERCATOR_MAX, STEP_MAX, Shape

U64 = (1 << 64) - 1
EVEN = 0x5555555555555555
ODD = 0xAAAAAAAAAAAAAAAA


def move(bits: int, step: int, delta: int, lon_axis: bool) -> int:
    """One cell east/west (``lon_axis``) or north/south, with carries through the other axis."""
    moved, kept = (bits & ODD, bits & EVEN) if lon_axis else (bits & EVEN, bits & ODD)
    fill = (EVEN if lon_axis else ODD) >> (64 - 2 * step)
    if delta > 0:
        moved = (moved + fill + 1) & U64
    else:
        moved = ((moved | fill) - (fill + 1)) & U64
    return (moved & ((ODD if lon_axis else EVEN) >> (64 - 2 * step))) | kept


def estimate_step(reach: float, lat: float) -> int:
    if reach == 0:
        return STEP_MAX
    step = 1
    while reach < MERCATOR_MAX:
        reach *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return max(1, min(step, STEP_MAX))


def search_cells(shape: Shape) -> list:
    min_lon, min_lat, max_lon, max_lat = shape.bounding_box()
    step = estimate_step(shape.reach_meters(), shape.lat)

    def around(centre: int) -> list[int]:
        east, west = move(centre, step, 1, True), move(centre, step, -1, True)
        return [move(centre, step, 1, False), move(centre, step, -1, False), east, west,
                move(east, step, 1, False), move(west, step, 1, False),
                move(east, step, -1, False), move(west, step, -1, False)]

    centre = geohash.encode(shape.lon, shape.lat, step)
    n = around(centre)
    if step > 1 and (geohash.decode_area(n[0], step).lat_max < max_lat
                     or geohash.decode_area(n[1], step).lat_min > min_lat
                     or geohash.decode_area(n[2], step).lon_max < max_lon
                     or geohash.decode_area(n[3], step).lon_min > min_lon):
        step -= 1
        centre = geohash.encode(shape.lon, shape.lat, step)
        n = around(centre)
    cells = [(centre, step)] + [(bits, step) for bits in n]
    if step >= 2:
        area = geohash.decode_area(centre, step)
        zeroed = []
        if area.lat_min < min_lat:
            zeroed += [2, 8, 7]
        if area.lat_max > max_lat:
            zeroed += [1, 5, 6]
        if area.lon_min < min_lon:
            zeroed += [4, 8, 6]
        if area.lon_max > max_lon:
            zeroed += [3, 7, 5]
        for i in zeroed:
            cells[i] = None
    return cells
