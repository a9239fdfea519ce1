"""What the quiz formats (moodle, qti) share: the slots of a sheet as questions, and their fields.

In the worker, `slot_questions(sheet, documents, mode)` cuts a sheet's two documents at
their problem headings: the question sheet's part of a slot becomes the question's text
(and, for formats asking one field at a time, the text of each of its parts alone with
the slot's data), the key's part (solution, answers, common mistakes) its feedback, and
each declared mistake (and each engine slip behind a multiple-choice option) a short
note, "label: why", all as HTML fragments with the mathematics in `mode`.

In the build's process, `answer_fields(record, slot)` turns the slot's answers.json record
into the fields a student fills in, in quizref.slot_fields' order: one per number (a
vector or matrix gives one per entry), each with its value and its tolerance
|a − b| ≤ abs + rel·|b| as one absolute width, and one per choice answer with its options
and the correct one.  Each field carries its exact share of the slot's points and what
the declared mistakes give there: for a number, every mistake value that a grader would
not accept as right (with the same tolerance, mistakes giving the same value together);
for a choice, the mistakes (or slips) behind each option.  The question text never holds
the key: the values live only in the fields' answer specifications and in the feedback.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from numpy import format_float_positional

from ..core.distractors import SLIPS
from ..core.printing import tex
from ..core.records import choice_letter, entries
from .document import AnswerSpace, ItemHeading, PartNode, shown_options
from .html import render_blocks
from .htmlmarkup import html_math, html_text, text_html
from .quizref import field_points, slot_fields

__all__ = ["Field", "MistakeNote", "SlotCollector", "SlotQuestion", "WrongValue", "answer_fields",
           "included", "slot_questions", "tolerance_width"]


@dataclass(frozen=True)
class SlotAnswer:
    name: str
    label: str                  # TeX
    part: str
    kind: str
    options: tuple[str, ...]    # HTML of each option, in the order shown (choice answers)


@dataclass(frozen=True)
class MistakeNote:
    """A declared mistake (or an engine slip) as a student reads it in feedback."""
    id: str
    html: str                   # inline HTML: "<strong>label</strong>: why"


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
    notes: tuple[MistakeNote, ...] = ()
    parts: tuple[tuple[str, str], ...] = ()    # (part label, HTML of the slot's data and
                                               # that part alone), when asked for

    def note(self, mistake_id: str) -> str:
        """The note of a mistake or slip ("" if unknown)."""
        return next((n.html for n in self.notes if n.id == mistake_id), "")

    def text_of_part(self, part: str) -> str:
        """The slot's data and one part's question (the whole text for another part)."""
        return dict(self.parts).get(part, self.text)


@dataclass(frozen=True)
class WrongValue:
    """A value declared mistakes give for a number, and the width a grader accepts around it."""
    value: float
    tolerance: float
    mistakes: tuple[str, ...]   # their ids, in the problem's order


@dataclass(frozen=True)
class Field:
    """One blank to fill (a number) or one choice to make."""
    number: int                 # 1-based position in the slot (quizref.slot_fields)
    answer: str                 # the answer's name
    entry: str                  # "" (a scalar or a choice), "i" or "i,j"
    label: str                  # TeX: the answer's label, with the entry's index
    part: str
    kind: str                   # "number" or "choice"
    value: Any                  # float (number) or the correct option's 0-based index
    tolerance: float            # absolute width (numbers)
    points: Fraction            # exact share of the slot's points
    options: tuple[str, ...] = ()
    wrong: tuple[WrongValue, ...] = ()                  # numbers
    option_mistakes: tuple[tuple[str, ...], ...] = ()   # choices: per option


def _split(blocks) -> list[list]:
    slots: list[list] = []
    for block in blocks:
        if isinstance(block, ItemHeading):
            slots.append([])
        elif slots:
            slots[-1].append(block)
    return slots


def _after_question(blocks: list) -> list:
    """A slot's key without its heading, provenance and question: from "Solution" on, after
    the question's figures as the key draws them (the question's text shows them as a
    question sheet does)."""
    for i, block in enumerate(blocks):
        if getattr(block, "node", "") == "section" and block.title == "Solution":
            figures = [b for b in blocks[:i] if getattr(b, "node", "") == "figure"]
            return figures + blocks[i:]
    return blocks


def _inline(html: str) -> str:
    """A one-paragraph HTML fragment without its <p> (several paragraphs stay as they are)."""
    html = str(html).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html


def _note(mistake_id: str, label: str, why: str, mode: str) -> MistakeNote:
    return MistakeNote(mistake_id, f"<strong>{text_html(label, mode)}</strong>: "
                                   f"{_inline(html_text(why, {}, mode))}")


def _notes(variant, mode: str) -> tuple[MistakeNote, ...]:
    notes = [_note(m.id, m.label, m.why, mode) for m in variant.mistakes]
    known = {m.id for m in variant.mistakes}
    for form in variant.choice_forms.values():
        for label in form.labels:
            if label is not None and label not in known and label in SLIPS:
                notes.append(_note(label, SLIPS[label].label, SLIPS[label].why, mode))
                known.add(label)
    return tuple(notes)


def _part_texts(asked: list, mode: str) -> tuple[tuple[str, str], ...]:
    """For each part of a slot: its data (every block that is not a part) and that part."""
    labels = [b.part.label for b in asked if isinstance(b, PartNode)]
    if len(labels) < 2:
        return ()
    return tuple((label, render_blocks([b for b in asked if not isinstance(b, PartNode)
                                        or b.part.label == label], mode, base=3))
                 for label in dict.fromkeys(labels))


def slot_questions(sheet, documents, mode: str, per_part: bool = False) -> list[SlotQuestion]:
    """A sheet's slots as questions: text from the question sheet, feedback from the key,
    mistakes' notes; with `per_part`, each part's text alone with the slot's data."""
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
                                tuple(answers), _notes(item.variant, mode),
                                _part_texts(asked, mode) if per_part else ()))
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


