"""Drawing one problem variant: parameters, statement, solution, independent check, mistakes."""
from __future__ import annotations

import dataclasses

from .model import Variant, params_problem
from .problem import CheckFailed, Problem, Redraw
from .distractors import NoDistinctOptions, honest_mistakes, with_multiple_choice
from .rng import VariantRng, derive_seed

__all__ = ["DrawFailed", "MC_REDRAWS", "draw_multiple_choice", "draw_variant"]

#: How often a problem is drawn again when its multiple-choice options collide.
MC_REDRAWS = 50


class DrawFailed(RuntimeError):
    """No acceptable parameters within the problem's redraw budget."""


def draw_variant(problem: Problem, options, seed: int | None) -> Variant:
    """The variant of `problem` for `seed` (None: the canonical variant), checked.

    Degenerate draws are redrawn from the same seeded stream, so the accepted
    parameters are still a function of the seed alone.  The independent check
    runs before the variant is returned: nothing unchecked reaches a writer.
    """
    redraws = 0
    if seed is None:
        params = problem.canonical(options)
    else:
        rng = VariantRng(seed)
        while True:
            try:
                params = problem.generate(rng, options)
                break
            except Redraw:
                redraws += 1
                if redraws >= problem.max_redraws:
                    raise DrawFailed(f"no acceptable draw after {redraws} tries") from None
    why = params_problem(params, problem.Params)
    if why is not None:
        raise TypeError(why)
    solution = problem.solve(params, options)
    try:
        problem.check(params, options, solution)
    except CheckFailed as exc:
        raise CheckFailed(f"independent check failed: {exc}") from exc
    mistakes, coinciding = honest_mistakes(
        _checked_mistakes(problem.mistakes(params, options, solution), solution), solution)
    return Variant(problem_id=problem.id, title=problem.title, seed=seed, options=options,
                   params=params, statement=tuple(problem.statement(params, options)),
                   solution=solution, mistakes=mistakes, redraws=redraws, coinciding=coinciding)


def _checked_mistakes(mistakes, solution) -> tuple:
    """The mistakes, each checked against the answers.  A mistake's option for a choice
    answer that this variant does not show is dropped (the mistake still gives its other
    values)."""
    mistakes = tuple(mistakes)
    names = {a.name for a in solution.answers}
    ids = [m.id for m in mistakes]
    if len(set(ids)) != len(ids):
        raise CheckFailed(f"duplicate mistake ids in {ids}")
    for mistake in mistakes:
        unknown = sorted(set(mistake.values) - names)
        if unknown:
            raise CheckFailed(f"mistake {mistake.id}: no answer named {', '.join(unknown)}")
    out = []
    for mistake in mistakes:
        shown = {name: value for name, value in mistake.values.items()
                 if solution.get(name).kind != "choice" or value in solution.get(name).choices}
        if shown != dict(mistake.values):
            mistake = dataclasses.replace(mistake, values=shown)
        out.append(mistake)
    return tuple(out)


def draw_multiple_choice(problem, options, seed: int | None, count: int, fallback_key: str = ""):
    """The variant for `seed` with its numeric answers asked as a choice among `count`
    options, drawn again (seeds derived from `seed`, or for the canonical variant from
    `fallback_key`) while its options cannot be told apart.  Raises NoDistinctOptions after
    MC_REDRAWS tries."""
    reason = None
    for redraw in range(MC_REDRAWS + 1):
        if redraw == 0:
            this = seed
        elif seed is None:
            this = derive_seed(0, redraw, "mc-redraw:canonical:" + (fallback_key or problem.id))
        else:
            this = derive_seed(seed, redraw, "mc-redraw")
        variant = draw_variant(problem, options, this)
        try:
            mc = with_multiple_choice(variant, count)
        except NoDistinctOptions as exc:
            reason = exc
            continue
        return dataclasses.replace(mc, choice_redraws=redraw)
    raise NoDistinctOptions(f"no draw with distinct options after {MC_REDRAWS} redraws: {reason}")
