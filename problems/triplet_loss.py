"""Triplet loss for face verification: pick the formula, then compute it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, Choices, Mistake, NoCanonical, Part, Problem, Redraw, Solution, Step,
                   Tex, Vector, as_float, assert_close, derive_once, eq, exact_vector, line,
                   option, register, require_decimals, shown_difference, shown_square,
                   shown_sum, shuffle_choices, verified)

_AP = r"\lVert f(A) - f(P) \rVert"
_AN = r"\lVert f(A) - f(N) \rVert"
CORRECT = Tex(rf"L = \max\left({_AP}^2 - {_AN}^2 + \alpha,\ 0\right)")
NO_MARGIN = Tex(rf"L = \max\left({_AP}^2 - {_AN}^2,\ 0\right)")
NO_HINGE = Tex(rf"L = {_AP}^2 - {_AN}^2 + \alpha")
SWAPPED = Tex(rf"L = \max\left({_AN}^2 - {_AP}^2 + \alpha,\ 0\right)")
NOT_SQUARED = Tex(rf"L = \max\left({_AP} - {_AN} + \alpha,\ 0\right)")
# The distractors, in the order the random draw picks from (changing it changes every variant).
DISTRACTORS = (NO_MARGIN, NO_HINGE, SWAPPED, NOT_SQUARED)


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


#: The formulas SymPy verifies for every embedding dimension (see `formulas`).
DERIVED = ("‖f(A) − f(P)‖²", "‖f(A) − f(N)‖²", "hinge argument", "L = max(·, 0)")


def _squared_distance(u, v):
    return shown_sum(shown_square(shown_difference(a, b)) for a, b in zip(u, v))


def _hinge_argument(d_ap, d_an, alpha):
    """‖f(A) − f(P)‖² − ‖f(A) − f(N)‖² + α, as the key writes it out."""
    return shown_sum([d_ap, -d_an, alpha])


def hinge(u):
    """max(u, 0) of an exact number."""
    return max(u, sp.Integer(0))


def formulas(dim: int) -> dict:
    """The key's sums for dim-dimensional embeddings, with symbolic entries, verified equal to
    the triplet loss's definition from SymPy matrix expressions:
    L = max((A − P)ᵀ(A − P) − (A − N)ᵀ(A − N) + α, 0)."""
    A, P, N = (sp.MatrixSymbol(name, dim, 1) for name in ("A", "P", "N"))
    alpha = sp.Symbol("alpha", positive=True)
    d_ap, d_an = (A - P).T * (A - P), (A - N).T * (A - N)
    entries = lambda M: list(sp.ImmutableMatrix(M.as_explicit()))
    ap = verified(d_ap[0, 0], _squared_distance(entries(A), entries(P)).value,
                  name="‖f(A) − f(P)‖²")
    an = verified(d_an[0, 0], _squared_distance(entries(A), entries(N)).value,
                  name="‖f(A) − f(N)‖²")
    inner = verified(d_ap[0, 0] - d_an[0, 0] + alpha, _hinge_argument(ap, an, alpha).value,
                     name="hinge argument")
    u = sp.Symbol("u", real=True)
    points = [sp.Integer(v) for v in (-1, 0, 1)] + [sp.Rational(-1, 10), sp.Rational(3, 10)]
    verified(sp.Matrix([sp.Max(u, 0).subs(u, v) for v in points]),
             sp.Matrix([hinge(v) for v in points]), name="L = max(·, 0)")
    return {"inner": inner}


def _unsquared_hinge(d_ap, d_an, alpha):
    """max(√d_ap − √d_an + α, 0), the sign decided exactly in rationals:
    √a + α > √b  ⇔  2α√a > b − a − α²  ⇔  (b − a − α² < 0) or 4α²a > (b − a − α²)²."""
    rest = d_an - d_ap - alpha ** 2
    if rest < 0 or 4 * alpha ** 2 * d_ap > rest ** 2:
        return shown_sum([sp.sqrt(d_ap), -sp.sqrt(d_an), alpha])
    return sp.Integer(0)


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, with their working (shared by the steps, the
    answers and the mistakes)."""
    dim: int
    ap: object            # ‖f(A) − f(P)‖² as written
    an: object            # ‖f(A) − f(N)‖² as written
    d_ap: sp.Rational
    d_an: sp.Rational
    inner: object         # the hinge argument as written
    margin: sp.Rational
    loss: sp.Rational


def compute(params) -> Work:
    ap, an = _squared_distance(params.A, params.P), _squared_distance(params.A, params.N)
    inner = _hinge_argument(ap.value, an.value, params.alpha)
    return Work(dim=len(params.A), ap=ap, an=an, d_ap=ap.value, d_an=an.value, inner=inner,
                margin=inner.value, loss=hinge(inner.value))


def the_formula() -> Step:
    return Step(
        title="(a) The formula",
        text="The anchor–positive squared distance minus the anchor–negative squared "
             "distance plus the margin, cut at zero.",
        math=(CORRECT,))


def squared_distances(w: Work) -> Step:
    return Step(
        title="(b) Squared distances",
        math=(eq(rf"{_AP}^2", w.ap, w.d_ap), eq(rf"{_AN}^2", w.an, w.d_an)))


