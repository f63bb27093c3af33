"""COMMAND and key extraction against the reference Redis 7.0.15, as typed RESP3.

For every command specredis serves: COMMAND INFO, COMMAND DOCS, COMMAND COUNT, COMMAND
LIST (plain and FILTERBY ACLCAT for every category, PATTERN, MODULE) and COMMAND
GETKEYSANDFLAGS on argument vectors drawn from the command's grammar must equal the
reference's, with set semantics where Redis sends sets (and for the orders Redis
leaves to its hash tables). The reference serves all 366 commands; its answers are
compared restricted to the commands specredis serves.

Key extraction is also checked below the server, for all 366 commands: the engine's
interpreter (engine/keys.py, with the spec's getkeys hooks) against the reference's
GETKEYSANDFLAGS, on grammar-drawn vectors (with mutations) and on the edge cases of
the design doc §2.2/§2.3.
"""

from __future__ import annotations

import copy
import importlib
import os
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
from conformance.strategies import command_strategy, load_specs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specredis.engine.command import ACL_CATEGORIES, CommandDef
from specredis.engine.errors import RedisError
from specredis.engine.introspection import getkeys_reply
from specredis.generated.command_table import COMMAND_DEFS
from specredis.protocol.client import RespClient, RespError, RMap, RSet, Status

