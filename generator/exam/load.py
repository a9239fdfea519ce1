"""Exam definitions: a TOML file, validated strictly on load.

    title = "Deep Learning — Midterm"      # required
    course = "Deep Learning"               # optional strings: course, date, instructions
    id = "dl-midterm-2026"                 # optional; default: the file's stem
    seed = 2026                            # master seed (non-negative integer)
    variants = 3                           # random variants besides the canonical one
    common_mistakes = false                # optional: no "Common mistakes" section in the
                                           # keys (default true)
    paper = "a4"                           # paper formats: "a4" (default) or "letter"
    cover = true                           # a cover page on each question sheet (default
                                           # false): title, course, date, form, name and
                                           # student-id fields, instructions, marking table
    pledge = "I will not use notes."       # optional text on the cover (cover = true),
                                           # with a signature line
    paper_answers = "bubbles"              # numeric answers on the scanned answer sheets
                                           # (--formats amc): "bubbles" (digit grids,
                                           # default) or "written" (typed in by hand)
    quiz_penalty = 0.0                     # Moodle: the share of a question's mark lost per
                                           # wrong try (0 to 1; default 0; counts only in
                                           # quizzes that allow several tries)
    quiz_shuffle = false                   # Moodle and QTI: shuffle a choice's options
                                           # (default false: they are lettered in the text)
    quiz_marks = "points"                  # Moodle cloze questions: "points" (worth the
                                           # slot's points, field weights rounded to whole
                                           # marks, default) or "shares" (fields weighted
                                           # exactly; the quiz slot's mark set by hand)
    key = "instructor"                     # who the answer keys are for: "student"
                                           # (default: every step, without verification
                                           # notes and seeds) or "instructor" (everything)

    [grading]                              # optional: how responses are graded (wsgen grade;
                                           # docs/grading.md), the sheets' instruction too
    sigfigs = 4                            # the rule: sigfigs = N, decimals = N, or a
                                           # tolerance rel = 1e-3, abs = 1e-6 (default: each
                                           # answer's own, 4 significant digits)
    rounded_credit = 0.9                   # a right value rounded more coarsely than asked
    rounded_digits = 1                     # … by at most this many digits (0: not credited)
    credit = "entries"                     # vectors, matrices, lists: "entries" (partial
                                           # credit) or "all-or-nothing"; or a table by kind
    mistake_credit = { missing_factor_2 = 0.5 }   # credit of a diagnosed mistake (default 0)
    choice_penalty = 0                     # a wrong option costs this share (or "guessing":
                                           # 1/(options − 1)); a blank never costs
    follow_credit = 1                      # an answer right for the student's own earlier
                                           # (wrong) values: carried forward (0: none)
    decimal_comma = false                  # read 1,5 as 1.5 (never guessed)
    figures = false                        # optional: no figures (graphs, plots, grids)
                                           # in the documents (default true)

    [[problems]]
    label = "Q3"                           # optional; default Q1, Q2, …
    problem = "matrix_backprop"            # a registered problem id
    points = 10
    options = { m = 2, n = 2 }             # the problem's options; unknown keys are errors
    multiple_choice = 4                    # optional: numeric answers as a choice among
                                           # 3 to 6 options (0 or absent: free answers)
    space = "half"                         # room to answer after the question on paper:
                                           # "none", "third" (default), "half", "full"
                                           # (the rest of the page; the next question
                                           # starts a page) or a number of lines (0 to 45)
    paper_answers = "written"              # optional: this slot's, instead of the exam's
    grading = { decimals = 2 }             # optional: this slot's grading settings, over
                                           # the exam's (any key of [grading] but
                                           # decimal_comma)
    manual = { points = 4, rubric = "…" }  # optional: points graded by hand, out of the
                                           # slot's points (the answers share the rest);
                                           # a number, a table, or one table per part:
                                           # [{ part = "(b)", points = 2, rubric = "…" }]

Every error names the file, the line where it can be found, and the field.

Limits, checked on load: title, course, date and id at most 200 characters; instructions
at most 5000; a label at most 40; no control characters (C0, DEL, C1) in any of them,
except tab and newline in instructions and pledge (at most 2000); points 0 to 1000; seed
below 2^63; variants 0 to 100000; multiple_choice 0 or 3 to 6, and no more options than
the problem can offer with the slot's settings (the canonical sheet's options are drawn
on load; the error names the largest number that works).  The file is UTF-8 (a
byte-order mark is allowed), at most errors.INPUT_LIMIT bytes.

Text is normalised on load: title, course, date, instructions, pledge and labels to
Unicode NFC (what a PDF font can set: a letter and its combining accent become one
character); a label also has its blanks trimmed and collapsed to one space.  A label
that is blank is refused, and so are two labels that are equal after that, or differ
only in letter case: they would name one Moodle category, one column of grades.csv.
(The exam's id is used as written: it feeds every student's seeds.)
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

from .spec import KEY_AUDIENCES, MAX_SPACE_LINES, MAX_VARIANTS, Exam, ExamItem
from ..errors import UserError, read_toml
from ..core.settings import check_ranges
from ..grading.policy import Settings, parse_manual, parse_settings

__all__ = ["DEFAULT_EXAM", "MAX_VARIANTS", "load_exam", "make_options", "peek_problem_paths"]

DEFAULT_EXAM = Path(__file__).resolve().parent / "default.toml"
_TOP = {"title": str, "course": str, "date": str, "instructions": str, "id": str,
        "seed": int, "variants": int, "problem_paths": list, "problems": list,
        "common_mistakes": bool, "paper": str, "cover": bool, "pledge": str,
        "paper_answers": str, "quiz_penalty": float, "quiz_shuffle": bool,
        "quiz_marks": str, "key": str, "grading": dict, "figures": bool}
_ITEM = {"label": str, "problem": str, "points": int, "options": dict, "multiple_choice": int,
         "space": (str, int), "paper_answers": str, "grading": dict, "manual": (float, dict, list)}
PAPERS = ("a4", "letter")
SPACES = ("none", "third", "half", "full")
PAPER_ANSWERS = ("bubbles", "written")
QUIZ_MARKS = ("points", "shares")
MIN_OPTIONS, MAX_OPTIONS = 3, 6                # as core.distractors (not imported: no SymPy here)
MAX_POINTS = 1000
#: The longest value of each text field, in characters.
TEXT_LIMITS = {"title": 200, "course": 200, "date": 200, "id": 200, "instructions": 5000,
               "label": 40, "problem": 200, "pledge": 2000}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_PROSE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


#: The text fields normalised to NFC on load.
NFC_FIELDS = ("title", "course", "date", "instructions", "pledge")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_label(label: str) -> str:
    """A slot label as used everywhere: NFC, blanks trimmed and collapsed to one space."""
    return " ".join(nfc(label).split())


def text_problem(value: str, limit: int, multiline: bool = False) -> str | None:
    """Why a text field's value is refused (too long, a control character), or None."""
    if len(value) > limit:
        return f"at most {limit} characters, got {len(value)}"
    bad = (_CONTROL_IN_PROSE if multiline else _CONTROL).search(value)
    if bad:
        return f"control character U+{ord(bad.group()):04X} not allowed"
    return None


