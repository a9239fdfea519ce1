"""Multiple-choice forms of numeric answers, and the keys' "Common mistakes" section.

The checks recompute what they verify: a distractor's value from its mistake's declared
value or from the slip's definition (written out here, not taken from the engine), the
correct value from a fresh draw, distinctness from the floats and the printed text."""
import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest
import sympy as sp

from conftest import one_item_sheet, run_cli
from wsgen.core.draw import draw_multiple_choice
from wsgen.core.values import exact as plain
from wsgen.core.distractors import (NoDistinctOptions, option_shown,
                                    with_multiple_choice)
from wsgen.core.draw import draw_variant
from wsgen.core.model import Vector
from wsgen.core.printing import tex
from wsgen.core.numeric import float_value
from wsgen.exam.load import DEFAULT_EXAM
from wsgen.formats.document import COMMON_MISTAKES, build_document
from wsgen.formats.json import variant_record
from wsgen.formats.templating import render_document

MC_SLOTS = ("Q2", "Q3", "Q4", "Q5")
NUMERIC = ("number", "vector", "matrix", "list")
SEEDS = range(200)
N = 4


def _exam_text(count=N, extra=""):
    text = DEFAULT_EXAM.read_text(encoding="utf-8")
    for label in MC_SLOTS:
        text = text.replace(f'label = "{label}"\n', f'label = "{label}"\nmultiple_choice = {count}\n')
    return extra + text


def _write_exam(tmp_path, count=N, extra=""):
    path = tmp_path / "exam.toml"
    path.write_text(_exam_text(count, extra), encoding="utf-8")
    return path


# --- independent recomputation ---------------------------------------------------------
def _apply(value, f):
    if isinstance(value, sp.MatrixBase):
        return sp.ImmutableMatrix(value.rows, value.cols, [f(e) for e in value])
    if isinstance(value, Vector):
        return Vector(f(e) for e in value)
    if isinstance(value, tuple):
        return tuple(_apply(e, f) for e in value)
    return f(value)


def _per_distribution(value, f):
    """f applied to each distribution: a vector's entries, or each row of a matrix."""
    if isinstance(value, sp.MatrixBase):
        return sp.ImmutableMatrix([f(list(value.row(i))) for i in range(value.rows)])
    return Vector(f(list(value)))


def _scaled_to_one(entries):
    total = sum(entries)
    return [e / total for e in entries]


SLIP_VALUES = {
    "sign_flipped": lambda v: _apply(v, lambda e: -e),
    "times_10": lambda v: _apply(v, lambda e: 10 * e),
    "divided_by_10": lambda v: _apply(v, lambda e: e / 10),
    "doubled": lambda v: _apply(v, lambda e: 2 * e),
    "halved": lambda v: _apply(v, lambda e: e / 2),
    "transposed": lambda v: v.T,
    "complement": lambda v: _apply(v, lambda e: 1 - e),
    "sharpened": lambda v: _per_distribution(v, lambda r: _scaled_to_one([e ** 2 for e in r])),
    "flattened": lambda v: _per_distribution(v, lambda r: _scaled_to_one([sp.sqrt(e) for e in r])),
    "reversed": lambda v: _per_distribution(v, lambda r: r[::-1]),
}


def _floats(value):
    out = float_value(value)
    flat, stack = [], [out]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            flat.append(float(item))
    return flat


def _tell_apart(a, b, answer) -> bool:
    fa, fb = _floats(a), _floats(b)
    if len(fa) != len(fb):
        return True
    tol = answer.tolerance
    far = any(abs(x - y) > tol.abs + tol.rel * max(abs(x), abs(y)) for x, y in zip(fa, fb))
    printed = tex(option_shown(a, answer.digits)) != tex(option_shown(b, answer.digits))
    return far and printed


def _chi2_p(counts):
    """Upper tail of chi-square with k - 1 degrees of freedom (k = 4: closed form)."""
    import mpmath
    n, k = sum(counts), len(counts)
    chi2 = sum((c - n / k) ** 2 / (n / k) for c in counts)
    return float(mpmath.gammainc((k - 1) / 2, chi2 / 2, mpmath.inf, regularized=True))


