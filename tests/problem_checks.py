"""The test shapes every shipped problem's module repeats, written once.

Each helper carries out one check (a wrong answer entry makes `check` fail, a seed draws
the same parameters twice, a corrupted formula fails the draw, ...) on what the calling
module gives it; the values a test expects (computed by hand, with their comments) stay in
the test module.
"""
import dataclasses

import pytest
import sympy as sp

from wsgen import CheckFailed, NoCanonical, Solution, Vector, derivations, draw_variant

#: How a recorded formula may say it was established.
HOW = ("derived", "verified", "derived and verified")


def plain(value):
    """Arithmetic as written (wsgen's Shown) by its exact value; anything else as it is."""
    return value.value if hasattr(value, "value") and hasattr(value, "args") else value


def num(value) -> float:
    """An exact value (or arithmetic as written) as a float, through 30 digits."""
    return float(sp.N(sp.sympify(plain(value)), 30))


def same(a, b, digits=40) -> bool:
    """Exact values equal: rationals exactly, closed forms to `digits` digits; matrices
    entry by entry, of the same shape."""
    a, b = sp.sympify(plain(a)), sp.sympify(plain(b))
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        return a.shape == b.shape and all(same(x, y, digits) for x, y in zip(a, b))
    return abs(sp.N(a - b, digits)) < sp.Float(10) ** (5 - digits)


def nudged(value, delta, at=(0, 0)):
    """`value` with one entry moved by `delta`: entry `at` of a matrix, the first entry of
    a Vector or of a tuple, or the number itself."""
    if isinstance(value, sp.MatrixBase):
        wrong = value.as_mutable()
        wrong[at] += delta
        return sp.ImmutableMatrix(wrong)
    if isinstance(value, Vector):
        return Vector([value[0] + delta, *value[1:]])
    if isinstance(value, tuple):
        return (value[0] + delta, *value[1:])
    return value + delta


def assert_check_catches(p, changes, seed=3, at=(0, 0)):
    """In the variant of `seed` at the default settings, each answer named in `changes`
    with one entry moved by its change (see `nudged`), the others right: `check` fails."""
    variant = draw_variant(p, p.Options(), seed)
    for name, change in changes.items():
        answers = list(variant.solution.answers)
        i = [a.name for a in answers].index(name)
        answers[i] = dataclasses.replace(answers[i], value=nudged(answers[i].value, change, at))
        with pytest.raises(CheckFailed):
            p.check(variant.params, variant.options,
                    Solution(variant.solution.steps, tuple(answers)))


def drawn(p, seeds, **settings):
    """The variants of `seeds` at the default settings with `settings` changed."""
    options = dataclasses.replace(p.Options(), **settings)
    return (draw_variant(p, options, seed) for seed in seeds)


def assert_check_ignores_the_work(p, options, seeds=range(5)):
    """`check` recomputes from the parameters: it passes on a solution without its work."""
    for seed in seeds:
        v = draw_variant(p, options, seed)
        assert v.solution.work is not None
        p.check(v.params, v.options, Solution(v.solution.steps, v.solution.answers))


def assert_same_seed_same_parameters(p, seed, other=None):
    """Seed `seed` draws the same parameters twice (and, given `other`, not those of seed
    `other`)."""
    params = draw_variant(p, p.Options(), seed).params
    assert params == draw_variant(p, p.Options(), seed).params
    if other is not None:
        assert params != draw_variant(p, p.Options(), other).params


def assert_every_formula_derived(p, module, options, seed=1, how=HOW):
    """Solving one variant records every formula the module declares in DERIVED (each
    established in one of the ways `how` names)."""
    draw_variant(p, options, seed)
    recorded = derivations(p.id)
    assert {f.name for f in recorded} == set(module.DERIVED)
    assert all(f.how in how for f in recorded)


def assert_corrupted_formula_fails(p, options, name):
    """Drawing seed 0 fails the problem's check, naming the formula `name`."""
    with pytest.raises(CheckFailed, match=p.id) as failure:
        draw_variant(p, options, 0)
    assert f"formula {name!r}" in str(failure.value)


def assert_no_canonical(p, *changes):
    """Each change of the default settings has no canonical variant."""
    for change in changes:
        with pytest.raises(NoCanonical):
            p.canonical(dataclasses.replace(p.Options(), **change))


def assert_out_of_range(p, *changes):
    """Each change of the default settings is refused by its declared range, naming the
    setting."""
    from wsgen.core.settings import check_ranges
    for change in changes:
        with pytest.raises(ValueError, match=next(iter(change))):
            check_ranges(dataclasses.replace(p.Options(), **change))
