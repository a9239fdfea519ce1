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

from ..core.printing import answer_tex, tex
from .document import points_text
from .markup import escape_markdown, escape_tex, fill_math, render_text
from .texbreak import breakable, matrix_cells, relation_terms, split_display, visible_length

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


#: The printed line, in the rough characters of `visible_length` (5.5 pt each at 11 pt,
#: 470 pt of text width), and the room a matrix column's bracket and gap takes.
LINE_CHARS, COLUMN_CHARS = 80, 2


def _display(math: str) -> str:
    """A displayed formula for the paper formats: ``\\wsgenDisplay{lhs}{rest}``, TeX breaks
    it at its relation and operator signs when it is too long; a display whose terms are
    all matrices of one shape, too wide for the line (a matrix cannot be broken), becomes
    one display per entry, ``(lhs)_{i,j} = a_{ij} = b_{ij}``."""
    lhs, rest = split_display(math)
    terms = relation_terms(rest) if lhs.strip() else None
    cells = [matrix_cells(term) for _, term in terms] if terms else []
    # leading terms that are not matrices (a formula: = \delta x^\top) stay on a first line
    lead = next((k for k, c in enumerate(cells) if c is not None), len(cells))
    matrices = cells[lead:]
    if matrices and all(c is not None for c in matrices):
        shapes = {(len(c), len(c[0])) for c in matrices}
        if len(shapes) == 1 and visible_length(lhs) + max(
                sum(max(visible_length(row[j]) for row in c) + COLUMN_CHARS for j in range(len(c[0])))
                for c in matrices) > LINE_CHARS:
            rows, cols = shapes.pop()
            lines = []
            if lead:
                first = " ".join(f"{rel} {term}" for rel, term in terms[:lead])
                lines.append(r"\wsgenDisplay{%s}{%s}" % (lhs, breakable(first)))
            for i in range(rows):
                for j in range(cols):
                    index = f"{i + 1}" if cols == 1 else f"{i + 1},{j + 1}"
                    entry = " ".join(f"{rel} {c[i][j]}" for (rel, _), c in zip(terms[lead:], matrices))
                    lines.append(r"\wsgenDisplay{\left(%s\right)_{%s} }{%s}"
                                 % (lhs.strip(), index, breakable(entry)))
            return "\n".join(lines)
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
        env.filters.update(display=_display, breakable=breakable)
    env.globals.update(points_text=points_text)
    return env


def render_document(document, markup: str, **context) -> str:
    """A Document as text in `markup`, through that markup's `document` template."""
    template = environment(markup).get_template(f"document.{markup}.j2")
    return template.render(doc=document, sheet=document.sheet, exam=document.sheet.exam,
                           **context)
