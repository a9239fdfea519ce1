"""Item analysis of a graded class: which answers and slots worked.

For every item (an answer of a slot, and each slot as a whole), over the papers that have it:

* facility — the mean score share, points / max points (1: everyone right);
* discrimination, two ways:
  - upper-lower: the facility in the upper 27 % of the class minus the facility in the
    lower 27 %, the class ranked by total points (Kelley's groups; ties keep the papers'
    order in grades.csv; a group is round(0.27 n) papers, at least 1);
  - point-biserial: Pearson's correlation of the item's score share with the rest of the
    test (total minus the item's points), so the item does not correlate with itself;
    undefined (empty) when either does not vary;
* how many papers made each declared mistake on it (diagnosed by grading);
* for a choice answer, how many papers chose each option, an option named by the mistake
  it stands for when answers.json's "distractors" names one (so variants that shuffle
  options count together), else by its letter;
* and, for the class, the distribution of totals.

Flags: upper-lower discrimination below 0.2 (an item that does not tell strong from
weak students), a negative discrimination either way (the weak do better) — both only
over 10 papers or more —, a mistake made on more than a third of the papers, a declared
distractor nobody chose.

`analysis_files` renders analysis.csv (one row per item) and analysis.html (one
self-contained page: tables and three SVG charts drawn by matplotlib, embedded inline).
"""
from __future__ import annotations

import csv
import html
import io
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from ..core.records import choice_letter as letter

__all__ = ["Analysis", "ItemStats", "LOW_DISCRIMINATION", "MIN_PAPERS", "UPPER_LOWER", "analyse",
           "analysis_files", "render_csv", "render_html"]

UPPER_LOWER = 0.27              # the share of the class in each of Kelley's groups
LOW_DISCRIMINATION = 0.2        # below: the item is flagged
COMMON_MISTAKE = Fraction(1, 3)  # a mistake on more than this share of the papers: flagged
MIN_PAPERS = 10                 # fewer papers: discrimination shown, not flagged (too noisy)


@dataclass(frozen=True)
class ItemStats:
    label: str                   # the slot
    answer: str                  # "" for the slot as a whole
    problems: tuple[str, ...]    # the problems in the slot (several in a bank's slot)
    papers: int
    max_points: float            # the mean over the papers (the same unless variants differ)
    facility: float | None
    upper_lower: float | None
    point_biserial: float | None
    mistakes: tuple[tuple[str, str, int], ...]      # (id, label, papers), most frequent first
    options: tuple[tuple[str, int, bool], ...]      # (option, papers, the right one)
    unanswered: int
    flags: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.label} {self.answer}" if self.answer else self.label


@dataclass(frozen=True)
class Analysis:
    items: tuple[ItemStats, ...]
    totals: tuple[float, ...]       # each paper's total, in grades.csv's order
    max_points: float

    @property
    def flagged(self) -> list[ItemStats]:
        return [item for item in self.items if item.flags]


# ---------------------------------------------------------------------------- statistics

def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(xs) < 2:
        return None
    mx, my = _mean(xs), _mean(ys)
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx <= 1e-18 or syy <= 1e-18:
        return None
    return sxy / math.sqrt(sxx * syy)


def _upper_lower(shares: Sequence[float], totals: Sequence[float]) -> float | None:
    n = len(shares)
    if n < 2:
        return None
    group = max(1, round(UPPER_LOWER * n))
    order = sorted(range(n), key=lambda i: -totals[i])         # stable: ties keep order
    upper, lower = order[:group], order[n - group:]
    return _mean([shares[i] for i in upper]) - _mean([shares[i] for i in lower])


@dataclass
class _Tally:
    """What one item collects, paper by paper."""
    problems: dict
    shares: list
    points: list
    totals: list
    maxima: list
    mistakes: dict           # id -> [label, papers]
    options: dict            # option -> [papers, right]
    unanswered: int = 0

    def add(self, points, maximum, total: float) -> None:
        """One paper's points of an item worth `maximum` (none when it is worth nothing)."""
        if maximum > 0:
            self.shares.append(float(points) / float(maximum))
            self.points.append(float(points))
            self.totals.append(total)
            self.maxima.append(float(maximum))


def _option_name(record: dict | None, index: int) -> str:
    distractors = (record or {}).get("distractors") or []
    named = distractors[index] if index < len(distractors) else None
    return str(named) if named else f"option {letter(index)}"


def _answer_record(manifest, variant: str, label: str, name: str) -> dict | None:
    from ..core.records import clean_text
    for problem in manifest.variants[variant]["problems"]:
        if clean_text(problem["label"]) == label:
            return problem["answers"].get(name)
    return None


def _declare_options(tally: _Tally, record: dict | None, right: str) -> None:
    for i in range(len((record or {}).get("options") or [])):
        option = "right option" if letter(i) == right else _option_name(record, i)
        tally.options.setdefault(option, [0, letter(i) == right])


_LAST: list = []          # [(papers, analysis)]: grading's files and summary share one


