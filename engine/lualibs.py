"""The libraries Redis preloads for scripts: ``bit``, ``struct``, ``cmsgpack``, ``cjson``, and
Redis's deterministic-generator ``math.random``/``math.randomseed``.

``bit``, ``struct`` and ``cmsgpack`` are Python functions exposed through
``engine/luaapi.py``'s wrappers: each answers ``(True, values...)`` or ``(False,
message)``, and the wrapper raises the message as a Lua error positioned at the calling
script line, as the C libraries' ``luaL_argerror`` does. ``cjson`` is written in Lua
(it must create ``cjson.null`` and walk tables in Lua's own order). Outputs and error
texts follow Redis 7.0.15's builds of LuaBitOp 1.0.2, lua-struct 0.2, lua-cmsgpack 0.4
and lua-cjson 2.1.0.
"""

from __future__ import annotations

import math
import struct as pystruct
from typing import Any

import lupa.lua51 as lua51

_lua_type = lua51.lua_type

# -- helpers --------------------------------------------------------------------------------


def _type_name(value: Any, present: bool = True) -> str:
    if not present:
        return "no value"
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, bytes):
        return "string"
    return (_lua_type(value) or "userdata")


def _to_number(value: Any) -> float | int | None:
    """luaL_checknumber's conversion: numbers, and strings that read as numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, bytes):
        text = value.strip()
        try:
            if text[:2].lower() in (b"0x",) or text[:3].lower() in (b"-0x", b"+0x"):
                return int(text, 16)
            number = float(text)
        except ValueError:
            return None
        if text.lower().lstrip(b"+-") in (b"inf", b"nan", b"infinity"):
            return None     # strtod reads these, Lua 5.1's lua_str2number too; keep them out
        return number
    return None


class ArgError(Exception):
    """An error a library function raises in the script, with its whole message: usually
    ``bad argument #n to 'name' (...)``, or luaL_error's own text."""


def _number_arg(args: tuple, index: int, fname: str) -> float | int:
    present = index < len(args)
    value = args[index] if present else None
    number = _to_number(value)
    if number is None:
        raise ArgError(f"bad argument #{index + 1} to '{fname}' (number expected, got {_type_name(value, present)})")
    return number


def _string_arg(args: tuple, index: int, fname: str) -> bytes:
    present = index < len(args)
    value = args[index] if present else None
    if isinstance(value, bytes):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _lua_number_text(value)
    raise ArgError(f"bad argument #{index + 1} to '{fname}' (string expected, got {_type_name(value, present)})")


def _lua_number_text(value: float | int) -> bytes:
    """Lua 5.1's tostring of a number (``%.14g``)."""
    if isinstance(value, int) and abs(value) < 10 ** 14:
        return b"%d" % value
    value = float(value)
    if value != value:
        return b"-nan" if math.copysign(1.0, value) < 0 else b"nan"
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    return b"%.14g" % value


def _guard(fn: Any) -> Any:
    def wrapper(*args: Any) -> Any:
        try:
            result = fn(*args)
        except ArgError as error:
            return False, str(error).encode()
        if type(result) is tuple:
            return (True, *result)
        return True, result
    return wrapper


# -- bit (LuaBitOp) ---------------------------------------------------------------------------


