"""Softmax with cross-entropy: p = softmax(z), L = −Σ y_k log p_k, and ∂L/∂z = p − y by the
chain rule through the softmax Jacobian diag(p) − ppᵀ."""
from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, CheckFailed, Expression, Mistake, NoCanonical, Part, Problem, Redraw, Solution,
                   Step, Vector, approx, as_float, assert_close, assert_close_scaled, derive_once,
                   derived, eq, exact_vector, numeric_gradient, option, register,
                   require_decimals, shown_difference, shown_quotient, shown_rounded, shown_sum,
                   verified)

#: The formulas SymPy derives or verifies for every K (see `formulas`).
DERIVED = ("dp_i/dz_j", "J = diag(p) - pp^T", "dL/dp", "(J^T dL/dp)_1",
           "dL/dz = J^T dL/dp", "dL/dz = p - y", "L = logsumexp(z) - y.z",
           "logsumexp shift", "softmax shift")


# The forms the key states; `formulas` checks each against SymPy, and `solve` evaluates the
# same functions on the variant's numbers.
def softmax(z, add=lambda terms: sp.Add(*terms), divide=operator.truediv):
    """p_k = e^{z_k} / Σ_j e^{z_j}.  `solve` passes shown_sum and shown_quotient, to keep the
    arithmetic as written (the sum in the order of z)."""
    exps = [sp.exp(v) for v in z]
    total = add(exps)
    return [divide(e, total) for e in exps]


def softmax_jacobian(p):
    """∂p_i/∂z_j = p_i (δ_ij − p_j): the K × K matrix diag(p) − p pᵀ."""
    K = len(p)
    return sp.Matrix(K, K, lambda i, j: p[i] * ((1 if i == j else 0) - p[j]))


def loss_grad_p(y, p):
    """∂L/∂p_k = −y_k / p_k for L = −Σ_k y_k log p_k."""
    return sp.Matrix([-yk / pk for yk, pk in zip(y, p)])


def chain_rule(J, dL_dp):
    """∂L/∂z = Jᵀ ∂L/∂p, with J = ∂p/∂z (entry (i, j) = ∂p_i/∂z_j)."""
    return J.T * dL_dp


def ce_grad(p, y, subtract=operator.sub):
    """∂L/∂z = p − y (when Σ_k y_k = 1)."""
    return [subtract(pk, yk) for pk, yk in zip(p, y)]


def lse_loss(z, y, add=lambda terms: sp.Add(*terms), subtract=operator.sub):
    """L = log Σ_j e^{z_j} − Σ_k y_k z_k (when Σ_k y_k = 1); = log Σ_j e^{z_j} − z_c one-hot.
    (evaluate=False: SymPy would only try, slowly, to simplify the logarithm of a sum.)"""
    return subtract(sp.log(add([sp.exp(v) for v in z]), evaluate=False),
                    sp.Add(*[yk * zk for yk, zk in zip(y, z)]))


def shifted_sum(z, m, add=lambda terms: sp.Add(*terms)):
    """Σ_j e^{z_j − m}: log Σ_j e^{z_j} = m + log Σ_j e^{z_j − m}."""
    return add([sp.exp(v - m) for v in z])


def _vanishes(z, e, y=None):
    """A test that a difference vanishes: z_j = log e_j (e_j > 0), so every e^{±z_j} is
    rational in the e_j; with labels y, y_K = 1 − Σ_{k<K} y_k (the labels sum to 1)."""
    to_e = {zj: sp.log(ej) for zj, ej in zip(z, e)}
    last = {y[-1]: 1 - sp.Add(*y[:-1])} if y is not None else {}

    def zero(expr):
        d = sp.expand(expr.xreplace(last).xreplace(to_e), power_exp=True)
        d = sp.expand_log(sp.factor_terms(d), force=True)
        return sp.cancel(sp.together(d)) == 0
    return zero


