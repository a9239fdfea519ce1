"""Binary logistic regression: loss, cost, gradients by the chain rule, one descent step."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, Expression, Graph, GraphEdge, GraphNode, Mistake, NoCanonical, Part, Problem,
                   Redraw, Solution, Step, Tex, Vector, approx, as_float, assert_close, derive_once, derived, eq,
                   exact_vector, line, numeric_gradient, option, register, rows,
                   shown_difference, shown_dot, shown_product, shown_quotient, shown_rounded,
                   shown_sum, verified)

#: The formulas SymPy derives or verifies for every (m, d) (see `formulas`).
DERIVED = ("∂ℓ/∂ŷ", "dσ/dz", "dσ/dz = σ(1 − σ)", "∂ℓ/∂z = ŷ − y", "∂J/∂w", "∂J/∂b")


# The gradients the key states, over m examples; `formulas` checks them against SymPy.
def grad_w(y_hat, y, rows, j):
    """∂J/∂w_j = (1/m) Σ_i (ŷ_i − y_i) x_ij."""
    return sum((yh - yi) * row[j] for yh, yi, row in zip(y_hat, y, rows)) / len(y)


def grad_b(y_hat, y):
    """∂J/∂b = (1/m) Σ_i (ŷ_i − y_i)."""
    return sum(yh - yi for yh, yi in zip(y_hat, y)) / len(y)


def _vanishes_by_example(owner: dict, replace: dict):
    """A test that a difference of gradients is zero: e^{−z_i} becomes a symbol e_i (so the
    difference is rational), its terms are grouped by the example they belong to, and each
    group is put over one denominator, whose numerator must expand to 0 (far faster than
    simplifying the whole sum, or cancelling each group)."""
    def zero(expr):
        groups: dict = {}
        for term in sp.Add.make_args(sp.expand_mul(expr.xreplace(replace))):
            key = frozenset(owner[s] for s in term.free_symbols if s in owner)
            groups.setdefault(key, []).append(term)
        return all(sp.expand(sp.fraction(sp.together(sp.Add(*g)))[0]) == 0
                   for g in groups.values())
    return zero


def formulas(m: int, d: int) -> dict:
    """σ′ and ∂ℓ/∂z for one example, then ∂J/∂w and ∂J/∂b of the mean cost over m symbolic
    examples with d features each, derived by SymPy and checked against the key's forms."""
    z, y = sp.symbols("z y", real=True)
    sigma = 1 / (1 + sp.exp(-z))
    d_sigma = derived(sp.diff(sigma, z), name="dσ/dz")
    loss = -(y * sp.log(sigma) + (1 - y) * sp.log(1 - sigma))
    p = sp.Symbol("p", positive=True)      # ŷ
    verified(sp.diff(-(y * sp.log(p) + (1 - y) * sp.log(1 - p)), p), -y / p + (1 - y) / (1 - p),
             name="∂ℓ/∂ŷ")
    verified(d_sigma, sigma * (1 - sigma), name="dσ/dz = σ(1 − σ)")
    verified(sp.diff(loss, z), sigma - y, name="∂ℓ/∂z = ŷ − y")
    X = [[sp.Symbol(f"x_{i}{j}", real=True) for j in range(d)] for i in range(m)]
    Y = [sp.Symbol(f"y_{i}", real=True) for i in range(m)]
    w = [sp.Symbol(f"w_{j}", real=True) for j in range(d)]
    b = sp.Symbol("b", real=True)
    zs = [sum((wj * xj for wj, xj in zip(w, row)), b) for row in X]
    y_hat = [sigma.subs(z, zi) for zi in zs]
    J = sum((loss.subs({z: zi, y: yi}) for zi, yi in zip(zs, Y)), sp.Integer(0)) / m
    E = [sp.Symbol(f"e_{i}", positive=True) for i in range(m)]
    owner = {**{e: i for i, e in enumerate(E)}, **{yi: i for i, yi in enumerate(Y)},
             **{x: i for i, row in enumerate(X) for x in row}}
    zero = _vanishes_by_example(owner, {sp.exp(-zi): e for zi, e in zip(zs, E)})
    for j in range(d):
        verified(sp.diff(J, w[j]), grad_w(y_hat, Y, X, j), name="∂J/∂w", zero=zero)
    verified(sp.diff(J, b), grad_b(y_hat, Y), name="∂J/∂b", zero=zero)
    return {"d_sigma": d_sigma, "z": z}


def sigmoid(z):
    return 1 / (1 + sp.exp(-z))


