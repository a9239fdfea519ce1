"""QTI 1.2 for Canvas: one zip per build (qti.zip), a question group per exam slot.

The zip holds `imsmanifest.xml` (IMS Content Packaging 1.1) and `qti.xml`, one QTI 1.2
assessment whose sections are the exam's slots; each section draws one item (its
`selection_ordering`, with Canvas's `points_per_item`), and holds every variant of the
slot as an item, the way R/exams' exams2canvas builds question groups.  The question
text is the slot's part of the question sheet, the worked key the item's general
feedback, the mathematics MathML made at build time.

Items: a slot whose only answer is one number is Canvas's `numerical_question` (one
blank, the value ± its tolerance), a slot whose only answer is one choice its
`multiple_choice_question`; any other slot is a QTI item with one numeric response per
number (a vector or matrix: per entry) with its tolerance range and one choice
response per choice, each adding its share of the score (Canvas's classic quizzes have
no question type with several numeric blanks: see the README).

Deterministic bytes: entries in a fixed order, a fixed date and permissions.  As in
moodle.py, the canonical sheet is left out when the build has random variants.
"""
from __future__ import annotations

import hashlib
import re
import zipfile

from lxml import etree

from . import Format, Rendered
from .htmlmarkup import text_html
from .quiz import SlotCollector, answer_fields, field_label_html, letters, number_text, slot_questions

__all__ = ["QtiFormat", "QTI_NS", "CP_NS", "ZIP_NAME"]

MODE = "mathml"
ZIP_NAME = "qti.zip"
QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


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


def _range(parent, respident: str, low: float, high: float):
    both = _sub(parent, "and")
    _sub(both, "vargte", number_text(low), respident=respident)
    _sub(both, "varlte", number_text(high), respident=respident)