class _Locator:
    """Finds the line of a field in the TOML text, for error messages."""

    def __init__(self, text: str):
        self.lines = text.split("\n")          # TOML's lines (not str.splitlines)

    def _items(self) -> list[int]:
        return [i for i, ln in enumerate(self.lines) if re.match(r"\s*\[\[\s*problems\s*\]\]", ln)]

    def table_line(self, table: str, key: str) -> int | None:
        """The line of `key = …` inside the top-level [table], else of its header."""
        header = re.compile(rf"\s*\[\s*{re.escape(table)}\s*\]")
        start = next((i for i, ln in enumerate(self.lines) if header.match(ln)), None)
        if start is None:
            return self.line(table)
        pattern = re.compile(rf"(^|[\s{{,]){re.escape(key)}\s*=")
        for i in range(start + 1, len(self.lines)):
            if re.match(r"\s*\[", self.lines[i]):
                break
            if pattern.search(self.lines[i].split("#", 1)[0]):
                return i + 1
        return start + 1

    def line(self, key: str, item: int | None = None) -> int | None:
        start, end = 0, len(self.lines)
        if item is not None:
            headers = self._items()
            if item >= len(headers):       # problems = [{...}, ...]: the array's line
                return self.line("problems")
            start = headers[item]
            end = headers[item + 1] if item + 1 < len(headers) else len(self.lines)
        else:
            firsttable = next((i for i, ln in enumerate(self.lines) if re.match(r"\s*\[", ln)), end)
            end = firsttable
        pattern = re.compile(rf"(^|[\s{{,]){re.escape(key)}\s*=")
        for i in range(start, end):
            if pattern.search(self.lines[i].split("#", 1)[0]):
                return i + 1
        if item is None:                     # a table header: [problems], [problems.x]
            header = re.compile(rf"\s*\[\s*{re.escape(key)}\s*[\].]")
            for i, ln in enumerate(self.lines):
                if header.match(ln):
                    return i + 1
            return None
        return start + 1


