"""A vanilla RNN over T inputs: hₜ = tanh(Wₓₕxₜ + Wₕₕhₜ₋₁ + b), L = ½‖h_T − t‖², the forward
pass and backpropagation through time, step by step, with tanh′ = 1 − tanh²."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, Defined, Graph, GraphEdge, GraphNode, Mistake, NoCanonical, Part, Problem, Solution, Step,
                   Vector, approx, as_float, assert_close, defined, derive_once, derived, eq,
                   exact_matrix, exact_vector, numeric_gradient, option, register, shown_dot,
                   shown_sum, verified)

#: The formulas SymPy derives or verifies (see `formulas`).
DERIVED = ("tanh'", "tanh' = 1 - tanh^2", "dL/dWxh (BPTT)", "dL/dWhh (BPTT)", "dL/db (BPTT)",
           "dL/dh0 (BPTT)")


# --- the forms the key states; `formulas` checks them against SymPy, `solve` evaluates them ---

def preactivation(Wxh, x, Whh, h_prev, b):
    """z_t = Wₓₕ x_t + Wₕₕ h_{t−1} + b, entry by entry (lists of rows)."""
    return [sp.Add(*[w * v for w, v in zip(Wxh[k], x)], *[w * v for w, v in zip(Whh[k], h_prev)],
                   b[k]) for k in range(len(b))]


def tanh_slope(h):
    """tanh′(z) = 1 − tanh²(z), written with h = tanh(z)."""
    return 1 - h ** 2


def bptt(xs, hs, Whh, dL_dhT, slope, steps=None, name=None):
    """Backpropagation through time.  xs: the T inputs; hs: h_0 … h_T; `slope(t, k)` the
    activation's derivative at z_{t,k}; `steps`: the time steps whose contributions are
    summed (all by default); `name(t, k, value)` may name each δ_{t,k}.

        δ_t = ∂L/∂z_t = ∂L/∂h_t ∘ slope_t,      ∂L/∂h_{t−1} = Wₕₕᵀ δ_t
        ∂L/∂Wₓₕ = Σ_t δ_t x_tᵀ,  ∂L/∂Wₕₕ = Σ_t δ_t h_{t−1}ᵀ,  ∂L/∂b = Σ_t δ_t,  ∂L/∂h_0 = Wₕₕᵀ δ_1

    Returns (δ by step, ∂L/∂h by step (index t: ∂L/∂h_t, t = 0 … T), dWxh, dWhh, db, dh0)."""
    T, H, n = len(xs), len(hs[0]), len(xs[0])
    steps = range(1, T + 1) if steps is None else steps
    deltas, grads = [None] * (T + 1), [None] * (T + 1)
    g = list(dL_dhT)
    grads[T] = g
    for t in range(T, 0, -1):
        d = [g[k] * slope(t, k) for k in range(H)]
        if name is not None:
            d = [name(t, k, v) for k, v in enumerate(d)]
        deltas[t] = d
        g = [sp.Add(*[Whh[k][j] * d[k] for k in range(H)]) for j in range(H)]
        grads[t - 1] = g
    dWxh = [[sp.Add(*[deltas[t][k] * xs[t - 1][l] for t in steps]) for l in range(n)]
            for k in range(H)]
    dWhh = [[sp.Add(*[deltas[t][k] * hs[t - 1][j] for t in steps]) for j in range(H)]
            for k in range(H)]
    db = [sp.Add(*[deltas[t][k] for t in steps]) for k in range(H)]
    return deltas, grads, dWxh, dWhh, db, grads[0]


def _symbols(name, rows, cols=None):
    if cols is None:
        return [sp.Symbol(f"{name}_{i + 1}", real=True) for i in range(rows)]
    return [[sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True) for j in range(cols)]
            for i in range(rows)]


def formulas(T: int, n: int, H: int) -> dict:
    """tanh′ from SymPy; then, for this shape, L = ½‖h_T − t‖² unrolled over the T steps with
    symbolic entries and a generic activation g, differentiated by SymPy with respect to
    every entry of Wₓₕ, Wₕₕ, b and h_0, and compared with the recursive form (`bptt`, g′ in
    place of tanh′)."""
    z = sp.Symbol("z", real=True)
    d_tanh = derived(sp.diff(sp.tanh(z), z), name="tanh'")
    verified(d_tanh, tanh_slope(sp.tanh(z)), name="tanh' = 1 - tanh^2")
    xs = _symbols("x", T, n)
    h0, b, t = _symbols("h0", H), _symbols("b", H), _symbols("t", H)
    Wxh, Whh = _symbols("U", H, n), _symbols("W", H, H)
    g, s = sp.Function("g"), sp.Symbol("s")
    hs, zs = [h0], [None]
    for step in range(T):
        zs.append(preactivation(Wxh, xs[step], Whh, hs[-1], b))
        hs.append([g(v) for v in zs[-1]])
    L = sp.Rational(1, 2) * sp.Add(*[(h - tk) ** 2 for h, tk in zip(hs[T], t)])
    slope = lambda step, k: g(s).diff(s).subs(s, zs[step][k])
    _, _, dWxh, dWhh, db, dh0 = bptt(xs, hs, Whh, [h - tk for h, tk in zip(hs[T], t)], slope)
    zero = lambda e: sp.expand(e) == 0
    grad = lambda params: sp.Matrix([[sp.diff(L, p) for p in row] for row in params])
    verified(grad(Wxh), sp.Matrix(dWxh), name="dL/dWxh (BPTT)", zero=zero)
    verified(grad(Whh), sp.Matrix(dWhh), name="dL/dWhh (BPTT)", zero=zero)
    verified(grad([b]).T, sp.Matrix(db), name="dL/db (BPTT)", zero=zero)
    verified(grad([h0]).T, sp.Matrix(dh0), name="dL/dh0 (BPTT)", zero=zero)
    return {"d_tanh": d_tanh}


@dataclass(frozen=True)
class Options:
    T: int = option(2, 2, 3)                   # time steps
    n: int = option(1, 1, 2)                   # input size
    hidden: int = option(2, 1, 3)              # hidden size


@dataclass(frozen=True)
class Params:
    x: sp.ImmutableMatrix          # T rows: x_1 … x_T
    h0: Vector
    Wxh: sp.ImmutableMatrix
    Whh: sp.ImmutableMatrix
    b: Vector
    t: Vector


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, with their working (shared by the steps, the
    answers and the mistakes).  Lists of rows; index t of hs, zs, deltas and grads is the
    time step (hs[0] = h_0); each h_{t,k} and δ_{t,k} is a named value (`defined`)."""
    xs: list
    Wxh: list
    Whh: list
    b: list
    hs: list
    zs: list
    resid: list           # h_T − t
    L: sp.Expr
    deltas: list
    grads: list           # ∂L/∂h_t
    dWxh: list
    dWhh: list
    db: list
    dh0: list

    @property
    def T(self) -> int:
        return len(self.xs)

    @property
    def n(self) -> int:
        return len(self.xs[0])

    @property
    def H(self) -> int:
        return len(self.b)

    @property
    def h(self) -> sp.ImmutableMatrix:
        """h_1 … h_T as rows, each entry tanh(z_{t,k}) written out: the answer."""
        return sp.ImmutableMatrix(self.T, self.H, lambda s, k: sp.tanh(self.zs[s + 1][k]))


