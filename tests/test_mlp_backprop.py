"""mlp_backprop: the canonical variant by hand, its mistakes by hand, many seeds against plain
Fractions, the independent check, the derivations and the bank's properties."""
from fractions import Fraction

import pytest
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_catches, assert_every_formula_derived, \
    assert_same_seed_same_parameters

from wsgen import Vector, draw_variant

ID = "mlp_backprop"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational


def matrix(rows):
    return sp.ImmutableMatrix([[R(v) for v in row] for row in rows])


def vector(values):
    return Vector(R(v) for v in values)


# --- the canonical variant, by hand ----------------------------------------------------------

def test_canonical_values_by_hand():
    """x = [1, 0.5], W1 = [[0.5, -0.4], [-0.6, 0.2]], b1 = [0.1, 0.2],
    W2 = [[0.3, -0.5], [0.8, 0.2]], b2 = [0.1, -0.2], t = [0.5, 0.1], by hand:
    z1 = [0.5·1 - 0.4·0.5 + 0.1, -0.6·1 + 0.2·0.5 + 0.2] = [0.5 - 0.2 + 0.1, -0.6 + 0.1 + 0.2]
       = [0.4, -0.3]                      (unit 2 inactive)
    a1 = [0.4, 0]
    ŷ = [0.3·0.4 - 0.5·0 + 0.1, 0.8·0.4 + 0.2·0 - 0.2] = [0.12 + 0.1, 0.32 - 0.2] = [0.22, 0.12]
    δ2 = ŷ - t = [0.22 - 0.5, 0.12 - 0.1] = [-0.28, 0.02]
    L = ½(0.28² + 0.02²) = ½(0.0784 + 0.0004) = ½·0.0788 = 0.0394
    dW2 = δ2 a1ᵀ = [[-0.28·0.4, -0.28·0], [0.02·0.4, 0.02·0]] = [[-0.112, 0], [0.008, 0]]
    db2 = δ2 = [-0.28, 0.02]
    W2ᵀδ2 = [0.3·(-0.28) + 0.8·0.02, -0.5·(-0.28) + 0.2·0.02] = [-0.084 + 0.016, 0.14 + 0.004]
          = [-0.068, 0.144];  ReLU'(z1) = [1, 0]  ->  δ1 = [-0.068, 0]
    dW1 = δ1 xᵀ = [[-0.068·1, -0.068·0.5], [0, 0]] = [[-0.068, -0.034], [0, 0]]
    db1 = δ1 = [-0.068, 0]
    """
    s = canonical().solution
    assert s.answer("z1") == vector(["0.4", "-0.3"])
    assert s.answer("a1") == vector(["0.4", "0"])
    assert s.answer("y_hat") == vector(["0.22", "0.12"])
    assert s.answer("L") == R("0.0394")
    assert s.answer("dW2") == matrix([["-0.112", "0"], ["0.008", "0"]])
    assert s.answer("db2") == vector(["-0.28", "0.02"])
    assert s.answer("dW1") == matrix([["-0.068", "-0.034"], ["0", "0"]])
    assert s.answer("db1") == vector(["-0.068", "0"])
    kinds = {a.name: (a.kind, a.part) for a in s.answers}
    assert kinds == {"z1": ("vector", "(a)"), "a1": ("vector", "(a)"), "y_hat": ("vector", "(a)"),
                     "L": ("number", "(a)"), "dW2": ("matrix", "(b)"), "db2": ("vector", "(b)"),
                     "dW1": ("matrix", "(c)"), "db1": ("vector", "(c)"), "delta1": ("formula", "(c)")}
    # δ¹ = (W²ᵀ δ²) ∘ ReLU′(z¹), as typed in the formula grammar
    assert s.answer("delta1").text == "(W2^T*delta2) .* relu'(z1)"


def test_canonical_key_writes_the_working():
    """The numbers above, as the key writes them: unit 2's z = -0.6 + 0.1 + 0.2 = -0.3 is cut
    to 0; L = ½(0.28² + 0.02²) = ½·0.0788; column 2 of W2 times δ2 is 0.14 + 0.004 = 0.144;
    the shapes of ∂L/∂W2 are (2 × 1)(1 × 2) = 2 × 2."""
    from wsgen.quality.properties import render_one
    key = render_one(canonical(), "key")
    assert (r"z^{[1]}_2 = \left(-0.6\right) \cdot 1 + 0.2 \cdot 0.5 + 0.2 = -0.3,\qquad "
            r"a^{[1]}_2 = \max(-0.3, 0) = 0") in key
    assert (r"L = \frac{1}{2} \sum_k (\hat y_k - t_k)^2 = \frac{1}{2}\bigl({\left(-0.28\right)}^{2}"
            r" + {0.02}^{2}\bigr) = \frac{1}{2} \cdot 0.0788 = 0.0394") in key
    assert r"\left(-0.5\right) \cdot \left(-0.28\right) + 0.2 \cdot 0.02\end{bmatrix}" in key
    assert r",\qquad (2 \times 1)(1 \times 2) = 2 \times 2" in key
    assert r"\mathrm{ReLU}'(z^{[1]}) = \begin{bmatrix}1\\0\end{bmatrix}" in key