def formulas(K: int) -> dict:
    """For K symbolic logits: SymPy's Jacobian of the explicit softmax (checked entry by entry
    against diag(p) − ppᵀ), ∂L/∂p, the chain rule against SymPy's derivative of L through
    the softmax, the simplification to p − y when Σ y = 1, the log-sum-exp form of L, and
    that subtracting m changes neither p nor log Σ e^{z_j} (beyond the added m)."""
    z = sp.symbols(f"z_1:{K + 1}", real=True)
    y = sp.symbols(f"y_1:{K + 1}", real=True)
    e = sp.symbols(f"e_1:{K + 1}", positive=True)
    ps = sp.symbols(f"p_1:{K + 1}", positive=True)
    m = sp.Symbol("m", real=True)
    zero, zero_y = _vanishes(z, e), _vanishes(z, e, y)
    soft = softmax(z)
    J_sympy = sp.Matrix(K, K, lambda i, j: sp.diff(soft[i], z[j]))
    d11 = derived(J_sympy[0, 0], name="dp_i/dz_j")
    d12 = derived(J_sympy[0, 1], name="dp_i/dz_j")
    verified(J_sympy, softmax_jacobian(soft), name="J = diag(p) - pp^T", zero=zero)
    # ∂L/∂p with p free (independent symbols), then the chain rule through the softmax
    L_of_p = -sp.Add(*[yk * sp.log(pk) for yk, pk in zip(y, ps)])
    dL_dp = derived(sp.Matrix([sp.diff(L_of_p, pk) for pk in ps]), name="dL/dp")
    verified(dL_dp, loss_grad_p(y, ps), name="dL/dp")
    J_shown = softmax_jacobian(ps)
    product = derived(chain_rule(J_shown, dL_dp), name="(J^T dL/dp)_1")
    L_of_z = -sp.Add(*[yk * sp.log(sk) for yk, sk in zip(y, soft)])
    dL_dz = sp.Matrix([sp.diff(L_of_z, zj) for zj in z])
    at_softmax = dict(zip(ps, soft))
    verified(dL_dz, chain_rule(softmax_jacobian(soft), loss_grad_p(y, soft)),
             name="dL/dz = J^T dL/dp", zero=zero)
    verified(product.xreplace(at_softmax), dL_dz, name="dL/dz = J^T dL/dp", zero=zero)
    verified(dL_dz, sp.Matrix(ce_grad(soft, y)), name="dL/dz = p - y", zero=zero_y)
    verified(L_of_z, lse_loss(z, y), name="L = logsumexp(z) - y.z", zero=zero_y)
    verified(sp.log(sp.Add(*[sp.exp(v) for v in z])), m + sp.log(shifted_sum(z, m)),
             name="logsumexp shift", zero=zero)
    verified(sp.Matrix(soft), sp.Matrix(softmax([v - m for v in z])), name="softmax shift",
             zero=zero)
    return {"d11": d11, "d12": d12, "J": J_shown, "J_shape": J_sympy.shape,
            "dL_dp": dL_dp, "dL_dp_shape": dL_dp.shape, "first": product[0, 0],
            "grad_shape": dL_dz.shape}


@dataclass(frozen=True)
class Options:
    K: int = option(3, 2, 6)                        # classes
    max_abs: float = option(3.0, 0.1, 10)           # logits in [-max_abs, max_abs]
    places: int = option(1, 1, 2)                   # decimals of each logit
    digits: int = option(4, 2, 12)                  # significant digits of rounded decimals


@dataclass(frozen=True)
class Params:
    z: Vector            # logits
    y: Vector            # one-hot label


def _label(y) -> int:
    return [i for i, v in enumerate(y) if v == 1][0]


def _ordered(terms):
    """A sum that keeps the order of z."""
    return sp.Add(*terms, evaluate=False)


def _minus(a, b):
    """a − b as written, with no "− 0" shown."""
    return a if b == 0 else shown_difference(a, b)


