"""A one-hidden-layer ReLU network with squared-error loss: forward pass and backpropagation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, CheckFailed, Expression, Graph, GraphEdge, GraphNode, Mistake, NoCanonical, Part, Problem, Redraw, Solution,
                   Step, Vector, as_float, assert_close_scaled, derive_once, derived, eq,
                   exact_matrix, exact_vector, line, mistakes_that_apply, option, register,
                   require_decimals, rows,
                   shown_column, shown_difference, shown_dot, shown_matrix, shown_product, shown_square,
                   shown_sum, verified)

_UNIT = 2.0 ** -53      # unit roundoff of float64

#: The formulas SymPy derives or verifies for every shape (see `formulas`).
DERIVED = ("ReLU'", "ReLU' rule", "dL/dW2", "dL/db2", "dL/da1", "L",
           "dL/dW2 = delta2 a1^T", "dL/db2 = delta2", "dL/da1 = W2^T delta2",
           "dL/dW1 = delta1 x^T", "dL/db1 = delta1")


# The rules and forms the key states; `formulas` checks them against SymPy.
def relu_slope(v):
    """ReLU′(v): 1 for v > 0, 0 for v ≤ 0 (the key's convention at the kink)."""
    return sp.Integer(1) if v > 0 else sp.Integer(0)


def output_delta(y_hat, t):
    """δ² = ∂L/∂ŷ = ŷ − t."""
    return y_hat - t


def grad_W2(d2, a1):
    """∂L/∂W² = δ² a¹ᵀ."""
    return d2 * a1.T


def back_to_hidden(W2, d2):
    """∂L/∂a¹ = W²ᵀ δ²."""
    return W2.T * d2


def hidden_delta(W2, d2, slope):
    """δ¹ = (W²ᵀ δ²) ⊙ ReLU′(z¹), with `slope` the column of activation slopes."""
    return sp.hadamard_product(back_to_hidden(W2, d2), slope)


def grad_W1(d1, x):
    """∂L/∂W¹ = δ¹ xᵀ."""
    return d1 * x.T


def loss_index(W1, b1, W2, b2, x, t, act):
    """L = ½ Σ_k (Σ_j W²_kj act(Σ_l W¹_jl x_l + b¹_j) + b²_k − t_k)², explicit matrices."""
    h, n = W1.shape
    a = [act(sum((W1[j, l] * x[l] for l in range(n)), b1[j])) for j in range(h)]
    return sp.Rational(1, 2) * sum((sum((W2[i, j] * a[j] for j in range(h)), b2[i]) - t[i]) ** 2
                                   for i in range(W2.rows))


def _symbols(name, rows, cols=1):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}" if cols == 1
                                                        else f"{name}_{i + 1}{j + 1}"))


def formulas(n: int, h: int, k: int) -> dict:
    """ReLU′ from SymPy's derivatives of max(0, z) on each side of 0; the output layer's
    gradients by SymPy's matrix calculus (a general 2 × 2 layer, for the key's display); and
    every gradient the key states verified entry by entry for this shape, differentiating the
    loss written out with symbolic entries and a generic activation g (so the chain rule is
    checked for any activation, ReLU′ being its slope)."""
    d_relu = relu_derivative()
    general = output_layer_calculus()
    verify_entrywise(n, h, k)
    # The stated forms, with symbols of this shape standing for the vectors (to print).
    D2, D1 = sp.MatrixSymbol(r"\delta^{[2]}", k, 1), sp.MatrixSymbol(r"\delta^{[1]}", h, 1)
    A1, X = sp.MatrixSymbol("a^{[1]}", h, 1), sp.MatrixSymbol("x", n, 1)
    W2s = sp.MatrixSymbol("W^{[2]}", k, h)
    slope_s = sp.MatrixSymbol(r"\mathrm{ReLU}'(z^{[1]})", h, 1)
    return {"d_relu": d_relu, **general,
            "dW2_shown": grad_W2(D2, A1), "dW2_shape": grad_W2(D2, A1).shape,
            "d1_shown": hidden_delta(W2s, D2, slope_s),
            "da1_shape": back_to_hidden(W2s, D2).shape,
            "dW1_shown": grad_W1(D1, X), "dW1_shape": grad_W1(D1, X).shape}


