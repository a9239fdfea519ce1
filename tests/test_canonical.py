"""The canonical variants' answers, computed by hand (comments) or with Python's math module."""
import math

import pytest
import sympy as sp

from wsgen.core.draw import draw_variant

R = sp.Rational


def canonical(problems, pid):
    p = problems[pid]
    return draw_variant(p, p.Options(), None)


def test_logistic_regression(problems):
    """x = (1, 2, -1, 0), y = (1, 1, 0, 0), w = 0.5, b = -0.5, alpha = 0.1:
    z = 0.5x - 0.5 = (0, 0.5, -1, -0.5); the rest with math.exp/math.log, straight from
    the textbook formulas (cross-entropy with both terms, gradient (1/m)Σ(ŷ - y)x)."""
    v = canonical(problems, "logistic_regression")
    s = v.solution
    x, y, w, b, alpha = [1, 2, -1, 0], [1, 1, 0, 0], 0.5, -0.5, 0.1
    z = [w * xi + b for xi in x]
    yh = [1 / (1 + math.exp(-zi)) for zi in z]
    cost = -sum(yi * math.log(p) + (1 - yi) * math.log(1 - p) for yi, p in zip(y, yh)) / 4
    dw = sum((p - yi) * xi for p, yi, xi in zip(yh, y, x)) / 4
    db = sum(p - yi for p, yi in zip(yh, y)) / 4
    assert tuple(s.answer("z")) == (0, R(1, 2), -1, R(-1, 2))
    assert [float(e) for e in s.answer("y_hat")] == pytest.approx(yh, rel=1e-14)
    assert s.answer("y_hat")[0] == R(1, 2)          # sigma(0) exactly
    assert float(s.answer("cost")) == pytest.approx(cost, rel=1e-14)
    assert float(s.answer("dw")) == pytest.approx(dw, rel=1e-14)
    assert float(s.answer("db")) == pytest.approx(db, rel=1e-14)
    assert float(s.answer("w_new")) == pytest.approx(w - alpha * dw, rel=1e-14)
    assert float(s.answer("b_new")) == pytest.approx(b - alpha * db, rel=1e-14)
    # 1/m applied once: dw is the mean, not the mean divided by m again
    assert float(s.answer("dw")) != pytest.approx(dw / 4)


def test_activations(problems):
    """z = (-2, 0.5, 1), slope 0.01: ReLU = (0, 0.5, 1), LReLU = (-0.02, 0.5, 1),
    ReLU' = (0, 1, 1), LReLU' = (0.01, 1, 1); sigmoid/tanh and derivatives with math."""
    s = canonical(problems, "activations").solution
    z = [-2, 0.5, 1]
    sig = [1 / (1 + math.exp(-t)) for t in z]
    assert [float(e) for e in s.answer("sigmoid")] == pytest.approx(sig, rel=1e-14)
    assert [float(e) for e in s.answer("tanh")] == pytest.approx([math.tanh(t) for t in z], rel=1e-14)
    assert [float(e) for e in s.answer("d_sigmoid")] == pytest.approx([p * (1 - p) for p in sig], rel=1e-13)
    assert [float(e) for e in s.answer("d_tanh")] == pytest.approx(
        [1 / math.cosh(t) ** 2 for t in z], rel=1e-13)
    assert tuple(s.answer("relu")) == (0, R(1, 2), 1)
    assert tuple(s.answer("leaky_relu")) == (R(-2, 100), R(1, 2), 1)
    assert tuple(s.answer("d_relu")) == (0, 1, 1)
    assert tuple(s.answer("d_leaky_relu")) == (R(1, 100), 1, 1)


def test_activations_convention_at_zero(problems):
    """at_zero puts z = 0 among the points: ReLU'(0) = 0 and LReLU'(0) = c by the stated convention."""
    p = problems["activations"]
    for seed in range(20):
        v = draw_variant(p, p.Options(at_zero=True), seed)
        i = list(v.params.z).index(0)
        assert v.solution.answer("d_relu")[i] == 0
        assert v.solution.answer("d_leaky_relu")[i] == R(1, 100)
        assert v.solution.answer("sigmoid")[i] == R(1, 2)

