"""Every general formula a key shows is derived or verified by SymPy (wsgen.derive)."""
import importlib

import pytest

from wsgen import discover
import sympy as sp

from conftest import render_variant
from wsgen import CheckFailed, ProblemError, derivations, derive_once, verified
from wsgen.core.draw import draw_variant
from wsgen.quality.selftest import selftest

SHIPPED = ("activations", "logistic_regression", "matrix_backprop", "regularization",
           "style_transfer_loss", "triplet_loss")
# Every problem that ships with wsgen follows the rule, the bank's included.
BUILT_IN = sorted(pid for pid, source in discover().sources.items() if source == "built-in")


def module(problem_id):
    return importlib.import_module(f"wsgen.problems.{problem_id}")


def test_every_shipped_problem_declares_its_formulas(problems):
    assert set(SHIPPED) <= set(BUILT_IN)
    for pid in BUILT_IN:
        assert problems[pid].__module__ == f"wsgen.problems.{pid}"
        assert len(module(pid).DERIVED) >= 1, pid


@pytest.mark.parametrize("pid", BUILT_IN)
def test_solving_derives_every_declared_formula(problems, fresh_derivations, pid):
    p = problems[pid]
    draw_variant(p, p.Options(), 0)
    recorded = derivations(pid)
    assert {f.name for f in recorded} == set(module(pid).DERIVED)
    assert all(f.problem == pid and f.how in ("derived", "verified", "derived and verified")
               for f in recorded)


@pytest.mark.parametrize("pid,options", [
    ("matrix_backprop", {"m": 1, "n": 1}), ("matrix_backprop", {"m": 3, "n": 1}),
    ("matrix_backprop", {"m": 1, "n": 4}), ("matrix_backprop", {"m": 4, "n": 3}),
    ("regularization", {"rows": 1, "cols": 4}), ("regularization", {"rows": 3, "cols": 2}),
    ("logistic_regression", {"m": 2, "d": 3}), ("activations", {"slope": 0.5}),
    ("triplet_loss", {"dim": 4}), ("style_transfer_loss", {"n_C": 3, "n_H": 2, "n_W": 2}),
])
def test_other_shapes_verify(problems, pid, options):
    p = problems[pid]
    draw_variant(p, p.Options(**options), 1)
    assert {f.name for f in derivations(pid)} == set(module(pid).DERIVED)


def test_derivation_runs_once_per_shape(fresh_derivations):
    calls = []
    make = lambda: calls.append(1) or {"ok": True}
    assert derive_once(("demo", 2, 2), make) is derive_once(("demo", 2, 2), make)
    derive_once(("demo", 3, 2), make)
    assert len(calls) == 2


def test_verified_names_the_formula(fresh_derivations):
    x = sp.Symbol("x")
    assert verified(sp.diff(x ** 3, x), 3 * x ** 2, name="d/dx x^3", problem="demo") == 3 * x ** 2
    with pytest.raises(CheckFailed, match=r"demo: formula 'd/dx x\^2'.*SymPy gives 2\*x"):
        verified(sp.diff(x ** 2, x), x, name="d/dx x^2", problem="demo")
    W, v = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("v", 3, 1)
    L = (W * v).T * (W * v)
    verified(L.diff(W), 2 * (W * v) * v.T, name="dL/dW", problem="demo")
    with pytest.raises(CheckFailed, match="dL/dW wrong"):
        verified(L.diff(W), (W * v) * v.T, name="dL/dW wrong", problem="demo")
    assert {f.name for f in derivations("demo")} == {"d/dx x^3", "dL/dW"}


# One formula of each problem, corrupted: (module attribute, wrong version, formula name).
CORRUPTIONS = {
    "matrix_backprop": ("matrix_dW", lambda W, x, Wx: Wx * x.T, "dL/dW = 2(Wx)x^T"),
    "regularization": ("decay_factor", lambda alpha, lam, m: 1 - alpha * lam / (2 * m),
                       "decay factor"),
    "logistic_regression": ("grad_b", lambda y_hat, y: sum(a - b for a, b in zip(y_hat, y)),
                            "∂J/∂b"),
    "activations": ("relu_slope", lambda v: sp.Integer(1) if v >= 0 else sp.Integer(0),
                    "ReLU' rule"),
    "triplet_loss": ("hinge", lambda u: abs(u), "L = max(·, 0)"),
    "style_transfer_loss": ("content_norm", lambda n_C, n_H, n_W: sp.Rational(1, 2 * n_H * n_W * n_C),
                            "J_content"),
}


