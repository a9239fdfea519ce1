"""Class rosters: a CSV file with at least the columns `id` and `name`.

Other columns are kept (in order) and travel with the student.  Errors name the
file and the line: a missing column, an empty or duplicate id, an id that is
not safe as a folder name, text that is not UTF-8.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from .spec import Student
from ..errors import UserError, read_input

__all__ = ["load_roster"]

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def load_roster(path: Path | str) -> tuple[Student, ...]:
    path = Path(path)
    raw = read_input(path, "roster")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x}); "
                        "save the roster as UTF-8 CSV") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(f"{path}:1: empty roster (expected a header line with id,name)") from None
    columns = [h.strip() for h in header]
    for required in ("id", "name"):
        if required not in columns:
            raise UserError(f"{path}:1: missing column {required!r} (header: {', '.join(columns)})")
    if len(set(columns)) != len(columns):
        raise UserError(f"{path}:1: duplicate column names in the header")
    i_id, i_name = columns.index("id"), columns.index("name")
    students: list[Student] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                raise UserError(f"{path}:{line}: expected {len(columns)} fields, found {len(row)}")
            sid, name = row[i_id].strip(), row[i_name].strip()
            if not sid:
                raise UserError(f"{path}:{line}: empty id")
            if not _SAFE_ID.match(sid):
                raise UserError(f"{path}:{line}: id {sid!r} may hold only letters, digits, '.', '_' "
                                "and '-' (it names the student's folder)")
            if sid in seen:
                raise UserError(f"{path}:{line}: duplicate id {sid!r} (first on line {seen[sid]})")
            if not name:
                raise UserError(f"{path}:{line}: empty name for id {sid!r}")
            seen[sid] = line
            extra = tuple((c, row[k].strip()) for k, c in enumerate(columns) if k not in (i_id, i_name))
            students.append(Student(id=sid, name=name, extra=extra))
    except csv.Error as exc:
        raise UserError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from None
    if not students:
        raise UserError(f"{path}: the roster lists no students")
    return tuple(students)
