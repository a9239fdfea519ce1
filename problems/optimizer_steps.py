"""SGD, momentum, RMSprop and Adam: the parameters after each of T given gradient steps."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from wsgen import (Answer, CheckFailed, Mistake, NoCanonical, Part, Problem, Solution, Step,
                   Vector, approx, as_float, assert_close_scaled, derive_once, derived, eq,
                   exact_matrix, exact_vector, option, register, rows, shown_difference,
                   shown_column, shown_product, shown_quotient, shown_rounded, shown_square,
                   shown_sum, verified)

_UNIT = 2.0 ** -53      # unit roundoff of float64

#: The formulas SymPy derives or verifies for every number of steps T (see `formulas`).
DERIVED = ("v_t unrolled", "s_t unrolled", "EMA of a constant", "PyTorch velocity",
           "Adam first step")

RULES = ("sgd", "momentum", "rmsprop", "adam")


# The forms the key states; `formulas` checks them against the recurrences, by SymPy.
def ema_unrolled(beta, values, t):
    """v_t = β v_{t−1} + (1 − β) x_t from v_0 = 0, unrolled: (1 − β) Σ_k β^{t−k} x_k."""
    return (1 - beta) * sum(beta ** (t - k) * values[k - 1] for k in range(1, t + 1))


def bias_factor(beta, t):
    """The weight an exponential average from 0 puts on a constant input after t steps."""
    return 1 - beta ** t


def pytorch_velocity(beta, v):
    """v ← βv + g from 0 is the course's v ← βv + (1 − β)g divided by 1 − β."""
    return v / (1 - beta)


def formulas(T: int) -> dict:
    """The two exponential averages unrolled over T steps, what they give for a constant
    gradient (hence the bias correction), PyTorch's momentum against the course's, and
    Adam's first step, each from the recurrences by SymPy."""
    beta, b1, b2, eps, c = sp.symbols("beta beta_1 beta_2 varepsilon c", positive=True)
    g = [sp.Symbol(f"g_{k}", real=True) for k in range(1, T + 1)]
    v = s = p = sp.Integer(0)
    for t in range(1, T + 1):
        v = beta * v + (1 - beta) * g[t - 1]
        s = b2 * s + (1 - b2) * g[t - 1] ** 2
        p = beta * p + g[t - 1]
        v_form = verified(v, ema_unrolled(beta, g, t), name="v_t unrolled")
        s_form = verified(s, ema_unrolled(b2, [x ** 2 for x in g], t), name="s_t unrolled")
        const_form = verified(v.subs({x: c for x in g}), bias_factor(beta, t) * c,
                              name="EMA of a constant")
        verified(p, pytorch_velocity(beta, v), name="PyTorch velocity")
    v1, s1 = (1 - b1) * g[0], (1 - b2) * g[0] ** 2
    step1 = derived(sp.simplify((v1 / bias_factor(b1, 1)) / (sp.sqrt(s1 / bias_factor(b2, 1)) + eps)),
                    name="Adam first step")
    return {"v": v_form, "s": s_form, "adam1": step1,
            "constant": const_form}


@dataclass(frozen=True)
class Options:
    d: int = option(2, 1, 3)                     # parameters
    T: int = option(2, 2, 3)                     # steps
    eps: float = option(1e-8, 0, 0.1)            # ε of RMSprop and Adam


@dataclass(frozen=True)
class Params:
    w0: Vector
    grads: sp.ImmutableMatrix        # T × d: row t is g_t
    alpha: sp.Rational
    beta: sp.Rational                # momentum
    beta1: sp.Rational
    beta2: sp.Rational
    eps: sp.Rational


def _eps(options) -> sp.Rational:
    return sp.Rational(Fraction(str(options.eps)))


# Cheap exact trajectories (plain lists of SymPy numbers): the mistakes use them.
def _momentum(w0, grads, alpha, beta, new_weight):
    w, v, out = list(w0), [0] * len(w0), []
    for g in grads:
        v = [beta * vi + new_weight * gi for vi, gi in zip(v, g)]
        w = [wi - alpha * vi for wi, vi in zip(w, v)]
        out.append(w)
    return sp.ImmutableMatrix(out)