def relu_derivative():
    """ReLU′ as SymPy's one-sided derivatives of max(0, z), checked against `relu_slope`."""
    z = sp.Symbol("z", real=True)
    right, left = sp.Symbol("z", positive=True), sp.Symbol("z", negative=True)
    slopes = (sp.diff(sp.Max(0, right), right), sp.diff(sp.Max(0, left), left))
    if any(s.free_symbols for s in slopes):
        raise CheckFailed(f"mlp_backprop: SymPy's one-sided slopes of ReLU {slopes} are not "
                          f"constant")
    d_relu = derived(sp.Piecewise((slopes[0], z > 0), (slopes[1], True)), name="ReLU'")
    points = [sp.Integer(v) for v in (-1, 0, 1)]
    verified(sp.Matrix([d_relu.subs(z, v) for v in points]),
             sp.Matrix([relu_slope(v) for v in points]), name="ReLU' rule")
    return d_relu


def output_layer_calculus() -> dict:
    """SymPy's matrix calculus on the output layer, ŷ = W a + b (2 × 2, for the display)."""
    Wg, ag = sp.MatrixSymbol("W^{[2]}", 2, 2), sp.MatrixSymbol("a^{[1]}", 2, 1)
    bg, tg = sp.MatrixSymbol("b^{[2]}", 2, 1), sp.MatrixSymbol("t", 2, 1)
    rg = Wg * ag + bg - tg
    Lg = (rg.T * rg) / 2
    dW2_general = derived(sp.expand(Lg.diff(Wg)), name="dL/dW2")
    db2_general = derived(Lg.diff(bg), name="dL/db2")
    da1_general = derived(Lg.diff(ag), name="dL/da1")
    verified(dW2_general, grad_W2(output_delta(Wg * ag + bg, tg), ag), name="dL/dW2")
    verified(da1_general, back_to_hidden(Wg, output_delta(Wg * ag + bg, tg)), name="dL/da1")
    return {"dW2": dW2_general, "db2": db2_general, "da1": da1_general}


def verify_entrywise(n: int, h: int, k: int) -> None:
    """Every gradient the key states, entry by entry for this shape, with a generic
    activation g."""
    x, t = _symbols("x", n), _symbols("t", k)
    W1, b1 = _symbols("W1", h, n), _symbols("b1", h)
    W2, b2 = _symbols("W2", k, h), _symbols("b2", k)
    g, s = sp.Function("g"), sp.Symbol("s")
    g_slope = lambda e: g(s).diff(s).subs(s, e)
    z1 = W1 * x + b1
    a1 = z1.applyfunc(g)
    y_hat = W2 * a1 + b2
    L = loss_index(W1, b1, W2, b2, x, t, g)
    r = y_hat - t
    verified((r.T * r)[0, 0] / 2, L, name="L")
    d2 = output_delta(y_hat, t)
    verified(sp.Matrix(k, h, lambda i, j: sp.diff(L, W2[i, j])), grad_W2(d2, a1),
             name="dL/dW2 = delta2 a1^T")
    verified(sp.Matrix(k, 1, lambda i, _: sp.diff(L, b2[i])), d2, name="dL/db2 = delta2")
    a_sym = _symbols("a", h)                    # L as a function of the hidden activations
    L_of_a = sp.Rational(1, 2) * sum(((W2 * a_sym + b2 - t)[i]) ** 2 for i in range(k))
    verified(sp.Matrix(h, 1, lambda j, _: sp.diff(L_of_a, a_sym[j])),
             back_to_hidden(W2, W2 * a_sym + b2 - t), name="dL/da1 = W2^T delta2")
    d1 = hidden_delta(W2, d2, z1.applyfunc(g_slope))
    verified(sp.Matrix(h, n, lambda j, l: sp.diff(L, W1[j, l])), grad_W1(d1, x),
             name="dL/dW1 = delta1 x^T")
    verified(sp.Matrix(h, 1, lambda j, _: sp.diff(L, b1[j])), d1, name="dL/db1 = delta1")


@dataclass(frozen=True)
class Options:
    n: int = option(2, 1, 4)                      # inputs
    hidden: int = option(2, 1, 4)                 # hidden ReLU units
    outputs: int = option(2, 1, 4)                # outputs
    max_abs: float = option(1.0, 0.1, 10)  # entries in [-max_abs, max_abs]
    places: int = option(1, 1, 2)                 # decimals of each entry


@dataclass(frozen=True)
class Params:
    x: Vector
    W1: sp.ImmutableMatrix
    b1: Vector
    W2: sp.ImmutableMatrix
    b2: Vector
    t: Vector


