"""The HTML format: pages that a real browser renders (headless Chromium), MathML without
script, escaped user text, and question pages that show nothing of the key."""
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "browser"            # git-ignored; `make readme-html-image` copies one

HOSTILE = "<script>alert('x')</script> & ]]> \"q\" 'a' \\frac{1}{2} $5 % #1 ~_^{}"

# Injected into a copy of a page by the test only (the pages themselves have no script):
# measures every formula and writes the figures into the DOM, which --dump-dom prints.
MEASURE = """<script>
(function () {
  var maths = Array.prototype.slice.call(document.querySelectorAll("math"));
  var sizes = maths.map(function (m) { var r = m.getBoundingClientRect(); return [r.width, r.height]; });
  var displays = maths.map(function (m) { return getComputedStyle(m).display; });
  var out = {count: maths.length,
             empty: sizes.filter(function (s) { return !(s[0] > 0 && s[1] > 0); }).length,
             displays: Array.from(new Set(displays)),
             merror: document.querySelectorAll("merror").length,
             scripts: document.querySelectorAll("script").length,
             text: document.body.innerText};
  var pre = document.createElement("pre");
  pre.id = "wsgen-measure";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def chromium() -> str:
    return shutil.which("chromium")


def _browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def measure(page: Path, tmp_path: Path) -> dict:
    """Load a copy of `page` (with the measuring script) in Chromium; the figures."""
    copy = page.with_name(page.stem + ".measure.html")
    source = page.read_text(encoding="utf-8")
    assert "<script" not in source.lower() or "&lt;script" in source
    copy.write_text(source.replace("</body>", MEASURE + "\n</body>"), encoding="utf-8")
    result = _browser(tmp_path, "--virtual-time-budget=10000", "--window-size=1000,1400",
                      "--dump-dom", copy.as_uri())
    copy.unlink()
    match = re.search(r'<pre id="wsgen-measure">(.*?)</pre>', result.stdout, re.S)
    assert match, f"no measurement in the dumped DOM: {result.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))


def screenshot(page: Path, target: Path, tmp_path: Path, height: int = 1400) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    result = _browser(tmp_path, f"--screenshot={target}", f"--window-size=1000,{height}",
                      page.as_uri())
    assert target.exists() and target.stat().st_size > 10_000, result.stderr[-2000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "out"
    status, _, err = run_cli("build", "--out", out, "--variants", "2", "--formats", "html,json", "-q")
    assert status == 0, err
    return out


def test_index_links_every_sheet(built):
    index = (built / "index.html").read_text(encoding="utf-8")
    tree = etree.HTML(index)
    links = tree.xpath("//a/@href")
    assert links == [f"{v}/{kind}.html" for v in ("canonical", "v001", "v002")
                     for kind in ("questions", "key")]
    assert all((built / link).exists() for link in links)
    assert "Deep Learning — Midterm Exam" in index


def test_pages_are_static_with_mathml_and_no_tex(built):
    for page in built.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "http://" not in text.replace(
            'xmlns="http://www.w3.org/1998/Math/MathML"', "") and "https://" not in text
        assert "<link" not in text and "@import" not in text
        assert "\\frac" not in text and "\\begin" not in text and "$" not in text, page
        assert "@media print" in text
    key = (built / "canonical" / "key.html").read_text(encoding="utf-8")
    assert key.count("<math") > 100 and "<mfrac>" in key and "<mtable>" in key


def test_every_formula_converts_to_wellformed_mathml(built):
    """Each <math> element of every page parses as XML (the MathML is well-formed)."""
    count = 0
    for page in built.rglob("*.html"):
        for m in re.findall(r"<math.*?</math>", page.read_text(encoding="utf-8"), re.S):
            etree.fromstring(m.replace("&nbsp;", "&#160;"))
            count += 1
    assert count > 500


@pytest.mark.browser
def test_a_real_browser_renders_every_formula(built, tmp_path):
    """Headless Chromium loads the canonical key and a variant's question sheet: every
    formula is laid out as MathML with a non-zero size, no raw TeX and no MathML error is
    left; the screenshots are kept under build/browser/."""
    for page, shot in ((built / "canonical" / "key.html", "canonical-key.png"),
                       (built / "v001" / "questions.html", "v001-questions.png")):
        figures = measure(page, tmp_path)
        assert figures["count"] > 20, figures["count"]
        assert figures["empty"] == 0, figures
        assert all(d in ("math", "block math", "inline math") for d in figures["displays"]), figures
        assert figures["merror"] == 0
        assert figures["scripts"] == 1                     # the measuring script alone
        assert "\\frac" not in figures["text"] and "\\begin" not in figures["text"]
        screenshot(page, SHOTS / shot, tmp_path)


def test_user_text_prints_literally(tmp_path):
    exam = tmp_path / "hostile.toml"
    exam.write_text(
        f"title = '''Midterm {HOSTILE}'''\ncourse = '''{HOSTILE}'''\n"
        f"instructions = '''Read {HOSTILE}'''\n"
        "[[problems]]\nproblem = \"matrix_backprop\"\nlabel = \"Q<1>&\"\n", encoding="utf-8")
    roster = tmp_path / "students.csv"
    roster.write_text('id,name\ns1,"<script>alert(1)</script> O\'Hara & ""Co"""\n', encoding="utf-8")
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", exam, "--roster", roster, "--secret",
                             tmp_path / "secret.key", "--out", out, "--formats", "html", "-q")
    assert status == 0, err
    pages = [out / "index.html", out / "students" / "s1" / "questions.html",
             out / "students" / "s1" / "key.html"]
    for page in pages:
        source = page.read_text(encoding="utf-8")
        assert "<script>" not in source and "&lt;script&gt;" in source
        tree = etree.HTML(source)
        assert not tree.xpath("//script")
    figures = measure(out / "students" / "s1" / "questions.html", tmp_path)
    assert figures["scripts"] == 1
    assert HOSTILE in figures["text"]
    assert "<script>alert(1)</script> O'Hara & \"Co\"" in figures["text"]
    assert "Q<1>&" in figures["text"]
    index = etree.HTML((out / "index.html").read_text(encoding="utf-8"))
    assert "<script>alert(1)</script> O'Hara & \"Co\"" in "".join(index.xpath("//td/text()"))