@dataclass(frozen=True)
class Options:
    m: int = option(4, 2, 8)         # examples
    d: int = option(1, 1, 3)         # features
    digits: int = option(4, 2, 12)   # significant digits of rounded decimals in the key


@dataclass(frozen=True)
class Params:
    x: object               # Vector (d = 1) or m × d ImmutableMatrix (one row per example)
    y: Vector
    w: object               # a number (d = 1) or a Vector
    b: sp.Rational
    alpha: sp.Rational


def _weights(params, d):
    return (params.w,) if d == 1 else tuple(params.w)


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, with their working (shared by the steps, the
    answers and the mistakes).  They are kept as the formulas' arithmetic on closed forms
    (a mean of logarithms, of sigmoid differences, …): exact, readable in the key,
    parsable in JSON, and far cheaper than letting SymPy expand them."""
    X: list                 # one row of d inputs per example
    weights: tuple
    b: sp.Rational
    y: Vector
    alpha: sp.Rational
    z_shown: list           # z_i = w·x_i + b as written
    z: Vector
    y_hat: Vector
    losses: list            # ℓ_i, one logarithm each
    cost: object
    residuals: list         # ŷ_i − y_i
    grad_w: list            # ∂J/∂w_j, one per feature
    db: object
    w_new: list
    b_new: object

    @property
    def m(self) -> int:
        return len(self.X)

    @property
    def d(self) -> int:
        return len(self.weights)

    def shaped(self, seq):
        """One entry per feature, as the problem states w: a number when d = 1."""
        return seq[0] if self.d == 1 else Vector(seq)


def compute(params, options) -> Work:
    X, w, b, alpha = rows(params.x), _weights(params, options.d), params.b, params.alpha
    z_shown = [shown_sum([*shown_dot(w, r).args, b]) for r in X]
    z = Vector(s.value for s in z_shown)
    y_hat = Vector(sigmoid(zi) for zi in z)
    # ℓ = −log σ(z) for y = 1 and −log(1 − σ(z)) = −log σ(−z) = log(1 + e^{z}) for y = 0
    # (evaluate=False: SymPy would only try, slowly, to simplify the logarithm)
    losses = [sp.log(1 + sp.exp(-zi if yi == 1 else zi), evaluate=False)
              for zi, yi in zip(z, params.y)]
    inv_m = shown_quotient(1, options.m)
    residuals = [shown_difference(yh, yi) for yh, yi in zip(y_hat, params.y)]
    grad_w = [shown_product(inv_m, shown_sum(shown_product(r, row[j])
                                              for r, row in zip(residuals, X)))
              for j in range(options.d)]
    db = shown_product(inv_m, shown_sum(residuals))
    return Work(X=X, weights=w, b=b, y=params.y, alpha=alpha, z_shown=z_shown, z=z,
                y_hat=y_hat, losses=losses, cost=shown_product(inv_m, shown_sum(losses)),
                residuals=residuals, grad_w=grad_w, db=db,
                w_new=[shown_difference(wj, shown_product(alpha, g)) for wj, g in zip(w, grad_w)],
                b_new=shown_difference(b, shown_product(alpha, db)))


def forward_pass(work: Work, digits: int) -> Step:
    return Step(
        title="(a) Forward pass",
        text=r"$z_i = w x_i + b$ and $\hat y_i = \sigma(z_i) = \frac{1}{1 + e^{-z_i}}$; the "
             "exact values are closed forms, shown with rounded decimals."
        if work.d == 1 else r"$z_i = w^\top x^{(i)} + b$ and $\hat y_i = \sigma(z_i)$.",
        math=tuple(eq(f"z_{i + 1}", work.z_shown[i], work.z[i]) + r",\qquad "
                   + eq(line(rf"\hat y_{i + 1} = \sigma(", work.z[i], ")"),
                        approx(work.y_hat[i], digits))
                   for i in range(work.m)))


def loss_line(work: Work, i: int, digits: int):
    k = i + 1
    which = r"-\log \hat y_{%d}" % k if work.y[i] == 1 else r"-\log(1 - \hat y_{%d})" % k
    return eq(rf"\ell_{k} = {which}", approx(work.losses[i], digits))


def loss_and_cost(work: Work, digits: int) -> Step:
    return Step(
        title="(b) Loss and cost",
        text=r"With $y \in \{0, 1\}$ only one term of the loss survives per example; "
             r"$1 - \sigma(z) = \sigma(-z)$.",
        math=(r"\ell(\hat y, y) = -\bigl(y \log \hat y + (1 - y) \log(1 - \hat y)\bigr)",
              r"J(w, b) = \frac{1}{m} \sum_{i=1}^{m} \ell(\hat y_i, y_i)",
              *(loss_line(work, i, digits) for i in range(work.m)),
              eq(r"J = \frac{1}{%d}\bigl(\ell_1 + \dots + \ell_{%d}\bigr)" % (work.m, work.m),
                 approx(work.cost, digits))))


def chain_rule(work: Work, facts: dict) -> Step:
    x_i = "x_i" if work.d == 1 else "x^{(i)}"
    return Step(
        title="(c) Gradients by the chain rule",
        text=r"For one example, $\ell$ depends on $w$ and $b$ only through $z$ and "
             r"$\hat y$. SymPy differentiates $\sigma$ and the loss; the product "
             r"simplifies to $\hat y - y$. The cost averages over the examples, so the "
             r"factor $\frac{1}{m}$ appears once, here, and not again in the update.",
        math=(r"\frac{\partial \ell}{\partial \hat y} = -\frac{y}{\hat y} + "
              r"\frac{1 - y}{1 - \hat y}",
              eq(r"\frac{d \hat y}{d z} = \frac{d}{dz}\,\frac{1}{1 + e^{-z}}", facts["d_sigma"],
                 r"\sigma(z)\bigl(1 - \sigma(z)\bigr)"),
              r"\frac{\partial \ell}{\partial z} = \frac{\partial \ell}{\partial \hat y}"
              r"\cdot \frac{d \hat y}{d z} = \hat y - y",
              r"\frac{\partial J}{\partial w} = \frac{1}{m} \sum_{i=1}^{m} (\hat y_i - y_i)\, "
              + x_i,
              r"\frac{\partial J}{\partial b} = \frac{1}{m} \sum_{i=1}^{m} (\hat y_i - y_i)"),
        substeps=(Step(text=rf"SymPy also differentiates $J$ over ${work.m}$ symbolic examples "
                            r"and confirms both gradients.", audience="instructor"),))


def gradients_numerically(work: Work, digits: int) -> Step:
    m, d = work.m, work.d
    residual = [rf"(\hat y_{i + 1} - y_{i + 1})" for i in range(m)]
    x = [row[0] if d == 1 else Vector(row) for row in work.X]
    w_sum = shown_sum(shown_product(Tex(r), xi) for r, xi in zip(residual, x))
    # with d > 1 each component's closed form is a line of its own (a vector of them would
    # not fit a printed line)
    return Step(
        title="(c) Gradients, numerically",
        math=(*(eq(rf"\hat y_{i + 1} - y_{i + 1}", approx(r, digits))
                for i, r in enumerate(work.residuals)),
              eq(line(r"\frac{\partial J}{\partial w} = \frac{1}{%d}\Bigl(" % m, w_sum,
                      r"\Bigr)"), *([approx(work.grad_w[0], digits)] if d == 1 else [])),
              *([] if d == 1 else [eq(r"\frac{\partial J}{\partial w_{%d}}" % (j + 1),
                                      approx(g, digits)) for j, g in enumerate(work.grad_w)]),
              eq(r"\frac{\partial J}{\partial b} = \frac{1}{%d}\Bigl(" % m + " + ".join(residual)
                 + r"\Bigr)", approx(work.db, digits))))


def graph(work: Work, digits: int) -> Graph:
    """The cost as a computational graph, one path w, b → z_i → ŷ_i → ℓ_i → J per example,
    with the gradient of J flowing back: 1/m into each ℓ_i, (1/m)∂ℓ/∂ŷ into ŷ_i, then
    (ŷ_i − y_i)/m into z_i, which w (times x_i) and b collect over the examples."""
    m, inv_m = work.m, sp.Rational(1, work.m)
    nodes = [GraphNode("w", "w", work.shaped(list(work.weights)), work.shaped(work.grad_w)),
             GraphNode("b", "b", work.b, work.db)]
    edges = []
    for i in range(m):
        k, y, y_hat = i + 1, work.y[i], work.y_hat[i]
        nodes += [GraphNode(f"z{k}", f"z_{{{k}}}", work.z[i]),
                  GraphNode(f"y{k}", rf"\hat y_{{{k}}}", y_hat),
                  GraphNode(f"l{k}", rf"\ell_{{{k}}}", work.losses[i])]
        # (1/m) ∂ℓ/∂ŷ = (1/m)(−y/ŷ + (1 − y)/(1 − ŷ)), of which y ∈ {0, 1} keeps one term
        # (SymPy would build, slowly, the closed form of the term it then multiplies by 0)
        d_y_hat = -inv_m / y_hat if y == 1 else inv_m / (1 - y_hat)
        residual = shown_product(inv_m, work.residuals[i])
        edges += [GraphEdge("w", f"z{k}", work.shaped([shown_product(residual, xj)
                                                       for xj in work.X[i]])),
                  GraphEdge("b", f"z{k}", residual),
                  GraphEdge(f"z{k}", f"y{k}", residual),
                  GraphEdge(f"y{k}", f"l{k}", d_y_hat),
                  GraphEdge(f"l{k}", "J", inv_m)]
    nodes.append(GraphNode("J", "J", work.cost))
    return Graph(tuple(nodes), tuple(edges), digits=min(digits, 6),
                 caption=r"The cost as a computational graph: forward values in the boxes, the "
                         r"gradient of $J$ flowing back along each edge in red ($\frac{1}{m}"
                         r"(\hat y_i - y_i)$ into $z_i$), and the gradients of $w$ and $b$, the "
                         r"sums of their edges, under their values.")


def descent_step(work: Work, digits: int) -> Step:
    """The step taken with the gradients' rounded values (the answers use the exact ones)."""
    step = lambda value, g: shown_difference(value, shown_product(work.alpha,
                                                                  shown_rounded(g, digits)))
    return Step(
        title="(d) One gradient-descent step",
        text=r"The step uses the gradients found in (c), by their rounded values; "
             r"the new parameters are computed from the exact ones (see the Answers).",
        math=(eq(r"w := w - \alpha \frac{\partial J}{\partial w}",
                 approx(work.shaped([step(wj, g) for wj, g in zip(work.weights, work.grad_w)]),
                        digits)),
              eq(r"b := b - \alpha \frac{\partial J}{\partial b}",
                 approx(step(work.b, work.db), digits))))