@dataclass(frozen=True)
class Work:
    """The exact forward and backward pass of one variant, with its working as written
    (shared by the steps, the answers and the mistakes).  W2 is a list of rows."""
    x: list
    W2: list
    z_shown: list          # z¹_j: row j of W¹ times x, plus b¹_j
    z1: list
    a1: list
    y_shown: list          # ŷ_k: row k of W² times a¹, plus b²_k
    y_hat: list
    d2_shown: list         # δ²_k = ŷ_k − t_k
    d2: list
    L_sum: object          # Σ_k (ŷ_k − t_k)²
    L: sp.Rational
    dW2_shown: object      # δ²_k a¹_j, entry by entry
    g_shown: list          # (W²ᵀδ²)_j: column j of W² times δ²
    g: list
    slope: list            # ReLU′(z¹_j)
    d1_shown: list         # δ¹_j = (W²ᵀδ²)_j · ReLU′(z¹_j)
    d1: list
    dW1_shown: object      # δ¹_j x_l, entry by entry

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n, h, k): inputs, hidden units, outputs."""
        return len(self.x), len(self.z1), len(self.d2)


def compute(params) -> Work:
    x, b1, b2, t = list(params.x), list(params.b1), list(params.b2), list(params.t)
    W1, W2 = rows(params.W1), rows(params.W2)
    n, h, k = len(x), len(b1), len(b2)
    values = lambda shown: [s.value for s in shown]
    z_shown = [shown_sum([*shown_dot(W1[j], x).args, b1[j]]) for j in range(h)]
    z1 = values(z_shown)
    a1 = [max(v, sp.Integer(0)) for v in z1]
    y_shown = [shown_sum([*shown_dot(W2[i], a1).args, b2[i]]) for i in range(k)]
    y_hat = values(y_shown)
    d2_shown = [shown_difference(y_hat[i], t[i]) for i in range(k)]
    d2 = values(d2_shown)
    L_sum = shown_sum(shown_square(v) for v in d2)
    dW2_shown = shown_matrix([[shown_product(d2[i], a1[j]) for j in range(h)] for i in range(k)])
    g_shown = [shown_dot([W2[i][j] for i in range(k)], d2) for j in range(h)]
    g = values(g_shown)
    slope = [relu_slope(v) for v in z1]
    d1_shown = [shown_product(g[j], slope[j]) for j in range(h)]
    d1 = values(d1_shown)
    dW1_shown = shown_matrix([[shown_product(d1[j], x[l]) for l in range(n)] for j in range(h)])
    return Work(x=x, W2=W2, z_shown=z_shown, z1=z1, a1=a1, y_shown=y_shown, y_hat=y_hat,
                d2_shown=d2_shown, d2=d2, L_sum=L_sum, L=L_sum.value / 2, dW2_shown=dW2_shown,
                g_shown=g_shown, g=g, slope=slope, d1_shown=d1_shown, d1=d1,
                dW1_shown=dW1_shown)


def graph(params, w: Work) -> Graph:
    """The network as a computational graph: the forward values, and the gradient of L
    flowing back along each edge: δ² = ŷ − t, ∂L/∂a¹ = W²ᵀδ², δ¹ through the ReLU, and
    each parameter's gradient."""
    column = lambda entries: Vector(entries)
    dx = Vector(sp.Add(*[params.W1[j, l] * w.d1[j] for j in range(len(w.d1))])
                for l in range(len(w.x)))
    return Graph(
        nodes=(GraphNode("x", "x", params.x), GraphNode("W1", "W^{[1]}", params.W1),
               GraphNode("b1", "b^{[1]}", params.b1), GraphNode("z1", "z^{[1]}", column(w.z1)),
               GraphNode("a1", "a^{[1]}", column(w.a1)), GraphNode("W2", "W^{[2]}", params.W2),
               GraphNode("b2", "b^{[2]}", params.b2), GraphNode("y", r"\hat y", column(w.y_hat)),
               GraphNode("t", "t", params.t), GraphNode("L", "L", w.L)),
        edges=(GraphEdge("x", "z1", dx), GraphEdge("W1", "z1", w.dW1_shown.value),
               GraphEdge("b1", "z1", column(w.d1)), GraphEdge("z1", "a1", column(w.d1)),
               GraphEdge("a1", "y", column(w.g)), GraphEdge("W2", "y", w.dW2_shown.value),
               GraphEdge("b2", "y", column(w.d2)), GraphEdge("y", "L", column(w.d2)),
               GraphEdge("t", "L")),
        caption=r"The network as a computational graph: forward values in the boxes; in the "
                r"answer key, the gradient of $L$ flowing back along each edge in red.")


