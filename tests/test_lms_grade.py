"""Results of online quizzes back into `wsgen grade` (grading/lms.py), from exports in the
layouts the LMSs write, made by scripts/lms_exports.py from a build of
tests/lms/quiz-kinds.toml:

* Moodle's quiz Responses report as CSV: the columns of mod/quiz/report/responses/report.php
  (quiz_responses_report::display; the attempts report's add_user_columns,
  add_state_column, add_time_columns, add_grade_columns; "Question N", "Response N",
  "Right answer N"), the cells of last_responses_table::data_col ("-" for no data), a cloze
  question's response as question/type/multianswer/question.php's summarise_response writes
  it with the string subqresponse ("part 1: …; part 2: …"), a multichoice question's as the
  chosen answer's text (qtype_multichoice_single_question::summarise_response);
* Canvas's classic-quiz Student Analysis CSV: app/models/quizzes/quiz_statistics/
  student_analysis.rb, Quizzes::QuizStatistics::StudentAnalysis#to_csv (columns name, id,
  sis_id, section, section_id, section_sis_id, submitted, attempt, then "ID: question text"
  and its points per question, then n correct, n incorrect, score; a numerical question's
  cell the answer's text, a multiple-choice question's the chosen answer's text).

The expectations come from answers.json and from what the script says each made-up
student answered, not from the grading code."""
import csv
import io
import json
import re
from pathlib import Path

import pytest

from conftest import load_script, run_cli

ROOT = Path(__file__).resolve().parent.parent
KINDS = ROOT / "tests" / "lms" / "quiz-kinds.toml"


def _script():
    return load_script("lms_exports")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    base = tmp_path_factory.mktemp("lms-grade")
    out = base / "build"
    status, _, err = run_cli("build", "--exam", KINDS, "--out", out, "--formats", "json,moodle,qti", "-q")
    assert status == 0, err
    script = _script()
    people = script.write_exports(out, base / "exports", students=8)
    data = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    return out, base / "exports", people, data, script


def grade(source: str, files, answers: Path, out: Path):
    from wsgen.grading.lms import run_lms_grade
    return run_lms_grade(source, [Path(f) for f in files], answers, out)


def grades_table(out: Path) -> dict[str, dict]:
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    return {row["student"]: row for row in rows}


