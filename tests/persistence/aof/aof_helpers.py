"""Helpers for the AOF tests: reading AOF directories, running both check tools."""

from __future__ import annotations

import io
import os
import re
import subprocess

from servers import wait_until  # noqa: F401 - shared with the AOF tests that import it from here

from specredis.tools import check_aof

_LOG_PREFIX = re.compile(rb"^\d+:[CM] \d+ \w+ \d+ [\d:.]+ ", re.MULTILINE)


def parse_aof(data: bytes) -> list[list[bytes]]:
    """The commands of a well-formed AOF (annotations as one-element lists ``[b'#...']``)."""
    out: list[list[bytes]] = []
    pos = 0
    while pos < len(data):
        if data[pos:pos + 1] == b"#":
            end = data.index(b"\n", pos)
            out.append([data[pos:end].rstrip(b"\r")])
            pos = end + 1
            continue
        end = data.index(b"\r\n", pos)
        count = int(data[pos + 1:end])
        pos = end + 2
        argv = []
        for _ in range(count):
            end = data.index(b"\r\n", pos)
            length = int(data[pos + 1:end])
            pos = end + 2
            argv.append(data[pos:pos + length])
            pos += length + 2
        out.append(argv)
    return out


def manifest_files(directory: str, prefix: str = "appendonly.aof") -> list[tuple[str, str, str]]:
    """(file name, seq, type) of each line of the manifest in ``directory/appendonlydir``."""
    with open(os.path.join(directory, "appendonlydir", prefix + ".manifest")) as handle:
        rows = []
        for line in handle:
            words = line.split()
            rows.append((words[1], words[3], words[5]))
        return rows


def incr_data(directory: str) -> bytes:
    """The incr files of an AOF directory, concatenated in manifest order."""
    data = b""
    for name, _, kind in manifest_files(directory):
        if kind == "i":
            with open(os.path.join(directory, "appendonlydir", name), "rb") as handle:
                data += handle.read()
    return data



def rewrite_done(client) -> bool:
    info = client.info("persistence")
    return info["aof_rewrite_in_progress"] == 0 and info["aof_rewrite_scheduled"] == 0


def without_log_prefix(text: bytes) -> bytes:
    """Log lines without their ``pid:role date time`` prefix."""
    return _LOG_PREFIX.sub(b"", text)


def run_redis_check_aof(args: list[str], answer: bytes = b"") -> tuple[bytes, int]:
    """redis-check-aof's stdout (log prefixes removed) and exit status."""
    done = subprocess.run(["redis-check-aof", *args], input=answer, capture_output=True, timeout=60)
    return without_log_prefix(done.stdout), done.returncode


def run_specredis_check_aof(args: list[str], answer: str = "") -> tuple[bytes, int]:
    """specredis-check-aof's stdout (log prefixes removed) and exit status, run in-process."""
    out = io.StringIO()
    status = check_aof.run(args, out=out, stdin=io.StringIO(answer))
    return without_log_prefix(out.getvalue().encode("utf-8", "surrogateescape")), status


def aof_writes(client) -> None:
    """Writes whose AOF form is not the command itself, or that only an AOF records."""
    client.execute_command("SELECT", 3)
    client.set("t:ex", "v", ex=1000)
    client.set("t:keepttl", "v", px=5_000_000)
    client.set("t:keepttl", "w", keepttl=True)
    client.incrbyfloat("t:float", "1.5")
    client.incrbyfloat("t:float", "2.25e2")
    client.sadd("t:set", *range(20))
    client.spop("t:set", 3)
    client.spop("t:set")
    client.rpush("t:list", *"abcdef")
    client.blpop(["t:list"], timeout=1)
    client.execute_command("BLMOVE", "t:list", "t:list2", "LEFT", "RIGHT", 1)
    client.zadd("t:z", {"a": 1, "b": 2, "c": 3})
    client.bzpopmin(["t:z"], timeout=1)
    client.hincrbyfloat("t:h", "f", "0.5")
    pipe = client.pipeline(transaction=True)
    pipe.incr("t:counter")
    pipe.lpush("t:list3", "x", "y")
    pipe.expire("t:list3", 3000)
    pipe.execute()
    client.eval("redis.call('set', KEYS[1], ARGV[1]); redis.call('incrby', KEYS[2], 7)", 2, "t:script", "t:n", "v")
    client.execute_command("FUNCTION", "LOAD", "#!lua name=aoflib\n"
                           "redis.register_function('aofset', function(keys, args) return redis.call('set', keys[1], "
                           "args[1]) end)")
    client.execute_command("FCALL", "aofset", 1, "t:fcall", "v")
    client.execute_command("XADD", "t:s", "1-1", "f", "v")
    client.execute_command("XADD", "t:s", "2-1", "f", "w")
    client.execute_command("XGROUP", "CREATE", "t:s", "g", "0")
    client.execute_command("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "t:s", ">")
    client.execute_command("XAUTOCLAIM", "t:s", "g", "c2", "0", "0")
    client.execute_command("SETBIT", "t:bits", 100, 1)
    client.execute_command("PFADD", "t:hll", *[f"e{i}" for i in range(50)])
    client.execute_command("GEOADD", "t:geo", 13.361389, 38.115556, "Palermo")
    client.execute_command("SELECT", 0)


def stream_groups(client) -> list:
    """XINFO GROUPS and pending summaries of every stream in databases 0, 1, 3 and 9."""
    out = []
    for db in (0, 1, 3, 9):
        client.execute_command("SELECT", db)
        for key in sorted(client.keys("*")):
            if client.type(key) != b"stream":
                continue
            groups = client.execute_command("XINFO", "GROUPS", key)
            out.append((db, key, groups))
            for group in groups:
                name = group[1] if isinstance(group, list) else group[b"name"]
                out.append((db, key, name, client.execute_command("XPENDING", key, name)))
    client.execute_command("SELECT", 0)
    return out
