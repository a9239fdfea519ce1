"""The grading policy (issue 21): rounding rules, rounded-value credit, credit modes,
mistake credit, choice penalties, manual points and the exam file's [grading] settings.
Expected scores are worked out by hand in each test; the comments say how."""
import csv
import json
from fractions import Fraction

import pytest

from conftest import run_cli

# ------------------------------------------------------------------------------- rules


def test_significant_digits_as_prairielearn_compares_them():
    """sigfigs = N: right when |a − b| < 0.51·10^(e − N + 1), e = ⌊log10 |b|⌋.
    b = −11/6 = −1.8333…: e = 0, so 4 digits allow 0.00051, 3 digits 0.0051, 2 digits 0.051."""
    from wsgen.grading.policy import Rule
    b = Fraction(-11, 6)
    rule = Rule(sigfigs=4)
    assert rule.right(Fraction("-1.833"), b)             # |0.000333| < 0.00051
    assert not rule.right(Fraction("-1.834"), b)         # |0.000667|
    assert rule.coarser(Fraction("-1.834"), b, 1) == 3   # < 0.0051
    assert rule.coarser(Fraction("-1.83"), b, 1) == 3
    assert rule.coarser(Fraction("-1.8"), b, 1) is None  # |0.0333| > 0.0051
    assert rule.coarser(Fraction("-1.8"), b, 2) == 2     # < 0.051
    assert rule.coarser(Fraction("-1.83"), b, 0) is None
    # 151/150 = 1.00666…: 3 digits allow 0.0051, so 1.01 (|0.00333|) is right
    assert Rule(sigfigs=3).right(Fraction("1.01"), Fraction(151, 150))
    assert not Rule(sigfigs=4).right(Fraction("1.01"), Fraction(151, 150))
    # b = 0: e = 0, 3 digits allow 0.0051
    assert Rule(sigfigs=3).right(Fraction("0.005"), Fraction(0))
    assert not Rule(sigfigs=3).right(Fraction("0.006"), Fraction(0))
    # 0.000123456 to 3 digits: e = −4, 0.51·10^-6: 0.000123 (|4.56e-7|) right
    assert Rule(sigfigs=3).right(Fraction("0.000123"), Fraction("0.000123456"))
    assert not Rule(sigfigs=3).right(Fraction("0.000124"), Fraction("0.000123456"))


def test_decimal_places_and_tolerances():
    """decimals = N: |a − b| < 0.51·10^−N; a tolerance |a − b| ≤ abs + rel·|b|."""
    from wsgen.grading.policy import Rule
    b = Fraction(151, 150)                                 # 1.00666…
    assert Rule(decimals=2).right(Fraction("1.01"), b)    # |0.00333| < 0.0051
    assert not Rule(decimals=2).right(Fraction("1.00"), b)  # |0.00667|
    assert Rule(decimals=2).coarser(Fraction("1.0"), b, 1) == 1   # < 0.051
    assert Rule(decimals=0).right(Fraction(1), b)
    tolerance = Rule(rel=1e-3, abs=1e-6)                   # 1e-6 + 1e-3·0.116 = 1.17e-4
    assert tolerance.right(Fraction("0.1161"), Fraction("0.116"))
    assert not tolerance.right(Fraction("0.1162"), Fraction("0.116"))


@pytest.mark.parametrize("rule, asked, sentence", [
    # 4 digits: a correct rounding is off by at most 5·10^-4 of itself (≤ rel = 1e-3)
    ({"rel": 1e-3, "abs": 1e-6}, ("sigfigs", 4),
     "Give exact values where you can; round decimals to 4 significant digits."),
    ({"rel": 0.01}, ("sigfigs", 3), "Give exact values where you can; round decimals to 3 significant digits."),
    ({"abs": 0.005}, ("decimals", 2), "Give exact values where you can; round decimals to 2 decimal places."),
    ({"decimals": 1}, ("decimals", 1), "Give exact values where you can; round decimals to 1 decimal place."),
    ({"sigfigs": 2}, ("sigfigs", 2), "Give exact values where you can; round decimals to 2 significant digits."),
    ({"rel": 0, "abs": 0}, (None, None), "Give exact values."),
])
def test_what_a_rule_asks_and_the_sentence_the_sheet_prints(rule, asked, sentence):
    from wsgen.grading.policy import parse_rule
    parsed = parse_rule(rule, "grading")[0]
    assert parsed.asked() == asked and parsed.instruction() == sentence


