"""The command line: `wsgen` / `python -m generator`.

Every error a user can cause is one line on stderr and exit status 2.  Heavy
libraries (SymPy, NumPy, TeX tooling) are imported inside the commands, so an
up-to-date build answers in a fraction of a second.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from . import __version__
from .errors import ProblemError, UserError, read_input

__all__ = ["main"]

SEED = click.IntRange(0, 2 ** 63 - 1)
FORMATS = ("md", "json", "pdf")
MAX_VARIANTS = 100_000


def _problem(problem_id: str):
    from .registry import load_problems
    problems = load_problems()
    if problem_id not in problems:
        raise click.BadParameter(f"unknown problem {problem_id!r} (known: "
                                 f"{', '.join(sorted(problems))})", param_hint="'PROBLEM'")
    return problems[problem_id]


def _parse_options(problem, pairs: tuple[str, ...]):
    """`--option name=value` pairs (values read as TOML scalars) into Options."""
    import tomllib

    from .exam import make_options
    values = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="'--option'")
        try:
            values[name.strip()] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            values[name.strip()] = raw.strip()
    try:
        return make_options(problem, values, where="--option")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--option'") from None


def _formats(value: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(f.strip() for f in value.split(",") if f.strip()))
    unknown = [f for f in names if f not in FORMATS]
    if unknown or not names:
        raise click.BadParameter(f"unknown format {', '.join(unknown) or '(none)'} "
                                 f"(choose from {', '.join(FORMATS)})", param_hint="'--formats'")
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
def list_problems():
    """List the problem ids and titles."""
    from .registry import load_problems
    for problem_id, problem in sorted(load_problems().items()):
        click.echo(f"{problem_id:<22} {problem.title}")


@cli.command()
@click.argument("problem_id", metavar="PROBLEM")
@click.option("--seed", type=SEED, help="The variant seed (as printed on a key).")
@click.option("--canonical", is_flag=True, help="The original exam's numbers.")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--option", "option_pairs", multiple=True, metavar="NAME=VALUE",
              help="A problem option, e.g. --option m=3 (repeatable).")
def show(problem_id, seed, canonical, fmt, option_pairs):
    """Print one variant of PROBLEM: its key (md) or its JSON record."""
    problem = _problem(problem_id)
    if canonical and seed is not None:
        raise click.UsageError("--seed and --canonical exclude each other; give one")
    if not canonical and seed is None:
        raise click.UsageError("give --seed N or --canonical")
    options = _parse_options(problem, option_pairs)
    from .documents import Exam, ExamItem, Sheet, SheetItem
    from .jsonout import dumps, variant_record
    from .render import render_sheet
    from .variants import draw_variant
    try:
        variant = draw_variant(problem, options, None if canonical else seed)
    except ValueError as exc:
        raise click.UsageError(f"{problem_id}: {exc}") from None
    if fmt == "json":
        click.echo(dumps(variant_record(variant)), nl=False)
        return
    exam = Exam(title=problem.title, course="", date="", instructions="", master_seed=0,
                variants=0, items=(ExamItem(problem_id, problem_id, 0, options),))
    sheet = Sheet(exam=exam, variant_id="canonical" if canonical else "random",
                  variant_index=0, items=(SheetItem("", 0, variant),))
    click.echo(render_sheet(sheet, "md", "key"), nl=False)


@cli.command()
@click.argument("problem_id", metavar="PROBLEM")
@click.option("-n", "count", type=click.IntRange(1, 1_000_000), default=1000, show_default=True,
              help="How many variants to draw.")
@click.option("--seed", "first_seed", type=SEED, default=0, show_default=True,
              help="The first seed; seeds first, first+1, … are drawn.")
@click.option("--option", "option_pairs", multiple=True, metavar="NAME=VALUE")
def stress(problem_id, count, first_seed, option_pairs):
    """Draw PROBLEM many times; report ranges, repeats, redraws, failures, option positions."""
    problem = _problem(problem_id)
    options = _parse_options(problem, option_pairs)
    from .stress import stress as run_stress
    report = run_stress(problem, options, count, first_seed)
    for line in report.lines():
        click.echo(line)
    if report.check_failures:
        raise click.exceptions.Exit(1)


@cli.command()
@click.option("--exam", "exam_path", type=click.Path(path_type=Path, dir_okay=False),
              help="The exam file (default: exam.toml of the project).")
@click.option("--variants", type=click.IntRange(0, MAX_VARIANTS),
              help="Random variants besides the canonical one (default: the exam's).")
@click.option("--seed", type=SEED, help="Master seed (default: the exam's).")
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False),
              help="CSV with columns id,name: one variant per student.")
@click.option("--secret", "secret_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Key file for per-student seeds (created on first use, mode 0600; "
                   "default ~/.config/wsgen/roster-secret.key).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("output"), show_default=True, help="Output folder.")
@click.option("--formats", default=",".join(FORMATS), show_default=True,
              help="Comma-separated: " + ", ".join(FORMATS) + ".")
@click.option("--duplex", is_flag=True, help="Start every variant on an odd page in the booklets.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), help="Worker processes (default: cores).")
@click.option("--force", is_flag=True, help="Rebuild even when nothing has changed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, nothing printed on success.")
def build(exam_path, variants, seed, roster, secret_path, out_dir, formats, duplex, jobs, force, quiet):
    """Build question sheets, answer keys and manifests for every variant."""
    from .fingerprint import build_fingerprint
    from .writers import is_up_to_date
    formats = _formats(formats)
    if roster is not None and (variants is not None or seed is not None):
        raise click.UsageError("--roster gives one variant per student: drop --variants and --seed")
    if roster is None and secret_path is not None:
        raise click.UsageError("--secret goes with --roster")
    from .exam import DEFAULT_EXAM
    exam_file = exam_path or DEFAULT_EXAM
    exam_bytes = read_input(exam_file, "exam file")
    roster_bytes = read_input(roster, "roster") if roster is not None else None
    key = None
    if roster is not None:
        from .studentkeys import default_key_path, load_or_create_key
        key = load_or_create_key(secret_path or default_key_path(), out_dir)
    fingerprint = build_fingerprint(__version__, exam_bytes, roster_bytes, key, {
        "exam": str(exam_file.resolve()), "variants": variants, "seed": seed,
        "formats": formats, "duplex": duplex})
    if not force and is_up_to_date(out_dir, fingerprint):
        if not quiet:
            click.echo(f"wsgen: {out_dir} is up to date (same exam, roster, options and "
                       f"generator); nothing to do", err=True)
        return

    import dataclasses

    from .build import BuildPlan, run_build
    from .exam import load_exam
    from .roster import load_roster
    exam = load_exam(exam_file)
    if seed is not None:
        exam = dataclasses.replace(exam, master_seed=seed)
    students = load_roster(roster) if roster is not None else None
    plan = BuildPlan(exam=exam, variants=exam.variants if variants is None else variants,
                     formats=formats, students=students, key=key, duplex=duplex)
    progress = _Progress(plan.count + 1, enabled=not quiet)
    try:
        summary = run_build(plan, out_dir, jobs=jobs, progress=progress, fingerprint=fingerprint)
    finally:
        progress.close()
    if not quiet:
        click.echo(f"wsgen: {summary['sheets']} variants ({', '.join(formats)}), "
                   f"{summary['files']} files in {out_dir}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and exit status 2."""
    try:
        # without standalone mode, click returns a command's Exit code instead of exiting
        status = cli.main(args=argv, prog_name="wsgen", standalone_mode=False)
        if isinstance(status, int):
            return status
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"wsgen: error: {exc.format_message()}", err=True)
        return 2
    except UserError as exc:
        click.echo(f"wsgen: error: {exc}", err=True)
        return 2
    except ProblemError as exc:  # a broken problem module: the developer's error, not the user's
        click.echo(f"wsgen: {exc}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("wsgen: aborted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return 0


def entry_point() -> None:
    sys.exit(main())
