"""Feedback for the student who wrote a paper: one model, three writers, and a zip for an
LMS's bulk upload.

`feedback_of` turns a graded paper into a `Feedback`: who wrote it (the roster's name and
id when `--roster` is given), each answer's given value, the expected value as the key
prints it (TeX from core.printing, or the formula as the key sets it), the points, the
outcome in words, the diagnosed mistake with its explanation, and where that answer's
question is in the student's own key.  The writers:

* md   – `feedback/NAME.md`, Markdown (the key's TeX between dollars);
* html – `feedback/NAME.html`, one self-contained page: MathML made here, the keys'
  stylesheet inlined with its print style, no script, nothing fetched; the question's
  heading links into the student's key.html;
* pdf  – `feedback/NAME.pdf`, typeset by pdfTeX (LuaTeX for scripts it lacks) with the
  preamble of the keys (formats/pdf.py), 24 papers per TeX job.

Where the key is.  A paper's key is `FOLDER/key.html` (and key.pdf) of the build that wrote
answers.json: FOLDER is `students/ID` in a roster build, else the variant's id.  The link
is relative, from the feedback file to that folder beside answers.json, when the key is
there; `--key-url URL` puts the published build's address in front of FOLDER instead
(for feedback mailed or uploaded, away from the build).  Each slot's heading in key.html
carries the id `q1`, `q2`, … (formats/html.py), which the link names.

Zip (`--feedback-zip`):

* moodle – `feedback-moodle.zip` for Moodle's assignment "Upload multiple feedback files in
  a zip" (mod/assign/feedback/file/importziplib.php): each student's files in a folder
  `FULL NAME_PARTICIPANT_assignfeedback_file`, where PARTICIPANT is the number Moodle's
  grading worksheet gives the student ("Participant 1234"): the roster's `participant`
  column.  Moodle splits the folder name at "_": underscores in a name become spaces.
* plain  – `feedback.zip`: the files of feedback/ as they are, one per student.

The zip holds the html and pdf feedback asked for (the md too when it is the only one),
with fixed dates and order: the same grading makes the same bytes.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import tempfile
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence
from urllib.parse import quote, urlsplit

from ..core.records import choice_index
from ..errors import UserError
from .parse import Unreadable, read_number
from .score import AnswerResult, Outcome, code_span, cut_text, fmt_points

__all__ = ["DEFAULT_FORMATS", "FORMATS", "ZIP_LAYOUTS", "Feedback", "KeyPlace", "feedback_files",
           "feedback_of", "render_html", "render_md", "render_tex"]

FORMATS = ("md", "html", "pdf")
DEFAULT_FORMATS = ("md", "html")
ZIP_LAYOUTS = ("moodle", "plain")
ZIP_NAMES = {"moodle": "feedback-moodle.zip", "plain": "feedback.zip"}
#: Exact values longer than this (characters) are cut, with "…" (a student's text at
#: score.cut_text's 80).
VALUE_LIMIT = 400
#: The most bytes of a student's name in a Moodle zip folder name.
MAX_NAME_BYTES = 150


# ----------------------------------------------------------------------------- model

@dataclass(frozen=True)
class Expected:
    """An expected value as the key prints it: `tex` when there is one; else `exact` (and a
    `decimal` where that differs); a choice's `letter` (and its option's `exact`); a
    formula's `typed` form (what a student may type)."""
    tex: str = ""
    exact: str = ""
    decimal: str = ""
    letter: str = ""
    typed: str = ""


@dataclass(frozen=True)
class AnswerView:
    name: str
    part: str
    points: Fraction
    max_points: Fraction
    given: str | None               # None: not answered; nested entries as [a, b]
    expected: Expected
    result: str                     # the outcome in words
    outcome: Outcome
    diagnoses: tuple[tuple[str, str], ...]    # (mistake id, its label and reason: prose)
    undiagnosed: bool               # wrong, and no declared mistake gives it

    @property
    def css(self) -> str:
        """The HTML class of its outcome."""
        return _CSS.get(self.outcome, "none")