@pytest.fixture(scope="module")
def mc_draws(problems):
    """Every shipped problem, its numeric answers as a choice among N, over SEEDS."""
    return {pid: [draw_multiple_choice(p, p.Options(), seed, N) for seed in SEEDS]
            for pid, p in problems.items()}


# --- the options -----------------------------------------------------------------------
@pytest.mark.slow
def test_every_option_list_holds_the_correct_value_once_and_options_are_distinct(problems, mc_draws):
    for pid, variants in mc_draws.items():
        for v in variants:
            fresh = draw_variant(problems[pid], problems[pid].Options(), v.seed)
            forms = v.choice_forms
            numeric = [a.name for a in fresh.solution.answers if a.kind in NUMERIC]
            assert sorted(forms) == sorted(numeric), pid
            for name in numeric:
                answer = v.solution.get(name)
                correct = plain(fresh.solution.get(name).value)
                assert answer.kind == "choice" and len(answer.choices) == N
                assert answer.value == correct
                assert [o == correct for o in answer.choices].count(True) == 1, (pid, v.seed, name)
                assert forms[name].labels[answer.correct_index] is None
                assert [label is None for label in forms[name].labels].count(True) == 1
                for i in range(N):
                    for j in range(i):
                        assert _tell_apart(answer.choices[i], answer.choices[j], answer), \
                            (pid, v.seed, name, i, j)


@pytest.mark.slow
def test_distractor_labels_match_the_declared_mistakes_and_slips(problems, mc_draws):
    used = Counter()
    for pid, variants in mc_draws.items():
        for v in variants:
            fresh = draw_variant(problems[pid], problems[pid].Options(), v.seed)
            declared = {m.id: m for m in fresh.mistakes}
            for name, form in v.choice_forms.items():
                answer = v.solution.get(name)
                correct = answer.value
                for option, label in zip(answer.choices, form.labels):
                    if label is None:
                        continue
                    if label in declared:
                        assert option == plain(declared[label].values[name]), (pid, v.seed, name, label)
                        used["mistake"] += 1
                    else:
                        expected = SLIP_VALUES[label](correct)
                        # the same value: exactly, or (sums of closed forms) to 12 digits
                        assert option == expected or not any(
                            abs(x - y) > 1e-12 * max(1.0, abs(y))
                            for x, y in zip(_floats(option), _floats(expected))), \
                            (pid, v.seed, name, label)
                        used["slip"] += 1
                # mistakes come first: a slip only when every mistake for this answer is shown
                # or cannot be told apart from an option already there
                if any(label in SLIP_VALUES for label in form.labels):
                    for mistake in fresh.mistakes:
                        if name in mistake.values and mistake.id not in form.mistakes:
                            value = plain(mistake.values[name])
                            assert not all(_tell_apart(value, o, answer) for o in answer.choices), \
                                (pid, v.seed, name, mistake.id)
                # every shown mistake id points at an option with that mistake's value
                for mistake_id, index in form.mistakes.items():
                    assert not _tell_apart(plain(declared[mistake_id].values[name]),
                                           answer.choices[index], answer)
    assert used["mistake"] > 1000 and used["slip"] > 1000


@pytest.mark.slow
def test_the_correct_option_is_at_a_uniform_position(mc_draws):
    for pid, variants in mc_draws.items():
        positions = {}
        for v in variants:
            for name in v.choice_forms:
                counts = positions.setdefault(name, [0] * N)
                counts[v.solution.get(name).correct_index] += 1
        for name, counts in positions.items():
            assert _chi2_p(counts) > 1e-4, (pid, name, counts)
            assert min(counts) >= 0.6 * len(SEEDS) / N, (pid, name, counts)


def test_the_order_is_reproducible_and_the_canonical_variant_has_one(problems):
    for pid, p in problems.items():
        first = draw_multiple_choice(p, p.Options(), 7, N)
        again = draw_multiple_choice(p, p.Options(), 7, N)
        assert first.solution == again.solution and first.choice_forms == again.choice_forms
        try:
            canonical = draw_multiple_choice(p, p.Options(), None, N)
        except Exception:   # noqa: BLE001 - problems without canonical numbers for these options
            continue
        assert canonical.solution == draw_multiple_choice(p, p.Options(), None, N).solution


