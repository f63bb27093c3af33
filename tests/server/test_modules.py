"""MODULE and ``loadmodule`` compared with the reference: no module ever loads into specredis,
and the replies and log lines are those of Redis 7.0.15 failing to load the same paths."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from servers import free_port, require_reference, start_reference, start_specredis

from specredis.engine.modules import load_failure

NOT_ALLOWED = ('ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can '
               'run it from a local connection, otherwise you need to set this option in the configuration file, '
               'and then restart the server.')

# "pid:M 26 Nov 2026 04:41:58.752 # message": the level mark and the message stay.
LOG_PREFIX = re.compile(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ ([*#.-]) ")


@pytest.fixture(scope="module")
def module_files(tmp_path_factory) -> dict[str, str]:
    """Paths that fail in each of Redis's ways: no file, no execute bit, empty, not ELF, a directory."""
    base = tmp_path_factory.mktemp("modules")
    files = {"missing": str(base / "missing.so"), "dir": str(base)}
    for name, content, mode in (("noexec", b"\x7fELF", 0o644), ("empty", b"", 0o755),
                                ("text", b"not an ELF shared object, just text" * 4, 0o755)):
        path = base / f"{name}.so"
        path.write_bytes(content)
        path.chmod(mode)
        files[name] = str(path)
    return files


@pytest.fixture(scope="module")
def module_servers():
    """Both servers with MODULE allowed, logging to module.log in their own directories."""
    args = ("--enable-module-command", "yes", "--logfile", "module.log")
    ours, ref = start_specredis(*args), start_reference(*args)
    yield ours, ref
    ours.stop()
    ref.stop()


def _module_log(server, since: int) -> list[str]:
    """The messages about modules (level mark and text) logged after byte ``since``.

    Both servers write the log line before the reply, so once the reply is in, so is the line."""
    with open(os.path.join(server.dir, "module.log"), "rb") as handle:
        handle.seek(since)
        lines = handle.read().decode(errors="replace").splitlines()
    return [LOG_PREFIX.sub(r"\1 ", line) for line in lines
            if "odule" in line or "loadex" in line or "CONFIG specified" in line]


def _log_size(server) -> int:
    return os.path.getsize(os.path.join(server.dir, "module.log"))


@pytest.mark.parametrize("protocol", [2, 3])
def test_module_commands_with_modules_disabled(specredis, reference, protocol: int) -> None:
    ours, ref = specredis.client(protocol=protocol), reference.client(protocol=protocol)
    for command in (("MODULE", "LIST"), ("MODULE", "HELP"), ("module", "help"), ("MODULE", "LOAD", "/x.so"),
                    ("MODULE", "LOADEX", "/x.so", "ARGS", "a"), ("MODULE", "UNLOAD", "x"), ("MODULE",),
                    ("MODULE", "LIST", "x"), ("MODULE", "HELP", "x"), ("MODULE", "NOSUCH"), ("MODULE", "LOAD"),
                    ("MODULE", "UNLOAD"), ("MODULE", "LOADEX")):
        assert ours.call(*command) == ref.call(*command), command
    assert ours.call("MODULE", "LOAD", "/x.so").text == NOT_ALLOWED
    assert ours.call("MODULE", "LIST") == []


def test_module_load_failures_reply_and_log_as_redis(module_servers, module_files) -> None:
    ours, ref = module_servers
    files = module_files
    commands = [
        ("MODULE", "LOAD", files["missing"]), ("MODULE", "LOAD", files["missing"], "arg1", "arg2"),
        ("MODULE", "LOAD", files["noexec"]), ("MODULE", "LOAD", files["empty"]), ("MODULE", "LOAD", files["text"]),
        ("MODULE", "LOAD", files["dir"]), ("MODULE", "LOAD", "libm.so.6"), ("MODULE", "LOAD", "relative.so"),
        ("MODULE", "LOAD", ""),
        ("MODULE", "LOADEX", files["missing"]), ("MODULE", "LOADEX", files["missing"], "CONFIG", "a", "b"),
        ("MODULE", "LOADEX", files["missing"], "config", "a", "b", "args", "x", "y"),
        ("MODULE", "LOADEX", files["missing"], "CONFIG", "a"), ("MODULE", "LOADEX", files["missing"], "CONFIG"),
        ("MODULE", "LOADEX", files["missing"], "CONFIG", "a", "b", "c"),
        ("MODULE", "LOADEX", files["missing"], "ARGS"), ("MODULE", "LOADEX", files["missing"], "ARGS", "CONFIG", "a"),
        ("MODULE", "LOADEX", files["text"], "NOSUCH"),
        ("MODULE", "UNLOAD", "libm"), ("MODULE", "UNLOAD", ""), ("MODULE", "LIST"),
    ]
    for command in commands:
        marks = _log_size(ours), _log_size(ref)
        for protocol in (2, 3):
            ours_reply = ours.client(protocol=protocol).call(*command)
            assert ours_reply == ref.client(protocol=protocol).call(*command), command
        assert _module_log(ours, marks[0]) == _module_log(ref, marks[1]), command
    mark = _log_size(ours)
    assert ours.client().call("MODULE", "LOAD", files["noexec"]).text == \
        "ERR Error loading the extension. Please check the server logs."
    assert _module_log(ours, mark) == [f"# Module {files['noexec']} failed to load: It does not have execute permissions."]
    assert ours.client().call("PING") == ref.client().call("PING")


