"""GEO commands, differentially: the same commands to specredis and to Redis 7.0.15, RESP2 and RESP3.

Coordinates travel as RESP3 doubles (and bulk strings in RESP2) with the reference's
``%.17Lf`` digits, distances as ``%.4f`` bulk strings, hashes as integers; GEOPOS's
missing members are ``*-1`` in RESP2. Every reply and error text below is compared
with the reference's, including the order of unsorted search results (the order of
the cells Redis scans) and the order of equal distances under COUNT.
"""

from __future__ import annotations

import random

from zsets.differential import Pair

SICILY = [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"]


def _points(rnd: random.Random, n: int, lon: float, lat: float, spread: float) -> list:
    """GEOADD arguments for ``n`` points around (lon, lat), clamped to what Redis indexes."""
    args: list = []
    for i in range(n):
        x = min(180.0, max(-180.0, lon + rnd.uniform(-spread, spread)))
        y = min(85.05112878, max(-85.05112878, lat + rnd.uniform(-spread / 2, spread / 2)))
        args += [repr(x), repr(y), f"p{i}"]
    return args


def test_geoadd_options_and_errors(pair: Pair) -> None:
    g = pair.key("g")
    pair.run(
        ["GEOADD", g, *SICILY], ["GEOADD", g, *SICILY], ["GEOADD", g, "CH", 13.361389, 38.115556, "Palermo"],
        ["GEOADD", g, "ch", 13.5, 38.1, "Palermo", 1, 1, "new"], ["GEOADD", g, "XX", 2, 2, "new", 3, 3, "other"],
        ["GEOADD", g, "NX", 4, 4, "new", 5, 5, "third"], ["GEOADD", g, "xx", "ch", 6, 6, "third"],
        ["GEOADD", g, "NX", "XX", 1, 1, "m"], ["GEOADD", g, "NX", "CH"], ["GEOADD", g, "CH", "CH", "CH"],
        ["GEOADD", g, 1, 1], ["GEOADD", g, 1, 1, "m", 2], ["GEOADD", g, "GT", 1, 1, "m"], ["GEOADD", g, "GT", 1, 1],
        ["GEOADD", g, 200, 10, "m"], ["GEOADD", g, 10, 200, "m"], ["GEOADD", g, -180.0000001, 0, "m"],
        ["GEOADD", g, 0, 85.05112879, "m"], ["GEOADD", g, 0, -85.051128781, "m"], ["GEOADD", g, "inf", 0, "m"],
        ["GEOADD", g, 0, "-inf", "m"], ["GEOADD", g, "nan", 0, "m"], ["GEOADD", g, "abc", 0, "m"],
        ["GEOADD", g, 0, "", "m"], ["GEOADD", g, " 1", 0, "m"], ["GEOADD", g, "1e400", 0, "m"],
        ["GEOADD", g, 1, 1, "ok", 500, 1, "bad"], ["ZCARD", g], ["ZRANGE", g, 0, -1, "WITHSCORES"],
    )
    pair.run(["GEOADD", pair.key("missing"), "XX", 1, 1, "m"], ["EXISTS", pair.key("missing")])


def test_coordinate_spellings_and_limits(pair: Pair) -> None:
    g = pair.key("g")
    for lon, lat in [("180", "85.05112878"), ("-180", "-85.05112878"), ("180", "-85.05112878"),
                     ("-180", "85.05112878"), ("0", "0"), ("-0", "-0"), ("1e-320", "5e-324"), ("0x10", "0x1p3"),
                     ("+1.5", ".5"), ("5.", "-.5e1"), ("179.99999999999997", "85.05112877999999")]:
        pair.run(["GEOADD", g, lon, lat, f"{lon},{lat}"], ["GEOPOS", g, f"{lon},{lat}"], ["GEOHASH", g, f"{lon},{lat}"],
                 ["ZSCORE", g, f"{lon},{lat}"])


def test_geopos_geohash_geodist(pair: Pair) -> None:
    g = pair.key("g")
    pair.run(["GEOADD", g, *SICILY, -73.9454966, 40.747533, "NY", 151.2, -33.86, "Sydney"])
    pair.run(
        ["GEOPOS", g, "Palermo", "Catania", "nosuch", "NY", "Sydney"], ["GEOPOS", g], ["GEOPOS", g, "nosuch"],
        ["GEOPOS", pair.key("missing"), "a", "b"], ["GEOPOS", pair.key("missing")],
        ["GEOHASH", g, "Palermo", "Catania", "nosuch", "NY", "Sydney"], ["GEOHASH", g], ["GEOHASH", pair.key("x"), "a"],
        ["GEODIST", g, "Palermo", "Catania"], ["GEODIST", g, "Palermo", "Catania", "km"],
        ["GEODIST", g, "Palermo", "NY", "MI"], ["GEODIST", g, "NY", "Sydney", "Ft"], ["GEODIST", g, "NY", "Sydney", "M"],
        ["GEODIST", g, "Palermo", "Palermo"], ["GEODIST", g, "Palermo", "nosuch"], ["GEODIST", g, "nosuch", "Palermo"],
        ["GEODIST", g, "Palermo", "Catania", "yd"], ["GEODIST", g, "Palermo", "Catania", "km", "extra"],
        ["GEODIST", pair.key("missing"), "a", "b"], ["GEODIST", pair.key("missing"), "a", "b", "yd"],
        ["GEODIST", pair.key("missing"), "a", "b", "km", "x"], ["GEODIST", g, "Palermo"],
    )


def test_geo_readers_on_hand_made_scores(pair: Pair) -> None:
    """Scores GEOADD never writes: a score becomes its 64 bits as x86-64 truncates a double."""
    z = pair.key("z")
    pair.run(["ZADD", z, -1, "neg", "1e30", "huge", 2.5, "frac", "inf", "pinf", "-inf", "ninf", 2**63, "big63",
              2**64, "big64", -(2**63) - 1, "nbig", "1e15", "ok", 2**52, "p52", "4503599627370495.5", "fr52",
              "-0", "nz", 0, "zero", 3 << 52, "top", "-1e-300", "tiny", 2**63 - 1024, "below63"])
    members = ["neg", "huge", "frac", "pinf", "ninf", "big63", "big64", "nbig", "ok", "p52", "fr52", "nz", "zero",
               "top", "tiny", "below63"]
    pair.run(["GEOPOS", z, *members], ["GEOHASH", z, *members], ["GEODIST", z, "neg", "huge"],
             ["GEODIST", z, "ok", "fr52", "km"], ["GEODIST", z, "ninf", "zero"])
    pair.run(["GEOSEARCH", z, "FROMMEMBER", "ok", "BYRADIUS", 30000, "km", "WITHHASH", "WITHCOORD", "WITHDIST"],
             ["GEOSEARCH", z, "FROMMEMBER", "neg", "BYBOX", 40000, 40000, "km", "WITHHASH", "ASC"],
             ["GEORADIUSBYMEMBER", z, "frac", 100, "km", "WITHHASH"])


def test_search_argument_errors(pair: Pair) -> None:
    g, s = pair.key("g"), pair.key("str")
    nokey = pair.key("nokey")
    pair.run(["GEOADD", g, *SICILY], ["SET", s, "x"])
    for key in (g, nokey):
        pair.run(
            ["GEORADIUS", key, 1000, 1, 1, "km"], ["GEORADIUS", key, 1, 100, 1, "km"], ["GEORADIUS", key, "x", 1, 1, "km"],
            ["GEORADIUS", key, 1, 1, -1, "km"], ["GEORADIUS", key, 1, 1, "x", "km"], ["GEORADIUS", key, 1, 1, "", "km"],
            ["GEORADIUS", key, 1, 1, 1, "yd"], ["GEORADIUS", key, 1, 1, 1, "km", "store"],
            ["GEORADIUS", key, 1, 1, 1, "km", "count"], ["GEORADIUS", key, 1, 1, 1, "km", "count", 0],
            ["GEORADIUS", key, 1, 1, 1, "km", "count", -1], ["GEORADIUS", key, 1, 1, 1, "km", "count", "x"],
            ["GEORADIUS", key, 1, 1, 1, "km", "count", "1.5"], ["GEORADIUS", key, 1, 1, 1, "km", "any"],
            ["GEORADIUS", key, 1, 1, 1, "km", "withdist", "store", pair.key("d")],
            ["GEORADIUS", key, 1, 1, 1, "km", "storedist", pair.key("d"), "withhash"],
            ["GEORADIUS", key, 1, 1, 1, "km", "store", pair.key("d"), "withcoord", "any"],
            ["GEORADIUS", key, 1, 1, 1, "km", "foo"], ["GEORADIUS", key, 1, 1, 1, "km", "frommember", "x"],
            ["GEORADIUS", key, 1, 1, 1, "km", "byradius", 1, "km"],
            ["GEORADIUS_RO", key, 1, 1, 1, "km", "store", pair.key("d")],
            ["GEORADIUS_RO", key, 1, 1, 1, "km", "storedist", pair.key("d")],
            ["GEORADIUS_RO", key, 1, 1, 1, "km", "any"], ["GEORADIUS_RO", key, 1000, 1, 1, "km"],
            ["GEORADIUSBYMEMBER", key, "nosuch", 1, "km"], ["GEORADIUSBYMEMBER", key, "nosuch", "x", "yd"],
            ["GEORADIUSBYMEMBER", key, "Palermo", "x", "km"], ["GEORADIUSBYMEMBER", key, "Palermo", -1, "km"],
            ["GEORADIUSBYMEMBER", key, "Palermo", 1, "yd"], ["GEORADIUSBYMEMBER", key, "Palermo", 1, "km", "foo"],
            ["GEORADIUSBYMEMBER", key, "Palermo", 1, "km", "withhash", "store", pair.key("d")],
            ["GEORADIUSBYMEMBER_RO", key, "Palermo", 1, "km", "store", pair.key("d")],
            ["GEORADIUSBYMEMBER_RO", key, "nosuch", 1, "km", "any"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km", "ANY"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km", "BYBOX", 1, 1, "km"],
            ["GEOSEARCH", key, "BYBOX", 1, 1, "km", "BYRADIUS", 1, "km", "FROMLONLAT", 1, 1],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "FROMMEMBER", "Palermo", "BYRADIUS", 1, "km"],
            ["GEOSEARCH", key, "FROMMEMBER", "Palermo", "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km"],
            ["GEOSEARCH", key, "FROMMEMBER", "nosuch", "BYRADIUS", 1, "km"],
            ["GEOSEARCH", key, "BYRADIUS", 1, "km", "WITHDIST", "WITHHASH"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "WITHDIST", "WITHHASH"],
            ["geoSearch", key, "FROMLONLAT", 1, 1, "WITHDIST"], ["geosearch", key, "BYRADIUS", 1, "km", "WITHHASH"],
            ["geosearchSTORE", pair.key("d"), key, "BYRADIUS", 1, "km", "COUNT", 1],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYRADIUS", -1, "km"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km", "COUNT", 0],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYBOX", -1, 1, "km"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYBOX", 1, -1, "yd"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYBOX", -1, "x", "yd"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYBOX", "x", 1, "km"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYBOX", 1, "x", "km"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYBOX", 1, 1, "yd"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYBOX", 1, 1],
            ["GEOSEARCH", key, "FROMLONLAT", 1, "BYRADIUS", 1, "km"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km", "STORE", pair.key("d")],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km", "STOREDIST"],
            ["GEOSEARCH", key, "FROMLONLAT", 500, 1, "BYRADIUS", 1, "km"],
            ["GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km", "WITHDIST", "COUNT"],
            ["GEOSEARCHSTORE", pair.key("d"), key, "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km", "WITHDIST"],
            ["GEOSEARCHSTORE", pair.key("d"), key, "BYRADIUS", 1, "km", "WITHDIST", "WITHHASH"],
            ["GEOSEARCHSTORE", pair.key("d"), key, "FROMLONLAT", 1, 1, "WITHHASH"],
            ["GEOSEARCHSTORE", pair.key("d"), key, "BYRADIUS", 1, "km", "COUNT", 1],
            ["GEOSEARCHSTORE", pair.key("d"), key, "FROMMEMBER", "Palermo", "WITHHASH", "STOREDIST"],
            ["GEOSEARCHSTORE", pair.key("d"), key, "FROMLONLAT", 1, 1, "BYBOX", 1, 1, "km", "ANY"],
            ["GEOSEARCHSTORE", pair.key("d"), key, "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km", "STORE", pair.key("d")],
        )
    # WRONGTYPE comes before any argument is looked at.
    pair.run(["GEORADIUS", s, 1000, 1, 1, "km"], ["GEORADIUS_RO", s, 1, 1, 1, "yd"],
             ["GEORADIUSBYMEMBER", s, "m", 1, "yd"], ["GEOSEARCH", s, "FROMLONLAT", 1000, 1, "BYRADIUS", 1, "km"],
             ["GEOSEARCHSTORE", pair.key("d"), s, "FROMMEMBER", "m", "BYRADIUS", 1, "km"],
             ["GEOPOS", s, "m"], ["GEOHASH", s, "m"], ["GEODIST", s, "a", "b"], ["GEODIST", s, "a", "b", "yd"],
             ["GEOADD", s, 1, 1, "m"], ["GEOADD", s, 1000, 1, "m"], ["GEOADD", s, "NX", "XX", 1, 1, "m"])
    # Arity, from the spec.
    pair.run(["GEOADD", g, 1, 1], ["GEOPOS"], ["GEODIST", g, "a"], ["GEOHASH"], ["GEORADIUS", g, 1, 1, 1],
             ["GEORADIUS_RO", g, 1, 1, 1], ["GEORADIUSBYMEMBER", g, "a", 1], ["GEORADIUSBYMEMBER_RO", g, "a", 1],
             ["GEOSEARCH", g, "FROMLONLAT", 1, 1], ["GEOSEARCHSTORE", pair.key("d"), g, "FROMLONLAT", 1, 1, "x"])
    # The last of repeated options wins; a missing key still answers after its arguments are checked.
    pair.run(*[["GEOSEARCH", key, "FROMLONLAT", 1, 1, "FROMLONLAT", 15, 37, "BYRADIUS", 1, "km", "BYRADIUS", 300, "km"]
               for key in (g, nokey)])
    pair.run(["GEORADIUS", g, 15, 37, 300, "km", "ASC", "DESC", "COUNT", 1, "COUNT", 2, "WITHDIST"],
             ["GEOSEARCH", g, "FROMMEMBER", "nosuch", "FROMMEMBER", "Palermo", "BYRADIUS", 300, "km", "desc"],
             ["GEORADIUSBYMEMBER", nokey, "m", "x", "yd", "count", 3],
             ["GEORADIUS", nokey, 1, 1, 1, "km", "STORE", pair.key("d")], ["EXISTS", pair.key("d")])


