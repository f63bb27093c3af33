"""LATENCY: the latency monitor (latency.c).

Events whose duration reaches ``latency-monitor-threshold`` milliseconds are kept
as per-second samples (160 per event, the worst one of each second) plus the all
time maximum. The dispatcher feeds ``command`` / ``fast-command`` events through
its slow-command hook, called only for commands reaching the threshold; other
modules add their events (``expire-cycle``, ``fork``...) with
``engine.extensions["latency_add_sample"](event, ms)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from specredis.engine.client import CLIENT_BLOCKED, Client
from specredis.engine.command import CMD_FAST
from specredis.engine.errors import RedisError
from specredis.engine.help import help_reply
from specredis.engine.info import LatencyHistogram
from specredis.engine.settings import on_change
from specredis.protocol.replies import Map, Verbatim

if TYPE_CHECKING:
    from specredis.engine.command import CommandDef
    from specredis.engine.core import Engine

TS_LEN = 160
GRAPH_COLS = 80

LATENCY_HELP = (
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
)


class TimeSeries:
    """One event's ring of (unix seconds, ms) samples; time 0 marks an empty slot."""

    __slots__ = ("samples", "idx", "max")

    def __init__(self) -> None:
        self.samples = [(0, 0)] * TS_LEN
        self.idx = 0
        self.max = 0

    def add(self, now_s: int, latency_ms: int) -> None:
        if latency_ms > self.max:
            self.max = latency_ms
        prev = (self.idx + TS_LEN - 1) % TS_LEN
        when, worst = self.samples[prev]
        if when == now_s:
            # One sample per second: keep the worst.
            if latency_ms > worst:
                self.samples[prev] = (when, latency_ms)
            return
        self.samples[self.idx] = (now_s, latency_ms)
        self.idx = (self.idx + 1) % TS_LEN

    def chronological(self) -> list[tuple[int, int]]:
        """The non-empty samples, oldest first."""
        ordered = self.samples[self.idx:] + self.samples[:self.idx]
        return [sample for sample in ordered if sample[0]]

    def latest(self) -> tuple[int, int]:
        return self.samples[(self.idx + TS_LEN - 1) % TS_LEN]


