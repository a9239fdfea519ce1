"""The command line: `wsgen` / `python -m wsgen` (list, show, build, stress, new, formats,
grade, audit).

Exit statuses (errors.EXIT): 0 success; 1 findings (stress, audit); 2 bad input (a file, field,
option or argument; a problem module that cannot load; a folder that cannot be
written); 3 a problem that failed inside a build (it raised, failed its independent
check or could not render), or an internal error; 130/143 interrupted.  Every
failure is one line on stderr, never a traceback.  Heavy libraries (SymPy, NumPy,
TeX tooling) are imported inside the commands, so an up-to-date build answers in a
fraction of a second.  A problem's own prints (a `print()` left in its code) go to
stderr: stdout carries keys, JSON and reports.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import click

from . import __version__
from .exam.spec import KEY_AUDIENCES, MAX_VARIANTS
from .errors import EXIT, BuildError, ProblemError, UserError, read_input
from .formats import FormatError

__all__ = ["main"]

SEED = click.IntRange(0, 2 ** 63 - 1)
KEY_AUDIENCE = click.option(
    "--key-audience", "key_audience", type=click.Choice(KEY_AUDIENCES),
    help="Who the keys are for: student (every step, without verification notes and seeds) "
         "or instructor (everything).")
PROBLEMS_OPTION = click.option(
    "--problems", "problem_dirs", multiple=True, metavar="DIR",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="A folder of problem modules to load beside the shipped ones (repeatable).")


def _problem_output():
    """Problem code runs with its prints sent to stderr."""
    from .pipeline.sheets import problem_output
    return problem_output()


def _registry(problem_dirs=()):
    from .quality.selftest import selftest
    from .registry import discover
    with _problem_output():                    # the self-test runs each plugin's solve
        return discover(problem_dirs, check=selftest)


def _problem(problem_id: str, problem_dirs=()):
    problems = _registry(problem_dirs).problems
    if problem_id not in problems:
        raise click.BadParameter(f"unknown problem {problem_id!r} (known: "
                                 f"{', '.join(sorted(problems))})", param_hint="'PROBLEM'")
    return problems[problem_id]


def _parse_options(problem, pairs: tuple[str, ...]):
    """`--option name=value` pairs (values read as TOML scalars) into Options."""
    import tomllib

    from .exam.load import make_options
    values = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="'--option'")
        if name.strip() in values:
            raise click.BadParameter(f"{name.strip()} given twice; give each setting once",
                                     param_hint="'--option'")
        try:
            values[name.strip()] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            values[name.strip()] = raw.strip()
    try:
        return make_options(problem, values, where="--option")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--option'") from None


def _formats(value: str | None) -> tuple[str, ...]:
    from .formats import available_formats
    known = available_formats()
    if value is None:
        return known
    names = tuple(dict.fromkeys(f.strip() for f in value.split(",") if f.strip()))
    unknown = [f for f in names if f not in known]
    if unknown or not names:
        raise click.BadParameter(f"unknown format {', '.join(unknown) or '(none)'} "
                                 f"(choose from {', '.join(known)})", param_hint="'--formats'")
    return names


class _Progress:
    """A progress bar on stderr, shown only on a terminal and only once a build has run
    for a second."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.bar = total, 0, None
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.monotonic()

    def __call__(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self.bar is None and time.monotonic() - self.start > 1.0:
            self.bar = click.progressbar(length=self.total, label="Building", file=sys.stderr)
            self.bar.__enter__()
            self.bar.update(self.done - n)
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wsgen")
def cli():
    """Worked-solution documents for deep-learning exams."""


@cli.command("list")
@PROBLEMS_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def list_problems(problem_dirs, fmt):
    """List the problems: id and title (text), or id, title, source and settings (json)."""
    registry = _registry(problem_dirs)
    if fmt == "text":
        for problem_id, problem in sorted(registry.problems.items()):
            click.echo(f"{problem_id:<22} {problem.title}")
        return
    from .core.settings import describe_options
    from .formats.json import dumps
    click.echo(dumps([{"id": pid, "title": p.title, "source": registry.sources[pid],
                       "options": describe_options(p.Options)}
                      for pid, p in sorted(registry.problems.items())]), nl=False)


@cli.command()
@click.argument("problem_id", metavar="PROBLEM")
@click.option("--seed", type=SEED, help="The variant seed (as printed on a key).")
@click.option("--canonical", is_flag=True, help="The original exam's numbers.")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "pdf", "html"]), default="md",
              show_default=True)
