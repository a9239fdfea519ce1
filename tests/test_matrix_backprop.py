import numpy as np
import pytest
import sympy as sp

from problem_checks import assert_check_catches, assert_same_seed_same_parameters

from wsgen.core.draw import draw_variant

R = sp.Rational


def test_canonical_values_by_hand(problems):
    """W = [[0.1, 0.5], [-0.3, 0.8]], x = [0.2, 0.4], by hand:
    Wx = [0.1·0.2 + 0.5·0.4, -0.3·0.2 + 0.8·0.4] = [0.02 + 0.2, -0.06 + 0.32] = [0.22, 0.26]
    L = 0.22² + 0.26² = 0.0484 + 0.0676 = 0.116
    dL/dW = 2(Wx)xᵀ = 2·[[0.22·0.2, 0.22·0.4], [0.26·0.2, 0.26·0.4]] = [[0.088, 0.176], [0.104, 0.208]]
    dL/dx = 2Wᵀ(Wx) = 2·[0.1·0.22 - 0.3·0.26, 0.5·0.22 + 0.8·0.26] = 2·[-0.056, 0.318] = [-0.112, 0.636]
    """
    p = problems["matrix_backprop"]
    s = draw_variant(p, p.Options(), None).solution
    assert tuple(s.answer("Wx")) == (R("0.22"), R("0.26"))
    assert s.answer("L") == R("0.116")
    assert s.answer("dL_dW") == sp.Matrix([[R("0.088"), R("0.176")], [R("0.104"), R("0.208")]])
    assert tuple(s.answer("dL_dx")) == (R("-0.112"), R("0.636"))


@pytest.mark.parametrize("m,n", [(2, 2), (3, 2), (1, 4)])
@pytest.mark.slow
def test_many_seeds_agree_with_float64(problems, m, n):
    """300 seeds (fewer for other shapes): the answers equal plain NumPy formulas."""
    p = problems["matrix_backprop"]
    options = p.Options(m=m, n=n)
    for seed in range(300 if (m, n) == (2, 2) else 60):
        v = draw_variant(p, options, seed)
        W = np.array(v.params.W.tolist(), dtype=float)
        x = np.array([float(e) for e in v.params.x])
        assert W.shape == (m, n)
        s = v.solution
        np.testing.assert_allclose([float(e) for e in s.answer("Wx")], W @ x, atol=1e-12)
        np.testing.assert_allclose(float(s.answer("L")), (W @ x) @ (W @ x), atol=1e-12)
        np.testing.assert_allclose(np.array(s.answer("dL_dW").tolist(), dtype=float),
                                   2 * np.outer(W @ x, x), atol=1e-12)
        np.testing.assert_allclose([float(e) for e in s.answer("dL_dx")], 2 * W.T @ (W @ x), atol=1e-12)
        assert all(e != 0 for e in s.answer("Wx"))           # degenerate draws redrawn
        assert all(abs(e) <= R(9, 10) and e != 0 for e in v.params.W)


def test_same_seed_same_parameters(problems):
    assert_same_seed_same_parameters(problems["matrix_backprop"], 99, other=100)


def test_check_rejects_a_wrong_entry(problems):
    """The independent check is real: one wrong gradient entry makes it fail."""
    assert_check_catches(problems["matrix_backprop"], {"dL_dW": R(1, 1000)}, seed=None, at=(0, 1))


def test_options_are_validated(problems):
    from wsgen.exam.load import make_options
    p = problems["matrix_backprop"]
    with pytest.raises(ValueError, match="m must be"):
        make_options(p, {"m": 0})
    with pytest.raises(ValueError, match="unknown option"):
        make_options(p, {"rows": 2})
    with pytest.raises(ValueError, match="expected an integer"):
        make_options(p, {"m": 2.5})
