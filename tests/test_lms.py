"""Moodle and Canvas read the quiz files as intended: the validators' check-lms (Moodle 4.2.3's
own XML importer run in PHP; Instructure's QTIMigrationTool and a replay of canvas-lms's
converters) on builds of the default exam, the course bank and tests/lms/quiz-kinds.toml
(one-number and one-choice slots, numbers asked as multiple choice, a slot mixing both),
with few variants each; and a declared mistake's feedback reaches its cloze field as
Moodle's own cloze parser reads it."""
import html
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from conftest import PROBLEM_HEAD, run_cli

pytestmark = pytest.mark.lms

ROOT = Path(__file__).resolve().parent.parent
KINDS = ROOT / "tests" / "lms" / "quiz-kinds.toml"


def _kit() -> Path | None:
    """The validators' kit: $WSGEN_VALIDATORS, else shared/validators beside an ancestor of
    the repository (../shared/validators from the project's own checkout)."""
    if os.environ.get("WSGEN_VALIDATORS"):
        return Path(os.environ["WSGEN_VALIDATORS"])
    for folder in ROOT.parents:
        if (folder / "shared" / "validators" / "check-lms").is_file():
            return folder / "shared" / "validators"
    return None


@pytest.fixture(scope="module")
def kit(request):
    found = _kit()
    if found is None:
        message = "lms test: ../shared/validators/check-lms not found (set WSGEN_VALIDATORS)"
        if request.config.getoption("--require-tools") or os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def build(out: Path, *args) -> Path:
    status, _, err = run_cli("build", "--out", out, "--formats", "json,moodle,qti", "-q", *args)
    assert status == 0, err
    return out


