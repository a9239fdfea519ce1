"""L = ‖Wx‖²: the forward pass and both gradients, entry by entry."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, NoCanonical, Problem, Redraw, Solution, Step, Vector, as_float,
                       assert_close, exact_matrix, exact_vector, numeric_gradient, option, register,
                       shown_dot, shown_matrix, shown_product, shown_square, shown_sum)


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


@register
class MatrixBackprop(Problem):
    id = "matrix_backprop"
    title = "Backpropagation through L = ‖Wx‖²"
    Options = Options
    Params = Params

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
            Step(text="\n".join([
                r"- Compute $Wx$ and $L$.",
                r"- Derive $\dfrac{\partial L}{\partial W}$ and $\dfrac{\partial L}{\partial x}$"
                r" in matrix form, stating the shapes.",
                r"- Evaluate both gradients for the given $W$ and $x$."])),
        )

    def solve(self, params, options):
        W, x = params.W.tolist(), params.x
        m, n = len(W), len(x)
        rows = [shown_dot(W[i], x) for i in range(m)]
        Wx = Vector(r.value for r in rows)
        L_sum = shown_sum(shown_square(v) for v in Wx)
        L = L_sum.value

        dW_shown = shown_matrix([[shown_product(2, Wx[k], x[l]) for l in range(n)] for k in range(m)])
        dW = dW_shown.value
        dx_entries = [shown_product(2, shown_dot([W[k][l] for k in range(m)], Wx)) for l in range(n)]
        dx_shown = shown_matrix([[e] for e in dx_entries])
        dx = Vector(e.value for e in dx_entries)

        forward = Step(
            title="Forward pass",
            text="Each entry of $Wx$ is a row of $W$ times $x$; $L$ is the sum of their squares.",
            math=tuple(f"(Wx)_{{{i + 1}}} = @s{i} = @v{i}" for i in range(m))
            + (r"L = \sum_i (Wx)_i^2 = @Lsum = @L",),
            values={**{f"s{i}": rows[i] for i in range(m)},
                    **{f"v{i}": Wx[i] for i in range(m)}, "Lsum": L_sum, "L": L})
        derivation = Step(
            title="Derivation in index notation",
            text=r"Write $L$ with indices, differentiate one entry at a time, then read the "
                 r"result back as a matrix product.",
            math=(r"L = \sum_{i} \Bigl(\sum_{j} W_{ij}\, x_j\Bigr)^2",
                  r"\frac{\partial L}{\partial W_{kl}} = 2 \Bigl(\sum_{j} W_{kj}\, x_j\Bigr) x_l"
                  r" = 2\,(Wx)_k\, x_l",
                  r"\Rightarrow\quad \frac{\partial L}{\partial W} = 2\,(Wx)\,x^\top,"
                  r"\qquad (@m \times 1)(1 \times @n) = @m \times @n",
                  r"\frac{\partial L}{\partial x_l} = \sum_{k} 2\,(Wx)_k\, W_{kl}",
                  r"\Rightarrow\quad \frac{\partial L}{\partial x} = 2\,W^\top (Wx),"
                  r"\qquad (@n \times @m)(@m \times 1) = @n \times 1"),
            values={"m": sp.Integer(m), "n": sp.Integer(n)})
        numbers = Step(
            title="Substituting the numbers",
            text=r"Entry $(k, l)$ of $\partial L/\partial W$ is $2\,(Wx)_k\,x_l$; entry $l$ of "
                 r"$\partial L/\partial x$ is $2 \sum_k W_{kl}\,(Wx)_k$.",
            math=(r"\frac{\partial L}{\partial W} = @dWs = @dW",
                  r"\frac{\partial L}{\partial x} = @dxs = @dx"),
            values={"dWs": dW_shown, "dW": dW, "dxs": dx_shown, "dx": dx})
        return Solution(
            steps=(forward, derivation, numbers),
            answers=(Answer("Wx", "Wx", Wx), Answer("L", "L", L),
                     Answer("dL_dW", r"\frac{\partial L}{\partial W}", dW),
                     Answer("dL_dx", r"\frac{\partial L}{\partial x}", dx)))

    def check(self, params, options, solution):
        W, x = as_float(params.W), as_float(params.x)
        assert_close("Wx", solution.answer("Wx"), W @ x)
        assert_close("L", solution.answer("L"), float(np.sum((W @ x) ** 2)))
        assert_close("dL_dW", solution.answer("dL_dW"),
                     numeric_gradient(lambda w: float(np.sum((w @ x) ** 2)), W), rtol=1e-5)
        assert_close("dL_dx", solution.answer("dL_dx"),
                     numeric_gradient(lambda v: float(np.sum((W @ v) ** 2)), x), rtol=1e-5)
