"""regularization: the canonical answers against a hand computation, and the check's
independence from the solution's exact work."""
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_ignores_the_work


ID = "regularization"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational


def test_canonical_answers():
    """W = [[.5, -1], [2, 0]], dW = [[.1, .2], [-.3, .4]], lambda = .5, m = 10, alpha = .1:
    ||W||² = .25 + 1 + 4 + 0 = 5.25; penalty = .5/20 · 5.25 = 0.13125.
    lambda/m = .05: dW_reg = [[.1+.025, .2-.05], [-.3+.1, .4+0]] = [[.125, .15], [-.2, .4]].
    W_new = W - .1·dW_reg = [[.4875, -1.015], [2.02, -.04]]; decay = 1 - .1·.5/10 = 0.995."""
    s = canonical().solution
    assert s.answer("penalty") == R("0.13125")
    assert s.answer("dW_reg") == sp.Matrix([[R("0.125"), R("0.15")], [R("-0.2"), R("0.4")]])
    assert s.answer("W_new") == sp.Matrix([[R("0.4875"), R("-1.015")], [R("2.02"), R("-0.04")]])
    assert s.answer("decay") == R("0.995")


def test_check_does_not_read_the_work():
    p = problem()
    assert_check_ignores_the_work(p, p.Options(rows=3, cols=4))
