"""The problem registry: problems register themselves; the registry checks them.

A problem is one module in problems/ holding one class decorated with
``@register``.  Loading imports every module of the package, then validates
each problem: required pieces present, id unique, options and parameters
declared as frozen dataclasses, and the canonical variant and the first seed
solving and passing their independent check.  Every error names the module.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any, ClassVar

from .errors import ProblemError
from .model import Solution, Step
from .options import check_ranges
from .rng import VariantRng

__all__ = ["CheckFailed", "NoCanonical", "Problem", "ProblemError", "Redraw", "get_problem", "load_problems",
           "register"]


class NoCanonical(ValueError):
    """Raised by `canonical` when the original exam's numbers do not fit these options
    (another matrix shape, say); a build then draws that slot from a fixed seed."""


class Redraw(Exception):
    """Raised by `generate` for a degenerate draw; the engine draws again."""


class CheckFailed(AssertionError):
    """The independent float64 check disagrees with the exact solution."""


class Problem:
    """Base class of a problem.  Subclasses set the class attributes and methods.

    id, title: identity; Options, Params: frozen dataclasses (Options fields have
    defaults; they are the problem's per-exam options).
    canonical(options) -> Params: the original exam's numbers.
    generate(rng, options) -> Params: a random draw (raise Redraw if degenerate).
    statement(params, options) -> tuple[Step, ...]: the question, nothing of the key.
    solve(params, options) -> Solution: exact, step by step.
    check(params, options, solution): an independent float64 recomputation;
    raise CheckFailed on disagreement.
    """

    id: ClassVar[str]
    title: ClassVar[str]
    Options: ClassVar[type]
    Params: ClassVar[type]
    max_redraws: ClassVar[int] = 100

    def canonical(self, options) -> Any:
        raise NotImplementedError

    def generate(self, rng: VariantRng, options) -> Any:
        raise NotImplementedError

    def statement(self, params, options) -> tuple[Step, ...]:
        raise NotImplementedError

    def solve(self, params, options) -> Solution:
        raise NotImplementedError

    def check(self, params, options, solution: Solution) -> None:
        raise NotImplementedError

    def validate_options(self, options) -> None:
        """Raise ValueError naming the options when they do not fit together.  (Each
        option's own range is declared with generator.option and checked by the engine.)"""


_PENDING: list[tuple[type, str]] = []
_LOADED: dict[str, dict[str, Problem]] = {}


def register(cls: type) -> type:
    """Class decorator: add a Problem subclass to the registry."""
    _PENDING.append((cls, cls.__module__))
    return cls


def _validate(cls: type, module: str, found: dict[str, Problem]) -> Problem:
    where = f"problem module {module}"
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise ProblemError(f"{where}: @register needs a subclass of generator.Problem")
    for attr in ("id", "title", "Options", "Params"):
        if not hasattr(cls, attr):
            raise ProblemError(f"{where}: missing class attribute {attr!r}")
    for attr in ("canonical", "generate", "statement", "solve", "check"):
        if getattr(cls, attr) is getattr(Problem, attr):
            raise ProblemError(f"{where}: missing method {attr}()")
    for attr in ("Options", "Params"):
        record = getattr(cls, attr)
        if not (dataclasses.is_dataclass(record) and record.__dataclass_params__.frozen):
            raise ProblemError(f"{where}: {attr} must be a frozen dataclass")
    if any(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
           for f in dataclasses.fields(cls.Options)):
        raise ProblemError(f"{where}: every option needs a default")
    if cls.id in found:
        raise ProblemError(f"{where}: duplicate problem id {cls.id!r} "
                           f"(also in {type(found[cls.id]).__module__})")
    try:
        check_ranges(cls.Options())
    except ValueError as exc:
        raise ProblemError(f"{where}: default option out of its own range: {exc}") from None
    problem = cls()
    from .variants import draw_variant  # the engine's own path, used for the self-test
    try:
        options = cls.Options()
        draw_variant(problem, options, seed=None)
        draw_variant(problem, options, seed=0)
    except Exception as exc:  # noqa: BLE001 - reported with the module's name
        raise ProblemError(f"{where}: self-test failed: {type(exc).__name__}: {exc}") from exc
    return problem


def load_problems(package: str = "problems") -> dict[str, Problem]:
    """Import every module of `package` and validate the problems they register."""
    if package in _LOADED:
        return _LOADED[package]
    pkg = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        name = f"{package}.{info.name}"
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001
            raise ProblemError(f"problem module {name}: import failed: "
                               f"{type(exc).__name__}: {exc}") from exc
    found: dict[str, Problem] = {}
    for cls, module in [p for p in _PENDING if p[1].startswith(package + ".")]:
        _PENDING.remove((cls, module))
        found[cls.id] = _validate(cls, module, found)
    _LOADED[package] = found
    return found


def get_problem(problem_id: str) -> Problem:
    problems = load_problems()
    if problem_id not in problems:
        raise KeyError(problem_id)
    return problems[problem_id]
