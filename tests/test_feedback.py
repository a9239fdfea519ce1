"""Feedback a student can read (`wsgen grade --feedback md,html,pdf --feedback-zip …`): each
outcome in words in every form, the roster's name, links and page references into the
student's own key, MathML that a browser lays out, the PDF's text, and the zip Moodle's
assignment reads back (mod/assign/feedback/file/importziplib.php: a folder per student
named FULL NAME_PARTICIPANT_assignfeedback_file, split at "_" into at least four parts,
the second the participant number of the grading worksheet).

The papers (three students of a roster build; matrix_backprop worth 10 points in six
answers of 10/6 each, triplet_loss worth 5 in 1 + 1 + 1 + 2, policy 4 significant digits):
* ada: Wx right; L rounded to 3 digits (0.9 of its points); ∂L/∂W as a formula right;
  ∂L/∂x as the formula 2 W (W x) (the mistake no_transpose); ∂L/∂W with the factor 2 left
  out (missing_factor_2); ∂L/∂x "abc" (unreadable); Q2 the right option and nothing else.
* ben: Wx with its first entry 1/10 too large (partly right), L the sum of the squares of
  his own Wx (carried forward); nothing else.
* cleo: the key's exact values everywhere.
"""
import csv
import io
import json
import re
import subprocess
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
from lxml import etree

from conftest import run_cli

EXAM = """\
title = "Feedback test"
id = "feedback-test"
seed = 5

[grading]
sigfigs = 4

[[problems]]
label = "Q1"
problem = "matrix_backprop"
points = 10

[[problems]]
label = "Q2"
problem = "triplet_loss"
points = 5
options = { dim = 2 }
"""
ROSTER = ("id,name,email,participant\n"
          "ada,Ada Lovelace,ada@uni.example,Participant 7001\n"
          "ben,Ben_Okri,ben@uni.example,7002\n"
          "cleo,Cléo Laine,cleo@uni.example,7003\n")


def _sig3(x: Fraction) -> str:
    return f"{float(x):.3g}"


def _papers(manifest) -> list[list[str]]:
    rows = [["student", "variant", "label", "answer", "entry", "response", "build"]]
    build = manifest["build"]
    for record in manifest["variants"]:
        who = record["student"]
        if who is None:
            continue
        for problem in record["problems"]:
            for name, answer in problem["answers"].items():
                exact = answer["exact"]
                entries = ([("", exact)] if isinstance(exact, str) else
                           [(str(i + 1), e) for i, e in enumerate(exact)] if isinstance(exact[0], str) else
                           [(f"{i + 1},{j + 1}", e) for i, row in enumerate(exact) for j, e in enumerate(row)])
                for entry, value in entries:
                    given = _given(who, problem["problem"], name, entry, value, problem)
                    if given is not None:
                        rows.append([who, record["variant"], problem["label"], name, entry, given, build])
    return rows


