"""Moodle XML and QTI 1.2 (Canvas): strict parsing, read-back of every variant's answers and
tolerances against answers.json, escaped user text, no key in a question's text, and
byte-identical output for the same seed."""
import html
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import PROBLEM_HEAD, run_cli

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
XSD = Path(__file__).resolve().parent / "xsd"
CLOZE = re.compile(r"\{(\d+):(NUMERICAL|MULTICHOICE):([^}]*)\}")
STRICT = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def strict_parse(data: bytes):
    return etree.fromstring(data, etree.XMLParser(**STRICT))


def build(out: Path, *args) -> Path:
    status, _, err = run_cli("build", "--out", out, "--formats", "json,moodle,qti", "-q", *args)
    assert status == 0, err
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("quiz") / "out", "--variants", "3")


def expected_fields(problem: dict) -> list[tuple]:
    """answers.json's fields of one slot, in order: ("number", value, width) per entry,
    ("choice", index, None) per choice answer."""
    fields = []
    for answer in problem["answers"].values():
        if answer["kind"] == "choice":
            fields.append(("choice", answer["value"], None))
            continue
        tol = answer["tolerance"]
        values = answer["value"]
        flat = [x for row in values for x in (row if isinstance(row, list) else [row])] \
            if isinstance(values, list) else [values]
        fields += [("number", v, tol["abs"] + tol["rel"] * abs(v)) for v in flat]
    return fields


def same_fields(got, want, where):
    assert [g[0] for g in got] == [w[0] for w in want], where
    for (kind, value, width), (_, value0, width0) in zip(got, want):
        if kind == "choice":
            assert value == value0, where
        else:
            assert value == value0, where                      # the float, exactly
            assert width == pytest.approx(width0, rel=1e-5, abs=1e-300), where


def variants(built):
    data = json.loads((built / "answers.json").read_text(encoding="utf-8"))
    return data, [v for v in data["variants"] if v["variant"] != "canonical"]


# --- Moodle -----------------------------------------------------------------------------
def moodle_fields(question) -> list[tuple]:
    kind = question.get("type")
    if kind == "numerical":
        answer = question.find("answer")
        return [("number", float(answer.findtext("text")), float(answer.findtext("tolerance")))]
    if kind == "multichoice":
        fractions = [a.get("fraction") for a in question.findall("answer")]
        return [("choice", fractions.index("100"), None)]
    fields = []
    for _, sub, spec in CLOZE.findall(question.findtext("questiontext/text")):
        if sub == "NUMERICAL":
            value, width = spec[1:].split(":")
            fields.append(("number", float(value), float(width)))
        else:
            fields.append(("choice", [o.startswith("=") for o in spec.split("~")].index(True), None))
    return fields


def test_moodle_reads_back_against_answers_json(built):
    root = strict_parse((built / "moodle.xml").read_bytes())
    assert root.tag == "quiz"
    data, sheets = variants(built)
    slots = [p["label"] for p in sheets[0]["problems"]]
    categories, current = {}, None
    for question in root.findall("question"):
        if question.get("type") == "category":
            current = question.findtext("category/text")
            categories[current] = []
        else:
            categories[current].append(question)
    assert list(categories) == [f"$course$/top/{data['exam']}/{label}" for label in slots]
    assert sum(len(qs) for qs in categories.values()) == len(slots) * len(sheets)
    for position, (category, questions) in enumerate(categories.items()):
        assert [q.findtext("idnumber") for q in questions] == \
            [f"{s['variant']}-{slots[position]}" for s in sheets]
        for question, sheet in zip(questions, sheets):
            problem = sheet["problems"][position]
            assert question.findtext("name/text").startswith(slots[position] + " ")
            assert question.findtext("name/text").endswith(" — " + sheet["variant"])
            assert question.findtext("defaultgrade") == str(problem["points"])
            same_fields(moodle_fields(question), expected_fields(problem),
                        (sheet["variant"], slots[position]))
            feedback = question.findtext("generalfeedback/text")
            assert "Solution" in feedback and "\\(" in feedback


def test_moodle_tex_is_in_mathjax_delimiters(built):
    root = strict_parse((built / "moodle.xml").read_bytes())
    text = root.find("question[@type='cloze']").findtext("questiontext/text")
    assert "\\(" in text and "$" not in text and "<math" not in text


