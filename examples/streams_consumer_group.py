"""Consumer groups, as in the handbook (Chapter 9): XGROUP CREATE, XREADGROUP and XACK.

A group shares the work of reading a stream among consumers: each entry is delivered to one
consumer of the group, stays *pending* until that consumer acknowledges it, and can be
claimed by another consumer if the first one fails.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")),
                decode_responses=True)
r.delete("mystream", "orders")

# Creating a consumer group. "$" means: deliver only entries added after the group exists.
r.xadd("mystream", {"before": "the group"})
r.xgroup_create("mystream", "mygroup", id="$")
assert r.xreadgroup(groupname="mygroup", consumername="consumer1", streams={"mystream": ">"}) == []

# Reading entries with a consumer group (">": entries never delivered to this group).
entry_id = r.xadd("mystream", {"field1": "value1"})
entries = r.xreadgroup(groupname="mygroup", consumername="consumer1", streams={"mystream": ">"})
for stream, messages in entries:
    for message_id, fields in messages:
        print(f"Stream: {stream}, Entry: {message_id} {fields}")
        # Process the entry, then acknowledge it.
        assert r.xack("mystream", "mygroup", message_id) == 1
assert entries == [["mystream", [(entry_id, {"field1": "value1"})]]]
assert r.xpending("mystream", "mygroup")["pending"] == 0

# A work queue: two workers share the orders; each order goes to one of them.
r.xgroup_create("orders", "workers", id="0", mkstream=True)
order_ids = [r.xadd("orders", {"order": n}) for n in range(6)]
batch1 = r.xreadgroup("workers", "alice", {"orders": ">"}, count=4)[0][1]
batch2 = r.xreadgroup("workers", "bob", {"orders": ">"}, count=4)[0][1]
assert [i for i, _ in batch1] == order_ids[:4] and [i for i, _ in batch2] == order_ids[4:]

# Until acknowledged, entries are pending, per consumer.
summary = r.xpending("orders", "workers")
assert summary["pending"] == 6 and summary["min"] == order_ids[0] and summary["max"] == order_ids[-1]
assert {c["name"]: c["pending"] for c in summary["consumers"]} == {"alice": 4, "bob": 2}
assert r.xack("orders", "workers", *[i for i, _ in batch2]) == 2

# A consumer re-reads its own pending entries by asking from an ID instead of ">".
history = r.xreadgroup("workers", "alice", {"orders": "0"})[0][1]
assert [i for i, _ in history] == order_ids[:4]

# alice fails: bob claims what alice left pending (XAUTOCLAIM scans from an ID, here "0").
r.xack("orders", "workers", order_ids[0])
cursor, claimed, deleted = r.xautoclaim("orders", "workers", "bob", min_idle_time=0, start_id="0")
assert [i for i, _ in claimed] == order_ids[1:4] and deleted == []
details = r.xpending_range("orders", "workers", min="-", max="+", count=10)
assert [(d["message_id"], d["consumer"], d["times_delivered"]) for d in details] == [
    (order_ids[1], "bob", 3), (order_ids[2], "bob", 3), (order_ids[3], "bob", 3)]
assert r.xclaim("orders", "workers", "alice", 0, [order_ids[1]], justid=True) == [order_ids[1]]
assert r.xack("orders", "workers", *order_ids[1:4]) == 3

# The group's progress: everything delivered and acknowledged, no lag.
[group] = r.xinfo_groups("orders")
assert group["name"] == "workers" and group["pending"] == 0 and group["lag"] == 0
assert group["last-delivered-id"] == order_ids[-1] and group["entries-read"] == 6
assert sorted(c["name"] for c in r.xinfo_consumers("orders", "workers")) == ["alice", "bob"]

r.delete("mystream", "orders")
print("streams_consumer_group: ok")