def _visible_text(page_source: str) -> str:
    """A page's text as a reader sees it (MathML included: its characters)."""
    tree = etree.HTML(page_source)
    for style in tree.xpath("//style"):
        style.getparent().remove(style)
    text = " ".join(" ".join(tree.itertext()).split()).replace("\u2212", "-")
    return re.sub(r"(?<![\w)\]]) ?- (?=\d)", " -", text)        # a sign stays on its number


def test_question_pages_show_nothing_of_the_key(problems):
    """The HTML question page of many variants of every problem: no answer value (nor a
    mistake's), as in build.properties.leaked for the Markdown."""
    from wsgen.quality.properties import leaked
    from wsgen.core.draw import draw_variant
    from wsgen.formats.document import build_document
    from wsgen.formats.html import render_html
    from conftest import one_item_sheet
    import wsgen.quality.properties as properties

    checked = 0
    for problem_id, problem in sorted(problems.items()):
        for seed in range(3):
            variant = draw_variant(problem, problem.Options(), seed)
            page = render_html(build_document(one_item_sheet(variant), "questions"))
            text = _visible_text(page)
            key = _visible_text(render_html(build_document(one_item_sheet(variant), "key")))
            assert "Solution" not in text and "Solution" in key
            # the property itself, with the HTML page's text in place of the Markdown
            original = properties.render_one
            properties.render_one = lambda v, kind, markup="md": text if kind == "questions" \
                else original(v, kind, markup)
            try:
                found = leaked(variant)
            finally:
                properties.render_one = original
            assert found == [], (problem_id, seed, found)
            checked += 1
    assert checked >= 30


def test_same_seed_same_bytes(built, tmp_path):
    again = tmp_path / "again"
    status, _, err = run_cli("build", "--out", again, "--variants", "2", "--formats", "html",
                             "--jobs", "1", "-q")
    assert status == 0, err
    for page in ("index.html", "canonical/key.html", "v002/questions.html", "v002/key.html"):
        assert (again / page).read_bytes() == (built / page).read_bytes(), page


