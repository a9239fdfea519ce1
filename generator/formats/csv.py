"""answers.csv: one row per variant, problem, answer and entry, for spreadsheets and graders.

Text cells that a spreadsheet would read as a formula (starting with =, +, -, @, a tab
or a carriage return) get a leading apostrophe, so an exam label or a student id can
never run as a formula; the computed columns (entry, exact, value) are left as they are.
"""
from __future__ import annotations

import csv
import io

from ..core.records import record_entries

__all__ = ["COLUMNS", "CsvWriter", "safe_cell"]

COLUMNS = ("variant", "student_id", "label", "problem", "seed", "answer", "entry", "exact", "value")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvWriter:
    """Writes the rows of each sheet record (as in answers.json) to a text stream."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer = io.StringIO()                 # one write to the stream per sheet
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.writer.writerow(COLUMNS)
        self._flush()

    def _flush(self) -> None:
        self.stream.write(self.buffer.getvalue())
        self.buffer.seek(0)
        self.buffer.truncate()

    def add(self, record: dict) -> None:
        for problem in record["problems"]:
            text = [safe_cell(record["variant"]), safe_cell(record["student"] or ""),
                    safe_cell(problem["label"]), safe_cell(problem["problem"])]
            seed = "" if problem["seed"] is None else problem["seed"]
            for name, answer in problem["answers"].items():
                for entry, exact, value in record_entries(answer):
                    self.writer.writerow([*text, seed, safe_cell(name), entry, exact,
                                          repr(float(value))])
        self._flush()

    def close(self) -> None:
        self.stream.close()
