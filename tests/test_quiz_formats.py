"""Moodle XML and QTI 1.2 (Canvas): strict parsing, read-back of every variant's answers and
tolerances against answers.json, escaped user text, no key in a question's text, and
byte-identical output for the same seed."""
import html
import io
import json
import re
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
from lxml import etree

from conftest import PROBLEM_HEAD, run_cli

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
XSD = Path(__file__).resolve().parent / "xsd"
CLOZE = re.compile(r"\{(\d+):(NUMERICAL|MULTICHOICE(?:_S)?):([^}]*)\}")
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
        if answer["kind"] == "formula":                # not asked in a quiz
            continue
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
# A cloze field: {WEIGHT:TYPE:ALTERNATIVES}, an alternative "=answer" / "%0%answer" /
# "answer", optionally "#feedback" (as Moodle's qtype_multianswer_extract_question reads it).
def cloze_alternatives(spec: str) -> list[tuple[str, str, str]]:
    """(fraction mark "=", "%0%" or "", answer, feedback as Moodle decodes it) per alternative."""
    out = []
    for alternative in spec.split("~"):
        mark = "=" if alternative.startswith("=") else "%0%" if alternative.startswith("%0%") else ""
        answer, _, feedback = alternative[len(mark):].partition("#")
        out.append((mark, answer, html.unescape(feedback)))
    return out


def moodle_fields(question) -> list[tuple]:
    kind = question.get("type")
    if kind == "numerical":
        answer = question.find("answer[@fraction='100']")
        return [("number", float(answer.findtext("text")), float(answer.findtext("tolerance")))]
    if kind == "multichoice":
        fractions = [a.get("fraction") for a in question.findall("answer")]
        return [("choice", fractions.index("100"), None)]
    fields = []
    for _, sub, spec in CLOZE.findall(question.findtext("questiontext/text")):
        alternatives = cloze_alternatives(spec)
        if sub == "NUMERICAL":
            right = [a for a in alternatives if a[0] == "="]
            assert len(right) == 1 and alternatives[0] == right[0]    # the right answer first
            value, width = right[0][1].split(":")
            fields.append(("number", float(value), float(width)))
        else:
            fields.append(("choice", [a[0] == "=" for a in alternatives].index(True), None))
    return fields


def cloze_weights(question) -> list[int]:
    return [int(w) for w, _, _ in CLOZE.findall(question.findtext("questiontext/text"))]


def moodle_questions(built):
    root = strict_parse((built / "moodle.xml").read_bytes())
    categories, current = {}, None
    for question in root.findall("question"):
        if question.get("type") == "category":
            current = question.findtext("category/text")
            categories[current] = []
        else:
            categories[current].append(question)
    return root, categories


def test_moodle_reads_back_against_answers_json(built):
    root, categories = moodle_questions(built)
    assert root.tag == "quiz"
    data, sheets = variants(built)
    slots = [p["label"] for p in sheets[0]["problems"]]
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
            # the reference `wsgen grade --moodle` reads: Ref. TAG/VARIANT/SLOT
            assert re.search(rf"Ref\. [a-z]{{6}}/{sheet['variant']}/{position + 1}<",
                             question.findtext("questiontext/text"))


def test_moodle_cloze_marks_are_the_slots_points(built):
    """Moodle's mark of a cloze question is the sum of its fields' weights: it is the slot's
    points, and each answer's fields weigh its share of them to within one mark (the
    shares from answers.json's "points", independently of the code's rounding)."""
    _, categories = moodle_questions(built)
    _, sheets = variants(built)
    checked = 0
    for position, questions in enumerate(categories.values()):
        for question, sheet in zip(questions, sheets):
            if question.get("type") != "cloze":
                continue
            problem = sheet["problems"][position]
            weights = cloze_weights(question)
            assert sum(weights) == problem["points"]
            sizes = [1 if a["kind"] == "choice" else len(expected_fields({"answers": {n: a}}))
                     for n, a in problem["answers"].items()]
            # a formula answer is not asked: the others share the slot's points
            formulas = sum(a["points"] for a in problem["answers"].values() if a["kind"] == "formula")
            scale = problem["points"] / (problem["points"] - formulas)
            start = 0
            for size, answer in zip(sizes, problem["answers"].values()):
                if answer["kind"] == "formula":
                    continue
                assert abs(sum(weights[start:start + size]) - answer["points"] * scale) < 1
                start += size
            checked += 1
    assert checked == 18                        # every slot of the default exam is a cloze