# Unicode's explicit bidi formatting characters (UAX #9): openers, and what closes them.
_OPENS = {"\u202a": "\u202c", "\u202b": "\u202c", "\u202d": "\u202c", "\u202e": "\u202c",
          "\u2066": "\u2069", "\u2067": "\u2069", "\u2068": "\u2069"}
_BIDI_CONTROLS = set(_OPENS) | {"\u202c", "\u2069", "\u200e", "\u200f", "\u061c"}
# an override, an isolate closed at once, a stray PDI (closes nothing of the text's own),
# marks, and the line and paragraph separators
BIDI = "\u202e\u2066\u2069\u2069\u200e\u200f\u061c\u2028\u2029"


def _balanced(text: str) -> bool:
    """Whether every embedding, override and isolate that `text` opens closes in it, and it
    closes nothing it did not open (by the rules of UAX #9: a PDI closes the embeddings
    opened since its isolate; a PDF does not close an isolate)."""
    open_ = []
    for ch in text:
        if ch in _OPENS:
            open_.append(_OPENS[ch])
        elif ch == "\u202c":
            if not open_ or open_[-1] != "\u202c":
                return False
            open_.pop()
        elif ch == "\u2069":
            if "\u2069" not in open_:
                return False
            while open_.pop() != "\u2069":
                pass
    return not open_


def bidi_leaks(source: str) -> list[str]:
    """Where a page's user text could reorder the text around it: bidi controls outside a
    <bdi> (the <title>, which holds no element, must isolate them itself), a <bdi> or a
    <title> whose controls do not balance, and line or paragraph separators."""
    leaks = []
    if "\u2028" in source or "\u2029" in source:
        leaks.append("a line or paragraph separator")
    tree = etree.HTML(source)
    title = "".join(tree.xpath("//title")[0].itertext())
    if not _balanced(title):
        leaks.append(f"<title>: {title!r}")
    for bdi in tree.xpath("//bdi"):
        if not _balanced("".join(bdi.itertext())):
            leaks.append(f"<bdi>: {''.join(bdi.itertext())!r}")
    for element in tree.iter():
        if element.xpath("ancestor::bdi"):
            continue
        texts = [element.tail] + ([] if element.tag in ("bdi", "title") else [element.text])
        for text in texts:
            if text and set(text) & _BIDI_CONTROLS:
                leaks.append(f"<{element.tag}>: {text!r}")
    return leaks


def test_bidi_controls_in_user_text_cannot_reorder_the_page(tmp_path):
    # A right-to-left override (U+202E) in a title, a name or a label would reverse the rest
    # of the line around it, a stray pop (U+2069) would end an isolate early, and U+2029
    # starts a new bidi paragraph: in HTML, each piece of user text is isolated (<bdi>, in
    # <title> an FSI … PDI) with its own controls balanced, separators as spaces.
    exam = tmp_path / "bidi.toml"
    exam.write_text(f'title = "Mid{BIDI}term"\ncourse = "DL{BIDI}101"\ndate = "May{BIDI}1"\n'
                    f'instructions = "Read{BIDI}this"\ncover = true\npledge = "Own{BIDI}work"\n'
                    f'[[problems]]\nproblem = "matrix_backprop"\nlabel = "Q{BIDI}1"\n',
                    encoding="utf-8")
    roster = tmp_path / "students.csv"
    roster.write_text(f"id,name\ns1,Ann{BIDI}Lee\n", encoding="utf-8")
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", exam, "--roster", roster, "--secret",
                             tmp_path / "secret.key", "--out", out, "--formats", "html", "-q")
    assert status == 0, err
    for page in (out / "index.html", out / "students" / "s1" / "questions.html",
                 out / "students" / "s1" / "key.html"):
        source = page.read_text(encoding="utf-8")
        assert bidi_leaks(source) == [], page.name
        assert "\u202e" in source                    # the text is kept, only contained
    index = etree.HTML((out / "index.html").read_text(encoding="utf-8"))
    assert [b.text for b in index.xpath("//td/bdi")] == ["Ann\u202e\u2066\u2069\u200e\u200f\u061c  Lee\u202c"]


