"""Prose and mathematics as HTML, for the publishing formats (html, moodle, qti).

The prose (read by formats.prose: ``$…$`` inline mathematics with ``@name``
placeholders, ```code```, blank-line paragraphs, ``- `` lists) is written as HTML
with the mathematics in one of two forms:

* ``"mathml"``: MathML produced at build time from the TeX the printer writes
  (latex2mathml), which browsers render natively: no script, no CDN;
* ``"tex"``: the TeX itself between ``\\( … \\)`` (inline) or ``\\[ … \\]`` (display),
  HTML-escaped, for a platform whose MathJax filter typesets it (Moodle).

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

from ..core.printing import tex
from .prose import Writer, render

__all__ = ["MATH_MODES", "WRITERS", "html_escape", "html_math", "html_text", "mathml",
           "value_math"]

MATH_MODES = ("mathml", "tex")

# \text{…} and \mathrm{…}/\operatorname{…} contents reach MathML verbatim (latex2mathml
# does not escape them): escape the three characters XML reserves there first.
_TEXT_ARG = re.compile(r"(\\(?:text|mathrm|operatorname|textrm|mbox)\s*\{)([^{}]*)(\})")
_XML_RESERVED = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def html_escape(text: Any) -> str:
    """Plain text for HTML (element content and quoted attribute values)."""
    return escape(str(text), quote=True)


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
    if display:
        return r'<div class="math">\[' + html_escape(source.strip()) + r"\]</div>"
    return r"\(" + html_escape(source.strip()) + r"\)"


def _writer(mode: str) -> Writer:
    return Writer(text=html_escape, code=lambda code: "<code>" + html_escape(code) + "</code>",
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