def test_canonical_mistakes_by_hand():
    """Same numbers; W2ᵀδ2 = [-0.068, 0.144], mask [1, 0], x = [1, 0.5], a1 = [0.4, 0].
    missing_relu_mask: δ1 = W2ᵀδ2 = [-0.068, 0.144];
        dW1 = [[-0.068, -0.034], [0.144·1, 0.144·0.5]] = [[-0.068, -0.034], [0.144, 0.072]]
    missing_half: L = 0.0788, every gradient doubled: dW2 = [[-0.224, 0], [0.016, 0]],
        db2 = [-0.56, 0.04], dW1 = [[-0.136, -0.068], [0, 0]], db1 = [-0.136, 0]
    no_transpose_W2: W2δ2 = [0.3·(-0.28) - 0.5·0.02, 0.8·(-0.28) + 0.2·0.02]
        = [-0.084 - 0.01, -0.224 + 0.004] = [-0.094, -0.22]; masked [-0.094, 0];
        dW1 = [[-0.094, -0.047], [0, 0]]
    relu_value_not_slope: δ1 = W2ᵀδ2 ⊙ a1 = [-0.068·0.4, 0.144·0] = [-0.0272, 0];
        dW1 = [[-0.0272, -0.0136], [0, 0]]
    transposed_outer: a1 δ2ᵀ = [[0.4·(-0.28), 0.4·0.02], [0, 0]] = [[-0.112, 0.008], [0, 0]];
        x δ1ᵀ = [[1·(-0.068), 1·0], [0.5·(-0.068), 0.5·0]] = [[-0.068, 0], [-0.034, 0]]
    """
    mistakes = canonical().mistakes
    # each mistake's δ¹ formula, by hand: the mask left out, δ² doubled, W² untransposed,
    # the activation for its slope
    formulas = {m.id: m.values["delta1"].text for m in mistakes if "delta1" in m.values}
    assert formulas == {"missing_relu_mask": "W2^T*delta2",
                        "missing_half": "2*(W2^T*delta2) .* relu'(z1)",
                        "no_transpose_W2": "(W2*delta2) .* relu'(z1)",
                        "relu_value_not_slope": "(W2^T*delta2) .* a1"}
    ms = {m.id: {k: v for k, v in m.values.items() if k != "delta1"} for m in mistakes}
    assert set(ms) == {"missing_relu_mask", "missing_half", "no_transpose_W2",
                       "relu_value_not_slope", "transposed_outer"}
    assert ms["missing_relu_mask"] == {"dW1": matrix([["-0.068", "-0.034"], ["0.144", "0.072"]]),
                                       "db1": vector(["-0.068", "0.144"])}
    assert ms["missing_half"] == {"L": R("0.0788"),
                                  "dW2": matrix([["-0.224", "0"], ["0.016", "0"]]),
                                  "db2": vector(["-0.56", "0.04"]),
                                  "dW1": matrix([["-0.136", "-0.068"], ["0", "0"]]),
                                  "db1": vector(["-0.136", "0"])}
    assert ms["no_transpose_W2"] == {"dW1": matrix([["-0.094", "-0.047"], ["0", "0"]]),
                                     "db1": vector(["-0.094", "0"])}
    assert ms["relu_value_not_slope"] == {"dW1": matrix([["-0.0272", "-0.0136"], ["0", "0"]]),
                                          "db1": vector(["-0.0272", "0"])}
    assert ms["transposed_outer"] == {"dW2": matrix([["-0.112", "0.008"], ["0", "0"]]),
                                      "dW1": matrix([["-0.068", "0"], ["-0.034", "0"]])}


# --- many seeds against plain Fractions ------------------------------------------------------

def _fractions(params):
    F = lambda v: Fraction(int(sp.Rational(v).p), int(sp.Rational(v).q))
    x, b1, b2, t = ([F(v) for v in vec] for vec in (params.x, params.b1, params.b2, params.t))
    W1 = [[F(v) for v in row] for row in params.W1.tolist()]
    W2 = [[F(v) for v in row] for row in params.W2.tolist()]
    z1 = [sum(w * v for w, v in zip(row, x)) + b for row, b in zip(W1, b1)]
    a1 = [max(z, Fraction(0)) for z in z1]
    y = [sum(w * a for w, a in zip(row, a1)) + b for row, b in zip(W2, b2)]
    d2 = [yk - tk for yk, tk in zip(y, t)]
    L = sum(d * d for d in d2) / 2
    d1 = [sum(W2[k][j] * d2[k] for k in range(len(d2))) * (1 if z1[j] > 0 else 0)
          for j in range(len(z1))]
    return {"z1": z1, "a1": a1, "y_hat": y, "L": L, "db2": d2, "db1": d1,
            "dW2": [[d * a for a in a1] for d in d2], "dW1": [[d * v for v in x] for d in d1]}


