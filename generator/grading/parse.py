"""Reading a student's number safely: a tiny recursive-descent parser, no eval, no sympify.

Accepted: decimals (0.25, .5, 2.5e-3), fractions (3/8), and simple expressions built from

    +  -  *  /  ^  **  ( )          (^ and ** are the same power; right-associative)
    sqrt( )  exp( )  log( ) = ln( )  tanh( )     one argument each
    pi  e  (E too, as SymPy prints it)

with optional spaces, a Unicode minus (−) read as "-", and one leading apostrophe (what a
spreadsheet-safe cell adds) ignored.  Nothing else: no names, no implicit products ("2pi"),
no calls other than those four, no commas.  Rational arithmetic stays exact (a Fraction);
a function or a constant turns the result into a float.  A result that is not a finite
real number (1/0, log(-1), an overflow) is refused like a typo.

`read_number(text)` returns the value or raises `Unreadable` with a short reason; it never
raises anything else, whatever the text.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

__all__ = ["MAX_LENGTH", "Unreadable", "read_number", "read_letter"]

#: The longest response read, in characters; the deepest nesting of parentheses and signs.
MAX_LENGTH = 200
MAX_DEPTH = 30
#: The largest |exponent| kept exact; beyond it the power is computed in floats.
_EXACT_POWER = 64

_TOKEN = re.compile(r"""\s*(?:
    (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+(?![A-Za-z_]))?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\*\*|[-+*/^()])
)""", re.VERBOSE)

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
        value = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            right = self.unary()
            if op == "*":
                value = value * right
            else:
                if right == 0:
                    raise Unreadable("division by zero")
                value = value / right
        return value

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


def read_number(text: str) -> Fraction | float:
    """The value of a response: a Fraction when it is rational arithmetic, else a float."""
    if not isinstance(text, str):
        raise Unreadable("not text")
    text = text.strip().replace("\u2212", "-")
    if text.startswith("'"):
        text = text[1:].lstrip()
    if not text:
        raise Unreadable("empty")
    if len(text) > MAX_LENGTH:
        raise Unreadable(f"longer than {MAX_LENGTH} characters")
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
