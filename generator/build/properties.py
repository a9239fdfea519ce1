"""The properties every problem must have, checked over many seeds (tests and `wsgen stress`).

* reproducible: the same seed draws the same parameters, and renders the same key;
* JSON round trip: every answer's and mistake's "exact" strings parse back (sympify) to
  their float "value";
* the question sheet shows nothing of the key: no answer value (nor its rounded
  decimal) that is not already given in the question;
* the independent check passes (drawing a variant runs it).
"""
from __future__ import annotations

import json
import re

import sympy as sp

from ..core.draw import draw_variant
from ..core.model import Choices, WithDecimal
from ..core.printing import approx_decimal, is_terminating, tex
from ..core.shown import Shown
from ..exam.spec import Exam, ExamItem, Sheet, SheetItem
from ..formats.document import build_document
from ..formats.json import variant_record
from ..formats.templating import render_document

__all__ = ["leaked", "property_failures", "render_one"]


def _entries(value) -> list:
    if isinstance(value, (sp.MatrixBase, tuple, list)):
        return [x for e in value for x in _entries(e)]
    if isinstance(value, WithDecimal):
        return _entries(value.value)
    if isinstance(value, (Choices, Shown, str)):
        return []
    try:
        return [sp.sympify(value)]
    except (sp.SympifyError, TypeError):
        return []


def render_one(variant, kind: str, markup: str = "md") -> str:
    """The question sheet or key of a one-problem sheet."""
    exam = Exam("t", "", "", "", 0, 0, (ExamItem("Q", variant.problem_id, 1, variant.options),))
    sheet = Sheet(exam, "v", 1, (SheetItem("Q", 1, variant),))
    return render_document(build_document(sheet, kind), markup, anchor="v1")


def leaked(variant) -> list[tuple[str, str]]:
    """Answer values (or their rounded decimals) that appear in the question sheet."""
    questions = render_one(variant, "questions")
    # numbers given in the question (and their negatives) may coincide with an answer
    given = {abs(e) for block in variant.statement for v in getattr(block, "values", {}).values()
             for e in _entries(v) if e.is_number}
    found = []
    for answer in variant.solution.answers:
        if answer.kind == "choice":
            continue
        for e in _entries(answer.value):
            if not e.is_number or abs(e) in given or (e.is_Integer and abs(e) < 10):
                continue
            texts = [tex(e)] if is_terminating(e) else [tex(e), approx_decimal(e, answer.digits)]
            for t in texts:
                if re.search(rf"(?<![\d.]){re.escape(t)}(?![\d])", questions):
                    found.append((answer.name, t))
    return found


def _round_trip(record: dict) -> list[str]:
    bad = []
    groups = [("answer", record["answers"])] + [(f"mistake {m['id']}", m["answers"])
                                               for m in record["mistakes"]]
    for where, answers in groups:
        for name, answer in answers.items():
            if answer.get("kind") == "choice" or isinstance(answer["value"], int) and \
                    isinstance(answer["exact"], str) and answer["exact"].isalpha():
                continue
            exact = sp.flatten([answer["exact"]])
            value = sp.flatten([answer["value"]])
            if len(exact) != len(value):
                bad.append(f"{where} {name}: exact and value differ in shape")
                continue
            for e, f in zip(exact, value):
                parsed = float(sp.N(sp.sympify(e), 30))
                if abs(parsed - f) > 1e-12 * max(1.0, abs(f)):
                    bad.append(f"{where} {name}: exact {e} is {parsed}, value says {f}")
    return bad


def property_failures(problem, options, seeds) -> list[str]:
    """One line per failed property, over the given seeds (empty: all hold)."""
    failures = []
    for seed in seeds:
        try:
            variant = draw_variant(problem, options, seed)
            again = draw_variant(problem, options, seed)
        except Exception as exc:  # noqa: BLE001 - reported as a failure
            failures.append(f"seed {seed}: {type(exc).__name__}: {exc}")
            continue
        if repr(variant.params) != repr(again.params) or \
                render_one(variant, "key") != render_one(again, "key"):
            failures.append(f"seed {seed}: not reproducible")
        record = json.loads(json.dumps(variant_record(variant)))
        failures += [f"seed {seed}: JSON round trip: {line}" for line in _round_trip(record)]
        failures += [f"seed {seed}: question sheet shows answer {name} = {text}"
                     for name, text in leaked(variant)]
    return failures
