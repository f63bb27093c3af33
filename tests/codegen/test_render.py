"""Rendering: deterministic output, ``--check``, and a table rendered from a modified spec."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from specredis.codegen.__main__ import main
from specredis.codegen.render import (
    HEADER,
    build,
    check,
    load_module,
    render_outputs,
    render_to,
    write_outputs,
)
from specredis.engine.command import CATEGORY_BITS, FLAG_BITS, KEYSPEC_FLAG_BITS, CommandDef, KeySpec

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "spec" / "commands"


@pytest.fixture(scope="module")
def built():
    return build(SPEC_DIR)


def test_rendering_is_deterministic(built, tmp_path: Path) -> None:
    first = render_outputs(built, tmp_path / "gen", tmp_path / "docs")
    second = render_outputs(build(SPEC_DIR), tmp_path / "gen", tmp_path / "docs")
    assert first == second
    assert len(first) == 3 + 366 + 1
    for path, text in first.items():
        assert HEADER in text.splitlines()[0], path
        assert text.endswith("\n") and not text.endswith("\n\n"), path


def test_render_to_twice_gives_identical_bytes(tmp_path: Path) -> None:
    render_to(SPEC_DIR, tmp_path / "a", tmp_path / "adocs")
    render_to(SPEC_DIR, tmp_path / "b", tmp_path / "bdocs")
    for sub in ("", "docs"):
        a = sorted((tmp_path / f"a{sub}").iterdir())
        b = sorted((tmp_path / f"b{sub}").iterdir())
        assert [p.name for p in a] == [p.name for p in b]
        for pa, pb in zip(a, b, strict=True):
            assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_check_passes_on_the_committed_tree(capsys) -> None:
    assert main(["--check"]) == 0, capsys.readouterr().err


def test_check_reports_stale_missing_and_extra_files(built, tmp_path: Path, capsys) -> None:
    out, docs = tmp_path / "gen", tmp_path / "docs"
    outputs = render_outputs(built, out, docs)
    write_outputs(outputs, docs)
    assert check(outputs, docs) == []
    (out / "acl_tables.py").write_text("# edited\n")
    (docs / "get.md").unlink()
    (docs / "no-such-command.md").write_text("old page\n")
    assert check(outputs, docs) == sorted([out / "acl_tables.py", docs / "get.md"]) + [docs / "no-such-command.md"]
    assert main(["--check", "--out", str(out), "--docs", str(docs)]) == 1
    err = capsys.readouterr().err
    assert "acl_tables.py" in err and "get.md" in err and "no-such-command.md" in err
    assert main(["--out", str(out), "--docs", str(docs)]) == 0
    assert not (docs / "no-such-command.md").exists()
    assert main(["--check", "--out", str(out), "--docs", str(docs)]) == 0


def test_spec_drives_the_generated_table(tmp_path: Path) -> None:
    spec = tmp_path / "spec" / "commands"
    shutil.copytree(SPEC_DIR, spec)
    data = yaml.safe_load((spec / "get.yaml").read_text())
    assert data["info"]["arity"] == 2
    data["info"]["arity"] = -2
    data["engine"].update(status="implemented", handler="tests.fake:get_command")
    (spec / "get.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    written = render_to(spec, tmp_path / "out")
    assert sorted(p.name for p in written) == ["acl_tables.py", "command_table.py", "introspection.py"]
    table = load_module(tmp_path / "out" / "command_table.py")
    defs = {d.fullname: d for d in table.COMMAND_DEFS}
    assert defs["get"].arity == -2
    assert defs["get"].implemented is True
    assert defs["get"].handler_name == "tests.fake:get_command"
    assert defs["mget"].arity == -2     # untouched commands are as in the real spec
    intro = load_module(tmp_path / "out" / "introspection.py")
    assert intro.COMMAND_INFO["get"][1] == -2
    assert "get" in intro.SERVED_COMMANDS and "get" in intro.SERVED_TOP_LEVEL


def test_generated_command_table_shape(built, tmp_path: Path) -> None:
    render_to(SPEC_DIR, tmp_path)
    table = load_module(tmp_path / "command_table.py")
    defs = table.COMMAND_DEFS
    assert len(defs) == 366
    assert all(isinstance(d, CommandDef) for d in defs)
    assert [d.id for d in defs] == list(range(366))
    by_name = {d.fullname: d for d in defs}
    set_ = by_name["set"]
    assert set_.flags == FLAG_BITS["write"] | FLAG_BITS["denyoom"]
    assert set_.acl_categories == CATEGORY_BITS["write"] | CATEGORY_BITS["string"] | CATEGORY_BITS["slow"]
    assert set_.key_specs == (KeySpec(
        flags=KEYSPEC_FLAG_BITS["rw"] | KEYSPEC_FLAG_BITS["access"] | KEYSPEC_FLAG_BITS["update"]
        | KEYSPEC_FLAG_BITS["variable_flags"],
        begin=("index", 1), find=("range", 0, 1, 0), notes="RW and ACCESS due to the optional `GET` argument"),)
    assert by_name["xreadgroup"].key_specs[0].begin == ("keyword", "STREAMS", 4)
    assert by_name["zunionstore"].key_specs[1].find == ("keynum", 0, 1, 1)
    assert by_name["sort"].key_specs[1].begin == ("unknown",)
    assert by_name["xreadgroup"].reply == {"resp2": {"null": "array", "map": "pairs"}}
    assert by_name["quit"].engine["multi"] == "immediate"
    assert by_name["publish"].flags & FLAG_BITS["may_replicate"]
    client = by_name["client"]
    assert client.subcommands[b"kill"] is by_name["client|kill"]
    assert client.handler_name is None and client.group == "connection"
    assert table.SYNTAX["get"] == "GET key"
    acl = load_module(tmp_path / "acl_tables.py")
    assert acl.CATEGORY_BITS == CATEGORY_BITS
    assert acl.COMMAND_IDS == {d.fullname: d.id for d in defs}
    assert "client|kill" in acl.CATEGORY_COMMANDS["dangerous"]
    assert all(acl.COMMAND_CATEGORIES[d.fullname] == d.acl_categories for d in defs)


def test_committed_generated_modules_import(built) -> None:
    from specredis.generated import acl_tables, command_table, introspection

    assert len(command_table.COMMAND_DEFS) == 366
    assert set(introspection.COMMAND_INFO) == set(introspection.SERVED_COMMANDS)
    assert set(introspection.SERVED_COMMANDS) == {c.fullname for c in built.commands.served}
    assert acl_tables.CATEGORY_NAMES[0] == "keyspace"
