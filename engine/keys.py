"""Key extraction from command arguments, and cluster hash slots.

Redis describes where a command's keys are with *key specs* (data, from the
spec's ``info.key_specs``) and interprets them with one generic routine
(getKeysUsingKeySpecs in db.c). This module is that interpreter, plus:

* the few named *getkeys hooks* a spec cannot express (design doc §2.3):
  SORT / SORT_RO (BY/GET patterns, STORE anywhere), MIGRATE (the KEYS form),
  SET and BITFIELD (the flags depend on the arguments: ``variable_flags``);
* the numkeys fallback Redis uses when a keynum spec fails (its
  genericGetKeys-based procs: EVAL*, FCALL*, Z*STORE, ZUNION..., *MPOP, *INTERCARD),
  which parses the count leniently (C ``atoi``) and returns keys without flags;
* :func:`command_keys`, the entry point used by COMMAND GETKEYS, ACL key
  permissions and cluster routing;
* :func:`key_hash_slot`, the CRC16 (XMODEM) of the key's hash tag, mod 16384.

Every result is a list of ``(argv index, key-spec flags)`` pairs, flags as the
``KS_*`` bits of :mod:`specredis.engine.command`.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable

from specredis.engine.args import string_to_int
from specredis.engine.command import (
    KS_ACCESS,
    KS_DELETE,
    KS_INCOMPLETE,
    KS_NOT_KEY,
    KS_OW,
    KS_RO,
    KS_RW,
    KS_UPDATE,
    KS_VARIABLE_FLAGS,
    CommandDef,
    KeySpec,
)

KeyRef = tuple[int, int]          # (position in argv, KS_* flags)

# Search options (GET_KEYSPEC_* in server.h).
INCLUDE_NOT_KEYS = 1 << 0         # also report NOT_KEY specs (sharded channels, for cluster routing)
RETURN_PARTIAL = 1 << 1           # an invalid spec is skipped instead of voiding the whole result

CLUSTER_SLOTS = 16384


# -----------------------------------------------------------------------------------------
# Hash slots
# -----------------------------------------------------------------------------------------

def key_hash_slot(key: bytes) -> int:
    """The cluster hash slot of ``key``: CRC16-XMODEM of its hash tag, modulo 16384.

    The hash tag is the text between the first ``{`` and the first ``}`` after it,
    when that text is not empty; otherwise the whole key is hashed."""
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    return binascii.crc_hqx(key, 0) & (CLUSTER_SLOTS - 1)


# -----------------------------------------------------------------------------------------
# The key-spec interpreter
# -----------------------------------------------------------------------------------------

def _begin_index(spec: KeySpec, argv: list[bytes]) -> int | None:
    """The first index the spec searches from; 0 when a keyword is absent; None if unknown."""
    begin = spec.begin
    kind = begin[0]
    if kind == "index":
        return begin[1]
    if kind == "keyword":
        keyword = begin[1].lower().encode() if isinstance(begin[1], str) else begin[1].lower()
        startfrom = begin[2]
        argc = len(argv)
        if startfrom > 0:
            # Forward scan; a keyword in the last slot could not be followed by a key.
            positions = range(startfrom, argc - 1)
        else:
            positions = range(argc + startfrom, 0, -1)
        for i in positions:
            if i >= argc or i < 1:
                break
            if argv[i].lower() == keyword:
                return i + 1
        return 0
    return None


def keys_from_specs(cmd: CommandDef, argv: list[bytes], options: int = 0) -> list[KeyRef] | None:
    """Interpret ``cmd.key_specs`` over ``argv``; None when a spec is invalid for these arguments.

    An invalid spec (unknown begin/find, a bad key count, positions out of range, or
    an INCOMPLETE spec that matched) voids the whole result unless ``RETURN_PARTIAL``
    is given, in which case it is just skipped. NOT_KEY specs are skipped unless
    ``INCLUDE_NOT_KEYS``. A keyword spec whose keyword is absent contributes nothing.
    """
    argc = len(argv)
    keys: list[KeyRef] = []
    for spec in cmd.key_specs:
        if spec.flags & KS_NOT_KEY and not options & INCLUDE_NOT_KEYS:
            continue
        first = _begin_index(spec, argv)
        if first == 0:
            continue                       # keyword not present: nothing to find
        valid = first is not None
        if valid:
            find = spec.find
            kind = find[0]
            if kind == "range":
                _, lastkey, step, limit = find
                if lastkey >= 0:
                    last = first + lastkey
                elif limit == 0:
                    last = argc + lastkey
                else:
                    # "1/limit of the remaining arguments" (XREAD's STREAMS k1 k2 id1 id2).
                    last = first + ((argc - first) // limit + lastkey)
            elif kind == "keynum":
                _, keynumidx, firstkey, step = find
                count = None
                if first + keynumidx < argc:
                    count = string_to_int(argv[first + keynumidx])
                if count is None or count < 0:
                    valid = False
                else:
                    first += firstkey
                    last = first + count - 1
            else:
                valid = False
            if valid and (last >= argc or last < first or first >= argc):
                valid = False
        if valid:
            keys.extend((i, spec.flags) for i in range(first, last + 1, step))
            if not spec.flags & KS_INCOMPLETE:
                continue
        if options & RETURN_PARTIAL:
            continue
        return None
    return keys


# -----------------------------------------------------------------------------------------
# Named getkeys hooks (engine.getkeys in the spec)
# -----------------------------------------------------------------------------------------

def _sort_keys(argv: list[bytes], store_allowed: bool) -> list[KeyRef]:
    keys: list[KeyRef] = [(1, KS_RO | KS_ACCESS)]
    if not store_allowed:
        return keys
    # Options take no argument unless listed here; an unknown word is skipped alone. The
    # STORE key is not skipped, and the *last* STORE wins, as SORT itself parses it.
    skips = {b"limit": 2, b"get": 1, b"by": 1}
    store = None
    argc = len(argv)
    i = 2
    while i < argc:
        word = argv[i].lower()
        skip = skips.get(word)
        if skip is not None:
            i += skip
        elif word == b"store" and i + 1 < argc:
            store = i + 1
        i += 1
    if store is not None:
        keys.append((store, KS_OW | KS_UPDATE))
    return keys


def sort_getkeys(cmd: CommandDef, argv: list[bytes]) -> list[KeyRef]:
    """SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]"""
    return _sort_keys(argv, store_allowed=True)


def sort_ro_getkeys(cmd: CommandDef, argv: list[bytes]) -> list[KeyRef]:
    """SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]"""
    return _sort_keys(argv, store_allowed=False)


def migrate_getkeys(cmd: CommandDef, argv: list[bytes]) -> list[KeyRef]:
    """MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH ..|AUTH2 .. ..] [KEYS key ...]"""
    first, count = 3, 1
    argc = len(argv)
    if argc > 6:
        option_args = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}
        i = 6
        while i < argc:
            word = argv[i].lower()
            if word == b"keys":
                if argv[3]:
                    return []          # KEYS needs the single-key argument to be empty
                first, count = i + 1, argc - i - 1
                break
            i += option_args.get(word, 0) + 1
    flags = KS_RW | KS_ACCESS | KS_DELETE
    return [(first + n, flags) for n in range(count)]


def set_getkeys(cmd: CommandDef, argv: list[bytes]) -> list[KeyRef]:
    """SET key value [...] [GET]: with GET the old value is read (RW+ACCESS), else overwritten (OW)."""
    for arg in argv[3:]:
        # Compared as a C string: anything after a NUL byte is not seen.
        if arg[:3].lower() == b"get" and (len(arg) == 3 or arg[3] == 0):
            return [(1, KS_RW | KS_ACCESS | KS_UPDATE)]
    return [(1, KS_OW | KS_UPDATE)]


def bitfield_getkeys(cmd: CommandDef, argv: list[bytes]) -> list[KeyRef]:
    """BITFIELD key [GET ..] [SET ..] [INCRBY ..] [OVERFLOW ..]: read-only unless SET/INCRBY (or bad syntax)."""
    argc = len(argv)
    i = 2
    readonly = True
    while i < argc:
        remaining = argc - i - 1
        word = argv[i].lower()
        if word == b"get" and remaining >= 2:
            i += 3
        elif word == b"overflow" and remaining >= 1:
            i += 2
        else:
            # SET/INCRBY write; anything else is a syntax error, assumed to be a write.
            readonly = False
            break
    if readonly:
        return [(1, KS_RO | KS_ACCESS)]
    return [(1, KS_RW | KS_ACCESS | KS_UPDATE)]


def _numkeys_fallback(cmd: CommandDef, argv: list[bytes]) -> list[KeyRef] | None:
    """What Redis's numkeys getkeys procs return when the keynum spec failed, or None.

    They read the count with atoi (``1x`` is 1, ``+2`` is 2), give up with no keys
    when it is below 1 or larger than the arguments left, and report the keys (and
    the destination of the *STORE forms, last) without flags."""
    keynum = None
    store = 0
    for spec in cmd.key_specs:
        if spec.begin[0] != "index":
            continue
        if spec.find[0] == "keynum":
            keynum = spec
        elif spec.find[0] == "range" and spec.find[1] == 0 and keynum is None:
            store = spec.begin[1]
    if keynum is None:
        return None
    count_at = keynum.begin[1] + keynum.find[1]
    first = keynum.begin[1] + keynum.find[2]
    step = keynum.find[3]
    if count_at >= len(argv):
        return []
    count = _atoi(argv[count_at])
    if count < 1 or count > (len(argv) - first) // step:
        return []
    keys = [(first + n * step, 0) for n in range(count)]
    if store:
        keys.append((store, 0))
    return keys


def _atoi(raw: bytes) -> int:
    """C atoi: optional whitespace and sign, then as many digits as there are; 0 if none."""
    text = raw.lstrip(b" \t\n\v\f\r")
    sign = 1
    if text[:1] in (b"+", b"-"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    digits = 0
    for byte in text:
        if not 48 <= byte <= 57:
            break
        digits += 1
    if not digits:
        return 0
    value = sign * int(text[:digits])
    # atoi overflows like the C int it returns.
    return (value + 2**31) % 2**32 - 2**31


# -----------------------------------------------------------------------------------------
# Entry points
# -----------------------------------------------------------------------------------------

def command_has_keys(cmd: CommandDef) -> bool:
    """True if the command takes key arguments (doesCommandHaveKeys): a getkeys hook or a real key spec."""
    return cmd.getkeys is not None or any(not spec.flags & KS_NOT_KEY for spec in cmd.key_specs)


def command_keys(cmd: CommandDef, argv: list[bytes], options: int = 0) -> list[KeyRef]:
    """The keys of ``argv`` (a full command line for ``cmd``) with their flags.

    Key specs are used when they are exact; a command with ``variable_flags`` specs, or
    whose specs do not fit these arguments, is answered by its getkeys hook (or the
    numkeys fallback). An empty list means no keys could be found."""
    specs = cmd.key_specs
    has_real_spec = False
    variable_flags = False
    for spec in specs:
        if not spec.flags & KS_NOT_KEY:
            has_real_spec = True
        if spec.flags & KS_VARIABLE_FLAGS:
            variable_flags = True
    if has_real_spec and not variable_flags:
        keys = keys_from_specs(cmd, argv, options)
        if keys is not None:
            return keys
    hook: Callable | None = cmd.getkeys
    if hook is not None:
        return hook(cmd, argv)
    fallback = _numkeys_fallback(cmd, argv)
    return fallback if fallback is not None else []


def keyspec_flag_names(flags: int) -> list[str]:
    """The COMMAND GETKEYSANDFLAGS / COMMAND INFO spelling of key-spec flags, in Redis's order."""
    from specredis.engine.command import KEYSPEC_FLAG_BITS, KEYSPEC_FLAGS

    return [wire for name, wire in KEYSPEC_FLAGS if flags & KEYSPEC_FLAG_BITS[name]]
