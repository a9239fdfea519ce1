"""The records that flow through the pipeline: steps, parts, answers, mistakes, solutions.

Steps are data: they hold SymPy objects, never LaTeX or Markdown.  Prose is a
short string in which ``$...$`` marks inline mathematics (static TeX notation)
and ``@name`` inside mathematics stands for ``values[name]``, a SymPy object
that the single printing point (core.printing) turns into TeX.  Display lines
follow the same rule.  Every format renders the same records.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Mapping

import sympy as sp

from .lines import compile_lines

__all__ = ["ANSWER_KINDS", "AUDIENCES", "Answer", "CONSTRAINTS", "ChoiceForm", "Choices", "Expression",
           "Mistake", "Part", "Solution", "Step", "Tex", "Tolerance", "Variant", "Vector", "WithDecimal",
           "approx", "exact_matrix", "exact_vector"]


class Vector(tuple):
    """A vector: shown as a column, serialised as a flat list."""


@dataclass(frozen=True)
class WithDecimal:
    """A value shown exactly, with a rounded decimal beside it if it does not terminate."""
    value: Any
    digits: int = 4


def approx(value: Any, digits: int = 4) -> WithDecimal:
    """`value` shown exactly, with its decimal rounded to `digits` significant digits beside
    it where it does not terminate."""
    return WithDecimal(value, digits)


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
    """A multiple-choice list, in the order shown: SymPy expressions or TeX formulas."""
    options: tuple[Any, ...]


#: Who a step of a worked solution is for: "all" (every key) or "instructor" (a
#: verification note: how the key was checked, by SymPy say; left out of student keys).
AUDIENCES = ("all", "instructor")


@dataclass(frozen=True)
class Step:
    """One small step of a worked solution, or one block of a question.

    title: a short heading (plain text); text: prose with ``$math$``;
    math: display lines: `eq`/`line` (core.lines), or TeX notation with ``@name``
    placeholders;
    values: the SymPy objects the placeholders name; substeps: finer steps under this one.
    audience: "all", or "instructor" for a verification note (how the key was checked),
    which a student key leaves out; a note inside a step is a substep
    ``Step(text="SymPy verifies …", audience="instructor")``.
    """
    title: str = ""
    text: str = ""
    math: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    substeps: tuple["Step", ...] = ()
    audience: str = "all"

    def __post_init__(self):
        if self.audience not in AUDIENCES:
            raise ValueError(f"step {self.title or self.text[:40]!r}: audience must be one of "
                             f"{', '.join(map(repr, AUDIENCES))}, got {self.audience!r}")
        math, values = compile_lines(self.math, self.values)
        object.__setattr__(self, "values", _frozen(values))
        object.__setattr__(self, "math", math)
        object.__setattr__(self, "substeps", tuple(self.substeps))


@dataclass(frozen=True)
class Part:
    """One part of a question, "(a)", "(b)", …: its label and its prompt.

    The answers of a part name it (`Answer.part`); a multiple-choice answer's options are
    shown under its part's prompt."""
    label: str
    text: str = ""
    math: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        math, values = compile_lines(self.math, self.values)
        object.__setattr__(self, "values", _frozen(values))
        object.__setattr__(self, "math", math)


@dataclass(frozen=True)
class Tolerance:
    """How close a student's number must be to count as right: |a − b| ≤ abs + rel·|b|,
    entry by entry.  The default accepts an answer rounded to four significant digits."""
    abs: float = 1e-6
    rel: float = 1e-3


@dataclass(frozen=True)
class Expression:
    """The value of a formula answer (kind "formula"): `text` in the formula grammar
    (core/formula.py: `2*(W*x)*x^T`), graded by what it means, not by how it is written.

    symbols: the names a formula may use and their shapes at this variant, (rows, cols),
    () for a number; definitions: names that stand for an expression of the symbols (or a
    number the question gives), in order (`{"yhat": "sigma(z)", "m": "4"}`); tex: how a
    name prints when the default (Greek names as letters, trailing digits as a subscript)
    does not fit (`{"W2": "W^{[2]}"}`).  A mistake's value for a formula answer is
    `answer_value.instead(text)`: the same names, the mistaken formula."""
    text: str
    symbols: tuple[tuple[str, tuple[int, ...]], ...]
    definitions: tuple[tuple[str, str], ...] = ()
    tex: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        for name in ("symbols", "definitions", "tex"):
            value = getattr(self, name)
            pairs = value.items() if isinstance(value, Mapping) else value
            object.__setattr__(self, name, tuple((k, tuple(v) if name == "symbols" else str(v))
                                                 for k, v in pairs))

    def instead(self, text: str) -> "Expression":
        """Another formula over the same names (a mistake's)."""
        return Expression(text, self.symbols, self.definitions, self.tex)

    def parsed(self):
        """The formula read (core.formula.Parsed); FormulaError naming the problem when
        the author's text is not in the grammar."""
        from .formula import names_of, parse
        return parse(self.text, names_of(dict(self.symbols), dict(self.definitions),
                                         dict(self.tex)))

    def _wsgen_latex(self, printer) -> str:
        # the printing point's hook (core.printing): TeX from the formula's own tree
        from .formula import to_tex
        return to_tex(self.parsed(), printer.doprint)


