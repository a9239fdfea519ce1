"""Scaled dot-product attention: S = QKᵀ/√d, A = softmax of each row of S, O = AV, and the
backward pass for an upstream gradient G = ∂L/∂O: ∂L/∂V = AᵀG, ∂L/∂A = GVᵀ, and ∂L/∂S through
the row-wise softmax Jacobian."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, Grid, Link, Mistake, NoCanonical, Panel, Part, Problem, Redraw, Solution, Step, approx,
                   as_float, assert_close, defined, derive_once, derived, eq, exact_matrix, matmul,
                   mistakes_that_apply, numeric_gradient, option, register, rows, shown_dot,
                   shown_matrix, verified)

#: The formulas SymPy derives or verifies (see `shape_formulas` and `softmax_formulas`).
DERIVED = ("S = QK^T/sqrt(d)", "dL/dV", "dL/dA", "dL/dV = A^T G", "dL/dA = G V^T",
           "dA_ij/dS_ik", "row Jacobian = diag(a) - a a^T", "dL/dS = A o (dL/dA - r)")


# --- the forms the key states; `*_formulas` check them against SymPy, `solve` evaluates them --

def scores(Q, K, d):
    """S_ij = (Σ_k Q_ik K_jk) / √d: row i of Q against row j of K."""
    n = Q.shape[0]
    return sp.Matrix(n, K.shape[0], lambda i, j: sp.Add(*[Q[i, k] * K[j, k]
                                                        for k in range(Q.shape[1])]) / sp.sqrt(d))


def row_softmax(S, total=lambda i, terms: sp.Add(*terms)):
    """A_ij = e^{S_ij} / Σ_k e^{S_ik}.  `solve` passes a `total` that names the row sums."""
    rows, cols = S.shape
    out = []
    for i in range(rows):
        exps = [sp.exp(S[i, j]) for j in range(cols)]
        s = total(i, exps)
        out.append([e / s for e in exps])
    return sp.Matrix(out)


def row_jacobian(a):
    """∂a_j/∂s_k = a_j (δ_jk − a_k) for a = softmax(s): diag(a) − a aᵀ."""
    n = len(a)
    return sp.Matrix(n, n, lambda j, k: a[j] * ((1 if j == k else 0) - a[k]))


def grad_V(A, G):
    """∂L/∂V = Aᵀ G."""
    return matmul(A.T, G)


def grad_A(G, V):
    """∂L/∂A = G Vᵀ."""
    return matmul(G, V.T)


def grad_S(A, dA, rowsum=None):
    """∂L/∂S_ij = A_ij (∂L/∂A_ij − r_i), r_i = Σ_k A_ik ∂L/∂A_ik (`rowsum` may name r_i)."""
    n, m = A.shape
    r = [sp.Add(*[A[i, k] * dA[i, k] for k in range(m)]) for i in range(n)] \
        if rowsum is None else rowsum
    return sp.Matrix(n, m, lambda i, j: A[i, j] * (dA[i, j] - r[i]))


def _vanishes(s, e):
    """A test that a difference vanishes: s_k = log e_k (e_k > 0), so every e^{s_k} is rational
    in the e_k."""
    to_e = {sk: sp.log(ek) for sk, ek in zip(s, e)}

    def zero(expr):
        d = sp.expand(expr.xreplace(to_e), power_exp=True)
        return sp.cancel(sp.together(sp.powsimp(d))) == 0
    return zero


def softmax_formulas(n: int) -> dict:
    """For n symbolic scores: SymPy's Jacobian of the explicit softmax of one row, checked
    entry by entry against diag(a) − aaᵀ; and ∂L/∂S of L = Σ_ij (∂L/∂A)_ij A_ij(S), SymPy
    differentiating the row softmax of a symbolic n × n matrix, checked against the key's
    A ∘ (∂L/∂A − r)."""
    s = sp.symbols(f"s_1:{n + 1}", real=True)
    e = sp.symbols(f"e_1:{n + 1}", positive=True)
    a = list(row_softmax(sp.Matrix([list(s)])))
    J = sp.Matrix(n, n, lambda j, k: sp.diff(a[j], s[k]))
    d11, d12 = derived(J[0, 0], name="dA_ij/dS_ik"), derived(J[0, 1], name="dA_ij/dS_ik")
    verified(J, row_jacobian(a), name="row Jacobian = diag(a) - a a^T", zero=_vanishes(s, e))
    S = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"S_{i + 1}{j + 1}", real=True))
    E = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"e_{i + 1}{j + 1}", positive=True))
    dA = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"g_{i + 1}{j + 1}", real=True))
    A = row_softmax(S)
    L = sp.Add(*[dA[i, j] * A[i, j] for i in range(n) for j in range(n)])
    direct = sp.Matrix(n, n, lambda i, j: sp.diff(L, S[i, j]))
    verified(direct, grad_S(A, dA), name="dL/dS = A o (dL/dA - r)",
             zero=_vanishes(list(S), list(E)))
    return {"d11": d11, "d12": d12}


def shape_formulas(n: int, d: int, dv: int) -> dict:
    """The scores for this shape entry by entry against QKᵀ/√d, and SymPy's matrix calculus
    for L = tr(Gᵀ A V), the scalar whose gradient with respect to O = AV is G."""
    Q, K = sp.MatrixSymbol("Q", n, d), sp.MatrixSymbol("K", n, d)
    verified(sp.ImmutableMatrix((Q * K.T).as_explicit()) / sp.sqrt(d),
             scores(Q.as_explicit(), K.as_explicit(), d), name="S = QK^T/sqrt(d)")
    A, V = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("V", n, dv)
    G = sp.MatrixSymbol("G", n, dv)
    L = sp.Trace(G.T * A * V)
    dV = derived(L.diff(V), name="dL/dV")
    dA = derived(L.diff(A), name="dL/dA")
    verified(dV, grad_V(A, G), name="dL/dV = A^T G")
    verified(dA, grad_A(G, V), name="dL/dA = G V^T")
    return {"dV": dV, "dA": dA}


@dataclass(frozen=True)
class Options:
    n: int = option(2, 2, 3)                   # query and key positions
    d: int = option(2, 1, 3)                   # dimension of queries and keys
    d_v: int = option(1, 1, 3)                 # dimension of values


@dataclass(frozen=True)
class Params:
    Q: sp.ImmutableMatrix
    K: sp.ImmutableMatrix
    V: sp.ImmutableMatrix
    G: sp.ImmutableMatrix


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, with their working (shared by the steps, the
    answers and the mistakes).  The row sums σ_i and r_i are named values (`defined`)."""
    Q: sp.ImmutableMatrix
    K: sp.ImmutableMatrix
    V: sp.ImmutableMatrix
    G: sp.ImmutableMatrix
    qk: object            # QKᵀ as written: the dot products
    S: sp.ImmutableMatrix
    E: sp.ImmutableMatrix  # e^S
    sums: list            # σ_i = Σ_k e^{S_ik}
    A: sp.ImmutableMatrix
    O: sp.ImmutableMatrix
    dV: sp.ImmutableMatrix
    dA_shown: object      # G Vᵀ as written
    dA: sp.ImmutableMatrix
    r: list               # r_i = Σ_k A_ik ∂L/∂A_ik
    dS: sp.ImmutableMatrix

    @property
    def n(self) -> int:
        return self.Q.rows

    @property
    def d(self) -> int:
        return self.Q.cols

    @property
    def dv(self) -> int:
        return self.V.cols


