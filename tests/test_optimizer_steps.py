"""optimizer_steps: the canonical key and its mistakes by hand, many seeds against plain Python,
the formulas SymPy derives, the independent check, and the bank's properties."""
import math
from fractions import Fraction

import pytest
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_catches, assert_every_formula_derived, \
    assert_same_seed_same_parameters, same

from wsgen import draw_variant
from wsgen.quality.properties import property_failures

ID = "optimizer_steps"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational
EPS = R(1, 10 ** 8)          # the default ε, 1e-8


def assert_rows(value, rows):
    assert isinstance(value, sp.ImmutableMatrix), type(value)
    assert same(value, sp.Matrix(rows)), (value, rows)


# --- the canonical variant, by hand ----------------------------------------------------------
# w0 = (0.5, -1), g1 = (0.2, -0.4), g2 = (0.4, 0.3); α = 0.01, β = β1 = 0.9, β2 = 0.99, ε = 1e-8.
#
# SGD: w1 = (0.5 - 0.01·0.2, -1 + 0.01·0.4) = (0.498, -0.996)
#      w2 = (0.498 - 0.004, -0.996 - 0.003) = (0.494, -0.999)
# Momentum: v1 = 0.1·g1 = (0.02, -0.04); w1 = (0.5 - 0.0002, -1 + 0.0004) = (0.4998, -0.9996)
#      v2 = 0.9·v1 + 0.1·g2 = (0.018 + 0.04, -0.036 + 0.03) = (0.058, -0.006)
#      w2 = (0.4998 - 0.00058, -0.9996 + 0.00006) = (0.49922, -0.99954)
# RMSprop: s1 = 0.01·g1² = (0.0004, 0.0016), √s1 = (0.02, 0.04)
#      w1 = (0.5 - 0.002/(0.02 + ε), -1 + 0.004/(0.04 + ε)) ≈ (0.4, -0.9)
#      s2 = 0.99·s1 + 0.01·g2² = (0.000396 + 0.0016, 0.001584 + 0.0009) = (0.001996, 0.002484)
#      w2 = w1 - (0.004/(√0.001996 + ε), 0.003/(√0.002484 + ε))
#         ≈ (0.4 - 0.004/0.044677, -0.9 - 0.003/0.049840) ≈ (0.3105, -0.9602)
# Adam: v1 = (0.02, -0.04), s1 = (0.0004, 0.0016); 1 - β1 = 0.1, 1 - β2 = 0.01,
#      so v̂1 = g1 = (0.2, -0.4) and ŝ1 = g1² = (0.04, 0.16), √ŝ1 = (0.2, 0.4)
#      w1 = (0.5 - 0.002/(0.2 + ε), -1 + 0.004/(0.4 + ε)) ≈ (0.49, -0.99)
#      v2 = (0.058, -0.006), s2 = (0.001996, 0.002484); 1 - 0.9² = 0.19, 1 - 0.99² = 0.0199
#      v̂2 = (0.058/0.19, -0.006/0.19) = (29/95, -3/95)
#      ŝ2 = (0.001996/0.0199, 0.002484/0.0199) = (499/4975, 621/4975)
#      w2 = w1 - 0.01·v̂2/(√ŝ2 + ε) ≈ (0.49 - 0.0030526/0.31670, -0.99 + 0.00031579/0.35330)
#         ≈ (0.4804, -0.9891)
W1_RMS = [R("0.5") - R("0.002") / (R("0.02") + EPS), -1 + R("0.004") / (R("0.04") + EPS)]
W2_RMS = [W1_RMS[0] - R("0.004") / (sp.sqrt(R("0.001996")) + EPS),
          W1_RMS[1] - R("0.003") / (sp.sqrt(R("0.002484")) + EPS)]
W1_ADAM = [R("0.5") - R("0.002") / (R("0.2") + EPS), -1 + R("0.004") / (R("0.4") + EPS)]
W2_ADAM = [W1_ADAM[0] - R(1, 100) * R(29, 95) / (sp.sqrt(R(499, 4975)) + EPS),
           W1_ADAM[1] + R(1, 100) * R(3, 95) / (sp.sqrt(R(621, 4975)) + EPS)]


