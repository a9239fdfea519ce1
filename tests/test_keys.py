"""Keys a student can learn from: who a key is for, the order it reads in, reasons written
as sentences, written forms kept, honest mistakes, and the authoring checks at load.

Expected texts and values are written out here by hand (the comments say how); the code
under test only produces what is compared."""
import math
import re
import textwrap

import pytest
import sympy as sp

from conftest import one_item_sheet, run_cli
from wsgen import Answer, Part, Solution, Step, Variant
from wsgen.core.distractors import honest_mistakes, satisfies, with_multiple_choice
from wsgen.core.draw import draw_multiple_choice, draw_variant
from wsgen.core.model import Mistake
from wsgen.core.numeric import exact_str
from wsgen.core.printing import answer_tex, exact_tex, tex
from wsgen.core.shown import written
from wsgen.exam.load import DEFAULT_EXAM
from wsgen.formats.document import build_document, solution_blocks, step_part
from wsgen.formats.templating import render_document
from wsgen.quality.selftest import unknown_tex

N = 4


def key_md(variant, key="student"):
    return render_document(build_document(one_item_sheet(variant, key=key), "key"), "md",
                           anchor="v1")


def headings(markdown: str) -> list[str]:
    return [line[5:] for line in markdown.splitlines() if line.startswith("#### ")]


# --- audience -------------------------------------------------------------------------------
def test_matrix_backprop_student_key_keeps_every_step_but_the_check(problems):
    # matrix_backprop's steps, from its source: (a) Forward pass, (b) Derivation in index
    # notation, (b) Checked by SymPy (a verification note), (c) Substituting the numbers
    p = problems["matrix_backprop"]
    v = draw_variant(p, p.Options(), None)
    student, instructor = key_md(v, "student"), key_md(v, "instructor")
    assert headings(student) == ["(a) Forward pass", "(b) Derivation in index notation",
                                 "(c) Substituting the numbers"]
    assert headings(instructor) == ["(a) Forward pass", "(b) Derivation in index notation",
                                    "(b) Checked by SymPy", "(c) Substituting the numbers"]
    # the provenance line (problem id, canonical numbers or seed) is the instructor's
    assert "canonical numbers" in instructor and "canonical numbers" not in student
    assert "SymPy's matrix calculus" in instructor and "SymPy" not in student
    # both keep the question, the answers and the common mistakes
    for text in (student, instructor):
        assert "### Question" in text and "### Answers" in text and "### Common mistakes" in text


def test_a_note_inside_a_step_is_left_out_of_the_student_key(problems):
    p = problems["triplet_loss"]
    v = draw_variant(p, p.Options(), 3)
    student, instructor = key_md(v, "student"), key_md(v, "instructor")
    assert "SymPy verifies the sums written out here" in instructor
    assert "SymPy verifies" not in student
    assert "seed 3" in instructor and "seed 3" not in student
    assert headings(student) == headings(instructor)    # every step is kept


def test_every_shipped_key_for_students_has_no_verification_note(problems):
    for pid, p in problems.items():
        v = draw_variant(p, p.Options(), 1)
        student = key_md(v, "student")
        assert "Checked by SymPy" not in student, pid
        assert "seed 1" not in student, pid
        notes = [s for s in v.solution.steps if getattr(s, "audience", None) == "instructor"]   # figures have none
        for note in notes:
            assert note.title not in headings(student), pid


def test_the_exam_setting_and_the_command_line_choose_the_audience(tmp_path):
    text = DEFAULT_EXAM.read_text(encoding="utf-8")
    assert 'key = "instructor"' in text          # the shipped exam publishes instructor keys
    student_exam = tmp_path / "student.toml"
    student_exam.write_text(text.replace('key = "instructor"\n', ""), encoding="utf-8")
    out = tmp_path / "a"
    status, _, err = run_cli("build", "--exam", student_exam, "--out", out, "--variants", "0",
                             "--formats", "md", "-q")
    assert status == 0, err
    key = (out / "canonical" / "key.md").read_text(encoding="utf-8")
    assert "canonical numbers" not in key and "Checked by SymPy" not in key    # the default
    out = tmp_path / "b"
    status, _, err = run_cli("build", "--exam", student_exam, "--out", out, "--variants", "0",
                             "--formats", "md", "-q", "--key-audience", "instructor")
    assert status == 0, err
    key = (out / "canonical" / "key.md").read_text(encoding="utf-8")
    assert "canonical numbers" in key and "Checked by SymPy" in key


