"""The load-time self-test of a problem: its canonical variant (when it has one) and seed 0
at the default settings drawn, solved, checked, their prose and display lines checked,
every figure laid out as the key and as a question sheet show it, and both documents
(figures included) rendered in every registered format.

The command line runs it once for each problem that is not built in, as the registry
loads it (`registry.discover(check=selftest)`); the shipped problems pass it in the test
suite.  A failure is a ProblemError naming the module and the stage, in one line.
"""
from __future__ import annotations

from ..core.draw import draw_variant
from ..core.problem import NoCanonical, Problem
from ..errors import ProblemError, UserError
from ..exam.spec import Exam, ExamItem, Sheet, SheetItem
from ..formats import FormatError, available_formats, get_format
from ..formats.document import KINDS, build_document
from ..formats.prose import check_variant_markup
from ..registry import reason as _reason

__all__ = ["selftest"]


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
            _check_figures(variant)
            exam = Exam(title=problem.title, course="", date="", instructions="", master_seed=0,
                        variants=0, items=(ExamItem("Q1", problem.id, 1, options),))
            sheet = Sheet(exam, "selftest", 0, (SheetItem("Q1", 1, variant),))
            documents = {kind: build_document(sheet, kind) for kind in KINDS}
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
