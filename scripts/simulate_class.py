"""Write the responses of a simulated class on a build: named behaviours, one paper each.

    python scripts/simulate_class.py ANSWERS_JSON OUT_CSV [--behaviours a,b,…] [--papers N]

Each paper is a variant of answers.json (papers take the variants in turn) answered in one
way (BEHAVIOURS):

    exact          every number as its exact string (11/50, 1/(1 + exp(-1/2)); the float's
                   17 digits when the string is longer than a response may be), every
                   choice its correct letter, every formula as the key writes it (as in
                   every behaviour but garbage and blanks)
    sig4, sig3     every number rounded to 4 (3) significant digits (0.2143, 0.214)
    mistake        one paper per declared mistake of each slot: the answers the mistake
                   changes as it gives them (to 4 significant digits; a choice the option
                   it leads to; a formula the mistaken formula), every other answer exact
    lenient        4 significant digits written loosely: ≈0.2143, 0.2143 (approx),
                   2.143×10⁻¹, in turn
    decimal_comma  4 significant digits with a decimal comma (0,2143)
    garbage        every response unreadable ("n/a", "?", "2x+1", in turn)
    blanks         every other answer left blank (an empty response), the rest exact
    slip           one early slip carried forward (matrix_backprop: Wx off, the rest worked
                   on right from it)

The default class is every behaviour once, "mistake" expanded; `--papers N` repeats the
list until N papers.  A behaviour is a function (variant record, paper index) -> the paper's
rows (label, answer, entry, response); add one to BEHAVIOURS (and MULTI when it writes
several papers) to simulate another kind of student.  `papers()` returns, for each paper,
its student name, variant and behaviour: the expected scores come from answers.json and
the behaviour, never from the file written.  Nothing of wsgen is imported.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Callable, Iterator

Row = tuple[str, str, str, str]          # label, answer, entry, response


def numbered(exact, value) -> Iterator[tuple[str, str, float]]:
    """(entry, exact, value) as answers.csv numbers them: "", "i" or "i,j", 1-based."""
    if isinstance(exact, list) and exact and isinstance(exact[0], list):
        for i, (row, vrow) in enumerate(zip(exact, value), 1):
            for j, (e, v) in enumerate(zip(row, vrow), 1):
                yield f"{i},{j}", e, v
    elif isinstance(exact, list):
        for i, (e, v) in enumerate(zip(exact, value), 1):
            yield str(i), e, v
    else:
        yield "", exact, value


def significant(value: float, digits: int) -> str:
    """A decimal as a student rounds it: `digits` significant digits (1.83, 0.00214, 2.14e-05)."""
    return f"{value:.{digits}g}"


def _each_answer(variant: dict, write: Callable[[dict, str, dict, int], Iterator[Row]]) -> list[Row]:
    rows: list[Row] = []
    k = 0
    for problem in variant["problems"]:
        for name, answer in problem["answers"].items():
            rows += list(write(problem, name, answer, k))
            k += 1
    return rows


#: The longest response wsgen grade reads (grading/parse.py MAX_LENGTH).
LONGEST = 200


def _exact(problem, name, answer, _k) -> Iterator[Row]:
    if answer["kind"] in ("choice", "formula"):
        yield problem["label"], name, "", answer["exact"]
        return
    for entry, exact, value in numbered(answer["exact"], answer["value"]):
        yield problem["label"], name, entry, exact if len(exact) <= LONGEST else repr(value)


def _rounded(digits: int, dress: Callable[[str, int], str] = lambda text, k: text):
    def write(problem, name, answer, k) -> Iterator[Row]:
        if answer["kind"] in ("choice", "formula"):
            yield problem["label"], name, "", answer["exact"]
            return
        for i, (entry, _, value) in enumerate(numbered(answer["exact"], answer["value"])):
            yield problem["label"], name, entry, dress(significant(value, digits), k + i)
    return write


def _loosely(text: str, k: int) -> str:
    if k % 3 == 0:
        return "≈" + text
    if k % 3 == 1:
        return text + " (approx)"
    mantissa, _, exponent = f"{float(text):.3e}".partition("e")
    power = str(int(exponent)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{mantissa}×10{power}"


def exact(variant: dict, index: int) -> list[Row]:
    return _each_answer(variant, _exact)


def sig4(variant: dict, index: int) -> list[Row]:
    return _each_answer(variant, _rounded(4))


def sig3(variant: dict, index: int) -> list[Row]:
    return _each_answer(variant, _rounded(3))


def lenient(variant: dict, index: int) -> list[Row]:
    return _each_answer(variant, _rounded(4, _loosely))


def decimal_comma(variant: dict, index: int) -> list[Row]:
    return _each_answer(variant, _rounded(4, lambda text, k: text.replace(".", ",")))


def garbage(variant: dict, index: int) -> list[Row]:
    junk = ("n/a", "?", "2x+1")

    def write(problem, name, answer, k):
        entries = [("", None, None)] if answer["kind"] in ("choice", "formula") else \
            list(numbered(answer["exact"], answer["value"]))
        for i, (entry, _, _) in enumerate(entries):
            yield problem["label"], name, entry, junk[(k + i) % len(junk)]
    return _each_answer(variant, write)


def blanks(variant: dict, index: int) -> list[Row]:
    def write(problem, name, answer, k):
        for label, nm, entry, text in _exact(problem, name, answer, k):
            yield label, nm, entry, "" if k % 2 == 0 else text
    return _each_answer(variant, write)


def mistake_answers(problem: dict, mistake: dict) -> dict[str, list[tuple[str, str]]]:
    """The answers a declared mistake changes, as a student who makes it writes them:
    name -> [(entry, response)] (4 significant digits; a choice: its option's letter,
    skipped when no option shows the mistake)."""
    out = {}
    for name, record in mistake["answers"].items():
        answer = problem["answers"][name]
        if answer["kind"] == "choice":
            chosen = record.get("option") if "option" in record else record.get("exact")
            if chosen is not None:
                out[name] = [("", chosen)]
            continue
        if answer["kind"] == "formula":
            out[name] = [("", record["exact"])]
            continue
        out[name] = [(entry, significant(v, 4)) for entry, _, v in numbered(record["exact"], record["value"])]
    return out


def mistakes(variant: dict, index: int) -> Iterator[tuple[str, list[Row]]]:
    """One paper per declared mistake of each slot: (the mistake, its rows)."""
    for problem in variant["problems"]:
        for mistake in problem.get("mistakes", []):
            changed = mistake_answers(problem, mistake)
            rows = []
            for label, name, entry, text in exact(variant, index):
                if label == problem["label"] and name in changed:
                    continue
                rows.append((label, name, entry, text))
            for name, given in changed.items():
                rows += [(problem["label"], name, entry, text) for entry, text in given]
            yield f"{problem['label']}/{mistake['id']}", rows


def slip(variant: dict, index: int) -> list[Row]:
    """One early slip carried forward: in each matrix_backprop slot, Wx's first entry off by
    0.1 and L = Σ (Wx)ᵢ², ∂L/∂W = 2 (Wx) xᵀ and ∂L/∂x = 2 Wᵀ(Wx) worked on right from it
    (computed here from the slot's W and x, to 6 significant digits); every other answer
    exact."""
    rows = exact(variant, index)
    for problem in variant["problems"]:
        if problem["problem"] != "matrix_backprop":
            continue
        W, x = problem["params"]["W"], problem["params"]["x"]
        wx = [sum(w * v for w, v in zip(row, x)) for row in W]
        wx[0] += 0.1
        worked = {"Wx": {str(i + 1): v for i, v in enumerate(wx)},
                  "L": {"": sum(v * v for v in wx)},
                  "dL_dW": {f"{i + 1},{j + 1}": 2 * a * b for i, a in enumerate(wx)
                            for j, b in enumerate(x)},
                  "dL_dx": {str(j + 1): 2 * sum(W[i][j] * wx[i] for i in range(len(wx)))
                            for j in range(len(x))}}
        rows = [(label, name, entry, significant(worked[name][entry], 6)
                 if label == problem["label"] and name in worked else text)
                for label, name, entry, text in rows]
    return rows


BEHAVIOURS: dict[str, Callable] = {"exact": exact, "sig4": sig4, "sig3": sig3,
                                   "mistake": mistakes, "lenient": lenient,
                                   "decimal_comma": decimal_comma, "garbage": garbage,
                                   "blanks": blanks, "slip": slip}
#: Behaviours that write several papers: (a tag, rows) each.
MULTI = {"mistake"}


def papers(manifest: dict, behaviours: list[str] | None = None,
           count: int | None = None) -> list[dict]:
    """The simulated class: [{"student", "variant", "behaviour", "tag", "rows"}]."""
    names = behaviours or list(BEHAVIOURS)
    unknown = [n for n in names if n not in BEHAVIOURS]
    if unknown:
        raise ValueError(f"unknown behaviour {unknown[0]!r} (known: {', '.join(BEHAVIOURS)})")
    if not names or not manifest.get("variants"):
        return []
    variants = manifest["variants"]
    out: list[dict] = []
    while True:
        for name in names:
            variant = variants[len(out) % len(variants)]
            made = BEHAVIOURS[name](variant, len(out))
            for tag, rows in (made if name in MULTI else [("", made)]):
                student = f"s{len(out) + 1:03d}-{name}" + (f"-{tag}".replace("/", "-") if tag else "")
                out.append({"student": student, "variant": variant["variant"], "behaviour": name,
                            "tag": tag, "rows": rows})
                if count is not None and len(out) >= count:
                    return out
        if count is None:
            return out


def write_csv(path: Path, class_papers: list[dict], build: str = "") -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["variant", "student", "label", "answer", "entry", "response", "build"])
        for paper in class_papers:
            for label, name, entry, text in paper["rows"]:
                writer.writerow([paper["variant"], paper["student"], label, name, entry, text, build])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--behaviours", help="comma-separated, from: " + ", ".join(BEHAVIOURS))
    parser.add_argument("--papers", type=int)
    args = parser.parse_args(argv)
    manifest = json.loads(args.answers.read_text(encoding="utf-8"))
    try:
        class_papers = papers(manifest, args.behaviours.split(",") if args.behaviours else None,
                              args.papers)
    except ValueError as exc:
        parser.error(str(exc))
    write_csv(args.out, class_papers, str(manifest.get("build") or ""))
    rows = sum(len(p["rows"]) for p in class_papers)
    print(f"{args.out}: {len(class_papers)} papers, {rows} response rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
