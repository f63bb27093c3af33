"""Hypothesis strategies for command argv, derived from the spec's argument grammar.

Every command's ``docs.arguments`` (the COMMAND DOCS grammar of the reference)
becomes a strategy for a whole argv (design doc §6):

=================  =======================================================
grammar            strategy
=================  =======================================================
``key``            the small key pool :data:`KEYS` (hash tags included)
``string``         :data:`VALUES` (empty, binary, long, numeric-looking...)
``integer``        numbers near boundaries (:data:`INTEGERS`), or a domain
                   chosen by the argument's name (TTLs, DB indexes...)
``double``         :data:`DOUBLES`
``unix-time``      absolute times far in the past or future
``pattern``        :data:`PATTERNS`
``pure-token``     the token in random case
``oneof``          ``one_of`` its alternatives
``block``          its sub-arguments in order
``optional``       maybe
``multiple``       a short list (``multiple_token``: the token before each)
=================  =======================================================

plus, with a small probability, a mutation (a dropped tail, a junk token, a
duplicated argument, trailing options shuffled) so error paths are exercised.

**Time values are chosen so both servers agree exactly.** The two servers run
each command a fraction of a millisecond apart, so a key that expires *during*
an example would be seen by one and not the other. Relative TTLs are therefore
either ≤ 0 (the key is deleted at once, on both) or at least 100 s; absolute
times are at least 100 s in the past or in the future (or fixed far-future
dates), never "now ± a little". Small positive TTLs are covered by the
in-process tests with an injected clock, not here.

A command's spec may override all this: ``conformance.strategy:
"module:function"`` names a function ``f(spec) -> SearchStrategy[list[bytes]]``
returning whole argvs; ``conformance.strategy: none`` or ``conformance.normalize:
skip`` keeps the command out of the machines.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

SPEC_DIR = Path(__file__).resolve().parents[2] / "spec" / "commands"

Argv = list[bytes]

# -- value pools ------------------------------------------------------------------------

#: A small key pool, so commands collide on the same keys. Hash tags put several keys in
#: one cluster slot; the empty key and a binary key are legal key names too.
KEYS: tuple[bytes, ...] = (
    b"k1", b"k2", b"k3", b"{tag}a", b"{tag}b", b"x{tag}y", b"", b"k\x00\xff",
)

LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)

#: Strings at the edges of what the string commands parse: numbers and almost-numbers,
#: overflows, infinities, binary and long values.
VALUES: tuple[bytes, ...] = (
    b"", b"v", b"hello", b"0", b"1", b"-1", b"10", b"-5", b"007", b"+1", b" 1", b"1 ", b"0x10",
    b"3.14", b"-0", b"0.1", b"1e3", b"1e400", b"-1e400", b"+inf", b"-inf", b"inf", b"nan",
    b"1.5e308", b"5e-324", b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808",
    b"-9223372036854775809", b"18446744073709551616", b"17179869184",
    b"\x00\xff\r\n binary\x01", "ünïcødé".encode(), b"x" * 100, b"ab" * 150,
)

#: Integers near the boundaries commands check, and strings that are almost integers.
INTEGERS: tuple[bytes, ...] = tuple(str(n).encode() for n in (
    0, 1, -1, 2, 3, 5, 10, -2, -5, -100, 100, 1000, 2**31 - 1, 2**31, -(2**31), 2**32, 2**53,
    LLONG_MAX, LLONG_MIN, LLONG_MAX - 1, LLONG_MIN + 1, 2**63, -(2**63) - 1, 2**64,
)) + (b"abc", b"1.5", b"", b" 1", b"+1", b"0x1", b"1e3", b"007", b"-0")

#: Doubles as clients send them, with the spellings strtold accepts and rejects.
DOUBLES: tuple[bytes, ...] = (
    b"0", b"1", b"-1", b"1.5", b"-1.5", b"0.1", b"0.2", b"-0", b"1e3", b"1E-3", b"10.50", b"3.0e3",
    b"inf", b"+inf", b"-inf", b"Infinity", b"nan", b"1e400", b"-1e400", b"5e-324", b"4.9e-325",
    b"1.7976931348623157e308", b"9223372036854775807", b"abc", b"", b" 1", b"1 ", b"1.0.0", b"0x10",
)

#: Glob patterns (KEYS, SCAN MATCH) and SORT's BY/GET patterns.
PATTERNS: tuple[bytes, ...] = (
    b"*", b"k*", b"k?", b"[kx]*", b"[^k]*", b"*{tag}*", b"{tag}*", b"\\*", b"k[", b"k[1-2]", b"",
    b"*1", b"nosort", b"#", b"k*->f", b"x*", b"k\\",
)

#: Valid database indexes (the examples keep their data in these) and invalid ones.
DB_INDEXES: tuple[bytes, ...] = (b"0", b"1", b"2", b"15", b"16", b"-1", b"abc", b"9223372036854775808")

#: The type names SCAN's TYPE filter understands, and one it does not.
TYPE_NAMES: tuple[bytes, ...] = (b"string", b"list", b"set", b"zset", b"hash", b"stream", b"STRING", b"foo")

#: Relative TTLs in seconds: ≤ 0 deletes at once; otherwise ≥ 100 s (see the module doc).
TTL_SECONDS: tuple[bytes, ...] = tuple(str(n).encode() for n in (
    0, -1, -100, 100, 1000, 86400, 2**31 - 1, 2**31, 2**32, LLONG_MAX // 1000, LLONG_MAX // 1000 + 1,
    LLONG_MAX, LLONG_MIN, 2**63, LLONG_MIN // 1000 - 1,
)) + (b"abc", b"1.5", b"")

#: Relative TTLs in milliseconds, same rule (≥ 100,000 ms when positive).
TTL_MILLISECONDS: tuple[bytes, ...] = tuple(str(n).encode() for n in (
    0, -1, -100, 100_000, 3_600_000, 86_400_000, 2**31, 2**32, LLONG_MAX - 1, LLONG_MAX, LLONG_MIN, 2**63,
)) + (b"abc", b"1.5", b"")

#: Offsets into a string (SETRANGE, GETRANGE...): small, negative, and only those large ones
#: that are *rejected* (proto-max-bulk-len is 512 MB) -- an accepted one would make both
#: servers allocate half a gigabyte.
OFFSETS: tuple[bytes, ...] = tuple(str(n).encode() for n in (
    0, 1, 2, 5, 10, 100, -1, 536_870_912, 536_870_913, LLONG_MAX, LLONG_MIN, 2**63,
)) + (b"abc", b"")

#: Small counts (COUNT, LIMIT, numkeys...), with the usual boundaries.
COUNTS: tuple[bytes, ...] = tuple(str(n).encode() for n in (
    0, 1, 2, 3, 10, -1, -10, 1000, LLONG_MAX, LLONG_MIN, 2**63,
)) + (b"abc",)

#: DUMP payloads taken from the reference 7.0.15 (RDB version 10 + CRC64): "hello", the
#: int-encoded "123", "", "-9223372036854775808", an LZF-compressed 40-byte string, "3.14";
#: then a wrong checksum, a wrong RDB version, a truncated payload and plain junk.
DUMP_PAYLOADS: tuple[bytes, ...] = (
    b"\x00\x05hello\n\x00cr\xdfve4 \n",
    b"\x00\xc0{\n\x00H\xe2S\xe1\x00zg\xb9",
    b"\x00\x00\n\x00]\x9b\\@\x0f\x7f\xa2\xda",
    b"\x00\x14-9223372036854775808\n\x00\xed\xe2\xb9V\xebp\x9e\x81",
    b"\x00\xc3\t(\x01xx\xe0\x1b\x00\x01xx\n\x00z\x1dl\xce\xa5@\x133",
    b"\x00\x043.14\n\x00\x8cu@}*\xcc\xe8,",
    b"\x00\x05hello\n\x00cr\xdfve4 \x0b",
    b"\x00\x05hello\x0c\x00cr\xdfve4 \n",
    b"\x00\x05hel",
    b"junk",
)

#: Tokens no command knows, for the junk mutation.
JUNK_TOKENS: tuple[bytes, ...] = (b"FOO", b"NX", b"EX", b"GET", b"-1", b"", b"\x00")


def _absolute_seconds(offset: int) -> int:
    return int(time.time()) + offset


def _absolute_milliseconds(offset: int) -> int:
    return int(time.time() * 1000) + offset


#: Absolute unix times in seconds: clearly past (the key is deleted at once), clearly future,
#: fixed dates (1, 2100-01-01), and overflows. Offsets are resolved against the wall clock
#: when drawn: both servers share this machine's clock, so the results are exact.
UNIX_SECONDS: SearchStrategy[bytes] = st.one_of(
    st.sampled_from((-86400, -100, 100, 86400, 10 * 365 * 86400)).map(_absolute_seconds).map(
        lambda n: str(n).encode()),
    st.sampled_from((b"0", b"1", b"-1", b"4102444800", b"253402300799",
                     str(LLONG_MAX // 1000).encode(), str(LLONG_MAX // 1000 + 1).encode(),
                     str(LLONG_MAX).encode(), str(LLONG_MIN).encode(), b"abc", b"1.5")),
)

#: Absolute unix times in milliseconds, same rule.
UNIX_MILLISECONDS: SearchStrategy[bytes] = st.one_of(
    st.sampled_from((-86_400_000, -100_000, 100_000, 86_400_000)).map(_absolute_milliseconds).map(
        lambda n: str(n).encode()),
    st.sampled_from((b"0", b"1", b"-1", b"4102444800000", str(LLONG_MAX).encode(), str(LLONG_MIN).encode(),
                     str(2**63).encode(), b"abc")),
)


#: Absolute times for RESTORE ... ABSTTL that are as safe read as relative TTLs: far from
#: now either way (a past absolute time is ~56 years ahead as a relative one).
RESTORE_ABSOLUTE_TTLS: SearchStrategy[bytes] = st.one_of(
    st.sampled_from((-86_400_000, -100_000, 100_000, 86_400_000)).map(_absolute_milliseconds).map(
        lambda n: str(n).encode()),
    st.sampled_from((b"4102444800000", str(LLONG_MAX).encode(), str(LLONG_MIN).encode(), str(2**63).encode(),
                     b"-1", b"abc")),
)


def _pool(values: tuple[bytes, ...]) -> SearchStrategy[bytes]:
    return st.sampled_from(values)


#: Half the keys drawn come from the first three, so commands meet on the same keys often
#: (a uniform draw from eight would leave most reads on empty keys).
KEY = st.one_of(_pool(KEYS[:3]), _pool(KEYS))
VALUE = st.one_of(_pool(VALUES), st.binary(max_size=6), st.integers(-1000, 1000).map(lambda n: str(n).encode()))
INTEGER = st.one_of(_pool(INTEGERS), st.integers(-20, 20).map(lambda n: str(n).encode()))
DOUBLE = st.one_of(
    _pool(DOUBLES),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda f: repr(f).encode()),
)
PATTERN = _pool(PATTERNS)
DB_INDEX = _pool(DB_INDEXES)
COUNT = st.one_of(_pool(COUNTS), st.integers(0, 5).map(lambda n: str(n).encode()))

# -- choosing a value domain for one argument ----------------------------------------------

#: Domains chosen by argument name (after type), for every command. Names are the reference's
#: COMMAND DOCS names.
#: TTL domains: half the draws are valid future TTLs, so keys with a TTL are common.
TTL_SECONDS_DOMAIN = st.one_of(st.sampled_from((b"100", b"1000", b"86400", b"2147483647")), _pool(TTL_SECONDS))
TTL_MILLISECONDS_DOMAIN = st.one_of(st.sampled_from((b"100000", b"3600000", b"86400000", b"2147483648")),
                                    _pool(TTL_MILLISECONDS))

INTEGER_DOMAINS_BY_NAME: dict[str, SearchStrategy[bytes]] = {
    "seconds": TTL_SECONDS_DOMAIN,
    "milliseconds": TTL_MILLISECONDS_DOMAIN,
    "index": DB_INDEX,
    "index1": DB_INDEX,
    "index2": DB_INDEX,
    "db": DB_INDEX,
    "destination-db": DB_INDEX,
    "offset": _pool(OFFSETS),
    "count": COUNT,
    "numkeys": COUNT,
    "cursor": st.sampled_from((b"0", b"1", b"17", b"-1", b"abc", b"18446744073709551615", b"18446744073709551616")),
}

STRING_DOMAINS_BY_NAME: dict[str, SearchStrategy[bytes]] = {
    "type": _pool(TYPE_NAMES),
    "serialized-value": _pool(DUMP_PAYLOADS),
}

#: Per-command domains, keyed by (command fullname, argument name): these win over the above.
ARGUMENT_OVERRIDES: dict[tuple[str, str], SearchStrategy[bytes]] = {
    # RESTORE's ttl is relative ms, or absolute ms with ABSTTL: draw values that are safe
    # read either way (0 = no TTL; never a small positive number, which as a relative TTL
    # would expire mid-example -- UNIX_MILLISECONDS's fixed "1" did exactly that).
    ("restore", "ttl"): st.one_of(st.just(b"0"), TTL_MILLISECONDS_DOMAIN, RESTORE_ABSOLUTE_TTLS),
    ("restore", "seconds"): COUNT,          # IDLETIME
    ("restore", "frequency"): COUNT,        # FREQ
    # GETRANGE/SUBSTR/LCS read, so any range is cheap; keep the boundaries.
    ("getrange", "start"): INTEGER,
    ("getrange", "end"): INTEGER,
    ("substr", "start"): INTEGER,
    ("substr", "end"): INTEGER,
}


def value_strategy(fullname: str, arg: dict[str, Any]) -> SearchStrategy[bytes]:
    """The strategy for one non-token argument value (one argv element)."""
    name = str(arg.get("name", ""))
    override = ARGUMENT_OVERRIDES.get((fullname, name))
    if override is not None:
        return override
    kind = arg["type"]
    if kind == "key":
        return KEY
    if kind == "pattern":
        return PATTERN
    if kind == "unix-time":
        return UNIX_MILLISECONDS if "milli" in name else UNIX_SECONDS
    if kind == "integer":
        return INTEGER_DOMAINS_BY_NAME.get(name, INTEGER)
    if kind == "double":
        return DOUBLE
    return STRING_DOMAINS_BY_NAME.get(name, VALUE)


# -- the grammar -----------------------------------------------------------------------------


def case_variants(word: str) -> tuple[bytes, ...]:
    """``word`` as sent by clients: upper (the shrink target), lower, capitalised, alternating."""
    alternating = "".join(c.lower() if i % 2 else c.upper() for i, c in enumerate(word))
    variants: list[bytes] = []
    for variant in (word.upper(), word.lower(), word.capitalize(), alternating):
        encoded = variant.encode()
        if encoded not in variants:
            variants.append(encoded)
    return tuple(variants)


def token_strategy(token: str) -> SearchStrategy[bytes]:
    """A pure token in random case (the upper-case form first, so examples shrink to it)."""
    return st.sampled_from(case_variants(token))


def _concat(parts: Any) -> Argv:
    out: Argv = []
    for part in parts:
        out.extend(part)
    return out


def argument_strategy(fullname: str, arg: dict[str, Any]) -> SearchStrategy[Argv]:
    """The argv fragment for one grammar node (recursively for ``oneof``/``block``)."""
    kind = arg["type"]
    token = arg.get("token")
    if kind == "pure-token":
        base: SearchStrategy[Argv] = token_strategy(token or "").map(lambda t: [t])
    elif kind == "oneof":
        base = st.one_of([argument_strategy(fullname, sub) for sub in arg["arguments"]])
    elif kind == "block":
        base = st.tuples(*(argument_strategy(fullname, sub) for sub in arg["arguments"])).map(_concat)
    else:
        base = value_strategy(fullname, arg).map(lambda v: [v])

    if token and kind != "pure-token":
        tok = token_strategy(token)
        if arg.get("multiple_token"):
            # The token repeats before every element: PREFIX a PREFIX b.
            element = st.tuples(tok, base).map(lambda tb: [tb[0], *tb[1]])
            strategy = st.lists(element, min_size=1, max_size=3).map(_concat)
        elif arg.get("multiple"):
            strategy = st.tuples(tok, st.lists(base, min_size=1, max_size=3)).map(
                lambda tb: [tb[0], *_concat(tb[1])])
        else:
            strategy = st.tuples(tok, base).map(lambda tb: [tb[0], *tb[1]])
    elif arg.get("multiple"):
        strategy = st.lists(base, min_size=1, max_size=4).map(_concat)
    else:
        strategy = base

    if arg.get("optional"):
        return st.one_of(st.just([]), strategy)
    return strategy


def command_words(fullname: str) -> list[str]:
    """``object|encoding`` -> ``["OBJECT", "ENCODING"]``."""
    return [part.upper() for part in fullname.split("|")]


def _mutate(argv: Argv, head: int, choice: int, position: int, junk: bytes) -> Argv:
    """One mutation of a well-formed argv whose first ``head`` words name the command;
    ``choice`` picks the kind of mutation, ``position`` where, ``junk`` what is inserted."""
    if choice == 0:                                    # drop the tail: wrong arity, missing values
        return argv[: max(1, position % len(argv))]
    if choice == 1:                                    # an unexpected extra token
        at = head + position % (len(argv) - head + 1)
        return argv[:at] + [junk] + argv[at:]
    if choice == 2 and len(argv) > 1:                  # a repeated argument (NX NX, EX 1 EX 1)
        at = 1 + position % (len(argv) - 1)
        return argv[: at + 1] + argv[at:]
    if len(argv) > head + 1:                           # trailing arguments reversed
        return argv[:head] + list(reversed(argv[head:]))
    return argv + [junk]


def is_option(arg: dict[str, Any]) -> bool:
    """Whether an argument starts with a keyword (``NX``, ``EX 10``, ``LIMIT 0 1``...), so a
    server that parses options in a loop accepts it anywhere among the other options."""
    if arg.get("token"):
        return True
    if arg["type"] == "oneof":
        return all(is_option(sub) for sub in arg["arguments"])
    return False


def grammar_strategy(spec: dict[str, Any]) -> SearchStrategy[Argv]:
    """Well-formed argvs for one command, straight from its ``docs.arguments``.

    The arguments come in the documented order; in about one argv in four the keyword
    options among them are permuted (``SET k v EX 100 NX`` as well as ``SET k v NX EX 100``)."""
    fullname = spec_fullname(spec)
    words = command_words(fullname)
    name = st.tuples(*(st.sampled_from(case_variants(w)) for w in words)).map(list)
    grammar = (spec.get("docs") or {}).get("arguments") or ()
    args = [argument_strategy(fullname, arg) for arg in grammar]
    in_order = st.tuples(name, *args).map(_concat)
    options = [i for i, arg in enumerate(grammar) if is_option(arg)]
    if len(options) < 2:
        return in_order

    def reorder(drawn: tuple[tuple[Argv, ...], list[int]]) -> Argv:
        fragments, order = list(drawn[0]), drawn[1]
        head, rest = fragments[0], fragments[1:]
        moved = [rest[i] for i in order]
        for slot, fragment in zip(options, moved, strict=True):
            rest[slot] = fragment
        return head + _concat(rest)

    permuted = st.tuples(st.tuples(name, *args), st.permutations(options)).map(reorder)
    return st.one_of(in_order, in_order, in_order, permuted)


def with_mutations(strategy: SearchStrategy[Argv], head: int = 1, one_in: int = 16) -> SearchStrategy[Argv]:
    """``strategy``, with about one argv in ``one_in`` mutated into a (probably) bad request;
    ``head`` is the number of words naming the command (2 for subcommands)."""

    @st.composite
    def draw(data: st.DrawFn) -> Argv:
        argv = data(strategy)
        if data(st.integers(0, one_in - 1)) != one_in - 1:
            return argv
        return _mutate(argv, head, data(st.integers(0, 3)), data(st.integers(0, 7)),
                       data(st.one_of(_pool(JUNK_TOKENS), VALUE)))

    return draw()


# -- the spec ----------------------------------------------------------------------------------

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def spec_fullname(spec: dict[str, Any]) -> str:
    """``container|name`` for subcommands, else ``name`` (lower case, as COMMAND LIST says)."""
    container = spec.get("container")
    return f"{container}|{spec['name']}" if container else str(spec["name"])


@cache
def load_specs(spec_dir: str = str(SPEC_DIR)) -> dict[str, dict[str, Any]]:
    """Every command spec, keyed by fullname (``set``, ``object|encoding``)."""
    specs: dict[str, dict[str, Any]] = {}
    for path in sorted(Path(spec_dir).glob("*.yaml")):
        with open(path, "rb") as handle:
            spec = yaml.load(handle, Loader=_Loader)  # noqa: S506 - a safe loader
        specs[spec_fullname(spec)] = spec
    return specs


def _resolve(dotted: str) -> Callable[..., Any]:
    module_name, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def conformance_section(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec's hand-written ``conformance:`` section (empty when absent)."""
    return spec.get("conformance") or {}


