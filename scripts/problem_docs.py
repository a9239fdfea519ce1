"""Write docs/problems.md from the registry: every shipped problem's settings, params,
answers and declared mistakes.  `python scripts/problem_docs.py` rewrites the file;
tests/test_problem_docs.py checks that it is up to date."""
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
        mistakes = ", ".join(f"`{m.id}` ({m.label})" for m in variant.mistakes)
        parts.append(f"\n## `{pid}`: {problem.title}\n\n- Settings: {settings}.\n"
                     f"- Params: {params}.\n- Answers: {answers}.\n- Mistakes: {mistakes}.\n")
    return "".join(parts)


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "problems.md"
    target.write_text(problem_docs(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
