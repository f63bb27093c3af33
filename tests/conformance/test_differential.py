"""Differential state machines: random command sequences on specredis and the reference.

Each family below is a set of COMMAND DOCS groups (plus single extra commands). A
machine draws commands of the family that specredis serves *right now* (``COMMAND
LIST``), so a newly implemented command is covered by the next run without touching
this file. Each step sends one command to both servers on the same protocol, picked
at random per step (so both protocols see every command kind while the two
datasets stay in lock step), and compares the replies; each example starts from
FLUSHALL and ends with a dataset comparison (DEBUG DIGEST + expiry times).

To cover a new family, declare it and a three-line test::

    STREAMS = Family("streams", groups=("stream", "generic"), share=0.25)

    def test_streams(pair, conformance_run, shard):
        run_family(pair, STREAMS, conformance_run, shard)
"""

from __future__ import annotations

from typing import Any

import pytest
from conformance.harness import (
    STEPS_PER_EXAMPLE,
    Coverage,
    Family,
    Mismatch,
    RunSize,
    ServerPair,
    comparison_mode,
    exclusion_reason,
    family_commands,
    replies_differ,
)
from conformance.strategies import (
    KEY,
    VALUE,
    Argv,
    command_strategy,
    command_words,
    is_skipped,
    load_specs,
    spec_dir_from_env,
    unknown_command_strategy,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as use_seed
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from hypothesis.strategies import SearchStrategy

from specredis.protocol.client import NULL_ARRAY, RespClient, RespError, RSet, Status

#: Keys, strings and expiry: the generic and string groups (all the expiry commands are in
#: generic), the server/connection commands that move keys between databases, and one
#: writer per other type, so string commands meet WRONGTYPE and generic ones every type.
KEYSPACE = Family("keyspace", groups=("generic", "string"),
                  extra=("select", "dbsize", "flushdb", "swapdb", "lpush", "sadd", "hset", "zadd"))

#: One machine per data type, with the generic commands that see it (DEL, TYPE, RENAME,
#: COPY, SORT, OBJECT...), at a quarter of the keyspace family's size in CI.
SETS = Family("sets", groups=("set", "generic"), share=0.25)
LISTS = Family("lists", groups=("list", "generic"), share=0.25)
HASHES = Family("hashes", groups=("hash", "generic"), share=0.25)
ZSETS = Family("zsets", groups=("sorted-set", "generic"), share=0.25)

#: Bitmaps, with the string commands that read and write the same bytes.
BITMAPS = Family("bitmaps", groups=("bitmap",), extra=("get", "set", "append", "setrange", "strlen", "del", "exists",
                                                       "type", "lpush"), share=0.25)

#: HyperLogLogs, with the string commands that can read, replace or corrupt their bytes.
HYPERLOGLOG = Family("hyperloglog", groups=("hyperloglog",), extra=("get", "set", "append", "setrange", "setbit",
                                                                    "del", "exists", "type", "lpush"), share=0.25)

#: GEO commands, with the sorted-set commands that write scores GEOADD never would.
GEO = Family("geo", groups=("geo",), extra=("zadd", "zrange", "zscore", "del", "exists", "type", "lpush"),
             share=0.25)

#: Streams and consumer groups (explicit IDs, no BLOCK, no time-dependent claims: see
#: stream_strategies.py), with the generic commands and one writer of another type.
STREAMS = Family("streams", groups=("stream", "generic"), extra=("lpush",), share=0.25)


def container_strategy(name: str) -> SearchStrategy[Argv]:
    """A container alone, or with a subcommand nobody has: the dispatcher's errors."""
    word = name.upper().encode()
    return st.one_of(st.just([word]), st.tuples(st.sampled_from((b"NOSUCH", b"", b"help2")),
                                                st.lists(st.one_of(KEY, VALUE), max_size=2)).map(
        lambda t: [word, t[0], *t[1]]))


def commands_strategy(pair: ServerPair, fullnames: list[str]) -> SearchStrategy[tuple[str, Argv]]:
    """(fullname, argv) for the given commands, plus requests for unknown commands."""
    containers = {spec.get("container") for spec in pair.specs.values()}
    choices = []
    for fullname in fullnames:
        spec = pair.specs[fullname]
        strategy = container_strategy(fullname) if fullname in containers else command_strategy(spec)
        choices.append(st.tuples(st.just(fullname), strategy))
    choices.append(st.tuples(st.just("(unknown command)"), unknown_command_strategy()))
    return st.one_of(choices)


def build_machine(pair: ServerPair, fullnames: list[str], coverage: Coverage,
                  protocols: tuple[int, ...] | None = None) -> type[RuleBasedStateMachine]:
    """A RuleBasedStateMachine class sending ``fullnames`` to ``pair`` on ``protocols``
    (default: every protocol the pair speaks, picked at random per step)."""
    command = commands_strategy(pair, fullnames)
    protocol_choice = st.sampled_from(protocols or pair.protocols)

    class DifferentialMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            pair.reset()
            self.history: list[tuple[int, Argv]] = []
            self.step_failed = False
            coverage.examples += 1

        @rule(command=command, protocol=protocol_choice)
        def send(self, command: tuple[str, Argv], protocol: int) -> None:
            fullname, argv = command
            self.step_failed = True
            try:
                expected, _ = pair.step(protocol, fullname, argv, self.history)
            except Mismatch as mismatch:
                coverage.failures.append(str(mismatch))
                raise
            coverage.record(fullname, protocol, expected)
            self.step_failed = False

        def teardown(self) -> None:
            # After a failed step the datasets may legitimately differ; that step's error is
            # the one to report.
            if not self.step_failed and self.history:
                try:
                    coverage.dataset_checks[pair.check_datasets(self.history)] += 1
                except Mismatch as mismatch:
                    coverage.failures.append(str(mismatch))
                    raise

    return DifferentialMachine


def run_family(pair: ServerPair, family: Family, size: RunSize, shard: int) -> Coverage:
    """Run one shard of ``family``'s machine; fails on the first (shrunk) difference."""
    fullnames = family_commands(family, pair.specs, pair.served, pair.active_expire_off)
    if not fullnames:
        pytest.skip(f"specredis serves no command of the {family.name} family ({', '.join(family.groups)}) yet")
    if not pair.can_reset:
        pytest.skip("specredis serves neither FLUSHALL nor DEL yet: examples cannot start from an empty dataset")
    coverage = Coverage()
    examples = max(1, round(size.examples * family.share))
    print(f"{family.name} shard {shard}: seed {size.seed(shard)} ({examples} examples of up to "
          f"{size.steps} steps; rerun with --conformance-seed {size.base_seed}); "
          f"{len(fullnames)} commands: {' '.join(fullnames)}")
    try:
        run_machine(build_machine(pair, fullnames, coverage), size.seed(shard), examples, size.steps)
    except BaseException:
        if coverage.failures:
            # What Hypothesis reports is the shrunk failure, or only "Flaky" when a replay did
            # not fail again: the first difference seen is the evidence either way.
            print(f"first difference seen ({len(coverage.failures)} in all):\n{coverage.failures[0]}")
        raise
    # Every command of the family must be compared on every protocol, or the run proves
    # less than it claims: a command the random run missed on a protocol gets a short run
    # of its own there (deterministically seeded too).
    for protocol in pair.protocols:
        missed = [name for name, p in coverage.missing(fullnames, pair.protocols) if p == protocol]
        if missed:
            print(f"topping up RESP{protocol} for {' '.join(missed)}")
            run_machine(build_machine(pair, missed, coverage, protocols=(protocol,)),
                        size.seed(shard), max(20, 4 * len(missed)), size.steps)
    print(coverage.summary())
    assert coverage.missing(fullnames, pair.protocols) == []
    if 3 not in pair.protocols:
        pytest.skip("compared in RESP2 only (no differences found): specredis does not serve HELLO yet, "
                    "so RESP3 is untested")
    return coverage


def run_machine(machine: type[RuleBasedStateMachine], seed: int, examples: int, steps: int) -> None:
    """Run a machine class with the harness's settings (seeded, no example database)."""
    seeded: Any = use_seed(seed)(machine)
    run_state_machine_as_test(seeded, settings=settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    ))


