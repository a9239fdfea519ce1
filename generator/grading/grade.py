"""`wsgen grade`: score students' responses against answers.json, diagnose declared mistakes,
write grades.csv and the feedback on each paper (grading/feedback.py).

The responses file is a CSV in the shape of answers.csv, one row per answered entry:

    variant,label,answer,entry,response          (required columns, any order)
    student  (or student_id)                      (optional: who wrote the paper)
    problem, seed, exact                          (optional: checked against the manifest
                                                   when filled, so a copy of answers.csv
                                                   with a response column works as it is)
    build                                         (the build id printed on the papers:
                                                   checked against answers.json's "build";
                                                   required against a roster build)

Other columns (value, notes, …) are ignored.  A row with an empty response is an entry
left unanswered.  A paper is a variant and, when given, a student: several students may
have written the same variant; in a roster build the manifest names each variant's student.
Names are compared as one student when they differ only in Unicode normalisation (NFC),
blanks or letter case; labels when they differ only in normalisation or blanks.  Text
cells are read back as answers.csv escapes them (formats.csv.read_cell).

Scoring.  Each answer's points are its "points" in answers.json (its share of the slot's
points).  A number is right when |a − b| ≤ abs + rel·|b| (its declared tolerance, b the
expected value); a choice when the letter is the correct one.  A vector, matrix or list
earns  points × (entries right) / (entries)  — per-entry partial credit; an entry left
out, unreadable or wrong earns nothing.  An unreadable response (not a number parse.py
reads, or not an option letter) scores 0 and is reported, never an error.

Diagnosis.  A wrong number that matches (within the answer's tolerance) a declared
mistake's value for that variant is labelled with the mistake's id; a wrong vector or
matrix when all its entries match the mistake's entry by entry; a wrong option when the
mistake leads to it (or the manifest's "distractors" name it).

Bad input (an unreadable CSV, a control character in a cell, a missing column, an unknown
variant, label, answer or entry, a duplicate row, a row that disagrees with the manifest or
names another build, a manifest that is not one: malformed, non-finite or out-of-range
numbers, nesting too deep) is a UserError naming file:line; nothing is written.

Output.  grades.csv and feedback/ are written through the build's output folder
(pipeline.output.OutputFolder, writer "grade"): see write_outputs.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Iterator

from ..errors import UserError, read_input
from ..exam.roster import WINDOWS_DEVICES
from ..core.records import choice_letter as letter, clean_text, entries, record_points, student_key
from .parse import Unreadable, read_number
from .policy import CREDIT_MODES, Policy, Settings, parse_rule, policy_of_record
from .score import (SCORERS, AnswerResult, Outcome, carry_forward, fmt_points,
                    score_answer)

__all__ = ["AnswerResult", "GradeOptions", "Manifest", "ManualResult", "Outcome", "Paper",
           "Response", "SlotResult", "fmt_points", "grade_papers", "load_manifest", "read_manual",
           "read_responses", "render_feedback", "render_grades", "score_slot", "slot_policy",
           "summary_lines", "write_outputs"]

MANIFEST_LIMIT = 1024 ** 3          # answers.json of a very large build
RESPONSES_LIMIT = 256 * 1024 ** 2
REQUIRED = ("variant", "label", "answer", "entry", "response")
_KINDS = SCORERS          # the answer kinds grading scores (score.SCORERS)


@lru_cache(maxsize=65536)
def _unescape(text: str) -> str:
    """A text cell as answers.csv writes it (formats.csv.safe_cell), read back: trimmed, and
    the apostrophe safe_cell puts before a formula character or an apostrophe dropped."""
    from ..formats.csv import read_cell
    return read_cell(text.strip())


# ---------------------------------------------------------------------------- manifest

@dataclass
class Manifest:
    path: Path
    exam: str
    exam_id: str
    variants: dict[str, dict]                 # variant id -> record
    slots: list[tuple[str, Fraction]]         # (label, points), in the exam's order
    build: str = ""                           # the build id ("" from a wsgen before build ids)
    notes: list[str] = field(default_factory=list)   # said once on stdout (follow-through off)

    @property
    def roster(self) -> bool:
        """A roster build: each variant is a student's, drawn under a secret key."""
        return any(record.get("student") is not None for record in self.variants.values())


def _bad(path, where: str, message: str) -> UserError:
    return UserError(f"{path}: not a wsgen answers manifest: "
                     + (f"{where}: " if where else "") + message)


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")     # C0 but tab, DEL, C1
MAX_POINTS = 10 ** 9                          # far above any slot's (the exam allows 1000)


