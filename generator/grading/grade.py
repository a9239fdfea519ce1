"""`wsgen grade`: score students' responses against answers.json, diagnose declared mistakes,
write grades.csv and one feedback file per paper.

The responses file is a CSV in the shape of answers.csv, one row per answered entry:

    variant,label,answer,entry,response          (required columns, any order)
    student  (or student_id)                      (optional: who wrote the paper)
    problem, seed, exact                          (optional: checked against the manifest
                                                   when filled, so a copy of answers.csv
                                                   with a response column works as it is)

Other columns (value, notes, …) are ignored.  A row with an empty response is an entry
left unanswered.  A paper is a variant and, when given, a student: several students may
have written the same variant; in a roster build the manifest names each variant's student.

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

Bad input (an unreadable CSV, a missing column, an unknown variant, label, answer or entry,
a duplicate row, a row that disagrees with the manifest, a manifest that is not one) is a
UserError naming file:line; nothing is written.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import UserError, read_input
from ..core.records import choice_letter as letter, entries
from .compare import choice_mistakes, close, whole_mistakes
from .parse import Unreadable, read_letter, read_number

__all__ = ["AnswerResult", "Manifest", "Paper", "Response", "fmt_points", "grade_papers",
           "load_manifest", "read_responses", "render_feedback", "render_grades",
           "summary_lines", "write_outputs"]

MANIFEST_LIMIT = 1024 ** 3          # answers.json of a very large build
RESPONSES_LIMIT = 256 * 1024 ** 2
REQUIRED = ("variant", "label", "answer", "entry", "response")
_KINDS = ("number", "vector", "matrix", "list", "choice")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def fmt_points(points: Fraction) -> str:
    """Points as written in grades.csv and the feedback: at most 4 decimals."""
    if points.denominator == 1:
        return str(points.numerator)
    text = f"{float(points):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _as_points(value: Any) -> Fraction:
    # answers.json writes a share as the float nearest to it (5/3 -> 1.6666666666666667)
    return Fraction(value).limit_denominator(10 ** 6)


def _unescape(text: str) -> str:
    """A text cell as answers.csv escapes it (safe_cell): a leading apostrophe before a
    formula character is not part of the value."""
    text = text.strip()
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


# ---------------------------------------------------------------------------- manifest

@dataclass
class Manifest:
    path: Path
    exam: str
    exam_id: str
    variants: dict[str, dict]                 # variant id -> record
    slots: list[tuple[str, Fraction]]         # (label, points), in the exam's order


def _bad(path, where: str, message: str) -> UserError:
    return UserError(f"{path}: not a wsgen answers manifest: {where}: {message}")


def _check_answer(path, where: str, name: str, answer: Any) -> None:
    if not isinstance(answer, dict):
        raise _bad(path, where, "expected an object")
    for key in ("value", "exact", "kind", "tolerance", "points"):
        if key not in answer:
            raise _bad(path, where, f"missing {key!r}")
    if answer["kind"] not in _KINDS:
        raise _bad(path, where, f"unknown kind {answer['kind']!r}")
    tolerance = answer["tolerance"]
    if not (isinstance(tolerance, dict) and all(
            isinstance(tolerance.get(k), (int, float)) and not isinstance(tolerance.get(k), bool)
            and tolerance.get(k) >= 0 for k in ("abs", "rel"))):
        raise _bad(path, where, "tolerance must be {\"abs\": number, \"rel\": number}")
    if not isinstance(answer["points"], (int, float)) or isinstance(answer["points"], bool) \
            or answer["points"] < 0:
        raise _bad(path, where, "points must be a non-negative number")
    if answer["kind"] == "choice":
        options = answer.get("options")
        if not (isinstance(options, list) and options and isinstance(answer["exact"], str)
                and answer["exact"] in [letter(i) for i in range(len(options))]):
            raise _bad(path, where, "a choice answer needs \"options\" and its letter as \"exact\"")
        return
    try:
        found = list(entries(answer["exact"], answer["value"]))
    except ValueError as exc:
        raise _bad(path, where, str(exc)) from None
    for entry, exact, value in found:
        if not isinstance(exact, str) or isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(path, where, f"entry {entry or '(scalar)'}: expected an exact string and a number")
    if answer["kind"] == "number" and found[0][0] != "":
        raise _bad(path, where, "a number must be a scalar")


def load_manifest(path: Path) -> Manifest:
    raw = read_input(path, "answers manifest", limit=MANIFEST_LIMIT)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("variants"), list):
        raise UserError(f"{path}: not a wsgen answers manifest (answers.json from `wsgen build`): "
                        "no \"variants\" list")
    variants: dict[str, dict] = {}
    slots: list[tuple[str, Fraction]] | None = None
    for i, record in enumerate(data["variants"]):
        where = f"variants[{i}]"
        if not isinstance(record, dict) or not isinstance(record.get("variant"), str) \
                or not isinstance(record.get("problems"), list):
            raise _bad(path, where, "expected {\"variant\", \"student\", \"problems\"}")
        if record["variant"] in variants:
            raise _bad(path, where, f"variant {record['variant']!r} appears twice")
        if record.get("student") is not None and not isinstance(record["student"], str):
            raise _bad(path, where, "student must be a string or null")
        labels = []
        for j, problem in enumerate(record["problems"]):
            pwhere = f"{where}.problems[{j}]"
            if not isinstance(problem, dict):
                raise _bad(path, pwhere, "expected an object")
            for key in ("label", "points", "problem", "answers"):
                if key not in problem:
                    raise _bad(path, pwhere, f"missing {key!r}")
            if not isinstance(problem["answers"], dict) or not isinstance(problem.get("mistakes", []), list):
                raise _bad(path, pwhere, "answers must be an object and mistakes a list")
            for name, answer in problem["answers"].items():
                _check_answer(path, f"{pwhere}.answers.{name}", name, answer)
            for mistake in problem.get("mistakes", []):
                if not (isinstance(mistake, dict) and isinstance(mistake.get("id"), str)
                        and isinstance(mistake.get("answers", {}), dict)):
                    raise _bad(path, pwhere, "a mistake needs an id and answers")
            labels.append((str(problem["label"]), _as_points(problem["points"])))
        if slots is None:
            slots = labels
        elif [label for label, _ in labels] != [label for label, _ in slots]:
            raise _bad(path, where, "its exam slots differ from the first variant's")
        variants[record["variant"]] = record
    return Manifest(path=Path(path), exam=str(data.get("exam", "")),
                    exam_id=str(data.get("exam_id", "")), variants=variants, slots=slots or [])


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
    at = {c: i for i, c in enumerate(columns)}
    student_col = at.get("student", at.get("student_id"))
    rows: list[Response] = []
    seen: dict[tuple, int] = {}
    paper_of_student: dict[str, tuple[str, int]] = {}
    named: dict[str, tuple[bool, int]] = {}       # variant -> (rows name a student, line)
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise UserError(f"{path}:{start}: not a readable CSV row: {exc}") from None
        line = start
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise UserError(f"{path}:{line}: expected {len(columns)} fields (as in the header), "
                            f"got {len(row)}")
        cell = lambda name: _unescape(row[at[name]]) if name in at else ""
        variant_id, label, name = cell("variant"), cell("label"), cell("answer")
        entry = _entry_key(row[at["entry"]])
        student = _unescape(row[student_col]) if student_col is not None else ""
        record = manifest.variants.get(variant_id)
        if record is None:
            raise UserError(f"{path}:{line}: variant {variant_id!r} is not in {manifest.path} "
                            f"(its variants: {_choose(list(manifest.variants))}): are the "
                            "responses from another build?")
        owner = record.get("student")
        if owner is not None:
            if student and student != owner:
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
            other = paper_of_student.setdefault(student, (variant_id, line))
            if other[0] != variant_id:
                raise UserError(f"{path}:{line}: student {student!r} with variant {variant_id!r}, "
                                f"but with variant {other[0]!r} on line {other[1]}")
        problem = next((p for p in record["problems"] if str(p["label"]) == label), None)
        if problem is None:
            raise UserError(f"{path}:{line}: label {label!r} is not an exam slot of variant "
                            f"{variant_id!r} (slots: {_choose([str(p['label']) for p in record['problems']])})")
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
        if answer["kind"] == "choice":
            known = {"": answer["exact"]}
        else:
            known = {e: exact for e, exact, _ in entries(answer["exact"], answer["value"])}
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
        key = (variant_id, student, label, name, entry)
        if key in seen:
            raise UserError(f"{path}:{line}: duplicate row: {variant_id} {student + ' ' if student else ''}"
                            f"{label} {name}{' entry ' + entry if entry else ''} is also on line {seen[key]}")
        seen[key] = line
        rows.append(Response(line, variant_id, student, label, name, entry, row[at["response"]]))
    return rows


# ---------------------------------------------------------------------------- scoring

@dataclass
class EntryResult:
    entry: str
    exact: str
    value: float
    given: str | None = None            # the response as written; None: unanswered
    number: float | None = None         # its value (choices: the option index)
    right: bool = False
    unreadable: str = ""                # why it could not be read
    line: int = 0


@dataclass
class AnswerResult:
    label: str
    problem: str
    name: str
    kind: str
    part: str
    points: Fraction
    max_points: Fraction
    entries: list[EntryResult]
    mistakes: list[dict] = field(default_factory=list)     # diagnosed ({"id", "label", "why"})
    options: list = field(default_factory=list)            # a choice answer's options

    @property
    def right(self) -> bool:
        return all(e.right for e in self.entries)

    @property
    def answered(self) -> bool:
        return any(e.given is not None for e in self.entries)


@dataclass
class Paper:
    variant: str
    student: str
    slots: list[tuple[str, str, Fraction, list[AnswerResult]]]   # label, problem, max, answers

    @property
    def name(self) -> str:
        return self.student or self.variant

    def slot_points(self, label: str) -> Fraction:
        return sum((a.points for lbl, _, _, answers in self.slots if lbl == label for a in answers),
                   Fraction(0))

    @property
    def total(self) -> Fraction:
        return sum((a.points for _, _, _, answers in self.slots for a in answers), Fraction(0))

    @property
    def max_points(self) -> Fraction:
        return sum((points for _, _, points, _ in self.slots), Fraction(0))


def _score(label: str, problem: dict, name: str, answer: dict,
           given: dict[str, Response]) -> AnswerResult:
    tolerance = answer["tolerance"]
    mistakes = problem.get("mistakes", [])
    max_points = _as_points(answer["points"])
    result = AnswerResult(label, str(problem["problem"]), name, answer["kind"],
                          str(answer.get("part", "")), Fraction(0), max_points, [])
    if answer["kind"] == "choice":
        count = len(answer["options"])
        item = EntryResult("", answer["exact"], answer["value"])
        response = given.get("")
        if response is not None:
            item.given, item.line = response.text.strip(), response.line
            try:
                index = read_letter(response.text, count)
                item.number = index
                item.right = letter(index) == answer["exact"]
                if not item.right:
                    ids = choice_mistakes(name, answer, index, mistakes)
                    known = {m["id"]: m for m in mistakes}
                    result.mistakes = [known.get(i, {"id": i, "label": "",
                                                     "why": "the slip this option was made with"})
                                       for i in ids]
            except Unreadable as exc:
                item.unreadable = str(exc)
        result.entries = [item]
        result.options = list(answer["options"])
        result.points = max_points if item.right else Fraction(0)
        return result
    numbers: dict[str, float] = {}
    for entry, exact, value in entries(answer["exact"], answer["value"]):
        item = EntryResult(entry, exact, value)
        response = given.get(entry)
        if response is not None:
            item.given, item.line = response.text.strip(), response.line
            try:
                number = read_number(response.text)
                item.number = float(number)
                item.right = close(item.number, value, tolerance)
                numbers[entry] = item.number
            except (Unreadable, OverflowError) as exc:
                item.unreadable = str(exc) if isinstance(exc, Unreadable) else "number too large"
        result.entries.append(item)
    right = sum(1 for e in result.entries if e.right)
    result.points = max_points * Fraction(right, len(result.entries))
    if right < len(result.entries):
        result.mistakes = whole_mistakes(name, [e.entry for e in result.entries], numbers,
                                         tolerance, mistakes)
    return result


def grade_papers(manifest: Manifest, responses: list[Response]) -> list[Paper]:
    """One Paper per (variant, student) in the responses, in the manifest's variant order."""
    by_paper: dict[tuple[str, str], dict[tuple[str, str, str], Response]] = {}
    for response in responses:
        if response.text.strip() in ("", "'"):
            by_paper.setdefault((response.variant, response.student), {})
            continue
        by_paper.setdefault((response.variant, response.student), {})[
            (response.label, response.answer, response.entry)] = response
    order = {variant: i for i, variant in enumerate(manifest.variants)}
    papers = []
    for (variant, student) in sorted(by_paper, key=lambda k: (order[k[0]], k[1])):
        given = by_paper[(variant, student)]
        record = manifest.variants[variant]
        slots = []
        for problem in record["problems"]:
            label = str(problem["label"])
            answers = []
            for name, answer in problem["answers"].items():
                mine = {entry: r for (lbl, nm, entry), r in given.items() if lbl == label and nm == name}
                answers.append(_score(label, problem, name, answer, mine))
            slots.append((label, str(problem["problem"]), _as_points(problem["points"]), answers))
        papers.append(Paper(variant, student, slots))
    return papers


