"""Finding problems: the shipped ones, installed plugins, and instructors' folders.

Three sources, in this order; an id may come from one source only:

* built-in: every module of the package `wsgen.problems`;
* entry points: the group ``wsgen.problems``; each entry names a module (all the
  problems it registers with ``@register``) or one Problem class (``module:Class``);
* problem paths: every ``*.py`` file in each folder (from the exam file's
  ``problem_paths`` and ``--problems DIR``), except names starting with ``_`` or
  ``test_``.  Each file is imported under a name derived from its folder, so worker
  processes can import it again.

Each problem is validated and self-tested when it loads: the pieces it must have,
its options' defaults inside their ranges, the canonical variant (when it has one)
and seed 0 drawn, solved, checked, and rendered in every format.  A failure is a
ProblemError naming the source and the reason, in one line.
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

from .core.problem import REQUIRED_METHODS, NoCanonical, Problem, take_registered
from .core.settings import check_ranges
from .errors import ProblemError

__all__ = ["BUILTIN", "Registry", "discover", "path_module_name", "problem_files"]

BUILTIN = "wsgen.problems"
GROUP = "wsgen.problems"


@dataclass
class Registry:
    problems: dict[str, Problem] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)     # id -> "built-in", folder, dist
    files: dict[str, str] = field(default_factory=dict)       # id -> module file

    def add(self, problem: Problem, source: str, module_file: str) -> None:
        pid = problem.id
        if pid in self.problems:
            raise ProblemError(f"duplicate problem id {pid!r}: {self.sources[pid]} "
                               f"({self.files[pid]}) and {source} ({module_file})")
        self.problems[pid] = problem
        self.sources[pid] = source
        self.files[pid] = module_file


_CACHE: dict[tuple, Registry] = {}


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _validate(cls: type, where: str) -> Problem:
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise ProblemError(f"{where}: @register needs a subclass of wsgen.Problem")
    for attr in ("id", "title", "Options", "Params"):
        if not hasattr(cls, attr):
            raise ProblemError(f"{where}: missing class attribute {attr!r}")
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


def selftest(problem: Problem, where: str) -> None:
    """Draw the canonical variant (if any) and seed 0 at the default settings, check
    them, and render them in every registered format."""
    from .core.draw import draw_variant
    from .formats import FormatError, available_formats, get_format
    from .formats.document import KINDS, build_document
    from .formats.markup import check_variant_markup
    from .exam.spec import Exam, ExamItem, Sheet, SheetItem
    options = problem.Options()
    # A format plugin that cannot load is not this problem's fault: it fails, in one line,
    # when a build asks for it.
    formats = []
    for name in available_formats():
        try:
            formats.append(get_format(name))
        except FormatError:
            continue
    for seed in (None, 0):
        stage = "canonical variant" if seed is None else f"seed {seed}"
        try:
            variant = draw_variant(problem, options, seed)
        except NoCanonical:
            continue
        except Exception as exc:  # noqa: BLE001 - reported with the source's name
            raise ProblemError(f"{where}: {problem.id}: self-test failed ({stage}): "
                               f"{_reason(exc)}") from None
        try:
            check_variant_markup(variant)
            _check_parts(variant)
            exam = Exam(title=problem.title, course="", date="", instructions="", master_seed=0,
                        variants=0, items=(ExamItem("Q1", problem.id, 1, options),))
            sheet = Sheet(exam, "selftest", 0, (SheetItem("Q1", 1, variant),))
            documents = {kind: build_document(sheet, kind) for kind in KINDS}
            for fmt in formats:
                fmt.selftest(sheet, documents)
        except Exception as exc:  # noqa: BLE001
            raise ProblemError(f"{where}: {problem.id}: self-test failed ({stage}): "
                               f"{_reason(exc)}") from None


def _check_parts(variant) -> None:
    labels = [p.label for p in variant.parts]
    if len(set(labels)) != len(labels):
        raise ValueError(f"duplicate part labels {labels}")
    for answer in variant.solution.answers:
        if labels and answer.part not in labels:
            raise ValueError(f"answer {answer.name}: part {answer.part!r} is not one of {labels}")
        if answer.kind == "choice" and not answer.part:
            raise ValueError(f"answer {answer.name}: a choice answer must name its part")


def _import(name: str, where: str):
    try:
        with contextlib.redirect_stdout(sys.stderr):     # stdout carries JSON and keys
            return importlib.import_module(name)
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        raise ProblemError(f"{where}: import failed: {_reason(exc)}") from None


def _module_file(module) -> str:
    return str(getattr(module, "__file__", "") or module.__name__)


def _add_module(registry: Registry, module, source: str, validate: bool) -> None:
    where = _module_file(module)
    for cls in take_registered(module.__name__):
        problem = _validate(cls, where)
        registry.add(problem, source, where)
        if validate:
            selftest(problem, where)


def _builtin(registry: Registry, validate: bool) -> None:
    # The shipped problems pass the same self-test in the test suite (tests/test_problems.py
    # and the property tests run every registered problem); at every start it would only
    # cost each build seconds of SymPy derivations for problems it may not even use.
    package = importlib.import_module(BUILTIN)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        name = f"{BUILTIN}.{info.name}"
        _add_module(registry, _import(name, f"problem module {name}"), "built-in", validate=False)


def _entry_point_problems(registry: Registry, validate: bool) -> None:
    for ep in sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        source = f"{ep.dist.name if ep.dist else 'entry point'} (entry point {ep.name})"
        where = f"entry point {ep.name} = {ep.value}"
        module = _import(ep.module, where)
        if ep.attr:
            cls = getattr(module, ep.attr, None)
            if cls is None:
                raise ProblemError(f"{where}: {ep.module} has no {ep.attr}")
            take_registered(module.__name__)
            problem = _validate(cls, where)
            registry.add(problem, source, _module_file(module))
            if validate:
                selftest(problem, where)
        else:
            _add_module(registry, module, source, validate)


def path_module_name(folder: Path, stem: str) -> str:
    digest = hashlib.sha256(str(folder).encode("utf-8")).hexdigest()[:10]
    return f"_wsgen_ext_{digest}_{stem}"


def problem_files(folder: Path) -> list[Path]:
    """The problem modules of a folder, in name order."""
    return sorted(p for p in folder.glob("*.py")
                  if not p.name.startswith(("_", "test_")) and p.is_file())


_FOLDERS: dict[str, Registry] = {}


def _path_problems(registry: Registry, folder: Path, validate: bool) -> None:
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
                raise ProblemError(f"{path}: import failed: {_reason(exc)}") from None
            _add_module(found, module, str(folder), validate)
        _FOLDERS[str(folder)] = found
    for pid, problem in found.problems.items():
        registry.add(problem, found.sources[pid], found.files[pid])


def discover(problem_paths=(), validate: bool = True) -> Registry:
    """Every problem: built-in, entry points, then the given folders (resolved paths)."""
    paths = tuple(str(Path(p).resolve()) for p in problem_paths)
    key = tuple(dict.fromkeys(paths))
    if key in _CACHE:
        return _CACHE[key]
    registry = Registry()
    base = _CACHE.get(())
    if base is not None:
        registry.problems.update(base.problems)
        registry.sources.update(base.sources)
        registry.files.update(base.files)
    else:
        _builtin(registry, validate)
        _entry_point_problems(registry, validate)
        _CACHE[()] = Registry(dict(registry.problems), dict(registry.sources), dict(registry.files))
    for folder in key:
        _path_problems(registry, Path(folder), validate)
    _CACHE[key] = registry
    return registry
