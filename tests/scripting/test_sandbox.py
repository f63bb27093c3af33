"""The script sandbox: what Redis 7.0.15 refuses, refused the same way, and no way out to Python.

The differential cases compare error texts with the reference; the in-process cases try
the ways out that only exist here (lupa's ``python`` module, Python objects behind the
redis.* functions) and check that nothing of the host is reachable and that one script
cannot change what the next one sees.
"""

from __future__ import annotations

import pytest

from specredis.engine.core import Engine

ESCAPES = [
    "return os.execute('true')",
    "return io.open('/etc/passwd')",
    "return require('os')",
    "return package.loaded",
    "return dofile('/etc/passwd')",
    "return loadfile('/etc/passwd')",
    "return getfenv(1)",
    "return setfenv(1, {})",
    "return debug.getinfo(1)",
    "return newproxy(true)",
    "return module('x')",
    "print('x')",
    "local f, e = loadstring(string.dump(function() return 1 end)) return {tostring(f), e}",
    "local f, e = loadstring(string.dump(function() return 1 end), '=x') return {tostring(f), e}",
    "local s = string.dump(function() return 1 end) local i = 0 "
    "local f, e = load(function() i = i + 1 if i == 1 then return s end end) return {tostring(f), e}",
    "setmetatable(_G, {})",
    "setmetatable(_G, nil)",
    "rawset(_G, 'x', 1)",
    "_G.x = 1",
    "x = 1",
    "redis = nil",
    "redis.call = function() end",
    "string.rep = nil",
    "math.random = nil",
    "cjson.encode = nil",
    "table.insert(_G, 1)",
    "table.insert(string, 'x')",
    "table.sort(redis)",
    "getmetatable('').__index = {}",
    "getmetatable('').__index.upper = nil",
    "getmetatable(_G).__index = nil",
    "getmetatable(_G).__newindex = nil",
    "return rawget(getmetatable(_G), '__index') ~= nil",
    "return tostring(rawequal(getmetatable('').__index, string))",
    "return python",
    "return __builtins__",
    "return _G.python",
    "return rawget(_G, 'python')",
    "return type(string.dump)",
    "return coroutine.wrap(function() x = 1 end)()",
    "return coroutine.resume(coroutine.create(function() return os end))",
    "return select(2, pcall(function() return io end))",
    "return loadstring('x = 1')()",
    "return loadstring('return os')()",
    "local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t",
    "local t = {} for k in next, _G do t[#t + 1] = k end table.sort(t) return t",
    "return #_G",
    "return tostring(getmetatable(redis))",
    "return tostring(getmetatable(cjson.null))",
]


@pytest.mark.parametrize("script", ESCAPES)
def test_escape_attempts_fail_as_in_redis(both, script):
    both.same("EVAL", script, "0")
    # The sandbox is unchanged for the next script.
    both.same("EVAL", "local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t", "0")
    both.same("EVAL", "return {rawget(_G, 1), rawget(_G, 'x')}", "0")


def _eval(engine: Engine, script: str):
    client = engine.new_client()
    return engine.execute(client, [b"EVAL", script.encode(), b"0"])


PYTHON_PROBES = [
    "return tostring(python)",
    "local ok, e = pcall(function() return redis.call.__class__ end) return tostring(ok)",
    "return type(redis.call)",
    "return type(cjson.encode)",
    "return type(bit.band)",
    "local ok, e = pcall(string.dump, redis.call) return tostring(ok)",
    "local t = {} for k, v in pairs(redis) do t[#t + 1] = type(v) end table.sort(t) return t",
    "local t = {} for k, v in pairs(bit) do t[#t + 1] = type(v) end return t",
]


@pytest.mark.parametrize("script", PYTHON_PROBES)
def test_no_python_object_is_reachable(script):
    engine = Engine()
    reply = _eval(engine, script)
    text = repr(reply)
    assert "userdata" not in text and "Python" not in text and "builtins" not in text, text


def test_every_value_reachable_from_globals_is_a_lua_value():
    engine = Engine()
    script = """
      local seen, bad = {}, {}
      local function walk(v, path, depth)
        if depth > 6 then return end
        local t = type(v)
        if t == 'userdata' and v ~= cjson.null then bad[#bad + 1] = path end
        if t == 'table' and not seen[v] then
          seen[v] = true
          for k, item in pairs(v) do walk(item, path .. '.' .. tostring(k), depth + 1) end
          local mt = getmetatable(v)
          if mt then walk(mt, path .. '<mt>', depth + 1) end
        end
      end
      walk(_G, '_G', 0)
      walk(getmetatable(''), 'string<mt>', 0)
      return bad
    """
    assert _eval(engine, script) == []


def test_a_script_cannot_leave_state_for_the_next():
    engine = Engine()
    attempts = [
        "table.insert(_G, 'x')", "rawset(_G, 'y', 1)", "setmetatable(_G, {__index = function() return 1 end})",
        "getmetatable('').__index.upper = function() return 'hacked' end", "math.randomseed = nil",
        "string.len = nil",
    ]
    for script in attempts:
        _eval(engine, script)
    assert _eval(engine, "return {#_G, ('a'):upper(), string.len('ab'), type(math.randomseed)}") == \
        [0, b"A", 2, b"function"]
