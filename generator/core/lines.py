"""Display lines written as the key reads them: notation and values in order.

Most lines of a worked solution have the shape ``lhs = working = value``.  Instead of a
TeX string with hand-made ``@name`` placeholders and a separate values table::

    math=(r"L = \\sum_i (Wx)_i^2 = @Lsum = @L",), values={"Lsum": L_sum, "L": L}

a problem writes the line itself::

    math=(eq(r"L = \\sum_i (Wx)_i^2", L_sum, L),)

`eq(lhs, *sides)` joins its sides with " = "; `line(*pieces)` writes any other shape
(a string is TeX notation, written as it is; anything else is a value, printed by the
printer); lines concatenate with ``+``::

    eq(f"z_{k}", z_shown, z) + r",\\qquad " + eq(rf"\\hat y_{k} = \\sigma(", z, ")") …

A `Step` or `Part` turns each Line of its `math` into the same TeX-with-placeholders
string a hand-written line is, with generated names (``@_1``, ``@_2``, …: names starting
with ``_`` are reserved for them), so every format renders both alike.  Plain strings
with ``@name`` stay valid for prose and for lines written by hand.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

__all__ = ["Line", "compile_lines", "eq", "line"]


class Line:
    """A display line: TeX notation (str) and values, in reading order."""
    __slots__ = ("pieces",)

    def __init__(self, pieces: tuple):
        self.pieces = pieces

    def __add__(self, other) -> "Line":
        return Line(self.pieces + (other.pieces if isinstance(other, Line) else (other,)))

    def __radd__(self, other) -> "Line":
        return Line((other,) + self.pieces)

    def __eq__(self, other):
        return isinstance(other, Line) and self.pieces == other.pieces

    def __hash__(self):
        return hash(self.pieces)

    def __repr__(self):
        return f"Line{self.pieces!r}"


def line(*pieces) -> Line:
    """A display line from notation (strings, written as they are) and values (printed)."""
    out: list = []
    for item in pieces:
        if isinstance(item, Line):
            out += item.pieces
        else:
            out.append(item)
    return Line(tuple(out))


def eq(lhs, *sides) -> Line:
    """``lhs = side₁ = side₂ …``: each side a value (printed) or notation (a string)."""
    out: list = list(lhs.pieces) if isinstance(lhs, Line) else [lhs]
    for side in sides:
        out.append(" = ")
        if isinstance(side, Line):
            out += side.pieces
        else:
            out.append(side)
    return Line(tuple(out))


def compile_lines(math: Iterable, values: Mapping[str, Any]) -> tuple[tuple[str, ...], dict]:
    """The lines as TeX with ``@name`` placeholders, and the values with the generated
    names added.  Raises ValueError when a hand-made name starts with ``_``."""
    math = tuple(math)
    if not any(isinstance(m, Line) for m in math):
        return math, dict(values)
    reserved = [name for name in values if name.startswith("_")]
    if reserved:
        raise ValueError(f"value names starting with _ are reserved for eq/line: {reserved[0]}")
    out, merged = [], dict(values)
    count = 0
    for item in math:
        if not isinstance(item, Line):
            out.append(item)
            continue
        text = []
        after_value = False
        for piece in item.pieces:
            if isinstance(piece, str):
                if after_value and piece and (piece[0].isalnum() or piece[0] == "_"):
                    text.append("{}")      # a letter or digit would extend the placeholder
                text.append(piece)
                after_value = False
            else:
                count += 1
                merged[f"_{count}"] = piece
                text.append(f"@_{count}")
                after_value = True
        out.append("".join(text))
    return tuple(out), merged
