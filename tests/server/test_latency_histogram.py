"""LATENCY HISTOGRAM compared with the reference.

Durations differ between servers, so replies are compared by shape: the same commands
with the same call counts, bucket keys of the form Redis reports (the top of each
power-of-two step from 1024 ns, in microseconds), counts cumulative up to the calls."""

from __future__ import annotations

import re
from typing import Any

import pytest

from specredis.engine.core import Engine
from specredis.engine.info import LatencyHistogram
from specredis.engine.latency import histogram_usec
from specredis.protocol.replies import Map

# What 7.0.15 names its steps (checked with DEBUG SLEEP of growing lengths): the highest
# value of the HdrHistogram bucket holding 1024 * 2**k ns, in whole microseconds.
STEP_KEYS = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266,
             270532, 541065, 1082130]


def _pairs(reply: Any) -> list[tuple[Any, Any]]:
    """A map reply as (key, value) pairs: RESP3 maps and RESP2 flat arrays alike."""
    if hasattr(reply, "pairs"):
        return list(reply.pairs)
    assert isinstance(reply, list) and len(reply) % 2 == 0, reply
    return list(zip(reply[::2], reply[1::2], strict=True))


def _shape(reply: Any) -> list[tuple[bytes, int]]:
    """(command, calls) per entry, after checking each entry's histogram is well formed."""
    entries = []
    for name, body in _pairs(reply):
        fields = _pairs(body)
        assert [key for key, _ in fields] == [b"calls", b"histogram_usec"]
        calls = fields[0][1]
        steps = _pairs(fields[1][1])
        keys, counts = [k for k, _ in steps], [c for _, c in steps]
        assert keys and all(key in STEP_KEYS for key in keys) and keys == sorted(keys), steps
        assert counts == sorted(counts) and len(set(counts)) == len(counts) and counts[-1] == calls, steps
        entries.append((name, calls))
    return entries


SCENE = [
    ("SET", "a", "1"), ("SET", "a", "2"), ("SET", "a", "3"), ("GET", "a"), ("CONFIG", "GET", "maxmemory"),
    ("ASKING",),                      # fails: still timed
    ("SET", "a"),                     # refused (arity): not timed
    ("NOSUCHCOMMAND",), ("CONFIG", "NOSUCH"),
]

