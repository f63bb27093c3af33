"""Hashes, as in the handbook (Chapter 3): a user record with fields, counters and scans.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")),
                decode_responses=True)
r.delete("user:1")

# The handbook's example.
r.hset("user:1", "name", "Alice")
r.hset("user:1", "age", 30)
user_data = r.hgetall("user:1")
assert user_data == {"name": "Alice", "age": "30"}, user_data

# Several fields at once, counters, existence.
r.hset("user:1", mapping={"email": "alice@example.com", "visits": 0})
assert r.hincrby("user:1", "visits", 1) == 1
assert r.hincrbyfloat("user:1", "balance", "10.5") == 10.5
assert r.hmget("user:1", "name", "missing") == ["Alice", None]
assert r.hexists("user:1", "email") and not r.hexists("user:1", "phone")
assert r.hsetnx("user:1", "name", "Bob") == 0
assert r.hlen("user:1") == 5
assert sorted(r.hkeys("user:1")) == ["age", "balance", "email", "name", "visits"]
assert r.hstrlen("user:1", "name") == 5

# HSCAN walks every field; HRANDFIELD samples them.
assert dict(r.hscan_iter("user:1")) == r.hgetall("user:1")
assert r.hrandfield("user:1") in r.hkeys("user:1")
assert len(r.hrandfield("user:1", 3)) == 3

assert r.hdel("user:1", "email", "phone") == 1
r.delete("user:1")
print("hashes: ok")
