"""`wsgen stress`: draw one problem many times and report what a reviewer should see.

Ranges of parameters and answers, repeated parameter sets, the redraw
(rejection) rate, independent-check failures, how often each declared mistake gives the
correct value of an answer (such a value is neither offered nor diagnosed in that
variant: core.distractors.honest_mistakes), and for multiple choice how often each
position holds the correct option (with a chi-square test of uniformity).

With `multiple_choice` (N options per numeric answer, core.distractors) it also
reports, per answer, how many distractors came from declared mistakes and how many
from the engine's slips (by slip), the redraws caused by options that could not be
told apart, and the correct option's position balance.  The run fails on a position
imbalance (chi-square p < POSITION_P) of any multiple-choice answer, or on any two
options of an answer that are the same at the precision shown.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

import mpmath

from ..core.distractors import SLIPS, distinct
from ..core.model import Choices, Expression
from ..core.records import choice_letter
from ..core.numeric import floats
from ..core.problem import Problem
from ..core.draw import draw_variant

__all__ = ["POSITION_P", "StressReport", "stress"]

#: A multiple-choice answer whose correct-option positions are this unlikely under
#: uniformity fails the stress run.
POSITION_P = 0.001


def _uniformity_p(positions: Counter, k: int | None = None) -> float | None:
    """p-value of the chi-square test that each of k positions is equally likely."""
    if not positions:
        return None
    k = k or 1 + max(positions)
    n = sum(positions.values())
    chi2 = sum((positions.get(i, 0) - n / k) ** 2 / (n / k) for i in range(k))
    return float(mpmath.gammainc((k - 1) / 2, chi2 / 2, mpmath.inf, regularized=True))


def _numbers(value) -> list[float]:
    if isinstance(value, (Choices, Expression, str)):
        return []
    return floats(value)


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
    multiple_choice: int = 0
    choice_redraws: int = 0                                           # options collided
    choice_positions: dict[str, Counter] = field(default_factory=dict)   # answer -> Counter
    distractor_sources: dict[str, Counter] = field(default_factory=dict)  # answer -> source
    collisions: list[str] = field(default_factory=list)
    coinciding: Counter = field(default_factory=Counter)   # (mistake id, answer) -> variants

    def _widen(self, table, name, values):
        if values:
            lo, hi = table.get(name, [min(values), max(values)])
            table[name] = [min(lo, *values), max(hi, *values)]

    def uniformity_p(self) -> float | None:
        """p-value of the chi-square test that every position is equally likely."""
        return _uniformity_p(self.positions)

    def choice_p(self, name: str) -> float | None:
        """p-value of position uniformity of one multiple-choice answer."""
        return _uniformity_p(self.choice_positions.get(name, Counter()), self.multiple_choice)

    @property
    def imbalanced(self) -> list[str]:
        return [name for name in self.choice_positions
                if (self.choice_p(name) or 1.0) < POSITION_P]

    def _choice_lines(self) -> list[str]:
        out = [f"  multiple choice, {self.multiple_choice} options per numeric answer; redraws "
               f"because options could not be told apart: {self.choice_redraws}; options the "
               f"same at the precision shown: {len(self.collisions)}"]
        for name, positions in self.choice_positions.items():
            sources = self.distractor_sources.get(name, Counter())
            mistakes = sum(c for s, c in sources.items() if s not in SLIPS)
            slips = sum(c for s, c in sources.items() if s in SLIPS)
            total = max(1, mistakes + slips)
            by_slip = ", ".join(f"{s} {c}" for s, c in sorted(sources.items()) if s in SLIPS)
            counts = " ".join(f"{choice_letter(i)} {positions.get(i, 0)}"
                              for i in range(self.multiple_choice))
            out.append(f"    {name:<14} distractors from mistakes {mistakes} ({mistakes / total:.0%}),"
                       f" from slips {slips}{' (' + by_slip + ')' if by_slip else ''}; "
                       f"correct at {counts}; p = {self.choice_p(name):.3f}")
        return out

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
        if self.coinciding:
            out.append("  declared mistakes giving the correct value (left out of those variants):")
            out += [f"    {mistake} for {answer}: {count} ({count / max(1, self.draws):.1%} of draws)"
                    for (mistake, answer), count in sorted(self.coinciding.items())]
        else:
            out.append("  declared mistakes giving the correct value: none")
        if self.positions:
            k = 1 + max(self.positions)
            counts = ", ".join(f"{choice_letter(i)} {self.positions.get(i, 0)}" for i in range(k))
            out.append(f"  correct option by position: {counts}; chi-square uniformity "
                       f"p = {self.uniformity_p():.3f}")
        if self.multiple_choice:
            out += self._choice_lines()
        if self.property_seeds:
            out.append(f"  properties (reproducible, JSON round trip, nothing of the key on the "
                       f"question sheet) over {self.property_seeds} seeds: "
                       f"{len(self.property_failures)} failures")
        out += [f"  FAILED {msg}" for msg in self.check_failures[:10]]
        out += [f"  FAILED {msg}" for msg in self.property_failures[:10]]
        out += [f"  FAILED {msg}" for msg in self.collisions[:10]]
        out += [f"  FAILED {name}: correct option's position not uniform (p = "
                f"{self.choice_p(name):.2g} < {POSITION_P})" for name in self.imbalanced]
        return out

    @property
    def failed(self) -> bool:
        return bool(self.check_failures or self.property_failures or self.collisions
                    or self.imbalanced)

    def _add_choices(self, seed: int, variant) -> None:
        self.choice_redraws += variant.choice_redraws
        for name, form in variant.choice_forms.items():
            answer = variant.solution.get(name)
            self.choice_positions.setdefault(name, Counter())[answer.correct_index] += 1
            self.distractor_sources.setdefault(name, Counter()).update(
                label for label in form.labels if label is not None)
            options = answer.choices
            for i in range(len(options)):
                for j in range(i):
                    if not distinct(options[i], options[j], answer):
                        self.collisions.append(f"seed {seed}: {name}: options {choice_letter(j)} "
                                               f"and {choice_letter(i)} are the same as shown")


def stress(problem: Problem, options, count: int, first_seed: int = 0,
           multiple_choice: int = 0) -> StressReport:
    report = StressReport(problem.id, count, multiple_choice=multiple_choice)
    seen: set[str] = set()
    if multiple_choice:
        from ..core.draw import draw_multiple_choice
    for seed in range(first_seed, first_seed + count):
        try:
            if multiple_choice:
                variant = draw_multiple_choice(problem, options, seed, multiple_choice)
            else:
                variant = draw_variant(problem, options, seed)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            report.check_failures.append(f"seed {seed}: {type(exc).__name__}: {exc}")
            continue
        report.redraws += variant.redraws
        report.coinciding.update(variant.coinciding)
        if multiple_choice:
            report._add_choices(seed, variant)
        signature = repr(variant.params)
        report.duplicates += signature in seen
        seen.add(signature)
        for f in dataclasses.fields(variant.params):
            report._widen(report.params, f.name, _numbers(getattr(variant.params, f.name)))
        forms = variant.choice_forms
        for answer in variant.solution.answers:
            if answer.name in forms:
                report._widen(report.answers, answer.name, _numbers(answer.value))
            elif answer.kind == "choice":
                report.positions[answer.correct_index] += 1
            else:
                report._widen(report.answers, answer.name, _numbers(answer.value))
    from .properties import property_failures
    seeds = range(first_seed, first_seed + min(count, 50))
    report.property_seeds = len(seeds)
    report.property_failures = property_failures(problem, options, seeds, multiple_choice)
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
