"""The documentation that comes from the code is up to date: docs/problems.md and the
README's generated sections (scripts/generated_docs.py), and the facts the README states
in prose match the constants the code enforces."""
from pathlib import Path

from conftest import load_script, run_cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _generator():
    return load_script("generated_docs")


def test_problem_docs_are_up_to_date():
    written = (ROOT / "docs" / "problems.md").read_text(encoding="utf-8")
    assert written == _generator().problem_docs(), "run: .venv/bin/python scripts/generated_docs.py"


def test_readme_generated_sections_are_up_to_date():
    assert README == _generator().readme(README), "run: .venv/bin/python scripts/generated_docs.py"


def test_readme_and_course_bank_name_every_shipped_problem(problems):
    bank = (ROOT / "examples" / "course-bank.toml").read_text(encoding="utf-8")
    for pid in problems:
        assert f"| `{pid}` |" in README, pid
        assert f'problem = "{pid}"' in bank, pid


def test_readme_limits_are_the_codes():
    from wsgen.core.distractors import MAX_OPTIONS, MIN_OPTIONS
    from wsgen.errors import INPUT_LIMIT
    from wsgen.exam.spec import MAX_SPACE_LINES
    assert f"`multiple_choice` (N = {MIN_OPTIONS}–{MAX_OPTIONS}:" in README
    assert f"regular files of at most {INPUT_LIMIT // 1024 ** 2} MiB" in README
    assert f"number of lines, 0–{MAX_SPACE_LINES};" in README


def test_every_exit_status_the_command_line_returns_is_documented():
    import ast
    from wsgen.errors import EXIT, EXIT_STATUSES
    documented = {code for codes in EXIT_STATUSES for code in codes}
    used = {getattr(EXIT, node.attr)
            for node in ast.walk(ast.parse((ROOT / "generator" / "cli.py").read_text("utf-8")))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "EXIT"}
    assert used <= documented and used >= {0, 1, 2, 3, 130, 143}, (used, documented)


def _block(text: str, opening: str) -> str:
    start = text.index(opening) + len(opening)
    return text[start:text.index("```", start)]


def test_the_grading_walk_through_shows_what_wsgen_grade_writes(tmp_path):
    """docs/grading.md's walk-through: its responses file, graded against a build of the
    default exam, gives the grades.csv and the feedback the page shows."""
    page = (ROOT / "docs" / "grading.md").read_text(encoding="utf-8")
    responses = tmp_path / "responses.csv"
    header = "variant,student,label,answer,entry,response\n"
    responses.write_text(header + _block(page, "```csv\n" + header), encoding="utf-8")
    assert run_cli("build", "--out", tmp_path / "build", "--formats", "json", "-q")[0] == 0
    status, out, err = run_cli("grade", responses, "--answers", tmp_path / "build" / "answers.json",
                               "--out", tmp_path / "grades")
    assert status == 0, err
    shown = _block(page, "```csv\nvariant,student,Q1(a)")
    assert (tmp_path / "grades" / "grades.csv").read_text(encoding="utf-8") == \
        "variant,student,Q1(a)" + shown
    ben = (tmp_path / "grades" / "feedback" / "ben.md").read_text(encoding="utf-8")
    section = _block(page, "```markdown\n## Q3 (matrix\\_backprop)")
    assert "## Q3 (matrix\\_backprop)" + section in ben
    summary = _block(page, "--out grades\n")
    assert out.replace(str(tmp_path / "grades"), "grades").replace(str(responses), "responses.csv") \
        == summary
