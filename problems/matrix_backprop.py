"""L = ‖Wx‖²: the forward pass and both gradients, entry by entry."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from wsgen import (Answer, CheckFailed, Expression, Graph, GraphEdge, GraphNode, Mistake, NoCanonical, Part,
                   Problem, Redraw, Solution, Step, Vector, approx, as_float, assert_close_scaled, derive_once, derived, eq,
                   exact_matrix, exact_vector, line, option, register, require_decimals,
                   shown_dot, shown_matrix, shown_product, shown_square, shown_sum, verified)

_UNIT = 2.0 ** -53      # unit roundoff of float64

#: The formulas SymPy derives or verifies for every shape (see `formulas`).
DERIVED = ("L", "dL/dW", "dL/dx", "dL/dW_kl", "dL/dx_l", "dL/dW = 2(Wx)x^T",
           "dL/dx = 2W^T(Wx)")


# The formulas the key states, as SymPy expressions; `formulas` checks them against SymPy.
def index_dW(W, x, k, l):
    """∂L/∂W_kl = 2 (Σ_j W_kj x_j) x_l = 2 (Wx)_k x_l (W, x explicit matrices)."""
    return 2 * sum(W[k, j] * x[j] for j in range(W.cols)) * x[l]


def index_dx(W, x, l):
    """∂L/∂x_l = Σ_k 2 (Wx)_k W_kl."""
    return sum(2 * sum(W[k, j] * x[j] for j in range(W.cols)) * W[k, l] for k in range(W.rows))


def matrix_dW(W, x, Wx):
    """∂L/∂W = 2 (Wx) xᵀ, with Wx the product (or a symbol standing for it, to print)."""
    return 2 * Wx * x.T


def matrix_dx(W, x, Wx):
    """∂L/∂x = 2 Wᵀ (Wx)."""
    return 2 * W.T * Wx


def formulas(m: int, n: int) -> dict:
    """The gradients of L = (Wx)ᵀ(Wx) for an m × n matrix W, by SymPy's matrix calculus, and
    the key's index-notation steps verified entry by entry with symbolic entries."""
    # SymPy's matrix calculus, on a 2 × 2 W: for other shapes SymPy
    # answers with an array expression (or writes x xᵀ as x² when x is 1 × 1).  The result
    # holds for every shape, and is checked below at this variant's shape.
    g = 2
    Wg, xg = sp.MatrixSymbol("W", g, g), sp.MatrixSymbol("x", g, 1)
    Lg = (Wg * xg).T * (Wg * xg)
    dW_general = derived(Lg.diff(Wg), name="dL/dW")   # 2 W x xᵀ
    dx_general = derived(Lg.diff(xg), name="dL/dx")   # 2 Wᵀ W x
    W, x = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("x", n, 1)
    Wx = sp.MatrixSymbol("(Wx)", m, 1)          # prints as (Wx): the product read back
    L = (W * x).T * (W * x)
    dW, dx = dW_general.xreplace({Wg: W, xg: x}), dx_general.xreplace({Wg: W, xg: x})
    We, xe = W.as_explicit(), x.as_explicit()
    L_index = sum((sum(We[i, j] * xe[j] for j in range(n)) ** 2 for i in range(m)), sp.Integer(0))
    verified(L.as_explicit()[0, 0], L_index, name="L")
    by_entry_W = sp.Matrix(m, n, lambda k, l: sp.diff(L_index, We[k, l]))
    by_entry_x = sp.Matrix(n, 1, lambda l, _: sp.diff(L_index, xe[l]))
    verified(by_entry_W, sp.Matrix(m, n, lambda k, l: index_dW(We, xe, k, l)), name="dL/dW_kl")
    verified(by_entry_x, sp.Matrix(n, 1, lambda l, _: index_dx(We, xe, l)), name="dL/dx_l")
    verified(dW, by_entry_W, name="dL/dW")      # matrix calculus = the index derivation
    verified(dx, by_entry_x, name="dL/dx")
    verified(dW, matrix_dW(W, x, W * x), name="dL/dW = 2(Wx)x^T")
    verified(dx, matrix_dx(W, x, W * x), name="dL/dx = 2W^T(Wx)")
    return {"dW": dW_general, "dx": dx_general, "dW_shape": dW.shape, "dx_shape": dx.shape,
            "dW_shown": matrix_dW(W, x, Wx), "dx_shown": matrix_dx(W, x, Wx)}


