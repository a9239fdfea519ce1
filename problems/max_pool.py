"""Max pooling: the output map, and the gradient of L = Σ G ⊙ Y with respect to the input,
routed to the position of each window's maximum and summed where windows overlap."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, CheckFailed, Grid, Highlight, Line, Link, Mistake, Panel, NoCanonical, Part, Problem, Redraw,
                   Solution, Step, as_float, assert_close, derive_once, derived, eq, exact_matrix,
                   line, mistakes_that_apply, numeric_gradient, option, register, rows,
                   shown_matrix, shown_sum, verified)

#: The formulas SymPy derives or verifies (see `formulas`).
DERIVED = ("d max/dx_1", "max routing rule", "output size", "dL/dX = sum over windows")


# --- the forms the key states; `formulas` checks each against SymPy, `solve` evaluates them --

def out_size(n, f, s):
    """⌊(n − f)/s⌋ + 1 windows along one axis."""
    return (n - f) // s + 1


def windows(H, W, f, s):
    """The windows, row by row: ((i, j), [(a, b), …]) with output index (i, j) and the input
    positions (a, b) it covers (0-based)."""
    return [((i, j), [(s * i + u, s * j + v) for u in range(f) for v in range(f)])
            for i in range(out_size(H, f, s)) for j in range(out_size(W, f, s))]


def max_slope(window_values, t):
    """∂ max / ∂ x_t: 1 when x_t is the (unique) maximum of the window, 0 otherwise."""
    return sp.Integer(1) if all(window_values[t] > v for q, v in enumerate(window_values)
                                if q != t) else sp.Integer(0)


def pool_backward(G, H, W, f, s, slope):
    """∂L/∂X_ab = Σ over the windows (i, j) that cover (a, b) of G_ij · slope(i, j, t), with t
    the place of (a, b) in the window: every window passes its G entry back to its inputs,
    and the contributions of overlapping windows add up."""
    dX = [[sp.Integer(0)] * W for _ in range(H)]
    for (i, j), cells in windows(H, W, f, s):
        for t, (a, b) in enumerate(cells):
            dX[a][b] += G[i][j] * slope(i, j, t)
    return dX


def formulas(H: int, W: int, f: int, s: int) -> dict:
    """SymPy's derivative of max(x_1, …, x_{f²}) with respect to x_1 (θ(x_1 − max of the
    others)), checked against the routing rule at points where x_1 is and is not the maximum;
    the output size counted position by position; and, for this shape, SymPy's derivative of
    L = Σ G_ij g(window_ij) with a generic pooling function g, checked against the sum over
    windows that the key states."""
    n, R = f * f, sp.Rational
    x = sp.symbols(f"x_1:{n + 1}", real=True)
    d_max = derived(sp.diff(sp.Max(*x), x[0]), name="d max/dx_1")
    points = [[2] + [1] * (n - 1), [0] + list(range(1, n)), [3] + list(range(-n + 1, 0)),
              [-1] + [-2] * (n - 2) + [5], [1, 2] + [0] * (n - 2), [R(1, 2)] + [R(1, 3)] * (n - 1)]
    verified(sp.Matrix([d_max.subs(dict(zip(x, map(sp.Rational, pt)))) for pt in points]),
             sp.Matrix([max_slope([sp.Rational(v) for v in pt], 0) for pt in points]),
             name="max routing rule")
    for size in (H, W):
        verified(sp.Integer(len(range(0, size - f + 1, s))), sp.Integer(out_size(size, f, s)),
                 name="output size")
    Ho, Wo = out_size(H, f, s), out_size(W, f, s)
    X = [[sp.Symbol(f"X_{a + 1}{b + 1}") for b in range(W)] for a in range(H)]
    Gs = [[sp.Symbol(f"G_{i + 1}{j + 1}") for j in range(Wo)] for i in range(Ho)]
    g = sp.Function("g")
    cells = dict(windows(H, W, f, s))
    args = {ij: [X[a][b] for a, b in cov] for ij, cov in cells.items()}
    L = sp.Add(*[Gs[i][j] * g(*args[(i, j)]) for (i, j) in cells])
    partial = lambda i, j, t: sp.diff(g(*args[(i, j)]), args[(i, j)][t])
    verified(sp.Matrix(H, W, lambda a, b: sp.diff(L, X[a][b])),
             sp.Matrix(pool_backward(Gs, H, W, f, s, partial)), name="dL/dX = sum over windows")
    return {"d_max": d_max, "Ho": Ho, "Wo": Wo}


@dataclass(frozen=True)
class Options:
    H: int = option(5, 2, 6)              # input rows
    W: int = option(5, 2, 6)              # input columns
    size: int = option(3, 2, 3)           # window f × f
    stride: int = option(2, 1, 2)


@dataclass(frozen=True)
class Params:
    X: sp.ImmutableMatrix
    size: sp.Integer
    stride: sp.Integer
    G: sp.ImmutableMatrix


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, as lists of rows (shared by the steps, the answers
    and the mistakes)."""
    X: list
    G: list
    f: int                # window size
    s: int                # stride
    Ho: int
    Wo: int
    cells: list           # the windows (`windows`)
    values: dict          # each window's entries, by output index (i, j)
    Y: list
    top: dict             # where each window's maximum sits in X, by output index
    dX: list

    @property
    def H(self) -> int:
        return len(self.X)

    @property
    def W(self) -> int:
        return len(self.X[0])