def test_search_results_and_options(pair: Pair) -> None:
    g = pair.key("g")
    pair.run(["GEOADD", g, *SICILY, 12.758489, 38.788135, "edge1", 17.241510, 38.788135, "edge2",
              13.5833, 37.3167, "Agrigento", 14.55, 37.05, "Ragusa"])
    for with_options in ([], ["WITHDIST"], ["WITHHASH"], ["WITHCOORD"], ["WITHDIST", "WITHHASH", "WITHCOORD"],
                         ["withcoord", "withdist"]):
        for order in ([], ["ASC"], ["DESC"], ["COUNT", 2], ["COUNT", 2, "DESC"], ["COUNT", 3, "ANY"],
                      ["COUNT", 1, "ANY", "ASC"], ["COUNT", 100], ["COUNT", 2, "ANY", "DESC"]):
            pair.run(
                ["GEORADIUS", g, 15, 37, 200, "km", *with_options, *order],
                ["GEORADIUS_RO", g, 15, 37, 150, "mi", *order, *with_options],
                ["GEORADIUSBYMEMBER", g, "Palermo", 200000, "m", *with_options, *order],
                ["GEORADIUSBYMEMBER_RO", g, "Agrigento", 500000, "ft", *with_options, *order],
                ["GEOSEARCH", g, "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km", *order, *with_options],
                ["GEOSEARCH", g, "FROMMEMBER", "Palermo", "BYBOX", 400, 400, "km", *order, *with_options],
                ["GEOSEARCH", g, "FROMLONLAT", 15, 37, "BYBOX", 200, 300, "km", *with_options, *order],
            )


