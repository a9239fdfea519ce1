"""Triplet loss for face verification: pick the formula, then compute it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from generator import (Answer, Choices, NoCanonical, Problem, Redraw, Solution, Step, Tex, Vector,
                       as_float, assert_close, check_choice, choice_key, exact_vector, option,
                       register, shown_difference, shown_square, shown_sum, shuffle_choices)

_AP = r"\lVert f(A) - f(P) \rVert"
_AN = r"\lVert f(A) - f(N) \rVert"
CORRECT = Tex(rf"L = \max\left({_AP}^2 - {_AN}^2 + \alpha,\ 0\right)")
# Plausible mistakes, each with what is wrong with it (shown in the key).
MISTAKES = (
    (Tex(rf"L = \max\left({_AP}^2 - {_AN}^2,\ 0\right)"),
     "no margin: the loss is already zero once the negative is merely farther than the "
     "positive, so nothing pushes the two apart by $\\alpha$"),
    (Tex(rf"L = {_AP}^2 - {_AN}^2 + \alpha"),
     "no hinge: without the max the loss goes negative and keeps rewarding triplets that "
     "are already separated"),
    (Tex(rf"L = \max\left({_AN}^2 - {_AP}^2 + \alpha,\ 0\right)"),
     "anchor–positive and anchor–negative swapped: it pulls the negative closer and pushes "
     "the positive away"),
    (Tex(rf"L = \max\left({_AP} - {_AN} + \alpha,\ 0\right)"),
     "norms not squared: the triplet loss compares squared distances"),
)


@dataclass(frozen=True)
class Options:
    dim: int = option(2, 2, 4)                          # embedding dimension
    max_abs: float = option(1.0, 0, 10, open_low=True)  # entries in [-max_abs, max_abs]
    places: int = option(1, 1, 2)                       # decimals of each entry


@dataclass(frozen=True)
class Params:
    A: Vector
    P: Vector
    N: Vector
    alpha: sp.Rational
    options: Choices


def _squared_distance(u, v):
    return shown_sum(shown_square(shown_difference(a, b)) for a, b in zip(u, v))


@register
class TripletLoss(Problem):
    id = "triplet_loss"
    title = "Triplet loss for face verification"
    Options = Options
    Params = Params

    def canonical(self, options):
        if options.dim != 2:
            raise NoCanonical("the canonical variant has dim = 2")
        order = (MISTAKES[0][0], CORRECT, MISTAKES[2][0], MISTAKES[3][0])
        return Params(A=exact_vector(("1", "0")), P=exact_vector(("0.8", "0.2")),
                      N=exact_vector(("0.7", "0.4")),
                      alpha=sp.Rational("0.2"), options=Choices(order))

    def generate(self, rng, options):
        draw = lambda: exact_vector(rng.decimals(options.dim, -options.max_abs, options.max_abs,
                                                 options.places, nonzero=False))
        A, P, N = draw(), draw(), draw()
        alpha = sp.Rational(rng.choice(("0.1", "0.2", "0.3", "0.5")))
        if len({A, P, N}) < 3:
            raise Redraw("two embeddings coincide")
        d_ap = sum((a - p) ** 2 for a, p in zip(A, P))
        d_an = sum((a - n) ** 2 for a, n in zip(A, N))
        if d_ap - d_an + alpha == 0:
            raise Redraw("hinge exactly at its kink")
        choices, _, _ = shuffle_choices(rng, CORRECT, [m for m, _ in MISTAKES])
        return Params(A=A, P=P, N=N, alpha=alpha, options=choices)

    def statement(self, params, options):
        return (
            Step(text="A face-verification network maps an image $x$ to an embedding $f(x)$. "
                      "It is trained on triplets: an anchor $A$, a positive $P$ (same person) "
                      "and a negative $N$ (another person), with a margin $\\alpha > 0$."),
            Step(text="(a) Which of these is the triplet loss of one triplet?",
                 choices=params.options),
            Step(text="(b) Given the embeddings $f(A) = @A$, $f(P) = @P$, $f(N) = @N$ and "
                      "margin $\\alpha = @alpha$, compute $\\lVert f(A) - f(P) \\rVert^2$, "
                      "$\\lVert f(A) - f(N) \\rVert^2$ and the loss $L$. Is the hinge active?",
                 values={"A": params.A, "P": params.P, "N": params.N, "alpha": params.alpha}),
        )

    def solve(self, params, options):
        key = choice_key(params.options, CORRECT, MISTAKES)
        ap, an = _squared_distance(params.A, params.P), _squared_distance(params.A, params.N)
        d_ap, d_an = ap.value, an.value
        inner = shown_sum([d_ap, -d_an, params.alpha])
        margin = inner.value
        loss = max(margin, sp.Integer(0))
        if margin > 0:
            verdict = ("The hinge is active: the negative is not farther from the anchor than the "
                       "positive by at least the margin, so $L = @inner > 0$ and the triplet "
                       "contributes a gradient.")
        else:
            verdict = ("The hinge is inactive: the negative is already farther from the anchor "
                       "than the positive by more than the margin, so $L = 0$ and the triplet "
                       "contributes no gradient.")
        steps = (
            Step(title="(a) The formula",
                 text=f"Option {key.letter} is correct: the anchor–positive squared distance minus "
                      "the anchor–negative squared distance plus the margin, cut at zero.\n\n"
                      + key.reasons(),
                 math=(CORRECT,)),
            Step(title="(b) Squared distances",
                 math=(rf"{_AP}^2 = @ap = @d_ap", rf"{_AN}^2 = @an = @d_an"),
                 values={"ap": ap, "an": an, "d_ap": d_ap, "d_an": d_an}),
            Step(title="(b) The loss",
                 text=verdict,
                 math=(rf"{_AP}^2 - {_AN}^2 + \alpha = @innershown = @inner",
                       r"L = \max\left(@inner,\ 0\right) = @loss"),
                 values={"innershown": inner, "inner": margin, "loss": loss}),
        )
        return Solution(steps=steps, answers=(
            Answer("choice", r"\text{correct option (0-based)}", sp.Integer(key.index)),
            Answer("d_ap", rf"{_AP}^2", d_ap), Answer("d_an", rf"{_AN}^2", d_an),
            Answer("loss", "L", loss)))

    def check(self, params, options, solution):
        A, P, N = as_float(params.A), as_float(params.P), as_float(params.N)
        d_ap, d_an = float(np.sum((A - P) ** 2)), float(np.sum((A - N) ** 2))
        assert_close("d_ap", solution.answer("d_ap"), d_ap)
        assert_close("d_an", solution.answer("d_an"), d_an)
        assert_close("loss", solution.answer("loss"), max(d_ap - d_an + float(params.alpha), 0.0))
        check_choice(params.options, int(solution.answer("choice")), CORRECT)
