"""Gradebook import files (`wsgen grade --gradebook canvas|moodle|csv --roster R`): the LMSs'
layouts, one row per student, totals worked out by hand; the roster's account columns.

Layouts, from the LMSs' own sources:
* Canvas: instructure/canvas-lms, spec/fixtures/gradebooks/basic_course_with_sis_login_id.csv
  (a gradebook its importer reads: the header "Student,ID,SIS Login ID,Section,<assignment>…",
  then a row "Points Possible"), with the "SIS User ID" column its gradebook export writes
  before "SIS Login ID" (the header the Canvas guide "How do I import grades in the
  Gradebook?" lists: Student, ID, SIS User ID, SIS Login ID, Section).
* Moodle: moodle/moodle, grade/import/csv/classes/load_data.php (map_user_data_with_value: a
  column mapped to the user by id, idnumber, email or username; each other column to a grade
  item or a new one, "-" or "" no grade; numbers read by unformat_float).
"""
import csv
import io
import json

import pytest

from conftest import run_cli

EXAM = """\
title = "Gradebook test"
id = "gradebook-test"
seed = 3
variants = 0

[[problems]]
label = "Q1"
problem = "triplet_loss"
points = 5
options = { dim = 2 }
"""
# triplet_loss's answers weigh formula 1, d_ap 1, d_an 1, loss 2 (of 5 points): so
# ada (all right) 5, ben (d_ap, d_an) 2, cleo (formula, loss) 3.
RIGHT = {"ada": ("formula", "d_ap", "d_an", "loss"), "ben": ("d_ap", "d_an"),
         "cleo": ("formula", "loss")}
TOTALS = {"ada": "5", "ben": "2", "cleo": "3"}
ROSTER = ("id,name,email,sis_id,idnumber,section\n"
          "u1,Ada Lovelace,ada@uni.example,S001,N-1,Mon\n"
          "u2,Ben Okri,ben@uni.example,S002,N-2,Tue\n"
          "cleo,Cleo Laine,cleo@uni.example,S003,N-3,Mon\n")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gradebook")
    (folder / "exam.toml").write_text(EXAM, encoding="utf-8")
    status, _, err = run_cli("build", "--exam", folder / "exam.toml", "--out", folder / "build",
                             "--formats", "json", "-q")
    assert status == 0, err
    manifest = json.loads((folder / "build" / "answers.json").read_text(encoding="utf-8"))
    (problem,) = manifest["variants"][0]["problems"]
    rows = ["variant,student,label,answer,entry,response"]
    # the papers name ada and ben by the roster's names, cleo by her id
    for student, who in (("ada", "Ada Lovelace"), ("ben", "ben okri"), ("cleo", "cleo")):
        for name, answer in problem["answers"].items():
            if name not in RIGHT[student]:
                continue
            exact = answer["exact"]
            cells = [("", exact)] if not isinstance(exact, list) else \
                [(str(i), e) for i, e in enumerate(exact, 1)]
            rows += [f'canonical,{who},Q1,{name},"{e}",{x}' for e, x in cells]
    (folder / "responses.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return folder


def grade(folder, out, *args):
    return run_cli("grade", folder / "responses.csv", "--answers", folder / "build" / "answers.json",
                   "--out", folder / out, *args)


def read(path):
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_canvas_layout(setup):
    status, out, err = grade(setup, "canvas", "--gradebook", "canvas", "--roster",
                             setup / "roster.csv", "--assignment", "Midterm")
    assert status == 0, err
    assert f"gradebook for canvas: {setup / 'canvas' / 'gradebook-canvas.csv'}" in out
    rows = read(setup / "canvas" / "gradebook-canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Midterm"]
    assert rows[1] == ["Points Possible", "", "", "", "", "5"]
    assert rows[2:] == [["Ada Lovelace", "", "S001", "ada@uni.example", "Mon", TOTALS["ada"]],
                        ["Ben Okri", "", "S002", "ben@uni.example", "Tue", TOTALS["ben"]],
                        ["Cleo Laine", "", "S003", "cleo@uni.example", "Mon", TOTALS["cleo"]]]


def test_moodle_layout_by_idnumber_then_by_email(setup, tmp_path):
    status, _, err = grade(setup, "moodle", "--gradebook", "moodle", "--roster", setup / "roster.csv")
    assert status == 0, err
    rows = read(setup / "moodle" / "gradebook-moodle.csv")
    assert rows == [["ID number", "Full name", "Gradebook test"], ["N-1", "Ada Lovelace", "5"],
                    ["N-2", "Ben Okri", "2"], ["N-3", "Cleo Laine", "3"]]
    # one student without an idnumber: every row maps by email
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER.replace(",N-2,", ",,"), encoding="utf-8")
    status, _, err = grade(setup, "moodle2", "--gradebook", "moodle", "--roster", roster)
    assert status == 0, err
    assert read(setup / "moodle2" / "gradebook-moodle.csv")[:2] == [
        ["Email address", "Full name", "Gradebook test"], ["ada@uni.example", "Ada Lovelace", "5"]]


