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
from functools import lru_cache
from typing import NamedTuple

__all__ = ["breakable", "display_fractions", "display_lines", "matrix_cells", "open_pairs", "relation_terms", "split_display",
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
    nesting = _Nesting()
    for k, tok in enumerate(tokens):
        nesting.read(tok)
        if nesting.outer and tok in ("+", "-") and k > 0:
            return True
    return False


class _Nesting:
    """How deep the tokens read so far are nested in braces and environments."""
    __slots__ = ("braces", "envs")

    def __init__(self):
        self.braces = self.envs = 0

    def read(self, tok: str) -> None:
        self.braces += (tok == "{") - (tok == "}")
        self.envs += (tok == r"\begin") - (tok == r"\end")

    @property
    def outer(self) -> bool:
        return self.braces == 0 and self.envs == 0


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
    if r"\left" not in tokens:
        return {}
    pairs, stack = {}, []
    braces = envs = 0                   # as _Nesting counts them, inline: this runs per token
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


def _opened(left: str, inner: list[str], right: str, depth: int, marks: bool) -> str:
    """`\\left<left> inner \\right<right>` with `inner` at the outer level of the formula:
    delimiters of the same size (phantoms of `inner`), `inner` rewritten one level deeper."""
    phantom = "".join(inner)
    return (rf"\mathopen{{\left{left}\vphantom{{{phantom}}}\right.}}"
            + _rewrite(inner, depth + 1, marks)
            + rf"\mathclose{{\left.\vphantom{{{phantom}}}\right{right}}}")


def _rewrite(tokens: list[str], depth: int, marks: bool = True) -> str:
    pairs = _top_level_pairs(tokens)
    out: list[str] = []
    nesting = _Nesting()
    previous = ""                       # the last significant token at this level
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if i in pairs and nesting.outer:
            left, body_start = _delimiter(tokens, i)
            right, after = _delimiter(tokens, pairs[i])
            inner = tokens[body_start:pairs[i]]
            out.append("".join(tokens[i:after]) if r"\middle" in inner
                       else _opened(left, inner, right, depth, marks))
            previous, i = ")", after
            continue
        if tok == r"\frac" and nesting.outer and marks:
            groups = _groups(tokens, i + 1, 2)
            if groups is not None:
                (num, den), after = groups
                # a long sum over a short denominator: (1/den)(num), so that the sum can break
                if visible_length("".join(num)) > LONG_NUMERATOR and _has_outer_sum(num):
                    out.append(rf"\frac{{1}}{{{''.join(den)}}}" + _opened("(", num, ")", depth, marks))
                    previous, i = ")", after
                    continue
        nesting.read(tok)
        outer = nesting.outer and marks
        if outer and tok in _RELATIONS and not (tok == "=" and previous == ":"):
            out.append(rf"\wsgenRelBreak{{{depth}}}")
        elif outer and tok == ":" and i + 1 < len(tokens) and tokens[i + 1] == "=":
            out.append(rf"\wsgenRelBreak{{{depth}}}")        # ":=" breaks before the colon
        elif outer and tok in _BINARY and previous and previous not in _OPERAND_ENDS_NOT:
            out.append(rf"\wsgenBinBreak{{{depth}}}")
        elif outer and tok in _SEPARATORS and previous == ",":
            out.append(r"\wsgenSepBreak")
        out.append(tok)
        if not tok.isspace() and outer:
            previous = tok
        i += 1
    return "".join(out)


def _small_fraction(numerator: list[str], denominator: list[str]) -> bool:
    """A number over a single symbol (1/m, 1/2, 1/\\sqrt{d}): a factor, not the content."""
    return "".join(numerator).strip().isdigit() and visible_length("".join(denominator)) <= 2


def display_fractions(text: str) -> str:
    """Inline math with the fractions that carry its content in display size (``\\dfrac``):
    those at its outer level (not in a script, a root or another fraction), except a number
    over a single symbol (``\\frac{1}{m}``), which reads well small."""
    if r"\frac" not in text:
        return text
    tokens = _tokens(text)
    out: list[str] = []
    nesting = _Nesting()
    previous = ""
    for i, tok in enumerate(tokens):
        if tok == r"\frac" and nesting.outer and previous not in ("^", "_"):
            groups = _groups(tokens, i + 1, 2)
            if groups is not None and not _small_fraction(*groups[0]):
                tok = r"\dfrac"
        nesting.read(tok)
        out.append(tok)
        if not tok.isspace():
            previous = tok
    return "".join(out)


def split_display(text: str) -> tuple[str, str]:
    """(left-hand side, the rest from its first outer-level relation sign on); the left-hand
    side is empty when the display has no relation at its outer level."""
    tokens = _tokens(text)
    for i, _, tok, outer in _outer_tokens(tokens):
        if outer and (tok in _RELATIONS or (tok == ":" and tokens[i + 1:i + 2] == ["="])):
            return "".join(tokens[:i]), "".join(tokens[i:])
    return "", text


def _outer_tokens(tokens: list[str]):
    """(start, end, token, whether it is at the outer level) for every token; an outer
    delimiter pair comes whole, as tokens[start:end] with token None."""
    pairs = _top_level_pairs(tokens)
    braces = envs = 0                   # as _Nesting counts them, inline: this runs per token
    i, count = 0, len(tokens)
    while i < count:
        if i in pairs:
            yield i, pairs[i] + 1, None, False
            i = pairs[i] + 1
            continue
        tok = tokens[i]
        if tok == "{":
            braces += 1
        elif tok == "}":
            braces -= 1
        elif tok == r"\begin":
            envs += 1
        elif tok == r"\end":
            envs -= 1
        yield i, i + 1, tok, braces == 0 and envs == 0
        i += 1


def relation_terms(text: str) -> list[tuple[str, str]] | None:
    """[(relation, term)] of a display's right-hand side that starts with a relation
    (`= A \\approx B` gives [("=", "A"), ("\\approx", "B")]); None when it does not."""
    terms = _relation_terms(text)
    return None if terms is None else list(terms)


@lru_cache(maxsize=4096)
def _relation_terms(text: str) -> tuple[tuple[str, str], ...] | None:
    # cached: a display's lines are read for the paper and the HTML formats, and its terms
    # again for the HTML's lines
    tokens = _tokens(text.strip())
    terms: list[tuple[str, list[str]]] = []
    for start, end, tok, outer in _outer_tokens(tokens):
        if outer and tok in _RELATIONS:
            terms.append((tok, []))
        elif not terms:
            return None
        else:
            terms[-1][1].extend(tokens[start:end])
    return tuple((rel, "".join(body).strip()) for rel, body in terms)


def matrix_cells(term: str) -> list[list[str]] | None:
    """The cells of a term that is exactly one bmatrix, row by row; None otherwise."""
    match = re.fullmatch(r"\\begin\{bmatrix\}(.*)\\end\{bmatrix\}", term.strip(), re.S)
    if not match or r"\begin{bmatrix}" in match.group(1):
        return None
    return [[cell.strip() for cell in _split_outer(row, "&")]
            for row in _split_outer(match.group(1), r"\\")]


def _split_outer(text: str, separator: str) -> list[str]:
    """`text` split at `separator` tokens outside braces and environments."""
    if separator not in text:
        return [text]
    parts, current, nesting = [], [], _Nesting()
    for tok in _tokens(text):
        nesting.read(tok)
        if tok == separator and nesting.outer:
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
    return list(_display_lines(math))


@lru_cache(maxsize=4096)
def _display_lines(math: str) -> tuple[tuple[str, str], ...]:
    # cached: the paper and the HTML formats of one build read the same displays
    return tuple(_lines(math))


def _lines(math: str) -> list[tuple[str, str]]:
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
