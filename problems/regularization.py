"""L2 regularization: what it is for, and one regularized gradient step (weight decay)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, CheckFailed, Expression, Mistake, NoCanonical, Part, Problem, Redraw, Solution,
                   Step, approx, as_float, assert_close, derive_once, derived, eq, exact_matrix,
                   line, numeric_gradient, option, register, rows, shown_difference,
                   shown_matrix, shown_product, shown_square, shown_sum, verified)

#: The formulas SymPy derives or verifies for every shape (see `formulas`).
DERIVED = ("dP/dW", "dP/dW_ij", "penalty gradient coefficient", "decay factor",
           "weight-decay form")


# The coefficients the key computes with; `formulas` checks them against SymPy.
def gradient_coefficient(lam, m):
    """∂/∂W of (λ/(2m))‖W‖²_F is (λ/m)·W: the coefficient λ/m."""
    return lam / m


def decay_factor(alpha, lam, m):
    """W − α(dW + (λ/m)W) = (1 − αλ/m)W − α dW: the factor 1 − αλ/m."""
    return 1 - alpha * lam / m


def formulas(rows: int, cols: int) -> dict:
    """The penalty's gradient by SymPy's matrix calculus, checked entry by entry with
    symbolic entries of a rows × cols W, and the weight-decay factor read off the update."""
    lam, m, alpha = sp.symbols("lambda m alpha", positive=True)
    W, dW = sp.MatrixSymbol("W", rows, cols), sp.MatrixSymbol("dW", rows, cols)
    penalty = lam / (2 * m) * sp.trace(W.T * W)
    grad = derived(penalty.diff(W), name="dP/dW")                 # (λ/m) W
    We, dWe = sp.Matrix(W.as_explicit()), sp.Matrix(dW.as_explicit())
    penalty_entries = lam / (2 * m) * sum(w ** 2 for w in We)     # (λ/2m) Σ W_ij²
    by_entry = sp.Matrix(rows, cols, lambda i, j: sp.diff(penalty_entries, We[i, j]))
    verified(grad, by_entry, name="dP/dW_ij")
    verified(grad, gradient_coefficient(lam, m) * W, name="penalty gradient coefficient")
    update = We - alpha * (dWe + by_entry)                        # W − α(dW + ∂P/∂W)
    decay = derived(sp.diff(update[0, 0], We[0, 0]), name="decay factor")
    verified(sp.Matrix(rows, cols, lambda i, j: sp.diff(update[i, j], We[i, j])),
             sp.Matrix(rows, cols, lambda i, j: decay_factor(alpha, lam, m)), name="decay factor")
    verified(update, decay * We - alpha * dWe, name="weight-decay form")
    return {"grad": grad, "decay": decay}


@dataclass(frozen=True)
class Options:
    rows: int = option(2, 1, 4)
    cols: int = option(2, 1, 4)
    digits: int = option(4, 2, 12)   # significant digits of rounded decimals in the key


@dataclass(frozen=True)
class Params:
    W: sp.ImmutableMatrix
    dW: sp.ImmutableMatrix
    lambd: sp.Rational
    m: sp.Integer
    alpha: sp.Rational


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, with their working (shared by the steps, the
    answers and the mistakes)."""
    norm_sum: object        # Σ W_ij² as written
    factor: sp.Rational     # λ/(2m)
    penalty: sp.Rational
    reg: sp.Rational        # λ/m
    dW_reg_shown: object    # dW + (λ/m) W, entry by entry
    dW_reg: sp.ImmutableMatrix
    decay: sp.Rational      # 1 − αλ/m
    W_new_shown: object     # W − α dW_reg, entry by entry
    W_new: sp.ImmutableMatrix


