"""Reading a student's number safely: a tiny recursive-descent parser, no eval, no sympify.

Accepted: decimals (0.25, .5, 2.5e-3), fractions (3/8), and simple expressions built from

    +  -  *  /  ^  **  ( )          (^ and ** are the same power; right-associative)
    ×  ·  ⋅                         (read as *)
    sqrt( )  exp( )  log( ) = ln( )  tanh( )     one argument each
    pi  e  (E too, as SymPy prints it)

with optional spaces, and written the way people write numbers by hand:

* a Unicode minus (−) reads as "-", superscript digits and signs as a power
  (10⁻³ is 10^(-3), 0.22² is 0.22^2);
* a power of ten after a number: 2.5×10^-3, 2.5x10^-3, 2.5·10⁻³, 2.5 * 10^(-3);
* a number times a constant or a function: 2pi, 2e^-1 (2·e^(−1)), 3exp(-1), 2sqrt(2);
  "2e" alone stays unreadable (a number in e-notation with its exponent left out?);
* one leading ≈ or ~ and one trailing "(approx)", "approx." or "approx" are dropped
  (the reader says the number is rounded; the grading rule decides whether it is close
  enough);
* one leading apostrophe (what a spreadsheet-safe cell adds) is ignored;
* a decimal comma (1,5) only when asked for (`decimal_comma`: `wsgen grade
  --decimal-comma`, or the exam's `[grading] decimal_comma = true`); otherwise a comma is
  refused with a hint, never guessed: 1,5 could be a pair.

Nothing else: no other names, no other implicit products ("2 3", "2(1+1)", "(1)(2)"), no
calls other than those four.  Rational arithmetic stays exact (a Fraction); a function or a
constant turns the result into a float.  A result that is not a finite real number (1/0,
log(-1), an overflow) is refused like a typo.  At most MAX_LENGTH characters and MAX_DEPTH
levels of nesting are read.

`read_number(text, decimal_comma=False)` returns the value or raises `Unreadable` with a
short reason; it never raises anything else, whatever the text.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache

from ..core.formula import MAX_DEPTH

__all__ = ["MAX_LENGTH", "Unreadable", "normalise", "read_number", "read_letter"]

#: The longest response read, in characters.  The deepest nesting of parentheses and signs
#: is the formula grammar's (core.formula.MAX_DEPTH): one limit for what a student types.
MAX_LENGTH = 200
#: The largest |exponent| kept exact; beyond it the power is computed in floats.
_EXACT_POWER = 64

_TOKEN = re.compile(r"""\s*(?:
    (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+(?![A-Za-z_]))?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\*\*|[-+*/^()])
)""", re.VERBOSE)

#: Superscript digits and signs, read as a power: 10⁻³ is 10^(-3).
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
#: Multiplication signs besides "*": ×, middle dot, dot operator, bullet operator.
_TIMES = str.maketrans({"\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u2219": "*",
                        "\u2212": "-"})
_APPROX_BEFORE = re.compile(r"^(?:≈|~|∼|≃)\s*")
_APPROX_AFTER = re.compile(r"\s*(?:\(\s*approx\.?\s*\)|approx\.?)$", re.IGNORECASE)
#: "x" as a times sign, only before a power of ten after a number: 2.5x10^-3, 2.5 x 10⁻³.
_X_TEN = re.compile(r"(?<=[\d.])\s*[xX]\s*(?=10\s*(?:\^|\*\*))")
_PAIR = re.compile(r"[-+]?\d*\.?\d+\s*,\s*\d+")

_FUNCTIONS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "ln": math.log,
              "tanh": math.tanh}
_CONSTANTS = {"pi": math.pi, "e": math.e, "E": math.e}


class Unreadable(ValueError):
    """A response that is not a number this parser reads; the message says why."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise Unreadable(f"unexpected {text[pos:].lstrip()[:1]!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _number(literal: str) -> Fraction:
    # Fraction reads decimal and exponent notation exactly ("0.1" is 1/10, "2e-3" 1/500);
    # a huge exponent would build a huge integer, so it is refused.
    mantissa, _, exponent = literal.lower().partition("e")
    if exponent and abs(int(exponent)) > 400:
        raise Unreadable(f"exponent out of range in {literal!r}")
    return Fraction(literal)


class _Parser:
    """expr := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)* ;
    unary := ('+'|'-') unary | power ; power := atom (('^'|'**') unary)? ;
    atom := number | constant | function '(' expr ')' | '(' expr ')'"""

    def __init__(self, tokens):
        self.tokens, self.pos, self.depth = tokens, 0, 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def expect(self, op: str):
        kind, value = self.take()
        if (kind, value) != ("op", op):
            raise Unreadable(f"expected {op!r}" + (f", found {value!r}" if value else " at the end"))

    def nested(self, method):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unreadable("nested too deeply")
        try:
            return method()
        finally:
            self.depth -= 1

    def expr(self):
        value = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self):
        start = self.pos
        value = self.unary()
        while True:
            if self.peek() in (("op", "*"), ("op", "/")):
                op = self.take()[1]
                start = self.pos
                right = self.unary()
                if op == "*":
                    value = value * right
                else:
                    if right == 0:
                        raise Unreadable("division by zero")
                    value = value / right
            elif self.implicit_product(start):
                start = None
                value = value * self.unary()
            else:
                return value

    def implicit_product(self, start) -> bool:
        """Whether a bare number (the factor just read was one number token, signs allowed
        before it) is followed by a constant or a function call: 2pi, -2e^-1, 3exp(-1).
        "2e" alone is not one."""
        factor = self.tokens[start:self.pos] if start is not None else []
        if not factor or factor[-1][0] != "number" or any(
                token not in (("op", "+"), ("op", "-")) for token in factor[:-1]):
            return False
        kind, name = self.peek()
        if kind != "name":
            return False
        if name in ("e", "E"):
            following = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else None
            return following in (("op", "^"), ("op", "**"))
        return name in _CONSTANTS or name in _FUNCTIONS

    def unary(self):
        if self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            value = self.nested(self.unary)
            return -value if op == "-" else value
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek() in (("op", "^"), ("op", "**")):
            self.take()
            exponent = self.nested(self.unary)
            return _power(base, exponent)
        return base

    def atom(self):
        kind, value = self.take()
        if kind == "number":
            return _number(value)
        if kind == "name":
            if value in _CONSTANTS:
                return _CONSTANTS[value]
            if value in _FUNCTIONS:
                self.expect("(")
                argument = self.nested(self.expr)
                self.expect(")")
                return _call(value, argument)
            raise Unreadable(f"unknown name {value!r}")
        if (kind, value) == ("op", "("):
            inner = self.nested(self.expr)
            self.expect(")")
            return inner
        raise Unreadable(f"unexpected {value!r}" if value else "incomplete expression")


