"""Write LMS exports of made-up quiz attempts on a build: the fixtures of tests/test_lms.py.

    python scripts/lms_exports.py BUILD OUT [--students N]

BUILD is a `wsgen build` folder with answers.json, moodle.xml and qti.zip.  OUT receives

* moodle-responses.csv: Moodle's quiz Responses report (Question text, Response and
  Right answer ticked) of N attempts, in the layout mod/quiz/report/responses writes;
* canvas-VARIANT.csv: per variant quiz, Canvas's Student Analysis report of the students
  given that quiz, in the layout Quizzes::QuizStatistics::StudentAnalysis#to_csv writes.

The layouts are described in generator/grading/lms.py, which reads them.  Student k draws,
in Moodle, slot p of variant (k + p) mod V (each slot on its own, as a random question
does), and in Canvas the quiz of variant k mod V.  Their answers follow a pattern by k:

    k mod 4 = 0   "right":   every field right (the value answers.json gives, the letter
                             of the correct option)
    k mod 4 = 1   "mistake": each answer as the first declared mistake that changes it
                             gives it (every entry), else right
    k mod 4 = 2   "blank":   nothing answered
    k mod 4 = 3   "typo":    numbers "1,5e" and choices "Z"

`attempts()` returns, for each student, what was answered (the test's expectations come
from answers.json in the same way, not from the files written).  Nothing of wsgen is
imported: the script reads the build's files as an LMS would show them.
"""
from __future__ import annotations

import argparse
import csv
import html
import io
import json
import re
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

PATTERNS = ("right", "mistake", "blank", "typo")
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
LETTERS = "ABCDEFGHIJ"
CLOZE = re.compile(r"\{[0-9]*:(NUMERICAL|MULTICHOICE(?:_S)?):([^}]*)\}")


def _flat(value) -> list:
    if isinstance(value, list):
        return [x for item in value for x in _flat(item)]
    return [value]


def fields(problem: dict) -> list[tuple[str, int, str]]:
    """(answer name, entry position, kind) of every field of a slot, in answers.json order."""
    out = []
    for name, answer in problem["answers"].items():
        if answer["kind"] == "formula":                # not asked in a quiz
            continue
        if answer["kind"] == "choice":
            out.append((name, 0, "choice"))
        else:
            out += [(name, i, "number") for i in range(len(_flat(answer["value"])))]
    return out


