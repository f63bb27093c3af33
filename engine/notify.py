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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from specredis.engine.core import NOTIFY_KEYEVENT, NOTIFY_KEYSPACE

if TYPE_CHECKING:
    from specredis.engine.core import Engine


class KeyspaceNotifier:
    """The ``engine.notify_hooks`` entry that publishes keyspace and keyevent messages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pubsub = engine.extensions["pubsub"]
        self._db_prefixes: dict[int, tuple[bytes, bytes]] = {}

    def __call__(self, event_class: int, event: str, key: bytes, dbid: int) -> None:
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


def install(engine: Engine) -> None:
    """Publish keyspace events (needs engine/pubsub.py installed first)."""
    engine.notify_hooks.append(KeyspaceNotifier(engine))