_CSS = {Outcome.RIGHT: "right", Outcome.CARRIED: "carried", Outcome.ROUNDED: "rounded",
        Outcome.PARTLY: "partly", Outcome.MISTAKE: "mistake", Outcome.WRONG: "wrong",
        Outcome.UNREADABLE: "unreadable", Outcome.SHAPE: "shape"}


@dataclass(frozen=True)
class ManualView:
    part: str
    points: Fraction | None
    max_points: Fraction
    comment: str
    rubric: str


@dataclass(frozen=True)
class SlotView:
    label: str
    problem: str
    points: Fraction
    max_points: Fraction
    automatic: Fraction
    by_hand: Fraction
    answers: tuple[AnswerView, ...]
    manual: tuple[ManualView, ...]
    anchor: str                     # the slot's id in key.html: q1, q2, …
    key_href: str                   # a link to it ("" when the key is not known)
    key_page: int = 0               # its page in key.pdf (0: not known)
    key_action: str = ""            # a PDF link action to it (KeyPlace.pdf_action)


@dataclass(frozen=True)
class KeyPlace:
    """Where a paper's key is: its folder in the build, and the address of the build's
    folder as seen from the feedback file ("" when the key is not to be linked)."""
    folder: str
    base: str = ""
    html: bool = False              # key.html is there (else key.pdf, or nothing)
    pdf: bool = False
    relative: str = ""              # the build folder's path from the feedback file (local)
    pages: tuple[tuple[str, int], ...] = ()    # key.pdf's page of each slot (q1, …)

    def href(self, anchor: str) -> str:
        """A link to the slot `anchor` in the key: its heading in key.html, else key.pdf's
        destination; "" when the key is not to be linked."""
        if not self.base or not (self.html or self.pdf):
            return ""
        if self.html:
            return f"{self.base}{quote(self.folder)}/key.html#{anchor}"
        return f"{self.base}{quote(self.folder)}/key.pdf#nameddest={anchor}"

    def pdf_action(self, anchor: str) -> str:
        """A PDF link action (PDF syntax; strings as hex, safe in TeX) opening the key at
        the slot: key.pdf's named destination beside the feedback, or the published page;
        "" when there is none to open."""
        def hex_(text: str) -> str:
            return "<" + text.encode("ascii").hex() + ">"
        if self.base.startswith(("http://", "https://")):     # check_key_url's form
            target = self.href(anchor)
            return f"<</S/URI/URI{hex_(target)}>>" if target.isascii() else ""
        if not (self.pdf and self.relative):
            return ""
        path = posixpath.join(self.relative, self.folder, "key.pdf")
        if path.isascii():
            spec = hex_(path)
        else:                       # a file specification with the path as Unicode (/UF)
            spec = ("<</Type/Filespec/F<" + path.encode("utf-8").hex() + ">/UF<FEFF"
                    + path.encode("utf-16-be").hex() + ">>>")
        return f"<</S/GoToR/F{spec}/D{hex_(anchor)}/NewWindow true>>"


@dataclass(frozen=True)
class Feedback:
    title: str
    student_id: str
    student_name: str
    variant: str
    build: str
    total: Fraction
    max_points: Fraction
    automatic: Fraction
    by_hand: Fraction
    has_manual: bool
    slots: tuple[SlotView, ...]
    key: KeyPlace

    @property
    def key_file(self) -> str:
        """The key's path in the build ("students/s1/key.pdf"), "" when it is not known."""
        name = "key.pdf" if self.key.pdf else "key.html" if self.key.html else ""
        return f"{self.key.folder}/{name}" if name else ""


def _nest(answer: AnswerResult, pick) -> str:
    """The entries of an answer as a scalar, [a, b] or [[a, b], [c, d]]."""
    if answer.kind in ("number", "choice", "formula"):
        return pick(answer.entries[0])
    if answer.kind == "matrix":
        rows: dict[str, list[str]] = {}
        for e in answer.entries:
            rows.setdefault(e.entry.split(",")[0], []).append(pick(e))
        return "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows.values()) + "]"
    return "[" + ", ".join(pick(e) for e in answer.entries) + "]"