def number_text(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def mistakes_used(problem: dict) -> dict[str, tuple[str, dict]]:
    """For each answer of a slot, the first declared mistake that changes it: answer name ->
    (mistake id, {"letter": …} for a choice or {"values": [...]} for a number)."""
    chosen: dict[str, tuple[str, dict]] = {}
    for name, answer in problem["answers"].items():
        for mistake in problem["mistakes"]:
            given = mistake["answers"].get(name)
            if given is None:
                continue
            if answer["kind"] == "choice":
                letter = given.get("option") if "option" in given else given.get("exact")
                if letter and letter != answer["exact"]:
                    chosen[name] = (mistake["id"], {"letter": letter})
                    break
            elif _flat(given["value"]) != _flat(answer["value"]):
                chosen[name] = (mistake["id"], {"values": _flat(given["value"])})
                break
    return chosen


def _answer_text(problem: dict, pattern: str) -> list[str]:
    """What a student of `pattern` gives in each field of a slot ("" for none; a choice as
    its letter)."""
    out = []
    chosen = {name: given for name, (_, given) in mistakes_used(problem).items()} \
        if pattern == "mistake" else {}
    for name, entry, kind in fields(problem):
        answer = problem["answers"][name]
        if pattern == "blank":
            out.append("")
        elif pattern == "typo":
            out.append("Z" if kind == "choice" else "1,5e")
        elif kind == "choice":
            out.append(chosen.get(name, {}).get("letter", answer["exact"]))
        else:
            values = chosen.get(name, {}).get("values", _flat(answer["value"]))
            out.append(number_text(values[entry]))
    return out


def attempts(data: dict, students: int) -> list[dict]:
    """Each made-up student: name, pattern, Moodle's variant per slot, Canvas's variant,
    and the texts given per (variant, slot position)."""
    variants = [v for v in data["variants"] if v["variant"] != "canonical"] or data["variants"]
    out = []
    for k in range(students):
        pattern = PATTERNS[k % len(PATTERNS)]
        moodle = [variants[(k + p) % len(variants)]["variant"]
                  for p in range(len(variants[0]["problems"]))]
        canvas = variants[k % len(variants)]["variant"]
        out.append({"name": f"Student{k + 1:02d} Test", "id": str(1000 + k), "pattern": pattern,
                    "moodle": moodle, "canvas": canvas})
    return out


def _record(data: dict, variant: str) -> dict:
    return next(v for v in data["variants"] if v["variant"] == variant)


def _plain(fragment: str) -> str:
    """HTML as the text an LMS shows in a report: tags dropped, entities decoded, spaces
    collapsed (Moodle's html_to_text, Rails' strip_tags, near enough)."""
    text = re.sub(r"<[^>]+>", " ", fragment)
    return " ".join(html.unescape(text).split())


# --- Moodle -------------------------------------------------------------------------------
def _moodle_questions(build: Path) -> dict[str, ElementTree.Element]:
    root = ElementTree.parse(build / "moodle.xml").getroot()
    return {q.findtext("idnumber"): q for q in root.findall("question")
            if q.get("type") != "category"}


def _moodle_summary(question) -> str:
    """question_attempt's questionsummary: the text, each cloze field "_____" or its
    choices "{A; B; C}" (qtype_multianswer_question::get_question_summary)."""
    def field(match):
        if match.group(1) == "NUMERICAL":
            return "_____"
        options = [a.split("#")[0].lstrip("=") for a in match.group(2).split("~")]
        return "{" + "; ".join(options) + "}"
    return _plain(CLOZE.sub(field, question.findtext("questiontext/text")))


def _moodle_response(question, texts: list[str]) -> str:
    if question.get("type") == "cloze":
        return "; ".join(f"part {i}: {t}" for i, t in enumerate(texts, start=1))
    text = texts[0]
    if not text:
        return "-"
    if question.get("type") == "multichoice" and text in LETTERS:
        answer = question.findall("answer")[LETTERS.index(text)]
        return _plain(answer.findtext("text"))
    return text


def moodle_export(build: Path, data: dict, students: list[dict]) -> str:
    questions = _moodle_questions(build)
    labels = [p["label"] for p in data["variants"][-1]["problems"]]
    header = ["Last name", "First name", "Email address", "State", "Started on", "Completed",
              "Time taken", "Grade/100.00"]
    for n in range(1, len(labels) + 1):
        header += [f"Question {n}", f"Response {n}", f"Right answer {n}"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for student in students:
        first, last = student["name"].split(" ", 1)
        row = [last, first, f"s{student['id']}@example.org", "Finished",
               "1 December 2026  9:00 AM", "1 December 2026  10:00 AM", "1 hour", "0.00"]
        for position, (label, variant) in enumerate(zip(labels, student["moodle"])):
            question = questions[f"{variant}-{label}"[:100]]
            problem = _record(data, variant)["problems"][position]
            texts = _answer_text(problem, student["pattern"])
            right = _answer_text(problem, "right")
            row += [_moodle_summary(question), _moodle_response(question, texts),
                    _moodle_response(question, right)]
        writer.writerow(row)
    return buffer.getvalue()


# --- Canvas -------------------------------------------------------------------------------
def _canvas_items(build: Path, variant: str) -> list[ElementTree.Element]:
    with zipfile.ZipFile(build / "qti.zip") as archive:
        root = ElementTree.fromstring(archive.read(f"assessments/{variant}.xml"))
    return list(root.iter(f"{QTI}item"))


def _points(item) -> str:
    for meta in item.iter(f"{QTI}qtimetadatafield"):
        if meta.findtext(f"{QTI}fieldlabel") == "points_possible":
            return meta.findtext(f"{QTI}fieldentry")
    return "1"


def canvas_export(build: Path, data: dict, variant: str, students: list[dict]) -> str:
    items = _canvas_items(build, variant)
    record = _record(data, variant)
    header = ["name", "id", "sis_id", "section", "section_id", "section_sis_id", "submitted",
              "attempt"]
    for k, item in enumerate(items):
        text = item.find(f"{QTI}presentation/{QTI}material/{QTI}mattext").text
        header += [f"{7000 + k}: {_plain(text)}", _points(item)]
    header += ["n correct", "n incorrect", "score"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for student in students:
        row = [student["name"], student["id"], f"S{student['id']}", "Section 1", "1", "",
               "2026-12-01 10:00:00 UTC", "1"]
        texts = [t for problem in record["problems"]
                 for t in _answer_text(problem, student["pattern"])]
        for item, text in zip(items, texts):
            labels = item.findall(f".//{QTI}response_label")
            if item.find(f".//{QTI}response_lid") is not None and text in LETTERS[:len(labels)] \
                    and len(text) == 1:
                text = _plain(labels[LETTERS.index(text)].find(f".//{QTI}mattext").text)
            row += [text, "0"]
        row += ["0", str(len(items)), "0"]
        writer.writerow(row)
    return buffer.getvalue()


def write_exports(build: Path, out: Path, students: int = 8) -> list[dict]:
    """Write the exports of `students` made-up students; returns `attempts()`."""
    data = json.loads((Path(build) / "answers.json").read_text(encoding="utf-8"))
    people = attempts(data, students)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (Path(build) / "moodle.xml").exists():
        (out / "moodle-responses.csv").write_text(moodle_export(Path(build), data, people),
                                                  encoding="utf-8")
    if (Path(build) / "qti.zip").exists():
        for variant in dict.fromkeys(p["canvas"] for p in people):
            mine = [p for p in people if p["canvas"] == variant]
            (out / f"canvas-{variant}.csv").write_text(
                canvas_export(Path(build), data, variant, mine), encoding="utf-8")
    return people


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--students", type=int, default=8)
    args = parser.parse_args(argv)
    people = write_exports(args.build, args.out, args.students)
    for person in people:
        print(f"{person['name']}: {person['pattern']}; Moodle {'+'.join(person['moodle'])}; "
              f"Canvas {person['canvas']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
