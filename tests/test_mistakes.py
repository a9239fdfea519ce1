"""Common mistakes as data: the canonical values checked against hand computations, and
every registered problem's mistakes checked for shape and plausibility over many seeds."""
import pytest
import sympy as sp

from wsgen import Expression, Vector
from wsgen.core.draw import draw_variant
from wsgen.core.numeric import float_value

R = sp.Rational


def canonical(problems, pid):
    p = problems[pid]
    return draw_variant(p, p.Options(), None)


def mistakes_of(variant):
    return {m.id: m for m in variant.mistakes}


def _plain(value):
    from wsgen.core.shown import Shown
    return value.value if isinstance(value, Shown) else value


def same(a, b, digits=40):
    """Exact values equal: rationals and matrices exactly, closed forms to 40 digits
    (arithmetic as written counts by its exact value)."""
    a, b = sp.sympify(_plain(a)), sp.sympify(_plain(b))
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        return a.shape == b.shape and all(same(x, y) for x, y in zip(a, b))
    return abs(sp.N(a - b, digits)) < sp.Float(10) ** (5 - digits)


def assert_vector(value, expected):
    assert isinstance(value, Vector) and len(value) == len(expected)
    assert all(same(v, e) for v, e in zip(value, expected)), (value, expected)


def assert_matrix(value, expected):
    assert isinstance(value, sp.ImmutableMatrix)
    assert same(value, sp.Matrix(expected)), (value, expected)


# --- the canonical variants, by hand ---------------------------------------------------------

def test_matrix_backprop_canonical(problems):
    """W = [[0.1, 0.5], [-0.3, 0.8]], x = [0.2, 0.4]; Wx = [0.02 + 0.2, -0.06 + 0.32] = [0.22, 0.26].
    no_transpose: 2W(Wx) = 2·[0.1·0.22 + 0.5·0.26, -0.3·0.22 + 0.8·0.26]
                         = 2·[0.022 + 0.13, -0.066 + 0.208] = 2·[0.152, 0.142] = [0.304, 0.284]
    missing_factor_2: (Wx)xᵀ = [[0.22·0.2, 0.22·0.4], [0.26·0.2, 0.26·0.4]] = [[0.044, 0.088], [0.052, 0.104]]
                      Wᵀ(Wx) = [0.1·0.22 - 0.3·0.26, 0.5·0.22 + 0.8·0.26] = [-0.056, 0.318]
    transposed_outer: 2x(Wx)ᵀ = 2·[[0.2·0.22, 0.2·0.26], [0.4·0.22, 0.4·0.26]] = [[0.088, 0.104], [0.176, 0.208]]
    norm_not_squared: L = √(0.22² + 0.26²) = √(0.0484 + 0.0676) = √0.116
    """
    ms = mistakes_of(canonical(problems, "matrix_backprop"))
    assert set(ms) >= {"no_transpose", "missing_factor_2", "transposed_outer", "norm_not_squared"}
    # each also gives its formula for part (b): the key's 2(Wx)xᵀ and 2Wᵀ(Wx), mistaken
    assert set(ms["no_transpose"].values) == {"dL_dx", "dL_dx_formula"}
    assert ms["no_transpose"].values["dL_dx_formula"].text == "2*W*(W*x)"
    assert_vector(ms["no_transpose"].values["dL_dx"], [R("0.304"), R("0.284")])
    assert set(ms["missing_factor_2"].values) == {"dL_dW", "dL_dx", "dL_dW_formula", "dL_dx_formula"}
    assert ms["missing_factor_2"].values["dL_dW_formula"].text == "(W*x)*x^T"
    assert ms["missing_factor_2"].values["dL_dx_formula"].text == "W^T*(W*x)"
    assert_matrix(ms["missing_factor_2"].values["dL_dW"], [[R("0.044"), R("0.088")], [R("0.052"), R("0.104")]])
    assert_vector(ms["missing_factor_2"].values["dL_dx"], [R("-0.056"), R("0.318")])
    assert set(ms["transposed_outer"].values) == {"dL_dW", "dL_dW_formula"}
    assert ms["transposed_outer"].values["dL_dW_formula"].text == "2*x*(W*x)^T"
    assert_matrix(ms["transposed_outer"].values["dL_dW"], [[R("0.088"), R("0.104")], [R("0.176"), R("0.208")]])
    assert set(ms["norm_not_squared"].values) == {"L"}
    assert ms["norm_not_squared"].values["L"] == sp.sqrt(R("0.116"))


