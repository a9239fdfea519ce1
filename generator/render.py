"""Rendering sheets to text formats through Jinja skeleton templates.

A format is a Jinja environment (delimiters that suit it) plus a skeleton
template for the question sheet and one for the key.  The filters are the
same for every format and all mathematics goes through generator.printing:

* ``text``   – prose with inline math (generator.richtext), escaped for the format;
* ``math``   – a display line with ``@name`` placeholders filled;
* ``answer`` – an answer's exact value, with a rounded decimal where needed;
* ``esc``    – user-supplied plain text (titles, names), escaped.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

import jinja2

from .documents import Sheet
from .printing import answer_tex, tex
from .richtext import escape_markdown, escape_tex, fill_math, render_text

__all__ = ["FORMATS", "render_sheet", "options_summary"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FORMATS = ("md", "tex")


KEY_TITLE = "Answer key"


def sheet_facts(sheet: Sheet) -> list[str]:
    """The header's facts, as plain text: course, date, variant, points."""
    facts = [sheet.exam.course, sheet.exam.date, f"Variant {sheet.variant_id}",
             points_text(sheet.total_points) if sheet.total_points else ""]
    return [f for f in facts if f]


def student_line(sheet: Sheet) -> str:
    """Plain text naming the student, or "" without a roster."""
    student = sheet.student
    return "" if student is None else f"Student: {student.name} ({student.id})"


def points_text(points: int) -> str:
    return f"{points} point" + ("" if points == 1 else "s")


def provenance(sheet: Sheet, variant) -> str:
    """Where a key's problem comes from, in the prose markup: id, variant, seed, options."""
    origin = "canonical numbers" if variant.seed is None else f"seed {variant.seed}"
    changed = options_summary(variant.options)
    return (f"Problem `{variant.problem_id}`, variant {sheet.variant_id}, {origin}"
            + (f", options {changed}" if changed else "") + ".")


def options_summary(options) -> str:
    """Options that differ from the defaults, as `name=value, …` (empty if none)."""
    default = type(options)()
    changed = [f"{f.name}={getattr(options, f.name)}" for f in dataclasses.fields(options)
               if getattr(options, f.name) != getattr(default, f.name)]
    return ", ".join(changed)


@lru_cache(maxsize=None)
def _environment(fmt: str) -> jinja2.Environment:
    if fmt == "md":
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES / "md"),
                                 undefined=jinja2.StrictUndefined, autoescape=False,
                                 keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
        esc = escape_markdown
    elif fmt == "tex":
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES / "tex"),
                                 undefined=jinja2.StrictUndefined, autoescape=False,
                                 block_start_string=r"\BLOCK{", block_end_string="}",
                                 variable_start_string=r"\VAR{", variable_end_string="}",
                                 comment_start_string=r"\#{", comment_end_string="}",
                                 keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
        esc = escape_tex
    else:
        raise ValueError(f"unknown format {fmt!r}")
    env.filters.update(
        text=lambda step_text, values: render_text(step_text, values, fmt),
        math=fill_math,
        answer=lambda a: answer_tex(a.value, a.digits),
        tex=tex,
        esc=esc,
    )
    env.globals.update(KEY_TITLE=KEY_TITLE, sheet_facts=sheet_facts, student_line=student_line,
                       points_text=points_text, provenance=provenance)
    return env


def render_sheet(sheet: Sheet, fmt: str, kind: str, **context) -> str:
    """The question sheet (kind "questions") or the key (kind "key") of one sheet.
    `context` passes format-specific values (the LaTeX sheets' label anchor)."""
    if kind not in ("questions", "key"):
        raise ValueError(f"unknown document kind {kind!r}")
    template = _environment(fmt).get_template(f"{kind}.{fmt}.j2")
    return template.render(sheet=sheet, exam=sheet.exam, key=(kind == "key"), **context)
