"""SORT on values whose conversion is out of range, kept apart from the other SORT tests.

Redis 7.0 checks ``errno == ERANGE`` after strtod without clearing errno first, so
once a conversion overflowed, later numeric SORTs of non-integer values on that
server fail too until something resets errno (e.g. a ZADD). specredis does not
reproduce that leftover state; these cases run last, on their own reference.
"""

from __future__ import annotations

from zsets.differential import Pair


def test_out_of_range_values_are_errors(pair: Pair) -> None:
    for i, value in enumerate(["4e-320", "1e-400", "1e400", "-1e400", "0x1p-1074"]):
        k = pair.key(f"l{i}")
        pair.check("RPUSH", k, value, 1, 2)
        pair.check("SORT", k)
        pair.check("SORT", k, "ALPHA")
        pair.check("SORT", k, "BY", "nosort")
        pair.check("ZADD", pair.key("reset-errno"), 1, "a")       # string2d clears errno in Redis
