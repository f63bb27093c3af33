"""Profile the request hot path in-process: bytes in → parser → engine → encoder → bytes out.

Feeds the exact requests ``redis-benchmark -P 16`` sends for each test through a
real :class:`specredis.server.Connection` (a fake transport stands in for the
socket, so everything but the event loop and the system calls is measured), 16
requests per read as a pipelining client delivers them, and prints the CPU time
per command. The numbers are CPU time of this process (``time.process_time_ns``):
on a shared, loaded machine they vary far less than wall-clock rates.

    python tools/profile_hot_path.py                       # every test, ns/command
    python tools/profile_hot_path.py --tests set,get -n 200000
    python tools/profile_hot_path.py --tests set --cprofile   # where the time goes
    python tools/profile_hot_path.py --stages               # parse / execute / encode split

For repeatable instruction counts whatever the load, run it under callgrind:
``valgrind --tool=callgrind --callgrind-out-file=/dev/null python tools/profile_hot_path.py -n 20000``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from specredis.engine.core import Engine  # noqa: E402
from specredis.protocol.encoder import encode_into  # noqa: E402
from specredis.protocol.parser import RequestParser  # noqa: E402
from specredis.server import Connection  # noqa: E402


def _resp(*args: bytes) -> bytes:
    return b"".join([b"*%d\r\n" % len(args), *(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)])


def _value() -> bytes:
    # redis-benchmark's -d 3 value: three random capital letters.
    return bytes(random.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3))


# redis-benchmark test -> (setup requests, the request it repeats). Keys without -r keep the
# literal placeholder, as redis-benchmark sends them.
TESTS: dict[str, tuple[list[bytes], bytes]] = {
    "ping_inline": ([], b"PING\r\n"),
    "ping_mbulk": ([], _resp(b"PING")),
    "set": ([], _resp(b"SET", b"key:__rand_int__", _value())),
    "get": ([_resp(b"SET", b"key:__rand_int__", _value())], _resp(b"GET", b"key:__rand_int__")),
    "incr": ([], _resp(b"INCR", b"counter:__rand_int__")),
    "lpush": ([], _resp(b"LPUSH", b"mylist", _value())),
    "rpush": ([], _resp(b"RPUSH", b"mylist", _value())),
    "lpop": ([_resp(b"LPUSH", b"mylist", _value())] * 100_000, _resp(b"LPOP", b"mylist")),
    "rpop": ([_resp(b"LPUSH", b"mylist", _value())] * 100_000, _resp(b"RPOP", b"mylist")),
    "sadd": ([], _resp(b"SADD", b"myset", b"element:__rand_int__")),
    "hset": ([], _resp(b"HSET", b"myhash", b"element:__rand_int__", _value())),
    "spop": ([_resp(b"SADD", b"myset", b"element:__rand_int__")], _resp(b"SPOP", b"myset")),
    "lrange_100": ([_resp(b"LPUSH", b"mylist", _value())] * 600, _resp(b"LRANGE", b"mylist", b"0", b"99")),
    "mset": ([], _resp(b"MSET", *[part for _ in range(10) for part in (b"key:__rand_int__", _value())])),
    # Not redis-benchmark tests: PUBLISH as `redis-benchmark ... PUBLISH ch msg` sends it.
    "publish": ([], _resp(b"PUBLISH", b"ch", b"msg")),
}
DEFAULT = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,lrange_100,mset,ping_inline,ping_mbulk"


class FakeTransport:
    """What Connection needs of an asyncio transport; counts the bytes written."""

    def __init__(self) -> None:
        self.written = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 6379)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class _FakeServer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine


def new_connection(engine: Engine) -> tuple[Connection, FakeTransport]:
    """A server Connection on a fake transport, registered with ``engine``."""
    connection = Connection(_FakeServer(engine))   # type: ignore[arg-type]
    transport = FakeTransport()
    connection.connection_made(transport)
    return connection, transport


def run_test(test: str, requests: int, pipeline: int, profile: cProfile.Profile | None = None) -> float:
    """CPU nanoseconds per command for ``requests`` commands of ``test``."""
    setup, request = TESTS[test]
    engine = Engine()
    connection, transport = new_connection(engine)
    for i in range(0, len(setup), 1000):
        connection.data_received(b"".join(setup[i:i + 1000]))
    chunk = request * pipeline
    reads = max(1, requests // pipeline)
    receive = connection.data_received
    if profile is not None:
        profile.enable()
    start = time.process_time_ns()
    for _ in range(reads):
        receive(chunk)
    elapsed = time.process_time_ns() - start
    if profile is not None:
        profile.disable()
    assert not transport.closed, f"{test}: the connection was closed"
    return elapsed / (reads * pipeline)


def run_stages(test: str, requests: int, pipeline: int) -> tuple[float, float, float]:
    """ns/command of parsing, executing and encoding alone (the stages the server chains)."""
    setup, request = TESTS[test]
    engine = Engine()
    client = engine.new_client()
    parser = RequestParser()
    for raw in setup:
        parser.feed(raw)
        for argv in parser.drain():
            engine.execute(client, argv)
    chunk = request * pipeline
    reads = max(1, requests // pipeline)
    n = reads * pipeline
    start = time.process_time_ns()
    for _ in range(reads):
        parser.feed(chunk)
        parser.drain()
    parse_ns = (time.process_time_ns() - start) / n
    parser.feed(chunk)
    batch = parser.drain()
    execute = engine.execute
    replies: list = []
    start = time.process_time_ns()
    for _ in range(reads):
        replies = [execute(client, argv) for argv in batch]
    execute_ns = (time.process_time_ns() - start) / n
    start = time.process_time_ns()
    for _ in range(reads):
        out: list[bytes] = []
        for reply in replies:
            encode_into(out, reply, 2)
        b"".join(out)
    encode_ns = (time.process_time_ns() - start) / n
    return parse_ns, execute_ns, encode_ns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", default=DEFAULT, help="comma-separated redis-benchmark tests")
    parser.add_argument("-n", "--requests", type=int, default=100_000, help="commands per test")
    parser.add_argument("-P", "--pipeline", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3, help="keep the best of this many runs")
    parser.add_argument("--cprofile", action="store_true", help="print a cProfile of the runs")
    parser.add_argument("--stages", action="store_true", help="also time parse / execute / encode alone")
    args = parser.parse_args(argv)
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    unknown = [t for t in tests if t not in TESTS]
    if unknown:
        print(f"unknown tests: {', '.join(unknown)}", file=sys.stderr)
        return 2
    profile = cProfile.Profile() if args.cprofile else None
    header = f"{'test':<14}{'ns/cmd':>9}"
    if args.stages:
        header += f"{'parse':>9}{'execute':>9}{'encode':>9}"
    print(header)
    total = []
    for test in tests:
        best = min(run_test(test, args.requests, args.pipeline, profile) for _ in range(args.repeat))
        total.append(best)
        line = f"{test:<14}{best:>9.0f}"
        if args.stages:
            stages = [min(s) for s in zip(*(run_stages(test, args.requests, args.pipeline)
                                            for _ in range(args.repeat)), strict=True)]
            line += "".join(f"{s:>9.0f}" for s in stages)
        print(line)
    if total:
        print(f"{'mean':<14}{sum(total) / len(total):>9.0f}")
    if profile is not None:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
