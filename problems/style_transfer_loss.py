"""Neural style transfer: pick the cost, then compute J_content, the Gram matrices and J_style."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, Choices, Mistake, NoCanonical, Part, Problem, Redraw, Solution, Step,
                   Tex, approx, as_float, assert_close, derive_once, eq, exact_matrix, line,
                   option, register, rows, shown_difference, shown_dot, shown_matrix,
                   shown_product, shown_square, shown_sum, shuffle_choices, verified)

_JC = r"\frac{1}{4 n_H n_W n_C} \sum_{k,p} \bigl(a^{(%s)}_{kp} - a^{(G)}_{kp}\bigr)^2"
_JS = r"\frac{1}{4 n_C^2 (n_H n_W)^2} \sum_{k,k'} \bigl(%s^{(%s)}_{kk'} - %s^{(G)}_{kk'}\bigr)^2"
CORRECT = Tex(r"J(G) = \alpha\, " + _JC % "C" + r" + \beta\, " + _JS % ("\\mathcal{G}", "S", "\\mathcal{G}"))
SWAPPED = Tex(r"J(G) = \alpha\, " + _JC % "S" + r" + \beta\, " + _JS % ("\\mathcal{G}", "C", "\\mathcal{G}"))
RAW = Tex(r"J(G) = \alpha\, " + _JC % "C" + r" + \beta\, " + _JS % ("a", "S", "a"))
SIGN = Tex(r"J(G) = \alpha\, " + _JC % "C" + r" - \beta\, " + _JS % ("\\mathcal{G}", "S", "\\mathcal{G}"))
# The distractors, in the order the random draw picks from (changing it changes every variant).
DISTRACTORS = (SWAPPED, RAW, SIGN)


@dataclass(frozen=True)
class Options:
    n_C: int = option(2, 1, 4)       # channels
    n_H: int = option(1, 1, 3)       # height
    n_W: int = option(3, 1, 4)       # width
    places: int = option(1, 1, 2)    # decimals of each activation, drawn from [0, 1]


@dataclass(frozen=True)
class Params:
    a_C: sp.ImmutableMatrix     # n_C × (n_H n_W), one row per channel
    a_S: sp.ImmutableMatrix
    a_G: sp.ImmutableMatrix
    alpha: sp.Integer
    beta: sp.Integer
    options: Choices


def _gram(a: sp.ImmutableMatrix):
    rows = a.tolist()
    return shown_matrix([[shown_dot(r, s) for s in rows] for r in rows])


def _sum_sq_diff(x: sp.ImmutableMatrix, y: sp.ImmutableMatrix):
    return shown_sum(shown_square(shown_difference(p, q)) for p, q in zip(x, y))


#: The formulas SymPy verifies for every shape (see `formulas`).
DERIVED = ("J_content", "Gram matrix", "J_style", "J(G)")


def content_norm(n_C, n_H, n_W):
    """The factor 1 / (4 n_H n_W n_C) of the content cost."""
    return sp.Rational(1, 4 * n_H * n_W * n_C)


def style_norm(n_C, n_H, n_W):
    """The factor 1 / (4 n_C² (n_H n_W)²) of the style cost."""
    return sp.Rational(1, 4 * n_C ** 2 * (n_H * n_W) ** 2)


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, written out as the key shows them (shared by the
    steps, the answers and the mistakes; `formulas` builds it from symbolic activations)."""
    n_C: int
    n_H: int
    n_W: int
    content_sum: object     # Σ (a^(C) − a^(G))², term by term
    content: object         # the factor times that sum
    gram_S: object          # a aᵀ, entry by entry
    gram_G: object
    style_sum: object       # Σ (𝒢^(S) − 𝒢^(G))², term by term
    style: object
    total: object           # α J_content + β J_style


def costs(a_C, a_S, a_G, alpha, beta, n_C, n_H, n_W) -> Work:
    """The key's computation, written out as it is shown (used by `solve`, and by
    `formulas` with symbolic activations)."""
    content_sum = _sum_sq_diff(a_C, a_G)
    content = shown_product(content_norm(n_C, n_H, n_W), content_sum.value)
    gram_S, gram_G = _gram(a_S), _gram(a_G)
    style_sum = _sum_sq_diff(gram_S.value, gram_G.value)
    style = shown_product(style_norm(n_C, n_H, n_W), style_sum.value)
    total = shown_sum([shown_product(alpha, content.value), shown_product(beta, style.value)])
    return Work(n_C=n_C, n_H=n_H, n_W=n_W, content_sum=content_sum, content=content,
                gram_S=gram_S, gram_G=gram_G, style_sum=style_sum, style=style, total=total)


