"""Expiry (expire.c): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME,
PEXPIRETIME, PERSIST, and the active expiry cycle.

Keys expire lazily when they are accessed (``Database.expire_if_needed``) and
actively in the cron (:func:`active_expire_cycle`), so keys that are never read
again are reclaimed too. The active cycle follows Redis's activeExpireCycle: each
cron tick visits up to 16 databases; in each it samples ``20 + 5*(effort-1)`` keys
that have a TTL and deletes the expired ones, repeating while more than
``10 - (effort-1)`` percent of the sample was expired, within ``25 + 2*(effort-1)``
percent of the cron period.

Redis samples by walking its expires table with a cursor. The walk here goes over a
list copy of ``db.expires`` (one C-speed copy per full pass, 8 bytes per volatile key
while it lasts), so every volatile key is visited once per pass, and keys given a TTL
after the copy are met in the next pass.
"""

from __future__ import annotations

import time
from typing import Any

from specredis.engine.args import parse_expire_when_ms
from specredis.engine.client import Client
from specredis.engine.core import NOTIFY_GENERIC
from specredis.engine.errors import RedisError
from specredis.engine.keyspace import Database

# -----------------------------------------------------------------------------------------
# EXPIRE family
# -----------------------------------------------------------------------------------------

EXPIRE_NX = 1
EXPIRE_XX = 2
EXPIRE_GT = 4
EXPIRE_LT = 8
_EXPIRE_FLAGS = {b"nx": EXPIRE_NX, b"xx": EXPIRE_XX, b"gt": EXPIRE_GT, b"lt": EXPIRE_LT}


def parse_expire_flags(argv: list[bytes]) -> int:
    """The NX/XX/GT/LT options after the time (parseExtendedExpireArgumentsOrReply)."""
    flags = 0
    for raw in argv[3:]:
        flag = _EXPIRE_FLAGS.get(raw.lower())
        if flag is None:
            shown = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")   # C prints up to a NUL
            raise RedisError(f"ERR Unsupported option {shown}")
        flags |= flag
    if flags & EXPIRE_NX and flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT):
        raise RedisError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & EXPIRE_GT and flags & EXPIRE_LT:
        raise RedisError("ERR GT and LT options at the same time are not compatible")
    return flags


def already_expired(engine: Any, when_ms: int, now_ms: int | None = None) -> bool:
    """checkAlreadyExpired: a past time deletes the key -- except while loading and on a
    replica, which keep the key with its past TTL and wait for the master's DEL.

    ``now_ms`` is the command's time snapshot when it has one (commandTimeSnapshot)."""
    if now_ms is None:
        now_ms = engine.now_ms()
    return when_ms <= now_ms and not engine.loading and not engine.is_replica


def delete_expired_now(client: Client, key: bytes) -> None:
    """Delete a key given a time in the past, propagated as DEL (UNLINK with lazyfree-lazy-expire)."""
    db = client.db
    engine = client.engine
    db.delete(key)
    engine.dirty += 1
    lazy = engine.config["lazyfree-lazy-expire"]
    engine.rewrite_command([b"UNLINK" if lazy else b"DEL", key])
    db.signal_modified(key)
    engine.notify(NOTIFY_GENERIC, "del", key, db.id)


def _expire_generic(client: Client, argv: list[bytes], basetime_ms: int, unit_seconds: bool) -> int:
    flags = parse_expire_flags(argv) if len(argv) > 3 else 0
    engine = client.engine
    command = client.current_command.fullname if client.current_command else argv[0].decode().lower()
    when = parse_expire_when_ms(argv[2], unit_seconds, basetime_ms, command)
    db = client.db
    key = argv[1]
    if db.lookup_write(key) is None:
        return 0
    if flags:
        current = db.expires.get(key, -1)
        if flags & EXPIRE_NX and current != -1:
            return 0
        if flags & EXPIRE_XX and current == -1:
            return 0
        # A key without TTL counts as an infinite TTL: GT never beats it, LT always does.
        if flags & EXPIRE_GT and (when <= current or current == -1):
            return 0
        if flags & EXPIRE_LT and current != -1 and when >= current:
            return 0
    # One time for the whole command, as Redis: PEXPIRE key 1 must not find its own deadline
    # passed because a millisecond went by since it was computed.
    if already_expired(engine, when, basetime_ms or engine.now_ms()):
        delete_expired_now(client, key)
        return 1
    db.expires[key] = when
    if basetime_ms != 0 or unit_seconds:
        # Replicas and the AOF get the absolute time: PEXPIREAT key <ms> [flags].
        engine.rewrite_command([b"PEXPIREAT", key, b"%d" % when, *argv[3:]])
    db.signal_modified(key)
    engine.notify(NOTIFY_GENERIC, "expire", key, db.id)
    engine.dirty += 1
    return 1


