"""max_pool: the canonical answers and mistakes against a hand computation, random variants
against a plain-integer implementation written apart from the problem, the SymPy derivations,
the options (refusals, corners) and the bank's properties."""
import dataclasses

import pytest
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_catches, assert_corrupted_formula_fails, \
    assert_every_formula_derived, assert_no_canonical, drawn

from wsgen import draw_variant
from wsgen.quality.properties import property_failures

ID = "max_pool"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational


def M(rows):
    return sp.ImmutableMatrix(rows)


# --- the canonical variant, by hand --------------------------------------------------------
#
# X = [[1, 3, 2, 0, 4], [5, -2, 1, 2, 1], [2, 1, 6, 3, 0], [-1, 7, 2, 1, 8], [3, 1, 4, 9, 2]],
# f = 3, s = 2, G = [[2, -1], [1, 3]].  ⌊(5 - 3)/2⌋ + 1 = 2 windows each way:
#   W11 = rows 1-3, cols 1-3: 1 3 2 / 5 -2 1 / 2 1 6  -> max 6 at (3, 3)
#   W12 = rows 1-3, cols 3-5: 2 0 4 / 1 2 1 / 6 3 0   -> max 6 at (3, 3)
#   W21 = rows 3-5, cols 1-3: 2 1 6 / -1 7 2 / 3 1 4  -> max 7 at (4, 2)
#   W22 = rows 3-5, cols 3-5: 6 3 0 / 2 1 8 / 4 9 2   -> max 9 at (5, 4)
#   Y = [[6, 6], [7, 9]]
#   dL/dX: (3,3) gets G11 + G12 = 2 + (-1) = 1, (4,2) gets G21 = 1, (5,4) gets G22 = 3, else 0.
# The mistakes:
#   overwrite_not_add: W12 is written after W11, so (3,3) holds G12 = -1.
#   average_pool_gradient: each window spreads G_ij/9: W11 2/9, W12 -1/9, W21 1/9, W22 3/9.
#     rows 1-2: cols 1-2 in W11 only: 2/9; col 3 in W11 and W12: 2/9 - 1/9 = 1/9; cols 4-5: -1/9
#     row 3 (in all windows' rows): cols 1-2 in W11, W21: 3/9; col 3 in all four: 5/9;
#       cols 4-5 in W12, W22: 2/9
#     rows 4-5: cols 1-2 in W21: 1/9; col 3 in W21, W22: 4/9; cols 4-5 in W22: 3/9
#   gradient_to_every_entry: 9 times the averages: [[2,2,1,-1,-1]]*2, [3,3,5,2,2], [1,1,4,3,3]*2
#   mask_without_upstream: (3,3) is the maximum of two windows: 2; (4,2): 1; (5,4): 1.

def test_canonical_answers():
    v = canonical()
    s = v.solution
    assert s.answer("Y") == M([[6, 6], [7, 9]])
    dX = [[0] * 5 for _ in range(5)]
    dX[2][2], dX[3][1], dX[4][3] = 1, 1, 3
    assert s.answer("dL_dX") == M(dX)
    assert {a.name: (a.kind, a.part) for a in s.answers} == {"Y": ("matrix", "(a)"),
                                                             "dL_dX": ("matrix", "(b)")}
    assert [f.name for f in dataclasses.fields(v.params)] == ["X", "size", "stride", "G"]


def test_canonical_mistakes():
    ms = {m.id: dict(m.values) for m in canonical().mistakes}
    over = [[0] * 5 for _ in range(5)]
    over[2][2], over[3][1], over[4][3] = -1, 1, 3
    mask = [[0] * 5 for _ in range(5)]
    mask[2][2], mask[3][1], mask[4][3] = 2, 1, 1
    ninths = [[2, 2, 1, -1, -1], [2, 2, 1, -1, -1], [3, 3, 5, 2, 2], [1, 1, 4, 3, 3],
              [1, 1, 4, 3, 3]]
    assert ms == {"overwrite_not_add": {"dL_dX": M(over)},
                  "average_pool_gradient": {"dL_dX": M([[R(e, 9) for e in row] for row in ninths])},
                  "gradient_to_every_entry": {"dL_dX": M(ninths)},
                  "mask_without_upstream": {"dL_dX": M(mask)}}


def test_work_holds_the_routes():
    """The exact work `solve` records once, which its steps print and the mistakes reuse:
    each window's entries and where its maximum sits (0-based), from the hand computation."""
    w = canonical().solution.work
    assert w.top == {(0, 0): (2, 2), (0, 1): (2, 2), (1, 0): (3, 1), (1, 1): (4, 3)}
    assert w.values[(1, 1)] == [6, 3, 0, 2, 1, 8, 4, 9, 2]
    assert w.Y == [[6, 6], [7, 9]]


def test_key_shows_the_window_and_the_sum():
    from wsgen.quality.properties import render_one
    key = render_one(canonical(), "key")
    assert r"Y_{11} = \max \begin{bmatrix}1 & 3 & 2\\5 & -2 & 1\\2 & 1 & 6\end{bmatrix} = 6" in key
    assert "2 - 1" in key                        # the overlapping contributions, added
    assert r"Y_{12} \leftarrow X_{3,\,3}" in key


# --- random variants against plain integers ------------------------------------------------