def _tobit(number: float | int) -> int:
    # LuaBitOp adds 2^52+2^51 and takes the low 32 bits: round half to even, then wrap.
    if isinstance(number, float):
        if number != number or math.isinf(number):
            return 0
        number = round(number)
    value = number & 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _bit_functions() -> dict[bytes, Any]:
    def unary(name: str, op: Any) -> Any:
        def fn(*args: Any) -> int:
            return _tobit(op(_tobit(_number_arg(args, 0, name)) & 0xFFFFFFFF))
        return fn

    def variadic(name: str, op: Any) -> Any:
        def fn(*args: Any) -> int:
            result = _tobit(_number_arg(args, 0, name)) & 0xFFFFFFFF
            for index in range(1, len(args)):
                result = op(result, _tobit(_number_arg(args, index, name)) & 0xFFFFFFFF)
            return _tobit(result)
        return fn

    def shift(name: str, op: Any) -> Any:
        def fn(*args: Any) -> int:
            value = _tobit(_number_arg(args, 0, name)) & 0xFFFFFFFF
            count = _tobit(_number_arg(args, 1, name)) & 31
            return _tobit(op(value, count))
        return fn

    def arshift(value: int, count: int) -> int:
        signed = value - (1 << 32) if value & 0x80000000 else value
        return signed >> count

    def rol(value: int, count: int) -> int:
        return ((value << count) | (value >> (32 - count))) & 0xFFFFFFFF if count else value

    def ror(value: int, count: int) -> int:
        return ((value >> count) | (value << (32 - count))) & 0xFFFFFFFF if count else value

    def tohex(*args: Any) -> bytes:
        value = _tobit(_number_arg(args, 0, "tohex")) & 0xFFFFFFFF
        digits = _tobit(_number_arg(args, 1, "tohex")) if len(args) > 1 and args[1] is not None else 8
        upper = digits < 0
        digits = min(abs(digits), 8)
        text = (b"%08X" if upper else b"%08x") % value
        return text[8 - digits:] if digits else b""

    return {
        b"tobit": unary("tobit", lambda v: v),
        b"bnot": unary("bnot", lambda v: ~v),
        b"bswap": unary("bswap", lambda v: int.from_bytes(v.to_bytes(4, "little"), "big")),
        b"band": variadic("band", lambda a, b: a & b),
        b"bor": variadic("bor", lambda a, b: a | b),
        b"bxor": variadic("bxor", lambda a, b: a ^ b),
        b"lshift": shift("lshift", lambda v, n: v << n),
        b"rshift": shift("rshift", lambda v, n: v >> n),
        b"arshift": shift("arshift", arshift),
        b"rol": shift("rol", rol),
        b"ror": shift("ror", ror),
        b"tohex": tohex,
    }


# -- struct (lua-struct 0.2) ------------------------------------------------------------------

_MAXINTSIZE = 32
_NATIVE_SIZES = {ord("b"): 1, ord("B"): 1, ord("h"): 2, ord("H"): 2, ord("l"): 8, ord("L"): 8,
                 ord("T"): 8, ord("f"): 4, ord("d"): 8}


class _Format:
    """A struct format string being read option by option."""

    def __init__(self, fmt: bytes, fname: str) -> None:
        self.fmt = fmt
        self.pos = 0
        self.little = True
        self.align = 1
        self.fname = fname

    def _number(self, default: int) -> int:
        start = self.pos
        while self.pos < len(self.fmt) and 48 <= self.fmt[self.pos] <= 57:
            self.pos += 1
        if start == self.pos:
            return default
        return int(self.fmt[start:self.pos])

    def options(self):
        """Yield (option, size) pairs; endianness/alignment options are applied here."""
        while self.pos < len(self.fmt):
            opt = self.fmt[self.pos]
            self.pos += 1
            if opt in _NATIVE_SIZES:
                yield opt, _NATIVE_SIZES[opt]
            elif opt in (ord("i"), ord("I")):
                size = self._number(4)
                if size > _MAXINTSIZE:
                    raise ArgError(f"bad argument #1 to '{self.fname}' (integral size {size} is larger than "
                                   f"limit of {_MAXINTSIZE})")
                yield opt, size
            elif opt == ord("c"):
                yield opt, self._number(1)
            elif opt == ord("s"):
                yield opt, 0
            elif opt == ord("x"):
                yield opt, 1
            elif opt == ord(" "):
                continue
            elif opt == ord("<"):
                self.little = True
            elif opt == ord(">"):
                self.little = False
            elif opt == ord("="):
                self.little = True
            elif opt == ord("!"):
                align = self._number(8)
                if align <= 0 or align & (align - 1):
                    raise ArgError(f"alignment {align} is not a power of 2")
                self.align = align
            else:
                raise ArgError(f"bad argument #1 to '{self.fname}' (invalid format option '{chr(opt)}')")

    def padding(self, opt: int, size: int, offset: int) -> int:
        if opt in (ord("c"), ord("s"), ord("x")) or size <= 1:
            return 0
        # lua-struct's gettoalign: sizes that are not powers of 2 (i3, i5...) pad by its formula too.
        align = min(size, self.align)
        return (align - (offset & (align - 1))) & (align - 1)


def _pack_int(value: int, size: int, little: bool) -> bytes:
    value &= (1 << (8 * size)) - 1
    return value.to_bytes(size, "little" if little else "big")