@pytest.mark.parametrize("value, needle", [
    ('"teacher"', "key: expected one of 'student', 'instructor', got 'teacher'"),
    ("true", "key: expected a string, got true"),
])
def test_the_key_setting_is_validated(tmp_path, value, needle):
    text = DEFAULT_EXAM.read_text(encoding="utf-8").replace('key = "instructor"', f"key = {value}")
    exam = tmp_path / "exam.toml"
    exam.write_text(text, encoding="utf-8")
    line = text.split("\n").index(f"key = {value}") + 1
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "out", "-q")
    assert status == 2 and f"{exam}:{line}: {needle}" in err, err


# --- order ----------------------------------------------------------------------------------
def test_step_part_reads_the_title():
    labels = ["(a)", "(b)", "(c)"]
    assert step_part(Step(title="(b) Derivation"), labels) == "(b)"
    assert step_part(Step(title="(b), (c) Checked by SymPy"), labels) == "(c)"
    assert step_part(Step(title="(a) and (b) Both"), labels) == "(b)"
    assert step_part(Step(title="Sigmoid"), labels) is None
    assert step_part(Step(title="(z) Not a part"), labels) is None


def _variant(steps, answers=(), mistakes=(), parts=("(a)", "(b)")):
    return Variant(problem_id="t", title="t", seed=None, options=None, params=None,
                   statement=tuple(Part(label, "Do it.") for label in parts),
                   solution=Solution(steps=steps, answers=answers), mistakes=mistakes)


def test_the_solution_reads_in_part_order_with_the_options_under_their_part():
    # written out of order on purpose: (b) first; the unlabelled step follows (a)'s
    steps = (Step(title="(b) Second"), Step(title="(a) First"), Step(title="More of it"),
             Step(title="(a) Checked", audience="instructor"))
    formula = Answer("f", "f", "x", choices=("x", "y"), part="(a)")
    mistake = Mistake("m", "y for x", "the other one", {"f": "y"})
    v = _variant(steps, (formula,), (mistake,))
    titles = [b.step.title for b in solution_blocks(v, "student")]
    assert titles == ["(a) First", "More of it", "(a) The options", "(b) Second"]
    titles = [b.step.title for b in solution_blocks(v, "instructor")]
    assert titles == ["(a) First", "More of it", "(a) Checked", "(a) The options", "(b) Second"]


def test_matrix_backprop_multiple_choice_has_one_options_heading_per_part(problems):
    # the issue's key read (c) Substituting → (a) The options → (a) The options → (c) …
    p = problems["matrix_backprop"]
    v = draw_multiple_choice(p, p.Options(), None, N)
    assert headings(key_md(v, "student")) == [
        "(a) Forward pass", "(a) The options", "(b) Derivation in index notation",
        "(c) Substituting the numbers", "(c) The options"]


def test_every_problem_under_multiple_choice_has_one_options_heading_per_part(problems):
    for pid, p in problems.items():
        v = draw_multiple_choice(p, p.Options(), 2, N)
        found = [h for h in headings(key_md(v)) if h.endswith("The options")]
        parts = {a.part for a in v.solution.answers if a.kind == "choice"}
        assert len(found) == len(set(found)) == len(parts), (pid, found)


