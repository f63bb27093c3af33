"""Stream scaling benchmark: per-operation cost of XADD and of XRANGE by stream length.

A stream grows to 1,000,000 entries through XADD (one entry per command, automatic
IDs, one field); at 10k, 100k and 1M entries, 20,000 XRANGE calls reading 10 entries
from a random point in the middle (``XRANGE key <id> + COUNT 10``) and then 20,000 more
XADD calls are timed (those count towards the next size). Redis does both in O(log n) (+ the entries returned), so the cost per
operation should stay flat as the stream grows 100-fold; a structure that copied,
sorted or scanned the entries would grow 100-fold instead.

In-process runs also report the memory the stream takes per entry (tracemalloc,
at the largest size): a million entries must fit comfortably.

By default the engine runs in-process (``Engine.execute``: dispatch and command
code, no sockets), which isolates the data structure. ``--server HOST:PORT``
drives a running server over RESP instead, in pipelines of 1,000 commands, and
``--reference`` starts a redis-server to run the same workload on (its numbers
include this Python client's parsing).

    python tools/bench_stream.py [--sizes 10000,100000,1000000] [--ops 20000]
                                 [--server HOST:PORT | --reference] [--memory]

It is a benchmark, not a test: it prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import tracemalloc
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.bench_zset import start_redis_server  # noqa: E402 - after the path setup

Argv = list[bytes]
# run(commands, keep): the replies if ``keep``, else only their lengths (a server does not keep
# its replies either, and a list of 20,000 XRANGE replies would make the garbage collector
# walk the whole heap, stream included, while the timer runs).
Runner = Callable[[list[Argv], bool], list]

KEY = b"bench:stream"
BATCH = 1000


def in_process_runner() -> tuple[Runner, object]:
    """Commands executed by an Engine in this process: (runner, engine)."""
    from specredis.engine.core import Engine

    engine = Engine()
    client = engine.new_client()
    execute = engine.execute

    def run(commands: list[Argv], keep: bool = True) -> list:
        if keep:
            return [execute(client, argv) for argv in commands]
        return [len(execute(client, argv)) for argv in commands]
    return run, engine


def server_runner(address: str) -> Runner:
    """Commands sent to a server in pipelines of BATCH."""
    from specredis.protocol.client import RespClient

    host, _, port = address.rpartition(":")
    conn = RespClient(host or "127.0.0.1", int(port), timeout=600)
    conn.call("DEL", KEY)

    def run(commands: list[Argv], keep: bool = True) -> list:
        replies = []
        for start in range(0, len(commands), BATCH):
            batch = conn.pipeline(commands[start:start + BATCH])
            replies.extend(batch if keep else map(len, batch))
        return replies
    return run


def timed(run: Runner, commands: list[Argv], keep: bool = True) -> tuple[float, list]:
    """(microseconds per command, replies or their lengths)."""
    started = time.perf_counter()
    replies = run(commands, keep)
    return (time.perf_counter() - started) / len(commands) * 1e6, replies


def xadd(i: int) -> Argv:
    return [b"XADD", KEY, b"*", b"reading", b"%d" % (i * 7919 % 100000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="stream lengths to measure at (comma-separated, increasing)")
    parser.add_argument("--ops", type=int, default=20_000, help="XRANGE and XADD calls timed per size")
    parser.add_argument("--server", help="HOST:PORT of a running server (default: in-process engine)")
    parser.add_argument("--reference", action="store_true", help="start a redis-server and measure it")
    parser.add_argument("--memory", action="store_true", help="in-process: measure bytes per entry (slower)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.reference:
        proc, port = start_redis_server()
        try:
            args.server = f"127.0.0.1:{port}"
            measure(args)
        finally:
            proc.terminate()
            proc.wait()
        return
    measure(args)


def measure(args: argparse.Namespace) -> None:
    """Grow the stream through ``args.sizes`` and print the table."""
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(args.seed)
    if args.server:
        run = server_runner(args.server)
    else:
        run, _ = in_process_runner()
    print(f"stream scaling ({'server ' + args.server if args.server else 'in-process engine'}), "
          f"{args.ops} XRANGE (10 entries from the middle) and {args.ops} XADD per size")
    print(f"{'entries':>10} {'fill XADD us/op':>16} {'XRANGE us/op':>13} {'XADD us/op':>11}")
    ids: list[bytes] = []
    results = []
    for size in sizes:
        fill = [xadd(i) for i in range(len(ids), size)]
        fill_us, replies = timed(run, fill) if fill else (float("nan"), [])
        ids.extend(replies)
        # XRANGE from random IDs in the middle half of the stream, 10 entries each.
        ranges = [[b"XRANGE", KEY, ids[rng.randrange(len(ids) // 4, 3 * len(ids) // 4)], b"+", b"COUNT", b"10"]
                  for _ in range(args.ops)]
        xrange_us, lengths = timed(run, ranges, keep=False)
        assert all(length == 10 for length in lengths), "XRANGE did not return 10 entries"
        adds = [xadd(i) for i in range(len(ids), len(ids) + args.ops)]
        xadd_us, replies = timed(run, adds)
        ids.extend(replies)
        results.append((size, xrange_us, xadd_us))
        print(f"{size:>10} {fill_us:>16.2f} {xrange_us:>13.2f} {xadd_us:>11.2f}", flush=True)
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"growth from {first[0]} to {last[0]} entries ({last[0] // first[0]}x): "
              f"XRANGE {last[1] / first[1]:.2f}x, XADD {last[2] / first[2]:.2f}x per operation")
    if args.memory and not args.server:
        measure_memory(sizes[-1])


def measure_memory(entries: int) -> None:
    """Bytes per entry of a stream of ``entries`` XADDs (automatic IDs, one field), in-process.

    The commands are generated and dropped one by one, so what remains allocated is the
    stream (the values it keeps and its nodes)."""
    run, engine = in_process_runner()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    for start in range(0, entries, BATCH):
        run([xadd(i) for i in range(start, min(start + BATCH, entries))], False)
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory: {(after - before) / entries:.1f} bytes per entry for {entries} entries "
          f"(XADD key * reading <5 digits>; the value objects included)")


if __name__ == "__main__":
    main()