@dataclass(frozen=True)
class Options:
    m: int = option(2, 1, 6)                      # rows of W
    n: int = option(2, 1, 6)                      # columns of W = length of x
    max_abs: float = option(0.9, 0, 100, open_low=True)  # entries in [-max_abs, max_abs]
    places: int = option(1, 1, 3)                 # decimals of each entry
    nonzero: bool = True    # no zero entries


@dataclass(frozen=True)
class Params:
    W: sp.ImmutableMatrix
    x: Vector


#: The largest number of columns of dL/dW (and of terms per entry of dL/dx) whose
#: arithmetic is written out entry by entry: wider matrices would not fit a printed line.
WRITTEN_OUT = 4


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, with their working (shared by the steps, the
    answers and the mistakes).  W is a list of rows of exact rationals."""
    W: list
    x: Vector
    rows: list            # (Wx)_i as written: a row of W times x
    Wx: Vector
    L_sum: object         # Σ (Wx)_i² as written
    L: sp.Rational
    dW_shown: object      # 2 (Wx)_k x_l as written, entry by entry
    dW: sp.ImmutableMatrix
    dx_entries: list      # 2 Σ_k W_kl (Wx)_k as written
    dx: Vector

    @property
    def m(self) -> int:
        return len(self.W)

    @property
    def n(self) -> int:
        return len(self.x)


def compute(params) -> Work:
    W, x = params.W.tolist(), params.x
    m, n = len(W), len(x)
    rows = [shown_dot(W[i], x) for i in range(m)]
    Wx = Vector(r.value for r in rows)
    L_sum = shown_sum(shown_square(v) for v in Wx)
    dW_shown = shown_matrix([[shown_product(2, Wx[k], x[l]) for l in range(n)] for k in range(m)])
    dx_entries = [shown_product(2, shown_dot([W[k][l] for k in range(m)], Wx)) for l in range(n)]
    return Work(W=W, x=x, rows=rows, Wx=Wx, L_sum=L_sum, L=L_sum.value, dW_shown=dW_shown,
                dW=dW_shown.value, dx_entries=dx_entries, dx=Vector(e.value for e in dx_entries))


def graph(w: Work) -> Graph:
    """L = ‖Wx‖² as a computational graph: the forward values, and the gradient flowing back
    along each edge (∂L/∂(Wx) = 2Wx, then ∂L/∂W and ∂L/∂x)."""
    return Graph(
        nodes=(GraphNode("W", "W", sp.ImmutableMatrix(w.W)), GraphNode("x", "x", w.x),
               GraphNode("Wx", "Wx", w.Wx), GraphNode("L", "L", w.L)),
        edges=(GraphEdge("W", "Wx", w.dW), GraphEdge("x", "Wx", w.dx),
               GraphEdge("Wx", "L", Vector(2 * v for v in w.Wx))),
        caption=r"The computational graph of $L = \lVert Wx \rVert_2^2$: forward values in "
                r"the boxes; in the answer key, the gradient of $L$ flowing back along each edge "
                r"(red).")


def forward_pass(w: Work) -> Step:
    return Step(
        title="(a) Forward pass",
        text="Each entry of $Wx$ is a row of $W$ times $x$; $L$ is the sum of their squares.",
        math=(*(eq(f"(Wx)_{{{i + 1}}}", w.rows[i], w.Wx[i]) for i in range(w.m)),
              eq(r"L = \sum_i (Wx)_i^2", w.L_sum, w.L)))


def index_derivation(w: Work, facts: dict) -> Step:
    (gm, gn), (hn, _) = facts["dW_shape"], facts["dx_shape"]
    m, n = w.m, w.n
    return Step(
        title="(b) Derivation in index notation",
        text=r"Write $L$ with indices, differentiate one entry at a time, then read the "
             r"result back as a matrix product.",
        math=(r"L = \sum_{i} \Bigl(\sum_{j} W_{ij}\, x_j\Bigr)^2",
              r"\frac{\partial L}{\partial W_{kl}} = 2 \Bigl(\sum_{j} W_{kj}\, x_j\Bigr) x_l"
              r" = 2\,(Wx)_k\, x_l",
              line(r"\Rightarrow\quad ", eq(r"\frac{\partial L}{\partial W}", facts["dW_shown"]),
                   rf",\qquad ({m} \times 1)(1 \times {n}) = {gm} \times {gn}"),
              r"\frac{\partial L}{\partial x_l} = \sum_{k} 2\,(Wx)_k\, W_{kl}",
              line(r"\Rightarrow\quad ", eq(r"\frac{\partial L}{\partial x}", facts["dx_shown"]),
                   rf",\qquad ({n} \times {m})({m} \times 1) = {hn} \times 1")))


def sympy_check(w: Work, facts: dict) -> Step:
    return Step(
        title="(b) Checked by SymPy",
        audience="instructor",
        text=r"SymPy's matrix calculus derives both results from $L = (Wx)^\top (Wx)$: "
             r"$\frac{\partial L}{\partial W} = @dWd$ and "
             r"$\frac{\partial L}{\partial x} = @dxd$. Differentiating the index sum with "
             rf"symbolic entries of a ${w.m} \times {w.n}$ matrix $W$ verifies "
             r"$\frac{\partial L}{\partial W_{kl}} = 2\,(Wx)_k\, x_l$ for every $(k, l)$ "
             r"and $\frac{\partial L}{\partial x_l} = \sum_{k} 2\,(Wx)_k\, W_{kl}$ for "
             r"every $l$, and that both agree with the matrix forms.",
        values={"dWd": facts["dW"], "dxd": facts["dx"]})


def substituted(w: Work) -> Step:
    """Every entry's arithmetic fits a printed line up to WRITTEN_OUT columns of dL/dW and
    terms per entry of dL/dx; beyond that, entry (1, 1) and entry 1 are written out, the
    rest is the same arithmetic and only the values are shown."""
    if w.n <= WRITTEN_OUT:
        lines = [eq(r"\frac{\partial L}{\partial W}", w.dW_shown, w.dW)]
    else:
        lines = [eq(r"\frac{\partial L}{\partial W_{11}} = 2\,(Wx)_1\,x_1",
                    approx(w.dW_shown.args[0][0])),
                 eq(r"\frac{\partial L}{\partial W}", w.dW)]
    if w.m <= WRITTEN_OUT:
        lines.append(eq(r"\frac{\partial L}{\partial x}", shown_matrix([[e] for e in w.dx_entries]),
                        w.dx))
    else:
        lines += [eq(r"\frac{\partial L}{\partial x_1} = 2 \sum_k W_{k1}\,(Wx)_k",
                     approx(w.dx_entries[0])),
                  eq(r"\frac{\partial L}{\partial x}", w.dx)]
    return Step(
        title="(c) Substituting the numbers",
        text=r"Entry $(k, l)$ of $\partial L/\partial W$ is $2\,(Wx)_k\,x_l$; entry $l$ of "
             r"$\partial L/\partial x$ is $2 \sum_k W_{kl}\,(Wx)_k$."
             + ("" if max(w.m, w.n) <= WRITTEN_OUT else
                " Every entry is computed the same way; the first is written out."),
        math=tuple(lines))


#: Part (b)'s answers as typed formulas (core/formula.py), checked against `formulas`
#: in tests/test_formula.py; the mistakes' formulas beside them.
DW_FORMULA, DX_FORMULA = "2*(W*x)*x^T", "2*W^T*(W*x)"


def gradient_formula(w: Work, text: str) -> Expression:
    """A formula over W (m × n) and x (n × 1) at this variant's shape."""
    return Expression(text, {"W": (w.m, w.n), "x": (w.n, 1)})


