"""rnn_step: the canonical answers and mistakes against a hand computation, random variants
against plain Python floats, the SymPy derivations, the options and the properties."""
import dataclasses
import json
import math

import pytest
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_catches, assert_corrupted_formula_fails, \
    assert_every_formula_derived, assert_no_canonical, assert_out_of_range, \
    assert_same_seed_same_parameters, drawn, num

from wsgen import Vector
from wsgen.quality.properties import property_failures, render_one
from wsgen.formats.json import variant_record

ID = "rnn_step"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational


def flat(value) -> list:
    """An answer (number, Vector, matrix) as a flat list of floats."""
    if isinstance(value, sp.MatrixBase):
        return [num(e) for e in value]
    if isinstance(value, Vector):
        return [num(e) for e in value]
    return [num(value)]


def close(got, want, tol=1e-6):
    return len(got) == len(want) and all(g == pytest.approx(w, abs=tol) for g, w in zip(got, want))


# --- the canonical variant, by hand ----------------------------------------------------------
#
# T = 2, one input, two hidden units: x_1 = 1, x_2 = -1, h_0 = (0, 0), W_xh = (0.5, -0.5)ᵀ,
# W_hh = diag(1, 0.5), b = (0, 0), t = (0, 0.5).  (tanh 0.5 = 0.462117 from a table.)
#   z_1 = (0.5·1, -0.5·1) = (0.5, -0.5)          h_1 = (tanh 0.5, -tanh 0.5) = (0.462117, -0.462117)
#   z_2 = (0.5·(-1) + 1·0.462117, -0.5·(-1) + 0.5·(-0.462117)) = (-0.037883, 0.268941)
#   h_2 = (tanh(-0.037883), tanh(0.268941)) = (-0.037865, 0.262640)
#   h_2 - t = (-0.037865, 0.262640 - 0.5) = (-0.037865, -0.237360)
#   L = ½(0.037865² + 0.237360²) = ½(0.0014337 + 0.0563398) = ½·0.0577735 = 0.028887
#   1 - h_2² = (1 - 0.0014337, 1 - 0.068980) = (0.998566, 0.931020)
#   δ_2 = (-0.037865·0.998566, -0.237360·0.931020) = (-0.037810, -0.220987)
#   ∂L/∂h_1 = W_hhᵀ δ_2 = (1·(-0.037810), 0.5·(-0.220987)) = (-0.037810, -0.110494)
#   1 - h_1² = 1 - 0.213552 = 0.786448 (both units)
#   δ_1 = (-0.037810·0.786448, -0.110494·0.786448) = (-0.029736, -0.086898)
#   ∂L/∂W_xh = δ_1 x_1 + δ_2 x_2 = (-0.029736 + 0.037810, -0.086898 + 0.220987) = (0.008075, 0.134090)
#   ∂L/∂W_hh = δ_1 h_0ᵀ + δ_2 h_1ᵀ = 0 + [[-0.037810·0.462117, -0.037810·(-0.462117)],
#              [-0.220987·0.462117, -0.220987·(-0.462117)]] = [[-0.017473, 0.017473], [-0.102122, 0.102122]]
#   ∂L/∂b = δ_1 + δ_2 = (-0.067546, -0.307885)
#   ∂L/∂h_0 = W_hhᵀ δ_1 = (-0.029736, 0.5·(-0.086898)) = (-0.029736, -0.043449)
#
# The mistakes:
#   truncated_bptt (step 2 only): ∂L/∂W_xh = δ_2 x_2 = (0.037810, 0.220987), ∂L/∂W_hh = δ_2 h_1ᵀ
#       (the same as the key here: h_0 = 0), ∂L/∂b = δ_2 = (-0.037810, -0.220987)
#   missing_tanh_derivative: δ_2 = h_2 - t = (-0.037865, -0.237360), δ_1 = W_hhᵀ δ_2 = (-0.037865, -0.118680);
#       ∂L/∂W_xh = δ_1 - δ_2 = (0, 0.118680); ∂L/∂W_hh = δ_2 h_1ᵀ = [[-0.017498, 0.017498], [-0.109688, 0.109688]];
#       ∂L/∂b = (-0.075730, -0.356040); ∂L/∂h_0 = (-0.037865, -0.059340)
#   tanh_prime_one_minus_h: 1 - h_2 = (1.037865, 0.737360), δ_2 = (-0.039299, -0.175020);
#       W_hhᵀ δ_2 = (-0.039299, -0.087510), 1 - h_1 = (0.537883, 1.462117), δ_1 = (-0.021138, -0.127950);
#       ∂L/∂W_xh = δ_1 - δ_2 = (0.018161, 0.047070); ∂L/∂W_hh = δ_2 h_1ᵀ = [[-0.018161, 0.018161], [-0.080880, 0.080880]];
#       ∂L/∂b = (-0.060436, -0.302970); ∂L/∂h_0 = (-0.021138, -0.063975)
#   not_accumulated (step 1 only): ∂L/∂W_xh = δ_1 x_1 = (-0.029736, -0.086898), ∂L/∂W_hh = δ_1 h_0ᵀ = 0,
#       ∂L/∂b = δ_1 = (-0.029736, -0.086898)