def _power(base, exponent):
    if (isinstance(base, Fraction) and isinstance(exponent, Fraction)
            and exponent.denominator == 1 and abs(exponent) <= _EXACT_POWER
            and max(base.numerator.bit_length(), base.denominator.bit_length())
            * abs(int(exponent)) <= 20_000):
        if base == 0 and exponent < 0:
            raise Unreadable("division by zero")
        return base ** int(exponent)
    b, x = float(base), float(exponent)
    if b < 0 and not float(x).is_integer():
        raise Unreadable("a negative number to a fractional power")
    if b == 0 and x < 0:
        raise Unreadable("division by zero")
    return b ** x


def _call(name: str, argument):
    x = float(argument)
    if name == "sqrt" and x < 0:
        raise Unreadable("square root of a negative number")
    if name in ("log", "ln") and x <= 0:
        raise Unreadable("logarithm of a number that is not positive")
    return _FUNCTIONS[name](x)


def normalise(text: str, decimal_comma: bool = False) -> str:
    """The response as the parser reads it: the lenient forms of the module's docstring
    rewritten to the plain grammar (Unreadable for a comma without `decimal_comma`)."""
    text = text.strip()
    if text.startswith("'"):
        text = text[1:].lstrip()
    if len(text) > MAX_LENGTH:
        raise Unreadable(f"longer than {MAX_LENGTH} characters")
    text = _APPROX_AFTER.sub("", _APPROX_BEFORE.sub("", text, count=1), count=1)
    text = text.translate(_TIMES)
    text = _SUPERSCRIPT_RUN.sub(lambda m: "^(" + m.group().translate(_SUPERSCRIPTS) + ")", text)
    text = _X_TEN.sub("*", text)
    if "," in text:
        if decimal_comma:
            text = text.replace(",", ".")
        elif _PAIR.fullmatch(text):
            raise Unreadable("a comma: two numbers, or a decimal comma? (a decimal comma is "
                             "read with --decimal-comma or the exam's [grading] "
                             "decimal_comma = true)")
        else:
            raise Unreadable("unexpected ','")
    return text


def read_number(text: str, decimal_comma: bool = False) -> Fraction | float:
    """The value of a response: a Fraction when it is rational arithmetic, else a float.
    `decimal_comma`: a comma is the decimal separator (1,5 is 3/2)."""
    if not isinstance(text, str):
        raise Unreadable("not text")
    return _read_number(text, decimal_comma)


@lru_cache(maxsize=65536)
def _read_number(text: str, decimal_comma: bool) -> Fraction | float:
    # a class writes the same numbers again and again: each text is read once (what is
    # unreadable raises each time, never cached)
    text = normalise(text, decimal_comma)
    if not text:
        raise Unreadable("empty")
    try:
        parser = _Parser(_tokens(text))
        value = parser.expr()
        if parser.pos != len(parser.tokens):
            raise Unreadable(f"unexpected {parser.peek()[1]!r}")
        if not math.isfinite(float(value)):      # float() of a huge Fraction overflows
            raise Unreadable("not a finite number")
        if isinstance(value, Fraction) and (value.numerator.bit_length() > 4000
                                            or value.denominator.bit_length() > 4000):
            raise Unreadable("number too large")
    except Unreadable:
        raise
    except (ArithmeticError, ValueError, RecursionError) as exc:  # overflow, domain errors
        raise Unreadable(f"cannot evaluate ({type(exc).__name__})") from None
    return value


def read_letter(text: str, count: int) -> int:
    """The 0-based option index of a choice response: a letter A, B, … (case-insensitive,
    optionally in parentheses or followed by ")" or "."), among `count` options."""
    if not isinstance(text, str):
        raise Unreadable("not text")
    raw = text.strip()
    if raw.startswith("'"):
        raw = raw[1:].strip()
    match = re.fullmatch(r"\(?\s*([A-Za-z])\s*[).]?", raw)
    if not match:
        raise Unreadable(f"expected an option letter A–{chr(ord('A') + count - 1)}")
    index = ord(match.group(1).upper()) - ord("A")
    if not 0 <= index < count:
        raise Unreadable(f"no option {match.group(1).upper()} (options A–{chr(ord('A') + count - 1)})")
    return index
