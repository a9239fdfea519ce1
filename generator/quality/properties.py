"""The properties every problem must have, checked over many seeds (tests and `wsgen stress`).

* reproducible: the same seed draws the same parameters, and renders the same key;
* JSON round trip: every answer's and mistake's "exact" strings parse back (sympify) to
  their float "value";
* the question sheet shows nothing of the key: no answer value and no declared
  mistake's value (nor their rounded decimals) that is not already given in the
  question, in its text or in its figures; with multiple choice (`multiple_choice`), such
  values appear only as the printed options (core.distractors), nowhere else on the
  sheet; and a graph on a question sheet shows no gradient and no value but its inputs';
* the independent check passes (drawing a variant runs it).
"""
from __future__ import annotations

import json
import re

import mpmath
import sympy as sp

from ..core.draw import draw_variant
from ..core.figures import Figure, Graph
from ..core.model import Choices, Expression
from ..core.printing import tex
from ..core.numeric import _mp_value, approx_decimal, is_terminating
from ..core.shown import Shown
from ..core.values import leaves
from ..exam.spec import Exam, ExamItem, Sheet, SheetItem
from ..formats.document import build_document
from ..formats.json import variant_record
from ..formats.templating import render_document

__all__ = ["leaked", "property_failures", "render_one"]


def _entries(value) -> list:
    """The numbers among a value's entries (arithmetic as written and notation left out)."""
    if isinstance(value, (Choices, Expression)):
        return []
    out = []
    for e in leaves(value):
        if isinstance(e, (Shown, str)):
            continue
        try:
            out.append(sp.sympify(e))
        except (sp.SympifyError, TypeError):
            continue
    return out


def render_one(variant, kind: str, markup: str = "md", key: str = "instructor") -> str:
    """The question sheet or key (for `key`: the instructor, everything; or the student) of a
    one-problem sheet."""
    exam = Exam("t", "", "", "", 0, 0, (ExamItem("Q", variant.problem_id, 1, variant.options),),
                key=key)
    sheet = Sheet(exam, "v", 1, (SheetItem("Q", 1, variant),))
    return render_document(build_document(sheet, kind), markup, anchor="v1")


def _without_options(variant, questions: str) -> str:
    """The question sheet with the printed options of multiple-choice answers cut out."""
    from ..core.records import choice_letter
    from ..formats.document import shown_options
    printed = {f"- **{choice_letter(i)}.** ${tex(option)}$"        # as the Markdown prints it
               for answer in variant.solution.answers if answer.name in variant.choice_forms
               for i, option in enumerate(shown_options(variant, answer))}
    for text in sorted(printed, key=len, reverse=True):
        questions = questions.replace(text, " ")
    return questions


_INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def _question_figures(variant) -> str:
    """The text of the figures a question sheet shows (their own files in Markdown)."""
    from ..figures import figure_text
    return "\n".join(figure_text(block, question=True) for block in variant.statement
                     if isinstance(block, Figure))


def _graph_leaks(variant) -> list[tuple[str, str]]:
    """Gradients, and values of nodes that are not inputs, of the statement's graphs that
    their question view shows (what the key alone may show), as the figure prints them."""
    from ..figures.blocks import value_block
    from ..figures import figure_text
    found = []
    for block in variant.statement:
        if not isinstance(block, Graph):
            continue
        shown = set(figure_text(block, question=True).split("\n"))
        allowed = {label.tex for n in block.nodes if n.id in block.inputs and n.value is not None
                   for row in value_block(n.value, block.digits).rows for label in row}
        allowed |= {n.label for n in block.nodes}
        hidden = [(f"graph node {n.id} value", n.value) for n in block.nodes
                  if n.id not in block.inputs and n.value is not None]
        hidden += [(f"graph node {n.id} gradient", n.grad) for n in block.nodes
                   if n.grad is not None]
        hidden += [(f"graph edge {e.source}->{e.target} gradient", e.grad) for e in block.edges
                   if e.grad is not None]
        for name, value in hidden:
            for row in value_block(value, block.digits).rows:
                for label in row:
                    if label.tex in shown and label.tex not in allowed:
                        found.append((name, label.tex))
    return found


