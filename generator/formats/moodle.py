"""Moodle XML: one moodle.xml per build, one question category per exam slot.

Each category holds every variant of its slot as a question, so that a Moodle quiz
draws "a random question from the category" for each student.  A slot whose only
answer is one number becomes a numerical question, one whose only answer is one
choice a multichoice question; any other slot a cloze (embedded answers) question
with one NUMERICAL field per number (a vector or matrix: per entry) and a
MULTICHOICE field per choice, each number with its tolerance.

Marks.  Moodle never reads <defaultgrade> for a cloze question: its mark is the sum of
its fields' weights, and a weight is a whole number.  With the exam's `quiz_marks =
"points"` (the default) a question is worth the slot's points: each answer's exact share
of them is rounded to whole marks, and each answer's marks shared among its entries
(quizref.answer_whole_shares, largest remainders; exact wherever every field's share is a
whole number).  A slot with more fields than points cannot give every field a mark: some
entries then weigh 0, and Moodle's own score of the question is approximate (`wsgen grade
--moodle` scores the responses exactly).  With `quiz_marks = "shares"` every field weighs
exactly its share, in the smallest whole numbers that do; the question's mark is their sum
and the quiz slot's maximum mark, which a teacher sets for a random question anyway, makes
it worth the slot's points.  A slot worth 0 points weighs its fields that way too (Moodle
cannot score a cloze question of weight 0).

Mistakes.  Every declared mistake's value of a number that a grader would not accept is
a 0% answer of that field (or of the numerical question) with the mistake's "label: why"
as its feedback, with the answer's tolerance around it; the correct answer comes first,
so it wins where both would match.  Each wrong option of a choice carries the note of
the mistake (or engine slip) behind it.  The worked key is the question's general
feedback; the mathematics is TeX in \\( … \\) and \\[ … \\], which Moodle's MathJax
filter renders.  A cloze field's feedback is written as character references that
Moodle's parser decodes (qtype_multianswer_extract_question decodes entities, then
turns "\\}" and "\\#" into "}" and "#": a TeX "\\}" in a note is written "\\&#125;").

Every question's text ends with its reference (quizref: "Ref. TAG/VARIANT/SLOT"), which
Moodle's Responses report shows with the question and `wsgen grade --moodle` reads.  The
exam's `quiz_penalty` is each question's penalty and `quiz_shuffle` whether a choice's
options are shuffled (default: not, they are lettered in the text).  A figure is an SVG
file of the question's text or feedback (<file encoding="base64">, named by
@@PLUGINFILE@@ in an <img>): Moodle's HTML cleaning drops inline SVG.

The canonical sheet is left out when the build has random variants (its numbers are
the published original).  The questions are written to one scratch file per slot as
the sheets arrive and joined in finish(): memory does not grow with the variants.
"""
from __future__ import annotations

import base64
import html
import math

from lxml import etree

from ..figures.svg import externalized
from . import Format, Rendered
from .htmlmarkup import html_escape, inert, isolated, text_html
from .quiz import (Field, SlotCollector, answer_fields, field_label_html, letters, number_text,
                   slot_questions, width_text)
from .quizref import FieldKey, answer_whole_shares, build_tag, reference

__all__ = ["MoodleFormat", "category_path", "cloze_choice", "cloze_feedback", "cloze_number",
           "field_weights", "question_element"]

MODE = "tex"
_FEEDBACK_REFERENCES = str.maketrans({"\\": "&#92;", "~": "&#126;", "{": "&#123;",
                                      "}": "&#125;"})


def _text(parent, tag: str, text: str, format: str | None = None):
    element = etree.SubElement(parent, tag)
    if format:
        element.set("format", format)
    etree.SubElement(element, "text").text = text
    return element


def _files(element, files: dict[str, bytes]) -> None:
    """Files of a text, base64 in the XML, which its HTML names as @@PLUGINFILE@@/name."""
    for name, data in files.items():
        etree.SubElement(element, "file", name=name, path="/",
                         encoding="base64").text = base64.b64encode(data).decode("ascii")


def category_path(exam_title: str, label: str) -> str:
    """A category under the course's top category; "/" in a name is written "//"."""
    def name(part: str) -> str:
        return " ".join(part.split()).replace("/", "//")
    return f"$course$/top/{name(exam_title)}/{name(label)}"


