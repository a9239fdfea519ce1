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


if __name__ == "__main__":
    load_problems()
    bench_single_problem("matrix_backprop", 1000)
