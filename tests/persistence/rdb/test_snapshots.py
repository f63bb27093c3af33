"""SAVE, BGSAVE, save points, MISCONF, SHUTDOWN, startup loading and DEBUG RELOAD as a server,
each scene played against specredis and redis-server 7.0.15 and compared."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
import redis
from rdb_dataset import digest, populate
from servers import (
    free_port,
    mount_tmpfs_or_skip,
    start_reference,
    start_specredis,
    unmount_tmpfs,
    wait_until,
)

from specredis.protocol.client import RespError, Status

MISCONF = ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
           "Commands that may modify the data set are disabled, because this instance is configured to report "
           "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check "
           "the Redis logs for details about the RDB error.")



def both(*args: str):
    """A specredis and a reference started with the same options (DEBUG and protected configs on)."""
    common = ("--enable-debug-command", "yes", "--enable-protected-configs", "yes", *args)
    return start_specredis(*common), start_reference(*common)


def reply(client, *args):
    try:
        return client.execute_command(*args)
    except redis.ResponseError as error:
        return f"ERR:{error}"


def bgsave_done(client) -> bool:
    return client.info("persistence")["rdb_bgsave_in_progress"] == 0


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


@pytest.fixture
def pair():
    servers = both("--save", "3600 1")
    yield servers
    for server in servers:
        server.stop()


def test_bgsave_writes_the_dataset_and_updates_lastsave_and_info(pair) -> None:
    for server in pair:
        client = server.redis()
        populate(client, seed=7)
        before = client.lastsave()
        info = client.info("persistence")
        assert info["rdb_changes_since_last_save"] > 0
        time.sleep(1.1)                     # LASTSAVE has one-second resolution
        assert client.bgsave() is True
        wait_until(lambda c=client: bgsave_done(c))
        info = client.info("persistence")
        assert info["rdb_last_bgsave_status"] == "ok"
        assert info["rdb_changes_since_last_save"] == 0
        assert info["rdb_saves"] == 1
        assert info["rdb_last_bgsave_time_sec"] >= 0
        assert client.lastsave() > before
        assert reply(client, "BGSAVE", "foo") == "ERR:syntax error"
        assert reply(client, "BGSAVE", "SCHEDULE", "x") == "ERR:syntax error"
    ours, reference = pair
    assert digest(ours.redis()) == digest(reference.redis())
    saved = os.path.join(ours.dir, "dump.rdb")
    loaded = start_reference("--dir", ours.dir, "--enable-debug-command", "yes")
    try:
        assert digest(loaded.redis()) == digest(reference.redis())
    finally:
        loaded.stop()
    assert os.path.exists(saved)


def test_info_persistence_has_redis_fields_in_order(pair) -> None:
    ours, reference = pair
    names = [list(server.redis().info("persistence")) for server in pair]
    assert names[0] == names[1]


def test_second_save_while_a_bgsave_runs_is_refused(pair) -> None:
    for server in pair:
        client = server.redis()
        client.execute_command("DEBUG", "POPULATE", 3000)
        client.config_set("rdb-key-save-delay", 1000)       # 1 ms per key: the child takes a while
        assert reply(client, "BGSAVE") is True               # redis-py's reading of +Background saving started
        assert client.info("persistence")["rdb_bgsave_in_progress"] == 1
    replies = [[reply(server.redis(), *cmd) for cmd in (("BGSAVE",), ("SAVE",), ("BGSAVE", "SCHEDULE"))]
               for server in pair]
    assert replies[0] == replies[1] == ["ERR:Background save already in progress"] * 3
    for server in pair:
        client = server.redis()
        client.config_set("rdb-key-save-delay", 0)
        assert client.info("persistence")["rdb_current_bgsave_time_sec"] >= 0


def test_a_bgsave_child_killed_mid_write_leaves_the_old_file_and_stops_writes(pair) -> None:
    outcomes = []
    for server in pair:
        client = server.redis()
        client.set("old", "value")
        assert client.save()
        path = os.path.join(server.dir if server.name == "specredis" else client.config_get("dir")["dir"],
                            "dump.rdb")
        with open(path, "rb") as handle:
            old = handle.read()
        client.execute_command("DEBUG", "POPULATE", 5000)
        client.config_set("rdb-key-save-delay", 2000)
        assert client.bgsave()
        pid = server.proc.pid
        child = wait_until(lambda p=pid: children_of(p))[0]
        directory = os.path.dirname(path)
        # Mid-write: the child has created its temp file (however long a loaded machine takes).
        wait_until(lambda d=directory: any(name.startswith("temp-") for name in os.listdir(d)), timeout=60)
        os.kill(child, signal.SIGKILL)
        wait_until(lambda c=client: bgsave_done(c))
        client.config_set("rdb-key-save-delay", 0)
        info = client.info("persistence")
        with open(path, "rb") as handle:
            assert handle.read() == old                     # the old RDB is intact
        leftovers = [name for name in os.listdir(os.path.dirname(path)) if name.startswith("temp-")]
        outcomes.append((info["rdb_last_bgsave_status"], reply(client, "SET", "k", "v"), reply(client, "PING"),
                         reply(client, "GET", "old"), leftovers))
    assert outcomes[0] == outcomes[1] == ("err", f"ERR:{MISCONF}", f"ERR:{MISCONF}", b"value", [])


def test_misconf_follows_the_last_bgsave_and_the_config() -> None:
    servers = both("--save", "3600 1")
    try:
        transcripts = []
        for server in servers:
            client = server.redis()
            gone = tempfile.mkdtemp(prefix="gone-")
            client.config_set("dir", gone)
            os.rmdir(gone)                                  # the save cannot create its temp file
            client.set("a", 1)
            steps = [reply(client, "BGSAVE")]
            wait_until(lambda c=client: bgsave_done(c))
            steps.append(client.info("persistence")["rdb_last_bgsave_status"])
            steps += [reply(client, "SET", "a", 2), reply(client, "PING"), reply(client, "GET", "a"),
                      reply(client, "INCR", "a"), reply(client, "SAVE")]
            pipe = client.pipeline(transaction=True)        # a transaction with a write is refused
            pipe.get("a")
            pipe.set("a", 3)
            try:
                steps.append(pipe.execute())
            except redis.RedisError as error:
                steps.append(type(error).__name__ + ":" + str(error)[:60])
            steps.append(reply(client, "EVAL", "return redis.call('set', KEYS[1], 'x')", 1, "a"))
            client.config_set("stop-writes-on-bgsave-error", "no")
            steps.append(reply(client, "SET", "a", 4))
            client.config_set("stop-writes-on-bgsave-error", "yes")
            steps.append(reply(client, "SET", "a", 5))
            client.config_set("save", "")
            steps.append(reply(client, "SET", "a", 6))
            client.config_set("save", "3600 1")
            client.config_set("dir", server.dir)
            steps.append(reply(client, "BGSAVE"))
            wait_until(lambda c=client: bgsave_done(c))
            steps += [client.info("persistence")["rdb_last_bgsave_status"], reply(client, "SET", "a", 7)]
            transcripts.append(steps)
        assert transcripts[0] == transcripts[1]
        assert transcripts[0][1] == "err" and transcripts[0][2] == f"ERR:{MISCONF}"
    finally:
        for server in servers:
            server.stop()


def test_a_full_disk_fails_the_bgsave_and_keeps_the_old_file() -> None:
    """The full disk is real: a 256 KiB tmpfs (skipped where mounting is not allowed)."""
    mounts = mount_tmpfs_or_skip(2, "256k")
    servers = []
    try:
        outcomes = []
        for mount, start in zip(mounts, (start_specredis, start_reference), strict=True):
            server = start("--save", "3600 1", "--dir", mount, "--rdbcompression", "no",
                           "--enable-debug-command", "yes")
            servers.append(server)
            client = server.redis()
            client.set("small", "dataset")
            assert client.save()
            with open(os.path.join(mount, "dump.rdb"), "rb") as handle:
                old = handle.read()
            client.set("big", os.urandom(400_000))          # does not fit in the file system
            assert client.bgsave()
            wait_until(lambda c=client: bgsave_done(c))
            with open(os.path.join(mount, "dump.rdb"), "rb") as handle:
                intact = handle.read() == old
            outcomes.append((client.info("persistence")["rdb_last_bgsave_status"], reply(client, "SET", "x", 1),
                             reply(client, "SAVE"), intact, sorted(os.listdir(mount))))
        assert outcomes[0] == outcomes[1]
        assert outcomes[0] == ("err", f"ERR:{MISCONF}", "ERR:", True, ["dump.rdb"])     # SAVE: a bare -ERR
    finally:
        for server in servers:
            server.stop()
        unmount_tmpfs(mounts)


def test_save_points_start_a_bgsave_from_the_cron() -> None:
    server = start_specredis("--save", "1 2")
    try:
        client = server.redis()
        client.set("a", 1)
        time.sleep(1.5)
        assert client.info("persistence")["rdb_saves"] == 0         # 1 change < 2
        client.set("b", 2)
        wait_until(lambda: client.info("persistence")["rdb_saves"] == 1)
        wait_until(lambda: bgsave_done(client) and client.info("persistence")["rdb_changes_since_last_save"] == 0)
        assert os.path.exists(os.path.join(server.dir, "dump.rdb"))
    finally:
        server.stop()


def _exit_code(server, timeout: float = 20) -> int:
    return server.proc.wait(timeout)


@pytest.mark.parametrize("how", ["SHUTDOWN", "SIGTERM", "SHUTDOWN NOSAVE", "SHUTDOWN SAVE without save points"])
def test_shutdown_saves_the_dataset_when_it_should(how: str) -> None:
    results = []
    for start in (start_specredis, start_reference):
        save = "" if how.endswith("without save points") else "3600 1"
        server = start("--save", save)
        client = server.redis()
        client.set("kept", "yes")
        if how == "SIGTERM":
            server.proc.send_signal(signal.SIGTERM)
        else:
            try:
                client.execute_command(*how.split()[:2])
            except redis.ConnectionError:
                pass
        code = _exit_code(server)
        directory = server.dir
        exists = os.path.exists(os.path.join(directory, "dump.rdb"))
        results.append((code, exists))
        if exists:
            again = start("--save", "", directory=directory)
            try:
                assert again.redis().get("kept") == b"yes"
            finally:
                again.stop()
    assert results[0] == results[1]
    assert results[0][1] == (how != "SHUTDOWN NOSAVE")


def test_flushall_saves_the_empty_dataset_with_save_points(pair) -> None:
    states = []
    for server in pair:
        client = server.redis()
        client.set("a", 1)
        client.flushall()
        info = client.info("persistence")
        states.append((info["rdb_changes_since_last_save"], info["rdb_saves"]))
    assert states[0] == states[1]
    ours = pair[0]
    with open(os.path.join(ours.dir, "dump.rdb"), "rb") as handle:
        assert b"kept" not in handle.read()


def _write_file(directory: str, data: bytes) -> str:
    path = os.path.join(directory, "dump.rdb")
    with open(path, "wb") as handle:
        handle.write(data)
    return path


@pytest.mark.parametrize("damage", ["truncated", "bit-flip", "bad-magic", "future-version"])
def test_startup_refuses_a_corrupt_file_and_leaves_it_intact(damage: str) -> None:
    source = start_specredis("--save", "", "--enable-debug-command", "yes")
    try:
        populate(source.redis(), seed=11)
        assert source.redis().save()
    finally:
        source.stop()
    with open(os.path.join(source.dir, "dump.rdb"), "rb") as handle:
        good = handle.read()
    if damage == "truncated":
        bad = good[:len(good) * 2 // 3]
    elif damage == "bit-flip":
        flipped = bytearray(good)
        flipped[len(good) // 2] ^= 0x20
        bad = bytes(flipped)
    elif damage == "bad-magic":
        bad = b"RADIS" + good[5:]
    else:
        bad = b"REDIS0011" + good[9:]
    codes = []
    for name in ("specredis", "redis-server"):
        directory = tempfile.mkdtemp(prefix="corrupt-")
        path = _write_file(directory, bad)
        port = free_port()
        if name == "specredis":
            cmd = [sys.executable, "-m", "specredis.server", "--port", str(port), "--dir", directory]
        else:
            cmd = ["redis-server", "--port", str(port), "--dir", directory]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=directory)
        codes.append(result.returncode)
        with open(path, "rb") as handle:
            assert handle.read() == bad                     # the data file is left as it was
        if name == "specredis":
            assert "RDB ERROR DETECTED" in result.stdout or "Wrong signature" in result.stdout \
                or "Can't handle RDB format version" in result.stdout, result.stdout
    assert codes == [1, 1]


def test_clients_get_loading_errors_while_a_big_file_loads() -> None:
    source = start_specredis("--save", "", "--enable-debug-command", "yes")
    try:
        source.redis().execute_command("DEBUG", "POPULATE", 20000)
        assert source.redis().save()
    finally:
        source.stop()
    seen = []
    for start in (start_specredis, start_reference):
        directory = tempfile.mkdtemp(prefix="loading-")
        with open(os.path.join(source.dir, "dump.rdb"), "rb") as src, \
                open(os.path.join(directory, "dump.rdb"), "wb") as dst:
            dst.write(src.read())
        server = start("--save", "", "--key-load-delay", "100", "--loading-process-events-interval-bytes", "1024",
                       directory=directory)
        try:
            client = server.redis()
            info = client.info("persistence")
            assert info["loading"] == 1
            assert 0 <= float(info["loading_loaded_perc"]) < 100
            assert info["loading_total_bytes"] > 0
            # A raw connection: redis-py retries commands that meet -LOADING.
            raw = server.client()
            seen.append((raw.call("PING"), raw.call("GET", "key:1")))
            wait_until(lambda c=client: c.info("persistence")["loading"] == 0, timeout=60)
            assert client.dbsize() == 20000
            assert client.info("persistence")["rdb_last_load_keys_loaded"] == 20000
        finally:
            server.stop()
    loading = RespError("LOADING Redis is loading the dataset in memory")
    assert seen[0] == seen[1] == (loading, loading)


def test_debug_reload_round_trips_and_reports_like_redis(pair) -> None:
    transcripts = []
    for server in pair:
        client = server.redis()
        populate(client, seed=13)
        before = digest(client)
        steps = [reply(client, "DEBUG", "RELOAD"), digest(client) == before,
                 reply(client, "DEBUG", "RELOAD", "BOGUS")]
        client.set("extra", "1")
        steps.append(reply(client, "DEBUG", "RELOAD", "NOSAVE"))          # back to the saved file
        steps.append(client.exists("extra"))
        client.set("extra", "2")
        # (NOFLUSH without MERGE meets duplicate keys: redis-server panics there, specredis refuses.)
        steps.append(reply(client, "DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"))
        steps.append(client.get("extra"))
        os.unlink(os.path.join(client.config_get("dir")["dir"], "dump.rdb"))
        steps.append(reply(client, "DEBUG", "RELOAD", "NOSAVE"))
        transcripts.append(steps)
    assert transcripts[0] == transcripts[1]
    assert transcripts[0][1] is True


def test_a_replica_style_load_keeps_no_expired_keys_on_a_master() -> None:
    source = start_specredis("--save", "", "--enable-debug-command", "yes")
    try:
        client = source.redis()
        client.set("gone", "x", px=300)
        client.set("stays", "y")
        assert client.save()
    finally:
        source.stop()
    time.sleep(0.5)
    results = []
    for start in (start_specredis, start_reference):
        directory = tempfile.mkdtemp(prefix="expired-")
        with open(os.path.join(source.dir, "dump.rdb"), "rb") as src, \
                open(os.path.join(directory, "dump.rdb"), "wb") as dst:
            dst.write(src.read())
        server = start("--save", "", directory=directory)
        try:
            info = server.redis().info("persistence")
            results.append((server.redis().dbsize(), info["rdb_last_load_keys_expired"],
                            info["rdb_last_load_keys_loaded"]))
        finally:
            server.stop()
    assert results[0] == results[1] == (1, 1, 1)


def test_bgsave_inside_exec_is_scheduled_for_the_cron(pair) -> None:
    replies = []
    for server in pair:
        raw = server.client()
        raw.call("SET", "k", "v")
        replies.append([raw.call("MULTI"), raw.call("BGSAVE"), raw.call("EXEC")])
        client = server.redis()
        wait_until(lambda c=client: c.info("persistence")["rdb_saves"] == 1 and bgsave_done(c))
        assert client.info("persistence")["rdb_last_bgsave_status"] == "ok"
    assert replies[0] == replies[1]
    assert replies[0][2] == [Status("Background saving scheduled")]


def test_shutdown_refuses_to_exit_when_the_final_save_fails(pair) -> None:
    outcomes = []
    for server in pair:
        client = server.redis()
        client.set("k", "v")
        gone = tempfile.mkdtemp(prefix="gone-")
        client.config_set("dir", gone)
        os.rmdir(gone)
        outcomes.append((reply(client, "SHUTDOWN"), client.ping(), reply(client, "SHUTDOWN", "NOSAVE", "ABORT")))
        client.config_set("dir", server.dir)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == "ERR:Errors trying to SHUTDOWN. Check logs." and outcomes[0][1] is True
