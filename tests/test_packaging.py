"""The wheel: built from the source tree without build isolation, installed with pip into a
folder of its own, and run from an empty folder, away from the sources.

The source tree is copied first, so the build's scratch files (build/, *.egg-info) never
land in the working tree."""
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import can_build_wheels

pytestmark = pytest.mark.packaging
PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]
# Top-level entries of the source tree that a build never needs.
_SKIP = {".git", ".venv", "output", "build", "dist", ".pytest_cache", "bench-output"}


def _ignore(folder, names):
    skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if Path(folder) == ROOT:
        skip |= _SKIP & set(names)
    return skip


def pip(*args, cwd=None):
    result = subprocess.run([PYTHON, "-m", "pip", *map(str, args), "--quiet",
                             "--disable-pip-version-check"],
                            cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    assert can_build_wheels(), (f"{PYTHON} cannot build a wheel without build isolation: "
                                "install setuptools>=70.1 in the environment")
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=_ignore, symlinks=True)
    pip("wheel", ".", "--no-deps", "--no-build-isolation", "--no-index", "-w", base / "dist",
        cwd=source)
    wheels = sorted((base / "dist").glob("wsgen-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    pip("install", "--no-deps", "--no-index", "--target", target, wheel)
    return target


def run(target: Path, cwd: Path, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(target)
    return subprocess.run([PYTHON, *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_wheel_holds_the_installed_layout(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("wsgen/__init__.py", "wsgen/__main__.py", "wsgen/cli.py", "wsgen/registry.py",
                 "wsgen/authoring.py", "wsgen/core/model.py", "wsgen/formats/markdown.py",
                 "wsgen/problems/__init__.py", "wsgen/problems/matrix_backprop.py",
                 "wsgen/problems/triplet_loss.py", "wsgen/templates/md/document.md.j2",
                 "wsgen/templates/tex/document.tex.j2", "wsgen/exam/default.toml",
                 "wsgen/templates/scaffold/new_problem.py"):
        assert name in names, name
    # every module of the engine, in every subpackage (pyproject.toml lists them by hand)
    for path in (ROOT / "generator").rglob("*.py"):
        if "__pycache__" not in path.parts:
            assert f"wsgen/{path.relative_to(ROOT / 'generator').as_posix()}" in names, path
    # every shipped problem module and template is there
    for path in (ROOT / "problems").glob("*.py"):
        assert f"wsgen/problems/{path.name}" in names
    for path in [*(ROOT / "templates").rglob("*.j2"), *(ROOT / "templates" / "scaffold").glob("*.py")]:
        assert f"wsgen/templates/{path.relative_to(ROOT / 'templates').as_posix()}" in names
    tops = {name.split("/", 1)[0] for name in names}
    assert not tops & {"generator", "problems", "templates", "tests", "exam"}, tops
    assert tops - {"wsgen"} == {f"wsgen-{importlib.metadata.version('wsgen')}.dist-info"}
    dist_info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(dist_info).decode("utf-8")
    assert "wsgen = wsgen.cli:entry_point" in entry_points
    assert "[wsgen.formats]" in entry_points and "md = wsgen.formats.markdown:MarkdownFormat" \
        in entry_points


def test_installed_wheel_runs_away_from_the_sources(installed, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()

    where = run(installed, empty, "-c", "import wsgen, wsgen.problems, wsgen.templates; "
                "print(wsgen.__file__); print(wsgen.problems.__file__); "
                "print(wsgen.templates.__file__)")
    assert where.returncode == 0, where.stderr
    for line in where.stdout.splitlines():
        assert Path(line).is_relative_to(installed), line        # not the source tree

    metadata = run(installed, empty, "-c", "import importlib.metadata as m; "
                   "print(m.version('wsgen'))")
    version = metadata.stdout.strip()
    assert metadata.returncode == 0 and version == importlib.metadata.version("wsgen")
    shown = run(installed, empty, "-m", "wsgen", "--version")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"wsgen, version {version}"

    listed = run(installed, empty, "-m", "wsgen", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    entries = {e["id"]: e for e in json.loads(listed.stdout)}
    from wsgen import discover
    shipped = {pid for pid, source in discover().sources.items() if source == "built-in"}
    assert set(entries) == shipped
    assert {e["source"] for e in entries.values()} == {"built-in"}

    key = run(installed, empty, "-m", "wsgen", "show", "matrix_backprop", "--canonical")
    assert key.returncode == 0, key.stderr
    assert "Backpropagation" in key.stdout and r"\begin{bmatrix}" in key.stdout

    built = run(installed, empty, "-m", "wsgen", "build", "--out", "out", "--formats", "md,json")
    assert built.returncode == 0, built.stderr
    out = empty / "out"
    for name in ("key.md", "questions.md"):
        assert (out / "canonical" / name).is_file(), name
    record = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    assert record["generator"] == f"wsgen {version}"
    assert [v["variant"] for v in record["variants"]][0] == "canonical"
    assert {p["problem"] for p in record["variants"][0]["problems"]} <= shipped
    assert sorted(p.name for p in empty.iterdir()) == ["out"]      # nothing else written
