"""The text of a figure: TeX notation read into runs of characters, numbers as the key
rounds them, and the width of both in the document's font.

The PDF sets a label's TeX itself (the document's fonts and math); the SVG writer sets
its runs: Unicode characters, italic where TeX sets math italic, lowered or raised for
sub- and superscripts.  `label_runs` reads the small part of TeX that labels need
(letters, digits, operators, Greek, accents, sub/superscripts, \\frac as a slash,
\\mathrm and friends) and refuses anything else, so that no raw TeX reaches an SVG.
Widths are estimates from Latin Modern's glyph widths (in em), used to size boxes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

__all__ = ["Label", "Run", "label_runs", "math_label", "number_label", "plain_text", "runs_width"]

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ",
    "phi": "ϕ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
SYMBOLS = {
    "partial": "∂", "ell": "ℓ", "top": "⊤", "cdot": "·", "times": "×", "circ": "∘",
    "odot": "⊙", "sum": "∑", "to": "→", "infty": "∞", "prime": "′", "nabla": "∇",
    "lVert": "‖", "rVert": "‖", "Vert": "‖", "vert": "|", "mid": "|", "{": "{", "}": "}",
    "approx": "≈", "le": "≤", "ge": "≥", "leq": "≤", "geq": "≥", "ne": "≠", "pm": "±",
    "langle": "⟨", "rangle": "⟩", "dots": "…", "ldots": "…", "cdots": "⋯", "%": "%",
}
WORDS = ("tanh", "log", "exp", "max", "min", "sin", "cos", "ln", "softmax")
ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307",
           "vec": "\u20d7"}
UPRIGHT_GROUPS = ("mathrm", "text", "operatorname", "textrm", "mathit", "mathbf")
SPACES = {",": " ", ";": " ", ":": " ", " ": " ", "quad": "  ", "qquad": "   ", "!": ""}
SIZES = ("left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big", "displaystyle")
_OPERATORS = {"-": "−", "*": "∗", "'": "′"}


@dataclass(frozen=True)
class Run:
    """Characters set alike: italic (math letters) or upright, and shift 0 (base), -1
    (subscript) or 1 (superscript)."""
    text: str
    italic: bool = False
    shift: int = 0


class _Reader:
    _TOKEN = re.compile(r"\\([A-Za-z]+|.)|([A-Za-z])|(\s+)|(.)", re.S)

    def __init__(self, source: str):
        self.source = source
        self.tokens = [(m.group(1), m.group(2), m.group(3), m.group(4))
                       for m in self._TOKEN.finditer(source)]
        self.at = 0

    def fail(self, why: str):
        raise ValueError(f"{self.source!r}: {why} (figure labels take letters, digits, "
                         "operators, Greek, accents, _ ^, \\frac, \\mathrm and \\text)")

    def next(self):
        token = self.tokens[self.at] if self.at < len(self.tokens) else None
        self.at += 1
        return token

    def group(self) -> list:
        """The tokens of a {…} group, or the one next token."""
        token = self.next()
        while token is not None and token[2]:
            token = self.next()
        if token is None:
            self.fail("a group is missing")
        if token[3] != "{":
            return [token]
        depth, out = 1, []
        while True:
            token = self.next()
            if token is None:
                self.fail("unbalanced braces")
            if token[3] == "{":
                depth += 1
            elif token[3] == "}":
                depth -= 1
                if not depth:
                    return out
            out.append(token)

    def raw(self, tokens) -> str:
        return "".join(("\\" + t[0]) if t[0] else (t[1] or t[2] or t[3]) for t in tokens)


def _read(reader: _Reader, shift: int, upright: bool = False) -> list[Run]:
    runs: list[Run] = []

    def add(text, italic=False, at=shift):
        runs.append(Run(text, italic, at))

    while True:
        token = reader.next()
        if token is None:
            return runs
        macro, letter, space, other = token
        if space:
            if upright:
                add(" ")
            continue
        if letter:
            add(letter, not upright)
        elif other in ("_", "^"):
            inner = _Reader(reader.raw(reader.group()))
            inner.source = reader.source
            runs += _read(inner, -1 if other == "_" else 1, upright)
        elif other == "{":
            reader.at -= 1
            inner = _Reader(reader.raw(reader.group()))
            inner.source = reader.source
            runs += _read(inner, shift, upright)
        elif other == "}":
            reader.fail("unbalanced braces")
        elif other is not None:
            add(_OPERATORS.get(other, other))
        elif macro in GREEK:
            add(GREEK[macro], macro[0].islower())
        elif macro in SYMBOLS:
            add(SYMBOLS[macro])
        elif macro in SPACES:
            add(SPACES[macro])
        elif macro in WORDS:
            add(macro)
        elif macro in SIZES:
            continue
        elif macro in ACCENTS:
            inner = _Reader(reader.raw(reader.group()))
            inner.source = reader.source
            under = _read(inner, shift, upright)
            if not under or not under[0].text:
                reader.fail(f"\\{macro} needs a letter")
            first = under[0]
            runs.append(Run(first.text[0] + ACCENTS[macro] + first.text[1:], first.italic,
                            first.shift))
            runs += under[1:]
        elif macro in UPRIGHT_GROUPS:
            inner = _Reader(reader.raw(reader.group()))
            inner.source = reader.source
            runs += _read(inner, shift, upright=True)
        elif macro == "frac":
            for k in range(2):
                inner = _Reader(reader.raw(reader.group()))
                inner.source = reader.source
                runs += _read(inner, shift, upright)
                if k == 0:
                    add("/")
        else:
            reader.fail(f"\\{macro} cannot be drawn")


@lru_cache(maxsize=4096)
def label_runs(tex: str) -> tuple[Run, ...]:
    """The runs of a piece of TeX notation, neighbours alike merged; ValueError naming the
    construct when it is not one a figure can draw."""
    merged: list[Run] = []
    for run in _read(_Reader(tex), 0):
        if merged and (merged[-1].italic, merged[-1].shift) == (run.italic, run.shift):
            merged[-1] = Run(merged[-1].text + run.text, run.italic, run.shift)
        elif run.text:
            merged.append(run)
    return tuple(merged)


# Latin Modern's advance widths in em (math italic for italic letters, roman otherwise);
# anything not listed counts as DEFAULT_WIDTH.
_ITALIC = dict(zip("abcdefghijklmnopqrstuvwxyz",
                   (.529, .429, .433, .520, .466, .490, .477, .576, .345, .412, .521, .298, .878,
                    .600, .485, .503, .446, .451, .469, .361, .572, .485, .716, .572, .490, .465)))
_ITALIC.update(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   (.750, .759, .715, .828, .738, .643, .786, .831, .440, .555, .849, .681, .970,
                    .803, .763, .642, .791, .759, .613, .584, .683, .583, .944, .828, .581, .683)))
_ROMAN = dict(zip("abcdefghijklmnopqrstuvwxyz",
                  (.500, .556, .444, .556, .444, .306, .500, .556, .278, .306, .528, .278, .833,
                   .556, .500, .556, .528, .392, .394, .389, .556, .528, .722, .528, .528, .444)))
_ROMAN.update({c: .75 for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
_ROMAN.update({c: .5 for c in "0123456789"})
_ROMAN.update({".": .278, ",": .278, "−": .778, "+": .778, "=": .778, "(": .389, ")": .389,
               "[": .278, "]": .278, "/": .5, " ": .278, "·": .278, "×": .778, "∂": .566,
               "′": .275, "⊤": .778, "‖": .5, "|": .278, "≈": .778, "…": 1.0, ":": .278})
DEFAULT_WIDTH = .6
SCRIPT = 0.7            # the size of a sub- or superscript relative to the text


def _char_width(ch: str, italic: bool) -> float:
    if "\u0300" <= ch <= "\u036f" or ch == "\u20d7":
        return 0.0                                   # a combining accent
    table = _ITALIC if italic else _ROMAN
    return table.get(ch, _ROMAN.get(ch, DEFAULT_WIDTH))


def runs_width(runs) -> float:
    """The width of runs in em of the text size."""
    return sum(sum(_char_width(ch, r.italic) for ch in r.text) * (SCRIPT if r.shift else 1.0)
               for r in runs)


@dataclass(frozen=True)
class Label:
    """A piece of a figure's text: its TeX (what the PDF sets) and runs (what an SVG
    sets), and its width in em."""
    tex: str
    runs: tuple[Run, ...]

    @cached_property
    def width(self) -> float:
        return runs_width(self.runs)

    @property
    def scripted(self) -> bool:
        return any(r.shift for r in self.runs)


def plain_text(tex: str) -> str:
    """TeX notation as plain text (its runs' characters, scripts unmarked)."""
    return "".join(r.text for r in label_runs(tex))


def math_label(tex: str) -> Label:
    return Label(tex, label_runs(tex))


def number_label(value: Any, digits: int) -> Label:
    """An exact number as the key shows it: a terminating decimal as it is, any other value
    rounded to `digits` significant digits."""
    # imported here: SymPy and the printer are needed only once a figure is drawn
    from ..core.numeric import approx_decimal, is_terminating
    from ..core.printing import tex
    text = tex(value) if is_terminating(value) else approx_decimal(value, digits)
    return _number(text)


@lru_cache(maxsize=8192)
def _number(text: str) -> Label:
    return Label(text, label_runs(text))