# --- reasons ----------------------------------------------------------------------------------
def test_reasons_are_sentences_and_every_option_has_one(problems):
    seen = set()
    for pid, p in problems.items():
        for seed in range(3):
            v = draw_multiple_choice(p, p.Options(), seed, N)
            text = key_md(v)
            assert "it is not the formula asked for" not in text
            # no "D: $…$: label: why" chains any more
            assert not re.search(r"^- [A-F]: \$", text, re.M), pid
            for name, form in v.choice_forms.items():
                for i, label in enumerate(form.labels):
                    if label is None:
                        continue
                    letter = "ABCDEF"[i]
                    line = next((ln for ln in text.splitlines()
                                 if ln.startswith(f"- {letter} ")), None)
                    assert line is not None and line.endswith("."), (pid, seed, name, letter)
                    seen.add(label if label in ("times_10", "sign_flipped") else "mistake"
                             if "comes from a common mistake" in line else "other")
    assert {"times_10", "mistake"} <= seen


def test_a_decimal_slip_reads_as_the_issue_asks(problems):
    p = problems["matrix_backprop"]
    for seed in range(200):
        v = draw_multiple_choice(p, p.Options(), seed, N)
        for name, form in v.choice_forms.items():
            if "times_10" in form.labels:
                letter = "ABCD"[form.labels.index("times_10")]
                assert f"- {letter} is ten times too large: a slipped decimal point.\n" in key_md(v)
                return
    pytest.fail("no ×10 slip in 200 draws")


def test_a_formula_option_without_a_mistake_is_refused():
    from wsgen.formats.document import MissingReason
    formula = Answer("f", "f", "x", choices=("x", "y", "z"), part="(a)")
    v = _variant((Step(title="(a) The formula"),), (formula,),
                 (Mistake("m", "y for x", "the other one", {"f": "y"}),), parts=("(a)",))
    with pytest.raises(MissingReason, match="answer f: option C has no declared mistake"):
        build_document(one_item_sheet(v, key="student"), "key")


# --- written forms -----------------------------------------------------------------------------
def test_written_arithmetic_prints_as_written_and_keeps_its_value():
    e = written(sp.exp(-1))
    p = e / (e + 1 + e)
    d = p - sp.Rational(1, 10)
    assert tex(p) == r"\frac{e^{-1}}{e^{-1} + 1 + e^{-1}}"
    assert tex(d) == r"\frac{e^{-1}}{e^{-1} + 1 + e^{-1}} - 0.1"
    # by hand: e⁻¹/(1 + 2e⁻¹) = 1/(e + 2) = 0.2119415576…, less 0.1
    assert math.isclose(float(d.value), 1 / (math.e + 2) - 0.1, rel_tol=1e-15)
    assert d.value == sp.exp(-1) / (1 + 2 * sp.exp(-1)) - sp.Rational(1, 10)
    # the answers list prints it as written, with its decimal: 0.11194… ≈ 0.1119
    assert answer_tex(d, 4) == r"\frac{e^{-1}}{e^{-1} + 1 + e^{-1}} - 0.1 \approx 0.1119"
    a = written(sp.Rational(1, 2))
    assert tex(a - sp.Rational(3, 10) + 2) == "0.5 - 0.3 + 2"      # not (0.5 - 0.3) + 2
    assert (a - sp.Rational(3, 10) + 2).value == sp.Rational(11, 5)
    assert tex(-(a + 1) * 3) == r"\left(-\left(0.5 + 1\right)\right) \cdot 3"
    with pytest.raises(TypeError, match=r"sp.Rational\('0.1'\)"):
        written(sp.Integer(1)) + 0.1


def test_the_printer_keeps_e_to_a_negative_power_in_the_numerator():
    # SymPy's own LaTeX printer gives \frac{1}{\left(1 + \frac{2}{e}\right) e}
    assert tex(sp.exp(-1) / (2 * sp.exp(-1) + 1)) == r"\frac{e^{-1}}{1 + 2 e^{-1}}"
    assert tex(2 * sp.exp(-1)) == r"2 e^{-1}"
    assert tex(-sp.exp(-1)) == r"- e^{-1}"
    assert tex(sp.exp(1) / (1 + sp.exp(1))) == r"\frac{e}{1 + e}"      # untouched


def test_the_key_answers_list_shows_the_written_form():
    e = written(sp.exp(-1))
    d = e / (e + 1 + e) - sp.Rational(1, 10)
    v = _variant((Step(title="(a) It"),), (Answer("d", "d", d, part="(a)"),), parts=("(a)",))
    text = key_md(v)
    assert r"- $d = \frac{e^{-1}}{e^{-1} + 1 + e^{-1}} - 0.1 \approx 0.1119$" in text


