"""Activation functions: definitions, ranges, uses, derivatives through a(z), values."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from wsgen import (Answer, Axes, CheckFailed, Curve, Expression, Mark, Mistake, NoCanonical, Part, Plot,
                   Problem, Redraw, Solution, Step, Vector, approx, as_float, assert_close, derive_once, derived, eq,
                   exact_vector, line, option, register, verified)

#: The formulas SymPy derives or verifies for every slope (see `formulas`).
DERIVED = ("σ'", "σ' = σ(1 − σ)", "tanh' = 1 − tanh²", "tanh' from exponentials", "ReLU'",
           "LReLU'", "ReLU' rule", "LReLU' rule")


# The derivative rules the key evaluates, with its convention at z = 0 (the left-hand
# slope, a valid subgradient); `formulas` checks them against SymPy's one-sided slopes.
def relu_slope(v):
    """ReLU′(v): 1 for v > 0, 0 for v ≤ 0."""
    return sp.Integer(1) if v > 0 else sp.Integer(0)


def leaky_slope(v, c):
    """LReLU′(v): 1 for v > 0, c for v ≤ 0."""
    return sp.Integer(1) if v > 0 else c


def _one_sided(f) -> tuple:
    """SymPy's derivative of f on z > 0 and on z < 0 (symbols with that sign)."""
    right, left = sp.Symbol("z", positive=True), sp.Symbol("z", negative=True)
    slopes = (sp.diff(f(right), right), sp.diff(f(left), left))
    if any(s.free_symbols for s in slopes):
        raise CheckFailed(f"activations: SymPy's one-sided derivatives {slopes} are not constant")
    return slopes


def formulas(c) -> dict:
    """σ′ and tanh′ derived by SymPy and checked to equal the forms through a(z); ReLU′ and
    leaky ReLU′ (slope c) from SymPy's derivatives of Max on each side of 0, with the key's
    convention at 0 (the left-hand slope, so a subgradient); the rules the key evaluates
    (`relu_slope`, `leaky_slope`) are checked against them on both sides and at 0."""
    z = sp.Symbol("z", real=True)
    sigma = 1 / (1 + sp.exp(-z))
    d_sigma = derived(sp.diff(sigma, z), name="σ'")
    verified(d_sigma, sigma * (1 - sigma), name="σ' = σ(1 − σ)")
    verified(sp.diff(sp.tanh(z), z), 1 - sp.tanh(z) ** 2, name="tanh' = 1 − tanh²")
    # the direct derivative of tanh written with exponentials, for the key
    tanh_exp = (sp.exp(z) - sp.exp(-z)) / (sp.exp(z) + sp.exp(-z))
    d_tanh_exp = sp.factor(sp.together(sp.diff(tanh_exp, z)))
    verified(d_tanh_exp, 1 - tanh_exp ** 2, name="tanh' from exponentials")
    pieces = {}
    for name, f, rule in (("ReLU'", lambda t: sp.Max(0, t), relu_slope),
                          ("LReLU'", lambda t: sp.Max(t, c * t), lambda v: leaky_slope(v, c))):
        right, left = _one_sided(f)
        # the key's convention at 0, the left-hand slope: a subgradient (between the slopes)
        piecewise = derived(sp.Piecewise((right, z > 0), (left, True)), name=name)
        points = [sp.Integer(v) for v in (-1, 0, 1)]
        verified(sp.Matrix([piecewise.subs(z, v) for v in points]),
                 sp.Matrix([rule(v) for v in points]), name=name + " rule")
        pieces[name] = piecewise
    return {"d_sigma": d_sigma, "d_tanh": d_tanh_exp, "d_relu": pieces["ReLU'"],
            "d_leaky_relu": pieces["LReLU'"]}


def sigmoid(z):
    return 1 / (1 + sp.exp(-z))


@dataclass(frozen=True)
class Options:
    points: int = option(3, 1, 6)                  # how many points z
    slope: float = option(0.01, 0, 1, open_ends=True)  # leaky ReLU slope for z < 0
    at_zero: bool = False    # put z = 0 among the points, to ask about the convention
    digits: int = option(4, 2, 12)                 # significant digits of rounded decimals