def item_element(variant_id: str, slot, record: dict):
    """One slot of one variant as a QTI 1.2 item."""
    fields = answer_fields(record, slot)
    single = len(fields) == 1 and len(slot.answers) == 1
    kind = ("numerical_question" if single and fields[0].kind == "number" else
            "multiple_choice_question" if single and fields[0].kind == "choice" else "")
    item = etree.Element("item", ident=_ident(variant_id, slot.label),
                         title=f"{slot.label} {slot.title} — {variant_id}")
    meta = {"question_type": kind} if kind else {}
    meta.update(points_possible=str(slot.points), wsgen_variant=variant_id)
    _metadata(_sub(item, "itemmetadata"), meta)
    presentation = _sub(item, "presentation")
    intro = f"<p><strong>{text_html(slot.label)}. {text_html(slot.title)}</strong></p>\n"
    _material(presentation, intro + slot.text)
    conditions = []        # (respident, field, weight)
    for n, field in enumerate(fields, start=1):
        respident = "response1" if single else f"response{n}"
        if not single:
            _material(presentation, f"<p>{field_label_html(field, MODE)}</p>")
        if field.kind == "number":
            response = _sub(presentation, "response_str" if single else "response_num",
                            ident=respident, rcardinality="Single",
                            **({} if single else {"numtype": "Decimal"}))
            render = _sub(response, "render_fib", fibtype="Decimal")
            _sub(render, "response_label", ident=f"{respident}_blank")
        else:
            response = _sub(presentation, "response_lid", ident=respident, rcardinality="Single")
            render = _sub(response, "render_choice", shuffle="No")
            for letter, option in zip(letters(len(field.options)), field.options):
                label = _sub(render, "response_label",
                             ident=f"{respident}_{letter}")
                _material(label, f"<span class=\"letter\">{letter}.</span> {option}")
        conditions.append((respident, field))
    processing = _sub(item, "resprocessing")
    outcomes = _sub(processing, "outcomes")
    _sub(outcomes, "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    feedback = _sub(processing, "respcondition", continue_="Yes")
    _sub(_sub(feedback, "conditionvar"), "other")
    _sub(feedback, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    for respident, field in conditions:
        condition = _sub(processing, "respcondition", continue_="No" if single else "Yes")
        test = _sub(condition, "conditionvar")
        if field.kind == "number":
            either = _sub(test, "or")
            _sub(either, "varequal", number_text(field.value), respident=respident)
            _range(either, respident, field.value - field.tolerance, field.value + field.tolerance)
        else:
            _sub(test, "varequal", f"{respident}_{letters(len(field.options))[field.value]}",
                 respident=respident)
        score = "100" if single else number_text(round(100 * field.weight, 6))
        _sub(condition, "setvar", score, action="Set" if single else "Add", varname="SCORE")
    general = _sub(item, "itemfeedback", ident="general_fb")
    _material(_sub(general, "flow_mat"), slot.feedback)
    return item


def _serialize(element) -> bytes:
    return etree.tostring(element, encoding="utf-8", pretty_print=True)


def manifest(identifier: str) -> bytes:
    nsmap = {None: CP_NS, "xsi": XSI}
    root = etree.Element(f"{{{CP_NS}}}manifest", nsmap=nsmap, identifier=identifier)
    root.set(f"{{{XSI}}}schemaLocation", f"{CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd")
    meta = etree.SubElement(root, f"{{{CP_NS}}}metadata")
    etree.SubElement(meta, f"{{{CP_NS}}}schema").text = "IMS Content"
    etree.SubElement(meta, f"{{{CP_NS}}}schemaversion").text = "1.1.3"
    etree.SubElement(root, f"{{{CP_NS}}}organizations")
    resources = etree.SubElement(root, f"{{{CP_NS}}}resources")
    resource = etree.SubElement(resources, f"{{{CP_NS}}}resource", identifier=identifier + "_r",
                                type="imsqti_xmlv1p2", href="qti.xml")
    etree.SubElement(resource, f"{{{CP_NS}}}file", href="qti.xml")
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def _zip_entry(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    return info


class _QtiCollector(SlotCollector):
    scratch_name = "qti"

    def element(self, variant_id: str, slot, problem: dict) -> bytes:
        return _serialize(item_element(variant_id, slot, problem))

    def _assessment(self, handle) -> None:
        """qti.xml: the assessment, one section (question group) per slot, its items
        copied from the slot's scratch file."""
        exam = self.exam
        ident = _ident(exam.exam_id)
        handle.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        handle.write(f'<questestinterop xmlns="{QTI_NS}" xmlns:xsi="{XSI}" xsi:schemaLocation='
                     f'"{QTI_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd">\n'.encode())
        head = etree.Element("assessment", ident=ident, title=exam.title)
        _metadata(head, {"cc_maxattempts": "1"})
        text = _serialize(head).decode("utf-8")              # its metadata, left open
        handle.write(text[:text.rindex("</assessment>")].encode("utf-8"))
        root = etree.Element("section", ident="root_section")
        handle.write(_serialize(root).replace(b"/>", b">", 1))
        for position in sorted(self.files):
            label, points = self.slots[position].label, self.slots[position].points
            section = etree.Element("section", ident=_ident(exam.exam_id, "group", label),
                                    title=label)
            order = _sub(section, "selection_ordering")
            selection = _sub(order, "selection")
            _sub(selection, "selection_number", "1")
            extension = _sub(selection, "selection_extension")
            _sub(extension, "points_per_item", str(points))
            opened = _serialize(section).decode("utf-8")
            handle.write(opened[:opened.rindex("</section>")].encode("utf-8"))
            with open(self.slot_path(position), "rb") as items:
                for chunk in iter(lambda: items.read(1 << 20), b""):
                    handle.write(chunk)
            handle.write(b"</section>\n")
        handle.write(b"</section>\n</assessment>\n</questestinterop>\n")

    def finish(self) -> None:
        self.close_slots()
        path = self.scratch / ZIP_NAME
        with zipfile.ZipFile(path, "w") as archive:
            with archive.open(_zip_entry(archive, "imsmanifest.xml"), "w") as entry:
                entry.write(manifest(_ident(self.exam.exam_id, "manifest")))
            with archive.open(_zip_entry(archive, "qti.xml"), "w") as entry:
                self._assessment(entry)
        self.staging.write(ZIP_NAME, path.read_bytes())


class QtiFormat(Format):
    name = "qti"
    description = "qti.zip: QTI 1.2 for Canvas, a question group per exam slot"

    def render(self, sheet, documents) -> Rendered:
        return Rendered(data=slot_questions(sheet, documents, MODE))

    def collector(self, build, staging):
        return _QtiCollector(build, staging)

    def selftest(self, sheet, documents) -> None:
        """As the HTML format's: the mathematics stays TeX (MathML is made by the build)."""
        slot_questions(sheet, documents, "tex")
