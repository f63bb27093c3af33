"""RDB files move between specredis and redis-server 7.0.15 in both directions.

Each test fills one server with the dataset of every type and encoding, SAVEs, and
starts the other server on that file: DEBUG DIGEST must be equal, and OBJECT
ENCODING equal for every key between the two servers that loaded the same file.
redis-check-rdb must accept the files specredis writes.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from rdb_dataset import digest, encodings, populate
from servers import start_reference, start_specredis


def _stop(*servers) -> None:
    for server in servers:
        server.stop()


def test_specredis_rdb_loads_in_redis_with_the_same_content_and_encodings() -> None:
    ours = start_specredis("--save", "", "--enable-debug-command", "yes")
    try:
        client = ours.redis()
        populate(client)
        expected = digest(client)
        assert client.save()
    finally:
        _stop(ours)
    path = os.path.join(ours.dir, "dump.rdb")
    check = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "RDB looks OK" in check.stdout
    reference = start_reference("--dir", ours.dir, "--dbfilename", "dump.rdb", "--enable-debug-command", "yes")
    again = start_specredis("--save", "", "--enable-debug-command", "yes", directory=ours.dir)
    try:
        assert digest(reference.redis()) == expected
        assert digest(again.redis()) == expected
        assert encodings(reference.redis()) == encodings(again.redis())
    finally:
        _stop(reference, again)


def test_redis_rdb_loads_in_specredis_with_the_same_content_and_encodings() -> None:
    reference = start_reference("--enable-debug-command", "yes")
    try:
        client = reference.redis()
        populate(client, seed=5)
        expected = digest(client)
        # What a load gives (APPENDed strings come back as embstr...): Redis reloading its own file.
        assert client.execute_command("DEBUG", "RELOAD")
        expected_encodings = encodings(client)
    finally:
        _stop(reference)
    ours = start_specredis("--save", "", "--enable-debug-command", "yes", directory=reference.dir)
    try:
        client = ours.redis()
        assert digest(client) == expected
        assert encodings(client) == expected_encodings
        # What was loaded is written back in a form Redis reads identically.
        assert client.save()
    finally:
        _stop(ours)
    again = start_reference("--dir", reference.dir, "--enable-debug-command", "yes")
    try:
        assert digest(again.redis()) == expected
        assert encodings(again.redis()) == expected_encodings
    finally:
        _stop(again)


@pytest.mark.parametrize("options", [("--rdbcompression", "no"), ("--rdbchecksum", "no"),
                                     ("--list-max-listpack-size", "5"), ("--list-max-listpack-size", "-5")])
def test_save_options_produce_files_redis_reads(options: tuple[str, str]) -> None:
    ours = start_specredis("--save", "", "--enable-debug-command", "yes", *options)
    try:
        client = ours.redis()
        populate(client, seed=3)
        expected = digest(client)
        assert client.save()
    finally:
        _stop(ours)
    path = os.path.join(ours.dir, "dump.rdb")
    with open(path, "rb") as handle:
        data = handle.read()
    if options == ("--rdbchecksum", "no"):
        assert data[-8:] == bytes(8)
    if options == ("--rdbcompression", "no"):
        assert b"abcdefgh" * 40 in data          # the compressible string is stored as is
    check = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    reference = start_reference("--dir", ours.dir, "--enable-debug-command", "yes", *options)
    try:
        assert digest(reference.redis()) == expected
        if options[0] == "--list-max-listpack-size":
            # The nodes are cut as Redis cuts them: DEBUG OBJECT's node count matches a list Redis
            # built itself with the same setting.
            ql_nodes = reference.redis().execute_command("DEBUG", "OBJECT", "db0:list:long").split()[-5]
            reference.redis().delete("copy")
            reference.redis().rpush("copy", *[f"element-{i}" for i in range(2000)])
            assert reference.redis().execute_command("DEBUG", "OBJECT", "copy").split()[-5] == ql_nodes
    finally:
        _stop(reference)


def test_function_libraries_travel_in_the_rdb() -> None:
    code = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)"
    ours = start_specredis("--save", "", "--enable-debug-command", "yes")
    try:
        client = ours.redis()
        client.function_load(code)
        client.set("k", "v")
        assert client.save()
    finally:
        _stop(ours)
    reference = start_reference("--dir", ours.dir, "--enable-debug-command", "yes")
    try:
        client = reference.redis()
        assert client.fcall("myfunc", 0, "hello") == b"hello"
        client.function_delete("mylib")
        client.function_load(code.replace("mylib", "theirlib").replace("myfunc", "theirfunc"))
        assert client.save()            # into ours.dir, the reference's --dir
    finally:
        _stop(reference)
    again = start_specredis("--save", "", directory=ours.dir)
    try:
        assert again.redis().fcall("theirfunc", 0, "x") == b"x"
        assert again.redis().get("k") == b"v"
    finally:
        _stop(again)
