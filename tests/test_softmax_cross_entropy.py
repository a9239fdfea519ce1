"""softmax_cross_entropy: the canonical answers and mistakes against a hand computation, random
variants against plain Python floats, the SymPy derivations, the options and the properties."""
import dataclasses
import math

import pytest
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_catches, assert_check_ignores_the_work, \
    assert_corrupted_formula_fails, assert_every_formula_derived, assert_no_canonical, drawn, \
    num, same

from wsgen import Vector, draw_variant
from wsgen.quality.properties import property_failures

ID = "softmax_cross_entropy"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational


# --- the canonical variant, by hand --------------------------------------------------------
#
# z = (2, 1, 0.1), y = (0, 1, 0): the true class is c = 2, K = 3.
#   e^2 = 7.389056, e^1 = 2.718282, e^0.1 = 1.105171
#   S = 7.389056 + 2.718282 + 1.105171 = 11.212509
#   p = (7.389056 / 11.212509, 2.718282 / 11.212509, 1.105171 / 11.212509)
#     = (0.659001, 0.242433, 0.098566)            (sum 1.000000)
#   L = -log p_2 = -log 0.242433 = 1.417030
#     = log S - z_2 = log 11.212509 - 1 = 2.417030 - 1 = 1.417030   (log-sum-exp form)
#   stable: m = 2, L = 2 + log(1 + e^-1 + e^-1.9) - 1 = 1 + log(1 + 0.367879 + 0.149569)
#     = 1 + log 1.517448 = 1 + 0.417030 = 1.417030
#   dL/dz = p - y = (0.659001, 0.242433 - 1, 0.098566) = (0.659001, -0.757567, 0.098566)
#   (sum 0.659001 - 0.757567 + 0.098566 = 0)
#
# The mistakes:
#   gradient_without_y:     dL/dz = p = (0.659001, 0.242433, 0.098566)
#   jacobian_diagonal_only: dL/dz_k = (-y_k / p_k) · p_k (1 - p_k) = -y_k (1 - p_k)
#                           = (0, -(1 - 0.242433), 0) = (0, -0.757567, 0)
#   log_of_logit:           L = -z_2 = -1
#   gradient_sign:          y - p = (-0.659001, 0.757567, -0.098566)

P_HAND = (0.659001, 0.242433, 0.098566)
L_HAND = 1.417030
G_HAND = (0.659001, -0.757567, 0.098566)


def test_canonical_answers():
    v = canonical()
    s = v.solution
    assert tuple(v.params.z) == (2, 1, R(1, 10)) and tuple(v.params.y) == (0, 1, 0)
    assert [num(e) for e in s.answer("p")] == pytest.approx(P_HAND, abs=1e-6)
    assert num(s.answer("L")) == pytest.approx(L_HAND, abs=1e-6)
    assert [num(e) for e in s.answer("dL_dz")] == pytest.approx(G_HAND, abs=1e-6)
    # exactly the closed forms of the hand computation
    S = sp.exp(2) + sp.E + sp.exp(R(1, 10))
    assert isinstance(s.answer("p"), Vector) and isinstance(s.answer("dL_dz"), Vector)
    assert all(same(a, b) for a, b in zip(s.answer("p"), (sp.exp(2) / S, sp.E / S, sp.exp(R(1, 10)) / S)))
    assert same(s.answer("L"), sp.log(S) - 1)
    assert same(s.answer("L"), -sp.log(sp.E / S))
    assert all(same(a, b) for a, b in zip(s.answer("dL_dz"), (sp.exp(2) / S, sp.E / S - 1, sp.exp(R(1, 10)) / S)))
    assert {a.name: a.part for a in s.answers} == {"p": "(a)", "L": "(b)", "dL_dz_formula": "(c)",
                                                   "dL_dz": "(d)"}
    assert s.answer("dL_dz_formula").text == "p - y"         # ∂L/∂z = p − y for one-hot y


def test_canonical_mistakes():
    ms = {m.id: m for m in canonical().mistakes}
    assert set(ms) == {"gradient_without_y", "jacobian_diagonal_only", "log_of_logit", "gradient_sign"}
    expected = {"gradient_without_y": ("dL_dz", P_HAND),
                "jacobian_diagonal_only": ("dL_dz", (0, -0.757567, 0)),
                "log_of_logit": ("L", -1),
                "gradient_sign": ("dL_dz", (-0.659001, 0.757567, -0.098566))}
    # the gradient's formula as each mistake writes it (by hand: y dropped, only the
    # diagonal of the Jacobian, the sign flipped); log_of_logit changes only L
    assert {mid: m.values["dL_dz_formula"].text for mid, m in ms.items() if "dL_dz_formula" in m.values} \
        == {"gradient_without_y": "p", "jacobian_diagonal_only": "-y .* (1 - p)", "gradient_sign": "y - p"}
    for mid, (name, values) in expected.items():
        assert set(ms[mid].values) - {"dL_dz_formula"} == {name}, mid
        got = ms[mid].values[name]
        if name == "L":
            assert got == -1
        else:
            assert isinstance(got, Vector) and len(got) == 3
            assert [num(e) for e in got] == pytest.approx(values, abs=1e-6), mid
    # the zero entries of the diagonal-only gradient are exact zeros, the middle p_2 - 1
    diag = ms["jacobian_diagonal_only"].values["dL_dz"]
    S = sp.exp(2) + sp.E + sp.exp(R(1, 10))
    assert diag[0] == 0 and diag[2] == 0 and same(diag[1], sp.E / S - 1)


