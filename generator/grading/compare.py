"""Comparing numbers, entries and options with an answer's declared tolerance, and finding
the declared mistakes that explain a wrong value: shared by `wsgen grade` and `wsgen audit`.

Both work on answers as the JSON contract (answers.json) states them: "exact" and "value"
nested alike (a scalar, a flat list for a vector or a list, a list of rows for a matrix),
"tolerance" {"abs", "rel"}, and for a choice answer "exact" the correct letter, "options"
in the order shown and, when present, "distractors" (per option, the mistake ids that lead
to it).
"""
from __future__ import annotations

import math
from typing import Any, Callable

from ..core.records import choice_letter as letter, record_entries

__all__ = ["Match", "choice_mistakes", "close", "entry_mistakes", "whole_mistakes"]

#: Whether a given number matches a mistake's entry: match(given, exact, value), the entry's
#: exact string and float as answers.json gives them (grading applies the answer's rule).
Match = Callable[[float, Any, float], bool]


def close(given: float, expected: float, tolerance: dict) -> bool:
    """|a − b| ≤ abs + rel·|b|, b the expected value."""
    a, b = float(given), float(expected)
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= float(tolerance.get("abs", 0)) + float(tolerance.get("rel", 0)) * abs(b)


def _entry_values(record: dict) -> dict[str, tuple[Any, Any]]:
    try:
        return {entry: (exact, value) for entry, exact, value in record_entries(record)}
    except ValueError:
        return {}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _matcher(tolerance: dict | None, match: Match | None) -> Match:
    if match is not None:
        return match
    return lambda given, exact, value: close(given, value, tolerance or {})


def entry_mistakes(answer_name: str, entry: str, given: float, tolerance: dict | None,
                   mistakes: list[dict], match: Match | None = None) -> list[dict]:
    """The declared mistakes whose value of this one entry matches `given` (within the
    tolerance, or as `match` decides)."""
    matches = _matcher(tolerance, match)
    out = []
    for mistake in mistakes:
        record = mistake.get("answers", {}).get(answer_name)
        if record is None:
            continue
        exact, value = _entry_values(record).get(entry, (None, None))
        if _is_number(value) and matches(given, exact, value):
            out.append(mistake)
    return out


def whole_mistakes(answer_name: str, expected_entries: list[str], given: dict[str, float],
                   tolerance: dict | None, mistakes: list[dict],
                   match: Match | None = None) -> list[dict]:
    """The declared mistakes whose value matches `given` (entry -> number) entry by entry,
    over every entry of the answer (the same shape), within the tolerance or as `match`
    decides."""
    if set(given) != set(expected_entries):
        return []
    matches = _matcher(tolerance, match)
    out = []
    for mistake in mistakes:
        record = mistake.get("answers", {}).get(answer_name)
        if record is None:
            continue
        values = _entry_values(record)
        if set(values) != set(expected_entries):
            continue
        if all(_is_number(values[e][1]) and matches(given[e], *values[e]) for e in expected_entries):
            out.append(mistake)
    return out


def choice_mistakes(answer_name: str, answer: dict, index: int, mistakes: list[dict]) -> list[str]:
    """The mistake ids that lead to option `index` of a choice answer: the mistakes whose
    option for this answer is it, and the option's "distractors" ids when the manifest
    gives them (a list parallel to "options", or a mapping from letter or index; each an
    id or a list of ids)."""
    ids: list[str] = []
    for mistake in mistakes:
        record = mistake.get("answers", {}).get(answer_name)
        if record is None:
            continue
        # a formula question: the mistake's entry is the option ({"value": index, "exact":
        # letter}); a numeric answer asked as a choice: its value, and "option" its letter
        chosen = record.get("option") if "option" in record else record.get("exact")
        if chosen == letter(index):
            ids.append(str(mistake.get("id")))
    distractors = answer.get("distractors")
    found: Any = None
    if isinstance(distractors, list) and 0 <= index < len(distractors):
        found = distractors[index]
    elif isinstance(distractors, dict):
        for key in (letter(index), letter(index).lower(), str(index), index):
            if key in distractors:
                found = distractors[key]
                break
    if isinstance(found, str) and found:
        found = [found]
    if isinstance(found, list):
        for item in found:
            if isinstance(item, dict):
                item = item.get("id")
            if isinstance(item, str) and item and item not in ids:
                ids.append(item)
    return ids
