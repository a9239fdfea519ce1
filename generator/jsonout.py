"""The JSON contract: one object per problem variant, and the build manifest.

    {"problem": ID, "seed": INT or null,
     "params": {NAME: number | nested list of numbers | list of strings},
     "answers": {NAME: {"value": number | nested list, "exact": string | nested list}}}

"exact" strings parse with sympy.sympify back to the exact value; "value" is
the float64 nearest to it.  Matrices are lists of rows, vectors flat lists.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any


from .model import Choices, Variant
from .printing import exact_str, float_value, tex

__all__ = ["dumps", "param_value", "variant_record"]


def param_value(value: Any) -> Any:
    """A parameter as JSON: formulas to choose from become TeX strings; plain Python
    values stay as they are; exact numbers, vectors and matrices become floats."""
    if isinstance(value, Choices):
        return [tex(option) for option in value.options]
    if isinstance(value, (str, bool, int, float)):
        return value
    return float_value(value)


def variant_record(variant: Variant) -> dict[str, Any]:
    params = {f.name: param_value(getattr(variant.params, f.name))
              for f in dataclasses.fields(variant.params)}
    answers = {a.name: {"value": float_value(a.value), "exact": exact_str(a.value)}
               for a in variant.solution.answers}
    return {"problem": variant.problem_id, "seed": variant.seed, "params": params,
            "answers": answers}


def dumps(obj: Any, compact: bool = False) -> str:
    """Stable JSON text (keys in the contract's order); `compact` for large manifests."""
    if compact:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"
    return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
