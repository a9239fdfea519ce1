"""Sheets: one variant of the whole exam, every problem drawn from its seed and checked.

A sheet's seeds: for a random variant, SHA-256 of (master seed, variant index, slot);
for a student, HMAC-SHA256 under the roster secret (exam.seeds).  A problem that
raises, fails its check or cannot draw becomes a BuildError naming the exam slot,
the variant and the seed.

A slot with `multiple_choice = N` asks its numeric answers as multiple choice
(core.distractors).  When a drawn variant's options cannot all be told apart at the
precision shown, the problem is drawn again from a seed derived from the slot's seed
and the redraw's number (at most core.draw.MC_REDRAWS times; the canonical variant then falls
back to a fixed draw, like a problem without canonical numbers).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Sequence

from ..core.draw import draw_multiple_choice, draw_variant
from ..core.problem import NoCanonical
from ..core.rng import derive_seed
from ..errors import BuildError, UserError
from ..exam.seeds import student_seed
from ..exam.spec import Exam, Sheet, SheetItem, Student
from ..registry import discover

__all__ = ["BuildPlan", "draw_sheet", "plan_sheets",
           "slot_key", "variant_id"]

@dataclass(frozen=True)
class BuildPlan:
    """Everything that decides a build's content."""
    exam: Exam
    variants: int                                  # random variants (ignored with a roster)
    formats: tuple[str, ...] = ("md", "json")
    students: tuple[Student, ...] | None = None
    key: bytes | None = field(default=None, repr=False)
    duplex: bool = False

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
