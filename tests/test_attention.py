"""attention: the canonical answers and mistakes against a hand computation, random variants
against plain Python floats, the SymPy derivations, the options and the properties."""
import dataclasses
import json
import math

import pytest
import sympy as sp

from conftest import shipped_helpers
from problem_checks import assert_check_catches, assert_corrupted_formula_fails, \
    assert_every_formula_derived, assert_no_canonical, assert_out_of_range, \
    assert_same_seed_same_parameters, drawn, num, same

from wsgen.quality.properties import property_failures, render_one
from wsgen.formats.json import variant_record

ID = "attention"
problem, module, canonical = shipped_helpers(ID)
R = sp.Rational


def floats(M):
    """A matrix answer as rows of floats."""
    return [[num(e) for e in row] for row in M.tolist()]


def close(got, want, tol=1e-6):
    return all(g == pytest.approx(w, abs=tol) for g, w in zip(sum(got, []), sum(want, [])))


# --- the canonical variant, by hand ----------------------------------------------------------
#
# Q = I (2 × 2), K = [[1, 1], [0, -1]], V = [1, -1]ᵀ, G = [1, 0.5]ᵀ, d = 2, d_v = 1.
#   QKᵀ = [[1·1 + 0·1, 1·0 + 0·(-1)], [0·1 + 1·1, 0·0 + 1·(-1)]] = [[1, 0], [1, -1]]
#   S = QKᵀ/√2 = [[√2/2, 0], [√2/2, -√2/2]] = [[0.707107, 0], [0.707107, -0.707107]]
#   c = e^{√2/2} = e^{0.707107} = 2.028115,  1/c = e^{-√2/2} = 0.493069
#   σ1 = c + e^0 = 3.028115,  σ2 = c + 1/c = 2.521184
#   A = [[c/σ1, 1/σ1], [c/σ2, (1/c)/σ2]] = [[2.028115/3.028115, 1/3.028115],
#       [2.028115/2.521184, 0.493069/2.521184]] = [[0.669762, 0.330238], [0.804430, 0.195570]]
#   O = AV = [0.669762 - 0.330238, 0.804430 - 0.195570] = [0.339523, 0.608859]
#   ∂L/∂V = AᵀG = [0.669762·1 + 0.804430·0.5, 0.330238·1 + 0.195570·0.5]
#         = [0.669762 + 0.402215, 0.330238 + 0.097785] = [1.071976, 0.428024]
#   ∂L/∂A = GVᵀ = [[1·1, 1·(-1)], [0.5·1, 0.5·(-1)]] = [[1, -1], [0.5, -0.5]]
#   r1 = 0.669762·1 + 0.330238·(-1) = 0.339523,  r2 = 0.804430·0.5 + 0.195570·(-0.5) = 0.304430
#   ∂L/∂S = [[0.669762·(1 - 0.339523), 0.330238·(-1 - 0.339523)],
#            [0.804430·(0.5 - 0.304430), 0.195570·(-0.5 - 0.304430)]]
#         = [[0.442362, -0.442362], [0.157323, -0.157323]]       (each row adds up to 0)
#
# The mistakes:
#   missing_sqrt_d: S = [[1, 0], [1, -1]]; A = [[e/(e+1), 1/(e+1)], [e/(e+e^-1), e^-1/(e+e^-1)]]
#       = [[0.731059, 0.268941], [0.880797, 0.119203]]; O = [0.462117, 0.761594];
#       AᵀG = [0.731059 + 0.440399, 0.268941 + 0.059601] = [1.171457, 0.328543];
#       r = [0.731059 - 0.268941, 0.5·(0.880797 - 0.119203)] = [0.462117, 0.380797];
#       ∂L/∂S = [[0.731059·0.537883, 0.268941·(-1.462117)], [0.880797·0.119203, 0.119203·(-0.880797)]]
#             = [[0.393224, -0.393224], [0.104994, -0.104994]]
#   softmax_over_columns: column 1 of S is [0.707107, 0.707107] -> [0.5, 0.5]; column 2 is
#       [0, -0.707107] -> [1/(1 + 1/c), (1/c)/(1 + 1/c)] = [0.669762, 0.330238];
#       A = [[0.5, 0.669762], [0.5, 0.330238]]; O = [0.5 - 0.669762, 0.5 - 0.330238]
#       = [-0.169762, 0.169762]; AᵀG = [0.5 + 0.25, 0.669762 + 0.165119] = [0.75, 0.834881];
#       the column rule: r'_j = Σ_i A_ij (∂L/∂A)_ij = [0.5·1 + 0.5·0.5, 0.669762·(-1) + 0.330238·(-0.5)]
#       = [0.75, -0.834881]; ∂L/∂S = [[0.5·(1 - 0.75), 0.669762·(-1 + 0.834881)],
#       [0.5·(0.5 - 0.75), 0.330238·(-0.5 + 0.834881)]] = [[0.125, -0.110591], [-0.125, 0.110591]]
#   jacobian_ignored: ∂L/∂S = ∂L/∂A = [[1, -1], [0.5, -0.5]]
#   rowsum_term_forgotten: A ∘ ∂L/∂A = [[0.669762, -0.330238], [0.402215, -0.097785]]
#   A_not_transposed: AG = [0.669762 + 0.5·0.330238, 0.804430 + 0.5·0.195570] = [0.834881, 0.902215]