def forward_pass(w: Work) -> Step:
    return Step(
        title="(a) Forward pass",
        text=r"Each $z^{[1]}_j$ is row $j$ of $W^{[1]}$ times $x$ plus $b^{[1]}_j$; ReLU keeps "
             r"the positive ones and sets the others to 0; each $\hat y_k$ is row $k$ of "
             r"$W^{[2]}$ times $a^{[1]}$ plus $b^{[2]}_k$.",
        math=(*(eq(f"z^{{[1]}}_{j + 1}", w.z_shown[j], w.z1[j]) + r",\qquad "
                + eq(line(rf"a^{{[1]}}_{j + 1} = \max(", w.z1[j], ", 0)"), w.a1[j])
                for j in range(len(w.z1))),
              *(eq(rf"\hat y_{i + 1}", w.y_shown[i], w.y_hat[i]) for i in range(len(w.y_hat))),
              eq(r"\hat y - t", shown_column(w.d2_shown), Vector(w.d2)),
              eq(r"L = \frac{1}{2} \sum_k (\hat y_k - t_k)^2",
                 line(r"\frac{1}{2}\bigl(", w.L_sum, r"\bigr)"),
                 line(r"\frac{1}{2} \cdot ", w.L_sum.value), w.L)))


def output_rule(w: Work, facts: dict) -> Step:
    (_, h, k), (sk, sh) = w.shape, facts["dW2_shape"]
    return Step(
        title="(b) The output layer by the chain rule",
        text=r"$L$ depends on $W^{[2]}$ and $b^{[2]}$ only through $\hat y$, and "
             r"$\partial L / \partial \hat y = \hat y - t$ (the $\frac{1}{2}$ cancels the 2 "
             r"of the square). Entry by entry, "
             r"$\partial L / \partial W^{[2]}_{kj} = \delta^{[2]}_k\, a^{[1]}_j$ and "
             r"$\partial L / \partial b^{[2]}_k = \delta^{[2]}_k$; the gradient of a "
             r"parameter has the parameter's shape.",
        math=(r"\delta^{[2]} = \frac{\partial L}{\partial \hat y} = \hat y - t,\qquad "
              rf"{k} \times 1",
              eq(r"\frac{\partial L}{\partial W^{[2]}}", facts["dW2_shown"])
              + rf",\qquad ({k} \times 1)(1 \times {h}) = {sk} \times {sh}",
              r"\frac{\partial L}{\partial b^{[2]}} = \delta^{[2]},\qquad " rf"{k} \times 1"))


def output_numbers(w: Work) -> Step:
    return Step(
        title="(b) Substituting the numbers",
        math=(eq(r"\delta^{[2]} = \hat y - t", Vector(w.d2)),
              eq(r"\frac{\partial L}{\partial W^{[2]}}", w.dW2_shown, w.dW2_shown.value),
              eq(r"\frac{\partial L}{\partial b^{[2]}}", Vector(w.d2))))


def hidden_rule(w: Work, facts: dict) -> Step:
    (n, h, k), (gh, _), (hh, hn) = w.shape, facts["da1_shape"], facts["dW1_shape"]
    return Step(
        title="(c) Back through W2 and the ReLU",
        text=r"Each $a^{[1]}_j$ feeds every output, so "
             r"$\partial L / \partial a^{[1]}_j = \sum_k W^{[2]}_{kj}\, \delta^{[2]}_k$: "
             r"that is $W^{[2]\top} \delta^{[2]}$, the transpose taking the " rf"${k}$ output "
             rf"errors back to the ${h}$ hidden units. ReLU acts entry by entry, so the chain "
             r"rule multiplies entry by entry ($\circ$) by its slope, which SymPy derives "
             r"from $\max(z, 0)$ on each side of 0 (at $z = 0$ the key would take 0; no "
             r"pre-activation here is 0). Then $z^{[1]} = W^{[1]} x + b^{[1]}$ gives the same "
             r"pattern as the output layer.",
        math=(eq(r"\mathrm{ReLU}'(z)", facts["d_relu"]),
              r"\frac{\partial L}{\partial a^{[1]}} = W^{[2]\top} \delta^{[2]},"
              rf"\qquad ({h} \times {k})({k} \times 1) = {gh} \times 1",
              eq(r"\delta^{[1]} = \frac{\partial L}{\partial z^{[1]}}", facts["d1_shown"])
              + rf",\qquad {h} \times 1",
              eq(r"\frac{\partial L}{\partial W^{[1]}}", facts["dW1_shown"])
              + rf",\qquad ({h} \times 1)(1 \times {n}) = {hh} \times {hn}",
              r"\frac{\partial L}{\partial b^{[1]}} = \delta^{[1]},\qquad " rf"{h} \times 1"))


def hidden_numbers(w: Work) -> Step:
    return Step(
        title="(c) Substituting the numbers",
        text=r"Entry $j$ of $W^{[2]\top} \delta^{[2]}$ is column $j$ of $W^{[2]}$ times "
             r"$\delta^{[2]}$; the slope is 1 for the active units ($z^{[1]}_j > 0$) and 0 "
             r"for the inactive ones, which pass no gradient back.",
        math=(eq(r"W^{[2]\top} \delta^{[2]}", shown_column(w.g_shown), Vector(w.g)),
              eq(r"\mathrm{ReLU}'(z^{[1]})", Vector(w.slope)),
              eq(r"\delta^{[1]}", shown_column(w.d1_shown), Vector(w.d1)),
              eq(r"\frac{\partial L}{\partial W^{[1]}} = \delta^{[1]} x^\top", w.dW1_shown,
                 w.dW1_shown.value),
              eq(r"\frac{\partial L}{\partial b^{[1]}}", Vector(w.d1))))


