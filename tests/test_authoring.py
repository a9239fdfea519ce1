"""Writing problems outside the package: `wsgen new`, problem folders (`--problems`, the
exam's `problem_paths`), installed plugins (entry points), and the load-time errors an
author meets.

The registry caches the folders it has loaded for the life of a process, so every test
writes its problems to its own temporary folder."""
import contextlib
import importlib.metadata
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import install_distribution

from wsgen.authoring import problem_module, write_new_problem
from wsgen.errors import UserError

PYTHON = sys.executable
SHIPPED = "matrix_backprop"


def run_cli(*args):
    """The CLI in-process: (exit status, stdout, stderr)."""
    from wsgen.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def write_exam(path: Path, problems, problem_paths=None, variants=2) -> Path:
    lines = ['title = "Authoring test"', "seed = 7", f"variants = {variants}"]
    if problem_paths is not None:
        lines.append("problem_paths = [" + ", ".join(f'"{p}"' for p in problem_paths) + "]")
    for i, pid in enumerate(problems):
        lines += ["", "[[problems]]", f'label = "Q{i + 1}"', f'problem = "{pid}"', "points = 5"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def built_problems(out: Path) -> dict:
    """{problem id: answers of its canonical variant} from a build's answers.json."""
    record = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    canonical = next(v for v in record["variants"] if v["variant"] == "canonical")
    assert len(record["variants"]) == 3          # canonical and two random variants
    return {p["problem"]: p["answers"] for p in canonical["problems"]}


# --- wsgen new, list, build ----------------------------------------------------------------

def test_new_problem_lists_builds_and_passes_its_own_test(tmp_path):
    folder = tmp_path / "mine"
    status, out, err = run_cli("new", "demo_mse", "--dir", folder)
    assert status == 0, err
    assert out.splitlines() == [f"wrote {folder / 'demo_mse.py'}",
                                f"wrote {folder / 'test_demo_mse.py'}"]

    status, out, err = run_cli("list", "--problems", folder)
    assert status == 0, err
    listed = dict(line.split(None, 1) for line in out.splitlines())
    assert listed["demo_mse"] == "Mean squared error of a linear model and its gradient"
    assert SHIPPED in listed
    assert not any(name.startswith("test_") for name in listed)   # the test file is no problem

    status, out, err = run_cli("list", "--format", "json", "--problems", folder)
    assert status == 0, err
    entries = {e["id"]: e for e in json.loads(out)}
    assert entries["demo_mse"] == {
        "id": "demo_mse", "title": "Mean squared error of a linear model and its gradient",
        "source": str(folder.resolve()),
        "options": {"m": {"type": "int", "default": 3, "min": 2, "max": 6},
                    "d": {"type": "int", "default": 2, "min": 1, "max": 4},
                    "places": {"type": "int", "default": 1, "min": 1, "max": 2}}}
    assert entries[SHIPPED]["source"] == "built-in"

    exam = write_exam(tmp_path / "exam.toml", ["demo_mse", SHIPPED])
    out_dir = tmp_path / "out"
    status, _, err = run_cli("build", "--problems", folder, "--exam", exam, "--out", out_dir,
                             "--formats", "md,json")
    assert status == 0, err
    answers = built_problems(out_dir)
    assert set(answers) == {"demo_mse", SHIPPED}
    assert answers["demo_mse"]["loss"]["exact"] == "49/48"       # the canonical numbers
    assert answers["demo_mse"]["grad"]["part"] == "(c)"
    key = (out_dir / "canonical" / "key.md").read_text(encoding="utf-8")
    assert "Mean squared error of a linear model" in key and r"\frac{49}{48}" in key

    # The generated test runs as written, from its own folder.
    result = subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "test_demo_mse.py"], cwd=folder, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout


def test_generated_test_catches_a_wrong_answer(tmp_path):
    """The generated test is independent of the module: a changed answer fails it."""
    folder = tmp_path / "mine"
    write_new_problem("wrong_mse", folder)
    module = folder / "wrong_mse.py"
    text = module.read_text(encoding="utf-8")
    # a wrong learning-rate step, consistent with the module's own check: only the
    # generated test's independent computation can see it
    wrong = "update = [shown_difference(w[j], shown_product(2 * eta, grad[j]))"
    assert text.count("update = [shown_difference(w[j], shown_product(eta, grad[j]))") == 1
    text = text.replace("update = [shown_difference(w[j], shown_product(eta, grad[j]))", wrong)
    text = text.replace("w - eta * grad, atol", "w - 2 * eta * grad, atol")
    module.write_text(text, encoding="utf-8")
    result = subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "test_wrong_mse.py"], cwd=folder, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "failed" in result.stdout and "w_new" in result.stdout