def _descent(work: Work, residuals, scale, sign=-1) -> dict:
    """(dw, db, w_new, b_new) from per-example dℓ/dz `residuals`, the gradients being
    scale·Σ; the step w + sign·α·dw (as written: exact, and cheap to serialise)."""
    dw = [shown_product(scale, shown_sum(shown_product(r, row[j])
                                         for r, row in zip(residuals, work.X)))
          for j in range(work.d)]
    db = shown_product(scale, shown_sum(residuals))
    return {"dw": work.shaped(dw), "db": db,
            "w_new": work.shaped([shown_sum([wj, shown_product(sign * work.alpha, g)])
                                  for wj, g in zip(work.weights, dw)]),
            "b_new": shown_sum([work.b, shown_product(sign * work.alpha, db)])}


#: Part (c)'s formulas (core/formula.py): ∂ℓ/∂z for one example, ∂J/∂w in matrix form.
DL_DZ, DJ_DW = "yhat - y", "1/m*x^T*(yhat - y)"


def example_formula(text: str) -> Expression:
    """A formula of one example's z, y and ŷ = σ(z)."""
    return Expression(text, {"z": (), "y": ()}, {"yhat": "sigma(z)"})


def cost_formula(w: Work, text: str) -> Expression:
    """A formula over the whole training set: x the inputs (m × 1 when d = 1; the m × d
    matrix X otherwise, typed X), y the labels, ŷ = σ(xw + b), and m the number given."""
    if w.d == 1:
        return Expression(text, {"x": (w.m, 1), "y": (w.m, 1), "w": (), "b": ()},
                          {"m": str(w.m), "yhat": "sigma(w*x + b)"})
    return Expression(text.replace("x^T", "X^T"), {"X": (w.m, w.d), "y": (w.m, 1),
                                                  "w": (w.d, 1), "b": ()},
                      {"m": str(w.m), "yhat": "sigma(X*w + b)"})