def _nested(exact) -> str:
    """An exact value of the manifest ("1/2", ["1", "2"], [["1", "2"]]) as written."""
    if isinstance(exact, list):
        return "[" + ", ".join(_nested(e) for e in exact) + "]"
    return str(exact)


def _too_hard(text: str) -> bool:
    try:
        read_number(text)
    except (Unreadable, OverflowError, ValueError, TypeError):
        return True
    return False


@lru_cache(maxsize=4096)
def _exact_tex(exact: str, kind: str) -> str:
    # every paper of a variant expects the same values: each is printed once
    from ..core.printing import exact_tex
    try:
        return exact_tex(json.loads(exact), kind)
    except Exception:  # noqa: BLE001 - an odd manifest string: shown as text instead
        return ""


def _plain_tex(tex: str) -> bool:
    """TeX from answers.json safe to put between dollars in Markdown (bounded, no dollar,
    no line break, no HTML)."""
    return bool(tex) and len(tex) <= VALUE_LIMIT and not any(c in tex for c in "$\n<>`")


#: The control words answers.json's TeX (a formula's "tex", a mistake's label and reason)
#: may hold to be typeset as it is: what the printers and the problems' prose write, math
#: only.  Anything else is shown as text (a typed formula, or the prose escaped).
SAFE_MACROS = frozenset(
    "left right bigl bigr Bigl Bigr frac tfrac dfrac top hat bar tilde mathbf mathrm mathsf "
    "operatorname text circ odot cdot times sqrt exp log ln tanh max min sum prod partial "
    "nabla ell ne neq le leq ge geq approx in dots ldots cdots quad qquad lVert rVert Vert "
    "lfloor rfloor lceil rceil infty "
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu "
    "nu xi pi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi "
    "Sigma Phi Psi Omega".split())


def _only_safe_macros(tex: str) -> bool:
    return all(word in SAFE_MACROS for word in re.findall(r"\\([A-Za-z]+)", tex))


def safe_formula_tex(tex: str) -> bool:
    """A formula's TeX (answers.json's "tex") that LaTeX may typeset as it is: bounded,
    plain math characters, and control words the formula printer writes."""
    if not _plain_tex(tex) or any(c in tex for c in "%#&~"):
        return False
    if not re.fullmatch(r"(?:\\[A-Za-z]+|\\[,;!: ]|[A-Za-z0-9\s+\-*/=(),.'^_{}|\[\]])*", tex):
        return False
    return _only_safe_macros(tex)


def _expected(a: AnswerResult) -> Expected:
    if a.kind == "choice":
        shown = a.options[choice_index(a.entries[0].exact)] if a.options else None
        exact = (_nested(shown["exact"]) if isinstance(shown, dict) and "exact" in shown else "")
        return Expected(letter=a.entries[0].exact, exact=exact)
    if a.kind == "formula":
        return Expected(tex=a.tex if safe_formula_tex(a.tex) else "", typed=a.entries[0].exact)
    return _numeric_expected(a.kind, None if a.exact is None else json.dumps(a.exact),
                             tuple((e.entry, e.exact, e.value) for e in a.entries))


@lru_cache(maxsize=16384)
def _numeric_expected(kind: str, exact: str | None, entries: tuple) -> Expected:
    # every paper of a variant expects the same values: each is worked out once
    if exact is not None and not any(_too_hard(e) for _, e, _ in entries):
        tex = _exact_tex(exact, kind)
        if tex:
            return Expected(tex=tex)
    a = SimpleNamespace(kind=kind, entries=[SimpleNamespace(entry=entry, exact=e, value=v)
                                            for entry, e, v in entries])
    written = _nest(a, lambda e: e.exact)
    decimal = _nest(a, lambda e: f"{float(e.value):.6g}")
    return Expected(exact=written, decimal=decimal if decimal != written else "")