@dataclass(frozen=True)
class Params:
    z: Vector
    slope: sp.Rational


PROSE = {
    "sigmoid": ("Sigmoid", r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"(0, 1)",
                "the output unit of a binary classifier: its value reads as a probability",
                "it saturates for large $|z|$ (the gradient is at most $0.25$ and vanishes in the "
                "tails), and its output is not zero-centred"),
    "tanh": ("Hyperbolic tangent", r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}", r"(-1, 1)",
             "hidden layers: zero-centred outputs make the next layer's optimisation easier than "
             "with the sigmoid",
             "it still saturates for large $|z|$, so gradients vanish in deep networks"),
    "relu": ("ReLU", r"\mathrm{ReLU}(z) = \max(0, z)", r"[0, \infty)",
             "the default for hidden layers: cheap, and no saturation for $z > 0$, so training is fast",
             "units whose input stays negative get zero gradient and can die; outputs are not "
             "zero-centred"),
    "leaky_relu": ("Leaky ReLU", r"\mathrm{LReLU}(z) = \max(cz, z)", r"(-\infty, \infty)",
                   "hidden layers where dead ReLU units are a problem: the small slope $c$ keeps "
                   "a gradient for $z < 0$",
                   "the slope $c$ is one more hyperparameter, and the gain over ReLU is often small"),
}


#: Each function's symbol in the key, in the order of the steps and the answers.
SYMBOL = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\mathrm{ReLU}",
          "leaky_relu": r"\mathrm{LReLU}"}
#: What each function's values and slopes are known to satisfy (multiple-choice slips that
#: break it are not offered): σ lies in (0, 1), ReLU is never negative; the slopes of σ and
#: tanh are positive, ReLU's are 0 or 1, leaky ReLU's c or 1.
RANGE = {"sigmoid": ("probability",), "tanh": (), "relu": ("nonnegative",), "leaky_relu": ()}
SLOPE_RANGE = {"sigmoid": ("positive",), "tanh": ("positive",),
               "relu": ("nonnegative", "integer"), "leaky_relu": ("positive",)}


@dataclass(frozen=True)
class Work:
    """The exact values and derivatives at every point, by function name (shared by the
    steps, the answers and the mistakes)."""
    z: Vector
    c: sp.Rational
    values: dict
    slopes: dict


def compute(params) -> Work:
    z, c = params.z, params.slope
    values = {"sigmoid": tuple(sigmoid(v) for v in z), "tanh": tuple(sp.tanh(v) for v in z),
              "relu": tuple(max(v, sp.Integer(0)) for v in z),
              "leaky_relu": tuple(v if v > 0 else c * v for v in z)}
    # Convention at z = 0 (a subgradient choice): ReLU'(0) = 0, LReLU'(0) = c.
    slopes = {"sigmoid": tuple(s * (1 - s) for s in values["sigmoid"]),
              "tanh": tuple(1 - t ** 2 for t in values["tanh"]),
              "relu": tuple(relu_slope(v) for v in z),
              "leaky_relu": tuple(leaky_slope(v, c) for v in z)}
    return Work(z=z, c=c, values=values, slopes=slopes)


def derivative_line(name: str, facts: dict, c):
    """The derivative as SymPy gives it, and through a(z) where it can be written so."""
    if name == "sigmoid":
        return eq(r"\sigma'(z)", facts["d_sigma"], r"\sigma(z)\bigl(1 - \sigma(z)\bigr)")
    if name == "tanh":
        return eq(r"\tanh'(z) = \frac{d}{dz}\,\frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}",
                  facts["d_tanh"], r"1 - \tanh^2(z)")
    if name == "relu":
        return eq(r"\mathrm{ReLU}'(z)", facts["d_relu"])
    return eq(r"\mathrm{LReLU}'(z)", facts["d_leaky_relu"]) + r",\qquad " + eq("c", c)


