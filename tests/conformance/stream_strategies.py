"""Argv strategies for the stream commands (``conformance.strategy`` in their specs).

Stream IDs and consumer-group names need domains of their own: the generic value pools
would make nearly every ID invalid. And a few things must be kept out to stay exact
between two servers that run each command a fraction of a millisecond apart:

* ``XADD *`` (and ``<ms>-*`` with a clock-chosen ms) depends on the clock: XADD draws
  explicit IDs (``ms-seq`` with small numbers, ``ms-*`` partial IDs, and now and then
  invalid ones) instead of ``*``;
* idle thresholds (XCLAIM/XAUTOCLAIM ``min-idle-time``, XPENDING ``IDLE``) are 0 or
  ~31 years, and XCLAIM's ``IDLE``/``TIME`` are far from them, so which entries are
  claimed never depends on timing; the replies that show idle times (XINFO CONSUMERS,
  XPENDING) are compared by shape (their specs' ``nondeterministic_output`` tip);
* ``XINFO STREAM FULL`` shows delivery and seen times: only the plain form is drawn;
* ``XREAD``/``XREADGROUP`` are drawn without ``BLOCK``, so they never block
  (``conformance.never_blocks`` lets them past the ``blocking`` flag exclusion).
"""

from __future__ import annotations

from typing import Any

from conformance.strategies import (
    COUNT,
    KEYS,
    UNIX_MILLISECONDS,
    VALUE,
    Argv,
    command_words,
    grammar_strategy,
    spec_fullname,
    with_mutations,
)
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

#: Stream keys: mostly the first two pool keys, so entries and groups pile up on them.
STREAM_KEY = st.one_of(st.sampled_from(KEYS[:2]), st.sampled_from(KEYS[:2]), st.sampled_from(KEYS))

#: Small explicit IDs: they collide, go backwards, and meet the 0-0 and top-of-range cases.
SMALL_ID = st.tuples(st.integers(0, 6), st.integers(0, 3)).map(lambda t: f"{t[0]}-{t[1]}".encode())
MS_ONLY_ID = st.integers(0, 6).map(lambda n: str(n).encode())
BAD_IDS: tuple[bytes, ...] = (b"abc", b"1-", b"-1", b"1-x", b"", b"0-0", b"18446744073709551615-18446744073709551615",
                              b"18446744073709551616", b"1-18446744073709551615", b"*")
ID = st.one_of(SMALL_ID, SMALL_ID, SMALL_ID, MS_ONLY_ID, st.sampled_from(BAD_IDS))

#: XADD's ID: explicit, partial (``ms-*``), or invalid; never the clock's ``*``.
XADD_ID = st.one_of(SMALL_ID, SMALL_ID, SMALL_ID, SMALL_ID, MS_ONLY_ID,
                    st.integers(0, 6).map(lambda n: f"{n}-*".encode()),
                    st.sampled_from((b"0-0", b"abc", b"1-x", b"18446744073709551615-18446744073709551615",
                                     b"18446744073709551615-*", b"-1", b"*-1")))

#: Range bounds: IDs, the special - and +, exclusive bounds.
RANGE_ID = st.one_of(ID, st.sampled_from((b"-", b"+", b"-", b"+", b"(1-0", b"(2", b"(0-0", b"(-", b"(+")),
                     SMALL_ID.map(lambda i: b"(" + i))
#: XREAD's IDs ($: only entries added later, i.e. none without BLOCK; + is 7.4).
READ_ID = st.one_of(ID, st.sampled_from((b"0", b"0-0", b"$", b"+")))
#: XREADGROUP's IDs: mostly > (new entries), else the consumer's history from an ID.
READGROUP_ID = st.one_of(st.just(b">"), st.just(b">"), ID, st.just(b"$"))
#: XGROUP CREATE/SETID IDs.
GROUP_ID = st.one_of(ID, st.sampled_from((b"$", b"0", b"$", b"0")))
GROUP = st.sampled_from((b"g1", b"g1", b"g2", b"G1"))
CONSUMER = st.sampled_from((b"c1", b"c1", b"c2", b"c3"))
FIELD = st.one_of(st.sampled_from((b"f1", b"f2", b"f3")), VALUE)
#: Idle thresholds far from every idle time an entry can have: 0, ~31 years, or invalid.
IDLE_THRESHOLD = st.sampled_from((b"0", b"0", b"1000000000000", b"-1", b"abc"))
#: XCLAIM IDLE: 0, ~83 minutes, more than the clock (Redis then uses now), or invalid.
CLAIM_IDLE = st.sampled_from((b"0", b"5000000", b"99999999999999", b"-5", b"abc"))
ENTRIES = st.one_of(st.integers(-1, 12).map(lambda n: str(n).encode()), st.sampled_from((b"abc", b"-2")))
THRESHOLD = st.one_of(st.integers(0, 6).map(lambda n: str(n).encode()), SMALL_ID, st.sampled_from((b"-1", b"abc")))

