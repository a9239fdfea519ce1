"""The single printing point: SymPy objects to TeX, exact strings and floats.

Every piece of mathematics in every format goes through `tex`.  Settings and
``_print_<Class>`` methods customise SymPy's LaTeX printer; nothing else in
the project turns a value into TeX.

Number display rule: an exact rational whose decimal expansion terminates
prints as that decimal (22/125 -> 0.176); any other value prints exactly
(fraction, closed form) and, where an answer is shown, with a decimal rounded
to a stated number of significant digits beside it (`answer_tex`).
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from typing import Any

import mpmath
import sympy as sp
from sympy.printing.latex import LatexPrinter

from .model import Tex, Vector
from .shown import (Shown, ShownDifference, ShownMatrix, ShownPower, ShownProduct, ShownQuotient,
                    ShownRounded, ShownSum)

__all__ = ["answer_tex", "approx_decimal", "exact_str", "float_value", "is_terminating", "tex"]


def _terminating_digits(q: int) -> int | None:
    """Digits after the point of p/q if it terminates, else None."""
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    return max(twos, fives) if q == 1 else None


@lru_cache(maxsize=65536)
def _rational_tex(p: int, q: int) -> str | None:
    """p/q as an exact decimal if it terminates, else None."""
    k = _terminating_digits(q)
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


def _entries(obj) -> list:
    if isinstance(obj, (sp.MatrixBase,)):
        return list(obj)
    if isinstance(obj, tuple):
        return [x for e in obj for x in _entries(e)]
    return [obj]


def is_terminating(obj: Any) -> bool:
    """True when every entry is a rational with a terminating decimal expansion.
    (Arithmetic as written counts as not terminating: it gets a rounded decimal.)"""
    return all(not isinstance(e, Shown) and isinstance(sp.sympify(e), sp.Rational)
               and _terminating_digits(int(sp.sympify(e).q)) is not None for e in _entries(obj))


_WORKING_DIGITS = 40
_MP_FUNCTIONS = {sp.exp: mpmath.exp, sp.log: mpmath.log, sp.tanh: mpmath.tanh,
                 sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh}


@lru_cache(maxsize=65536)
def _mp_leaf(e):
    """The mpmath value of a SymPy closed form (not arithmetic as written), cached; always
    computed at the one working precision that `_decimal` sets."""
    return _mp_closed_form(e)


def _mp_value(e):
    """An mpmath number for a closed form built from rationals, +, ×, powers, exp, log and
    hyperbolic functions, or for arithmetic as written (Shown); anything else goes
    through SymPy's evalf."""
    if isinstance(e, ShownRounded):
        return _mp_value(e.args[0])
    if isinstance(e, Shown):
        values = [_mp_value(a) for a in e.args]
        if isinstance(e, ShownSum):
            return mpmath.fsum(values)
        if isinstance(e, ShownProduct):
            return mpmath.fprod(values)
        if isinstance(e, ShownDifference):
            return values[0] - values[1]
        if isinstance(e, ShownQuotient):
            return values[0] / values[1]
        if isinstance(e, ShownPower):
            return values[0] ** values[1]
        raise TypeError(f"no numeric value for {type(e).__name__}")
    return _mp_leaf(e)


def _mp_closed_form(e):
    if isinstance(e, sp.Rational):
        return mpmath.mpf(int(e.p)) / int(e.q)
    if e is sp.E:
        return mpmath.e
    if isinstance(e, sp.Add):
        return mpmath.fsum(_mp_value(a) for a in e.args)
    if isinstance(e, sp.Mul):
        return mpmath.fprod(_mp_value(a) for a in e.args)
    if isinstance(e, sp.Pow):
        base, exp = e.args
        if isinstance(exp, sp.Integer):
            return _mp_value(base) ** int(exp)
        return mpmath.power(_mp_value(base), _mp_value(exp))
    function = _MP_FUNCTIONS.get(e.func)
    if function is not None and len(e.args) == 1:
        return function(_mp_value(e.args[0]))
    return mpmath.mpf(str(sp.N(e, _WORKING_DIGITS + 10)))


@lru_cache(maxsize=65536)
def _decimal(number: sp.Expr) -> Decimal:
    """The value to 40 significant digits, cached: the same closed form is shown in steps,
    answers and JSON.  Evaluated with mpmath at 60 digits of working precision, far more
    than the 40 kept (SymPy's own evalf gives the same digits, several times slower)."""
    with mpmath.workdps(_WORKING_DIGITS + 20):
        return Decimal(mpmath.nstr(_mp_value(number), _WORKING_DIGITS, strip_zeros=False,
                                   min_fixed=-mpmath.inf, max_fixed=mpmath.inf))