def plain(X, f, s, G):
    H, W = len(X), len(X[0])
    Ho, Wo = (H - f) // s + 1, (W - f) // s + 1
    Y = [[None] * Wo for _ in range(Ho)]
    dX = [[0] * W for _ in range(H)]
    last = [[0] * W for _ in range(H)]
    avg = [[R(0)] * W for _ in range(H)]
    spread = [[0] * W for _ in range(H)]
    mask = [[0] * W for _ in range(H)]
    for i in range(Ho):
        for j in range(Wo):
            best = None
            for a in range(s * i, s * i + f):
                for b in range(s * j, s * j + f):
                    avg[a][b] += R(G[i][j], f * f)
                    spread[a][b] += G[i][j]
                    if best is None or X[a][b] > X[best[0]][best[1]]:
                        best = (a, b)
            Y[i][j] = X[best[0]][best[1]]
            dX[best[0]][best[1]] += G[i][j]
            last[best[0]][best[1]] = G[i][j]
            mask[best[0]][best[1]] += 1
    return {"Y": Y, "dL_dX": dX, "overwrite_not_add": last, "average_pool_gradient": avg,
            "gradient_to_every_entry": spread, "mask_without_upstream": mask}


def ints(matrix):
    return [[int(e) for e in row] for row in matrix.tolist()]


SETTINGS = [{}, {"H": 2, "W": 2, "size": 2, "stride": 1}, {"H": 6, "W": 6, "size": 3, "stride": 1},
            {"H": 6, "W": 3, "size": 2, "stride": 2}, {"H": 4, "W": 6, "size": 3, "stride": 1}]


@pytest.mark.parametrize("change", SETTINGS)
@pytest.mark.slow
def test_random_variants(change):
    for v in drawn(problem(), range(15), **change):
        options, seed = v.options, v.seed
        X, G = ints(v.params.X), ints(v.params.G)
        f, s = int(v.params.size), int(v.params.stride)
        assert (len(X), len(X[0]), f, s) == (options.H, options.W, options.size, options.stride)
        assert all(-20 <= e <= 20 for row in X for e in row)
        assert all(e in (-3, -2, -1, 1, 2, 3) for row in G for e in row)
        want = plain(X, f, s, G)
        for i in range(len(G)):                      # no tied maximum in any window
            for j in range(len(G[0])):
                block = [X[a][b] for a in range(s * i, s * i + f) for b in range(s * j, s * j + f)]
                assert block.count(max(block)) == 1
        assert ints(v.solution.answer("Y")) == want["Y"]
        assert ints(v.solution.answer("dL_dX")) == want["dL_dX"]
        ms = {m.id: m.values["dL_dX"] for m in v.mistakes}
        for mid in ("overwrite_not_add", "average_pool_gradient", "gradient_to_every_entry",
                    "mask_without_upstream"):
            if mid in ms:
                assert [list(r) for r in ms[mid].tolist()] == want[mid], (change, seed, mid)
                assert want[mid] != want["dL_dX"]
            else:
                assert want[mid] == want["dL_dX"], (change, seed, mid)


def test_overlap_mistake_appears_only_with_shared_maxima():
    """stride = size: the windows do not overlap, so overwriting never differs from adding."""
    p = problem()
    for seed in range(20):
        v = draw_variant(p, dataclasses.replace(p.Options(), H=4, W=6, size=2, stride=2), seed)
        assert "overwrite_not_add" not in {m.id for m in v.mistakes}


def test_ties_are_redrawn():
    p = problem()
    options = dataclasses.replace(p.Options(), H=6, W=6, size=3, stride=1)
    redraws = [draw_variant(p, options, seed).redraws for seed in range(30)]
    assert sum(redraws) > 0


# --- derivations, the check, options, properties ------------------------------------------

@pytest.mark.parametrize("change", [{}, {"H": 2, "W": 3, "size": 2, "stride": 1},
                                    {"H": 6, "W": 4, "size": 3, "stride": 1}])
def test_every_declared_formula_is_derived(fresh_derivations, change):
    p = problem()
    assert_every_formula_derived(p, module(), dataclasses.replace(p.Options(), **change))


@pytest.mark.parametrize("attribute,wrong,name", [
    # overlapping windows overwrite instead of adding
    ("pool_backward", lambda m: lambda G, H, W, f, s, slope: _overwriting(m, G, H, W, f, s, slope),
     "dL/dX = sum over windows"),
    ("max_slope", lambda m: lambda values, t: sp.Integer(1) if values[t] >= max(values) - 1
     else sp.Integer(0), "max routing rule"),
    ("out_size", lambda m: lambda n, f, s: (n - f) // (s + 1) + 1, "output size"),
])
def test_a_corrupted_formula_fails_the_draw(fresh_derivations, monkeypatch, attribute, wrong, name):
    monkeypatch.setattr(module(), attribute, wrong(module()))
    assert_corrupted_formula_fails(problem(), dataclasses.replace(problem().Options(), stride=1), name)


def _overwriting(m, G, H, W, f, s, slope):
    dX = [[sp.Integer(0)] * W for _ in range(H)]
    for (i, j), cells in m.windows(H, W, f, s):
        for t, (a, b) in enumerate(cells):
            term = G[i][j] * slope(i, j, t)
            if term != 0:
                dX[a][b] = term
    return dX


def test_check_catches_a_wrong_entry():
    assert_check_catches(problem(), {"Y": 1, "dL_dX": 1})


def test_options():
    p = problem()
    assert_no_canonical(p, {"size": 2})
    with pytest.raises(ValueError, match=r"the window \(size = 3\) is larger than the input"):
        p.validate_options(dataclasses.replace(p.Options(), H=2))
    p.validate_options(dataclasses.replace(p.Options(), H=2, W=2, size=2))
    from wsgen.quality.stress import corner_options
    refused = [label for label, options in corner_options(p, p.Options()) if options is None]
    assert refused and all(label.startswith(("H=2", "W=2")) for label in refused)


@pytest.mark.slow
def test_properties():
    assert property_failures(problem(), problem().Options(), range(60)) == []
    corner = dataclasses.replace(problem().Options(), H=6, W=6, size=2, stride=1)
    assert property_failures(problem(), corner, range(20)) == []
