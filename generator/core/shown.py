"""Arithmetic shown as written: display nodes that keep every factor and term.

SymPy evaluates ``+``, ``-``, ``*`` and ``/`` the moment they run: ``e**-1 / (e**-1 + 1 +
e**-1)`` is stored as ``exp(-1)/(1 + 2*exp(-1))`` and printed ``1/((1 + 2/e) e)``, and a
sum keeps its terms in SymPy's order, numbers first (``-0.1 + …``), however the problem
wrote them.  These nodes keep the working a key shows (``0.1 \\cdot 0.2 + 0.5 \\cdot
0.4``), in the order written; the printer prints them, and `.value` is the exact result
(a SymPy number or matrix).  Build them with the ``shown_*`` functions, or write the
arithmetic itself on `written` values: once one operand is a Shown, ``+``, ``-``, ``*``,
``/``, ``**`` and unary ``-`` build Shown nodes, never SymPy's evaluated forms::

    e = written(sp.exp(-1))
    p = e / (e + 1 + e)             # printed \\frac{e^{-1}}{e^{-1} + 1 + e^{-1}}
    d = p - sp.Rational(1, 10)      # printed … - 0.1, in that order
"""
from __future__ import annotations

import functools
import operator

import sympy as sp

from .model import Tex, Vector

__all__ = ["Shown", "ShownDifference", "ShownMatrix", "ShownNegation", "ShownPower", "ShownProduct",
           "ShownQuotient", "ShownRounded", "ShownSum", "ShownValue", "shown_column",
           "shown_difference", "shown_dot", "shown_matrix", "shown_product", "shown_quotient",
           "shown_rounded", "shown_square", "shown_sum", "written"]


class Shown:
    """Arithmetic kept as written (``0.1 \\cdot 0.2 + 0.5 \\cdot 0.4``), never evaluated.

    SymPy folds even unevaluated numeric products; these display-only nodes keep
    every factor and term, the printer shows them, and `.value` is the exact
    result (a SymPy number).
    """
    __slots__ = ("args", "_value", "_hash")

    def __init__(self, *args):
        self.args = tuple(args)
        self._value = None
        self._hash = None

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
        # computed once: a node is hashed whenever the caches keyed on values meet it, and
        # its hash walks every node below it
        if self._hash is None:
            self._hash = hash((type(self).__name__, self.args))
        return self._hash

    def __reduce__(self):
        # rebuilt from its args: a hash kept from another process would be stale
        return type(self), self.args

    def __repr__(self):
        return f"{type(self).__name__}{self.args!r}"

    def __float__(self):
        return float(sp.N(self.value, 30))

    # Arithmetic on a Shown is kept as written (see the module's docstring).
    def __add__(self, other):
        return _sum(self, other)

    def __radd__(self, other):
        return _sum(other, self)

    def __sub__(self, other):
        return _difference(self, other)

    def __rsub__(self, other):
        return _difference(other, self)

    def __mul__(self, other):
        return _product(self, other)

    def __rmul__(self, other):
        return _product(other, self)

    def __truediv__(self, other):
        return _binary(ShownQuotient, self, other)

    def __rtruediv__(self, other):
        return _binary(ShownQuotient, other, self)

    def __pow__(self, other):
        return _binary(ShownPower, self, other)

    def __rpow__(self, other):
        return _binary(ShownPower, other, self)

    def __neg__(self):
        return ShownNegation(sp.Integer(-1), _operand(self))


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


class ShownValue(ShownSum):
    """A value that starts arithmetic kept as written (`written`): printed as it is."""
    __slots__ = ()


class ShownNegation(ShownProduct):
    """-a, printed with a minus sign (args: -1 and a)."""
    __slots__ = ()


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


def _operand(x):
    """An operand of arithmetic kept as written: a Shown (a `written` value unwrapped), or a
    SymPy number or closed form (ints and Fractions made SymPy numbers)."""
    if isinstance(x, ShownValue):
        return x.args[0]
    if isinstance(x, Shown):
        if isinstance(x, ShownMatrix):
            raise TypeError("arithmetic kept as written works on numbers, not matrices: "
                            "write each entry, and shown_matrix(rows) around them")
        return x
    if isinstance(x, float):
        raise TypeError(f"the inexact number {x!r} in arithmetic kept as written: write it "
                        f"exactly, sp.Rational({str(x)!r})")
    if isinstance(x, (sp.MatrixBase, Vector, tuple, list)):
        raise TypeError("arithmetic kept as written works on numbers, not matrices or vectors: "
                        "write each entry, and shown_matrix(rows) around them")
    return _arg(x)


def _binary(node, a, b):
    return node(_operand(a), _operand(b))


def _sum(a, b) -> "ShownSum":
    """a + b, a sum of several terms kept as one: a + b + c, not (a + b) + c; after a
    difference, a - b + c (not (a - b) + c)."""
    a, b = _operand(a), _operand(b)
    if type(a) is ShownSum:
        return ShownSum(*a.args, b)
    if type(a) is ShownDifference:
        return ShownSum(a.args[0], ShownNegation(sp.Integer(-1), a.args[1]), b)
    return ShownSum(a, b)


def _difference(a, b):
    """a - b; after a sum, the sum's terms and then - b."""
    a, b = _operand(a), _operand(b)
    if type(a) is ShownSum and len(a.args) > 1:
        return ShownSum(*a.args, ShownNegation(sp.Integer(-1), b))
    return ShownDifference(a, b)


def _product(a, b) -> "ShownProduct":
    a, b = _operand(a), _operand(b)
    if type(a) is ShownProduct:
        return ShownProduct(*a.args, b)
    return ShownProduct(a, b)


def written(value) -> "ShownValue":
    """`value` (a SymPy number or closed form) as the start of arithmetic kept as written:
    ``written(a) + b``, ``written(a) / (written(a) + 1)`` … build Shown nodes, printed in
    the order written, whose `.value` is the exact result."""
    return ShownValue(_operand(value))


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
