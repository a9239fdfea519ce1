"""Batch normalisation of one feature (training mode): forward pass, then ∂L/∂γ, ∂L/∂β and
∂L/∂x backpropagated through the graph x → (μ, σ²) → x̂ → y."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from wsgen import (Answer, CheckFailed, Mistake, NoCanonical, Part, Problem, Redraw, Solution,
                   Step, Vector, WithDecimal, as_float, assert_close, assert_close_scaled,
                   derive_once, derived, exact_vector, option, register, require_decimals,
                   shown_difference, shown_dot, shown_product, shown_quotient, shown_square,
                   shown_sum, verified)

#: The formulas SymPy derives or verifies for every batch size m (see `formulas`).
DERIVED = ("∂x̂ᵢ/∂σ²", "∂x̂ᵢ/∂μ", "∂σ²/∂μ", "∂σ²/∂xᵢ", "∂L/∂σ²", "∂L/∂μ",
           "∂L/∂x (graph)", "∂L/∂x (closed form)", "∂L/∂γ", "∂L/∂β")


class Surd:
    """c·√k, c a Fraction and k a square-free integer fixed per variant: the exact numbers of
    a variant in plain Python, where SymPy's arithmetic on square roots would be slow.  The
    key's formula functions run on these as they run on SymPy symbols."""
    __slots__ = ("c", "k")

    def __init__(self, c, k):
        self.c, self.k = Fraction(c), k

    def _same(self, other):
        if not (isinstance(other, Surd) and other.k == self.k):
            raise TypeError("Surds with different radicands")
        return other

    def __add__(self, other):
        if not isinstance(other, Surd) and other == 0:
            return self
        return Surd(self.c + self._same(other).c, self.k)

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-other)

    def __neg__(self):
        return Surd(-self.c, self.k)

    def __mul__(self, other):
        if isinstance(other, Surd):
            return self.c * self._same(other).c * self.k          # a rational
        return Surd(self.c * _fraction(other), self.k)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return Surd(self.c / _fraction(other), self.k)

    def __pow__(self, n):
        return Surd(self.c ** n * self.k ** ((n - 1) // 2), self.k) if n % 2 else \
            self.c ** n * self.k ** (n // 2)

    def __eq__(self, other):
        return isinstance(other, Surd) and (self.c, self.k) == (other.c, other.k)

    __hash__ = None


def _fraction(v) -> Fraction:
    return v if isinstance(v, Fraction) else Fraction(str(v))


def _exact(v, root):
    """A Surd or Fraction as a SymPy number (root = √k)."""
    if isinstance(v, Surd):
        return sp.Rational(v.c.numerator, v.c.denominator) * root
    v = _fraction(v)
    return sp.Rational(v.numerator, v.denominator)


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


def formulas(m: int) -> dict:
    """For a symbolic batch of m values: SymPy's local partial derivatives of the graph's nodes,
    and ∂L/∂x, ∂L/∂γ, ∂L/∂β of L = Σ dyᵢ yᵢ differentiated through the explicit mean, variance
    and normalisation, checked against the key's graph rules and its closed form."""
    xi, mu, v = sp.Symbol("x_i", real=True), sp.Symbol(r"\mu", real=True), \
        sp.Symbol(r"\sigma^{2}", nonnegative=True)
    eps = sp.Symbol(r"\varepsilon", nonnegative=True)
    local = (xi - mu) / sp.sqrt(v + eps)
    # SymPy's result, −(xᵢ − μ)/(2 (σ² + ε)^{3/2}), stated with the power written as a square
    # root (the printer would show the exponent 3/2 as 1.5)
    d_xhat_dv = verified(derived(sp.diff(local, v), name="∂x̂ᵢ/∂σ²"),
                         sp.Mul(-1, xi - mu, sp.Pow(sp.Mul(2, v + eps, sp.sqrt(v + eps),
                                                           evaluate=False), -1, evaluate=False),
                                evaluate=False), name="∂x̂ᵢ/∂σ²")
    d_xhat_dmu = derived(sp.diff(local, mu), name="∂x̂ᵢ/∂μ")
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
    s = var + eps
    inv = 1 / sp.sqrt(s)
    x_hat = [(xj - mean) * inv for xj in x]
    L = sp.Add(*[d * (gamma * xh + beta) for d, xh in zip(dy, x_hat)])
    # Differences that involve √(σ² + ε) are decided with ε = S² − σ² (S > 0 a symbol): then
    # √(σ² + ε) = S and the difference is a rational function of x, dy, γ and S.
    S = sp.Symbol("S", positive=True)

    def zero(expr):
        return sp.cancel(sp.expand(expr.subs(eps, S ** 2 - var))) == 0

    g = [gamma * d for d in dy]
    dev = [xj - mean for xj in x]
    # the graph's two backward rules for the statistics, from the local partials
    vs = {v: var, mu: mean}
    verified(sp.Add(*[gj * d_xhat_dv.subs(xi, xj) for gj, xj in zip(g, x)]).subs(vs),
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
    return {"d_xhat_dv": d_xhat_dv, "d_xhat_dmu": d_xhat_dmu}


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


def _inverse_root(s: Fraction):
    """1/√s = c·√k with c a Fraction and k a square-free integer: (c, √k), √k = 1 if k = 1."""
    whole = sp.sqrt(sp.Integer(s.numerator * s.denominator))   # = a·√k
    a, root = whole.as_coeff_Mul()
    k = root ** 2 if root != 1 else 1
    # 1/√(p/q) = q/√(pq) = q/(a√k) = q√k/(a k)
    return Fraction(s.denominator, int(a) * int(k)), root


def _surd(c: Fraction, root, plus: Fraction = Fraction(0)):
    """plus + c·root, exact: a Rational when root = 1, else the arithmetic as written."""
    R = lambda f: sp.Rational(f.numerator, f.denominator)
    if root == 1 or c == 0:
        return R(plus + (c if root == 1 else 0))
    term = shown_product(R(c), root)
    return term if plus == 0 else shown_sum([R(plus), term])


def _dx_rational(dy, dev, s):
    """m dyᵢ − Σ dy − x̂ᵢ Σ dy x̂ = m dyᵢ − Σ dy − (xᵢ − μ)(Σ dyⱼ (xⱼ − μ))/s: rational."""
    m, total = len(dy), sp.Add(*dy)
    c = sp.Add(*[a * b for a, b in zip(dy, dev)]) / s
    return [m * d - total - di * c for d, di in zip(dy, dev)]


@register
class BatchNorm(Problem):
    id = "batch_norm"
    title = "Batch normalisation: forward pass and backpropagation through the batch statistics"
    Options = Options
    Params = Params

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
        x, dy, gamma, beta, eps = list(params.x), list(params.dy), params.gamma, params.beta, \
            params.eps
        m = len(x)
        facts = derive_once((self.id, m), lambda: formulas(m))
        approx = lambda v: WithDecimal(v, 4)
        mu_shown = shown_quotient(shown_sum(x), m)
        mu = mu_shown.value
        dev_shown = [shown_difference(xi, mu) for xi in x]
        var_shown = shown_quotient(shown_sum(shown_square(d) for d in dev_shown), m)
        var = var_shown.value
        s = var + eps
        # exact numbers in plain Python (Surd: c·√k), made SymPy numbers once, at the end
        F = _fraction
        dev = [d.value for d in dev_shown]
        devf, dyf, gammaf = [F(d) for d in dev], [F(d) for d in dy], F(gamma)
        c_inv, root = _inverse_root(F(s))
        k = int(root ** 2) if root != 1 else 1
        inv = Surd(c_inv, k) if k != 1 else c_inv                  # 1/√(σ² + ε)
        S = lambda v: _exact(v, root)
        sd = S(inv * F(s))                                         # √(σ² + ε) = s/√s
        x_hat_f = [d * inv for d in devf]
        x_hat = [S(v) for v in x_hat_f]
        y = [S(gammaf * v) + beta for v in x_hat_f]
        i_values, xhat_lines, y_lines = {}, [], []
        for i in range(m):
            k = i + 1
            i_values.update({f"xh{i}": approx(x_hat[i]), f"y{i}": approx(y[i]),
                             f"xhs{i}": shown_quotient(dev_shown[i], sd)})
            xhat_lines.append(rf"\hat x_{{{k}}} = @xhs{i} = @xh{i}")
            y_lines.append(rf"y_{{{k}}} = @gamma \cdot \hat x_{{{k}}} + @beta = @y{i}")
        forward = Step(
            title="(a) Forward pass",
            text=r"Training mode uses the batch's own statistics: $\mu$ is the mean and "
                 r"$\sigma^2$ the mean squared deviation (divided by $m$, not $m - 1$). "
                 r"$\varepsilon$ goes under the square root.",
            math=(r"\mu = \frac{1}{m}\sum_{i} x_i = @mus = @mu",
                  r"\sigma^2 = \frac{1}{m}\sum_{i} (x_i - \mu)^2 = @vars = @var",
                  r"\sqrt{\sigma^2 + \varepsilon} = \sqrt{@var + @eps} = \sqrt{@s} = @sd",
                  *xhat_lines, *y_lines),
            values={**i_values, "mus": mu_shown, "mu": mu, "vars": var_shown, "var": var,
                    "eps": eps, "s": s, "sd": approx(sd), "gamma": gamma, "beta": beta})

        derivation = Step(
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
                  r"\frac{\partial \hat x_i}{\partial \sigma^2} = @dxv,\qquad "
                  r"\frac{\partial \hat x_i}{\partial \mu} = @dxm",
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
                  r"dy_j\, \hat x_j\Bigr)"),
            values={"dxv": facts["d_xhat_dv"], "dxm": facts["d_xhat_dmu"]})
        sympy_check = Step(
            title="(b) Checked by SymPy",
            text=r"SymPy differentiates $L = \sum_i dy_i\,y_i$ with the mean, the variance "
                 r"and the normalisation written out for a symbolic batch of $@m$ values, and "
                 r"confirms each rule above: $\partial L/\partial \sigma^2$, "
                 r"$\partial L/\partial \mu$, the three-path sum and the closed form for "
                 r"$\partial L/\partial x_i$, and $\partial L/\partial \gamma$, "
                 r"$\partial L/\partial \beta$.",
            values={"m": sp.Integer(m)})

        g_shown = [shown_product(gamma, d) for d in dy]
        g = [e.value for e in g_shown]
        gdev = shown_dot(g, dev)
        gf = [gammaf * d for d in dyf]
        dvar_f = grad_var(gf, devf, inv)
        dmu_f = grad_mean(gf, devf, inv, dvar_f)
        dx_f = grad_x(gf, devf, inv, dvar_f, dmu_f)
        if closed_dx(gammaf, dyf, x_hat_f, inv) != dx_f:
            raise CheckFailed("batch_norm: the graph's ∂L/∂x and the closed form differ")
        dvar, dmu, dx = S(dvar_f), S(dmu_f), [S(v) for v in dx_f]
        dbeta_shown = shown_sum(dy)
        dbeta = dbeta_shown.value
        dgamma = S(dgamma_of(dyf, x_hat_f))
        # x̂ᵢ Σ dy x̂ = (xᵢ − μ) Σ dy (xᵢ − μ) / s: the bracket of the closed form is rational
        c_shown = shown_quotient(shown_dot(dy, dev), s)
        c = c_shown.value
        coef = S(gammaf * inv / m)
        dx_lines, dx_values = [], {}
        for i in range(m):
            k = i + 1
            bracket = shown_difference(shown_difference(shown_product(m, dy[i]), dbeta),
                                       shown_product(dev[i], c))
            dx_values.update({f"br{i}": bracket, f"prod{i}": shown_product(coef, bracket.value),
                              f"dx{i}": approx(dx[i])})
            dx_lines.append(rf"\frac{{\partial L}}{{\partial x_{{{k}}}}} = @coefx \cdot \bigl("
                            rf"@br{i}\bigr) = @prod{i} = @dx{i}")
        numbers = Step(
            title="(c) The gradients, numerically",
            text=r"With $\sqrt{\sigma^2 + \varepsilon} = @sd$: the sums first, then the graph's "
                 r"intermediate gradients, then $\partial L/\partial x$ from the closed form. In "
                 r"it $\hat x_i \sum_j dy_j \hat x_j = (x_i - \mu)\,\frac{\sum_j dy_j (x_j - \mu)}"
                 r"{\sigma^2 + \varepsilon}$, which is rational.",
            math=(r"\frac{\partial L}{\partial \beta} = \sum_i dy_i = @dbs = @dbeta",
                  r"\frac{\partial L}{\partial \gamma} = \sum_i dy_i\,\hat x_i = \frac{\sum_i "
                  r"dy_i (x_i - \mu)}{\sqrt{\sigma^2 + \varepsilon}} = @dgs = @dgamma",
                  r"\frac{\partial L}{\partial \hat x} = \gamma\, dy = @gvec",
                  r"\frac{\partial L}{\partial \sigma^2} = -\frac{1}{2}\,(@s)^{-3/2}\bigl("
                  r"@gdev\bigr) = @dvar",
                  r"\frac{\partial L}{\partial \mu} = -\frac{@gsum}{@sdx} = @dmu",
                  r"\frac{\gamma}{m\sqrt{\sigma^2 + \varepsilon}} = @coef,\qquad "
                  r"\frac{\sum_j dy_j (x_j - \mu)}{\sigma^2 + \varepsilon} = @cs = @c",
                  *dx_lines),
            values={**dx_values, "sd": approx(sd), "dbs": dbeta_shown, "dbeta": dbeta,
                    "dgamma": approx(dgamma), "gvec": Vector(g), "s": s, "gdev": gdev,
                    "dvar": approx(dvar), "gsum": sp.Add(*g), "dmu": approx(dmu),
                    "coef": approx(coef), "coefx": coef, "sdx": sd, "cs": c_shown, "c": c,
                    "dgs": shown_quotient(shown_dot(dy, dev), sd)})
        return Solution(steps=(forward, derivation, sympy_check, numbers), answers=(
            Answer("mu", r"\mu", mu, part="(a)"),
            Answer("var", r"\sigma^2", var, part="(a)"),
            Answer("x_hat", r"\hat x", Vector(x_hat), part="(a)"),
            Answer("y", "y", Vector(y), part="(a)"),
            Answer("dgamma", r"\frac{\partial L}{\partial \gamma}", dgamma, part="(c)"),
            Answer("dbeta", r"\frac{\partial L}{\partial \beta}", dbeta, part="(c)"),
            Answer("dx", r"\frac{\partial L}{\partial x}", Vector(dx), part="(c)", points=2)))

    def mistakes(self, params, options, solution):
        # Plain Fractions, and c·√k written as the product (SymPy's arithmetic and printing of
        # such products is far slower; the values are the same exact numbers).
        F = Fraction
        x, dy = [F(str(v)) for v in params.x], [F(str(v)) for v in params.dy]
        gamma, beta, eps = F(str(params.gamma)), F(str(params.beta)), F(str(params.eps))
        m = len(x)
        mu = sum(x) / m
        dev = [xi - mu for xi in x]
        total = sum(dy)
        dot = sum(a * b for a, b in zip(dy, dev))
        ss = sum(d * d for d in dev)

        def carried(s_wrong):
            """x̂, y, ∂L/∂γ and ∂L/∂x with a wrong σ² + ε carried through the key's
            formulas: x̂ᵢ Σ dy x̂ = (xᵢ − μ) Σ dy (x − μ) / (σ² + ε), as in the key."""
            c_inv, root = _inverse_root(s_wrong)
            c = dot / s_wrong
            return {"x_hat": Vector(_surd(d * c_inv, root) for d in dev),
                    "y": Vector(_surd(gamma * d * c_inv, root, beta) for d in dev),
                    "dgamma": _surd(dot * c_inv, root),
                    "dx": Vector(_surd(gamma * c_inv / m * (m * d - total - di * c), root)
                                 for d, di in zip(dy, dev))}

        c_inv, root = _inverse_root(ss / m + eps)
        var_u = ss / (m - 1)
        out = [Mistake(
            "unbiased_variance", "variance divided by m − 1",
            "$\\sigma^2$ with $\\frac{1}{m - 1}$ (the sample variance): batch normalisation "
            "uses the batch's own variance, $\\frac{1}{m}\\sum_i (x_i - \\mu)^2$, and the "
            "error carries into $\\hat x$, $y$ and the gradients",
            {"var": sp.Rational(var_u.numerator, var_u.denominator), **carried(var_u + eps)})]
        out.append(Mistake(
            "mean_treated_constant", "μ and σ² treated as constants",
            "$\\partial L/\\partial x_i = \\gamma\\, dy_i/\\sqrt{\\sigma^2 + \\varepsilon}$: "
            "this ignores that $\\mu$ and $\\sigma^2$ depend on every $x_i$, which adds the "
            "paths through $\\partial L/\\partial \\mu$ and $\\partial L/\\partial \\sigma^2$",
            {"dx": Vector(_surd(gamma * c_inv * d, root) for d in dy)}))
        out.append(Mistake(
            "variance_treated_constant", "σ² treated as a constant",
            "$\\partial L/\\partial x_i = \\frac{\\gamma}{\\sqrt{\\sigma^2 + \\varepsilon}}"
            "\\bigl(dy_i - \\frac{1}{m}\\sum_j dy_j\\bigr)$: the path through $\\mu$ is kept "
            "but the one through $\\sigma^2$, the term $-\\hat x_i \\frac{1}{m}\\sum_j dy_j "
            "\\hat x_j$, is dropped",
            {"dx": Vector(_surd(gamma * c_inv * (d - total / m), root) for d in dy)}))
        if eps != 0:
            out.append(Mistake(
                "missing_eps", "ε left out",
                "$\\hat x_i = (x_i - \\mu)/\\sigma$ without $\\varepsilon$ under the square root, "
                "carried into $y$ and the gradients",
                carried(ss / m)))
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