def forward_states(params):
    """h_0 … h_T (each h_{t,k} named, rationals as they are) and z_1 … z_T (index t)."""
    xs, Wxh, Whh = params.x.tolist(), params.Wxh.tolist(), params.Whh.tolist()
    hs, zs = [list(params.h0)], [None]
    for step in range(len(xs)):
        z = preactivation(Wxh, xs[step], Whh, hs[-1], list(params.b))
        zs.append(z)
        hs.append([defined(rf"h_{{{step + 1},{k + 1}}}", sp.tanh(v)) for k, v in enumerate(z)])
    return hs, zs


def compute(params) -> Work:
    xs, Wxh, Whh = params.x.tolist(), params.Wxh.tolist(), params.Whh.tolist()
    hs, zs = forward_states(params)
    resid = [h - target for h, target in zip(hs[-1], params.t)]
    deltas, grads, dWxh, dWhh, db, dh0 = bptt(
        xs, hs, Whh, resid, lambda s, k: tanh_slope(hs[s][k]),
        name=lambda s, k, v: defined(rf"\delta_{{{s},{k + 1}}}", v))
    return Work(xs=xs, Wxh=Wxh, Whh=Whh, b=list(params.b), hs=hs, zs=zs, resid=resid,
                L=sp.Rational(1, 2) * sp.Add(*[r ** 2 for r in resid]), deltas=deltas,
                grads=grads, dWxh=dWxh, dWhh=dWhh, db=db, dh0=dh0)


def exact(v):
    """The closed form a named value stands for (a rational is its own)."""
    return v.args[0] if isinstance(v, Defined) else v


