"""The build pipeline: exam -> sheets (drawn and checked) -> rendered files -> output.

Nothing is written until every variant of every problem has been drawn,
solved, checked and rendered: a failure anywhere leaves the output folder as
it was.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Iterable, Sequence

from . import __version__
from .documents import Exam, Sheet, SheetItem, Student
from .jsonout import dumps, variant_record
from .registry import get_problem
from .render import render_sheet
from .rng import derive_seed
from .variants import draw_variant
from .writers import write_build

__all__ = ["ALL_FORMATS", "build_files", "draw_sheet", "plan_sheets", "run_build", "variant_id"]

ALL_FORMATS = ("md", "json", "pdf")


def variant_id(index: int, count: int) -> str:
    """"canonical" for index 0; v001, v002, … (wider when there are more) otherwise."""
    return "canonical" if index == 0 else f"v{index:0{max(3, len(str(count)))}d}"


def slot_key(exam: Exam, position: int) -> str:
    """The name a problem slot's seed is derived from: the problem id, or, when the
    same problem appears more than once in the exam, the id and its occurrence."""
    pid = exam.items[position].problem_id
    same = [i for i, it in enumerate(exam.items) if it.problem_id == pid]
    return pid if len(same) == 1 else f"{pid}#{same.index(position) + 1}"


def draw_sheet(exam: Exam, index: int, count: int, student: Student | None = None,
               seed_of: Callable[[str], int] | None = None) -> Sheet:
    """Sheet `index` of the exam (0: canonical).  `seed_of(problem_id)` overrides
    the default seed derivation (used for per-student variants)."""
    items = []
    for position, item in enumerate(exam.items):
        key = slot_key(exam, position)
        problem = get_problem(item.problem_id)
        if index == 0 and seed_of is None:
            seed = None
        elif seed_of is not None:
            seed = seed_of(key)
        else:
            seed = derive_seed(exam.master_seed, index, key)
        items.append(SheetItem(item.label, item.points, draw_variant(problem, item.options, seed)))
    return Sheet(exam=exam, variant_id=variant_id(index, count), variant_index=index,
                 items=tuple(items), student=student)


def plan_sheets(exam: Exam, variants: int | None = None) -> list[Sheet]:
    """The canonical sheet and `variants` random ones (default: the exam's number)."""
    count = exam.variants if variants is None else variants
    return [draw_sheet(exam, i, count) for i in range(count + 1)]


def sheet_record(sheet: Sheet) -> dict:
    return {"variant": sheet.variant_id,
            "student": None if sheet.student is None else sheet.student.id,
            "problems": [dict(label=item.label, points=item.points, **variant_record(item.variant))
                         for item in sheet.items]}


def build_files(exam: Exam, sheets: Sequence[Sheet], formats: Iterable[str],
                duplex: bool = False) -> dict[str, str | bytes]:
    """Every file of a build, rendered in memory: {relative path: content}."""
    formats = tuple(formats)
    files: dict[str, str | bytes] = {}
    if "pdf" in formats:
        from .pdf import build_pdfs
        files.update(build_pdfs(sheets, duplex=duplex))
    for sheet in sheets:
        if "md" in formats:
            for kind in ("questions", "key"):
                files[f"{sheet.variant_id}/{kind}.md"] = render_sheet(sheet, "md", kind)
    if "json" in formats:
        files["answers.json"] = dumps({
            "generator": f"wsgen {__version__}",
            "exam": exam.title,
            "master_seed": exam.master_seed,
            "variants": [sheet_record(s) for s in sheets]}, compact=True)
    return files


def run_build(exam: Exam, out_dir: Path, formats: Iterable[str], variants: int | None = None,
              duplex: bool = False) -> dict:
    """Draw, check, render and write a build.  Returns a short summary."""
    sheets = plan_sheets(exam, variants)
    files = build_files(exam, sheets, formats, duplex=duplex)
    stale = write_build(Path(out_dir), files)
    return {"sheets": len(sheets), "files": len(files), "stale_removed": len(stale)}


def with_master_seed(exam: Exam, seed: int | None) -> Exam:
    return exam if seed is None else dataclasses.replace(exam, master_seed=seed)
