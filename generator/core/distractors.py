"""Multiple-choice forms of numeric answers: the correct value among labelled distractors.

An exam slot with ``multiple_choice = N`` turns each numeric answer (kinds number,
vector, matrix, list) of its problem into a choice among N options: the correct value
and N − 1 distractors.  The distractors are, in this order of preference,

1. each declared mistake's value for that answer, in the order the problem declares
   its mistakes (labelled with the mistake's id);
2. slips the engine makes up when the mistakes are too few (labelled with the slip's
   id, see `SLIPS`), in an order drawn from the answer's seeded stream.

A slip is offered only where it is plausible (`plausible_slip`): its value keeps every
constraint the answer declares (`Answer.constraints`: no negative loss, no probability
above 1, no shape of (0.2, 0.2)); and a decimal slip (×10, ÷10), which moves the value a
whole decade, is offered only when another wrong option already lies on its side of the
correct value (larger for ×10, smaller for ÷10, by the largest entry in absolute value:
so that it is not the one option standing apart by its size), and not together with its
inverse (the correct value would be the middle one of three options with the same
digits).  A decimal slip refused is tried again after the other slips; only then, when
the options are still too few, may it join its inverse.  Some slips suit one kind of
answer only (`Slip.requires`): the complement 1 − p a probability, a distribution's
entries squared, square-rooted or reversed (then scaled to add up to 1) a distribution.

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

A declared mistake whose value for an answer equals the correct one within the answer's
tolerance in a variant (`coincides`) is neither offered nor diagnosed there:
`honest_mistakes` leaves that value out of the mistake when the variant is drawn, and
the variant records it (`Variant.coinciding`, counted by `wsgen stress`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping

import sympy as sp

from .model import Answer, ChoiceForm, Mistake, Solution, Variant, Vector
from .printing import bmatrix, tex
from .numeric import approx_decimal, float_value, floats, is_terminating
from .rng import VariantRng, derive_seed
from .values import exact, leaves, map_leaves, signature

__all__ = ["MIN_OPTIONS", "MAX_OPTIONS", "NUMERIC_KINDS", "NoDistinctOptions", "SLIPS",
           "ShownOption", "Slip", "coincides", "distinct", "honest_mistakes", "option_shown",
           "option_text", "plausible_slip", "satisfies", "with_multiple_choice"]

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
    """A slip the engine makes up when a problem declares too few mistakes for an answer.

    label: a few words (stress reports, answers.json readers); reason: what the option is
    and why, written to follow its letter in a sentence ("D is ten times too large: a
    slipped decimal point.")."""
    id: str
    label: str
    reason: str
    apply: Callable[[Any], Any | None]       # the slipped value, or None where it does not apply
    decade: int = 0                          # +1 / -1: a decimal slip up / down a decade
    requires: str = ""                       # a constraint the answer must declare

    @property
    def why(self) -> str:
        """The reason as a sentence of its own (quiz feedback): "The option is ten times
        too large: a slipped decimal point"."""
        return "The option " + self.reason


def _transposed(value):
    if isinstance(value, sp.MatrixBase) and value.rows == value.cols and value != value.T:
        return sp.ImmutableMatrix(value.T)
    return None


def _distributions(value) -> list[list] | None:
    """The rows of a distribution (a vector's entries, or each row of a matrix), or None."""
    if isinstance(value, sp.MatrixBase):
        return [list(row) for row in value.tolist()]
    if isinstance(value, Vector):
        return [list(value)]
    return None


def _rebuilt(value, rows: list[list]):
    if isinstance(value, sp.MatrixBase):
        return sp.ImmutableMatrix(rows)
    return Vector(rows[0])


def _renormalised(power):
    """Each distribution's entries raised to `power` and scaled to add up to 1 again: the
    softmax of the logits times `power` when the distribution is a softmax."""
    def apply(value):
        rows = _distributions(value)
        if rows is None:
            return None
        out = []
        for row in rows:
            raised = [e ** power for e in row]
            total = sp.Add(*raised)
            out.append([r / total for r in raised])
        return _rebuilt(value, out)
    return apply


def _reversed(value):
    rows = _distributions(value)
    if rows is None or all(row == row[::-1] for row in rows):
        return None
    return _rebuilt(value, [row[::-1] for row in rows])


_TWO, _TEN = sp.Integer(2), sp.Integer(10)
#: The engine's slips, by id.  Their order here does not matter: each answer draws its own.
SLIPS: Mapping[str, Slip] = MappingProxyType({s.id: s for s in (
    Slip("sign_flipped", "sign flipped", "has every sign flipped: a sign error",
         lambda v: map_leaves(v, lambda e: -e)),
    Slip("times_10", "ten times too large", "is ten times too large: a slipped decimal point",
         lambda v: map_leaves(v, lambda e: e * _TEN), decade=1),
    Slip("divided_by_10", "ten times too small", "is ten times too small: a slipped decimal point",
         lambda v: map_leaves(v, lambda e: e / _TEN), decade=-1),
    Slip("transposed", "transposed", "is the transpose: rows and columns swapped",
         _transposed),
    Slip("doubled", "doubled", "is twice the value: a spurious factor $2$",
         lambda v: map_leaves(v, lambda e: e * _TWO)),
    Slip("halved", "halved", "is half the value: a spurious factor $\\frac{1}{2}$",
         lambda v: map_leaves(v, lambda e: e / _TWO)),
    # for probabilities only
    Slip("complement", "complement", "is one minus the probability: the other outcome's",
         lambda v: map_leaves(v, lambda e: 1 - e), requires="probability"),
    # for distributions only (entries that add up to 1)
    Slip("sharpened", "too peaked", "is too peaked: each probability squared and scaled to add "
         "up to $1$ again, as if the logits were doubled", _renormalised(_TWO),
         requires="sums_to_one"),
    Slip("flattened", "too flat", "is too flat: the square root of each probability, scaled to "
         "add up to $1$ again, as if the logits were halved", _renormalised(sp.Rational(1, 2)),
         requires="sums_to_one"),
    Slip("reversed", "classes reversed", "gives each probability to another class: the "
         "entries in reverse order", _reversed, requires="sums_to_one"),
)})


# --- constraints ------------------------------------------------------------------------
_SLACK = 1e-12          # float rounding allowed when an exact value is compared as a float


def _is_whole(e) -> bool:
    e = exact(e)
    return isinstance(e, (int, sp.Integer)) or (isinstance(e, sp.Rational) and e.q == 1)


def _rows(value) -> list[list[float]]:
    """The rows whose entries must add up to 1: a matrix's rows, else all entries as one."""
    value = exact(value)
    if isinstance(value, sp.MatrixBase) and value.cols > 1:
        return [floats(list(row)) for row in value.tolist()]
    return [floats(value)]


def _counts(value) -> bool:
    """A list of counts or sizes (a shape): a tuple of non-negative integers."""
    return isinstance(value, tuple) and not isinstance(value, Vector) and all(
        isinstance(e, (sp.Integer, int)) and not isinstance(e, bool) and e >= 0
        for e in leaves(value))


def satisfies(value: Any, constraints) -> bool:
    """Whether `value` keeps every constraint named (core.model.CONSTRAINTS)."""
    for name in constraints:
        if name == "nonnegative" and not all(x >= -_SLACK for x in floats(value)):
            return False
        if name == "positive" and not all(x > 0 for x in floats(value)):
            return False
        if name == "probability" and not all(-_SLACK <= x <= 1 + _SLACK for x in floats(value)):
            return False
        if name == "sums_to_one" and not all(abs(sum(row) - 1) <= 1e-9 for row in _rows(value)):
            return False
        if name in ("integer", "count") and not all(_is_whole(e) for e in leaves(value)):
            return False
        if name == "count" and not all(x >= 0 for x in floats(value)):
            return False
    return True


def constraints_of(answer: Answer, correct: Any) -> tuple[str, ...]:
    """The answer's declared constraints, and "count" for a list of non-negative integers
    (a shape like conv2d's (3, 3): no (0.3, 0.3) or (-3, -3) among its options)."""
    return answer.constraints + (("count",) if _counts(correct) else ())


def _size(value: Any) -> float:
    return max((abs(x) for x in floats(value)), default=0.0)


def _inverse_chosen(slip: Slip, chosen: list[str | None]) -> bool:
    return any(label in SLIPS and SLIPS[label].decade == -slip.decade for label in chosen
               if label is not None)


def plausible_slip(slip: Slip, value: Any, correct: Any, constraints, chosen: list[str | None],
                   options: list[Any], last_resort: bool = False) -> bool:
    """Whether a slip's `value` may be offered beside the options chosen so far (`options`,
    the correct one first; `chosen`: their labels): it keeps the answer's constraints, and
    a decimal slip is not the only option a decade away on its side of the correct value,
    nor (unless as a `last_resort`) offered with its inverse (see the module's docstring)."""
    if not satisfies(value, constraints):
        return False
    if not slip.decade:
        return True
    if not last_resort and _inverse_chosen(slip, chosen):
        return False
    size = _size(correct)
    others = [_size(o) for label, o in zip(chosen, options) if label is not None]
    return any(o > size for o in others) if slip.decade > 0 else any(o < size for o in others)


# --- honest mistakes ----------------------------------------------------------------------
def coincides(answer: Answer, value: Any) -> bool:
    """Whether a mistake's `value` for `answer` is the correct value (within the answer's
    tolerance, entry by entry; a formula to choose, or a formula answer: the same text)."""
    if answer.kind == "choice" and isinstance(answer.value, str) or answer.kind == "formula":
        return value == answer.value
    got, want = floats(value), floats(answer.value)
    if len(got) != len(want):
        return False
    tol = answer.tolerance
    return all(abs(x - y) <= tol.abs + tol.rel * max(abs(x), abs(y)) for x, y in zip(got, want))


def honest_mistakes(mistakes, solution: Solution) -> tuple[tuple[Mistake, ...], tuple]:
    """The mistakes without the values that equal the correct answer in this variant (a
    mistake left without any value is left out), and (mistake id, answer name) of each
    value left out."""
    kept, coinciding = [], []
    for mistake in mistakes:
        values = {}
        for name, value in mistake.values.items():
            if coincides(solution.get(name), value):
                coinciding.append((mistake.id, name))
            else:
                values[name] = value
        if len(values) == len(mistake.values):
            kept.append(mistake)
        elif values:
            kept.append(dataclasses.replace(mistake, values=values))
    return tuple(kept), tuple(coinciding)


# --- the multiple-choice form -----------------------------------------------------------
def order_rng(variant: Variant, answer_name: str) -> VariantRng:
    """The stream that orders one answer's options: from the variant's seed, or a fixed
    seed for the canonical variant, and the answer's name."""
    base = CANONICAL_ORDER_SEED if variant.seed is None else variant.seed
    return VariantRng(derive_seed(base, 0, "mc:" + variant.problem_id + ":" + answer_name))


def _offer(slip_id: str, correct, constraints, options: list, labels: list, index_of, count: int,
           later: list | None) -> None:
    """Add a slip's value to the options if there is room, it applies, it differs from
    every option and it is plausible.  In the first pass (`later` given) a decimal slip
    refused for its side or its inverse goes to `later`; in the last pass (`later` None) it
    may join its inverse, when the options are still too few."""
    if len(options) >= count:
        return
    slip = SLIPS[slip_id]
    if slip.requires and slip.requires not in constraints:
        return
    value = slip.apply(correct)
    if value is None or index_of(value) is not None:
        return
    if not plausible_slip(slip, value, correct, constraints, labels, options,
                          last_resort=later is None):
        if later is not None and slip.decade and satisfies(value, constraints):
            later.append(slip_id)
        return
    options.append(value)
    labels.append(slip_id)


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
    constraints = constraints_of(answer, correct)
    slip_order = [list(SLIPS)[i] for i in rng.permutation(len(SLIPS))]
    later: list[str] = []        # decimal slips refused for now: tried again at the end
    for slip_id in slip_order:
        _offer(slip_id, correct, constraints, options, labels, index_of, count, later)
    for slip_id in later:
        _offer(slip_id, correct, constraints, options, labels, index_of, count, None)
    if len(options) < count:
        kept = f" and keep its constraints ({', '.join(constraints)})" if constraints else ""
        raise NoDistinctOptions(f"answer {answer.name}: only {len(options)} options that differ "
                                f"at the precision shown{kept}, {count} needed (ask fewer "
                                "options, or declare more mistakes for it)")
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
