"""style_transfer_loss: the canonical answers against a hand computation, and the check's
independence from the solution's exact work."""
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_ignores_the_work


ID = "style_transfer_loss"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational


def test_canonical_answers():
    """a_C = [[.5, 0, .5], [0, 1, 0]], a_S = [[1, 0, 1], [.5, .5, 0]], a_G = [[.5, .5, 0], [0, 1, .5]]
    n_C = 2, n_H n_W = 3.  a_C - a_G = [[0, -.5, .5], [0, 0, -.5]]: sum of squares 0.75,
    J_content = 0.75 / (4·1·3·2) = 0.03125.
    Gram S = [[1+0+1, .5+0+0], [.5, .25+.25+0]] = [[2, .5], [.5, .5]];
    Gram G = [[.25+.25+0, 0+.5+0], [.5, 0+1+.25]] = [[.5, .5], [.5, 1.25]].
    J_style = (1.5² + 0 + 0 + .75²) / (4·4·9) = 2.8125 / 144 = 0.01953125.
    J = 10·0.03125 + 40·0.01953125 = 0.3125 + 0.78125 = 1.09375."""
    s = canonical().solution
    assert s.answer("J_content") == R("0.03125")
    assert s.answer("gram_S") == sp.Matrix([[2, R(1, 2)], [R(1, 2), R(1, 2)]])
    assert s.answer("gram_G") == sp.Matrix([[R(1, 2), R(1, 2)], [R(1, 2), R(5, 4)]])
    assert s.answer("J_style") == R("0.01953125")
    assert s.answer("J") == R("1.09375")
    assert s.get("formula").correct_index == 1


def test_check_does_not_read_the_work():
    p = problem()
    assert_check_ignores_the_work(p, p.Options(n_C=3, n_H=2, n_W=2))
