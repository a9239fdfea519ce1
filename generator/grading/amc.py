"""`wsgen grade --amc PROJECT`: the responses auto-multiple-choice read from scanned answer
sheets, graded like a typed responses file.

PROJECT is the folder `wsgen build --formats amc` wrote (formats/amc.py) after AMC has
compiled it (`auto-multiple-choice prepare`, `meptex`) and read the scans (`analyse`).
Three files are read, never written by AMC's reading and never changed here:

* ``wsgen-amc.json``: AMC copy k is variant (or student) so-and-so; AMC question ``qN``
  is exam slot, answer and entry so-and-so, a choice or a digit grid of given columns;
* ``data/layout.sqlite`` (AMC's layout): the boxes of each question on each copy, in the
  order they were drawn, with the character printed in each (0–9, the sign, the
  student-id characters);
* ``data/capture.sqlite`` (AMC's capture): each scanned page, and the dark pixels of every
  box on it.  A box is ticked as AMC decides it: a manual setting (AMC's manual data
  capture) wins; otherwise its darkness is between the project's thresholds
  (options.xml ``seuil`` and ``seuil_up``; AMC's defaults 0.15 and 1.0).

Reading a copy, never guessing:

* a choice: no box ticked is a blank; one box its letter; two or more a double tick;
* a digit grid: per column no digit or one; the integer columns may be blank only on the
  left and the decimal columns only on the right (a blank there reads as 0); the sign
  box − makes the number negative (+ or no sign: positive); a column with two digits,
  both signs, a blank column between digits or a sign without digits is unreadable; a
  grid with nothing ticked is a blank;
* the build: the project's wsgen-amc.json and answers.json must name one build (its id:
  two roster builds under two secrets share their exam id and variant ids, not their
  numbers), and so must a typed responses file's build column, when it has one;
* the student-id grid: one character per row from the top, rows left blank only at the
  end; the characters read are mapped to the roster (formats/amc.py: id_grid).  In a
  roster build each copy already belongs to a student: a reading that names another is
  reported, not followed.  Without a roster the reading is the student.

Blanks, double ticks, unreadable grids and ids, pages not scanned are reported per paper
and slot.  A blank is an empty response (no answer); an unreadable reading is a response
beginning with "unreadable", which grading scores 0 and reports.  The responses go to
``PROJECT/wsgen-responses.csv`` (the columns of a typed responses file: correct a
reading there and grade that file directly if needed) and are graded by
grading/grade.py's `run_grade`, so every scoring and diagnosis rule applies unchanged.
A typed responses file given beside --amc (the numbers of ``paper_answers = "written"``
slots) is appended to them.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from ..core.records import choice_letter
from ..errors import UserError, read_input
from ..formats.amc import ID_QUESTION, MAP_FORMAT, MAP_NAME

__all__ = ["AmcReading", "Finding", "read_project", "responses_csv", "run_amc_grade"]

RESPONSES_NAME = "wsgen-responses.csv"
#: AMC's default darkness thresholds (a project's options.xml may set others).
THRESHOLD, THRESHOLD_UP = 0.15, 1.0
_BOX = 4                        # capture_zone.type of an answer box (AMC's ZONE_BOX)
_ANSWER_ROLE = 1                # layout_box.role of a box students tick (BOX_ROLE_ANSWER)
DIGITS = "0123456789"


@dataclass(frozen=True)
class Finding:
    """Something on a paper a person should look at."""
    paper: str                  # who: "1002", "v003", "v003 (copy 2)"
    where: str                  # "Q2 dL_dV (2,1)", "student id", "page 2"
    what: str                   # "blank", "double tick (B, C)", …


@dataclass
class AmcReading:
    rows: list[dict] = field(default_factory=list)          # variant, student, label, answer,
    findings: list[Finding] = field(default_factory=list)   # entry, response
    papers: int = 0
    unscanned: list[str] = field(default_factory=list)      # copies with no page scanned
    written: list[str] = field(default_factory=list)        # answers not on the sheets
    failed: list[str] = field(default_factory=list)         # scans AMC could not place


# ----------------------------------------------------------------------------- inputs

def _load_json(path: Path, what: str) -> dict:
    raw = read_input(path, what, limit=1024 ** 3)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable {what}: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a {what}")
    return data


def _project_map(project: Path) -> dict:
    path = project / MAP_NAME
    if not path.is_file():
        raise UserError(f"{project}: no {MAP_NAME}: not an answer-sheet project written by "
                        "`wsgen build --formats amc` (the build's amc/ folder)")
    data = _load_json(path, "answer-sheet map")
    if data.get("format") != MAP_FORMAT or not isinstance(data.get("copies"), list) \
            or not isinstance(data.get("questions"), dict):
        raise UserError(f"{path}: not a map this wsgen reads (expected format {MAP_FORMAT!r})")
    for i, copy in enumerate(data["copies"], 1):
        if not isinstance(copy, dict) or not isinstance(copy.get("variant"), str):
            raise UserError(f"{path}: copies[{i}]: expected an object with a \"variant\" string")
    return data


def _database(project: Path, name: str, missing: str) -> sqlite3.Connection:
    path = project / "data" / f"{name}.sqlite"
    if not path.is_file():
        raise UserError(f"{path}: not found: {missing}")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        connection.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise UserError(f"{path}: not an AMC database: {exc}") from None
    return connection


def _query(connection: sqlite3.Connection, sql: str, where: str) -> list[tuple]:
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.Error as exc:
        raise UserError(f"{where}: not the AMC 1.6 layout this wsgen reads: {exc}") from None


def _thresholds(project: Path) -> tuple[float, float]:
    """The project's darkness thresholds (options.xml seuil, seuil_up) or AMC's defaults."""
    low, high = THRESHOLD, THRESHOLD_UP
    path = project / "options.xml"
    if not path.is_file():
        return low, high
    try:
        root = ElementTree.fromstring(read_input(path, "AMC project options"))
    except ElementTree.ParseError as exc:
        raise UserError(f"{path}: not readable XML: {exc}") from None
    for tag, default in (("seuil", THRESHOLD), ("seuil_up", THRESHOLD_UP)):
        text = (root.findtext(tag) or "").strip()
        if text:
            try:
                value = float(text)
            except ValueError:
                raise UserError(f"{path}: {tag}: expected a number, got {text!r}") from None
            low, high = (value, high) if tag == "seuil" else (low, value)
    return low, high


# ----------------------------------------------------------------------------- reading boxes

@dataclass(frozen=True)
class _Question:
    """One AMC question of one copy: its boxes in drawing order, and which are ticked
    (None: its page was not scanned)."""
    chars: tuple[str, ...]
    ticked: tuple[bool, ...] | None


def _read_choice(question: _Question) -> tuple[str, str]:
    """(response, finding) of a row of choice boxes A, B, …"""
    marked = [choice_letter(i) for i, on in enumerate(question.ticked) if on]
    if not marked:
        return "", "blank"
    if len(marked) > 1:
        return f"unreadable: {' and '.join(marked)} ticked", f"double tick ({', '.join(marked)})"
    return marked[0], ""


def _grid_columns(question: _Question, meaning: dict, where: str):
    """The sign boxes and the digit columns (each ten boxes 0–9) of a digit grid."""
    signs = [i for i, c in enumerate(question.chars) if "+" in c or "-" in c]
    digits = [i for i, c in enumerate(question.chars) if c in tuple(DIGITS)]
    columns = [digits[k:k + 10] for k in range(0, len(digits), 10)]
    expected = int(meaning["digits"]) + int(meaning["decimals"])
    if (len(columns) != expected or len(signs) != (2 if meaning["sign"] else 0)
            or any("".join(question.chars[i] for i in column) != DIGITS for column in columns)):
        raise UserError(f"{where}: AMC's layout does not hold the grid wsgen wrote "
                        f"({expected} columns{', with a sign' if meaning['sign'] else ''}): was "
                        "answer-sheets.tex changed after the build? Run AMC's prepare and meptex "
                        "on the build's own file")
    return signs, columns


def _read_number(question: _Question, meaning: dict, where: str) -> tuple[str, str]:
    """(response, finding) of a digit grid (see the module's reading rules)."""
    signs, columns = _grid_columns(question, meaning, where)
    ticked = question.ticked
    problems = []
    read: list[str | None] = []
    for number, column in enumerate(columns, start=1):
        on = [question.chars[i] for i in column if ticked[i]]
        if len(on) > 1:
            problems.append(f"column {number} has {' and '.join(on)}")
        read.append(on[0] if len(on) == 1 else None)
    sign_on = [question.chars[i] for i in signs if ticked[i]]
    negative = any("-" in c for c in sign_on)
    if len(sign_on) > 1:
        problems.append("both signs ticked")
    if not problems and all(d is None for d in read):
        if sign_on:
            return "unreadable: a sign without digits", "unreadable (a sign without digits)"
        return "", "blank"
    digits = int(meaning["digits"])
    whole, decimals = read[:digits], read[digits:]
    filled = [i for i, d in enumerate(whole) if d is not None]
    if filled and any(d is None for d in whole[filled[0]:]):
        problems.append("a blank column between the digits before the point")
    last = max((i for i, d in enumerate(decimals) if d is not None), default=-1)
    if any(d is None for d in decimals[:last + 1]):
        problems.append("a blank column between the digits after the point")
    if problems:
        return "unreadable: " + "; ".join(problems), "unreadable (" + "; ".join(problems) + ")"
    text = "".join(d for d in whole if d is not None).lstrip("0") or "0"
    fraction = "".join(decimals[:last + 1])
    return ("-" if negative else "") + text + ("." + fraction if fraction else ""), ""


def _read_id(questions: dict[str, _Question], width: int) -> tuple[str, str]:
    """(characters read, problem) of the student-id grid; rows blank only at the end."""
    chars, problems = [], []
    for row in range(width):
        question = questions.get(f"{ID_QUESTION}[{width - row}]")
        if question is None or question.ticked is None:
            return "", "its page was not scanned"
        on = [c for c, t in zip(question.chars, question.ticked) if t]
        if len(on) > 1:
            problems.append(f"row {row + 1} has {' and '.join(on)}")
        chars.append(on[0] if len(on) == 1 else None)
    last = max((i for i, c in enumerate(chars) if c is not None), default=-1)
    if last < 0 and not problems:
        return "", "blank"
    if any(c is None for c in chars[:last + 1]):
        problems.append("a blank row between the characters")
    if problems:
        return "", "unreadable (" + "; ".join(problems) + ")"
    return "".join(chars[:last + 1]), ""


# ----------------------------------------------------------------------------- the project

def _where(meaning: dict) -> str:
    entry = f" ({meaning['entry']})" if meaning.get("entry") else ""
    return f"{meaning['label']} {meaning['answer']}{entry}"


def read_project(project: Path, answers: dict) -> AmcReading:
    """The responses and findings of every scanned answer sheet of PROJECT, checked
    against the build's answers.json (`answers`, as loaded)."""
    project = Path(project)
    pmap = _project_map(project)
    variants = {v.get("variant"): v for v in answers.get("variants", []) if isinstance(v, dict)}
    if pmap.get("exam_id") != answers.get("exam_id") \
            or (pmap.get("build") or "") != (answers.get("build") or "") \
            or any(c.get("variant") not in variants for c in pmap["copies"]):
        raise UserError(f"{project / MAP_NAME}: answer sheets of another build than the "
                        f"answers manifest (exam {pmap.get('exam_id')!r}): give the answers.json "
                        "of the build that wrote this folder")
    layout = _database(project, "layout", "run `auto-multiple-choice prepare` and "
                       "`auto-multiple-choice meptex` on the project first (see the README)")
    capture = _database(project, "capture", "no scans read yet: run "
                        "`auto-multiple-choice analyse` on the scans first (see the README)")
    where_layout = project / "data" / "layout.sqlite"
    where_capture = project / "data" / "capture.sqlite"
    names = dict(_query(layout, "SELECT question, name FROM layout_question", where_layout))
    boxes: dict[int, dict[str, list[tuple[int, str, int]]]] = {}
    for student, question, answer, char, page in _query(
            layout, f"SELECT student, question, answer, char, page FROM layout_box "
            f"WHERE role = {_ANSWER_ROLE} ORDER BY student, question, answer", where_layout):
        boxes.setdefault(student, {}).setdefault(names.get(question, ""), []).append(
            (answer, char or "", page))
    layout_pages: dict[int, set[int]] = {}
    for student, page in _query(layout, "SELECT student, page FROM layout_page", where_layout):
        layout_pages.setdefault(student, set()).add(page)
    scanned: dict[tuple[int, int], set[int]] = {}
    for student, page, copy in _query(capture, "SELECT student, page, copy FROM capture_page",
                                      where_capture):
        scanned.setdefault((student, copy), set()).add(page)
    zones: dict[tuple[int, int], dict[tuple[int, int], tuple]] = {}
    reverse = {name: number for number, name in names.items()}
    for student, copy, question, answer, total, black, manual in _query(
            capture, f"SELECT student, copy, id_a, id_b, total, black, manual FROM capture_zone "
            f"WHERE type = {_BOX}", where_capture):
        zones.setdefault((student, copy), {})[(question, answer)] = (total, black, manual)
    failed = [name for (name,) in _query(capture, "SELECT filename FROM capture_failed",
                                         where_capture)]
    layout.close()
    capture.close()
    low, high = _thresholds(project)

    def is_ticked(zone) -> bool | None:
        if zone is None:
            return None
        total, black, manual = zone
        if manual is not None and manual >= 0:
            return manual > 0
        if total is None or total <= 0:
            return False
        return black >= low * total and black <= high * total

    reading = AmcReading(failed=[f.replace("%PROJET", str(project)) for f in failed])
    reading.written = list(dict.fromkeys(f"{label} {name}" for c in pmap["copies"]
                                         for label, name in c.get("written", [])))
    id_grid = pmap.get("id_grid", {})
    id_width = len(id_grid.get("columns", []))
    codes = id_grid.get("students")
    seen: dict[tuple[str, str], str] = {}
    for number, copy_info in enumerate(pmap["copies"], start=1):
        if not any(s == number for s, _ in scanned):
            reading.unscanned.append(copy_info["student"] or copy_info["variant"])
    for (student, copy) in sorted(scanned):
        if not 1 <= student <= len(pmap["copies"]):
            reading.findings.append(Finding(f"AMC sheet {student}", "whole sheet",
                                            "not an answer sheet of this build: left out"))
            continue
        copy_info = pmap["copies"][student - 1]
        variant, owner = copy_info["variant"], copy_info["student"]
        paper = (owner or variant) + (f" (copy {copy})" if copy else "")
        pages = scanned[(student, copy)]
        for page in sorted(layout_pages.get(student, set()) - pages):
            reading.findings.append(Finding(paper, f"page {page}", "not scanned: its answers are "
                                            "blank until it is"))
        captured = zones.get((student, copy), {})

        def question_state(name: str) -> _Question | None:
            drawn = boxes.get(student, {}).get(name)
            if not drawn:
                return None
            page = drawn[0][2]
            if page not in pages:
                return _Question(tuple(c for _, c, _ in drawn), None)
            states = tuple(is_ticked(captured.get((reverse[name], a))) for a, _, _ in drawn)
            return _Question(tuple(c for _, c, _ in drawn),
                             None if any(s is None for s in states) else states)

        id_questions = {f"{ID_QUESTION}[{k}]": question_state(f"{ID_QUESTION}[{k}]")
                        for k in range(1, id_width + 1)}
        id_text, id_problem = _read_id({k: q for k, q in id_questions.items() if q}, id_width)
        who = id_text if codes is None else codes.get(id_text) if id_text else None
        if id_text and codes is not None and who is None:
            id_problem = f"reads {id_text!r}, no student of the class list"
        if owner is not None:
            name = owner
            if id_problem:
                reading.findings.append(Finding(paper, "student id", id_problem))
            elif who != owner:
                reading.findings.append(Finding(paper, "student id", f"reads {id_text!r} "
                                                f"({who}), but this sheet was printed for {owner}: "
                                                "graded as theirs"))
        elif who:
            name = who
            if id_problem:
                reading.findings.append(Finding(paper, "student id", id_problem))
        else:
            name = f"unidentified-{variant}" + (f"-{copy}" if copy else "")
            reading.findings.append(Finding(paper, "student id", (id_problem or "blank")
                                            + f": graded as {name}"))
        if (variant, name) in seen:
            raise UserError(f"{project}: AMC sheets {seen[(variant, name)]} and {paper} both read "
                            f"as {name} on form {variant}: set the right student id in AMC's "
                            "manual data capture, run analyse again if needed, and grade again")
        seen[(variant, name)] = paper
        reading.papers += 1
        for qid in copy_info["questions"]:
            meaning = pmap["questions"].get(qid)
            if meaning is None:
                raise UserError(f"{project / MAP_NAME}: copy {number}: question {qid} is not "
                                "described")
            state = question_state(qid)
            where = _where(meaning)
            if state is None:
                raise UserError(f"{where_layout}: AMC sheet {student} has no boxes for {qid} "
                                f"({where}): was answer-sheets.tex changed after the build? Run "
                                "AMC's prepare and meptex on the build's own file")
            if state.ticked is None:
                response, problem = "", "not read (its page was not scanned)"
            elif meaning["kind"] == "choice":
                response, problem = _read_choice(state)
            else:
                response, problem = _read_number(state, meaning, f"{where_layout}: {qid}")
            if problem:
                reading.findings.append(Finding(paper, where, problem))
            reading.rows.append({"variant": variant, "student": name, "label": meaning["label"],
                                 "answer": meaning["answer"], "entry": meaning["entry"],
                                 "response": response})
    return reading


# ----------------------------------------------------------------------------- grading

def responses_csv(rows: list[dict], build: str = "") -> str:
    """The responses as a typed responses file: variant,student,label,answer,entry,response
    (and build, when the manifest has a build id)."""
    from ..formats.csv import safe_cell
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ["variant", "student", "label", "answer", "entry", "response"]
    writer.writerow(columns + (["build"] if build else []))
    for row in rows:
        writer.writerow([safe_cell(str(row[c])) for c in columns] + ([build] if build else []))
    return buffer.getvalue()


def _typed_rows(path: Path, build: str = "", roster: bool = False) -> list[dict]:
    """The rows of a typed responses file, to append to those read from the scans: checked
    as `wsgen grade` checks a responses file against answers.json's `build` (a row naming
    another build is refused; against a roster build the build column is required)."""
    raw = read_input(path, "responses file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in ("variant", "label", "answer", "entry", "response")
                   if c not in header]
        if roster and build and "build" not in header:
            missing.append("build")
        if missing:
            raise UserError(f"{path}:1: missing column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}"
                            + (" (a roster build's responses carry the build id printed on the "
                               "papers)" if "build" in missing else ""))
        for raw_row in reader:
            row = {k.strip().lower(): (v or "") for k, v in raw_row.items()
                   if isinstance(k, str) and isinstance(v, str)}
            row.setdefault("student", row.get("student_id", ""))
            if row.get("build", "").strip() != build and (row.get("build", "").strip() or roster):
                raise UserError(f"{path}:{reader.line_num}: build {row['build'].strip()!r}, but "
                                "the answers manifest is "
                                + (f"build {build!r}" if build else "from a wsgen without build ids")
                                + ": the typed responses are from another build")
            rows.append({c: row.get(c, "") for c in ("variant", "student", "label", "answer",
                                                    "entry", "response")})
    except csv.Error as exc:
        raise UserError(f"{path}:{reader.line_num}: not a readable CSV file: {exc}") from None
    return rows


def _write(path: Path, text: str) -> None:
    """Write the responses read from the scans, never over a file the user changed: the
    hash of what was last written is kept beside it (.wsgen-responses.sha256); a file that
    no longer has it (corrected by hand, as the README suggests) is refused."""
    from ..pipeline.output import atomic_write
    stamp = path.with_name(f".{path.stem}.sha256")
    if path.exists():
        try:
            current = hashlib.sha256(path.read_bytes()).hexdigest()
            written = stamp.read_text(encoding="ascii").strip() if stamp.exists() else ""
        except OSError as exc:
            raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
        if current != written and current != hashlib.sha256(text.encode("utf-8")).hexdigest():
            raise UserError(f"{path}: changed since wsgen wrote it (or not written by wsgen): "
                            "grade it as it is (wsgen grade FILE --answers …), or move it away "
                            "to read the scans again")
    try:
        atomic_write(path, text)
        atomic_write(stamp, hashlib.sha256(text.encode("utf-8")).hexdigest() + "\n")
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror or exc}") from None