def _rmsprop(w0, grads, alpha, beta2, eps, eps_inside=False):
    w, s, out = list(w0), [0] * len(w0), []
    for g in grads:
        s = [beta2 * si + (1 - beta2) * gi ** 2 for si, gi in zip(s, g)]
        root = [sp.sqrt(si + eps) if eps_inside else sp.sqrt(si) + eps for si in s]
        w = [wi - alpha * gi / ri for wi, gi, ri in zip(w, g, root)]
        out.append(w)
    return sp.ImmutableMatrix(out)


def _adam(w0, grads, alpha, beta1, beta2, eps, correct=True):
    w, v, s, out = list(w0), [0] * len(w0), [0] * len(w0), []
    for t, g in enumerate(grads, start=1):
        v = [beta1 * vi + (1 - beta1) * gi for vi, gi in zip(v, g)]
        s = [beta2 * si + (1 - beta2) * gi ** 2 for si, gi in zip(s, g)]
        cv = bias_factor(beta1, t) if correct else 1
        cs = bias_factor(beta2, t) if correct else 1
        w = [wi - alpha * (vi / cv) / (sp.sqrt(si / cs) + eps) for wi, vi, si in zip(w, v, s)]
        out.append(w)
    return sp.ImmutableMatrix(out)


def descend(w, delta):
    """(w_t - Δ_t as shown, w_t exact): the working uses w_{t-1} and Δ_t by their rounded
    values, because the closed forms of w grow with t (each is shown once, in the Answers)."""
    shown = Vector(shown_difference(shown_rounded(wi, 4), shown_rounded(di, 4))
                   for wi, di in zip(w, delta))
    return shown, [wi - di for wi, di in zip(w, delta)]


def average(beta, previous, new):
    """β·previous + (1 − β)·new entry by entry, as written: the column of an EMA's step."""
    return shown_column([shown_sum([shown_product(beta, p), shown_product(1 - beta, n)])
                   for p, n in zip(previous, new)])


@dataclass(frozen=True)
class Run:
    """One optimiser's T steps: each step's working as written (a tuple of the quantities the
    key shows, in its order), and w_1 … w_T exactly, as the rows of a matrix."""
    steps: tuple
    w: sp.ImmutableMatrix


@dataclass(frozen=True)
class Work:
    """The exact trajectories of one variant, with their working (shared by the steps, the
    answers and the mistakes)."""
    w0: list
    grads: list            # g_1 … g_T, the rows of G
    sgd: Run               # per step: w_{t-1} − α g_t
    momentum: Run          # per step: v_t, w_t
    rmsprop: Run           # per step: s_t, √s_t, Δ_t, w_t (by rounded values)
    adam: Run              # per step: v_t, s_t, 1 − β₁ᵗ, 1 − β₂ᵗ, v̂_t, ŝ_t, √ŝ_t, Δ_t, w_t


def run_sgd(p, w0, grads) -> Run:
    w, steps, out = w0, [], []
    for g in grads:
        col = shown_column([shown_difference(wi, shown_product(p.alpha, gi)) for wi, gi in zip(w, g)])
        w = list(col.value)
        steps.append((col,))
        out.append(w)
    return Run(tuple(steps), sp.ImmutableMatrix(out))


def run_momentum(p, w0, grads) -> Run:
    w, v, steps, out = w0, [0] * len(w0), [], []
    for g in grads:
        vcol = average(p.beta, v, g)
        v = list(vcol.value)
        wcol = shown_column([shown_difference(wi, shown_product(p.alpha, vi)) for wi, vi in zip(w, v)])
        w = list(wcol.value)
        steps.append((vcol, wcol))
        out.append(w)
    return Run(tuple(steps), sp.ImmutableMatrix(out))


def run_rmsprop(p, w0, grads) -> Run:
    w, s, steps, out = w0, [0] * len(w0), [], []
    for g in grads:
        scol = average(p.beta2, s, [shown_square(gi) for gi in g])
        s = list(scol.value)
        roots = [sp.sqrt(si) for si in s]
        dcol = shown_column([shown_quotient(shown_product(p.alpha, gi), shown_sum([ri, p.eps]))
                       for gi, ri in zip(g, roots)])
        w_step, w = descend(w, dcol.value)
        steps.append((scol, roots, dcol, w_step))
        out.append(w)
    return Run(tuple(steps), sp.ImmutableMatrix(out))