def expire_command(client: Client, argv: list[bytes]) -> int:
    """EXPIRE key seconds [NX|XX|GT|LT]"""
    return _expire_generic(client, argv, client.engine.now_ms(), True)


def pexpire_command(client: Client, argv: list[bytes]) -> int:
    """PEXPIRE key milliseconds [NX|XX|GT|LT]"""
    return _expire_generic(client, argv, client.engine.now_ms(), False)


def expireat_command(client: Client, argv: list[bytes]) -> int:
    """EXPIREAT key unix-time-seconds [NX|XX|GT|LT]"""
    return _expire_generic(client, argv, 0, True)


def pexpireat_command(client: Client, argv: list[bytes]) -> int:
    """PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]"""
    return _expire_generic(client, argv, 0, False)


# -----------------------------------------------------------------------------------------
# TTL family and PERSIST
# -----------------------------------------------------------------------------------------

def _ttl_generic(client: Client, key: bytes, in_ms: bool, absolute: bool) -> int:
    db = client.db
    if db.lookup_read(key) is None:
        return -2
    when = db.expires.get(key)
    if when is None:
        return -1
    # Like Redis, EXPIRETIME also rounds to the nearest second, and nothing is below 0.
    ttl = max(0, when if absolute else when - client.engine.now_ms())
    return ttl if in_ms else (ttl + 500) // 1000


def ttl_command(client: Client, argv: list[bytes]) -> int:
    """TTL key"""
    return _ttl_generic(client, argv[1], False, False)


def pttl_command(client: Client, argv: list[bytes]) -> int:
    """PTTL key"""
    return _ttl_generic(client, argv[1], True, False)


def expiretime_command(client: Client, argv: list[bytes]) -> int:
    """EXPIRETIME key"""
    return _ttl_generic(client, argv[1], False, True)


def pexpiretime_command(client: Client, argv: list[bytes]) -> int:
    """PEXPIRETIME key"""
    return _ttl_generic(client, argv[1], True, True)


def persist_command(client: Client, argv: list[bytes]) -> int:
    """PERSIST key"""
    db = client.db
    key = argv[1]
    if db.lookup_write(key) is None or db.expires.pop(key, None) is None:
        return 0
    engine = client.engine
    db.signal_modified(key)
    engine.notify(NOTIFY_GENERIC, "persist", key, db.id)
    engine.dirty += 1
    return 1


# -----------------------------------------------------------------------------------------
# Active expiry
# -----------------------------------------------------------------------------------------

KEYS_PER_LOOP = 20              # ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP
SLOW_TIME_PERC = 25             # ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC
ACCEPTABLE_STALE = 10           # ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE
DBS_PER_CALL = 16               # CRON_DBS_PER_CALL


class _ExpireWalk:
    """A pass over one database's volatile keys (a list copy of ``db.expires``)."""

    __slots__ = ("expires", "keys", "pos")

    def __init__(self, expires: dict) -> None:
        self.expires = expires
        self.keys = list(expires)
        self.pos = 0


class ActiveExpireState:
    """What activeExpireCycle keeps between calls (its statics)."""

    def __init__(self) -> None:
        self.current_db = 0
        self.timelimit_exit = False
        self.walks: dict[int, _ExpireWalk] = {}