def _struct_functions() -> dict[bytes, Any]:
    def pack(*args: Any) -> bytes:
        fmt = _Format(_string_arg(args, 0, "pack"), "pack")
        out = bytearray()
        arg = 1
        for opt, size in fmt.options():
            out += b"\0" * fmt.padding(opt, size, len(out))
            if opt == ord("x"):
                out += b"\0"
            elif opt in (ord("f"), ord("d")):
                number = float(_number_arg(args, arg, "pack"))
                arg += 1
                out += pystruct.pack(("<" if fmt.little else ">") + chr(opt), number)
            elif opt in (ord("c"), ord("s")):
                data = _string_arg(args, arg, "pack")
                arg += 1
                length = len(data)
                if opt == ord("c"):
                    if size == 0:
                        size = length
                    if length < size:
                        raise ArgError(f"bad argument #{arg} to 'pack' (string too short)")
                    out += data[:size]
                else:
                    out += data + b"\0"
            else:
                number = _number_arg(args, arg, "pack")
                arg += 1
                integer = int(number) if not isinstance(number, float) or math.isfinite(number) else 0
                out += _pack_int(integer, size, fmt.little)
        return bytes(out)

    def unpack(*args: Any) -> tuple:
        fmt = _Format(_string_arg(args, 0, "unpack"), "unpack")
        data = _string_arg(args, 1, "unpack")
        pos = 0
        if len(args) > 2 and args[2] is not None:
            pos = int(_number_arg(args, 2, "unpack")) - 1
            if pos < 0 or pos > len(data):
                raise ArgError("bad argument #3 to 'unpack' (offset must be 1 or greater)")
        values: list[Any] = []
        for opt, size in fmt.options():
            pos += fmt.padding(opt, size, pos)
            if opt != ord("s") and not (opt == ord("c") and size == 0) and pos + size > len(data):
                raise ArgError("bad argument #2 to 'unpack' (data string too short)")
            if opt == ord("x"):
                pos += 1
            elif opt in (ord("f"), ord("d")):
                number = pystruct.unpack(("<" if fmt.little else ">") + chr(opt), data[pos:pos + size])[0]
                values.append(number)
                pos += size
            elif opt == ord("c"):
                if size == 0:
                    if not values or not isinstance(values[-1], (int, float)):
                        raise ArgError("bad argument #1 to 'unpack' (format 'c0' needs a previous size)")
                    size = int(values.pop())
                    if pos + size > len(data):
                        raise ArgError("bad argument #2 to 'unpack' (data string too short)")
                values.append(data[pos:pos + size])
                pos += size
            elif opt == ord("s"):
                end = data.find(b"\0", pos)
                if end < 0:
                    raise ArgError("bad argument #2 to 'unpack' (unfinished string in data)")
                values.append(data[pos:end])
                pos = end + 1
            else:
                raw = data[pos:pos + size]
                value = int.from_bytes(raw, "little" if fmt.little else "big")
                if opt in (ord("b"), ord("h"), ord("l"), ord("i")) and value >> (8 * size - 1):
                    value -= 1 << (8 * size)
                values.append(value if abs(value) < (1 << 63) else float(value))
                pos += size
        values.append(pos + 1)
        return tuple(values)

    def size(*args: Any) -> int:
        fmt = _Format(_string_arg(args, 0, "size"), "size")
        total = 0
        for opt, width in fmt.options():
            if opt == ord("s") or (opt == ord("c") and width == 0):
                raise ArgError(f"bad argument #1 to 'size' (option '{chr(opt)}' has no fixed size)")
            total += fmt.padding(opt, width, total) + width
        return total

    return {b"pack": pack, b"unpack": unpack, b"size": size}


# -- cmsgpack (lua-cmsgpack 0.4) --------------------------------------------------------------

_MAX_NESTING = 16


class _MsgpackError(Exception):
    pass