# ---------------------------------------------------------------------------- outputs

def render_grades(manifest: Manifest, papers: list[Paper]) -> str:
    from ..formats.csv import safe_cell
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    labels = [label for label, _ in manifest.slots]
    writer.writerow(["variant", "student", *[safe_cell(label) for label in labels], "total", "max"])
    for paper in papers:
        writer.writerow([safe_cell(paper.variant), safe_cell(paper.student),
                         *[fmt_points(paper.slot_points(label)) for label in labels],
                         fmt_points(paper.total), fmt_points(paper.max_points)])
    return buffer.getvalue()


def _md(text: str, limit: int = 80) -> str:
    """A student's text or an exact value as an inline code span, safe in Markdown."""
    text = " ".join(str(text).split()).replace("`", "'")
    if len(text) > limit:
        text = text[:limit] + "…"
    return f"`{text}`" if text else "(empty)"


def _nest(answer: AnswerResult, pick) -> str:
    """The entries of an answer as a scalar, [a, b] or [[a, b], [c, d]]."""
    if answer.kind in ("number", "choice"):
        return pick(answer.entries[0])
    if answer.kind == "matrix":
        rows: dict[str, list[str]] = {}
        for e in answer.entries:
            rows.setdefault(e.entry.split(",")[0], []).append(pick(e))
        return "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows.values()) + "]"
    return "[" + ", ".join(pick(e) for e in answer.entries) + "]"


