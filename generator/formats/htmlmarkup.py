"""Prose and mathematics as HTML, for the publishing formats (html, moodle, qti).

The same markup as formats.markup (``$…$`` inline mathematics with ``@name``
placeholders, ```code```, blank-line paragraphs, ``- `` lists), rendered to HTML
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
from .markup import MarkupError, fill_math

__all__ = ["MATH_MODES", "html_escape", "html_math", "html_text", "mathml"]

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


def _segments(text: str):
    pieces = text.split("$")
    if len(pieces) % 2 == 0:
        raise MarkupError(f"unbalanced $ in: {text!r}")
    return [(i % 2 == 1, piece) for i, piece in enumerate(pieces)]


def _inline(text: str, values: Mapping[str, Any], mode: str) -> str:
    out = []
    for is_math, piece in _segments(text):
        if is_math:
            out.append(html_math(fill_math(piece, values), False, mode))
            continue
        pieces = piece.split("`")
        if len(pieces) % 2 == 0:
            raise MarkupError(f"unbalanced ` in: {text!r}")
        for i, part in enumerate(pieces):
            out.append(html_escape(part) if i % 2 == 0 else "<code>" + html_escape(part) + "</code>")
    return "".join(out)


def _render(text: str, values: Mapping[str, Any], mode: str) -> str:
    blocks = []
    for paragraph in re.split(r"\n\s*\n", str(text).strip()):
        lines = [ln.strip() for ln in paragraph.strip().splitlines()]
        if lines and all(ln.startswith("- ") for ln in lines):
            items = "".join("<li>" + _inline(ln[2:], values, mode) + "</li>" for ln in lines)
            blocks.append("<ul>" + items + "</ul>")
        elif lines:
            blocks.append("<p>" + _inline(" ".join(lines), values, mode) + "</p>")
    return "\n".join(blocks)


@lru_cache(maxsize=4096)
def _render_static(text: str, mode: str) -> str:
    return _render(text, {}, mode)


def html_text(text: str, values: Mapping[str, Any], mode: str, inline: bool = False) -> Markup:
    """Prose as HTML: paragraphs and lists (or, `inline`, one run of phrasing content)."""
    if inline:
        return Markup(" ".join(_inline(ln.strip(), values, mode) for ln in str(text).splitlines()))
    if not values:
        return Markup(_render_static(text, mode))
    return Markup(_render(text, values, mode))


def value_math(value: Any, mode: str, display: bool = False) -> Markup:
    """One value (a SymPy object, a vector, a matrix) as mathematics."""
    return Markup(html_math(tex(value), display, mode))
