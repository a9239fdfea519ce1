"""wsgen: worked-solution documents for deep-learning exams.

The public surface for problem modules is re-exported here; everything else
lives in the engine's private modules.
"""
from .checks import as_float, assert_close, numeric_gradient
from .choices import shuffle_choices
from .model import (Answer, Choices, Solution, Step, Tex, Variant, Vector, WithDecimal, shown_difference, shown_dot,
                    shown_matrix, shown_product, shown_quotient, shown_square, shown_sum)
from .registry import CheckFailed, Problem, ProblemError, Redraw, get_problem, load_problems, register
from .rng import VariantRng, derive_seed

__version__ = "0.1.0"

__all__ = ["Answer", "CheckFailed", "Choices", "Problem", "ProblemError", "Redraw", "Solution",
           "Step", "Tex", "Variant", "VariantRng", "Vector", "WithDecimal", "__version__", "as_float", "assert_close",
           "derive_seed", "get_problem", "load_problems", "numeric_gradient", "register",
           "shown_difference", "shown_dot", "shown_matrix", "shown_product",
           "shown_quotient", "shuffle_choices", "shown_square", "shown_sum"]
