"""PDF question sheets, keys and booklets through pdfTeX.

The LaTeX comes from the same sheets (steps, answers) as every other format,
through the Jinja skeletons in templates/tex; PyLaTeX assembles the document
(preamble, packages, the rendered sheets).  To pay few TeX start-ups, each
kind of document (questions, keys) is typeset as one booklet, split into as
many chunks as there are worker slots, each chunk one pdflatex job (two
passes, for "page x of y").  Booklets and per-variant PDFs are then cut and
joined from the chunk PDFs with pypdf.

Safety: pdflatex runs with shell escape disabled and with kpathsea's
openin_any/openout_any set to "p" (paranoid: no absolute paths, no parent
directories, no dot files), in a private temporary folder.  Determinism: no
dates or IDs in the PDF (\\pdfinfoomitdate, \\pdftrailerid, SOURCE_DATE_EPOCH),
and pypdf's output is given a fixed document ID.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pylatex import Command, Document, NoEscape, Package
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject

from .documents import Exam
from .errors import UserError
from .richtext import TEX_UNICODE, escape_tex

__all__ = ["TexError", "booklet_source", "build_pdfs", "tex_available"]

KINDS = ("questions", "key")
BOOKLET_NAMES = {"questions": "questions-booklet.pdf", "key": "keys-booklet.pdf"}
TEX_ENV = {"openin_any": "p", "openout_any": "p", "shell_escape": "f",
           "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}

_MACROS = r"""
\pdfinfoomitdate=1
\pdftrailerid{}
\pdfsuppressptexinfo=-1
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5ex plus 0.3ex}
\newcommand{\wsgenAnchor}{}
\newcommand{\wsgenVariant}{}
\newcommand{\wsgenKind}{}
\newcommand{\wsgenStartSheet}[3]{\clearpage\setcounter{page}{1}%
  \renewcommand{\wsgenAnchor}{#1}\renewcommand{\wsgenVariant}{#2}\renewcommand{\wsgenKind}{#3}}
\makeatletter
% After \clearpage every page of the sheet is shipped and the page counter is one past
% its last page: record that as the label "Page x of y" refers to.
\newcommand{\wsgenEndSheet}[1]{\clearpage
  \immediate\write\@auxout{\string\newlabel{wsgen-end-#1}{{}{\number\numexpr\value{page}-1\relax}}}}
\makeatother
\newcommand{\wsgenFit}[1]{\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{$\displaystyle #1$}}
\newcommand{\wsgenDisplay}[1]{\par\smallskip\noindent\hfill\wsgenFit{#1}\hfill\null\par\smallskip}
\newcommand{\wsgenAnswerSpace}[1]{\par\vspace{#1\baselineskip}}
\newenvironment{wsgenChoices}{\begin{enumerate}\renewcommand{\labelenumi}{\textbf{\Alph{enumi}.}}}{\end{enumerate}}
\pagestyle{fancy}
\fancyhf{}
\renewcommand{\headrulewidth}{0.4pt}
"""


class TexError(UserError):
    """pdflatex failed; the message holds the relevant log lines and the kept .tex."""


def tex_available() -> bool:
    return shutil.which("pdflatex") is not None


@dataclass(frozen=True)
class _Chunk:
    kind: str
    index: int
    sheets: tuple[tuple[str, str], ...]            # (variant id, rendered LaTeX body)


def booklet_source(exam: Exam, bodies: Sequence[str]) -> str:
    """The complete LaTeX source of one booklet (or chunk): the preamble, then the
    sheets' bodies (rendered from templates/tex, each starting a new page)."""
    # T1-encoded Latin Modern: every ASCII character of user text (~ ^ _ \\ { }) has a glyph
    # and extracts as itself.
    doc = Document(documentclass="article", document_options=["11pt", "a4paper"], fontenc="T1",
                   inputenc=None, lmodern=True, textcomp=False, page_numbers=False,
                   geometry_options={"margin": "2.2cm", "headheight": "14pt"})
    for package in ("amsmath", "amssymb", "graphicx", "textcomp", "fancyhdr"):
        doc.packages.append(Package(package))
    for char, replacement in TEX_UNICODE.items():
        doc.preamble.append(NoEscape(rf"\DeclareUnicodeCharacter{{{ord(char):04X}}}{{{replacement}}}"))
    doc.preamble.append(NoEscape(_MACROS))
    doc.preamble.append(NoEscape(r"\lhead{\small " + escape_tex(exam.title) + "}"))
    doc.preamble.append(NoEscape(r"\rhead{\small Variant \wsgenVariant"
                                 r"\ifx\wsgenKind\empty\else{} --- \wsgenKind\fi}"))
    doc.preamble.append(NoEscape(r"\cfoot{\small Page \thepage\ of \pageref{wsgen-end-\wsgenAnchor}}"))
    doc.append(Command("pagestyle", "fancy"))
    for body in bodies:
        doc.append(NoEscape(body))
    return doc.dumps() + "\n"


def _log_excerpt(log: str, limit: int = 12) -> str:
    lines = log.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^[^:\s]+\.tex:\d+:", line):
            picked.extend(lines[i:i + 3])
        if len(picked) >= limit:
            break
    return " | ".join(ln.strip() for ln in picked[:limit] if ln.strip()) or "see the log"


def _run_pdflatex(source: str, workdir: Path, name: str) -> tuple[bytes, str]:
    """Typeset `source` (two passes); returns the PDF bytes and the .aux text."""
    tex_path = workdir / f"{name}.tex"
    tex_path.write_text(source, encoding="utf-8")
    env = dict(os.environ, **TEX_ENV)
    command = ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
               "-file-line-error", f"{name}.tex"]
    # Pass 1 only collects the page labels: draft mode writes no PDF and is faster.
    for extra in (["-draftmode"], []):
        result = subprocess.run(command[:1] + extra + command[1:], cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, errors="replace")
        if result.returncode != 0:
            log_file = workdir / f"{name}.log"
            log = log_file.read_text(errors="replace") if log_file.exists() else result.stdout
            kept = Path(tempfile.mkdtemp(prefix="wsgen-tex-failed-"))
            shutil.copy(tex_path, kept / tex_path.name)
            if log_file.exists():
                shutil.copy(log_file, kept / log_file.name)
            raise TexError(f"pdflatex failed: {_log_excerpt(log)} (kept {kept / tex_path.name})")
    return (workdir / f"{name}.pdf").read_bytes(), (workdir / f"{name}.aux").read_text(errors="replace")


def _page_counts(aux: str, count: int) -> list[int]:
    """Each sheet's page count, in order, from the labels its end wrote to the .aux."""
    counts = [int(n) for n in re.findall(r"\\newlabel\{wsgen-end-[^}]*\}\{\{[^}]*\}\{(\d+)\}", aux)]
    if len(counts) != count:
        raise TexError(f"page bookkeeping is off: {len(counts)} sheet labels for {count} sheets")
    return counts


def _compile_chunk(exam: Exam, chunk: _Chunk, root: Path) -> tuple[_Chunk, bytes, list[int]]:
    workdir = root / f"{chunk.kind}-{chunk.index}"
    workdir.mkdir()
    pdf, aux = _run_pdflatex(booklet_source(exam, [body for _, body in chunk.sheets]), workdir,
                             "booklet")
    return chunk, pdf, _page_counts(aux, len(chunk.sheets))


def _write_pdf(writer: PdfWriter, identity: str) -> bytes:
    """PDF bytes with a document ID derived from the content's identity, not the clock."""
    digest = ByteStringObject(hashlib.sha256(identity.encode("utf-8")).digest()[:16])
    writer._ID = ArrayObject([digest, digest])  # noqa: SLF001 - pypdf has no public setter
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _split(sheets: Sequence, parts: int) -> list[tuple]:
    parts = max(1, min(parts, len(sheets)))
    size, extra = divmod(len(sheets), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(tuple(sheets[start:end]))
        start = end
    return out


def build_pdfs(exam: Exam, sheets: Sequence[tuple[str, dict[str, str]]], jobs: int | None = None,
               duplex: bool = False) -> dict[str, bytes]:
    """Per-variant question-sheet and key PDFs plus both booklets: {relative path: bytes}.
    `sheets` holds, per variant, its id and its LaTeX bodies by kind ("questions", "key")."""
    if not tex_available():
        raise UserError("PDF output needs pdflatex (TeX Live); run `make setup` or install "
                        "texlive-latex-base, or build without pdf in --formats")
    jobs = jobs or os.cpu_count() or 1
    # The keys are several times longer than the sheets: give them more chunks.
    by_kind = {kind: [(vid, tex[kind]) for vid, tex in sheets] for kind in KINDS}
    chunks = [_Chunk("key", i, part) for i, part in enumerate(_split(by_kind["key"], jobs))]
    chunks += [_Chunk("questions", i, part)
               for i, part in enumerate(_split(by_kind["questions"], max(1, jobs // 2)))]
    with tempfile.TemporaryDirectory(prefix="wsgen-tex-") as tmp:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda c: _compile_chunk(exam, c, Path(tmp)), chunks))
    files: dict[str, bytes] = {}
    for kind in KINDS:
        booklet = PdfWriter()
        for chunk, pdf, counts in sorted((r for r in results if r[0].kind == kind),
                                         key=lambda r: r[0].index):
            reader = PdfReader(io.BytesIO(pdf))
            if sum(counts) != len(reader.pages):
                raise TexError(f"page bookkeeping of the {kind} booklet is off: labels say "
                               f"{sum(counts)} pages, the PDF has {len(reader.pages)}")
            start = 0
            for (vid, _), count in zip(chunk.sheets, counts):
                pages = reader.pages[start:start + count]
                single = PdfWriter()
                for page in pages:
                    single.add_page(page)
                files[f"{vid}/{kind}.pdf"] = _write_pdf(single, f"{exam.exam_id}/{vid}/{kind}")
                if duplex and len(booklet.pages) % 2 == 1:
                    booklet.add_blank_page()
                for page in pages:
                    booklet.add_page(page)
                start += count
        files[BOOKLET_NAMES[kind]] = _write_pdf(booklet, f"{exam.exam_id}/{kind}-booklet")
    return files