def _mistake_entry(record: dict, entry: str) -> float | None:
    """A mistake's value of one entry of a numeric answer (None where it gives none)."""
    try:
        for index, _, value in entries(record.get("exact"), record.get("value")):
            if index == entry and isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
    except ValueError:
        pass
    return None


def _wrong_values(name: str, entry: str, value: float, tolerance: dict,
                  mistakes: list[dict]) -> tuple[WrongValue, ...]:
    """The declared mistakes' values of one entry that a grader would not accept as right,
    those within tolerance of one another together."""
    found: list[WrongValue] = []
    for mistake in mistakes:
        record = mistake.get("answers", {}).get(name)
        given = None if record is None else _mistake_entry(record, entry)
        if given is None or abs(given - value) <= tolerance_width(tolerance, value):
            continue
        for i, seen in enumerate(found):
            if abs(given - seen.value) <= tolerance_width(tolerance, seen.value):
                found[i] = WrongValue(seen.value, seen.tolerance, seen.mistakes + (mistake["id"],))
                break
        else:
            found.append(WrongValue(given, tolerance_width(tolerance, given), (mistake["id"],)))
    return tuple(found)


def _option_mistakes(name: str, answer: dict, mistakes: list[dict]) -> tuple[tuple[str, ...], ...]:
    """Per option of a choice answer, the mistakes (or slips) that lead to it: the
    manifest's "distractors", then every mistake whose option for this answer it is."""
    out = []
    distractors = answer.get("distractors") or []
    for index in range(len(answer["options"])):
        ids: list[str] = []
        if index < len(distractors) and isinstance(distractors[index], str):
            ids.append(distractors[index])
        for mistake in mistakes:
            record = mistake.get("answers", {}).get(name)
            if record is None or index == answer["value"]:
                continue
            chosen = record.get("option") if "option" in record else record.get("exact")
            if chosen == choice_letter(index) and mistake["id"] not in ids:
                ids.append(mistake["id"])
        out.append(tuple(ids) if index != answer["value"] else ())
    return tuple(out)


def answer_fields(record: dict, slot: SlotQuestion) -> list[Field]:
    """The fields of one slot of one variant, from answers.json's values, tolerances and
    mistakes, in quizref.slot_fields' order (the slot's answers in order)."""
    answers, mistakes = record["answers"], record.get("mistakes", [])
    shown = {a.name: a for a in slot.answers}
    fields = []
    for number, (key, points) in enumerate(zip(slot_fields(record), field_points(record)), start=1):
        data, answer = answers[key.answer], shown[key.answer]
        if key.kind == "choice":
            fields.append(Field(number, key.answer, "", answer.label, answer.part, "choice",
                                int(data["value"]), 0.0, points, answer.options,
                                option_mistakes=_option_mistakes(key.answer, data, mistakes)))
            continue
        value = next(float(v) for e, _, v in entries(data["exact"], data["value"]) if e == key.entry)
        fields.append(Field(number, key.answer, key.entry,
                            _indexed(answer.label, key.entry) if key.entry else answer.label,
                            answer.part, "number", value, tolerance_width(data["tolerance"], value),
                            points, wrong=_wrong_values(key.answer, key.entry, value,
                                                        data["tolerance"], mistakes)))
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
