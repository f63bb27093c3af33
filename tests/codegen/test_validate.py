"""Validation: each class of spec error is caught, named by file and field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from specredis.codegen.__main__ import main
from specredis.codegen.errors import SpecError
from specredis.codegen.load import load_specs
from specredis.codegen.validate import load_schema, validate
from specredis.engine.command import ACL_CATEGORIES, HIDDEN_FLAGS, KEYSPEC_FLAGS, VISIBLE_FLAGS

SPEC_DIR = Path(__file__).resolve().parents[2] / "spec" / "commands"


def assert_problem(problems, file: str, field: str, text: str = "") -> None:
    for p in problems:
        if p.file.endswith(file) and p.field == field and text in p.message:
            return
    raise AssertionError(f"no problem {file}: {field}: *{text}* in:\n" + "\n".join(map(str, problems)))


def test_real_spec_is_valid() -> None:
    assert validate(load_specs(SPEC_DIR)) == []


def test_minimal_specs_are_valid(spec_problems, get_spec, container_spec, sub_spec) -> None:
    assert spec_problems(get_spec, container_spec, sub_spec) == []


def test_schema_enums_match_engine_vocabularies() -> None:
    defs = load_schema()["$defs"]
    assert defs["info"]["properties"]["flags"]["items"]["enum"] == [
        f for f in VISIBLE_FLAGS if f not in ("module", "movablekeys")]
    assert defs["info"]["properties"]["acl_categories"]["items"]["enum"] == list(ACL_CATEGORIES)
    assert defs["key_spec"]["properties"]["flags"]["items"]["enum"] == [name for name, _ in KEYSPEC_FLAGS]
    assert defs["engine"]["properties"]["hidden_flags"]["items"]["enum"] == list(HIDDEN_FLAGS)


# -- schema -----------------------------------------------------------------------------

def _raw(tmp_path: Path, text: str) -> list:
    d = tmp_path / "commands"
    d.mkdir()
    (d / "get.yaml").write_text(text)
    with pytest.raises(SpecError) as exc:
        validate(load_specs(d))
    return exc.value.problems


RAW_GET = """\
name: "get"
info:
  arity: 2
  flags: [readonly, fast]
  acl_categories: [string]
  tips: []
  key_specs:
    - flags: [ro, access]
      begin_search: {index: 1}
      find_keys: {range: {lastkey: 0, keystep: 1, limit: 0}}
docs:
  summary: Get
  since: 1.0.0
  group: string
  arguments:
    - name: "key"
      type: key
      key_spec_index: 0
    - name: "mode"
      type: pure-token
      token: "ON"
      optional: true
engine:
  status: unimplemented
  handler:
