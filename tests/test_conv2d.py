"""conv2d: the canonical answers and mistakes against a hand computation, random variants
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

ID = "conv2d"
problem, module, canonical = shipped_helpers(ID)


def M(rows):
    return sp.ImmutableMatrix(rows)


# --- the canonical variant, by hand --------------------------------------------------------
#
# X = [[1, 0, 2, -1], [0, 1, -1, 3], [2, -2, 1, 0], [-1, 3, 0, 1]], K = [[1, 0, -1], [2, 1, 0],
# [0, -1, 1]], b = 1, s = 2, p = 1, G = [[1, -1], [2, 1]].
# (a) ⌊(4 + 2 - 3)/2⌋ + 1 = ⌊1.5⌋ + 1 = 2: Y is 2 × 2.
# (b) X^p is X inside a border of zeros (6 × 6); the windows start at X^p rows/cols 1 and 3:
#   W11 = [[0,0,0],[0,1,0],[0,0,1]]        W12 = [[0,0,0],[0,2,-1],[1,-1,3]]
#   W21 = [[0,0,1],[0,2,-2],[0,-1,3]]      W22 = [[1,-1,3],[-2,1,0],[3,0,1]]
#   Y11 = (0) + (0·2 + 1·1 + 0·0) + (0·0 + 0·(-1) + 1·1) + 1 = 2 + 1 = 3
#   Y12 = (0) + (0·2 + 2·1 + (-1)·0) + (1·0 + (-1)(-1) + 3·1) + 1 = 2 + 4 + 1 = 7
#   Y21 = (0·1 + 0·0 + 1·(-1)) + (0·2 + 2·1 + (-2)·0) + (0·0 + (-1)(-1) + 3·1) + 1 = -1 + 2 + 4 + 1 = 6
#   Y22 = (1·1 + (-1)·0 + 3·(-1)) + ((-2)·2 + 1·1 + 0·0) + (3·0 + 0·(-1) + 1·1) + 1 = -2 - 3 + 1 + 1 = -3
# (c) dL/dK = 1·W11 - 1·W12 + 2·W21 + 1·W22:
#   row 1: [0,0,0] - [0,0,0] + [0,0,2] + [1,-1,3] = [1, -1, 5]
#   row 2: [0,1,0] - [0,2,-1] + [0,4,-4] + [-2,1,0] = [-2, 4, -3]
#   row 3: [0,0,1] - [1,-1,3] + [0,-2,6] + [3,0,1] = [2, -1, 5]
#   dL/db = 1 - 1 + 2 + 1 = 3
# (d) dL/dX^p = G11·K placed at (1,1) + G12·K at (1,3) + G21·K at (3,1) + G22·K at (3,3):
#   row 1: [1, 0, -1-1, 0, 1, 0] = [1, 0, -2, 0, 1, 0]
#   row 2: [2, 1, 0-2, -1, 0, 0] = [2, 1, -2, -1, 0, 0]
#   row 3: [0+2, -1+0, 1+0-2+1, 1+0, -1-1, 0] = [2, -1, 0, 1, -2, 0]
#   row 4: [4, 2, 0+2, 1, 0, 0] = [4, 2, 2, 1, 0, 0]
#   row 5: [0, -2, 2+0, -1, 1, 0] = [0, -2, 2, -1, 1, 0]
#   row 6: zeros.  Cropping the border: dL/dX = [[1,-2,-1,0],[-1,0,1,-2],[2,2,1,0],[-2,2,-1,1]]
#
# The mistakes:
#   flipped_kernel: K^flip = [[1,-1,0],[0,1,2],[-1,0,1]] on the same windows:
#     Y11 = 1 + 1 + 1 = 3; Y12 = (0 + 2 - 2) + (-1 + 0 + 3) + 1 = 3;
#     Y21 = (0) + (0 + 2 - 4) + (0 + 0 + 3) + 1 = 2; Y22 = (1 + 1 + 0) + (0 + 1 + 0) + (-3 + 0 + 1) + 1 = 2
#   padding_ignored: ⌊(4 - 3)/2⌋ + 1 = 1, so (1, 1)
#   stride_not_dilated: G's entries next to each other, windows of X^p at (1,1), (1,2), (2,1), (2,2):
#     V11 = [[0,0,0],[0,1,0],[0,0,1]], V12 = [[0,0,0],[1,0,2],[0,1,-1]],
#     V21 = [[0,1,0],[0,0,1],[0,2,-2]], V22 = [[1,0,2],[0,1,-1],[2,-2,1]]
#     dL/dK = V11 - V12 + 2 V21 + V22 = [[1,2,2],[-1,2,-1],[2,1,-1]]
#     dL/dX: K placed at (1,1), (1,2), (2,1), (2,2) with weights 1, -1, 2, 1, rows/cols 2..5:
#       row 2: [1-2+0+1, 0-1-2+0, 0+0-1, 0] = [0, -3, -1, 0]
#       row 3: [-1-0+2+2, 1+1+0+1, -1+0, 0] = [3, 3, -1, 0]
#       row 4: [-2, 2-1, 1, 0] = [-2, 1, 1, 0];  row 5: zeros
#   dX_kernel_not_flipped: K^flip placed (stride 2) with weights 1, -1, 2, 1, rows/cols 2..5:
#       row 2: [1, 2+0, -1, -2];  row 3: [0-2, 1+1+0+1, 0-1, -1+0] = [-2, 3, -1, -1]
#       row 4: [2, 4+0, 1, 2];    row 5: [0, 2-1, 0, 1] = [0, 1, 0, 1]

def test_canonical_answers():
    v = canonical()
    s = v.solution
    assert s.answer("out_shape") == (2, 2)
    assert s.answer("Y") == M([[3, 7], [6, -3]])
    assert s.answer("dL_dK") == M([[1, -1, 5], [-2, 4, -3], [2, -1, 5]])
    assert s.answer("dL_db") == 3
    assert s.answer("dL_dX") == M([[1, -2, -1, 0], [-1, 0, 1, -2], [2, 2, 1, 0], [-2, 2, -1, 1]])
    kinds = {a.name: (a.kind, a.part) for a in s.answers}
    assert kinds == {"out_shape": ("list", "(a)"), "Y": ("matrix", "(b)"),
                     "dL_dK": ("matrix", "(c)"), "dL_db": ("number", "(c)"),
                     "dL_dX": ("matrix", "(d)")}
    assert [f.name for f in dataclasses.fields(v.params)] == ["X", "K", "b", "stride", "padding",
                                                              "G"]


def test_canonical_mistakes():
    ms = {m.id: dict(m.values) for m in canonical().mistakes}
    assert ms == {
        "flipped_kernel": {"Y": M([[3, 3], [2, 2]])},
        "padding_ignored": {"out_shape": (1, 1)},
        "stride_not_dilated": {"dL_dK": M([[1, 2, 2], [-1, 2, -1], [2, 1, -1]]),
                               "dL_dX": M([[0, -3, -1, 0], [3, 3, -1, 0], [-2, 1, 1, 0],
                                           [0, 0, 0, 0]])},
        "dX_kernel_not_flipped": {"dL_dX": M([[1, 2, -1, -2], [-2, 3, -1, -1], [2, 4, 1, 2],
                                              [0, 1, 0, 1]])},
    }


def test_work_holds_the_keys_working():
    """The exact work `solve` records once, which its steps print and the mistakes reuse:
    X^p, Ĝ and ∂L/∂X^p of the hand computation above."""
    w = canonical().solution.work
    zeros = [0] * 6
    assert w.Xp == [zeros, [0, 1, 0, 2, -1, 0], [0, 0, 1, -1, 3, 0], [0, 2, -2, 1, 0, 0],
                    [0, -1, 3, 0, 1, 0], zeros]
    # Ĝ: the stride-1 output is (4 + 2 - 3 + 1) = 4 wide, G's entries 2 apart
    assert w.Gd == [[1, 0, -1, 0], [0, 0, 0, 0], [2, 0, 1, 0], [0, 0, 0, 0]]
    assert w.dXp == [[1, 0, -2, 0, 1, 0], [2, 1, -2, -1, 0, 0], [2, -1, 0, 1, -2, 0],
                     [4, 2, 2, 1, 0, 0], [0, -2, 2, -1, 1, 0], zeros]
    assert (w.Ho, w.Wo) == (2, 2) and w.db.value == 3


def test_key_shows_one_sum_in_full():
    from wsgen.quality.properties import render_one
    key = render_one(canonical(), "key")
    assert (r"Y_{11} = 0 \cdot 1 + 0 \cdot 0 + 0 \cdot \left(-1\right) + 0 \cdot 2 + 1 \cdot 1 "
            r"+ 0 \cdot 0 + 0 \cdot 0 + 0 \cdot \left(-1\right) + 1 \cdot 1 + 1 = 3") in key
    assert r"\frac{\partial L}{\partial b} = " in key and "1 - 1 + 2 + 1 = 3" in key


# --- random variants against plain integers ------------------------------------------------
# A scatter formulation, written apart from the problem: every output (i, j) adds
# K_uv X_{si+u-p, sj+v-p} to Y and sends G_ij K_uv to that input and G_ij X to K_uv.

def plain(X, K, b, s, p, G):
    H, W, k = len(X), len(X[0]), len(K)
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    Y = [[b] * Wo for _ in range(Ho)]
    dK = [[0] * k for _ in range(k)]
    dX = [[0] * W for _ in range(H)]
    for i in range(Ho):
        for j in range(Wo):
            for u in range(k):
                for v in range(k):
                    r, c = s * i + u - p, s * j + v - p
                    if 0 <= r < H and 0 <= c < W:
                        Y[i][j] += K[u][v] * X[r][c]
                        dK[u][v] += G[i][j] * X[r][c]
                        dX[r][c] += G[i][j] * K[u][v]
    flipped = [row[::-1] for row in K[::-1]]
    return {"out_shape": (Ho, Wo), "Y": Y, "dL_dK": dK, "dL_db": sum(map(sum, G)), "dL_dX": dX,
            "flipped": flipped}


def ints(matrix):
    return [[int(e) for e in row] for row in matrix.tolist()]


SETTINGS = [{}, {"H": 3, "W": 3, "k": 1, "stride": 1, "padding": 0},
            {"H": 6, "W": 6, "k": 3, "stride": 2, "padding": 1},
            {"H": 5, "W": 3, "k": 2, "stride": 2, "padding": 0},
            {"H": 6, "W": 4, "k": 3, "stride": 1, "padding": 1},
            {"H": 3, "W": 6, "k": 1, "stride": 2, "padding": 1}]


@pytest.mark.parametrize("change", SETTINGS)
@pytest.mark.slow
def test_random_variants(change):
    for v in drawn(problem(), range(12), **change):
        options, seed = v.options, v.seed
        X, K, G = ints(v.params.X), ints(v.params.K), ints(v.params.G)
        b, s, pad = int(v.params.b), int(v.params.stride), int(v.params.padding)
        assert (len(X), len(X[0]), len(K), s, pad) == (options.H, options.W, options.k,
                                                      options.stride, options.padding)
        assert all(-3 <= e <= 3 for row in X for e in row)
        assert all(e in (-2, -1, 1, 2) for row in K + G for e in row) and b != 0
        want = plain(X, K, b, s, pad, G)
        sol = v.solution
        assert tuple(int(e) for e in sol.answer("out_shape")) == want["out_shape"]
        assert (len(G), len(G[0])) == want["out_shape"]
        for name in ("Y", "dL_dK", "dL_dX"):
            assert ints(sol.answer(name)) == want[name], (change, seed, name)
        assert sol.answer("dL_db") == want["dL_db"]
        ms = {m.id: m.values for m in v.mistakes}
        flipped = plain(X, want["flipped"], b, s, pad, G)["Y"]
        if flipped != want["Y"]:
            assert ints(ms["flipped_kernel"]["Y"]) == flipped
        else:
            assert "flipped_kernel" not in ms
        assert ("padding_ignored" in ms) == (pad > 0)
        if pad:
            assert ms["padding_ignored"]["out_shape"] == ((len(X) - len(K)) // s + 1,
                                                          (len(X[0]) - len(K)) // s + 1)
        assert ("stride_not_dilated" in ms) <= (s > 1)
        # unflipped: ∂L/∂X with K^flip in place of K is what correlating with K itself gives
        unflipped = plain(X, want["flipped"], b, s, pad, G)["dL_dX"]
        if unflipped != want["dL_dX"]:
            assert ints(ms["dX_kernel_not_flipped"]["dL_dX"]) == unflipped


def test_stride_mistake_is_the_stride_one_backward_pass():
    """G's entries next to each other: ∂L/∂K_uv = Σ G_ij X^p_{i+u, j+v}, ∂L/∂X^p_ac = Σ G_ij
    K_{a-i, c-j} (0-based), by plain loops."""
    p = problem()
    for seed in range(10):
        v = draw_variant(p, p.Options(), seed)
        X, K, G = ints(v.params.X), ints(v.params.K), ints(v.params.G)
        pad, k = int(v.params.padding), len(K)
        Xp = [[0] * (len(X[0]) + 2 * pad) for _ in range(len(X) + 2 * pad)]
        for r, row in enumerate(X):
            for c, e in enumerate(row):
                Xp[r + pad][c + pad] = e
        dK = [[sum(G[i][j] * Xp[i + u][j + v2] for i in range(len(G)) for j in range(len(G[0])))
               for v2 in range(k)] for u in range(k)]
        dXp = [[sum(G[i][j] * K[a - i][c - j] for i in range(len(G)) for j in range(len(G[0]))
                    if 0 <= a - i < k and 0 <= c - j < k)
                for c in range(len(Xp[0]))] for a in range(len(Xp))]
        dX = [row[pad:len(row) - pad] for row in dXp[pad:len(dXp) - pad]]
        ms = {m.id: m.values for m in v.mistakes}
        got = ms.get("stride_not_dilated", {})
        correct = {"dL_dK": ints(v.solution.answer("dL_dK")),
                   "dL_dX": ints(v.solution.answer("dL_dX"))}
        for name, value in (("dL_dK", dK), ("dL_dX", dX)):
            if value != correct[name]:
                assert ints(got[name]) == value
            else:
                assert name not in got


def test_mistakes_differ_from_the_key():
    p = problem()
    seen = set()
    for seed in range(40):
        v = draw_variant(p, p.Options(), seed)
        answers = {a.name: a.value for a in v.solution.answers}
        for m in v.mistakes:
            seen.add(m.id)
            assert m.values and any(value != answers[name] for name, value in m.values.items())
    assert seen == {"flipped_kernel", "padding_ignored", "stride_not_dilated",
                    "dX_kernel_not_flipped"}


# --- derivations, the check, options, properties ------------------------------------------

@pytest.mark.parametrize("change", [{}, {"k": 1, "stride": 1, "padding": 0},
                                    {"H": 6, "W": 3, "k": 2, "stride": 2, "padding": 0}])
def test_every_declared_formula_is_derived(fresh_derivations, change):
    p = problem()
    assert_every_formula_derived(p, module(), dataclasses.replace(p.Options(), **change))


@pytest.mark.parametrize("attribute,wrong,name", [
    # each factory gets the module and returns the wrong version (built from the right one)
    ("grad_kernel", lambda m: lambda X, G, s, p, k, f=m.grad_kernel: f(X, G, 1, p, k),
     "dL/dK = Xp corr dilated G"),
    ("grad_input", lambda m: lambda X, G, K, s, p, f=m.grad_input: f(X, G, m.flip(K), s, p),
     "dL/dX = crop(full corr of dilated G with flipped K)"),
    ("grad_bias", lambda m: lambda G: sp.Integer(len(G) * len(G[0])), "dL/db = sum G"),
    ("out_size", lambda m: lambda n, k, s, p: (n - k) // s + 1, "output size"),
])
def test_a_corrupted_formula_fails_the_draw(fresh_derivations, monkeypatch, attribute, wrong, name):
    monkeypatch.setattr(module(), attribute, wrong(module()))
    assert_corrupted_formula_fails(problem(), problem().Options(), name)


def test_check_catches_a_wrong_entry():
    assert_check_catches(problem(), dict.fromkeys(("Y", "dL_dK", "dL_dX", "dL_db", "out_shape"), 1))


def test_options():
    p = problem()
    assert_no_canonical(p, {"k": 2})
    # an empty output cannot be reached inside the declared ranges (H, W ≥ 3 ≥ k); the rule
    # itself refuses a kernel larger than the padded input
    with pytest.raises(ValueError, match="the output would be empty"):
        p.validate_options(dataclasses.replace(p.Options(), H=1, padding=0))
    from wsgen.quality.stress import corner_options
    corners = corner_options(p, p.Options())
    assert all(options is not None for _, options in corners)


@pytest.mark.slow
def test_properties():
    assert property_failures(problem(), problem().Options(), range(60)) == []
    corner = dataclasses.replace(problem().Options(), H=3, W=3, k=1, stride=1, padding=0)
    assert property_failures(problem(), corner, range(20)) == []