def test_keyspace_strings_expiry(pair: ServerPair, conformance_run: RunSize, shard: int) -> None:
    """Keys, strings and expiry: identical replies and datasets on both servers."""
    run_family(pair, KEYSPACE, conformance_run, shard)


def test_sets(pair: ServerPair, conformance_run: RunSize, shard: int) -> None:
    """Sets and the generic commands on them."""
    run_family(pair, SETS, conformance_run, shard)


def test_lists(pair: ServerPair, conformance_run: RunSize, shard: int) -> None:
    """Lists (without the blocking commands) and the generic commands on them."""
    run_family(pair, LISTS, conformance_run, shard)


def test_hashes(pair: ServerPair, conformance_run: RunSize, shard: int) -> None:
    """Hashes and the generic commands on them."""
    run_family(pair, HASHES, conformance_run, shard)


def test_sorted_sets(pair: ServerPair, conformance_run: RunSize, shard: int) -> None:
    """Sorted sets (without the blocking commands) and the generic commands on them."""
    run_family(pair, ZSETS, conformance_run, shard)


def test_bitmaps(pair: ServerPair, conformance_run: RunSize, shard: int) -> None:
    """Bitmaps and the string commands on the same bytes."""
    run_family(pair, BITMAPS, conformance_run, shard)


