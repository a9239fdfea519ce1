"""Single-channel 2-D convolution as deep-learning frameworks compute it (cross-correlation),
with stride and zero padding: the output size, the output map, and the gradients of
L = Σ G ⊙ Y with respect to the kernel, the bias and the input."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, CheckFailed, Grid, Highlight, Line, Link, Mistake, Panel, NoCanonical, Part, Problem, Redraw,
                   Solution, Step, as_float, assert_close, derive_once, derived, eq, exact_matrix,
                   line, mistakes_that_apply, numeric_gradient, option, register, rows,
                   shown_product, shown_sum, verified)

#: The formulas SymPy derives or verifies (see `general_formulas` and `formulas`).
DERIVED = ("dL/dK_uv (index form)", "dL/db (index form)", "dL/dXp_ac (index form)",
           "dL/dXp_ac = sum G_ij K_{a-s(i-1), c-s(j-1)}", "output size",
           "Y_ij = sum_uv Xp K + b", "dL/dK = Xp corr dilated G", "dL/db = sum G",
           "dL/dX = crop(full corr of dilated G with flipped K)")


# --- the forms the key states; `formulas` checks each against SymPy, `solve` evaluates them --

def out_size(n, k, s, p):
    """⌊(n + 2p − k)/s⌋ + 1 output rows (or columns)."""
    return (n + 2 * p - k) // s + 1


def pad(A, p):
    """A with p rows and columns of zeros on every side (lists of rows)."""
    cols = len(A[0]) + 2 * p
    zero = sp.Integer(0)
    rows = [[zero] * cols for _ in range(p)]
    rows += [[zero] * p + list(row) + [zero] * p for row in A]
    return rows + [[zero] * cols for _ in range(p)]


def flip(K):
    """The kernel rotated by 180°: K^flip_uv = K_{k+1−u, k+1−v}."""
    return [list(reversed(row)) for row in reversed(K)]


def dilate(G, s, rows, cols):
    """Ĝ (rows × cols): G's entries s apart (Ĝ_{s(i−1)+1, s(j−1)+1} = G_ij), zeros elsewhere;
    rows × cols is the size of a stride-1 output, so Ĝ covers every kernel position."""
    zero = sp.Integer(0)
    out = [[zero] * cols for _ in range(rows)]
    for i, row in enumerate(G):
        for j, g in enumerate(row):
            out[s * i][s * j] = g
    return out


def window(A, B, r, c):
    """The pairs (A_{r+u, c+v}, B_uv), u, v over B, row by row: one entry of A ⋆ B."""
    return [(A[r + u][c + v], B[u][v]) for u in range(len(B)) for v in range(len(B[0]))]


def correlate(A, B, s=1):
    """Valid cross-correlation A ⋆ B with stride s: entry (i, j) is Σ_uv A_{s i+u, s j+v} B_uv
    (0-based), of size ⌊(rows(A) − rows(B))/s⌋ + 1 by the same for columns."""
    rows = (len(A) - len(B)) // s + 1
    cols = (len(A[0]) - len(B[0])) // s + 1
    if all(isinstance(e, (int, sp.Integer)) for M in (A, B) for row in M for e in row):
        # integers (every variant): the same sums in Python ints, far faster than SymPy's
        A, B = [[int(e) for e in row] for row in A], [[int(e) for e in row] for row in B]
        return [[sp.Integer(sum(a * w for a, w in window(A, B, s * i, s * j)))
                 for j in range(cols)] for i in range(rows)]
    return [[sp.Add(*[a * w for a, w in window(A, B, s * i, s * j)]) for j in range(cols)]
            for i in range(rows)]


def forward(X, K, b, s, p):
    """Y = X^p ⋆ K (stride s) + b."""
    return [[y + b for y in row] for row in correlate(pad(X, p), K, s)]


def dilated_grad(X, G, s, p, k):
    """Ĝ, the upstream gradient spread to stride-1 positions for this input and kernel."""
    return dilate(G, s, len(X) + 2 * p - k + 1, len(X[0]) + 2 * p - k + 1)


def grad_kernel(X, G, s, p, k):
    """∂L/∂K = X^p ⋆ Ĝ (stride 1): a k × k map."""
    return correlate(pad(X, p), dilated_grad(X, G, s, p, k))


def grad_bias(G):
    """∂L/∂b = Σ_ij G_ij."""
    return sp.Add(*[g for row in G for g in row])


def grad_input_padded(X, G, K, s, p):
    """∂L/∂X^p: the "full" correlation of Ĝ (padded by k − 1) with the flipped kernel."""
    k = len(K)
    return correlate(pad(dilated_grad(X, G, s, p, k), k - 1), flip(K))


def grad_input(X, G, K, s, p):
    """∂L/∂X: ∂L/∂X^p with the p border rows and columns cropped."""
    full = grad_input_padded(X, G, K, s, p)
    return [row[p:len(row) - p] for row in full[p:len(full) - p]]


# --- SymPy ---------------------------------------------------------------------------------

def _range_branch(expr):
    """Σ over (i, j) of Piecewise((term, index range), (0, True)) → Σ term: the range
    condition only says that the kernel index is inside 1..k, which the key states."""
    body = expr.function
    if isinstance(body, sp.Piecewise) and len(body.args) == 2 and body.args[1].expr == 0:
        return sp.Sum(body.args[0].expr, *expr.limits), body.args[0].cond
    raise CheckFailed(f"conv2d: unexpected form of SymPy's derivative {expr}")


def general_formulas() -> dict:
    """SymPy differentiates L = Σ_ij G_ij (Σ_uv X^p_{s(i−1)+u, s(j−1)+v} K_uv + b), written
    with indexed symbols, with respect to K_ac, b and X^p_ac."""
    Xp, K, G = sp.IndexedBase("X^{p}"), sp.IndexedBase("K"), sp.IndexedBase("G")
    b = sp.Symbol("b")
    i, j, u, v, a, c = sp.symbols("i j u v a c", integer=True)
    s, k = sp.symbols("s k", integer=True, positive=True)
    n = sp.Symbol(r"H_{\mathrm{out}}", integer=True, positive=True)
    m = sp.Symbol(r"W_{\mathrm{out}}", integer=True, positive=True)
    Y = sp.Sum(Xp[s * (i - 1) + u, s * (j - 1) + v] * K[u, v], (u, 1, k), (v, 1, k)) + b
    L = sp.Sum(G[i, j] * Y, (i, 1, n), (j, 1, m))
    dK, _ = _range_branch(sp.simplify(sp.diff(L, K[a, c])))
    dK = derived(dK, name="dL/dK_uv (index form)")
    db = derived(sp.simplify(sp.diff(L, b)), name="dL/db (index form)")
    raw_dX = sp.diff(L, Xp[a, c])
    dX, _ = _range_branch(sp.simplify(raw_dX))
    dX = derived(dX, name="dL/dXp_ac (index form)")
    stated = sp.Sum(G[i, j] * K[a - s * (i - 1), c - s * (j - 1)], (i, 1, n), (j, 1, m))
    if dX.limits != stated.limits:
        raise CheckFailed(f"conv2d: SymPy's dL/dXp_ac sums over {dX.limits}, not over the outputs")
    expand_indices = lambda e: e.replace(lambda x: isinstance(x, sp.Indexed),
                                         lambda x: x.base[tuple(sp.expand(t) for t in x.indices)])
    verified(dX.function, stated.function, name="dL/dXp_ac = sum G_ij K_{a-s(i-1), c-s(j-1)}",
             zero=lambda d: sp.expand(expand_indices(d)) == 0)
    # For display: i − 1 and j − 1 in that order (SymPy keeps −1 + i), the sum before b.
    tidy = lambda e: e.xreplace({i - 1: sp.Add(i, -1, evaluate=False),
                                 j - 1: sp.Add(j, -1, evaluate=False)})
    return {"Y": Y, "L": L, "dK": tidy(dK.subs({a: u, c: v})), "db": db,
            "dX": tidy(stated), "Y_shown": sp.Add(tidy(Y - b), b, evaluate=False),
            "symbols": (Xp, K, G, b, i, j, u, v, s, k)}


def _matrix(name, rows, cols):
    return [[sp.Symbol(f"{name}_{r + 1}{q + 1}") for q in range(cols)] for r in range(rows)]


def formulas(H: int, W: int, k: int, s: int, p: int) -> dict:
    """This shape, entry by entry: the output size counted position by position, Y from the
    index form the key states, and SymPy's derivatives of L = Σ G ⊙ Y written out with
    symbolic X, K, b and G, checked against the three stated gradient maps."""
    general = derive_once(("conv2d", "general"), general_formulas)
    Xp_i, K_i, G_i, b_i, i_s, j_s, u_s, v_s, s_s, k_s = general["symbols"]
    for n in (H, W):
        positions = len(range(0, n + 2 * p - k + 1, s))
        verified(sp.Integer(positions), sp.Integer(out_size(n, k, s, p)), name="output size")
    Ho, Wo = out_size(H, k, s, p), out_size(W, k, s, p)
    X, K, G = _matrix("x", H, W), _matrix("k", k, k), _matrix("g", Ho, Wo)
    b = sp.Symbol("b")
    Y = forward(X, K, b, s, p)
    Xp = pad(X, p)
    index_Y = sp.Matrix(Ho, Wo, lambda r, q: general["Y"].subs(
        {i_s: r + 1, j_s: q + 1, s_s: s, k_s: k}).doit().replace(
        lambda e: isinstance(e, sp.Indexed),
        lambda e: (Xp if e.base == Xp_i else K)[int(e.indices[0]) - 1][int(e.indices[1]) - 1]))
    verified(index_Y, sp.Matrix(Y), name="Y_ij = sum_uv Xp K + b")
    L = sp.Add(*[G[r][q] * Y[r][q] for r in range(Ho) for q in range(Wo)])
    verified(sp.Matrix(k, k, lambda r, q: sp.diff(L, K[r][q])),
             sp.Matrix(grad_kernel(X, G, s, p, k)), name="dL/dK = Xp corr dilated G")
    verified(sp.diff(L, b), grad_bias(G), name="dL/db = sum G")
    verified(sp.Matrix(H, W, lambda r, q: sp.diff(L, X[r][q])),
             sp.Matrix(grad_input(X, G, K, s, p)),
             name="dL/dX = crop(full corr of dilated G with flipped K)")
    return {"Ho": Ho, "Wo": Wo}


# --- the problem ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Options:
    H: int = option(4, 3, 6)              # input rows
    W: int = option(4, 3, 6)              # input columns
    k: int = option(3, 1, 3)              # kernel size (k × k)
    stride: int = option(2, 1, 2)
    padding: int = option(1, 0, 1)


@dataclass(frozen=True)
class Params:
    X: sp.ImmutableMatrix
    K: sp.ImmutableMatrix
    b: sp.Integer
    stride: sp.Integer
    padding: sp.Integer
    G: sp.ImmutableMatrix


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, as lists of rows (shared by the steps, the answers
    and the mistakes)."""
    X: list
    K: list
    G: list
    b: sp.Integer
    s: int                # stride
    p: int                # padding
    Ho: int
    Wo: int
    Xp: list              # X^p, the padded input
    Y: list
    Gd: list              # Ĝ, G dilated by the stride
    dK: list
    db: object            # Σ G as written
    dXp: list             # ∂L/∂X^p
    dX: list

    @property
    def H(self) -> int:
        return len(self.X)

    @property
    def W(self) -> int:
        return len(self.X[0])

    @property
    def k(self) -> int:
        return len(self.K)

    @property
    def shape(self) -> tuple:
        """(H, W, k, s, p): what the derivations depend on."""
        return self.H, self.W, self.k, self.s, self.p


