"""A problem with one choice answer (a formula), for the quiz-format tests
(tests/lms/quiz-kinds.toml): in Moodle a multichoice question, in QTI one choice item."""
from __future__ import annotations

from dataclasses import dataclass

from wsgen import (Answer, CheckFailed, Choices, Mistake, Part, Problem, Solution, Step, Tex,
                   register, shuffle_choices)

CORRECT = Tex(r"\sigma'(z) = \sigma(z)\,(1 - \sigma(z))")
PLUS = Tex(r"\sigma'(z) = \sigma(z)\,(1 + \sigma(z))")
TANH = Tex(r"\sigma'(z) = 1 - \sigma(z)^2")
SQUARE = Tex(r"\sigma'(z) = \sigma(z)^2")
DISTRACTORS = (PLUS, TANH, SQUARE)


@dataclass(frozen=True)
class Options:
    count: int = 4


@dataclass(frozen=True)
class Params:
    options: Choices


@register
class QuizDerivative(Problem):
    id = "quiz_derivative"
    title = "The sigmoid's derivative"

    def canonical(self, options):
        return Params(Choices((PLUS, CORRECT, TANH, SQUARE)))

    def generate(self, rng, options):
        return Params(shuffle_choices(rng, CORRECT, DISTRACTORS)[0])

    def statement(self, params, options):
        return (Part("(a)", "Which of these is the derivative of the sigmoid $\\sigma$?"),)

    def solve(self, params, options):
        return Solution((Step(title="Derivative", text="$\\sigma' = \\sigma (1 - \\sigma)$."),),
                        (Answer("derivative", r"\sigma'", CORRECT, choices=params.options.options,
                                part="(a)"),))

    def mistakes(self, params, options, solution):
        return (Mistake("plus_sign", "plus instead of minus",
                        "$\\sigma(1 + \\sigma)$ exceeds $\\sigma$ itself; the slope of the "
                        "sigmoid is at most $\\frac{1}{4}$", {"derivative": PLUS}),
                Mistake("tanh_derivative", "the derivative of tanh",
                        "$1 - \\tanh^2$ is the derivative of $\\tanh$, not of $\\sigma$",
                        {"derivative": TANH}),
                Mistake("squared", "the sigmoid squared",
                        "$\\sigma^2$ forgets the minus: $\\sigma(1 - \\sigma) = \\sigma - \\sigma^2$",
                        {"derivative": SQUARE}))

    def check(self, params, options, solution):
        if solution.answer("derivative") != CORRECT:
            raise CheckFailed("derivative")