H_HAND = [0.462117, -0.462117, -0.037865, 0.262640]
L_HAND = 0.028887
DWXH_HAND = [0.008075, 0.134090]
DWHH_HAND = [-0.017473, 0.017473, -0.102122, 0.102122]
DB_HAND = [-0.067546, -0.307885]
DH0_HAND = [-0.029736, -0.043449]


def test_canonical_answers():
    v = canonical()
    s = v.solution
    assert v.params.x.tolist() == [[1], [-1]] and list(v.params.h0) == [0, 0]
    assert close(flat(s.answer("h")), H_HAND)
    assert close(flat(s.answer("L")), [L_HAND])
    assert close(flat(s.answer("dWxh")), DWXH_HAND)
    assert close(flat(s.answer("dWhh")), DWHH_HAND)
    assert close(flat(s.answer("db")), DB_HAND)
    assert close(flat(s.answer("dh0")), DH0_HAND)
    # the exact values are the nested closed forms
    h = s.answer("h")
    th = sp.tanh(R(1, 2))
    assert sp.sympify(str(h[0, 0])) == th and sp.sympify(str(h[0, 1])) == -th
    assert sp.sympify(str(h[1, 0])) == sp.tanh(R(-1, 2) + th)
    assert sp.sympify(str(h[1, 1])) == sp.tanh(R(1, 2) - th / 2)
    h21, h22 = sp.tanh(R(-1, 2) + th), sp.tanh(R(1, 2) - th / 2)
    L = (h21 ** 2 + (h22 - R(1, 2)) ** 2) / 2
    assert abs(sp.N(sp.sympify(str(s.answer("L"))) - L, 40)) < 1e-35
    d2 = [h21 * (1 - h21 ** 2), (h22 - R(1, 2)) * (1 - h22 ** 2)]
    d1 = [d2[0] * (1 - th ** 2), d2[1] / 2 * (1 - th ** 2)]
    dh0 = sp.sympify(str(s.answer("dh0")[1]))
    assert abs(sp.N(dh0 - d1[1] / 2, 40)) < 1e-35
    assert {a.name: (a.kind, a.part) for a in s.answers} == {
        "h": ("matrix", "(a)"), "L": ("number", "(a)"), "dWxh": ("matrix", "(c)"),
        "dWhh": ("matrix", "(c)"), "db": ("vector", "(c)"), "dh0": ("vector", "(c)")}


def test_canonical_key_names_states_and_deltas():
    v = canonical()
    key = render_one(v, "key")
    assert r"h_{1,1}" in key and r"\delta_{2,1}" in key and r"\delta_{1,2}" in key
    record = json.loads(json.dumps(variant_record(v)))
    exact = record["answers"]["dWxh"]["exact"][0][0]
    assert "delta" not in exact and "tanh" in exact
    assert float(sp.N(sp.sympify(exact), 30)) == pytest.approx(record["answers"]["dWxh"]["value"][0][0],
                                                              abs=1e-15)


