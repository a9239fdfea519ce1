"""Prose for Markdown and LaTeX: how plain text is escaped, and the two prose writers.

The prose is read by formats.prose; this module says how it looks in the two text
markups.  Plain text is escaped for the target format, so no prose character can act
as Markdown or LaTeX syntax: Markdown escapes its punctuation; LaTeX typesets every
character as itself, with the scripts beyond T1 (Greek, Cyrillic, the rest of Latin
Extended-A) drawn through the preamble's macros, and a text holding any other script
(Vietnamese, CJK, Arabic, Hebrew, …) set whole as ``\\wsgenUnicode{…}``: the documents
holding one are typeset by LuaLaTeX with OpenType fonts (formats/pdf.py,
formats/texfonts.py), the others by pdfLaTeX as before.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import groupby
from typing import Any, Mapping

from .prose import Writer, render
from .texbreak import display_fractions, open_pairs

__all__ = ["LATEX", "LONG_WORD", "MARKDOWN", "TEX_UNICODE", "WRITERS", "escape_markdown",
           "escape_tex", "fit_candidates", "latin_only", "render_text", "unicode_only", "UNICODE_MARK"]

# Parentheses stay as they are: "\(" would open inline math under MathJax (Jupyter).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|$~^])")


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


# Characters beyond ASCII that the LaTeX documents can typeset: those pdfLaTeX's utf8
# input sets in T1/TS1 (measured on TeX Live 2022: Latin-1, most of Latin Extended-A,
# Romanian, some of Latin Extended-B and Additional, punctuation), and these, declared
# in the preamble.
TEX_UNICODE = {"\u2016": r"\textbardbl{}", "\u00b2": r"\textsuperscript{2}",
               "\u00b3": r"\textsuperscript{3}", "\u2212": "-", "\u2192": r"\textrightarrow{}",
               "\u2264": r"\ensuremath{\le}", "\u2265": r"\ensuremath{\ge}",
               "\u00d7": r"\texttimes{}", "\u2013": "--", "\u2014": "---",
               "\u2018": "`", "\u2019": "'", "\u201c": "``", "\u201d": "''",
               "\u03b1": r"\ensuremath{\alpha}", "\u03bb": r"\ensuremath{\lambda}",
               "\u03c3": r"\ensuremath{\sigma}", "\u2248": r"\ensuremath{\approx}",
               # symbols of the problems' prose (labels and reasons of mistakes, titles)
               "\u2032": r"\ensuremath{'}", "\u1d40": r"\ensuremath{^{\top}}",
               "\u1d62": r"\ensuremath{_i}", "\u2c7c": r"\ensuremath{_j}",
               "\u2081": r"\ensuremath{_1}", "\u2082": r"\ensuremath{_2}",
               "\u2113": r"\ensuremath{\ell}", "\u21d4": r"\ensuremath{\Leftrightarrow}",
               "\u2202": r"\ensuremath{\partial}", "\u221a": r"\ensuremath{\surd}",
               "\u221e": r"\ensuremath{\infty}", "\u2260": r"\ensuremath{\neq}",
               "\u2272": r"\ensuremath{\lesssim}", "\u2299": r"\ensuremath{\odot}",
               "\U0001d4a2": r"\ensuremath{\mathcal{G}}"}
_T1_RANGES = ((0x20, 0x7E), (0xA0, 0x125), (0x128, 0x137), (0x139, 0x13E), (0x141, 0x148),
              (0x14A, 0x165), (0x168, 0x17E), (0x192, 0x192), (0x1C4, 0x1D4), (0x1E2, 0x1E3),
              (0x1E6, 0x1EB), (0x1F0, 0x1F0), (0x1F4, 0x1F5), (0x218, 0x21B), (0x232, 0x233),
              (0x237, 0x237), (0x1E02, 0x1E03), (0x1E0D, 0x1E0D), (0x1E1E, 0x1E21),
              (0x1E25, 0x1E25), (0x1E30, 0x1E31), (0x1E37, 0x1E37), (0x1E43, 0x1E43),
              (0x1E45, 0x1E45), (0x1E47, 0x1E47), (0x1E5B, 0x1E5B), (0x1E63, 0x1E63),
              (0x1E6D, 0x1E6D), (0x1E8E, 0x1E91), (0x1E9E, 0x1E9E), (0x1EF2, 0x1EF3),
              (0x2010, 0x2016), (0x2018, 0x201A), (0x201C, 0x201E), (0x2020, 0x2022),
              (0x2026, 0x2026), (0x2030, 0x2031), (0x2039, 0x203B), (0x203D, 0x203D),
              (0x2044, 0x2044), (0x204E, 0x204E), (0x2052, 0x2052), (0x2103, 0x2103),
              (0x2116, 0x2117), (0x211E, 0x211E), (0x2120, 0x2120), (0x2122, 0x2122),
              (0x2126, 0x2127), (0x212E, 0x212E), (0x2190, 0x2193))
_T1 = frozenset(chr(c) for lo, hi in _T1_RANGES for c in range(lo, hi + 1)) | frozenset(TEX_UNICODE)

# The rest of Latin Extended-A, which T1 lacks: drawn from glyphs it has (the preamble's
# \wsgenStroke overlays a bar).  Like Greek and Cyrillic below, each is typeset inside a
# PDF ActualText span, so that the PDF's text (copy, search, pdftotext) is the character.
_LATIN_DRAWN = {"\u0126": r"\wsgenStroke{H}{1.15ex}{0}{1}", "\u0127": r"\wsgenStroke{h}{1.3ex}{-.05}{.55}",
                "\u0138": r"{\scshape k}", "\u013f": r"L\textperiodcentered{}",
                "\u0140": r"l\textperiodcentered{}", "\u0149": r"\textquoteright{}n",
                "\u0166": r"\wsgenStroke{T}{.75ex}{.25}{.5}", "\u0167": r"\wsgenStroke{t}{.5ex}{.05}{.6}",
                "\u017f": "s"}

# Greek in the Symbol font (URW's, in every TeX Live): character -> (Symbol slot, accent);
# accents: "'" tonos, '"' dialytika (both: dialytika with tonos).
_GREEK_BASE = dict(zip("ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩαβγδεζηθικλμνξοπρςστυφχψωϑϕϖ",
                       "ABGDEZHQIKLMNXOPRSTUFCYWabgdezhqiklmnxoprVstufcywJjv"))
_GREEK = {ch: (slot, "") for ch, slot in _GREEK_BASE.items()}
_GREEK.update({ch: (_GREEK_BASE[base], accent) for ch, base, accent in (
    ("Ά", "Α", "'"), ("Έ", "Ε", "'"), ("Ή", "Η", "'"), ("Ί", "Ι", "'"), ("Ό", "Ο", "'"),
    ("Ύ", "Υ", "'"), ("Ώ", "Ω", "'"), ("Ϊ", "Ι", '"'), ("Ϋ", "Υ", '"'),
    ("ά", "α", "'"), ("έ", "ε", "'"), ("ή", "η", "'"), ("ί", "ι", "'"), ("ό", "ο", "'"),
    ("ύ", "υ", "'"), ("ώ", "ω", "'"), ("ϊ", "ι", '"'), ("ϋ", "υ", '"'),
    ("ΐ", "ι", "'\""), ("ΰ", "υ", "'\""))})

# Cyrillic in the Washington University fonts (AMS, in every TeX Live), OT2 layout:
# character -> slot, or (accent slot, base slot).
_CYRILLIC = {
    0x0401: 19, 0x0402: 6, 0x0403: (38, 71), 0x0404: 5, 0x0405: 22, 0x0406: 4, 0x0407: (32, 4),
    0x0408: 74, 0x0409: 1, 0x040A: 0, 0x040B: 7, 0x040C: (38, 75), 0x040E: (36, 85), 0x040F: 2,
    0x0410: 65, 0x0411: 66, 0x0412: 86, 0x0413: 71, 0x0414: 68, 0x0415: 69, 0x0416: 17,
    0x0417: 90, 0x0418: 73, 0x0419: 18, 0x041A: 75, 0x041B: 76, 0x041C: 77, 0x041D: 78,
    0x041E: 79, 0x041F: 80, 0x0420: 82, 0x0421: 83, 0x0422: 84, 0x0423: 85, 0x0424: 70,
    0x0425: 72, 0x0426: 67, 0x0427: 81, 0x0428: 88, 0x0429: 87, 0x042A: 95, 0x042B: 89,
    0x042C: 94, 0x042D: 3, 0x042E: 16, 0x042F: 23, 0x0430: 97, 0x0431: 98, 0x0432: 118,
    0x0433: 103, 0x0434: 100, 0x0435: 101, 0x0436: 25, 0x0437: 122, 0x0438: 105, 0x0439: 26,
    0x043A: 107, 0x043B: 108, 0x043C: 109, 0x043D: 110, 0x043E: 111, 0x043F: 112,
    0x0440: 114, 0x0441: 115, 0x0442: 116, 0x0443: 117, 0x0444: 102, 0x0445: 104, 0x0446: 99,
    0x0447: 113, 0x0448: 120, 0x0449: 119, 0x044A: 127, 0x044B: 121, 0x044C: 126, 0x044D: 11,
    0x044E: 24, 0x044F: 31, 0x0451: 27, 0x0452: 14, 0x0453: (38, 103), 0x0454: 13, 0x0455: 30,
    0x0456: 12, 0x0457: (32, 61), 0x0458: 106, 0x0459: 9, 0x045A: 8, 0x045B: 15,
    0x045C: (38, 107), 0x045E: (36, 117), 0x045F: 10, 0x0462: 35, 0x0463: 43, 0x0472: 21,
    0x0473: 29, 0x0474: 20, 0x0475: 28, 0x04C1: (36, 17), 0x04C2: (36, 25), 0x04D0: (36, 65),
    0x04D1: (36, 97), 0x04D2: (32, 65), 0x04D3: (32, 97), 0x04D6: (36, 69), 0x04D7: (36, 101),
    0x04DC: (32, 17), 0x04DD: (32, 25), 0x04DE: (32, 90), 0x04DF: (32, 122), 0x04E4: (32, 73),
    0x04E5: (32, 105), 0x04E6: (32, 79), 0x04E7: (32, 111), 0x04EC: (32, 3), 0x04ED: (32, 11),
    0x04F0: (32, 85), 0x04F1: (32, 117), 0x04F4: (32, 81), 0x04F5: (32, 113), 0x04F8: (32, 89),
    0x04F9: (32, 121)}
_CYRILLIC = {chr(cp): v for cp, v in _CYRILLIC.items()}


# Bidi formatting characters have no glyph: in the LaTeX documents the direction of a
# right-to-left run is set by \wsgenRTL (below), so they are dropped there.
_BIDI_FORMAT = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                         "\u200e\u200f\u061c")
_LINE_SEPARATORS = str.maketrans({"\u2028": " ", "\u2029": " "})


def _class(ch: str) -> str:
    if ch in _GREEK:
        return "greek"
    if ch in _T1:        # beyond Latin-1 LaTeX may build the letter (Ș: S and a comma)
        return "t1" if ord(ch) < 0x100 or ch in TEX_UNICODE else "t1-built"
    if ch in _CYRILLIC:
        return "cyrillic"
    if ch in _LATIN_DRAWN:
        return "drawn"
    if ch in "\n\t":
        return "t1"
    if unicodedata.category(ch) in ("Cc", "Cs"):
        return "control"
    return "unicode"


def unicode_only(text: str) -> list[str]:
    """The distinct characters of `text` that pdfTeX's fonts lack (Vietnamese letters,
    CJK, Arabic, Hebrew, …, and emoji), in order of appearance: a text holding one is set
    by LuaLaTeX with OpenType fonts (formats/texfonts.py says which fonts cover what)."""
    text = str(text).translate(_LINE_SEPARATORS)
    return list(dict.fromkeys(ch for ch in text
                              if ch not in _BIDI_FORMAT and _class(ch) == "unicode"))


def latin_only(text: str) -> str:
    """`text` with every character that needs more than T1's glyphs (Greek, Cyrillic, a
    letter built or drawn from others, every script LuaLaTeX sets) as "?": for a pdfTeX
    document without the PDF documents' macros (escape_tex of it holds none of them)."""
    return "".join(ch if _class(ch) == "t1" else "?" for ch in str(text))


