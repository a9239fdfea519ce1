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

__all__ = ["breakable", "display_lines", "matrix_cells", "open_pairs", "relation_terms", "split_display",
           "visible_length"]

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


#: A fraction whose numerator is a sum longer than this (visible characters) is set as
#: 1/denominator times the parenthesised sum in a display, so that it can break.
LONG_NUMERATOR = 50


def visible_length(tex: str) -> int:
    """A rough width of TeX in characters: a command counts as one character, braces and
    spaces as none, a fraction as its longer part."""
    text = re.sub(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|mathopen|mathclose)\b", "", tex)
    text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}",
                  lambda m: "x" * max(len(m.group(1)), len(m.group(2))), text)
    text = re.sub(r"\\[A-Za-z]+", "x", text)
    return len(re.sub(r"[{}\s^_]", "", text))


def _groups(tokens: list[str], start: int, count: int):
    """`count` brace groups from `start` (skipping spaces): ([tokens of each], next index),
    or None when the tokens there are not brace groups."""
    found, i = [], start
    for _ in range(count):
        while i < len(tokens) and tokens[i].isspace():
            i += 1
        if i >= len(tokens) or tokens[i] != "{":
            return None
        depth, j = 0, i
        while j < len(tokens):
            depth += tokens[j] == "{"
            depth -= tokens[j] == "}"
            if depth == 0:
                break
            j += 1
        if depth:
            return None
        found.append(tokens[i + 1:j])
        i = j + 1
    return found, i


def _has_outer_sum(tokens: list[str]) -> bool:
    braces = 0
    for k, tok in enumerate(tokens):
        braces += tok == "{"
        braces -= tok == "}"
        if braces == 0 and tok in ("+", "-") and k > 0:
            return True
    return False


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
        if tok == r"\frac" and braces == 0 and envs == 0 and marks:
            groups = _groups(tokens, i + 1, 2)
            if groups is not None:
                (num, den), after = groups
                # a long sum over a short denominator: (1/den)(num), so that the sum can break
                if visible_length("".join(num)) > LONG_NUMERATOR and _has_outer_sum(num):
                    out.append(rf"\frac{{1}}{{{''.join(den)}}}" + rf"\mathopen{{\left(\vphantom{{{''.join(num)}}}\right.}}"
                               + _rewrite(num, depth + 1, marks)
                               + rf"\mathclose{{\left.\vphantom{{{''.join(num)}}}\right)}}")
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


def relation_terms(text: str) -> list[tuple[str, str]] | None:
    """[(relation, term)] of a display's right-hand side that starts with a relation
    (`= A \\approx B` gives [("=", "A"), ("\\approx", "B")]); None when it does not."""
    tokens = _tokens(text.strip())
    pairs = _top_level_pairs(tokens)
    terms: list[tuple[str, list[str]]] = []
    braces = envs = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if i in pairs:
            terms[-1][1].extend(tokens[i:pairs[i] + 1]) if terms else None
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
        if braces == 0 and envs == 0 and tok in _RELATIONS:
            terms.append((tok, []))
        elif not terms:
            return None
        else:
            terms[-1][1].append(tok)
        i += 1
    return [(rel, "".join(body).strip()) for rel, body in terms]


def matrix_cells(term: str) -> list[list[str]] | None:
    """The cells of a term that is exactly one bmatrix, row by row; None otherwise."""
    match = re.fullmatch(r"\\begin\{bmatrix\}(.*)\\end\{bmatrix\}", term.strip(), re.S)
    if not match or r"\begin{bmatrix}" in match.group(1):
        return None
    return [[cell.strip() for cell in _split_outer(row, "&")]
            for row in _split_outer(match.group(1), r"\\")]


def _split_outer(text: str, separator: str) -> list[str]:
    """`text` split at `separator` tokens outside braces and environments."""
    parts, current, braces, envs = [], [], 0, 0
    for tok in _tokens(text):
        braces += tok == "{"
        braces -= tok == "}"
        envs += tok == r"\begin"
        envs -= tok == r"\end"
        if tok == separator and braces == 0 and envs == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(tok)
    parts.append("".join(current))
    return parts


#: The printed line, in the rough characters of `visible_length` (5.5 pt each at 11 pt,
#: 470 pt of text width), and the room a matrix column's bracket and gap takes.
LINE_CHARS, COLUMN_CHARS = 80, 2


def display_lines(math: str) -> list[tuple[str, str]]:
    """A displayed formula as [(left-hand side, rest)], usually one pair.  A display whose
    terms after its leading formulas are all matrices of one shape, too wide for a line (a
    matrix cannot be broken), becomes a first line with the formulas and one line per
    entry, ``(lhs)_{i,j} = a_{ij} = b_{ij}``."""
    lhs, rest = split_display(math)
    terms = relation_terms(rest) if lhs.strip() else None
    cells = [matrix_cells(term) for _, term in terms] if terms else []
    lead = next((k for k, c in enumerate(cells) if c is not None), len(cells))
    matrices = cells[lead:]
    if not matrices or any(c is None for c in matrices):
        return [(lhs, rest)]
    shapes = {(len(c), len(c[0])) for c in matrices}
    width = visible_length(lhs) + max(
        sum(max(visible_length(row[j]) for row in c) + COLUMN_CHARS for j in range(len(c[0])))
        for c in matrices)
    if len(shapes) != 1 or width <= LINE_CHARS:
        return [(lhs, rest)]
    rows, cols = shapes.pop()
    lines = [(lhs, " ".join(f"{rel} {term}" for rel, term in terms[:lead]))] if lead else []
    for i in range(rows):
        for j in range(cols):
            index = f"{i + 1}" if cols == 1 else f"{i + 1},{j + 1}"
            entry = " ".join(f"{rel} {c[i][j]}" for (rel, _), c in zip(terms[lead:], matrices))
            lines.append((rf"\left({lhs.strip()}\right)_{{{index}}} ", entry))
    return lines
