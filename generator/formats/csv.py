"""answers.csv: one row per variant, problem, answer and entry, for spreadsheets and graders.

Text cells that a spreadsheet would read as a formula (starting with =, +, -, @, a tab
or a carriage return) get a leading apostrophe, so an exam label or a student id can
never run as a formula; so does a text that starts with an apostrophe itself, so that
reading a cell back (`read_cell`) gives exactly the text written (`'=A` and `=A` stay
two labels).  The computed columns (entry, exact, value) are left as they are.  The last
column, build, is the build id (answers.json's "build"): a copy of answers.csv carries it,
so `wsgen grade` can tell another build's responses.

A formula answer (answers.json's kind "formula") is one row with an empty entry: exact is
its canonical text (escaped like a text cell: `-W*x` must not run as a formula) and value
the shapes of its symbols at this variant, "W: 2×2; x: 2×1".
"""
from __future__ import annotations

import csv
import io

from ..core.records import record_entries

__all__ = ["COLUMNS", "CsvWriter", "formula_shapes", "read_cell", "safe_cell"]

COLUMNS = ("variant", "student_id", "label", "problem", "seed", "answer", "entry", "exact", "value",
           "build")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = _FORMULA_START + ("'",)


def formula_shapes(answer: dict) -> str:
    """The value cell of a formula answer's row: its symbols' shapes, "W: 2×2; x: 2×1; z: 1×1"."""
    return "; ".join(f"{name}: {shape[0]}×{shape[1]}" if shape else f"{name}: 1×1"
                     for name, shape in answer.get("symbols", {}).items())


def safe_cell(text: str) -> str:
    """A text cell no spreadsheet runs as a formula; `read_cell` undoes it."""
    return "'" + text if text.startswith(_ESCAPED) else text


def read_cell(text: str) -> str:
    """The text `safe_cell` was given: read_cell(safe_cell(t)) == t for every t."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_ESCAPED) else text


class CsvWriter:
    """Writes the rows of each sheet record (as in answers.json) to a text stream."""

    def __init__(self, stream, build_id: str = ""):
        self.stream = stream
        self.build_id = build_id
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
                if answer["kind"] == "formula":
                    self.writer.writerow([*text, seed, safe_cell(name), "",
                                          safe_cell(answer["exact"]),
                                          safe_cell(formula_shapes(answer)), self.build_id])
                    continue
                for entry, exact, value in record_entries(answer):
                    self.writer.writerow([*text, seed, safe_cell(name), entry, exact,
                                          repr(float(value)), self.build_id])
        self._flush()

    def close(self) -> None:
        self.stream.close()