QUERIES = [
    ("set",), ("SET", "get"), ("set", "nosuch", "config", "config|get", "CONFIG|GET", "set"),
    ("config|",), ("|get",), ("config|get|x",), ("set|x",), ("nosuch",), ("asking",), ("latency",),
    ("LATENCY|HISTOGRAM",), ("latency|nosuch",),
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_histograms_match_the_reference(specredis, reference, protocol: int) -> None:
    results = []
    for server in (specredis, reference):
        client = server.client(protocol=protocol)
        client.call("CONFIG", "RESETSTAT")
        for command in SCENE:
            client.call(*command)
        whole = _shape(client.call("LATENCY", "HISTOGRAM"))
        # Redis walks its command tables in hash order, random per process: entries are
        # compared as multisets (the order of the arguments is checked below, on ours).
        named = [sorted(_shape(client.call("LATENCY", "HISTOGRAM", *query))) for query in QUERIES]
        results.append((sorted(whole), named))
    assert results[0] == results[1]
    whole, named = results[0]
    assert (b"set", 3) in whole and (b"asking", 1) in whole and (b"config|resetstat", 1) in whole
    ours = _shape(specredis.client(protocol=protocol).call("LATENCY", "HISTOGRAM", "set", "nosuch", "get",
                                                             "config|get", "SET"))
    assert ours == [(b"set", 3), (b"get", 1), (b"config|get", 1), (b"set", 3)]


def test_tracking_off_keeps_the_histograms_and_resetstat_clears_them(specredis, reference) -> None:
    steps = [("CONFIG", "RESETSTAT"), ("SET", "a", "1"), ("SET", "a", "1"),
             ("CONFIG", "SET", "latency-tracking", "no"), ("SET", "a", "1"), ("LATENCY", "HISTOGRAM", "set"),
             ("INFO", "latencystats"),
             ("CONFIG", "SET", "latency-tracking", "yes"), ("SET", "a", "1"), ("LATENCY", "HISTOGRAM", "set"),
             ("CONFIG", "RESETSTAT"), ("LATENCY", "HISTOGRAM", "set"), ("LATENCY", "HISTOGRAM", "config")]
    results = []
    for server in (specredis, reference):
        client = server.client()
        replies = [client.call(*step) for step in steps]
        results.append([_shape(reply) if step[:2] == ("LATENCY", "HISTOGRAM") else reply
                        for step, reply in zip(steps, replies, strict=True)])
    assert results[0] == results[1]
    shapes = results[0]
    assert shapes[5] == [(b"set", 2)] and shapes[9] == [(b"set", 3)]
    assert shapes[6] == b"# Latencystats\r\n"
    assert shapes[11] == [] and shapes[12] == [(b"config|resetstat", 1)]


def test_slow_commands_land_in_the_same_step(specredis, reference) -> None:
    """A 25 ms sleep falls between the 16908 and 33816 us steps on both servers."""
    keys = []
    for server in (specredis, reference):
        client = server.client()
        client.call("CONFIG", "RESETSTAT")
        client.call("DEBUG", "SLEEP", "0.025")
        debug = dict(_pairs(client.call("LATENCY", "HISTOGRAM", "debug")))[b"debug"]
        keys.append([key for key, _ in _pairs(dict(_pairs(debug))[b"histogram_usec"])])
    assert keys[0] == keys[1] == [33816]


def test_histogram_steps() -> None:
    """Durations in microseconds, counted up to each step's top (HdrHistogram, 2 digits)."""
    assert histogram_usec({}) == Map([])
    # 0 us counts as 1 ns; 1 us = 1000 ns <= 1031, the top of the 1024 ns bucket.
    assert histogram_usec({0: 2, 1: 1}) == Map([(1, 3)])
    assert histogram_usec({5: 4}) == Map([(8, 4)])
    # 33 us = 33000 ns fits the 33023 ns top of the 32768 ns bucket; 34 us does not.
    assert histogram_usec({33: 1, 34: 1}) == Map([(33, 1), (66, 2)])
    # Steps that add nothing are left out; the walk stops at the last duration.
    assert histogram_usec({1: 1, 300: 2, 2000: 1}) == Map([(1, 1), (528, 3), (2113, 4)])
    # Beyond the histogram's 1 s range durations count as 1 s.
    assert histogram_usec({5_000_000: 1}) == Map([(1082130, 1)])
    keys = [key for key, _ in histogram_usec({2 ** k: 1 for k in range(21)}).pairs]
    assert keys == STEP_KEYS


def test_in_process_histogram_counts_calls_and_failures() -> None:
    engine = Engine()
    client = engine.new_client()
    for _ in range(3):
        engine.execute(client, [b"SET", b"k", b"v"])
    engine.execute(client, [b"INCR", b"k"])                   # fails: counted
    engine.execute(client, [b"INCR"])                         # arity: refused, not counted
    reply = engine.execute(client, [b"LATENCY", b"HISTOGRAM", b"set", b"incr", b"get"])
    assert [(name, body.pairs[0]) for name, body in reply.pairs] == \
        [(b"set", (b"calls", 3)), (b"incr", (b"calls", 1))]


def test_blocked_commands_are_timed_when_served_not_when_timed_out(specredis, reference) -> None:
    results = []
    for server in (specredis, reference):
        waiter, pusher = server.client(), server.client()
        waiter.call("CONFIG", "RESETSTAT")
        waiter.call("DEL", "hist:l")
        waiter.send("BLPOP", "hist:l", "10")
        # Wait until the BLPOP is blocked before pushing.
        for _ in range(2000):
            if b"blocked_clients:1" in pusher.call("INFO", "clients"):
                break
        else:
            pytest.fail(f"{server.name}: BLPOP never blocked")
        pusher.call("LPUSH", "hist:l", "x")
        served = waiter.read_reply()
        after_served = _shape(pusher.call("LATENCY", "HISTOGRAM", "blpop"))
        timed_out = waiter.call("BLPOP", "hist:none", "0.05")
        after_timeout = _shape(pusher.call("LATENCY", "HISTOGRAM", "blpop"))
        results.append((served, after_served, timed_out, after_timeout))
    assert results[0] == results[1]
    assert results[0][1] == results[0][3] == [(b"blpop", 1)]


def test_info_latencystats_fields_match(specredis, reference) -> None:
    """INFO latencystats: the same commands with the configured percentiles, in Redis's format."""
    results = []
    for server in (specredis, reference):
        client = server.client()
        client.call("CONFIG", "RESETSTAT")
        client.call("CONFIG", "SET", "latency-tracking-info-percentiles", "0 12.5 50 99.99 100")
        client.call("SET", "a", "1")
        client.call("GET", "a")
        text = client.call("INFO", "latencystats").decode()
        client.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")
        lines = {}
        for line in text.splitlines()[1:]:
            name, _, fields = line.partition(":")
            values = [field.split("=") for field in fields.split(",")]
            assert all(re.fullmatch(r"\d+\.\d{3}", value) for _, value in values), line
            lines[name] = [percentile for percentile, _ in values]
            # p0 is the bottom of the lowest bucket, the others tops: p0 <= p12.5 <= ... <= p100.
            numbers = [float(value) for _, value in values]
            assert numbers == sorted(numbers), line
        results.append(lines)
    assert results[0] == results[1]
    assert results[0]["latency_percentiles_usec_set"] == ["p0", "p12.5", "p50", "p99.99", "p100"]


def test_percentile_zero_is_the_bottom_of_the_lowest_bucket() -> None:
    histogram = LatencyHistogram.from_microseconds({24: 1})
    # 24 us = 24000 ns, in the bucket 23936..24063 (128 ns wide at 2 significant digits).
    assert (histogram.value_at(0), histogram.value_at(50), histogram.value_at(100)) == (23936, 24063, 24063)
    assert LatencyHistogram.from_microseconds({0: 1, 7: 3}).value_at(0) == 1
