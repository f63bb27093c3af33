"""Fixtures of the differential tests: the reference Redis, a specredis-server, and the pair.

The reference comes from, in this order: ``SPECREDIS_REFERENCE=host:port`` (a server
already running), the local ``redis-server`` binary, or a ``redis:7.0`` container when a
Docker engine answers ``docker info``. Without any of them the tests are skipped with a
message saying how to install one -- and fail under CI (``CI`` set). The reference must be
Redis 7.0.x: the spec was imported from 7.0.15, and 7.2 differs in places (design doc §1.3).

Options (``pytest tests/conformance --deep``; ``SPECREDIS_CONFORMANCE_DEEP=1`` does the
same where the option is not registered, e.g. ``pytest --deep`` from the repository root):

``--deep``                 the long run: 8 shards x 2,500 examples instead of 4 x 500
``--conformance-seed N``   replay the shards from seed N (shard i uses N + i)
``--conformance-examples`` examples per shard, overriding both of the above
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import pytest
from conformance.harness import STEPS_PER_EXAMPLE, RunSize, ServerPair
from conformance.strategies import load_specs, spec_dir_from_env
from servers import (
    INSTALL_HINT,
    START_TIMEOUT_S,
    ServerProcess,
    require_reference,
    start_reference,
)

from specredis.protocol.client import RespClient, Status

#: Shards and examples per shard. Shards are separate test items, so ``pytest -n auto``
#: spreads them over the cores; each uses its own fixed seed in CI (reproducible), a fresh
#: random seed in deep runs (printed).
CI_SHARDS, CI_EXAMPLES = 4, 500
DEEP_SHARDS, DEEP_EXAMPLES = 8, 2500
CI_SEED = 0x5EED

DEBUG_ARGS = ("--enable-debug-command", "yes")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "differential tests against the reference Redis")
    group.addoption("--deep", action="store_true", default=False,
                    help="run the long differential run (20,000 examples per family)")
    group.addoption("--conformance-seed", type=int, default=None,
                    help="seed of shard 0 (shard i uses seed + i); default: fixed in CI runs, random with --deep")
    group.addoption("--conformance-examples", type=int, default=None,
                    help="examples per shard (overrides the CI and deep sizes)")


def _option(config: pytest.Config, name: str, default: object = None) -> object:
    try:
        return config.getoption(name)
    except ValueError:      # the option is only registered when this conftest is an initial one
        return default


def is_deep(config: pytest.Config) -> bool:
    """Whether this is a ``--deep`` run (or ``SPECREDIS_CONFORMANCE_DEEP`` is set)."""
    return bool(_option(config, "--deep", False)) or bool(os.environ.get("SPECREDIS_CONFORMANCE_DEEP"))


def run_size(config: pytest.Config) -> RunSize:
    """The run size of this session (the same in every xdist worker)."""
    deep = is_deep(config)
    shards, examples = (DEEP_SHARDS, DEEP_EXAMPLES) if deep else (CI_SHARDS, CI_EXAMPLES)
    examples = int(_option(config, "--conformance-examples") or examples)
    chosen = _option(config, "--conformance-seed")
    if chosen is not None:
        base = int(chosen)
    elif deep:
        # Random per run, but the same in every xdist worker of the run: the workers share
        # the controller's testrun_uid.
        uid = getattr(config, "workerinput", {}).get("testrunuid") or os.environ.get("PYTEST_XDIST_TESTRUNUID")
        base = int(uid[:8], 16) if uid else random.SystemRandom().randrange(1 << 31)
    else:
        base = CI_SEED
    return RunSize(deep, shards, examples, STEPS_PER_EXAMPLE, base, chosen is not None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise differential tests over the shards of this run."""
    if "shard" in metafunc.fixturenames:
        size = run_size(metafunc.config)
        metafunc.parametrize("shard", range(size.shards))