def _answer_view(a: AnswerResult) -> AnswerView:
    given = (_nest(a, lambda e: "?" if e.given is None else e.given) if a.answered else None)
    diagnoses = []
    for m in a.mistakes:
        label, why = str(m.get("label", "")), str(m.get("why", ""))
        diagnoses.append((str(m["id"]), why if why.startswith(label) else f"{label}: {why}".strip(": ")))
    return AnswerView(name=a.name, part=a.part, points=a.points, max_points=a.max_points,
                      given=given, expected=_expected(a), result=a.detail or a.outcome.value,
                      outcome=a.outcome, diagnoses=tuple(diagnoses),
                      undiagnosed=not a.mistakes and a.outcome in (Outcome.WRONG, Outcome.PARTLY))


def key_folder(manifest, variant: str) -> str:
    """The folder of a variant's sheets in the build: students/ID under a roster, else the
    variant's id."""
    student = manifest.variants.get(variant, {}).get("student")
    return f"students/{student}" if student else variant


def feedback_of(manifest, paper, student=None, key: KeyPlace | None = None) -> Feedback:
    """A paper's feedback; `student` is its roster entry (exam.spec.Student) when known."""
    key = key or KeyPlace(folder=key_folder(manifest, paper.variant))
    slots = []
    for index, slot in enumerate(paper.slots, 1):
        anchor = f"q{index}"
        slots.append(SlotView(
            label=slot.label, problem=slot.problem, points=slot.points,
            max_points=slot.max_points, automatic=slot.automatic, by_hand=slot.by_hand,
            answers=tuple(_answer_view(a) for a in slot.answers),
            manual=tuple(ManualView(m.part, m.points, m.max_points, m.comment, m.rubric)
                         for m in slot.manual),
            anchor=anchor, key_href=key.href(anchor), key_page=dict(key.pages).get(anchor, 0),
            key_action=key.pdf_action(anchor)))
    return Feedback(
        title=manifest.exam or "Exam",
        student_id=student.id if student is not None else paper.student,
        student_name=student.name if student is not None else "",
        variant=paper.variant, build=manifest.build, total=paper.total,
        max_points=paper.max_points, automatic=paper.automatic, by_hand=paper.by_hand,
        has_manual=any(slot.manual for slot in paper.slots), slots=tuple(slots), key=key)


# ----------------------------------------------------------------------------- Markdown

@lru_cache(maxsize=65536)
def _plain(text: str) -> str:
    """User text (the exam's title, a name, a label) shown literally in Markdown."""
    from ..formats.markup import escape_markdown
    return escape_markdown(" ".join(str(text).split()))


def _prose(text: str, markup: str = "md") -> str:
    """A problem's prose (a mistake's label or reason) as the keys render it: plain text
    escaped, $…$ kept as mathematics; escaped whole when it is not valid prose markup."""
    from ..formats.markup import render_text
    from ..formats.prose import MarkupError
    try:
        if markup == "tex" and not _tex_prose_ok(str(text)):
            raise MarkupError("not the printers' TeX")
        return " ".join(render_text(str(text), {}, markup).split())
    except MarkupError:
        return _plain(text) if markup == "md" else tex_text(" ".join(str(text).split()))


def _tex_prose_ok(text: str) -> bool:
    """Prose from answers.json that LaTeX may set as the keys do: bounded, its mathematics
    in pairs of single dollars with balanced braces and the printers' control words only."""
    if len(text) > 2000 or "$$" in text or not _only_safe_macros(text):
        return False
    plain = re.sub(r"\\[{}$]", "", text)
    if plain.count("$") % 2:
        return False
    depth = 0
    for ch in plain:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _md_expected(e: Expected) -> str:
    if e.letter:
        return f"option {e.letter}" + (f" ({code_span(e.exact, VALUE_LIMIT)})" if e.exact else "")
    if e.typed:
        typed = code_span(e.typed, VALUE_LIMIT)
        return f"${e.tex}$ ({typed})" if e.tex else typed
    if e.tex:
        return f"${e.tex}$"
    return code_span(e.exact, VALUE_LIMIT) + (f" ≈ {code_span(e.decimal, VALUE_LIMIT)}" if e.decimal else "")


