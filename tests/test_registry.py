import re
import sys
import textwrap

import pytest

from generator import ProblemError, load_problems

GOOD = '''
from dataclasses import dataclass
import sympy as sp
from generator import Answer, Problem, Solution, Step, register, CheckFailed

@dataclass(frozen=True)
class Options:
    k: int = 1

@dataclass(frozen=True)
class Params:
    a: sp.Rational

@register
class P(Problem):
    id = "{pid}"
    title = "t"
    Options = Options
    Params = Params
    def canonical(self, o): return Params(sp.Rational(1, 2))
    def generate(self, rng, o): return Params(sp.Rational(rng.integer(1, 9), 10))
    def statement(self, p, o): return (Step(text="a"),)
    def solve(self, p, o): return Solution((), (Answer("b", "b", {solve}),))
    def check(self, p, o, s):
        if s.answer("b") != 2 * p.a: raise CheckFailed("b")
'''


def make_package(tmp_path, name, modules):
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for mod, text in modules.items():
        (pkg / f"{mod}.py").write_text(textwrap.dedent(text))
    sys.path.insert(0, str(tmp_path))
    return name


def test_real_problems_load(problems):
    assert "matrix_backprop" in problems


def test_good_problem_registers(tmp_path):
    pkg = make_package(tmp_path, "probs_good", {"one": GOOD.format(pid="one", solve="2 * p.a")})
    assert list(load_problems(pkg)) == ["one"]


def test_duplicate_id_names_both_modules(tmp_path):
    pkg = make_package(tmp_path, "probs_dup", {"a": GOOD.format(pid="same", solve="2 * p.a"),
                                               "b": GOOD.format(pid="same", solve="2 * p.a")})
    with pytest.raises(ProblemError, match=r"probs_dup\.b: duplicate problem id 'same' .*probs_dup\.a"):
        load_problems(pkg)


def test_failing_self_check_names_module(tmp_path):
    pkg = make_package(tmp_path, "probs_bad", {"wrong": GOOD.format(pid="w", solve="3 * p.a")})
    with pytest.raises(ProblemError, match=r"probs_bad\.wrong: self-test failed: CheckFailed"):
        load_problems(pkg)


def test_missing_method_names_module(tmp_path):
    text = GOOD.format(pid="m", solve="2 * p.a").replace("    def check(self, p, o, s):\n"
                                                         "        if s.answer(\"b\") != 2 * p.a: raise CheckFailed(\"b\")\n", "")
    pkg = make_package(tmp_path, "probs_missing", {"nocheck": text})
    with pytest.raises(ProblemError, match=r"probs_missing\.nocheck: missing method check\(\)"):
        load_problems(pkg)


def test_import_error_names_module(tmp_path):
    pkg = make_package(tmp_path, "probs_syntax", {"broken": "def (:\n"})
    with pytest.raises(ProblemError, match=r"probs_syntax\.broken: import failed"):
        load_problems(pkg)


def test_declared_option_ranges_are_checked():
    from dataclasses import dataclass

    import pytest as _pytest

    from generator.options import check_ranges, option

    @dataclass(frozen=True)
    class Options:
        m: int = option(2, 1, 6)
        slope: float = option(0.01, 0, 1, open_ends=True)
        scale: float = option(1.0, 0, 10, open_low=True)
    check_ranges(Options())
    for bad, message in ((dict(m=7), "m must be between 1 and 6, got 7"),
                         (dict(slope=1.0), "slope must be in (0, 1), got 1.0"),
                         (dict(scale=0.0), "scale must be in (0, 10], got 0.0")):
        with _pytest.raises(ValueError, match=re.escape(message)):
            check_ranges(Options(**bad))
    check_ranges(Options(scale=10.0, m=1))   # closed ends are allowed


def test_default_outside_its_range_names_module(tmp_path):
    text = GOOD.format(pid="r", solve="2 * p.a").replace(
        "    k: int = 1", "    k: int = option(9, 1, 3)").replace(
        "from generator import Answer,", "from generator.options import option\nfrom generator import Answer,")
    pkg = make_package(tmp_path, "probs_range", {"ranged": text})
    with pytest.raises(ProblemError, match=r"probs_range\.ranged: default option out of its own range"):
        load_problems(pkg)
