"""The item analysis `wsgen grade` writes (analysis.csv, analysis.html), checked against an
independent NumPy computation on a class built here with known item properties: an answer
everyone gets right, one only the top third gets right, one only the weakest third gets
right (inverted), a choice whose first distractor a weak 40 % pick and whose other two
nobody picks."""
import csv
import json
import re

import numpy as np
import pytest
from lxml import etree

from conftest import TWO_SLOTS, run_cli

EXAM = """\
title = "Analysis test"
id = "analysis-test"
seed = 5
variants = 0
""" + TWO_SLOTS
N = 30                                   # students s00 … s29, s29 the strongest
EVERYONE, TOP_THIRD, INVERTED, CHOICE = ("Q1", "L"), ("Q1", "Wx"), ("Q2", "d_ap"), ("Q2", "formula")
WEAK_CHOICE = 12                         # students 0 … 11 pick the no_margin distractor


def numbered(exact):
    """(entry, exact) as answers.csv numbers them."""
    if isinstance(exact, list) and exact and isinstance(exact[0], list):
        return [(f"{i},{j}", e) for i, row in enumerate(exact, 1) for j, e in enumerate(row, 1)]
    if isinstance(exact, list):
        return [(str(i), e) for i, e in enumerate(exact, 1)]
    return [("", exact)]


