"""Derived facts and rendered introspection against the reference Redis 7.0.15.

Needs ``redis-server`` (skipped without it, failed under ``CI``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from specredis.codegen.load import load_specs
from specredis.codegen.render import load_module, render_to
from specredis.engine.command import ACL_CATEGORIES, CATEGORY_BITS, FLAG_BITS, VISIBLE_FLAGS
from specredis.protocol import replies as R
from specredis.protocol.client import NULL_ARRAY, RespClient, RMap, RSet
from specredis.protocol.client import Status as CStatus

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "spec" / "commands"
GETKEYS_NEEDED = ("sort", "sort_ro", "migrate", "set", "bitfield")


@pytest.fixture(scope="module")
def client(reference_port: int):
    with RespClient(port=reference_port, protocol=3) as c:
        yield c


@pytest.fixture(scope="module")
def reference_info(client) -> dict[str, list]:
    infos: dict[str, list] = {}

    def walk(entry: list) -> None:
        infos[entry[0].decode()] = entry
        if isinstance(entry[9], list):
            for sub in entry[9]:
                walk(sub)

    for entry in client.call("COMMAND"):
        walk(entry)
    return infos


@pytest.fixture(scope="module")
def all_served(tmp_path_factory) -> tuple[Any, Any]:
    """The spec with every command served (fake handlers where needed), rendered and loaded."""
    base = tmp_path_factory.mktemp("all_served")
    spec_dir = base / "commands"
    spec_dir.mkdir()
    specs = load_specs(SPEC_DIR)
    containers = {spec.data.get("container") for spec in specs}
    for spec in specs:
        data, engine = spec.data, spec.data["engine"]
        fullname = f"{data['container']}|{data['name']}" if data.get("container") else data["name"]
        if fullname not in containers or fullname == "command":   # COMMAND also runs alone
            if engine.get("status") not in ("implemented", "partial"):
                engine["status"] = "implemented"
                engine["handler"] = engine.get("handler") or "tests.fake:handler"
            if fullname in GETKEYS_NEEDED and not engine.get("getkeys"):
                engine["getkeys"] = "tests.fake:getkeys"
        (spec_dir / spec.path.name).write_text(yaml.safe_dump(data, sort_keys=False))
    render_to(spec_dir, base / "out")
    return load_module(base / "out" / "introspection.py"), load_module(base / "out" / "acl_tables.py")


def to_client_types(value: Any) -> Any:
    """A typed reply tree as specredis.protocol.client would parse its RESP3 encoding."""
    if isinstance(value, R.Status):
        return CStatus(value.text.decode())
    if isinstance(value, R.Set):
        return RSet(tuple(to_client_types(v) for v in value.items))
    if isinstance(value, R.Map):
        return RMap(tuple((to_client_types(k), to_client_types(v)) for k, v in value.pairs))
    if isinstance(value, list):
        return [to_client_types(v) for v in value]
    assert value is None or isinstance(value, bytes | int), value
    return value


def sorted_info(entry: list) -> list:
    """Subcommands come in dict order from Redis: compare them sorted."""
    entry = list(entry)
    if isinstance(entry[9], list):
        entry[9] = sorted((sorted_info(s) for s in entry[9]), key=lambda s: s[0])
    return entry


def sorted_docs(doc: RMap) -> RMap:
    pairs = []
    for key, value in doc.pairs:
        if key == b"subcommands":
            value = RMap(tuple(sorted(((k, sorted_docs(v)) for k, v in value.pairs), key=lambda p: p[0])))
        pairs.append((key, value))
    return RMap(tuple(pairs))


def test_committed_table_matches_command_info_for_all_commands(reference_info) -> None:
    from specredis.generated.command_table import COMMAND_DEFS

    assert {d.fullname for d in COMMAND_DEFS} == set(reference_info)
    mismatches = []
    for d in COMMAND_DEFS:
        ref = reference_info[d.fullname]
        ref_view = (ref[1], [s.text for s in ref[2].items], ref[3], ref[4], ref[5], [s.text for s in ref[6].items])
        ours = (d.arity, [f for f in VISIBLE_FLAGS if d.flags & FLAG_BITS[f]], d.first_key, d.last_key, d.key_step,
                ["@" + c for c in ACL_CATEGORIES if d.acl_categories & CATEGORY_BITS[c]])
        if ref_view != ours:
            mismatches.append((d.fullname, ref_view, ours))
    assert mismatches == []


def test_introspection_matches_command_info_and_docs_exactly(all_served, client) -> None:
    intro, _ = all_served
    assert len(intro.COMMAND_INFO) == len(intro.COMMAND_DOCS) == 366
    bad = []
    for name, entry in intro.COMMAND_INFO.items():
        ref = client.call("COMMAND", "INFO", name)[0]
        if sorted_info(to_client_types(entry)) != sorted_info(ref):
            bad.append(("INFO", name))
        (ref_name, ref_doc), = client.call("COMMAND", "DOCS", name).pairs
        assert ref_name == name.encode()
        if sorted_docs(to_client_types(intro.COMMAND_DOCS[name])) != sorted_docs(ref_doc):
            bad.append(("DOCS", name))
    assert bad == []


def test_served_lists_match_command_count_and_list(all_served, client) -> None:
    intro, _ = all_served
    assert len(intro.SERVED_TOP_LEVEL) == client.call("COMMAND", "COUNT")
    assert set(intro.SERVED_COMMANDS) == {n.decode() for n in client.call("COMMAND", "LIST")}


def test_acl_categories_match_acl_cat(all_served, client) -> None:
    _, acl = all_served
    assert list(acl.CATEGORY_NAMES) == [c.decode() for c in client.call("ACL", "CAT")]
    for cat, names in acl.CATEGORY_COMMANDS.items():
        assert set(names) == {n.decode() for n in client.call("ACL", "CAT", cat)}, cat
        listed = client.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", cat)
        assert set(names) == {n.decode() for n in listed}, cat


def test_syntax_lines_match_redis_cli_help(reference_port: int) -> None:
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli not installed")
    from specredis.generated.command_table import SYNTAX

    def shown(fullname: str) -> str:
        out = subprocess.run(["redis-cli", "-p", str(reference_port), "help", *fullname.split("|")],
                             capture_output=True, text=True, check=True).stdout
        first = next(line for line in out.splitlines() if line.strip())
        return re.sub(r"\x1b\[[0-9;]*m", "", first).strip()    # drop the colour codes

    with ThreadPoolExecutor(8) as pool:
        helps = dict(zip(SYNTAX, pool.map(shown, SYNTAX), strict=True))
    assert [(name, helps[name], syntax) for name, syntax in SYNTAX.items() if helps[name] != syntax] == []


def test_sentinel_hidden_flag_matches_sentinel_mode(sentinel_port: int) -> None:
    from specredis.generated.command_table import COMMAND_DEFS

    with RespClient(port=sentinel_port) as c:
        in_sentinel = {n.decode() for n in c.call("COMMAND", "LIST")}
    # Sentinel-only commands (SENTINEL and its subcommands) are not in the non-sentinel spec.
    expected = {n for n in in_sentinel if n != "sentinel" and not n.startswith("sentinel|")}
    flagged = {d.fullname for d in COMMAND_DEFS if d.flags & FLAG_BITS["sentinel"]}
    assert flagged == expected


# Probes that show each reply.resp2 hint: (setup commands, probe command). The setup runs
# again before each protocol's probe, so destructive probes (pops, XREADGROUP >) see the same data.
# BRPOPLPUSH and BLMOVE carry no hint: their timeout is *-1 but inside MULTI 7.0.15 answers $-1,
# so their handlers choose the null themselves (tests/blocking checks both against the reference).
_Z = [["DEL", "p:z"], ["ZADD", "p:z", "1.5", "a", "2", "b"]]
RESP2_PROBES: dict[str, tuple[list[list[str]], list[str]]] = {
    "blpop": ([], ["BLPOP", "p:nol", "0.01"]),
    "brpop": ([], ["BRPOP", "p:nol", "0.01"]),
    "bzpopmin": ([], ["BZPOPMIN", "p:noz", "0.01"]),
    "bzpopmax": ([], ["BZPOPMAX", "p:noz", "0.01"]),
    "blmpop": ([], ["BLMPOP", "0.01", "1", "p:nol", "LEFT"]),
    "bzmpop": ([], ["BZMPOP", "0.01", "1", "p:noz", "MIN"]),
    "lmpop": ([], ["LMPOP", "1", "p:nol", "LEFT"]),
    "zmpop": ([], ["ZMPOP", "1", "p:noz", "MIN"]),
    "geopos": ([], ["GEOPOS", "p:nog", "member"]),
    "xread": ([["DEL", "p:s"], ["XADD", "p:s", "1-1", "f", "v"]], ["XREAD", "STREAMS", "p:s", "0"]),
    "xread/null": ([], ["XREAD", "BLOCK", "10", "STREAMS", "p:nos", "$"]),
    "xreadgroup": ([["DEL", "p:g"], ["XGROUP", "CREATE", "p:g", "grp", "$", "MKSTREAM"],
                    ["XADD", "p:g", "1-1", "f", "v"]], ["XREADGROUP", "GROUP", "grp", "c", "STREAMS", "p:g", ">"]),
    "xreadgroup/null": ([], ["XREADGROUP", "GROUP", "grp", "c", "BLOCK", "10", "STREAMS", "p:g", ">"]),
    "zrange": (_Z, ["ZRANGE", "p:z", "0", "-1", "WITHSCORES"]),
    "zrangebyscore": (_Z, ["ZRANGEBYSCORE", "p:z", "-inf", "+inf", "WITHSCORES"]),
    "zrevrange": (_Z, ["ZREVRANGE", "p:z", "0", "-1", "WITHSCORES"]),
    "zrevrangebyscore": (_Z, ["ZREVRANGEBYSCORE", "p:z", "+inf", "-inf", "WITHSCORES"]),
    "zunion": (_Z, ["ZUNION", "1", "p:z", "WITHSCORES"]),
    "zinter": (_Z, ["ZINTER", "1", "p:z", "WITHSCORES"]),
    "zdiff": (_Z, ["ZDIFF", "1", "p:z", "WITHSCORES"]),
    "zrandmember": ([["DEL", "p:z"], ["ZADD", "p:z", "1.5", "a"]], ["ZRANDMEMBER", "p:z", "1", "WITHSCORES"]),
    "hrandfield": ([["DEL", "p:h"], ["HSET", "p:h", "f", "v"]], ["HRANDFIELD", "p:h", "1", "WITHVALUES"]),
    "zpopmin": (_Z, ["ZPOPMIN", "p:z", "2"]),
    "zpopmax": (_Z, ["ZPOPMAX", "p:z", "2"]),
}


def _hinted() -> dict[str, dict[str, str]]:
    hints = {}
    for spec in load_specs(SPEC_DIR):
        resp2 = (spec.data.get("reply") or {}).get("resp2")
        if resp2:
            hints[spec.path.stem] = resp2
    return hints


def test_every_resp2_hint_has_a_probe() -> None:
    assert set(_hinted()) == {name.split("/")[0] for name in RESP2_PROBES}


def test_resp2_hints_match_the_reference(reference_port: int) -> None:
    hints = _hinted()
    with RespClient(port=reference_port, protocol=2) as c2, RespClient(port=reference_port, protocol=3) as c3:
        hz = c3.call("CONFIG", "GET", "hz").get(b"hz")
        c3.call("CONFIG", "SET", "hz", "100")    # blocking timeouts are checked hz times a second
        try:
            for probe, (setup, argv) in RESP2_PROBES.items():
                _check_probe(probe, hints[probe.split("/")[0]], setup, argv, c2, c3)
        finally:
            c3.call("CONFIG", "SET", "hz", hz)


def _check_probe(probe: str, hint: dict[str, str], setup: list, argv: list[str], c2: RespClient,
                 c3: RespClient) -> None:
    for cmd in setup:
        c3.call(*cmd)
    resp3 = c3.call(*argv)
    for cmd in setup:
        c3.call(*cmd)
    resp2 = c2.call(*argv)
    if probe.endswith("/null") or hint.get("null") == "array" and resp3 is None:
        assert hint.get("null") == "array", probe
        assert resp3 is None and resp2 is NULL_ARRAY, (probe, resp2, resp3)
        return
    if hint.get("null") == "array" and isinstance(resp3, list):
        assert resp2 == [NULL_ARRAY if v is None else v for v in resp3], probe   # GEOPOS
    if hint.get("map") == "pairs":
        assert isinstance(resp3, RMap), probe
        assert [tuple(p) for p in resp2] == [(k, _plain(v)) for k, v in resp3.pairs], probe
    if hint.get("pairs") == "flat":
        assert resp3 and all(isinstance(p, list) and len(p) == 2 for p in resp3), probe
        assert resp2 == [_plain(x) for pair in resp3 for x in pair], probe


def _plain(value: Any) -> Any:
    """RESP3 values as RESP2 sends them by default (doubles as bulk strings)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text.encode()
    return value
