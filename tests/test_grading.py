"""`wsgen grade`: scores, partial credit, diagnoses and outputs, checked against values worked
out here independently (by hand for the canonical variant; with SymPy on the manifest's
exact strings for the random ones), and every kind of bad input."""
import csv
import io
import json
import math
import random
import re
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp

from conftest import TWO_SLOTS, run_cli

EXAM = """\
title = "Grading test"
id = "grading-test"
seed = 11
variants = 2
""" + TWO_SLOTS
# The answers' shares of the slot points, from the problems' Answer weights: matrix_backprop's
# six answers (four numbers, two formulas) weigh 1 each (10/6 points); triplet_loss's formula, d_ap and d_an 1
# each and loss 2 (of 5 in all), so 1, 1, 1 and 2 points.
SHARES = {"Q1": {"Wx": Fraction(5, 3), "L": Fraction(5, 3), "dL_dW_formula": Fraction(5, 3),
                 "dL_dx_formula": Fraction(5, 3), "dL_dW": Fraction(5, 3), "dL_dx": Fraction(5, 3)},
          "Q2": {"formula": Fraction(1), "d_ap": Fraction(1), "d_an": Fraction(1), "loss": Fraction(2)}}
HEADER = ["variant", "student", "label", "answer", "entry", "response"]


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grading")
    exam = folder / "exam.toml"
    exam.write_text(EXAM, encoding="utf-8")
    status, _, err = run_cli("build", "--exam", exam, "--out", folder / "out", "--formats", "json", "-q")
    assert status == 0, err
    manifest = json.loads((folder / "out" / "answers.json").read_text(encoding="utf-8"))
    return folder / "out" / "answers.json", manifest


