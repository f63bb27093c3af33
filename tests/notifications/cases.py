"""Representative invocations of every served command that takes keys, for the keyspace
event tests: each case is a setup and the commands under test, written as command lines
(``shlex`` syntax). ``SLEEP <seconds>`` pauses (the pipeline is flushed first), and
``$RESTORE <source> <target>`` restores on each server the DUMP of ``source`` it made itself.

The cases exercise what emits events: creating, modifying and deleting keys (and the
deletion of emptied containers), missing keys (``keymiss``, ``new``), failures that emit
nothing (wrong types, NX/XX conditions, syntax errors), and lazy expiry."""

from __future__ import annotations

import shlex

Case = tuple[str, list[list[str]], list[list[str]]]

_STRINGS = "MSET s1 hello s2 12 s3 1.5"
_LIST = "RPUSH l a b c d"
_HASH = "HSET h f1 v1 f2 2 f3 1.5"
_SET = "SADD s a b c"
_SET2 = "SADD s2 b c d"
_ZSET = "ZADD z 1 a 2 b 3 c"
_ZSET2 = "ZADD z2 2 b 3 c 4 d"
_STREAM = "XADD x 1-1 f v"
_GEO = "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"

RAW_CASES: list[tuple[str, list[str], list[str]]] = [
    # -- strings -----------------------------------------------------------------------------
    ("set", [], ["SET k v", "SET k v2", "SET k v NX", "SET k v3 XX", "SET n v XX", "SET k v EX 100",
                 "SET k v KEEPTTL", "SET k v GET", "SET m v GET", "SET k v PX 0", "SET k v EXAT 1", "SET k",
                 "SET k v PXAT 99999999999999", "SET k v EX 10 PX 10"]),
    ("set on other types", [_LIST], ["SET l v GET", "SET l v"]),
    ("setnx/setex/psetex", ["SET k v"], ["SETNX k x", "SETNX n x", "SETEX k 100 v", "SETEX e 100 v",
                                          "SETEX e 0 v", "PSETEX p 100000 v", "PSETEX p -1 v"]),
    ("getset/getdel", ["SET k v"], ["GETSET k v2", "GETSET n v", "GETDEL k", "GETDEL k", "GETDEL missing"]),
    ("getex", ["SET k v", _LIST], ["GETEX k", "GETEX k EX 100", "GETEX k PERSIST", "GETEX k PXAT 1", "GETEX k",
                                    "GETEX missing EX 10", "GETEX l", "GETEX k EX 0"]),
    ("get family", [_STRINGS, _LIST], ["GET s1", "GET missing", "GET l", "MGET s1 missing l s2", "STRLEN s1",
                                        "STRLEN missing", "GETRANGE s1 0 2", "GETRANGE missing 0 2", "SUBSTR s1 0 1",
                                        "SUBSTR missing 0 1", "LCS s1 s2", "LCS s1 missing"]),
    ("mset/msetnx", ["SET a 1"], ["MSET a 2 b 3", "MSETNX a 1 c 1", "MSETNX c 1 d 2", "MSET a"]),
    ("append/setrange", ["SET k abc"], ["APPEND k def", "APPEND n x", "APPEND k ''", "SETRANGE k 1 X",
                                         "SETRANGE n 2 y", "SETRANGE m 0 ''", "SETRANGE k 0 ''",
                                         "SETRANGE k -1 x"]),
    ("counters", ["SET i 10", "SET f 1.5", "SET s abc"], ["INCR i", "INCR n", "DECR i", "DECR d", "INCRBY i 5",
                                                          "INCRBY i2 5", "DECRBY i 2", "DECRBY i3 2",
                                                          "INCRBYFLOAT f 1", "INCRBYFLOAT nf 2.5", "INCR s",
                                                          "INCRBYFLOAT s 1", "INCRBY i abc"]),
    ("bitmaps", ["SET b abc"], ["SETBIT b 1 1", "SETBIT nb 100 1", "SETBIT b 1 1", "GETBIT b 1", "GETBIT missing 1",
                                "BITCOUNT b", "BITCOUNT missing", "BITPOS b 1", "BITPOS missing 1",
                                "BITOP AND dest b nb", "BITOP OR dest2 missing missing2", "BITOP NOT dest b",
                                "BITFIELD bf SET u8 0 255", "BITFIELD bf GET u8 0", "BITFIELD missing GET u8 0",
                                "BITFIELD_RO b GET u8 0", "BITFIELD_RO missing GET u8 0",
                                "BITFIELD bf INCRBY u8 0 1 OVERFLOW FAIL INCRBY u8 0 300"]),
    ("hyperloglog", ["PFADD hll a b c", "PFADD hll2 c d"], ["PFADD hll a", "PFADD hll z", "PFADD new",
                                                             "PFADD new2 x", "PFCOUNT hll", "PFCOUNT missing",
                                                             "PFCOUNT hll hll2", "PFMERGE dest hll hll2",
                                                             "PFMERGE hll2 missing", "PFMERGE empty"]),
    # -- keyspace ------------------------------------------------------------------------------
    ("del/unlink/exists/touch/type", [_STRINGS, _LIST], ["DEL s1 missing", "UNLINK s2 l", "DEL missing",
                                                          "EXISTS s3 missing", "TOUCH s3 missing", "TYPE s3",
                                                          "TYPE missing"]),
    ("expire family", [_STRINGS], ["EXPIRE s1 100", "EXPIRE missing 100", "EXPIRE s1 200 NX", "EXPIRE s1 50 GT",
                                   "PEXPIRE s1 100000 LT", "EXPIREAT s1 4000000000", "PEXPIREAT s1 4000000000000",
                                   "EXPIRE s2 -1", "PEXPIRE s3 0", "EXPIRE s1 abc", "PERSIST s1", "PERSIST s1",
                                   "PERSIST missing", "EXPIREAT s1 1"]),
    ("ttl family", ["SET k v EX 100", "SET p v"], ["TTL k", "PTTL k", "TTL missing", "PTTL missing",
                                                   "EXPIRETIME k", "PEXPIRETIME p", "EXPIRETIME missing",
                                                   "PEXPIRETIME missing"]),
    ("rename", [_STRINGS, _LIST], ["RENAME s1 r1", "RENAME missing x", "RENAME r1 r1", "RENAME l s2",
                                   "RENAMENX s3 s2", "RENAMENX s3 r3", "RENAMENX r3 r3"]),
    ("copy/move", [_STRINGS, _LIST], ["COPY s1 c1", "COPY s1 c1", "COPY s1 c1 REPLACE", "COPY missing c2",
                                      "COPY l l2 DB 1", "MOVE s2 1", "MOVE s2 1", "MOVE missing 1", "SELECT 1",
                                      "MOVE s2 0", "SELECT 0"]),
    ("dump/restore", [_STRINGS, _HASH], ["DUMP s1", "DUMP missing", "$RESTORE s1 r1", "$RESTORE h r2",
                                         "$RESTORE h r2", "$RESTORE s1 missing-not-used"]),
    ("object", [_STRINGS], ["OBJECT ENCODING s1", "OBJECT ENCODING missing", "OBJECT REFCOUNT s1",
                            "OBJECT REFCOUNT missing", "OBJECT IDLETIME s1", "OBJECT IDLETIME missing"]),
    ("sort", ["RPUSH l 3 1 2", "SET w_1 3", "SET w_2 2", "SET w_3 1", "SADD s x y"],
     ["SORT l", "SORT l BY w_* STORE dst", "SORT missing STORE dst", "SORT l STORE dst2", "SORT_RO l",
      "SORT_RO missing", "SORT s ALPHA STORE dst3", "SORT s STORE dst4"]),
    ("swapdb", ["SET a 1", "SELECT 1", "SET b 2", "SELECT 0"], ["SWAPDB 0 1", "GET b", "SWAPDB 0 0"]),
    ("keys/scan/randomkey", ["SET a 1"], ["KEYS *", "SCAN 0", "SCAN 0 TYPE string", "RANDOMKEY"]),
    # -- lists -----------------------------------------------------------------------------------
    ("list push", [_LIST, "SET s x"], ["LPUSH l z", "RPUSH n y", "LPUSH n2 a b", "LPUSHX l q", "LPUSHX missing q",
                                       "RPUSHX l w", "RPUSHX missing w", "LPUSH s x", "LINSERT l BEFORE b x",
                                       "LINSERT l AFTER nope x", "LINSERT missing BEFORE a b", "LSET l 0 A",
                                       "LSET l 100 A", "LSET missing 0 A"]),
    ("list pops", [_LIST, "RPUSH one x"], ["LPOP l", "RPOP l", "LPOP l 1", "RPOP l 5", "LPOP one", "LPOP missing",
                                           "RPOP missing 2", "LPOP l 0"]),
    ("list reads", [_LIST], ["LRANGE l 0 -1", "LRANGE missing 0 -1", "LLEN l", "LLEN missing", "LINDEX l 0",
                             "LINDEX missing 0", "LPOS l b", "LPOS missing b"]),
    ("list rem/trim", [_LIST, "RPUSH m a a"], ["LREM l 1 b", "LREM l 0 nope", "LREM m 0 a", "LREM missing 0 a",
                                              "LTRIM l 0 1", "LTRIM l 5 10", "LTRIM missing 0 1"]),
    ("list moves", [_LIST, "RPUSH one x"], ["LMOVE l dst LEFT RIGHT", "LMOVE l l RIGHT LEFT", "LMOVE one dst LEFT LEFT",
                                            "LMOVE missing dst LEFT LEFT", "RPOPLPUSH l dst", "RPOPLPUSH missing dst",
                                            "BLMOVE l dst2 RIGHT RIGHT 0.01", "BRPOPLPUSH l dst3 0.01"]),
    ("list multi pops", [_LIST, "RPUSH l2 x"], ["LMPOP 2 missing l LEFT", "LMPOP 1 l RIGHT COUNT 10",
                                                "LMPOP 1 l LEFT", "BLMPOP 0.01 1 l2 LEFT", "BLPOP missing 0.01",
                                                "RPUSH l3 a b", "BLPOP l3 0", "BRPOP l3 0", "BRPOP l3 0.01"]),
    # -- hashes ------------------------------------------------------------------------------------
    ("hash writes", [_HASH, "SET s x"], ["HSET h f1 new f9 x", "HSET n a 1", "HSETNX h f1 z", "HSETNX h f8 z",
                                          "HMSET h a 1", "HMSET n2 a 1", "HINCRBY h f2 3", "HINCRBY n3 f 1",
                                          "HINCRBYFLOAT h f3 1.5", "HINCRBYFLOAT n4 f 1", "HINCRBY h f1 1",
                                          "HSET s a 1", "HDEL h nope", "HDEL h f1 f2 f3 f8 f9 a", "HDEL missing a"]),
    ("hash reads", [_HASH], ["HGET h f1", "HGET missing f", "HMGET h f1 nope", "HMGET missing a", "HGETALL h",
                             "HGETALL missing", "HKEYS h", "HVALS missing", "HLEN h", "HLEN missing", "HEXISTS h f1",
                             "HEXISTS missing f", "HSTRLEN h f1", "HSTRLEN missing f", "HRANDFIELD missing",
                             "HSCAN missing 0", "HSCAN h 0"]),
    # -- sets ---------------------------------------------------------------------------------------
    ("set writes", [_SET, _SET2, "SADD one x"], ["SADD s d", "SADD s a", "SADD n x", "SREM s a nope", "SREM one x",
                                                 "SREM missing a", "SMOVE s s2 b", "SMOVE s s2 nope",
                                                 "SMOVE one s2 x", "SADD one y", "SMOVE one newset y",
                                                 "SMOVE missing s a"]),
    ("set algebra", [_SET, _SET2], ["SINTER s s2", "SINTER missing s", "SUNION s missing", "SDIFF s s2",
                                    "SINTERSTORE d s s2", "SINTERSTORE d missing s", "SUNIONSTORE u s s2",
                                    "SDIFFSTORE df s s2", "SDIFFSTORE df s s", "SINTERCARD 2 s s2",
                                    "SINTERCARD 1 missing"]),
    ("set reads and pops", [_SET, "SADD one x"], ["SMEMBERS s", "SMEMBERS missing", "SISMEMBER s a",
                                                  "SISMEMBER missing a", "SMISMEMBER s a z", "SCARD missing",
                                                  "SRANDMEMBER missing", "SSCAN missing 0", "SPOP one",
                                                  "SPOP missing", "SPOP missing 2", "SADD two a b",
                                                  "SPOP two 5"]),
    # -- sorted sets ------------------------------------------------------------------------------
    ("zset writes", [_ZSET, "SET s x"], ["ZADD z 5 a", "ZADD z 1 a", "ZADD z NX 9 a", "ZADD z XX 9 new",
                                         "ZADD z INCR 1 a", "ZADD n 1 m", "ZADD z XX CH 2 b", "ZADD s 1 a",
                                         "ZINCRBY z 1 c", "ZINCRBY nz 1 c", "ZREM z a nope", "ZREM missing a",
                                         "ZREM z b c"]),
    ("zset ranges removal", [_ZSET, "ZADD lex 0 a 0 b 0 c"], ["ZREMRANGEBYSCORE z 5 6", "ZREMRANGEBYSCORE z 1 1",
                                                              "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYRANK z 0 -1",
                                                              "ZREMRANGEBYLEX lex [a [b", "ZREMRANGEBYLEX lex - +",
                                                              "ZREMRANGEBYLEX missing - +"]),
    ("zset pops", [_ZSET, "ZADD one 1 x"], ["ZPOPMIN z", "ZPOPMAX z 5", "ZPOPMIN missing", "ZPOPMAX one",
                                             "ZADD z 1 a 2 b", "ZMPOP 1 z MIN", "ZMPOP 2 missing z MAX COUNT 9",
                                             "ZADD z 1 q", "BZPOPMIN z 0", "BZPOPMAX missing 0.01",
                                             "ZADD z 1 q 2 r", "BZMPOP 0.01 1 z MIN COUNT 5"]),
    ("zset stores", [_ZSET, _ZSET2], ["ZUNIONSTORE u 2 z z2", "ZINTERSTORE i 2 z z2", "ZDIFFSTORE d 2 z z2",
                                      "ZINTERSTORE i 2 z missing", "ZDIFFSTORE d 2 z z", "ZRANGESTORE r z 0 1",
                                      "ZRANGESTORE r z 5 10", "ZUNIONSTORE u2 2 missing missing2"]),
    ("zset reads", [_ZSET, _ZSET2], ["ZRANGE z 0 -1", "ZRANGE missing 0 -1", "ZRANGEBYSCORE z 1 2",
                                     "ZREVRANGE missing 0 1", "ZRANGEBYLEX missing - +", "ZREVRANGEBYSCORE z 3 1",
                                     "ZREVRANGEBYLEX z + -", "ZCARD missing", "ZCOUNT z 1 2", "ZLEXCOUNT missing - +",
                                     "ZSCORE z a", "ZSCORE missing a", "ZMSCORE z a x", "ZRANK z a", "ZREVRANK missing a",
                                     "ZUNION 2 z missing", "ZINTER 2 z z2", "ZDIFF 2 z missing", "ZINTERCARD 2 z z2",
                                     "ZRANDMEMBER missing", "ZSCAN missing 0"]),
    # -- geo -------------------------------------------------------------------------------------------
    ("geo", [_GEO], ["GEOADD g 13.5 38.1 Other", "GEOADD g NX 13.5 38.1 Other", "GEOADD ng 1 1 m",
                     "GEOPOS g Palermo", "GEOPOS missing a", "GEODIST g Palermo Catania", "GEODIST missing a b",
                     "GEOHASH g Palermo", "GEOHASH missing a",
                     "GEORADIUS g 15 37 200 km", "GEORADIUS g 15 37 200 km STORE gs", "GEORADIUS g 0 0 1 km STORE gs",
                     "GEORADIUS_RO missing 15 37 200 km", "GEORADIUSBYMEMBER g Palermo 100 km STORE gs2",
                     "GEORADIUSBYMEMBER_RO g Palermo 100 km",
                     "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km", "GEOSEARCH missing FROMLONLAT 15 37 BYRADIUS 1 km",
                     "GEOSEARCHSTORE gs3 g FROMLONLAT 15 37 BYRADIUS 200 km",
                     "GEOSEARCHSTORE gs3 g FROMLONLAT 0 0 BYRADIUS 1 km"]),
    # -- streams -----------------------------------------------------------------------------------
    ("stream writes", [_STREAM], ["XADD x 2-1 a b", "XADD x 1-1 a b", "XADD nx NOMKSTREAM * a b", "XADD ns 5-1 a b",
                                  "XADD x MAXLEN 1 3-1 a b", "XTRIM x MAXLEN 0", "XTRIM x MAXLEN 0",
                                  "XTRIM missing MAXLEN 0", "XADD x 4-1 a b", "XDEL x 4-1 9-9", "XDEL x 9-9",
                                  "XDEL missing 1-1", "XSETID x 10-1", "XSETID missing 10-1"]),
    ("stream groups", [_STREAM, "XADD x 2-1 g h"],
     ["XGROUP CREATE x grp 0", "XGROUP CREATE x grp 0", "XGROUP CREATE nx grp $ MKSTREAM",
      "XGROUP CREATE missing grp $", "XGROUP CREATECONSUMER x grp alice", "XGROUP CREATECONSUMER x grp alice",
      "XREADGROUP GROUP grp bob COUNT 1 STREAMS x >", "XREADGROUP GROUP grp bob STREAMS x 0",
      "XACK x grp 1-1", "XACK missing grp 1-1", "XCLAIM x grp carol 0 2-1", "XAUTOCLAIM x grp dave 0 0",
      "XPENDING x grp", "XPENDING missing grp", "XGROUP SETID x grp 0", "XGROUP DELCONSUMER x grp alice",
      "XGROUP DELCONSUMER x grp nobody", "XGROUP DESTROY x grp", "XGROUP DESTROY x grp"]),
    ("stream reads", [_STREAM], ["XRANGE x - +", "XRANGE missing - +", "XREVRANGE missing + -", "XLEN missing",
                                 "XREAD STREAMS x missing 0 0", "XREAD COUNT 1 STREAMS missing 0",
                                 "XINFO STREAM x", "XINFO STREAM missing", "XINFO GROUPS missing",
                                 "XINFO CONSUMERS missing g"]),
    # -- scripts, transactions ----------------------------------------------------------------
    ("scripts", [], ["EVAL \"redis.call('set', KEYS[1], 'v') redis.call('del', KEYS[1]) return 1\" 1 sk",
                     "EVAL_RO \"return redis.call('get', KEYS[1])\" 1 missing",
                     "EVALSHA_RO nosuchsha 0",
                     "FUNCTION LOAD \"#!lua name=evlib\nredis.register_function('setit', function(k) "
                     "return redis.call('set', k[1], 'x') end) redis.register_function{function_name='getit', "
                     "callback=function(k) return redis.call('get', k[1]) end, flags={'no-writes'}}\"",
                     "FCALL setit 1 fk", "FCALL_RO getit 1 missing", "FUNCTION DELETE evlib"]),
    ("watch", ["SET w 1"], ["WATCH w missing", "UNWATCH"]),
    # -- reads of missing keys (keymiss) -----------------------------------------------------------
    ("missing keys", ["SET s x"], ["HKEYS missing", "HVALS missing", "HRANDFIELD missing 2", "SMISMEMBER missing a",
                                   "SDIFF missing s", "SUNION missing", "SRANDMEMBER missing 2", "ZCOUNT missing 0 1",
                                   "ZMSCORE missing a", "ZRANK missing a", "ZRANGEBYSCORE missing 0 1",
                                   "ZREVRANGEBYSCORE missing 1 0", "ZREVRANGEBYLEX missing + -", "ZINTER 1 missing",
                                   "ZINTERCARD 1 missing", "ZRANDMEMBER missing 2", "LPOS missing a RANK 1",
                                   "GETRANGE missing 0 -1", "BITFIELD_RO missing GET i8 0", "PFCOUNT missing",
                                   "XREVRANGE missing + -", "XLEN missing", "SORT missing", "SORT_RO missing",
                                   "GEORADIUSBYMEMBER_RO missing a 1 km", "GEORADIUS missing 0 0 1 km",
                                   "GEOSEARCHSTORE d missing FROMLONLAT 0 0 BYRADIUS 1 km", "SINTERSTORE d missing",
                                   "SUNIONSTORE d missing", "SDIFFSTORE d missing", "ZUNIONSTORE d 1 missing",
                                   "ZDIFFSTORE d 1 missing", "ZRANGESTORE d missing 0 -1", "BITOP AND d missing",
                                   "PFMERGE d missing", "COPY missing d", "DUMP missing", "OBJECT FREQ missing",
                                   "TOUCH missing", "EXISTS missing", "TYPE missing", "MGET missing",
                                   "LINDEX missing 0", "LRANGE missing 0 1", "HEXISTS missing f", "XREAD STREAMS missing 0",
                                   "XINFO STREAM missing FULL", "XPENDING missing g - + 1", "LCS missing missing2",
                                   "GETDEL missing", "GETEX missing", "GETSET missing v", "SET missing2 v GET"]),
    # -- lazy expiry ----------------------------------------------------------------------------
    ("lazy expiry on reads and writes", ["SET a 1 PX 1", "SET b 1 PX 1", "RPUSH l x", "PEXPIRE l 1",
                                         "HSET h f v", "PEXPIRE h 1", "SET d 1 PX 1", "SET e 1 PX 1", "SET r 1 PX 1"],
     ["SLEEP 0.05", "GET a", "SET b 2", "LPUSH l y", "HGET h f", "EXISTS d", "DEL e", "RENAME r x", "GET a"]),
    # One expired key each: scans visit keys in hash-table order.
    ("lazy expiry by KEYS", ["SET a 1 PX 1", "SET b 1"], ["SLEEP 0.05", "DBSIZE", "KEYS *", "KEYS *"]),
    ("lazy expiry by SCAN", ["SET a 1 PX 1", "SET b 1"], ["SLEEP 0.05", "SCAN 0", "SCAN 0"]),
    ("lazy expiry by RANDOMKEY", ["SET a 1 PX 1"], ["SLEEP 0.05", "RANDOMKEY", "RANDOMKEY"]),
]


def _split(line: str) -> list[str]:
    return shlex.split(line)


CASES: list[Case] = [(name, [_split(s) for s in setup], [_split(r) for r in run]) for name, setup, run in RAW_CASES]
