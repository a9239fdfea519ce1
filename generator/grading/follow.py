"""Follow-through (error carried forward): a later answer that is wrong, but right for the
student's own earlier answers, is worked by the right method and earns the follow-through
credit ("carried forward from your (a): right method").

A problem declares how its answers chain (core.problem: `follows`, {later answer: the
answers it is computed from}, and `follow_through(params, given)`, the later answers
recomputed in float64).  Grading works from answers.json, so the problem is loaded through
the registry (built in, an installed plugin, `--problems DIR` or the exam's
`problem_paths`) and its hook runs on the manifest's parameters (floats) and the student's
numbers.  Why there and not at build time: the student's numbers exist only when grading;
recomputing from the parameters and the numbers given is what a grader does with a pencil,
in the problem's own NumPy (the same code its float64 `check` is written in), and
answers.json stays free of per-answer formulas.

A hook is trusted for a variant only where it gives back the key from the key's own values
(`hook_disagrees`): a problem module changed since the build, or a wrong hook, turns
follow-through off for that variant and the grading says so.  A hook that fails on what a
student wrote (a logarithm of a negative number, say) carries nothing forward for that
paper.  Comparisons use the answer's own rule (`close`), with the recomputed value as the
one expected.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable, Mapping

import numpy as np

from ..core.records import entries
from .compare import close as tolerance_close

__all__ = ["Close", "carried_values", "changed_inputs", "given_values", "hook_disagrees",
           "params_namespace"]

#: close(given, expected, answer record) -> whether `given` counts as `expected` for that
#: answer (grading's rule; by default the answer's tolerance).
Close = Callable[[float, float, Mapping[str, Any]], bool]


def _default_close(given: float, expected: float, answer: Mapping[str, Any]) -> bool:
    return tolerance_close(given, expected, answer["tolerance"])


def _array(value: Any) -> Any:
    """A JSON parameter as the hook sees it: numbers (nested lists of them) as float arrays
    (a number a float), anything else as it is."""
    if isinstance(value, bool) or isinstance(value, str) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list) and value and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) or
            isinstance(v, list) and all(isinstance(u, (int, float)) and not isinstance(u, bool)
                                        for u in v) for v in value):
        try:
            return np.array(value, dtype=np.float64)
        except ValueError:                     # ragged
            return value
    return value


def params_namespace(params: Mapping[str, Any]) -> SimpleNamespace:
    """answers.json's "params" of a variant, as the hook reads them (params.W)."""
    return SimpleNamespace(**{name: _array(value) for name, value in params.items()})


def _numeric(answer: Mapping[str, Any]) -> bool:
    return answer.get("kind") in ("number", "vector", "matrix", "list")


def given_values(record: Mapping[str, Any], numbers: Mapping[str, Mapping[str, float]]):
    """Every numeric answer of a problem record as an array in its shape: the student's
    numbers where given (`numbers`: answer -> entry -> float), the key's elsewhere."""
    out = {}
    for name, answer in record["answers"].items():
        if not _numeric(answer):
            continue
        mine = numbers.get(name, {})
        flat = [mine.get(entry, value) for entry, _, value in entries(answer["exact"],
                                                                      answer["value"])]
        out[name] = _shaped(answer, flat)
    return out


def _shaped(answer: Mapping[str, Any], flat: list[float]):
    if answer["kind"] == "number":
        return float(flat[0])
    if answer["kind"] == "matrix":
        rows = len(answer["exact"])
        return np.array(flat, dtype=np.float64).reshape(rows, -1)
    return np.array(flat, dtype=np.float64)


def _flat(answer: Mapping[str, Any], value: Any) -> dict[str, float] | None:
    """A hook's value of an answer, entry by entry; None when its shape is not the answer's."""
    keys = [entry for entry, _, _ in entries(answer["exact"], answer["value"])]
    try:
        array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None
    if array.size != len(keys):
        return None
    return {entry: float(v) for entry, v in zip(keys, array)}


def changed_inputs(problem, record: Mapping[str, Any], name: str,
                   numbers: Mapping[str, Mapping[str, float]], close: Close = _default_close
                   ) -> list[str]:
    """The inputs of answer `name` (its `follows`) that the student gave otherwise than the
    key: an entry given and not close to the key's value."""
    out = []
    for source in problem.follows.get(name, ()):
        answer = record["answers"].get(source)
        if answer is None or not _numeric(answer):
            continue
        mine = numbers.get(source, {})
        if any(entry in mine and not close(mine[entry], value, answer)
               for entry, _, value in entries(answer["exact"], answer["value"])):
            out.append(source)
    return out


def _run(problem, record: Mapping[str, Any], given: Mapping[str, Any]) -> dict:
    with np.errstate(all="ignore"):
        values = problem.follow_through(params_namespace(record.get("params", {})), given)
    return dict(values or {})


def carried_values(problem, record: Mapping[str, Any],
                   numbers: Mapping[str, Mapping[str, float]], close: Close = _default_close
                   ) -> dict[str, dict[str, float]]:
    """answer -> entry -> the value it takes from the student's own inputs, for every
    answer of `problem.follows` one of whose inputs the student gave otherwise than the key
    (the others follow from the key's values: nothing is carried).  Empty when the hook
    fails on these numbers."""
    wanted = [name for name in problem.follows
              if name in record["answers"] and changed_inputs(problem, record, name, numbers, close)]
    if not wanted:
        return {}
    try:
        values = _run(problem, record, given_values(record, numbers))
    except Exception:  # noqa: BLE001 - a hook meeting a student's numbers: nothing carried
        return {}
    out = {}
    for name in wanted:
        flat = _flat(record["answers"][name], values.get(name))
        if flat is not None and all(np.isfinite(v) for v in flat.values()):
            out[name] = flat
    return out


def hook_disagrees(problem, record: Mapping[str, Any], close: Close = _default_close) -> str:
    """"" when the hook, given the key's own values, gives back the key's values of every
    answer in `follows`; else why not (one line)."""
    try:
        values = _run(problem, record, given_values(record, {}))
    except Exception as exc:  # noqa: BLE001 - reported, follow-through off
        return f"its follow_through fails on the key's values ({type(exc).__name__}: {exc})"[:300]
    for name in problem.follows:
        answer = record["answers"].get(name)
        if answer is None:
            return f"{name} in its follows is not an answer of the manifest"
        flat = _flat(answer, values.get(name))
        if flat is None:
            return f"its follow_through gives no value of {name} in the answer's shape"
        for entry, _, value in entries(answer["exact"], answer["value"]):
            if not close(flat[entry], value, answer):
                where = f"{name}[{entry}]" if entry else name
                return (f"its follow_through gives {where} = {flat[entry]!r} from the key's own "
                        f"values, not the key's {value!r}")
    return ""
