"""Scoring one answer: the student's entries, the answer's record and the slot's policy in,
a result with points, an outcome and a diagnosis out.

    score_answer(name, answer, given, policy, mistakes) -> AnswerResult

`answer` is the answer's record in answers.json (kind, exact, value, rule, credit, points,
…), `given` maps each entry ("" for a number or a choice, "i" or "i,j") to the student's
response (anything with `.text` and `.line`), `policy` is the slot's (policy.Policy) and
`mistakes` the problem variant's declared mistakes.  Each answer kind has its scorer in
SCORERS; a new kind registers one there.

Outcomes (Outcome):

* right — every entry right under the answer's rule;
* rounded — every entry right, some only to fewer digits than the rule asks (at most
  `policy.rounded_digits` fewer): `policy.rounded_credit` of the answer;
* mistake — the whole answer is what a declared mistake gives (under the same rule, or
  rounded as above): the mistake's credit (`policy.mistake_credit`, default 0), never entry
  credit from entries that happen to coincide;
* partly right — a vector, matrix or list with some entries right: entry credit
  (`credit = "entries"`: points × Σ entry credit / entries, an entry right 1, rounded
  `rounded_credit`, else 0) or nothing (`credit = "all-or-nothing"`);
* wrong — no entry right, no declared mistake; a wrong option of a choice (minus the
  choice penalty, `policy.penalty`);
* unreadable — every response given unreadable (scored 0, reported);
* no answer — nothing given (0; never a penalty).
* carried forward — wrong, but right for the student's own values of the answers it is
  computed from (follow-through, `carry_forward`): `policy.follow_credit` (default 1);
* shape error — a formula whose shapes do not fit (formula answers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

from ..core.records import choice_letter as letter, entries, record_points
from .compare import choice_mistakes, whole_mistakes
from .parse import Unreadable, normalise, read_letter, read_number
from .policy import Policy, Rule, exact_fraction, rule_of_record

__all__ = ["AnswerResult", "EntryResult", "Outcome", "SCORERS", "carry_forward", "expected_number", "fmt_points",
           "score_answer"]


class Outcome(str, Enum):
    RIGHT = "right"
    ROUNDED = "right, rounded more coarsely"
    CARRIED = "carried forward"
    MISTAKE = "mistake"
    PARTLY = "partly right"
    WRONG = "wrong"
    UNREADABLE = "unreadable"
    NO_ANSWER = "no answer"
    SHAPE = "shape error"


@dataclass
class EntryResult:
    entry: str
    exact: str
    value: float
    given: str | None = None            # the response as written; None: unanswered
    number: Any = None                  # its value (choices: the option index)
    outcome: Outcome = Outcome.NO_ANSWER
    rounded_to: int | None = None       # ROUNDED: right to this many digits (rule's unit)
    written: bool = False               # ROUNDED: the response is that rounding as written
    unreadable: str = ""                # why it could not be read
    line: int = 0

    @property
    def right(self) -> bool:
        return self.outcome is Outcome.RIGHT

    def credit(self, policy: Policy) -> Fraction:
        if self.outcome is Outcome.RIGHT:
            return Fraction(1)
        if self.outcome is Outcome.ROUNDED:
            return policy.rounded_credit
        return Fraction(0)


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
    outcome: Outcome = Outcome.NO_ANSWER
    detail: str = ""                                       # the result, in words
    rule: Rule | None = None
    exact: Any = None                                      # answers.json's "exact" (nested)
    tex: str = ""                                          # a formula as the key prints it

    @property
    def right(self) -> bool:
        return self.outcome is Outcome.RIGHT

    @property
    def answered(self) -> bool:
        return any(e.given is not None for e in self.entries)


@lru_cache(maxsize=65536)
def _exact_of(exact: str) -> Fraction | None:
    try:
        number = read_number(exact)
    except Unreadable:
        return None
    return number if isinstance(number, Fraction) else None


def expected_number(exact: Any, value: float) -> Fraction:
    """An expected entry as a Fraction: its exact string when that is a rational number,
    else its float value."""
    found = _exact_of(exact) if isinstance(exact, str) else None
    return found if found is not None else exact_fraction(float(value))


_PLAIN_DECIMAL = re.compile(r"[+-]?(\d*)(?:\.(\d*))?")


def _written_as(text: str, unit: str, digits: int, decimal_comma: bool) -> bool:
    """Whether a response, as written, is a plain decimal with `digits` significant digits
    (or decimals)."""
    try:
        plain = normalise(text, decimal_comma)
    except Unreadable:
        return False
    match = _PLAIN_DECIMAL.fullmatch(plain)
    if not match or not (match.group(1) or match.group(2)):
        return False
    whole, fraction = match.group(1), match.group(2) or ""
    if unit == "decimals":
        return len(fraction) == digits
    significant = (whole + fraction).lstrip("0")
    return len(significant) == digits if significant else False


def _unit_words(unit: str, digits: int) -> str:
    word = "significant digit" if unit == "sigfigs" else "decimal place"
    return f"{digits} {word}" + ("" if digits == 1 else "s")


def _compare(item: EntryResult, number: Any, expected: Fraction, rule: Rule, policy: Policy,
             text: str) -> None:
    if rule.right(number, expected):
        item.outcome = Outcome.RIGHT
        return
    k = rule.coarser(number, expected, policy.rounded_digits)
    if k is None:
        item.outcome = Outcome.WRONG
        return
    unit, _ = rule.asked()
    item.outcome, item.rounded_to = Outcome.ROUNDED, k
    item.written = _written_as(text, unit, k, policy.decimal_comma)


def _matcher(rule: Rule, policy: Policy) -> Callable[[Any, Any, float], bool]:
    """A declared mistake's entry matches a response under the rule, or rounded as a right
    value may be."""
    def match(given, exact, value) -> bool:
        expected = expected_number(exact, value)
        return rule.right(given, expected) or \
            rule.coarser(given, expected, policy.rounded_digits) is not None
    return match


def _rounded_words(rule: Rule, rounded: list[EntryResult]) -> str:
    """"rounded to 3 significant digits; 4 asked" (or "right to … only" when a response is
    not written as that rounding: 0.1162 for 0.116)."""
    unit, asked = rule.asked()
    what = _unit_words(unit, min(e.rounded_to for e in rounded))
    if all(e.written for e in rounded):
        return f"rounded to {what}; {asked} asked"
    return f"right to {what} only; {asked} asked"


def _rounded_detail(rule: Rule, items: list[EntryResult], scalar: bool) -> str:
    rounded = [e for e in items if e.outcome is Outcome.ROUNDED]
    words = _rounded_words(rule, rounded)
    if scalar:
        return ("right value, " if words.startswith("rounded") else "") + words
    which = ", ".join(f"({e.entry})" for e in rounded)
    return f"right values; {which} {words}"


def _diagnosed(ids_or_mistakes: Sequence, mistakes: Sequence[dict]) -> list[dict]:
    known = {m.get("id"): m for m in mistakes}
    out = []
    for m in ids_or_mistakes:
        if isinstance(m, dict):
            out.append(m)
        else:
            out.append(known.get(m, {"id": m, "label": "",
                                     "why": "the slip this option was made with"}))
    return out


def _mistake_credit(policy: Policy, found: list[dict]) -> Fraction | None:
    """The best credit a diagnosed mistake is given (None when none is set)."""
    credits = [policy.mistake_credit[m["id"]] for m in found if m.get("id") in policy.mistake_credit]
    return max(credits) if credits else None


def _score_numeric(result: AnswerResult, answer: dict, given: Mapping[str, Any],
                   policy: Policy, mistakes: Sequence[dict]) -> None:
    rule = result.rule
    numbers: dict[str, Any] = {}
    for entry, exact, value in entries(answer["exact"], answer["value"]):
        item = EntryResult(entry, exact, value)
        response = given.get(entry)
        if response is not None:
            item.given, item.line = response.text.strip(), response.line
            try:
                number = read_number(response.text, policy.decimal_comma)
                float(number)
            except (Unreadable, OverflowError) as exc:
                item.outcome = Outcome.UNREADABLE
                item.unreadable = str(exc) if isinstance(exc, Unreadable) else "number too large"
            else:
                item.number = number
                numbers[entry] = number
                _compare(item, number, expected_number(exact, value), rule, policy, response.text)
        result.entries.append(item)
    items = result.entries
    count = len(items)
    right = sum(1 for e in items if e.right)
    scalar = result.kind == "number"
    unreadable = [e for e in items if e.outcome is Outcome.UNREADABLE]
    if not result.answered:
        result.outcome, result.detail = Outcome.NO_ANSWER, "no answer"
        return
    if right == count:
        result.outcome, result.detail, result.points = Outcome.RIGHT, "right", result.max_points
        return
    if all(e.outcome in (Outcome.RIGHT, Outcome.ROUNDED) for e in items):
        result.outcome = Outcome.ROUNDED
        result.detail = _rounded_detail(rule, items, scalar)
        if answer.get("credit", "entries") == "all-or-nothing":
            result.points = result.max_points * policy.rounded_credit
        else:
            result.points = result.max_points * sum((e.credit(policy) for e in items),
                                                    Fraction(0)) / count
        return
    found = whole_mistakes(result.name, [e.entry for e in items], numbers, None, mistakes,
                           match=_matcher(rule, policy))
    if found:
        result.mistakes = _diagnosed(found, mistakes)
        credit = _mistake_credit(policy, result.mistakes) or Fraction(0)
        result.outcome, result.points = Outcome.MISTAKE, result.max_points * credit
        result.detail = "wrong: what a declared mistake gives" + (
            f" (credit {_share_text(credit)} of the answer)" if credit else "")
        return
    if scalar:
        if unreadable:
            e = unreadable[0]
            result.outcome = Outcome.UNREADABLE
            result.detail = f"unreadable: {code_span(e.given)} ({_reason(e.unreadable)})"
        else:
            result.outcome, result.detail = Outcome.WRONG, "wrong"
        return
    earned = sum((e.credit(policy) for e in items), Fraction(0))
    wrong = [e.entry for e in items if not e.right]
    detail = f"{right} of {count} entries right; not right: " + ", ".join(f"({w})" for w in wrong)
    rounded = [e for e in items if e.outcome is Outcome.ROUNDED]
    if rounded:
        detail += "; " + ", ".join(f"({e.entry})" for e in rounded) + " " + \
            _rounded_words(rule, rounded)
    for e in unreadable:
        detail += f"; entry ({e.entry}) unreadable: {code_span(e.given)} ({_reason(e.unreadable)})"
    given = [e for e in items if e.given is not None]
    if earned == 0 and given and all(e.outcome is Outcome.UNREADABLE for e in given):
        result.outcome = Outcome.UNREADABLE
    else:
        result.outcome = Outcome.PARTLY if earned else Outcome.WRONG
    if answer.get("credit", "entries") == "all-or-nothing":
        if earned:
            detail += " (all or nothing)"
    else:
        result.points = result.max_points * earned / count
    result.detail = detail


def _score_choice(result: AnswerResult, answer: dict, given: Mapping[str, Any],
                  policy: Policy, mistakes: Sequence[dict]) -> None:
    count = len(answer["options"])
    item = EntryResult("", answer["exact"], answer["value"])
    result.entries = [item]
    result.options = list(answer["options"])
    response = given.get("")
    if response is None:
        result.outcome, result.detail = Outcome.NO_ANSWER, "no answer"
        return
    item.given, item.line = response.text.strip(), response.line
    try:
        index = read_letter(response.text, count)
    except Unreadable as exc:
        item.outcome, item.unreadable = Outcome.UNREADABLE, str(exc)
        result.outcome = Outcome.UNREADABLE
        result.detail = f"unreadable: {code_span(item.given)} ({item.unreadable})"
        return
    item.number = index
    if letter(index) == answer["exact"]:
        item.outcome = result.outcome = Outcome.RIGHT
        result.points, result.detail = result.max_points, "right"
        return
    item.outcome = Outcome.WRONG
    result.mistakes = _diagnosed(choice_mistakes(result.name, answer, index, mistakes), mistakes)
    credit = _mistake_credit(policy, result.mistakes)
    penalty = policy.penalty(count)
    if credit is not None:
        result.points = result.max_points * credit
    else:
        result.points = -result.max_points * penalty
    result.outcome = Outcome.MISTAKE if result.mistakes else Outcome.WRONG
    result.detail = "wrong" + (f" (credit {_share_text(credit)} of the answer for this mistake)"
                               if credit else
                               f" (a wrong option costs {_share_text(penalty)} of the answer)"
                               if credit is None and penalty else "")


def _score_formula(result: AnswerResult, answer: dict, given: Mapping[str, Any],
                   policy: Policy, mistakes: Sequence[dict]) -> None:
    """A typed formula, graded by what it means (core/formula.py): right, a declared
    mistake (its credit), a shape error, wrong, or unreadable."""
    from ..core.formula import judge
    item = EntryResult("", answer["exact"], 0.0)
    result.entries = [item]
    response = given.get("")
    if response is None:
        result.outcome, result.detail = Outcome.NO_ANSWER, "no answer"
        return
    item.given, item.line = response.text.strip(), response.line
    judged = judge(response.text, answer, list(mistakes), result.name)
    outcome = {"right": Outcome.RIGHT, "mistake": Outcome.MISTAKE, "shape error": Outcome.SHAPE,
               "unreadable": Outcome.UNREADABLE}.get(judged.outcome, Outcome.WRONG)
    item.outcome = result.outcome = outcome
    if outcome is Outcome.UNREADABLE:
        item.unreadable = judged.detail
    result.mistakes = _diagnosed(list(judged.mistakes), mistakes)
    credit = _mistake_credit(policy, result.mistakes) if outcome is Outcome.MISTAKE else None
    if outcome is Outcome.RIGHT:
        result.points = result.max_points
    elif credit:
        result.points = result.max_points * credit
    result.detail = judged.outcome + (f": {judged.detail}" if judged.detail else "") + (
        f" (credit {_share_text(credit)} of the answer)" if credit else "")


@lru_cache(maxsize=65536)
def fmt_points(points: Fraction) -> str:
    """Points as written in grades.csv and the feedback: at most 4 decimals."""
    if points.denominator == 1:
        return str(points.numerator)
    text = f"{float(points):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _share_text(share: Fraction) -> str:
    if share.denominator == 1:
        return str(share.numerator)
    decimal = f"{float(share):.4f}".rstrip("0").rstrip(".")
    return decimal if Fraction(decimal) == share else f"{share.numerator}/{share.denominator}"


@lru_cache(maxsize=65536)
def cut_text(text: str, limit: int = 80) -> str:
    """A student's text (or a value) on one line, cut at `limit` characters with "…"."""
    text = " ".join(str(text).split())
    return text[:limit] + "…" if len(text) > limit else text