def test_units_and_boundaries(pair: Pair) -> None:
    g = pair.key("g")
    pair.run(["GEOADD", g, *SICILY])
    # Radii exactly at a distance (as GEODIST prints it, and a hair around it).
    for unit in ("m", "km", "mi", "ft", "M", "KM", "Mi", "fT"):
        distance = pair.check("GEODIST", g, "Palermo", "Catania", unit)
        for radius in (distance, float(distance) * (1 - 1e-12), float(distance) * (1 + 1e-12)):
            pair.run(["GEORADIUSBYMEMBER", g, "Palermo", radius, unit, "WITHDIST"],
                     ["GEOSEARCH", g, "FROMMEMBER", "Catania", "BYBOX", 2 * float(radius), 2 * float(radius), unit])
    pair.run(["GEORADIUS", g, 13.361389, 38.115556, 0, "m", "WITHDIST"],
             ["GEORADIUSBYMEMBER", g, "Palermo", 0, "km"], ["GEOSEARCH", g, "FROMMEMBER", "Palermo", "BYBOX", 0, 0, "m"],
             ["GEORADIUS", g, 15, 37, "inf", "km", "WITHDIST"], ["GEORADIUS", g, 15, 37, "1e308", "km"],
             ["GEOSEARCH", g, "FROMLONLAT", 15, 37, "BYBOX", "inf", 1, "km"],
             ["GEOSEARCH", g, "FROMLONLAT", 15, 37, "BYBOX", 1, "inf", "km"],
             ["GEOSEARCH", g, "FROMLONLAT", 15, 37, "BYBOX", "1e300", "1e300", "km", "WITHDIST"],
             ["GEORADIUS", g, 15, 37, "5e-324", "m"], ["GEORADIUS", g, 15, 37, "0x1p10", "km"])


