"""`wsgen new`: a new problem module, and a test for it, that work as written.

`write_new_problem("my_problem", folder)` writes ``folder/my_problem.py`` (a short but
complete problem: the mean squared error of a linear model, its gradient and one
gradient-descent step) and ``folder/test_my_problem.py`` (pytest: the engine loads the
folder as a build would, and every answer is compared with a computation in plain
Python floats within a tolerance, the canonical answers exactly where they are
rational).  Both are copies of templates/scaffold/ with the id replaced.  The author then changes the numbers, the prose and the
computation, keeping the shape.  See docs/authoring.md.
"""
from __future__ import annotations

import keyword
import re
from importlib import resources
from pathlib import Path

from .errors import ProblemError, UserError

__all__ = ["problem_module", "problem_test", "write_new_problem"]

_ID = re.compile(r"[a-z_][a-z0-9_]*\Z")


def _class_name(problem_id: str) -> str:
    name = "".join(word.capitalize() for word in problem_id.split("_") if word)
    return name if name and name[0].isalpha() else f"Problem{name}"


def _check_id(problem_id: str) -> None:
    if not _ID.match(problem_id) or keyword.iskeyword(problem_id):
        raise UserError(f"{problem_id!r}: a problem id must be a lowercase Python identifier "
                        f"(letters a-z, digits and _, not starting with a digit), e.g. my_problem")
    if problem_id.startswith(("_", "test_")):
        raise UserError(f"{problem_id!r}: a problem id must not start with '_' or 'test_' "
                        f"(such files are not loaded as problems)")


def _known_elsewhere(problem_id: str) -> str | None:
    """The source of an installed problem (built in or a plugin) with this id, if any."""
    from .registry import discover
    try:
        registry = discover(())
    except ProblemError:    # a broken plugin is reported by the commands that load it
        return None
    return registry.sources.get(problem_id)


#: The scaffold: a real problem module and its test (package data, linted like any module),
#: whose id `new_problem` and class `NewProblem` are replaced by the new ones.
SCAFFOLD_ID, SCAFFOLD_CLASS = "new_problem", "NewProblem"


def _scaffold(name: str) -> str:
    return (resources.files("wsgen.templates") / "scaffold" / name).read_text(encoding="utf-8")


def problem_module(problem_id: str) -> str:
    """The text of a new problem module."""
    return (_scaffold(f"{SCAFFOLD_ID}.py").replace(SCAFFOLD_CLASS, _class_name(problem_id))
            .replace(SCAFFOLD_ID, problem_id))


def problem_test(problem_id: str) -> str:
    """The text of the pytest file for a new problem module."""
    return _scaffold(f"test_{SCAFFOLD_ID}.py").replace(SCAFFOLD_ID, problem_id)


def write_new_problem(problem_id: str, folder) -> list[Path]:
    """Write FOLDER/PROBLEM_ID.py and FOLDER/test_PROBLEM_ID.py; return their paths.

    Raises UserError (one line) for an id that is not a lowercase Python identifier, an
    id that an installed problem already has, a file that already exists, or a folder
    that cannot be written."""
    _check_id(problem_id)
    folder = Path(folder)
    source = _known_elsewhere(problem_id)
    if source is not None:
        raise UserError(f"{problem_id!r}: a problem with this id is already installed ({source}); "
                        f"choose another id")
    files = [(folder / f"{problem_id}.py", problem_module(problem_id)),
             (folder / f"test_{problem_id}.py", problem_test(problem_id))]
    for path, _ in files:
        if path.exists() or path.is_symlink():
            raise UserError(f"{path}: already exists; not overwritten (choose another id or "
                            f"remove the file)")
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, text in files:
            with open(path, "x", encoding="utf-8", newline="\n") as handle:
                written.append(path)
                handle.write(text)
    except OSError as exc:
        for path in written:        # all or nothing
            path.unlink(missing_ok=True)
        where = exc.filename or folder
        raise UserError(f"{where}: cannot write the new problem: {exc.strerror or exc}") from None
    return [path for path, _ in files]