"""


def test_unquoted_token_on_is_rejected(tmp_path: Path) -> None:
    problems = _raw(tmp_path, RAW_GET.replace('token: "ON"', "token: ON"))
    assert_problem(problems, "get.yaml", "docs.arguments[1].token", "True is not of type 'string'")


def test_unquoted_name_no_is_rejected(tmp_path: Path) -> None:
    problems = _raw(tmp_path, RAW_GET.replace('name: "mode"', "name: no"))
    assert_problem(problems, "get.yaml", "docs.arguments[1].name", "is not of type 'string'")


def test_version_must_be_a_string(tmp_path: Path) -> None:
    problems = _raw(tmp_path, RAW_GET.replace("since: 1.0.0", "since: 7.0"))
    assert_problem(problems, "get.yaml", "docs.since", "is not of type 'string'")


def test_unquoted_null_key_is_rejected(tmp_path: Path) -> None:
    problems = _raw(tmp_path, RAW_GET + "reply:\n  resp2:\n    null: array\n")
    assert_problem(problems, "get.yaml", "reply.resp2", "not a string")


def test_duplicate_yaml_key_is_rejected(tmp_path: Path) -> None:
    problems = _raw(tmp_path, RAW_GET + "engine:\n  status: implemented\n")
    assert_problem(problems, "get.yaml", "", "duplicate key")


@pytest.mark.parametrize(("path", "value", "field", "text"), [
    (("info", "flags"), ["write", "movablekeys"], "info.flags[1]", "is not one of"),
    (("info", "acl_categories"), ["strings"], "info.acl_categories[0]", "is not one of"),
    (("info", "arity"), 0, "info.arity", ""),
    (("info", "tips"), ["request_policy:nowhere"], "info.tips[0]", "does not match"),
    (("docs", "group"), "sorted_set", "docs.group", "is not one of"),
    (("engine", "status"), "done", "engine.status", "is not one of"),
    (("engine", "handler"), "specredis.engine.strings.get", "engine.handler", ""),
    (("engine", "hidden_flags"), ["movablekeys"], "engine.hidden_flags[0]", "is not one of"),
    (("engine", "multi"), "later", "engine.multi", "is not one of"),
    (("engine", "pubsub_resp2"), "yes", "engine.pubsub_resp2", "is not one of"),
    (("engine", "typo_field"), 1, "engine", "Additional properties"),
    (("reply",), {"resp2": {"null": "none"}}, "reply.resp2.null", "is not one of"),
    (("reply",), {"resp2": {"pairs": "deep"}}, "reply.resp2.pairs", "is not one of"),
])
def test_schema_types_and_enums(spec_problems, path, value, field, text, get_spec) -> None:
    spec = get_spec
    target = spec
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert_problem(spec_problems(spec), "get.yaml", field, text)


def test_key_spec_begin_search_shape(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["info"]["key_specs"][0]["begin_search"] = {"index": 1, "keyword": "X"}
    assert_problem(spec_problems(spec), "get.yaml", "info.key_specs[0].begin_search", "not valid")


# -- cross checks ------------------------------------------------------------------------

def test_unreferenced_key_spec(spec_problems, get_spec) -> None:
    spec = get_spec
    del spec["docs"]["arguments"][0]["key_spec_index"]
    assert_problem(spec_problems(spec), "get.yaml", "info.key_specs[0]", "not referenced")


def test_not_key_spec_needs_no_reference_but_others_still_do(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["info"]["key_specs"].insert(0, {"flags": ["not_key"], "begin_search": {"index": 1},
                                         "find_keys": {"range": {"lastkey": 0, "keystep": 1, "limit": 0}}})
    problems = spec_problems(spec)
    assert not any(p.field == "info.key_specs[0]" for p in problems)
    assert_problem(problems, "get.yaml", "info.key_specs[1]", "not referenced")


def test_key_spec_index_out_of_range(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["docs"]["arguments"][0]["key_spec_index"] = 3
    assert_problem(spec_problems(spec), "get.yaml", "docs.arguments[0].key_spec_index", "refers to key spec 3")


@pytest.mark.parametrize("flags", [["access"], ["ro", "rw", "access"]])
def test_exactly_one_access_type(spec_problems, flags, get_spec) -> None:
    spec = get_spec
    spec["info"]["key_specs"][0]["flags"] = flags
    assert_problem(spec_problems(spec), "get.yaml", "info.key_specs[0].flags", "exactly one of ro/rw/ow/rm")


def test_at_most_one_write_kind(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["info"]["key_specs"][0]["flags"] = ["rw", "update", "delete"]
    assert_problem(spec_problems(spec), "get.yaml", "info.key_specs[0].flags", "at most one of update/insert/delete")


def test_key_position_outside_arity(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["info"]["key_specs"][0]["find_keys"]["range"]["lastkey"] = 1
    assert_problem(spec_problems(spec), "get.yaml", "info.key_specs[0].begin_search.index", "outside arity 2")


def test_declared_implied_category(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["info"]["acl_categories"] = ["string", "read"]
    assert_problem(spec_problems(spec), "get.yaml", "info.acl_categories[1]", "@read is implied")


def test_slow_is_implied_when_not_fast(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["info"]["flags"] = ["readonly"]
    spec["info"]["acl_categories"] = ["string", "slow"]
    assert_problem(spec_problems(spec), "get.yaml", "info.acl_categories[1]", "@slow is implied")


def test_write_and_may_replicate_are_exclusive(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["info"]["flags"] = ["write"]
    spec["info"]["key_specs"][0]["flags"] = ["rw", "update"]
    spec["engine"]["hidden_flags"] = ["may_replicate"]
    assert_problem(spec_problems(spec), "get.yaml", "engine.hidden_flags", "may_replicate")


def _unknown_spec(base: dict, status: str) -> dict:
    spec = copy.deepcopy(base)
    spec["info"]["key_specs"][0]["begin_search"] = "unknown"
    spec["info"]["key_specs"][0]["find_keys"] = "unknown"
    handler = None if status == "unimplemented" else "specredis.engine.strings:get_command"
    spec["engine"] = {"status": status, "handler": handler}
    return spec


def test_getkeys_required_for_implemented_unknown_spec(spec_problems, get_spec) -> None:
    assert_problem(spec_problems(_unknown_spec(get_spec, "implemented")), "get.yaml", "engine.getkeys", "required")
    assert_problem(spec_problems(_unknown_spec(get_spec, "partial")), "get.yaml", "engine.getkeys", "required")
    assert spec_problems(_unknown_spec(get_spec, "unimplemented")) == []
    spec = _unknown_spec(get_spec, "implemented")
    spec["engine"]["getkeys"] = "specredis.engine.keys:get_getkeys"
    assert spec_problems(spec) == []


@pytest.mark.parametrize("flag", ["incomplete", "variable_flags"])
def test_getkeys_required_for_incomplete_or_variable_flags(spec_problems, flag, get_spec) -> None:
    spec = get_spec
    spec["info"]["key_specs"][0]["flags"].append(flag)
    spec["engine"] = {"status": "implemented", "handler": "specredis.engine.strings:get_command"}
    assert_problem(spec_problems(spec), "get.yaml", "engine.getkeys", "required")


def test_getkeys_not_allowed_when_specs_suffice(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["engine"]["getkeys"] = "specredis.engine.keys:get_getkeys"
    assert_problem(spec_problems(spec), "get.yaml", "engine.getkeys", "only allowed")


@pytest.mark.parametrize("kind", ["oneof", "block"])
def test_oneof_and_block_need_two_sub_arguments(spec_problems, kind, get_spec) -> None:
    spec = get_spec
    spec["docs"]["arguments"].append({"name": "mode", "type": kind, "optional": True,
                                      "arguments": [{"name": "nx", "type": "pure-token", "token": "NX"}]})
    assert_problem(spec_problems(spec), "get.yaml", "docs.arguments[1].arguments", "at least 2 sub-arguments")


def test_unique_sibling_ids(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["docs"]["arguments"].append({"name": "key", "type": "string"})
    assert_problem(spec_problems(spec), "get.yaml", "docs.arguments[1]", "repeats sibling 0")
    spec["docs"]["arguments"][1]["id"] = "other"
    assert spec_problems(spec) == []


def test_unique_nested_sibling_ids(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["docs"]["arguments"].append({"name": "mode", "type": "oneof", "arguments": [
        {"name": "x", "type": "pure-token", "token": "X"}, {"name": "x", "type": "pure-token", "token": "Y"}]})
    assert_problem(spec_problems(spec), "get.yaml", "docs.arguments[1].arguments[1]", "repeats sibling 0")


def test_pure_token_needs_token(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["docs"]["arguments"].append({"name": "nx", "type": "pure-token", "optional": True})
    assert_problem(spec_problems(spec), "get.yaml", "docs.arguments[1].token", "needs a token")


def test_multiple_token_implies_multiple(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["docs"]["arguments"].append({"name": "p", "type": "string", "token": "P", "multiple_token": True})
    assert_problem(spec_problems(spec), "get.yaml", "docs.arguments[1].multiple_token", "requires multiple")


def test_container_arity(spec_problems, container_spec, sub_spec) -> None:
    container = container_spec
    container["info"]["arity"] = 3
    assert_problem(spec_problems(container, sub_spec), "object.yaml", "info.arity", "arity -2")


def test_container_has_no_handler(spec_problems, container_spec, sub_spec) -> None:
    container = container_spec
    container["engine"]["handler"] = "specredis.engine.keys:object_command"
    assert_problem(spec_problems(container, sub_spec), "object.yaml", "engine.handler", "no handler")


def test_container_needs_a_subcommand_file(spec_problems, sub_spec) -> None:
    assert_problem(spec_problems(sub_spec), "object-help.yaml", "container", "no spec file for container")


def test_subcommand_group_equals_container_group(spec_problems, container_spec, sub_spec) -> None:
    sub = sub_spec
    sub["docs"]["group"] = "server"
    assert_problem(spec_problems(container_spec, sub), "object-help.yaml", "docs.group", "differs from container")


def test_container_status_is_not_required(spec_problems, container_spec, sub_spec) -> None:
    container = container_spec
    del container["engine"]["status"]
    assert spec_problems(container, sub_spec) == []


def test_implemented_command_needs_handler(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["engine"]["status"] = "implemented"
    assert_problem(spec_problems(spec), "get.yaml", "engine.handler", "needs a handler")


def test_command_needs_status(spec_problems, get_spec) -> None:
    spec = get_spec
    del spec["engine"]["status"]
    assert_problem(spec_problems(spec), "get.yaml", "engine.status", "required")


def test_file_name_must_match_fullname(tmp_path: Path) -> None:
    problems = _raw(tmp_path, RAW_GET.replace('name: "get"', 'name: "mget"'))
    assert_problem(problems, "get.yaml", "name", "must live in mget.yaml")


def test_blocking_section_only_on_blocking_commands(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["engine"]["blocking"] = {"keys": [0]}
    assert_problem(spec_problems(spec), "get.yaml", "engine.blocking", "only blocking commands")


def test_protected_by_needs_protected_flag(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["engine"]["protected_by"] = "enable-debug-command"
    assert_problem(spec_problems(spec), "get.yaml", "engine.protected_by", "protected")


def test_resp3_schema_lint(spec_problems, get_spec) -> None:
    spec = get_spec
    spec["reply"] = {"resp3": {"oneOf": [{"type": "object", "properties": {"a": {"type": "string"}}},
                                         {"type": "array", "items": [{"type": "string"}]}]}}
    problems = spec_problems(spec)
    assert_problem(problems, "get.yaml", "reply.resp3.oneOf[0]", "additionalProperties")
    assert_problem(problems, "get.yaml", "reply.resp3.oneOf[1]", "minItems")


def test_cli_exits_2_on_invalid_spec(tmp_path: Path, capsys, get_spec) -> None:
    spec = get_spec
    spec["info"]["acl_categories"] = ["read"]
    d = tmp_path / "commands"
    d.mkdir()
    (d / "get.yaml").write_text(json.dumps(spec))
    assert main(["--spec", str(d), "--out", str(tmp_path / "out"), "--no-docs"]) == 2
    err = capsys.readouterr().err
    assert "get.yaml: info.acl_categories[0]: @read is implied" in err
    assert not (tmp_path / "out").exists()