def test_poles_antimeridian_and_huge_radii(pair: Pair) -> None:
    rnd = random.Random(7)
    g = pair.key("g")
    points = (_points(rnd, 40, 179.5, 0, 3) + _points(rnd, 40, -179.5, 0, 3) + _points(rnd, 30, 0, 84.5, 20)
              + _points(rnd, 30, 90, -84.5, 20) + _points(rnd, 30, 0, 0, 360))
    for i in range(0, len(points), 3):
        points[i + 2] = f"m{i}"
    pair.run(["GEOADD", g, 180, 85.05112878, "corner", -180, -85.05112878, "corner2", *points])
    centres = [(180, 0), (-180, 0), (179.9, 1), (0, 85.05112878), (0, -85.05112878), (180, 85.05112878),
               (-180, -85.05112878), (45, 84.9), (-45, -80.5), (10, 66.5)]
    for lon, lat in centres:
        for radius in (1, 50, 500, 2000, 5000, 10000, 20000, 25000):
            pair.run(["GEORADIUS", g, lon, lat, radius, "km"],
                     ["GEOSEARCH", g, "FROMLONLAT", lon, lat, "BYBOX", radius, radius / 2, "km", "WITHDIST"],
                     ["GEOSEARCH", g, "FROMLONLAT", lon, lat, "BYRADIUS", radius, "km", "COUNT", 5, "ANY"],
                     ["GEOSEARCH", g, "FROMLONLAT", lon, lat, "BYRADIUS", radius, "km", "COUNT", 7, "DESC"])


