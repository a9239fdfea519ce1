"""The one value model: how an answer's value is walked, mapped, evaluated and shaped.

A value is one of

* a number: a SymPy number or closed form (also a `Defined` name), or a Python int;
* arithmetic as written (`Shown`, core.shown), whose `.value` is the exact number; a
  `ShownMatrix` is a matrix of such entries;
* a `Vector` (a column, a tuple subclass) of numbers;
* a matrix (`sp.ImmutableMatrix`) of numbers;
* a tuple: a list of values over several points (nested tuples allowed);
* `WithDecimal(value)`: a value shown with its rounded decimal (a display wrapper).

Every place that walks values uses these functions, so the rules live here once:

* `leaves(v)`: the entries in reading order (a matrix row by row, tuples flattened);
  arithmetic as written is one leaf (its own working is not an entry);
* `map_leaves(v, f)`: `f` applied to every entry, the shape kept;
* `exact(v)`: arithmetic as written replaced by its exact value, entries of vectors,
  tuples and matrices likewise, Python ints as SymPy integers;
* `scalar_kept(v)`: like `exact`, but a scalar kept as written stays as it is (comparing
  and printing it rounded need only its cached numeric value);
* `signature(v)`: the leaves with markers of the shape (a matrix's (rows, cols), a tuple's
  length), so that two values of different shape never compare equal entry by entry;

Evaluating values (to floats and decimals) is core.numeric's, on top of these.  The JSON
side (answers.json records: "exact" and "value" nested alike) has its own single
walk, `core.records.entries`.
"""
from __future__ import annotations

from typing import Any, Callable

import sympy as sp

from .model import Vector, WithDecimal
from .shown import Shown, ShownMatrix

__all__ = ["exact", "leaves", "map_leaves", "scalar_kept", "signature"]


def leaves(value: Any) -> list:
    """The entries of a value in reading order; arithmetic as written is one leaf, a value
    shown with its decimal is the value (lists are read like tuples)."""
    if isinstance(value, sp.MatrixBase):
        return list(value)
    if isinstance(value, (tuple, list)):
        return [x for e in value for x in leaves(e)]
    if isinstance(value, WithDecimal):
        return leaves(value.value)
    return [value]


def map_leaves(value: Any, f: Callable[[Any], Any]) -> Any:
    """`f` applied to every entry, the shape (matrix, Vector, nested tuples) kept."""
    if isinstance(value, sp.MatrixBase):
        return sp.ImmutableMatrix(value.rows, value.cols, [f(e) for e in value])
    if isinstance(value, Vector):
        return Vector(map_leaves(e, f) for e in value)
    if isinstance(value, tuple):
        return tuple(map_leaves(e, f) for e in value)
    return f(value)


def exact(value: Any) -> Any:
    """The exact value without its working: arithmetic as written evaluated, entry by entry
    (a ShownMatrix becomes a matrix), Python ints as SymPy integers."""
    if isinstance(value, Shown):
        value = value.value
        if isinstance(value, sp.MatrixBase):
            return sp.ImmutableMatrix(value.applyfunc(exact))
        return value
    if isinstance(value, (sp.MatrixBase, tuple)):
        return map_leaves(value, exact)
    if isinstance(value, int) and not isinstance(value, bool):
        return sp.Integer(value)
    return value


def scalar_kept(value: Any) -> Any:
    """Like `exact`, but a scalar kept as written (not a ShownMatrix) stays as it is."""
    if isinstance(value, Shown) and not isinstance(value, ShownMatrix):
        return value
    if isinstance(value, tuple):
        return map_leaves(value, scalar_kept)
    return exact(value)


def signature(value: Any) -> list:
    """The leaves of a value, each matrix preceded by its shape and each tuple by
    ("tuple", length): equal signatures mean the same shape and the same entries."""
    if isinstance(value, sp.MatrixBase):
        return [value.shape] + list(value)
    if isinstance(value, tuple):
        return [("tuple", len(value))] + [x for e in value for x in signature(e)]
    return [value]

