"""Transactions and pipelining, as in the handbook (Chapter 15), corrected where the handbook
is wrong about Redis:

* ``pipe.execute()`` in redis-py sends MULTI ... EXEC (a transaction) unless
  ``transaction=False``, in which case it is a plain pipeline: commands sent together,
  replies read together, no atomicity;
* there is no PIPELINE or EXECUTE command: pipelining is done by the client;
* transactions do not nest: MULTI inside MULTI is an error (the transaction goes on);
* a command refused while queueing aborts EXEC (EXECABORT), an error while running does not
  roll anything back;
* WATCH makes EXEC fail (redis-py raises WatchError) when another client changed the key.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

HOST = os.environ.get("REDIS_HOST", "localhost")
PORT = int(os.environ.get("REDIS_PORT", "6379"))

r = redis.StrictRedis(host=HOST, port=PORT, db=0)
r.delete("key1", "key2", "counter", "balance:alice", "balance:bob")

# 1. The handbook's transaction: pipeline() wraps the commands in MULTI/EXEC.
pipe = r.pipeline()
pipe.set("key1", "value1")
pipe.set("key2", "value2")
results = pipe.execute()
print(results)
assert results == [True, True]

# 2. The handbook's pipeline: the same API; with transaction=False, no MULTI/EXEC.
pipe = r.pipeline(transaction=False)
pipe.get("key1")
pipe.get("key2")
results = pipe.execute()
print(results)
assert results == [b"value1", b"value2"]

# 3. "Using transactions within pipelining": MULTI ... EXEC sent in one round trip together
# with other commands. On the wire, each queued command answers QUEUED and EXEC the results.
conn = r.connection_pool.get_connection("MULTI")
try:
    for command in (("MULTI",), ("SET", "key1", "value1"), ("SET", "key2", "value2"), ("EXEC",),
                    ("GET", "key1"), ("GET", "key2")):
        conn.send_command(*command)
    replies = [conn.read_response() for _ in range(6)]
finally:
    r.connection_pool.release(conn)
assert replies == [b"OK", b"QUEUED", b"QUEUED", [b"OK", b"OK"], b"value1", b"value2"], replies

# 4. There is no PIPELINE or EXECUTE command.
for name in ("PIPELINE", "EXECUTE"):
    try:
        r.execute_command(name)
        raise AssertionError(f"{name} should not exist")
    except redis.ResponseError as error:
        assert str(error).startswith(f"unknown command '{name}'"), error

# 5. Transactions do not nest: the inner MULTI is refused, the transaction goes on, and the
# single EXEC runs everything queued; a second EXEC has no MULTI.
conn = r.connection_pool.get_connection("MULTI")
try:
    for command in (("MULTI",), ("SET", "key1", "outer"), ("MULTI",), ("SET", "key2", "inner"), ("EXEC",), ("EXEC",)):
        conn.send_command(*command)
    replies = []
    for _ in range(6):
        try:
            replies.append(conn.read_response())
        except redis.ResponseError as error:
            replies.append(f"error: {error}")
finally:
    r.connection_pool.release(conn)
assert replies == [b"OK", b"QUEUED", "error: MULTI calls can not be nested", b"QUEUED", [b"OK", b"OK"],
                   "error: EXEC without MULTI"], replies
assert r.mget("key1", "key2") == [b"outer", b"inner"]

# 6. An error while queueing (wrong number of arguments) discards the whole transaction...
pipe = r.pipeline()
pipe.set("key1", "never")
pipe.execute_command("SET", "key2")
try:
    pipe.execute()
    raise AssertionError("EXECABORT expected")
except redis.ResponseError as error:
    assert "EXECABORT" in str(error) or "wrong number of arguments" in str(error), error
assert r.get("key1") == b"outer"

# ... while an error at run time fails one command and the others still run (no rollback).
pipe = r.pipeline()
pipe.set("counter", "not a number")
pipe.incr("counter")
pipe.set("key1", "after the error")
results = pipe.execute(raise_on_error=False)
assert results[0] is True and isinstance(results[1], redis.ResponseError) and results[2] is True
assert r.get("key1") == b"after the error"

# 7. WATCH (the handbook's "WATCH key1; MULTI; SET key1 value1; EXEC"): optimistic locking.
# A transfer that retries when another client changes a watched balance meanwhile.
r.mset({"balance:alice": 100, "balance:bob": 50})
other = redis.StrictRedis(host=HOST, port=PORT, db=0)
attempts = 0
with r.pipeline() as pipe:
    while True:
        attempts += 1
        try:
            pipe.watch("balance:alice", "balance:bob")
            alice = int(pipe.get("balance:alice"))
            if attempts == 1:
                other.incrby("balance:alice", 5)      # someone else writes between WATCH and EXEC
            pipe.multi()
            pipe.decrby("balance:alice", 30)
            pipe.incrby("balance:bob", 30)
            pipe.execute()
            break
        except redis.WatchError:
            print("balance changed meanwhile: retrying")
            continue
assert attempts == 2, attempts
assert alice == 105
assert r.mget("balance:alice", "balance:bob") == [b"75", b"80"]

# UNWATCH (or DISCARD) forgets the watched keys: a later change no longer aborts EXEC.
pipe = r.pipeline()
pipe.watch("key1")
pipe.unwatch()
other.set("key1", "changed")
pipe.multi()
pipe.get("key1")
assert pipe.execute() == [b"changed"]

r.delete("key1", "key2", "counter", "balance:alice", "balance:bob")
print("transactions and pipelines OK")
