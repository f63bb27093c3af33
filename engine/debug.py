"""DEBUG (debug.c): dataset digests, object inspection, protocol samples, sleeps and test hooks.

DEBUG is a ``protected`` command: :func:`protected_allowed` (the dispatcher's
protected gate) admits it when ``enable-debug-command`` is ``yes``, or ``local``
and the client is on a loopback or unix socket.

**Digests.** ``DEBUG DIGEST`` / ``DIGEST-VALUE`` are computed exactly as Redis does,
so datasets can be compared across servers: per key, a :class:`Digest` is mixed
with the key, the value's type code and content, and ``!!expire!!`` if the key has a
TTL; key digests are XOR-ed (hashed) into the database digest. Type modules
register how their values are digested with :func:`register_digest`; the helpers
below (:func:`digest_ordered`, :func:`digest_unordered`, :func:`digest_pairs`,
:func:`digest_scored`) are Redis's rules for lists, sets, hashes and sorted sets.

**Extending.** Subcommands that need other subsystems (RELOAD needs RDB, LISTPACK
needs list internals...) are registered by those modules with
:func:`register_subcommand`; until then they answer an explicit "not supported" error.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from specredis.engine.args import string_to_int, strtod_prefix
from specredis.engine.clients import is_local_address
from specredis.engine.errors import NO_SUCH_KEY, RedisError, subcommand_syntax_error
from specredis.engine.help import help_reply
from specredis.engine.keyspace import TYPE_NAMES
from specredis.engine.objects import object_encoding, object_refcount
from specredis.protocol.replies import (
    FALSE,
    OK,
    TRUE,
    Attribute,
    BigNumber,
    Bool,
    Double,
    ErrorReply,
    Map,
    Push,
    Raw,
    Set,
    Status,
    Verbatim,
)
from specredis.util.log import log

if TYPE_CHECKING:
    from specredis.engine.client import Client
    from specredis.engine.command import CommandDef
    from specredis.engine.core import Engine
    from specredis.engine.keyspace import Database


# -- digests -------------------------------------------------------------------------------


def _sha1_int(data: bytes) -> int:
    return int.from_bytes(hashlib.sha1(data).digest(), "big")


class Digest:
    """A 20-byte digest with Redis's two operations (debug.c).

    ``xor(data)``: digest ^= SHA1(data) -- order-independent (set members, keys).
    ``mix(data)``: digest = SHA1(digest ^ SHA1(data)) -- order-dependent (list items).
    """

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = 0

    def xor(self, data: bytes | bytearray) -> None:
        self.state ^= _sha1_int(data)

    def mix(self, data: bytes | bytearray) -> None:
        self.state ^= _sha1_int(data)
        self.state = _sha1_int(self.state.to_bytes(20, "big"))

    def digest(self) -> bytes:
        return self.state.to_bytes(20, "big")

    def hex(self) -> str:
        return self.digest().hex()


def digest_ordered(digest: Digest, items: Any) -> None:
    """Lists: mix every element in order."""
    for item in items:
        digest.mix(item)


def digest_unordered(digest: Digest, members: Any) -> None:
    """Sets: xor every member."""
    for member in members:
        digest.xor(member)


def digest_pairs(digest: Digest, pairs: Any) -> None:
    """Hashes: for each (field, value), a fresh digest mixed with both, xor-ed in."""
    for field, value in pairs:
        element = Digest()
        element.mix(field)
        element.mix(value)
        digest.xor(element.digest())


def digest_scored(digest: Digest, members: Any) -> None:
    """Sorted sets: for each (member, score), a fresh digest mixed with the member and the
    score printed as ``%.17g``, xor-ed in."""
    for member, score in members:
        element = Digest()
        element.mix(member)
        element.mix(b"%.17g" % score)
        digest.xor(element.digest())


# Redis's object type codes (OBJ_STRING...), mixed in first as a big-endian uint32.
TYPE_CODES = {"string": 0, "list": 1, "set": 2, "zset": 3, "hash": 4, "module": 5, "stream": 6}

# Python class -> fn(digest, value) that mixes the value's content (not its type or TTL).
DIGESTERS: dict[type, Callable[[Digest, Any], None]] = {
    bytes: Digest.mix,
    bytearray: Digest.mix,
}


def register_digest(cls: type, digester: Callable[[Digest, Any], None]) -> None:
    """Declare how values of ``cls`` are digested: ``digester(digest, value)`` mixes the content
    the way Redis's xorObjectDigest does for that type (see the helpers above; streams mix
    ``b"%d.%d" % (ms, seq)`` then each field and value, in entry order)."""
    DIGESTERS[cls] = digester


def _mix_value(digest: Digest, db: Database, key: bytes, value: Any) -> None:
    # xorObjectDigest: the type code, the content, and the presence of a TTL.
    name = TYPE_NAMES[type(value)]
    digest.mix(struct.pack(">I", TYPE_CODES[name]))
    digester = DIGESTERS.get(type(value))
    if digester is None:
        raise RedisError(f"ERR DEBUG DIGEST is not supported yet for values of type '{name}'")
    digester(digest, value)
    if key in db.expires:
        digest.xor(b"!!expire!!")


def value_digest(db: Database, key: bytes, value: Any) -> Digest:
    """The digest of one value (DEBUG DIGEST-VALUE): the key itself is not part of it."""
    digest = Digest()
    _mix_value(digest, db, key, value)
    return digest


def dataset_digest(engine: Engine) -> bytes:
    """computeDatasetDigest: all zeros for an empty dataset.

    Each database that has keys mixes in its number; each key contributes a digest
    started from the key and continued with its value, xor-ed (hashed) in."""
    final = Digest()
    for db in engine.databases:
        if not db.data:
            continue
        final.mix(struct.pack(">I", db.id))
        for key, value in db.data.items():
            entry = Digest()
            entry.mix(key)
            _mix_value(entry, db, key, value)
            final.xor(entry.digest())
    return final.digest()


# -- DEBUG OBJECT ----------------------------------------------------------------------------

# Python class -> fn(value) -> (serializedlength, extra text after lru_seconds_idle).
OBJECT_INSPECTORS: dict[type, Callable[[Any], tuple[int, str]]] = {}

LRU_CLOCK_MAX = (1 << 24) - 1


def register_object_inspector(cls: type, inspector: Callable[[Any], tuple[int, str]]) -> None:
    """Declare DEBUG OBJECT's details for ``cls``: ``inspector(value) -> (serializedlength, extra)``,
    ``extra`` being what Redis appends for the type (`` ql_nodes:...`` for quicklists)."""
    OBJECT_INSPECTORS[cls] = inspector


def _rdb_length_size(length: int) -> int:
    if length < 64:
        return 1
    if length < 16384:
        return 2
    if length <= 0xFFFFFFFF:
        return 5
    return 9


def _rdb_int_size(value: int) -> int | None:
    if -(1 << 7) <= value < 1 << 7:
        return 2
    if -(1 << 15) <= value < 1 << 15:
        return 3
    if -(1 << 31) <= value < 1 << 31:
        return 5
    return None


def string_serialized_length(value: bytes | bytearray) -> int:
    """The RDB size of a string (rdbSaveStringObject), without LZF compression.

    Strings longer than 20 bytes are LZF-compressed by Redis when that saves space;
    until the persistence module provides the compressor this is the plain size."""
    number = string_to_int(bytes(value)) if len(value) <= 11 else None
    if number is not None:
        size = _rdb_int_size(number)
        if size is not None:
            return size
    return _rdb_length_size(len(value)) + len(value)


def _inspect_string(value: bytes | bytearray) -> tuple[int, str]:
    return string_serialized_length(value), ""


OBJECT_INSPECTORS[bytes] = _inspect_string
OBJECT_INSPECTORS[bytearray] = _inspect_string


def debug_object(client: Client, key: bytes) -> Status:
    """``Value at:... refcount:... encoding:... serializedlength:... lru:... lru_seconds_idle:...``

    Types without a registered inspector (nor a ``serialized_length()`` method) report a
    serializedlength of 0: their RDB form does not exist here yet."""
    engine = client.engine
    db = client.db
    value = db.data.get(key)       # dictFind: an expired key not yet removed is still shown
    if value is None:
        raise RedisError(NO_SUCH_KEY)
    inspector = OBJECT_INSPECTORS.get(type(value))
    if inspector is not None:
        serialized, extra = inspector(value)
    else:
        measure = getattr(value, "serialized_length", None)
        serialized, extra = (measure() if measure is not None else 0), ""
    # The access clock, while engine/eviction.py keeps them (LRU/LFU policies); else never idle.
    lru_field = engine.extensions.get("object_lru_field")
    if lru_field is not None:
        lru, idle = lru_field(db, key)
    else:
        lru, idle = (engine.now_ms() // 1000) & LRU_CLOCK_MAX, 0
    return Status(f"Value at:{id(value):#x} refcount:{object_refcount(engine, value)} "
                  f"encoding:{object_encoding(value)} serializedlength:{serialized} lru:{lru} "
                  f"lru_seconds_idle:{idle}{extra}")


# -- DEBUG PROTOCOL --------------------------------------------------------------------------

PROTOCOL_TYPES = "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"


def debug_protocol(client: Client, name: bytes) -> Any:
    kind = name.lower()
    if kind == b"string":
        return b"Hello World"
    if kind == b"integer":
        return 12345
    if kind == b"double":
        return Double(3.141)
    if kind == b"bignum":
        return BigNumber(b"1234567999999999999999999999999999999")
    if kind == b"null":
        return None
    if kind == b"array":
        return [0, 1, 2]
    if kind == b"set":
        return Set([0, 1, 2])
    if kind == b"map":
        return Map([(0, Bool(False)), (1, Bool(True)), (2, Bool(False))])
    if kind == b"attrib":
        return Attribute([(b"key-popularity", [b"key:123", 90])], b"Some real reply following the attribute")
    if kind == b"push":
        if client.resp < 3:
            raise RedisError("ERR RESP2 is not supported by this command")
        # Two frames: the push, then the reply proper.
        from specredis.protocol.encoder import encode

        return Raw(encode(Push([b"server-cpu-usage", 42]), 3)
                   + encode(b"Some real reply following the push reply", 3))
    if kind == b"verbatim":
        return Verbatim(b"This is a verbatim\nstring", "txt")
    if kind == b"true":
        return TRUE
    if kind == b"false":
        return FALSE
    raise RedisError(f"ERR Wrong protocol type name. Please use one of the following: {PROTOCOL_TYPES}")


# -- subcommands ----------------------------------------------------------------------------

DEBUG_HELP = (
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
)


def c_atoi(raw: bytes) -> int:
    """C atoi(): optional spaces and sign, then digits; 0 when there are none."""
    text = raw.lstrip(b" \t\n\v\f\r")
    sign = 1
    if text[:1] in (b"-", b"+"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    digits = 0
    for byte in text:
        if not 48 <= byte <= 57:
            break
        digits += 1
    return sign * int(text[:digits]) if digits else 0


def _positive(raw: bytes) -> int:
    value = string_to_int(raw)
    if value is None or value < 0:
        raise RedisError("ERR value is out of range, must be positive")
    return value


def _help(client: Client, argv: list[bytes]) -> Any:
    return help_reply(argv, DEBUG_HELP)


def _log(client: Client, argv: list[bytes]) -> Any:
    log("warning", "DEBUG LOG: " + argv[2].decode("utf-8", "surrogateescape"))
    return OK


def _sleep(client: Client, argv: list[bytes]) -> Any:
    # Like Redis, this blocks the whole server: nothing else runs meanwhile.
    micros = int(strtod_prefix(argv[2]) * 1_000_000)
    if micros > 0:
        time.sleep(micros / 1_000_000)
    return OK


def _object(client: Client, argv: list[bytes]) -> Any:
    return debug_object(client, argv[2])


def _set_active_expire(client: Client, argv: list[bytes]) -> Any:
    client.engine.extensions["active_expire_enabled"] = bool(c_atoi(argv[2]))
    return OK


def _protocol(client: Client, argv: list[bytes]) -> Any:
    return debug_protocol(client, argv[2])


def _digest(client: Client, argv: list[bytes]) -> Any:
    return Status(dataset_digest(client.engine).hex())


def _digest_value(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    out = []
    for key in argv[2:]:
        value = db.lookup_nostats(key)
        out.append(Status(value_digest(db, key, value).hex() if value is not None else "0" * 40))
    return out


def _error(client: Client, argv: list[bytes]) -> Any:
    # A raw error reply: not counted in INFO errorstats, CR/LF shown as spaces.
    return ErrorReply(argv[2].replace(b"\r", b" ").replace(b"\n", b" "))


def _populate(client: Client, argv: list[bytes]) -> Any:
    count = _positive(argv[2])
    size = _positive(argv[4]) if len(argv) == 5 else 0
    prefix = argv[3] if len(argv) >= 4 else b"key"
    db = client.db
    for index in range(count):
        key = (b"%s:%d" % (prefix, index))[:127]
        if db.lookup_write(key) is not None:
            continue
        value = b"value:%d" % index
        if size:
            value = value[:size].ljust(size, b"\0")
        db.add(key, value)
        db.signal_modified(key)
    return OK


def _stringmatch_test(client: Client, argv: list[bytes]) -> Any:
    return Status(b"Apparently Redis did not crash: test passed")


def _ok(client: Client, argv: list[bytes]) -> Any:
    return OK


def _set_skip_checksum(client: Client, argv: list[bytes]) -> Any:
    client.engine.extensions["skip_checksum_validation"] = bool(c_atoi(argv[2]))
    return OK


def _pause_cron(client: Client, argv: list[bytes]) -> Any:
    client.engine.extensions["cron_paused"] = bool(c_atoi(argv[2]))
    return OK


def _crash(client: Client, argv: list[bytes]) -> Any:
    # ASSERT, PANIC, SEGFAULT, OOM: the process dies abnormally, as Redis does on purpose.
    log("warning", f"=== DEBUG {argv[1].decode('utf-8', 'surrogateescape').upper()}: crashing on request ===")
    os.abort()


def _unsupported(needs: str) -> Callable[[Client, list[bytes]], Any]:
    def reply(client: Client, argv: list[bytes]) -> Any:
        name = argv[1].decode("utf-8", "surrogateescape").upper()
        raise RedisError(f"ERR DEBUG {name} is not supported by this server yet: it needs {needs}")
    return reply


def _argc(low: int, high: int | None = None) -> Callable[[int], bool]:
    top = low if high is None else high
    return lambda argc: low <= argc <= top


# name -> (handler, arity check): a failed check is Redis's "unknown subcommand or wrong number" error.
SUBCOMMANDS: dict[bytes, tuple[Callable[[Client, list[bytes]], Any], Callable[[int], bool]]] = {
    b"help": (_help, _argc(2)),
    b"log": (_log, _argc(3)),
    b"sleep": (_sleep, _argc(3)),
    b"object": (_object, _argc(3)),
    b"set-active-expire": (_set_active_expire, _argc(3)),
    b"protocol": (_protocol, _argc(3)),
    b"digest": (_digest, _argc(2)),
    b"digest-value": (_digest_value, _argc(2, 1 << 31)),
    b"error": (_error, _argc(3)),
    b"populate": (_populate, _argc(3, 5)),
    b"stringmatch-test": (_stringmatch_test, _argc(2)),
    b"leak": (_ok, _argc(3)),
    b"aof-flush-sleep": (_ok, _argc(3)),
    b"set-skip-checksum-validation": (_set_skip_checksum, _argc(3)),
    b"pause-cron": (_pause_cron, _argc(3)),
    b"replybuffer": (_ok, _argc(4)),
    b"assert": (_crash, _argc(2)),
    b"panic": (_crash, _argc(2)),
    b"segfault": (_crash, _argc(2)),
    b"oom": (_crash, _argc(2)),
    b"reload": (_unsupported("RDB persistence"), _argc(2, 1 << 31)),
    b"loadaof": (_unsupported("AOF persistence"), _argc(2)),
    b"restart": (_unsupported("RDB persistence and re-exec"), _argc(2, 3)),
    b"crash-and-recover": (_unsupported("RDB persistence and re-exec"), _argc(2, 3)),
    b"config-rewrite-force-all": (_unsupported("CONFIG REWRITE"), _argc(2)),
    b"change-repl-id": (_unsupported("replication"), _argc(2)),
    b"replicate": (_unsupported("replication"), _argc(3, 1 << 31)),
    b"drop-cluster-packet-filter": (_unsupported("cluster mode"), _argc(3)),
    b"clusterlink": (_unsupported("cluster mode"), _argc(5)),
    b"client-eviction": (_unsupported("client eviction (maxmemory-clients)"), _argc(2)),
    b"quicklist-packed-threshold": (_unsupported("the list type's quicklist"), _argc(3)),
    b"listpack": (_unsupported("listpack encodings"), _argc(3)),
    b"quicklist": (_unsupported("the list type's quicklist"), _argc(3, 4)),
    b"htstats": (_unsupported("Redis's C hash tables"), _argc(3, 1 << 31)),
    b"htstats-key": (_unsupported("Redis's C hash tables"), _argc(3, 1 << 31)),
    b"sdslen": (_unsupported("Redis's C strings (sds)"), _argc(3)),
    b"structsize": (_unsupported("Redis's C structures"), _argc(2)),
    b"mallctl": (_unsupported("jemalloc"), _argc(3, 4)),
    b"mallctl-str": (_unsupported("jemalloc"), _argc(3, 4)),
}


def register_subcommand(name: str, handler: Callable[[Client, list[bytes]], Any], min_argc: int,
                        max_argc: int | None = None) -> None:
    """Serve ``DEBUG <name>`` with ``handler(client, argv)`` when min_argc <= len(argv) <= max_argc."""
    SUBCOMMANDS[name.lower().encode()] = (handler, _argc(min_argc, max_argc))


def debug_command(client: Client, argv: list[bytes]) -> Any:
    """DEBUG subcommand [argument ...]"""
    entry = SUBCOMMANDS.get(argv[1].lower())
    if entry is None or not entry[1](len(argv)):
        raise subcommand_syntax_error(argv)
    return entry[0](client, argv)


# -- the protected-command gate --------------------------------------------------------------


def protected_allowed(client: Client, cmd: CommandDef) -> bool:
    """enable-debug-command / enable-module-command: yes, or local for loopback clients."""
    setting = client.engine.config[(cmd.engine or {}).get("protected_by", "enable-debug-command")]
    if setting == "yes":
        return True
    if setting == "local":
        host = client.addr.rsplit(":", 1)[0].strip("[]") if ":" in client.addr else client.addr
        return is_local_address(host)
    return False


def install(engine: Engine) -> None:
    """The protected gate, and active expiry on by default (DEBUG SET-ACTIVE-EXPIRE)."""
    engine.extensions["protected_allowed"] = protected_allowed
    engine.extensions.setdefault("active_expire_enabled", True)
