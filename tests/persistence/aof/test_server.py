"""The AOF as a running server shows it, scene by scene against redis-server 7.0.15.

BGREWRITEAOF and its replies while children run, CONFIG SET appendonly yes/no, INFO's
AOF fields, the automatic rewrite on growth, history files with and without
aof-disable-auto-gc, #TS annotations, DEBUG LOADAOF, the three fsync policies, a full
disk (MISCONF, then recovery), and what the files look like after each scene.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest
import redis
from aof_helpers import incr_data, manifest_files, parse_aof, rewrite_done, wait_until
from rdb_dataset import digest, populate
from servers import mount_tmpfs_or_skip, start_reference, start_specredis, unmount_tmpfs

KEY_DELAY = "--rdb-key-save-delay"


def both(*args: str):
    """A specredis and a reference started with the same options, each in its own directory."""
    common = ("--enable-debug-command", "yes", *args)
    return {"specredis": start_specredis(*common), "reference": start_reference(*common)}


def stop_all(servers: dict) -> None:
    for server in servers.values():
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


def reply(client, *args):
    try:
        return client.execute_command(*args)
    except redis.ResponseError as error:
        return f"ERR:{error}"


def kinds(directory: str) -> list[tuple[str, str]]:
    """(file name, type) of the manifest's lines."""
    return [(name, kind) for name, _, kind in manifest_files(directory)]


def aof_files(directory: str) -> list[str]:
    return sorted(os.listdir(os.path.join(directory, "appendonlydir")))


def test_info_persistence_fields_as_redis() -> None:
    servers = both("--appendonly", "no")
    try:
        for enabled in ("no", "yes"):
            fields = {}
            for name, server in servers.items():
                client = server.redis()
                client.config_set("appendonly", enabled)
                wait_until(lambda c=client: rewrite_done(c))
                fields[name] = list(client.info("persistence"))
            assert fields["specredis"] == fields["reference"]
    finally:
        stop_all(servers)


def test_bgrewriteaof_replies_while_children_run_as_redis() -> None:
    servers = both("--appendonly", "yes", KEY_DELAY, "20000")
    try:
        transcripts = {}
        for name, server in servers.items():
            client = server.redis()
            for i in range(30):
                client.set(f"k{i}", i)
            seen = [reply(client, "BGREWRITEAOF"), reply(client, "BGREWRITEAOF"), reply(client, "BGSAVE"),
                    reply(client, "BGSAVE", "SCHEDULE"), client.info("persistence")["aof_rewrite_in_progress"]]
            client.config_set("rdb-key-save-delay", 0)
            wait_until(lambda c=client: rewrite_done(c) and c.info("persistence")["rdb_bgsave_in_progress"] == 0)
            # The other way round: a BGSAVE running, BGREWRITEAOF is scheduled and runs after it.
            client.config_set("rdb-key-save-delay", 20000)
            seen += [reply(client, "BGSAVE"), reply(client, "BGREWRITEAOF"),
                     client.info("persistence")["aof_rewrite_scheduled"]]
            client.config_set("rdb-key-save-delay", 0)
            wait_until(lambda c=client: rewrite_done(c) and c.info("persistence")["rdb_bgsave_in_progress"] == 0)
            info = client.info("persistence")
            seen += [info["aof_rewrites"], info["aof_last_bgrewrite_status"], kinds(server.dir)]
            # Inside MULTI, BGREWRITEAOF is only scheduled.
            pipe = client.pipeline(transaction=True)
            pipe.execute_command("BGREWRITEAOF")
            seen.append(pipe.execute())
            wait_until(lambda c=client: rewrite_done(c))
            seen.append(client.info("persistence")["aof_rewrites"])
            transcripts[name] = seen
        assert transcripts["specredis"] == transcripts["reference"]
    finally:
        stop_all(servers)


def test_rewrite_keeps_every_write_made_meanwhile() -> None:
    """Writes during a slow rewrite land in the new incr file: nothing is lost, on either server."""
    servers = both("--appendonly", "yes", KEY_DELAY, "2000")
    try:
        digests = {}
        for name, server in servers.items():
            client = server.redis()
            populate(client, seed=5)
            assert client.bgrewriteaof()
            for i in range(300):
                client.incr("during")
                client.rpush("during:list", i)
            client.config_set("rdb-key-save-delay", 0)
            wait_until(lambda c=client: rewrite_done(c))
            client.set("after", 1)
            digests[name] = digest(client)
            assert [kind for _, kind in kinds(server.dir)] == ["b", "i"]
            server.stop()
            restarted = (start_specredis if name == "specredis" else start_reference)(
                "--appendonly", "yes", "--enable-debug-command", "yes", directory=server.dir)
            try:
                again = restarted.redis()
                wait_until(lambda c=again: c.info("persistence")["loading"] == 0)
                assert digest(again) == digests[name]
            finally:
                restarted.stop()
        assert digests["specredis"] == digests["reference"]
    finally:
        stop_all(servers)