def sympy_check(w: Work, facts: dict) -> Step:
    n, h, k = w.shape
    return Step(
        title="(b), (c) Checked by SymPy",
        audience="instructor",
        text=r"SymPy's matrix calculus differentiates "
             r"$L = \frac{1}{2}(W^{[2]} a^{[1]} + b^{[2]} - t)^\top "
             r"(W^{[2]} a^{[1]} + b^{[2]} - t)$: "
             r"$\partial L / \partial W^{[2]} = @dW2d$, "
             r"$\partial L / \partial b^{[2]} = @db2d$ and "
             r"$\partial L / \partial a^{[1]} = @da1d$, the forms above with "
             r"$\delta^{[2]} = W^{[2]} a^{[1]} + b^{[2]} - t$. For this shape "
             rf"(${n}$ inputs, ${h}$ hidden units, ${k}$ outputs) SymPy also writes $L$ out with "
             r"symbolic entries and a generic activation $g$ in place of ReLU, differentiates "
             r"it with respect to every entry of $W^{[2]}$, $b^{[2]}$, $W^{[1]}$ and "
             r"$b^{[1]}$, and confirms the four matrix forms, with $g'(z^{[1]})$ in place of "
             r"$\mathrm{ReLU}'(z^{[1]})$.",
        values={"dW2d": facts["dW2"], "db2d": facts["db2"], "da1d": facts["da1"]})


