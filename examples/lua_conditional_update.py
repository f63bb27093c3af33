"""Lua scripting, as in the handbook (Chapter 7, example 2): a conditional update, atomically.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os

import redis

r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")))
r.delete("mykey")

# The handbook's script: raise the value only if the new one is larger.
lua_script_conditional = """
local key = KEYS[1]
local current_val = tonumber(redis.call('GET', key) or 0)
local new_val = tonumber(ARGV[1])

if current_val < new_val then
    redis.call('SET', key, new_val)
    return 1
else
    return 0
end
"""
update = r.register_script(lua_script_conditional)
assert update(keys=["mykey"], args=[10]) == 1
assert r.get("mykey") == b"10"
assert update(keys=["mykey"], args=[5]) == 0
assert r.get("mykey") == b"10"
assert update(keys=["mykey"], args=[12]) == 1
assert r.get("mykey") == b"12"

# The same logic as a function library (FUNCTION LOAD + FCALL), Redis 7's way to keep code server-side.
r.function_load("""#!lua name=maxlib
redis.register_function('set_max', function(keys, args)
  local current = tonumber(redis.call('GET', keys[1]) or 0)
  local new = tonumber(args[1])
  if current < new then redis.call('SET', keys[1], new) return 1 end
  return 0
end)
""", replace=True)
assert r.fcall("set_max", 1, "mykey", 20) == 1
assert r.fcall("set_max", 1, "mykey", 3) == 0
assert r.get("mykey") == b"20"
# RESP2 lists each library as a flat [name, value, ...] array.
libraries = [dict(zip(entry[::2], entry[1::2], strict=True)) for entry in r.function_list(library="maxlib")]
assert [lib[b"library_name"] for lib in libraries] == [b"maxlib"], libraries
r.function_delete("maxlib")

# Scripts see JSON and MessagePack helpers: keep a JSON document and update one field atomically.
r.set("doc", '{"name": "Alice", "visits": 1}')
visits = r.eval("""
local doc = cjson.decode(redis.call('GET', KEYS[1]))
doc.visits = doc.visits + 1
redis.call('SET', KEYS[1], cjson.encode(doc))
return doc.visits
""", 1, "doc")
assert visits == 2, visits

r.delete("mykey", "doc")
print("lua_conditional_update: ok")
