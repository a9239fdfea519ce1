"""Problem options: declared once, with their ranges, and checked by the engine.

    @dataclass(frozen=True)
    class Options:
        m: int = option(2, 1, 6)                     # 1 <= m <= 6
        slope: float = option(0.01, 0, 1, open_ends=True)   # 0 < slope < 1

The engine checks every declared range before calling a problem's own
`validate_options` (left for rules that tie several options together), so a
range is written once and its error message is the same everywhere.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

__all__ = ["check_ranges", "describe_options", "option", "option_range", "require_decimals"]


def option(default: Any, low: float | None = None, high: float | None = None, *,
           open_ends: bool = False, open_low: bool = False) -> Any:
    """A dataclass field with a default and an allowed range [low, high].
    `open_low` excludes low; `open_ends` excludes both ends."""
    return dataclasses.field(default=default, metadata={
        "range": (low, high, open_ends or open_low, open_ends)})


def _describe(low, high, open_low, open_high) -> str:
    if low is not None and high is not None:
        if not (open_low or open_high):
            return f"between {low} and {high}"
        return f"in {'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
    if low is not None:
        return f"{'above' if open_low else 'at least'} {low}"
    return f"{'below' if open_high else 'at most'} {high}"


def check_ranges(options) -> None:
    """Raise ValueError naming the first option outside its declared range."""
    for f in dataclasses.fields(options):
        if "range" not in f.metadata:
            continue
        low, high, open_low, open_high = f.metadata["range"]
        value = getattr(options, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{f.name} must be a finite number, got {value}")
        too_low = low is not None and (value <= low if open_low else value < low)
        too_high = high is not None and (value >= high if open_high else value > high)
        if too_low or too_high:
            raise ValueError(f"{f.name} must be {_describe(low, high, open_low, open_high)}, "
                             f"got {value}")


def option_range(f: dataclasses.Field) -> tuple | None:
    """(low, high, open_low, open_high) of a declared setting, or None."""
    return f.metadata.get("range")


def describe_options(options_class) -> dict:
    """{name: {"type", "default", "min", "max"}} of a problem's settings (min/max where the
    setting declares a range; an open end is marked with "min_open"/"max_open")."""
    out = {}
    for f in dataclasses.fields(options_class):
        entry = {"type": type(f.default).__name__, "default": f.default}
        declared = option_range(f)
        if declared is not None:
            low, high, open_low, open_high = declared
            if low is not None:
                entry["min"] = low
                if open_low:
                    entry["min_open"] = True
            if high is not None:
                entry["max"] = high
                if open_high:
                    entry["max_open"] = True
        out[f.name] = entry
    return out


def require_decimals(name: str, value: float, places: int) -> None:
    """Raise ValueError unless `value` is a range end that `VariantRng.decimal` can draw to
    with `places` decimals: at least 10^-places, and a whole multiple of it."""
    from fractions import Fraction
    step = Fraction(1, 10 ** places)
    bound = Fraction(str(value))
    if bound < step:
        raise ValueError(f"{name} = {value} is below {float(step):g}, the smallest "
                         f"nonzero entry with places = {places}")
    if (bound / step).denominator != 1:
        raise ValueError(f"{name} = {value} has more decimals than places = {places} allows")
