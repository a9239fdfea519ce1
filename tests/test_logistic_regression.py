"""logistic_regression: the canonical answers against the textbook formulas in Python's
math module, and the check's independence from the solution's exact work."""
import math

import pytest
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_ignores_the_work


ID = "logistic_regression"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational


def test_canonical_answers():
    """x = (1, 2, -1, 0), y = (1, 1, 0, 0), w = 0.5, b = -0.5, alpha = 0.1:
    z = 0.5x - 0.5 = (0, 0.5, -1, -0.5); the rest with math.exp/math.log, straight from
    the textbook formulas (cross-entropy with both terms, gradient (1/m)Σ(ŷ - y)x)."""
    s = canonical().solution
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


def test_check_does_not_read_the_work():
    p = problem()
    assert_check_ignores_the_work(p, p.Options(m=6, d=3), range(3))