def test_moodle_mistakes_are_wrong_answers_with_their_feedback(built):
    """Every declared mistake's value of a scalar number that a grader would not accept is
    a 0% answer of its field, the mistake's label in the feedback (values and labels taken
    from answers.json)."""
    _, categories = moodle_questions(built)
    _, sheets = variants(built)
    found = 0
    for position, questions in enumerate(categories.values()):
        for question, sheet in zip(questions, sheets):
            problem = sheet["problems"][position]
            specs = [spec for _, _, spec in CLOZE.findall(question.findtext("questiontext/text"))]
            names = [n for n, a in problem["answers"].items()
                     for _ in range(len(expected_fields({"answers": {n: a}})))]
            for mistake in problem["mistakes"]:
                for name, given in mistake["answers"].items():
                    answer = problem["answers"][name]
                    if answer["kind"] != "number":
                        continue
                    tol = answer["tolerance"]
                    # clearly outside the right answer's tolerance (a margin for rounding)
                    if abs(given["value"] - answer["value"]) <= 2 * (tol["abs"] + tol["rel"] * abs(answer["value"])):
                        continue
                    spec = specs[names.index(name)]
                    wrong = [(float(a.split(":")[0]), f) for m, a, f in cloze_alternatives(spec)
                             if m == "%0%"]
                    hits = [f for v, f in wrong if abs(v - given["value"]) <= tol["abs"] + tol["rel"] * abs(given["value"])]
                    assert any(mistake["label"] in html.unescape(re.sub(r"<[^>]+>", "", f))
                               for f in hits), (name, mistake["id"], spec)
                    found += 1
    assert found > 10


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


def qti_field(item) -> tuple:
    """The one response of an item: ("number", value, half width) or ("choice", index, None)."""
    responses = [e for e in item.iter() if e.tag in (f"{QTI}response_str", f"{QTI}response_lid",
                                                     f"{QTI}response_num")]
    assert len(responses) == 1
    scoring = [c for c in item.findall(f"{QTI}resprocessing/{QTI}respcondition")
               if c.find(f"{QTI}setvar") is not None]
    assert len(scoring) == 1 and scoring[0].findtext(f"{QTI}setvar") == "100"
    test = scoring[0].find(f"{QTI}conditionvar")
    either = test.find(f"{QTI}or")
    if either is not None:
        value = float(either.findtext(f"{QTI}varequal"))
        low = float(either.findtext(f"{QTI}and/{QTI}vargte"))
        high = float(either.findtext(f"{QTI}and/{QTI}varlte"))
        assert low <= value <= high
        return ("number", value, (high - low) / 2)
    chosen = test.findtext(f"{QTI}varequal")
    return ("choice", "ABCDEFGHIJ".index(chosen.rsplit("_", 1)[1]), None)


def item_meta(item) -> dict:
    return {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
            for f in item.iter(f"{QTI}qtimetadatafield")}


