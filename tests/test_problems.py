"""Properties every registered problem must have, over many seeds (not a hard-coded list)."""
import pytest
import sympy as sp

from wsgen import discover
from wsgen.quality.properties import property_failures, render_one
from wsgen.core.draw import draw_variant
from wsgen.core.printing import tex

PROBLEMS = sorted(discover().problems)
SEEDS = range(200)


def test_the_six_shipped_problems_are_registered():
    assert {"triplet_loss", "style_transfer_loss", "logistic_regression", "matrix_backprop",
            "activations", "regularization"} <= set(PROBLEMS)
    assert all(discover().sources[p] == "built-in" for p in PROBLEMS
               if p in {"triplet_loss", "matrix_backprop"})


@pytest.mark.parametrize("problem_id", PROBLEMS)
@pytest.mark.slow
def test_properties_hold_over_many_seeds(problems, problem_id):
    """200 seeds: drawn, solved and checked (the independent float64 check runs in every
    draw), reproducible, JSON round trip exact -> float, nothing of the key on the sheet."""
    problem = problems[problem_id]
    assert property_failures(problem, problem.Options(), SEEDS) == []


def test_properties_catch_a_leak(problems):
    """The leak detector itself: a sheet that prints an answer is caught."""
    import dataclasses

    from wsgen.quality.properties import leaked
    from wsgen.core.model import Step
    problem = problems["matrix_backprop"]
    v = draw_variant(problem, problem.Options(), 3)
    # a hint that prints L itself, as fixed notation (not as a given value)
    bad = dataclasses.replace(v, statement=v.statement + (Step(text=f"Hint: $L = {tex(v.solution.answer('L'))}$."),))
    assert leaked(bad)


@pytest.mark.parametrize("problem_id", PROBLEMS)
def test_seed_reproduces_parameters(problems, problem_id):
    problem = problems[problem_id]
    options = problem.Options()
    drawn = [draw_variant(problem, options, s).params for s in range(30)]
    assert drawn == [draw_variant(problem, options, s).params for s in range(30)]
    assert len({repr(p) for p in drawn}) >= 28   # seeds give different parameters


@pytest.mark.parametrize("problem_id", PROBLEMS)
@pytest.mark.slow
def test_multiple_choice_is_correct_after_shuffling(problems, problem_id):
    """A choice answer's value is among its options, the options are distinct, and over
    200 seeds every position holds the correct option about equally often."""
    problem = problems[problem_id]
    positions = {}
    for seed in SEEDS:
        v = draw_variant(problem, problem.Options(), seed)
        for answer in v.solution.answers:
            if answer.kind != "choice":
                continue
            assert len(set(answer.choices)) == len(answer.choices)
            positions.setdefault(answer.name, [0] * len(answer.choices))[answer.correct_index] += 1
    for counts in positions.values():
        assert min(counts) >= 0.5 * len(SEEDS) / len(counts)


def test_triplet_choice_letter_is_derived_at_render_time(problems):
    """Canonical order (no margin, correct, swapped, unsquared): the key says option B,
    and no problem text carries a letter."""
    v = draw_variant(problems["triplet_loss"], problems["triplet_loss"].Options(), None)
    assert v.solution.get("formula").correct_index == 1
    key = render_one(v, "key")
    assert "Option B is correct" in key and "- (a) Option B" in key
    assert "Option" not in " ".join(s.text for s in v.solution.steps)


def test_instructor_keys_name_their_seed_and_student_keys_do_not(problems):
    for problem_id in PROBLEMS:
        problem = problems[problem_id]
        v = draw_variant(problem, problem.Options(), 12345)
        assert "seed 12345" in render_one(v, "key")
        assert "seed 12345" not in render_one(v, "key", key="student")
        assert "seed" not in render_one(v, "questions").lower()


def test_every_shipped_problem_passes_the_load_time_selftest(problems):
    # External problems are self-tested when they load; the shipped ones here, once (the
    # canonical variant and seed 0 in every format, markup checked).
    from wsgen.quality.selftest import selftest
    for pid, problem in problems.items():
        selftest(problem, f"problem module wsgen.problems.{pid}")
