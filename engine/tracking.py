"""Client-side caching (Redis's tracking.c): CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO.

Two modes, as in Redis:

* **Default mode**: the server remembers which clients read which keys (the *tracking
  table*: key name -> client ids; databases are not told apart, as in Redis). When a key
  is modified, expired, evicted or flushed, each client that read it gets one
  invalidation message and the key leaves the table: the client must read it again to
  hear about it again. OPTIN (keys read only after ``CLIENT CACHING yes``) and OPTOUT
  (all keys but those read after ``CLIENT CACHING no``) choose what is remembered;
  ``CLIENT CACHING`` covers the next request (all of a MULTI ... EXEC).
* **BCAST mode**: nothing is remembered per client; every modified key that starts with
  one of the client's prefixes (``""`` when none is given) is collected per prefix and
  sent in one message per prefix once the current event-loop turn is over (Redis's
  beforeSleep), keys in lexicographic order.

Keys read are remembered after every read-only command (not EVAL_RO/EVALSHA_RO/FCALL_RO
themselves, but the commands their scripts run), taken from the command's key specs.

Messages: a RESP3 client gets ``>2 invalidate [key ...]`` pushes (a null instead of the
array after FLUSHALL/FLUSHDB). With ``REDIRECT <id>`` they go to that client instead: as
pushes if it speaks RESP3, as Pub/Sub messages on ``__redis__:invalidate`` if it is a
RESP2 subscriber, otherwise nowhere. A redirect to a client that has gone away sets
``broken_redirect`` and, for a RESP3 client, pushes ``tracking-redir-broken <id>`` instead.
NOLOOP drops invalidations of keys the client changed itself. Invalidations meant for the
client whose command is running are sent after that command's reply (after EXEC's whole
reply in a transaction), as Redis 7.0 does, through ``sink.after_reply``.

``tracking-table-max-keys`` bounds the table: past it, keys are invalidated (oldest
first, with Redis's effort ramp) until it fits again.

The keyspace hooks (modified keys, flushes, after-command) are installed only while some
client tracks or the table still holds keys, so tracking costs nothing when unused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specredis.engine.args import parse_int
from specredis.engine.client import (
    CLIENT_CLOSE_ASAP,
    CLIENT_MULTI,
    CLIENT_PUBSUB,
    CLIENT_TRACKING,
    CLIENT_TRACKING_CACHING,
    Client,
)
from specredis.engine.command import CMD_PUBSUB, CMD_READONLY, CommandDef
from specredis.engine.errors import SYNTAX, RedisError
from specredis.engine.keys import command_keys
from specredis.protocol.replies import OK, Map, Push, Raw, Set

if TYPE_CHECKING:
    from specredis.engine.core import Engine
    from specredis.engine.keyspace import Database

INVALIDATE_CHANNEL = b"__redis__:invalidate"
# Read-only scripts are not tracked themselves: the commands they run are.
_SCRIPT_COMMANDS = frozenset({"eval_ro", "evalsha_ro", "fcall_ro"})
# Stands for "every key" (FLUSHALL/FLUSHDB): the message carries a null instead of keys.
FLUSH = None


class ClientTracking:
    """``client.tracking`` while tracking is on: the options of CLIENT TRACKING."""

    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "broken_redirect", "prefixes")

    def __init__(self) -> None:
        self.redirect = 0
        self.bcast = False
        self.optin = False
        self.optout = False
        self.noloop = False
        self.broken_redirect = False
        self.prefixes: list[bytes] = []      # BCAST prefixes, kept sorted (TRACKINGINFO order)


class _Prefix:
    """One BCAST prefix: its clients, and the keys changed since the last broadcast with the
    client that changed each last (for NOLOOP)."""

    __slots__ = ("clients", "keys")

    def __init__(self) -> None:
        self.clients: dict[Client, None] = {}
        self.keys: dict[bytes, Client | None] = {}


class Tracking:
    """The engine-wide tracking state: ``engine.extensions["tracking"]``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table: dict[bytes, dict[int, None]] = {}
        self.total_items = 0
        self.prefixes: dict[bytes, _Prefix] = {}
        self.tracking_clients = 0
        self.hooked = False
        self.flush_pending = False
        self.broadcast_scheduled = False
        self.limit_rounds = 0          # trackingLimitUsedSlots' timeout_counter
        # Invalidations for the running client, sent after its reply (tracking_pending_keys).
        self.pending: list[tuple[Client, Any]] = []

    # -- hooks on/off --------------------------------------------------------------------

    def _hook(self) -> None:
        if self.hooked:
            return
        self.hooked = True
        engine = self.engine
        engine.key_modified_hooks.append(self.key_modified)
        engine.db_flushed_hooks.append(self.db_flushed)
        engine.after_command_hooks.append(self.after_command)
        # Who runs each command (engine.current_client) matters only while tracking is in
        # use: a late gate records it, so the dispatcher's short path stays untouched otherwise.
        engine.extensions.setdefault("late_gates", []).append(self.note_current_client)
        engine.update_gates()

    def _maybe_unhook(self) -> None:
        if not self.hooked or self.tracking_clients or self.table or self.prefixes or self.flush_pending:
            return
        self.hooked = False
        engine = self.engine
        engine.key_modified_hooks.remove(self.key_modified)
        engine.db_flushed_hooks.remove(self.db_flushed)
        engine.after_command_hooks.remove(self.after_command)
        gates = engine.extensions.get("late_gates")
        if gates and self.note_current_client in gates:
            gates.remove(self.note_current_client)
            if not gates:
                del engine.extensions["late_gates"]
        engine.update_gates()

    def note_current_client(self, client: Client, cmd: CommandDef, argv: list[bytes]) -> None:
        """A late gate that lets every command through, noting who runs it."""
        self.engine.current_client = client

    def _update_stats(self) -> None:
        # INFO stats reads these (engine/info.py).
        stats = self.engine.stats
        stats.tracking_total_keys = len(self.table)
        stats.tracking_total_items = self.total_items
        stats.tracking_total_prefixes = len(self.prefixes)

    # -- enabling ------------------------------------------------------------------------

    def enable(self, client: Client, redirect: int, bcast: bool, optin: bool, optout: bool, noloop: bool,
               prefixes: list[bytes]) -> None:
        """enableTracking: (re)start tracking with these options; BCAST prefixes accumulate."""
        state = client.tracking
        if not client.flags & CLIENT_TRACKING or state is None:
            self.tracking_clients += 1
            state = client.tracking = ClientTracking()
            client.flags |= CLIENT_TRACKING
        state.broken_redirect = False
        state.redirect = redirect
        state.bcast = bcast
        state.optin = optin
        state.optout = optout
        state.noloop = noloop
        if bcast:
            for prefix in prefixes or [b""]:
                self._add_prefix(client, prefix)
        self._hook()
        self._update_stats()

    def _add_prefix(self, client: Client, prefix: bytes) -> None:
        state = client.tracking
        if prefix in state.prefixes:
            return
        state.prefixes.append(prefix)
        state.prefixes.sort()
        entry = self.prefixes.get(prefix)
        if entry is None:
            entry = self.prefixes[prefix] = _Prefix()
        entry.clients[client] = None

    def disable(self, client: Client) -> None:
        """disableTracking: forget the client's options and BCAST prefixes. Keys it read stay
        in the table (a client that turns tracking on again still hears about them)."""
        state = client.tracking
        if state is not None:
            for prefix in state.prefixes:
                entry = self.prefixes.get(prefix)
                if entry is not None:
                    entry.clients.pop(client, None)
                    if not entry.clients:
                        del self.prefixes[prefix]
        if client.flags & CLIENT_TRACKING:
            self.tracking_clients -= 1
        client.flags &= ~(CLIENT_TRACKING | CLIENT_TRACKING_CACHING)
        client.tracking = None
        self._update_stats()
        self._maybe_unhook()

    # -- remembering keys ----------------------------------------------------------------

    def after_command(self, client: Client, cmd: CommandDef, argv: list[bytes], elapsed_us: int) -> None:
        """After every command: remember the keys a tracking client read, send a pending
        flush, end the CLIENT CACHING window, keep the table within its limit."""
        if self.flush_pending:
            self._send_flush()
        engine = self.engine
        current = engine.current_client
        if current is None:
            return
        current_flags = current.flags
        if current_flags & CLIENT_TRACKING:
            if cmd.flags & CMD_READONLY and not current.tracking.bcast and cmd.fullname not in _SCRIPT_COMMANDS:
                self.remember_keys(current, cmd, argv)
            if current_flags & CLIENT_TRACKING_CACHING and client is current \
                    and not current_flags & CLIENT_MULTI and cmd.container != "client":
                # resetClient: CACHING covers one request (and a whole transaction).
                current.flags &= ~CLIENT_TRACKING_CACHING
        if self.table:
            self.limit_table()

    def remember_keys(self, tracker: Client, cmd: CommandDef, argv: list[bytes]) -> None:
        """trackingRememberKeys: ``tracker`` read the keys of ``cmd``."""
        state = tracker.tracking
        caching_given = tracker.flags & CLIENT_TRACKING_CACHING
        if (state.optin and not caching_given) or (state.optout and caching_given):
            return
        if cmd.flags & CMD_PUBSUB:
            return      # shard channels look like keys to cluster clients, but are not keys
        keys = command_keys(cmd, argv)
        if not keys:
            return
        table = self.table
        client_id = tracker.id
        for position, _flags in keys:
            key = argv[position]
            ids = table.get(key)
            if ids is None:
                table[key] = {client_id: None}
                self.total_items += 1
            elif client_id not in ids:
                ids[client_id] = None
                self.total_items += 1
        self._update_stats()

    def limit_table(self) -> None:
        """trackingLimitUsedSlots: invalidate keys until the table fits tracking-table-max-keys,
        with an effort growing each time one round was not enough."""
        max_keys = self.engine.config["tracking-table-max-keys"]
        if not max_keys or len(self.table) <= max_keys:
            self.limit_rounds = 0
            return
        effort = 100 * (self.limit_rounds + 1)
        while effort > 0 and self.table:
            effort -= 1
            self.invalidate_key(next(iter(self.table)), broadcast=False)
            if len(self.table) <= max_keys:
                self.limit_rounds = 0
                return
        self.limit_rounds += 1

    # -- invalidation ----------------------------------------------------------------------

    def key_modified(self, db: Database, key: bytes) -> None:
        """signalModifiedKey's share: invalidate ``key`` for whoever read it."""
        self.invalidate_key(key, broadcast=True)

    def invalidate_key(self, key: bytes, broadcast: bool) -> None:
        """trackingInvalidateKey."""
        if broadcast and self.prefixes:
            self._remember_for_broadcast(key)
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.total_items -= len(ids)
        engine = self.engine
        clients = engine.clients
        current = engine.current_client
        for client_id in ids:
            target = clients.get(client_id)
            if target is None or not target.flags & CLIENT_TRACKING or target.tracking.bcast:
                continue
            if target is current:
                if target.tracking.noloop:
                    continue
                self._send_after_reply(target, [key])
            else:
                self.send(target, [key])
        self._update_stats()
        if not self.table:
            self._maybe_unhook()

    def db_flushed(self, db: Database) -> None:
        """FLUSHDB/FLUSHALL (called per database): the table empties at once; every tracking
        client gets one null invalidation after the command (signalFlushedDb)."""
        self.flush_pending = True
        if self.table:
            self.table = {}
            self.total_items = 0
            self._update_stats()

    def _send_flush(self) -> None:
        self.flush_pending = False
        engine = self.engine
        current = engine.current_client
        for client in list(engine.clients.values()):
            if client.flags & CLIENT_TRACKING:
                if client is current:
                    self._send_after_reply(client, FLUSH)
                else:
                    self.send(client, FLUSH)
        self._maybe_unhook()

    def _send_after_reply(self, client: Client, keys: Any) -> None:
        self.pending.append((client, keys))
        if len(self.pending) == 1:
            after_reply = getattr(client.sink, "after_reply", None)
            if after_reply is None:
                self._send_pending()
            else:
                after_reply(self._send_pending)

    def _send_pending(self) -> None:
        """trackingHandlePendingKeyInvalidations."""
        pending, self.pending = self.pending, []
        for client, keys in pending:
            if client.id in self.engine.clients:
                self.send(client, keys)

    def send(self, client: Client, keys: list[bytes] | None) -> None:
        """sendTrackingMessage: one invalidation message for ``client`` (``keys`` None: all)."""
        state = client.tracking
        if state is None:
            return
        target = client
        redirected = False
        if state.redirect:
            target = self.engine.clients.get(state.redirect)
            if target is None:
                state.broken_redirect = True
                if client.resp > 2:
                    _deliver(client, Push([b"tracking-redir-broken", state.redirect]))
                return
            redirected = True
        # A flush sends the null of the tracking client's protocol, whatever the receiver speaks.
        value: Any = keys if keys is not None else Raw(b"_\r\n" if client.resp > 2 else b"$-1\r\n")
        if target.resp > 2:
            _deliver(target, Push([b"invalidate", value]))
        elif redirected and target.flags & CLIENT_PUBSUB:
            _deliver(target, Push([b"message", INVALIDATE_CHANNEL, value]))

    # -- BCAST ---------------------------------------------------------------------------

    def _remember_for_broadcast(self, key: bytes) -> None:
        current = self.engine.current_client
        remembered = False
        for prefix, entry in self.prefixes.items():
            if key.startswith(prefix):
                entry.keys[key] = current
                remembered = True
        if remembered and not self.broadcast_scheduled:
            self.broadcast_scheduled = True
            self.engine.scheduler.call_later(0, self.broadcast)

    def broadcast(self) -> None:
        """trackingBroadcastInvalidationMessages: once per event-loop turn, one message per
        prefix with the keys changed under it (sorted), to each of its clients."""
        self.broadcast_scheduled = False
        for prefix in sorted(self.prefixes):
            entry = self.prefixes[prefix]
            if not entry.keys:
                continue
            changed, entry.keys = entry.keys, {}
            keys = sorted(changed)
            for client in list(entry.clients):
                if client.tracking is None:
                    continue
                if client.tracking.noloop:
                    own = [key for key in keys if changed[key] is not client]
                    if own:
                        self.send(client, own)
                else:
                    self.send(client, keys)

    # -- cleanup ---------------------------------------------------------------------------

    def client_gone(self, client: Client) -> None:
        """freeClient / RESET: tracking ends with the connection (its table entries stay)."""
        if client.flags & CLIENT_TRACKING:
            self.disable(client)


