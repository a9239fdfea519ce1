"""PDF output through real pdfTeX: content, page bookkeeping, determinism, safety."""
import os
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from conftest import PROBLEM_HEAD, run_cli
from wsgen.pipeline.sheets import plan_sheets
from wsgen.exam.load import load_exam
from wsgen.core.printing import tex
from wsgen.core.numeric import approx_decimal, is_terminating

pytestmark = pytest.mark.tex


def pdf_text(path, first=None, last=None):
    args = ["pdftotext", "-layout"]
    if first:
        args += ["-f", str(first), "-l", str(last)]
    out = subprocess.run(args + [str(path), "-"], capture_output=True, text=True, check=True).stdout
    return out.replace("\u2212", "-")


def build_pdf(tmp_path, name, *extra):
    out_dir = tmp_path / name
    status, _, err = run_cli("build", "--out", str(out_dir), "--quiet", "--formats", "md,json,pdf", *extra)
    assert status == 0, err
    return out_dir


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_pdf(tmp_path_factory.mktemp("pdf"), "out", "--variants", "2")


def shown_numbers(answer):
    """The texts a reader finds for an answer: exact decimals, or the rounded decimal."""
    import sympy as sp
    values = list(answer.value) if isinstance(answer.value, (tuple, sp.MatrixBase)) else [answer.value]
    for v in values:
        v = sp.sympify(v)
        if v.is_Integer:
            continue
        yield tex(v) if is_terminating(v) else approx_decimal(v, answer.digits)


def test_canonical_key_has_every_answer_and_questions_none(built):
    key = re.sub(r"\s+", " ", pdf_text(built / "canonical" / "key.pdf"))
    questions = re.sub(r"\s+", " ", pdf_text(built / "canonical" / "questions.pdf"))
    sheet = plan_sheets(load_exam(), 0)[0]
    checked = 0
    for item in sheet.items:
        given = {tex(abs(e)) for block in item.variant.statement for v in getattr(block, "values", {}).values()
                 for e in (list(v) if isinstance(v, tuple) or hasattr(v, "tolist") else [v])
                 if hasattr(e, "is_number")}
        for answer in item.variant.solution.answers:
            if answer.kind == "choice":
                # the key names the correct option's letter (derived at render time)
                letter = "ABCD"[answer.correct_index]
                assert f"{answer.part} Option {letter}" in key
                continue
            if answer.kind == "formula":      # math without numbers (tests/test_formula.py)
                continue
            for text in shown_numbers(answer):
                assert re.search(rf"(?<![\d.]){re.escape(text)}(?!\d)", key), (item.label, answer.name, text)
                if text.lstrip("-") not in given:
                    assert not re.search(rf"(?<![\d.]){re.escape(text)}(?!\d)", questions), (answer.name, text)
                checked += 1
    assert checked > 40
    assert "Answer key" in key and "Answer key" not in questions
    assert "seed" not in questions.lower()


def test_booklets_hold_each_variant_page_for_page(built):
    for kind, booklet in (("questions", "questions-booklet.pdf"), ("key", "keys-booklet.pdf")):
        pages = 0
        for variant in ("canonical", "v001", "v002"):
            own = len(PdfReader(built / variant / f"{kind}.pdf").pages)
            assert pdf_text(built / variant / f"{kind}.pdf") == \
                pdf_text(built / booklet, pages + 1, pages + own)
            assert f"Page {own} of {own}" in pdf_text(built / variant / f"{kind}.pdf")
            pages += own
        assert len(PdfReader(built / booklet).pages) == pages


def test_same_inputs_same_bytes(built, tmp_path):
    again = build_pdf(tmp_path, "again", "--variants", "2")
    for pdf in sorted(built.rglob("*.pdf")):
        assert pdf.read_bytes() == (again / pdf.relative_to(built)).read_bytes(), pdf.name


def test_duplex_starts_variants_on_odd_pages(tmp_path):
    out_dir = build_pdf(tmp_path, "duplex", "--variants", "2", "--duplex")
    start = 1
    for variant in ("canonical", "v001", "v002"):
        assert start % 2 == 1
        own = len(PdfReader(out_dir / variant / "key.pdf").pages)
        assert "Variant " + variant in pdf_text(out_dir / "keys-booklet.pdf", start, start)
        start += own + own % 2


