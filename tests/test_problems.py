"""Properties every problem must have, over many seeds."""
import json
import re

import pytest
import sympy as sp

from generator.documents import Exam, ExamItem, Sheet, SheetItem
from generator.jsonout import variant_record
from generator.model import Choices, Shown, WithDecimal
from generator.printing import approx_decimal, is_terminating, tex
from generator.render import render_sheet
from generator.variants import draw_variant

PROBLEMS = ["triplet_loss", "style_transfer_loss", "logistic_regression", "matrix_backprop",
            "activations", "regularization"]
SEEDS = range(200)


def entries(value):
    if isinstance(value, (sp.MatrixBase, tuple, list)):
        return [x for e in value for x in entries(e)]
    if isinstance(value, (WithDecimal,)):
        return entries(value.value)
    if isinstance(value, (Choices, Shown, str)):
        return []
    return [sp.sympify(value)]


def one_item_sheet(variant, kind):
    exam = Exam("t", "", "", "", 0, 0, (ExamItem("Q", variant.problem_id, 1, variant.options),))
    sheet = Sheet(exam, "v", 1, (SheetItem("Q", 1, variant),))
    return render_sheet(sheet, "md", kind)


def leaked(variant):
    """Answer values (or their rounded decimals) that appear in the question sheet."""
    questions = one_item_sheet(variant, "questions")
    # numbers given in the question (and their negatives) may coincide with an answer
    given = {abs(e) for block in variant.statement for v in block.values.values() for e in entries(v)}
    found = []
    for answer in variant.solution.answers:
        if answer.name == "choice":
            continue
        for e in entries(answer.value):
            if abs(e) in given or (e.is_Integer and abs(e) < 10):
                continue
            texts = [tex(e)] if is_terminating(e) else [tex(e), approx_decimal(e, answer.digits)]
            for t in texts:
                if re.search(rf"(?<![\d.]){re.escape(t)}(?![\d])", questions):
                    found.append((answer.name, t))
    return found


@pytest.mark.parametrize("problem_id", PROBLEMS)
def test_every_problem_is_registered(problems, problem_id):
    assert problem_id in problems


@pytest.mark.parametrize("problem_id", PROBLEMS)
def test_many_seeds_check_and_leak_nothing(problems, problem_id):
    """200 seeds: each is drawn, solved and passes its independent float64 check
    (draw_variant raises otherwise); no question sheet shows an answer; the JSON
    record's exact strings parse back to its floats."""
    problem = problems[problem_id]
    options = problem.Options()
    for seed in SEEDS:
        v = draw_variant(problem, options, seed)
        assert not leaked(v), (seed, leaked(v))
        if seed % 20 == 0:
            record = json.loads(json.dumps(variant_record(v)))
            for answer in record["answers"].values():
                exact = sp.flatten([answer["exact"]])
                value = sp.flatten([answer["value"]])
                for e, f in zip(exact, value, strict=True):
                    assert float(sp.N(sp.sympify(e), 30)) == pytest.approx(f, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("problem_id", PROBLEMS)
def test_seed_reproduces_parameters(problems, problem_id):
    problem = problems[problem_id]
    options = problem.Options()
    drawn = [draw_variant(problem, options, s).params for s in range(30)]
    assert drawn == [draw_variant(problem, options, s).params for s in range(30)]
    assert len({repr(p) for p in drawn}) >= 28   # seeds give different parameters


@pytest.mark.parametrize("problem_id", ["triplet_loss", "style_transfer_loss"])
def test_multiple_choice_is_correct_after_shuffling(problems, problem_id):
    import importlib
    module = importlib.import_module(f"problems.{problem_id}")
    problem = problems[problem_id]
    positions = [0, 0, 0, 0]
    for seed in SEEDS:
        v = draw_variant(problem, problem.Options(), seed)
        shown = v.params.options.options
        choice = int(v.solution.answer("choice"))
        assert shown[choice] == module.CORRECT
        assert len(set(shown)) == 4 and set(shown) - {module.CORRECT} <= {m for m, _ in module.MISTAKES}
        positions[choice] += 1
    assert min(positions) >= 25  # 200 draws, 50 expected per position


def test_canonical_and_random_keys_name_their_seed(problems):
    for problem_id in PROBLEMS:
        problem = problems[problem_id]
        v = draw_variant(problem, problem.Options(), 12345)
        assert "seed 12345" in one_item_sheet(v, "key")
        assert "seed" not in one_item_sheet(v, "questions").lower()
