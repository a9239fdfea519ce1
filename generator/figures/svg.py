"""A scene as SVG: text labels (Unicode, italic and shifted runs), no script, no external
file, no ids; the same bytes for the same scene.  Inline in HTML pages, and as files
beside Markdown keys and in quiz packages."""
from __future__ import annotations

import re
from functools import lru_cache
from html import escape, unescape

from .labels import SCRIPT
from .scene import COLOURS, FONT_SIZE, Curve, Dot, Line, Rect, Scene, Text, arrowhead

__all__ = ["FONT_FAMILY", "SVG_SCALE", "externalized", "scene_svg"]

#: CSS pixels per scene point: the figures' 9 pt text at about 0.8 of the pages' 17 px.
SVG_SCALE = 1.5
FONT_FAMILY = "'Latin Modern Roman', 'Latin Modern Math', 'DejaVu Serif', Georgia, serif"
#: Where a subscript's and a superscript's baseline sit, in em of the text (down positive).
SHIFTS = {-1: 0.28, 0: 0.0, 1: -0.42}


@lru_cache(maxsize=65536)           # coordinates repeat (rounded to 0.01) across a figure
def _n(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _colour(value) -> str:
    rgb = COLOURS[value] if isinstance(value, str) else value
    return "#%02x%02x%02x" % tuple(rgb)


def _path(points) -> str:
    return "M" + " L".join(f"{_n(x)} {_n(y)}" for x, y in points)


def _arrow(before, tip, colour) -> str:
    a, b, c = arrowhead(before, tip)
    return f'<path d="{_path((a, b, c))} Z" fill="{_colour(colour)}"/>'


def _text(item: Text) -> str:
    anchor = "" if item.anchor == "start" else f' text-anchor="{item.anchor}"'
    fill = "" if item.colour == "ink" else f' fill="{_colour(item.colour)}"'
    spans, at = [], 0.0
    for run in item.label.runs:
        attrs = []
        if run.italic:
            attrs.append('font-style="italic"')
        target = SHIFTS[run.shift] * FONT_SIZE
        if target != at:
            attrs.append(f'dy="{_n(target - at)}"')
            at = target
        if run.shift:
            attrs.append(f'font-size="{_n(FONT_SIZE * SCRIPT)}"')
        body = escape(run.text, quote=False)
        spans.append(f"<tspan {' '.join(attrs)}>{body}</tspan>" if attrs else body)
    return f'<text x="{_n(item.x)}" y="{_n(item.y)}"{anchor}{fill}>{"".join(spans)}</text>'


@lru_cache(maxsize=1024)           # a plot's curves recur: key, question sheet, variants
def _line(item: Line) -> tuple[str, ...]:
    dash = ' stroke-dasharray="2.5 1.8"' if item.dashed else ""
    out = (f'<path d="{_path(item.points)}" fill="none" stroke="{_colour(item.stroke)}" '
           f'stroke-width="{_n(item.width)}"{dash}/>',)
    if item.arrow:
        out += (_arrow(item.points[-2], item.points[-1], item.stroke),)
    return out


def _item(item) -> list[str]:
    if isinstance(item, Rect):
        attrs = [f'x="{_n(item.x)}" y="{_n(item.y)}" width="{_n(item.w)}" height="{_n(item.h)}"']
        if item.radius:
            attrs.append(f'rx="{_n(item.radius)}"')
        attrs.append(f'fill="{"none" if item.fill is None else _colour(item.fill)}"')
        if item.stroke is not None:
            attrs.append(f'stroke="{_colour(item.stroke)}" stroke-width="{_n(item.width)}"')
        return [f"<rect {' '.join(attrs)}/>"]
    if isinstance(item, Line):
        return list(_line(item))
    if isinstance(item, Curve):
        p = item.points
        d = f"M{_n(p[0][0])} {_n(p[0][1])}" + "".join(
            f" C{_n(p[i][0])} {_n(p[i][1])} {_n(p[i + 1][0])} {_n(p[i + 1][1])} "
            f"{_n(p[i + 2][0])} {_n(p[i + 2][1])}" for i in range(1, len(p) - 2, 3))
        out = [f'<path d="{d}" fill="none" stroke="{_colour(item.stroke)}" '
               f'stroke-width="{_n(item.width)}"/>']
        if item.arrow:
            out.append(_arrow(p[-2], p[-1], item.stroke))
        return out
    if isinstance(item, Dot):
        return [f'<circle cx="{_n(item.x)}" cy="{_n(item.y)}" r="{_n(item.r)}" '
                f'fill="{_colour(item.fill)}"/>']
    if isinstance(item, Text):
        return [_text(item)]
    raise TypeError(f"no SVG for {type(item).__name__}")


def scene_svg(scene: Scene, standalone: bool = False) -> str:
    """The scene as an <svg> element of an HTML page, or (`standalone`) as an SVG file: with
    the XML declaration and the SVG namespace, which HTML does without."""
    width, height = _n(scene.width * SVG_SCALE), _n(scene.height * SVG_SCALE)
    namespace = 'xmlns="http://www.w3.org/2000/svg" ' if standalone else ""
    head = (f'<svg {namespace}width="{width}" height="{height}" '
            f'viewBox="0 0 {_n(scene.width)} {_n(scene.height)}" role="img" '
            f'font-family="{FONT_FAMILY}" font-size="{_n(FONT_SIZE)}" '
            'style="max-width:100%;height:auto">')
    body = [f"<title>{escape(scene.description, quote=False)}</title>"] if scene.description else []
    for item in scene.items:
        body += _item(item)
    svg = head + "\n" + "\n".join(body) + "\n</svg>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n") if standalone else svg


_INLINE = re.compile(r'<svg width="([\d.]+)" height="([\d.]+)"(.*?)</svg>', re.S)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def externalized(html: str, url: str) -> tuple[str, dict[str, bytes]]:
    """HTML whose inline figures (as `scene_svg` writes them) become <img> elements
    referring to SVG files, for a platform that strips inline SVG (Moodle): the HTML, and
    {file name: the SVG file's bytes}.  `url` is what the files' names are joined to
    ("@@PLUGINFILE@@/")."""
    files: dict[str, bytes] = {}

    def replace(match) -> str:
        name = f"figure-{len(files) + 1}.svg"
        width, height, rest = match.groups()
        svg = ('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
               f'width="{width}" height="{height}"{rest}</svg>\n')
        files[name] = svg.encode("utf-8")
        title = _TITLE.search(rest)
        alt = escape(unescape(title.group(1)), quote=True) if title else "Figure"
        return (f'<img src="{url}{name}" alt="{alt}" width="{width}" height="{height}" '
                'style="max-width:100%;height:auto">')

    return _INLINE.sub(replace, html), files