def test_canonical_by_hand():
    v = canonical()
    assert v.params.eps == EPS
    s = v.solution
    assert_rows(s.answer("sgd"), [[R("0.498"), R("-0.996")], [R("0.494"), R("-0.999")]])
    assert_rows(s.answer("momentum"), [[R("0.4998"), R("-0.9996")], [R("0.49922"), R("-0.99954")]])
    assert_rows(s.answer("rmsprop"), [W1_RMS, W2_RMS])
    assert_rows(s.answer("adam"), [W1_ADAM, W2_ADAM])
    # the rounded values of the hand computation
    approx = lambda name: [float(e) for e in s.answer(name)]
    assert approx("rmsprop") == pytest.approx([0.4, -0.9, 0.3105, -0.9602], abs=6e-5)
    assert approx("adam") == pytest.approx([0.49, -0.99, 0.4804, -0.9891], abs=6e-5)
    assert {a.name: a.part for a in s.answers} == {"sgd": "(a)", "momentum": "(b)",
                                                   "rmsprop": "(c)", "adam": "(d)"}


def test_canonical_key_writes_the_working():
    """The hand computation above as the key writes it: momentum's second step
    w2 = w1 - 0.01·v2 = (0.4998 - 0.00058, -0.9996 + 0.00006), Adam's bias factors at t = 2
    1 - 0.9² = 0.19 and 1 - 0.99² = 0.0199, and its first v̂1 = v1/0.1 = g1."""
    from wsgen.quality.properties import render_one
    key = render_one(canonical(), "key")
    assert (r"w_{2} = w_{1} - \alpha v_{2} = \begin{bmatrix}0.4998 - 0.01 \cdot 0.058\\"
            r"-0.9996 - 0.01 \cdot \left(-0.006\right)\end{bmatrix} = "
            r"\begin{bmatrix}0.49922\\-0.99954\end{bmatrix}") in key
    assert r"1 - \beta_1^{2} = 0.19,\qquad 1 - \beta_2^{2} = 0.0199" in key
    assert (r"\hat v_{1} = \begin{bmatrix}\frac{0.02}{0.1}\\\frac{-0.04}{0.1}\end{bmatrix} = "
            r"\begin{bmatrix}0.2\\-0.4\end{bmatrix},\qquad \hat s_{1}") in key
    assert r"$v_{2} = \left(1 - \beta\right) \left(g_{2} + g_{1} \beta\right)$" in key


