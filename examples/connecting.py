"""Connecting to Redis with Python, as in the handbook (Chapter 1): create a client, PING it.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

# Create a Redis client
r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")), db=0)

# Test connection: redis-py turns the +PONG reply into True.
assert r.ping() is True

# The same connection answers ECHO and reports the server it talks to.
assert r.echo("hello") == b"hello"
assert r.info("server")["redis_version"].startswith("7.")
print("Connected, PING -> PONG")