def test_equal_distances_under_count(pair: Pair) -> None:
    """COUNT sorts with Redis's partial quicksort: the members kept among equal distances,
    and their order, are its own; without COUNT (or with a COUNT above the matches) the
    sort is glibc's stable merge sort."""
    rnd = random.Random(3)
    g = pair.key("g")
    spots = [(rnd.uniform(-20, 20), rnd.uniform(-20, 20)) for _ in range(4)]
    args = []
    for i in range(150):
        lon, lat = rnd.choice(spots)
        args += [lon, lat, f"m{i:03d}"]
    pair.run(["GEOADD", g, *args])
    for count in (1, 2, 5, 6, 7, 8, 30, 41, 60, 149, 150, 151):
        for order in ("ASC", "DESC", None):
            pair.run(["GEOSEARCH", g, "FROMMEMBER", "m000", "BYRADIUS", 5000, "km", "COUNT", count,
                      *([order] if order else []), "WITHDIST"])
    pair.run(["GEOSEARCH", g, "FROMMEMBER", "m000", "BYRADIUS", 5000, "km", "DESC"],
             ["GEOSEARCH", g, "FROMMEMBER", "m000", "BYRADIUS", 5000, "km", "ASC", "WITHHASH"])


def test_store_variants(pair: Pair) -> None:
    g, d = pair.key("g"), pair.key("dst")
    rnd = random.Random(11)
    pair.run(["GEOADD", g, *SICILY, *_points(rnd, 200, 14, 37.5, 4)])
    cases = [
        ["GEORADIUS", g, 15, 37, 200, "km", "STORE", d], ["GEORADIUS", g, 15, 37, 200, "km", "STOREDIST", d],
        ["GEORADIUS", g, 15, 37, 200, "mi", "STORE", d, "STOREDIST", d, "COUNT", 3],
        ["GEORADIUS", g, 15, 37, 20, "km", "STOREDIST", d, "STORE", d, "DESC"],
        ["GEORADIUSBYMEMBER", g, "Palermo", 50, "km", "STORE", d, "COUNT", 5, "ANY"],
        ["GEORADIUSBYMEMBER", g, "Palermo", 50, "km", "STOREDIST", d, "ASC"],
        ["GEOSEARCHSTORE", d, g, "FROMLONLAT", 15, 37, "BYRADIUS", 100, "km"],
        ["GEOSEARCHSTORE", d, g, "FROMLONLAT", 15, 37, "BYBOX", 100, 300, "km", "STOREDIST"],
        ["GEOSEARCHSTORE", d, g, "FROMMEMBER", "Catania", "BYRADIUS", 300, "km", "COUNT", 2, "STOREDIST"],
        ["GEOSEARCHSTORE", d, g, "FROMMEMBER", "Catania", "BYRADIUS", 1000, "km"],
    ]
    for command in cases:
        pair.run(["SET", d, "a string", "EX", 1000], command, ["TYPE", d], ["TTL", d],
                 ["ZRANGE", d, 0, -1, "WITHSCORES"], ["OBJECT", "ENCODING", d])
        pair.check_digest(d)
    # Nothing found: the destination is deleted (and 0 answered), the source missing or not.
    for command in (["GEORADIUS", g, 0, 0, 1, "km", "STORE", d], ["GEOSEARCHSTORE", d, g, "FROMLONLAT", 0, 0,
                                                                    "BYRADIUS", 1, "m"],
                    ["GEORADIUSBYMEMBER", pair.key("nokey"), "x", 1, "km", "STOREDIST", d],
                    ["GEOSEARCHSTORE", d, pair.key("nokey"), "FROMMEMBER", "x", "BYRADIUS", 1, "m"]):
        pair.run(["SET", d, "x"], command, ["EXISTS", d], command)
    # The source as its own destination.
    pair.run(["GEOSEARCHSTORE", g, g, "FROMMEMBER", "Palermo", "BYRADIUS", 100, "km", "STOREDIST"],
             ["ZRANGE", g, 0, -1, "WITHSCORES"])


