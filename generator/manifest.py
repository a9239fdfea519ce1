"""answers.csv: one row per variant, problem, answer and entry, for spreadsheets and graders."""
from __future__ import annotations

import csv
import io
from typing import Iterable

__all__ = ["answers_csv"]

COLUMNS = ("variant", "student_id", "label", "problem", "seed", "answer", "entry", "exact", "value")


def _entries(exact, value, prefix=()):
    """(entry index "i" or "i,j" (1-based), exact, value) for scalars, vectors and matrices."""
    if isinstance(exact, list):
        for i, (e, v) in enumerate(zip(exact, value), start=1):
            yield from _entries(e, v, prefix + (i,))
    else:
        yield ",".join(map(str, prefix)), exact, value


def answers_csv(records: Iterable[dict]) -> str:
    """The CSV text for the manifest records (as in answers.json)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        for problem in record["problems"]:
            for name, answer in problem["answers"].items():
                for entry, exact, value in _entries(answer["exact"], answer["value"]):
                    writer.writerow([record["variant"], record["student"] or "", problem["label"],
                                     problem["problem"], "" if problem["seed"] is None else problem["seed"],
                                     name, entry, exact, repr(float(value))])
    return buffer.getvalue()
