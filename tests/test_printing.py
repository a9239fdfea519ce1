import sympy as sp

from wsgen.core.model import Vector
from wsgen.core.shown import shown_dot, shown_square
from wsgen.core.printing import answer_tex, tex
from wsgen.core.numeric import approx_decimal, exact_str, float_value, is_terminating
from wsgen.formats.markup import escape_markdown, escape_tex, render_text
from wsgen.formats.prose import MarkupError

R = sp.Rational


def test_terminating_rationals_print_as_decimals():
    assert tex(R(22, 125)) == "0.176"          # 22/125 = 176/1000
    assert tex(R(-3, 10)) == "-0.3"
    assert tex(R(1, 1024)) == "0.0009765625"   # 5^10/10^10
    assert tex(R(1, 3)) == r"\frac{1}{3}"
    assert is_terminating(sp.Matrix([[R(1, 4), 2]])) and not is_terminating((R(1, 4), R(1, 6)))


def test_shown_arithmetic_keeps_every_factor():
    s = shown_dot([R(1, 10), R(-3, 10)], [R(2, 10), R(4, 10)])
    assert tex(s) == r"0.1 \cdot 0.2 + \left(-0.3\right) \cdot 0.4"
    assert s.value == R(1, 50) - R(12, 100)
    assert tex(shown_square(R(-1, 2))) == r"{\left(-0.5\right)}^{2}"


def test_answers_get_a_rounded_decimal_only_when_needed():
    assert answer_tex(R(1, 8), 4) == "0.125"
    assert answer_tex(R(2, 3), 4) == r"\frac{2}{3} \approx 0.6667"
    assert answer_tex(Vector([R(1, 3), R(1, 2)]), 3).endswith(r"\approx \begin{bmatrix}0.333\\0.500\end{bmatrix}")
    # sigma(0.3) = 1/(1+e^-0.3) = 0.57444251681... (math.exp by hand)
    assert approx_decimal(1 / (1 + sp.exp(-R(3, 10))), 4) == "0.5744"
    assert approx_decimal(R(-2, 3), 2) == "-0.67"
    assert approx_decimal(R(1, 30000000), 3) == r"3.33 \times 10^{-8}"


def test_exact_strings_parse_back():
    value = sp.Matrix([[R(11, 125), sp.sqrt(2) / 2]])
    strings = exact_str(value)
    assert strings == [["11/125", "sqrt(2)/2"]]
    assert sp.Matrix([[sp.sympify(s) for s in strings[0]]]) == value
    assert float_value(R(1, 3)) == 1 / 3 and float_value(R(4, 2)) == 2


def test_inexact_numbers_are_refused():
    import pytest
    with pytest.raises(TypeError):
        tex(sp.Float(0.1))


def test_prose_markup_escapes_text_and_fills_math():
    values = {"W": sp.Matrix([[R(1, 2)]])}
    assert render_text("Cost 100% & $W = @W$", values, "tex") == \
        r"Cost 100\% \& $W = \begin{bmatrix}0.5\end{bmatrix}$"
    assert render_text("a_b *c* $x_1$", {}, "md") == r"a\_b \*c\* $x_1$"
    assert render_text("- one\n- two", {}, "tex") == "\\begin{itemize}\n\\item one\n\\item two\n\\end{itemize}"
    import pytest
    with pytest.raises(MarkupError):
        render_text("$x", {}, "md")
    with pytest.raises(MarkupError, match="@y"):
        render_text("$@y$", {}, "md")


def test_user_text_is_escaped():
    hostile = "Midterm \\input{/etc/passwd} 100% & $5 #1 ~_^{}\\"
    t = escape_tex(hostile)
    assert "\\input" not in t.replace("\\textbackslash{}input", "")
    assert "\\%" in t and "\\&" in t and "\\$" in t and "\\#" in t
    md = escape_markdown("# [link](x) <b>*a*</b> $y$")
    assert md.startswith("\\#") and "\\[" in md and "\\<" in md and "\\$" in md and "\\*" in md


def test_fast_numeric_path_agrees_with_sympy_evalf():
    """The mpmath evaluator behind rounded decimals and JSON floats gives SymPy's evalf digits."""
    from decimal import Decimal

    from wsgen.core.numeric import _decimal
    from wsgen.core.rng import VariantRng
    rng = VariantRng(5)
    for _ in range(200):
        a, b = (sp.Rational(rng.decimal(-3, 3, 2, False)) for _ in range(2))
        for e in (1 / (1 + sp.exp(-a)), sp.log(1 + sp.exp(a)) / 3 - b, sp.tanh(a) ** 2 - 1,
                  a * (1 - 1 / (1 + sp.exp(b))), sp.sqrt(abs(a) + 1)):
            reference = Decimal(str(sp.N(e, 40)))
            assert abs(_decimal(e) - reference) <= abs(reference) * Decimal("1e-37") + Decimal("1e-45")


def test_text_beyond_pdftex_fonts_is_set_whole_for_lualatex():
    # Zoë typesets as it is; Łukasz too (wrapped so that it extracts as written); a text
    # with 李 (no pdfTeX font has it) is set whole by LuaLaTeX, as written
    assert escape_tex("Zoë Łukasz").startswith("Zoë ") and "{Łukasz}" in escape_tex("Zoë Łukasz")
    assert escape_tex("Zoë Łukasz 李") == r"\wsgenUnicode{Zoë Łukasz 李}"
    assert escape_tex("a ‖x‖² — b") == "a ‖x‖² — b"   # declared in the LaTeX preamble


def test_code_spans_render_per_format():
    assert render_text("Problem `a_b` here", {}, "md") == "Problem `a_b` here"
    assert render_text("Problem `a_b` here", {}, "tex") == r"Problem \texttt{a\_b} here"
    import pytest
    with pytest.raises(MarkupError, match="unbalanced `"):
        render_text("Problem `a_b here", {}, "md")


def test_every_character_of_the_problems_prose_typesets():
    """Titles, prompts, steps and mistakes of every shipped problem, outside $…$: no
    character becomes the "?" of a glyph the PDF fonts lack."""
    from wsgen import discover
    from wsgen.core.draw import draw_variant
    from wsgen.core.figures import Figure
    registry = discover()
    texts = []
    for pid, problem in registry.problems.items():
        if registry.sources[pid] != "built-in":
            continue
        v = draw_variant(problem, problem.Options(), 0)
        texts.append(v.title)
        texts += [getattr(b, "text", "") + getattr(b, "title", "") + getattr(b, "caption", "")
                  for b in v.statement]
        texts += [s.caption if isinstance(s, Figure) else s.title + s.text
                  for s in v.solution.steps]
        texts += [m.label + m.why for m in v.mistakes]
    prose = "".join(piece for text in texts for i, piece in enumerate(text.split("$")) if i % 2 == 0)
    # (nor needs LuaLaTeX: the shipped problems' sheets keep pdfTeX's speed)
    missing = sorted({ch for ch in prose if ord(ch) > 127 and (escape_tex(ch).endswith("?")
                                                              or r"\wsgenUnicode" in escape_tex(ch))})
    assert missing == []
