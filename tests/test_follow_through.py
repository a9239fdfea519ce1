"""Follow-through (grading/follow.py and the problems' `follows`/`follow_through`): every
shipped hook gives back the key from the key's own values, and carries a student's slip
forward as computed by hand."""
from __future__ import annotations

import numpy as np
import pytest

from wsgen.core.draw import draw_variant
from wsgen.core.problem import Problem
from wsgen.formats.json import variant_record
from wsgen.grading.follow import (carried_values, changed_inputs, given_values, hook_disagrees,
                                  params_namespace)
from wsgen.quality.stress import corner_options
from wsgen.registry import discover

REGISTRY = discover()
CHAINED = sorted(pid for pid, p in REGISTRY.problems.items() if p.follows)
#: Problems whose answers do not depend on one another: each comes from the parameters
#: alone (conv2d: Y, ∂L/∂K, ∂L/∂b and ∂L/∂X from X, K, b and the given upstream gradient G;
#: max_pool: Y and ∂L/∂X from X and G).
UNCHAINED = {"conv2d", "max_pool"}


def record(problem_id: str, seed, **options) -> dict:
    problem = REGISTRY.problems[problem_id]
    return variant_record(draw_variant(problem, problem.Options(**options), seed))


def test_every_shipped_problem_with_chained_parts_declares_them():
    assert set(REGISTRY.problems) - set(CHAINED) == UNCHAINED
    for pid in CHAINED:
        problem = REGISTRY.problems[pid]
        answers = record(pid, 1)["answers"]
        for later, inputs in problem.follows.items():
            assert later in answers and all(i in answers for i in inputs), (pid, later)


@pytest.mark.parametrize("problem_id", CHAINED)
def test_hooks_give_back_the_key(problem_id):
    # from answers.json's floats and the key's own values, every chained answer is the key's
    problem = REGISTRY.problems[problem_id]
    for seed in range(8):
        assert hook_disagrees(problem, record(problem_id, seed)) == "", (problem_id, seed)


@pytest.mark.slow          # every corner of every chained problem's options
@pytest.mark.parametrize("problem_id", CHAINED)
def test_hooks_give_back_the_key_at_the_corners(problem_id):
    problem = REGISTRY.problems[problem_id]
    for name, options in corner_options(problem, problem.Options()):
        for seed in (1, 2):
            try:
                data = variant_record(draw_variant(problem, options, seed))
            except Exception:          # a corner with no acceptable draw for this seed
                continue
            assert hook_disagrees(problem, data) == "", (problem_id, name, seed)


def test_matrix_backprop_by_hand():
    # canonical: W = [[0.1, 0.5], [-0.3, 0.8]], x = [0.2, 0.4]; the key's Wx is [0.22, 0.26].
    # A student writes Wx = [0.3, 0.26]: then L = 0.3² + 0.26² = 0.1576,
    # ∂L/∂W = 2 [0.3, 0.26]ᵀ [0.2, 0.4] = [[0.12, 0.24], [0.104, 0.208]] and
    # ∂L/∂x = 2 Wᵀ [0.3, 0.26] = 2 [0.03 − 0.078, 0.15 + 0.208] = [-0.096, 0.716]
    problem, data = REGISTRY.problems["matrix_backprop"], record("matrix_backprop", None)
    carried = carried_values(problem, data, {"Wx": {"1": 0.3, "2": 0.26}})
    assert carried["L"] == {"": pytest.approx(0.1576)}
    assert carried["dL_dW"] == pytest.approx({"1,1": 0.12, "1,2": 0.24, "2,1": 0.104, "2,2": 0.208})
    assert carried["dL_dx"] == pytest.approx({"1": -0.096, "2": 0.716})
    # a right Wx carries nothing forward
    assert carried_values(problem, data, {"Wx": {"1": 0.22, "2": 0.26}}) == {}


