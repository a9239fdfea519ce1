"""The single printing point: values to TeX.

Every piece of mathematics in every format goes through `tex`.  Settings and
``_print_<Class>`` methods customise SymPy's LaTeX printer; nothing else in
the project turns a value into TeX.  (Evaluating values, to decimals, floats and
exact strings, is core.numeric's.)

Number display rule: an exact rational whose decimal expansion terminates
prints as that decimal (22/125 -> 0.176); any other value prints exactly
(fraction, closed form) and, where an answer is shown, with a decimal rounded
to a stated number of significant digits beside it (`answer_tex`).

Written forms: arithmetic kept as written (core.shown) prints as written, in its order,
wherever it is shown (steps, the answers list, common mistakes, quiz feedback).  A plain
SymPy value prints as SymPy holds it, with one rewrite of SymPy's printer undone: a
factor e^{-a} stays e^{-a} in the numerator (SymPy's LaTeX printer would move it into
the denominator as e^{a}: e^{-1}/(1 + 2e^{-1}) printed as 1/((1 + 2/e) e)).
`answer_key_tex` is an answer as the key's answers list prints it, and `exact_tex` the
same from an answers.json "exact" string (for feedback written from answers.json).
"""
from __future__ import annotations

import ast
from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from .model import Vector
from .numeric import approx_decimal, is_terminating, terminating_digits
from .shown import (Shown, ShownDifference, ShownMatrix, ShownNegation, ShownPower, ShownProduct,
                    ShownQuotient, ShownRounded, ShownSum, ShownValue)
from .values import exact

__all__ = ["ExamLatexPrinter", "answer_key_tex", "answer_tex", "bmatrix", "exact_tex", "tex"]