def compute(params) -> Work:
    """The scores as written, then the exact S (`scores`, as verified), A with its row sums
    named, O_il = (Σ_j V_jl e^{S_ij}) / σ_i (one fraction per entry) and the gradients."""
    Q, K, V, G = params.Q, params.K, params.V, params.G
    n = Q.rows
    dots = lambda X, Y: shown_matrix([[shown_dot(x, y) for y in rows(Y)] for x in rows(X)])
    S = sp.ImmutableMatrix(scores(Q, K, Q.cols))
    E = sp.ImmutableMatrix(n, n, lambda i, j: sp.exp(S[i, j]))
    sums = []

    def named_total(i, terms):
        sums.append(defined(rf"\sigma_{{{i + 1}}}", sp.Add(*terms)))
        return sums[-1]
    A = sp.ImmutableMatrix(row_softmax(S, total=named_total))
    O = sp.ImmutableMatrix(n, V.cols, lambda i, l: sp.Add(
        *[V[j, l] * E[i, j] for j in range(n)]) / sums[i])
    dA = sp.ImmutableMatrix(grad_A(G, V))
    r = [defined(rf"r_{{{i + 1}}}", sp.Add(*[dA[i, k] * E[i, k] for k in range(n)]) / sums[i])
         for i in range(n)]
    return Work(Q=Q, K=K, V=V, G=G, qk=dots(Q, K), S=S, E=E, sums=sums, A=A, O=O,
                dV=sp.ImmutableMatrix(grad_V(A, G)), dA_shown=dots(G, V), dA=dA, r=r,
                dS=sp.ImmutableMatrix(grad_S(A, dA, rowsum=r)))


