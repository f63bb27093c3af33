"""Geohash arithmetic as Redis does it: 52-bit interleaved scores, cells, neighbours, distances.

A GEO member is a sorted-set member whose score is a 52-bit geohash: the latitude
(range ±85.05112878, the Web Mercator limits) and the longitude (±180) are each
cut into 2**26 intervals, and the two 26-bit indexes are interleaved, latitude in
the even bits and longitude in the odd ones. A cell of ``step`` bits per axis is
the set of scores sharing a prefix: the range ``[bits << (52 - 2*step),
(bits + 1) << (52 - 2*step))``.

Every computation here is ordered as in Redis's C code, double for double, so
that decoded coordinates, distances, the cells searched and the inclusion tests
give the reference's bits (the libm of ``math`` is the same glibc). The C integer
conversions are reproduced where they are visible: a score is turned into its
64 bits as x86-64 truncates a double into a uint64, cell indexes are uint32, and
a coordinate on the upper limit gives an index one past the last cell, as in Redis.
"""

from __future__ import annotations

import base64
import math
from array import array
from typing import NamedTuple

STEP_MAX = 26                   # bits per axis of a stored score
LAT_MIN = -85.05112878
LAT_MAX = 85.05112878
LON_MIN = -180.0
LON_MAX = 180.0
EARTH_RADIUS_M = 6372797.560856
MERCATOR_MAX = 20037726.37
DEG_TO_RAD = math.pi / 180.0

_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1
_U52 = (1 << 52) - 1
_TWO_63 = float(1 << 63)


# -- bit interleaving ---------------------------------------------------------------------
#
# Interleaving goes through tables of 16-bit chunks, a few lookups instead of the 30-odd
# integer operations of the shift-and-mask method: GEOADD and every decoded point pay it.

def _spread_bits(value: int, width: int) -> int:
    """The ``width`` low bits of ``value`` moved to the even positions (bit i to bit 2i)."""
    spread = 0
    for i in range(width):
        spread |= ((value >> i) & 1) << (2 * i)
    return spread


def _even_bits(value: int, width: int) -> int:
    """The bits at the even positions of a ``2*width``-bit ``value``, packed (bit 2i to bit i)."""
    packed = 0
    for i in range(width):
        packed |= ((value >> (2 * i)) & 1) << i
    return packed


_SPREAD8 = [_spread_bits(v, 8) for v in range(256)]
_EVEN4 = [_even_bits(v, 4) for v in range(256)]
# 16 bits spread over 32; the even and the odd bits of 16 bits packed into 8.
_SPREAD16 = array("I", [_SPREAD8[v & 0xFF] | _SPREAD8[v >> 8] << 16 for v in range(1 << 16)])
_EVEN16 = bytes([_EVEN4[c & 0xFF] | _EVEN4[c >> 8] << 4 for c in range(1 << 16)])
_ODD16 = bytes([_EVEN4[(c >> 1) & 0xFF] | _EVEN4[c >> 9] << 4 for c in range(1 << 16)])


def interleave(lat_index: int, lon_index: int) -> int:
    """A geohash from its two uint32 cell indexes: latitude bits even, longitude bits odd."""
    spread = _SPREAD16
    lat_index &= _U32
    lon_index &= _U32
    return (spread[lat_index & 0xFFFF] | spread[lat_index >> 16] << 32
            | (spread[lon_index & 0xFFFF] | spread[lon_index >> 16] << 32) << 1)


def deinterleave(bits: int) -> tuple[int, int]:
    """(latitude index, longitude index) of a 64-bit geohash, as uint32s."""
    c0 = bits & 0xFFFF
    c1 = (bits >> 16) & 0xFFFF
    c2 = (bits >> 32) & 0xFFFF
    c3 = (bits >> 48) & 0xFFFF
    even, odd = _EVEN16, _ODD16
    return (even[c0] | even[c1] << 8 | even[c2] << 16 | even[c3] << 24,
            odd[c0] | odd[c1] << 8 | odd[c2] << 16 | odd[c3] << 24)


# -- encoding and decoding ----------------------------------------------------------------

def in_limits(lon: float, lat: float) -> bool:
    """Whether Redis can index the point (GEOADD and FROMLONLAT refuse the others)."""
    return LON_MIN <= lon <= LON_MAX and LAT_MIN <= lat <= LAT_MAX