@click.option("--option", "option_pairs", multiple=True, metavar="NAME=VALUE",
              help="A problem setting, e.g. --option m=3 (repeatable).")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Where pdf and html go (default: PROBLEM.pdf or PROBLEM.html here, not "
                   "overwritten).")
@KEY_AUDIENCE
@PROBLEMS_OPTION
def show(problem_id, seed, canonical, fmt, option_pairs, out_file, key_audience, problem_dirs):
    """Print one variant of PROBLEM: its key (md) or its JSON record; or write its question
    sheet and key as one PDF or HTML file (pdf, html).  The key is the instructor's unless
    --key-audience student."""
    problem = _problem(problem_id, problem_dirs)
    if canonical and seed is not None:
        raise click.UsageError("--seed and --canonical exclude each other; give one")
    if not canonical and seed is None:
        raise click.UsageError("give --seed N or --canonical")
    options = _parse_options(problem, option_pairs)
    from .pipeline.run import render_sheet_outputs
    from .core.draw import draw_variant
    from .core.problem import NoCanonical
    from .exam.spec import Exam, ExamItem, Sheet, SheetItem
    from .formats.json import dumps, variant_record
    try:
        with _problem_output():
            variant = draw_variant(problem, options, None if canonical else seed)
    except NoCanonical as exc:
        raise click.UsageError(f"{problem_id}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the problem's failure, as one line
        raise BuildError(f"{problem_id}, {'canonical variant' if canonical else f'seed {seed}'}: "
                         f"{type(exc).__name__}: {_one_line(exc)[:300]}") from None
    if fmt == "json":
        click.echo(dumps(variant_record(variant)), nl=False)
        return
    exam = Exam(title=problem.title, course="", date="", instructions="", master_seed=0,
                variants=0, items=(ExamItem(problem_id, problem_id, 0, options),),
                key=key_audience or "instructor")
    sheet = Sheet(exam=exam, variant_id="canonical" if canonical else "random",
                  variant_index=0, items=(SheetItem("", 0, variant),))
    if fmt in ("pdf", "html"):
        from .pipeline.output import atomic_write
        from .pipeline.preview import preview
        path = out_file or Path(f"{problem_id}.{fmt}")
        if out_file is None and path.exists():
            raise click.UsageError(f"{path} exists: give --out FILE to write it anyway")
        atomic_write(path, preview(sheet, fmt))
        click.echo(f"wsgen: wrote {path}", err=True)
        return
    output = render_sheet_outputs(sheet, ("md",))
    click.echo(output.rendered["md"].files["key.md"], nl=False)


@cli.command()
@click.argument("problem_id", metavar="PROBLEM")
@click.option("-n", "count", type=click.IntRange(1, 1_000_000), default=1000, show_default=True,
              help="How many variants to draw (per corner with --corners).")
@click.option("--seed", "first_seed", type=SEED, default=0, show_default=True,
              help="The first seed; seeds first, first+1, … are drawn.")
@click.option("--option", "option_pairs", multiple=True, metavar="NAME=VALUE")
@click.option("--corners", is_flag=True,
              help="Run at every corner of the settings' ranges (each numeric setting at its "
                   "min and max, all at min, all at max).")
@click.option("--multiple-choice", "multiple_choice", type=click.IntRange(3, 6), metavar="N",
              help="Ask the numeric answers as multiple choice among N options (3 to 6): "
                   "report where the distractors come from, redraws, the correct option's "
                   "position balance; fail on an imbalance or options that look the same.")
@PROBLEMS_OPTION
def stress(problem_id, count, first_seed, option_pairs, corners, problem_dirs, multiple_choice):
    """Draw PROBLEM many times: ranges, repeats, redraws, check failures, choice positions,
    and the properties every problem must have (reproducible, JSON round trip, no leak)."""
    problem = _problem(problem_id, problem_dirs)
    options = _parse_options(problem, option_pairs)
    from .quality.stress import corner_options, stress as run_stress
    settings = corner_options(problem, options) if corners else [("given settings", options)]
    failed = False
    for name, opts in settings:
        if corners:
            click.echo(f"== {name}")
        if opts is None:
            continue
        with _problem_output():
            report = run_stress(problem, opts, count, first_seed, multiple_choice or 0)
        for line in report.lines():
            click.echo(line)
        failed = failed or report.failed
    if failed:
        raise click.exceptions.Exit(EXIT.FINDINGS)


@cli.command()
@click.argument("problem_id", metavar="PROBLEM_ID")
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False),
              default=Path("."), show_default=True, help="Where to write the module and its test.")