@pytest.mark.parametrize("pid", SHIPPED)
def test_a_corrupted_formula_fails_the_draw(problems, fresh_derivations, monkeypatch, pid):
    attribute, wrong, name = CORRUPTIONS[pid]
    monkeypatch.setattr(module(pid), attribute, wrong)
    p = problems[pid]
    with pytest.raises(CheckFailed, match=pid) as failure:
        draw_variant(p, p.Options(), 0)
    assert f"formula {name!r}" in str(failure.value)


@pytest.mark.parametrize("pid", SHIPPED)
def test_a_corrupted_formula_fails_the_load_time_selftest(problems, fresh_derivations, monkeypatch, pid):
    attribute, wrong, name = CORRUPTIONS[pid]
    monkeypatch.setattr(module(pid), attribute, wrong)
    with pytest.raises(ProblemError, match=rf"self-test failed.*CheckFailed.*{pid}"):
        selftest(problems[pid], f"problem module wsgen.problems.{pid}")


def test_corrupted_index_step_is_caught(problems, fresh_derivations, monkeypatch):
    """The index-notation step is checked entry by entry: ∂L/∂W_kl = 2 W_kl x_l is wrong."""
    monkeypatch.setattr(module("matrix_backprop"), "index_dW",
                        lambda W, x, k, l: 2 * W[k, l] * x[l] * x[l])
    p = problems["matrix_backprop"]
    with pytest.raises(CheckFailed, match="dL/dW_kl"):
        draw_variant(p, p.Options(m=3, n=2), 0)


def test_matrix_backprop_key_shows_sympys_derivation(problems):
    p = problems["matrix_backprop"]
    key = render_variant(draw_variant(p, p.Options(), None), "key")
    assert "(b) Checked by SymPy" in key
    assert (r"SymPy's matrix calculus derives both results from $L = (Wx)^\top (Wx)$: "
            r"$\frac{\partial L}{\partial W} = 2 W x x^{T}$ and "
            r"$\frac{\partial L}{\partial x} = 2 W^{T} W x$.") in key
    assert r"\frac{\partial L}{\partial W} = 2 (Wx) x^{T},\qquad (2 \times 1)(1 \times 2) = 2 \times 2" in key
    assert r"\frac{\partial L}{\partial x} = 2 W^{T} (Wx),\qquad (2 \times 2)(2 \times 1) = 2 \times 1" in key
    # the printed results are SymPy's own: the printer's TeX of the derived expressions
    from wsgen.core.printing import tex
    mb = module("matrix_backprop")
    facts = derive_once(("matrix_backprop", 2, 2), lambda: mb.formulas(2, 2))
    assert tex(facts["dW"]) == "2 W x x^{T}" and tex(facts["dx"]) == "2 W^{T} W x"
    assert tex(facts["dW_shown"]) in key and tex(facts["dx_shown"]) in key


def test_a_difference_of_exponentials_is_proved_zero_only_when_it_is():
    """The fast test before `simplify` (core/derive.py): e^{kz} as t^k, then cancel."""
    from wsgen.core.derive import _vanishes_in_exponentials
    z = sp.Symbol("z", real=True)
    e = sp.exp(-z)
    # σ' = σ(1 − σ) with σ = 1/(1 + e^{−z}): by hand, e^{−z}/(1 + e^{−z})² both sides
    assert _vanishes_in_exponentials(e / (1 + e) ** 2 - (1 / (1 + e)) * (1 - 1 / (1 + e)))
    # tanh' = 1 − tanh² = 4e^{2z}/(e^{2z} + 1)²
    tanh = (sp.exp(z) - sp.exp(-z)) / (sp.exp(z) + sp.exp(-z))
    assert _vanishes_in_exponentials(1 - tanh ** 2 - 4 * sp.exp(2 * z) / (sp.exp(2 * z) + 1) ** 2)
    # not zero, or not a rational function of exponentials: nothing decided
    assert not _vanishes_in_exponentials(sp.exp(z) - sp.exp(-z))
    assert not _vanishes_in_exponentials(1 - tanh ** 2 - 4 * sp.exp(2 * z) / (sp.exp(2 * z) + 2) ** 2)
    assert not _vanishes_in_exponentials(sp.exp(z / 2) - sp.sqrt(sp.exp(z)))
    assert not _vanishes_in_exponentials(sp.tanh(z) - tanh)
