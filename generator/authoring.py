"""`wsgen new`: a new problem module, and a test for it, that work as written.

`write_new_problem("my_problem", folder)` writes ``folder/my_problem.py`` (a short but
complete problem: the mean squared error of a linear model, its gradient and one
gradient-descent step) and ``folder/test_my_problem.py`` (pytest: the engine loads the
folder as a build would, and every answer is compared with a computation in plain
Python fractions).  The author then changes the numbers, the prose and the
computation, keeping the shape.  See docs/authoring.md.
"""
from __future__ import annotations

import keyword
import re
from pathlib import Path

from .errors import ProblemError, UserError

__all__ = ["problem_module", "problem_test", "write_new_problem"]

_ID = re.compile(r"[a-z_][a-z0-9_]*\Z")


def _class_name(problem_id: str) -> str:
    name = "".join(word.capitalize() for word in problem_id.split("_") if word)
    return name if name and name[0].isalpha() else f"Problem{name}"


def _check_id(problem_id: str) -> None:
    if not _ID.match(problem_id) or keyword.iskeyword(problem_id):
        raise UserError(f"{problem_id!r}: a problem id must be a lowercase Python identifier "
                        f"(letters a-z, digits and _, not starting with a digit), e.g. my_problem")
    if problem_id.startswith(("_", "test_")):
        raise UserError(f"{problem_id!r}: a problem id must not start with '_' or 'test_' "
                        f"(such files are not loaded as problems)")


def _known_elsewhere(problem_id: str) -> str | None:
    """The source of an installed problem (built in or a plugin) with this id, if any."""
    from .registry import discover
    try:
        registry = discover(())
    except ProblemError:    # a broken plugin is reported by the commands that load it
        return None
    return registry.sources.get(problem_id)


def problem_module(problem_id: str) -> str:
    """The text of a new problem module."""
    return _MODULE.replace("__ID__", problem_id).replace("__CLASS__", _class_name(problem_id))


def problem_test(problem_id: str) -> str:
    """The text of the pytest file for a new problem module."""
    return _TEST.replace("__ID__", problem_id)


def write_new_problem(problem_id: str, folder) -> list[Path]:
    """Write FOLDER/PROBLEM_ID.py and FOLDER/test_PROBLEM_ID.py; return their paths.

    Raises UserError (one line) for an id that is not a lowercase Python identifier, an
    id that an installed problem already has, a file that already exists, or a folder
    that cannot be written."""
    _check_id(problem_id)
    folder = Path(folder)
    source = _known_elsewhere(problem_id)
    if source is not None:
        raise UserError(f"{problem_id!r}: a problem with this id is already installed ({source}); "
                        f"choose another id")
    files = [(folder / f"{problem_id}.py", problem_module(problem_id)),
             (folder / f"test_{problem_id}.py", problem_test(problem_id))]
    for path, _ in files:
        if path.exists() or path.is_symlink():
            raise UserError(f"{path}: already exists; not overwritten (choose another id or "
                            f"remove the file)")
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, text in files:
            with open(path, "x", encoding="utf-8", newline="\n") as handle:
                written.append(path)
                handle.write(text)
    except OSError as exc:
        for path in written:        # all or nothing
            path.unlink(missing_ok=True)
        where = exc.filename or folder
        raise UserError(f"{where}: cannot write the new problem: {exc.strerror or exc}") from None
    return [path for path, _ in files]


