"""Values as blocks of text: a number, or a vector or matrix between brackets, measured
and drawn the same way in every figure."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sympy as sp

from ..core.model import Vector
from .labels import Label, math_label, number_label
from .scene import FONT_SIZE, Line, Text

__all__ = ["Block", "LINE", "label_block", "value_block"]

#: The height of a line of figure text, and where its baseline sits below its top.
LINE = 1.3 * FONT_SIZE
BASELINE = 0.92 * FONT_SIZE
COLUMN_GAP = 0.9 * FONT_SIZE
BRACKET = 0.45 * FONT_SIZE


@dataclass(frozen=True)
class Block:
    """Rows of labels (one row, one column: a single label), bracketed when a matrix."""
    rows: tuple[tuple[Label, ...], ...]
    bracketed: bool

    # measured once per block (a figure draws and measures each block several times)
    @cached_property
    def columns(self) -> tuple[float, ...]:
        return tuple(max(row[j].width for row in self.rows) * FONT_SIZE
                     for j in range(len(self.rows[0])))

    @cached_property
    def width(self) -> float:
        inner = sum(self.columns) + COLUMN_GAP * (len(self.columns) - 1)
        return inner + (2 * BRACKET + 0.3 * FONT_SIZE if self.bracketed else 0.0)

    @property
    def height(self) -> float:
        return LINE * len(self.rows) + (0.2 * FONT_SIZE if self.bracketed else 0.0)

    def draw(self, cx: float, top: float, colour: str = "ink") -> list:
        """Items drawing the block centred at x = cx, its top at y = top."""
        items: list = []
        left = cx - self.width / 2
        inner_left = left + (BRACKET + 0.15 * FONT_SIZE if self.bracketed else 0.0)
        y0 = top + (0.1 * FONT_SIZE if self.bracketed else 0.0)
        for i, row in enumerate(self.rows):
            x = inner_left
            for label, width in zip(row, self.columns):
                items.append(Text(round(x + width / 2, 2), round(y0 + i * LINE + BASELINE, 2),
                                  label, "middle", colour))
                x += width + COLUMN_GAP
        if self.bracketed:
            bottom, hook = top + self.height, 0.3 * FONT_SIZE
            right = left + self.width
            items.append(Line(((left + hook, top), (left, top), (left, bottom),
                               (left + hook, bottom)), colour, 0.5))
            items.append(Line(((right - hook, top), (right, top), (right, bottom),
                               (right - hook, bottom)), colour, 0.5))
        return items


def label_block(tex: str) -> Block:
    return Block(((math_label(tex),),), False)


def _entries(value: Any) -> tuple[tuple[Any, ...], ...] | None:
    """The rows of a vector (a column) or matrix, None for a number."""
    if isinstance(value, Vector):
        return tuple((e,) for e in value)
    if isinstance(value, sp.MatrixBase):
        return tuple(tuple(row) for row in value.tolist())
    if isinstance(value, (tuple, list)):
        if value and isinstance(value[0], (tuple, list)):
            return tuple(tuple(row) for row in value)
        return tuple((e,) for e in value)
    return None


def value_block(value: Any, digits: int) -> Block:
    """An exact value as the key rounds it: a number, or a bracketed vector or matrix."""
    rows = _entries(value)
    if rows is None:
        return Block(((number_label(value, digits),),), False)
    return Block(tuple(tuple(number_label(e, digits) for e in row) for row in rows), True)
