"""Configuring key expiry, as in the handbook (Chapter 9, Example 2): SETEX, then TTL.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os
import time

import redis

r = redis.StrictRedis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")),
                      db=0)

# Set key with expiry time (in seconds)
r.setex("mykey", 3600, "my_value")

# Check time-to-live (TTL) of key: 3600, or 3599 if a second boundary passed in between.
ttl = r.ttl("mykey")
print("Time-to-Live of 'mykey':", ttl)
assert ttl in (3599, 3600), ttl

# TTL is -1 without an expiry and -2 for a missing key; PERSIST removes the expiry.
assert r.persist("mykey") is True and r.ttl("mykey") == -1
assert r.ttl("no-such-key") == -2

# A short expiry really expires, whether or not the key is read again.
r.set("short-lived", "x", px=100)
r.set("never-read", "x", px=100)
time.sleep(0.3)
assert r.get("short-lived") is None
assert r.exists("never-read") == 0

r.delete("mykey")
