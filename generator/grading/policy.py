"""The grading policy: how close a number must be (the rule), and what each outcome earns.

An exam states it once (`[grading]`) and may change it per slot (`grading = {…}`); `wsgen
grade` may override it.  The build writes the resolved policy into answers.json, so that
grading needs nothing else: each answer's "rule" and "credit", each slot's "grading".

Rules (a Rule), compared exactly (Fractions) except the tolerance, which is compared in
floats as it always was:

* a tolerance: right when |a − b| ≤ abs + rel·|b| (b the exact value);
* `sigfigs = N`: right when |a − b| < 0.51·10^(e − N + 1), e = ⌊log10 |b|⌋ (e = 0 for
  b = 0): the exact value rounded to N significant digits, or anything closer, as
  PrairieLearn's significant-figure comparison decides it;
* `decimals = N`: right when |a − b| < 0.51·10^(−N), PrairieLearn's decimal-digit rule.

A rule "asks for" a rounding: N significant digits or N decimals; a tolerance asks for the
fewest significant digits whose correct rounding it always accepts (rel = 1e-3: 4, since a
value rounded to 4 significant digits is off by at most 5·10^-4 of itself), or with rel = 0
the fewest decimals (abs = 0.005: 2); rel = abs = 0 asks for the exact value.  That is the
sentence printed on the sheet (`instruction`), and the unit in which a response "rounded
more coarsely" is recognised: right under the same rule with 1 … `rounded_digits` digits
fewer than asked.

This module imports nothing heavy: the exam loader, the formats and grading all read it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from fractions import Fraction
from typing import Any, Mapping

__all__ = ["ANSWER_CREDIT", "CREDIT_MODES", "DEFAULT_RULE", "MAX_DIGITS", "Manual", "Policy",
           "Rule", "Settings", "exact_fraction", "parse_manual", "parse_rule", "parse_settings",
           "policy_of_record", "rule_of_record"]

#: The most significant digits or decimals a rule may ask for.
MAX_DIGITS = 15
CREDIT_MODES = ("entries", "all-or-nothing")
#: The answer kinds a credit mode may be set for (a number or a choice has one entry).
ANSWER_CREDIT = ("number", "vector", "matrix", "list", "choice")
#: PrairieLearn's half unit, a little more than a half so that a value rounded either way
#: at a tie, or written from a float, is still right.
_HALF = Fraction(51, 100)


def exact_fraction(value: Any) -> Fraction:
    """A Fraction of an int, a Fraction or a float (the float's exact binary value)."""
    return value if isinstance(value, Fraction) else Fraction(value)


def _decade(value: Fraction) -> int:
    """⌊log10 |value|⌋ of a non-zero Fraction, exactly."""
    value = abs(value)
    guess = len(str(value.numerator)) - len(str(value.denominator))
    while Fraction(10) ** guess > value:
        guess -= 1
    while Fraction(10) ** (guess + 1) <= value:
        guess += 1
    return guess


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


@dataclass(frozen=True)
class Rule:
    """How close a response must be: `sigfigs`, `decimals`, or the tolerance rel/abs."""
    sigfigs: int | None = None
    decimals: int | None = None
    rel: float = 0.0
    abs: float = 0.0

    @property
    def kind(self) -> str:
        return "sigfigs" if self.sigfigs is not None else \
            "decimals" if self.decimals is not None else "tolerance"

    # ------------------------------------------------------------------ comparing
    def right(self, given: Fraction | float, expected: Fraction | float) -> bool:
        """Whether `given` is right for the exact value `expected` under this rule."""
        if self.kind == "tolerance":
            a, b = float(given), float(expected)
            if not (math.isfinite(a) and math.isfinite(b)):
                return False
            return abs(a - b) <= self.abs + self.rel * abs(b)
        unit, digits = self.asked()
        return _within(unit, digits, exact_fraction(given), exact_fraction(expected))

    def asked(self) -> tuple[str, int] | tuple[None, None]:
        """("sigfigs", N) or ("decimals", N): the rounding this rule asks for; (None,
        None) for the exact value (a zero tolerance)."""
        if self.sigfigs is not None:
            return "sigfigs", self.sigfigs
        if self.decimals is not None:
            return "decimals", self.decimals
        if self.rel > 0:
            for digits in range(1, MAX_DIGITS + 1):
                if 0.5 * 10.0 ** (1 - digits) <= self.rel:
                    return "sigfigs", digits
            return "sigfigs", MAX_DIGITS
        if self.abs > 0:
            for digits in range(0, MAX_DIGITS + 1):
                if 0.5 * 10.0 ** -digits <= self.abs:
                    return "decimals", digits
            return "decimals", MAX_DIGITS
        return None, None

    def coarser(self, given: Fraction | float, expected: Fraction | float,
                steps: int) -> int | None:
        """The most digits k, 1 to `steps` fewer than asked, to which `given` is right (in
        the unit asked: significant digits or decimals); None when it is not."""
        unit, digits = self.asked()
        if unit is None or steps <= 0:
            return None
        lowest = 1 if unit == "sigfigs" else 0
        a, b = exact_fraction(given), exact_fraction(expected)
        for k in range(digits - 1, max(lowest, digits - steps) - 1, -1):
            if _within(unit, k, a, b):
                return k
        return None

    def width(self, expected: float) -> float:
        """The largest |a − b| accepted around the value `expected` (the digit grids of
        scanned sheets and the quiz formats' ranges read it)."""
        if self.kind == "tolerance":
            return self.abs + self.rel * abs(float(expected))
        unit, digits = self.asked()
        return float(_half_unit(unit, digits, exact_fraction(float(expected))))

    # ------------------------------------------------------------------ describing
    def describe(self) -> str:
        """What it asks, in words: "4 significant digits", "2 decimal places", "the exact
        value"."""
        unit, digits = self.asked()
        if unit is None:
            return "the exact value"
        return _plural(digits, "significant digit" if unit == "sigfigs" else "decimal place")

    def instruction(self) -> str:
        """The sentence printed on the question sheet."""
        if self.asked()[0] is None:
            return "Give exact values."
        return f"Give exact values where you can; round decimals to {self.describe()}."

    def to_json(self) -> dict:
        if self.kind == "sigfigs":
            return {"sigfigs": self.sigfigs}
        if self.kind == "decimals":
            return {"decimals": self.decimals}
        return {"abs": self.abs, "rel": self.rel}

    def tolerance(self) -> dict:
        """A tolerance {"abs", "rel"} that accepts every value this rule accepts as a correct
        rounding (for readers of answers.json that know only tolerances: a sigfigs rule's is
        a little wider for values whose leading digit is above 1)."""
        if self.kind == "tolerance":
            return {"abs": self.abs, "rel": self.rel}
        if self.kind == "decimals":
            return {"abs": float(_HALF * Fraction(10) ** -self.decimals), "rel": 0.0}
        return {"abs": 0.0, "rel": float(_HALF * Fraction(10) ** (1 - self.sigfigs))}


def _half_unit(unit: str, digits: int, expected: Fraction) -> Fraction:
    if unit == "decimals":
        return _HALF * Fraction(10) ** -digits
    decade = 0 if expected == 0 else _decade(expected)
    return _HALF * Fraction(10) ** (decade - digits + 1)


def _within(unit: str, digits: int, given: Fraction, expected: Fraction) -> bool:
    return abs(given - expected) < _half_unit(unit, digits, expected)


#: The rule of an answer that declares none: today's tolerance, 4 significant digits.
DEFAULT_RULE = Rule(rel=1e-3, abs=1e-6)


def rule_of_record(record: Mapping) -> Rule:
    """An answer record's rule: its "rule", or from a manifest written before rules, its
    "tolerance"."""
    rule = record.get("rule")
    if isinstance(rule, Mapping):
        return _rule_of(tuple(sorted(rule.items())))
    tolerance = record.get("tolerance") or {}
    return Rule(rel=float(tolerance.get("rel", 0)), abs=float(tolerance.get("abs", 0)))


@lru_cache(maxsize=1024)
def _rule_of(items: tuple) -> Rule:
    # grading asks for the rule of every entry of every paper: read each rule once
    return parse_rule(dict(items), "rule")[0] or DEFAULT_RULE


# ---------------------------------------------------------------------------- manual points

@dataclass(frozen=True)
class Manual:
    """Points graded by hand: for a slot (part "") or one of its parts, with a rubric."""
    points: Fraction
    part: str = ""
    rubric: str = ""

    def to_json(self) -> dict:
        points = int(self.points) if self.points.denominator == 1 else float(self.points)
        return {"part": self.part, "points": points, "rubric": self.rubric}


# ---------------------------------------------------------------------------- settings

@dataclass(frozen=True)
class Settings:
    """What an exam file, a slot or `wsgen grade` sets of the policy; None: not set (the
    level below decides)."""
    rule: Rule | None = None
    rounded_credit: Fraction | None = None
    rounded_digits: int | None = None
    credit: tuple[tuple[str, str], ...] | None = None     # (kind, mode); kind "*": every kind
    mistake_credit: tuple[tuple[str, Fraction], ...] = ()
    choice_penalty: Fraction | str | None = None          # a share, or "guessing"
    decimal_comma: bool | None = None
    follow_credit: Fraction | None = None                 # an answer carried forward

    def over(self, base: "Settings") -> "Settings":
        """These settings where set, `base`'s elsewhere (mistake credits merged by id)."""
        credit = base.credit
        if self.credit is not None:
            credit = tuple(dict((base.credit or ()) + self.credit).items()) \
                if all(kind != "*" for kind, _ in self.credit) else self.credit
        return Settings(
            rule=self.rule if self.rule is not None else base.rule,
            rounded_credit=_first(self.rounded_credit, base.rounded_credit),
            rounded_digits=_first(self.rounded_digits, base.rounded_digits),
            credit=credit,
            mistake_credit=tuple(dict(base.mistake_credit + self.mistake_credit).items()),
            choice_penalty=_first(self.choice_penalty, base.choice_penalty),
            decimal_comma=_first(self.decimal_comma, base.decimal_comma),
            follow_credit=_first(self.follow_credit, base.follow_credit))

    def credit_mode(self, kind: str) -> str:
        modes = dict(self.credit or ())
        return modes.get(kind, modes.get("*", "entries"))

    def rule_for(self, declared: Rule | None = None) -> Rule:
        """An answer's rule: the one set, else the answer's declared tolerance."""
        return self.rule or declared or DEFAULT_RULE

    @property
    def mistakes(self) -> dict[str, Fraction]:
        return dict(self.mistake_credit)


def _first(value, default):
    return default if value is None else value


@dataclass(frozen=True)
class Policy:
    """A slot's policy as grading applies it (answers.json's "grading" of a problem)."""
    rounded_credit: Fraction = Fraction(9, 10)
    rounded_digits: int = 1
    mistake_credit: Mapping[str, Fraction] = field(default_factory=dict)
    choice_penalty: Fraction | str = Fraction(0)
    decimal_comma: bool = False
    manual: tuple[Manual, ...] = ()
    follow_credit: Fraction = Fraction(1)       # an answer right for the student's own inputs

    @classmethod
    def of(cls, settings: Settings, manual: tuple[Manual, ...] = ()) -> "Policy":
        default = cls()
        return cls(rounded_credit=_first(settings.rounded_credit, default.rounded_credit),
                   rounded_digits=_first(settings.rounded_digits, default.rounded_digits),
                   mistake_credit=settings.mistakes,
                   choice_penalty=_first(settings.choice_penalty, default.choice_penalty),
                   decimal_comma=bool(settings.decimal_comma), manual=tuple(manual),
                   follow_credit=_first(settings.follow_credit, default.follow_credit))

    def penalty(self, options: int) -> Fraction:
        """The share of a choice answer's points a wrong option costs."""
        if self.choice_penalty == "guessing":
            return Fraction(1, max(1, options - 1))
        return Fraction(self.choice_penalty)

    def overridden(self, settings: Settings) -> "Policy":
        """This policy with what `settings` set (the command line) replacing it."""
        return replace(self,
                       rounded_credit=_first(settings.rounded_credit, self.rounded_credit),
                       rounded_digits=_first(settings.rounded_digits, self.rounded_digits),
                       mistake_credit={**self.mistake_credit, **settings.mistakes},
                       choice_penalty=_first(settings.choice_penalty, self.choice_penalty),
                       decimal_comma=_first(settings.decimal_comma, self.decimal_comma),
                       follow_credit=_first(settings.follow_credit, self.follow_credit))

    def to_json(self) -> dict:
        record = {"rounded_credit": _number(self.rounded_credit),
                  "rounded_digits": self.rounded_digits,
                  "mistake_credit": {k: _number(v) for k, v in self.mistake_credit.items()},
                  "choice_penalty": (self.choice_penalty if isinstance(self.choice_penalty, str)
                                     else _number(self.choice_penalty)),
                  "decimal_comma": self.decimal_comma,
                  "manual": [m.to_json() for m in self.manual]}
        if self.follow_credit != 1:       # the default (full credit) is left unwritten
            record["follow_credit"] = _number(self.follow_credit)
        return record

    @property
    def manual_points(self) -> Fraction:
        return sum((m.points for m in self.manual), Fraction(0))


def _number(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else float(value)


# ---------------------------------------------------------------------------- reading

def _share(value: Any, where: str, low: float = 0.0, high: float = 1.0) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{where}: expected a number from {low:g} to {high:g}, got {value!r}"[:200])
    # 0.9 as written, not its binary approximation
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _digits(value: Any, where: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_DIGITS:
        raise ValueError(f"{where}: expected a whole number from {low} to {MAX_DIGITS}, got "
                         f"{value!r}"[:200])
    return value


def parse_rule(table: Mapping, where: str) -> tuple[Rule | None, set[str]]:
    """The rule a table sets (sigfigs, decimals, or rel and abs), and the keys it used."""
    keys = {k for k in ("sigfigs", "decimals", "rel", "abs") if k in table}
    if not keys:
        return None, keys
    prefix = f"{where}." if where else ""
    if "sigfigs" in keys or "decimals" in keys:
        if len(keys) > 1:
            raise ValueError(f"{prefix}{sorted(keys)[0]}: give one rule: sigfigs, decimals, or "
                             f"a tolerance (rel, abs), not {' and '.join(sorted(keys))}")
        if "sigfigs" in keys:
            return Rule(sigfigs=_digits(table["sigfigs"], prefix + "sigfigs", 1)), keys
        return Rule(decimals=_digits(table["decimals"], prefix + "decimals", 0)), keys
    rel = float(_share(table.get("rel", 0.0), prefix + "rel"))
    absolute = float(_share(table.get("abs", 0.0), prefix + "abs", 0.0, 1e12))
    return Rule(rel=rel, abs=absolute), keys


#: The keys of a [grading] table (exam-wide); a slot's grading table takes all but the last.
SETTING_KEYS = ("sigfigs", "decimals", "rel", "abs", "rounded_credit", "rounded_digits",
                "credit", "mistake_credit", "choice_penalty", "follow_credit", "decimal_comma")


def parse_settings(table: Any, where: str, exam_wide: bool = True) -> Settings:
    """Settings from a TOML or JSON table; ValueError "field: why" naming the field."""
    prefix = f"{where}." if where else ""
    if not isinstance(table, Mapping):
        raise ValueError(f"{where}: expected a table")
    allowed = SETTING_KEYS if exam_wide else SETTING_KEYS[:-1]
    for key in table:
        if key not in allowed:
            raise ValueError(f"{prefix}{key}: unknown field (expected one of: {', '.join(allowed)})"
                             + ("; decimal_comma is set for the whole exam, in [grading]"
                                if key == "decimal_comma" else ""))
    rule, _ = parse_rule(table, where)
    settings = Settings(rule=rule)
    if "rounded_credit" in table:
        settings = replace(settings, rounded_credit=_share(table["rounded_credit"],
                                                           prefix + "rounded_credit"))
    if "rounded_digits" in table:
        settings = replace(settings, rounded_digits=_digits(table["rounded_digits"],
                                                            prefix + "rounded_digits", 0))
    if "credit" in table:
        settings = replace(settings, credit=_credit(table["credit"], prefix + "credit"))
    if "mistake_credit" in table:
        credits = table["mistake_credit"]
        if not isinstance(credits, Mapping):
            raise ValueError(f"{prefix}mistake_credit: expected a table of mistake ids and "
                             "shares, e.g. { missing_factor_2 = 0.5 }")
        found = []
        for mistake, share in credits.items():
            if not isinstance(mistake, str) or not mistake.isidentifier():
                raise ValueError(f"{prefix}mistake_credit: {str(mistake)[:60]!r} is not a mistake id")
            found.append((mistake, _share(share, f"{prefix}mistake_credit.{mistake}")))
        settings = replace(settings, mistake_credit=tuple(found))
    if "choice_penalty" in table:
        penalty = table["choice_penalty"]
        if penalty != "guessing":
            if isinstance(penalty, str):
                raise ValueError(f"{prefix}choice_penalty: expected a number from 0 to 1 or "
                                 f"\"guessing\", got {penalty[:60]!r}")
            penalty = _share(penalty, prefix + "choice_penalty")
        settings = replace(settings, choice_penalty=penalty)
    if "follow_credit" in table:
        settings = replace(settings, follow_credit=_share(table["follow_credit"],
                                                          prefix + "follow_credit"))
    if "decimal_comma" in table:
        if not isinstance(table["decimal_comma"], bool):
            raise ValueError(f"{prefix}decimal_comma: expected true or false")
        settings = replace(settings, decimal_comma=table["decimal_comma"])
    return settings


def _credit(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    def mode(text: Any, field_name: str) -> str:
        if text not in CREDIT_MODES:
            raise ValueError(f"{field_name}: expected {' or '.join(map(repr, CREDIT_MODES))}, got "
                             f"{str(text)[:60]!r}")
        return text
    if isinstance(value, str):
        return (("*", mode(value, where)),)
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected \"entries\", \"all-or-nothing\" or a table by "
                         f"answer kind ({', '.join(ANSWER_CREDIT)})")
    out = []
    for kind, text in value.items():
        if kind not in ANSWER_CREDIT:
            raise ValueError(f"{where}.{str(kind)[:40]}: unknown answer kind (expected one of: "
                             f"{', '.join(ANSWER_CREDIT)})")
        out.append((kind, mode(text, f"{where}.{kind}")))
    return tuple(out)


#: The longest rubric, in characters.
RUBRIC_LIMIT = 2000


def parse_manual(value: Any, where: str, limit: Fraction | int) -> tuple[Manual, ...]:
    """A slot's `manual`: a number of points, a table {points, part, rubric}, or an array of
    such tables (one per part); ValueError naming the field."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise ValueError(f"{where}: expected at least one table {{ points = …, part = …, rubric = … }}")
    found: list[Manual] = []
    for i, item in enumerate(items):
        at = f"{where}[{i + 1}]" if isinstance(value, list) else where
        if isinstance(item, (int, float)) and not isinstance(item, bool) and not isinstance(value, list):
            item = {"points": item}
        if not isinstance(item, Mapping):
            raise ValueError(f"{at}: expected a number of points or a table "
                             "{ points = …, part = …, rubric = … }")
        for key in item:
            if key not in ("points", "part", "rubric"):
                raise ValueError(f"{at}.{key}: unknown field (expected one of: points, part, rubric)")
        if "points" not in item:
            raise ValueError(f"{at}.points: missing required field")
        points = item["points"]
        if isinstance(points, bool) or not isinstance(points, (int, float)) \
                or not math.isfinite(points) or points <= 0:
            raise ValueError(f"{at}.points: expected a positive number, got {points!r}"[:200])
        part, rubric = item.get("part", ""), item.get("rubric", "")
        for key, text in (("part", part), ("rubric", rubric)):
            if not isinstance(text, str):
                raise ValueError(f"{at}.{key}: expected a string")
            if any(ord(c) < 32 and c not in "\n\t" or 0x7f <= ord(c) <= 0x9f for c in text):
                raise ValueError(f"{at}.{key}: control character not allowed")
        if len(rubric) > RUBRIC_LIMIT:
            raise ValueError(f"{at}.rubric: at most {RUBRIC_LIMIT} characters, got {len(rubric)}")
        part = " ".join(part.split())
        if any(m.part == part for m in found):
            raise ValueError(f"{at}.part: {part or '(the whole slot)'!r} has manual points twice")
        found.append(Manual(Fraction(repr(points)) if isinstance(points, float) else Fraction(points),
                            part, rubric.strip()))
    if len(found) > 1 and any(not m.part for m in found):
        raise ValueError(f"{where}: give each of several manual items its part")
    total = sum((m.points for m in found), Fraction(0))
    if total > limit:
        raise ValueError(f"{where}: {total} manual points, but the slot is worth {limit}")
    return tuple(found)


def policy_of_record(record: Any) -> Policy:
    """A slot's Policy from answers.json's "grading" (None: a manifest written before
    policies: the defaults); ValueError naming the field."""
    if record is None:
        return Policy()
    if not isinstance(record, Mapping):
        raise ValueError("grading: expected an object")
    keys = {"rounded_credit", "rounded_digits", "mistake_credit", "choice_penalty",
            "follow_credit", "decimal_comma", "manual"}
    unknown = sorted(set(record) - keys)
    if unknown:
        raise ValueError(f"grading.{unknown[0][:40]}: unknown field")
    settings = parse_settings({k: v for k, v in record.items() if k != "manual"}, "grading")
    manual = record.get("manual") or []
    if not isinstance(manual, list):
        raise ValueError("grading.manual: expected a list")
    items = parse_manual(manual, "grading.manual", Fraction(10) ** 12) if manual else ()
    return Policy.of(settings, items)