def function_step(name: str, w: Work, facts: dict, digits: int) -> Step:
    """One function: its definition, range, use and weakness, its derivative, its values."""
    title, definition, range_, good, weak = PROSE[name]
    text = (f"Definition: ${definition}$, with range ${range_}$.\n\n"
            f"- Good for: {good}.\n- Weakness: {weak}.")
    if name in ("relu", "leaky_relu"):
        text += ("\n\nSymPy differentiates the maximum on each side of $0$. At $z = 0$ "
                 "the derivative does not exist; any value between the two one-sided "
                 "slopes is a valid subgradient. This key uses the left-hand slope, "
                 + ("$\\mathrm{ReLU}'(0) = 0$." if name == "relu"
                    else "$\\mathrm{LReLU}'(0) = c$."))
    a = SYMBOL[name]
    points = (eq(line(f"{a}(", v, ")"), approx(value, digits)) + r",\qquad "
              + eq(line(f"{a}'(", v, ")"), approx(slope, digits))
              for v, value, slope in zip(w.z, w.values[name], w.slopes[name]))
    return Step(title=title, text=text, math=(derivative_line(name, facts, w.c), *points))


def in_terms_of_a(name: str, text: str) -> Expression:
    """A formula (core/formula.py) in z and a = σ(z) or tanh(z)."""
    return Expression(text, {"z": ()}, {"a": {"sigmoid": "sigma(z)", "tanh": "tanh(z)"}[name]})


def curves(c) -> dict:
    """Each function and its derivative as SymPy expressions in z, with the x values where
    they jump (the derivatives of ReLU and leaky ReLU at 0, by the key's convention)."""
    z = sp.Symbol("z", real=True)
    step = lambda low: sp.Piecewise((1, z > 0), (low, True))
    return {"sigmoid": (z, sigmoid(z), sigmoid(z) * (1 - sigmoid(z)), ()),
            "tanh": (z, sp.tanh(z), 1 - sp.tanh(z) ** 2, ()),
            "relu": (z, sp.Max(0, z), step(0), (0,)),
            "leaky_relu": (z, sp.Piecewise((z, z > 0), (c * z, True)), step(c), (0,))}


def plot(w: Work, digits: int) -> Plot:
    """Each function (solid) and its derivative (dashed) over the points asked, which are
    marked on both."""
    low = min(-3, *w.z) - sp.Rational(1, 2)
    high = max(3, *w.z) + sp.Rational(1, 2)
    axes = []
    for name, (z, f, df, jumps) in curves(w.c).items():
        a = SYMBOL[name]
        marks = tuple(Mark(v, y) for v, y in zip(w.z, w.values[name])) + \
            tuple(Mark(v, y) for v, y in zip(w.z, w.slopes[name]))
        axes.append(Axes(curves=(Curve(f"{a}(z)", f, z), Curve(f"{a}'(z)", df, z, dashed=True,
                                                                 breaks=jumps)),
                         x_range=(low, high), marks=marks, x_label="z",
                         title=rf"\text{{{PROSE[name][0]}}}"))
    return Plot(tuple(axes), digits=digits,
                caption="Each function (solid) and its derivative (dashed), with the points "
                        "of (d) marked on both.")


