"""Prose and mathematics as HTML, for the publishing formats (html, moodle, qti).

The prose (read by formats.prose: ``$…$`` inline mathematics with ``@name``
placeholders, ```code```, blank-line paragraphs, ``- `` lists) is written as HTML
with the mathematics in one of two forms:

* ``"mathml"``: MathML produced at build time from the TeX the printer writes
  (latex2mathml), which browsers render natively: no script, no CDN;
* ``"tex"``: the TeX itself between ``\\( … \\)`` (inline) or ``\\[ … \\]`` (display),
  HTML-escaped, for a platform whose MathJax filter typesets it (Moodle).  There plain
  text holding a backslash, a dollar or a brace is made inert (`inert`), so that neither
  MathJax nor Moodle's cloze parser reads it as syntax, and a brace in a formula that
  would open a cloze field is a character reference.

Every piece of plain text is escaped for HTML; nothing of a problem's prose or of
user text can open a tag or an entity.
"""
from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from typing import Any, Mapping

from latex2mathml.converter import convert
from markupsafe import Markup
from markupsafe import escape as markup_escape

from ..core.printing import tex
from .prose import Writer, render

__all__ = ["MATH_MODES", "WRITERS", "html_escape", "html_math", "html_text", "inert", "mathml",
           "plain_html", "mode_text", "value_math"]

MATH_MODES = ("mathml", "tex")

# \text{…} and \mathrm{…}/\operatorname{…} contents reach MathML verbatim (latex2mathml
# does not escape them): escape the three characters XML reserves there first.
_TEXT_ARG = re.compile(r"(\\(?:text|mathrm|operatorname|textrm|mbox)\s*\{)([^{}]*)(\})")
_XML_RESERVED = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def html_escape(text: Any) -> str:
    """Plain text for HTML (element content and quoted attribute values)."""
    return escape(str(text), quote=True)


# What MathJax (\( \[ $$ \begin) and Moodle's cloze parser ({1:NUMERICAL:…}, {#1}) read.
_SYNTAX = re.compile(r"[\\$}{]")
_REFERENCES = str.maketrans({"{": "&#123;", "}": "&#125;", "\\": "&#92;", "$": "&#36;"})
# A brace that opens a cloze field ({1:NUMERICAL:…}, {:MC:…}) or names one's place ({#1}).
_CLOZE_OPEN = re.compile(r"\{(?=[0-9]*:[A-Za-z_]+:|#[0-9]+\})")


def inert(escaped: str) -> str:
    """Escaped HTML text with braces, backslashes and dollars as character references (no
    cloze field can start in it) in a span MathJax leaves alone (versions 2 and 3): it reads
    as written."""
    return f'<span class="tex2jax_ignore mathjax_ignore">{escaped.translate(_REFERENCES)}</span>'


def mode_text(escaped: str, mode: str) -> str:
    """Escaped plain text for `mode`: under "tex", made inert if it holds a character that
    MathJax or a cloze parser reads; otherwise as it is."""
    return inert(escaped) if mode == "tex" and _SYNTAX.search(escaped) else escaped


def plain_html(text: Any, mode: str) -> Markup:
    """User or problem text (a title, a label) for a template in `mode`: escaped as Jinja's
    autoescape does, and under "tex" made inert where needed (`mode_text`)."""
    escaped = markup_escape(text)
    return Markup(mode_text(str(escaped), mode)) if mode == "tex" else escaped


def _protect_text(source: str) -> str:
    def fix(match):
        body = "".join(_XML_RESERVED.get(ch, ch) for ch in match.group(2))
        return match.group(1) + body + match.group(3)
    return _TEXT_ARG.sub(fix, source)


@lru_cache(maxsize=65536)
def mathml(source: str, display: bool = False) -> str:
    """One formula as a MathML <math> element (display: a block, centred)."""
    source = _protect_text(source.strip())
    out = convert(source, display="block" if display else "inline")
    # latex2mathml keeps TeX's alignment character in a \text argument as it is; any
    # other stray "&" would not be XML: escape what is not already an entity.
    return re.sub(r"&(?!#x?[0-9A-Fa-f]+;|[A-Za-z]+;)", "&amp;", out)


def html_math(source: str, display: bool, mode: str) -> str:
    """A filled TeX formula in `mode` (see the module's docstring)."""
    if mode == "mathml":
        return mathml(source, display)
    # MathJax reads the formula once the browser has decoded the character references
    source = _CLOZE_OPEN.sub("&#123;", html_escape(source.strip()))
    if display:
        return r'<div class="math">\[' + source + r"\]</div>"
    return r"\(" + source + r"\)"


def _writer(mode: str) -> Writer:
    def text(plain: str) -> str:
        return mode_text(html_escape(plain), mode)
    return Writer(text=text, code=lambda code: "<code>" + text(code) + "</code>",
                  math=lambda math: html_math(math, False, mode),
                  paragraph=("<p>", "</p>"), bullets=("<ul>", "</ul>"), item=("<li>", "</li>"),
                  between_items="", between_blocks="\n")


#: The prose writer of each math mode.
WRITERS = {mode: _writer(mode) for mode in MATH_MODES}


def html_text(text: str, values: Mapping[str, Any], mode: str) -> Markup:
    """Prose as HTML: paragraphs and lists."""
    return Markup(render(WRITERS[mode], text, values))


def value_math(value: Any, mode: str, display: bool = False) -> Markup:
    """One value (a SymPy object, a vector, a matrix) as mathematics."""
    return Markup(html_math(tex(value), display, mode))
