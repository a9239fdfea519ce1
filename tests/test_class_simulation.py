"""A simulated class (scripts/simulate_class.py: exact, 4 and 3 significant digits, each
declared mistake, loose writing, decimal commas, garbage, blanks) on the default exam, graded
under two policies; every slot of every paper is checked against a computation made here
from answers.json alone: the exact values with SymPy, the rules written out below, none of
wsgen's parsing or comparison code.

Policy A is answers.json's (the default: each answer's tolerance |a − b| ≤ 1e-6 + 1e-3·|b|,
4 significant digits asked; a right value rounded to 3 earns 0.9; entry credit; a
diagnosed mistake 0; no choice penalty; no decimal comma).  Policy B is the command line's:
--sigfigs 3 --rounded-credit 0.5 --credit all-or-nothing --mistake-credit
missing_factor_2=0.5 --choice-penalty guessing --decimal-comma.  Both grade with
--follow-credit 0: a mistake paper's later answers, consistent with its earlier slip, would
otherwise be carried forward by each problem's own follow-through hook, which this test
cannot recompute without wsgen's code; follow-through is checked by hand in test_grading.py
and tests/test_follow_through.py.
"""
import csv
import json
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp

from conftest import load_script, run_cli

ROOT = Path(__file__).resolve().parent.parent
SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def _simulator():
    return load_script("simulate_class")


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    status, _, err = run_cli("build", "--out", folder / "out", "--formats", "json", "-q")
    assert status == 0, err
    answers = folder / "out" / "answers.json"
    return answers, json.loads(answers.read_text(encoding="utf-8"))


# ------------------------------------------------------------- the independent computation

def exact_value(exact: str) -> Fraction:
    """The exact value, from SymPy: a rational exactly, anything else to 40 digits."""
    value = sp.sympify(exact)
    if not (value.is_number and value.is_real):
        raise ValueError(f"not a real number: {exact!r}")
    if value.is_Rational:
        return Fraction(int(value.p), int(value.q))
    return Fraction(str(sp.N(value, 40)))


def decade(value: Fraction) -> int:
    """⌊log10 |value|⌋ by comparing with powers of ten."""
    e = 0
    while Fraction(10) ** e > abs(value):
        e -= 1
    while Fraction(10) ** (e + 1) <= abs(value):
        e += 1
    return e


def sigfigs_right(a: Fraction, b: Fraction, n: int) -> bool:
    """PrairieLearn's rule: |a − b| < 0.51·10^(e − n + 1), e = ⌊log10 |b|⌋ (0 for b = 0)."""
    e = 0 if b == 0 else decade(b)
    return abs(a - b) < Fraction(51, 100) * Fraction(10) ** (e - n + 1)


def read(text: str, decimal_comma: bool):
    """What the simulated students wrote, read back: None for unreadable."""
    text = text.strip()
    if "," in text:
        if not decimal_comma:
            return None
        text = text.replace(",", ".")
    if text.startswith("≈"):
        text = text[1:]
    if text.endswith(" (approx)"):
        text = text[:-len(" (approx)")]
    if "×10" in text:
        mantissa, power = text.split("×10")
        return Fraction(mantissa) * Fraction(10) ** int(power.translate(SUPERSCRIPT))
    try:
        return Fraction(text)
    except ValueError:
        pass
    try:
        return exact_value(text)
    except (sp.SympifyError, TypeError, SyntaxError, ValueError):
        return None


POLICY_A = dict(asked=4, credit="entries", rounded=Fraction(9, 10), mistakes={}, penalty=False,
                comma=False, tolerance=True)
POLICY_B = dict(asked=3, credit="all-or-nothing", rounded=Fraction(1, 2),
                mistakes={"missing_factor_2": Fraction(1, 2)}, penalty=True, comma=True,
                tolerance=False)
A_OPTIONS = ["--follow-credit", "0"]
B_OPTIONS = ["--follow-credit", "0", "--sigfigs", "3", "--rounded-credit", "0.5", "--credit", "all-or-nothing",
             "--mistake-credit", "missing_factor_2=0.5", "--choice-penalty", "guessing",
             "--decimal-comma"]


