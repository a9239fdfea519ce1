"""PDF question sheets, keys and booklets through pdfTeX (LuaTeX where a script needs it).

The LaTeX comes from the same sheets (steps, answers) as every other format,
through the Jinja skeletons in templates/tex; PyLaTeX assembles the document
(preamble, packages, the rendered sheets).  To pay few TeX start-ups, each
kind of document (questions, keys) is typeset as one booklet, split into as
fixed-size chunks, each chunk one pdflatex job of a single pass: the totals of
"page x of y" are stamped on afterwards (\\wsgenStamps).  Booklets and per-variant PDFs are then cut and
joined from the chunk PDFs with pikepdf (qpdf).

A chunk with a sheet whose user text holds a script pdfTeX's fonts lack (a Vietnamese,
Chinese or Arabic name: formats/markup.py marks such text) is typeset by lualatex
instead, with the same layout macros and OpenType fonts (formats/texfonts.py); every
other chunk keeps pdflatex's speed.

Safety: pdflatex (and lualatex) runs with shell escape disabled and with kpathsea's
openin_any/openout_any set to "p" (paranoid: no absolute paths, no parent
directories, no dot files), in a scratch folder inside the build's staging
folder, removed with it on every exit path; a failed chunk's .tex and .log are
copied to one folder that the error names.  Determinism: no
dates or IDs in the PDF (\\pdfinfoomitdate, \\pdftrailerid, SOURCE_DATE_EPOCH),
and qpdf writes a document ID derived from the content.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pylatex import Command, Document, NoEscape, Package
import pikepdf

from ..errors import BuildError, UserError
from ..exam.spec import Exam
from . import Format, Rendered
from .document import KINDS, shortened
from . import texfonts
from .markup import TEX_UNICODE, UNICODE_MARK, fit_candidates, unicode_only
from .templating import render_document

__all__ = ["ENGINES", "PdfFormat", "TexError", "booklet_source", "cut_sheets",
           "destination_pages", "engine_of", "tex_available", "typeset_sheets"]

BOOKLET_NAMES = {"questions": "questions-booklet.pdf", "key": "keys-booklet.pdf"}
TITLES = {"questions": "question sheet", "key": "answer key"}
#: Seconds one TeX job may run (a chunk takes a few): past this it is stopped, an error.
TEX_TIMEOUT = 600
TEX_ENV = {"openin_any": "p", "openout_any": "p", "shell_escape": "f",
           "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}

# What differs between the engines: the PDF's own metadata (no dates, no IDs), and how a
# word drawn from other glyphs keeps its text (an ActualText span under pdfTeX; under
# LuaLaTeX the word itself, decoded from the span's UTF-16 and set in the OpenType fonts).
_ENGINE_MACROS = {"pdftex": r"""
\pdfinfoomitdate=1
\pdftrailerid{}
\pdfsuppressptexinfo=-1
\DeclareRobustCommand{\wsgenActualText}[2]{\leavevmode
  \pdfliteral direct{/Span<</ActualText<#1>>>BDC}#2\pdfliteral direct{EMC}}
\newcommand{\wsgenDest}[1]{\pdfdest name{#1} xyz\relax}
\newcommand{\wsgenLink}[2]{\leavevmode\pdfstartlink attr{/Border[0 0 0]} user{/Subtype/Link/A#1}#2\pdfendlink}
""", "luatex": r"""
\pdfvariable suppressoptionalinfo 1023
\pdfvariable trailerid {}
\providecommand{\pdfnoligatures}[1]{}
\protected\def\pdfliteral{\pdfextension literal}
\newcommand{\wsgenDest}[1]{\pdfextension dest name{#1} xyz\relax}
\newcommand{\wsgenLink}[2]{\leavevmode\pdfextension startlink attr{/Border[0 0 0]} user{/Subtype/Link/A#1}%
  #2\pdfextension endlink\relax}
\directlua{
wsgen = {}
function wsgen.actualtext(hex)
  local out, i = {}, 5
  while i < hex:len() do
    local u = tonumber(hex:sub(i, i + 3), 16)
    i = i + 4
    if u >= 55296 and u < 56320 then
      u = 65536 + (u - 55296) * 1024 + (tonumber(hex:sub(i, i + 3), 16) - 56320)
      i = i + 4
    end
    table.insert(out, utf8.char(u))
  end
  tex.sprint(-2, table.concat(out))
end
}
\DeclareRobustCommand{\wsgenActualText}[2]{\leavevmode\directlua{wsgen.actualtext("#1")}}
% Text pdfTeX cannot set (formats/markup.py): right-to-left runs reversed, numbers in them
% left to right, a line break allowed between ideographs.
\DeclareRobustCommand{\wsgenUnicode}[1]{\leavevmode#1}
\DeclareRobustCommand{\wsgenRTL}[1]{{\textdir TRT #1}}
\DeclareRobustCommand{\wsgenLTR}[1]{{\textdir TLT #1}}
\newcommand{\wsgenCJKBreak}{\hskip0pt plus .1em\relax}
"""}

_MACROS = r"""
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5ex plus 0.3ex}
% A paragraph with long inline formulas gets looser lines rather than one that overflows.
\setlength{\emergencystretch}{.5\linewidth}
\newcommand{\wsgenVariant}{}
\newcommand{\wsgenRunning}{}
\newcommand{\wsgenStartSheet}[3]{\clearpage\setcounter{page}{1}%
  \renewcommand{\wsgenVariant}{#2}\renewcommand{\wsgenRunning}{#3}%
  \def\wsgenSheet{#1}\global\wsgenSlotN=0 }
% Each exam slot's heading is a named destination SHEET-q1, SHEET-q2, … (formats/pdf.py
% names it q1, q2, … in the sheet's own PDF: key.pdf#q3, and feedback's page references).
\def\wsgenSheet{}
\newcount\wsgenSlotN
\newcommand{\wsgenSlotMark}{\global\advance\wsgenSlotN by 1
  \wsgenDest{\wsgenSheet-q\the\wsgenSlotN}}
% One pass: after \clearpage every page of the sheet is shipped and the page counter is one
% past its last page; that count goes to the .aux at once, and the job ends with one
% "stamp" page per count 1..max, whose footer holds only that number, where the total of
% "Page x of y" goes.  formats/pdf.py lays each sheet page over the stamp of its count.
\newcount\wsgenMaxPages
\newcount\wsgenStampN
\newcommand{\wsgenpages}[2]{}
\makeatletter
\newcommand{\wsgenEndSheet}[1]{\clearpage
  \immediate\write\@auxout{\string\wsgenpages{#1}{\number\numexpr\value{page}-1\relax}}%
  \ifnum\numexpr\value{page}-1\relax>\wsgenMaxPages
    \global\wsgenMaxPages=\numexpr\value{page}-1\relax\fi}
\makeatother
\def\wsgenTotal{}
\newcommand{\wsgenStamps}{\wsgenStampN=0
  \loop\ifnum\wsgenStampN<\wsgenMaxPages
    \advance\wsgenStampN by 1
    \edef\wsgenTotal{\the\wsgenStampN}\thispagestyle{wsgenstamp}\null\clearpage
  \repeat}
% Displayed formulas (formats/texbreak.py): centred when they fit the line; otherwise set as
% a paragraph of display-style math broken before a relation (preferred) or an operator,
% continuation lines aligned after the left-hand side.  Never scaled.
\newsavebox{\wsgenLhsBox}
\newlength{\wsgenHang}
\newcommand{\wsgenRelBreak}[1]{\penalty\numexpr 100*#1\relax}
\newcommand{\wsgenBinBreak}[1]{\penalty\numexpr 300+200*#1\relax}
\newcommand{\wsgenSepBreak}{\penalty-200 }
\newcommand{\wsgenMath}[1]{$\displaystyle\binoppenalty=10000 \relpenalty=10000
  \nulldelimiterspace=0pt #1$}
\newcommand{\wsgenDisplay}[2]{\par\smallskip
  \sbox{\wsgenBox}{\wsgenMath{#1#2}}%
  \ifdim\wd\wsgenBox>\linewidth
    \sbox{\wsgenLhsBox}{\wsgenMath{#1\mathrel{}}}%
    \setlength{\wsgenHang}{\wd\wsgenLhsBox}%
    \ifdim\wsgenHang<1em \setlength{\wsgenHang}{2em}\fi
    \ifdim\wsgenHang>.4\linewidth \setlength{\wsgenHang}{2em}\fi
    {\rightskip=0pt plus 1fil \parfillskip=0pt plus 1fil \lineskip=4pt
     \hangindent=\wsgenHang \hangafter=1 \noindent\wsgenMath{#1#2}\par}%
  \else
    \noindent\hfill\usebox{\wsgenBox}\hfill\null\par
  \fi\smallskip}
\newcommand{\wsgenOption}[1]{{\rightskip=0pt plus 1fil \hangindent=2em \hangafter=1
  \lineskip=4pt \wsgenMath{#1}\par}}
% Matrix entries in display style (closed forms in vectors read as in a display), with some
% room above and below an entry taller than a line, so that fractions never touch.
\newsavebox{\wsgenCellBox}
\makeatletter
\def\env@matrix{\hskip -\arraycolsep \let\@ifnextchar\new@ifnextchar
  \array{*\c@MaxMatrixCols{>{\wsgenCellStart}c<{\wsgenCellEnd}}}}
\makeatother
\def\wsgenCellStart{\setbox\wsgenCellBox=\hbox\bgroup$\displaystyle}
\def\wsgenCellEnd{$\egroup
  \ifdim\dimexpr\ht\wsgenCellBox+\dp\wsgenCellBox\relax>1.1\baselineskip
    \vrule width0pt height\dimexpr\ht\wsgenCellBox+3pt\relax depth\dimexpr\dp\wsgenCellBox+3pt\relax
  \fi\box\wsgenCellBox}
% A question and its room to answer stay together.  On a question sheet each question is
% first set in a box (\wsgenBeginQuestion ... \wsgenEndQuestion{space}); when it and its
% room do not fit on what is left of the page, it starts the next one, unless the
% question alone is taller than a page (then it flows on as any text does).  The room is
% "none", "third", "half" (of the text height), a number of lines, or "full": a whole
% blank page after the question's page.  It is a stack of empty lines, so that room too
% tall for a fresh page continues on the next.
\newbox\wsgenQuestionBox
\newdimen\wsgenRoom
\newcommand{\wsgenBeginQuestion}{\par\setbox\wsgenQuestionBox\vbox\bgroup}
\newcommand{\wsgenRoomLines}{\par\dimen0=\wsgenRoom
  \loop\ifdim\dimen0>.5\baselineskip
    \penalty0 \nointerlineskip\hbox{\vrule width0pt height\baselineskip}%
    \advance\dimen0 by -\baselineskip
  \repeat}
\newcommand{\wsgenEndQuestion}[1]{\par\egroup
  \wsgenRoom=0pt \let\wsgenFullPage\relax
  \ifcsname wsgenspace-#1\endcsname \csname wsgenspace-#1\endcsname
  \else\wsgenRoom=#1\baselineskip\fi
  \dimen2=\dimexpr\ht\wsgenQuestionBox+\dp\wsgenQuestionBox\relax
  \par\penalty-100
  \ifdim\dimen2>\textheight\else
    \ifdim\dimexpr\dimen2+\wsgenRoom\relax>\dimexpr\pagegoal-\pagetotal\relax \newpage\fi
  \fi
  \unvbox\wsgenQuestionBox
  \ifx\wsgenFullPage\relax \wsgenRoomLines\else \newpage\null\newpage\fi}
\expandafter\def\csname wsgenspace-none\endcsname{}
\expandafter\def\csname wsgenspace-third\endcsname{\wsgenRoom=.3\textheight}
\expandafter\def\csname wsgenspace-half\endcsname{\wsgenRoom=.47\textheight}
\expandafter\def\csname wsgenspace-full\endcsname{\def\wsgenFullPage{}}
% A problem's heading with its points at the right of its first line.
\newcommand{\wsgenTitled}[2]{\sbox{\wsgenBox}{\normalfont\normalsize\hspace{1em}(#2)}%
  \parbox[t]{\dimexpr\linewidth-\wd\wsgenBox\relax}{\raggedright #1}\usebox{\wsgenBox}}
% \wsgenFit{width}{\wsgenTry{text}\wsgenTry{shorter…}...}: the first text at most `width`
% wide (the last if none is), on one line: a running head or a table cell never runs into
% its neighbour.
\newsavebox{\wsgenFitBox}
\newcommand{\wsgenFit}[2]{{\dimen0=\dimexpr#1\relax \let\wsgenFitDone\relax
  \def\wsgenTry##1{\ifx\wsgenFitDone\relax
    \sbox{\wsgenFitBox}{##1}\ifdim\wd\wsgenFitBox>\dimen0 \else\def\wsgenFitDone{}\fi\fi}%
  #2\usebox{\wsgenFitBox}}}
\newsavebox{\wsgenHeadBox}
% The cover page of a question sheet (exam option `cover`).
\newenvironment{wsgenCover}{\par\bigskip}{\clearpage}
\newcommand{\wsgenCoverField}[2]{\par\medskip\noindent\makebox[2.6cm][l]{\textbf{#1:}}%
  \if\relax\detokenize{#2}\relax\rule[-3pt]{9cm}{0.4pt}\else #2\fi\par}
\newcommand{\wsgenCoverInstructions}[1]{\par\bigskip\noindent\textbf{Instructions.} #1\par}
% The marking table continues on the next page when it is long (fixed column widths: the
% same on every page in a single pass).
\newcommand{\wsgenMarking}[2]{\par\bigskip{\renewcommand{\arraystretch}{1.6}%
  \begin{longtable}{|p{.45\linewidth}|>{\raggedleft\arraybackslash}p{1.5cm}|p{3cm}|}\hline
  \textbf{Question} & \textbf{Points} & \textbf{Score}\\\hline\hline\endhead
  #2\hline
  \textbf{Total} & \textbf{#1} & \\\hline
  \end{longtable}}}
\newcommand{\wsgenPledge}[1]{\par\bigskip\noindent #1\par\bigskip\bigskip\noindent
  \textbf{Signature:}\ \rule[-3pt]{8cm}{0.4pt}\par}
% The options of a multiple-choice answer: \wsgenChoices{\wsgenChoice{A}{tex}...}.  Short
% options are set in a grid, four or two to a row (as many as fit), read row by row;
% others one under the other, a long one broken as a display is.
\newenvironment{wsgenChoiceList}{\begin{enumerate}\renewcommand{\labelenumi}{\textbf{\Alph{enumi}.}}}{\end{enumerate}}
\newdimen\wsgenOptionWidth
\newcount\wsgenColumns
\newcount\wsgenCell
\newcommand{\wsgenChoices}[1]{\par\wsgenOptionWidth=0pt
  \def\wsgenChoice##1##2{\sbox{\wsgenBox}{\wsgenMath{##2}}%
    \ifdim\wd\wsgenBox>\wsgenOptionWidth \wsgenOptionWidth=\wd\wsgenBox\fi}%
  #1\wsgenColumns=1
  \ifdim\dimexpr\wsgenOptionWidth+2.5em\relax<\dimexpr(\linewidth-\leftmargini)/2\relax \wsgenColumns=2 \fi
  \ifdim\dimexpr\wsgenOptionWidth+2.5em\relax<\dimexpr(\linewidth-\leftmargini)/4\relax \wsgenColumns=4 \fi
  \ifnum\wsgenColumns=1
    \begin{wsgenChoiceList}\def\wsgenChoice##1##2{\item\wsgenOption{##2}}#1\end{wsgenChoiceList}%
  \else
    {\lineskip=6pt \wsgenCell=0
     \def\wsgenChoice##1##2{\ifnum\wsgenCell=0 \par\noindent\hspace*{\leftmargini}\fi
       \makebox[\dimexpr(\linewidth-\leftmargini)/\wsgenColumns\relax][l]{%
         \makebox[2em][l]{\textbf{##1.}}\wsgenMath{##2}}%
       \advance\wsgenCell 1 \ifnum\wsgenCell=\wsgenColumns \wsgenCell=0 \fi}%
     \smallskip#1\par\smallskip}%
  \fi}
\pagestyle{fancy}
\fancyhf{}
\renewcommand{\headrulewidth}{0.4pt}
% User text beyond T1 (formats/markup.py, escape_tex): Greek in URW's Symbol font, Cyrillic
% in the AMS Washington fonts (OT2 layout), both in every TeX Live, neither hyphenated nor
% ligatured; Latin letters T1 lacks drawn with a stroke.  Each run sits in an ActualText span,
% so that the PDF's text is the characters themselves.
\DeclareFontFamily{U}{wsgenpsy}{\hyphenchar\font=-1 }
\DeclareFontShape{U}{wsgenpsy}{m}{n}{<->s*[0.95]psyr}{}
\DeclareFontShape{U}{wsgenpsy}{bx}{n}{<->ssub*wsgenpsy/m/n}{}
\DeclareFontShape{U}{wsgenpsy}{b}{n}{<->ssub*wsgenpsy/m/n}{}
\DeclareFontFamily{U}{wsgencyr}{\hyphenchar\font=-1 \pdfnoligatures\font}
\DeclareFontShape{U}{wsgencyr}{m}{n}{<->wncyr10}{}
\DeclareFontShape{U}{wsgencyr}{m}{it}{<->wncyi10}{}
\DeclareFontShape{U}{wsgencyr}{m}{sl}{<->ssub*wsgencyr/m/it}{}
\DeclareFontShape{U}{wsgencyr}{m}{sc}{<->wncysc10}{}
\DeclareFontShape{U}{wsgencyr}{bx}{n}{<->wncyb10}{}
\DeclareFontShape{U}{wsgencyr}{b}{n}{<->ssub*wsgencyr/bx/n}{}
\DeclareFontShape{U}{wsgencyr}{bx}{it}{<->ssub*wsgencyr/bx/n}{}
\DeclareFontShape{U}{wsgencyr}{b}{it}{<->ssub*wsgencyr/bx/n}{}
\newsavebox{\wsgenBox}
\DeclareRobustCommand{\wsgenGreek}[1]{{\fontencoding{U}\fontfamily{wsgenpsy}\selectfont#1}}
\DeclareRobustCommand{\wsgenCyrillic}[1]{{\fontencoding{U}\fontfamily{wsgencyr}\selectfont#1}}
\DeclareRobustCommand{\wsgenOver}[2]{\sbox{\wsgenBox}{#1}%
  \rlap{\hbox to\wd\wsgenBox{\hss#2\hss}}\usebox{\wsgenBox}}
\DeclareRobustCommand{\wsgenRaise}[1]{\raisebox{.5ex}{#1}\kern-.12em}
\DeclareRobustCommand{\wsgenStroke}[4]{\sbox{\wsgenBox}{#1}%
  \rlap{\kern#3\wd\wsgenBox\raisebox{#2}{\rule{#4\wd\wsgenBox}{.06em}}}\usebox{\wsgenBox}}
"""


class TexError(BuildError):
    """pdflatex failed on a sheet; the message names the variant and exam slot where the
    log says it failed, the relevant log lines and the kept .tex.  Exit 3."""


#: The TeX engines and their programs: pdfTeX for documents whose text its fonts hold,
#: LuaTeX (OpenType fonts, formats/texfonts.py) for the others.
ENGINES = {"pdftex": "pdflatex", "luatex": "lualatex"}
# Characters a LuaLaTeX document sets from its OpenType text font rather than as the
# pdfTeX documents do (their replacements there are T1 ligatures: -- --- ` ' `` '').
_LIGATURE_CHARACTERS = frozenset("\u2013\u2014\u2018\u2019\u201c\u201d")


def tex_available(engine: str = "pdftex") -> bool:
    return shutil.which(ENGINES[engine]) is not None


def engine_of(bodies: Sequence[str]) -> str:
    """The engine a booklet chunk needs: LuaTeX when a sheet holds text pdfTeX cannot set
    (formats/markup.py marks it), else pdfTeX (the faster)."""
    return "luatex" if any(UNICODE_MARK in body for body in bodies) else "pdftex"


@dataclass(frozen=True)
class _Chunk:
    kind: str
    index: int
    sheets: tuple[tuple[str, str], ...]            # (variant id, rendered LaTeX body)


def booklet_source(exam: Exam, bodies: Sequence[str], engine: str | None = None) -> str:
    """The complete LaTeX source of one booklet (or chunk) for `engine` (by default the one
    its bodies need): the preamble, then the sheets' bodies (rendered from templates/tex,
    each starting a new page)."""
    engine = engine or engine_of(bodies)
    # pdfTeX: T1-encoded Latin Modern, every ASCII character of user text (~ ^ _ \\ { }) has
    # a glyph and extracts as itself.  LuaTeX: the same design in OpenType (formats/texfonts.py).
    doc = Document(documentclass="article", document_options=["11pt", f"{exam.paper}paper"],
                   fontenc="T1" if engine == "pdftex" else None,
                   inputenc=None, lmodern=True, textcomp=False, page_numbers=False,
                   geometry_options={"margin": "2.2cm", "headheight": "14pt"})
    for package in ("amsmath", "amssymb", "array", "longtable", "graphicx", "textcomp", "fancyhdr"):
        doc.packages.append(Package(package))
    if engine == "pdftex":
        for char, replacement in TEX_UNICODE.items():
            doc.preamble.append(NoEscape(rf"\DeclareUnicodeCharacter{{{ord(char):04X}}}{{{replacement}}}"))
    else:
        doc.preamble.append(NoEscape(texfonts.preamble() + r"\usepackage{newunicodechar}"))
        for char, replacement in TEX_UNICODE.items():
            if char not in _LIGATURE_CHARACTERS:
                doc.preamble.append(NoEscape(rf"\newunicodechar{{{char}}}{{{replacement}}}"))
    doc.preamble.append(NoEscape(_ENGINE_MACROS[engine] + _MACROS))
    # the title takes what the running head leaves of the line, shortened with "…"
    doc.preamble.append(NoEscape(r"\lhead{\small\sbox{\wsgenHeadBox}{\wsgenRunning}"
                                 r"\wsgenFit{\headwidth-\wd\wsgenHeadBox-2em}{"
                                 + fit_candidates(shortened(exam.title, 60)) + "}}"))
    doc.preamble.append(NoEscape(r"\rhead{\small \wsgenRunning}"))
    # "Page x of " ends where the stamped total begins (see \wsgenStamps)
    doc.preamble.append(NoEscape(r"\cfoot{\small\hspace*{1.8em}\makebox[0pt][r]{Page \thepage\ of\ }}"))
    doc.preamble.append(NoEscape(r"\fancypagestyle{wsgenstamp}{\fancyhf{}"
                                 r"\renewcommand{\headrulewidth}{0pt}"
                                 r"\cfoot{\small\hspace*{1.8em}\makebox[0pt][l]{\wsgenTotal}}}"))
    doc.append(Command("pagestyle", "fancy"))
    for body in bodies:
        doc.append(NoEscape(body))
    doc.append(NoEscape(r"\wsgenStamps"))
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


def _run_pdflatex(source: str, workdir: Path, name: str,
                  engine: str = "pdftex") -> tuple[bytes, str]:
    """Typeset `source` (one pass) with `engine`; returns the PDF bytes and the .aux text."""
    tex_path = workdir / f"{name}.tex"
    tex_path.write_text(source, encoding="utf-8")
    env = dict(os.environ, **TEX_ENV)
    command = [ENGINES[engine], "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
               "-file-line-error", f"{name}.tex"]
    try:
        result = subprocess.run(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, errors="replace",
                                timeout=TEX_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise _TexFailed(f"still running after {TEX_TIMEOUT} s (a loop in the LaTeX?)", tex_path,
                         workdir / f"{name}.log", engine) from None
    if result.returncode != 0:
        log_file = workdir / f"{name}.log"
        log = log_file.read_text(errors="replace") if log_file.exists() else result.stdout
        raise _TexFailed(_log_excerpt(log), tex_path, log_file, engine)
    return (workdir / f"{name}.pdf").read_bytes(), (workdir / f"{name}.aux").read_text(errors="replace")


class _TexFailed(Exception):
    """A chunk that pdflatex refused; its files stay in the scratch folder until the
    collector keeps the first failure's (and only that one) outside the build."""

    def __init__(self, excerpt: str, tex_path: Path, log_path: Path, engine: str = "pdftex"):
        super().__init__(excerpt)
        self.excerpt, self.tex_path, self.log_path = excerpt, tex_path, log_path
        self.engine = engine

    def kept(self) -> TexError:
        kept = Path(tempfile.mkdtemp(prefix="wsgen-tex-failed-"))
        os.chmod(kept, 0o700)
        shutil.copy(self.tex_path, kept / self.tex_path.name)
        if self.log_path.exists():
            shutil.copy(self.log_path, kept / self.log_path.name)
        return TexError(f"{ENGINES[self.engine]} failed{self.where()}: {self.excerpt} "
                        f"(kept {kept / self.tex_path.name})")

    def where(self) -> str:
        """The text " in variant V, slot L", from the sheet and the problem heading above
        the failing line of the kept source."""
        match = re.search(r"\.tex:(\d+):", self.excerpt)
        if not match:
            return ""
        lines = self.tex_path.read_text(encoding="utf-8", errors="replace").splitlines()
        variant = slot = None
        for line in reversed(lines[:int(match.group(1))]):
            heading = re.match(r"\\section\*\{(?:\\wsgenSlotMark\{\})?(?:\\wsgenTitled\{)?(.*)", line)
            if slot is None and heading:
                slot = heading.group(1).split(". ", 1)[0]
            start = re.match(r"\\wsgenStartSheet\{[^}]*\}\{([^}]*)\}", line)
            if start:
                variant = start.group(1)
                break
        if variant is None:
            return ""
        return f" in variant {variant}" + (f", slot {slot}" if slot else "")


def _page_counts(aux: str, count: int) -> list[int]:
    """Each sheet's page count, in order, from what its end wrote to the .aux."""
    counts = [int(n) for n in re.findall(r"\\wsgenpages\{[^}]*\}\{(\d+)\}", aux)]
    if len(counts) != count:
        raise TexError(f"page bookkeeping is off: {len(counts)} sheet labels for {count} sheets")
    return counts


#: Sheets per pdflatex job.  Fixed, so that the chunks (and with them the fonts embedded
#: in every PDF) never depend on the number of workers.
CHUNK_SHEETS = {"key": 12, "questions": 24}


def _write_pdf(pdf: pikepdf.Pdf, title: str) -> bytes:
    """PDF bytes titled `title` (what a viewer shows), with a document ID derived from the
    content (qpdf's deterministic ID), not from the clock."""
    pdf.docinfo["/Title"] = pikepdf.String(title)
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)
    return buffer.getvalue()


def _stamp(page: pikepdf.Page, stamp: pikepdf.Page) -> None:
    """Lay `stamp` (a page of the same pdfTeX job holding only a footer's total) over
    `page`: its content stream is appended to the page's, and its fonts (the same objects,
    under the same names, in one job) added to the page's resources.  No content is parsed:
    pdfTeX leaves every page's graphics state balanced, and text positions are absolute."""
    contents = pikepdf.Array()
    for part in (page.obj.Contents, stamp.obj.Contents):
        if isinstance(part, pikepdf.Array):
            contents.extend(part)
        else:
            contents.append(part)
    page.obj.Contents = contents
    resources = page.obj.Resources
    if "/Font" not in resources:
        resources.Font = pikepdf.Dictionary()
    for name, font in stamp.obj.Resources.get("/Font", pikepdf.Dictionary()).items():
        if name not in resources.Font:
            resources.Font[name] = font


# A character in a ToUnicode map: <hex UTF-16BE>.
_CMAP_TARGET = re.compile(rb"(<[0-9A-Fa-f]{4}>\s*)<([0-9A-Fa-f]{4,})>")


def _text_as_written(pdf: pikepdf.Pdf) -> None:
    """Make the text of shaped glyphs extract as written: LuaTeX's HarfBuzz mode maps a
    contextual form (an Arabic letter's initial, medial or final glyph) to its
    presentation-form code when the glyph was first set in a box of the output routine
    (a running head); such a code becomes its compatibility decomposition (U+FEE3 ARABIC
    LETTER MEEM INITIAL FORM: U+0645 MEEM), every other mapping is left as it is."""
    seen = set()
    for page in pdf.pages:
        for font in page.obj.Resources.get("/Font", pikepdf.Dictionary()).values():
            stream = font.get("/ToUnicode")
            if stream is None or stream.objgen in seen:
                continue
            seen.add(stream.objgen)
            data = stream.read_bytes()

            def written(match):
                text = bytes.fromhex(match.group(2).decode()).decode("utf-16-be", "replace")
                if not any(0xFB50 <= ord(ch) <= 0xFDFF or 0xFE70 <= ord(ch) <= 0xFEFF
                           or 0xFB1D <= ord(ch) <= 0xFB4F for ch in text):
                    return match.group(0)
                plain = unicodedata.normalize("NFKC", text).encode("utf-16-be").hex().upper()
                return match.group(1) + b"<" + plain.encode() + b">"

            fixed = _CMAP_TARGET.sub(written, data)
            if fixed != data:
                stream.write(fixed)


def cut_sheets(source: pikepdf.Pdf, bodies: Sequence[str], counts: Sequence[int],
               what: str = "booklet") -> list[list[pikepdf.Page]]:
    """The pages of each sheet of a typeset chunk (`source`, typeset from `bodies` with
    `counts` pages each, as the .aux says), each page with its "of y" stamp laid over it."""
    if any(UNICODE_MARK in body for body in bodies):
        _text_as_written(source)
    pages = list(source.pages)
    if sum(counts) + max(counts) != len(pages):
        raise TexError(f"page bookkeeping of the {what} is off: the .aux says "
                       f"{sum(counts)} pages and {max(counts)} stamps, the PDF has "
                       f"{len(pages)}")
    stamps, cut, start = pages[sum(counts):], [], 0
    for count in counts:
        own = pages[start:start + count]
        for page in own:
            _stamp(page, stamps[count - 1])
        cut.append(own)
        start += count
    return cut


def _destinations(source: pikepdf.Pdf) -> dict[tuple[int, int], list[tuple[str, list]]]:
    """The named destinations of a typeset chunk (\\wsgenSlotMark's SHEET-qN), by the page
    they point to: (the name after its last "-", the rest of the destination)."""
    names = source.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    found: dict[tuple[int, int], list[tuple[str, list]]] = {}
    for name, dest in pikepdf.NameTree(names.Dests).items():
        if isinstance(dest, pikepdf.Dictionary):
            dest = dest.D
        if isinstance(dest, pikepdf.Array) and len(dest):
            found.setdefault(dest[0].objgen, []).append((str(name).rsplit("-", 1)[-1],
                                                         list(dest)[1:]))
    return found


def _name_destinations(single: pikepdf.Pdf, own: Sequence[pikepdf.Page], dests) -> None:
    """Give `single` (a sheet's own PDF, its pages copied from `own`) the destinations that
    point into those pages, under their short names (q1, q2, …)."""
    entries = [(name, i, rest) for i, page in enumerate(own)
               for name, rest in dests.get(page.obj.objgen, [])]
    if not entries:
        return
    tree = pikepdf.NameTree.new(single)
    for name, i, rest in sorted(entries):
        tree[name] = pikepdf.Array([single.pages[i].obj, *rest])
    single.Root.Names = pikepdf.Dictionary(Dests=tree.obj)


def destination_pages(path: Path) -> dict[str, int]:
    """The page (from 1) of each named destination of a sheet's PDF (key.pdf: q1, q2, …);
    empty when the file is not a PDF, cannot be read, or names none."""
    try:
        with open(path, "rb") as handle:
            if handle.read(5) != b"%PDF-":       # not a PDF: no repair attempted
                return {}
        with pikepdf.Pdf.open(path) as pdf:
            pages = {page.obj.objgen: n for n, page in enumerate(pdf.pages, 1)}
            return {name: pages[objgen] for objgen, named in _destinations(pdf).items()
                    if objgen in pages for name, _ in named}
    except (pikepdf.PdfError, OSError, ValueError, TypeError, AttributeError, IndexError):
        return {}


def typeset_sheets(exam, bodies: Sequence[str], titles: Sequence[str], workdir: Path,
                   jobs: int = 1, chunk: int = 24) -> list[bytes]:
    """Each body (a sheet's LaTeX, from \\wsgenStartSheet to \\wsgenEndSheet) as its own
    PDF titled as `titles` says, typeset `chunk` sheets per job in `jobs` threads inside
    `workdir` (a private scratch folder) with the preamble of the keys (`booklet_source`:
    `exam` gives the title of the running head and the paper size).  A failed job raises
    TexError naming the kept source."""
    if not tex_available():
        raise UserError("PDF output needs pdflatex (TeX Live); run `make setup` or install "
                        "texlive-latex-base")
    # the few sheets that need LuaLaTeX (formats/markup.py marks their text) are typeset
    # together, so that the others keep pdfTeX's speed
    groups: list[list[int]] = []
    for engine in ("pdftex", "luatex"):
        chosen = [i for i, body in enumerate(bodies) if engine_of([body]) == engine]
        groups += [chosen[i:i + chunk] for i in range(0, len(chosen), chunk)]

    def compile_(n: int) -> tuple[bytes, str]:
        folder = workdir / f"chunk-{n}"
        folder.mkdir()
        chosen = [bodies[i] for i in groups[n]]
        return _run_pdflatex(booklet_source(exam, chosen), folder, "sheets", engine_of(chosen))

    out: list[bytes] = [b""] * len(bodies)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        try:
            results = list(pool.map(compile_, range(len(groups))))
        except _TexFailed as failure:
            raise failure.kept() from None
    for group, (pdf, aux) in zip(groups, results):
        with pikepdf.Pdf.open(io.BytesIO(pdf)) as source:
            chosen = [bodies[i] for i in group]
            for i, own in zip(group, cut_sheets(source, chosen, _page_counts(aux, len(group)))):
                single = pikepdf.new()
                single.pages.extend(own)
                out[i] = _write_pdf(single, titles[i])
    return out


@dataclass(frozen=True)
class _Sheet:
    variant_id: str
    folder: str
    body: str


class _BookletCollector:
    """Typesets the sheets of both kinds chunk by chunk as they arrive (in threads: the work
    is in pdflatex), then cuts each sheet's PDF and joins the booklets in order."""

    def __init__(self, build, staging):
        if not tex_available():
            raise UserError("PDF output needs pdflatex (TeX Live); run `make setup` or install "
                            "texlive-latex-base, or build without pdf in --formats")
        self.exam, self.duplex, self.staging = build.exam, build.duplex, staging
        self.scratch = staging.scratch("tex")
        self.pool = ThreadPoolExecutor(max_workers=max(1, build.jobs))
        self.pending: dict[str, list[_Sheet]] = {kind: [] for kind in KINDS}
        self.futures: dict[str, list] = {kind: [] for kind in KINDS}     # in order, unfinished
        self.submitted = {kind: 0 for kind in KINDS}
        self.booklets = {kind: pikepdf.new() for kind in KINDS}
        self.sources: list[pikepdf.Pdf] = []       # open until the booklets are written

    def add(self, summary, data) -> None:
        for kind in KINDS:
            self.pending[kind].append(_Sheet(summary.variant_id, summary.folder, data[kind]))
            if len(self.pending[kind]) == CHUNK_SHEETS[kind]:
                self._submit(kind)
        for kind in KINDS:
            self._collect(kind, wait=False)

    def _submit(self, kind: str) -> None:
        sheets, self.pending[kind] = tuple(self.pending[kind]), []
        workdir = self.scratch / f"{kind}-{self.submitted[kind]}"
        self.submitted[kind] += 1
        self.futures[kind].append(self.pool.submit(self._compile, sheets, workdir))

    def _compile(self, sheets, workdir: Path):
        workdir.mkdir()
        bodies = [s.body for s in sheets]
        engine = engine_of(bodies)
        pdf, aux = _run_pdflatex(booklet_source(self.exam, bodies), workdir, "booklet", engine)
        shutil.rmtree(workdir, ignore_errors=True)
        return sheets, pdf, _page_counts(aux, len(sheets))

    def _collect(self, kind: str, wait: bool) -> None:
        """Cut the finished chunks at the front of the queue, in order."""
        queue = self.futures[kind]
        while queue and (wait or queue[0].done()):
            try:
                result = queue.pop(0).result()
            except _TexFailed as failure:
                self.close()                       # no other chunk runs or is kept
                raise failure.kept() from None
            self._cut(kind, *result)

    def _cut(self, kind, sheets, pdf, counts) -> None:
        source = pikepdf.Pdf.open(io.BytesIO(pdf))
        self.sources.append(source)
        booklet = self.booklets[kind]
        dests = _destinations(source)
        for sheet, own in zip(sheets, cut_sheets(source, [s.body for s in sheets], counts,
                                                f"{kind} booklet")):
            single = pikepdf.new()
            single.pages.extend(own)
            _name_destinations(single, own, dests)
            self.staging.write(f"{sheet.folder}/{kind}.pdf", _write_pdf(
                single, f"{self.exam.title} — {sheet.variant_id} — {TITLES[kind]}"))
            if self.duplex and len(booklet.pages) % 2 == 1:
                box = own[0].mediabox
                booklet.add_blank_page(page_size=(float(box[2]), float(box[3])))
            booklet.pages.extend(own)

    def finish(self) -> None:
        try:
            for kind in KINDS:
                if self.pending[kind]:
                    self._submit(kind)
                self._collect(kind, wait=True)
                self.staging.write(BOOKLET_NAMES[kind], _write_pdf(
                    self.booklets[kind], f"{self.exam.title} — {TITLES[kind]}, every variant"))
        finally:
            self.close()

    def close(self) -> None:
        for source in self.sources:
            source.close()
        self.sources.clear()
        for queue in self.futures.values():
            for future in queue:
                future.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)


class PdfFormat(Format):
    name = "pdf"
    description = "questions.pdf and key.pdf per variant, and both booklets (pdfTeX)"

    def render(self, sheet, documents) -> Rendered:
        # The LaTeX of each document; the collector typesets them in chunks.
        anchor = f"v{sheet.variant_index}"
        return Rendered(data={kind: render_document(doc, "tex", anchor=anchor)
                              for kind, doc in documents.items()})

    def collector(self, build, staging):
        return _BookletCollector(build, staging)

    def check_inputs(self, exam, students, exam_file, roster_file) -> None:
        """User text in a script pdfTeX's fonts lack is set by LuaLaTeX (formats/texfonts.py):
        its program and fonts must be there; a character no font has (an emoji, a
        private-use code) is an error naming its field, not a gap in print."""
        fields = [(f"{exam_file}: {name}", getattr(exam, name))
                  for name in ("title", "course", "date", "instructions", "pledge")]
        fields += [(f"{exam_file}: problems[{i + 1}].label", item.label)
                   for i, item in enumerate(exam.items)]
        for student in students or ():
            fields += [(f"{roster_file}: student {student.id!r}: name", student.name),
                       (f"{roster_file}: student {student.id!r}: id", student.id)]
        for where, text in fields:
            wide = unicode_only(text)
            if not wide:
                continue
            absent = texfonts.missing_fonts()
            if not tex_available("luatex") or absent:
                what = "lualatex" if not tex_available("luatex") else ", ".join(absent[:3])
                raise UserError(f"{where}: {wide[0]!r} (U+{ord(wide[0]):04X}) is set by LuaLaTeX "
                                f"with the Noto fonts, and {what} is missing here; run "
                                f"`make setup` (scripts/ensure-fonts) or install "
                                f"{texfonts.FONT_PACKAGES}, or build without pdf in --formats")
            bad = texfonts.missing(wide)
            if bad:
                shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad[:3])
                raise UserError(f"{where}: {shown} is in no font of the PDF documents (Latin, "
                                "Greek, Cyrillic, CJK, Arabic, Hebrew, Indic and other scripts); "
                                "write it otherwise, or build without pdf in --formats")
