"""Starting servers for tests: specredis-server and the reference redis-server.

Both run as subprocesses on free loopback ports, each in its own temporary
directory. The reference is a local ``redis-server`` binary, or
``SPECREDIS_REFERENCE=host:port`` to use one already running (a ``redis:7.0``
container, say). Without a reference, tests that need one are skipped with a
message saying how to install it -- except under CI (``CI`` set), where that is a
failure, so a CI machine without the reference can never pass by skipping.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from specredis.protocol.client import RespClient

INSTALL_HINT = "install the reference with: apt-get install -y redis-server (or set SPECREDIS_REFERENCE=host:port)"


#: Test servers listen on ports below Linux's ephemeral range (32768-60999): a port picked
#: there by bind(0) is released before the server binds it, and meanwhile any of the many
#: client connections of a test run may take it as its local port (the server then exits
#: with "address in use"), or another worker's bind(0) may pick it too.
PORT_RANGE = (10000, 32767)
_port_rng = random.SystemRandom()


def free_port() -> int:
    """A loopback port nothing listens on now, outside the kernel's ephemeral range."""
    for _ in range(200):
        port = _port_rng.randint(*PORT_RANGE)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    with socket.socket() as probe:       # everything taken: let the kernel choose
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


#: How long a test client waits for a reply before it calls the server hung (redis() clients).
CLIENT_TIMEOUT_S = 120.0

#: The per-test timeout of the tests that move 100,000+ keys between the servers (a fixed
#: amount of work, which a loaded machine stretches past the suite's 300 s).
LARGE_TEST_TIMEOUT_S = 1200

#: How long a starting server may take to listen: a Python server importing its modules on a
#: loaded machine has taken more than 20 s. wait_for_port() returns as soon as it listens
#: (or as soon as the process exits), so a long deadline costs nothing.
START_TIMEOUT_S = 120.0


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"server exited with code {proc.returncode} before listening on {port}") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on port {port} after {timeout}s") from None
            time.sleep(0.02)


@dataclass
class ServerProcess:
    """A running server; ``client()`` opens a typed RESP connection to it."""

    port: int
    proc: subprocess.Popen | None
    dir: str
    name: str
    args: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"

    def client(self, protocol: int = 2, timeout: float | None = 30.0) -> RespClient:
        return RespClient(self.host, self.port, timeout=timeout, protocol=protocol)

    def redis(self, **kwargs):
        """A redis-py client (decode_responses off unless asked).

        redis-py 8 reads with a 5 s socket timeout by default, which a big pipeline or a
        DEBUG DIGEST of 100,000 keys can take on a loaded machine: the timeout here only
        has to catch a hung server, as RespClient's 30 s does."""
        import redis
        kwargs.setdefault("socket_timeout", CLIENT_TIMEOUT_S)
        kwargs.setdefault("socket_connect_timeout", CLIENT_TIMEOUT_S)
        return redis.Redis(host=self.host, port=self.port, **kwargs)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def listening_pid(port: int, host: str = "127.0.0.1") -> int | None:
    """The ``process_id`` the server on ``port`` reports in INFO server (None if it does not say)."""
    with RespClient(host, port, timeout=30) as probe:
        info = probe.call("INFO", "server")
    if isinstance(info, bytes):
        for line in info.decode(errors="replace").splitlines():
            if line.startswith("process_id:"):
                return int(line.split(":", 1)[1])
    return None


def start_own_server(build: Callable[[int], list[str]], directory: str, log_path: str | None,
                     attempts: int = 5) -> tuple[int, subprocess.Popen]:
    """Run ``build(port)`` on a free port until the server answering there is the process we
    started (INFO process_id): a port can be taken between free_port() and the server's bind,
    and the server then exits -- or, worse, someone else's server answers on it."""
    failures = []
    for _ in range(attempts):
        port = free_port()
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen(build(port), stdout=out, stderr=subprocess.STDOUT, cwd=directory)
        try:
            wait_for_port(port, proc)
            pid = listening_pid(port)
            if pid in (proc.pid, None) and proc.poll() is None:
                return port, proc
            failures.append(f"port {port}: process {pid} answered, not ours ({proc.pid})")
        except RuntimeError as error:           # exited before listening (the port was taken)
            failures.append(str(error))
        except BaseException:
            # Never listening in time (or interrupted): no server may outlive the attempt.
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            raise
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if log_path:
        with open(log_path, "rb") as handle:
            sys.stderr.write(handle.read().decode(errors="replace"))
    raise RuntimeError(f"could not start a server of our own in {attempts} attempts: {failures}")


