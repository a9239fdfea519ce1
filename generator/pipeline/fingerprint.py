"""A build's input fingerprint, computed without importing the heavy libraries.

It covers the exam file, the roster, the key (as a digest, never the key), the
command-line choices, wsgen's own code and templates, the source of every problem
the build may use (built-in and `wsgen.problems` entry points, each with its whole
top-level package; from a problem folder — the exam's `problem_paths`, `--problems` —
what the registry can load from it: its top-level modules, helpers starting with `_`
included, and the packages beside them, never the folders below that are not packages),
format plugins (`wsgen.formats`, likewise), and the versions of the libraries that
shape the documents.  A problem folder that cannot be listed is a UserError naming the
option or field that gave it.  When the output folder's manifest holds the same fingerprint and all
its files, unchanged, a build has nothing to do.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from pathlib import Path

from ..errors import UserError

__all__ = ["build_fingerprint", "problem_sources"]

_LIBRARIES = ("sympy", "mpmath", "numpy", "Jinja2", "PyLaTeX", "pikepdf", "latex2mathml", "lxml")
_SUFFIXES = (".py", ".j2", ".toml")


def _package_folders(name: str) -> list[Path]:
    spec = importlib.util.find_spec(name)
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [Path(p) for p in spec.submodule_search_locations]
    return [Path(spec.origin)] if spec.origin else []


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _SUFFIXES
                  and "__pycache__" not in p.parts)


def _folder_files(folder: Path, where: str, seen: set | None = None) -> list[Path]:
    """What the registry can load from a problem folder: its top-level modules (but tests)
    and, recursively, the packages in it (folders with an __init__.py).  A folder that does
    not exist gives nothing: loading the exam names it."""
    seen = set() if seen is None else seen
    real = os.path.realpath(folder)
    if real in seen or not os.path.isdir(folder):
        return []
    seen.add(real)
    found: list[Path] = []
    try:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            path = Path(entry.path)
            if entry.name == "__pycache__" or entry.name.startswith("test_"):
                continue
            if entry.is_file() and path.suffix in _SUFFIXES:
                found.append(path)
            elif entry.is_dir() and (path / "__init__.py").is_file():
                found += _folder_files(path, where, seen)
    except OSError as exc:
        raise UserError(f"{where}: cannot read the problem folder {exc.filename or folder}: "
                        f"{exc.strerror or exc}") from None
    return found


def problem_sources(problem_paths=()) -> list[Path]:
    """Every file whose change can change a build: wsgen's code and templates, the
    problem folders' modules, and the modules of installed problem plugins.
    `problem_paths`: folders, or a mapping folder -> how errors name it (the option or
    field that gave it)."""
    roots: list[Path] = []
    for package in ("wsgen", "wsgen.problems", "wsgen.templates"):
        roots += _package_folders(package)
    for group in ("wsgen.problems", "wsgen.formats"):
        for ep in importlib.metadata.entry_points(group=group):
            top = ep.module.split(".")[0]           # the whole package: its helpers count too
            try:
                roots += _package_folders(top)
            except (ImportError, ValueError):
                roots.append(Path(f"<missing {top}>"))
    files: dict[Path, None] = {}
    for root in roots:
        for path in _files(root):
            files[path.resolve()] = None
    wheres = problem_paths if isinstance(problem_paths, dict) else \
        {p: f"problem folder {p}" for p in problem_paths}
    for folder, where in wheres.items():
        for path in _folder_files(Path(folder), where):
            files[path.resolve()] = None
    return sorted(files)


def _versions() -> str:
    out = []
    for name in _LIBRARIES:
        try:
            out.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name}=?")
    return ",".join(out)


def build_fingerprint(version: str, exam_bytes: bytes, roster_bytes: bytes | None,
                      key: bytes | None, choices: dict, problem_paths=()) -> str:
    h = hashlib.sha256()
    for part in (version, _versions(), repr(sorted(choices.items()))):
        h.update(part.encode("utf-8") + b"\0")
    for path in problem_sources(problem_paths):
        try:
            content = path.read_bytes()
        except OSError:
            content = b"<unreadable>"
        h.update(str(path).encode("utf-8") + b"\0" + hashlib.sha256(content).digest())
    h.update(hashlib.sha256(exam_bytes).digest())
    h.update(hashlib.sha256(roster_bytes).digest() if roster_bytes is not None else b"-")
    h.update(hashlib.sha256(b"wsgen-key\0" + key).digest() if key is not None else b"-")
    return h.hexdigest()
