"""The JSON contract (answers.json, `wsgen show --format json`) and answers.csv.

answers.json: {"generator", "exam" (title), "exam_id", "build" (the build id,
pipeline.sheets.build_id, which every sheet's header carries too and `wsgen grade` checks
responses against), "master_seed" (null under a roster), "variants": [{"variant",
"student", "problems": [one object per problem variant, with "label" and "points"]}]}.

One object per problem variant:

    {"problem": ID, "seed": INT or null,
     "params": {NAME: number | nested list of numbers | list of strings},
     "answers": {NAME: {"value": number | nested list | null, "exact": string | nested list,
                        "kind": "number" | "vector" | "matrix" | "list" | "choice" | "formula",
                        "tolerance": {"abs": float, "rel": float},
                        "points": number, "part": "(a)" or "",
                        "rule": {"sigfigs": N} | {"decimals": N} | {"abs", "rel"},
                        "credit": "entries" | "all-or-nothing"      (not for choices)
                        "options": [TeX, …] or [{"exact", "value"}, …]   (choice answers)
                        "distractors": [ID or null, …]                   (choice answers)}},
     "mistakes": [{"id", "label", "why", "answers": {NAME: {"value", "exact"}}}],
     "grading": {"rounded_credit", "rounded_digits", "mistake_credit": {ID: share},
                 "choice_penalty": share or "guessing", "decimal_comma",
                 "manual": [{"part", "points", "rubric"}]}}

A formula answer (kind "formula") has "value": null, "exact": its canonical text in the
formula grammar (core/formula.py: `2*(W*x)*x^T`), "tex": the formula as the key prints
it, "symbols": {NAME: [rows, cols], or [] for a number} (the shapes at this variant) and
"definitions": {NAME: text} (names standing for an expression of the symbols, or for a
number the question gives, in order); a mistake's entry for it is {"value": null, "exact":
text, "tex": TeX}.  Grading reads these with the same grammar and decides equivalence at
the variant's shapes.

"exact" strings (but a formula's) parse with sympy.sympify back to the exact value;
"value" is the float64 nearest to it.  Matrices are lists of rows, vectors flat lists.  A choice
answer's "value" is the 0-based index of the correct option among "options" (listed
in the order shown) and its "exact" the option's letter.  The options of a formula
question are TeX strings; those of a numeric answer asked as multiple choice (an exam
slot's `multiple_choice`) are {"exact", "value"} objects like a free answer's.
"distractors" names, per option, the mistake id (or for a multiple-choice numeric
answer the engine's slip id, core.distractors.SLIPS) that produces it, null for the
correct option (and for a formula option no declared mistake leads to).  A mistake's
entry for a formula question is the option it leads to ({"value": index, "exact":
letter}); for a numeric answer asked as multiple choice it is the value it gives
({"value", "exact"}), with "option": the letter of the option it leads to, or null
when no option shows it.  "points" is the answer's share of the slot's points (less its
manual points, "grading"."manual").  "rule" is how `wsgen grade` compares a number with the
answer (grading/policy.py: the exam's [grading] rule, else the answer's own tolerance);
"tolerance" is a tolerance that accepts every correct rounding the rule asks for, for
readers that know only tolerances (the same numbers when the rule is a tolerance).
"grading" is the slot's grading policy.
"""
from __future__ import annotations

import dataclasses
import json
from fractions import Fraction
from typing import Any

from ..core.model import Answer, Choices, Variant
from ..core.printing import tex
from ..core.numeric import exact_str, float_value
from ..core.values import exact
from . import Format, Rendered
from .csv import CsvWriter
from ..core.records import choice_letter
from ..grading.policy import Policy, Rule, Settings

__all__ = ["JsonFormat", "dumps", "param_value", "variant_record"]


def param_value(value: Any) -> Any:
    """A parameter as JSON: formulas to choose from become TeX strings; plain Python
    values stay as they are; exact numbers, vectors and matrices become floats."""
    if isinstance(value, Choices):
        return [tex(option) for option in value.options]
    if isinstance(value, (str, bool, int, float)):
        return value
    return float_value(value)


def _formula(value) -> dict:
    """A formula (an Expression) as answers.json states it: its canonical text and TeX."""
    from ..core.formula import shape_of, to_tex, to_text
    parsed = value.parsed()
    shape_of(parsed)                     # a mistake's formula must be defined at these shapes
    return {"value": None, "exact": to_text(parsed), "tex": to_tex(parsed, tex)}