@register
class Activations(Problem):
    id = "activations"
    title = "Activation functions and their derivatives"

    def canonical(self, options):
        if options.points != 3 or options.at_zero:
            raise NoCanonical("the canonical variant has points = 3 and at_zero = false")
        return Params(z=exact_vector(("-2", "0.5", "1")),
                      slope=sp.Rational(str(options.slope)))

    def generate(self, rng, options):
        count = options.points - (1 if options.at_zero else 0)
        values = list(exact_vector(rng.decimals(count, -3, 3, 1, nonzero=True)))
        if options.at_zero:
            values.insert(rng.integer(0, count), sp.Integer(0))
        if len(set(values)) < len(values):
            raise Redraw("repeated point")
        return Params(z=Vector(values), slope=sp.Rational(str(options.slope)))

    def statement(self, params, options):
        return (
            Step(text="For each of the sigmoid, tanh, ReLU and leaky ReLU (slope $c = @c$ for "
                      "$z < 0$) activation functions:",
                 values={"c": params.slope}),
            Part("(a)", "Give its definition and its range."),
            Part("(b)", "Say in one line what it is good for and what its weakness is."),
            Part("(c)", "Give its derivative, expressed through the activation $a(z)$ itself "
                        "where possible (a third of the points, for the sigmoid's and tanh's "
                        "as formulas in $a$)."),
            Part("(d)", "Evaluate the function and its derivative at $z \\in @z$.",
                 values={"z": tuple(params.z)}),
        )

    def solve(self, params, options):
        digits, c = options.digits, params.slope
        facts = derive_once((self.id, c), lambda: formulas(c))
        work = compute(params)
        return Solution(
            steps=(*(function_step(name, work, facts, digits) for name in PROSE),
                   plot(work, min(digits, 6))),
            answers=(Answer("d_sigmoid_formula", r"\sigma'(z)", in_terms_of_a("sigmoid", "a*(1 - a)"),
                            part="(c)", points=2),
                     Answer("d_tanh_formula", r"\tanh'(z)", in_terms_of_a("tanh", "1 - a^2"),
                            part="(c)", points=2),
                     *(Answer(name, f"{a}(z)", Vector(work.values[name]), digits, part="(d)",
                              constraints=RANGE[name]) for name, a in SYMBOL.items()),
                     *(Answer("d_" + name, f"{a}'(z)", Vector(work.slopes[name]), digits,
                              part="(d)", constraints=SLOPE_RANGE[name])
                       for name, a in SYMBOL.items())),
            work=work)

    follows = {"d_sigmoid": ("sigmoid",), "d_tanh": ("tanh",)}

    def follow_through(self, params, given):
        """σ′ = σ(1 − σ) and tanh′ = 1 − tanh² from the student's values of σ and tanh."""
        return {"d_sigmoid": given["sigmoid"] * (1 - given["sigmoid"]),
                "d_tanh": 1 - given["tanh"] ** 2}

    def mistakes(self, params, options, solution):
        z, c = params.z, params.slope
        one = sp.Integer(1)
        sig = solution.work.values["sigmoid"]
        return (
            Mistake("tanh_no_square", "tanh′ without the square",
                    "$\\tanh'(z) = 1 - \\tanh(z)$ without the square: the derivative is "
                    "$1 - \\tanh^2(z)$, which is even in $z$ and never negative",
                    {"d_tanh": Vector(1 - sp.tanh(v) for v in z),
                     "d_tanh_formula": in_terms_of_a("tanh", "1 - a")}),
            Mistake("sigmoid_derivative_plus", "σ′ = σ(1 + σ)",
                    "$\\sigma'(z) = \\sigma(z)\\bigl(1 + \\sigma(z)\\bigr)$: the derivative "
                    "is $\\sigma(z)\\bigl(1 - \\sigma(z)\\bigr)$, at most $0.25$",
                    {"d_sigmoid": Vector(s * (1 + s) for s in sig),
                     "d_sigmoid_formula": in_terms_of_a("sigmoid", "a*(1 + a)")}),
            Mistake("relu_negative_slope_one", "ReLU′ = 1 for z < 0",
                    "slope $1$ for $z < 0$ as well (so $1$ at $z = 0$ too): ReLU is the constant "
                    "$0$ for $z < 0$, so its derivative there is $0$",
                    {"d_relu": Vector(one for _ in z)}),
            Mistake("leaky_slope_swapped", "leaky ReLU slopes swapped",
                    "the two slopes swapped (and the $z < 0$ one used at $z = 0$): leaky ReLU has "
                    "slope $1$ for $z > 0$ and the small slope $c$ for $z < 0$",
                    {"d_leaky_relu": Vector(c if v > 0 else one for v in z)}),
        )

    def check(self, params, options, solution):
        z, c = as_float(params.z), float(params.slope)
        functions = {
            "sigmoid": lambda t: 1.0 / (1.0 + np.exp(-t)), "tanh": np.tanh,
            "relu": lambda t: np.maximum(t, 0.0), "leaky_relu": lambda t: np.where(t > 0, t, c * t),
        }
        h = 1e-6
        for name, f in functions.items():
            assert_close(name, solution.answer(name), f(z))
            central = (f(z + h) - f(z - h)) / (2 * h)
            # at z = 0 the key states the convention: the right-hand slope is not used
            convention = {"relu": 0.0, "leaky_relu": c}.get(name)
            expected = np.where(z == 0, convention if convention is not None else central, central)
            assert_close("d_" + name, solution.answer("d_" + name), expected, rtol=1e-5, atol=1e-8)
