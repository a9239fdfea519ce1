"""Exams, students, and the sheets built from them: the records every stage reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..grading.policy import Manual, Policy, Rule, Settings

#: The most random variants one build draws (exam file `variants`, `--variants`).
MAX_VARIANTS = 100_000
#: The most lines of room to answer after a question (`space`): a page of A4 or letter
#: holds about 48 lines.
MAX_SPACE_LINES = 45

if TYPE_CHECKING:  # the model (SymPy) is not needed to describe an exam
    from ..core.model import Variant

__all__ = ["KEY_AUDIENCES", "Exam", "ExamItem", "Sheet", "SheetItem", "Student"]

#: The exam setting `key`: who the answer keys are written for.
KEY_AUDIENCES = ("student", "instructor")


@dataclass(frozen=True)
class ExamItem:
    """One problem slot of an exam: its label (Q1(a)), problem id, points, options,
    multiple_choice: options per numeric answer (0: answers written freely), and space: the
    room left to answer after it on paper ("none", "third", "half", "full" or lines), and
    paper_answers: how its numeric answers are given on a scanned answer sheet (formats/amc.py)."""
    label: str
    problem_id: str
    points: int
    options: Any
    multiple_choice: int = 0
    space: str | int = "third"
    paper_answers: str = ""                  # "bubbles" or "written"; "": the exam's
    grading: Settings = Settings()           # this slot's grading settings (grading = {…})
    manual: tuple[Manual, ...] = ()          # points graded by hand (manual = …)


@dataclass(frozen=True)
class Exam:
    title: str
    course: str
    date: str
    instructions: str
    master_seed: int
    variants: int
    items: tuple[ExamItem, ...]
    source: str = "<built-in>"
    exam_id: str = "exam"
    problem_paths: tuple[str, ...] = ()      # resolved folders of the exam's own problems
    common_mistakes: bool = True             # a "Common mistakes" section in every key
    paper: str = "a4"                        # "a4" or "letter" (paper formats)
    cover: bool = False                      # a cover page on each question sheet
    pledge: str = ""                         # text on the cover, with a signature line
    paper_answers: str = "bubbles"           # numeric answers on scanned answer sheets:
                                             # "bubbles" (digit grids) or "written"
    build_id: str = ""                       # set when a build is planned (pipeline.sheets
                                             # .build_id); "" outside a build
    quiz_penalty: float = 0.0                # Moodle: mark share lost per wrong try
    quiz_shuffle: bool = False               # Moodle, QTI: shuffle a choice's options
    quiz_marks: str = "points"               # Moodle cloze: "points" or "shares"
    figures: bool = True                     # the problems' figures (core.figures) drawn
    key: str = "student"                     # who the keys are for: "student" (every step,
                                             # no verification notes or seeds) or
                                             # "instructor" (everything)
    grading: Settings = Settings()           # the exam-wide grading settings ([grading])

    def slot(self, label: str) -> ExamItem | None:
        """The exam slot with this label."""
        return next((item for item in self.items if item.label == label), None)

    def slot_grading(self, label: str) -> tuple[Settings, Policy]:
        """A slot's grading: its settings over the exam's (the answers' rule and credit
        mode), and its policy (credits, manual points) as answers.json records it."""
        item = self.slot(label)
        settings = item.grading.over(self.grading) if item is not None else self.grading
        return settings, Policy.of(settings, item.manual if item is not None else ())

    @property
    def rule(self) -> Rule:
        """The exam-wide rule (the default tolerance when the exam sets none)."""
        return self.grading.rule_for()

    def rounding_instruction(self) -> str:
        """The sentence the question sheets print: how to round, from the exam's rule, and
        the slots whose rule asks for another rounding."""
        sentence = self.rule.instruction()
        others = []
        for item in self.items:
            rule = item.grading.rule
            if rule is not None and rule.asked() != self.rule.asked():
                others.append(f"{item.label}: {rule.describe()}")
        if others:
            sentence = sentence[:-1] + " (" + "; ".join(others) + ")."
        return sentence


@dataclass(frozen=True)
class Student:
    id: str
    name: str
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SheetItem:
    label: str
    points: int
    variant: "Variant"


@dataclass(frozen=True)
class Sheet:
    """One variant of an exam: what a question sheet and its key are made from."""
    exam: Exam
    variant_id: str            # "canonical", "v001", …
    variant_index: int         # 0 for the canonical variant
    items: tuple[SheetItem, ...]
    student: Student | None = None

    @property
    def total_points(self) -> int:
        return sum(item.points for item in self.items)

    @property
    def build_id(self) -> str:
        """The id of the build this sheet belongs to ("" outside a build)."""
        return self.exam.build_id
