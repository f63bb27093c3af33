"""CONFIG GET / SET / RESETSTAT / REWRITE and config-file startup, against the reference Redis 7.0.15.

Both servers run with the same arguments; every comparison is of the replies (or the
files, or the startup report) the two produce for the same input.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest
from servers import ServerProcess, free_port, start_reference, start_specredis, wait_for_port

from specredis.protocol.client import RespClient, RespError, RMap, Status
from specredis.startup import StartupError, load_startup_config

SAME_ARGS = ("--enable-debug-command", "yes")
OK = Status("OK")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """(specredis, reference), started with the same configuration."""
    reference = start_reference(*SAME_ARGS)
    # start_reference adds --save "" --appendonly no; give specredis the same.
    ours = start_specredis(*SAME_ARGS, "--save", "", "--appendonly", "no")
    yield ours, reference
    ours.stop()
    reference.stop()


@pytest.fixture
def pair(servers) -> Iterator[tuple[RespClient, RespClient]]:
    ours, reference = servers
    a, b = ours.client(protocol=3), reference.client(protocol=3)
    yield a, b
    a.close()
    b.close()


def _config_map(client: RespClient, *patterns: str) -> dict[bytes, bytes]:
    reply = client.call("CONFIG", "GET", *patterns)
    assert isinstance(reply, RMap), reply
    return dict(reply.pairs)


# -- CONFIG GET ----------------------------------------------------------------------------------

def test_config_get_star_has_the_same_names_and_values(pair) -> None:
    ours, theirs = pair
    mine, reference = _config_map(ours, "*"), _config_map(theirs, "*")
    assert sorted(mine) == sorted(reference)
    assert len(mine) == 192
    differing = {name: (mine[name], reference[name]) for name in mine
                 if mine[name] != reference[name] and name not in (b"port", b"dir")}
    assert differing == {}


@pytest.mark.parametrize("patterns", [
    ["maxmemory"], ["MAXMEMORY"], ["port", "PORT"], ["*max*entries*"], ["slave*"], ["*-ziplist-*"],
    ["hash-max-*", "hash-max-listpack-entries"], ["nosuch"], ["use-exit-on-panic"], ["*panic*"],
    ["key-load-delay", "watchdog-period", "rdb-key-save-delay", "loading-process-events-interval-bytes"],
    ["lua-time-limit", "busy-reply-threshold"], ["save", "client-output-buffer-limit", "notify-keyspace-events"],
    ["oom-score-adj-values", "latency-tracking-info-percentiles", "bind", "unixsocketperm"], ["[a-c]*"],
    ["tls-*"], ["*"],
])
def test_config_get_patterns(pair, patterns) -> None:
    ours, theirs = pair
    mine, reference = _config_map(ours, *patterns), _config_map(theirs, *patterns)
    for ignored in (b"port", b"dir"):
        mine.pop(ignored, None)
        reference.pop(ignored, None)
    assert mine == reference


def test_config_get_arity(pair) -> None:
    ours, theirs = pair
    assert ours.call("CONFIG", "GET") == theirs.call("CONFIG", "GET")


# -- CONFIG SET ----------------------------------------------------------------------------------

# (parameter, value) probes covering every kind: each is set on both servers and read back.
ROUND_TRIPS = [
    ("maxmemory", "1gb"), ("maxmemory", "1GB"), ("maxmemory", "5K"), ("maxmemory", "5kb"), ("maxmemory", "100b"),
    ("maxmemory", " 5"), ("maxmemory", "+5"), ("maxmemory", "0x10"), ("maxmemory", "18446744073709551615"),
    ("maxmemory", "18446744073709551616"), ("maxmemory", "k"), ("maxmemory", "-0"), ("maxmemory", "1.5gb"),
    ("maxmemory", "01"), ("maxmemory", "1Mb"), ("maxmemory", ""),
    ("hz", "5"), ("hz", "+5"), ("hz", "05"), ("hz", " 5"), ("hz", "5.0"), ("hz", "1e3"), ("hz", "2147483648"),
    ("hz", "0"), ("hz", "1000"), ("hz", "-1"), ("hz", "10"),
    ("port", "abc"), ("port", "70000"), ("timeout", "1k"), ("timeout", "7"),
    ("save", "3600 1 300 100"), ("save", "3600 1  300 100"), ("save", " "), ("save", '""'), ("save", "10 0"),
    ("save", "-1 5"), ("save", "1k 5"), ("save", "+900 +1"), ("save", "900 -0"), ("save", "9999999999999999999999 1"),
    ("save", "10 9999999999"), ("save", "10 4294967297"), ("save", "10 -1"), ("save", "1 2 3"), ("save", ""),
    ("notify-keyspace-events", "KEA"), ("notify-keyspace-events", "Kg$"), ("notify-keyspace-events", "gKE"),
    ("notify-keyspace-events", "x"), ("notify-keyspace-events", "Kgsxlzhte$mdn"), ("notify-keyspace-events", "KEAn"),
    ("notify-keyspace-events", "KEAm"), ("notify-keyspace-events", "Kn"), ("notify-keyspace-events", "Q"),
    ("notify-keyspace-events", ""),
    ("client-output-buffer-limit", "pubsub 1mb 2mb 3"), ("client-output-buffer-limit", "replica 1 2 3"),
    ("client-output-buffer-limit", "slave 1 2 3 pubsub 4 5 6"), ("client-output-buffer-limit", "pubsub 1 2 -3"),
    ("client-output-buffer-limit", "pubsub 1x 2 3"), ("client-output-buffer-limit", "PUBSUB 1 2 3"),
    ("client-output-buffer-limit", "master 1 2 3"), ("client-output-buffer-limit", "normal 1 2"),
    ("client-output-buffer-limit", "pubsub 1 1 2147483648"), ("client-output-buffer-limit", "pubsub 1 1 4294967296"),
    ("client-output-buffer-limit", "pubsub 1 1 +5"), ("client-output-buffer-limit", "pubsub 1 1  5"),
    ("client-output-buffer-limit", "pubsub 18446744073709551616 1 5"), ("client-output-buffer-limit", ""),
    ("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    ("oom-score-adj-values", "10 20 30"), ("oom-score-adj-values", "-10 -2000 2000"), ("oom-score-adj-values", "1 2"),
    ("oom-score-adj-values", "1 2 3000"), ("oom-score-adj-values", "+1 2 3"), ("oom-score-adj-values", "1.5 2 3"),
    ("oom-score-adj-values", " 1 2 3"), ("oom-score-adj-values", "0 200 800"),
    ("latency-tracking-info-percentiles", "50 99.99999"), ("latency-tracking-info-percentiles", "0"),
    ("latency-tracking-info-percentiles", "1.5e1"), ("latency-tracking-info-percentiles", "33.333333333333"),
    ("latency-tracking-info-percentiles", "50  99"), ("latency-tracking-info-percentiles", "101"),
    ("latency-tracking-info-percentiles", "nan"), ("latency-tracking-info-percentiles", "inf"),
    ("latency-tracking-info-percentiles", "0x10"), ("latency-tracking-info-percentiles", ".5"),
    ("latency-tracking-info-percentiles", ""), ("latency-tracking-info-percentiles", "50 99 99.9"),
    ("shutdown-on-sigint", "save now"), ("shutdown-on-sigint", "now save"), ("shutdown-on-sigint", "force now save"),
    ("shutdown-on-sigint", "save nosave"), ("shutdown-on-sigint", "foo"), ("shutdown-on-sigint", "default now"),
    ("shutdown-on-sigint", ""), ("shutdown-on-sigint", "save  now"), ("shutdown-on-sigint", "default"),
    ("maxmemory-clients", "10%"), ("maxmemory-clients", "0%"), ("maxmemory-clients", "100%"),
    ("maxmemory-clients", "101%"), ("maxmemory-clients", "-5"), ("maxmemory-clients", "10.5%"),
    ("maxmemory-clients", "%"), ("maxmemory-clients", "1kb%"), ("maxmemory-clients", "1gb"), ("maxmemory-clients", "0"),
    ("loglevel", "WARNING"), ("loglevel", "foo"), ("loglevel", "notice"),
    ("appendfsync", "ALWAYS"), ("appendfsync", "maybe"), ("appendfsync", "everysec"),
    ("maxmemory-policy", "ALLKEYS-LRU"), ("maxmemory-policy", "noeviction"),
    ("oom-score-adj", "relative"), ("oom-score-adj", "absolute"), ("oom-score-adj", "on"), ("oom-score-adj", "no"),
    ("activerehashing", "NO"), ("activerehashing", "1"), ("activerehashing", "true"), ("activerehashing", "yes"),
    ("slowlog-log-slower-than", "-1"), ("slowlog-log-slower-than", "-2"), ("slowlog-log-slower-than", "10000"),
    ("list-max-ziplist-size", "-5"), ("list-max-listpack-size", "9999999999"), ("list-max-listpack-size", "-2"),
    ("client-query-buffer-limit", "1000"), ("client-query-buffer-limit", "2mb"), ("client-query-buffer-limit", "1gb"),
    ("proto-max-bulk-len", "1000"), ("repl-backlog-size", "0"), ("repl-backlog-size", "16kb"),
    ("active-defrag-cycle-min", "0"), ("maxmemory-samples", "65"), ("maxclients", "0"), ("maxclients", "10000"),
    ("stream-node-max-bytes", "4kb"), ("hll-sparse-max-bytes", "99999999999999999999"),
    ("cluster-link-sendbuf-limit", "99999999999999999999"), ("cluster-link-sendbuf-limit", "0"),
    ("proc-title-template", "{title}"), ("proc-title-template", "{title} {port}"), ("proc-title-template", "{{title}}"),
    ("proc-title-template", "{unixsocket}"), ("proc-title-template", "{"), ("proc-title-template", "a}b"),
    ("proc-title-template", "{title} {title}"), ("proc-title-template", ""),
    ("proc-title-template", "{title} {listen-addr} {server-mode}"),
    ("dbfilename", "x.rdb"), ("dir", "/tmp"), ("activedefrag", "yes"), ("tls-port", "100"), ("tls-cluster", "yes"),
    ("tls-auth-clients", "optional"), ("tls-cert-file", "x"), ("tls-cert-file", ""),
    ("masterauth", "a\tb\x01c"), ("masterauth", ""), ("ignore-warnings", "ARM64-COW-BUG"), ("ignore-warnings", ""),
    ("use-exit-on-panic", "yes"), ("use-exit-on-panic", "no"), ("key-load-delay", "-5"), ("key-load-delay", "0"),
    ("lua-time-limit", "abc"), ("lua-time-limit", "200"), ("busy-reply-threshold", "5000"),
    ("replica-priority", "5"), ("slave-priority", "100"),
    # immutable parameters
    ("daemonize", "yes"), ("databases", "4"), ("replicaof", "no one"), ("slaveof", "a b"), ("unixsocketperm", "700"),
    ("io-threads", "2"), ("cluster-enabled", "yes"), ("pidfile", "/tmp/x.pid"), ("enable-protected-configs", "yes"),
    ("Daemonize", "yes"),
    # unknown
    ("nosuchparameter", "1"), ("list-max-ziplist-entries", "5"),
]


def test_config_set_and_get_round_trips(pair) -> None:
    ours, theirs = pair
    differences = []
    for name, value in ROUND_TRIPS:
        before = [client.call("CONFIG", "GET", name) for client in (ours, theirs)]
        replies = [client.call("CONFIG", "SET", name, value) for client in (ours, theirs)]
        after = [client.call("CONFIG", "GET", name) for client in (ours, theirs)]
        if name.lower() in ("port", "dir"):      # different by construction
            after = [before[0] == after[0], before[1] == after[1]]
        if replies[0] != replies[1] or after[0] != after[1]:
            differences.append((name, value, replies, after))
        for client, old in zip((ours, theirs), before, strict=True):
            if old.pairs:                        # put each server's value back
                client.call("CONFIG", "SET", name, old.pairs[0][1])
    assert differences == []


CONFIG_SET_REQUESTS = [
    "CONFIG SET port",
    "CONFIG SET a b c",
    "CONFIG SET foo 1 port abc",
    "CONFIG SET port abc foo 1",
    "CONFIG SET daemonize yes port abc",
    "CONFIG SET port abc daemonize yes",
    "CONFIG SET daemonize yes foo 1",
    "CONFIG SET hz 5 hz 6",
    "CONFIG SET hz 5 HZ 6",
    "CONFIG SET slave-priority 5 replica-priority 5",
    "CONFIG SET hz 5 slowlog-max-len -1",
    "CONFIG SET requirepass x requirepass y",
    "CONFIG SET PORT abc",
    "CONFIG SET lua-time-limit abc",
    "CONFIG SET dir /tmp dbfilename x",
    "CONFIG SET maxmemory 10mb maxmemory 20mb",
    "CONFIG HELP",
    "CONFIG HELP x",
    "CONFIG nosuch",
    "CONFIG RESETSTAT x",
    "CONFIG REWRITE x",
    "CONFIG",
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_config_set_errors(servers, protocol) -> None:
    ours_server, reference_server = servers
    with ours_server.client(protocol=protocol) as ours, reference_server.client(protocol=protocol) as theirs:
        for line in CONFIG_SET_REQUESTS:
            argv = shlex.split(line)
            assert ours.call(*argv) == theirs.call(*argv), line
        for client in (ours, theirs):
            client.call("CONFIG", "SET", "hz", "10", "slave-priority", "100")


def test_config_set_is_all_or_nothing(pair) -> None:
    ours, theirs = pair
    for client in (ours, theirs):
        reply = client.call("CONFIG", "SET", "hz", "7", "maxmemory-policy", "allkeys-lru", "slowlog-max-len", "-1")
        assert isinstance(reply, RespError)
        assert _config_map(client, "hz", "maxmemory-policy") == {b"hz": b"10", b"maxmemory-policy": b"noeviction"}
    assert _config_map(ours, "hz", "maxmemory-policy") == _config_map(theirs, "hz", "maxmemory-policy")
    for client in (ours, theirs):
        client.call("CONFIG", "SET", "hz", "10", "maxmemory-policy", "noeviction")


def test_config_set_is_live(pair) -> None:
    """notify-keyspace-events set by CONFIG SET takes effect: a subscriber gets the event."""
    ours, _ = pair
    ours.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        assert _config_map(ours, "notify-keyspace-events") == {b"notify-keyspace-events": b"AKE"}
    finally:
        ours.call("CONFIG", "SET", "notify-keyspace-events", "")


# -- CONFIG RESETSTAT ------------------------------------------------------------------------------

def _info_fields(client: RespClient, section: str) -> dict[str, str]:
    reply = client.call("INFO", section)
    text = reply.text if hasattr(reply, "text") else reply
    fields = {}
    for line in text.decode().split("\r\n"):
        if line and not line.startswith("#"):
            name, _, value = line.partition(":")
            fields[name] = value
    return fields


def test_config_resetstat(pair) -> None:
    ours, theirs = pair
    for client in (ours, theirs):
        client.call("PING")
        client.call("CONFIG", "GET", "hz")
        client.call("CONFIG", "SET", "nosuch", "1")
        client.call("NOSUCHCOMMAND")
        assert client.call("CONFIG", "RESETSTAT") == OK
    for section in ("commandstats", "errorstats"):
        mine, reference = _info_fields(ours, section), _info_fields(theirs, section)
        assert sorted(mine) == sorted(reference), section
        for name in mine:
            calls = {field.split("=")[0]: field.split("=")[1] for field in mine[name].split(",")}
            ref_calls = {field.split("=")[0]: field.split("=")[1] for field in reference[name].split(",")}
            for field in ("calls", "rejected_calls", "failed_calls", "count"):
                assert calls.get(field) == ref_calls.get(field), (name, field)
    mine, reference = _info_fields(ours, "stats"), _info_fields(theirs, "stats")
    for field in ("total_error_replies", "keyspace_hits", "keyspace_misses", "expired_keys", "rejected_connections",
                  "total_connections_received"):
        assert mine[field] == reference[field], field


# -- CONFIG REWRITE --------------------------------------------------------------------------------

CONFIG_FILE = """\
# A comment that must survive
port {port}
  timeout 5\x20\x20\x20

