"""LOLWUT [VERSION v] [arguments]: computer art and the server version (lolwut*.c).

Redis 7.0.15 has drawings for versions 5 and 6; any other version (its own,
7, by default) answers just ``Redis ver. 7.0.15``. ``VERSION v`` picks the
drawing; the arguments after it are the drawing's own:

* version 5, Georg Nees's *Schotter*: ``[columns [squares-per-row [squares-per-column]]]``
  (66, 8, 12), squares drawn on a canvas of pixels rendered as Braille characters
  (2x4 pixels each); from the third row down they are turned and moved at random,
  more as they go down.
* version 6, a city skyline after the 8 bit game Plaguemon: ``[columns [rows]]``
  (80, 20), one pixel per character cell in four grays (ANSI colors).

The randomness is the drawing's, as in Redis; the first two rows of Schotter are
not random, and neither is a sky too low for any building (one row).
"""

from __future__ import annotations

import math
import random
import struct

from specredis.engine.args import parse_int
from specredis.engine.client import Client
from specredis.engine.info import VERSION as REDIS_VERSION
from specredis.protocol.replies import Verbatim

SCHOTTER_CAPTION = "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "
SKYLINE_CAPTION = ("\nDedicated to the 8 bit game developers of past and present.\n"
                   "Original 8 bit image from Plaguemon by hikikomori. Redis ver. ")


def _f32(value: float) -> float:
    """``value`` rounded to a C float: the drawing code computes in single precision."""
    return struct.unpack("f", struct.pack("f", value))[0]


class Canvas:
    """A width x height grid of small integer colors (lwCanvas); drawing outside is ignored."""

    __slots__ = ("width", "height", "pixels")

    def __init__(self, width: int, height: int, background: int = 0) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray([background]) * (width * height)

    def draw_pixel(self, x: int, y: int, color: int) -> None:
        """Set one pixel (lwDrawPixel)."""
        if 0 <= x < self.width and 0 <= y < self.height:
            self.pixels[x + y * self.width] = color

    def get_pixel(self, x: int, y: int) -> int:
        """One pixel's color; 0 outside the canvas (lwGetPixel)."""
        if 0 <= x < self.width and 0 <= y < self.height:
            return self.pixels[x + y * self.width]
        return 0

    def draw_line(self, x1: int, y1: int, x2: int, y2: int, color: int) -> None:
        """Bresenham's line, both ends included."""
        width, height, pixels = self.width, self.height, self.pixels
        dx, dy = abs(x2 - x1), abs(y2 - y1)
        sx = 1 if x1 < x2 else -1
        sy = 1 if y1 < y2 else -1
        err = dx - dy
        while True:
            if 0 <= x1 < width and 0 <= y1 < height:
                pixels[x1 + y1 * width] = color
            if x1 == x2 and y1 == y2:
                return
            e2 = err * 2
            if e2 > -dy:
                err -= dy
                x1 += sx
            if e2 < dx:
                err += dx
                y1 += sy

    def draw_square(self, x: int, y: int, corners: list[tuple[float, float]], color: int) -> None:
        """The outline through four corners, given as offsets from (x, y) (see square_corners)."""
        points = [(_c_round(dx + x), _c_round(dy + y)) for dx, dy in corners]
        for j in range(4):
            (ax, ay), (bx, by) = points[j], points[(j + 1) % 4]
            self.draw_line(ax, ay, bx, by, color)


QUARTERS = (0.0, math.pi / 2, math.pi, 3 * math.pi / 2)


def square_radius(side: float) -> float:
    """The distance from a square's center to its corners, rounded to pixels as Redis does."""
    return _f32(_c_round(_f32(side / 1.4142135623)))


def square_corners(radius: float, angle: float) -> list[tuple[float, float]]:
    """The corners of a square turned by ``angle`` radians, as offsets from its center.

    Redis computes the angle in single precision: for the squares that are not turned
    that decides which pixel a corner rounds to."""
    k = _f32(math.pi / 4 + angle)
    corners = []
    for _ in range(4):
        corners.append((math.sin(k) * radius, math.cos(k) * radius))
        k = _f32(k + math.pi / 2)
    return corners


def _c_round(value: float) -> int:
    """C's round(): halves away from zero (Python's round() goes to even)."""
    return int(math.floor(value + 0.5)) if value >= 0 else -int(math.floor(-value + 0.5))


# -- version 5: Schotter ---------------------------------------------------------------------