def reading_lines(project: Path, reading: AmcReading) -> list[str]:
    count = reading.papers
    lines = [f"wsgen grade --amc: {count} answer sheet{'' if count == 1 else 's'} read from "
             f"{project}"]
    if reading.failed:
        lines.append("scans AMC could not recognise (no corner marks or page code found: "
                     "scan again, or capture by hand in AMC): " + ", ".join(reading.failed))
    if reading.unscanned:
        shown = ", ".join(reading.unscanned[:10])
        more = f", … ({len(reading.unscanned)} in all)" if len(reading.unscanned) > 10 else ""
        lines.append(f"not scanned: {shown}{more}")
    if reading.written:
        lines.append("written on the question sheets, not read from the scans (type them into "
                     "a responses file given beside --amc): " + ", ".join(reading.written))
    if reading.findings:
        lines.append(f"to look at ({len(reading.findings)}):")
        lines += [f"  {f.paper}: {f.where}: {f.what}" for f in reading.findings]
    return lines


def run_amc_grade(project: Path, answers_path: Path, out_dir: Path,
                  typed: Path | None = None, options=None) -> list[str]:
    """Read the scans of PROJECT, write PROJECT/wsgen-responses.csv, grade it as
    `wsgen grade` grades a typed file; the lines for stdout."""
    from .grade import run_grade
    from .grade import load_manifest
    project = Path(project)
    load_manifest(Path(answers_path))      # every check of answers.json, before it is read here
    answers = _load_json(Path(answers_path), "answers manifest")
    reading = read_project(project, answers)
    if not reading.papers:
        raise UserError(f"{project}: AMC read no answer sheet of this build: run "
                        "`auto-multiple-choice analyse` on the scans first (see the README)")
    build = str(answers.get("build", "") or "")
    roster = any(isinstance(v, dict) and v.get("student") is not None
                 for v in answers.get("variants", []))
    rows = reading.rows + (_typed_rows(Path(typed), build, roster) if typed is not None else [])
    responses = project / RESPONSES_NAME
    _write(responses, responses_csv(rows, build))
    return reading_lines(project, reading) + run_grade(responses, answers_path, out_dir, options)