DEEP = bool(os.environ.get("SPECREDIS_CONFORMANCE_DEEP"))
HYPOTHESIS = settings(max_examples=40 if DEEP else 6, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def clients(specredis, reference) -> Iterator[tuple[RespClient, RespClient]]:
    """RESP3 connections to (specredis, reference)."""
    ours, theirs = specredis.client(protocol=3), reference.client(protocol=3)
    yield ours, theirs
    ours.close()
    theirs.close()


@pytest.fixture(scope="module")
def served(clients) -> list[str]:
    """Every fullname specredis serves (its COMMAND LIST)."""
    ours, _ = clients
    names = [name.decode() for name in ours.call("COMMAND", "LIST")]
    assert names, "specredis serves nothing"
    return names


# -- normalisation -------------------------------------------------------------------------

def norm(value: Any) -> Any:
    """A hashable, comparable form: sets unordered, arrays and maps in order."""
    if isinstance(value, RSet):
        return ("set", tuple(sorted((norm(item) for item in value.items), key=repr)))
    if isinstance(value, RMap):
        return ("map", tuple((norm(k), norm(v)) for k, v in value.pairs))
    if isinstance(value, list):
        return ("array", tuple(norm(item) for item in value))
    return value


def norm_info(entry: Any, served: set[str]) -> Any:
    """A COMMAND INFO entry; subcommands (hash-table order) sorted and restricted to ``served``."""
    if not isinstance(entry, list):
        return entry
    head = [norm(item) for item in entry[:9]]
    subs = entry[9]
    if isinstance(subs, list):
        kept = [sub for sub in subs if sub[0].decode() in served]
        subs_form = ("subcommands", tuple(sorted((norm_info(sub, served) for sub in kept), key=repr)))
    else:
        subs_form = ("subcommands", norm(subs))
    return (*head, subs_form)


def norm_docs(doc: Any, served: set[str]) -> Any:
    """A COMMAND DOCS entry; its subcommand map (hash-table order) sorted and restricted to ``served``."""
    pairs = []
    for key, value in doc.pairs:
        if key == b"subcommands":
            kept = [(k, norm_docs(v, served)) for k, v in value.pairs if k.decode() in served]
            pairs.append((key, ("map", tuple(sorted(kept, key=repr)))))
        else:
            pairs.append((key, norm(value)))
    return tuple(pairs)


# -- COMMAND INFO / DOCS / COUNT / LIST ---------------------------------------------------------

def test_command_info_of_every_served_command(clients, served) -> None:
    ours, theirs = clients
    serving = set(served)
    mine = ours.pipeline([("COMMAND", "INFO", name) for name in served])
    reference = theirs.pipeline([("COMMAND", "INFO", name) for name in served])
    differences = [name for name, a, b in zip(served, mine, reference, strict=True)
                   if norm_info(a[0], serving) != norm_info(b[0], serving)]
    assert differences == []


def test_command_without_arguments_lists_the_served_top_level_commands(clients, served) -> None:
    ours, _ = clients
    serving = set(served)
    everything = ours.call("COMMAND")
    top_level = sorted(name for name in served if "|" not in name)
    assert sorted(entry[0].decode() for entry in everything) == top_level
    assert ours.call("COMMAND", "COUNT") == len(top_level)
    by_info = ours.pipeline([("COMMAND", "INFO", name) for name in top_level])
    assert sorted(repr(norm_info(e, serving)) for e in everything) == \
        sorted(repr(norm_info(i[0], serving)) for i in by_info)


def test_command_docs_of_every_served_command(clients, served) -> None:
    ours, theirs = clients
    serving = set(served)
    differences = []
    for name in served:
        a, b = ours.call("COMMAND", "DOCS", name), theirs.call("COMMAND", "DOCS", name)
        assert isinstance(a, RMap) and a.keys() == [name.encode()]
        if norm_docs(a.pairs[0][1], serving) != norm_docs(b.pairs[0][1], serving):
            differences.append(name)
    assert differences == []


def test_command_docs_without_arguments_covers_the_top_level(clients, served) -> None:
    ours, _ = clients
    docs = ours.call("COMMAND", "DOCS")
    assert sorted(k.decode() for k in docs.keys()) == sorted(n for n in served if "|" not in n)


def test_served_commands_exist_in_the_reference(clients, served) -> None:
    _, theirs = clients
    assert set(served) <= {name.decode() for name in theirs.call("COMMAND", "LIST")}


def test_list_filterby_aclcat_for_every_category(clients, served) -> None:
    ours, theirs = clients
    serving = set(served)
    categories = [c.decode() for c in theirs.call("ACL", "CAT")]
    assert set(categories) == set(ACL_CATEGORIES)
    for category in [*categories, "KEYSPACE", "nosuchcategory", "@read"]:
        mine = {n.decode() for n in ours.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", category)}
        reference = {n.decode() for n in theirs.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", category)}
        assert mine == reference & serving, category


@pytest.mark.parametrize("pattern", ["*", "config*", "CONFIG|*", "c?mmand*", "*|get*", "[a-c]*", "nomatch"])
def test_list_filterby_pattern(clients, served, pattern) -> None:
    ours, theirs = clients
    mine = {n.decode() for n in ours.call("COMMAND", "LIST", "FILTERBY", "PATTERN", pattern)}
    reference = {n.decode() for n in theirs.call("COMMAND", "LIST", "FILTERBY", "pattern", pattern)}
    assert mine == reference & set(served)


REQUESTS = [
    "COMMAND INFO nosuchcommand",
    "COMMAND INFO config|nosuch",
    "COMMAND INFO get|x",
    "COMMAND INFO a|b|c",
    "COMMAND DOCS nosuchcommand",
    "COMMAND LIST foo",
    "COMMAND LIST FILTERBY",
    "COMMAND LIST FILTERBY foo x",
    "COMMAND LIST FILTERBY aclcat",
    "COMMAND LIST FILTERBY aclcat x y",
    "COMMAND LIST FILTERBY MODULE x",
    "COMMAND LIST x y z",
    "COMMAND COUNT x",
    "COMMAND HELP",
    "COMMAND HELP x",
    "COMMAND nosuch",
    "command help",
    "COMMAND GETKEYS",
    "COMMAND GETKEYS get",
    "COMMAND GETKEYS nosuch a",
    "COMMAND GETKEYS ping x",
    "COMMAND GETKEYS config get x",
    "COMMAND GETKEYS config nosuch x",
    "COMMAND GETKEYS command getkeys",
    "COMMAND GETKEYSANDFLAGS",
    "COMMAND GETKEYSANDFLAGS nosuch x",
    "COMMAND GETKEYSANDFLAGS command info x",
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_introspection_errors_and_fixed_replies(specredis, reference, protocol) -> None:
    with specredis.client(protocol=protocol) as ours, reference.client(protocol=protocol) as theirs:
        for line in REQUESTS:
            argv = shlex.split(line)
            assert ours.call(*argv) == theirs.call(*argv), line


# -- COMMAND GETKEYSANDFLAGS through the server -------------------------------------------------

def _with_keys(served: list[str]) -> list[str]:
    defs = {d.fullname: d for d in COMMAND_DEFS}
    return [name for name in served if defs[name].key_specs]


@pytest.mark.parametrize("protocol", [2, 3])
def test_getkeysandflags_on_grammar_vectors_of_served_commands(specredis, reference, served, protocol) -> None:
    specs = load_specs()
    names = _with_keys(served)
    strategies = [command_strategy(specs[name]) for name in names]

    with specredis.client(protocol=protocol) as ours, reference.client(protocol=protocol) as theirs:
        @HYPOTHESIS
        @given(st.data())
        def check(data: st.DataObject) -> None:
            vectors = [data.draw(strategy, label=name) for name, strategy in zip(names, strategies, strict=True)]
            for variant in ("GETKEYSANDFLAGS", "GETKEYS"):
                requests = [("COMMAND", variant, *argv) for argv in vectors]
                mine, reference_replies = ours.pipeline(requests), theirs.pipeline(requests)
                for argv, a, b in zip(vectors, mine, reference_replies, strict=True):
                    assert norm(a) == norm(b), (variant, argv)

        check()


# -- the interpreter itself, for all 366 commands ---------------------------------------------

def _resolve(dotted: str) -> Any:
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


def _all_defs() -> dict[str, CommandDef]:
    defs = {}
    for original in COMMAND_DEFS:
        cmd = copy.copy(original)
        cmd.getkeys = _resolve(cmd.getkeys_name) if cmd.getkeys_name else None
        cmd.subcommands = {}
        defs[cmd.fullname] = cmd
    for cmd in defs.values():
        if cmd.container:
            defs[cmd.container].subcommands[cmd.name.encode()] = cmd
    return defs


DEFS = _all_defs()


def _lookup(argv: list[bytes]) -> CommandDef | None:
    cmd = DEFS.get(argv[0].decode("latin-1").lower())
    if cmd is None or cmd.container:
        return None
    if cmd.subcommands and len(argv) >= 2:
        return cmd.subcommands.get(argv[1].lower())
    return cmd


def interpreted(argv: list[bytes]) -> Any:
    """What COMMAND GETKEYSANDFLAGS would answer from engine/keys.py, in the client's reply types."""
    try:
        reply = getkeys_reply(_lookup(argv), argv, with_flags=True)
    except RedisError as error:
        return RespError(error.text)
    return [[key, RSet(tuple(Status(s.text.decode()) for s in flags.items))] for key, flags in reply]


EDGE_CASES = [
    "eval s 1x k", "eval s 01 k", "eval s +1 k", "eval s 2 k", "eval s -1", "eval s 0", "eval s 3 a b",
    "evalsha x 1 k a", "fcall f 2 a b c", "zunionstore d 5 a b", "zunionstore d 1x a b", "zunionstore d 2 a b",
    "zunionstore d 0 a", "zinterstore d -1 a", "zdiffstore d 2 a", "zunion 2 a b withscores", "zinter 3 a b",
    "sintercard 2 a b limit 1", "zintercard 1x a", "lmpop 2 a b left", "lmpop 0 left", "lmpop 1x a left",
    "blmpop 0 2 a b left", "blmpop 0 1x a left", "zmpop 1 a min", "bzmpop 1 1 a max count 2",
    "sort k store a store b", "sort k by x get y limit 0 1 store z", "sort k store", "sort k limit store x",
    "sort k get store x", "sort k store store x", "SORT k STORE x", "sort_ro k by x", "sort_ro k store x",
    "migrate h p '' 0 5000 keys a b", "migrate h p k 0 5000", "migrate h p '' 0 5000 copy replace auth pw keys a b",
    "migrate h p '' 0 5000 auth2 u p keys a", "migrate h p k 0 5000 keys a", "migrate h p '' 0 5000 keys",
    "migrate h p '' 0 5000", "migrate h p k 0 5000 auth keys keys a",
    "set k v", "set k v get", "set k v ex 10 GET", "set k v nx", "set k v GeT", "set k get", "set k v px get",
    "bitfield k get u8 0", "bitfield k incrby u8 0 1", "bitfield k overflow sat", "bitfield k", "bitfield k get u8",
    "bitfield k overflow", "bitfield k set u8 0 1", "bitfield k foo", "bitfield k get u8 0 overflow wrap get i4 2",
    "xread streams a b c", "xread count 1 streams streams 0", "xread count 1 streams a",
    "xread block 0 streams a b 0 0", "xreadgroup group g c streams s 0", "xreadgroup group streams c streams s 0",
    "xreadgroup group g c count 1 streams a", "georadius g 0 0 1 km store a storedist b",
    "georadiusbymember g m 1 km storedist x", "ssubscribe a", "spublish c m", "client kill x",
    "get a b", "mset a 1 b", "mset a 1 b 2", "msetnx a", "del a b c", "object encoding k", "object freq",
    "xinfo stream s full", "memory usage k samples 5", "lcs a b", "pfcount a b", "pfmerge d a b", "rename a b",
    "bitop and d a b", "bitop not d a", "copy a b db 1", "touch a", "watch a b",
    "geosearchstore d s frommember m byradius 1 km", "xautoclaim s g c 0 0", "restore k 0 x", "blpop a b 0",
    "nosuchcommand a", "config get x", "client nosuch x",
]


def test_interpreter_matches_reference_on_edge_cases(reference) -> None:
    with reference.client(protocol=3) as theirs:
        argvs = [[word.encode() for word in shlex.split(line)] for line in EDGE_CASES]
        replies = theirs.pipeline([("COMMAND", "GETKEYSANDFLAGS", *argv) for argv in argvs])
        differences = [(b" ".join(argv), interpreted(argv), reply)
                       for argv, reply in zip(argvs, replies, strict=True) if norm(interpreted(argv)) != norm(reply)]
        assert differences == []


def test_interpreter_matches_reference_for_every_command(reference) -> None:
    specs = load_specs()
    names = [name for name, cmd in DEFS.items() if cmd.key_specs and name in specs]
    strategies = [command_strategy(specs[name]) for name in names]

    with reference.client(protocol=3) as theirs:
        @HYPOTHESIS
        @given(st.data())
        def check(data: st.DataObject) -> None:
            vectors = [data.draw(strategy, label=name) for name, strategy in zip(names, strategies, strict=True)]
            # COMMAND GETKEYSANDFLAGS itself needs two words at least; shorter vectors test nothing here.
            vectors = [argv for argv in vectors if len(argv) >= 2]
            replies = theirs.pipeline([("COMMAND", "GETKEYSANDFLAGS", *argv) for argv in vectors])
            for argv, reply in zip(vectors, replies, strict=True):
                assert norm(interpreted(argv)) == norm(reply), argv

        check()
