"""Configuring persistence from Python, as in the handbook (Chapter 4, Examples 1 and 2):
RDB save points and the append-only file, set with CONFIG SET and read back with CONFIG GET.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
The server's settings are put back as they were at the end.
"""

import os

import redis

r = redis.StrictRedis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")),
                      db=0)
saved = r.config_get("save")["save"]
saved_appendonly = r.config_get("appendonly")["appendonly"]

# Example 1: Configure RDB Snapshot. Each CONFIG SET replaces the whole list of save points,
# so the handbook's three calls leave only the last one...
r.config_set("save", "900 1")
r.config_set("save", "300 10")
r.config_set("save", "60 10000")
assert r.config_get("save")["save"] == "60 10000"
# ...while one call with every pair sets all three, as the three 'save' lines of redis.conf do.
r.config_set("save", "900 1 300 10 60 10000")
assert r.config_get("save")["save"] == "900 1 300 10 60 10000"
print("RDB Snapshot Configuration Updated Successfully!")

# Bad save points are refused and leave the configuration alone.
try:
    r.config_set("save", "900")
    raise AssertionError("an odd number of arguments must be refused")
except redis.ResponseError as error:
    assert "Invalid save parameters" in str(error), error
assert r.config_get("save")["save"] == "900 1 300 10 60 10000"

# With save points set, INFO persistence counts the changes a snapshot would write.
r.set("persistence:example", "value")
info = r.info("persistence")
assert info["rdb_changes_since_last_save"] >= 1
print("Changes since the last save:", info["rdb_changes_since_last_save"])

# Example 2: Enable AOF Persistence.
r.config_set("appendonly", "yes")
assert r.config_get("appendonly")["appendonly"] == "yes"
assert r.info("persistence")["aof_enabled"] == 1
print("AOF Persistence Enabled Successfully!")

# Put the server back as it was.
r.config_set("appendonly", saved_appendonly)
r.config_set("save", saved)
r.delete("persistence:example")
