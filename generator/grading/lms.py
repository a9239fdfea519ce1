"""`wsgen grade --moodle FILE` / `--canvas FILE`: the responses of an online quiz, graded by wsgen.

An LMS export is read into the responses `grade.read_responses` returns (one Response per
answered entry: variant, student, slot label, answer, entry, the text typed), then scored,
diagnosed and reported by grading/grade.py exactly as a typed responses file is.

Which variant, slot and field a response belongs to is read from the reference every quiz
question and item prints in its text (formats/quizref.py: "Ref. TAG/VARIANT/SLOT" for a
Moodle question, ".../SLOT/FIELD" for a QTI item), because neither export carries an id
the quiz files could set.  The tag must be the one answers.json's exam gives; a question
whose text holds no reference, or one of another build, variant or slot, is reported with
its line and left out.

Moodle: the quiz's Responses report (Results > Responses), with "Question text" and
"Response" ticked, downloaded as CSV.  Its layout (mod/quiz/report/responses/report.php,
the attempts report's add_user_columns, add_state_column, add_time_columns and
add_grade_columns): "Last name", "First name", the site's identity fields ("Email
address", "ID number", …), "State", "Started on", "Completed", "Time taken", "Grade/…",
then per quiz slot N "Question N", "Response N" and, if ticked, "Right answer N"; a cell
without data is "-" (last_responses_table::data_col).  "Question N" is the question's
text as plain text (question_attempt's questionsummary), "Response N" the attempt's
responsesummary: for a cloze question "part 1: …; part 2: …" (qtype_multianswer_question::
summarise_response with the string subqresponse "part {i}: {response}"), each part what
was typed in a NUMERICAL field or the letter of a MULTICHOICE one, empty when left blank;
for a numerical question the number typed; for a multichoice question the chosen
option's text ("B. …", the letter first).  Each exam slot is drawn on its own in Moodle,
so a student's attempt may hold slot 1 of one variant and slot 2 of another: such a paper
is graded against those variants' records, slot by slot, under the name
"v003+v001+…" (each slot's variant, in the exam's order).  Attempts whose state is "In
progress", "Overdue" or "Never submitted" are reported and left out.

Canvas: a classic quiz's Student Analysis report (Quiz Statistics > Student Analysis),
one CSV per quiz; several may be given (qti.zip makes a quiz per variant).  Its layout
(app/models/quizzes/quiz_statistics/student_analysis.rb, to_csv): "name", "id",
["sis_id"], ["root_account"], "section", "section_id", ["section_sis_id"], "submitted",
["attempt"], then per question "ID: text" (the question's id and its text without tags)
followed by a column of the points it was given, and "n correct", "n incorrect",
"score".  A numerical question's cell is the number typed, a multiple-choice question's
the chosen answer's text ("B. …"), empty when not answered.

A student who appears on several rows (several attempts) gives several papers, named
"name (attempt 2)", ….  Findings (rows or columns left out) come before grade.py's summary.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError, read_input
from ..formats.quizref import Reference, build_tag, find_reference, quiz_record, slot_fields
from .grade import (RESPONSES_LIMIT, Manifest, Response, csv_rows, grade_files, grade_papers,
                    grading_record, load_manifest, summary_lines)
from .regrade import grade_once

__all__ = ["LmsReading", "read_canvas", "read_moodle", "run_lms_grade"]

SOURCES = ("moodle", "canvas")
_MOODLE_QUESTION = re.compile(r"^(Question|Response|Right answer) ([1-9][0-9]*)$")
_CANVAS_QUESTION = re.compile(r"^([0-9]+): ")
_LETTER = re.compile(r"\s*\(?([A-J])\)?(?:[.):]|\s|$)")
_UNFINISHED = ("In progress", "Overdue", "Never submitted")
COMPOSITE = "+"


@dataclass
class LmsReading:
    """What an export gave: the manifest (with a record for each combination of variants a
    Moodle attempt drew), the responses, and the findings to report."""
    manifest: Manifest
    responses: list[Response] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    papers: int = 0


@dataclass(frozen=True)
class _Slot:
    """One exam slot of one variant as an export row shows it."""
    variant: str
    position: int               # 0-based
    texts: dict                 # field number (1-based) -> response text ("": none)
    where: str                  # "Response 3" / "column 14"


def _rows(path: Path):
    """The export's header and its rows with the line each starts on."""
    raw = read_input(path, "LMS export", limit=RESPONSES_LIMIT)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text: download the report as CSV (UTF-8)") from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UserError(f"{path}:1: not a readable CSV file: {exc}") from None
    if not header:
        raise UserError(f"{path}:1: empty: expected the report's header row")
    return [cell.strip() for cell in header], list(csv_rows(reader, path))


