"""Per-connection state, as the engine sees it.

The engine never touches sockets: a client talks to its connection through a
``sink`` (see :class:`ClientSink`), which the asyncio layer implements. In-process
tests use :class:`CollectingSink`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from specredis.engine.core import Engine
    from specredis.engine.keyspace import Database


class ClientSink(Protocol):
    """What the engine may do to a connection besides returning replies."""

    def deliver(self, reply: Any) -> None:
        """Send a reply out of band (pub/sub messages, the reply of an unblocked command)."""

    def resume(self) -> None:
        """The client was unblocked: go on with its queued requests."""

    def close(self, after_reply: bool = False) -> None:
        """Close the connection (CLIENT KILL, QUIT, output limits)."""

    def output_buffer_size(self) -> int:
        """Bytes waiting to be written to the peer."""


class CollectingSink:
    """A sink that records what it is given; for in-process use and tests."""

    def __init__(self) -> None:
        self.delivered: list[Any] = []
        self.closed = False
        self.resumed = 0

    def deliver(self, reply: Any) -> None:
        self.delivered.append(reply)

    def resume(self) -> None:
        self.resumed += 1

    def close(self, after_reply: bool = False) -> None:
        self.closed = True

    def output_buffer_size(self) -> int:
        return 0


# Client flags (a subset of Redis's CLIENT_* used by CLIENT LIST 'flags=').
CLIENT_MULTI = 1 << 0          # inside MULTI
CLIENT_DIRTY_CAS = 1 << 1      # a WATCHed key was touched
CLIENT_DIRTY_EXEC = 1 << 2     # a queueing error: EXEC will abort
CLIENT_BLOCKED = 1 << 3        # waiting in a blocking command
CLIENT_PUBSUB = 1 << 4         # has subscriptions
CLIENT_MONITOR = 1 << 5
CLIENT_CLOSE_ASAP = 1 << 6
CLIENT_CLOSE_AFTER_REPLY = 1 << 7
CLIENT_TRACKING = 1 << 8
CLIENT_NO_EVICT = 1 << 9
CLIENT_READONLY = 1 << 10      # cluster READONLY
CLIENT_ASKING = 1 << 11
CLIENT_SCRIPT = 1 << 12        # the fake client of scripts
CLIENT_MASTER = 1 << 13
CLIENT_REPLICA = 1 << 14
CLIENT_UNBLOCKED = 1 << 15
CLIENT_TRACKING_CACHING = 1 << 16   # CLIENT CACHING YES/NO given for the next command (engine/tracking.py)
CLIENT_PENDING_PUSH = 1 << 17       # output waits for the reply of the running command (sink.after_reply)


class Client:
    """One connection's state: selected database, protocol, auth, transaction, flags."""

    __slots__ = (
        "id", "engine", "sink", "db", "resp", "name", "lib_name", "lib_ver", "user", "authenticated",
        "flags", "addr", "laddr", "fd", "created_ms", "last_interaction_ms", "multi_queue",
        "watched_keys", "reply_mode", "skip_next_reply", "current_command", "last_command",
        "channels", "patterns", "shard_channels", "blocked", "tracking", "extra",
        "query_buffer_size", "argv_mem", "total_net_input", "total_net_output", "commands_processed",
    )

    def __init__(self, engine: Engine, sink: ClientSink, addr: str = "", laddr: str = "",
                 fd: int = -1) -> None:
        self.id = engine.next_client_id()
        self.engine = engine
        self.sink = sink
        self.db: Database = engine.databases[0]
        self.resp = 2
        self.name: bytes | None = None
        self.lib_name: bytes | None = None
        self.lib_ver: bytes | None = None
        self.user = "default"
        self.authenticated = not engine.auth_required()
        self.flags = 0
        self.addr = addr
        self.laddr = laddr
        self.fd = fd
        now = engine.now_ms()
        self.created_ms = now
        self.last_interaction_ms = now
        self.multi_queue: list | None = None
        self.watched_keys: list | None = None
        self.reply_mode = "on"          # on | off | skip (CLIENT REPLY)
        self.skip_next_reply = False
        self.current_command = None
        self.last_command = None
        # Subscriptions (engine/pubsub.py): dicts used as ordered sets.
        self.channels: dict[bytes, None] | None = None
        self.patterns: dict[bytes, None] | None = None
        self.shard_channels: dict[bytes, None] | None = None
        self.blocked: Any = None        # the blocking state (engine/blocking.py) while blocked
        self.tracking: Any = None       # client-side caching state while tracking is on
        self.extra: dict[str, Any] = {}
        self.query_buffer_size = 0
        self.argv_mem = 0
        self.total_net_input = 0
        self.total_net_output = 0
        self.commands_processed = 0

    @property
    def db_index(self) -> int:
        return self.db.id

    def subscription_count(self) -> int:
        return len(self.channels or ()) + len(self.patterns or ())

    def in_pubsub_context(self) -> bool:
        """RESP2 clients with subscriptions may only run a few commands (Redis's pubsub context)."""
        return bool(self.channels or self.patterns or self.shard_channels)

    def __repr__(self) -> str:
        return f"<Client id={self.id} addr={self.addr}>"
