"""HyperLogLogs, as in the handbook (Chapter 3): counting unique visitors in 12 KB per counter
whatever their number, with a standard error of 0.81%, and merging daily counters.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")))
r.delete("unique_visitors", "visitors:mon", "visitors:tue", "visitors:week")

# The handbook's example.
r.pfadd("unique_visitors", "user1", "user2", "user3")
approx_count = r.pfcount("unique_visitors")
assert approx_count == 3, approx_count

# PFADD says whether the estimate may have changed; seeing a visitor again changes nothing.
assert r.pfadd("unique_visitors", "user1") == 0
assert r.pfadd("unique_visitors", "user4") == 1
assert r.pfcount("unique_visitors") == 4

# Thousands of visitors a day: the estimate stays within a few percent.
pipe = r.pipeline(transaction=False)
for start in range(0, 20000, 1000):
    pipe.pfadd("visitors:mon", *[f"visitor:{i}" for i in range(start, start + 1000)])
for start in range(10000, 40000, 1000):
    pipe.pfadd("visitors:tue", *[f"visitor:{i}" for i in range(start, start + 1000)])
pipe.execute()
monday = r.pfcount("visitors:mon")
assert abs(monday - 20000) < 20000 * 0.03, monday

# Unique over both days (40000 distinct): counted directly, or merged into a weekly counter.
both_days = r.pfcount("visitors:mon", "visitors:tue")
assert abs(both_days - 40000) < 40000 * 0.03, both_days
r.pfmerge("visitors:week", "visitors:mon", "visitors:tue")
assert r.pfcount("visitors:week") == both_days

# The counter is a string: small ones are stored sparse, large ones in 12 KB of registers.
assert r.get("unique_visitors").startswith(b"HYLL")
assert r.strlen("visitors:week") == 12304

r.delete("unique_visitors", "visitors:mon", "visitors:tue", "visitors:week")
print("hyperloglog: ok")
