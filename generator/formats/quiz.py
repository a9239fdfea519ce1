"""What the quiz formats (moodle, qti) share: one question per exam slot and variant.

In the worker, `slot_questions(sheet, documents, mode)` cuts a sheet's two
documents at their problem headings: the question sheet's part of a slot becomes the
question's text, the key's part (solution, answers, common mistakes) its feedback,
both as HTML fragments with the mathematics in `mode`.  In the build's process,
`answer_fields(record)` turns the slot's answers.json record into the fields a
student fills in: one per number (a vector or matrix gives one per entry), each with
its value and its tolerance |a − b| ≤ abs + rel·|b| as one absolute width, and one
per choice answer with its options and the correct one.  The question text never
holds the key: the values live only in the fields' answer specifications and in the
feedback.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from numpy import format_float_positional

from ..core.printing import tex
from ..core.records import choice_letter, record_entries
from .document import AnswerSpace, ItemHeading, shown_options
from .html import render_blocks
from .htmlmarkup import html_math, text_html

__all__ = ["Field", "SlotCollector", "SlotQuestion", "answer_fields", "included", "slot_questions",
           "tolerance_width"]


@dataclass(frozen=True)
class SlotAnswer:
    name: str
    label: str                  # TeX
    part: str
    kind: str
    options: tuple[str, ...]    # HTML of each option, in the order shown (choice answers)


@dataclass(frozen=True)
class SlotQuestion:
    """One exam slot of one variant, rendered (picklable: it travels from the worker)."""
    position: int
    label: str
    title: str
    points: int
    text: str                   # HTML: the slot's part of the question sheet
    feedback: str               # HTML: the slot's part of the key
    answers: tuple[SlotAnswer, ...]


@dataclass(frozen=True)
class Field:
    """One blank to fill (a number) or one choice to make."""
    answer: str                 # the answer's name
    label: str                  # TeX: the answer's label, with the entry's index
    part: str
    kind: str                   # "number" or "choice"
    value: Any                  # float (number) or the correct option's 0-based index
    tolerance: float            # absolute width (numbers)
    options: tuple[str, ...] = ()
    weight: float = 1.0         # share of the slot's points


def _split(blocks) -> list[list]:
    slots: list[list] = []
    for block in blocks:
        if isinstance(block, ItemHeading):
            slots.append([])
        elif slots:
            slots[-1].append(block)
    return slots


def _after_question(blocks: list) -> list:
    """A slot's key without its heading, provenance and question: from "Solution" on."""
    for i, block in enumerate(blocks):
        if getattr(block, "node", "") == "section" and block.title == "Solution":
            return blocks[i:]
    return blocks


def slot_questions(sheet, documents, mode: str) -> list[SlotQuestion]:
    """A sheet's slots as questions: text from the question sheet, feedback from the key."""
    questions = _split(documents["questions"].blocks)
    keys = _split(documents["key"].blocks)
    out = []
    for position, (item, asked, key) in enumerate(zip(sheet.items, questions, keys)):
        asked = [b for b in asked if not isinstance(b, AnswerSpace)]
        answers = []
        for a in item.variant.solution.answers:
            options = ()
            if a.kind == "choice":
                options = tuple(html_math(tex(o), False, mode) for o in shown_options(item.variant, a))
            answers.append(SlotAnswer(a.name, a.label, a.part, a.kind, options))
        out.append(SlotQuestion(position, item.label, item.variant.title, item.points,
                                render_blocks(asked, mode, base=3),
                                render_blocks(_after_question(key), mode, base=3),
                                tuple(answers)))
    return out


def tolerance_width(tolerance: dict, value: float) -> float:
    """The absolute width a grader accepts around `value` (answers.json's rule)."""
    return float(tolerance["abs"]) + float(tolerance["rel"]) * abs(float(value))


