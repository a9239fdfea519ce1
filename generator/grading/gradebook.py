"""Gradebook import files: the graded papers' totals in an LMS's own layout.

    wsgen grade … --gradebook canvas|moodle|csv [--roster students.csv] [--assignment NAME]

Each paper's student is found in the roster (exam.roster: `id`, `name`, and the account
columns `email`, `sis_id`, `idnumber`, `section`) by id, else by name; a paper whose
student the roster does not hold, or two papers of one student, are refused.

* canvas — `gradebook-canvas.csv`, the layout of Canvas's gradebook export, which its
  gradebook import reads back: a header `Student,ID,SIS User ID,SIS Login ID,Section,
  <assignment>`, then the row `Points Possible` with the exam's maximum under the
  assignment, then one row per student (ID, Canvas's own number, left empty: Canvas finds
  the student by SIS User ID = roster `sis_id`, or SIS Login ID = roster `email`).  An
  assignment column named as no assignment of the course makes a new one.
* moodle — `gradebook-moodle.csv`, for Moodle's "Import grades from CSV": a column
  identifying the user (`ID number` from the roster's `idnumber` when every student has
  one, else `Email address` from `email`), `Full name`, and the assignment's column of
  totals; on import, map the first column to "ID number" (or "Email address") and the
  assignment's column to a grade item, or to a new one.
* csv — `gradebook.csv`: id, name, the roster's account columns it has, each slot's
  points, the total and the maximum.

Points are written as grades.csv writes them (at most four decimals, a decimal point).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..core.records import student_key
from ..errors import UserError

__all__ = ["FORMATS", "gradebook_file", "roster_rows", "summary_line"]

FORMATS = ("canvas", "moodle", "csv")
FILE_NAMES = {"canvas": "gradebook-canvas.csv", "moodle": "gradebook-moodle.csv",
              "csv": "gradebook.csv"}


def roster_rows(papers, students, roster_path) -> list[tuple[object, object]]:
    """(paper, roster student) for every paper, in grades.csv's order."""
    by_id = {student_key(s.id): s for s in students}
    by_name: dict[str, list] = {}
    for s in students:
        by_name.setdefault(student_key(s.name), []).append(s)
    rows, taken = [], {}
    for paper in papers:
        if not paper.student:
            raise UserError(f"--roster: the paper of variant {paper.variant!r} names no "
                            "student: give a student column in the responses")
        student = by_id.get(student_key(paper.student))
        if student is None:
            named = by_name.get(student_key(paper.student), [])
            student = named[0] if len(named) == 1 else None
        if student is None:
            raise UserError(f"--roster {roster_path}: no student {paper.student!r} (a paper's "
                            "student is the roster's id, or its name when only one has it)")
        if student.id in taken:
            raise UserError(f"--roster {roster_path}: student {student.id!r} wrote two papers "
                            f"({taken[student.id]!r} and {paper.student!r})")
        taken[student.id] = paper.student
        rows.append((paper, student))
    return rows


def _field(student, column: str) -> str:
    return dict(student.extra).get(column, "") if student is not None else ""


def _write(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _canvas(manifest, pairs, assignment, roster_path) -> str:
    from .score import fmt_points
    from ..formats.csv import safe_cell
    maximum = pairs[0][0].max_points if pairs else 0
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", safe_cell(assignment)],
            ["Points Possible", "", "", "", "", fmt_points(maximum)]]
    for paper, student in pairs:
        sis_id, login = _field(student, "sis_id"), _field(student, "email")
        if not (sis_id or login):
            raise UserError(f"--roster {roster_path}: student {student.id!r} has neither sis_id "
                            "nor email: Canvas could not tell whose grade it is")
        rows.append([safe_cell(student.name), "", safe_cell(sis_id), safe_cell(login),
                     safe_cell(_field(student, "section")), fmt_points(paper.total)])
    return _write(rows)


def _moodle(manifest, pairs, assignment, roster_path) -> str:
    from .score import fmt_points
    from ..formats.csv import safe_cell
    if pairs and all(_field(s, "idnumber") for _, s in pairs):
        column, header = "idnumber", "ID number"
    else:
        missing = next((s for _, s in pairs if not _field(s, "email")), None)
        if missing is not None:
            raise UserError(f"--roster {roster_path}: student {missing.id!r} has no email (and "
                            "not every student an idnumber): Moodle maps a grade to a user by one")
        column, header = "email", "Email address"
    rows = [[header, "Full name", safe_cell(assignment)]]
    rows += [[safe_cell(_field(s, column)), safe_cell(s.name), fmt_points(p.total)] for p, s in pairs]
    return _write(rows)


def _plain_csv(manifest, pairs, assignment, roster_path) -> str:
    from .score import fmt_points
    from ..formats.csv import safe_cell
    from ..exam.roster import GRADEBOOK_COLUMNS
    labels = [label for label, _ in manifest.slots]
    accounts = [c for c in GRADEBOOK_COLUMNS + ("section",)
                if any(_field(s, c) for _, s in pairs)]
    rows = [["id", "name", *accounts, *[safe_cell(label) for label in labels], "total", "max"]]
    for paper, s in pairs:
        rows.append([safe_cell(s.id), safe_cell(s.name), *[safe_cell(_field(s, c)) for c in accounts],
                     *[fmt_points(paper.slot_points(label)) for label in labels],
                     fmt_points(paper.total), fmt_points(paper.max_points)])
    return _write(rows)


_WRITERS = {"canvas": _canvas, "moodle": _moodle, "csv": _plain_csv}


def gradebook_file(layout: str, manifest, papers, roster_path: Path | None,
                   assignment: str | None = None) -> tuple[str, str]:
    """(file name, text) of the gradebook in `layout` (one of FORMATS)."""
    from ..exam.roster import load_roster
    if layout not in _WRITERS:
        raise UserError(f"--gradebook: unknown layout {layout!r} (known: {', '.join(FORMATS)})")
    if roster_path is None:
        raise UserError(f"--gradebook {layout}: give --roster (the class's roster: id, name, and "
                        "email, sis_id or idnumber) so that each grade reaches its student")
    pairs = roster_rows(papers, load_roster(roster_path), roster_path)
    title = " ".join((assignment or manifest.exam or "wsgen exam").split())
    if not title:
        raise UserError("--assignment: empty name")
    return FILE_NAMES[layout], _WRITERS[layout](manifest, pairs, title, roster_path)


def summary_line(options, out_dir) -> list[str]:
    """The stdout lines naming the gradebook and the feedback zip written, if asked for."""
    lines = []
    if options is not None and options.gradebook:
        lines.append(f"gradebook for {options.gradebook}: {Path(out_dir) / FILE_NAMES[options.gradebook]}")
    if options is not None and options.feedback_zip:
        from .feedback import ZIP_NAMES
        lines.append(f"feedback zipped for {options.feedback_zip}: "
                     f"{Path(out_dir) / ZIP_NAMES[options.feedback_zip]}")
        if not options.key_url:
            lines.append("note: without --key-url the feedback links to the keys in the build "
                         "folder on this machine, which an upload does not carry")
    return lines