_MODULE = '''\
"""__ID__: the mean squared error of a linear model, its gradient and one descent step.

Written by `wsgen new` as a complete problem that works as written: change the
numbers, the prose and the computation, and keep the shape (docs/authoring.md):

* canonical(options)  the original exam's numbers, or raise NoCanonical;
* generate(rng, options)  fresh numbers from the variant's seeded rng (Redraw if degenerate);
* statement  the question: Steps and Parts, nothing of the key;
* solve  the exact worked solution: Steps (TeX with @name placeholders) and Answers;
* check  an independent float64 recomputation with NumPy;
* mistakes  what common mistakes give, computed from the same numbers.

Try it:  wsgen show __ID__ --canonical --problems FOLDER
         wsgen stress __ID__ --problems FOLDER --corners -n 200
         python -m pytest FOLDER/test___ID__.py
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, Mistake, NoCanonical, Part, Problem, Redraw, Solution, Step, Vector,
                   as_float, assert_close, assert_close_scaled, exact_matrix, exact_vector,
                   numeric_gradient, option, register, shown_difference, shown_dot,
                   shown_matrix, shown_product, shown_quotient, shown_square, shown_sum)

LEARNING_RATES = ("0.1", "0.05", "0.01")


@dataclass(frozen=True)
class Options:
    m: int = option(3, 2, 6)            # examples: rows of X, entries of y
    d: int = option(2, 1, 4)            # features: columns of X, entries of w
    places: int = option(1, 1, 2)       # decimals of each drawn entry


@dataclass(frozen=True)
class Params:
    X: sp.ImmutableMatrix   # m x d inputs, one example per row
    y: Vector               # m targets
    w: Vector               # d weights
    eta: sp.Rational        # learning rate


def _residuals(X, y, w):
    """X w - y, exactly."""
    return [sum(a * b for a, b in zip(row, w)) - t for row, t in zip(X.tolist(), y)]


@register
class __CLASS__(Problem):
    id = "__ID__"
    title = "Mean squared error of a linear model and its gradient"
    Options = Options
    Params = Params

    def canonical(self, options):
        if (options.m, options.d) != (3, 2):
            raise NoCanonical("the canonical variant has m = 3 examples and d = 2 features")
        return Params(X=exact_matrix([["1", "2"], ["0.5", "-1"], ["-2", "1"]]),
                      y=exact_vector(("1", "0", "-1")), w=exact_vector(("0.5", "-0.5")),
                      eta=sp.Rational("0.1"))

    def generate(self, rng, options):
        X = exact_matrix([rng.decimals(options.d, -2, 2, options.places)
                          for _ in range(options.m)])
        y = exact_vector(rng.decimals(options.m, -2, 2, options.places, nonzero=False))
        w = exact_vector(rng.decimals(options.d, -1, 1, options.places))
        eta = sp.Rational(rng.choice(LEARNING_RATES))
        r = _residuals(X, y, w)
        if all(g == 0 for g in X.T * sp.Matrix(r)):
            raise Redraw("the gradient is zero: w already minimises the loss")
        return Params(X=X, y=y, w=w, eta=eta)

    def statement(self, params, options):
        return (
            Step(text="A linear model predicts $\\\\hat y = Xw$ for the inputs $X = @X$ (one "
                      "example per row) with the weights $w = @w$. The targets are $y = @y$ "
                      "and the loss is the mean squared error "
                      "$L(w) = \\\\frac{1}{m} \\\\sum_{i=1}^{m} (\\\\hat y_i - y_i)^2$ "
                      "over the $m = @m$ examples.",
                 values={"X": params.X, "w": params.w, "y": params.y,
                         "m": sp.Integer(len(params.y))}),
            Part("(a)", "Compute the predictions $\\\\hat y$."),
            Part("(b)", "Compute the loss $L$."),
            Part("(c)", "Derive the gradient $\\\\nabla_w L$ in matrix form and evaluate it."),
            Part("(d)", "Take one gradient-descent step with learning rate $\\\\eta = @eta$.",
                 values={"eta": params.eta}),
        )

    def solve(self, params, options):
        X, y, w, eta = params.X.tolist(), params.y, params.w, params.eta
        m, d = len(y), len(w)
        rows = [shown_dot(X[i], w) for i in range(m)]          # x_i . w, every product shown
        yhat = Vector(row.value for row in rows)
        diffs = [shown_difference(yhat[i], y[i]) for i in range(m)]
        r = Vector(e.value for e in diffs)
        loss_shown = shown_quotient(shown_sum(shown_square(e) for e in r), m)
        loss = loss_shown.value
        grad_entries = [shown_product(sp.Rational(2, m), shown_dot([X[i][j] for i in range(m)], r))
                        for j in range(d)]
        grad = Vector(e.value for e in grad_entries)
        step_entries = [shown_difference(w[j], shown_product(eta, grad[j])) for j in range(d)]
        w_new = Vector(e.value for e in step_entries)

        steps = (
            Step(title="(a) Predictions",
                 text="Each prediction is one row of $X$ times $w$.",
                 math=tuple(f"\\\\hat y_{{{i + 1}}} = @s{i} = @p{i}" for i in range(m)),
                 values={**{f"s{i}": rows[i] for i in range(m)},
                         **{f"p{i}": yhat[i] for i in range(m)}}),
            Step(title="(b) The loss",
                 text="The residuals $\\\\hat y - y$, squared, summed and divided by $m$.",
                 math=("\\\\hat y - y = @rs = @r", "L = @Ls = @L"),
                 values={"rs": shown_matrix([[e] for e in diffs]), "r": r,
                         "Ls": loss_shown, "L": loss}),
            Step(title="(c) The gradient",
                 text="Differentiate one weight at a time, then read the sum as a matrix "
                      "product: $X^\\\\top$ is $d \\\\times m$ and $\\\\hat y - y$ is "
                      "$m \\\\times 1$, so the gradient has the shape of $w$.",
                 math=("\\\\frac{\\\\partial L}{\\\\partial w_j} = \\\\frac{2}{m} \\\\sum_{i} "
                       "(\\\\hat y_i - y_i)\\\\, X_{ij}"
                       "\\\\quad\\\\Rightarrow\\\\quad \\\\nabla_w L = \\\\frac{2}{m} X^\\\\top "
                       "(\\\\hat y - y)",
                       "\\\\nabla_w L = @gs = @g"),
                 values={"gs": shown_matrix([[e] for e in grad_entries]), "g": grad}),
            Step(title="(d) One gradient-descent step",
                 text="Move against the gradient, scaled by the learning rate.",
                 math=("w - \\\\eta\\\\, \\\\nabla_w L = @ws = @wn",),
                 values={"ws": shown_matrix([[e] for e in step_entries]), "wn": w_new}),
        )
        return Solution(steps=steps, answers=(
            Answer("yhat", "\\\\hat y", yhat, part="(a)"),
            Answer("loss", "L", loss, part="(b)"),
            Answer("grad", "\\\\nabla_w L", grad, part="(c)", points=2),
            Answer("w_new", "w - \\\\eta\\\\, \\\\nabla_w L", w_new, part="(d)")))

    def check(self, params, options, solution):
        # A second computation in float64 from the parameters alone (closed form and
        # finite differences), never the exact path printed again.
        X, y, w = as_float(params.X), as_float(params.y), as_float(params.w)
        eta, m = float(params.eta), len(y)
        loss_of = lambda v: float(np.mean((X @ v - y) ** 2))
        grad = 2.0 / m * X.T @ (X @ w - y)
        # A float64 error grows with the terms summed, not with the result (which may
        # cancel to nearly nothing): these absolute tolerances scale with the inputs.
        size = 1.0 + float(np.abs(X).sum() * (np.abs(w).sum() + np.abs(y).sum()))
        assert_close("yhat", solution.answer("yhat"), X @ w, atol=1e-12 * size)
        # The loss is positive (generate redraws a zero gradient, hence a zero residual),
        # so its own magnitude is the scale.
        assert_close_scaled("loss", solution.answer("loss"), loss_of(w))
        assert_close("grad", solution.answer("grad"), grad, atol=1e-12 * size ** 2)
        assert_close("grad", solution.answer("grad"), numeric_gradient(loss_of, w),
                     rtol=1e-5, atol=1e-8 * size ** 2)
        assert_close("w_new", solution.answer("w_new"), w - eta * grad, atol=1e-12 * size ** 2)

    def mistakes(self, params, options, solution):
        m = len(params.y)
        loss, grad, w, eta = (solution.answer("loss"), solution.answer("grad"), params.w,
                              params.eta)
        step = lambda g: Vector(wj - eta * gj for wj, gj in zip(w, g))
        no_mean = Vector(m * g for g in grad)
        no_two = Vector(g / 2 for g in grad)
        return (
            Mistake("sum_not_mean", "sum, not mean",
                    "the squared residuals summed but not divided by $m$: that is the sum of "
                    "squared errors, $m$ times the mean",
                    {"loss": m * loss, "grad": no_mean, "w_new": step(no_mean)}),
            Mistake("no_factor_two", "factor 2 dropped",
                    "the derivative of $(\\\\hat y_i - y_i)^2$ is $2(\\\\hat y_i - y_i)$: "
                    "without the 2 the gradient is half as long",
                    {"grad": no_two, "w_new": step(no_two)}),
            Mistake("step_uphill", "step along the gradient",
                    "$w + \\\\eta \\\\nabla_w L$ moves uphill: gradient descent subtracts",
                    {"w_new": Vector(wj + eta * gj for wj, gj in zip(w, grad))}),
        )
'''

