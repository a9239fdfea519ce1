r"""The load-time self-test of a problem: its canonical variant (when it has one) and seed 0
at the default settings drawn, solved, checked, their prose and display lines checked,
every figure laid out as the key and as a question sheet show it, and both documents
(figures included) rendered in every registered format.

Authoring mistakes it names: a Params field that is not an immutable exact value (a
list, a dict, a float: core.model.params_problem, checked when a variant is drawn); an
answer whose value breaks a constraint it declares; a wrong option of a formula question
that no declared mistake leads to (the key could not say why it is wrong); and TeX that
the HTML path cannot read: every formula of both documents (the instructor's key, which
holds everything) goes through the MathML converter, and a command it does not know
(``\odott`` for ``\odot``, left as ``<mi>\odott</mi>``) is named with the step,
part or answer it is in.

The command line runs it once for each problem that is not built in, as the registry
loads it (`registry.discover(check=selftest)`); the shipped problems pass it in the test
suite.  A failure is a ProblemError naming the module and the stage, in one line.
"""
from __future__ import annotations

import re

from ..core.distractors import satisfies
from ..core.draw import draw_variant
from ..core.printing import tex
from ..core.problem import NoCanonical, Problem
from ..errors import ProblemError, UserError
from ..exam.spec import Exam, ExamItem, Sheet, SheetItem
from ..formats import FormatError, available_formats, get_format
from ..formats.document import INSTRUCTOR, KINDS, build_document
from ..formats.prose import Math, check_variant_markup, fill_math, read
from ..registry import reason as _reason
from ..core.values import exact

__all__ = ["check_constraints", "check_tex", "selftest", "unknown_tex"]


def selftest(problem: Problem, where: str) -> None:
    """Draw the canonical variant (if any) and seed 0 at the default settings, check
    them, and render them in every registered format."""
    options = problem.Options()
    # A format plugin that cannot load is not this problem's fault: it fails, in one line,
    # when a build asks for it.
    formats = []
    for name in available_formats():
        try:
            formats.append(get_format(name))
        except FormatError:
            continue
    for seed in (None, 0):
        stage = "canonical variant" if seed is None else f"seed {seed}"
        try:
            variant = draw_variant(problem, options, seed)
        except NoCanonical:
            continue
        except Exception as exc:  # noqa: BLE001 - reported with the source's name
            raise ProblemError(f"{where}: {problem.id}: self-test failed ({stage}): "
                               f"{_reason(exc)}") from None
        try:
            check_variant_markup(variant)
            _check_parts(variant)
            check_constraints(variant)
            _check_figures(variant)
            exam = Exam(title=problem.title, course="", date="", instructions="", master_seed=0,
                        variants=0, items=(ExamItem("Q1", problem.id, 1, options),),
                        key=INSTRUCTOR)
            sheet = Sheet(exam, "selftest", 0, (SheetItem("Q1", 1, variant),))
            documents = {kind: build_document(sheet, kind) for kind in KINDS}
            check_tex(documents.values())
            for fmt in formats:
                fmt.selftest(sheet, documents)
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ProblemError(f"{where}: {problem.id}: self-test failed ({stage}): "
                               f"{_reason(exc)}") from None


def _check_parts(variant) -> None:
    labels = [p.label for p in variant.parts]
    if len(set(labels)) != len(labels):
        raise ValueError(f"duplicate part labels {labels}")
    for answer in variant.solution.answers:
        if labels and answer.part not in labels:
            raise ValueError(f"answer {answer.name}: part {answer.part!r} is not one of {labels}")
        if answer.kind == "choice" and not answer.part:
            raise ValueError(f"answer {answer.name}: a choice answer must name its part")


def check_constraints(variant) -> None:
    """Raise ValueError when an answer's value breaks a constraint it declares."""
    for answer in variant.solution.answers:
        if answer.constraints and not satisfies(exact(answer.value), answer.constraints):
            raise ValueError(f"answer {answer.name}: its value {tex(exact(answer.value))} breaks "
                             f"its declared constraints ({', '.join(answer.constraints)})")


