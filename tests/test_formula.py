"""Formula answers (core/formula.py): the grammar, shapes, equivalence, grading a typed
formula against answers.json, hostile input, and the shipped problems' formula answers."""
from __future__ import annotations

import pytest
import sympy as sp

from wsgen import Expression
from wsgen.core.draw import draw_variant
from wsgen.formats.json import variant_record
from wsgen.core.formula import (FormulaError, ShapeError, judge, names_of, parse, same,
                                   shape_of, to_tex, to_text)
from wsgen.core import formula as formula_module
from wsgen.registry import discover

SQUARE = names_of({"W": (2, 2), "x": (2, 1)})
WIDE = names_of({"W": (2, 3), "x": (3, 1)})          # W is 2 × 3: transposes matter


def value_at(text: str, names, **values):
    """A formula's value at given numbers (exact)."""
    parsed = parse(text, names)
    shape_of(parsed)
    env = formula_module._environment(names, {k: sp.ImmutableMatrix(v) if isinstance(v, list)
                                              else sp.Rational(v) for k, v in values.items()})
    return formula_module._value(parsed.tree, env)


# ---------------------------------------------------------------------------- reading

@pytest.mark.parametrize("text", ["2*(W*x)*x^T", "2 W x x^T", "2Wx xᵀ", "2(Wx)x'", "2*W*x*x.T",
                                  "2 (W x) x^{T}", "2 W x x^\\top", "(2W x) x⊤", "2·W·x·xᵀ",
                                  "W x x^T + W x x^T", "2 (x (Wx)^T)^T"])
def test_every_spelling_of_dL_dW_is_the_key(text):
    # 2(Wx)xᵀ, and (x (Wx)ᵀ)ᵀ = (Wx) xᵀ by (AB)ᵀ = BᵀAᵀ
    key = parse("2*(W*x)*x^T", WIDE)
    verdict = same(parse(text, WIDE), key)
    assert verdict.same, (text, verdict)
    assert verdict.how == "exact"           # no function: decided by expanding the entries


@pytest.mark.parametrize("text", ["2*W^T*(W*x)", "2 W^T W x", "2Wᵀ(Wx)", "2 W' W x",
                                  "2*W.T*W*x", "W^T (2 W x)", "2 (x^T W^T W)^T"])
def test_every_spelling_of_dL_dx_is_the_key(text):
    assert same(parse(text, WIDE), parse("2*W^T*(W*x)", WIDE)).same


def test_values_by_hand():
    # the canonical numbers of matrix_backprop: W = [[0.1, 0.5], [-0.3, 0.8]], x = [0.2, 0.4]
    # Wx = [0.22, 0.26]; 2(Wx)xᵀ = [[0.088, 0.176], [0.104, 0.208]];
    # 2Wᵀ(Wx) = 2·[0.1·0.22 − 0.3·0.26, 0.5·0.22 + 0.8·0.26] = [-0.112, 0.636]
    W = [["0.1", "0.5"], ["-0.3", "0.8"]]
    x = [["0.2"], ["0.4"]]
    W, x = [[sp.Rational(v) for v in row] for row in W], [[sp.Rational(v) for v in row] for row in x]
    R = sp.Rational
    assert value_at("2*(W*x)*x^T", SQUARE, W=W, x=x) == sp.ImmutableMatrix(
        [[R("0.088"), R("0.176")], [R("0.104"), R("0.208")]])
    assert value_at("2 W^T W x", SQUARE, W=W, x=x) == sp.ImmutableMatrix([[R("-0.112")], [R("0.636")]])
    # xᵀx is a number: 0.04 + 0.16
    assert value_at("x^T x", SQUARE, W=W, x=x) == R("0.2")
    # a number added to a vector adds to every entry: 1 − x = [0.8, 0.6]
    assert value_at("1 - x", SQUARE, W=W, x=x) == sp.ImmutableMatrix([[R("0.8")], [R("0.6")]])


def test_a_number_against_a_name_is_one_factor():
    names = names_of({"W": (2, 2), "dW": (2, 2)}, {"lambda": "1/10", "m": "10"})
    # λ/2m W = (λ/(2m)) W = W/200, but λ/2 m W = (λ/2)·m·W = W/2
    W = [[sp.Integer(1), 0], [0, sp.Integer(1)]]
    dW = [[0, 0], [0, 0]]
    assert value_at("lambda/2m W", names, W=W, dW=dW) == sp.ImmutableMatrix(W) / 200
    assert value_at("lambda/2 m W", names, W=W, dW=dW) == sp.ImmutableMatrix(W) / 2
    assert value_at("λ/m W + dW", names, W=W, dW=dW) == sp.ImmutableMatrix(W) / 100


