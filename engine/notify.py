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

Reply order. A RESP3 client subscribed to its own keys' events gets the pushes of a command it
runs in the order Redis 7.0.15 writes them into its output, which the command's spec declares:

* most commands notify, then add their reply (SET, DEL, SADD...): nothing to declare;
* ``engine.events_after_reply``: the events written after the reply (LPUSH, HSET, ZADD, GETDEL,
  EXPIRE, SET with GET -- ``when_token`` -- and LMOVE's ``lpop`` after its ``lpush``). The first
  such event of a run marks the reply point; it and every later event are published once the
  reply is queued (``sink.after_reply``; inside EXEC, multi.py's ``after_command_reply``);
* ``engine.events_inside_reply``: events written inside an aggregate reply whose first tokens
  were already written: ZPOPMIN's pop after the array header, BZPOPMIN's after the key, ZMPOP's
  after the key and the inner header, XREADGROUP/XCLAIM/XAUTOCLAIM's ``xgroup-createconsumer``,
  MGET's ``keymiss`` between the elements (``key_tokens`` per key before the missing one). The
  client's own pushes are spliced into its encoded reply (a ``Raw``), byte for byte as Redis
  sends them; the other subscribers get theirs as usual.

Only the handlers of those commands are wrapped, and the wrapper does nothing unless the client
is a subscribed RESP3 client (who never takes the C hot loop, which keeps the plain handler:
``CommandDef.hot_handler``). A blocked client served by another client's write gets the same
placement (``serve_placed``, called by engine/blocking.py); inside EXEC, engine/multi.py writes
each command's pushes around its reply within EXEC's array. Not reproduced: XREAD's second
``keymiss`` for a missing stream, which 7.0.15 writes after the streams served before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from specredis.engine.client import CLIENT_PUBSUB, Client
from specredis.engine.core import NOTIFY_KEYEVENT, NOTIFY_KEYSPACE
from specredis.protocol.encoder import encode
from specredis.protocol.replies import NO_REPLY, ErrorReply, Raw

if TYPE_CHECKING:
    from specredis.engine.command import CommandDef
    from specredis.engine.core import Engine


class KeyspaceNotifier:
    """The ``engine.notify_hooks`` entry that publishes keyspace and keyevent messages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pubsub = engine.extensions["pubsub"]
        self._db_prefixes: dict[int, tuple[bytes, bytes]] = {}
        # While a command that writes some of its events after (or inside) its reply runs for a
        # subscribed RESP3 client: how to place its events (None otherwise).
        self.placing: _Placement | None = None
        self.rules: dict[str, _Rules] = {}     # by command fullname, for the commands that place events

    def __call__(self, event_class: int, event: str, key: bytes, dbid: int) -> None:
        placing = self.placing
        if placing is not None and placing.hold((event_class, event, key, dbid)):
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

    def serve_placed(self, client: Client, serve: Callable[[bytes], Any], key: bytes) -> tuple[Any, Any]:
        """A blocked client served (engine/blocking.py): run ``serve(key)`` with the events placed
        as the blocking command's own (ZPOPMIN's pop inside BZPOPMIN's reply, BLPOP's after it).
        Returns the reply and a function publishing the events that follow it (call it once the
        reply is delivered), or None."""
        cmd = client.current_command
        rules = self.rules.get(cmd.fullname) if cmd is not None and cmd.fullname not in _SERVED_EVENTS_FIRST else None
        if rules is None:
            return serve(key), None
        placement = _Placement(self, rules)
        outer = self.placing
        self.placing = placement
        reply: Any = None
        failed = True
        try:
            reply = serve(key)
            failed = False
        finally:
            self.placing = outer
            placement.ready = True
            if placement.inside:
                reply = placement.publish_inside() if failed else placement.splice(client, reply, [])
            if failed:
                placement.publish_after()
        return reply, placement.publish_after

    def run_placed(self, handler: Callable[[Client, list[bytes]], Any], rules: _Rules, client: Client,
                   argv: list[bytes]) -> Any:
        """Run ``handler`` with its events placed around (or inside) its reply as ``rules`` say."""
        placement = _Placement(self, rules)
        # After this command's own reply: inside EXEC that is within EXEC's array (multi.py's
        # after_command_reply), otherwise once the reply is queued on the connection.
        sink = client.sink
        after_reply = getattr(sink, "after_command_reply", None) or getattr(sink, "after_reply", None)
        if after_reply is not None:
            # Registered before the handler runs, so these pushes precede the output the
            # handler itself defers (client tracking's invalidations come last, as in Redis).
            after_reply(placement.release)
        outer = self.placing
        self.placing = placement
        reply: Any = None
        failed = True
        try:
            reply = handler(client, argv)
            failed = False
        finally:
            self.placing = outer
            placement.ready = True
            if placement.inside:
                reply = placement.publish_inside() if failed else placement.splice(client, reply, argv)
            if placement.released or after_reply is None:
                placement.publish_after()
        return reply


# Blocking commands whose served path (the client woken by another's write) emits its events
# before building the reply: a blocked XREADGROUP creates its consumer then.
_SERVED_EVENTS_FIRST = frozenset(("xreadgroup",))


class _Rules:
    """Where a command's events go relative to its reply (the spec's ``events_after_reply`` and
    ``events_inside_reply``). With ``key_tokens``, an inside event of the key at position j
    among the command's keys goes after ``after_tokens + j * key_tokens`` tokens (MGET's
    keymiss after the elements of the keys before it)."""

    __slots__ = ("after", "inside", "after_tokens", "key_tokens", "first_key")

    def __init__(self, after: frozenset[str], inside: frozenset[str], after_tokens: int, key_tokens: int = 0,
                 first_key: int = 1) -> None:
        self.after = after
        self.inside = inside
        self.after_tokens = after_tokens
        self.key_tokens = key_tokens
        self.first_key = first_key


class _Placement:
    """One command's held-back events: those written inside its reply, and those after it."""

    __slots__ = ("notifier", "rules", "inside", "after", "ready", "released")

    def __init__(self, notifier: KeyspaceNotifier, rules: _Rules) -> None:
        self.notifier = notifier
        self.rules = rules
        self.inside: list[tuple[int, str, bytes, int]] = []
        self.after: list[tuple[int, str, bytes, int]] | None = None
        self.ready = False          # the handler has returned
        self.released = False       # the reply is queued (or there is none to wait for)

    def hold(self, event: tuple[int, str, bytes, int]) -> bool:
        """Keep ``event`` for later; False to publish it now (it comes before the reply)."""
        if self.after is not None or event[1] in self.rules.after:
            # The first event after the reply: it and all that follow wait for the reply.
            if self.after is None:
                self.after = []
            self.after.append(event)
            return True
        if event[1] in self.rules.inside:
            self.inside.append(event)
            return True
        return False

    def splice(self, client: Client, reply: Any, argv: list[bytes]) -> Any:
        """Publish the events Redis writes inside the reply; this client's own pushes go into
        the encoded reply where 7.0.15 writes them (after ``after_tokens`` RESP tokens, plus
        ``key_tokens`` per key before the event's key)."""
        events, self.inside = self.inside, []
        sink = client.sink
        capture = _CapturingSink(sink)
        client.sink = capture
        placed: list[tuple[bytes, list[Any]]] = []     # (key, this client's pushes for it)
        try:
            for event in events:
                capture.frames = []
                self.notifier.publish(*event)
                placed.append((event[2], capture.frames))
        finally:
            client.sink = sink
        if not any(frames for _, frames in placed):
            return reply
        if isinstance(reply, ErrorReply) or reply is NO_REPLY:
            for _, frames in placed:
                for frame in frames:
                    sink.deliver(frame)
            return reply
        rules = self.rules
        encoded = encode(reply, client.resp)
        keys = argv[rules.first_key:]
        next_key = 0
        pieces: list[bytes] = []
        done = 0
        for key, frames in placed:
            tokens = rules.after_tokens
            if rules.key_tokens:
                # The event's key among the command's keys, in order (a key may repeat).
                position = next_key
                while position < len(keys) and keys[position] != key:
                    position += 1
                next_key = position + 1
                tokens += position * rules.key_tokens
            cut = max(done, _after_tokens(encoded, tokens))
            pieces.append(encoded[done:cut])
            pieces.extend(encode(frame, client.resp) for frame in frames)
            done = cut
        pieces.append(encoded[done:])
        return Raw(b"".join(pieces))

    def publish_inside(self) -> None:
        events, self.inside = self.inside, []
        for event in events:
            self.notifier.publish(*event)

    def release(self) -> None:
        if self.ready:
            self.publish_after()
        else:
            self.released = True

    def publish_after(self) -> None:
        events, self.after = self.after, None
        for event in events or ():
            self.notifier.publish(*event)