def _md_answer(label: str, a: AnswerView) -> list[str]:
    part = f", part {_plain(a.part)}" if a.part else ""
    lines = [f"- **{_plain(a.name)}**{part}: {fmt_points(a.points)} / "
             f"{fmt_points(a.max_points)} points",
             "  - given: " + ("no answer" if a.given is None else code_span(a.given)),
             "  - expected: " + _md_expected(a.expected),
             f"  - result: {a.result}"]
    for mistake_id, text in a.diagnoses:
        lines.append(f"  - diagnosis: {code_span(mistake_id)}" + (f": {_prose(text)}" if text else ""))
    if a.undiagnosed:
        lines.append("  - diagnosis: no declared mistake gives this answer")
    lines.append(f"  - see the key, {_plain(label)}{part}")
    return lines


def _md_manual(slot: SlotView) -> list[str]:
    lines = []
    for m in slot.manual:
        part = f", part {_plain(m.part)}" if m.part else ""
        if m.points is None:
            lines.append(f"- **graded by hand**{part}: not graded yet (0 / {fmt_points(m.max_points)} "
                         "points)")
        else:
            lines.append(f"- **graded by hand**{part}: {fmt_points(m.points)} / "
                         f"{fmt_points(m.max_points)} points")
        if m.comment:
            lines.append(f"  - comment: {_plain(m.comment)}")
        if m.rubric:
            lines.append(f"  - rubric: {_plain(m.rubric)}")
    return lines


def render_md(fb: Feedback) -> str:
    who = (f"variant {_plain(fb.variant)}"
           + (f", student {_plain(fb.student_id)}" if fb.student_id else "")
           + (f", build {_plain(fb.build)}" if fb.build else ""))
    total = f"**Total: {fmt_points(fb.total)} / {fmt_points(fb.max_points)} points**"
    if fb.has_manual:
        total += f" (automatic {fmt_points(fb.automatic)}, by hand {fmt_points(fb.by_hand)})"
    lines = [f"# Feedback: {_plain(fb.title)}", ""]
    if fb.student_name:
        lines += [f"**{_plain(fb.student_name)}**", ""]
    lines += [who, "", total, ""]
    if fb.key_file:
        lines += [f"Your key: {_plain(fb.key_file)}", ""]
    for slot in fb.slots:
        heading = (f"## {_plain(slot.label)} ({_plain(slot.problem)}): {fmt_points(slot.points)} / "
                   f"{fmt_points(slot.max_points)}")
        if slot.manual:
            heading += (f" (automatic {fmt_points(slot.automatic)}, by hand "
                        f"{fmt_points(slot.by_hand)})")
        lines += [heading, ""]
        for a in slot.answers:
            lines += _md_answer(slot.label, a)
        lines += _md_manual(slot)
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# ----------------------------------------------------------------------------- HTML and TeX

def _html_prose(text: str):
    """A mistake's label and reason (problem prose, $…$ as MathML) as the inside of one
    paragraph."""
    from markupsafe import Markup
    from ..formats.htmlmarkup import html_text, plain_html
    from ..formats.prose import MarkupError
    try:
        html = str(html_text(str(text), {}, "mathml")).strip()
    except (MarkupError, RecursionError, ValueError, TypeError, IndexError, KeyError, AttributeError):
        # prose the markup or the MathML converter refuses (an edited answers.json): as text
        return plain_html(str(text), "mathml")
    except Exception as exc:  # noqa: BLE001 - latex2mathml's own errors are plain Exceptions
        if type(exc).__module__.startswith("latex2mathml"):
            return plain_html(str(text), "mathml")
        raise
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)