def leaked(variant) -> list[tuple[str, str]]:
    """Answer values and mistakes' values (or their rounded decimals) that appear in the
    question sheet, its text or its figures (outside the printed options of a
    multiple-choice answer), and what a statement's graph shows of the key."""
    questions = _without_options(variant, render_one(variant, "questions"))
    # a figure drawn inline (HTML quiz text) is searched by its labels, not its coordinates
    questions = _INLINE_SVG.sub(" ", questions) + "\n" + _question_figures(variant)
    # numbers given in the question (and their negatives) may coincide with an answer
    given = {abs(e) for block in variant.statement for v in getattr(block, "values", {}).values()
             for e in _entries(v) if e.is_number}
    given_texts = {tex(g) for g in given} | {tex(-g) for g in given}
    answers = {a.name: a for a in variant.solution.answers}
    searched = [(a.name, a, a.value) for a in variant.solution.answers]
    searched += [(f"{name} (mistake {m.id})", answers[name], value)
                 for m in variant.mistakes for name, value in m.values.items()]
    found = []
    for name, answer, value in searched:
        if answer.kind == "choice" and answer.name not in variant.choice_forms:
            continue                     # a formula to choose: its options are the question
        for e in _entries(value):
            # (abs of a long closed form is slow in SymPy, and only a rational can be given)
            if not e.is_number or (isinstance(e, sp.Rational) and (abs(e) in given or
                                                                   (e.is_Integer and abs(e) < 10))):
                continue
            texts = [tex(e)] if is_terminating(e) else [tex(e), approx_decimal(e, answer.digits)]
            for t in texts:
                if t in given_texts:         # a rounded decimal equal to a given number
                    continue
                if re.search(rf"(?<![\d.]){re.escape(t)}(?![\d])", questions):
                    found.append((name, t))
    return found + _graph_leaks(variant)


def _round_trip(record: dict) -> list[str]:
    bad = []
    groups = [("answer", record["answers"])] + [(f"mistake {m['id']}", m["answers"])
                                               for m in record["mistakes"]]
    for where, answers in groups:
        for name, answer in answers.items():
            if answer.get("kind") == "choice":
                pairs = [(o["exact"], o["value"]) for o in answer["options"] if isinstance(o, dict)]
            elif isinstance(answer["value"], int) and \
                    isinstance(answer["exact"], str) and answer["exact"].isalpha():
                continue
            elif answer["value"] is None:         # a formula: its text reads back to itself
                bad += _formula_same(where, name, answer["exact"], record["answers"][name])
                continue
            else:
                pairs = [(answer["exact"], answer["value"])]
            for exact, value in pairs:
                bad += _same(where, name, exact, value)
    return bad


def _formula_same(where: str, name: str, text: str, answer: dict) -> list[str]:
    from ..core.formula import parse, record_names, to_text
    if to_text(parse(text, record_names(answer))) != text:
        return [f"{where} {name}: formula {text!r} does not read back to itself"]
    return []


def _same(where: str, name: str, exact, value) -> list[str]:
    """Whether exact strings parse back to their float values, entry by entry."""
    exact, value = sp.flatten([exact]), sp.flatten([value])
    if len(exact) != len(value):
        return [f"{where} {name}: exact and value differ in shape"]
    bad = []
    for e, f in zip(exact, value):
        # parsed by SymPy, evaluated through mpmath at 40 digits (SymPy's own evalf of a long
        # nested closed form, an RNN's tanh of tanh of …, takes seconds)
        with mpmath.workdps(40):
            parsed = float(_mp_value(sp.sympify(e)))
        if abs(parsed - f) > 1e-12 * max(1.0, abs(f)):
            bad.append(f"{where} {name}: exact {e} is {parsed}, value says {f}")
    return bad


def property_failures(problem, options, seeds, multiple_choice: int = 0) -> list[str]:
    """One line per failed property, over the given seeds (empty: all hold); with
    `multiple_choice`, of the variants whose numeric answers are asked as multiple choice."""
    failures = []
    if multiple_choice:
        from ..core.draw import draw_multiple_choice

        def draw(seed):
            return draw_multiple_choice(problem, options, seed, multiple_choice)
    else:
        def draw(seed):
            return draw_variant(problem, options, seed)
    for seed in seeds:
        try:
            variant = draw(seed)
            again = draw(seed)
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