def start_specredis(*args: str, directory: str | None = None) -> ServerProcess:
    """Start ``specredis-server --port N --bind 127.0.0.1 --save "" [args]`` in a temp dir."""
    directory = directory or tempfile.mkdtemp(prefix="specredis-")
    # No save points unless asked (as the reference below): RDB snapshots on FLUSHALL and at
    # shutdown would cost every test some disk I/O.
    port, proc = start_own_server(
        lambda port: [sys.executable, "-m", "specredis.server", "--port", str(port), "--bind", "127.0.0.1",
                      "--dir", directory, "--save", "", *args],
        directory, os.path.join(directory, "server.log"))
    return ServerProcess(port, proc, directory, "specredis", list(args))


def reference_available() -> bool:
    return bool(os.environ.get("SPECREDIS_REFERENCE")) or shutil.which("redis-server") is not None


def require_reference() -> None:
    """Skip (or, under CI, fail) when no reference Redis can be had."""
    if not reference_available():
        if os.environ.get("CI"):
            pytest.fail("CI=true but no reference redis-server: " + INSTALL_HINT)
        pytest.skip("no reference redis-server: " + INSTALL_HINT)


def start_reference(*args: str, directory: str | None = None) -> ServerProcess:
    """Start the reference redis-server (or attach to SPECREDIS_REFERENCE)."""
    require_reference()
    remote = os.environ.get("SPECREDIS_REFERENCE")
    if remote:
        host, _, port = remote.rpartition(":")
        return ServerProcess(int(port), None, "", "reference", list(args), host=host or "127.0.0.1")
    directory = directory or tempfile.mkdtemp(prefix="reference-")
    port, proc = start_own_server(
        lambda port: ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
                      "--save", "", "--appendonly", "no", *args],
        directory, None)
    return ServerProcess(port, proc, directory, "reference", list(args))


@contextmanager
def reference_master_and_replica(*master_args: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """A reference master (started with ``master_args``) and a reference replica of it,
    yielded once the replica's link is up (for tests that watch what a master propagates)."""
    master = start_reference(*master_args)
    try:
        replica = start_reference("--replicaof", master.host, str(master.port))
        try:
            with RespClient(replica.host, replica.port) as conn:
                deadline = time.monotonic() + 60
                while b"master_link_status:up" not in conn.call("INFO", "replication"):
                    assert time.monotonic() < deadline, "the reference replica did not sync"
                    time.sleep(0.05)
            yield master, replica
        finally:
            replica.stop()
    finally:
        master.stop()


def mount_tmpfs_or_skip(count: int, size: str) -> list[str]:
    """``count`` fresh tmpfs file systems of ``size`` (a real full disk for the tests that need
    one); the test is skipped where mounting is not allowed. Release with :func:`unmount_tmpfs`."""
    mounts: list[str] = []
    for _ in range(count):
        path = tempfile.mkdtemp(prefix="tmpfs-")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], capture_output=True)
        if done.returncode != 0:
            os.rmdir(path)
            unmount_tmpfs(mounts)
            pytest.skip("cannot mount a tmpfs here (needs root)")
        mounts.append(path)
    return mounts


def unmount_tmpfs(mounts: list[str]) -> None:
    """Unmount and remove what :func:`mount_tmpfs_or_skip` mounted."""
    for mount in mounts:
        subprocess.run(["umount", mount])
        os.rmdir(mount)


def wait_until(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.02) -> Any:
    """The first true value of ``predicate()``, polled until ``timeout`` seconds (only a
    server that never gets there takes that long)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
