"""Pub/Sub (Redis's pubsub.c): SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs,
PUBLISH, SPUBLISH and PUBSUB; and the client output buffer limits (networking.c), whose
main customers are slow subscribers.

Who listens where is kept twice, as in Redis: per engine (channel -> subscribed clients,
in subscription order, which is the delivery order) and per client (``client.channels``,
``client.patterns``, ``client.shard_channels``: dicts used as ordered sets). A pattern
message goes to every pattern that matches, in the order patterns were first subscribed.

Replies. A subscription change answers with one confirmation per channel, e.g.
``["subscribe", channel, count]``: RESP2 arrays, RESP3 push frames. Redis writes these
into the output as they are made, so a handler returns them as one :class:`Raw` reply
holding all the frames: inside EXEC they then land inline in EXEC's array (whose length
counts commands, not frames, exactly as in Redis). Confirmations and messages are
*pushed* in Redis 7.0: CLIENT REPLY OFF/SKIP does not hide them, so in those modes they
go out through the sink instead.

Messages go out through ``client.sink.deliver``. The server glue keeps a message to the
client whose command is running in its place among that client's replies (a RESP3 client
publishing to itself sees the message before the PUBLISH reply).

``CLIENT_PUBSUB`` is set while the client has any subscription (shard channels included),
which is what confines a RESP2 client to the subscribed context (the dispatcher's gate)
and makes it a ``pubsub`` client for CLIENT LIST/KILL TYPE and the output limits.

Output buffer limits (``client-output-buffer-limit <class> <hard> <soft> <soft-seconds>``):
:func:`check_output_limits` runs after the server writes to a client whose transport is
holding unsent bytes, and once a second from the cron for every client. A client over its
hard limit, or over its soft limit for more than soft-seconds, is dropped with its unsent
output, as freeClientAsync does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specredis.engine.client import CLIENT_CLOSE_ASAP, CLIENT_MULTI, CLIENT_PUBSUB, Client
from specredis.engine.errors import subcommand_syntax_error
from specredis.engine.glob import compile_glob, glob_match
from specredis.engine.help import help_reply
from specredis.protocol.encoder import encode
from specredis.protocol.replies import NO_REPLY, Push, Raw
from specredis.util.log import log

if TYPE_CHECKING:
    from specredis.engine.core import Engine

PUBSUB_HELP = (
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
)

# Where the soft output limit was first seen exceeded (unix seconds), in client.extra.
_SOFT_SINCE = "obuf_soft_limit_reached_time"


class PubSub:
    """The engine-wide subscription tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.channels: dict[bytes, dict[Client, None]] = {}
        # pattern -> (compiled glob, subscribed clients)
        self.patterns: dict[bytes, tuple[Any, dict[Client, None]]] = {}
        self.shard_channels: dict[bytes, dict[Client, None]] = {}

    # -- publishing ----------------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes) -> int:
        """Send ``message`` to the subscribers of ``channel`` and of the patterns matching it;
        the number of deliveries (pubsubPublishMessage)."""
        receivers = 0
        subscribers = self.channels.get(channel)
        if subscribers:
            frames = _Frames((b"message", channel, message))
            targets = list(subscribers)
            receivers = len(targets)
            for client in targets:
                _deliver(client, frames)
        if self.patterns:
            for pattern, (regex, clients) in list(self.patterns.items()):
                if regex.match(channel) is None:
                    continue
                frames = _Frames((b"pmessage", pattern, channel, message))
                for client in list(clients):
                    _deliver(client, frames)
                    receivers += 1
        return receivers

    def publish_shard(self, channel: bytes, message: bytes) -> int:
        """SPUBLISH: shard channels have no patterns."""
        subscribers = self.shard_channels.get(channel)
        if not subscribers:
            return 0
        frames = _Frames((b"smessage", channel, message))
        targets = list(subscribers)
        for client in targets:
            _deliver(client, frames)
        return len(targets)

    # -- subscriptions -------------------------------------------------------------------

    def subscribe(self, client: Client, channel: bytes, shard: bool = False) -> None:
        mine = client.shard_channels if shard else client.channels
        if mine is None:
            mine = {}
            if shard:
                client.shard_channels = mine
            else:
                client.channels = mine
        if channel in mine:
            return
        mine[channel] = None
        table = self.shard_channels if shard else self.channels
        table.setdefault(channel, {})[client] = None

    def unsubscribe(self, client: Client, channel: bytes, shard: bool = False) -> bool:
        """Drop one subscription; True if the client had it."""
        mine = client.shard_channels if shard else client.channels
        if not mine or channel not in mine:
            return False
        del mine[channel]
        table = self.shard_channels if shard else self.channels
        subscribers = table.get(channel)
        if subscribers is not None:
            subscribers.pop(client, None)
            if not subscribers:
                del table[channel]
        return True

    def psubscribe(self, client: Client, pattern: bytes) -> None:
        mine = client.patterns
        if mine is None:
            mine = client.patterns = {}
        if pattern in mine:
            return
        mine[pattern] = None
        entry = self.patterns.get(pattern)
        if entry is None:
            entry = self.patterns[pattern] = (compile_glob(pattern), {})
        entry[1][client] = None

    def punsubscribe(self, client: Client, pattern: bytes) -> bool:
        mine = client.patterns
        if not mine or pattern not in mine:
            return False
        del mine[pattern]
        entry = self.patterns.get(pattern)
        if entry is not None:
            entry[1].pop(client, None)
            if not entry[1]:
                del self.patterns[pattern]
        return True

    def drop_client(self, client: Client) -> None:
        """Forget every subscription of ``client`` without telling it (disconnect, RESET)."""
        for channel in list(client.channels or ()):
            self.unsubscribe(client, channel)
        for channel in list(client.shard_channels or ()):
            self.unsubscribe(client, channel, shard=True)
        for pattern in list(client.patterns or ()):
            self.punsubscribe(client, pattern)
        client.channels = client.patterns = client.shard_channels = None
        client.flags &= ~CLIENT_PUBSUB


