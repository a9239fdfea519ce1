"""activations: the canonical answers against a hand computation and Python's math module,
the stated convention at z = 0, and the check's independence from the solution's exact work."""
import math

import pytest
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_ignores_the_work

from wsgen import draw_variant

ID = "activations"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational


def test_canonical_answers():
    """z = (-2, 0.5, 1), slope 0.01: ReLU = (0, 0.5, 1), LReLU = (-0.02, 0.5, 1),
    ReLU' = (0, 1, 1), LReLU' = (0.01, 1, 1); sigmoid/tanh and derivatives with math."""
    s = canonical().solution
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


def test_convention_at_zero():
    """at_zero puts z = 0 among the points: ReLU'(0) = 0 and LReLU'(0) = c by the stated convention."""
    p = problem()
    for seed in range(20):
        v = draw_variant(p, p.Options(at_zero=True), seed)
        i = list(v.params.z).index(0)
        assert v.solution.answer("d_relu")[i] == 0
        assert v.solution.answer("d_leaky_relu")[i] == R(1, 100)
        assert v.solution.answer("sigmoid")[i] == R(1, 2)


def test_check_does_not_read_the_work():
    p = problem()
    assert_check_ignores_the_work(p, p.Options(points=5, at_zero=True))