def run_adam(p, w0, grads) -> Run:
    w, v, s, steps, out = w0, [0] * len(w0), [0] * len(w0), [], []
    for t, g in enumerate(grads, start=1):
        vcol, scol = average(p.beta1, v, g), average(p.beta2, s, [shown_square(gi) for gi in g])
        v, s = list(vcol.value), list(scol.value)
        cv, cs = bias_factor(p.beta1, t), bias_factor(p.beta2, t)
        vh_col = shown_column([shown_quotient(vi, cv) for vi in v])
        sh_col = shown_column([shown_quotient(si, cs) for si in s])
        roots = [sp.sqrt(x) for x in sh_col.value]
        dcol = shown_column([shown_quotient(shown_product(p.alpha, a), shown_sum([r, p.eps]))
                       for a, r in zip(vh_col.value, roots)])
        w_step, w = descend(w, dcol.value)
        steps.append((vcol, scol, cv, cs, vh_col, sh_col, roots, dcol, w_step))
        out.append(w)
    return Run(tuple(steps), sp.ImmutableMatrix(out))


def compute(params) -> Work:
    w0, grads = list(params.w0), rows(params.grads)
    return Work(w0=w0, grads=grads, sgd=run_sgd(params, w0, grads),
                momentum=run_momentum(params, w0, grads), rmsprop=run_rmsprop(params, w0, grads),
                adam=run_adam(params, w0, grads))


def sgd_step(work: Work) -> Step:
    return Step(
        title="(a) SGD",
        text="Each step moves against the gradient of that step, scaled by $\\alpha$.",
        math=tuple(eq(rf"w_{{{t}}} = w_{{{t - 1}}} - \alpha g_{{{t}}}", w, Vector(w.value))
                   for t, (w,) in enumerate(work.sgd.steps, start=1)))


def momentum_step(work: Work, facts: dict) -> Step:
    lines = []
    for t, (v, w) in enumerate(work.momentum.steps, start=1):
        lines += [eq(rf"v_{{{t}}} = \beta v_{{{t - 1}}} + (1 - \beta) g_{{{t}}}", v,
                     Vector(v.value)),
                  eq(rf"w_{{{t}}} = w_{{{t - 1}}} - \alpha v_{{{t}}}", w, Vector(w.value))]
    return Step(
        title="(b) Momentum",
        text=f"$v$ is an exponentially weighted average of the gradients; unrolled from "
             f"$v_0 = 0$ (SymPy, from the recurrence): $v_{{{len(work.grads)}}} = @vun$. Its "
             f"weights sum to $1 - \\beta^t$, not 1, so early steps are small.",
        math=tuple(lines), values={"vun": facts["v"]})


def rmsprop_step(work: Work, facts: dict) -> Step:
    lines = []
    for t, (s, roots, delta, w) in enumerate(work.rmsprop.steps, start=1):
        lines += [eq(rf"s_{{{t}}} = \beta_2 s_{{{t - 1}}} + (1 - \beta_2) g_{{{t}}}^2", s,
                     Vector(s.value)),
                  eq(rf"\sqrt{{s_{{{t}}}}}", approx(Vector(roots))),
                  eq(rf"\Delta_{{{t}}} = \alpha \frac{{g_{{{t}}}}}{{\sqrt{{s_{{{t}}}}}"
                     r" + \varepsilon}", delta, approx(Vector(delta.value))),
                  eq(rf"w_{{{t}}} = w_{{{t - 1}}} - \Delta_{{{t}}}", approx(w))]
    return Step(
        title="(c) RMSprop",
        text=f"$s$ averages the squared gradients, $s_{{{len(work.grads)}}} = @sun$ (SymPy), and "
             f"each coordinate's step is divided by its root mean square; $\\varepsilon$ is "
             f"added after the square root. Without a bias correction "
             f"$s_1 = (1 - \\beta_2) g_1^2$ is small, so the first steps are large.",
        math=tuple(lines), values={"sun": facts["s"]})