# --- QTI ----------------------------------------------------------------------------------
def qti_parts(built):
    with zipfile.ZipFile(built / "qti.zip") as archive:
        infos = archive.infolist()
        files = {i.filename: archive.read(i) for i in infos}
    return infos, files


def qti_fields(item) -> list[tuple]:
    fields, conditions = [], item.findall(f"{QTI}resprocessing/{QTI}respcondition")
    for condition in conditions:
        test = condition.find(f"{QTI}conditionvar")
        if test.find(f"{QTI}other") is not None:
            continue
        either = test.find(f"{QTI}or")
        if either is not None:
            value = float(either.findtext(f"{QTI}varequal"))
            low = float(either.findtext(f"{QTI}and/{QTI}vargte"))
            high = float(either.findtext(f"{QTI}and/{QTI}varlte"))
            assert low <= value <= high
            fields.append(("number", value, (high - low) / 2))
        else:
            chosen = test.findtext(f"{QTI}varequal")
            fields.append(("choice", "ABCDEFGHIJ".index(chosen.rsplit("_", 1)[1]), None))
    return fields


def test_qti_zip_reads_back_against_answers_json(built):
    infos, files = qti_parts(built)
    assert [i.filename for i in infos] == ["imsmanifest.xml", "qti.xml"]
    manifest = strict_parse(files["imsmanifest.xml"])
    resource = manifest.find(f"{CP}resources/{CP}resource")
    assert resource.get("type") == "imsqti_xmlv1p2" and resource.get("href") == "qti.xml"
    root = strict_parse(files["qti.xml"])
    assessment = root.find(f"{QTI}assessment")
    data, sheets = variants(built)
    assert assessment.get("title") == data["exam"]
    groups = assessment.findall(f"{QTI}section/{QTI}section")
    slots = [p["label"] for p in sheets[0]["problems"]]
    assert [g.get("title") for g in groups] == slots
    for position, group in enumerate(groups):
        selection = group.find(f"{QTI}selection_ordering/{QTI}selection")
        assert selection.findtext(f"{QTI}selection_number") == "1"
        assert selection.findtext(f"{QTI}selection_extension/{QTI}points_per_item") == \
            str(sheets[0]["problems"][position]["points"])
        items = group.findall(f"{QTI}item")
        assert len(items) == len(sheets)
        for item, sheet in zip(items, sheets):
            assert item.get("title").endswith(" — " + sheet["variant"])
            same_fields(qti_fields(item), expected_fields(sheet["problems"][position]),
                        (sheet["variant"], slots[position]))
            feedback = item.find(f"{QTI}itemfeedback/{QTI}flow_mat/{QTI}material/{QTI}mattext")
            assert "Solution" in feedback.text and "<math" in feedback.text
    idents = [e.get("ident") for e in root.iter() if e.get("ident") and e.tag == f"{QTI}item"]
    assert len(idents) == len(set(idents))


def test_qti_zip_entries_are_deterministic(built):
    infos, _ = qti_parts(built)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o644


def test_same_seed_same_bytes(built, tmp_path):
    again = build(tmp_path / "again", "--variants", "3", "--jobs", "1")
    for name in ("moodle.xml", "qti.zip"):
        assert (again / name).read_bytes() == (built / name).read_bytes(), name


@pytest.mark.parametrize("schema,member", [("qti", "qti.xml"), ("imscp", "imsmanifest.xml")])
def test_qti_files_validate_against_the_schemas(built, schema, member):
    """Against the structural schemas in tests/xsd (see tests/xsd/README.md: written for this
    project from the IMS specifications, not IMS's own XSD files)."""
    _, files = qti_parts(built)
    parser = etree.XMLParser(**STRICT)
    xsd = etree.XMLSchema(etree.parse(str(XSD / f"wsgen-{schema}-subset.xsd"), parser))
    document = etree.parse(io.BytesIO(files[member]), parser)
    assert xsd.validate(document), xsd.error_log.filter_from_errors()[:5]


# --- user text and the key --------------------------------------------------------------
HOSTILE = "<script>alert('x')</script> & ]]> \"q\" 'a' \\frac{1}{2} $5 % #1 ~_^{} / //"


