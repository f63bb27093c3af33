"""Bitmaps, as in the handbook (Chapter 3): one bit per user id to track who was active, then
counting, combining days with BITOP, finding the first inactive user, and packing small
counters into one string with BITFIELD.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")))
days = ["active:mon", "active:tue", "active:wed"]
r.delete("active_users", "active:both", "active:any", "active:mon-only", "counters", *days)

# The handbook's example: user 1000 was active.
r.setbit("active_users", 1000, 1)
total_active_users = r.bitcount("active_users")
assert total_active_users == 1, total_active_users
assert r.getbit("active_users", 1000) == 1 and r.getbit("active_users", 999) == 0
# The bitmap is a string of 126 bytes: bit 1000 is the top bit of byte 125 (1000 = 8 * 125).
assert r.strlen("active_users") == 126 and r.get("active_users")[125] == 0x80

# One bitmap per day; SETBIT returns the bit's previous value.
for user in (1, 2, 3, 5, 8, 13):
    r.setbit("active:mon", user, 1)
for user in (2, 3, 5, 7, 11, 13):
    r.setbit("active:tue", user, 1)
assert r.setbit("active:tue", 7, 1) == 1
assert r.bitcount("active:mon") == 6

# Active on both days, on any day, on Monday only.
r.bitop("AND", "active:both", "active:mon", "active:tue")
r.bitop("OR", "active:any", "active:mon", "active:tue")
assert r.bitcount("active:both") == 4          # 2, 3, 5, 13
assert r.bitcount("active:any") == 8
r.bitop("NOT", "active:mon-only", "active:tue")
r.bitop("AND", "active:mon-only", "active:mon-only", "active:mon")
assert [u for u in range(16) if r.getbit("active:mon-only", u)] == [1, 8]

# The first active user, the first user id that was not active, and counts over ranges
# of bytes or (since Redis 7) of bits.
assert r.bitpos("active:mon", 1) == 1
assert r.bitpos("active:mon", 0) == 0
assert r.bitcount("active:mon", 0, 0) == 4                 # users 0-7: 1, 2, 3, 5
assert r.bitcount("active:mon", 4, 13, "BIT") == 3         # users 5, 8, 13
assert r.bitpos("active:wed", 1) == -1                     # a missing key is all zeros

# BITFIELD: 4-bit unsigned counters packed in one string, saturating instead of wrapping.
assert r.bitfield("counters").incrby("u4", "#0", 3).incrby("u4", "#1", 1).execute() == [3, 1]
sat = r.bitfield("counters", default_overflow="SAT")
assert sat.incrby("u4", "#0", 20).get("u4", "#1").execute() == [15, 1]
assert r.bitfield("counters").overflow("FAIL").incrby("u4", "#0", 1).execute() == [None]
assert r.bitfield_ro("counters", "u8", 0) == [0xF1]

r.delete("active_users", "active:both", "active:any", "active:mon-only", "counters", *days)
print("bitmaps: ok")