def formulas(n_C: int, n_H: int, n_W: int) -> dict:
    """The key's sums for this shape, with symbolic activations, verified equal to the costs'
    definitions from SymPy matrix expressions: 𝒢 = a aᵀ, ‖X‖²_F = tr(X Xᵀ)."""
    shape = (n_C, n_H * n_W)
    a_C, a_S, a_G = (sp.MatrixSymbol(name, *shape) for name in ("a_C", "a_S", "a_G"))
    # the style cost is checked on symbolic Gram matrices (the Gram matrices themselves are
    # checked separately): the same identity, without expanding polynomials of degree 4
    G_S, G_G = (sp.MatrixSymbol(name, n_C, n_C) for name in ("G_S", "G_G"))
    alpha, beta = sp.symbols("alpha beta", positive=True)
    frob = lambda X: sp.trace(X * X.T)
    gram = lambda a: a * a.T
    J_content = sp.Rational(1, 4 * n_H * n_W * n_C) * frob(a_C - a_G)
    J_style = sp.Rational(1, 4 * n_C ** 2 * (n_H * n_W) ** 2) * frob(G_S - G_G)
    J = alpha * J_content + beta * J_style
    explicit = lambda M: sp.ImmutableMatrix(M.as_explicit())
    symbols = (a_C, a_S, a_G, G_S, G_G)
    explicit_of = lambda e: e.xreplace({M: explicit(M) for M in symbols}).doit()
    key = costs(explicit(a_C), explicit(a_S), explicit(a_G), alpha, beta, n_C, n_H, n_W)
    verified(explicit_of(J_content), key.content.value, name="J_content")
    verified(gram(a_S), key.gram_S.value, name="Gram matrix")
    verified(gram(a_G), key.gram_G.value, name="Gram matrix")
    style_sum = _sum_sq_diff(explicit(G_S), explicit(G_G)).value
    verified(explicit_of(J_style), shown_product(style_norm(n_C, n_H, n_W), style_sum).value,
             name="J_style")
    verified(explicit_of(J), alpha * key.content.value
             + beta * shown_product(style_norm(n_C, n_H, n_W), style_sum).value, name="J(G)")
    return {}


def the_cost() -> Step:
    return Step(
        title="(a) The cost",
        text="$\\alpha$ weighs the content cost between $C$ and $G$, $\\beta$ the style "
             "cost between the Gram matrices of $S$ and $G$, and both are added.",
        math=(CORRECT,))


def content_cost(w: Work) -> Step:
    factor = r"\frac{1}{4 \cdot %d \cdot %d \cdot %d}" % (w.n_H, w.n_W, w.n_C)
    return Step(
        title="(b) Content cost",
        math=(eq(line(r"J_{\mathrm{content}} = " + factor + r"\Bigl(", w.content_sum, r"\Bigr)"),
                 w.content, approx(w.content.value)),))


def gram_matrices(w: Work) -> Step:
    return Step(
        title="(b) Gram matrices",
        text="Entry $(k, k')$ of $\\mathcal{G} = a\\,a^\\top$ is the dot product of "
             "channels $k$ and $k'$.",
        math=(eq(r"\mathcal{G}^{(S)}", w.gram_S, w.gram_S.value),
              eq(r"\mathcal{G}^{(G)}", w.gram_G, w.gram_G.value)))


def style_cost(w: Work) -> Step:
    factor = r"\frac{1}{4 \cdot %d^2 \cdot (%d \cdot %d)^2}" % (w.n_C, w.n_H, w.n_W)
    return Step(
        title="(b) Style cost",
        math=(eq(line(r"J_{\mathrm{style}} = " + factor + r"\Bigl(", w.style_sum, r"\Bigr)"),
                 w.style, approx(w.style.value)),))


def total_cost(w: Work) -> Step:
    return Step(
        title="(b) Total cost",
        math=(eq(r"J(G) = \alpha J_{\mathrm{content}} + \beta J_{\mathrm{style}}", w.total,
                 approx(w.total.value)),),
        substeps=(Step(text="SymPy verifies every sum written out here, for symbolic "
                            "activations of this shape, against the costs' definitions as "
                            "matrix products ($\\mathcal{G} = a\\, a^\\top$, "
                            "$\\lVert X \\rVert_F^2 = \\operatorname{tr}(X X^\\top)$).",
                       audience="instructor"),))