def test_hostile_text_is_escaped(tmp_path):
    exam = tmp_path / "hostile.toml"
    exam.write_text(f"title = '''Midterm {HOSTILE}'''\nvariants = 2\n"
                    "[[problems]]\nproblem = \"triplet_loss\"\nlabel = \"Q<1>&]]>\"\n", encoding="utf-8")
    out = build(tmp_path / "out", "--exam", exam)
    root = strict_parse((out / "moodle.xml").read_bytes())
    category = root.find("question[@type='category']").findtext("category/text")
    assert category == "$course$/top/Midterm " + HOSTILE.replace("/", "//") + "/Q<1>&]]>"
    question = root.find("question[@type='cloze']")
    assert question.findtext("name/text").startswith("Q<1>&]]> ")
    text = question.findtext("questiontext/text")            # HTML, escaped once more in XML
    assert "Q&lt;1&gt;&amp;]]&gt;" in text and "<script" not in text
    _, files = qti_parts(out)
    qti = strict_parse(files["qti.xml"])
    assert qti.find(f"{QTI}assessment").get("title") == "Midterm " + HOSTILE
    assert qti.find(f".//{QTI}section/{QTI}section").get("title") == "Q<1>&]]>"
    mattext = qti.find(f".//{QTI}item/{QTI}presentation/{QTI}material/{QTI}mattext").text
    assert "Q&lt;1&gt;&amp;]]&gt;" in mattext and "<script" not in mattext


def _sheets(count: int):
    from wsgen.pipeline.run import sheet_record
    from wsgen.pipeline.sheets import BuildPlan, draw_sheet
    from wsgen.exam.load import load_exam
    from wsgen.formats.document import build_document
    plan = BuildPlan(load_exam(), count, formats=("moodle", "qti"))
    for index in range(1, count + 1):
        sheet = draw_sheet(plan, index)
        documents = {kind: build_document(sheet, kind) for kind in ("questions", "key")}
        yield sheet, documents, sheet_record(sheet)


def _mathml_text(fragment: str) -> str:
    tree = etree.HTML("<div>" + fragment + "</div>")
    text = " ".join(" ".join(tree.itertext()).split()).replace("\u2212", "-")
    return re.sub(r"(?<![\w)\]]) ?- (?=\d)", " -", text)


def test_question_text_holds_nothing_of_the_key(monkeypatch):
    """build.properties.leaked over each slot's question text: Moodle's (its cloze
    fields' answer specifications cut out: Moodle never shows them) and QTI's."""
    import wsgen.quality.properties as properties
    from wsgen.formats import moodle, qti
    checked = 0
    for sheet, documents, record in _sheets(4):
        moodle_slots = moodle.MoodleFormat().render(sheet, documents).data
        qti_slots = qti.QtiFormat().render(sheet, documents).data
        for item, m_slot, q_slot, problem in zip(sheet.items, moodle_slots, qti_slots,
                                                 record["problems"]):
            question = moodle.question_element(sheet.exam, sheet.variant_id, m_slot, problem)
            m_text = html.unescape(CLOZE.sub(" ", question.findtext("questiontext/text")))
            element = qti.item_element(sheet.variant_id, q_slot, problem)
            q_text = _mathml_text(" ".join(m.text for m in element.iterfind(
                "presentation//mattext")))
            assert "Solution" not in m_text + q_text
            for text in (m_text, q_text):
                monkeypatch.setattr(properties, "render_one", lambda v, kind, markup="md": text)
                assert properties.leaked(item.variant) == [], (sheet.variant_id, item.label)
            checked += 1
    assert checked == 24


def test_a_label_cannot_open_a_cloze_field_or_math(tmp_path):
    # Moodle's cloze parser reads {1:NUMERICAL:=5} in a question's text as a graded field,
    # and its MathJax filter typesets \( … \): a slot label is user text and must do neither.
    exam = tmp_path / "exam.toml"
    exam.write_text('title = "T"\n[[problems]]\nlabel = "Q{1:NUMERICAL:=5} \\\\(x\\\\) $$y$$"\n'
                    'problem = "matrix_backprop"\n', encoding="utf-8")
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", exam, "--out", out, "--quiet", "--formats", "moodle")
    assert status == 0, err
    root = etree.parse(str(out / "moodle.xml"), etree.XMLParser(resolve_entities=False))
    for text in root.iterfind(".//question/questiontext/text"):
        intro = text.text.split("</p>", 1)[0]
        assert "{1:NUMERICAL" not in intro and "\\(" not in intro and "$$" not in intro, intro
        assert 'class="tex2jax_ignore mathjax_ignore"' in intro
        # the label still reads as written once the character references are decoded
        assert "Q{1:NUMERICAL:=5} \\(x\\) $$y$$" in html.unescape(re.sub(r"<[^>]+>", "", intro))


