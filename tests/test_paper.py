"""Paper exams: formulas broken instead of shrunk, one TeX pass with stamped page totals,
cover pages, paper sizes, room to answer, the running head, and the key's arithmetic
(earlier results by value, "=" for terminating values)."""
import os
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from conftest import run_cli
from wsgen.formats.texbreak import breakable, split_display

pytestmark = pytest.mark.tex

A4 = (595.276, 841.89)          # 210 mm x 297 mm in PostScript points
LETTER = (612.0, 792.0)         # 8.5 in x 11 in


def write_exam(folder, body, name="exam.toml"):
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def build(folder, exam, *extra, formats="pdf"):
    out = folder / "out"
    status, _, err = run_cli("build", "--exam", exam, "--out", out, "--quiet", "--formats",
                             formats, *extra)
    assert status == 0, err
    return out


def page_texts(pdf):
    """The text of every page of a PDF (pdftotext, reading order)."""
    count = len(PdfReader(pdf).pages)
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
            for i in range(1, count + 1)]


def words(pdf):
    """[(page, xMin, yMin, xMax, yMax, word)] from pdftotext -bbox, and the page sizes."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    found, sizes = [], []
    for page_no, page in enumerate(re.findall(r"<page (.*?)</page>", html, re.S)):
        width, height = (float(v) for v in re.match(r'width="([\d.]+)" height="([\d.]+)"', page).groups())
        sizes.append((width, height))
        for x0, y0, x1, y1, word in re.findall(
                r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)</word>',
                page):
            found.append((page_no, float(x0), float(y0), float(x1), float(y1), word))
    return found, sizes


def scaling_matrices(pdf):
    """Every `cm` transformation in the PDF's page content that scales or rotates: a formula
    shrunk to fit (\\resizebox, \\scalebox) is drawn through such a matrix."""
    found = []
    for number, page in enumerate(PdfReader(pdf).pages):
        operations = page.get_contents().operations
        for i, (operands, operator) in enumerate(operations):
            if operator == b"cm":
                a, b, c, d = (float(x) for x in operands[:4])
                if (a, b, c, d) != (1.0, 0.0, 0.0, 1.0) and not _figure_follows(operations, i):
                    found.append((number + 1, (a, b, c, d)))
    return found


def _figure_follows(operations, i: int) -> bool:
    """A figure wider than the text block is scaled to its width (figures/pdftex.py): its
    drawing opens with round caps and joins, `q 1 J 1 j`, right after the scaling."""
    ahead = [op for _, op in operations[i + 1:i + 8]]
    return b"J" in ahead and b"j" in ahead


WIDE = """
title = "Wide settings"
seed = 11
variants = 2
[[problems]]
label = "Q1"
problem = "matrix_backprop"
options = { m = 6, n = 6 }
[[problems]]
label = "Q2"
problem = "logistic_regression"
options = { m = 8, d = 3 }
"""


#: Every shipped problem at the widest settings its ranges allow (the largest shapes, the
#: most digits); a new problem must be added here.
WIDEST = {
    "activations": "points = 6, slope = 0.99, digits = 12",
    "batch_norm": "m = 6, eps = 1",
    "conv2d": "H = 6, W = 6, k = 3, stride = 1, padding = 1",
    "logistic_regression": "m = 8, d = 3, digits = 12",
    "matrix_backprop": "m = 6, n = 6, max_abs = 100, places = 3",
    "max_pool": "H = 6, W = 6, size = 3, stride = 1",
    "mlp_backprop": "n = 4, hidden = 4, outputs = 4, max_abs = 10, places = 2",
    "optimizer_steps": "d = 3, T = 3, eps = 0.1",
    "regularization": "rows = 4, cols = 4, digits = 12",
    "softmax_cross_entropy": "K = 6, max_abs = 10, places = 2, digits = 12",
    "style_transfer_loss": "n_C = 4, n_H = 2, n_W = 3, places = 2",
    "triplet_loss": "dim = 4, max_abs = 10, places = 2",
    "attention": "n = 3, d = 3, d_v = 3",
    "rnn_step": "T = 3, n = 2, hidden = 3",
}


@pytest.fixture(scope="module")
def widest_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("paper-widest")
    body = 'title = "Widest"\nseed = 5\nvariants = 1\n' + "".join(
        f'[[problems]]\nproblem = "{pid}"\noptions = {{ {options} }}\n' for pid, options in WIDEST.items())
    return build(folder, write_exam(folder, body))


def test_widest_settings_fit_the_page(widest_build, problems):
    assert set(WIDEST) >= set(problems), "add the new problem to WIDEST"
    for pdf in (widest_build / "keys-booklet.pdf", widest_build / "questions-booklet.pdf"):
        assert scaling_matrices(pdf) == [], pdf
        found, sizes = words(pdf)
        over = [(p + 1, w) for p, x0, y0, x1, y1, w in found if x1 > sizes[p][0] - 62.36 + 1]
        assert over == [], (pdf, over[:8])


@pytest.fixture(scope="module")
def default_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("paper-default")
    out = folder / "out"
    status, _, err = run_cli("build", "--out", out, "--quiet", "--formats", "md,pdf",
                             "--variants", "2")
    assert status == 0, err
    return out


@pytest.fixture(scope="module")
def wide_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("paper-wide")
    return build(folder, write_exam(folder, WIDE))


# --- formulas: broken, never scaled -----------------------------------------------------
def test_no_formula_is_scaled_and_none_leaves_the_text_block(default_build, wide_build):
    # Scaling shows as a `cm` matrix other than a translation; the right margin is 2.2 cm
    # (62.36 pt) of the page, so no word may end to the right of width - 62.36 (+ 1 pt).
    pdfs = [default_build / "keys-booklet.pdf", default_build / "questions-booklet.pdf",
            wide_build / "keys-booklet.pdf", wide_build / "questions-booklet.pdf"]
    for pdf in pdfs:
        assert scaling_matrices(pdf) == [], pdf
        found, sizes = words(pdf)
        over = [(p + 1, w, x1) for p, x0, y0, x1, y1, w in found if x1 > sizes[p][0] - 62.36 + 1]
        assert over == [], (pdf, over[:5])


def test_the_scaling_check_would_see_a_shrunk_formula(tmp_path):
    # The same check on a document that does shrink a formula (as the key used to).
    if shutil.which("pdflatex") is None:
        pytest.fail("pdflatex is needed")
    tex = tmp_path / "shrunk.tex"
    tex.write_text(r"\documentclass{article}\usepackage{graphicx}\begin{document}"
                   r"\resizebox{3cm}{!}{$x = \frac{1}{1 + e^{-z}} + y + z + w + v + u + t + s$}"
                   r"\end{document}")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", tex.name],
                   cwd=tmp_path, capture_output=True, check=True)
    assert scaling_matrices(tmp_path / "shrunk.pdf")


def test_long_displays_break_at_relations_with_aligned_continuations(default_build):
    # Q2's dJ/db line is wider than the text block (the one the issue found at a third of
    # the body size): it is set on several lines, each continuation starting with "=" or an
    # operator, indented to the end of the left-hand side.
    found, _ = words(default_build / "canonical" / "key.pdf")
    approx_lines = [w for w in found if w[5] == "≈−0.05776" or w[5] == "−0.05776"]
    assert approx_lines, "the value of dJ/db is on the key"
    page = approx_lines[0][0]
    lines = {}
    for p, x0, y0, x1, y1, w in found:
        if p == page:
            lines.setdefault(round(y1), []).append((x0, w))
    starts = [min(ws)[1] for y, ws in sorted(lines.items())]
    assert any(s == "=" for s in starts), "a continuation line starts with '='"


# --- the key's arithmetic -------------------------------------------------------------
def test_update_step_uses_the_gradient_by_value(default_build):
    # The example: w := 0.5 - 0.1 * (-0.3810) ~ 0.5381 (canonical Q2: w = 0.5,
    # alpha = 0.1, dJ/dw = -0.3810 to 4 digits, 0.5 + 0.03810 = 0.53810).
    key = (default_build / "canonical" / "key.md").read_text()
    assert r"w := w - \alpha \frac{\partial J}{\partial w} = 0.5 - 0.1 \cdot \left(-0.3810\right) " \
           r"\approx 0.5381" in key
    # b = -0.5, dJ/db = -0.05776: -0.5 + 0.005776 = -0.494224
    assert r"= -0.5 - 0.1 \cdot \left(-0.05776\right) \approx -0.4942" in key


def test_terminating_arithmetic_is_shown_with_equals(default_build):
    key = (default_build / "canonical" / "key.md").read_text()
    # y_hat_1 = sigma(0) = 1/2 exactly, y_1 = 1: the residual is -1/2, a terminating value
    assert r"\hat y_1 - y_1 = 0.5 - 1 = -0.5" in key
    assert r"0.5 - 1 \approx" not in key


def _solution_and_answers(key_md):
    for problem in re.split(r"\n## ", key_md)[1:]:
        if "### Answers" in problem:
            solution, answers = problem.split("### Answers", 1)
            yield problem.split("\n", 1)[0], solution, answers.split("### Common", 1)[0]


def test_each_closed_form_appears_once_in_the_solution(tmp_path):
    # Over the whole bank and a few variants: the exact value of every answer that is not
    # a terminating decimal (its TeX before "≈") is written at most once in the Solution.
    exam = write_exam(tmp_path, open("examples/course-bank.toml", encoding="utf-8").read())
    out = build(tmp_path, exam, "--variants", "3", formats="md")
    checked = 0
    for key in sorted(out.rglob("key.md")):
        for title, solution, answers in _solution_and_answers(key.read_text()):
            for line in answers.splitlines():
                match = re.match(r"- (?:\(\w\) )?\$(.*?) = (.*) \\approx .*\$$", line)
                if not match or len(match.group(2)) < 30:
                    continue
                checked += 1
                assert solution.count(match.group(2)) <= 1, (key, title, match.group(2)[:80])
    assert checked > 20


# --- one pass, page totals stamped --------------------------------------------------------
def test_every_page_says_page_x_of_y_with_one_pdflatex_run_per_chunk(tmp_path, monkeypatch):
    import wsgen.formats.pdf as pdf
    runs = []
    real_run = subprocess.run

    def counting(command, *args, **kwargs):
        if command and command[0] == "pdflatex":
            runs.append(command)
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(pdf.subprocess, "run", counting)
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--out", out, "--quiet", "--formats", "pdf", "--variants", "3",
                             "--jobs", "1")
    assert status == 0, err
    # 4 sheets: one chunk of keys (12 per chunk) and one of questions (24 per chunk)
    assert len(runs) == 2 and not any("-draftmode" in r for r in runs)
    for variant in ("canonical", "v001", "v002", "v003"):
        for kind in ("questions", "key"):
            texts = page_texts(out / variant / f"{kind}.pdf")
            for number, text in enumerate(texts, start=1):
                assert f"Page {number} of {len(texts)}" in text, (variant, kind, number)
    booklet = page_texts(out / "keys-booklet.pdf")
    assert sum(len(page_texts(out / v / "key.pdf")) for v in ("canonical", "v001", "v002", "v003")) \
        == len(booklet)
    assert all(re.search(r"Page \d+ of \d+", t) for t in booklet)


# --- header ---------------------------------------------------------------------------
def test_running_head_has_no_dangling_separator_and_names_the_student(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns01,Ada Lovelace\n", encoding="utf-8")
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--out", out, "--quiet", "--formats", "pdf",
                             "--roster", roster)
    assert status == 0, err
    sheet = page_texts(out / "students" / "s01" / "questions.pdf")
    key = page_texts(out / "students" / "s01" / "key.pdf")
    for text in sheet:
        head = text.splitlines()[0]
        assert "Ada Lovelace (s01)" in text and not head.rstrip().endswith(("—", "-", "·"))
    assert all("Ada Lovelace (s01)" in t and "Answer key" in t for t in key)
    canonical = page_texts(out / "canonical" / "questions.pdf")
    assert all("Variant canonical" in t and "Variant canonical —" not in t for t in canonical)


# --- exam layout options ----------------------------------------------------------------
ONE = """
title = "Layout"
seed = 1
{top}
[[problems]]
label = "Q1"
problem = "triplet_loss"
points = 4
{space1}
[[problems]]
label = "Q2"
problem = "regularization"
points = 6
{space2}
"""


def layout(tmp_path, name, top="", space1="", space2=""):
    folder = tmp_path / name
    folder.mkdir()
    exam = write_exam(folder, ONE.format(top=top, space1=space1, space2=space2))
    return build(folder, exam)


def test_pdfs_are_titled(tmp_path):
    out = layout(tmp_path, "titles")
    assert PdfReader(out / "canonical" / "key.pdf").metadata.title == "Layout — canonical — answer key"
    assert PdfReader(out / "canonical" / "questions.pdf").metadata.title == \
        "Layout — canonical — question sheet"
    assert PdfReader(out / "keys-booklet.pdf").metadata.title == "Layout — answer key, every variant"


def test_paper_sizes(tmp_path):
    for name, top, size in (("a4", 'paper = "a4"', A4), ("letter", 'paper = "letter"', LETTER),
                            ("default", "", A4)):
        out = layout(tmp_path, name, top=top)
        for pdf in (out / "canonical" / "questions.pdf", out / "canonical" / "key.pdf"):
            for page in PdfReader(pdf).pages:
                box = page.mediabox
                assert (round(float(box.width), 1), round(float(box.height), 1)) == \
                    (round(size[0], 1), round(size[1], 1))


def test_cover_page_has_fields_marking_table_and_pledge(tmp_path):
    out = layout(tmp_path, "cover", top='cover = true\ncourse = "DL 101"\ndate = "2026-12-01"\n'
                 'instructions = "Calculators allowed."\npledge = "I worked alone & honestly."')
    cover = page_texts(out / "canonical" / "questions.pdf")[0]
    for text in ("Layout", "DL 101", "2026-12-01", "Form:", "canonical", "Name:", "Student ID:",
                 "Calculators allowed.", "Question", "Points", "Score", "Q1", "Q2", "Total",
                 "I worked alone & honestly.", "Signature:"):
        assert text in cover, text
    # the marking table: 4 + 6 = 10 points in all
    assert re.search(r"Total\s+10\b", cover) or re.search(r"\b10\b", cover.split("Total", 1)[1])
    # the questions start on the next page; the key has no cover
    assert "Q1." not in cover and "Triplet loss" not in cover
    assert "Name:" not in page_texts(out / "canonical" / "key.pdf")[0]
    plain = layout(tmp_path, "no-cover")
    assert "Student ID:" not in page_texts(plain / "canonical" / "questions.pdf")[0]
    md = layout(tmp_path, "cover-md", top="cover = true")
    assert not (md / "canonical" / "questions.md").exists()   # pdf only was asked for


def test_cover_under_a_roster_names_the_student(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    exam = write_exam(folder, ONE.format(top="cover = true", space1="", space2=""))
    roster = folder / "roster.csv"
    roster.write_text('id,name\nx7,"<b>Zoë & {Tom}</b>"\n', encoding="utf-8")
    out = folder / "out"
    status, _, err = run_cli("build", "--exam", exam, "--out", out, "--quiet", "--formats",
                             "md,pdf", "--roster", roster)
    assert status == 0, err
    cover = page_texts(out / "students" / "x7" / "questions.pdf")[0]
    assert "<b>Zoë & {Tom}</b>" in cover and "x7" in cover
    md = (out / "students" / "x7" / "questions.md").read_text()
    assert "| Total | 10 | |" in md and "Student ID: x7" in md


def _gap_after_q1(out):
    """Vertical distance (pt) from the last word of Q1's statement to Q2's heading, on
    the same page, or None when Q2 starts on a later page."""
    found, _ = words(out / "canonical" / "questions.pdf")
    heading = next(w for w in found if w[5] == "Q2.")
    before = [w for w in found if (w[0], w[2]) < (heading[0], heading[2])
              and w[5] not in ("Page",) and not re.fullmatch(r"\d+|of", w[5])]
    last = max(before, key=lambda w: (w[0], w[4]))
    return None if last[0] != heading[0] else heading[2] - last[4]


def test_space_after_each_question(tmp_path):
    gaps = {}
    for name, value in (("none", '"none"'), ("l5", "5"), ("l10", "10")):
        out = layout(tmp_path, name, space1=f"space = {value}", space2='space = "none"')
        gaps[name] = _gap_after_q1(out)
    # 5 more lines of 13.6 pt (the 11 pt class's \baselineskip) = 68 pt (Q2 still fits below)
    assert gaps["l10"] - gaps["l5"] == pytest.approx(5 * 13.6, abs=2)
    assert gaps["none"] < gaps["l5"] - 5 * 13.6 + 30
    pages = {}
    for name in ("none", "third", "half", "full"):
        out = layout(tmp_path, f"s-{name}", space1=f'space = "{name}"', space2=f'space = "{name}"')
        pages[name] = page_texts(out / "canonical" / "questions.pdf")
    assert len(pages["none"]) <= len(pages["third"]) <= len(pages["half"]) <= len(pages["full"])
    # "full": a whole blank page after each question's page (only the head and the footer on
    # it), and the next question starts a page of its own
    full = pages["full"]
    assert len(full) == 4 and "Q1." in full[0] and "Q2." in full[2], [t[:60] for t in full]
    for blank in (full[1], full[3]):
        body = [line for line in blank.splitlines() if line.strip()]
        assert all("Layout" in line or "Variant canonical" in line or re.fullmatch(r"Page \d+ of \d+", line)
                   for line in body), body
    # the room follows the last question too: 45 lines after Q2 need a page of their own
    short = layout(tmp_path, "last-none", space2='space = "none"')
    tall = layout(tmp_path, "last-tall", space2="space = 45")
    assert len(PdfReader(tall / "canonical" / "questions.pdf").pages) > \
        len(PdfReader(short / "canonical" / "questions.pdf").pages)


def test_a_long_marking_table_continues_on_the_next_page(tmp_path):
    body = 'title = "Many"\ncover = true\n' + "".join(
        f'[[problems]]\nlabel = "Question number {i} with a long label"\nproblem = "activations"\n'
        f'points = {i}\nspace = "none"\n' for i in range(1, 41))
    out = build(tmp_path, write_exam(tmp_path, body))
    texts = page_texts(out / "canonical" / "questions.pdf")
    # 1 + 2 + ... + 40 = 820 points; the table's rows reach the second page, with the total
    assert "Question number 1 with a long label" in texts[0]
    assert "Total" in texts[1] and "820" in texts[1] and "Question number 40" in texts[1]
    found, sizes = words(out / "canonical" / "questions.pdf")
    assert not [w for w in found if w[3] > sizes[w[0]][0] - 62.36 + 1]
    # nothing of the table runs into the footer: every word above the footer's line
    footer_top = {p: min(y0 for q, x0, y0, x1, y1, w in found if q == p and w == "Page") for p in (0, 1)}
    assert all(y1 <= footer_top[p] for p, x0, y0, x1, y1, w in found if p in (0, 1) and w != "Page"
               and not re.fullmatch(r"\d+|of", w))


def test_running_head_stays_on_one_line(tmp_path):
    folder = tmp_path / "rh"
    folder.mkdir()
    title = "Deep Learning (CS 4780/5780) — Final Examination, Fall Semester 2026, Section 3"
    exam = write_exam(folder, ONE.format(top="", space1="", space2="").replace('"Layout"', f'"{title}"'))
    roster = folder / "roster.csv"
    roster.write_text("id,name\nmx-2026-00017,Maximilian Alexander von Hohenzollern-Sigmaringen\n")
    out = folder / "out"
    status, _, err = run_cli("build", "--exam", exam, "--out", out, "--quiet", "--formats", "pdf",
                             "--roster", roster)
    assert status == 0, err
    found, _ = words(out / "students" / "mx-2026-00017" / "key.pdf")
    head = [w for w in found if w[0] == 0 and w[4] < 55]          # above the 2.2 cm margin
    assert len({round(w[4]) for w in head}) == 1, sorted({round(w[4]) for w in head})
    text = " ".join(w[5] for w in head)
    assert "Variant" not in text and text.count("mx-2026-00017") == 1 and "…" in text


@pytest.mark.parametrize("field, value, message", [
    ("paper", '"a5"', "paper: expected one of 'a4', 'letter'"),
    ("cover", '"yes"', "cover: expected true or false"),
    ("pledge", "3", "pledge: expected a string"),
    ("pledge", '"I promise."', "pledge: a pledge is printed on the cover page: add cover = true"),
    ("title", '"  "', "title: must not be empty"),
    ("id", '""', "id: must not be empty"),
])
def test_bad_layout_fields_are_one_line_errors(tmp_path, field, value, message):
    body = ONE.format(top=f"{field} = {value}", space1="", space2="")
    if field == "title":
        body = body.replace('title = "Layout"\n', "")
    exam = write_exam(tmp_path, body)
    status, out, err = run_cli("build", "--exam", exam, "--out", tmp_path / "o", "--quiet")
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert f"{exam}:{3 if field == 'title' else 4}:" in err     # the line of the field
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.parametrize("value, message", [
    ('"quarter"', "problems[2].space: expected one of 'none', 'third', 'half', 'full' or a number of lines"),
    ("46", "problems[2].space: expected 0 to 45 lines, got 46"),
    ("-1", "problems[2].space: expected 0 to 45 lines, got -1"),
    ("true", "problems[2].space: expected a string or an integer, got true"),
    ("2026-12-01", "problems[2].space: expected a string or an integer, got the date or time "
                   "2026-12-01 (write text in quotes)"),
    ("1.5", "problems[2].space: expected a string or an integer, got 1.5"),
])
def test_bad_space_is_a_one_line_error(tmp_path, value, message):
    exam = write_exam(tmp_path, ONE.format(top="", space1="", space2=f"space = {value}"))
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "o", "--quiet")
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1, err


# --- the break points, as TeX ----------------------------------------------------------
def test_split_display_at_the_first_outer_relation():
    assert split_display(r"a = b \approx c") == ("a ", r"= b \approx c")
    assert split_display(r"\sum_{i=1}^{m} x_i = 1") == (r"\sum_{i=1}^{m} x_i ", "= 1")
    assert split_display(r"w := w - 1") == ("w ", ":= w - 1")
    assert split_display(r"\left(a = b\right) + c") == ("", r"\left(a = b\right) + c")
    assert split_display(r"x + y") == ("", "x + y")


def test_breakable_marks_outer_operators_not_signs_or_groups():
    out = breakable(r"= -1 + \frac{a - b}{2} \cdot e^{-z}")
    assert out.count(r"\wsgenRelBreak{0}") == 1
    assert out.count(r"\wsgenBinBreak{0}") == 2          # "+" and "\cdot"; not the sign
    assert r"\frac{a - b}{2}" in out and "e^{-z}" in out  # nothing inside braces
    # a delimiter pair is opened up (same sizes through phantoms), its inside marked deeper
    pair = breakable(r"= \left(a + b\right)")
    assert pair == (r"\wsgenRelBreak{0}= \mathopen{\left(\vphantom{a + b}\right.}a "
                    r"\wsgenBinBreak{1}+ b\mathclose{\left.\vphantom{a + b}\right)}")
    # inside a matrix nothing is marked
    assert r"\wsgenBinBreak" not in breakable(r"\begin{bmatrix}a + b\\c - d\end{bmatrix}")


def test_cover_and_space_in_html_and_markdown(tmp_path):
    # The cover and the room to answer are document nodes: every format shows them its way.
    folder = tmp_path / "h"
    folder.mkdir()
    exam = write_exam(folder, ONE.format(top='cover = true\npaper = "letter"\npledge = "No <notes> & no phones."',
                                         space1='space = "half"', space2="space = 7"))
    out = build(folder, exam, formats="md,html")
    page = (out / "canonical" / "questions.html").read_text()
    assert '<table class="marking">' in page and "<td>Q1</td><td>4</td>" in page
    assert "<th>Total</th><th>10</th>" in page
    assert "No &lt;notes&gt; &amp; no phones." in page
    assert 'class="answer-space space-half"' in page and "min-height: 10.5em" in page  # 7 x 1.5em
    assert "size: letter" in page
    key = (out / "canonical" / "key.html").read_text()
    assert "<table class=\"marking\">" not in key and "<div class=\"answer-space" not in key
    md = (out / "canonical" / "questions.md").read_text()
    assert "| Q1 | 4 | |" in md and "No \\<notes\\> &amp; no phones." in md


def test_a_character_in_no_font_is_refused_naming_the_field(tmp_path):
    # Every script has a font (Latin Modern, the Noto fallbacks); an emoji or a private-use
    # code has none: refused before anything is written, the field named; without pdf fine.
    folder = tmp_path / "emoji"
    folder.mkdir()
    exam = write_exam(folder, ONE.format(top="", space1="", space2="").replace('"Layout"', '"考试 \U0001F600 end"'))
    status, _, err = run_cli("build", "--exam", exam, "--out", folder / "o", "--quiet", "--formats", "md,pdf")
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{exam}: title: '\U0001F600' (U+1F600) is in no font of the PDF documents" in err
    assert not (folder / "o").exists() or not [p for p in (folder / "o").iterdir() if not p.name.startswith(".")]
    status, _, err = run_cli("build", "--exam", exam, "--out", folder / "m", "--quiet", "--formats", "md,html")
    assert status == 0, err
    plain = write_exam(folder, ONE.format(top="", space1="", space2=""), "plain.toml")
    roster = folder / "roster.csv"
    roster.write_text("id,name\nw1,王小明\uE000\n", encoding="utf-8")
    status, _, err = run_cli("build", "--exam", plain, "--out", folder / "r", "--quiet", "--formats", "pdf",
                             "--roster", roster)
    assert status == 2 and f"{roster}: student 'w1': name: '\\ue000' (U+E000)" in err, err


# --- every name: scripts pdfTeX lacks are set by LuaLaTeX --------------------------------
NAMES = {                       # one student per script, as typed (NFC)
    "vi": "Nguyễn Thị Minh Khai", "vi2": "Trương Văn Đức", "zh": "王小明", "ja": "山田 太郎",
    "ko": "김민준", "he": "דוד לוי", "ar": "محمد علي", "hi": "अनीता देसाई",
    "el": "Νίκος Παπαδόπουλος", "ru": "Жанна Дарк", "en": "Ada Lovelace"}
_BIDI_MARKS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def extracted(pdf, first=1, last=None):
    """pdftotext's text, without the embedding marks it adds around right-to-left lines."""
    args = ["pdftotext", "-f", str(first)] + (["-l", str(last)] if last else [])
    text = subprocess.run(args + [str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return _BIDI_MARKS.sub("", text)


@pytest.fixture(scope="module")
def script_roster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scripts")
    exam = write_exam(folder, ONE.format(top='cover = true\ncourse = "Kỳ thi — 深度学习"', space1="", space2="")
                      .replace('"Layout"', '"Giữa kỳ — 期中考试"'))
    roster = folder / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"{k},{v}\n" for k, v in NAMES.items()), encoding="utf-8")
    out = folder / "out"
    status, _, err = run_cli("build", "--exam", exam, "--roster", roster, "--secret", folder / "k.key",
                             "--out", out, "--quiet", "--formats", "pdf")
    assert status == 0, err
    return folder, exam, roster, out


