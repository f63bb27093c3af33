"""Start many specredis servers fast: a warm process forks each one.

``specredis-server`` spends most of its start-up importing and compiling modules
(about a second here). Tests that restart a server hundreds of times (the crash
models) ask a *zygote* instead: a Python process that imported the server and built an
engine once, and forks a child per request that runs ``specredis.server.run(args)``
in the given directory. Each child is a complete, independent server process: killing
it with SIGKILL is a real crash, and what survives is what it had written to its files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from specredis.protocol.client import ConnectionClosed, RespClient

_ZYGOTE_CODE = r"""
import json, os, signal, sys
import specredis.server
from specredis.engine.core import Engine
Engine()                                   # imports every handler module once
signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # children are reaped by the kernel
requests, answers = sys.stdin.buffer, sys.stdout.buffer
for line in requests:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.chdir(request["dir"])
            sys.stdin = open(os.devnull)
            status = specredis.server.run(request["args"])
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            import traceback
            traceback.print_exc()
            status = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except Exception:
                pass
        os._exit(status or 0)
    answers.write(b"%d\n" % pid)
    answers.flush()
"""


class Zygote:
    """A warm process that forks specredis servers on request."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _ZYGOTE_CODE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)

    def spawn(self, directory: str, args: list[str]) -> int:
        """Fork a server running ``specredis-server args`` in ``directory``; returns its pid."""
        request = {"dir": directory, "log": os.path.join(directory, "server.log"), "args": args}
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the zygote died")
        return int(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.terminate()
            self.proc.wait(10)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill9(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL ``pid`` and wait until it is gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_gone(pid, timeout)


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} is still alive")
        time.sleep(0.002)


class ServerExited(RuntimeError):
    """The server stopped before it was ready (a file it could not load, say)."""


def start(zygote: Zygote, directory: str, port: int, *args: str, timeout: float = 30.0) -> int:
    """A server on ``port`` in ``directory``, ready (listening and done loading); its pid.
    ServerExited if it exits first."""
    pid = zygote.spawn(directory, ["--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
                                   "--enable-debug-command", "yes", *args])
    wait_ready(pid, port, timeout)
    return pid


def wait_ready(pid: int, port: int, timeout: float = 30.0) -> None:
    """Wait until server ``pid`` answers on ``port`` (not -LOADING). Checking the process id
    matters: a port found free may be taken by another test's server meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        if not alive(pid):
            raise ServerExited(f"server {pid} exited before it was ready")
        if server_pid(port) == pid:
            return
        if time.monotonic() > deadline:
            kill9(pid)
            raise TimeoutError(f"server {pid} not ready on port {port}")
        time.sleep(0.005)


def server_pid(port: int) -> int | None:
    """The process id of the server answering on ``port`` once it is done loading, else None."""
    try:
        with RespClient(port=port, timeout=2) as client:
            server = client.call("INFO", "server")
            persistence = client.call("INFO", "persistence")
    except (OSError, ConnectionClosed):
        return None
    if not isinstance(server, bytes) or not isinstance(persistence, bytes) or b"\r\nloading:0\r\n" not in persistence:
        return None
    for line in server.split(b"\r\n"):
        if line.startswith(b"process_id:"):
            return int(line[11:])
    return None