def _escape_t1(text: str) -> str:
    text = "".join(" " if ch == "\t" else ch if ch == "\n" or ch in _T1 else "?" for ch in text)
    # imported here: PyLaTeX's package costs a Markdown or HTML build's start-up time
    from pylatex.utils import escape_latex
    out = str(escape_latex(text))
    # PyLaTeX writes ^ as the accent \^{}, which typesets (and extracts) as a modifier
    # letter; \textasciicircum is the ASCII character itself.  The T1 fonts turn ` and '
    # into curly quotes and " << >> ,, !` ?` into other characters: use TS1's symbols
    # and break the ligatures.
    out = out.replace(r"\^{}", r"\textasciicircum{}").replace("`", r"\textasciigrave{}")
    out = out.replace("'", r"\textquotesingle{}").replace('"', r"\textquotedbl{}")
    return re.sub(r"(?<=[<>,])(?=[<>,])", "{}", out)


def _greek_tex(ch: str) -> str:
    slot, accent = _GREEK[ch]
    letter = r"\wsgenGreek{" + slot + "}"
    if not accent:
        return letter
    if ch.isupper() and accent == "'":       # the tonos stands before a capital
        return r"\wsgenRaise{\char1\relax}" + letter
    if ch.isupper():                          # the dialytika above it
        return r"\wsgenOver{" + letter + r"}{\raisebox{.55ex}{\char4\relax}}"
    return r"\wsgenOver{" + letter + r"}{\char" + ("1" if accent == "'" else "4") + r"\relax}"


