"""Benchmarks (`make bench`): print figures, assert nothing about time.

Each figure is the median of several runs; output folders are temporary and
their removal is not timed.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.build import build_files, draw_sheet  # noqa: E402
from generator.documents import Exam, ExamItem  # noqa: E402
from generator.registry import load_problems  # noqa: E402
from generator.writers import write_build  # noqa: E402


def median_time(run, repeat: int = 3) -> tuple[float, float]:
    """Median wall time of `run(out_dir)`.  The folders are removed only after the last run:
    on this machine's disk, deleting thousands of files slows the writes that follow."""
    walls, cpus = [], []
    with tempfile.TemporaryDirectory(prefix="wsgen-bench-") as parent:
        for i in range(repeat):
            start, cpu = time.perf_counter(), time.process_time()
            run(Path(parent) / f"run{i}")
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def bench_single_problem(problem_id: str, count: int) -> None:
    """Variants per second of one problem to Markdown + JSON, on one core."""
    problem = load_problems()[problem_id]
    exam = Exam(title="bench", course="", date="", instructions="", master_seed=1, variants=count,
                items=(ExamItem("Q1", problem_id, 1, problem.Options()),))

    def run(out: Path) -> None:
        sheets = [draw_sheet(exam, i, count) for i in range(1, count + 1)]
        write_build(out, build_files(exam, sheets, ("md", "json")))

    wall, cpu = median_time(run)
    print(f"{problem_id}: {count} variants to md+json (draw, check, render, write) in "
          f"{wall:.2f} s wall = {count / wall:.0f} variants/s on one core "
          f"({cpu:.2f} s CPU = {count / cpu:.0f} variants/s; median of 3)")


def bench_pdf_build(count: int) -> None:
    """The default exam with PDF: per-variant sheets and keys plus both booklets."""
    import subprocess

    from generator.build import plan_sheets, run_build
    from generator.exam import load_exam
    from generator.pdf import TEX_ENV, booklet_source

    exam = load_exam()
    wall, cpu = median_time(lambda out: run_build(exam, out, ("md", "json", "pdf"), count), repeat=1)
    # The floor: one pdflatex pass over the combined key booklet, typeset in one process.
    sheets = plan_sheets(exam, count)
    with tempfile.TemporaryDirectory(prefix="wsgen-bench-") as tmp:
        Path(tmp, "keys.tex").write_text(booklet_source(sheets, "key"), encoding="utf-8")
        start = time.perf_counter()
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", "keys.tex"],
                       cwd=tmp, env=dict(__import__("os").environ, **TEX_ENV), check=True,
                       capture_output=True)
        floor = time.perf_counter() - start
        pages = len(__import__("pypdf").PdfReader(Path(tmp, "keys.pdf")).pages)
    print(f"default exam, {count} variants + canonical, md+json+pdf (sheets, keys, 2 booklets): "
          f"{wall:.2f} s wall")
    print(f"  floor: one pdflatex pass over the key booklet ({pages} pages): {floor:.2f} s; "
          f"ratio build/floor = {wall / floor:.1f}")


if __name__ == "__main__":
    load_problems()
    bench_single_problem("matrix_backprop", 1000)
    bench_pdf_build(100)
