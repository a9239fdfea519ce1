"""Jinja environments for the text formats: templates read from the installed package.

A text format is a markup ("md", "tex"), a Jinja environment with delimiters
that suit it, and one template that says how each document node looks: one macro
per node type, named after the node's tag, which the global ``node(b, ...)`` calls.
The filters are the same for every markup and all mathematics goes through
core.printing:

* ``text``   – prose with inline math (formats.prose), escaped for the markup;
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
from jinja2.runtime import Macro

from ..core.printing import answer_value_tex, tex
from ..core.records import choice_letter
from .document import points_text
from .markup import WRITERS, escape_markdown, escape_tex
from .prose import fill_math, render
from .texbreak import breakable, display_lines

__all__ = ["environment", "node", "render_document"]

_DELIMITERS = {
    "md": {},
    "tex": dict(block_start_string=r"\BLOCK{", block_end_string="}",
                variable_start_string=r"\VAR{", variable_end_string="}",
                comment_start_string=r"\#{", comment_end_string="}"),
}
_ESCAPE = {"md": escape_markdown, "tex": escape_tex}


def _display(math: str) -> str:
    """A displayed formula for the paper formats: one ``\\wsgenDisplay{lhs}{rest}`` per line
    of `texbreak.display_lines` (TeX breaks each at its relation and operator signs when
    it is too long; a too-wide matrix display comes as one line per entry)."""
    return "\n".join(r"\wsgenDisplay{%s}{%s}" % (lhs, breakable(rest))
                     for lhs, rest in display_lines(math))


def _figure_latex(block) -> str:
    from ..figures import figure_latex
    return figure_latex(block.figure, block.question)


def _figure_alt(block) -> str:
    from ..figures import figure_scene
    return figure_scene(block.figure, block.question).description


#: How a figure node (formats/document.py) is drawn: a picture in the LaTeX
#: (figures/pdftex.py); in Markdown a link to its SVG file, its description the alternative
#: text.
_FIGURES = {"tex": {"figure": _figure_latex}, "md": {"figure_alt": _figure_alt}}


@jinja2.pass_context
def node(context, block, **arguments):
    """A document node (formats/document.py) through the macro named after its tag, from
    the template that calls it, given those of `arguments` the macro declares (a node's
    neighbours, say, for spacing that depends on them)."""
    macro = context.resolve_or_missing(block.node)
    if not isinstance(macro, Macro):
        raise jinja2.TemplateRuntimeError(
            f"{context.name}: no macro for the document node {block.node!r}")
    return macro(block, **{name: value for name, value in arguments.items()
                           if name in macro.arguments})


@lru_cache(maxsize=None)
def environment(markup: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("wsgen.templates", markup),
                             undefined=jinja2.StrictUndefined, autoescape=False,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             **_DELIMITERS[markup])
    writer = WRITERS[markup]
    env.filters.update(text=lambda prose, values: render(writer, prose, values),
                       math=fill_math, answer=answer_value_tex, tex=tex, esc=_ESCAPE[markup])
    if markup == "tex":
        env.filters.update(display=_display, breakable=breakable)
    env.filters.update(_FIGURES.get(markup, {}))
    env.globals.update(points_text=points_text, choice_letter=choice_letter, node=node)
    return env


def render_document(document, markup: str, **context) -> str:
    """A Document as text in `markup`, through that markup's `document` template."""
    template = environment(markup).get_template(f"document.{markup}.j2")
    return template.render(doc=document, sheet=document.sheet, exam=document.sheet.exam,
                           **context)
