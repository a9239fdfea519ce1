"""docs/problems.md lists every shipped problem as the registry describes it."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_problem_docs_are_up_to_date():
    spec = importlib.util.spec_from_file_location("problem_docs", ROOT / "scripts" / "problem_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = (ROOT / "docs" / "problems.md").read_text(encoding="utf-8")
    assert written == module.problem_docs(), "run: .venv/bin/python scripts/problem_docs.py"


def test_readme_and_course_bank_name_every_shipped_problem(problems):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bank = (ROOT / "examples" / "course-bank.toml").read_text(encoding="utf-8")
    for pid in problems:
        assert f"| `{pid}` |" in readme, pid
        assert f'problem = "{pid}"' in bank, pid