def test_digit_grids_read_the_rule():
    """formats/amc.py entry_decimals: the fewest decimals d with 0.5·10^−d within the rule's
    width.  sigfigs 3 at 0.0123456: e = −2, width 0.51·10^-4, so d = 4 (0.0123); decimals 2:
    d = 2; the default tolerance at 0.0123456: 1e-6 + 1.23e-5 = 1.33e-5, so d = 5; sigfigs 3
    at 1234.5678: width 5.1, so d = 0."""
    from wsgen.formats.amc import entry_decimals
    assert entry_decimals({"rule": {"sigfigs": 3}}, 0.0123456) == 4
    assert entry_decimals({"rule": {"decimals": 2}}, 1.23456) == 2
    assert entry_decimals({"tolerance": {"abs": 1e-6, "rel": 1e-3}}, 0.0123456) == 5
    assert entry_decimals({"rule": {"abs": 1e-6, "rel": 1e-3}}, 0.0123456) == 5
    assert entry_decimals({"rule": {"sigfigs": 3}}, 1234.5678) == 0
    assert entry_decimals({"rule": {"sigfigs": 3}}, 0.25) == 2      # terminates: bubbled exactly


# ------------------------------------------------------------------------------ scoring

class R:
    """A response as grading reads it: its text and line."""
    def __init__(self, text, line=1):
        self.text, self.line = text, line


def number(exact, value, points=2, rule=None, credit="entries"):
    return {"kind": "number", "exact": exact, "value": value, "points": points, "part": "(a)",
            "tolerance": {"abs": 1e-6, "rel": 1e-3}, "credit": credit,
            **({"rule": rule} if rule else {})}


def vector(exact, value, points=2, rule=None, credit="entries"):
    record = number(exact, value, points, rule, credit)
    record["kind"] = "vector"
    return record


def score(answer, given, policy=None, mistakes=()):
    from wsgen.grading.policy import Policy
    from wsgen.grading.score import score_answer
    given = {entry: R(text) for entry, text in given.items()}
    return score_answer("x", answer, given, policy or Policy(), list(mistakes))


def test_a_right_value_rounded_more_coarsely_earns_the_rounded_credit():
    """−11/6 asked to 4 significant digits; −1.83 is right to 3: 0.9 of 2 points = 1.8."""
    from wsgen.grading.policy import Policy
    from wsgen.grading.score import Outcome
    answer = number("-11/6", -11 / 6, rule={"sigfigs": 4})
    result = score(answer, {"": "-1.83"})
    assert result.outcome is Outcome.ROUNDED and result.points == Fraction(9, 5)
    assert result.detail == "right value, rounded to 3 significant digits; 4 asked"
    assert not result.mistakes
    # 0.75 of 2 = 1.5; not credited at all with rounded_digits = 0
    assert score(answer, {"": "-1.83"}, Policy(rounded_credit=Fraction(3, 4))).points == Fraction(3, 2)
    assert score(answer, {"": "-1.83"}, Policy(rounded_digits=0)).outcome is Outcome.WRONG
    # −1.834 is not a rounding of −1.8333 to 3 digits as written, but right to 3
    assert score(answer, {"": "-1.834"}).detail == "right to 3 significant digits only; 4 asked"
    # under the default tolerance (4 digits asked): the 1.01 for 151/150
    default = number("151/150", 151 / 150)
    result = score(default, {"": "1.01"})
    assert result.outcome is Outcome.ROUNDED and result.points == Fraction(9, 5)
    assert score(default, {"": "1.007"}).outcome is Outcome.RIGHT