def heat_map(w: Work, digits: int = 4) -> Grid:
    """The scores and the attention weights A as a heat map, each row of A summing to 1."""
    n = w.A.rows
    sums = tuple(sp.Add(*[w.E[i, k] for k in range(n)]) / w.sums[i].args[0] for i in range(n))
    return Grid(panels=(Panel("S", "S", w.S, heat=True),
                        Panel("A", r"A = \mathrm{softmax}(S)", w.A, heat=True, notes=sums,
                              notes_label=r"\sum_k A_{ik}")),
                links=(Link("S", tuple((0, k) for k in range(n)), "A",
                            tuple((0, k) for k in range(n))),),
                digits=digits,
                caption=r"The scores and the attention weights as heat maps (darker: larger). "
                        r"The softmax of each row of $S$ gives the row of $A$; every row of $A$ "
                        r"sums to 1.")


def scaled_scores(w: Work) -> Step:
    scale = ("With $d = 1$ the scale $\\sqrt{d}$ is 1." if w.d == 1 else
             "Dividing by $\\sqrt{d}$ keeps the scores' spread from growing with "
             "the dimension (a sum of $d$ products), which would saturate the softmax.")
    return Step(
        title="(a) Scores",
        text="Entry $(i, j)$ of $QK^\\top$ is the dot product of query $i$ (row $i$ of "
             "$Q$) with key $j$ (row $j$ of $K$). " + scale,
        math=(eq(r"QK^\top", w.qk, w.qk.value),
              eq(rf"S = \frac{{QK^\top}}{{\sqrt{{{w.d}}}}}", approx(w.S))))


def softmax_of_each_row(w: Work) -> Step:
    return Step(
        title="(a) Softmax of each row",
        text="Exponentiate every score; $\\sigma_i$ is the sum of row $i$, and row $i$ of "
             "$A$ is row $i$ divided by $\\sigma_i$: each row of $A$ is a probability "
             "distribution over the keys (positive, adding up to 1), one per query. The "
             "$\\sigma_i$ keep their names below; their exact values are the sums shown.",
        math=(eq("e^{S}", approx(w.E)),
              *(eq(rf"\sigma_{{{i + 1}}} = \sum_k e^{{S_{{{i + 1}k}}}}", approx(s.args[0]))
                for i, s in enumerate(w.sums)),
              eq("A", approx(w.A))))