ANSWER_KINDS = ("number", "vector", "matrix", "choice", "list", "formula")

#: What a problem may declare of an answer's value (`Answer.constraints`), entry by entry
#: unless said otherwise.  Multiple-choice slips that break one are not offered
#: (core.distractors), and the self-test checks that the correct value keeps them.
CONSTRAINTS = {
    "nonnegative": "every entry is at least 0",
    "positive": "every entry is greater than 0",
    "probability": "every entry lies in [0, 1]",
    "sums_to_one": "the entries add up to 1 (a matrix: each row does)",
    "integer": "every entry is a whole number",
    "count": "every entry is a whole number of at least 0 (a count, a size, a shape)",
}


def _kind_of(value: Any) -> str:
    if isinstance(value, Expression):
        return "formula"
    if isinstance(value, sp.MatrixBase) or type(value).__name__ == "ShownMatrix":
        return "matrix"
    if isinstance(value, Vector):
        return "vector"
    if isinstance(value, tuple):
        return "list"
    return "number"


@dataclass(frozen=True)
class Answer:
    """A named final result.  `label` is TeX notation; `value` is exact.

    value: a SymPy number or expression, arithmetic as written (Shown), a Matrix, a
    Vector, a tuple (a list of values over points), an Expression (a formula, graded by
    what it means), or, for kind "choice", the correct option itself (one of `choices`).
    kind: "number", "vector", "matrix", "list", "formula" (inferred from the value) or
    "choice".
    points: this answer's share of the problem's points, relative to the other answers'
    (default 1 each); part: the label of the question part it answers ("(a)").
    digits: significant digits of the rounded decimal shown beside a non-terminating value.
    constraints: what the value is known to satisfy, names from `CONSTRAINTS`
    (("nonnegative",) for a loss, ("probability", "sums_to_one") for a softmax output).
    """
    name: str
    label: str
    value: Any
    digits: int = 4
    kind: str = ""
    tolerance: Tolerance = Tolerance()
    points: Fraction | int = 1
    part: str = ""
    choices: tuple[Any, ...] = ()
    constraints: tuple[str, ...] = ()

    def __post_init__(self):
        if isinstance(self.constraints, str):
            object.__setattr__(self, "constraints", (self.constraints,))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        unknown = [c for c in self.constraints if c not in CONSTRAINTS]
        if unknown:
            raise ValueError(f"answer {self.name}: unknown constraint {unknown[0]!r} "
                             f"(known: {', '.join(CONSTRAINTS)})")
        if not self.kind:
            object.__setattr__(self, "kind", "choice" if self.choices else _kind_of(self.value))
        if self.kind not in ANSWER_KINDS:
            raise ValueError(f"answer {self.name}: unknown kind {self.kind!r} "
                             f"(known: {', '.join(ANSWER_KINDS)})")
        if (self.kind == "formula") != isinstance(self.value, Expression):
            raise ValueError(f"answer {self.name}: a formula answer's value is an Expression, "
                             "and an Expression is the value of a formula answer")
        if self.kind == "formula":
            from .formula import FormulaError, shape_of
            try:
                shape_of(self.value.parsed())
            except FormulaError as exc:
                raise ValueError(f"answer {self.name}: formula {self.value.text!r}: {exc}") from None
        if self.kind == "choice":
            object.__setattr__(self, "choices", tuple(self.choices))
            if self.value not in self.choices:
                raise ValueError(f"answer {self.name}: the correct option is not among its choices")
        if Fraction(self.points) < 0:
            raise ValueError(f"answer {self.name}: points must not be negative")

    @property
    def correct_index(self) -> int:
        """The 0-based position of the correct option (choice answers)."""
        return self.choices.index(self.value)


@dataclass(frozen=True)
class Mistake:
    """A common mistake: what a student who makes it writes, computed from the same parameters.

    id: a stable identifier (`no_transpose`); label: a few words; why: one line saying
    what is wrong; values: {answer name: the exact value the mistaken method gives}
    for the answers it affects (for a choice answer: the option it leads to)."""
    id: str
    label: str
    why: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "values", _frozen(self.values))


def mistakes_that_apply(work: Any, *rules) -> tuple[Mistake, ...]:
    """The problem's mistakes for one variant: each rule (a function of the solution's work
    giving a Mistake, or None where that mistake does not apply) called in order, the Nones
    left out."""
    return tuple(m for m in (rule(work) for rule in rules) if m is not None)