def new(problem_id, folder):
    """Write a new problem module (and a test for it) that works as written."""
    from .authoring import write_new_problem
    for path in write_new_problem(problem_id, folder):
        click.echo(f"wrote {path}")


@cli.command()
@click.option("--exam", "exam_path", type=click.Path(path_type=Path, dir_okay=False),
              help="The exam file (default: the exam shipped with wsgen).")
@click.option("--variants", type=click.IntRange(0, MAX_VARIANTS),
              help="Random variants besides the canonical one (default: the exam's).")
@click.option("--seed", type=SEED, help="Master seed (default: the exam's).")
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False),
              help="CSV with columns id,name: one variant per student.")
@click.option("--secret", "secret_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Key file for per-student seeds (created on first use, mode 0600; "
                   "default ~/.config/wsgen/roster-secret.key).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              default=Path("output"), show_default=True, help="Output folder.")
@click.option("--formats", default=None,
              help="Comma-separated formats (default: every registered one; see `wsgen formats`).")
@click.option("--duplex", is_flag=True, help="Start every variant on an odd page in the booklets.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64),
              help="Worker processes (default and most: the cores this process may use, and "
                   "no more than the work needs).")
@click.option("--force", is_flag=True,
              help="Rebuild even when nothing has changed, and overwrite files wsgen did not write.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, nothing printed on success.")
@KEY_AUDIENCE
@PROBLEMS_OPTION
def build(exam_path, variants, seed, roster, secret_path, out_dir, formats, duplex, jobs, force,
          quiet, key_audience, problem_dirs):
    """Build question sheets, answer keys and manifests for every variant."""
    from .pipeline.fingerprint import build_fingerprint
    from .pipeline.output import OutputFolder
    formats = _formats(formats)
    if roster is not None and (variants is not None or seed is not None):
        raise click.UsageError("--roster gives one variant per student: drop --variants and --seed")
    if roster is None and secret_path is not None:
        raise click.UsageError("--secret goes with --roster")
    from .exam.load import DEFAULT_EXAM, peek_problem_paths
    exam_file = exam_path or DEFAULT_EXAM
    exam_bytes = read_input(exam_file, "exam file")
    roster_bytes = read_input(roster, "roster") if roster is not None else None
    key = None
    if roster is not None:
        from .exam.seeds import default_key_path, load_or_create_key
        secret_path = secret_path or default_key_path()
        # an existing key is read now (the fingerprint covers it); a missing one is created
        # only once every input has been checked
        key = load_or_create_key(secret_path, out_dir, create=False)
    paths = {folder: f"{exam_file}: problem_paths"
             for folder in peek_problem_paths(exam_file, exam_bytes)}
    paths.update({str(p.resolve()): f"--problems {p}" for p in problem_dirs})
    choices = {"exam": str(exam_file.resolve()), "variants": variants, "seed": seed,
               "formats": formats, "duplex": duplex, "key_audience": key_audience}
    fingerprint = build_fingerprint(__version__, exam_bytes, roster_bytes, key, choices,
                                    problem_paths=paths)
    if not force and out_dir.is_dir() and (roster is None or key is not None):
        with OutputFolder(out_dir) as folder:
            if folder.is_up_to_date(fingerprint):
                if not quiet:
                    click.echo(f"wsgen: {out_dir} is up to date (same exam, roster, options, "
                               "problems and generator; every file as written); nothing to do",
                               err=True)
                return
    import dataclasses

    from .pipeline.run import run_build
    from .pipeline.sheets import BuildPlan
    from .exam.load import load_exam
    from .exam.roster import load_roster
    # Every input is read and checked before the output folder is touched.
    with _problem_output():
        exam = load_exam(exam_file, extra_paths=problem_dirs)
    if seed is not None:
        exam = dataclasses.replace(exam, master_seed=seed)
    if key_audience is not None:
        exam = dataclasses.replace(exam, key=key_audience)
    students = load_roster(roster) if roster is not None else None
    from .formats import get_format
    for name in formats:
        get_format(name).check_inputs(exam, students, exam_file, roster)
    if roster is not None and key is None:
        key = load_or_create_key(secret_path, out_dir, on_create=_announce_secret)
        fingerprint = build_fingerprint(__version__, exam_bytes, roster_bytes, key, choices,
                                        problem_paths=paths)
    plan = BuildPlan(exam=exam, variants=exam.variants if variants is None else variants,
                     formats=formats, students=students, key=key, duplex=duplex)
    with OutputFolder(out_dir) as folder:
        progress = _Progress(plan.count + 1, enabled=not quiet)
        try:
            summary = run_build(plan, folder, jobs=worker_count(jobs, plan.count + 1),
                                progress=progress,
                                fingerprint=fingerprint, force=force)
        finally:
            progress.close()
    if not quiet:
        removed = summary["stale_removed"]
        sheets = summary["sheets"]
        click.echo(f"wsgen: {sheets} variant{'' if sheets == 1 else 's'} ({', '.join(formats)}), "
                   f"{summary['files']} files in {out_dir}"
                   + (f"; removed {removed} files of the previous build" if removed else ""),
                   err=True)


def _announce_secret(path: Path) -> None:
    """A new roster secret is said loudly (even with -q): the variants depend on it."""
    click.echo(f"wsgen: warning: created a new roster secret {path}: every student's variant "
               "depends on it; keep it (and a copy): a build without this file draws other "
               "numbers than the papers printed now", err=True)


def worker_count(requested: int | None, sheets: int) -> int:
    """Worker processes for `sheets` sheets: as requested (default: all), but no more than
    the cores this process may run on, nor than the chunks of work there are."""
    from .pipeline.run import CHUNK
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    chunks = -(-sheets // CHUNK)
    return max(1, min(requested or cores, cores, chunks))


@cli.command("formats")
def list_formats():
    """List the output formats."""
    from .formats import available_formats, get_format
    for name in available_formats():
        click.echo(f"{name:<8} {get_format(name).description}")


@cli.command()
@click.argument("responses", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--answers", "answers_path", required=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="The build's answers.json (the manifest the papers were printed from).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Where to write grades.csv and feedback/: a new folder, or one an earlier "
                   "`wsgen grade` wrote (its files are replaced; files it did not write are "
                   "never overwritten or removed).")
@click.option("--amc", "amc_project", type=click.Path(path_type=Path, file_okay=False),
              help="Read the responses from the scans auto-multiple-choice analysed in this "
                   "project (a build's amc/ folder); RESPONSES, if given, adds typed rows.")
@click.option("--moodle", "moodle_exports", multiple=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="Read the responses from a Moodle quiz's Responses report (CSV).")
@click.option("--canvas", "canvas_exports", multiple=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="Read the responses from a Canvas quiz's Student Analysis (CSV; repeat "
                   "for each quiz).")
@click.option("--manual", "manual_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Points graded by hand: a CSV with student (or variant), label, points, and "
                   "optionally part and comment.")
@click.option("--sigfigs", type=int, metavar="N",
              help="Grade every number to N significant digits (overrides answers.json).")
@click.option("--decimals", type=int, metavar="N",
              help="Grade every number to N decimal places (overrides answers.json).")
@click.option("--rel", type=float, help="Grade every number within this relative tolerance.")
@click.option("--abs", "abs_", type=float, help="Grade every number within this absolute tolerance.")
@click.option("--rounded-credit", type=float, metavar="SHARE",
              help="The share of an answer a right value rounded more coarsely than asked earns.")
@click.option("--rounded-digits", type=int, metavar="N",
              help="How many digits fewer than asked still count as rounded (0: none).")
@click.option("--credit", type=click.Choice(["entries", "all-or-nothing"]),
              help="Partial credit entry by entry, or all or nothing, for vectors, matrices "
                   "and lists.")
@click.option("--mistake-credit", multiple=True, metavar="ID=SHARE",
              help="The share of an answer a diagnosed mistake earns (repeatable).")
@click.option("--choice-penalty", metavar="SHARE|guessing",
              help="The share of a choice answer a wrong option costs (guessing: 1/(options-1)).")
@click.option("--follow-credit", type=float, metavar="SHARE",
              help="The share of an answer that is wrong only because an earlier answer was, "
                   "computed right from the student's own values (default 1; 0: none).")
@click.option("--decimal-comma", is_flag=True, default=None,
              help="Read a comma as the decimal separator (1,5 is 1.5).")
@click.option("--gradebook", type=click.Choice(["canvas", "moodle", "csv"]),
              help="Also write the totals as an LMS gradebook import file (needs --roster).")
@click.option("--roster", "roster_path", type=click.Path(path_type=Path, dir_okay=False),
              help="The class's roster (id, name; email, sis_id, idnumber, section, "
                   "participant): names on the feedback, accounts for --gradebook and "
                   "--feedback-zip.")
@click.option("--assignment", metavar="NAME",
              help="The gradebook's assignment column (default: the exam's title).")
@click.option("--feedback", "feedback_formats", metavar="FORMATS", default="md,html",
              show_default=True,
              help="The forms of each paper's feedback, comma-separated: md, html, pdf.")
@click.option("--feedback-zip", type=click.Choice(["moodle", "plain"]),
              help="Also zip the feedback files for an LMS: moodle (its assignment's feedback "
                   "zip upload; needs --roster with participant numbers) or plain.")
@click.option("--key-url", metavar="URL",
              help="Where the build folder is published (http or https): the feedback links "
                   "to each student's key there (default: a relative link to the build).")
def grade(responses, answers_path, out_dir, amc_project, moodle_exports, canvas_exports,
          manual_path, sigfigs, decimals, rel, abs_, rounded_credit, rounded_digits, credit,
          mistake_credit, choice_penalty, follow_credit, decimal_comma, gradebook, roster_path,
          assignment, feedback_formats, feedback_zip, key_url):
    """Score RESPONSES (a CSV shaped like answers.csv with a response column), or the
    scanned answer sheets of --amc PROJECT, against answers.json: grades.csv, one feedback
    file per paper, and the class's most frequent mistakes on stdout.  The grading policy
    is answers.json's (the exam's [grading]); the options override it for every slot.  See
    docs/grading.md and docs/amc.md."""
    from .grading.grade import GradeOptions
    options = GradeOptions(_grade_settings(sigfigs, decimals, rel, abs_, rounded_credit,
                                           rounded_digits, credit, mistake_credit,
                                           choice_penalty, decimal_comma, follow_credit),
                           manual_path, gradebook, roster_path, assignment,
                           _feedback_formats(feedback_formats), feedback_zip,
                           _key_url(key_url))
    if moodle_exports or canvas_exports:
        if responses is not None or amc_project is not None or (moodle_exports and canvas_exports):
            raise click.UsageError("give one source of responses: RESPONSES, --amc, --moodle "
                                   "or --canvas")
        from .grading.lms import run_lms_grade
        lines = run_lms_grade("moodle" if moodle_exports else "canvas",
                              list(moodle_exports or canvas_exports), answers_path, out_dir,
                              options)
    elif amc_project is not None:
        from .grading.amc import run_amc_grade
        lines = run_amc_grade(amc_project, answers_path, out_dir, responses, options)
    elif responses is None:
        raise click.UsageError("give RESPONSES (a CSV file) or --amc PROJECT")
    else:
        from .grading.grade import run_grade
        lines = run_grade(responses, answers_path, out_dir, options)
    for line in lines:
        click.echo(line)


def _feedback_formats(text: str) -> tuple[str, ...]:
    from .grading.feedback import FORMATS
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(f"{', '.join(unknown) or 'nothing'}: choose from "
                                 f"{', '.join(FORMATS)}", param_hint="'--feedback'")
    return chosen


def _key_url(url: str | None) -> str | None:
    if url is None:
        return None
    from .errors import UserError
    from .grading.feedback import check_key_url
    try:
        return check_key_url(url)
    except UserError as exc:
        raise click.BadParameter(str(exc).split(": ", 1)[1], param_hint="'--key-url'") from None


def _grade_settings(sigfigs, decimals, rel, abs_, rounded_credit, rounded_digits, credit,
                    mistake_credit, choice_penalty, decimal_comma, follow_credit=None):
    """The policy settings `wsgen grade`'s options give (UsageError naming the option)."""
    from .grading.policy import parse_settings
    table: dict = {}
    for name, value in (("sigfigs", sigfigs), ("decimals", decimals), ("rel", rel), ("abs", abs_),
                        ("rounded_credit", rounded_credit), ("rounded_digits", rounded_digits),
                        ("credit", credit), ("decimal_comma", decimal_comma),
                        ("follow_credit", follow_credit)):
        if value is not None:
            table[name] = value
    if choice_penalty is not None:
        try:
            table["choice_penalty"] = choice_penalty if choice_penalty == "guessing" \
                else float(choice_penalty)
        except ValueError:
            raise click.BadParameter("expected a share from 0 to 1 or guessing",
                                     param_hint="--choice-penalty") from None
    credits = {}
    for item in mistake_credit:
        mistake, sep, share = item.partition("=")
        try:
            credits[mistake.strip()] = float(share)
        except ValueError:
            sep = ""
        if not sep:
            raise click.BadParameter(f"expected ID=SHARE (missing_factor_2=0.5), got {item!r}",
                                     param_hint="--mistake-credit")
    if credits:
        table["mistake_credit"] = credits
    try:
        return parse_settings(table, "")
    except ValueError as exc:
        option, _, why = str(exc).partition(":")
        option = "--" + option.split(".")[0].replace("_", "-")
        raise click.BadParameter(why.strip(), param_hint=option) from None


@cli.command()
@click.argument("claims", type=click.Path(path_type=Path, dir_okay=False))
@PROBLEMS_OPTION
def audit(claims, problem_dirs):
    """Check the values of a hand-written key (a TOML claims file) against the exact
    answers: exit 0 when every claim is right, 1 when one is wrong.  See docs/grading.md."""
    from .grading.audit import audit_file
    with _problem_output():
        report = audit_file(claims, problem_dirs)
    for line in report.lines():
        click.echo(line)
    if report.wrong:
        raise click.exceptions.Exit(EXIT.FINDINGS)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure becomes one line on stderr and an exit status."""
    try:
        # without standalone mode, click returns a command's Exit code instead of exiting
        status = cli.main(args=argv, prog_name="wsgen", standalone_mode=False)
        if isinstance(status, int):
            return status
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        return EXIT.BAD_INPUT
    except click.ClickException as exc:
        click.echo(f"wsgen: error: {exc.format_message()}", err=True)
        return EXIT.BAD_INPUT
    except (UserError, ProblemError, FormatError) as exc:
        click.echo(f"wsgen: error: {_one_line(exc)}", err=True)
        return EXIT.BAD_INPUT
    except BuildError as exc:
        click.echo(f"wsgen: error: {_one_line(exc)}", err=True)
        return EXIT.FAILED
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo(f"wsgen: interrupted; {_AFTER_SIGNAL}", err=True)
        return EXIT.INTERRUPTED
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except _Terminated:
        click.echo(f"wsgen: terminated; {_AFTER_SIGNAL}", err=True)
        return EXIT.TERMINATED
    except OSError as exc:       # the environment refused: a path too long, a device gone …
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"wsgen: error: {where}{exc.strerror or exc}", err=True)
        return EXIT.BAD_INPUT
    except MemoryError:
        click.echo("wsgen: error: out of memory", err=True)
        return EXIT.FAILED
    except Exception as exc:  # noqa: BLE001 - never a traceback
        click.echo(f"wsgen: internal error: {type(exc).__name__}: {_one_line(exc)} "
                   "(please report it)", err=True)
        return EXIT.FAILED
    return EXIT.OK


#: What a build interrupted by a signal leaves: signals wait while files move into place.
_AFTER_SIGNAL = ("nothing half-written is left: the output folder holds the previous build "
                 "(if any), or this one if it had finished")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every clean-up runs."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def entry_point() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.exit(main())
