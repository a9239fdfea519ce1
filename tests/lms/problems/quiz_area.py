"""A problem with one numeric answer, for the quiz-format tests (tests/lms/quiz-kinds.toml):
in Moodle a numerical question, in QTI one numerical item, asked as a choice with the
slot's `multiple_choice`."""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from wsgen import Answer, CheckFailed, Mistake, Part, Problem, Solution, Step, register


@dataclass(frozen=True)
class Options:
    places: int = 1


@dataclass(frozen=True)
class Params:
    a: sp.Rational
    b: sp.Rational


@register
class QuizArea(Problem):
    id = "quiz_area"
    title = "Area of a rectangle"

    def canonical(self, options):
        return Params(sp.Rational("2.5"), sp.Rational("1.2"))

    def generate(self, rng, options):
        a, b = (sp.Rational(rng.integer(11, 99), 10) for _ in range(2))
        return Params(a, b)

    def statement(self, params, options):
        return (Step(text="A rectangle has sides $a = @a$ and $b = @b$.",
                     values={"a": params.a, "b": params.b}),
                Part("(a)", "Compute its area $A$."))

    def solve(self, params, options):
        area = params.a * params.b
        return Solution((Step(title="Area", text="$A = a b = @A$.", values={"A": area}),),
                        (Answer("area", "A", area, part="(a)"),))

    def mistakes(self, params, options, solution):
        return (Mistake("perimeter", "the perimeter instead",
                        "$2a + 2b$ is the length of the border, not the surface inside it",
                        {"area": 2 * params.a + 2 * params.b}),
                Mistake("halved", "halved",
                        "$\\frac{1}{2} a b$ is the area of a right triangle with these sides",
                        {"area": params.a * params.b / 2}))

    def check(self, params, options, solution):
        if abs(float(solution.answer("area")) - float(params.a) * float(params.b)) > 1e-9:
            raise CheckFailed("area")
