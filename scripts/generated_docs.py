"""The documentation that comes from the code, written from it: docs/problems.md (every
shipped problem's settings, params, answers and declared mistakes, from the registry)
and the README's generated sections (the problem table, the exit statuses, the source
tree), each between `<!-- generated: NAME -->` and `<!-- end NAME -->`.

`python scripts/generated_docs.py` rewrites them; tests/test_generated_docs.py checks
that they are up to date."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

HEAD = """# The shipped problems

Every problem below ships with wsgen (`wsgen list`), with an exact step-by-step key,
formulas derived or verified by SymPy, an independent float64 check that holds over
its whole settings box (`wsgen stress ID --corners`), and declared common mistakes.
Settings are written `name = default (min–max)`; answers as `name` (kind, part).
"""


def _number(value) -> str:
    return str(value)


def _setting(name: str, entry: dict) -> str:
    text = f"`{name} = {entry['default']}`"
    if "min" in entry or "max" in entry:
        text += f" ({_number(entry.get('min', ''))}–{_number(entry.get('max', ''))})"
    return text


def _variant(problem):
    from wsgen import NoCanonical, draw_variant
    try:
        return draw_variant(problem, problem.Options(), None)
    except NoCanonical:
        return draw_variant(problem, problem.Options(), 0)


def problem_docs() -> str:
    from wsgen import discover
    from wsgen.core.settings import describe_options
    registry = discover()
    parts = [HEAD]
    for pid in sorted(registry.problems):
        if not registry.sources[pid].startswith("built-in"):
            continue
        problem = registry.problems[pid]
        variant = _variant(problem)
        settings = ", ".join(_setting(n, e) for n, e in describe_options(problem.Options).items())
        params = ", ".join(f"`{f.name}`" for f in dataclasses.fields(variant.params))
        answers = ", ".join(f"`{a.name}` ({a.kind}, {a.part})" if a.part else f"`{a.name}` ({a.kind})"
                            for a in variant.solution.answers)
        # every declared mistake (a variant leaves out those that give its correct values)
        declared = problem.mistakes(variant.params, variant.options, variant.solution)
        mistakes = ", ".join(f"`{m.id}` ({m.label})" for m in declared)
        parts.append(f"\n## `{pid}`: {problem.title}\n\n- Settings: {settings}.\n"
                     f"- Params: {params}.\n- Answers: {answers}.\n- Mistakes: {mistakes}.\n")
    return "".join(parts)


ROOT = Path(__file__).resolve().parent.parent


def _first_paragraph(docstring: str | None) -> str:
    return " ".join((docstring or "").strip().split("\n\n")[0].split())


def problem_table() -> str:
    """The README's table of the shipped problems: id and the module's own summary."""
    import importlib
    from wsgen import discover
    registry = discover()
    rows = ["| problem | what it asks |", "| --- | --- |"]
    for pid in sorted(registry.problems):
        if registry.sources[pid] != "built-in":
            continue
        module = importlib.import_module(type(registry.problems[pid]).__module__)
        rows.append(f"| `{pid}` | {_first_paragraph(module.__doc__)} |")
    return "\n".join(rows)


def exit_statuses() -> str:
    """The README's table of exit statuses, from wsgen.errors.EXIT_STATUSES."""
    from wsgen.errors import EXIT_STATUSES
    rows = ["| status | meaning |", "| --- | --- |"]
    rows += [f"| {', '.join(map(str, codes))} | {meaning} |" for codes, meaning in EXIT_STATUSES.items()]
    return "\n".join(rows)


#: The source tree's top level beside the engine, described once here.
_TOP = (("problems/", "one module per shipped problem (the package `wsgen.problems`)"),
        ("templates/", "the Jinja templates of each markup (md, tex, html, amc) and the "
                       "`wsgen new` scaffold (the package `wsgen.templates`)"),
        ("scripts/", "installers of the system tools (TeX, Chromium, php, AMC) and "
                     "generators of documentation and fixtures"),
        ("tests/", "the test suite in tiers (tests/conftest.py) and `make bench` (bench.py)"),
        ("docs/", "the guides (authoring, grading, multiple choice, AMC) and generated references"))


def source_tree() -> str:
    """The README's source tree: the engine's subpackages and top-level modules, each
    with the first paragraph of its docstring, then the project's other folders."""
    import ast
    engine = ROOT / "generator"
    lines = ["    generator/            the engine, installed as the package `wsgen`"]

    def describe(path: Path) -> str:
        return _first_paragraph(ast.get_docstring(ast.parse(path.read_text("utf-8"))))

    entries = []
    for package in sorted(p for p in engine.iterdir() if (p / "__init__.py").is_file()):
        entries.append((f"{package.name}/", describe(package / "__init__.py")))
    for module in sorted(engine.glob("*.py")):
        if module.name not in ("__init__.py", "__main__.py"):
            entries.append((module.name, describe(module)))
    width = 20
    for name, text in entries:
        lines += _wrapped(f"      {name:<{width}}", text)
    for name, text in _TOP:
        lines += _wrapped(f"    {name:<{width + 2}}", text)
    return "\n".join(lines)


def _wrapped(head: str, text: str, limit: int = 96) -> list[str]:
    import textwrap
    body = textwrap.wrap(text, width=limit - len(head)) or [""]
    return [head + body[0]] + [" " * len(head) + line for line in body[1:]]


SECTIONS = {"problems": problem_table, "exit statuses": exit_statuses, "tree": source_tree}


def readme(text: str) -> str:
    """The README with every generated section written anew."""
    import re
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n)(?:.*?\n)?(<!-- end {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md: no section <!-- generated: {name} --> … <!-- end {name} -->")
        text = pattern.sub(lambda m: m.group(1) + make() + "\n" + m.group(2), text)
    return text


if __name__ == "__main__":
    target = ROOT / "docs" / "problems.md"
    target.write_text(problem_docs(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
    path = ROOT / "README.md"
    path.write_text(readme(path.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"wrote the generated sections of {path}\n")
