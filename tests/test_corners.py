"""Every problem passes its independent check at every corner of its settings, and
matrix_backprop at the settings where a fixed-step finite difference used to fail."""
import dataclasses

import pytest

from wsgen.quality.stress import corner_options, stress

# `stress` also checks the properties (reproducible, JSON round trip, no leak) on up to 50
# seeds, which costs far more than drawing: 25 seeds per corner keep the file near 30 s.
PER_CORNER = 25

pytestmark = pytest.mark.slow


def test_corners_of_every_problem(problems):
    failures = []
    for pid, p in problems.items():
        corners = corner_options(p, p.Options())
        assert any(options is not None for _, options in corners), f"{pid}: every corner refused"
        for label, options in corners:
            if options is None:
                continue
            report = stress(p, options, PER_CORNER)
            failures += [f"{pid} [{label}] {msg}"
                         for msg in report.check_failures + report.property_failures]
    assert not failures, "\n".join(failures[:10])


@pytest.mark.parametrize("change", [{"max_abs": 100.0}, {"m": 6, "n": 5, "max_abs": 5.0, "places": 2}])
def test_matrix_backprop_large_entries(problems, change):
    p = problems["matrix_backprop"]
    report = stress(p, dataclasses.replace(p.Options(), **change), 300)
    assert report.check_failures == [] and report.property_failures == []


@pytest.mark.parametrize("pid,change,needle", [
    ("matrix_backprop", {"max_abs": 0.95}, "max_abs = 0.95 has more decimals than places = 1"),
    ("matrix_backprop", {"max_abs": 1e-06}, "max_abs = 1e-06 is below 0.1"),
    ("matrix_backprop", {"max_abs": 0.001, "places": 3, "m": 3}, "max_abs = 0.001 with places = 3"),
    ("triplet_loss", {"max_abs": 0.95}, "max_abs = 0.95 has more decimals than places = 1"),
    ("triplet_loss", {"max_abs": 1e-06}, "max_abs = 1e-06 is below 0.1"),
])
def test_settings_that_cannot_draw_are_refused(problems, pid, change, needle):
    p = problems[pid]
    with pytest.raises(ValueError, match=needle.replace("(", r"\(").replace(".", r"\.")):
        p.validate_options(dataclasses.replace(p.Options(), **change))


def test_matrix_backprop_smallest_grid_still_draws_with_few_rows(problems):
    """max_abs = 10^-places is accepted for m ≤ 2, and then draws without failing."""
    p = problems["matrix_backprop"]
    options = dataclasses.replace(p.Options(), max_abs=0.001, places=3, m=2, n=6)
    p.validate_options(options)
    assert stress(p, options, 100).check_failures == []


def test_matrix_backprop_check_still_catches_a_wrong_digit(problems):
    """The scaled tolerance is tight: the last digit of one entry of a large answer is caught."""
    import sympy as sp
    from wsgen import CheckFailed
    from wsgen.core.draw import draw_variant
    from wsgen.core.model import Solution
    p = problems["matrix_backprop"]
    v = draw_variant(p, dataclasses.replace(p.Options(), max_abs=100.0, places=3), 57)
    answers = list(v.solution.answers)
    i = [a.name for a in answers].index("dL_dW")
    wrong = answers[i].value.as_mutable()
    wrong[1, 1] += sp.Rational(1, 1000)
    answers[i] = dataclasses.replace(answers[i], value=sp.ImmutableMatrix(wrong))
    with pytest.raises(CheckFailed):
        p.check(v.params, v.options, Solution(v.solution.steps, answers))
