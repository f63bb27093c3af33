"""Parser and encoder micro-benchmarks: ``SPECREDIS_BENCH=1 pytest tests/protocol/test_resp_bench.py -s``.

Prints microseconds per command for our parser and for hiredis on the same
input -- hiredis both raw (what it costs, unsafe: it allocates on ``*N`` and
accepts non-bulk elements) and with the checks that would make it safe here (a
scan for large aggregate counts before feeding, then re-encoding each request
with ``hiredis.pack_command`` and comparing with the input). Skipped otherwise:
timings on a shared machine are not assertions.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

import pytest

from specredis.protocol.encoder import encode_into
from specredis.protocol.parser import RequestParser
from specredis.protocol.replies import OK, Map

pytestmark = pytest.mark.skipif(not os.environ.get("SPECREDIS_BENCH"), reason="set SPECREDIS_BENCH=1 to run")


def frames(template: bytes, count: int = 16) -> bytes:
    return b"".join(template % i for i in range(count))


SET = b"*3\r\n$3\r\nSET\r\n$10\r\nkey:%06d\r\n$3\r\nxxx\r\n"
GET = b"*2\r\n$3\r\nGET\r\n$10\r\nkey:%06d\r\n"
INPUTS = {
    "16 x SET key:000123 xxx": (frames(SET), 16),
    "16 x GET": (frames(GET), 16),
    "16 x SET/GET alternating": (b"".join((SET if i % 2 else GET) % i for i in range(16)), 16),
    "1 x SET": (SET % 1, 1),
    "1600 x SET": (frames(SET, 1600), 1600),
    "16 x SET 1KB value": (b"".join(b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$1024\r\n%s\r\n" % (b"v" * 1024)
                                    for _ in range(16)), 16),
    "16 x SET 20KB value": (b"".join(b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$20000\r\n%s\r\n" % (b"v" * 20000)
                                     for _ in range(16)), 16),
    "MSET 100 pairs": (b"*201\r\n$4\r\nMSET\r\n" + frames(b"$10\r\nkey:%06d\r\n$3\r\nxxx\r\n", 100), 1),
    "16 x inline SET": (frames(b"SET key:%06d xxx\r\n"), 16),
}


def best_of(run: Callable[[int], None], loops: int, repeat: int = 7) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run(loops)
        best = min(best, time.perf_counter() - start)
    return best / loops


def ours(data: bytes, count: int) -> Callable[[int], None]:
    parser = RequestParser()

    def run(loops: int) -> None:
        for _ in range(loops):
            parser.feed(data)
            assert len(parser.drain()) == count
    return run


def hiredis_raw(data: bytes, count: int) -> Callable[[int], None]:
    import hiredis
    reader = hiredis.Reader()

    def run(loops: int) -> None:
        for _ in range(loops):
            reader.feed(data)
            assert len(list(iter(reader.gets, False))) == count
    return run


_BIG_AGGREGATE = re.compile(rb"[*%~>|]-?\d{5}")


def hiredis_checked(data: bytes, count: int) -> Callable[[int], None]:
    import hiredis
    pack = hiredis.pack_command

    def run(loops: int) -> None:
        for _ in range(loops):
            assert not _BIG_AGGREGATE.search(data)
            reader = hiredis.Reader()
            reader.feed(data)
            requests = list(iter(reader.gets, False))
            assert data.startswith(b"".join(map(pack, map(tuple, requests))))
            assert len(requests) == count
    return run


def test_parser_benchmark() -> None:
    print()
    for name, (data, count) in INPUTS.items():
        loops = max(20, 200000 // (len(data) // 40 + 1) // 10)
        row = [f"{name:28s} ours {best_of(ours(data, count), loops) / count * 1e6:7.3f} us/cmd"]
        if not name.endswith("inline SET"):
            try:
                raw = best_of(hiredis_raw(data, count), loops) / count * 1e6
                checked = best_of(hiredis_checked(data, count), loops) / count * 1e6
                row.append(f"hiredis raw {raw:7.3f}  hiredis checked {checked:7.3f}")
            except ImportError:
                pass
        print("   ".join(row))


def test_encoder_benchmark() -> None:
    replies = {
        "+OK": OK,
        "bulk 3B": b"xxx",
        "integer 42": 42,
        "integer 123456": 123456,
        "null": None,
        "array of 10 bulks": [b"value-%d" % i for i in range(10)],
        "map of 10 pairs": Map([(b"field-%d" % i, b"value-%d" % i) for i in range(10)]),
    }
    print()
    for name, reply in replies.items():
        for protocol in (2, 3):
            def run(loops: int, reply: object = reply, protocol: int = protocol) -> None:
                for _ in range(loops):
                    out: list[bytes] = []
                    for _ in range(16):
                        encode_into(out, reply, protocol)
                    b"".join(out)
            print(f"{name:20s} RESP{protocol} {best_of(run, 5000) / 16 * 1e6:7.3f} us/reply (16 per join)")
