#!/usr/bin/env python3
"""Import the command spec from a running reference Redis.

Reads ``COMMAND`` and ``COMMAND DOCS`` over RESP3 and writes one YAML file per
runtime command into ``spec/commands/`` (subcommands as ``<container>-<name>.yaml``).

The importer owns the ``info`` and ``docs`` sections only. The hand-written
``engine``, ``reply`` and ``conformance`` sections of an existing file are kept
as they are, comments included (ruamel round trip).

Usage:
    python tools/import_commands.py                 # start a throwaway redis-server
    python tools/import_commands.py --port 6379     # use a running reference
    python tools/import_commands.py --check         # report drift, write nothing
    python tools/import_commands.py --only 'set,client*'
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import fnmatch
import io
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from specredis.engine.command import implied_categories
from specredis.protocol.client import RBigNumber, RDouble, RespClient, RMap, Status

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec" / "commands"
REFERENCE_FILE = ROOT / "spec" / "reference.yaml"

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, Status):
        return value.text
    if isinstance(value, RDouble | RBigNumber):
        return value.text
    return value


def flow(items: list) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def flow_map(**kwargs: Any) -> CommentedMap:
    m = CommentedMap()
    for k, v in kwargs.items():
        m[k] = v
    m.fa.set_flow_style()
    return m


def quoted(value: str) -> DoubleQuotedScalarString:
    """Names and tokens are always quoted: YAML 1.1 reads ON/NO/~/*/= as other types."""
    return DoubleQuotedScalarString(value)


# --------------------------------------------------------------------------
# COMMAND INFO -> info section
# --------------------------------------------------------------------------

def convert_key_spec(spec: RMap) -> CommentedMap:
    out = CommentedMap()
    notes = spec.get(b"notes")
    if notes is not None:
        out["notes"] = text(notes)
    out["flags"] = flow([text(f).lower() for f in spec.get(b"flags").items])
    bs = spec.get(b"begin_search")
    bs_type = text(bs.get(b"type"))
    bs_spec = bs.get(b"spec")
    if bs_type == "index":
        out["begin_search"] = flow_map(index=bs_spec.get(b"index"))
    elif bs_type == "keyword":
        out["begin_search"] = flow_map(keyword=quoted(text(bs_spec.get(b"keyword"))),
                                       startfrom=bs_spec.get(b"startfrom"))
    else:
        out["begin_search"] = "unknown"
    fk = spec.get(b"find_keys")
    fk_type = text(fk.get(b"type"))
    fk_spec = fk.get(b"spec")
    if fk_type == "range":
        out["find_keys"] = flow_map(range=flow_map(
            lastkey=fk_spec.get(b"lastkey"), keystep=fk_spec.get(b"keystep"), limit=fk_spec.get(b"limit")))
    elif fk_type == "keynum":
        out["find_keys"] = flow_map(keynum=flow_map(
            keynumidx=fk_spec.get(b"keynumidx"), firstkey=fk_spec.get(b"firstkey"),
            keystep=fk_spec.get(b"keystep")))
    else:
        out["find_keys"] = "unknown"
    return out


def convert_info(entry: list) -> CommentedMap:
    flags = [text(f) for f in entry[2].items if text(f) != "movablekeys"]
    categories = [text(c)[1:] for c in entry[6].items]
    declared = [c for c in categories if c not in implied_categories(flags, categories)]
    info = CommentedMap()
    info["arity"] = entry[1]
    info["flags"] = flow(flags)
    info["acl_categories"] = flow(declared)
    info["tips"] = flow([text(t) for t in entry[7].items])
    info["key_specs"] = CommentedSeq([convert_key_spec(s) for s in entry[8].items])
    return info


# --------------------------------------------------------------------------
# COMMAND DOCS -> docs section
# --------------------------------------------------------------------------

def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "arg"


def convert_arguments(args: list) -> CommentedSeq:
    converted = []
    for arg in args:
        m = CommentedMap()
        name = text(arg.get(b"name"))
        m["name"] = quoted(name)
        converted.append((arg, m))
    # Derive an identifier where the reported name is not a unique kebab-case one.
    names = [str(m["name"]) for _, m in converted]
    used: set[str] = set()
    for arg, m in converted:
        name = str(m["name"])
        if not KEBAB.match(name) or names.count(name) > 1:
            token = arg.get(b"token")
            base = slug(text(token)) if token and names.count(name) > 1 else slug(name)
            ident = base
            n = 2
            while ident in used or (ident in names and ident != name):
                ident = f"{base}-{n}"
                n += 1
            m["id"] = quoted(ident)
            used.add(ident)
        else:
            used.add(name)
    out = CommentedSeq()
    for arg, m in converted:
        m["type"] = text(arg.get(b"type"))
        for field in ("key_spec_index", "token", "summary", "since", "deprecated_since"):
            value = arg.get(field.encode())
            if value is not None:
                value = text(value)
                m[field] = quoted(value) if field == "token" else value
        flags = arg.get(b"flags")
        if flags is not None:
            for flag in flags.items:
                m[text(flag)] = True
        sub = arg.get(b"arguments")
        if sub is not None:
            m["arguments"] = convert_arguments(sub)
        out.append(m)
    return out


def convert_docs(doc: RMap) -> CommentedMap:
    out = CommentedMap()
    for field in ("summary", "since", "group", "complexity"):
        value = doc.get(field.encode())
        if value is not None:
            out[field] = text(value)
    doc_flags = doc.get(b"doc_flags")
    if doc_flags is not None:
        out["doc_flags"] = flow([text(f) for f in doc_flags.items])
    for field in ("deprecated_since", "replaced_by"):
        value = doc.get(field.encode())
        if value is not None:
            out[field] = text(value)
    history = doc.get(b"history")
    if history is not None:
        out["history"] = CommentedSeq([flow([text(v), text(c)]) for v, c in history.items])
    args = doc.get(b"arguments")
    if args is not None:
        out["arguments"] = convert_arguments(args)
    return out


# --------------------------------------------------------------------------
# Merge and write
# --------------------------------------------------------------------------

def yaml_rt() -> YAML:
    y = YAML()
    y.width = 100
    y.indent(mapping=2, sequence=4, offset=2)
    y.preserve_quotes = True
    return y


def skeleton_engine(info: CommentedMap) -> CommentedMap:
    engine = CommentedMap()
    engine["status"] = "unimplemented"
    engine["handler"] = None
    return engine


def render(name: str, container: str | None, info: CommentedMap, docs: CommentedMap,
           existing: CommentedMap | None) -> str:
    doc = CommentedMap()
    doc["name"] = quoted(name)
    if container:
        doc["container"] = quoted(container)
    doc["info"] = info
    doc["docs"] = docs
    if existing is not None:
        for section in existing:
            if section not in ("name", "container", "info", "docs"):
                doc[section] = existing[section]
    if "engine" not in doc:
        doc["engine"] = skeleton_engine(info)
    buf = io.StringIO()
    yaml_rt().dump(doc, buf)
    return buf.getvalue()


def file_name(fullname: str) -> str:
    return fullname.replace("|", "-") + ".yaml"


def collect(client: RespClient) -> dict[str, tuple[list, RMap]]:
    """Return {fullname: (COMMAND INFO entry, COMMAND DOCS entry)} for every runtime command."""
    infos: dict[str, list] = {}

    def walk(entry: list) -> None:
        infos[text(entry[0])] = entry
        subs = entry[9]
        if isinstance(subs, list):
            for sub in subs:
                walk(sub)

    for entry in client.call("COMMAND"):
        walk(entry)
    docs: dict[str, RMap] = {}

    def walk_docs(name: str, doc: RMap) -> None:
        docs[name] = doc
        subs = doc.get(b"subcommands")
        if subs is not None:
            for sub_name, sub_doc in subs.pairs:
                walk_docs(text(sub_name), sub_doc)

    for name, doc in client.call("COMMAND", "DOCS").pairs:
        walk_docs(text(name), doc)
    listed = {text(n) for n in client.call("COMMAND", "LIST")}
    if listed != set(infos) or set(docs) != set(infos):
        raise SystemExit("COMMAND, COMMAND DOCS and COMMAND LIST disagree on the command set")
    return {name: (infos[name], docs[name]) for name in sorted(infos)}


@contextlib.contextmanager
def reference_server(port: int | None):
    if port is not None:
        yield port
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found: apt-get install -y redis-server, or pass --port")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([binary, "--port", str(free), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", tmp],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", free), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield free
        finally:
            proc.terminate()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--check", action="store_true", help="report drift from the reference, write nothing")
    parser.add_argument("--only", default=None, help="comma-separated fullname globs, e.g. 'set,client*'")
    args = parser.parse_args(argv)

    with reference_server(args.port) as port:
        client = RespClient(args.host, port, protocol=3)
        version = None
        info_text = client.call("INFO", "server")
        info_text = (info_text.text if hasattr(info_text, "text") else info_text).decode()
        for line in info_text.splitlines():
            if line.startswith("redis_version:"):
                version = line.split(":", 1)[1].strip()
        commands = collect(client)
        client.close()

    patterns = args.only.split(",") if args.only else None
    SPEC_DIR.mkdir(parents=True, exist_ok=True)
    drift = 0
    seen = set()
    for fullname, (info_entry, doc_entry) in commands.items():
        if patterns and not any(fnmatch.fnmatch(fullname, p) for p in patterns):
            continue
        container, _, sub = fullname.partition("|")
        name, parent = (sub, container) if sub else (container, None)
        path = SPEC_DIR / file_name(fullname)
        seen.add(path.name)
        existing = None
        old_text = path.read_text() if path.exists() else ""
        if old_text:
            existing = yaml_rt().load(old_text)
        new_text = render(name, parent, convert_info(info_entry), convert_docs(doc_entry), existing)
        if new_text != old_text:
            drift += 1
            if args.check:
                sys.stdout.writelines(difflib.unified_diff(
                    old_text.splitlines(True), new_text.splitlines(True), f"a/{path.name}", f"b/{path.name}"))
            else:
                path.write_text(new_text)
    if not patterns:
        for stale in sorted(SPEC_DIR.glob("*.yaml")):
            if stale.name not in seen:
                print(f"not in the reference any more (kept): {stale.name}", file=sys.stderr)
    if not args.check and not patterns:
        REFERENCE_FILE.write_text(
            "# The reference server the spec was imported from (tools/import_commands.py).\n"
            "server: redis\n"
            f'version: "{version}"\n'
            f"commands: {len(commands)}\n"
            "imported_with: tools/import_commands.py\n")
    print(f"{len(commands)} commands; {drift} file(s) {'differ' if args.check else 'written'}", file=sys.stderr)
    return 1 if (args.check and drift) else 0


if __name__ == "__main__":
    sys.exit(main())