def _deliver(client: Client, reply: Any) -> None:
    if not client.flags & CLIENT_CLOSE_ASAP:
        client.sink.deliver(reply)


def tracking_state(engine: Engine) -> Tracking:
    """The engine's tracking state."""
    return engine.extensions["tracking"]


# -- commands --------------------------------------------------------------------------------


def _prefixes_overlap(a: bytes, b: bytes) -> bool:
    """stringCheckPrefix: one is a prefix of the other."""
    return a.startswith(b) or b.startswith(a)


def client_tracking_command(client: Client, argv: list[bytes]) -> Any:
    """CLIENT TRACKING ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]"""
    engine = client.engine
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    index = 3
    while index < len(argv):
        option = argv[index].lower()
        more = index + 1 < len(argv)
        if option == b"redirect" and more:
            index += 1
            if redirect:
                raise RedisError("ERR A client can only redirect to a single other client")
            redirect = parse_int(argv[index])
            # The client must exist now (it may go away later: broken_redirect).
            if redirect not in engine.clients:
                raise RedisError("ERR The client ID you want redirect to does not exist")
        elif option == b"bcast":
            bcast = True
        elif option == b"optin":
            optin = True
        elif option == b"optout":
            optout = True
        elif option == b"noloop":
            noloop = True
        elif option == b"prefix" and more:
            index += 1
            prefixes.append(argv[index])
        else:
            raise RedisError(SYNTAX)
        index += 1
    mode = argv[2].lower()
    state = tracking_state(engine)
    if mode == b"off":
        state.disable(client)
        return OK
    if mode != b"on":
        raise RedisError(SYNTAX)
    current = client.tracking if client.flags & CLIENT_TRACKING else None
    if prefixes and not bcast:
        raise RedisError("ERR PREFIX option requires BCAST mode to be enabled")
    if current is not None and current.bcast != bcast:
        raise RedisError("ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
                         "and then re-enabling it with a different mode.")
    if bcast and (optin or optout):
        raise RedisError("ERR OPTIN and OPTOUT are not compatible with BCAST")
    if optin and optout:
        raise RedisError("ERR You can't specify both OPTIN mode and OPTOUT mode")
    if current is not None and ((optin and current.optout) or (optout and current.optin)):
        raise RedisError("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
                         "and then re-enabling it with a different mode.")
    late_error = None
    if bcast:
        late_error = _check_prefix_collisions(client, prefixes)
    state.enable(client, redirect, bcast, optin, optout, noloop, prefixes)
    if late_error is not None:
        # checkPrefixCollisionsOrReply reports a collision between two new prefixes after the
        # first one as a failure only for the first prefix: otherwise Redis replies with the
        # error and then enables tracking anyway and replies OK as well. Two replies, as there.
        error = engine.error_reply(RedisError(late_error))
        if client.current_command is not None:
            client.current_command.failed_calls += 1
        return Raw(b"-" + error.text + b"\r\n+OK\r\n")
    return OK


