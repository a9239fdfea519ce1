"""The build pipeline: exam -> sheets (drawn and checked) -> rendered files -> output.

Sheets are drawn and rendered in worker processes (one per core), in chunks;
the parent collects the results in variant order, so the output does not
depend on the number of workers.  Within one build no two variants of a
problem share their parameters: a repeat is redrawn, deterministically, from
a retry seed.  Nothing is written until every file exists in memory: a failure
anywhere leaves the output folder as it was.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .documents import Exam, Sheet, SheetItem, Student
from .errors import UserError
from .jsonout import dumps, variant_record
from .manifest import answers_csv
from .registry import NoCanonical, get_problem
from .render import render_sheet
from .rng import derive_seed
from .studentkeys import student_seed
from .variants import draw_variant
from .writers import write_build

__all__ = ["ALL_FORMATS", "BuildPlan", "build_files", "draw_sheet", "plan_sheets", "run_build",
           "slot_key", "variant_id"]

ALL_FORMATS = ("md", "json", "pdf")
CHUNK = 8


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


def draw_sheet(plan: BuildPlan, index: int, attempts: Sequence[int] = ()) -> Sheet:
    """Sheet `index` (0: canonical; else variant or student `index`), every problem checked."""
    exam = plan.exam
    items = []
    for position, item in enumerate(exam.items):
        attempt = attempts[position] if position < len(attempts) else 0
        seed = _seed(plan, index, position, attempt)
        problem = get_problem(item.problem_id)
        try:
            variant = draw_variant(problem, item.options, seed)
        except NoCanonical:
            # the original numbers do not fit these options: a fixed draw stands in
            seed = derive_seed(exam.master_seed, 0, slot_key(exam, position))
            variant = draw_variant(problem, item.options, seed)
        items.append(SheetItem(item.label, item.points, variant))
    student = plan.students[index - 1] if plan.students is not None and index else None
    vid = student.id if student is not None else variant_id(index, plan.count)
    return Sheet(exam=exam, variant_id=vid, variant_index=index, items=tuple(items), student=student)


def plan_sheets(exam: Exam, variants: int | None = None) -> list[Sheet]:
    """The canonical sheet and `variants` random ones (default: the exam's number), in one
    process and without the repeat check: for tests and tools."""
    plan = BuildPlan(exam, exam.variants if variants is None else variants)
    return [draw_sheet(plan, i) for i in range(plan.count + 1)]


@dataclass(frozen=True)
class SheetOutput:
    """What one sheet contributes to a build, rendered (cheap to send between processes)."""
    index: int
    variant_id: str
    signatures: tuple[str, ...]                    # one per problem slot, for the repeat check
    files: dict[str, str]
    record: dict
    tex: dict[str, str]


def sheet_record(sheet: Sheet) -> dict:
    return {"variant": sheet.variant_id,
            "student": None if sheet.student is None else sheet.student.id,
            "problems": [dict(label=item.label, points=item.points, **variant_record(item.variant))
                         for item in sheet.items]}


def render_outputs(sheet: Sheet, formats: Sequence[str]) -> SheetOutput:
    files = {}
    if "md" in formats:
        for kind in ("questions", "key"):
            files[f"{sheet.variant_id}/{kind}.md"] = render_sheet(sheet, "md", kind)
    tex = {}
    if "pdf" in formats:
        for kind in ("questions", "key"):
            tex[kind] = render_sheet(sheet, "tex", kind, anchor=f"v{sheet.variant_index}")
    signatures = tuple(repr(item.variant.params) for item in sheet.items)
    return SheetOutput(sheet.variant_index, sheet.variant_id, signatures, files,
                       sheet_record(sheet), tex)


def _work(plan: BuildPlan, indices: Sequence[int]) -> list[SheetOutput]:
    return [render_outputs(draw_sheet(plan, i), plan.formats) for i in indices]


def _fork_pool(jobs: int):
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))


def draw_all(plan: BuildPlan, jobs: int = 1, progress: Callable[[int], None] | None = None
             ) -> list[SheetOutput]:
    """Every sheet of the build, drawn, checked and rendered; repeats redrawn."""
    indices = list(range(plan.count + 1))
    chunks = [indices[i:i + CHUNK] for i in range(0, len(indices), CHUNK)]
    outputs: list[SheetOutput] = []
    if jobs > 1 and len(chunks) > 1:
        # Freeze what exists now (problems, caches) out of the garbage collector's reach:
        # otherwise each forked worker's collections touch, and so copy, the parent's pages.
        gc.freeze()
        try:
            with _fork_pool(jobs) as pool:
                for result in pool.map(_work, [plan] * len(chunks), chunks):
                    outputs.extend(result)
                    if progress:
                        progress(len(result))
        finally:
            gc.unfreeze()
    else:
        for chunk in chunks:
            result = _work(plan, chunk)
            outputs.extend(result)
            if progress:
                progress(len(result))
    return _without_repeats(plan, outputs)


def _without_repeats(plan: BuildPlan, outputs: list[SheetOutput]) -> list[SheetOutput]:
    """Redraw, from retry seeds, any problem whose parameters an earlier sheet already has."""
    seen: list[set[str]] = [set() for _ in plan.exam.items]
    final = []
    for output in outputs:
        attempts = [0] * len(plan.exam.items)
        while True:
            clash = [p for p, sig in enumerate(output.signatures) if sig in seen[p]]
            if not clash:
                break
            for p in clash:
                attempts[p] += 1
                if attempts[p] > 50:
                    raise UserError(f"{plan.exam.source}: {plan.exam.items[p].label}: no parameters "
                                    f"left that no other variant has ({plan.count} variants); "
                                    "widen the problem's options or build fewer variants")
            output = render_outputs(draw_sheet(plan, output.index, attempts), plan.formats)
        for p, sig in enumerate(output.signatures):
            seen[p].add(sig)
        final.append(output)
    return final


def build_files(plan: BuildPlan, outputs: Sequence[SheetOutput], jobs: int = 1) -> dict[str, str | bytes]:
    """Every file of a build, in memory: {relative path: content}."""
    files: dict[str, str | bytes] = {}
    for output in outputs:
        files.update(output.files)
    if "json" in plan.formats:
        files["answers.json"] = dumps({
            "generator": f"wsgen {__version__}", "exam": plan.exam.title,
            "exam_id": plan.exam.exam_id,
            "master_seed": None if plan.students is not None else plan.exam.master_seed,
            "variants": [o.record for o in outputs]}, compact=True)
        files["answers.csv"] = answers_csv([o.record for o in outputs])
    if "pdf" in plan.formats:
        from .pdf import build_pdfs
        files.update(build_pdfs(plan.exam, [(o.variant_id, o.tex) for o in outputs], jobs=jobs,
                                duplex=plan.duplex))
    return files


def run_build(plan: BuildPlan, out_dir: Path, jobs: int | None = None,
              progress: Callable[[int], None] | None = None, fingerprint: str | None = None) -> dict:
    """Draw, check, render and write a build.  Returns a short summary."""
    jobs = jobs or os.cpu_count() or 1
    outputs = draw_all(plan, jobs, progress)
    files = build_files(plan, outputs, jobs)
    stale = write_build(Path(out_dir), files, fingerprint=fingerprint)
    return {"sheets": len(outputs), "files": len(files), "stale_removed": len(stale)}