@dataclass(frozen=True)
class Work:
    """The exact results of one variant, as written: the sums keep the order of z, the
    quotients print as e^{z_k} over the sum (SymPy would move e^{-a} into the denominator),
    and the gradient shows p_c − 1 (shared by the steps, the answers and the mistakes)."""
    z: Vector
    y: Vector
    c: int                  # the true class, counted from 0
    exps: list              # e^{z_k}
    total: object           # S = Σ_j e^{z_j}
    p: Vector
    L: object               # log S − z_c
    m: sp.Rational          # max_j z_j
    L_stable: object        # m + log Σ_j e^{z_j − m} − z_c
    grad: Vector            # p − y

    @property
    def K(self) -> int:
        return len(self.z)


def compute(params) -> Work:
    z, y = params.z, params.y
    c, exps, m = _label(y), [sp.exp(v) for v in z], max(z)
    p = Vector(softmax(z, add=shown_sum, divide=shown_quotient))
    log_shifted = sp.log(shifted_sum(z, m, add=_ordered), evaluate=False)
    return Work(z=z, y=y, c=c, exps=exps, total=shown_sum(exps), p=p,
                L=lse_loss(z, y, add=_ordered, subtract=_minus), m=m,
                L_stable=_minus(shown_sum(([m] if m != 0 else []) + [log_shifted]), z[c]),
                grad=Vector(ce_grad(p, y, subtract=_minus)))


def softmax_step(w: Work, digits: int) -> Step:
    return Step(
        title="(a) Softmax",
        text="Exponentiate every logit, add the exponentials, and divide each by the sum. "
             "The exact values are closed forms, shown with rounded decimals; they are "
             "positive and add up to 1.",
        math=(*(eq(r"e^{z_{%d}}" % (k + 1), approx(e, digits)) for k, e in enumerate(w.exps)),
              eq(r"S = \sum_{j=1}^{%d} e^{z_j}" % w.K, approx(w.total, digits)),
              *(eq(r"p_{%d} = \frac{e^{z_{%d}}}{S}" % (k + 1, k + 1), approx(pk, digits))
                for k, pk in enumerate(w.p))))


def loss_step(w: Work, digits: int) -> Step:
    return Step(
        title="(b) Cross-entropy in log-sum-exp form",
        text="$y$ is one-hot, so only the term of the true class $c = %d$ survives. Writing "
             "$\\log p_c$ as $z_c - \\log \\sum_j e^{z_j}$ gives the log-sum-exp form "
             "(verified by SymPy for $%d$ symbolic logits and labels adding up to 1)."
             % (w.c + 1, w.K),
        math=(r"L = -\sum_{k} y_k \log p_k = -\log p_{%(c)d} = -\log \frac{e^{z_{%(c)d}}}"
              r"{\sum_j e^{z_j}} = \log \sum_{j} e^{z_j} - z_{%(c)d}" % {"c": w.c + 1},
              eq("L", approx(w.L, digits))))


def stable_step(w: Work, digits: int) -> Step:
    return Step(
        title="(b) The log-sum-exp trick",
        text="In floating point, $e^{z_j}$ overflows for large logits (float64 beyond "
             "$e^{709}$) and $p_c$ can underflow to $0$, so that $\\log p_c = -\\infty$. "
             "Subtracting $m = \\max_j z_j$ changes neither $p$ (the factor $e^{-m}$ "
             "cancels) nor $L$, since $\\log \\sum_j e^{z_j} = m + \\log \\sum_j e^{z_j - m}$ "
             "(both verified by SymPy); every exponent is then at most $0$, one term is $1$, "
             "and the sum lies between $1$ and $K$.",
        math=(eq(r"m = \max_j z_j", w.m) + r",\qquad "
              + eq(r"L = m + \log \sum_j e^{z_j - m} - z_{%d}" % (w.c + 1),
                   approx(w.L_stable, digits)),))