def graph(w: Work) -> Graph:
    """The network unrolled over T steps, h_0 → h_1 → … → h_T → L with x_t into h_t: the
    states' values, and ∂L/∂h_{t−1} = W_hhᵀ δ_t flowing back along the chain (∂L/∂x_t =
    W_xhᵀ δ_t along the inputs)."""
    vector = lambda entries: Vector(exact(v) for v in entries)
    nodes = [GraphNode("h0", "h_0", vector(w.hs[0]))]
    edges = []
    for t in range(1, w.T + 1):
        nodes += [GraphNode(f"x{t}", f"x_{{{t}}}", Vector(w.xs[t - 1])),
                  GraphNode(f"h{t}", f"h_{{{t}}}", vector(w.hs[t]))]
        dx = Vector(sp.Add(*[w.Wxh[k][l] * w.deltas[t][k] for k in range(w.H)])
                    for l in range(w.n))
        edges += [GraphEdge(f"h{t - 1}", f"h{t}", Vector(w.grads[t - 1])),
                  GraphEdge(f"x{t}", f"h{t}", dx)]
    nodes.append(GraphNode("L", "L", w.L))
    edges.append(GraphEdge(f"h{w.T}", "L", Vector(w.grads[w.T])))
    return Graph(tuple(nodes), tuple(edges),
                 caption=r"The network unrolled over the $T$ steps: each state's value, and in "
                         r"red the gradient flowing back, $\partial L / \partial h_{t-1} = "
                         r"W_{hh}^\top \delta_t$ along the chain and $W_{xh}^\top \delta_t$ "
                         r"into each input. The shared weights collect $\delta_t x_t^\top$, "
                         r"$\delta_t h_{t-1}^\top$ and $\delta_t$ from every step.")


def forward_step(w: Work, step: int) -> Step:
    lines = []
    for k in range(w.H):
        working = shown_sum([*shown_dot(w.Wxh[k], w.xs[step - 1]).args,
                             *shown_dot(w.Whh[k], w.hs[step - 1]).args, w.b[k]])
        z = w.zs[step][k]
        lines += [eq(rf"z_{{{step},{k + 1}}}", working, approx(z)),
                  eq(rf"h_{{{step},{k + 1}}} = \tanh(z_{{{step},{k + 1}}})", approx(sp.tanh(z)))]
    return Step(
        title=f"(a) Step {step}",
        text=("$z_{t,k}$ is row $k$ of $W_{xh}$ times $x_t$, plus row $k$ of $W_{hh}$ "
              "times $h_{t-1}$, plus $b_k$. " if step == 1 else
              "From here on each $h_{t,k}$ keeps its name, with its rounded value "
              "beside it; its exact value is the closed form it names. ")
        + "Each entry is then squashed by $\\tanh$.",
        math=tuple(lines))


def the_loss(w: Work) -> Step:
    return Step(
        title="(a) The loss",
        math=(eq(rf"h_{{{w.T}}} - t", approx(Vector(w.resid))),
              eq(rf"L = \frac{{1}}{{2}} \lVert h_{{{w.T}}} - t \rVert_2^2", approx(w.L))))


def recursion(w: Work, facts: dict) -> Step:
    return Step(
        title="(b) Backpropagation through time",
        text="$L$ depends on $h_T$ directly, and on every earlier state only through the "
             "next one, so the gradient flows back one step at a time. With $h_t = \\tanh(z_t)$ "
             "and SymPy's $\\tanh'(z) = @dtanh$, the chain rule gives, entry by entry "
             "($\\circ$), the recursion below. The weights are shared by all the steps, so "
             "their gradients add up the contributions of every step.",
        math=(r"\frac{\partial L}{\partial h_T} = h_T - t,\qquad "
              r"\delta_t = \frac{\partial L}{\partial z_t} = \frac{\partial L}{\partial h_t}"
              r" \circ \bigl(1 - h_t \circ h_t\bigr),\qquad "
              r"\frac{\partial L}{\partial h_{t-1}} = W_{hh}^\top \delta_t",
              r"\frac{\partial L}{\partial W_{xh}} = \sum_{t=1}^{T} \delta_t\, x_t^\top,\qquad "
              r"\frac{\partial L}{\partial W_{hh}} = \sum_{t=1}^{T} \delta_t\, h_{t-1}^\top,"
              r"\qquad \frac{\partial L}{\partial b} = \sum_{t=1}^{T} \delta_t,\qquad "
              r"\frac{\partial L}{\partial h_0} = W_{hh}^\top \delta_1"),
        values={"dtanh": facts["d_tanh"]},
        substeps=(Step(text=f"SymPy confirms the four gradients for $T = {w.T}$ steps (input "
                            f"size ${w.n}$, ${w.H}$ hidden units) by differentiating $L$ unrolled "
                            "over the steps, with symbolic entries and a generic activation $g$ "
                            "in place of $\\tanh$.", audience="instructor"),))


