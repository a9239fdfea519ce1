"""Benchmarks (`make bench`): print figures, assert nothing about time."""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.build import build_files, draw_sheet  # noqa: E402
from generator.documents import Exam, ExamItem  # noqa: E402
from generator.registry import load_problems  # noqa: E402
from generator.writers import write_build  # noqa: E402


def bench_single_problem(problem_id: str, count: int) -> None:
    """Variants per second of one problem to Markdown + JSON, on one core."""
    problem = load_problems()[problem_id]
    exam = Exam(title="bench", course="", date="", instructions="", master_seed=1, variants=count,
                items=(ExamItem("Q1", problem_id, 1, problem.Options()),))
    start = time.perf_counter()
    sheets = [draw_sheet(exam, i, count) for i in range(1, count + 1)]
    files = build_files(exam, sheets, ("md", "json"))
    with tempfile.TemporaryDirectory() as out:
        write_build(Path(out), files)
    elapsed = time.perf_counter() - start
    print(f"{problem_id}: {count} variants to md+json in {elapsed:.2f} s "
          f"= {count / elapsed:.0f} variants/s (one core)")


if __name__ == "__main__":
    load_problems()
    bench_single_problem("matrix_backprop", 1000)
