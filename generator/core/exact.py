"""Exact arithmetic the problems share: rows of matrices, fast exact products, and c·√k.

SymPy's general machinery is exact but slow for the few small numbers of an exam
variant: a matrix product converts every entry to a domain element first, and sums of
square roots are simplified again at every step.  These helpers compute the same exact
numbers in plain Python (Fractions, SymPy numbers added as Python sums) and hand SymPy
numbers back only where a value leaves the problem.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy as sp

__all__ = ["Surd", "fraction", "inverse_root", "matmul", "rational", "rows", "surd_value"]


def rows(M: Any) -> list[list]:
    """The entries of a matrix as a list of rows (a Vector or flat sequence: one column)."""
    if isinstance(M, sp.MatrixBase):
        return [list(r) for r in M.tolist()]
    return [[e] for e in M]


def matmul(X: Any, Y: Any) -> Any:
    """X Y entry by entry, as Python sums of the entries' products: the same exact matrix
    SymPy's product gives, many times faster for a few entries of closed forms.  Matrix
    expressions (MatrixSymbols of a derivation) multiply as themselves."""
    if not isinstance(X, sp.MatrixBase) or not isinstance(Y, sp.MatrixBase):
        return X * Y
    x, y = X.tolist(), Y.tolist()
    return sp.ImmutableMatrix(len(x), len(y[0]), lambda i, j: sp.Add(
        *[x[i][k] * y[k][j] for k in range(len(y))]))


def fraction(v: Any) -> Fraction:
    """A Fraction from a Fraction, an int, a SymPy rational or a decimal string."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, sp.Rational):
        return Fraction(int(v.p), int(v.q))
    return Fraction(str(v))


def rational(f: Fraction | int) -> sp.Rational:
    """A SymPy rational from a Fraction or an int."""
    f = Fraction(f)
    return sp.Rational(f.numerator, f.denominator)


class Surd:
    """c·√k, c a Fraction and k a square-free integer fixed per variant: the exact numbers
    of a variant in plain Python, where SymPy's arithmetic on square roots would be slow.
    Formulas written for SymPy symbols run on these as they are (sums, products, powers,
    division by rationals).  A product of two Surds is a Fraction."""
    __slots__ = ("c", "k")

    def __init__(self, c, k: int):
        self.c, self.k = Fraction(c), k

    def _same(self, other):
        if not (isinstance(other, Surd) and other.k == self.k):
            raise TypeError("Surds with different radicands")
        return other

    def __add__(self, other):
        if not isinstance(other, Surd) and other == 0:
            return self
        return Surd(self.c + self._same(other).c, self.k)

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-other)

    def __neg__(self):
        return Surd(-self.c, self.k)

    def __mul__(self, other):
        if isinstance(other, Surd):
            return self.c * self._same(other).c * self.k          # a rational
        return Surd(self.c * fraction(other), self.k)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return Surd(self.c / fraction(other), self.k)

    def __pow__(self, n: int):
        return Surd(self.c ** n * self.k ** ((n - 1) // 2), self.k) if n % 2 else \
            self.c ** n * self.k ** (n // 2)

    def __eq__(self, other):
        return isinstance(other, Surd) and (self.c, self.k) == (other.c, other.k)

    __hash__ = None


def inverse_root(s: Fraction) -> tuple[Fraction, Any]:
    """1/√s as (c, √k) with c a Fraction and √k a SymPy square root of a square-free integer
    (the SymPy integer 1 when s·q² is a square)."""
    whole = sp.sqrt(sp.Integer(s.numerator * s.denominator))   # = a·√k
    a, root = whole.as_coeff_Mul()
    k = root ** 2 if root != 1 else 1
    # 1/√(p/q) = q/√(pq) = q/(a√k) = q√k/(a k)
    return Fraction(s.denominator, int(a) * int(k)), root


def surd_value(v: Surd | Fraction | Any, root) -> Any:
    """A Surd (c·√k, with root = √k) or a rational as a SymPy number."""
    if isinstance(v, Surd):
        return rational(v.c) * root
    return rational(fraction(v))

