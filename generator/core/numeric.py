"""Exact values evaluated: decimals, floats and exact strings, from one evaluator.

Closed forms and arithmetic as written (core.shown) are evaluated with mpmath at a
fixed working precision (cached: the same closed forms recur in the steps, the
answers and the JSON); rationals exactly.  This is the numeric half of what used to be
the printing module: `core.printing` turns values into TeX, this module into numbers
and SymPy-parsable strings (the JSON contract's "exact" and "value").
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from typing import Any

import mpmath
import sympy as sp

from .model import Tex
from .shown import (Shown, ShownDifference, ShownPower, ShownProduct, ShownQuotient,
                    ShownRounded, ShownSum)
from .values import leaves, scalar_kept

__all__ = ["approx_decimal", "exact_str", "float_value", "floats", "is_terminating",
           "terminating_digits"]


def terminating_digits(q: int) -> int | None:
    """Digits after the point of p/q if it terminates, else None."""
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    return max(twos, fives) if q == 1 else None



def is_terminating(obj: Any) -> bool:
    """True when every entry is a rational with a terminating decimal expansion.
    (Arithmetic as written counts as not terminating: it gets a rounded decimal.)"""
    for e in leaves(obj):
        if isinstance(e, Shown):
            return False
        if not isinstance(e, sp.Rational):       # SymPy's own numbers need no sympify
            e = sp.sympify(e)
            if not isinstance(e, sp.Rational):
                return False
        if _terminating_digits(int(e.q)) is None:
            return False
    return True


_terminating_digits = lru_cache(maxsize=4096)(terminating_digits)


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


def floats(value: Any) -> list[float]:
    """The float64 nearest to every entry of a value, in reading order (a number kept as
    written is evaluated from its working, without building its exact value)."""
    try:
        return list(_floats_cached(type(value), value))
    except TypeError:                    # unhashable (a mutable matrix)
        return [float(float_value(e)) for e in leaves(scalar_kept(value))]


@lru_cache(maxsize=8192)
def _floats_cached(kind: type, value: Any) -> tuple[float, ...]:
    # keyed on the type too, as the printer's cache is; a variant compares each answer
    # with every mistake's value, when drawn and again when its key is written
    return tuple(float(float_value(e)) for e in leaves(scalar_kept(value)))
