"""The command line: `wsgen` / `python -m generator`.

Every error a user can cause is one line on stderr and exit status 2.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .build import ALL_FORMATS, run_build, with_master_seed
from .documents import Exam, ExamItem, Sheet, SheetItem
from .errors import UserError
from .exam import MAX_VARIANTS, load_exam, make_options
from .jsonout import dumps, variant_record
from .registry import ProblemError, load_problems
from .render import render_sheet
from .variants import draw_variant

__all__ = ["main"]

SEED = click.IntRange(0, 2 ** 63 - 1)


def _problem(problem_id: str):
    problems = load_problems()
    if problem_id not in problems:
        raise click.BadParameter(f"unknown problem {problem_id!r} (known: "
                                 f"{', '.join(sorted(problems))})", param_hint="'PROBLEM'")
    return problems[problem_id]


def _parse_options(problem, pairs: tuple[str, ...]):
    """`--option name=value` pairs (values read as TOML scalars) into Options."""
    import tomllib
    values = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
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
    unknown = [f for f in names if f not in ALL_FORMATS]
    if unknown or not names:
        raise click.BadParameter(f"unknown format {', '.join(unknown) or '(none)'} "
                                 f"(choose from {', '.join(ALL_FORMATS)})", param_hint="'--formats'")
    return names


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wsgen")
def cli():
    """Worked-solution documents for deep-learning exams."""


@cli.command("list")
def list_problems():
    """List the problem ids and titles."""
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
@click.option("--exam", "exam_path", type=click.Path(path_type=Path, dir_okay=False),
              help="The exam file (default: exam.toml of the project).")
@click.option("--variants", type=click.IntRange(0, MAX_VARIANTS),
              help="Random variants besides the canonical one (default: the exam's).")
@click.option("--seed", type=SEED, help="Master seed (default: the exam's).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("output"), show_default=True, help="Output folder.")
@click.option("--formats", default=",".join(ALL_FORMATS), show_default=True,
              help="Comma-separated: " + ", ".join(ALL_FORMATS) + ".")
@click.option("--duplex", is_flag=True, help="Start every variant on an odd page in the booklets.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
def build(exam_path, variants, seed, out_dir, formats, duplex, quiet):
    """Build question sheets, answer keys and answers.json for every variant."""
    formats = _formats(formats)
    exam = with_master_seed(load_exam(exam_path), seed)
    summary = run_build(exam, out_dir, formats, variants, duplex=duplex)
    if not quiet:
        click.echo(f"wsgen: {summary['sheets']} variants ({', '.join(formats)}), "
                   f"{summary['files']} files in {out_dir}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and exit status 2."""
    try:
        cli.main(args=argv, prog_name="wsgen", standalone_mode=False)
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
