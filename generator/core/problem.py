"""The problem contract: the base class a problem subclasses and the decorator that registers it.

A problem is one module holding one class decorated with ``@register``; the
engine (wsgen.registry) finds the module, validates the class and self-tests it.
"""
from __future__ import annotations

from typing import Any, ClassVar, Mapping

from .model import Mistake, Solution, Step

__all__ = ["CheckFailed", "NoCanonical", "Problem", "Redraw", "register"]


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
    defaults, declared with `option`; they are the problem's per-exam settings), set on the
    class or, when the class does not set them, the module's own `Options` and `Params`.
    canonical(options) -> Params: the original exam's numbers (optional: raise NoCanonical).
    generate(rng, options) -> Params: a random draw (raise Redraw if degenerate).
    statement(params, options) -> tuple of Step and Part: the question, nothing of the key.
    solve(params, options) -> Solution: exact, step by step.
    check(params, options, solution): an independent float64 recomputation;
    raise CheckFailed on disagreement.
    mistakes(params, options, solution) -> tuple[Mistake, ...]: what common mistakes give.
    follows, follow_through(params, given): how later answers follow from earlier ones, for
    grading's follow-through (optional; see `follow_through`).
    """

    id: ClassVar[str]
    title: ClassVar[str]
    Options: ClassVar[type]
    Params: ClassVar[type]
    max_redraws: ClassVar[int] = 100
    #: Follow-through: {later answer: the answers it is computed from}, its direct inputs
    #: (an answer may name itself: row t of an iteration from its row t − 1).
    follows: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def canonical(self, options) -> Any:
        raise NoCanonical(f"{self.id} has no canonical variant")

    def generate(self, rng, options) -> Any:
        raise NotImplementedError

    def statement(self, params, options) -> tuple[Step, ...]:
        raise NotImplementedError

    def solve(self, params, options) -> Solution:
        raise NotImplementedError

    def check(self, params, options, solution: Solution) -> None:
        raise NotImplementedError

    def mistakes(self, params, options, solution: Solution) -> tuple[Mistake, ...]:
        return ()

    def follow_through(self, params, given: Mapping[str, Any]) -> Mapping[str, Any]:
        """The answers named in `follows`, recomputed in float64 from the parameters and
        from `given`, so that grading can tell a later answer that is right for a student's
        own wrong earlier answer (error carried forward; grading/follow.py).

        params: the variant's parameters as answers.json holds them, by attribute
        (params.W): a matrix a 2-D float array, a vector a 1-D array, a number a float,
        anything else as the JSON has it.  given: every numeric answer by name, as the
        student wrote it where they did (the key's value elsewhere), in its shape (a
        number a float, a vector or list a 1-D array, a matrix a 2-D array).  Each
        answer returned must be computed from the parameters and `given[input]` for its
        inputs in `follows`, never from your own recomputation of an input, and in the
        answer's shape.  Runs on numbers students typed: a value may be anything finite."""
        return {}

    def validate_options(self, options) -> None:
        """Raise ValueError naming the options when they do not fit together.  (Each
        option's own range is declared with `option` and checked by the engine.)"""


REQUIRED_METHODS = ("generate", "statement", "solve", "check")

_PENDING: list[type] = []


def register(cls: type) -> type:
    """Class decorator: hand a Problem subclass to the engine, which validates it on load."""
    _PENDING.append(cls)
    return cls


def take_registered(module_name: str) -> list[type]:
    """The classes registered by one module since it was imported (removed from the queue)."""
    found = [cls for cls in _PENDING if cls.__module__ == module_name]
    for cls in found:
        _PENDING.remove(cls)
    return found
