"""ListValue against a plain Python list model, and its complexity on big lists."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from specredis.engine.types.list import LEFT, RIGHT, ListValue

OPS = st.lists(st.one_of(
    st.tuples(st.just("push_left"), st.lists(st.binary(max_size=3), min_size=1, max_size=4)),
    st.tuples(st.just("push_right"), st.lists(st.binary(max_size=3), min_size=1, max_size=4)),
    st.tuples(st.just("pop_left"), st.none()),
    st.tuples(st.just("pop_right"), st.none()),
    st.tuples(st.just("pop_many"), st.tuples(st.sampled_from([LEFT, RIGHT]), st.integers(1, 6))),
    st.tuples(st.just("set"), st.tuples(st.integers(0, 40), st.binary(max_size=3))),
    st.tuples(st.just("range"), st.tuples(st.integers(0, 40), st.integers(0, 40))),
    st.tuples(st.just("trim"), st.tuples(st.integers(0, 40), st.integers(0, 40))),
), max_size=60)


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_list_value_behaves_like_a_list(ops: list) -> None:
    value, model = ListValue(), []
    for name, arg in ops:
        if name == "push_left":
            value.push_left(arg)
            model[:0] = reversed(arg)
        elif name == "push_right":
            value.push_right(arg)
            model.extend(arg)
        elif name in ("pop_left", "pop_right"):
            if model:
                expected = model.pop(0) if name == "pop_left" else model.pop()
                assert (value.pop_left() if name == "pop_left" else value.pop_right()) == expected
        elif name == "pop_many":
            where, count = arg
            if model:
                n = min(count, len(model))
                expected = model[:n] if where == LEFT else model[::-1][:n]
                model = model[n:] if where == LEFT else model[:len(model) - n]
                assert value.pop_many(where, count) == expected
        elif name == "set":
            index, item = arg
            if index < len(model):
                value.set(index, item)
                model[index] = item
        elif name == "range":
            start, end = sorted(arg)
            if end < len(model):
                assert value.range(start, end) == model[start:end + 1]
        elif name == "trim":
            start, end = arg
            if end < len(model):
                value.trim(start, end)
                model = model[start:end + 1] if start <= end else []
        assert len(value) == len(model)
        assert list(value) == model
        for i in range(len(model)):
            assert value.get(i) == model[i]


def test_index_access_on_a_big_list_is_not_linear() -> None:
    value = ListValue()
    value.push_left([b"x"] * 200_000)
    value.push_right([b"y"] * 200_000)
    start = time.perf_counter()
    for i in range(0, 400_000, 40):
        value.get(i)
        value.set(i, b"z")
    assert value.range(199_990, 200_009) == [b"x"] * 10 + [b"z"] + [b"y"] * 9
    assert time.perf_counter() - start < 1.0        # 10,000 O(1) accesses: milliseconds


def test_alternating_ends_stay_amortised_constant() -> None:
    value = ListValue([b"v"] * 100_000)
    start = time.perf_counter()
    for _ in range(50_000):
        value.pop_left()
        value.pop_right()
        value.push_left([b"a"])
        value.push_right([b"b"])
    assert len(value) == 100_000
    assert time.perf_counter() - start < 2.0
