"""Functions against Redis 7.0.15: FUNCTION LOAD/DELETE/LIST/STATS/FLUSH/DUMP/RESTORE, FCALL, FCALL_RO.

Redis lists libraries and functions in its hash tables' order, which changes with each
process: FUNCTION LIST replies are compared with their lists sorted.
"""

from __future__ import annotations

import time

import pytest

from specredis.protocol.client import RespError

CASES = [
    ('FUNCTION', 'LOAD', "#!lua name=mylib\nredis.register_function('f1', function(keys, args) return {keys, args} end)\nredis.register_function{function_name='f2', callback=function(keys, args) return redis.call('set', keys[1], args[1]) end, flags={'no-writes'}, description='desc2'}"),
    ('FUNCTION', 'LOAD', "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=other\nredis.register_function('f1', function() return 1 end)"),
    ('FUNCTION', 'LOAD', 'return 1'),
    ('FUNCTION', 'LOAD', '#!lua\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=a-b\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=ok_1\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=bad flags=no-writes\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=bad x=y\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!js name=bad\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=bad\nreturn 1 +'),
    ('FUNCTION', 'LOAD', "#!lua name=bad\nerror('x')"),
    ('FUNCTION', 'LOAD', "#!lua name=bad\nredis.call('ping')"),
    ('FUNCTION', 'LOAD', "#!lua name=bad\nredis.register_function('a-b', function() end)"),
    ('FUNCTION', 'LOAD', "#!lua name=bad\nredis.register_function('ab')"),
    ('FUNCTION', 'LOAD', "#!lua name=bad\nredis.register_function('ab', 'x')"),
    ('FUNCTION', 'LOAD', "#!lua name=bad\nredis.register_function('ab', function() end, 'x')"),
    ('FUNCTION', 'LOAD', "#!lua name=bad\nredis.register_function{function_name='ab', callback=function() end, flags={'bad'}}"),
    ('FUNCTION', 'LOAD', "#!lua name=bad\nredis.register_function{function_name='ab', callback=function() end, flags='no-writes'}"),
    ('FUNCTION', 'LOAD', "#!lua name=bad\nredis.register_function{function_name='ab', callback=function() end, foo=1}"),
    ('FUNCTION', 'LOAD', '#!lua name=bad\nredis.register_function{callback=function() end}'),
    ('FUNCTION', 'LOAD', "#!lua name=bad\nredis.register_function{function_name='ab'}"),
    ('FUNCTION', 'LOAD', "#!lua name=dup\nredis.register_function('ab', function() end)\nredis.register_function('ab', function() end)"),
    ('FUNCTION', 'LOAD', '#!lua name=x'),
    ('FUNCTION', 'LOAD', "#!LUA name=up\nredis.register_function('up1', function() return 1 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=x name=y\nredis.register_function('n1', function() return 1 end)"),
    ('FUNCTION', 'LOAD', '#!lua name=n2\nredis.register_function(5, function() return 1 end)'),
    ('FUNCTION', 'LOAD', "#!lua name=n5\nlocal function f() end redis.register_function('n5', f) return 5"),
    ('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=n5\nredis.register_function('n5b', function() end)"),
    ('FUNCTION', 'LOAD', 'FOO', "#!lua name=n6\nredis.register_function('n6', function() end)"),
    ('FUNCTION', 'LIST', 'WITHCODE', 'WITHCODE'),
    ('FUNCTION', 'LIST', 'LIBRARYNAME', 'a', 'LIBRARYNAME', 'b'),
    ('FUNCTION', 'LIST', 'LIBRARYNAME', 'mylib'),
    ('FUNCTION', 'LIST', 'LIBRARYNAME', 'mylib', 'WITHCODE'),
    ('FUNCTION', 'LIST', 'LIBRARYNAME'),
    ('FUNCTION', 'LIST', 'foo'),
    ('FUNCTION', 'STATS'),
    ('FCALL', 'f1', '2', 'k1', 'k2', 'a1'),
    ('FCALL', 'f2', '1', 'k1', 'v'),
    ('FCALL_RO', 'f2', '1', 'k1', 'v'),
    ('FCALL_RO', 'f1', '0'),
    ('FCALL', 'nosuch', '0'),
    ('FCALL', 'f1', '-1'),
    ('FCALL', 'f1', '5'),
    ('FCALL', 'nosuch', 'x'),
    ('FCALL', 'n5b', 'x'),
    ('FUNCTION', 'DELETE', 'nosuch'),
    ('FUNCTION', 'DELETE', 'n2'),
    ('FUNCTION', 'RESTORE', 'bad'),
    ('FUNCTION', 'FLUSH', 'x'),
    ('FUNCTION', 'FLUSH', 'sync', 'async'),
    ('FUNCTION', 'HELP'),
    ('FUNCTION', 'LOAD', "#!lua name=probe4\nredis.register_function('probe4', function() local t={} for k,v in pairs(_G) do t[#t+1]=k end table.sort(t) return t end)"),
    ('FCALL', 'probe4', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=probe5\nredis.register_function('probe5', function() local t={} for k,v in pairs(redis) do t[#t+1]=k end table.sort(t) return t end)"),
    ('FCALL', 'probe5', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=probe6\nredis.register_function('probe6', function() x = 1 end)\nredis.register_function('probe6b', function() return y end)"),
    ('FCALL', 'probe6', '0'),
    ('FCALL', 'probe6b', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=probe7\nredis.register_function('probe7', function() redis.register_function('zz', function() end) end)"),
    ('FCALL', 'probe7', '0'),
    ('EVAL', "redis.register_function('zz', function() end)", '0'),
    ('FUNCTION', 'LOAD', "#!lua name=probe8\nlocal a = math.random(1000)\nredis.register_function('probe8', function() return math.random(1000) end)"),
    ('FUNCTION', 'LOAD', "#!lua name=probe9\nredis.register_function('probe9', function() return {KEYS, ARGV} end)"),
    ('FCALL', 'probe9', '1', 'a', 'b'),
    ('FUNCTION', 'LOAD', "#!lua name=p10\nlocal function helper() return type(1) end\nredis.register_function('p10', function() return helper() end)"),
    ('FCALL', 'p10', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=p11\nlocal r = redis\nredis.register_function('p11', function() return r.call('ping') end)\nredis.register_function('p11b', function() return tostring(r == redis) end)"),
    ('FCALL', 'p11', '0'),
    ('FCALL', 'p11b', '0'),
    ('EVAL', "return redis.call('fcall','p10','0')", '0'),
    ('FUNCTION', 'LOAD', "#!lua name=p12\nredis.log(redis.LOG_WARNING, 'loading') redis.register_function('p12', function() return redis.REDIS_VERSION end)"),
    ('FCALL', 'p12', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=p13\nredis.register_function('p13', function(keys, args) return redis.call('incr', keys[1]) end)"),
    ('SET', 'str', 'x'),
    ('FCALL', 'p13', '1', 'str'),
    ('FUNCTION', 'DELETE', 'p13'),
    ('FCALL', 'p13', '1', 'str'),
]


def _sorted(reply):
    if isinstance(reply, list):
        return sorted((_sorted(item) for item in reply), key=repr)
    if hasattr(reply, "pairs"):
        return sorted(((k, _sorted(v)) for k, v in reply.pairs), key=repr)
    return reply


def test_same_replies_as_redis(both):
    for args in CASES:
        if args[:2] == ("FUNCTION", "LIST"):
            ours, theirs = both.call(*args)
            assert _sorted(ours) == _sorted(theirs), args
        else:
            both.same(*args)
    ours, theirs = both.call("FUNCTION", "LIST", "WITHCODE")
    assert _sorted(ours) == _sorted(theirs)


def test_dump_and_restore_across_servers(both):
    code = "#!lua name=lib%d\nredis.register_function('f%d', function(keys, args) return %d end)"
    for n in range(3):
        both.same("FUNCTION", "LOAD", code % (n, n, n))
    # Redis's payload (LZF-compressed strings) restores here, ours restores in Redis.
    theirs = both.theirs.call("FUNCTION", "DUMP")
    ours = both.ours.call("FUNCTION", "DUMP")
    for policy in ("FLUSH", "REPLACE"):
        assert both.ours.call("FUNCTION", "RESTORE", theirs, policy) == both.theirs.call("FUNCTION", "RESTORE", ours, policy)
    # APPEND: the libraries exist already (which one Redis names first depends on its hash order).
    mine, reference = both.call("FUNCTION", "RESTORE", ours)
    assert mine.text.startswith("ERR Library lib") and mine.text.endswith(" already exists"), mine
    assert reference.text.startswith("ERR Library lib") and reference.text.endswith(" already exists")
    both.same("FUNCTION", "FLUSH")
    assert both.ours.call("FUNCTION", "RESTORE", theirs) == both.theirs.call("FUNCTION", "RESTORE", ours)
    for n in range(3):
        both.same("FCALL", f"f{n}", "0")
    both.same("FUNCTION", "RESTORE", ours[:-1] + bytes([ours[-1] ^ 1]))
    both.same("FUNCTION", "RESTORE", b"\x01" + ours)
    both.same("FUNCTION", "RESTORE", ours, "BAD")
    assert isinstance(both.ours.call("FUNCTION", "RESTORE", b"x" * 12), RespError)


LOAD_TIMEOUT_LIBRARIES = [
    "#!lua name=lib\nwhile true do end",
    # The time limit holds even after a function was registered: nothing is installed.
    "#!lua name=lib\nredis.register_function('f', function() return 1 end)\nwhile true do end",
    "#!lua name=lib\nlocal i = 0\nrepeat i = i + 1 until false",
]


@pytest.mark.parametrize("code", LOAD_TIMEOUT_LIBRARIES)
def test_library_load_code_has_a_time_limit(both, code):
    """FUNCTION LOAD runs a library's top-level code for at most 500 ms (LOAD_TIMEOUT_MS), then
    fails with Redis's error; the server keeps serving and no library is left behind."""
    both.reset()
    started = time.monotonic()
    both.same("FUNCTION", "LOAD", code)
    # Both servers ran out their half second (the reference first, then specredis).
    assert 1.0 <= time.monotonic() - started < 3.0
    both.same("FUNCTION", "LIST")
    both.same("PING")


def test_library_load_code_within_the_limit_loads(both):
    both.reset()
    both.same("FUNCTION", "LOAD", "#!lua name=lib\nlocal n = 0\nfor i = 1, 100000 do n = n + i end\n"
                                  "redis.register_function('f', function() return n end)")
    both.same("FCALL", "f", "0")
    both.same("FUNCTION", "RESTORE", both.ours.call("FUNCTION", "DUMP"), "REPLACE")
