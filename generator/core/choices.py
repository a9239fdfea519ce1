"""Multiple choice: the correct option among distractors, in a seeded order."""
from __future__ import annotations

from typing import Sequence

from .model import Choices
from .rng import VariantRng

__all__ = ["shuffle_choices"]


def shuffle_choices(rng: VariantRng, correct, distractors: Sequence, count: int = 4
                    ) -> tuple[Choices, int, tuple[int, ...]]:
    """Pick count-1 distractors, shuffle them with the correct option.

    Returns the Choices as shown, the 0-based index of the correct option, and for
    each shown option its index in `distractors` (-1 for the correct one).  Every
    position is equally likely to hold the correct option.
    """
    if len(distractors) < count - 1:
        raise ValueError("not enough distractors")
    picked = rng.permutation(len(distractors))[:count - 1]
    pool = [-1] + sorted(picked)
    order = [pool[i] for i in rng.permutation(count)]
    options = tuple(correct if k == -1 else distractors[k] for k in order)
    if len(set(options)) != count:
        raise ValueError("options are not distinct")
    return Choices(options), order.index(-1), tuple(order)
