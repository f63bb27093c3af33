"""The set value in-process: SSCAN's guarantee under writes, encodings, O(1) random members."""

from __future__ import annotations

import random

from specredis.engine.types.set import SetValue, scan_set


def test_sscan_returns_every_member_present_throughout_despite_writes() -> None:
    rng = random.Random(11)
    value = SetValue.from_members((b"s%d" % i for i in range(2000)), 512)
    assert value.encoding() == "hashtable"
    stable = set(value.items)
    transient = 0
    seen: set[bytes] = set()
    cursor = 0
    while True:
        cursor, page = scan_set(value, cursor, 13)
        seen.update(page)
        for _ in range(15):
            # New members arrive, and members of all ages leave (including stable ones' neighbours).
            transient += 1
            value.add(b"t%d" % transient, 512)
            victim = rng.choice(value.items)
            if not victim.startswith(b"s"):
                value.remove(victim)
        if cursor == 0:
            break
    assert stable <= seen


def test_encoding_follows_redis_rules() -> None:
    assert SetValue.from_members([b"1", b"-2", b"9223372036854775807"], 512).encoding() == "intset"
    for not_an_int in (b"01", b"+1", b" 1", b"-0", b"9223372036854775808", b"1.0", b"a"):
        assert SetValue.from_members([b"1", not_an_int], 512).encoding() == "hashtable", not_an_int
    assert SetValue.from_members([b"1", b"2", b"3"], 2).encoding() == "hashtable"
    value = SetValue.from_members([b"3", b"1", b"2"], 512)
    assert value.ordered() == [b"1", b"2", b"3"]        # intsets iterate in numeric order


def test_removal_keeps_positions_consistent() -> None:
    rng = random.Random(2)
    value = SetValue(intset=False)
    model: set[bytes] = set()
    for _ in range(3000):
        member = b"m%d" % rng.randrange(300)
        if rng.random() < 0.5:
            assert value.add(member, 512) == (member not in model)
            model.add(member)
        else:
            assert value.remove(member) == (member in model)
            model.discard(member)
        if model and rng.random() < 0.1:
            popped = value.pop_random(rng)
            model.remove(popped)
    assert set(value.items) == model
    assert all(value.items[pos] == m for m, pos in value.index.items())
