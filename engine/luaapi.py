"""The Lua side of scripting: a sandboxed Lua 5.1 state, the ``redis`` API, and conversions.

A :class:`LuaState` is one Lua 5.1 interpreter (lupa, the C Lua that Redis embeds too)
dressed as Redis 7.0 dresses its own:

* the globals Redis scripts see, and no others: no ``os``, ``io``, ``package``,
  ``require``, ``dofile``, ``loadfile``, ``getfenv``/``setfenv``, ``debug``, ``print``,
  and no trace of lupa's ``python`` module;
* every global and library table is read-only (``Attempt to modify a readonly table``),
  and reading a missing global is an error (``Script attempted to access nonexistent
  global variable 'x'``). Stock Lua has no read-only tables, so each one is an empty
  proxy whose metatable reads through to the real table and refuses writes; ``rawset``,
  ``rawget``, ``next``, ``pairs``, ``setmetatable`` and ``getmetatable`` see through or
  refuse proxies, so scripts observe Redis's behaviour;
* ``loadstring``/``load`` refuse precompiled chunks the way Redis's patched parser does,
  and give loaded chunks the script's environment;
* the ``redis`` table (call, pcall, error_reply, status_reply, sha1hex, log, setresp,
  set_repl, replicate_commands, breakpoint, debug, acl_check_cmd and the constants) and
  the ``cjson``, ``cmsgpack``, ``bit`` and ``struct`` libraries (``engine/lualibs.py``).

Python is never reachable from Lua: lupa is built without ``python.eval`` and builtins,
attribute access on Python objects is refused, and the few Python callbacks live as
upvalues of internal Lua closures (scripts have no ``debug`` library to reach them).
Internal Lua code is compiled with the chunk name ``=internal``; error positions skip
its frames so that errors point at the script line, as Redis's C functions do.

The script-facing semantics of ``redis.call`` (checks, errors, replies as Lua values)
are here; running EVAL/FCALL, the script cache and busy-script handling are in
``engine/scripting.py`` and ``engine/functions.py``.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

import lupa.lua51 as lua51

from specredis.engine import lualibs
from specredis.engine.client import CLIENT_MASTER, CLIENT_SCRIPT, Client, CollectingSink
from specredis.engine.command import CMD_NOSCRIPT, CMD_WRITE, CommandDef
from specredis.engine.errors import RedisError
from specredis.protocol.encoder import encode, format_double
from specredis.protocol.replies import (
    Attribute,
    BigNumber,
    Bool,
    Double,
    DoubleText,
    ErrorReply,
    Map,
    NullArray,
    Push,
    Raw,
    Set,
    Status,
    Verbatim,
)
from specredis.util.log import log

if TYPE_CHECKING:
    from specredis.engine.core import Engine

REDIS_VERSION = b"7.0.15"
REDIS_VERSION_NUM = 0x07000F
LLONG_MIN = -(1 << 63)
# Nesting deeper than this in a script's reply becomes Redis's "reached lua stack limit" error
# (Redis runs out of Lua C stack at about this depth).
MAX_REPLY_DEPTH = 7995
# Redis calls its Lua hook every 100000 instructions to check for a timed-out script.
HOOK_INSTRUCTIONS = 100000

REPL_NONE, REPL_AOF, REPL_REPLICA, REPL_ALL = 0, 1, 2, 3
LOG_LEVELS = ("debug", "verbose", "notice", "warning")

SCRIPT_KILLED = "ERR Script killed by user with SCRIPT KILL..."
# Replies nested deeper than this are encoded here, iteratively (the protocol encoder recurses).
ENCODER_SAFE_DEPTH = 150
_TOO_DEEP = object()


def lua_error_text(text: str) -> str:
    """The ``err`` field Redis builds from an error text (luaPushErrorBuff): a code, a space,
    the message; a text without a leading ``-`` or without a space gets the code ``ERR``."""
    if not text.startswith("-"):
        text = "-" + text
    code, space, message = text[1:].partition(" ")
    if not space:
        code, message = "ERR", text[1:]
    return f"{code} {message.strip(chr(13) + chr(10))}"


def number_to_arg(value: float | int) -> bytes:
    """A Lua number given to redis.call, as Redis spells it (``%.17g``)."""
    if isinstance(value, float):
        return format_double(value)
    if -(1 << 53) <= value <= (1 << 53):
        return b"%d" % value
    return format_double(float(value))


def lua_number_to_integer(value: float | int) -> int:
    """A Lua number as a Redis integer reply: C's (long long) cast, LLONG_MIN when out of range."""
    if isinstance(value, int):
        return value if LLONG_MIN <= value < (1 << 63) else LLONG_MIN
    if value != value or value >= 9.223372036854775807e18 or value < -9.223372036854775808e18:
        return LLONG_MIN
    return int(value)


class ScriptRun:
    """What Redis keeps in its script run context while one script runs."""

    __slots__ = ("caller", "name", "read_only", "allow_oom", "wrote", "killed", "start_ms",
                 "busy", "repl", "resp", "is_function", "command_name", "command_argv")

    def __init__(self, caller: Client, name: str, read_only: bool, is_function: bool, start_ms: int,
                 command_name: bytes = b"eval", allow_oom: bool = False) -> None:
        self.caller = caller
        self.name = name
        self.read_only = read_only
        self.allow_oom = allow_oom
        self.wrote = False
        self.killed = False
        self.start_ms = start_ms
        self.busy = False
        self.repl = REPL_ALL
        self.resp = 2
        self.is_function = is_function
        self.command_name = command_name
        self.command_argv: list[bytes] = []


def _deny_attribute(obj: Any, name: Any, is_setting: bool) -> Any:
    raise AttributeError("access to Python objects is not allowed from scripts")