def test_every_script_typesets_and_extracts_as_written(script_roster):
    _, _, _, out = script_roster
    for sid, name in NAMES.items():
        for kind in ("questions", "key"):
            pdf = out / "students" / sid / f"{kind}.pdf"
            text = extracted(pdf)
            # the cover's name field (questions) and the header's "Student: NAME (id)" line
            # (pdftotext's spacing heuristics split a Devanagari word at a vowel sign drawn
            # before its consonant, "दे साई": its letters compared without spaces)
            assert name in text if sid != "hi" else \
                name.replace(" ", "") in re.sub(r"\s", "", text), (sid, kind, text[:300])
            assert "Giữa kỳ — 期中考试" in text and "Kỳ thi — 深度学习" in text, (sid, kind)


def test_only_sheets_that_need_it_use_lualatex_and_no_glyph_is_missing(script_roster):
    # pdffonts: every font embedded, with a ToUnicode map; the Noto faces only in the chunks
    # that hold such a name.  The roster's 11 students and the canonical sheet fit one chunk
    # of each kind (24 question sheets, 12 keys): all of them are LuaLaTeX's here.
    _, _, _, out = script_roster
    for sid in ("zh", "ar", "he", "vi", "hi"):
        fonts = subprocess.run(["pdffonts", str(out / "students" / sid / "questions.pdf")],
                               capture_output=True, text=True, check=True).stdout.splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts   # embedded
        names = " ".join(line.split()[0] for line in fonts)
        wanted = {"zh": "NotoSerifCJKsc", "ar": "NotoNaskhArabic", "he": "NotoSerifHebrew",
                  "vi": "LMRoman10-Regular", "hi": "NotoSerifDevanagari"}[sid]
        assert wanted in names, (sid, names)
        assert all(line.split()[-3] == "yes" for line in fonts if "Noto" in line)   # ToUnicode