def test_names_split_and_spelled():
    names = names_of({"W2": (2, 2), "z1": (2, 1), "yhat": (2, 1), "t": (2, 1)},
                     {"delta2": "yhat - t", "a1": "relu(z1)"})
    key = parse("(W2^T*delta2) .* relu'(z1)", names)
    for text in [r"W^{[2]\top} \delta^{[2]} ∘ relu'(z^{[1]})", "W2ᵀδ2 ⊙ step(z1)",
                 "W2^T (yhat - t) .* H(z1)", "W2ᵀ*δ²∘relu'(z¹)", "W^[2]T δ^[2] ∘ relu'(z^[1])",
                 "(W_2^T delta_2) .* relu'(z_1)", "(W2^T (ŷ - t)) ∘ ReLU'(z1)"]:
        assert same(parse(text, names), key).same, text
    assert to_text(parse("W2ᵀδ2 ⊙ step(z1)", names)) == "(W2^T*delta2) .* step(z1)"


def test_superscript_is_an_index_only_when_that_is_a_name():
    # x² with no symbol x2 is a square; δ² with a name delta2 is that name
    names = names_of({"x": (), "delta2": ()})
    assert to_text(parse("x²", names)) == "x^2"
    assert to_text(parse("δ²", names)) == "delta2"


@pytest.mark.parametrize("text", ["2*(W*x)*x^T", "2*W^T*(W*x)", "-(W*x) .* x", "(W*x)^T*x",
                                  "W^T*W*x/2 - x", "2^3*x", "-x^T*x + 1", "(x^T*x)^2"])
def test_canonical_text_reads_back_to_the_same_tree(text):
    parsed = parse(text, SQUARE)
    assert parse(to_text(parsed), SQUARE).tree == parsed.tree


def test_tex():
    assert to_tex(parse("2*(W*x)*x^T", SQUARE)) == r"2 \left(W x\right) x^\top"
    assert to_tex(parse("2 W^T W x", SQUARE)) == r"2 W^\top W x"
    names = names_of({"W2": (2, 2), "delta2": (2, 1), "z1": (2, 1)}, tex={"W2": "W^{[2]}"})
    assert to_tex(parse("(W2^T delta2) .* relu'(z1)", names)) == \
        r"\left(W^{[2]\top} \delta_{2}\right) \circ \mathrm{ReLU}'\left(z_{1}\right)"


# ---------------------------------------------------------------------------- shapes

def test_shape_errors_are_their_own_outcome():
    with pytest.raises(ShapeError, match=r"\(2×3\)\(2×1\) is not defined"):
        shape_of(parse("2 W (W x)", WIDE))                 # W(Wx) with W 2 × 3
    with pytest.raises(ShapeError, match=r"\(1×3\)\(2×3\) is not defined"):
        shape_of(parse("x^T W", WIDE))
    with pytest.raises(ShapeError, match=r"\(2×1\) \+ \(3×1\) is not defined"):
        shape_of(parse("W x + x", WIDE))
    with pytest.raises(ShapeError, match="division by a"):
        shape_of(parse("x / x", WIDE))
    assert shape_of(parse("x^T x", WIDE)) == (1, 1)       # a number
    assert shape_of(parse("2 x (W x)^T", WIDE)) == (3, 2)


def test_a_shape_mismatch_is_not_the_same():
    verdict = same(parse("2 x (W x)^T", WIDE), parse("2*(W*x)*x^T", WIDE))
    assert not verdict.same and verdict.how == "shape" and "3×2" in verdict.reason


def test_not_the_same():
    # WᵀWx and WWᵀx differ where W is not symmetric: W = [[1, 2], [0, 1]], x = [1, 0] gives
    # Wᵀ(Wx) = Wᵀ[1, 0] = [1, 2] but W(Wᵀx) = W[1, 2] = [5, 2]
    W = [[1, 2], [0, 1]]
    x = [[1], [0]]
    assert value_at("W^T W x", SQUARE, W=W, x=x) != value_at("W W^T x", SQUARE, W=W, x=x)
    assert not same(parse("W W^T x", SQUARE), parse("W^T W x", SQUARE)).same
    assert not same(parse("W x x^T", SQUARE), parse("2 W x x^T", SQUARE)).same