def test_load_failure_steps() -> None:
    """The in-process loader: Redis's checks in Redis's order, never a loaded module."""
    assert load_failure("/nonexistent/x.so") == \
        ["Module /nonexistent/x.so failed to load: /nonexistent/x.so: cannot open shared object file: "
         "No such file or directory"]
    assert load_failure("libm.so.6") == ["Module libm.so.6 does not export RedisModule_OnLoad() symbol. "
                                         "Module not loaded."]
    # A C string ends at its first NUL.
    assert load_failure("/nonexistent/x.so\0tail")[0].startswith("Module /nonexistent/x.so failed")


def _start_and_fail(command: list[str], cwd: str) -> tuple[int, list[str]]:
    """Run a server that must fail to start; its exit status and module-related messages."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, timeout=60, text=True)
    lines = (done.stdout + done.stderr).splitlines()
    return done.returncode, [LOG_PREFIX.sub(r"\1 ", line) for line in lines
                             if "odule" in line]


@pytest.mark.parametrize("which", ["missing", "noexec", "text"])
def test_loadmodule_at_startup_aborts_as_redis(module_files, tmp_path, which: str) -> None:
    require_reference()
    path = module_files[which]
    conf = tmp_path / "modules.conf"
    conf.write_text(f"port {free_port()}\nsave \"\"\nloadmodule {path} some args\n")
    ours = _start_and_fail([sys.executable, "-m", "specredis.server", str(conf)], str(tmp_path))
    ref = _start_and_fail(["redis-server", str(conf)], str(tmp_path))
    assert ours == ref
    assert ours[0] == 1 and ours[1][-1] == f"# Can't load module from {path}: server aborting"
    # The same from the command line.
    options = ["--port", str(free_port()), "--save", "", "--loadmodule", path]
    assert _start_and_fail([sys.executable, "-m", "specredis.server", *options], str(tmp_path)) == \
        _start_and_fail(["redis-server", *options], str(tmp_path))


def test_startup_failure_goes_to_the_configured_logfile(module_files, tmp_path) -> None:
    """Redis logs the module failure where its log goes: the logfile, not stderr."""
    require_reference()
    messages = []
    for name, command in (("ours", [sys.executable, "-m", "specredis.server"]), ("ref", ["redis-server"])):
        logfile = tmp_path / f"{name}.log"
        done = subprocess.run([*command, "--port", str(free_port()), "--save", "", "--logfile", str(logfile),
                               "--loadmodule", module_files["text"]],
                              cwd=str(tmp_path), capture_output=True, timeout=60, text=True)
        assert done.returncode == 1 and "odule" not in done.stdout + done.stderr
        messages.append([LOG_PREFIX.sub(r"\1 ", line) for line in logfile.read_text().splitlines() if "odule" in line])
    assert messages[0] == messages[1] and len(messages[0]) == 2


def test_a_real_module_never_runs(module_servers, tmp_path) -> None:
    """A shared object exporting RedisModule_OnLoad opens, but its OnLoad could only run against
    Redis's module API: specredis reports an initialization failure, the line Redis logs when
    OnLoad fails (here it does, returning REDISMODULE_ERR)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a module with")
    source = tmp_path / "fake.c"
    source.write_text("int RedisModule_OnLoad(void *ctx, void **argv, int argc) { return 1; }\n")
    module = tmp_path / "fake.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(module), str(source)], check=True, timeout=60)
    ours, ref = module_servers
    marks = _log_size(ours), _log_size(ref)
    assert ours.client().call("MODULE", "LOAD", str(module)) == ref.client().call("MODULE", "LOAD", str(module))
    ours_log, ref_log = _module_log(ours, marks[0]), _module_log(ref, marks[1])
    assert ours_log[-1] == ref_log[-1] == f"# Module {module} initialization failed. Module not loaded"
    assert ours.client().call("MODULE", "LIST") == []