def test_lualatex_logs_no_missing_character(script_roster, tmp_path, monkeypatch):
    # The same roster's chunks typeset again, keeping the logs: no glyph lost.
    import wsgen.formats.pdf as pdf
    folder, exam, roster, _ = script_roster
    logs = []
    real = pdf._run_pdflatex

    def keeping(source, workdir, name, engine="pdftex"):
        result = real(source, workdir, name, engine)
        logs.append((engine, (workdir / f"{name}.log").read_text(errors="replace")))
        return result

    monkeypatch.setattr(pdf, "_run_pdflatex", keeping)
    status, _, err = run_cli("build", "--exam", exam, "--roster", roster, "--secret", folder / "k.key",
                             "--out", tmp_path / "again", "--quiet", "--formats", "pdf")
    assert status == 0, err
    assert [engine for engine, _ in logs] == ["luatex", "luatex"]
    assert not [log for _, log in logs if "Missing character" in log]


def test_latin_rosters_keep_pdflatex_and_unicode_ones_are_deterministic(script_roster, tmp_path, monkeypatch):
    import wsgen.formats.pdf as pdf
    folder, exam, roster, out = script_roster
    engines = []
    real = pdf._run_pdflatex
    monkeypatch.setattr(pdf, "_run_pdflatex", lambda source, workdir, name, engine="pdftex":
                        engines.append(engine) or real(source, workdir, name, engine))
    status, _, err = run_cli("build", "--exam", exam, "--roster", roster, "--secret", folder / "k.key",
                             "--out", tmp_path / "again", "--quiet", "--formats", "pdf")
    assert status == 0, err
    for pdf_file in sorted(out.rglob("*.pdf")):
        assert pdf_file.read_bytes() == (tmp_path / "again" / pdf_file.relative_to(out)).read_bytes(), pdf_file
    engines.clear()
    latin = folder / "latin.csv"
    latin.write_text("id,name\ns1,Zoë Łukasz Νίκος\ns2,Жанна\n", encoding="utf-8")
    plain = write_exam(folder, ONE.format(top="", space1="", space2=""), "plain.toml")
    status, _, err = run_cli("build", "--exam", plain, "--roster", latin, "--secret", folder / "k.key",
                             "--out", tmp_path / "latin", "--quiet", "--formats", "pdf")
    assert status == 0, err
    assert engines == ["pdftex", "pdftex"]