class _Frames:
    """One message, encoded once per protocol however many clients receive it."""

    __slots__ = ("items", "encoded")

    def __init__(self, items: tuple) -> None:
        self.items = items
        self.encoded: dict[int, Raw] = {}

    def for_protocol(self, resp: int) -> Raw:
        raw = self.encoded.get(resp)
        if raw is None:
            # A push of bulk strings (what encode(Push(...)) writes), formatted directly: this
            # runs once per PUBLISH with a subscriber.
            items = self.items
            raw = self.encoded[resp] = Raw((b">%d\r\n" if resp == 3 else b"*%d\r\n") % len(items) + b"".join(
                [b"$%d\r\n%s\r\n" % (len(item), item) for item in items]))
        return raw


def _deliver(client: Client, frames: _Frames) -> None:
    if client.flags & CLIENT_CLOSE_ASAP:
        return          # dropped already (output limits): Redis stops writing to it
    client.sink.deliver(frames.for_protocol(client.resp))


def pubsub_state(engine: Engine) -> PubSub:
    """The engine's subscription tables."""
    return engine.extensions["pubsub"]


def publish(engine: Engine, channel: bytes, message: bytes) -> int:
    """Publish from inside the engine (keyspace notifications, tracking redirection)."""
    return engine.extensions["pubsub"].publish(channel, message)


# -- subscription replies ---------------------------------------------------------------------


def _subscription_count(client: Client) -> int:
    """clientSubscriptionsCount: channels and patterns (shard channels count apart)."""
    return len(client.channels or ()) + len(client.patterns or ())


def _update_pubsub_flag(client: Client) -> None:
    if client.channels or client.patterns or client.shard_channels:
        client.flags |= CLIENT_PUBSUB
    else:
        client.flags &= ~CLIENT_PUBSUB


def _confirmations(client: Client, frames: list[list]) -> Any:
    """The reply of a (un)subscribe command: its confirmation frames, pushed."""
    resp = client.resp
    data = b"".join(encode(Push(frame), resp) for frame in frames)
    if client.flags & CLIENT_MULTI or (client.reply_mode == "on" and not client.skip_next_reply):
        return Raw(data)
    # CLIENT REPLY OFF/SKIP does not hold back pushed output; SKIP is used up by this command.
    client.skip_next_reply = False
    client.sink.deliver(Raw(data))
    return NO_REPLY


# -- commands -----------------------------------------------------------------------------------


def subscribe_command(client: Client, argv: list[bytes]) -> Any:
    """SUBSCRIBE channel [channel ...]"""
    state = pubsub_state(client.engine)
    frames = []
    for channel in argv[1:]:
        state.subscribe(client, channel)
        frames.append([b"subscribe", channel, _subscription_count(client)])
    client.flags |= CLIENT_PUBSUB
    return _confirmations(client, frames)