def write_csv(path: Path, rows, header=HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def grades_of(out: Path) -> dict:
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return {(r["variant"], r["student"]): r for r in csv.DictReader(handle)}


def feedback_of(text: str) -> dict:
    """{(slot, answer): {"points": "got / max", "diagnoses": {ids}, "lines": [...]}}."""
    found, slot, current = {}, None, None
    for line in text.splitlines():
        heading = re.match(r"## (\S+) \(", line)
        if heading:
            slot = heading.group(1)
            continue
        item = re.match(r"- \*\*((?:\\.|\w)+)\*\*.*: (\S+ / \S+) points", line)
        if item:
            name = re.sub(r"\\(.)", r"\1", item.group(1))        # Markdown escapes: dL\_dW
            current = found.setdefault((slot, name), {"points": item.group(2),
                                                                 "diagnoses": set(), "lines": []})
            continue
        if current is not None and line.startswith("  - "):
            current["lines"].append(line[4:])
            diagnosis = re.match(r"  - diagnosis: `(\w+)`", line)
            if diagnosis:
                current["diagnoses"].add(diagnosis.group(1))
    return found


def points(value: Fraction) -> str:
    """As grades.csv writes points: at most 4 decimals."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


def entry_list(exact):
    """[(entry, exact string)] as answers.csv numbers them."""
    if isinstance(exact, list) and exact and isinstance(exact[0], list):
        return [(f"{i},{j}", e) for i, row in enumerate(exact, 1) for j, e in enumerate(row, 1)]
    if isinstance(exact, list):
        return [(str(i), e) for i, e in enumerate(exact, 1)]
    return [("", exact)]


def correct_rows(variant: dict, student: str = "", use="exact"):
    rows = []
    for problem in variant["problems"]:
        for name, answer in problem["answers"].items():
            if answer["kind"] in ("choice", "formula"):
                rows.append([variant["variant"], student, problem["label"], name, "", answer["exact"]])
                continue
            values = dict(entry_list(answer["value"])) if use == "value" else None
            for entry, exact in entry_list(answer["exact"]):
                rows.append([variant["variant"], student, problem["label"], name, entry,
                             repr(values[entry]) if values else exact])
    return rows


def run_grade(responses, answers, out):
    return run_cli("grade", responses, "--answers", answers, "--out", out)


# ------------------------------------------------------------------------------ scores

def test_all_correct_answers_earn_full_marks(build, tmp_path):
    answers, manifest = build
    rows = []
    for i, variant in enumerate(manifest["variants"]):
        # exact strings for some papers, the decimals of answers.csv for others
        rows += correct_rows(variant, use="value" if i % 2 else "exact")
    status, out, err = run_grade(write_csv(tmp_path / "r.csv", rows), answers, tmp_path / "g")
    assert status == 0, err
    grades = grades_of(tmp_path / "g")
    assert list(grades) == [(v["variant"], "") for v in manifest["variants"]]
    for row in grades.values():
        assert (row["Q1"], row["Q2"], row["total"], row["max"]) == ("10", "5", "15", "15")
    names = sorted(p.name for p in (tmp_path / "g" / "feedback").iterdir())
    # by default the feedback is written in Markdown and as an HTML page
    assert names == sorted(f"{v['variant']}.{ext}" for v in manifest["variants"] for ext in ("md", "html"))
    assert "no declared mistake found" in out and "unreadable" not in out


def test_canonical_papers_hand_checked(build, tmp_path):
    """W = [[0.1, 0.5], [-0.3, 0.8]], x = [0.2, 0.4] by hand: Wx = [0.22, 0.26], L = 0.116,
    dL/dW = 2(Wx)xᵀ = [[0.088, 0.176], [0.104, 0.208]], dL/dx = 2Wᵀ(Wx) = [-0.112, 0.636].
    Mistakes: factor 2 dropped halves both gradients; W for Wᵀ gives 2W(Wx) = [0.304, 0.284];
    2x(Wx)ᵀ = [[0.088, 0.104], [0.176, 0.208]] (two entries right by coincidence);
    the norm for its square gives sqrt(0.116)."""
    answers, _ = build
    right = {"Wx": ["0.22", "0.26"], "L": ["0.116"], "dL_dW": ["0.088", "0.176", "0.104", "0.208"],
             "dL_dx": ["-0.112", "0.636"], "formula": ["B"], "d_ap": ["0.08"], "d_an": ["0.25"],
             "loss": ["0.03"], "dL_dW_formula": ["2*(W*x)*x^T"], "dL_dx_formula": ["2 W^T (W x)"]}
    entries = {"Wx": ["1", "2"], "L": [""], "dL_dW": ["1,1", "1,2", "2,1", "2,2"],
               "dL_dx": ["1", "2"], "formula": [""], "d_ap": [""], "d_an": [""], "loss": [""],
               "dL_dW_formula": [""], "dL_dx_formula": [""]}
    slot = {name: ("Q1" if name in SHARES["Q1"] else "Q2") for name in right}

    def paper(student, **changes):
        out = []
        for name, values in right.items():
            given = changes.get(name, values)
            for entry, value in zip(entries[name], given):
                if value is not None:
                    out.append(["canonical", student, slot[name], name, entry, value])
        return out

    rows = (paper("all_right", Wx=["11/50", "0.26"], L=["0.22^2 + 0.26**2"], dL_dx=["-(0.112)", "636/1000"])
            + paper("factor2", dL_dW=["0.044", "0.088", "0.052", "0.104"], dL_dx=["-0.056", "0.318"])
            + paper("transpose", dL_dx=["0.304", "0.284"])
            + paper("outer", dL_dW=["0.088", "0.104", "0.176", "0.208"])
            + paper("norm", L=["sqrt(0.116)"])
            + paper("unreadable", Wx=["abc", "0.26"], L=["0.1l6"])
            + paper("partial", dL_dW=["0.088", "0.176", "0.1", "0.208"], dL_dx=["-0.112", None])
            + paper("tolerance_in", L=["0.1161"])    # |0.0001| <= 1e-6 + 1e-3 * 0.116
            + paper("tolerance_out", L=["0.1162"])   # |0.0002| >  1.17e-4, < 0.51e-3 (3 digits)
            + paper("choices", formula=["c"], loss=["0.37"])   # anchor-positive/negative swapped
            + paper("no_margin", formula=["(A)"], loss=["0"]))
    responses = write_csv(tmp_path / "r.csv", rows)
    status, out, err = run_grade(responses, answers, tmp_path / "g")
    assert status == 0, err
    grades = grades_of(tmp_path / "g")
    share = Fraction(10, 6)       # Q1's six answers weigh 1 each: 10/6 points
    expected = {   # (Q1, Q2) points
        "all_right": (10, 5),
        "factor2": (10 - 2 * share, 5),                    # dL_dW and dL_dx: 0 each
        "transpose": (10 - share, 5),
        # 2 of 4 entries right by coincidence, but the whole is transposed_outer: its
        # credit (0 by default), not entry credit
        "outer": (10 - share, 5),
        "norm": (10 - share, 5),
        "unreadable": (10 - share * Fraction(1, 2) - share, 5),            # Wx 1 of 2; L 0
        "partial": (4 * share + share * Fraction(3, 4) + share * Fraction(1, 2), 5),
        "tolerance_in": (10, 5),
        # right to 3 significant digits, 4 asked: 0.9 of L's share
        "tolerance_out": (5 * share + share * Fraction(9, 10), 5),
        "choices": (10, Fraction(2)),                      # formula 0 of 1, loss 0 of 2
        "no_margin": (10, Fraction(2)),
    }
    assert sorted(s for _, s in grades) == sorted(expected)
    for student, (q1, q2) in expected.items():
        row = grades[("canonical", student)]
        assert (row["Q1"], row["Q2"], row["total"], row["max"]) == \
            (points(Fraction(q1)), points(Fraction(q2)), points(Fraction(q1) + q2), "15"), student
    # 10 - 10/6 = 8.3333; 40/6 + 10/6 * 5/4 = 8.75; 10 - 1/6 = 9.8333
    assert grades[("canonical", "outer")]["Q1"] == "8.3333" and grades[("canonical", "partial")]["Q1"] == "8.75"
    assert grades[("canonical", "tolerance_out")]["Q1"] == "9.8333"

    feedback = {s: feedback_of((tmp_path / "g" / "feedback" / f"{s}.md").read_text(encoding="utf-8"))
                for s in expected}
    assert feedback["factor2"][("Q1", "dL_dW")]["diagnoses"] == {"missing_factor_2"}
    assert feedback["factor2"][("Q1", "dL_dx")]["diagnoses"] == {"missing_factor_2"}
    assert feedback["transpose"][("Q1", "dL_dx")]["diagnoses"] == {"no_transpose"}
    assert feedback["outer"][("Q1", "dL_dW")]["diagnoses"] == {"transposed_outer"}
    assert feedback["outer"][("Q1", "dL_dW")]["points"] == "0 / 1.6667"
    assert feedback["norm"][("Q1", "L")]["diagnoses"] == {"norm_not_squared"}
    assert feedback["choices"][("Q2", "formula")]["diagnoses"] == {"swapped_positive_negative"}
    assert feedback["choices"][("Q2", "loss")]["diagnoses"] == {"swapped_positive_negative"}
    # loss = 0 is what dropping the margin gives, and what unsquared norms give here
    assert feedback["no_margin"][("Q2", "loss")]["diagnoses"] == {"no_margin", "norms_not_squared"}
    assert feedback["no_margin"][("Q2", "formula")]["diagnoses"] == {"no_margin"}
    partial = feedback["partial"][("Q1", "dL_dW")]
    assert partial["diagnoses"] == set() and partial["points"] == "1.25 / 1.6667"    # 10/6 * 3/4
    assert any("no declared mistake" in line for line in partial["lines"])
    assert any("3 of 4 entries right" in line and "(2,1)" in line for line in partial["lines"])
    assert feedback["tolerance_out"][("Q1", "L")]["diagnoses"] == set()
    assert "result: right to 3 significant digits only; 4 asked" in \
        feedback["tolerance_out"][("Q1", "L")]["lines"]
    assert not any("no declared mistake" in line for line in feedback["tolerance_out"][("Q1", "L")]["lines"])
    # the pointer to the key's step
    assert "see the key, Q1, part (c)" in feedback["outer"][("Q1", "dL_dW")]["lines"]
    unreadable = feedback["unreadable"][("Q1", "L")]
    assert any(line.startswith("result: unreadable: `0.1l6`") for line in unreadable["lines"])
    assert any("given: `0.1l6`" in line for line in unreadable["lines"])
    # the expected value as the key prints it: 29/250 terminates, so the key writes 0.116
    assert any("expected: $0.116$" in line for line in unreadable["lines"])
    # a closed form keeps its written arithmetic and a rounded decimal (key.md's form)
    transposed = feedback["transpose"][("Q1", "dL_dx")]["lines"]
    assert any(line == "expected: $\\begin{bmatrix}-0.112\\\\0.636\\end{bmatrix}$"
               for line in transposed), transposed
    # the class summary: answers with each mistake, and papers
    counts = {m.group(3): (int(m.group(1)), int(m.group(2)))
              for m in re.finditer(r"^\s+(\d+)\s+(\d+)\s+\w+/(\w+)", out, re.M)}
    assert counts == {"missing_factor_2": (2, 1), "no_transpose": (1, 1), "transposed_outer": (1, 1),
                      "norm_not_squared": (1, 1), "swapped_positive_negative": (2, 1),
                      "no_margin": (2, 1), "norms_not_squared": (1, 1)}
    ranked = re.findall(r"^\s+(\d+)\s+\d+\s+\w+/\w+", out, re.M)
    assert [int(n) for n in ranked] == sorted((int(n) for n in ranked), reverse=True)
    # unreadable responses are reported with the file and line
    text = responses.read_text(encoding="utf-8").splitlines()
    for needle in ("abc", "0.1l6"):
        line = next(i for i, t in enumerate(text, 1) if t.endswith("," + needle))
        assert f"{responses}:{line}:" in out


def _value(exact: str) -> float:
    """The manifest's exact string, evaluated independently with SymPy."""
    return float(sp.sympify(exact))


def _close(a: float, b: float, tol: dict) -> bool:
    return abs(a - b) <= tol["abs"] + tol["rel"] * abs(b)


def _within_sigfigs(a: float, b: float, digits: int) -> bool:
    """PrairieLearn's significant-figure rule, in floats: |a − b| < 0.51·10^(e − digits + 1)."""
    e = 0 if b == 0 else math.floor(math.log10(abs(b)))
    return abs(a - b) < 0.51 * 10 ** (e - digits + 1)


def test_a_slip_carried_forward_by_hand(build, tmp_path):
    """Follow-through on the canonical Q1 (W = [[0.1, 0.5], [-0.3, 0.8]], x = [0.2, 0.4]):
    a student writes Wx = [0.32, 0.26] (0.22 slipped) and then works on right from it, by
    hand: L = 0.32² + 0.26² = 0.17; dL/dW = 2(Wx)xᵀ = [[0.128, 0.256], [0.104, 0.208]];
    dL/dx = 2Wᵀ(Wx) = 2·[0.1·0.32 − 0.3·0.26, 0.5·0.32 + 0.8·0.26] = [−0.092, 0.736].
    Six answers of 10/6 points: Wx earns half (1 of 2 entries); L, dL/dW and dL/dx are
    carried forward (full credit by default); the two formulas right: Q1 = 5/6 + 3·10/6 +
    2·10/6 = 55/6.  With --follow-credit 0.5 they earn half: 5/6 + 3·5/6 + 20/6 = 40/6.
    With --follow-credit 0: L 0, dL/dW 2 of 4 entries (its second row is right), dL/dx 0:
    5/6 + 5/6 + 20/6 = 5."""
    answers, _ = build
    given = {"Wx": [("1", "0.32"), ("2", "0.26")], "L": [("", "0.17")],
             "dL_dW": [("1,1", "0.128"), ("1,2", "0.256"), ("2,1", "0.104"), ("2,2", "0.208")],
             "dL_dx": [("1", "-0.092"), ("2", "0.736")],
             "dL_dW_formula": [("", "2 (W x) x^T")], "dL_dx_formula": [("", "2 W^T W x")]}
    rows = [["canonical", "carry", "Q1", name, entry, text]
            for name, pairs in given.items() for entry, text in pairs]
    responses = write_csv(tmp_path / "r.csv", rows)
    expected = {None: Fraction(55, 6), "0.5": Fraction(40, 6), "0": Fraction(5)}
    for credit, q1 in expected.items():
        out = tmp_path / f"g{credit}"
        extra = [] if credit is None else ["--follow-credit", credit]
        status, stdout, err = run_cli("grade", responses, "--answers", answers, "--out", out, *extra)
        assert status == 0, err
        assert grades_of(out)[("canonical", "carry")]["Q1"] == points(q1), credit
        feedback = feedback_of((out / "feedback" / "carry.md").read_text(encoding="utf-8"))
        if credit != "0":
            assert "answers carried forward" in stdout and "3 on 1 paper" in stdout
            for name in ("L", "dL_dW", "dL_dx"):
                assert any(line.startswith("result: carried forward from your Wx (a): right method")
                           for line in feedback[("Q1", name)]["lines"]), (credit, name)
        else:
            assert "carried forward" not in stdout


def test_every_declared_mistake_is_diagnosed_in_every_variant(build, tmp_path):
    answers, manifest = build
    rows, expected, diagnoses = [], {}, {}
    for variant in manifest["variants"]:
        for problem in variant["problems"]:
            for mistake in problem["mistakes"]:
                student = f"{variant['variant']}-{problem['label']}-{mistake['id']}"
                paper = correct_rows(variant, student)
                for name, wrong in mistake["answers"].items():
                    paper = [r for r in paper if not (r[2] == problem["label"] and r[3] == name)]
                    answer = problem["answers"][name]
                    if answer["kind"] in ("choice", "formula"):
                        paper.append([variant["variant"], student, problem["label"], name, "", wrong["exact"]])
                        continue
                    for entry, exact in entry_list(wrong["exact"]):
                        paper.append([variant["variant"], student, problem["label"], name, entry, exact])
                rows += paper
                # expected: per answer, the share when every entry is within tolerance;
                # a declared mistake's value earns its credit (0 by default), not entry
                # credit; one within 3 significant digits of the right value is a rounding
                totals = {"Q1": Fraction(0), "Q2": Fraction(0)}
                for slot in variant["problems"]:
                    for name, answer in slot["answers"].items():
                        share = SHARES[slot["label"]][name]
                        wrong = mistake["answers"].get(name) if slot is problem else None
                        if wrong is None:
                            totals[slot["label"]] += share
                        elif answer["kind"] in ("choice", "formula"):
                            # a mistaken formula is another formula (tests/test_formula.py
                            # checks that none is equivalent to the right one)
                            if wrong["exact"] == answer["exact"]:
                                totals[slot["label"]] += share
                            else:
                                diagnoses[(student, slot["label"], name)] = mistake["id"]
                        else:
                            pairs = [(_value(w), _value(e)) for (_, w), (_, e) in
                                     zip(entry_list(wrong["exact"]), entry_list(answer["exact"]))]
                            good = [_close(w, e, answer["tolerance"]) for w, e in pairs]
                            rounded = [g or _within_sigfigs(w, e, 3) for g, (w, e) in zip(good, pairs)]
                            if all(good):
                                totals[slot["label"]] += share
                            elif all(rounded):
                                totals[slot["label"]] += share * sum(
                                    Fraction(1) if g else Fraction(9, 10) for g in good) / len(good)
                            else:
                                diagnoses[(student, slot["label"], name)] = mistake["id"]
                expected[student] = totals
    assert len(expected) >= 3 * 6
    status, out, err = run_grade(write_csv(tmp_path / "r.csv", rows), answers, tmp_path / "g")
    assert status == 0, err
    grades = grades_of(tmp_path / "g")
    for (variant, student), row in grades.items():
        totals = expected[student]
        assert (row["Q1"], row["Q2"], row["total"]) == (
            points(totals["Q1"]), points(totals["Q2"]), points(totals["Q1"] + totals["Q2"])), student
    for (student, slot, name), mistake_id in diagnoses.items():
        text = (tmp_path / "g" / "feedback" / f"{student}.md").read_text(encoding="utf-8")
        assert mistake_id in feedback_of(text)[(slot, name)]["diagnoses"], (student, name)


def test_roster_manifest_names_the_papers_by_student(tmp_path):
    exam = tmp_path / "exam.toml"
    exam.write_text(EXAM.replace("variants = 2\n", ""), encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns01,Ann\ns02,Bob\n", encoding="utf-8")
    status, _, err = run_cli("build", "--exam", exam, "--roster", roster, "--secret", tmp_path / "key",
                             "--out", tmp_path / "out", "--formats", "json", "-q")
    assert status == 0, err
    manifest = json.loads((tmp_path / "out" / "answers.json").read_text(encoding="utf-8"))
    s02 = next(v for v in manifest["variants"] if v["student"] == "s02")
    rows = [r for r in correct_rows(s02, "") if r[3] != "L"]       # L left out: 10/6 points
    # a roster build's responses carry the build id printed on the papers
    responses = write_csv(tmp_path / "r.csv", [[manifest["build"], r[0], *r[2:]] for r in rows],
                          header=["build", "variant", "label", "answer", "entry", "response"])
    status, out, err = run_grade(responses, tmp_path / "out" / "answers.json", tmp_path / "g")
    assert status == 0, err
    assert grades_of(tmp_path / "g")[(s02["variant"], "s02")]["total"] == "13.3333"    # 15 - 10/6
    text = (tmp_path / "g" / "feedback" / "s02.md").read_text(encoding="utf-8")
    assert "given: no answer" in text
    # a row naming another student than the manifest's is refused
    bad = write_csv(tmp_path / "bad.csv", [[manifest["build"], s02["variant"], "s01", "Q1", "L", "", "1"]],
                    header=["build", *HEADER])
    status, _, err = run_grade(bad, tmp_path / "out" / "answers.json", tmp_path / "g2")
    assert status == 2 and f"{bad}:2:" in err and "s02" in err and not (tmp_path / "g2").exists()


def test_a_copy_of_answers_csv_with_a_response_column_grades(build, tmp_path):
    answers, manifest = build
    with open(answers.parent / "answers.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    header, body = table[0], table[1:]
    rows = [row + [row[header.index("exact")]] for row in body if row[0] == "v001"]
    status, _, err = run_grade(write_csv(tmp_path / "r.csv", rows, header=header + ["response"]),
                               answers, tmp_path / "g")
    assert status == 0, err
    assert grades_of(tmp_path / "g")[("v001", "")]["total"] == "15"
    # the same copy with another build's exact value is refused: the manifest does not match
    exact_column = header.index("exact")
    rows[3][exact_column] = "12345/7"
    status, _, err = run_grade(write_csv(tmp_path / "r2.csv", rows, header=header + ["response"]),
                               answers, tmp_path / "g2")
    assert status == 2 and f"{tmp_path / 'r2.csv'}:5:" in err and "another build" in err


def test_numeric_answers_asked_as_multiple_choice(tmp_path):
    """An exam slot asking matrix_backprop's answers as 4-option choices: the response is a
    letter, and a wrong option is diagnosed by the mistake (or slip) the manifest says
    produces it."""
    exam = tmp_path / "exam.toml"
    exam.write_text('title = "MC"\nseed = 3\nvariants = 0\n[[problems]]\nlabel = "Q1"\n'
                    'problem = "matrix_backprop"\npoints = 10\nmultiple_choice = 4\n', encoding="utf-8")
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "b", "--formats", "json", "-q")
    if status != 0 and "multiple_choice" in err:
        pytest.skip("this build has no multiple-choice slots")
    assert status == 0, err
    manifest = json.loads((tmp_path / "b" / "answers.json").read_text(encoding="utf-8"))
    problem = manifest["variants"][0]["problems"][0]
    choices = problem["answers"]
    # the numbers are asked as choices; the formulas of part (b) stay typed formulas
    assert {n for n, a in choices.items() if a["kind"] == "choice"} == {"Wx", "L", "dL_dW", "dL_dx"}
    assert {n for n, a in choices.items() if a["kind"] != "choice"} == {"dL_dW_formula", "dL_dx_formula"}
    # the option missing_factor_2 leads to for dL_dW: the one showing the halved gradient,
    # [[0.044, 0.088], [0.052, 0.104]] by hand (see test_canonical_papers_hand_checked)
    halved = next(i for i, o in enumerate(choices["dL_dW"]["options"])
                  if o["value"] == [[0.044, 0.088], [0.052, 0.104]])
    wrong_L = next(i for i, o in enumerate(choices["L"]["options"]) if o["value"] != 0.116)
    letter = lambda i: "ABCDEF"[i]
    rows = [["canonical", "", "Q1", "Wx", "", choices["Wx"]["exact"].lower()],
            ["canonical", "", "Q1", "L", "", letter(wrong_L)],
            ["canonical", "", "Q1", "dL_dW", "", f"({letter(halved)})"],
            ["canonical", "", "Q1", "dL_dx", "", "7"]]
    status, out, err = run_grade(write_csv(tmp_path / "r.csv", rows), tmp_path / "b" / "answers.json",
                                 tmp_path / "g")
    assert status == 0, err
    assert grades_of(tmp_path / "g")[("canonical", "")]["total"] == "1.6667"     # Wx only: 10 / 6
    feedback = feedback_of((tmp_path / "g" / "feedback" / "canonical.md").read_text(encoding="utf-8"))
    assert feedback[("Q1", "dL_dW")]["diagnoses"] == {"missing_factor_2"}
    slip = choices["L"]["distractors"][wrong_L]
    assert feedback[("Q1", "L")]["diagnoses"] == ({slip} if slip else set())
    assert any("unreadable" in line for line in feedback[("Q1", "dL_dx")]["lines"])
    assert "missing_factor_2" in out and f"{tmp_path / 'r.csv'}:5:" in out


# ------------------------------------------------------------------------------ bad input

BAD = [
    ("unknown variant", "variant,label,answer,entry,response\nv999,Q1,L,,0.1\n", 2, "v999"),
    ("unknown label", "variant,label,answer,entry,response\nv001,Q9,L,,0.1\n", 2, "Q9"),
    ("unknown answer", "variant,label,answer,entry,response\nv001,Q1,M,,0.1\n", 2, "no answer 'M'"),
    ("entry of a scalar", "variant,label,answer,entry,response\nv001,Q1,L,1,0.1\n", 2, "no entry"),
    ("entry out of range", "variant,label,answer,entry,response\nv001,Q1,Wx,3,0.1\n", 2, "no entry"),
    ("matrix entry", "variant,label,answer,entry,response\nv001,Q1,dL_dW,\"3,1\",0.1\n", 2, "no entry"),
    ("duplicate", "variant,label,answer,entry,response\nv001,Q1,L,,0.1\nv001,Q1,Wx,1,1\n"
                  "v001,Q1,L,,0.2\n", 4, "line 2"),
    ("missing column", "variant,label,answer,response\nv001,Q1,L,0.1\n", 1, "entry"),
    ("empty file", "", 1, "header"),
    ("header only", "variant,label,answer,entry,response\n", None, "no responses"),
    ("ragged row", "variant,label,answer,entry,response\nv001,Q1,L,,0.1,9\n", 2, "fields"),
    ("open quote", "variant,label,answer,entry,response\nv001,Q1,L,,\"0.1\n", 2, "CSV"),
    ("wrong problem", "variant,problem,label,answer,entry,response\nv001,regularization,Q1,L,,1\n",
     2, "another build"),
    ("wrong seed", "variant,seed,label,answer,entry,response\nv001,1,Q1,L,,1\n", 2, "another build"),
    ("student on two variants", "variant,student,label,answer,entry,response\nv001,ann,Q1,L,,1\n"
                                "v002,ann,Q1,L,,1\n", 3, "ann"),
    ("students on some rows only", "variant,student,label,answer,entry,response\n"
                                   "v001,ann,Q1,L,,1\nv001,,Q1,Wx,1,1\n", 3, "student"),
]


@pytest.mark.parametrize("text, line, needle", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_responses_are_one_line_exit_2_nothing_written(build, tmp_path, text, line, needle):
    answers, _ = build
    responses = tmp_path / "r.csv"
    responses.write_text(text, encoding="utf-8")
    status, out, err = run_grade(responses, answers, tmp_path / "g")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (f"{responses}:{line}:" if line else f"{responses}:") in err and needle in err
    assert not (tmp_path / "g").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


def test_not_utf8_and_bad_manifests(build, tmp_path):
    answers, manifest = build
    responses = tmp_path / "r.csv"
    responses.write_bytes(b"variant,label,answer,entry,response\nv001,Q1,L,,\xff\n")
    status, _, err = run_grade(responses, answers, tmp_path / "g")
    assert status == 2 and f"{responses}:2: not UTF-8" in err
    responses.write_text("variant,label,answer,entry,response\nv001,Q1,L,,1\n", encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"variants": [\n{"variant": }', encoding="utf-8")
    status, _, err = run_grade(responses, broken, tmp_path / "g")
    assert status == 2 and f"{broken}:2: not valid JSON" in err
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"title": "x"}), encoding="utf-8")
    status, _, err = run_grade(responses, other, tmp_path / "g")
    assert status == 2 and "not a wsgen answers manifest" in err
    # a manifest from another build (one variant only): the responses name variants it lacks
    smaller = tmp_path / "smaller.json"
    smaller.write_text(json.dumps({**manifest, "variants": manifest["variants"][:1]}), encoding="utf-8")
    status, _, err = run_grade(responses, smaller, tmp_path / "g")
    assert status == 2 and f"{responses}:2:" in err and "another build" in err
    status, _, err = run_grade(tmp_path / "missing.csv", answers, tmp_path / "g")
    assert status == 2 and "missing.csv" in err
    assert not (tmp_path / "g").exists()


def _sha256(path: Path) -> str:
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_outputs_replace_an_earlier_grading_and_keep_what_grading_did_not_write(build, tmp_path):
    answers, manifest = build
    responses = write_csv(tmp_path / "r.csv", correct_rows(manifest["variants"][1], "ann"))
    out = tmp_path / "g"
    assert run_grade(responses, answers, out)[0] == 0
    # what grading wrote is recorded, with the SHA-256 of each file (hashed here with hashlib)
    record = json.loads((out / ".wsgen-files.json").read_text(encoding="utf-8"))
    assert record["writer"] == "grade" and record["state"] == "complete"
    assert record["files"] == {rel: _sha256(out / rel) for rel in ("grades.csv", "analysis.csv", "analysis.html", "grading.json", "feedback/ann.md",
                                                                        "feedback/ann.html")}
    (out / "feedback" / "notes.txt").write_text("my notes", encoding="utf-8")
    responses = write_csv(tmp_path / "r.csv", correct_rows(manifest["variants"][1], "bob"))
    assert run_grade(responses, answers, out)[0] == 0
    # ann's feedback (written by the earlier grading, unchanged) goes; the user's notes stay
    assert sorted(p.name for p in (out / "feedback").iterdir()) == ["bob.html", "bob.md", "notes.txt"]
    assert (out / "feedback" / "notes.txt").read_text(encoding="utf-8") == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g", "r.csv"]     # no temporary left
    assert not list(out.glob(".wsgen-staging-*"))
    # a feedback file edited since grading wrote it is not overwritten: the run is refused
    (out / "feedback" / "bob.md").write_text("edited by hand", encoding="utf-8")
    status, _, err = run_grade(responses, answers, out)
    assert status == 2 and f"{out / 'feedback' / 'bob.md'}: changed since wsgen wrote it" in err
    assert (out / "feedback" / "bob.md").read_text(encoding="utf-8") == "edited by hand"


def test_a_users_files_are_never_overwritten_or_deleted(build, tmp_path):
    """Issue 28, item 1: a folder holding only the user's grades.csv (or a folder named
    grades.csv, with data in it) is not an earlier grading: the run is refused, and
    nothing of the user's changes."""
    answers, manifest = build
    responses = write_csv(tmp_path / "r.csv", correct_rows(manifest["variants"][0]))
    marks = tmp_path / "marks"
    marks.mkdir()
    (marks / "grades.csv").write_text("mine\n", encoding="utf-8")
    status, out, err = run_grade(responses, answers, marks)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert f"{marks / 'grades.csv'}: not written by wsgen" in err
    assert sorted(p.name for p in marks.iterdir()) == ["grades.csv"]
    assert (marks / "grades.csv").read_text(encoding="utf-8") == "mine\n"
    folder = tmp_path / "d"
    (folder / "grades.csv").mkdir(parents=True)
    (folder / "grades.csv" / "data.txt").write_text("data", encoding="utf-8")
    status, _, err = run_grade(responses, answers, folder)
    assert status == 2 and f"{folder / 'grades.csv'}: a folder stands where" in err
    assert (folder / "grades.csv" / "data.txt").read_text(encoding="utf-8") == "data"
    assert sorted(p.name for p in folder.iterdir()) == ["grades.csv"]
    # nor is a build's folder taken for grades (a later build would remove them)
    status, _, err = run_grade(responses, answers, answers.parent)
    assert status == 2 and "inside the build folder" in err and not (answers.parent / "grades.csv").exists()
    # nor a folder below it: a build folder is published, and grades would go with it
    status, _, err = run_grade(responses, answers, answers.parent / "students" / "grades")
    assert status == 2 and "inside the build folder" in err and err.count("\n") == 1
    assert not (answers.parent / "students").exists()


def test_a_failed_write_leaves_nothing(build, tmp_path, monkeypatch):
    """The writer failing half-way (a full disk): no output folder, no temporary left."""
    answers, manifest = build
    responses = write_csv(tmp_path / "r.csv", [*correct_rows(manifest["variants"][0], "ann"),
                                                *correct_rows(manifest["variants"][1], "bob")])
    import io as io_module
    opened = []
    real_open = io_module.open

    def open_fails_second(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wx") and str(file).endswith(".md"):
            opened.append(file)
            if len(opened) == 2:
                raise OSError(28, "No space left on device")
        return real_open(file, mode, *args, **kwargs)
    monkeypatch.setattr(io_module, "open", open_fails_second)
    status, _, err = run_grade(responses, answers, tmp_path / "g")
    monkeypatch.undo()
    assert len(opened) == 2 and status == 2 and "No space left" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


KILLED_GRADE = """\
import builtins, io, os, signal, sys
real = io.open
def killing_open(file, mode="r", *args, **kwargs):
    if any(c in mode for c in "wx") and str(file).endswith(".md"):
        os.kill(os.getpid(), signal.SIGKILL)        # half-way through writing the feedback
    return real(file, mode, *args, **kwargs)
builtins.open = io.open = killing_open
from wsgen.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_killed_grading_leaves_nothing_the_next_run_keeps(build, tmp_path):
    """Issue 28, item 12: SIGKILL while the files are written.  The earlier grades stay as
    they were; the next run removes the abandoned staging folder, beside or inside --out."""
    import subprocess
    import sys
    answers, manifest = build
    out = tmp_path / "g"
    first = write_csv(tmp_path / "r1.csv", correct_rows(manifest["variants"][0], "ann"))
    assert run_grade(first, answers, out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name.endswith((".csv", ".md"))}
    second = write_csv(tmp_path / "r2.csv", correct_rows(manifest["variants"][1], "bob"))
    killed = subprocess.run([sys.executable, "-c", KILLED_GRADE, "grade", second, "--answers",
                             answers, "--out", out], capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()
            and p.name.endswith((".csv", ".md")) and ".wsgen-staging" not in str(p)} == before
    status, _, err = run_grade(second, answers, out)
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g", "r1.csv", "r2.csv"]
    assert not list(out.glob(".wsgen-staging-*"))
    assert sorted(p.name for p in (out / "feedback").iterdir()) == ["bob.html", "bob.md"]


def test_out_as_a_link_dangling_looping_or_the_current_folder(build, tmp_path, monkeypatch):
    """Issue 28, items 11 and 20: --out a link to a folder is followed (the link stays a
    link, nothing is left beside it); a dangling or looping link is one line, exit 2;
    --out . grades into the current folder."""
    answers, manifest = build
    responses = write_csv(tmp_path / "r.csv", correct_rows(manifest["variants"][0], "ann"))
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    status, _, err = run_grade(responses, answers, tmp_path / "link")
    assert status == 0, err
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / "grades.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "r.csv", "real"]
    assert run_grade(responses, answers, tmp_path / "link")[0] == 0      # and again
    (tmp_path / "dangling").symlink_to("nowhere")
    (tmp_path / "loop").symlink_to("loop")
    for name, needle in (("dangling", "which does not exist"), ("loop", "loops")):
        status, _, err = run_grade(responses, answers, tmp_path / name)
        assert status == 2 and "symbolic link" in err and needle in err and err.count("\n") == 1, err
        assert (tmp_path / name).is_symlink() and not (tmp_path / "nowhere").exists()
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    status, out, err = run_grade(responses, answers, ".")
    assert status == 0, err
    assert sorted(p.name for p in here.iterdir() if not p.name.startswith(".wsgen")) == \
        ["analysis.csv", "analysis.html", "feedback", "grades.csv", "grading.json"]


# ------------------------------------------------------------------------------ parsing

READABLE = [
    ("0.25", Fraction(1, 4)), ("3/8", Fraction(3, 8)), (" -0.5 ", Fraction(-1, 2)),
    ("'-0.5", Fraction(-1, 2)), ("\u22120.5", Fraction(-1, 2)), (".5", Fraction(1, 2)),
    ("2.5e-3", Fraction(1, 400)), ("2^10", Fraction(1024)), ("2**3**2", Fraction(512)),
    ("-2^2", Fraction(-4)), ("(1+2)*3/4", Fraction(9, 4)), ("1/(1+exp(-0.5))", 0.6224593312018546),
    ("sqrt(2)", 2 ** 0.5), ("log(e)", 1.0), ("ln(1)", 0.0), ("pi/2", 1.5707963267948966),
    ("exp(1) - E", 0.0), ("tanh(0)", 0.0), ("4^(1/2)", 2.0), ("--1", Fraction(1)),
    # lenient forms (issue 21), values by hand: e^-1 = 0.36787944117144233
    ("≈0.21", Fraction(21, 100)), ("~ 0.21", Fraction(21, 100)), ("0.21 (approx)", Fraction(21, 100)),
    ("0.21 approx.", Fraction(21, 100)), ("0.21 APPROX", Fraction(21, 100)),
    ("2e^-1", 2 * 0.36787944117144233), ("e^-1", 0.36787944117144233), ("exp(-1)", 0.36787944117144233),
    ("-2e^(-1)", -2 * 0.36787944117144233), ("2pi", 2 * 3.141592653589793),
    ("3exp(0)", 3.0), ("2sqrt(4)", 4.0),
    ("2.5×10^-3", Fraction(1, 400)), ("2.5x10^-3", Fraction(1, 400)), ("2.5 X 10^(-3)", Fraction(1, 400)),
    ("2.5·10^-3", Fraction(1, 400)), ("2.5 × 10⁻³", Fraction(1, 400)), ("10⁻³", Fraction(1, 1000)),
    ("0.22²", Fraction(121, 2500)), ("2⁺²", Fraction(4)), ("− 0.5", Fraction(-1, 2)),
    ("−2.5×10⁻³", Fraction(-1, 400)), ("≈ −0.21 (approx.)", Fraction(-21, 100)),
]
UNREADABLE = ["", "abc", "0.1l6", "1,5", "2e", "2 pi pi", "2(3)", "(1)(2)", "2^2pi", "x10^3",
              "2.5 x 10", "≈≈1", "1 approx approx", "(approx) 1", "1.2.3", "½", "2 ^ ⁻", "10⁻", "1/0", "log(-1)", "sqrt(-1)", "(1", "1)",
              "__import__('os')", "exp(1000)", "10^10^10", "1e999", "x+1", "(" * 40 + "1" + ")" * 40,
              "1" * 300, "0^-1", "(-8)^(1/3)", "sin(1)", "3 4", "=1+1", "1e300*1e300"]


@pytest.mark.parametrize("text, value", READABLE)
def test_readable_responses(text, value):
    from wsgen.grading.parse import read_number
    got = read_number(text)
    assert got == value if isinstance(value, Fraction) else got == pytest.approx(value, abs=1e-15)
    assert isinstance(got, Fraction) == isinstance(value, Fraction)


@pytest.mark.parametrize("text", UNREADABLE)
def test_unreadable_responses(text):
    from wsgen.grading.parse import Unreadable, read_number
    with pytest.raises(Unreadable):
        read_number(text)


def test_decimal_comma_only_when_asked():
    """1,5 is 3/2 with decimal_comma, and refused without it, with a hint: never guessed."""
    from wsgen.grading.parse import Unreadable, read_number
    assert read_number("1,5", decimal_comma=True) == Fraction(3, 2)
    assert read_number("-0,25", decimal_comma=True) == Fraction(-1, 4)
    assert read_number("≈ 2,5×10⁻³", decimal_comma=True) == Fraction(1, 400)
    assert read_number("1.5", decimal_comma=True) == Fraction(3, 2)
    for text in ("1,5", "1, 5", "-1,25"):
        with pytest.raises(Unreadable, match="decimal comma"):
            read_number(text)
    for text in ("1.234,5", "1,2,3"):            # a thousands separator is never read
        with pytest.raises(Unreadable):
            read_number(text, decimal_comma=True)


def test_the_parser_never_raises_anything_else():
    from wsgen.grading.parse import Unreadable, read_number
    rng = random.Random(5)
    alphabet = "0123456789.+-*/^()eEpi sqrtlogxn,'\"_[]≈~×·⁻³²−approx"
    for _ in range(8000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        try:
            value = read_number(text, decimal_comma=rng.random() < 0.5)
        except Unreadable:
            continue
        assert isinstance(value, (Fraction, float))


def test_choice_diagnosis_uses_distractors_and_numeric_options():
    from wsgen.grading.compare import choice_mistakes
    formula = {"exact": "B", "options": ["a", "b", "c"], "distractors": ["m1", None, "m3"]}
    mistakes = [{"id": "m1", "answers": {"f": {"value": 0, "exact": "A"}}},
                {"id": "m2", "answers": {"g": {"value": 1.0, "exact": "1"}}}]
    assert choice_mistakes("f", formula, 0, mistakes) == ["m1"]
    assert choice_mistakes("f", formula, 2, mistakes) == ["m3"]
    assert choice_mistakes("f", formula, 1, mistakes) == []
    # a numeric answer asked as a choice: the mistake's value, and "option" its letter
    numeric = {"exact": "A", "options": [{"exact": "1/2", "value": 0.5}] * 3,
               "distractors": [None, "slip_sign", "m2"]}
    mistakes = [{"id": "m2", "answers": {"g": {"value": 1.0, "exact": "1", "option": "C"}}}]
    assert choice_mistakes("g", numeric, 1, mistakes) == ["slip_sign"]   # value 1.0 is not index 1
    assert choice_mistakes("g", numeric, 2, mistakes) == ["m2"]


# ------------------------------------------------------------------------------ issue 28

ROSTER_EXAM = """\
title = "Roster"
id = "roster-test"
""" + TWO_SLOTS


def test_minimal_responses_against_another_roster_builds_answers_are_refused(tmp_path):
    """Issue 28, item 2: two roster builds of one exam and roster under different secrets
    have the same variant ids but other numbers.  Responses in the minimal form graded
    against the wrong answers.json used to give 0 or 1 of 15 with exit 0."""
    exam = tmp_path / "exam.toml"
    exam.write_text(ROSTER_EXAM, encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns01,Ann\ns02,Bob\n", encoding="utf-8")
    for name in ("rb1", "rb2"):
        status, _, err = run_cli("build", "--exam", exam, "--roster", roster, "--secret",
                                 tmp_path / f"{name}.key", "--out", tmp_path / name,
                                 "--formats", "json", "-q")
        assert status == 0, err
        # a new secret is announced even with -q: its path, and that the variants depend on it
        assert "created a new roster secret" in err and str(tmp_path / f"{name}.key") in err
        assert "variant" in err
    rb1, rb2 = (json.loads((tmp_path / n / "answers.json").read_text(encoding="utf-8"))
                for n in ("rb1", "rb2"))
    assert [v["variant"] for v in rb1["variants"]] == [v["variant"] for v in rb2["variants"]]
    assert rb1["build"] != rb2["build"] and re.fullmatch(r"[0-9a-f]{12}", rb1["build"])
    papers = [r for v in rb1["variants"] if v["student"] for r in correct_rows(v)]
    minimal = write_csv(tmp_path / "min.csv", [[r[0], *r[2:]] for r in papers],
                        header=["variant", "label", "answer", "entry", "response"])
    status, out, err = run_grade(minimal, tmp_path / "rb2" / "answers.json", tmp_path / "g")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert f"{minimal}:1: no build column" in err and "roster build" in err
    with_id = write_csv(tmp_path / "id.csv", [[rb1["build"], r[0], *r[2:]] for r in papers],
                        header=["build", "variant", "label", "answer", "entry", "response"])
    status, _, err = run_grade(with_id, tmp_path / "rb2" / "answers.json", tmp_path / "g")
    assert status == 2 and f"{with_id}:2: build {rb1['build']!r}" in err and "another build" in err
    assert not (tmp_path / "g").exists()
    status, _, err = run_grade(with_id, tmp_path / "rb1" / "answers.json", tmp_path / "g")
    assert status == 0, err
    assert {r["total"] for r in grades_of(tmp_path / "g").values()} == {"15"}
    # answers.csv carries the id on every row, so a copy of it with responses is checked too
    with open(tmp_path / "rb1" / "answers.csv", newline="", encoding="utf-8") as handle:
        assert {row["build"] for row in csv.DictReader(handle)} == {rb1["build"]}


def test_a_copy_of_another_builds_answers_csv_is_refused_by_its_build_id(build, tmp_path):
    """Without a roster too: the build column, when given, must be the manifest's."""
    answers, manifest = build
    with open(answers.parent / "answers.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    header, body = table[0], table[1:]
    rows = [row + [row[header.index("exact")]] for row in body if row[0] == "v001"]
    rows[2][header.index("build")] = "0123456789ab"
    status, _, err = run_grade(write_csv(tmp_path / "r.csv", rows, header=header + ["response"]),
                               answers, tmp_path / "g")
    assert status == 2 and f"{tmp_path / 'r.csv'}:4: build '0123456789ab'" in err


def test_one_student_whatever_the_normalisation_or_case_of_the_name(build, tmp_path):
    """Issue 28, item 3: "José" in NFC and in NFD (e + U+0301), and in capitals, on one
    variant are one student: one paper with every mark, not three with a part each."""
    import unicodedata
    answers, manifest = build
    rows = correct_rows(manifest["variants"][1])
    spellings = [unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José"),
                 unicodedata.normalize("NFD", "JOSÉ ")]
    assert len(set(spellings)) == 3
    for i, row in enumerate(rows):
        row[1] = spellings[i % 3]
    status, _, err = run_grade(write_csv(tmp_path / "r.csv", rows), answers, tmp_path / "g")
    assert status == 0, err
    grades = grades_of(tmp_path / "g")
    assert list(grades) == [("v001", "José")] and grades[("v001", "José")]["total"] == "15"
    # the same entry answered under two spellings is ambiguous: refused, both lines named
    rows.append([*rows[0][:1], spellings[1], *rows[0][2:]])
    status, _, err = run_grade(write_csv(tmp_path / "r2.csv", rows), answers, tmp_path / "g2")
    assert status == 2 and f"{tmp_path / 'r2.csv'}:{len(rows) + 1}: duplicate row" in err
    assert "also on line 2" in err
    # and a name on two variants, whatever its spelling
    rows = [["v001", "ann", "Q1", "L", "", "1"], ["v002", "ANN", "Q1", "L", "", "1"]]
    status, _, err = run_grade(write_csv(tmp_path / "r3.csv", rows), answers, tmp_path / "g3")
    assert status == 2 and "with variant 'v001' on line 2" in err


def test_labels_are_compared_trimmed(build, tmp_path):
    """Issue 28, item 4: a manifest label with blanks around it (from a build before labels
    were normalised) can be graded; the response's label is read the same way."""
    answers, manifest = build
    old = json.loads(answers.read_text(encoding="utf-8"))
    for variant in old["variants"]:
        variant["problems"][0]["label"] = " Q1 "
    old_answers = tmp_path / "old.json"
    old_answers.write_text(json.dumps(old), encoding="utf-8")
    rows = correct_rows(old["variants"][1])
    status, _, err = run_grade(write_csv(tmp_path / "r.csv", rows), old_answers, tmp_path / "g")
    assert status == 0, err
    assert grades_of(tmp_path / "g")[("v001", "")]["total"] == "15"


def test_answers_csv_escaping_round_trips(tmp_path):
    """Issue 28, item 5: labels "=A" and "'=A" stay two labels through answers.csv: a full
    copy of answers.csv with a response column earns every mark, in two columns."""
    exam = tmp_path / "exam.toml"
    exam.write_text('title = "E"\n[[problems]]\nlabel = "=A"\nproblem = "activations"\n'
                    '[[problems]]\nlabel = "\'=A"\nproblem = "activations"\n', encoding="utf-8")
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "b", "--variants", 1,
                             "--formats", "json", "-q")
    assert status == 0, err
    with open(tmp_path / "b" / "answers.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    header, body = table[0], table[1:]
    assert {row[header.index("label")] for row in body} == {"'=A", "''=A"}
    rows = [row + [row[header.index("exact")]] for row in body]
    status, _, err = run_grade(write_csv(tmp_path / "r.csv", rows, header=header + ["response"]),
                               tmp_path / "b" / "answers.json", tmp_path / "g")
    assert status == 0, err
    with open(tmp_path / "g" / "grades.csv", newline="", encoding="utf-8") as handle:
        grades = list(csv.reader(handle))
    assert grades[0] == ["variant", "student", "'=A", "''=A", "total", "max"]
    assert [row[2:] for row in grades[1:]] == [["1", "1", "2", "2"]] * 2
    from wsgen.formats.csv import read_cell, safe_cell
    for text in ["=A", "'=A", "''=A", "'A", "A", "-1", "'", "", "@x", "+", "''"]:
        assert read_cell(safe_cell(text)) == text


def _outside_code(line: str) -> str:
    """A Markdown line without its code spans (their text is shown literally)."""
    return re.sub(r"`[^`]*`", "", line)


def test_feedback_shows_user_text_literally(build, tmp_path):
    """Issue 28, item 8: a title, a student's name, a label and a mistake's label that are
    Markdown or HTML are shown as text: no tag, no link, no heading of their own."""
    answers, manifest = build
    hostile = json.loads(answers.read_text(encoding="utf-8"))
    hostile["exam"] = "<script>alert(1)</script> [click](javascript:alert(2))"
    for variant in hostile["variants"]:
        variant["problems"][0]["label"] = "<img src=x onerror=alert(3)>"
        for mistake in variant["problems"][0]["mistakes"]:
            mistake["label"] = "[win](javascript:alert(4)) <b>bold</b>"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(hostile), encoding="utf-8")
    variant = hostile["variants"][0]
    rows = correct_rows(variant, "<i>Eve</i> [me](javascript:x) # not a heading")
    rows = [r for r in rows if r[3] != "dL_dW"] + [          # the factor-2 slip, diagnosed
        [variant["variant"], rows[0][1], rows[0][2], "dL_dW", e, v]
        for e, v in (("1,1", "0.044"), ("1,2", "0.088"), ("2,1", "0.052"), ("2,2", "0.104"))]
    status, _, err = run_grade(write_csv(tmp_path / "r.csv", rows), path, tmp_path / "g")
    assert status == 0, err
    [feedback] = (tmp_path / "g" / "feedback").glob("*.md")
    text = feedback.read_text(encoding="utf-8")
    assert "diagnosis: `missing_factor_2`" in text
    # the HTML page: the same text, escaped: no element or link of the user's making
    page = feedback.with_suffix(".html").read_text(encoding="utf-8")
    assert "missing_factor_2" in page and "<a " not in page         # no key beside hostile.json
    assert not re.search(r"<(script|img|b|i)[ >]", page) and "&lt;script&gt;" in page
    for line in text.splitlines():
        shown = _outside_code(line)
        # every <, [ and ] outside a code span is escaped: no tag opens, no link forms
        assert not re.search(r"(?<!\\)[<\[\]]", shown), line
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert len(headings) == 1 + len(variant["problems"])       # the title and one per slot


def test_a_very_long_name_gets_a_short_file_name(build, tmp_path):
    """Issue 28, item 9: a 300-character name stopped all grading ("File name too long")."""
    answers, manifest = build
    long_name = "Ann " + "x" * 296
    rows = correct_rows(manifest["variants"][0], long_name) + correct_rows(manifest["variants"][1], "bo")
    status, _, err = run_grade(write_csv(tmp_path / "r.csv", rows), answers, tmp_path / "g")
    assert status == 0, err
    names = sorted(p.name for p in (tmp_path / "g" / "feedback").glob("*.md"))
    assert names[0] == "Ann_" + "x" * 76 + ".md" and names[1] == "bo.md"
    assert grades_of(tmp_path / "g")[("canonical", long_name)]["total"] == "15"


CORRUPT = [
    ("points NaN", lambda m: m["variants"][0]["problems"][0]["answers"]["L"].update(points="NAN")),
    ("points Infinity", lambda m: m["variants"][0]["problems"][0]["answers"]["L"].update(points="INF")),
    ("points a string", lambda m: m["variants"][0]["problems"][0]["answers"]["L"].update(points="5")),
    ("points a list", lambda m: m["variants"][0]["problems"][0]["answers"]["L"].update(points=[5])),
    ("slot points a string", lambda m: m["variants"][0]["problems"][0].update(points="ten")),
    ("slot points a list", lambda m: m["variants"][0]["problems"][0].update(points=[10])),
    ("slot points NaN", lambda m: m["variants"][0]["problems"][0].update(points="NAN")),
    ("value Infinity", lambda m: m["variants"][0]["problems"][0]["answers"]["L"].update(value="-INF")),
    ("5000-digit points", lambda m: m["variants"][0]["problems"][0]["answers"]["L"].update(points="BIG")),
    ("deep nesting", lambda m: m["variants"][0]["problems"][0]["answers"]["L"].update(exact="DEEP")),
    ("mistake answer not an object", lambda m: m["variants"][0]["problems"][0]["mistakes"][0].update(
        answers={"L": 3})),
    ("label not a string", lambda m: m["variants"][0]["problems"][0].update(label=["Q1"])),
]


@pytest.mark.parametrize("change", [c[1] for c in CORRUPT], ids=[c[0] for c in CORRUPT])
def test_corrupt_manifests_are_bad_input(build, tmp_path, change):
    """Issue 28, item 10: these were "internal error … please report it", exit 3."""
    answers, manifest = build
    corrupt = json.loads(answers.read_text(encoding="utf-8"))
    change(corrupt)
    text = json.dumps(corrupt)
    text = (text.replace('"NAN"', "NaN").replace('"-INF"', "-Infinity").replace('"INF"', "Infinity")
            .replace('"BIG"', "9" * 5000).replace('"DEEP"', "[" * 100_000 + "]" * 100_000))
    path = tmp_path / "corrupt.json"
    path.write_text(text, encoding="utf-8")
    responses = write_csv(tmp_path / "r.csv", correct_rows(manifest["variants"][0]))
    status, out, err = run_grade(responses, path, tmp_path / "g")
    assert status == 2 and out == "" and err.count("\n") == 1, err
    assert f"{path}: not a wsgen answers manifest" in err and "internal error" not in err
    assert not (tmp_path / "g").exists()


@pytest.mark.parametrize("cell, column", [("A\x00nn", "student"), ("\x1b[31mAnn", "student"),
                                          ("0.2\x00", "response"), ("Q1\x07", "label")])
def test_control_characters_in_responses_are_refused(build, tmp_path, cell, column):
    """Issue 28, item 19: a NUL reached grades.csv, an ESC sequence the terminal."""
    answers, _ = build
    row = {"variant": "v001", "student": "Ann", "label": "Q1", "answer": "L", "entry": "",
           "response": "0.2"}
    row[column] = cell
    responses = write_csv(tmp_path / "r.csv", [list(row.values())], header=list(row))
    status, out, err = run_grade(responses, answers, tmp_path / "g")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert f"{responses}:2: {column}: control character U+00" in err
    assert "\x1b" not in err and "\x00" not in err and not (tmp_path / "g").exists()