def cell_indexes(lon: float, lat: float, step: int = STEP_MAX, lat_min: float = LAT_MIN,
                 lat_max: float = LAT_MAX) -> tuple[int, int]:
    """(latitude index, longitude index) of the cell of a point within the limits.

    ``lat_min``/``lat_max`` change the latitude range (GEOHASH re-encodes with ±90). A point
    on an upper limit gets the index 2**step, one past the last cell, exactly as Redis."""
    scale = float(1 << step)
    lat_offset = (lat - lat_min) / (lat_max - lat_min) * scale
    lon_offset = (lon - LON_MIN) / (LON_MAX - LON_MIN) * scale
    return int(lat_offset), int(lon_offset)


def encode(lon: float, lat: float, step: int = STEP_MAX, lat_min: float = LAT_MIN,
           lat_max: float = LAT_MAX) -> int:
    """The ``step``-bit-per-axis geohash of a point within the limits (see :func:`in_limits`)."""
    return interleave(*cell_indexes(lon, lat, step, lat_min, lat_max))


def score_to_bits(score: float) -> int:
    """The uint64 a sorted-set score converts to in C on x86-64 (``(uint64_t)score``).

    Scores GEOADD writes are exact integers; others (ZADD'ed by hand) are truncated,
    and out-of-range ones take the values the truncating instructions give."""
    if 0.0 <= score < _TWO_63:
        return int(score)
    if score >= _TWO_63:
        rest = score - _TWO_63
        # The high half is converted after subtracting 2**63; beyond 2**64 (and inf) the
        # conversion yields the "indefinite" 0x8000000000000000, which the fixup cancels.
        return (int(rest) if rest < _TWO_63 else 1 << 63) ^ (1 << 63)
    if score >= -_TWO_63:
        return int(score) & _U64
    return 1 << 63          # below the int64 range, -inf (NaN is no score)


class Area(NamedTuple):
    """A cell's bounds in degrees."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float


_LAT_SCALE = LAT_MAX - LAT_MIN
_LON_SCALE = LON_MAX - LON_MIN


def cell_area(lat_index: int, lon_index: int, step: int) -> Area:
    """The bounds of the cell with these indexes at ``step`` bits per axis (uint32 indexes, as in C)."""
    cells = float(1 << step)
    return Area(LAT_MIN + (lat_index / cells) * _LAT_SCALE,
                LAT_MIN + (((lat_index + 1) & _U32) / cells) * _LAT_SCALE,
                LON_MIN + (lon_index / cells) * _LON_SCALE,
                LON_MIN + (((lon_index + 1) & _U32) / cells) * _LON_SCALE)


def decode_area(bits: int, step: int) -> Area:
    """The bounds of the cell ``bits`` of ``step`` bits per axis."""
    return cell_area(*deinterleave(bits), step)


def decode(bits: int, step: int = STEP_MAX) -> tuple[float, float]:
    """(longitude, latitude) of a cell's centre, clamped to the limits: what GEOPOS reports."""
    lat_index, lon_index = deinterleave(bits)
    cells = float(1 << step)
    lat_scale = LAT_MAX - LAT_MIN
    lon = ((LON_MIN + (lon_index / cells) * 360.0) + (LON_MIN + (((lon_index + 1) & _U32) / cells) * 360.0)) / 2
    lat = ((LAT_MIN + (lat_index / cells) * lat_scale)
           + (LAT_MIN + (((lat_index + 1) & _U32) / cells) * lat_scale)) / 2
    if lon > LON_MAX:
        lon = LON_MAX
    elif lon < LON_MIN:
        lon = LON_MIN
    if lat > LAT_MAX:
        lat = LAT_MAX
    elif lat < LAT_MIN:
        lat = LAT_MIN
    return lon, lat


def decode_score(score: float) -> tuple[float, float]:
    """(longitude, latitude) of the member whose sorted-set score is ``score``."""
    return decode(int(score) if 0.0 <= score < _TWO_63 else score_to_bits(score))


# Base32 digits: RFC 4648's alphabet (what b32encode writes) mapped onto the geohash one.
_TO_GEOHASH_ALPHABET = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789bcdefghjkmnpqrstuvwxyz")


