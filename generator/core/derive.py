"""Formulas derived or verified by SymPy, once per problem and shape.

Every general formula a key shows (a gradient in matrix form, a derivative's cases, a
cost's definition) is either SymPy's own result or checked against it.  A problem states
it in one line inside a function that `derive_once` runs once per key (the problem's
id and the variant's shape) and caches::

    def _formulas(m, n):
        W, x = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("x", n, 1)
        L = (W * x).T * (W * x)
        dW = derived(L.diff(W), name="dL/dW")                         # SymPy's result, shown
        verified(L.diff(W), 2 * (W * x) * x.T, name="dL/dW = 2(Wx)x^T")  # a stated form, checked
        return {"dW": dW}

    def solve(self, params, options):
        facts = derive_once((self.id, m, n), lambda: _formulas(m, n))

`verified` raises CheckFailed naming the formula when SymPy disagrees: inside `solve`,
so the load-time self-test, the property tests and every build stop before a document
is written.  A result is cached only when every check passed.  Each formula is recorded
under its problem's id (`derivations(problem_id)`), so a test can list them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, TypeVar

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from .problem import CheckFailed

__all__ = ["Formula", "clear_derivations", "derivations", "derive_once", "derived", "verified"]

T = TypeVar("T")


@dataclass(frozen=True)
class Formula:
    """One formula a problem's key relies on: `how` is "derived" (SymPy's result is what
    the key uses or shows), "verified" (a stated form that SymPy confirmed) or "derived
    and verified" (SymPy's result, also checked against another derivation)."""
    problem: str
    name: str
    how: str


_CACHE: dict[tuple, Any] = {}
_RECORDS: dict[str, dict[str, Formula]] = {}
_CURRENT: list[str] = []     # the problem whose derivation is running (innermost last)


def derive_once(key: tuple, fn: Callable[[], T]) -> T:
    """fn() once per key, cached; key[0] is the problem's id, the rest its shape (any
    hashable settings the formulas depend on).  A failure (CheckFailed) is not cached."""
    try:
        return _CACHE[key]
    except KeyError:
        pass
    _CURRENT.append(str(key[0]))
    try:
        result = fn()
    finally:
        _CURRENT.pop()
    _CACHE[key] = result
    return result


def clear_derivations() -> None:
    """Forget every cached derivation and record (tests that corrupt a formula)."""
    _CACHE.clear()
    _RECORDS.clear()


def derivations(problem: str) -> tuple[Formula, ...]:
    """The formulas recorded for a problem so far (after one of its variants is solved)."""
    return tuple(_RECORDS.get(problem, {}).values())


def _problem(problem: str | None) -> str:
    if problem is not None:
        return problem
    if not _CURRENT:
        raise RuntimeError("derived/verified outside derive_once: pass problem=")
    return _CURRENT[-1]


def _record(name: str, how: str, problem: str | None) -> str:
    pid = _problem(problem)
    known = _RECORDS.setdefault(pid, {}).get(name)
    if known is None:
        _RECORDS[pid][name] = Formula(pid, name, how)
    elif how not in known.how.split(" and "):
        _RECORDS[pid][name] = Formula(pid, name, "derived and verified")
    return pid


def derived(expr: T, *, name: str, problem: str | None = None) -> T:
    """Record that `expr`, SymPy's own result, is a formula of the key; return it."""
    _record(name, "derived", problem)
    return expr


def _short(value: Any) -> str:
    text = " ".join(sp.sstr(value).split())
    return text if len(text) <= 160 else text[:157] + "..."