def _msgpack_encode(value: Any, out: bytearray, depth: int) -> None:
    kind = type(value)
    if value is None:
        out += b"\xc0"
    elif kind is bool:
        out += b"\xc3" if value else b"\xc2"
    elif kind is bytes:
        n = len(value)
        if n < 32:
            out.append(0xA0 | n)
        elif n <= 0xFF:
            out += b"\xd9" + bytes([n])
        elif n <= 0xFFFF:
            out += b"\xda" + n.to_bytes(2, "big")
        else:
            out += b"\xdb" + n.to_bytes(4, "big")
        out += value
    elif kind is int or kind is float:
        number = value
        integral = not (isinstance(number, float) and (not math.isfinite(number) or number != int(number)))
        if integral and -(1 << 63) <= number < (1 << 63):
            _msgpack_int(int(number), out)
        elif pystruct.unpack("<f", pystruct.pack("<f", number))[0] == number or number != number:
            out += b"\xca" + pystruct.pack(">f", number)
        else:
            out += b"\xcb" + pystruct.pack(">d", number)
    elif _lua_type(value) == "table":
        if depth >= _MAX_NESTING:
            out += b"\xc0"
            return
        items = list(value.items())
        array = all(isinstance(k, (int, float)) and not isinstance(k, bool) and k >= 1 and k == int(k)
                    for k, _ in items)
        if array and items and max(k for k, _ in items) != len(items):
            array = False
        if array:
            n = len(items)
            if n < 16:
                out.append(0x90 | n)
            elif n <= 0xFFFF:
                out += b"\xdc" + n.to_bytes(2, "big")
            else:
                out += b"\xdd" + n.to_bytes(4, "big")
            for index in range(1, n + 1):
                _msgpack_encode(value[index], out, depth + 1)
        else:
            n = len(items)
            if n < 16:
                out.append(0x80 | n)
            elif n <= 0xFFFF:
                out += b"\xde" + n.to_bytes(2, "big")
            else:
                out += b"\xdf" + n.to_bytes(4, "big")
            for key, item in items:
                _msgpack_encode(key, out, depth + 1)
                _msgpack_encode(item, out, depth + 1)
    else:
        out += b"\xc0"


def _msgpack_int(n: int, out: bytearray) -> None:
    if n >= 0:
        if n <= 127:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + bytes([n])
        elif n <= 0xFFFF:
            out += b"\xcd" + n.to_bytes(2, "big")
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + n.to_bytes(4, "big")
        else:
            out += b"\xcf" + n.to_bytes(8, "big")
    else:
        if n >= -32:
            out.append(n & 0xFF)
        elif n >= -128:
            out += b"\xd0" + n.to_bytes(1, "big", signed=True)
        elif n >= -32768:
            out += b"\xd1" + n.to_bytes(2, "big", signed=True)
        elif n >= -(1 << 31):
            out += b"\xd2" + n.to_bytes(4, "big", signed=True)
        else:
            out += b"\xd3" + n.to_bytes(8, "big", signed=True)


class _MsgpackReader:
    def __init__(self, lua: Any, data: bytes, pos: int) -> None:
        self.lua = lua
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise _MsgpackError("Missing bytes in input.")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def value(self) -> Any:
        tag = self.take(1)[0]
        if tag <= 0x7F:
            return tag
        if tag >= 0xE0:
            return tag - 256
        if 0xA0 <= tag <= 0xBF:
            return self.take(tag & 0x1F)
        if 0x90 <= tag <= 0x9F:
            return self.array(tag & 0x0F)
        if 0x80 <= tag <= 0x8F:
            return self.map(tag & 0x0F)
        fixed = {0xCC: (1, False), 0xCD: (2, False), 0xCE: (4, False), 0xCF: (8, False),
                 0xD0: (1, True), 0xD1: (2, True), 0xD2: (4, True), 0xD3: (8, True)}
        if tag in fixed:
            size, signed = fixed[tag]
            number = int.from_bytes(self.take(size), "big", signed=signed)
            return number if abs(number) < (1 << 53) else float(number)
        if tag == 0xC0:
            return None
        if tag == 0xC2:
            return False
        if tag == 0xC3:
            return True
        if tag == 0xCA:
            return pystruct.unpack(">f", self.take(4))[0]
        if tag == 0xCB:
            return pystruct.unpack(">d", self.take(8))[0]
        if tag in (0xD9, 0xC4):
            return self.take(self.take(1)[0])
        if tag in (0xDA, 0xC5):
            return self.take(int.from_bytes(self.take(2), "big"))
        if tag in (0xDB, 0xC6):
            return self.take(int.from_bytes(self.take(4), "big"))
        if tag == 0xDC:
            return self.array(int.from_bytes(self.take(2), "big"))
        if tag == 0xDD:
            return self.array(int.from_bytes(self.take(4), "big"))
        if tag == 0xDE:
            return self.map(int.from_bytes(self.take(2), "big"))
        if tag == 0xDF:
            return self.map(int.from_bytes(self.take(4), "big"))
        raise _MsgpackError("Bad data format in input.")

    def array(self, n: int) -> Any:
        table = self.lua.table_from()
        for index in range(1, n + 1):
            table[index] = self.value()
        return table

    def map(self, n: int) -> Any:
        table = self.lua.table_from()
        for _ in range(n):
            key = self.value()
            item = self.value()
            if key is not None:
                table[key] = item
        return table