class LatencyMonitor:
    """Every event's time series, by name, in the order they were first seen."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.events: dict[str, TimeSeries] = {}
        self.threshold_ms = 0

    def now_s(self) -> int:
        return self.engine.now_ms() // 1000

    def add_sample(self, event: str, latency_ms: int) -> None:
        """latencyAddSample: record unconditionally."""
        series = self.events.get(event)
        if series is None:
            series = self.events[event] = TimeSeries()
        series.add(self.now_s(), latency_ms)

    def add_sample_if_needed(self, event: str, latency_ms: int) -> None:
        """latencyAddSampleIfNeeded: record when the monitor is on and the threshold is reached."""
        if self.threshold_ms and latency_ms >= self.threshold_ms:
            self.add_sample(event, latency_ms)

    def after_command(self, client: Client, cmd: CommandDef, argv: list[bytes], elapsed_us: int) -> None:
        """The dispatcher's slow-command hook: a ``command`` or ``fast-command`` sample."""
        if not client.flags & CLIENT_BLOCKED:
            self.add_sample("fast-command" if cmd.flags & CMD_FAST else "command", elapsed_us // 1000)


def _monitor(engine: Engine) -> LatencyMonitor:
    return engine.extensions["latency"]


def latency_latest_command(client: Client, argv: list[bytes]) -> list:
    """LATENCY LATEST"""
    out = []
    for event, series in _monitor(client.engine).events.items():
        when, latency = series.latest()
        out.append([event.encode(), when, latency, series.max])
    return out


def latency_history_command(client: Client, argv: list[bytes]) -> list:
    """LATENCY HISTORY event"""
    series = _monitor(client.engine).events.get(argv[2].decode("utf-8", "surrogateescape"))
    if series is None:
        return []
    return [[when, latency] for when, latency in series.chronological()]


def latency_reset_command(client: Client, argv: list[bytes]) -> int:
    """LATENCY RESET [event [event ...]]"""
    events = _monitor(client.engine).events
    if len(argv) == 2:
        count = len(events)
        events.clear()
        return count
    count = 0
    for raw in argv[2:]:
        if events.pop(raw.decode("utf-8", "surrogateescape"), None) is not None:
            count += 1
    return count


def latency_help_command(client: Client, argv: list[bytes]) -> object:
    """LATENCY HELP"""
    return help_reply(argv, LATENCY_HELP)


# -- HISTOGRAM ----------------------------------------------------------------------------

# Redis keeps each command's durations in an HdrHistogram of nanoseconds (2 significant
# digits, 1 ns .. 1 s) and reports it walking powers of two from 1024 ns: each step is named
# by the highest value of its bucket in whole microseconds (1, 2, 4, 8, 16, 33, 66...) and
# counts every duration up to that value; steps that add nothing are left out.
HISTOGRAM_FIRST_STEP_NS = 1024
HISTOGRAM_MIN_NS = 1
HISTOGRAM_MAX_NS = 1_000_000_000


def histogram_usec(latency_us: dict[int, int]) -> Map:
    """The cumulative ``histogram_usec`` map of durations counted in whole microseconds."""
    durations = sorted(latency_us.items())
    total = sum(latency_us.values())
    steps: list[tuple[int, int]] = []
    cumulative = index = 0
    step_ns = HISTOGRAM_FIRST_STEP_NS
    while cumulative < total:
        top_ns = LatencyHistogram.bucket_top(step_ns)
        before = cumulative
        while index < len(durations):
            micros, count = durations[index]
            value_ns = min(max(micros * 1000, HISTOGRAM_MIN_NS), HISTOGRAM_MAX_NS)
            if LatencyHistogram.bucket_top(value_ns) > top_ns:
                break
            cumulative += count
            index += 1
        if cumulative > before:
            steps.append((top_ns // 1000, cumulative))
        step_ns *= 2
    return Map(steps)


def _command_histogram(latency_us: dict[int, int]) -> Map:
    """One command's entry: its timed calls and their cumulative histogram."""
    return Map([(b"calls", sum(latency_us.values())), (b"histogram_usec", histogram_usec(latency_us))])


def _recorded(engine: Engine, cmd: CommandDef) -> dict[int, int] | None:
    """The command's durations: live while latency-tracking is on, kept while it is off."""
    return cmd.latency_us or engine.extensions.get("latency_paused", {}).get(cmd.fullname) or None


def _with_subcommands(engine: Engine, cmd: CommandDef) -> list[tuple[bytes, Map]]:
    """The command's histogram if it has one, then its subcommands' (a container has none itself)."""
    out = []
    for each in (cmd, *cmd.subcommands.values()):
        latency_us = _recorded(engine, each)
        if latency_us:
            out.append((each.fullname.encode(), _command_histogram(latency_us)))
    return out


def _lookup_by_fullname(engine: Engine, raw: bytes) -> CommandDef | None:
    """The command ``name`` or ``container|subcommand`` names, in any case (lookupCommandBySds)."""
    parts = raw.lower().split(b"|")
    if len(parts) > 2:
        return None
    cmd = engine.commands.get(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    return cmd.subcommands.get(parts[1])


def latency_histogram_command(client: Client, argv: list[bytes]) -> Map:
    """LATENCY HISTOGRAM [command [command ...]]"""
    engine = client.engine
    entries: list[tuple[bytes, Map]] = []
    if len(argv) == 2:
        seen = set()
        for cmd in engine.commands.values():
            if id(cmd) not in seen:        # each command is there under two spellings
                seen.add(id(cmd))
                entries.extend(_with_subcommands(engine, cmd))
    else:
        # One entry per argument naming a command with data, repeats included; names of no
        # served command are skipped.
        for raw in argv[2:]:
            cmd = _lookup_by_fullname(engine, raw)
            if cmd is not None:
                entries.extend(_with_subcommands(engine, cmd))
    return Map(entries)


# -- GRAPH --------------------------------------------------------------------------------

_CHARSET_FILL = "_o#"


def _age_label(elapsed: int) -> str:
    if elapsed < 60:
        return f"{elapsed}s"
    if elapsed < 3600:
        return f"{elapsed // 60}m"
    if elapsed < 86400:
        return f"{elapsed // 3600}h"
    return f"{elapsed // 86400}d"


def _sparkline_range(values: list[int], labels: list[str], low: int, high: int, rows: int) -> list[str]:
    """Rows of an ASCII sparkline (filled), then the labels written vertically under it."""
    span = (high - low) or 1
    steps = len(_CHARSET_FILL) * rows
    lines = []
    row = 0
    while True:
        chars = [" "] * len(values)
        more = False
        for j, value in enumerate(values):
            step = int((value - low) * steps / span)
            step = max(0, min(steps - 1, step))
            if row < rows:
                more = True
                index = step - (rows - row - 1) * len(_CHARSET_FILL)
                if 0 <= index < len(_CHARSET_FILL):
                    chars[j] = _CHARSET_FILL[index]
                elif index >= len(_CHARSET_FILL):
                    chars[j] = "|"
            else:
                if row - rows < 1:      # one blank line between the graph and its labels
                    more = True
                    chars = [" "] * len(values)
                    break
                label_row = row - rows - 1
                if len(labels[j]) > label_row:
                    more = True
                    chars[j] = labels[j][label_row]
        if not more:
            return lines
        lines.append("".join(chars))
        row += 1


def latency_graph_command(client: Client, argv: list[bytes]) -> object:
    """LATENCY GRAPH event"""
    monitor = _monitor(client.engine)
    event = argv[2].decode("utf-8", "surrogateescape")
    series = monitor.events.get(event)
    if series is None:
        raise RedisError(f"ERR No samples available for event '{event}'")
    now = monitor.now_s()
    samples = series.chronological()
    values = [latency for _, latency in samples]
    labels = [_age_label(now - when) for when, _ in samples]
    low, high = (min(values), max(values)) if values else (0, 0)
    text = [f"{event} - high {high} ms, low {low} ms (all time high {series.max} ms)\n", "-" * GRAPH_COLS + "\n"]
    for start in range(0, len(values), GRAPH_COLS):
        if start:
            text.append("\n")
        for line in _sparkline_range(values[start:start + GRAPH_COLS], labels[start:start + GRAPH_COLS],
                                     low, high, 4):
            text.append(line + "\n")
    return Verbatim("".join(text))


# -- DOCTOR -------------------------------------------------------------------------------


def _event_stats(series: TimeSeries, now_s: int) -> tuple[int, int, int, int]:
    """(samples, average ms, mean absolute deviation ms, period s) as analyzeLatencyForEvent."""
    samples = [(when, latency) for when, latency in series.samples if when]
    if not samples:
        return 0, 0, 0, 0
    count = len(samples)
    avg = sum(latency for _, latency in samples) // count
    period = now_s - min(when for when, _ in samples) or 1
    mad = sum(abs(avg - latency) for _, latency in samples) // count
    return count, avg, mad, period


def _anon_huge_pages() -> int:
    try:
        with open("/proc/self/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("AnonHugePages:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


NO_MONITOR = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may "
    "use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't "
    "in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
)


def latency_report(engine: Engine) -> str:
    """The LATENCY DOCTOR text (createLatencyReport), for the events this server records."""
    monitor = _monitor(engine)
    config = engine.config
    if not monitor.events and not monitor.threshold_ms:
        return NO_MONITOR
    now = monitor.now_s()
    report = []
    advise = set()
    advices = 0
    slower_than = config["slowlog-log-slower-than"]
    for number, (event, series) in enumerate(monitor.events.items(), start=1):
        if number == 1:
            report.append("Dave, I have observed latency spikes in this Redis instance. "
                          "You don't mind talking about it, do you Dave?\n\n")
        count, avg, mad, period = _event_stats(series, now)
        report.append(f"{number}. {event}: {count} latency spikes (average {avg}ms, mean deviation {mad}ms, "
                      f"period {period / count if count else 0:.2f} sec). Worst all time event {series.max}ms.")
        if event == "command":
            if slower_than < 0 or config["slowlog-max-len"] == 0:
                advise.add("slowlog_enabled")
                advices += 1
            elif slower_than // 1000 > monitor.threshold_ms:
                advise.add("slowlog_tuning")
                advices += 1
            advise.update(("slowlog_inspect", "large_objects"))
            advices += 2
        elif event == "fast-command":
            advise.add("scheduler")
            advices += 1
        elif event == "expire-cycle":
            advise.update(("hz", "large_objects"))
            advices += 2
        report.append("\n")
    if _anon_huge_pages() > 0:
        advise.add("disable_thp")
        advices += 1
    if not monitor.events and not advices:
        report.append("Dave, no latency spike was observed during the lifetime of this Redis instance, not in "
                      "the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, "
                      "and think things over.\n")
        return "".join(report)
    if not advices:
        report.append("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please "
                      "use the Redis community to get some help, providing this report in your help request.\n")
        return "".join(report)
    report.append("\nI have a few advices for you:\n\n")
    threshold_us = monitor.threshold_ms * 1000
    if "slowlog_enabled" in advise:
        report.append("- There are latency issues with potentially slow commands you are using. Try to enable "
                      "the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than "
                      f"{threshold_us}'. If the Slow log is disabled Redis is not able to log slow commands "
                      "execution for you.\n")
    if "slowlog_tuning" in advise:
        report.append("- Your current Slow Log configuration only logs events that are slower than your "
                      "configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than "
                      f"{threshold_us}'.\n")
    if "slowlog_inspect" in advise:
        report.append("- Check your Slow Log to understand what are the commands you are running which are too "
                      "slow to execute. Please check https://redis.io/commands/slowlog for more information.\n")
    if "scheduler" in advise:
        report.append("- The system is slow to execute Redis code paths not containing system calls. This "
                      "usually means the system does not provide Redis CPU time to run for long periods. You "
                      "should try to:\n"
                      "  1) Lower the system load.\n"
                      "  2) Use a computer / VM just for Redis if you are running other software in the same "
                      "system.\n"
                      "  3) Check if you have a \"noisy neighbour\" problem.\n"
                      "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your "
                      "system.\n"
                      "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if "
                      "you are using Jemalloc. However this may create fragmentation problems.\n")
    if "hz" in advise and config["hz"] < 100:
        report.append("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' "
                      "configuration parameter to 100 using 'CONFIG SET hz 100'.\n")
    if "large_objects" in advise:
        report.append("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking "
                      "operation. If you have very large objects that are often deleted, expired, or evicted, "
                      "try to fragment those objects into multiple smaller objects.\n")
    if "disable_thp" in advise:
        report.append("- I detected a non zero amount of anonymous huge pages used by your process. This creates "
                      "very serious latency events in different conditions, especially when Redis is persisting "
                      "on disk. To disable THP support use the command 'echo never > "
                      "/sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it to /etc/rc.local "
                      "so that the command will be executed again after a reboot. Note that even if you have "
                      "already disabled THP, you still need to restart the Redis process to get rid of the huge "
                      "pages already created.\n")
    return "".join(report)


def latency_doctor_command(client: Client, argv: list[bytes]) -> object:
    """LATENCY DOCTOR"""
    return Verbatim(latency_report(client.engine))


# -- configuration ---------------------------------------------------------------------


def _apply_threshold(engine: Engine, value: int) -> None:
    monitor = engine.extensions.get("latency")
    if monitor is None:
        return
    monitor.threshold_ms = value
    # Off by default: the dispatcher calls the hook only for commands reaching the threshold.
    engine.set_slow_command_hook("latency", monitor.after_command if value else None, value * 1000)


on_change("latency-monitor-threshold", _apply_threshold)


def install(engine: Engine) -> None:
    """The latency monitor of this engine."""
    monitor = LatencyMonitor(engine)
    engine.extensions["latency"] = monitor
    engine.extensions["latency_add_sample"] = monitor.add_sample_if_needed

