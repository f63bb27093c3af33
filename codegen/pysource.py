"""Deterministic Python source for literal values and typed reply trees.

Used by the templates (as the ``py`` filter) so that generated modules are byte-stable:
a value fits on one line when it can, otherwise each element gets its own line with a
trailing comma. Handles ``None``/bools/ints/strs/bytes, lists, tuples, dicts, the typed
replies :class:`Status`, :class:`Set` and :class:`Map`, and :class:`Ref` (a name emitted
as is, to share objects between entries).
"""

from __future__ import annotations

from typing import Any

from specredis.protocol.replies import Map, Set, Status

WIDTH = 110
INDENT = "    "


class Ref:
    """A bare Python expression (usually a module-level name) to emit instead of a literal."""

    __slots__ = ("expr",)

    def __init__(self, expr: str) -> None:
        self.expr = expr

    def __repr__(self) -> str:
        return self.expr


def _flat(value: Any) -> str:
    """The one-line form."""
    if value is None or isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str | bytes):
        return repr(value)
    if isinstance(value, Ref):
        return value.expr
    if isinstance(value, Status):
        return f"Status({value.text!r})"
    if isinstance(value, Set):
        return f"Set({_flat(list(value.items))})"
    if isinstance(value, Map):
        return f"Map({_flat([tuple(p) for p in value.pairs])})"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    if isinstance(value, tuple):
        if len(value) == 1:
            return "(" + _flat(value[0]) + ",)"
        return "(" + ", ".join(_flat(v) for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flat(k)}: {_flat(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot render {type(value).__name__} as Python source")


def source(value: Any, indent: int = 0, width: int = WIDTH) -> str:
    """Python source for ``value``, laid out for a line starting at ``indent`` levels.

    The first line is not indented (the caller places it); continuation lines are.
    """
    flat = _flat(value)
    if len(flat) + len(INDENT) * indent <= width:
        return flat
    pad = INDENT * (indent + 1)
    end = INDENT * indent
    if isinstance(value, Set):
        return "Set(" + source(list(value.items), indent, width - 4) + ")"
    if isinstance(value, Map):
        return "Map(" + source([tuple(p) for p in value.pairs], indent, width - 4) + ")"
    if isinstance(value, list | tuple) and value:
        items = [source(v, indent + 1, width) for v in value]
        open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
        return open_ + "\n" + "".join(f"{pad}{item},\n" for item in items) + end + close
    if isinstance(value, dict) and value:
        items = [f"{_flat(k)}: {source(v, indent + 1, width)}" for k, v in value.items()]
        return "{\n" + "".join(f"{pad}{item},\n" for item in items) + end + "}"
    if isinstance(value, str | bytes) and len(value) > 40:
        # Split long text into implicitly concatenated pieces at spaces.
        chunks = _split_text(value, width - len(pad) - 4)
        if len(chunks) > 1:
            return "(\n" + "".join(f"{pad}{chunk!r}\n" for chunk in chunks) + end + ")"
    return flat


def _split_text(text: str | bytes, size: int) -> list[str | bytes]:
    size = max(size, 20)
    space = " " if isinstance(text, str) else b" "
    chunks: list[str | bytes] = []
    while len(text) > size:
        cut = text.rfind(space, 0, size)
        if cut <= 0:
            cut = size
        else:
            cut += 1
        chunks.append(text[:cut])
        text = text[cut:]
    chunks.append(text)
    return chunks
