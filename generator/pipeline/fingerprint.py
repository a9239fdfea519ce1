"""A build's input fingerprint, computed without importing the heavy libraries.

It covers the exam file, the roster, the key (as a digest, never the key), the
command-line choices, wsgen's own code and templates, the source of every problem
the build may use (built-in, the exam's `problem_paths`, `--problems` folders and
`wsgen.problems` entry points, each with its whole top-level package), format
plugins (`wsgen.formats`, likewise), and the versions of the libraries that shape the
documents.  When the output folder's manifest holds the same fingerprint and all
its files, unchanged, a build has nothing to do.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
from pathlib import Path

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


def problem_sources(problem_paths=()) -> list[Path]:
    """Every file whose change can change a build: wsgen's code and templates, the
    problem folders' modules, and the modules of installed problem plugins."""
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
    roots += [Path(p) for p in problem_paths]
    files: dict[Path, None] = {}
    for root in roots:
        for path in _files(root):
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
