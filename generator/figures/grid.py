"""Grids of numbers, laid out here: each panel a block of equal cells with its label below
and its row notes to the right, panels side by side (in rows when they do not fit the
text width), arrows from cells of one panel to cells of another arching above them."""
from __future__ import annotations

from ..core.figures import Grid, Panel
from ..core.numeric import floats
from .labels import math_label, number_label, plain_text
from .scene import FONT_SIZE, MAX_WIDTH, Curve, Line, Rect, Scene, Text, mix

__all__ = ["grid_scene"]

CELL_H = 1.75 * FONT_SIZE
CELL_PAD = 0.6 * FONT_SIZE
MIN_CELL_W = 2.6 * FONT_SIZE
LABEL_H = 1.8 * FONT_SIZE          # the panel's label below its cells
ARC = 2.4 * FONT_SIZE              # room above the panels for the arrows' arcs
GAP = 2.6 * FONT_SIZE              # between panels (room for an arrow)
ROW_GAP = 1.2 * FONT_SIZE
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


def _size(panel: Panel, digits: int, arc: float) -> tuple[float, float]:
    rows, cols = panel.shape
    return (cols * _cell_width(panel, digits) + _notes_width(panel, digits),
            arc + rows * CELL_H + LABEL_H)


def _panel_items(panel: Panel, ox: float, top: float, digits: int) -> list:
    """A panel's items, its cells' top at y = top."""
    rows, cols = panel.shape
    cw = _cell_width(panel, digits)
    below = round(top + rows * CELL_H + 1.25 * FONT_SIZE, 2)
    items: list = [Text(round(ox + cols * cw / 2, 2), below, math_label(panel.label))]
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
            items.append(Text(nx, below, math_label(panel.notes_label), "start", "grey"))
        for r, v in enumerate(panel.notes):
            items.append(Text(nx, round(top + r * CELL_H + 0.62 * CELL_H, 2),
                              number_label(v, digits), "start", "grey"))
    return items


def _block(place, cells) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom) of some cells of a placed panel."""
    ox, top, cw = place
    rows = [r for r, _ in cells]
    cols = [c for _, c in cells]
    return (ox + min(cols) * cw, top + min(rows) * CELL_H,
            ox + (max(cols) + 1) * cw, top + (max(rows) + 1) * CELL_H)


def grid_scene(grid: Grid) -> Scene:
    arc = ARC if grid.links else 0.0
    sizes = [_size(p, grid.digits, arc) for p in grid.panels]
    items: list = []
    places = {}
    x = y = width = row_height = 0.0
    for panel, (w, h) in zip(grid.panels, sizes):
        if x and x + w > MAX_WIDTH:
            y += row_height + ROW_GAP
            x = row_height = 0.0
        places[panel.name] = (x, y + arc, _cell_width(panel, grid.digits))
        items += _panel_items(panel, x, y + arc, grid.digits)
        width = max(width, x + w)
        row_height = max(row_height, h)
        x += w + GAP
    for link in grid.links:
        a = _block(places[link.source], link.source_cells)
        b = _block(places[link.target], link.target_cells)
        colour = "ink" if link.given else "grad"
        items.append(Rect(round(a[0], 2), round(a[1], 2), round(a[2] - a[0], 2),
                          round(a[3] - a[1], 2), None, colour, 0.0, 1.0))
        # an arc from the top of one block to the top of the other, above the panels
        start, end = ((a[0] + a[2]) / 2, a[1]), ((b[0] + b[2]) / 2, b[1])
        crest = min(places[link.source][1], places[link.target][1]) - 0.85 * ARC
        controls = ((start[0], crest), (end[0], crest))
        points = tuple((round(px, 2), round(py, 2)) for px, py in (start, *controls, end))
        items.append(Curve(points, colour, 0.7, True))
        if link.label:
            items.append(Text(round((start[0] + end[0]) / 2, 2), round(crest + 0.3 * ARC, 2),
                              math_label(link.label), "middle", colour))
    labels = ", ".join(plain_text(p.label) for p in grid.panels)
    return Scene(round(width, 2), round(y + row_height + 2, 2), tuple(items),
                 f"Grids of numbers: {labels}")
