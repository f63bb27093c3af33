"""Crash models: ``kill -9`` a server while a client writes, restart it on the same files.

**AOF, appendfsync always.** A writer thread sends a stream of writes over every type
(strings, lists, sets, sorted sets, hashes, streams, bitmaps, HyperLogLogs; several
databases; MULTI/EXEC transactions; scripts; a BGREWRITEAOF now and then), one unit at a
time, and mirrors each unit it got a reply for to a reference redis-server 7.0.15. At a
random moment the server gets SIGKILL and is started again on the same directory. The
model: every acknowledged write is there, and the unit in flight is either wholly there
or not at all (a transaction is all or nothing). Checked with DEBUG DIGEST: the
restarted server's digest equals the reference's, or -- after the in-flight unit is
applied to the reference too -- that one.

**RDB only.** The same writer with BGSAVE instead of BGREWRITEAOF and no AOF: after the
kill (of the server and of a BGSAVE child still running), the dataset is one of the
snapshots whose BGSAVE may have finished -- never older than the last one seen done --
each recorded on the reference (SAVE to its own file) when its BGSAVE was acknowledged.

Torn and corrupted AOF files (a last record cut at every byte, damage in the middle,
an unfinished MULTI) are started on side by side with redis-server in
``tests/persistence/aof/test_loading.py``; ``test_clean_restart_keeps_the_digest`` here
checks a clean SHUTDOWN and restart.

Servers come from a zygote (``tests/persistence/aof/zygote.py``): restarting takes tens
of milliseconds instead of a second, so a run does hundreds of kill/restart cycles
(``CYCLES`` in CI, four times more with ``--deep``). The kill moment is drawn by
Hypothesis, but the scheduler decides where it lands: a failure is reported with its
seed and the log, not shrunk.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from servers import free_port, require_reference, start_reference

from specredis.engine.persistence.aof import encode_command
from specredis.protocol.client import ConnectionClosed, RespClient, RespError, Status

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "persistence", "aof"))
from conformance.conftest import is_deep  # noqa: E402
from zygote import Zygote, kill9, start  # noqa: E402

CYCLES = 200                # kill -9 cycles of the AOF model in a CI run
CYCLES_PER_EXAMPLE = 25
RDB_CYCLES = 40
MAX_KILL_DELAY = 0.12       # seconds of writing before the kill, once MIN_ACKED units are in
#: Units acknowledged in every cycle before its kill delay starts: the kill points are timed,
#: but a loaded machine could otherwise let whole cycles pass with nothing written.
MIN_ACKED = 2
#: How long a cycle may take to reach its kill point (a stuck writer fails the test).
CYCLE_DEADLINE_S = 60.0

Unit = list[list[bytes]]    # the commands sent together: one, or MULTI ... EXEC


# -- the writes ---------------------------------------------------------------------------

class Workload:
    """A deterministic stream of write units from a seed (the same argv go to both servers)."""

    def __init__(self, seed: int, rdb: bool = False) -> None:
        self.rng = random.Random(seed)
        self.stream_id = seed % 1000 * 1_000_000 + 1
        self.rdb = rdb

    def key(self, kind: str) -> bytes:
        return f"{kind}:{self.rng.randrange(6)}".encode()

    def value(self) -> bytes:
        rng = self.rng
        choice = rng.randrange(5)
        if choice == 0:
            return str(rng.randrange(-1000, 1000)).encode()
        if choice == 1:
            return bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 12)))
        if choice == 2:
            return b"x" * rng.randrange(0, 300)
        return f"v{rng.randrange(100)}".encode()

    def command(self) -> list[bytes]:
        rng, key, value = self.rng, self.key, self.value
        n = str(rng.randrange(1, 50)).encode()
        kind = rng.randrange(30)
        if kind < 3:
            return [b"SET", key("s"), value()]
        if kind == 3:
            return [b"SET", key("s"), value(), b"EX", b"100000"]
        if kind == 4:
            return [b"APPEND", key("s"), value()]
        if kind == 5:
            return [b"INCRBY", key("n"), n]
        if kind == 6:
            return [b"INCRBYFLOAT", key("n"), b"1.5"]
        if kind == 7:
            return [b"DEL", key(rng.choice("slzhn"))]
        if kind == 8:
            return [b"EXPIRE", key(rng.choice("slzh")), b"100000"]
        if kind == 9:
            return [rng.choice([b"RPUSH", b"LPUSH"]), key("l"), value(), value()]
        if kind == 10:
            return [rng.choice([b"LPOP", b"RPOP"]), key("l")]
        if kind == 11:
            return [b"LMOVE", key("l"), key("l"), b"LEFT", b"RIGHT"]
        if kind == 12:
            return [b"LTRIM", key("l"), b"0", n]
        if kind == 13:
            return [b"SADD", key("z:set"), value(), value(), n]
        if kind == 14:
            return [b"SREM", key("z:set"), n]
        if kind == 15:
            return [b"SINTERSTORE", key("z:set"), key("z:set"), key("z:set")]
        if kind == 16:
            return [b"ZADD", key("z"), n, value(), b"1.25", value()]
        if kind == 17:
            return [b"ZINCRBY", key("z"), b"2", value()]
        if kind == 18:
            return [b"ZPOPMIN", key("z")]
        if kind == 19:
            return [b"HSET", key("h"), value(), value(), n, value()]
        if kind == 20:
            return [b"HINCRBY", key("h"), n, n]
        if kind == 21:
            return [b"HDEL", key("h"), value()]
        if kind == 22:
            self.stream_id += rng.randrange(1, 3)
            return [b"XADD", b"stream", b"%d-1" % self.stream_id, b"f", value()]
        if kind == 23:
            return [b"XTRIM", b"stream", b"MAXLEN", n]
        if kind == 24:
            return [b"SETBIT", key("b"), n, b"1"]
        if kind == 25:
            return [b"PFADD", key("hll"), value(), value()]
        if kind == 26:
            return [b"SELECT", str(rng.randrange(3)).encode()]
        if kind == 27:
            return [b"EVAL", b"redis.call('incr', KEYS[1]); return redis.call('rpush', KEYS[2], ARGV[1])",
                    b"2", key("n"), key("l"), value()]
        if kind == 28:
            return [b"COPY", key("s"), key("s"), b"REPLACE"]
        return [b"SET", key("s"), value(), b"KEEPTTL"]

    def unit(self) -> Unit:
        rng = self.rng
        choice = rng.randrange(200)
        if choice < 4:
            return [[b"BGSAVE"]] if self.rdb else [[b"BGREWRITEAOF"]]
        if choice == 4:
            return [[b"FLUSHDB"]]
        if choice < 35:
            commands = [self.command() for _ in range(rng.randrange(1, 5))]
            return [[b"MULTI"], *[c for c in commands if c[0] != b"SELECT"], [b"EXEC"]]
        return [self.command()]


def is_admin(unit: Unit) -> bool:
    """Units the reference does not get (they change no data)."""
    return unit[0][0] in (b"BGREWRITEAOF", b"BGSAVE")


def send_unit(client: RespClient, unit: Unit) -> list:
    client.send_raw(b"".join(encode_command(argv) for argv in unit))
    return [client.read_reply() for _ in unit]


def digest(client: RespClient) -> str:
    reply = client.call("DEBUG", "DIGEST")
    assert isinstance(reply, Status), reply
    return reply.text


# -- one cycle: write, kill, restart -----------------------------------------------------------

@dataclass
class Cycle:
    """What a writer saw before the kill: acknowledged units, and the one in flight."""

    acked: int = 0
    in_flight: Unit | None = None
    bgsaves: list[int] = field(default_factory=list)    # snapshots recorded when BGSAVE was acknowledged
    completed: int = -1                                 # the last of them seen completed
    error: BaseException | None = None


def write_until_killed(port: int, mirror: RespClient, workload: Workload, cycle: Cycle,
                       on_bgsave=None) -> None:
    """The writer thread: units to the server, each acknowledged one mirrored to the reference."""
    try:
        client = RespClient(port=port, timeout=10)
    except OSError:
        return      # killed before the writer got in: nothing sent, nothing in flight
    mirror.call("SELECT", "0")
    try:
        units = 0
        while True:
            units += 1
            if on_bgsave is not None and cycle.bgsaves and not units % 10:
                # No BGSAVE running and the last one went well: every snapshot so far is done.
                try:
                    info = client.call("INFO", "persistence")
                except (OSError, ConnectionClosed):
                    return
                if b"rdb_bgsave_in_progress:0" in info and b"rdb_last_bgsave_status:ok" in info:
                    cycle.completed = cycle.bgsaves[-1]
            unit = workload.unit()
            try:
                replies = send_unit(client, unit)
            except (OSError, ConnectionClosed):
                cycle.in_flight = unit
                return
            if unit[0][0] == b"BGSAVE":
                if replies[0] == Status("Background saving started") and on_bgsave is not None:
                    cycle.bgsaves.append(on_bgsave())
                continue
            if is_admin(unit):
                continue
            send_unit(mirror, unit)
            cycle.acked += 1
    except BaseException as error:  # noqa: BLE001 - reported by the test thread
        cycle.error = error
    finally:
        client.close()


def run_cycle(port: int, mirror: RespClient, workload: Workload, pid: int, delay: float,
              on_bgsave=None, children_too: bool = False, until=None) -> Cycle:
    """Write ``workload`` until killed: the kill comes ``delay`` seconds after the writer has
    had MIN_ACKED units acknowledged and ``until(cycle)`` (if given) holds -- conditions the
    writer's progress decides, not the machine's speed."""
    cycle = Cycle()
    writer = threading.Thread(target=write_until_killed, args=(port, mirror, workload, cycle, on_bgsave))
    writer.start()
    deadline = time.monotonic() + CYCLE_DEADLINE_S
    while writer.is_alive() and (cycle.acked < MIN_ACKED or (until is not None and not until(cycle))):
        assert time.monotonic() < deadline, f"the writer got no further than {cycle.acked} units"
        time.sleep(0.001)
    time.sleep(delay)
    if children_too:
        # A whole-machine crash: the BGSAVE child dies with its parent.
        for child in _children(pid):
            kill9(child)
    kill9(pid)
    writer.join(30)
    assert not writer.is_alive(), "the writer did not notice the kill"
    if cycle.error is not None:
        raise cycle.error
    return cycle


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def server_log(directory: str) -> str:
    try:
        with open(os.path.join(directory, "server.log"), errors="replace") as handle:
            return handle.read()[-4000:]
    except OSError:
        return ""


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    warm = Zygote()
    yield warm
    warm.close()


@pytest.fixture(scope="module")
def mirror_server():
    require_reference()
    server = start_reference("--enable-debug-command", "yes")
    yield server
    server.stop()


def _cycles(request: pytest.FixtureRequest, base: int) -> int:
    return base * 4 if is_deep(request.config) else base


# -- the AOF model ---------------------------------------------------------------------------

@pytest.mark.parametrize("part", range(2))
def test_kill9_loses_no_acknowledged_write_with_appendfsync_always(zygote, mirror_server, request, part) -> None:
    examples = _cycles(request, CYCLES) // CYCLES_PER_EXAMPLE // 2
    totals = {"cycles": 0, "in_flight_applied": 0, "in_flight_lost": 0, "acked": 0}

    @settings(max_examples=examples, deadline=None, derandomize=not is_deep(request.config),
              phases=(Phase.explicit, Phase.reuse, Phase.generate), database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(seed=st.integers(0, 2**32), delays=st.lists(st.floats(0.0, MAX_KILL_DELAY), min_size=CYCLES_PER_EXAMPLE,
                                                       max_size=CYCLES_PER_EXAMPLE),
           preamble=st.sampled_from(["yes", "no"]))
    def example(seed: int, delays: list[float], preamble: str) -> None:
        directory = tempfile.mkdtemp(prefix="crash-aof-")
        mirror = mirror_server.client()
        mirror.call("FLUSHALL")
        args = ("--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", preamble,
                "--save", "")
        port = free_port()
        try:
            pid = start(zygote, directory, port, *args)
            for number, delay in enumerate(delays):
                workload = Workload(seed + part * 7919 + number)
                cycle = run_cycle(port, mirror, workload, pid, delay)
                try:
                    pid = start(zygote, directory, port, *args)
                except Exception as error:
                    raise AssertionError(f"restart failed after cycle {number} (seed {seed}):\n"
                                         f"{server_log(directory)}") from error
                with RespClient(port=port) as check:
                    loaded = digest(check)
                expected = digest(mirror)
                if loaded != expected:
                    assert cycle.in_flight is not None, (
                        f"cycle {number} (seed {seed}): acknowledged writes lost or changed\n{server_log(directory)}")
                    send_unit(mirror, cycle.in_flight)
                    expected = digest(mirror)
                    assert loaded == expected, (
                        f"cycle {number} (seed {seed}): the unit in flight {cycle.in_flight!r} is half applied, "
                        f"or acknowledged writes are missing\n{server_log(directory)}")
                    totals["in_flight_applied"] += 1
                elif cycle.in_flight is not None:
                    totals["in_flight_lost"] += 1
                totals["cycles"] += 1
                totals["acked"] += cycle.acked
            kill9(pid)
        finally:
            mirror.close()
            shutil.rmtree(directory, ignore_errors=True)

    example()
    print(f"crash model (part {part}): {totals}")
    assert totals["cycles"] >= examples * CYCLES_PER_EXAMPLE
    assert totals["acked"] > totals["cycles"]       # the kills did land while writes went on


def test_clean_restart_keeps_the_digest(zygote, mirror_server) -> None:
    """SHUTDOWN and start again (AOF, then RDB only): DEBUG DIGEST before = after."""
    for args in (("--appendonly", "yes"), ("--appendonly", "no", "--save", "3600 1")):
        directory = tempfile.mkdtemp(prefix="crash-clean-")
        port = free_port()
        try:
            pid = start(zygote, directory, port, *args)
            workload = Workload(42)
            with RespClient(port=port) as client:
                for _ in range(300):
                    unit = workload.unit()
                    if not is_admin(unit):
                        send_unit(client, unit)
                before = digest(client)
                client.send("SHUTDOWN")
                with pytest.raises((ConnectionClosed, OSError)):
                    client.read_reply()
            from zygote import wait_gone
            wait_gone(pid)
            pid = start(zygote, directory, port, *args)
            with RespClient(port=port) as client:
                assert digest(client) == before
            kill9(pid)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


# -- the RDB model ---------------------------------------------------------------------------

def test_kill9_with_rdb_only_restores_a_completed_snapshot(zygote, request) -> None:
    require_reference()
    cycles = _cycles(request, RDB_CYCLES)
    snapshots_dir = tempfile.mkdtemp(prefix="crash-rdb-ref-")
    rng = random.Random(0xC0FFEE)
    directory = tempfile.mkdtemp(prefix="crash-rdb-")
    port = free_port()
    args = ("--appendonly", "no", "--save", "")
    reference = start_reference("--enable-debug-command", "yes", "--enable-protected-configs", "yes",
                                directory=snapshots_dir)
    mirror = reference.client()
    digests: list[str] = []

    def record_snapshot() -> int:
        # A BGSAVE's snapshot holds every write acknowledged before its reply: the mirror now.
        index = len(digests)
        assert mirror.call("CONFIG", "SET", "dbfilename", f"snapshot-{index}.rdb") == Status("OK")
        assert mirror.call("SAVE") == Status("OK")
        digests.append(digest(mirror))
        return index

    try:
        pid = start(zygote, directory, port, *args)
        current = record_snapshot()         # what the server holds when a cycle begins
        newer = 0                           # cycles that ended on a snapshot taken during them
        for number in range(cycles):
            workload = Workload(rng.randrange(2**32), rdb=True)
            # Every fourth cycle is killed once a snapshot taken during it has completed, so that
            # restarts on a new snapshot are certain, not left to how fast the machine runs.
            wait_for_snapshot = (lambda c, first=current: c.completed > first) if number % 4 == 0 else None
            cycle = run_cycle(port, mirror, workload, pid, rng.uniform(0.0, MAX_KILL_DELAY * 2),
                              on_bgsave=record_snapshot, children_too=True, until=wait_for_snapshot)
            candidates = [current, *cycle.bgsaves]
            if cycle.in_flight == [[b"BGSAVE"]]:
                candidates.append(record_snapshot())    # it may have forked before the kill
            pid = start(zygote, directory, port, *args)
            with RespClient(port=port) as check:
                loaded = digest(check)
            oldest = max(current, cycle.completed)
            matches = [index for index in candidates if index >= oldest and digests[index] == loaded]
            assert matches, (f"cycle {number}: the dataset is none of the snapshots that may have completed "
                             f"(from {oldest} on)\n{server_log(directory)}")
            if max(matches) != current:
                newer += 1
            current = max(matches)
            # The mirror goes back to that snapshot for the next cycle.
            mirror.close()
            reference.stop()
            shutil.copy(os.path.join(snapshots_dir, f"snapshot-{current}.rdb"), os.path.join(snapshots_dir, "dump.rdb"))
            reference = start_reference("--enable-debug-command", "yes", "--enable-protected-configs", "yes",
                                        "--dbfilename", "dump.rdb",
                                        directory=snapshots_dir)
            mirror = reference.client()
            _wait_loaded(mirror)
            assert digest(mirror) == digests[current]
        kill9(pid)
        print(f"RDB crash model: {cycles} cycles, {len(digests)} snapshots, {newer} restarts on a new one")
        assert newer > cycles // 10         # the kills do land after snapshots, not only before
    finally:
        mirror.close()
        reference.stop()
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(snapshots_dir, ignore_errors=True)


def _wait_loaded(client: RespClient) -> None:
    deadline = time.monotonic() + 10
    while True:
        reply = client.call("PING")
        if not isinstance(reply, RespError):
            return
        assert time.monotonic() < deadline, reply
        time.sleep(0.01)