def test_options_that_cannot_be_told_apart_redraw_the_problem(problems):
    """A triplet loss of 0 (hinge inactive) has no slips (every slip of 0 is 0): the
    multiple-choice form refuses it, and the build draws the problem again."""
    p = problems["triplet_loss"]
    refused = []
    for s in range(40):
        try:
            with_multiple_choice(draw_variant(p, p.Options(), s), N)
        except NoDistinctOptions:
            refused.append(s)
    assert refused
    assert all(draw_variant(p, p.Options(), s).solution.answer("loss") == 0 for s in refused)
    seed = refused[0]
    redrawn = draw_multiple_choice(p, p.Options(), seed, N)
    assert redrawn.choice_redraws >= 1 and redrawn.seed != seed
    assert redrawn.solution.get("loss").value != 0


# --- documents and JSON ------------------------------------------------------------------
@pytest.mark.tex
def test_build_in_md_json_and_pdf(tmp_path):
    exam = _write_exam(tmp_path)
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", exam, "--out", out, "--formats", "md,json,pdf", "-q")
    assert status == 0, err
    for folder in ("canonical", "v001", "v002", "v003"):
        for name in ("questions.md", "key.md", "questions.pdf", "key.pdf"):
            assert (out / folder / name).stat().st_size > 0
    data = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    seen = 0
    for sheet in data["variants"]:
        key = (out / sheet["variant"] / "key.md").read_text(encoding="utf-8")
        questions = (out / sheet["variant"] / "questions.md").read_text(encoding="utf-8")
        assert COMMON_MISTAKES in key and COMMON_MISTAKES not in questions
        for problem in sheet["problems"]:
            for name, answer in problem["answers"].items():
                if problem["label"] not in MC_SLOTS:
                    assert answer["kind"] != "choice" or isinstance(answer["options"][0], str)
                    continue
                if answer["kind"] == "formula":      # a derivation's formula stays typed
                    continue
                seen += 1
                assert answer["kind"] == "choice" and len(answer["options"]) == N
                assert answer["exact"] == "ABCD"[answer["value"]]
                assert all(set(o) == {"exact", "value"} for o in answer["options"])
                assert answer["distractors"][answer["value"]] is None
                assert answer["distractors"].count(None) == 1
                # the key names the same letter as answers.json
                assert f"Option {answer['exact']}: " in key
            for mistake in problem["mistakes"]:
                for name, entry in mistake["answers"].items():
                    if problem["answers"][name]["kind"] == "choice" and "option" in entry:
                        letter = entry["option"]
                        if letter is not None:
                            index = "ABCD".index(letter)
                            assert problem["answers"][name]["distractors"][index] is not None
    assert seen > 4 * 20


def test_json_record_of_a_multiple_choice_variant(problems):
    p = problems["matrix_backprop"]
    v = draw_multiple_choice(p, p.Options(), 11, N)
    record = json.loads(json.dumps(variant_record(v)))
    answer = record["answers"]["dL_dx"]
    form = v.choice_forms["dL_dx"]
    assert answer["distractors"] == list(form.labels)
    options = v.solution.get("dL_dx").choices
    assert [o["value"] for o in answer["options"]] == [float_value(o) for o in options]
    no_transpose = next(m for m in record["mistakes"] if m["id"] == "no_transpose")
    entry = no_transpose["answers"]["dL_dx"]
    assert entry["option"] == "ABCD"[answer["distractors"].index("no_transpose")]


def test_formula_choices_keep_their_tex_options_and_name_their_mistakes(problems):
    p = problems["triplet_loss"]
    record = variant_record(draw_variant(p, p.Options(), None))
    formula = record["answers"]["formula"]
    assert formula["exact"] == "B" and all(isinstance(o, str) for o in formula["options"])
    assert formula["distractors"] == ["no_margin", None, "swapped_positive_negative",
                                      "norms_not_squared"]