def test_exact_tex_reads_answers_json_back_as_the_key_prints_it():
    e = written(sp.exp(-1))
    d = e / (e + 1 + e) - sp.Rational(1, 10)
    assert exact_tex(exact_str(d)) == answer_tex(d, 4)
    # a SymPy value's string prints as SymPy holds it: 1/(1 + e) ≈ 0.2689
    assert exact_tex("1/(1 + exp(1))") == r"\frac{1}{1 + e} \approx 0.2689"
    assert exact_tex(["1/2", "-tanh(2)"], "vector") == \
        r"\begin{bmatrix}0.5\\- \tanh{\left(2 \right)}\end{bmatrix} \approx " \
        r"\begin{bmatrix}0.5000\\-0.9640\end{bmatrix}"


# --- honest mistakes ----------------------------------------------------------------------------
def test_a_mistake_giving_the_right_value_is_left_out_of_that_variant(problems):
    # canonical triplet: d_ap = 0.08, d_an = 0.25, α = 0.2, so L = max(0.03, 0) = 0.03; "no
    # hinge" gives 0.08 - 0.25 + 0.2 = 0.03 as well
    p = problems["triplet_loss"]
    v = draw_variant(p, p.Options(), None)
    assert ("no_hinge", "loss") in v.coinciding
    assert all(m.id != "no_hinge" for m in v.mistakes)
    from wsgen.formats.json import variant_record
    assert "no_hinge" not in {m["id"] for m in variant_record(v)["mistakes"]}
    mc = with_multiple_choice(v, N)
    assert "no_hinge" not in mc.choice_forms["loss"].labels


def test_honest_mistakes_by_hand():
    # L = 0.5: a mistake giving 0.5004 is within the default tolerance (1e-6 + 1e-3 · 0.5004)
    solution = Solution(steps=(), answers=(Answer("L", "L", sp.Rational(1, 2)),
                                           Answer("M", "M", sp.Integer(2))))
    near = Mistake("near", "near", "why", {"L": sp.Rational(5004, 10000), "M": sp.Integer(3)})
    far = Mistake("far", "far", "why", {"L": sp.Rational(51, 100)})
    only = Mistake("only", "only", "why", {"M": sp.Integer(2)})
    kept, coinciding = honest_mistakes((near, far, only), solution)
    assert [m.id for m in kept] == ["near", "far"]
    assert dict(kept[0].values) == {"M": sp.Integer(3)}
    assert coinciding == (("near", "L"), ("only", "M"))


def test_stress_reports_mistakes_giving_the_right_value():
    status, out, err = run_cli("stress", "triplet_loss", "-n", "40")
    assert status == 0, out + err
    assert "declared mistakes giving the correct value (left out of those variants):" in out
    assert re.search(r"no_hinge for loss: \d+ \(\d+\.\d% of draws\)", out)


# --- constraints ----------------------------------------------------------------------------------
def test_constraints_by_hand():
    R = sp.Rational
    assert satisfies(R(1, 2), ("nonnegative", "probability"))
    assert not satisfies(R(-1, 2), ("nonnegative",))
    assert not satisfies(R(3, 2), ("probability",))
    from wsgen import Vector
    assert satisfies(Vector((R(1, 4), R(3, 4))), ("sums_to_one",))
    assert not satisfies(Vector((R(1, 4), R(1, 4))), ("sums_to_one",))
    assert satisfies(sp.ImmutableMatrix([[R(1, 2), R(1, 2)], [1, 0]]), ("sums_to_one",))
    assert not satisfies((sp.Integer(3), R(1, 2)), ("count",))
    assert satisfies((sp.Integer(3), sp.Integer(0)), ("count",))
    with pytest.raises(ValueError, match="answer L: unknown constraint 'small'"):
        Answer("L", "L", R(1, 2), constraints="small")