def _value(answer: Answer, value: Any) -> dict:
    if answer.kind == "choice":
        index = answer.choices.index(value)
        return {"value": index, "exact": choice_letter(index)}
    if answer.kind == "formula":
        return _formula(value)
    return {"value": float_value(value), "exact": exact_str(value)}


def _mistake_value(variant: Variant, mistake, answer: Answer, value: Any) -> dict:
    forms = variant.choice_forms
    if answer.name not in forms:
        return _value(answer, value)
    option = forms[answer.name].mistakes.get(mistake.id)
    value = exact(value)
    return {"value": float_value(value), "exact": exact_str(value),
            "option": None if option is None else choice_letter(option)}


def _distractors(variant: Variant, answer: Answer) -> list:
    forms = variant.choice_forms
    if answer.name in forms:
        return list(forms[answer.name].labels)
    leads = {}
    for mistake in variant.mistakes:
        option = mistake.values.get(answer.name)
        if option is not None and option != answer.value:
            leads.setdefault(option, mistake.id)
    return [leads.get(option) for option in answer.choices]


def _answer(variant: Variant, answer: Answer, share: Fraction, settings: Settings) -> dict:
    record = _value(answer, answer.value)
    rule = settings.rule_for(Rule(rel=answer.tolerance.rel, abs=answer.tolerance.abs))
    record.update(kind=answer.kind, tolerance=rule.tolerance(),
                  points=float(share) if share.denominator != 1 else int(share), part=answer.part)
    if answer.kind != "choice":
        record.update(rule=rule.to_json(), credit=settings.credit_mode(answer.kind))
    if answer.kind == "choice":
        if answer.name in variant.choice_forms:
            record["options"] = [{"exact": exact_str(o), "value": float_value(o)}
                                 for o in answer.choices]
        else:
            record["options"] = [tex(option) for option in answer.choices]
        record["distractors"] = _distractors(variant, answer)
    if answer.kind == "formula":
        record["symbols"] = {name: list(shape) for name, shape in answer.value.symbols}
        record["definitions"] = dict(answer.value.definitions)
    return record


def variant_record(variant: Variant, points: int = 1,
                   grading: tuple[Settings, Policy] | None = None) -> dict[str, Any]:
    """The JSON record of one problem variant; `points` are the exam slot's points and
    `grading` its settings and policy (exam.spec.Exam.slot_grading; default: none set)."""
    settings, policy = grading or (Settings(), Policy())
    params = {f.name: param_value(getattr(variant.params, f.name))
              for f in dataclasses.fields(variant.params)}
    answers = variant.solution.answers
    total = sum(Fraction(a.points) for a in answers) or Fraction(1)
    automatic = Fraction(points) - policy.manual_points
    records = {a.name: _answer(variant, a, Fraction(a.points) / total * automatic, settings)
               for a in answers}
    mistakes = [{"id": m.id, "label": m.label, "why": m.why,
                 "answers": {name: _mistake_value(variant, m, variant.solution.get(name), value)
                             for name, value in m.values.items()}}
                for m in variant.mistakes]
    return {"problem": variant.problem_id, "seed": variant.seed, "params": params,
            "answers": records, "mistakes": mistakes, "grading": policy.to_json()}


def dumps(obj: Any, compact: bool = False) -> str:
    """Stable JSON text (keys in the contract's order); `compact` for large manifests."""
    if compact:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"
    return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


class _AnswersCollector:
    """Streams answers.json and answers.csv into the staging folder, one sheet at a time."""

    def __init__(self, build, staging):
        build_id = build.exam.build_id
        head = dumps({"generator": f"wsgen {build.version}", "exam": build.exam.title,
                      "exam_id": build.exam.exam_id, "build": build_id,
                      "master_seed": build.master_seed, "variants": []}, compact=True)
        self.json = staging.stream("answers.json")
        self.json.write(head[:-len("]}\n")])          # the header, up to the open list
        self.csv = CsvWriter(staging.stream("answers.csv"), build_id)
        self.first = True

    def add(self, summary, data) -> None:
        self.json.write(("" if self.first else ",") + dumps(summary.record, compact=True)[:-1])
        self.first = False
        self.csv.add(summary.record)

    def finish(self) -> None:
        self.json.write("]}\n")
        self.json.close()
        self.csv.close()


class JsonFormat(Format):
    name = "json"
    description = "answers.json (every variant's parameters, answers and mistakes) and answers.csv"

    def render(self, sheet, documents) -> Rendered:
        return Rendered()

    def collector(self, build, staging):
        return _AnswersCollector(build, staging)