@lru_cache(maxsize=65536)
def _rational_tex(p: int, q: int) -> str | None:
    """p/q as an exact decimal if it terminates, else None."""
    k = terminating_digits(q)
    if k is None:
        return None
    digits = str(abs(p) * 10 ** k // q).rjust(k + 1, "0")
    text = digits if k == 0 else digits[:-k] + "." + digits[-k:]
    return ("-" if p < 0 else "") + text


def _is_negative_number(e) -> bool:
    # Rationals only: asking SymPy's assumption system (`is_negative`) is slow
    return isinstance(e, sp.Rational) and e.p < 0


class ExamLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the project's number and matrix conventions."""

    printmethod = "_wsgen_latex"

    def __init__(self):
        super().__init__({"order": "none", "mat_str": "bmatrix", "mat_delim": ""})
        self._methods: dict[type, str] = {}

    def _print(self, expr, **kwargs) -> str:
        # SymPy's dispatcher walks the class's MRO with getattr on every call; remember the
        # method it picks for each class.  Objects that print themselves, and functions
        # (whose dispatch has special rules), go through SymPy's own dispatcher.
        cls = type(expr)
        name = self._methods.get(cls)
        if name is None:
            if hasattr(expr, self.printmethod) or issubclass(cls, (sp.Function, type)):
                return super()._print(expr, **kwargs)
            name = next((f"_print_{c.__name__}" for c in cls.__mro__
                         if hasattr(self, f"_print_{c.__name__}")), "emptyPrinter")
            self._methods[cls] = name
        self._print_level += 1
        try:
            return getattr(self, name)(expr, **kwargs)
        finally:
            self._print_level -= 1

    def _print_Rational(self, expr):
        decimal = _rational_tex(int(expr.p), int(expr.q))
        return decimal if decimal is not None else super()._print_Rational(expr)

    _print_Integer = _print_Rational

    def _print_Float(self, expr):
        raise TypeError(f"inexact number {expr} reached the printer; keep values exact")

    def _factor(self, e) -> str:
        text = self._print(e)
        if ((_is_negative_number(e) and not isinstance(e, ShownValue))
                or isinstance(e, (ShownSum, ShownDifference, ShownNegation, sp.Add))
                or (isinstance(e, ShownRounded) and text.startswith("-"))):
            return r"\left(" + text + r"\right)"
        return text

    def _print_ShownProduct(self, expr):
        return r" \cdot ".join(self._factor(f) for f in expr.args)

    def _print_ShownNegation(self, expr):
        return "-" + self._factor(expr.args[1])

    def _print_ShownValue(self, expr):
        return self._print(expr.args[0])

    def _print_ShownPower(self, expr):
        base, exp = expr.args
        text = self._factor(base)
        if isinstance(base, (ShownProduct, ShownQuotient, ShownPower)):
            text = r"\left(" + text + r"\right)"
        return "{%s}^{%s}" % (text, self._print(exp))

    def _print_ShownDifference(self, expr):
        a, b = expr.args
        return self._print(a) + " - " + self._factor(b)

    def _print_ShownQuotient(self, expr):
        a, b = expr.args
        return r"\frac{%s}{%s}" % (self._print(a), self._print(b))

    def _print_ShownSum(self, expr):
        parts = []
        for i, term in enumerate(expr.args):
            if i and _is_negative_number(term):
                parts.append(" - " + self._print(-term))
            elif i and isinstance(term, ShownNegation):
                parts.append(" - " + self._factor(term.args[1]))
            elif isinstance(term, ShownDifference):   # (a - b) + (c - d): keep each term whole
                parts.append((" + " if i else "") + r"\left(" + self._print(term) + r"\right)")
            else:
                parts.append((" + " if i else "") + self._print(term))
        return "".join(parts)

    def _print_ShownRounded(self, expr):
        value = expr.value
        if is_terminating(value):
            return self._print(value)
        return _approx_tex(value, expr.digits)

    def _print_Mul(self, expr):
        # SymPy's printer moves a factor e^{-a} into the denominator as e^{a}; keep it where
        # the value holds it (e^{-1}/(1 + 2e^{-1}), not 1/((1 + 2/e) e))
        decays = [f for f in expr.args if isinstance(f, sp.exp)
                  and f.args[0].could_extract_minus_sign()]
        if not decays:
            return super()._print_Mul(expr)
        if expr.could_extract_minus_sign():
            return "- " + self._print(-expr)
        rest = sp.Mul(*[f for f in expr.args if not (isinstance(f, sp.exp) and f in decays)])
        numer, denom = sp.fraction(rest, exact=True)
        factors = [] if numer == 1 else [self.parenthesize(numer, PRECEDENCE["Mul"])]
        top = " ".join(factors + [self._print(f) for f in decays])
        return top if denom == 1 else r"\frac{%s}{%s}" % (top, self._print(denom))

    def _print_MatrixBase(self, expr):
        # Row lists once: SymPy's entry-by-entry indexing dominates printing time.
        return self._bmatrix([[self._print(e) for e in row] for row in expr.tolist()])

    @staticmethod
    def _bmatrix(rows: list[list[str]]) -> str:
        return r"\begin{bmatrix}" + r"\\".join(" & ".join(r) for r in rows) + r"\end{bmatrix}"

    def _print_WithDecimal(self, expr):
        return answer_tex(expr.value, expr.digits)

    def _print_Tex(self, expr):
        return str(expr)

    def _print_ShownMatrix(self, expr):
        return self._bmatrix([[self._print(e) for e in row] for row in expr.args])

    def _print_Vector(self, expr):
        return self._bmatrix([[self._print(e)] for e in expr])

    def _print_tuple(self, expr):
        return r"\left(" + r",\ ".join(self._print(e) for e in expr) + r"\right)"


bmatrix = ExamLatexPrinter._bmatrix
_PRINTER = ExamLatexPrinter()


@lru_cache(maxsize=4096)
def _tex_cached(kind: type, obj: Any) -> str:
    # keyed on the type too: a Vector equals the tuple of its entries but prints otherwise
    return _PRINTER.doprint(obj)


def tex(obj: Any) -> str:
    """TeX for a SymPy object, a Vector or a tuple of them."""
    if isinstance(obj, int) and not isinstance(obj, bool):
        obj = sp.Integer(obj)
    if isinstance(obj, sp.MutableDenseMatrix):
        obj = sp.ImmutableMatrix(obj)
    try:
        return _tex_cached(type(obj), obj)
    except TypeError:  # unhashable
        return _PRINTER.doprint(obj)


def _approx_tex(obj, digits: int) -> str:
    if isinstance(obj, sp.MatrixBase):
        return ExamLatexPrinter._bmatrix([[approx_decimal(e, digits) for e in row]
                                          for row in obj.tolist()])
    if isinstance(obj, Vector):
        return _approx_tex(sp.Matrix(list(obj)), digits)
    if isinstance(obj, tuple):
        return r"\left(" + r",\ ".join(_approx_tex(e, digits) for e in obj) + r"\right)"
    return approx_decimal(obj, digits)


def _rational_arithmetic(obj: Any) -> bool:
    """Whether `obj` is arithmetic as written (or vectors of it) on rationals only."""
    if isinstance(obj, ShownRounded):
        return _rational_arithmetic(obj.args[0]) or isinstance(obj.args[0], sp.Rational)
    if isinstance(obj, ShownMatrix):
        return all(isinstance(e, sp.Rational) or _rational_arithmetic(e)
                   for row in obj.args for e in row)
    if isinstance(obj, Shown):
        return all(isinstance(a, sp.Rational) or (isinstance(a, Shown) and _rational_arithmetic(a))
                   for a in obj.args)
    if isinstance(obj, tuple) and obj:
        return all(isinstance(e, sp.Rational) or _rational_arithmetic(e) for e in obj) and \
            any(isinstance(e, Shown) for e in obj)
    return False


def answer_value_tex(answer) -> str:
    """TeX of an Answer's value as the keys' answer lists show it: a formula (to choose or
    to type) as written, a number with its rounded decimal where it does not terminate."""
    if answer.kind in ("choice", "formula"):
        return tex(answer.value)
    return answer_tex(answer.value, answer.digits)


def answer_tex(value: Any, digits: int) -> str:
    """The exact value, with its decimal beside it: after "=" when the value terminates
    (arithmetic as written: 0.5 - 1 = -0.5), rounded after "≈" when it does not."""
    try:
        return _answer_tex_cached(type(value), value, digits)
    except TypeError:  # unhashable
        return _answer_tex(value, digits)


@lru_cache(maxsize=4096)
def _answer_tex_cached(kind: type, value: Any, digits: int) -> str:
    # keyed on the type too, as `tex` is; a value is shown with its decimal in a step, in
    # the answers list of the key and the question sheet's feedback, and in its mistakes
    return _answer_tex(value, digits)


def _answer_tex(value: Any, digits: int) -> str:
    written = tex(value)
    if is_terminating(value):
        return written
    if _rational_arithmetic(value):              # cheap to evaluate exactly: may terminate
        result = exact(value)
        if is_terminating(result):
            return written + " = " + tex(result)
        return written + r" \approx " + _approx_tex(result, digits)
    # a closed form (or arithmetic on one) never terminates: rounded through mpmath
    return written + r" \approx " + _approx_tex(value, digits)




def answer_key_tex(answer) -> str:
    """An answer's value as the key's answers list prints it: exact, as the problem wrote
    it, with its rounded decimal where it does not terminate (a formula question: the
    formula).  What feedback to a student should show as the correct answer."""
    if answer.kind == "choice":
        return tex(answer.value)
    return answer_tex(answer.value, answer.digits)


# --- reading an answers.json "exact" string back -----------------------------------------
_FUNCTIONS = {"exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "tanh": sp.tanh, "sinh": sp.sinh,
              "cosh": sp.cosh, "Max": sp.Max, "Min": sp.Min, "Abs": sp.Abs}
_NAMES = {"E": sp.E, "pi": sp.pi}


def _number(node) -> sp.Rational | None:
    """An integer literal, a negated one, or a quotient of two: a SymPy rational."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return sp.Integer(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        p, q = _number(node.left), _number(node.right)
        if p is not None and q is not None and p.q == 1 and q.q == 1 and q != 0:
            return sp.Rational(p, q)
    return None


def _wrapped(node, text: str) -> bool:
    """Whether an operand stands in parentheses of its own in `text`."""
    start, end = node.col_offset, node.end_col_offset
    return start > 0 and end < len(text) and text[start - 1] == "(" and text[end] == ")"


def _written(node, text: str):
    """One node of an exact string read back.  The exact string of arithmetic kept as
    written (core.shown) puts every operand that is not a whole number in parentheses of
    its own, in the order written: such arithmetic is read back node by node as written;
    arithmetic on plain operands (a SymPy value's string, ``2*exp(-1)``) as SymPy does."""
    number = _number(node)
    if number is not None:
        return number
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = _written(node.operand, text)
        return ShownNegation(sp.Integer(-1), operand) if isinstance(operand, Shown) else -operand
    if isinstance(node, ast.BinOp):
        left, right = _written(node.left, text), _written(node.right, text)
        if not any(isinstance(x, Shown) for x in (left, right)) \
                and not any(_wrapped(n, text) for n in (node.left, node.right)):
            return _SYMPY_OPERATORS[type(node.op)](left, right)
        if isinstance(node.op, ast.Add):
            return ShownSum(*(left.args if type(left) is ShownSum else (left,)), right)
        if isinstance(node.op, ast.Sub):
            return ShownDifference(left, right)
        if isinstance(node.op, ast.Mult):
            if left == -1:
                return ShownNegation(sp.Integer(-1), right)
            return ShownProduct(*(left.args if type(left) is ShownProduct else (left,)), right)
        if isinstance(node.op, ast.Div):
            return ShownQuotient(left, right)
        if isinstance(node.op, ast.Pow):
            return ShownPower(left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in _FUNCTIONS and not node.keywords:
        return _FUNCTIONS[node.func.id](*[exact(_written(a, text)) for a in node.args])
    if isinstance(node, ast.Name):
        return _NAMES.get(node.id) or sp.Symbol(node.id)
    raise ValueError(f"not an exact value: {ast.unparse(node)!r}")


_SYMPY_OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                    ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
                    ast.Pow: lambda a, b: a ** b}


def _read_exact(text: str):
    text = text.strip()
    value = _written(ast.parse(text, mode="eval").body, text)
    # a number or a closed form alone needs no working
    return value if isinstance(value, Shown) else sp.sympify(value)


def exact_tex(exact_value, kind: str = "number", digits: int = 4) -> str:
    """TeX of an answers.json answer from its "exact" field (a string, or lists of them
    nested as its kind is: "vector", "matrix", "list"), printed as the key prints it:
    arithmetic in the order written, exact, with a rounded decimal where it does not
    terminate.  (A choice answer's "exact" is its letter: shown as it is.)"""
    if kind == "choice":
        return r"\text{%s}" % exact_value
    if kind == "matrix":
        rows = [[_read_exact(e) for e in row] for row in exact_value]
        value = sp.ImmutableMatrix([[exact(e) for e in row] for row in rows])
        if not any(isinstance(e, Shown) for row in rows for e in row):
            return answer_tex(value, digits)
        written = bmatrix([[tex(e) for e in row] for row in rows])
        return written + r" \approx " + _approx_tex(value, digits)
    if kind == "vector":
        value = Vector(_read_exact(e) for e in exact_value)
    elif isinstance(exact_value, list):
        value = _list_value(exact_value)
    else:
        value = _read_exact(exact_value)
    return answer_tex(value, digits)


def _list_value(nested):
    """A nested list of exact strings (a list answer's entries) as a tuple of values."""
    return tuple(_read_exact(e) if isinstance(e, str) else _list_value(e) for e in nested)
