"""HTML: a question page and a key page per variant, and an index of the build.

Static files only: one inlined stylesheet (with a print style), the mathematics as
MathML made at build time from the TeX the printer writes, so that a browser shows
it natively, with no script and nothing fetched.  The pages come from the same
document nodes as every other format (templates/html); all text is escaped by
Jinja's autoescape, the prose and formulas by formats.htmlmarkup.
"""
from __future__ import annotations

import re

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from ..core.printing import answer_value_tex, tex
from ..core.records import choice_letter
from . import Format, Rendered
from .document import points_text
from .htmlmarkup import html_math, html_text, isolated_plain, plain_html, text_html, value_math
from .prose import fill_math
from .templating import node
from .texbreak import display_lines, relation_terms, visible_length

__all__ = ["HtmlFormat", "html_environment", "render_html", "render_blocks"]


def _part_text(part, mode: str) -> Markup:
    """A question part: its bold label, then its prompt (the label opens the first paragraph)."""
    label = f'<span class="part-label">{text_html(part.label, mode)}</span> ' if part.label else ""
    if not part.text:
        return Markup(f"<p>{label}</p>" if label else "")
    body = str(html_text(part.text, part.values, mode))
    if body.startswith("<p>"):
        return Markup("<p>" + label + body[3:])
    return Markup(f"<p>{label}</p>" + body)


#: A displayed formula longer than this (rough characters, texbreak.visible_length) is set
#: on several lines, one per relation sign: MathML in browsers does not break lines.
HTML_LINE_CHARS = 90


def display_html(source: str, mode: str) -> Markup:
    """A filled displayed formula as HTML: one block, or for a long one a line per relation
    sign (continuations indented) and for a too-wide matrix one line per entry."""
    blocks = []
    for lhs, rest in display_lines(source):
        terms = relation_terms(rest) if lhs.strip() else None
        if not terms or len(terms) < 2 or visible_length(lhs + rest) <= HTML_LINE_CHARS:
            blocks.append(html_math(lhs + rest, True, mode))
            continue
        rel, term = terms[0]
        blocks.append(html_math(f"{lhs} {rel} {term}", True, mode))
        blocks += ['<div class="continued">' + html_math(f"{rel} {term}", True, mode) + "</div>"
                   for rel, term in terms[1:]]
    return Markup("\n".join(blocks))


#: Options this short (rough characters) are set two to a row, as on paper.
SHORT_OPTION = 28


def _short_options(group) -> bool:
    return all(visible_length(tex(option)) <= SHORT_OPTION for option in group.options)


def _display(line: str, values, mode: str) -> Markup:
    return display_html(fill_math(line, values), mode)


def _figure_svg(block) -> Markup:
    """A figure node as inline SVG (formats/figures)."""
    from ..figures import figure_svg
    return Markup(figure_svg(block.figure, block.question))


@lru_cache(maxsize=None)
def html_environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("wsgen.templates", "html"),
                             undefined=jinja2.StrictUndefined, autoescape=True,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(
        text=lambda prose, values, mode: html_text(prose, values, mode),
        display=_display,
        formula=lambda source, mode: Markup(html_math(source, False, mode)),
        display_formula=display_html,
        value=lambda obj, mode: value_math(obj, mode),
        part_text=_part_text, plain=plain_html, short_options=_short_options, plain_title=isolated_plain, answer=answer_value_tex,
        tex=tex,
        urlpath=lambda folder: quote(str(folder), safe="/"),
        paragraphs=lambda text: [p.strip() for p in re.split(r"\n\s*\n", str(text)) if p.strip()],
        figure=_figure_svg)
    env.globals.update(points_text=points_text, choice_letter=choice_letter, node=node)
    return env


def render_html(document) -> str:
    """A Document as a complete, self-contained HTML page."""
    template = html_environment().get_template("document.html.j2")
    return template.render(doc=document)


def render_blocks(blocks, mode: str, base: int = 2) -> str:
    """Some of a document's nodes (one exam slot's, say) as an HTML fragment."""
    macro = html_environment().get_template("blocks.html.j2").module.blocks
    return str(macro(tuple(blocks), mode, base)).strip() + "\n"


@dataclass(frozen=True)
class _IndexLine:
    variant_id: str
    folder: str
    student_id: str
    student_name: str


class _IndexCollector:
    """index.html: the exam's title and one line per sheet with links (and, under a roster,
    the student's name and id)."""

    def __init__(self, build, staging):
        self.exam, self.staging, self.lines = build.exam, staging, []

    def add(self, summary, data) -> None:
        student_id, student_name = data
        self.lines.append(_IndexLine(summary.variant_id, summary.folder, student_id, student_name))

    def finish(self) -> None:
        template = html_environment().get_template("index.html.j2")
        roster = any(line.student_id for line in self.lines)
        self.staging.write("index.html", template.render(exam=self.exam, sheets=self.lines,
                                                         roster=roster))


class HtmlFormat(Format):
    name = "html"
    description = "questions.html and key.html per variant (MathML, no script), and index.html"

    def render(self, sheet, documents) -> Rendered:
        student = sheet.student
        return Rendered(files={f"{kind}.html": render_html(doc) for kind, doc in documents.items()},
                        data=("", "") if student is None else (student.id, student.name))

    def collector(self, build, staging):
        return _IndexCollector(build, staging)

    def selftest(self, sheet, documents) -> None:
        """Every node and piece of prose through the templates, with the mathematics left as
        TeX: converting it to MathML at every problem load would cost more than the rest
        of the self-test; a formula that fails to convert is named by the build."""
        for document in documents.values():
            render_blocks(document.blocks[1:], "tex")
