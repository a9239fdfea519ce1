"""wsgen: worked-solution documents for deep-learning exams.

The public surface for problem modules is re-exported here, lazily: importing
`generator` (for the command line's fast paths) loads neither SymPy nor NumPy.
"""
from importlib import import_module

__version__ = "0.2.0"

_EXPORTS = {
    "as_float": "checks", "assert_close": "checks", "numeric_gradient": "checks",
    "shuffle_choices": "choices", "choice_key": "choices", "check_choice": "choices",
    "Answer": "model", "Choices": "model", "Solution": "model", "Step": "model", "Tex": "model",
    "Variant": "model", "Vector": "model", "WithDecimal": "model", "exact_matrix": "model",
    "exact_vector": "model", "option": "options", "shown_difference": "model",
    "shown_dot": "model", "shown_matrix": "model", "shown_product": "model",
    "shown_quotient": "model", "shown_square": "model", "shown_sum": "model",
    "CheckFailed": "registry", "NoCanonical": "registry", "Problem": "registry", "ProblemError": "registry",
    "Redraw": "registry", "get_problem": "registry", "load_problems": "registry",
    "register": "registry",
    "VariantRng": "rng", "derive_seed": "rng",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'generator' has no attribute {name!r}")