def test_hyperloglog(pair: ServerPair, conformance_run: RunSize, shard: int) -> None:
    """HyperLogLogs, including values the string commands corrupted."""
    run_family(pair, HYPERLOGLOG, conformance_run, shard)


def test_geo(pair: ServerPair, conformance_run: RunSize, shard: int) -> None:
    """GEO commands on sorted sets, hand-made scores included."""
    run_family(pair, GEO, conformance_run, shard)


def test_streams(pair: ServerPair, conformance_run: RunSize, shard: int) -> None:
    """Streams and consumer groups, with the generic commands on them."""
    coverage = run_family(pair, STREAMS, conformance_run, shard)
    assert coverage.examples >= round(conformance_run.examples * STREAMS.share)


# -- the harness's own tests: it must be able to fail -------------------------------------------


def test_comparison_modes_follow_the_spec_tips_and_the_time_table() -> None:
    specs = load_specs(spec_dir_from_env())
    assert comparison_mode("get", specs["get"]) == "exact"
    assert comparison_mode("keys", specs["keys"]) == "unordered"          # nondeterministic_output_order
    assert comparison_mode("randomkey", specs["randomkey"]) == "shape"    # nondeterministic_output
    assert comparison_mode("pttl", specs["pttl"]) == "time"               # tolerant, not shape-only
    assert comparison_mode("expiretime", specs["expiretime"]) == "time"


def test_replies_differ_on_values_types_order_and_error_text() -> None:
    assert replies_differ("exact", "get", b"1", b"2")
    assert replies_differ("exact", "get", b"1", 1)
    assert replies_differ("exact", "get", None, NULL_ARRAY)
    assert replies_differ("exact", "set", Status("OK"), b"OK")
    assert replies_differ("exact", "get", RespError("ERR a"), RespError("ERR b"))
    assert replies_differ("exact", "mget", [b"a", b"b"], [b"b", b"a"])
    assert not replies_differ("exact", "smembers", RSet((b"a", b"b")), RSet((b"b", b"a")))
    assert not replies_differ("unordered", "keys", [b"a", b"b"], [b"b", b"a"])
    assert replies_differ("unordered", "keys", [b"a", b"a"], [b"a", b"b"])
    assert not replies_differ("shape", "randomkey", b"k1", b"k2")
    assert replies_differ("shape", "randomkey", b"k1", None)
    assert replies_differ("shape", "dump", RespError("ERR x"), RespError("ERR y"))
    assert not replies_differ("shape", "scan", [b"0", [b"a", b"b"]], [b"0", [b"b"]])
    assert replies_differ("shape", "scan", [b"0", [b"a"]], [b"0", [1]])


def test_a_spec_can_override_or_skip_its_strategy() -> None:
    specs = load_specs(spec_dir_from_env())
    spec = dict(specs["get"], conformance={"strategy": "hypothesis.strategies:just"})
    drawn = []

    @settings(max_examples=3, database=None)
    @given(command_strategy(spec))
    def draw(item: Any) -> None:
        drawn.append(item)

    draw()
    assert drawn and all(item is spec for item in drawn)     # just(spec): called with the spec
    assert not is_skipped(specs["get"])
    assert is_skipped(dict(specs["get"], conformance={"normalize": "skip"}))
    assert exclusion_reason("get", dict(specs["get"], conformance={"normalize": "skip"})) is not None
    assert exclusion_reason("blpop", specs["blpop"]) is not None        # blocking
    assert exclusion_reason("debug", specs["debug"]) is not None        # denied