def compute(p: Params) -> Work:
    norm_sum = shown_sum(shown_square(w) for w in p.W)
    factor, reg = p.lambd / (2 * p.m), gradient_coefficient(p.lambd, p.m)
    dW_reg_shown = shown_matrix([[shown_sum([g, shown_product(reg, w)]) for g, w in zip(gr, wr)]
                                 for gr, wr in zip(rows(p.dW), rows(p.W))])
    dW_reg = dW_reg_shown.value
    decay = decay_factor(p.alpha, p.lambd, p.m)
    pairs = list(zip(p.W, p.dW, dW_reg))          # entries, row by row
    # the weight-decay identity, checked exactly entry by entry
    if any(decay * w - p.alpha * d != w - p.alpha * g for w, d, g in pairs):
        raise CheckFailed("weight-decay form disagrees with the regularized update")
    W_new_shown = shown_matrix([[shown_difference(w, shown_product(p.alpha, g))
                                 for w, g in zip(wr, gr)]
                                for wr, gr in zip(rows(p.W), rows(dW_reg))])
    W_new = sp.ImmutableMatrix(p.W.rows, p.W.cols, [w - p.alpha * g for w, _, g in pairs])
    return Work(norm_sum=norm_sum, factor=factor, penalty=factor * norm_sum.value, reg=reg,
                dW_reg_shown=dW_reg_shown, dW_reg=dW_reg, decay=decay, W_new_shown=W_new_shown,
                W_new=W_new)


def purpose() -> Step:
    return Step(
        title="(a) Purpose",
        text="L2 regularization reduces overfitting (high variance): it adds "
             "$\\frac{\\lambda}{2m}\\sum_l \\lVert W^{[l]} \\rVert_F^2$ to the cost, so "
             "the network is penalised for large weights and fits the training set's "
             "noise less.")


def effect() -> Step:
    return Step(
        title="(b) Effect on the weights",
        text="It shrinks the weights towards zero at every step. Smaller weights keep "
             "each unit's input $z$ small, so the network behaves closer to linear and "
             "its decision function is simpler and smoother: it cannot bend to fit "
             "individual noisy examples, so it generalises better.")


def penalty(p: Params, w: Work, digits: int) -> Step:
    return Step(
        title="(c) Penalty",
        math=(eq(line(r"\frac{\lambda}{2m}\lVert W \rVert_F^2 = \frac{", p.lambd, r"}{2 \cdot ",
                      p.m, r"}\Bigl(", w.norm_sum, r"\Bigr)"),
                 line(w.factor, r" \cdot ", w.norm_sum.value), approx(w.penalty, digits)),))


def regularized_gradient(p: Params, w: Work, facts: dict, digits: int) -> Step:
    return Step(
        title="(c) Regularized gradient",
        text="Differentiating the penalty adds $@grad$ to the gradient of the data "
             "loss (SymPy's matrix calculus, verified entry by entry: "
             "$\\frac{\\partial}{\\partial W_{ij}} \\frac{\\lambda}{2m} \\sum_{k,l} W_{kl}^2 "
             "= \\frac{\\lambda}{m} W_{ij}$).",
        math=(eq("dW_{reg}", line("dW + ", facts["grad"])) + r",\qquad "
              + eq(r"\frac{\lambda}{m}", line(r"\frac{", p.lambd, "}{", p.m, "}"), w.reg),
              eq("dW_{reg}", w.dW_reg_shown, approx(w.dW_reg, digits))),
        values={"grad": facts["grad"]})


def update(w: Work, digits: int) -> Step:
    return Step(
        title="(c) Update",
        math=(eq(r"W := W - \alpha\, dW_{reg}", w.W_new_shown, approx(w.W_new, digits)),))


def weight_decay(p: Params, w: Work, facts: dict, digits: int) -> Step:
    decay = facts["decay"]
    return Step(
        title="(c) Weight decay",
        text="Expanding the update shows the decay factor: $W$ is first multiplied by "
             "$@decay$, then the usual step is taken. Both forms give the same "
             "matrix (SymPy reads the factor off the update, entry by entry).",
        math=(eq(line(r"W - \alpha\Bigl(dW + ", facts["grad"], r"\Bigr)"),
                 line(r"\Bigl(", decay, r"\Bigr) W - \alpha\, dW")),
              eq(decay, line(r"1 - \frac{", p.alpha, r" \cdot ", p.lambd, "}{", p.m, "}"),
                 approx(w.decay, digits)),
              eq(line(approx(w.decay, digits), r" \cdot ", p.W, " - ", p.alpha, r" \cdot ", p.dW),
                 approx(w.W_new, digits))),
        values={"decay": decay})