def _given(who, problem_id, name, entry, value, problem):
    if who == "cleo":
        return value
    if problem_id == "triplet_loss":
        return value if (who, name) == ("ada", "formula") else None
    wx = [Fraction(e) for e in problem["answers"]["Wx"]["exact"]]
    if who == "ben":
        own = [wx[0] + Fraction(1, 10), wx[1]]
        if name == "Wx":
            return str(own[int(entry) - 1])
        if name == "L":                       # L = ‖Wx‖², from his own Wx: by hand
            return str(own[0] ** 2 + own[1] ** 2)
        return None
    if name == "L":
        return _sig3(Fraction(value))         # 3 significant digits where 4 are asked
    if name == "dL_dx_formula":
        return "2 W (W x)"                    # no transpose
    if name == "dL_dW":
        return str(Fraction(value) / 2)       # the factor 2 left out
    if name == "dL_dx":
        return "abc"
    return value


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("feedback")
    (folder / "exam.toml").write_text(EXAM, encoding="utf-8")
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    secret = folder / "secret.key"        # a fixed key: the same numbers on every run
    secret.write_text("5eed" * 16 + "\n", encoding="ascii")
    secret.chmod(0o600)
    status, _, err = run_cli("build", "--exam", folder / "exam.toml", "--roster", folder / "roster.csv",
                             "--secret", folder / "secret.key", "--out", folder / "build",
                             "--formats", "json,html,pdf,md", "-q")
    assert status == 0, err
    manifest = json.loads((folder / "build" / "answers.json").read_text(encoding="utf-8"))
    # ada's L, to 3 significant digits, must differ from L (else it is not a rounding)
    L = Fraction(_slot(manifest, "ada", "Q1")["answers"]["L"]["exact"])
    assert Fraction(_sig3(L)) != L
    with open(folder / "responses.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(_papers(manifest))
    status, out, err = run_cli("grade", folder / "responses.csv", "--answers",
                               folder / "build" / "answers.json", "--out", folder / "graded",
                               "--roster", folder / "roster.csv", "--feedback", "md,html,pdf",
                               "--feedback-zip", "moodle")
    assert status == 0, err
    return folder, manifest


def _slot(manifest, who, label):
    record = next(v for v in manifest["variants"] if v["student"] == who)
    return next(p for p in record["problems"] if p["label"] == label)


def test_each_outcome_in_words_in_markdown(graded):
    folder, manifest = graded
    ada = (folder / "graded" / "feedback" / "ada.md").read_text(encoding="utf-8")
    assert "**Ada Lovelace**" in ada and "student ada" in ada
    # totals by hand: Q1 10/6 (Wx) + 0.9·10/6 (L) + 10/6 (∂L/∂W formula) = 29/6; Q2 1
    assert "## Q1 (matrix\\_backprop): 4.8333 / 10" in ada and "**Total: 5.8333 / 15 points**" in ada
    assert "right value, rounded to 3 significant digits; 4 asked" in ada
    assert "diagnosis: `no_transpose`: W instead of its transpose" in ada
    assert "diagnosis: `missing_factor_2`" in ada
    assert "entry (1) unreadable: `abc`" in ada and "given: no answer" in ada
    ben = (folder / "graded" / "feedback" / "ben.md").read_text(encoding="utf-8")
    assert "carried forward from your Wx (a): right method" in ben
    assert "1 of 2 entries right" in ben
    # the expected values are the key's: each TeX between dollars is in the student's key
    key = (folder / "build" / "students" / "ada" / "key.md").read_text(encoding="utf-8")
    shown = re.findall(r"- expected: \$([^$]+)\$", ada)
    assert len(shown) >= 5 and all(tex in key for tex in shown)


def test_html_feedback_is_self_contained_mathml_with_links_into_the_key(graded):
    folder, manifest = graded
    page_path = folder / "graded" / "feedback" / "ada.html"
    page = page_path.read_text(encoding="utf-8")
    assert "<script" not in page and "<link" not in page and "@media print" in page
    tree = etree.HTML(page)
    assert tree.xpath("string(//p[@class='student'])") == "Ada Lovelace"
    # no TeX and no SymPy syntax outside the MathML: the text a reader sees
    text = " ".join(t for t in tree.xpath("//body//text()[not(ancestor::math) and not(ancestor::code)]"))
    assert "\\frac" not in text and "$" not in text and "exp(" not in text and "**" not in text
    assert tree.xpath("count(//math)") >= 8
    outcomes = tree.xpath("//div[contains(@class,'answer')]/dl/dd[preceding-sibling::dt[1]='Result']/text()")
    assert {"right", "no answer", "mistake"} <= set(outcomes)
    assert any("unreadable" in o for o in outcomes) and any("rounded to 3" in o for o in outcomes)
    diagnoses = tree.xpath("string(//dl)") + " ".join(tree.xpath("//dd[preceding-sibling::dt[1]='Diagnosis']//text()"))
    assert "W instead of its transpose" in diagnoses
    # each slot links to its heading in this student's key.html, and that heading is there
    links = tree.xpath("//p[@class='keylink']/a/@href")
    assert links == ["../../build/students/ada/key.html#q1", "../../build/students/ada/key.html#q2"]
    for link, label in zip(links, ("Q1", "Q2")):
        target, anchor = link.split("#")
        key = etree.HTML((page_path.parent / target).resolve().read_text(encoding="utf-8"))
        [heading] = key.xpath(f"//*[@id='{anchor}']")
        assert heading.xpath("string(.)").startswith(f"{label}. ")


@pytest.mark.browser
def test_chromium_lays_out_every_formula_of_the_feedback(graded, tmp_path):
    from test_html import measure
    folder, _ = graded
    figures = measure(folder / "graded" / "feedback" / "ada.html", tmp_path)
    assert figures["count"] >= 8 and figures["empty"] == 0 and figures["merror"] == 0
    assert "Ada Lovelace" in figures["text"] and "\\frac" not in figures["text"]


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.tex
def test_pdf_feedback_reads_as_the_html_does(graded):
    folder, _ = graded
    text = pdf_text(folder / "graded" / "feedback" / "ada.pdf")
    flat = " ".join(text.split())
    assert "Ada Lovelace" in flat and "Total: 5.8333 / 15 points" in flat
    assert "right value, rounded to 3 significant digits; 4 asked" in flat
    assert "entry (1) unreadable" in flat and "no_transpose" in flat and "Your answer: no answer" in flat
    assert "students/ada/key.pdf" in flat and "\\frac" not in text
    assert "Page 1 of" in flat
    ben = " ".join(pdf_text(folder / "graded" / "feedback" / "ben.pdf").split())
    assert "Ben_Okri" in ben and "carried forward from your Wx (a): right method" in ben


@pytest.mark.tex
def test_the_moodle_zip_names_each_students_folder_as_moodle_reads_it(graded):
    folder, _ = graded
    archive = zipfile.ZipFile(folder / "graded" / "feedback-moodle.zip")
    names = sorted(archive.namelist())
    assert names == sorted(f"{who}_{n}_assignfeedback_file/feedback.{ext}"
                           for who, n in (("Ada Lovelace", 7001), ("Ben Okri", 7002),
                                          ("Cléo Laine", 7003)) for ext in ("html", "pdf"))
    for name in names:
        # importziplib: explode('_', part, 5) gives ≥ 4 parts, the second numeric
        parts = name.split("/")[0].split("_", 4)
        assert len(parts) >= 4 and parts[1].isdigit() and parts[2:4] == ["assignfeedback", "file"]
    assert archive.read("Ada Lovelace_7001_assignfeedback_file/feedback.html") == \
        (folder / "graded" / "feedback" / "ada.html").read_bytes()


def _grade(folder, out, *args):
    return run_cli("grade", folder / "responses.csv", "--answers", folder / "build" / "answers.json",
                   "--out", out, *args)


def test_the_same_grading_makes_the_same_zip(graded, tmp_path):
    folder, _ = graded
    zips = []
    for name in ("a", "b"):
        status, out, err = _grade(folder, tmp_path / name, "--feedback", "html",
                                  "--feedback-zip", "plain")
        assert status == 0, err
        assert f"feedback zipped for plain: {tmp_path / name / 'feedback.zip'}" in out
        zips.append((tmp_path / name / "feedback.zip").read_bytes())
    assert zips[0] == zips[1]
    assert sorted(zipfile.ZipFile(io.BytesIO(zips[0])).namelist()) == ["ada.html", "ben.html", "cleo.html"]


def test_key_url_links_into_the_published_build(graded, tmp_path):
    folder, _ = graded
    status, _, err = _grade(folder, tmp_path / "g", "--feedback", "html",
                            "--key-url", "https://course.example/exam1/")
    assert status == 0, err
    page = etree.HTML((tmp_path / "g" / "feedback" / "ben.html").read_text(encoding="utf-8"))
    assert page.xpath("//p[@class='keylink']/a/@href")[0] == \
        "https://course.example/exam1/students/ben/key.html#q1"


@pytest.mark.parametrize("args, named", [
    (("--feedback", "md,docx"), "--feedback"),
    (("--feedback", ""), "--feedback"),
    (("--key-url", "javascript:alert(1)"), "--key-url"),
    (("--key-url", "https://a.example/x y"), "--key-url"),
    (("--feedback-zip", "moodle"), "--roster"),
])
def test_bad_feedback_options_are_one_line(graded, tmp_path, args, named):
    folder, _ = graded
    status, _, err = _grade(folder, tmp_path / "g", *args)
    assert status == 2 and named in err and "Traceback" not in err
    assert not (tmp_path / "g").exists()


@pytest.mark.parametrize("roster, message", [
    ("id,name\nada,A\nben,B\ncleo,C\n", "has no participant"),
    ("id,name,participant\nada,A,7001\nben,B,x12\ncleo,C,7003\n", "is not the number"),
    ("id,name,participant\nada,A,7001\nben,B,7001\ncleo,C,7003\n", "the same participant"),
])
def test_the_moodle_zip_needs_each_students_participant_number(graded, tmp_path, roster, message):
    folder, _ = graded
    (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
    status, _, err = _grade(folder, tmp_path / "g", "--feedback", "md", "--feedback-zip", "moodle",
                            "--roster", tmp_path / "roster.csv")
    assert status == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "g").exists()


@pytest.mark.tex
def test_a_students_text_is_typeset_literally_and_never_stops_the_pdf(graded, tmp_path):
    folder, manifest = graded
    hostile = r"\input{/etc/passwd} $x$ % # & ~ ^ _ {} مرحبا 😀" + "\ue000"
    rows = list(csv.reader(io.StringIO((folder / "responses.csv").read_text(encoding="utf-8"))))
    rows = [r if r[0] != "ben" or r[3] != "Wx" else r[:5] + [hostile] + r[6:] for r in rows]
    with open(tmp_path / "r.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    status, _, err = run_cli("grade", tmp_path / "r.csv", "--answers", folder / "build" / "answers.json",
                             "--out", tmp_path / "g", "--feedback", "pdf")
    assert status == 0, err
    text = " ".join(pdf_text(tmp_path / "g" / "feedback" / "ben.pdf").split())
    # TeX's specials as written; Arabic set by LuaLaTeX; the emoji and the private-use
    # character, which no font of the documents has, as "?"
    assert r"Your answer: [\input{/etc/passwd} $x$ % # & ~ ^ _ {}" in text
    assert re.search(r"Your answer: [^\n]*مرحبا", text)
    assert "😀" not in text and "??" in text


@pytest.mark.tex
def test_pdf_feedback_gives_the_page_of_each_question_in_the_key_and_links_there(graded):
    import pikepdf
    folder, _ = graded
    key = folder / "build" / "students" / "ada" / "key.pdf"
    feedback = folder / "graded" / "feedback" / "ada.pdf"
    text = " ".join(pdf_text(feedback).split())
    for n, label in enumerate(("Q1", "Q2"), 1):
        # the page where pdftotext finds the heading "Q2. …" in ada's key
        page = next(p for p in range(1, 40)
                    if re.search(rf"(?m)^\s*{label}\. ", subprocess.run(
                        ["pdftotext", "-f", str(p), "-l", str(p), "-layout", str(key), "-"],
                        capture_output=True, text=True, check=True).stdout))
        assert f"See {label} in your answer key, page {page}." in text
    with pikepdf.open(feedback) as pdf:
        actions = [a.A for page in pdf.pages for a in page.get("/Annots", [])]
        assert [str(a.D) for a in actions] == ["q1", "q2"]
        for action in actions:
            assert action.S == "/GoToR" and (feedback.parent / str(action.F)).resolve() == key.resolve()
    with pikepdf.open(key) as pdf:                 # the destination is the key's own
        assert set(pikepdf.NameTree(pdf.Root.Names.Dests).keys()) == {"q1", "q2"}


def test_a_key_url_is_an_address_without_query_fragment_or_credentials(graded, tmp_path):
    from wsgen.grading.feedback import check_key_url
    from wsgen.errors import UserError
    # written as RFC 3986 asks: scheme in lower case, host in IDNA, path percent-encoded
    assert check_key_url("HTTPS://Bücher.example/ü/") == "https://xn--bcher-kva.example/%C3%BC/"
    for url in ("https://x.example/e/?t=1", "https://x.example/e#f", "https://[::1/",
                "https://x.example:99999/", "https://u:p@x.example/", "https://x.example/%zz/",
                "https://x.example/a\\b", "http:///a"):
        with pytest.raises(UserError):
            check_key_url(url)


def test_regrading_follows_the_keys(graded, tmp_path):
    """The grading record names the keys the feedback links to: keys built since a grading
    make the next one write again."""
    folder, _ = graded
    build = tmp_path / "build"
    for formats in ("json", "json,html"):
        status, _, err = run_cli("build", "--exam", folder / "exam.toml", "--roster", folder / "roster.csv",
                                 "--secret", folder / "secret.key", "--out", build, "--formats",
                                 formats, "-q")
        assert status == 0, err
        status, out, err = run_cli("grade", folder / "responses.csv", "--answers", build / "answers.json",
                                   "--out", tmp_path / "g", "--feedback", "html")
        assert status == 0, err
    assert "changed since the last grading: the build's keys" in out
    page = (tmp_path / "g" / "feedback" / "ada.html").read_text(encoding="utf-8")
    assert "students/ada/key.html#q1" in page


def test_feedback_file_names_any_system_can_hold():
    from wsgen.grading.grade import Paper, _file_names
    names = list(_file_names([Paper("v1", who, []) for who in
                              ("con", "Aux.txt", "-rf", "Zoë", "Zoé", "王" * 200, "..", "a/b")]).values())
    # device names get a prefix, no leading "-" or ".", letters of any script kept (NFC),
    # at most 200 bytes, all distinct
    assert names[:4] == ["paper_con", "paper_Aux.txt", "rf", "Zoë"] and names[4] == "Zoé"
    assert len(names[5].encode("utf-8")) <= 200 and names[5].startswith("王")
    assert names[6] == "paper" and names[7] == "a_b" and len(set(names)) == len(names)
