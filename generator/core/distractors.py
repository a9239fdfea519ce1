"""Multiple-choice forms of numeric answers: the correct value among labelled distractors.

An exam slot with ``multiple_choice = N`` turns each numeric answer (kinds number,
vector, matrix, list) of its problem into a choice among N options: the correct value
and N − 1 distractors.  The distractors are, in this order of preference,

1. each declared mistake's value for that answer, in the order the problem declares
   its mistakes (labelled with the mistake's id);
2. slips the engine makes up when the mistakes are too few (labelled with the slip's
   id, see `SLIPS`), in an order drawn from the answer's seeded stream.

Options are printed entry by entry: exactly where the decimal terminates, else rounded
to the answer's digits (`ShownOption`).  Every option differs from every other one, the
correct one included, by more than the answer's tolerance in at least one entry, and in
the text printed on the sheet (and in its entries rounded to the answer's digits).  When that cannot be met
the build draws the problem again (`NoDistinctOptions`).  The correct option's
position is uniform over the N positions, drawn from a stream derived from the
variant's seed and the answer's name (a fixed seed for the canonical variant), so
every format and every rebuild shows the same order.

The multiple-choice form is the variant with each such answer replaced by an Answer of
kind "choice" (`choices` = the option values in the order shown, `value` = the correct
one), and for each a `ChoiceForm` in `Variant.choice_forms` holding the label of every
option (mistake id, slip id, or None for the correct one).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping

import sympy as sp

from .model import Answer, ChoiceForm, Variant, Vector
from .printing import bmatrix, tex
from .numeric import approx_decimal, float_value, is_terminating
from .rng import VariantRng, derive_seed
from .values import exact, leaves, map_leaves, signature

__all__ = ["MIN_OPTIONS", "MAX_OPTIONS", "NUMERIC_KINDS", "NoDistinctOptions", "SLIPS",
           "ShownOption", "Slip", "distinct", "option_shown", "option_text", "with_multiple_choice"]

MIN_OPTIONS, MAX_OPTIONS = 3, 6
NUMERIC_KINDS = ("number", "vector", "matrix", "list")
#: The seed the canonical variant's option order is derived from (it has no seed of its own).
CANONICAL_ORDER_SEED = 0


class NoDistinctOptions(ValueError):
    """Too few options that differ at the precision shown: the problem must be drawn again."""


@dataclass(frozen=True)
class ShownOption:
    """A numeric option as printed: every entry exact where its decimal terminates, else
    rounded to `digits` significant digits (a closed form would give the working away and
    fill the line).  Printed by core.printing like any value (`_wsgen_latex`)."""
    value: Any
    digits: int

    def _wsgen_latex(self, printer) -> str:
        return option_text(self.value, self.digits)


def option_shown(value: Any, digits: int) -> ShownOption:
    """What an option (or a mistake's value in a key) looks like when printed."""
    return ShownOption(value, digits)


def _entry_text(e: Any, digits: int) -> str:
    return tex(e) if is_terminating(e) else approx_decimal(e, digits)


def option_text(value: Any, digits: int) -> str:
    """The TeX an option is printed as (see ShownOption)."""
    if isinstance(value, sp.MatrixBase):
        return bmatrix([[_entry_text(e, digits) for e in row]
                                          for row in value.tolist()])
    if isinstance(value, Vector):
        return bmatrix([[_entry_text(e, digits)] for e in value])
    if isinstance(value, tuple):
        return r"\left(" + r",\ ".join(option_text(e, digits) for e in value) + r"\right)"
    return _entry_text(value, digits)


def _rounded(value: Any, digits: int) -> tuple:
    return tuple(approx_decimal(e, digits) if not isinstance(e, tuple) else e
                 for e in signature(value))


def distinct(a: Any, b: Any, answer: Answer) -> bool:
    """True when a student can tell `a` from `b` on the sheet: a different shape, or some
    entry further apart than the answer's tolerance (|a − b| > abs + rel·max(|a|, |b|)),
    and different printed texts, exact and rounded to the answer's digits."""
    fa, fb = signature(a), signature(b)
    if len(fa) != len(fb) or any(isinstance(x, tuple) and x != y for x, y in zip(fa, fb)):
        return True
    tol = answer.tolerance
    far = False
    for x, y in zip(fa, fb):
        if isinstance(x, tuple):
            continue
        x, y = float(float_value(x)), float(float_value(y))
        if abs(x - y) > tol.abs + tol.rel * max(abs(x), abs(y)):
            far = True
            break
    return (far and option_text(a, answer.digits) != option_text(b, answer.digits)
            and _rounded(a, answer.digits) != _rounded(b, answer.digits))


# --- slips ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Slip:
    """A slip the engine makes up when a problem declares too few mistakes for an answer."""
    id: str
    label: str
    why: str
    apply: Callable[[Any], Any | None]       # the slipped value, or None where it does not apply


def _transposed(value):
    if isinstance(value, sp.MatrixBase) and value.rows == value.cols and value != value.T:
        return sp.ImmutableMatrix(value.T)
    return None


def _same_domain(correct, slipped) -> bool:
    """A slip keeps a list of counts or sizes (a shape: a tuple of non-negative integers)
    one: no shape of (0.2, 0.2) or (-2, -2) among the options.  (A single number that
    happens to be a whole number, a squared distance of 1, say, keeps every slip.)"""
    def counts(value) -> bool:           # (arithmetic as written is never a count here)
        return isinstance(value, tuple) and not isinstance(value, Vector) and all(
            isinstance(e, (sp.Integer, int)) and not isinstance(e, bool) and e >= 0
            for e in leaves(value))
    return not counts(correct) or counts(slipped)


_TWO, _TEN = sp.Integer(2), sp.Integer(10)
#: The engine's slips, by id.  Their order here does not matter: each answer draws its own.
SLIPS: Mapping[str, Slip] = MappingProxyType({s.id: s for s in (
    Slip("sign_flipped", "sign flipped", "a sign error: every entry has the opposite sign",
         lambda v: map_leaves(v, lambda e: -e)),
    Slip("times_10", "ten times too large", "a slipped decimal point: ten times the value",
         lambda v: map_leaves(v, lambda e: e * _TEN)),
    Slip("divided_by_10", "ten times too small", "a slipped decimal point: a tenth of the value",
         lambda v: map_leaves(v, lambda e: e / _TEN)),
    Slip("transposed", "transposed", "the matrix transposed: rows and columns swapped",
         _transposed),
    Slip("doubled", "doubled", "a spurious factor $2$: twice the value",
         lambda v: map_leaves(v, lambda e: e * _TWO)),
    Slip("halved", "halved", "a spurious factor $\\frac{1}{2}$: half the value",
         lambda v: map_leaves(v, lambda e: e / _TWO)),
)})


# --- the multiple-choice form -----------------------------------------------------------
def order_rng(variant: Variant, answer_name: str) -> VariantRng:
    """The stream that orders one answer's options: from the variant's seed, or a fixed
    seed for the canonical variant, and the answer's name."""
    base = CANONICAL_ORDER_SEED if variant.seed is None else variant.seed
    return VariantRng(derive_seed(base, 0, "mc:" + variant.problem_id + ":" + answer_name))


def _form(variant: Variant, answer: Answer, count: int) -> tuple[Answer, ChoiceForm]:
    correct = exact(answer.value)
    rng = order_rng(variant, answer.name)
    options: list[Any] = [correct]
    labels: list[str | None] = [None]
    shown: dict[str, int] = {}
    candidates = [(m.id, exact(m.values[answer.name])) for m in variant.mistakes
                  if answer.name in m.values]

    def index_of(value) -> int | None:
        """The option `value` cannot be told apart from, if any."""
        return next((i for i, o in enumerate(options) if not distinct(value, o, answer)), None)

    for mistake_id, value in candidates:
        same = index_of(value)
        if same is None and len(options) < count:
            options.append(value)
            labels.append(mistake_id)
            same = len(options) - 1
        if same is not None and same != 0:
            shown[mistake_id] = same
    slip_order = [list(SLIPS)[i] for i in rng.permutation(len(SLIPS))]
    for slip_id in slip_order:
        if len(options) >= count:
            break
        value = SLIPS[slip_id].apply(correct)
        if value is None or index_of(value) is not None or not _same_domain(correct, value):
            continue
        options.append(value)
        labels.append(slip_id)
    if len(options) < count:
        raise NoDistinctOptions(f"answer {answer.name}: only {len(options)} options that differ "
                                f"at the precision shown, {count} needed")
    # the correct option at a uniform position, the distractors in a seeded order around it
    position = rng.integer(0, count - 1)
    rest = [1 + i for i in rng.permutation(count - 1)]
    order = rest[:position] + [0] + rest[position:]
    new_index = {old: new for new, old in enumerate(order)}
    form = ChoiceForm(labels=[labels[i] for i in order],
                      mistakes={m: new_index[i] for m, i in shown.items()})
    choice = dataclasses.replace(answer, value=correct, kind="choice",
                                 choices=tuple(options[i] for i in order))
    return choice, form


def with_multiple_choice(variant: Variant, count: int) -> Variant:
    """The variant with every numeric answer asked as a choice among `count` options;
    raises NoDistinctOptions when some answer has too few options that differ."""
    if not MIN_OPTIONS <= count <= MAX_OPTIONS:
        raise ValueError(f"multiple choice needs {MIN_OPTIONS} to {MAX_OPTIONS} options, got {count}")
    answers, forms = [], {}
    for answer in variant.solution.answers:
        if answer.kind in NUMERIC_KINDS:
            answer, forms[answer.name] = _form(variant, answer, count)
        answers.append(answer)
    solution = dataclasses.replace(variant.solution, answers=tuple(answers))
    return dataclasses.replace(variant, solution=solution, choice_forms=forms, choice_count=count)
