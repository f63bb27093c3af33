"""Strings, as in the handbook (Chapter 3): SET and GET, then the other string commands a
cache or counter needs -- conditional sets, counters, appends, ranges, several keys at once.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")))
r.delete("key", "greeting", "visits", "price", "user:1:name", "user:2:name")

# The handbook's example: GET returns bytes (decode_responses is off).
r.set("key", "value")
value = r.get("key")
assert value == b"value", value

# SET NX only creates, SET XX only overwrites; GET returns the old value.
assert r.set("key", "other", nx=True) is None
assert r.set("key", "other", xx=True, get=True) == b"value"
assert r.get("key") == b"other"
assert r.getdel("key") == b"other" and r.exists("key") == 0

# Appending and ranges.
assert r.append("greeting", "Hello") == 5
assert r.append("greeting", ", World") == 12
assert r.getrange("greeting", 0, 4) == b"Hello"
assert r.setrange("greeting", 7, "Redis") == 12
assert r.get("greeting") == b"Hello, Redis"
assert r.strlen("greeting") == 12

# Atomic counters; INCRBYFLOAT prints like Redis (no binary-float noise).
assert r.incr("visits") == 1
assert r.incrby("visits", 10) == 11
assert r.decr("visits") == 10
r.set("price", "10.5")
assert r.incrbyfloat("price", 0.1) == 10.6
try:
    r.incr("greeting")
    raise AssertionError("INCR on a non-integer must fail")
except redis.ResponseError as error:
    assert str(error) == "value is not an integer or out of range", error

# Several keys in one round trip.
r.mset({"user:1:name": "Ada", "user:2:name": "Grace"})
assert r.mget("user:1:name", "user:2:name", "user:3:name") == [b"Ada", b"Grace", None]
assert r.msetnx({"user:2:name": "X", "user:3:name": "Y"}) is False

r.delete("greeting", "visits", "price", "user:1:name", "user:2:name")
print("strings: ok")
