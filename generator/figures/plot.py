"""Function plots, laid out here: each axes a box of fixed size with ticks at round
numbers, each curve sampled in float64 (SymPy's lambdify) and clipped to the box, marks as
dots at their exact coordinates, a legend above.  Axes sit side by side, in rows when they
do not fit the text width.  (matplotlib would draw its own text in its own fonts; the
geometry of a plot is simple enough to compute, and the PDF and SVG then set every label in
the document's own fonts.)"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from ..core.figures import Axes, Plot
from ..core.numeric import floats
from .labels import math_label, number_label, plain_text
from .scene import FONT_SIZE, MAX_WIDTH, Dot, Line, Rect, Scene, Text

__all__ = ["plot_scene", "sample"]

BOX_W, BOX_H = 150.0, 96.0        # the plotting area of one axes, in points
LEFT, RIGHT = 26.0, 8.0           # room for the y tick labels, and after the box
TOP, BOTTOM = 14.0, 26.0          # room for the title, and for x ticks and label
LEGEND = 13.0                     # one legend line
GAP = 14.0                        # between axes
SAMPLES = 160
TICK_STEPS = (1, 2, 2.5, 5)


@lru_cache(maxsize=256)
def _function(expr, var):
    return sp.lambdify(var, expr, "math")


def sample(curve, low: float, high: float) -> tuple[tuple[tuple[float, float], ...], ...]:
    """The curve as runs of (x, y) points over [low, high], split at its breaks."""
    return _sample(curve.expr, curve.var, curve.breaks, low, high)


@lru_cache(maxsize=256)
def _sample(expr, var, breaks, low: float, high: float):
    # cached: a plot is laid out for the key and for the question sheet, its y range from
    # the same samples, and the same curves over the same range recur from variant to variant
    f = _function(sp.sympify(expr), var)
    cuts = sorted(float(b) for b in breaks if low < float(b) < high)
    edges = [low, *cuts, high]
    runs = []
    span = (high - low) / SAMPLES
    for a, b in zip(edges, edges[1:]):
        count = max(2, int((b - a) / span) + 1)
        # just inside a break, so that each side takes its own value
        inset_a = a + 1e-9 * (high - low) if a in cuts else a
        inset_b = b - 1e-9 * (high - low) if b in cuts else b
        xs = [inset_a + (inset_b - inset_a) * k / (count - 1) for k in range(count)]
        runs.append(tuple((x, float(f(x))) for x in xs))
    return tuple(runs)


def _ticks(low: float, high: float, most: int = 6) -> list[Fraction]:
    """Round tick values in [low, high], at most `most` of them."""
    span = high - low
    scale = 10 ** math.floor(math.log10(span / most)) if span > 0 else 1
    for step in (Fraction(s).limit_denominator(4) * Fraction(scale).limit_denominator(10 ** 9)
                 for s in (*TICK_STEPS, 10)):
        first = math.ceil(Fraction(low) / step)
        last = math.floor(Fraction(high) / step)
        if last - first + 1 <= most:
            return [step * k for k in range(first, last + 1)]
    return [Fraction(low), Fraction(high)]


def _y_range(axes: Axes, low: float, high: float) -> tuple[float, float]:
    if axes.y_range is not None:
        return tuple(float(v) for v in axes.y_range)
    values = [y for c in axes.curves for run in sample(c, low, high) for _, y in run
              if math.isfinite(y)]
    values += [floats(m.y)[0] for m in axes.marks]
    bottom, top = min(values), max(values)
    pad = 0.08 * (top - bottom or 1.0)
    return bottom - pad, top + pad


def _clipped(points, y_low, y_high) -> list[list[tuple[float, float]]]:
    """Runs of a polyline inside y_low ≤ y ≤ y_high (cut where it leaves)."""
    runs, current = [], []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        inside0, inside1 = y_low <= y0 <= y_high, y_low <= y1 <= y_high
        if inside0:
            current = current or [(x0, y0)]
        if inside0 and inside1:
            current.append((x1, y1))
            continue
        if inside0 != inside1:
            edge = y_high if max(y0, y1) > y_high else y_low
            t = (edge - y0) / (y1 - y0)
            point = (x0 + t * (x1 - x0), edge)
            if inside0:
                current.append(point)
                runs.append(current)
                current = []
            else:
                current = [point, (x1, y1)]
    if len(current) > 1:
        runs.append(current)
    return [r for r in runs if len(r) > 1]


@lru_cache(maxsize=256)
def _curve_lines(expr, var, breaks, dashed: bool, colour: str, frame: tuple) -> tuple[Line, ...]:
    """A curve's polylines in an axes box: `frame` is its x range, its y range and the
    box's top left corner.  Cached: the key and the question sheet draw the same curves,
    and so, over the same ranges, do many variants."""
    low, high, y_low, y_high, box_x, box_y = frame
    to_x = lambda x: round(box_x + (x - low) / (high - low) * BOX_W, 2)
    to_y = lambda y: round(box_y + (y_high - y) / (y_high - y_low) * BOX_H, 2)
    return tuple(Line(tuple((to_x(x), to_y(y)) for x, y in part), colour, 1.0, dashed)
                 for run in _sample(expr, var, breaks, low, high)
                 for part in _clipped(run, y_low, y_high))


def _axes_items(axes: Axes, ox: float, oy: float, digits: int) -> tuple[list, float]:
    """The items of one axes with its top left corner at (ox, oy), and its height."""
    low, high = (float(v) for v in axes.x_range)
    y_low, y_high = _y_range(axes, low, high)
    legend = LEGEND if axes.curves else 0.0
    box_x, box_y = ox + LEFT, oy + TOP + legend
    to_x = lambda x: round(box_x + (x - low) / (high - low) * BOX_W, 2)
    to_y = lambda y: round(box_y + (y_high - y) / (y_high - y_low) * BOX_H, 2)
    items: list = [Rect(box_x, box_y, BOX_W, BOX_H, None, "rule", 0.0, 0.4)]
    if axes.title:
        items.append(Text(round(box_x + BOX_W / 2, 2), round(oy + 0.9 * FONT_SIZE, 2),
                          math_label(axes.title)))
    for tick in _ticks(low, high):
        x = to_x(float(tick))
        items.append(Line(((x, box_y + BOX_H), (x, box_y + BOX_H + 2.5)), "grey", 0.4))
        items.append(Text(x, round(box_y + BOX_H + 2.5 + FONT_SIZE, 2),
                          number_label(sp.Rational(tick.numerator, tick.denominator), digits)))
    for tick in _ticks(y_low, y_high, 5):
        y = to_y(float(tick))
        items.append(Line(((box_x - 2.5, y), (box_x, y)), "grey", 0.4))
        items.append(Text(round(box_x - 4, 2), round(y + 0.32 * FONT_SIZE, 2),
                          number_label(sp.Rational(tick.numerator, tick.denominator), digits),
                          "end"))
    if low < 0 < high:                                       # the axis x = 0
        items.append(Line(((to_x(0), box_y), (to_x(0), box_y + BOX_H)), "rule", 0.4))
    if y_low < 0 < y_high:                                   # the axis y = 0
        items.append(Line(((box_x, to_y(0)), (box_x + BOX_W, to_y(0))), "rule", 0.4))
    if axes.x_label:
        items.append(Text(round(box_x + BOX_W, 2), round(box_y + BOX_H + 2.5 + 2.1 * FONT_SIZE, 2),
                          math_label(axes.x_label), "end"))
    if axes.y_label:
        items.append(Text(round(box_x + 3, 2), round(box_y - 3, 2), math_label(axes.y_label),
                          "start"))
    x_legend = box_x
    for k, curve in enumerate(axes.curves):
        colour = f"curve{k % 2}"
        items += _curve_lines(curve.expr, curve.var, curve.breaks, curve.dashed, colour,
                              (low, high, y_low, y_high, box_x, box_y))
        y = round(oy + TOP + 0.75 * FONT_SIZE, 2)
        items.append(Line(((x_legend, round(y - 3, 2)), (x_legend + 14, round(y - 3, 2))),
                          colour, 1.0, curve.dashed))
        label = math_label(curve.label)
        items.append(Text(x_legend + 17, y, label, "start"))
        x_legend += 17 + label.width * FONT_SIZE + 10
    for mark in axes.marks:
        x, y = floats(mark.x)[0], floats(mark.y)[0]
        if low <= x <= high and y_low <= y <= y_high:
            items.append(Dot(to_x(x), to_y(y), 2.0, "ink"))
            if mark.label:
                items.append(Text(to_x(x) + 3.5, to_y(y) - 3.5, math_label(mark.label), "start"))
    return items, TOP + legend + BOX_H + BOTTOM


def plot_scene(plot: Plot) -> Scene:
    width_one = LEFT + BOX_W + RIGHT
    per_row = max(1, int((MAX_WIDTH + GAP) // (width_one + GAP)))
    items: list = []
    y, width = 0.0, 0.0
    for start in range(0, len(plot.axes), per_row):
        row = plot.axes[start:start + per_row]
        height = 0.0
        for k, axes in enumerate(row):
            part, h = _axes_items(axes, k * (width_one + GAP), y, plot.digits)
            items += part
            height = max(height, h)
        width = max(width, len(row) * width_one + (len(row) - 1) * GAP)
        y += height + GAP
    titles = ", ".join(plain_text(a.title) for a in plot.axes if a.title)
    return Scene(round(width, 2), round(y - GAP, 2), tuple(items),
                 "Plot" + (f" of {titles}" if titles else ""))
