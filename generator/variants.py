"""Drawing one problem variant: parameters, statement, solution, independent check."""
from __future__ import annotations

from .model import Variant
from .registry import CheckFailed, Problem, Redraw
from .rng import VariantRng

__all__ = ["DrawFailed", "draw_variant"]


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
                    raise DrawFailed(f"{problem.id}: no acceptable draw for seed {seed} "
                                     f"after {redraws} tries") from None
    solution = problem.solve(params, options)
    try:
        problem.check(params, options, solution)
    except CheckFailed as exc:
        raise CheckFailed(f"{problem.id} (seed {seed}): independent check failed: {exc}") from exc
    return Variant(problem_id=problem.id, title=problem.title, seed=seed, options=options,
                   params=params, statement=tuple(problem.statement(params, options)),
                   solution=solution, redraws=redraws)
