"""The stream type in-process: StreamValue against a plain model (Hypothesis), the radix-tree
node count against an explicit trie, memory per entry, and blocking reads on a fake clock."""

from __future__ import annotations

import tracemalloc
from bisect import bisect_left

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specredis.engine.core import Engine
from specredis.engine.streamid import MAX_ID, format_id, parse_id
from specredis.engine.types.stream import StreamValue
from specredis.protocol.replies import NULL_ARRAY, Map

FIELDS = [b"a", b"b", b"123", b"x" * 70]
VALUES = [b"1", b"-7", b"0", b"v", b"y" * 80, b"12345678901", b""]

ops = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(1, 1 << 40), st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3),
              st.sampled_from(VALUES)),
    st.tuples(st.just("del"), st.integers(0, 400)),
    st.tuples(st.just("maxlen"), st.integers(0, 300), st.booleans(), st.integers(0, 250)),
    st.tuples(st.just("minid"), st.integers(0, 400), st.booleans()),
), max_size=300)


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ops, st.sampled_from([(100, 4096), (3, 0), (0, 120), (5, 1)]))
def test_stream_value_matches_a_model(operations: list, limits: tuple[int, int]) -> None:
    max_entries, max_bytes = limits
    stream = StreamValue()
    model: dict[int, list[bytes]] = {}
    added: list[int] = []
    last = 0
    for op in operations:
        if op[0] == "add":
            _, step, fields, value = op
            last += step
            pairs = [x for field in fields for x in (field, value)]
            stream.append(last, pairs, max_bytes, max_entries, sum(map(len, pairs)))
            model[last] = pairs
            added.append(last)
        elif op[0] == "del" and added:
            target = added[op[1] % len(added)]
            assert stream.delete(target) == (model.pop(target, None) is not None)
        elif op[0] == "maxlen":
            _, maxlen, approx, limit = op
            before = len(model)
            removed = stream.trim(maxlen, None, approx, limit if approx else 0)
            if not approx:
                assert removed == max(0, before - maxlen)
            else:
                assert len(model) - removed >= min(maxlen, len(model))
            for stream_id in sorted(model)[:removed]:
                del model[stream_id]
        elif op[0] == "minid" and added:
            _, index, approx = op
            minid = added[index % len(added)]
            removed = stream.trim(None, minid, approx, 0)
            older = sorted(i for i in model if i < minid)
            if not approx:
                assert removed == len(older)
            assert removed <= len(older)
            for stream_id in older[:removed]:
                del model[stream_id]
        ids = sorted(model)
        assert stream.length == len(model)
        assert stream.first_id == (ids[0] if ids else 0)
        assert sum(node.live for node in stream.nodes) == len(model)
        assert all(node.live + node.deleted <= max_entries for node in stream.nodes) or not max_entries
        assert stream.keys == [node.master for node in stream.nodes] == sorted(stream.keys)
    ids = sorted(model)
    assert stream.range(0, MAX_ID) == [[format_id(i), model[i]] for i in ids]
    assert stream.range(0, MAX_ID, reverse=True) == [[format_id(i), model[i]] for i in reversed(ids)]
    for probe in added[::7]:
        start = bisect_left(ids, probe)
        assert stream.range(probe, MAX_ID, 5) == [[format_id(i), model[i]] for i in ids[start:start + 5]]
        assert stream.range(0, probe, 3, reverse=True) == \
            [[format_id(i), model[i]] for i in list(reversed(ids[:bisect_left(ids, probe + 1)]))[:3]]
        assert stream.entry(probe) == model.get(probe)
    assert stream.last_entry_id() == (ids[-1] if ids else None)


