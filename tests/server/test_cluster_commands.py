"""ASKING, READONLY and READWRITE on a standalone server, compared with the reference."""

from __future__ import annotations

import pytest

COMMANDS = [("ASKING",), ("READONLY",), ("READWRITE",), ("asking",), ("ReadOnly",),
            ("ASKING", "x"), ("READONLY", "x", "y"), ("READWRITE", "x")]


@pytest.mark.parametrize("protocol", [2, 3])
def test_cluster_client_commands_answer_as_a_standalone_server(specredis, reference, protocol: int) -> None:
    ours, ref = specredis.client(protocol=protocol), reference.client(protocol=protocol)
    for command in COMMANDS:
        assert ours.call(*command) == ref.call(*command), command
    # Refused, not fatal: the connection goes on.
    assert ours.call("PING") == ref.call("PING")


def test_inside_multi_the_error_comes_from_exec(specredis, reference) -> None:
    replies = []
    for server in (specredis, reference):
        client = server.client()
        replies.append([client.call("MULTI"), client.call("READONLY"), client.call("ASKING"), client.call("EXEC")])
    assert replies[0] == replies[1]


def _counters(info: bytes, names: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(command, calls, failed_calls) of the named commands in INFO commandstats, sorted."""
    found = []
    for line in info.decode().splitlines():
        name, _, fields = line.partition(":")
        if name.removeprefix("cmdstat_") in names:
            values = dict(field.split("=") for field in fields.split(","))
            found.append((name, values["calls"], values["failed_calls"]))
    return sorted(found)


def test_commandstats_and_errorstats_count_the_refusals(specredis, reference) -> None:
    stats = []
    for server in (specredis, reference):
        client = server.client()
        client.call("CONFIG", "RESETSTAT")
        client.call("ASKING")
        client.call("READWRITE")
        client.call("READONLY", "extra")        # an arity error: rejected, not called
        errors = [line for line in client.call("INFO", "errorstats").decode().splitlines()
                  if line.startswith("errorstat")]
        stats.append((_counters(client.call("INFO", "commandstats"), ("asking", "readwrite", "readonly")), errors))
    assert stats[0] == stats[1]
    assert stats[0][0] == [("cmdstat_asking", "1", "1"), ("cmdstat_readonly", "0", "0"),
                           ("cmdstat_readwrite", "1", "1")]
