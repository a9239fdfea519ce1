"""Sheets: one variant of the whole exam, every problem drawn from its seed and checked.

A sheet's seeds: for a random variant, SHA-256 of (master seed, variant index, slot);
for a student, HMAC-SHA256 under the roster secret (exam.seeds).  A problem that
raises, fails its check or cannot draw becomes a BuildError naming the exam slot,
the variant and the seed.

Every build has an id (`build_id`): 12 hex digits of SHA-256 over what decides its
variants and answers, and nothing else: the exam's id, each slot's label, problem,
points, settings and multiple_choice, and either the master seed and the number of
variants, or, under a roster, the student ids and a digest of the roster secret.  The
same inputs give the same id (a rebuild prints the same bytes); another seed, secret,
roster or slot gives another.  The exam's title, instructions, layout and wsgen's own
version are not part of it: they change no answer.  answers.json ("build"), answers.csv
(column build), and each sheet (`Sheet.build_id`, the documents' header) carry it, and
`wsgen grade` refuses responses that name another.

A problem's own output (a `print()` left in `solve`) goes to stderr: stdout carries keys,
JSON and summaries.

A slot with `multiple_choice = N` asks its numeric answers as multiple choice
(core.distractors).  When a drawn variant's options cannot all be told apart at the
precision shown, the problem is drawn again from a seed derived from the slot's seed
and the redraw's number (at most core.draw.MC_REDRAWS times; the canonical variant then falls
back to a fixed draw, like a problem without canonical numbers).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import sys
from dataclasses import dataclass, field
from typing import Sequence

from ..core.draw import draw_multiple_choice, draw_variant
from ..core.problem import NoCanonical
from ..core.rng import derive_seed
from ..errors import BuildError, UserError
from ..exam.seeds import student_seed
from ..exam.spec import Exam, Sheet, SheetItem, Student
from ..registry import discover

__all__ = ["BuildPlan", "build_id", "draw_sheet", "plan_sheets", "problem_output",
           "slot_key", "variant_id"]

BUILD_ID_DIGITS = 12


def problem_output():
    """Where a problem's own prints go while its code runs: stderr, never stdout."""
    return contextlib.redirect_stdout(sys.stderr)


def _settings(options) -> list:
    if dataclasses.is_dataclass(options):
        return [[f.name, repr(getattr(options, f.name))] for f in dataclasses.fields(options)]
    return [repr(options)]


def build_id(exam: Exam, variants: int, students: Sequence[Student] | None = None,
             key: bytes | None = None) -> str:
    """The build's id: a digest of what decides its variants and answers (module doc)."""
    record: dict = {"wsgen-build": 1, "exam": exam.exam_id,
                    "slots": [[item.label, item.problem_id, item.points, item.multiple_choice,
                               _settings(item.options)] for item in exam.items]}
    if students is not None:
        record["students"] = [student.id for student in students]
        record["secret"] = hashlib.sha256(b"wsgen-build-secret\0" + (key or b"")).hexdigest()
    else:
        record["seed"], record["variants"] = exam.master_seed, variants
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:BUILD_ID_DIGITS]


@dataclass(frozen=True)
class BuildPlan:
    """Everything that decides a build's content.  Its exam carries the build's id."""
    exam: Exam
    variants: int                                  # random variants (ignored with a roster)
    formats: tuple[str, ...] = ("md", "json")
    students: tuple[Student, ...] | None = None
    key: bytes | None = field(default=None, repr=False)
    duplex: bool = False

    def __post_init__(self):
        identity = build_id(self.exam, self.variants, self.students, self.key)
        if self.exam.build_id != identity:
            object.__setattr__(self, "exam", dataclasses.replace(self.exam, build_id=identity))

    @property
    def count(self) -> int:
        """Sheets besides the canonical one."""
        return len(self.students) if self.students is not None else self.variants

    def folder(self, index: int) -> str:
        """Where sheet `index` goes: canonical, v001, …, or students/ID."""
        if index and self.students is not None:
            return f"students/{self.students[index - 1].id}"
        return variant_id(index, self.count)


def variant_id(index: int, count: int) -> str:
    """"canonical" for index 0; v001, v002, … (wider when there are more) otherwise."""
    return "canonical" if index == 0 else f"v{index:0{max(3, len(str(count)))}d}"


def slot_key(exam: Exam, position: int) -> str:
    """The name a problem slot's seed is derived from: the problem id, or, when the
    same problem appears more than once in the exam, the id and its occurrence."""
    pid = exam.items[position].problem_id
    same = [i for i, it in enumerate(exam.items) if it.problem_id == pid]
    return pid if len(same) == 1 else f"{pid}#{same.index(position) + 1}"


def _seed(plan: BuildPlan, index: int, position: int, attempt: int) -> int | None:
    if index == 0:
        return None
    key = slot_key(plan.exam, position) + (f"#retry{attempt}" if attempt else "")
    if plan.students is not None:
        return student_seed(plan.key, plan.exam.exam_id, plan.students[index - 1].id, key)
    return derive_seed(plan.exam.master_seed, index, key)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def draw_sheet(plan: BuildPlan, index: int, attempts: Sequence[int] = ()) -> Sheet:
    """Sheet `index` (0: canonical; else variant or student `index`), every problem checked."""
    exam = plan.exam
    registry = discover(exam.problem_paths)
    student = plan.students[index - 1] if plan.students is not None and index else None
    vid = student.id if student is not None else variant_id(index, plan.count)
    items = []
    for position, item in enumerate(exam.items):
        attempt = attempts[position] if position < len(attempts) else 0
        seed = _seed(plan, index, position, attempt)
        problem = registry.problems[item.problem_id]
        try:
            def draw(seed):
                if item.multiple_choice:
                    return draw_multiple_choice(problem, item.options, seed, item.multiple_choice,
                                                slot_key(exam, position))
                return draw_variant(problem, item.options, seed)
            with problem_output():
                try:
                    variant = draw(seed)
                except NoCanonical:
                    # the original numbers do not fit these options: a fixed draw stands in
                    seed = derive_seed(exam.master_seed, 0, slot_key(exam, position))
                    variant = draw(seed)
        except (UserError, BuildError):
            raise
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - a problem's failure, named
            raise BuildError(f"{item.problem_id} in slot {item.label}, variant {vid}, "
                             f"seed {'canonical' if seed is None else seed}: "
                             f"{type(exc).__name__}: {_reason(exc)}") from None
        items.append(SheetItem(item.label, item.points, variant))
    return Sheet(exam=exam, variant_id=vid, variant_index=index, items=tuple(items), student=student)


def plan_sheets(exam: Exam, variants: int | None = None) -> list[Sheet]:
    """The canonical sheet and `variants` random ones (default: the exam's number), in one
    process and without the repeat check: for tests and tools."""
    plan = BuildPlan(exam, exam.variants if variants is None else variants)
    return [draw_sheet(plan, i) for i in range(plan.count + 1)]