def test_config_set_appendonly_as_redis() -> None:
    servers = both("--appendonly", "no", "--aof-use-rdb-preamble", "no")
    try:
        seen = {}
        for name, server in servers.items():
            client = server.redis()
            client.mset({"a": 1, "b": 2})
            steps = [reply(client, "CONFIG", "SET", "appendonly", "yes")]
            wait_until(lambda c=client: rewrite_done(c) and c.info("persistence")["aof_enabled"] == 1)
            client.set("c", 3)
            client.config_set("appendonly", "no")
            client.set("d", 4)           # not in the AOF any more
            client.config_set("appendonly", "yes")
            wait_until(lambda c=client: rewrite_done(c))
            client.set("e", 5)
            info = client.info("persistence")
            steps += [info["aof_rewrites"], kinds(server.dir), aof_files(server.dir)]
            base = next(name for name, kind in kinds(server.dir) if kind == "b")
            with open(os.path.join(server.dir, "appendonlydir", base), "rb") as handle:
                steps.append(sorted(parse_aof(handle.read())))
            steps.append(parse_aof(incr_data(server.dir)))
            seen[name] = steps
        assert seen["specredis"] == seen["reference"]
    finally:
        stop_all(servers)


def test_automatic_rewrite_on_growth_as_redis() -> None:
    servers = both("--appendonly", "yes", "--auto-aof-rewrite-min-size", "4096", "--auto-aof-rewrite-percentage", "100")
    try:
        counts = {}
        for name, server in servers.items():
            client = server.redis()
            for i in range(200):
                client.set("key", "x" * (i % 50))
            wait_until(lambda c=client: c.info("persistence")["aof_rewrites"] >= 1)
            wait_until(lambda c=client: rewrite_done(c))
            info = client.info("persistence")
            counts[name] = (info["aof_rewrites"] >= 1, info["aof_base_size"] > 0, info["aof_current_size"] > 0)
        assert counts["specredis"] == counts["reference"] == (True, True, True)
    finally:
        stop_all(servers)


def test_history_files_and_auto_gc_as_redis() -> None:
    servers = both("--appendonly", "yes", "--aof-disable-auto-gc", "yes")
    try:
        seen = {}
        for name, server in servers.items():
            client = server.redis()
            steps = []
            for _ in range(2):
                client.set("k", "v")
                client.bgrewriteaof()
                wait_until(lambda c=client: rewrite_done(c))
                steps += [kinds(server.dir), aof_files(server.dir)]
            client.config_set("aof-disable-auto-gc", "no")
            steps += [kinds(server.dir), aof_files(server.dir)]
            seen[name] = steps
        assert seen["specredis"] == seen["reference"]
    finally:
        stop_all(servers)


def test_timestamp_annotations_as_redis() -> None:
    servers = both("--appendonly", "yes", "--aof-timestamp-enabled", "yes", "--aof-use-rdb-preamble", "no")
    try:
        shapes = {}
        for name, server in servers.items():
            client = server.redis()
            client.set("a", 1)
            time.sleep(1.1)     # the next write falls in another second: a new annotation
            client.set("b", 2)
            incr = parse_aof(incr_data(server.dir))
            client.bgrewriteaof()
            wait_until(lambda c=client: rewrite_done(c))
            base = next(name for name, kind in kinds(server.dir) if kind == "b")
            with open(os.path.join(server.dir, "appendonlydir", base), "rb") as handle:
                base_commands = parse_aof(handle.read())
            # The times differ from one server to the other; where the annotations are does not.
            shape = [argv[0][:4] if argv[0].startswith(b"#TS:") else argv for argv in incr]
            shapes[name] = (shape, [argv[0][:4] if argv[0].startswith(b"#TS:") else argv[0] for argv in base_commands])
        assert shapes["specredis"] == shapes["reference"]
        assert shapes["reference"][0][0] == b"#TS:" and shapes["reference"][1][0] == b"#TS:"
    finally:
        stop_all(servers)


def test_debug_loadaof_as_redis() -> None:
    servers = both("--appendonly", "yes")
    try:
        seen = {}
        for name, server in servers.items():
            client = server.redis()
            populate(client, seed=11)
            before = digest(client)
            steps = [reply(client, "DEBUG", "LOADAOF"), digest(client) == before,
                     client.info("persistence")["rdb_changes_since_last_save"]]
            client.set("after", "reload")
            steps += [reply(client, "DEBUG", "LOADAOF"), client.get("after")]
            seen[name] = steps
        assert seen["specredis"] == seen["reference"]
    finally:
        stop_all(servers)