def standard_geohash(score: float) -> bytes:
    """The 11-character base32 geohash GEOHASH reports for a score.

    The point is decoded and re-encoded with the standard latitude range ±90 (52 bits);
    the 11th character stands for 3 missing bits, taken as zero."""
    lon, lat = decode_score(score)
    bits = encode(lon, lat, STEP_MAX, -90.0, 90.0)
    # Bits 51..2 as 10 base32 digits (b32encode reads 5-bit groups from the first byte); a
    # longitude of 180 sets bit 53, which Redis's digit extraction never looks at.
    digits = base64.b32encode((((bits & _U52) >> 2) << 30).to_bytes(10, "big"))[:10]
    return digits.translate(_TO_GEOHASH_ALPHABET) + b"0"


# -- distances ----------------------------------------------------------------------------

def lat_distance(lat1: float, lat2: float) -> float:
    """Metres between two latitudes on one meridian."""
    return EARTH_RADIUS_M * abs(lat2 * DEG_TO_RAD - lat1 * DEG_TO_RAD)


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle metres between two points (haversine), Redis's formula and order.

    Points on one meridian take the cheaper latitude difference, as Redis 7 does; the
    two differ in the last bits, which decides inclusions at a search's very edge."""
    lon1r = lon1 * DEG_TO_RAD
    lon2r = lon2 * DEG_TO_RAD
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1, lat2)
    lat1r = lat1 * DEG_TO_RAD
    lat2r = lat2 * DEG_TO_RAD
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    root = math.sqrt(a)
    if root > 1.0:
        # Rounding can take nearly antipodal points past 1: C's asin answers NaN (0/0, negative
        # on x86), where Python's raises.
        return -math.nan
    return 2.0 * EARTH_RADIUS_M * math.asin(root)


# -- search areas -------------------------------------------------------------------------

def _c_cos(x: float) -> float:
    """C's cos: NaN for an infinite argument (an infinite radius or box), where Python raises."""
    return math.cos(x) if x - x == 0.0 else math.nan


