"""new_problem: the mean squared error of a linear model, its gradient and one descent step.

Written by `wsgen new` as a complete problem that works as written: change the numbers,
the prose and the computation, and keep the shape (docs/authoring.md):

* canonical / generate  the original exam's numbers, or fresh ones from the seeded rng;
* statement             the question: Steps and Parts, nothing of the key;
* compute               the exact results, once, with their working (`Work`);
* solve                 a table of contents: one small function per step, then the answers;
* graph                 a figure: the computational graph with the forward values and the
                        gradients, drawn in every format (keep it, change it or drop it);
* check                 an independent float64 recomputation with NumPy;
* mistakes              what common mistakes give, from the same exact work.

Try it:  wsgen show new_problem --canonical --problems FOLDER
         wsgen stress new_problem --problems FOLDER --corners -n 200
         python -m pytest FOLDER/test_new_problem.py
"""
from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, Graph, GraphEdge, GraphNode, Mistake, NoCanonical, Part, Problem,
                   Redraw, Solution, Step, Vector, as_float, assert_close, assert_close_scaled, eq,
                   exact_matrix, exact_vector, numeric_gradient, option, register, rows,
                   shown_column, shown_difference, shown_dot, shown_product, shown_quotient,
                   shown_square, shown_sum)

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


@dataclass(frozen=True)
class Work:
    """The exact results, each with the arithmetic that gives it (`shown_*`: the key prints
    every factor and term; `.value` is the exact number)."""
    predictions: list       # x_i . w as written
    yhat: Vector
    residuals: list         # yhat_i - y_i as written
    r: Vector
    loss_shown: object
    loss: sp.Rational
    gradient: list          # (2/m) sum_i X_ij r_i as written
    grad: Vector
    update: list            # w_j - eta g_j as written
    w_new: Vector


def compute(params) -> Work:
    X, y, w, eta = rows(params.X), params.y, params.w, params.eta
    m, d = len(y), len(w)
    predictions = [shown_dot(X[i], w) for i in range(m)]
    yhat = Vector(p.value for p in predictions)
    residuals = [shown_difference(yhat[i], y[i]) for i in range(m)]
    r = Vector(e.value for e in residuals)
    loss_shown = shown_quotient(shown_sum(shown_square(e) for e in r), m)
    gradient = [shown_product(sp.Rational(2, m), shown_dot([X[i][j] for i in range(m)], r))
                for j in range(d)]
    grad = Vector(g.value for g in gradient)
    update = [shown_difference(w[j], shown_product(eta, grad[j])) for j in range(d)]
    return Work(predictions, yhat, residuals, r, loss_shown, loss_shown.value, gradient, grad,
                update, Vector(u.value for u in update))


def predictions_step(work: Work) -> Step:
    return Step(title="(a) Predictions",
                text="Each prediction is one row of $X$ times $w$.",
                math=[eq(rf"\hat y_{{{i + 1}}}", p, p.value)
                      for i, p in enumerate(work.predictions)])


def loss_step(work: Work) -> Step:
    return Step(title="(b) The loss",
                text=r"The residuals $\hat y - y$, squared, summed and divided by $m$.",
                math=[eq(r"\hat y - y", shown_column(work.residuals), work.r),
                      eq("L", work.loss_shown, work.loss)])


def gradient_step(work: Work) -> Step:
    return Step(title="(c) The gradient",
                text=r"Differentiate one weight at a time, then read the sum as a matrix "
                     r"product: $X^\top$ is $d \times m$ and $\hat y - y$ is $m \times 1$, so "
                     r"the gradient has the shape of $w$.",
                math=[r"\frac{\partial L}{\partial w_j} = \frac{2}{m} \sum_{i} (\hat y_i - y_i)"
                      r"\, X_{ij}\quad\Rightarrow\quad \nabla_w L = \frac{2}{m} X^\top (\hat y - y)",
                      eq(r"\nabla_w L", shown_column(work.gradient), work.grad)])


