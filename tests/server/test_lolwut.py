"""LOLWUT compared with the reference: byte for byte where the drawing is not random
(the version line, Schotter's first two rows, a sky too low for buildings), by
structure where it is (sizes, characters, colors, captions)."""

from __future__ import annotations

import random
import re

import pytest

from specredis.engine.lolwut import Canvas, draw_schotter, render_braille
from specredis.protocol.client import RespError

SCHOTTER_TAIL = b"\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"
SKYLINE_TAIL = (b"\nDedicated to the 8 bit game developers of past and present.\n"
                b"Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n")
GRAY = re.compile(rb"\x1b\[0;(?:30;40|90;100|37;47|97;107)m \x1b\[0m")


@pytest.mark.parametrize("protocol", [2, 3])
def test_deterministic_replies_are_identical(specredis, reference, protocol: int) -> None:
    ours, ref = specredis.client(protocol=protocol), reference.client(protocol=protocol)
    commands = [("LOLWUT",), ("lolwut", "version", "7"), ("LOLWUT", "VERSION", "4"), ("LOLWUT", "VERSION", "0"),
                ("LOLWUT", "VERSION", "-1"), ("LOLWUT", "VERSION", "56"), ("LOLWUT", "VERSION"),
                ("LOLWUT", "foo"), ("LOLWUT", "1", "2", "3"), ("LOLWUT", "VERSION", "x"),
                ("LOLWUT", "VERSION", "99999999999999999999"), ("LOLWUT", "VERSION", "5", "x"),
                ("LOLWUT", "VERSION", "5", "10", "x"), ("LOLWUT", "VERSION", "5", "10", "3", "1.5"),
                ("LOLWUT", "VERSION", "6", "x"), ("LOLWUT", "VERSION", "6", "10", " 1"),
                ("LOLWUT", "VERSION", "6", "1", "1"), ("LOLWUT", "VERSION", "6", "0", "-3"),
                ("LOLWUT", "VERSION", "6", "7", "1"), ("LOLWUT", "VERSION", "6", "2000", "1", "ignored"),
                ("LOLWUT", "VERSION", "5", "1", "1", "1"), ("LOLWUT", "VERSION", "4294967301", "1", "1", "1"),
                ("LOLWUT", "VERSION", "5", "66", "8", "2"), ("LOLWUT", "VERSION", "5", "66", "8", "2", "extra")]
    for command in commands:
        assert ours.call(*command) == ref.call(*command), command
    assert isinstance(ours.call("LOLWUT", "VERSION", "x"), RespError)


def test_schotter_first_rows_are_byte_identical(specredis, reference) -> None:
    """Rows 0 and 1 are never turned or moved: every size and count must draw the same pixels."""
    ours, ref = specredis.client(), reference.client()
    mismatches = []
    shapes = [(cols, per_row, per_col) for cols in (1, 2, 3, 4, 5, 9, 33, 66, 80, 157, -7)
              for per_row in (1, 2, 3, 7, 8, 13, 64, 200, 201, 0) for per_col in (1, 2, -1)]
    # The limits: 1000 columns (2000 pixels wide), 200 squares a row.
    shapes += [(1000, 200, 2), (1001, 201, 1), (1000, 64, 2), (5000, 150, 1)]
    for cols, per_row, per_col in shapes:
        command = ("LOLWUT", "VERSION", "5", str(cols), str(per_row), str(per_col))
        if ours.call(*command) != ref.call(*command):
            mismatches.append(command)
    assert mismatches == []


def _braille_lines(reply: bytes) -> list[str]:
    assert reply.endswith(SCHOTTER_TAIL)
    return reply[:-len(SCHOTTER_TAIL)].decode().split("\n")


@pytest.mark.parametrize("args", [(), ("40",), ("40", "5"), ("30", "6", "9"), ("20", "3", "200")])
def test_schotter_structure(specredis, reference, args: tuple[str, ...]) -> None:
    command = ("LOLWUT", "VERSION", "5", *args)
    ours, ref = _braille_lines(specredis.client().call(*command)), _braille_lines(reference.client().call(*command))
    assert [len(line) for line in ours] == [len(line) for line in ref]
    assert all(0x2800 <= ord(ch) <= 0x28FF for line in ours for ch in line)
    # The orderly top rows are the same; the drawing is not empty below them.
    assert ours[:2] == ref[:2]
    assert any(ch != "\u2800" for line in ours[4:] for ch in line)


def _gray_rows(reply: bytes) -> list[list[bytes]]:
    assert reply.endswith(SKYLINE_TAIL)
    return [GRAY.findall(line) for line in reply[:-len(SKYLINE_TAIL)].split(b"\n")]


@pytest.mark.parametrize("args", [(), ("40",), ("60", "30"), ("5", "3"), ("150", "2")])
def test_skyline_structure(specredis, reference, args: tuple[str, ...]) -> None:
    command = ("LOLWUT", "VERSION", "6", *args)
    ours_reply, ref_reply = specredis.client().call(*command), reference.client().call(*command)
    ours, ref = _gray_rows(ours_reply), _gray_rows(ref_reply)
    assert [len(row) for row in ours] == [len(row) for row in ref]
    # Nothing but colored cells: each row is exactly its cells.
    body = ours_reply[:-len(SKYLINE_TAIL)].split(b"\n")
    assert [b"".join(row) for row in ours] == body
    # The sky (top rows, white) is above every building.
    white = b"\x1b[0;97;107m \x1b[0m"
    assert set(ours[0]) == {white} == set(ref[0])


def test_rendering_braille_cells() -> None:
    """Each 2x4 block of pixels is one character; bit n of its code from U+2800 is one dot."""
    canvas = Canvas(4, 5)
    for x, y in ((0, 0), (0, 1), (1, 0), (3, 3), (2, 4)):
        canvas.draw_pixel(x, y, 1)
    assert render_braille(canvas).decode() == "\u280b\u2880\n\u2800\u2801"
    # A single-row canvas ends without a newline; the caption starts with one.
    assert render_braille(Canvas(2, 1)) == "\u2800".encode()


def test_schotter_grows_more_disordered_downwards() -> None:
    """A row-by-row check of the drawing itself: the first two rows never depend on chance."""
    first = draw_schotter(40, 6, 10, random.Random(1))
    second = draw_schotter(40, 6, 10, random.Random(2))
    assert first.pixels[:first.width * 20] == second.pixels[:second.width * 20]
    assert first.pixels != second.pixels
