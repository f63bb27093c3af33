"""The comparison machinery of the differential tests: specredis against the reference Redis.

A :class:`ServerPair` holds, for each of the two servers, one RESP2 and one RESP3
connection for the commands under test plus an "admin" connection for the
harness's own commands (FLUSHALL, DEBUG DIGEST, the dataset dump). Every step
sends the same argv to both servers on the same protocol and compares the typed
replies (:mod:`specredis.protocol.client` keeps maps, sets, doubles, statuses and
errors distinct) after the normalisation the spec asks for:

* errors are always compared exactly, code and text;
* RESP3 sets are unordered by definition: compared as multisets, always;
* ``nondeterministic_output_order`` (tip) or ``conformance.normalize: sorted``:
  the top-level array compared as a multiset;
* ``nondeterministic_output`` or ``conformance.normalize: shape-only``: compared
  by shape (:func:`same_shape`);
* the replies that count time (:data:`TIME_TOLERANCE`: TTL, PTTL, EXPIRETIME,
  PEXPIRETIME) compared exactly when negative (-1 no TTL, -2 no key) and within a
  tolerance otherwise: the two servers run each command a fraction of a
  millisecond apart, so a TTL set relative to "now" lands on slightly different
  absolute times. This is the only tolerance; the strategies keep every other
  time-dependent outcome exact (see :mod:`strategies`);
* SORT/SORT_RO: exact, but ``BY nosort`` on a set is unordered (hash order), and
  members of a set that tie on their sort weight may come in either order;
* everything else byte-exact.

A few commands change the datasets at random (SPOP; SCAN and RANDOMKEY, which
delete the expired keys they happen to visit): :data:`RESYNC` checks what can be
checked after each and makes the datasets equal again. Active expiry is off on
both servers (``DEBUG SET-ACTIVE-EXPIRE 0``), so a key whose time has passed
disappears only when a command touches it, identically on both.

After each example the datasets must be equal: ``DEBUG DIGEST`` on both servers
(it covers every database, every value and whether each key has a TTL), plus the
expiry times of every key, compared within the tolerance above. When specredis
does not serve ``DEBUG DIGEST`` (or the digests differ, to say *what* differs),
a full dump of every database is compared instead: KEYS/TYPE and a per-type read.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance.strategies import KEYS, is_skipped

from specredis.protocol.client import (
    ConnectionClosed,
    RespClient,
    RespError,
    RMap,
    RSet,
    Status,
)

Argv = list[bytes]
Step = tuple[int, Argv]

#: Commands the machines never send, with the reason.
DENY: dict[str, str] = {
    "debug": "the oracle itself; its subcommands reach into internals (SLEEP, RELOAD, SEGFAULT, SET-ACTIVE-EXPIRE)",
    "shutdown": "stops the server",
    "monitor": "turns the connection into a feed",
    "migrate": "talks to a third server over the network; its reply depends on that server",
    "wait": "waits for replicas: WAIT 1 0 blocks forever on a server without replicas",
    "waitaof": "waits for fsync (7.2); blocks",
    "quit": "closes the connection",
    "reset": "resets the connection's protocol and database behind the machine's back",
    "hello": "switches the connection's protocol, which the machine owns",
    "auth": "authentication state is tested separately",
    "client|kill": "closes connections, possibly the machine's own",
    "client|pause": "stalls every other connection, including the other protocol's",
    "client|reply": "OFF and SKIP suppress the replies the machine waits for",
    "client|unblock": "concerns blocked clients, which the machines do not have",
    "sync": "the replication handshake",
    "psync": "the replication handshake",
    "replconf": "the replication handshake",
    "replicaof": "changes the replication role",
    "slaveof": "changes the replication role",
    "failover": "changes the replication role",
    "save": "disk I/O; slow",
    "bgsave": "disk I/O; its reply depends on timing",
    "bgrewriteaof": "disk I/O; its reply depends on timing",
    "config|set": "changes global behaviour; configuration has its own tests",
    "config|rewrite": "writes the config file",
    "config|resetstat": "resets counters the harness does not compare",
    "module|load": "loads native code",
    "module|loadex": "loads native code",
    "module|unload": "native modules",
    "lolwut": "ASCII art with a random component",
    "multi": "transactions need their own machine (queued replies, EXEC)",
    "exec": "transactions need their own machine",
    "discard": "transactions need their own machine",
    "watch": "transactions need their own machine",
    "unwatch": "transactions need their own machine",
    "script|kill": "there is never a script to kill",
    "function|kill": "there is never a function to kill",
    "acl|load": "reads an ACL file",
    "acl|save": "writes an ACL file",
}

#: Commands kept out of the machines while a known difference is open. Each names the
#: strict-xfail case of test_regressions.py that tracks it: when the fix lands, that case
#: fails ("XPASS(strict)"), and both its marker and the entry here go.
QUARANTINE: dict[str, str] = {}

#: Command flags that keep a command out of the machines: blocking commands may wait forever,
#: pub/sub commands turn a RESP2 connection into a subscriber.
DENY_FLAGS: dict[str, str] = {
    "blocking": "may block the connection",
    "pubsub": "subscribing changes what the connection may send and receive",
}

#: Commands that count keys whose time has passed but which no command has touched yet:
#: exact only while active expiry is off on both servers (ServerPair._disable_active_expiry).
ACTIVE_EXPIRY_SENSITIVE: dict[str, str] = {
    "dbsize": "counts expired keys active expiry has not reaped yet, which differs by timing",
}

#: Replies that count time, compared exactly when negative and within this many units
#: (seconds for TTL/EXPIRETIME, milliseconds for PTTL/PEXPIRETIME) otherwise -- or more on a
#: loaded machine, see :func:`time_tolerance`.
TIME_TOLERANCE: dict[str, int] = {"ttl": 1, "expiretime": 1, "pttl": 500, "pexpiretime": 500}


def time_tolerance(fullname: str, slowest_exchange_ms: float = 0.0) -> int:
    """How far apart the two servers' answers of ``fullname`` may be, given the slowest
    exchange of this example (the time from sending a command to both servers to having
    both replies).

    A TTL set relative to "now" lands on each server's own "now", and the two executions of
    one command lie within one exchange; a TTL read adds another exchange. So the deadlines
    differ by at most one exchange and PTTL/TTL readings by at most two -- milliseconds on
    an idle machine, where :data:`TIME_TOLERANCE` applies, but a loaded machine can hold
    one server back for longer, and then the bound is what was measured."""
    base = TIME_TOLERANCE[fullname]
    spread_ms = slowest_exchange_ms * (1 if fullname in ("expiretime", "pexpiretime") else 2)
    if fullname in ("ttl", "expiretime"):
        return max(base, math.ceil(spread_ms / 1000) + 1)        # + 1: rounding to seconds
    return max(base, math.ceil(spread_ms) + 1)

#: Commands per example at most (Hypothesis draws shorter ones too).
STEPS_PER_EXAMPLE = 25

#: How many databases the dataset check walks (both servers run with the default 16).
DATABASES = 16


class ServerDied(BaseException):  # noqa: N818 - named for what happened
    """A server closed the connection or stopped answering.

    A BaseException, not an Exception, so Hypothesis does not try to shrink it: once a
    server is gone every later example would fail the same way, and the example that
    killed it (in the message) is what matters.
    """


class Mismatch(AssertionError):
    """specredis answered differently from the reference."""


@dataclass(frozen=True)
class RunSize:
    """How much a differential test runs: shards x examples, steps per example, seeds."""

    deep: bool
    shards: int
    examples: int
    steps: int
    base_seed: int
    seed_was_chosen: bool

    def seed(self, shard: int) -> int:
        """Shard ``shard``'s Hypothesis seed."""
        return self.base_seed + shard