@pytest.mark.parametrize("bad", ["Demo", "demo-mse", "1demo", "demo mse", "", "class",
                                 "test_demo", "_demo", "démo"])
def test_new_refuses_a_bad_id(tmp_path, bad):
    status, out, err = run_cli("new", bad, "--dir", tmp_path)
    assert status == 2 and out == ""
    line = one_error_line(err)
    assert repr(bad) in line
    assert list(tmp_path.iterdir()) == []


def test_new_refuses_an_installed_id_and_existing_files(tmp_path):
    status, _, err = run_cli("new", "triplet_loss", "--dir", tmp_path)
    assert status == 2 and "built-in" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []

    assert write_new_problem("twice", tmp_path) == [tmp_path / "twice.py",
                                                   tmp_path / "test_twice.py"]
    before = (tmp_path / "twice.py").read_text(encoding="utf-8")
    status, _, err = run_cli("new", "twice", "--dir", tmp_path)
    assert status == 2 and "already exists" in one_error_line(err)
    assert str(tmp_path / "twice.py") in err
    assert (tmp_path / "twice.py").read_text(encoding="utf-8") == before

    # only the test file exists: still refused, and nothing is written
    (tmp_path / "other.py").unlink(missing_ok=True)
    (tmp_path / "test_other.py").write_text("# mine\n", encoding="utf-8")
    with pytest.raises(UserError, match="test_other.py: already exists"):
        write_new_problem("other", tmp_path)
    assert not (tmp_path / "other.py").exists()
    assert (tmp_path / "test_other.py").read_text(encoding="utf-8") == "# mine\n"


def test_new_into_an_unwritable_place_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="cannot write the new problem"):
        write_new_problem("demo", blocker / "sub")


# --- problem folders from the exam file -----------------------------------------------------

def test_exam_problem_paths_are_relative_to_the_exam_file(tmp_path, monkeypatch):
    course = tmp_path / "exams"
    write_new_problem("course_mse", course / "course" / "problems")
    exam = write_exam(course / "midterm.toml", [SHIPPED, "course_mse"],
                      problem_paths=["course/problems"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)          # not relative to the working folder
    status, _, err = run_cli("build", "--exam", exam, "--out", "out", "--formats", "md,json")
    assert status == 0, err
    answers = built_problems(elsewhere / "out")
    assert set(answers) == {SHIPPED, "course_mse"}
    assert answers["course_mse"]["loss"]["exact"] == "49/48"

    # without problem_paths the same exam does not know the problem
    plain = write_exam(course / "plain.toml", [SHIPPED, "course_mse"])
    status, _, err = run_cli("build", "--exam", plain, "--out", "out2", "--formats", "md")
    assert status == 2 and "unknown problem 'course_mse'" in one_error_line(err)


def test_exam_problem_path_that_is_not_a_folder(tmp_path):
    exam = write_exam(tmp_path / "exam.toml", [SHIPPED], problem_paths=["nowhere"])
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "out", "--formats", "md")
    assert status == 2
    line = one_error_line(err)
    assert "problem_paths[1]" in line and "'nowhere'" in line and str(exam) in line


# --- load-time errors ---------------------------------------------------------------------

