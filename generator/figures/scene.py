"""A laid-out figure: shapes and text at coordinates, what every format draws.

Coordinates are points (1/72.27 in for TeX, a CSS pt for SVG: close enough), x to the
right and y down, from the top left corner of a `width` × `height` box.  Colours are
roles, named in `COLOURS`; each writer maps them to its own notation.  Every number is
rounded to two decimals when written, so that the same figure gives the same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

from .labels import Label

__all__ = ["COLOURS", "FONT_SIZE", "Curve", "Dot", "Line", "Rect", "Scene", "Text", "arrowhead", "mix"]

#: The text size of every figure, in points.
FONT_SIZE = 9.0
#: The widest a figure is laid out, in points (the text width of the narrowest page).
MAX_WIDTH = 460.0

#: Colour roles → RGB.
COLOURS = {
    "ink": (0, 0, 0),
    "grey": (120, 120, 120),
    "rule": (170, 170, 170),
    "grad": (176, 32, 32),              # gradients: red
    "tone0": (198, 222, 246),           # highlights: blue, orange, grey
    "tone1": (252, 212, 160),
    "tone2": (225, 225, 225),
    "node": (246, 246, 246),
    "curve0": (25, 90, 170),
    "curve1": (200, 90, 20),
    "white": (255, 255, 255),
    "heat": (40, 100, 190),
}


def mix(role: str, share: float) -> tuple[int, int, int]:
    """`share` (0 to 1) of colour `role` over white, as RGB."""
    share = min(1.0, max(0.0, share))
    return tuple(round(255 + (c - 255) * share) for c in COLOURS[role])


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: tuple | str | None = None        # a role or an RGB triple
    stroke: str | None = "ink"
    radius: float = 0.0
    width: float = 0.4


@dataclass(frozen=True)
class Line:
    """A polyline; `arrow`: an arrowhead at its end."""
    points: tuple[tuple[float, float], ...]
    stroke: str = "ink"
    width: float = 0.5
    dashed: bool = False
    arrow: bool = False


@dataclass(frozen=True)
class Curve:
    """Cubic Bézier segments: start, then (control, control, end) triples; `arrow`: an
    arrowhead at its end."""
    points: tuple[tuple[float, float], ...]
    stroke: str = "ink"
    width: float = 0.5
    arrow: bool = False


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    fill: str = "ink"


@dataclass(frozen=True)
class Text:
    """A label with its baseline at y; anchor "start", "middle" or "end" at x."""
    x: float
    y: float
    label: Label
    anchor: str = "middle"
    colour: str = "ink"


@dataclass(frozen=True)
class Scene:
    width: float
    height: float
    items: tuple
    description: str = ""                   # plain text: what the figure shows (SVG <title>)

    def texts(self) -> tuple[Label, ...]:
        return tuple(i.label for i in self.items if isinstance(i, Text))


#: An arrowhead's length and half its width, in points.
ARROW_LENGTH, ARROW_HALF_WIDTH = 5.0, 2.0


def arrowhead(before: tuple[float, float], tip: tuple[float, float]):
    """The three corners of an arrowhead at `tip`, pointing away from `before`."""
    dx, dy = tip[0] - before[0], tip[1] - before[1]
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / length, dy / length
    bx, by = tip[0] - ux * ARROW_LENGTH, tip[1] - uy * ARROW_LENGTH
    return (tip, (round(bx - uy * ARROW_HALF_WIDTH, 2), round(by + ux * ARROW_HALF_WIDTH, 2)),
            (round(bx + uy * ARROW_HALF_WIDTH, 2), round(by - ux * ARROW_HALF_WIDTH, 2)))