def test_bidi_controls_in_a_slot_label_are_isolated_in_qti(tmp_path):
    # The QTI item's heading holds the slot's label and the problem's title (user text).
    import zipfile
    exam = tmp_path / "bidi.toml"
    exam.write_text(f'title = "T"\n[[problems]]\nproblem = "matrix_backprop"\nlabel = "Q{BIDI}1"\n',
                    encoding="utf-8")
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", exam, "--out", out, "--formats", "qti",
                             "--variants", 1, "-q")
    assert status == 0, err
    xml = zipfile.ZipFile(out / "qti.zip").read("assessments/v001.xml")
    texts = [t.text for t in etree.fromstring(xml).iter("{*}mattext") if t.text and "\u202e" in t.text]
    assert texts, "the label is in the item's text"
    for text in texts:
        fragment = etree.HTML(f"<html><head><title>t</title></head><body>{text}</body></html>")
        outside = [e for e in fragment.iter() if not e.xpath("ancestor-or-self::bdi")
                   and "\u202e" in (e.text or "")]
        assert not outside, text


# --- MathML that looks typeset (issue 23) ----------------------------------------------------
def _math(source, display=False):
    from wsgen.formats.htmlmarkup import mathml
    return etree.fromstring(mathml(source, display))


NS = {"m": "http://www.w3.org/1998/Math/MathML"}


def test_a_script_on_a_parenthesised_group_takes_the_whole_group():
    # TeX sets (1 - 0.8)^2 with the 2 on the group; the MathML's msup base must be the
    # whole group (an mrow from "(" to ")"), not the closing parenthesis alone
    for source in (r"(1 - 0.8)^2", r"{\left(1 - 0.8\right)}^{2}", r"\bigl(a - b\bigr)^2",
                   r"\lVert x - y \rVert^2"):
        msup = _math(source).find(".//m:msup", NS)
        base = msup[0]
        while base.tag.endswith("mrow") and len(base) == 1:
            base = base[0]
        assert base.tag.endswith("mrow"), (source, etree.tostring(msup))
        texts = ["".join(c.itertext()) for c in base]
        assert texts[0] in "([‖" and texts[-1] in ")]‖" and len(texts) >= 4, (source, texts)
        assert "".join(msup[1].itertext()) == "2"


def test_signs_operator_names_slashes_and_partials_are_spaced_as_tex_spaces_them():
    prefix = lambda m: [mo for mo in m.iter("{*}mo") if mo.text == "\u2212"]
    # a sign after "(" or a relation is a prefix operator with no space; a difference is not
    for source in (r"\left(-0.1\right) \cdot 1", r"x \approx -0.1667", r"= -0.5", r"-x + 1"):
        sign = prefix(_math(source))[0]
        assert (sign.get("form"), sign.get("lspace"), sign.get("rspace")) == ("prefix", "0", "0"), source
    minus = prefix(_math(r"a - b"))[0]
    assert minus.get("form") is None and minus.get("rspace") is None
    # max before a parenthesis: no gap (TeX: an operator followed by an opening); before a
    # letter a thin space
    name = next(mo for mo in _math(r"\max\left(0, x\right)").iter("{*}mo") if mo.text == "max")
    assert (name.get("lspace"), name.get("rspace")) == ("0", "0")
    name = next(mo for mo in _math(r"\max_{i} x_i").iter("{*}mo") if mo.text == "max")
    assert (name.get("lspace"), name.get("rspace")) == ("0", "0.1667em")
    # ∂L/∂h: ∂ an ordinary symbol (mi), the slash without the space of a relation
    m = _math(r"\partial L / \partial h")
    assert [e.tag.split("}")[1] for e in m[0]] == ["mi", "mi", "mo", "mi", "mi"]
    slash = m[0][2]
    assert (slash.text, slash.get("lspace"), slash.get("rspace")) == ("/", "0", "0")
    # \left( … \right) around text-size content: text-size fences (TeX's choice), not
    # stretched to a size that stands apart; around a fraction they still grow
    fences = [mo for mo in _math(r"\left(1 - 0.8\right)^{2}").iter("{*}mo") if mo.get("fence")]
    assert [f.get("stretchy") for f in fences] == ["false", "false"]
    fences = [mo for mo in _math(r"\left(\frac{1}{2}\right)").iter("{*}mo") if mo.get("fence")]
    assert [f.get("stretchy") for f in fences] == ["true", "true"]
    # := : the two relations touch
    colon, equals = [mo for mo in _math(r"w := w - 1").iter("{*}mo")][:2]
    assert (colon.text, colon.get("rspace"), equals.text, equals.get("lspace")) == (":", "0", "=", "0")


