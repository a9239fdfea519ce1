import re
import sys
import textwrap

import pytest

from conftest import PROBLEM_HEAD
from wsgen import ProblemError
from wsgen.quality.selftest import selftest
from wsgen.registry import discover as _discover


def discover(paths=()):
    """Problem discovery as the command line runs it: with the load-time self-test."""
    return _discover(paths, check=selftest)

GOOD = PROBLEM_HEAD + '''@register
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


def make_folder(tmp_path, name, modules):
    """A problem folder (as for --problems): one module per problem."""
    folder = tmp_path / name
    folder.mkdir()
    for mod, text in modules.items():
        (folder / f"{mod}.py").write_text(textwrap.dedent(text))
    return folder


def load(folder):
    return {pid: p for pid, p in discover([folder]).problems.items()
            if discover([folder]).sources[pid] == str(folder.resolve())}


def test_real_problems_load(problems):
    assert "matrix_backprop" in problems


def test_good_problem_registers(tmp_path):
    folder = make_folder(tmp_path, "good", {"one": GOOD.format(pid="one", solve="2 * p.a")})
    assert list(load(folder)) == ["one"]


def test_options_and_params_may_stay_at_module_level(tmp_path):
    text = GOOD.format(pid="lean", solve="2 * p.a").replace("    Options = Options\n", "")
    text = text.replace("    Params = Params\n", "")
    folder = make_folder(tmp_path, "lean", {"lean": text})
    problem = load(folder)["lean"]
    assert problem.Options.__name__ == "Options" and problem.Params.__name__ == "Params"


def test_missing_params_names_module_and_the_two_places(tmp_path):
    text = GOOD.format(pid="np", solve="2 * p.a").replace("    Params = Params\n", "")
    text = text.replace("class Params:", "class Numbers:").replace("Params(", "Numbers(")
    folder = make_folder(tmp_path, "np", {"np": text})
    with pytest.raises(ProblemError, match=r"np/np\.py: missing class attribute 'Params' "
                                           r"\(or a module-level dataclass of that name\)"):
        discover([folder])


def test_duplicate_id_names_both_modules(tmp_path):
    folder = make_folder(tmp_path, "dup", {"a": GOOD.format(pid="same", solve="2 * p.a"),
                                           "b": GOOD.format(pid="same", solve="2 * p.a")})
    with pytest.raises(ProblemError, match=r"duplicate problem id 'same': .*dup/a\.py.* and .*dup/b\.py"):
        discover([folder])


def test_id_of_a_shipped_problem_is_a_duplicate(tmp_path):
    folder = make_folder(tmp_path, "shadow", {"mb": GOOD.format(pid="matrix_backprop", solve="2 * p.a")})
    with pytest.raises(ProblemError, match=r"duplicate problem id 'matrix_backprop': built-in .* and .*shadow"):
        discover([folder])


def test_failing_self_check_names_module(tmp_path):
    folder = make_folder(tmp_path, "bad", {"wrong": GOOD.format(pid="w", solve="3 * p.a")})
    with pytest.raises(ProblemError, match=r"bad/wrong\.py: w: self-test failed \(canonical variant\): CheckFailed"):
        discover([folder])


def test_missing_method_names_module(tmp_path):
    text = GOOD.format(pid="m", solve="2 * p.a").replace("    def check(self, p, o, s):\n"
                                                         "        if s.answer(\"b\") != 2 * p.a: raise CheckFailed(\"b\")\n", "")
    folder = make_folder(tmp_path, "missing", {"nocheck": text})
    with pytest.raises(ProblemError, match=r"missing/nocheck\.py: m: missing method check\(\)"):
        discover([folder])


def test_import_error_names_module(tmp_path):
    folder = make_folder(tmp_path, "syntax", {"broken": "def (:\n"})
    with pytest.raises(ProblemError, match=r"syntax/broken\.py: import failed: SyntaxError"):
        discover([folder])


def test_placeholder_typo_is_an_error_at_load(tmp_path):
    text = GOOD.format(pid="typo", solve="2 * p.a").replace(
        'def solve(self, p, o): return Solution((), (Answer("b", "b", 2 * p.a),))',
        'def solve(self, p, o): return Solution((Step(title="Doubling", math=("b = @bb",), values={"b": 2 * p.a}),), (Answer("b", "b", 2 * p.a),))')
    folder = make_folder(tmp_path, "typo", {"typo": text})
    with pytest.raises(ProblemError, match=r"typo: self-test failed .*'Doubling'.*@bb has no value"):
        discover([folder])


def test_declared_option_ranges_are_checked():
    from dataclasses import dataclass

    import pytest as _pytest

    from wsgen.core.settings import check_ranges, option

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
        "from wsgen import Answer,", "from wsgen.core.settings import option\nfrom wsgen import Answer,")
    folder = make_folder(tmp_path, "range", {"ranged": text})
    with pytest.raises(ProblemError, match=r"range/ranged\.py: r: default option out of its own range"):
        discover([folder])