def _type_name(t) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(one) for one in t)
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false",
            list: "an array", dict: "a table"}[t]


def _is_type(value: Any, t) -> bool:
    if isinstance(t, tuple):
        return any(_is_type(value, one) for one in t)
    if t is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, t)


def _short(value: Any, limit: int = 60) -> str:
    """A value as the exam file spells it (true, not True), shortened."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.time)):
        return f"the date or time {value.isoformat()} (write text in quotes)"
    text = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (list, dict)) \
        else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def make_options(problem, values: dict, where: str = "options"):
    """The problem's Options record from a mapping; raises ValueError naming the option."""
    fields = {f.name: f for f in dataclasses.fields(problem.Options)}
    for key in values:
        if key not in fields:
            raise ValueError(f"{where}.{key}: unknown option of {problem.id} "
                             f"(known: {', '.join(fields)})")
    kwargs = {}
    for key, value in values.items():
        expected = type(fields[key].default)
        if not _is_type(value, expected):
            raise ValueError(f"{where}.{key}: expected {_type_name(expected)}, got {value!r}")
        kwargs[key] = float(value) if expected is float else value
    options = problem.Options(**kwargs)
    try:
        check_ranges(options)
        problem.validate_options(options)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return options


def load_exam(path: Path | str | None = None, extra_paths=()) -> Exam:
    """Read and validate an exam file; every problem must be registered (built in, from an
    entry point, from the exam's `problem_paths` or from `extra_paths`)."""
    path = Path(path) if path is not None else DEFAULT_EXAM
    text, data = read_toml(path, "exam file")
    reader = _ExamReader(path, _Locator(text), data)
    reader.check_top()
    grading = reader.grading()
    paths = reader.problem_paths(extra_paths)
    # imported here: the fast paths never load problems
    from ..quality.selftest import selftest
    from ..registry import discover
    registry = discover(paths, check=selftest).problems
    items = [reader.item(i, entry, registry) for i, entry in enumerate(data["problems"])]
    reader.check_labels(items)
    _check_exam_mistakes(path, reader.where, registry, items, grading)
    names = {name: nfc(data.get(name, "")) for name in NFC_FIELDS}
    exam = Exam(title=names["title"], course=names["course"], date=names["date"],
                instructions=names["instructions"], master_seed=data.get("seed", 0),
                variants=data.get("variants", 0), items=tuple(items), source=str(path),
                exam_id=data.get("id", path.stem), problem_paths=paths,
                common_mistakes=data.get("common_mistakes", True),
                paper=data.get("paper", "a4"), cover=data.get("cover", False),
                pledge=names["pledge"], paper_answers=data.get("paper_answers", "bubbles"),
                quiz_penalty=float(data.get("quiz_penalty", 0.0)),
                quiz_shuffle=data.get("quiz_shuffle", False),
                quiz_marks=data.get("quiz_marks", "points"), key=data.get("key", "student"),
                grading=grading, figures=data.get("figures", True))
    reader.check_choice_limits(exam, registry)
    return exam


