"""The records that flow through the pipeline: steps, answers, solutions, variants.

Steps are data: they hold SymPy objects, never LaTeX or Markdown.  Prose is a
short string in which ``$...$`` marks inline mathematics (static TeX notation)
and ``@name`` inside mathematics stands for ``values[name]``, a SymPy object
that the single printing point (generator.printing) turns into TeX.  Display
lines follow the same rule.  The renderers turn one Step into Markdown, LaTeX
or JSON alike.
"""
from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import sympy as sp

__all__ = ["Answer", "Choices", "Shown", "Solution", "Step", "Tex", "Vector", "Variant", "WithDecimal", "exact_matrix", "exact_vector",
           "shown_dot", "shown_product", "shown_sum"]


class Vector(tuple):
    """A vector: shown as a column, serialised as a flat list."""


@dataclass(frozen=True)
class WithDecimal:
    """A value shown exactly, with a rounded decimal beside it if it does not terminate."""
    value: Any
    digits: int = 4


class Tex(str):
    """Fixed TeX notation written by a problem (a formula to choose, a label).

    Values never travel as Tex: they are SymPy objects printed by the printer."""


def exact_vector(values) -> Vector:
    """A Vector of exact rationals from decimal strings, ints or Fractions."""
    return Vector(sp.Rational(v) for v in values)


def exact_matrix(entries, shape: tuple[int, int] | None = None) -> sp.ImmutableMatrix:
    """An immutable matrix of exact rationals, from rows, or from a flat list and a shape."""
    if shape is None:
        return sp.ImmutableMatrix([[sp.Rational(v) for v in row] for row in entries])
    return sp.ImmutableMatrix(*shape, [sp.Rational(v) for v in entries])


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Choices:
    """A multiple-choice list: each option is a SymPy expression or a TeX formula."""
    options: tuple[Any, ...]


@dataclass(frozen=True)
class Step:
    """One small step of a worked solution, or one block of a question.

    title: a short heading (plain text); text: prose with ``$math$``;
    math: display lines (TeX notation with ``@name`` placeholders);
    values: the SymPy objects the placeholders name; choices: options to pick from;
    substeps: finer steps shown under this one.
    """
    title: str = ""
    text: str = ""
    math: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    choices: Choices | None = None
    substeps: tuple["Step", ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "values", _frozen(self.values))
        object.__setattr__(self, "math", tuple(self.math))
        object.__setattr__(self, "substeps", tuple(self.substeps))


@dataclass(frozen=True)
class Answer:
    """A named final result.  `label` is TeX notation; `value` is exact.

    value: a SymPy number or expression, arithmetic as written (Shown: exact, and
    cheaper than SymPy's expanded form of a long closed form), a Matrix, a Vector, or
    a tuple (a list of values over points).  `digits` asks for a rounded decimal beside values
    that are not terminating decimals.
    """
    name: str
    label: str
    value: Any
    digits: int = 4


@dataclass(frozen=True)
class Solution:
    steps: tuple[Step, ...]
    answers: tuple[Answer, ...]

    def __post_init__(self):
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "answers", tuple(self.answers))
        names = [a.name for a in self.answers]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate answer names in {names}")

    def answer(self, name: str) -> Any:
        for a in self.answers:
            if a.name == name:
                return a.value
        raise KeyError(name)


@dataclass(frozen=True)
class Variant:
    """One problem drawn for one variant: everything a renderer needs."""
    problem_id: str
    title: str
    seed: int | None            # None for the canonical variant
    options: Any                # the problem's Options record
    params: Any                 # the problem's Params record
    statement: tuple[Step, ...]
    solution: Solution
    redraws: int = 0


# --- arithmetic shown as written ------------------------------------------------
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


def shown_matrix(rows) -> ShownMatrix:
    return ShownMatrix(*[tuple(row) for row in rows])


__all__ += ["ShownDifference", "ShownMatrix", "ShownPower", "ShownProduct", "ShownQuotient",
            "ShownSum", "shown_difference", "shown_matrix", "shown_quotient", "shown_square"]
