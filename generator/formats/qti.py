"""QTI 1.2 (Canvas and other LMSs): one zip per build (qti.zip), one quiz per variant.

Canvas's classic quizzes grade one number per question (`numerical_question`: one blank)
and one choice per question (`multiple_choice_question`), and draw each question group
on its own: no question type holds several numbers, and nothing draws one variant for
several linked questions.  So every field of a slot (a number, an entry of a vector or
matrix, a choice) is its own item, and every variant its own assessment (a Canvas quiz):
a student given one quiz answers every part of one variant, never parts of two.  The
items are plain QTI 1.2 (one response each, standard response processing and feedback),
so the package suits any LMS that imports QTI 1.2; Canvas's fields ride in qtimetadata.

The zip holds `imsmanifest.xml` (IMS Content Packaging 1.1) and `assessments/VARIANT.xml`
per variant: its assessment (Canvas: a graded quiz, one attempt) with a section per exam
slot (title: the slot's label) holding the slot's items in field order
(quizref.slot_fields).  An item's text is the slot's heading, the slot's data with the
part that asks for this field (the whole question when the slot has no parts), the
field's label and the item's reference ("Ref. TAG/VARIANT/SLOT/FIELD", which Canvas's
Student Analysis shows and `wsgen grade --canvas` reads); the mathematics is MathML made
at build time.  A number is the value with its tolerance range; a choice lists the
options, lettered, with the correct one.  Points: each item its field's exact share of
the slot's points in hundredths, rounded so that a slot's items sum to its points exactly.

Feedback: the first item of a slot carries the worked key (Canvas: its general comments),
the others point to it; a number's wrong-answer comment lists the declared mistakes that
give a wrong value there, with the value each gives (Canvas keeps comments of a numerical
question only on its correct answers, so they cannot be told apart by value); each wrong
option of a choice carries the note of the mistake (or engine slip) behind it (Canvas:
the answer's comments).  The exam's `quiz_shuffle` sets the choices' `shuffle`.

Deterministic bytes: entries in a fixed order, a fixed date and permissions; the variants'
files are written to the zip as the sheets arrive, the manifest last.  As in moodle.py,
the canonical sheet is left out when the build has random variants.
"""
from __future__ import annotations

import hashlib
import re
import zipfile
from fractions import Fraction

from lxml import etree

from . import Format, Rendered
from .htmlmarkup import html_math, text_html
from .quiz import (Field, answer_fields, field_label_html, included, letters, number_text,
                   slot_questions)
from .quizref import FieldKey, answer_whole_shares, build_tag, reference

__all__ = ["QtiFormat", "QTI_NS", "CP_NS", "ZIP_NAME", "assessment_path", "item_element",
           "item_points"]

MODE = "mathml"
ZIP_NAME = "qti.zip"
QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
RESPONSE = "response1"
CENT = Fraction(1, 100)


def _ident(*parts: str) -> str:
    """An XML-safe identifier (letters, digits, _ - .) that stays unique: a short hash of
    the raw parts is appended."""
    raw = "\0".join(parts)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(parts)).strip("_")[:48]
    return f"i{safe}_{hashlib.sha256(raw.encode('utf-8')).hexdigest()[:8]}"


def _sub(parent, tag: str, text: str | None = None, **attrs):
    element = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _material(parent, html: str):
    material = _sub(parent, "material")
    _sub(material, "mattext", html, texttype="text/html")
    return material


def _metadata(parent, fields: dict[str, str]):
    meta = _sub(parent, "qtimetadata")
    for label, entry in fields.items():
        field = _sub(meta, "qtimetadatafield")
        _sub(field, "fieldlabel", label)
        _sub(field, "fieldentry", entry)
    return meta


def _feedback(item, ident: str, html: str):
    _material(_sub(_sub(item, "itemfeedback", ident=ident), "flow_mat"), html)


def _show(parent, ident: str, condition=None, continue_: str = "Yes"):
    """A response condition that shows a feedback: `condition` (an element to copy into
    the conditionvar) or always."""
    rule = _sub(parent, "respcondition", continue_=continue_)
    test = _sub(rule, "conditionvar")
    if condition is None:
        _sub(test, "other")
    else:
        test.append(condition)
    _sub(rule, "displayfeedback", feedbacktype="Response", linkrefid=ident)