class _ExamReader:
    """The checks of one exam file, each failure one UserError "file:line: field: why"."""

    def __init__(self, path: Path, where: _Locator, data: dict):
        self.path, self.where, self.data = path, where, data

    def fail(self, field: str, message: str, key: str, item: int | None = None):
        line = self.where.line(key, item)
        raise UserError(f"{self.path}{':' + str(line) if line else ''}: {field}: {message}")

    def one_of(self, field: str, value: Any, allowed: tuple, key: str, item: int | None = None):
        if value not in allowed:
            self.fail(field, f"expected one of {', '.join(map(repr, allowed))}, got {_short(value)}",
                      key, item)

    def check_fields(self, entry: dict, types: dict, field: str, item: int | None,
                     multiline=("instructions", "pledge")) -> None:
        """Known keys, their types, and the length and characters of their text."""
        for key, value in entry.items():
            name = f"{field}.{key}" if field else key
            if key not in types:
                self.fail(name, f"unknown field (expected one of: {', '.join(types)})", key, item)
            if key == "problems" and isinstance(value, dict):
                self.fail(key, "expected an array of tables: write [[problems]] (two brackets) "
                          "above each problem, not [problems]", key)
            if not _is_type(value, types[key]):
                self.fail(name, f"expected {_type_name(types[key])}, got {_short(value)}", key, item)
            if isinstance(value, str) and key in TEXT_LIMITS:
                why = text_problem(value, TEXT_LIMITS[key], multiline=key in multiline)
                if why:
                    self.fail(name, why, key, item)

    def check_top(self) -> None:
        data, fail = self.data, self.fail
        self.check_fields(data, _TOP, "", None)
        for required in ("title", "problems"):
            if required not in data:
                raise UserError(f"{self.path}: {required}: missing required field")
        seed = data.get("seed", 0)
        if seed < 0 or seed >= 2 ** 63:
            fail("seed", f"expected a non-negative integer below 2^63, got {seed}", "seed")
        variants = data.get("variants", 0)
        if not 0 <= variants <= MAX_VARIANTS:
            fail("variants", f"expected 0 to {MAX_VARIANTS}, got {variants}", "variants")
        if not data["problems"]:
            fail("problems", "at least one problem is needed", "problems")
        for name in ("title", "id"):
            if name in data and not data[name].strip():
                fail(name, "must not be empty", name)
        if data.get("pledge", "").strip() and not data.get("cover", False):
            fail("pledge", "a pledge is printed on the cover page: add cover = true", "pledge")
        self.one_of("paper", data.get("paper", "a4"), PAPERS, "paper")
        self.one_of("paper_answers", data.get("paper_answers", "bubbles"), PAPER_ANSWERS,
                    "paper_answers")
        self.one_of("key", data.get("key", "student"), KEY_AUDIENCES, "key")
        penalty = data.get("quiz_penalty", 0.0)
        if not 0 <= penalty <= 1:
            fail("quiz_penalty", f"expected 0 to 1, got {_short(penalty)}", "quiz_penalty")
        self.one_of("quiz_marks", data.get("quiz_marks", "points"), QUIZ_MARKS, "quiz_marks")

    def grading(self) -> Settings:
        try:
            return parse_settings(self.data.get("grading", {}), "grading")
        except ValueError as exc:
            field_name = str(exc).split(":", 1)[0]
            line = self.where.table_line("grading", field_name.split(".")[1] if "." in field_name
                                         else "grading")
            raise UserError(f"{self.path}{':' + str(line) if line else ''}: {exc}") from None

    def problem_paths(self, extra_paths) -> tuple[str, ...]:
        paths = []
        for i, folder in enumerate(self.data.get("problem_paths", [])):
            field = f"problem_paths[{i + 1}]"
            if not isinstance(folder, str) or not folder:
                self.fail(field, f"expected a folder name, got {folder!r}", "problem_paths")
            resolved = (self.path.parent / folder).resolve()
            if not resolved.is_dir():
                self.fail(field, f"{folder!r} is not a folder (relative to the exam file)",
                          "problem_paths")
            paths.append(str(resolved))
        paths += [str(Path(p).resolve()) for p in extra_paths]
        return tuple(dict.fromkeys(paths))

    def item(self, i: int, entry: Any, registry) -> ExamItem:
        """One [[problems]] table as an ExamItem."""
        field, fail = f"problems[{i + 1}]", self.fail
        if not isinstance(entry, dict):
            fail(field, "expected a table ([[problems]])", "problems")
        self.check_fields(entry, _ITEM, field, i, multiline=())
        if "problem" not in entry:
            fail(f"{field}.problem", "missing required field", "problem", i)
        problem_id = entry["problem"]
        if problem_id not in registry:
            fail(f"{field}.problem", f"unknown problem {problem_id!r} "
                 f"(known: {', '.join(sorted(registry))})", "problem", i)
        points = entry.get("points", 1)
        if not 0 <= points <= MAX_POINTS:
            fail(f"{field}.points", f"expected 0 to {MAX_POINTS}, got {points}", "points", i)
        choices = entry.get("multiple_choice", 0)
        if choices and not MIN_OPTIONS <= choices <= MAX_OPTIONS:
            fail(f"{field}.multiple_choice", f"expected 0 (free answers) or {MIN_OPTIONS} to "
                 f"{MAX_OPTIONS} options, got {choices}", "multiple_choice", i)
        space = entry.get("space", "third")
        if isinstance(space, str) and space not in SPACES:
            fail(f"{field}.space", f"expected one of {', '.join(map(repr, SPACES))} or a number "
                 f"of lines, got {_short(space)}", "space", i)
        if isinstance(space, int) and not 0 <= space <= MAX_SPACE_LINES:
            fail(f"{field}.space", f"expected 0 to {MAX_SPACE_LINES} lines, got {space}", "space", i)
        mode = entry.get("paper_answers", "")
        if "paper_answers" in entry:
            self.one_of(f"{field}.paper_answers", mode, PAPER_ANSWERS, "paper_answers", i)
        options = self.options(i, registry[problem_id], entry.get("options", {}))
        label = clean_label(entry.get("label", f"Q{i + 1}"))
        if not label:
            fail(f"{field}.label", "must not be blank", "label", i)
        try:
            slot_grading = parse_settings(entry.get("grading", {}), f"{field}.grading",
                                          exam_wide=False)
            manual = parse_manual(entry["manual"], f"{field}.manual", points) \
                if "manual" in entry else ()
        except ValueError as exc:
            _fail_inside(self.path, self.where, exc, i)
        _check_declared(self.path, self.where, registry[problem_id], options, slot_grading,
                        manual, field, i)
        return ExamItem(label=label, problem_id=problem_id, points=points, options=options,
                        multiple_choice=choices, space=space, paper_answers=mode,
                        grading=slot_grading, manual=manual)

    def options(self, i: int, problem, values: dict):
        try:
            return make_options(problem, values, where=f"problems[{i + 1}].options")
        except ValueError as exc:
            option = str(exc).split(":", 1)[0].rsplit(".", 1)[-1]
            line = self.where.line(option, i) or self.where.line("options", i)
            raise UserError(f"{self.path}{':' + str(line) if line else ''}: {exc}") from None

    def check_labels(self, items: list[ExamItem]) -> None:
        """No two slots share a label, up to letter case and blanks."""
        first: dict[str, int] = {}
        for i, it in enumerate(items):
            same = first.get(it.label.casefold())
            if same is not None:
                earlier = self.where.line("label", same)
                other = items[same].label
                self.fail(f"problems[{i + 1}].label", f"duplicate label {it.label!r} (also problems"
                          f"[{same + 1}]" + (f" {other!r}" if other != it.label else "")
                          + f"{', line ' + str(earlier) if earlier else ''}"
                          + ("; labels that differ only in letter case or blanks name one Moodle "
                             "category and one grades column" if other != it.label else "") + ")",
                          "label", i)
            first[it.label.casefold()] = i

    def check_choice_limits(self, exam: Exam, registry) -> None:
        """Each multiple-choice slot can offer its options at the precision shown."""
        from ..pipeline.sheets import slot_key
        for i, it in enumerate(exam.items):
            if not it.multiple_choice:
                continue
            limit = _choice_limit(registry[it.problem_id], it.options, it.multiple_choice,
                                  exam.master_seed, slot_key(exam, i))
            if limit is not None:
                most, reason = limit
                self.fail(f"problems[{i + 1}].multiple_choice",
                          f"{it.problem_id} cannot offer {it.multiple_choice} options that differ "
                          f"at the precision shown with these settings ({reason}); "
                          + (f"the most that work: {most} (multiple_choice = {most})" if most else
                             f"not even {MIN_OPTIONS}: remove multiple_choice (free answers)"),
                          "multiple_choice", i)