def _cmsgpack_functions(lua: Any) -> dict[bytes, Any]:
    def pack(*args: Any) -> bytes:
        if not args:
            raise ArgError("bad argument #0 to 'pack' (MessagePack pack needs input.)")
        out = bytearray()
        for value in args:
            _msgpack_encode(value, out, 0)
        return bytes(out)

    def unpack_full(data: bytes, limit: int, offset: int) -> tuple:
        reader = _MsgpackReader(lua, data, offset)
        values = []
        try:
            while reader.pos < len(data) and (limit <= 0 or len(values) < limit):
                values.append(reader.value())
        except _MsgpackError as error:
            raise ArgError(str(error)) from None
        return reader.pos, values

    def unpack(*args: Any) -> tuple:
        data = _string_arg(args, 0, "unpack")
        _, values = unpack_full(data, 0, 0)
        return tuple(values)

    def unpack_limited(fname: str, limit_from_args: bool) -> Any:
        def fn(*args: Any) -> tuple:
            data = _string_arg(args, 0, fname)
            if limit_from_args:
                limit = int(_number_arg(args, 1, fname))
                offset_index = 2
            else:
                limit, offset_index = 1, 1
            offset = 0
            if len(args) > offset_index and args[offset_index] is not None:
                offset = int(_number_arg(args, offset_index, fname))
            if offset < 0 or offset > len(data):
                raise ArgError(f"bad argument #{offset_index + 1} to '{fname}' (Start offset {offset} greater "
                               f"than input length {len(data)}.)")
            end, values = unpack_full(data, limit, offset)
            return (end if end < len(data) else -1, *values)
        return fn

    return {
        b"pack": pack,
        b"unpack": unpack,
        b"unpack_one": unpack_limited("unpack_one", False),
        b"unpack_limit": unpack_limited("unpack_limit", True),
        b"_NAME": b"cmsgpack",
        b"_VERSION": b"lua-cmsgpack 0.4.0",
        b"_COPYRIGHT": b"Copyright (C) 2012, Salvatore Sanfilippo",
        b"_DESCRIPTION": b"MessagePack C implementation for Lua",
    }


# -- cjson (lua-cjson 2.1.0), in Lua --------------------------------------------------------