@pytest.mark.parametrize("policy", ["always", "everysec", "no"])
def test_fsync_policies_persist_what_was_acknowledged(policy: str) -> None:
    servers = both("--appendonly", "yes", "--appendfsync", policy)
    try:
        for name, server in servers.items():
            client = server.redis()
            for i in range(100):
                client.rpush("l", i)
            # What was acknowledged is in the file already (a process crash loses nothing).
            commands = parse_aof(incr_data(server.dir))
            assert sum(1 for argv in commands if argv[0].lower() == b"rpush") == 100, name
            info = client.info("persistence")
            assert info["aof_last_write_status"] == "ok"
            assert client.config_get("appendfsync") == {"appendfsync": policy}
    finally:
        stop_all(servers)


def test_shutdown_flushes_the_aof_as_redis() -> None:
    servers = both("--appendonly", "yes")
    try:
        for name, server in servers.items():
            client = server.redis()
            client.set("last", "write")
            server.stop()
            restarted = (start_specredis if name == "specredis" else start_reference)("--appendonly", "yes",
                                                                                      directory=server.dir)
            try:
                again = restarted.redis()
                wait_until(lambda c=again: c.info("persistence")["loading"] == 0)
                assert again.get("last") == b"write", name
            finally:
                restarted.stop()
    finally:
        stop_all(servers)


def test_full_disk_refuses_writes_then_recovers_as_redis() -> None:
    """appendfsync everysec on a full disk: MISCONF for writes (and PING) until space is back."""
    mounts = mount_tmpfs_or_skip(2, "256k")
    try:
        seen = {}
        for mount, (name, start) in zip(mounts, (("specredis", start_specredis), ("reference", start_reference)),
                                        strict=True):
            # The log goes elsewhere: on the full disk its lines would take the space the AOF
            # fights for (the reference logs to stdout).
            log = os.path.join(tempfile.gettempdir(), f"aof-full-disk-{name}-{os.getpid()}.log")
            server = start("--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--dir", mount,
                           "--enable-debug-command", "yes", "--logfile", log, directory=mount)
            try:
                client = server.redis()
                filler = os.path.join(mount, "filler")
                fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
                try:
                    while os.write(fd, b"\0" * 4096):
                        pass
                except OSError:
                    pass        # the disk is full
                finally:
                    os.close(fd)
                steps = []
                for i in range(3):
                    steps.append(reply(client, "SET", f"k{i}", "v" * 3000))
                    time.sleep(0.15)
                steps.append(reply(client, "GET", "k0"))
                steps.append(reply(client, "PING"))
                steps.append(client.info("persistence")["aof_last_write_status"])
                os.unlink(filler)
                wait_until(lambda c=client: c.info("persistence")["aof_last_write_status"] == "ok", timeout=10)
                steps.append(reply(client, "SET", "after", "recovery"))
                seen[name] = steps
            finally:
                server.stop()
                if os.path.exists(log):
                    os.unlink(log)
        assert seen["specredis"] == seen["reference"]
        assert any(isinstance(step, str) and "MISCONF Errors writing to the AOF file" in step
                   for step in seen["reference"])
    finally:
        unmount_tmpfs(mounts)


def test_debug_loadaof_without_an_aof_exits_as_redis() -> None:
    """Nothing to load: Redis exits with status 1 at once (loadAppendOnlyFiles says AOF_NOT_EXIST)."""
    servers = both("--appendonly", "no")
    try:
        for name, server in servers.items():
            client = server.redis()
            client.set("a", 1)
            with pytest.raises(redis.ConnectionError):
                client.execute_command("DEBUG", "LOADAOF")
            assert server.proc.wait(10) == 1, name
    finally:
        stop_all(servers)


def test_file_names_that_need_quoting_as_redis() -> None:
    """An appendfilename with a space and a quote: the manifest quotes it as Redis does, and
    both servers read it back."""
    servers = both("--appendonly", "yes", "--appendfilename", 'my "aof" file', "--appenddirname", "aof dir")
    try:
        manifests = {}
        for name, server in servers.items():
            client = server.redis()
            client.set("k", "v")
            with open(os.path.join(server.dir, "aof dir", 'my "aof" file.manifest'), "rb") as handle:
                manifests[name] = handle.read()
            server.stop()
            restarted = (start_specredis if name == "specredis" else start_reference)(
                "--appendonly", "yes", "--appendfilename", 'my "aof" file', "--appenddirname", "aof dir",
                directory=server.dir)
            try:
                again = restarted.redis()
                wait_until(lambda c=again: c.info("persistence")["loading"] == 0)
                assert again.get("k") == b"v", name
            finally:
                restarted.stop()
        assert manifests["specredis"] == manifests["reference"]
        assert manifests["reference"].startswith(b'file "my \\"aof\\" file.1.base.rdb" seq 1 type b\n')
    finally:
        stop_all(servers)