def _fail_inside(path, where: _Locator, exc: ValueError, item: int):
    """A ValueError "problems[i].grading.sigfigs: …" as a UserError at the field's line."""
    field_name = str(exc).split(":", 1)[0]
    keys = [k.split("[")[0] for k in field_name.split(".")[1:]]
    line = None
    for key in reversed(keys):
        line = where.line(key, item)
        if line is not None and line != where.line("__no_such_key__", item):
            break
    raise UserError(f"{path}{':' + str(line) if line else ''}: {exc}") from None


def _declared(problem, options) -> tuple[list[str], set[str]]:
    """The part labels and mistake ids of a slot's problem under its options (its canonical
    variant, or its first random one)."""
    from ..core.draw import draw_variant
    from ..core.problem import NoCanonical
    from ..pipeline.sheets import problem_output
    with problem_output():
        try:
            variant = draw_variant(problem, options, None)
        except NoCanonical:
            variant = draw_variant(problem, options, 0)
    return [p.label for p in variant.parts], {m.id for m in variant.mistakes}


def _check_declared(path, where: _Locator, problem, options, grading: Settings, manual,
                    field: str, item: int) -> None:
    """A slot's manual parts are parts of its problem, and its mistake credits name
    mistakes the problem declares."""
    if not grading.mistake_credit and not any(m.part for m in manual):
        return
    parts, mistakes = _declared(problem, options)
    for k, m in enumerate(manual):
        if m.part and m.part not in parts:
            at = f"{field}.manual" + (f"[{k + 1}]" if len(manual) > 1 else "") + ".part"
            raise UserError(f"{path}:{where.line('part', item) or where.line('manual', item)}: "
                            f"{at}: {problem.id} has no part {m.part!r} (its parts: "
                            f"{', '.join(parts) or 'none'})")
    for mistake, _ in grading.mistake_credit:
        if mistake not in mistakes:
            raise UserError(f"{path}:{where.line(mistake, item) or where.line('grading', item)}: "
                            f"{field}.grading.mistake_credit.{mistake}: {problem.id} declares no "
                            f"mistake {mistake!r} (its mistakes: {', '.join(sorted(mistakes)) or 'none'})")