def _is_number(value: Any) -> bool:
    """A finite JSON number that converts to a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _text_field(path, where: str, record: dict, key: str, optional: bool = False) -> None:
    value = record.get(key)
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise _bad(path, where, f"{key} must be a string")
    if _CONTROL.search(value):
        raise _bad(path, where, f"{key}: control character in {value!r}")


def _check_answer(path, where: str, name: str, answer: Any) -> None:
    if not isinstance(answer, dict):
        raise _bad(path, where, "expected an object")
    if _CONTROL.search(name):
        raise _bad(path, where, f"control character in the answer name {name!r}")
    for key in ("value", "exact", "kind", "tolerance", "points"):
        if key not in answer:
            raise _bad(path, where, f"missing {key!r}")
    if answer["kind"] not in _KINDS:
        raise _bad(path, where, f"unknown kind {answer['kind']!r}"[:200])
    tolerance = answer["tolerance"]
    if not (isinstance(tolerance, dict) and all(
            _is_number(tolerance.get(k)) and tolerance.get(k) >= 0 for k in ("abs", "rel"))):
        raise _bad(path, where, "tolerance must be {\"abs\": number, \"rel\": number}")
    if not _is_number(answer["points"]) or not 0 <= answer["points"] <= MAX_POINTS:
        raise _bad(path, where, f"points must be a number from 0 to {MAX_POINTS}")
    if not isinstance(answer.get("part", ""), str):
        raise _bad(path, where, "part must be a string")
    if answer["kind"] == "formula":
        from ..core.formula import FormulaError, check_record
        try:
            check_record(answer)
        except (FormulaError, RecursionError) as exc:
            raise _bad(path, where, f"formula: {exc}"[:300]) from None
        return
    if "rule" in answer:
        rule = answer["rule"]
        if not isinstance(rule, dict) or not rule or set(rule) - {"sigfigs", "decimals", "rel", "abs"}:
            raise _bad(path, where, "rule must be {\"sigfigs\": N}, {\"decimals\": N} or "
                       "{\"abs\": number, \"rel\": number}")
        try:
            parse_rule(rule, "rule")
        except ValueError as exc:
            raise _bad(path, where, str(exc)) from None
    if answer.get("credit", "entries") not in CREDIT_MODES:
        raise _bad(path, where, f"credit must be one of {', '.join(CREDIT_MODES)}")
    if answer["kind"] == "choice":
        options = answer.get("options")
        if not (isinstance(options, list) and 0 < len(options) <= 26
                and isinstance(answer["exact"], str)
                and answer["exact"] in [letter(i) for i in range(len(options))]):
            raise _bad(path, where, "a choice answer needs \"options\" and its letter as \"exact\"")
        return
    try:
        found = list(entries(answer["exact"], answer["value"]))
    except ValueError as exc:
        raise _bad(path, where, str(exc)) from None
    if not found:
        raise _bad(path, where, "no entries")
    # indices per entry: a number none, a vector one, a matrix two (row, column)
    depth = {"number": 0, "vector": 1, "matrix": 2}.get(answer["kind"])
    for entry, exact, value in found:
        if not isinstance(exact, str) or not _is_number(value):
            raise _bad(path, where, f"entry {entry or '(scalar)'}: expected an exact string and "
                       "a finite number")
        indices = len(entry.split(",")) if entry else 0
        if depth is not None and indices != depth or depth is None and not indices:
            raise _bad(path, where, f"entry {entry or '(scalar)'}: not an entry of a "
                       f"{answer['kind']}")


def _check_mistake(path, where: str, mistake: Any) -> None:
    if not (isinstance(mistake, dict) and isinstance(mistake.get("id"), str)
            and isinstance(mistake.get("answers", {}), dict)):
        raise _bad(path, where, "a mistake needs an id and answers")
    for key in ("id", "label", "why"):
        _text_field(path, where, mistake, key, optional=key != "id")
    for name, record in mistake.get("answers", {}).items():
        if not isinstance(record, dict):
            raise _bad(path, where, f"mistake {mistake['id']!r}: answers.{name} must be an object")
        if record.get("value") is None and isinstance(record.get("exact"), str):
            continue                      # a formula: read when a response is graded
        try:
            values = [value for _, _, value in entries(record.get("exact"), record.get("value"))]
        except (ValueError, RecursionError):
            raise _bad(path, where, f"mistake {mistake['id']!r}: answers.{name}: exact and "
                       "value differ in shape") from None
        if not all(_is_number(v) for v in values):
            raise _bad(path, where, f"mistake {mistake['id']!r}: answers.{name}: values must "
                       "be finite numbers")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number (answers.json holds finite numbers only)")


def load_manifest(path: Path) -> Manifest:
    raw = read_input(path, "answers manifest", limit=MANIFEST_LIMIT)
    try:
        data = json.loads(raw.decode("utf-8-sig"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise _bad(path, "", "nested too deeply") from None
    except ValueError as exc:                 # NaN, Infinity, an integer of 4300+ digits
        raise _bad(path, "", " ".join(str(exc).split())[:200]) from None
    try:
        return _manifest(path, data)
    except RecursionError:
        raise _bad(path, "", "nested too deeply") from None


def _manifest(path: Path, data: Any) -> Manifest:
    if not isinstance(data, dict) or not isinstance(data.get("variants"), list):
        raise UserError(f"{path}: not a wsgen answers manifest (answers.json from `wsgen build`): "
                        "no \"variants\" list")
    for key in ("exam", "exam_id", "build"):
        _text_field(path, "", data, key, optional=True)
    variants: dict[str, dict] = {}
    slots: list[tuple[str, Fraction]] | None = None
    for i, record in enumerate(data["variants"]):
        where = f"variants[{i}]"
        if not isinstance(record, dict) or not isinstance(record.get("variant"), str) \
                or not isinstance(record.get("problems"), list):
            raise _bad(path, where, "expected {\"variant\", \"student\", \"problems\"}")
        _text_field(path, where, record, "variant")
        _text_field(path, where, record, "student", optional=True)
        if record["variant"] in variants:
            raise _bad(path, where, f"variant {record['variant']!r} appears twice")
        labels = []
        for j, problem in enumerate(record["problems"]):
            pwhere = f"{where}.problems[{j}]"
            if not isinstance(problem, dict):
                raise _bad(path, pwhere, "expected an object")
            for key in ("label", "points", "problem", "answers"):
                if key not in problem:
                    raise _bad(path, pwhere, f"missing {key!r}")
            _text_field(path, pwhere, problem, "label")
            _text_field(path, pwhere, problem, "problem")
            if not _is_number(problem["points"]) or not 0 <= problem["points"] <= MAX_POINTS:
                raise _bad(path, pwhere, f"points must be a number from 0 to {MAX_POINTS}")
            if not isinstance(problem["answers"], dict) or not isinstance(problem.get("mistakes", []), list):
                raise _bad(path, pwhere, "answers must be an object and mistakes a list")
            seed = problem.get("seed")
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise _bad(path, pwhere, "seed must be an integer or null")
            for name, answer in problem["answers"].items():
                _check_answer(path, f"{pwhere}.answers.{name}", name, answer)
            try:
                manual = policy_of_record(problem.get("grading")).manual_points
            except ValueError as exc:
                raise _bad(path, pwhere, str(exc)) from None
            if manual > record_points(problem["points"]):
                raise _bad(path, pwhere, "its manual points are more than its points")
            for mistake in problem.get("mistakes", []):
                _check_mistake(path, pwhere, mistake)
            label = clean_text(problem["label"])
            if label in [known for known, _ in labels]:
                raise _bad(path, pwhere, f"label {label!r} appears twice")
            labels.append((label, record_points(problem["points"])))
        if slots is None:
            slots = labels
        elif [label for label, _ in labels] != [label for label, _ in slots]:
            raise _bad(path, where, "its exam slots differ from the first variant's")
        variants[record["variant"]] = record
    return Manifest(path=Path(path), exam=str(data.get("exam") or ""),
                    exam_id=str(data.get("exam_id") or ""), variants=variants,
                    slots=slots or [], build=str(data.get("build") or ""))


# ---------------------------------------------------------------------------- responses

@dataclass(frozen=True)
class Response:
    line: int
    variant: str
    student: str            # "" when not given (and not named by the manifest)
    label: str
    answer: str
    entry: str
    text: str


def _decode_csv(path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x})") from None


def _entry_key(text: str) -> str:
    """"2, 1" / "(2,1)" / " 2 " -> "2,1" / "2"."""
    return ",".join(part.strip() for part in text.strip().strip("()[]").split(",")) if text.strip() else ""


def _choose(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _check_cells(path, line: int, columns: list[str], row: list[str]) -> None:
    for column, text in zip(columns, row):
        bad = _CONTROL.search(text)
        if bad:
            raise UserError(f"{path}:{line}: {column or 'a column'}: control character "
                            f"U+{ord(bad.group()):04X} not allowed")


def csv_rows(reader, path) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of each row of a csv.reader that holds something (blank rows are
    skipped); a row the csv module cannot read is a UserError naming file:line."""
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UserError(f"{path}:{line}: not a readable CSV row: {exc}") from None
        if row and any(cell.strip() for cell in row):
            yield line, row