def test_work_holds_the_states_and_deltas():
    """The exact work `solve` records once, which its steps print and the mistakes reuse:
    z_t, h_t, h_T - t and δ_t of the hand computation above."""
    w = canonical().solution.work
    assert w.zs[1] == [R(1, 2), R(-1, 2)]
    assert close([num(z) for z in w.zs[2]], [-0.037883, 0.268941])
    assert close([num(h) for h in w.hs[1] + w.hs[2]], H_HAND)
    assert close([num(r) for r in w.resid], [-0.037865, -0.237360])
    assert close([num(d) for d in w.deltas[2] + w.deltas[1]],
                 [-0.037810, -0.220987, -0.029736, -0.086898])


def test_canonical_mistakes():
    v = canonical()
    ms = {m.id: m.values for m in problem().mistakes(v.params, v.options, v.solution)}
    # h_0 = 0, so step 1 adds δ₁h₀ᵀ = 0 to ∂L/∂W_hh: stopping after the last step gives the
    # right ∂L/∂W_hh here, and the variant leaves that value out of the mistake
    assert ("truncated_bptt", "dWhh") in v.coinciding
    assert set(ms) == {"truncated_bptt", "missing_tanh_derivative", "tanh_prime_one_minus_h",
                       "not_accumulated"}
    m = ms["truncated_bptt"]
    assert set(m) == {"dWxh", "dWhh", "db"}
    assert close(flat(m["dWxh"]), [0.037810, 0.220987]) and close(flat(m["db"]), [-0.037810, -0.220987])
    assert close(flat(m["dWhh"]), DWHH_HAND)
    m = ms["missing_tanh_derivative"]
    assert close(flat(m["dWxh"]), [0, 0.118680]) and m["dWxh"][0, 0] == 0
    assert close(flat(m["dWhh"]), [-0.017498, 0.017498, -0.109688, 0.109688])
    assert close(flat(m["db"]), [-0.075730, -0.356040]) and close(flat(m["dh0"]), [-0.037865, -0.059340])
    m = ms["tanh_prime_one_minus_h"]
    assert close(flat(m["dWxh"]), [0.018161, 0.047070])
    assert close(flat(m["dWhh"]), [-0.018161, 0.018161, -0.080880, 0.080880])
    assert close(flat(m["db"]), [-0.060436, -0.302970]) and close(flat(m["dh0"]), [-0.021138, -0.063975])
    m = ms["not_accumulated"]
    assert set(m) == {"dWxh", "dWhh", "db"}
    assert close(flat(m["dWxh"]), [-0.029736, -0.086898]) and close(flat(m["db"]), [-0.029736, -0.086898])
    assert m["dWhh"] == sp.zeros(2, 2)


# --- random variants against plain Python floats -------------------------------------------

def plain_rnn(xs, h0, Wxh, Whh, b, t, slope=lambda h: 1 - h * h, steps=None):
    """Lists of floats and loops; `slope(h)` the activation's derivative written with h,
    `steps` the time steps whose weight gradients are summed (1-based)."""
    T, H, n = len(xs), len(h0), len(xs[0])
    hs = [list(h0)]
    for x in xs:
        hs.append([math.tanh(sum(Wxh[k][l] * x[l] for l in range(n))
                             + sum(Whh[k][j] * hs[-1][j] for j in range(H)) + b[k]) for k in range(H)])
    L = 0.5 * sum((hs[T][k] - t[k]) ** 2 for k in range(H))
    g = [hs[T][k] - t[k] for k in range(H)]
    deltas = {}
    for s in range(T, 0, -1):
        deltas[s] = [g[k] * slope(hs[s][k]) for k in range(H)]
        g = [sum(Whh[k][j] * deltas[s][k] for k in range(H)) for j in range(H)]
    steps = range(1, T + 1) if steps is None else steps
    dWxh = [sum(deltas[s][k] * xs[s - 1][l] for s in steps) for k in range(H) for l in range(n)]
    dWhh = [sum(deltas[s][k] * hs[s - 1][j] for s in steps) for k in range(H) for j in range(H)]
    db = [sum(deltas[s][k] for s in steps) for k in range(H)]
    return [v for row in hs[1:] for v in row], L, dWxh, dWhh, db, g


SETTINGS = [{}, {"T": 3}, {"n": 2}, {"hidden": 1}, {"hidden": 3}, {"T": 3, "hidden": 3},
            {"T": 2, "n": 1, "hidden": 1}]