@register
class StyleTransferLoss(Problem):
    id = "style_transfer_loss"
    title = "Neural style transfer cost"

    def validate_options(self, options):
        if options.n_H * options.n_W > 6:
            raise ValueError("n_H · n_W must be at most 6 (the key writes every sum out)")

    def canonical(self, options):
        if (options.n_C, options.n_H, options.n_W) != (2, 1, 3):
            raise NoCanonical("the canonical variant has n_C = 2, n_H = 1, n_W = 3")
        return Params(a_C=exact_matrix([["0.5", "0", "0.5"], ["0", "1", "0"]]),
                      a_S=exact_matrix([["1", "0", "1"], ["0.5", "0.5", "0"]]),
                      a_G=exact_matrix([["0.5", "0.5", "0"], ["0", "1", "0.5"]]),
                      alpha=sp.Integer(10), beta=sp.Integer(40),
                      options=Choices((RAW, CORRECT, SWAPPED, SIGN)))

    def generate(self, rng, options):
        shape = (options.n_C, options.n_H * options.n_W)
        draw = lambda: exact_matrix(rng.decimals(shape[0] * shape[1], 0, 1, options.places,
                                                 nonzero=False), shape)
        a_C, a_S, a_G = draw(), draw(), draw()
        if a_C == a_G or a_S == a_G or not any(a_S) or not any(a_G):
            raise Redraw("a zero cost or an all-zero image")
        alpha = sp.Integer(rng.choice((1, 5, 10, 20)))
        beta = sp.Integer(rng.choice((10, 20, 40, 100)))
        choices, _, _ = shuffle_choices(rng, CORRECT, DISTRACTORS)
        return Params(a_C=a_C, a_S=a_S, a_G=a_G, alpha=alpha, beta=beta, options=choices)

    def statement(self, params, options):
        n_C, n_H, n_W = options.n_C, options.n_H, options.n_W
        return (
            Step(text="Neural style transfer generates an image $G$ with the content of an image "
                      "$C$ and the style of an image $S$ by minimising a cost $J(G)$ built from one "
                      "layer's activations. Activations are unrolled into a matrix $a$ of shape "
                      "$n_C \\times n_H n_W$ (one row per channel); the Gram matrix is "
                      "$\\mathcal{G} = a\\, a^\\top$."),
            Part("(a)", "Which of these is the cost $J(G)$?"),
            Part("(b)", text="One layer has $n_C = @nC$ channels and $n_H \\times n_W = @nH \\times @nW$ "
                      "positions, with activations $a^{(C)} = @aC$, $a^{(S)} = @aS$ and "
                      "$a^{(G)} = @aG$. With $\\alpha = @alpha$ and $\\beta = @beta$, compute "
                      "$J_{\\mathrm{content}}(C, G)$, the Gram matrices $\\mathcal{G}^{(S)}$ and "
                      "$\\mathcal{G}^{(G)}$, $J_{\\mathrm{style}}(S, G)$ and $J(G)$.",
                 values={"nC": sp.Integer(n_C), "nH": sp.Integer(n_H), "nW": sp.Integer(n_W),
                         "aC": params.a_C, "aS": params.a_S, "aG": params.a_G,
                         "alpha": params.alpha, "beta": params.beta}),
            Step(text="Use $J_{\\mathrm{content}}(C, G) = \\frac{1}{4 n_H n_W n_C} \\sum_{k,p} "
                      "(a^{(C)}_{kp} - a^{(G)}_{kp})^2$ and $J_{\\mathrm{style}}(S, G) = "
                      "\\frac{1}{4 n_C^2 (n_H n_W)^2} \\sum_{k,k'} (\\mathcal{G}^{(S)}_{kk'} - "
                      "\\mathcal{G}^{(G)}_{kk'})^2$."),
        )

    def solve(self, params, options):
        n_C, n_H, n_W = options.n_C, options.n_H, options.n_W
        derive_once((self.id, n_C, n_H, n_W), lambda: formulas(n_C, n_H, n_W))
        work = costs(params.a_C, params.a_S, params.a_G, params.alpha, params.beta, n_C, n_H, n_W)
        return Solution(
            steps=(the_cost(), content_cost(work), gram_matrices(work), style_cost(work),
                   total_cost(work)),
            answers=(Answer("formula", r"\text{cost } J(G)", CORRECT,
                            choices=params.options.options, part="(a)"),
                     Answer("J_content", r"J_{\mathrm{content}}", work.content.value, part="(b)",
                            constraints="nonnegative"),
                     # activations are drawn from [0, 1], so every dot product is too
                     Answer("gram_S", r"\mathcal{G}^{(S)}", work.gram_S.value, part="(b)",
                            constraints="nonnegative"),
                     Answer("gram_G", r"\mathcal{G}^{(G)}", work.gram_G.value, part="(b)",
                            constraints="nonnegative"),
                     Answer("J_style", r"J_{\mathrm{style}}", work.style.value, part="(b)",
                            constraints="nonnegative"),
                     Answer("J", "J(G)", work.total.value, part="(b)", constraints="nonnegative")),
            work=work)

    follows = {"J_style": ("gram_S", "gram_G"), "J": ("J_content", "J_style")}

    def follow_through(self, params, given):
        """The style cost from the student's Gram matrices, J from their two costs."""
        n_C, n_HW = np.shape(params.a_S)
        style = float(np.sum((given["gram_S"] - given["gram_G"]) ** 2)) / (4 * n_C ** 2 * n_HW ** 2)
        return {"J_style": style,
                "J": params.alpha * given["J_content"] + params.beta * given["J_style"]}

    def mistakes(self, params, options, solution):
        work = solution.work
        c_norm = content_norm(work.n_C, work.n_H, work.n_W)
        s_norm = style_norm(work.n_C, work.n_H, work.n_W)
        # Plain lists of exact rationals: SymPy's matrix products are far slower.
        sq = lambda x, y: sum(((p - q) ** 2 for p, q in zip(x, y)), sp.Integer(0))
        gram = lambda a: [sum(p * q for p, q in zip(r, t)) for r in rows(a) for t in rows(a)]
        a_C, a_S, a_G = (list(a) for a in (params.a_C, params.a_S, params.a_G))
        alpha, beta = params.alpha, params.beta
        J_c, J_s = work.content.value, work.style.value
        raw_style = s_norm * sq(a_S, a_G)
        raw_c, raw_s = sq(a_C, a_G), sq(work.gram_S.value, work.gram_G.value)
        swap_c, swap_s = c_norm * sq(a_S, a_G), s_norm * sq(gram(params.a_C), gram(params.a_G))
        return (
            Mistake("raw_activations_style", "raw activations in the style cost",
                    "raw activations match the style image pixel by pixel, not the correlations "
                    "between channels that make up its style",
                    {"formula": RAW, "J_style": raw_style, "J": alpha * J_c + beta * raw_style}),
            Mistake("missing_normalisation", "normalisation factors left out",
                    "both costs without their $1/(4 \\dots)$ factors: the sums of squares alone",
                    {"J_content": raw_c, "J_style": raw_s, "J": alpha * raw_c + beta * raw_s}),
            Mistake("content_style_swapped", "content and style images swapped",
                    "it would copy the style image's content "
                    "and the content image's style",
                    {"formula": SWAPPED, "J_content": swap_c, "J_style": swap_s,
                     "J": alpha * swap_c + beta * swap_s}),
            Mistake("style_sign", "style cost subtracted",
                    "minimising it would push the generated image's style away from "
                    "the style image",
                    {"formula": SIGN, "J": alpha * J_c - beta * J_s}),
        )

    def check(self, params, options, solution):
        n_C, n_H, n_W = options.n_C, options.n_H, options.n_W
        C, S, G = as_float(params.a_C), as_float(params.a_S), as_float(params.a_G)
        j_content = float(np.sum((C - G) ** 2)) / (4 * n_H * n_W * n_C)
        gS, gG = S @ S.T, G @ G.T
        j_style = float(np.sum((gS - gG) ** 2)) / (4 * n_C ** 2 * (n_H * n_W) ** 2)
        assert_close("J_content", solution.answer("J_content"), j_content)
        assert_close("gram_S", solution.answer("gram_S"), gS)
        assert_close("gram_G", solution.answer("gram_G"), gG)
        assert_close("J_style", solution.answer("J_style"), j_style)
        assert_close("J", solution.answer("J"),
                     float(params.alpha) * j_content + float(params.beta) * j_style)