S_HAND = [[0.707107, 0], [0.707107, -0.707107]]
A_HAND = [[0.669762, 0.330238], [0.804430, 0.195570]]
O_HAND = [[0.339523], [0.608859]]
DV_HAND = [[1.071976], [0.428024]]
DS_HAND = [[0.442362, -0.442362], [0.157323, -0.157323]]


def test_canonical_answers():
    v = canonical()
    s = v.solution
    assert v.params.Q == sp.eye(2) and v.params.G.tolist() == [[1], [R(1, 2)]]
    assert s.answer("S") == sp.ImmutableMatrix([[sp.sqrt(2) / 2, 0], [sp.sqrt(2) / 2, -sp.sqrt(2) / 2]])
    assert close(floats(s.answer("S")), S_HAND)
    assert close(floats(s.answer("A")), A_HAND)
    assert close(floats(s.answer("O")), O_HAND)
    assert close(floats(s.answer("dL_dV")), DV_HAND)
    assert s.answer("dL_dA") == sp.ImmutableMatrix([[1, -1], [R(1, 2), R(-1, 2)]])
    assert close(floats(s.answer("dL_dS")), DS_HAND)
    # exactly the closed forms of the hand computation
    c = sp.exp(sp.sqrt(2) / 2)
    A = s.answer("A")
    assert same(A[0, 0], c / (c + 1)) and same(A[0, 1], 1 / (c + 1))
    assert same(A[1, 0], c / (c + 1 / c)) and same(A[1, 1], (1 / c) / (c + 1 / c))
    assert same(s.answer("O")[0, 0], (c - 1) / (c + 1))
    r1 = (c - 1) / (c + 1)
    assert same(s.answer("dL_dS")[0, 0], c / (c + 1) * (1 - r1))
    assert {a.name: (a.kind, a.part) for a in s.answers} == {
        "S": ("matrix", "(a)"), "A": ("matrix", "(a)"), "O": ("matrix", "(a)"),
        "dL_dV": ("matrix", "(b)"), "dL_dA": ("matrix", "(b)"), "dL_dS": ("matrix", "(c)")}


def test_canonical_key_names_the_row_sums_and_json_is_exact():
    v = canonical()
    key = render_one(v, "key")
    assert r"\sigma_{1}" in key and r"r_{1}" in key
    record = json.loads(json.dumps(variant_record(v)))
    exact = record["answers"]["A"]["exact"][0][0]
    assert "sigma" not in exact and same(sp.sympify(exact), sp.exp(sp.sqrt(2) / 2) / (1 + sp.exp(sp.sqrt(2) / 2)))
    assert record["answers"]["A"]["value"][0][0] == pytest.approx(0.6697615493266569, abs=1e-15)


def test_work_holds_the_named_row_sums():
    """The exact work `solve` records once, which its steps print and the mistakes reuse:
    QKᵀ, σ_i and r_i of the hand computation above (c = e^{√2/2})."""
    w = canonical().solution.work
    c = sp.exp(sp.sqrt(2) / 2)
    assert w.qk.value == sp.Matrix([[1, 0], [1, -1]])
    assert same(w.sums[0].args[0], c + 1) and same(w.sums[1].args[0], c + 1 / c)
    assert [num(r.args[0]) for r in w.r] == pytest.approx([0.339523, 0.304430], abs=1e-6)