def weighted_output(w: Work) -> Step:
    return Step(
        title="(a) Output",
        text="Row $i$ of $O$ is the average of the rows of $V$ weighted by row $i$ of $A$: "
             "$O_{il} = \\sum_j A_{ij} V_{jl} = \\frac{1}{\\sigma_i} \\sum_j e^{S_{ij}} "
             "V_{jl}$.",
        math=(eq("O = AV", approx(w.O)),))


def back_through_product(w: Work, facts: dict) -> Step:
    n, dv = w.n, w.dv
    return Step(
        title="(b) Back through O = AV",
        text="$L$ depends on $V$ and $A$ only through $O$, and $\\partial L/\\partial O = "
             "G$, so $L$ changes as $\\mathrm{tr}(G^\\top A V)$ to first order. SymPy's "
             "matrix calculus gives its gradients; entry by entry, "
             "$\\partial L/\\partial V_{jl} = \\sum_i A_{ij} G_{il}$ (a value row $j$ "
             "collects the gradient of every query that attends to it, hence $A^\\top$) "
             "and $\\partial L/\\partial A_{ij} = \\sum_l G_{il} V_{jl}$.",
        math=(eq(r"\frac{\partial L}{\partial V}", facts["dV"])
              + rf",\qquad ({n} \times {n})({n} \times {dv}) = {n} \times {dv}",
              eq(r"\frac{\partial L}{\partial A}", facts["dA"])
              + rf",\qquad ({n} \times {dv})({dv} \times {n}) = {n} \times {n}"))


def product_numbers(w: Work) -> Step:
    return Step(
        title="(b) Substituting the numbers",
        math=(eq(r"\frac{\partial L}{\partial V} = A^\top G", approx(w.dV)),
              eq(r"\frac{\partial L}{\partial A} = G V^\top", w.dA_shown, w.dA)))


def through_softmax(w: Work, soft: dict) -> Step:
    return Step(
        title="(c) Through the softmax of each row",
        text="Row $i$ of $A$ depends only on row $i$ of $S$, and on every entry of it "
             "through $\\sigma_i$. SymPy differentiates the explicit softmax of a row "
             f"(${w.n}$ symbolic scores): "
             "e.g. $\\frac{\\partial A_{i1}}{\\partial S_{i1}} = @d11$ "
             "and $\\frac{\\partial A_{i1}}{\\partial S_{i2}} = @d12$, which is "
             "$A_{ij}(\\delta_{jk} - A_{ik})$. The chain rule sums over the entries of the "
             "row; the term $-A_{ij} r_i$ is the path through $\\sigma_i$.",
        math=(r"\frac{\partial A_{ij}}{\partial S_{ik}} = A_{ij}(\delta_{jk} - A_{ik}),\qquad "
              r"\frac{\partial A_{ij}}{\partial S_{i'k}} = 0 \text{ for } i' \ne i",
              r"\frac{\partial L}{\partial S_{ik}} = \sum_j \frac{\partial L}{\partial A_{ij}}"
              r"\, A_{ij}(\delta_{jk} - A_{ik}) = A_{ik}\Bigl(\frac{\partial L}{\partial "
              r"A_{ik}} - r_i\Bigr),\qquad r_i = \sum_j A_{ij} \frac{\partial L}{\partial "
              r"A_{ij}}"),
        values={"d11": soft["d11"], "d12": soft["d12"]},
        substeps=(Step(text=f"SymPy confirms the result for a symbolic ${w.n} \\times {w.n}$ "
                            "matrix $S$ and any $\\partial L/\\partial A$.",
                       audience="instructor"),))


def softmax_numbers(w: Work) -> Step:
    return Step(
        title="(c) Substituting the numbers",
        text="$r_i$ is the average of row $i$ of $\\partial L/\\partial A$ under the "
             "weights of row $i$ of $A$; each row of $\\partial L/\\partial S$ adds up to 0 "
             "(adding a constant to a row of scores does not change $A$).",
        math=(*(eq(rf"r_{{{i + 1}}} = \sum_j A_{{{i + 1}j}} \frac{{\partial L}}{{\partial "
                   rf"A_{{{i + 1}j}}}}", approx(r.args[0])) for i, r in enumerate(w.r)),
              eq(r"\frac{\partial L}{\partial S}", approx(w.dS))))