def _plain(value):
    if isinstance(value, sp.MatrixBase):
        return [[Fraction(int(e.p), int(e.q)) for e in row] for row in value.tolist()]
    if isinstance(value, Vector):
        return [Fraction(int(e.p), int(e.q)) for e in value]
    return Fraction(int(value.p), int(value.q))


@pytest.mark.parametrize("settings,seeds", [
    ({}, 150), ({"n": 1, "hidden": 3, "outputs": 1}, 40), ({"n": 4, "hidden": 4, "outputs": 4}, 30),
    ({"n": 3, "hidden": 1, "outputs": 2, "places": 2}, 40), ({"max_abs": 10.0}, 40),
    ({"max_abs": 0.1}, 40)])
@pytest.mark.slow
def test_many_seeds_agree_with_fractions(settings, seeds):
    p = problem()
    options = p.Options(**settings)
    for seed in range(seeds):
        v = draw_variant(p, options, seed)
        expected = _fractions(v.params)
        for name, value in expected.items():
            assert _plain(v.solution.answer(name)) == value, (settings, seed, name)
        z1 = expected["z1"]
        assert all(z != 0 for z in z1) and any(z > 0 for z in z1)      # redrawn otherwise
        assert expected["L"] > 0
        assert v.params.W1.shape == (options.hidden, options.n)
        assert v.params.W2.shape == (options.outputs, options.hidden)
        assert all(0 < abs(e) <= R(str(options.max_abs))
                   for vec in (v.params.x, v.params.b1, v.params.b2, v.params.t) for e in vec)


def test_same_seed_same_parameters():
    assert_same_seed_same_parameters(problem(), 7, other=8)


# --- mistakes over seeds ---------------------------------------------------------------------

def test_shape_dependent_mistakes_are_omitted():
    """hidden ≠ outputs: W2δ2 has no meaning; n ≠ hidden and hidden ≠ outputs: no transposed
    outer product has the weights' shape."""
    p = problem()
    for seed in range(10):
        v = draw_variant(p, p.Options(n=3, hidden=2, outputs=1), seed)
        ids = {m.id for m in v.mistakes}
        assert "no_transpose_W2" not in ids and "transposed_outer" not in ids
        assert "missing_half" in ids
    v = draw_variant(p, p.Options(n=2, hidden=2, outputs=3), 1)
    flipped = {m.id: m.values for m in v.mistakes}.get("transposed_outer", {})
    assert set(flipped) <= {"dW1"}


def test_mistakes_differ_from_the_key_and_have_its_shapes():
    p = problem()
    seen, differing = {}, {}
    for seed in range(60):
        v = draw_variant(p, p.Options(), seed)
        answers = {a.name: a.value for a in v.solution.answers}
        for m in v.mistakes:
            seen[m.id] = seen.get(m.id, 0) + 1
            assert m.values and set(m.values) <= set(answers)
            for name, value in m.values.items():
                assert type(value) is type(answers[name]) or (
                    isinstance(value, sp.MatrixBase) and isinstance(answers[name], sp.MatrixBase))
                if isinstance(value, sp.MatrixBase):
                    assert value.shape == answers[name].shape
            if any(value != answers[name] for name, value in m.values.items()):
                differing[m.id] = differing.get(m.id, 0) + 1
    assert {"missing_relu_mask", "missing_half", "no_transpose_W2"} <= set(seen)
    for mid, count in seen.items():
        assert differing.get(mid, 0) == count, mid        # identical values are not declared


# --- the check, the derivations, options, properties ----------------------------------------

def test_check_rejects_a_wrong_entry():
    assert_check_catches(problem(), {"dW1": R(1, 1000), "db2": R(1, 1000), "L": R(1, 10 ** 6)},
                         seed=None, at=(0, 1))


@pytest.mark.parametrize("settings", [{}, {"n": 1, "hidden": 1, "outputs": 1},
                                      {"n": 4, "hidden": 3, "outputs": 2}])
def test_every_declared_formula_is_derived(settings):
    assert_every_formula_derived(problem(), module(), problem().Options(**settings), seed=3)


def test_options_are_validated():
    p = problem()
    with pytest.raises(ValueError):
        p.validate_options(p.Options(max_abs=0.15, places=1))
    p.validate_options(p.Options(max_abs=0.15, places=2))


@pytest.mark.slow
def test_properties():
    from wsgen.quality.properties import property_failures
    assert property_failures(problem(), problem().Options(), range(100)) == []