def test_canonical_mistakes():
    ms = {m.id: m.values for m in canonical().mistakes}
    assert set(ms) == {"missing_sqrt_d", "softmax_over_columns", "jacobian_ignored",
                       "rowsum_term_forgotten", "A_not_transposed"}
    m = ms["missing_sqrt_d"]
    assert set(m) == {"S", "A", "O", "dL_dV", "dL_dS"}
    assert m["S"] == sp.ImmutableMatrix([[1, 0], [1, -1]])
    assert close(floats(m["A"]), [[0.731059, 0.268941], [0.880797, 0.119203]])
    assert close(floats(m["O"]), [[0.462117], [0.761594]])
    assert close(floats(m["dL_dV"]), [[1.171457], [0.328543]])
    assert close(floats(m["dL_dS"]), [[0.393224, -0.393224], [0.104994, -0.104994]])
    m = ms["softmax_over_columns"]
    assert set(m) == {"A", "O", "dL_dV", "dL_dS"}
    assert close(floats(m["A"]), [[0.5, 0.669762], [0.5, 0.330238]])
    assert close(floats(m["O"]), [[-0.169762], [0.169762]])
    assert close(floats(m["dL_dV"]), [[0.75], [0.834881]])
    assert close(floats(m["dL_dS"]), [[0.125, -0.110591], [-0.125, 0.110591]])
    assert ms["jacobian_ignored"] == {"dL_dS": sp.ImmutableMatrix([[1, -1], [R(1, 2), R(-1, 2)]])}
    assert close(floats(ms["rowsum_term_forgotten"]["dL_dS"]),
                 [[0.669762, -0.330238], [0.402215, -0.097785]])
    assert close(floats(ms["A_not_transposed"]["dL_dV"]), [[0.834881], [0.902215]])


# --- random variants against plain Python floats -------------------------------------------

def plain_attention(Q, K, V, G):
    """Lists of floats, loops, math.exp: an independent implementation."""
    n, d, dv = len(Q), len(Q[0]), len(V[0])
    S = [[sum(Q[i][k] * K[j][k] for k in range(d)) / math.sqrt(d) for j in range(n)]
         for i in range(n)]

    def softmax(row):
        w = [math.exp(v) for v in row]
        return [x / sum(w) for x in w]
    A = [softmax(row) for row in S]
    O = [[sum(A[i][j] * V[j][l] for j in range(n)) for l in range(dv)] for i in range(n)]
    dV = [[sum(A[i][j] * G[i][l] for i in range(n)) for l in range(dv)] for j in range(n)]
    dA = [[sum(G[i][l] * V[j][l] for l in range(dv)) for j in range(n)] for i in range(n)]
    # the Jacobian of row i, then its product with row i of ∂L/∂A
    dS = [[sum(dA[i][j] * A[i][j] * ((j == k) - A[i][k]) for j in range(n)) for k in range(n)]
          for i in range(n)]
    return S, A, O, dV, dA, dS


SETTINGS = [{}, {"n": 3}, {"d": 1}, {"d": 3, "d_v": 3}, {"n": 3, "d": 3, "d_v": 3},
            {"n": 2, "d": 1, "d_v": 1}, {"n": 3, "d": 1, "d_v": 2}]