def _check_prefix_collisions(client: Client, prefixes: list[bytes]) -> str | None:
    """Overlaps among the new prefixes and with the client's own: raises for the cases Redis
    refuses; returns the error text Redis sends before going on anyway (see above)."""
    existing = client.tracking.prefixes if client.flags & CLIENT_TRACKING and client.tracking else []
    for i, prefix in enumerate(prefixes):
        for old in existing:
            if _prefixes_overlap(old, prefix):
                raise RedisError(f"ERR Prefix '{_text(prefix)}' overlaps with an existing prefix '{_text(old)}'. "
                                 "Prefixes for a single client must not overlap.")
        for other in prefixes[i + 1:]:
            if _prefixes_overlap(prefix, other):
                text = (f"ERR Prefix '{_text(prefix)}' overlaps with another provided prefix '{_text(other)}'. "
                        "Prefixes for a single client must not overlap.")
                if i == 0:
                    raise RedisError(text)
                return text
    return None


def _text(raw: bytes) -> str:
    # %s stops at a NUL byte.
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def client_caching_command(client: Client, argv: list[bytes]) -> Any:
    """CLIENT CACHING YES|NO"""
    if not client.flags & CLIENT_TRACKING:
        raise RedisError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN "
                         "or OPTOUT mode enabled")
    option = argv[2].lower()
    state = client.tracking
    if option == b"yes":
        if not state.optin:
            raise RedisError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
    elif option == b"no":
        if not state.optout:
            raise RedisError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    else:
        raise RedisError(SYNTAX)
    client.flags |= CLIENT_TRACKING_CACHING
    return OK


