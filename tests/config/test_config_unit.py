"""In-process tests of the configuration registry, startup parsing and CONFIG REWRITE's algorithm.

Expected behaviours were taken from Redis 7.0.15 (see test_config_conformance.py for the
differential versions); these tests pin the pieces without starting servers.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from specredis.engine.config import (
    ConfigError,
    ConfigParam,
    format_memory,
    memtoull,
    repr_string,
    string2ll,
    strtoll_whole,
)
from specredis.engine.configcmd import rewrite_config_content
from specredis.engine.core import Engine
from specredis.engine.settings import SHUTDOWN_NOW, SHUTDOWN_SAVE, default_config
from specredis.protocol.replies import ErrorReply, Map
from specredis.startup import StartupError, load_startup_config

# -- number parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("0", 0), ("12", 12), ("-5", -5), ("k", 0), ("1k", 1000), ("1kb", 1024), ("1KB", 1024), ("2mB", 2 << 20),
    ("1g", 10**9), ("1gb", 1 << 30), ("01", 1), ("18446744073709551616", (1 << 64) - 1),
    ("18446744073709551615kb", ((1 << 64) - 1) * 1024 % (1 << 64)),
])
def test_memtoull_accepts(text, value) -> None:
    if text == "-5":
        assert memtoull(text) is None
    else:
        assert memtoull(text) == value


@pytest.mark.parametrize("text", ["-0", "+5", " 5", "5 ", "1.5gb", "1e3", "0x10", "1tb", "1k%", "5kbb", "%"])
def test_memtoull_rejects(text) -> None:
    assert memtoull(text) is None


def test_integer_parsers() -> None:
    assert string2ll("-12") == -12
    for bad in ("+1", "01", " 1", "1 ", "-0", "", "1_0", "9223372036854775808"):
        assert string2ll(bad) is None, bad
    assert strtoll_whole(" +10") == 10
    assert strtoll_whole("-0") == 0
    assert strtoll_whole("99999999999999999999") == (1 << 63) - 1
    assert strtoll_whole("10 ") is None
    assert strtoll_whole("") is None


def test_rewrite_formats() -> None:
    assert format_memory(0) == "0"
    assert format_memory(1 << 30) == "1gb"
    assert format_memory(3 << 20) == "3mb"
    assert format_memory(2048) == "2kb"
    assert format_memory(1000) == "1000"
    assert repr_string('a "q"\t\\\x01\xff') == '"a \\"q\\"\\t\\\\\\x01\\xc3\\xbf"'


# -- the registry -------------------------------------------------------------------------------

def test_every_parameter_formats_its_default() -> None:
    config = default_config()
    for name in config.by_name:
        assert isinstance(config.get_text(name), str), name


def test_aliases_share_one_value() -> None:
    config = default_config()
    assert config.set_many(None, [("slave-priority", "7")]) is None
    assert config.get_text("replica-priority") == "7"
    assert config["slave-priority"] == 7


def test_matching_exact_names_keep_their_spelling_and_hidden_need_exact_names() -> None:
    config = default_config()
    assert config.matching(["PORT", "port"]) == [("PORT", "6379")]
    assert config.matching(["use-exit-on-panic"]) == [("use-exit-on-panic", "no")]
    assert config.matching(["*panic*"]) == []
    assert len(config.matching(["*", "*"])) == 192


def test_enum_flags_and_value_names() -> None:
    config = default_config()
    assert config.set_many(None, [("shutdown-on-sigint", "NOW save")]) is None
    assert config["shutdown-on-sigint"] == SHUTDOWN_SAVE | SHUTDOWN_NOW
    assert config.get_text("shutdown-on-sigint") == "save now"
    assert config.set_many(None, [("oom-score-adj", "relative")]) is None
    assert config.get_text("oom-score-adj") == "yes"


def test_set_many_rolls_back_when_an_apply_hook_refuses() -> None:
    applied: list[tuple[str, object]] = []

    def accept(engine, value) -> None:
        applied.append(("hz", value))

    def refuse(engine, value) -> None:
        applied.append(("timeout", value))
        if value == 99:
            raise ConfigError("no thanks")

    config = default_config()
    config.lookup("hz").apply = accept
    config.lookup("timeout").apply = refuse
    error = config.set_many(object(), [("hz", "20"), ("timeout", "99")])
    assert error is not None and error.text == \
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - no thanks"
    assert (config["hz"], config["timeout"]) == (10, 0)
    # The hooks ran with the new values, then again with the restored ones.
    assert applied == [("hz", 20), ("timeout", 99), ("hz", 10), ("timeout", 0)]


def test_unchanged_value_does_not_run_the_hook() -> None:
    calls = []
    config = default_config()
    config.lookup("hz").apply = lambda engine, value: calls.append(value)
    assert config.set_many(object(), [("hz", "10")]) is None
    assert calls == []


def test_protected_configs_follow_enable_protected_configs() -> None:
    class LocalClient:
        addr = "127.0.0.1:5000"

    class RemoteClient:
        addr = "10.1.2.3:5000"

    config = default_config()
    assert "can't set protected config" in config.set_many(None, [("dbfilename", "x.rdb")], LocalClient()).text
    config.set_at_startup("enable-protected-configs", ["local"])
    assert config.set_many(None, [("dbfilename", "x.rdb")], LocalClient()) is None
    assert "protected" in config.set_many(None, [("dbfilename", "y.rdb")], RemoteClient()).text
    assert config.set_many(None, [("dbfilename", "a/b")], LocalClient()).text.endswith(
        "dbfilename can't be a path, just a filename")


def test_loading_refuses_deny_loading_parameters() -> None:
    engine = Engine()
    engine.loading = True
    assert engine.config.set_many(engine, [("appendonly", "yes")]).text.startswith("LOADING")
    assert engine.config.set_many(engine, [("hz", "12")]) is None


def test_third_party_declaration_keeps_working() -> None:
    param = ConfigParam("x-test", "int", 5, minimum=0, maximum=10, immutable=True)
    assert param.immutable and "immutable" in param.flags
    with pytest.raises(ConfigError, match="between 0 and 10"):
        param.parse_args(["11"])


# -- CONFIG commands in-process -------------------------------------------------------------------

def test_config_set_notify_keyspace_events_is_live() -> None:
    engine = Engine()
    client = engine.new_client()
    assert engine.execute(client, [b"CONFIG", b"SET", b"notify-keyspace-events", b"KEA"]).text == b"OK"
    assert engine.notify_flags == engine.config["notify-keyspace-events"] != 0
    assert engine.execute(client, [b"CONFIG", b"GET", b"notify-keyspace-events"]) == \
        Map([(b"notify-keyspace-events", b"AKE")])


def test_config_rewrite_needs_a_file() -> None:
    engine = Engine()
    assert engine.execute(engine.new_client(), [b"CONFIG", b"REWRITE"]) == \
        ErrorReply(b"ERR The server is running without a config file")


def test_config_rewrite_in_place(tmp_path) -> None:
    path = tmp_path / "redis.conf"
    path.write_text("# keep me\nslaveof-nothing\nhz 20\n")
    engine = Engine()
    engine.extensions["config_file"] = str(path)
    client = engine.new_client()
    assert engine.execute(client, [b"CONFIG", b"SET", b"hz", b"30"]).text == b"OK"
    assert engine.execute(client, [b"CONFIG", b"REWRITE"]).text == b"OK"
    text = path.read_text()
    assert text.startswith("# keep me\n# ??? slaveof-nothing\nhz 30\n\n# Generated by CONFIG REWRITE\n")


# -- CONFIG REWRITE's algorithm ---------------------------------------------------------------------

def test_rewrite_reuses_lines_maps_aliases_and_blanks_leftovers() -> None:
    engine = Engine()
    engine.config.set_many(engine, [("maxmemory", "3mb"), ("requirepass", "pw")])
    old = ("# top\nslave-read-only no\nhash-max-ziplist-entries 100\nhash-max-listpack-entries 200\n"
           "maxmemory 1gb\nmasterauth x\nmasterauth y\n\n\nrename-command FOO BAR\ninclude /x.conf\n"
           'unknown "a b\nlist-max-ziplist-entries 5\n')
    new = rewrite_config_content(engine, old)
    secret = hashlib.sha256(b"pw").hexdigest()
    lines = new.split("\n")
    assert lines[:11] == [
        "# top", "replica-read-only yes", "hash-max-listpack-entries 512", "", "maxmemory 3mb", "",
        "rename-command FOO BAR", "include /x.conf", '# ??? unknown "a b', "# ??? list-max-ziplist-entries 5", "",
    ]
    tail = lines[lines.index("# Generated by CONFIG REWRITE") + 1:]
    assert 'requirepass "pw"' in tail and f"user default on #{secret} ~* &* +@all" in tail
    assert 'dir "' + os.getcwd() + '"' in tail and "save 3600 1" in tail
    assert new.endswith("\n") and not new.endswith("\n\n")


def test_rewrite_does_not_repeat_the_signature() -> None:
    engine = Engine()
    first = rewrite_config_content(engine, "port 6379\n")
    second = rewrite_config_content(engine, first)
    assert second.count("# Generated by CONFIG REWRITE") == 1
    # As in Redis, the file's final newline becomes one blank line, after which it is stable.
    assert second == first + "\n"
    assert rewrite_config_content(engine, second) == second


# -- startup ----------------------------------------------------------------------------------------

def _load(tmp_path, text: str, *options: str):
    path = tmp_path / "redis.conf"
    path.write_text(text)
    config, config_file = load_startup_config([str(path), *options])
    assert config_file == str(path)
    return config


def test_save_lines_replace_the_default_then_accumulate(tmp_path) -> None:
    config = _load(tmp_path, "save 900 1\nsave 300 10\n")
    assert config["save"] == [(900, 1), (300, 10)]
    assert _load(tmp_path, "save 900 1\nsave \"\"\n")["save"] == []
    assert _load(tmp_path, "", "--save", "")["save"] == []
    assert _load(tmp_path, "", "--save", "900 1 300 10")["save"] == [(900, 1), (300, 10)]
    assert _load(tmp_path, "")["save"] == [(3600, 1), (300, 100), (60, 10000)]


def test_output_buffer_limit_lines_set_only_their_class(tmp_path) -> None:
    config = _load(tmp_path, "client-output-buffer-limit replica 256mb 64mb 60\n"
                             "client-output-buffer-limit pubsub 1mb 1mb 1\n")
    assert config.get_text("client-output-buffer-limit") == \
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 1048576 1"


def test_include_globs_and_deprecated_directives(tmp_path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.conf").write_text("hz 15\n")
    (tmp_path / "conf.d" / "b.conf").write_text("timeout 7\n")
    config = _load(tmp_path, f"include {tmp_path}/conf.d/*.conf\ninclude {tmp_path}/none-*.conf\n"
                             "lua-replicate-commands yes\nlist-max-ziplist-entries 5\nsentinel\n")
    assert (config["hz"], config["timeout"]) == (15, 7)


def test_include_error_names_the_included_file(tmp_path) -> None:
    (tmp_path / "inc.conf").write_text("port 1\nfoo\n")
    with pytest.raises(StartupError) as raised:
        _load(tmp_path, f"include {tmp_path}/inc.conf\n")
    assert f"Reading the configuration file {tmp_path}/inc.conf, at line 2" in str(raised.value)
    with pytest.raises(StartupError, match="can't open config file '/nonexistent.conf'"):
        _load(tmp_path, "include /nonexistent.conf\n")


def test_rename_command_applies_to_the_engine(tmp_path) -> None:
    config = _load(tmp_path, "rename-command config myconfig\nrename-command info \"\"\n")
    engine = Engine(config=config)
    client = engine.new_client()
    assert isinstance(engine.execute(client, [b"MYCONFIG", b"GET", b"hz"]), Map)
    assert engine.execute(client, [b"CONFIG", b"GET", b"hz"]).text.startswith(b"ERR unknown command 'CONFIG'")
    assert engine.execute(client, [b"info"]).text.startswith(b"ERR unknown command 'info'")


def test_modules_fail_startup(tmp_path) -> None:
    with pytest.raises(StartupError) as raised:
        _load(tmp_path, "loadmodule /nonexistent/module.so arg\n")
    text = str(raised.value)
    assert "Module /nonexistent/module.so failed to load: /nonexistent/module.so: cannot open shared object " \
           "file: No such file or directory" in text
    assert "Can't load module from /nonexistent/module.so: server aborting" in text
    with pytest.raises(StartupError, match="Module Configuration detected without loadmodule directive"):
        _load(tmp_path, "mymodule.option 1\n")


def test_immutable_and_special_values_at_startup(tmp_path) -> None:
    config = _load(tmp_path, "databases 4\nunixsocketperm 700\nreplicaof 127.0.0.1 6380\nbind 127.0.0.1 ::1\n"
                             "notify-keyspace-events Ex\nmaxmemory-clients 5%\n")
    assert config["databases"] == 4
    assert config.get_text("unixsocketperm") == "700"
    assert config["replicaof"] == ("127.0.0.1", 6380) and config.get_text("slaveof") == "127.0.0.1 6380"
    assert config["bind"] == "127.0.0.1 ::1"
    assert config.get_text("notify-keyspace-events") == "xE"
    assert config["maxmemory-clients"] == -5 and config.get_text("maxmemory-clients") == "5%"


def test_tls_cannot_be_configured(tmp_path) -> None:
    with pytest.raises(StartupError) as raised:
        _load(tmp_path, "tls-port 6380\n")
    assert "# No tls-cert-file configured!\n" in str(raised.value)
    assert str(raised.value).endswith("# Failed to configure TLS. Check logs for more info.\n")
    with pytest.raises(StartupError, match="Failed to configure TLS"):
        _load(tmp_path, "tls-cert-file /x.pem\ntls-replication yes\n")