def compute(params) -> Work:
    X, G = rows(params.X), rows(params.G)
    f, s = int(params.size), int(params.stride)
    H, W = len(X), len(X[0])
    Ho, Wo = out_size(H, f, s), out_size(W, f, s)
    cells = windows(H, W, f, s)
    values = {ij: [X[a][b] for a, b in cov] for ij, cov in cells}
    top = {ij: cov[values[ij].index(max(values[ij]))] for ij, cov in cells}
    return Work(X=X, G=G, f=f, s=s, Ho=Ho, Wo=Wo, cells=cells, values=values,
                Y=[[max(values[(i, j)]) for j in range(Wo)] for i in range(Ho)], top=top,
                dX=pool_backward(G, H, W, f, s, lambda i, j, t: max_slope(values[(i, j)], t)))


def size_line(name: str, n: int, out: int, w: Work) -> Line:
    """⌊(n − f)/s⌋ + 1 for one axis, the numbers substituted."""
    floor_plus_one = lambda inside: line(r"\left\lfloor ", inside, r" \right\rfloor + 1")
    return eq(rf"{name}_{{\mathrm{{out}}}}", floor_plus_one(rf"\frac{{{name} - f}}{{s}}"),
              floor_plus_one(rf"\frac{{{n} - {w.f}}}{{{w.s}}}"),
              floor_plus_one(sp.Rational(n - w.f, w.s)), sp.Integer(out))


def route(w: Work, i: int, j: int) -> str:
    """Y_ij ← X_ab: where output (i, j) takes its maximum from."""
    a, b = w.top[(i, j)]
    return rf"Y_{{{i + 1}{j + 1}}} \leftarrow X_{{{a + 1},\,{b + 1}}}"


def window_grid(params) -> Grid:
    """The input with its first two windows (the stride between them); in the key, the
    output map."""
    w = compute(params)
    (first, cells), *rest = w.cells
    shown = [Highlight(tuple(cells), 0, given=True)]
    links = [Link("X", tuple(cells), "Y", (first,))]
    if rest:
        second, cells2 = rest[0]
        shown.append(Highlight(tuple(c for c in cells2 if c not in cells), 1, given=True))
        links.append(Link("X", tuple(cells2), "Y", (second,)))
    return Grid(panels=(Panel("X", "X", sp.ImmutableMatrix(w.X), tuple(shown), given=True),
                        Panel("Y", "Y", sp.ImmutableMatrix(w.Y),
                              (Highlight(((0, 0),), 0),) + ((Highlight((rest[0][0],), 1),)
                                                             if rest else ()))),
                links=tuple(links),
                caption=r"The input and its first " + ("two windows (blue; orange where "
                        r"the second does not overlap the first), $s$ apart" if rest else
                        "window (blue)") + r"; in the answer key, the output map.")


def routing_grid(w: Work) -> Grid:
    """Each window's maximum, and the gradient routed back to it: dX is G's entries at the
    maxima, added where windows share their maximum."""
    tops = tuple(dict.fromkeys(w.top.values()))
    return Grid(panels=(Panel("X", "X", sp.ImmutableMatrix(w.X), (Highlight(tops, 1),)),
                        Panel("G", r"G = \partial L / \partial Y", sp.ImmutableMatrix(w.G),
                              (Highlight(((0, 0),), 0),)),
                        Panel("dX", r"\partial L / \partial X", sp.ImmutableMatrix(w.dX),
                              (Highlight(tops, 1), Highlight((w.top[(0, 0)],), 0)))),
                links=(Link("G", ((0, 0),), "dX", (w.top[(0, 0)],)),),
                caption=r"The maximum of each window (orange) receives the window's entry of "
                        r"$G$, and every other entry nothing; a maximum shared by overlapping "
                        r"windows receives the sum. The arrow routes $G_{11}$.")


