"""Formula answers: the grammar students type expressions in, what an expression means at a
variant's shapes, and when two expressions are the same answer.

Reading.  A small recursive-descent parser (no eval, no sympify of what was typed; at most
MAX_LENGTH characters, MAX_TOKENS tokens and MAX_DEPTH levels of nesting) reads

    2*(W*x)*x^T     2 W^T W x     2Wᵀ(Wx)     sigma(z)*(1-sigma(z))     (yhat - y)

    sums  a + b, a - b;  products  a*b, a b (juxtaposed), a·b, a×b, a@b;  a/b (b a number);
    entry-by-entry products  a ∘ b, a ⊙ b, a .* b;  powers  a^2, a**2, a²;
    transposes  a^T, aᵀ, a⊤, a', a.T, a^{T}, a^\\top;
    functions  sigma σ sigmoid, tanh, exp, log ln, sqrt, relu ReLU, step H (Heaviside),
    softmax (of a vector), sum (of all entries); a derivative  sigma'(z), tanh'(z), relu'(z);
    the constants  e (e^x is exp(x)) and pi; numbers  2, 0.5, 1/2, 1e-8.

A name is one of the answer's symbols or definitions (their shapes are the variant's); a
run of letters that is no name is read as the names it is made of when it splits into them
(`Wx` is W x, `2lambdaW` 2 λ W), and is otherwise refused with the names known.  Greek
letters may be typed as such (σ δ λ α β γ μ ε η) or as LaTeX commands (\\sigma); ŷ and
\\hat{y} are `yhat`; a layer index may be written W2, W_2, W_{2}, W^{[2]}, W^[2] or W²
(a superscript is an index when the name with it is a symbol, else a power).  A number
written against what follows it is one factor: `λ/2m` is λ/(2m), `1/2 m` is m/2.
Products, transposes and entry-by-entry products are evaluated left to right at the same
level (`W2^T delta2 ∘ relu'(z1)` is (W2ᵀδ2) ∘ relu'(z1)).  A number added to a vector or
matrix is added to every entry (`1 - p`), as in NumPy; a 1 × 1 result is a number.

Meaning.  Each symbol stands for a matrix of its shape with independent real entries; a
definition (`yhat = sigma(z)`, `m = 4`) stands for its expression.  An expression's value is
the explicit SymPy matrix (or number) of its entries in terms of the symbols' entries;
its shape is checked first, and a product, sum or ∘ of shapes that do not fit is a shape
error, "(2×1)(2×2) is not defined".

Equivalence (`same`): two expressions of one shape are the same answer when
* (exact) neither contains a function (only sums, products, transposes, quotients by
  numbers and integer powers): every entry of the difference cancels to 0 in SymPy; or
* (evaluation) otherwise, they agree at POINTS random points: every symbol's entries drawn
  as exact rationals p/q (|p| ≤ 9, p ≠ 0, 1 ≤ q ≤ 9, from a generator seeded by the two
  texts, so a grading is reproducible), both sides evaluated exactly and compared to
  DIGITS significant digits.  A point where a side is undefined is drawn again.
Either way a point where the two differ shows they are not the same.  When the entries
are too many to expand (SYMBOLIC_BUDGET), the evaluation decides for function-free
expressions too.

`judge(text, record, mistakes)` grades one response against an answers.json record of
kind "formula" ({"exact": canonical text, "symbols": {name: [rows, cols] or []},
"definitions": {name: text}}): "right", "mistake" (the same as a declared mistake's
formula), "wrong", "shape error" or "unreadable".  It never raises on what was typed.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

import sympy as sp

__all__ = ["DIGITS", "FormulaError", "Judgement", "MAX_DEPTH", "MAX_LENGTH", "MAX_TOKENS", "Names",
           "POINTS", "Parsed", "ShapeError", "Verdict", "check_record", "judge", "names_of", "parse",
           "record_names", "same", "shape_of", "shape_text", "to_text", "to_tex"]

MAX_LENGTH = 400         # characters of a response
MAX_TOKENS = 200
MAX_DEPTH = 30           # nesting of parentheses, signs, powers and calls
MAX_DIM = 12             # rows or columns of a symbol
MAX_POWER = 6            # the largest integer power of an expression with symbols
POINTS = 6
DIGITS = 40
SYMBOLIC_BUDGET = 40_000  # multiplications an exact expansion may take
MAX_EXACT_POWER = 64     # the largest |exponent| of a power of numbers
MAX_EXPONENT = 10_000    # the largest |u| of an exp(u) evaluated at a point

FUNCTIONS = ("sigma", "tanh", "exp", "log", "sqrt", "relu", "step", "softmax", "sum")
_FUNCTION_ALIASES = {"sigmoid": "sigma", "sig": "sigma", "ln": "log", "ReLU": "relu",
                     "Relu": "relu", "RELU": "relu", "H": "step", "heaviside": "step",
                     "Heaviside": "step"}
_DERIVATIVES = {"sigma", "tanh", "relu", "exp", "log"}
CONSTANTS = ("e", "pi")

_GREEK = {"σ": "sigma", "δ": "delta", "Δ": "Delta", "λ": "lambda", "α": "alpha", "β": "beta",
          "γ": "gamma", "μ": "mu", "ε": "eps", "ϵ": "eps", "η": "eta", "θ": "theta", "π": "pi",
          "ŷ": "yhat"}
_LATEX = {"sigma": "sigma", "delta": "delta", "Delta": "Delta", "lambda": "lambda",
          "alpha": "alpha", "beta": "beta", "gamma": "gamma", "mu": "mu", "epsilon": "eps",
          "varepsilon": "eps", "eta": "eta", "theta": "theta", "pi": "pi", "tanh": "tanh",
          "exp": "exp", "log": "log", "ln": "log", "cdot": "*", "times": "*", "circ": "∘",
          "odot": "∘", "top": "ᵀ", "intercal": "ᵀ", "sqrt": "sqrt", "left": "", "right": ""}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


class FormulaError(ValueError):
    """A response that is not a formula this grammar reads (the message says why)."""


class ShapeError(FormulaError):
    """A formula whose shapes do not fit: "(2×1)(2×2) is not defined"."""


# ---------------------------------------------------------------------------- names

@dataclass(frozen=True)
class Names:
    """The names an answer's formulas may use: symbols with their shapes ((rows, cols);
    (1, 1) for a number) and definitions (name -> text in terms of the symbols and earlier
    definitions), in order; `tex` how a name prints (default: the name, Greek letters as
    such, trailing digits as a subscript)."""
    shapes: tuple[tuple[str, tuple[int, int]], ...]
    definitions: tuple[tuple[str, str], ...] = ()
    tex: tuple[tuple[str, str], ...] = ()

    @property
    def known(self) -> frozenset[str]:
        return frozenset([n for n, _ in self.shapes] + [n for n, _ in self.definitions])


def names_of(symbols: Mapping[str, Any], definitions: Mapping[str, str] | None = None,
             tex: Mapping[str, str] | None = None) -> Names:
    """Names from plain mappings (answers.json's "symbols": name -> [rows, cols] or [] for a
    number); FormulaError when a name or a shape is not acceptable."""
    shapes = []
    for name, shape in symbols.items():
        shape = tuple(shape) if shape else (1, 1)
        if not (isinstance(name, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name)
                and name not in CONSTANTS and name not in FUNCTIONS and name not in _FUNCTION_ALIASES):
            raise FormulaError(f"symbol {name!r}: a name is letters and digits, not a function "
                               "or a constant")
        if not (len(shape) == 2 and all(isinstance(d, int) and not isinstance(d, bool)
                                        and 1 <= d <= MAX_DIM for d in shape)):
            raise FormulaError(f"symbol {name!r}: a shape is [rows, cols], each 1 to {MAX_DIM}")
        shapes.append((name, shape))
    defs = []
    for name, text in (definitions or {}).items():
        if not (isinstance(name, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name)
                and isinstance(text, str)) or name in dict(shapes) or name in CONSTANTS \
                or name in FUNCTIONS:
            raise FormulaError(f"definition {name!r}: a new name and a text")
        defs.append((name, text))
    return Names(tuple(shapes), tuple(defs), tuple((tex or {}).items()))


# ---------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class Token:
    kind: str           # number, name, sup, op, end
    text: str
    tight: bool = False  # written against the previous token (no blank between)


_TOKEN = re.compile(r"""
    (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+(?![A-Za-z_]))?)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹]+)
  | (?P<op>\*\*|[-+*/^()∘ᵀ'@])
""", re.VERBOSE)


def _normalise(text: str) -> str:
    """The typed text in the lexer's alphabet: Unicode and LaTeX spellings replaced."""
    text = text.strip()
    if text.startswith("'") and not text.startswith("''"):
        text = text[1:]                   # a spreadsheet-safe cell's apostrophe
    for a, b in (("−", "-"), ("–", "-"), ("·", "*"), ("⋅", "*"), ("×", "*"), ("⊙", "∘"),
                 ("⊤", "ᵀ"), ("’", "'"), ("′", "'"), (".*", "∘")):
        text = text.replace(a, b)
    text = re.sub(r"\\hat\s*\{?\s*y\s*\}?", "yhat", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _LATEX.get(m.group(1), "\\" + m.group(1)), text)
    for letter, name in _GREEK.items():
        text = text.replace(letter, name)
    # layer indices: W^{[2]} and W^[2] are W2, W_{2} is W_2
    text = re.sub(r"(?<=[A-Za-z0-9])\^\{\[(\d+)\]\s*(?:ᵀ|T)\s*\}", r"\1ᵀ", text)
    text = re.sub(r"(?<=[A-Za-z0-9])\^\{?\[(\d+)\]\}?", r"\1", text)
    text = re.sub(r"(?<=[A-Za-z0-9])_\{(\w+)\}", r"_\1", text)
    # transposes: ^T, ^{T}, ^(T), .T
    text = re.sub(r"\^\s*(?:\{\s*[Tᵀ]\s*\}|\(\s*[Tᵀ]\s*\)|[Tᵀ])", "ᵀ", text)
    text = re.sub(r"\.T(?![A-Za-z0-9_])", "ᵀ", text)
    return text.replace("{", "(").replace("}", ")").replace("[", "(").replace("]", ")")


def _tokens(text: str) -> list[Token]:
    out: list[Token] = []
    pos, blank = 0, True
    while pos < len(text):
        if text[pos].isspace():
            pos, blank = pos + 1, True
            continue
        match = _TOKEN.match(text, pos)
        if not match:
            raise FormulaError(f"unexpected {text[pos]!r}")
        kind = match.lastgroup
        out.append(Token(kind, match.group(kind), tight=not blank))
        if len(out) > MAX_TOKENS:
            raise FormulaError(f"more than {MAX_TOKENS} symbols")
        pos, blank = match.end(), False
    out.append(Token("end", ""))
    return out


# ---------------------------------------------------------------------------- the tree

@dataclass(frozen=True)
class Node:
    """One node of a formula's tree: op is "num" (args: a Rational, its literal), "name", "const",
    "call" (function, derivative order, argument), "neg", "add", "sub", "mul", "had",
    "div", "pow" or "T"."""
    op: str
    args: tuple


@dataclass(frozen=True)
class Parsed:
    """A formula read against `names`: its tree, and the text as typed."""
    tree: Node
    names: Names
    text: str


class _Parser:
    """expr := term (('+'|'-') term)* ;
    term := unary (('*'|'/'|'∘'|'@') unary | <juxtaposed> power)* ;
    unary := ('+'|'-') unary | power ;
    power := postfix (('^'|'**') unary | superscript)? ;
    postfix := atom ('ᵀ' | "'")* ;
    atom := number [<written against> power] | name | function ["'"] '(' expr ')' | '(' expr ')'"""

    def __init__(self, tokens: list[Token], known: frozenset[str]):
        self.tokens, self.pos, self.depth, self.known = tokens, 0, 0, known
        self.pending: list[str] = []          # the rest of a run of letters split into names

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def is_op(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text in ops and not self.pending

    def nested(self, method):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError("nested too deeply")
        try:
            return method()
        finally:
            self.depth -= 1

    def expect(self, op: str) -> None:
        token = self.take()
        if (token.kind, token.text) != ("op", op):
            raise FormulaError(f"expected {op!r}" + (f", found {token.text!r}" if token.text
                                                      else " at the end"))

    def expr(self) -> Node:
        node = self.term()
        while self.is_op("+", "-"):
            op = self.take().text
            node = Node("add" if op == "+" else "sub", (node, self.term()))
        return node

    def starts_factor(self) -> bool:
        if self.pending:
            return True
        token = self.peek()
        return token.kind in ("number", "name") or (token.kind, token.text) == ("op", "(")

    def term(self) -> Node:
        node = self.unary()
        while True:
            if self.is_op("*", "@", "/", "∘"):
                op = self.take().text
                right = self.unary()
                node = Node({"*": "mul", "@": "mul", "/": "div", "∘": "had"}[op], (node, right))
            elif self.starts_factor():
                if self.peek().kind == "number" and not self.pending:
                    raise FormulaError(f"two numbers in a row: {self.peek().text!r}")
                node = Node("mul", (node, self.power()))
            else:
                return node

    def unary(self) -> Node:
        if self.is_op("+", "-"):
            op = self.take().text
            inner = self.nested(self.unary)
            return Node("neg", (inner,)) if op == "-" else inner
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if self.is_op("^", "**"):
            self.take()
            exponent = self.nested(self.unary)
            return self.transposes(Node("pow", (base, exponent)))
        if self.peek().kind == "sup" and not self.pending:
            digits = self.take().text.translate(_SUPERSCRIPTS)
            return self.transposes(Node("pow", (base, Node("num", (sp.Integer(digits), digits)))))
        return base

    def transposes(self, node: Node) -> Node:
        while self.is_op("ᵀ", "'"):
            self.take()
            node = Node("T", (node,))
        return node

    def postfix(self) -> Node:
        return self.transposes(self.atom())

    def atom(self) -> Node:
        if self.pending:
            return Node("name", (self.pending.pop(0),))
        token = self.take()
        if token.kind == "number":
            node = Node("num", (_number(token.text), token.text))
            following = self.peek()
            if following.tight and (following.kind == "name" or
                                    (following.kind, following.text) == ("op", "(")):
                return Node("mul", (node, self.nested(self.power)))   # 2m, 2(Wx): one factor
            return node
        if token.kind == "name":
            return self.name(token.text)
        if (token.kind, token.text) == ("op", "("):
            inner = self.nested(self.expr)
            self.expect(")")
            return inner
        if token.kind == "end":
            raise FormulaError("incomplete formula")
        raise FormulaError(f"unexpected {token.text!r}")

    def name(self, text: str) -> Node:
        following = self.peek()
        if following.kind == "sup":                      # δ¹ is delta1 when that is a name
            joined = _resolve_one(text + following.text.translate(_SUPERSCRIPTS), self.known)
            if joined:
                self.take()
                return Node("name", (joined,))
        function = _function(text)
        if function:
            return self.call(function)
        if text.endswith("T") and len(text) > 1 and not _resolve_one(text, self.known) and (
                _resolve_one(text[:-1], self.known) or _split(text[:-1].replace("_", ""), self.known)):
            # W^[2]T, a layer index then a transpose: W2 ᵀ
            self.tokens.insert(self.pos, Token("op", "ᵀ", tight=True))
            return self.name(text[:-1])
        single = _resolve_one(text, self.known)
        if single:
            return Node("const", (single,)) if single in CONSTANTS else Node("name", (single,))
        pieces = _split(text.replace("_", ""), self.known)
        if pieces is None:
            # a run ending in a function: 2asigma(z) -> a sigma(z)
            for cut in range(1, len(text)):
                head, tail = text[:cut], text[cut:]
                if _function(tail) and _split(head.replace("_", ""), self.known):
                    pieces = _split(head.replace("_", ""), self.known)
                    self.tokens.insert(self.pos, Token("name", tail, tight=True))
                    break
        if pieces is None:
            known = ", ".join(sorted(self.known)) or "none"
            raise FormulaError(f"unknown name {text!r} (names: {known})")
        self.pending.extend(pieces[1:])
        return Node("name", (pieces[0],))

    def call(self, function: str) -> Node:
        order = 0
        while self.is_op("'"):
            self.take()
            order += 1
        if order > 1 or (order and function not in _DERIVATIVES):
            raise FormulaError(f"no derivative {function}{chr(39) * order} here")
        if not self.is_op("("):
            raise FormulaError(f"{function} needs its argument in parentheses: {function}(z)")
        self.take()
        argument = self.nested(self.expr)
        self.expect(")")
        return Node("call", (function, order, argument))


def _function(text: str) -> str | None:
    if text in FUNCTIONS:
        return text
    return _FUNCTION_ALIASES.get(text)


def _resolve_one(text: str, known: frozenset[str]) -> str | None:
    for candidate in (text, text.replace("_", "")):
        if candidate in known or candidate in CONSTANTS:
            return candidate
    return None


def _split(text: str, known: frozenset[str]) -> list[str] | None:
    """`text` as a run of known names (symbols and definitions, not constants), the fewest
    pieces first; None when it does not split."""
    @lru_cache(maxsize=None)
    def best(i: int):
        if i == len(text):
            return ()
        found = None
        for j in range(len(text), i, -1):
            if text[i:j] in known:
                rest = best(j)
                if rest is not None and (found is None or 1 + len(rest) < len(found)):
                    found = (text[i:j],) + rest
        return found
    if not text or len(text) > 60:
        return None
    pieces = best(0)
    return list(pieces) if pieces else None


def _number(literal: str) -> sp.Rational:
    mantissa, _, exponent = literal.lower().partition("e")
    if len(mantissa) > 30 or (exponent and abs(int(exponent)) > 30):
        raise FormulaError(f"number out of range: {literal!r}")
    return sp.Rational(literal)


def parse(text: str, names: Names) -> Parsed:
    """Read `text` against `names`; FormulaError (never anything else) when it cannot be."""
    if not isinstance(text, str):
        raise FormulaError("not text")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"longer than {MAX_LENGTH} characters")
    normal = _normalise(text)
    if not normal:
        raise FormulaError("empty")
    try:
        parser = _Parser(_tokens(normal), names.known)
        tree = parser.expr()
        if parser.pending or parser.peek().kind != "end":
            token = parser.peek()
            raise FormulaError(f"unexpected {token.text!r}" if token.text else "unexpected end")
    except RecursionError:
        raise FormulaError("nested too deeply") from None
    return Parsed(tree, names, text)


# ---------------------------------------------------------------------------- shapes

SCALAR = (1, 1)


def shape_text(shape: tuple[int, int]) -> str:
    return f"({shape[0]}×{shape[1]})"


def _shapes(node: Node, env: Mapping[str, tuple[int, int]]) -> tuple[int, int]:
    """The shape of a formula's value (1 × 1 for a number); ShapeError where it is not
    defined."""
    op, args = node.op, node.args
    if op in ("num", "const"):
        return SCALAR
    if op == "name":
        return env[args[0]]
    if op == "neg":
        return _shapes(args[0], env)
    if op == "T":
        r, c = _shapes(args[0], env)
        return (c, r)
    if op == "call":
        function, _, argument = args
        shape = _shapes(argument, env)
        if function == "sum":
            return SCALAR
        if function == "softmax" and shape[1] != 1 and shape[0] != 1:
            raise ShapeError(f"softmax of a {shape_text(shape)} matrix is not defined "
                             "(a vector is)")
        return shape
    a, b = _shapes(args[0], env), _shapes(args[1], env)
    if op in ("add", "sub"):
        if a != b and SCALAR not in (a, b):
            raise ShapeError(f"{shape_text(a)} {'+' if op == 'add' else '−'} {shape_text(b)} "
                             "is not defined")
        return b if a == SCALAR else a
    if op == "mul":
        if SCALAR in (a, b):
            return b if a == SCALAR else a
        if a[1] != b[0]:
            raise ShapeError(f"{shape_text(a)}{shape_text(b)} is not defined")
        return (a[0], b[1])
    if op == "had":
        if a != b and SCALAR not in (a, b):
            raise ShapeError(f"{shape_text(a)} ∘ {shape_text(b)} is not defined")
        return b if a == SCALAR else a
    if op == "div":
        if b != SCALAR:
            raise ShapeError(f"division by a {shape_text(b)} matrix is not defined")
        return a
    if op == "pow":
        if b != SCALAR:
            raise ShapeError(f"a power {shape_text(b)} is not defined")
        if a != SCALAR:
            exponent = args[1]
            if not (exponent.op == "num" and exponent.args[0].is_Integer
                    and 1 <= exponent.args[0] <= MAX_POWER and a[0] == a[1]):
                raise ShapeError(f"a power of a {shape_text(a)} matrix is not defined here: "
                                 "write the product, or ∘ for entry by entry")
        return a
    raise FormulaError(f"unknown operation {op}")


# ---------------------------------------------------------------------------- values

def _functions_used(node: Node) -> bool:
    if node.op == "call":
        return True
    if node.op == "const":
        return True
    if node.op == "pow":
        exponent = node.args[1]
        if not (exponent.op == "num" and exponent.args[0].is_Integer):
            return True
    return any(_functions_used(a) for a in node.args if isinstance(a, Node))


def _apply(function: str, order: int, value):
    if function == "sum":
        return sum(value, sp.Integer(0)) if isinstance(value, sp.MatrixBase) else value
    if function == "softmax":
        if not isinstance(value, sp.MatrixBase):
            return sp.Integer(1)
        exps = [_exp(v) for v in value]
        total = sp.Add(*exps)
        return sp.ImmutableMatrix(value.rows, value.cols, [e / total for e in exps])
    rule = _RULES[(function, order)]
    if isinstance(value, sp.MatrixBase):
        return sp.ImmutableMatrix(value.rows, value.cols, [rule(v) for v in value])
    return rule(value)


def _exp(u):
    """exp(u), refused where u is a number too large to evaluate (a response like
    exp(exp(exp(99))) must not hang the grading)."""
    if u.is_number and not u.is_Rational:
        magnitude = abs(sp.N(u, 15))
        if not magnitude.is_finite or magnitude > MAX_EXPONENT:
            raise FormulaError("a number too large to evaluate")
    elif u.is_Rational and abs(u) > MAX_EXPONENT:
        raise FormulaError("a number too large to evaluate")
    return sp.exp(u)


def _sigma(u):
    return 1 / (1 + _exp(-u))


_RULES = {
    ("sigma", 0): _sigma, ("sigma", 1): lambda u: _sigma(u) * (1 - _sigma(u)),
    ("tanh", 0): sp.tanh, ("tanh", 1): lambda u: 1 - sp.tanh(u) ** 2,
    ("exp", 0): _exp, ("exp", 1): _exp,
    ("log", 0): sp.log, ("log", 1): lambda u: 1 / u,
    ("sqrt", 0): sp.sqrt,
    ("relu", 0): lambda u: sp.Max(u, 0), ("relu", 1): sp.Heaviside,
    ("step", 0): sp.Heaviside,
}


def _scalar(value):
    """A 1 × 1 matrix as its entry."""
    if isinstance(value, sp.MatrixBase) and value.shape == SCALAR:
        return value[0, 0]
    return value


def _value(node: Node, env: Mapping[str, Any]):
    """The explicit value of a formula whose shapes were checked: a SymPy number or
    expression, or an ImmutableMatrix (never 1 × 1)."""
    op, args = node.op, node.args
    if op == "num":
        return args[0]
    if op == "const":
        return sp.E if args[0] == "e" else sp.pi
    if op == "name":
        return env[args[0]]
    if op == "neg":
        return _scalar(-_value(args[0], env))
    if op == "T":
        inner = _value(args[0], env)
        return inner.T if isinstance(inner, sp.MatrixBase) else inner
    if op == "call":
        return _scalar(_apply(args[0], args[1], _value(args[2], env)))
    a, b = _value(args[0], env), _value(args[1], env)
    a_matrix, b_matrix = isinstance(a, sp.MatrixBase), isinstance(b, sp.MatrixBase)
    if op in ("add", "sub"):
        if a_matrix != b_matrix:            # a number added to every entry
            if a_matrix:
                b = sp.ImmutableMatrix(a.rows, a.cols, [b] * len(a))
            else:
                a = sp.ImmutableMatrix(b.rows, b.cols, [a] * len(b))
        return _scalar(a + b if op == "add" else a - b)
    if op == "mul":
        if a_matrix and b_matrix:
            return _scalar(sp.ImmutableMatrix(a * b))
        return _scalar(a * b)
    if op == "had":
        if a_matrix and b_matrix:
            return sp.ImmutableMatrix(a.rows, a.cols, [x * y for x, y in zip(a, b)])
        return _scalar(a * b)
    if op == "div":
        return _scalar(a / b)
    if op == "pow":
        if a_matrix:
            result = a
            for _ in range(int(b) - 1):
                result = sp.ImmutableMatrix(result * a)
            return result
        if a == sp.E:
            return _exp(b)
        if b.is_Rational and (abs(b) > MAX_EXACT_POWER or (b.is_Integer and abs(b) > MAX_POWER
                                                           and a.free_symbols)):
            raise FormulaError(f"the power {b} is too large")
        if a.is_Rational and b.is_Integer and \
                max(a.p.bit_length(), a.q.bit_length()) * abs(int(b)) > 20_000:
            raise FormulaError("a number too large")
        return sp.Pow(a, b)
    raise FormulaError(f"unknown operation {op}")


def _symbol_entries(name: str, shape: tuple[int, int]):
    if shape == SCALAR:
        return sp.Symbol(name, real=True)
    rows, cols = shape
    if cols == 1:
        return sp.ImmutableMatrix(rows, 1, [sp.Symbol(f"{name}[{i + 1}]", real=True)
                                            for i in range(rows)])
    return sp.ImmutableMatrix(rows, cols, [sp.Symbol(f"{name}[{i + 1},{j + 1}]", real=True)
                                           for i in range(rows) for j in range(cols)])


@lru_cache(maxsize=256)
def _definition_trees(names: Names) -> tuple[tuple[str, Node, tuple[int, int]], ...]:
    """The definitions read and shaped, in order (each may use the symbols and the
    definitions before it)."""
    shapes = dict(names.shapes)
    out = []
    for i, (name, text) in enumerate(names.definitions):
        earlier = Names(names.shapes, names.definitions[:i])
        tree = parse(text, earlier).tree
        shape = _shapes(tree, shapes)
        shapes[name] = shape
        out.append((name, tree, shape))
    return tuple(out)


def _shape_env(names: Names) -> dict[str, tuple[int, int]]:
    env = dict(names.shapes)
    env.update({name: shape for name, _, shape in _definition_trees(names)})
    return env


def _environment(names: Names, symbols: Mapping[str, Any]) -> dict[str, Any]:
    env = dict(symbols)
    for name, tree, _ in _definition_trees(names):
        env[name] = _value(tree, env)
    return env


def shape_of(parsed: Parsed) -> tuple[int, int]:
    """The shape of a formula's value; ShapeError where it is not defined."""
    return _shapes(parsed.tree, _shape_env(parsed.names))


def _multiplications(node: Node, env: Mapping[str, tuple[int, int]]) -> int:
    """A rough count of the multiplications an explicit evaluation takes."""
    own = 0
    if node.op == "mul":
        a, b = _shapes(node.args[0], env), _shapes(node.args[1], env)
        own = a[0] * a[1] * b[1] if SCALAR not in (a, b) else max(a[0] * a[1], b[0] * b[1])
    elif node.op == "pow" and _shapes(node.args[0], env) != SCALAR:
        n = _shapes(node.args[0], env)[0]
        own = n ** 3 * MAX_POWER
    return own + sum(_multiplications(a, env) for a in node.args if isinstance(a, Node))


# ---------------------------------------------------------------------------- equivalence

@dataclass(frozen=True)
class Verdict:
    """Whether two formulas are the same answer, and how that was decided ("exact" or
    "evaluation"); `reason` says why not (shapes, a point where they differ)."""
    same: bool
    how: str
    reason: str = ""


def _seed(*texts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x00".join(texts).encode()).digest()[:8], "big")


def _random_point(names: Names, rng: random.Random) -> dict[str, Any]:
    point = {}
    for name, shape in names.shapes:
        draw = lambda: sp.Rational(rng.choice([-1, 1]) * rng.randint(1, 9), rng.randint(1, 9))
        if shape == SCALAR:
            point[name] = draw()
        else:
            point[name] = sp.ImmutableMatrix(shape[0], shape[1],
                                             [draw() for _ in range(shape[0] * shape[1])])
    return point


def _entries(value) -> list:
    return list(value) if isinstance(value, sp.MatrixBase) else [value]


def _number_at(value) -> list:
    """Every entry to DIGITS digits (complex where a logarithm or root of a negative number
    made it so); None for an entry that is not a finite number."""
    out = []
    for entry in _entries(value):
        number = sp.N(entry, DIGITS + 10)
        if not number.is_number or number.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return None
        out.append(number)
    return out


def _agree(a: list, b: list) -> bool:
    for x, y in zip(a, b):
        if x == y:
            continue
        scale = max(abs(x), abs(y), 1)
        if abs(x - y) > scale * sp.Rational(1, 10 ** DIGITS):
            return False
    return True


def same(a: Parsed, b: Parsed) -> Verdict:
    """Whether `a` and `b` (read against the same names) are the same answer (see the module
    docstring for the rule).  ShapeError when either is not defined."""
    names = a.names
    env = _shape_env(names)
    shape_a, shape_b = _shapes(a.tree, env), _shapes(b.tree, env)
    if shape_a != shape_b:
        what = lambda s: "a number" if s == SCALAR else f"a {s[0]}×{s[1]} matrix"
        return Verdict(False, "shape", f"{what(shape_a)}, not {what(shape_b)}")
    rng = random.Random(_seed(to_text(a), to_text(b)))
    with_functions = _functions_used(a.tree) or _functions_used(b.tree) or any(
        _functions_used(tree) for _, tree, _ in _definition_trees(names))
    # evaluation at random points: decides "not the same" always, "the same" for formulas
    # with functions
    done, tries = 0, 0
    while done < POINTS:
        tries += 1
        if tries > 4 * POINTS:
            return Verdict(False, "evaluation", "undefined at most points")
        env_point = _environment(names, _random_point(names, rng))
        try:
            x = _number_at(_value(a.tree, env_point))
            y = _number_at(_value(b.tree, env_point))
        except FormulaError:
            raise
        except (ZeroDivisionError, ValueError, TypeError, OverflowError, ArithmeticError):
            continue
        if x is None or y is None:
            continue
        if not _agree(x, y):
            return Verdict(False, "evaluation", "they differ at a random point")
        done += 1
    if with_functions:
        return Verdict(True, "evaluation")
    cost = _multiplications(a.tree, env) + _multiplications(b.tree, env) + sum(
        _multiplications(tree, env) for _, tree, _ in _definition_trees(names))
    if cost > SYMBOLIC_BUDGET:
        return Verdict(True, "evaluation")
    symbols = {name: _symbol_entries(name, shape) for name, shape in names.shapes}
    env_symbols = _environment(names, symbols)
    left, right = _value(a.tree, env_symbols), _value(b.tree, env_symbols)
    for x, y in zip(_entries(left), _entries(right)):
        if sp.cancel(sp.expand(x - y)) != 0:
            return Verdict(False, "exact", "their difference is not 0")
    return Verdict(True, "exact")


# ---------------------------------------------------------------------------- printing

_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "had": 2, "div": 2, "neg": 3, "pow": 4, "T": 5,
               "call": 6, "num": 6, "name": 6, "const": 6}


def _wrap(text: str, inner: Node, limit: int, open_: str = "(", close: str = ")") -> str:
    return f"{open_}{text}{close}" if _PRECEDENCE[inner.op] < limit else text


def _text(node: Node) -> str:
    op, args = node.op, node.args
    if op == "num":
        return args[1]
    if op in ("name", "const"):
        return args[0]
    if op == "call":
        return f"{args[0]}{chr(39) * args[1]}({_text(args[2])})"
    if op == "neg":
        return "-" + _wrap(_text(args[0]), args[0], 3)
    if op == "T":
        return _wrap(_text(args[0]), args[0], 5) + "^T"
    if op == "pow":
        return _wrap(_text(args[0]), args[0], 5) + "^" + _wrap(_text(args[1]), args[1], 6)
    a, b = args
    if op in ("add", "sub"):     # left to right: a right operand that is a sum is grouped
        return _text(a) + (" + " if op == "add" else " - ") + _wrap(_text(b), b, 2)
    symbol = {"mul": "*", "had": " .* ", "div": "/"}[op]
    left = f"({_text(a)})" if _mixed(op, a) else _wrap(_text(a), a, 2)
    return left + symbol + _wrap(_text(b), b, 3)


def _mixed(op: str, left: Node) -> bool:
    """A product under an entry-by-entry product, or the other way round: grouped in print
    (the grammar reads them left to right at one level, a reader may not)."""
    return left.op in ("mul", "had", "div") and op in ("mul", "had") and left.op != op \
        and not (op == "mul" and left.op == "div")


def to_text(parsed: Parsed) -> str:
    """The canonical text of a formula: explicit operators, `^T`, `.*`, the names resolved;
    it reads back to the same tree."""
    return _text(parsed.tree)


def _name_tex(name: str, names: Names) -> str:
    custom = dict(names.tex)
    if name in custom:
        return custom[name]
    if name == "yhat":
        return r"\hat y"
    match = re.fullmatch(r"([A-Za-z]+?)(\d*)", name)
    base, digits = match.groups()
    greek = {"sigma", "delta", "Delta", "lambda", "alpha", "beta", "gamma", "mu", "eta",
             "theta"}
    base = "\\" + base + " " if base in greek else base if len(base) == 1 else \
        r"\epsilon " if base == "eps" else r"\mathrm{" + base + "}"
    return (base.strip() + (f"_{{{digits}}}" if digits else ""))


_TEX_FUNCTIONS = {"sigma": r"\sigma", "tanh": r"\tanh", "exp": r"\exp", "log": r"\log",
                  "relu": r"\mathrm{ReLU}", "step": r"\mathrm{H}", "softmax": r"\mathrm{softmax}",
                  "sum": r"\mathrm{sum}"}


def _tex(node: Node, names: Names, number: Callable[[Any], str]) -> str:
    op, args = node.op, node.args
    if op == "num":
        return number(args[0])
    if op == "const":
        return "e" if args[0] == "e" else r"\pi"
    if op == "name":
        return _name_tex(args[0], names)
    if op == "call":
        function, order, argument = args
        inner = _tex(argument, names, number)
        if function == "sqrt":
            return r"\sqrt{" + inner + "}"
        return _TEX_FUNCTIONS[function] + "'" * order + r"\left(" + inner + r"\right)"
    if op == "neg":
        return "-" + _wrap(_tex(args[0], names, number), args[0], 3, r"\left(", r"\right)")
    if op == "T":
        inner = _tex(args[0], names, number)
        if args[0].op == "name" and re.fullmatch(r"[^^]*\^\{[^{}]*\}", inner):
            return inner[:-1] + r"\top}"                    # W^{[2]} -> W^{[2]\top}
        if args[0].op == "name" and "^" in inner:
            return "{" + inner + r"}^\top"
        return _wrap(inner, args[0], 5, r"\left(", r"\right)") + r"^\top"
    if op == "pow":
        base = _wrap(_tex(args[0], names, number), args[0], 5, r"\left(", r"\right)")
        if "^" in base and not base.endswith(r"\right)"):
            base = "{" + base + "}"
        return base + "^{" + _tex(args[1], names, number) + "}"
    a, b = args
    wrap = lambda n, limit: _wrap(_tex(n, names, number), n, limit, r"\left(", r"\right)")
    if op == "div" and _PRECEDENCE[a.op] >= 2 and _PRECEDENCE[b.op] >= 2:
        return r"\frac{" + _tex(a, names, number) + "}{" + _tex(b, names, number) + "}"
    if op in ("add", "sub"):
        return _tex(a, names, number) + (" + " if op == "add" else " - ") + wrap(b, 2)
    symbol = {"mul": r" \cdot " if b.op == "num" else " ", "had": r" \circ ", "div": " / "}[op]
    left = r"\left(" + _tex(a, names, number) + r"\right)" if _mixed(op, a) else wrap(a, 2)
    return left + symbol + wrap(b, 3)


def to_tex(parsed: Parsed, number: Callable[[Any], str] = sp.latex) -> str:
    """The formula as TeX: products juxtaposed, ᵀ as ^\\top, ∘ for entry by entry; its
    numbers as `number` prints them (the exam printer's `tex`, passed in by the printer and
    the formats, so that this module needs nothing of the printing)."""
    return _tex(parsed.tree, parsed.names, number)


# ---------------------------------------------------------------------------- grading

@dataclass(frozen=True)
class Judgement:
    """One formula response graded: outcome "right", "mistake", "wrong", "shape error" or
    "unreadable"; `mistakes` the ids of the declared mistakes it is; `detail` one line for
    the feedback; `text` the response read back in canonical form ("" when unreadable)."""
    outcome: str
    detail: str = ""
    mistakes: tuple[str, ...] = ()
    text: str = ""


def record_names(record: Mapping[str, Any]) -> Names:
    """The names of an answers.json formula record; FormulaError when malformed."""
    symbols, definitions = record.get("symbols"), record.get("definitions", {})
    if not isinstance(symbols, dict) or not isinstance(definitions, dict):
        raise FormulaError("a formula record needs \"symbols\" and \"definitions\" objects")
    names = names_of({k: (tuple(v) if isinstance(v, list) else v) for k, v in symbols.items()},
                     definitions)
    _definition_trees(names)
    return names


def check_record(record: Mapping[str, Any]) -> None:
    """FormulaError unless an answers.json formula record reads: its names, and its
    "exact" text defined at their shapes."""
    if not isinstance(record.get("exact"), str):
        raise FormulaError("\"exact\" must be the formula's text")
    shape_of(parse(record["exact"], record_names(record)))


def judge(text: str, record: Mapping[str, Any], mistakes: Iterable[Mapping[str, Any]] = (),
          name: str = "") -> Judgement:
    """Grade one typed formula against the answers.json record of a formula answer
    (`name` is the answer's name, to find the declared mistakes' formulas for it).

    A class types the same few formulas over and over: a judgement is kept for the same
    text, record and mistakes (it depends on nothing else: the random points are seeded by
    the two texts), so each distinct response is worked out once per process."""
    formulas = tuple((str(m.get("id")), m.get("answers", {}).get(name, {}).get("exact"))
                     for m in mistakes)
    key = json.dumps([text, {k: record.get(k) for k in ("exact", "symbols", "definitions", "tex")},
                      formulas], sort_keys=True, default=str)
    return _judge_once(key)


@lru_cache(maxsize=8192)
def _judge_once(key: str) -> Judgement:
    text, record, formulas = json.loads(key)
    mistakes = [{"id": mid, "answers": {"": {"exact": formula}}} for mid, formula in formulas]
    return _judge(text, record, mistakes, "")


def _judge(text: str, record: Mapping[str, Any], mistakes: Iterable[Mapping[str, Any]],
           name: str) -> Judgement:
    names = record_names(record)
    expected = parse(record["exact"], names)
    try:
        given = parse(text, names)
        shape_of(given)
    except ShapeError as exc:
        return Judgement("shape error", str(exc))
    except FormulaError as exc:
        return Judgement("unreadable", str(exc))
    except (RecursionError, MemoryError, OverflowError):
        return Judgement("unreadable", "too large to read")
    canonical = to_text(given)
    try:
        verdict = same(given, expected)
    except FormulaError as exc:
        return Judgement("unreadable", str(exc), text=canonical)
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        return Judgement("unreadable", f"cannot evaluate ({type(exc).__name__})", text=canonical)
    if verdict.same:
        return Judgement("right", text=canonical)
    found = []
    for mistake in mistakes:
        formula = mistake.get("answers", {}).get(name, {}).get("exact")
        if not isinstance(formula, str):
            continue
        try:
            if same(given, parse(formula, names)).same:
                found.append(str(mistake.get("id")))
        except (FormulaError, ArithmeticError, ValueError, TypeError):
            continue
    if found:
        return Judgement("mistake", mistakes=tuple(found), text=canonical)
    return Judgement("wrong", verdict.reason, text=canonical)