def update_step(work: Work) -> Step:
    return Step(title="(d) One gradient-descent step",
                text="Move against the gradient, scaled by the learning rate.",
                math=[eq(r"w - \eta\, \nabla_w L", shown_column(work.update), work.w_new)])


def graph(params, work: Work) -> Graph:
    """The loss as a computational graph: values in the boxes, and the gradient flowing
    back along each edge (∂L/∂ŷ = (2/m)(ŷ − y), then ∇_w L).  A figure is data: the engine
    lays it out and draws it; a question sheet shows only the inputs' values."""
    m = len(params.y)
    return Graph(
        nodes=(GraphNode("X", "X", params.X), GraphNode("w", "w", params.w),
               GraphNode("yhat", r"\hat y", work.yhat), GraphNode("y", "y", params.y),
               GraphNode("L", "L", work.loss)),
        edges=(GraphEdge("X", "yhat"), GraphEdge("w", "yhat", work.grad),
               GraphEdge("yhat", "L", Vector(sp.Rational(2, m) * r for r in work.r)),
               GraphEdge("y", "L")),
        caption="The loss as a computational graph: forward values in the boxes, and in the "
                "answer key the gradient flowing back along each edge (red).")


@register
class NewProblem(Problem):
    id = "new_problem"
    title = "Mean squared error of a linear model and its gradient"

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
        params = Params(X=X, y=y, w=w, eta=sp.Rational(rng.choice(LEARNING_RATES)))
        if not any(compute(params).grad):
            raise Redraw("the gradient is zero: w already minimises the loss")
        return params

    def statement(self, params, options):
        return (
            Step(text=r"A linear model predicts $\hat y = Xw$ for the inputs $X = @X$ (one "
                      r"example per row) with the weights $w = @w$. The targets are $y = @y$ "
                      r"and the loss is the mean squared error "
                      r"$L(w) = \frac{1}{m} \sum_{i=1}^{m} (\hat y_i - y_i)^2$ over the "
                      r"$m = @m$ examples.",
                 values={"X": params.X, "w": params.w, "y": params.y, "m": len(params.y)}),
            Part("(a)", r"Compute the predictions $\hat y$."),
            Part("(b)", r"Compute the loss $L$."),
            Part("(c)", r"Derive the gradient $\nabla_w L$ in matrix form and evaluate it."),
            Part("(d)", r"Take one gradient-descent step with learning rate $\eta = @eta$.",
                 values={"eta": params.eta}),
        )

    def solve(self, params, options):
        work = compute(params)
        return Solution(
            steps=(predictions_step(work), loss_step(work), gradient_step(work),
                   graph(params, work), update_step(work)),
            answers=(Answer("yhat", r"\hat y", work.yhat, part="(a)"),
                     Answer("loss", "L", work.loss, part="(b)"),
                     Answer("grad", r"\nabla_w L", work.grad, part="(c)", points=2),
                     Answer("w_new", r"w - \eta\, \nabla_w L", work.w_new, part="(d)")),
            work=work)

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
        work, w, eta, m = solution.work, params.w, params.eta, len(params.y)
        step = lambda g: Vector(wj - eta * gj for wj, gj in zip(w, g))
        no_mean = Vector(m * g for g in work.grad)
        no_two = Vector(g / 2 for g in work.grad)
        return (
            Mistake("sum_not_mean", "sum, not mean",
                    "the squared residuals summed but not divided by $m$: that is the sum of "
                    "squared errors, $m$ times the mean",
                    {"loss": m * work.loss, "grad": no_mean, "w_new": step(no_mean)}),
            Mistake("no_factor_two", "factor 2 dropped",
                    r"the derivative of $(\hat y_i - y_i)^2$ is $2(\hat y_i - y_i)$: "
                    "without the 2 the gradient is half as long",
                    {"grad": no_two, "w_new": step(no_two)}),
            Mistake("step_uphill", "step along the gradient",
                    r"$w + \eta \nabla_w L$ moves uphill: gradient descent subtracts",
                    {"w_new": Vector(wj + eta * gj for wj, gj in zip(w, work.grad))}),
        )