def test_matrix_backprop_non_square_omits_square_only_mistakes(problems):
    """With W of shape 3 × 2, 2W(Wx) and 2x(Wx)ᵀ do not even have the answers' shapes."""
    p = problems["matrix_backprop"]
    ms = mistakes_of(draw_variant(p, p.Options(m=3, n=2), 5))
    assert "no_transpose" not in ms and "transposed_outer" not in ms
    assert {"missing_factor_2", "norm_not_squared"} <= set(ms)
    assert ms["missing_factor_2"].values["dL_dW"].shape == (3, 2)
    assert len(ms["missing_factor_2"].values["dL_dx"]) == 2


def test_logistic_regression_canonical(problems):
    """x = [1, 2, -1, 0], y = [1, 1, 0, 0], w = 0.5, b = -0.5, α = 0.1, m = 4:
    z = wx + b = [0, 0.5, -1, -0.5], ŷ = σ(z), residuals r = ŷ - y = [σ(0) - 1, σ(½) - 1, σ(-1), σ(-½)].
    Correct: dw = (1/4)(r₁·1 + r₂·2 + r₃·(-1) + r₄·0), db = (1/4)(r₁ + r₂ + r₃ + r₄).
    double_mean: dw/4 and db/4; missing_mean: 4·dw and 4·db (the sums); each with w - α·dw, b - α·db.
    gradient_ascent: w + α·dw, b + α·db with the correct gradients.
    sigmoid_derivative_plus: dℓ/dŷ = (ŷ - y)/(ŷ(1 - ŷ)), times ŷ(1 + ŷ): rᵢ' = (ŷᵢ - yᵢ)(1 + ŷᵢ)/(1 - ŷᵢ)
    (for the first example, ŷ = ½: (½ - 1)(3/2)/(1/2) = -3/2), then dw, db, the step as above.
    """
    s = lambda t: 1 / (1 + sp.exp(-sp.Rational(t)))
    x, y, w, b, alpha = [1, 2, -1, 0], [1, 1, 0, 0], R("0.5"), R("-0.5"), R("0.1")
    yh = [s(0), s("1/2"), s(-1), s("-1/2")]
    r = [yh[i] - y[i] for i in range(4)]
    dw = sum(r[i] * x[i] for i in range(4)) / 4
    db = sum(r) / 4
    ms = mistakes_of(canonical(problems, "logistic_regression"))
    assert set(ms) >= {"double_mean", "missing_mean", "gradient_ascent", "sigmoid_derivative_plus"}

    def expect(mistake, dw_, db_):
        values = ms[mistake].values
        # with the formulas they change: ∂J/∂w = (1/m) xᵀ(ŷ − y) over m², or without 1/m;
        # ∂ℓ/∂z = (ŷ − y)(1 + ŷ)/(1 − ŷ)
        formulas = {"double_mean": {"dJ_dw_formula": "1/m^2*x^T*(yhat - y)"},
                    "missing_mean": {"dJ_dw_formula": "x^T*(yhat - y)"},
                    "sigmoid_derivative_plus": {"dl_dz": "(yhat - y)*(1 + yhat)/(1 - yhat)"}}[mistake]
        assert set(values) == {"dw", "db", "w_new", "b_new", *formulas}
        assert {name: values[name].text for name in formulas} == formulas
        assert same(values["dw"], dw_) and same(values["db"], db_)
        assert same(values["w_new"], w - alpha * dw_) and same(values["b_new"], b - alpha * db_)

    expect("double_mean", dw / 4, db / 4)
    expect("missing_mean", 4 * dw, 4 * db)
    ascent = ms["gradient_ascent"].values
    assert set(ascent) == {"w_new", "b_new"}
    assert same(ascent["w_new"], w + alpha * dw) and same(ascent["b_new"], b + alpha * db)
    r_plus = [(yh[i] - y[i]) * (1 + yh[i]) / (1 - yh[i]) for i in range(4)]
    assert same(r_plus[0], R(-3, 2))
    expect("sigmoid_derivative_plus", sum(r_plus[i] * x[i] for i in range(4)) / 4, sum(r_plus) / 4)


