"""The grading record (grading.json): a re-run with the same inputs writes nothing; a changed
policy or responses file is recorded and named on stdout."""
import hashlib
import json
import os

import pytest

from conftest import run_cli

RESPONSES = ("variant,label,answer,entry,response\n"
             "canonical,Q3,L,,29/250\n"
             "canonical,Q3,Wx,1,0.22\n"
             "canonical,Q3,Wx,2,0.2\n")


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("regrade")
    status, _, err = run_cli("build", "--out", folder / "build", "--variants", 0, "--formats",
                             "json", "-q")
    assert status == 0, err
    return folder / "build" / "answers.json"


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder):
    """Every file under the folder with its bytes and modification time (ns)."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file() and p.name != ".wsgen.lock"}


def test_the_record_holds_the_inputs_hashes_and_a_rerun_writes_nothing(answers, tmp_path):
    responses = tmp_path / "responses.csv"
    responses.write_text(RESPONSES, encoding="utf-8")
    out = tmp_path / "grades"
    status, text, err = run_cli("grade", responses, "--answers", answers, "--out", out)
    assert status == 0, err
    record = json.loads((out / "grading.json").read_text(encoding="utf-8"))
    # the hashes, computed here from the files themselves
    assert record["answers"] == {"path": str(answers), "sha256": sha256(answers)}
    assert record["responses"] == [{"path": str(responses), "sha256": sha256(responses)}]
    assert record["manual"] is None and record["policy"]["overrides"] == {}
    assert set(record["policy"]["slots"]) == {"Q1(a)", "Q1(b)", "Q2", "Q3", "Q4", "Q5"}
    before = snapshot(out)
    status, text, err = run_cli("grade", responses, "--answers", answers, "--out", out)
    assert status == 0, err
    assert "nothing written" in text and text.count("\n") == 1
    assert snapshot(out) == before                     # not one byte, not one mtime
    # a copy of the same responses elsewhere is the same input
    moved = tmp_path / "moved.csv"
    moved.write_bytes(responses.read_bytes())
    assert "nothing written" in run_cli("grade", moved, "--answers", answers, "--out", out)[1]
    # a feedback file lost: the grading is no longer complete, so it is written again
    next(out.glob("feedback/*.md")).unlink()
    status, text, err = run_cli("grade", responses, "--answers", answers, "--out", out)
    assert status == 0 and "1 paper graded" in text, err
    assert len(list(out.glob("feedback/*.md"))) == 1


def test_a_changed_policy_or_responses_file_is_recorded_and_named(answers, tmp_path):
    responses = tmp_path / "responses.csv"
    responses.write_text(RESPONSES, encoding="utf-8")
    out = tmp_path / "grades"
    assert run_cli("grade", responses, "--answers", answers, "--out", out)[0] == 0
    grades = (out / "grades.csv").read_text(encoding="utf-8")
    status, text, err = run_cli("grade", responses, "--answers", answers, "--out", out,
                                "--abs", "0.1", "--rel", "0")
    assert status == 0, err
    lines = text.splitlines()
    assert lines[1].startswith("changed since the last grading: policy (")
    assert '"abs": 0.1' in lines[1] and "responses" not in lines[1]
    record = json.loads((out / "grading.json").read_text(encoding="utf-8"))
    assert record["policy"]["overrides"]["rule"] == {"abs": 0.1, "rel": 0}
    # Wx entry 2 is 0.2 against 13/50 = 0.26: right within 0.1, so Q3 earns more now
    assert (out / "grades.csv").read_text(encoding="utf-8") != grades
    with open(responses, "a", encoding="utf-8") as handle:
        handle.write("canonical,Q3,dL_dW,\"1,1\",0.088\n")
    status, text, err = run_cli("grade", responses, "--answers", answers, "--out", out,
                                "--abs", "0.1", "--rel", "0")
    assert status == 0, err
    assert text.splitlines()[1] == "changed since the last grading: responses"
    assert json.loads((out / "grading.json").read_text(encoding="utf-8"))["responses"][0][
        "sha256"] == sha256(responses)


def test_a_missing_manual_file_is_one_line(answers, tmp_path):
    responses = tmp_path / "responses.csv"
    responses.write_text(RESPONSES, encoding="utf-8")
    status, _, err = run_cli("grade", responses, "--answers", answers, "--out", tmp_path / "g",
                             "--manual", tmp_path / "nowhere.csv")
    assert status == 2 and err.count("\n") == 1 and "nowhere.csv" in err, err
    assert not (tmp_path / "g").exists()
