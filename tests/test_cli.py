import json
import re

import pytest
import sympy as sp

from conftest import PROBLEM_HEAD, run_cli


def test_list_names_problems():
    status, out, _ = run_cli("list")
    assert status == 0 and re.search(r"^matrix_backprop\s+Backpropagation", out, re.M)


def test_show_json_contract():
    status, out, _ = run_cli("show", "matrix_backprop", "--canonical", "--format", "json")
    assert status == 0
    record = json.loads(out)
    assert list(record) == ["problem", "seed", "params", "answers", "mistakes", "grading"]
    assert record["problem"] == "matrix_backprop" and record["seed"] is None
    assert record["params"] == {"W": [[0.1, 0.5], [-0.3, 0.8]], "x": [0.2, 0.4]}
    assert set(record["answers"]) == {"Wx", "L", "dL_dW", "dL_dx", "dL_dW_formula", "dL_dx_formula"}
    # part (b)'s formulas: 2(Wx)xᵀ and 2Wᵀ(Wx), in the formula grammar, no number to compare
    assert (record["answers"]["dL_dW_formula"]["exact"], record["answers"]["dL_dx_formula"]["exact"]) \
        == ("2*(W*x)*x^T", "2*W^T*(W*x)")
    for answer in (a for a in record["answers"].values() if a["kind"] != "formula"):
        flat_exact = sp.flatten([answer["exact"]])
        flat_value = sp.flatten([answer["value"]])
        assert len(flat_exact) == len(flat_value)
        for e, v in zip(flat_exact, flat_value):
            assert float(sp.sympify(e)) == pytest.approx(v, rel=1e-15)
    assert record["answers"]["L"]["exact"] == "29/250"  # 0.116 by hand
    assert record["answers"]["dL_dW"]["value"] == [[0.088, 0.176], [0.104, 0.208]]
    # every answer declares its kind, tolerance, share of the points and part
    assert record["answers"]["dL_dW"]["kind"] == "matrix"
    assert record["answers"]["dL_dx"]["kind"] == "vector" and record["answers"]["L"]["kind"] == "number"
    assert record["answers"]["L"]["tolerance"] == {"abs": 1e-6, "rel": 1e-3}
    # and the rule wsgen grade applies (no exam: the answer's tolerance), its credit mode
    assert record["answers"]["L"]["rule"] == {"abs": 1e-6, "rel": 1e-3}
    assert record["answers"]["dL_dW"]["credit"] == "entries"
    assert record["grading"]["rounded_credit"] == 0.9 and record["grading"]["manual"] == []
    assert sum(a["points"] for a in record["answers"].values()) == pytest.approx(1)
    assert {m["id"] for m in record["mistakes"]} >= {"missing_factor_2", "norm_not_squared"}


def test_show_json_choice_answer_carries_its_options():
    """Canonical triplet options: no margin, correct, swapped, unsquared -> index 1, "B"."""
    status, out, _ = run_cli("show", "triplet_loss", "--canonical", "--format", "json")
    formula = json.loads(out)["answers"]["formula"]
    assert (formula["kind"], formula["value"], formula["exact"], formula["part"]) == ("choice", 1, "B", "(a)")
    assert len(formula["options"]) == 4 and r"+ \alpha" in formula["options"][1]
    no_margin = next(m for m in json.loads(out)["mistakes"] if m["id"] == "no_margin")
    # no margin: max(0.08 - 0.25, 0) = 0, and it is option A
    assert no_margin["answers"]["formula"] == {"value": 0, "exact": "A"}
    assert no_margin["answers"]["loss"]["value"] == 0


def test_show_markdown_names_the_seed():
    status, out, _ = run_cli("show", "matrix_backprop", "--seed", "77")
    assert status == 0 and "seed 77" in out and "$$" in out and r"\begin{bmatrix}" in out


def test_show_option_changes_shape():
    status, out, _ = run_cli("show", "matrix_backprop", "--seed", "3", "--format", "json",
                             "--option", "m=3", "--option", "n=1")
    assert status == 0
    W = json.loads(out)["params"]["W"]
    assert len(W) == 3 and all(len(row) == 1 for row in W)