@dataclass(frozen=True)
class Family:
    """A set of commands one differential machine draws from.

    ``groups`` are COMMAND DOCS groups (``generic``, ``string``, ``list``...); ``extra``
    adds single commands by fullname from other groups (``select``, ``swapdb``). Only the
    commands specredis serves are drawn, so a family grows as commands are implemented.
    """

    name: str
    groups: tuple[str, ...]
    extra: tuple[str, ...] = ()
    #: The share of the run size (examples per shard) this family gets, to fit CI's budget.
    share: float = 1.0


# -- choosing commands -------------------------------------------------------------------


def exclusion_reason(fullname: str, spec: dict[str, Any]) -> str | None:
    """Why a command stays out of the machines, or None when it may be drawn."""
    if fullname in DENY:
        return DENY[fullname]
    if fullname in QUARANTINE:
        return f"a known difference, see test_regressions.py::{QUARANTINE[fullname]}"
    never_blocks = (spec.get("conformance") or {}).get("never_blocks")
    for flag in (spec.get("info") or {}).get("flags") or ():
        if flag in DENY_FLAGS and not (flag == "blocking" and never_blocks):
            return DENY_FLAGS[flag]
    if is_skipped(spec):
        return "conformance: skip in its spec"
    return None


def family_commands(family: Family, specs: dict[str, dict[str, Any]], served: Iterable[str],
                    active_expire_off: bool = True) -> list[str]:
    """The fullnames of ``family`` that specredis serves and the machines may send, sorted
    (without :data:`ACTIVE_EXPIRY_SENSITIVE` when active expiry could not be turned off)."""
    served = set(served)
    chosen = []
    for fullname, spec in specs.items():
        group = (spec.get("docs") or {}).get("group")
        if group not in family.groups and fullname not in family.extra:
            continue
        if fullname not in served or exclusion_reason(fullname, spec) is not None:
            continue
        if fullname in RESYNC and not set(RESYNC[fullname][1]) <= served:
            continue            # its random effect could not be evened out
        if fullname in ACTIVE_EXPIRY_SENSITIVE and not active_expire_off:
            continue
        chosen.append(fullname)
    return sorted(chosen)