def _spans(text: str) -> list[tuple[bool, str]]:
    """A result in words, split at its `code` spans (what a student typed, quoted by
    grading/score.py): (is code, text)."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:                       # an odd backtick: no spans
        return [(False, str(text))]
    return [(i % 2 == 1, part) for i, part in enumerate(parts) if part]


@lru_cache(maxsize=65536)
def _html_result(text: str):
    from markupsafe import Markup
    return Markup("".join(f"<code>{_html_plain(part)}</code>" if code else str(_html_plain(part))
                          for code, part in _spans(text)))


def tex_code(text: Any) -> str:
    """What a student typed (or a value as typed), for the PDF: in the typewriter font,
    unless it holds a script only LuaLaTeX's text fonts have (the typewriter font is Latin
    only): then in the text font."""
    from ..formats.markup import unicode_only
    return tex_text(text) if unicode_only(str(text)) else rf"\texttt{{{tex_text(text)}}}"


def _tex_result(text: str) -> str:
    return "".join(tex_code(part) if code else tex_text(part) for code, part in _spans(text))


def _html_context() -> dict:
    return dict(fmt=fmt_points, cut=cut_text, prose=_html_prose, p=_html_plain, result=_html_result,
                value_limit=VALUE_LIMIT)


@lru_cache(maxsize=16384)
def _answer_html(a: AnswerView):
    """One answer's block (the papers of a variant repeat their right answers)."""
    from markupsafe import Markup
    from ..formats.html import html_environment
    template = html_environment().get_template("feedback-answer.html.j2")
    return Markup(template.render(a=a, **_html_context()))


def render_html(fb: Feedback, paper_size: str = "a4") -> str:
    """The feedback as one self-contained HTML page."""
    from ..formats.html import html_environment
    template = html_environment().get_template("feedback.html.j2")
    return template.render(fb=fb, exam=SimpleNamespace(paper=paper_size), answer=_answer_html,
                           **_html_context())


@lru_cache(maxsize=65536)
def _html_plain(text: str):
    """User text as HTML (formats.htmlmarkup.plain_html): names, labels, results repeat
    from paper to paper."""
    from ..formats.htmlmarkup import plain_html
    return plain_html(text, "mathml")


def render_tex(fb: Feedback, anchor: str) -> str:
    """The feedback as a sheet body for formats.pdf.typeset_sheets."""
    from ..formats.templating import environment
    template = environment("tex").get_template("feedback.tex.j2")
    from ..formats.document import shortened
    running = shortened(fb.student_name or fb.student_id or fb.variant, 40)
    return template.render(fb=fb, anchor=anchor, fmt=fmt_points, cut=cut_text, short=_short, t=tex_text,
                           running=running,
                           result=_tex_result, code=tex_code,
                           prose=lambda text: _prose(text, "tex"), value_limit=VALUE_LIMIT)


def tex_text(text: Any) -> str:
    """User or student text for the PDF: escaped (formats.markup.escape_tex), a character no
    font of the documents has (an emoji, a private-use code; any beyond pdfTeX's fonts
    when LuaLaTeX or its fonts are not installed) shown as "?": a student's answer never
    stops the typesetting."""
    from ..formats import texfonts
    from ..formats.markup import escape_tex, unicode_only
    from ..formats.pdf import tex_available
    text = str(text)
    wide = unicode_only(text)
    if wide:
        usable = tex_available("luatex") and not texfonts.missing_fonts()
        bad = set(texfonts.missing(wide) if usable else wide)
        text = "".join("?" if ch in bad else ch for ch in text)
    return escape_tex(text)


def _short(tex: str) -> bool:
    """An expected value short enough to set in the line (rough characters), not a matrix."""
    from ..formats.texbreak import visible_length
    return visible_length(tex) <= 48 and "matrix" not in tex


# ----------------------------------------------------------------------------- files

def key_place(manifest, variant: str, feedback_dir: Path | None, key_url: str | None,
              pages: bool = False) -> KeyPlace:
    """Where a variant's key is, as its feedback file (in `feedback_dir`) links to it; with
    `pages`, the page of each slot in key.pdf (its named destinations, formats/pdf.py)."""
    folder = key_folder(manifest, variant)
    build_dir = manifest.path.parent
    html, pdf = (build_dir / folder / "key.html").is_file(), (build_dir / folder / "key.pdf").is_file()
    found = _pages(build_dir / folder / "key.pdf") if pages and pdf else ()
    if key_url:
        return KeyPlace(folder, key_url.rstrip("/") + "/", html=html or not pdf, pdf=pdf, pages=found)
    if feedback_dir is None or not (html or pdf):
        return KeyPlace(folder, "", html, pdf, pages=found)
    relative = Path(os.path.relpath(build_dir.resolve(), feedback_dir.resolve())).as_posix()
    base = "/".join(quote(part) for part in relative.split("/")) + "/"
    return KeyPlace(folder, base, html, pdf, relative=relative, pages=found)


