"""Exam files, rosters and per-student seeds, manifests, repeats, stress, re-runs."""
import csv
import io
import json
import os
import stat

import pytest

from conftest import run_cli

EXAM = """title = "Quiz"
id = "quiz-1"
seed = 5
variants = 2

[[problems]]
label = "Q1"
problem = "matrix_backprop"
points = 4

[[problems]]
label = "Q2"
problem = "triplet_loss"
points = 3
"""


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def build(*args):
    status, out, err = run_cli("build", "-q", "--formats", "md,json", *map(str, args))
    assert status == 0, err
    return err


@pytest.mark.parametrize("text,needle", [
    (EXAM.replace('variants = 2', 'variants = 2\nvariantz = 3'), ":5: variantz: unknown field"),
    (EXAM.replace('"triplet_loss"', '"tripplet_loss"'), ":13: problems[2].problem: unknown problem"),
    (EXAM.replace("points = 3", 'points = "three"'), ":14: problems[2].points: expected an integer"),
    (EXAM.replace("points = 4", "points = 4\noptions = { m = 2, rows = 3 }"),
     ":10: problems[1].options.rows: unknown option"),
    (EXAM.replace("points = 4", "points = 4\noptions = { m = 9 }"), "problems[1].options: m must be"),
    (EXAM.replace('title = "Quiz"', 'title = "Quiz'), "invalid TOML"),
    (EXAM.replace('title = "Quiz"\n', ''), "title: missing required field"),
    (EXAM.replace("seed = 5", "seed = -5"), ":3: seed: expected a non-negative integer"),
    (EXAM.replace('label = "Q2"', 'label = "Q1"'), "duplicate label 'Q1'"),
])
def test_exam_errors_name_file_line_and_field(tmp_path, text, needle):
    exam = write(tmp_path / "quiz.toml", text)
    status, out, err = run_cli("build", "--exam", str(exam), "--out", str(tmp_path / "out"))
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"{exam}" in err and needle in err, err
    assert not (tmp_path / "out").exists()


def roster(tmp_path, rows="s1,Ada Lovelace,A\ns2,Émile Borel,B\ns3,Grace Hopper,A\n"):
    return write(tmp_path / "students.csv", "id,name,group\n" + rows)


def test_roster_gives_each_student_a_variant(tmp_path):
    exam = write(tmp_path / "quiz.toml", EXAM)
    secret = tmp_path / "keys" / "secret.key"
    out = tmp_path / "out"
    build("--exam", exam, "--roster", roster(tmp_path), "--secret", secret, "--out", out)
    for sid, name in (("s1", "Ada Lovelace"), ("s2", "Émile Borel"), ("s3", "Grace Hopper")):
        for kind in ("questions", "key"):
            text = (out / "students" / sid / f"{kind}.md").read_text()
            assert f"Student: {name} ({sid})" in text
    manifest = json.loads((out / "answers.json").read_text())
    assert [v["student"] for v in manifest["variants"]] == [None, "s1", "s2", "s3"]
    assert manifest["master_seed"] is None
    # the key file: created 0600, outside the output, its content in no output file
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    key_text = secret.read_text().strip()
    for path in out.rglob("*"):
        if path.is_file():
            assert key_text not in path.read_text(errors="replace")
    # same key and roster: same variants; a new key: new variants
    again = tmp_path / "again"
    build("--exam", exam, "--roster", roster(tmp_path), "--secret", secret, "--out", again)
    assert (again / "students/s2/key.md").read_bytes() == (out / "students/s2/key.md").read_bytes()
    other = tmp_path / "other"
    build("--exam", exam, "--roster", roster(tmp_path), "--secret", tmp_path / "new.key", "--out", other)
    params = lambda d: [p["params"] for v in json.loads((d / "answers.json").read_text())["variants"][1:]
                        for p in v["problems"]]
    assert params(other) != params(out)
    rows = list(csv.DictReader(io.StringIO((out / "answers.csv").read_text())))
    assert {r["student_id"] for r in rows} == {"", "s1", "s2", "s3"}


def test_secret_must_live_outside_output(tmp_path):
    exam = write(tmp_path / "quiz.toml", EXAM)
    status, _, err = run_cli("build", "--exam", str(exam), "--roster", str(roster(tmp_path)),
                             "--secret", str(tmp_path / "out" / "k.key"), "--out", str(tmp_path / "out"))
    assert status == 2 and "must not live inside the output folder" in err


@pytest.mark.parametrize("content,encoding,needle", [
    ("id,name\ns1,A\ns1,B\n", "utf-8", ":3: duplicate id 's1' (first on line 2)"),
    ("id,name\ns1,A\n,B\n", "utf-8", ":3: empty id"),
    ("id,fullname\ns1,A\n", "utf-8", ":1: missing column 'name'"),
    ("id,name\ns1,A\ns2,Zoë\n", "latin-1", ":3: not UTF-8"),
    ("id,name\ns1,A\ns 2,B\n", "utf-8", ":3: id 's 2' may hold only"),
    ("id,name\ns1,A,extra\n", "utf-8", ":2: expected 2 fields"),
])
def test_roster_errors_name_the_line(tmp_path, content, encoding, needle):
    exam = write(tmp_path / "quiz.toml", EXAM)
    bad = write(tmp_path / "r.csv", content, encoding)
    status, _, err = run_cli("build", "--exam", str(exam), "--roster", str(bad), "--secret",
                             str(tmp_path / "k.key"), "--out", str(tmp_path / "out"))
    assert status == 2 and err.count("\n") == 1 and needle in err, err
    assert not (tmp_path / "out").exists()


