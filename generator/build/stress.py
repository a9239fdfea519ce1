"""`wsgen stress`: draw one problem many times and report what a reviewer should see.

Ranges of parameters and answers, repeated parameter sets, the redraw
(rejection) rate, independent-check failures, and for multiple choice how often
each position holds the correct option (with a chi-square test of uniformity).
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

import mpmath

from ..core.model import Choices
from ..formats.document import choice_letter
from ..core.printing import float_value
from ..core.problem import Problem
from ..core.draw import draw_variant

__all__ = ["StressReport", "stress"]


def _numbers(value) -> list[float]:
    if isinstance(value, (Choices, str)):
        return []
    flat = float_value(value)
    out: list[float] = []
    stack = [flat]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            out.append(float(item))
    return out


@dataclass
class StressReport:
    problem_id: str
    draws: int
    check_failures: list[str] = field(default_factory=list)
    redraws: int = 0
    duplicates: int = 0
    params: dict[str, list[float]] = field(default_factory=dict)      # name -> [min, max]
    answers: dict[str, list[float]] = field(default_factory=dict)
    positions: Counter = field(default_factory=Counter)
    property_failures: list[str] = field(default_factory=list)
    property_seeds: int = 0

    def _widen(self, table, name, values):
        if values:
            lo, hi = table.get(name, [min(values), max(values)])
            table[name] = [min(lo, *values), max(hi, *values)]

    def uniformity_p(self) -> float | None:
        """p-value of the chi-square test that every position is equally likely."""
        if not self.positions:
            return None
        k = 1 + max(self.positions)
        n = sum(self.positions.values())
        chi2 = sum((self.positions.get(i, 0) - n / k) ** 2 / (n / k) for i in range(k))
        return float(mpmath.gammainc((k - 1) / 2, chi2 / 2, mpmath.inf, regularized=True))

    def lines(self) -> list[str]:
        ok = self.draws - len(self.check_failures)
        out = [f"{self.problem_id}: {self.draws} draws, {ok} checked and passed, "
               f"{len(self.check_failures)} check failures",
               f"  redraws (rejected draws): {self.redraws} "
               f"({self.redraws / max(1, self.redraws + self.draws):.1%} of all draws)",
               f"  repeated parameter sets: {self.duplicates}"]
        for title, table in (("parameters", self.params), ("answers", self.answers)):
            out.append(f"  {title}:")
            out += [f"    {name:<14} {lo:>12.6g} .. {hi:<12.6g}" for name, (lo, hi) in table.items()]
        if self.positions:
            k = 1 + max(self.positions)
            counts = ", ".join(f"{choice_letter(i)} {self.positions.get(i, 0)}" for i in range(k))
            out.append(f"  correct option by position: {counts}; chi-square uniformity "
                       f"p = {self.uniformity_p():.3f}")
        if self.property_seeds:
            out.append(f"  properties (reproducible, JSON round trip, nothing of the key on the "
                       f"question sheet) over {self.property_seeds} seeds: "
                       f"{len(self.property_failures)} failures")
        out += [f"  FAILED {msg}" for msg in self.check_failures[:10]]
        out += [f"  FAILED {msg}" for msg in self.property_failures[:10]]
        return out

    @property
    def failed(self) -> bool:
        return bool(self.check_failures or self.property_failures)


def stress(problem: Problem, options, count: int, first_seed: int = 0) -> StressReport:
    report = StressReport(problem.id, count)
    seen: set[str] = set()
    for seed in range(first_seed, first_seed + count):
        try:
            variant = draw_variant(problem, options, seed)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            report.check_failures.append(f"seed {seed}: {type(exc).__name__}: {exc}")
            continue
        report.redraws += variant.redraws
        signature = repr(variant.params)
        report.duplicates += signature in seen
        seen.add(signature)
        for f in dataclasses.fields(variant.params):
            report._widen(report.params, f.name, _numbers(getattr(variant.params, f.name)))
        for answer in variant.solution.answers:
            if answer.kind == "choice":
                report.positions[answer.correct_index] += 1
            else:
                report._widen(report.answers, answer.name, _numbers(answer.value))
    from .properties import property_failures
    seeds = range(first_seed, first_seed + min(count, 50))
    report.property_seeds = len(seeds)
    report.property_failures = property_failures(problem, options, seeds)
    return report


def corner_options(problem: Problem, base) -> list[tuple[str, object]]:
    """The corners of a problem's settings box: each numeric setting with a declared range
    at its min and at its max (the others as in `base`), then all at min, all at max.
    Open ends are approached by the nearest value a setting of that type can take inside.
    Corners that the problem's own rules refuse (validate_options) are left out."""
    from ..core.settings import check_ranges, option_range
    ranged = []
    for f in dataclasses.fields(base):
        declared = option_range(f)
        if declared is None or isinstance(f.default, bool):
            continue
        low, high, open_low, open_high = declared
        ends = []
        for end, is_open, direction in ((low, open_low, 1), (high, open_high, -1)):
            if end is None:
                continue
            if isinstance(f.default, int):
                ends.append(end + direction if is_open else end)
            else:
                ends.append(float(end) + direction * 1e-3 * max(1.0, abs(float(end))) if is_open
                            else float(end))
        ranged.append((f.name, ends))
    corners = []
    for name, ends in ranged:
        for end in ends:
            corners.append((f"{name}={end}", {name: end}))
    if ranged:
        corners.append(("all at min", {n: e[0] for n, e in ranged}))
        corners.append(("all at max", {n: e[-1] for n, e in ranged}))
    out = []
    for label, change in corners:
        options = dataclasses.replace(base, **change)
        try:
            check_ranges(options)
            problem.validate_options(options)
        except ValueError as exc:
            out.append((f"{label} (refused by the problem: {exc})", None))
            continue
        out.append((label, options))
    return out