# -- normalisation and comparison ----------------------------------------------------------


def _sort_key(value: Any) -> str:
    return repr(value)


def canonical(reply: Any) -> Any:
    """``reply`` with every RESP3 set (and map inside one) in a canonical order."""
    if isinstance(reply, list):
        return [canonical(item) for item in reply]
    if isinstance(reply, RSet):
        return RSet(tuple(sorted((canonical(item) for item in reply.items), key=_sort_key)))
    if isinstance(reply, RMap):
        return RMap(tuple((k, canonical(v)) for k, v in reply.pairs))
    if isinstance(reply, tuple):
        return tuple(canonical(item) for item in reply)
    return reply


def unordered(reply: Any) -> Any:
    """The top-level collection of ``reply`` as a multiset (sorted), for unordered commands."""
    reply = canonical(reply)
    if isinstance(reply, list):
        return sorted(reply, key=_sort_key)
    if isinstance(reply, RMap):
        return RMap(tuple(sorted(reply.pairs, key=_sort_key)))
    return reply


def same_shape(a: Any, b: Any) -> bool:
    """Whether two replies have the same type structure (values ignored, errors exact).

    Arrays of different lengths match when all their elements share one shape, and an
    empty array matches any array: a SCAN page may hold any number of keys."""
    if isinstance(a, RespError) or isinstance(b, RespError):
        return a == b
    if isinstance(a, list | RSet) and isinstance(b, list | RSet):
        if type(a) is not type(b):
            return False
        items_a = list(a.items) if isinstance(a, RSet) else a
        items_b = list(b.items) if isinstance(b, RSet) else b
        if not items_a or not items_b:
            return True
        if len(items_a) == len(items_b) and isinstance(a, list):
            return all(same_shape(x, y) for x, y in zip(items_a, items_b, strict=True))
        first = items_a[0]
        return all(same_shape(first, item) for item in items_a[1:] + items_b)
    if isinstance(a, RMap) and isinstance(b, RMap):
        if a.keys() == b.keys():
            return all(same_shape(a.get(k), b.get(k)) for k in a.keys())
        return True
    return type(a) is type(b)


def sort_mode(argv: Argv) -> str | None:
    """SORT/SORT_RO ``BY nosort`` (or a BY pattern without ``*``, which means the same)
    returns a set's members in hash-table order, which differs between any two servers:
    compared unordered, or by shape when LIMIT picks a slice. Otherwise ``sort``: exact,
    except that equal-weight members of a *set* may come in either order (see
    :meth:`ServerPair.step`)."""
    words = [arg.upper() for arg in argv]
    for i, word in enumerate(words[:-1]):
        if word == b"BY" and b"*" not in words[i + 1]:
            return "shape" if b"LIMIT" in words else "unordered"
    return "sort"


#: Comparison modes that depend on the arguments, not only on the command.
ARGV_MODES: dict[str, Any] = {"sort": sort_mode, "sort_ro": sort_mode}


def comparison_mode(fullname: str, spec: dict[str, Any] | None, argv: Argv | None = None) -> str:
    """``time``, ``shape``, ``unordered`` or ``exact``, from the tables above and the spec."""
    if fullname in TIME_TOLERANCE:
        return "time"
    if argv is not None and fullname in ARGV_MODES:
        mode = ARGV_MODES[fullname](argv)
        if mode is not None:
            return mode
    if spec is None:
        return "exact"
    normalize = (spec.get("conformance") or {}).get("normalize", "auto")
    if normalize == "shape-only":
        return "shape"
    if normalize == "sorted":
        return "unordered"
    if (spec.get("conformance") or {}).get("compare") == "exact":
        return "exact"      # the spec's strategy keeps the nondeterminism of the tip out
    tips = (spec.get("info") or {}).get("tips") or ()
    if "nondeterministic_output" in tips:
        return "shape"
    if "nondeterministic_output_order" in tips:
        return "unordered"
    return "exact"