# A problem whose prose, titles and labels hold cloze syntax and MathJax delimiters as text.
HOSTILE_PROSE = PROBLEM_HEAD + r'''
@register
class P(Problem):
    id = "hostile_prose"
    title = "Title {#1} \\(t\\)"
    Options = Options
    Params = Params
    def canonical(self, o): return Params(sp.Rational(1, 2))
    def generate(self, rng, o): return Params(sp.Rational(rng.integer(1, 9), 10))
    def statement(self, p, o):
        return (Step(title="Given {1:NUMERICAL:=1} \\(g\\)",
                     text="Type {1:NUMERICAL:=1} or {#1}; \\(x\\) and \\[y\\] print as written."),
                Part("(a){#2}", text="Find $b$ and $c$ (`{1:MC:=A~B} \\(k\\)`), $\\{4:SA:=x\\}$."))
    def solve(self, p, o):
        return Solution((Step(title="Work \\(w\\) {#1}", text="So {2:NM:=2} \\(z\\)."),),
                        (Answer("b", "b", 2 * p.a, part="(a){#2}"),
                         Answer("c", "c", 3 * p.a, part="(a){#2}")))
    def check(self, p, o, s):
        if s.answer("b") != 2 * p.a: raise CheckFailed("b")
'''


def _mathjax_visible(fragment: str) -> str:
    """The text MathJax scans in an HTML fragment: entities decoded, ignored spans dropped."""
    tree = etree.HTML("<div>" + fragment + "</div>")
    for span in tree.xpath("//*[contains(@class, 'tex2jax_ignore')]"):
        span.text = ""                    # its tail (the text after it) stays
        for child in list(span):
            span.remove(child)
    return "".join(tree.itertext())


def test_problem_prose_cannot_open_a_cloze_field_or_math(tmp_path):
    # Moodle's cloze parser reads {1:NUMERICAL:=1} (any answer type) as a graded field and
    # {#1} as the place of field 1, and its MathJax filter typesets \( … \) and \[ … \]:
    # a problem's plain text (prose, titles, part labels) must do none of it, and still
    # read as written (the docs: a backslash prints as itself).
    folder = tmp_path / "problems"
    folder.mkdir()
    (folder / "hostile_prose.py").write_text(HOSTILE_PROSE, encoding="utf-8")
    exam = tmp_path / "exam.toml"
    exam.write_text('title = "T"\n[[problems]]\nproblem = "hostile_prose"\n', encoding="utf-8")
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--problems", folder, "--exam", exam, "--out", out,
                             "--quiet", "--formats", "moodle", "--variants", "2")
    assert status == 0, err
    root = strict_parse((out / "moodle.xml").read_bytes())
    questions = root.findall("question[@type='cloze']")
    assert len(questions) == 2
    for question in questions:
        text = question.findtext("questiontext/text")
        feedback = question.findtext("generalfeedback/text")
        # our own two fields, b and c, and no other (Moodle's cloze syntax, any answer type)
        assert len(re.findall(r"\{\d*:[A-Za-z_]+:", text)) == 2, text
        assert not re.search(r"\{#\d+\}", text), text
        for fragment in (text, feedback):
            visible = _mathjax_visible(fragment)
            for word in ("t", "g", "x", "y", "k", "w", "z"):
                assert f"\\({word}\\)" not in visible and f"\\[{word}\\]" not in visible, visible
        # each still prints as written once the markup is decoded
        shown = html.unescape(re.sub(r"<[^>]+>", "", text))
        for written in ("Title {#1} \\(t\\)", "Given {1:NUMERICAL:=1} \\(g\\)",
                        "Type {1:NUMERICAL:=1} or {#1}; \\(x\\) and \\[y\\] print as written.",
                        "(a){#2}", "{1:MC:=A~B} \\(k\\)"):
            assert written in shown, (written, shown)
        shown = html.unescape(re.sub(r"<[^>]+>", "", feedback))
        assert "Work \\(w\\) {#1}" in shown and "So {2:NM:=2} \\(z\\)." in shown