def explicit_rax_nodes(keys: list[bytes]) -> int:
    """Redis's rax node count for keys of one length, from an explicit trie: the root, each
    branching position, each child of a branching position, and each run of single-child
    positions after one (a compressed node), every key ending in a leaf."""
    if not keys:
        return 1
    trie: dict = {}
    for key in keys:
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})

    def count_from(node: dict, is_root: bool) -> int:
        # A node reached here starts a rax node: compressed if it has exactly one child
        # (the run goes on through single-child positions), branching if more, leaf if none.
        if len(node) == 1:
            while len(node) == 1:
                node = next(iter(node.values()))
            # ``node`` is now a branching position or a leaf: its own rax node.
            return 1 + count_from(node, False)
        if not node:
            return 1
        return 1 + sum(count_from(child, False) for child in node.values())

    return count_from(trie, True)


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, (1 << 64) - 1), st.integers(0, 300)), max_size=40, unique=True))
def test_radix_tree_node_count_matches_an_explicit_trie(ids: list[tuple[int, int]]) -> None:
    stream = StreamValue()
    stream.keys = sorted(ms << 64 | seq for ms, seq in ids)
    keys = [key.to_bytes(16, "big") for key in stream.keys]
    assert stream.rax_node_count() == explicit_rax_nodes(keys)


def test_radix_tree_node_counts_seen_on_the_reference() -> None:
    # Values read from Redis 7.0.15's XINFO STREAM for these node keys.
    stream = StreamValue()
    assert stream.rax_node_count() == 1
    stream.keys = [parse_id(b"1-1")]
    assert stream.rax_node_count() == 2
    stream.keys = [parse_id(b"1-0"), parse_id(b"101-0")]
    assert stream.rax_node_count() == 6
    stream.keys.append(parse_id(b"102-0"))
    assert stream.rax_node_count() == 8


def test_memory_per_entry_stays_small() -> None:
    engine = Engine()
    client = engine.new_client()
    entries = 50_000
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(entries):
            engine.execute(client, [b"XADD", b"s", b"*", b"reading", b"%d" % (i % 1000)])
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_entry = (after - before) / entries
    # IDs take 16 bytes in array columns, a value one list slot plus its bytes object; the
    # field name is kept once per node of 100 entries.
    assert per_entry < 100, per_entry


def test_blocking_read_times_out_on_the_engine_clock() -> None:
    now = [1_000_000]
    engine = Engine(clock=lambda: now[0])
    waiter, writer = engine.new_client(), engine.new_client()
    assert engine.execute(waiter, [b"XREAD", b"BLOCK", b"100", b"STREAMS", b"s", b"$"]) is not NULL_ARRAY
    now[0] += 99
    engine.scheduler.run_due()
    assert waiter.sink.delivered == []
    now[0] += 1
    engine.scheduler.run_due()
    assert waiter.sink.delivered == [NULL_ARRAY]
    refused = engine.execute(waiter, [b"XREADGROUP", b"GROUP", b"g", b"c", b"BLOCK", b"0", b"STREAMS", b"s", b">"])
    assert refused.text.startswith(b"NOGROUP No such key 's'")
    engine.execute(writer, [b"XGROUP", b"CREATE", b"s", b"g", b"$", b"MKSTREAM"])
    waiter.resp = 3
    engine.execute(waiter, [b"XREADGROUP", b"GROUP", b"g", b"c", b"BLOCK", b"0", b"STREAMS", b"s", b">"])
    now[0] += 10_000_000
    engine.scheduler.run_due()
    engine.execute(writer, [b"XADD", b"s", b"5-0", b"f", b"v"])
    assert waiter.sink.delivered[-1] == Map([(b"s", [[b"5-0", [b"f", b"v"]]])])


def test_copies_are_independent() -> None:
    engine = Engine()
    client = engine.new_client()
    for argv in ([b"XADD", b"s", b"1-0", b"f", b"v"], [b"XGROUP", b"CREATE", b"s", b"g", b"0"],
                 [b"XREADGROUP", b"GROUP", b"g", b"c", b"STREAMS", b"s", b">"], [b"COPY", b"s", b"t"],
                 [b"XACK", b"t", b"g", b"1-0"], [b"XADD", b"t", b"2-0", b"f", b"w"], [b"XDEL", b"s", b"1-0"]):
        engine.execute(client, argv)
    assert engine.execute(client, [b"XPENDING", b"s", b"g"])[0] == 1
    assert engine.execute(client, [b"XPENDING", b"t", b"g"])[0] == 0
    assert engine.execute(client, [b"XLEN", b"s"]) == 0
    assert engine.execute(client, [b"XRANGE", b"t", b"-", b"+"]) == [[b"1-0", [b"f", b"v"]], [b"2-0", [b"f", b"w"]]]
