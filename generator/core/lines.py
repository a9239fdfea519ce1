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

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

__all__ = ["Line", "compile_lines", "eq", "line"]


@dataclass(frozen=True)
class Line:
    """A display line: TeX notation (str) and values, in reading order."""
    pieces: tuple[Any, ...]

    def __add__(self, other) -> "Line":
        return Line(self.pieces + _pieces(other))

    def __radd__(self, other) -> "Line":
        return Line(_pieces(other) + self.pieces)


def _pieces(item) -> tuple:
    return item.pieces if isinstance(item, Line) else (item,)


def line(*pieces) -> Line:
    """A display line from notation (strings, written as they are) and values (printed)."""
    return Line(tuple(p for item in pieces for p in _pieces(item)))


def eq(lhs, *sides) -> Line:
    """``lhs = side₁ = side₂ …``: each side a value (printed) or notation (a string)."""
    out: list = list(_pieces(lhs))
    for side in sides:
        out += [" = ", *_pieces(side)]
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
    for item in math:
        if not isinstance(item, Line):
            out.append(item)
            continue
        text = []
        for piece in item.pieces:
            if isinstance(piece, str):
                if text and text[-1].startswith("@") and piece[:1].isalnum() | (piece[:1] == "_"):
                    text.append("{}")      # a letter or digit would extend the placeholder
                text.append(piece)
            else:
                name = f"_{len(merged) - len(values) + 1}"
                merged[name] = piece
                text.append("@" + name)
        out.append("".join(text))
    return tuple(out), merged
