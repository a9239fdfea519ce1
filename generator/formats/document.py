"""The format-neutral document of a sheet: its structure decided once, for every format.

`build_document(sheet, kind)` turns a sheet into a flat sequence of nodes
(header, problem headings, question parts, solution steps, answers, choice
lists).  A format only says how each node looks; it never decides what a
question sheet or a key contains, so a question sheet cannot show anything of
its key in one format and not in another.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..core.model import Answer, Part, Step, Variant
from ..exam.spec import Sheet

__all__ = ["CHOICE_LETTERS", "Document", "build_document", "choice_letter", "options_summary",
           "points_text"]

CHOICE_LETTERS = "ABCDEFGHIJ"
KINDS = ("questions", "key")
KEY_TITLE = "Answer key"


def choice_letter(index: int) -> str:
    return CHOICE_LETTERS[index]


def points_text(points: int) -> str:
    return f"{points} point" + ("" if points == 1 else "s")


def options_summary(options) -> str:
    """Settings that differ from the defaults, as `name=value, …` (empty if none)."""
    default = type(options)()
    changed = [f"{f.name}={getattr(options, f.name)}" for f in dataclasses.fields(options)
               if getattr(options, f.name) != getattr(default, f.name)]
    return ", ".join(changed)


# --- nodes ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Header:
    title: str                 # user text
    subtitle: str              # "" or "Answer key"
    facts: tuple[str, ...]     # plain text: course, date, variant, points
    student: str               # plain text, "" without a roster
    variant_id: str
    node: str = "header"


@dataclass(frozen=True)
class Instructions:
    text: str                  # user text
    node: str = "instructions"


@dataclass(frozen=True)
class ItemHeading:
    label: str
    title: str
    points: int
    node: str = "item_heading"


@dataclass(frozen=True)
class Note:
    """An emphasised line of prose markup (a key's provenance)."""
    text: str
    node: str = "note"


@dataclass(frozen=True)
class Section:
    title: str
    node: str = "section"


@dataclass(frozen=True)
class StepNode:
    step: Step
    level: int                 # heading depth of the step's title below the problem heading
    node: str = "step"


@dataclass(frozen=True)
class PartNode:
    part: Part
    choices: tuple[Any, ...]   # options shown under the prompt (multiple choice), in order
    node: str = "part"


@dataclass(frozen=True)
class AnswerLine:
    answer: Answer
    letter: str = ""           # the correct option's letter, for a choice answer
    node: str = "answer"


@dataclass(frozen=True)
class AnswerSpace:
    """Room to write (paper formats); `lines` grows with the problem's points."""
    lines: int
    node: str = "answer_space"


@dataclass(frozen=True)
class Document:
    kind: str                  # "questions" or "key"
    sheet: Sheet
    blocks: tuple[Any, ...]

    @property
    def is_key(self) -> bool:
        return self.kind == "key"


# --- building ------------------------------------------------------------------------
def _facts(sheet: Sheet) -> tuple[str, ...]:
    facts = [sheet.exam.course, sheet.exam.date, f"Variant {sheet.variant_id}",
             points_text(sheet.total_points) if sheet.total_points else ""]
    return tuple(f for f in facts if f)


def _provenance(sheet: Sheet, variant: Variant) -> str:
    origin = "canonical numbers" if variant.seed is None else f"seed {variant.seed}"
    changed = options_summary(variant.options)
    return (f"Problem `{variant.problem_id}`, variant {sheet.variant_id}, {origin}"
            + (f", options {changed}" if changed else "") + ".")


def _statement(variant: Variant, level: int) -> list:
    choice_answers = [a for a in variant.solution.answers if a.kind == "choice"]
    blocks: list = []
    for block in variant.statement:
        if isinstance(block, Part):
            shown = tuple(o for a in choice_answers if a.part == block.label for o in a.choices)
            blocks.append(PartNode(block, shown))
        else:
            blocks.append(StepNode(block, level))
    return blocks


def _choice_reasons(variant: Variant, answer: Answer) -> Step:
    """Why each other option is wrong, from the mistakes that lead to it."""
    why = {}
    for mistake in variant.mistakes:
        option = mistake.values.get(answer.name)
        if option is not None and option not in why:
            why[option] = mistake.why
    lines = [f"- {choice_letter(i)} is wrong: {why.get(option, 'it is not the formula asked for')}."
             for i, option in enumerate(answer.choices) if option != answer.value]
    return Step(title=f"{answer.part} The options".strip(),
                text=f"Option {choice_letter(answer.correct_index)} is correct.\n\n" + "\n".join(lines))


def build_document(sheet: Sheet, kind: str) -> Document:
    """The question sheet (kind "questions") or the answer key (kind "key") of a sheet."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    key = kind == "key"
    exam = sheet.exam
    student = "" if sheet.student is None else f"Student: {sheet.student.name} ({sheet.student.id})"
    blocks: list = [Header(exam.title, KEY_TITLE if key else "", _facts(sheet), student,
                           sheet.variant_id)]
    if not key and exam.instructions:
        blocks.append(Instructions(exam.instructions))
    for item in sheet.items:
        variant = item.variant
        blocks.append(ItemHeading(item.label, variant.title, item.points))
        if not key:
            blocks += _statement(variant, 1)
            blocks.append(AnswerSpace(item.points))
            continue
        blocks.append(Note(_provenance(sheet, variant)))
        blocks.append(Section("Question"))
        blocks += _statement(variant, 2)
        blocks.append(Section("Solution"))
        blocks += [StepNode(step, 2) for step in variant.solution.steps]
        for answer in variant.solution.answers:
            if answer.kind == "choice":
                blocks.append(StepNode(_choice_reasons(variant, answer), 2))
        blocks.append(Section("Answers"))
        blocks += [AnswerLine(a, choice_letter(a.correct_index) if a.kind == "choice" else "")
                   for a in variant.solution.answers]
    return Document(kind, sheet, tuple(blocks))
