"""A problem's prose: read once into a small tree, written to each format by a small writer.

The markup is deliberately tiny, so that prose is written once for every format:

* ``$...$``  inline mathematics, in TeX notation;
* ``@name`` inside mathematics: the value ``values[name]`` printed by core.printing.tex;
* ```code``` outside mathematics: an identifier, shown in a fixed-width font;
* a blank line separates paragraphs; a paragraph whose lines all start with ``- `` is a
  bulleted list.

`read(text)` parses a prose string once (cached by its text) into `Paragraph` and
`Bullets` blocks of inline pieces (`Text`, `Code`, `Math`), and raises MarkupError for an
unbalanced ``$`` or backtick.  A `Writer` says how each kind of node looks in one format
(Markdown and LaTeX: formats.markup; HTML: formats.htmlmarkup), and
`render(writer, text, values)` writes the tree, filling the placeholders at render time.
What does not depend on the values is written once per writer and prose and kept, so
static prose costs a cache lookup and prose with values one join.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping, Union

from ..core.printing import tex

__all__ = ["Bullets", "Code", "Math", "MarkupError", "Paragraph", "Text", "Writer",
           "check_markup", "check_variant_markup", "fill_math", "formula", "read", "render"]

_PLACEHOLDER = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")


class MarkupError(ValueError):
    """Prose or a display line that does not follow the markup rules."""


# --- the tree ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    """Plain text, shown as written (escaped by the writer)."""
    text: str

    def write(self, writer: "Writer", out: list) -> None:
        out.append(writer.text(self.text))


@dataclass(frozen=True)
class Code:
    """An identifier between backticks, in a fixed-width font."""
    text: str

    def write(self, writer: "Writer", out: list) -> None:
        out.append(writer.code(self.text))


@dataclass(frozen=True)
class Math:
    """A TeX formula; `parts` alternate literal TeX and placeholder names (``@name``)."""
    parts: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.parts[1::2]

    def fill(self, values: Mapping[str, Any]) -> str:
        """The formula with every ``@name`` replaced by the printed value."""
        if len(self.parts) == 1:
            return self.parts[0]
        out = list(self.parts)
        for i in range(1, len(out), 2):
            name = out[i]
            if name not in values:
                known = ", ".join(sorted(values)) or "none"
                raise MarkupError(f"@{name} has no value (known: {known})")
            out[i] = tex(values[name])
        return "".join(out)

    def write(self, writer: "Writer", out: list) -> None:
        # a formula without placeholders is written now; one with them when filled
        out.append(self if len(self.parts) > 1 else writer.math(self.parts[0]))


Piece = Union[Text, Code, Math]


@dataclass(frozen=True)
class Paragraph:
    """A paragraph: the pieces of its lines, joined by a space."""
    pieces: tuple[Piece, ...]

    @property
    def runs(self) -> tuple[tuple[Piece, ...], ...]:
        return (self.pieces,)

    def write(self, writer: "Writer", out: list) -> None:
        out.append(writer.paragraph[0])
        for piece in self.pieces:
            piece.write(writer, out)
        out.append(writer.paragraph[1])


@dataclass(frozen=True)
class Bullets:
    """A bulleted list: the pieces of each item."""
    items: tuple[tuple[Piece, ...], ...]

    @property
    def runs(self) -> tuple[tuple[Piece, ...], ...]:
        return self.items

    def write(self, writer: "Writer", out: list) -> None:
        out.append(writer.bullets[0])
        for k, item in enumerate(self.items):
            out.append((writer.between_items if k else "") + writer.item[0])
            for piece in item:
                piece.write(writer, out)
            out.append(writer.item[1])
        out.append(writer.bullets[1])


Block = Union[Paragraph, Bullets]


# --- reading -----------------------------------------------------------------------------
@lru_cache(maxsize=8192)
def formula(source: str) -> Math:
    """A TeX formula with ``@name`` placeholders, split once."""
    return Math(tuple(_PLACEHOLDER.split(source)))


def fill_math(source: str, values: Mapping[str, Any]) -> str:
    """A TeX math string with every ``@name`` replaced by the printed value."""
    return formula(source).fill(values)


def _pieces(text: str) -> tuple[Piece, ...]:
    """The inline pieces of one paragraph or list item: ``$`` first, then backticks in the
    text between formulas (a code span does not cross a formula)."""
    segments = text.split("$")
    if len(segments) % 2 == 0:
        raise MarkupError(f"unbalanced $ in: {text!r}")
    pieces: list[Piece] = []
    for i, segment in enumerate(segments):
        if i % 2:
            pieces.append(formula(segment))
            continue
        spans = segment.split("`")
        if len(spans) % 2 == 0:
            raise MarkupError(f"unbalanced ` in: {text!r}")
        pieces += [Code(span) if j % 2 else Text(span) for j, span in enumerate(spans)
                   if j % 2 or span]
    return tuple(pieces)


@lru_cache(maxsize=8192)
def read(text: str) -> tuple[Block, ...]:
    """A prose string as its blocks (see the module's docstring for the rules)."""
    blocks: list[Block] = []
    for paragraph in re.split(r"\n\s*\n", str(text).strip()):
        lines = [ln.strip() for ln in paragraph.strip().splitlines()]
        if lines and all(ln.startswith("- ") for ln in lines):
            blocks.append(Bullets(tuple(_pieces(ln[2:]) for ln in lines)))
        elif lines:
            blocks.append(Paragraph(_pieces(" ".join(lines))))
    return tuple(blocks)


# --- writing -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Writer:
    """How prose looks in one format: plain text (escaped), code and a filled inline formula,
    and the strings around a paragraph, a bulleted list and each of its items, between the
    items and between the blocks."""
    text: Callable[[str], str]
    code: Callable[[str], str]
    math: Callable[[str], str]
    paragraph: tuple[str, str] = ("", "")
    bullets: tuple[str, str] = ("", "")
    item: tuple[str, str] = ("", "")
    between_items: str = "\n"
    between_blocks: str = "\n\n"

    def compile(self, text: str) -> tuple[Union[str, Math], ...]:
        """The prose written as far as it can be without values: strings, and the formulas
        with placeholders between them."""
        out: list = []
        for k, block in enumerate(read(text)):
            if k:
                out.append(self.between_blocks)
            block.write(self, out)
        merged: list = []
        for part in out:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += part
            elif part != "":
                merged.append(part)
        return tuple(merged)


@lru_cache(maxsize=8192)
def _compiled(writer: Writer, text: str) -> tuple[Union[str, Math], ...]:
    return writer.compile(text)


def render(writer: Writer, text: str, values: Mapping[str, Any]) -> str:
    """Prose written by `writer`, with its placeholders filled from `values`."""
    parts = _compiled(writer, text)
    if len(parts) == 1 and isinstance(parts[0], str):
        return parts[0]
    return "".join(part if isinstance(part, str) else writer.math(part.fill(values))
                   for part in parts)


# --- checking ----------------------------------------------------------------------------
@lru_cache(maxsize=8192)
def _formulas(text: str) -> tuple[Math, ...]:
    return tuple(piece for block in read(text) for run in block.runs for piece in run
                 if isinstance(piece, Math) and piece.names)


def check_markup(text: str, values: Mapping[str, Any]) -> None:
    """Raise MarkupError if `text` would not render with `values`."""
    for math in _formulas(text):
        math.fill(values)


def _check_block(block, where: str) -> None:
    values = getattr(block, "values", {})
    try:
        if getattr(block, "text", ""):
            check_markup(block.text, values)
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
            check_markup(mistake.why, {})
        except MarkupError as exc:
            raise MarkupError(f"mistake {mistake.id}: {exc}") from None
