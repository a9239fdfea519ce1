"""Values a key defines once and then refers to by name (the row sum σ₁, the hidden value
h₂,₁): printed as the name, exact everywhere else (JSON, answers.csv, checks).

`defined(tex_name, value)` returns a SymPy expression that prints as `tex_name` in TeX,
whose exact string is its full closed form and which evaluates as that closed form (with
mpmath, cached: named values recur in every later one).  Used by `attention` and
`rnn_step`; see docs/authoring.md.
"""
from __future__ import annotations

import re
from functools import lru_cache

import mpmath
import sympy as sp
from mpmath.libmp import prec_to_dps

__all__ = ["Defined", "defined"]


class Defined(sp.Function):
    """A value the key defines in one step and refers to by name afterwards (the row sum
    σ₁, say).  In TeX it prints as its name; its exact string (JSON, answers.csv) is its full
    closed form, and it evaluates as that closed form: answers stay exact while the key
    stays short.  One subclass per name (`defined`), so equal values with different names
    stay different."""
    nargs = 1
    tex_name = ""

    def _wsgen_latex(self, printer, exp=None, **kwargs):
        return self.tex_name if exp is None else "%s^{%s}" % (self.tex_name, exp)

    def _sympystr(self, printer, **kwargs):
        key = (self, printer._settings.get("order"))
        text = _STRINGS.get(key)
        if text is None:
            if len(_STRINGS) > 4096:
                _STRINGS.clear()
            text = _STRINGS[key] = "(" + printer._print(self.args[0]) + ")"
        return text

    def _eval_evalf(self, prec):
        return sp.Float._new(_value(self, prec)._mpf_, prec)


_STRINGS: dict = {}     # a name's exact string, printed once (it recurs in many answers)


_FUNCTIONS = {sp.tanh: mpmath.tanh, sp.exp: mpmath.exp}


@lru_cache(maxsize=4096)
def _value(node, prec):
    """A named value in mpmath, `prec` bits plus guard bits, cached: named values recur
    throughout the later ones (SymPy's own evalf would evaluate them again each time)."""
    with mpmath.workprec(prec + 30):
        return +_mp(node.args[0], prec)


def _mp(e, prec):
    if isinstance(e, Defined):
        return _value(e, prec)
    if isinstance(e, sp.Rational):
        return mpmath.mpf(int(e.p)) / int(e.q)
    if isinstance(e, sp.Add):
        return mpmath.fsum(_mp(a, prec) for a in e.args)
    if isinstance(e, sp.Mul):
        return mpmath.fprod(_mp(a, prec) for a in e.args)
    if isinstance(e, sp.Pow):
        base, exp = e.args
        if isinstance(exp, sp.Integer):
            return _mp(base, prec) ** int(exp)
        return mpmath.power(_mp(base, prec), _mp(exp, prec))
    if e is sp.E:
        return mpmath.e
    function = _FUNCTIONS.get(e.func)
    if function is not None:
        return function(_mp(e.args[0], prec))
    return mpmath.mpf(sp.N(e, prec_to_dps(prec) + 10)._mpf_)


_NAMES: dict[str, type] = {}


def defined(tex_name: str, value) -> sp.Expr:
    """`value` shown as `tex_name`.  A rational, or a rational multiple of one named value,
    needs no name of its own: it is returned as it is (so that such values still cancel
    exactly, e.g. δ − δ = 0)."""
    value = sp.sympify(value)
    coeff, rest = value.as_coeff_Mul()
    if isinstance(value, sp.Rational) or isinstance(rest, Defined):
        return value
    cls = _NAMES.get(tex_name)
    if cls is None:
        # the class name depends on the name alone (SymPy orders the terms of a sum by it, so
        # the key's text must not depend on which names a process met first), and sorts as
        # the names do: h_{1,1} before h_{1,2}
        ident = re.sub(r"\W", "_", tex_name)
        cls = _NAMES[tex_name] = type(f"Defined_{ident}", (Defined,),
                                      {"tex_name": tex_name, "__module__": __name__})
    return cls(value)
