"""Lists, as in the handbook (Chapter 3): push, range, pop, and a blocking work queue.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os
import threading
import time

import redis

r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")),
                decode_responses=True)
r.delete("mylist", "jobs", "jobs:done")

# The handbook's example.
r.lpush("mylist", "item1")
r.rpush("mylist", "item2")
items = r.lrange("mylist", 0, -1)
assert items == ["item1", "item2"], items

# Both ends, indexes, trimming.
r.rpush("mylist", "item3", "item4")
assert r.llen("mylist") == 4
assert r.lindex("mylist", -1) == "item4"
r.lset("mylist", 0, "first")
r.linsert("mylist", "AFTER", "first", "second")
assert r.lrange("mylist", 0, 2) == ["first", "second", "item2"]
assert r.lpos("mylist", "item3") == 3
r.ltrim("mylist", 0, 2)
assert r.lrange("mylist", 0, -1) == ["first", "second", "item2"]
assert r.lpop("mylist") == "first"
assert r.rpop("mylist", 2) == ["item2", "second"]
assert r.exists("mylist") == 0          # an emptied list is deleted

# A reliable work queue: a worker blocks on BLMOVE until a job arrives.
results = []


def worker() -> None:
    job = r.blmove("jobs", "jobs:done", timeout=5, src="LEFT", dest="RIGHT")
    results.append(job)


thread = threading.Thread(target=worker)
thread.start()
time.sleep(0.1)                          # the worker is now blocked
r.rpush("jobs", "resize:42")
thread.join(5)
assert results == ["resize:42"], results
assert r.lrange("jobs:done", 0, -1) == ["resize:42"]

# BLPOP with a timeout returns None when nothing comes.
assert r.blpop(["jobs"], timeout=0.1) is None
r.delete("jobs:done")
print("lists: ok")