# A Braille character shows 2x4 pixels; bit n of its code (from U+2800) is the dot at:
# (0,0)=0 (0,1)=1 (0,2)=2 (1,0)=3 (1,1)=4 (1,2)=5 (0,3)=6 (1,3)=7, as (dx, dy).
_BRAILLE_DOTS = ((0, 0, 0), (0, 1, 1), (0, 2, 2), (1, 0, 3), (1, 1, 4), (1, 2, 5), (0, 3, 6), (1, 3, 7))
_BRAILLE = [chr(0x2800 + bits).encode() for bits in range(256)]
_DOT_SET = bytes([0] + [1] * 255)       # bytes.translate table: any color but 0 is a dot


def render_braille(canvas: Canvas) -> bytes:
    """The canvas as lines of Braille characters, four pixel rows a line (lolwut.c renderCanvas)."""
    width, height, pixels = canvas.width, canvas.height, canvas.pixels
    cells = (width + 1) // 2
    lines = []
    for y in range(0, height, 4):
        # Each pixel row, split into its even and odd columns, becomes one big integer whose
        # bytes are 0/1: shifting it by a dot's bit number and OR-ing all eight gives the
        # bytes of the Braille codes of the whole line at once.
        code = 0
        for dx, dy, bit in _BRAILLE_DOTS:
            row_y = y + dy
            if row_y >= height:
                continue
            row = pixels[row_y * width:(row_y + 1) * width]
            column = bytes(row[dx::2]).translate(_DOT_SET).ljust(cells, b"\0")
            code |= int.from_bytes(column, "big") << bit
        line = b"".join([_BRAILLE[b] for b in code.to_bytes(cells, "big")])
        lines.append(line + b"\n" if y != height - 1 else line)
    return b"".join(lines)


def draw_schotter(console_cols: int, squares_per_row: int, squares_per_col: int, rng: random.Random) -> Canvas:
    """Rows of squares, more disordered further down (lwDrawSchotter)."""
    canvas_width = console_cols * 2
    padding = 2 if canvas_width > 4 else 0
    square_side = _f32((canvas_width - padding * 2) / squares_per_row)
    canvas_height = int(_f32(square_side * squares_per_col) + padding * 2)
    canvas = Canvas(canvas_width, canvas_height, 0)
    half = _f32(square_side / 2)
    # Square centers, in single precision as Redis computes them (exact for the first rows).
    centers_x = [int(_f32(_f32(_f32(x * square_side) + half) + padding)) for x in range(squares_per_row)]
    radius = square_radius(square_side)
    upright = square_corners(radius, 0.0)
    shift_scale = square_side / 3
    sin, cos = math.sin, math.cos

    def random_amount() -> float:
        """A random amount in [-1, 1]: a magnitude, then a sign."""
        amount = rng.random()
        return amount if rng.getrandbits(1) else -amount

    for y in range(squares_per_col):
        sy_row = int(_f32(_f32(_f32(y * square_side) + half) + padding))
        # From the third row down each square is turned and moved at random, by up to
        # y / squares_per_col of a radian and of a third of its side.
        spread = y / squares_per_col
        for sx in centers_x:
            sy = sy_row
            if y > 1:
                angle = random_amount() * spread
                sx = int(sx + random_amount() * spread * shift_scale)
                sy = int(sy + random_amount() * spread * shift_scale)
                # Turned at random: single precision would change nothing that matters here.
                k = math.pi / 4 + angle
                corners = [(sin(k + quarter) * radius, cos(k + quarter) * radius) for quarter in QUARTERS]
                canvas.draw_square(sx, sy, corners, 1)
            else:
                canvas.draw_square(sx, sy, upright, 1)
    return canvas


def lolwut5(args: list[bytes], rng: random.Random) -> bytes:
    """LOLWUT VERSION 5 [columns [squares-per-row [squares-per-column]]]"""
    cols, per_row, per_col = 66, 8, 12
    if len(args) > 0:
        cols = parse_int(args[0])
    if len(args) > 1:
        per_row = parse_int(args[1])
    if len(args) > 2:
        per_col = parse_int(args[2])
    # Limits keep LOLWUT fast whatever is asked.
    cols = min(max(cols, 1), 1000)
    per_row = min(max(per_row, 1), 200)
    per_col = min(max(per_col, 1), 200)
    canvas = draw_schotter(cols, per_row, per_col, rng)
    return render_braille(canvas) + f"{SCHOTTER_CAPTION}{REDIS_VERSION}\n".encode()


