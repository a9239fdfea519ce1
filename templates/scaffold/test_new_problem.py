"""Tests of the problem new_problem (written by `wsgen new`):  python -m pytest THIS_FILE

The engine loads this folder as a build would (files whose names start with `test_` or
`_` are not problems).  Every answer is compared with a second computation in plain
Python floats, independent of the problem's SymPy code, within a tolerance: that works
for any answer (exp, log and square roots included).  The canonical answers, worked out
by hand, are compared exactly where they are rational.  When you change the problem,
change `expected` (and the canonical numbers) with it.
"""
import math
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp

import wsgen

FOLDER = Path(__file__).resolve().parent
PROBLEM_ID = "new_problem"
SEEDS = range(40)
# Settings to draw at: the defaults, every option at its minimum, every one at its maximum.
SETTINGS = ({}, {"m": 2, "d": 1, "places": 1}, {"m": 6, "d": 4, "places": 2})


@pytest.fixture(scope="module")
def problem():
    registry = wsgen.discover([FOLDER])
    assert registry.sources[PROBLEM_ID] == str(FOLDER)
    return registry.problems[PROBLEM_ID]


def floats(value):
    """An exact value (SymPy number, Vector, Matrix) as floats, in nested lists."""
    if hasattr(value, "tolist"):
        return [floats(row) for row in value.tolist()]
    if isinstance(value, (tuple, list)):
        return [floats(v) for v in value]
    return float(sp.N(value, 30))


def expected(params):
    """The answers, computed again from the parameters in plain Python floats."""
    X, y, w = floats(params.X), floats(params.y), floats(params.w)
    eta, m, d = float(params.eta), len(y), len(w)
    yhat = [sum(a * b for a, b in zip(row, w)) for row in X]
    r = [p - t for p, t in zip(yhat, y)]
    grad = [2 * sum(X[i][j] * r[i] for i in range(m)) / m for j in range(d)]
    return {"yhat": yhat, "loss": sum(e * e for e in r) / m, "grad": grad,
            "w_new": [wj - eta * gj for wj, gj in zip(w, grad)]}


def close(got, want, scale) -> bool:
    """Entry by entry, within 1e-9 of the inputs' scale (a float64 sum's error grows with
    its terms, not with its result, which may cancel to nearly nothing)."""
    if isinstance(want, list):
        return len(got) == len(want) and all(close(g, w, scale) for g, w in zip(got, want))
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9 * scale)


def answers(variant):
    return {a.name: a.value for a in variant.solution.answers}


def test_canonical_variant(problem):
    variant = wsgen.draw_variant(problem, problem.Options(), None)
    got = answers(variant)
    # The original exam's answers, worked out by hand (they are rational: compared exactly).
    # yhat = X w = [1*0.5 + 2*(-0.5), 0.5*0.5 + (-1)(-0.5), -2*0.5 + 1*(-0.5)] = [-1/2, 3/4, -3/2]
    # r = yhat - y = [-3/2, 3/4, -1/2];  L = (9/4 + 9/16 + 1/4) / 3 = 49/48
    # grad = (2/3) X^T r = (2/3) [-3/2 + 3/8 + 1, -3 - 3/4 - 1/2] = [-1/12, -17/6]
    # w_new = w - 0.1 grad = [61/120, -13/60]
    F = Fraction
    assert [F(str(v)) for v in got["yhat"]] == [F(-1, 2), F(3, 4), F(-3, 2)]
    assert F(str(got["loss"])) == F(49, 48)
    assert [F(str(v)) for v in got["grad"]] == [F(-1, 12), F(-17, 6)]
    assert [F(str(v)) for v in got["w_new"]] == [F(61, 120), F(-13, 60)]


def test_canonical_needs_its_shape(problem):
    with pytest.raises(wsgen.NoCanonical):
        problem.canonical(problem.Options(m=4))


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_seeded_variants(problem, settings):
    options = problem.Options(**settings)
    for seed in SEEDS:
        variant = wsgen.draw_variant(problem, options, seed)
        want = expected(variant.params)
        scale = 1 + sum(abs(v) for row in floats(variant.params.X) for v in row)
        for name, value in answers(variant).items():
            assert close(floats(value), want[name], scale ** 2), f"seed {seed}: {name}"
        assert len(variant.params.y) == options.m and len(variant.params.w) == options.d


def test_reproducible(problem):
    options = problem.Options()
    first = [wsgen.draw_variant(problem, options, seed).params for seed in SEEDS]
    again = [wsgen.draw_variant(problem, options, seed).params for seed in SEEDS]
    assert first == again
    assert len(set(map(repr, first))) > len(first) // 2    # the seeds do change the numbers


def test_mistakes_give_other_answers(problem):
    for seed in SEEDS:
        variant = wsgen.draw_variant(problem, problem.Options(), seed)
        assert variant.mistakes
        for mistake in variant.mistakes:
            for name, value in mistake.values.items():
                assert floats(value) != floats(variant.solution.answer(name)), \
                    f"seed {seed}: {mistake.id} gives the right {name}"
