"""Arithmetic shown as written: display nodes that keep every factor and term.

SymPy folds even unevaluated numeric products; these nodes keep the working a
key shows (``0.1 \\cdot 0.2 + 0.5 \\cdot 0.4``), the printer prints them, and
`.value` is the exact result (a SymPy number or matrix).
"""
from __future__ import annotations

import functools
import operator

import sympy as sp

from .model import Tex, Vector

__all__ = ["Shown", "ShownDifference", "ShownMatrix", "ShownPower", "ShownProduct", "ShownQuotient",
           "ShownRounded", "ShownSum", "shown_column", "shown_difference", "shown_dot", "shown_matrix",
           "shown_product",
           "shown_quotient", "shown_rounded", "shown_square", "shown_sum"]


class Shown:
    """Arithmetic kept as written (``0.1 \\cdot 0.2 + 0.5 \\cdot 0.4``), never evaluated.

    SymPy folds even unevaluated numeric products; these display-only nodes keep
    every factor and term, the printer shows them, and `.value` is the exact
    result (a SymPy number).
    """
    __slots__ = ("args", "_value")

    def __init__(self, *args):
        self.args = tuple(args)
        self._value = None

    @property
    def value(self):
        if self._value is None:
            self._value = self._evaluate([_value(a) for a in self.args])
        return self._value

    def _evaluate(self, values):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self.args == other.args

    def __hash__(self):
        return hash((type(self).__name__, self.args))

    def __repr__(self):
        return f"{type(self).__name__}{self.args!r}"

    def __float__(self):
        return float(sp.N(self.value, 30))


class ShownSum(Shown):
    __slots__ = ()

    def _evaluate(self, values):
        return functools.reduce(operator.add, values)


class ShownDifference(Shown):
    """a - b, with b in parentheses when negative."""
    __slots__ = ()

    def _evaluate(self, values):
        return values[0] - values[1]


class ShownQuotient(Shown):
    """a / b as a fraction bar."""
    __slots__ = ()

    def _evaluate(self, values):
        return values[0] / values[1]


class ShownProduct(Shown):
    __slots__ = ()

    def _evaluate(self, values):
        return functools.reduce(operator.mul, values)


class ShownPower(Shown):
    __slots__ = ()

    def _evaluate(self, values):
        base, exp = values
        return base ** exp


class ShownRounded(Shown):
    """An earlier result used by name and value: printed as its decimal rounded to
    `digits` significant digits (exactly when it terminates), while `.value` stays exact.
    A later step shows ``0.5 - 0.1 \\cdot (-0.3810)`` instead of repeating a closed form;
    the result, computed from the exact value, is then shown with "≈"."""
    __slots__ = ()

    @property
    def value(self):
        return _value(self.args[0])

    @property
    def digits(self) -> int:
        return int(self.args[1])


class ShownMatrix(Shown):
    """A matrix whose entries are shown arithmetic; args are the rows (tuples)."""
    __slots__ = ()

    @property
    def value(self):
        if self._value is None:
            self._value = sp.ImmutableMatrix([[_value(e) for e in row] for row in self.args])
        return self._value


def _value(e):
    return e.value if isinstance(e, Shown) else e


def _arg(x):
    """A displayed operand: Shown, notation (Tex) and vectors stay as they are."""
    return x if isinstance(x, (Shown, Tex, Vector)) else sp.sympify(x)


def shown_sum(terms) -> ShownSum:
    return ShownSum(*[_arg(t) for t in terms])


def shown_product(*factors) -> ShownProduct:
    return ShownProduct(*[_arg(f) for f in factors])


def shown_difference(a, b) -> ShownDifference:
    return ShownDifference(_arg(a), _arg(b))


def shown_quotient(a, b) -> ShownQuotient:
    return ShownQuotient(_arg(a), _arg(b))


def shown_square(base) -> ShownPower:
    return ShownPower(_arg(base), sp.Integer(2))


def shown_dot(a, b) -> ShownSum:
    """a₁·b₁ + a₂·b₂ + … as written."""
    return shown_sum(shown_product(x, y) for x, y in zip(a, b))


def shown_rounded(value, digits: int) -> ShownRounded:
    """`value` (exact) used by a later step as its rounded decimal."""
    return ShownRounded(_arg(value), sp.Integer(digits))


def shown_matrix(rows) -> ShownMatrix:
    return ShownMatrix(*[tuple(row) for row in rows])


def shown_column(entries) -> ShownMatrix:
    """A column vector whose entries are arithmetic as written, one per row."""
    return ShownMatrix(*[(e,) for e in entries])