@pytest.mark.parametrize("change", SETTINGS)
@pytest.mark.slow
def test_random_variants(change):
    for v in drawn(problem(), range(12), **change):
        options, seed = v.options, v.seed
        P = {k: [[float(e) for e in row] for row in getattr(v.params, k).tolist()]
             for k in ("Q", "K", "V", "G")}
        n, d, dv = options.n, options.d, options.d_v
        assert (len(P["Q"]), len(P["Q"][0]), len(P["V"][0])) == (n, d, dv)
        assert all(abs(e) <= 1 for M in P.values() for row in M for e in row)
        S, A, O, dV, dA, dS = plain_attention(P["Q"], P["K"], P["V"], P["G"])
        s = v.solution
        for name, want in (("S", S), ("A", A), ("O", O), ("dL_dV", dV), ("dL_dA", dA),
                           ("dL_dS", dS)):
            assert close(floats(s.answer(name)), want, 1e-12), (name, seed)
        assert all(abs(sum(row)) < 1e-12 for row in floats(s.answer("dL_dS")))
        ms = {m.id: m.values for m in v.mistakes}
        assert ("missing_sqrt_d" in ms) == (d > 1)
        if d > 1:
            scaled = [[x * math.sqrt(d) for x in row] for row in P["Q"]]
            S1, A1, O1, dV1, _, dS1 = plain_attention(scaled, P["K"], P["V"], P["G"])
            for name, want in (("S", S1), ("A", A1), ("O", O1), ("dL_dV", dV1), ("dL_dS", dS1)):
                assert close(floats(ms["missing_sqrt_d"][name]), want, 1e-12), name
        cols = [[math.exp(S[i][j]) / sum(math.exp(S[k][j]) for k in range(n)) for j in range(n)]
                for i in range(n)]
        assert close(floats(ms["softmax_over_columns"]["A"]), cols, 1e-12)
        assert close(floats(ms["softmax_over_columns"]["O"]),
                     [[sum(cols[i][j] * P["V"][j][l] for j in range(n)) for l in range(dv)]
                      for i in range(n)], 1e-12)
        assert close(floats(ms["jacobian_ignored"]["dL_dS"]), dA, 1e-12)
        assert close(floats(ms["rowsum_term_forgotten"]["dL_dS"]),
                     [[A[i][j] * dA[i][j] for j in range(n)] for i in range(n)], 1e-12)
        assert close(floats(ms["A_not_transposed"]["dL_dV"]),
                     [[sum(A[i][j] * P["G"][j][l] for j in range(n)) for l in range(dv)]
                      for i in range(n)], 1e-12)


def test_no_degenerate_draws():
    """No row of QKᵀ or of GVᵀ is constant (a uniform row of A, a zero row of ∂L/∂S)."""
    for change in ({"n": 2, "d": 1, "d_v": 1}, {"n": 3, "d": 1, "d_v": 1}):
        for v in drawn(problem(), range(20), **change):
            assert all(len(set(row)) > 1 for row in (v.params.Q * v.params.K.T).tolist())
            assert all(len(set(row)) > 1 for row in v.solution.answer("dL_dA").tolist())


# --- derivations, checks, options, properties ----------------------------------------------

@pytest.mark.parametrize("n,d,d_v", [(2, 1, 1), (2, 2, 1), (3, 3, 3)])
def test_every_declared_formula_is_derived(fresh_derivations, n, d, d_v):
    p = problem()
    assert_every_formula_derived(p, module(), dataclasses.replace(p.Options(), n=n, d=d, d_v=d_v))


@pytest.mark.parametrize("attribute,wrong,name", [
    ("row_jacobian", lambda a: sp.diag(*[x * (1 - x) for x in a]),
     "row Jacobian = diag(a) - a a^T"),
    ("grad_S", lambda A, dA, rowsum=None: sp.Matrix(A.rows, A.cols, lambda i, j: A[i, j] * dA[i, j]),
     "dL/dS = A o (dL/dA - r)"),
    ("grad_V", lambda A, G: A * G, "dL/dV = A^T G"),
    ("scores", lambda Q, K, d: sp.Matrix(Q * K.T), "S = QK^T/sqrt(d)"),
])
def test_a_corrupted_formula_fails_the_draw(fresh_derivations, monkeypatch, attribute, wrong, name):
    monkeypatch.setattr(module(), attribute, wrong)
    assert_corrupted_formula_fails(problem(), problem().Options(), name)


@pytest.mark.parametrize("name", ["A", "O", "dL_dV", "dL_dS"])
def test_check_catches_a_wrong_digit(name):
    assert_check_catches(problem(), {name: R(1, 10 ** 6)})


def test_options():
    p = problem()
    assert_no_canonical(p, {"n": 3}, {"d": 1}, {"d_v": 2})
    assert_out_of_range(p, {"n": 1}, {"n": 4}, {"d": 0}, {"d": 4}, {"d_v": 0}, {"d_v": 4})


def test_same_seed_same_parameters():
    assert_same_seed_same_parameters(problem(), 11)


@pytest.mark.slow
def test_properties():
    p = problem()
    # (each seed parses and evaluates every exact string of the answers and mistakes with
    # SymPy, the slow part for closed forms with exponentials: fewer seeds than a rational
    # problem)
    assert property_failures(p, p.Options(), range(40)) == []
    assert property_failures(p, dataclasses.replace(p.Options(), n=3, d=3, d_v=3), range(10)) == []
