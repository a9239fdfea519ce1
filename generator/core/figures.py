"""Figures: drawings of a variant's own numbers, as data.

A figure is a block of a problem's statement or solution, beside its Steps and Parts:

* `Graph`: a computational graph; nodes are quantities (a label in TeX notation, the
  exact forward value, optionally the gradient of the output with respect to it), edges
  say what feeds what and carry the gradient that flows back along them;
* `Plot`: one or more axes side by side, each with curves y = f(x) (a SymPy expression)
  and marked points;
* `Grid`: matrices drawn as grids of numbers, side by side, with highlighted cells, a
  heat-map shading, notes beside the rows, and arrows from cells of one to another.

A figure holds exact values and TeX notation, never drawing code: the engine lays it
out (wsgen.figures) and every format draws it, with numbers rounded as the key rounds
them.  On a question sheet a figure shows only what the question gives
(`question_view`): a graph's input values (nodes no edge points to) and no gradient; a
plot's curves and marks, and a grid's panels, highlights and arrows marked `given`.
In an answer key it shows everything.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import sympy as sp

__all__ = ["Axes", "Curve", "Figure", "Graph", "GraphEdge", "GraphNode", "Grid", "Highlight",
           "Link", "Mark", "Panel", "Plot", "figure_labels"]

#: The most digits a figure shows of a number (it rounds to the key's digits, at most this).
MAX_DIGITS = 6


class Figure:
    """Base of the figure records: a caption (prose with ``$math$``, as a Step's text)."""
    caption: str

    def question_view(self) -> "Figure | None":
        """What a question sheet shows of this figure (None: nothing)."""
        raise NotImplementedError


def _check_label(label: str, where: str) -> None:
    # imported here: the label reader is the drawing side's, and checks what it can draw
    from ..figures.labels import label_runs
    try:
        label_runs(label)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _check_digits(digits: int, where: str) -> None:
    if not 1 <= digits <= MAX_DIGITS:
        raise ValueError(f"{where}: digits must be 1 to {MAX_DIGITS}, got {digits}")


# --- computational graphs -------------------------------------------------------------
@dataclass(frozen=True)
class GraphNode:
    """A quantity of a computational graph.

    id: unique in the graph; label: TeX notation (``\\hat y_1``); value: its exact forward
    value (a number, a Vector or a matrix; None: none shown); grad: ∂(output)/∂(this
    quantity), exact, shown under the value in a key (None: none).  A node no edge points
    to is an input: a question sheet shows its value."""
    id: str
    label: str
    value: Any = None
    grad: Any = None


@dataclass(frozen=True)
class GraphEdge:
    """`source` feeds `target`; grad: what flows back along this edge, the part of
    ∂(output)/∂(source) that comes through `target` (key only; the parts of a source's
    edges add up to its gradient)."""
    source: str
    target: str
    grad: Any = None


@dataclass(frozen=True)
class Graph(Figure):
    """A computational graph, drawn left to right from the inputs to the output."""
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    caption: str = ""
    digits: int = 4

    def __post_init__(self):
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "edges", tuple(self.edges))
        ids = [n.id for n in self.nodes]
        if not ids:
            raise ValueError("graph: no nodes")
        if len(set(ids)) != len(ids):
            raise ValueError(f"graph: duplicate node ids in {ids}")
        _check_digits(self.digits, "graph")
        for node in self.nodes:
            _check_label(node.label, f"graph node {node.id!r}: label")
        seen = set()
        for edge in self.edges:
            for end in (edge.source, edge.target):
                if end not in ids:
                    raise ValueError(f"graph edge {edge.source!r} -> {edge.target!r}: no node "
                                     f"{end!r}")
            if (edge.source, edge.target) in seen:
                raise ValueError(f"graph: two edges {edge.source!r} -> {edge.target!r}")
            seen.add((edge.source, edge.target))
        self._check_acyclic(ids)

    def _check_acyclic(self, ids) -> None:
        into = {i: 0 for i in ids}
        for edge in self.edges:
            into[edge.target] += 1
        ready = [i for i in ids if not into[i]]
        done = 0
        while ready:
            node = ready.pop()
            done += 1
            for edge in self.edges:
                if edge.source == node:
                    into[edge.target] -= 1
                    if not into[edge.target]:
                        ready.append(edge.target)
        if done != len(ids):
            raise ValueError("graph: the edges make a cycle (a computational graph is acyclic)")

    @property
    def inputs(self) -> frozenset[str]:
        """The ids of the nodes no edge points to."""
        return frozenset(n.id for n in self.nodes) - {e.target for e in self.edges}

    def node(self, node_id: str) -> GraphNode:
        return next(n for n in self.nodes if n.id == node_id)

    def edge(self, source: str, target: str) -> GraphEdge:
        return next(e for e in self.edges if (e.source, e.target) == (source, target))

    def question_view(self) -> "Graph":
        inputs = self.inputs
        return dataclasses.replace(
            self, nodes=tuple(GraphNode(n.id, n.label, n.value if n.id in inputs else None)
                              for n in self.nodes),
            edges=tuple(GraphEdge(e.source, e.target) for e in self.edges))