def test_sheet_shows_lettered_options_and_key_explains_each_distractor(problems):
    p = problems["matrix_backprop"]
    v = draw_multiple_choice(p, p.Options(), 3, N)
    sheet = one_item_sheet(v)
    questions = render_document(build_document(sheet, "questions"), "md", anchor="v1")
    key = render_document(build_document(sheet, "key"), "md", anchor="v1")
    mistakes = {m.id: m for m in v.mistakes}
    for name, form in v.choice_forms.items():
        answer = v.solution.get(name)
        for i, option in enumerate(answer.choices):
            shown = tex(option_shown(option, answer.digits))
            assert f"- **{'ABCD'[i]}.** ${shown}$" in questions
            label = form.labels[i]
            # one sentence per wrong option (expected wording written out here)
            if label in mistakes:
                assert (f"- {'ABCD'[i]} comes from a common mistake, {mistakes[label].label}: "
                        in key)
            elif label is not None:
                reasons = {"sign_flipped": "has every sign flipped: a sign error.",
                           "times_10": "is ten times too large: a slipped decimal point.",
                           "divided_by_10": "is ten times too small: a slipped decimal point.",
                           "transposed": "is the transpose: rows and columns swapped.",
                           "doubled": "is twice the value: a spurious factor $2$.",
                           "halved": r"is half the value: a spurious factor $\frac{1}{2}$."}
                assert f"- {'ABCD'[i]} {reasons[label]}\n" in key
        letter = "ABCD"[answer.correct_index]
        assert f"Option {letter}: ${answer.label} = " in key
    assert "Option" not in questions and COMMON_MISTAKES not in questions
    assert "is correct" not in questions


def test_pdf_source_letters_the_options(problems):
    p = problems["regularization"]
    v = draw_multiple_choice(p, p.Options(), 5, N)
    latex = render_document(build_document(one_item_sheet(v), "questions"), "tex", anchor="v1")
    # one option grid per choice field, each lettering its four options A-D in order
    assert latex.count("\\wsgenChoices{") == len(v.choice_forms)
    for letter in "ABCD":
        assert latex.count("\\wsgenChoice{%s}{" % letter) == len(v.choice_forms)
    key = render_document(build_document(one_item_sheet(v), "key"), "tex", anchor="v1")
    assert COMMON_MISTAKES in key and "Option" in key


# --- common mistakes -------------------------------------------------------------------
def test_common_mistakes_in_every_key_and_never_on_a_sheet(problems):
    for pid, p in problems.items():
        v = draw_variant(p, p.Options(), 4)
        sheet = one_item_sheet(v)
        for markup in ("md", "tex"):
            key = render_document(build_document(sheet, "key"), markup, anchor="v1")
            questions = render_document(build_document(sheet, "questions"), markup, anchor="v1")
            assert COMMON_MISTAKES in key and COMMON_MISTAKES not in questions, (pid, markup)
            tail = key[key.index(COMMON_MISTAKES):]
            changed = [m for m in v.mistakes if any(
                (value != v.solution.get(n).value) if v.solution.get(n).kind in ("choice", "formula")
                else _tell_apart(plain(value), plain(v.solution.get(n).value), v.solution.get(n))
                for n, value in m.values.items())]
            assert changed
            for m in changed:
                assert m.label.split()[0] in tail or markup == "tex", (pid, m.id)
        md_tail = render_document(build_document(sheet, "key"), "md", anchor="v1")
        md_tail = md_tail[md_tail.index(COMMON_MISTAKES):]
        assert md_tail.count("Why it is wrong:") == len(changed)


def test_common_mistakes_false_leaves_the_section_out(tmp_path):
    exam = _write_exam(tmp_path, extra="common_mistakes = false\n")
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", exam, "--out", out, "--formats", "md", "-q")
    assert status == 0, err
    for key in out.glob("*/key.md"):
        assert COMMON_MISTAKES not in key.read_text(encoding="utf-8")
    assert "Option" in (out / "v001" / "key.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("line, needle", [
    ("multiple_choice = 2", "problems[3].multiple_choice: expected 0 (free answers) or 3 to 6"),
    ("multiple_choice = 7", "problems[3].multiple_choice: expected 0 (free answers) or 3 to 6"),
    ('multiple_choice = "four"', "problems[3].multiple_choice: expected an integer"),
    ("multiple_choice = true", "problems[3].multiple_choice: expected an integer"),
])
def test_multiple_choice_is_validated(tmp_path, line, needle):
    text = DEFAULT_EXAM.read_text(encoding="utf-8").replace('label = "Q2"\n', f'label = "Q2"\n{line}\n')
    exam = tmp_path / "exam.toml"
    exam.write_text(text, encoding="utf-8")
    lineno = text.split("\n").index(line) + 1
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "out", "-q")
    assert status == 2 and f"{exam}:{lineno}: {needle}" in err, err


