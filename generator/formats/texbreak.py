"""Displayed formulas that TeX may break across lines, for the paper formats.

A display that fits the line is set centred, as it is; one that does not is set as a
paragraph of display-style math, broken *before* a relation sign (preferred) or a
binary operator, with every continuation line aligned after the left-hand side, so
that the next "=" or "+" starts under the first "=".  Nothing is ever scaled: the
formula keeps the body size.

TeX can only break a formula at its outer level: not inside braces, and not between
``\\left(`` and ``\\right)``.  `breakable` therefore rewrites the outer-level delimiter
pairs of a display as ``\\mathopen{\\left(\\vphantom{X}\\right.} X
\\mathclose{\\left.\\vphantom{X}\\right)}``: the same delimiter sizes, with X itself in the
outer list; and it marks the break points with penalties (``\\wsgenRelBreak``,
``\\wsgenBinBreak``, deeper inside delimiters costing more).  The macros are defined in
the PDF preamble (formats/pdf.py).
"""
from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["breakable", "open_pairs", "split_display"]

# A control word, a control symbol, or one character.
_TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|.", re.S)
_RELATIONS = {"=", "<", ">", r"\approx", r"\le", r"\leq", r"\ge", r"\geq", r"\ne", r"\neq",
              r"\equiv", r"\sim", r"\simeq", r"\to", r"\mapsto", r"\Rightarrow",
              r"\Leftrightarrow", r"\propto", r"\in"}
_BINARY = {"+", "-", r"\cdot", r"\times", r"\pm", r"\mp"}
# After these a "-" or "+" is a sign, not an operator.
_OPERAND_ENDS_NOT = _RELATIONS | _BINARY | {"(", "[", r"\{", ",", r"\left", r"\middle", "&",
                                            r"\\", r"\colon", ":", r"\qquad", r"\quad"}
_SEPARATORS = {r"\qquad", r"\quad"}


class _Pair(NamedTuple):
    open_at: int           # token index of \left
    close_at: int          # token index of \right


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _delimiter(tokens: list[str], i: int) -> tuple[str, int]:
    """The delimiter after \\left/\\right at i (skipping spaces) and the next index."""
    j = i + 1
    while j < len(tokens) and tokens[j].isspace():
        j += 1
    return (tokens[j] if j < len(tokens) else ""), j + 1


def _top_level_pairs(tokens: list[str]) -> dict[int, int]:
    """{index of \\left: index of its \\right} for the pairs at the outer level (brace depth
    0, outside environments and other pairs)."""
    pairs, stack, braces, envs = {}, [], 0, 0
    for i, tok in enumerate(tokens):
        if tok == "{":
            braces += 1
        elif tok == "}":
            braces -= 1
        elif tok == r"\begin":
            envs += 1
        elif tok == r"\end":
            envs -= 1
        elif tok == r"\left" and braces == 0 and envs == 0:
            stack.append(i)
        elif tok == r"\right" and braces == 0 and envs == 0 and stack:
            start = stack.pop()
            if not stack:
                pairs[start] = i
    return pairs


def breakable(text: str) -> str:
    """`text` (display math) with its outer-level delimiter pairs opened up and its break
    points marked, as described in the module's docstring."""
    return _rewrite(_tokens(text), 0)


def open_pairs(text: str) -> str:
    """Inline math with its outer-level delimiter pairs opened up (no break marks): TeX's
    own line breaking of a paragraph can then break inside them, after a relation or an
    operator, as it does elsewhere in a formula."""
    return _rewrite(_tokens(text), 0, marks=False)


def _rewrite(tokens: list[str], depth: int, marks: bool = True) -> str:
    pairs = _top_level_pairs(tokens)
    out: list[str] = []
    braces = envs = 0
    previous = ""                       # the last significant token at this level
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if i in pairs and braces == 0 and envs == 0:
            close = pairs[i]
            left, body_start = _delimiter(tokens, i)
            right, after = _delimiter(tokens, close)
            inner_tokens = tokens[body_start:close]
            inner = "".join(inner_tokens)
            if r"\middle" in inner_tokens:
                out.append("".join(tokens[i:after]))
            else:
                out.append(rf"\mathopen{{\left{left}\vphantom{{{inner}}}\right.}}"
                           + _rewrite(inner_tokens, depth + 1, marks)
                           + rf"\mathclose{{\left.\vphantom{{{inner}}}\right{right}}}")
            previous = ")"
            i = after
            continue
        if tok == "{":
            braces += 1
        elif tok == "}":
            braces -= 1
        elif tok == r"\begin":
            envs += 1
        elif tok == r"\end":
            envs -= 1
        outer = braces == 0 and envs == 0 and marks
        if outer and tok in _RELATIONS and not (tok == "=" and previous == ":"):
            out.append(rf"\wsgenRelBreak{{{depth}}}")
        elif outer and tok == ":" and i + 1 < len(tokens) and tokens[i + 1] == "=":
            out.append(rf"\wsgenRelBreak{{{depth}}}")        # ":=" breaks before the colon
        elif outer and tok in _BINARY and previous and previous not in _OPERAND_ENDS_NOT:
            out.append(rf"\wsgenBinBreak{{{depth}}}")
        elif outer and tok in _SEPARATORS and previous == ",":
            out.append(r"\wsgenSepBreak")
        out.append(tok)
        if not tok.isspace() and braces == 0 and envs == 0 and marks:
            previous = tok
        i += 1
    return "".join(out)


def split_display(text: str) -> tuple[str, str]:
    """(left-hand side, the rest from its first outer-level relation sign on); the left-hand
    side is empty when the display has no relation at its outer level."""
    tokens = _tokens(text)
    braces = envs = 0
    pairs = _top_level_pairs(tokens)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if i in pairs:
            i = pairs[i] + 1
            continue
        if tok == "{":
            braces += 1
        elif tok == "}":
            braces -= 1
        elif tok == r"\begin":
            envs += 1
        elif tok == r"\end":
            envs -= 1
        elif braces == 0 and envs == 0:
            if tok in _RELATIONS or (tok == ":" and i + 1 < len(tokens) and tokens[i + 1] == "="):
                return "".join(tokens[:i]), "".join(tokens[i:])
        i += 1
    return "", text