def approx_decimal(value: Any, digits: int) -> str:
    """`value` rounded to `digits` significant digits (half to even), as plain text."""
    if digits > _WORKING_DIGITS - 10:
        raise ValueError(f"at most {_WORKING_DIGITS - 10} significant digits")
    d = _decimal(value if isinstance(value, Shown) else sp.sympify(value))
    if d == 0:
        return "0"
    with localcontext() as ctx:
        ctx.prec = _WORKING_DIGITS + 10
        quantum = Decimal(1).scaleb(d.adjusted() - digits + 1)
        rounded = d.quantize(quantum, rounding=ROUND_HALF_EVEN)
    if -5 <= rounded.adjusted() < 7:
        return format(rounded, "f")
    mantissa, exponent = format(rounded, "e").split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


def _approx_tex(obj, digits: int) -> str:
    if isinstance(obj, sp.MatrixBase):
        return ExamLatexPrinter._bmatrix([[approx_decimal(e, digits) for e in row]
                                          for row in obj.tolist()])
    if isinstance(obj, Vector):
        return _approx_tex(sp.Matrix(list(obj)), digits)
    if isinstance(obj, tuple):
        return r"\left(" + r",\ ".join(_approx_tex(e, digits) for e in obj) + r"\right)"
    return approx_decimal(obj, digits)


def _exact(obj: Any) -> Any:
    """The exact value of arithmetic as written (Shown), entry by entry; others unchanged."""
    if isinstance(obj, Shown):
        return obj.value
    if isinstance(obj, Vector):
        return Vector(_exact(e) for e in obj)
    if isinstance(obj, tuple):
        return tuple(_exact(e) for e in obj)
    return obj


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
    exact = tex(value)
    if is_terminating(value):
        return exact
    if _rational_arithmetic(value):              # cheap to evaluate exactly: may terminate
        result = _exact(value)
        if is_terminating(result):
            return exact + " = " + tex(result)
        return exact + r" \approx " + _approx_tex(result, digits)
    # a closed form (or arithmetic on one) never terminates: rounded through mpmath
    return exact + r" \approx " + _approx_tex(value, digits)


@lru_cache(maxsize=65536)
def _plain_str(e) -> str:
    """SymPy's string of one exact value, cached: the same closed forms recur in the
    answers, their working and the mistakes of a variant."""
    # order="none": SymPy's canonical argument order, without the (slow) term sorting
    return sp.sstr(e, order="none")


def _sstr(e) -> str:
    if isinstance(e, Shown):
        return _shown_str(e)
    return _plain_str(e)


def _shown_str(e, top: bool = True) -> str:
    """Arithmetic as written, as a SymPy-parsable string (compound operands parenthesized)."""
    if isinstance(e, Tex):
        raise TypeError("notation has no exact value")
    if not isinstance(e, Shown):
        text = _plain_str(e)
        plain = (isinstance(e, sp.Integer) and e >= 0) or isinstance(e, sp.Symbol)
        return text if plain or top else "(" + text + ")"
    text = _shown_compound(e)
    return text[1:-1] if top else text


def _shown_compound(e) -> str:
    if isinstance(e, ShownRounded):          # exact: the value it stands for
        return "(" + _shown_str(e.args[0], top=True) + ")"
    parts = [_shown_str(a, top=False) for a in e.args]
    if isinstance(e, ShownSum):
        return "(" + " + ".join(parts) + ")"
    if isinstance(e, ShownProduct):
        return "(" + "*".join(parts) + ")"
    if isinstance(e, ShownDifference):
        return "(" + parts[0] + " - " + parts[1] + ")"
    if isinstance(e, ShownQuotient):
        return "(" + parts[0] + "/" + parts[1] + ")"
    if isinstance(e, ShownPower):
        return "(" + parts[0] + "**" + parts[1] + ")"
    raise TypeError(f"no exact string for {type(e).__name__}")


def exact_str(obj: Any) -> Any:
    """SymPy-parsable exact strings, nested like the JSON contract wants."""
    if isinstance(obj, Shown):
        return _sstr(obj)
    if isinstance(obj, sp.MatrixBase):
        return [[_sstr(e) for e in row] for row in obj.tolist()]
    if isinstance(obj, tuple):
        return [exact_str(e) for e in obj]
    return _sstr(sp.sympify(obj))


def float_value(obj: Any) -> Any:
    """Full-precision float64 values, nested like `exact_str`."""
    if isinstance(obj, sp.MatrixBase):
        return [[float_value(e) for e in row] for row in obj.tolist()]
    if isinstance(obj, tuple):
        return [float_value(e) for e in obj]
    if isinstance(obj, Shown):
        return float(_decimal(obj))
    if isinstance(obj, sp.Integer):
        return int(obj)
    if isinstance(obj, sp.Rational):
        return int(obj.p) / int(obj.q)  # true division of ints is correctly rounded
    number = sp.sympify(obj)
    if isinstance(number, sp.Rational):
        return int(number) if number.q == 1 else float(Fraction(int(number.p), int(number.q)))
    return float(_decimal(number))