def replies_differ(mode: str, fullname: str, expected: Any, actual: Any, slowest_exchange_ms: float = 0.0) -> bool:
    """Whether ``actual`` (specredis) fails to match ``expected`` (the reference) under ``mode``
    (``slowest_exchange_ms``: see :func:`time_tolerance`)."""
    if mode == "time":
        if isinstance(expected, int) and isinstance(actual, int) and not isinstance(expected, bool) \
                and expected >= 0 and actual >= 0:
            return abs(expected - actual) > time_tolerance(fullname, slowest_exchange_ms)
        return expected != actual
    if mode == "shape":
        return not same_shape(expected, actual)
    if mode == "unordered":
        return unordered(expected) != unordered(actual)
    return canonical(expected) != canonical(actual)


def tie_order_only(expected: Any, actual: Any) -> bool:
    """Whether two SORT replies hold the same elements, differing only in order."""
    return isinstance(expected, list) and isinstance(actual, list) and unordered(expected) == unordered(actual)


def show(reply: Any, limit: int = 600) -> str:
    """A reply as text for failure messages (long values cut)."""
    text = repr(reply)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def format_steps(steps: Iterable[Step]) -> str:
    """Steps as a Python literal, ready to paste into ``test_regressions.py``."""
    lines = ["["]
    for protocol, argv in steps:
        lines.append(f"    ({protocol}, {argv!r}),")
    lines.append("]")
    return "\n".join(lines)


# -- the two servers -------------------------------------------------------------------------


@dataclass
class Endpoint:
    """One server's connections: the protocol-2 and -3 connections under test, and admin."""

    name: str
    host: str
    port: int
    timeout: float
    conns: dict[int, RespClient] = field(default_factory=dict)
    admin: RespClient | None = None

    def connect(self, protocols: tuple[int, ...] = (2, 3)) -> None:
        self.close()
        self.admin = RespClient(self.host, self.port, timeout=self.timeout, protocol=2)
        for protocol in protocols:
            conn = RespClient(self.host, self.port, timeout=self.timeout, protocol=protocol)
            if conn.protocol != protocol:
                raise RuntimeError(f"{self.name} on port {self.port} refused HELLO {protocol}")
            self.conns[protocol] = conn

    def close(self) -> None:
        for conn in [*self.conns.values(), self.admin]:
            if conn is not None:
                conn.close()
        self.conns = {}
        self.admin = None