@register
class LogisticRegression(Problem):
    id = "logistic_regression"
    title = "Logistic regression: cost, gradients and one gradient-descent step"

    def canonical(self, options):
        if (options.m, options.d) != (4, 1):
            raise NoCanonical("the canonical variant has m = 4, d = 1")
        R = sp.Rational
        return Params(x=exact_vector([1, 2, -1, 0]), y=exact_vector([1, 1, 0, 0]),
                      w=R("0.5"), b=R("-0.5"), alpha=R("0.1"))

    def generate(self, rng, options):
        m, d = options.m, options.d
        R = sp.Rational
        xs = [[R(v) for v in rng.decimals(d, -2, 2, 1, nonzero=False)] for _ in range(m)]
        y = Vector(R(rng.integer(0, 1)) for _ in range(m))
        w = [R(v) for v in rng.decimals(d, -1, 1, 1)]
        b = R(rng.decimal(-1, 1, 1, nonzero=False))
        alpha = R(rng.choice(("0.01", "0.05", "0.1", "0.5", "1")))
        if len(set(y)) < 2:
            raise Redraw("both classes must occur")
        if len({tuple(r) for r in xs}) < m:
            raise Redraw("repeated examples")
        x = Vector(r[0] for r in xs) if d == 1 else sp.ImmutableMatrix(xs)
        return Params(x=x, y=y, w=w[0] if d == 1 else Vector(w), b=b, alpha=alpha)

    def statement(self, params, options):
        d = options.d
        model = (r"$\hat y = \sigma(w x + b)$" if d == 1 else
                 r"$\hat y = \sigma(w^\top x + b)$ with $x, w \in \mathbb{R}^{@d}$")
        data = ("inputs $x = @x$ and labels $y = @y$" if d == 1 else
                "inputs given as the rows of $X = @x$ and labels $y = @y$")
        return (
            Step(text=f"A binary classifier uses logistic regression, {model}, where "
                      r"$\sigma(z) = \frac{1}{1 + e^{-z}}$. The training set has $m = @m$ examples: "
                      f"{data}. The parameters are $w = @w$ and $b = @b$.",
                 values={"d": sp.Integer(d), "x": params.x, "y": params.y, "m": sp.Integer(options.m),
                         "w": params.w, "b": params.b}),
            Part("(a)", r"Compute $z_i$ and $\hat y_i$ for every example."),
            Part("(b)", r"Write the cross-entropy loss $\ell(\hat y, y)$ of one example and the "
                        r"cost $J(w, b)$ over the $m$ examples; evaluate $J$."),
            Part("(c)", r"Derive $\partial \ell / \partial z$ for one example, then "
                        r"$\partial J / \partial w$ (in matrix form) and "
                        r"$\partial J / \partial b$ with the chain rule, and evaluate them "
                        r"(half of the points, three tenths for the two formulas)."),
            Part("(d)", r"Take one gradient-descent step with learning rate $\alpha = @alpha$.",
                 values={"alpha": params.alpha}),
        )

    def solve(self, params, options):
        m, d, digits = options.m, options.d, options.digits
        work = compute(params, options)
        facts = derive_once((self.id, m, d), lambda: formulas(m, d))
        return Solution(
            steps=(forward_pass(work, digits), loss_and_cost(work, digits),
                   chain_rule(work, facts), gradients_numerically(work, digits),
                   graph(work, digits),
                   descent_step(work, digits)),
            answers=(Answer("z", "z", work.z, digits, part="(a)"),
                      Answer("y_hat", r"\hat y", work.y_hat, digits, part="(a)",
                            constraints="probability"),
                     Answer("cost", "J", work.cost, digits, part="(b)", constraints="nonnegative"),
                     Answer("dl_dz", r"\frac{\partial \ell}{\partial z}",
                            example_formula(DL_DZ), part="(c)"),
                     Answer("dJ_dw_formula", r"\frac{\partial J}{\partial w}",
                            cost_formula(work, DJ_DW), part="(c)", points=2),
                     Answer("dw", r"\frac{\partial J}{\partial w}", work.shaped(work.grad_w),
                            digits, part="(c)"),
                     Answer("db", r"\frac{\partial J}{\partial b}", work.db, digits, part="(c)"),
                     Answer("w_new", r"w_{new}", work.shaped(work.w_new), digits, part="(d)"),
                     Answer("b_new", r"b_{new}", work.b_new, digits, part="(d)")),
            work=work)

    follows = {"y_hat": ("z",), "cost": ("y_hat",), "dw": ("y_hat",), "db": ("y_hat",),
               "w_new": ("dw",), "b_new": ("db",)}

    def follow_through(self, params, given):
        """ŷ from the student's z, J and the gradients from their ŷ, the step from their
        gradients."""
        y, p = params.y, given["y_hat"]
        X = np.asarray(params.x).reshape(len(y), -1)
        dw = X.T @ (p - y) / len(y)
        return {"y_hat": 1.0 / (1.0 + np.exp(-given["z"])),
                "cost": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
                "dw": float(dw[0]) if X.shape[1] == 1 else dw, "db": float(np.mean(p - y)),
                "w_new": params.w - params.alpha * given["dw"],
                "b_new": params.b - params.alpha * given["db"]}

    def mistakes(self, params, options, solution):
        work = solution.work
        mean = sp.Rational(1, work.m)
        ascent = _descent(work, work.residuals, mean, sign=+1)
        # σ' taken as σ(1 + σ): dℓ/dz = dℓ/dŷ · ŷ(1 + ŷ) = (ŷ − y)/(ŷ(1 − ŷ)) · ŷ(1 + ŷ)
        # = (ŷ − y)(1 + ŷ)/(1 − ŷ), and (1 + ŷ)/(1 − ŷ) = 1 + 2e^{z} for ŷ = σ(z).
        plus = [shown_product(r, shown_sum([1, shown_product(2, sp.exp(zi))]))
                for r, zi in zip(work.residuals, work.z)]
        return (
            Mistake("double_mean", "divided by m twice",
                    "the gradients divided by $m$ again: $J$ is already a mean, so "
                    "$\\frac{1}{m}$ appears once, in $\\partial J/\\partial w$ and "
                    "$\\partial J/\\partial b$, and not again in the update",
                    {**_descent(work, work.residuals, mean / work.m),
                     "dJ_dw_formula": cost_formula(work, "1/m^2*" + DJ_DW[4:])}),
            Mistake("missing_mean", "sums instead of means",
                    "the gradients without $\\frac{1}{m}$: sums over the examples, not the "
                    "gradient of the mean cost $J$",
                    {**_descent(work, work.residuals, sp.Integer(1)),
                     "dJ_dw_formula": cost_formula(work, DJ_DW[4:])}),
            Mistake("gradient_ascent", "step uphill",
                    "$w + \\alpha\\,\\partial J/\\partial w$: that climbs the cost; descent "
                    "steps against the gradient",
                    {"w_new": ascent["w_new"], "b_new": ascent["b_new"]}),
            Mistake("sigmoid_derivative_plus", "σ′ = σ(1 + σ) in the chain rule",
                    "$d\\hat y/dz = \\hat y(1 + \\hat y)$ instead of $\\hat y(1 - \\hat y)$: "
                    "then $\\partial \\ell/\\partial z = (\\hat y - y)(1 + \\hat y)/(1 - \\hat y)$ "
                    "instead of $\\hat y - y$",
                    {**_descent(work, plus, mean),
                     "dl_dz": example_formula("(yhat - y)*(1 + yhat)/(1 - yhat)")}),
        )

    def check(self, params, options, solution):
        d = options.d
        X = np.array([[float(v) for v in r] for r in rows(params.x)])
        y = as_float(params.y)
        w0 = np.array([float(v) for v in _weights(params, d)])
        b0, alpha = float(params.b), float(params.alpha)

        def cost(w, b):
            p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

        p = 1.0 / (1.0 + np.exp(-(X @ w0 + b0)))
        assert_close("z", solution.answer("z"), X @ w0 + b0)
        assert_close("y_hat", solution.answer("y_hat"), p)
        assert_close("cost", solution.answer("cost"), cost(w0, b0))
        # The gradients in closed form, (1/m) Σ (ŷ_i − y_i) x_i and (1/m) Σ (ŷ_i − y_i), in
        # float64.  Every quantity is of order one (|x| ≤ 2, |ŷ − y| < 1, m ≤ 8), so their
        # rounding error is below 1e-13 in absolute terms: a residual sum that cancels to
        # nearly zero is compared with that absolute bound, not with its own size.
        shape = lambda a: a[0] if d == 1 else a
        dw, db = X.T @ (p - y) / len(y), float(np.mean(p - y))
        tight = {"rtol": 1e-9, "atol": 1e-12}
        assert_close("dw", solution.answer("dw"), shape(dw), **tight)
        assert_close("db", solution.answer("db"), db, **tight)
        assert_close("w_new", solution.answer("w_new"), shape(w0 - alpha * dw), **tight)
        assert_close("b_new", solution.answer("b_new"), b0 - alpha * db, **tight)
        # Finite differences of the cost as a looser, formula-free check of the chain rule:
        # with h = 1e-6 the rounding of J (about 1e-13) gives errors near 1e-7.
        loose = {"rtol": 1e-4, "atol": 1e-6}
        assert_close("dw", solution.answer("dw"),
                     shape(numeric_gradient(lambda w: cost(w, b0), w0)), **loose)
        assert_close("db", solution.answer("db"),
                     numeric_gradient(lambda b: cost(w0, float(b)), np.float64(b0)), **loose)