def read_responses(path: Path, manifest: Manifest) -> list[Response]:
    """Every row of the responses file, checked against the manifest (UserError file:line)."""
    text = _decode_csv(path, read_input(path, "responses file", limit=RESPONSES_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UserError(f"{path}:1: not a readable CSV file: {exc}") from None
    if not header or not any(cell.strip() for cell in header):
        raise UserError(f"{path}:1: empty: expected a header row with the columns "
                        f"{', '.join(REQUIRED)} (and optionally student)")
    columns = [cell.strip().lower() for cell in header]
    _check_cells(path, 1, ["header"] * len(columns), columns)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise UserError(f"{path}:1: missing column{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)} (a responses file has the columns "
                        f"{', '.join(REQUIRED)}, and optionally student)")
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise UserError(f"{path}:1: column {repeated[0]} appears twice")
    if "student" in columns and "student_id" in columns:
        raise UserError(f"{path}:1: give student or student_id, not both")
    if manifest.roster and manifest.build and "build" not in columns:
        raise UserError(f"{path}:1: no build column, but {manifest.path} is a roster build "
                        "(each student's numbers drawn under a secret key): add a column build "
                        "holding the build id printed on the papers, so that they cannot be "
                        "graded against another build's answers")
    at = {c: i for i, c in enumerate(columns)}
    student_col = at.get("student", at.get("student_id"))
    rows: list[Response] = []
    seen: dict[tuple, int] = {}
    walked: dict[int, dict[str, str]] = {}       # _entries_of
    paper_of_student: dict[str, tuple[str, int]] = {}
    spelling: dict[str, str] = {}                 # student key -> the name as first written
    named: dict[str, tuple[bool, int]] = {}       # variant -> (rows name a student, line)
    for line, row in csv_rows(reader, path):
        if len(row) != len(columns):
            raise UserError(f"{path}:{line}: expected {len(columns)} fields (as in the header), "
                            f"got {len(row)}")
        _check_cells(path, line, columns, row)
        cell = lambda name: _unescape(row[at[name]]) if name in at else ""
        variant_id, label, name = cell("variant"), clean_text(cell("label")), cell("answer")
        entry = _entry_key(row[at["entry"]])
        given_build = cell("build")
        if given_build != manifest.build and (given_build or manifest.roster):
            if not given_build:
                raise UserError(f"{path}:{line}: no build id, but {manifest.path} is a roster "
                                "build: give the build id printed on the papers on every row")
            raise UserError(f"{path}:{line}: build {given_build!r}, but {manifest.path} is "
                            + (f"build {manifest.build!r}" if manifest.build else
                               "from a wsgen without build ids")
                            + ": the responses are from another build")
        student = clean_text(_unescape(row[student_col])) if student_col is not None else ""
        record = manifest.variants.get(variant_id)
        if record is None:
            raise UserError(f"{path}:{line}: variant {variant_id!r} is not in {manifest.path} "
                            f"(its variants: {_choose(list(manifest.variants))}): are the "
                            "responses from another build?")
        owner = record.get("student")
        if owner is not None:
            if student and student_key(student) != student_key(owner):
                raise UserError(f"{path}:{line}: student {student!r}, but {manifest.path} gives "
                                f"variant {variant_id!r} to {owner!r}: are the responses from "
                                "another build?")
            student = owner
        else:
            has = bool(student)
            before = named.setdefault(variant_id, (has, line))
            if before[0] != has:
                raise UserError(f"{path}:{line}: {'a' if has else 'no'} student, but the rows of "
                                f"variant {variant_id!r} {'do not name' if has else 'name'} one "
                                f"(line {before[1]}): name the student on every row or on none")
        if student:
            key = student_key(student)
            student = spelling.setdefault(key, student)
            other = paper_of_student.setdefault(key, (variant_id, line))
            if other[0] != variant_id:
                raise UserError(f"{path}:{line}: student {student!r} with variant {variant_id!r}, "
                                f"but with variant {other[0]!r} on line {other[1]}")
        problem = next((p for p in record["problems"] if clean_text(p["label"]) == label), None)
        if problem is None:
            raise UserError(f"{path}:{line}: label {label!r} is not an exam slot of variant "
                            f"{variant_id!r} (slots: {_choose([clean_text(p['label']) for p in record['problems']])})")
        given_problem = cell("problem")
        if given_problem and given_problem != problem["problem"]:
            raise UserError(f"{path}:{line}: problem {given_problem!r}, but slot {label} of variant "
                            f"{variant_id!r} is {problem['problem']!r} in {manifest.path}: are the "
                            "responses from another build?")
        given_seed = cell("seed")
        seed = "" if problem.get("seed") is None else str(problem.get("seed"))
        if given_seed and given_seed != seed:
            raise UserError(f"{path}:{line}: seed {given_seed or '(none)'}, but {manifest.path} "
                            f"gives {label} of variant {variant_id!r} seed {seed or '(none)'}: are "
                            "the responses from another build?")
        answer = problem["answers"].get(name)
        if answer is None:
            raise UserError(f"{path}:{line}: {label} ({problem['problem']}) has no answer {name!r} "
                            f"(answers: {_choose(list(problem['answers']))})")
        known = _entries_of(answer, walked)
        if entry not in known:
            shape = ("a single value: leave entry empty" if list(known) == [""] else
                     f"entries {list(known)[0]} to {list(known)[-1]}")
            raise UserError(f"{path}:{line}: {label} {name}: no entry {entry or '(empty)'!r} "
                            f"({name} is {shape})")
        given_exact = cell("exact")
        if given_exact and given_exact != known[entry]:
            raise UserError(f"{path}:{line}: exact {given_exact!r}, but {manifest.path} gives "
                            f"{known[entry]!r} for {label} {name}{' entry ' + entry if entry else ''} "
                            f"of variant {variant_id!r}: are the responses from another build?")
        key = (variant_id, student_key(student), label, name, entry)
        if key in seen:
            who = f"{student!r} " if student else ""
            raise UserError(f"{path}:{line}: duplicate row: {variant_id!r} {who}{label!r} {name!r}"
                            f"{' entry ' + entry if entry else ''} is also on line {seen[key]}"
                            + (" (names that differ only in letter case, blanks or Unicode "
                               "normalisation are one student)" if student else ""))
        seen[key] = line
        rows.append(Response(line, variant_id, student, label, name, entry, row[at["response"]]))
    return rows


def _entries_of(answer: dict, cache: dict[int, dict[str, str]]) -> dict[str, str]:
    """An answer record's entries ("" for a scalar, "i", "i,j") and their exact strings,
    walked once per record (a responses file names each many times; `cache` lives as long
    as the manifest's records)."""
    known = cache.get(id(answer))
    if known is None:
        if answer["kind"] in ("choice", "formula"):
            known = {"": answer["exact"]}
        else:
            known = {e: exact for e, exact, _ in entries(answer["exact"], answer["value"])}
        cache[id(answer)] = known
    return known


# ---------------------------------------------------------------------------- scoring

@dataclass(frozen=True)
class GradeOptions:
    """What `wsgen grade` is told besides the responses: policy overrides (they replace
    answers.json's for every slot) and a file of manual points."""
    settings: Settings = Settings()
    manual: Path | None = None
    gradebook: str | None = None         # gradebook.FORMATS: an LMS import file too
    roster: Path | None = None           # the class's roster: names, LMS accounts
    assignment: str | None = None        # the gradebook's assignment column
    feedback: tuple[str, ...] = ("md", "html")     # feedback.FORMATS
    feedback_zip: str | None = None      # feedback.ZIP_LAYOUTS: the files zipped for an LMS
    key_url: str | None = None           # where the build folder is published (links)


@dataclass
class ManualResult:
    """Points graded by hand for a slot or a part (its maximum from answers.json)."""
    part: str
    max_points: Fraction
    rubric: str
    points: Fraction | None = None       # None: not graded (yet)
    comment: str = ""
    line: int = 0


@dataclass
class SlotResult:
    label: str
    problem: str
    max_points: Fraction
    answers: list[AnswerResult]
    manual: list[ManualResult] = field(default_factory=list)

    @cached_property
    def automatic(self) -> Fraction:
        # the answers are scored (follow-through included) before the slot is made
        return sum((a.points for a in self.answers), Fraction(0))

    @property
    def by_hand(self) -> Fraction:
        return sum((m.points or Fraction(0) for m in self.manual), Fraction(0))

    @property
    def points(self) -> Fraction:
        return self.automatic + self.by_hand


@dataclass
class Paper:
    variant: str
    student: str
    slots: list[SlotResult]

    @property
    def name(self) -> str:
        return self.student or self.variant

    def slot_points(self, label: str) -> Fraction:
        return sum((slot.points for slot in self.slots if slot.label == label), Fraction(0))

    @property
    def automatic(self) -> Fraction:
        return sum((slot.automatic for slot in self.slots), Fraction(0))

    @property
    def by_hand(self) -> Fraction:
        return sum((slot.by_hand for slot in self.slots), Fraction(0))

    @property
    def total(self) -> Fraction:
        return self.automatic + self.by_hand

    @property
    def max_points(self) -> Fraction:
        return sum((slot.max_points for slot in self.slots), Fraction(0))


def slot_policy(problem: dict, settings: Settings) -> Policy:
    """A slot's policy: answers.json's "grading" (defaults for a manifest without one), with
    the command line's settings over it."""
    return policy_of_record(problem.get("grading")).overridden(settings)


def answer_record(answer: dict, settings: Settings) -> dict:
    """An answer's record with the command line's rule and credit mode over its own."""
    if answer["kind"] in ("choice", "formula") or (settings.rule is None and settings.credit is None):
        return answer
    record = dict(answer)
    if settings.rule is not None:
        record["rule"] = settings.rule.to_json()
    if settings.credit is not None:
        record["credit"] = settings.credit_mode(answer["kind"])
    return record


def score_slot(problem: dict, given: dict[tuple[str, str], Response], policy: Policy,
               settings: Settings, hook=None) -> SlotResult:
    """Every answer of one slot of one paper (`given`: (answer, entry) -> response); `hook`:
    the slot's problem, whose follow-through carries a slip forward (None: none)."""
    label = clean_text(problem["label"])
    mistakes = problem.get("mistakes", [])
    answers = []
    for name, answer in problem["answers"].items():
        mine = {entry: r for (nm, entry), r in given.items() if nm == name}
        answers.append(score_answer(name, answer_record(answer, settings), mine, policy, mistakes,
                                    label=label, problem=str(problem["problem"])))
    if hook is not None:
        carry_forward(answers, problem, hook, policy)
    manual = [ManualResult(m.part, m.points, m.rubric) for m in policy.manual]
    return SlotResult(label, str(problem["problem"]), record_points(problem["points"]), answers, manual)


def _check_mistake_ids(manifest: Manifest, settings: Settings) -> None:
    known = sorted({str(m.get("id")) for record in manifest.variants.values()
                    for problem in record["problems"] for m in problem.get("mistakes", [])})
    for mistake, _ in settings.mistake_credit:
        if mistake not in known:
            raise UserError(f"--mistake-credit: no mistake {mistake!r} in {manifest.path} "
                            f"(its mistakes: {_choose(known, 12) or 'none'})")


def follow_hooks(manifest: Manifest) -> dict[tuple[str, str], Any]:
    """(variant, slot label) -> the slot's problem when its follow-through can be trusted
    there: the problem is registered here (built in or an installed plugin) and its hook
    gives back the key from the key's own values (follow.hook_disagrees).  Where it cannot,
    follow-through is off and manifest.notes says why, once per problem."""
    from .follow import hook_disagrees
    wanted = {str(p["problem"]) for record in manifest.variants.values() for p in record["problems"]}
    try:
        from ..registry import discover
        problems = discover().problems
    except Exception as exc:  # noqa: BLE001 - grading goes on without follow-through
        manifest.notes.append(f"follow-through off: the problems could not be loaded ({exc})"[:300])
        return {}
    hooks, told = {}, set()
    for variant, record in manifest.variants.items():
        for p in record["problems"]:
            pid = str(p["problem"])
            problem = problems.get(pid)
            if problem is None or not problem.follows:
                if problem is None and pid not in told and pid in wanted:
                    told.add(pid)
                    manifest.notes.append(f"follow-through off for {pid}: not a problem of this "
                                          "installation")
                continue
            why = hook_disagrees(problem, p)
            if why:
                if pid not in told:
                    told.add(pid)
                    manifest.notes.append(f"follow-through off for {pid} (variant {variant}): {why}"[:300])
                continue
            hooks[(variant, clean_text(p["label"]))] = problem
    return hooks


def grade_papers(manifest: Manifest, responses: list[Response],
                 options: GradeOptions | None = None) -> list[Paper]:
    """One Paper per (variant, student) in the responses (and in the manual points), in the
    manifest's variant order."""
    options = options or GradeOptions()
    settings = options.settings
    _check_mistake_ids(manifest, settings)
    by_paper: dict[tuple[str, str], dict[tuple[str, str, str], Response]] = {}
    for response in responses:
        if response.text.strip() in ("", "'"):
            by_paper.setdefault((response.variant, response.student), {})
            continue
        by_paper.setdefault((response.variant, response.student), {})[
            (response.label, response.answer, response.entry)] = response
    manual_rows = read_manual(options.manual, manifest, list(by_paper), settings) \
        if options.manual is not None else []
    for row in manual_rows:
        by_paper.setdefault((row.variant, row.student), {})
    order = {variant: i for i, variant in enumerate(manifest.variants)}
    hooks = follow_hooks(manifest) if any(
        slot_policy(p, settings).follow_credit for v in {k[0] for k in by_paper}
        for p in manifest.variants[v]["problems"]) else {}
    papers = []
    for (variant, student) in sorted(by_paper, key=lambda k: (order[k[0]], k[1])):
        given = by_paper[(variant, student)]
        record = manifest.variants[variant]
        slots = []
        for problem in record["problems"]:
            label = clean_text(problem["label"])
            mine = {(nm, entry): r for (lbl, nm, entry), r in given.items() if lbl == label}
            slots.append(score_slot(problem, mine, slot_policy(problem, settings), settings,
                                    hooks.get((variant, label))))
        papers.append(Paper(variant, student, slots))
    _merge_manual(papers, manual_rows)
    return papers


# ---------------------------------------------------------------------------- manual points

@dataclass(frozen=True)
class ManualRow:
    line: int
    variant: str
    student: str
    label: str
    part: str
    points: Fraction
    comment: str


MANUAL_REQUIRED = ("label", "points")


def read_manual(path: Path, manifest: Manifest, papers: list[tuple[str, str]],
                settings: Settings = Settings()) -> list[ManualRow]:
    """The rows of a manual-points file: student and/or variant, label, part (optional when
    the slot has one manual item), points, comment (optional).  A row for a slot or part
    without manual points, points above its maximum or below 0, a paper that cannot be
    told, or a second row for the same points is a UserError naming file:line."""
    text = _decode_csv(path, read_input(path, "manual points file", limit=RESPONSES_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UserError(f"{path}:1: not a readable CSV file: {exc}") from None
    columns = [cell.strip().lower() for cell in header or []]
    _check_cells(path, 1, ["header"] * len(columns), columns)
    missing = [c for c in MANUAL_REQUIRED if c not in columns]
    if not any(columns) or missing or not ({"student", "student_id", "variant"} & set(columns)):
        raise UserError(f"{path}:1: a manual points file has the columns student (or variant, "
                        "or both), label, points, and optionally part and comment"
                        + (f"; missing: {', '.join(missing)}" if missing and any(columns) else ""))
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise UserError(f"{path}:1: column {repeated[0]} appears twice")
    if "student" in columns and "student_id" in columns:
        raise UserError(f"{path}:1: give student or student_id, not both")
    at = {c: i for i, c in enumerate(columns)}
    student_col = at.get("student", at.get("student_id"))
    by_student: dict[str, list[tuple[str, str]]] = {}
    for variant, student in papers:
        by_student.setdefault(student_key(student), []).append((variant, student))
    owners = {student_key(r["student"]): v for v, r in manifest.variants.items()
              if r.get("student") is not None}
    rows: list[ManualRow] = []
    seen: dict[tuple, int] = {}
    decimal_comma = bool(settings.decimal_comma)
    for line, row in csv_rows(reader, path):
        if len(row) != len(columns):
            raise UserError(f"{path}:{line}: expected {len(columns)} fields (as in the header), "
                            f"got {len(row)}")
        _check_cells(path, line, columns, [c.replace("\n", " ") for c in row])
        cell = lambda name: _unescape(row[at[name]]) if name in at else ""
        variant = cell("variant")
        student = clean_text(_unescape(row[student_col])) if student_col is not None else ""
        if variant:
            record = manifest.variants.get(variant)
            if record is None:
                raise UserError(f"{path}:{line}: variant {variant!r} is not in {manifest.path} "
                                f"(its variants: {_choose(list(manifest.variants))})")
            owner = record.get("student")
            if owner is not None:
                if student and student_key(student) != student_key(owner):
                    raise UserError(f"{path}:{line}: student {student!r}, but {manifest.path} "
                                    f"gives variant {variant!r} to {owner!r}")
                student = owner
            elif not student:
                named = [s for v, s in papers if v == variant and s]
                if named:
                    raise UserError(f"{path}:{line}: variant {variant!r} is written by "
                                    f"{_choose(sorted(named))} in the responses: name the student")
            else:
                known = [v for v, _ in by_student.get(student_key(student), [])]
                if known and known[0] != variant:
                    raise UserError(f"{path}:{line}: student {student!r} with variant "
                                    f"{variant!r}, but the responses give them variant {known[0]!r}")
                student = next((s for v, s in by_student.get(student_key(student), [])), student)
        elif student:
            found = by_student.get(student_key(student))
            if found:
                variant, student = found[0]
            elif student_key(student) in owners:
                variant = owners[student_key(student)]
                student = manifest.variants[variant]["student"]
            else:
                raise UserError(f"{path}:{line}: student {student!r} has no responses: give "
                                "the variant of their paper in a variant column")
        else:
            raise UserError(f"{path}:{line}: no student and no variant: whose points are these?")
        label = clean_text(cell("label"))
        problem = next((p for p in manifest.variants[variant]["problems"]
                        if clean_text(p["label"]) == label), None)
        if problem is None:
            raise UserError(f"{path}:{line}: label {label!r} is not an exam slot (slots: "
                            f"{_choose([lbl for lbl, _ in manifest.slots])})")
        items = policy_of_record(problem.get("grading")).manual
        if not items:
            raise UserError(f"{path}:{line}: {label} has no manual points in {manifest.path} "
                            "(declare them in the exam file: manual = …)")
        part = " ".join(cell("part").split())
        item = next((m for m in items if m.part == part), None)
        if item is None and not part and len(items) == 1:
            item = items[0]
        if item is None:
            parts = ", ".join(m.part or "(the whole slot)" for m in items)
            raise UserError(f"{path}:{line}: {label}" + (f" part {part}" if part else "")
                            + f": no manual points there (manual points of {label}: {parts})"
                            + ("" if part else ": give the part in a part column"))
        text = cell("points")
        try:
            points = read_number(text, decimal_comma)
        except Unreadable as exc:
            raise UserError(f"{path}:{line}: points {text.strip()[:40]!r}: not a number ({exc})") from None
        points = Fraction(points) if isinstance(points, Fraction) else Fraction(repr(float(points)))
        where = f"{label}" + (f" part {item.part}" if item.part else "")
        if not 0 <= points <= item.points:
            raise UserError(f"{path}:{line}: {fmt_points(points)} points for {where}: expected 0 "
                            f"to {fmt_points(item.points)}")
        key = (variant, student_key(student), label, item.part)
        if key in seen:
            raise UserError(f"{path}:{line}: {where} of {student or variant!r} has points on "
                            f"line {seen[key]} too")
        seen[key] = line
        rows.append(ManualRow(line, variant, student, label, item.part, points,
                              " ".join(cell("comment").split())))
    return rows


def _merge_manual(papers: list[Paper], rows: list[ManualRow]) -> None:
    where = {(p.variant, student_key(p.student)): p for p in papers}
    for row in rows:
        paper = where[(row.variant, student_key(row.student))]
        slot = next(s for s in paper.slots if s.label == row.label)
        item = next(m for m in slot.manual if m.part == row.part)
        item.points, item.comment, item.line = row.points, row.comment, row.line


# ---------------------------------------------------------------------------- outputs

def _has_manual(papers: list[Paper]) -> bool:
    return any(slot.manual for paper in papers for slot in paper.slots)


def render_grades(manifest: Manifest, papers: list[Paper]) -> str:
    """One row per paper: each slot's points (automatic and by hand), the total and the
    maximum; columns automatic and manual before the total when the exam has manual
    points."""
    from ..formats.csv import safe_cell
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    labels = [label for label, _ in manifest.slots]
    manual = _has_manual(papers)
    writer.writerow(["variant", "student", *[safe_cell(label) for label in labels],
                     *(["automatic", "manual"] if manual else []), "total", "max"])
    for paper in papers:
        writer.writerow([safe_cell(paper.variant), safe_cell(paper.student),
                         *[fmt_points(paper.slot_points(label)) for label in labels],
                         *([fmt_points(paper.automatic), fmt_points(paper.by_hand)] if manual else []),
                         fmt_points(paper.total), fmt_points(paper.max_points)])
    return buffer.getvalue()


def render_feedback(manifest: Manifest, paper: Paper) -> str:
    """A paper's feedback in Markdown (grading/feedback.py has the other forms)."""
    from .feedback import feedback_of, render_md
    return render_md(feedback_of(manifest, paper))


#: The longest feedback file name stem, in characters (ASCII: bytes); file systems allow 255.
MAX_STEM = 80


#: The most bytes of a feedback file name stem (UTF-8): room for "-N.html" within 255.
MAX_STEM_BYTES = 200


def _file_names(papers: list[Paper]) -> dict[int, str]:
    """A safe, distinct file name stem per paper: its student or variant, shortened; letters
    of any script kept, anything else that is not a digit, ".", "_" or "-" made "_"; never
    a name Windows keeps for a device, never starting with "-" or "."."""
    used: set[str] = set()
    names = {}
    for i, paper in enumerate(papers):
        stem = re.sub(r"[^\w.-]+", "_", unicodedata.normalize("NFC", paper.name))
        stem = stem.strip("._-")[:MAX_STEM].rstrip("._-")
        while len(stem.encode("utf-8")) > MAX_STEM_BYTES:
            stem = stem[:-1].rstrip("._-")
        if not stem or WINDOWS_DEVICES.match(stem):
            stem = f"paper_{stem}" if stem else "paper"
        name, n = stem, 2
        while name.casefold() in used:
            name, n = f"{stem}-{n}", n + 1
        used.add(name.casefold())
        names[i] = name
    return names


def summary_lines(manifest: Manifest, papers: list[Paper], responses_path, out_dir) -> list[str]:
    count = len(papers)
    lines = [f"wsgen grade: {count} paper{'' if count == 1 else 's'} graded; wrote "
             f"{Path(out_dir) / 'grades.csv'} and the feedback on each in {Path(out_dir) / 'feedback'}"]
    if papers:
        mean = sum((p.total for p in papers), Fraction(0)) / count
        lines.append(f"mean {fmt_points(mean)} / {fmt_points(papers[0].max_points)} points")
        from .analysis import analyse
        analysis = analyse(manifest, papers)
        flagged = len(analysis.flagged)
        lines.append(f"item analysis: {flagged} of {len(analysis.items)} items flagged; see "
                     f"{Path(out_dir) / 'analysis.html'}")
    counts: dict[tuple[str, str], list] = {}
    rounded: list[tuple[Paper, AnswerResult]] = []
    for paper in papers:
        for slot in paper.slots:
            for a in slot.answers:
                if a.outcome is Outcome.ROUNDED:
                    rounded.append((paper, a))
                for m in a.mistakes:
                    entry = counts.setdefault((slot.problem, m["id"]), [0, set(), m.get("label", ""), set()])
                    entry[0] += 1
                    entry[1].add((paper.variant, paper.student))
                    entry[3].add(slot.label)
    if counts:
        lines.append("most frequent mistakes (answers; papers):")
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1][0], -len(kv[1][1]), kv[0]))
        for (problem, mistake_id), (n, who, label, slots) in ranked:
            lines.append(f"  {n:4d}  {len(who):3d}  {problem}/{mistake_id}"
                         + (f" ({', '.join(sorted(slots))}: {label})" if label else f" ({', '.join(sorted(slots))})"))
    else:
        lines.append("no declared mistake found")
    if rounded:
        who = {(p.variant, p.student) for p, _ in rounded}
        lines.append(f"right values rounded more coarsely than asked: {len(rounded)} answer"
                     f"{'' if len(rounded) == 1 else 's'} on {len(who)} paper"
                     f"{'' if len(who) == 1 else 's'}")
    carried = [(p, a) for p in papers for slot in p.slots for a in slot.answers
               if a.outcome is Outcome.CARRIED]
    if carried:
        who = {(p.variant, p.student) for p, _ in carried}
        lines.append(f"answers carried forward (right for the student's own earlier values): "
                     f"{len(carried)} on {len(who)} paper{'' if len(who) == 1 else 's'}")
    lines += manifest.notes
    from .feedback import missing_keys_line
    lines += missing_keys_line(manifest, papers)
    pending: dict[str, int] = {}
    for paper in papers:
        for slot in paper.slots:
            for m in slot.manual:
                if m.points is None:
                    where = slot.label + (f" {m.part}" if m.part else "")
                    pending[where] = pending.get(where, 0) + 1
    if pending:
        lines.append("manual points not given (counted 0): " + ", ".join(
            f"{where} on {n} paper{'' if n == 1 else 's'}" for where, n in pending.items()))
    unreadable = [(e.line, a, e) for p in papers for slot in p.slots
                  for a in slot.answers for e in a.entries if e.unreadable]
    if unreadable:
        lines.append(f"unreadable responses (scored 0): {len(unreadable)}")
        for line, a, e in sorted(unreadable, key=lambda t: t[0]):
            entry = f" ({e.entry})" if e.entry else ""
            lines.append(f"  {responses_path}:{line}: {a.label} {a.name}{entry}: "
                         f"{' '.join(e.given.split())[:60]!r}: {e.unreadable}")
    return lines


def grade_files(manifest: Manifest, papers: list[Paper], options: GradeOptions | None = None,
                out_dir: Path | None = None, scratch: Path | None = None) -> dict[str, str | bytes]:
    """What a grading into `out_dir` writes: grades.csv, the item analysis (analysis.csv,
    analysis.html), the gradebook asked for, and the feedback on each paper in the forms
    asked for (grading/feedback.py)."""
    from .analysis import analysis_files
    files = {"grades.csv": render_grades(manifest, papers), **analysis_files(manifest, papers)[1]}
    if options is not None and options.gradebook:
        from .gradebook import gradebook_file
        name, text = gradebook_file(options.gradebook, manifest, papers, options.roster,
                                    options.assignment)
        files[name] = text
    from .feedback import feedback_files
    students = None
    if options is not None and options.roster is not None:
        from ..exam.roster import load_roster
        from .gradebook import roster_rows
        students = [s for _, s in roster_rows(papers, load_roster(options.roster), options.roster)]
    files.update(feedback_files(manifest, papers, list(_file_names(papers).values()),
                                options or GradeOptions(), out_dir, students, scratch))
    return files


def write_outputs(out_dir: Path, files: dict[str, str]) -> None:
    """Write `files` (relative path -> text) into the folder `out_dir` through the output
    folder the build uses (pipeline.output): locked, staged inside it and committed under
    its manifest; a file wsgen grade did not write, or that changed since it did, is never
    overwritten or removed; an earlier grading's files that this one does not make are
    removed.  On failure, or after SIGKILL, nothing half-written remains (the next run
    removes the abandoned staging folder).  (run_grade writes through regrade.grade_once,
    which adds the grading record.)"""
    from ..pipeline.output import OutputFolder
    from .regrade import commit_files
    with OutputFolder(out_dir, writer="grade") as folder:
        commit_files(folder, files, None)


def grading_record(manifest: Manifest, responses: list[Path], options: GradeOptions | None) -> dict:
    """What this grading is made from (regrade.RECORD): the files' hashes, the policy, the
    options."""
    from .. import __version__
    from .feedback import keys_record
    from .regrade import file_entry, settings_json
    options = options or GradeOptions()
    first = next(iter(manifest.variants.values()), {"problems": []})
    return {"wsgen": __version__, "answers": file_entry(manifest.path),
            "responses": [file_entry(Path(p)) for p in responses],
            "manual": file_entry(options.manual), "roster": file_entry(options.roster),
            "policy": {"overrides": settings_json(options.settings),
                       "slots": {clean_text(p["label"]): slot_policy(p, options.settings).to_json()
                                 for p in first["problems"]}},
            "options": {"gradebook": options.gradebook, "assignment": options.assignment,
                        "feedback": list(options.feedback), "feedback_zip": options.feedback_zip,
                        "key_url": options.key_url},
            "keys": keys_record(manifest, options)}


def run_grade(responses_path: Path, answers_path: Path, out_dir: Path,
              options: GradeOptions | None = None) -> list[str]:
    """Read, grade, write; the summary lines for stdout."""
    manifest = load_manifest(answers_path)
    responses = read_responses(responses_path, manifest)
    if not responses:
        raise UserError(f"{responses_path}: no responses: expected a row per answered entry "
                        "under the header")

    def grade(scratch: Path) -> tuple[dict[str, str], list[str]]:
        papers = grade_papers(manifest, responses, options)
        from .gradebook import summary_line
        lines = summary_lines(manifest, papers, responses_path, out_dir)
        return grade_files(manifest, papers, options, out_dir, scratch), lines[:1] + summary_line(options, out_dir) + lines[1:]

    from .regrade import grade_once
    return grade_once(out_dir, grading_record(manifest, [responses_path], options), grade)