#: (command, argument name) -> domain, for the grammar of docs.arguments.
DOMAINS: dict[tuple[str, str], SearchStrategy[bytes]] = {
    ("xack", "group"): GROUP, ("xack", "id"): ID,
    ("xadd", "threshold"): THRESHOLD, ("xadd", "id"): XADD_ID, ("xadd", "field"): FIELD,
    ("xautoclaim", "group"): GROUP, ("xautoclaim", "consumer"): CONSUMER,
    ("xautoclaim", "min-idle-time"): IDLE_THRESHOLD, ("xautoclaim", "start"): st.one_of(ID, st.just(b"0-0")),
    ("xclaim", "group"): GROUP, ("xclaim", "consumer"): CONSUMER, ("xclaim", "min-idle-time"): IDLE_THRESHOLD,
    ("xclaim", "id"): ID, ("xclaim", "ms"): CLAIM_IDLE, ("xclaim", "unix-time-milliseconds"): UNIX_MILLISECONDS,
    ("xclaim", "count"): COUNT,
    ("xdel", "id"): ID,
    ("xgroup|create", "groupname"): GROUP, ("xgroup|create", "id"): GROUP_ID,
    ("xgroup|create", "entries_read"): ENTRIES,
    ("xgroup|createconsumer", "groupname"): GROUP, ("xgroup|createconsumer", "consumername"): CONSUMER,
    ("xgroup|delconsumer", "groupname"): GROUP, ("xgroup|delconsumer", "consumername"): CONSUMER,
    ("xgroup|destroy", "groupname"): GROUP,
    ("xgroup|setid", "groupname"): GROUP, ("xgroup|setid", "id"): GROUP_ID, ("xgroup|setid", "entries_read"): ENTRIES,
    ("xinfo|consumers", "groupname"): GROUP,
    ("xpending", "group"): GROUP, ("xpending", "min-idle-time"): IDLE_THRESHOLD, ("xpending", "start"): RANGE_ID,
    ("xpending", "end"): RANGE_ID, ("xpending", "consumer"): CONSUMER,
    ("xrange", "start"): RANGE_ID, ("xrange", "end"): RANGE_ID,
    ("xrevrange", "start"): RANGE_ID, ("xrevrange", "end"): RANGE_ID,
    ("xread", "id"): READ_ID,
    ("xreadgroup", "group"): GROUP, ("xreadgroup", "consumer"): CONSUMER, ("xreadgroup", "id"): READGROUP_ID,
    ("xsetid", "last-id"): ID, ("xsetid", "entries_added"): ENTRIES, ("xsetid", "max_deleted_entry_id"): ID,
    ("xtrim", "threshold"): THRESHOLD,
}


def _with_domains(spec: dict[str, Any]) -> SearchStrategy[Argv]:
    """The grammar of ``spec`` with the stream domains above and keys from STREAM_KEY."""
    from conformance import strategies

    fullname = spec_fullname(spec)
    saved_key = strategies.KEY
    overrides = {k: v for k, v in DOMAINS.items() if k[0] == fullname}
    added = [k for k in overrides if k not in strategies.ARGUMENT_OVERRIDES]
    strategies.ARGUMENT_OVERRIDES.update(overrides)
    strategies.KEY = STREAM_KEY
    try:
        return grammar_strategy(spec)
    finally:
        strategies.KEY = saved_key
        for k in added:
            del strategies.ARGUMENT_OVERRIDES[k]


def _drop_option(argv: Argv, token: bytes, values: int) -> Argv:
    """``argv`` without ``token`` (any case) and the ``values`` arguments after it."""
    out: Argv = []
    skip = 0
    for arg in argv:
        if skip:
            skip -= 1
        elif arg.upper() == token:
            skip = values
        else:
            out.append(arg)
    return out


def stream_command(spec: dict[str, Any]) -> SearchStrategy[Argv]:
    """Any stream command: its grammar with the stream domains, plus mutations."""
    return with_mutations(_with_domains(spec), head=len(command_words(spec_fullname(spec))))


def xinfo_stream(spec: dict[str, Any]) -> SearchStrategy[Argv]:
    """XINFO STREAM without FULL (and its COUNT): FULL shows delivery and seen times."""
    def plain(argv: Argv) -> Argv:
        upper = [a.upper() for a in argv]
        return argv[: upper.index(b"FULL")] if b"FULL" in upper[2:] else argv
    return with_mutations(_with_domains(spec).map(plain), head=2)


def xread_without_block(spec: dict[str, Any]) -> SearchStrategy[Argv]:
    """XREAD/XREADGROUP without BLOCK, so they never block; as many IDs as keys, mostly."""
    def balance(drawn: tuple[Argv, bool]) -> Argv:
        argv, balanced = drawn
        argv = _drop_option(argv, b"BLOCK", 1)
        upper = [a.upper() for a in argv]
        if not balanced or b"STREAMS" not in upper:
            return argv
        at = upper.index(b"STREAMS") + 1
        rest = argv[at:]
        if len(rest) % 2:
            rest = rest[:-1] if len(rest) > 1 else rest
        return argv[:at] + rest
    return st.tuples(_with_domains(spec), st.booleans()).map(balance)


def xadd_explicit_ids(spec: dict[str, Any]) -> SearchStrategy[Argv]:
    """XADD with explicit IDs only: the grammar's ``*`` (auto ID: the clock) is replaced by
    an explicit, partial or invalid ID."""
    @st.composite
    def draw(data: st.DrawFn) -> Argv:
        argv = data(_with_domains(spec))
        return [data(XADD_ID) if arg == b"*" else arg for arg in argv]
    return with_mutations(draw(), head=1)