def _nested(exact) -> str:
    """An exact value of the manifest ("1/2", ["1", "2"], [["1", "2"]]) as written."""
    if isinstance(exact, list):
        return "[" + ", ".join(_nested(e) for e in exact) + "]"
    return str(exact)


def _decimal(value: float) -> str:
    return f"{float(value):.6g}"


def render_feedback(manifest: Manifest, paper: Paper) -> str:
    title = manifest.exam or "Exam"
    who = f"variant {paper.variant}" + (f", student {paper.student}" if paper.student else "")
    lines = [f"# Feedback: {title}", "", f"{who}", "",
             f"**Total: {fmt_points(paper.total)} / {fmt_points(paper.max_points)} points**", ""]
    for label, problem, max_points, answers in paper.slots:
        got = sum((a.points for a in answers), Fraction(0))
        lines += [f"## {label} ({problem}): {fmt_points(got)} / {fmt_points(max_points)}", ""]
        for a in answers:
            part = f", part {a.part}" if a.part else ""
            lines.append(f"- **{a.name}**{part}: {fmt_points(a.points)} / {fmt_points(a.max_points)} points")
            if not a.answered:
                lines.append("  - given: no answer")
            else:
                lines.append("  - given: " + _md(_nest(a, lambda e: "?" if e.given is None else e.given)))
            if a.kind == "choice":
                shown = a.options[ord(a.entries[0].exact) - ord("A")] if a.options else None
                detail = (f" ({_md(_nested(shown['exact']), 400)})"
                          if isinstance(shown, dict) and "exact" in shown else "")
                lines.append(f"  - expected: option {a.entries[0].exact}{detail}")
            else:
                exact = _nest(a, lambda e: e.exact)
                decimal = _nest(a, lambda e: _decimal(e.value))
                lines.append(f"  - expected: {_md(exact, 400)}"
                             + (f" ≈ {_md(decimal, 400)}" if decimal != exact else ""))
            total = len(a.entries)
            right = sum(1 for e in a.entries if e.right)
            if a.right:
                verdict = "right"
            elif not a.answered:
                verdict = "no answer"
            elif a.kind in ("vector", "matrix", "list"):
                wrong = [e.entry for e in a.entries if not e.right]
                verdict = (f"{right} of {total} entries right; not right: "
                           + ", ".join(f"({w})" for w in wrong))
            elif a.entries[0].unreadable:
                verdict = f"unreadable: {_md(a.entries[0].given)} ({a.entries[0].unreadable})"
            else:
                verdict = "wrong"
            for e in a.entries:
                if e.unreadable and a.kind in ("vector", "matrix", "list"):
                    where = f"entry ({e.entry}) " if e.entry else ""
                    verdict += f"; {where}unreadable: {_md(e.given)} ({e.unreadable})"
            lines.append(f"  - result: {verdict}")
            if a.mistakes:
                for m in a.mistakes:
                    label_, why = m.get("label", ""), m.get("why", "")
                    text = why if why.startswith(label_) else f"{label_}: {why}".strip(": ")
                    lines.append(f"  - diagnosis: `{m['id']}`" + (f": {text}" if text else ""))
            elif not a.right and a.answered and not all(e.unreadable for e in a.entries if e.given is not None):
                lines.append("  - diagnosis: no declared mistake gives this answer")
            lines.append(f"  - see the key, {label}{part}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _file_names(papers: list[Paper]) -> dict[int, str]:
    """A safe, distinct file name per paper: its student or variant."""
    used: set[str] = set()
    names = {}
    for i, paper in enumerate(papers):
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", paper.name).strip("._") or "paper"
        name, n = stem, 2
        while name.lower() in used:
            name, n = f"{stem}-{n}", n + 1
        used.add(name.lower())
        names[i] = name + ".md"
    return names


def summary_lines(manifest: Manifest, papers: list[Paper], responses_path, out_dir) -> list[str]:
    count = len(papers)
    lines = [f"wsgen grade: {count} paper{'' if count == 1 else 's'} graded; wrote "
             f"{Path(out_dir) / 'grades.csv'} and {count} feedback file{'' if count == 1 else 's'}"]
    if papers:
        mean = sum((p.total for p in papers), Fraction(0)) / count
        lines.append(f"mean {fmt_points(mean)} / {fmt_points(papers[0].max_points)} points")
    counts: dict[tuple[str, str], list] = {}
    for paper in papers:
        for label, problem, _, answers in paper.slots:
            for a in answers:
                for m in a.mistakes:
                    entry = counts.setdefault((problem, m["id"]), [0, set(), m.get("label", ""), set()])
                    entry[0] += 1
                    entry[1].add((paper.variant, paper.student))
                    entry[3].add(label)
    if counts:
        lines.append("most frequent mistakes (answers; papers):")
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1][0], -len(kv[1][1]), kv[0]))
        for (problem, mistake_id), (n, who, label, slots) in ranked:
            lines.append(f"  {n:4d}  {len(who):3d}  {problem}/{mistake_id}"
                         + (f" ({', '.join(sorted(slots))}: {label})" if label else f" ({', '.join(sorted(slots))})"))
    else:
        lines.append("no declared mistake found")
    unreadable = [(e.line, a, e) for p in papers for _, _, _, answers in p.slots
                  for a in answers for e in a.entries if e.unreadable]
    if unreadable:
        lines.append(f"unreadable responses (scored 0): {len(unreadable)}")
        for line, a, e in sorted(unreadable, key=lambda t: t[0]):
            entry = f" ({e.entry})" if e.entry else ""
            lines.append(f"  {responses_path}:{line}: {a.label} {a.name}{entry}: "
                         f"{' '.join(e.given.split())[:60]!r}: {e.unreadable}")
    return lines