def test_common_mistakes_is_validated(tmp_path):
    exam = _write_exam(tmp_path, extra='common_mistakes = "no"\n')
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "out", "-q")
    assert status == 2 and f"{exam}:1: common_mistakes: expected true or false" in err, err


def test_zero_means_free_answers(tmp_path, problems):
    from wsgen.pipeline.sheets import plan_sheets
    from wsgen.exam.load import load_exam
    exam = load_exam(_write_exam(tmp_path, count=0))
    sheet = plan_sheets(exam, 1)[1]
    assert all(not item.variant.choice_forms for item in sheet.items)


# --- the leak test ---------------------------------------------------------------------
def test_leak_test_catches_a_mistake_value_on_a_free_answer_sheet(problems):
    import dataclasses

    from wsgen.quality.properties import leaked
    from wsgen.core.model import Step
    p = problems["matrix_backprop"]
    v = draw_variant(p, p.Options(), 3)
    assert leaked(v) == []
    wrong = next(m for m in v.mistakes if m.id == "missing_factor_2").values["dL_dx"]
    hint = Step(text=f"Hint: one entry is ${tex(wrong[0])}$.")
    bad = dataclasses.replace(v, statement=v.statement + (hint,))
    assert any("mistake missing_factor_2" in name for name, _ in leaked(bad))


def test_leak_test_allows_only_the_options_on_a_multiple_choice_sheet(problems):
    import dataclasses

    from wsgen.quality.properties import leaked
    from wsgen.core.model import Step
    p = problems["matrix_backprop"]
    v = draw_multiple_choice(p, p.Options(), 3, N)
    assert leaked(v) == []
    # the correct value printed outside the options is a leak
    correct = v.solution.get("L").value
    bad = dataclasses.replace(v, statement=v.statement + (Step(text=f"Hint: ${tex(correct)}$."),))
    assert leaked(bad)


@pytest.mark.parametrize("problem_id", ["triplet_loss", "matrix_backprop", "activations"])
@pytest.mark.slow
def test_properties_hold_with_multiple_choice(problems, problem_id):
    from wsgen.quality.properties import property_failures
    p = problems[problem_id]
    assert property_failures(p, p.Options(), range(40), multiple_choice=N) == []


# --- stress ----------------------------------------------------------------------------
@pytest.mark.slow
def test_stress_reports_sources_redraws_and_positions():
    status, out, err = run_cli("stress", "triplet_loss", "-n", "200", "--multiple-choice", "4")
    assert status == 0, out + err
    assert "redraws because options could not be told apart" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("loss ") and "from" in ln)
    assert re.search(r"distractors from mistakes \d+ \(\d+%\), from slips \d+", line)
    assert re.search(r"p = [01]\.\d{3}", line)


def test_stress_fails_on_imbalance_and_on_collisions(problems):
    from wsgen.quality.stress import stress
    p = problems["matrix_backprop"]
    report = stress(p, p.Options(), 20, multiple_choice=3)
    assert not report.failed
    report.choice_positions["L"] = Counter({0: 300, 1: 10, 2: 10})
    assert report.failed and any("not uniform" in ln for ln in report.lines())
    report.choice_positions["L"] = Counter({0: 100, 1: 100, 2: 100})
    assert not report.failed
    # an option list with two options the same at the precision shown
    v = draw_multiple_choice(p, p.Options(), 1, 3)
    answer = v.solution.get("L")
    import dataclasses
    twin = dataclasses.replace(answer, choices=(answer.value, answer.value + sp.Rational(1, 10 ** 9),
                                                answer.choices[-1] if answer.choices[-1] != answer.value
                                                else answer.choices[0]))
    clash = dataclasses.replace(v, solution=type(v.solution)(
        v.solution.steps, tuple(twin if a.name == "L" else a for a in v.solution.answers)))
    report._add_choices(1, clash)
    assert report.collisions and report.failed


def test_stress_command_accepts_only_3_to_6():
    status, _, err = run_cli("stress", "matrix_backprop", "-n", "5", "--multiple-choice", "7")
    assert status == 2 and "--multiple-choice" in err


