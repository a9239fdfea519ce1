"""batch_norm: the canonical variant and its mistakes against hand computations, many seeds
against plain Fractions, the independent check, the options, the SymPy derivations and the
bank's properties."""
from fractions import Fraction

import pytest
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_catches, assert_corrupted_formula_fails, \
    assert_every_formula_derived, assert_same_seed_same_parameters, plain, same

from wsgen import NoCanonical, Vector, draw_variant
from wsgen.quality.properties import property_failures

ID = "batch_norm"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational
F = Fraction


def assert_vector(value, expected):
    assert isinstance(value, Vector) and len(value) == len(expected), (value, expected)
    assert all(same(v, e) for v, e in zip(value, expected)), (value, expected)


# --- the canonical variant, by hand ------------------------------------------------------------

def test_canonical_by_hand():
    """x = (-0.4, 0, 0.2, 1), γ = 2, β = 0.5, ε = 0.1, dy = (0.1, -0.2, 0.3, 0.4), m = 4:
    μ = (-0.4 + 0 + 0.2 + 1)/4 = 0.8/4 = 0.2
    x - μ = (-0.6, -0.2, 0, 0.8); squares 0.36, 0.04, 0, 0.64, sum 1.04; σ² = 1.04/4 = 0.26
    √(σ² + ε) = √0.36 = 0.6
    x̂ = (-0.6, -0.2, 0, 0.8)/0.6 = (-1, -1/3, 0, 4/3)
    y = 2x̂ + 0.5 = (-1.5, -2/3 + 1/2, 0.5, 8/3 + 1/2) = (-1.5, -1/6, 0.5, 19/6)
    ∂L/∂β = 0.1 - 0.2 + 0.3 + 0.4 = 0.6
    ∂L/∂γ = 0.1·(-1) + (-0.2)(-1/3) + 0.3·0 + 0.4·(4/3) = -0.1 + 1/15 + 8/15 = -0.1 + 0.6 = 0.5
    ∂L/∂xᵢ = γ/(m·0.6) (4dyᵢ - 0.6 - 0.5x̂ᵢ) = (5/6)(4dyᵢ - 0.6 - 0.5x̂ᵢ):
      i = 1: 0.4 - 0.6 + 0.5 = 0.3            -> 0.25
      i = 2: -0.8 - 0.6 + 1/6 = -37/30        -> -37/36
      i = 3: 1.2 - 0.6 - 0 = 0.6              -> 0.5
      i = 4: 1.6 - 0.6 - 2/3 = 1/3            -> 5/18
    (they sum to 9/36 - 37/36 + 18/36 + 10/36 = 0, as ∂L/∂x of batch norm must)
    The graph's intermediates: ∂L/∂x̂ = 2dy = (0.2, -0.4, 0.6, 0.8);
    ∂L/∂σ² = -½·0.36^(-3/2)·(0.2·(-0.6) + (-0.4)(-0.2) + 0 + 0.8·0.8) = -½·(1/0.216)·0.6 = -25/18;
    ∂L/∂μ = -(0.2 - 0.4 + 0.6 + 0.8)/0.6 = -2.
    """
    s = canonical().solution
    assert s.answer("mu") == R("0.2")
    assert s.answer("var") == R("0.26")
    assert tuple(s.answer("x_hat")) == (-1, R(-1, 3), 0, R(4, 3))
    assert tuple(s.answer("y")) == (R("-1.5"), R(-1, 6), R("0.5"), R(19, 6))
    assert s.answer("dgamma") == R("0.5")
    assert s.answer("dbeta") == R("0.6")
    assert tuple(s.answer("dx")) == (R("0.25"), R(-37, 36), R("0.5"), R(5, 18))
    assert sum(s.answer("dx")) == 0


def test_canonical_key_shows_the_graph():
    from wsgen.quality.properties import render_one
    key = render_one(canonical(), "key")
    assert r"\sqrt{\sigma^2 + \varepsilon} = \sqrt{0.26 + 0.1} = \sqrt{0.36} = 0.6" in key
    assert r"\frac{\partial L}{\partial \sigma^2} = -\frac{1}{2}\,(0.36)^{-3/2}" in key
    assert r"- \frac{25}{18}" in key                     # ∂L/∂σ², by hand above
    assert r"\frac{\partial L}{\partial \mu} = -\frac{1.2}{0.6} = -2" in key
    assert r"2 \left(\sigma^{2} + \varepsilon\right) \sqrt{\sigma^{2} + \varepsilon}" in key