# --- plots ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Curve:
    """y = expr, a SymPy expression in `var`, over its axes' x range; label: TeX notation
    (in the legend); dashed: drawn dashed; breaks: x values where it jumps (not joined)."""
    label: str
    expr: Any
    var: Any
    dashed: bool = False
    breaks: tuple = ()
    given: bool = False

    def __post_init__(self):
        object.__setattr__(self, "breaks", tuple(self.breaks))
        if not isinstance(self.var, sp.Symbol):
            raise ValueError(f"curve {self.label!r}: var must be a SymPy symbol")
        extra = sp.sympify(self.expr).free_symbols - {self.var}
        if extra:
            raise ValueError(f"curve {self.label!r}: the expression has other symbols "
                             f"({', '.join(sorted(map(str, extra)))})")
        _check_label(self.label, f"curve {self.label!r}: label")


@dataclass(frozen=True)
class Mark:
    """A marked point (x, y), exact, on a curve of its axes; label: TeX beside it ("")."""
    x: Any
    y: Any
    label: str = ""
    given: bool = False

    def __post_init__(self):
        if self.label:
            _check_label(self.label, f"mark at x = {self.x}: label")


@dataclass(frozen=True)
class Axes:
    """One pair of axes: curves and marks over x_range (exact (low, high)); y_range (exact
    (low, high)) or None for the curves' own range; axis labels and a title in TeX."""
    curves: tuple[Curve, ...]
    x_range: tuple[Any, Any]
    y_range: tuple[Any, Any] | None = None
    marks: tuple[Mark, ...] = ()
    x_label: str = "x"
    y_label: str = ""
    title: str = ""

    def __post_init__(self):
        object.__setattr__(self, "curves", tuple(self.curves))
        object.__setattr__(self, "marks", tuple(self.marks))
        for name in ("x_range", "y_range"):
            span = getattr(self, name)
            if span is None:
                continue
            low, high = (sp.sympify(v) for v in span)
            if not (low.is_number and high.is_number and bool(low < high)):
                raise ValueError(f"axes {self.title!r}: {name} must be two numbers, low < high")
            object.__setattr__(self, name, (low, high))
        for what in ("x_label", "y_label", "title"):
            if getattr(self, what):
                _check_label(getattr(self, what), f"axes {self.title!r}: {what}")


@dataclass(frozen=True)
class Plot(Figure):
    """Axes side by side (rows of them when they do not fit a line)."""
    axes: tuple[Axes, ...]
    caption: str = ""
    digits: int = 4

    def __post_init__(self):
        object.__setattr__(self, "axes", tuple(self.axes))
        if not self.axes:
            raise ValueError("plot: no axes")
        _check_digits(self.digits, "plot")

    def question_view(self) -> "Plot | None":
        kept = []
        for axes in self.axes:
            curves = tuple(c for c in axes.curves if c.given)
            marks = tuple(m for m in axes.marks if m.given)
            if curves or marks:
                kept.append(dataclasses.replace(axes, curves=curves, marks=marks))
        return dataclasses.replace(self, axes=tuple(kept)) if kept else None


# --- grids ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Highlight:
    """Cells of a panel, ((row, column), …) counted from 0, shaded in tone 0 (blue), 1
    (orange) or 2 (grey); given: shown on a question sheet too."""
    cells: tuple[tuple[int, int], ...]
    tone: int = 0
    given: bool = False

    def __post_init__(self):
        object.__setattr__(self, "cells", tuple((int(r), int(c)) for r, c in self.cells))
        if self.tone not in (0, 1, 2):
            raise ValueError(f"highlight: tone must be 0, 1 or 2, got {self.tone}")