class ServerPair:
    """The reference and specredis, driven in lock step."""

    def __init__(self, reference: Any, specredis: Any, specs: dict[str, dict[str, Any]],
                 timeout: float = 10.0) -> None:
        self.specs = specs
        self.reference = Endpoint("reference", reference.host, reference.port, timeout)
        self.specredis = Endpoint("specredis", specredis.host, specredis.port, timeout)
        self.endpoints = (self.reference, self.specredis)
        self.specredis.connect(protocols=())
        self.served = self._served_commands()
        #: The protocols the machines use: RESP3 needs HELLO, which an early specredis may
        #: not serve yet; the tests then run RESP2 only and say so (see run_family).
        self.protocols: tuple[int, ...] = (2, 3) if self.serves("hello") else (2,)
        for endpoint in self.endpoints:
            endpoint.connect(self.protocols)
        self.selected_other_db = False
        #: The slowest exchange of a command under test since the last reset (ms): bounds how
        #: far apart the two servers ran any one command (see time_tolerance).
        self.slowest_exchange_ms = 0.0
        self.active_expire_off = self._disable_active_expiry()

    # -- plumbing ----------------------------------------------------------------

    def _died(self, endpoint: Endpoint, exc: BaseException, argv: Argv | None) -> ServerDied:
        what = f" after {argv!r}" if argv is not None else ""
        return ServerDied(f"{endpoint.name} (port {endpoint.port}) stopped answering{what}: {exc!r}")

    def _exchange(self, conns: tuple[RespClient, RespClient], commands: list[Argv]) -> tuple[list, list]:
        """Send ``commands`` to both servers (pipelined), then read both: the servers work
        concurrently, which keeps the time between their executions of a command short."""
        sent = []
        for endpoint, conn in zip(self.endpoints, conns, strict=True):
            try:
                conn.send_raw(b"".join(_encode(argv) for argv in commands))
            except OSError as exc:
                raise self._died(endpoint, exc, commands[-1]) from exc
            sent.append((endpoint, conn))
        replies = []
        for endpoint, conn in sent:
            try:
                replies.append([conn.read_reply() for _ in commands])
            except (ConnectionClosed, OSError) as exc:  # OSError includes timeouts
                raise self._died(endpoint, exc, commands[-1]) from exc
        return replies[0], replies[1]

    def send(self, protocol: int, argv: Argv) -> tuple[Any, Any]:
        """One command on both servers' ``protocol`` connection: (reference reply, specredis reply)."""
        if argv and argv[0].upper() == b"SELECT":
            self.selected_other_db = True
        started = time.monotonic()
        expected, actual = self._exchange(
            (self.reference.conns[protocol], self.specredis.conns[protocol]), [argv])
        self.slowest_exchange_ms = max(self.slowest_exchange_ms, (time.monotonic() - started) * 1000)
        return expected[0], actual[0]

    def admin(self, *commands: Argv) -> tuple[list, list]:
        """Harness commands on both admin connections (RESP2)."""
        assert self.reference.admin is not None and self.specredis.admin is not None
        return self._exchange((self.reference.admin, self.specredis.admin), list(commands))

    def _disable_active_expiry(self) -> bool:
        """Turn off active expiry on both servers (DEBUG SET-ACTIVE-EXPIRE 0).

        A key whose time has passed stays in the dataset until a command touches it (SET
        EXAT with a past time does that in 7.0), and active expiry reaps it at a moment that
        differs between the two servers: DEBUG DIGEST and DBSIZE would differ by chance.
        Without active expiry only commands remove such keys, the same way on both."""
        if not self.serves("debug"):
            return False
        ref, spec = self.admin([b"DEBUG", b"SET-ACTIVE-EXPIRE", b"0"])
        return ref[0] == Status("OK") and spec[0] == Status("OK")

    def serves(self, fullname: str) -> bool:
        """Whether specredis serves ``fullname`` (the reference serves everything)."""
        return fullname in self.served

    def _served_commands(self) -> set[str]:
        """What specredis serves: ``COMMAND LIST``, or the spec's implemented commands when
        COMMAND LIST itself is not served yet (the server builds its table from the spec)."""
        assert self.specredis.admin is not None
        reply = self.specredis.admin.call("COMMAND", "LIST")
        if isinstance(reply, list) and reply:
            return {item.decode().lower() for item in reply}
        return {name for name, spec in self.specs.items()
                if (spec.get("engine") or {}).get("status") == "implemented"}

    # -- examples ------------------------------------------------------------------

    @property
    def can_reset(self) -> bool:
        """Whether specredis serves a way to empty its dataset between examples."""
        return self.serves("flushall") or self.serves("del")

    def reset(self) -> None:
        """Empty both datasets and put the connections under test back in database 0."""
        if self.serves("flushall"):
            self.admin([b"FLUSHALL"])
        else:
            self._delete_pool_keys()
        self.slowest_exchange_ms = 0.0
        if self.selected_other_db:
            for protocol in self.protocols:
                self._exchange((self.reference.conns[protocol], self.specredis.conns[protocol]),
                               [[b"SELECT", b"0"]])
            self.selected_other_db = False

    def _delete_pool_keys(self) -> None:
        """Reset without FLUSHALL: delete the key pool in every database we can reach."""
        if not self.serves("del"):
            raise RuntimeError("specredis serves neither FLUSHALL nor DEL: examples cannot start empty")
        databases = range(DATABASES) if self.serves("select") else range(1)
        for db in databases:
            commands = [[b"SELECT", str(db).encode()]] if self.serves("select") else []
            self.admin(*commands, [b"DEL", *KEYS])
        if self.serves("select"):
            self.admin([b"SELECT", b"0"])

    def step(self, protocol: int, fullname: str, argv: Argv, history: list[Step]) -> tuple[Any, Any]:
        """Send one command, record it in ``history`` and raise :class:`Mismatch` on a difference."""
        history.append((protocol, argv))
        if fullname in BEFORE_STEP:
            BEFORE_STEP[fullname](self)
        expected, actual = self.send(protocol, argv)
        mode = comparison_mode(fullname, self.specs.get(fullname), argv)
        if mode == "sort":
            mode = "exact"
            if replies_differ(mode, fullname, expected, actual) and tie_order_only(expected, actual):
                # Members of a set with equal sort weights come in hash-table order.
                source_type = self.reference.conns[protocol].call(b"TYPE", argv[1])
                if source_type in (Status("set"), b"set"):
                    mode = "unordered"
        if replies_differ(mode, fullname, expected, actual, self.slowest_exchange_ms):
            raise Mismatch(
                f"{fullname} (RESP{protocol}, compared {mode}) differs\n"
                f"  argv:      {argv!r}\n"
                f"  reference: {show(expected)}\n"
                f"  specredis: {show(actual)}\n"
                f"steps (for test_regressions.py):\n{format_steps(history)}")
        if fullname in RESYNC and not isinstance(expected, RespError):
            problem = RESYNC[fullname][0](self, protocol, argv, expected, actual)
            if problem:
                raise Mismatch(f"{fullname} (RESP{protocol}): {problem}\n  argv: {argv!r}\n"
                               f"steps (for test_regressions.py):\n{format_steps(history)}")
        return expected, actual

    # -- datasets ----------------------------------------------------------------------

    def _reap_expired_keys(self) -> None:
        """With active expiry on, touch every key a machine can create in every database,
        so keys whose time has passed are gone on both servers before the comparison."""
        if not self.serves("exists"):
            return
        use_select = self.serves("select")
        commands: list[Argv] = []
        for db in range(DATABASES) if use_select else range(1):
            if use_select:
                commands.append([b"SELECT", str(db).encode()])
            commands.append([b"EXISTS", *KEYS])
        if use_select:
            commands.append([b"SELECT", b"0"])
        self.admin(*commands)

    def check_datasets(self, history: list[Step]) -> str:
        """Raise :class:`Mismatch` unless both datasets are equal; return how it was checked."""
        if not self.active_expire_off:
            self._reap_expired_keys()
        if self.serves("debug"):
            (ref_digest,), (spec_digest,) = self.admin([b"DEBUG", b"DIGEST"])
            # An error on either side (specredis without DIGEST, a reference started without
            # enable-debug-command) means: compare dumps instead.
            if not isinstance(spec_digest, RespError) and not isinstance(ref_digest, RespError):
                if ref_digest != spec_digest:
                    detail = self._dump_difference(with_values=True) or "the dumps agree; only the digests differ"
                    raise Mismatch(f"DEBUG DIGEST differs: reference {ref_digest!r}, specredis {spec_digest!r}\n"
                                   f"{detail}\nsteps:\n{format_steps(history)}")
                detail = self._dump_difference(with_values=False)
                if detail:
                    raise Mismatch(f"expiry times differ\n{detail}\nsteps:\n{format_steps(history)}")
                return "digest"
        detail = self._dump_difference(with_values=True)
        if detail:
            raise Mismatch(f"datasets differ\n{detail}\nsteps:\n{format_steps(history)}")
        return "dump"

    def _dump_difference(self, with_values: bool) -> str | None:
        """Compare per-database dumps; a description of the first differences, or None."""
        ref_dump, spec_dump = self.dump(with_values)
        problems = []
        for db in sorted(set(ref_dump) | set(spec_dump)):
            ref_keys, spec_keys = ref_dump.get(db, {}), spec_dump.get(db, {})
            for key in sorted(set(ref_keys) | set(spec_keys)):
                expected, actual = ref_keys.get(key), spec_keys.get(key)
                if expected is None or actual is None or entries_differ(expected, actual, self.slowest_exchange_ms):
                    problems.append(f"db {db} key {key!r}: reference {show(expected)}, specredis {show(actual)}")
        return "\n".join(problems[:20]) or None

    def dump(self, with_values: bool) -> tuple[dict, dict]:
        """Both datasets as ``{db: {key: {reader: reply}}}``, read with the commands specredis
        serves; ``with_values=False`` reads only the expiry times."""
        use_select = self.serves("select")
        databases = list(range(DATABASES)) if use_select else [0]
        key_lists = self._list_keys(databases, use_select)
        reads: list[Argv] = []
        layout: list[tuple[int, bytes, list[tuple[str, int]]]] = []
        for db, keys in key_lists:
            if use_select:
                reads.append([b"SELECT", str(db).encode()])
            for key in keys:
                slots = []
                for label, argv in self._key_readers(key, with_values):
                    slots.append((label, len(reads)))
                    reads.append(argv)
                layout.append((db, key, slots))
        if use_select:
            reads.append([b"SELECT", b"0"])
        if not any(slots for _, _, slots in layout):
            return {}, {}
        dumps: list[dict] = []
        for replies in self.admin(*reads):
            dump: dict[int, dict[bytes, dict[str, Any]]] = {}
            for db, key, slots in layout:
                entry = {label: dump_value(label, replies[pos]) for label, pos in slots}
                if entry.get("type") == Status("none") or entry.get("expire") == -2:
                    continue                                    # no such key
                if entry:
                    dump.setdefault(db, {})[key] = entry
            dumps.append(dump)
        return dumps[0], dumps[1]

    def _list_keys(self, databases: list[int], use_select: bool) -> list[tuple[int, list[bytes]]]:
        """The keys of each database: the union of what KEYS says on both servers, or the
        key pool (every key a machine can create) when specredis does not serve KEYS."""
        if not self.serves("keys"):
            return [(db, sorted(KEYS)) for db in databases]
        listing: list[Argv] = []
        for db in databases:
            if use_select:
                listing.append([b"SELECT", str(db).encode()])
            listing.append([b"KEYS", b"*"])
        per_db = 2 if use_select else 1
        result = []
        both = self.admin(*listing)
        for index, db in enumerate(databases):
            found: set[bytes] = set()
            for replies in both:
                keys = replies[index * per_db + per_db - 1]
                found.update(keys if isinstance(keys, list) else KEYS)
            result.append((db, sorted(found)))
        return result

    def _key_readers(self, key: bytes, with_values: bool) -> list[tuple[str, Argv]]:
        """Labelled commands reading one key's type, value and expiry, as far as served."""
        commands: list[tuple[str, Argv]] = []
        if with_values:
            if self.serves("type"):
                commands.append(("type", [b"TYPE", key]))
            if self.serves("get"):
                # GET answers WRONGTYPE for the other types: that is compared too.
                commands.append(("get", [b"GET", key]))
            for reader in VALUE_READERS:
                name = reader[0].decode().lower()
                if self.serves(name):
                    commands.append((name, [reader[0], key, *reader[1:]]))
        if self.serves("pexpiretime"):
            commands.append(("expire", [b"PEXPIRETIME", key]))
        elif self.serves("pttl"):
            commands.append(("expire", [b"PTTL", key]))
        return commands

    def close(self) -> None:
        for endpoint in self.endpoints:
            endpoint.close()


