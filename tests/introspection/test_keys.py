"""Unit tests of the key-spec interpreter, the getkeys hooks and hash slots (engine/keys.py).

Expected values come from Redis 7.0.15 (COMMAND GETKEYSANDFLAGS and CLUSTER KEYSLOT on
the reference); the differential version of these checks is in
tests/conformance/test_introspection.py.
"""

from __future__ import annotations

import copy
import importlib

import pytest

from specredis.engine.command import (
    KS_ACCESS,
    KS_DELETE,
    KS_INCOMPLETE,
    KS_NOT_KEY,
    KS_OW,
    KS_RO,
    KS_RW,
    KS_UPDATE,
    CommandDef,
    KeySpec,
)
from specredis.engine.keys import (
    INCLUDE_NOT_KEYS,
    RETURN_PARTIAL,
    command_has_keys,
    command_keys,
    key_hash_slot,
    keys_from_specs,
    keyspec_flag_names,
)
from specredis.generated.command_table import COMMAND_DEFS


def _def(name: str) -> CommandDef:
    """A copy of the generated definition of ``name`` with its getkeys hook resolved."""
    cmd = copy.copy(next(d for d in COMMAND_DEFS if d.fullname == name))
    if cmd.getkeys_name:
        module, _, attr = cmd.getkeys_name.partition(":")
        cmd.getkeys = getattr(importlib.import_module(module), attr)
    return cmd


def _synthetic(*specs: KeySpec, arity: int = -2) -> CommandDef:
    return CommandDef(id=0, fullname="x", name="x", container=None, arity=arity, flags=0, acl_categories=0,
                      first_key=0, last_key=0, key_step=0, key_specs=specs, tips=(), group="generic",
                      implemented=True, handler_name=None)


def _argv(line: str) -> list[bytes]:
    return [word.encode() for word in line.split()]


def _keys(name: str, line: str) -> list[tuple[str, list[str]]]:
    argv = _argv(line)
    return [(argv[i].decode(), keyspec_flag_names(flags)) for i, flags in command_keys(_def(name), argv)]


# -- hash slots (CLUSTER KEYSLOT on a 7.0.15 cluster node) ---------------------------------

@pytest.mark.parametrize("key, slot", [
    (b"foo", 12182),
    (b"{user1000}.following", 3443),
    (b"{user1000}.followers", 3443),
    (b"foo{}{bar}", 8363),            # empty tag: the whole key
    (b"foo{{bar}}zap", 4015),         # the tag is '{bar'
    (b"foo{bar}{zap}", 5061),         # the first tag only
    (b"", 0),
    (b"{", 4092),
    (b"}{", 12793),
    (b"a{b}c", 3300),
    (b"{}", 15257),
    (b"{a", 10276),
    (b"x}{y}", 12222),
])
def test_key_hash_slot(key: bytes, slot: int) -> None:
    assert key_hash_slot(key) == slot


def test_key_hash_slot_crc_check_value() -> None:
    # CRC16/XMODEM of "123456789" is 0x31C3 (crc16.c); the slot keeps 14 bits.
    assert key_hash_slot(b"123456789") == 0x31C3 & 0x3FFF
    assert key_hash_slot(b"a{123456789}b") == key_hash_slot(b"123456789")


# -- the interpreter on real specs ---------------------------------------------------------

def test_index_range_single_key() -> None:
    assert _keys("get", "get k") == [("k", ["RO", "access"])]


def test_range_with_negative_lastkey_and_step() -> None:
    assert _keys("mset", "mset a 1 b 2") == [("a", ["OW", "update"]), ("b", ["OW", "update"])]
    # An odd count still yields every other argument up to the end.
    assert _keys("mset", "mset a 1 b") == [("a", ["OW", "update"]), ("b", ["OW", "update"])]


def test_keynum_spec_and_store_key_order() -> None:
    assert _keys("zunionstore", "zunionstore d 2 a b") == [
        ("d", ["OW", "update"]), ("a", ["RO", "access"]), ("b", ["RO", "access"])]


def test_keynum_too_large_voids_the_result() -> None:
    assert _keys("zunionstore", "zunionstore d 5 a b") == []


def test_numkeys_fallback_reads_the_count_like_atoi_and_drops_flags() -> None:
    # The spec rejects "1x"; Redis's getkeys proc reads it as 1 and reports keys without flags,
    # the destination last.
    assert _keys("zunionstore", "zunionstore d 1x a b") == [("a", []), ("d", [])]
    assert _keys("eval", "eval s 01 k") == [("k", [])]
    assert _keys("eval", "eval s +1 k") == [("k", [])]
    assert _keys("eval", "eval s 2 k") == []
    assert _keys("eval", "eval s 0") == []


def test_keyword_spec_with_limit() -> None:
    assert _keys("xread", "xread count 1 streams a b 0 0") == [("a", ["RO", "access"]), ("b", ["RO", "access"])]
    assert _keys("xread", "xread streams a b c") == [("a", ["RO", "access"])]
    # "streams" as a key name: the first STREAMS keyword is the one.
    assert _keys("xread", "xread count 1 streams streams 0") == [("streams", ["RO", "access"])]


def test_keyword_absent_spec_is_skipped() -> None:
    assert _keys("georadius", "georadius g 0 0 1 km") == [("g", ["RO", "access"])]
    assert _keys("georadius", "georadius g 0 0 1 km store a storedist b") == [
        ("g", ["RO", "access"]), ("a", ["OW", "update"]), ("b", ["OW", "update"])]


# -- the named hooks -----------------------------------------------------------------------