@pytest.mark.parametrize("change", SETTINGS)
@pytest.mark.slow
def test_random_variants(change):
    for v in drawn(problem(), range(8), **change):
        options, seed = v.options, v.seed
        P = v.params
        xs = [[float(e) for e in row] for row in P.x.tolist()]
        Wxh = [[float(e) for e in row] for row in P.Wxh.tolist()]
        Whh = [[float(e) for e in row] for row in P.Whh.tolist()]
        h0, b, t = ([float(e) for e in vec] for vec in (P.h0, P.b, P.t))
        assert (len(xs), len(xs[0]), len(h0)) == (options.T, options.n, options.hidden)
        assert all(abs(e) <= 1 for e in sum(xs + Wxh + Whh, []) + t)
        assert all(abs(e) <= 0.5 for e in h0 + b)
        h, L, dWxh, dWhh, db, dh0 = plain_rnn(xs, h0, Wxh, Whh, b, t)
        s = v.solution
        for name, want in (("h", h), ("L", [L]), ("dWxh", dWxh), ("dWhh", dWhh), ("db", db),
                           ("dh0", dh0)):
            assert close(flat(s.answer(name)), want, 1e-12), (name, seed)
        ms = {m.id: m.values for m in v.mistakes}
        T = options.T
        for mid, kwargs in (("truncated_bptt", {"steps": [T]}),
                            ("missing_tanh_derivative", {"slope": lambda h: 1.0}),
                            ("tanh_prime_one_minus_h", {"slope": lambda h: 1 - h}),
                            ("not_accumulated", {"steps": [1]})):
            _, _, mWxh, mWhh, mdb, mdh0 = plain_rnn(xs, h0, Wxh, Whh, b, t, **kwargs)
            want = {"dWxh": mWxh, "dWhh": mWhh, "db": mdb, "dh0": mdh0}
            assert set(ms[mid]) == ({"dWxh", "dWhh", "db"} if "steps" in kwargs else set(want))
            for name, value in ms[mid].items():
                assert close(flat(value), want[name], 1e-12), (mid, name, seed)


# --- derivations, checks, options, properties ----------------------------------------------

@pytest.mark.parametrize("T,n,hidden", [(2, 1, 1), (2, 1, 2), (3, 2, 2)])
def test_every_declared_formula_is_derived(fresh_derivations, T, n, hidden):
    p = problem()
    assert_every_formula_derived(p, module(), dataclasses.replace(p.Options(), T=T, n=n, hidden=hidden))


def _truncated(xs, hs, Whh, dL_dhT, slope, steps=None, name=None):
    """BPTT that keeps only the last step: what `bptt` must not be."""
    return module_bptt(xs, hs, Whh, dL_dhT, slope, steps=[len(xs)], name=name)


module_bptt = None


@pytest.mark.parametrize("attribute,wrong,name", [
    ("tanh_slope", lambda h: 1 - h, "tanh' = 1 - tanh^2"),
    ("bptt", "truncated", "dL/dWxh (BPTT)"),
])
def test_a_corrupted_formula_fails_the_draw(fresh_derivations, monkeypatch, attribute, wrong, name):
    global module_bptt
    if wrong == "truncated":
        module_bptt = module().bptt
        wrong = _truncated
    monkeypatch.setattr(module(), attribute, wrong)
    assert_corrupted_formula_fails(problem(), problem().Options(), name)


@pytest.mark.parametrize("name", ["h", "dWxh", "dWhh", "db", "dh0"])
def test_check_catches_a_wrong_digit(name):
    assert_check_catches(problem(), {name: R(1, 10 ** 6)})


def test_options():
    p = problem()
    assert_no_canonical(p, {"T": 3}, {"n": 2}, {"hidden": 3})
    assert_out_of_range(p, {"T": 1}, {"T": 4}, {"n": 0}, {"n": 3}, {"hidden": 0}, {"hidden": 4})


def test_same_seed_same_parameters():
    assert_same_seed_same_parameters(problem(), 11)


@pytest.mark.slow
def test_properties():
    p = problem()
    # (each seed parses and evaluates every exact string of the answers and mistakes with
    # SymPy: nested tanh make that the slow part, so fewer seeds than a rational problem)
    assert property_failures(p, p.Options(), range(30)) == []
    assert property_failures(p, dataclasses.replace(p.Options(), hidden=1, n=2), range(10)) == []