def analyse(manifest, papers) -> Analysis:
    """The item analysis of graded papers (grade.Paper, as grade_papers returns them)."""
    if _LAST and _LAST[0][0] is papers and _LAST[0][1] is manifest:
        return _LAST[0][2]
    analysis = _analyse(manifest, papers)
    _LAST[:] = [(papers, manifest, analysis)]
    return analysis


def _analyse(manifest, papers) -> Analysis:
    tallies: dict[tuple[str, str], _Tally] = {}
    totals = [float(sum(float(s.points) for s in p.slots)) for p in papers]

    def tally(key) -> _Tally:
        return tallies.setdefault(key, _Tally({}, [], [], [], [], {}, {}))

    for paper, total in zip(papers, totals):
        for slot in paper.slots:
            slot_mistakes: dict[str, str] = {}
            for a in slot.answers:
                t = tally((slot.label, a.name))
                t.problems[slot.problem] = None
                t.add(a.points, a.max_points, total)
                t.unanswered += not a.answered
                for m in a.mistakes:
                    entry = t.mistakes.setdefault(str(m["id"]), [str(m.get("label", "")), 0])
                    entry[1] += 1
                    slot_mistakes[str(m["id"])] = str(m.get("label", ""))
                if a.kind == "choice":
                    record = _answer_record(manifest, paper.variant, slot.label, a.name)
                    right = a.entries[0].exact
                    _declare_options(t, record, right)
                    index = a.entries[0].number
                    if isinstance(index, int):
                        option = "right option" if letter(index) == right else _option_name(record, index)
                        t.options.setdefault(option, [0, letter(index) == right])[0] += 1
            t = tally((slot.label, ""))
            t.problems[slot.problem] = None
            t.add(slot.points, slot.max_points, total)
            t.unanswered += not any(a.answered for a in slot.answers)
            for mistake_id, label in slot_mistakes.items():
                t.mistakes.setdefault(mistake_id, [label, 0])[1] += 1
    order = {label: i for i, (label, _) in enumerate(manifest.slots)}
    items = [_stats(label, answer, t) for (label, answer), t in
             sorted(tallies.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][1] != "",))]
    maximum = float(papers[0].max_points) if papers else 0.0
    return Analysis(tuple(items), tuple(totals), maximum)


def _stats(label: str, answer: str, t: _Tally) -> ItemStats:
    n = len(t.shares)
    facility = _mean(t.shares) if n else None
    rest = [total - points for total, points in zip(t.totals, t.points)]
    upper_lower = _upper_lower(t.shares, t.totals)
    point_biserial = _pearson(t.shares, rest)
    papers = max(n, t.unanswered)
    mistakes = tuple(sorted(((mid, lbl, k) for mid, (lbl, k) in t.mistakes.items()),
                            key=lambda m: (-m[2], m[0])))
    options = tuple((name, k, right) for name, (k, right) in t.options.items())
    flags = []
    if n < MIN_PAPERS:
        pass
    elif upper_lower is not None and upper_lower < 0:
        flags.append(f"negative discrimination ({upper_lower:.2f}): the weaker papers do better")
    elif upper_lower is not None and upper_lower < LOW_DISCRIMINATION:
        flags.append(f"low discrimination ({upper_lower:.2f} < {LOW_DISCRIMINATION})")
    if n >= MIN_PAPERS and point_biserial is not None and point_biserial < 0 \
            and not (upper_lower is not None and upper_lower < 0):
        flags.append(f"negative point-biserial correlation ({point_biserial:.2f})")
    for mid, _, k in mistakes:
        if papers and Fraction(k, papers) > COMMON_MISTAKE:
            flags.append(f"mistake {mid} on {k} of {papers} papers")
    for name, k, right in options:
        if not right and k == 0 and not name.startswith("option "):
            flags.append(f"distractor {name} chosen by nobody")
    return ItemStats(label, answer, tuple(t.problems), papers,
                     _mean(t.maxima) if n else 0.0, facility, upper_lower, point_biserial,
                     mistakes, options, t.unanswered, tuple(flags))


# ---------------------------------------------------------------------------- analysis.csv

def _number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return ""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


COLUMNS = ("label", "answer", "problem", "papers", "max_points", "facility", "upper_lower",
           "point_biserial", "unanswered", "mistakes", "options", "flags")


def render_csv(analysis: Analysis) -> str:
    """One row per item (a slot's row before its answers'): the statistics; mistakes as
    `id: papers` and options as `option: papers` joined by "; "."""
    from ..formats.csv import safe_cell
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in analysis.items:
        writer.writerow([safe_cell(item.label), safe_cell(item.answer), " ".join(item.problems),
                         item.papers, _number(item.max_points), _number(item.facility),
                         _number(item.upper_lower), _number(item.point_biserial), item.unanswered,
                         safe_cell("; ".join(f"{m}: {k}" for m, _, k in item.mistakes)),
                         safe_cell("; ".join(f"{o}: {k}" for o, k, _ in item.options)),
                         safe_cell("; ".join(item.flags))])
    return buffer.getvalue()


# ---------------------------------------------------------------------------- analysis.html