def test_docs_describe_every_slip():
    from wsgen.core.distractors import SLIPS
    doc = (Path(__file__).resolve().parents[1] / "docs" / "multiple-choice.md").read_text(encoding="utf-8")
    for slip in SLIPS:
        assert f"`{slip}`" in doc
    assert set(SLIPS) == set(SLIP_VALUES)
    assert math.isclose(_chi2_p([50, 50, 50, 50]), 1.0)


def test_a_size_answer_gets_only_size_options(problems):
    # conv2d's out_shape is a pair of non-negative integers: a slip that makes a fraction or
    # a negative size (a tenth, half, the sign flipped) is no plausible option for it.
    import sympy as sp
    from wsgen.core.draw import draw_multiple_choice
    p = problems["conv2d"]
    for seed in range(8):
        variant = draw_multiple_choice(p, p.Options(), seed, 4)
        options = next(a for a in variant.solution.answers if a.name == "out_shape").choices
        assert len(options) == 4
        for option in options:
            assert all(isinstance(sp.sympify(e), sp.Integer) and sp.sympify(e) >= 0 for e in option), option


# --- plausible options --------------------------------------------------------------------
def _size(value) -> float:
    return max(abs(x) for x in _floats(value))


@pytest.mark.slow
def test_slips_keep_the_declared_constraints_and_decimal_slips_are_judged(problems, mc_draws):
    """Every slip offered keeps its answer's constraints (checked here from the floats: a
    non-negative answer has no negative entry among its options, a probability none outside
    [0, 1], a distribution's entries add up to 1); a ×10 slip is offered only beside a wrong
    option larger than the correct value, a ÷10 slip only beside a smaller one, and, with
    four options, never both."""
    checked = Counter()
    for pid, variants in mc_draws.items():
        for v in variants:
            for name, form in v.choice_forms.items():
                answer = v.solution.get(name)
                wrong = [o for o, label in zip(answer.choices, form.labels) if label is not None]
                size = _size(answer.value)
                for option, label in zip(answer.choices, form.labels):
                    if label not in SLIP_VALUES:
                        continue
                    xs = _floats(option)
                    if "nonnegative" in answer.constraints:
                        assert min(xs) >= 0, (pid, v.seed, name, label)
                        checked["nonnegative"] += 1
                    if "probability" in answer.constraints:
                        assert all(-1e-12 <= x <= 1 + 1e-12 for x in xs), (pid, v.seed, name, label)
                        checked["probability"] += 1
                    if "sums_to_one" in answer.constraints and isinstance(option, Vector):
                        assert abs(sum(xs) - 1) < 1e-9, (pid, v.seed, name, label)
                        checked["sums_to_one"] += 1
                    if label == "times_10":
                        assert any(_size(o) > size for o in wrong if o is not option)
                        checked["times_10"] += 1
                    if label == "divided_by_10":
                        assert any(_size(o) < size for o in wrong if o is not option)
                        checked["divided_by_10"] += 1
                assert not {"times_10", "divided_by_10"} <= set(form.labels), (pid, v.seed, name)
    assert min(checked.values()) > 20 and len(checked) == 5, checked


def test_a_negative_loss_is_never_offered(problems):
    """L = ‖Wx‖² ≥ 0 is declared non-negative: over 60 draws none of its options is
    negative, though "sign flipped" is a slip the engine has."""
    p = problems["matrix_backprop"]
    for seed in range(60):
        v = draw_multiple_choice(p, p.Options(), seed, N)
        answer = v.solution.get("L")
        assert all(float(float_value(o)) >= 0 for o in answer.choices), seed
        assert "sign_flipped" not in v.choice_forms["L"].labels


def test_too_few_plausible_options_is_an_error_naming_the_constraints(problems):
    """σ(z) is declared a probability and has no declared mistakes: with six options per
    answer there are too few plausible slips (its complement, a half, a tenth and, when every
    entry is below ½, its double), and the error says so."""
    p = problems["activations"]
    with pytest.raises(NoDistinctOptions, match=r"answer sigmoid: .*keep its constraints "
                                                r"\(probability\).*declare more mistakes"):
        with_multiple_choice(draw_variant(p, p.Options(), 0), 6)
