"""A format is a plugin: an installed distribution adds one through the `wsgen.formats`
entry-point group, and the CLI and the pipeline use it without knowing its name."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import install_distribution

pytestmark = pytest.mark.packaging

PYTHON = sys.executable

TOY = '''
"""A toy format: a one-line summary per sheet, and an index of the build."""
from wsgen.formats import Format, Rendered


class _Index:
    def __init__(self, build, staging):
        self.staging, self.lines = staging, [build.exam.title]

    def add(self, summary, data):
        self.lines.append(f"{summary.folder}: {data}")

    def finish(self):
        self.staging.write("toy-index.txt", "\\n".join(self.lines) + "\\n")


class ToyFormat(Format):
    name = "toy"
    description = "one line per sheet"

    def render(self, sheet, documents):
        blocks = len(documents["key"].blocks)
        return Rendered(files={"toy.txt": f"{sheet.variant_id} {blocks}\\n"}, data=blocks)

    def collector(self, build, staging):
        return _Index(build, staging)
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "wsgen-toy-format"
version = "1.0"

[project.entry-points."wsgen.formats"]
toy = "wsgen_toy_format:ToyFormat"

[tool.setuptools]
py-modules = ["wsgen_toy_format"]
'''


def install(tmp_path: Path) -> Path:
    return install_distribution(tmp_path, {"pyproject.toml": PYPROJECT,
                                           "wsgen_toy_format.py": textwrap.dedent(TOY)})


def wsgen(target: Path, cwd: Path, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(target)
    return subprocess.run([PYTHON, "-m", "wsgen", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_an_installed_format_builds_beside_the_built_in_ones(tmp_path):
    target = install(tmp_path)
    listed = wsgen(target, tmp_path, "formats")
    assert listed.returncode == 0 and "toy      one line per sheet" in listed.stdout
    assert [line.split()[0] for line in listed.stdout.splitlines()][:3] == ["md", "json", "pdf"]
    out = tmp_path / "out"
    result = wsgen(target, tmp_path, "build", "--variants", 2, "--formats", "md,toy", "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    # one file per sheet from render(), one build-wide file from the collector, in order
    assert (out / "v002" / "toy.txt").read_text().startswith("v002 ")
    index = (out / "toy-index.txt").read_text().splitlines()
    assert index[0] == "Deep Learning — Midterm Exam"
    assert [line.split(":")[0] for line in index[1:]] == ["canonical", "v001", "v002"]
    assert (out / "canonical" / "key.md").exists() and not (out / "answers.json").exists()


def test_a_broken_format_plugin_is_one_line(tmp_path):
    target = install(tmp_path)
    (target / "wsgen_toy_format.py").write_text("raise ImportError('no such backend')\n")
    result = wsgen(target, tmp_path, "build", "--variants", 0, "--formats", "toy", "--out", tmp_path / "o")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "format 'toy'" in result.stderr and "no such backend" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o").exists()
