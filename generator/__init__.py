"""wsgen: worked-solution documents for deep-learning exams.

The public surface for problem modules is re-exported here, lazily: importing
`wsgen` (for the command line's fast paths) loads neither SymPy nor NumPy.

    from wsgen import Problem, register, option, Step, Part, Answer, Mistake, Solution, ...
"""
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wsgen")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_EXPORTS = {
    "as_float": "core.checks", "assert_close": "core.checks", "numeric_gradient": "core.checks",
    "assert_close_scaled": "core.checks",
    "shuffle_choices": "core.choices",
    "Formula": "core.derive", "clear_derivations": "core.derive", "derivations": "core.derive",
    "derive_once": "core.derive", "derived": "core.derive", "verified": "core.derive",
    "ANSWER_KINDS": "core.model", "Answer": "core.model", "Choices": "core.model",
    "Mistake": "core.model", "Part": "core.model", "Solution": "core.model", "Step": "core.model",
    "Tex": "core.model", "Tolerance": "core.model", "Variant": "core.model",
    "Vector": "core.model", "WithDecimal": "core.model", "exact_matrix": "core.model",
    "exact_vector": "core.model", "approx": "core.model", "ChoiceForm": "core.model",
    "Expression": "core.model", "mistakes_that_apply": "core.model",
    "Axes": "core.figures", "Curve": "core.figures", "Graph": "core.figures",
    "GraphEdge": "core.figures", "GraphNode": "core.figures", "Grid": "core.figures",
    "Highlight": "core.figures", "Link": "core.figures", "Mark": "core.figures",
    "Panel": "core.figures", "Plot": "core.figures",
    "Line": "core.lines", "eq": "core.lines", "line": "core.lines",
    "Surd": "core.exact", "fraction": "core.exact", "inverse_root": "core.exact",
    "matmul": "core.exact", "rational": "core.exact", "rows": "core.exact",
    "surd_value": "core.exact",
    "shown_column": "core.shown", "shown_difference": "core.shown", "shown_dot": "core.shown", "shown_matrix": "core.shown",
    "shown_product": "core.shown", "shown_quotient": "core.shown", "shown_square": "core.shown",
    "shown_rounded": "core.shown", "shown_sum": "core.shown", "written": "core.shown",
    "Defined": "core.named", "defined": "core.named",
    "option": "core.settings", "require_decimals": "core.settings",
    "CheckFailed": "core.problem", "NoCanonical": "core.problem", "Problem": "core.problem",
    "Redraw": "core.problem", "register": "core.problem",
    "draw_variant": "core.draw",
    "VariantRng": "core.rng", "derive_seed": "core.rng",
    "ProblemError": "errors", "UserError": "errors", "BuildError": "errors",
    "discover": "registry",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'wsgen' has no attribute {name!r}")
