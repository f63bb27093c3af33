"""Write effects of the bitmap and HyperLogLog commands: propagation and keyspace events.

Observed on the reference from outside (what its replica receives, what keyspace
notifications say) and taken in-process from specredis (propagation consumers and
notification hooks), with the helpers of ``tests/zsets/test_effects.py``. Notable
cases: a PFCOUNT that rewrites the cached cardinality is propagated (it is a read
that changes the value), PFDEBUG propagates only when it converted the encoding,
BITFIELD propagates even when OVERFLOW FAIL left the field alone, a SETBIT that
changes nothing is not propagated, nor a BITFIELD whose writes all left their field as
it was or failed with OVERFLOW FAIL (even when that created the key), and BITOP with an
empty result is a DEL.

A replica's MONITOR does not show admin commands, so PFDEBUG's propagation is checked
by the bytes the reference replica ends up with instead.
"""

from __future__ import annotations

import time

import pytest
from zsets.test_effects import reference_events, reference_propagation, replicated, specredis_effects

SEQUENCES: dict[str, list[list[str]]] = {
    "bitmaps": [
        ["SETBIT", "b", "7", "1"], ["SETBIT", "b", "7", "1"], ["SETBIT", "b", "100", "0"], ["SETBIT", "b", "3", "0"],
        ["GETBIT", "b", "7"], ["BITCOUNT", "b"], ["BITPOS", "b", "1"], ["BITFIELD", "b", "GET", "u8", "0"],
        ["BITFIELD", "b", "SET", "u8", "0", "255", "GET", "u4", "0"], ["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY",
                                                                      "u2", "0", "9"],
        ["BITFIELD", "b", "SET", "u8", "0", "255"], ["BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "5"],
        ["BITFIELD", "b", "INCRBY", "i8", "8", "0"], ["BITFIELD", "b", "SET", "u4", "40", "0"],
        ["BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u2", "9", "1", "INCRBY", "u2", "9", "7"],
        ["BITFIELD_RO", "b", "GET", "i8", "0"], ["BITFIELD", "b"], ["BITOP", "AND", "d", "b", "f"],
        ["BITOP", "OR", "d", "nokey"], ["BITOP", "OR", "d", "nokey"], ["BITOP", "NOT", "n", "b"],
        ["SET", "s", "abc"], ["SETBIT", "s", "0", "0"],
    ],
    "hyperloglog": [
        ["PFADD", "h", "a", "b"], ["PFADD", "h", "a"], ["PFADD", "h"], ["PFADD", "e"], ["PFCOUNT", "h"],
        ["PFCOUNT", "h"], ["PFADD", "h", "c"], ["PFCOUNT", "h", "e"], ["PFCOUNT", "h"], ["PFCOUNT", "nokey"],
        ["PFMERGE", "m", "h", "e"], ["PFMERGE", "m"], ["PFDEBUG", "ENCODING", "m"], ["PFDEBUG", "DECODE", "m"],
        ["PFDEBUG", "TODENSE", "m"], ["PFDEBUG", "TODENSE", "m"], ["PFDEBUG", "GETREG", "h"],
        ["PFDEBUG", "GETREG", "h"], ["PFCOUNT", "m"], ["PFMERGE", "m2", "m"],
    ],
}

__all__ = ["replicated"]      # the fixture, imported for the tests below


@pytest.mark.parametrize("family", sorted(SEQUENCES))
def test_propagation_matches_the_reference_replica(replicated, family: str) -> None:
    commands = SEQUENCES[family]
    expected = reference_propagation(*replicated, commands)
    actual, _ = specredis_effects(commands)
    assert [argv for argv in actual if argv[0] != "PFDEBUG"] == expected


def test_pfdebug_propagates_its_conversions(replicated) -> None:
    """The reference replica ends up with dense values after PFDEBUG TODENSE/GETREG, and
    specredis propagates exactly the PFDEBUGs that converted."""
    master, replica = replicated
    commands = [["PFADD", "m", "a"], ["PFDEBUG", "TODENSE", "m"], ["PFDEBUG", "TODENSE", "m"],
                ["PFADD", "g", "a"], ["PFDEBUG", "GETREG", "g"], ["PFDEBUG", "GETREG", "g"], ["PFDEBUG", "ENCODING", "g"]]
    conn, replica_conn = master.client(), replica.client()
    try:
        conn.call("FLUSHALL")
        for command in commands:
            conn.call(*command)
        conn.call("WAIT", "1", "5000")
        deadline = time.monotonic() + 5
        while replica_conn.call("STRLEN", "g") != 12304 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [replica_conn.call("GET", k) for k in ("m", "g")] == [conn.call("GET", k) for k in ("m", "g")]
        assert replica_conn.call("STRLEN", "m") == 12304
    finally:
        conn.close()
        replica_conn.close()
    actual, _ = specredis_effects(commands)
    assert [argv for argv in actual if argv[0] == "PFDEBUG"] == [["PFDEBUG", "TODENSE", "m"], ["PFDEBUG", "GETREG", "g"]]


@pytest.mark.parametrize("family", sorted(SEQUENCES))
def test_keyspace_events_match_the_reference(replicated, family: str) -> None:
    commands = SEQUENCES[family]
    expected = reference_events(replicated[0], commands)
    _, actual = specredis_effects(commands)
    assert actual == expected