def jacobian_step(facts: dict) -> Step:
    n_rows, n_cols = facts["J_shape"]
    return Step(
        title="(c) The softmax Jacobian",
        text="Each $p_i$ depends on every logit through the sum $S$, so the Jacobian is a "
             "full matrix, not only its diagonal. The quotient rule gives, with "
             "$\\delta_{ij} = 1$ for $i = j$ and $0$ otherwise:",
        math=(r"\frac{\partial p_i}{\partial z_j} = \frac{\delta_{ij}\, e^{z_i} S - "
              r"e^{z_i} e^{z_j}}{S^2} = p_i\,(\delta_{ij} - p_j)",
              eq(r"J = \frac{\partial p}{\partial z} = \operatorname{diag}(p) - p\,p^\top",
                 facts["J"]) + rf",\qquad {n_rows} \times {n_cols}"))


def chain_step(w: Work, facts: dict) -> Step:
    (p_rows, _), (grad_rows, _), K = facts["dL_dp_shape"], facts["grad_shape"], w.K
    return Step(
        title="(c) The chain rule",
        text="$L$ depends on $z$ only through $p$. Its gradient with respect to $p$ is a "
             "vector of $K$ entries; the chain rule sums over the $K$ paths "
             "$z_j \\to p_i \\to L$, which is the product with the transposed Jacobian "
             "($J$ is symmetric, so $J^\\top = J$). SymPy's product has first entry "
             "$@first$; as the labels add up to $1$, this is $p_1 - y_1$.",
        math=(eq(r"\frac{\partial L}{\partial p}", facts["dL_dp"]) + rf",\qquad {p_rows} \times 1",
              r"\frac{\partial L}{\partial z_j} = \sum_i \frac{\partial L}{\partial p_i}\,"
              r"\frac{\partial p_i}{\partial z_j} = \sum_i \Bigl(-\frac{y_i}{p_i}\Bigr)\, "
              r"p_i\,(\delta_{ij} - p_j) = -y_j + p_j \sum_i y_i = p_j - y_j",
              r"\frac{\partial L}{\partial z} = J^\top \frac{\partial L}{\partial p} = p - y,"
              rf"\qquad ({K} \times {K})({K} \times 1) = {grad_rows} \times 1"),
        values={"first": facts["first"]})


def sympy_check(w: Work, facts: dict) -> Step:
    return Step(
        title="(c) Checked by SymPy",
        audience="instructor",
        text="SymPy differentiates the explicit softmax of $%d$ symbolic logits, e.g. " % w.K
             + "$\\frac{\\partial p_1}{\\partial z_1} = @d11$ and "
             "$\\frac{\\partial p_1}{\\partial z_2} = @d12$, and confirms "
             "$p_i(\\delta_{ij} - p_j)$ for every entry. It differentiates "
             "$L = -\\sum_k y_k \\log p_k$ through the softmax and confirms both "
             "$J^\\top \\partial L / \\partial p$ and, when the labels add up to $1$, "
             "$p - y$.",
        values={"d11": facts["d11"], "d12": facts["d12"]})


def gradient_step(w: Work, digits: int) -> Step:
    # p by its rounded values from (a): its closed form is shown once there
    rounded = ce_grad([shown_rounded(pk, digits) for pk in w.p], w.y, subtract=_minus)
    return Step(
        title="(d) The gradient, numerically",
        text="With $y$ one-hot, $\\partial L/\\partial p$ has the single non-zero entry "
             "$\\partial L/\\partial p_{%(c)d} = -1/p_{%(c)d}$, where $1/p_{%(c)d} = @inv$; times "
             "row $%(c)d$ of $J$, "
             "$p_{%(c)d}(\\delta_{%(c)d j} - p_j)$, it gives $p_j$ for $j \\ne %(c)d$ and "
             "$p_{%(c)d} - 1$ for $j = %(c)d$: every entry is a probability, except the true "
             "class's, which is a probability minus 1. The entries add up to $0$."
             % {"c": w.c + 1},
        math=(eq(r"\frac{\partial L}{\partial z} = p - y", approx(Vector(rounded), digits)),),
        values={"inv": approx(shown_quotient(w.total, w.exps[w.c]), digits)})


def gradient_formula(K: int, text: str) -> Expression:
    """A formula (core/formula.py) in the logits z and the label y (K × 1), with
    p = softmax(z)."""
    return Expression(text, {"z": (K, 1), "y": (K, 1)}, {"p": "softmax(z)"})