def adam_step(work: Work, facts: dict) -> Step:
    lines = []
    for t, (v, s, cv, cs, vh, sh, roots, delta, w) in enumerate(work.adam.steps, start=1):
        lines += [eq(f"v_{{{t}}}", v, Vector(v.value)) + r",\qquad "
                  + eq(f"s_{{{t}}}", s, Vector(s.value)),
                  eq(rf"1 - \beta_1^{{{t}}}", cv) + r",\qquad " + eq(rf"1 - \beta_2^{{{t}}}", cs),
                  eq(rf"\hat v_{{{t}}}", vh, approx(Vector(vh.value))) + r",\qquad "
                  + eq(rf"\hat s_{{{t}}}", sh, approx(Vector(sh.value))),
                  eq(rf"\sqrt{{\hat s_{{{t}}}}}", approx(Vector(roots))),
                  eq(rf"\Delta_{{{t}}} = \alpha \frac{{\hat v_{{{t}}}}}{{\sqrt{{\hat s_{{{t}}}}}"
                     r" + \varepsilon}", delta, approx(Vector(delta.value))),
                  eq(rf"w_{{{t}}} = w_{{{t - 1}}} - \Delta_{{{t}}}", approx(w))]
    return Step(
        title="(d) Adam",
        text=f"$v$ and $s$ are the averages of momentum and RMSprop (with $\\beta_1$ for $v$). "
             f"For a constant gradient $c$ the average from 0 after $t = {len(work.grads)}$ steps "
             f"is $@const$ (SymPy), so dividing by $1 - \\beta^t$ removes the bias towards 0. In "
             f"particular $\\hat v_1 = g_1$ and $\\hat s_1 = g_1^2$, and the first step is "
             f"$w_1 = w_0 - \\alpha \\cdot @adam1$ entry by entry (SymPy): about $\\alpha$ "
             f"against the sign of $g_1$.",
        math=tuple(lines), values={"const": facts["constant"], "adam1": facts["adam1"]})


