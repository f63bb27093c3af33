"""Developer tasks: ``nox -s generate|tests|conformance|lint|bench``.

Sessions run in the current environment (no virtualenvs: the machine may be offline);
install the project first with ``pip install -e '.[dev]'``.

* ``nox -s generate``             — render ``generated/`` and ``docs/commands/`` from ``spec/commands/``
* ``nox -s generate -- --check``  — fail when ``generated/`` or ``docs/commands/`` is stale
* ``nox -s tests [-- args]``      — the whole test suite, in parallel
* ``nox -s conformance [-- --deep]`` — the conformance suite against the reference Redis
* ``nox -s lint``                 — ruff
* ``nox -s bench [-- args]``      — ``tools/bench.py`` (redis-benchmark ratios against the reference)
* ``nox -s bench -- --all``       — also the scaling and persistence benchmarks: sorted sets to
  1,000,000 members, streams to 1,000,000 entries, RDB load/BGSAVE of 1,000,000 keys
"""

from __future__ import annotations

import sys

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["generate", "lint", "tests"]

PYTHON = sys.executable


@nox.session
def generate(session: nox.Session) -> None:
    """Run codegen (``-- --check`` only verifies that the outputs are up to date)."""
    session.run(PYTHON, "-m", "specredis.codegen", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite with pytest-xdist."""
    session.run(PYTHON, "-m", "pytest", "-n", "auto", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """Run the conformance suite (extra options such as ``--deep`` pass through)."""
    session.run(PYTHON, "-m", "pytest", "-n", "auto", "tests/conformance", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Lint the tree with ruff."""
    session.run(PYTHON, "-m", "ruff", "check", ".", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks (``tools/bench.py``); ``--all`` adds the scaling and RDB benchmarks,
    each run against specredis and then the reference redis-server."""
    args = list(session.posargs)
    run_all = "--all" in args
    if run_all:
        args.remove("--all")
    session.run(PYTHON, "tools/bench.py", *args)
    if run_all:
        for tool in ("tools/bench_zset.py", "tools/bench_stream.py"):
            session.run(PYTHON, tool, "--sizes", "10000,100000,1000000")
            session.run(PYTHON, tool, "--sizes", "10000,100000,1000000", "--reference")
        session.run(PYTHON, "tools/bench_rdb.py", "--keys", "1000000")