def _pages(path: Path) -> tuple[tuple[str, int], ...]:
    try:
        stat = path.stat()
    except OSError:                 # gone since it was seen: no pages to give
        return ()
    return _pages_of(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4096)
def _pages_of(path: str, mtime: int, size: int) -> tuple[tuple[str, int], ...]:
    from ..formats.pdf import destination_pages
    return tuple(sorted(destination_pages(Path(path)).items()))


def keys_record(manifest, options) -> dict:
    """What the feedback takes from the build's keys, for the grading record
    (grading/regrade.py): which keys are there, and with PDF feedback their pages; a
    grading is done again when that changes (keys built or rebuilt since)."""
    formats = tuple(getattr(options, "feedback", None) or DEFAULT_FORMATS)
    digest = hashlib.sha256()
    missing = 0
    for variant in manifest.variants:
        place = key_place(manifest, variant, None, None, pages="pdf" in formats)
        missing += not (place.html or place.pdf)
        digest.update(json.dumps([place.folder, place.html, place.pdf, place.pages]).encode())
    return {"sha256": digest.hexdigest(), "missing": missing}


def missing_keys_line(manifest, papers) -> list[str]:
    """A stdout line naming the papers whose key the build folder does not hold, when it
    holds others' (a build of answers.json alone has none, and says so by its formats):
    their feedback names the key but cannot link to it."""
    places = {variant: key_place(manifest, variant, None, None)
              for variant in {paper.variant for paper in papers}}
    missing = sorted(v for v, place in places.items() if not (place.html or place.pdf))
    if not missing or len(missing) == len(places):
        return []
    shown = ", ".join(missing[:5]) + (f", … ({len(missing)} in all)" if len(missing) > 5 else "")
    return [f"no key.html or key.pdf beside {manifest.path} for {shown}: their feedback cannot "
            "link into the key (build with html or pdf, or give --key-url)"]


