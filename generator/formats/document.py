"""The format-neutral document of a sheet: its structure decided once, for every format.

`build_document(sheet, kind)` turns a sheet into a flat sequence of nodes
(header, problem headings, question parts, solution steps, answers, choice
lists).  A format only says how each node looks; it never decides what a
question sheet or a key contains, so a question sheet cannot show anything of
its key in one format and not in another.

A key is written for the exam's audience (`Exam.key`): a student key keeps every step
but leaves out the verification notes (steps with ``audience="instructor"``) and the
provenance line (problem id, seed, settings); an instructor key keeps everything.  Its
solution reads in part order: each part's steps, then the options of its choice
answers with a reason for every wrong one, under one "(a) The options" heading per
part.  A step belongs to the part its title starts with ("(b) Derivation …"; "(b), (c)
Checked …" belongs to the last one named); a step whose title names no part belongs
with the step before it.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..core.distractors import SLIPS, coincides, option_shown
from ..core.figures import Figure
from ..core.model import Answer, Part, Step, Variant, Vector
from ..core.printing import tex
from ..core.records import choice_letter
from ..core.values import scalar_kept
from .texbreak import visible_length
from ..exam.spec import Sheet

__all__ = ["COMMON_MISTAKES", "INSTRUCTOR", "STUDENT", "Cover", "Document", "FigureNode", "MissingReason",
           "build_document", "choice_letter", "common_mistakes", "for_audience", "options_step",
           "options_summary", "points_text", "shortened", "shown_options", "solution_blocks",
           "step_part"]

KINDS = ("questions", "key")
STUDENT, INSTRUCTOR = "student", "instructor"
KEY_TITLE = "Answer key"
COMMON_MISTAKES = "Common mistakes"


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
    running: str = ""          # plain text: the running head (student, variant, kind)
    build_id: str = ""         # the build's id (pipeline.sheets.build_id), "" outside a build
    node: str = "header"


@dataclass(frozen=True)
class Cover:
    """A question sheet's cover page (exam option `cover`): what the page shows besides the
    header's facts.  `rows` is the marking table: (slot label, points) per question."""
    form: str                  # plain text: the variant's id ("canonical", "v001")
    student_name: str          # plain text, "" without a roster (a field to fill in)
    student_id: str
    instructions: str          # user text
    rows: tuple[tuple[str, int], ...]
    total: int
    pledge: str                # user text, "" for none
    node: str = "cover"


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
class ChoiceGroup:
    """The options of one choice answer, lettered A, B, … in the order shown."""
    label: str                 # TeX: the answer's label when a part has several; else ""
    options: tuple[Any, ...]   # printed with `tex` (formulas; numbers with their decimals)


@dataclass(frozen=True)
class PartNode:
    part: Part
    groups: tuple[ChoiceGroup, ...] = ()   # options shown under the prompt (multiple choice)
    node: str = "part"


@dataclass(frozen=True)
class AnswerLine:
    answer: Answer
    letter: str = ""           # the correct option's letter, for a choice answer
    shown: Any = None          # the correct option as printed (numeric multiple choice)
    node: str = "answer"


@dataclass(frozen=True)
class AnswerSpace:
    """Room to write after a question (paper formats): the slot's `space`, one of "none",
    "third", "half", "full" (of a page) or a number of lines."""
    space: str | int
    node: str = "answer_space"


@dataclass(frozen=True)
class FigureNode:
    """A figure (core.figures) of a problem's statement or solution, as a question sheet
    (`question`: only what the question gives) or a key shows it.  name: unique in the
    document ("key-figure-1"), for formats that write a figure to a file of its own."""
    figure: Figure
    name: str
    question: bool
    node: str = "figure"


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
             f"Build {sheet.build_id}" if sheet.build_id else "",
             points_text(sheet.total_points) if sheet.total_points else ""]
    return tuple(f for f in facts if f)


def _instructions(exam) -> str:
    """The exam's instructions, then how to round: the sentence its grading rule gives."""
    return " ".join(t for t in (exam.instructions.rstrip(), exam.rounding_instruction()) if t)


def _manual_text(slot) -> str:
    """The points an exam slot grades by hand, with their rubrics (plain text), or ""."""
    lines = []
    for m in slot.manual if slot is not None else ():
        points = points_text(int(m.points)) if m.points.denominator == 1 \
            else f"{float(m.points):g} points"
        rubric = " ".join(m.rubric.split())
        lines.append((f"Part {m.part}, {points}" if m.part else points.capitalize())
                     + (f": {rubric}" if rubric else "."))
    return " ".join(lines)


