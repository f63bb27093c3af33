"""Pipelining 1000 SETs, as in the handbook (Chapter 9, Example 1): the commands go out
together and the 1000 replies come back together, in order.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

r = redis.StrictRedis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")),
                      db=0)

# Pipeline multiple commands (redis-py wraps a pipeline in MULTI/EXEC unless transaction=False).
pipeline = r.pipeline()
for i in range(1000):
    pipeline.set(f"key_{i}", f"value_{i}")
result = pipeline.execute()

print("Batched Operations Result:", result[:3], "...")
assert result == [True] * 1000, result
assert r.get("key_0") == b"value_0" and r.get("key_999") == b"value_999"

# The same without the transaction: a plain pipeline, replies in order.
pipeline = r.pipeline(transaction=False)
for i in range(1000):
    pipeline.get(f"key_{i}")
values = pipeline.execute()
assert values == [f"value_{i}".encode() for i in range(1000)]

assert r.delete(*[f"key_{i}" for i in range(1000)]) == 1000
