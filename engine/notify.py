"""Keyspace notifications (Redis's notify.c).

Handlers report what they did with ``engine.notify(NOTIFY_<class>, event, key, dbid)``
(each command's possible events are listed in its spec under ``engine.keyspace_events``).
``engine.notify`` filters by ``engine.notify_flags``, which the ``notify-keyspace-events``
parameter sets (its text <-> flags conversion is ``parse_notify_flags`` /
``format_notify_flags`` in ``engine/settings.py``; CONFIG GET shows the canonical form, ``A``
standing for ``g$lshzxetd``). This module turns an event into Pub/Sub messages:

* ``__keyspace@<db>__:<key>`` with the event name as the message (class ``K``);
* ``__keyevent@<db>__:<event>`` with the key as the message (class ``E``).

Messages go through the normal PUBLISH path (subscribers and pattern subscribers), but are
not propagated to replicas: replicas generate their own.

Reply order. A RESP3 client subscribed to its own keys' events gets the pushes of a command
it runs in the order Redis 7.0.15 writes them into its output: most commands notify and then
add their reply (SET, DEL, SADD...), but many add their reply first (LPUSH, HSET, ZADD, GETDEL,
EXPIRE, SET with GET...), and some reply between their events (LMOVE: ``lpush``, reply,
``lpop``). A command's spec lists the events that follow its reply in
``engine.events_after_reply`` (optionally only ``when_token`` is among its arguments); the
first such event of a run marks the reply point, and it and every later event of the command
are published once the reply is queued (``sink.after_reply``). Only handlers of such commands
are wrapped, and the wrapper does nothing unless the client is a subscribed RESP3 client (who
never takes the C hot loop, which keeps the plain handler: ``CommandDef.hot_handler``).
Redis 7.0.15 also writes some pushes into the middle of a multi-part reply (ZPOPMIN's array,
BZPOPMIN, ZMPOP, XREADGROUP creating a consumer, MGET's keymiss): breaking RESP3 framing is not
reproduced; those pushes come before the reply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from specredis.engine.client import CLIENT_PUBSUB, Client
from specredis.engine.core import NOTIFY_KEYEVENT, NOTIFY_KEYSPACE

if TYPE_CHECKING:
    from specredis.engine.command import CommandDef
    from specredis.engine.core import Engine


class KeyspaceNotifier:
    """The ``engine.notify_hooks`` entry that publishes keyspace and keyevent messages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pubsub = engine.extensions["pubsub"]
        self._db_prefixes: dict[int, tuple[bytes, bytes]] = {}
        # While a command whose reply precedes some of its events runs for a subscribed RESP3
        # client: the names of those events, and the events held back once one was seen.
        self.after_reply_events: frozenset[str] | None = None
        self.held: list[tuple[int, str, bytes, int]] | None = None

    def __call__(self, event_class: int, event: str, key: bytes, dbid: int) -> None:
        if self.after_reply_events is not None and (self.held is not None or event in self.after_reply_events):
            if self.held is None:
                self.held = []
            self.held.append((event_class, event, key, dbid))
            return
        self.publish(event_class, event, key, dbid)

    def publish(self, event_class: int, event: str, key: bytes, dbid: int) -> None:
        """Publish one event on the keyspace and keyevent channels its flags enable."""
        pubsub = self.pubsub
        if not pubsub.channels and not pubsub.patterns:
            return      # nobody can hear it: skip building channel names
        flags = self.engine.notify_flags
        prefixes = self._db_prefixes.get(dbid)
        if prefixes is None:
            prefixes = self._db_prefixes[dbid] = (b"__keyspace@%d__:" % dbid, b"__keyevent@%d__:" % dbid)
        name = event.encode()
        if flags & NOTIFY_KEYSPACE:
            pubsub.publish(prefixes[0] + key, name)
        if flags & NOTIFY_KEYEVENT:
            pubsub.publish(prefixes[1] + name, key)

    def run_replying_first(self, handler: Callable[[Client, list[bytes]], Any], events: frozenset[str],
                           client: Client, argv: list[bytes]) -> Any:
        """Run ``handler`` holding back ``events`` (and what follows the first of them) until
        the client's reply is queued."""
        batch = _HeldEvents(self)
        after_reply = getattr(client.sink, "after_reply", None)
        if after_reply is not None:
            # Registered before the handler runs, so these pushes precede the output the
            # handler itself defers (client tracking's invalidations come last, as in Redis).
            after_reply(batch.release)
        outer = (self.after_reply_events, self.held)
        self.after_reply_events, self.held = events, None
        try:
            return handler(client, argv)
        finally:
            batch.events = self.held
            self.after_reply_events, self.held = outer
            batch.ready = True
            if batch.released or after_reply is None:
                batch.publish()


class _HeldEvents:
    """The events one command holds back until its reply is queued."""

    __slots__ = ("notifier", "events", "ready", "released")

    def __init__(self, notifier: KeyspaceNotifier) -> None:
        self.notifier = notifier
        self.events: list[tuple[int, str, bytes, int]] | None = None
        self.ready = False          # the handler has returned
        self.released = False       # the reply is queued (or there is none to wait for)

    def release(self) -> None:
        if self.ready:
            self.publish()
        else:
            self.released = True

    def publish(self) -> None:
        events, self.events = self.events, None
        for event_class, event, key, dbid in events or ():
            self.notifier.publish(event_class, event, key, dbid)


def _event_names(declared: list[str]) -> frozenset[str]:
    return frozenset(item.split(":", 1)[1] for item in declared)


def reply_first_handler(notifier: KeyspaceNotifier, cmd: CommandDef) -> Callable[[Client, list[bytes]], Any] | None:
    """The handler that orders ``cmd``'s events around its reply as Redis does, or None when
    the spec says all its events come before its reply."""
    declared = (cmd.engine or {}).get("events_after_reply")
    if not declared or cmd.handler is None:
        return None
    handler = cmd.handler
    token: bytes | None = None
    first_option = 1
    if isinstance(declared, dict):
        token = declared["when_token"].upper().encode()
        first_option = declared.get("from_arg", 1)
        declared = declared["events"]
    events = _event_names(declared)
    run = notifier.run_replying_first

    def handler_replying_before_events(client: Client, argv: list[bytes]) -> Any:
        if not client.flags & CLIENT_PUBSUB or client.resp != 3 \
                or (token is not None and not any(arg.upper() == token for arg in argv[first_option:])):
            return handler(client, argv)
        return run(handler, events, client, argv)

    handler_replying_before_events.__doc__ = handler.__doc__
    handler_replying_before_events.__wrapped__ = handler      # type: ignore[attr-defined]
    return handler_replying_before_events


def install(engine: Engine) -> None:
    """Publish keyspace events (needs engine/pubsub.py installed first), and order the events
    of the commands that reply first after their reply."""
    notifier = KeyspaceNotifier(engine)
    engine.notify_hooks.append(notifier)
    for cmd in engine.command_defs.values():
        wrapped = reply_first_handler(notifier, cmd)
        if wrapped is not None:
            cmd.hot_handler = cmd.handler       # subscribed clients never take the C hot loop
            cmd.handler = wrapped