def test_a_right_to_left_name_reads_right_to_left_on_the_page(script_roster):
    # "דוד לוי" (David Levi) on the cover: pdftotext -bbox gives its letters one by one with
    # their boxes; read from the right, each line that holds them spells the name (the
    # first word at the right), as any Hebrew text reads.
    _, _, _, out = script_roster
    found, _ = words(out / "students" / "he" / "questions.pdf")
    lines = {}
    for page, x0, y0, x1, y1, word in found:
        letters = "".join(ch for ch in word if "\u05d0" <= ch <= "\u05ea")
        if page == 0 and letters:
            lines.setdefault(round(y1), []).append((x0, letters))
    assert len(lines) >= 3, lines          # the running head, the header's student line, the cover
    for y, letters in lines.items():
        assert "".join(w for _, w in sorted(letters))[::-1] == "דודלוי", (y, sorted(letters))


# --- paper that prints right (issue 23) -----------------------------------------------------
TEXT_BOTTOM = A4[1] - 62.36                 # the 2.2 cm margin under the text block
TEXT_HEIGHT = A4[1] - 2 * 62.36


def body_words(found):
    """Words of the text block: not the running head (above 55 pt) nor the footer."""
    return [w for w in found if 55 < w[2] and w[4] < TEXT_BOTTOM + 1]


