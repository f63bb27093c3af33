"""Random bitmap workloads, differentially: Hypothesis draws commands, both servers run them.

* BITFIELD: random GET/SET/INCRBY on signed and unsigned fields of every width, plain
  and ``#`` offsets, the three OVERFLOW behaviours, values near the field limits;
* BITPOS and BITCOUNT: random strings and random BYTE/BIT ranges, negative and past
  the end, for both bit values;
* SETBIT/GETBIT/BITOP mixed with the string commands that share the bytes.

Each example starts from FLUSHALL; every reply is compared, then every key's bytes.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specredis.protocol.client import RespClient

KEYS = ["a", "b", "c"]


@st.composite
def field_type(draw: st.DrawFn) -> tuple[str, int]:
    signed = draw(st.booleans())
    bits = draw(st.integers(1, 64 if signed else 63))
    return ("i" if signed else "u") + str(bits), bits


@st.composite
def bitfield_op(draw: st.DrawFn) -> list[str]:
    kind = draw(st.sampled_from(["GET", "SET", "INCRBY", "OVERFLOW"]))
    if kind == "OVERFLOW":
        return ["OVERFLOW", draw(st.sampled_from(["WRAP", "SAT", "FAIL", "sat"]))]
    name, bits = draw(field_type())
    offset = draw(st.one_of(st.integers(0, 90).map(str), st.integers(0, 6).map(lambda n: f"#{n}")))
    if kind == "GET":
        return ["GET", name, offset]
    limit = 1 << (bits - 1)
    value = draw(st.one_of(
        st.integers(-(1 << 63), (1 << 63) - 1),
        st.integers(-300, 300),
        st.sampled_from([limit, limit - 1, -limit, -limit - 1, 2 * limit - 1, 2 * limit]).filter(
            lambda v: -(1 << 63) <= v < (1 << 63)),
    ))
    return [kind, name, offset, str(value)]


bitfield = st.tuples(st.sampled_from(["BITFIELD", "BITFIELD_RO"]), st.sampled_from(KEYS),
                     st.lists(bitfield_op(), min_size=1, max_size=5)).map(
    lambda t: [t[0], t[1], *[word for op in t[2] for word in op]])

index = st.integers(-40, 40).map(str)
byte_strings = st.binary(max_size=12) | st.lists(st.sampled_from([b"\x00", b"\xff", b"\x0f", b"\x80", b"\x01"]),
                                                 max_size=12).map(b"".join)
unit = st.sampled_from([[], ["BYTE"], ["BIT"], ["bit"]])

command = st.one_of(
    bitfield,
    st.tuples(st.just("SET"), st.sampled_from(KEYS), byte_strings).map(list),
    st.tuples(st.just("BITPOS"), st.sampled_from(KEYS), st.sampled_from(["0", "1"]),
              st.one_of(st.just([]), st.tuples(index).map(list), st.tuples(index, index, unit).map(
                  lambda t: [t[0], t[1], *t[2]]))).map(lambda t: [t[0], t[1], t[2], *t[3]]),
    st.tuples(st.just("BITCOUNT"), st.sampled_from(KEYS),
              st.one_of(st.just([]), st.tuples(index, index, unit).map(lambda t: [t[0], t[1], *t[2]]))).map(
        lambda t: [t[0], t[1], *t[2]]),
    st.tuples(st.just("SETBIT"), st.sampled_from(KEYS), st.integers(0, 120).map(str), st.sampled_from(["0", "1"])
              ).map(list),
    st.tuples(st.just("GETBIT"), st.sampled_from(KEYS), st.integers(0, 130).map(str)).map(list),
    st.tuples(st.just("BITOP"), st.sampled_from(["AND", "OR", "XOR"]), st.sampled_from(KEYS),
              st.lists(st.sampled_from([*KEYS, "missing"]), min_size=1, max_size=3)).map(
        lambda t: [t[0], t[1], t[2], *t[3]]),
    st.tuples(st.just("BITOP"), st.just("NOT"), st.sampled_from(KEYS), st.sampled_from([*KEYS, "missing"])
              ).map(list),
    st.tuples(st.sampled_from(["APPEND", "SETRANGE"]), st.sampled_from(KEYS), byte_strings).map(
        lambda t: [t[0], t[1], t[2]] if t[0] == "APPEND" else [t[0], t[1], "3", t[2]]),
)


@pytest.fixture(scope="module")
def connections(specredis, reference):
    conns = {protocol: (reference.client(protocol=protocol), specredis.client(protocol=protocol))
             for protocol in (2, 3)}
    yield conns
    for pair in conns.values():
        for conn in pair:
            conn.close()


def _run(conn: RespClient, commands: list[list]) -> list:
    conn.call("FLUSHALL")
    replies = conn.pipeline(commands)
    for k in KEYS:
        replies.append(conn.call("GET", k))
        replies.append(conn.call("OBJECT", "ENCODING", k))
    return replies


def _compare(connections: dict, commands: list[list], protocol: int) -> None:
    ref, ours = connections[protocol]
    expected = _run(ref, commands)
    actual = _run(ours, commands)
    for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
        label = commands[i] if i < len(commands) else "GET/OBJECT ENCODING"
        assert got == want, f"{label}: reference {want!r}, specredis {got!r}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(command, min_size=1, max_size=25), protocol=st.sampled_from([2, 3]))
def test_random_bitmap_workloads_match_the_reference(connections, commands: list[list], protocol: int) -> None:
    _compare(connections, commands, protocol)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=byte_strings, ranges=st.lists(st.tuples(st.sampled_from(["0", "1"]), index, index, unit),
                                           min_size=1, max_size=20))
def test_bitpos_and_bitcount_ranges_match_the_reference(connections, value: bytes, ranges: list) -> None:
    commands: list[list] = [["SET", "a", value]]
    for bit, start, end, how in ranges:
        commands += [["BITPOS", "a", bit, start, end, *how], ["BITPOS", "a", bit, start],
                     ["BITCOUNT", "a", start, end, *how]]
    _compare(connections, commands, 2)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(bitfield, min_size=1, max_size=15))
def test_bitfield_sequences_match_the_reference(connections, ops: list[list]) -> None:
    _compare(connections, ops, 3)
