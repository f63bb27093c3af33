"""The runnable examples in examples/: each script must pass against specredis and, to prove
the example itself right, against the reference Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))


def run_example(script: Path, server) -> subprocess.CompletedProcess:
    env = dict(os.environ, REDIS_HOST=server.host, REDIS_PORT=str(server.port))
    return subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)


def test_the_seed_examples_exist() -> None:
    names = {script.name for script in EXAMPLES}
    assert {"connecting.py", "strings.py", "pipelining.py", "key_expiry.py", "caching.py"} <= names


@pytest.mark.parametrize("script", EXAMPLES, ids=[script.stem for script in EXAMPLES])
def test_example_against_specredis(script: Path, specredis) -> None:
    result = run_example(script, specredis)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", EXAMPLES, ids=[script.stem for script in EXAMPLES])
def test_example_against_the_reference(script: Path, reference) -> None:
    result = run_example(script, reference)
    assert result.returncode == 0, result.stdout + result.stderr