def test_a_question_and_its_room_stay_together(tmp_path):
    # Five questions with half a page of room each: where the next question starts a later
    # page, what is left under a question's last line is at least its room (0.47 of the text
    # height, 337 pt on A4), so the room is on the question's page, not the next one; and a
    # question is never split from its heading.
    body = 'title = "Together"\nseed = 3\n' + "".join(
        f'[[problems]]\nlabel = "Q{i}"\nproblem = "{pid}"\nspace = "half"\n'
        for i, pid in enumerate(("triplet_loss", "regularization", "activations", "logistic_regression",
                                 "triplet_loss"), start=1))
    out = build(tmp_path, write_exam(tmp_path, body))
    found, _ = words(out / "canonical" / "questions.pdf")
    found = body_words(found)
    headings = [w for w in found if re.fullmatch(r"Q\d\.", w[5])]
    assert [h[5] for h in headings] == ["Q1.", "Q2.", "Q3.", "Q4.", "Q5."]
    order = lambda w: (w[0], w[2])
    for this, following in zip(headings, headings[1:]):
        mine = [w for w in found if order(this) <= order(w) < order(following)]
        last = max(mine, key=lambda w: (w[0], w[4]))
        assert {w[0] for w in mine} == {this[0]}, (this[5], "split across pages")
        room = 0.47 * TEXT_HEIGHT
        if following[0] == this[0]:
            assert following[2] - last[4] >= room - 2, (this[5], following[2] - last[4])
        else:
            assert TEXT_BOTTOM - last[4] >= room - 2, (this[5], TEXT_BOTTOM - last[4])