def cloze_feedback(feedback_html: str) -> str:
    """HTML feedback as a cloze answer's feedback: Moodle's parser decodes character
    references and then turns "\\}" and "\\#" into "}" and "#", so the feedback is written
    escaped once more, with nothing that ends a field (~ }) or escapes (\\)."""
    kept = feedback_html.replace("\\}", "\\&#125;").replace("\\#", "\\&#35;")
    return html.escape(kept, quote=True).translate(_FEEDBACK_REFERENCES)


def _notes(slot, ids) -> str:
    return "<br>".join(note for note in (slot.note(i) for i in ids) if note)


def cloze_number(field: Field, weight: int, slot=None) -> str:
    alternatives = [f"={number_text(field.value)}:{width_text(field.tolerance)}"]
    for wrong in field.wrong:
        note = _notes(slot, wrong.mistakes) if slot is not None else ""
        alternatives.append(f"%0%{number_text(wrong.value)}:{width_text(wrong.tolerance)}"
                            + (f"#{cloze_feedback(note)}" if note else ""))
    return f"{{{weight}:NUMERICAL:{'~'.join(alternatives)}}}"


def cloze_choice(field: Field, weight: int, slot=None, shuffle: bool = False) -> str:
    options = []
    for i, letter in enumerate(letters(len(field.options))):
        note = ""
        if slot is not None and i != field.value and i < len(field.option_mistakes):
            note = _notes(slot, field.option_mistakes[i])
        options.append(("=" if i == field.value else "") + letter
                       + (f"#{cloze_feedback(note)}" if note else ""))
    kind = "MULTICHOICE_S" if shuffle else "MULTICHOICE"
    return f"{{{weight}:{kind}:{'~'.join(options)}}}"