def check_lms(kit: Path, out: Path) -> tuple[int, dict]:
    proc = subprocess.run(["sh", str(kit / "check-lms"), str(out), "--json"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return proc.returncode, json.loads(proc.stdout)


def _flat(value) -> list:
    return [x for item in value for x in _flat(item)] if isinstance(value, list) else [value]


BUILDS = {
    "default": ("--variants", "2"),
    "bank": ("--exam", str(ROOT / "examples" / "course-bank.toml"), "--variants", "2"),
    "kinds": ("--exam", str(KINDS)),
}


@pytest.fixture(scope="module")
def checked(kit, tmp_path_factory):
    """Each build and check-lms's verdict on it, computed once."""
    results = {}
    for name, args in BUILDS.items():
        out = build(tmp_path_factory.mktemp("lms") / name, *args)
        results[name] = (out, *check_lms(kit, out))
    return results


@pytest.mark.parametrize("name", list(BUILDS))
def test_check_lms_passes(checked, name):
    out, status, report = checked[name]
    moodle, canvas = report["moodle"]["summary"], report["canvas"]["summary"]
    assert status == 0, report["summary"]
    assert moodle["errors"] == 0 and moodle["mark_mismatches"] == 0 and moodle["points_unknown"] == 0
    assert canvas["auto_graded_as_intended"] == canvas["items"] > 0
    # every question is a slot of one variant; every answer field a Canvas item
    data = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    sheets = [v for v in data["variants"] if v["variant"] != "canonical"]
    assert moodle["questions"] == len(sheets) * len(sheets[0]["problems"])
    # a formula answer is typed on paper or in answers.csv, never a quiz field
    fields = sum(1 if a["kind"] == "choice" else len(_flat(a["value"]))
                 for s in sheets for p in s["problems"] for a in p["answers"].values()
                 if a["kind"] != "formula")
    assert canvas["items"] == fields


def test_kinds_become_the_native_question_types(checked):
    """One number: Moodle numerical, Canvas numerical; one choice: multichoice and
    multiple choice; several answers: a cloze and one Canvas item each."""
    _, _, report = checked["kinds"]
    qtypes = {(q["label"], q["qtype"]) for q in report["moodle"]["questions"]}
    assert qtypes == {("Q1", "numerical"), ("Q2", "multichoice"), ("Q3", "multichoice"),
                      ("Q4", "multianswer"), ("Q5", "multianswer")}
    canvas = {(i["label"], i["canvas_type"]) for i in report["canvas"]["items"]}
    assert ("Q1", "numerical_question") in canvas and ("Q2", "multiple_choice_question") in canvas
    assert ("Q5", "numerical_question") in canvas and ("Q5", "multiple_choice_question") in canvas


def _moodle_question(out: Path, idnumber: str):
    root = etree.parse(str(out / "moodle.xml"), etree.XMLParser(resolve_entities=False)).getroot()
    return next(q for q in root.findall("question") if q.findtext("idnumber") == idnumber)


def _cloze_fields(kit: Path, question_text: str, tmp_path: Path) -> dict:
    """Moodle's own cloze parser and validator (the kit's copies of
    question/type/multianswer/questiontype.php: qtype_multianswer_extract_question,
    qtype_multianswer_validate_question) on a question text: each field's answers,
    fractions and feedback as Moodle stores them."""
    harness = tmp_path / "cloze.php"
    harness.write_text(r"""<?php
define('MOODLE_INTERNAL', 1); define('FORMAT_HTML', 1);
function get_string($id, $comp = '', $a = null) { return "$comp:$id"; }
function fullclone($thing) { return unserialize(serialize($thing)); }
class moodle_exception extends Exception {}
class qtype_multichoice_base { const LAYOUT_DROPDOWN = 0; const LAYOUT_VERTICAL = 1; const LAYOUT_HORIZONTAL = 2; }
require_once($argv[1] . '/moodle/sliced/multianswer_functions.php');
require_once($argv[1] . '/moodle/sliced/numerical_functions.php');
$q = qtype_multianswer_extract_question(['text' => file_get_contents('php://stdin'), 'format' => 1, 'itemid' => '']);
$out = [];
foreach ($q->options->questions as $k => $w) {
    $out[$k] = ['answer' => array_values(array_map(function($a) { return is_array($a) ? $a['text'] : $a; }, $w->answer)),
                'fraction' => array_values($w->fraction),
                'feedback' => array_values(array_map(function($f) { return $f['text']; }, $w->feedback))];
}
echo json_encode(['fields' => $out, 'errors' => qtype_multianswer_validate_question($q)]);
""", encoding="utf-8")
    proc = subprocess.run(["php", str(harness), str(kit)], input=question_text, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["errors"] == [] or result["errors"] == {}, result["errors"]
    return result["fields"]


def test_a_mistakes_feedback_reaches_its_field(checked, kit, tmp_path):
    """Q1(a) of the default exam (triplet_loss): its 4th field is the loss L.  check-lms's
    JSON (Moodle's importer) shows the declared mistakes' values of L as 0% answers of that
    field with L's tolerance around them, and Moodle's cloze parser gives each the mistake's
    label and explanation as feedback; the values and texts come from answers.json."""
    out, _, report = checked["default"]
    data = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    sheet = next(v for v in data["variants"] if v["variant"] == "v001")
    problem = sheet["problems"][0]
    assert problem["problem"] == "triplet_loss" and list(problem["answers"])[3] == "loss"
    loss, tol = problem["answers"]["loss"], problem["answers"]["loss"]["tolerance"]
    wrong = {}
    for mistake in problem["mistakes"]:
        value = mistake["answers"].get("loss", {}).get("value")
        if value is not None and abs(value - loss["value"]) > tol["abs"] + tol["rel"] * abs(loss["value"]):
            wrong.setdefault(round(value, 12), []).append(mistake)
    assert wrong, "the variant's loss has declared mistakes that change it"
    imported = next(q for q in report["moodle"]["questions"] if q["idnumber"] == "v001-Q1(a)")
    assert imported["qtype"] == "multianswer" and imported["ok"]
    # what Moodle's importer read (check-lms --json: the kit's moodle_import.php)
    raw = json.loads(subprocess.run(["sh", str(kit / "check-lms"), str(out), "--json", "--moodle-only",
                                     "--work", str(tmp_path / "work")], capture_output=True,
                                    text=True, timeout=900).stdout)
    assert raw["pass"]
    work = json.loads((tmp_path / "work" / "moodle_import.json").read_text(encoding="utf-8"))
    record = next(r for r in work["questions"] if r.get("idnumber") == "v001-Q1(a)")
    field = record["imported"]["subquestions"]["4"]
    assert field["qtype"] == "numerical"
    assert float(field["answer"][0]) == loss["value"] and float(field["fraction"][0]) == 1
    got = {round(float(a), 12): (float(f), float(field["tolerance"][str(i)] if isinstance(field["tolerance"], dict) else field["tolerance"][i]))
           for i, (a, f) in enumerate(zip(field["answer"], field["fraction"])) if i}
    assert set(got) == set(wrong)
    for value, (fraction, width) in got.items():
        assert fraction == 0
        assert width == pytest.approx(tol["abs"] + tol["rel"] * abs(value), rel=1e-5)
    # the feedback, as Moodle's cloze parser stores it
    text = _moodle_question(out, "v001-Q1(a)").findtext("questiontext/text")
    parsed = _cloze_fields(kit, text, tmp_path)["4"]
    for answer, feedback in zip(parsed["answer"][1:], parsed["feedback"][1:]):
        mistakes = wrong[round(float(answer), 12)]
        shown = html.unescape(re.sub(r"<[^>]+>", "", feedback))
        for mistake in mistakes:
            assert mistake["label"] in shown
            assert mistake["why"].split("$")[0].strip() in shown


HOSTILE_MISTAKE = PROBLEM_HEAD + r'''
from wsgen import Mistake

@register
class P(Problem):
    id = "hostile_mistake"
    title = "T"
    Options = Options
    Params = Params
    def canonical(self, o): return Params(sp.Rational(1, 2))
    def generate(self, rng, o): return Params(sp.Rational(rng.integer(1, 9), 10))
    def statement(self, p, o): return (Part("(a)", text="Find $b$ and $c$."),)
    def solve(self, p, o):
        return Solution((Step(title="Work", text="So."),),
                        (Answer("b", "b", 2 * p.a, part="(a)"), Answer("c", "c", 3 * p.a, part="(a)")))
    def mistakes(self, p, o, s):
        return (Mistake("odd", "odd ~ } # & <b>label",
                        "a set $\\{1, 2\\}$ ~ costs #3 } & <i>x</i> \\# and \\}",
                        {"b": 5 * p.a}),)
    def check(self, p, o, s):
        if s.answer("b") != 2 * p.a: raise CheckFailed("b")
'''


def test_feedback_holding_cloze_syntax_reads_as_written(kit, tmp_path):
    """A mistake's label and explanation holding what ends or escapes a cloze field (~ } #
    \\} \\#) and HTML reach the field's feedback as written (Moodle's parser decodes it)."""
    folder = tmp_path / "problems"
    folder.mkdir()
    (folder / "hostile_mistake.py").write_text(HOSTILE_MISTAKE, encoding="utf-8")
    exam = tmp_path / "exam.toml"
    exam.write_text('title = "T"\nvariants = 1\n[[problems]]\nproblem = "hostile_mistake"\npoints = 4\n',
                    encoding="utf-8")
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--problems", folder, "--exam", exam, "--out", out,
                             "--quiet", "--formats", "json,moodle")
    assert status == 0, err
    status, report = check_lms(kit, out)
    assert status == 0, report["summary"]
    text = _moodle_question(out, "v001-Q1").findtext("questiontext/text")
    fields = _cloze_fields(kit, text, tmp_path)
    assert len(fields) == 2 and fields["2"]["feedback"] == [""]          # c: no mistake
    feedback = fields["1"]["feedback"][1]
    assert fields["1"]["fraction"][1] in ("0", 0)
    # the HTML Moodle stores: escaped text, TeX in \( \) as the browser hands it to MathJax
    shown = html.unescape(re.sub(r"<[^>]+>", "", feedback))
    assert "odd ~ } # & <b>label" in shown
    assert "a set \\(\\{1, 2\\}\\) ~ costs #3 } & <i>x</i> \\# and \\}" in shown
    assert "<b>" not in feedback and "<i>" not in feedback