@register
class MlpBackprop(Problem):
    id = "mlp_backprop"
    title = "Backpropagation through a one-hidden-layer ReLU network"

    def validate_options(self, options):
        require_decimals("max_abs", options.max_abs, options.places)

    def canonical(self, options):
        if (options.n, options.hidden, options.outputs) != (2, 2, 2):
            raise NoCanonical("the canonical variant has n = hidden = outputs = 2")
        return Params(x=exact_vector(("1", "0.5")),
                      W1=exact_matrix([["0.5", "-0.4"], ["-0.6", "0.2"]]),
                      b1=exact_vector(("0.1", "0.2")),
                      W2=exact_matrix([["0.3", "-0.5"], ["0.8", "0.2"]]),
                      b2=exact_vector(("0.1", "-0.2")),
                      t=exact_vector(("0.5", "0.1")))

    def generate(self, rng, options):
        n, h, k = options.n, options.hidden, options.outputs
        draw = lambda: sp.Rational(rng.decimal(-options.max_abs, options.max_abs,
                                               options.places, True))
        x = [draw() for _ in range(n)]
        W1 = [[draw() for _ in range(n)] for _ in range(h)]
        b1 = [draw() for _ in range(h)]
        W2 = [[draw() for _ in range(h)] for _ in range(k)]
        b2 = [draw() for _ in range(k)]
        t = [draw() for _ in range(k)]
        z1 = [sum((w * v for w, v in zip(row, x)), b) for row, b in zip(W1, b1)]
        if any(z == 0 for z in z1):
            raise Redraw("a pre-activation is exactly 0: ReLU has no derivative there")
        if all(z < 0 for z in z1):
            raise Redraw("every hidden unit is inactive")
        a1 = [max(z, 0) for z in z1]
        if all(sum((w * a for w, a in zip(row, a1)), b) == tk for row, b, tk in zip(W2, b2, t)):
            raise Redraw("the prediction equals the target: L = 0 and every gradient vanishes")
        return Params(x=Vector(x), W1=sp.ImmutableMatrix(W1), b1=Vector(b1),
                      W2=sp.ImmutableMatrix(W2), b2=Vector(b2), t=Vector(t))

    def statement(self, params, options):
        n, h, k = len(params.x), len(params.b1), len(params.b2)
        return (
            Step(text=r"A network with one hidden layer of $@h$ ReLU units maps "
                      r"$x \in \mathbb{R}^{@n}$ to $\hat y \in \mathbb{R}^{@k}$: "
                      r"$z^{[1]} = W^{[1]} x + b^{[1]}$, "
                      r"$a^{[1]} = \mathrm{ReLU}(z^{[1]}) = \max(z^{[1]}, 0)$ entry by entry, "
                      r"$\hat y = W^{[2]} a^{[1]} + b^{[2]}$, and the loss for the target $t$ is "
                      r"$L = \frac{1}{2} \lVert \hat y - t \rVert_2^2$. The numbers are "
                      r"$x = @x$, $W^{[1]} = @W1$, $b^{[1]} = @b1$, $W^{[2]} = @W2$, "
                      r"$b^{[2]} = @b2$ and $t = @t$.",
                 values={"n": sp.Integer(n), "h": sp.Integer(h), "k": sp.Integer(k),
                         "x": params.x, "W1": params.W1, "b1": params.b1, "W2": params.W2,
                         "b2": params.b2, "t": params.t}),
            graph(params, compute(params)),
            Part("(a)", r"Forward pass: compute $z^{[1]}$, $a^{[1]}$, $\hat y$ and $L$, entry by "
                        r"entry."),
            Part("(b)", r"Output layer: with $\delta^{[2]} = \partial L / \partial \hat y$, give "
                        r"$\partial L / \partial W^{[2]}$ and $\partial L / \partial b^{[2]}$ in "
                        r"matrix form with their shapes, and evaluate them."),
            Part("(c)", r"Hidden layer: give $\delta^{[1]} = \partial L / \partial z^{[1]}$, "
                        r"$\partial L / \partial W^{[1]}$ and $\partial L / \partial b^{[1]}$ in "
                        r"matrix form with their shapes, and evaluate them (40% of the points, "
                        r"half of them for $\delta^{[1]}$ as a formula)."),
        )

    def solve(self, params, options):
        n, h, k = len(params.x), len(params.b1), len(params.b2)
        facts = derive_once((self.id, n, h, k), lambda: formulas(n, h, k))
        work = compute(params)
        return Solution(
            steps=(forward_pass(work), output_rule(work, facts), output_numbers(work),
                   hidden_rule(work, facts), hidden_numbers(work), sympy_check(work, facts)),
            answers=(Answer("z1", "z^{[1]}", Vector(work.z1), part="(a)"),
                     Answer("a1", "a^{[1]}", Vector(work.a1), part="(a)",
                            constraints="nonnegative"),
                     Answer("y_hat", r"\hat y", Vector(work.y_hat), part="(a)"),
                     Answer("L", "L", work.L, part="(a)", constraints="nonnegative"),
                     Answer("dW2", r"\frac{\partial L}{\partial W^{[2]}}", work.dW2_shown.value,
                            part="(b)"),
                     Answer("db2", r"\frac{\partial L}{\partial b^{[2]}}", Vector(work.d2),
                            part="(b)"),
                     Answer("delta1", r"\delta^{[1]}", delta1_formula(work, DELTA1), part="(c)",
                            points=2),
                     Answer("dW1", r"\frac{\partial L}{\partial W^{[1]}}", work.dW1_shown.value,
                            part="(c)"),
                     Answer("db1", r"\frac{\partial L}{\partial b^{[1]}}", Vector(work.d1),
                            part="(c)")),
            work=work)

    follows = {"a1": ("z1",), "y_hat": ("a1",), "L": ("y_hat",), "db2": ("y_hat",),
               "dW2": ("db2", "a1"), "db1": ("db2", "z1"), "dW1": ("db1",)}

    def follow_through(self, params, given):
        """Each step of the forward and backward pass from the student's previous one."""
        z1, a1, y_hat, d2, d1 = (given[n] for n in ("z1", "a1", "y_hat", "db2", "db1"))
        return {"a1": np.maximum(z1, 0.0), "y_hat": params.W2 @ a1 + params.b2,
                "L": 0.5 * float(np.sum((y_hat - params.t) ** 2)), "db2": y_hat - params.t,
                "dW2": np.outer(d2, a1), "db1": (params.W2.T @ d2) * (z1 > 0),
                "dW1": np.outer(d1, params.x)}

    def mistakes(self, params, options, solution):
        return mistakes_that_apply(solution.work, missing_relu_mask, missing_half,
                                   no_transpose_W2, relu_value_not_slope, transposed_outer)

    def check(self, params, options, solution):
        """Plain NumPy closed forms, with tolerances from float64 error bounds, and central
        differences of L along one direction of each parameter (`directional_checks`).

        Every computed quantity q is a sum of products of the inputs; the same computation on
        their absolute values, |q|, bounds its terms, so q is off by at most about T·u·|q|
        with T the number of operations in a chain (< n + h + k + 10).  Relative to the
        answer's largest entry that is T·u·κ, κ = max|q| / max q (1 without cancellation)."""
        x, W1, b1 = as_float(params.x), as_float(params.W1), as_float(params.b1)
        W2, b2, t = as_float(params.W2), as_float(params.b2), as_float(params.t)
        T = len(x) + len(b1) + len(b2) + 10

        def rtol(bound, value):
            top = float(np.max(np.abs(value), initial=0.0))
            return max(1e-12, 8 * T * _UNIT * float(np.max(bound, initial=0.0)) / max(top, 1e-300))

        z1, a1, d2 = float_forward(x, t, W1, b1, W2, b2)
        on = z1 > 0
        L = 0.5 * float(np.dot(d2, d2))
        d1 = np.where(on, W2.T @ d2, 0.0)
        bz = np.abs(W1) @ np.abs(x) + np.abs(b1)
        ba = np.where(on, bz, 0.0)
        by = np.abs(W2) @ ba + np.abs(b2)
        bd = by + np.abs(t)
        bd1 = np.where(on, np.abs(W2).T @ bd, 0.0)
        assert_close_scaled("z1", solution.answer("z1"), z1, rtol(bz, z1))
        assert_close_scaled("a1", solution.answer("a1"), a1, rtol(ba, a1))
        assert_close_scaled("y_hat", solution.answer("y_hat"), d2 + t, rtol(by, d2 + t))
        assert_close_scaled("L", solution.answer("L"), L, rtol(float(bd @ bd), L))
        assert_close_scaled("db2", solution.answer("db2"), d2, rtol(bd, d2))
        assert_close_scaled("dW2", solution.answer("dW2"), np.outer(d2, a1),
                            rtol(np.outer(bd, ba), np.outer(d2, a1)))
        assert_close_scaled("db1", solution.answer("db1"), d1, rtol(bd1, d1))
        assert_close_scaled("dW1", solution.answer("dW1"), np.outer(d1, x),
                            rtol(np.outer(bd1, np.abs(x)), np.outer(d1, x)))
        directional_checks(solution, x, t, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, z1, T)