def _provenance(sheet: Sheet, variant: Variant) -> str:
    origin = "canonical numbers" if variant.seed is None else f"seed {variant.seed}"
    changed = options_summary(variant.options)
    return (f"Problem `{variant.problem_id}`, variant {sheet.variant_id}, {origin}"
            + (f", options {changed}" if changed else "") + ".")


def shown_options(variant: Variant, answer: Answer) -> tuple[Any, ...]:
    """A choice answer's options as printed: formulas as they are, numbers (multiple-choice
    forms of numeric answers) exactly with a rounded decimal where it does not terminate."""
    if answer.name in variant.choice_forms:
        return tuple(option_shown(o, answer.digits) for o in answer.choices)
    return answer.choices


def _statement(variant: Variant, level: int) -> list:
    choice_answers = [a for a in variant.solution.answers if a.kind == "choice"]
    labels = [b.label for b in variant.statement if isinstance(b, Part)]

    def groups(answers) -> tuple[ChoiceGroup, ...]:
        several = len(answers) > 1
        return tuple(ChoiceGroup(a.label if several else "", shown_options(variant, a))
                     for a in answers)

    orphans = [a for a in choice_answers if a.part not in labels]
    blocks: list = []
    for block in variant.statement:
        if isinstance(block, Part):
            mine = [a for a in choice_answers if a.part == block.label]
            if block.label == labels[-1]:
                mine += orphans
            blocks.append(PartNode(block, groups(mine)))
        elif isinstance(block, Figure):
            blocks.append(FigureNode(block, "", False))
        else:
            blocks.append(StepNode(block, level))
    if orphans and not labels:
        blocks.append(PartNode(Part(""), groups(orphans)))
    return blocks


class MissingReason(ValueError):
    """A wrong option of a formula question that no declared mistake leads to."""


def _formula_reasons(variant: Variant, answer: Answer, several: bool) -> str:
    """A formula question: the correct option, and for every other option the declared
    mistake that leads to it (every option needs one: a problem declares a Mistake per
    wrong formula)."""
    why = {}
    for mistake in variant.mistakes:
        option = mistake.values.get(answer.name)
        if option is not None and option not in why:
            why[option] = mistake.why
    lines = []
    for i, option in enumerate(answer.choices):
        if option == answer.value:
            continue
        if option not in why:
            raise MissingReason(f"answer {answer.name}: option {choice_letter(i)} has no declared "
                                "mistake leading to it; declare a Mistake giving that option, "
                                "so that the key can say why it is wrong")
        lines.append(f"- {choice_letter(i)} is wrong: {_sentence_end(why[option])}")
    head = (f"For ${answer.label}$, option" if several else "Option")
    return f"{head} {choice_letter(answer.correct_index)} is correct.\n\n" + "\n".join(lines)