def _config(engine: Any, name: str, default: Any) -> Any:
    try:
        return engine.config[name]
    except KeyError:
        return default


def _sample(db: Database, walk: _ExpireWalk, wanted: int, now: int) -> tuple[int, int, int, int]:
    """Visit up to ``wanted`` volatile keys: (sampled, expired, ttl_sum, ttl_samples)."""
    expires = db.expires
    keys = walk.keys
    sampled = expired = ttl_sum = ttl_samples = 0
    checked = 0
    max_checked = wanted * 20       # entries of the copy whose key lost its TTL meanwhile
    pos = walk.pos
    end = len(keys)
    while sampled < wanted and checked < max_checked and pos < end:
        key = keys[pos]
        pos += 1
        checked += 1
        when = expires.get(key)
        if when is None:
            continue
        sampled += 1
        if when <= now:
            db.expire_key(key)
            expired += 1
        else:
            ttl_sum += when - now
            ttl_samples += 1
    walk.pos = pos
    return sampled, expired, ttl_sum, ttl_samples


def active_expire_cycle(engine: Any) -> None:
    """One slow cycle of active expiry (activeExpireCycle(ACTIVE_EXPIRE_CYCLE_SLOW))."""
    if not engine.extensions.get("active_expire_enabled", True) or engine.is_replica \
            or engine.expiry_paused or engine.loading:
        return
    effort = _config(engine, "active-expire-effort", 1) - 1
    keys_per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP // 4 * effort
    acceptable_stale = ACCEPTABLE_STALE - effort
    hz = max(1, _config(engine, "hz", 10))
    timelimit_us = max(1, (SLOW_TIME_PERC + 2 * effort) * 1_000_000 // hz // 100)
    state: ActiveExpireState = engine.extensions.setdefault("active_expire_state", ActiveExpireState())
    databases = engine.databases
    dbs_per_call = len(databases) if state.timelimit_exit else min(DBS_PER_CALL, len(databases))
    state.timelimit_exit = False
    start = time.perf_counter_ns()
    stats = engine.stats
    total_sampled = total_expired = 0
    iteration = 0
    for _ in range(dbs_per_call):
        if state.timelimit_exit:
            break
        db = databases[state.current_db % len(databases)]
        state.current_db += 1
        while True:
            iteration += 1
            num = len(db.expires)
            if num == 0:
                db.avg_ttl = 0
                state.walks.pop(db.id, None)
                break
            walk = state.walks.get(db.id)
            if walk is None or walk.expires is not db.expires or walk.pos >= len(walk.keys):
                walk = state.walks[db.id] = _ExpireWalk(db.expires)
            now = engine.now_ms()
            sampled, expired, ttl_sum, ttl_samples = _sample(db, walk, min(num, keys_per_loop), now)
            total_sampled += sampled
            total_expired += expired
            if ttl_samples:
                # Running average: the new estimate weighs 2%, the previous one 98%.
                avg_ttl = ttl_sum // ttl_samples
                if db.avg_ttl == 0:
                    db.avg_ttl = avg_ttl
                db.avg_ttl = (db.avg_ttl // 50) * 49 + avg_ttl // 50
            if iteration & 0xF == 0 and (time.perf_counter_ns() - start) // 1000 > timelimit_us:
                state.timelimit_exit = True
                stats.expired_time_cap_reached_count += 1
                break
            # Go on in this database while too much of the sample was expired. An empty sample
            # (the copy's keys all lost their TTL) goes on too: the next copy has keys.
            if sampled and expired * 100 // sampled <= acceptable_stale:
                break
    stats.expire_cycle_time_used_us += (time.perf_counter_ns() - start) // 1000
    stats.expire_cycle_cpu_milliseconds = stats.expire_cycle_time_used_us // 1000
    current = total_expired / total_sampled if total_sampled else 0.0
    stats.expired_stale_perc = current * 0.05 + stats.expired_stale_perc * 0.95


def install(engine: Any) -> None:
    """Feature hook: active expiry runs in every cron tick (hz times a second)."""
    engine.cron_hooks.append(lambda: active_expire_cycle(engine))