def test_canonical_key_writes_the_closed_form_by_entry():
    """The numbers above: γ/(m√(σ² + ε)) = 2/(4·0.6) = 5/6, and Σ dyⱼ(xⱼ − μ)/(σ² + ε) =
    0.3/0.36 = 5/6; entry 1's bracket 4·0.1 − 0.6 − (−0.6)·5/6 = 0.4 − 0.6 + 0.5 = 0.3, so
    ∂L/∂x₁ = 5/6 · 0.3 = 0.25; x̂₂ = (0 − 0.2)/0.6 = −1/3 and y₂ = 2·(−1/3) + 0.5 = −1/6."""
    from wsgen.quality.properties import render_one
    key = render_one(canonical(), "key")
    assert (r"\frac{\partial L}{\partial x_{1}} = \frac{5}{6} \cdot \bigl(4 \cdot 0.1 - 0.6 - "
            r"\left(-0.6\right) \cdot \frac{5}{6}\bigr) = \frac{5}{6} \cdot 0.3 = 0.25") in key
    assert r"\frac{\gamma}{m\sqrt{\sigma^2 + \varepsilon}} = \frac{5}{6} \approx 0.8333" in key
    assert r"\hat x_{2} = \frac{0 - 0.2}{0.6} = - \frac{1}{3} \approx -0.3333" in key
    assert r"y_{2} = 2 \cdot \hat x_{2} + 0.5 = - \frac{1}{6} \approx -0.1667" in key


def test_canonical_mistakes_by_hand():
    """Canonical numbers as above; Σ dyᵢ(xᵢ - μ) = -0.06 + 0.04 + 0 + 0.32 = 0.3.
    unbiased_variance: σ² = 1.04/3 = 26/75; σ² + ε = 26/75 + 1/10 = 67/150;
      x̂ = (x - μ)/√(67/150), y = 2x̂ + 0.5, ∂L/∂γ = 0.3/√(67/150),
      ∂L/∂xᵢ = 2/(4√(67/150)) (4dyᵢ - 0.6 - (xᵢ - μ)·0.3/(67/150)), 0.3/(67/150) = 45/67:
      i = 1: 0.4 - 0.6 + 0.6·45/67 = 68/335 (≈ 0.203, so ∂L/∂x₁ ≈ 0.1519).
    mean_treated_constant: γ dy/0.6 = (10/3)dy = (1/3, -2/3, 1, 4/3).
    variance_treated_constant: (10/3)(dy - 0.15) = (10/3)(-0.05, -0.35, 0.15, 0.25)
      = (-1/6, -7/6, 1/2, 5/6).
    missing_eps: σ = √0.26; x̂ = (x - μ)/√0.26, ∂L/∂γ = 0.3/√0.26,
      ∂L/∂xᵢ = 2/(4√0.26) (4dyᵢ - 0.6 - (xᵢ - μ)·0.3/0.26), 0.3/0.26 = 15/13.
    """
    v = canonical()
    ms = {m.id: m for m in v.mistakes}
    assert set(ms) == {"unbiased_variance", "mean_treated_constant", "variance_treated_constant",
                       "missing_eps"}
    dev = [R("-0.6"), R("-0.2"), R(0), R("0.8")]
    dy = [R("0.1"), R("-0.2"), R("0.3"), R("0.4")]

    def carried(s, c):
        root = sp.sqrt(s)
        return ([d / root for d in dev], [2 * d / root + R("0.5") for d in dev], R("0.3") / root,
                [2 / (4 * root) * (4 * y - R("0.6") - d * c) for y, d in zip(dy, dev)])

    u = ms["unbiased_variance"].values
    assert set(u) == {"var", "x_hat", "y", "dgamma", "dx"}
    assert u["var"] == R(26, 75)
    xh, y, dg, dx = carried(R(67, 150), R(45, 67))
    assert R("0.3") / R(67, 150) == R(45, 67)
    assert 4 * R("0.1") - R("0.6") + R("0.6") * R(45, 67) == R(68, 335)
    assert_vector(u["x_hat"], xh)
    assert_vector(u["y"], y)
    assert same(u["dgamma"], dg)
    assert_vector(u["dx"], dx)
    assert abs(float(plain(u["dx"][0])) - 0.1519) < 1e-4

    assert set(ms["mean_treated_constant"].values) == {"dx"}
    assert_vector(ms["mean_treated_constant"].values["dx"], [R(1, 3), R(-2, 3), 1, R(4, 3)])
    assert set(ms["variance_treated_constant"].values) == {"dx"}
    assert_vector(ms["variance_treated_constant"].values["dx"],
                  [R(-1, 6), R(-7, 6), R(1, 2), R(5, 6)])

    e = ms["missing_eps"].values
    assert set(e) == {"x_hat", "y", "dgamma", "dx"}
    xh, y, dg, dx = carried(R("0.26"), R(15, 13))
    assert_vector(e["x_hat"], xh)
    assert_vector(e["y"], y)
    assert same(e["dgamma"], dg)
    assert_vector(e["dx"], dx)


def test_missing_eps_only_when_eps_is_positive():
    p = problem()
    for seed in range(10):
        ids = {m.id for m in draw_variant(p, p.Options(m=3, eps=0.0), seed).mistakes}
        assert "missing_eps" not in ids and "unbiased_variance" in ids