def test_sort_hook_last_store_wins() -> None:
    assert _keys("sort", "sort k store a store b") == [("k", ["RO", "access"]), ("b", ["OW", "update"])]
    assert _keys("sort", "sort k by x get y limit 0 1 store z") == [("k", ["RO", "access"]), ("z", ["OW", "update"])]
    assert _keys("sort", "sort k store") == [("k", ["RO", "access"])]
    # The word after STORE is not skipped: "store store x" stores into x.
    assert _keys("sort", "sort k store store x") == [("k", ["RO", "access"]), ("x", ["OW", "update"])]


def test_sort_ro_hook_has_no_store() -> None:
    assert _keys("sort_ro", "sort_ro k store x") == [("k", ["RO", "access"])]


def test_migrate_hook() -> None:
    rw = ["RW", "access", "delete"]
    assert _keys("migrate", "migrate h p k 0 5000") == [("k", rw)]
    assert command_keys(_def("migrate"), [b"migrate", b"h", b"p", b"", b"0", b"5000", b"copy", b"replace",
                                          b"auth", b"pw", b"keys", b"a", b"b"]) == [(11, KS_RW | KS_ACCESS | KS_DELETE),
                                                                                   (12, KS_RW | KS_ACCESS | KS_DELETE)]
    # KEYS needs the key argument to be empty.
    assert _keys("migrate", "migrate h p k 0 5000 keys a") == []


def test_set_hook_flags_depend_on_get() -> None:
    assert _keys("set", "set k v") == [("k", ["OW", "update"])]
    assert _keys("set", "set k v ex 10 GeT") == [("k", ["RW", "access", "update"])]
    # GET as the value does not count (the scan starts after it).
    assert _keys("set", "set k get") == [("k", ["OW", "update"])]
    assert command_keys(_def("set"), [b"set", b"k", b"v", b"get\x00x"]) == [(1, KS_RW | KS_ACCESS | KS_UPDATE)]


def test_bitfield_hook_read_only_unless_written() -> None:
    assert _keys("bitfield", "bitfield k get u8 0 overflow wrap") == [("k", ["RO", "access"])]
    assert _keys("bitfield", "bitfield k incrby u8 0 1") == [("k", ["RW", "access", "update"])]
    assert _keys("bitfield", "bitfield k get u8") == [("k", ["RW", "access", "update"])]


def test_has_keys() -> None:
    assert command_has_keys(_def("get"))
    assert command_has_keys(_def("sort"))
    assert not command_has_keys(_def("ping"))
    assert not command_has_keys(_def("ssubscribe"))       # only a NOT_KEY spec


# -- the interpreter on synthetic specs: options and invalid specs -------------------------

RANGE_ONE = ("range", 0, 1, 0)


def test_not_key_specs_only_on_request() -> None:
    cmd = _synthetic(KeySpec(KS_NOT_KEY | KS_RO, ("index", 1), ("range", -1, 1, 0)))
    argv = _argv("x a b")
    assert keys_from_specs(cmd, argv) == []
    assert keys_from_specs(cmd, argv, INCLUDE_NOT_KEYS) == [(1, KS_NOT_KEY | KS_RO), (2, KS_NOT_KEY | KS_RO)]


def test_incomplete_spec_voids_unless_partial() -> None:
    cmd = _synthetic(KeySpec(KS_RW, ("index", 1), RANGE_ONE),
                     KeySpec(KS_RW | KS_INCOMPLETE, ("keyword", "KEYS", -2), ("range", -1, 1, 0)))
    argv = _argv("x k keys a")
    assert keys_from_specs(cmd, argv) is None
    assert keys_from_specs(cmd, argv, RETURN_PARTIAL) == [(1, KS_RW), (3, KS_RW | KS_INCOMPLETE)]
    # The keyword is searched backwards from argc-2 down to 1: absent here, so nothing is incomplete.
    assert keys_from_specs(cmd, _argv("x k a keys")) == [(1, KS_RW)]


def test_unknown_spec_is_invalid() -> None:
    cmd = _synthetic(KeySpec(KS_RO, ("index", 1), RANGE_ONE), KeySpec(KS_OW, ("unknown",), ("unknown",)))
    assert keys_from_specs(cmd, _argv("x a")) is None
    assert keys_from_specs(cmd, _argv("x a"), RETURN_PARTIAL) == [(1, KS_RO)]


def test_out_of_range_and_bad_keynum_are_invalid() -> None:
    keynum = _synthetic(KeySpec(KS_RO, ("index", 1), ("keynum", 0, 1, 1)))
    assert keys_from_specs(keynum, _argv("x 2 a b")) == [(2, KS_RO), (3, KS_RO)]
    assert keys_from_specs(keynum, _argv("x 3 a b")) is None          # past the end
    assert keys_from_specs(keynum, _argv("x -1 a")) is None           # negative
    assert keys_from_specs(keynum, _argv("x 0 a")) is None            # last < first
    assert keys_from_specs(keynum, _argv("x 01 a")) is None           # not canonical
    fixed = _synthetic(KeySpec(KS_RO, ("index", 3), RANGE_ONE))
    assert keys_from_specs(fixed, _argv("x a")) is None


def test_forward_keyword_never_matches_the_last_argument() -> None:
    cmd = _synthetic(KeySpec(KS_RO, ("keyword", "STREAMS", 1), ("range", -1, 1, 2)))
    assert keys_from_specs(cmd, _argv("x STREAMS")) == []
    assert keys_from_specs(cmd, _argv("x streams a 0")) == [(2, KS_RO)]


def test_flag_names_in_redis_order() -> None:
    assert keyspec_flag_names(KS_UPDATE | KS_RW | KS_ACCESS) == ["RW", "access", "update"]
    assert keyspec_flag_names(KS_OW | KS_UPDATE) == ["OW", "update"]
    assert keyspec_flag_names(0) == []