def test_points_stay_on_the_first_line_of_a_long_title(tmp_path):
    title = "A very long slot title with many words"            # and ". Triplet loss for face …"
    body = ONE.format(top="", space1="", space2="").replace('label = "Q1"', f'label = "{title}"')
    out = build(tmp_path, write_exam(tmp_path, body))
    found, sizes = words(out / "canonical" / "questions.pdf")
    opening = next(w for w in found if w[5] == "(4")
    closing = next(w for w in found if w[5] == "points)")
    first = next(w for w in found if w[5] == "A")                  # the title's first word
    assert abs(opening[4] - first[4]) < 1 and abs(closing[4] - first[4]) < 1
    assert closing[3] <= sizes[0][0] - 62.36 + 1
    # the title wraps before the points: no word of it runs under or past "(4 points)"
    title_words = [w for w in found if w[0] == opening[0] and w[5] in
                   ("very", "long", "slot", "title", "Triplet", "loss", "face", "verification")]
    assert len({round(w[4]) for w in title_words}) > 1
    assert all(w[3] < opening[1] for w in title_words)


def _choice_rows(pdf):
    found, _ = words(pdf)
    rows = {}
    for p, x0, y0, x1, y1, w in found:
        if re.fullmatch(r"[A-E]\.", w):
            rows.setdefault((p, round(y1)), []).append((x0, w))
    return [sorted(v) for k, v in sorted(rows.items())]


