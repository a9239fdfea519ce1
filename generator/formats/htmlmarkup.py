"""Prose and mathematics as HTML, for the publishing formats (html, moodle, qti).

The prose (read by formats.prose: ``$…$`` inline mathematics with ``@name``
placeholders, ```code```, blank-line paragraphs, ``- `` lists) is written as HTML
with the mathematics in one of two forms:

* ``"mathml"``: MathML produced at build time from the TeX the printer writes
  (latex2mathml, with TeX's grouping and spacing restored where its output loses them:
  `mathml`), which browsers render natively: no script, no CDN; the fractions that carry
  an inline formula's content in display size, as on paper;
* ``"tex"``: the TeX itself between ``\\( … \\)`` (inline) or ``\\[ … \\]`` (display),
  HTML-escaped, for a platform whose MathJax filter typesets it (Moodle).  There plain
  text holding a backslash, a dollar or a brace is made inert (`inert`), so that neither
  MathJax nor Moodle's cloze parser reads it as syntax, and a brace in a formula that
  would open a cloze field is a character reference.

In both, plain text holding bidi formatting characters (U+202E, U+2066…U+2069, marks,
U+2028/U+2029) or right-to-left letters (a Hebrew or Arabic name) is balanced and isolated
in a <bdi>, so that it cannot reorder the page around it.

Every piece of plain text is escaped for HTML; nothing of a problem's prose or of
user text can open a tag or an entity.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from html import escape, unescape
from typing import Any, Callable, Mapping

from latex2mathml.converter import convert, convert_to_element
from markupsafe import Markup
from markupsafe import escape as markup_escape

from ..core.printing import tex
from .prose import Writer, render
from .texbreak import display_fractions

__all__ = ["MATH_MODES", "WRITERS", "balanced_bidi", "html_escape", "html_math", "html_text",
           "inert", "isolated", "isolated_plain", "mathml", "mode_text", "plain_html", "text_html",
           "value_math"]

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


# Unicode's explicit bidi formatting characters (UAX #9): each opener and what closes it
# (PDF an embedding or override, PDI an isolate); marks; and the separators that end a bidi
# paragraph (U+2029 and the like) or a line (U+2028).
_BIDI_OPENERS = {"\u202a": "\u202c", "\u202b": "\u202c", "\u202d": "\u202c",
                 "\u202e": "\u202c", "\u2066": "\u2069", "\u2067": "\u2069",
                 "\u2068": "\u2069"}
_PDF, _PDI = "\u202c", "\u2069"
_SEPARATORS = "\u2028\u2029\u0085\x1c\x1d\x1e"
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c" + _SEPARATORS + "]")
# Letters of the right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko, …): a name in
# one is isolated too, so that the text around it ("(s01)", "Student: ") keeps its order.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff"
                  "\U0001e800-\U0001efff]")


def balanced_bidi(text: str) -> str:
    """`text` with its bidi formatting balanced: a PDF or PDI that closes nothing the text
    opened is dropped, what it leaves open is closed at its end (by UAX #9's rules: a PDI
    closes the embeddings opened since its isolate; a PDF does not close an isolate), and a
    line or paragraph separator is a space."""
    out, open_ = [], []
    for ch in text:
        if ch in _BIDI_OPENERS:
            open_.append(_BIDI_OPENERS[ch])
        elif ch == _PDF:
            if not open_ or open_[-1] != _PDF:
                continue
            open_.pop()
        elif ch == _PDI:
            if _PDI not in open_:
                continue
            while open_.pop() != _PDI:
                pass
        elif ch in _SEPARATORS:
            ch = " "
        out.append(ch)
    return "".join(out + open_[::-1])


def isolated(text: Any, write: Callable[[str], str]) -> str:
    """`write(text)`, or for text holding bidi formatting characters `write` of it balanced
    in a <bdi>: whatever it holds, it cannot reorder the text around it."""
    text = str(text)
    if not _BIDI.search(text) and not _RTL.search(text):
        return write(text)
    return "<bdi>" + write(balanced_bidi(text)) + "</bdi>"


def isolated_plain(text: Any) -> str:
    """Plain text where no element can be (an HTML <title>): with bidi formatting
    characters, balanced between FSI and PDI (Unicode's own isolate)."""
    text = str(text)
    return ("\u2068" + balanced_bidi(text) + "\u2069" if _BIDI.search(text) or _RTL.search(text)
            else text)


def text_html(text: Any, mode: str | None = None, escape: Callable[[Any], Any] = html_escape) -> str:
    """Plain text (a user's or a problem's: a title, a name, a label, prose) as HTML:
    escaped, isolated if it holds bidi formatting (`isolated`), and under the "tex" mode
    made inert if MathJax or a cloze parser would read it (`mode_text`)."""
    return isolated(text, lambda plain: mode_text(str(escape(plain)), mode))


def inert(escaped: str) -> str:
    """Escaped HTML text with braces, backslashes and dollars as character references (no
    cloze field can start in it) in a span MathJax leaves alone (versions 2 and 3): it reads
    as written."""
    return f'<span class="tex2jax_ignore mathjax_ignore">{escaped.translate(_REFERENCES)}</span>'


def mode_text(escaped: str, mode: str | None) -> str:
    """Escaped plain text for `mode`: under "tex", made inert if it holds a character that
    MathJax or a cloze parser reads; otherwise as it is."""
    return inert(escaped) if mode == "tex" and _SYNTAX.search(escaped) else escaped


def plain_html(text: Any, mode: str | None = None) -> Markup:
    """User or problem text for a template (`text_html`), escaped as Jinja's autoescape
    does."""
    return Markup(text_html(text, mode, markup_escape))


def _protect_text(source: str) -> str:
    def fix(match):
        body = "".join(_XML_RESERVED.get(ch, ch) for ch in match.group(2))
        return match.group(1) + body + match.group(3)
    return _TEXT_ARG.sub(fix, source)


_MATHML_NS = ' xmlns="http://www.w3.org/1998/Math/MathML"'
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
# A closing delimiter -> its opening one (the same for | and ‖).
_FENCES = {")": "(", "]": "[", "}": "{", "\u27e9": "\u27e8", "|": "|", "\u2016": "\u2016",
           "\u2225": "\u2225"}
_SCRIPTS = ("msup", "msub", "msubsup", "munder", "mover", "munderover")
_SIGNS = {"\u2212", "+", "\u00b1", "\u2213", "-"}
# After these an operator is a sign: the start, a relation, an operator, an opening fence,
# a separator (closing fences, ′ and the like end an operand).
_ENDS_OPERAND = set(_FENCES) | {"\u2032", "\u2033", "!", "%", "\u2061"}
_THIN = "0.1667em"


def _text(node) -> str:
    return (node.text or "").strip()


def _is_mo(node) -> bool:
    return node is not None and node.tag == "mo"


def _group_scripted_fences(parent) -> None:
    """``( … <msup><mo>)</mo>2</msup>`` (TeX's ``(…)^2`` without \\left/\\right) as
    ``<msup><mrow>( … )</mrow>2</msup>``: the script belongs to the whole group."""
    children, out, changed = list(parent), [], False
    for node in children:
        base = node[0] if node.tag in _SCRIPTS and len(node) and out else None
        close = _text(base) if _is_mo(base) else ""
        if close in _FENCES:
            depth, start = 0, None
            for k in range(len(out) - 1, -1, -1):
                sib = out[k]
                if not _is_mo(sib):
                    continue
                if _text(sib) == close and close != _FENCES[close]:
                    depth += 1
                elif _text(sib) == _FENCES[close]:
                    if depth == 0:
                        start = k
                        break
                    depth -= 1
            if start is not None:
                row = ET.Element("mrow")
                row.extend(out[start:])
                node.remove(base)
                row.append(base)
                node.insert(0, row)
                out = out[:start]
                changed = True
        out.append(node)
    if changed:
        parent[:] = out


def _next_is_fence(siblings, index) -> bool:
    after = siblings[index + 1] if index + 1 < len(siblings) else None
    while after is not None and after.tag == "mrow" and len(after):
        after = after[0]
    return _is_mo(after) and (after.get("fence") == "true" or _text(after) in "([{\u27e8|\u2016")


def _space_operators(parent) -> None:
    """Spacing as TeX sets it: an operator name (max, min, tr) is followed by a thin space,
    none before a parenthesis; a sign after a relation, an operator or an opening fence is
    a prefix with no space (``= −0.5``, ``(−0.1)``); a slash and ∂ are ordinary symbols."""
    siblings = list(parent)
    previous = None
    for k, node in enumerate(siblings):
        core = node[0] if node.tag in _SCRIPTS and len(node) else node
        if core.tag != "mo" and node.tag != "mi":      # none of the cases below
            previous = node
            continue
        text = _text(core)
        if _is_mo(core) and len(text) > 1 and text.isalpha():
            core.set("lspace", "0")
            core.set("rspace", "0" if _next_is_fence(siblings, k) else _THIN)
        elif _is_mo(node) and text in _SIGNS and (
                previous is None or (_is_mo(previous) and _text(previous) not in _ENDS_OPERAND
                                     and previous.get("form") != "postfix")):
            node.set("form", "prefix")
            node.set("lspace", "0")
            node.set("rspace", "0")
        elif _is_mo(node) and text == "/":
            node.set("lspace", "0")
            node.set("rspace", "0")
        elif _is_mo(node) and text in ("\u2202", "\u2207"):
            node.tag = "mi"                  # italic, as TeX's \\partial and \\nabla
        elif node.tag == "mi" and len(text) > 1 and text.isalpha() and k + 1 < len(siblings) \
                and not _next_is_fence(siblings, k):
            parent.insert(list(parent).index(node) + 1, ET.Element("mspace", width=_THIN))
        previous = node


# What makes TeX's \\left( … \\right) grow past the text size: a fraction, a root, a
# matrix, limits, a sub- and superscript on one base, or a fence that grows itself.
_TALL = {"mfrac", "msqrt", "mroot", "mtable", "munder", "mover", "munderover", "msubsup"}


def _unstretch_small_fences(row) -> None:
    """``\\left( … \\right)`` around text-size content: fences of the text size, as TeX
    sets them (Chromium stretches them to the next size variant, which stands apart from
    the content and lifts a following exponent)."""
    children = list(row)
    if len(children) < 2 or not all(_is_mo(c) and c.get("fence") == "true" and
                                    c.get("stretchy") == "true" and c.get("minsize") is None
                                    for c in (children[0], children[-1])):
        return
    inner = [e for child in children[1:-1] for e in child.iter()]
    if any(e.tag in _TALL or (e.tag == "mo" and e.get("stretchy") == "true") for e in inner):
        return
    for fence in (children[0], children[-1]):
        fence.set("stretchy", "false")


_RELATIONS = {"=", ":", "\u2248", "<", ">", "\u2264", "\u2265", "\u2260", "\u2261", "\u2192"}


def _join_relations(parent) -> None:
    """Two relations side by side (``:=``) with no space between them, as in TeX."""
    siblings = list(parent)
    for first, second in zip(siblings, siblings[1:]):
        if second.tag != "mo":                         # both cases need an <mo> second
            continue
        if first.tag == "mi" and _text(first) == ":" and _is_mo(second) and _text(second) == "=":
            first.tag = "mo"                     # latex2mathml reads the ":" of := as a letter
            first.set("lspace", "0.2778em")
        if _is_mo(first) and _is_mo(second) and _text(first) in _RELATIONS \
                and _text(second) in _RELATIONS:
            first.set("rspace", "0")
            second.set("lspace", "0")


def _typeset(root) -> None:
    for parent in list(root.iter()):
        if len(parent) > 1:                       # a script's group is among its siblings
            _group_scripted_fences(parent)
    for parent in list(root.iter()):
        if len(parent):
            _space_operators(parent)
            _join_relations(parent)
            if parent.tag == "mrow":
                _unstretch_small_fences(parent)


def _named_entity(match) -> str:
    name = match.group(1)
    return match.group(0) if name in _XML_ENTITIES else unescape(match.group(0))


@lru_cache(maxsize=65536)
def mathml(source: str, display: bool = False) -> str:
    """One formula as a MathML <math> element (display: a block, centred), from
    latex2mathml's conversion with TeX's grouping and spacing restored (`_typeset`): a
    script on a parenthesised group takes the group as its base; operator names, signs,
    slashes and ∂ are spaced as TeX spaces them; ``\\left( … \\right)`` around text-size
    content keeps text-size fences; two relations side by side (:=) touch."""
    source = _protect_text(source.strip())
    root = _converted(source, "block" if display else "inline")
    if root is None:
        return _mathml_from_text(source, display)
    _typeset(root)
    return _serialized(root).replace("<math", "<math" + _MATHML_NS, 1)


def _converted(source: str, display: str):
    """latex2mathml's <math> element of `source` (its texts read back, `_read_back`; no
    xmlns attribute), put together from the cached elements of its pieces (`_pieces`) when
    it has several or is a matrix; None when only its text output can tell."""
    pieces = _pieces(source)
    if pieces is None or (len(pieces) == 1 and not _MATRIX.fullmatch(pieces[0].strip())):
        root = convert_to_element(source, display=display)
        if not _read_back(root):
            return None
        del root.attrib["xmlns"]
        return root
    root = ET.Element("math", display=display)
    row = ET.SubElement(root, "mrow")
    for piece in pieces:
        matrix = _MATRIX.fullmatch(piece.strip())
        elements = (_matrix_row(matrix.group(1), matrix.group(2), display) if matrix
                    else _piece_row(piece, display))
        if elements is None:
            return None
        row.extend([_copy(element) for element in elements])
    return root


def _copy(element):
    """A copy of an element and everything below it; an element met twice (a matrix's
    equal cells share theirs) is copied twice."""
    copied = ET.Element(element.tag, element.attrib)
    copied.text = element.text
    if len(element):
        copied.extend([_copy(child) for child in element])
    return copied


@lru_cache(maxsize=8192)
def _piece_row(piece: str, display: str):
    """The <mrow> of one piece's <math>, its texts read back; None if it does not convert
    alone or only its text output can tell.  Shared: never changed, only copied."""
    try:
        root = convert_to_element(piece, display=display)
    except Exception:  # noqa: BLE001 - the whole formula is converted instead
        return None
    return root[0] if _read_back(root) else None


@lru_cache(maxsize=8192)
def _cell_row(cell: str, display: str):
    """A matrix cell's elements (in an <mrow>), as a formula of its own: in pieces too."""
    root = _converted(cell, display)
    return None if root is None else root[0]


@lru_cache(maxsize=1024)
def _matrix_row(environment: str, body: str, display: str):
    """The elements of ``\\begin{environment} body \\end{environment}`` (in an <mrow>): the
    matrix of its shape with a letter in each cell (cached), each cell's elements put in
    place of the letter.  latex2mathml converts each token of a cell into the cell as it
    converts a formula's tokens into its row; `_pieces` makes sure of each cell as of a
    piece, and that no token reaches across a cell's ends."""
    rows = _split_outer(body, "\\\\")
    if rows is None:
        return None
    cells = [_split_outer(row, "&") for row in rows]
    if any(row is None for row in cells):
        return None
    texts = [cell for row in cells for cell in row if cell.strip()]
    if any(cell.lstrip().startswith(("^", "_", "'")) or _pieces(cell) is None for cell in texts):
        return None
    shape = "\\\\".join("&".join("a" if cell.strip() else "" for cell in row) for row in cells)
    skeleton = _piece_row(rf"\begin{{{environment}}}{shape}\end{{{environment}}}", display)
    if skeleton is None:
        return None
    matrix = _copy(skeleton)
    filled = [cell for cell in matrix.iter("mtd") if len(cell) or cell.text]
    if len(filled) != len(texts):
        return None
    for cell, text in zip(filled, texts):
        if len(cell) != 1 or cell.text or cell[0].tag != "mi" or cell[0].text != "a" or len(cell[0]):
            return None
        elements = _cell_row(text, display)
        if elements is None:
            return None
        cell.remove(cell[0])
        cell.extend(elements)            # shared with the cell's cache: copied when used
    return matrix


_MATRIX = re.compile(r"\\begin\{(bmatrix|pmatrix)\}(.*)\\end\{\1\}", re.S)


def _split_outer(text: str, separator: str) -> list[str] | None:
    """`text` split at `separator` outside braces and \\left…\\right; None when it holds an
    environment or a row separator with a spacing argument (``\\\\[2pt]``)."""
    parts, depth, start, position = [], 0, 0, 0
    for tok in _PIECE_TOKEN.findall(text):
        at, position = position, position + len(tok)
        if tok.startswith((r"\begin", r"\end")) or (tok == "\\\\" and text[position:].lstrip().startswith("[")):
            return None
        if tok in _OPENS:
            depth += 1
        elif tok in _CLOSES:
            depth -= 1
        elif tok == separator and depth == 0:
            parts.append(text[start:at])
            start = position
    parts.append(text[start:])
    return parts


# A formula is converted in pieces, cut before the relation and operator signs at its outer
# level: the symbolic left-hand sides and the short numbers that recur in every variant are
# converted once.  latex2mathml turns the outer level of a formula into one row of
# elements, each from tokens next to each other; a piece converts alone to its part of that
# row when no element's tokens cross a cut.  `_pieces` cuts only where that is sure: every
# command at the outer level is one it knows (a symbol, or a command whose arguments
# follow it), every argument and script is complete before a cut, and nothing in the
# formula changes how later tokens are read (a comment, a macro, \color, \over, numbered
# environments, a font or size switch).
_PIECE_TOKEN = re.compile(r"\\(?:begin|end)\s*\{[A-Za-z]+\*?\}"
                          r"|\\(?:text|textrm|textit|textbf|textup|textnormal|mbox)\s*\{[^{}]*\}"
                          r"|\\[A-Za-z]+|\\.|\s+|[A-Za-z0-9.,;:!?'()\[\]|*/]+|.", re.S)
_WHOLE_ONLY = re.compile(r"%|\\(?:newcommand|renewcommand|def|let|DeclareMathOperator|tag|label"
                         r"|verb|color|textcolor|over|atop|above|choose|brace|brack|not|limits"
                         r"|nolimits|displaystyle|textstyle|scriptstyle|scriptscriptstyle"
                         r"|rm|bf|it|sf|tt|cal|frak|mit|Bbb|tiny|scriptsize|footnotesize|small"
                         r"|normalsize|large|Large|LARGE|huge|Huge|mathchoice|matrix|pmatrix"
                         r"|bmatrix|Bmatrix|vmatrix|Vmatrix|array|substack|hline|cr)(?![A-Za-z])"
                         r"|\\(?:text|textrm|textit|textbf|textup|textnormal|mbox)(?![A-Za-z])\s*(?!\{[^{}]*\})"
                         r"|\{(?:align|eqnarray|gather|multline|equation|split)")
_CUTS = frozenset(["=", "<", ">", "+", "-", r"\approx", r"\le", r"\leq", r"\ge", r"\geq",
                   r"\ne", r"\neq", r"\cdot", r"\times", r"\qquad", r"\to", r"\in"])
# Commands that convert alone, taking no argument: symbols, operator names, spaces.
_SYMBOLS = frozenset(r"""\alpha \beta \gamma \delta \epsilon \varepsilon \zeta \eta \theta
    \iota \kappa \lambda \mu \nu \xi \pi \rho \sigma \tau \upsilon \phi \varphi \chi \psi
    \omega \Gamma \Delta \Theta \Lambda \Xi \Pi \Sigma \Phi \Psi \Omega \partial \nabla \ell
    \infty \cdot \times \pm \mp \approx \le \leq \ge \geq \ne \neq \equiv \sim \to \in
    \leftarrow \rightarrow \Rightarrow \circ \odot \otimes \top \dots \ldots \cdots
    \lVert \rVert \lvert \rvert \lfloor \rfloor \lceil \rceil \langle \rangle \sum \prod
    \max \min \log \ln \exp \tanh \sinh \cosh \sin \cos \tan \arg \det \qquad \quad""".split())
# Commands followed by their arguments (braced groups or single tokens): how many.
_ARGUMENTS = {r"\frac": 2, r"\dfrac": 2, r"\tfrac": 2, r"\hat": 1, r"\bar": 1, r"\tilde": 1,
              r"\vec": 1, r"\dot": 1, r"\mathrm": 1, r"\mathcal": 1, r"\mathbb": 1,
              r"\mathbf": 1, r"\boldsymbol": 1, r"\operatorname": 1, r"\sqrt": 1,
              r"\bigl": 1, r"\bigr": 1, r"\Bigl": 1, r"\Bigr": 1, r"\biggl": 1,
              r"\biggr": 1, r"\Biggl": 1, r"\Biggr": 1, "^": 1, "_": 1}
# Characters that convert alone at the outer level (a run of them is read as one token
# here: an argument then looks longer than it is, and a cut after it is only missed).
_PLAIN = re.compile(r"[A-Za-z0-9.,;:!?'()\[\]|*/]+|[-+=<>]")
_OPENS, _CLOSES = frozenset(["{", r"\left"]), frozenset(["}", r"\right"])


@lru_cache(maxsize=8192)
def _pieces(source: str) -> list[str] | None:
    """`source` cut before the relation and operator signs at its outer level (not in
    braces, \\left…\\right or an environment), and around a matrix there, as described
    above; None when the cuts are not sure."""
    if _WHOLE_ONLY.search(source):
        return None
    cuts, depth, pending, seen, position = [], 0, 0, False, 0
    delimiter, opened = False, None     # the next token is the delimiter of \left or \right
    after_matrix = None                 # where a matrix at the outer level just ended
    for tok in _PIECE_TOKEN.findall(source):
        at, position = position, position + len(tok)
        if tok.isspace():
            continue
        if delimiter:
            delimiter = False
            continue
        if depth == 0:
            if after_matrix is not None and tok[0] not in "^_'":
                cuts.append(after_matrix)       # nothing after the matrix reaches back
            after_matrix = None
            if seen and not pending and (tok in _CUTS or _MATRIX_BEGIN.fullmatch(tok)):
                cuts.append(at)
            if tok in _ARGUMENTS:
                if pending or (tok == r"\sqrt" and source[position:].lstrip().startswith("[")):
                    return None
                pending = _ARGUMENTS[tok]
                seen = True
                continue
            if not (tok in _OPENS or tok in _SYMBOLS or _PLAIN.fullmatch(tok)
                    or tok.startswith((r"\begin", r"\text", r"\mbox"))
                    or (len(tok) == 2 and tok[0] == "\\" and not tok[1].isalpha())):
                return None
            if _MATRIX_BEGIN.fullmatch(tok) and not pending:
                opened = tok
            pending -= pending > 0
            seen = True
        if tok in _OPENS or tok.startswith(r"\begin"):
            depth += 1
        elif tok in _CLOSES or tok.startswith(r"\end"):
            depth -= 1
            if depth < 0:
                return None
            if depth == 0 and tok.startswith(r"\end") and opened is not None:
                after_matrix, opened = position, None
        delimiter = tok in (r"\left", r"\right")
    if depth or pending:
        return None
    bounds = [0, *dict.fromkeys(c for c in cuts if c), len(source)]
    return [source[a:b] for a, b in zip(bounds, bounds[1:]) if source[a:b].strip()]


_MATRIX_BEGIN = re.compile(r"\\begin\s*\{[bp]matrix\}")


def _mathml_from_text(source: str, display: bool) -> str:
    """`mathml` through latex2mathml's text: its output read back as XML (the entity and
    escaping rules that `_read_back` applies to the elements, for the rare formula whose
    text it leaves to this)."""
    out = convert(source, display="block" if display else "inline")
    # latex2mathml keeps TeX's alignment character in a \text argument as it is; any
    # other stray "&" would not be XML: escape what is not already an entity.
    out = _entities(out)
    root = ET.fromstring(out.replace(_MATHML_NS, "", 1))
    _typeset(root)
    return ET.tostring(root, encoding="unicode").replace("<math", "<math" + _MATHML_NS, 1)


def _entities(text: str) -> str:
    text = re.sub(r"&(?!#x?[0-9A-Fa-f]+;|[A-Za-z]+;)", "&amp;", text)
    return re.sub(r"&([A-Za-z]+);", _named_entity, text)


# What XML reads other than as itself in element content: references, markup, "]]>",
# line ends it normalises, and the characters it refuses.
_NOT_LITERAL = re.compile("[&<\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|]]>")
_NOT_LITERAL_ATTRIBUTE = re.compile("[&<>\"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f"
                                    "\ud800-\udfff\ufffe\uffff]")


@lru_cache(maxsize=4096)
def _element_text(text: str) -> str | None:
    """A text latex2mathml holds (its symbols as character references: ``&#x0003D;``) as
    the XML reader of its output gives it back; None when the output would not read as one
    text (markup in it, or not XML)."""
    try:
        element = ET.fromstring("<t>" + _entities(text) + "</t>")
    except ET.ParseError:
        return None
    return None if len(element) else (element.text or "")


def _read_back(root) -> bool:
    """The texts of latex2mathml's elements as reading its text output back as XML gives
    them (`_mathml_from_text`: its output is its elements' texts unescaped, entities
    resolved), in place; False (the tree left half done) when a text or attribute holds
    what only that reading can decide."""
    for element in root.iter():
        if element.tail is not None:
            return False
        for value in element.attrib.values():
            if _NOT_LITERAL_ATTRIBUTE.search(value):
                return False
        text = element.text
        if text and _NOT_LITERAL.search(text):
            text = _element_text(text)
            if text is None:
                return False
            element.text = text
    return True


def _serialized(element) -> str:
    """`ET.tostring(element, encoding="unicode")` for a tree without namespaces, comments
    or tails (what `mathml` holds), written directly."""
    out: list[str] = []
    _write(element, out.append)
    return "".join(out)


def _write(element, write) -> None:
    tag = element.tag
    if element.attrib:
        write("<" + tag + "".join(f' {key}="{_escape_attribute(value)}"'
                                  for key, value in element.attrib.items()))
    else:
        write("<" + tag)
    text = element.text
    if text or len(element):
        write(">")
        if text:
            write(_escape_text(text))
        for child in element:
            _write(child, write)
        write("</" + tag + ">")
    else:
        write(" />")


def _escape_text(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _escape_attribute(value: str) -> str:
    if _NOT_LITERAL_ATTRIBUTE.search(value):
        return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;")
                .replace("\t", "&#09;"))
    return value


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
        return text_html(plain, mode)
    return Writer(text=text, code=lambda code: "<code>" + text(code) + "</code>",
                  math=lambda math: html_math(display_fractions(math) if mode == "mathml" else math,
                                              False, mode),
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