_TEST = '''\
"""Tests of the problem __ID__ (written by `wsgen new`):  python -m pytest THIS_FILE

The engine loads this folder as a build would (files whose names start with `test_` or
`_` are not problems), and every answer is compared with a computation in plain Python
fractions, independent of the problem's SymPy code.  When you change the problem,
change `expected` (and the canonical numbers) with it.
"""
from fractions import Fraction
from pathlib import Path

import pytest

import wsgen

FOLDER = Path(__file__).resolve().parent
PROBLEM_ID = "__ID__"
SEEDS = range(40)
# Settings to draw at: the defaults, every option at its minimum, every one at its maximum.
SETTINGS = ({}, {"m": 2, "d": 1, "places": 1}, {"m": 6, "d": 4, "places": 2})


@pytest.fixture(scope="module")
def problem():
    registry = wsgen.discover([FOLDER])
    assert registry.sources[PROBLEM_ID] == str(FOLDER)
    return registry.problems[PROBLEM_ID]


def fractions(value):
    """An exact value (SymPy number, Vector, Matrix) as Fractions, in nested lists."""
    if hasattr(value, "tolist"):
        return [fractions(row) for row in value.tolist()]
    if isinstance(value, (tuple, list)):
        return [fractions(v) for v in value]
    return Fraction(str(value))


def expected(params):
    """The answers, computed again from the parameters with Fractions."""
    X, y, w = fractions(params.X), fractions(params.y), fractions(params.w)
    eta, m, d = Fraction(str(params.eta)), len(y), len(w)
    yhat = [sum(a * b for a, b in zip(row, w)) for row in X]
    r = [p - t for p, t in zip(yhat, y)]
    grad = [2 * sum(X[i][j] * r[i] for i in range(m)) / m for j in range(d)]
    return {"yhat": yhat, "loss": sum(e * e for e in r) / m, "grad": grad,
            "w_new": [wj - eta * gj for wj, gj in zip(w, grad)]}


def answers(variant):
    return {a.name: fractions(a.value) for a in variant.solution.answers}


def test_canonical_variant(problem):
    variant = wsgen.draw_variant(problem, problem.Options(), None)
    got = answers(variant)
    assert got == expected(variant.params)
    # The original exam's answers, as printed on its key.
    F = Fraction
    assert got["yhat"] == [F(-1, 2), F(3, 4), F(-3, 2)]
    assert got["loss"] == F(49, 48)
    assert got["grad"] == [F(-1, 12), F(-17, 6)]
    assert got["w_new"] == [F(61, 120), F(-13, 60)]


def test_canonical_needs_its_shape(problem):
    with pytest.raises(wsgen.NoCanonical):
        problem.canonical(problem.Options(m=4))


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_seeded_variants(problem, settings):
    options = problem.Options(**settings)
    for seed in SEEDS:
        variant = wsgen.draw_variant(problem, options, seed)
        assert answers(variant) == expected(variant.params), f"seed {seed}"
        assert len(variant.params.y) == options.m and len(variant.params.w) == options.d


def test_reproducible(problem):
    options = problem.Options()
    first = [wsgen.draw_variant(problem, options, seed).params for seed in SEEDS]
    again = [wsgen.draw_variant(problem, options, seed).params for seed in SEEDS]
    assert first == again
    assert len(set(map(repr, first))) > len(first) // 2    # the seeds do change the numbers


def test_mistakes_give_other_answers(problem):
    for seed in SEEDS:
        variant = wsgen.draw_variant(problem, problem.Options(), seed)
        assert variant.mistakes
        for mistake in variant.mistakes:
            for name, value in mistake.values.items():
                assert fractions(value) != fractions(variant.solution.answer(name)), \\
                    f"seed {seed}: {mistake.id} gives the right {name}"
'''
