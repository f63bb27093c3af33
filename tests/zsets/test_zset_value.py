"""The sorted set value and its parsers, in-process: ranks and ranges at scale, SCAN's guarantee,
Redis's number syntaxes (the expected values were read off Redis 7.0.15)."""

from __future__ import annotations

import random

import pytest

from specredis.engine.core import Engine
from specredis.engine.types.zset import (
    LexRange,
    ScoreRange,
    ZSetValue,
    format_listpack_score,
    parse_lex_range,
    strtod_whole,
)
from specredis.protocol.replies import Double


def _naive(entries: dict[bytes, float]) -> list[tuple[float, bytes]]:
    return sorted((score, member) for member, score in entries.items())


def test_ranks_and_ranges_agree_with_a_sorted_list_through_random_updates() -> None:
    rng = random.Random(3)
    value = ZSetValue(listpack=False)
    model: dict[bytes, float] = {}
    for step in range(5000):
        member = b"m%d" % rng.randrange(800)
        score = rng.choice([0.0, 1.0, 2.5, -3.0, float("inf"), rng.random()])
        if member in model and rng.random() < 0.3:
            value.delete(member)
            del model[member]
        elif member in model:
            value.update(member, model[member], score)
            model[member] = score
        else:
            value.insert(member, score)
            model[member] = score
        if step % 250 == 0:
            ordered = _naive(model)
            assert list(value.ordered) == ordered
            for rank, (_, m) in enumerate(ordered):
                assert value.rank(m) == rank
            low, high = sorted(rng.choice([0.0, 1.0, 2.5, 0.5, -3.0]) for _ in range(2))
            for lowex in (False, True):
                for highex in (False, True):
                    lo, hi = value.score_interval(ScoreRange(low, lowex, high, highex))
                    expected = [e for e in ordered if (e[0] > low if lowex else e[0] >= low)
                                and (e[0] < high if highex else e[0] <= high)]
                    assert list(value.ordered[lo:hi]) == expected


def test_lex_ranges_on_equal_scores() -> None:
    value = ZSetValue(listpack=False)
    members = [b"", b"a", b"ab", b"b", b"b\x00", b"c", b"\xff"]
    for m in members:
        value.insert(m, 0.0)
    cases = {("-", "+"): members, ("[a", "(b"): [b"a", b"ab"], ("(a", "[b"): [b"ab", b"b"],
             ("[b", "[a"): [], ("(", "+"): members[1:], ("[", "["): [b""], ("+", "-"): []}
    for (low, high), expected in cases.items():
        rng: LexRange = parse_lex_range(low.encode(), high.encode())
        lo, hi = value.lex_interval(rng)
        assert [m for _, m in value.ordered[lo:hi]] == expected, (low, high)


def test_zscan_returns_every_member_present_throughout_despite_writes() -> None:
    rng = random.Random(5)
    value = ZSetValue(listpack=False)
    stable = {b"s%d" % i for i in range(3000)}
    for m in stable:
        value.insert(m, rng.random())
    seen: set[bytes] = set()
    cursor = 0
    churn = 0
    while True:
        cursor, page = value.scan(cursor, 17)
        seen.update(m for m, _ in page)
        # Members come and go between calls; the index may even be dropped and rebuilt.
        for _ in range(20):
            churn += 1
            value.insert(b"t%d" % churn, 1.0)
            if churn % 3 == 0:
                value.delete(b"t%d" % (churn - 1))
        if churn % 100 == 0:
            value.scan_index = None
        if cursor == 0:
            break
    assert stable <= seen


def test_listpack_score_text_matches_zscan_on_a_listpack() -> None:
    # ZSCAN of a listpack-encoded set on Redis 7.0.15 (see test_zsets.py::test_zscan).
    assert format_listpack_score(0.1) == b"0.10000000000000001"
    assert format_listpack_score(1e17) == b"100000000000000000"
    assert format_listpack_score(float(2 ** 62)) == b"4611686018427387904"
    assert format_listpack_score(float(2 ** 62 + 1024)) == b"4.6116860184273889e+18"
    assert format_listpack_score(-float(2 ** 62)) == b"-4611686018427387904"
    assert format_listpack_score(1e20) == b"1e+20"
    assert format_listpack_score(float("-inf")) == b"-inf"
    assert format_listpack_score(-0.0) == b"0"


@pytest.mark.parametrize(("text", "expected"), [
    (b"", (0.0, False)), (b"  5", (5.0, False)), (b"0x10", (16.0, False)), (b"-inf", (float("-inf"), False)),
    (b"1e400", (float("inf"), True)), (b"1e-400", (0.0, True)), (b"4e-320", (4e-320, True)),
    (b"0x1p-1074", (5e-324, False)), (b"5.", (5.0, False)), (b"  ", None), (b"1 ", None), (b"nan", None),
    (b"1_0", None), (b"0x", None), (b"abc", None), (b"1.8p1", None),
])
def test_strtod_whole(text: bytes, expected) -> None:
    assert strtod_whole(text) == expected


def test_from_pairs_encodes_by_size() -> None:
    small = ZSetValue.from_pairs([(b"a", -0.0), (b"b", 1.0)], 128, 64)
    assert small.encoding() == "listpack" and str(small.scores[b"a"]) == "0.0"
    big = ZSetValue.from_pairs([(b"m%d" % i, float(i)) for i in range(200)], 128, 64)
    assert big.encoding() == "skiplist" and big.rank(b"m150") == 150


def test_in_process_commands_and_replies() -> None:
    engine = Engine()
    client = engine.new_client()

    def run(*argv):
        return engine.execute(client, [a if isinstance(a, bytes) else str(a).encode() for a in argv])

    assert run("ZADD", "z", 1, "a", 2, "b") == 2
    assert run("ZRANGE", "z", 0, -1, "WITHSCORES") == [b"a", Double(1.0), b"b", Double(2.0)]  # RESP2: flat
    client.resp = 3
    assert run("ZRANGE", "z", 0, -1, "WITHSCORES") == [[b"a", Double(1.0)], [b"b", Double(2.0)]]
    assert run("ZPOPMIN", "z") == [b"a", Double(1.0)]
    assert run("ZMPOP", 1, "nokey", "MIN") is None