#: mlp_backprop's canonical variant: x = [1, 0.5], W1 = [[0.5, -0.4], [-0.6, 0.2]],
#: b1 = [0.1, 0.2], W2 = [[0.3, -0.5], [0.8, 0.2]], b2 = [0.1, -0.2], t = [0.5, 0.1].
#: The key: z1 = [0.4, -0.3], a1 = [0.4, 0], ŷ = [0.22, 0.12], δ2 = [-0.28, 0.02].
#: One slip, z1[1] = 0.6 (the −0.2 of W1[1,2] x[2] forgotten), then every step right for it:
#: a1 = [0.6, 0]; ŷ = [0.3·0.6 + 0.1, 0.8·0.6 − 0.2] = [0.28, 0.28]; δ2 = ŷ − t = [-0.22, 0.18];
#: L = ½(0.0484 + 0.0324) = 0.0404; ∂L/∂W2 = δ2 a1ᵀ = [[-0.132, 0], [0.108, 0]];
#: W2ᵀδ2 = [0.3·(−0.22) + 0.8·0.18, −0.5·(−0.22) + 0.2·0.18] = [0.078, 0.146], so
#: δ1 = [0.078, 0] (z1[2] < 0) and ∂L/∂W1 = δ1 xᵀ = [[0.078, 0.039], [0, 0]].
SLIP = {"z1": {"1": 0.6, "2": -0.3}, "a1": {"1": 0.6, "2": 0.0},
        "y_hat": {"1": 0.28, "2": 0.28}, "L": {"": 0.0404},
        "dW2": {"1,1": -0.132, "1,2": 0.0, "2,1": 0.108, "2,2": 0.0},
        "db2": {"1": -0.22, "2": 0.18},
        "dW1": {"1,1": 0.078, "1,2": 0.039, "2,1": 0.0, "2,2": 0.0},
        "db1": {"1": 0.078, "2": 0.0}}


def test_mlp_one_early_slip_by_hand():
    problem, data = REGISTRY.problems["mlp_backprop"], record("mlp_backprop", None)
    carried = carried_values(problem, data, SLIP)
    for name, values in SLIP.items():
        if name == "z1":
            continue
        assert carried[name] == pytest.approx(values, abs=1e-12), name
    assert changed_inputs(problem, data, "db1", SLIP) == ["db2", "z1"]


def test_optimizer_rows_follow_from_the_students_previous_row():
    problem, data = REGISTRY.problems["optimizer_steps"], record("optimizer_steps", 4)
    params = data["params"]
    alpha, grads = params["alpha"], np.array(params["grads"])
    sgd = np.array(data["answers"]["sgd"]["value"])
    mine = sgd.copy()
    mine[0, 0] += 0.5                                     # a slip in w_1, then right steps
    for t in range(1, len(mine)):
        mine[t] = mine[t - 1] - alpha * grads[t]          # SGD: w_t = w_{t−1} − α g_t
    numbers = {"sgd": {f"{i + 1},{j + 1}": float(v) for (i, j), v in np.ndenumerate(mine)}}
    carried = carried_values(problem, data, numbers)["sgd"]
    assert carried["1,1"] == pytest.approx(sgd[0, 0])      # w_1 from w_0: the key's
    for (i, j), v in np.ndenumerate(mine):
        if i:
            assert carried[f"{i + 1},{j + 1}"] == pytest.approx(v), (i, j)


def test_a_hook_that_fails_on_a_students_numbers_carries_nothing():
    # ŷ = 1.5 is no probability: J's logarithm of 1 − ŷ is not a number; the gradients and
    # the step still follow
    problem, data = REGISTRY.problems["logistic_regression"], record("logistic_regression", None)
    carried = carried_values(problem, data, {"y_hat": {"1": 1.5}})
    assert "cost" not in carried and "dw" in carried and "db" in carried


def test_params_as_the_hook_reads_them():
    params = params_namespace({"W": [[1, 2], [3, 4]], "x": [0.5, 1], "a": 2, "f": ["A", "B"],
                               "flag": True})
    assert params.W.shape == (2, 2) and params.x.shape == (2,) and params.a == 2.0
    assert params.f == ["A", "B"] and params.flag is True
    data = record("matrix_backprop", None)
    given = given_values(data, {"Wx": {"2": 1.0}})
    assert given["Wx"].tolist() == [0.22, 1.0] and given["L"] == 0.116
    assert given["dL_dW"].shape == (2, 2) and "dL_dW_formula" not in given


class _WrongHook(Problem):
    id, title = "wrong_hook", "A hook off by one"
    follows = {"L": ("Wx",)}

    def follow_through(self, params, given):
        return {"L": float(given["Wx"] @ given["Wx"]) + 1}


def test_a_hook_that_disagrees_with_the_key_is_told():
    why = hook_disagrees(_WrongHook(), record("matrix_backprop", None))
    assert why.startswith("its follow_through gives L = 1.116")