def test_entry_credit_and_all_or_nothing():
    """[1/3, 2/3] to 3 significant digits: 0.333 is right (|0.00033| < 0.00051), 0.67 right
    to 2 (|0.0033| < 0.0051).  Entries: 2 × (1 + 0.9)/2 = 1.9; all or nothing: 2 × 0.9.
    [0.333, 0.5]: one of two right: entries 1, all or nothing 0."""
    from wsgen.grading.score import Outcome
    answer = vector(["1/3", "2/3"], [1 / 3, 2 / 3], rule={"sigfigs": 3})
    assert score(answer, {"1": "0.333", "2": "0.67"}).points == Fraction(19, 10)
    whole = vector(["1/3", "2/3"], [1 / 3, 2 / 3], rule={"sigfigs": 3}, credit="all-or-nothing")
    result = score(whole, {"1": "0.333", "2": "0.67"})
    assert result.outcome is Outcome.ROUNDED and result.points == Fraction(9, 5)
    assert score(answer, {"1": "0.333", "2": "0.5"}).points == 1
    result = score(whole, {"1": "0.333", "2": "0.5"})
    assert result.outcome is Outcome.PARTLY and result.points == 0
    assert score(whole, {"1": "1/3", "2": "2/3"}).points == 2


def test_a_diagnosed_mistake_earns_its_credit_not_entry_credit():
    """Right [0, 2]; the mistake m1 gives [0, 1] (the zero entry coincides).  [0, 1] is m1:
    its credit, 0 by default (not 1 of 2 entries = 1 point), 0.5 when set: 1 point."""
    from wsgen.grading.policy import Policy
    from wsgen.grading.score import Outcome
    answer = vector(["0", "2"], [0.0, 2.0])
    mistakes = [{"id": "m1", "label": "halved", "why": "w",
                 "answers": {"x": {"exact": ["0", "1"], "value": [0.0, 1.0]}}},
                {"id": "m2", "label": "", "why": "w",
                 "answers": {"x": {"exact": ["0", "1"], "value": [0.0, 1.0]}}}]
    result = score(answer, {"1": "0", "2": "1"}, mistakes=mistakes)
    assert result.outcome is Outcome.MISTAKE and result.points == 0
    assert [m["id"] for m in result.mistakes] == ["m1", "m2"]
    credit = Policy(mistake_credit={"m1": Fraction(1, 2)})
    assert score(answer, {"1": "0", "2": "1"}, credit, mistakes).points == 1
    # two mistakes give it: the better credit
    both = Policy(mistake_credit={"m1": Fraction(1, 4), "m2": Fraction(3, 4)})
    assert score(answer, {"1": "0", "2": "1"}, both, mistakes).points == Fraction(3, 2)
    # [0, 3] is no mistake: 1 of 2 entries right, 1 point
    result = score(answer, {"1": "0", "2": "3"}, mistakes=mistakes)
    assert result.outcome is Outcome.PARTLY and result.points == 1 and not result.mistakes


def test_negative_marking_of_choices():
    """A choice of 4 options worth 3 points.  Penalty "guessing" = 1/(4 − 1): a wrong
    option −1 point; 0.25: −0.75; a blank or an unreadable letter 0; a mistake with a credit
    set earns it (0.5: 1.5 points), not the penalty."""
    from wsgen.grading.policy import Policy
    from wsgen.grading.score import Outcome
    answer = {"kind": "choice", "exact": "B", "value": 1, "points": 3, "part": "(a)",
              "tolerance": {"abs": 0, "rel": 0}, "options": ["a", "b", "c", "d"],
              "distractors": ["m1", None, None, None]}
    mistakes = [{"id": "m1", "label": "", "why": "w", "answers": {}}]
    guessing = Policy(choice_penalty="guessing")
    assert score(answer, {"": "B"}, guessing).points == 3
    assert score(answer, {"": "C"}, guessing).points == -1
    assert score(answer, {"": "C"}, Policy(choice_penalty=Fraction(1, 4))).points == Fraction(-3, 4)
    assert score(answer, {"": "C"}).points == 0                       # off by default
    assert score(answer, {}, guessing).outcome is Outcome.NO_ANSWER
    assert score(answer, {}, guessing).points == 0
    unreadable = score(answer, {"": "Z"}, guessing)
    assert unreadable.outcome is Outcome.UNREADABLE and unreadable.points == 0
    assert score(answer, {"": "A"}, guessing, mistakes).points == -1
    credited = Policy(choice_penalty="guessing", mistake_credit={"m1": Fraction(1, 2)})
    result = score(answer, {"": "A"}, credited, mistakes)
    assert result.outcome is Outcome.MISTAKE and result.points == Fraction(3, 2)