def test_qti_zip_reads_back_against_answers_json(built):
    infos, files = qti_parts(built)
    data, sheets = variants(built)
    names = [f"assessments/{s['variant']}.xml" for s in sheets]
    assert [i.filename for i in infos] == names + ["imsmanifest.xml"]
    manifest = strict_parse(files["imsmanifest.xml"])
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    assert [(r.get("type"), r.get("href")) for r in resources] == [("imsqti_xmlv1p2", n) for n in names]
    slots = [p["label"] for p in sheets[0]["problems"]]
    idents = []
    for name, sheet in zip(names, sheets):
        assessment = strict_parse(files[name]).find(f"{QTI}assessment")
        assert assessment.get("title") == f"{data['exam']} — {sheet['variant']}"
        groups = assessment.findall(f"{QTI}section/{QTI}section")
        assert [g.get("title") for g in groups] == slots
        for position, (group, problem) in enumerate(zip(groups, sheet["problems"])):
            assert group.find(f"{QTI}selection_ordering") is None      # every item is asked
            items = group.findall(f"{QTI}item")
            want = expected_fields(problem)
            same_fields([qti_field(i) for i in items], want, (sheet["variant"], slots[position]))
            points = [Fraction(item_meta(i)["points_possible"]) for i in items]
            assert sum(points) == problem["points"]
            for k, item in enumerate(items, start=1):
                meta = item_meta(item)
                assert meta["wsgen_variant"] == sheet["variant"]
                assert meta["question_type"] == ("numerical_question" if want[k - 1][0] == "number"
                                                 else "multiple_choice_question")
                text = item.find(f"{QTI}presentation/{QTI}material/{QTI}mattext").text
                assert f"Ref. " in text and f"/{sheet['variant']}/{position + 1}/{k}<" in text
                idents.append(item.get("ident"))
            key = items[0].find(f"{QTI}itemfeedback[@ident='general_fb']//{QTI}mattext").text
            assert "Solution" in key and "<math" in key
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