# --- the mistakes: a student's forward and backward passes, then one function per mistake --

def student_forward(w: Work, normalise_rows=True, scale=True, tag=""):
    """S, A and O by a student's method.  The sums of the exponentials are named values too
    (never shown: a mistake's values print rounded), so that each one's exact string is
    printed once, not once per entry that holds it."""
    S = scores(w.Q, w.K, w.d) if scale else scores(w.Q, w.K, 1)
    name = lambda i, terms: defined(rf"\sigma^{{{tag}}}_{{{i + 1}}}", sp.Add(*terms))
    if normalise_rows:
        A = row_softmax(S, total=name)
    else:
        A = row_softmax(S.T, total=name).T
    return sp.ImmutableMatrix(S), sp.ImmutableMatrix(A), matmul(A, w.V)


def student_backward(w: Work, A, normalise_rows=True):
    """∂L/∂V and ∂L/∂S from a student's A, with the right ∂L/∂A."""
    if normalise_rows:
        return grad_V(A, w.G), sp.ImmutableMatrix(grad_S(A, w.dA))
    # the same rule, down each column; a constant column of ∂L/∂A gives an exact 0 there
    cols = w.dA.T.tolist()
    dS = grad_S(A.T, w.dA.T).T
    return grad_V(A, w.G), sp.ImmutableMatrix(
        dS.rows, dS.cols, lambda i, j: 0 if len(set(cols[j])) == 1 else dS[i, j])


def missing_sqrt_d(w: Work) -> Mistake | None:
    if w.d == 1:
        return None
    S, A, O = student_forward(w, scale=False, tag="qk")
    dV, dS = student_backward(w, A)
    return Mistake(
        "missing_sqrt_d", "√d left out",
        "$S = QK^\\top$ without the scale $\\frac{1}{\\sqrt{d}}$: the scores, and so "
        "$A$, $O$, $\\partial L/\\partial V$ and $\\partial L/\\partial S$, all change "
        "(the softmax sharpens)",
        {"S": S, "A": A, "O": O, "dL_dV": dV, "dL_dS": dS})


def softmax_over_columns(w: Work) -> Mistake:
    _, A, O = student_forward(w, normalise_rows=False, tag="col")
    dV, dS = student_backward(w, A, normalise_rows=False)
    return Mistake(
        "softmax_over_columns", "softmax over columns",
        "each column of $S$ normalised instead of each row: the weights of one query "
        "over all keys (a row) must add up to 1, not those of one key over all queries",
        {"A": A, "O": O, "dL_dV": dV, "dL_dS": dS})


def jacobian_ignored(w: Work) -> Mistake:
    return Mistake(
        "jacobian_ignored", "∂L/∂S = ∂L/∂A",
        "the softmax treated as the identity: $\\partial L/\\partial S$ needs the "
        "softmax Jacobian $A_{ij}(\\delta_{jk} - A_{ik})$",
        {"dL_dS": w.dA})


def rowsum_term_forgotten(w: Work) -> Mistake:
    return Mistake(
        "rowsum_term_forgotten", "only the diagonal of the Jacobian",
        "$\\partial L/\\partial S_{ij} = A_{ij}\\,\\partial L/\\partial A_{ij}$: the "
        "term $-A_{ij} r_i$, from every $A_{ik}$ depending on $S_{ij}$ through the row "
        "sum, is missing",
        {"dL_dS": sp.ImmutableMatrix(w.n, w.n, lambda i, j: w.A[i, j] * w.dA[i, j])})