@register
class MatrixBackprop(Problem):
    id = "matrix_backprop"
    title = "Backpropagation through L = ‖Wx‖²"

    def validate_options(self, options):
        require_decimals("max_abs", options.max_abs, options.places)
        if Fraction(str(options.max_abs)) * 10 ** options.places == 1 and options.m >= 3:
            # entries ±max_abs (and 0) only: some entry of Wx is zero in most draws
            raise ValueError(f"max_abs = {options.max_abs} with places = {options.places} leaves "
                             f"only ±{options.max_abs} to draw, so Wx has a zero entry too often "
                             f"for m = {options.m}: raise max_abs or use m ≤ 2")

    def canonical(self, options):
        # The original exam's numbers (2×2); other shapes have no canonical variant.
        if (options.m, options.n) != (2, 2):
            raise NoCanonical("the canonical variant is 2×2: set m = n = 2")
        return Params(W=exact_matrix([["0.1", "0.5"], ["-0.3", "0.8"]]),
                      x=exact_vector(("0.2", "0.4")))

    def generate(self, rng, options):
        draw = lambda: sp.Rational(rng.decimal(-options.max_abs, options.max_abs,
                                               options.places, options.nonzero))
        rows = [[draw() for _ in range(options.n)] for _ in range(options.m)]
        x = Vector(draw() for _ in range(options.n))
        if any(sum(w * v for w, v in zip(row, x)) == 0 for row in rows):
            raise Redraw("an entry of Wx is zero")
        return Params(W=sp.ImmutableMatrix(rows), x=x)

    def statement(self, params, options):
        return (
            Step(text=r"Let $L = \lVert Wx \rVert_2^2$ with $W = @W$ and $x = @x$.",
                 values={"W": params.W, "x": params.x}),
            graph(compute(params)),
            Part("(a)", r"Compute $Wx$ and $L$."),
            Part("(b)", r"Derive $\dfrac{\partial L}{\partial W}$ and "
                        r"$\dfrac{\partial L}{\partial x}$ in matrix form, stating the shapes "
                        r"(a third of the points)."),
            Part("(c)", r"Evaluate both gradients for the given $W$ and $x$."),
        )

    def solve(self, params, options):
        work = compute(params)
        facts = derive_once((self.id, work.m, work.n), lambda: formulas(work.m, work.n))
        return Solution(
            steps=(forward_pass(work), index_derivation(work, facts), sympy_check(work, facts),
                   substituted(work)),
            answers=(Answer("Wx", "Wx", work.Wx, part="(a)"), Answer("L", "L", work.L, part="(a)", constraints="nonnegative"),
                     Answer("dL_dW_formula", r"\frac{\partial L}{\partial W}",
                            gradient_formula(work, DW_FORMULA), part="(b)"),
                     Answer("dL_dx_formula", r"\frac{\partial L}{\partial x}",
                            gradient_formula(work, DX_FORMULA), part="(b)"),
                     Answer("dL_dW", r"\frac{\partial L}{\partial W}", work.dW, part="(c)"),
                     Answer("dL_dx", r"\frac{\partial L}{\partial x}", work.dx, part="(c)")),
            work=work)

    follows = {"L": ("Wx",), "dL_dW": ("Wx",), "dL_dx": ("Wx",)}

    def follow_through(self, params, given):
        """L, ∂L/∂W and ∂L/∂x from the student's Wx."""
        Wx = given["Wx"]
        return {"L": float(Wx @ Wx), "dL_dW": 2 * np.outer(Wx, params.x),
                "dL_dx": 2 * params.W.T @ Wx}

    def mistakes(self, params, options, solution):
        work = solution.work
        W, x, Wx, m, n = work.W, work.x, list(work.Wx), work.m, work.n
        square = m == n
        out = []
        if square:
            out.append(Mistake(
                "no_transpose", "W instead of its transpose",
                "$W$ instead of $W^\\top$ in $\\partial L/\\partial x$: the gradient sends "
                "$\\partial L/\\partial (Wx)$ back through $W^\\top$, which the shapes "
                "$(n \\times m)(m \\times 1)$ demand",
                {"dL_dx": Vector(2 * sum(W[i][k] * Wx[k] for k in range(m)) for i in range(m)),
                 "dL_dx_formula": gradient_formula(work, "2*W*(W*x)")}))
        out.append(Mistake(
            "missing_factor_2", "factor 2 missing",
            "the factor $2$ of $\\frac{d}{du} u^2 = 2u$ is dropped in both gradients",
            {"dL_dW": sp.ImmutableMatrix([[Wx[k] * x[l] for l in range(n)] for k in range(m)]),
             "dL_dx": Vector(sum(W[k][l] * Wx[k] for k in range(m)) for l in range(n)),
             "dL_dW_formula": gradient_formula(work, "(W*x)*x^T"),
             "dL_dx_formula": gradient_formula(work, "W^T*(W*x)")}))
        if square:
            out.append(Mistake(
                "transposed_outer", "outer product transposed",
                "$2\\,x\\,(Wx)^\\top$ instead of $2\\,(Wx)\\,x^\\top$: entry $(k, l)$ of "
                "$\\partial L/\\partial W$ is $2\\,(Wx)_k\\,x_l$, so it has the shape of $W$",
                {"dL_dW": sp.ImmutableMatrix([[2 * x[k] * Wx[l] for l in range(m)]
                                              for k in range(n)]),
                 "dL_dW_formula": gradient_formula(work, "2*x*(W*x)^T")}))
        out.append(Mistake(
            "norm_not_squared", "norm not squared",
            "$L$ is the squared norm $\\lVert Wx \\rVert_2^2$, not the norm "
            "$\\lVert Wx \\rVert_2$ itself",
            {"L": sp.sqrt(work.L)}))
        return tuple(out)

    def check(self, params, options, solution):
        """Plain NumPy closed forms, with a tolerance from the float64 error bound.

        Wx is a dot product of n terms of inputs rounded to doubles, so each entry is off by
        at most about (n + 2)·u·(|W||x|)_i; relative to the largest entry of the answer that
        is (n + 2)·u·κ with κ = ‖|W||x|‖_∞ / ‖Wx‖_∞ (κ = 1 without cancellation).  The
        gradients and L inherit it, and 2Wᵀ(Wx) adds its own dot products over m terms.
        The exact side is compared as the nearest doubles, a further u at most."""
        W, x = as_float(params.W), as_float(params.x)
        m, n = W.shape
        Wx = W @ x
        absWx = np.abs(W) @ np.abs(x)
        kappa = float(np.max(absWx)) / max(float(np.max(np.abs(Wx))), 1e-300)
        dx = 2 * W.T @ Wx
        kappa_x = float(np.max(np.abs(W).T @ absWx)) / max(float(np.max(np.abs(dx))), 1e-300)
        rtol = lambda k, terms: max(1e-12, 8 * (terms + 4) * _UNIT * k)
        assert_close_scaled("Wx", solution.answer("Wx"), Wx, rtol(kappa, n))
        # L = Σ (Wx)_i²: its error relative to L is at most 2·√m·κ times that of Wx
        assert_close_scaled("L", solution.answer("L"), float(Wx @ Wx),
                            rtol(2 * np.sqrt(m) * kappa, n + m))
        assert_close_scaled("dL_dW", solution.answer("dL_dW"), 2 * np.outer(Wx, x), rtol(kappa, n))
        assert_close_scaled("dL_dx", solution.answer("dL_dx"), dx, rtol(kappa_x, n + m))
        # A finite-difference check on one direction of each gradient: L is quadratic, so the
        # central difference has no truncation error, only the rounding of two evaluations
        # of L, which is bounded (and divided by 2h) below.  The step is scaled to the inputs.
        loss = lambda w, v: float(np.sum((w @ v) ** 2))
        for name, exact, base, other, at in (("dL_dW", solution.answer("dL_dW"), W, x, 0),
                                              ("dL_dx", solution.answer("dL_dx"), x, W, 1)):
            direction = np.cos(np.arange(1, base.size + 1, dtype=np.float64)).reshape(base.shape)
            h = max(float(np.max(np.abs(base))), 1e-12) / float(np.max(np.abs(direction)))
            f = ((lambda t: loss(t, other)) if at == 0 else (lambda t: loss(other, t)))
            fd = (f(base + h * direction) - f(base - h * direction)) / (2 * h)
            G = as_float(exact)
            big = np.abs(W) + (h * np.abs(direction) if at == 0 else 0)
            big_x = np.abs(x) + (h * np.abs(direction) if at == 1 else 0)
            evaluations = float(np.sum((big @ big_x) ** 2))
            allowed = (1e-9 * float(np.linalg.norm(G)) * float(np.linalg.norm(direction))
                       + 16 * (n + m + 4) * _UNIT * evaluations / h)
            if not abs(fd - float(np.sum(G * direction))) <= allowed:
                raise CheckFailed(f"{name}: directional derivative {float(np.sum(G * direction))!r}"
                                  f" vs finite difference {fd!r}")