# --- many seeds against plain Fractions ---------------------------------------------------------

@pytest.mark.parametrize("m,eps", [(4, 0.1), (2, 0.01), (3, 0.0), (6, 1.0), (5, 0.25)])
@pytest.mark.slow
def test_many_seeds_exact(m, eps):
    """μ, σ², ∂L/∂β exactly; x̂ᵢ² = (xᵢ - μ)²/s with the sign of xᵢ - μ; ∂L/∂γ·√s and
    ∂L/∂xᵢ·√s (rational) against Fractions; y = γx̂ + β."""
    p = problem()
    options = p.Options(m=m, eps=eps)
    for seed in range(40):
        v = draw_variant(p, options, seed)
        x = [F(str(e)) for e in v.params.x]
        dy = [F(str(e)) for e in v.params.dy]
        gamma, beta = F(str(v.params.gamma)), F(str(v.params.beta))
        assert len(x) == m and v.params.eps == R(str(eps))
        mu = sum(x) / m
        dev = [xi - mu for xi in x]
        var = sum(d * d for d in dev) / m
        s = var + F(str(eps))
        root = sp.sqrt(R(s.numerator, s.denominator))
        a = v.solution
        assert a.answer("mu") == R(mu.numerator, mu.denominator)
        assert a.answer("var") == R(var.numerator, var.denominator)
        assert a.answer("dbeta") == R(str(sum(dy)))
        for xh, d, yi in zip(a.answer("x_hat"), dev, a.answer("y")):
            assert sp.sympify(xh) ** 2 == R(d * d / s) and (xh > 0) == (d > 0)
            assert sp.expand(yi - (R(gamma) * xh + R(beta))) == 0
        dot = sum(b * d for b, d in zip(dy, dev))
        assert sp.expand(a.answer("dgamma") * root) == R(dot)
        expected = [gamma / m * (m * b - sum(dy) - d * dot / s) for b, d in zip(dy, dev)]
        assert [sp.expand(e * root) for e in a.answer("dx")] == [R(e) for e in expected]
        assert any(e != 0 for e in expected)                     # degenerate draws redrawn
        assert all(abs(e) <= 2 for e in x) and all(0 < abs(e) <= 1 for e in dy)
        assert R("0.5") <= v.params.gamma <= 2 and abs(v.params.beta) <= 1


def test_same_seed_same_parameters():
    assert_same_seed_same_parameters(problem(), 7, other=8)


# --- the independent check, the options ---------------------------------------------------------

@pytest.mark.parametrize("name,change", [("dx", R(1, 1000)), ("x_hat", R(1, 10 ** 6)),
                                         ("dgamma", R(1, 1000))])
def test_check_rejects_a_wrong_value(name, change):
    assert_check_catches(problem(), {name: change})


def test_options_are_validated():
    from wsgen.exam.load import make_options
    p = problem()
    with pytest.raises(ValueError, match="m must be"):
        make_options(p, {"m": 7})
    with pytest.raises(ValueError, match="eps = 0"):
        p.validate_options(p.Options(m=2, eps=0.0))
    with pytest.raises(ValueError, match="more decimals"):
        p.validate_options(p.Options(eps=0.0015))
    p.validate_options(p.Options(m=3, eps=0.0))
    p.validate_options(p.Options(m=2, eps=0.001))


def test_no_canonical_at_other_settings():
    p = problem()
    with pytest.raises(NoCanonical):
        p.canonical(p.Options(m=3))
    with pytest.raises(NoCanonical):
        p.canonical(p.Options(eps=0.01))


# --- SymPy's derivations -------------------------------------------------------------------------

@pytest.mark.parametrize("m", [2, 4, 6])
def test_solving_derives_every_declared_formula(fresh_derivations, m):
    assert_every_formula_derived(problem(), module(), problem().Options(m=m))


@pytest.mark.parametrize("attribute,wrong,name", [
    ("closed_dx", lambda gamma, dy, x_hat, inv: [gamma * inv * d for d in dy],
     "∂L/∂x (closed form)"),
    ("grad_x", lambda g, dev, inv, dvar, dmu: [gi * inv + dmu / len(g) for gi in g],
     "∂L/∂x (graph)"),
    ("grad_var", lambda g, dev, inv: -(inv ** 3) * sum(gi * di for gi, di in zip(g, dev)),
     "∂L/∂σ²"),
])
def test_a_corrupted_formula_fails_the_draw(fresh_derivations, monkeypatch, attribute, wrong, name):
    monkeypatch.setattr(module(), attribute, wrong)
    assert_corrupted_formula_fails(problem(), problem().Options(m=3), name)


# --- the bank's properties -----------------------------------------------------------------------

@pytest.mark.slow
def test_properties_hold():
    assert property_failures(problem(), problem().Options(), range(100)) == []