def _cell(row, index) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _identity(name: str, ids: list[str]) -> str:
    name = " ".join(name.split())
    ident = next((i for i in ids if i and i != "-"), "")
    if name and ident:
        return f"{name} ({ident})"
    return name or ident or "anonymous"


def _letter(text: str) -> str:
    """A choice response as an option's letter ("B. 0.25" -> "B"); other text unchanged,
    for grading to report as unreadable."""
    match = _LETTER.match(text)
    return match.group(1) if match else text


class _Reader:
    """What both exports share: references checked against the manifest, rows turned into
    papers and responses."""

    def __init__(self, manifest: Manifest, data_tag: str):
        self.manifest, self.tag = manifest, data_tag
        self.reading = LmsReading(Manifest(manifest.path, manifest.exam, manifest.exam_id,
                                           dict(manifest.variants), list(manifest.slots)))
        self.seen: dict[str, int] = {}
        self.line_of: dict[int, str] = {}         # serial -> "file:line" (for grade's report)

    def check(self, ref: Reference | None, qti: bool) -> str:
        """Why a reference does not name a question of this build ("" when it does)."""
        if ref is None:
            return "no wsgen reference in the question's text (not a question of this build?)"
        if ref.tag != self.tag:
            return (f"reference Ref. {ref.tag}/… is of another build than "
                    f"{self.manifest.path} ({self.tag})")
        if ref.variant not in self.manifest.variants:
            return f"variant {ref.variant!r} is not in {self.manifest.path}"
        if not 1 <= ref.slot <= len(self.manifest.slots):
            return f"no exam slot {ref.slot} in {self.manifest.path}"
        if qti != (ref.field is not None):
            return ("a QTI item's reference in a Moodle export" if not qti
                    else "a Moodle question's reference in a Canvas export")
        if qti:
            count = len(slot_fields(self.problem(ref.variant, ref.slot - 1)))
            if ref.field > count:
                return f"slot {ref.slot} of variant {ref.variant} has {count} fields, not {ref.field}"
        return ""

    def problem(self, variant: str, position: int) -> dict:
        return self.manifest.variants[variant]["problems"][position]

    def paper(self, where: str, student: str, slots: list[_Slot]) -> None:
        """One attempt: its slots' responses, under a variant or a combination of variants."""
        if not slots:
            self.reading.findings.append(f"{where}: no question of this build answered: left out")
            return
        by_position: dict[int, _Slot] = {}
        for slot in slots:
            if slot.position in by_position:
                self.reading.findings.append(
                    f"{where}: {slot.where}: slot {self.manifest.slots[slot.position][0]} is "
                    f"already answered in {by_position[slot.position].where}: left out")
                continue
            by_position[slot.position] = slot
        variants = {s.variant for s in by_position.values()}
        count = len(self.manifest.slots)
        if len(variants) == 1 and len(by_position) == count:
            variant = next(iter(variants))
        else:
            variant = COMPOSITE.join(by_position[p].variant if p in by_position else "?"
                                     for p in range(count))
            if variant not in self.reading.manifest.variants:
                self.reading.manifest.variants[variant] = {
                    "variant": variant, "student": None,
                    "problems": [self.problem(by_position[p].variant, p)
                                 for p in range(count) if p in by_position]}
            missing = [self.manifest.slots[p][0] for p in range(count) if p not in by_position]
            if missing:
                self.reading.findings.append(f"{where}: slots not in the attempt: "
                                             f"{', '.join(missing)} (not graded)")
        attempt = self.seen.get(student, 0) + 1
        self.seen[student] = attempt
        name = student if attempt == 1 else f"{student} (attempt {attempt})"
        serial = len(self.line_of) + 1
        self.line_of[serial] = where
        self.reading.papers += 1
        for position, slot in sorted(by_position.items()):
            problem = self.problem(slot.variant, position)
            label = str(problem["label"])
            for number, key in enumerate(slot_fields(problem), start=1):
                text = slot.texts.get(number) or ""          # "": not answered
                if key.kind == "choice" and text:
                    text = _letter(text)
                self.reading.responses.append(Response(serial, variant, name, label, key.answer,
                                                       key.entry, text))