@settings(max_examples=300, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_drawn_ttls_never_expire_during_an_example(data: st.DataObject) -> None:
    """Relative TTLs are <= 0 or >= 100 s: a key must not expire between the two servers'
    executions of a command. (RESTORE once drew "1" -- 1 ms -- as its relative ttl.)"""
    specs = load_specs(spec_dir_from_env())
    fullname = data.draw(st.sampled_from(["restore", "set", "setex", "psetex", "getex", "expire", "pexpire"]))
    argv = data.draw(command_strategy(specs[fullname], mutate=False))
    words = [a.upper() for a in argv]
    if fullname == "restore":
        candidates = [argv[2]]
    elif fullname in ("setex", "psetex", "expire", "pexpire"):
        candidates = [argv[2]]
    else:
        candidates = [argv[i + 1] for i, w in enumerate(words[:-1]) if w in (b"EX", b"PX")]
    for raw in candidates:
        try:
            ttl = int(raw)
        except ValueError:
            continue
        unit_ms = 1 if fullname in ("restore", "psetex", "pexpire") or b"PX" in words else 1000
        assert ttl <= 0 or ttl * unit_ms >= 100_000, (fullname, argv)


def test_time_replies_are_tolerant_only_for_real_ttls() -> None:
    assert not replies_differ("time", "pttl", 99_998, 99_990)
    assert replies_differ("time", "pttl", 100_000, 99_000)
    assert replies_differ("time", "pttl", -1, -2)
    assert replies_differ("time", "ttl", -1, 0)
    assert not replies_differ("time", "ttl", 100, 99)
    assert replies_differ("time", "ttl", 100, 98)
    assert replies_differ("time", "ttl", RespError("ERR a"), 5)
    # On a loaded machine the bound is what the example measured: two exchanges for a reading
    # of a remaining time, one for an absolute deadline.
    assert not replies_differ("time", "pttl", 100_000, 99_000, slowest_exchange_ms=600)
    assert replies_differ("time", "pttl", 100_000, 99_000, slowest_exchange_ms=400)
    assert replies_differ("time", "pexpiretime", 100_000, 99_000, slowest_exchange_ms=600)
    assert not replies_differ("time", "ttl", 100, 97, slowest_exchange_ms=600)
    assert replies_differ("time", "ttl", 100, 97, slowest_exchange_ms=400)
    assert replies_differ("time", "pttl", -1, 5, slowest_exchange_ms=10_000)


@settings(max_examples=300, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_every_spec_yields_argvs_that_name_the_command(data: st.DataObject) -> None:
    specs = load_specs(spec_dir_from_env())
    fullname = data.draw(st.sampled_from(sorted(specs)))
    argv = data.draw(command_strategy(specs[fullname], mutate=False))
    assert all(isinstance(arg, bytes) for arg in argv)
    words = [w.lower() for w in argv[: len(command_words(fullname))]]
    assert words == [w.lower().encode() for w in command_words(fullname)]


def test_grammar_argvs_are_mostly_accepted_by_the_reference(locked_reference: Any) -> None:
    """The strategies are useful: for every command of the keyspace family, some drawn argvs
    succeed on the reference (not just syntax errors), over a dataset of string keys."""
    specs = load_specs(spec_dir_from_env())
    fullnames = family_commands(KEYSPACE, specs, specs)
    never_accepted = []
    with RespClient(locked_reference.host, locked_reference.port) as conn:

        @settings(max_examples=30, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def probe(data: st.DataObject) -> None:
            argv = data.draw(command_strategy(specs[fullname], mutate=False))
            conn.call("FLUSHALL")
            conn.call("MSET", b"k1", b"10", b"k2", b"hello", b"{tag}a", b"3.5")
            if not isinstance(conn.call(*argv), RespError):
                accepted.append(argv)

        for fullname in fullnames:
            if fullname in ("object", "flushdb"):
                continue      # a container; FLUSHDB is fine but needs no proof
            accepted: list[Argv] = []
            probe()
            if not accepted:
                never_accepted.append(fullname)
        conn.call("FLUSHALL")
    assert never_accepted == []


@pytest.mark.parametrize("family", [KEYSPACE, SETS, LISTS, HASHES, ZSETS], ids=lambda f: f.name)
def test_two_references_never_differ(reference_pair: ServerPair, family: Family) -> None:
    """The normalisation absorbs all legitimate nondeterminism (hash order, SCAN pages,
    RANDOMKEY, TTL clocks): the machine run against two references finds nothing."""
    size = RunSize(deep=False, shards=1, examples=200, steps=STEPS_PER_EXAMPLE, base_seed=0x5E1F, seed_was_chosen=False)
    coverage = run_family(reference_pair, family, size, 0)
    assert coverage.dataset_checks["digest"] > 0 and coverage.dataset_checks["dump"] == 0


def test_a_dataset_difference_is_caught(pair: ServerPair) -> None:
    if not pair.serves("debug") and not pair.serves("get"):
        pytest.skip("specredis serves neither DEBUG DIGEST nor GET: no dataset comparison possible yet")
    pair.reset()
    pair.reference.admin.call("SET", "k1", "only-on-the-reference")
    with pytest.raises(Mismatch):
        pair.check_datasets([])
    pair.reset()
    pair.check_datasets([])


def test_an_expiry_difference_is_caught(pair: ServerPair) -> None:
    if not (pair.serves("set") and pair.serves("pexpiretime")):
        pytest.skip("specredis does not serve SET and PEXPIRETIME yet")
    pair.reset()
    pair.reference.admin.call("SET", "k1", "v", "PX", "100000")
    pair.specredis.admin.call("SET", "k1", "v", "PX", "200000")
    with pytest.raises(Mismatch):
        pair.check_datasets([])
    pair.reset()