# --- authoring checks at load -------------------------------------------------------------------
def test_unknown_tex_commands_are_named():
    assert unknown_tex(r"\hat y \odott y") == r"unknown TeX command \odott"
    assert unknown_tex(r"\frac{\partial L}{\partial W} = \lVert x \rVert_2^2 \odot y") is None


def _module(tmp_path, pid, edit):
    """`wsgen new`'s working module, changed by `edit` (text -> text)."""
    folder = tmp_path / "problems"
    status, _, err = run_cli("new", pid, "--dir", folder)
    assert status == 0, err
    path = folder / f"{pid}.py"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    (folder / f"test_{pid}.py").unlink()
    return folder


def test_a_tex_typo_fails_the_load_naming_the_step(tmp_path):
    folder = _module(tmp_path, "typo_tex", lambda s: s.replace(
        r'text=r"The residuals $\hat y - y$', r'text=r"The residuals $\hat y \odott y$'))
    status, _, err = run_cli("show", "typo_tex", "--canonical", "--problems", folder)
    assert status == 2
    assert (r"self-test failed (canonical variant): ValueError: solution: step '(b) The loss': "
            r"unknown TeX command \odott in $\hat y \odott y$") in err, err


def test_a_list_in_params_names_the_field_and_the_fix(tmp_path):
    folder = _module(tmp_path, "listy", lambda s: s.replace(
        'y=exact_vector(("1", "0", "-1"))', 'y=list(exact_vector(("1", "0", "-1")))'))
    status, _, err = run_cli("show", "listy", "--canonical", "--problems", folder)
    assert status == 2
    assert ("TypeError: Params.y is a list: Params hold immutable values; use a tuple, or "
            "exact_vector(...) for a vector") in err, err


def test_a_broken_constraint_fails_the_load(tmp_path):
    # the scaffold's loss is a mean of squares; declared "positive" it holds, declared an
    # integer count it does not (its canonical loss is not a whole number)
    folder = _module(tmp_path, "counted", lambda s: s.replace(
        'Answer("loss", "L", work.loss, part="(b)")',
        'Answer("loss", "L", work.loss, part="(b)", constraints="integer")'))
    text = (folder / "counted.py").read_text(encoding="utf-8")
    assert 'constraints="integer"' in text
    status, _, err = run_cli("show", "counted", "--canonical", "--problems", folder)
    assert status == 2 and "answer loss: its value" in err and "(integer)" in err, err


# --- the one-problem preview ----------------------------------------------------------------------
def test_show_writes_one_html_page_with_the_question_and_the_key(tmp_path):
    out = tmp_path / "mb.html"
    status, _, err = run_cli("show", "matrix_backprop", "--canonical", "--format", "html",
                             "--out", out, "--key-audience", "student")
    assert status == 0, err
    page = out.read_text(encoding="utf-8")
    assert page.count("<html") == 1 and page.count("</body>") == 1
    assert page.index('<div class="questions">') < page.index('<div class="key">')
    assert "Checked by SymPy" not in page and "<math" in page
    status, _, err = run_cli("show", "matrix_backprop", "--canonical", "--format", "html",
                             "--out", out)
    assert status == 0 and "Checked by SymPy" in out.read_text(encoding="utf-8")


def test_show_does_not_overwrite_without_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "matrix_backprop.html").write_text("mine", encoding="utf-8")
    status, _, err = run_cli("show", "matrix_backprop", "--canonical", "--format", "html")
    assert status == 2 and "matrix_backprop.html exists: give --out FILE" in err
    assert (tmp_path / "matrix_backprop.html").read_text(encoding="utf-8") == "mine"


@pytest.mark.tex
def test_show_writes_one_pdf_with_the_question_and_the_key(tmp_path):
    import subprocess
    out = tmp_path / "mb.pdf"
    status, _, err = run_cli("show", "matrix_backprop", "--seed", "5", "--format", "pdf",
                             "--out", out, "--key-audience", "student")
    assert status == 0, err
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    # the question sheet first (its parts), then the key (its title and its answers)
    assert text.index("Evaluate both gradients") < text.index("Answer key")
    assert "Checked by SymPy" not in text and "Answers" in text