def _cyrillic_tex(run: str) -> str:
    glyphs = []
    for ch in run:
        code = _CYRILLIC[ch]
        glyphs.append(rf"\accent{code[0]} \char{code[1]}\relax" if isinstance(code, tuple)
                      else rf"\char{code}\relax")
    return r"\wsgenCyrillic{" + "".join(glyphs) + "}"


def _actual_text(run: str, tex: str) -> str:
    return r"\wsgenActualText{FEFF" + "".join(f"{ord(ch):04X}" for ch in run) + "}{" + tex + "}"


def _run_tex(kind: str, run: str) -> str:
    if kind in ("t1", "t1-built", "control"):
        return _escape_t1(run)
    if kind == "greek":
        return "".join(_greek_tex(ch) for ch in run)
    if kind == "cyrillic":
        return _cyrillic_tex(run)
    return "".join(_LATIN_DRAWN[ch] for ch in run)


#: A word of plain Latin text longer than this (an address, an identifier, a string of
#: digits) may break between any two of its characters, so that it cannot run off the
#: page; shorter words break as TeX hyphenates them.
LONG_WORD = 24
# A legal line break that TeX takes only where a space would serve worse (a primitive, so
# that any LaTeX document can hold it).
_SPLIT = r"\penalty100 "


def _latin_tex(word: str) -> str:
    runs = []
    for kind, chars in groupby(word, _class):
        run = "".join(chars)
        if kind == "greek" and len(run) == 1 and run in TEX_UNICODE:
            kind = "t1"                   # a lone α, λ, σ: the mathematical letter
        runs.append((kind, run))
    if all(kind in ("t1", "control") for kind, _ in runs):
        if len(word) > LONG_WORD and not word.isspace():
            return _SPLIT.join(_escape_t1(ch) for ch in word)
        return _escape_t1(word)
    tex = "".join(_run_tex(kind, run) for kind, run in runs)
    return _actual_text("".join("?" if _class(ch) == "control" else ch for ch in word), tex)