def _moodle_parts(summary: str, count: int) -> dict | None:
    """A cloze response summary "part 1: …; part 2: …" (trimmed: the last part's space
    may be gone) as {field: text}, or None when its parts are not 1 to `count` in order."""
    if not summary.startswith("part 1:"):
        return None
    texts, pos = {}, len("part 1:")
    for number in range(1, count + 1):
        end = len(summary) if number == count else summary.find(f"; part {number + 1}:", pos)
        if end < 0:
            return None
        texts[number] = summary[pos:end].strip()
        pos = end + len(f"; part {number + 1}:")
    return texts


def read_moodle(path: Path, manifest: Manifest, reader: _Reader | None = None) -> LmsReading:
    """The responses of a Moodle quiz's Responses report (see the module's docstring)."""
    reader = reader or _Reader(manifest, build_tag(manifest.build))
    header, rows = _rows(path)
    columns: dict[int, dict[str, int]] = {}
    for i, name in enumerate(header):
        match = _MOODLE_QUESTION.match(name)
        if match:
            columns.setdefault(int(match.group(2)), {})[match.group(1)] = i
    if not columns:
        raise UserError(f"{path}:1: no \"Question N\" or \"Response N\" columns: not a Moodle "
                        "Responses report (Results > Responses, downloaded as CSV in English)")
    if not all("Question" in c for c in columns.values()):
        raise UserError(f"{path}:1: no \"Question N\" columns: tick \"Question text\" (and "
                        "\"Response\") in the Responses report's options before downloading")
    if not all("Response" in c for c in columns.values()):
        raise UserError(f"{path}:1: no \"Response N\" columns: tick \"Response\" in the "
                        "Responses report's options before downloading")
    at = {name: i for i, name in enumerate(header)}
    ids = [i for name, i in at.items() if name in ("ID number", "Email address", "Username")]
    for line, row in rows:
        where = f"{path}:{line}"
        state = _cell(row, at.get("State"))
        name = " ".join(p for p in (_cell(row, at.get("First name")),
                                     _cell(row, at.get("Last name", at.get("Surname")))) if p)
        if state in _UNFINISHED:
            reader.reading.findings.append(f"{where}: attempt {state.lower()}: left out")
            continue
        slots = []
        for number, column in sorted(columns.items()):
            question = _cell(row, column["Question"])
            summary = _cell(row, column["Response"])
            if question in ("", "-"):
                continue                              # the attempt did not reach this slot
            ref = find_reference(question)
            why = reader.check(ref, qti=False)
            if why:
                reader.reading.findings.append(f"{where}: Question {number}: {why}: left out")
                continue
            fields = slot_fields(reader.problem(ref.variant, ref.slot - 1))
            if summary in ("", "-"):
                texts = {}
            elif len(fields) == 1:
                texts = {1: summary}
            else:
                texts = _moodle_parts(summary, len(fields))
                if texts is None:
                    reader.reading.findings.append(
                        f"{where}: Response {number}: cannot read {summary[:60]!r} as the "
                        f"{len(fields)} parts of slot {ref.slot} of {ref.variant}: left out")
                    continue
            slots.append(_Slot(ref.variant, ref.slot - 1, texts, f"Response {number}"))
        reader.paper(where, _identity(name, [_cell(row, i) for i in ids]), slots)
    return reader.reading


