"""Prose with mathematics, rendered to each output format from one source.

The markup is deliberately tiny, so that a problem's prose is written once:

* ``$...$``  inline mathematics, in TeX notation;
* ``@name`` inside mathematics: the value ``values[name]`` printed by `tex`;
* ```code``` outside mathematics: an identifier, shown in a fixed-width font;
* a blank line separates paragraphs; a paragraph whose lines all start with
  ``- `` is a bulleted list.

Plain text is escaped for the target format, so no prose character can act as
Markdown or LaTeX syntax.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Mapping

from pylatex.utils import escape_latex

from ..core.printing import tex

__all__ = ["MarkupError", "escape_markdown", "escape_tex", "fill_math", "render_text",
           "check_markup"]

_PLACEHOLDER = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")
# Parentheses stay as they are: "\(" would open inline math under MathJax (Jupyter).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|$~^])")


class MarkupError(ValueError):
    """Prose or a display line that does not follow the markup rules."""


@lru_cache(maxsize=8192)
def escape_markdown(text: str) -> str:
    """Plain text that Markdown shows literally (no emphasis, links, math, HTML, headings,
    rules, quotes, lists or code blocks), whatever its lines start with."""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text)).replace("&", "&amp;")
    # Leading blanks shrink to one space (four would start a code block); then a line can
    # start no list item (- + 1. 1)), setext underline or thematic break (---, ===, - - -).
    escaped = re.sub(r"^[ \t]+", " ", escaped, flags=re.M)
    escaped = re.sub(r"^( ?)([-+=])", r"\1\\\2", escaped, flags=re.M)
    return re.sub(r"^( ?\d+)([.)])", r"\1\\\2", escaped, flags=re.M)


# Characters beyond ASCII that the LaTeX documents can typeset: Latin-1 and Latin
# Extended-A through LaTeX's utf8 input, and these, declared in the preamble.
TEX_UNICODE = {"\u2016": r"\textbardbl{}", "\u00b2": r"\textsuperscript{2}",
               "\u00b3": r"\textsuperscript{3}", "\u2212": "-", "\u2192": r"\textrightarrow{}",
               "\u2264": r"\ensuremath{\le}", "\u2265": r"\ensuremath{\ge}",
               "\u00d7": r"\texttimes{}", "\u2013": "--", "\u2014": "---",
               "\u2018": "`", "\u2019": "'", "\u201c": "``", "\u201d": "''",
               "\u03b1": r"\ensuremath{\alpha}", "\u03bb": r"\ensuremath{\lambda}",
               "\u03c3": r"\ensuremath{\sigma}", "\u2248": r"\ensuremath{\approx}"}


def _typesettable(ch: str) -> bool:
    return ord(ch) < 0x180 or ch in TEX_UNICODE


@lru_cache(maxsize=8192)
def escape_tex(text: str) -> str:
    """Plain text that LaTeX typesets literally (PyLaTeX's escaping).  A character the
    documents' fonts cannot show (CJK, emoji, …) becomes "?" rather than a TeX error."""
    text = "".join(ch if _typesettable(ch) else "?" for ch in str(text))
    # PyLaTeX writes ^ as the accent \^{}, which typesets (and extracts) as a modifier
    # letter; \textasciicircum is the ASCII character itself.
    return str(escape_latex(str(text))).replace(r"\^{}", r"\textasciicircum{}")


def fill_math(math: str, values: Mapping[str, Any]) -> str:
    """A TeX math string with every ``@name`` replaced by the printed value."""
    def replace(match):
        name = match.group(1)
        if name not in values:
            raise MarkupError(f"@{name} has no value (known: {', '.join(sorted(values)) or 'none'})")
        return tex(values[name])
    return _PLACEHOLDER.sub(replace, math)


def _segments(text: str):
    """(is_math, piece) pairs of one paragraph."""
    pieces = text.split("$")
    if len(pieces) % 2 == 0:
        raise MarkupError(f"unbalanced $ in: {text!r}")
    return [(i % 2 == 1, piece) for i, piece in enumerate(pieces)]


def check_markup(text: str, values: Mapping[str, Any]) -> None:
    """Raise MarkupError if `text` would not render."""
    for is_math, piece in _segments(text):
        if is_math:
            fill_math(piece, values)


def _inline(text: str, values, fmt: str) -> str:
    out = []
    for is_math, piece in _segments(text):
        if is_math:
            out.append("$" + fill_math(piece, values).strip() + "$")
        else:
            pieces = piece.split("`")
            if len(pieces) % 2 == 0:
                raise MarkupError(f"unbalanced ` in: {text!r}")
            for i, part in enumerate(pieces):
                if i % 2 == 0:
                    out.append(escape_markdown(part) if fmt == "md" else escape_tex(part))
                elif fmt == "md":
                    out.append("`" + part + "`")
                else:
                    out.append(r"\texttt{" + escape_tex(part) + "}")
    return "".join(out)


def render_text(text: str, values: Mapping[str, Any], fmt: str) -> str:
    """Prose rendered for `fmt` ("md" or "tex")."""
    if not values:  # static prose, the same in every variant
        return _render_static(text, fmt)
    return _render_text(text, values, fmt)


@lru_cache(maxsize=1024)
def _render_static(text: str, fmt: str) -> str:
    return _render_text(text, {}, fmt)


def _render_text(text: str, values: Mapping[str, Any], fmt: str) -> str:
    blocks = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in paragraph.strip().splitlines()]
        if lines and all(ln.startswith("- ") for ln in lines):
            items = [_inline(ln[2:], values, fmt) for ln in lines]
            if fmt == "md":
                blocks.append("\n".join("- " + it for it in items))
            else:
                blocks.append("\\begin{itemize}\n" + "\n".join(r"\item " + it for it in items)
                              + "\n\\end{itemize}")
        elif lines:
            blocks.append(_inline(" ".join(lines), values, fmt))
    return "\n\n".join(blocks)


def _check_block(block, where: str) -> None:
    values = getattr(block, "values", {})
    try:
        if getattr(block, "text", ""):
            for fmt in ("md", "tex"):
                render_text(block.text, values, fmt)
        for line in getattr(block, "math", ()):
            fill_math(line, values)
    except MarkupError as exc:
        raise MarkupError(f"{where}: {exc}") from None
    for i, sub in enumerate(getattr(block, "substeps", ())):
        _check_block(sub, f"{where} > substep {i + 1}")


def _describe(block, index: int, kind: str) -> str:
    title = getattr(block, "title", "") or getattr(block, "label", "")
    return f"{kind} {index + 1}" + (f" {title!r}" if title else "")


def check_variant_markup(variant) -> None:
    """Raise MarkupError naming the block (statement part or solution step, by its title)
    and the placeholder when any prose or display line of a variant would not render."""
    for i, block in enumerate(variant.statement):
        _check_block(block, _describe(block, i, "statement block"))
    for i, step in enumerate(variant.solution.steps):
        _check_block(step, _describe(step, i, "solution step"))
    for mistake in variant.mistakes:
        try:
            render_text(mistake.why, {}, "md")
        except MarkupError as exc:
            raise MarkupError(f"mistake {mistake.id}: {exc}") from None