def check_key_url(url: str) -> str:
    """--key-url: the http(s) address of the published build folder, normalised (scheme in
    lower case, an international host in IDNA, a path with other than URL characters
    percent-encoded) so that every link is ASCII; a query, fragment, user name or password
    (it would be copied into every student's file), a bad port or percent escape is
    refused."""
    def bad(why: str) -> UserError:
        return UserError(f"--key-url: {url!r} {why}")
    if any(c.isspace() or c in "\"'<>\\`" for c in url) or len(url) > 2000:
        raise bad("holds a blank, quote, angle bracket, backslash or backtick, or is too long")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise bad(f"is not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise bad("is not an http(s) address of the published build folder")
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        raise bad("has a query or fragment: give the folder's address, the links add the rest")
    if parts.username is not None or parts.password is not None:
        raise bad("holds a user name or password, which every student's file would carry")
    if re.search(r"%(?![0-9A-Fa-f]{2})", parts.path):
        raise bad("has a % that is not a percent escape")
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    return f"{parts.scheme.lower()}://{netloc}{path}"


def _moodle_folder(name: str, participant: str) -> str:
    """The folder Moodle's feedback zip import reads: FULL NAME_NUMBER_assignfeedback_file."""
    shown = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", " ", name.replace("_", " "))
    shown = " ".join(shown.split()) or "student"
    # a folder name fits in 255 bytes on every system (Moodle matches the number alone)
    while len(shown.encode("utf-8")) > MAX_NAME_BYTES:
        shown = shown[:-1].rstrip()
    return f"{shown}_{participant}_assignfeedback_file"


def _participant(student, roster_path) -> str:
    value = dict(student.extra).get("participant", "").strip()
    match = re.fullmatch(r"(?:participant\s*)?(\d{1,18})", value, re.I)
    if not match:
        raise UserError(f"--roster {roster_path}: student {student.id!r}: participant "
                        f"{value!r} is not the number of Moodle's grading worksheet "
                        "(its Identifier column, \"Participant 1234\")" if value else
                        f"--roster {roster_path}: student {student.id!r} has no participant "
                        "(the number in the Identifier column of Moodle's grading worksheet, "
                        "\"Participant 1234\"), which --feedback-zip moodle names the files by")
    if int(match.group(1)) == 0:
        raise UserError(f"--roster {roster_path}: student {student.id!r}: participant 0 is not a "
                        "number Moodle gives (they start at 1)")
    return str(int(match.group(1)))


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16          # a regular file, rw-r--r--
            archive.writestr(info, entries[name])
    return buffer.getvalue()


def feedback_files(manifest, papers: Sequence, names: Sequence[str], options,
                   out_dir: Path | None, students: Sequence | None = None,
                   scratch: Path | None = None) -> dict[str, Any]:
    """feedback/STEM.md|.html|.pdf for each paper (`names`: each paper's file stem) in the
    formats `options.feedback` asks for, and the zip `options.feedback_zip` names."""
    formats = tuple(getattr(options, "feedback", None) or DEFAULT_FORMATS)
    key_url = getattr(options, "key_url", None)
    students = list(students) if students is not None else [None] * len(papers)
    feedback_dir = None if out_dir is None else Path(out_dir) / "feedback"
    places: dict[str, KeyPlace] = {}
    views = []
    for paper, student in zip(papers, students):
        if paper.variant not in places:
            places[paper.variant] = key_place(manifest, paper.variant, feedback_dir, key_url,
                                              pages="pdf" in formats)
        views.append(feedback_of(manifest, paper, student, places[paper.variant]))
    files: dict[str, Any] = {}
    if "md" in formats:
        for stem, fb in zip(names, views):
            files[f"feedback/{stem}.md"] = render_md(fb)
    if "html" in formats:
        for stem, fb in zip(names, views):
            files[f"feedback/{stem}.html"] = render_html(fb)
    if "pdf" in formats and views:
        from ..formats.pdf import typeset_sheets
        bodies = [render_tex(fb, f"f{i}") for i, fb in enumerate(views)]
        titles = [f"{fb.title} — feedback — {fb.student_name or fb.student_id or fb.variant}"
                  for fb in views]
        exam = SimpleNamespace(title=views[0].title, paper="a4")
        jobs = min(2, os.cpu_count() or 1)
        if scratch is not None:                   # the grading's staging folder (a kill: the next run removes it)
            pdfs = typeset_sheets(exam, bodies, titles, Path(scratch), jobs=jobs)
        else:
            with tempfile.TemporaryDirectory(prefix="wsgen-feedback-") as folder:
                pdfs = typeset_sheets(exam, bodies, titles, Path(folder), jobs=jobs)
        for stem, pdf in zip(names, pdfs):
            files[f"feedback/{stem}.pdf"] = pdf
    layout = getattr(options, "feedback_zip", None)
    if layout:
        files[ZIP_NAMES[layout]] = _zip(_zip_entries(layout, papers, names, students, formats,
                                                     files, getattr(options, "roster", None)))
    return files


def _zip_entries(layout, papers, names, students, formats, files, roster_path) -> dict[str, bytes]:
    kept = [f for f in ("pdf", "html") if f in formats] or ["md"]
    entries: dict[str, bytes] = {}
    taken: dict[str, str] = {}
    for paper, stem, student in zip(papers, names, students):
        if layout == "moodle":
            if student is None:
                raise UserError("--feedback-zip moodle: give --roster (each student's name and "
                                "participant number in Moodle's grading worksheet)")
            participant = _participant(student, roster_path)
            if taken.setdefault(participant, student.id) != student.id:
                raise UserError(f"--roster {roster_path}: students {taken[participant]!r} and "
                                f"{student.id!r} have the same participant {participant}")
            folder = _moodle_folder(student.name, participant)
        for ext in kept:
            data = files[f"feedback/{stem}.{ext}"]
            payload = data.encode("utf-8") if isinstance(data, str) else data
            if layout == "moodle":
                entries[posixpath.join(folder, f"feedback.{ext}")] = payload
            else:
                entries[f"{stem}.{ext}"] = payload
    return entries