_COUNTER = itertools.count()


def write_outputs(out_dir: Path, files: dict[str, str], folders: tuple[str, ...] = ()) -> None:
    """Write `files` (relative path -> text) as the folder `out_dir`: all of them into a
    temporary folder beside it, then renamed into place; a folder left by an earlier
    `wsgen grade` is replaced, any other non-empty folder refused.  On failure nothing
    half-written remains."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        if not out_dir.is_dir():
            raise UserError(f"{out_dir}: exists and is not a folder")
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in ("grades.csv", "feedback"))
        if foreign:
            raise UserError(f"{out_dir}: holds files wsgen grade did not write ({_choose(foreign, 3)}); "
                            "choose a new or empty folder")
    parent = out_dir.parent
    tag = f"{os.getpid()}.{next(_COUNTER)}"
    staging = parent / f".{out_dir.name}.grade-{tag}.tmp"
    old = parent / f".{out_dir.name}.grade-{tag}.old"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        for folder in folders:
            (staging / folder).mkdir(parents=True, exist_ok=True)
        for relative, text in files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "x", encoding="utf-8", newline="") as handle:
                handle.write(text)
        if out_dir.exists():
            os.rename(out_dir, old)
            try:
                os.rename(staging, out_dir)
            except BaseException:
                os.rename(old, out_dir)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, out_dir)
    except OSError as exc:
        raise UserError(f"{out_dir}: cannot write: {exc.strerror or exc}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def run_grade(responses_path: Path, answers_path: Path, out_dir: Path) -> list[str]:
    """Read, grade, write; the summary lines for stdout."""
    manifest = load_manifest(answers_path)
    responses = read_responses(responses_path, manifest)
    if not responses:
        raise UserError(f"{responses_path}: no responses: expected a row per answered entry "
                        "under the header")
    papers = grade_papers(manifest, responses)
    names = _file_names(papers)
    files = {"grades.csv": render_grades(manifest, papers)}
    for i, paper in enumerate(papers):
        files[f"feedback/{names[i]}"] = render_feedback(manifest, paper)
    write_outputs(out_dir, files, folders=("feedback",))
    return summary_lines(manifest, papers, responses_path, out_dir)