def _sentence_end(text: str) -> str:
    """`text` ending a sentence: with a full stop unless it ends with one (or ? or !)."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."


def _distractor_reasons(variant: Variant, answer: Answer, values: dict) -> str:
    """A numeric answer asked as multiple choice: the correct option, and for every other
    option, in a sentence, the mistake (or slip) that produces it."""
    form = variant.choice_forms[answer.name]
    mistakes = {m.id: m for m in variant.mistakes}
    correct = answer.correct_index
    key = f"o{len(values)}"
    values[key] = shown_options(variant, answer)[correct]
    lines = []
    for i, label in enumerate(form.labels):
        if label is None:
            continue
        letter = choice_letter(i)
        if label in mistakes:
            lines.append(f"- {letter} comes from a common mistake, {mistakes[label].label}: "
                         f"{_sentence_end(mistakes[label].why)}")
        else:
            lines.append(f"- {letter} {_sentence_end(SLIPS[label].reason)}")
    return (f"For ${answer.label}$, option {choice_letter(correct)} is correct: ${'@' + key}$.\n\n"
            + "\n".join(lines))


def options_step(variant: Variant, answers: list[Answer], part: str) -> Step:
    """The options of one part's choice answers, with a reason for every wrong option,
    under one heading."""
    values: dict = {}
    several = len(answers) > 1
    texts = [_distractor_reasons(variant, a, values) if a.name in variant.choice_forms
             else _formula_reasons(variant, a, several) for a in answers]
    return Step(title=f"{part} The options".strip(), text="\n\n".join(texts), values=values)


_PART_LABELS = re.compile(r"(\([^()\s]{1,8}\))(?:\s*(?:,|and)\s*(\([^()\s]{1,8}\)))*")


def step_part(step: Step, labels: list[str]) -> str | None:
    """The part a step's title says it belongs to: the last of the part labels it starts
    with ("(b), (c) Checked …" → "(c)"), or None."""
    match = _PART_LABELS.match(step.title)
    if not match:
        return None
    named = re.findall(r"\([^()\s]{1,8}\)", match.group(0))
    named = [label for label in named if label in labels]
    return named[-1] if named else None


def for_audience(step: Step, audience: str) -> Step | None:
    """The step as a key for `audience` shows it: None for a verification note in a
    student key, else the step with such notes among its substeps left out."""
    if audience == STUDENT and step.audience == INSTRUCTOR:
        return None
    if not step.substeps:
        return step
    kept = tuple(s for s in (for_audience(sub, audience) for sub in step.substeps) if s is not None)
    return step if len(kept) == len(step.substeps) else dataclasses.replace(step, substeps=kept)


def solution_blocks(variant: Variant, audience: str, level: int = 2) -> list:
    """A key's solution in part order: each part's steps (as `audience` sees them), then
    the options of its choice answers and why the others are wrong."""
    labels = [p.label for p in variant.parts]
    groups: dict[str | None, list[Step]] = {None: []}
    groups.update({label: [] for label in labels})
    current = None
    for step in variant.solution.steps:
        if isinstance(step, Figure):         # a figure stays with the part before it
            groups[current].append(step)
            continue
        current = step_part(step, labels) or current
        shown = for_audience(step, audience)
        if shown is not None:
            groups[current].append(shown)
    choices: dict[str, list[Answer]] = {}
    for answer in variant.solution.answers:
        if answer.kind == "choice":
            choices.setdefault(answer.part if answer.part in labels else "", []).append(answer)
    node = lambda step: FigureNode(step, "", False) if isinstance(step, Figure) else StepNode(step, level)
    blocks = [node(step) for step in groups[None]]
    for label in labels:
        blocks += [node(step) for step in groups[label]]
        if label in choices:
            blocks.append(StepNode(options_step(variant, choices[label], label), level))
    if "" in choices:           # choice answers that name no part of the statement
        orphans = choices[""]
        blocks.append(StepNode(options_step(variant, orphans, orphans[0].part), level))
    return blocks


def common_mistakes(variant: Variant) -> Step | None:
    """The declared mistakes that change an answer of this variant: each one's label, the
    values it gives and why it is wrong (None when no mistake changes an answer)."""
    forms = variant.choice_forms
    lines, values = [], {}
    for k, mistake in enumerate(variant.mistakes):
        gives = []
        for j, (name, value) in enumerate(mistake.values.items()):
            answer = variant.solution.get(name)
            if coincides(answer, value):
                continue
            key = f"m{k}v{j}"
            if answer.kind == "choice" and isinstance(answer.value, str):
                values[key] = value
                gives.append(f"the formula $@{key}$")
                continue
            if answer.kind == "formula":
                values[key] = value
                gives.append(f"${answer.label} = @{key}$")
                continue
            shown = option_shown(scalar_kept(value), answer.digits)
            first = _first_entry_if_wide(shown)
            if first is not None:          # a matrix too wide for a line of prose
                index, entry = first
                values[key] = entry
                text = (f"$\\left({answer.label}\\right)_{{{index}}} = @{key}$ (entry {index}; "
                        "the others are wrong the same way)")
            else:
                values[key] = shown
                text = f"${answer.label} = @{key}$"
            option = forms[name].mistakes.get(mistake.id) if name in forms else None
            if option is not None:
                text += f" (option {choice_letter(option)})"
            gives.append(text)
        if gives:
            listed = ", ".join(gives[:-1]) + " and " + gives[-1] if len(gives) > 1 else gives[0]
            lines.append(f"- {mistake.label} gives {listed}. Why it is wrong: "
                         f"{_sentence_end(mistake.why)}")
    if not lines:
        return None
    return Step(text="\n".join(lines), values=values)


#: A vector or matrix in a mistake's line wider than this (rough characters, see
#: formats.texbreak.visible_length) is shown by its first entry: prose cannot break it.
WIDE_IN_PROSE = 40


def _first_entry_if_wide(shown: Any):
    """("1,1" or "1", the first entry as shown) of a matrix or vector (a ShownOption) too
    wide for a line of prose, else None."""
    value = getattr(shown, "value", None)
    if not isinstance(value, (Vector, sp.MatrixBase)):
        return None
    if max(visible_length(row) for row in tex(shown).split(r"\\")) <= WIDE_IN_PROSE:
        return None
    if isinstance(value, Vector):
        return "1", option_shown(value[0], shown.digits)
    return ("1,1" if value.shape[1] > 1 else "1"), option_shown(value[0, 0], shown.digits)


def shortened(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters, with "…"
    when cut (a running head has room for one line)."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else head
    return cut.rstrip(" ,;:—-") + "…"


def _space(sheet: Sheet, item) -> str | int:
    """The room after a question: its exam slot's `space` (matched by label)."""
    for slot in sheet.exam.items:
        if slot.label == item.label:
            return slot.space
    return "third"


