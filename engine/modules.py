"""MODULE: loading native Redis modules (module.c), which specredis cannot host.

A Redis module is a shared object whose ``RedisModule_OnLoad`` drives Redis's C
module API; specredis has no such API, so no module is ever loaded: MODULE LIST is
empty and UNLOAD finds nothing. MODULE LOAD/LOADEX and ``loadmodule`` at startup go
through the same steps as Redis's moduleLoad so that the reply and the server log
say what Redis 7.0.15 says about the same path: the execute-permission check, the
dynamic loader's own error (``dlopen`` with RTLD_NOW|RTLD_LOCAL, as Redis calls it),
the missing ``RedisModule_OnLoad`` symbol, and otherwise an initialization failure.
"""

from __future__ import annotations

import ctypes
import os
import stat

from specredis.engine.client import Client
from specredis.engine.errors import RedisError
from specredis.engine.help import help_reply
from specredis.util.log import log

LOAD_FAILED = "ERR Error loading the extension. Please check the server logs."
UNLOAD_NO_SUCH_MODULE = "ERR Error unloading module: no such module with that name"

MODULE_HELP = (
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
)

_ANY_EXECUTE = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


def load_failure(path: str) -> list[str]:
    """Try to load the module at ``path`` as Redis's moduleLoad does; the warnings it logs.

    The list is never empty: a shared object that does open and export
    ``RedisModule_OnLoad`` still fails, because its OnLoad could only run against
    Redis's module API."""
    # Redis passes the path as a C string: it ends at the first NUL byte.
    path = path.split("\0", 1)[0]
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        mode = None             # Redis's check is best effort: dlopen reports a missing file
    if mode is not None and not mode & _ANY_EXECUTE:
        return [f"Module {path} failed to load: It does not have execute permissions."]
    try:
        library = ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_LOCAL)
    except OSError as error:
        # ctypes raises with dlerror()'s text, which Redis logs as is.
        return [f"Module {path} failed to load: {error}"]
    try:
        exports_onload = hasattr(library, "RedisModule_OnLoad")
    finally:
        _dlclose(library)
    if not exports_onload:
        return [f"Module {path} does not export RedisModule_OnLoad() symbol. Module not loaded."]
    return [f"Module {path} cannot run here: specredis does not provide the Redis module API",
            f"Module {path} initialization failed. Module not loaded"]


def _dlclose(library: ctypes.CDLL) -> None:
    import _ctypes
    dlclose = getattr(_ctypes, "dlclose", None)
    if dlclose is not None:
        dlclose(library._handle)


def _fail_load(path: bytes) -> RedisError:
    for line in load_failure(os.fsdecode(path)):
        log("warning", line)
    return RedisError(LOAD_FAILED)


def module_list_command(client: Client, argv: list[bytes]) -> list:
    """MODULE LIST"""
    return []


def module_load_command(client: Client, argv: list[bytes]) -> object:
    """MODULE LOAD path [arg [arg ...]]"""
    raise _fail_load(argv[2])


def module_loadex_command(client: Client, argv: list[bytes]) -> object:
    """MODULE LOADEX path [CONFIG name value [CONFIG name value ...]] [ARGS args [args ...]]"""
    # The options are checked before anything is loaded; a bad one is logged at notice level
    # and gets the same reply as a module that does not load.
    index = 3
    while index < len(argv):
        option = argv[index].lower()
        if option == b"config":
            if index + 2 >= len(argv):
                log("notice", "CONFIG specified without name value pair")
                raise RedisError(LOAD_FAILED)
            index += 3
        elif option == b"args":
            break
        else:
            log("notice", f"Syntax Error from arguments to loadex around {os.fsdecode(argv[index])}.")
            raise RedisError(LOAD_FAILED)
    raise _fail_load(argv[2])


def module_unload_command(client: Client, argv: list[bytes]) -> object:
    """MODULE UNLOAD name"""
    raise RedisError(UNLOAD_NO_SUCH_MODULE)


def module_help_command(client: Client, argv: list[bytes]) -> list:
    """MODULE HELP"""
    return help_reply(argv, MODULE_HELP)