def code_span(text: str | None, limit: int = 80) -> str:
    """A student's text as an inline code span, safe in Markdown (a backtick in it shown as
    an apostrophe)."""
    text = cut_text(str(text or "").replace("`", "'"), limit)
    return f"`{text}`" if text else "(empty)"


def _reason(text: str) -> str:
    """Why a response is unreadable, said beside its code span: a backtick it quotes from
    the response is shown as an apostrophe, as in the span (no span opens or closes)."""
    return str(text).replace("`", "'")


def carry_forward(results: Sequence[AnswerResult], record: Mapping[str, Any], problem,
                  policy: Policy) -> None:
    """Follow-through (grading/follow.py): every numeric answer of one slot that is not
    right, but is right (under its rule, or rounded as a right value may be) for the values
    the student gave its inputs (`problem.follows`, recomputed by `problem.follow_through`),
    is "carried forward" and earns `policy.follow_credit` of its points (when that is more
    than it earned).  An input given rounded as the rule allows is the key's, not a slip."""
    from .follow import carried_values
    if not problem.follows or not policy.follow_credit:
        return
    by_name = {r.name: r for r in results}
    numbers = {r.name: {e.entry: float(e.number) for e in r.entries
                        if e.number is not None and e.outcome is not Outcome.UNREADABLE}
               for r in results if r.kind in ("number", "vector", "matrix", "list")}

    def close(given: float, expected: float, answer: Mapping[str, Any]) -> bool:
        rule = rule_of_record(answer)
        want = Fraction(expected)
        return rule.right(given, want) or rule.coarser(given, want, policy.rounded_digits) is not None

    carried = carried_values(problem, record, numbers, close)
    for name, values in carried.items():
        result = by_name.get(name)
        if result is None or result.outcome in (Outcome.RIGHT, Outcome.NO_ANSWER):
            continue
        answer = record["answers"][name]
        if not all(e.number is not None and e.entry in values and close(float(e.number), values[e.entry], answer)
                   for e in result.entries):
            continue
        credit = result.max_points * policy.follow_credit
        if credit < result.points:          # entry credit already earns more
            continue
        inputs = [_named(i, record["answers"][i]) for i in problem.follows.get(name, ())
                  if i in numbers]
        result.outcome, result.points, result.mistakes = Outcome.CARRIED, credit, []
        result.detail = ("carried forward from your " + ", ".join(inputs) + ": right method"
                         + (f" (credit {_share_text(policy.follow_credit)} of the answer)"
                            if policy.follow_credit != 1 else ""))


def _named(name: str, answer: Mapping[str, Any]) -> str:
    part = answer.get("part")
    return f"{name} {part}" if part else name


#: The scorer of each answer kind: fills in an AnswerResult (entries, outcome, points, …).
SCORERS: dict[str, Callable[[AnswerResult, dict, Mapping[str, Any], Policy, Sequence[dict]], None]] = {
    "number": _score_numeric, "vector": _score_numeric, "matrix": _score_numeric,
    "list": _score_numeric, "choice": _score_choice, "formula": _score_formula}


def score_answer(name: str, answer: dict, given: Mapping[str, Any], policy: Policy,
                 mistakes: Sequence[dict] = (), label: str = "", problem: str = "") -> AnswerResult:
    """The result of one answer (module docstring)."""
    result = AnswerResult(label, problem, name, answer["kind"], str(answer.get("part", "")),
                          Fraction(0), record_points(answer["points"]), [],
                          rule=None if answer["kind"] in ("choice", "formula")
                          else rule_of_record(answer))
    result.exact = answer["exact"]
    result.tex = answer.get("tex", "") if isinstance(answer.get("tex"), str) else ""
    SCORERS[answer["kind"]](result, answer, given, policy, mistakes)
    return result