def test_plain_csv_layout(setup):
    status, _, err = grade(setup, "plain", "--gradebook", "csv", "--roster", setup / "roster.csv")
    assert status == 0, err
    rows = read(setup / "plain" / "gradebook.csv")
    assert rows[0] == ["id", "name", "email", "sis_id", "idnumber", "section", "Q1", "total", "max"]
    assert [r[0] for r in rows[1:]] == ["u1", "u2", "cleo"]
    assert [r[-3:] for r in rows[1:]] == [["5", "5", "5"], ["2", "2", "5"], ["3", "3", "5"]]


@pytest.mark.parametrize("roster, args, needle", [
    (ROSTER.replace("u2,Ben Okri", "u2,Benjamin"), ("--gradebook", "csv"), "no student 'ben okri'"),
    (ROSTER.replace("S002", "").replace("ben@uni.example", ""), ("--gradebook", "canvas"),
     "neither sis_id nor email"),
    (ROSTER.replace("ben@uni.example", "ADA@uni.example"), ("--gradebook", "csv"),
     "roster.csv:3: email: 'ADA@uni.example' is also on line 2"),
    (ROSTER.replace("ben@uni.example", "ben at uni"), ("--gradebook", "csv"),
     "roster.csv:3: email: 'ben at uni' is not an email"),
    (ROSTER.replace("N-3", "N-1"), ("--gradebook", "moodle"), "idnumber: 'N-1' is also on line 2"),
    (ROSTER, ("--gradebook", "canvas", "--assignment", "  "), "--assignment: empty name"),
])
def test_bad_rosters_and_options_are_one_line_and_write_nothing(setup, tmp_path, roster, args, needle):
    (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
    status, _, err = run_cli("grade", setup / "responses.csv", "--answers",
                             setup / "build" / "answers.json", "--out", tmp_path / "g", *args,
                             "--roster", tmp_path / "roster.csv")
    assert status == 2 and needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "g").exists()


def test_a_gradebook_needs_a_roster(setup, tmp_path):
    status, _, err = grade(setup, tmp_path / "g", "--gradebook", "canvas")
    assert status == 2 and "give --roster" in err and err.count("\n") == 1
    assert not (tmp_path / "g").exists()


def test_a_roster_alone_names_the_students_on_their_feedback(setup, tmp_path):
    status, _, err = grade(setup, tmp_path / "g", "--roster", setup / "roster.csv")
    assert status == 0, err
    assert not list((tmp_path / "g").glob("gradebook*"))
    # ben's paper names him "ben okri": the roster gives his name as written there, and his id
    page = next((tmp_path / "g" / "feedback").glob("ben*.html")).read_text(encoding="utf-8")
    assert '<p class="student">Ben Okri</p>' in page and "Student u2" in page