@dataclass(frozen=True)
class Solution:
    """A worked solution: its steps, its answers, and `work`, the problem's own record of
    the exact intermediate results (any object; `check` and `mistakes` may reuse it)."""
    steps: tuple[Step, ...]
    answers: tuple[Answer, ...]
    work: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "answers", tuple(self.answers))
        names = [a.name for a in self.answers]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate answer names in {names}")

    def answer(self, name: str) -> Any:
        return self.get(name).value

    def get(self, name: str) -> Answer:
        for a in self.answers:
            if a.name == name:
                return a
        raise KeyError(name)


@dataclass(frozen=True)
class ChoiceForm:
    """How a numeric answer is asked as multiple choice (an exam slot's `multiple_choice`):
    `labels[i]` names where option i comes from (a mistake id, a slip id of
    core.distractors.SLIPS, None for the correct option); `mistakes` maps every mistake whose
    value for this answer is shown to the option it leads to."""
    labels: tuple[str | None, ...]
    mistakes: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "mistakes", _frozen(self.mistakes))


@dataclass(frozen=True)
class Variant:
    """One problem drawn for one variant: everything a renderer needs.

    choice_forms: {answer name: ChoiceForm} for the numeric answers asked as multiple choice
    (empty when answers are written freely); choice_count: options per such answer;
    choice_redraws: how often the problem was drawn again because its options could not be
    told apart.
    coinciding: (mistake id, answer name) of every declared mistake whose value for that
    answer equals the correct one within its tolerance in this variant: such a value is
    left out of the mistake (not offered, not diagnosed) and only counted here."""
    problem_id: str
    title: str
    seed: int | None            # None for the canonical variant
    options: Any                # the problem's Options record
    params: Any                 # the problem's Params record
    statement: tuple[Any, ...]  # Steps and Parts, in order
    solution: Solution
    mistakes: tuple[Mistake, ...] = ()
    redraws: int = 0
    choice_forms: Mapping[str, ChoiceForm] = field(default_factory=dict)
    choice_count: int = 0
    choice_redraws: int = 0
    coinciding: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "choice_forms", _frozen(self.choice_forms))
        object.__setattr__(self, "coinciding", tuple(self.coinciding))

    @property
    def parts(self) -> tuple[Part, ...]:
        return tuple(block for block in self.statement if isinstance(block, Part))

    def is_formula_choice(self, answer: "Answer") -> bool:
        """Whether `answer` is a choice among formulas the problem wrote (not a numeric
        answer asked as multiple choice)."""
        return answer.kind == "choice" and answer.name not in self.choice_forms


# --- checking a problem's Params --------------------------------------------------------
_MUTABLE_FIXES = (
    (list, "a list: Params hold immutable values; use a tuple, or exact_vector(...) for a vector"),
    (dict, "a dict: Params hold immutable values; use a tuple of (key, value) pairs or a "
           "frozen dataclass"),
    (set, "a set: Params hold immutable values; use a frozenset or a sorted tuple"),
    (sp.MutableDenseMatrix, "a mutable sp.Matrix: use sp.ImmutableMatrix, or "
                            "exact_matrix(...)"),
    (float, "a float, which is inexact: use an exact number, sp.Rational(\"0.1\") or a "
            "Fraction"),
)


def params_problem(params: Any, params_type: type) -> str | None:
    """Why a problem's parameters cannot stand for a variant (named field and fix), or None.
    They must be the problem's own Params record, whose fields hold immutable, hashable,
    exact values: SymPy numbers and immutable matrices, Vectors, tuples, strings, ints."""
    if type(params) is not params_type:
        return (f"expected a {params_type.__name__} record, got {type(params).__name__}: "
                f"canonical() and generate() return {params_type.__name__}(...)")
    import dataclasses

    for f in dataclasses.fields(params):
        why = _value_problem(getattr(params, f.name))
        if why is not None:
            return f"{params_type.__name__}.{f.name} is {why}"
    return None


def _value_problem(value: Any) -> str | None:
    for kind, why in _MUTABLE_FIXES:
        if isinstance(value, kind) and not isinstance(value, bool):
            return why
    if type(value).__module__ == "numpy":
        return ("a NumPy value: Params hold exact values; use sp.ImmutableMatrix, a tuple or "
                "SymPy numbers")
    if isinstance(value, tuple):
        for item in value:
            why = _value_problem(item)
            if why is not None:
                return f"a tuple holding {why}"
        return None
    try:
        hash(value)
    except TypeError:
        return (f"a {type(value).__name__}, which is not hashable: Params hold immutable "
                "values (SymPy numbers, sp.ImmutableMatrix, Vector, tuples)")
    return None