# --- text pdfTeX cannot set: the whole text for LuaLaTeX --------------------------------
def _is_rtl(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("R", "AL")


def _direction_runs(text: str) -> list[tuple[bool, str]]:
    """[(right to left?, run)]: a right-to-left run reaches from a strong right-to-left
    letter (Hebrew, Arabic, …) to the last one before the next strong left-to-right
    letter, with the marks after it (so the spaces between its words are its own); the
    rest is left to right, as the document is (the rules of UAX #9 for a left-to-right
    paragraph, without embeddings)."""
    runs, i, n = [], 0, len(text)
    while i < n:
        j = i
        if _is_rtl(text[i]):
            last = i
            while j < n and unicodedata.bidirectional(text[j]) != "L":
                if _is_rtl(text[j]):
                    last = j
                j += 1
            end = last + 1
            while end < n and unicodedata.bidirectional(text[end]) == "NSM":
                end += 1
            runs.append((True, text[i:end]))
            i = end
        else:
            while j < n and not _is_rtl(text[j]):
                j += 1
            runs.append((False, text[i:j]))
            i = j
    return runs


def _wide(ch: str) -> bool:
    """A letter of a script written without spaces (Han, kana, …): a line may break
    between two of them."""
    return unicodedata.category(ch) == "Lo" and unicodedata.east_asian_width(ch) in ("W", "F")


def _unicode_chars(run: str) -> str:
    """Characters for LuaLaTeX: ASCII escaped as for pdfTeX, the rest as they are, a break
    allowed between two ideographs (or after an ideographic comma or stop before one)."""
    out, previous = [], ""
    for kind_ascii, chars in groupby(run, lambda ch: ord(ch) < 0x80):
        piece = "".join(chars)
        if kind_ascii:
            out.append(_escape_t1(piece))
            previous = piece[-1]
            continue
        for ch in piece:
            if _class(ch) == "control":
                ch = "?"
            elif _wide(ch) and previous and (_wide(previous) or (
                    unicodedata.east_asian_width(previous) in ("W", "F")
                    and unicodedata.category(previous) in ("Po", "Pe"))):
                out.append(r"\wsgenCJKBreak{}")
            out.append(ch)
            previous = ch
    return "".join(out)


def _rtl_tex(run: str) -> str:
    """A right-to-left run (its words right to left, each shaped by HarfBuzz), with its
    digits (and the separators between them) left to right inside it, as UAX #9 sets
    numbers."""
    out = []
    for number, chars in groupby(run, lambda ch: unicodedata.bidirectional(ch) in
                                 ("EN", "AN", "CS", "ES", "ET")):
        piece = "".join(chars)
        digits = [k for k, ch in enumerate(piece) if ch.isdigit()]
        if number and digits:
            first, last = digits[0], digits[-1] + 1
            out.append(_unicode_chars(piece[:first]) + r"\wsgenLTR{"
                       + _unicode_chars(piece[first:last]) + "}" + _unicode_chars(piece[last:]))
        else:
            out.append(_unicode_chars(piece))
    return r"\wsgenRTL{" + "".join(out) + "}"


def _unicode_tex(text: str) -> str:
    return UNICODE_MARK + "".join(_rtl_tex(run) if rtl else _unicode_chars(run)
                                  for rtl, run in _direction_runs(text)) + "}"


#: How a text set by LuaLaTeX starts (formats/pdf.py picks the engine of a booklet chunk by it).
UNICODE_MARK = r"\wsgenUnicode{"


@lru_cache(maxsize=8192)
def escape_tex(text: str) -> str:
    """Plain text that LaTeX typesets literally, each character as itself: PyLaTeX's
    escaping, with straight quotes and backticks kept straight; Greek, Cyrillic and the
    Latin letters T1 lacks drawn through the preamble's macros, each such word in a PDF
    ActualText span (the PDF's text is the word as written); a word longer than
    `LONG_WORD` breakable anywhere.  A text holding a character pdfTeX's fonts lack
    (`unicode_only`) is set whole for LuaLaTeX (``\\wsgenUnicode{…}``): ASCII escaped as
    above, right-to-left runs in ``\\wsgenRTL``.  Bidi formatting characters are dropped
    (the runs set the direction); a control character becomes "?" rather than a TeX
    error."""
    text = "".join(ch for ch in str(text).translate(_LINE_SEPARATORS) if ch not in _BIDI_FORMAT)
    if any(_class(ch) == "unicode" for ch in text):
        return _unicode_tex(text)
    return "".join(_latin_tex(word) for word in re.split(r"(\s+)", text))


def fit_candidates(text: str) -> str:
    """``\\wsgenTry{…}`` for `text` and ever shorter forms of it, cut at a word (within a
    word when a single word is left) with "…", down to "…" alone: the PDF preamble's
    \\wsgenFit sets the first that fits."""
    text = " ".join(str(text).split())
    forms, words = [text], text.split(" ")
    for n in range(len(words) - 1, 0, -1):
        forms.append(" ".join(words[:n]).rstrip(" ,;:—-") + "…")
    first = words[0]
    forms += [first[:n] + "…" for n in range(len(first) - 1, 0, -1)] + ["…"]
    return "".join(r"\wsgenTry{" + escape_tex(form) + "}" for form in dict.fromkeys(forms))


#: Markdown: ```code``` kept as written, ``$…$`` for MathJax/KaTeX.
MARKDOWN = Writer(text=escape_markdown, code=lambda code: "`" + code + "`",
                  math=lambda math: "$" + math.strip() + "$", item=("- ", ""))

#: LaTeX: lists as itemize; on paper TeX may break a long inline formula inside its
#: parentheses too (texbreak.open_pairs); the fractions that carry a formula's content in
#: display size (texbreak.display_fractions).
LATEX = Writer(text=escape_tex, code=lambda code: r"\texttt{" + escape_tex(code) + "}",
               math=lambda math: "$" + open_pairs(display_fractions(math.strip())) + "$",
               bullets=("\\begin{itemize}\n", "\n\\end{itemize}"), item=(r"\item ", ""))

WRITERS = {"md": MARKDOWN, "tex": LATEX}


def render_text(text: str, values: Mapping[str, Any], fmt: str) -> str:
    """Prose rendered for `fmt` ("md" or "tex")."""
    return render(WRITERS[fmt], text, values)
