"""Client tracking in-process (no sockets): the tracking table, the CLIENT CACHING window,
invalidations on expiry with an injected clock, one null invalidation per flush, and the
hooks being absent while nobody tracks."""

from __future__ import annotations

from specredis.engine.client import CLIENT_TRACKING_CACHING
from specredis.engine.core import Engine
from specredis.protocol.replies import Push, Raw


def run(engine: Engine, client, *argv: str):
    return engine.execute(client, [a.encode() for a in argv])


def invalidated(sink) -> list:
    """The keys of the invalidation pushes a sink received (None for a flush), then forget them."""
    out = []
    for reply in sink.delivered:
        if isinstance(reply, Push) and reply.items[0] == b"invalidate":
            value = reply.items[1]
            out.append(None if isinstance(value, Raw) else list(value))
    sink.delivered.clear()
    return out


def tracking_engine(clock=None):
    engine = Engine(clock=clock)
    tracker = engine.new_client()
    writer = engine.new_client()
    run(engine, tracker, "HELLO", "3")
    return engine, tracker, writer


def test_keys_come_from_the_key_specs_of_read_only_commands() -> None:
    engine, tracker, writer = tracking_engine()
    run(engine, tracker, "CLIENT", "TRACKING", "on")
    run(engine, tracker, "ZUNION", "2", "z1", "z2", "WITHSCORES")
    run(engine, tracker, "SORT_RO", "l", "BY", "w_*")
    run(engine, tracker, "SET", "notread", "1")             # a write: nothing remembered
    table = engine.extensions["tracking"].table
    assert sorted(table) == [b"l", b"z1", b"z2"]
    run(engine, writer, "ZADD", "z2", "1", "m")
    assert invalidated(tracker.sink) == [[b"z2"]]
    assert b"z2" not in table


def test_client_caching_covers_one_request() -> None:
    engine, tracker, writer = tracking_engine()
    run(engine, tracker, "CLIENT", "TRACKING", "on", "OPTIN")
    run(engine, tracker, "CLIENT", "CACHING", "yes")
    run(engine, tracker, "CLIENT", "GETREDIR")               # CLIENT commands keep the window open
    assert tracker.flags & CLIENT_TRACKING_CACHING
    run(engine, tracker, "NOSUCHCOMMAND")                    # a refused request closes it
    assert not tracker.flags & CLIENT_TRACKING_CACHING
    run(engine, tracker, "CLIENT", "CACHING", "yes")
    run(engine, tracker, "GET", "a")
    run(engine, tracker, "GET", "b")
    assert sorted(engine.extensions["tracking"].table) == [b"a"]


def test_expired_keys_are_invalidated_lazily_and_actively() -> None:
    now = [1_000_000]
    engine, tracker, writer = tracking_engine(clock=lambda: now[0])
    run(engine, writer, "SET", "lazy", "1", "PX", "10")
    run(engine, writer, "SET", "active", "1", "PX", "10")
    run(engine, tracker, "CLIENT", "TRACKING", "on")
    run(engine, tracker, "MGET", "lazy", "active")
    now[0] += 20
    run(engine, writer, "GET", "lazy")
    assert invalidated(tracker.sink) == [[b"lazy"]]
    for _ in range(50):
        engine.cron()
        now[0] += 100
    assert invalidated(tracker.sink) == [[b"active"]]


def test_flushall_sends_one_null_invalidation() -> None:
    engine, tracker, writer = tracking_engine()
    run(engine, tracker, "CLIENT", "TRACKING", "on")
    run(engine, tracker, "GET", "k")
    run(engine, writer, "FLUSHALL")
    assert invalidated(tracker.sink) == [None]
    assert engine.extensions["tracking"].table == {}


def test_hooks_are_installed_only_while_tracking_is_used() -> None:
    engine, tracker, writer = tracking_engine()
    before = (len(engine.key_modified_hooks), len(engine.after_command_hooks), engine.gated)
    run(engine, tracker, "CLIENT", "TRACKING", "on")
    run(engine, tracker, "GET", "k")
    assert engine.gated and len(engine.after_command_hooks) == before[1] + 1
    run(engine, tracker, "CLIENT", "TRACKING", "off")
    # The key read stays in the table (a re-enabled client still hears of it) until it changes.
    assert engine.extensions["tracking"].table
    run(engine, writer, "SET", "k", "1")
    assert (len(engine.key_modified_hooks), len(engine.after_command_hooks), engine.gated) == before


def test_noloop_knows_who_wrote() -> None:
    engine, tracker, writer = tracking_engine()
    run(engine, tracker, "CLIENT", "TRACKING", "on", "NOLOOP")
    run(engine, tracker, "GET", "mine")
    run(engine, tracker, "GET", "theirs")
    run(engine, tracker, "SET", "mine", "1")
    run(engine, writer, "SET", "theirs", "1")
    assert invalidated(tracker.sink) == [[b"theirs"]]
