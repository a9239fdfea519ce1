"""Moodle XML: one moodle.xml per build, one question category per exam slot.

Each category holds every variant of its slot as a question, so that a Moodle quiz
draws "a random question from the category" for each student.  A slot whose only
answer is one number becomes a numerical question, one whose only answer is one
choice a multichoice question; any other slot a cloze (embedded answers) question
with one NUMERICAL field per number (a vector or matrix: per entry) and a
MULTICHOICE field per choice, each number with its tolerance.  The worked key is the
question's general feedback; the mathematics is TeX in \\( … \\) and \\[ … \\],
which Moodle's MathJax filter renders.

The canonical sheet is left out when the build has random variants (its numbers are
the published original).  The questions are written to one scratch file per slot as
the sheets arrive and joined in finish(): memory does not grow with the variants.
"""
from __future__ import annotations

from lxml import etree

from . import Format, Rendered
from .htmlmarkup import html_escape, inert, isolated, text_html
from .quiz import (Field, SlotCollector, answer_fields, field_label_html, letters, number_text,
                   slot_questions, width_text)

__all__ = ["MoodleFormat", "category_path", "cloze_number", "cloze_choice"]

MODE = "tex"


def _text(parent, tag: str, text: str, format: str | None = None):
    element = etree.SubElement(parent, tag)
    if format:
        element.set("format", format)
    etree.SubElement(element, "text").text = text
    return element


def category_path(exam_title: str, label: str) -> str:
    """A category under the course's top category; "/" in a name is written "//"."""
    def name(part: str) -> str:
        return " ".join(part.split()).replace("/", "//")
    return f"$course$/top/{name(exam_title)}/{name(label)}"


def cloze_number(field: Field, weight: int) -> str:
    return f"{{{weight}:NUMERICAL:={number_text(field.value)}:{width_text(field.tolerance)}}}"


def cloze_choice(field: Field, weight: int) -> str:
    options = [("=" if i == field.value else "") + letter
               for i, letter in enumerate(letters(len(field.options)))]
    return f"{{{weight}:MULTICHOICE:{'~'.join(options)}}}"


def _weights(fields: list[Field]) -> list[int]:
    """Cloze weights are integers: the fields' shares on a common scale."""
    from fractions import Fraction
    shares = [Fraction(f.weight).limit_denominator(1000) for f in fields]
    scale = 1
    for share in shares:
        scale = scale * share.denominator // __import__("math").gcd(scale, share.denominator)
    weights = [max(1, int(share * scale)) for share in shares]
    if max(weights) > 100:                     # keep them readable: round to percentages
        weights = [max(1, round(100 * f.weight)) for f in fields]
    divisor = __import__("math").gcd(*weights)
    return [w // divisor for w in weights]


def user_html(text: str) -> str:
    """User text (a slot label) inside a question's HTML: escaped, with braces and
    backslashes as character references so that Moodle's cloze parser finds no field in
    it, in a span that MathJax (versions 2 and 3) leaves alone; bidi formatting in it
    isolated (htmlmarkup.isolated)."""
    return isolated(text, lambda plain: inert(html_escape(plain)))


def _cloze_html(fields: list[Field]) -> str:
    weights = _weights(fields)
    items = []
    for field, weight in zip(fields, weights):
        blank = cloze_number(field, weight) if field.kind == "number" else cloze_choice(field, weight)
        items.append(f"<li>{field_label_html(field, MODE)} {blank}</li>")
    return '<p><strong>Your answers</strong></p>\n<ul class="answers">\n' + "\n".join(items) + "\n</ul>\n"


def question_element(exam, variant_id: str, slot, record: dict) -> etree._Element:
    """One slot of one variant as a Moodle question."""
    fields = answer_fields(record, slot)
    name = f"{slot.label} {slot.title} — {variant_id}"
    intro = f"<p><strong>{user_html(slot.label)}. {text_html(slot.title, MODE)}</strong></p>\n"
    if len(fields) == 1 and fields[0].kind == "number" and len(slot.answers) == 1:
        kind = "numerical"
    elif len(fields) == 1 and fields[0].kind == "choice":
        kind = "multichoice"
    else:
        kind = "cloze"
    question = etree.Element("question", type=kind)
    _text(question, "name", name)
    text = intro + slot.text
    if kind == "cloze":
        text += _cloze_html(fields)
    _text(question, "questiontext", text, "html")
    _text(question, "generalfeedback", slot.feedback, "html")
    etree.SubElement(question, "defaultgrade").text = str(slot.points)
    etree.SubElement(question, "penalty").text = "0"
    etree.SubElement(question, "hidden").text = "0"
    etree.SubElement(question, "idnumber").text = f"{variant_id}-{slot.label}"[:100]
    if kind == "numerical":
        field = fields[0]
        answer = etree.SubElement(question, "answer", fraction="100", format="moodle_auto_format")
        etree.SubElement(answer, "text").text = number_text(field.value)
        _text(answer, "feedback", "", "html")
        etree.SubElement(answer, "tolerance").text = width_text(field.tolerance)
    elif kind == "multichoice":
        field = fields[0]
        etree.SubElement(question, "single").text = "true"
        etree.SubElement(question, "shuffleanswers").text = "false"
        etree.SubElement(question, "answernumbering").text = "ABCD"
        for i, option in enumerate(field.options):
            answer = etree.SubElement(question, "answer", fraction="100" if i == field.value else "0",
                                      format="html")
            etree.SubElement(answer, "text").text = option
            _text(answer, "feedback", "", "html")
    return question


def _serialize(element) -> str:
    return etree.tostring(element, encoding="unicode", pretty_print=True)


class _MoodleCollector(SlotCollector):
    scratch_name = "moodle"

    def element(self, variant_id: str, slot, problem: dict) -> bytes:
        return _serialize(question_element(self.exam, variant_id, slot, problem)).encode("utf-8")

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