class _CapturingSink:
    """Stands in for a client's sink while the pushes written inside its reply are made."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink
        self.frames: list[Any] = []

    def deliver(self, reply: Any) -> None:
        self.frames.append(reply)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sink, name)


def _after_tokens(data: bytes, count: int) -> int:
    """The offset in an encoded reply after its first ``count`` tokens: an aggregate's header
    is one token, a string (with its payload) or a number another."""
    pos = 0
    for _ in range(count):
        if pos >= len(data):
            break
        kind = data[pos:pos + 1]
        end = data.index(b"\r\n", pos)
        if kind in (b"$", b"=", b"!"):
            length = int(data[pos + 1:end])
            pos = end + 2 + (length + 2 if length >= 0 else 0)
        else:
            pos = end + 2
    return pos


def _event_names(declared: list[str]) -> frozenset[str]:
    return frozenset(item.split(":", 1)[1] for item in declared)


def placed_handler(notifier: KeyspaceNotifier, cmd: CommandDef) -> Callable[[Client, list[bytes]], Any] | None:
    """The handler that places ``cmd``'s events around its reply as Redis does, or None when
    the spec says all its events come before its reply."""
    engine_spec = cmd.engine or {}
    after = engine_spec.get("events_after_reply") or []
    inside = engine_spec.get("events_inside_reply") or {}
    if not (after or inside) or cmd.handler is None:
        return None
    handler = cmd.handler
    token: bytes | None = None
    first_option = 1
    if isinstance(after, dict):
        token = after["when_token"].upper().encode()
        first_option = after.get("from_arg", 1)
        after = after["events"]
    rules = _Rules(_event_names(after), _event_names(inside.get("events") or []), inside.get("after_tokens", 0),
                   inside.get("key_tokens", 0), max(cmd.first_key, 1))
    notifier.rules[cmd.fullname] = rules
    run = notifier.run_placed

    def handler_placing_events(client: Client, argv: list[bytes]) -> Any:
        if not client.flags & CLIENT_PUBSUB or client.resp != 3 \
                or (token is not None and not any(arg.upper() == token for arg in argv[first_option:])):
            return handler(client, argv)
        return run(handler, rules, client, argv)

    handler_placing_events.__doc__ = handler.__doc__
    handler_placing_events.__wrapped__ = handler      # type: ignore[attr-defined]
    return handler_placing_events


def install(engine: Engine) -> None:
    """Publish keyspace events (needs engine/pubsub.py installed first), and order the events
    of the commands that reply first after their reply."""
    notifier = KeyspaceNotifier(engine)
    engine.notify_hooks.append(notifier)
    engine.extensions["serve_placed"] = notifier.serve_placed
    for cmd in engine.command_defs.values():
        wrapped = placed_handler(notifier, cmd)
        if wrapped is not None:
            cmd.hot_handler = cmd.handler       # subscribed clients never take the C hot loop
            cmd.handler = wrapped