def ssubscribe_command(client: Client, argv: list[bytes]) -> Any:
    """SSUBSCRIBE shardchannel [shardchannel ...]"""
    state = pubsub_state(client.engine)
    frames = []
    for channel in argv[1:]:
        state.subscribe(client, channel, shard=True)
        frames.append([b"ssubscribe", channel, len(client.shard_channels or ())])
    client.flags |= CLIENT_PUBSUB
    return _confirmations(client, frames)


def psubscribe_command(client: Client, argv: list[bytes]) -> Any:
    """PSUBSCRIBE pattern [pattern ...]"""
    state = pubsub_state(client.engine)
    frames = []
    for pattern in argv[1:]:
        state.psubscribe(client, pattern)
        frames.append([b"psubscribe", pattern, _subscription_count(client)])
    client.flags |= CLIENT_PUBSUB
    return _confirmations(client, frames)


def unsubscribe_command(client: Client, argv: list[bytes]) -> Any:
    """UNSUBSCRIBE [channel [channel ...]]"""
    state = pubsub_state(client.engine)
    frames = []
    names = argv[1:] if len(argv) > 1 else list(client.channels or ())
    for channel in names:
        state.unsubscribe(client, channel)
        frames.append([b"unsubscribe", channel, _subscription_count(client)])
    if not frames:
        frames.append([b"unsubscribe", None, _subscription_count(client)])
    _update_pubsub_flag(client)
    return _confirmations(client, frames)


def sunsubscribe_command(client: Client, argv: list[bytes]) -> Any:
    """SUNSUBSCRIBE [shardchannel [shardchannel ...]]"""
    state = pubsub_state(client.engine)
    frames = []
    names = argv[1:] if len(argv) > 1 else list(client.shard_channels or ())
    for channel in names:
        state.unsubscribe(client, channel, shard=True)
        frames.append([b"sunsubscribe", channel, len(client.shard_channels or ())])
    if not frames:
        frames.append([b"sunsubscribe", None, len(client.shard_channels or ())])
    _update_pubsub_flag(client)
    return _confirmations(client, frames)


def punsubscribe_command(client: Client, argv: list[bytes]) -> Any:
    """PUNSUBSCRIBE [pattern [pattern ...]]"""
    state = pubsub_state(client.engine)
    frames = []
    names = argv[1:] if len(argv) > 1 else list(client.patterns or ())
    for pattern in names:
        state.punsubscribe(client, pattern)
        frames.append([b"punsubscribe", pattern, _subscription_count(client)])
    if not frames:
        frames.append([b"punsubscribe", None, _subscription_count(client)])
    _update_pubsub_flag(client)
    return _confirmations(client, frames)


def _force_replication(client: Client, argv: list[bytes]) -> None:
    # forceCommandPropagation(c, PROPAGATE_REPL) in a standalone server; a cluster forwards
    # messages over its bus instead.
    engine = client.engine
    # (Nothing to do when nothing consumes propagation -- no AOF, no replica, no EXEC or
    # script collecting: the dispatcher would only reset what this asks for.)
    if engine.propagation_consumers and engine.extensions.get("cluster") is None:
        engine.also_propagate(client.db.id, list(argv))
        engine.prevent_propagation()


def publish_command(client: Client, argv: list[bytes]) -> int:
    """PUBLISH channel message"""
    receivers = pubsub_state(client.engine).publish(argv[1], argv[2])
    _force_replication(client, argv)
    return receivers


def spublish_command(client: Client, argv: list[bytes]) -> int:
    """SPUBLISH shardchannel message"""
    receivers = pubsub_state(client.engine).publish_shard(argv[1], argv[2])
    _force_replication(client, argv)
    return receivers


def _active_channels(table: dict[bytes, Any], argv: list[bytes]) -> list[bytes]:
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    if len(argv) == 2:
        return list(table)
    pattern = argv[2]
    return [channel for channel in table if glob_match(pattern, channel)]


def pubsub_channels_command(client: Client, argv: list[bytes]) -> list[bytes]:
    """PUBSUB CHANNELS [pattern]"""
    return _active_channels(pubsub_state(client.engine).channels, argv)


