"""What the quiz files (moodle, qti) promise the readers of an LMS's exports (grading/lms.py).

A quiz question is found again in an LMS's export by a reference printed in its text,
because neither export carries an id the files could set (Moodle's Responses report
shows each question's text as plain text, Canvas's Student Analysis heads each column
with it):

    Ref. TAG/VARIANT/SLOT          a Moodle question: one exam slot of one variant
    Ref. TAG/VARIANT/SLOT/FIELD    a QTI item: one field of that slot

TAG is six letters derived from the build id (`build_tag`: responses of another build,
another exam or another roster secret, are recognised as such), VARIANT the variant's id (v001, a student's
id, canonical), SLOT the slot's position in the exam (1, 2, …) and FIELD the field's
position in the slot (1, 2, …).  Letters only in the tag, so that the reference never
reads as one of the numbers a question asks for.

A slot's fields, in order (`slot_fields`): its answers in answers.json's order, a choice
one field, a number one field per entry (core.records order: row by row).  A Moodle cloze
question numbers them part 1, part 2, … in that order; a QTI item is one of them.

`field_points` gives each field its exact share of the slot's points (an answer's points
shared equally among its entries, as `wsgen grade` scores them) and `whole_shares` rounds
shares to whole units summing exactly to a total (largest remainders).  A formula answer
(kind "formula") is no field: an LMS compares typed text, not what a formula means, so a
quiz asks the numbers only and shares the slot's points among them in their proportions
(their shares scaled by points / (points − the formula answers' shares)); `wsgen grade`
grades formula answers from typed responses.

Nothing heavy is imported here: grading reads exports without SymPy.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from ..core.records import record_entries, record_points

__all__ = ["FieldKey", "REFERENCE", "Reference", "answer_whole_shares", "build_tag", "field_points", "find_reference",
           "quiz_record", "reference", "slot_fields", "whole_shares"]

#: A reference in a question's text (the variant: a variant or student id, see exam/roster.py).
REFERENCE = re.compile(r"Ref\. ([a-z]{6})/(canonical|[A-Za-z0-9][A-Za-z0-9._-]{0,63})/"
                       r"([1-9][0-9]{0,5})(?:/([1-9][0-9]{0,5}))?(?![A-Za-z0-9._/-])")


@dataclass(frozen=True)
class Reference:
    tag: str
    variant: str
    slot: int                   # 1-based position of the exam slot
    field: int | None           # 1-based position of the field in the slot (QTI items)


@dataclass(frozen=True)
class FieldKey:
    """One blank of a slot: which answer, which entry ("" for a scalar or a choice)."""
    answer: str
    entry: str
    kind: str                   # "number" or "choice"


def build_tag(build_id: str) -> str:
    """Six letters naming the build (its id, pipeline.sheets.build_id: answers.json's
    "build"), so that the exports of another build are told apart."""
    digest = hashlib.sha256(f"wsgen-quiz-tag\n{build_id}".encode("utf-8")).digest()
    return "".join(chr(ord("a") + byte % 26) for byte in digest[:6])


def reference(tag: str, variant: str, slot: int, field: int | None = None) -> str:
    """The reference text of a question (slot) or an item (slot and field), 1-based."""
    return f"Ref. {tag}/{variant}/{slot}" + ("" if field is None else f"/{field}")


def find_reference(text: str) -> Reference | None:
    """The first reference in a text (a question's text as an export shows it), or None."""
    match = REFERENCE.search(text or "")
    if match is None:
        return None
    tag, variant, slot, field = match.groups()
    return Reference(tag, variant, int(slot), None if field is None else int(field))


def slot_fields(problem: dict) -> list[FieldKey]:
    """The fields of one slot of one variant, from its answers.json record, in order."""
    fields = []
    for name, answer in problem["answers"].items():
        if answer["kind"] == "formula":          # not asked in a quiz: see field_points
            continue
        if answer["kind"] == "choice":
            fields.append(FieldKey(name, "", "choice"))
        else:
            fields += [FieldKey(name, entry, "number") for entry, _, _ in record_entries(answer)]
    return fields


def quiz_record(problem: dict) -> dict:
    """A slot's answers.json record as a quiz asks it: formula answers left out, the other
    answers' shares scaled to the slot's points (so that an LMS's marks and `wsgen grade
    --moodle/--canvas` weigh each field alike)."""
    formulas = sum((record_points(a["points"]) for a in problem["answers"].values()
                    if a["kind"] == "formula"), Fraction(0))
    if not formulas:
        return problem
    total = record_points(problem.get("points", 0))
    scale = total / (total - formulas) if total > formulas else Fraction(1)
    answers = {name: dict(answer, points=float(record_points(answer["points"]) * scale))
               for name, answer in problem["answers"].items() if answer["kind"] != "formula"}
    return dict(problem, answers=answers)


def field_points(problem: dict) -> list[Fraction]:
    """Each field's exact share of the slot's points, in `slot_fields` order (quiz_record:
    formula answers left out, the other answers' shares scaled to the slot's points)."""
    out = []
    for answer in quiz_record(problem)["answers"].values():
        share = record_points(answer["points"])
        count = 1 if answer["kind"] == "choice" else len(record_entries(answer))
        out += [share / count] * count
    return out


def answer_whole_shares(fields: Sequence[FieldKey], shares: Sequence[Fraction],
                        total: Fraction | int, unit: Fraction = Fraction(1)) -> list[int]:
    """`whole_shares` in two steps: first each answer's share of `total` (its fields'
    shares summed) in whole units, then each answer's units among its fields.  Where the
    units are fewer than the fields, every answer still gets its fair share of them
    before any answer gets a second one."""
    names = list(dict.fromkeys(f.answer for f in fields))
    by_answer = {name: [i for i, f in enumerate(fields) if f.answer == name] for name in names}
    answer_units = whole_shares([sum((shares[i] for i in by_answer[n]), Fraction(0)) for n in names],
                                total, unit)
    counts = [0] * len(fields)
    for name, units in zip(names, answer_units):
        mine = by_answer[name]
        for i, c in zip(mine, whole_shares([shares[i] for i in mine], units * unit, unit)):
            counts[i] = c
    return counts


def whole_shares(shares: Sequence[Fraction], total: Fraction | int,
                 unit: Fraction = Fraction(1)) -> list[int]:
    """`shares` in whole numbers of `unit` that sum to exactly `total` / `unit`: each
    share rounded down, the units left over given to the largest remainders (the
    earlier field first on a tie).  Exact where every share is a whole number of units."""
    target = int(Fraction(total) / unit)
    scaled = [Fraction(s) / unit for s in shares]
    counts = [int(s) for s in scaled]                     # shares are not negative
    left = target - sum(counts)
    order = sorted(range(len(scaled)), key=lambda i: (-(scaled[i] - counts[i]), i))
    while left > 0 and order:
        for i in order[:left]:
            counts[i] += 1
        left = target - sum(counts)
    for i in reversed(order):                             # (shares summing above the total)
        if left >= 0:
            break
        if counts[i]:
            counts[i] -= 1
            left += 1
    return counts
