"""Scripts as a model: random Lua scripts built from the commands specredis serves, run on
specredis and on Redis 7.0.15, must give the same replies and leave the same dataset.

Each example draws a few scripts; each script is a sequence of ``redis.call`` or
``redis.pcall`` of argvs drawn from the spec grammar (``conformance/strategies.py``) of
the string, list, hash, set, sorted-set and generic commands, under ``redis.setresp(2)``
or ``(3)``, returning every command's result (or, for ``redis.call``, failing on the first
error with the script's error text). The caller's protocol is drawn too. After each
example both datasets are compared key by key (DEBUG DIGEST-VALUE, and PTTL within a
second, since relative TTLs start from each server's own clock).

Commands with nondeterministic output (SPOP, RANDOMKEY...) or order (SMEMBERS, KEYS,
SCAN...), time readers (TTL, OBJECT), blocking commands and those scripts may not call are
left out. ``SCRIPTS_MODEL_EXAMPLES`` sets the number of examples (1000 by default).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from conformance.harness import exclusion_reason
from conformance.strategies import command_strategy, load_specs, spec_dir_from_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specredis.protocol.client import RespClient, RespError

GROUPS = ("string", "list", "hash", "set", "sorted-set", "generic")
LEFT_OUT = {
    "ttl", "pttl", "expiretime", "pexpiretime", "object|idletime", "object|freq", "object|help",
    "dump", "restore", "migrate", "move", "swapdb", "select", "copy", "wait", "sort", "sort_ro",
    "lcs", "getex", "getdel",
}
EXAMPLES = int(os.environ.get("SCRIPTS_MODEL_EXAMPLES", "1000"))


def _lua_string(arg: bytes) -> str:
    return '"' + "".join(chr(b) if (chr(b).isalnum() or chr(b) in " _-:.*") and b < 128 else f"\\{b}"
                         for b in arg) + '"'


def _served(client: RespClient) -> set[str]:
    served = set()
    for name in client.call("COMMAND", "LIST"):
        served.add(name.decode())
    return served


def _command_pool(served: set[str]) -> list[tuple[str, Any]]:
    specs = load_specs(spec_dir_from_env())
    pool = []
    for fullname, spec in sorted(specs.items()):
        group = (spec.get("docs") or {}).get("group")
        base = fullname.split("|")[0]
        if group not in GROUPS or base not in served or fullname in LEFT_OUT:
            continue
        info = spec.get("info") or {}
        flags = info.get("flags") or ()
        tips = info.get("tips") or ()
        if "noscript" in flags or "blocking" in flags or exclusion_reason(fullname, spec) is not None:
            continue
        if "nondeterministic_output" in tips or "nondeterministic_output_order" in tips:
            continue
        pool.append((fullname, command_strategy(spec)))
    return pool


def _script(calls: list[list[bytes]], protected: bool, resp: int) -> str:
    lines = [f"redis.setresp({resp})", "local r = {}"]
    fn = "redis.pcall" if protected else "redis.call"
    for index, argv in enumerate(calls, 1):
        lines.append(f"r[{index}] = {fn}({', '.join(_lua_string(arg) for arg in argv)})")
    lines.append("return r")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def clients(specredis, reference):
    conns = {}
    for protocol in (2, 3):
        conns[protocol] = (specredis.client(protocol=protocol), reference.client(protocol=protocol))
    yield conns
    for ours, theirs in conns.values():
        ours.close()
        theirs.close()


def _dataset(client: RespClient) -> dict[bytes, tuple[Any, int]]:
    keys = client.call("KEYS", "*")
    data = {}
    for key in keys:
        pttl = client.call("PTTL", key)
        data[key] = (client.call("DEBUG", "DIGEST-VALUE", key), pttl)
    return data


def test_scripts_model(clients, specredis):
    pool = _command_pool(_served(clients[2][0]))
    assert len(pool) > 50, "the command pool is suspiciously small"
    argv_strategy = st.one_of(*(strategy for _, strategy in pool))
    script_strategy = st.tuples(st.lists(argv_strategy, min_size=1, max_size=5), st.booleans(),
                                st.sampled_from((2, 3)), st.sampled_from((2, 3)))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
              suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(script_strategy, min_size=1, max_size=3))
    def run(scripts):
        for ours, theirs in clients.values():
            ours.call("FLUSHALL")
            theirs.call("FLUSHALL")
        for calls, protected, resp, protocol in scripts:
            source = _script(calls, protected, resp)
            ours, theirs = clients[protocol]
            mine, reference = ours.call("EVAL", source, "0"), theirs.call("EVAL", source, "0")
            if isinstance(reference, RespError) and isinstance(mine, RespError):
                # The script's SHA1 is the same on both sides; the texts must match exactly.
                assert mine.text == reference.text, source
            else:
                assert mine == reference, f"{source}\nours:      {mine!r}\nreference: {reference!r}"
        ours_data, their_data = _dataset(clients[2][0]), _dataset(clients[2][1])
        assert ours_data.keys() == their_data.keys()
        for key, (digest, pttl) in their_data.items():
            my_digest, my_pttl = ours_data[key]
            assert my_digest == digest, key
            assert (my_pttl < 0 and my_pttl == pttl) or abs(my_pttl - pttl) <= 1000, (key, my_pttl, pttl)

    run()