def test_functions_are_decided_at_random_points():
    names = names_of({"z": ()}, {"a": "sigma(z)"})
    key = parse("a*(1-a)", names)
    # σ(1 − σ) = e^{−z}/(1 + e^{−z})², and σ'(z) is the same function
    for text in ["sigma(z)*(1-sigma(z))", "σ(z)(1−σ(z))", "sigma'(z)", "a - a^2",
                 "exp(-z)/(1+exp(-z))^2", "e^-z/(1+e^-z)^2"]:
        verdict = same(parse(text, names), key)
        assert verdict.same and verdict.how == "evaluation", text
    assert not same(parse("a(1+a)", names), key).same
    assert not same(parse("a(1-a) + 10^-30", names), key).same   # 40 digits see 1e-30


def test_the_same_verdict_twice():
    # the random points are seeded by the two texts: grading again gives the same result
    names = names_of({"z": (3, 1), "y": (3, 1)}, {"p": "softmax(z)"})
    first = [same(parse(t, names), parse("p - y", names)) for t in ("softmax(z) - y", "p + y")]
    again = [same(parse(t, names), parse("p - y", names)) for t in ("softmax(z) - y", "p + y")]
    assert first == again and first[0].same and not first[1].same


# ---------------------------------------------------------------------------- hostile input

