"""Markdown: a question sheet and an answer key per variant (math as $…$, MathJax/KaTeX), and
each figure of either as an SVG file beside it, linked."""
from __future__ import annotations

from ..figures import figure_svg
from . import Format, Rendered
from .document import FigureNode
from .templating import render_document

__all__ = ["MarkdownFormat"]


class MarkdownFormat(Format):
    name = "md"
    description = "questions.md and key.md per variant (figures as SVG files beside them)"

    def render(self, sheet, documents) -> Rendered:
        files = {f"{kind}.md": render_document(doc, "md") for kind, doc in documents.items()}
        for doc in documents.values():
            for block in doc.blocks:
                if isinstance(block, FigureNode):
                    files[f"{block.name}.svg"] = figure_svg(block.figure, block.question,
                                                            standalone=True)
        return Rendered(files=files)
