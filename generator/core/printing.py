"""The single printing point: values to TeX.

Every piece of mathematics in every format goes through `tex`.  Settings and
``_print_<Class>`` methods customise SymPy's LaTeX printer; nothing else in
the project turns a value into TeX.  (Evaluating values, to decimals, floats and
exact strings, is core.numeric's.)

Number display rule: an exact rational whose decimal expansion terminates
prints as that decimal (22/125 -> 0.176); any other value prints exactly
(fraction, closed form) and, where an answer is shown, with a decimal rounded
to a stated number of significant digits beside it (`answer_tex`).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

from .model import Vector
from .numeric import approx_decimal, is_terminating, terminating_digits
from .shown import Shown, ShownDifference, ShownMatrix, ShownRounded, ShownSum
from .values import exact

__all__ = ["ExamLatexPrinter", "answer_tex", "bmatrix", "tex"]


@lru_cache(maxsize=65536)
def _rational_tex(p: int, q: int) -> str | None:
    """p/q as an exact decimal if it terminates, else None."""
    k = terminating_digits(q)
    if k is None:
        return None
    digits = str(abs(p) * 10 ** k // q).rjust(k + 1, "0")
    text = digits if k == 0 else digits[:-k] + "." + digits[-k:]
    return ("-" if p < 0 else "") + text


def _is_negative_number(e) -> bool:
    # Rationals only: asking SymPy's assumption system (`is_negative`) is slow
    return isinstance(e, sp.Rational) and e.p < 0


class ExamLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the project's number and matrix conventions."""

    printmethod = "_wsgen_latex"

    def __init__(self):
        super().__init__({"order": "none", "mat_str": "bmatrix", "mat_delim": ""})
        self._methods: dict[type, str] = {}

    def _print(self, expr, **kwargs) -> str:
        # SymPy's dispatcher walks the class's MRO with getattr on every call; remember the
        # method it picks for each class.  Objects that print themselves, and functions
        # (whose dispatch has special rules), go through SymPy's own dispatcher.
        cls = type(expr)
        name = self._methods.get(cls)
        if name is None:
            if hasattr(expr, self.printmethod) or issubclass(cls, (sp.Function, type)):
                return super()._print(expr, **kwargs)
            name = next((f"_print_{c.__name__}" for c in cls.__mro__
                         if hasattr(self, f"_print_{c.__name__}")), "emptyPrinter")
            self._methods[cls] = name
        self._print_level += 1
        try:
            return getattr(self, name)(expr, **kwargs)
        finally:
            self._print_level -= 1

    def _print_Rational(self, expr):
        decimal = _rational_tex(int(expr.p), int(expr.q))
        return decimal if decimal is not None else super()._print_Rational(expr)

    _print_Integer = _print_Rational

    def _print_Float(self, expr):
        raise TypeError(f"inexact number {expr} reached the printer; keep values exact")

    def _factor(self, e) -> str:
        text = self._print(e)
        if (_is_negative_number(e) or isinstance(e, (ShownSum, ShownDifference, sp.Add))
                or (isinstance(e, ShownRounded) and text.startswith("-"))):
            return r"\left(" + text + r"\right)"
        return text

    def _print_ShownProduct(self, expr):
        return r" \cdot ".join(self._factor(f) for f in expr.args)

    def _print_ShownPower(self, expr):
        base, exp = expr.args
        return "{%s}^{%s}" % (self._factor(base), self._print(exp))

    def _print_ShownDifference(self, expr):
        a, b = expr.args
        return self._print(a) + " - " + self._factor(b)

    def _print_ShownQuotient(self, expr):
        a, b = expr.args
        return r"\frac{%s}{%s}" % (self._print(a), self._print(b))

    def _print_ShownSum(self, expr):
        parts = []
        for i, term in enumerate(expr.args):
            if i and _is_negative_number(term):
                parts.append(" - " + self._print(-term))
            elif isinstance(term, ShownDifference):   # (a - b) + (c - d): keep each term whole
                parts.append((" + " if i else "") + r"\left(" + self._print(term) + r"\right)")
            else:
                parts.append((" + " if i else "") + self._print(term))
        return "".join(parts)

    def _print_ShownRounded(self, expr):
        value = expr.value
        if is_terminating(value):
            return self._print(value)
        return _approx_tex(value, expr.digits)

    def _print_MatrixBase(self, expr):
        # Row lists once: SymPy's entry-by-entry indexing dominates printing time.
        return self._bmatrix([[self._print(e) for e in row] for row in expr.tolist()])

    @staticmethod
    def _bmatrix(rows: list[list[str]]) -> str:
        return r"\begin{bmatrix}" + r"\\".join(" & ".join(r) for r in rows) + r"\end{bmatrix}"

    def _print_WithDecimal(self, expr):
        return answer_tex(expr.value, expr.digits)

    def _print_Tex(self, expr):
        return str(expr)

    def _print_ShownMatrix(self, expr):
        return self._bmatrix([[self._print(e) for e in row] for row in expr.args])

    def _print_Vector(self, expr):
        return self._bmatrix([[self._print(e)] for e in expr])

    def _print_tuple(self, expr):
        return r"\left(" + r",\ ".join(self._print(e) for e in expr) + r"\right)"