def test_user_text_is_literal_and_reads_no_file(tmp_path):
    hostile = r"Midterm \input{/etc/passwd} 100% & $5 #1 ~_^{}\\"
    exam = tmp_path / "hostile.toml"
    exam.write_text(
        f"title = '''{hostile}'''\ncourse = '''\\write18{{touch pwned}} \\openin'''\n"
        "[[problems]]\nproblem = \"matrix_backprop\"\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", str(exam), "--out", str(out_dir), "--variants", "0", "-q")
    assert status == 0, err
    text = pdf_text(out_dir / "canonical" / "key.pdf")
    assert hostile in text
    assert "root:" not in text and not (tmp_path / "pwned").exists()


def test_tex_failure_is_short_and_writes_nothing(tmp_path, monkeypatch):
    import wsgen.formats.pdf as pdf
    out_dir = build_pdf(tmp_path, "kept", "--variants", "0")
    before = {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    monkeypatch.setattr(pdf, "booklet_source", lambda exam, bodies:
                        "\\documentclass{article}\\begin{document}\\undefinedcommand\\end{document}\n")
    status, _, err = run_cli("build", "--out", str(out_dir), "--variants", "0", "-q", "--force")
    assert status != 0 and err.count("\n") == 1
    assert "Undefined control sequence" in err and "kept" in err and ".tex" in err
    kept = re.search(r"kept (\S+\.tex)", err).group(1)
    assert "\\undefinedcommand" in open(kept).read()
    assert {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()} == before


def test_tex_failure_in_many_chunks_keeps_exactly_the_folder_it_names(tmp_path, monkeypatch):
    """31 sheets are five pdflatex jobs; all fail, one folder is kept and named, no other
    TeX file is left anywhere."""
    import tempfile

    import wsgen.formats.pdf as pdf
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(pdf, "booklet_source", lambda exam, bodies:
                        "\\documentclass{article}\\begin{document}\\undefinedcommand\\end{document}\n")
    out_dir = tmp_path / "out"
    status, _, err = run_cli("build", "--out", str(out_dir), "--variants", "30", "-q", "--formats", "pdf")
    assert status == 3 and err.count("\n") == 1
    kept = [p for p in scratch.iterdir()]
    assert len(kept) == 1 and str(kept[0]) in err
    assert sorted(p.name for p in kept[0].iterdir()) == ["booklet.log", "booklet.tex"]
    assert not out_dir.exists() or not any(out_dir.glob(".wsgen-staging-*"))
    assert not (out_dir / "answers.json").exists()


TEX_BREAKER = PROBLEM_HEAD + """@register
class Breaker(Problem):
    id = "tex_breaker"
    title = "Breaker"
    Options = Options
    Params = Params
    def generate(self, rng, o): return Params(sp.Rational(rng.integer(1, 9), 10))
    def statement(self, p, o): return (Part("(a)", "Double $a = @a$.", values={"a": p.a}),)
    def solve(self, p, o):
        return Solution((Step(title="Twice", math=(r"b = \\bm{2} a = @b",), values={"b": 2 * p.a}),),
                        (Answer("b", "b", 2 * p.a, part="(a)"),))
    def check(self, p, o, s):
        if s.answer("b") != 2 * p.a: raise CheckFailed("b")
"""


def test_a_problem_that_breaks_tex_is_exit_3_naming_variant_and_slot(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "tex_breaker.py").write_text(TEX_BREAKER)
    exam = tmp_path / "exam.toml"
    exam.write_text('title = "T"\nproblem_paths = ["mine"]\n[[problems]]\nlabel = "Q9"\nproblem = "tex_breaker"\n')
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", str(exam), "--out", str(out), "--variants", "2", "-q")
    assert status == 3 and err.count("\n") == 1, err
    assert "pdflatex failed in variant canonical, slot Q9" in err and "Undefined control sequence" in err
    assert not out.exists()