def test_decimal_comma_in_scoring():
    from wsgen.grading.policy import Policy
    from wsgen.grading.score import Outcome
    answer = number("3/2", 1.5)
    assert score(answer, {"": "1,5"}).outcome is Outcome.UNREADABLE
    assert score(answer, {"": "1,5"}, Policy(decimal_comma=True)).outcome is Outcome.RIGHT


# --------------------------------------------------------------------------- exam files

EXAM = """\
title = "Policy test"
id = "policy-test"
seed = 3
variants = 1

[grading]
sigfigs = 3
mistake_credit = { missing_factor_2 = 0.5 }

[[problems]]
label = "Q1"
problem = "matrix_backprop"
points = 10
options = { m = 2, n = 2 }
grading = { decimals = 2, credit = "all-or-nothing" }
manual = [{ part = "(b)", points = 2, rubric = "Derive dL/dW and dL/dx in matrix form: 1 point each." },
          { part = "(c)", points = 2 }]

[[problems]]
label = "Q2"
problem = "triplet_loss"
points = 5
options = { dim = 2 }
grading = { choice_penalty = "guessing" }
"""


@pytest.fixture(scope="module")
def policy_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("policy")
    exam = folder / "exam.toml"
    exam.write_text(EXAM, encoding="utf-8")
    status, _, err = run_cli("build", "--exam", exam, "--out", folder / "out", "--formats", "md,json", "-q")
    assert status == 0, err
    answers = folder / "out" / "answers.json"
    return folder, answers, json.loads(answers.read_text(encoding="utf-8"))


def test_the_exam_file_sets_the_rules_and_answers_json_carries_them(policy_build):
    """Q1: 10 points, 4 by hand, so its six answers (four numbers, two formulas) share 6:
    1 each; its rule decimals 2 (the slot's), all or nothing; Q2's rule sigfigs 3 (the
    exam's).  A formula answer is graded by what it means: no rule."""
    folder, _, manifest = policy_build
    q1, q2 = manifest["variants"][0]["problems"]
    assert {n: a["points"] for n, a in q1["answers"].items()} == {
        "Wx": 1, "L": 1, "dL_dW": 1, "dL_dx": 1, "dL_dW_formula": 1, "dL_dx_formula": 1}
    numbers = [a for a in q1["answers"].values() if a["kind"] != "formula"]
    assert {a["rule"]["decimals"] for a in numbers} == {2}
    assert {a["credit"] for a in numbers} == {"all-or-nothing"}
    assert {json.dumps(a.get("rule")) for a in q2["answers"].values() if a["kind"] != "choice"} == {'{"sigfigs": 3}'}
    assert q1["grading"]["mistake_credit"] == {"missing_factor_2": 0.5}
    assert [m["part"] for m in q1["grading"]["manual"]] == ["(b)", "(c)"]
    assert q2["grading"]["choice_penalty"] == "guessing" and q2["grading"]["manual"] == []
    # a tolerance the quiz formats can use: decimals 2 -> 0.51·10^-2 absolute
    assert q1["answers"]["L"]["tolerance"] == {"abs": 0.0051, "rel": 0.0}
    sheet = (folder / "out" / "canonical" / "questions.md").read_text(encoding="utf-8")
    assert "Give exact values where you can; round decimals to 3 significant digits " \
           "(Q1: 2 decimal places)." in sheet
    key = (folder / "out" / "canonical" / "key.md").read_text(encoding="utf-8")
    assert "### Graded by hand" in key
    assert "Part (b), 2 points: Derive dL/dW and dL/dx in matrix form: 1 point each. Part (c), 2 points." in key
    assert "Graded by hand" not in sheet


