"""Grids of numbers, laid out here: each panel a block of equal cells with its label above
and its row notes to the right, panels side by side (in rows when they do not fit the
text width), arrows from cells of one panel to cells of another."""
from __future__ import annotations

from ..core.figures import Grid, Panel
from ..core.numeric import floats
from .labels import math_label, number_label, plain_text
from .scene import FONT_SIZE, Curve, Line, Rect, Scene, Text, mix

__all__ = ["grid_scene"]

CELL_H = 1.75 * FONT_SIZE
CELL_PAD = 0.6 * FONT_SIZE
MIN_CELL_W = 2.6 * FONT_SIZE
LABEL_H = 1.6 * FONT_SIZE          # the panel's label above its cells
GAP = 2.6 * FONT_SIZE              # between panels (room for an arrow)
ROW_GAP = 1.2 * FONT_SIZE
MAX_WIDTH = 460.0
HEAT_MAX = 0.75                    # the share of blue of the largest value
TONES = ("tone0", "tone1", "tone2")


def _cell_width(panel: Panel, digits: int) -> float:
    widths = [number_label(v, digits).width for row in panel.values for v in row if v is not None]
    return max(MIN_CELL_W, max(widths, default=0.0) * FONT_SIZE + 2 * CELL_PAD)


def _notes_width(panel: Panel, digits: int) -> float:
    if not panel.notes:
        return 0.0
    widths = [number_label(v, digits).width for v in panel.notes]
    if panel.notes_label:
        widths.append(math_label(panel.notes_label).width)
    return max(widths) * FONT_SIZE + 1.4 * FONT_SIZE


def _size(panel: Panel, digits: int) -> tuple[float, float]:
    rows, cols = panel.shape
    return (cols * _cell_width(panel, digits) + _notes_width(panel, digits),
            LABEL_H + rows * CELL_H)


def _panel_items(panel: Panel, ox: float, oy: float, digits: int) -> list:
    rows, cols = panel.shape
    cw = _cell_width(panel, digits)
    top = oy + LABEL_H
    items: list = [Text(round(ox + cols * cw / 2, 2), round(oy + 1.05 * FONT_SIZE, 2),
                        math_label(panel.label))]
    fills = {}
    if panel.heat:
        numbers = [floats(v)[0] for row in panel.values for v in row if v is not None]
        low, high = min(numbers), max(numbers)
        for r, row in enumerate(panel.values):
            for c, v in enumerate(row):
                if v is not None:
                    share = (floats(v)[0] - low) / (high - low) if high > low else 1.0
                    fills[(r, c)] = mix("heat", 0.08 + (HEAT_MAX - 0.08) * share)
    for highlight in panel.highlights:
        for cell in highlight.cells:
            fills[cell] = TONES[highlight.tone]
    for r, row in enumerate(panel.values):
        for c, v in enumerate(row):
            x, y = round(ox + c * cw, 2), round(top + r * CELL_H, 2)
            items.append(Rect(x, y, round(cw, 2), round(CELL_H, 2), fills.get((r, c), "white"),
                              "grey", 0.0, 0.4))
            if v is not None:
                items.append(Text(round(x + cw / 2, 2), round(y + 0.62 * CELL_H, 2),
                                  number_label(v, digits)))
    items.append(Rect(round(ox, 2), round(top, 2), round(cols * cw, 2), round(rows * CELL_H, 2),
                      None, "ink", 0.0, 0.6))
    if panel.notes:
        nx = round(ox + cols * cw + 0.8 * FONT_SIZE, 2)
        if panel.notes_label:
            items.append(Text(nx, round(oy + 1.05 * FONT_SIZE, 2), math_label(panel.notes_label),
                              "start", "grey"))
        for r, v in enumerate(panel.notes):
            items.append(Text(nx, round(top + r * CELL_H + 0.62 * CELL_H, 2),
                              number_label(v, digits), "start", "grey"))
    return items


def _block(place, cells) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom) of some cells of a placed panel."""
    ox, oy, cw = place
    rows = [r for r, _ in cells]
    cols = [c for _, c in cells]
    return (ox + min(cols) * cw, oy + LABEL_H + min(rows) * CELL_H,
            ox + (max(cols) + 1) * cw, oy + LABEL_H + (max(rows) + 1) * CELL_H)


def grid_scene(grid: Grid) -> Scene:
    sizes = [_size(p, grid.digits) for p in grid.panels]
    items: list = []
    places = {}
    x = y = width = row_height = 0.0
    for panel, (w, h) in zip(grid.panels, sizes):
        if x and x + w > MAX_WIDTH:
            y += row_height + ROW_GAP
            x = row_height = 0.0
        places[panel.name] = (x, y, _cell_width(panel, grid.digits))
        items += _panel_items(panel, x, y, grid.digits)
        width = max(width, x + w)
        row_height = max(row_height, h)
        x += w + GAP
    for link in grid.links:
        a = _block(places[link.source], link.source_cells)
        b = _block(places[link.target], link.target_cells)
        items.append(Rect(round(a[0], 2), round(a[1], 2), round(a[2] - a[0], 2),
                          round(a[3] - a[1], 2), None, "grad" if not link.given else "ink", 0.0, 1.0))
        if a[2] <= b[0]:                                   # left to right
            start, end, out = (a[2], (a[1] + a[3]) / 2), (b[0], (b[1] + b[3]) / 2), 1
        elif b[2] <= a[0]:                                 # right to left
            start, end, out = (a[0], (a[1] + a[3]) / 2), (b[2], (b[1] + b[3]) / 2), -1
        else:                                              # one above the other
            start, end, out = ((a[0] + a[2]) / 2, a[3]), ((b[0] + b[2]) / 2, b[1]), 0
        if out:
            bend = out * max(12.0, abs(end[0] - start[0]) / 2)
            controls = ((start[0] + bend, start[1]), (end[0] - bend, end[1]))
        else:
            bend = max(8.0, abs(end[1] - start[1]) / 2)
            controls = ((start[0], start[1] + bend), (end[0], end[1] - bend))
        points = tuple((round(px, 2), round(py, 2)) for px, py in (start, *controls, end))
        colour = "ink" if link.given else "grad"
        items.append(Curve(points, colour, 0.7, True))
        if link.label:
            mx, my = (start[0] + end[0]) / 2, min(start[1], end[1]) - 3
            items.append(Text(round(mx, 2), round(my, 2), math_label(link.label), "middle", colour))
    labels = ", ".join(plain_text(p.label) for p in grid.panels)
    return Scene(round(width, 2), round(y + row_height + 2, 2), tuple(items),
                 f"Grids of numbers: {labels}")