def test_the_same_id_from_two_folders_names_both(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    write_new_problem("dup_mse", first)
    write_new_problem("dup_mse", second)
    status, out, err = run_cli("list", "--problems", first, "--problems", second)
    assert status == 2 and out == ""
    line = one_error_line(err)
    assert "duplicate problem id 'dup_mse'" in line
    assert str(first.resolve()) in line and str(second.resolve()) in line


def test_an_id_that_a_shipped_problem_has_names_both(tmp_path):
    (tmp_path / "mine.py").write_text(
        problem_module("mine").replace('id = "mine"', f'id = "{SHIPPED}"'), encoding="utf-8")
    status, _, err = run_cli("list", "--problems", tmp_path)
    assert status == 2
    line = one_error_line(err)
    assert f"duplicate problem id '{SHIPPED}'" in line
    assert "built-in" in line and str(tmp_path / "mine.py") in line


@pytest.mark.parametrize("source, reason", [
    ("import wsgen_no_such_module\n", "ModuleNotFoundError"),
    ("def broken(:\n    pass\n", "SyntaxError"),
    ("raise RuntimeError('boom\\nsecond line')\n", "RuntimeError: boom second line"),
])
def test_a_module_that_fails_to_import_is_one_line(tmp_path, source, reason):
    write_new_problem("fine_mse", tmp_path)
    (tmp_path / "broken.py").write_text(source, encoding="utf-8")
    status, out, err = run_cli("list", "--problems", tmp_path)
    assert status == 2 and out == ""
    line = one_error_line(err)
    assert str(tmp_path / "broken.py") in line and "import failed" in line and reason in line


def test_a_placeholder_typo_fails_at_load_naming_problem_step_and_placeholder(tmp_path):
    write_new_problem("typo_mse", tmp_path)
    module = tmp_path / "typo_mse.py"
    text = module.read_text(encoding="utf-8")
    assert text.count(r"$\eta = @eta$") == 1
    module.write_text(text.replace(r"$\eta = @eta$", r"$\eta = @etaa$"), encoding="utf-8")
    status, out, err = run_cli("list", "--problems", tmp_path)     # no build: at load
    assert status == 2 and out == ""
    line = one_error_line(err)
    assert "typo_mse" in line and "(d)" in line and "@etaa" in line
    assert str(module) in line


def test_a_problem_failing_its_own_check_fails_at_load(tmp_path):
    write_new_problem("bad_check", tmp_path)
    module = tmp_path / "bad_check.py"
    text = module.read_text(encoding="utf-8")
    module.write_text(text.replace("loss_of = lambda v: float(np.mean(",
                                   "loss_of = lambda v: 1 + float(np.mean("), encoding="utf-8")
    status, _, err = run_cli("list", "--problems", tmp_path)
    assert status == 2
    line = one_error_line(err)
    assert "bad_check" in line and "independent check failed" in line and "loss" in line


# --- rebuilds -------------------------------------------------------------------------------

def test_editing_an_external_module_makes_the_next_build_rebuild(tmp_path):
    folder = tmp_path / "mine"
    write_new_problem("edit_mse", folder)
    exam = write_exam(tmp_path / "exam.toml", [SHIPPED, "edit_mse"])
    args = ("build", "--problems", folder, "--exam", exam, "--out", tmp_path / "out",
            "--formats", "md,json")
    status, _, err = run_cli(*args)
    assert status == 0 and "up to date" not in err and "variants" in err, err
    status, _, err = run_cli(*args)
    assert status == 0 and "up to date" in err, err

    module = folder / "edit_mse.py"
    module.write_text(module.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    status, _, err = run_cli(*args)
    assert status == 0 and "up to date" not in err and "variants" in err, err
    status, _, err = run_cli(*args)
    assert status == 0 and "up to date" in err, err


# --- an installed plugin (entry points) -------------------------------------------------------

PLUGIN_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "wsgen-demo-plugin"
version = "1.2.3"

[project.entry-points."wsgen.problems"]
plugin_module = "wsgen_demo_plugin"
plugin_class = "wsgen_demo_class:PluginClassMse"

[tool.setuptools]
py-modules = ["wsgen_demo_plugin", "wsgen_demo_class"]
"""


def subprocess_env(pythonpath: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(pythonpath)
    return env


@pytest.mark.packaging
def test_an_installed_plugin_is_listed_and_builds(tmp_path):
    target = install_distribution(tmp_path, {
        "pyproject.toml": PLUGIN_PYPROJECT,
        "wsgen_demo_plugin.py": problem_module("plugin_mse"),
        "wsgen_demo_class.py": problem_module("plugin_class_mse")})
    assert (target / "wsgen_demo_plugin.py").is_file()

    cwd = tmp_path / "work"
    cwd.mkdir()
    env = subprocess_env(target)

    def wsgen(*args):
        return subprocess.run([PYTHON, "-m", "wsgen", *map(str, args)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=300)

    listed = wsgen("list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    entries = {e["id"]: e for e in json.loads(listed.stdout)}
    assert entries["plugin_mse"]["source"] == "wsgen-demo-plugin (entry point plugin_module)"
    assert entries["plugin_class_mse"]["source"] == "wsgen-demo-plugin (entry point plugin_class)"
    assert entries[SHIPPED]["source"] == "built-in"

    exam = write_exam(cwd / "exam.toml", ["plugin_mse", SHIPPED, "plugin_class_mse"])
    built = wsgen("build", "--exam", exam.name, "--out", "out", "--formats", "md,json")
    assert built.returncode == 0, built.stderr
    answers = built_problems(cwd / "out")
    assert set(answers) == {"plugin_mse", SHIPPED, "plugin_class_mse"}
    assert answers["plugin_mse"]["loss"]["exact"] == "49/48"

    again = wsgen("build", "--exam", exam.name, "--out", "out", "--formats", "md,json")
    assert again.returncode == 0 and "up to date" in again.stderr, again.stderr
    # the plugin's source is part of the build's inputs
    module = target / "wsgen_demo_plugin.py"
    module.write_text(module.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    rebuilt = wsgen("build", "--exam", exam.name, "--out", "out", "--formats", "md,json")
    assert rebuilt.returncode == 0 and "up to date" not in rebuilt.stderr, rebuilt.stderr