bmatrix = ExamLatexPrinter._bmatrix
_PRINTER = ExamLatexPrinter()


@lru_cache(maxsize=4096)
def _tex_cached(kind: type, obj: Any) -> str:
    # keyed on the type too: a Vector equals the tuple of its entries but prints otherwise
    return _PRINTER.doprint(obj)


def tex(obj: Any) -> str:
    """TeX for a SymPy object, a Vector or a tuple of them."""
    if isinstance(obj, int) and not isinstance(obj, bool):
        obj = sp.Integer(obj)
    if isinstance(obj, sp.MutableDenseMatrix):
        obj = sp.ImmutableMatrix(obj)
    try:
        return _tex_cached(type(obj), obj)
    except TypeError:  # unhashable
        return _PRINTER.doprint(obj)


def _approx_tex(obj, digits: int) -> str:
    if isinstance(obj, sp.MatrixBase):
        return ExamLatexPrinter._bmatrix([[approx_decimal(e, digits) for e in row]
                                          for row in obj.tolist()])
    if isinstance(obj, Vector):
        return _approx_tex(sp.Matrix(list(obj)), digits)
    if isinstance(obj, tuple):
        return r"\left(" + r",\ ".join(_approx_tex(e, digits) for e in obj) + r"\right)"
    return approx_decimal(obj, digits)


def _rational_arithmetic(obj: Any) -> bool:
    """Whether `obj` is arithmetic as written (or vectors of it) on rationals only."""
    if isinstance(obj, ShownRounded):
        return _rational_arithmetic(obj.args[0]) or isinstance(obj.args[0], sp.Rational)
    if isinstance(obj, ShownMatrix):
        return all(isinstance(e, sp.Rational) or _rational_arithmetic(e)
                   for row in obj.args for e in row)
    if isinstance(obj, Shown):
        return all(isinstance(a, sp.Rational) or (isinstance(a, Shown) and _rational_arithmetic(a))
                   for a in obj.args)
    if isinstance(obj, tuple) and obj:
        return all(isinstance(e, sp.Rational) or _rational_arithmetic(e) for e in obj) and \
            any(isinstance(e, Shown) for e in obj)
    return False


def answer_tex(value: Any, digits: int) -> str:
    """The exact value, with its decimal beside it: after "=" when the value terminates
    (arithmetic as written: 0.5 - 1 = -0.5), rounded after "≈" when it does not."""
    written = tex(value)
    if is_terminating(value):
        return written
    if _rational_arithmetic(value):              # cheap to evaluate exactly: may terminate
        result = exact(value)
        if is_terminating(result):
            return written + " = " + tex(result)
        return written + r" \approx " + _approx_tex(result, digits)
    # a closed form (or arithmetic on one) never terminates: rounded through mpmath
    return written + r" \approx " + _approx_tex(value, digits)


