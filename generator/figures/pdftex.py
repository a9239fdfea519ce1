"""A scene for the PDF: its shapes as PDF drawing operators (one \\pdfliteral), its text set
by TeX in a LaTeX picture: vector graphics in the PDF's own pdflatex pass, every label in
the document's fonts and math (\\footnotesize: the scene's 9 pt at the 11 pt size).

No package is loaded for it.  TikZ was measured first: with it a 100-variant build of the
default exam took three to eight times as long (0.15 to 0.35 s of pdflatex per figure,
its parser's cost), where this costs next to nothing beyond the text itself.
"""
from __future__ import annotations

from .scene import COLOURS, Curve, Dot, Line, Rect, Scene, Text, arrowhead

__all__ = ["scene_latex"]

#: The widest figure set at its own size, in points (the text width of A4 with the
#: documents' margins is about 470 pt; letter's is a little more).
TEXT_WIDTH = 460.0
BP = 72 / 72.27                 # PDF units (big points) per TeX point
KAPPA = 0.5523                  # a quarter circle's Bézier control distance, per radius


def _n(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _rgb(value) -> tuple[int, int, int]:
    return COLOURS[value] if isinstance(value, str) else tuple(value)


def _colour(value, operator: str) -> str:
    return " ".join(_n(c / 255) for c in _rgb(value)) + " " + operator


class _Pen:
    """PDF operators in the scene's coordinates (y down, from the top) turned into the
    page's (y up, from the picture's bottom left corner, in big points)."""

    def __init__(self, height: float):
        self.height, self.ops = height, []

    def p(self, x: float, y: float) -> str:
        return f"{_n(x * BP)} {_n((self.height - y) * BP)}"

    def style(self, stroke=None, fill=None, width=None, dashed=False) -> None:
        if stroke is not None:
            self.ops.append(_colour(stroke, "RG"))
        if fill is not None:
            self.ops.append(_colour(fill, "rg"))
        if width is not None:
            self.ops.append(f"{_n(width * BP)} w")
        self.ops.append("[2.5 1.8] 0 d" if dashed else "[] 0 d")

    def rounded(self, x, y, w, h, r) -> None:
        k = r * KAPPA
        ops = [f"{self.p(x + r, y)} m", f"{self.p(x + w - r, y)} l",
               f"{self.p(x + w - r + k, y)} {self.p(x + w, y + r - k)} {self.p(x + w, y + r)} c",
               f"{self.p(x + w, y + h - r)} l",
               f"{self.p(x + w, y + h - r + k)} {self.p(x + w - r + k, y + h)} "
               f"{self.p(x + w - r, y + h)} c",
               f"{self.p(x + r, y + h)} l",
               f"{self.p(x + r - k, y + h)} {self.p(x, y + h - r + k)} {self.p(x, y + h - r)} c",
               f"{self.p(x, y + r)} l",
               f"{self.p(x, y + r - k)} {self.p(x + r - k, y)} {self.p(x + r, y)} c", "h"]
        self.ops += ops

    def arrow(self, before, tip, colour) -> None:
        a, b, c = arrowhead(before, tip)
        self.style(fill=colour)
        self.ops.append(f"{self.p(*a)} m {self.p(*b)} l {self.p(*c)} l h f")


def _shape(pen: _Pen, item) -> None:
    if isinstance(item, Rect):
        pen.style(item.stroke, item.fill, item.width if item.stroke else None)
        if item.radius:
            pen.rounded(item.x, item.y, item.w, item.h, item.radius)
        else:
            pen.ops.append(f"{pen.p(item.x, item.y + item.h)} {_n(item.w * BP)} "
                           f"{_n(item.h * BP)} re")
        pen.ops.append({(True, True): "B", (True, False): "f", (False, True): "S",
                        (False, False): "n"}[(item.fill is not None, item.stroke is not None)])
    elif isinstance(item, Line):
        pen.style(item.stroke, None, item.width, item.dashed)
        pen.ops.append(" ".join(f"{pen.p(*pt)} {'m' if i == 0 else 'l'}"
                                for i, pt in enumerate(item.points)) + " S")
        if item.arrow:
            pen.arrow(item.points[-2], item.points[-1], item.stroke)
    elif isinstance(item, Curve):
        pen.style(item.stroke, None, item.width)
        p = item.points
        pen.ops.append(f"{pen.p(*p[0])} m " + " ".join(
            f"{pen.p(*p[i])} {pen.p(*p[i + 1])} {pen.p(*p[i + 2])} c"
            for i in range(1, len(p) - 2, 3)) + " S")
        if item.arrow:
            pen.arrow(p[-2], p[-1], item.stroke)
    elif isinstance(item, Dot):
        pen.style(fill=item.fill)
        pen.rounded(item.x - item.r, item.y - item.r, 2 * item.r, 2 * item.r, item.r)
        pen.ops.append("f")
    else:
        raise TypeError(f"no PDF drawing for {type(item).__name__}")


def _text(item: Text, height: float) -> str:
    side = {"start": "l", "middle": "c", "end": "r"}[item.anchor]
    body = f"${item.label.tex}$"
    if item.colour != "ink":              # glyphs take the fill colour; black again after
        body = (f"\\pdfliteral{{{_colour(item.colour, 'rg')}}}{body}"
                "\\pdfliteral{0 g}")
    return f"\\put({_n(item.x)},{_n(height - item.y)}){{\\makebox[0pt][{side}]{{{body}}}}}"


def scene_latex(scene: Scene) -> str:
    """A LaTeX picture of the scene: shapes first (in their order), then the text; scaled
    down to the text width when wider."""
    pen = _Pen(scene.height)
    texts = []
    for item in scene.items:
        if isinstance(item, Text):
            texts.append(_text(item, scene.height))
        else:
            _shape(pen, item)
    picture = ("{\\footnotesize\\setlength{\\unitlength}{1pt}%\n"
               f"\\begin{{picture}}({_n(scene.width)},{_n(scene.height)})%\n"
               "\\put(0,0){\\pdfliteral{q 1 J 1 j " + "\n".join(pen.ops) + " Q}}%\n"
               + "%\n".join(texts) + "%\n\\end{picture}}")
    if scene.width > TEXT_WIDTH:
        return f"\\resizebox{{{_n(TEXT_WIDTH)}pt}}{{!}}{{{picture}}}"
    return picture
