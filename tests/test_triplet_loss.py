"""triplet_loss: the canonical answers against a hand computation, both sides of the hinge,
and the check's independence from the solution's exact work."""
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_ignores_the_work

from wsgen import draw_variant

ID = "triplet_loss"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational


def test_canonical_answers():
    """f(A) = (1, 0), f(P) = (0.8, 0.2), f(N) = (0.7, 0.4), alpha = 0.2:
    d_ap = 0.2² + 0.2² = 0.08; d_an = 0.3² + 0.4² = 0.25; 0.08 - 0.25 + 0.2 = 0.03 > 0 -> L = 0.03.
    Shown order: no margin, correct, swapped, unsquared -> choice 1."""
    s = canonical().solution
    assert (s.answer("d_ap"), s.answer("d_an"), s.answer("loss")) == (R("0.08"), R("0.25"), R("0.03"))
    assert s.get("formula").correct_index == 1


def test_hinge_both_cases_occur():
    p = problem()
    losses = [draw_variant(p, p.Options(), s).solution.answer("loss") for s in range(60)]
    assert any(l == 0 for l in losses) and any(l > 0 for l in losses)


def test_check_does_not_read_the_work():
    p = problem()
    assert_check_ignores_the_work(p, p.Options(dim=3))