def test_key_pages_have_no_script_on_a_lone_parenthesis(built):
    key = (built / "canonical" / "key.html").read_text(encoding="utf-8")
    assert not re.search(r"<msup><mo[^>]*>[)\]‖]</mo>", key)
    assert "<mo>max</mo>" not in key
    # inline fractions that carry the content in display size, as on paper
    questions = (built / "canonical" / "questions.html").read_text(encoding="utf-8")
    assert '<mstyle displaystyle="true"' in questions


def test_a_right_to_left_name_is_isolated(tmp_path):
    exam = tmp_path / "rtl.toml"
    exam.write_text('title = "Quiz"\n[[problems]]\nproblem = "matrix_backprop"\n', encoding="utf-8")
    roster = tmp_path / "students.csv"
    roster.write_text("id,name\ns1,דוד לוי\n", encoding="utf-8")
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", exam, "--roster", roster, "--secret",
                             tmp_path / "secret.key", "--out", out, "--formats", "html", "-q")
    assert status == 0, err
    page = etree.HTML((out / "students" / "s1" / "questions.html").read_text(encoding="utf-8"))
    assert any("דוד לוי" in b.text for b in page.xpath("//bdi"))     # "Student: … (s1)" too
    index = etree.HTML((out / "index.html").read_text(encoding="utf-8"))
    assert [b.text for b in index.xpath("//td/bdi")] == ["דוד לוי"]


SPACING = """<script>
(function () {
  function box(sel) { var e = document.querySelector(sel); return e.getBoundingClientRect(); }
  var em = parseFloat(getComputedStyle(document.querySelector("math")).fontSize);
  var open = box("#sign mo"), sign = box("#sign mo[form=prefix]");
  var name = box("#name mo"), paren = box("#name mo[fence=true]");
  var close = box("#power msup > mrow > mo:last-child"), two = box("#power msup > mn");
  var pre = document.createElement("pre");
  pre.id = "wsgen-measure";
  pre.textContent = JSON.stringify({em: em, sign_gap: sign.left - open.right,
                                    name_gap: paren.left - name.right,
                                    script_gap: two.left - close.right});
  document.body.appendChild(pre);
})();
</script>"""


@pytest.mark.browser
def test_chromium_sets_signs_names_and_powers_tightly(tmp_path):
    # In Chromium: "(−0.1)" with the sign against its parenthesis, "max(" without a gap,
    # and the 2 of (1 − 0.8)^2 right after its closing parenthesis (each under 0.15 em;
    # latex2mathml's MathML gave about 0.2 em, 0.28 em and a script set apart).
    from wsgen.formats.htmlmarkup import mathml
    page = tmp_path / "spacing.html"
    formulas = {"sign": r"(-0.1) \cdot 1", "name": r"\max\left(0, x\right)", "power": r"(1 - 0.8)^2"}
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><style>math{font-size:40px;"
        "font-family:'Latin Modern Math',math}</style></head><body>"
        + "".join(f"<p id='{key}'>{mathml(source)}</p>" for key, source in formulas.items())
        + SPACING + "</body></html>", encoding="utf-8")
    result = _browser(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    match = re.search(r'<pre id="wsgen-measure">(.*?)</pre>', result.stdout, re.S)
    assert match, result.stderr[-2000:]
    figures = json.loads(html.unescape(match.group(1)))
    em = figures["em"]
    for gap in ("sign_gap", "name_gap", "script_gap"):
        assert -0.05 * em <= figures[gap] < 0.15 * em, figures