# The internal Lua code that builds the sandbox. It runs once per Lua state, receives the
# table of Python callbacks and the flavour ("eval" or "function"), and returns the table
# of entry points Python uses.
_PRELUDE = r"""
local py, flavour = ...
local G = _G
local type, error, tostring, tonumber, select, pcall, xpcall = type, error, tostring, tonumber, select, pcall, xpcall
local pairs, ipairs = pairs, ipairs
local rawget, rawset, next, setmetatable, getmetatable = rawget, rawset, next, setmetatable, getmetatable
local unpack = unpack
local getinfo, sethook = debug.getinfo, debug.sethook
local setfenv, loadstring = setfenv, loadstring
local string_byte, string_find, string_sub, string_format = string.byte, string.find, string.sub, string.format
local table_concat = table.concat
local INTERNAL = '=internal'

-- The globals scripts see: a table of their own. The interpreter's real globals stay as
-- lupa needs them, out of the scripts' reach (loaded chunks get the scripts' environment).
local S = {}
for _, name in ipairs({'assert', 'collectgarbage', 'error', 'gcinfo', 'ipairs', 'rawequal',
                       'select', 'tonumber', 'tostring', 'type', 'unpack', 'xpcall', '_VERSION'}) do
  S[name] = G[name]
end

-- Error positions: the first frame that is not ours, as luaL_where(L, 1) sees a C function's caller.
local function where()
  local level = 2
  while true do
    local info = getinfo(level, 'Sl')
    if info == nil then return '' end
    if info.source ~= INTERNAL and info.what ~= 'tail' then
      if info.currentline > 0 then return info.short_src .. ':' .. info.currentline .. ': ' end
      return ''
    end
    level = level + 1
  end
end

local function script_error(msg)
  error(where() .. msg, 0)
end

-- Errors of a builtin called through pcall name it '?': restore its name and the caller's position.
local function rethrow(name, ok, ...)
  if ok then return ... end
  local msg = ...
  if type(msg) == 'string' then
    local s, e = string_find(msg, "to '?'", 1, true)
    if s then msg = string_sub(msg, 1, s + 3) .. name .. string_sub(msg, e) end
    script_error(msg)
  end
  error(msg, 0)
end

-- Read-only tables: an empty proxy reading through to the real table.
local real_of = setmetatable({}, {__mode = 'k'})
local shown_mt = setmetatable({}, {__mode = 'k'})

local function readonly_newindex()
  error('Attempt to modify a readonly table', 2)
end

local function protect(real, shown)
  local proxy = {}
  setmetatable(proxy, {__index = real, __newindex = readonly_newindex})
  real_of[proxy] = real
  shown_mt[proxy] = shown or false
  return proxy
end

local function global_index(t, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end

local function p_next(...)
  local t = ...
  local real = real_of[t]
  if real then return next(real, select(2, ...)) end
  if type(t) == 'table' then return next(...) end
  return rethrow('next', pcall(next, ...))
end

local function p_pairs(...)
  local t = ...
  if real_of[t] then return p_next, t, nil end
  if type(t) == 'table' then return next, t, nil end
  return rethrow('pairs', pcall(pairs, ...))
end

local function p_rawget(...)
  local real = real_of[(...)]
  if real then return rawget(real, select(2, ...)) end
  return rethrow('rawget', pcall(rawget, ...))
end

local function p_rawset(...)
  if real_of[(...)] then error('Attempt to modify a readonly table', 0) end
  return rethrow('rawset', pcall(rawset, ...))
end

local function p_setmetatable(...)
  if real_of[(...)] then error('Attempt to modify a readonly table', 0) end
  return rethrow('setmetatable', pcall(setmetatable, ...))
end

local string_mt_shown
local function p_getmetatable(...)
  local v = ...
  local shown = shown_mt[v]
  if shown ~= nil then
    if shown == false then return nil end
    return shown
  end
  if type(v) == 'string' then return string_mt_shown end
  return rethrow('getmetatable', pcall(getmetatable, ...))
end

-- luaO_chunkid: how Lua names a chunk in messages.
local function chunkid(source)
  local nul = string_find(source, '\0', 1, true)
  if nul then source = string_sub(source, 1, nul - 1) end
  local first = string_byte(source, 1)
  if first == 61 then return string_sub(source, 2, 60) end            -- '='
  if first == 64 then                                                  -- '@'
    source = string_sub(source, 2)
    if #source > 59 then return '...' .. string_sub(source, -56) end
    return source
  end
  local len = (string_find(source, '[\r\n]'))
  len = len and len - 1 or #source
  if len > 43 then len = 43 end
  if len < #source then return '[string "' .. string_sub(source, 1, len) .. '..."]' end
  return '[string "' .. source .. '"]'
end

local ENV   -- the environment loaded chunks get (set per flavour below)
local string_dump, py_untail = string.dump, py.untail

-- Compile text as the script's code: no tail calls (see untail() in luaapi.py).
local function compile_text(...)
  local f, err = loadstring(...)
  if f == nil then return nil, err end
  local name = select(2, ...)
  f = loadstring(py_untail(string_dump(f)), name) or f
  setfenv(f, ENV)
  return f
end

-- Redis's pcall hands back an error table's message rather than the table.
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local err = ...
  if type(err) == 'table' then
    local msg = rawget(err, 'err')
    if type(msg) == 'string' then return false, msg end
  end
  return false, err
end

local function p_pcall(...)
  return pcall_result(pcall(...))
end

local function p_loadstring(...)
  local s, chunkname = ...
  if type(s) == 'string' and string_byte(s, 1) == 27 then
    -- Redis's Lua never loads binary chunks: its text parser chokes on the escape byte.
    return nil, chunkid(type(chunkname) == 'string' and chunkname or s) .. ":1: unexpected symbol near 'char(27)'"
  end
  if type(s) ~= 'string' and type(s) ~= 'number' then
    return rethrow('loadstring', pcall(loadstring, ...))
  end
  return compile_text(s, type(chunkname) == 'string' and chunkname or tostring(s))
end

local function p_load(...)
  local reader, chunkname = ...
  if type(reader) ~= 'function' then
    local got = select('#', ...) == 0 and 'no value' or type(reader)
    script_error("bad argument #1 to 'load' (function expected, got " .. got .. ")")
  end
  local parts = {}
  while true do
    local piece = reader()
    if piece == nil or piece == '' then break end
    if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
    parts[#parts + 1] = piece
  end
  local s = table_concat(parts)
  chunkname = type(chunkname) == 'string' and chunkname or '=(load)'
  if string_byte(s, 1) == 27 then
    return nil, chunkid(chunkname) .. ":1: unexpected symbol near 'char(27)'"
  end
  return compile_text(s, chunkname)
end

-- Library functions implemented in Python answer (true, values...) or (false, message).
local lib_gsub = string.gsub
local function lib_result(ok, ...)
  if ok then return ... end
  local msg = ...
  -- Called straight from C (pcall(struct.pack, ...)), a C library function has no name for
  -- Lua, and its argument errors say '?'. (Level 2 on is the wrapper's caller, past tail calls.)
  local level = 2
  local info = getinfo(level, 'S')
  while info ~= nil and info.what == 'tail' do
    level = level + 1
    info = getinfo(level, 'S')
  end
  if info ~= nil and info.what == 'C' and type(msg) == 'string' then
    msg = lib_gsub(msg, "^(bad argument #%d+ to )'[^']*'", "%1'?'")
  end
  script_error(msg)
end

local function wrap_lib(fn)
  return function(...) return lib_result(fn(...)) end
end

local function make_lib(spec)
  local lib = {}
  for name, value in next, spec do
    if type(value) == 'userdata' then lib[name] = wrap_lib(value) else lib[name] = value end
  end
  return lib
end

-- The redis table.
local py_call, py_api = py.call, py.api
local function api_result(code, v)
  if code == 0 then return v end
  error({err = v}, 0)
end

local function redis_call(...)
  local code, v = py_call(false, ...)
  if code == 0 then return v end
  if code == 1 then return {ok = v} end
  error({err = v, ignore_error_stats_update = true}, 0)
end

local function redis_pcall(...)
  local code, v = py_call(true, ...)
  if code == 0 then return v end
  if code == 1 then return {ok = v} end
  if code == 2 then return {err = v, ignore_error_stats_update = true} end
  return {err = v}
end

local function redis_sha1hex(...)
  if select('#', ...) ~= 1 then error({err = 'ERR wrong number of arguments'}, 0) end
  local v = ...
  local t = type(v)
  return py_api('sha1hex', (t == 'string' or t == 'number') and tostring(v) or '')
end

local function redis_error_reply(...)
  local v = ...
  if select('#', ...) ~= 1 or type(v) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {err = py_api('error_text', v)}
end

local function redis_status_reply(...)
  local v = ...
  if select('#', ...) ~= 1 or type(v) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {ok = v}
end

local function redis_log(...)
  local n = select('#', ...)
  if n < 2 then error({err = 'ERR redis.log() requires two arguments or more.'}, 0) end
  local level = ...
  if type(level) ~= 'number' then error({err = 'ERR First argument must be a number (log level).'}, 0) end
  local parts = {}
  for i = 2, n do
    local v = select(i, ...)
    local t = type(v)
    if t == 'string' or t == 'number' then parts[#parts + 1] = tostring(v) end
  end
  return api_result(py_api('log', level, table_concat(parts, ' ')))
end

local function redis_setresp(...)
  if select('#', ...) ~= 1 then error({err = 'ERR redis.setresp() requires one argument.'}, 0) end
  return api_result(py_api('setresp', tonumber((...)) or 0))
end

local function redis_set_repl(...)
  if select('#', ...) ~= 1 then error({err = 'ERR redis.set_repl() requires two arguments.'}, 0) end
  return api_result(py_api('set_repl', tonumber((...)) or 0))
end

local function redis_acl_check_cmd(...)
  local code, v = py_api('acl_check_cmd', ...)
  if code == 0 then return v end
  error({err = v}, 0)
end

-- The Lua debugger (LDB, engine/ldb.py). While a session runs, a line hook (with a count
-- hook for runaway loops) stops where the session says and hands Python the script's frames.
local ldb = {active = false, step = false, luabp = false, bps = {}, line = 0}
local USER_SCRIPT = '@user_script'
local getlocal = debug.getlocal
local py_ldb_stop, py_ldb_timed_out, py_ldb_debug = py.ldb_stop, py.ldb_timed_out, py.ldb_debug

-- A Lua value as the debugger shows it: strings quoted and escaped, tables as {a; b} when
-- they are sequences 1..n in iteration order, else {[k]=v; ...}, other objects by address.
local LDB_MAX_DEPTH = 18
local function ldb_escape(c)
  if c == '\\' then return '\\\\' end
  if c == '"' then return '\\"' end
  if c == '\n' then return '\\n' end
  if c == '\r' then return '\\r' end
  if c == '\t' then return '\\t' end
  if c == '\a' then return '\\a' end
  if c == '\b' then return '\\b' end
  return string_format('\\x%02x', string_byte(c))
end
local string_gsub, G_tostring = string.gsub, tostring
local function ldb_repr(v, depth)
  local t = type(v)
  if t == 'string' then return '"' .. string_gsub(v, '[%c\\"\128-\255]', ldb_escape) .. '"' end
  if t == 'number' then return string_format('%g', v) end
  if t == 'boolean' or t == 'nil' then return G_tostring(v) end
  if t == 'table' then
    if depth >= LDB_MAX_DEPTH then return '<max recursion level reached! Nested table?>' end
    local keyed, listed, expected, is_list = {}, {}, 1, true
    local k, item = next(v)
    while k ~= nil do
      local value = ldb_repr(item, depth + 1)
      if is_list and k == expected then
        expected = expected + 1
        listed[#listed + 1] = value
      else
        is_list = false
      end
      keyed[#keyed + 1] = '[' .. ldb_repr(k, depth + 1) .. ']=' .. value
      k, item = next(v, k)
    end
    return '{' .. table_concat(is_list and listed or keyed, '; ') .. '}'
  end
  local address = string_sub(G_tostring(v), #t + 3)
  return '"' .. t .. '@' .. address .. '"'
end

local function ldb_breakpoint()
  if ldb.active then
    ldb.luabp = true
    return true
  end
  return false
end

local function ldb_debug(...)
  if ldb.active then
    local parts = {}
    for i = 1, select('#', ...) do parts[i] = ldb_repr((select(i, ...)), 0) end
    py_ldb_debug(ldb.line, table_concat(parts, ', '))
  end
end

-- The frames of the script's own code, innermost first, for print and trace: the line each
-- is at, its function's name, and its locals as name, value pairs (values may be nil).
local function ldb_frames()
  local frames, level = {}, 3       -- 1: this function, 2: the hook, 3: the running code
  while true do
    local info = getinfo(level, 'Sln')
    if info == nil then break end
    if info.source == USER_SCRIPT then
      local vars, i = {}, 1
      while true do
        local name, value = getlocal(level, i)
        if name == nil then break end
        vars[2 * i - 1], vars[2 * i] = name, ldb_repr(value, 0)
        i = i + 1
      end
      frames[#frames + 1] = {line = info.currentline, name = info.name or false, count = i - 1, vars = vars}
    end
    level = level + 1
  end
  return frames
end

local function ldb_hook(event, line)
  local info = getinfo(2, 'Sl')
  if info.source ~= USER_SCRIPT then return end
  local reason
  if event == 'count' then
    line = info.currentline
    if ldb.step or ldb.luabp or ldb.bps[line] or not py_ldb_timed_out() then return end
    reason = 'timeout reached, infinite loop?'
  else
    ldb.line = line
    if ldb.luabp then
      reason = 'redis.breakpoint() called'
    elseif ldb.bps[line] then
      reason = 'break point'
    elseif ldb.step then
      reason = 'step over'
    else
      return
    end
  end
  ldb.step, ldb.luabp = false, false
  local failure = py_ldb_stop(line, reason, ldb_frames())
  if failure then error({err = failure}, 0) end
end

local redis_common = {
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = py.version, REDIS_VERSION_NUM = py.version_num,
}

local function redis_table(with_eval_extras)
  local r = {}
  for k, v in next, redis_common do r[k] = v end
  r.call, r.pcall = redis_call, redis_pcall
  r.sha1hex, r.error_reply, r.status_reply = redis_sha1hex, redis_error_reply, redis_status_reply
  r.log, r.setresp, r.set_repl, r.acl_check_cmd = redis_log, redis_setresp, redis_set_repl, redis_acl_check_cmd
  r.REPL_NONE, r.REPL_AOF, r.REPL_SLAVE, r.REPL_REPLICA, r.REPL_ALL = 0, 1, 2, 2, 3
  if with_eval_extras then
    r.replicate_commands = function() return true end
    r.breakpoint = ldb_breakpoint
    r.debug = ldb_debug
  end
  return r
end

-- The library tables, each read-only.
local function protect_lib(t)
  return protect(t)
end

local libs = py.libs
local string_lib = protect_lib(string)
string_mt_shown = protect({__index = string_lib})
local math_lib = {}
for k, v in next, math do math_lib[k] = v end
math_lib.random = wrap_lib(libs.math_random)
math_lib.randomseed = wrap_lib(libs.math_randomseed)

-- The table functions that write with raw access must not write into a read-only proxy.
local table_lib = {}
for k, v in next, table do table_lib[k] = v end
for _, name in ipairs({'insert', 'remove', 'sort', 'setn'}) do
  local original = table[name]
  table_lib[name] = function(...)
    local t = ...
    local real = real_of[t]
    if real then
      -- Redis refuses the write; sorting or removing from an empty array writes nothing.
      if (name == 'sort' and #real <= 1) or (name == 'remove' and #real == 0) then return end
      error('Attempt to modify a readonly table', 0)
    end
    if type(t) ~= 'table' then return rethrow(name, pcall(original, ...)) end
    return original(...)
  end
end

local shared = {
  string = string_lib,
  table = protect_lib(table_lib),
  math = protect_lib(math_lib),
  coroutine = protect_lib(coroutine),
  bit = protect_lib(make_lib(libs.bit)),
  struct = protect_lib(make_lib(libs.struct)),
  cjson = protect_lib(libs.cjson),
  cmsgpack = protect_lib(make_lib(libs.cmsgpack)),
  next = p_next, pairs = p_pairs, rawget = p_rawget, rawset = p_rawset, pcall = p_pcall,
  setmetatable = p_setmetatable, getmetatable = p_getmetatable,
  loadstring = p_loadstring, load = p_load,
}
shown_mt[libs.null] = false
for k, v in next, shared do S[k] = v end

-- The error handler: where the error happened, and its message in Redis's format.
local py_killed = py.killed
local function error_handler(err)
  if py_killed() then sethook() end
  local level, info = 2, nil
  repeat
    info = getinfo(level, 'Sl')
    level = level + 1
  until info == nil or (info.what ~= 'C' and info.what ~= 'tail' and info.source ~= INTERNAL)
  local msg, ignore
  if type(err) == 'table' then
    msg = rawget(err, 'err')
    if type(msg) ~= 'string' then msg = 'ERR unknown error' end
    ignore = rawget(err, 'ignore_error_stats_update') == true
  else
    msg = 'ERR ' .. tostring(err)
  end
  if info then return {msg, info.source, info.currentline, ignore} end
  return {msg, false, false, ignore}
end

-- The busy-script hook.
local py_hook = py.hook
local function count_hook()
  local stop = py_hook()
  if stop then
    -- From here on every line fails again, so a pcall in the script cannot swallow it.
    sethook(count_hook, 'l', 0)
    if stop == true then stop = 'ERR Script killed by user with SCRIPT KILL...' end
    error({err = stop}, 0)
  end
end
local function arm_hook()
  sethook(count_hook, '', py.hook_instructions)
end

-- Script replies: flattened in Lua (raw access, as Redis reads them) for Python to rebuild.
local MAX_DEPTH = py.max_depth
local function flatten(v, out, n, depth)
  local t = type(v)
  if t == 'string' then out[n + 1] = 's'; out[n + 2] = v; return n + 2 end
  if t == 'number' then out[n + 1] = 'n'; out[n + 2] = v; return n + 2 end
  if t == 'boolean' then out[n + 1] = 'b'; out[n + 2] = v; return n + 2 end
  if t ~= 'table' then out[n + 1] = 'z'; out[n + 2] = false; return n + 2 end
  if depth > MAX_DEPTH then out[n + 1] = 'e'; out[n + 2] = 'ERR reached lua stack limit'; return n + 2 end
  local f = rawget(v, 'err')
  if type(f) == 'string' then out[n + 1] = 'e'; out[n + 2] = f; return n + 2 end
  f = rawget(v, 'ok')
  if type(f) == 'string' then out[n + 1] = 'o'; out[n + 2] = f; return n + 2 end
  f = rawget(v, 'double')
  if type(f) == 'number' then out[n + 1] = 'd'; out[n + 2] = string_format('%.17g', f); return n + 2 end
  f = rawget(v, 'big_number')
  if type(f) == 'string' then out[n + 1] = 'B'; out[n + 2] = f; return n + 2 end
  f = rawget(v, 'map')
  if type(f) == 'table' then
    out[n + 1] = 'm'
    local at, count = n + 2, 0
    n = n + 2
    local k, item = next(f)
    while k ~= nil do
      n = flatten(k, out, n, depth + 1)
      n = flatten(item, out, n, depth + 1)
      count = count + 1
      k, item = next(f, k)
    end
    out[at] = count
    return n
  end
  f = rawget(v, 'set')
  if type(f) == 'table' then
    out[n + 1] = 'S'
    local at, count = n + 2, 0
    n = n + 2
    local k = next(f)
    while k ~= nil do
      n = flatten(k, out, n, depth + 1)
      count = count + 1
      k = next(f, k)
    end
    out[at] = count
    return n
  end
  f = rawget(v, 'verbatim_string')
  if type(f) == 'table' then
    local format, s = rawget(f, 'format'), rawget(f, 'string')
    if type(format) == 'string' and type(s) == 'string' then
      out[n + 1] = 'v'; out[n + 2] = format; out[n + 3] = 'v'; out[n + 4] = s
      return n + 4
    end
  end
  out[n + 1] = 'a'
  local at, j = n + 2, 1
  n = n + 2
  while true do
    local item = rawget(v, j)
    if item == nil then break end
    n = flatten(item, out, n, depth + 1)
    j = j + 1
  end
  out[at] = j - 1
  return n
end

local function convert(v)
  local t = type(v)
  if t == 'string' then return 's', v end
  if t == 'number' then return 'n', v end
  if t == 'boolean' then return 'b', v end
  if t ~= 'table' then return 'z' end
  local out = {}
  local ok, n = pcall(flatten, v, out, 0, 1)
  if not ok then return 'E', 'ERR reached lua stack limit' end
  return 'T', out, n
end

local function finish(ok, res)
  if ok then return convert(res) end
  if type(res) ~= 'table' then return 'E', 'ERR ' .. tostring(res) end
  return 'E', res[1], res[2], res[3], res[4]
end

local entry = {}

function entry.flat_range(out, i, j)
  return unpack(out, i, j)
end

-- Per flavour: the environment scripts run in.
if flavour == 'eval' then
  S.redis = protect(redis_table(true))
  S.__redis__err__handler = error_handler
  local env = protect(S, protect({__index = global_index}))
  S._G = env
  setmetatable(S, {__index = global_index, __newindex = readonly_newindex})
  ENV = env

  function entry.compile(body, chunkname)
    return compile_text(body, chunkname)
  end

  function entry.run(f, keys, argv)
    rawset(S, 'KEYS', keys)
    rawset(S, 'ARGV', argv)
    arm_hook()
    return finish(xpcall(f, error_handler))
  end

  function entry.run_debug(f, keys, argv, instructions)
    rawset(S, 'KEYS', keys)
    rawset(S, 'ARGV', argv)
    ldb.active, ldb.step, ldb.luabp, ldb.bps, ldb.line = true, true, false, {}, 0
    sethook(ldb_hook, 'l', instructions)
    local kind, a, b, c, d = finish(xpcall(f, error_handler))
    sethook()
    ldb.active = false
    return kind, a, b, c, d
  end

  -- The debugger's eval: the code as an expression first, else as a statement; its first value.
  function entry.ldb_eval(code)
    local f, err = compile_text('return ' .. code, '@ldb_eval')
    if f == nil then
      f, err = compile_text(code, '@ldb_eval')
      if f == nil then return false, err end
    end
    local ok, value = pcall(f)
    if not ok then
      if type(value) == 'table' then
        local msg = rawget(value, 'err')
        if type(msg) == 'string' then value = msg end
      end
      return false, tostring(value)
    end
    return true, ldb_repr(value, 0)
  end

  function entry.ldb_global(name)
    return ldb_repr(rawget(S, name), 0)
  end
else
  -- Functions: libraries load with a minimal environment, then run with the full one.
  local runtime_redis = protect(redis_table(false))
  local loading_redis_real = {}
  for k, v in next, redis_common do loading_redis_real[k] = v end
  loading_redis_real.log = redis_log
  local py_register = py.register_function
  loading_redis_real.register_function = function(...)
    local ok, msg = py_register(...)
    if not ok then error({err = msg}, 0) end
  end
  setmetatable(loading_redis_real, {__index = global_index})
  local loading_redis = protect(loading_redis_real)
  local loading_globals = setmetatable({redis = loading_redis}, {__index = global_index})

  S.redis = runtime_redis
  local env_mt = {__index = S, __newindex = readonly_newindex}
  local env = setmetatable({}, env_mt)
  real_of[env] = S
  shown_mt[env] = protect({__index = global_index})
  S._G = env
  setmetatable(S, {__index = global_index, __newindex = readonly_newindex})
  ENV = env

  function entry.load_library(body, chunkname)
    local f, err = compile_text(body, chunkname)
    if f == nil then return 'C', err end
    env_mt.__index = loading_globals
    real_of[env] = loading_globals
    arm_hook()
    local ok, res = xpcall(f, error_handler)
    env_mt.__index = S
    real_of[env] = S
    sethook()
    if ok then return 'ok' end
    if type(res) ~= 'table' then return 'E', 'ERR ' .. tostring(res) end
    return 'E', res[1]
  end

  function entry.run(f, keys, argv)
    arm_hook()
    return finish(xpcall(function() return f(keys, argv) end, error_handler))
  end
end

function entry.disarm()
  sethook()
end

function entry.ldb_state()
  return ldb
end

function entry.ldb_repr(v)
  return ldb_repr(v, 0)
end

function entry.new_table()
  return {}
end

return entry
"""


