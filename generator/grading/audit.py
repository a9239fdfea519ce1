"""`wsgen audit`: check the values of a hand-written key against the exact answers.

A claims file (TOML) names a problem, a variant and the values a key states:

    problem = "matrix_backprop"
    variant = "canonical"            # or: seed = 1234   or: a [params] table
    options = { m = 2, n = 2 }       # optional; the problem's defaults otherwise

    [params]                         # explicit parameters (instead of variant/seed):
    W = [[0.1, 0.5], [-0.3, 0.8]]    # every parameter of the problem (formulas to choose
    x = [0.2, 0.4]                   # from are not parameters one sets)

    [claims]                         # answer name = the key's value
    L = "29/250"                     # a number, or a string parse.py reads (3/8, 1/(1+exp(-1)))
    Wx = [0.22, 0.26]                # a vector: a list
    dL_dW = [[0.088, 0.176], [0.104, 0.208]]   # a matrix: a list of rows
    formula = "B"                    # a choice: the option letter

Explicit parameters must have the shapes the problem gives them under the claims file's
options (the defaults when none are given): a 3×3 W under m = n = 2 is refused, naming
the options to set, and options outside their ranges are refused as in an exam file; so
a claims file can never make the audit solve a larger problem than the problem allows.
Warnings of the problem's float arithmetic on extreme values stay out of the report (the
check that fails on them is reported instead).

Each claimed value, entry by entry, is compared with the exact answer under the answer's
declared tolerance (|a − b| ≤ abs + rel·|b|), the rule `wsgen grade` applies to students.
A wrong one is matched against the variant's declared mistakes.  Exit status: 0 every claim
right, 1 some claim wrong, 2 a bad claims file (file:line: field: why).
"""
from __future__ import annotations

import dataclasses
import math
import re
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import UserError, read_toml
from ..core.records import choice_letter as letter, entries
from .compare import choice_mistakes, close, entry_mistakes, whole_mistakes
from .parse import Unreadable, read_letter, read_number

__all__ = ["AuditReport", "Claim", "audit_file", "load_claims"]

_TOP = ("problem", "variant", "seed", "options", "params", "claims")


class _Lines:
    """The line of a key in a TOML text (top level, or inside a [section])."""

    def __init__(self, text: str):
        self.lines = text.split("\n")

    def find(self, key: str, section: str | None = None) -> int | None:
        current = None
        pattern = re.compile(rf"^\s*(\"?){re.escape(key)}\1\s*=")
        for number, raw in enumerate(self.lines, start=1):
            line = raw.split("#", 1)[0]
            header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
            if header:
                current = header.group(1)
                if section is None and current == key:
                    return number
                continue
            if current == section and pattern.match(line):
                return number
        if section is not None:
            return self.find(section)
        return None


@dataclass
class Claims:
    path: Path
    problem: Any
    options: Any
    variant: Any                     # the drawn Variant
    describe: str                    # "canonical variant", "seed 12", "given parameters"
    claims: dict[str, Any]           # answer name -> the TOML value
    lines: dict[str, int | None]     # answer name -> its line


def _fail(path, line, field, message) -> UserError:
    return UserError(f"{path}{':' + str(line) if line else ''}: {field}: {message}")


def _exact_rational(value, where) -> Fraction:
    """A parameter value as an exact rational: TOML numbers by their decimal text, strings
    through the safe parser (rational arithmetic only)."""
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: expected a finite number, got {value!r}")
        return Fraction(repr(value))
    if isinstance(value, str):
        try:
            number = read_number(value)
        except Unreadable as exc:
            raise ValueError(f"{where}: cannot read {value!r}: {exc}") from None
        if not isinstance(number, Fraction):
            raise ValueError(f"{where}: {value!r} is not an exact rational number")
        return number
    raise ValueError(f"{where}: expected a number, got {type(value).__name__}")


