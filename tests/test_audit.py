"""`wsgen audit`: a hand-written key's values against the exact answers, entry by entry,
with the declared mistakes that explain the wrong ones; bad claims files exit 2."""
import json
import re
from pathlib import Path

import pytest
import sympy as sp

from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "audit-matrix-backprop.toml"

# matrix_backprop's canonical numbers by hand: W = [[0.1, 0.5], [-0.3, 0.8]], x = [0.2, 0.4]
#   Wx = [0.02 + 0.2, -0.06 + 0.32] = [0.22, 0.26];  L = 0.0484 + 0.0676 = 0.116 = 29/250
#   dL/dW = 2 (Wx) xᵀ = [[0.088, 0.176], [0.104, 0.208]]
#   dL/dx = 2 Wᵀ(Wx) = 2 [0.022 - 0.078, 0.11 + 0.208] = [-0.112, 0.636]
RIGHT = """\
problem = "matrix_backprop"
variant = "canonical"

[claims]
Wx = [0.22, 0.26]
L = "29/250"
dL_dW = [[0.088, 0.176], [0.104, 0.208]]
dL_dx = [-0.112, "159/250"]
"""


def audit(tmp_path, text, name="claims.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, *run_cli("audit", path)


def verdicts(out: str) -> dict:
    """{"name[entry]": line} of the report."""
    found = {}
    for line in out.splitlines():
        match = re.match(r"  (\w+(?:\[[\d,]+\])?)\s+\S+\s+(correct|WRONG)", line)
        if match:
            found[match.group(1)] = line
    return found


def test_right_claims_exit_0(tmp_path):
    _, status, out, err = audit(tmp_path, RIGHT)
    assert status == 0, err
    lines = verdicts(out)
    assert len(lines) == 9 and all("correct" in line for line in lines.values())
    assert "exact 11/50" in lines["Wx[1]"] and "exact 29/250" in lines["L"]
    assert "exact 26/125" in lines["dL_dW[2,2]"] and "exact 159/250" in lines["dL_dx[2]"]
    assert out.rstrip().endswith("9 of 9 claimed values correct")


def test_the_shipped_example_finds_its_one_slip(tmp_path):
    status, out, err = run_cli("audit", EXAMPLE)
    assert status == 1, err
    lines = verdicts(out)
    wrong = {k: v for k, v in lines.items() if "WRONG" in v}
    assert list(wrong) == ["dL_dW[2,2]"]
    assert "exact 26/125 = 0.208" in wrong["dL_dW[2,2]"]
    assert "no declared mistake gives this value" in wrong["dL_dW[2,2]"]
    assert len(lines) == 9 and "8 of 9 claimed values correct, 1 wrong" in out


def test_wrong_claims_explained_by_declared_mistakes(tmp_path):
    # factor 2 dropped: gradients halved; W for Wᵀ: 2 W (Wx) = 2 [0.152, 0.142];
    # the norm for its square: sqrt(0.116); the outer product transposed: 2 x (Wx)ᵀ
    text = RIGHT.replace('dL_dx = [-0.112, "159/250"]', "dL_dx = [0.304, 0.284]") \
                .replace('L = "29/250"', 'L = "sqrt(29/250)"') \
                .replace("dL_dW = [[0.088, 0.176], [0.104, 0.208]]",
                         "dL_dW = [[0.044, 0.088], [0.052, 0.104]]")
    _, status, out, err = audit(tmp_path, text)
    assert status == 1, err
    lines = verdicts(out)
    assert "no_transpose" in lines["dL_dx[1]"] and "no_transpose" in lines["dL_dx[2]"]
    assert "norm_not_squared" in lines["L"] and "WRONG" in lines["L"]
    for entry in ("1,1", "1,2", "2,1", "2,2"):
        assert "WRONG" in lines[f"dL_dW[{entry}]"] and "missing_factor_2" in lines[f"dL_dW[{entry}]"]
    assert re.search(r"dL_dx: the whole claimed value is what declared mistake no_transpose", out)
    assert re.search(r"dL_dW: the whole claimed value is what declared mistake missing_factor_2", out)
    assert "2 of 9 claimed values correct, 7 wrong" in out
    # 2 x (Wx)ᵀ = [[0.088, 0.104], [0.176, 0.208]]: the diagonal is right by coincidence
    text = RIGHT.replace("dL_dW = [[0.088, 0.176], [0.104, 0.208]]",
                         "dL_dW = [[0.088, 0.104], [0.176, 0.208]]")
    _, status, out, _ = audit(tmp_path, text)
    lines = verdicts(out)
    assert status == 1 and "correct" in lines["dL_dW[1,1]"] and "correct" in lines["dL_dW[2,2]"]
    assert "transposed_outer" in lines["dL_dW[1,2]"] and "transposed_outer" in lines["dL_dW[2,1]"]


def test_choice_claims_and_a_seeded_variant(tmp_path):
    # triplet loss, canonical: options no margin (A), correct (B), swapped (C), unsquared (D)
    _, status, out, _ = audit(tmp_path, 'problem = "triplet_loss"\nvariant = "canonical"\n'
                                        '[claims]\nformula = "C"\nloss = 0.03\n')
    lines = verdicts(out)
    assert status == 1 and "WRONG" in lines["formula"] and "swapped_positive_negative" in lines["formula"]
    assert "correct" in lines["loss"]
    # a seed: the claims are the values `wsgen show` gives for it, checked with SymPy here
    status, shown, _ = run_cli("show", "matrix_backprop", "--seed", "42", "--format", "json")
    record = json.loads(shown)
    L = sp.Rational(record["answers"]["L"]["exact"])
    Wx = [sp.Rational(e) for e in record["answers"]["Wx"]["exact"]]
    assert L == sum(v ** 2 for v in Wx)
    text = (f'problem = "matrix_backprop"\nseed = 42\n[claims]\nL = "{L}"\n'
            f'Wx = [{", ".join(repr(float(v)) for v in Wx)}]\n')
    _, status, out, err = audit(tmp_path, text)
    assert status == 0, out + err
    assert "seed 42" in out.splitlines()[0]


def test_explicit_params_give_the_canonical_answers(tmp_path):
    text = RIGHT.replace('variant = "canonical"\n',
                         '\n[params]\nW = [[0.1, 0.5], [-0.3, 0.8]]\nx = ["1/5", 0.4]\n')
    _, status, out, err = audit(tmp_path, text)
    assert status == 0, out + err
    assert "given parameters" in out.splitlines()[0]
    # other numbers: W = I, x = [1, 2] -> L = 5; Wx = x
    text = ('problem = "matrix_backprop"\n[params]\nW = [[1, 0], [0, 1]]\nx = [1, 2]\n'
            '[claims]\nL = 5\nWx = [1, 3]\n')
    _, status, out, _ = audit(tmp_path, text)
    lines = verdicts(out)
    assert status == 1 and "correct" in lines["L"] and "correct" in lines["Wx[1]"]
    assert "WRONG" in lines["Wx[2]"] and "exact 2" in lines["Wx[2]"]


BAD = [
    ("not TOML", 'problem = "matrix_backprop"\n[claims\nL = 1\n', 2, "invalid TOML"),
    ("unknown field", 'problem = "matrix_backprop"\nvariant = "canonical"\nkey = 1\n[claims]\nL = 1\n',
     3, "key: unknown field"),
    ("no problem", 'variant = "canonical"\n[claims]\nL = 1\n', None, "problem: missing"),
    ("unknown problem", 'problem = "nope"\nvariant = "canonical"\n[claims]\nL = 1\n', 1,
     "problem: unknown problem"),
    ("two variants", 'problem = "matrix_backprop"\nvariant = "canonical"\nseed = 3\n[claims]\nL = 1\n',
     3, "exactly one of"),
    ("no variant", 'problem = "matrix_backprop"\n[claims]\nL = 1\n', None, "exactly one of"),
    ("bad variant", 'problem = "matrix_backprop"\nvariant = "first"\n[claims]\nL = 1\n', 2,
     "variant: expected \"canonical\""),
    ("negative seed", 'problem = "matrix_backprop"\nseed = -1\n[claims]\nL = 1\n', 2, "seed:"),
    ("no canonical", 'problem = "matrix_backprop"\nvariant = "canonical"\noptions = { m = 3 }\n'
                     '[claims]\nL = 1\n', 2, "canonical variant is 2×2"),
    ("unknown option", 'problem = "matrix_backprop"\nvariant = "canonical"\noptions = { q = 3 }\n'
                       '[claims]\nL = 1\n', 3, "options.q: unknown option"),
    ("no claims", 'problem = "matrix_backprop"\nvariant = "canonical"\n', None, "claims: missing"),
    ("unknown answer", 'problem = "matrix_backprop"\nvariant = "canonical"\n[claims]\nL = 1\nM = 2\n',
     5, "claims.M: matrix_backprop has no answer 'M'"),
    ("short vector", 'problem = "matrix_backprop"\nvariant = "canonical"\n[claims]\nWx = [0.22]\n',
     4, "claims.Wx: expected a list of 2 numbers"),
    ("vector for a matrix", 'problem = "matrix_backprop"\nvariant = "canonical"\n[claims]\n'
                            'dL_dW = [1, 2, 3, 4]\n', 4, "claims.dL_dW: expected a 2×2 matrix"),
    ("list for a number", 'problem = "matrix_backprop"\nvariant = "canonical"\n[claims]\nL = [1]\n',
     4, "claims.L: expected a single number"),
    ("unreadable string", 'problem = "matrix_backprop"\nvariant = "canonical"\n[claims]\n'
                          'L = "0.1l6"\n', 4, "claims.L: cannot read '0.1l6'"),
    ("huge", 'problem = "matrix_backprop"\nvariant = "canonical"\n[claims]\nL = "1e300*1e300"\n', 4,
     "claims.L: cannot read"),
    ("boolean", 'problem = "matrix_backprop"\nvariant = "canonical"\n[claims]\nL = true\n', 4,
     "claims.L: expected a number"),
    ("not a letter", 'problem = "triplet_loss"\nvariant = "canonical"\n[claims]\nformula = 2\n', 4,
     "claims.formula: expected an option letter"),
    ("no such option", 'problem = "triplet_loss"\nvariant = "canonical"\n[claims]\nformula = "F"\n', 4,
     "no option F"),
    ("ragged params", 'problem = "matrix_backprop"\n[params]\nW = [[0.1, 0.5], [0.3]]\nx = [1, 2]\n'
                      '[claims]\nL = 1\n', 3, "params.W: expected a matrix"),
    ("missing param", 'problem = "matrix_backprop"\n[params]\nW = [[1, 0], [0, 1]]\n[claims]\nL = 1\n',
     2, "params: missing x"),
    ("unknown param", 'problem = "matrix_backprop"\n[params]\nW = [[1, 0], [0, 1]]\nx = [1, 2]\n'
                      'y = 1\n[claims]\nL = 1\n', 5, "params.y: not a parameter"),
    ("irrational param", 'problem = "matrix_backprop"\n[params]\nW = [[1, 0], [0, 1]]\n'
                         'x = ["sqrt(2)", 2]\n[claims]\nL = 1\n', 4, "not an exact rational"),
]


@pytest.mark.parametrize("text, line, needle", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_claims_files_exit_2_naming_file_line_field(tmp_path, text, line, needle):
    path, status, out, err = audit(tmp_path, text)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (f"{path}:{line}: " if line else f"{path}: ") in err, err
    assert needle in err, err


def test_missing_claims_file(tmp_path):
    status, _, err = run_cli("audit", tmp_path / "none.toml")
    assert status == 2 and "none.toml" in err and err.count("\n") == 1


# --- issue 28 ---------------------------------------------------------------------------

def test_explicit_params_must_fit_the_options(tmp_path):
    """Issue 28, items 13 and 25: a 3×3 W under the default options (m = n = 2) was audited
    and reported as "(m=2, n=2, …)"; a 25×25 one took 85 s.  The shapes must be those the
    options give, and options stay within their ranges."""
    rows = lambda n: "[" + ", ".join("[" + ", ".join(["0.1"] * n) + "]" for _ in range(n)) + "]"
    text = (f'problem = "matrix_backprop"\n\n[params]\nW = {rows(3)}\nx = [0.1, 0.2, 0.3]\n\n'
            '[claims]\nL = 0.116\n')
    path, status, out, err = audit(tmp_path, text)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert f"{path}:4: params.W: a 3×3 matrix, but matrix_backprop has a 2×2 matrix under the " \
           "options m=2, n=2" in err
    path, status, out, err = audit(tmp_path, text.replace(rows(3), rows(25)).replace(
        "x = [0.1, 0.2, 0.3]", "x = [" + ", ".join(["0.1"] * 25) + "]"))
    assert status == 2 and "a 25×25 matrix" in err
    # the options that give 3×3 (within their ranges, 1 to 6): audited, reported with them
    path, status, out, err = audit(tmp_path, 'options = { m = 3, n = 3 }\n' + text)
    assert status == 1 and "(m=3, n=3," in out and re.search(r"^\s+L\s", out, re.M)
    path, status, out, err = audit(tmp_path, 'options = { m = 25, n = 25 }\n' + text)
    assert status == 2 and "options" in err and "m" in err and err.count("\n") == 1


def test_extreme_params_give_one_line_and_no_warning(tmp_path):
    """Issue 28, item 25: W with 1e300 printed NumPy's RuntimeWarnings before the error
    (checked in a fresh process: a warning already shown in this one would be hidden)."""
    import subprocess
    import sys
    path = tmp_path / "claims.toml"
    path.write_text('problem = "matrix_backprop"\n\n[params]\nW = [[1e300, 0.5], [-0.3, 0.8]]\n'
                    'x = [0.2, 0.4]\n\n[claims]\nL = 0.116\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "wsgen", "audit", str(path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert "Warning" not in done.stderr and done.stderr.startswith(f"wsgen: error: {path}:")
