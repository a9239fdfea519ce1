"""Jinja environments for the text formats: templates read from the installed package.

A text format is a markup ("md", "tex"), a Jinja environment with delimiters
that suit it, and one template that says how each document node looks.  The
filters are the same for every markup and all mathematics goes through
core.printing:

* ``text``   – prose with inline math (formats.markup), escaped for the markup;
* ``math``   – a display line with ``@name`` placeholders filled;
* ``answer`` – an answer's exact value, with a rounded decimal where needed;
* ``tex``    – one value as TeX;
* ``esc``    – user-supplied plain text (titles, names), escaped;
* ``display``, ``breakable`` (tex only) – a displayed formula as ``\\wsgenDisplay{lhs}{rest}``,
  and a formula with its break points marked, so that TeX breaks long ones across lines
  instead of shrinking them (formats/texbreak.py).
"""
from __future__ import annotations

from functools import lru_cache

import jinja2

from ..core.model import Vector
from ..core.printing import answer_tex, tex
from .document import points_text
from .markup import escape_markdown, escape_tex, fill_math, render_text
from .texbreak import breakable, split_display

__all__ = ["environment", "render_document"]

_DELIMITERS = {
    "md": {},
    "tex": dict(block_start_string=r"\BLOCK{", block_end_string="}",
                variable_start_string=r"\VAR{", variable_end_string="}",
                comment_start_string=r"\#{", comment_end_string="}"),
}
_ESCAPE = {"md": escape_markdown, "tex": escape_tex}


def _answer(answer) -> str:
    if answer.kind == "choice":
        return tex(answer.value)
    return answer_tex(answer.value, answer.digits)


#: A vector or matrix answer whose columns' longest entries add up to more TeX than this
#: is listed entry by entry on paper: a matrix cannot be broken across lines.
WIDE_ANSWER = 150


def _answer_lines(answer) -> list[str]:
    """The displayed lines of an answer: `label = value`, or for a vector or matrix too wide
    for a printed line, one `(label)_i = entry` line per entry."""
    value = answer.value
    if answer.kind in ("vector", "matrix") and (isinstance(value, Vector) or
                                                hasattr(value, "tolist")):
        rows = [[e] for e in value] if answer.kind == "vector" else value.tolist()
        texts = [[tex(e) for e in row] for row in rows]
        width = sum(max(len(row[j]) for row in texts) for j in range(len(texts[0])))
        if width > WIDE_ANSWER:
            lines = []
            for i, row in enumerate(rows, start=1):
                for j, entry in enumerate(row, start=1):
                    index = str(i) if answer.kind == "vector" else f"{i},{j}"
                    lines.append(rf"\left({answer.label}\right)_{{{index}}} = "
                                 + answer_tex(entry, answer.digits))
            return lines
    return [f"{answer.label} = {_answer(answer)}"]


def _display(math: str) -> str:
    lhs, rest = split_display(math)
    return r"\wsgenDisplay{%s}{%s}" % (lhs, breakable(rest))


@lru_cache(maxsize=None)
def environment(markup: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("wsgen.templates", markup),
                             undefined=jinja2.StrictUndefined, autoescape=False,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             **_DELIMITERS[markup])
    env.filters.update(text=lambda prose, values: render_text(prose, values, markup),
                       math=fill_math, answer=_answer, tex=tex, esc=_ESCAPE[markup])
    if markup == "tex":
        env.filters.update(display=_display, breakable=breakable, answer_lines=_answer_lines)
    env.globals.update(points_text=points_text)
    return env


def render_document(document, markup: str, **context) -> str:
    """A Document as text in `markup`, through that markup's `document` template."""
    template = environment(markup).get_template(f"document.{markup}.j2")
    return template.render(doc=document, sheet=document.sheet, exam=document.sheet.exam,
                           **context)