#: Whole-value readers for the non-string types, used by the dump when served. Each answers
#: WRONGTYPE on the other types, which compares equal on both servers.
VALUE_READERS: tuple[tuple[bytes, ...], ...] = (
    (b"LRANGE", b"0", b"-1"),
    (b"SMEMBERS",),
    (b"ZRANGE", b"0", b"-1", b"WITHSCORES"),
    (b"HGETALL",),
    (b"XRANGE", b"-", b"+"),
)


def _members(reply: Any) -> list[bytes]:
    """The members in a reply that is one member, a list or a RESP3 set of them, or null."""
    if isinstance(reply, bytes):
        return [reply]
    if isinstance(reply, RSet):
        return list(reply.items)
    if isinstance(reply, list):
        return reply
    return []


def resync_spop(pair: ServerPair, protocol: int, argv: Argv, expected: Any, actual: Any) -> str | None:
    """SPOP removes *random* members, so the two servers' sets now differ by design.

    Check what can be checked -- the same number of members popped, each server popped
    members of the set and left the rest -- then make specredis's set equal to the
    reference's with SREM/SADD, so the example goes on from equal datasets."""
    key = argv[1]
    popped = {"reference": _members(expected), "specredis": _members(actual)}
    after_ref, after_spec = pair.send(protocol, [b"SMEMBERS", key])
    after = {"reference": set(_members(after_ref)), "specredis": set(_members(after_spec))}
    if len(popped["reference"]) != len(popped["specredis"]):
        return f"popped {len(popped['reference'])} members on the reference, {len(popped['specredis'])} on specredis"
    for name in popped:
        if len(set(popped[name])) != len(popped[name]) or after[name] & set(popped[name]):
            return f"{name} popped {popped[name]!r} and kept {sorted(after[name])!r}"
    if after["reference"] | set(popped["reference"]) != after["specredis"] | set(popped["specredis"]):
        return f"the sets before SPOP differ: popped {popped!r}, kept {after!r}"
    conn = pair.specredis.conns[protocol]
    extra = sorted(after["specredis"] - after["reference"])
    missing = sorted(after["reference"] - after["specredis"])
    if extra:
        conn.call(b"SREM", key, *extra)
    if missing:
        conn.call(b"SADD", key, *missing)
    return None


