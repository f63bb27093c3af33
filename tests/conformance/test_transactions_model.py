"""Transactions under concurrency, differentially: three clients per server (two RESP2, one
RESP3) interleave WATCH, MULTI, queued commands, EXEC, DISCARD and UNWATCH with plain
writes, flushes, SWAPDB, SELECT and keys that expire, on specredis and on the reference in
lock step. Every reply must be identical -- EXEC's array, the null array of an aborted
EXEC, EXECABORT after a queueing error, QUEUED, every error text -- and after each example
both datasets must have the same DEBUG DIGEST.

A Hypothesis RuleBasedStateMachine draws the interleavings; each example starts from
FLUSHALL with fresh client state (RESET). CI runs 4 shards x 300 examples; ``--deep``
scales the examples with the other differential tests.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from conformance.conftest import exclusive_use
from conformance.harness import RunSize
from hypothesis import HealthCheck, settings
from hypothesis import seed as use_seed
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from specredis.protocol.client import RespClient

CLIENTS = 3
PROTOCOLS = (2, 2, 3)
KEYS = ("a", "b", "c")
CI_EXAMPLES = 300          # per shard: 4 shards, 1,200 examples
STEPS = 30
# Keys that expire between steps get this TTL (ms), and each step that may set it is followed
# by a pause that outlasts it on both servers (each step reaches the two a fraction of a
# millisecond apart). Not 1 ms: 7.0.15's PEXPIRE computes the deadline from one clock
# reading and checks "already expired" against a second one, so PEXPIRE k 1 deletes k at once
# (still replying 1) whenever a millisecond boundary falls between the two readings -- the
# reference then holds one key less than specredis (DBSIZE, DEBUG DIGEST) until k would have
# been reclaimed anyway. With 2 ms that takes a whole millisecond between two adjacent
# readings of one command.
SHORT_TTL_MS = "2"
EXPIRY_PAUSE_S = 0.005

key = st.sampled_from(KEYS)
value = st.sampled_from(["1", "2", "x", "10", "-3", ""])
client_index = st.integers(0, CLIENTS - 1)

# Commands that may run plainly or be queued: writes of every kind of effect on watched keys
# (including no-op writes, which do not touch WATCH), reads, and runtime errors.
command = st.one_of(
    st.tuples(st.just("SET"), key, value).map(list),
    st.tuples(st.just("SET"), key, value, st.sampled_from(["NX", "XX", "GET", "KEEPTTL"])).map(list),
    st.tuples(st.just("INCR"), key).map(list),
    st.tuples(st.just("INCRBY"), key, st.sampled_from(["0", "5", "x"])).map(list),
    st.tuples(st.just("APPEND"), key, value).map(list),
    st.tuples(st.just("DEL"), key).map(list),
    st.tuples(st.just("UNLINK"), key, key).map(list),
    st.tuples(st.just("GET"), key).map(list),
    st.tuples(st.just("GETSET"), key, value).map(list),
    st.tuples(st.just("GETDEL"), key).map(list),
    st.tuples(st.just("MSET"), key, value, key, value).map(list),
    st.tuples(st.just("MSETNX"), key, value, key, value).map(list),
    st.tuples(st.just("EXISTS"), key, key).map(list),
    st.tuples(st.just("TYPE"), key).map(list),
    st.tuples(st.just("RPUSH"), key, value).map(list),
    st.tuples(st.just("LPOP"), key).map(list),
    st.tuples(st.just("LRANGE"), key, st.just("0"), st.just("-1")).map(list),
    st.tuples(st.just("HSET"), key, st.sampled_from(["f", "g"]), value).map(list),
    st.tuples(st.just("HDEL"), key, st.sampled_from(["f", "zz"])).map(list),
    st.tuples(st.just("HGETALL"), key).map(list),
    st.tuples(st.just("EXPIRE"), key, st.sampled_from(["100", "0", "-1"])).map(list),
    st.tuples(st.just("PERSIST"), key).map(list),
    st.tuples(st.just("RENAME"), key, key).map(list),
    st.tuples(st.just("COPY"), key, key).map(list),
    st.tuples(st.just("MOVE"), key, st.sampled_from(["0", "1"])).map(list),
    st.tuples(st.just("DBSIZE")).map(list),
    st.tuples(st.just("PING")).map(list),
    st.tuples(st.just("ECHO"), value).map(list),
)

# Refused before queueing (EXECABORT later) or at run time only.
bad_command = st.sampled_from([
    ["SET", "a"], ["GET"], ["NOSUCHCOMMAND", "a"], ["HSET", "a", "f"], ["SET", "a", "1", "NX", "XX"],
    ["INCR", "a", "b"], ["EXPIRE", "a", "x"], ["SELECT", "99"], ["WATCH"], ["CLIENT", "NOSUCH"],
])

global_write = st.sampled_from([["FLUSHALL"], ["FLUSHDB"], ["SWAPDB", "0", "1"], ["SELECT", "0"], ["SELECT", "1"],
                                ["FLUSHALL", "ASYNC"], ["SWAPDB", "1", "0"]])


class Endpoints:
    """The connections of one server."""

    def __init__(self, server: Any) -> None:
        self.conns = [RespClient(server.host, server.port, protocol=PROTOCOLS[i]) for i in range(CLIENTS)]
        self.admin = RespClient(server.host, server.port)

    def close(self) -> None:
        for conn in self.conns + [self.admin]:
            conn.close()


def build_machine(reference: Endpoints, ours: Endpoints, finished: list[int]) -> type[RuleBasedStateMachine]:
    """The machine class; ``finished[0]`` counts the examples it completed."""

    class TransactionsMachine(RuleBasedStateMachine):
        """Three clients per server, driven in lock step."""

        @initialize()
        def start(self) -> None:
            self.history: list[tuple[int, list[str]]] = []
            for side in (reference, ours):
                side.admin.call("FLUSHALL")
                for conn in side.conns:
                    conn.call("RESET")
                    if conn.protocol == 3:
                        conn.call("HELLO", "3")

        def send(self, index: int, argv: list[str]) -> Any:
            self.history.append((index, argv))
            expected = reference.conns[index].call(*argv)
            actual = ours.conns[index].call(*argv)
            if actual != expected:
                raise AssertionError(
                    f"client {index} sent {argv}: reference replied {expected!r}, specredis {actual!r}\n"
                    f"steps so far (client, argv): {self.history}")
            return expected

        @rule(index=client_index, keys=st.lists(key, min_size=1, max_size=3))
        def watch(self, index: int, keys: list[str]) -> None:
            self.send(index, ["WATCH", *keys])

        @rule(index=client_index)
        def unwatch(self, index: int) -> None:
            self.send(index, ["UNWATCH"])

        @rule(index=client_index)
        def multi(self, index: int) -> None:
            self.send(index, ["MULTI"])

        @rule(index=client_index)
        def exec(self, index: int) -> None:
            self.send(index, ["EXEC"])
            time.sleep(EXPIRY_PAUSE_S)         # a queued PEXPIRE has run

        @rule(index=client_index)
        def discard(self, index: int) -> None:
            self.send(index, ["DISCARD"])

        @rule(index=client_index, argv=command)
        def run_command(self, index: int, argv: list[str]) -> None:
            self.send(index, argv)

        @rule(index=client_index, argv=command)
        def run_command_again(self, index: int, argv: list[str]) -> None:
            # A second rule for commands: queued commands and interleaved writes dominate.
            self.send(index, argv)

        @rule(index=client_index, argv=bad_command)
        def refused(self, index: int, argv: list[str]) -> None:
            self.send(index, argv)

        @rule(index=client_index, argv=global_write)
        def global_change(self, index: int, argv: list[str]) -> None:
            self.send(index, argv)

        @rule(index=client_index, name=key)
        def expire_now(self, index: int, name: str) -> None:
            # The key expires before the next step: WATCH of an expired key, EXEC after expiry.
            self.send(index, ["PEXPIRE", name, SHORT_TTL_MS])
            time.sleep(EXPIRY_PAUSE_S)

        def teardown(self) -> None:
            finished[0] += 1
            # DEBUG DIGEST counts keys whose time has passed but that no command reclaimed yet.
            # Every TTL here is SHORT_TTL_MS (followed by a pause: expired on both servers before
            # the next step) or 100 s, and active expiry is off, so both servers hold the same
            # unreclaimed keys: compared as they are (the commands reclaimed the same keys),
            # then again once EXISTS has reclaimed every expired key on both.
            expected = [reference.admin.call("DEBUG", "DIGEST")]
            actual = [ours.admin.call("DEBUG", "DIGEST")]
            for side, out in ((reference, expected), (ours, actual)):
                for db in ("1", "0"):
                    side.admin.call("SELECT", db)
                    side.admin.call("EXISTS", *KEYS)
                out.append(side.admin.call("DEBUG", "DIGEST"))
            for side, out in ((reference, expected), (ours, actual)):
                side.admin.call("SELECT", "1")
                out.append(side.admin.call("DBSIZE"))
                side.admin.call("SELECT", "0")
                out.append(side.admin.call("DBSIZE"))
            if actual != expected:
                per_key = [side.admin.call("DEBUG", "DIGEST-VALUE", *KEYS) for side in (reference, ours)]
                raise AssertionError(f"datasets differ (digest, digest once expired keys are reclaimed, dbsize 1, "
                                     f"dbsize 0): reference {expected}, "
                                     f"specredis {actual}; values (a, b, c): {per_key}\n"
                                     f"steps (client, argv): {self.history}")

    return TransactionsMachine


def test_transactions_with_concurrent_clients(conformance_servers: Any, conformance_run: RunSize,
                                              shard: int) -> None:
    """WATCH/MULTI/EXEC/DISCARD/UNWATCH among three clients: identical replies and datasets."""
    examples = CI_EXAMPLES if not conformance_run.deep else conformance_run.examples
    with exclusive_use(conformance_servers.reference):
        reference = Endpoints(conformance_servers.reference)
        ours = Endpoints(conformance_servers.live_specredis())
        try:
            for side in (reference, ours):
                side.admin.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
            finished = [0]
            machine: Any = use_seed(conformance_run.seed(shard))(build_machine(reference, ours, finished))
            run_state_machine_as_test(machine, settings=settings(
                max_examples=examples, stateful_step_count=STEPS, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
            print(f"transactions shard {shard}: seed {conformance_run.seed(shard)}, {finished[0]} examples")
            assert finished[0] >= examples
        finally:
            for side in (reference, ours):
                try:
                    side.admin.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
                    side.admin.call("FLUSHALL")
                finally:
                    side.close()


@pytest.mark.parametrize("steps", [
    # The classic check-and-set: another client's write between WATCH and EXEC aborts it.
    [(0, ["WATCH", "a"]), (1, ["SET", "a", "1"]), (0, ["MULTI"]), (0, ["INCR", "a"]), (0, ["EXEC"])],
    # A queueing error aborts with EXECABORT; a runtime error does not.
    [(0, ["MULTI"]), (0, ["SET", "a"]), (0, ["INCR", "b"]), (0, ["EXEC"]), (0, ["MULTI"]), (0, ["SET", "a", "x"]),
     (0, ["INCR", "a"]), (0, ["EXEC"])],
    # Nested MULTI is an error that does not abort; WATCH inside MULTI too.
    [(0, ["MULTI"]), (0, ["MULTI"]), (0, ["WATCH", "a"]), (0, ["SET", "a", "1"]), (0, ["EXEC"])],
    # A watched key that expires aborts; one already expired when watched does not.
    [(0, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (1, ["PEXPIRE", "a", SHORT_TTL_MS]), (2, ["PING"]), (0, ["MULTI"]),
     (0, ["GET", "a"]), (0, ["EXEC"])],
    # FLUSHDB in another database does not abort; SWAPDB bringing the key in does.
    [(1, ["SELECT", "1"]), (1, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (2, ["SELECT", "1"]), (2, ["FLUSHDB"]),
     (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"]), (0, ["WATCH", "b"]), (1, ["SET", "b", "2"]), (2, ["SWAPDB", "0", "1"]),
     (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
])
def test_known_interleavings(conformance_servers: Any, steps: list) -> None:
    """A few interleavings spelled out, replayed on both servers."""
    with exclusive_use(conformance_servers.reference):
        reference = Endpoints(conformance_servers.reference)
        ours = Endpoints(conformance_servers.live_specredis())
        try:
            for side in (reference, ours):
                side.admin.call("FLUSHALL")
            for index, argv in steps:
                expected = reference.conns[index].call(*argv)
                actual = ours.conns[index].call(*argv)
                assert actual == expected, (index, argv)
                if argv[0] == "PEXPIRE":
                    time.sleep(EXPIRY_PAUSE_S)
        finally:
            for side in (reference, ours):
                side.admin.call("FLUSHALL")
                side.close()


def test_pexpire_uses_one_time_for_the_whole_command() -> None:
    """Found by the model under load: PEXPIRE key 1 computed its deadline at one millisecond
    and checked it at a later one, deleting the key at once (Redis keeps it, with its TTL)."""
    from specredis.engine.core import Engine

    ticks = [1_000_000]

    def clock() -> int:
        ticks[0] += 1           # every reading of the clock is a millisecond later
        return ticks[0]

    engine = Engine(clock=clock)
    client = engine.new_client()
    engine.execute(client, [b"SET", b"k", b"v"])
    assert engine.execute(client, [b"PEXPIRE", b"k", b"1"]) == 1
    assert b"k" in client.db.data and b"k" in client.db.expires