def pubsub_shardchannels_command(client: Client, argv: list[bytes]) -> list[bytes]:
    """PUBSUB SHARDCHANNELS [pattern]"""
    return _active_channels(pubsub_state(client.engine).shard_channels, argv)


def _subscriber_counts(table: dict[bytes, dict[Client, None]], channels: list[bytes]) -> list:
    out: list = []
    for channel in channels:
        out.append(channel)
        out.append(len(table.get(channel) or ()))
    return out


def pubsub_numsub_command(client: Client, argv: list[bytes]) -> list:
    """PUBSUB NUMSUB [channel [channel ...]]"""
    return _subscriber_counts(pubsub_state(client.engine).channels, argv[2:])


def pubsub_shardnumsub_command(client: Client, argv: list[bytes]) -> list:
    """PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]"""
    return _subscriber_counts(pubsub_state(client.engine).shard_channels, argv[2:])


def pubsub_numpat_command(client: Client, argv: list[bytes]) -> int:
    """PUBSUB NUMPAT"""
    return len(pubsub_state(client.engine).patterns)


def pubsub_help_command(client: Client, argv: list[bytes]) -> Any:
    """PUBSUB HELP"""
    return help_reply(argv, PUBSUB_HELP)


# -- client output buffer limits ------------------------------------------------------------


def output_limit_class(client: Client) -> str:
    """The client-output-buffer-limit class of a client (masters count as normal clients)."""
    from specredis.engine.clients import TYPE_PUBSUB, TYPE_REPLICA, client_type

    kind = client_type(client)
    if kind == TYPE_PUBSUB:
        return "pubsub"
    if kind == TYPE_REPLICA:
        return "replica"
    return "normal"


def output_limit_reached(client: Client) -> bool:
    """checkClientOutputBufferLimits: over the hard limit, or over the soft one for longer
    than its seconds. Keeps the time the soft limit was first seen exceeded."""
    engine = client.engine
    cls = output_limit_class(client)
    hard, soft, soft_seconds = engine.config["client-output-buffer-limit"][cls]
    used = client.sink.output_buffer_size()
    if cls == "replica" and hard and hard < engine.config["repl-backlog-size"]:
        hard = engine.config["repl-backlog-size"]     # a smaller replica limit is ignored, as in Redis
    if hard and used >= hard:
        return True
    extra = client.extra
    if soft and used >= soft:
        now_s = engine.clock() // 1000
        since = extra.get(_SOFT_SINCE)
        if since is None:
            extra[_SOFT_SINCE] = now_s
            return False
        return now_s - since > soft_seconds
    extra.pop(_SOFT_SINCE, None)
    return False


def check_output_limits(client: Client) -> bool:
    """Drop ``client`` with its unsent output if it is over its limits (closeClientOnOutputBufferLimitReached)."""
    if client.flags & CLIENT_CLOSE_ASAP or not output_limit_reached(client):
        return False
    log("warning", f"Client {_client_description(client)} scheduled to be closed ASAP for overcoming of "
                   "output buffer limits.")
    client.flags |= CLIENT_CLOSE_ASAP
    abort = getattr(client.sink, "abort", None)
    if abort is not None:
        abort()
    else:
        client.sink.close()
    return True


def _client_description(client: Client) -> str:
    from specredis.engine.clients import client_info_line

    return client_info_line(client, client.engine.now_ms())


class _OutputLimitCron:
    """clientsCron's share: a client stuck over its soft limit is dropped even when nothing
    new is written to it, and one back under it forgets when it went over."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.last_run_ms = 0

    def __call__(self) -> None:
        engine = self.engine
        now = engine.now_ms()
        if now - self.last_run_ms < 1000:
            return
        self.last_run_ms = now
        for client in list(engine.clients.values()):
            if _SOFT_SINCE in client.extra or client.sink.output_buffer_size():
                check_output_limits(client)


# -- installation ---------------------------------------------------------------------------


def install(engine: Engine) -> None:
    """The subscription tables, their cleanup on disconnect and RESET, the output limits."""
    state = PubSub(engine)
    engine.extensions["pubsub"] = state
    engine.extensions.setdefault("client_closed_hooks", []).append(state.drop_client)
    engine.extensions.setdefault("client_reset_hooks", []).append(state.drop_client)
    engine.extensions["output_limits"] = check_output_limits
    engine.cron_hooks.append(_OutputLimitCron(engine))
