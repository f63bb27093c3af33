"""Sets, as in the handbook (Chapter 3): members, membership, set algebra, random picks and scans.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")),
                decode_responses=True)
r.delete("myset", "tags:python", "tags:redis", "tags:both", "raffle", "ids")

# The handbook's example.
r.sadd("myset", "value1")
r.sadd("myset", "value2")
members = r.smembers("myset")
assert members == {"value1", "value2"}, members

# Membership and size; adding a member twice changes nothing.
assert r.sadd("myset", "value1", "value3") == 1
assert r.sismember("myset", "value3") and not r.sismember("myset", "value9")
assert r.smismember("myset", ["value1", "value9"]) == [1, 0]
assert r.scard("myset") == 3
assert r.srem("myset", "value3", "value9") == 1

# Set algebra: who is tagged with both, either, or only one.
r.sadd("tags:python", "alice", "bob", "carol")
r.sadd("tags:redis", "bob", "carol", "dave")
assert r.sinter("tags:python", "tags:redis") == {"bob", "carol"}
assert r.sunion("tags:python", "tags:redis") == {"alice", "bob", "carol", "dave"}
assert r.sdiff("tags:python", "tags:redis") == {"alice"}
assert r.sintercard(2, ["tags:python", "tags:redis"]) == 2
assert r.sinterstore("tags:both", ["tags:python", "tags:redis"]) == 2
assert r.smove("tags:python", "tags:redis", "alice") and r.sismember("tags:redis", "alice")

# A raffle: random draws without removing (SRANDMEMBER) and with (SPOP).
r.sadd("raffle", *[f"ticket{i}" for i in range(20)])
assert len(set(r.srandmember("raffle", 5))) == 5
winner = r.spop("raffle")
assert winner.startswith("ticket") and not r.sismember("raffle", winner)
assert len(r.spop("raffle", 3)) == 3 and r.scard("raffle") == 16

# Small integer sets are compact "intset"s, iterated in numeric order.
r.sadd("ids", 30, 10, 20)
assert r.object("encoding", "ids") == "intset"
assert r.sort("ids") == ["10", "20", "30"]

# SSCAN walks a set of any size in steps.
assert set(r.sscan_iter("raffle", count=5)) == r.smembers("raffle")

r.delete("myset", "tags:python", "tags:redis", "tags:both", "raffle", "ids")
print("sets: ok")