def shown(value: Fraction) -> str:
    """As grades.csv writes points: at most 4 decimals."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


def write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


RESPONSES = [   # canonical matrix_backprop: Wx = [0.22, 0.26], L = 0.116, dL/dW = 2(Wx)xᵀ,
                # dL/dx = 2Wᵀ(Wx) = [−0.112, 0.636]; triplet_loss: formula B, d_ap 0.08,
                # d_an 0.25, loss 0.03
    ["canonical", "ann", "Q1", "Wx", "1", "0.22"], ["canonical", "ann", "Q1", "Wx", "2", "0.26"],
    ["canonical", "ann", "Q1", "L", "", "0.12"],
    ["canonical", "ann", "Q1", "dL_dW", "1,1", "0.044"], ["canonical", "ann", "Q1", "dL_dW", "1,2", "0.088"],
    ["canonical", "ann", "Q1", "dL_dW", "2,1", "0.052"], ["canonical", "ann", "Q1", "dL_dW", "2,2", "0.104"],
    ["canonical", "ann", "Q1", "dL_dx", "1", "-0.11"], ["canonical", "ann", "Q1", "dL_dx", "2", "0.6"],
    ["canonical", "ann", "Q2", "formula", "", "C"], ["canonical", "ann", "Q2", "d_ap", "", "0.08"],
    ["canonical", "ann", "Q2", "d_an", "", "0.25"], ["canonical", "ann", "Q2", "loss", "", "0.03"],
    ["canonical", "ben", "Q1", "Wx", "1", "0,22"], ["canonical", "ben", "Q1", "Wx", "2", "0,26"],
]
HEADER = ["variant", "student", "label", "answer", "entry", "response"]


def test_rules_credits_and_manual_points_from_the_exam(policy_build, tmp_path):
    """ann, Q1 (decimals 2, all or nothing, 1 point each): Wx right 1; L 0.12 right
    (|0.004| < 0.0051) 1; dL/dW is missing_factor_2, credit 0.5: 0.5; dL/dx: −0.11 right,
    0.6 right only to 1 decimal (|0.036| < 0.051): rounded, 0.9 × 1 = 0.9; the two formulas
    not answered: 0.  Automatic 3.4; by hand (b) 1.5 + (c) 2 = 3.5; Q1 6.9.  Q2 (sigfigs 3, penalty 1/(k − 1) for k
    options): formula C wrong: −1/(k − 1) of its 1 point; the rest right, 1 + 1 + 2.
    ben: 0,22 is unreadable without a decimal comma; no manual points: 0."""
    folder, answers, manifest = policy_build
    options = len(manifest["variants"][0]["problems"][1]["answers"]["formula"]["options"])
    responses = write(tmp_path / "r.csv", HEADER, RESPONSES)
    manual = write(tmp_path / "m.csv", ["student", "label", "part", "points", "comment"],
                   [["ann", "Q1", "(b)", "1.5", "dL/dW right; dL/dx not transposed"],
                    ["ann", "Q1", "(c)", "2", ""]])
    status, out, err = run_cli("grade", responses, "--answers", answers, "--out", tmp_path / "g",
                               "--manual", manual)
    assert status == 0, err
    with open(tmp_path / "g" / "grades.csv", newline="", encoding="utf-8") as handle:
        grades = {row["student"]: row for row in csv.DictReader(handle)}
    q2 = 4 - Fraction(1, options - 1)
    ann = grades["ann"]
    assert (ann["Q1"], ann["Q2"], ann["max"]) == ("6.9", shown(q2), "15")
    assert (ann["automatic"], ann["manual"]) == (shown(Fraction(34, 10) + q2), "3.5")
    assert ann["total"] == shown(Fraction(69, 10) + q2)
    assert (grades["ben"]["total"], grades["ben"]["manual"]) == ("0", "0")
    feedback = (tmp_path / "g" / "feedback" / "ann.md").read_text(encoding="utf-8")
    assert "## Q1 (matrix\\_backprop): 6.9 / 10 (automatic 3.4, by hand 3.5)" in feedback
    assert "right values; (2) rounded to 1 decimal place; 2 asked" in feedback
    assert "- **graded by hand**, part (b): 1.5 / 2 points" in feedback
    assert "  - comment: dL/dW right; dL/dx not transposed" in feedback
    assert "  - rubric: Derive dL/dW and dL/dx in matrix form: 1 point each." in feedback
    assert f"a wrong option costs 1/{options - 1} of the answer" in feedback
    ben = (tmp_path / "g" / "feedback" / "ben.md").read_text(encoding="utf-8")
    assert "not graded yet (0 / 2 points)" in ben and "decimal comma" in ben
    assert "manual points not given (counted 0): Q1 (b) on 1 paper, Q1 (c) on 1 paper" in out
    # the same files give the same result
    first = {p.name: p.read_bytes() for p in (tmp_path / "g").rglob("*") if p.is_file()}
    status, _, err = run_cli("grade", responses, "--answers", answers, "--out", tmp_path / "g",
                             "--manual", manual)
    assert status == 0, err
    assert {p.name: p.read_bytes() for p in (tmp_path / "g").rglob("*") if p.is_file()} == first
    # the exam's decimal comma, given on the command line: ben's Wx is right (1)
    status, _, err = run_cli("grade", responses, "--answers", answers, "--out", tmp_path / "g2",
                             "--decimal-comma")
    assert status == 0, err
    with open(tmp_path / "g2" / "grades.csv", newline="", encoding="utf-8") as handle:
        assert {r["student"]: r for r in csv.DictReader(handle)}["ben"]["Q1"] == "1"


@pytest.mark.parametrize("rows, line, needle", [
    ([["ann", "Q2", "", "1", ""]], 2, "Q2 has no manual points"),
    ([["ann", "Q1", "(b)", "3", ""]], 2, "3 points for Q1 part (b): expected 0 to 2"),
    ([["ann", "Q1", "(b)", "-1", ""]], 2, "expected 0 to 2"),
    ([["ann", "Q1", "", "1", ""]], 2, "give the part"),
    ([["ann", "Q1", "(a)", "1", ""]], 2, "no manual points there"),
    ([["ann", "Q1", "(b)", "1", ""], ["ann", "Q1", "(b)", "2", ""]], 3, "line 2 too"),
    ([["zoe", "Q1", "(b)", "1", ""]], 2, "zoe' has no responses"),
    ([["ann", "Q9", "(b)", "1", ""]], 2, "label 'Q9' is not an exam slot"),
    ([["ann", "Q1", "(b)", "two", ""]], 2, "not a number"),
])
def test_bad_manual_points_are_one_line_naming_the_line(policy_build, tmp_path, rows, line, needle):
    _, answers, _ = policy_build
    responses = write(tmp_path / "r.csv", HEADER, RESPONSES)
    manual = write(tmp_path / "m.csv", ["student", "label", "part", "points", "comment"], rows)
    status, _, err = run_cli("grade", responses, "--answers", answers, "--out", tmp_path / "g",
                             "--manual", manual)
    assert status == 2 and err.count("\n") == 1, err
    assert f"{manual}:{line}:" in err and needle in err, err
    assert not (tmp_path / "g").exists()


def test_command_line_overrides(policy_build, tmp_path):
    """--sigfigs 2 --credit entries over the exam's: ann's L 0.12 is right; dL/dx [−0.11,
    0.6]: −0.11 right (2 digits allow 0.0051), 0.6 right to 1 digit only: rounded, entry
    credit 1 × (1 + 0.9)/2 = 0.95; --mistake-credit missing_factor_2=0: dL/dW 0.
    Q1 automatic: 1 + 1 + 0 + 0.95 = 2.95."""
    _, answers, _ = policy_build
    responses = write(tmp_path / "r.csv", HEADER, RESPONSES)
    status, _, err = run_cli("grade", responses, "--answers", answers, "--out", tmp_path / "g",
                             "--sigfigs", "2", "--credit", "entries",
                             "--mistake-credit", "missing_factor_2=0")
    assert status == 0, err
    with open(tmp_path / "g" / "grades.csv", newline="", encoding="utf-8") as handle:
        assert {r["student"]: r for r in csv.DictReader(handle)}["ann"]["Q1"] == "2.95"


@pytest.mark.parametrize("args, needle", [
    (["--sigfigs", "0"], "--sigfigs"),
    (["--sigfigs", "3", "--decimals", "2"], "give one rule"),
    (["--rounded-credit", "2"], "--rounded-credit"),
    (["--mistake-credit", "no_such_mistake=0.5"], "no mistake 'no_such_mistake'"),
    (["--mistake-credit", "missing_factor_2"], "ID=SHARE"),
    (["--choice-penalty", "lots"], "guessing"),
])
def test_bad_overrides_exit_2(policy_build, tmp_path, args, needle):
    _, answers, _ = policy_build
    responses = write(tmp_path / "r.csv", HEADER, RESPONSES)
    status, _, err = run_cli("grade", responses, "--answers", answers, "--out", tmp_path / "g", *args)
    assert status == 2 and needle in err, err
    assert not (tmp_path / "g").exists()


def test_a_manifest_from_before_policies_is_graded_by_its_tolerances(policy_build, tmp_path):
    """answers.json without "rule", "credit" and "grading": each answer's tolerance,
    entry credit, no manual points (the edited manifest keeps the answers' 1 point).
    ann's Wx is right, 1; L 0.12 for 0.116 is neither within 1e-6 + 1e-3·0.116 = 1.17e-4
    nor right to 3 digits (0.51e-3): 0."""
    _, answers, manifest = policy_build
    for variant in manifest["variants"]:
        for problem in variant["problems"]:
            problem.pop("grading")
            for answer in problem["answers"].values():
                answer.pop("rule", None)
                answer.pop("credit", None)
                answer["tolerance"] = {"abs": 1e-6, "rel": 1e-3}
    old = tmp_path / "answers.json"
    old.write_text(json.dumps(manifest), encoding="utf-8")
    responses = write(tmp_path / "r.csv", HEADER, RESPONSES[:3])
    status, out, err = run_cli("grade", responses, "--answers", old, "--out", tmp_path / "g")
    assert status == 0, err
    with open(tmp_path / "g" / "grades.csv", newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert "automatic" not in row and row["Q1"] == "1"      # Wx only: 1 as written


EXAM_ERRORS = [
    ('grading = { decimals = 2, credit = "all-or-nothing" }', 'grading = { decimal_comma = true }',
     "problems[1].grading.decimal_comma: unknown field"),
    ('grading = { decimals = 2, credit = "all-or-nothing" }', 'grading = { decimals = 16 }',
     "problems[1].grading.decimals: expected a whole number from 0 to 15"),
    ('grading = { decimals = 2, credit = "all-or-nothing" }', 'grading = { mistake_credit = { nope = 1 } }',
     "problems[1].grading.mistake_credit.nope: matrix_backprop declares no mistake 'nope'"),
    ('part = "(c)", points = 2', 'part = "(z)", points = 2',
     "matrix_backprop has no part '(z)'"),
    ('part = "(c)", points = 2', 'part = "(c)", points = 9',
     "problems[1].manual: 11 manual points, but the slot is worth 10"),
    ('part = "(c)", points = 2', 'part = "(b)", points = 2', "'(b)' has manual points twice"),
    ('part = "(c)", points = 2', 'points = 2', "give each of several manual items its part"),
    ('missing_factor_2 = 0.5', 'missing_factr_2 = 0.5',
     "grading.mistake_credit.missing_factr_2: no problem of the exam declares this mistake"),
    ('sigfigs = 3\n', 'sigfigs = 3\nrel = 0.1\n', "give one rule"),
]


@pytest.mark.parametrize("old, new, needle", EXAM_ERRORS)
def test_bad_grading_settings_in_the_exam_file(tmp_path, old, new, needle):
    assert old in EXAM
    exam = tmp_path / "exam.toml"
    exam.write_text(EXAM.replace(old, new, 1), encoding="utf-8")
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "out", "--formats", "json", "-q")
    assert status == 2 and err.count("\n") == 1, err
    assert needle in err and f"{exam}:" in err, err
    line = int(err.split(f"{exam}:")[1].split(":")[0])
    assert line > 0


def test_the_default_exam_prints_its_rounding_from_the_grading_rule(tmp_path):
    """default.toml says nothing of rounding; its sheets still end the instructions with
    the sentence of the default rule (4 significant digits), as before."""
    from wsgen.exam.load import DEFAULT_EXAM
    assert "significant" not in DEFAULT_EXAM.read_text(encoding="utf-8").split("[[problems]]")[0] \
        .split("pledge")[0]
    status, _, err = run_cli("build", "--out", tmp_path / "out", "--variants", "0", "--formats", "md", "-q")
    assert status == 0, err
    sheet = (tmp_path / "out" / "canonical" / "questions.md").read_text(encoding="utf-8")
    assert "Answer every question and show your working. Give exact values where you can; " \
           "round decimals to 4 significant digits." in sheet