def _explicit(value):
    """A matrix expression of fixed shape as an explicit matrix of its entries: its matrix
    symbols replaced by matrices of their elements, then multiplied out (much faster than
    SymPy's `as_explicit`, which sums entry by entry)."""
    if isinstance(value, MatrixExpr):
        symbols = {s: sp.ImmutableMatrix(s.as_explicit()) for s in value.atoms(sp.MatrixSymbol)}
        result = value.xreplace(symbols).doit()
        if isinstance(result, sp.MatrixBase):
            return result
        return value.as_explicit()
    if isinstance(value, sp.Basic) and not isinstance(value, sp.MatrixBase) \
            and hasattr(value, "as_explicit"):
        # an array expression: SymPy's derivative of a 1 × 1 matrix with respect to a matrix
        # of another shape, indexed (i, j, 1, 1); drop the unit dimensions of the 1 × 1
        array = value.as_explicit()
        shape = list(getattr(array, "shape", ()))
        while len(shape) > 2 and shape[-1] == 1:
            shape.pop()
        if len(shape) == 2 and isinstance(array, sp.NDimArray):
            return sp.ImmutableMatrix(*shape, sp.flatten(array.tolist()))
    return value


def _is_zero(expr, zero: Callable[[Any], bool] | None) -> bool:
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    if zero is not None:
        return bool(zero(expr))
    if expr.has(sp.Piecewise):
        folded = sp.piecewise_fold(expr)
        if isinstance(folded, sp.Piecewise):
            return all(c == sp.false or _is_zero(e, None) for e, c in folded.args)
    if sp.expand(expr) == 0:
        return True
    if _vanishes_in_exponentials(expr):
        return True
    return sp.simplify(expr) == 0


def _vanishes_in_exponentials(expr) -> bool:
    """Whether `expr`, a rational function of exponentials e^{k·x} (k an integer, x a
    symbol), is zero: each e^{k·x} written as t_x^k (t_x = e^x > 0), the rational function
    of the t_x cancels to 0.  True proves the difference zero; False decides nothing (the
    caller simplifies).  Far faster than `simplify`, which also imports SymPy's units."""
    powers = {}
    for power in expr.atoms(sp.exp):
        k, x = power.args[0].as_coeff_Mul()
        if not (x.is_Symbol and k.is_Integer):
            return False
        powers[power] = (x, int(k))
    if not powers:
        return False
    bases = {x: sp.Dummy(positive=True) for x, _ in powers.values()}
    rational = expr.xreplace({p: bases[x] ** k for p, (x, k) in powers.items()})
    if rational.atoms(sp.Function) or any(x in rational.free_symbols for x in bases):
        return False
    return sp.cancel(rational) == 0


def _equal(lhs, rhs, zero) -> bool:
    lhs, rhs = _explicit(lhs), _explicit(rhs)
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        if not (isinstance(lhs, sp.MatrixBase) and isinstance(rhs, sp.MatrixBase)):
            return False
        if lhs.shape != rhs.shape:
            return False
        return all(_is_zero(a - b, zero) for a, b in zip(lhs, rhs))
    return _is_zero(sp.sympify(lhs) - sp.sympify(rhs), zero)


def verified(lhs: Any, rhs: T, *, name: str, problem: str | None = None,
             at: Iterable[dict] = (), zero: Callable[[Any], bool] | None = None) -> T:
    """Return `rhs`, the form the key states, once SymPy confirms it equals `lhs` (what
    SymPy computes from the definitions); raise CheckFailed naming the formula otherwise.

    Scalars, explicit matrices and matrix expressions of a fixed shape (compared entry by
    entry) are accepted.  `at`: substitutions at which both sides must also agree exactly
    (the points where a piecewise formula changes branch, say).  `zero`: how to decide
    that a difference vanishes, when expanding and simplifying would be slow."""
    pid = _problem(problem)
    try:
        same = _equal(lhs, rhs, zero)
        for point in at:
            if same:
                same = _equal(_explicit(lhs).subs(point), _explicit(rhs).subs(point), None)
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - a formula SymPy cannot compare is not verified
        raise CheckFailed(f"{pid}: formula {name!r} could not be verified by SymPy: "
                          f"{type(exc).__name__}: {exc}") from None
    if not same:
        raise CheckFailed(f"{pid}: formula {name!r} is not what SymPy derives: "
                          f"SymPy gives {_short(lhs)}, the key states {_short(rhs)}")
    _record(name, "verified", problem)
    return rhs