def classify(a: Fraction, exact: str, value: float, policy: dict) -> str:
    """"right", "rounded" (right to one digit fewer than asked) or "wrong"."""
    b = exact_value(exact)
    if policy["tolerance"]:
        right = abs(float(a) - value) <= 1e-6 + 1e-3 * abs(value)
    else:
        right = sigfigs_right(a, b, policy["asked"])
    if right:
        return "right"
    return "rounded" if sigfigs_right(a, b, policy["asked"] - 1) else "wrong"


def expected_points(answer: dict, name: str, given: dict, mistakes: list, policy: dict) -> Fraction:
    share = Fraction(answer["points"]).limit_denominator(10 ** 6)
    if answer["kind"] == "choice":
        text = given.get("")
        if text is None or len(text) != 1 or not text.isalpha():
            return Fraction(0)                       # blank or unreadable: never a penalty
        if text == answer["exact"]:
            return share
        return -share / (len(answer["options"]) - 1) if policy["penalty"] else Fraction(0)
    if answer["kind"] == "formula":
        # the simulator writes a formula as the key or a mistake writes it, or junk that
        # no formula reads as ("n/a", "?", "2x+1")
        text = given.get("")
        if text == answer["exact"]:
            return share
        credits = [policy["mistakes"].get(m["id"], Fraction(0)) for m in mistakes
                   if m["answers"].get(name, {}).get("exact") == text]
        return share * max(credits) if text is not None and credits else Fraction(0)
    entries = list(_simulator().numbered(answer["exact"], answer["value"]))
    if not any(entry in given for entry, _, _ in entries):
        return Fraction(0)
    numbers = {entry: read(given[entry], policy["comma"]) for entry, _, _ in entries if entry in given}
    kinds = [classify(numbers[e], x, v, policy) if numbers.get(e) is not None else "wrong"
             for e, x, v in entries]
    if all(k == "right" for k in kinds):
        return share
    if all(k in ("right", "rounded") for k in kinds):
        if policy["credit"] == "all-or-nothing":
            return share * policy["rounded"]
        return share * sum(Fraction(1) if k == "right" else policy["rounded"] for k in kinds) / len(kinds)
    if len(numbers) == len(entries) and all(n is not None for n in numbers.values()):
        credits = []
        for mistake in mistakes:
            record = mistake["answers"].get(name)
            if record is None:
                continue
            theirs = list(_simulator().numbered(record["exact"], record["value"]))
            if all(classify(numbers[e], x, v, policy) != "wrong" for e, x, v in theirs):
                credits.append(policy["mistakes"].get(mistake["id"], Fraction(0)))
        if credits:
            return share * max(credits)
    if policy["credit"] == "all-or-nothing":
        return Fraction(0)
    return share * sum(Fraction(1) if k == "right" else policy["rounded"] if k == "rounded" else 0
                       for k in kinds) / len(kinds)


def expected_class(manifest: dict, papers: list, policy: dict) -> dict:
    variants = {v["variant"]: v for v in manifest["variants"]}
    out = {}
    for paper in papers:
        given: dict = {}
        for label, name, entry, text in paper["rows"]:
            if text.strip():
                given.setdefault((label, name), {})[entry] = text
        slots = {}
        for problem in variants[paper["variant"]]["problems"]:
            slots[problem["label"]] = sum(
                (expected_points(answer, name, given.get((problem["label"], name), {}),
                                 problem["mistakes"], policy)
                 for name, answer in problem["answers"].items()), Fraction(0))
        out[paper["student"]] = slots
    return out