def item_points(fields: list[Field], points: int) -> list[str]:
    """Each field's points, in hundredths summing to the slot's points exactly."""
    keys = [FieldKey(f.answer, f.entry, f.kind) for f in fields]
    cents = answer_whole_shares(keys, [f.points for f in fields], points, CENT)
    return [number_text(c / 100) if c % 100 else str(c // 100) for c in cents]


def _decimal_tex(value: float) -> str:
    """A value to 6 significant digits as TeX (1.5 \\times 10^{-7} for a tiny one)."""
    text = f"{value:.6g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


def _wrong_values_html(slot, field: Field) -> str:
    lines = []
    for wrong in field.wrong:
        value = html_math(_decimal_tex(wrong.value), False, MODE)
        for mistake in wrong.mistakes:
            note = slot.note(mistake)
            if note:
                lines.append(f"<li>{note} (it gives {value})</li>")
    if not lines:
        return ""
    return ("<div><p>Declared mistakes that give a wrong value here:</p><ul>"
            + "".join(lines) + "</ul></div>")


def item_element(tag: str, variant_id: str, slot, field: Field, count: int, points: str,
                 shuffle: bool = False):
    """One field of one slot of one variant as a QTI 1.2 item with one response."""
    number = field.kind == "number"
    entry = f" ({field.entry})" if field.entry else ""
    item = etree.Element("item", ident=_ident(variant_id, slot.label, str(field.number)),
                         title=f"{slot.label} {field.part} {field.answer}{entry} — {variant_id}"
                         .replace("  ", " "))
    meta = {"question_type": "numerical_question" if number else "multiple_choice_question",
            "points_possible": points, "wsgen_variant": variant_id}
    _metadata(_sub(item, "itemmetadata"), meta)
    presentation = _sub(item, "presentation")
    heading = (f"<p><strong>{text_html(slot.label)}. {text_html(slot.title)}</strong>"
               + (f" — answer {field.number} of {count}" if count > 1 else "") + "</p>\n")
    ask = f"<p><strong>Your answer:</strong> {field_label_html(field, MODE)}</p>\n"
    ref = (f'<p class="wsgen-ref"><small>{reference(tag, variant_id, slot.position + 1, field.number)}'
           "</small></p>\n")
    _material(presentation, heading + slot.text_of_part(field.part) + ask + ref)
    if number:
        response = _sub(presentation, "response_str", ident=RESPONSE, rcardinality="Single")
        _sub(_sub(response, "render_fib", fibtype="Decimal"), "response_label", ident=f"{RESPONSE}_blank")
    else:
        response = _sub(presentation, "response_lid", ident=RESPONSE, rcardinality="Single")
        render = _sub(response, "render_choice", shuffle="Yes" if shuffle else "No")
        for letter, option in zip(letters(len(field.options)), field.options):
            label = _sub(render, "response_label", ident=f"{RESPONSE}_{letter}")
            _material(label, f'<span class="letter">{letter}.</span> {option}')
    processing = _sub(item, "resprocessing")
    outcomes = _sub(processing, "outcomes")
    _sub(outcomes, "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    _show(processing, "general_fb")
    right = _sub(processing, "respcondition", continue_="No")
    test = _sub(right, "conditionvar")
    if number:
        either = _sub(test, "or")
        _sub(either, "varequal", number_text(field.value), respident=RESPONSE)
        both = _sub(either, "and")
        _sub(both, "vargte", number_text(field.value - field.tolerance), respident=RESPONSE)
        _sub(both, "varlte", number_text(field.value + field.tolerance), respident=RESPONSE)
    else:
        _sub(test, "varequal", f"{RESPONSE}_{letters(len(field.options))[field.value]}",
             respident=RESPONSE)
    _sub(right, "setvar", "100", action="Set", varname="SCORE")
    notes = {}
    if number:
        wrong = _wrong_values_html(slot, field)
        if wrong:
            _show(processing, "general_incorrect_fb")
            notes["general_incorrect_fb"] = wrong
    else:
        for i, letter in enumerate(letters(len(field.options))):
            note = "<br>".join(n for n in (slot.note(m) for m in field.option_mistakes[i]) if n)
            if i == field.value or not note:
                continue
            ident = f"{RESPONSE}_{letter}_fb"
            chosen = etree.Element("varequal", respident=RESPONSE)
            chosen.text = f"{RESPONSE}_{letter}"
            _show(processing, ident, chosen)
            notes[ident] = f"<div>{note}</div>"
    if field.number == 1:
        _feedback(item, "general_fb", slot.feedback)
    else:
        _feedback(item, "general_fb", f"<p>The worked solution of {text_html(slot.label)} is "
                                      "with its first answer.</p>")
    for ident, html in notes.items():
        _feedback(item, ident, html)
    return item


def assessment_path(variant_id: str) -> str:
    return f"assessments/{variant_id}.xml"


def _serialize(element) -> bytes:
    return etree.tostring(element, encoding="utf-8", pretty_print=True)


def manifest(identifier: str, variants: list[str]) -> bytes:
    nsmap = {None: CP_NS, "xsi": XSI}
    root = etree.Element(f"{{{CP_NS}}}manifest", nsmap=nsmap, identifier=identifier)
    root.set(f"{{{XSI}}}schemaLocation", f"{CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd")
    meta = etree.SubElement(root, f"{{{CP_NS}}}metadata")
    etree.SubElement(meta, f"{{{CP_NS}}}schema").text = "IMS Content"
    etree.SubElement(meta, f"{{{CP_NS}}}schemaversion").text = "1.1.3"
    etree.SubElement(root, f"{{{CP_NS}}}organizations")
    resources = etree.SubElement(root, f"{{{CP_NS}}}resources")
    for variant_id in variants:
        href = assessment_path(variant_id)
        resource = etree.SubElement(resources, f"{{{CP_NS}}}resource",
                                    identifier=_ident(identifier, variant_id),
                                    type="imsqti_xmlv1p2", href=href)
        etree.SubElement(resource, f"{{{CP_NS}}}file", href=href)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def _zip_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    return info


class _QtiCollector:
    """Each sheet's assessment is written to the zip as it arrives (memory stays flat)."""

    def __init__(self, build, staging):
        self.exam, self.staging = build.exam, staging
        self.tag = build_tag(build.exam.build_id)
        self.path = staging.scratch("qti") / ZIP_NAME
        self.archive = zipfile.ZipFile(self.path, "w")
        self.variants: list[str] = []
        self.pending_canonical = None

    def _assessment(self, variant_id: str, slots, record) -> None:
        exam = self.exam
        with self.archive.open(_zip_entry(assessment_path(variant_id)), "w") as handle:
            handle.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
            handle.write(f'<questestinterop xmlns="{QTI_NS}" xmlns:xsi="{XSI}" xsi:schemaLocation='
                         f'"{QTI_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd">\n'.encode())
            head = etree.Element("assessment", ident=_ident(exam.exam_id, variant_id),
                                 title=f"{exam.title} — {variant_id}")
            _metadata(head, {"cc_maxattempts": "1", "qmd_assessmenttype": "Examination"})
            text = _serialize(head).decode("utf-8")              # its metadata, left open
            handle.write(text[:text.rindex("</assessment>")].encode("utf-8"))
            handle.write(b'<section ident="root_section">\n')
            for slot, problem in zip(slots, record["problems"]):
                fields = answer_fields(problem, slot)
                section = etree.Element("section", ident=_ident(exam.exam_id, variant_id, slot.label),
                                        title=slot.label)
                for field, points in zip(fields, item_points(fields, slot.points)):
                    section.append(item_element(self.tag, variant_id, slot, field, len(fields),
                                                points, exam.quiz_shuffle))
                handle.write(_serialize(section))
            handle.write(b"</section>\n</assessment>\n</questestinterop>\n")
        self.variants.append(variant_id)

    def add(self, summary, data) -> None:
        if summary.index == 0:
            self.pending_canonical = (summary, data)      # kept only if it stays alone
            return
        self._assessment(summary.variant_id, data, summary.record)

    def finish(self) -> None:
        if not self.variants and self.pending_canonical is not None:
            summary, data = self.pending_canonical
            if included(summary, 1):
                self._assessment(summary.variant_id, data, summary.record)
        with self.archive.open(_zip_entry("imsmanifest.xml"), "w") as entry:
            entry.write(manifest(_ident(self.exam.exam_id, "manifest"), self.variants))
        self.archive.close()
        self.staging.write(ZIP_NAME, self.path.read_bytes())


class QtiFormat(Format):
    name = "qti"
    description = "qti.zip: QTI 1.2 (Canvas and others), a quiz per variant, an item per answer field"

    def render(self, sheet, documents) -> Rendered:
        return Rendered(data=slot_questions(sheet, documents, MODE, per_part=True))

    def collector(self, build, staging):
        return _QtiCollector(build, staging)

    def selftest(self, sheet, documents) -> None:
        """As the HTML format's: the mathematics stays TeX (MathML is made by the build)."""
        slot_questions(sheet, documents, "tex", per_part=True)