def test_short_options_are_set_in_a_grid(tmp_path):
    # mlp_backprop's gradients as four options each: vectors too wide for four to a row and
    # narrow enough for two: "A. B." over "C. D.", the columns aligned; the scalar loss's
    # options four to a row.
    body = ('title = "Grid"\nseed = 2\n[[problems]]\nlabel = "Q1"\nproblem = "mlp_backprop"\n'
            'options = { n = 3, hidden = 3, outputs = 2 }\nmultiple_choice = 4\n')
    out = build(tmp_path, write_exam(tmp_path, body))
    rows = [[w for _, w in row] for row in _choice_rows(out / "canonical" / "questions.pdf")]
    assert ["A.", "B."] in rows and ["C.", "D."] in rows, rows
    grid = _choice_rows(out / "canonical" / "questions.pdf")
    pairs = [(a, b) for a, b in zip(grid, grid[1:]) if [w for _, w in a] == ["A.", "B."]
             and [w for _, w in b] == ["C.", "D."]]
    assert pairs and all(abs(a[0][0] - b[0][0]) < 1 and abs(a[1][0] - b[1][0]) < 1 for a, b in pairs)
    # options too wide for half the line stay one under the other (triplet_loss's formulas
    # for L), its short numbers four to a row
    body = body.replace("mlp_backprop", "triplet_loss").replace("options = { n = 3, hidden = 3, outputs = 2 }\n", "")
    folder = tmp_path / "wide"
    folder.mkdir()
    out = build(folder, write_exam(folder, body))
    rows = [[w for _, w in row] for row in _choice_rows(out / "canonical" / "questions.pdf")]
    assert rows[:4] == [["A."], ["B."], ["C."], ["D."]] and ["A.", "B.", "C.", "D."] in rows, rows