@dataclass(frozen=True)
class Panel:
    """A matrix drawn as a grid of numbers.

    name: unique in the grid (links name panels by it); label: TeX above it; values: an
    exact matrix (an entry None: an empty cell); heat: cells shaded by value, from white at
    the smallest to full blue at the largest; notes: one exact value per row shown right of
    it, under the TeX heading `notes_label` (row sums, say); given: shown on a question
    sheet (with its given highlights)."""
    name: str
    label: str
    values: Any
    highlights: tuple[Highlight, ...] = ()
    heat: bool = False
    notes: tuple = ()
    notes_label: str = ""
    given: bool = False

    def __post_init__(self):
        values = self.values
        if isinstance(values, sp.MatrixBase):
            values = values.tolist()
        values = tuple(tuple(row) for row in values)
        if not values or not values[0] or len({len(r) for r in values}) != 1:
            raise ValueError(f"panel {self.name!r}: values must be a non-empty rectangle")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "highlights", tuple(self.highlights))
        object.__setattr__(self, "notes", tuple(self.notes))
        if self.notes and len(self.notes) != len(values):
            raise ValueError(f"panel {self.name!r}: one note per row ({len(values)}), got "
                             f"{len(self.notes)}")
        for h in self.highlights:
            for r, c in h.cells:
                if not (0 <= r < len(values) and 0 <= c < len(values[0])):
                    raise ValueError(f"panel {self.name!r}: highlighted cell ({r}, {c}) is "
                                     f"outside its {len(values)} × {len(values[0])} cells")
        _check_label(self.label, f"panel {self.name!r}: label")
        if self.notes_label:
            _check_label(self.notes_label, f"panel {self.name!r}: notes_label")

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.values), len(self.values[0])


@dataclass(frozen=True)
class Link:
    """An arrow from cells of one panel to cells of another (names and ((row, col), …)),
    drawn from the middle of the first cells' block to the middle of the second's; label:
    TeX beside it (""); given: shown on a question sheet when both panels are."""
    source: str
    source_cells: tuple[tuple[int, int], ...]
    target: str
    target_cells: tuple[tuple[int, int], ...]
    label: str = ""
    given: bool = False

    def __post_init__(self):
        for name in ("source_cells", "target_cells"):
            cells = tuple((int(r), int(c)) for r, c in getattr(self, name))
            if not cells:
                raise ValueError(f"link {self.source!r} -> {self.target!r}: no {name}")
            object.__setattr__(self, name, cells)
        if self.label:
            _check_label(self.label, f"link {self.source!r} -> {self.target!r}: label")


@dataclass(frozen=True)
class Grid(Figure):
    """Panels side by side (rows of them when they do not fit a line), with arrows."""
    panels: tuple[Panel, ...]
    links: tuple[Link, ...] = ()
    caption: str = ""
    digits: int = 4

    def __post_init__(self):
        object.__setattr__(self, "panels", tuple(self.panels))
        object.__setattr__(self, "links", tuple(self.links))
        names = [p.name for p in self.panels]
        if not names:
            raise ValueError("grid: no panels")
        if len(set(names)) != len(names):
            raise ValueError(f"grid: duplicate panel names in {names}")
        _check_digits(self.digits, "grid")
        shapes = {p.name: p.shape for p in self.panels}
        for link in self.links:
            for name, cells in ((link.source, link.source_cells), (link.target, link.target_cells)):
                if name not in shapes:
                    raise ValueError(f"link: no panel {name!r}")
                rows, cols = shapes[name]
                for r, c in cells:
                    if not (0 <= r < rows and 0 <= c < cols):
                        raise ValueError(f"link: cell ({r}, {c}) is outside panel {name!r}")

    def panel(self, name: str) -> Panel:
        return next(p for p in self.panels if p.name == name)

    def question_view(self) -> "Grid | None":
        panels = tuple(dataclasses.replace(p, highlights=tuple(h for h in p.highlights if h.given))
                       for p in self.panels if p.given)
        if not panels:
            return None
        kept = {p.name for p in panels}
        links = tuple(link for link in self.links
                      if link.given and link.source in kept and link.target in kept)
        return dataclasses.replace(self, panels=panels, links=links)


def figure_labels(figure: Figure) -> tuple[str, ...]:
    """Every piece of TeX notation a figure shows (for checks)."""
    if isinstance(figure, Graph):
        return tuple(n.label for n in figure.nodes)
    if isinstance(figure, Plot):
        return tuple(t for a in figure.axes
                     for t in (a.x_label, a.y_label, a.title, *(c.label for c in a.curves),
                               *(m.label for m in a.marks)) if t)
    if isinstance(figure, Grid):
        return tuple(t for p in figure.panels for t in (p.label, p.notes_label) if t) + \
            tuple(link.label for link in figure.links if link.label)
    return ()