@register
class SoftmaxCrossEntropy(Problem):
    id = "softmax_cross_entropy"
    title = "Softmax with cross-entropy: the loss and its gradient through the Jacobian"

    def validate_options(self, options):
        require_decimals("max_abs", options.max_abs, options.places)

    def canonical(self, options):
        if options.K != 3:
            raise NoCanonical("the canonical variant has K = 3")
        return Params(z=exact_vector(("2", "1", "0.1")), y=exact_vector((0, 1, 0)))

    def generate(self, rng, options):
        K = options.K
        z = exact_vector(rng.decimals(K, -options.max_abs, options.max_abs, options.places,
                                      nonzero=False))
        c = rng.integer(0, K - 1)
        if len(set(z)) == 1:
            raise Redraw("all logits equal: p is uniform")
        return Params(z=z, y=Vector(sp.Integer(1 if k == c else 0) for k in range(K)))

    def statement(self, params, options):
        K = len(params.z)
        return (
            Step(text="A classifier with $K = @K$ classes outputs the logits $z = @z$. The true "
                      "class is $c = @c$, so the one-hot label is $y = @y$. The prediction is "
                      "$p = \\mathrm{softmax}(z)$, $p_k = \\frac{e^{z_k}}{\\sum_{j=1}^{K} e^{z_j}}$, "
                      "and the loss is the cross-entropy $L = -\\sum_{k=1}^{K} y_k \\log p_k$ "
                      "(natural logarithm).",
                 values={"K": sp.Integer(K), "z": params.z, "c": sp.Integer(_label(params.y) + 1),
                         "y": params.y}),
            Part("(a)", "Compute $p$."),
            Part("(b)", "Compute $L$, and show that $L = \\log \\sum_{j} e^{z_j} - z_c$ (the "
                        "log-sum-exp form). Why is it evaluated as "
                        "$m + \\log \\sum_j e^{z_j - m} - z_c$ with $m = \\max_j z_j$?"),
            Part("(c)", "Derive $\\partial L / \\partial z$ with the chain rule: the Jacobian "
                        "$\\partial p / \\partial z$ of the softmax, then its product with "
                        "$\\partial L / \\partial p$. State the shapes (a third of the points, "
                        "for $\\partial L / \\partial z$ as a formula)."),
            Part("(d)", "Evaluate $\\partial L / \\partial z$ for the given $z$ and $y$."),
        )

    def solve(self, params, options):
        K, digits = len(params.z), options.digits
        facts = derive_once((self.id, K), lambda: formulas(K))
        work = compute(params)
        return Solution(
            steps=(softmax_step(work, digits), loss_step(work, digits), stable_step(work, digits),
                   jacobian_step(facts), chain_step(work, facts), sympy_check(work, facts),
                   gradient_step(work, digits)),
            answers=(Answer("p", r"p = \mathrm{softmax}(z)", work.p, digits, part="(a)",
                            constraints=("probability", "sums_to_one")),
                     Answer("L", "L", work.L, digits, part="(b)", constraints="nonnegative"),
                     Answer("dL_dz_formula", r"\frac{\partial L}{\partial z}",
                            gradient_formula(K, "p - y"), part="(c)", points=2),
                     Answer("dL_dz", r"\frac{\partial L}{\partial z}", work.grad, digits,
                            part="(d)", points=2)),
            work=work)

    follows = {"L": ("p",), "dL_dz": ("p",)}

    def follow_through(self, params, given):
        """L = −log p_c and ∂L/∂z = p − y from the student's p."""
        p = given["p"]
        return {"L": float(-np.log(p[int(np.argmax(params.y))])), "dL_dz": p - params.y}

    def mistakes(self, params, options, solution):
        z, y, c = params.z, params.y, solution.work.c
        p = [q.value for q in solution.work.p]          # exact SymPy values
        zero = sp.Integer(0)
        formula = lambda text: gradient_formula(len(z), text)
        return (
            Mistake("gradient_without_y", "∂L/∂z = p",
                    "the label left out of the gradient: $\\partial L/\\partial z = p - y$, so "
                    "the true class's entry is $p_c - 1$, and the entries add up to $0$",
                    {"dL_dz": Vector(p), "dL_dz_formula": formula("p")}),
            Mistake("jacobian_diagonal_only", "only the diagonal of the Jacobian",
                    "$\\partial p_k/\\partial z_k = p_k(1 - p_k)$ used as if $p_k$ depended on "
                    "$z_k$ alone: then $\\partial L/\\partial z_k = -y_k(1 - p_k)$, zero for "
                    "$k \\ne c$; the off-diagonal entries $-p_i p_j$ of $J$ give those $p_k$",
                    {"dL_dz": Vector(p[k] - 1 if k == c else zero for k in range(len(z))),
                     "dL_dz_formula": formula("-y .* (1 - p)")}),
            Mistake("log_of_logit", "L = −z_c",
                    "$L = -z_c$, the logit in place of $\\log p_c$: the log-probability is "
                    "$z_c - \\log \\sum_j e^{z_j}$, so the normaliser is missing",
                    {"L": -z[c]}),
            Mistake("gradient_sign", "∂L/∂z = y − p",
                    "$y - p$ is the gradient of the log-likelihood $\\log p_c = -L$, which is "
                    "maximised; the loss $L$ has gradient $p - y$",
                    {"dL_dz": Vector(yk - pk for yk, pk in zip(y, p)),
                     "dL_dz_formula": formula("y - p")}),
        )

    def check(self, params, options, solution):
        """Plain NumPy, stable forms.  p: e^{z − max z} normalised (every entry ≤ 1, errors of
        a few units in the last place of the largest); L: the log-sum-exp with log1p, so a
        loss near 0 keeps its relative precision; ∂L/∂z: p − y with the true class's entry
        written as −Σ_{j≠c} p_j (no cancellation in p_c − 1), then the Jacobian product and
        finite differences of L as looser, formula-free checks."""
        z, y = as_float(params.z), as_float(params.y)
        c = int(np.argmax(y))
        K = len(z)

        def loss(v):
            top = int(np.argmax(v))
            rest = np.exp(np.delete(v, top) - v[top])
            return float((v[top] - v[c]) + np.log1p(np.sum(rest)))

        w = np.exp(z - np.max(z))
        p = w / np.sum(w)
        assert_close_scaled("p", solution.answer("p"), p, rtol=1e-12)
        assert_close_scaled("L", solution.answer("L"), loss(z), rtol=1e-11)
        # −log p_c: an error of a few ulps of p_c is that many 1e-16 in L (absolute)
        assert_close("L", solution.answer("L"), -np.log(p[c]), rtol=1e-9, atol=1e-13)
        grad = p.copy()
        grad[c] = -float(np.sum(np.delete(p, c)))
        assert_close_scaled("dL_dz", solution.answer("dL_dz"), grad, rtol=1e-11)
        # Jᵀ(−y/p) with J = diag(p) − ppᵀ: entries of J are at most 1/4, the product is
        # off by a few ulps of 1 in absolute terms
        J = np.diag(p) - np.outer(p, p)
        assert_close("dL_dz", solution.answer("dL_dz"), J.T @ (-y / p), rtol=1e-9,
                     atol=1e-12 * (1.0 + float(np.max(np.abs(J).T @ np.abs(y / p)))))
        # L has second derivatives at most 1/2 and third at most 1: with h = 1e-5 the
        # central difference is off by about h² plus the rounding of L (≲ 1e-15 · |z|) / h
        h = 1e-5
        g = numeric_gradient(loss, z, h)
        size = 1.0 + float(np.max(np.abs(z)))
        assert_close("dL_dz", solution.answer("dL_dz"), g, rtol=1e-6,
                     atol=1e-8 + 1e-14 * K * size / h)
        if not abs(float(np.sum(as_float(solution.answer("dL_dz"))))) <= 1e-12:
            raise CheckFailed("dL_dz: the entries do not add up to 0")
