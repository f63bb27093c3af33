"""INFO: sections, field names and order against the reference; values in-process with a fake clock."""

from __future__ import annotations

import pytest

from specredis.engine.core import Engine
from specredis.engine.info import LatencyHistogram, bytes_to_human, info_text, selected_sections
from specredis.protocol.client import RVerbatim
from specredis.protocol.replies import Verbatim


def _sections(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(title, [(field, value), ...]), ...] of an INFO text."""
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    for block in text.split("\r\n\r\n"):
        lines = [line for line in block.split("\r\n") if line]
        if not lines:
            continue
        assert lines[0].startswith("# "), block
        sections.append((lines[0][2:], [tuple(line.split(":", 1)) for line in lines[1:]]))
    return sections


def _info(client, *sections: str) -> str:
    reply = client.call("INFO", *sections)
    return (reply.text if isinstance(reply, RVerbatim) else reply).decode()


# -- against the reference ------------------------------------------------------------------

@pytest.fixture(scope="module")
def pair(specredis, reference):
    ours, theirs = specredis.client(protocol=3), reference.client(protocol=3)
    for client in (ours, theirs):
        client.call("FLUSHALL")
        client.call("SELECT", "0")
    yield ours, theirs
    ours.close()
    theirs.close()


@pytest.mark.parametrize("sections", [(), ("default",), ("all",), ("everything",), ("server",), ("SERVER", "cpu"),
                                      ("cpu", "server"), ("memory", "memory"), ("nosuch",), ("modules",),
                                      ("persistence", "stats", "replication"), ("cluster", "keyspace", "clients")])
def test_section_titles_and_field_names_in_order(pair, sections) -> None:
    ours, theirs = pair
    mine, reference = _sections(_info(ours, *sections)), _sections(_info(theirs, *sections))
    assert [title for title, _ in mine] == [title for title, _ in reference]
    dynamic = {"Commandstats", "Errorstats", "Latencystats", "Keyspace"}
    for (title, fields), (_, ref_fields) in zip(mine, reference, strict=True):
        if title not in dynamic:
            assert [name for name, _ in fields] == [name for name, _ in ref_fields], title


def test_info_reply_types(specredis, reference) -> None:
    for server in (specredis, reference):
        with server.client(protocol=3) as resp3, server.client(protocol=2) as resp2:
            reply = resp3.call("INFO", "server")
            assert isinstance(reply, RVerbatim) and reply.format == "txt"
            assert isinstance(resp2.call("INFO", "server"), bytes)
            assert resp2.call("INFO", "nosuch") == b""


def test_values_that_must_agree(pair, specredis, reference) -> None:
    ours, theirs = pair
    for client in (ours, theirs):
        client.call("SET", "info-test-key", "1")
        client.call("SELECT", "3")
        client.call("RPUSH", "info-test-list", "a")
        client.call("SELECT", "0")
    same = {
        "Server": ["redis_version", "redis_git_sha1", "redis_git_dirty", "redis_mode", "arch_bits", "io_threads_active",
                   "process_supervised", "hz", "configured_hz"],
        "Clients": ["maxclients", "blocked_clients", "tracking_clients", "cluster_connections"],
        "Memory": ["maxmemory", "maxmemory_human", "maxmemory_policy", "number_of_cached_scripts"],
        "Persistence": ["loading", "async_loading", "rdb_bgsave_in_progress", "rdb_last_bgsave_status", "aof_enabled",
                        "aof_rewrite_in_progress", "aof_last_write_status", "module_fork_in_progress"],
        "Replication": ["role", "connected_slaves", "master_failover_state", "master_replid2", "repl_backlog_size",
                        "second_repl_offset"],
        "Cluster": ["cluster_enabled"],
    }
    mine = dict(_sections(_info(ours, "everything")))
    reference = dict(_sections(_info(theirs, "everything")))
    for title, names in same.items():
        for name in names:
            assert dict(mine[title])[name] == dict(reference[title])[name], (title, name)
    assert dict(mine["Server"])["tcp_port"] == str(specredis.port)
    assert dict(mine["Keyspace"]) == {"db0": "keys=1,expires=0,avg_ttl=0", "db3": "keys=1,expires=0,avg_ttl=0"}
    assert dict(mine["Keyspace"]) == dict(reference["Keyspace"])
    for client in (ours, theirs):
        client.call("FLUSHALL")


def test_errorstats_and_commandstats_follow_the_commands(pair) -> None:
    ours, theirs = pair
    results = []
    for client in (ours, theirs):
        client.call("CONFIG", "RESETSTAT")
        client.call("NOSUCHCOMMAND")
        client.call("GET")
        client.call("LPUSH", "info-wrongtype", "x")
        client.call("INCR", "info-wrongtype")
        client.call("DEL", "info-wrongtype")
        stats = dict(_sections(_info(client, "errorstats", "commandstats")))
        counts = {name: ",".join(p for p in value.split(",") if not p.startswith("usec"))
                  for name, value in stats["Commandstats"] if name != "cmdstat_info"}
        results.append((stats["Errorstats"], counts))
    assert results[0] == results[1]


# -- in-process ------------------------------------------------------------------------------

def test_section_selection() -> None:
    default = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
               "errorstats", "cluster", "keyspace"]
    assert selected_sections([]) == default
    assert selected_sections([b"default"]) == default
    assert selected_sections([b"everything"]) == selected_sections([b"all"])
    assert "commandstats" in selected_sections([b"ALL"]) and "latencystats" in selected_sections([b"all"])
    assert selected_sections([b"keyspace", b"server", b"keyspace"]) == ["server", "keyspace"]
    assert selected_sections([b"nosuch"]) == []


def test_registered_fields_replace_and_extend_a_section() -> None:
    engine = Engine()
    engine.extensions["info_fields"].setdefault("persistence", []).append(
        lambda e: [("rdb_saves", 7), ("aof_extra_field", "x")])
    fields = dict(_sections(info_text(engine, [b"persistence"])))["Persistence"]
    names = [name for name, _ in fields]
    assert dict(fields)["rdb_saves"] == "7"
    assert names.index("rdb_saves") < names.index("aof_enabled")       # replaced in place
    assert names[-1] == "aof_extra_field"                               # appended


def test_stats_keyspace_and_commandstats_values() -> None:
    now = [1_000_000]
    engine = Engine(clock=lambda: now[0])
    client = engine.new_client()
    engine.execute(client, [b"RPUSH", b"l", b"a"])
    engine.databases[0].set_expire(b"l", now[0] + 10_000)
    engine.execute(client, [b"LLEN", b"l"])
    engine.execute(client, [b"LPUSH"])
    sections = dict(_sections(info_text(engine, [b"all"])))
    assert dict(sections["Keyspace"]) == {"db0": "keys=1,expires=1,avg_ttl=0"}
    stats = dict(sections["Stats"])
    assert stats["total_commands_processed"] == "2"
    assert dict(sections["Errorstats"]) == {"errorstat_ERR": "count=1"}
    commandstats = dict(sections["Commandstats"])
    assert commandstats["cmdstat_rpush"].startswith("calls=1,usec=")
    assert commandstats["cmdstat_lpush"].endswith("rejected_calls=1,failed_calls=0")
    assert dict(sections["Persistence"])["rdb_changes_since_last_save"] == str(engine.dirty)


def test_uptime_and_instantaneous_ops_follow_the_clock() -> None:
    now = [5_000_000]
    engine = Engine(clock=lambda: now[0])
    client = engine.new_client()
    for _ in range(20):
        now[0] += 100
        for _ in range(50):                      # 50 commands per 100 ms: 500 per second
            engine.execute(client, [b"PING"])
        engine.cron()
    stats = dict(dict(_sections(info_text(engine, [b"stats", b"server"])))["Stats"])
    assert stats["instantaneous_ops_per_sec"] == "500"
    server = dict(dict(_sections(info_text(engine, [b"server"])))["Server"])
    assert server["uptime_in_seconds"] == "2"
    engine.execute(client, [b"CONFIG", b"RESETSTAT"])
    stats = dict(dict(_sections(info_text(engine, [b"stats"])))["Stats"])
    assert stats["instantaneous_ops_per_sec"] == "0"
    assert stats["total_commands_processed"] == "1"


def test_info_command_reply_is_verbatim_text() -> None:
    engine = Engine()
    reply = engine.execute(engine.new_client(), [b"INFO", b"cluster"])
    assert reply == Verbatim(b"# Cluster\r\ncluster_enabled:0\r\n")


def test_latency_percentiles() -> None:
    engine = Engine()
    client = engine.new_client()
    engine.execute(client, [b"CONFIG", b"SET", b"latency-tracking-info-percentiles", b"50 99.9"])
    engine.execute(client, [b"PING"])
    latency = dict(dict(_sections(info_text(engine, [b"latencystats"])))["Latencystats"])
    assert list(latency) == ["latency_percentiles_usec_ping"] or "latency_percentiles_usec_ping" in latency
    assert latency["latency_percentiles_usec_ping"].startswith("p50=")
    assert ",p99.9=" in latency["latency_percentiles_usec_ping"]
    engine.execute(client, [b"CONFIG", b"SET", b"latency-tracking", b"no"])
    engine.execute(client, [b"CONFIG", b"RESETSTAT"])
    engine.execute(client, [b"ECHO", b"x"])
    latency = dict(dict(_sections(info_text(engine, [b"latencystats"])))["Latencystats"])
    assert latency == {}


def test_latency_histogram_reports_bucket_tops_like_hdr() -> None:
    # Redis records microseconds * 1000 at 2 significant digits: 1 us reads back as 1.003 us,
    # 0 us as 0.001 us (the 1 ns floor).
    assert LatencyHistogram.bucket_top(1000) == 1003
    assert LatencyHistogram.bucket_top(1) == 1
    assert LatencyHistogram.bucket_top(255) == 255
    histogram = LatencyHistogram()
    for value in (1000, 2000, 3000, 0):
        histogram.record(value)
    assert histogram.value_at(50) == 1003
    assert histogram.value_at(100) == LatencyHistogram.bucket_top(3000)
    assert histogram.value_at(1) == 1


@pytest.mark.parametrize("n, text", [(0, "0B"), (1023, "1023B"), (1024, "1.00K"), (965712, "943.08K"),
                                     (6680576, "6.37M"), (25276510208, "23.54G"), (1 << 40, "1.00T")])
def test_bytes_to_human(n, text) -> None:
    assert bytes_to_human(n) == text
