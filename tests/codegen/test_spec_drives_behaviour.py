"""Changing one YAML value changes the generated table and the server's behaviour, with no
hand-written change: the spec is the single source of truth."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from specredis.codegen.render import load_module, render_to
from specredis.engine.core import Engine
from specredis.protocol.replies import ErrorReply

SPEC_DIR = Path(__file__).resolve().parents[2] / "spec" / "commands"


def _engine_from_spec(spec_dir: Path, out_dir: Path) -> Engine:
    render_to(spec_dir, out_dir)
    table = load_module(out_dir / "command_table.py")
    return Engine(command_defs=table.COMMAND_DEFS)


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_arity_in_yaml_drives_the_dispatcher(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, spec)

    engine = _engine_from_spec(spec, tmp_path / "before")
    client = engine.new_client()
    assert engine.execute(client, [b"SET", b"k", b"v"]).text == b"OK"
    assert engine.execute(client, [b"GET", b"k"]) == b"v"
    assert engine.execute(client, [b"GET", b"k", b"extra"]) == ErrorReply(
        b"ERR wrong number of arguments for 'get' command")

    # GET k extra becomes legal arity-wise once the spec says -2; the handler still runs.
    _edit(spec / "get.yaml", lambda d: d["info"].__setitem__("arity", -2))
    engine = _engine_from_spec(spec, tmp_path / "after")
    client = engine.new_client()
    engine.execute(client, [b"SET", b"k", b"v"])
    assert next(d for d in engine.command_defs.values() if d.fullname == "get").arity == -2
    assert engine.execute(client, [b"GET", b"k", b"extra"]) == b"v"


def test_status_in_yaml_decides_what_is_served(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, spec)
    _edit(spec / "echo.yaml", lambda d: d["engine"].__setitem__("status", "unimplemented"))
    engine = _engine_from_spec(spec, tmp_path / "out")
    client = engine.new_client()
    assert engine.execute(client, [b"ECHO", b"hi"]) == ErrorReply(
        b"ERR unknown command 'ECHO', with args beginning with: 'hi' ")
    assert engine.execute(client, [b"PING"]).text == b"PONG"