@register
class OptimizerSteps(Problem):
    id = "optimizer_steps"
    title = "SGD, momentum, RMSprop and Adam: T steps from given gradients"

    def validate_options(self, options):
        eps = Fraction(str(options.eps))
        if eps and eps.denominator > 10 ** 12:
            raise ValueError(f"eps = {options.eps} has more than 12 decimals: use a short decimal "
                             f"such as 1e-8")

    def canonical(self, options):
        if (options.d, options.T) != (2, 2):
            raise NoCanonical("the canonical variant has d = 2 parameters and T = 2 steps")
        R = sp.Rational
        return Params(w0=exact_vector(("0.5", "-1")),
                      grads=exact_matrix([["0.2", "-0.4"], ["0.4", "0.3"]]),
                      alpha=R("0.01"), beta=R("0.9"), beta1=R("0.9"), beta2=R("0.99"),
                      eps=_eps(options))

    def generate(self, rng, options):
        d, T = options.d, options.T
        R = sp.Rational
        w0 = exact_vector(rng.decimals(d, -1, 1, 1, nonzero=False))
        grads = exact_matrix(rng.decimals(T * d, -1, 1, 1), (T, d))   # nonzero: s > 0
        alpha = R(rng.choice(("0.001", "0.01", "0.05", "0.1")))
        beta = R(rng.choice(("0.8", "0.9", "0.95")))
        beta1 = R(rng.choice(("0.8", "0.9")))
        beta2 = R(rng.choice(("0.9", "0.99", "0.999")))
        return Params(w0=w0, grads=grads, alpha=alpha, beta=beta, beta1=beta1, beta2=beta2,
                      eps=_eps(options))

    def statement(self, params, options):
        T, d = options.T, options.d
        return (
            Step(text="Four optimisers start from the same parameters $w_0 = @w0 \\in "
                      "\\mathbb{R}^{@d}$ and receive the same gradients $g_1, \\dots, g_{@T}$, "
                      "given as the rows of $G = @G$ (they are not recomputed from a loss). "
                      "Use the course's conventions: $t = 1, 2, \\dots$ counts the steps, "
                      "$v_0 = s_0 = 0$, and squares, roots and quotients are taken entry by "
                      "entry.\n\n"
                      "- SGD: $w_t = w_{t-1} - \\alpha g_t$\n"
                      "- Momentum: $v_t = \\beta v_{t-1} + (1 - \\beta) g_t$, "
                      "$w_t = w_{t-1} - \\alpha v_t$\n"
                      "- RMSprop: $s_t = \\beta_2 s_{t-1} + (1 - \\beta_2) g_t^2$, "
                      "$w_t = w_{t-1} - \\alpha \\frac{g_t}{\\sqrt{s_t} + \\varepsilon}$\n"
                      "- Adam: $v_t$ and $s_t$ as above (with $\\beta_1$ for $v$), "
                      "$\\hat v_t = \\frac{v_t}{1 - \\beta_1^t}$, "
                      "$\\hat s_t = \\frac{s_t}{1 - \\beta_2^t}$, "
                      "$w_t = w_{t-1} - \\alpha \\frac{\\hat v_t}{\\sqrt{\\hat s_t} + \\varepsilon}$"
                      "\n\n"
                      "The hyperparameters are $\\alpha = @alpha$, $\\beta = @beta$ (momentum), "
                      "$\\beta_1 = @beta1$, $\\beta_2 = @beta2$ (RMSprop and Adam) and "
                      "$\\varepsilon = @eps$. For each optimiser give $w_1, \\dots, w_{@T}$ as "
                      "the rows of a $@T \\times @d$ matrix.",
                 values={"w0": params.w0, "d": sp.Integer(d), "T": sp.Integer(T),
                         "G": params.grads, "alpha": params.alpha, "beta": params.beta,
                         "beta1": params.beta1, "beta2": params.beta2, "eps": params.eps}),
            Part("(a)", "SGD."),
            Part("(b)", "Momentum."),
            Part("(c)", "RMSprop."),
            Part("(d)", "Adam, with bias correction."),
        )

    def solve(self, params, options):
        facts = derive_once((self.id, options.T), lambda: formulas(options.T))
        work = compute(params)
        return Solution(
            steps=(sgd_step(work), momentum_step(work, facts), rmsprop_step(work, facts),
                   adam_step(work, facts)),
            answers=(Answer("sgd", r"\text{SGD: } [w_1; \dots; w_T]", work.sgd.w, part="(a)"),
                     Answer("momentum", r"\text{momentum: } [w_1; \dots; w_T]", work.momentum.w,
                            part="(b)"),
                     Answer("rmsprop", r"\text{RMSprop: } [w_1; \dots; w_T]", work.rmsprop.w,
                            part="(c)"),
                     Answer("adam", r"\text{Adam: } [w_1; \dots; w_T]", work.adam.w, part="(d)")),
            work=work)

    follows = {"sgd": ("sgd",), "momentum": ("momentum",), "rmsprop": ("rmsprop",),
               "adam": ("adam",)}

    def follow_through(self, params, given):
        """Each optimiser's w_t from the student's own w_{t−1} (the steps depend on the
        gradients only): w_1 = w_0 − Δ_1, w_t = (their w_{t−1}) − Δ_t."""
        G, w0 = params.grads, params.w0
        out = {}
        for name, update in float_rules(params).items():
            state = {"v": np.zeros_like(w0), "s": np.zeros_like(w0)}
            steps = np.array([update(state, G[t - 1], t) for t in range(1, G.shape[0] + 1)])
            before = np.vstack([w0[None, :], given[name][:-1]])
            out[name] = before - steps
        return out

    def mistakes(self, params, options, solution):
        grads, w0 = solution.work.grads, solution.work.w0
        alpha, beta, b1, b2, eps = (params.alpha, params.beta, params.beta1, params.beta2,
                                    params.eps)
        out = [
            Mistake("adam_no_bias_correction", "Adam without bias correction",
                    "$v_t / (\\sqrt{s_t} + \\varepsilon)$ instead of "
                    "$\\hat v_t / (\\sqrt{\\hat s_t} + \\varepsilon)$: the averages start at 0, "
                    "and dividing by $1 - \\beta_1^t$ and $1 - \\beta_2^t$ removes that bias",
                    {"adam": _adam(w0, grads, alpha, b1, b2, eps, correct=False)}),
            Mistake("momentum_pytorch_convention", "momentum as v = βv + g",
                    "$v_t = \\beta v_{t-1} + g_t$ (the PyTorch form) instead of the course's "
                    "$v_t = \\beta v_{t-1} + (1 - \\beta) g_t$: the steps are $1/(1 - \\beta)$ "
                    "times too large for the same $\\alpha$",
                    {"momentum": _momentum(w0, grads, alpha, beta, 1)}),
            Mistake("momentum_weights_swapped", "β and 1 − β swapped",
                    "$v_t = (1 - \\beta) v_{t-1} + \\beta g_t$: the average keeps the weight "
                    "$\\beta$ on its past, $v_t = \\beta v_{t-1} + (1 - \\beta) g_t$",
                    {"momentum": _momentum(w0, grads, alpha, 1 - beta, beta)}),
        ]
        if eps != 0:
            out.insert(2, Mistake(
                "rmsprop_eps_inside_sqrt", "ε inside the square root",
                "$g_t / \\sqrt{s_t + \\varepsilon}$ instead of $g_t / (\\sqrt{s_t} + "
                "\\varepsilon)$: in the course $\\varepsilon$ is added after the root",
                {"rmsprop": _rmsprop(w0, grads, alpha, b2, eps, eps_inside=True)}))
        return tuple(out)

    def check(self, params, options, solution):
        """The four optimisers again in float64 (NumPy, whole vectors at a time), and
        momentum's average and Adam's first step in their closed forms.

        Every step adds a term of at most a few roundings relative to itself, so the error of
        w_t is at most about 16·T·u·(|w_0| + Σ|Δ_k|) per entry: that bound, relative to the
        largest entry of the answer, is the tolerance of `compare`."""
        G, w0 = as_float(params.grads), as_float(params.w0)
        alpha, beta, eps = float(params.alpha), float(params.beta), float(params.eps)
        T = G.shape[0]
        for name, update in float_rules(params).items():
            numeric, size = float_run(w0, G, update)
            compare(name, solution.answer(name), numeric, size, T)
        # momentum from the unrolled average (1 − β) Σ β^{t−k} g_k, summed in one go
        powers = np.array([[beta ** (t - k) if k <= t else 0.0 for k in range(1, T + 1)]
                           for t in range(1, T + 1)])
        V = (1 - beta) * powers @ G
        W = w0 - alpha * np.cumsum(V, axis=0)
        compare("momentum", solution.answer("momentum"), W,
                float(np.max(np.abs(w0) + alpha * np.cumsum(np.abs(V), axis=0))), T)
        # Adam's first step is α g₁/(|g₁| + ε) whatever β₁ and β₂ are
        first = w0 - alpha * G[0] / (np.abs(G[0]) + eps)
        compare("adam", solution.answer("adam")[0, :], first[None, :],
                float(np.max(np.abs(w0) + alpha)), 1)