def right(item, k, fillers) -> bool:
    """Whether student k answers `item` right, by construction."""
    if item == EVERYONE:
        return True
    if item == TOP_THIRD:
        return k >= 2 * N // 3
    if item == INVERTED:
        return k < N // 3
    if item == CHOICE:
        return k >= WEAK_CHOICE
    # fillers: harder and harder, so the totals grow with k
    return k >= 3 + 4 * fillers.index(item)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("analysis")
    (folder / "exam.toml").write_text(EXAM, encoding="utf-8")
    status, _, err = run_cli("build", "--exam", folder / "exam.toml", "--out", folder / "build",
                             "--formats", "json", "-q")
    assert status == 0, err
    manifest = json.loads((folder / "build" / "answers.json").read_text(encoding="utf-8"))
    (variant,) = manifest["variants"]
    items = [(p["label"], name) for p in variant["problems"] for name in p["answers"]]
    fillers = [i for i in items if i not in (EVERYONE, TOP_THIRD, INVERTED, CHOICE)]
    answers = {(p["label"], name): a for p in variant["problems"] for name, a in p["answers"].items()}
    choice = answers[CHOICE]
    wrong_letter = "ABCD"[choice["distractors"].index("no_margin")]
    rows = []
    for k in range(N):
        for item in items:
            answer = answers[item]
            ok = right(item, k, fillers)
            if answer["kind"] == "choice":
                given = [("", answer["exact"] if ok else wrong_letter)]
            elif answer["kind"] == "formula":
                given = [("", answer["exact"] if ok else "")]       # blank: no answer, 0
            else:
                given = [(e, x if ok else "12345") for e, x in numbered(answer["exact"])]
            rows += [[variant["variant"], f"s{k:02d}", item[0], item[1], e, text] for e, text in given]
    with open(folder / "responses.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["variant", "student", "label", "answer", "entry", "response", "build"])
        writer.writerows(row + [manifest["build"]] for row in rows)
    # a wrong d_ap of 12345 makes 12345 nearly the loss the student's own values give:
    # follow-through credit would carry it forward; the construction wants it 0
    status, out, err = run_cli("grade", folder / "responses.csv", "--answers",
                               folder / "build" / "answers.json", "--out", folder / "grades",
                               "--follow-credit", "0")
    assert status == 0, err
    with open(folder / "grades" / "analysis.csv", encoding="utf-8", newline="") as handle:
        table = {(r["label"], r["answer"]): r for r in csv.DictReader(handle)}
    return {"items": items, "fillers": fillers, "answers": answers, "table": table, "out": out,
            "folder": folder,
            "html": (folder / "grades" / "analysis.html").read_text(encoding="utf-8"),
            "distractors": choice["distractors"], "exact_choice": choice["exact"]}


def independent(graded):
    """Score matrix (students × items) from the construction and answers.json's points, and
    each item's statistics by the textbook formulas, in NumPy."""
    items, answers = graded["items"], graded["answers"]
    points = np.array([answers[i]["points"] for i in items], dtype=float)
    right_ = np.array([[right(i, k, graded["fillers"]) for i in items] for k in range(N)])
    scores = right_ * points
    totals = scores.sum(axis=1)
    group = round(0.27 * N)                                    # 8 of 30
    order = np.argsort(-totals, kind="stable")                  # ties: grades.csv's order
    upper, lower = order[:group], order[-group:]
    columns = {i: (scores[:, j], points[j]) for j, i in enumerate(items)}
    for label in sorted({i[0] for i in items}):
        mine = [j for j, i in enumerate(items) if i[0] == label]
        columns[(label, "")] = (scores[:, mine].sum(axis=1), points[mine].sum())
    stats = {}
    for item, (score, maximum) in columns.items():
        share = score / maximum
        rest = totals - score
        r = np.corrcoef(share, rest)[0, 1] if share.std() > 0 else None
        stats[item] = (share.mean(), share[upper].mean() - share[lower].mean(), r)
    return stats


def test_statistics_match_an_independent_computation(graded):
    table = graded["table"]
    expected = independent(graded)
    assert set(table) == set(expected)
    for item, (facility, upper_lower, r) in expected.items():
        row = table[item]
        assert float(row["facility"]) == pytest.approx(facility, abs=6e-5), item
        assert float(row["upper_lower"]) == pytest.approx(upper_lower, abs=6e-5), item
        if r is None:
            assert row["point_biserial"] == "", item
        else:
            assert float(row["point_biserial"]) == pytest.approx(r, abs=6e-5), item
        assert int(row["papers"]) == N


def test_the_known_items_have_their_known_properties_and_flags(graded):
    table = graded["table"]
    everyone, top, inverted = table[EVERYONE], table[TOP_THIRD], table[INVERTED]
    # everyone right: facility 1, no discrimination, no correlation (a constant), flagged low
    assert float(everyone["facility"]) == 1 and float(everyone["upper_lower"]) == 0
    assert everyone["point_biserial"] == "" and "low discrimination" in everyone["flags"]
    # the top third: the upper 8 (students 22-29) all right, the lower 8 all wrong
    assert float(top["facility"]) == pytest.approx(1 / 3, abs=1e-4)
    assert float(top["upper_lower"]) == 1 and top["flags"] == ""
    # inverted: the weakest third right; negative both ways, flagged
    assert float(inverted["upper_lower"]) < 0 and float(inverted["point_biserial"]) < 0
    assert "negative discrimination" in inverted["flags"]


def test_mistakes_options_and_their_flags(graded):
    row = graded["table"][CHOICE]
    mistakes = dict(part.split(": ") for part in row["mistakes"].split("; "))
    assert mistakes["no_margin"] == str(WEAK_CHOICE)            # 12 of 30 > a third: flagged
    assert f"mistake no_margin on {WEAK_CHOICE} of {N} papers" in row["flags"]
    options = dict(part.split(": ") for part in row["options"].split("; "))
    assert options["right option"] == str(N - WEAK_CHOICE) and options["no_margin"] == str(WEAK_CHOICE)
    nobody = [d for d in graded["distractors"] if d and d != "no_margin"]
    assert nobody and all(options[d] == "0" for d in nobody)
    for d in nobody:
        assert f"distractor {d} chosen by nobody" in row["flags"]
    # the slot counts a paper once per mistake
    assert dict(p.split(": ") for p in graded["table"][("Q2", "")]["mistakes"].split("; "))[
        "no_margin"] == str(WEAK_CHOICE)


def test_the_page_is_self_contained_with_three_svg_charts(graded):
    page = graded["html"]
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    assert len(svgs) == 3
    for svg in svgs:
        root = etree.fromstring(svg.encode("utf-8"))            # well-formed XML
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert float(re.sub(r"[a-z]+$", "", root.get("width"))) > 0
        assert root.findall(".//{http://www.w3.org/2000/svg}path")      # something drawn
    assert "Distribution of totals" in svgs[0] and "Facility" in svgs[1] and "no_margin" in svgs[2]
    # nothing fetched: no external file, script or stylesheet
    assert not re.search(r"<(script|link|img)\b|\bsrc=|url\(http|href=\"http", page)
    # the stdout summary stays short and points to the page
    line = next(l for l in graded["out"].splitlines() if l.startswith("item analysis"))
    assert line.endswith("analysis.html") and "flagged" in line


def test_under_ten_papers_discrimination_is_shown_not_flagged(graded):
    from pathlib import Path

    from wsgen.grading.analysis import MIN_PAPERS, analyse
    from wsgen.grading.grade import GradeOptions, grade_papers, load_manifest, read_responses
    from wsgen.grading.policy import parse_settings
    folder = Path(graded["folder"])
    manifest = load_manifest(folder / "build" / "answers.json")
    responses = read_responses(folder / "responses.csv", manifest)
    options = GradeOptions(parse_settings({"follow_credit": 0}, ""))
    weak = [r for r in responses if int(r.student[1:]) < MIN_PAPERS - 1]      # s00 … s08
    items = {(i.label, i.answer): i for i in analyse(manifest, grade_papers(manifest, weak, options)).items}
    inverted = items[INVERTED]          # right for all nine: facility 1, nothing to flag
    assert inverted.papers == MIN_PAPERS - 1 and inverted.upper_lower == 0 and inverted.flags == ()
    # the fillers split the nine papers: shown, and below 0.2 or not, never flagged
    assert all(not any("discrimination" in f for f in i.flags) for i in items.values())
    assert any(i.upper_lower not in (None, 0) for i in items.values())
