"""The JSON side of the value model: answer records as answers.json states them.

An answer record has "exact" and "value" nested alike: a scalar, a flat list (a vector
or a list of values), or a list of rows (a matrix).  Its entries are indexed as
answers.csv writes them: "" for a scalar, "i" for a vector or list, "i,j" for a matrix,
1-based.  answers.csv, the quiz formats and grading all read records through
`entries`; a choice's options are lettered by `choice_letter` everywhere (the
documents, the quiz files, answers.json, grading).

This module imports nothing heavy: grading reads records without SymPy.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from fractions import Fraction
from typing import Any, Iterator

__all__ = ["CHOICE_LETTERS", "choice_letter", "choice_index", "clean_text", "record_points", "student_key", "entries", "record_entries"]

#: The letters of a choice's options, in the order shown (at most core.distractors.MAX_OPTIONS
#: for numeric answers; a formula question may show more).
CHOICE_LETTERS = "ABCDEFGHIJ"


def choice_letter(index: int) -> str:
    """The letter of option `index` (0-based): A, B, C, …"""
    return CHOICE_LETTERS[index]


def choice_index(letter: str) -> int:
    """The 0-based position of an option's letter (ValueError for another text)."""
    index = CHOICE_LETTERS.find(letter)
    if len(letter) != 1 or index < 0:
        raise ValueError(f"not an option letter: {letter!r}")
    return index


def entries(exact: Any, value: Any, prefix: tuple = ()) -> Iterator[tuple[str, Any, Any]]:
    """(entry "" / "i" / "i,j", exact, value) of an answer's nested "exact" and "value";
    ValueError when the two differ in shape."""
    if isinstance(exact, list):
        if not isinstance(value, list) or len(value) != len(exact):
            raise ValueError("exact and value differ in shape")
        for i, (e, v) in enumerate(zip(exact, value), start=1):
            yield from entries(e, v, prefix + (i,))
    else:
        if isinstance(value, list):
            raise ValueError("exact and value differ in shape")
        yield ",".join(map(str, prefix)), exact, value


def record_entries(record: dict) -> list[tuple[str, Any, Any]]:
    """The entries of an answer record ({"exact", "value", …})."""
    return list(entries(record.get("exact"), record.get("value")))


def clean_text(text: str) -> str:
    """A name or label as grading compares and shows it: NFC, blanks collapsed to one
    space, trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


@lru_cache(maxsize=65536)
def record_points(value) -> Fraction:
    """Points as answers.json writes them (a share as the float nearest to it, 5/3 ->
    1.6666666666666667), back as the Fraction they stand for."""
    return Fraction(value).limit_denominator(10 ** 6)


def student_key(name: str) -> str:
    """Who a name or id designates: spellings that differ only in Unicode normalisation,
    blanks or letter case are one student."""
    return clean_text(name).casefold()