def feedback_of(out: Path, student: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", student).strip("._")
    return (out / "feedback" / f"{stem}.md").read_text(encoding="utf-8")


def _total(data) -> int:
    return sum(p["points"] for p in data["variants"][-1]["problems"])


def _expected_mistakes(data, script, variants: list[str]) -> set[str]:
    """The mistake ids a "mistake" student's answers carry, slot by slot."""
    records = {v["variant"]: v for v in data["variants"]}
    return {mistake_id for position, variant in enumerate(variants)
            for mistake_id, _ in script.mistakes_used(records[variant]["problems"][position]).values()}


def test_moodle_responses_report_is_graded(exports, tmp_path):
    build, folder, people, data, script = exports
    path = folder / "moodle-responses.csv"
    lines = grade("moodle", [path], build / "answers.json", tmp_path / "grades")
    table = grades_table(tmp_path / "grades")
    assert len(table) == len(people)
    total = _total(data)                                  # 3 + 2 + 2 + 8 + 5, by the exam file
    assert total == 20
    for person in people:
        name = f"{person['name']} (s{person['id']}@example.org)"
        row = table[name]
        # each slot drawn on its own: the paper is named by the variant of each slot
        drawn = person["moodle"]
        assert row["variant"] == (drawn[0] if len(set(drawn)) == 1 else "+".join(drawn))
        assert row["max"] == str(total)
        if person["pattern"] == "right":
            assert row["total"] == str(total)
        elif person["pattern"] in ("blank", "typo"):
            assert row["total"] == "0"
        else:
            assert 0 < float(row["total"]) < total
            text = feedback_of(tmp_path / "grades", name)
            for mistake_id in _expected_mistakes(data, script, drawn):
                assert f"diagnosis: `{mistake_id}`" in text, mistake_id
    # a typo is reported with the export's line of that attempt (student 4: line 5)
    assert any(line.startswith(f"  {path}:5: Q1 area: '1,5e'") for line in lines), lines


def test_canvas_student_analyses_are_graded(exports, tmp_path):
    build, folder, people, data, script = exports
    files = sorted(folder.glob("canvas-*.csv"))
    assert [f.name for f in files] == ["canvas-v001.csv", "canvas-v002.csv"]
    grade("canvas", files, build / "answers.json", tmp_path / "grades")
    table = grades_table(tmp_path / "grades")
    assert len(table) == len(people)
    for person in people:
        name = f"{person['name']} (S{person['id']})"
        row = table[name]
        assert row["variant"] == person["canvas"]            # one quiz per variant
        if person["pattern"] == "right":
            assert row["total"] == str(_total(data))
        elif person["pattern"] in ("blank", "typo"):
            assert row["total"] == "0"
        else:
            text = feedback_of(tmp_path / "grades", name)
            count = len(data["variants"][-1]["problems"])
            for mistake_id in _expected_mistakes(data, script, [person["canvas"]] * count):
                assert f"diagnosis: `{mistake_id}`" in text, mistake_id


def _rewrite(path: Path, target: Path, change) -> Path:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    change(rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    target.write_text(buffer.getvalue(), encoding="utf-8")
    return target


def test_a_response_that_cannot_be_mapped_is_reported_with_its_line(exports, tmp_path):
    build, folder, people, data, _ = exports
    source = folder / "moodle-responses.csv"

    def change(rows):
        header = rows[0]
        q1, q2, r4 = header.index("Question 1"), header.index("Question 2"), header.index("Response 4")
        rows[1][q1] = re.sub(r"Ref\. \S+", "", rows[1][q1])                  # line 2: no reference
        rows[2][q2] = re.sub(r"Ref\. [a-z]{6}/", "Ref. zzzzzz/", rows[2][q2])  # line 3: another build
        rows[5][r4] = "part 1: A; part 2: B"                                  # line 6: 2 of 4 parts
        rows.append(list(rows[1]))                                            # line 10: attempt 2
    path = _rewrite(source, tmp_path / "moodle.csv", change)
    lines = grade("moodle", [path], build / "answers.json", tmp_path / "grades")
    text = "\n".join(lines)
    assert f"{path}:2: Question 1: no wsgen reference in the question's text" in text
    assert f"{path}:3: Question 2: reference Ref. zzzzzz/… is of another build" in text
    assert f"{path}:2: slots not in the attempt: Q1 (not graded)" in text
    assert re.search(rf"{re.escape(str(path))}:6: Response 4: cannot read 'part 1: A; part 2: B'", text)
    table = grades_table(tmp_path / "grades")
    first = f"{people[0]['name']} (s{people[0]['id']}@example.org)"
    assert set(table) >= {first, first + " (attempt 2)"}
    # the slot left out counts in neither the points nor the maximum
    assert table[first]["Q1"] == "0" and table[first]["max"] == str(_total(data) - 3)


def test_exports_of_another_kind_are_refused(exports, tmp_path):
    from wsgen.errors import UserError
    build, folder, *_ = exports
    with pytest.raises(UserError, match=r"moodle-responses\.csv:1: not a Canvas Student Analysis"):
        grade("canvas", [folder / "moodle-responses.csv"], build / "answers.json", tmp_path / "a")
    with pytest.raises(UserError, match=r"canvas-v001\.csv:1: no \"Question N\" or \"Response N\""):
        grade("moodle", [folder / "canvas-v001.csv"], build / "answers.json", tmp_path / "b")

    def no_questions(rows):
        keep = [i for i, name in enumerate(rows[0]) if not name.startswith("Question ")]
        rows[:] = [[row[i] for i in keep] for row in rows]
    path = _rewrite(folder / "moodle-responses.csv", tmp_path / "m.csv", no_questions)
    with pytest.raises(UserError, match=r"m\.csv:1: no \"Question N\" columns: tick \"Question text\""):
        grade("moodle", [path], build / "answers.json", tmp_path / "c")


def test_moodle_cloze_summary_parts():
    """qtype_multianswer_question::summarise_response joins "part {i}: {response}" with "; "
    and the report trims the cell: a blank last part loses its space."""
    from wsgen.grading.lms import _moodle_parts
    assert _moodle_parts("part 1: 0.5; part 2: B; part 3: -2", 3) == {1: "0.5", 2: "B", 3: "-2"}
    assert _moodle_parts("part 1: ; part 2:", 2) == {1: "", 2: ""}
    assert _moodle_parts("part 1: 1; part 3: 2", 2) is None
    assert _moodle_parts("0.5", 1) is None


def test_grade_command_reads_lms_exports(exports, tmp_path):
    build, folder, people, data, _ = exports
    status, out, err = run_cli("grade", "--moodle", folder / "moodle-responses.csv",
                               "--answers", build / "answers.json", "--out", tmp_path / "m")
    assert status == 0, err
    assert out.startswith("wsgen grade: read 8 attempts from 1 Moodle export")
    assert len(grades_table(tmp_path / "m")) == len(people)
    status, out, err = run_cli("grade", "--canvas", folder / "canvas-v001.csv", "--canvas",
                               folder / "canvas-v002.csv", "--answers", build / "answers.json",
                               "--out", tmp_path / "c")
    assert status == 0, err
    assert out.startswith("wsgen grade: read 8 attempts from 2 Canvas exports")
    # one source at a time; an export of another kind is a user error (exit 2), one line
    status, _, err = run_cli("grade", "--moodle", folder / "moodle-responses.csv", "--canvas",
                             folder / "canvas-v001.csv", "--answers", build / "answers.json",
                             "--out", tmp_path / "x")
    assert status == 2 and "give one source of responses" in err
    status, _, err = run_cli("grade", "--moodle", folder / "canvas-v001.csv",
                             "--answers", build / "answers.json", "--out", tmp_path / "y")
    assert status == 2 and "canvas-v001.csv:1: no \"Question N\"" in err and "Traceback" not in err