def shown(value: Fraction) -> str:
    """As grades.csv writes points: at most 4 decimals."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


# ------------------------------------------------------------------------------ the test

@pytest.mark.slow          # a class of 29 papers graded twice
@pytest.mark.parametrize("policy, options", [(POLICY_A, A_OPTIONS), (POLICY_B, B_OPTIONS)], ids=["A", "B"])
def test_a_simulated_class_under_two_policies(build, tmp_path, policy, options):
    answers, manifest = build
    simulator = _simulator()
    papers = simulator.papers(manifest)
    behaviours = {p["behaviour"] for p in papers}
    assert behaviours == set(simulator.BEHAVIOURS)
    mistakes = sum(len(p["mistakes"]) for p in manifest["variants"][-1]["problems"])
    assert sum(p["behaviour"] == "mistake" for p in papers) == mistakes >= 15
    responses = tmp_path / "responses.csv"
    simulator.write_csv(responses, papers, manifest["build"])
    status, out, err = run_cli("grade", responses, "--answers", answers, "--out", tmp_path / "g", *options)
    assert status == 0, err
    with open(tmp_path / "g" / "grades.csv", newline="", encoding="utf-8") as handle:
        grades = {row["student"]: row for row in csv.DictReader(handle)}
    expected = expected_class(manifest, papers, policy)
    assert set(grades) == set(expected)
    for student, slots in expected.items():
        row = grades[student]
        for label, points in slots.items():
            assert row[label] == shown(points), (student, label)
        assert row["total"] == shown(sum(slots.values(), Fraction(0))), student
    # the behaviours land where they should
    total = {p["behaviour"]: Fraction(grades[p["student"]]["total"]) for p in papers}
    assert total["exact"] == total["sig4"] == total["lenient"] == 60
    assert total["garbage"] == 0
    if policy is POLICY_A:
        assert 54 < total["sig3"] < 60 and total["decimal_comma"] < 30
        assert "right values rounded more coarsely than asked" in out
    else:
        assert total["sig3"] == total["decimal_comma"] == 60


def test_an_early_slip_is_carried_forward(build, tmp_path):
    """The "slip" papers under the default follow-through (full credit): in each
    matrix_backprop slot Wx's first entry is off and L, ∂L/∂W and ∂L/∂x are worked on right
    from it, so only Wx loses: half of its share (1 of its 2 entries right); every other
    answer is exact.  Expected from answers.json's shares alone."""
    answers, manifest = build
    simulator = _simulator()
    papers = [p for p in simulator.papers(manifest, ["slip"] * len(manifest["variants"]))]
    responses = tmp_path / "responses.csv"
    simulator.write_csv(responses, papers, manifest["build"])
    status, out, err = run_cli("grade", responses, "--answers", answers, "--out", tmp_path / "g")
    assert status == 0, err
    # L, ∂L/∂W and ∂L/∂x carried forward on every paper
    plural = "" if len(papers) == 1 else "s"
    assert f"carried forward (right for the student's own earlier values): {3 * len(papers)} " \
           f"on {len(papers)} paper{plural}" in out
    with open(tmp_path / "g" / "grades.csv", newline="", encoding="utf-8") as handle:
        grades = {row["student"]: row for row in csv.DictReader(handle)}
    variants = {v["variant"]: v for v in manifest["variants"]}
    for paper in papers:
        for problem in variants[paper["variant"]]["problems"]:
            expected = Fraction(problem["points"])
            if problem["problem"] == "matrix_backprop":
                wx = problem["answers"]["Wx"]
                expected -= Fraction(wx["points"]).limit_denominator(10 ** 6) / len(wx["value"])
            assert grades[paper["student"]][problem["label"]] == shown(expected), \
                (paper["student"], problem["label"])


def test_the_script_writes_the_same_class(build, tmp_path):
    """`python scripts/simulate_class.py` writes what papers() returns."""
    answers, manifest = build
    simulator = _simulator()
    assert simulator.main([str(answers), str(tmp_path / "r.csv"), "--papers", "40"]) == 0
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    papers = simulator.papers(manifest, count=40)
    assert len(papers) == 40 and {r["student"] for r in rows} == {p["student"] for p in papers}
    assert len(rows) == sum(len(p["rows"]) for p in papers)
    assert {r["build"] for r in rows} == {manifest["build"]}