def resync_expired(pair: ServerPair, protocol: int, argv: Argv, expected: Any, actual: Any) -> str | None:
    """SCAN and RANDOMKEY delete the expired keys they happen to visit, and which keys they
    visit depends on each server's hash-table order (seeded at random even between two
    Redis processes). Touching every pool key of the connection's database afterwards
    deletes all expired keys there on both servers, which makes the datasets equal again."""
    pair.send(protocol, [b"EXISTS", *KEYS])
    return None


#: Commands with a random effect (nondeterministic_output, and a write or a lazy expiry):
#: after each one, a function checks what it can and makes the two datasets equal again;
#: the commands it needs specredis to serve come second.
RESYNC: dict[str, tuple[Any, tuple[str, ...]]] = {
    "spop": (resync_spop, ("smembers", "srem", "sadd")),
    "scan": (resync_expired, ("exists",)),
    "randomkey": (resync_expired, ("exists",)),
}


def reset_reference_errno(pair: ServerPair) -> None:
    """Give the reference a clean ``errno`` before SORT.

    7.0.15's SORT converts each weight with strtod() and tests ``errno == ERANGE``
    without clearing errno first, so after any SORT that met an out-of-range number
    ("1e400"), every later SORT of a non-integer weight fails with "One or more scores
    can't be converted into double" -- until some system call fails and overwrites
    errno. A new connection does that: the accept loop ends in EAGAIN. specredis is
    compared with the reference as it behaves with a clean errno."""
    with RespClient(pair.reference.host, pair.reference.port, timeout=pair.reference.timeout) as probe:
        probe.call(b"PING")