# The independent check: the four rules in float64, from the parameters alone.
def float_rules(params) -> dict:
    """Each rule as a function of (state, g_t, t) giving the step Δ_t, state holding v and s."""
    alpha, beta, b1, b2, eps = (float(params.alpha), float(params.beta), float(params.beta1),
                                float(params.beta2), float(params.eps))

    def sgd(state, g, t):
        return alpha * g

    def momentum(state, g, t):
        state["v"] = beta * state["v"] + (1 - beta) * g
        return alpha * state["v"]

    def rmsprop(state, g, t):
        state["s"] = b2 * state["s"] + (1 - b2) * g * g
        return alpha * g / (np.sqrt(state["s"]) + eps)

    def adam(state, g, t):
        state["v"] = b1 * state["v"] + (1 - b1) * g
        state["s"] = b2 * state["s"] + (1 - b2) * g * g
        v_hat = state["v"] / (1 - b1 ** t)
        s_hat = state["s"] / (1 - b2 ** t)
        return alpha * v_hat / (np.sqrt(s_hat) + eps)

    return {"sgd": sgd, "momentum": momentum, "rmsprop": rmsprop, "adam": adam}


def float_run(w0, G, update):
    """w_1 … w_T as rows, and the largest |w_0| + Σ|Δ_k| (the scale of the rounding error)."""
    w, size, out = w0.copy(), np.abs(w0).copy(), []
    state = {"v": np.zeros_like(w0), "s": np.zeros_like(w0)}
    for t in range(1, G.shape[0] + 1):
        delta = update(state, G[t - 1], t)
        w = w - delta
        size = size + np.abs(delta)
        out.append(w)
    return np.array(out), float(np.max(size))


def compare(name, exact, numeric, size, T):
    numeric = np.asarray(numeric, dtype=np.float64)
    scale = max(float(np.max(np.abs(numeric))), 1e-300)
    rtol = max(1e-13, 32 * (T + 2) * _UNIT * size / scale)
    if not np.isfinite(rtol):
        raise CheckFailed(f"{name}: no finite tolerance")
    assert_close_scaled(name, exact, numeric, rtol)
