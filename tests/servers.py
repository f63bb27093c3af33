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
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import pytest

from specredis.protocol.client import RespClient

INSTALL_HINT = "install the reference with: apt-get install -y redis-server (or set SPECREDIS_REFERENCE=host:port)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
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
        """A redis-py client (decode_responses off unless asked)."""
        import redis
        return redis.Redis(host=self.host, port=self.port, **kwargs)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_specredis(*args: str, directory: str | None = None) -> ServerProcess:
    """Start ``specredis-server --port N --bind 127.0.0.1 --save "" [args]`` in a temp dir."""
    port = free_port()
    directory = directory or tempfile.mkdtemp(prefix="specredis-")
    # No save points unless asked (as the reference below): RDB snapshots on FLUSHALL and at
    # shutdown would cost every test some disk I/O.
    cmd = [sys.executable, "-m", "specredis.server", "--port", str(port), "--bind", "127.0.0.1",
           "--dir", directory, "--save", "", *args]
    log = open(os.path.join(directory, "server.log"), "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    try:
        wait_for_port(port, proc)
    except Exception:
        proc.kill()
        with open(os.path.join(directory, "server.log"), "rb") as handle:
            sys.stderr.write(handle.read().decode(errors="replace"))
        raise
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
    port = free_port()
    directory = directory or tempfile.mkdtemp(prefix="reference-")
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
           "--save", "", "--appendonly", "no", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=directory)
    wait_for_port(port, proc)
    return ServerProcess(port, proc, directory, "reference", list(args))