#: Work done before a command is sent, to put the reference in a defined state.
BEFORE_STEP: dict[str, Any] = {"sort": reset_reference_errno, "sort_ro": reset_reference_errno}


def dump_value(reader: str, reply: Any) -> Any:
    """A dump reader's reply in canonical form: members sorted, hash fields paired and sorted."""
    if isinstance(reply, list) and reader == "smembers":
        return sorted(reply, key=_sort_key)
    if isinstance(reply, list) and reader == "hgetall":
        return sorted(zip(reply[::2], reply[1::2], strict=True), key=_sort_key)
    return canonical(reply)


def entries_differ(expected: dict[str, Any], actual: dict[str, Any], slowest_exchange_ms: float = 0.0) -> bool:
    """Whether two dump entries of one key differ (expiry times within the tolerance)."""
    if expected.keys() != actual.keys():
        return True
    for label, value in expected.items():
        mode = "time" if label == "expire" else "exact"
        if replies_differ(mode, "pexpiretime", value, actual[label], slowest_exchange_ms):
            return True
    return False


def _encode(argv: Argv) -> bytes:
    out = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


# -- replaying fixed sequences (regression tests) ---------------------------------------------


def replay(pair: ServerPair, steps: Iterable[Step], fullnames: dict[str, str] | None = None) -> None:
    """Run ``steps`` on a fresh dataset, comparing every reply and the datasets at the end.

    The command each argv names is found from the spec (``fullnames`` may map an argv's
    first word(s) to a fullname when it is ambiguous)."""
    pair.reset()
    history: list[Step] = []
    for protocol, argv in steps:
        pair.step(protocol, resolve_fullname(pair.specs, argv), list(argv), history)
    pair.check_datasets(history)


def resolve_fullname(specs: dict[str, dict[str, Any]], argv: Argv) -> str:
    """The fullname an argv names (``[b"object", b"encoding", ...]`` -> ``object|encoding``)."""
    name = argv[0].decode(errors="replace").lower() if argv else ""
    if len(argv) > 1:
        sub = f"{name}|{argv[1].decode(errors='replace').lower()}"
        if sub in specs:
            return sub
    return name


@dataclass
class Coverage:
    """How often each command was sent per protocol, and how often it answered an error."""

    calls: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    examples: int = 0
    steps: int = 0
    dataset_checks: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def record(self, fullname: str, protocol: int, reply: Any) -> None:
        self.steps += 1
        self.calls[fullname, protocol] += 1
        if isinstance(reply, RespError):
            self.errors[fullname, protocol] += 1

    def missing(self, fullnames: Iterable[str], protocols: Iterable[int] = (2, 3)) -> list[tuple[str, int]]:
        """(command, protocol) pairs never sent."""
        return [(name, protocol) for name in fullnames for protocol in protocols
                if self.calls[name, protocol] == 0]

    def summary(self) -> str:
        names = sorted({name for name, _ in self.calls})
        parts = [f"{name} {self.calls[name, 2]}/{self.calls[name, 3]}"
                 f" (err {self.errors[name, 2] + self.errors[name, 3]})" for name in names]
        checks = ", ".join(f"{k} {v}" for k, v in sorted(self.dataset_checks.items()))
        return (f"{self.examples} examples, {self.steps} steps; dataset checks: {checks or 'none'}\n"
                "calls RESP2/RESP3: " + "; ".join(parts))


__all__ = [
    "DENY", "DENY_FLAGS", "STEPS_PER_EXAMPLE", "TIME_TOLERANCE", "Coverage", "Family", "Mismatch", "RunSize", "ServerDied",
    "ServerPair", "canonical", "comparison_mode", "exclusion_reason", "family_commands", "format_steps",
    "replay", "replies_differ", "resolve_fullname", "same_shape", "unordered",
]