#: δ¹ as a typed formula (core/formula.py) over the names of the statement.
DELTA1 = "(W2^T*delta2) .* relu'(z1)"


def delta1_formula(w: Work, text: str) -> Expression:
    """A formula for δ¹ at this variant's shape: W² (k × h), z¹ (h × 1), ŷ and t (k × 1),
    with δ² = ŷ − t and a¹ = ReLU(z¹)."""
    _, h, k = w.shape
    return Expression(text, {"W2": (k, h), "z1": (h, 1), "yhat": (k, 1), "t": (k, 1)},
                      {"delta2": "yhat - t", "a1": "relu(z1)"},
                      {"W2": "W^{[2]}", "z1": "z^{[1]}", "delta2": r"\delta^{[2]}",
                       "a1": "a^{[1]}"})


# The mistakes, each from the key's exact work (None where it gives the key's values, unless
# its formula for δ¹ still differs from the key's).
def _outer(u, v):
    return sp.ImmutableMatrix([[a * b for b in v] for a in u])


def _hidden(w: Work, d1_wrong, formula: str):
    """The hidden layer's gradients from a wrong δ¹ (only its formula for δ¹ where the
    numbers are the key's)."""
    values = {"delta1": delta1_formula(w, formula)}
    if d1_wrong != w.d1:
        values.update(dW1=_outer(d1_wrong, w.x), db1=Vector(d1_wrong))
    return values


def _back(w: Work) -> list:
    """W²ᵀδ², entry by entry."""
    _, h, k = w.shape
    return [sum(w.W2[i][j] * w.d2[i] for i in range(k)) for j in range(h)]


def missing_relu_mask(w: Work):
    wrong = _hidden(w, _back(w), "W2^T*delta2")
    return Mistake(
        "missing_relu_mask", "ReLU′ left out",
        "$\\delta^{[1]} = W^{[2]\\top} \\delta^{[2]}$ without "
        "$\\circ\\, \\mathrm{ReLU}'(z^{[1]})$: an inactive unit ($z^{[1]}_j < 0$) has "
        "slope 0 and passes no gradient to its weights", wrong)


def missing_half(w: Work):
    two = sp.Integer(2)
    return Mistake(
        "missing_half", "the 1/2 of L dropped",
        "$L$ taken as $\\lVert \\hat y - t \\rVert_2^2$ without the $\\frac{1}{2}$, so "
        "$\\delta^{[2]} = 2(\\hat y - t)$ and every gradient is doubled",
        {"L": two * w.L, "dW2": two * w.dW2_shown.value, "db2": Vector(two * v for v in w.d2),
         "dW1": two * w.dW1_shown.value, "db1": Vector(two * v for v in w.d1),
         "delta1": delta1_formula(w, "2*(W2^T*delta2) .* relu'(z1)")})