def client_getredir_command(client: Client, argv: list[bytes]) -> int:
    """CLIENT GETREDIR"""
    if client.flags & CLIENT_TRACKING:
        return client.tracking.redirect
    return -1


def client_trackinginfo_command(client: Client, argv: list[bytes]) -> Map:
    """CLIENT TRACKINGINFO"""
    tracking = client.flags & CLIENT_TRACKING
    state = client.tracking if tracking else None
    flags: list[bytes] = [b"on" if tracking else b"off"]
    caching = client.flags & CLIENT_TRACKING_CACHING
    if state is not None:
        if state.bcast:
            flags.append(b"bcast")
        if state.optin:
            flags.append(b"optin")
            if caching:
                flags.append(b"caching-yes")
        if state.optout:
            flags.append(b"optout")
            if caching:
                flags.append(b"caching-no")
        if state.noloop:
            flags.append(b"noloop")
        if state.broken_redirect:
            flags.append(b"broken_redirect")
    return Map([
        (b"flags", Set(flags)),
        (b"redirect", state.redirect if state is not None else -1),
        (b"prefixes", list(state.prefixes) if state is not None else []),
    ])


# -- installation ------------------------------------------------------------------------------


def install(engine: Engine) -> None:
    """The tracking state and its cleanup; the keyspace hooks come with the first tracking client."""
    state = Tracking(engine)
    engine.extensions["tracking"] = state
    engine.extensions.setdefault("client_closed_hooks", []).append(state.client_gone)
    engine.extensions.setdefault("client_reset_hooks", []).append(state.client_gone)
