"""RDB persistence benchmark: specredis against redis-server 7.0.15, side by side.

One RDB file of N keys (1,000,000 by default) is made once by redis-server
(``DEBUG POPULATE`` strings, or ``--mixed``: strings, lists, hashes, sorted sets and
sets through pipelined commands). Then, for each server:

* **load**: the server starts on a copy of the file; the time is the one it logs
  (``DB loaded from disk: X seconds``), and the wall time until it answers PING;
* **bgsave**: BGSAVE of the loaded dataset, timed from the command until INFO shows
  no save in progress (polled every 10 ms), with the file size written;
* **save**: SAVE in the foreground.

Both servers then hold the same dataset (DEBUG DIGEST compared) and the ratios
specredis/redis are printed (lower is better; 1.0 is parity).

    python tools/bench_rdb.py [--keys N] [--mixed]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(kind: str, directory: str) -> tuple[subprocess.Popen, redis.Redis, str, float]:
    """Start a server on ``directory``; returns it once it answers PING (not -LOADING)."""
    port = free_port()
    log = os.path.join(directory, f"{kind}.log")
    common = ["--port", str(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "",
              "--enable-debug-command", "yes"]
    if kind == "redis":
        cmd = ["redis-server", *common, "--logfile", log]
        out = subprocess.DEVNULL
    else:
        cmd = [sys.executable, "-m", "specredis.server", *common]
        out = open(log, "wb")  # noqa: SIM115 - lives as long as the server
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=directory)
    client = redis.Redis(port=port, socket_timeout=600)
    while True:
        try:
            if client.ping():
                break
        except redis.BusyLoadingError:
            pass
        except redis.ConnectionError:
            if proc.poll() is not None:
                raise RuntimeError(f"{kind} exited with {proc.returncode}") from None
        time.sleep(0.01)
    return proc, client, log, time.perf_counter() - started


def logged_load_seconds(log: str) -> float | None:
    with open(log, errors="replace") as handle:
        match = re.search(r"DB loaded from disk: ([0-9.]+) seconds", handle.read())
    return float(match.group(1)) if match else None


def make_file(keys: int, mixed: bool) -> str:
    directory = tempfile.mkdtemp(prefix="bench-rdb-")
    proc, client, _, _ = start("redis", directory)
    try:
        if mixed:
            pipe = client.pipeline(transaction=False)
            for i in range(keys):
                kind = i % 10
                key = f"key:{i}"
                if kind < 6:
                    pipe.set(key, f"value:{i}")
                elif kind == 6:
                    pipe.rpush(key, *range(i % 8 + 1))
                elif kind == 7:
                    pipe.hset(key, mapping={"a": i, "b": "text", "c": i * 2})
                elif kind == 8:
                    pipe.zadd(key, {"x": i, "y": i / 3})
                else:
                    pipe.sadd(key, i, i + 1, i + 2)
                if len(pipe) >= 10_000:
                    pipe.execute()
            pipe.execute()
        else:
            client.execute_command("DEBUG", "POPULATE", keys)
        client.save()
    finally:
        client.shutdown(nosave=True) if proc.poll() is None else None
        proc.wait()
    return os.path.join(directory, "dump.rdb")


def bgsave_seconds(client: redis.Redis) -> float:
    started = time.perf_counter()
    client.bgsave()
    while client.info("persistence")["rdb_bgsave_in_progress"]:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    assert client.info("persistence")["rdb_last_bgsave_status"] == "ok"
    return elapsed


def measure(kind: str, source: str) -> dict:
    directory = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    shutil.copy(source, os.path.join(directory, "dump.rdb"))
    proc, client, log, ready = start(kind, directory)
    try:
        result = {"load_logged": logged_load_seconds(log), "load_ready": ready, "keys": client.dbsize(),
                  "digest": client.execute_command("DEBUG", "DIGEST")}
        result["bgsave"] = bgsave_seconds(client)
        result["size"] = os.path.getsize(os.path.join(directory, "dump.rdb"))
        started = time.perf_counter()
        client.save()
        result["save"] = time.perf_counter() - started
    finally:
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        proc.wait(60)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--mixed", action="store_true", help="lists, hashes, sorted sets and sets too")
    args = parser.parse_args(argv)
    if shutil.which("redis-server") is None:
        print("bench_rdb: redis-server is not installed", file=sys.stderr)
        return 1
    print(f"making an RDB of {args.keys} keys ({'mixed types' if args.mixed else 'DEBUG POPULATE strings'})...")
    source = make_file(args.keys, args.mixed)
    print(f"file: {os.path.getsize(source) / 1e6:.1f} MB")
    redis_result = measure("redis", source)
    ours = measure("specredis", source)
    if ours["digest"] != redis_result["digest"] or ours["keys"] != args.keys:
        print("DATASETS DIFFER after loading", file=sys.stderr)
        return 1
    rows = [("load (logged)", "load_logged"), ("load until PING answers", "load_ready"), ("BGSAVE", "bgsave"),
            ("SAVE", "save")]
    print(f"\n{'':26}{'redis-server':>14}{'specredis':>14}{'ratio':>10}")
    for title, field in rows:
        theirs, mine = redis_result[field], ours[field]
        if theirs is None or mine is None:
            continue
        ratio = mine / theirs if theirs else float("inf")
        print(f"{title:26}{theirs:>13.3f}s{mine:>13.3f}s{ratio:>9.2f}x")
    print(f"{'RDB size written':26}{redis_result['size'] / 1e6:>12.1f}MB{ours['size'] / 1e6:>12.1f}MB")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    sys.exit(main())
