"""Build COMMAND INFO and COMMAND DOCS reply trees as typed reply values.

Shapes and value types are those Redis 7.0.15 sends (design doc §1.6, verified with
raw RESP3): names, tips, map keys, key-spec types and DOCS texts are bulk strings
(``bytes``); command flags, ACL categories, key-spec flags, doc flags and argument
flags are simple strings (:class:`Status`) inside sets; an empty subcommand list is
an empty set, a non-empty one an array of INFO arrays.
"""

from __future__ import annotations

from typing import Any

from specredis.protocol.replies import Map, Set, Status

from .derive import Command, keyspec_flag_names

KEYSPEC_FLAG_SPELLING = {"ro": "RO", "rw": "RW", "ow": "OW", "rm": "RM"}


def _b(text: str) -> bytes:
    return text.encode()


def key_spec_reply(ks: dict[str, Any]) -> Map:
    """One key spec as COMMAND INFO's map: notes?, flags, begin_search, find_keys."""
    pairs: list[tuple[Any, Any]] = []
    if ks.get("notes") is not None:
        pairs.append((b"notes", _b(ks["notes"])))
    pairs.append((b"flags", Set([Status(KEYSPEC_FLAG_SPELLING.get(f, f)) for f in keyspec_flag_names(ks)])))
    bs = ks["begin_search"]
    if bs == "unknown":
        begin = Map([(b"type", b"unknown"), (b"spec", Map([]))])
    elif "index" in bs:
        begin = Map([(b"type", b"index"), (b"spec", Map([(b"index", bs["index"])]))])
    else:
        begin = Map([(b"type", b"keyword"),
                     (b"spec", Map([(b"keyword", _b(bs["keyword"])), (b"startfrom", bs["startfrom"])]))])
    pairs.append((b"begin_search", begin))
    fk = ks["find_keys"]
    if fk == "unknown":
        find = Map([(b"type", b"unknown"), (b"spec", Map([]))])
    elif "range" in fk:
        r = fk["range"]
        find = Map([(b"type", b"range"), (b"spec", Map([(b"lastkey", r["lastkey"]), (b"keystep", r["keystep"]),
                                                         (b"limit", r["limit"])]))])
    else:
        k = fk["keynum"]
        find = Map([(b"type", b"keynum"), (b"spec", Map([(b"keynumidx", k["keynumidx"]),
                                                          (b"firstkey", k["firstkey"]),
                                                          (b"keystep", k["keystep"])]))])
    pairs.append((b"find_keys", find))
    return Map(pairs)


def info_reply(cmd: Command, subcommands: list[Any] | None = None) -> list[Any]:
    """The 10-element COMMAND INFO array of a command.

    ``subcommands`` is the list to put at index 9 (the served subcommands' INFO arrays);
    when it is empty or None an empty set is sent, as Redis does.
    """
    return [
        _b(cmd.fullname),
        cmd.arity,
        Set([Status(f) for f in cmd.visible_flags]),
        cmd.first_key,
        cmd.last_key,
        cmd.key_step,
        Set([Status("@" + c) for c in cmd.categories]),
        Set([_b(t) for t in cmd.info["tips"]]),
        Set([key_spec_reply(ks) for ks in cmd.key_specs]),
        subcommands if subcommands else Set([]),
    ]


ARG_FLAGS = ("optional", "multiple", "multiple_token")


def argument_reply(arg: dict[str, Any]) -> Map:
    """One argument of COMMAND DOCS: name, type, key_spec_index?, token?, summary?, since?,
    deprecated_since?, flags?, arguments?"""
    pairs: list[tuple[Any, Any]] = [(b"name", _b(arg["name"])), (b"type", _b(arg["type"]))]
    if "key_spec_index" in arg:
        pairs.append((b"key_spec_index", arg["key_spec_index"]))
    for name in ("token", "summary", "since", "deprecated_since"):
        if name in arg:
            pairs.append((_b(name), _b(arg[name])))
    flags = [Status(f) for f in ARG_FLAGS if arg.get(f)]
    if flags:
        pairs.append((b"flags", Set(flags)))
    if "arguments" in arg:
        pairs.append((b"arguments", [argument_reply(sub) for sub in arg["arguments"]]))
    return Map(pairs)


def docs_reply(cmd: Command, subcommands: list[tuple[bytes, Any]] | None = None) -> Map:
    """The COMMAND DOCS map of a command (``subcommands``: served subcommands' docs, keyed)."""
    docs = cmd.docs
    pairs: list[tuple[Any, Any]] = []
    for name in ("summary", "since", "group", "complexity"):
        if name in docs:
            pairs.append((_b(name), _b(docs[name])))
    if "doc_flags" in docs:
        pairs.append((b"doc_flags", Set([Status(f) for f in docs["doc_flags"]])))
    for name in ("deprecated_since", "replaced_by"):
        if name in docs:
            pairs.append((_b(name), _b(docs[name])))
    if "history" in docs:
        pairs.append((b"history", Set([[_b(v), _b(t)] for v, t in docs["history"]])))
    if "arguments" in docs:
        pairs.append((b"arguments", [argument_reply(a) for a in docs["arguments"]]))
    if subcommands:
        pairs.append((b"subcommands", Map(subcommands)))
    return Map(pairs)
