"""Batch normalisation of one feature (training mode): forward pass, then ∂L/∂γ, ∂L/∂β and
∂L/∂x backpropagated through the graph x → (μ, σ²) → x̂ → y."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from wsgen import (Answer, CheckFailed, Graph, GraphEdge, GraphNode, Mistake, NoCanonical, Part, Problem, Redraw, Solution,
                   Step, Surd, Vector, approx, as_float, assert_close, assert_close_scaled,
                   derive_once, derived, eq, exact_vector, fraction, inverse_root, line, option,
                   rational, register, require_decimals, shown_difference, shown_dot,
                   shown_product, shown_quotient, shown_square, shown_sum, surd_value, verified)

#: The formulas SymPy derives or verifies for every batch size m (see `formulas`).
DERIVED = ("∂x̂ᵢ/∂σ²", "∂x̂ᵢ/∂μ", "∂σ²/∂μ", "∂σ²/∂xᵢ", "∂L/∂σ²", "∂L/∂μ",
           "∂L/∂x (graph)", "∂L/∂x (closed form)", "∂L/∂γ", "∂L/∂β")


# The formulas the key states, used for its numbers too; `formulas` checks them against SymPy
# for a symbolic batch.  `g` is ∂L/∂x̂ (= γ dy), `dev` the deviations xᵢ − μ, `inv` is
# 1/√(σ² + ε) (computed once: SymPy divides by a square root slowly).
def batch_mean(x):
    """μ = (1/m) Σ xᵢ."""
    return sp.Add(*x) / len(x)


def batch_var(x, mu):
    """σ² = (1/m) Σ (xᵢ − μ)² (biased: the batch's own variance)."""
    return sp.Add(*[(xi - mu) ** 2 for xi in x]) / len(x)


def grad_var(g, dev, inv):
    """∂L/∂σ² = Σᵢ ∂L/∂x̂ᵢ · (xᵢ − μ) · (−½)(σ² + ε)^(−3/2)."""
    return -(inv ** 3) * sum(gi * di for gi, di in zip(g, dev)) / 2


def grad_mean(g, dev, inv, dvar):
    """∂L/∂μ = Σᵢ ∂L/∂x̂ᵢ · (−1/√(σ² + ε)) + ∂L/∂σ² · (−2/m) Σᵢ (xᵢ − μ)."""
    m = len(g)
    return -sum(g) * inv + dvar * (-2 * sum(dev) / m)


def grad_x(g, dev, inv, dvar, dmu):
    """∂L/∂xᵢ = ∂L/∂x̂ᵢ / √(σ² + ε) + ∂L/∂σ² · 2(xᵢ − μ)/m + ∂L/∂μ / m."""
    m = len(g)
    return [gi * inv + dvar * 2 * di / m + dmu / m for gi, di in zip(g, dev)]


def closed_dx(gamma, dy, x_hat, inv):
    """∂L/∂xᵢ = γ / (m √(σ² + ε)) · (m dyᵢ − Σⱼ dyⱼ − x̂ᵢ Σⱼ dyⱼ x̂ⱼ)."""
    m = len(dy)
    total, dot = sum(dy), sum(a * b for a, b in zip(dy, x_hat))
    coef = gamma * inv / m
    return [coef * (m * d - total - xh * dot) for d, xh in zip(dy, x_hat)]


def dgamma_of(dy, x_hat):
    """∂L/∂γ = Σᵢ dyᵢ x̂ᵢ."""
    return sum(a * b for a, b in zip(dy, x_hat))


def dbeta_of(dy):
    """∂L/∂β = Σᵢ dyᵢ."""
    return sum(dy)



# The symbols of one entry's local derivatives: xᵢ, μ, σ² and ε.
XI, MU = sp.Symbol("x_i", real=True), sp.Symbol(r"\mu", real=True)
VAR, EPS = sp.Symbol(r"\sigma^{2}", nonnegative=True), sp.Symbol(r"\varepsilon", nonnegative=True)


def formulas(m: int) -> dict:
    """For a symbolic batch of m values: SymPy's local partial derivatives of the graph's nodes,
    and ∂L/∂x, ∂L/∂γ, ∂L/∂β of L = Σ dyᵢ yᵢ differentiated through the explicit mean, variance
    and normalisation, checked against the key's graph rules and its closed form."""
    local = (XI - MU) / sp.sqrt(VAR + EPS)
    # SymPy's result, −(xᵢ − μ)/(2 (σ² + ε)^{3/2}), stated with the power written as a square
    # root (the printer would show the exponent 3/2 as 1.5)
    d_xhat_dv = verified(derived(sp.diff(local, VAR), name="∂x̂ᵢ/∂σ²"),
                         sp.Mul(-1, XI - MU, sp.Pow(sp.Mul(2, VAR + EPS, sp.sqrt(VAR + EPS),
                                                           evaluate=False), -1, evaluate=False),
                                evaluate=False), name="∂x̂ᵢ/∂σ²")
    d_xhat_dmu = derived(sp.diff(local, MU), name="∂x̂ᵢ/∂μ")
    verify_batch(m, d_xhat_dv, d_xhat_dmu)
    return {"d_xhat_dv": d_xhat_dv, "d_xhat_dmu": d_xhat_dmu}


def verify_batch(m: int, d_xhat_dv, d_xhat_dmu) -> None:
    """The key's rules for a symbolic batch of m values, against SymPy's derivatives of
    L = Σ dyᵢ yᵢ with the mean, the variance and the normalisation written out."""
    x = [sp.Symbol(f"x_{i + 1}", real=True) for i in range(m)]
    dy = [sp.Symbol(f"dy_{i + 1}", real=True) for i in range(m)]
    gamma, beta = sp.Symbol(r"\gamma", real=True), sp.Symbol(r"\beta", real=True)
    mus = sp.Symbol("mu_s", real=True)               # μ as a node of its own
    var_of_mu = sp.Add(*[(xj - mus) ** 2 for xj in x]) / m
    mean = batch_mean(x)
    # σ² as a function of x and μ: its partials (μ held fixed), and ∂σ²/∂μ = 0 at μ = mean
    verified(sp.diff(var_of_mu, mus).subs(mus, mean), sp.Integer(0), name="∂σ²/∂μ")
    verified(sp.Matrix([sp.diff(var_of_mu, xj).subs(mus, mean) for xj in x]),
             sp.Matrix([2 * (xj - mean) / m for xj in x]), name="∂σ²/∂xᵢ")
    var = batch_var(x, mean)
    inv = 1 / sp.sqrt(var + EPS)
    x_hat = [(xj - mean) * inv for xj in x]
    L = sp.Add(*[d * (gamma * xh + beta) for d, xh in zip(dy, x_hat)])
    # Differences that involve √(σ² + ε) are decided with ε = S² − σ² (S > 0 a symbol): then
    # √(σ² + ε) = S and the difference is a rational function of x, dy, γ and S.
    S = sp.Symbol("S", positive=True)
    zero = lambda expr: sp.cancel(sp.expand(expr.subs(EPS, S ** 2 - var))) == 0
    g = [gamma * d for d in dy]
    dev = [xj - mean for xj in x]
    # the graph's two backward rules for the statistics, from the local partials
    vs = {VAR: var, MU: mean}
    verified(sp.Add(*[gj * d_xhat_dv.subs(XI, xj) for gj, xj in zip(g, x)]).subs(vs),
             grad_var(g, dev, inv), name="∂L/∂σ²", zero=zero)
    dvar = grad_var(g, dev, inv)
    verified((sp.Add(*[gj * d_xhat_dmu for gj in g]) + dvar * sp.diff(var_of_mu, mus)).subs(
        {**vs, mus: mean}), grad_mean(g, dev, inv, dvar), name="∂L/∂μ", zero=zero)
    dmu = grad_mean(g, dev, inv, dvar)
    direct = sp.Matrix([sp.diff(L, xj) for xj in x])
    verified(direct, sp.Matrix(grad_x(g, dev, inv, dvar, dmu)), name="∂L/∂x (graph)", zero=zero)
    verified(direct, sp.Matrix(closed_dx(gamma, dy, x_hat, inv)),
             name="∂L/∂x (closed form)", zero=zero)
    verified(sp.diff(L, gamma), dgamma_of(dy, x_hat), name="∂L/∂γ", zero=zero)
    verified(sp.diff(L, beta), dbeta_of(dy), name="∂L/∂β")


@dataclass(frozen=True)
class Options:
    m: int = option(4, 2, 6)                       # batch size
    eps: float = option(0.1, 0, 1)                 # ε, a short decimal (0 allowed)


@dataclass(frozen=True)
class Params:
    x: Vector
    gamma: sp.Rational
    beta: sp.Rational
    eps: sp.Rational
    dy: Vector


def _eps(options) -> sp.Rational:
    return sp.Rational(str(options.eps))


def _surd(c: Fraction, root, plus: Fraction = Fraction(0)):
    """plus + c·root, exact: a Rational when root = 1, else the arithmetic as written."""
    if root == 1 or c == 0:
        return rational(plus + (c if root == 1 else 0))
    term = shown_product(rational(c), root)
    return term if plus == 0 else shown_sum([rational(plus), term])


def _dx_rational(dy, dev, s):
    """m dyᵢ − Σ dy − x̂ᵢ Σ dy x̂ = m dyᵢ − Σ dy − (xᵢ − μ)(Σ dyⱼ (xⱼ − μ))/s: rational."""
    m, total = len(dy), sp.Add(*dy)
    c = sp.Add(*[a * b for a, b in zip(dy, dev)]) / s
    return [m * d - total - di * c for d, di in zip(dy, dev)]


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, with their working (shared by the steps, the answers
    and the mistakes).  Numbers with √(σ² + ε) in them are computed in plain Python first
    (`Surd`: c·√k) and made SymPy numbers once."""
    params: Params
    mu_shown: object       # (Σ xᵢ)/m as written
    mu: sp.Rational
    dev_shown: list        # xᵢ − μ as written
    dev: list
    var_shown: object      # (Σ (xᵢ − μ)²)/m as written
    var: sp.Rational
    s: sp.Rational         # σ² + ε
    c_inv: Fraction        # 1/√(σ² + ε) = c_inv · root, root = √k (k square-free)
    root: sp.Expr
    sd: sp.Expr            # √(σ² + ε)
    x_hat: list
    y: list
    g: list                # ∂L/∂x̂ᵢ = γ dyᵢ
    dbeta_shown: object    # Σ dyᵢ as written
    dgamma: sp.Expr
    dvar: sp.Expr          # ∂L/∂σ²
    dmu: sp.Expr           # ∂L/∂μ
    c_shown: object        # Σ dyⱼ (xⱼ − μ) / (σ² + ε) as written: rational
    coef: sp.Expr          # γ / (m √(σ² + ε))
    dx: list


def compute(params) -> Work:
    x, dy, gamma, eps = list(params.x), list(params.dy), params.gamma, params.eps
    m = len(x)
    mu_shown = shown_quotient(shown_sum(x), m)
    dev_shown = [shown_difference(xi, mu_shown.value) for xi in x]
    var_shown = shown_quotient(shown_sum(shown_square(d) for d in dev_shown), m)
    s = var_shown.value + eps
    dev = [d.value for d in dev_shown]
    # exact numbers in plain Python (Surd: c·√k), made SymPy numbers once, at the end
    devf, dyf, gammaf = [fraction(d) for d in dev], [fraction(d) for d in dy], fraction(gamma)
    c_inv, root = inverse_root(fraction(s))
    inv = Surd(c_inv, int(root ** 2)) if root != 1 else c_inv         # 1/√(σ² + ε)
    x_hat_f = [d * inv for d in devf]
    gf = [gammaf * d for d in dyf]
    dvar_f = grad_var(gf, devf, inv)
    dmu_f = grad_mean(gf, devf, inv, dvar_f)
    dx_f = grad_x(gf, devf, inv, dvar_f, dmu_f)
    if closed_dx(gammaf, dyf, x_hat_f, inv) != dx_f:
        raise CheckFailed("batch_norm: the graph's ∂L/∂x and the closed form differ")
    exact = lambda v: surd_value(v, root)
    return Work(params=params, mu_shown=mu_shown, mu=mu_shown.value, dev_shown=dev_shown,
                dev=dev, var_shown=var_shown, var=var_shown.value, s=s, c_inv=c_inv, root=root,
                sd=exact(inv * fraction(s)),
                x_hat=[exact(v) for v in x_hat_f],
                y=[exact(gammaf * v) + params.beta for v in x_hat_f],
                g=[gamma * d for d in dy], dbeta_shown=shown_sum(dy),
                dgamma=exact(dgamma_of(dyf, x_hat_f)), dvar=exact(dvar_f), dmu=exact(dmu_f),
                c_shown=shown_quotient(shown_dot(dy, dev), s), coef=exact(gammaf * inv / m),
                dx=[exact(v) for v in dx_f])


def graph(w: Work) -> Graph:
    """The layer's computational graph x → μ → σ² → x̂ → y, with x feeding μ, σ² and x̂:
    each node's value and gradient, and the part of each gradient that flows back along
    each edge (x's three parts add up to ∂L/∂x; μ gets nothing through σ², since the
    deviations sum to 0)."""
    p, m = w.params, len(w.dev)
    mu_via_xhat = -sp.Add(*w.g) / w.sd
    dvar_dmu = w.dvar * sp.Rational(-2, m) * sp.Add(*w.dev)
    return Graph(
        nodes=(GraphNode("x", "x", p.x, Vector(w.dx)), GraphNode("mu", r"\mu", w.mu, w.dmu),
               GraphNode("var", r"\sigma^2", w.var, w.dvar),
               GraphNode("xhat", r"\hat x", Vector(w.x_hat), Vector(w.g)),
               GraphNode("gamma", r"\gamma", p.gamma, w.dgamma),
               GraphNode("beta", r"\beta", p.beta, w.dbeta_shown.value),
               GraphNode("y", "y", Vector(w.y), p.dy)),
        edges=(GraphEdge("x", "mu", Vector(w.dmu / m for _ in w.dev)),
               GraphEdge("x", "var", Vector(w.dvar * 2 * d / m for d in w.dev)),
               GraphEdge("x", "xhat", Vector(g / w.sd for g in w.g)),
               GraphEdge("mu", "var", dvar_dmu), GraphEdge("mu", "xhat", mu_via_xhat),
               GraphEdge("var", "xhat", w.dvar),
               GraphEdge("xhat", "y", Vector(w.g)), GraphEdge("gamma", "y", w.dgamma),
               GraphEdge("beta", "y", w.dbeta_shown.value)),
        caption=r"The computational graph: each value, the gradient of $L$ under it (red), and "
                r"the part of it flowing back along each edge. The three parts that reach $x$ "
                r"add up to $\partial L / \partial x$.")


def forward_pass(w: Work) -> Step:
    p = w.params
    return Step(
        title="(a) Forward pass",
        text=r"Training mode uses the batch's own statistics: $\mu$ is the mean and "
             r"$\sigma^2$ the mean squared deviation (divided by $m$, not $m - 1$). "
             r"$\varepsilon$ goes under the square root.",
        math=(eq(r"\mu = \frac{1}{m}\sum_{i} x_i", w.mu_shown, w.mu),
              eq(r"\sigma^2 = \frac{1}{m}\sum_{i} (x_i - \mu)^2", w.var_shown, w.var),
              eq(r"\sqrt{\sigma^2 + \varepsilon}", line(r"\sqrt{", w.var, " + ", p.eps, "}"),
                 line(r"\sqrt{", w.s, "}"), approx(w.sd)),
              *(eq(rf"\hat x_{{{i + 1}}}", shown_quotient(d, w.sd), approx(xh))
                for i, (d, xh) in enumerate(zip(w.dev_shown, w.x_hat))),
              *(eq(line(f"y_{{{i + 1}}} = ", p.gamma, rf" \cdot \hat x_{{{i + 1}}} + ", p.beta),
                   approx(y)) for i, y in enumerate(w.y))))


def graph_derivation(facts: dict) -> Step:
    return Step(
        title="(b) Backpropagation through the graph",
        text=r"$L$ depends on $\gamma$ and $\beta$ through every $y_i$, and on $x_i$ along "
             r"three paths: directly through $\hat x_i$, through $\mu$ and through "
             r"$\sigma^2$ (both statistics depend on every $x_j$, so every $\hat x_j$ "
             r"depends on $x_i$). Write $\partial L / \partial y_i = dy_i$. SymPy gives the "
             r"local derivatives of $\hat x_i = (x_i - \mu)/\sqrt{\sigma^2 + \varepsilon}$, "
             r"and $\sum_i (x_i - \mu) = 0$ removes the path from $\sigma^2$ to $\mu$.",
        math=(r"\frac{\partial L}{\partial \beta} = \sum_i dy_i,\qquad "
              r"\frac{\partial L}{\partial \gamma} = \sum_i dy_i\, \hat x_i,\qquad "
              r"\frac{\partial L}{\partial \hat x_i} = \gamma\, dy_i",
              eq(r"\frac{\partial \hat x_i}{\partial \sigma^2}", facts["d_xhat_dv"]) + r",\qquad "
              + eq(r"\frac{\partial \hat x_i}{\partial \mu}", facts["d_xhat_dmu"]),
              r"\frac{\partial L}{\partial \sigma^2} = \sum_i \frac{\partial L}{\partial "
              r"\hat x_i}\,\frac{\partial \hat x_i}{\partial \sigma^2} = -\frac{1}{2}"
              r"\left(\sigma^2 + \varepsilon\right)^{-3/2} \sum_i \frac{\partial L}"
              r"{\partial \hat x_i} (x_i - \mu)",
              r"\frac{\partial L}{\partial \mu} = \sum_i \frac{\partial L}{\partial \hat x_i}"
              r"\,\frac{-1}{\sqrt{\sigma^2 + \varepsilon}} + \frac{\partial L}{\partial "
              r"\sigma^2}\cdot\frac{-2}{m}\sum_i (x_i - \mu) = -\frac{1}{\sqrt{\sigma^2 + "
              r"\varepsilon}}\sum_i \frac{\partial L}{\partial \hat x_i}",
              r"\frac{\partial \mu}{\partial x_i} = \frac{1}{m},\qquad "
              r"\frac{\partial \sigma^2}{\partial x_i} = \frac{2 (x_i - \mu)}{m}",
              r"\frac{\partial L}{\partial x_i} = \frac{\partial L}{\partial \hat x_i}\,"
              r"\frac{1}{\sqrt{\sigma^2 + \varepsilon}} + \frac{\partial L}{\partial "
              r"\sigma^2}\,\frac{2 (x_i - \mu)}{m} + \frac{\partial L}{\partial \mu}\,"
              r"\frac{1}{m}",
              r"\Rightarrow\quad \frac{\partial L}{\partial x_i} = \frac{\gamma}{m\sqrt{"
              r"\sigma^2 + \varepsilon}}\Bigl(m\, dy_i - \sum_j dy_j - \hat x_i \sum_j "
              r"dy_j\, \hat x_j\Bigr)"))


def sympy_check(w: Work) -> Step:
    return Step(
        title="(b) Checked by SymPy",
        audience="instructor",
        text=r"SymPy differentiates $L = \sum_i dy_i\,y_i$ with the mean, the variance "
             r"and the normalisation written out for a symbolic batch of "
             rf"${len(w.x_hat)}$ values, and confirms each rule above: "
             r"$\partial L/\partial \sigma^2$, "
             r"$\partial L/\partial \mu$, the three-path sum and the closed form for "
             r"$\partial L/\partial x_i$, and $\partial L/\partial \gamma$, "
             r"$\partial L/\partial \beta$.")


def numbers(w: Work) -> Step:
    dy, dev, g, dbeta = list(w.params.dy), w.dev, w.g, w.dbeta_shown.value
    return Step(
        title="(c) The gradients, numerically",
        text=r"With $\sqrt{\sigma^2 + \varepsilon} = @sd$: the sums first, then the graph's "
             r"intermediate gradients, then $\partial L/\partial x$ from the closed form. In "
             r"it $\hat x_i \sum_j dy_j \hat x_j = (x_i - \mu)\,\frac{\sum_j dy_j (x_j - \mu)}"
             r"{\sigma^2 + \varepsilon}$, which is rational.",
        math=(eq(r"\frac{\partial L}{\partial \beta} = \sum_i dy_i", w.dbeta_shown, dbeta),
              eq(r"\frac{\partial L}{\partial \gamma} = \sum_i dy_i\,\hat x_i = \frac{\sum_i "
                 r"dy_i (x_i - \mu)}{\sqrt{\sigma^2 + \varepsilon}}",
                 shown_quotient(shown_dot(dy, dev), w.sd), approx(w.dgamma)),
              eq(r"\frac{\partial L}{\partial \hat x} = \gamma\, dy", Vector(g)),
              eq(line(r"\frac{\partial L}{\partial \sigma^2} = -\frac{1}{2}\,(", w.s,
                      r")^{-3/2}\bigl(", shown_dot(g, dev), r"\bigr)"), approx(w.dvar)),
              eq(line(r"\frac{\partial L}{\partial \mu} = -\frac{", sp.Add(*g), "}{", w.sd, "}"),
                 approx(w.dmu)),
              eq(r"\frac{\gamma}{m\sqrt{\sigma^2 + \varepsilon}}", approx(w.coef)) + r",\qquad "
              + eq(r"\frac{\sum_j dy_j (x_j - \mu)}{\sigma^2 + \varepsilon}", w.c_shown,
                   w.c_shown.value),
              *(eq(line(rf"\frac{{\partial L}}{{\partial x_{{{i + 1}}}}} = ", w.coef,
                        r" \cdot \bigl(", bracket, r"\bigr)"),
                   shown_product(w.coef, bracket.value), approx(dx))
                for i, (bracket, dx) in enumerate(zip(brackets(w), w.dx)))),
        values={"sd": approx(w.sd)})


def brackets(w: Work) -> list:
    """m dyᵢ − Σ dy − (xᵢ − μ)·c as written, c = Σ dyⱼ (xⱼ − μ) / (σ² + ε): the rational
    bracket of the closed form for ∂L/∂xᵢ."""
    dy, m, dbeta, c = list(w.params.dy), len(w.dx), w.dbeta_shown.value, w.c_shown.value
    return [shown_difference(shown_difference(shown_product(m, d), dbeta), shown_product(di, c))
            for d, di in zip(dy, w.dev)]


@register
class BatchNorm(Problem):
    id = "batch_norm"
    title = "Batch normalisation: forward pass and backpropagation through the batch statistics"

    def validate_options(self, options):
        if options.eps > 0:
            require_decimals("eps", options.eps, 3)
        elif options.m == 2:
            raise ValueError("m = 2 with eps = 0 makes x̂ = ±1 whatever x, so ∂L/∂x = 0: "
                             "use m ≥ 3 or eps > 0")

    def canonical(self, options):
        if options.m != 4 or Fraction(str(options.eps)) != Fraction(1, 10):
            raise NoCanonical("the canonical variant has m = 4 and eps = 0.1")
        return Params(x=exact_vector(("-0.4", "0", "0.2", "1")), gamma=sp.Integer(2),
                      beta=sp.Rational("0.5"), eps=sp.Rational("0.1"),
                      dy=exact_vector(("0.1", "-0.2", "0.3", "0.4")))

    def generate(self, rng, options):
        m, eps = options.m, _eps(options)
        x = exact_vector(rng.decimals(m, -2, 2, 1, nonzero=False))
        gamma = sp.Rational(rng.decimal("0.5", 2, 1))
        beta = sp.Rational(rng.decimal(-1, 1, 1, nonzero=False))
        dy = exact_vector(rng.decimals(m, -1, 1, 1))
        if len(set(x)) == 1:
            raise Redraw("all x equal: σ² = 0")
        mu = sp.Add(*x) / m
        dev = [xi - mu for xi in x]
        s = sp.Add(*[d * d for d in dev]) / m + eps
        if all(v == 0 for v in _dx_rational(dy, dev, s)):
            raise Redraw("∂L/∂x = 0: dy is affine in x̂")
        return Params(x=x, gamma=gamma, beta=beta, eps=eps, dy=dy)

    def statement(self, params, options):
        return (
            Step(text=r"A batch-normalisation layer in training mode normalises one feature over "
                      r"a mini-batch of $m = @m$ values $x = @x$ with the batch mean $\mu$ and "
                      r"variance $\sigma^2$, then scales and shifts: "
                      r"$\hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}}$ and "
                      r"$y_i = \gamma \hat x_i + \beta$, with $\gamma = @gamma$, $\beta = @beta$ "
                      r"and $\varepsilon = @eps$. The upstream gradient is "
                      r"$dy = \partial L / \partial y = @dy$.",
                 values={"m": sp.Integer(len(params.x)), "x": params.x, "gamma": params.gamma,
                         "beta": params.beta, "eps": params.eps, "dy": params.dy}),
            Part("(a)", r"Compute $\mu$, $\sigma^2$, $\hat x$ and $y$."),
            Part("(b)", r"Derive $\partial L / \partial \gamma$, $\partial L / \partial \beta$ "
                        r"and $\partial L / \partial x_i$ by backpropagating through the "
                        r"computation graph $x \to (\mu, \sigma^2) \to \hat x \to y$."),
            Part("(c)", r"Evaluate $\partial L / \partial \gamma$, $\partial L / \partial \beta$ "
                        r"and $\partial L / \partial x$ (a vector of length $m$, like $x$) for "
                        r"the given $dy$."),
        )

    def solve(self, params, options):
        m = len(params.x)
        facts = derive_once((self.id, m), lambda: formulas(m))
        work = compute(params)
        return Solution(
            steps=(forward_pass(work), graph_derivation(facts), sympy_check(work), numbers(work),
                   graph(work)),
            answers=(Answer("mu", r"\mu", work.mu, part="(a)"),
                     Answer("var", r"\sigma^2", work.var, part="(a)", constraints="nonnegative"),
                     Answer("x_hat", r"\hat x", Vector(work.x_hat), part="(a)"),
                     Answer("y", "y", Vector(work.y), part="(a)"),
                     Answer("dgamma", r"\frac{\partial L}{\partial \gamma}", work.dgamma,
                            part="(c)"),
                     Answer("dbeta", r"\frac{\partial L}{\partial \beta}", work.dbeta_shown.value,
                            part="(c)"),
                     Answer("dx", r"\frac{\partial L}{\partial x}", Vector(work.dx), part="(c)",
                            points=2)),
            work=work)

    follows = {"var": ("mu",), "x_hat": ("mu", "var"), "y": ("x_hat",), "dgamma": ("x_hat",),
               "dx": ("x_hat", "var")}

    def follow_through(self, params, given):
        """Each step of the forward pass from the student's previous ones, and the gradients
        from their x̂ and σ²: ∂L/∂x = γ/√(σ² + ε) · (dy − mean(dy) − x̂ · mean(dy x̂))."""
        x, dy, gamma = params.x, params.dy, params.gamma
        mu, var, x_hat = given["mu"], given["var"], given["x_hat"]
        return {"var": float(np.mean((x - mu) ** 2)),
                "x_hat": (x - mu) / np.sqrt(var + params.eps),
                "y": gamma * x_hat + params.beta, "dgamma": float(dy @ x_hat),
                "dx": gamma / np.sqrt(var + params.eps)
                * (dy - np.mean(dy) - x_hat * np.mean(dy * x_hat))}

    def mistakes(self, params, options, solution):
        # Plain Fractions, and c·√k written as the product (SymPy's arithmetic and printing of
        # such products is far slower; the values are the same exact numbers).
        work = solution.work
        dev, dy = [fraction(d) for d in work.dev], [fraction(v) for v in params.dy]
        gamma, beta, eps = fraction(params.gamma), fraction(params.beta), fraction(params.eps)
        m, total, ss = len(dev), sum(dy), sum(d * d for d in dev)
        carry = lambda s_wrong: carried(dev, dy, gamma, beta, s_wrong)
        c_inv, root = work.c_inv, work.root                       # 1/√(σ² + ε) = c_inv · root
        var_u = ss / (m - 1)
        out = [
            Mistake("unbiased_variance", "variance divided by m − 1",
                    "$\\sigma^2$ with $\\frac{1}{m - 1}$ (the sample variance): batch "
                    "normalisation uses the batch's own variance, $\\frac{1}{m}\\sum_i (x_i - "
                    "\\mu)^2$, and the error carries into $\\hat x$, $y$ and the gradients",
                    {"var": rational(var_u), **carry(var_u + eps)}),
            Mistake("mean_treated_constant", "μ and σ² treated as constants",
                    "$\\partial L/\\partial x_i = \\gamma\\, dy_i/\\sqrt{\\sigma^2 + "
                    "\\varepsilon}$: this ignores that $\\mu$ and $\\sigma^2$ depend on every "
                    "$x_i$, which adds the paths through $\\partial L/\\partial \\mu$ and "
                    "$\\partial L/\\partial \\sigma^2$",
                    {"dx": Vector(_surd(gamma * c_inv * d, root) for d in dy)}),
            Mistake("variance_treated_constant", "σ² treated as a constant",
                    "$\\partial L/\\partial x_i = \\frac{\\gamma}{\\sqrt{\\sigma^2 + "
                    "\\varepsilon}}\\bigl(dy_i - \\frac{1}{m}\\sum_j dy_j\\bigr)$: the path "
                    "through $\\mu$ is kept but the one through $\\sigma^2$, the term "
                    "$-\\hat x_i \\frac{1}{m}\\sum_j dy_j \\hat x_j$, is dropped",
                    {"dx": Vector(_surd(gamma * c_inv * (d - total / m), root) for d in dy)})]
        if eps != 0:
            out.append(Mistake(
                "missing_eps", "ε left out",
                "$\\hat x_i = (x_i - \\mu)/\\sigma$ without $\\varepsilon$ under the square root, "
                "carried into $y$ and the gradients",
                carry(ss / m)))
        return tuple(out)

    def check(self, params, options, solution):
        """Plain NumPy: the forward pass with np.mean/np.var, ∂L/∂x as γ Jᵀ dy with the
        Jacobian of x̂ built entry by entry, and central differences of L(x) = Σ dyᵢ yᵢ(x).
        Tolerances are absolute, in the natural scale of each answer (no answer is held to a
        relative precision it could lose to cancellation)."""
        x, dy = as_float(params.x), as_float(params.dy)
        gamma, beta, eps = float(params.gamma), float(params.beta), float(params.eps)
        m = x.size
        big_x = float(np.max(np.abs(x)))
        mu = float(np.mean(x))
        var = float(np.var(x))
        sd = float(np.sqrt(var + eps))
        x_hat = (x - mu) / sd
        assert_close("mu", solution.answer("mu"), mu, rtol=0.0, atol=1e-13 * big_x)
        assert_close_scaled("var", solution.answer("var"), var, rtol=1e-10)
        assert_close_scaled("x_hat", solution.answer("x_hat"), x_hat, rtol=1e-10)
        y_scale = abs(gamma) * float(np.max(np.abs(x_hat))) + abs(beta)
        assert_close("y", solution.answer("y"), gamma * x_hat + beta, rtol=0.0,
                     atol=1e-10 * y_scale)
        dy_scale = float(np.sum(np.abs(dy)))
        assert_close("dbeta", solution.answer("dbeta"), float(np.sum(dy)), rtol=0.0,
                     atol=1e-13 * dy_scale)
        assert_close("dgamma", solution.answer("dgamma"), float(dy @ x_hat), rtol=0.0,
                     atol=1e-10 * dy_scale * float(np.max(np.abs(x_hat))))
        # ∂x̂_j/∂x_k = (δ_jk − 1/m)/sd − (x_j − μ)(x_k − μ)/(m sd³)
        J = (np.eye(m) - 1.0 / m) / sd - np.outer(x - mu, x - mu) / (m * sd ** 3)
        dx_scale = abs(gamma) * dy_scale / sd * (1.0 + float(np.max(x_hat ** 2)))
        assert_close("dx", solution.answer("dx"), gamma * J.T @ dy, rtol=0.0,
                     atol=1e-10 * dx_scale)

        def loss(v):
            c = v - np.mean(v)
            return float(dy @ (gamma * c / np.sqrt(np.mean(c * c) + eps) + beta))
        h = 1e-4 * sd
        fd = np.array([(loss(x + h * e) - loss(x - h * e)) / (2 * h) for e in np.eye(m)])
        assert_close("dx", solution.answer("dx"), fd, rtol=0.0, atol=1e-6 * dx_scale)


def carried(dev, dy, gamma, beta, s_wrong: Fraction) -> dict:
    """x̂, y, ∂L/∂γ and ∂L/∂x with a wrong σ² + ε carried through the key's formulas
    (Fractions in, exact values out): x̂ᵢ Σ dy x̂ = (xᵢ − μ) Σ dy (x − μ) / (σ² + ε), as in
    the key."""
    m, total, dot = len(dev), sum(dy), sum(a * b for a, b in zip(dy, dev))
    c_inv, root = inverse_root(s_wrong)
    c = dot / s_wrong
    return {"x_hat": Vector(_surd(d * c_inv, root) for d in dev),
            "y": Vector(_surd(gamma * d * c_inv, root, beta) for d in dev),
            "dgamma": _surd(dot * c_inv, root),
            "dx": Vector(_surd(gamma * c_inv / m * (m * d - total - di * c), root)
                         for d, di in zip(dy, dev))}
