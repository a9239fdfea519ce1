"""A one-problem preview (`wsgen show PROBLEM --format pdf|html`): the question sheet and the
key of one drawn variant, made by the format's own render and collector, as one file.

No exam file is needed: the sheet holds the one problem.  The format runs as in a build,
into a scratch output folder that is thrown away; the question sheet and the key are then
joined, in that order: the pages of the two PDFs one after the other, or the two HTML
pages' bodies in one page (the key's head and stylesheet).
"""
from __future__ import annotations

import io
import re
import tempfile
from importlib.metadata import version
from pathlib import Path

from ..formats import SheetSummary, get_format
from .output import OutputFolder
from .run import BuildInfo, render_sheet_outputs

__all__ = ["PREVIEW_FORMATS", "preview"]

PREVIEW_FORMATS = ("pdf", "html")
_FOLDER = "sheet"


def _rendered(sheet, fmt_name: str) -> dict[str, bytes]:
    """The files one sheet's build writes in `fmt_name`: {name in the sheet's folder: bytes}."""
    with tempfile.TemporaryDirectory(prefix="wsgen-preview-") as tmp:
        with OutputFolder(Path(tmp) / "out") as folder:
            staging = folder.staging()
            info = BuildInfo(exam=sheet.exam, master_seed=None, duplex=False, jobs=1,
                             version=version("wsgen"))
            collector = get_format(fmt_name).collector(info, staging)
            try:
                output = render_sheet_outputs(sheet, (fmt_name,))
                rendered = output.rendered[fmt_name]
                for rel, data in rendered.files.items():
                    staging.write(f"{_FOLDER}/{rel}", data)
                if collector is not None:
                    collector.add(SheetSummary(0, sheet.variant_id, _FOLDER, output.record),
                                  rendered.data)
                    collector.finish()
                folder.commit(staging, None)
            except BaseException:
                close = getattr(collector, "close", None)
                if close:
                    close()
                folder.discard(staging)
                raise
            root = Path(tmp) / "out" / _FOLDER
            return {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file()}


def _joined_pdf(parts: list[bytes], title: str) -> bytes:
    import pikepdf
    joined = pikepdf.Pdf.new()
    for part in parts:
        joined.pages.extend(pikepdf.open(io.BytesIO(part)).pages)
    joined.docinfo["/Title"] = pikepdf.String(title)
    buffer = io.BytesIO()
    joined.save(buffer, deterministic_id=True)
    return buffer.getvalue()


_BODY = re.compile(r"(<body[^>]*>)(.*)(</body>)", re.S)


def _joined_html(questions: str, key: str) -> str:
    """The key's page with the question page's body first, a rule between them."""
    asked = _BODY.search(questions)
    page = _BODY.search(key)
    if asked is None or page is None:
        raise ValueError("an HTML page without a body")
    body = ('<div class="questions">' + asked.group(2) + "</div>\n<hr>\n"
            '<div class="key">' + page.group(2) + "</div>\n")
    return key[:page.start(2)] + body + key[page.end(2):]


def preview(sheet, fmt_name: str) -> bytes:
    """The question sheet and the key of a one-problem sheet as one PDF or HTML file."""
    if fmt_name not in PREVIEW_FORMATS:
        raise ValueError(f"no preview in {fmt_name!r} (choose from {', '.join(PREVIEW_FORMATS)})")
    files = _rendered(sheet, fmt_name)
    if fmt_name == "pdf":
        return _joined_pdf([files["questions.pdf"], files["key.pdf"]], sheet.exam.title)
    return _joined_html(files["questions.html"].decode("utf-8"),
                        files["key.html"].decode("utf-8")).encode("utf-8")
