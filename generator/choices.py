"""Multiple choice: the correct option among distractors, in a seeded order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .model import Choices
from .rng import VariantRng

__all__ = ["ChoiceKey", "check_choice", "choice_key", "shuffle_choices"]


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


LETTERS = "ABCDEFGH"


@dataclass(frozen=True)
class ChoiceKey:
    """The key to a multiple-choice question: where the correct option is, and why each
    other option shown is wrong."""
    index: int
    letter: str
    wrong: tuple[tuple[str, str], ...]          # (letter, reason) in shown order

    def reasons(self) -> str:
        """The wrong options as a bulleted list, in the prose markup."""
        return "\n".join(f"- {letter} is wrong: {why}." for letter, why in self.wrong)


def choice_key(choices: Choices, correct, mistakes: Sequence[tuple]) -> ChoiceKey:
    """Locate `correct` among the shown options; `mistakes` pairs each distractor with
    the reason it is wrong."""
    why = dict(mistakes)
    shown = choices.options
    index = shown.index(correct)
    wrong = tuple((LETTERS[i], why[option]) for i, option in enumerate(shown) if option != correct)
    return ChoiceKey(index, LETTERS[index], wrong)


def check_choice(choices: Choices, index: int, correct) -> None:
    """Raise CheckFailed unless the options are distinct and `index` shows `correct`."""
    from .registry import CheckFailed
    shown = choices.options
    if len(set(shown)) != len(shown):
        raise CheckFailed("multiple-choice options are not distinct")
    if not 0 <= index < len(shown) or shown[index] != correct:
        raise CheckFailed("the answer's index does not point at the correct option")