# -- version 6: the skyline ------------------------------------------------------------------

# Four grays, each set as foreground and background so every terminal shows a full cell.
_GRAYS = [f"\033[{escape} \033[0m".encode() for escape in ("0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m")]


def _draw_skyscraper(canvas: Canvas, xoff: int, width: int, height: int, windows: bool, color: int,
                     rng: random.Random) -> None:
    """One building standing on the bottom row; its roof is two pixels narrower on each side.

    Windows (in the inner part only, away from the walls, roof and ground) are two pixels
    wide and one tall, as terminal cells are not square: every other pair of columns on
    every other row, lit at random in one of the two grays, both pixels of a pair alike."""
    canvas_width, pixels = canvas.width, canvas.pixels
    starty = canvas.height - 1
    endy = starty - height + 1
    for y in range(starty, max(endy, 0) - 1, -1):
        low, high = (xoff + 2, xoff + width - 2) if y == endy else (xoff, xoff + width)
        low, high = max(low, 0), min(high, canvas_width)
        if low >= high:
            continue
        row = y * canvas_width
        pixels[row + low:row + high] = bytes((color,)) * (high - low)
        if not windows or not endy + 1 < y < starty - 1 or not (y - (endy + 1)) % 2:
            continue
        # Window pairs start where x - (xoff + 1) is 2 modulo 4.
        for x in range(xoff + 3, xoff + width - 2, 4):
            if 0 <= x < canvas_width:
                pixels[row + x] = 1 + rng.getrandbits(1)
            second = x + 1
            if second < xoff + width - 2 and 0 <= second < canvas_width:
                pixels[row + second] = pixels[row + x] if x >= 0 else 0


def draw_skyline(canvas: Canvas, rng: random.Random) -> None:
    """Two rows of plain buildings in the grays (lighter behind), then dark ones with windows."""
    height = canvas.height

    def rand() -> int:
        return rng.getrandbits(31)      # as C's rand(): 0 .. 2**31 - 1

    for color in (2, 1):
        offset = -10
        while offset < canvas.width:
            offset += rand() % 8
            width = 10 + rand() % 9
            if color == 2:
                tall = height // 2 + (rand() % height) // 2
            else:
                tall = height // 2 + (rand() % height) // 3
            _draw_skyscraper(canvas, offset, width, tall, False, color, rng)
            offset += width // 2 if color == 2 else width + 1
    offset = -10
    while offset < canvas.width:
        offset += rand() % 8
        width = 5 + rand() % 14
        if width % 4:
            width += width % 3
        tall = height // 3 + (rand() % height) // 2
        _draw_skyscraper(canvas, offset, width, tall, True, 0, rng)
        offset += width + 5


def render_grays(canvas: Canvas) -> bytes:
    """One colored space per pixel, a line per pixel row (lolwut6.c renderCanvas)."""
    width, pixels = canvas.width, canvas.pixels
    grays = _GRAYS
    lines = [b"".join([grays[p] if p < 4 else grays[0] for p in pixels[y * width:(y + 1) * width]])
             for y in range(canvas.height)]
    return b"\n".join(lines)


def lolwut6(args: list[bytes], rng: random.Random) -> bytes:
    """LOLWUT VERSION 6 [columns [rows]]"""
    cols, rows = 80, 20
    if len(args) > 0:
        cols = parse_int(args[0])
    if len(args) > 1:
        rows = parse_int(args[1])
    cols = min(max(cols, 1), 1000)
    rows = min(max(rows, 1), 1000)
    canvas = Canvas(cols, rows, 3)
    draw_skyline(canvas, rng)
    return render_grays(canvas) + f"{SKYLINE_CAPTION}{REDIS_VERSION}\n".encode()


# -- the command -------------------------------------------------------------------------------

_rng = random.Random()


def lolwut_command(client: Client, argv: list[bytes]) -> Verbatim:
    """LOLWUT [VERSION version]"""
    version = None
    args = argv[1:]
    if len(argv) >= 3 and argv[1].lower() == b"version":
        # Redis formats the version as an unsigned int: only 5 and 6 (modulo 2**32) draw.
        version = parse_int(argv[2]) & 0xFFFFFFFF
        args = argv[3:]
    if version == 5:
        return Verbatim(lolwut5(args, _rng))
    if version == 6:
        return Verbatim(lolwut6(args, _rng))
    return Verbatim(f"Redis ver. {REDIS_VERSION}\n")