def test_head_title_and_marking_labels_never_overprint(tmp_path):
    # A title longer than the head has room for beside "Variant canonical", and a 40-character
    # unbroken slot label in the marking table's first column: each is shortened with "…"
    # to end before its neighbour starts.
    title = "Deep Learning and Neural Network Optimisation — Final Examination of the Winter Term"
    label = "Q" * 40
    body = (ONE.format(top="cover = true", space1="", space2="").replace('"Layout"', f'"{title}"')
            .replace('label = "Q1"', f'label = "{label}"'))
    out = build(tmp_path, write_exam(tmp_path, body))
    found, _ = words(out / "canonical" / "questions.pdf")
    for page in {w[0] for w in found}:
        head = sorted((w for w in found if w[0] == page and w[4] < 55), key=lambda w: w[1])
        variant = next(w for w in head if w[5] == "Variant")
        title_words = [w for w in head if w[1] < variant[1]]
        assert title_words and title_words[-1][3] < variant[1] - 10, head
        assert "…" in title_words[-1][5]
    cover = [w for w in found if w[0] == 0]
    points = next(w for w in cover if w[5] == "Points")
    cell = [w for w in cover if w[5].startswith("QQQ")]
    assert cell and all(w[3] < points[1] - 10 for w in cell), (cell, points)
    assert cell[0][5].endswith("…") and len({round(w[4]) for w in cell}) == 1


def test_long_unbroken_strings_wrap_inside_the_margins(tmp_path):
    # An address and an identifier with no space in the instructions and a label: they break
    # at the right margin instead of running off the page.
    long_string = "https://example.org/" + "verylongpath/" * 12
    body = ONE.format(top=f'cover = true\ninstructions = "See {long_string} and {"x" * 120}."',
                      space1="", space2="")
    out = build(tmp_path, write_exam(tmp_path, body))
    found, sizes = words(out / "canonical" / "questions.pdf")
    assert not [w for w in found if w[3] > sizes[w[0]][0] - 62.36 + 1]
    text = re.sub(r"\s", "", page_texts(out / "canonical" / "questions.pdf")[0])
    assert long_string in text and "x" * 120 in text          # every character kept


def test_inline_fractions_that_carry_the_content_are_display_size(tmp_path):
    # batch_norm's prompt has x̂ᵢ = (xᵢ − μ)/√(σ² + ε) inline: its numerator in the body
    # size (a display fraction), not the script size of a text-style fraction; the word
    # "x" of the numerator is as tall as the prose's "x"-height words around it.
    body = 'title = "Fractions"\n[[problems]]\nlabel = "Q1"\nproblem = "batch_norm"\n'
    from wsgen.formats.texbreak import display_fractions
    assert display_fractions(r"\hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}}") == \
        r"\hat x_i = \dfrac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}}"
    assert display_fractions(r"\frac{\partial L}{\partial W_{kl}} = 2 e^{\frac{a}{b}}") == \
        r"\dfrac{\partial L}{\partial W_{kl}} = 2 e^{\frac{a}{b}}"
    assert display_fractions(r"\frac{1}{m} \sum_i x_i") == r"\frac{1}{m} \sum_i x_i"   # a factor
    out = build(tmp_path, write_exam(tmp_path, body))
    found, _ = words(out / "canonical" / "questions.pdf")
    mu = [w for w in found if w[5] in ("µ", "μ")]           # CMMI's μ extracts as U+00B5
    assert mu, "the numerator x_i − μ is on the sheet"
    # 11 pt body: a μ in display size is about 5 pt tall in pdftotext's box (font size),
    # a script-size one (the 8 pt of a text-style fraction) about 8 pt: boxes are the font
    # size, so compare with the size of the prose around it
    prose = next(w for w in found if w[5] == "mean")                 # a word of the prompt
    assert all((w[4] - w[2]) > 0.9 * (prose[4] - prose[2]) for w in mu), (mu, prose)