def test_activations_canonical(problems):
    """z = [-2, 0.5, 1], c = 0.01.
    tanh_no_square: 1 - tanh(z) = [1 + tanh 2, 1 - tanh ½, 1 - tanh 1]
    sigmoid_derivative_plus: σ(z)(1 + σ(z)) entry by entry
    relu_negative_slope_one: slope 1 on both sides: [1, 1, 1] (correct [0, 1, 1])
    leaky_slope_swapped: c for z > 0 and 1 for z < 0: [1, 0.01, 0.01] (correct [0.01, 1, 1])
    """
    zs = [R(-2), R(1, 2), R(1)]
    s = lambda t: 1 / (1 + sp.exp(-t))
    ms = mistakes_of(canonical(problems, "activations"))
    assert {m: set(ms[m].values) for m in ("tanh_no_square", "sigmoid_derivative_plus",
                                             "relu_negative_slope_one", "leaky_slope_swapped")} == {
        "tanh_no_square": {"d_tanh", "d_tanh_formula"},
        "sigmoid_derivative_plus": {"d_sigmoid", "d_sigmoid_formula"},
        "relu_negative_slope_one": {"d_relu"}, "leaky_slope_swapped": {"d_leaky_relu"}}
    # in terms of a: 1 − a for 1 − a², a(1 + a) for a(1 − a)
    assert ms["tanh_no_square"].values["d_tanh_formula"].text == "1 - a"
    assert ms["sigmoid_derivative_plus"].values["d_sigmoid_formula"].text == "a*(1 + a)"
    assert_vector(ms["tanh_no_square"].values["d_tanh"], [1 + sp.tanh(2), 1 - sp.tanh(R(1, 2)), 1 - sp.tanh(1)])
    assert_vector(ms["sigmoid_derivative_plus"].values["d_sigmoid"], [s(t) * (1 + s(t)) for t in zs])
    assert_vector(ms["relu_negative_slope_one"].values["d_relu"], [1, 1, 1])
    assert_vector(ms["leaky_slope_swapped"].values["d_leaky_relu"], [1, R("0.01"), R("0.01")])


def test_regularization_canonical(problems):
    """W = [[0.5, -1], [2, 0]], dW = [[0.1, 0.2], [-0.3, 0.4]], λ = 0.5, m = 10, α = 0.1;
    λ/m = 0.05 and λ/(2m) = 0.025.
    lambda_over_2m_in_gradient: dW + 0.025W = [[0.1 + 0.0125, 0.2 - 0.025], [-0.3 + 0.05, 0.4]]
        = [[0.1125, 0.175], [-0.25, 0.4]]; W - 0.1·that = [[0.48875, -1.0175], [2.025, -0.04]];
        decay 1 - 0.1·0.025 = 0.9975
    missing_lambda_over_m: dW itself; W - 0.1dW = [[0.49, -1.02], [2.03, -0.04]]; decay 1
    decay_sign: 1 + 0.1·0.5/10 = 1.005; 1.005W - 0.1dW = [[0.5025 - 0.01, -1.005 - 0.02],
        [2.01 + 0.03, 0 - 0.04]] = [[0.4925, -1.025], [2.04, -0.04]]
    """
    ms = mistakes_of(canonical(problems, "regularization"))
    half = ms["lambda_over_2m_in_gradient"].values
    assert_matrix(half["dW_reg"], [[R("0.1125"), R("0.175")], [R("-0.25"), R("0.4")]])
    assert_matrix(half["W_new"], [[R("0.48875"), R("-1.0175")], [R("2.025"), R("-0.04")]])
    assert half["decay"] == R("0.9975")
    assert half["dW_reg_formula"].text == "dW + lambda/(2*m)*W"
    none = ms["missing_lambda_over_m"].values
    assert_matrix(none["dW_reg"], [[R("0.1"), R("0.2")], [R("-0.3"), R("0.4")]])
    assert_matrix(none["W_new"], [[R("0.49"), R("-1.02")], [R("2.03"), R("-0.04")]])
    assert none["decay"] == 1
    assert none["dW_reg_formula"].text == "dW"
    sign = ms["decay_sign"].values
    assert set(sign) == {"decay", "W_new"} and sign["decay"] == R("1.005")
    assert_matrix(sign["W_new"], [[R("0.4925"), R("-1.025")], [R("2.04"), R("-0.04")]])