# Mistakes on the canonical variant, by hand:
# adam_no_bias_correction: w1 = w0 - 0.01·v1/(√s1 + ε) = (0.5 - 0.0002/(0.02 + ε), -1 + 0.0004/(0.04 + ε))
#      w2 = w1 - 0.01·v2/(√s2 + ε) = w1 - (0.00058/(√0.001996 + ε), -0.00006/(√0.002484 + ε))
#         ≈ (0.49 - 0.012982, -0.99 + 0.0012039) ≈ (0.4770, -0.9888)
# momentum_pytorch_convention: v1 = g1, w1 = (0.498, -0.996); v2 = 0.9·g1 + g2 = (0.58, -0.06),
#      w2 = (0.498 - 0.0058, -0.996 + 0.0006) = (0.4922, -0.9954)
# rmsprop_eps_inside_sqrt: w1 = (0.5 - 0.002/√(0.0004 + ε), -1 + 0.004/√(0.0016 + ε)),
#      w2 = w1 - (0.004/√(0.001996 + ε), 0.003/√(0.002484 + ε))
# momentum_weights_swapped: v1 = 0.9·g1 = (0.18, -0.36), w1 = (0.4982, -0.9964);
#      v2 = 0.1·v1 + 0.9·g2 = (0.018 + 0.36, -0.036 + 0.27) = (0.378, 0.234),
#      w2 = (0.4982 - 0.00378, -0.9964 - 0.00234) = (0.49442, -0.99874)
def test_canonical_mistakes_by_hand():
    v = canonical()
    ms = {m.id: m for m in problem().mistakes(v.params, v.options, v.solution)}   # as declared
    # ε = 1e-8 inside or outside the root moves no entry by more than the tolerance: in this
    # variant the mistake gives the right values, so it is left out of the variant
    assert ("rmsprop_eps_inside_sqrt", "rmsprop") in v.coinciding
    assert "rmsprop_eps_inside_sqrt" not in {m.id for m in v.mistakes}
    assert set(ms) == {"adam_no_bias_correction", "momentum_pytorch_convention",
                       "rmsprop_eps_inside_sqrt", "momentum_weights_swapped"}
    assert {k: set(m.values) for k, m in ms.items()} == {
        "adam_no_bias_correction": {"adam"}, "momentum_pytorch_convention": {"momentum"},
        "rmsprop_eps_inside_sqrt": {"rmsprop"}, "momentum_weights_swapped": {"momentum"}}
    n1 = [R("0.5") - R("0.0002") / (R("0.02") + EPS), -1 + R("0.0004") / (R("0.04") + EPS)]
    n2 = [n1[0] - R("0.00058") / (sp.sqrt(R("0.001996")) + EPS),
          n1[1] + R("0.00006") / (sp.sqrt(R("0.002484")) + EPS)]
    assert_rows(ms["adam_no_bias_correction"].values["adam"], [n1, n2])
    assert [float(e) for e in n2] == pytest.approx([0.4770, -0.9888], abs=6e-5)
    assert_rows(ms["momentum_pytorch_convention"].values["momentum"],
                [[R("0.498"), R("-0.996")], [R("0.4922"), R("-0.9954")]])
    e1 = [R("0.5") - R("0.002") / sp.sqrt(R("0.0004") + EPS), -1 + R("0.004") / sp.sqrt(R("0.0016") + EPS)]
    e2 = [e1[0] - R("0.004") / sp.sqrt(R("0.001996") + EPS), e1[1] - R("0.003") / sp.sqrt(R("0.002484") + EPS)]
    assert_rows(ms["rmsprop_eps_inside_sqrt"].values["rmsprop"], [e1, e2])
    assert_rows(ms["momentum_weights_swapped"].values["momentum"],
                [[R("0.4982"), R("-0.9964")], [R("0.49442"), R("-0.99874")]])


def test_eps_zero():
    """ε = 0: ε inside or outside the root is the same, so that mistake is not declared; and
    Adam's first step is exactly α against the sign of g1: w1 = (0.5 - 0.01, -1 + 0.01)."""
    p = problem()
    v = draw_variant(p, p.Options(eps=0.0), None)
    assert "rmsprop_eps_inside_sqrt" not in {m.id for m in v.mistakes}
    assert list(v.solution.answer("adam").row(0)) == [R("0.49"), R("-0.99")]
    # RMSprop's first step with √s1 = 0.1·|g1|: 0.01·g1/(0.1·|g1|) = 0.1·sign(g1)
    assert list(v.solution.answer("rmsprop").row(0)) == [R("0.4"), R("-0.9")]


# --- many seeds against a plain implementation -----------------------------------------------