#: The per-test timeout of a shard (and of a reference-against-reference run). A shard's
#: length is set by its example count, not by a time budget, and on a loaded machine (CI's
#: 2 cores shared with other jobs) even a CI-size shard can run past the suite's 300 s --
#: pytest-timeout then interrupts Hypothesis mid-example, which reports a misleading
#: "flaky strategy" instead of anything about the servers. A hung server is caught within seconds anyway: every read from either server
#: times out (ServerPair's 10 s, ServerDied). This only bounds a run gone wrong.
SHARD_TIMEOUT_S = 3600


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Shards (any size) and the reference-against-reference machine runs get
    :data:`SHARD_TIMEOUT_S` instead of the suite's per-test timeout."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "shard" in fixtures or "reference_pair" in fixtures:
            item.add_marker(pytest.mark.timeout(SHARD_TIMEOUT_S))


@pytest.fixture(scope="session")
def conformance_run(request: pytest.FixtureRequest) -> RunSize:
    return run_size(request.config)


# -- the reference -------------------------------------------------------------------------


def docker_available() -> bool:
    """Whether a Docker engine answers (not merely a docker CLI being installed)."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class DockerReference(ServerProcess):
    """A ``redis:7.0`` container published on a loopback port."""

    container: str = ""

    def stop(self) -> None:
        if self.container:
            subprocess.run(["docker", "rm", "-f", self.container], capture_output=True, timeout=60)
            self.container = ""


def start_docker_reference(*args: str) -> DockerReference:
    """A ``redis:7.0`` container, published on a free port of :func:`isolated_host`."""
    host = isolated_host()
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    command = ["docker", "run", "-d", "--rm", "-p", f"{host}:{port}:6379", "redis:7.0",
               "redis-server", "--save", "", "--appendonly", "no", *args]
    container = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300).stdout.strip()
    server = DockerReference(port, None, "", "reference", list(args), host=host)
    server.container = container
    deadline = time.monotonic() + 60
    while True:         # docker's port proxy accepts before redis-server listens
        try:
            with RespClient(host, port, timeout=2) as probe:
                if probe.call("PING") == Status("PONG"):
                    return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise TimeoutError("the redis:7.0 container did not answer PING")
        time.sleep(0.2)


#: The loopback address our servers listen on. Other test sessions on this machine start
#: servers on 127.0.0.1 ports picked by free_port(), which releases the port before the
#: server binds it: a session that loses that race connects to whatever took the port --
#: possibly one of ours, and then writes into our datasets mid-example. A separate
#: loopback address keeps our servers out of their reach.
ISOLATED_HOST = "127.0.83.82"


def isolated_host() -> str:
    """:data:`ISOLATED_HOST` where the system routes it (Linux: all of 127/8), else 127.0.0.1."""
    try:
        with socket.socket() as probe:
            probe.bind((ISOLATED_HOST, 0))
        return ISOLATED_HOST
    except OSError:
        return "127.0.0.1"


def server_pid(server: ServerProcess) -> int | None:
    """The ``process_id`` the server on ``server.port`` reports in INFO server."""
    with RespClient(server.host, server.port, timeout=10) as probe:
        info = probe.call("INFO", "server")
    if isinstance(info, bytes):
        for line in info.decode(errors="replace").splitlines():
            if line.startswith("process_id:"):
                return int(line.split(":", 1)[1])
    return None


def _wait_until_listening(host: str, port: int, proc: subprocess.Popen, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with code {proc.returncode} before listening on {port}") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s") from None
            time.sleep(0.02)


def start_isolated(kind: str, *args: str, attempts: int = 5) -> ServerProcess:
    """Start ``kind`` ("specredis" or "reference") on :func:`isolated_host`, and make sure
    the server answering there is the process we started (INFO process_id), retrying on
    another port when a concurrent start took ours."""
    host = isolated_host()
    for _ in range(attempts):
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        directory = tempfile.mkdtemp(prefix=f"{kind}-conformance-")
        if kind == "specredis":
            command = [sys.executable, "-m", "specredis.server", "--port", str(port), "--bind", host,
                       "--dir", directory, *args]
        else:
            command = ["redis-server", "--port", str(port), "--bind", host, "--dir", directory,
                       "--save", "", "--appendonly", "no", *args]
        log = open(os.path.join(directory, "server.log"), "ab")  # noqa: SIM115 - lives as long as the server
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
        server = ServerProcess(port, proc, directory, kind, list(args), host=host)
        try:
            _wait_until_listening(host, port, proc)
            if server_pid(server) == proc.pid:
                return server
        except RuntimeError:
            pass                    # lost the port to someone else: try another
        server.stop()
    raise RuntimeError(f"could not start a {kind} server of our own after {attempts} attempts")


def start_any_reference(*args: str) -> ServerProcess:
    """The reference: SPECREDIS_REFERENCE, else local redis-server, else a container."""
    if os.environ.get("SPECREDIS_REFERENCE"):
        return start_reference(*args)
    if shutil.which("redis-server"):
        return start_isolated("reference", *args)
    if docker_available():
        return start_docker_reference(*args)
    require_reference()         # skips, or fails under CI
    raise AssertionError("unreachable: " + INSTALL_HINT)


def check_reference_version(server: ServerProcess) -> None:
    """The reference must be 7.0.x (skip, or fail under CI, otherwise)."""
    with RespClient(server.host, server.port) as probe:
        info = probe.call("INFO", "server")
    version = ""
    if isinstance(info, bytes):
        for line in info.decode(errors="replace").splitlines():
            if line.startswith("redis_version:"):
                version = line.split(":", 1)[1].strip()
    if not version.startswith("7.0."):
        message = f"the reference on port {server.port} is Redis {version or '?'}, not 7.0.x; {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class Servers:
    """The session's reference and specredis; a crashed specredis is replaced on demand."""

    def __init__(self, reference: ServerProcess) -> None:
        self.reference = reference
        self.specredis = start_isolated("specredis", *DEBUG_ARGS)
        self.specredis_restarts = 0

    def live_specredis(self) -> ServerProcess:
        if self.specredis.proc is not None and self.specredis.proc.poll() is not None:
            self.specredis_restarts += 1
            self.specredis = start_isolated("specredis", *DEBUG_ARGS)
        return self.specredis

    def stop(self) -> None:
        self.specredis.stop()


