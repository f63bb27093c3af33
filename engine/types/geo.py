"""The GEO commands (geo.c): points stored as 52-bit geohash scores of sorted sets.

GEOADD encodes each point and hands the scores to ZADD (and propagates as that
ZADD, as Redis does); the readers decode scores back into cell centres. The search
commands (GEOSEARCH[STORE], GEORADIUS[BYMEMBER][_RO]) scan the 9 cells around the
centre that ``engine/geohash.py`` picks, each as a score range of the sorted set in
score order, keep the points the shape holds, then sort as Redis does: the whole
result with glibc's stable merge sort, or, under COUNT, with Redis's partial
quicksort, whose order among equal distances this module reproduces.

Coordinates are printed like addReplyHumanLongDouble (``%.17Lf`` less trailing
zeros; a RESP3 double), distances with ``%.4f`` (always a bulk string).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from sortedcontainers import SortedList

from specredis.engine import geohash
from specredis.engine.args import parse_int
from specredis.engine.client import Client
from specredis.engine.core import NOTIFY_GENERIC, NOTIFY_ZSET
from specredis.engine.errors import SYNTAX, RedisError
from specredis.engine.geohash import Shape
from specredis.engine.types.zset import ZSetValue, get_zset, parse_score, zadd_command
from specredis.protocol.replies import DoubleText

UNSUPPORTED_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
UNDECODABLE_MEMBER = "ERR could not decode requested zset member"

# Metres per unit (extractUnitOrReply).
UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}

# What a search command is (georadiusGeneric's flags).
_BY_COORDS = 1          # GEORADIUS[_RO]: longitude latitude radius unit
_BY_MEMBER = 2          # GEORADIUSBYMEMBER[_RO]: member radius unit
_NO_STORE = 4           # the _RO forms: no STORE/STOREDIST
_SEARCH = 8             # GEOSEARCH[STORE]: FROM.../BY... options
_SEARCH_STORE = 16      # GEOSEARCHSTORE: destination first

_ASC, _DESC = 1, 2

# A found point: (distance in metres, longitude, latitude, score, member).
Point = tuple[float, float, float, float, bytes]


# -- argument parsing -----------------------------------------------------------------------

def parse_lonlat(raw_lon: bytes, raw_lat: bytes) -> tuple[float, float]:
    """A longitude,latitude pair Redis can index, or its error (extractLongLatOrReply)."""
    # parse_score: getDoubleFromObject's rules with a fast path for plain decimals.
    lon = parse_score(raw_lon)
    lat = parse_score(raw_lat)
    if not geohash.in_limits(lon, lat):
        raise RedisError(f"ERR invalid longitude,latitude pair {lon:f},{lat:f}")
    return lon, lat


def parse_unit(raw: bytes) -> float:
    """Metres per ``m``/``km``/``ft``/``mi`` (any case)."""
    to_meters = UNITS.get(raw.lower())
    if to_meters is None:
        raise RedisError(UNSUPPORTED_UNIT)
    return to_meters


def _parse_number(raw: bytes, error: str) -> float:
    """A double argument with its own error text (getDoubleFromObjectOrReply with a message)."""
    try:
        return parse_score(raw)
    except RedisError:
        raise RedisError(error) from None


def _parse_radius(raw_radius: bytes, raw_unit: bytes) -> tuple[float, float]:
    """(radius, metres per unit) of ``radius unit``."""
    radius = _parse_number(raw_radius, "ERR need numeric radius")
    if radius < 0:
        raise RedisError("ERR radius cannot be negative")
    return radius, parse_unit(raw_unit)


def _parse_box(raw_width: bytes, raw_height: bytes, raw_unit: bytes) -> tuple[float, float, float]:
    """(width, height, metres per unit) of ``width height unit``."""
    width = _parse_number(raw_width, "ERR need numeric width")
    height = _parse_number(raw_height, "ERR need numeric height")
    if height < 0 or width < 0:
        raise RedisError("ERR height or width cannot be negative")
    return width, height, parse_unit(raw_unit)


def _member_position(zset: ZSetValue, member: bytes) -> tuple[float, float]:
    score = zset.scores.get(member)
    if score is None:
        raise RedisError(UNDECODABLE_MEMBER)
    return geohash.decode_score(score)


# -- reply formatting -----------------------------------------------------------------------

def coordinate_reply(value: float) -> DoubleText:
    """A coordinate as addReplyHumanLongDouble sends it: ``%.17Lf`` less trailing zeros."""
    # A double converts exactly to a long double, and Python's %.17f rounds the exact
    # value as glibc's printf does, so the digits are the reference's.
    text = (b"%.17f" % value).rstrip(b"0").rstrip(b".")
    if text == b"-0":
        text = b"0"
    return DoubleText(value, text)


def distance_text(meters: float) -> bytes:
    """A distance as GEODIST and WITHDIST print it (``%.4f``; glibc's ``-nan`` included)."""
    if meters != meters:
        return b"-nan" if math.copysign(1.0, meters) < 0 else b"nan"
    return b"%.4f" % meters


# -- GEOADD ---------------------------------------------------------------------------------

def geoadd_command(client: Client, argv: list[bytes]) -> object:
    """GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]"""
    argc = len(argv)
    first = 2
    nx = xx = False
    while first < argc:
        option = argv[first].lower()
        if option == b"nx":
            nx = True
        elif option == b"xx":
            xx = True
        elif option != b"ch":
            break
        first += 1
    if (argc - first) % 3 or (nx and xx):
        raise RedisError(SYNTAX)
    # The same request as ZADD: options as given, then score member pairs.
    zadd_argv = [b"zadd", *argv[1:first]]
    for i in range(first, argc, 3):
        lon, lat = parse_lonlat(argv[i], argv[i + 1])
        zadd_argv.append(b"%d" % geohash.encode(lon, lat))
        zadd_argv.append(argv[i + 2])
    engine = client.engine
    dirty = engine.dirty
    reply = zadd_command(client, zadd_argv)
    if engine.dirty != dirty:
        engine.rewrite_command(zadd_argv)     # replicas and the AOF get the ZADD
    return reply


# -- GEOPOS / GEODIST / GEOHASH -------------------------------------------------------------

def geopos_command(client: Client, argv: list[bytes]) -> object:
    """GEOPOS key [member [member ...]]"""
    zset = get_zset(client.db, argv[1])
    scores = zset.scores if zset is not None else {}
    reply: list = []
    for member in argv[2:]:
        score = scores.get(member)
        if score is None:
            reply.append(None)          # *-1 in RESP2: the spec's null-array hint
        else:
            lon, lat = geohash.decode_score(score)
            reply.append([coordinate_reply(lon), coordinate_reply(lat)])
    return reply


def geodist_command(client: Client, argv: list[bytes]) -> object:
    """GEODIST key member1 member2 [M|KM|FT|MI]"""
    to_meters = 1.0
    if len(argv) == 5:
        to_meters = parse_unit(argv[4])
    elif len(argv) > 5:
        raise RedisError(SYNTAX)
    zset = get_zset(client.db, argv[1])
    if zset is None:
        return None
    score1 = zset.scores.get(argv[2])
    score2 = zset.scores.get(argv[3])
    if score1 is None or score2 is None:
        return None
    lon1, lat1 = geohash.decode_score(score1)
    lon2, lat2 = geohash.decode_score(score2)
    return distance_text(geohash.distance(lon1, lat1, lon2, lat2) / to_meters)


def geohash_command(client: Client, argv: list[bytes]) -> object:
    """GEOHASH key [member [member ...]]"""
    zset = get_zset(client.db, argv[1])
    scores = zset.scores if zset is not None else {}
    reply: list = []
    for member in argv[2:]:
        score = scores.get(member)
        reply.append(None if score is None else geohash.standard_geohash(score))
    return reply


# -- searches -------------------------------------------------------------------------------

def geosearch_command(client: Client, argv: list[bytes]) -> object:
    """GEOSEARCH key FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width
    height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]"""
    return _search(client, argv, 1, _SEARCH)


def geosearchstore_command(client: Client, argv: list[bytes]) -> object:
    """GEOSEARCHSTORE destination source FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius
    M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [STOREDIST]"""
    return _search(client, argv, 2, _SEARCH | _SEARCH_STORE)


def georadius_command(client: Client, argv: list[bytes]) -> object:
    """GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]]
    [ASC|DESC] [STORE key] [STOREDIST key]"""
    return _search(client, argv, 1, _BY_COORDS)


def georadius_ro_command(client: Client, argv: list[bytes]) -> object:
    """GEORADIUS_RO key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH]
    [COUNT count [ANY]] [ASC|DESC]"""
    return _search(client, argv, 1, _BY_COORDS | _NO_STORE)


def georadiusbymember_command(client: Client, argv: list[bytes]) -> object:
    """GEORADIUSBYMEMBER key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]]
    [ASC|DESC] [STORE key] [STOREDIST key]"""
    return _search(client, argv, 1, _BY_MEMBER)


def georadiusbymember_ro_command(client: Client, argv: list[bytes]) -> object:
    """GEORADIUSBYMEMBER_RO key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH]
    [COUNT count [ANY]] [ASC|DESC]"""
    return _search(client, argv, 1, _BY_MEMBER | _NO_STORE)


def _search(client: Client, argv: list[bytes], key_index: int, flags: int) -> object:
    """Every search command (georadiusGeneric): arguments, then the scan, the sort, the reply or store.

    Errors come in Redis's order: WRONGTYPE first, then the fixed arguments, the options
    from left to right, then the combinations; a missing source key still has its
    arguments checked (except BYMEMBER's radius)."""
    db = client.db
    zset = get_zset(db, argv[key_index])
    store_key: bytes | None = None
    store_dist = False
    centre: tuple[float, float] | None = None
    radius = width = height = 0.0
    to_meters = 1.0
    box = False
    if flags & _BY_COORDS:
        base = 6
        centre = parse_lonlat(argv[2], argv[3])
        radius, to_meters = _parse_radius(argv[4], argv[5])
    elif flags & _BY_MEMBER:
        base = 5
        if zset is not None:
            centre = _member_position(zset, argv[2])
            radius, to_meters = _parse_radius(argv[3], argv[4])
    else:
        base = 3 if flags & _SEARCH_STORE else 2
        if flags & _SEARCH_STORE:
            store_key = argv[1]

    withdist = withhash = withcoord = any_ = False
    from_member = from_lonlat = by_radius = by_box = False
    sort = 0
    count = 0
    argc = len(argv)
    i = base
    while i < argc:
        option = argv[i].lower()
        more = argc - i - 1         # arguments after this one
        search = flags & _SEARCH
        if option == b"withdist":
            withdist = True
        elif option == b"withhash":
            withhash = True
        elif option == b"withcoord":
            withcoord = True
        elif option == b"any":
            any_ = True
        elif option == b"asc":
            sort = _ASC
        elif option == b"desc":
            sort = _DESC
        elif option == b"count" and more >= 1:
            count = parse_int(argv[i + 1])
            if count <= 0:
                raise RedisError("ERR COUNT must be > 0")
            i += 1
        elif option in (b"store", b"storedist") and more >= 1 and not flags & (_NO_STORE | _SEARCH):
            store_key = argv[i + 1]
            store_dist = option == b"storedist"
            i += 1
        elif option == b"storedist" and flags & _SEARCH_STORE:
            store_dist = True
        elif option == b"frommember" and more >= 1 and search and not from_lonlat:
            if zset is not None:
                centre = _member_position(zset, argv[i + 1])
            from_member = True
            i += 1
        elif option == b"fromlonlat" and more >= 2 and search and not from_member:
            centre = parse_lonlat(argv[i + 1], argv[i + 2])
            from_lonlat = True
            i += 2
        elif option == b"byradius" and more >= 2 and search and not by_box:
            radius, to_meters = _parse_radius(argv[i + 1], argv[i + 2])
            by_radius = True
            box = False
            i += 2
        elif option == b"bybox" and more >= 3 and search and not by_radius:
            width, height, to_meters = _parse_box(argv[i + 1], argv[i + 2], argv[i + 3])
            by_box = box = True
            i += 3
        else:
            raise RedisError(SYNTAX)
        i += 1

    if store_key is not None and (withdist or withhash or withcoord):
        what = "GEOSEARCHSTORE" if flags & _SEARCH_STORE else "STORE option in GEORADIUS"
        raise RedisError(f"ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    name = argv[0].decode("utf-8", "surrogateescape")     # as the client spelled it
    if flags & _SEARCH and not (from_member or from_lonlat):
        raise RedisError(f"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")
    if flags & _SEARCH and not (by_radius or by_box):
        raise RedisError(f"ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")
    if any_ and not count:
        raise RedisError("ERR the ANY argument requires COUNT argument")

    if zset is None:
        if store_key is not None:
            _delete_destination(client, store_key)
            return 0
        return []
    if count and not sort and not any_:
        sort = _ASC         # the closest COUNT points, not any COUNT of them
    assert centre is not None
    if box:
        shape = Shape(centre[0], centre[1], to_meters, width=width, height=height)
    else:
        shape = Shape(centre[0], centre[1], to_meters, radius=radius)
    points = _scan(zset, shape, count if any_ else 0)
    if not points and store_key is None:
        return []
    returned = min(count, len(points)) if count else len(points)
    if sort:
        _sort_points(points, sort == _DESC, returned)
    if store_key is not None:
        return _store_points(client, store_key, points[:returned], to_meters if store_dist else 0.0,
                             "geosearchstore" if flags & _SEARCH else "georadiusstore")
    if not (withdist or withhash or withcoord):
        return [point[4] for point in points[:returned]]
    reply = []
    for dist, lon, lat, score, member in points[:returned]:
        item: list = [member]
        if withdist:
            item.append(distance_text(dist / to_meters))
        if withhash:
            item.append(int(score))
        if withcoord:
            item.append([coordinate_reply(lon), coordinate_reply(lat)])
        reply.append(item)
    return reply


def _scan(zset: ZSetValue, shape: Shape, limit: int) -> list[Point]:
    """The points of the shape, cell by cell in Redis's order, each cell in score order.

    With ``limit`` (COUNT ... ANY) the scan stops as soon as that many are found. A cell
    equal to the one scanned last is skipped (huge radii make neighbours coincide)."""
    cells = geohash.search_cells(shape)
    found: list[Point] = []
    decode = geohash.decode_score
    inside = shape.distance_if_inside
    last = 0
    for index, cell in enumerate(cells):
        if cell is None:
            continue
        if last and cell == cells[last]:
            continue
        if limit and len(found) >= limit:
            break
        last = index
        low, high = geohash.cell_score_range(*cell)
        for score, member in cell_entries(zset.ordered, low, high):
            lon, lat = decode(score)
            dist = inside(lon, lat)
            if dist is not None:
                found.append((dist, lon, lat, score, member))
                if limit and len(found) >= limit:
                    break
    return found


def cell_entries(ordered: SortedList, low: float, high: float) -> Iterable[tuple[float, bytes]]:
    """The (score, member) entries of a sorted set with ``low <= score < high``, in order.

    A search probes 9 cells, most of them empty, so this reads SortedList's layout
    directly (sublists ``_lists`` whose last entries are ``_maxes``, as since
    sortedcontainers 2.0): two C bisections, where ``bisect_left`` + ``islice`` cost five
    times as much. tests/geo checks it against the public API."""
    first = (low,)
    maxes = ordered._maxes
    pos = bisect_left(maxes, first)
    if pos == len(maxes):
        return ()
    lists = ordered._lists
    sublist = lists[pos]
    start = bisect_left(sublist, first)
    if sublist[start][0] >= high:
        return ()
    return _entries_below(lists, pos, start, high)


def _entries_below(lists: list[list], pos: int, start: int, high: float) -> Iterator[tuple[float, bytes]]:
    for entry in islice(lists[pos], start, None):
        if entry[0] >= high:
            return
        yield entry
    for sublist in lists[pos + 1:]:
        for entry in sublist:
            if entry[0] >= high:
                return
            yield entry


def _store_points(client: Client, key: bytes, points: list[Point], dist_unit: float, event: str) -> int:
    """STORE/STOREDIST/GEOSEARCHSTORE: the points as a sorted set at ``key`` (scores are the
    geohashes, or the distances in ``dist_unit`` when it is not 0); no points delete ``key``."""
    if not points:
        _delete_destination(client, key)
        return 0
    result = ZSetValue(listpack=False)
    for dist, _, _, score, member in points:
        result.insert(member, dist / dist_unit if dist_unit else score)
    config = client.engine.config.values
    result.to_listpack_if_fits(config["zset-max-listpack-entries"], config["zset-max-listpack-value"])
    db = client.db
    engine = client.engine
    db.lookup_write(key)            # an expired destination goes first, with its effects
    db.set_key(key, result)
    engine.notify(NOTIFY_ZSET, event, key, db.id)
    engine.dirty += len(points)
    return len(points)


def _delete_destination(client: Client, key: bytes) -> None:
    """An empty result deletes the destination (even one whose time has passed, as dbDelete)."""
    db = client.db
    if db.delete(key):
        engine = client.engine
        db.signal_modified(key)
        engine.notify(NOTIFY_GENERIC, "del", key, db.id)
        engine.dirty += 1


# -- sorting --------------------------------------------------------------------------------

def _sort_points(points: list[Point], descending: bool, returned: int) -> None:
    """Order ``points`` by distance so that the first ``returned`` are Redis's, in its order.

    Redis sorts the whole array with qsort (glibc's: a stable merge sort) and, when COUNT
    keeps fewer, with its partial quicksort, which leaves ties in an order of its own: that
    one is reproduced when ties exist; distinct distances need only a selection."""
    if returned == len(points):
        points.sort(key=_distance_key, reverse=descending)
    elif len({point[0] for point in points}) == len(points):
        select = heapq.nlargest if descending else heapq.nsmallest
        points[:returned] = select(returned, points, key=_distance_key)
    else:
        partial_quicksort(points, _descending_cmp if descending else _ascending_cmp, 0, returned - 1)


def _distance_key(point: Point) -> float:
    return point[0]


def _ascending_cmp(a: Point, b: Point) -> int:
    if a[0] == b[0]:
        return 0
    return 1 if a[0] > b[0] else -1


def _descending_cmp(a: Point, b: Point) -> int:
    return -_ascending_cmp(a, b)


def partial_quicksort(items: list, cmp: Callable[[object, object], int], first: int, last: int) -> None:
    """Sort ``items`` in place enough that ranks ``first``..``last`` hold their final elements.

    Redis's pqsort: the Bentley-McIlroy quicksort (median of three, ninther above 40
    elements, insertion sort below 7, elements equal to the pivot gathered at both ends
    and swapped to the middle), recursing only into the parts that overlap the wanted
    ranks. Its swaps decide the order of equal elements, so they are done alike."""

    def swap(i: int, j: int) -> None:
        items[i], items[j] = items[j], items[i]

    def swap_runs(i: int, j: int, n: int) -> None:
        for k in range(n):
            swap(i + k, j + k)

    def median_of_three(i: int, j: int, k: int) -> int:
        if cmp(items[i], items[j]) < 0:
            if cmp(items[j], items[k]) < 0:
                return j
            return k if cmp(items[i], items[k]) < 0 else i
        if cmp(items[j], items[k]) > 0:
            return j
        return i if cmp(items[i], items[k]) < 0 else k

    def overlaps(start: int, n: int) -> bool:
        return not (last < start or first >= start + n)

    def sort(start: int, n: int) -> None:
        while True:
            if n < 7:
                for m in range(start + 1, start + n):
                    j = m
                    while j > start and cmp(items[j - 1], items[j]) > 0:
                        swap(j, j - 1)
                        j -= 1
                return
            middle = start + n // 2
            if n > 7:
                low = start
                high = start + n - 1
                if n > 40:
                    d = n // 8
                    low = median_of_three(low, low + d, low + 2 * d)
                    middle = median_of_three(middle - d, middle, middle + d)
                    high = median_of_three(high - 2 * d, high - d, high)
                middle = median_of_three(low, middle, high)
            swap(start, middle)
            # [start+1, a): equal to the pivot; [a, b): less; (c, d]: greater; (d, end): equal.
            a = b = start + 1
            c = d = start + n - 1
            while True:
                while b <= c:
                    order = cmp(items[b], items[start])
                    if order > 0:
                        break
                    if order == 0:
                        swap(a, b)
                        a += 1
                    b += 1
                while b <= c:
                    order = cmp(items[c], items[start])
                    if order < 0:
                        break
                    if order == 0:
                        swap(c, d)
                        d -= 1
                    c -= 1
                if b > c:
                    break
                swap(b, c)
                b += 1
                c -= 1
            end = start + n
            r = min(a - start, b - a)
            swap_runs(start, b - r, r)
            r = min(d - c, end - d - 1)
            swap_runs(b, end - r, r)
            r = b - a
            if r > 1 and overlaps(start, r):
                sort(start, r)
            r = d - c
            if r > 1:
                start, n = end - r, r
                if overlaps(start, n):
                    continue
            return

    sort(0, len(items))