def plain(params, T):
    """The four rules in Fractions (SGD, momentum) and floats with math.sqrt (RMSprop, Adam)."""
    F = lambda x: Fraction(int(sp.Rational(x).p), int(sp.Rational(x).q))
    G = [[F(x) for x in row] for row in params.grads.tolist()]
    w0 = [F(x) for x in params.w0]
    a, b, b1, b2, eps = (F(params.alpha), F(params.beta), F(params.beta1), F(params.beta2),
                         F(params.eps))
    out = {k: [] for k in ("sgd", "momentum", "rmsprop", "adam")}
    w = list(w0)
    for g in G:
        w = [wi - a * gi for wi, gi in zip(w, g)]
        out["sgd"].append(w)
    w, v = list(w0), [Fraction(0)] * len(w0)
    for g in G:
        v = [b * vi + (1 - b) * gi for vi, gi in zip(v, g)]
        w = [wi - a * vi for wi, vi in zip(w, v)]
        out["momentum"].append(w)
    w, s = [float(x) for x in w0], [Fraction(0)] * len(w0)
    for g in G:
        s = [b2 * si + (1 - b2) * gi * gi for si, gi in zip(s, g)]
        w = [wi - float(a * gi) / (math.sqrt(si) + float(eps)) for wi, gi, si in zip(w, g, s)]
        out["rmsprop"].append(w)
    w, v, s = [float(x) for x in w0], [Fraction(0)] * len(w0), [Fraction(0)] * len(w0)
    for t, g in enumerate(G, start=1):
        v = [b1 * vi + (1 - b1) * gi for vi, gi in zip(v, g)]
        s = [b2 * si + (1 - b2) * gi * gi for si, gi in zip(s, g)]
        w = [wi - float(a * vi / (1 - b1 ** t)) / (math.sqrt(si / (1 - b2 ** t)) + float(eps))
             for wi, vi, si in zip(w, v, s)]
        out["adam"].append(w)
    return out


@pytest.mark.parametrize("d,T,eps", [(2, 2, 1e-8), (1, 3, 1e-8), (3, 2, 0.0), (3, 3, 0.1)])
@pytest.mark.slow
def test_seeds_agree_with_plain_python(d, T, eps):
    p = problem()
    options = p.Options(d=d, T=T, eps=eps)
    for seed in range(25):
        v = draw_variant(p, options, seed)
        assert v.params.grads.shape == (T, d) and len(v.params.w0) == d
        assert all(g != 0 for g in v.params.grads)
        expected = plain(v.params, T)
        s = v.solution
        for name in ("sgd", "momentum"):
            got = s.answer(name)
            assert got.shape == (T, d)
            assert [[Fraction(int(x.p), int(x.q)) for x in row] for row in got.tolist()] == expected[name]
        for name in ("rmsprop", "adam"):
            got = s.answer(name)
            assert got.shape == (T, d)
            assert [float(x) for x in got] == pytest.approx(
                [x for row in expected[name] for x in row], rel=1e-12, abs=1e-12)


def test_same_seed_same_parameters():
    assert_same_seed_same_parameters(problem(), 7, other=8)


def test_mistakes_differ_from_the_key_and_are_exact():
    p = problem()
    for seed in range(30):
        v = draw_variant(p, p.Options(d=1, T=3), seed)
        answers = {a.name: a.value for a in v.solution.answers}
        for m in v.mistakes:
            for name, value in m.values.items():
                assert isinstance(value, sp.ImmutableMatrix) and value.shape == answers[name].shape
                assert not any(e.atoms(sp.Float) for e in value)
                assert any(abs(float(a) - float(b)) > 1e-12 for a, b in zip(value, answers[name]))


# --- formulas, check, options, properties ----------------------------------------------------

@pytest.mark.parametrize("T", [2, 3])
def test_formulas_derived_by_sympy(T):
    assert_every_formula_derived(problem(), module(), problem().Options(T=T))


def test_check_rejects_a_wrong_entry():
    names = ("sgd", "momentum", "rmsprop", "adam")
    # (seed None: the canonical variant)
    assert_check_catches(problem(), dict.fromkeys(names, R(1, 10 ** 6)), seed=None, at=(1, 0))


def test_options():
    from wsgen import NoCanonical
    from wsgen.exam.load import make_options
    p = problem()
    with pytest.raises(NoCanonical):
        p.canonical(p.Options(d=3))
    with pytest.raises(ValueError):
        make_options(p, {"T": 4})
    with pytest.raises(ValueError):
        make_options(p, {"d": 0})
    with pytest.raises(ValueError, match="eps"):
        p.validate_options(p.Options(eps=1e-13))


@pytest.mark.slow
def test_properties():
    assert property_failures(problem(), problem().Options(), range(100)) == []
