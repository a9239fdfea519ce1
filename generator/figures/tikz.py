"""A scene as TikZ: vector graphics set in the PDF's own pdflatex pass, every label in
the document's fonts and math (\\footnotesize: the scene's 9 pt at the 11 pt size)."""
from __future__ import annotations

from .scene import COLOURS, Curve, Dot, Line, Rect, Scene, Text, arrowhead

__all__ = ["scene_tikz"]

#: The widest figure set at its own size, in points (the text width of A4 with the
#: documents' margins is about 470 pt; letter's is a little more).
TEXT_WIDTH = 460.0


def _n(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _p(point) -> str:
    return f"({_n(point[0])},{_n(point[1])})"


def _colour(value) -> str:
    if isinstance(value, str):
        return f"wsgen{value}"
    r, g, b = value
    return f"{{rgb,255:red,{r};green,{g};blue,{b}}}"


def _roles(scene: Scene) -> list[str]:
    used = set()
    for item in scene.items:
        for name in ("fill", "stroke", "colour"):
            value = getattr(item, name, None)
            if isinstance(value, str):
                used.add(value)
    return sorted(used)


def _item(item) -> list[str]:
    if isinstance(item, Rect):
        corners = f"{_p((item.x, item.y))} rectangle {_p((item.x + item.w, item.y + item.h))}"
        options = [f"rounded corners={_n(item.radius)}pt"] if item.radius else []
        if item.fill is not None:
            options.append(f"fill={_colour(item.fill)}")
        if item.stroke is not None:
            options += [f"draw={_colour(item.stroke)}", f"line width={_n(item.width)}pt"]
        return [f"\\path[{','.join(options)}] {corners};"]
    if isinstance(item, Line):
        options = [f"draw={_colour(item.stroke)}", f"line width={_n(item.width)}pt"]
        if item.dashed:
            options.append("dash pattern=on 2.5pt off 1.8pt")
        out = [f"\\path[{','.join(options)}] " + " -- ".join(_p(p) for p in item.points) + ";"]
        if item.arrow:
            out.append(_arrow(item.points[-2], item.points[-1], item.stroke))
        return out
    if isinstance(item, Curve):
        p = item.points
        path = _p(p[0]) + "".join(f" .. controls {_p(p[i])} and {_p(p[i + 1])} .. {_p(p[i + 2])}"
                                  for i in range(1, len(p) - 2, 3))
        out = [f"\\path[draw={_colour(item.stroke)},line width={_n(item.width)}pt] {path};"]
        if item.arrow:
            out.append(_arrow(p[-2], p[-1], item.stroke))
        return out
    if isinstance(item, Dot):
        return [f"\\path[fill={_colour(item.fill)}] {_p((item.x, item.y))} circle[radius={_n(item.r)}pt];"]
    if isinstance(item, Text):
        anchor = {"start": "base west", "middle": "base", "end": "base east"}[item.anchor]
        return [f"\\node[anchor={anchor},inner sep=0pt,text={_colour(item.colour)}] at "
                f"{_p((item.x, item.y))} {{${item.label.tex}$}};"]
    raise TypeError(f"no TikZ for {type(item).__name__}")


def _arrow(before, tip, colour) -> str:
    a, b, c = arrowhead(before, tip)
    return f"\\path[fill={_colour(colour)}] {_p(a)} -- {_p(b)} -- {_p(c)} -- cycle;"


def scene_tikz(scene: Scene) -> str:
    """A tikzpicture of the scene, scaled down to the text width when wider."""
    lines = [f"\\definecolor{{wsgen{role}}}{{RGB}}{{{','.join(map(str, COLOURS[role]))}}}"
             for role in _roles(scene)]
    for item in scene.items:
        lines += _item(item)
    picture = ("\\begin{tikzpicture}[x=1pt,y=-1pt,font=\\footnotesize]\n"
               f"\\useasboundingbox (0,0) rectangle ({_n(scene.width)},{_n(scene.height)});\n"
               + "\n".join(lines) + "\n\\end{tikzpicture}")
    if scene.width > TEXT_WIDTH:
        return f"\\resizebox{{{_n(TEXT_WIDTH)}pt}}{{!}}{{{picture}}}"
    return picture