def output_map(w: Work) -> Step:
    routes = [r",\quad ".join(route(w, i, j) for j in range(w.Wo)) for i in range(w.Ho)]
    return Step(
        title="(a) The output map",
        text=r"Window $(i, j)$ covers rows $s(i-1)+1$ to $s(i-1)+f$ and columns "
             r"$s(j-1)+1$ to $s(j-1)+f$ of $X$; there are "
             r"$\lfloor (H - f)/s \rfloor + 1$ windows down and "
             r"$\lfloor (W - f)/s \rfloor + 1$ across (counted position by position for "
             r"this shape). The first window in full, then every output, and where each "
             r"maximum sits in $X$ (row, column):",
        math=(size_line("H", w.H, w.Ho, w), size_line("W", w.W, w.Wo, w),
              eq("Y_{11}", line(r"\max ", sp.ImmutableMatrix(w.f, w.f, w.values[(0, 0)])),
                 w.Y[0][0]),
              eq("Y", sp.ImmutableMatrix(w.Y)), *routes))


def routed_gradient(w: Work, facts: dict) -> Step:
    """Each input's G entries, from the windows whose maximum it is, added up."""
    received = [[[] for _ in range(w.W)] for _ in range(w.H)]
    for (i, j), (a, b) in w.top.items():
        received[a][b].append(w.G[i][j])
    shown = shown_matrix([[shown_sum(c) if len(c) > 1 else (c[0] if c else sp.Integer(0))
                           for c in row] for row in received])
    overlap = any(len(c) > 1 for row in received for c in row)
    return Step(
        title="(b) Routing the gradient",
        text=r"$Y_{ij}$ is one entry of its window, so SymPy's derivative of the max with "
             r"respect to an entry is 1 at the maximum and 0 elsewhere (at a tie "
             r"$\theta(0) = \frac{1}{2}$ would split it; this input has no ties). By the "
             r"chain rule $\partial L / \partial X_{ab}$ adds $G_{ij}$ over the windows "
             r"whose maximum is $X_{ab}$ (checked by SymPy for this shape with a generic "
             r"pooling function): every other input gets 0"
             + (r", and an input that is the maximum of several overlapping windows "
                r"receives the sum of their gradients." if overlap else
                r"; here no input is the maximum of two windows."),
        math=(eq(rf"\frac{{\partial \max(x_1, \dots, x_{{{w.f * w.f}}})}}{{\partial x_1}}",
                 facts["d_max"]),
              eq(r"\frac{\partial L}{\partial X}", shown, sp.ImmutableMatrix(w.dX))))


# --- the mistakes: each returns a Mistake, or None where it would give the right answer ----

def overwrite_not_add(w: Work) -> Mistake | None:
    overwrite = [[sp.Integer(0)] * w.W for _ in range(w.H)]
    for (i, j), (a, b) in w.top.items():
        overwrite[a][b] = w.G[i][j]                      # assigned, not added
    if overwrite == w.dX:
        return None
    return Mistake(
        "overwrite_not_add", "overlapping gradients overwritten",
        "each window's $G_{ij}$ written into its maximum's place, replacing what an "
        "earlier window put there: an input that is the maximum of several windows "
        "feeds all of them, and the chain rule adds their gradients",
        {"dL_dX": sp.ImmutableMatrix(overwrite)})


def average_pool_gradient(w: Work) -> Mistake:
    avg = pool_backward(w.G, w.H, w.W, w.f, w.s, lambda i, j, t: sp.Rational(1, w.f * w.f))
    return Mistake(
        "average_pool_gradient", "average-pooling gradient",
        "$G_{ij}/f^2$ spread over the whole window, the gradient of average pooling: the "
        "maximum depends on one entry only, which gets all of $G_{ij}$",
        {"dL_dX": sp.ImmutableMatrix(avg)})


def gradient_to_every_entry(w: Work) -> Mistake:
    spread = pool_backward(w.G, w.H, w.W, w.f, w.s, lambda i, j, t: sp.Integer(1))
    return Mistake(
        "gradient_to_every_entry", "G copied to every window entry",
        "$G_{ij}$ passed to every entry of the window: moving a non-maximal entry a little "
        "does not change the maximum, so its gradient through this window is 0",
        {"dL_dX": sp.ImmutableMatrix(spread)})


def mask_without_upstream(w: Work) -> Mistake | None:
    mask = pool_backward([[1] * len(row) for row in w.G], w.H, w.W, w.f, w.s,
                         lambda i, j, t: max_slope(w.values[(i, j)], t))
    if mask == w.dX:
        return None
    return Mistake(
        "mask_without_upstream", "max mask without G",
        "the 0/1 mask of the maxima (counted per window) given as the gradient: the "
        "chain rule multiplies the slope 1 by the upstream gradient $G_{ij}$",
        {"dL_dX": sp.ImmutableMatrix(mask)})


