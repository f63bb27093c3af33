"""EVAL and friends against Redis 7.0.15: the same commands, the same replies, byte for byte.

Each case list runs in order on a fresh pair of servers (the cases share keys), on RESP2
and RESP3. The cases cover the script cache, numkeys and shebang errors, the redis.*
API, both directions of reply conversion, error texts with their script positions, the
sandbox's globals and read-only tables, and what scripts may not call.
"""

from __future__ import annotations

import os

import pytest

API_AND_SANDBOX = [
    ('SET', 'x', 'abc'),
    ('EVAL', "return redis.call('incr','x')", '0'),
    ('EVAL', "return redis.pcall('incr','x')", '0'),
    ('EVAL', 'return type(debug)', '0'),
    ('EVAL', 'local t={} for k,v in pairs(_G) do t[#t+1]=k end table.sort(t) return t', '0'),
    ('EVAL', 'local t={} for k,v in pairs(redis) do t[#t+1]=k end table.sort(t) return t', '0'),
    ('EVAL', 'local t={} for k,v in pairs(string) do t[#t+1]=k end table.sort(t) return t', '0'),
    ('EVAL', 'local t={} for k,v in pairs(math) do t[#t+1]=k end table.sort(t) return t', '0'),
    ('EVAL', 'local t={} for k,v in pairs(table) do t[#t+1]=k end table.sort(t) return t', '0'),
    ('EVAL', 'local t={} for k,v in pairs(cjson) do t[#t+1]=k end table.sort(t) return t', '0'),
    ('EVAL', 'local t={} for k,v in pairs(cmsgpack) do t[#t+1]=k end table.sort(t) return t', '0'),
    ('EVAL', 'local t={} for k,v in pairs(bit) do t[#t+1]=k end table.sort(t) return t', '0'),
    ('EVAL', 'local t={} for k,v in pairs(struct) do t[#t+1]=k end table.sort(t) return t', '0'),
    ('EVAL', 'local t={} for k,v in pairs(coroutine) do t[#t+1]=k end table.sort(t) return t', '0'),
    ('EVAL', 'return os.clock()', '0'),
    ('EVAL', 'x=1', '0'),
    ('EVAL', 'return y', '0'),
    ('EVAL', 'string.x = 1', '0'),
    ('EVAL', 'redis.call = nil', '0'),
    ('EVAL', "rawset(_G,'x',1)", '0'),
    ('EVAL', "rawset(string,'x',1)", '0'),
    ('EVAL', 'setmetatable(_G, nil)', '0'),
    ('EVAL', "return type(getmetatable(''))", '0'),
    ('EVAL', "getmetatable('').__index.upper = function() return 'x' end return 1", '0'),
    ('EVAL', "getmetatable('').__index = {} return 1", '0'),
    ('EVAL', "KEYS[1] = 'x' return KEYS[1]", '0'),
    ('EVAL', 'ARGV = {} return 1', '0'),
    ('EVAL', 'local t = KEYS; t[5]=1; return #t', '0'),
    ('EVAL', 'return _G == _G._G', '0'),
    ('EVAL', "return rawget(_G, 'redis') ~= nil", '0'),
    ('EVAL', 'return load', '0'),
    ('EVAL', 'return type(load)', '0'),
    ('EVAL', "return loadstring('return 1+1')()", '0'),
    ('EVAL', 'local f, e = loadstring(string.dump(function() return 1 end)) return {tostring(f), tostring(e)}', '0'),
    ('EVAL', 'local f, e = load(string.dump(function() return 1 end)) return {tostring(f), tostring(e)}', '0'),
    ('EVAL', 'return getfenv', '0'),
    ('EVAL', 'return type(__redis__err__handler)', '0'),
    ('EVAL', 'return _VERSION', '0'),
    ('EVAL', 'getmetatable(_G).__index = nil', '0'),
    ('EVAL', "local m = getmetatable(_G) local t={} for k,v in pairs(m) do t[#t+1]=k..'='..type(v) end return t", '0'),
    ('EVAL', "local m = getmetatable('') local t={} for k,v in pairs(m) do t[#t+1]=k..'='..type(v) end return t", '0'),
    ('EVAL', "return getmetatable('').__index == string", '0'),
    ('EVAL', 'return 3.99', '0'),
    ('EVAL', 'return -3.99', '0'),
    ('EVAL', 'return 0/0', '0'),
    ('EVAL', 'return 1e20', '0'),
    ('EVAL', 'return true', '0'),
    ('EVAL', 'return false', '0'),
    ('EVAL', 'return {1,2,nil,4}', '0'),
    ('EVAL', "return {1,'a',true,false,{ok='x'},{err='y'},3.5}", '0'),
    ('EVAL', "return {ok='a\\r\\nb'}", '0'),
    ('EVAL', "return {err='a\\r\\nb'}", '0'),
    ('EVAL', "return {err=''}", '0'),
    ('EVAL', 'return {err=5}', '0'),
    ('EVAL', "return {ok='x', err='y'}", '0'),
    ('EVAL', 'return {double=3.5}', '0'),
    ('EVAL', "return {double='3.5'}", '0'),
    ('EVAL', 'return {map={a=1}}', '0'),
    ('EVAL', 'return {set={a=1}}', '0'),
    ('EVAL', "return {big_number='123'}", '0'),
    ('EVAL', "return {verbatim_string={format='txt',string='hi'}}", '0'),
    ('EVAL', "return redis.error_reply('x')", '0'),
    ('EVAL', "return redis.error_reply('-x')", '0'),
    ('EVAL', "return redis.error_reply('FOO bar')", '0'),
    ('EVAL', "return redis.error_reply('')", '0'),
    ('EVAL', "return {err='-FOO bar'}", '0'),
    ('EVAL', "return redis.status_reply('fine')", '0'),
    ('EVAL', 'return redis.error_reply()', '0'),
    ('EVAL', "return redis.sha1hex('')", '0'),
    ('EVAL', 'return redis.sha1hex()', '0'),
    ('EVAL', 'return redis.sha1hex(123)', '0'),
    ('EVAL', 'return redis.sha1hex({})', '0'),
    ('EVAL', "return 'a\\0b'", '0'),
    ('EVAL', 'return 9007199254740993', '0'),
    ('EVAL', 'return 2^63', '0'),
    ('EVAL', "error('boom')", '0'),
    ('EVAL', "error('boom', 0)", '0'),
    ('EVAL', "error({err='TABLEERR x'})", '0'),
    ('EVAL', 'error(nil)', '0'),
    ('EVAL', 'error(5)', '0'),
    ('EVAL', "\n\nerror('line3')", '0'),
    ('EVAL', "local function f() error('in f') end\nf()", '0'),
    ('EVAL', "local function f() return redis.call('incr','x') end\n\nf()", '0'),
    ('EVAL', "return redis.call('nosuch')", '0'),
    ('EVAL', 'return redis.call()', '0'),
    ('EVAL', 'return redis.call(1)', '0'),
    ('EVAL', 'return redis.call({})', '0'),
    ('EVAL', "return redis.call('get')", '0'),
    ('EVAL', "return redis.call('get', nil)", '0'),
    ('EVAL', "return redis.call('set', 'n', 3.7)", '0'),
    ('EVAL', "return redis.call('get','n')", '0'),
    ('EVAL', "return redis.call('get','n')", '0'),
    ('EVAL', "return redis.call('set', 'n', 1/0)", '0'),
    ('EVAL', "return redis.call('get','n')", '0'),
    ('EVAL', "return redis.call('set', 'n', 123456789012345678)", '0'),
    ('EVAL', "return redis.call('get','n')", '0'),
    ('EVAL', "return redis.call('set', 'n', true)", '0'),
    ('EVAL', 'return redis.pcall()', '0'),
    ('EVAL', 'return redis.pcall({})', '0'),
    ('EVAL', "return redis.pcall('get')", '0'),
    ('EVAL', "return redis.call('client','nosuch')", '0'),
    ('EVAL', "return redis.call('object')", '0'),
    ('EVAL', 'return tostring(3.7)', '0'),
    ('EVAL', 'math.randomseed(5) return {math.random(1000), math.random(1000), math.random(), math.random(3,9)}', '0'),
    ('EVAL', 'return redis.REDIS_VERSION', '0'),
    ('EVAL', 'return redis.REDIS_VERSION_NUM', '0'),
    ('EVAL', 'return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}', '0'),
    ('EVAL', 'return redis.replicate_commands()', '0'),
    ('EVAL', 'return redis.breakpoint()', '0'),
    ('EVAL', "return redis.debug('x')", '0'),
    ('EVAL', "return redis.log(99, 'hello')", '0'),
    ('EVAL', 'return redis.log(redis.LOG_WARNING)', '0'),
    ('EVAL', "return redis.log('x', 'y')", '0'),
    ('EVAL', 'return redis.setresp(4)', '0'),
    ('EVAL', 'return redis.setresp()', '0'),
    ('EVAL', 'return redis.set_repl(99)', '0'),
    ('EVAL', 'return redis.set_repl()', '0'),
    ('EVAL', "return redis.acl_check_cmd('get','x')", '0'),
    ('EVAL', "return redis.acl_check_cmd('nosuch')", '0'),
    ('EVAL', 'return redis.acl_check_cmd()', '0'),
    ('EVAL', 'return redis.acl_check_cmd({})', '0'),
    ('EVAL', 'return 1', '-1'),
    ('EVAL', 'return 1', 'x'),
    ('EVAL', 'return 1', '2', 'a'),
    ('EVAL', 'return {KEYS[1],ARGV[1],#KEYS,#ARGV}', '1', 'a', 'b', 'c'),
    ('EVAL', 'return 1 +', '0'),
    ('EVAL', 'retur 1', '0'),
    ('EVAL', '', '0'),
    ('EVALSHA', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', '0'),
    ('EVALSHA', 'nope', '0'),
    ('SCRIPT', 'LOAD', 'return 1'),
    ('EVALSHA', 'E0E1F9FABFC9D4800C877A703B823AC0578FF8DB', '0'),
    ('SCRIPT', 'LOAD', 'return 1 +'),
    ('SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 'abc', 'E0E1F9FABFC9D4800C877A703B823AC0578FF8DB'),
    ('SCRIPT', 'EXISTS'),
    ('SCRIPT', 'FLUSH', 'x'),
    ('SCRIPT', 'FLUSH', 'ASYNC', 'SYNC'),
    ('SCRIPT', 'FLUSH', 'sync'),
    ('SCRIPT', 'KILL'),
    ('SCRIPT', 'KILL', 'x'),
    ('SCRIPT', 'DEBUG', 'no'),
    ('SCRIPT', 'DEBUG', 'x'),
    ('SCRIPT', 'HELP'),
    ('SCRIPT', 'HELP', 'x'),
    ('SCRIPT', 'NOPE'),
    ('SCRIPT',),
    ('EVAL_RO', "return redis.call('set','a','b')", '0'),
    ('EVAL_RO', "return redis.call('get','a')", '0'),
    ('EVAL_RO', "return redis.pcall('set','a','b')", '0'),
    ('EVAL', "#!lua flags=no-writes\nreturn redis.call('set','a','b')", '0'),
    ('EVAL', '#!lua flags=no-writes,allow-oom\nreturn 1', '0'),
    ('EVAL', '#!lua flags=bad\nreturn 1', '0'),
    ('EVAL', '#!lua name=x\nreturn 1', '0'),
    ('EVAL', '#!lua\nreturn 1', '0'),
    ('EVAL', '#!python\nreturn 1', '0'),
    ('EVAL', '#!lua  flags=no-writes  \nreturn 1', '0'),
    ('EVAL', "#!lua flags=\nreturn redis.call('set','a','b')", '0'),
    ('EVAL', '#!lua flags=no-writes', '0'),
    ('EVAL', '#! lua\nreturn 1', '0'),
    ('EVAL', '#!luaX\nreturn 1', '0'),
    ('EVAL', '#!lua x\nreturn 1', '0'),
    ('EVAL', '#comment\nreturn 1', '0'),
    ('EVAL_RO', '#!lua\nreturn 1', '0'),
    ('EVAL_RO', '#!lua flags=no-writes\nreturn 1', '0'),
    ('EVAL', "return redis.call('select','1')", '0'),
    ('EVAL', "return redis.call('client','setname','x')", '0'),
    ('EVAL', "return redis.call('blpop','nolist','0')", '0'),
    ('EVAL', "local ok, e = pcall(error, 'x') return {tostring(ok), e}", '0'),
    ('EVAL', 'local ok, e = pcall(function() local x = nosuch end) return {tostring(ok), e}', '0'),
    ('EVAL', 'local ok, e = pcall(function() x = 1 end) return {tostring(ok), e}', '0'),
    ('EVAL', "local e = redis.pcall('nosuch') local t = {} for k,v in pairs(e) do t[#t+1]=k end table.sort(t) return t", '0'),
    ('EVAL', "local ok, e = pcall(redis.call, 'incr', 'x') return {tostring(ok), type(e), e.err}", '0'),
]

# The script libraries' errors: struct's alignment rules, and argument errors of library functions
# pcall calls directly, which Lua cannot name ('?').
LIBRARY_ERRORS = [
    ('EVAL', "return struct.pack('!8bi3', 1, 2)", '0'),
    ('EVAL', "return struct.pack('!8bbi3', 1, 2, 3)", '0'),
    ('EVAL', "return {struct.unpack('!8bi5', struct.pack('!8bi5', 1, 2))}", '0'),
    ('EVAL', "return struct.size('!8bi3')", '0'),
    ('EVAL', "return struct.pack('x!3', 1)", '0'),
    ('EVAL', "return struct.pack('!0i', 1)", '0'),
    ('EVAL', "return struct.pack('!16i', 1)", '0'),
    ('EVAL', "local ok, e = pcall(struct.pack, '!3') return e", '0'),
    ('EVAL', "local ok, e = pcall(struct.unpack, 'i4', 'ab') return e", '0'),
    ('EVAL', "local ok, e = pcall(function() return struct.unpack('i4', 'ab') end) return e", '0'),
    ('EVAL', "local ok, e = pcall(bit.band, 'x') return e", '0'),
    ('EVAL', "local ok, e = pcall(struct.size, 's') return e", '0'),
    ('EVAL', "local ok, e = pcall(cmsgpack.pack) return e", '0'),
    ('EVAL', "local ok, e = pcall(cjson.encode) return e", '0'),
    ('EVAL', "local ok, e = pcall(cjson.decode, {}) return e", '0'),
    ('EVAL', "return cjson.decode({})", '0'),
    ('EVAL', "local ok, e = pcall(bit.tohex) return e", '0'),
]

CONVERSIONS = [
    ('HSET', 'h', 'a', '1', 'b', '2'),
    ('SADD', 's', 'x'),
    ('ZADD', 'z', '1.5', 'm'),
    ('SET', 'str', 'v'),
    ('EVAL', 'return {double=3.5}', '0'),
    ('EVAL', 'return {map={a=1}}', '0'),
    ('EVAL', 'return {set={a=1,b=true}}', '0'),
    ('EVAL', "return {big_number='123'}", '0'),
    ('EVAL', "return {big_number='1\\r\\n2'}", '0'),
    ('EVAL', "return {verbatim_string={format='txt',string='hi'}}", '0'),
    ('EVAL', "return {verbatim_string={format='markdown',string='hi'}}", '0'),
    ('EVAL', 'return true', '0'),
    ('EVAL', 'return false', '0'),
    ('EVAL', "return redis.call('hgetall','h')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('hgetall','h')", '0'),
    ('EVAL', "redis.setresp(3) local r = redis.call('hgetall','h') return {type(r), type(r.map), r.map.a}", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('smembers','s')", '0'),
    ('EVAL', "redis.setresp(3) local r = redis.call('smembers','s') return {type(r.set), tostring(r.set.x)}", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('zscore','z','m')", '0'),
    ('EVAL', "redis.setresp(3) local r = redis.call('zscore','z','m') return {type(r), type(r.double), tostring(r.double)}", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('get','nokey')", '0'),
    ('EVAL', "redis.setresp(3) return type(redis.call('get','nokey'))", '0'),
    ('EVAL', "return type(redis.call('get','nokey'))", '0'),
    ('EVAL', 'redis.setresp(3) return true', '0'),
    ('EVAL', 'redis.setresp(3) return false', '0'),
    ('EVAL', 'redis.setresp(3) return {true,false,nil}', '0'),
    ('EVAL', 'return {map={[1]=2, [true]=3}}', '0'),
    ('EVAL', 'return {set={[1.5]=true}}', '0'),
    ('EVAL', 'return {double=0/0}', '0'),
    ('EVAL', 'return {double=1/0}', '0'),
    ('EVAL', 'return {double=-0.0}', '0'),
    ('EVAL', 'return {double=1e300}', '0'),
    ('EVAL', 'return {double=3}', '0'),
    ('EVAL', "redis.setresp(3) return redis.call('zrange','z','0','-1','withscores')", '0'),
    ('EVAL', "return redis.call('zrange','z','0','-1','withscores')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('hrandfield','h','-2','withvalues') ~= nil", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('lpop','nolist')", '0'),
    ('EVAL', "return redis.call('lpop','nolist')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('blpop','nolist','0')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('xread','count','1','streams','nostream','0')", '0'),
    ('EVAL', "return redis.call('zpopmin','z')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('zpopmin','nokey')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('zscore','nokey','m')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('smismember','s','x','y')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('config','get','maxmemory')", '0'),
    ('EVAL', "redis.setresp(3) return redis.call('hello')", '0'),
]


@pytest.mark.parametrize("cases", [API_AND_SANDBOX, CONVERSIONS, LIBRARY_ERRORS],
                         ids=["api-sandbox", "conversions", "library-errors"])
def test_same_replies_as_redis(both, cases):
    for args in cases:
        both.same(*args)


def test_math_random_follows_redis_generator(both):
    both.same("EVAL", "math.randomseed(42) local t = {} for i = 1, 20 do t[i] = math.random(1000000) end return t", "0")
    both.same("EVAL", "return {math.random(7), math.random(2, 3)}", "0")
    both.same("EVAL", "math.randomseed(1) return tostring(math.random())", "0")
    both.same("EVAL", "return math.random(0)", "0")
    both.same("EVAL", "return math.random(5, 1)", "0")


def test_select_in_script_leaves_the_caller_in_its_database(both):
    both.same("SET", "k", "db0")
    both.same("EVAL", "redis.call('select', '3') redis.call('set', 'k', 'db3') return redis.call('get', 'k')", "0")
    both.same("GET", "k")
    both.same("SELECT", "3")
    both.same("GET", "k")


def test_scripts_inside_multi(both):
    both.same("MULTI")
    both.same("EVAL", "return redis.call('incr', KEYS[1])", "1", "counter")
    both.same("EVAL", "return redis.call('incr', KEYS[1])", "1", "counter")
    both.same("EVAL", "return redis.call('nosuch')", "0")
    both.same("EXEC")
    both.same("GET", "counter")


def test_evalsha_after_script_flush(both):
    sha = both.same("SCRIPT", "LOAD", "return 'x'")
    both.same("EVALSHA", sha, "0")
    both.same("SCRIPT", "FLUSH", "ASYNC")
    both.same("EVALSHA", sha, "0")
    both.same("SCRIPT", "EXISTS", sha)


def test_deep_replies(both):
    both.same("EVAL", "local t = {} local c = t for i = 1, 300 do c[1] = {} c = c[1] end return t", "0")
    both.same("EVAL", "local t = {} for i = 1, 5000 do t[i] = i end return t", "0")


def test_set_repl_decides_what_reaches_the_aof():
    """redis.set_repl(): effects made under REPL_AOF or REPL_ALL go to the AOF; REPL_REPLICA,
    REPL_SLAVE and REPL_NONE keep them out (the file's contents as 7.0.15 writes them)."""
    from servers import reference_available, start_reference, start_specredis

    if not reference_available():
        pytest.skip("no reference redis-server")
    script = ("redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'replica_only', '1') "
              "redis.set_repl(redis.REPL_AOF) redis.call('set', 'aof_only', '1') "
              "redis.set_repl(redis.REPL_NONE) redis.call('set', 'none', '1') "
              "redis.set_repl(redis.REPL_ALL) redis.call('set', 'all', '1') return 1")
    files = []
    for start in (start_reference, start_specredis):
        server = start("--appendonly", "yes", "--appendfsync", "always")
        try:
            with server.client() as conn:
                assert conn.call("EVAL", script, "0") == 1
                assert conn.call("EVAL", "redis.set_repl(redis.REPL_SLAVE) redis.call('set', 's', '1')", "0") is None
                conn.call("SET", "after", "1")
            incr = [name for name in os.listdir(os.path.join(server.dir, "appendonlydir")) if name.endswith(".incr.aof")]
            with open(os.path.join(server.dir, "appendonlydir", incr[0]), "rb") as handle:
                files.append(handle.read())
        finally:
            server.stop()
    assert b"aof_only" in files[0] and b"replica_only" not in files[0]
    assert files[1] == files[0]