def test_encodings_of_the_indexed_set(pair: Pair) -> None:
    g = pair.key("g")
    rnd = random.Random(5)
    pair.run(["GEOADD", g, *_points(rnd, 128, 10, 45, 2)], ["OBJECT", "ENCODING", g],
             ["GEOADD", g, 10, 45, "one more"], ["OBJECT", "ENCODING", g],
             ["GEOADD", pair.key("long"), 1, 1, "x" * 65], ["OBJECT", "ENCODING", pair.key("long")],
             ["GEOSEARCH", g, "FROMLONLAT", 10, 45, "BYRADIUS", 50, "km", "WITHCOORD", "WITHHASH"])
    pair.check_digest(g)


def test_transactions_and_stats(pair: Pair) -> None:
    g = pair.key("g")
    pair.run(["GEOADD", g, *SICILY])
    for command in (["MULTI"], ["GEOPOS", g, "Palermo", "nosuch"], ["GEOHASH", g, "nosuch"],
                    ["GEODIST", g, "nosuch", "Palermo"], ["GEOADD", g, 1, 1, "x"], ["GEOADD", g, 500, 1, "x"],
                    ["GEORADIUS", g, 15, 37, 1, "m"], ["EXEC"]):
        pair.check(*command)
    ref_before, ours_before = (_keyspace_counts(pair.ref), _keyspace_counts(pair.ours))
    for conn in (pair.ref, pair.ours):
        for command in (["GEOPOS", g, "x"], ["GEOPOS", pair.key("no"), "x"], ["GEODIST", g, "a", "b"],
                        ["GEORADIUS", pair.key("no"), 1, 1, 1, "km"], ["GEOSEARCH", g, "FROMLONLAT", 1, 1, "BYRADIUS", 1,
                                                                        "m"], ["GEOHASH", pair.key("no"), "x"]):
            conn.call(*command)
    assert _delta(_keyspace_counts(pair.ours), ours_before) == _delta(_keyspace_counts(pair.ref), ref_before)


