"""Shared fixtures: the registry, the in-process CLI, one-problem sheets."""
import contextlib
import io

import pytest


@pytest.fixture(scope="session")
def problems():
    from wsgen import discover
    return discover().problems


def run_cli(*args):
    """Run the CLI in-process; returns (exit status, stdout, stderr)."""
    from wsgen.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def one_item_sheet(variant, label="Q", points=1):
    """A sheet holding one problem variant."""
    from wsgen.exam.spec import Exam, ExamItem, Sheet, SheetItem
    exam = Exam("t", "", "", "", 0, 0, (ExamItem(label, variant.problem_id, points, variant.options),))
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
