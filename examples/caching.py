"""Caching with Redis, as in the handbook (Chapter 14): SET ... EX, GET, EXPIRE, DEL, and
the cache-aside pattern with a TTL.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

r = redis.StrictRedis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")),
                      db=0)
r.delete("mykey", "user:123")

# Basic cache operations: SET with an expiration, GET, EXPIRE, DEL.
assert r.set("mykey", "myvalue", ex=3600) is True
assert r.get("mykey") == b"myvalue"
assert 3599 <= r.ttl("mykey") <= 3600
assert r.expire("mykey", 60) is True and r.ttl("mykey") in (59, 60)
assert r.delete("mykey") == 1 and r.get("mykey") is None

# Cache-aside (lazy loading), as the handbook writes it.
database_reads = []


def fetch_data_from_database(key):
    # Simulated function to fetch data from database
    print("Fetching Data from Database")
    database_reads.append(key)
    return "Data for Key: " + key


def get_data_from_cache(key):
    # Check cache for data
    cached_data = r.get(key)
    if cached_data:
        print("Data Found in Cache")
        return cached_data.decode("utf-8")

    # If data not in cache, fetch from database
    data_from_db = fetch_data_from_database(key)

    # Store data in cache
    r.set(key, data_from_db, ex=3600)
    print("Data Fetched from Database and Cached")
    return data_from_db


key = "user:123"
assert get_data_from_cache(key) == "Data for Key: user:123"     # a miss: read from the database
assert get_data_from_cache(key) == "Data for Key: user:123"     # a hit: served by the cache
assert database_reads == ["user:123"]
assert 3599 <= r.ttl(key) <= 3600

# Invalidation: the next read goes to the database again.
r.delete(key)
assert get_data_from_cache(key) == "Data for Key: user:123"
assert database_reads == ["user:123", "user:123"]
r.delete(key)