def _indexed(label: str, index: str) -> str:
    """TeX of one entry of a labelled vector or matrix: x_{2}, or (label)_{2} for a
    label that is not a single symbol."""
    if re.fullmatch(r"[A-Za-z]|\\[A-Za-z]+", label.strip()):
        return f"{label.strip()}_{{{index}}}"
    return f"\\left({label}\\right)_{{{index}}}"


def _entries(record: dict, label: str):
    """(label, float) of every entry of a number, vector, list or matrix."""
    return [(_indexed(label, index) if index else label, value)
            for index, _, value in record_entries(record)]


def answer_fields(record: dict, slot: SlotQuestion) -> list[Field]:
    """The fields of one slot of one variant: answers.json's values and tolerances, in the
    order of the slot's answers; each answer's points shared among its entries."""
    fields = []
    answers = record["answers"]
    total = sum(float(a["points"]) for a in answers.values()) or 1.0
    for answer in slot.answers:
        data = answers[answer.name]
        share = float(data["points"]) / total
        if answer.kind == "choice":
            fields.append(Field(answer.name, answer.label, answer.part, "choice", int(data["value"]),
                                0.0, answer.options, share))
            continue
        entries = _entries(data, answer.label)
        for label, value in entries:
            fields.append(Field(answer.name, label, answer.part, "number", float(value),
                                tolerance_width(data["tolerance"], value), (), share / len(entries)))
    return fields


def included(summary, count: int) -> bool:
    """Whether a sheet becomes quiz questions: every random variant (or student); the
    canonical sheet, whose numbers are the published original, only when it is alone."""
    return summary.index != 0 or count == 1


class SlotCollector:
    """What the quiz formats' collectors share: each sheet's questions are written slot by
    slot to a scratch file per exam slot (in variant order, so memory stays flat), and the
    canonical sheet is kept only when it is the build's only sheet (`included`).  A
    subclass sets `scratch_name`, serialises one question in `element` and writes its file
    in `finish`, after `close_slots`."""
    scratch_name = ""

    def __init__(self, build, staging):
        self.exam, self.staging = build.exam, staging
        self.scratch = staging.scratch(self.scratch_name)
        self.files: dict[int, Any] = {}
        self.slots: dict[int, SlotQuestion] = {}       # the first question of each slot
        self.pending_canonical = None

    def element(self, variant_id: str, slot: SlotQuestion, problem: dict) -> bytes:
        raise NotImplementedError

    def slot_path(self, position: int):
        return self.scratch / f"slot{position}.xml"

    def _write(self, variant_id: str, slots, record) -> None:
        for slot, problem in zip(slots, record["problems"]):
            if slot.position not in self.files:
                self.files[slot.position] = open(self.slot_path(slot.position), "wb")
                self.slots[slot.position] = slot
            self.files[slot.position].write(self.element(variant_id, slot, problem))

    def add(self, summary, data) -> None:
        if summary.index == 0:
            self.pending_canonical = (summary, data)      # kept only if it stays alone
            return
        self._write(summary.variant_id, data, summary.record)

    def close_slots(self) -> None:
        """Write the canonical sheet if it is alone, and close every slot's file."""
        if not self.files and self.pending_canonical is not None:
            summary, data = self.pending_canonical
            if included(summary, 1):
                self._write(summary.variant_id, data, summary.record)
        for handle in self.files.values():
            handle.close()


def field_label_html(field: Field, mode: str) -> str:
    """How a field is introduced in the question text: its part and its label."""
    part = text_html(field.part, mode) + " " if field.part else ""
    if field.kind == "choice":
        return part + html_math(field.label, False, mode) + ":"
    return part + html_math(field.label + " =", False, mode)


def letters(count: int) -> list[str]:
    return [choice_letter(i) for i in range(count)]


def number_text(value: float) -> str:
    """A float as the shortest positional text that reads back to it ("0.000001", "2.98")."""
    return format_float_positional(float(value), trim="-")


def width_text(width: float) -> str:
    """A tolerance width to 6 significant digits (never 0 where the width is not)."""
    return number_text(float(f"{width:.6g}"))