_CJSON = r"""
local string_byte, string_char, string_format, string_sub, string_find, string_gsub =
  string.byte, string.char, string.format, string.sub, string.find, string.gsub
local table_concat, type, next, rawget, tonumber, error, select, floor, tostring =
  table.concat, type, next, rawget, tonumber, error, select, math.floor, tostring
local string_lower, huge = string.lower, math.huge
local getinfo, newproxy = ...
local null = newproxy(true)
getmetatable(null).__tostring = function() return 'userdata: (nil)' end

-- Errors at the calling script line, as luaL_error positions them for C functions.
local function script_error(msg)
  local level = 2
  while true do
    local info = getinfo(level, 'Sl')
    if info == nil then break end
    if info.source ~= '=internal' and info.what ~= 'tail' then
      if info.currentline > 0 then msg = info.short_src .. ':' .. info.currentline .. ': ' .. msg end
      break
    end
    level = level + 1
  end
  error(msg, 0)
end

-- Argument errors name the function as luaL_argerror does: '?' when a C function (pcall)
-- called it directly, as Lua then has no name for it.
local function arg_error(msg)
  local info = getinfo(3, 'S')      -- 1: here, 2: the cjson function, 3: its caller
  if info ~= nil and info.what == 'C' then msg = string_gsub(msg, "^(bad argument #%d+ to )'[^']*'", "%1'?'") end
  script_error(msg)
end

local cjson = {_NAME = 'cjson', _VERSION = '2.1.0', null = null}
local max_depth, decode_max_depth, precision = 1000, 1000, 14
local sparse_convert, sparse_ratio, sparse_safe = false, 2, 10
local escapes = {['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b', ['\f'] = '\\f',
                 ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
for i = 0, 31 do
  local c = string_char(i)
  if not escapes[c] then escapes[c] = string_format('\\u%04x', i) end
end
escapes['\127'] = '\\u007f'

local function encode_string(s)
  return '"' .. string_gsub(s, '[%c"\\/]', escapes) .. '"'
end

local function encode_number(n)
  if n ~= n or n == huge or n == -huge then
    script_error('Cannot serialise number: must not be NaN or Inf')
  end
  return string_format('%.' .. precision .. 'g', n)
end

local encode_value
local function encode_table(t, depth, out)
  depth = depth + 1
  if depth > max_depth then script_error('Cannot serialise, excessive nesting (' .. depth .. ')') end
  -- an array when every key is a positive integer
  local max, items, array = 0, 0, true
  local k = next(t)
  while k ~= nil do
    if type(k) == 'number' and k >= 1 and floor(k) == k then
      if k > max then max = k end
      items = items + 1
    else
      array = false
      break
    end
    k = next(t, k)
  end
  if array and max > 0 and sparse_ratio > 0 and max > items * sparse_ratio and max > sparse_safe then
    if not sparse_convert then script_error('Cannot serialise table: excessively sparse array') end
    array = false
  end
  if array and max > 0 then
    out[#out + 1] = '['
    for i = 1, max do
      if i > 1 then out[#out + 1] = ',' end
      encode_value(rawget(t, i), depth, out)
    end
    out[#out + 1] = ']'
    return
  end
  out[#out + 1] = '{'
  local first = true
  local key, value = next(t)
  while key ~= nil do
    if not first then out[#out + 1] = ',' end
    first = false
    local kt = type(key)
    if kt == 'string' then
      out[#out + 1] = encode_string(key)
    elseif kt == 'number' then
      out[#out + 1] = '"' .. encode_number(key) .. '"'
    else
      script_error('Cannot serialise ' .. kt .. ': table key must be a number or string')
    end
    out[#out + 1] = ':'
    encode_value(value, depth, out)
    key, value = next(t, key)
  end
  out[#out + 1] = '}'
end

encode_value = function(v, depth, out)
  local t = type(v)
  if t == 'string' then out[#out + 1] = encode_string(v)
  elseif t == 'number' then out[#out + 1] = encode_number(v)
  elseif t == 'boolean' then out[#out + 1] = v and 'true' or 'false'
  elseif t == 'nil' or v == null then out[#out + 1] = 'null'
  elseif t == 'table' then encode_table(v, depth, out)
  else script_error('Cannot serialise ' .. t .. ': type not supported') end
end

function cjson.encode(...)
  if select('#', ...) ~= 1 then arg_error("bad argument #1 to 'encode' (expected 1 argument)") end
  local out = {}
  encode_value((...), 0, out)
  return table_concat(out)
end

-- decoding
local function token_error(expected, found, pos)
  script_error('Expected ' .. expected .. ' but found ' .. found .. ' at character ' .. pos)
end

local function skip(s, pos)
  local _, e = string_find(s, '^[ \t\r\n]*', pos)
  return e + 1
end

local function utf8(code)
  if code < 0x80 then return string_char(code) end
  if code < 0x800 then return string_char(0xC0 + floor(code / 64), 0x80 + code % 64) end
  if code < 0x10000 then
    return string_char(0xE0 + floor(code / 4096), 0x80 + floor(code / 64) % 64, 0x80 + code % 64)
  end
  return string_char(0xF0 + floor(code / 262144), 0x80 + floor(code / 4096) % 64,
                     0x80 + floor(code / 64) % 64, 0x80 + code % 64)
end

local unescape = {['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t'}

local function token_name(s, pos)
  local c = string_sub(s, pos, pos)
  if c == '' then return 'T_END' end
  if c == '{' then return 'T_OBJ_BEGIN' end
  if c == '}' then return 'T_OBJ_END' end
  if c == '[' then return 'T_ARR_BEGIN' end
  if c == ']' then return 'T_ARR_END' end
  if c == ',' then return 'T_COMMA' end
  if c == ':' then return 'T_COLON' end
  if c == '"' then return 'T_STRING' end
  if string_find(c, '^[%-0-9]') then return 'T_NUMBER' end
  if string_sub(s, pos, pos + 3) == 'true' or string_sub(s, pos, pos + 4) == 'false' then return 'T_BOOLEAN' end
  if string_sub(s, pos, pos + 3) == 'null' then return 'T_NULL' end
  return 'invalid token'
end

local decode_value
local function decode_string(s, pos)
  local parts, i = {}, pos + 1
  while true do
    local c = string_sub(s, i, i)
    if c == '' then token_error('value', 'unexpected end of string', pos) end
    if c == '"' then return table_concat(parts), i + 1 end
    if c == '\\' then
      local e = string_sub(s, i + 1, i + 1)
      if unescape[e] then
        parts[#parts + 1] = unescape[e]
        i = i + 2
      elseif e == 'u' then
        local hex = string_sub(s, i + 2, i + 5)
        if not string_find(hex, '^%x%x%x%x$') then token_error('value', 'invalid unicode escape code', pos) end
        local code = tonumber(hex, 16)
        i = i + 6
        if code >= 0xD800 and code <= 0xDBFF then
          local low = string_sub(s, i, i + 5)
          if not string_find(low, '^\\u[dD][c-fC-F]%x%x$') then
            token_error('value', 'invalid unicode escape code', pos)
          end
          code = 0x10000 + (code - 0xD800) * 1024 + (tonumber(string_sub(low, 3), 16) - 0xDC00)
          i = i + 6
        elseif code >= 0xDC00 and code <= 0xDFFF then
          token_error('value', 'invalid unicode escape code', pos)
        end
        parts[#parts + 1] = utf8(code)
      else
        token_error('value', 'invalid escape code', pos)
      end
    else
      local s2, e2 = string_find(s, '^[^"\\]+', i)
      parts[#parts + 1] = string_sub(s, s2, e2)
      i = e2 + 1
    end
  end
end

local function decode_number(s, pos)
  local _, e = string_find(s, '^[%-+]?[0-9a-fA-FxX%.eEiInN]+', pos)
  local text = string_sub(s, pos, e)
  local n = tonumber(text)
  if n == nil then
    local lower = string_lower(text)
    if lower == 'inf' or lower == 'infinity' or lower == '+inf' then n = huge
    elseif lower == '-inf' or lower == '-infinity' then n = -huge
    elseif lower == 'nan' or lower == '-nan' then n = 0 / 0 end
  end
  if n == nil then token_error('value', 'invalid number', pos) end
  return n, e + 1
end

decode_value = function(s, pos, depth)
  pos = skip(s, pos)
  local c = string_sub(s, pos, pos)
  if c == '"' then return decode_string(s, pos) end
  if c == '{' then
    depth = depth + 1
    if depth > decode_max_depth then script_error('Found too many nested data structures (' .. depth .. ') at character ' .. pos) end
    local t = {}
    pos = skip(s, pos + 1)
    if string_sub(s, pos, pos) == '}' then return t, pos + 1 end
    while true do
      pos = skip(s, pos)
      if string_sub(s, pos, pos) ~= '"' then token_error('object key string', token_name(s, pos), pos) end
      local key
      key, pos = decode_string(s, pos)
      pos = skip(s, pos)
      if string_sub(s, pos, pos) ~= ':' then token_error('colon', token_name(s, pos), pos) end
      local v
      v, pos = decode_value(s, pos + 1, depth)
      t[key] = v
      pos = skip(s, pos)
      local d = string_sub(s, pos, pos)
      if d == '}' then return t, pos + 1 end
      if d ~= ',' then token_error('comma or object end', token_name(s, pos), pos) end
      pos = pos + 1
    end
  end
  if c == '[' then
    depth = depth + 1
    if depth > decode_max_depth then script_error('Found too many nested data structures (' .. depth .. ') at character ' .. pos) end
    local t, n = {}, 0
    pos = skip(s, pos + 1)
    if string_sub(s, pos, pos) == ']' then return t, pos + 1 end
    while true do
      local v
      v, pos = decode_value(s, pos, depth)
      n = n + 1
      t[n] = v
      pos = skip(s, pos)
      local d = string_sub(s, pos, pos)
      if d == ']' then return t, pos + 1 end
      if d ~= ',' then token_error('comma or array end', token_name(s, pos), pos) end
      pos = pos + 1
    end
  end
  if string_find(c, '^[%-0-9]') or string_find(string_lower(string_sub(s, pos, pos + 2)), '^[in][na][fn]') then
    return decode_number(s, pos)
  end
  if string_sub(s, pos, pos + 3) == 'true' then return true, pos + 4 end
  if string_sub(s, pos, pos + 4) == 'false' then return false, pos + 5 end
  if string_sub(s, pos, pos + 3) == 'null' then return null, pos + 4 end
  token_error('value', token_name(s, pos), pos)
end

function cjson.decode(...)
  if select('#', ...) ~= 1 then arg_error("bad argument #1 to 'decode' (expected 1 argument)") end
  local s = ...
  if type(s) == 'number' then s = tostring(s) end
  if type(s) ~= 'string' then
    arg_error("bad argument #1 to 'decode' (string expected, got " .. type(s) .. ")")
  end
  local v, pos = decode_value(s, 1, 0)
  pos = skip(s, pos)
  if pos <= #s then token_error('the end', token_name(s, pos), pos) end
  return v
end

local function setting(get, set)
  return function(...)
    if select('#', ...) > 0 and (...) ~= nil then set(...) end
    return get()
  end
end
cjson.encode_max_depth = setting(function() return max_depth end, function(v) max_depth = v end)
cjson.decode_max_depth = setting(function() return decode_max_depth end, function(v) decode_max_depth = v end)
cjson.encode_number_precision = setting(function() return precision end, function(v) precision = v end)
cjson.encode_sparse_array = function(...)
  local n = select('#', ...)
  local convert, ratio, safe = ...
  if n > 0 and convert ~= nil then sparse_convert = convert and true or false end
  if n > 1 and ratio ~= nil then sparse_ratio = ratio end
  if n > 2 and safe ~= nil then sparse_safe = safe end
  return sparse_convert, sparse_ratio, sparse_safe
end
cjson.encode_keep_buffer = function(...) return true end
cjson.encode_invalid_numbers = function(...) return false end
cjson.decode_invalid_numbers = function(...) return true end
cjson.new = function() return cjson end
return cjson, null
"""


