"""HashValue against a dict model (both encodings), and the memory of small hashes."""

from __future__ import annotations

import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from specredis.engine.types.hash import HashValue

FIELD = st.binary(max_size=6) | st.sampled_from([b"\x00", b"\x01", b"\x02", b"\x02\x03", b"a\x00", b"f"])
OPS = st.lists(st.tuples(st.sampled_from(["set", "delete", "get"]), FIELD, st.binary(max_size=8)), max_size=80)


@settings(max_examples=300, deadline=None)
@given(OPS, st.integers(0, 12), st.integers(0, 8))
def test_hash_value_behaves_like_a_dict(ops: list, max_entries: int, max_value: int) -> None:
    value, model = HashValue(), {}
    for name, field, item in ops:
        if name == "set":
            assert value.set(field, item, max_entries, max_value) == (field not in model)
            model[field] = item
        elif name == "delete":
            assert value.delete(field) == (model.pop(field, None) is not None)
        else:
            assert value.get(field) == model.get(field)
            assert (field in value) == (field in model)
        assert len(value) == len(model)
        assert dict(value.items()) == model
        if value.table is None:
            # Listpack order is insertion order, as in Redis.
            assert [f for f, _ in value.items()] == list(model)
            assert len(model) <= max_entries
            assert all(len(f) <= max_value and len(v) <= max_value for f, v in model.items())


def test_a_small_hash_is_compact() -> None:
    """Target: at most 750 bytes per 10-field hash of small fields (Redis: 303)."""
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    hashes = []
    for n in range(1000):
        value = HashValue()
        for i in range(10):
            value.set(b"field%d" % i, b"value%d" % n, 512, 64)
        hashes.append(value)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    used = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    per_hash = used / len(hashes)
    print(f"{per_hash:.0f} bytes per 10-field hash")
    assert per_hash <= 750