def no_transpose_W2(w: Work):
    _, h, k = w.shape
    if h != k:
        return None
    wrong = _hidden(w, [sum(w.W2[j][i] * w.d2[i] for i in range(k)) * w.slope[j]
                        for j in range(h)], "(W2*delta2) .* relu'(z1)")
    return Mistake(
        "no_transpose_W2", "W2 instead of its transpose",
        "$W^{[2]} \\delta^{[2]}$ instead of $W^{[2]\\top} \\delta^{[2]}$: hidden "
        "unit $j$ collects $\\sum_k W^{[2]}_{kj} \\delta^{[2]}_k$, column $j$ of "
        "$W^{[2]}$, as the shapes $(h \\times k)(k \\times 1)$ demand", wrong)


def relu_value_not_slope(w: Work):
    wrong = _hidden(w, [b * a for b, a in zip(_back(w), w.a1)], "(W2^T*delta2) .* a1")
    return Mistake(
        "relu_value_not_slope", "ReLU(z) for ReLU′(z)",
        "$\\delta^{[1]} = (W^{[2]\\top} \\delta^{[2]}) \\circ a^{[1]}$: the chain rule "
        "multiplies by the slope $\\mathrm{ReLU}'(z^{[1]})$ (1 or 0), not by the "
        "activation $\\mathrm{ReLU}(z^{[1]})$ itself", wrong)


def transposed_outer(w: Work):
    n, h, k = w.shape
    flipped = {}
    if h == k and _outer(w.a1, w.d2) != w.dW2_shown.value:
        flipped["dW2"] = _outer(w.a1, w.d2)
    if n == h and _outer(w.x, w.d1) != w.dW1_shown.value:
        flipped["dW1"] = _outer(w.x, w.d1)
    if not flipped:
        return None
    wrong_forms = {"dW2": ("$a^{[1]} \\delta^{[2]\\top}$", "$\\delta^{[2]} a^{[1]\\top}$"),
                   "dW1": ("$x\\, \\delta^{[1]\\top}$", "$\\delta^{[1]} x^\\top$")}
    said, meant = zip(*(wrong_forms[name] for name in ("dW2", "dW1") if name in flipped))
    return Mistake(
        "transposed_outer", "outer product transposed",
        f"{' and '.join(said)} instead of {' and '.join(meant)}: entry $(k, j)$ of "
        "$\\partial L / \\partial W^{[2]}$ is $\\delta^{[2]}_k a^{[1]}_j$ and entry "
        "$(j, l)$ of $\\partial L / \\partial W^{[1]}$ is $\\delta^{[1]}_j x_l$: a "
        "gradient has its weight matrix's shape", flipped)


# The independent check in float64, from the parameters alone.
def float_forward(x, t, W1, b1, W2, b2):
    """z¹, a¹ and ŷ − t in float64."""
    z = W1 @ x + b1
    a = np.maximum(z, 0.0)
    d = W2 @ a + b2 - t
    return z, a, d


def directional_checks(solution, x, t, base: dict, z1, T: int) -> None:
    """Central differences along one direction per parameter.  With the activation pattern
    fixed, L is quadratic along the line, so the difference has no truncation error; the
    step keeps every z¹_j on its side of 0.  Only the rounding of the two evaluations of L
    remains, bounded (and divided by 2s) below."""
    grads = {name: as_float(solution.answer("d" + name)) for name in base}
    margin = float(np.min(np.abs(z1)))
    for name, value in base.items():
        direction = np.cos(np.arange(1, value.size + 1, dtype=np.float64)).reshape(value.shape)
        step = max(float(np.max(np.abs(value))), 1e-12) / float(np.max(np.abs(direction)))
        if name in ("W1", "b1"):
            shift = np.abs(direction @ x) if name == "W1" else np.abs(direction)
            step = min(step, 0.5 * margin / max(float(np.max(shift)), 1e-300))

        def loss(s):
            moved = dict(base, **{name: value + s * direction})
            return 0.5 * float(np.sum(float_forward(x, t, moved["W1"], moved["b1"], moved["W2"],
                                                    moved["b2"])[2] ** 2))

        fd = (loss(step) - loss(-step)) / (2 * step)
        exact = float(np.sum(grads[name] * direction))
        big = dict(base, **{name: np.abs(value) + step * np.abs(direction)})
        za = np.abs(big["W1"]) @ np.abs(x) + np.abs(big["b1"])
        dy = np.abs(big["W2"]) @ za + np.abs(big["b2"]) + np.abs(t)
        evaluations = float(dy @ dy)
        allowed = (1e-9 * float(np.linalg.norm(grads[name])) * float(np.linalg.norm(direction))
                   + 16 * T * _UNIT * evaluations / step)
        if not abs(fd - exact) <= allowed:
            raise CheckFailed(f"d{name}: directional derivative {exact!r} vs finite "
                              f"difference {fd!r}")