@pytest.fixture(scope="session")
def conformance_reference() -> Iterator[ServerProcess]:
    """The reference Redis 7.0 with DEBUG enabled, for the whole session."""
    reference = start_any_reference(*DEBUG_ARGS)
    try:
        check_reference_version(reference)
        yield reference
    finally:
        reference.stop()


@pytest.fixture(scope="session")
def conformance_servers(conformance_reference: ServerProcess) -> Iterator[Servers]:
    """The reference and a specredis-server, both with DEBUG enabled, for the whole session."""
    servers = Servers(conformance_reference)
    yield servers
    servers.stop()


@contextlib.contextmanager
def exclusive_use(server: ServerProcess) -> Iterator[None]:
    """Hold a lock on a reference that other processes share (SPECREDIS_REFERENCE): xdist
    workers then take turns instead of flushing each other's datasets."""
    if server.proc is not None or isinstance(server, DockerReference):
        yield                   # our own server: nobody else uses it
        return
    path = os.path.join(tempfile.gettempdir(), f"specredis-reference-{server.host}-{server.port}.lock")
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture
def locked_reference(conformance_reference: ServerProcess) -> Iterator[ServerProcess]:
    """The reference, for a test that uses it alone (held exclusively when it is shared)."""
    with exclusive_use(conformance_reference):
        yield conformance_reference


@pytest.fixture
def pair(conformance_servers: Servers) -> Iterator[ServerPair]:
    """Fresh connections to both servers (restarting specredis if an earlier test killed it)."""
    with exclusive_use(conformance_servers.reference):
        server_pair = ServerPair(conformance_servers.reference, conformance_servers.live_specredis(),
                                 load_specs(spec_dir_from_env()))
        yield server_pair
        server_pair.close()


@pytest.fixture(scope="session")
def second_reference() -> Iterator[ServerProcess]:
    """Another reference server, for checking the harness itself (reference against reference)."""
    if os.environ.get("SPECREDIS_REFERENCE"):
        pytest.skip("SPECREDIS_REFERENCE names one server; the self-check needs two references")
    reference = start_any_reference(*DEBUG_ARGS)
    try:
        yield reference
    finally:
        reference.stop()


@pytest.fixture
def reference_pair(conformance_reference: ServerProcess, second_reference: ServerProcess) -> Iterator[ServerPair]:
    """Two references driven as a pair: every difference they show is the harness's fault."""
    server_pair = ServerPair(conformance_reference, second_reference, load_specs(spec_dir_from_env()))
    yield server_pair
    server_pair.close()
