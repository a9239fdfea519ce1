"""Shared fixtures (the registry, the in-process CLI, one-problem sheets) and the test tiers.

Tiers are pytest markers, declared here once with one policy:

* ``tex``: runs pdflatex and poppler-utils; ``browser``: runs headless Chromium;
  ``amc``: runs auto-multiple-choice; ``packaging``: builds wheels or installs with pip;
  ``slow``: sweeps many seeds or every corner of the settings, or builds, kills and
  rebuilds whole output folders.
* A test of a tier whose tool is missing is skipped with the reason, except under
  ``--require-tools`` (what ``make test`` and CI pass) or ``CI`` set in the environment:
  then it fails, so CI never hides a missing TeX or Chromium.
* ``make check`` runs the fast tier: every test of no tier.  ``make test`` runs
  everything.
"""
import contextlib
import io
import os
import shutil

import pytest

#: Tier -> (what it is, the programs it needs on PATH).
TIERS = {
    "tex": ("runs pdflatex and poppler-utils (pdftotext, pdftoppm, pdffonts)",
            ("pdflatex", "pdftotext", "pdftoppm", "pdffonts")),
    "browser": ("runs headless Chromium", ("chromium",)),
    "amc": ("runs auto-multiple-choice on scanned answer sheets", ("auto-multiple-choice", "pdftoppm")),
    "lms": ("runs Moodle's importer and Canvas's QTI import (validators/check-lms)", ("php",)),
    "packaging": ("builds wheels or installs packages with pip (slow)", ()),
    "slow": ("sweeps many seeds or every corner of the settings, or builds, kills and "
             "rebuilds whole output folders", ()),
}


def pytest_addoption(parser):
    parser.addoption("--require-tools", action="store_true",
                     help="fail (instead of skip) a test whose tier's program is missing")


def pytest_configure(config):
    for name, (what, _) in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {what}")


def pytest_runtest_setup(item):
    strict = item.config.getoption("--require-tools") or bool(os.environ.get("CI"))
    for marker in item.iter_markers():
        if marker.name not in TIERS:
            continue
        missing = [tool for tool in TIERS[marker.name][1] if shutil.which(tool) is None]
        if not missing:
            continue
        message = (f"{marker.name} test: {', '.join(missing)} not found "
                   "(`make setup` installs it)")
        if strict:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def problems():
    from wsgen import discover
    return discover().problems


@pytest.fixture
def fresh_derivations():
    """No cached derivation or recorded formula before or after the test (tests that
    corrupt a problem's formula)."""
    from wsgen import clear_derivations
    clear_derivations()
    yield
    clear_derivations()


def run_cli(*args):
    """Run the CLI in-process; returns (exit status, stdout, stderr)."""
    from wsgen.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def one_item_sheet(variant, label="Q", points=1, key="instructor"):
    """A sheet holding one problem variant (its key for `key`: "instructor", everything, or
    "student")."""
    from wsgen.exam.spec import Exam, ExamItem, Sheet, SheetItem
    exam = Exam("t", "", "", "", 0, 0, (ExamItem(label, variant.problem_id, points, variant.options),),
                key=key)
    return Sheet(exam, "v", 1, (SheetItem(label, points, variant),))


def render_variant(variant, kind, markup="md"):
    """The question sheet or key of one variant, as Markdown (or LaTeX)."""
    from wsgen.formats.document import build_document
    from wsgen.formats.templating import render_document
    return render_document(build_document(one_item_sheet(variant), kind), markup, anchor="v1")


def can_build_wheels() -> bool:
    """Whether this Python can build a wheel without build isolation (setuptools 70.1 or
    later has bdist_wheel; an older one needs the `wheel` package)."""
    import importlib.metadata
    import importlib.util
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    major, minor = (int(x) for x in version.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


#: The start of a small problem module for tests: imports, one setting, one parameter.
PROBLEM_HEAD = """
from dataclasses import dataclass
import sympy as sp
from wsgen import Answer, CheckFailed, NoCanonical, Part, Problem, Solution, Step, register

@dataclass(frozen=True)
class Options:
    k: int = 1

@dataclass(frozen=True)
class Params:
    a: sp.Rational

"""


def install_distribution(tmp_path, files: dict) -> "Path":
    """A small distribution (its pyproject.toml and modules, by file name) installed with
    pip into a private folder: put that folder on PYTHONPATH to use its entry points."""
    import subprocess
    import sys
    from pathlib import Path
    assert can_build_wheels(), (f"{sys.executable} cannot build a wheel without build "
                                "isolation: install setuptools>=70.1 (make setup does)")
    dist = Path(tmp_path) / "dist"
    dist.mkdir()
    for name, text in files.items():
        (dist / name).write_text(text, encoding="utf-8")
    target = Path(tmp_path) / "site"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                             "--no-build-isolation", "--disable-pip-version-check", "--no-index",
                             "--target", str(target), str(dist)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def shipped_helpers(problem_id: str):
    """(problem, module, canonical) for a shipped problem's tests: the problem from the
    registry, its module, and its canonical variant, each looked up when called."""
    import sys
    from wsgen import discover, draw_variant

    def problem():
        return discover().problems[problem_id]

    def module():
        return sys.modules[type(problem()).__module__]

    def canonical():
        p = problem()
        return draw_variant(p, p.Options(), None)

    return problem, module, canonical


#: The two slots of the small exams the grading tests build (matrix_backprop 2 x 2 for 10
#: points, triplet_loss in 2 dimensions for 5), after each test's own header.
TWO_SLOTS = """
[[problems]]
label = "Q1"
problem = "matrix_backprop"
points = 10
options = { m = 2, n = 2 }

[[problems]]
label = "Q2"
problem = "triplet_loss"
points = 5
options = { dim = 2 }
"""


def load_script(name: str):
    """A module of scripts/ (not a package), loaded from its file for the tests."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