def test_roster_excludes_variants_and_seed(tmp_path):
    status, _, err = run_cli("build", "--roster", str(roster(tmp_path)), "--variants", "3")
    assert status == 2 and "--roster" in err


def test_no_two_variants_share_parameters(tmp_path):
    """A tiny parameter space (W, x in {±0.1, ±0.2, ±0.3}: 36 pairs, fewer with Wx != 0)
    forces repeats among 25 draws; the build redraws them."""
    exam = write(tmp_path / "tiny.toml", 'title = "t"\nvariants = 25\n[[problems]]\n'
                 'problem = "matrix_backprop"\noptions = { m = 1, n = 1, max_abs = 0.3 }\n')
    out = tmp_path / "out"
    build("--exam", exam, "--out", out)
    params = [json.dumps(v["problems"][0]["params"]) for v in
              json.loads((out / "answers.json").read_text())["variants"]]
    assert len(params) == 26 and len(set(params)) == 26
    status, _, err = run_cli("build", "--exam", str(exam), "--out", str(tmp_path / "o2"),
                             "--variants", "40", "--formats", "json")
    assert status == 2 and "no parameters left" in err


def test_answers_csv_flattens_every_entry(tmp_path):
    out = tmp_path / "out"
    build("--out", out, "--variants", "2")
    records = json.loads((out / "answers.json").read_text())["variants"]
    rows = list(csv.DictReader(io.StringIO((out / "answers.csv").read_text())))

    def count(x):
        return sum(count(e) for e in x) if isinstance(x, list) else 1
    assert len(rows) == sum(count(a["exact"]) for v in records for p in v["problems"]
                            for a in p["answers"].values())
    dw = [r for r in rows if r["variant"] == "canonical" and r["answer"] == "dL_dW"]
    assert [(r["entry"], r["exact"], float(r["value"])) for r in dw] == \
        [("1,1", "11/125", 0.088), ("1,2", "22/125", 0.176), ("2,1", "13/125", 0.104),
         ("2,2", "26/125", 0.208)]   # 2(Wx)xᵀ by hand, see test_matrix_backprop


def test_unchanged_rerun_does_nothing_and_says_so(tmp_path):
    exam = write(tmp_path / "quiz.toml", EXAM)
    out = tmp_path / "out"
    build("--exam", exam, "--out", out)
    key = out / "v001" / "key.md"
    stamp = key.stat().st_mtime_ns
    status, _, err = run_cli("build", "--exam", str(exam), "--out", str(out), "--formats", "md,json")
    assert status == 0 and "up to date" in err and key.stat().st_mtime_ns == stamp
    write(exam, EXAM.replace("points = 3", "points = 6"))             # the exam changed
    status, _, err = run_cli("build", "--exam", str(exam), "--out", str(out), "--formats", "md,json")
    assert "up to date" not in err and "6 points" in key.read_text()
    key.unlink()                                                       # a file went missing
    status, _, err = run_cli("build", "--exam", str(exam), "--out", str(out), "--formats", "md,json")
    assert "up to date" not in err and key.exists()


def test_no_progress_bar_when_not_a_terminal(tmp_path):
    status, _, err = run_cli("build", "--out", str(tmp_path / "o"), "--variants", "30",
                             "--formats", "md")
    assert status == 0 and "Building" not in err and err.count("\n") == 1


@pytest.mark.slow          # wsgen stress: many seeds of each problem
@pytest.mark.parametrize("problem_id", ["triplet_loss", "style_transfer_loss", "matrix_backprop",
                                        "logistic_regression", "activations", "regularization"])
def test_stress_reports_no_failures(problem_id):
    status, out, _ = run_cli("stress", problem_id, "-n", "300")
    assert status == 0
    assert f"{problem_id}: 300 draws, 300 checked and passed, 0 check failures" in out
    assert "repeated parameter sets:" in out and "redraws" in out
    if problem_id in ("triplet_loss", "style_transfer_loss"):
        line = next(l for l in out.splitlines() if "correct option by position" in l)
        counts = [int(x.split()[-1]) for x in line.split(":")[1].split(";")[0].split(",")]
        assert sum(counts) == 300 and min(counts) > 45        # 75 expected per position
        assert float(line.rsplit("p = ", 1)[1]) > 0.001


def test_stress_counts_check_failures(monkeypatch):
    from wsgen import CheckFailed, discover
    problem = discover().problems["triplet_loss"]

    def flaky(params, options, solution):
        if params.alpha == sympy_half:
            raise CheckFailed("injected")
    import sympy
    sympy_half = sympy.Rational(1, 2)
    monkeypatch.setattr(problem, "check", flaky)
    status, out, _ = run_cli("stress", "triplet_loss", "-n", "100")
    assert status == 1 and "FAILED seed" in out and "injected" in out
    assert " 0 check failures" not in out


def test_progress_bar_appears_on_a_terminal_after_a_second(monkeypatch):
    import io as _io

    import wsgen.cli as cli

    class Terminal(_io.StringIO):
        def isatty(self):
            return True
    fake = Terminal()
    clock = iter([0.0, 0.5, 1.5, 2.0, 2.5, 3.0, 3.5])
    monkeypatch.setattr(cli.sys, "stderr", fake)
    monkeypatch.setattr(cli.time, "monotonic", lambda: next(clock))
    progress = cli._Progress(10, enabled=True)
    progress(2)                                  # 0.5 s: too early for a bar
    assert fake.getvalue() == ""
    progress(3)                                  # 1.5 s: the bar appears, caught up to 5
    progress(5)
    progress.close()
    assert "Building" in fake.getvalue() and "100%" in fake.getvalue()
    quiet = cli._Progress(10, enabled=False)
    quiet(10)
    quiet.close()