def _keyspace_counts(conn) -> tuple[int, int]:
    info = conn.call("INFO", "stats")
    text = (info if isinstance(info, bytes) else info.text).decode()
    fields = dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)
    return int(fields["keyspace_hits"]), int(fields["keyspace_misses"])


def _delta(after: tuple[int, int], before: tuple[int, int]) -> tuple[int, int]:
    return after[0] - before[0], after[1] - before[1]


def test_cell_layout_shows_in_unsorted_replies(pair: Pair) -> None:
    """Without a sort, a reply lists the points cell by cell (centre, N, S, E, W, NE, NW, SE,
    SW), each in score order: the step Redis picks (coarser past 66° and 80° of latitude),
    its decrease near cell edges and the neighbours it drops all show in the order."""
    rnd = random.Random(13)
    for lat in (0.0, 45.0, 65.9, 66.5, -66.5, 79.9, 80.5, -80.5, 84.9, -85.0):
        for spread in (0.01, 0.3, 3.0, 20.0):
            g = pair.key(f"g{lat}:{spread}")
            lon = rnd.uniform(-180, 180)
            pair.run(["GEOADD", g, *_points(rnd, 60, lon, lat, spread)])
            for factor in (0.2, 0.5, 1.0, 2.0):
                reach = spread * 111 * factor
                pair.run(["GEORADIUS", g, lon, lat, reach, "km"],
                         ["GEOSEARCH", g, "FROMLONLAT", lon, lat, "BYBOX", 2 * reach, reach, "km"],
                         ["GEOSEARCH", g, "FROMLONLAT", lon, lat, "BYRADIUS", reach, "km", "COUNT", 4, "ANY"])
