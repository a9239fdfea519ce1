"""Markdown: a question sheet and an answer key per variant (math as $…$, MathJax/KaTeX)."""
from __future__ import annotations

from . import Format, Rendered
from .templating import render_document

__all__ = ["MarkdownFormat"]


class MarkdownFormat(Format):
    name = "md"
    description = "questions.md and key.md per variant"

    def render(self, sheet, documents) -> Rendered:
        return Rendered(files={f"{kind}.md": render_document(doc, "md")
                               for kind, doc in documents.items()})
