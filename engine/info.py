"""INFO [section ...]: Redis 7.0.15's sections, field names and field order, with live values.

Sections, in the order INFO prints them: server, clients, memory, persistence,
stats, replication, cpu, modules, commandstats, errorstats, latencystats,
cluster, keyspace. ``INFO`` (or ``default``) prints all but commandstats and
latencystats; ``all`` adds them; ``everything`` also adds module sections.
Unknown section names print nothing.

Other modules fill in what they own through ``engine.extensions["info_fields"]``:
a dict from section name to a list of callables ``fn(engine) -> [(name, value), ...]``.
Their pairs replace the built-in field of the same name in place and append the
others, so persistence can report its real ``rdb_*``/``aof_*`` fields and
replication its role and offsets, while the defaults here stay real for a server
without those features.

The instantaneous metrics (ops/sec, kbps) come from a sampler in the engine's cron,
as Redis's serverCron does every 100 ms; command latency percentiles come from the
per-command duration counts the dispatcher keeps (``cmd.latency_us``) while
``latency-tracking`` is on, read as Redis's HdrHistogram would report them.
"""

from __future__ import annotations

import os
import platform
import random
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from specredis.engine.client import CLIENT_BLOCKED, CLIENT_REPLICA, CLIENT_TRACKING, Client
from specredis.engine.settings import format_percentile, on_change
from specredis.protocol.replies import Verbatim

VERSION = "7.0.15"
SECTIONS = (
    "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
    "commandstats", "errorstats", "latencystats", "cluster", "keyspace",
)
DEFAULT_SECTIONS = frozenset(SECTIONS) - {"commandstats", "latencystats"}
SAMPLE_PERIOD_MS = 100          # how often the instantaneous metrics are sampled
SAMPLE_COUNT = 16               # how many samples they average (STATS_METRIC_SAMPLES)

InfoProvider = Callable[[Any], list[tuple[str, Any]]]


# -----------------------------------------------------------------------------------------
# Formatting helpers
# -----------------------------------------------------------------------------------------

def bytes_to_human(n: int) -> str:
    """Redis's bytesToHuman: 943B, 943.08K, 6.37M, ... (bytes past 1024P as plain bytes)."""
    if n < 1024:
        return f"{n}B"
    for unit, power in (("K", 1), ("M", 2), ("G", 3), ("T", 4), ("P", 5)):
        if n < 1024 ** (power + 1):
            return f"{n / 1024 ** power:.2f}{unit}"
    return f"{n}B"


def _cpu_time(seconds: float) -> str:
    # "%ld.%06ld" of a struct timeval.
    whole = int(seconds)
    return f"{whole}.{int(round((seconds - whole) * 1_000_000)):06d}"


def _ratio(value: float) -> str:
    return f"{value:.2f}"


# -----------------------------------------------------------------------------------------
# Process facts
# -----------------------------------------------------------------------------------------

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_rss() -> int:
    """The resident set size of this process, in bytes."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _os_name() -> str:
    uname = platform.uname()
    return f"{uname.system} {uname.release} {uname.machine}"


# -----------------------------------------------------------------------------------------
# Per-engine INFO state: the metric sampler and the latency histograms
# -----------------------------------------------------------------------------------------

class InstantaneousMetric:
    """A rolling average of a counter's rate over the last SAMPLE_COUNT samples (trackInstantaneousMetric)."""

    __slots__ = ("samples", "index", "last_time_ms", "last_value")

    def __init__(self, now_ms: int) -> None:
        self.samples = [0.0] * SAMPLE_COUNT
        self.index = 0
        self.last_time_ms = now_ms
        self.last_value = 0

    def sample(self, now_ms: int, value: int) -> None:
        elapsed = now_ms - self.last_time_ms
        rate = (value - self.last_value) * 1000 / elapsed if elapsed > 0 else 0.0
        self.samples[self.index] = max(rate, 0.0)
        self.index = (self.index + 1) % SAMPLE_COUNT
        self.last_time_ms = now_ms
        self.last_value = value

    def average(self) -> float:
        return sum(self.samples) / SAMPLE_COUNT

    def reset(self, now_ms: int, value: int) -> None:
        self.samples = [0.0] * SAMPLE_COUNT
        self.index = 0
        self.last_time_ms = now_ms
        self.last_value = value