class LuaLibraries:
    """The library tables of one Lua state, and its ``math.random`` generator state."""

    def __init__(self, lua: Any, engine: Any) -> None:
        self.lua = lua
        self.engine = engine
        # Redis's redisLrand48 (the drand48 LCG); the state lives on across scripts.
        self.seed = (int(engine.rng.getrandbits(32)) << 16) | 0x330E

    def _lrand48(self) -> int:
        self.seed = (0x5DEECE66D * self.seed + 0xB) & ((1 << 48) - 1)
        return self.seed >> 17

    def math_random(self, *args: Any) -> tuple:
        value = (self._lrand48() % 0x7FFFFFFF) / 0x7FFFFFFF
        if not args:
            return True, value
        try:
            if len(args) == 1:
                upper = int(_number_arg(args, 0, "random"))
                if upper < 1:
                    return False, b"bad argument #1 to 'random' (interval is empty)"
                return True, math.floor(value * upper) + 1
            if len(args) == 2:
                lower = int(_number_arg(args, 0, "random"))
                upper = int(_number_arg(args, 1, "random"))
                if lower > upper:
                    return False, b"bad argument #2 to 'random' (interval is empty)"
                return True, math.floor(value * (upper - lower + 1)) + lower
        except ArgError as error:
            return False, str(error).encode()
        return False, b"wrong number of arguments"

    def math_randomseed(self, *args: Any) -> tuple:
        try:
            seed = int(_number_arg(args, 0, "randomseed"))
        except ArgError as error:
            return False, str(error).encode()
        self.seed = ((seed & 0xFFFFFFFF) << 16) | 0x330E
        return (True,)

    def tables(self) -> Any:
        """The table of library tables the prelude turns into read-only globals."""
        lua = self.lua
        make = lua.table_from
        bit = make({name: _guard(fn) for name, fn in _bit_functions().items()})
        struct = make({name: _guard(fn) for name, fn in _struct_functions().items()})
        cmsgpack = make({name: (_guard(fn) if callable(fn) else fn)
                         for name, fn in _cmsgpack_functions(lua).items()})
        cjson = lua.execute("return loadstring(...)", _CJSON.encode(), b"=internal")(
            lua.eval("debug.getinfo"), lua.eval("newproxy"))
        return make({b"bit": bit, b"struct": struct, b"cmsgpack": cmsgpack, b"cjson": cjson[0],
                     b"null": cjson[1], b"math_random": self.math_random,
                     b"math_randomseed": self.math_randomseed})