def _check_exam_mistakes(path, where: _Locator, registry, items, grading: Settings) -> None:
    """The exam-wide mistake credits name mistakes some slot's problem declares."""
    if not grading.mistake_credit:
        return
    known: set[str] = set()
    for it in items:
        known |= _declared(registry[it.problem_id], it.options)[1]
    for mistake, _ in grading.mistake_credit:
        if mistake not in known:
            raise UserError(f"{path}:{where.table_line('grading', mistake)}: grading.mistake_credit."
                            f"{mistake}: no problem of the exam declares this mistake (they "
                            f"declare: {', '.join(sorted(known)) or 'none'})")


def _choice_limit(problem, options, count: int, master_seed: int, key: str):
    """None when the canonical sheet's slot can be asked as a choice among `count` options
    (drawn as the build draws it); else (the largest count that works, 0 for none, why)."""
    from ..core.distractors import NoDistinctOptions
    from ..core.draw import draw_multiple_choice
    from ..core.problem import NoCanonical
    from ..core.rng import derive_seed
    from ..pipeline.sheets import problem_output

    def draw(n: int) -> None:
        try:
            draw_multiple_choice(problem, options, None, n, key)
        except NoCanonical:
            draw_multiple_choice(problem, options, derive_seed(master_seed, 0, key), n, key)

    reason = None
    with problem_output():
        for n in range(count, MIN_OPTIONS - 1, -1):
            try:
                draw(n)
            except NoDistinctOptions as exc:
                reason = reason or " ".join(str(exc).split()).split(": ", 1)[-1]
                continue
            except Exception:  # noqa: BLE001 - the problem's own failure: the build names it
                return None
            return None if n == count else (n, reason)
    return 0, reason


def peek_problem_paths(path: Path, raw: bytes) -> list[str]:
    """The exam's problem folders, resolved, read cheaply for the build fingerprint (an
    invalid file gives none: loading it later reports the error)."""
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    folders = data.get("problem_paths", [])
    if not isinstance(folders, list):
        return []
    return [str((Path(path).parent / f).resolve()) for f in folders if isinstance(f, str) and f]