@pytest.mark.parametrize("text, reason", [
    ("__import__('os').system('true')", "unexpected '_'"),
    ("eval(1)", "unknown name 'eval'"),
    ("x.__class__", "unexpected"),
    ("W; x", "unexpected ';'"),
    ("lambda: 1", "unexpected ':'"),
    ("(W x", "expected ')'"),
    ("W x)", "unexpected ')'"),
    ("", "empty"),
    ("   ", "empty"),
    ("2 3", "two numbers in a row"),
    ("W^", "incomplete"),
    ("foo(x)", "unknown name 'foo'"),
    ("x" * 401, "longer than 400 characters"),
    ("(" * 35 + "x" + ")" * 35, "nested too deeply"),
    ("-" * 35 + "x", "nested too deeply"),
    ("x" + "+x" * 150, "more than 200 symbols"),
    ("9" * 40, "number out of range"),
    ("1e999", "number out of range"),
    ("sqrt x", "needs its argument in parentheses"),
    ("softmax'(x)", "no derivative"),
    ("W\x00x", "unexpected"),
])
def test_hostile_input_is_refused_in_one_line(text, reason):
    with pytest.raises(FormulaError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        shape_of(parse(text, SQUARE))


@pytest.mark.parametrize("text", ["2**2**2**2**99", "exp(exp(exp(99)))", "9^65", "(x^T x)^99",
                                  "exp(exp(exp(exp(x^T x))))", "e^(e^(e^(e^(9))))"])
def test_numbers_too_large_to_evaluate_are_refused(text):
    # scalars: the key is a number, so the evaluation is reached
    names = names_of({"x": (2, 1)})
    result = judge(text, {"exact": "x^T*x", "symbols": {"x": [2, 1]}, "definitions": {}})
    assert result.outcome in ("unreadable", "wrong"), result
    if result.outcome == "unreadable":
        assert "large" in result.detail or "power" in result.detail
    del names


def test_judge_never_raises_on_what_was_typed():
    record = {"exact": "2*W^T*(W*x)", "symbols": {"W": [2, 2], "x": [2, 1]}, "definitions": {}}
    for text in ["", "\u202e", "ᵀᵀᵀ", "''''", "((((", "2 W x x x x x", "1/0", "log(0)*W*x",
                 "sqrt(-1) W x", "W/0 x", "\\frac{1}{2}", "x^x", "W^x", "W^2^2 x", "x'^T'"]:
        result = judge(text, record)
        assert result.outcome in ("unreadable", "wrong", "shape error"), (text, result)


# ---------------------------------------------------------------------------- grading

def _record(problem_id: str, seed, **options):
    problem = discover().problems[problem_id]
    opts = problem.Options(**options)
    return variant_record(draw_variant(problem, opts, seed))


def test_judge_against_matrix_backprop():
    record = _record("matrix_backprop", None)
    answer, mistakes = record["answers"]["dL_dx_formula"], record["mistakes"]
    assert judge("2Wᵀ(Wx)", answer, mistakes, "dL_dx_formula").outcome == "right"
    found = judge("2 W (W x)", answer, mistakes, "dL_dx_formula")
    assert found.outcome == "mistake" and found.mistakes == ("no_transpose",)
    assert judge("W^T W x", answer, mistakes, "dL_dx_formula").mistakes == ("missing_factor_2",)
    assert judge("2 W x", answer, mistakes, "dL_dx_formula").outcome == "wrong"
    assert judge("2 x^T W", answer, mistakes, "dL_dx_formula").outcome == "wrong"   # 1 × 2
    answer = record["answers"]["dL_dW_formula"]
    assert judge("2 x (Wx)^T", answer, mistakes, "dL_dW_formula").mistakes == ("transposed_outer",)
    assert judge("2 W x^T", answer, mistakes, "dL_dW_formula").outcome == "shape error"
    assert judge("2 W x x^T + y", answer, mistakes, "dL_dW_formula").outcome == "unreadable"


def test_judge_against_a_wide_variant():
    # m = 3, n = 2: W(Wx) is not defined, so no_transpose is not declared; it is a shape error
    record = _record("matrix_backprop", 7, m=3, n=2)
    answer = record["answers"]["dL_dx_formula"]
    assert answer["symbols"] == {"W": [3, 2], "x": [2, 1]}
    result = judge("2 W (W x)", answer, record["mistakes"], "dL_dx_formula")
    assert result.outcome == "shape error" and result.detail == "(3×2)(3×1) is not defined"
    assert judge("2 W^T W x", answer, record["mistakes"], "dL_dx_formula").outcome == "right"


# ---------------------------------------------------------------------------- the problems

FORMULA_ANSWERS = {
    "matrix_backprop": ["dL_dW_formula", "dL_dx_formula"],
    "logistic_regression": ["dl_dz", "dJ_dw_formula"],
    "activations": ["d_sigmoid_formula", "d_tanh_formula"],
    "softmax_cross_entropy": ["dL_dz_formula"],
    "mlp_backprop": ["delta1"],
    "regularization": ["dW_reg_formula"],
}

#: Other ways of writing each key formula (by hand: the same function of the symbols).
SPELLINGS = {
    "dL_dW_formula": ["2 W x x^T"], "dL_dx_formula": ["2 W^T W x"],
    "dl_dz": ["sigma(z) - y"], "dJ_dw_formula": ["sum((yhat - y) .* x)/m"],
    "d_sigmoid_formula": ["sigma(z)(1 - sigma(z))"],
    "d_tanh_formula": ["1 - tanh(z)^2"], "dL_dz_formula": ["softmax(z) - y"],
    "delta1": ["(W2^T (yhat - t)) ∘ step(z1)"], "dW_reg_formula": ["dW + (lambda/m) W"],
}


@pytest.mark.parametrize("problem_id", sorted(FORMULA_ANSWERS))
@pytest.mark.parametrize("seed", [None, 3])
def test_shipped_formula_answers(problem_id, seed):
    try:
        record = _record(problem_id, seed)
    except Exception:                                   # no canonical variant
        record = _record(problem_id, 11)
    for name in FORMULA_ANSWERS[problem_id]:
        answer = record["answers"][name]
        assert answer["kind"] == "formula" and answer["value"] is None and answer["part"]
        assert answer["points"] > 0
        # the key's own text, and the other spellings, are right
        assert judge(answer["exact"], answer, record["mistakes"], name).outcome == "right"
        for text in SPELLINGS[name]:
            assert judge(text, answer, record["mistakes"], name).outcome == "right", text
        # every declared mistake's formula is diagnosed as that mistake (and only it)
        for mistake in record["mistakes"]:
            formula = mistake["answers"].get(name)
            if formula is None:
                continue
            result = judge(formula["exact"], answer, record["mistakes"], name)
            assert result.outcome == "mistake" and mistake["id"] in result.mistakes, \
                (name, mistake["id"], result)


def test_logistic_regression_with_two_features():
    record = _record("logistic_regression", 5, d=2)
    answer = record["answers"]["dJ_dw_formula"]
    assert answer["exact"] == "1/m*X^T*(yhat - y)" and answer["symbols"]["X"] == [4, 2]
    assert judge("1/4 X^T (sigma(X w + b) - y)", answer, record["mistakes"],
                 "dJ_dw_formula").outcome == "right"
    assert judge("X^T (yhat - y)", answer, record["mistakes"],
                 "dJ_dw_formula").mistakes == ("missing_mean",)


def test_an_expression_must_be_read_and_defined():
    from wsgen import Answer
    with pytest.raises(ValueError, match="answer g: formula"):
        Answer("g", "g", Expression("W x x", {"W": (2, 2), "x": (2, 1)}))
    with pytest.raises(ValueError, match="a formula answer's value is an Expression"):
        Answer("g", "g", Expression("W x", {"W": (2, 2), "x": (2, 1)}), kind="number")
