"""Derived facts: legacy key range, movablekeys, categories, flags, ids, served-ness, syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from specredis.codegen.derive import argument_syntax, legacy_range
from specredis.codegen.render import build
from specredis.engine.command import ACL_CATEGORIES, ALL_FLAGS

SPEC_DIR = Path(__file__).resolve().parents[2] / "spec" / "commands"


@pytest.fixture(scope="module")
def commands():
    return build(SPEC_DIR).commands


def _index(pos: int, lastkey: int = 0, step: int = 1, limit: int = 0, flags=("ro",)) -> dict:
    return {"flags": list(flags), "begin_search": {"index": pos},
            "find_keys": {"range": {"lastkey": lastkey, "keystep": step, "limit": limit}}}


def _keynum(pos: int) -> dict:
    return {"flags": ["ro"], "begin_search": {"index": pos},
            "find_keys": {"keynum": {"keynumidx": 0, "firstkey": 1, "keystep": 1}}}


def _keyword(word: str, start: int, lastkey: int = 0) -> dict:
    return {"flags": ["ow"], "begin_search": {"keyword": word, "startfrom": start},
            "find_keys": {"range": {"lastkey": lastkey, "keystep": 1, "limit": 0}}}


@pytest.mark.parametrize(("specs", "expected"), [
    ([], (0, 0, 0, False)),                                              # PING
    ([_index(1)], (1, 1, 1, False)),                                     # GET, SET
    ([_index(1, -1, 2)], (1, -1, 2, False)),                             # MSET keeps its step
    ([_index(1, flags=("rw", "incomplete"))], (1, 1, 1, True)),          # lone incomplete spec
    ([_index(1), _keynum(2)], (1, 1, 1, True)),                          # ZUNIONSTORE
    ([_index(2), _index(3, -1)], (2, -1, 1, False)),                     # BITOP
    ([_keyword("STREAMS", 4, -1)], (0, 0, 0, True)),                     # XREADGROUP
    ([_keynum(2)], (0, 0, 0, True)),                                     # EVAL
    ([_index(1), _keyword("STORE", 6), _keyword("STOREDIST", 6)], (1, 1, 1, True)),  # GEORADIUS
    ([_index(1), _index(3)], (1, 1, 1, True)),                           # a gap: not consecutive
    ([_index(1, 0, 2), _index(2)], (2, 2, 1, True)),                     # non-unit step skipped
    ([_index(1), _index(2)], (1, 2, 1, False)),                          # SMOVE-like: merged
])
def test_legacy_range(specs, expected) -> None:
    assert legacy_range(specs) == expected


@pytest.mark.parametrize(("fullname", "first", "last", "step", "movable"), [
    ("zunionstore", 1, 1, 1, True), ("bitop", 2, -1, 1, False), ("xreadgroup", 0, 0, 0, True),
    ("eval", 0, 0, 0, True), ("georadius", 1, 1, 1, True), ("set", 1, 1, 1, False),
    ("mset", 1, -1, 2, False), ("sort", 1, 1, 1, True), ("migrate", 3, 3, 1, True),
])
def test_design_doc_examples(commands, fullname, first, last, step, movable) -> None:
    cmd = commands.by_fullname[fullname]
    assert (cmd.first_key, cmd.last_key, cmd.key_step, cmd.movablekeys) == (first, last, step, movable)
    assert ("movablekeys" in cmd.flags) == movable


def test_categories_are_declared_plus_implied_in_redis_order(commands) -> None:
    assert commands.by_fullname["set"].categories == ("write", "string", "slow")
    assert commands.by_fullname["get"].categories == ("read", "string", "fast")
    assert commands.by_fullname["client|kill"].categories == ("admin", "slow", "dangerous", "connection")
    assert commands.by_fullname["eval_ro"].categories == ("slow", "scripting")  # no @read for scripting
    for cmd in commands.commands:
        assert list(cmd.categories) == [c for c in ACL_CATEGORIES if c in cmd.categories]


def test_flags_include_hidden_and_derived(commands) -> None:
    assert commands.by_fullname["publish"].flags == ("pubsub", "loading", "stale", "fast", "may_replicate", "sentinel")
    assert "protected" in commands.by_fullname["debug"].flags
    assert "touches_arbitrary_keys" in commands.by_fullname["scan"].flags
    assert commands.by_fullname["publish"].visible_flags == ("pubsub", "loading", "stale", "fast")
    for cmd in commands.commands:
        assert list(cmd.flags) == [f for f in ALL_FLAGS if f in cmd.flags]


def test_hidden_flag_sets(commands) -> None:
    def having(flag: str) -> set[str]:
        return {c.fullname for c in commands.commands if flag in c.flags}

    assert having("may_replicate") == {"eval", "evalsha", "fcall", "pfcount", "publish", "spublish"}
    assert having("protected") == {"debug", "module|load", "module|loadex", "module|unload"}
    assert having("touches_arbitrary_keys") == {"randomkey", "scan"}
    assert having("only_sentinel") == set()
    assert not any("write" in c.flags and "may_replicate" in c.flags for c in commands.commands)


def test_ids_follow_sorted_fullnames(commands) -> None:
    names = [c.fullname for c in commands.commands]
    assert names == sorted(names)
    assert [c.id for c in commands.commands] == list(range(len(names)))
    assert len(names) == 366


def test_subcommands_are_linked_and_sorted(commands) -> None:
    client = commands.by_fullname["client"]
    assert [s.name for s in client.subcommands] == sorted(s.name for s in client.subcommands)
    assert commands.by_fullname["client|kill"].parent is client
    assert len(commands.top_level) == 240


def test_served_container_iff_a_subcommand_is_served(tmp_path, write_spec_dir, container_spec, sub_spec) -> None:
    def served(name: str, *specs) -> dict[str, bool]:
        built = build(write_spec_dir(tmp_path / name / "commands", list(specs)))
        return {c.fullname: c.implemented for c in built.commands.commands}

    assert served("none", container_spec, sub_spec) == {"object": False, "object|help": False}
    sub_spec["engine"] = {"status": "partial", "handler": "specredis.engine.keys:object_help_command"}
    assert served("sub", container_spec, sub_spec) == {"object": True, "object|help": True}
    # A container that also runs alone (COMMAND, arity -1) is served by its own status too.
    sub_spec["engine"] = {"status": "unimplemented", "handler": None}
    container_spec["info"]["arity"] = -1
    container_spec["engine"] = {"status": "implemented", "handler": "specredis.engine.keys:object_command"}
    assert served("own", container_spec, sub_spec) == {"object": True, "object|help": False}


def test_syntax_examples(commands) -> None:
    syntax = {c.fullname: c.syntax for c in commands.commands}
    assert syntax["set"] == ("SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
                             "PXAT unix-time-milliseconds|KEEPTTL]")
    assert syntax["zunionstore"] == ("ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] "
                                     "[AGGREGATE SUM|MIN|MAX]")
    assert syntax["sort"] == ("SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] "
                              "[ASC|DESC] [ALPHA] [STORE destination]")
    assert syntax["migrate"] == ('MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] '
                                 "[[AUTH password]|[AUTH2 username password]] [KEYS key [key ...]]")
    assert syntax["client|help"] == "CLIENT HELP"


def test_argument_syntax_multiple_token() -> None:
    arg = {"name": "prefix", "type": "string", "token": "PREFIX", "optional": True, "multiple": True,
           "multiple_token": True}
    assert argument_syntax(arg) == "[PREFIX prefix [PREFIX prefix ...]]"
    arg["multiple_token"] = False
    assert argument_syntax(arg) == "[PREFIX prefix [prefix ...]]"