def back_step(w: Work, step: int) -> Step:
    via = rf"h_{{{w.T}}} - t" if step == w.T else rf"W_{{hh}}^\top \delta_{{{step + 1}}}"
    return Step(
        title=f"(c) Back through step {step}",
        text=("Multiply by $1 - h_{t,k}^2$ entry by entry; each $\\delta_{t,k}$ keeps its "
              "name below." if step == w.T else ""),
        math=(eq(rf"\frac{{\partial L}}{{\partial h_{{{step}}}}}", via,
                 approx(Vector(w.grads[step]))),
              *(eq(rf"\delta_{{{step},{k + 1}}}", approx(exact(d)))
                for k, d in enumerate(w.deltas[step]))))


def the_gradients(w: Work) -> Step:
    return Step(
        title="(c) The gradients",
        text=f"Each sum runs over the ${w.T}$ steps, in the order $t = 1, \\dots, {w.T}$.",
        math=(eq(r"\frac{\partial L}{\partial W_{xh}} = \sum_t \delta_t\, x_t^\top",
                 approx(sp.ImmutableMatrix(w.dWxh))),
              eq(r"\frac{\partial L}{\partial W_{hh}} = \sum_t \delta_t\, h_{t-1}^\top",
                 approx(sp.ImmutableMatrix(w.dWhh))),
              eq(r"\frac{\partial L}{\partial b} = \sum_t \delta_t", approx(Vector(w.db))),
              eq(r"\frac{\partial L}{\partial h_0} = W_{hh}^\top \delta_1",
                 approx(Vector(w.dh0)))))


def student_gradients(w: Work, mid: str, slope, steps=None, with_h0=True) -> dict:
    """The answers' gradients by a student's backward pass (`bptt` with another activation
    slope or other steps summed); the student's δ are named with `mid` as a superscript."""
    _, _, dWxh, dWhh, db, dh0 = bptt(
        w.xs, w.hs, w.Whh, w.resid, slope, steps=steps,
        name=lambda s, k, v: defined(rf"\delta^{{\mathrm{{{mid}}}}}_{{{s},{k + 1}}}", v))
    out = {"dWxh": sp.ImmutableMatrix(dWxh), "dWhh": sp.ImmutableMatrix(dWhh), "db": Vector(db)}
    if with_h0:
        out["dh0"] = Vector(dh0)
    return out


def plain_states(X, Wxh, Whh, b, h0):
    """h_0 … h_T in float64 (the check's own forward pass)."""
    out = [h0]
    for x in X:
        out.append(np.tanh(Wxh @ x + Whh @ out[-1] + b))
    return out


def unrolled_gradients(X, hs, Whh, e):
    """∂L/∂Wₓₕ, ∂L/∂Wₕₕ, ∂L/∂b and ∂L/∂z_1 in float64 from ∂L/∂z_t = Jₜᵀ e, with
    Jₜ = ∂h_T/∂z_t = D_T Wₕₕ D_{T−1} Wₕₕ … D_t multiplied out (D_t = diag(1 − h_t²))."""
    T = X.shape[0]
    gWxh, gWhh, gb = np.zeros((Whh.shape[0], X.shape[1])), np.zeros_like(Whh), np.zeros_like(e)
    dz1 = None
    for s in range(1, T + 1):
        J = np.diag(1 - hs[s] ** 2)
        for r in range(s + 1, T + 1):
            J = np.diag(1 - hs[r] ** 2) @ Whh @ J
        dz = J.T @ e
        gWxh += np.outer(dz, X[s - 1])
        gWhh += np.outer(dz, hs[s - 1])
        gb += dz
        if s == 1:
            dz1 = dz
    return gWxh, gWhh, gb, dz1