class Shape:
    """What a search covers: a circle (``width`` None) or a box, around ``lon``/``lat``.

    ``radius``, ``width`` and ``height`` are in the unit given; ``to_meters`` converts."""

    __slots__ = ("lon", "lat", "radius", "width", "height", "to_meters")

    def __init__(self, lon: float, lat: float, to_meters: float, radius: float = 0.0,
                 width: float | None = None, height: float = 0.0) -> None:
        self.lon, self.lat, self.to_meters = lon, lat, to_meters
        self.radius, self.width, self.height = radius, width, height

    def bounding_box(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of the degrees the shape may reach.

        The longitude span is taken at the edge nearer the pole, where a metre is the
        most degrees: the top edge in the north, the bottom one in the south."""
        lon, lat = self.lon, self.lat
        if self.width is None:
            half_height = self.to_meters * self.radius
            half_width = self.to_meters * self.radius
        else:
            half_height = self.to_meters * (self.height / 2)
            half_width = self.to_meters * (self.width / 2)
        lat_delta = (half_height / EARTH_RADIUS_M) / DEG_TO_RAD
        lon_delta_top = (half_width / EARTH_RADIUS_M / _c_cos((lat + lat_delta) * DEG_TO_RAD)) / DEG_TO_RAD
        lon_delta_bottom = (half_width / EARTH_RADIUS_M / _c_cos((lat - lat_delta) * DEG_TO_RAD)) / DEG_TO_RAD
        lon_delta = lon_delta_bottom if lat < 0 else lon_delta_top
        return lon - lon_delta, lat - lat_delta, lon + lon_delta, lat + lat_delta

    def reach_meters(self) -> float:
        """The farthest a match can be from the centre: the radius, or half the box's diagonal."""
        if self.width is None:
            reach = self.radius
        else:
            reach = math.sqrt((self.width / 2) * (self.width / 2) + (self.height / 2) * (self.height / 2))
        return reach * self.to_meters

    def distance_if_inside(self, lon: float, lat: float) -> float | None:
        """Metres from the centre to a point in the shape; None outside it.

        A box holds the points whose latitude distance and whose distance along their own
        parallel are within half its height and width (geohashGetDistanceIfInRectangle)."""
        if self.width is None:
            dist = distance(self.lon, self.lat, lon, lat)
            return None if dist > self.radius * self.to_meters else dist
        if lat_distance(lat, self.lat) > self.height * self.to_meters / 2:
            return None
        if distance(lon, lat, self.lon, lat) > self.width * self.to_meters / 2:
            return None
        return distance(self.lon, self.lat, lon, lat)


_MERCATOR_MANTISSA, _MERCATOR_EXPONENT = math.frexp(MERCATOR_MAX)


def estimate_step(reach_meters: float, lat: float) -> int:
    """Bits per axis of cells about as large as the search (geohashEstimateStepsByRadius).

    Redis doubles the reach until it passes MERCATOR_MAX, counting steps; doublings are
    exact, so the count follows from the binary exponents without the loop."""
    if reach_meters == 0:
        return STEP_MAX
    doublings = 0
    if reach_meters < MERCATOR_MAX:
        mantissa, exponent = math.frexp(reach_meters)
        doublings = _MERCATOR_EXPONENT - exponent + (0 if mantissa >= _MERCATOR_MANTISSA else 1)
    step = 1 + doublings - 2    # so that the 3x3 cells around the centre cover the range in most cases
    if lat > 66 or lat < -66:
        step -= 1               # cells narrow towards the poles
        if lat > 80 or lat < -80:
            step -= 1
    return max(1, min(step, STEP_MAX))


def search_cells(shape: Shape) -> list[tuple[int, int] | None]:
    """The 9 cells a search scans, as (bits, step), centre first; None for those ruled out.

    The step is estimated from the shape's reach, lowered by one if a neighbour does not
    reach the bounding box, and the neighbours wholly outside the box are dropped (from
    step 2 on), in Redis's order: centre, N, S, E, W, NE, NW, SE, SW.

    Neighbours wrap around both axes. Redis moves a cell with carries through the other
    axis's bits, which leaves that axis as it was, even one past the last cell (a centre on
    the upper limit), and wraps the moved one modulo 2**step: done here on the indexes."""
    min_lon, min_lat, max_lon, max_lat = shape.bounding_box()
    step = estimate_step(shape.reach_meters(), shape.lat)
    lat_index, lon_index = cell_indexes(shape.lon, shape.lat, step)
    if step > 1:
        # The bounds of the neighbouring rows and columns, as geohashDecode computes them.
        mask = (1 << step) - 1
        cells = float(1 << step)
        north, south = (lat_index + 1) & mask, (lat_index - 1) & mask
        east, west = (lon_index + 1) & mask, (lon_index - 1) & mask
        if (LAT_MIN + (((north + 1) & _U32) / cells) * _LAT_SCALE < max_lat
                or LAT_MIN + (south / cells) * _LAT_SCALE > min_lat
                or LON_MIN + (((east + 1) & _U32) / cells) * _LON_SCALE < max_lon
                or LON_MIN + (west / cells) * _LON_SCALE > min_lon):
            step -= 1
            lat_index, lon_index = cell_indexes(shape.lon, shape.lat, step)
    mask = (1 << step) - 1
    north, south = (lat_index + 1) & mask, (lat_index - 1) & mask
    east, west = (lon_index + 1) & mask, (lon_index - 1) & mask
    keep_north = keep_south = keep_east = keep_west = True
    if step >= 2:
        area = cell_area(lat_index, lon_index, step)
        keep_south = not area.lat_min < min_lat
        keep_north = not area.lat_max > max_lat
        keep_west = not area.lon_min < min_lon
        keep_east = not area.lon_max > max_lon
    return [(interleave(lat_index, lon_index), step),
            (interleave(north, lon_index), step) if keep_north else None,
            (interleave(south, lon_index), step) if keep_south else None,
            (interleave(lat_index, east), step) if keep_east else None,
            (interleave(lat_index, west), step) if keep_west else None,
            (interleave(north, east), step) if keep_north and keep_east else None,
            (interleave(north, west), step) if keep_north and keep_west else None,
            (interleave(south, east), step) if keep_south and keep_east else None,
            (interleave(south, west), step) if keep_south and keep_west else None]


def cell_score_range(bits: int, step: int) -> tuple[float, float]:
    """[min, max) of the scores in a cell, as the doubles the sorted set is searched with."""
    shift = 52 - step * 2
    return float((bits << shift) & _U64), float(((bits + 1) << shift) & _U64)