class LatencyHistogram:
    """Command latencies in nanoseconds, bucketed like Redis's HdrHistogram (2 significant digits).

    A value is counted under the highest value of its bucket, which is what Redis's
    ``hdr_value_at_percentile`` reports, so percentiles read the same way."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0

    @staticmethod
    def bucket_top(value: int) -> int:
        """The highest value equivalent to ``value`` at 256 sub-buckets per power of two."""
        shift = max(value.bit_length() - 8, 0)
        return ((value >> shift) << shift) + (1 << shift) - 1

    def record(self, value_ns: int) -> None:
        key = self.bucket_top(max(1, value_ns))
        self.counts[key] = self.counts.get(key, 0) + 1
        self.total += 1

    @classmethod
    def from_microseconds(cls, counts: dict[int, int]) -> LatencyHistogram:
        """The histogram of durations counted in whole microseconds (what the dispatcher keeps)."""
        histogram = cls()
        for micros, count in counts.items():
            key = cls.bucket_top(max(1, micros * 1000))
            histogram.counts[key] = histogram.counts.get(key, 0) + count
            histogram.total += count
        return histogram

    def value_at(self, percentile: float) -> int:
        if not self.total:
            return 0
        wanted = max(1, int(percentile / 100 * self.total + 0.5)) if percentile < 100 else self.total
        seen = 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen >= wanted:
                # hdr_value_at_percentile: the top of the bucket, but its bottom for p0.
                return self.bucket_bottom(key) if percentile == 0 else key
        return max(self.counts)

    @staticmethod
    def bucket_bottom(top: int) -> int:
        """The lowest value of the bucket whose highest value is ``top``."""
        shift = max(top.bit_length() - 8, 0)
        return (top >> shift) << shift


class InfoState:
    """What INFO keeps between calls for one engine."""

    def __init__(self, engine: Any) -> None:
        now = engine.clock()
        self.engine = engine
        self.replid = f"{random.getrandbits(160):040x}"
        self.ops = InstantaneousMetric(now)
        self.net_input = InstantaneousMetric(now)
        self.net_output = InstantaneousMetric(now)
        self.last_sample_ms = now
        self.peak_memory = 0
        self.startup_memory = process_rss()

    def cron(self) -> None:
        """Sample the instantaneous metrics every SAMPLE_PERIOD_MS (serverCron's run_with_period(100))."""
        engine = self.engine
        now = engine.clock()
        if now - self.last_sample_ms < SAMPLE_PERIOD_MS:
            return
        self.last_sample_ms = now
        stats = engine.stats
        self.ops.sample(now, stats.total_commands_processed)
        self.net_input.sample(now, stats.total_net_input_bytes)
        self.net_output.sample(now, stats.total_net_output_bytes)

    def reset(self) -> None:
        """CONFIG RESETSTAT: the instantaneous metrics restart from zero, latency percentiles too."""
        now = self.engine.clock()
        for metric in (self.ops, self.net_input, self.net_output):
            metric.reset(now, 0)
        for cmd in self.engine.command_defs.values():
            if cmd.latency_us:
                cmd.latency_us = {}
        self.engine.extensions.get("latency_paused", {}).clear()

    def used_memory(self) -> int:
        used = process_rss()
        if used > self.peak_memory:
            self.peak_memory = used
        return used


def _state(engine: Any) -> InfoState:
    state = engine.extensions.get("info")
    if state is None:
        state = engine.extensions["info"] = InfoState(engine)
    return state


def _apply_latency_tracking(engine: Any, value: bool) -> None:
    # The dispatcher counts each command's durations (whole microseconds, as Redis measures
    # them) in cmd.latency_us while it is a dict; None turns the counting off. As in Redis,
    # turning tracking off keeps the histograms (LATENCY HISTOGRAM still reports them, and
    # counting resumes on top of them): they wait in extensions["latency_paused"].
    paused = engine.extensions.setdefault("latency_paused", {})
    for cmd in engine.command_defs.values():
        if value:
            if cmd.latency_us is None:
                cmd.latency_us = paused.pop(cmd.fullname, None) or {}
        else:
            if cmd.latency_us:
                paused[cmd.fullname] = cmd.latency_us
            cmd.latency_us = None


on_change("latency-tracking", _apply_latency_tracking)


def install(engine: Any) -> None:
    """Give ``engine`` its INFO state, metric sampler, and the info_fields registry."""
    state = _state(engine)
    engine.cron_hooks.append(state.cron)
    engine.extensions.setdefault("info_fields", {})
    engine.extensions.setdefault("resetstat_hooks", []).append(state.reset)


# -----------------------------------------------------------------------------------------
# The sections
# -----------------------------------------------------------------------------------------

def _server(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    now_ms = engine.clock()
    uptime = max(0, (now_ms - engine.start_time_ms) // 1000)
    cluster = engine.extensions.get("cluster") is not None
    config = engine.config
    executable = engine.extensions.get("executable")
    if not executable:
        # The script the server runs as (specredis-server, or specredis/server.py under -m).
        program = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-", "-c") else sys.executable
        executable = os.path.abspath(program)
    return [
        ("redis_version", VERSION),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", engine.run_id[:16]),
        ("redis_mode", "cluster" if cluster else "standalone"),
        ("os", _os_name()),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll" if sys.platform.startswith("linux") else "kqueue"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", engine.pid),
        ("process_supervised", "no" if config["supervised"] == "no" else config["supervised"]),
        ("run_id", engine.run_id),
        ("tcp_port", config["port"]),
        ("server_time_usec", time.time_ns() // 1000),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", config["hz"]),
        ("configured_hz", config["hz"]),
        ("lru_clock", (now_ms // 1000) & ((1 << 24) - 1)),
        ("executable", executable),
        ("config_file", engine.extensions.get("config_file") or ""),
        ("io_threads_active", 0),
    ]


def _clients(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    clients = list(engine.clients.values())
    normal = [c for c in clients if not c.flags & CLIENT_REPLICA]
    max_in = max((c.query_buffer_size for c in clients), default=0)
    max_out = 0
    for client in clients:
        try:
            max_out = max(max_out, client.sink.output_buffer_size())
        except Exception:       # a sink without a buffer to report
            pass
    blocking = engine.extensions.get("blocking")
    if blocking is not None and hasattr(blocking, "stats"):
        # The blocking machinery knows which waits have a deadline (and that a paused client
        # is not "blocked" in Redis's count).
        counts = blocking.stats()
        blocked, in_timeout = counts["blocked_clients"], counts["clients_in_timeout_table"]
    else:
        waiting = [c for c in clients if c.flags & CLIENT_BLOCKED]
        blocked = len(waiting)
        in_timeout = sum(1 for c in waiting if getattr(c.blocked, "deadline_ms", 0))
    return [
        ("connected_clients", len(normal)),
        ("cluster_connections", 0),
        ("maxclients", engine.config["maxclients"]),
        ("client_recent_max_input_buffer", max_in),
        ("client_recent_max_output_buffer", max_out),
        ("blocked_clients", blocked),
        ("tracking_clients", sum(1 for c in clients if c.flags & CLIENT_TRACKING)),
        ("clients_in_timeout_table", in_timeout),
    ]


def _memory(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    used = state.used_memory()
    rss = used
    peak = max(state.peak_memory, used)
    startup = min(state.startup_memory, used)
    overhead = startup
    dataset = max(used - overhead, 0)
    net = used - startup
    maxmemory = engine.config["maxmemory"]
    system = total_system_memory()
    scripts = engine.extensions.get("scripts_memory", 0)
    return [
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", bytes_to_human(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", bytes_to_human(peak)),
        ("used_memory_peak_perc", f"{used * 100 / peak if peak else 100:.2f}%"),
        ("used_memory_overhead", overhead),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", f"{dataset * 100 / net if net > 0 else 0:.2f}%"),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", rss),
        ("total_system_memory", system),
        ("total_system_memory_human", bytes_to_human(system)),
        ("used_memory_lua", 0),
        ("used_memory_vm_eval", 0),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", scripts),
        ("number_of_cached_scripts", engine.extensions.get("cached_scripts", 0)),
        ("number_of_functions", 0),
        ("number_of_libraries", 0),
        ("used_memory_vm_functions", 0),
        ("used_memory_vm_total", 0),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", 0),
        ("used_memory_scripts", scripts),
        ("used_memory_scripts_human", bytes_to_human(scripts)),
        ("maxmemory", maxmemory),
        ("maxmemory_human", bytes_to_human(maxmemory)),
        ("maxmemory_policy", engine.config["maxmemory-policy"]),
        ("allocator_frag_ratio", _ratio(1.0)),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", _ratio(1.0)),
        ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", _ratio(1.0)),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", _ratio(rss / used if used else 1.0)),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", 0),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    ]


def _persistence(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    last_save = engine.extensions.get("lastsave_s")
    if last_save is None:
        last_save = engine.start_time_ms // 1000
    return [
        ("loading", 1 if engine.loading else 0),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", engine.dirty),
        ("rdb_bgsave_in_progress", 0),
        ("rdb_last_save_time", last_save),
        ("rdb_last_bgsave_status", "ok"),
        ("rdb_last_bgsave_time_sec", -1),
        ("rdb_current_bgsave_time_sec", -1),
        ("rdb_saves", 0),
        ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", 0),
        ("rdb_last_load_keys_loaded", 0),
        ("aof_enabled", 1 if engine.config["appendonly"] else 0),
        ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ]


def _stats(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    stats = engine.stats
    channels: set[bytes] = set()
    patterns: set[bytes] = set()
    shard_channels: set[bytes] = set()
    for client in engine.clients.values():
        if client.channels:
            channels.update(client.channels)
        if client.patterns:
            patterns.update(client.patterns)
        if client.shard_channels:
            shard_channels.update(client.shard_channels)

    def stat(name: str) -> Any:
        return getattr(stats, name, 0)

    return [
        ("total_connections_received", stats.total_connections_received),
        ("total_commands_processed", stats.total_commands_processed),
        ("instantaneous_ops_per_sec", int(state.ops.average())),
        ("total_net_input_bytes", stats.total_net_input_bytes),
        ("total_net_output_bytes", stats.total_net_output_bytes),
        ("total_net_repl_input_bytes", stat("total_net_repl_input_bytes")),
        ("total_net_repl_output_bytes", stat("total_net_repl_output_bytes")),
        ("instantaneous_input_kbps", f"{state.net_input.average() / 1024:.2f}"),
        ("instantaneous_output_kbps", f"{state.net_output.average() / 1024:.2f}"),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", stats.rejected_connections),
        ("sync_full", stat("sync_full")),
        ("sync_partial_ok", stat("sync_partial_ok")),
        ("sync_partial_err", stat("sync_partial_err")),
        ("expired_keys", stats.expired_keys),
        ("expired_stale_perc", f"{stat('expired_stale_perc'):.2f}"),
        ("expired_time_cap_reached_count", stat("expired_time_cap_reached_count")),
        ("expire_cycle_cpu_milliseconds", stat("expire_cycle_cpu_milliseconds")),
        ("evicted_keys", stats.evicted_keys),
        ("evicted_clients", stat("evicted_clients")),
        ("total_eviction_exceeded_time", stat("total_eviction_exceeded_time")),
        ("current_eviction_exceeded_time", stat("current_eviction_exceeded_time")),
        ("keyspace_hits", stats.keyspace_hits),
        ("keyspace_misses", stats.keyspace_misses),
        ("pubsub_channels", len(channels)),
        ("pubsub_patterns", len(patterns)),
        ("pubsubshard_channels", len(shard_channels)),
        ("latest_fork_usec", 0),
        ("total_forks", stat("total_forks")),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", stat("tracking_total_keys")),
        ("tracking_total_items", stat("tracking_total_items")),
        ("tracking_total_prefixes", stat("tracking_total_prefixes")),
        ("unexpected_error_replies", stats.unexpected_error_replies),
        ("total_error_replies", stats.total_error_replies),
        ("dump_payload_sanitizations", stats.dump_payload_sanitizations),
        ("total_reads_processed", stats.total_reads_processed),
        ("total_writes_processed", stats.total_writes_processed),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", stat("reply_buffer_shrinks")),
        ("reply_buffer_expands", stat("reply_buffer_expands")),
    ]


def _replication(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    return [
        ("role", "slave" if engine.is_replica else "master"),
        ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", state.replid),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", 0),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", engine.config["repl-backlog-size"]),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


def _cpu(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    thread_usage = getattr(resource, "RUSAGE_THREAD", None)
    main = resource.getrusage(thread_usage) if thread_usage is not None else me
    return [
        ("used_cpu_sys", _cpu_time(me.ru_stime)),
        ("used_cpu_user", _cpu_time(me.ru_utime)),
        ("used_cpu_sys_children", _cpu_time(children.ru_stime)),
        ("used_cpu_user_children", _cpu_time(children.ru_utime)),
        ("used_cpu_sys_main_thread", _cpu_time(main.ru_stime)),
        ("used_cpu_user_main_thread", _cpu_time(main.ru_utime)),
    ]


def _commandstats(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    out = []
    for cmd in _commands_with_stats(engine):
        per_call = cmd.usec / cmd.calls if cmd.calls else 0.0
        out.append((f"cmdstat_{cmd.fullname}",
                    f"calls={cmd.calls},usec={cmd.usec},usec_per_call={per_call:.2f},"
                    f"rejected_calls={cmd.rejected_calls},failed_calls={cmd.failed_calls}"))
    return out


def _commands_with_stats(engine: Any) -> list[Any]:
    return [cmd for cmd in engine.command_defs.values()
            if cmd.calls or cmd.failed_calls or cmd.rejected_calls]


def _errorstats(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    # Redis keeps error codes in a radix tree: they come out sorted.
    return [(f"errorstat_{code}", f"count={count}") for code, count in sorted(engine.stats.errors.items())]


def _latencystats(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    percentiles = engine.config["latency-tracking-info-percentiles"]
    out = []
    for cmd in engine.command_defs.values():
        if not cmd.latency_us:
            continue
        histogram = LatencyHistogram.from_microseconds(cmd.latency_us)
        fields = ",".join(f"p{format_percentile(p)}={histogram.value_at(p) / 1000:.3f}" for p in percentiles)
        out.append((f"latency_percentiles_usec_{cmd.fullname}", fields))
    return out


def _cluster(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    return [("cluster_enabled", 1 if engine.extensions.get("cluster") is not None else 0)]


def _keyspace(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    out = []
    for db in engine.databases:
        keys = len(db.data)
        if keys:
            out.append((f"db{db.id}", f"keys={keys},expires={len(db.expires)},avg_ttl={db.avg_ttl}"))
    return out


def _modules(engine: Any, state: InfoState) -> list[tuple[str, Any]]:
    return []


BUILTIN: dict[str, Callable[[Any, InfoState], list[tuple[str, Any]]]] = {
    "server": _server, "clients": _clients, "memory": _memory, "persistence": _persistence,
    "stats": _stats, "replication": _replication, "cpu": _cpu, "modules": _modules,
    "commandstats": _commandstats, "errorstats": _errorstats, "latencystats": _latencystats,
    "cluster": _cluster, "keyspace": _keyspace,
}


# -----------------------------------------------------------------------------------------
# Assembly
# -----------------------------------------------------------------------------------------

def section_fields(engine: Any, section: str) -> list[tuple[str, Any]]:
    """The (name, value) pairs of one section: the built-in fields, then the registered providers'."""
    state = _state(engine)
    fields = BUILTIN[section](engine, state)
    providers: list[InfoProvider] = engine.extensions.get("info_fields", {}).get(section, ())
    if providers:
        merged = dict(fields)
        for provider in providers:
            for name, value in provider(engine):
                merged[name] = value
        fields = list(merged.items())
    return fields


def selected_sections(args: list[bytes]) -> list[str]:
    """The sections ``INFO args...`` prints, in Redis's order."""
    if not args:
        wanted = set(DEFAULT_SECTIONS)
    else:
        wanted = set()
        for arg in args:
            name = arg.decode("utf-8", "replace").lower()
            if name in ("all", "everything"):
                wanted.update(SECTIONS)
            elif name == "default":
                wanted.update(DEFAULT_SECTIONS)
            elif name in BUILTIN:
                wanted.add(name)
    return [name for name in SECTIONS if name in wanted]


def _title(section: str) -> str:
    return "CPU" if section == "cpu" else section.capitalize()


def info_text(engine: Any, args: list[bytes]) -> str:
    """The INFO reply text for the given section arguments."""
    parts = []
    for section in selected_sections(args):
        lines = [f"# {_title(section)}\r\n"]
        lines.extend(f"{name}:{value}\r\n" for name, value in section_fields(engine, section))
        parts.append("".join(lines))
    return "\r\n".join(parts)


def info_command(client: Client, argv: list[bytes]) -> Verbatim:
    """INFO [section [section ...]]"""
    return Verbatim(info_text(client.engine, argv[1:]).encode("utf-8", "surrogateescape"))