def A_not_transposed(w: Work) -> Mistake:
    return Mistake(
        "A_not_transposed", "AG instead of AᵀG",
        "$\\partial L/\\partial V = AG$: value row $j$ collects "
        "$\\sum_i A_{ij} G_{il}$ (column $j$ of $A$), which is $A^\\top G$",
        {"dL_dV": matmul(w.A, w.G)})


@register
class Attention(Problem):
    id = "attention"
    title = "Scaled dot-product attention: forward pass and backpropagation through the softmax"

    def canonical(self, options):
        if (options.n, options.d, options.d_v) != (2, 2, 1):
            raise NoCanonical("the canonical variant has n = 2, d = 2 and d_v = 1")
        return Params(Q=exact_matrix([["1", "0"], ["0", "1"]]),
                      K=exact_matrix([["1", "1"], ["0", "-1"]]),
                      V=exact_matrix([["1"], ["-1"]]),
                      G=exact_matrix([["1"], ["0.5"]]))

    def generate(self, rng, options):
        n, d, dv = options.n, options.d, options.d_v
        draw = lambda rows, cols, low, high: exact_matrix(
            rng.decimals(rows * cols, low, high, 1, nonzero=False), (rows, cols))
        Q, K = draw(n, d, -1, 1), draw(n, d, -1, 1)
        V, G = draw(n, dv, -1, 1), draw(n, dv, -1, 1)
        QK = matmul(Q, K.T)
        if any(len(set(row)) == 1 for row in QK.tolist()):
            raise Redraw("a row of QKᵀ is constant: that query attends uniformly")
        if all(v == 0 for v in G) or all(v == 0 for v in V):
            raise Redraw("G or V is zero: every gradient vanishes")
        dA = grad_A(G, V)
        if any(len(set(row)) == 1 for row in dA.tolist()):
            raise Redraw("a row of GVᵀ is constant: that row of ∂L/∂S vanishes")
        return Params(Q=Q, K=K, V=V, G=G)

    def statement(self, params, options):
        n, d, dv = params.Q.rows, params.Q.cols, params.V.cols
        return (
            Step(text="An attention layer has $n = @n$ query positions and $n$ key positions, "
                      "queries and keys of dimension $d = @d$ and values of dimension "
                      "$d_v = @dv$. It computes the scores $S = \\frac{QK^\\top}{\\sqrt{d}}$, "
                      "the attention weights $A = \\mathrm{softmax}(S)$ applied to each row "
                      "of $S$ ($A_{ij} = e^{S_{ij}} / \\sum_k e^{S_{ik}}$), and the output "
                      "$O = AV$. The numbers are $Q = @Q$, $K = @K$ and $V = @V$, and the "
                      "gradient of the loss with respect to the output is "
                      "$G = \\partial L / \\partial O = @G$.",
                 values={"n": sp.Integer(n), "d": sp.Integer(d), "dv": sp.Integer(dv),
                         "Q": params.Q, "K": params.K, "V": params.V, "G": params.G}),
            Part("(a)", "Compute $S$, $A$ and $O$ (exact values, with decimals)."),
            Part("(b)", "Derive $\\partial L / \\partial V$ and $\\partial L / \\partial A$ "
                        "in matrix form with their shapes, and evaluate them."),
            Part("(c)", "Derive $\\partial L / \\partial S$ through the softmax of each row "
                        "(its Jacobian), and evaluate it."),
        )

    def solve(self, params, options):
        n, d, dv = params.Q.rows, params.Q.cols, params.V.cols
        facts = derive_once((self.id, n, d, dv), lambda: shape_formulas(n, d, dv))
        soft = derive_once((self.id, "softmax", n), lambda: softmax_formulas(n))
        work = compute(params)
        return Solution(
            steps=(scaled_scores(work), softmax_of_each_row(work), heat_map(work),
                   weighted_output(work),
                   back_through_product(work, facts), product_numbers(work),
                   through_softmax(work, soft), softmax_numbers(work)),
            answers=(Answer("S", "S", work.S, part="(a)"),
                     Answer("A", "A", work.A, part="(a)",
                            constraints=("probability", "sums_to_one")),
                     Answer("O", "O", work.O, part="(a)"),
                     Answer("dL_dV", r"\frac{\partial L}{\partial V}", work.dV, part="(b)"),
                     Answer("dL_dA", r"\frac{\partial L}{\partial A}", work.dA, part="(b)"),
                     Answer("dL_dS", r"\frac{\partial L}{\partial S}", work.dS, part="(c)",
                            points=2)),
            work=work)

    follows = {"A": ("S",), "O": ("A",), "dL_dV": ("A",), "dL_dS": ("A", "dL_dA")}

    def follow_through(self, params, given):
        """A from the student's S (a softmax per row), O and ∂L/∂V from their A, ∂L/∂S from
        their A and ∂L/∂A: row by row a ∘ (g − a·g)."""
        S, A, dA = given["S"], given["A"], given["dL_dA"]
        w = np.exp(S - S.max(axis=1, keepdims=True))
        return {"A": w / w.sum(axis=1, keepdims=True), "O": A @ params.V,
                "dL_dV": A.T @ params.G,
                "dL_dS": A * (dA - np.sum(A * dA, axis=1, keepdims=True))}

    def mistakes(self, params, options, solution):
        return mistakes_that_apply(solution.work, missing_sqrt_d, softmax_over_columns,
                                   jacobian_ignored, rowsum_term_forgotten, A_not_transposed)

    def check(self, params, options, solution):
        """Plain NumPy: the forward pass with a max-shifted softmax, ∂L/∂V and ∂L/∂A as
        einsum contractions, ∂L/∂S as the product of each row's Jacobian diag(a) − aaᵀ with
        the row of ∂L/∂A, and central differences of L(S) = Σ G ∘ (softmax(S) V) and
        L(V).  All entries are O(1): inputs in [−1, 1], so |S| ≤ √3 and A in (0, 1)."""
        Q, K, V, G = (as_float(params.Q), as_float(params.K), as_float(params.V),
                      as_float(params.G))
        n, d = Q.shape

        def softmax_rows(S):
            w = np.exp(S - S.max(axis=1, keepdims=True))
            return w / w.sum(axis=1, keepdims=True)

        S = np.einsum("ik,jk->ij", Q, K) / np.sqrt(d)
        A = softmax_rows(S)
        O = np.einsum("ij,jl->il", A, V)
        tol = dict(rtol=1e-10, atol=1e-12)
        assert_close("S", solution.answer("S"), S, **tol)
        assert_close("A", solution.answer("A"), A, **tol)
        assert_close("O", solution.answer("O"), O, **tol)
        assert_close("dL_dV", solution.answer("dL_dV"), np.einsum("ij,il->jl", A, G), **tol)
        dA = np.einsum("il,jl->ij", G, V)
        assert_close("dL_dA", solution.answer("dL_dA"), dA, **tol)
        dS = np.stack([(np.diag(a) - np.outer(a, a)).T @ g for a, g in zip(A, dA)])
        assert_close("dL_dS", solution.answer("dL_dS"), dS, **tol)
        # L is smooth with O(1) second and third derivatives here: h = 1e-5 leaves
        # truncation ~1e-10 and rounding ~1e-11
        loss_S = lambda s: float(np.sum(G * (softmax_rows(s) @ V)))
        loss_V = lambda v: float(np.sum(G * (A @ v)))
        assert_close("dL_dS", solution.answer("dL_dS"), numeric_gradient(loss_S, S, 1e-5),
                     rtol=1e-6, atol=1e-8)
        assert_close("dL_dV", solution.answer("dL_dV"), numeric_gradient(loss_V, V, 1e-5),
                     rtol=1e-6, atol=1e-8)
