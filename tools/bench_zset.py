"""Sorted-set scaling benchmark: per-operation cost of ZADD, ZRANK and ZRANGEBYSCORE by set size.

A sorted set grows to 1,000,000 members through ZADD (one member per command); at
10k, 100k and 1M members, 100,000 ZRANK calls on random members and 100,000
ZRANGEBYSCORE calls on random narrow score windows (about 10 members each) are
timed. Redis does these in O(log n) (+ the members returned), so the cost per
operation should stay flat as the set grows 100-fold; a structure that sorted or
scanned on every call would grow 100-fold instead.

By default the engine runs in-process (``Engine.execute``: dispatch and command
code, no sockets), which isolates the data structure. ``--server HOST:PORT``
drives a running server over RESP instead, in pipelines of 1,000 commands, and
``--reference`` starts a redis-server to run the same workload on (its numbers
include this Python client's parsing). Neither is perfectly flat: at 1M members
every lookup misses the CPU caches, and redis-server itself slows down by about
the same factor from 10k to 1M members (ZRANK ~4x on the development machine).

    python tools/bench_zset.py [--sizes 10000,100000,1000000] [--ops 100000]
                               [--server HOST:PORT | --reference]

It is a benchmark, not a test: it prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

Argv = list[bytes]
Runner = Callable[[list[Argv]], None]

KEY = b"bench:zset"
BATCH = 1000


def in_process_runner() -> Runner:
    """Commands executed by an Engine in this process."""
    from specredis.engine.core import Engine

    engine = Engine()
    client = engine.new_client()
    execute = engine.execute

    def run(commands: list[Argv]) -> None:
        for argv in commands:
            execute(client, argv)
    return run


def server_runner(address: str) -> Runner:
    """Commands sent to a server in pipelines of BATCH."""
    from specredis.protocol.client import RespClient

    host, _, port = address.rpartition(":")
    conn = RespClient(host or "127.0.0.1", int(port), timeout=600)
    conn.call("DEL", KEY)

    def run(commands: list[Argv]) -> None:
        for start in range(0, len(commands), BATCH):
            conn.pipeline(commands[start:start + BATCH])
    return run


def timed(run: Runner, commands: list[Argv]) -> float:
    """Microseconds per command."""
    started = time.perf_counter()
    run(commands)
    return (time.perf_counter() - started) / len(commands) * 1e6


def member(i: int) -> bytes:
    return b"member:%d" % i


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="set sizes to measure at (comma-separated, increasing)")
    parser.add_argument("--ops", type=int, default=100_000, help="ZRANK and ZRANGEBYSCORE calls per size")
    parser.add_argument("--server", help="HOST:PORT of a running server (default: in-process engine)")
    parser.add_argument("--reference", action="store_true", help="start a redis-server and measure it")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.reference:
        reference = start_redis_server()
        try:
            args.server = f"127.0.0.1:{reference[1]}"
            measure(args)
        finally:
            reference[0].terminate()
            reference[0].wait()
        return
    measure(args)


def start_redis_server() -> tuple[subprocess.Popen, int]:
    """A throwaway redis-server on a free loopback port: (process, port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=tempfile.gettempdir())
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)


def measure(args: argparse.Namespace) -> None:
    """Grow the set through ``args.sizes`` and print the table."""
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(args.seed)
    run = server_runner(args.server) if args.server else in_process_runner()
    # Scores: member i gets score i, so a window [x, x+9] holds 10 members.
    print(f"sorted set scaling ({'server ' + args.server if args.server else 'in-process engine'}), "
          f"{args.ops} ZRANK and {args.ops} ZRANGEBYSCORE per size")
    print(f"{'members':>10} {'ZADD us/op':>11} {'ZRANK us/op':>12} {'ZRANGEBYSCORE us/op':>20}")
    loaded = 0
    results = []
    for size in sizes:
        order = list(range(loaded, size))
        rng.shuffle(order)          # random insertion order, as a real leaderboard fills up
        adds = [[b"ZADD", KEY, b"%d" % i, member(i)] for i in order]
        zadd_us = timed(run, adds) if adds else float("nan")
        loaded = size
        ranks = [[b"ZRANK", KEY, member(rng.randrange(size))] for _ in range(args.ops)]
        ranges = []
        for _ in range(args.ops):
            low = rng.randrange(size)
            ranges.append([b"ZRANGEBYSCORE", KEY, b"%d" % low, b"%d" % (low + 9)])
        zrank_us = timed(run, ranks)
        zrange_us = timed(run, ranges)
        results.append((size, zadd_us, zrank_us, zrange_us))
        print(f"{size:>10} {zadd_us:>11.2f} {zrank_us:>12.2f} {zrange_us:>20.2f}", flush=True)
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"growth from {first[0]} to {last[0]} members ({last[0] // first[0]}x): "
              f"ZRANK {last[2] / first[2]:.2f}x, ZRANGEBYSCORE {last[3] / first[3]:.2f}x per operation")


if __name__ == "__main__":
    main()