def test_triplet_loss_canonical(problems):
    """A = (1, 0), P = (0.8, 0.2), N = (0.7, 0.4), α = 0.2:
    d_ap = 0.2² + 0.2² = 0.08, d_an = 0.3² + 0.4² = 0.25 (correct L = max(0.03, 0) = 0.03).
    no_margin: max(0.08 - 0.25, 0) = 0; no_hinge: 0.08 - 0.25 + 0.2 = 0.03;
    swapped: max(0.25 - 0.08 + 0.2, 0) = 0.37;
    norms_not_squared: max(√0.08 - 0.5 + 0.2, 0) = max(0.2828… - 0.3, 0) = 0.
    The canonical options are (no margin, correct, swapped, unsquared): the no-hinge formula is
    not shown, so that mistake gives only its loss, 0.03, which is the correct loss (the
    hinge is active): the variant leaves it out, and records that it did.
    """
    from wsgen.problems.triplet_loss import NO_MARGIN, NOT_SQUARED, SWAPPED
    variant = canonical(problems, "triplet_loss")
    ms = mistakes_of(variant)
    expected = {"no_margin": (NO_MARGIN, 0), "swapped_positive_negative": (SWAPPED, R("0.37")),
                "norms_not_squared": (NOT_SQUARED, 0)}
    assert set(ms) == set(expected)
    for mid, (formula, loss) in expected.items():
        assert ms[mid].values.get("formula") == formula
        assert same(ms[mid].values["loss"], loss), mid
    assert variant.coinciding == (("no_hinge", "loss"),)


def test_style_transfer_loss_canonical(problems):
    """n_C = 2, n_H n_W = 3: content factor 1/(4·3·2) = 1/24, style factor 1/(4·2²·3²) = 1/144; α = 10, β = 40.
    Σ(a_C - a_G)² = 0.5² + 0.5² + 0.5² = 0.75 → J_content = 0.75/24 = 0.03125.
    𝒢(S) = [[2, 0.5], [0.5, 0.5]], 𝒢(G) = [[0.5, 0.5], [0.5, 1.25]] → Σ = 1.5² + 0.75² = 2.8125,
    J_style = 2.8125/144 = 0.01953125, J = 0.3125 + 0.78125 = 1.09375.
    raw_activations_style: Σ(a_S - a_G)² = 0.25 + 0.25 + 1 + 0.25 + 0.25 + 0.25 = 2.25 → 2.25/144 = 0.015625,
        J = 0.3125 + 40·0.015625 = 0.9375.
    missing_normalisation: 0.75 and 2.8125, J = 7.5 + 112.5 = 120.
    content_style_swapped: J_content = 2.25/24 = 0.09375; 𝒢(C) = [[0.5, 0], [0, 1]],
        𝒢(C) - 𝒢(G) = [[0, -0.5], [-0.5, -0.25]] → 0.5625/144 = 0.00390625; J = 0.9375 + 0.15625 = 1.09375.
    style_sign: J = 0.3125 - 0.78125 = -0.46875.
    content_style_swapped's J, 1.09375, is the correct J: left out of the variant.
    """
    from wsgen.problems.style_transfer_loss import RAW, SIGN, SWAPPED
    variant = canonical(problems, "style_transfer_loss")
    assert variant.coinciding == (("content_style_swapped", "J"),)
    ms = mistakes_of(variant)
    expected = {
        "raw_activations_style": {"formula": RAW, "J_style": R("0.015625"), "J": R("0.9375")},
        "missing_normalisation": {"J_content": R("0.75"), "J_style": R("2.8125"), "J": R(120)},
        "content_style_swapped": {"formula": SWAPPED, "J_content": R("0.09375"),
                                  "J_style": R("0.00390625")},
        "style_sign": {"formula": SIGN, "J": R("-0.46875")},
    }
    assert set(ms) == set(expected)
    for mid, values in expected.items():
        assert dict(ms[mid].values) == values, mid