def gradient_formula(params, text: str) -> Expression:
    """A formula (core/formula.py) in dW and W (the layer's shape), with λ and m the
    numbers given."""
    shape = (params.W.rows, params.W.cols)
    return Expression(text, {"dW": shape, "W": shape},
                      {"lambda": str(params.lambd), "m": str(params.m)}, {"dW": "dW"})


@register
class Regularization(Problem):
    id = "regularization"
    title = "L2 regularization and weight decay"

    def canonical(self, options):
        if (options.rows, options.cols) != (2, 2):
            raise NoCanonical("the canonical variant is 2×2")
        return Params(W=exact_matrix([["0.5", "-1"], ["2", "0"]]),
                      dW=exact_matrix([["0.1", "0.2"], ["-0.3", "0.4"]]),
                      lambd=sp.Rational("0.5"), m=sp.Integer(10), alpha=sp.Rational("0.1"))

    def generate(self, rng, options):
        shape = (options.rows, options.cols)
        size = shape[0] * shape[1]
        W = exact_matrix(rng.decimals(size, -2, 2, 1, False), shape)
        dW = exact_matrix(rng.decimals(size, -1, 1, 1, False), shape)
        if not any(W):
            raise Redraw("W = 0 has no penalty")
        return Params(W=W, dW=dW, lambd=sp.Rational(rng.choice(("0.1", "0.5", "1", "2", "5"))),
                      m=sp.Integer(rng.choice((5, 10, 20, 50, 100))),
                      alpha=sp.Rational(rng.choice(("0.01", "0.05", "0.1", "0.5"))))

    def statement(self, params, options):
        return (
            Part("(a)", "What is L2 regularization for?"),
            Part("(b)", "What does it do to the weights, and why does that help?"),
            Part("(c)", text="A layer has weights $W = @W$. Back-propagation of the data loss "
                      "gives $dW = @dW$. With regularization strength $\\lambda = @lambd$, $m = @m$ "
                      "training examples and learning rate $\\alpha = @alpha$, compute the "
                      "penalty $\\frac{\\lambda}{2m}\\lVert W \\rVert_F^2$, the regularized "
                      "gradient, and the updated weights. Show that the update multiplies $W$ by "
                      "a constant factor before the usual step (\"weight decay\"), and give it. "
                      "Give the regularized gradient as a formula in $dW$, $W$, $\\lambda$ and "
                      "$m$ too (a third of the points).",
                 values={"W": params.W, "dW": params.dW, "lambd": params.lambd, "m": params.m,
                         "alpha": params.alpha}),
        )

    def solve(self, params, options):
        W, digits = params.W, options.digits
        facts = derive_once((self.id, W.rows, W.cols), lambda: formulas(W.rows, W.cols))
        work = compute(params)
        return Solution(
            steps=(purpose(), effect(), penalty(params, work, digits),
                   regularized_gradient(params, work, facts, digits), update(work, digits),
                   weight_decay(params, work, facts, digits)),
            answers=(Answer("penalty", r"\frac{\lambda}{2m}\lVert W \rVert_F^2", work.penalty,
                            digits, part="(c)", constraints="nonnegative"),
                     Answer("dW_reg_formula", "dW_{reg}",
                            gradient_formula(params, "dW + lambda/m*W"), part="(c)", points=2),
                     Answer("dW_reg", "dW_{reg}", work.dW_reg, digits, part="(c)"),
                     Answer("W_new", "W_{new}", work.W_new, digits, part="(c)"),
                     Answer("decay", r"1 - \frac{\alpha\lambda}{m}", work.decay, digits,
                            part="(c)")),
            work=work)

    follows = {"W_new": ("dW_reg",)}

    def follow_through(self, params, given):
        """The step from the student's regularized gradient."""
        return {"W_new": params.W - params.alpha * given["dW_reg"]}

    def mistakes(self, params, options, solution):
        W, dW, lam, m, alpha = params.W, params.dW, params.lambd, params.m, params.alpha

        # Entry by entry on lists of exact rationals: SymPy's matrix arithmetic is far slower.
        Wl, dWl = rows(W), rows(dW)
        entrywise = lambda f: sp.ImmutableMatrix([[f(w, g) for w, g in zip(wr, gr)]
                                                  for wr, gr in zip(Wl, dWl)])

        def with_term(coefficient):
            """dW_reg = dW + coefficient·W and what follows from it."""
            grad = entrywise(lambda w, g: g + coefficient * w)
            return {"dW_reg": grad,
                    "W_new": entrywise(lambda w, g: w - alpha * (g + coefficient * w)),
                    "decay": 1 - alpha * coefficient}

        wrong_decay = 1 + alpha * lam / m
        return (
            Mistake("lambda_over_2m_in_gradient", "λ/(2m) kept in the gradient",
                    "$\\frac{\\lambda}{2m} W$ added to the gradient: differentiating "
                    "$\\frac{\\lambda}{2m}\\lVert W \\rVert_F^2$ brings down a factor $2$, "
                    "so the term is $\\frac{\\lambda}{m} W$",
                    {**with_term(lam / (2 * m)),
                     "dW_reg_formula": gradient_formula(params, "dW + lambda/(2*m)*W")}),
            Mistake("missing_lambda_over_m", "penalty left out of the gradient",
                    "the gradient of the data loss alone: the penalty is part of the cost, so "
                    "its gradient $\\frac{\\lambda}{m} W$ must be added to $dW$",
                    {**with_term(sp.Integer(0)), "dW_reg_formula": gradient_formula(params, "dW")}),
            Mistake("decay_sign", "decay factor above 1",
                    "$W$ multiplied by $1 + \\frac{\\alpha\\lambda}{m}$: the step subtracts "
                    "$\\alpha\\frac{\\lambda}{m} W$, so the weights shrink by "
                    "$1 - \\frac{\\alpha\\lambda}{m}$",
                    {"decay": wrong_decay,
                     "W_new": entrywise(lambda w, g: wrong_decay * w - alpha * g)}),
        )

    def check(self, params, options, solution):
        W, dW = as_float(params.W), as_float(params.dW)
        lam, m, alpha = float(params.lambd), float(params.m), float(params.alpha)
        penalty = lambda w: lam / (2 * m) * float(np.sum(w ** 2))
        assert_close("penalty", solution.answer("penalty"), penalty(W))
        # The regularized gradient in closed form, dW + (λ/m)·W, in float64: every entry is of
        # order one (|W| ≤ 2, |dW| ≤ 1, λ/m ≤ 1), so its rounding error is below 1e-14 in
        # absolute terms, and an entry that cancels to (nearly) zero is held to that bound.
        dW_reg = dW + (lam / m) * W
        tight = {"rtol": 1e-9, "atol": 1e-12}
        assert_close("dW_reg", solution.answer("dW_reg"), dW_reg, **tight)
        assert_close("W_new", solution.answer("W_new"), W - alpha * dW_reg, **tight)
        assert_close("decay", solution.answer("decay"), 1 - alpha * lam / m, **tight)
        # The penalty's gradient by finite differences, a formula-free check of the factor
        # λ/m: the penalty is quadratic, so central differences only carry the rounding of
        # the penalty (below 1e-14) divided by the step.
        fd = dW + numeric_gradient(penalty, W, h=1e-3)
        assert_close("dW_reg", solution.answer("dW_reg"), fd, rtol=1e-6, atol=1e-9)