@pytest.mark.parametrize("schema", ["qti", "imscp"])
def test_qti_files_validate_against_the_schemas(built, schema):
    """Against the structural schemas in tests/xsd (see tests/xsd/README.md: written for this
    project from the IMS specifications, not IMS's own XSD files)."""
    _, files = qti_parts(built)
    parser = etree.XMLParser(**STRICT)
    xsd = etree.XMLSchema(etree.parse(str(XSD / f"wsgen-{schema}-subset.xsd"), parser))
    members = ([n for n in files if n.startswith("assessments/")] if schema == "qti"
               else ["imsmanifest.xml"])
    for member in members:
        document = etree.parse(io.BytesIO(files[member]), parser)
        assert xsd.validate(document), (member, xsd.error_log.filter_from_errors()[:5])


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
    qti = strict_parse(files["assessments/v001.xml"])
    assert qti.find(f"{QTI}assessment").get("title") == "Midterm " + HOSTILE + " — v001"
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
    fields' answer specifications cut out: Moodle never shows them) and QTI's (every item
    of the slot: each holds the slot's data and one part)."""
    import wsgen.quality.properties as properties
    from wsgen.formats import moodle, qti
    from wsgen.formats.quiz import answer_fields
    checked = 0
    for sheet, documents, record in _sheets(4):
        moodle_slots = moodle.MoodleFormat().render(sheet, documents).data
        qti_slots = qti.QtiFormat().render(sheet, documents).data
        for item, m_slot, q_slot, problem in zip(sheet.items, moodle_slots, qti_slots,
                                                 record["problems"]):
            question = moodle.question_element(sheet.exam, sheet.variant_id, m_slot, problem)
            m_text = html.unescape(CLOZE.sub(" ", question.findtext("questiontext/text")))
            fields = answer_fields(problem, q_slot)
            items = [qti.item_element("abcdef", sheet.variant_id, q_slot, f, len(fields), "1")
                     for f in fields]
            q_text = _mathml_text(" ".join(m.text for element in items
                                           for m in element.iterfind("presentation//mattext")))
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


# --- marks, references, exam settings -----------------------------------------------------
def test_whole_shares_sum_exactly_and_share_fairly():
    """Hand-worked: 24 fields of 10/24 point over 10 points; three thirds of a point in
    hundredths; 8 answers of 3 entries each (activations) over 10 points."""
    from fractions import Fraction as F
    from wsgen.formats.quizref import FieldKey, answer_whole_shares, whole_shares
    assert whole_shares([F(10, 24)] * 24, 10) == [1] * 10 + [0] * 14
    assert whole_shares([F(5, 3)] * 3, 5) == [2, 2, 1]
    assert whole_shares([F(1), F(2), F(2)], 5) == [1, 2, 2]                  # exact: unchanged
    assert whole_shares([F(1, 3)] * 3, 1, F(1, 100)) == [34, 33, 33]
    keys = [FieldKey(f"a{i}", str(j), "number") for i in range(8) for j in (1, 2, 3)]
    # each answer's 10/8 = 1.25 marks: two answers get 2 (the first two), the others 1; an
    # answer's marks go to its first entries
    assert answer_whole_shares(keys, [F(10, 24)] * 24, 10) == [1, 1, 0] * 2 + [1, 0, 0] * 6


def test_references_read_back():
    from wsgen.formats.quizref import Reference, build_tag, find_reference, reference
    tag = build_tag("f3d53e0d4131")                                  # a build id
    assert re.fullmatch(r"[a-z]{6}", tag) and tag != build_tag("f3d53e0d4132")
    text = f"Q2. Title … {reference(tag, 'v012', 3)} more"
    assert find_reference(text) == Reference(tag, "v012", 3, None)
    assert find_reference(reference(tag, "stu.dent-1", 14, 2)) == Reference(tag, "stu.dent-1", 14, 2)
    assert find_reference("Ref. abc/v001/1") is None and find_reference("") is None


SETTINGS_EXAM = '''title = "Settings"
variants = 1
quiz_penalty = 0.25
quiz_shuffle = true
quiz_marks = "shares"
[[problems]]
label = "Q1"
problem = "triplet_loss"
points = 5
[[problems]]
label = "Q2"
problem = "style_transfer_loss"
points = 10
options = { n_C = 2, n_H = 1, n_W = 3 }
'''


def test_exam_quiz_settings(tmp_path):
    """quiz_marks = "shares": the cloze weights in the answers' exact proportions (triplet
    loss: 1, 1, 1 and 2 for L; style transfer: each answer 10/6, a 2 × 2 Gram matrix's
    entries a quarter of that, so 4 : 1); the penalty and shuffling as set."""
    exam = tmp_path / "settings.toml"
    exam.write_text(SETTINGS_EXAM, encoding="utf-8")
    out = build(tmp_path / "out", "--exam", exam)
    root = strict_parse((out / "moodle.xml").read_bytes())
    q1, q2 = root.findall("question[@type='cloze']")
    assert cloze_weights(q1) == [1, 1, 1, 2]
    assert cloze_weights(q2) == [4, 4, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4]
    assert q1.findtext("penalty") == "0.25" and q2.findtext("penalty") == "0.25"
    assert ":MULTICHOICE_S:" in q1.findtext("questiontext/text")
    _, files = qti_parts(out)
    renders = strict_parse(files["assessments/v001.xml"]).iter(f"{QTI}render_choice")
    assert {r.get("shuffle") for r in renders} == {"Yes"}


@pytest.mark.parametrize("line,message", [
    ("quiz_penalty = 2", "quiz_penalty: expected 0 to 1, got 2"),
    ('quiz_penalty = "x"', "quiz_penalty: expected a number"),
    ('quiz_marks = "all"', "quiz_marks: expected one of 'points', 'shares'"),
    ("quiz_shuffle = 1", "quiz_shuffle: expected true or false"),
])
def test_exam_quiz_settings_are_checked(tmp_path, line, message):
    exam = tmp_path / "bad.toml"
    exam.write_text(f'title = "T"\n{line}\n[[problems]]\nproblem = "triplet_loss"\n', encoding="utf-8")
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "out", "-q",
                             "--formats", "moodle")
    assert status == 2 and f"bad.toml:2: {message}" in err, err