class LuaState:
    """One sandboxed Lua interpreter: ``flavour`` is "eval" (EVAL scripts) or "function" (libraries)."""

    def __init__(self, engine: Engine, flavour: str, register_function: Any = None) -> None:
        self.engine = engine
        self.flavour = flavour
        self.run: ScriptRun | None = None
        self.lua = lua51.LuaRuntime(encoding=None, register_eval=False, register_builtins=False,
                                    unpack_returned_tuples=True, attribute_filter=_deny_attribute)
        self.table_from = self.lua.table_from
        self.script_client = Client(engine, CollectingSink())
        self.script_client.flags = CLIENT_SCRIPT
        libs = lualibs.LuaLibraries(self.lua, engine)
        bridge = self.lua.table_from({
            b"call": self._redis_call,
            b"api": self._api,
            b"hook": self._hook,
            b"killed": self._killed,
            b"version": REDIS_VERSION,
            b"version_num": REDIS_VERSION_NUM,
            b"hook_instructions": HOOK_INSTRUCTIONS,
            b"max_depth": MAX_REPLY_DEPTH,
            b"libs": libs.tables(),
            b"register_function": register_function or _no_register,
            b"untail": untail,
            b"ldb_stop": self._ldb_stop,
            b"ldb_timed_out": self._ldb_timed_out,
            b"ldb_debug": self._ldb_debug,
        })
        prelude = self.lua.execute("return loadstring(...)", _PRELUDE.encode(), b"=internal")
        self.entry = prelude(bridge, flavour.encode())
        self._flat_range = self.entry[b"flat_range"]
        self._run = self.entry[b"run"]
        self.hook_callback: Any = None      # set by scripting.py: called by the instruction hook
        self.ldb: Any = None                # the debugging session (engine/ldb.py) while one runs
        # While a library's top-level code runs (FUNCTION LOAD/RESTORE): when it must be done,
        # on time.monotonic()'s clock (Redis's LOAD_TIMEOUT_MS).
        self.load_deadline: float | None = None

    # -- compiling and running ------------------------------------------------------------

    def compile(self, body: bytes, chunkname: bytes) -> tuple[Any, bytes | None]:
        """Compile ``body``: (function, None) or (None, Lua's error message)."""
        result = self.entry[b"compile"](body, chunkname)
        if isinstance(result, tuple):
            return None, result[1]
        return result, None

    def new_table(self, items: list) -> Any:
        return self.table_from(items)

    def call(self, run: ScriptRun, function: Any, keys: list[bytes], args: list[bytes]) -> Any:
        """Run a compiled script (or a library function) and return its reply.

        Errors come back as :class:`RedisError` with Redis's text (``... script: <name>, on
        @user_script:<line>.``)."""
        client = self.script_client
        caller = run.caller
        client.db = caller.db
        client.resp = 2
        client.user = caller.user
        client.authenticated = True
        previous = self.run
        self.run = run
        try:
            result = self._run(function, self.table_from(keys), self.table_from(args))
        finally:
            self.run = previous
            self.entry[b"disarm"]()
        return self.to_reply(result, run)

    def call_debug(self, run: ScriptRun, function: Any, keys: list[bytes], args: list[bytes], session: Any) -> Any:
        """:meth:`call` under the Lua debugger: ``session`` (engine/ldb.py) gets every stop."""
        client = self.script_client
        caller = run.caller
        client.db = caller.db
        client.resp = 2
        client.user = caller.user
        client.authenticated = True
        previous, previous_ldb = self.run, self.ldb
        self.run, self.ldb = run, session
        try:
            result = self.entry[b"run_debug"](function, self.table_from(keys), self.table_from(args),
                                              HOOK_INSTRUCTIONS)
        finally:
            self.run, self.ldb = previous, previous_ldb
            self.entry[b"disarm"]()
        return self.to_reply(result, run)

    def _ldb_stop(self, line: int, reason: bytes, frames: Any) -> bytes | None:
        return self.ldb.stop(line, reason.decode(), frames) if self.ldb is not None else None

    def _ldb_timed_out(self) -> bool:
        return self.ldb is not None and self.ldb.timed_out()

    def _ldb_debug(self, line: int, values: bytes) -> None:
        if self.ldb is not None:
            self.ldb.log_debug(line, values.decode("utf-8", "surrogateescape"))

    # -- Lua values -> replies -----------------------------------------------------------

    def to_reply(self, result: Any, run: ScriptRun) -> Any:
        if not isinstance(result, tuple):
            result = (result,)
        kind = result[0]
        if kind == b"s":
            return result[1]
        if kind == b"n":
            return lua_number_to_integer(result[1])
        if kind == b"z":
            return None
        if kind == b"b":
            if run.resp == 3:
                return Bool(result[1])
            return 1 if result[1] else None
        if kind == b"E":
            raise self.script_error(result, run)
        if kind == b"e":
            value = result[1]
            raise RedisError(("-" if value[:1] == b"-" else "") + value.decode("utf-8", "surrogateescape"))
        out, n = result[1], result[2]
        flat: list = []
        step = 4000
        for start in range(1, n + 1, step):
            part = self._flat_range(out, start, min(n, start + step - 1))
            if isinstance(part, tuple):
                flat.extend(part)
            else:
                flat.append(part)
        reply = self._rebuild(flat, run)
        if reply is _TOO_DEEP:
            return Raw(self._encode_flat(flat, run))
        if isinstance(reply, ErrorReply):
            raise RedisError(reply.text.decode("utf-8", "surrogateescape"))
        return reply

    def _rebuild(self, flat: list, run: ScriptRun) -> Any:
        """Rebuild a reply from the flattened form (iteratively: replies may nest deeply)."""
        resp3_bools = run.resp == 3
        # Each open container: [kind, remaining, items].
        stack: list[list] = []
        pos = 0
        result: Any = None
        size = len(flat)
        while pos < size:
            kind = flat[pos]
            value = flat[pos + 1]
            pos += 2
            if kind in (b"a", b"m", b"S"):
                count = value * 2 if kind == b"m" else value
                if count:
                    stack.append([kind, count, []])
                    continue
                item: Any = [] if kind == b"a" else (Map([]) if kind == b"m" else Set([]))
            elif kind == b"s":
                item = value
            elif kind == b"n":
                item = lua_number_to_integer(value)
            elif kind == b"b":
                item = Bool(value) if resp3_bools else (1 if value else None)
            elif kind == b"z":
                item = None
            elif kind == b"e":
                # A leading '-' is the error's own text: double it, as the encoder strips one.
                item = ErrorReply(b"-" + value if value[:1] == b"-" else value)
            elif kind == b"o":
                item = Status(value)
            elif kind == b"d":
                item = Double(float(value))
            elif kind == b"B":
                item = BigNumber(value.replace(b"\r", b" ").replace(b"\n", b" "))
            elif kind == b"v":
                text = flat[pos + 1]
                pos += 2
                item = Verbatim(text, value[:3].decode("latin-1"))
            else:
                raise RedisError("ERR unexpected script reply")
            if len(stack) > ENCODER_SAFE_DEPTH:
                return _TOO_DEEP
            # Attach the item to its container, closing every container it completes.
            while True:
                if not stack:
                    result = item
                    break
                top = stack[-1]
                top[2].append(item)
                top[1] -= 1
                if top[1]:
                    break
                stack.pop()
                kind, items = top[0], top[2]
                if kind == b"a":
                    item = items
                elif kind == b"m":
                    item = Map(list(zip(items[0::2], items[1::2], strict=True)))
                else:
                    item = Set(items)
        return result

    def _encode_flat(self, flat: list, run: ScriptRun) -> bytes:
        """The wire form of a deeply nested reply, written without recursion (the flattened
        form is in prefix order already) for the caller's protocol."""
        resp = run.caller.resp
        out: list[bytes] = []
        pos, size = 0, len(flat)
        while pos < size:
            kind, value = flat[pos], flat[pos + 1]
            pos += 2
            if kind == b"a":
                out.append(b"*%d\r\n" % value)
                continue
            if kind == b"m":
                out.append(b"%%%d\r\n" % value if resp == 3 else b"*%d\r\n" % (2 * value))
                continue
            if kind == b"S":
                out.append(b"~%d\r\n" % value if resp == 3 else b"*%d\r\n" % value)
                continue
            if kind == b"v":
                leaf = self._rebuild([kind, value, flat[pos], flat[pos + 1]], run)
                pos += 2
            else:
                leaf = self._rebuild([kind, value], run)
            out.append(encode(leaf, resp))
        return b"".join(out)

    def script_error(self, result: tuple, run: ScriptRun) -> RedisError:
        """The error reply of a failed script: Redis 7.0's ``<error> script: <name>, on <source>:<line>.``"""
        message = result[1]
        text = message.decode("utf-8", "surrogateescape") if isinstance(message, bytes) else str(message)
        source = result[2] if len(result) > 2 else None
        line = result[3] if len(result) > 3 else None
        if source and line:
            text = f"{text} script: {run.name}, on {source.decode('utf-8', 'surrogateescape')}:{line}."
        return RedisError("-" + text if text.startswith("-") else text)

    # -- replies -> Lua values -----------------------------------------------------------

    def to_lua(self, reply: Any, resp: int) -> Any:
        """A command's reply as the Lua value Redis gives scripts (RESP2 or RESP3 rules)."""
        kind = type(reply)
        if kind is bytes:
            return reply
        if kind is int:
            return reply
        if reply is None or kind is NullArray:
            return None if resp == 3 else False
        if kind is list or kind is tuple:
            return self.table_from([self._item_to_lua(item, resp) for item in reply])
        if kind is bytearray or kind is memoryview:
            return bytes(reply)
        if kind is str:
            return reply.encode("utf-8", "surrogateescape")
        return self._item_to_lua(reply, resp)

    def _item_to_lua(self, reply: Any, resp: int) -> Any:
        kind = type(reply)
        if kind is bytes or kind is int:
            return reply
        if reply is None or kind is NullArray:
            return None if resp == 3 else False
        if kind is list or kind is tuple:
            return self.table_from([self._item_to_lua(item, resp) for item in reply])
        if kind is bytearray or kind is memoryview:
            return bytes(reply)
        if kind is str:
            return reply.encode("utf-8", "surrogateescape")
        if kind is bool:
            return int(reply)
        if kind is Status:
            return self.table_from({b"ok": reply.text})
        if kind is ErrorReply:
            text = reply.text.decode("utf-8", "surrogateescape")
            return self.table_from({b"err": lua_error_text(text).encode("utf-8", "surrogateescape")})
        if kind is dict:
            reply = Map(reply)
            kind = Map
        if kind is Map:
            if resp == 3:
                inner = self.lua.table_from()
                for key, value in reply.pairs:
                    inner[self._item_to_lua(key, resp)] = self._item_to_lua(value, resp)
                return self.table_from({b"map": inner})
            flat = []
            for key, value in reply.pairs:
                flat.append(self._item_to_lua(key, resp))
                flat.append(self._item_to_lua(value, resp))
            return self.table_from(flat)
        if kind is set or kind is frozenset:
            reply = Set(list(reply))
            kind = Set
        if kind is Set:
            if resp == 3:
                inner = self.lua.table_from()
                for member in reply.items:
                    inner[self._item_to_lua(member, resp)] = True
                return self.table_from({b"set": inner})
            return self.table_from([self._item_to_lua(item, resp) for item in reply.items])
        if kind is float:
            reply = Double(reply)
            kind = Double
        if kind is Double or kind is DoubleText:
            if resp == 3:
                return self.table_from({b"double": reply.value})
            return reply.text if kind is DoubleText else format_double(reply.value)
        if kind is Bool:
            if resp == 3:
                return reply.value
            return 1 if reply.value else 0
        if kind is BigNumber:
            if resp == 3:
                return self.table_from({b"big_number": reply.digits})
            return reply.digits
        if kind is Verbatim:
            if resp == 3:
                inner = self.table_from({b"format": reply.format.encode(), b"string": reply.text})
                return self.table_from({b"verbatim_string": inner})
            return reply.text
        if kind is Push:
            return self.table_from([self._item_to_lua(item, resp) for item in reply.items])
        if kind is Attribute:
            return self._item_to_lua(reply.reply, resp)
        if kind is Raw:
            return self._item_to_lua(_parse_raw(reply.data), resp)
        return None if resp == 3 else False

    # -- callbacks from Lua ----------------------------------------------------------------

    def _argv_from_lua(self, args: tuple) -> list[bytes] | str:
        argv: list[bytes] = []
        for arg in args:
            kind = type(arg)
            if kind is bytes:
                argv.append(arg)
            elif kind is int or kind is float:
                argv.append(number_to_arg(arg))
            else:
                return "ERR Lua redis lib command arguments must be strings or integers"
        return argv

    def _redis_call(self, protected: bool, *args: Any) -> tuple:
        """redis.call / redis.pcall: (0, value) | (1, status text) | (2, error text) | (3, raise always)."""
        run = self.run
        if run is None:
            return 3, b"ERR redis.call() can only be called inside a script invocation"
        if not args:
            return 3, b"ERR Please specify at least one argument for this redis lib call"
        argv = self._argv_from_lua(args)
        if isinstance(argv, str):
            return 3, argv.encode()
        ldb = self.ldb
        if ldb is not None and ldb.tracing:
            # The Lua debugger shows what a stepped line sends and gets (engine/ldb.py).
            return ldb.traced_call(self, run, argv)
        return self.run_command(run, argv)

    def run_command(self, run: ScriptRun, argv: list[bytes]) -> tuple:
        """Run one redis.call's command: (0, value) | (1, status) | (2, error text)."""
        engine = self.engine
        cmd = _lookup(engine, argv)
        if cmd is None:
            return 2, b"ERR Unknown Redis command called from script"
        arity = cmd.arity
        argc = len(argv)
        if arity != argc and (arity > 0 or argc < -arity):
            return 2, b"ERR Wrong number of args calling Redis command from script"
        flags = cmd.flags
        if flags & CMD_NOSCRIPT:
            return 2, b"ERR This Redis command is not allowed from script"
        if flags & CMD_WRITE:
            if run.read_only:
                return 2, b"ERR Write commands are not allowed from read-only scripts."
            deny = self._deny_write(run, cmd)
            if deny is not None:
                return 2, deny
            run.wrote = True
        client = self.script_client
        client.resp = run.resp
        reply = engine.call(client, cmd, argv)
        ldb = self.ldb
        if ldb is not None and ldb.tracing:
            ldb.last_reply = reply
        kind = type(reply)
        if kind is bytes or kind is int:
            return 0, reply
        if kind is Status:
            return 1, reply.text
        if kind is ErrorReply:
            return 2, lua_error_text(reply.text.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        return 0, self.to_lua(reply, run.resp)

    def _deny_write(self, run: ScriptRun, cmd: CommandDef) -> bytes | None:
        """Writes a script may not do where it runs (Redis's scriptVerifyWriteCommandAllow)."""
        engine = self.engine
        if engine.is_replica and engine.config["replica-read-only"] and not run.caller.flags & CLIENT_MASTER:
            return b"READONLY You can't write against a read only replica."
        check = engine.extensions.get("script_write_gate")
        if check is not None:
            return check(run, cmd)
        return None

    def _api(self, name: bytes, *args: Any) -> Any:
        run = self.run
        if name == b"sha1hex":
            return hashlib.sha1(args[0]).hexdigest().encode()
        if name == b"error_text":
            return lua_error_text(args[0].decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        if name == b"log":
            level, message = args
            level = int(level) if level == level and abs(level) < 1e18 else -1
            if level < 0 or level > 3:
                return 1, b"ERR Invalid debug level."
            log(LOG_LEVELS[level], message.decode("utf-8", "replace"))
            return 0, None
        if name == b"setresp":
            value = args[0]
            if value not in (2, 3):
                return 1, b"ERR RESP version must be 2 or 3."
            if run is not None:
                run.resp = int(value)
            return 0, None
        if name == b"set_repl":
            value = args[0]
            flags = int(value) if value == value and abs(value) < 1e18 else -1
            if flags & ~REPL_ALL or flags < 0:
                return 1, b"ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
            if run is not None:
                run.repl = flags
            return 0, None
        if name == b"acl_check_cmd":
            if not args:
                return 1, b"ERR Please specify at least one argument for this redis lib call"
            argv = self._argv_from_lua(args)
            if isinstance(argv, str):
                return 1, argv.encode()
            cmd = _lookup(self.engine, argv)
            if cmd is None:
                return 1, b"ERR Invalid command passed to redis.acl_check_cmd()"
            check = self.engine.extensions.get("acl_check_command")
            if check is not None and run is not None:
                return 0, bool(check(run.caller, cmd, argv))
            return 0, True
        return 1, b"ERR unknown redis API"

    def _hook(self) -> bool | bytes:
        """Every HOOK_INSTRUCTIONS Lua instructions: True when the script must die (SCRIPT KILL),
        or the error to die with (a library's load code past its time limit)."""
        run = self.run
        if run is None:
            deadline = self.load_deadline
            if deadline is not None and time.monotonic() > deadline:
                return b"ERR FUNCTION LOAD timeout"
            return False
        callback = self.hook_callback
        if callback is not None:
            callback(run)
        return run.killed

    def _killed(self) -> bool:
        run = self.run
        if run is None:
            # A library's load code past its time: the error handler disarms the hook.
            deadline = self.load_deadline
            return deadline is not None and time.monotonic() > deadline
        return run.killed


_OP_CALL, _OP_TAILCALL = 28, 29


def untail(dump: bytes) -> bytes:
    """Turn every tail call of a dumped Lua 5.1 chunk into a plain call (the RETURN after it
    returns the results either way).

    In Redis, ``return redis.call(...)`` calls a C function, which keeps the script's frame
    on the stack, so errors name the script line. Our API functions are Lua closures, which
    a tail call would let replace the script's frame; with plain calls it stays."""
    data = bytearray(dump)
    if data[:5] != b"\x1bLuaQ" or data[6] != 1 or data[7:12] != b"\x04\x08\x04\x08\x00":
        return dump         # not the little-endian 64-bit layout this reads: leave it alone
    pos = 12

    def integer() -> int:
        nonlocal pos
        value = int.from_bytes(data[pos:pos + 4], "little")
        pos += 4
        return value

    def string() -> None:
        nonlocal pos
        size = int.from_bytes(data[pos:pos + 8], "little")
        pos += 8 + size

    def function() -> None:
        nonlocal pos
        string()                        # source
        pos += 8 + 4                    # linedefined, lastlinedefined, nups/params/vararg/stack
        count = integer()
        for at in range(pos, pos + 4 * count, 4):
            if data[at] & 0x3F == _OP_TAILCALL:
                data[at] = (data[at] & ~0x3F) | _OP_CALL
        pos += 4 * count
        for _ in range(integer()):      # constants
            kind = data[pos]
            pos += 1
            if kind == 1:
                pos += 1
            elif kind == 3:
                pos += 8
            elif kind == 4:
                string()
        for _ in range(integer()):      # nested functions
            function()
        lines = integer()               # line info
        pos += 4 * lines
        for _ in range(integer()):      # local names
            string()
            pos += 8
        for _ in range(integer()):      # upvalue names
            string()

    function()
    return bytes(data)


def _no_register(*args: Any) -> tuple:
    return False, "redis.register_function is only available while loading a library"


def _lookup(engine: Engine, argv: list[bytes]) -> CommandDef | None:
    cmd = engine.commands.get(argv[0])
    if cmd is None:
        cmd = engine.commands.get(argv[0].lower())
        if cmd is None:
            return None
    if cmd.subcommands and len(argv) >= 2:
        return cmd.subcommands.get(argv[1].lower())
    return cmd


def _parse_raw(data: bytes) -> Any:
    """A pre-encoded reply, decoded to reply values (rare: only DEBUG-style replies use Raw)."""
    from specredis.protocol.client import RespError, RespReader
    from specredis.protocol.client import Status as WireStatus
    reader = RespReader()
    reader.feed(data)
    done, value = reader.read()
    if not done:
        return None

    def convert(v: Any) -> Any:
        if isinstance(v, WireStatus):
            return Status(v.text)
        if isinstance(v, RespError):
            return ErrorReply(v.text)
        if isinstance(v, list):
            return [convert(x) for x in v]
        return v
    return convert(value)


def sha1hex(body: bytes) -> str:
    """The SHA1 of a script body, as EVALSHA names it."""
    return hashlib.sha1(body).hexdigest()


__all__ = ["LuaState", "ScriptRun", "lua_error_text", "sha1hex"]