# --- every registered problem, many seeds ----------------------------------------------------

def _differs(mistaken, correct) -> bool:
    if isinstance(correct, (str, Expression)):         # a choice option (TeX), a formula
        return mistaken != correct
    a = sp.flatten([float_value(mistaken)])
    b = sp.flatten([float_value(correct)])
    return len(a) != len(b) or any(abs(x - y) > 1e-9 * max(1.0, abs(y)) for x, y in zip(a, b))


def _same_kind(answer, value) -> bool:
    if answer.kind == "formula":
        return isinstance(value, Expression) and value.symbols == answer.value.symbols
    if answer.kind == "choice":
        return value in answer.choices
    if answer.kind == "vector":
        return isinstance(value, Vector) and len(value) == len(answer.value)
    if answer.kind == "matrix":
        return isinstance(value, sp.ImmutableMatrix) and value.shape == answer.value.shape
    if answer.kind == "number":
        return not isinstance(value, (tuple, sp.MatrixBase)) and sp.sympify(value).is_real is not False
    return isinstance(value, tuple) and len(value) == len(answer.value)


def _exact(value) -> bool:
    if isinstance(value, (str, Expression)):
        return True
    items = value if isinstance(value, (tuple, sp.MatrixBase)) else [value]
    return all(not sp.sympify(_plain(v)).atoms(sp.Float) for v in items)


SEEDS = range(50)


def test_every_problem_has_mistakes(problems):
    for pid, p in problems.items():
        assert draw_variant(p, p.Options(), 0).mistakes, f"{pid} declares no mistakes"


@pytest.mark.parametrize("pid", ["activations", "logistic_regression", "matrix_backprop",
                                 "regularization", "style_transfer_loss", "triplet_loss"])
def test_required_problems_are_registered(problems, pid):
    assert pid in problems


@pytest.mark.slow
def test_mistakes_over_seeds(problems):
    for pid, p in problems.items():
        seen, differing = {}, {}
        for seed in SEEDS:
            v = draw_variant(p, p.Options(), seed)
            answers = {a.name: a for a in v.solution.answers}
            for m in v.mistakes:
                assert m.values, f"{pid} seed {seed}: mistake {m.id} gives no values"
                assert m.why and "\n" not in m.why and m.label, f"{pid}: {m.id} wording"
                for name, value in m.values.items():
                    assert name in answers, f"{pid} seed {seed}: {m.id} names no answer {name}"
                    assert _same_kind(answers[name], value), \
                        f"{pid} seed {seed}: {m.id}.{name} is not shaped like the answer"
                    assert _exact(value), f"{pid} seed {seed}: {m.id}.{name} is not exact"
                seen[m.id] = seen.get(m.id, 0) + 1
                if any(_differs(value, answers[name].value) for name, value in m.values.items()):
                    differing[m.id] = differing.get(m.id, 0) + 1
        for mid, count in seen.items():
            assert differing.get(mid, 0) > count / 2, \
                f"{pid}: mistake {mid} matches the key in {count - differing.get(mid, 0)} of {count} seeds"
