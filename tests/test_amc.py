"""Paper exams read from scans: `--formats amc` (answer sheets for auto-multiple-choice) and
`wsgen grade --amc` (AMC's capture read back and graded).

The fast tests check the grid sizing against hand-worked values, the project a build
writes, and the reader on small AMC databases built here (the tables and columns AMC 1.6
writes, as its sources describe them).  The end-to-end test (tier `amc`) runs AMC for
real: it compiles a roster build's answer sheets, fills them as three students would
(right answers, declared mistakes, blanks, a double tick), renders and "scans" them
(300 dpi, a slight rotation, noise, JPEG in a PDF), lets AMC read them and checks that
grading the scans gives the grades and diagnoses of grading the same responses typed
into a CSV file.
"""
import csv
import json
import math
import re
import shutil
import sqlite3
import subprocess
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from conftest import run_cli

EXAM = """\
title = "Scanned quiz"
id = "scan-quiz"
seed = 5

[[problems]]
label = "Q1"
problem = "triplet_loss"
points = 5
options = { dim = 2 }

[[problems]]
label = "Q2"
problem = "matrix_backprop"
points = 8
options = { m = 2, n = 2 }
"""
ROSTER = "id,name\nu1041,Ada Lovelace\nu2203,Alan Turing\nu3112,Grace Hopper\n"


