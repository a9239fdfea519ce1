"""Finding problems: the shipped ones, installed plugins, and instructors' folders.

Three sources, in this order; an id may come from one source only:

* built-in: every module of the package `wsgen.problems`;
* entry points: the group ``wsgen.problems``; each entry names a module (all the
  problems it registers with ``@register``) or one Problem class (``module:Class``);
* problem paths: every ``*.py`` file in each folder (from the exam file's
  ``problem_paths`` and ``--problems DIR``), except names starting with ``_`` or
  ``test_``.  Each file is imported under a name derived from its folder, so worker
  processes can import it again.

Each problem is validated when it loads: the pieces it must have and its options'
defaults inside their ranges; a caller may pass a check (the load-time self-test,
quality.selftest) that then runs once for each problem that is not built in.  A failure
is a ProblemError naming the source and the reason, in one line.  This module imports
nothing of drawing or rendering.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import importlib.util
import pkgutil
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable

from .core.problem import REQUIRED_METHODS, Problem, take_registered
from .core.settings import check_ranges
from .errors import ProblemError

__all__ = ["BUILTIN", "Registry", "discover", "path_module_name", "problem_files", "reason"]

BUILTIN = "wsgen.problems"
GROUP = "wsgen.problems"


@dataclass
class Registry:
    problems: dict[str, Problem] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)     # id -> "built-in", folder, dist
    files: dict[str, str] = field(default_factory=dict)       # id -> module file
    wheres: dict[str, str] = field(default_factory=dict)      # id -> how errors name it

    def add(self, problem: Problem, source: str, module_file: str) -> None:
        pid = problem.id
        if pid in self.problems:
            raise ProblemError(f"duplicate problem id {pid!r}: {self.sources[pid]} "
                               f"({self.files[pid]}) and {source} ({module_file})")
        self.problems[pid] = problem
        self.sources[pid] = source
        self.files[pid] = module_file

    def merge(self, other: "Registry") -> None:
        for pid, problem in other.problems.items():
            self.add(problem, other.sources[pid], other.files[pid])
            if pid in other.wheres:
                self.wheres[pid] = other.wheres[pid]


_CACHE: dict[tuple, Registry] = {}
_CHECKED: set[Problem] = set()     # problems whose check has passed in this process


def reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _validate(cls: type, where: str) -> Problem:
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise ProblemError(f"{where}: @register needs a subclass of wsgen.Problem")
    module = sys.modules.get(cls.__module__)
    for attr in ("Options", "Params"):
        # a problem's records may stay where the module declares them
        if not hasattr(cls, attr) and module is not None and isinstance(getattr(module, attr, None), type):
            setattr(cls, attr, getattr(module, attr))
    for attr in ("id", "title", "Options", "Params"):
        if not hasattr(cls, attr):
            raise ProblemError(f"{where}: missing class attribute {attr!r}"
                               + (" (or a module-level dataclass of that name)"
                                  if attr in ("Options", "Params") else ""))
    if not (isinstance(cls.id, str) and cls.id.isidentifier()):
        raise ProblemError(f"{where}: the id {cls.id!r} must be a Python identifier")
    for attr in REQUIRED_METHODS:
        if getattr(cls, attr) is getattr(Problem, attr):
            raise ProblemError(f"{where}: {cls.id}: missing method {attr}()")
    for attr in ("Options", "Params"):
        record = getattr(cls, attr)
        if not (dataclasses.is_dataclass(record) and record.__dataclass_params__.frozen):
            raise ProblemError(f"{where}: {cls.id}: {attr} must be a frozen dataclass")
    if any(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
           for f in dataclasses.fields(cls.Options)):
        raise ProblemError(f"{where}: {cls.id}: every option needs a default")
    try:
        check_ranges(cls.Options())
    except ValueError as exc:
        raise ProblemError(f"{where}: {cls.id}: default option out of its own range: {exc}") from None
    return cls()


def _import(name: str, where: str):
    try:
        with contextlib.redirect_stdout(sys.stderr):     # stdout carries JSON and keys
            return importlib.import_module(name)
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        raise ProblemError(f"{where}: import failed: {reason(exc)}") from None


def _module_file(module) -> str:
    return str(getattr(module, "__file__", "") or module.__name__)


def _add_module(registry: Registry, module, source: str) -> None:
    where = _module_file(module)
    for cls in take_registered(module.__name__):
        registry.add(_validate(cls, where), source, where)


def _builtin(registry: Registry) -> None:
    # The shipped problems pass the same self-test in the test suite (tests/test_problems.py
    # and the property tests run every registered problem); at every start it would only
    # cost each build seconds of SymPy derivations for problems it may not even use.
    package = importlib.import_module(BUILTIN)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        name = f"{BUILTIN}.{info.name}"
        _add_module(registry, _import(name, f"problem module {name}"), "built-in")


def _entry_point_problems(registry: Registry) -> None:
    for ep in sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        source = f"{ep.dist.name if ep.dist else 'entry point'} (entry point {ep.name})"
        where = f"entry point {ep.name} = {ep.value}"
        module = _import(ep.module, where)
        if ep.attr:
            cls = getattr(module, ep.attr, None)
            if cls is None:
                raise ProblemError(f"{where}: {ep.module} has no {ep.attr}")
            take_registered(module.__name__)
            registry.add(_validate(cls, where), source, _module_file(module))
            registry.wheres[cls.id] = where
        else:
            _add_module(registry, module, source)


def path_module_name(folder: Path, stem: str) -> str:
    digest = hashlib.sha256(str(folder).encode("utf-8")).hexdigest()[:10]
    return f"_wsgen_ext_{digest}_{stem}"


def problem_files(folder: Path) -> list[Path]:
    """The problem modules of a folder, in name order."""
    return sorted(p for p in folder.glob("*.py")
                  if not p.name.startswith(("_", "test_")) and p.is_file())


_FOLDERS: dict[str, Registry] = {}


def _path_problems(registry: Registry, folder: Path) -> None:
    found = _FOLDERS.get(str(folder))
    if found is None:
        found = Registry()
        if not folder.is_dir():
            raise ProblemError(f"problem path {folder}: not a folder")
        for path in problem_files(folder):
            name = path_module_name(folder, path.stem)
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    spec.loader.exec_module(module)
            except (Exception, SystemExit) as exc:  # noqa: BLE001
                del sys.modules[name]
                take_registered(name)
                raise ProblemError(f"{path}: import failed: {reason(exc)}") from None
            _add_module(found, module, str(folder))
        _FOLDERS[str(folder)] = found
    for pid, problem in found.problems.items():
        registry.add(problem, found.sources[pid], found.files[pid])


def discover(problem_paths=(), check: Callable[[Problem, str], None] | None = None) -> Registry:
    """Every problem: built-in, entry points, then the given folders (resolved paths).

    `check(problem, where)` runs once per process for each problem that is not built in
    (the load-time self-test, quality.selftest.selftest, is what the command line passes;
    the built-in problems pass it in the test suite instead, so a build does not pay for
    their derivations at every start)."""
    paths = tuple(str(Path(p).resolve()) for p in problem_paths)
    key = tuple(dict.fromkeys(paths))
    registry = _CACHE.get(key)
    if registry is None:
        registry = _load(key)
        _CACHE[key] = registry
    if check is not None:
        for pid, problem in registry.problems.items():
            if registry.sources[pid] != "built-in" and problem not in _CHECKED:
                check(problem, registry.wheres.get(pid, registry.files[pid]))
                _CHECKED.add(problem)
    return registry


def _load(key: tuple[str, ...]) -> Registry:
    registry = Registry()
    base = _CACHE.get(())
    if base is not None:
        registry.merge(base)
    else:
        _builtin(registry)
        _entry_point_problems(registry)
        _CACHE[()] = Registry()
        _CACHE[()].merge(registry)
    for folder in key:
        _path_problems(registry, Path(folder))
    return registry