save 900 1
save 300 10
slave-read-only no
hash-max-ziplist-entries 100
hash-max-listpack-entries 200
maxmemory 1gb
loglevel   warning
list-max-ziplist-entries 5
requirepass ""
notify-keyspace-events KEA
client-output-buffer-limit pubsub 32mb 8mb 60
masterauth secret
bind 127.0.0.1
enable-debug-command yes
dir {dir}
# trailing comment


"""


def _start_with_file(kind: str, text: str) -> tuple[ServerProcess, str]:
    directory = tempfile.mkdtemp(prefix=f"rewrite-{kind}-")
    port = free_port()
    path = os.path.join(directory, "redis.conf")
    with open(path, "w") as handle:
        handle.write(text.format(port=port, dir=directory))
    if kind == "reference":
        if not shutil.which("redis-server"):
            pytest.skip("no local redis-server binary")
        cmd = ["redis-server", path]
    else:
        cmd = [sys.executable, "-m", "specredis.server", path]
    log = open(os.path.join(directory, "server.log"), "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    wait_for_port(port, proc)
    return ServerProcess(port, proc, directory, kind), path


def _split_rewritten(text: str, server: ServerProcess) -> tuple[list[str], set[str]]:
    """The file before the signature (exact), and the lines after it (any order), without
    the parts that differ by construction (port, directory)."""
    text = text.replace(server.dir, "<dir>").replace(str(server.port), "<port>")
    head, _, tail = text.partition("# Generated by CONFIG REWRITE\n")
    return head.split("\n"), set(tail.split("\n"))


def test_config_rewrite_matches_the_reference() -> None:
    servers = [_start_with_file(kind, CONFIG_FILE) for kind in ("specredis", "reference")]
    try:
        results = []
        for server, path in servers:
            with RespClient(port=server.port) as client:
                assert client.call("CONFIG", "SET", "maxmemory", "3mb", "loglevel", "notice", "hz", "11") == OK
                client.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 2gb 3 replica 1 2 3")
                client.call("CONFIG", "SET", "maxmemory-clients", "10%")
                client.call("CONFIG", "SET", "notify-keyspace-events", "")
                client.call("CONFIG", "SET", "masterauth", "")
                client.call("CONFIG", "SET", "save", "")
                client.call("CONFIG", "SET", "ignore-warnings", 'a "quoted"\tvalue')
                client.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.5")
                assert client.call("CONFIG", "REWRITE") == OK
            with open(path) as handle:
                results.append(_split_rewritten(handle.read(), server))
        (mine_head, mine_tail), (ref_head, ref_tail) = results
        assert mine_head == ref_head
        assert mine_tail == ref_tail
    finally:
        for server, _ in servers:
            server.stop()


def test_config_rewrite_without_a_config_file(pair) -> None:
    ours, theirs = pair
    assert ours.call("CONFIG", "REWRITE") == theirs.call("CONFIG", "REWRITE")


# -- startup from config files ---------------------------------------------------------------------

BAD_FILES = [
    "port 1234\n\nfoo bar\n",
    "save 1 2 3\n",
    'port "12\n',
    "port 1 2\n",
    "maxmemory 1x\n",
    "databases abc\n",
    "loglevel loud\n",
    "daemonize maybe\n",
    "client-output-buffer-limit normal 1 2\n",
    "notify-keyspace-events Q\n",
    "rename-command get\n",
    "rename-command nosuchcommand x\n",
    "rename-command get set\n",
    "sentinel monitor a b c d\n",
    "user\n",
    "include\n",
    "foo.bar\n",
    "list-max-ziplist-value 5 6\n",
    "replicaof abc\n",
    "replicaof host 70000\n",
    "unixsocketperm 999\n",
    "hz 0x10\n",
    "dir /nonexistent/directory\n",
    "activedefrag yes\n",
    "# comment\n   \n\tport abc\t\n",
]


def _reference_report(path: str, *options: str) -> str:
    result = subprocess.run(["redis-server", path, *options], capture_output=True, text=True, timeout=20)
    assert result.returncode == 1, result
    return result.stderr


def _our_report(path: str, *options: str) -> str:
    with pytest.raises(StartupError) as raised:
        load_startup_config([path, *options])
    return str(raised.value)


@pytest.mark.parametrize("content", BAD_FILES)
def test_config_file_errors_match_the_reference_and_name_the_file(tmp_path, content) -> None:
    if not shutil.which("redis-server"):
        pytest.skip("no local redis-server binary")
    path = str(tmp_path / "bad.conf")
    with open(path, "w") as handle:
        handle.write(content)
    reference = _reference_report(path)
    mine = _our_report(path)
    assert f"Reading the configuration file {path}, at line" in mine
    assert mine.replace(f" {path},", ",") == reference


@pytest.mark.parametrize("options", [["--port", "abc"], ["--nosuch", "x"], ["--save", "1", "2", "3"],
                                     ["--maxmemory", "1", "2"], ["--hz", "5", "--activedefrag", "yes"]])
def test_command_line_option_errors_match_the_reference(tmp_path, options) -> None:
    if not shutil.which("redis-server"):
        pytest.skip("no local redis-server binary")
    path = str(tmp_path / "ok.conf")
    with open(path, "w") as handle:
        handle.write("port 0\n# two lines\n")
    assert _our_report(path, *options) == _reference_report(path, *options)


DEBIAN_CONF = "/etc/redis/redis.conf"


def test_debian_redis_conf_starts_with_the_same_configuration() -> None:
    if not os.access(DEBIAN_CONF, os.R_OK):
        pytest.skip(f"{DEBIAN_CONF} is not readable here")
    directory = tempfile.mkdtemp(prefix="debian-conf-")
    overrides = ["--daemonize", "no", "--logfile", "", "--pidfile", "", "--bind", "127.0.0.1", "--dir", directory]
    servers = []
    try:
        for kind in ("reference", "specredis"):
            port = free_port()
            program = ["redis-server"] if kind == "reference" else [sys.executable, "-m", "specredis.server"]
            proc = subprocess.Popen([*program, DEBIAN_CONF, *overrides, "--port", str(port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=directory)
            servers.append(ServerProcess(port, proc, directory, kind))
            wait_for_port(port, proc)
        configs = []
        for server in servers:
            with RespClient(port=server.port, protocol=3) as client:
                configs.append(_config_map(client, "*"))
        reference, mine = configs
        assert sorted(mine) == sorted(reference)
        assert {k: v for k, v in mine.items() if reference[k] != v and k != b"port"} == {}
    finally:
        for server in servers:
            server.stop()