def read_canvas(path: Path, manifest: Manifest, reader: _Reader | None = None) -> LmsReading:
    """The responses of a Canvas quiz's Student Analysis report (see the module's docstring)."""
    reader = reader or _Reader(manifest, build_tag(manifest.build))
    header, rows = _rows(path)
    at = {name: i for i, name in enumerate(header)}
    if "name" not in at and "section" not in at:
        raise UserError(f"{path}:1: not a Canvas Student Analysis report (no \"name\" or "
                        "\"section\" column)")
    questions: list[tuple[int, Reference]] = []
    for i, name in enumerate(header):
        if not _CANVAS_QUESTION.match(name):
            continue
        ref = find_reference(name)
        why = reader.check(ref, qti=True)
        if why:
            reader.reading.findings.append(f"{path}:1: column {i + 1} ({name[:40]!r}…): {why}: left out")
            continue
        questions.append((i, ref))
    if not questions and not reader.reading.findings:
        raise UserError(f"{path}:1: no question columns (\"ID: text\"): not a Canvas Student "
                        "Analysis report")
    for line, row in rows:
        where = f"{path}:{line}"
        slots: dict[tuple[str, int], dict] = {}
        for i, ref in questions:
            text = _cell(row, i)
            slots.setdefault((ref.variant, ref.slot - 1), {})[ref.field] = text
        chosen = [_Slot(v, p, texts, f"slot {p + 1}") for (v, p), texts in slots.items()]
        student = _identity(_cell(row, at.get("name")),
                            [_cell(row, at.get("sis_id")), _cell(row, at.get("id"))])
        reader.paper(where, student, chosen)
    return reader.reading


def _as_quizzed(manifest: Manifest) -> Manifest:
    """The manifest as the quizzes asked it (formats.quizref.quiz_record): a formula answer
    is no quiz field, and the fields' shares are the quiz's."""
    variants = {name: dict(record, problems=[quiz_record(p) for p in record["problems"]])
                for name, record in manifest.variants.items()}
    return dataclasses.replace(manifest, variants=variants)


def run_lms_grade(source: str, exports: list[Path], answers_path: Path, out_dir: Path,
                  options=None) -> list[str]:
    """Read the exports of `source` ("moodle" or "canvas"), grade them as `wsgen grade`
    grades a typed responses file, write grades.csv and the feedback; the lines for stdout."""
    if source not in SOURCES:
        raise UserError(f"unknown LMS {source!r} (known: {', '.join(SOURCES)})")
    manifest = load_manifest(answers_path)
    reader = _Reader(manifest, build_tag(manifest.build))
    read = read_moodle if source == "moodle" else read_canvas
    for path in exports:
        read(Path(path), manifest, reader)
    reading = reader.reading
    if not reading.responses:
        raise UserError(f"{', '.join(map(str, exports))}: no response of this build's questions "
                        f"({len(reading.findings)} finding{'s' if len(reading.findings) != 1 else ''}"
                        + (f"; first: {reading.findings[0]}" if reading.findings else "") + ")")
    quizzed = _as_quizzed(reading.manifest)

    def grade(scratch: Path) -> tuple[dict[str, str], list[str]]:
        papers = grade_papers(quizzed, reading.responses, options)
        lines = [f"wsgen grade: read {reading.papers} attempt{'' if reading.papers == 1 else 's'} "
                 f"from {len(exports)} {source.capitalize()} export{'' if len(exports) == 1 else 's'}"]
        if reading.findings:
            lines.append(f"left out ({len(reading.findings)}):")
            lines += [f"  {finding}" for finding in reading.findings]
        marker = "\0lms"
        for line in summary_lines(quizzed, papers, marker, out_dir):
            # grade.py names a response by file:line: an attempt's row in its export
            lines.append(re.sub(re.escape(marker) + r":([0-9]+):",
                                lambda m: reader.line_of.get(int(m.group(1)), "?") + ":", line))
        from .gradebook import summary_line
        return (grade_files(quizzed, papers, options, out_dir, scratch),
                lines + summary_line(options, out_dir))

    return grade_once(out_dir, grading_record(quizzed, [Path(p) for p in exports], options), grade)