# --- random variants against plain Python floats -------------------------------------------

SETTINGS = [{}, {"K": 2}, {"K": 6}, {"K": 6, "max_abs": 10.0, "places": 2},
            {"K": 4, "max_abs": 0.1}, {"K": 5, "digits": 8}]


@pytest.mark.parametrize("change", SETTINGS)
@pytest.mark.slow
def test_random_variants(change):
    for v in drawn(problem(), range(15), **change):
        options, seed = v.options, v.seed
        z = [float(t) for t in v.params.z]
        y = list(v.params.y)
        K = options.K
        assert len(z) == K and sorted(y) == [0] * (K - 1) + [1]
        assert all(abs(t) <= options.max_abs for t in z)
        assert all(round(t * 10 ** options.places) == t * 10 ** options.places for t in v.params.z)
        c = y.index(1)
        top = max(z)
        w = [math.exp(t - top) for t in z]
        probs = [t / sum(w) for t in w]
        loss = top + math.log(sum(w)) - z[c]
        s = v.solution
        assert [num(e) for e in s.answer("p")] == pytest.approx(probs, rel=1e-12, abs=1e-15)
        assert num(s.answer("L")) == pytest.approx(loss, rel=1e-9, abs=1e-12)
        grad = [q - t for q, t in zip(probs, y)]
        assert [num(e) for e in s.answer("dL_dz")] == pytest.approx(grad, abs=1e-12)
        assert abs(sum(num(e) for e in s.answer("dL_dz"))) < 1e-12
        ms = {m.id: m.values for m in v.mistakes}
        assert [num(e) for e in ms["gradient_without_y"]["dL_dz"]] == pytest.approx(probs, abs=1e-12)
        assert [num(e) for e in ms["gradient_sign"]["dL_dz"]] == pytest.approx([-g for g in grad], abs=1e-12)
        assert [num(e) for e in ms["jacobian_diagonal_only"]["dL_dz"]] == pytest.approx(
            [probs[c] - 1 if k == c else 0 for k in range(K)], abs=1e-12)
        assert ms["log_of_logit"]["L"] == -v.params.z[c]


# --- derivations, checks, options, properties ----------------------------------------------

@pytest.mark.parametrize("K", [2, 3, 4, 5, 6])
def test_every_declared_formula_is_derived(fresh_derivations, K):
    p = problem()
    assert_every_formula_derived(p, module(), dataclasses.replace(p.Options(), K=K))


@pytest.mark.parametrize("attribute,wrong,name", [
    ("softmax_jacobian",
     lambda p: sp.Matrix(len(p), len(p), lambda i, j: p[i] * (1 - p[i]) if i == j else 0),
     "J = diag(p) - pp^T"),
    ("ce_grad", lambda p, y: list(p), "dL/dz = p - y"),
    ("lse_loss", lambda z, y: -sp.Add(*[yk * zk for yk, zk in zip(y, z)]),
     "L = logsumexp(z) - y.z"),
    ("loss_grad_p", lambda y, p: sp.Matrix([-yk * pk for yk, pk in zip(y, p)]), "dL/dp"),
])
def test_a_corrupted_formula_fails_the_draw(fresh_derivations, monkeypatch, attribute, wrong, name):
    monkeypatch.setattr(module(), attribute, wrong)
    assert_corrupted_formula_fails(problem(), problem().Options(), name)


def test_check_catches_a_wrong_digit():
    assert_check_catches(problem(), {"dL_dz": R(1, 10 ** 6)})


def test_check_does_not_read_the_work():
    p = problem()
    assert_check_ignores_the_work(p, dataclasses.replace(p.Options(), K=5, places=2))


def test_options():
    p = problem()
    assert_no_canonical(p, {"K": 4})
    with pytest.raises(ValueError, match="more decimals"):
        p.validate_options(dataclasses.replace(p.Options(), max_abs=0.15, places=1))
    p.validate_options(dataclasses.replace(p.Options(), max_abs=0.15, places=2))


def test_smallest_grid_draws():
    """K = 2, logits in {-0.1, 0, 0.1}: equal logits are redrawn, every draw checks."""
    p = problem()
    options = dataclasses.replace(p.Options(), K=2, max_abs=0.1, places=1)
    for seed in range(30):
        z = draw_variant(p, options, seed).params.z
        assert z[0] != z[1]


@pytest.mark.slow
def test_properties():
    assert property_failures(problem(), problem().Options(), range(100)) == []