def field_weights(fields: list[Field], points: int, marks: str = "points") -> list[int]:
    """Whole-number cloze weights.  "points": summing to the slot's points, each answer's
    exact share rounded first, then each answer's marks shared among its entries (largest
    remainders; see quizref.answer_whole_shares); one per field for a slot of 0 points.
    "shares": the smallest whole numbers in the fields' exact proportions (the question's
    mark is then their sum, and a quiz slot's maximum mark gives it its points)."""
    if marks == "shares" or points <= 0:
        scale = 1
        for share in (f.points for f in fields):
            scale = scale * share.denominator // math.gcd(scale, share.denominator)
        weights = [int(f.points * scale) for f in fields]
        if not any(weights):
            return [1] * len(fields)
        divisor = math.gcd(*weights)
        return [w // divisor for w in weights]
    keys = [FieldKey(f.answer, f.entry, f.kind) for f in fields]
    return answer_whole_shares(keys, [f.points for f in fields], points)


def user_html(text: str) -> str:
    """User text (a slot label) inside a question's HTML: escaped, with braces and
    backslashes as character references so that Moodle's cloze parser finds no field in
    it, in a span that MathJax (versions 2 and 3) leaves alone; bidi formatting in it
    isolated (htmlmarkup.isolated)."""
    return isolated(text, lambda plain: inert(html_escape(plain)))


def _cloze_html(fields: list[Field], slot, shuffle: bool, marks: str) -> str:
    items = []
    for field, weight in zip(fields, field_weights(fields, slot.points, marks)):
        blank = (cloze_number(field, weight, slot) if field.kind == "number"
                 else cloze_choice(field, weight, slot, shuffle))
        items.append(f"<li>{field_label_html(field, MODE)} {blank}</li>")
    return '<p><strong>Your answers</strong></p>\n<ul class="answers">\n' + "\n".join(items) + "\n</ul>\n"


def _reference_html(tag: str, variant_id: str, slot) -> str:
    return f'<p class="wsgen-ref"><small>{reference(tag, variant_id, slot.position + 1)}</small></p>\n'


def question_element(exam, variant_id: str, slot, record: dict, tag: str = "") -> etree._Element:
    """One slot of one variant as a Moodle question."""
    tag = tag or build_tag(exam.build_id)
    penalty = getattr(exam, "quiz_penalty", 0.0)
    shuffle = getattr(exam, "quiz_shuffle", False)
    fields = answer_fields(record, slot)
    name = f"{slot.label} {slot.title} — {variant_id}"
    intro = f"<p><strong>{user_html(slot.label)}. {text_html(slot.title, MODE)}</strong></p>\n"
    if len(fields) == 1:
        kind = "numerical" if fields[0].kind == "number" else "multichoice"
    else:
        kind = "cloze"
    question = etree.Element("question", type=kind)
    _text(question, "name", name)
    text = intro + slot.text
    if kind == "cloze":
        text += _cloze_html(fields, slot, shuffle, getattr(exam, "quiz_marks", "points"))
    text += _reference_html(tag, variant_id, slot)
    # figures as SVG files of the question (Moodle's HTML cleaning drops inline SVG)
    text, files = externalized(text, "@@PLUGINFILE@@/")
    _files(_text(question, "questiontext", text, "html"), files)
    feedback, files = externalized(slot.feedback, "@@PLUGINFILE@@/")
    _files(_text(question, "generalfeedback", feedback, "html"), files)
    etree.SubElement(question, "defaultgrade").text = str(slot.points)
    etree.SubElement(question, "penalty").text = number_text(penalty)
    etree.SubElement(question, "hidden").text = "0"
    etree.SubElement(question, "idnumber").text = f"{variant_id}-{slot.label}"[:100]
    if kind == "numerical":
        field = fields[0]
        answer = etree.SubElement(question, "answer", fraction="100", format="moodle_auto_format")
        etree.SubElement(answer, "text").text = number_text(field.value)
        _text(answer, "feedback", "", "html")
        etree.SubElement(answer, "tolerance").text = width_text(field.tolerance)
        for wrong in field.wrong:
            answer = etree.SubElement(question, "answer", fraction="0", format="moodle_auto_format")
            etree.SubElement(answer, "text").text = number_text(wrong.value)
            _text(answer, "feedback", _notes(slot, wrong.mistakes), "html")
            etree.SubElement(answer, "tolerance").text = width_text(wrong.tolerance)
    elif kind == "multichoice":
        field = fields[0]
        etree.SubElement(question, "single").text = "true"
        etree.SubElement(question, "shuffleanswers").text = "true" if shuffle else "false"
        etree.SubElement(question, "answernumbering").text = "none"
        for i, (letter, option) in enumerate(zip(letters(len(field.options)), field.options)):
            answer = etree.SubElement(question, "answer", fraction="100" if i == field.value else "0",
                                      format="html")
            # the letter is part of the option: the Responses report shows the option's text
            etree.SubElement(answer, "text").text = f'<span class="letter">{letter}.</span> {option}'
            note = _notes(slot, field.option_mistakes[i]) if i != field.value else ""
            _text(answer, "feedback", note, "html")
    return question


def _serialize(element) -> str:
    return etree.tostring(element, encoding="unicode", pretty_print=True)


class _MoodleCollector(SlotCollector):
    scratch_name = "moodle"

    def __init__(self, build, staging):
        super().__init__(build, staging)
        self.tag = build_tag(build.exam.build_id)

    def element(self, variant_id: str, slot, problem: dict) -> bytes:
        return _serialize(question_element(self.exam, variant_id, slot, problem, self.tag)).encode("utf-8")

    def finish(self) -> None:
        self.close_slots()
        out = self.staging.stream("moodle.xml")
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n')
        for position in sorted(self.files):
            category = etree.Element("question", type="category")
            _text(category, "category", category_path(self.exam.title, self.slots[position].label))
            _text(category, "info", f"<p>{html_escape(self.exam.title)}: every variant of "
                                    f"{html_escape(self.slots[position].label)}.</p>", "html")
            out.write(_serialize(category))
            with open(self.slot_path(position), encoding="utf-8") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), ""):
                    out.write(chunk)
        out.write("</quiz>\n")
        out.close()


class MoodleFormat(Format):
    name = "moodle"
    description = "moodle.xml: a question category per exam slot, every variant a question"

    def render(self, sheet, documents) -> Rendered:
        return Rendered(data=slot_questions(sheet, documents, MODE))

    def collector(self, build, staging):
        return _MoodleCollector(build, staging)
