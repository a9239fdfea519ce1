"""Answer sheets to scan: `--formats amc` writes an auto-multiple-choice (AMC) project.

The folder ``amc/`` of a build holds

* ``answer-sheets.tex``: the LaTeX source AMC compiles (``auto-multiple-choice
  prepare``): one AMC copy per sheet of the build (every random variant or student; the
  canonical sheet only when it is the build's only sheet), in the build's order, so AMC
  copy k is the k-th of them.  A copy is a separate answer sheet: wsgen's question sheet
  holds the questions, the copy only the student-id grid and, per exam slot, a row of
  boxes A, B, … for every choice answer and a digit grid (``\\AMCnumericChoices``) for
  every number, vector, matrix or list entry;
* ``wsgen-amc.json``: what `wsgen grade --amc` needs to read AMC's capture back
  (grading/amc.py): each copy's variant and student, each AMC question's exam slot,
  answer and entry, each grid's columns, and the student-id grid;
* ``options.xml``: AMC's project options (the source file), so AMC's own tools (its
  GUI's manual data capture among them) open the folder as a project;
* ``answers.json`` and ``answers.csv``, written by the json format's own collector: the
  key the sheets are graded against travels with them (`--formats pdf,amc` suffices).

Digit grids.  Every entry of an answer gets the same grid, and so does every variant of a
slot: sign boxes (+, −) when some value of the answer can be negative (a declared
mistake's value counts), integer columns for the largest magnitude, and decimal columns
so that every correct value rounded to them is still right (`digit_grid`).  A grid never
tells one variant's answer from another's.  Nothing runs at build time but this module:
AMC is needed only to compile, print and read the sheets.

A slot (or the whole exam) with ``paper_answers = "written"`` gets no digit grids: its
numbers are written on the question sheet and typed into a responses CSV by hand; its
choice answers keep their boxes.  So is an answer whose values would need more than
MAX_COLUMNS columns (the build does not fail: the sheet says where to write it, and
`wsgen grade --amc` lists it).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Iterable

import jinja2

from ..core.records import record_entries
from . import Format, Rendered
from .markup import TEX_UNICODE, escape_tex, latin_only

__all__ = ["AmcFormat", "DigitGrid", "MAX_COLUMNS", "MAP_NAME", "PROJECT_FOLDER", "SOURCE_NAME",
           "digit_grid", "entry_decimals", "id_grid"]

PROJECT_FOLDER = "amc"
SOURCE_NAME = "answer-sheets.tex"
MAP_NAME = "wsgen-amc.json"
MAP_FORMAT = "wsgen-amc 1"
#: The most digit columns (integer and decimal) of one grid: ten rows of boxes each.
MAX_COLUMNS = 10
#: The most decimals a tolerance may ask for (a zero tolerance asks for the exact value).
MAX_DECIMALS = 9
#: The AMC question that holds the student-id grid (AMC names its columns ID[n] … ID[1]).
ID_QUESTION = "wsgenid"
#: The student-id grid without a roster: this many digit columns.
ID_DIGITS = 8
#: A roster whose ids have more characters than this in one position gets a grid of the
#: students' row numbers instead (a row of more boxes would not fit the page).
MAX_ID_CHOICES = 20


# ------------------------------------------------------------------------ digit grids

@dataclass(frozen=True)
class DigitGrid:
    """Columns of digit boxes 0–9 around a decimal point, with a sign pair or without."""
    digits: int                  # integer columns
    decimals: int                # columns after the point
    sign: bool                   # a + and a − box

    @property
    def columns(self) -> int:
        return self.digits + self.decimals

    def union(self, other: "DigitGrid") -> "DigitGrid":
        return DigitGrid(max(self.digits, other.digits), max(self.decimals, other.decimals),
                         self.sign or other.sign)

    def rounded(self, value: float) -> Decimal:
        """`value` as bubbled on this grid: rounded to its decimals."""
        return _rounded(value, self.decimals)

    def holds(self, value: float) -> bool:
        """Whether `value`, rounded to the decimals, fits the columns and the sign."""
        rounded = self.rounded(value)
        return (self.sign or rounded >= 0) and _integer_digits(rounded) <= self.digits


def _rounded(value: float, decimals: int) -> Decimal:
    result = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_EVEN)
    return result.copy_abs() if result.is_zero() else result


def _integer_digits(number: Decimal) -> int:
    """Columns before the point that |number| needs (one for a number below 1)."""
    return max(1, len(str(int(number.copy_abs()))))


def entry_decimals(record: dict, value: float) -> int:
    """The decimals a grid needs for `value`, one value of the answer `record` (as in
    answers.json): the fewest with which the value, rounded, is still right under the
    record's rule (grading/policy.py: its "rule", or its "tolerance" in a manifest written
    before rules).  A value that terminates within those decimals is bubbled exactly; any
    other, rounded to d decimals, is off by at most half a unit of the last column,
    0.5·10^−d, so d is the fewest decimals with 0.5·10^−d within the rule's width around
    the value (at most MAX_DECIMALS)."""
    from ..grading.policy import rule_of_record
    value = float(value)
    places = max(0, -Decimal(repr(value)).normalize().as_tuple().exponent)
    width = rule_of_record(record).width(value)
    needed = 0
    while needed < MAX_DECIMALS and 0.5 * 10.0 ** -needed > width:
        needed += 1
    return min(places, needed)


def digit_grid(record: dict, also: Iterable[float] = ()) -> DigitGrid:
    """The least grid on which every entry of the answer `record` (and each value of
    `also`, e.g. declared mistakes' values) is bubbled right: decimals from
    `entry_decimals`, integer columns from the largest magnitude once rounded, sign boxes
    when a value is negative."""
    values = [float(v) for _, _, v in record_entries(record)] + [float(v) for v in also]
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return DigitGrid(1, 0, False)
    decimals = max(entry_decimals(record, v) for v in values)
    digits = max(_integer_digits(_rounded(v, decimals)) for v in values)
    return DigitGrid(digits, decimals, any(_rounded(v, decimals) < 0 for v in values))


# ------------------------------------------------------------------------ student-id grid

@dataclass(frozen=True)
class IdGrid:
    """The student-id grid: one row of boxes per character position, and what a reading
    means: `students` maps the characters read to a roster id (None: the reading is the
    student's id as it stands)."""
    columns: tuple[str, ...]
    students: dict[str, str] | None
    instruction: str


def id_grid(student_ids: list[str] | None) -> IdGrid:
    """The grid for a roster's ids: position by position the characters the ids use
    there (an id shorter than the longest leaves its last rows blank); when a position
    has more than MAX_ID_CHOICES characters, the grid holds the student's row number in
    the roster instead.  Without a roster: ID_DIGITS digits."""
    if not student_ids:
        return IdGrid(tuple("0123456789" for _ in range(ID_DIGITS)), None,
                      f"your student number, one digit per row from the top (at most {ID_DIGITS})")
    width = max(len(s) for s in student_ids)
    columns = tuple("".join(sorted({s[i] for s in student_ids if len(s) > i}))
                    for i in range(width))
    if max(len(c) for c in columns) <= MAX_ID_CHOICES:
        return IdGrid(columns, {s: s for s in student_ids},
                      "your student id, one character per row from the top")
    digits = len(str(len(student_ids)))
    codes = {f"{row:0{digits}d}": s for row, s in enumerate(student_ids, start=1)}
    return IdGrid(tuple("0123456789" for _ in range(digits)), codes,
                  f"your row number in the class list, {digits} digits (printed above)")


# ------------------------------------------------------------------------ per sheet

def _sheet_data(sheet) -> dict:
    """What the collector needs of a sheet beyond its answers.json record: the TeX labels
    of its answers, the slots' titles and whether their numbers are bubbled."""
    exam_items = {item.label: item for item in sheet.exam.items}
    slots = []
    for item in sheet.items:
        exam_item = exam_items.get(item.label)
        own = exam_item.paper_answers if exam_item is not None else ""
        mode = own or sheet.exam.paper_answers
        slots.append({"label": item.label, "title": item.variant.title, "points": item.points,
                      "mode": mode,
                      "labels": {a.name: a.label for a in item.variant.solution.answers}})
    return {"name": sheet.student.name if sheet.student is not None else "", "slots": slots}


# ------------------------------------------------------------------------ the collector

@dataclass
class _Range:
    """The grid an answer of a slot needs over the build's variants."""
    correct: DigitGrid | None = None
    widest: DigitGrid | None = None            # with the declared mistakes' values

    def add(self, record: dict, mistakes: list[float]) -> None:
        correct = digit_grid(record)
        with_mistakes = digit_grid(record, mistakes)
        self.correct = correct if self.correct is None else self.correct.union(correct)
        self.widest = with_mistakes if self.widest is None else self.widest.union(with_mistakes)

    def grid(self) -> DigitGrid:
        """The widest grid if it fits MAX_COLUMNS, else the correct values' with the sign
        the mistakes need (a mistake's value too wide for the page is not bubbled)."""
        if self.widest.columns <= MAX_COLUMNS:
            return self.widest
        return DigitGrid(self.correct.digits, self.correct.decimals,
                         self.correct.sign or self.widest.sign)


def _mistake_values(problem: dict, name: str) -> list[float]:
    values = []
    for mistake in problem.get("mistakes", []):
        record = mistake.get("answers", {}).get(name)
        if record is None:
            continue
        try:
            values += [float(v) for _, _, v in record_entries(record)]
        except (TypeError, ValueError):
            continue
    return values


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("wsgen.templates", "amc"),
                             undefined=jinja2.StrictUndefined, autoescape=False,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             block_start_string=r"\BLOCK{", block_end_string="}",
                             variable_start_string=r"\VAR{", variable_end_string="}",
                             comment_start_string=r"\#{", comment_end_string="}")
    env.filters.update(esc=escape_tex)
    return env.get_template("answer-sheets.tex.j2")


def _latin(text: str) -> str:
    """User text for the answer sheet, escaped; a script the sheet's fonts lack (the PDF
    booklets' Greek and Cyrillic macros are not loaded here) shows as "?"."""
    out = escape_tex(text)
    if r"\wsgen" in out:
        out = escape_tex(latin_only(text))
    return out


@dataclass(frozen=True)
class _Box:
    """One AMC question on a copy: its id, the TeX shown, and its boxes."""
    question: str
    caption: str                  # TeX
    kind: str                     # "choice" or "number"
    options: int = 0              # choice: how many boxes
    correct: int = 0              # choice: 0-based index of the correct option
    value: str = ""               # number: the correct value as bubbled
    grid: DigitGrid | None = None

    @property
    def amc_options(self) -> str:
        grid = self.grid
        return (f"digits={grid.columns},decimals={grid.decimals},"
                f"sign={'true' if grid.sign else 'false'}")


class _InProject:
    """The build's staging area as seen from the project folder."""

    def __init__(self, staging):
        self.staging = staging

    def stream(self, rel: str):
        return self.staging.stream(f"{PROJECT_FOLDER}/{rel}")

    def write(self, rel: str, data) -> None:
        self.staging.write(f"{PROJECT_FOLDER}/{rel}", data)

    def scratch(self, name: str):
        return self.staging.scratch(f"{PROJECT_FOLDER}-{name}")


class _AmcCollector:
    """Keeps a line of JSON per sheet in a scratch file and each answer's range; at the
    end sizes the grids and writes the project: memory stays flat in the variants."""

    def __init__(self, build, staging):
        from . import get_format
        self.build, self.staging = build, staging
        self.answers = get_format("json").collector(build, _InProject(staging))
        self.scratch = staging.scratch("amc") / "sheets.jsonl"
        self.handle = open(self.scratch, "w", encoding="utf-8")
        self.ranges: dict[tuple[str, str], _Range] = {}
        self.students: list[str] = []
        self.count = 0
        self.pending_canonical = None

    def add(self, summary, data) -> None:
        self.answers.add(summary, None)
        if summary.index == 0:
            self.pending_canonical = (summary, data)      # kept only if it stays alone
            return
        self._add(summary, data)

    def _add(self, summary, data) -> None:
        record = summary.record
        for problem in record["problems"]:
            for name, answer in problem["answers"].items():
                if answer["kind"] in ("choice", "formula"):     # a formula is written
                    continue
                self.ranges.setdefault((str(problem["label"]), name), _Range()).add(
                    answer, _mistake_values(problem, name))
        if record.get("student") is not None:
            self.students.append(record["student"])
        self.handle.write(json.dumps({"variant": summary.variant_id, "record": record,
                                      "sheet": data}, ensure_ascii=False) + "\n")
        self.count += 1

    def finish(self) -> None:
        self.answers.finish()
        if not self.count and self.pending_canonical is not None:
            self._add(*self.pending_canonical)
        self.handle.close()
        # an answer whose values need more than MAX_COLUMNS columns is written instead
        grids = {key: grid for key, grid in ((key, r.grid()) for key, r in self.ranges.items())
                 if grid.columns <= MAX_COLUMNS}
        ids = id_grid(self.students or None)
        questions: dict[str, dict] = {}
        question_ids: dict[tuple, str] = {}
        copies = []

        def question(key: tuple, meaning: dict) -> str:
            if key not in question_ids:
                question_ids[key] = f"q{len(question_ids) + 1}"
                questions[question_ids[key]] = meaning
            return question_ids[key]

        def copy_views():
            with open(self.scratch, encoding="utf-8") as lines:
                for number, line in enumerate(lines, start=1):
                    sheet = json.loads(line)
                    view = self._copy(number, sheet, grids, question, ids)
                    copies.append(view.pop("map"))
                    yield view

        exam = self.build.exam
        stream = self.staging.stream(f"{PROJECT_FOLDER}/{SOURCE_NAME}")
        unicode = [(f"{ord(char):04X}", tex) for char, tex in TEX_UNICODE.items()]
        for chunk in _template().generate(title=_latin(exam.title), course=_latin(exam.course),
                                          ids=ids, id_question=ID_QUESTION, paper=exam.paper,
                                          unicode=unicode, copies=copy_views()):
            stream.write(chunk)
        stream.close()
        project_map = {
            "format": MAP_FORMAT, "generator": f"wsgen {self.build.version}",
            "exam": exam.title, "exam_id": exam.exam_id, "build": exam.build_id,
            "source": SOURCE_NAME,
            "id_grid": {"question": ID_QUESTION, "columns": list(ids.columns),
                        "students": ids.students},
            "questions": questions, "copies": copies}
        self.staging.write(f"{PROJECT_FOLDER}/{MAP_NAME}",
                           json.dumps(project_map, indent=1, ensure_ascii=False) + "\n")
        self.staging.write(f"{PROJECT_FOLDER}/options.xml", _options_xml())

    def _copy(self, number: int, sheet: dict, grids, question, ids: IdGrid) -> dict:
        record, data = sheet["record"], sheet["sheet"]
        student = record.get("student")
        slots, used, written = [], [], []
        for problem, slot in zip(record["problems"], data["slots"]):
            label = str(problem["label"])
            boxes, to_write = [], []
            for name, answer in problem["answers"].items():
                tex_label = slot["labels"].get(name, name)
                part = answer.get("part", "")
                head = (_latin(part) + " " if part else "") + f"${tex_label}$"
                if answer["kind"] == "choice":
                    qid = question((label, name, ""), {"label": label, "answer": name,
                                                       "entry": "", "kind": "choice"})
                    boxes.append(_Box(qid, head, "choice", options=len(answer["options"]),
                                      correct=int(answer["value"])))
                    used.append(qid)
                    continue
                if slot["mode"] == "written" or (label, name) not in grids:
                    written.append([label, name])
                    to_write.append(head)
                    continue
                grid = grids[(label, name)]
                entries = record_entries(answer)
                for entry, _, value in entries:
                    meaning = {"label": label, "answer": name, "entry": entry, "kind": "number",
                               "digits": grid.digits, "decimals": grid.decimals, "sign": grid.sign}
                    qid = question((label, name, entry), meaning)
                    caption = head + (f" \\,({entry})" if entry else "")
                    bubbled = format(grid.rounded(value), "f")
                    boxes.append(_Box(qid, caption, "number", value=bubbled, grid=grid))
                    used.append(qid)
            slots.append({"label": _latin(label), "title": _latin(slot["title"]),
                          "points": slot["points"], "boxes": boxes, "written": to_write})
        code = ""
        if ids.students is not None and student is not None:
            code = next((c for c, s in ids.students.items() if s == student), "")
        return {"number": number, "variant": _latin(sheet["variant"]),
                "student": _latin(student or ""), "name": _latin(data["name"]),
                "code": code if code != student else "", "slots": slots,
                "map": {"copy": number, "variant": sheet["variant"], "student": student,
                        "questions": used, "written": written}}


def _options_xml() -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            "<project>\n"
            f"  <texsrc>%PROJET/{SOURCE_NAME}</texsrc>\n"
            "  <moteur_latex_b>pdflatex</moteur_latex_b>\n"
            "</project>\n")


class AmcFormat(Format):
    name = "amc"
    description = ("an auto-multiple-choice project: answer sheets to print and scan "
                   "(boxes and digit grids), read back by `wsgen grade --amc`")

    def render(self, sheet, documents) -> Rendered:
        return Rendered(data=_sheet_data(sheet))

    def collector(self, build, staging):
        return _AmcCollector(build, staging)