def compute(params) -> Work:
    X, K, G = rows(params.X), rows(params.K), rows(params.G)
    b, s, p = params.b, int(params.stride), int(params.padding)
    k = len(K)
    return Work(X=X, K=K, G=G, b=b, s=s, p=p, Ho=out_size(len(X), k, s, p),
                Wo=out_size(len(X[0]), k, s, p), Xp=pad(X, p), Y=forward(X, K, b, s, p),
                Gd=dilated_grad(X, G, s, p, k), dK=grad_kernel(X, G, s, p, k),
                db=shown_sum([g for row in G for g in row]),
                dXp=grad_input_padded(X, G, K, s, p), dX=grad_input(X, G, K, s, p))


def floor_plus_one(*inside) -> Line:
    return line(r"\left\lfloor ", *inside, r" \right\rfloor + 1")


def size_line(name: str, n: int, out: int, w: Work) -> Line:
    """⌊(n + 2p − k)/s⌋ + 1 for one axis, the numbers substituted."""
    top = shown_sum([n, shown_product(2, w.p), -w.k])
    return eq(rf"{name}_{{\mathrm{{out}}}}", floor_plus_one(rf"\frac{{{name} + 2p - k}}{{s}}"),
              floor_plus_one(r"\frac{", top, f"}}{{{w.s}}}"),
              floor_plus_one(sp.Rational(top.value, w.s)), line(top.value // w.s, " + 1"),
              sp.Integer(out))


def output_size(w: Work) -> Step:
    return Step(
        title="(a) Output size",
        text=r"Along the rows the padded input has $H + 2p$ positions; a $k \times k$ window "
             r"fits at the offsets $0, s, 2s, \dots$ up to $H + 2p - k$, so there are "
             r"$\lfloor (H + 2p - k)/s \rfloor + 1$ of them (counted position by position "
             r"for this shape). The same holds for the columns.",
        math=(size_line("H", w.H, w.Ho, w), size_line("W", w.W, w.Wo, w)))


def output_map(w: Work, general: dict) -> Step:
    first = shown_sum([*[shown_product(x, v) for x, v in window(w.Xp, w.K, 0, 0)], w.b])
    return Step(
        title="(b) The output map",
        text=rf"Pad $X$ with ${w.p}$ row(s) and column(s) of zeros on every side. Output entry "
             r"$(i, j)$ lays the kernel, unflipped, on the window whose top-left corner is "
             r"$X^{p}_{s(i-1)+1,\, s(j-1)+1}$, multiplies entry by entry, adds up and adds "
             r"$b$ (the index form is checked by SymPy against this shape's entries). The "
             r"first entry in full, then every entry:",
        math=(eq("X^{p}", sp.ImmutableMatrix(w.Xp)), eq("Y_{ij}", general["Y_shown"]),
              eq("Y_{11}", first, first.value), eq("Y", sp.ImmutableMatrix(w.Y))))


def kernel_gradients(w: Work, general: dict) -> Step:
    same = w.s == 1 and len(w.Gd) == w.Ho and len(w.Gd[0]) == w.Wo      # Ĝ = G
    dK11 = shown_sum([shown_product(g, x) for x, g in window(w.Xp, w.Gd, 0, 0) if g != 0])
    return Step(
        title="(c) Kernel and bias gradients",
        text=r"$K_{uv}$ multiplies $X^{p}_{s(i-1)+u,\, s(j-1)+v}$ in every output $Y_{ij}$, "
             r"so SymPy's derivative of $L$ collects $G_{ij}$ times that input over all "
             r"outputs. As a map this is the correlation of $X^{p}$ with $\hat G$, the "
             r"upstream gradient dilated by the stride: its entries $s$ apart "
             r"($s - 1$ zeros between neighbours), padded with zeros at the end to the "
             r"size of a stride-1 output"
             + (r" (here $s = 1$ and every position is used, so $\hat G = G$). " if same
                else f" (here $s = {w.s}$: ${w.s - 1}$ zero(s) between neighbours). ")
             + r"Every output contains $b$ once, so $\partial L / \partial b$ is the sum "
               r"of $G$.",
        math=(eq(r"\frac{\partial L}{\partial K_{uv}}", general["dK"]),
              *(() if same else (eq(r"\hat G", sp.ImmutableMatrix(w.Gd)),)),
              eq(r"\frac{\partial L}{\partial K_{11}}", dK11, w.dK[0][0]),
              eq(r"\frac{\partial L}{\partial K}", sp.ImmutableMatrix(w.dK)),
              eq(r"\frac{\partial L}{\partial b}", general["db"], w.db, w.db.value)))


def input_gradient(w: Work, general: dict) -> Step:
    k, p = w.k, w.p
    Gdp = pad(w.Gd, k - 1)
    dX11 = shown_sum([shown_product(g, v) for g, v in window(Gdp, flip(w.K), p, p)])
    return Step(
        title="(d) The input gradient",
        text=r"$X^{p}_{ac}$ meets $K_{uv}$ in output $Y_{ij}$ when $a = s(i-1)+u$ and "
             r"$c = s(j-1)+v$; SymPy's derivative sums $G_{ij} K_{a-s(i-1),\, c-s(j-1)}$ "
             rf"over the outputs whose kernel index lies in $1..{k}$. That is the full "
             rf"convolution of $\hat G$ with $K$: pad $\hat G$ with $k - 1 = {k - 1}$ "
             r"zero row(s) and column(s) on every side and correlate it with the flipped "
             r"kernel $K^{\mathrm{flip}}_{uv} = K_{k+1-u,\, k+1-v}$. This gives "
             rf"$\partial L / \partial X^{{p}}$ (${w.H + 2 * p} \times {w.W + 2 * p}$); the "
             rf"padding is not an input, so its ${p}$ border row(s) and column(s) are cropped. "
             rf"The first entry of $\partial L / \partial X$ is entry $({p + 1}, {p + 1})$ of "
             r"$\partial L / \partial X^{p}$:",
        math=(eq(r"\frac{\partial L}{\partial X^{p}_{ac}}", general["dX"]),
              eq(r"K^{\mathrm{flip}}", sp.ImmutableMatrix(flip(w.K))),
              eq(r"\operatorname{pad}(\hat G)", sp.ImmutableMatrix(Gdp)),
              eq(r"\frac{\partial L}{\partial X_{11}}", dX11, dX11.value),
              eq(r"\frac{\partial L}{\partial X^{p}}", sp.ImmutableMatrix(w.dXp)),
              eq(r"\frac{\partial L}{\partial X}", sp.ImmutableMatrix(w.dX))))


def field(w: Work, i: int, j: int) -> tuple:
    """The cells of the padded input under output (i, j)'s kernel (0-based)."""
    return tuple((w.s * i + u, w.s * j + v) for u in range(w.k) for v in range(w.k))


def border(w: Work) -> tuple:
    """The padding cells of a padded grid (0-based)."""
    n_rows, n_cols = w.H + 2 * w.p, w.W + 2 * w.p
    return tuple((a, c) for a in range(n_rows) for c in range(n_cols)
                 if not (w.p <= a < w.p + w.H and w.p <= c < w.p + w.W))


def input_grid(params) -> Grid:
    """The padded input with the receptive field of output (1, 1), and the kernel; in the
    key, the output map with that entry."""
    w = compute(params)
    padding = (Highlight(border(w), 2, given=True),) if w.p else ()
    first = field(w, 0, 0)
    return Grid(
        panels=(Panel("Xp", "X^{p}" if w.p else "X", sp.ImmutableMatrix(w.Xp),
                      (*padding, Highlight(first, 0, given=True)), given=True),
                Panel("K", "K", sp.ImmutableMatrix(w.K), (Highlight(
                    tuple((u, v) for u in range(w.k) for v in range(w.k)), 0, given=True),),
                    given=True),
                Panel("Y", "Y", sp.ImmutableMatrix(w.Y), (Highlight(((0, 0),), 0),))),
        links=(Link("Xp", first, "K", tuple((u, v) for u in range(w.k) for v in range(w.k)),
                    given=True),
               Link("K", ((0, w.k - 1),), "Y", ((0, 0),))),
        caption=r"The input" + (r" with its padding (grey)" if w.p else "") + r" and the "
                r"receptive field of the first output (blue), which the kernel covers; in the "
                r"answer key, the output map $Y$ with that entry.")


def scatter_grid(w: Work) -> Grid:
    """∂L/∂X as accumulation: each G_ij adds G_ij K onto its receptive field of the padded
    input; where fields overlap the contributions add; the padding is cropped."""
    second = (0, 1) if w.Wo > 1 else ((1, 0) if w.Ho > 1 else None)
    g_cells = (Highlight(((0, 0),), 0),) + ((Highlight((second,), 1),) if second else ())
    fields = (Highlight(field(w, 0, 0), 0),) + \
        ((Highlight(field(w, *second), 1),) if second else ())
    padding = (Highlight(border(w), 2),) if w.p else ()
    links = (Link("G", ((0, 0),), "dXp", field(w, 0, 0)),) + \
        ((Link("G", (second,), "dXp", field(w, *second)),) if second else ())
    return Grid(
        panels=(Panel("G", r"G = \partial L / \partial Y", sp.ImmutableMatrix(w.G), g_cells),
                Panel("K", "K", sp.ImmutableMatrix(w.K)),
                Panel("dXp", r"\partial L / \partial X^{p}", sp.ImmutableMatrix(w.dXp),
                      (*padding, *fields)),
                Panel("dX", r"\partial L / \partial X", sp.ImmutableMatrix(w.dX))),
        links=links,
        caption=r"Each $G_{ij}$ adds $G_{ij} K$ onto the receptive field of output $(i, j)$ "
                r"(two shown, blue and orange); where fields overlap the contributions add "
                r"up. " + (r"The padding (grey) is not an input: cropping it leaves "
                           r"$\partial L / \partial X$." if w.p else ""))


# --- the mistakes: each returns a Mistake, or None where it would give the right answer ----

def flipped_kernel(w: Work) -> Mistake | None:
    Y = forward(w.X, flip(w.K), w.b, w.s, w.p)
    if Y == w.Y:
        return None
    return Mistake(
        "flipped_kernel", "convolution instead of correlation",
        "the kernel flipped by 180° in the forward pass, as in the textbook "
        "convolution: a convolutional layer correlates, $Y_{ij} = \\sum_{uv} "
        "X^{p}_{s(i-1)+u,\\, s(j-1)+v} K_{uv} + b$ with $K$ as given",
        {"Y": sp.ImmutableMatrix(Y)})


def padding_ignored(w: Work) -> Mistake | None:
    if w.p == 0:
        return None
    return Mistake(
        "padding_ignored", "padding left out of the output size",
        "$\\lfloor (H - k)/s \\rfloor + 1$: the window slides over the padded input, "
        "which has $H + 2p$ rows and $W + 2p$ columns",
        {"out_shape": (sp.Integer(out_size(w.H, w.k, w.s, 0)),
                       sp.Integer(out_size(w.W, w.k, w.s, 0)))})


def stride_not_dilated(w: Work) -> Mistake | None:
    if w.s == 1:
        return None
    stride_one = (("dL_dK", grad_kernel(w.X, w.G, 1, w.p, w.k), w.dK),
                  ("dL_dX", grad_input(w.X, w.G, w.K, 1, w.p), w.dX))
    values = {name: sp.ImmutableMatrix(v) for name, v, right in stride_one if v != right}
    if not values:
        return None
    return Mistake(
        "stride_not_dilated", "G not dilated by the stride",
        "$G$ used as if the stride were 1, its entries next to each other: output "
        "$Y_{ij}$ starts at row $s(i-1)+1$, so in the backward pass $G_{ij}$ meets "
        "$X^{p}_{s(i-1)+u,\\, s(j-1)+v}$ and $G$ must be dilated, $s - 1$ zeros "
        "between its entries", values)


def dX_kernel_not_flipped(w: Work) -> Mistake | None:
    dX = grad_input(w.X, w.G, flip(w.K), w.s, w.p)
    if dX == w.dX:
        return None
    return Mistake(
        "dX_kernel_not_flipped", "∂L/∂X with the kernel unflipped",
        "the padded $\\hat G$ correlated with $K$ itself: $\\partial L / \\partial "
        "X^{p}_{ac}$ collects $G_{ij} K_{a-s(i-1),\\, c-s(j-1)}$, the kernel indices "
        "running backwards, which is correlation with the flipped kernel",
        {"dL_dX": sp.ImmutableMatrix(dX)})


def plain_loss(X, K, b, G, s, p, out_shape):
    """L = Σ_ij G_ij Y_ij in float64, Y by index arithmetic and bounds tests (no padded array)."""
    H, W = X.shape
    k = K.shape[0]
    total = 0.0
    for i in range(out_shape[0]):
        for j in range(out_shape[1]):
            y = b
            for u in range(k):
                for v in range(k):
                    r, c = s * i + u - p, s * j + v - p
                    if 0 <= r < H and 0 <= c < W:
                        y += X[r, c] * K[u, v]
            total += G[i, j] * y
    return total


@register
class Conv2d(Problem):
    id = "conv2d"
    title = "A 2-D convolution layer: output size, forward pass and gradients"

    def validate_options(self, options):
        for name in ("H", "W"):
            n = getattr(options, name)
            if n + 2 * options.padding < options.k:
                raise ValueError(f"k = {options.k} is larger than the padded input "
                                 f"({name} + 2·padding = {n + 2 * options.padding}): "
                                 f"the output would be empty")

    def canonical(self, options):
        if (options.H, options.W, options.k, options.stride, options.padding) != (4, 4, 3, 2, 1):
            raise NoCanonical("the canonical variant has H = W = 4, k = 3, stride 2, padding 1")
        return Params(X=exact_matrix([[1, 0, 2, -1], [0, 1, -1, 3], [2, -2, 1, 0],
                                      [-1, 3, 0, 1]]),
                      K=exact_matrix([[1, 0, -1], [2, 1, 0], [0, -1, 1]]),
                      b=sp.Integer(1), stride=sp.Integer(2), padding=sp.Integer(1),
                      G=exact_matrix([[1, -1], [2, 1]]))

    def generate(self, rng, options):
        H, W, k, s, p = options.H, options.W, options.k, options.stride, options.padding
        Ho, Wo = out_size(H, k, s, p), out_size(W, k, s, p)
        nonzero = (-2, -1, 1, 2)
        X = [[rng.integer(-3, 3) for _ in range(W)] for _ in range(H)]
        K = [[rng.choice(nonzero) for _ in range(k)] for _ in range(k)]
        b = rng.choice((-3, -2, -1, 1, 2, 3))
        G = [[rng.choice(nonzero) for _ in range(Wo)] for _ in range(Ho)]
        if all(v == 0 for row in X for v in row):
            raise Redraw("X = 0: every output is b and ∂L/∂K = 0")
        return Params(X=exact_matrix(X), K=exact_matrix(K), b=sp.Integer(b),
                      stride=sp.Integer(s), padding=sp.Integer(p), G=exact_matrix(G))

    def statement(self, params, options):
        H, W = params.X.shape
        k = params.K.shape[0]
        return (
            Step(text=r"A convolutional layer with one input and one output channel computes, as "
                      r"deep-learning frameworks do, the cross-correlation of its input with the "
                      r"kernel (the kernel is not flipped), with stride $s$ and $p$ rows and "
                      r"columns of zeros padded on every side of the input, and adds a bias. "
                      r"The input is $X = @X$ ($@H \times @W$), the kernel $K = @K$ "
                      r"($@k \times @k$), the bias $b = @b$, the stride $s = @s$ and the "
                      r"padding $p = @p$.",
                 values={"X": params.X, "K": params.K, "b": params.b, "s": params.stride,
                         "p": params.padding, "H": sp.Integer(H), "W": sp.Integer(W),
                         "k": sp.Integer(k)}),
            input_grid(params),
            Step(text=r"Backpropagation brings the upstream gradient "
                      r"$G = \partial L / \partial Y = @G$, of the output's shape: the loss is "
                      r"$L = \sum_{i,j} G_{ij} Y_{ij}$.",
                 values={"G": params.G}),
            Part("(a)", r"Give the output size (rows and columns of $Y$)."),
            Part("(b)", r"Compute the output map $Y$: write out one entry's sum in full, then "
                        r"give every entry."),
            Part("(c)", r"Compute $\partial L / \partial K$ and $\partial L / \partial b$."),
            Part("(d)", r"Compute $\partial L / \partial X$."),
        )

    def solve(self, params, options):
        work = compute(params)
        derive_once((self.id, *work.shape), lambda: formulas(*work.shape))  # checks the forms
        general = derive_once((self.id, "general"), general_formulas)
        return Solution(
            steps=(output_size(work), output_map(work, general),
                   kernel_gradients(work, general), input_gradient(work, general),
                   scatter_grid(work)),
            answers=(Answer("out_shape", r"(H_{\mathrm{out}}, W_{\mathrm{out}})",
                            (sp.Integer(work.Ho), sp.Integer(work.Wo)), part="(a)",
                            constraints="count"),
                     Answer("Y", "Y", sp.ImmutableMatrix(work.Y), part="(b)", points=2),
                     Answer("dL_dK", r"\frac{\partial L}{\partial K}",
                            sp.ImmutableMatrix(work.dK), part="(c)", points=2),
                     Answer("dL_db", r"\frac{\partial L}{\partial b}", work.db.value,
                            part="(c)"),
                     Answer("dL_dX", r"\frac{\partial L}{\partial X}",
                            sp.ImmutableMatrix(work.dX), part="(d)", points=2)),
            work=work)

    def mistakes(self, params, options, solution):
        return mistakes_that_apply(solution.work, flipped_kernel, padding_ignored,
                                   stride_not_dilated, dX_kernel_not_flipped)

    def check(self, params, options, solution):
        """Plain NumPy and loops, no padded arrays shared with `solve`: the output size by
        counting positions, Y by sliding windows (im2col) of np.pad, the gradients by central
        differences of L computed with index arithmetic and bounds tests, and the bilinear
        identity ⟨∂L/∂X, X⟩ = ⟨∂L/∂K, K⟩ = L − bΣG.  L is affine in each of X, K and b, so
        with the integer entries and h = 1/2 every difference is exact in float64."""
        X, K, G = as_float(params.X), as_float(params.K), as_float(params.G)
        b, s, p = float(params.b), int(params.stride), int(params.padding)
        H, W = X.shape
        k = K.shape[0]
        Ho = sum(1 for r in range(-p, H + p - k + 1, s))
        Wo = sum(1 for c in range(-p, W + p - k + 1, s))
        got = tuple(int(v) for v in solution.answer("out_shape"))
        if got != (Ho, Wo):
            raise CheckFailed(f"out_shape: exact {got} vs counted {(Ho, Wo)}")
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(X, p), (k, k))[::s, ::s]
        Y = np.einsum("ijuv,uv->ij", windows, K) + b
        scale = 1.0 + float(np.abs(X).sum() * np.abs(K).sum() + abs(b)) * float(np.abs(G).sum())
        atol = 1e-12 * scale
        assert_close("Y", solution.answer("Y"), Y, rtol=0.0, atol=atol)
        loss = lambda X_, K_, b_: plain_loss(X_, K_, b_, G, s, p, (Ho, Wo))
        h = 0.5
        dK = numeric_gradient(lambda K_: loss(X, K_, b), K, h)
        dX = numeric_gradient(lambda X_: loss(X_, K, b), X, h)
        db = (loss(X, K, b + h) - loss(X, K, b - h)) / (2 * h)
        assert_close("dL_dK", solution.answer("dL_dK"), dK, rtol=0.0, atol=atol)
        assert_close("dL_db", solution.answer("dL_db"), db, rtol=0.0, atol=atol)
        assert_close("dL_dX", solution.answer("dL_dX"), dX, rtol=0.0, atol=atol)
        bilinear = loss(X, K, b) - b * float(G.sum())
        for name, grad, value in (("dL_dK", solution.answer("dL_dK"), K),
                                  ("dL_dX", solution.answer("dL_dX"), X)):
            inner = float(np.sum(as_float(grad) * value))
            if not abs(inner - bilinear) <= atol:
                raise CheckFailed(f"{name}: <{name}, .> = {inner} vs L - b·ΣG = {bilinear}")