@register
class RnnStep(Problem):
    id = "rnn_step"
    title = "A vanilla RNN: forward pass and backpropagation through time"

    def canonical(self, options):
        if (options.T, options.n, options.hidden) != (2, 1, 2):
            raise NoCanonical("the canonical variant has T = 2, n = 1 and hidden = 2")
        return Params(x=exact_matrix([["1"], ["-1"]]), h0=exact_vector(("0", "0")),
                      Wxh=exact_matrix([["0.5"], ["-0.5"]]),
                      Whh=exact_matrix([["1", "0"], ["0", "0.5"]]),
                      b=exact_vector(("0", "0")), t=exact_vector(("0", "0.5")))

    def generate(self, rng, options):
        T, n, H = options.T, options.n, options.hidden
        draw = lambda count, low, high, nonzero=True: [
            sp.Rational(v) for v in rng.decimals(count, low, high, 1, nonzero=nonzero)]
        x = exact_matrix(draw(T * n, -1, 1), (T, n))
        h0 = Vector(draw(H, "-0.5", "0.5", False))
        Wxh = exact_matrix(draw(H * n, -1, 1), (H, n))
        Whh = exact_matrix(draw(H * H, -1, 1), (H, H))
        b = Vector(draw(H, "-0.5", "0.5", False))
        t = Vector(draw(H, -1, 1, False))
        return Params(x=x, h0=h0, Wxh=Wxh, Whh=Whh, b=b, t=t)

    def statement(self, params, options):
        T, H, n = params.x.rows, len(params.h0), params.x.cols
        xs = ", ".join(f"$x_{{{t + 1}}} = @x{t}$" for t in range(T))
        return (
            Step(text="A recurrent network with $@H$ hidden units reads $T = @T$ inputs of size "
                      "$@n$, " + xs + ", starting from $h_0 = @h0$:\n\n"
                      "$h_t = \\tanh(W_{xh} x_t + W_{hh} h_{t-1} + b)$, $t = 1, \\dots, T$, "
                      "with $W_{xh} = @Wxh$, $W_{hh} = @Whh$ and $b = @b$. The loss on the last "
                      "state for the target $t = @tt$ is "
                      "$L = \\frac{1}{2} \\lVert h_T - t \\rVert_2^2$.",
                 values={"H": sp.Integer(H), "T": sp.Integer(T), "n": sp.Integer(n),
                         "h0": params.h0, "Wxh": params.Wxh, "Whh": params.Whh, "b": params.b,
                         "tt": params.t,
                         **{f"x{t}": Vector(params.x.row(t)) for t in range(T)}}),
            Part("(a)", "Forward pass: compute $h_1, \\dots, h_T$ and $L$."),
            Part("(b)", "Backpropagation through time: write the recursion for "
                        "$\\delta_t = \\partial L / \\partial z_t$ "
                        "($z_t = W_{xh} x_t + W_{hh} h_{t-1} + b$) and the gradients, using "
                        "$\\tanh'(z) = 1 - \\tanh^2(z)$."),
            Part("(c)", "Evaluate $\\partial L / \\partial W_{xh}$, "
                        "$\\partial L / \\partial W_{hh}$, $\\partial L / \\partial b$ and "
                        "$\\partial L / \\partial h_0$."),
        )

    def solve(self, params, options):
        T, n, H = params.x.rows, params.x.cols, len(params.b)
        facts = derive_once((self.id, T, n, H), lambda: formulas(T, n, H))
        work = compute(params)
        return Solution(
            steps=(*(forward_step(work, step) for step in range(1, T + 1)), the_loss(work),
                   recursion(work, facts), graph(work),
                   *(back_step(work, step) for step in range(T, 0, -1)),
                   the_gradients(work)),
            answers=(Answer("h", "h", work.h, part="(a)"),
                     Answer("L", "L", work.L, part="(a)", constraints="nonnegative"),
                     Answer("dWxh", r"\frac{\partial L}{\partial W_{xh}}",
                            sp.ImmutableMatrix(work.dWxh), part="(c)"),
                     Answer("dWhh", r"\frac{\partial L}{\partial W_{hh}}",
                            sp.ImmutableMatrix(work.dWhh), part="(c)"),
                     Answer("db", r"\frac{\partial L}{\partial b}", Vector(work.db), part="(c)"),
                     Answer("dh0", r"\frac{\partial L}{\partial h_0}", Vector(work.dh0),
                            part="(c)")),
            work=work)

    follows = {"h": ("h",), "L": ("h",), "dWxh": ("h",), "dWhh": ("h",), "db": ("h",),
               "dh0": ("h",)}

    def follow_through(self, params, given):
        """Each state from the student's previous one; L and every gradient from their
        states (backpropagation through time on them)."""
        X = np.asarray(params.x).reshape(len(given["h"]), -1)
        h0, Whh = params.h0, params.Whh
        states = [h0, *given["h"]]
        h = [np.tanh(params.Wxh @ x + Whh @ prev + params.b) for x, prev in zip(X, states)]
        gWxh, gWhh, gb, dz1 = unrolled_gradients(X, states, Whh, states[-1] - params.t)
        return {"h": np.array(h), "L": 0.5 * float(np.sum((states[-1] - params.t) ** 2)),
                "dWxh": gWxh, "dWhh": gWhh, "db": gb, "dh0": Whh.T @ dz1}

    def mistakes(self, params, options, solution):
        w = solution.work
        tanh_prime = lambda s, k: tanh_slope(w.hs[s][k])
        return (
            Mistake("truncated_bptt", "BPTT stopped after the last step",
                    "only the contribution of step $T$ is kept "
                    "($\\delta_T x_T^\\top$, $\\delta_T h_{T-1}^\\top$, $\\delta_T$): the loss "
                    "also depends on the weights through every earlier step, via "
                    "$\\partial L/\\partial h_{t-1} = W_{hh}^\\top \\delta_t$",
                    student_gradients(w, "tr", tanh_prime, steps=[w.T], with_h0=False)),
            Mistake("missing_tanh_derivative", "tanh′ left out",
                    "$\\delta_t = \\partial L/\\partial h_t$ without the factor "
                    "$1 - h_t^2$: the chain rule passes through $h_t = \\tanh(z_t)$",
                    student_gradients(w, "nt", lambda s, k: sp.Integer(1))),
            Mistake("tanh_prime_one_minus_h", "tanh′ = 1 − h",
                    "$\\tanh'(z) = 1 - \\tanh^2(z) = 1 - h^2$, not $1 - h$",
                    student_gradients(w, "oh", lambda s, k: 1 - w.hs[s][k])),
            Mistake("not_accumulated", "gradients not summed over the steps",
                    "the weight gradients overwritten at each step of the backward loop, which "
                    "leaves only step 1's contribution: the weights are shared by all steps, so "
                    "their gradients are sums over $t$",
                    student_gradients(w, "na", tanh_prime, steps=[1], with_h0=False)),
        )

    def check(self, params, options, solution):
        """Plain NumPy: the forward pass with matrix products, the backward pass with the
        Jacobians diag(1 − h_t²) Wₕₕ multiplied out (∂h_T/∂h_{t} as a matrix), and central
        differences of L for every entry of Wₓₕ, Wₕₕ, b and h_0.  Every quantity is O(1):
        the inputs are at most 1, tanh at most 1 in size, so absolute tolerances suffice."""
        X, h0 = as_float(params.x), as_float(params.h0)
        Wxh, Whh = as_float(params.Wxh), as_float(params.Whh)
        b, target = as_float(params.b), as_float(params.t)

        def loss(Wxh_=Wxh, Whh_=Whh, b_=b, h0_=h0):
            return 0.5 * float(np.sum((plain_states(X, Wxh_, Whh_, b_, h0_)[-1] - target) ** 2))

        hs = plain_states(X, Wxh, Whh, b, h0)
        assert_close("h", solution.answer("h"), np.array(hs[1:]), rtol=1e-12, atol=1e-13)
        assert_close("L", solution.answer("L"), loss(), rtol=1e-10, atol=1e-14)
        gWxh, gWhh, gb, dz1 = unrolled_gradients(X, hs, Whh, hs[-1] - target)
        tol = dict(rtol=1e-9, atol=1e-12)
        assert_close("dWxh", solution.answer("dWxh"), gWxh, **tol)
        assert_close("dWhh", solution.answer("dWhh"), gWhh, **tol)
        assert_close("db", solution.answer("db"), gb, **tol)
        assert_close("dh0", solution.answer("dh0"), Whh.T @ dz1, **tol)
        # L has O(1) second and third derivatives (entries at most 1 in size): with h = 1e-5
        # the central difference is off by ~1e-10 (truncation) plus ~1e-11 (rounding)
        for name, value, call in (
                ("dWxh", Wxh, lambda v: loss(Wxh_=v)), ("dWhh", Whh, lambda v: loss(Whh_=v)),
                ("db", b, lambda v: loss(b_=v)), ("dh0", h0, lambda v: loss(h0_=v))):
            assert_close(name, solution.answer(name), numeric_gradient(call, value, 1e-5),
                         rtol=1e-6, atol=1e-8)