def the_loss(w: Work) -> Step:
    if w.margin > 0:
        verdict = ("The hinge is active: the negative is not farther from the anchor than the "
                   "positive by at least the margin, so $L = @margin > 0$ and the triplet "
                   "contributes a gradient.")
    else:
        verdict = ("The hinge is inactive: the negative is already farther from the anchor "
                   "than the positive by more than the margin, so $L = 0$ and the triplet "
                   "contributes no gradient.")
    return Step(
        title="(b) The loss",
        text=verdict,
        math=(eq(rf"{_AP}^2 - {_AN}^2 + \alpha", w.inner, w.margin),
              eq(line(r"L = \max\left(", w.margin, r",\ 0\right)"), w.loss)),
        values={"margin": w.margin},
        substeps=(Step(text="SymPy verifies the sums written out here, for symbolic "
                            f"embeddings of dimension ${w.dim}$, against the definition of $L$ "
                            "with the squared distances as matrix products "
                            "$\\bigl(f(A) - f(P)\\bigr)^\\top \\bigl(f(A) - f(P)\\bigr)$.",
                       audience="instructor"),))


@register
class TripletLoss(Problem):
    id = "triplet_loss"
    title = "Triplet loss for face verification"

    def validate_options(self, options):
        require_decimals("max_abs", options.max_abs, options.places)

    def canonical(self, options):
        if options.dim != 2:
            raise NoCanonical("the canonical variant has dim = 2")
        order = (NO_MARGIN, CORRECT, SWAPPED, NOT_SQUARED)
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
        choices, _, _ = shuffle_choices(rng, CORRECT, DISTRACTORS)
        return Params(A=A, P=P, N=N, alpha=alpha, options=choices)

    def statement(self, params, options):
        return (
            Step(text="A face-verification network maps an image $x$ to an embedding $f(x)$. "
                      "It is trained on triplets: an anchor $A$, a positive $P$ (same person) "
                      "and a negative $N$ (another person), with a margin $\\alpha > 0$."),
            Part("(a)", "Which of these is the triplet loss of one triplet?"),
            Part("(b)", text="Given the embeddings $f(A) = @A$, $f(P) = @P$, $f(N) = @N$ and "
                      "margin $\\alpha = @alpha$, compute $\\lVert f(A) - f(P) \\rVert^2$, "
                      "$\\lVert f(A) - f(N) \\rVert^2$ and the loss $L$. Is the hinge active?",
                 values={"A": params.A, "P": params.P, "N": params.N, "alpha": params.alpha}),
        )

    def solve(self, params, options):
        work = compute(params)
        derive_once((self.id, work.dim), lambda: formulas(work.dim))
        return Solution(
            steps=(the_formula(), squared_distances(work), the_loss(work)),
            answers=(Answer("formula", r"\text{triplet loss}", CORRECT,
                            choices=params.options.options, part="(a)"),
                     Answer("d_ap", rf"{_AP}^2", work.d_ap, part="(b)", constraints="nonnegative"),
                     Answer("d_an", rf"{_AN}^2", work.d_an, part="(b)", constraints="nonnegative"),
                     Answer("loss", "L", work.loss, part="(b)", points=2,
                            constraints="nonnegative")),
            work=work)

    follows = {"loss": ("d_ap", "d_an")}

    def follow_through(self, params, given):
        """The loss from the student's two distances."""
        return {"loss": max(given["d_ap"] - given["d_an"] + params.alpha, 0.0)}

    def mistakes(self, params, options, solution):
        d_ap, d_an, alpha = solution.work.d_ap, solution.work.d_an, params.alpha
        unsquared = _unsquared_hinge(d_ap, d_an, alpha)
        return (
            Mistake("no_margin", "no margin",
                    "the loss is already zero once the negative is merely farther than "
                    "the positive, so nothing pushes the two apart by $\\alpha$",
                    {"formula": NO_MARGIN, "loss": max(d_ap - d_an, sp.Integer(0))}),
            Mistake("no_hinge", "no hinge",
                    "without the max the loss goes negative and keeps rewarding "
                    "triplets that are already separated",
                    {"formula": NO_HINGE, "loss": d_ap - d_an + alpha}),
            Mistake("swapped_positive_negative", "positive and negative swapped",
                    "it pulls the negative closer "
                    "and pushes the positive away",
                    {"formula": SWAPPED, "loss": max(d_an - d_ap + alpha, sp.Integer(0))}),
            Mistake("norms_not_squared", "norms not squared",
                    "the triplet loss compares squared distances",
                    {"formula": NOT_SQUARED, "loss": unsquared}),
        )

    def check(self, params, options, solution):
        A, P, N = as_float(params.A), as_float(params.P), as_float(params.N)
        d_ap, d_an = float(np.sum((A - P) ** 2)), float(np.sum((A - N) ** 2))
        assert_close("d_ap", solution.answer("d_ap"), d_ap)
        assert_close("d_an", solution.answer("d_an"), d_an)
        assert_close("loss", solution.answer("loss"), max(d_ap - d_an + float(params.alpha), 0.0))