def _param(base: Any, value: Any, where: str) -> Any:
    """`value` from the claims file in the type of the problem's own parameter `base`."""
    import sympy as sp

    from ..core.model import Choices, Vector
    rational = lambda v, w: sp.Rational(_exact_rational(v, w).numerator, _exact_rational(v, w).denominator)
    if isinstance(base, Choices):
        raise ValueError(f"{where}: the options to choose from are not a parameter one sets")
    if isinstance(base, sp.MatrixBase):
        if not (isinstance(value, list) and value and all(isinstance(r, list) and r for r in value)
                and len({len(r) for r in value}) == 1):
            raise ValueError(f"{where}: expected a matrix: a list of rows of equal length")
        return sp.ImmutableMatrix([[rational(v, f"{where}[{i + 1}][{j + 1}]") for j, v in enumerate(r)]
                                   for i, r in enumerate(value)])
    if isinstance(base, tuple):
        if not isinstance(value, list) or not value:
            raise ValueError(f"{where}: expected a list of numbers")
        items = [rational(v, f"{where}[{i + 1}]") for i, v in enumerate(value)]
        return Vector(items) if isinstance(base, Vector) else tuple(items)
    if isinstance(base, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false")
        return value
    if isinstance(base, (sp.Integer, int)):
        number = _exact_rational(value, where)
        if number.denominator != 1:
            raise ValueError(f"{where}: expected an integer, got {value!r}")
        return sp.Integer(number.numerator) if isinstance(base, sp.Basic) else number.numerator
    if isinstance(base, float):
        return float(_exact_rational(value, where))
    if isinstance(base, (sp.Basic, Fraction)):
        return rational(value, where)
    if isinstance(base, str):
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected a string")
        return value
    raise ValueError(f"{where}: this parameter cannot be set from a claims file")


def _shape(value: Any) -> tuple:
    """A parameter's shape: (rows, columns) of a matrix, (length,) of a vector or list."""
    import sympy as sp
    if isinstance(value, sp.MatrixBase):
        return tuple(value.shape)
    if isinstance(value, tuple):
        return (len(value),)
    return ()


def _shape_text(shape: tuple) -> str:
    if len(shape) == 2:
        return f"a {shape[0]}×{shape[1]} matrix"
    return f"a list of {shape[0]}" if shape else "a single value"


def _settings(options) -> str:
    return ", ".join(f"{f.name}={getattr(options, f.name)}" for f in dataclasses.fields(options))


class _Given:
    """The problem, with its canonical parameters replaced by the claims file's."""

    def __init__(self, problem, params):
        self._problem, self._params = problem, params

    def __getattr__(self, name):
        return getattr(self._problem, name)

    def canonical(self, options):
        return self._params


def load_claims(path: Path, problem_dirs=()) -> Claims:
    text, data = read_toml(path, "claims file")
    where = _Lines(text)
    for key in data:
        if key not in _TOP:
            raise _fail(path, where.find(key), key, f"unknown field (expected one of: {', '.join(_TOP)})")
    if not isinstance(data.get("problem"), str):
        raise _fail(path, where.find("problem"), "problem",
                    "missing" if "problem" not in data else "expected a problem id (a string)")
    from ..quality.selftest import selftest
    from ..registry import discover
    problems = discover(problem_dirs, check=selftest).problems
    problem = problems.get(data["problem"])
    if problem is None:
        raise _fail(path, where.find("problem"), "problem",
                    f"unknown problem {data['problem']!r} (known: {', '.join(sorted(problems))})")
    options_value = data.get("options", {})
    if not isinstance(options_value, dict):
        raise _fail(path, where.find("options"), "options", "expected a table")
    from ..exam.load import make_options
    try:
        options = make_options(problem, options_value, where="options")
    except ValueError as exc:
        name = str(exc).split(":", 1)[0].rsplit(".", 1)[-1]
        line = where.find(name, "options") if "options" in text else None
        raise UserError(f"{path}{':' + str(line or where.find('options')) if (line or where.find('options')) else ''}: {exc}") from None
    chosen = [k for k in ("variant", "seed", "params") if k in data]
    if len(chosen) != 1:
        raise _fail(path, where.find(chosen[1]) if len(chosen) > 1 else None, "variant",
                    "give exactly one of variant = \"canonical\", seed = N or a [params] table"
                    + (f" (found {', '.join(chosen)})" if chosen else ""))
    from ..core.draw import draw_variant
    from ..core.problem import NoCanonical
    kind = chosen[0]
    seed = None
    if kind == "variant":
        if data["variant"] != "canonical":
            raise _fail(path, where.find("variant"), "variant",
                        f"expected \"canonical\" (or give seed = N), got {data['variant']!r}")
        target, describe = problem, "canonical variant"
    elif kind == "seed":
        seed = data["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 63:
            raise _fail(path, where.find("seed"), "seed", f"expected a non-negative integer, got {seed!r}")
        target, describe = problem, f"seed {seed}"
    else:
        given = data["params"]
        if not isinstance(given, dict):
            raise _fail(path, where.find("params"), "params", "expected a table")
        try:
            base = problem.canonical(options)
        except NoCanonical:
            base = draw_variant(problem, options, 0).params
        fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
        from ..core.model import Choices
        for name in given:
            if name not in fields:
                raise _fail(path, where.find(name, "params"), f"params.{name}",
                            f"not a parameter of {problem.id} (parameters: {', '.join(fields)})")
        missing = [n for n, v in fields.items() if n not in given and not isinstance(v, Choices)]
        if missing:
            raise _fail(path, where.find("params"), "params", f"missing {', '.join(missing)}")
        values = {}
        for name, value in given.items():
            try:
                values[name] = _param(fields[name], value, f"params.{name}")
            except ValueError as exc:
                raise UserError(f"{path}:{where.find(name, 'params')}: {exc}") from None
            want, got = _shape(fields[name]), _shape(values[name])
            if want != got:
                raise _fail(path, where.find(name, "params"), f"params.{name}",
                            f"{_shape_text(got)}, but {problem.id} has {_shape_text(want)} "
                            f"under the options {_settings(options) or '(none)'}; set options "
                            "that give this shape (within their ranges)")
        target, describe = _Given(problem, dataclasses.replace(base, **values)), "given parameters"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # overflow on extreme values
            variant = draw_variant(target, options, seed)
    except NoCanonical as exc:
        raise _fail(path, where.find("variant"), "variant", f"{problem.id}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the problem refuses these numbers
        field = "params" if kind == "params" else kind
        raise _fail(path, where.find(field), field, f"{problem.id} cannot solve this variant: "
                    f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None
    claims = data.get("claims")
    if not isinstance(claims, dict) or not claims:
        raise _fail(path, where.find("claims"), "claims",
                    "missing: add a [claims] table, answer name = the key's value"
                    if claims is None else "expected a non-empty table of answer = value")
    names = [a.name for a in variant.solution.answers]
    for name in claims:
        if name not in names:
            raise _fail(path, where.find(name, "claims"), f"claims.{name}",
                        f"{problem.id} has no answer {name!r} (answers: {', '.join(names)})")
    return Claims(Path(path), problem, options, variant, describe, claims,
                  {name: where.find(name, "claims") for name in claims})


# ------------------------------------------------------------------------------- checking

@dataclass
class Claim:
    """One claimed value, or one entry of a claimed vector or matrix."""
    name: str
    entry: str
    given: str
    right: bool
    exactly: bool
    exact: str
    value: float | None
    mistakes: list[str]


@dataclass
class AuditReport:
    title: str
    items: list[Claim]
    whole: list[tuple[str, list[str]]]       # (answer, mistake ids its whole claimed value matches)

    @property
    def wrong(self) -> int:
        return sum(1 for c in self.items if not c.right)

    def lines(self) -> list[str]:
        out = [self.title]
        width = max((len(_name(c)) for c in self.items), default=0)
        shown = max((len(c.given) for c in self.items), default=0)
        for c in self.items:
            exact = c.exact if c.value is None or _same(c.exact, c.value) else f"{c.exact} = {c.value:.6g}"
            if c.right:
                verdict = f"correct{'' if c.exactly or c.value is None else ' (within tolerance)'}"
                out.append(f"  {_name(c):<{width}}  {c.given:<{shown}}  {verdict}: exact {exact}")
            else:
                gives = "leads to this option" if c.value is None else "gives this value"
                why = (f"declared mistake {', '.join(c.mistakes)} {gives}" if c.mistakes
                       else f"no declared mistake {gives}")
                out.append(f"  {_name(c):<{width}}  {c.given:<{shown}}  WRONG: exact {exact}; {why}")
        for name, ids in self.whole:
            out.append(f"  {name}: the whole claimed value is what declared mistake "
                       f"{', '.join(ids)} gives")
        total = len(self.items)
        out.append(f"{total - self.wrong} of {total} claimed values correct"
                   + (f", {self.wrong} wrong" if self.wrong else ""))
        return out


def _name(c: Claim) -> str:
    return f"{c.name}[{c.entry}]" if c.entry else c.name


def _same(exact: str, value: float) -> bool:
    try:
        return float(read_number(exact)) == value and re.fullmatch(r"-?\d+(\.\d+)?", exact) is not None
    except Unreadable:
        return False


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _flat_claim(kind: str, expected_entries: list[str], value: Any, where: str) -> dict[str, Any]:
    """The claimed value's entries, keyed like answers.csv ("", "i", "i,j")."""
    if kind == "number":
        if isinstance(value, list):
            raise ValueError(f"{where}: expected a single number, got a list")
        return {"": value}
    if kind == "matrix":
        rows = {e.split(",")[0] for e in expected_entries}
        cols = {e.split(",")[1] for e in expected_entries}
        if not (isinstance(value, list) and all(isinstance(r, list) for r in value)
                and len(value) == len(rows) and all(len(r) == len(cols) for r in value)):
            raise ValueError(f"{where}: expected a {len(rows)}×{len(cols)} matrix: a list of "
                             f"{len(rows)} rows of {len(cols)} numbers")
        return {f"{i},{j}": v for i, r in enumerate(value, start=1) for j, v in enumerate(r, start=1)}
    if not (isinstance(value, list) and len(value) == len(expected_entries)
            and not any(isinstance(v, list) for v in value)):
        raise ValueError(f"{where}: expected a list of {len(expected_entries)} numbers")
    return {str(i): v for i, v in enumerate(value, start=1)}


def _claim_number(value: Any, where: str) -> Fraction | float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{where}: expected a number or a string such as \"29/250\", got {value!r}")
    if isinstance(value, str):
        try:
            number = read_number(value)
            float(number)
        except Unreadable as exc:
            raise ValueError(f"{where}: cannot read {value!r}: {exc}") from None
        except OverflowError:
            raise ValueError(f"{where}: {value!r} is too large") from None
        return number
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {value!r}")
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _mistake(m: dict) -> str:
    return f"{m['id']} ({m['label']})" if m.get("label") else str(m["id"])


def check_claims(claims: Claims) -> AuditReport:
    from ..formats.json import variant_record
    record = variant_record(claims.variant)
    mistakes = record["mistakes"]
    labels = {m["id"]: m for m in mistakes}
    settings = _settings(claims.options)
    title = (f"audit of {claims.path}: {claims.problem.id}, {claims.describe}"
             + (f" ({settings})" if settings else ""))
    items: list[Claim] = []
    whole: list[tuple[str, list[str]]] = []
    for name, value in claims.claims.items():
        answer = record["answers"][name]
        where = f"{claims.path}{':' + str(claims.lines[name]) if claims.lines[name] else ''}: claims.{name}"
        tolerance = answer["tolerance"]
        if answer["kind"] == "choice":
            if not isinstance(value, str):
                raise UserError(f"{where}: expected an option letter such as \"B\"")
            try:
                index = read_letter(value, len(answer["options"]))
            except Unreadable as exc:
                raise UserError(f"{where}: {exc}") from None
            right = letter(index) == answer["exact"]
            ids = [] if right else [_mistake(labels.get(i, {"id": i}))
                                    for i in choice_mistakes(name, answer, index, mistakes)]
            items.append(Claim(name, "", value, right, right, f"option {answer['exact']}", None, ids))
            continue
        if answer["kind"] == "formula":
            from ..core.formula import judge
            if not isinstance(value, str):
                raise UserError(f"{where}: expected a formula such as \"{answer['exact']}\"")
            verdict = judge(value, answer, mistakes, name)
            right = verdict.outcome == "right"
            ids = [_mistake(labels.get(i, {"id": i})) for i in verdict.mistakes]
            items.append(Claim(name, "", value, right, right, answer["exact"], None, ids))
            continue
        expected = list(entries(answer["exact"], answer["value"]))
        try:
            flat = _flat_claim(answer["kind"], [e for e, _, _ in expected], value, where)
            numbers = {e: _claim_number(v, f"{where}{'[' + e + ']' if e else ''}") for e, v in flat.items()}
        except ValueError as exc:
            raise UserError(str(exc)) from None
        floats = {e: float(v) for e, v in numbers.items()}
        for entry, exact, expected_value in expected:
            given = numbers[entry]
            right = close(floats[entry], expected_value, tolerance)
            exactly = False
            if isinstance(given, Fraction):
                try:
                    exactly = read_number(exact) == given
                except Unreadable:
                    pass
            ids = [] if right else [_mistake(m) for m in entry_mistakes(
                name, entry, floats[entry], tolerance, mistakes)]
            items.append(Claim(name, entry, _text(flat[entry]), right, exactly, exact,
                               float(expected_value), ids))
        if answer["kind"] != "number" and not all(close(floats[e], v, tolerance) for e, _, v in expected):
            found = whole_mistakes(name, [e for e, _, _ in expected], floats, tolerance, mistakes)
            if found:
                whole.append((name, [_mistake(m) for m in found]))
    return AuditReport(title, items, whole)


def audit_file(path: Path, problem_dirs=()) -> AuditReport:
    return check_claims(load_claims(path, problem_dirs))
