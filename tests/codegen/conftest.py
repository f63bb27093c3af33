"""Fixtures for the codegen tests: tiny spec directories and a reference redis-server."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from specredis.codegen.errors import SpecError, SpecProblem
from specredis.codegen.render import build

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "spec" / "commands"


def base_get() -> dict[str, Any]:
    """A minimal valid spec: GET."""
    return {
        "name": "get",
        "info": {
            "arity": 2, "flags": ["readonly", "fast"], "acl_categories": ["string"], "tips": [],
            "key_specs": [{"flags": ["ro", "access"], "begin_search": {"index": 1},
                           "find_keys": {"range": {"lastkey": 0, "keystep": 1, "limit": 0}}}],
        },
        "docs": {"summary": "Get the value of a key", "since": "1.0.0", "group": "string",
                 "arguments": [{"name": "key", "type": "key", "key_spec_index": 0}]},
        "engine": {"status": "unimplemented", "handler": None},
    }


def base_container() -> dict[str, Any]:
    """A minimal valid container: OBJECT."""
    return {
        "name": "object",
        "info": {"arity": -2, "flags": [], "acl_categories": [], "tips": [], "key_specs": []},
        "docs": {"summary": "A container", "since": "2.2.3", "group": "generic"},
        "engine": {"status": "unimplemented", "handler": None},
    }


def base_sub() -> dict[str, Any]:
    """A minimal valid subcommand: OBJECT HELP."""
    return {
        "name": "help", "container": "object",
        "info": {"arity": 2, "flags": ["loading", "stale"], "acl_categories": ["keyspace"], "tips": [],
                 "key_specs": []},
        "docs": {"summary": "Show help", "since": "6.2.0", "group": "generic"},
        "engine": {"status": "unimplemented", "handler": None},
    }


def write_specs(directory: Path, specs: list[dict[str, Any]]) -> Path:
    """Write spec dicts as ``<fullname>.yaml`` files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        stem = f"{spec['container']}-{spec['name']}" if spec.get("container") else spec["name"]
        (directory / f"{stem}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return directory


@pytest.fixture
def spec_problems(tmp_path: Path) -> Callable[..., list[SpecProblem]]:
    """``spec_problems(*specs)`` → the problems codegen reports (``[]`` when valid)."""
    counter = iter(range(10_000))

    def run(*specs: dict[str, Any]) -> list[SpecProblem]:
        directory = write_specs(tmp_path / f"case{next(counter)}" / "commands", [copy.deepcopy(s) for s in specs])
        try:
            build(directory)
        except SpecError as exc:
            return exc.problems
        return []

    return run


@pytest.fixture
def write_spec_dir() -> Callable[[Path, list[dict[str, Any]]], Path]:
    """``write_spec_dir(directory, specs)`` writes spec dicts as YAML files and returns the directory."""
    return write_specs


@pytest.fixture
def get_spec() -> dict[str, Any]:
    """A fresh minimal valid GET spec."""
    return base_get()


@pytest.fixture
def container_spec() -> dict[str, Any]:
    """A fresh minimal valid container spec (OBJECT)."""
    return base_container()


@pytest.fixture
def sub_spec() -> dict[str, Any]:
    """A fresh minimal valid subcommand spec (OBJECT HELP)."""
    return base_sub()


@pytest.fixture(scope="session")
def reference_port() -> Iterator[int]:
    """Port of the reference redis-server (tests/servers.py: skipped when missing, failed under CI)."""
    from servers import start_reference

    server = start_reference()
    try:
        yield server.port
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sentinel_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Port of a throwaway local redis-server in sentinel mode."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI=true but no redis-server binary for the sentinel-mode check")
        pytest.skip("redis-server not installed")
    from servers import free_port, wait_for_port

    port = free_port()
    workdir = tmp_path_factory.mktemp("sentinel")
    conf = workdir / "sentinel.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {workdir}\n")
    proc = subprocess.Popen([binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=workdir)
    try:
        wait_for_port(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
