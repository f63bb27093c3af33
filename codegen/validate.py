"""Validate the command spec before anything is rendered.

Two layers, both reporting :class:`~specredis.codegen.errors.SpecProblem` values
that name the file and the field:

1. :func:`schema_problems` — the JSON Schema in ``schema/spec.schema.json``
   (types, enums, required fields; ``name``/``token``/``id`` must be strings
   and versions must be strings, so a YAML 1.1 ``ON`` can never become ``true``).
2. :func:`cross_problems` — the rules a schema cannot express (design doc §3.2
   "Codegen validation"): key-spec references, key-spec flag groups, positions
   within the arity, no declared implied categories, write vs may_replicate,
   getkeys hooks, argument-grammar rules, container and subcommand consistency,
   and handlers of implemented commands.

:func:`validate` runs both and raises :class:`~specredis.codegen.errors.SpecError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from specredis.engine.command import implied_categories

from .errors import SpecError, SpecProblem
from .load import SpecFile

# Commands of the 7.0.15 reference whose grammar has a oneof/block with a single
# sub-argument. Upstream only started rejecting these in 7.2; the importer must
# mirror the reference, so they are the known exceptions to the ">= 2" rule.
# Keyed by (fullname, path of argument ids).
SINGLE_CHILD_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset({
    ("client|list", "id"),
    ("config|get", "parameter"),
    ("module|loadex", "args"),
    ("psubscribe", "pattern"),
    ("xinfo|stream", "full"),
})

SERVED_STATUSES = ("implemented", "partial")
ACCESS_TYPE_FLAGS = ("ro", "rw", "ow", "rm")
WRITE_KIND_FLAGS = ("update", "insert", "delete")
GETKEYS_FLAGS = ("incomplete", "variable_flags")


@cache
def load_schema() -> dict[str, Any]:
    """The JSON Schema of one spec file."""
    text = resources.files("specredis.codegen").joinpath("schema/spec.schema.json").read_text()
    return json.loads(text)


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def field_path(parts: Any) -> str:
    """Render a JSON path (keys and indices) as ``docs.arguments[2].token``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _non_string_keys(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield path, key
            yield from _non_string_keys(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _non_string_keys(item, path + (i,))


def schema_problems(spec: SpecFile) -> list[SpecProblem]:
    """Problems found by the JSON Schema (plus non-string mapping keys, e.g. an unquoted ``null:``)."""
    problems = [
        SpecProblem(spec.label, field_path(path),
                    f"mapping key {key!r} is not a string (quote it in YAML, e.g. \"null\": array)")
        for path, key in _non_string_keys(spec.data)
    ]
    if problems:
        return problems
    for error in _validator().iter_errors(spec.data):
        message = error.message
        if error.validator in ("oneOf", "anyOf") and error.context:
            best = jsonschema.exceptions.best_match(error.context)
            message = f"{message} (closest: {best.message} at {field_path(best.relative_path) or 'top'})"
        problems.append(SpecProblem(spec.label, field_path(error.absolute_path), message))
    return problems


# ------------------------------------------------------------------------------------------
# Cross-checks
# ------------------------------------------------------------------------------------------

def fullname_of(data: dict[str, Any]) -> str:
    """``container|name`` for a subcommand, ``name`` otherwise."""
    container = data.get("container")
    return f"{container}|{data['name']}" if container else data["name"]


def expected_file_name(data: dict[str, Any]) -> str:
    """The file a spec must live in: ``client-kill.yaml`` for ``client|kill``."""
    return fullname_of(data).replace("|", "-") + ".yaml"


def arg_id(arg: dict[str, Any]) -> str:
    """An argument's identifier among its siblings: ``id`` when present, else ``name``."""
    return arg.get("id") or arg["name"]


def walk_arguments(args: list[dict[str, Any]], field: str = "docs.arguments",
                   ids: tuple[str, ...] = ()) -> Iterator[tuple[dict[str, Any], str, tuple[str, ...]]]:
    """Yield ``(argument, field path, id path)`` for every argument, depth first."""
    for i, arg in enumerate(args):
        here = f"{field}[{i}]"
        path = ids + (arg_id(arg),)
        yield arg, here, path
        yield from walk_arguments(arg.get("arguments") or [], f"{here}.arguments", path)


def needs_getkeys(key_specs: list[dict[str, Any]]) -> bool:
    """True when key specs alone cannot give the keys and their flags (design doc §2.3)."""
    for ks in key_specs:
        if ks["begin_search"] == "unknown" or ks["find_keys"] == "unknown":
            return True
        if any(flag in ks["flags"] for flag in GETKEYS_FLAGS):
            return True
    return False


def resp3_lint(schema: Any, field: str) -> Iterator[tuple[str, str]]:
    """Upstream's two reply-schema lint rules, applied recursively."""
    if isinstance(schema, dict):
        types = schema.get("type")
        types = types if isinstance(types, list) else [types]
        if "object" in types and "properties" in schema and "additionalProperties" not in schema:
            yield field, "an object schema with 'properties' must state 'additionalProperties'"
        tuple_items = isinstance(schema.get("items"), list) or "prefixItems" in schema
        if "array" in types and tuple_items and ("minItems" not in schema or "maxItems" not in schema):
            yield field, "an array schema with tuple items must state 'minItems' and 'maxItems'"
        for key, value in schema.items():
            if key in ("const", "enum", "examples", "default"):
                continue
            yield from resp3_lint(value, f"{field}.{key}")
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            yield from resp3_lint(item, f"{field}[{i}]")


def _check_key_specs(label: str, info: dict[str, Any], args: list[dict[str, Any]]) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    key_specs = info["key_specs"]
    arity = info["arity"]
    for i, ks in enumerate(key_specs):
        field = f"info.key_specs[{i}]"
        flags = ks["flags"]
        access = [f for f in flags if f in ACCESS_TYPE_FLAGS]
        # A not_key spec (SPUBLISH, SSUBSCRIBE, SUNSUBSCRIBE) marks a shard channel, not a key:
        # the reference gives it no access type. Only that spec is exempt; the checks still run
        # on every other spec of the command (upstream's early exit on NOT_KEY is a bug).
        if len(access) > 1 or (not access and "not_key" not in flags):
            problems.append(SpecProblem(label, f"{field}.flags",
                                        f"exactly one of ro/rw/ow/rm is required, found {access or 'none'}"))
        kinds = [f for f in flags if f in WRITE_KIND_FLAGS]
        if len(kinds) > 1:
            problems.append(SpecProblem(label, f"{field}.flags",
                                        f"at most one of update/insert/delete is allowed, found {kinds}"))
        bs, fk = ks["begin_search"], ks["find_keys"]
        if isinstance(bs, dict) and "index" in bs:
            pos = bs["index"]
            if pos < 1:
                problems.append(SpecProblem(label, f"{field}.begin_search.index",
                                            f"position {pos} is the command name; keys start at 1"))
            if arity > 0:
                last = pos
                if isinstance(fk, dict) and "range" in fk and fk["range"]["lastkey"] >= 0:
                    last = pos + fk["range"]["lastkey"]
                elif isinstance(fk, dict) and "keynum" in fk:
                    last = pos + fk["keynum"]["keynumidx"]
                if last >= arity:
                    problems.append(SpecProblem(
                        label, f"{field}.begin_search.index",
                        f"key position {last} lies outside arity {arity} (argv has {arity} entries)"))
        elif isinstance(bs, dict) and "keyword" in bs and arity > 0 and abs(bs["startfrom"]) >= arity:
            problems.append(SpecProblem(label, f"{field}.begin_search.startfrom",
                                        f"startfrom {bs['startfrom']} lies outside arity {arity}"))
    referenced: set[int] = set()
    for arg, field, _ in walk_arguments(args):
        index = arg.get("key_spec_index")
        if index is None:
            continue
        if index >= len(key_specs):
            problems.append(SpecProblem(label, f"{field}.key_spec_index",
                                        f"refers to key spec {index}, but there are {len(key_specs)}"))
        referenced.add(index)
    for i, ks in enumerate(key_specs):
        if i not in referenced and "not_key" not in ks["flags"]:
            problems.append(SpecProblem(label, f"info.key_specs[{i}]",
                                        "key spec is not referenced by any argument's key_spec_index"))
    return problems


def _check_arguments(label: str, fullname: str, args: list[dict[str, Any]]) -> list[SpecProblem]:
    problems: list[SpecProblem] = []

    def siblings(group: list[dict[str, Any]], field: str) -> None:
        seen: dict[str, int] = {}
        for i, arg in enumerate(group):
            ident = arg_id(arg)
            if ident in seen:
                problems.append(SpecProblem(
                    label, f"{field}[{i}]",
                    f"argument id {ident!r} repeats sibling {seen[ident]}; give one of them a unique 'id'"))
            seen.setdefault(ident, i)

    siblings(args, "docs.arguments")
    for arg, field, ids in walk_arguments(args):
        kind = arg["type"]
        subs = arg.get("arguments")
        if kind in ("oneof", "block"):
            count = len(subs or [])
            if count < 2 and (fullname, "/".join(ids)) not in SINGLE_CHILD_EXCEPTIONS:
                problems.append(SpecProblem(label, f"{field}.arguments",
                                            f"a {kind} needs at least 2 sub-arguments, found {count}"))
            siblings(subs or [], f"{field}.arguments")
        elif subs is not None:
            problems.append(SpecProblem(label, f"{field}.arguments",
                                        f"only oneof/block arguments have sub-arguments, not {kind}"))
        if kind == "pure-token" and "token" not in arg:
            problems.append(SpecProblem(label, f"{field}.token", "a pure-token argument needs a token"))
        if arg.get("multiple_token") and not arg.get("multiple"):
            problems.append(SpecProblem(label, f"{field}.multiple_token", "multiple_token requires multiple: true"))
        if "key_spec_index" in arg and kind not in ("key", "pattern"):
            problems.append(SpecProblem(label, f"{field}.key_spec_index",
                                        f"only key (and pattern) arguments refer to key specs, not {kind}"))
    return problems


def cross_problems(specs: list[SpecFile]) -> tuple[list[SpecProblem], list[SpecProblem]]:
    """Rules across fields and files. Returns ``(errors, warnings)``.

    Assumes every spec already passed :func:`schema_problems`.
    """
    errors: list[SpecProblem] = []
    warnings: list[SpecProblem] = []
    by_fullname: dict[str, SpecFile] = {}
    for spec in specs:
        name = fullname_of(spec.data)
        if spec.path.name != expected_file_name(spec.data):
            errors.append(SpecProblem(spec.label, "name",
                                      f"{name!r} must live in {expected_file_name(spec.data)}"))
        if name in by_fullname:
            errors.append(SpecProblem(spec.label, "name", f"{name!r} is also defined in {by_fullname[name].label}"))
        by_fullname[name] = spec
    children: dict[str, list[SpecFile]] = {}
    for spec in specs:
        container = spec.data.get("container")
        if container:
            children.setdefault(container, []).append(spec)

    for spec in specs:
        label, data = spec.label, spec.data
        fullname = fullname_of(data)
        info, docs, engine = data["info"], data["docs"], data["engine"]
        args = docs.get("arguments") or []
        flags = info["flags"]
        hidden = engine.get("hidden_flags") or []
        is_container = fullname in children
        status = engine.get("status")

        errors += _check_key_specs(label, info, args)
        errors += _check_arguments(label, fullname, args)

        declared = info["acl_categories"]
        implied = set(implied_categories(flags, declared))
        for i, cat in enumerate(declared):
            if cat in implied:
                errors.append(SpecProblem(label, f"info.acl_categories[{i}]",
                                          f"@{cat} is implied by the flags and must not be declared"))
        if "write" in flags and "may_replicate" in hidden:
            errors.append(SpecProblem(label, "engine.hidden_flags",
                                      "may_replicate cannot be combined with the write flag"))
        if engine.get("protected_by") and "protected" not in hidden:
            errors.append(SpecProblem(label, "engine.protected_by",
                                      "protected_by needs 'protected' in engine.hidden_flags"))

        # Containers and subcommands.
        container = data.get("container")
        if container:
            parent = by_fullname.get(container)
            if parent is None:
                errors.append(SpecProblem(label, "container", f"no spec file for container {container!r}"))
            else:
                if parent.data.get("container"):
                    errors.append(SpecProblem(label, "container",
                                              f"{container!r} is itself a subcommand; only one level is supported"))
                if docs["group"] != parent.data["docs"]["group"]:
                    errors.append(SpecProblem(
                        label, "docs.group",
                        f"{docs['group']!r} differs from container {container!r} group "
                        f"{parent.data['docs']['group']!r}"))
        if is_container and info["key_specs"]:
            errors.append(SpecProblem(label, "info.key_specs", "a container has no key specs"))
        if is_container and info["arity"] == -2:
            if engine.get("handler") is not None:
                errors.append(SpecProblem(label, "engine.handler",
                                          "a container has no handler (its subcommands are dispatched)"))
            if engine.get("getkeys") is not None:
                errors.append(SpecProblem(label, "engine.getkeys", "a container has no getkeys hook"))
        elif is_container and info["arity"] != -1:
            errors.append(SpecProblem(
                label, "info.arity",
                f"a container has arity -2 (or -1 when it also runs alone, like COMMAND), not {info['arity']}"))
        else:
            # A plain command, or a container that also runs without a subcommand (COMMAND, arity -1):
            # the latter has its own status and handler for the argc == 1 form.
            if status is None:
                errors.append(SpecProblem(label, "engine.status",
                                          "required: implemented | partial | unimplemented"))
            served = status in SERVED_STATUSES
            handler = engine.get("handler")
            if served and not handler:
                errors.append(SpecProblem(label, "engine.handler",
                                          f"status {status!r} needs a handler 'package.module:function'"))
            needed = needs_getkeys(info["key_specs"])
            if engine.get("getkeys") and not needed:
                errors.append(SpecProblem(
                    label, "engine.getkeys",
                    "only allowed when a key spec is unknown, incomplete or variable_flags"))
            if needed and served and not engine.get("getkeys"):
                errors.append(SpecProblem(
                    label, "engine.getkeys",
                    "required: a key spec is unknown, incomplete or variable_flags"))
            if "blocking" in engine and "blocking" not in flags:
                errors.append(SpecProblem(label, "engine.blocking",
                                          "only blocking commands (info.flags has 'blocking') have this section"))
            if "blocking" in flags and served and "blocking" not in engine:
                warnings.append(SpecProblem(label, "engine.blocking",
                                            "blocking command without an engine.blocking section"))
            for i, index in enumerate((engine.get("blocking") or {}).get("keys") or []):
                if index >= len(info["key_specs"]):
                    errors.append(SpecProblem(label, f"engine.blocking.keys[{i}]",
                                              f"refers to key spec {index}, but there are {len(info['key_specs'])}"))
        reply = data.get("reply") or {}
        if "resp3" in reply:
            for field, message in resp3_lint(reply["resp3"], "reply.resp3"):
                errors.append(SpecProblem(label, field, message))
    return errors, warnings


def validate(specs: list[SpecFile]) -> list[SpecProblem]:
    """Validate all specs; raise :class:`SpecError` on any error, return the warnings."""
    problems: list[SpecProblem] = []
    for spec in specs:
        problems += schema_problems(spec)
    if problems:
        raise SpecError(problems)
    errors, warnings = cross_problems(specs)
    if errors:
        raise SpecError(errors)
    return warnings