def build_document(sheet: Sheet, kind: str) -> Document:
    """The question sheet (kind "questions") or the answer key (kind "key") of a sheet; a key
    is written for the exam's audience (`Exam.key`, see the module's docstring)."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    key = kind == "key"
    audience = getattr(sheet.exam, "key", STUDENT)
    exam = sheet.exam
    student = "" if sheet.student is None else f"Student: {sheet.student.name} ({sheet.student.id})"
    # under a roster the variant is named by the student's id: the head names the student
    running = (f"{shortened(sheet.student.name, 40)} ({sheet.student.id})" if sheet.student
               else f"Variant {sheet.variant_id}")
    if key:
        running += f" — {KEY_TITLE}"
    blocks: list = [Header(exam.title, KEY_TITLE if key else "", _facts(sheet), student,
                           sheet.variant_id, running, build_id=sheet.build_id)]
    if not key and exam.cover:
        blocks.append(Cover(sheet.variant_id, sheet.student.name if sheet.student else "",
                            sheet.student.id if sheet.student else "", _instructions(exam),
                            tuple((i.label, i.points) for i in sheet.items), sheet.total_points,
                            exam.pledge))
    elif not key:
        blocks.append(Instructions(_instructions(exam)))
    for item in sheet.items:
        variant = item.variant
        blocks.append(ItemHeading(item.label, variant.title, item.points))
        if not key:
            blocks += _statement(variant, 1)
            blocks.append(AnswerSpace(_space(sheet, item)))
            continue
        if audience == INSTRUCTOR:
            blocks.append(Note(_provenance(sheet, variant)))
        blocks.append(Section("Question"))
        blocks += _statement(variant, 2)
        blocks.append(Section("Solution"))
        blocks += solution_blocks(variant, audience)
        forms = variant.choice_forms
        blocks.append(Section("Answers"))
        for a in variant.solution.answers:
            if a.kind != "choice":
                blocks.append(AnswerLine(a))
            elif a.name in forms:
                blocks.append(AnswerLine(a, choice_letter(a.correct_index),
                                         shown_options(variant, a)[a.correct_index]))
            else:
                blocks.append(AnswerLine(a, choice_letter(a.correct_index)))
        manual = _manual_text(exam.slot(item.label))
        if manual:
            blocks.append(Section("Graded by hand"))
            blocks.append(Instructions(manual))
        if exam.common_mistakes:
            mistakes = common_mistakes(variant)
            if mistakes is not None:
                blocks.append(Section(COMMON_MISTAKES))
                blocks.append(StepNode(mistakes, 2))
    return Document(kind, sheet, _figures(blocks, kind, exam.figures))


def _figures(blocks: list, kind: str, shown: bool) -> tuple:
    """The blocks with their figures named in order and, on a question sheet, as the question
    gives them (a figure of which it shows nothing left out); none when the exam turns
    figures off."""
    out, count = [], 0
    for block in blocks:
        if isinstance(block, FigureNode):
            question = kind == "questions"
            if not shown or (question and block.figure.question_view() is None):
                continue
            count += 1
            block = FigureNode(block.figure, f"{kind}-figure-{count}", question)
        out.append(block)
    return tuple(out)