@register
class MaxPool(Problem):
    id = "max_pool"
    title = "Max pooling: forward pass and gradient routing"

    def validate_options(self, options):
        for name in ("H", "W"):
            if options.size > getattr(options, name):
                raise ValueError(f"the window (size = {options.size}) is larger than the input "
                                 f"({name} = {getattr(options, name)})")

    def canonical(self, options):
        if (options.H, options.W, options.size, options.stride) != (5, 5, 3, 2):
            raise NoCanonical("the canonical variant has H = W = 5, size 3, stride 2")
        return Params(X=exact_matrix([[1, 3, 2, 0, 4], [5, -2, 1, 2, 1], [2, 1, 6, 3, 0],
                                      [-1, 7, 2, 1, 8], [3, 1, 4, 9, 2]]),
                      size=sp.Integer(3), stride=sp.Integer(2),
                      G=exact_matrix([[2, -1], [1, 3]]))

    def generate(self, rng, options):
        H, W, f, s = options.H, options.W, options.size, options.stride
        X = [[rng.integer(-20, 20) for _ in range(W)] for _ in range(H)]
        G = [[rng.choice((-3, -2, -1, 1, 2, 3)) for _ in range(out_size(W, f, s))]
             for _ in range(out_size(H, f, s))]
        for _, cells in windows(H, W, f, s):
            values = [X[a][b] for a, b in cells]
            if values.count(max(values)) > 1:
                raise Redraw("a window's maximum is tied: the gradient has no single route")
        return Params(X=exact_matrix(X), size=sp.Integer(f), stride=sp.Integer(s),
                      G=exact_matrix(G))

    def statement(self, params, options):
        H, W = params.X.shape
        return (
            Step(text=r"A max-pooling layer slides an $f \times f$ window over its input with "
                      r"stride $s$ (no padding) and outputs the largest entry of each window. "
                      r"The input is $X = @X$ ($@H \times @W$), the window size $f = @f$ and the "
                      r"stride $s = @s$.",
                 values={"X": params.X, "f": params.size, "s": params.stride,
                         "H": sp.Integer(H), "W": sp.Integer(W)}),
            window_grid(params),
            Step(text=r"Backpropagation brings the upstream gradient "
                      r"$G = \partial L / \partial Y = @G$, of the output's shape: the loss is "
                      r"$L = \sum_{i,j} G_{ij} Y_{ij}$.",
                 values={"G": params.G}),
            Part("(a)", r"Compute the output $Y$: write out one window in full, then give every "
                        r"entry."),
            Part("(b)", r"Compute $\partial L / \partial X$."),
        )

    def solve(self, params, options):
        work = compute(params)
        facts = derive_once((self.id, work.H, work.W, work.f, work.s),
                            lambda: formulas(work.H, work.W, work.f, work.s))
        return Solution(
            steps=(output_map(work), routed_gradient(work, facts), routing_grid(work)),
            answers=(Answer("Y", "Y", sp.ImmutableMatrix(work.Y), part="(a)"),
                     Answer("dL_dX", r"\frac{\partial L}{\partial X}",
                            sp.ImmutableMatrix(work.dX), part="(b)", points=2)),
            work=work)

    def mistakes(self, params, options, solution):
        return mistakes_that_apply(solution.work, overwrite_not_add, average_pool_gradient,
                                   gradient_to_every_entry, mask_without_upstream)

    def check(self, params, options, solution):
        """Plain NumPy: Y from sliding windows (np.max), ∂L/∂X by scattering G to the argmax
        of each window with np.add.at, and by central differences of L(X) = Σ G ⊙ maxpool(X).
        The entries are integers and a window's maximum is unique, so it leads the others by
        at least 1: a step h = 1/4 keeps every argmax in place, L is linear there, and the
        differences are exact in float64."""
        X, G = as_float(params.X), as_float(params.G)
        f, s = int(params.size), int(params.stride)

        def pool(X_):
            return np.lib.stride_tricks.sliding_window_view(X_, (f, f))[::s, ::s].max(axis=(2, 3))

        Y = pool(X)
        if Y.shape != G.shape:
            raise CheckFailed(f"G has shape {G.shape}, the pooled output {Y.shape}")
        atol = 1e-12 * (1.0 + float(np.abs(X).max()) + float(np.abs(G).sum()))
        assert_close("Y", solution.answer("Y"), Y, rtol=0.0, atol=atol)
        view = np.lib.stride_tricks.sliding_window_view(X, (f, f))[::s, ::s]
        flat = view.reshape(*Y.shape, f * f)
        arg = flat.argmax(axis=2)
        rows = (np.arange(Y.shape[0])[:, None] * s + arg // f).ravel()
        cols = (np.arange(Y.shape[1])[None, :] * s + arg % f).ravel()
        scattered = np.zeros_like(X)
        np.add.at(scattered, (rows, cols), G.ravel())
        assert_close("dL_dX", solution.answer("dL_dX"), scattered, rtol=0.0, atol=atol)
        fd = numeric_gradient(lambda X_: float(np.sum(G * pool(X_))), X, h=0.25)
        assert_close("dL_dX", solution.answer("dL_dX"), fd, rtol=0.0, atol=atol)