# --- TeX through the HTML path ---------------------------------------------------------------
_TEXT = re.compile(r">([^<]+)<")
_COMMAND = re.compile(r"\\[A-Za-z]+")


def unknown_tex(formula: str) -> str | None:
    """Why a TeX formula does not convert to MathML cleanly (a command the converter does
    not know, which it leaves in the output as text), or None."""
    from ..formats.htmlmarkup import mathml
    try:
        out = mathml(formula, False)
    except Exception as exc:  # noqa: BLE001 - the converter's own error, reported
        return f"the formula does not convert to MathML ({type(exc).__name__}: {exc})"
    commands = [c for text in _TEXT.findall(out) for c in _COMMAND.findall(text)]
    if commands:
        return f"unknown TeX command {commands[0]}"
    return None


def _prose_formulas(text: str, values) -> list[str]:
    return [piece.fill(values) for block in read(text) for run in block.runs for piece in run
            if isinstance(piece, Math)]


def _step_formulas(step, where: str):
    for formula in _prose_formulas(step.text, step.values):
        yield where, formula
    for line in step.math:
        yield where, fill_math(line, step.values)
    for i, sub in enumerate(step.substeps):
        yield from _step_formulas(sub, f"{where} > substep {i + 1}")


def _formulas(document):
    """(where, formula) for every formula of a document, where naming its section and its
    step, part, options or answer."""
    section = "question" if document.kind == "questions" else "key"
    for block in document.blocks:
        node = getattr(block, "node", "")
        if node == "section":
            section = block.title.lower()
        elif node == "note":
            yield from ((f"{section}: note", f) for f in _prose_formulas(block.text, {}))
        elif node == "step":
            title = block.step.title
            yield from _step_formulas(block.step, f"{section}: step {title!r}" if title
                                      else f"{section}: a step without a title")
        elif node == "part":
            part = block.part
            where = f"{section}: part {part.label}".rstrip()
            yield from ((where, f) for f in _prose_formulas(part.text, part.values))
            yield from ((where, fill_math(line, part.values)) for line in part.math)
            for group in block.groups:
                yield from ((f"{where}, its options", tex(o)) for o in group.options)
        elif node == "answer":
            answer = block.answer
            yield f"{section}: answer {answer.name}", answer.label
            shown = block.shown if block.shown is not None else answer.value
            yield f"{section}: answer {answer.name}", tex(shown)


def check_tex(documents) -> None:
    """Raise ValueError naming the place of the first formula (of any document) that the
    MathML converter cannot read."""
    for document in documents:
        seen = set()
        for where, formula in _formulas(document):
            if formula in seen:
                continue
            seen.add(formula)
            why = unknown_tex(formula)
            if why is not None:
                shown = formula if len(formula) <= 80 else formula[:77] + "..."
                raise ValueError(f"{where}: {why} in ${shown}$")


def _check_figures(variant) -> None:
    """Every figure of the statement and the solution: its caption's markup, its layout as
    the key and as a question sheet show it, and an SVG with no TeX left in it."""
    from ..core.figures import Figure
    from ..figures import figure_scene, figure_svg
    from ..formats.prose import check_markup
    blocks = [("statement block", i, b) for i, b in enumerate(variant.statement)]
    blocks += [("solution step", i, b) for i, b in enumerate(variant.solution.steps)]
    for kind, i, block in blocks:
        if not isinstance(block, Figure):
            continue
        where = f"{kind} {i + 1} ({type(block).__name__.lower()})"
        try:
            check_markup(block.caption, {})
            for question in (False, True):
                figure_scene(block, question)
                if "\\" in figure_svg(block, question):
                    raise ValueError("TeX left in its SVG")
        except UserError:                  # Graphviz missing: the machine's, not the problem's
            raise
        except Exception as exc:  # noqa: BLE001 - named with the figure's place
            raise ValueError(f"{where}: {type(exc).__name__}: {exc}") from None
