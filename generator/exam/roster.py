"""Class rosters: a CSV file with at least the columns `id` and `name`.

Other columns are kept (in order) and travel with the student.  Names and other fields
are normalised to Unicode NFC (a letter and its combining accent become one character,
as PDF fonts need).  Errors name the file and the line: a missing column, an empty or
duplicate id (ids differing only in case are duplicates: they would name one folder on
some systems), an id that is not safe as a folder name on every system (letters,
digits, '.', '_', '-'; not ending in a dot; not a name Windows reserves for a device,
CON, NUL, COM1, … with or without an extension) or is reserved ("canonical", any case:
the canonical sheet's folder), text that is not UTF-8, an unterminated quote (a field that runs
over a line break), a control character in any field, a name longer than 200
characters or another field longer than 1000.  The file is read through
errors.read_input: a regular file of at most errors.INPUT_LIMIT bytes.

Columns for gradebooks (`wsgen grade --gradebook`, docs/grading.md), optional, each cell
may be empty: `email` (one @, no blanks: Moodle's "Email address", Canvas's "SIS Login
ID"), `sis_id` (Canvas's "SIS User ID") and `idnumber` (Moodle's "ID number").  A value
two students share (emails compared without letter case) is refused: a gradebook import
would give both grades to one account.  `participant` (the number of Moodle's grading
worksheet, for `wsgen grade --feedback-zip moodle`) is read by grading/feedback.py.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

from .spec import Student
from ..errors import UserError, read_input

__all__ = ["GRADEBOOK_COLUMNS", "WINDOWS_DEVICES", "load_roster"]

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_RESERVED_IDS = {"canonical"}
#: Names Windows gives to devices: a folder so named (any case, any extension) cannot exist there.
WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)
MAX_NAME = 200
MAX_FIELD = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Columns that name a student's account in an LMS (gradebook imports): unique when given.
GRADEBOOK_COLUMNS = ("email", "sis_id", "idnumber")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def load_roster(path: Path | str) -> tuple[Student, ...]:
    path = Path(path)
    raw = read_input(path, "roster")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x}); "
                        "save the roster as UTF-8 CSV") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1                                   # the line where the current record starts
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(f"{path}:1: empty roster (expected a header line with id,name)") from None
    except csv.Error as exc:
        raise UserError(f"{path}:1: malformed CSV: {exc}") from None
    columns = [h.strip() for h in header]
    for required in ("id", "name"):
        if required not in columns:
            raise UserError(f"{path}:1: missing column {required!r} (header: {', '.join(columns)})"[:300])
    if len(set(columns)) != len(columns):
        raise UserError(f"{path}:1: duplicate column names in the header")
    i_id, i_name = columns.index("id"), columns.index("name")
    students: list[Student] = []
    seen: dict[str, tuple[str, int]] = {}
    accounts: dict[tuple[str, str], int] = {}
    start = reader.line_num + 1
    try:
        for row in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                raise UserError(f"{path}:{line}: expected {len(columns)} fields, found {len(row)}")
            for k, cell in enumerate(row):
                if "\n" in cell or "\r" in cell:
                    raise UserError(f"{path}:{line}: {columns[k]}: a line break inside a field "
                                    "(an unmatched quote?)")
                bad = _CONTROL.search(cell)
                if bad:
                    raise UserError(f"{path}:{line}: {columns[k]}: control character "
                                    f"U+{ord(bad.group()):04X} not allowed")
                limit = MAX_NAME if k == i_name else MAX_FIELD
                if len(cell) > limit:
                    raise UserError(f"{path}:{line}: {columns[k]}: at most {limit} characters, "
                                    f"got {len(cell)}")
            sid, name = row[i_id].strip(), row[i_name].strip()
            if not sid:
                raise UserError(f"{path}:{line}: empty id")
            if not _SAFE_ID.match(sid):
                raise UserError(f"{path}:{line}: id {sid!r} may hold only letters, digits, '.', '_' "
                                "and '-', at most 64 (it names the student's folder)")
            if sid.endswith("."):
                raise UserError(f"{path}:{line}: id {sid!r} ends with a dot (Windows drops it "
                                "from a folder name)")
            if WINDOWS_DEVICES.match(sid):
                raise UserError(f"{path}:{line}: id {sid!r} is a device name on Windows (CON, "
                                "PRN, AUX, NUL, COM1-9, LPT1-9): no folder can have it there")
            if sid.lower() in _RESERVED_IDS:
                raise UserError(f"{path}:{line}: id: {sid!r} is reserved (it names the canonical "
                                "sheet's folder)")
            if sid.lower() in seen:
                other, first = seen[sid.lower()]
                same = "" if other == sid else f" {other!r}, the same folder name on some systems,"
                raise UserError(f"{path}:{line}: duplicate id {sid!r} (first{same} on line {first})")
            if not name:
                raise UserError(f"{path}:{line}: name: empty name for id {sid!r}")
            seen[sid.lower()] = (sid, line)
            for column in GRADEBOOK_COLUMNS:
                if column not in columns:
                    continue
                value = _nfc(row[columns.index(column)].strip())
                if not value:
                    continue
                if column == "email" and not _EMAIL.match(value):
                    raise UserError(f"{path}:{line}: email: {value[:80]!r} is not an email "
                                    "address (name@host)")
                key = (column, value.casefold() if column == "email" else value)
                if key in accounts:
                    raise UserError(f"{path}:{line}: {column}: {value[:80]!r} is also on line "
                                    f"{accounts[key]}: a gradebook would give both grades to one account")
                accounts[key] = line
            extra = tuple((c, _nfc(row[k].strip())) for k, c in enumerate(columns)
                          if k not in (i_id, i_name))
            students.append(Student(id=sid, name=_nfc(name), extra=extra))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise UserError(f"{path}:{start}: unterminated quote: the quoted field that starts "
                            "on this line never closes") from None
        raise UserError(f"{path}:{start}: malformed CSV: {exc}") from None
    if not students:
        raise UserError(f"{path}: the roster lists no students")
    return tuple(students)
