"""Hostile inputs: each ends in one line naming the file:line and field (exit 2), or
typesets as written."""
import contextlib
import io
import os
import shutil
import subprocess
import time

import pytest

from wsgen.cli import main
from wsgen.errors import UserError
from wsgen.exam.load import load_exam
from wsgen.exam.roster import load_roster
from wsgen.exam.seeds import load_or_create_key
from wsgen.formats.markup import escape_markdown, escape_tex

EXAM = """title = "Quiz"
id = "quiz-1"
seed = 5
variants = 0

[[problems]]
label = "Q1"
problem = "matrix_backprop"
points = 4
"""
KEY = "ab" * 32 + "\n"

needs_tex = pytest.mark.tex


def cli(*args):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main([str(a) for a in args])
    return status, err.getvalue()


def refused(*args):
    """The CLI's one error line for a build (exit 2)."""
    status, err = cli("build", "-q", "--formats", "md", *args)
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def exam_file(tmp_path, text=EXAM, name="quiz.toml"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def exam_error(tmp_path, text):
    path = exam_file(tmp_path, text)
    with pytest.raises(UserError) as info:
        load_exam(path)
    return str(info.value), str(path)


def roster_file(tmp_path, text, name="roster.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def roster_error(tmp_path, text):
    with pytest.raises(UserError) as info:
        load_roster(roster_file(tmp_path, text))
    return str(info.value)


def pdf_text(path):
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


# --- exam fields ------------------------------------------------------------------------

@pytest.mark.parametrize("field,char", [
    ("title", "\\u0000"), ("title", "\\u0001"), ("title", "\\u001b"), ("title", "\\u007f"),
    ("title", "\\u0085"), ("title", "\\u009f"), ("title", "\\n"), ("course", "\\u001b"),
    ("date", "\\t"), ("id", "\\u0007"), ("instructions", "\\u001b"), ("instructions", "\\r"),
    ("instructions", "\\u0085"),
])
def test_control_characters_are_refused(tmp_path, field, char):
    if field == "title":
        text = EXAM.replace('"Quiz"', f'"Qu{char}iz"')
    elif field == "id":
        text = EXAM.replace('"quiz-1"', f'"quiz{char}1"')
    else:
        text = EXAM.replace('title = "Quiz"', f'title = "Quiz"\n{field} = "a{char}b"')
    message, path = exam_error(tmp_path, text)
    code = {"\\n": "000A", "\\t": "0009", "\\r": "000D"}.get(char, char[2:].upper())
    line = 1 if field == "title" else 2
    assert message == f"{path}:{line}: {field}: control character U+{code} not allowed"


def test_control_character_in_label_is_refused(tmp_path):
    message, path = exam_error(tmp_path, EXAM.replace('"Q1"', '"Q\\u001b1"'))
    assert message == f"{path}:7: problems[1].label: control character U+001B not allowed"


def test_instructions_keep_tabs_and_newlines(tmp_path):
    text = EXAM.replace('title = "Quiz"', 'title = "Quiz"\ninstructions = "a\\tb\\nc"')
    assert load_exam(exam_file(tmp_path, text)).instructions == "a\tb\nc"


@pytest.mark.parametrize("field,limit", [("title", 200), ("course", 200), ("date", 200),
                                         ("id", 200), ("instructions", 5000)])
def test_text_fields_have_length_limits(tmp_path, field, limit):
    def exam(n):
        if field in ("title", "id"):
            old = {"title": 'title = "Quiz"', "id": 'id = "quiz-1"'}[field]
            return EXAM.replace(old, f'{field} = "{"x" * n}"')
        return EXAM.replace('title = "Quiz"', f'title = "Quiz"\n{field} = "{"x" * n}"')
    load_exam(exam_file(tmp_path, exam(limit)))
    message, path = exam_error(tmp_path, exam(limit + 1))
    assert message == f"{path}:{1 if field == 'title' else 2}: {field}: at most {limit} characters, got {limit + 1}"


def test_huge_title_is_one_short_line(tmp_path):
    exam = exam_file(tmp_path, EXAM.replace('"Quiz"', '"' + "x" * 200_000 + '"'))
    err = refused("--exam", exam, "--out", tmp_path / "out")
    assert f"{exam}:1: title: at most 200 characters, got 200000" in err and len(err) < 300


def test_label_length_limit(tmp_path):
    message, path = exam_error(tmp_path, EXAM.replace('"Q1"', '"' + "L" * 41 + '"'))
    assert message == f"{path}:7: problems[1].label: at most 40 characters, got 41"


@pytest.mark.parametrize("points", ["-1", "1001", "5000", str(2 ** 63 - 1)])
def test_points_out_of_range(tmp_path, points):
    message, path = exam_error(tmp_path, EXAM.replace("points = 4", f"points = {points}"))
    assert message == f"{path}:9: problems[1].points: expected 0 to 1000, got {points}"


def test_points_limits_are_accepted(tmp_path):
    for points in (0, 1000):
        exam = load_exam(exam_file(tmp_path, EXAM.replace("points = 4", f"points = {points}")))
        assert exam.items[0].points == points


def test_exam_with_byte_order_mark_loads(tmp_path):
    exam = load_exam(exam_file(tmp_path, b"\xef\xbb\xbf" + EXAM.encode("utf-8")))
    assert exam.title == "Quiz"


def test_exam_not_utf8_names_the_line(tmp_path):
    message, path = exam_error(tmp_path, EXAM.encode("utf-8").replace(b"Quiz", b"Qu\xe9z"))
    assert message.startswith(f"{path}:1: not UTF-8 text")


def test_invalid_toml_names_the_line(tmp_path):
    message, path = exam_error(tmp_path, EXAM.replace("seed = 5", "seed = = 5"))
    assert message.startswith(f"{path}:3: invalid TOML: ")


def test_duplicate_label_names_its_line(tmp_path):
    text = EXAM + '\n[[problems]]\nlabel = "Q1"\nproblem = "triplet_loss"\n'
    message, path = exam_error(tmp_path, text)
    assert message == (f"{path}:12: problems[2].label: duplicate label 'Q1' "
                       "(also problems[1], line 7)")


def test_default_label_clashing_with_a_given_one_names_a_line(tmp_path):
    text = EXAM.replace('label = "Q1"', 'label = "Q2"') + '\n[[problems]]\nproblem = "triplet_loss"\n'
    message, path = exam_error(tmp_path, text)
    assert message.startswith(f"{path}:11: problems[2].label: duplicate label 'Q2'")


def test_problems_written_as_a_table_names_its_line(tmp_path):
    text = EXAM.replace("[[problems]]", "[problems]")
    exam = exam_file(tmp_path, text)
    err = refused("--exam", exam, "--out", tmp_path / "out")
    assert f"{exam}:6: problems: expected an array of tables: write [[problems]]" in err


# --- rosters ----------------------------------------------------------------------------

def test_roster_unterminated_quote_names_its_line(tmp_path):
    message = roster_error(tmp_path, 'id,name\ns1,"Alice\ns2,Bob\ns3,Carol\n')
    assert message.endswith("roster.csv:2: unterminated quote: the quoted field that starts on "
                             "this line never closes")


def test_roster_name_over_a_line_break_is_refused(tmp_path):
    message = roster_error(tmp_path, 'id,name\ns0,Zoe\ns1,"Alice\ns2,Bob"\ns3,Carol\n')
    assert message.endswith("roster.csv:3: name: a line break inside a field (an unmatched quote?)")


@pytest.mark.parametrize("sid", ["canonical", "Canonical", "CANONICAL"])
def test_roster_id_canonical_is_reserved(tmp_path, sid):
    message = roster_error(tmp_path, f"id,name\ns1,Ann\n{sid},Bob\n")
    assert message.endswith(f"roster.csv:3: id: '{sid}' is reserved (it names the canonical "
                            "sheet's folder)")


def test_roster_ids_differing_in_case_are_duplicates(tmp_path):
    message = roster_error(tmp_path, "id,name\nab,Ann\nAB,Bob\n")
    assert "roster.csv:3: duplicate id 'AB'" in message and "line 2" in message


@pytest.mark.parametrize("name", ["A\x1bnn", "A\x00nn", "A\x7fnn", "A\x85nn"])
def test_roster_control_characters_are_refused(tmp_path, name):
    message = roster_error(tmp_path, f"id,name\ns1,Bob\ns2,{name}\n")
    assert message.endswith(f"roster.csv:3: name: control character U+{ord(name[1]):04X} not allowed")


def test_roster_name_length_limit(tmp_path):
    load_roster(roster_file(tmp_path, "id,name\ns1," + "n" * 200 + "\n"))
    message = roster_error(tmp_path, "id,name\ns1," + "n" * 201 + "\n")
    assert message.endswith("roster.csv:2: name: at most 200 characters, got 201")


def test_roster_with_byte_order_mark_and_crlf_loads(tmp_path):
    students = load_roster(roster_file(tmp_path, '\ufeffid,name\r\ns1,"Doe, Jane"\r\n'))
    assert students[0].name == "Doe, Jane"


# --- input files ------------------------------------------------------------------------

def test_exam_from_a_device_is_refused_quickly(tmp_path):
    start = time.monotonic()
    err = refused("--exam", "/dev/zero", "--out", tmp_path / "out")
    assert "/dev/zero: cannot read exam file: not a regular file" in err
    assert time.monotonic() - start < 5


def test_roster_from_a_device_is_refused_quickly(tmp_path):
    start = time.monotonic()
    err = refused("--exam", exam_file(tmp_path), "--roster", "/dev/urandom",
                  "--secret", tmp_path / "k.key", "--out", tmp_path / "out")
    assert "/dev/urandom: cannot read roster: not a regular file" in err
    assert time.monotonic() - start < 5


def test_loaders_read_through_read_input(tmp_path):
    from wsgen.errors import INPUT_LIMIT
    big = tmp_path / "big.toml"
    big.write_bytes(EXAM.encode() + b"#" * INPUT_LIMIT)
    with pytest.raises(UserError, match="exam file larger than"):
        load_exam(big)
    with pytest.raises(UserError, match="not a regular file"):
        load_roster("/dev/zero")


# --- the roster key (--secret) ----------------------------------------------------------

def secret_error(tmp_path, secret, out=None):
    exam = exam_file(tmp_path)
    roster = roster_file(tmp_path, "id,name\ns1,Ann\n")
    return refused("--exam", exam, "--roster", roster, "--secret", secret,
                   "--out", out or tmp_path / "out")


def test_secret_dangling_symlink(tmp_path):
    link = tmp_path / "dangling.key"
    link.symlink_to(tmp_path / "missing" / "key")
    assert f"--secret {link}: a dangling symlink" in secret_error(tmp_path, link)


def test_secret_below_a_regular_file(tmp_path):
    (tmp_path / "file").write_text("x")
    err = secret_error(tmp_path, tmp_path / "file" / "k.key")
    assert f"{tmp_path / 'file'} is not a folder" in err


@pytest.mark.parametrize("path", ["/proc/self/status", "/proc/wsgen-test.key", "/sys/wsgen.key"])
def test_secret_in_proc_is_refused(tmp_path, path):
    assert f"--secret {path}: not a key file (a system path" in secret_error(tmp_path, path)


def test_secret_in_unwritable_folder(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() == 0:           # root writes anywhere: make creating the file fail
        import wsgen.exam.seeds as seeds
        real_open = os.open

        def deny(path, flags, *args):
            if flags & os.O_CREAT:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args)
        monkeypatch.setattr(seeds.os, "open", deny)
    else:
        folder.chmod(0o500)
    try:
        err = secret_error(tmp_path, folder / "k.key")
    finally:
        folder.chmod(0o700)
    assert f"--secret {folder / 'k.key'}: cannot use the key file: Permission denied" in err


def test_secret_readable_by_others_is_refused(tmp_path):
    key = tmp_path / "k.key"
    key.write_text(KEY)
    key.chmod(0o644)
    err = secret_error(tmp_path, key)
    assert "mode 0644" in err and f"chmod 600 {key}" in err
    key.chmod(0o600)
    assert len(load_or_create_key(key, tmp_path / "out")) == 32


def test_secret_inside_output_folder_through_symlink(tmp_path):
    key = tmp_path / "keys" / "k.key"
    key.parent.mkdir()
    key.write_text(KEY)
    key.chmod(0o600)
    out = tmp_path / "out"
    out.mkdir()
    (out / "link.key").symlink_to(key)            # a link inside out to a key outside
    assert "must not live inside the output folder" in secret_error(tmp_path, out / "link.key", out)
    inner = out / "real.key"                        # a link outside to a key inside out
    inner.write_text(KEY)
    inner.chmod(0o600)
    (tmp_path / "outside.key").symlink_to(inner)
    assert "must not live inside the output folder" in secret_error(tmp_path, tmp_path / "outside.key", out)
    linked_out = tmp_path / "out-link"               # the output folder given through a link
    linked_out.symlink_to(out)
    assert "must not live inside the output folder" in secret_error(tmp_path, inner, linked_out)


# --- user text prints literally ---------------------------------------------------------

@pytest.mark.parametrize("line", ["---", "===", "***", "- - -", "___", "# Heading", "> quote",
                                  "1. item", "2) item", "+ item", "- item", "    code", "-", "1."])
def test_markdown_escapes_block_markers(line):
    escaped = escape_markdown("Previous line\n" + line).split("\n")[1]
    assert not escaped.startswith("  ")                 # no indented code block
    head = escaped.lstrip(" ")
    if line.strip()[0] in "-=*_#>+":                     # a marker: escaped
        assert head[0] == "\\", escaped
    elif line.strip()[0].isdigit():                      # 1. / 2): the dot or parenthesis escaped
        assert head[1] == "\\", escaped


def test_instructions_with_rule_line_stay_text_in_markdown(tmp_path):
    text = EXAM.replace('title = "Quiz"', 'title = "Quiz"\ninstructions = "Read this\\n---\\n# not a heading"')
    out = tmp_path / "out"
    status, err = cli("build", "-q", "--formats", "md", "--exam", exam_file(tmp_path, text), "--out", out)
    assert status == 0, err
    md = (out / "canonical" / "questions.md").read_text()
    assert "Read this\n\\---\n\\# not a heading" in md


def test_tex_escapes_quotes_and_ligatures():
    assert escape_tex("it's `x`") == r"it\textquotesingle{}s \textasciigrave{}x\textasciigrave{}"
    assert "<{}<" in escape_tex("<<") and ",{}," in escape_tex(",,")
    assert escape_tex("a\x1bb\x85c") == "a?b?c"


@needs_tex
def test_names_and_quotes_typeset_and_extract(tmp_path):
    # (characters no PDF font has, CJK or emoji, are refused: tests/test_paper.py)
    title = "Ħal Għargħur — ĦħĸĿŀŉŦŧſ it's `x` \"q\" << >> ,, !` Ωμέγα Жанна"
    text = EXAM.replace('"Quiz"', "'''" + title + "'''")
    names = ["Ħal Għargħur", "Νίκος Παπαδόπουλος", "Άννα Ϊ ϋ", "Жанна Дарк", "Україна Їжак Ўладзімір",
             "Ђорђе Ёлка", "O'Brien `x`", "Zoë Ðuro Şahin Țepeș"]
    rows = "".join(f's{i},"{n}"\n' for i, n in enumerate(names))
    roster = roster_file(tmp_path, "id,name\n" + rows)
    key = tmp_path / "k.key"
    out = tmp_path / "out"
    status, err = cli("build", "-q", "--formats", "pdf", "--exam", exam_file(tmp_path, text),
                      "--roster", roster, "--secret", key, "--out", out)
    assert status == 0, err
    pdfs = sorted(out.rglob("questions.pdf"))
    assert len(pdfs) == len(names) + 1                  # and the canonical sheet
    extracted = "\n".join(pdf_text(p) for p in pdfs)
    assert title in " ".join(extracted.split())          # the title may wrap in the heading
    for name in names:
        assert name in extracted, name


# --- issue 28 ---------------------------------------------------------------------------

@pytest.mark.parametrize("first, second, needle", [
    ('"Q1"', '"Q1 "', "duplicate label 'Q1'"),
    ('"Q1"', '"  Q1"', "duplicate label 'Q1'"),
    ('"Q 1"', '"Q  1"', "duplicate label 'Q 1'"),
    ('"Q1"', '"q1"', "duplicate label 'q1' (also problems[1] 'Q1'"),
    ('"Q1"', '""', "problems[2].label: must not be blank"),
    ('"Q1"', '"   "', "problems[2].label: must not be blank"),
])
def test_labels_are_normalised_and_must_differ(tmp_path, first, second, needle):
    """Issue 28, item 4: labels equal after trimming blanks (or in another case) would land
    in one Moodle category, one random pool holding two problems."""
    text = EXAM.replace('label = "Q1"', f"label = {first}") + \
        f'\n[[problems]]\nlabel = {second}\nproblem = "triplet_loss"\n'
    message, path = exam_error(tmp_path, text)
    assert message.startswith(f"{path}:12: problems[2].label: ") and needle in message


def test_labels_keep_their_inner_text(tmp_path):
    text = EXAM.replace('label = "Q1"', 'label = "  Q1  (a) "')
    assert load_exam(exam_file(tmp_path, text)).items[0].label == "Q1 (a)"


def test_readme_gives_the_space_limit_the_code_enforces():
    """Issue 28, item 15: README said 0–60 lines; the exam loader allows MAX_SPACE_LINES."""
    from pathlib import Path

    from wsgen.exam.load import MAX_SPACE_LINES
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    assert f"number of lines, 0–{MAX_SPACE_LINES};" in readme
    assert MAX_SPACE_LINES == 45          # a page of A4 or letter holds about 48 lines


def test_decomposed_text_is_composed_on_load_and_typesets(tmp_path):
    """Issue 28, item 17: NFD text (e + U+0301, as macOS file names and some editors write
    it) was refused for PDF, the message showing an invisible combining mark."""
    import unicodedata

    from wsgen.formats import get_format
    nfd = lambda text: unicodedata.normalize("NFD", text)
    text = EXAM.replace('title = "Quiz"', f'title = "{nfd("Prüfung — Éléments")}"').replace(
        'label = "Q1"', f'label = "{nfd("Q1 é")}"')
    exam = load_exam(exam_file(tmp_path, text))
    assert exam.title == "Pr\u00fcfung — \u00c9l\u00e9ments" and exam.items[0].label == "Q1 \u00e9"
    students = load_roster(roster_file(tmp_path, f"id,name,group\ns1,{nfd('José Müller')},{nfd('é')}\n"))
    assert students[0].name == "Jos\u00e9 M\u00fcller" and students[0].extra == (("group", "\u00e9"),)
    get_format("pdf").check_inputs(exam, students, "exam.toml", "roster.csv")   # no UserError


@pytest.mark.parametrize("sid", ["CON", "con", "nul.txt", "Aux.csv", "COM1", "lpt9.x", "ann.",
                                 "a.b."])
def test_roster_ids_no_system_can_hold_as_a_folder_are_refused(tmp_path, sid):
    """Issue 28, item 18: Windows reserves device names (with any extension) and drops a
    trailing dot: such a student folder cannot be copied there."""
    message = roster_error(tmp_path, f"id,name\ns1,Ann\n{sid},Bob\n")
    assert message.startswith(f"{tmp_path / 'roster.csv'}:3: id {sid!r}")


@pytest.mark.parametrize("sid", ["console", "nul1", "com10", "a.b", "CON-1"])
def test_roster_ids_near_reserved_names_are_fine(tmp_path, sid):
    assert load_roster(roster_file(tmp_path, f"id,name\n{sid},Bob\n"))[0].id == sid


def test_more_options_than_a_problem_can_offer_is_bad_input(tmp_path):
    """Issue 28, item 6: conv2d (4×4 input, 3×3 kernel, stride 2, padding 1 by default)
    asked with multiple_choice = 5 failed inside the build, exit 3.  Its output shape
    (2, 2) has, by hand, these distinct options: the declared mistake padding_ignored,
    ⌊(4 − 3)/2⌋ + 1 = 1 → (1, 1); and the slips that keep a shape of counts: ×10 (20, 20)
    and ×2 (4, 4) (÷2 gives (1, 1) again; a sign flip or ÷10 is not a count; a shape is
    not transposed).  So 4 options at most."""
    text = EXAM.replace('problem = "matrix_backprop"', 'problem = "conv2d"\nmultiple_choice = 5')
    status, err = cli("build", "--exam", exam_file(tmp_path, text), "--out", tmp_path / "out",
                      "--formats", "json", "-q")
    assert status == 2 and err.count("\n") == 1, err
    assert f"{tmp_path / 'quiz.toml'}:9: problems[1].multiple_choice: conv2d cannot offer 5" in err
    assert "(multiple_choice = 4)" in err and not (tmp_path / "out").exists()
    text = text.replace("multiple_choice = 5", "multiple_choice = 4")
    status, err = cli("build", "--exam", exam_file(tmp_path, text), "--out", tmp_path / "out",
                      "--formats", "json", "-q")
    assert status == 0, err


@needs_tex
def test_names_in_any_script_and_decomposed_accents_typeset(tmp_path):
    # Once refused for the PDF: a Vietnamese name, one typed on macOS in decomposed form
    # (e + U+0301 COMBINING ACUTE ACCENT), a Chinese one and a title in Korean: all built,
    # each extracting as written (up to NFC: a decomposed accent may come out composed).
    import unicodedata
    title = "중간고사 Quiz"
    names = ["Nguyễn Thị Minh Khai", "Zoe\u0301 Dupre\u0301", "王小明"]
    text = EXAM.replace('"Quiz"', '"' + title + '"')
    roster = roster_file(tmp_path, "id,name\n" + "".join(f's{i},"{n}"\n' for i, n in enumerate(names)))
    out = tmp_path / "out"
    status, err = cli("build", "-q", "--formats", "pdf", "--exam", exam_file(tmp_path, text),
                      "--roster", roster, "--secret", tmp_path / "k.key", "--out", out)
    assert status == 0, err
    for i, name in enumerate(names):
        extracted = unicodedata.normalize("NFC", pdf_text(out / "students" / f"s{i}" / "questions.pdf"))
        assert unicodedata.normalize("NFC", name) in extracted, (name, extracted[:200])
        assert title in extracted