def is_skipped(spec: dict[str, Any]) -> bool:
    """Whether the spec keeps this command out of the differential machines."""
    section = conformance_section(spec)
    return section.get("normalize") == "skip" or section.get("strategy") == "none"


def command_strategy(spec: dict[str, Any], mutate: bool = True) -> SearchStrategy[Argv]:
    """The argv strategy for one command: the spec's override, else the grammar (+ mutations)."""
    override = conformance_section(spec).get("strategy")
    if isinstance(override, str) and override not in ("auto", "none"):
        return _resolve(override)(spec)
    strategy = grammar_strategy(spec)
    return with_mutations(strategy, head=len(command_words(spec_fullname(spec)))) if mutate else strategy


def unknown_command_strategy() -> SearchStrategy[Argv]:
    """Requests for commands nobody serves, for the dispatcher's error texts."""
    return st.tuples(st.sampled_from((b"NOSUCHCOMMAND", b"get2", b"", b"OBJECT2")),
                     st.lists(VALUE, max_size=2)).map(lambda t: [t[0], *t[1]])


def spec_dir_from_env() -> str:
    """The spec directory: ``SPECREDIS_SPEC_DIR`` or the repository's ``spec/commands``."""
    return os.environ.get("SPECREDIS_SPEC_DIR", str(SPEC_DIR))