@pytest.mark.parametrize("args,needle", [
    (("show", "no_such_problem", "--seed", "1"), "PROBLEM"),
    (("show", "matrix_backprop", "--seed", "-4"), "--seed"),
    (("show", "matrix_backprop", "--seed", "x"), "--seed"),
    (("show", "matrix_backprop", "--seed", "1", "--canonical"), "--canonical"),
    (("show", "matrix_backprop"), "--seed"),
    (("show", "matrix_backprop", "--seed", "1", "--format", "pdfx"), "--format"),
    (("show", "matrix_backprop", "--seed", "1", "--option", "m=99"), "--option"),
    (("show", "matrix_backprop", "--seed", "1", "--option", "bogus=1"), "bogus"),
    (("build", "--variants", "-1"), "--variants"),
    (("build", "--variants", "10000000"), "--variants"),
    (("build", "--seed", "1.5"), "--seed"),
    (("build", "--formats", "md,docx"), "--formats"),
    (("build", "--exam", "/nonexistent/exam.toml"), "exam.toml"),
    (("build", "--frobnicate"), "--frobnicate"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, args, needle):
    out_dir = tmp_path / "out"
    if args[0] == "build":
        args = args + ("--out", str(out_dir))
    status, out, err = run_cli(*args)
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("wsgen: error:") and needle in err
    assert "Traceback" not in err and out == ""
    assert not out_dir.exists()


def build(tmp_path, *extra, name="out"):
    out_dir = tmp_path / name
    status, _, err = run_cli("build", "--out", str(out_dir), "--quiet", *extra)
    assert status == 0, err
    return out_dir


def test_build_writes_sheets_keys_and_manifest(tmp_path):
    out_dir = build(tmp_path, "--variants", "4", "--seed", "11", "--formats", "md,json")
    variants = ["canonical", "v001", "v002", "v003", "v004"]
    for v in variants:
        assert (out_dir / v / "questions.md").is_file() and (out_dir / v / "key.md").is_file()
    manifest = json.loads((out_dir / "answers.json").read_text())
    assert manifest["master_seed"] == 11
    assert [v["variant"] for v in manifest["variants"]] == variants
    first = manifest["variants"][1]["problems"][0]
    assert first["problem"] == "triplet_loss" and isinstance(first["seed"], int)
    assert [p["label"] for p in first and manifest["variants"][1]["problems"]] == \
        ["Q1(a)", "Q1(b)", "Q2", "Q3", "Q4", "Q5"]
    key = (out_dir / "v001" / "key.md").read_text()
    for problem in manifest["variants"][1]["problems"]:
        assert f"`{problem['problem']}`, variant v001, seed {problem['seed']}" in key


def test_question_sheets_never_show_seeds(tmp_path):
    out_dir = build(tmp_path, "--variants", "5")
    manifest = json.loads((out_dir / "answers.json").read_text())
    for variant in manifest["variants"]:
        questions = (out_dir / variant["variant"] / "questions.md").read_text()
        assert "seed" not in questions.lower()
        for problem in variant["problems"]:
            if problem["seed"] is not None:
                assert str(problem["seed"]) not in questions


def test_same_seed_same_bytes_and_stale_files_removed(tmp_path):
    a = build(tmp_path, "--variants", "3", name="a")
    b = build(tmp_path, "--variants", "3", name="b")
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    build(tmp_path, "--variants", "1", name="a")
    assert not (a / "v003").exists() and (a / "v001" / "key.md").exists()


def test_failed_build_leaves_output_untouched(tmp_path):
    out_dir = build(tmp_path, "--variants", "1")
    before = {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\n[[problems]]\nproblem = "matrix_backprop"\noptions = { m = 0 }\n')
    status, _, err = run_cli("build", "--exam", str(bad), "--out", str(out_dir))
    assert status == 2 and "bad.toml:4" in err and "m must be" in err
    assert {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()} == before


def test_output_does_not_depend_on_hash_seed():
    """Fresh processes with different hash seeds print identical keys (no set/dict-order leaks)."""
    import os
    import subprocess
    import sys
    import tempfile
    ROOT = tempfile.mkdtemp()
    outs = []
    for hash_seed in ("0", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        outs.append(subprocess.run(
            [sys.executable, "-m", "wsgen", "show", "logistic_regression", "--seed", "5"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout)
        outs.append(subprocess.run(
            [sys.executable, "-m", "wsgen", "show", "style_transfer_loss", "--seed", "5"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout)
    assert outs[0] == outs[2] and outs[1] == outs[3] and "seed 5" in outs[0]


FAILING_PROBLEM = PROBLEM_HEAD + '''@register
class Flaky(Problem):
    id = "flaky"
    title = "Flaky"
    Options = Options
    Params = Params
    def generate(self, rng, o): return Params(sp.Rational(rng.integer(1, 9), 10))
    def statement(self, p, o): return (Part("(a)", "Double $a = @a$.", values={"a": p.a}),)
    def solve(self, p, o): return Solution((), (Answer("b", "b", 2 * p.a, part="(a)"),))
    def check(self, p, o, s):
        if p.a * 10 != GOOD:
            raise CheckFailed("b disagrees with the float64 path")
'''


def test_problem_failing_inside_a_build_is_exit_3_naming_slot_variant_seed(tmp_path):
    """The self-test draws seed 0 and passes (GOOD is seed 0's draw); in a build other seeds
    fail their check: one line, status 3, nothing written."""
    from wsgen.core.rng import VariantRng
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "flaky.py").write_text(FAILING_PROBLEM.replace("GOOD", str(VariantRng(0).integer(1, 9))))
    exam = tmp_path / "exam.toml"
    exam.write_text('title = "T"\nproblem_paths = ["mine"]\n[[problems]]\nlabel = "Q7"\nproblem = "flaky"\n')
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", exam, "--out", out, "--variants", 40, "--formats", "md,json", "-j", 1)
    assert status == 3 and err.count("\n") == 1 and "Traceback" not in err, err
    assert re.search(r"flaky in slot Q7, variant (canonical|v\d{3}), seed \d+: CheckFailed: independent check failed", err), err
    assert not out.exists()


def test_list_json_gives_settings_with_ranges():
    status, out, _ = run_cli("list", "--format", "json")
    problems = {p["id"]: p for p in json.loads(out)}
    assert status == 0 and problems["matrix_backprop"]["source"] == "built-in"
    # declared in problems/matrix_backprop.py as option(2, 1, 6)
    assert problems["matrix_backprop"]["options"]["m"] == {"type": "int", "default": 2, "min": 1, "max": 6}


@pytest.mark.parametrize("pair", ["slope=nan", "slope=inf"])
def test_non_finite_settings_are_refused(pair):
    status, _, err = run_cli("show", "activations", "--seed", "1", "--option", pair)
    assert status == 2 and "must be a finite number" in err and err.count("\n") == 1


def test_wide_matrix_backprop_exam_builds(tmp_path):
    exam = tmp_path / "wide.toml"
    exam.write_text('title = "W"\n[[problems]]\nproblem = "matrix_backprop"\n'
                    'options = { m = 6, n = 5, max_abs = 5, places = 2 }\n')
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "o", "--variants", 30,
                             "--formats", "md,json", "-q")
    assert status == 0, err


def test_csv_cells_cannot_run_as_formulas(tmp_path):
    import csv
    import io
    exam = tmp_path / "evil.toml"
    exam.write_text('title = "E"\n[[problems]]\nlabel = \'=HYPERLINK("http://x","y")\'\nproblem = "matrix_backprop"\n')
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "o", "--variants", 1,
                             "--formats", "json", "-q")
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO((tmp_path / "o" / "answers.csv").read_text())))
    assert {r["label"] for r in rows} == {'\'=HYPERLINK("http://x","y")'}
    assert any(r["exact"].startswith("-") for r in rows)    # computed values stay as they are


def test_problem_that_prints_at_import_keeps_stdout_clean(tmp_path):
    folder = tmp_path / "noisy"
    folder.mkdir()
    (folder / "flaky.py").write_text('print("HELLO FROM IMPORT")\n' + FAILING_PROBLEM.replace(
        "GOOD", "p.a * 10"))                          # a check that always passes
    status, out, _ = run_cli("list", "--format", "json", "--problems", folder)
    assert status == 0 and "flaky" in {p["id"] for p in json.loads(out)}


def test_problem_that_exits_inside_a_build_is_exit_3(tmp_path):
    from wsgen.core.rng import VariantRng
    folder = tmp_path / "exits"
    folder.mkdir()
    good = VariantRng(0).integer(1, 9)
    (folder / "flaky.py").write_text(FAILING_PROBLEM.replace(
        'raise CheckFailed("b disagrees with the float64 path")', "raise SystemExit(7)").replace(
        "GOOD", str(good)))
    exam = tmp_path / "exam.toml"
    exam.write_text('title = "T"\nproblem_paths = ["exits"]\n[[problems]]\nlabel = "Q1"\nproblem = "flaky"\n')
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "o", "--variants", 30,
                             "--formats", "md", "-j", 1)
    assert status == 3 and "flaky in slot Q1" in err and "SystemExit" in err and err.count("\n") == 1


def test_a_path_too_long_is_one_line_exit_2(tmp_path):
    status, _, err = run_cli("build", "--out", tmp_path / ("d" * 300), "--variants", 0, "--formats", "md")
    assert status == 2 and "too long" in err and err.count("\n") == 1


def test_fingerprint_covers_a_plugins_whole_package(monkeypatch):
    """An entry point names one module; the helpers beside it shape the build too."""
    import importlib.metadata
    import json as json_package
    from pathlib import Path

    import wsgen.pipeline.fingerprint as fingerprint

    class FakeEntryPoint:
        module = "json.decoder"
    real = importlib.metadata.entry_points
    monkeypatch.setattr(fingerprint.importlib.metadata, "entry_points",
                        lambda group=None: [FakeEntryPoint()] if group == "wsgen.formats"
                        else real(group=group))
    files = fingerprint.problem_sources()
    package = Path(json_package.__file__).resolve().parent
    assert package / "encoder.py" in files and package / "decoder.py" in files


# --- issue 28 ---------------------------------------------------------------------------

def test_every_build_has_an_id_decided_by_what_decides_its_answers(tmp_path):
    """Issue 28, item 2: the same inputs give the same id (rebuilds stay byte-identical);
    another seed, number of variants or slot gives another; the title changes no answer
    and not the id.  answers.json, every row of answers.csv and every sheet's header
    carry it."""
    import csv
    from pathlib import Path

    def build_id(exam_text: str, *args) -> tuple[str, Path]:
        folder = tmp_path / f"b{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        (folder / "exam.toml").write_text(exam_text)
        status, _, err = run_cli("build", "--exam", folder / "exam.toml", "--out", folder / "out",
                                 "--formats", "md,json", "-q", *args)
        assert status == 0, err
        return json.loads((folder / "out" / "answers.json").read_text())["build"], folder / "out"

    exam = ('title = "T"\nid = "t"\nseed = 3\nvariants = 2\n[[problems]]\nlabel = "Q1"\n'
            'problem = "matrix_backprop"\npoints = 4\n')
    first, out = build_id(exam)
    again, again_out = build_id(exam)
    assert re.fullmatch(r"[0-9a-f]{12}", first) and again == first
    files = lambda folder: [p.read_bytes() for p in sorted(folder.rglob("*.*"))
                            if not p.name.startswith(".wsgen")]          # the documents
    # answers.json, answers.csv, 3 × (questions.md, key.md): 8 documents, plus the
    # SVG files of the figures they link (one graph a key, one a question sheet)
    assert files(out) == files(again_out)
    assert len([p for p in out.rglob("*.*") if p.suffix != ".svg" and not p.name.startswith(".wsgen")]) == 8
    assert build_id(exam.replace('title = "T"', 'title = "Other title"'))[0] == first
    others = [build_id(exam, "--seed", "4")[0], build_id(exam, "--variants", "3")[0],
              build_id(exam.replace("points = 4", "points = 5"))[0],
              build_id(exam.replace('label = "Q1"', 'label = "Q2"'))[0],
              build_id(exam.replace('id = "t"', 'id = "u"'))[0],
              build_id(exam + "options = { m = 3 }\n")[0]]
    assert len({first, *others}) == 1 + len(others)
    with open(out / "answers.csv", newline="") as handle:
        assert {row["build"] for row in csv.DictReader(handle)} == {first}
    from wsgen.exam.load import load_exam
    from wsgen.formats.document import Header, build_document
    from wsgen.pipeline.sheets import BuildPlan, draw_sheet
    plan = BuildPlan(load_exam(out.parent / "exam.toml"), 2)
    assert plan.exam.build_id == first
    for kind in ("questions", "key"):
        header = build_document(draw_sheet(plan, 1), kind).blocks[0]
        assert isinstance(header, Header) and header.build_id == first


def test_a_secret_is_created_only_once_the_inputs_are_good(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns1,Ann\ns1,Bob\n")                       # a duplicate id
    status, _, err = run_cli("build", "--roster", roster, "--secret", tmp_path / "new.key",
                             "--out", tmp_path / "out", "--formats", "json", "-q")
    assert status == 2 and err.count("\n") == 1 and "duplicate id" in err
    assert not (tmp_path / "new.key").exists() and not (tmp_path / "out").exists()
    roster.write_text("id,name\ns1,Ann\ns2,Bob\n")
    status, _, err = run_cli("build", "--roster", roster, "--secret", tmp_path / "new.key",
                             "--out", tmp_path / "out", "--formats", "json", "-q")
    assert status == 0 and (tmp_path / "new.key").is_file()
    assert err.startswith(f"wsgen: warning: created a new roster secret {tmp_path / 'new.key'}")
    # the next build reads it silently, and finds nothing to do
    status, _, err = run_cli("build", "--roster", roster, "--secret", tmp_path / "new.key",
                             "--out", tmp_path / "out", "--formats", "json")
    assert status == 0 and "up to date" in err and "new roster secret" not in err


def test_the_fingerprint_reads_what_a_problem_folder_can_load(tmp_path):
    """Issue 28, item 7: `--problems /` walked the whole file system (rglob) and failed on
    /proc.  What the registry loads from a folder is its top-level modules and the
    packages in it; tests and folders that are not packages are not read."""
    from wsgen.pipeline.fingerprint import problem_sources
    folder = tmp_path / "problems"
    for rel in ("mine.py", "_helpers.py", "test_mine.py", "pkg/__init__.py", "pkg/util.py",
                "pkg/sub/__init__.py", "pkg/sub/deep.py", "data/x.py", "data/deep/y.py",
                "notes/__pycache__/z.py"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("# module\n")
    found = {str(p.relative_to(folder.resolve())) for p in problem_sources({str(folder): "--problems x"})
             if p.is_relative_to(folder.resolve())}
    assert found == {"mine.py", "_helpers.py", "pkg/__init__.py", "pkg/util.py",
                     "pkg/sub/__init__.py", "pkg/sub/deep.py"}


def test_an_unreadable_problem_folder_names_the_option(tmp_path, monkeypatch):
    import os
    folder = tmp_path / "problems"
    folder.mkdir()
    real_scandir = os.scandir

    def refusing(path="."):
        if os.fspath(path) == str(folder):
            raise PermissionError(13, "Permission denied", str(folder))
        return real_scandir(path)
    monkeypatch.setattr(os, "scandir", refusing)
    status, _, err = run_cli("build", "--problems", folder, "--out", tmp_path / "out",
                             "--variants", 0, "--formats", "json", "-q")
    assert status == 2 and err.count("\n") == 1 and f"--problems {folder}" in err
    assert "Permission denied" in err and not (tmp_path / "out").exists()


NOISY_PROBLEM = FAILING_PROBLEM.replace("GOOD", "p.a * 10").replace(
    "def solve(self, p, o): return",
    "def solve(self, p, o):\n        print('HELLO FROM SOLVE')\n        return")


def test_a_problem_that_prints_in_solve_keeps_stdout_clean(tmp_path):
    """Issue 28, item 22: a print() left in a plugin's solve corrupted `show --format json`
    and the silence of `build -q`; it goes to stderr."""
    folder = tmp_path / "noisy"
    folder.mkdir()
    (folder / "flaky.py").write_text(NOISY_PROBLEM)
    status, out, err = run_cli("show", "flaky", "--seed", 1, "--format", "json", "--problems", folder)
    assert status == 0 and json.loads(out)["problem"] == "flaky" and "HELLO FROM SOLVE" in err
    exam = tmp_path / "exam.toml"
    exam.write_text('title = "T"\nproblem_paths = ["noisy"]\n[[problems]]\nproblem = "flaky"\n')
    status, out, err = run_cli("build", "--exam", exam, "--out", tmp_path / "o", "--variants", 5,
                               "--formats", "md,json", "-q", "-j", 1)
    assert status == 0 and out == "" and "HELLO FROM SOLVE" in err, err
    status, out, _ = run_cli("stress", "flaky", "-n", 5, "--problems", folder)
    assert "HELLO" not in out


def test_workers_are_capped_by_cores_and_by_work(monkeypatch, tmp_path):
    """Issue 28, item 23: -j 64 on 2 cores started 64 workers, for 3 sheets too."""
    import os

    import wsgen.pipeline.run as run
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    seen = []
    real = run.run_build
    monkeypatch.setattr(run, "run_build", lambda *a, **k: seen.append(k["jobs"]) or real(*a, **k))
    status, _, err = run_cli("build", "--variants", 2, "-j", 64, "--out", tmp_path / "o",
                             "--formats", "json", "-q")
    assert status == 0 and seen == [1], err
    from wsgen.cli import worker_count
    # sheets go to workers in chunks of run.CHUNK (8): 3 sheets are one chunk, 1000 are 125
    assert run.CHUNK == 8
    assert worker_count(64, 3) == 1 and worker_count(None, 3) == 1
    assert worker_count(64, 1000) == 2 and worker_count(None, 1000) == 2
    assert worker_count(1, 1000) == 1 and worker_count(64, 9) == 2


def test_an_option_given_twice_is_refused():
    """Issue 28, item 24: `--option m=2 --option m=3` kept the last silently."""
    status, out, err = run_cli("show", "matrix_backprop", "--seed", 1, "--option", "m=2",
                               "--option", "m=3")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "--option" in err and "m given twice" in err