def build(tmp_path: Path, exam: str = EXAM, roster: str | None = ROSTER, *extra,
          formats: str = "amc", secret_text: str = "ab" * 32) -> Path:
    (tmp_path / "exam.toml").write_text(exam, encoding="utf-8")
    args = ["build", "--exam", tmp_path / "exam.toml", "--out", tmp_path / "out",
            "--formats", formats, "-q", *extra]
    if roster is not None:
        (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
        # a fixed secret: the same variants in every run (a new one draws other numbers)
        secret = tmp_path / "secret.key"
        if not secret.exists():
            secret.write_text(secret_text + "\n", encoding="ascii")
            secret.chmod(0o600)
        args += ["--roster", tmp_path / "roster.csv", "--secret", secret]
    status, _, err = run_cli(*args)
    assert status == 0, err
    return tmp_path / "out"


# ----------------------------------------------------------------------------- grid sizing

TOLERANCE = {"abs": 1e-6, "rel": 1e-3}


@pytest.mark.parametrize("value,decimals", [
    (0.54, 2),                 # terminates at 2; the tolerance would ask for 3 (5.4e-4 ≥ 5e-4)
    (0.43048540564785737, 4),  # tolerance 4.3e-4: 0.5e-3 is too coarse, 0.5e-4 fits
    (1 / 3, 4),                # 3.3e-4: likewise
    (-1.602, 3),               # terminates at 3; the tolerance (1.6e-3) also asks for 3
    (0.01, 2),                 # terminates at 2; the tolerance (1.1e-5) would ask for 5
    (1234.5678, 0),            # tolerance 1.23: a whole number is off by 0.5 at most
    (0.0, 0),
    (2.0, 0),
])
def test_entry_decimals_by_hand(value, decimals):
    from wsgen.formats.amc import entry_decimals
    assert entry_decimals({"tolerance": TOLERANCE}, value) == decimals


def test_entry_decimals_zero_tolerance_caps():
    from wsgen.formats.amc import MAX_DECIMALS, entry_decimals
    assert entry_decimals({"tolerance": {"abs": 0, "rel": 0}}, 1 / 3) == MAX_DECIMALS
    assert entry_decimals({"tolerance": {"abs": 0, "rel": 0}}, 0.125) == 3


def test_digit_grid_of_a_matrix_and_its_mistakes():
    from wsgen.formats.amc import DigitGrid, digit_grid
    record = {"tolerance": TOLERANCE, "exact": [["1/100", "-9/100"], ["89/500", "-801/500"]],
              "value": [[0.01, -0.09], [0.178, -1.602]]}
    # decimals: 0.178 and -1.602 terminate at 3 (their tolerances ask for 3 too); one
    # integer column (1.602); a sign, for the negative entries
    assert digit_grid(record) == DigitGrid(1, 3, True)
    # a mistake's value 12.25 needs two integer columns
    assert digit_grid(record, also=[12.25]) == DigitGrid(2, 3, True)
    positive = {"tolerance": TOLERANCE, "exact": "97/100", "value": 0.97}
    assert digit_grid(positive) == DigitGrid(1, 2, False)
    # 9.996 rounded to two decimals is 10.00: two integer columns
    assert digit_grid({"tolerance": TOLERANCE, "exact": "x", "value": 9.99951}).digits == 2


def test_every_correct_answer_is_representable(tmp_path):
    """Over a build of every problem in the course bank (three sheets): each number,
    rounded to its answer's grid, is within the answer's tolerance (checked with grading's
    own comparison) and fits the grid's columns and sign."""
    from wsgen.formats.amc import digit_grid
    from wsgen.grading.compare import close
    bank = Path(__file__).resolve().parent.parent / "examples" / "course-bank.toml"
    status, _, err = run_cli("build", "--exam", bank, "--out", tmp_path / "out", "--variants",
                             "2", "--formats", "json", "-q")
    assert status == 0, err
    manifest = json.loads((tmp_path / "out" / "answers.json").read_text(encoding="utf-8"))
    checked = 0
    for record in manifest["variants"]:
        for problem in record["problems"]:
            for answer in problem["answers"].values():
                if answer["kind"] in ("choice", "formula"):     # a formula is written
                    continue
                grid = digit_grid(answer)
                values = answer["value"] if isinstance(answer["value"], list) else [answer["value"]]
                for value in _flat(values):
                    bubbled = float(grid.rounded(value))
                    assert close(bubbled, value, answer["tolerance"]), (problem["problem"], value)
                    assert grid.holds(value)
                    assert len(str(abs(int(bubbled)))) <= grid.digits
                    checked += 1
    assert checked > 200


def _flat(values):
    for v in values:
        if isinstance(v, list):
            yield from _flat(v)
        else:
            yield v


# ----------------------------------------------------------------------------- the project

def test_roster_build_writes_an_amc_project(tmp_path):
    exam = EXAM + '\n[[problems]]\nlabel = "Q3"\nproblem = "activations"\npoints = 3\n' \
                  'paper_answers = "written"\n'
    out = build(tmp_path, exam)
    project = out / "amc"
    assert sorted(p.name for p in project.iterdir()) == [
        "answer-sheets.tex", "answers.csv", "answers.json", "options.xml", "wsgen-amc.json"]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["amc"]
    pmap = json.loads((project / "wsgen-amc.json").read_text(encoding="utf-8"))
    manifest = json.loads((project / "answers.json").read_text(encoding="utf-8"))
    students = [v["student"] for v in manifest["variants"] if v["student"]]
    # one copy per student, in the roster's order; the canonical sheet left out
    assert [c["student"] for c in pmap["copies"]] == ["u1041", "u2203", "u3112"] == students
    assert [c["copy"] for c in pmap["copies"]] == [1, 2, 3]
    # the id grid: per position, the characters the roster's ids use there
    assert pmap["id_grid"]["columns"] == ["u", "123", "012", "014", "123"]
    assert pmap["id_grid"]["students"] == {s: s for s in students}
    questions = pmap["questions"]
    # Q1: formula (choice) and three numbers; Q2: Wx (2), L, dL_dW (4), dL_dx (2); Q3's
    # numbers are written, not bubbled
    shown = sorted((q["label"], q["answer"], q["entry"]) for q in questions.values())
    assert [s for s in shown if s[0] == "Q1"] == [("Q1", a, "") for a in
                                                  ("d_an", "d_ap", "formula", "loss")]
    assert len([s for s in shown if s[0] == "Q2"]) == 9
    assert not [s for s in shown if s[0] == "Q3" and questions_kind(questions, s) == "number"]
    assert all(c["written"] for c in pmap["copies"])
    # every entry of an answer, on every copy, has the same grid
    for name in ("Wx", "dL_dW", "dL_dx"):
        grids = {(q["digits"], q["decimals"], q["sign"]) for q in questions.values()
                 if q["answer"] == name}
        assert len(grids) == 1
    tex = (project / "answer-sheets.tex").read_text(encoding="utf-8")
    assert tex.count(r"\onecopy{1}") == 3
    assert tex.count(r"\AMCnumericChoices") == 3 * 12
    assert "noshuffle" in tex and "Ada Lovelace" in tex


def questions_kind(questions, shown):
    return next(q["kind"] for q in questions.values()
                if (q["label"], q["answer"], q["entry"]) == shown)


def test_id_grid_falls_back_to_row_numbers():
    from wsgen.formats.amc import MAX_ID_CHOICES, id_grid
    ids = [f"{chr(97 + i % 26)}{i}" for i in range(MAX_ID_CHOICES + 5)]
    grid = id_grid(ids)
    assert grid.columns == ("0123456789", "0123456789")
    assert grid.students["01"] == ids[0] and grid.students["25"] == ids[24]
    assert id_grid(None).students is None and len(id_grid(None).columns) == 8


def test_canonical_only_build_has_one_copy(tmp_path):
    out = build(tmp_path, EXAM, None, "--variants", "0")
    pmap = json.loads((out / "amc" / "wsgen-amc.json").read_text(encoding="utf-8"))
    assert [c["variant"] for c in pmap["copies"]] == ["canonical"]


def test_paper_answers_must_be_known(tmp_path):
    (tmp_path / "exam.toml").write_text(EXAM.replace('seed = 5', 'seed = 5\npaper_answers = "ink"'),
                                        encoding="utf-8")
    status, _, err = run_cli("build", "--exam", tmp_path / "exam.toml", "--out", tmp_path / "o")
    assert status == 2 and "paper_answers" in err and "'bubbles', 'written'" in err


# ----------------------------------------------------------------------------- end to end

def amc(*args, cwd=None):
    """Run an auto-multiple-choice command; its output goes to the assertion on failure."""
    result = subprocess.run(["auto-multiple-choice", *map(str, args)], cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (args[0], result.stdout[-3000:], result.stderr[-3000:])
    return result.stdout


def simulated_responses(manifest: dict) -> dict:
    """What each student writes, as {(student, label, answer, entry): value or mark}: a
    number (float), an option letter, None (left blank) or ("double", letters).
    Student 1 is right everywhere; student 2 makes every declared mistake that applies,
    leaves Q2's Wx blank and does not fill in the student id; student 3 ticks two options
    in Q1, leaves one entry of dL_dW blank, writes a wrong number that no mistake gives
    and negates Q2's dL_dx (first entry)."""
    by_student = {v["student"]: v for v in manifest["variants"] if v["student"]}
    first, second, third = sorted(by_student)
    responses = {}
    for student, record in by_student.items():
        for problem in record["problems"]:
            label = problem["label"]
            for name, answer in problem["answers"].items():
                if answer["kind"] == "choice":
                    responses[(student, label, name, "")] = answer["exact"]
                    continue
                for entry, value in entries_of(answer["value"]):
                    responses[(student, label, name, entry)] = value
    # student 2: the declared mistakes
    record = by_student[second]
    for problem in record["problems"]:
        label = problem["label"]
        for name, answer in problem["answers"].items():
            for mistake in problem["mistakes"]:
                made = mistake["answers"].get(name)
                if made is None or made["exact"] == answer["exact"]:
                    continue
                if answer["kind"] == "choice":
                    responses[(second, label, name, "")] = made["exact"]
                else:
                    for entry, value in entries_of(made["value"]):
                        responses[(second, label, name, entry)] = value
                break
    for entry in ("1", "2"):
        responses[(second, "Q2", "Wx", entry)] = None
    # student 3: a double tick, a blank entry, a wrong number, a wrong sign
    record = by_student[third]
    q1 = next(p for p in record["problems"] if p["label"] == "Q1")
    correct = q1["answers"]["formula"]["exact"]
    other = "A" if correct != "A" else "B"
    responses[(third, "Q1", "formula", "")] = ("double", tuple(sorted((correct, other))))
    responses[(third, "Q2", "dL_dW", "2,1")] = None
    responses[(third, "Q1", "d_ap", "")] = 0.05
    responses[(third, "Q2", "dL_dx", "1")] = -responses[(third, "Q2", "dL_dx", "1")]
    return responses


def entries_of(value, prefix=()):
    if isinstance(value, list):
        for i, v in enumerate(value, start=1):
            yield from entries_of(v, prefix + (i,))
    else:
        yield ",".join(map(str, prefix)), value


def bubbles(value: float, meaning: dict) -> dict:
    """The boxes a student ticks for `value` on a grid: {column (0-based): digit}, and the
    sign ("+", "-" or None); the number rounded half up to the grid's decimals, written
    right-aligned before the point (unused columns left blank) and in full after it."""
    digits, decimals = meaning["digits"], meaning["decimals"]
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    whole = whole.lstrip("0")
    assert len(whole) <= digits
    ticks = {digits - len(whole) + i: int(d) for i, d in enumerate(whole)}
    ticks.update({digits + i: int(d) for i, d in enumerate(fraction.ljust(decimals, "0"))})
    if not whole and not any(ticks.values()):
        ticks[digits - 1] = 0                       # zero: one 0 before the point
    sign = "-" if rounded < 0 else None
    return {"digits": ticks, "sign": sign}


def fill_and_scan(project: Path, pmap: dict, manifest: dict, responses: dict, scans: Path):
    """Tick the boxes of every answer sheet at AMC's layout positions on the pages of
    DOC-sujet.pdf rendered at 300 dpi, then "scan" each page: a slight rotation, a shift,
    noise, JPEG; all pages into one PDF, as a scanner's feeder gives them."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter
    layout = sqlite3.connect(project / "data" / "layout.sqlite")
    names = dict(layout.execute("SELECT question, name FROM layout_question"))
    pages = {subject: (student, page, dpi, width, height) for student, page, subject, dpi, width,
             height in layout.execute("SELECT student, page, subjectpage, dpi, width, height "
                                      "FROM layout_page")}
    boxes = {}
    for student, page, question, answer, xmin, xmax, ymin, ymax, char in layout.execute(
            "SELECT student, page, question, answer, xmin, xmax, ymin, ymax, char FROM layout_box "
            "WHERE role = 1 ORDER BY answer"):
        boxes.setdefault((student, names[question]), []).append(
            (page, (xmin, ymin, xmax, ymax), char))
    marks: dict[tuple[int, int], list] = {}

    def tick(copy, question, index):
        page, rect, _ = boxes[(copy, question)][index]
        marks.setdefault((copy, page), []).append(rect)

    for copy in pmap["copies"]:
        number, student = copy["copy"], copy["student"]
        if student != sorted(c["student"] for c in pmap["copies"])[1]:     # student 2: no id
            for row, char in enumerate(student):
                name = f"wsgenid[{len(pmap['id_grid']['columns']) - row}]"
                index = [c for _, _, c in boxes[(number, name)]].index(char)
                tick(number, name, index)
        for qid in copy["questions"]:
            meaning = pmap["questions"][qid]
            given = responses[(student, meaning["label"], meaning["answer"], meaning["entry"])]
            if given is None:
                continue
            if meaning["kind"] == "choice":
                letters = given[1] if isinstance(given, tuple) else (given,)
                for letter in letters:
                    tick(number, qid, ord(letter) - ord("A"))
                continue
            drawn = boxes[(number, qid)]
            signs = [i for i, (_, _, c) in enumerate(drawn) if "+" in c or "-" in c]
            digits = [i for i, (_, _, c) in enumerate(drawn) if c.isdigit()]
            wanted = bubbles(given, meaning)
            for column, digit in wanted["digits"].items():
                tick(number, qid, digits[10 * column + digit])
            if wanted["sign"] == "-":
                tick(number, qid, next(i for i in signs if "-" in drawn[i][2]))
            elif signs and number == 1:                   # student 1 ticks + where there is one
                tick(number, qid, next(i for i in signs if "+" in drawn[i][2]))
    subprocess.run(["pdftoppm", "-r", "300", "-gray", project / "DOC-sujet.pdf", scans / "page"],
                   check=True)
    rendered = sorted(scans.glob("page-*.pgm"), key=lambda p: int(p.stem.split("-")[1]))
    rng = np.random.default_rng(2026)
    scanned = []
    for subject, path in enumerate(rendered, start=1):
        student, page, dpi, width, height = pages[subject]
        image = Image.open(path).convert("L")
        assert dpi == 300 and abs(image.width - width) <= 1 and abs(image.height - height) <= 1
        draw = ImageDraw.Draw(image)
        for xmin, ymin, xmax, ymax in marks.get((student, page), []):
            inset = (xmax - xmin) * 0.12
            draw.ellipse([xmin + inset, ymin + inset, xmax - inset, ymax - inset], fill=25)
        image = image.rotate(float(rng.uniform(-0.8, 0.8)), resample=Image.BILINEAR,
                             translate=(int(rng.integers(-12, 12)), int(rng.integers(-12, 12))),
                             fillcolor=255).filter(ImageFilter.GaussianBlur(0.6))
        noise = rng.integers(-20, 21, (image.height, image.width), dtype=np.int16)
        pixels = np.asarray(image, dtype=np.int16) + noise
        scanned.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))
        path.unlink()
        if subject == 1:
            scanned[-1].save(scans / "scanned-page-1.png")
    scanned[0].save(scans / "scans.pdf", save_all=True, append_images=scanned[1:],
                    resolution=300, quality=88)
    return scans / "scans.pdf"


def responses_file(path: Path, manifest: dict, responses: dict) -> Path:
    """The same responses, typed: a number in full, a letter, an empty cell for a blank,
    the two letters of a double tick; and the build id printed on the papers, which a
    roster build's responses carry."""
    owners = {v["student"]: v["variant"] for v in manifest["variants"] if v["student"]}
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["variant", "student", "label", "answer", "entry", "response", "build"])
        for (student, label, name, entry), given in sorted(responses.items()):
            text = ("" if given is None else " and ".join(given[1]) if isinstance(given, tuple)
                    else given if isinstance(given, str) else repr(float(given)))
            writer.writerow([owners[student], student, label, name, entry, text, manifest["build"]])
    return path


def comparable_feedback(text: str) -> str:
    """A feedback file without what a typist and a scanner write differently: the text
    given (a scan gives the bubbled rounding, a typist the full number) and the reason an
    unreadable response was unreadable."""
    text = re.sub(r"\n  - given: [^\n]*", "", text)
    return re.sub(r"unreadable: `[^`]*` \([^)]*\)", "unreadable", text)


@pytest.mark.amc
@pytest.mark.tex
def test_scanned_answer_sheets_grade_like_typed_responses(tmp_path):
    timings = {}
    start = time.monotonic()
    out = build(tmp_path, formats="pdf,amc")
    manifest = json.loads((out / "amc" / "answers.json").read_text(encoding="utf-8"))
    project = tmp_path / "project"
    shutil.copytree(out / "amc", project)
    (project / "data").mkdir()
    timings["build"] = time.monotonic() - start
    start = time.monotonic()
    amc("prepare", "--mode", "s[s]", "--with", "pdflatex", "--epoch", "946684800",
        "--out-sujet", project / "DOC-sujet.pdf", "--out-calage", project / "DOC-calage.xy",
        "--data", project / "data", project / "answer-sheets.tex")
    amc("meptex", "--src", project / "DOC-calage.xy", "--data", project / "data")
    timings["prepare"] = time.monotonic() - start
    pmap = json.loads((project / "wsgen-amc.json").read_text(encoding="utf-8"))
    responses = simulated_responses(manifest)
    start = time.monotonic()
    scans = tmp_path / "scans"
    scans.mkdir()
    pdf = fill_and_scan(project, pmap, manifest, responses, scans)
    timings["fill and scan"] = time.monotonic() - start
    start = time.monotonic()
    listing = project / "scans.txt"
    listing.write_text(f"{pdf}\n", encoding="utf-8")
    (project / "scans").mkdir(exist_ok=True)
    amc("getimages", "--list", listing, "--copy-to", project / "scans")
    amc("analyse", "--projet", project, "--data", project / "data", "--liste-fichiers", listing)
    timings["analyse"] = time.monotonic() - start
    start = time.monotonic()
    status, scanned_out, err = run_cli("grade", "--amc", project, "--answers",
                                       project / "answers.json", "--out", tmp_path / "scanned")
    assert status == 0, err
    typed = responses_file(tmp_path / "typed.csv", manifest, responses)
    status, typed_out, err = run_cli("grade", typed, "--answers", project / "answers.json",
                                     "--out", tmp_path / "typed")
    assert status == 0, err
    timings["grade"] = time.monotonic() - start
    print("\n" + scanned_out + "\ntimings: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    # the same grades, and the same scores and diagnoses answer by answer
    assert (tmp_path / "scanned" / "grades.csv").read_text() == \
        (tmp_path / "typed" / "grades.csv").read_text()
    feedback = sorted(p.name for p in (tmp_path / "typed" / "feedback").glob("*.md"))
    assert sorted(p.name for p in (tmp_path / "scanned" / "feedback").glob("*.md")) == feedback
    for name in feedback:
        assert comparable_feedback((tmp_path / "scanned" / "feedback" / name).read_text()) == \
            comparable_feedback((tmp_path / "typed" / "feedback" / name).read_text()), name
    # the declared mistakes were found (student 2 made one in each answer that has one)
    second = sorted(v["student"] for v in manifest["variants"] if v["student"])[1]
    assert "diagnosis: `" in (tmp_path / "scanned" / "feedback" / f"{second}.md").read_text()
    # what a person has to look at, paper by paper
    first, second, third = sorted(c["student"] for c in pmap["copies"])
    findings = [line.strip() for line in scanned_out.splitlines() if line.startswith("  ")]
    expected = {f"{second}: student id: blank", f"{second}: Q2 Wx (1): blank",
                f"{second}: Q2 Wx (2): blank", f"{third}: Q2 dL_dW (2,1): blank"}
    assert expected <= set(findings)
    assert any(f.startswith(f"{third}: Q1 formula: double tick (") for f in findings)
    assert not [f for f in findings if f.startswith(first)]
    assert "3 answer sheets read" in scanned_out


# ----------------------------------------------------------------------------- the reader

def fake_amc(project: Path, pmap: dict, ticks: dict, scanned=None, manual=None, missing=()):
    """layout.sqlite and capture.sqlite for `project`, laid out as AMC 1.6 lays out the
    answer sheets wsgen writes (seen in the end-to-end test): a row of boxes per id row,
    with its characters; a choice's boxes A, B, …; a grid's + and − boxes, then ten boxes
    0–9 per column, most significant first.  The id grid and Q1 are on page 1, the rest
    on page 2.  `ticks` maps (copy, question) to the indexes of the boxes filled (dark:
    black = 0.7 of total); `scanned` the (copy, page) scanned (default: every page);
    `manual` (copy, question, index) to AMC's manual setting 0 or 1; `missing` the copies
    whose id grid the layout lacks."""
    data = project / "data"
    data.mkdir(exist_ok=True)
    layout = sqlite3.connect(data / "layout.sqlite")
    layout.executescript("""
        CREATE TABLE layout_question (question INTEGER, name TEXT);
        CREATE TABLE layout_page (student INTEGER, page INTEGER, checksum INTEGER, sourceid INTEGER,
            subjectpage INTEGER, dpi REAL, width REAL, height REAL, markdiameter REAL);
        CREATE TABLE layout_box (student INTEGER, page INTEGER, role INTEGER DEFAULT 1,
            question INTEGER, answer INTEGER, xmin REAL, xmax REAL, ymin REAL, ymax REAL,
            flags INTEGER DEFAULT 0, char TEXT);""")
    capture = sqlite3.connect(data / "capture.sqlite")
    capture.executescript("""
        CREATE TABLE capture_page (src TEXT, student INTEGER, page INTEGER, copy INTEGER DEFAULT 0,
            timestamp_auto INTEGER DEFAULT 0, timestamp_manual INTEGER DEFAULT 0, mse REAL);
        CREATE TABLE capture_zone (zoneid INTEGER PRIMARY KEY, student INTEGER, page INTEGER,
            copy INTEGER, type INTEGER, id_a INTEGER, id_b INTEGER, total INTEGER DEFAULT -1,
            black INTEGER DEFAULT -1, manual REAL DEFAULT -1, image TEXT);
        CREATE TABLE capture_failed (filename TEXT UNIQUE, timestamp INTEGER);""")
    numbers = {}
    columns = pmap["id_grid"]["columns"]
    id_names = {f"wsgenid[{len(columns) - row}]": chars for row, chars in enumerate(columns)}
    for name in list(id_names) + list(pmap["questions"]):
        numbers[name] = len(numbers) + 1
        layout.execute("INSERT INTO layout_question VALUES (?, ?)", (numbers[name], name))
    manual = manual or {}
    for copy in pmap["copies"]:
        number = copy["copy"]
        for page in (1, 2):
            layout.execute("INSERT INTO layout_page VALUES (?, ?, 0, 1, ?, 300, 2480, 3508, 40)",
                           (number, page, 2 * number - 2 + page))
            if scanned is None or (number, page) in scanned:
                capture.execute("INSERT INTO capture_page (src, student, page) VALUES (?, ?, ?)",
                                (f"scan-{number}-{page}.png", number, page))
        questions = {} if number in missing else dict(id_names)
        for qid in copy["questions"]:
            meaning = pmap["questions"][qid]
            if meaning["kind"] == "choice":
                questions[qid] = "ABCDEF"[:4]
            else:
                questions[qid] = (["$+$", "$-$"] if meaning["sign"] else []) + \
                    list("0123456789") * (meaning["digits"] + meaning["decimals"])
        for name, chars in questions.items():
            first = name.startswith("wsgenid") or pmap["questions"][name]["label"] == "Q1"
            page = 1 if first else 2
            for index, char in enumerate(chars):
                layout.execute("INSERT INTO layout_box VALUES (?, ?, 1, ?, ?, 0, 1, 0, 1, 0, ?)",
                               (number, page, numbers[name], index + 1, char))
                if scanned is not None and (number, page) not in scanned:
                    continue
                dark = index in ticks.get((number, name), ())
                capture.execute(
                    "INSERT INTO capture_zone (student, page, copy, type, id_a, id_b, total, "
                    "black, manual) VALUES (?, ?, 0, 4, ?, ?, 1000, ?, ?)",
                    (number, page, numbers[name], index + 1, 700 if dark else 20,
                     manual.get((number, name, index), -1)))
    layout.commit()
    capture.commit()


def grid_ticks(meaning: dict, digits: dict, sign: str | None = None) -> set:
    """Box indexes for {column: digit} and a sign on a grid laid out as fake_amc does."""
    offset = 2 if meaning["sign"] else 0
    boxes = {offset + 10 * column + digit for column, digit in digits.items()}
    if sign:
        boxes.add(0 if sign == "+" else 1)
    return boxes


@pytest.fixture()
def project(tmp_path):
    out = build(tmp_path)
    pmap = json.loads((out / "amc" / "wsgen-amc.json").read_text(encoding="utf-8"))
    manifest = json.loads((out / "amc" / "answers.json").read_text(encoding="utf-8"))
    return out, pmap, manifest


def question_id(pmap, label, answer, entry=""):
    return next(q for q, m in pmap["questions"].items()
                if (m["label"], m["answer"], m["entry"]) == (label, answer, entry))


def id_ticks(pmap, student):
    columns = pmap["id_grid"]["columns"]
    return {(f"wsgenid[{len(columns) - row}]"): {columns[row].index(char)}
            for row, char in enumerate(student)}


def read(out, pmap, manifest, ticks_by_copy, **options):
    from wsgen.grading.amc import read_project
    ticks = {}
    for copy, wanted in ticks_by_copy.items():
        for name, boxes in wanted.items():
            ticks[(copy, name)] = boxes
    fake_amc(out / "amc", pmap, ticks, **options)
    return read_project(out / "amc", manifest)


def test_reading_grids_and_choices(project):
    out, pmap, manifest = project
    wx1 = pmap["questions"][question_id(pmap, "Q2", "Wx", "1")]
    assert wx1["sign"] and wx1["digits"] >= 1 and wx1["decimals"] >= 2
    d, f = wx1["digits"], wx1["decimals"]
    cases = {
        # (Q2 Wx entry, {column: digit}, sign): expected response, expected finding
        "1": ({d - 1: 3, d: 2, d + 1: 5}, "-"),                  # -3.25: one integer column
        "2": ({d: 5}, None),                                      # 0.5: nothing before the point
    }
    ticks = id_ticks(pmap, "u1041")
    for entry, (digits, sign) in cases.items():
        qid = question_id(pmap, "Q2", "Wx", entry)
        ticks[qid] = grid_ticks(pmap["questions"][qid], digits, sign)
    ticks[question_id(pmap, "Q1", "formula")] = {2}                       # C
    l_qid = question_id(pmap, "Q2", "L")
    l_grid = pmap["questions"][l_qid]
    if l_grid["digits"] > 1:   # a blank integer column between two digits
        ticks[l_qid] = grid_ticks(l_grid, {0: 1, l_grid["digits"]: 4})
    else:                      # a blank decimal column between two digits
        ticks[l_qid] = grid_ticks(l_grid, {0: 1, 2: 4})
    ticks[question_id(pmap, "Q2", "dL_dW", "1,1")] = grid_ticks(
        pmap["questions"][question_id(pmap, "Q2", "dL_dW", "1,1")], {0: 1}) | \
        grid_ticks(pmap["questions"][question_id(pmap, "Q2", "dL_dW", "1,1")], {0: 7})
    ticks[question_id(pmap, "Q2", "dL_dW", "1,2")] = {0, 1}             # both signs, no digits
    ticks[question_id(pmap, "Q2", "dL_dW", "2,1")] = {1}                # a sign without digits
    ticks[question_id(pmap, "Q1", "d_ap")] = set()
    reading = read(out, pmap, manifest, {1: ticks}, scanned={(1, 1), (1, 2)})
    rows = {(r["label"], r["answer"], r["entry"]): r["response"] for r in reading.rows}
    assert rows[("Q2", "Wx", "1")] == "-3.25"
    assert rows[("Q2", "Wx", "2")] == "0.5"
    assert rows[("Q1", "formula", "")] == "C"
    assert rows[("Q1", "d_ap", "")] == ""
    assert rows[("Q2", "L", "")].startswith("unreadable: a blank column between the digits")
    assert rows[("Q2", "dL_dW", "1,1")] == "unreadable: column 1 has 1 and 7"
    assert rows[("Q2", "dL_dW", "1,2")].startswith("unreadable: both signs ticked")
    assert rows[("Q2", "dL_dW", "2,1")] == "unreadable: a sign without digits"
    assert reading.papers == 1 and reading.unscanned == ["u2203", "u3112"]
    found = {(f.paper, f.where, f.what) for f in reading.findings}
    assert ("u1041", "Q1 d_ap", "blank") in found
    assert ("u1041", "Q2 dL_dW (1,1)", "unreadable (column 1 has 1 and 7)") in found
    assert not [f for f in found if f[1] == "student id"]
    assert {r["student"] for r in reading.rows} == {"u1041"}


def test_reading_honours_manual_capture_and_thresholds(project):
    out, pmap, manifest = project
    formula = question_id(pmap, "Q1", "formula")
    ticks = {formula: {0}} | id_ticks(pmap, "u2203")
    # AMC's manual data capture: box A taken back, box D set
    reading = read(out, pmap, manifest, {2: ticks},
                   manual={(2, formula, 0): 0, (2, formula, 3): 1})
    assert formula_of(reading, "u2203") == "D"
    # a project threshold above the boxes' darkness (0.7): nothing is ticked
    (out / "amc" / "options.xml").write_text(
        "<?xml version='1.0'?><project><seuil>0.8</seuil><seuil_up>1</seuil_up></project>")
    for name in ("layout.sqlite", "capture.sqlite"):
        (out / "amc" / "data" / name).unlink()
    reading = read(out, pmap, manifest, {2: ticks})
    assert formula_of(reading, "u2203") == ""


def formula_of(reading, student):
    return next(r["response"] for r in reading.rows
                if r["answer"] == "formula" and r["student"] == student)


def test_reading_pages_and_student_ids(project):
    out, pmap, manifest = project
    formula = question_id(pmap, "Q1", "formula")
    ticks = {1: id_ticks(pmap, "u2203") | {formula: {0, 1}},     # u1041's sheet, u2203's id
             3: {"wsgenid[5]": {0}, formula: {1}}}                 # u3112's: "u" then blank rows
    reading = read(out, pmap, manifest, ticks, scanned={(1, 1), (1, 2), (3, 1)})
    found = {(f.paper, f.where, f.what) for f in reading.findings}
    assert ("u1041", "student id", "reads 'u2203' (u2203), but this sheet was printed for "
            "u1041: graded as theirs") in found
    assert ("u1041", "Q1 formula", "double tick (A, B)") in found
    assert ("u3112", "page 2", "not scanned: its answers are blank until it is") in found
    assert ("u3112", "Q2 L", "not read (its page was not scanned)") in found
    assert reading.unscanned == ["u2203"]
    by_student = {}
    for row in reading.rows:
        by_student.setdefault(row["student"], []).append(row)
    assert sorted(by_student) == ["u1041", "u3112"]
    # a scan AMC could not place on any page is named, with the project's folder
    from wsgen.grading.amc import read_project, reading_lines
    with sqlite3.connect(out / "amc" / "data" / "capture.sqlite") as capture:
        capture.execute("INSERT INTO capture_failed VALUES ('%PROJET/scans/x.png', 0)")
    reading = read_project(out / "amc", manifest)
    assert reading.failed == [f"{out / 'amc'}/scans/x.png"]
    assert any("could not recognise" in line and "x.png" in line
               for line in reading_lines(out / "amc", reading))


def test_reading_without_roster_names_students_by_their_id(tmp_path):
    out = build(tmp_path, EXAM, None, "--variants", "2")
    pmap = json.loads((out / "amc" / "wsgen-amc.json").read_text(encoding="utf-8"))
    manifest = json.loads((out / "amc" / "answers.json").read_text(encoding="utf-8"))
    digits = {"wsgenid[8]": {1}, "wsgenid[7]": {2}, "wsgenid[6]": {3}}     # "123"
    reading = read(out, pmap, manifest, {1: digits, 2: {}})
    assert {r["variant"]: r["student"] for r in reading.rows} == {"v001": "123",
                                                                "v002": "unidentified-v002"}
    assert ("v002", "student id", "blank: graded as unidentified-v002") in \
        {(f.paper, f.where, f.what) for f in reading.findings}


def test_grade_amc_merges_typed_rows_and_reports(tmp_path):
    exam = EXAM.replace('options = { m = 2, n = 2 }',
                        'options = { m = 2, n = 2 }\npaper_answers = "written"')
    out = build(tmp_path, exam)
    pmap = json.loads((out / "amc" / "wsgen-amc.json").read_text(encoding="utf-8"))
    manifest = json.loads((out / "amc" / "answers.json").read_text(encoding="utf-8"))
    record = next(v for v in manifest["variants"] if v["student"] == "u1041")
    q1 = record["problems"][0]["answers"]
    ticks = id_ticks(pmap, "u1041")
    ticks[question_id(pmap, "Q1", "formula")] = {ord(q1["formula"]["exact"]) - ord("A")}
    for name in ("d_ap", "d_an", "loss"):
        qid = question_id(pmap, "Q1", name)
        wanted = bubbles(q1[name]["value"], pmap["questions"][qid])
        ticks[qid] = grid_ticks(pmap["questions"][qid], wanted["digits"], wanted["sign"])
    fake_amc(out / "amc", pmap, {(1, k): v for k, v in ticks.items()})
    q2 = record["problems"][1]["answers"]
    typed = tmp_path / "typed.csv"
    with open(typed, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["variant", "student", "label", "answer", "entry", "response", "build"])
        for name, answer in q2.items():
            if answer["kind"] == "formula":          # part (b)'s formulas, typed as the key writes them
                writer.writerow(["u1041", "u1041", "Q2", name, "", answer["exact"], manifest["build"]])
                continue
            for entry, value in entries_of(answer["value"]):
                writer.writerow(["u1041", "u1041", "Q2", name, entry, repr(value), manifest["build"]])
    status, stdout, err = run_cli("grade", typed, "--amc", out / "amc", "--answers",
                                  out / "amc" / "answers.json", "--out", tmp_path / "grades")
    assert status == 0, err
    assert "written on the question sheets, not read from the scans" in stdout and "Q2 Wx" in stdout
    grades = (tmp_path / "grades" / "grades.csv").read_text()
    assert "u1041,u1041,5,8,13,13" in grades                    # all right: 5 + 8 of 13
    responses = (out / "amc" / "wsgen-responses.csv").read_text()
    assert responses.splitlines()[0] == "variant,student,label,answer,entry,response,build"
    assert {line.rsplit(",", 1)[1] for line in responses.splitlines()[1:]} == {manifest["build"]}


def test_grade_amc_keeps_responses_corrected_by_hand(tmp_path):
    """The README suggests correcting a misreading in PROJECT/wsgen-responses.csv: grading
    the scans again must not write over those corrections (one line, exit 2); the file as
    wsgen wrote it is rewritten freely."""
    out = build(tmp_path)
    pmap = json.loads((out / "amc" / "wsgen-amc.json").read_text(encoding="utf-8"))
    fake_amc(out / "amc", pmap, {(1, k): v for k, v in id_ticks(pmap, "u1041").items()})
    args = ("grade", "--amc", out / "amc", "--answers", out / "amc" / "answers.json")
    assert run_cli(*args, "--out", tmp_path / "g1")[0] == 0
    responses = out / "amc" / "wsgen-responses.csv"
    assert run_cli(*args, "--out", tmp_path / "g2")[0] == 0           # unchanged: rewritten
    corrected = responses.read_text(encoding="utf-8") + "u1041,u1041,Q2,L,,0.116,x\n"
    responses.write_text(corrected, encoding="utf-8")
    status, _, err = run_cli(*args, "--out", tmp_path / "g3")
    assert status == 2 and err.count("\n") == 1 and "changed since wsgen wrote it" in err, err
    assert responses.read_text(encoding="utf-8") == corrected
    assert not (tmp_path / "g3").exists()


def test_grade_amc_errors_are_one_line(tmp_path):
    out = build(tmp_path)
    answers = out / "amc" / "answers.json"
    status, _, err = run_cli("grade", "--amc", out / "amc", "--answers", answers,
                             "--out", tmp_path / "g")
    assert status == 2 and "layout.sqlite: not found" in err and "prepare" in err
    status, _, err = run_cli("grade", "--answers", answers, "--out", tmp_path / "g")
    assert status == 2 and "--amc" in err
    (tmp_path / "other").mkdir()
    other = build(tmp_path / "other", EXAM.replace('id = "scan-quiz"', 'id = "other"'))
    status, _, err = run_cli("grade", "--amc", out / "amc", "--answers",
                             other / "amc" / "answers.json", "--out", tmp_path / "g")
    assert status == 2 and "another build" in err


def test_grade_amc_refuses_another_builds_sheets_and_typed_rows(tmp_path):
    """Issue 28, item 2: two roster builds under two secrets share the exam id and the
    variant ids, not the numbers: the scans of one are not graded against the other's
    answers.json, nor typed rows that name another build."""
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    first, second = build(tmp_path / "one"), build(tmp_path / "two", secret_text="cd" * 32)
    manifests = [json.loads((out / "amc" / "answers.json").read_text(encoding="utf-8"))
                 for out in (first, second)]
    assert manifests[0]["build"] != manifests[1]["build"]
    pmap = json.loads((first / "amc" / "wsgen-amc.json").read_text(encoding="utf-8"))
    assert pmap["build"] == manifests[0]["build"]
    fake_amc(first / "amc", pmap, {(1, k): v for k, v in id_ticks(pmap, "u1041").items()})
    status, _, err = run_cli("grade", "--amc", first / "amc", "--answers",
                             second / "amc" / "answers.json", "--out", tmp_path / "g")
    assert status == 2 and "another build" in err and err.count("\n") == 1
    typed = tmp_path / "typed.csv"
    typed.write_text("variant,label,answer,entry,response,build\n"
                     f"u1041,Q2,L,,0.1,{manifests[1]['build']}\n", encoding="utf-8")
    status, _, err = run_cli("grade", typed, "--amc", first / "amc", "--answers",
                             first / "amc" / "answers.json", "--out", tmp_path / "g")
    assert status == 2 and f"{typed}:2: build {manifests[1]['build']!r}" in err
    typed.write_text("variant,label,answer,entry,response\nu1041,Q2,L,,0.1\n", encoding="utf-8")
    status, _, err = run_cli("grade", typed, "--amc", first / "amc", "--answers",
                             first / "amc" / "answers.json", "--out", tmp_path / "g")
    assert status == 2 and f"{typed}:1: missing column build" in err
    assert not (tmp_path / "g").exists()
