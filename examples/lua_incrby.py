"""Lua scripting, as in the handbook (Chapter 7, example 1): a script that increments a key.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")))
r.delete("mykey")

# The handbook's script.
lua_script = """
local key = KEYS[1]
local amount = tonumber(ARGV[1])
return redis.call('INCRBY', key, amount)
"""
result = r.eval(lua_script, 1, "mykey", "5")
assert result == 5, result
assert r.eval(lua_script, 1, "mykey", "5") == 10

# EVALSHA: load once, call by SHA1 (redis-py's Script object does this for you).
sha = r.script_load(lua_script)
assert r.script_exists(sha) == [True]
assert r.evalsha(sha, 1, "mykey", "-3") == 7
incrby = r.register_script(lua_script)
assert incrby(keys=["mykey"], args=[3]) == 10

# Errors from redis.call stop the script and name its line; redis.pcall hands them back.
r.set("text", "not a number")
try:
    r.eval(lua_script, 1, "text", "1")
    raise AssertionError("INCRBY on a string must fail")
except redis.ResponseError as error:
    assert str(error).startswith("value is not an integer or out of range"), error
assert r.eval("return redis.pcall('INCRBY', KEYS[1], 1)['err']", 1, "text") == b"ERR value is not an integer or out of range"

# EVAL_RO and no-writes scripts may only read.
assert r.eval_ro("return redis.call('GET', KEYS[1])", 1, "mykey") == b"10"
try:
    r.eval_ro(lua_script, 1, "mykey", "1")
    raise AssertionError("a read-only script must not write")
except redis.ResponseError as error:
    assert "Write commands are not allowed from read-only scripts" in str(error), error

r.delete("mykey", "text")
print("lua_incrby: ok")
