"""Figures drawn: a figure record (core.figures) laid out once as a scene, then written as
PDF operators and TeX text in a LaTeX picture (PDF) or as SVG (HTML, Markdown, quizzes).

`figure_scene(figure, question)` is the one entry point of layout: the figure as the key
shows it, or (question=True) as a question sheet shows it.  Scenes are cached per
process, so the question sheet, the key and every format of a sheet share one layout.
"""
from __future__ import annotations

from functools import lru_cache

from ..core.figures import Figure, Graph, Grid, Plot
from .scene import Scene

__all__ = ["figure_latex", "figure_scene", "figure_svg", "figure_text"]


@lru_cache(maxsize=256)
def figure_scene(figure: Figure, question: bool = False) -> Scene | None:
    """The laid-out figure (None: a question sheet shows nothing of it)."""
    shown = figure.question_view() if question else figure
    if shown is None:
        return None
    if isinstance(figure, Graph):
        from .graph import graph_scene
        return graph_scene(figure, shown)
    if isinstance(figure, Plot):
        from .plot import plot_scene
        return plot_scene(shown)
    if isinstance(figure, Grid):
        from .grid import grid_scene
        return grid_scene(shown)
    raise TypeError(f"not a figure: {type(figure).__name__}")


def figure_latex(figure: Figure, question: bool = False) -> str:
    from .pdftex import scene_latex
    scene = figure_scene(figure, question)
    return "" if scene is None else scene_latex(scene)


def figure_svg(figure: Figure, question: bool = False, standalone: bool = False) -> str:
    from .svg import scene_svg
    scene = figure_scene(figure, question)
    return "" if scene is None else scene_svg(scene, standalone)


def figure_text(figure: Figure, question: bool = False) -> str:
    """Every piece of text the figure shows, one per line, as TeX (what the leak check
    searches, with the question sheet's text)."""
    scene = figure_scene(figure, question)
    return "" if scene is None else "\n".join(label.tex for label in scene.texts())
