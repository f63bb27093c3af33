"""HyperLogLog property test against the reference: random sets, identical estimates and bytes.

Hypothesis draws up to three sets of random elements (any bytes, any length, so the
hash's 8-byte blocks and tails all occur), from empty to 100,000 elements, adds them
in random chunks, merges them, and requires every reply (PFADD's 0/1, PFCOUNT of
each key and of the union, PFMERGE) and every value's bytes (GET) to be the
reference's: sparse opcodes, dense registers, cached cardinalities.

CI runs a modest number of examples (a few large sets, many small ones); set
``SPECREDIS_HLL_DEEP=1`` for a longer run.
"""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DEEP = bool(os.environ.get("SPECREDIS_HLL_DEEP"))
KEYS = ["h0", "h1", "h2"]

# Mostly small and sparse; now and then up to the dense range and beyond.
set_size = st.one_of(
    st.integers(0, 60),
    st.integers(60, 1500),
    st.integers(1500, 12000),
    st.sampled_from([30000, 100000]),
)


@st.composite
def workload(draw: st.DrawFn) -> list[list]:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    sizes = draw(st.lists(set_size, min_size=1, max_size=3))
    if sum(sizes) > 150000:
        sizes = sizes[:1]
    overlap = draw(st.booleans())
    commands: list[list] = []
    for key, size in zip(KEYS, sizes, strict=False):
        if overlap and key != "h0":
            # Elements shared with h0 (numbers below 60000 collide), so unions overlap.
            items = [b"%d" % rng.randrange(60000) for _ in range(size)]
        else:
            items = [rng.randbytes(rng.choice([1, 3, 7, 8, 9, 16, 23, 40])) for _ in range(size)]
        start = 0
        while start < len(items):
            chunk = rng.choice([1, 10, 500, 5000])
            commands.append(["PFADD", key, *items[start:start + chunk]])
            start += chunk
        if not items:
            commands.append(["PFADD", key])
        if rng.random() < 0.5:
            commands.append(["PFCOUNT", key])
    for key in KEYS:
        commands += [["PFCOUNT", key], ["GET", key]]
    commands += [["PFCOUNT", *KEYS], ["PFMERGE", "dest", *draw(st.permutations(KEYS))], ["GET", "dest"],
                 ["PFCOUNT", "dest"], ["GET", "dest"], ["PFMERGE", "h1", "h0"], ["GET", "h1"], ["PFCOUNT", "h1"]]
    return commands


@pytest.fixture(scope="module")
def connections(specredis, reference):
    conns = (reference.client(timeout=60), specredis.client(timeout=60))
    yield conns
    for conn in conns:
        conn.close()


@settings(max_examples=400 if DEEP else 30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large,
                                 HealthCheck.too_slow])
@given(commands=workload())
def test_random_sets_give_the_references_estimates_and_bytes(connections, commands: list[list]) -> None:
    ref, ours = connections
    ref.call("FLUSHALL")
    ours.call("FLUSHALL")
    expected = ref.pipeline(commands)
    actual = ours.pipeline(commands)
    for command, want, got in zip(commands, expected, actual, strict=True):
        label = command[:2] + ([f"... {len(command) - 2} elements"] if command[0] == "PFADD" else command[2:])
        assert got == want, f"{label}: reference {want!r}, specredis {got!r}"