def _svg(figure, salt: str) -> str:
    """A matplotlib figure as an inline <svg> element (text as text, no date: the same
    class gives the same bytes)."""
    import matplotlib
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _charts(analysis: Analysis) -> list[tuple[str, str]]:
    import matplotlib
    matplotlib.use("svg", force=True)
    import matplotlib.pyplot as plt
    charts = []
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    top = analysis.max_points or max(analysis.totals, default=1.0) or 1.0
    ax.hist(analysis.totals, bins=min(20, max(5, len(set(analysis.totals)))), range=(0, top),
            color="#4c72b0", edgecolor="white")
    ax.set_xlabel(f"total points (of {_number(top)})")
    ax.set_ylabel("papers")
    ax.set_title("Distribution of totals")
    charts.append(("Distribution of totals", _svg(fig, "totals")))

    answers = [i for i in analysis.items if i.answer and i.facility is not None
               and i.upper_lower is not None]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.axhspan(-1, LOW_DISCRIMINATION, color="#f4cccc", alpha=0.5, lw=0)
    for flagged, colour, name in ((False, "#4c72b0", "answers"), (True, "#c0392b", "flagged (see the table)")):
        shown = [i for i in answers if bool(i.flags) == flagged]
        ax.scatter([i.facility for i in shown], [i.upper_lower for i in shown], c=colour, s=18,
                   label=f"{name}: {len(shown)}")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("facility (mean score share)")
    ax.set_ylabel("discrimination (upper − lower 27 %)")
    ax.set_title("Facility and discrimination per answer")
    charts.append(("Facility and discrimination per answer", _svg(fig, "items")))

    made = sorted(((k / i.papers, f"{i.label}: {m}") for i in analysis.items if not i.answer
                   for m, _, k in i.mistakes if i.papers), reverse=True)[:20]
    fig, ax = plt.subplots(figsize=(6.4, 0.6 + 0.25 * max(1, len(made))))
    ax.barh([name for _, name in made][::-1], [share for share, _ in made][::-1],
            color="#dd8452")
    ax.axvline(float(COMMON_MISTAKE), color="#c0392b", lw=0.8, ls="--")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the papers")
    ax.set_title("Declared mistakes made" if made else "No declared mistake was made")
    charts.append(("Declared mistakes made", _svg(fig, "mistakes")))
    return charts


_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;font-size:.85rem;margin:1rem 0}th,td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top}
td.n{text-align:right}tr.slot td{font-weight:600;background:#f3f3f3}tr.flagged td.flags{color:#b00}
figure{margin:1.5rem 0}svg{max-width:100%;height:auto}
@media print{figure,tr{break-inside:avoid}}"""


def render_html(analysis: Analysis, title: str = "") -> str:
    e = html.escape
    heading = "Item analysis" + (f": {title}" if title else "")
    n = len(analysis.totals)
    mean = _mean(analysis.totals) if n else 0.0
    lines = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{e(heading)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{e(heading)}</h1>",
             f"<p>{n} paper{'' if n == 1 else 's'}; mean total {_number(mean)} of "
             f"{_number(analysis.max_points)} points. {len(analysis.flagged)} item"
             f"{'' if len(analysis.flagged) == 1 else 's'} flagged.</p>"]
    for caption, svg in _charts(analysis):
        lines.append(f'<figure aria-label="{e(caption)}">{svg}</figure>')
    lines.append("<h2>Items</h2><table><thead><tr><th>item</th><th>papers</th><th>facility</th>"
                 "<th>upper − lower</th><th>point-biserial</th><th>mistakes (papers)</th>"
                 "<th>options (papers)</th><th>flags</th></tr></thead><tbody>")
    for item in analysis.items:
        classes = " ".join(c for c in ("" if item.answer else "slot",
                                       "flagged" if item.flags else "") if c)
        lines.append(
            f'<tr class="{classes}"><td>{e(item.name)}</td><td class="n">{item.papers}</td>'
            f'<td class="n">{_number(item.facility, 2)}</td>'
            f'<td class="n">{_number(item.upper_lower, 2)}</td>'
            f'<td class="n">{_number(item.point_biserial, 2)}</td>'
            f"<td>{'<br>'.join(e(f'{m}: {k}') for m, _, k in item.mistakes)}</td>"
            f"<td>{'<br>'.join(e(f'{o}: {k}') for o, k, _ in item.options)}</td>"
            f'<td class="flags">{"<br>".join(e(f) for f in item.flags)}</td></tr>')
    lines.append("</tbody></table>")
    lines.append("<p>Facility: the mean score share. Upper − lower: the facility among the "
                 "27 % best totals minus that among the 27 % lowest. Point-biserial: the "
                 "correlation of the item's score with the rest of the test. Flags: "
                 f"discrimination below {LOW_DISCRIMINATION} or negative, a mistake on more "
                 "than a third of the papers, a distractor nobody chose.</p></body></html>")
    return "\n".join(lines) + "\n"


def analysis_files(manifest, papers) -> tuple[Analysis, dict[str, str]]:
    """The analysis and the files it writes: analysis.csv and analysis.html."""
    analysis = analyse(manifest, papers)
    return analysis, {"analysis.csv": render_csv(analysis),
                      "analysis.html": render_html(analysis, manifest.exam)}
