"""The output folder never lies: interrupted, failed or concurrent builds leave either the
previous build or no claim of a finished one, and the next run knows which."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli

EXAM_ONE_PROBLEM = """title = "Quiz"
id = "quiz"
seed = 1
key = "instructor"
[[problems]]
label = "Q1"
problem = "matrix_backprop"
points = 4
"""


def wsgen(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "wsgen", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def finished(*args):
    proc = wsgen(*args)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


def assert_consistent(out: Path):
    """Every key in the folder shows the seeds that answers.json records for its variant."""
    manifest = json.loads((out / "answers.json").read_text())
    keys = 0
    for record in manifest["variants"]:
        folder = out / (record["variant"] if record["student"] is None else f"students/{record['student']}")
        key = (folder / "key.md").read_text()
        for problem in record["problems"]:
            origin = "canonical numbers" if problem["seed"] is None else f"seed {problem['seed']}"
            assert origin in key, (folder, origin)
        keys += 1
    assert keys == len(list(out.glob("v*/key.md"))) + len(list(out.glob("students/*/key.md"))) + 1


def snapshot(out: Path) -> dict:
    """The build's files (not the lock, nor an abandoned staging folder, which the next
    build removes)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != ".wsgen.lock"
            and not p.relative_to(out).parts[0].startswith(".wsgen-staging-")}


def wait_for(predicate, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def staged_files(out: Path) -> int:
    return sum(len(files) for staging in out.glob(".wsgen-staging-*")
               for _, _, files in os.walk(staging))


@pytest.mark.slow          # three builds killed part-way (about 30 s each)
@pytest.mark.parametrize("sig,after_files", [(signal.SIGKILL, 40), (signal.SIGKILL, 400),
                                             (signal.SIGTERM, 100)])
def test_killed_build_leaves_the_previous_build(tmp_path, sig, after_files):
    out = tmp_path / "out"
    status, _, err = finished("build", "--variants", 300, "--seed", 1, "--formats", "md,json",
                              "--out", out, "-j", 1, "-q")
    assert status == 0, err
    before = snapshot(out)
    proc = wsgen("build", "--variants", 300, "--seed", 2, "--formats", "md,json", "--out", out,
                 "-j", 2, "-q")
    assert wait_for(lambda: staged_files(out) >= after_files or proc.poll() is not None)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGTERM:
        assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
        assert not list(out.glob(".wsgen-staging-*"))          # cleaned on the way out
    assert snapshot(out) == before                             # nothing of seed 2 landed
    # the seed-1 build is still complete and known to be: the next run does nothing
    status, _, err = finished("build", "--variants", 300, "--seed", 1, "--formats", "md,json",
                              "--out", out, "-j", 1)
    assert status == 0 and "up to date" in err
    assert_consistent(out)
    assert not list(out.glob(".wsgen-staging-*"))              # the abandoned one is gone


def test_interrupted_commit_is_never_up_to_date(tmp_path, monkeypatch):
    """A crash half-way through moving files into place (simulated: the 5th rename fails)
    leaves a manifest that claims no finished build; the next run rebuilds, and neither
    build's fingerprint passes as up to date in between."""
    import wsgen.pipeline.output as output
    out = tmp_path / "out"
    assert run_cli("build", "--variants", 6, "--seed", 1, "--formats", "md,json", "--out", out, "-q")[0] == 0
    real, calls = os.replace, []

    def failing(src, dst):
        if ".wsgen-staging-" in str(src) and ".wsgen-staging-" not in str(dst):
            calls.append(dst)                       # a staged file moving into place
        if len(calls) == 5:
            raise OSError(5, "Input/output error")
        return real(src, dst)
    monkeypatch.setattr(output.os, "replace", failing)
    status, _, err = run_cli("build", "--variants", 6, "--seed", 2, "--formats", "md,json", "--out", out, "-q")
    assert status == 2 and "Input/output error" in err and err.count("\n") == 1
    monkeypatch.setattr(output.os, "replace", real)
    assert json.loads((out / ".wsgen-files.json").read_text())["state"] == "committing"
    for seed in (1, 2):
        status, _, err = run_cli("build", "--variants", 6, "--seed", seed, "--formats", "md,json", "--out", out)
        assert status == 0 and "up to date" not in err      # rebuilt, not trusted
        assert_consistent(out)


def test_changed_or_missing_file_is_not_up_to_date(tmp_path):
    out = tmp_path / "out"
    args = ("build", "--variants", 2, "--formats", "md,json", "--out", out)
    assert run_cli(*args)[0] == 0
    assert "up to date" in run_cli(*args)[2]
    key = out / "v001" / "key.md"
    good = key.read_bytes()
    key.write_bytes(good.replace(b"seed", b"SEED"))
    # a file changed since wsgen wrote it is not up to date, and is not overwritten unasked
    status, _, err = run_cli(*args)
    assert status == 2 and f"{key}: changed since wsgen wrote it" in err and err.count("\n") == 1
    assert b"SEED" in key.read_bytes()
    status, _, err = run_cli(*args, "--force")
    assert status == 0 and key.read_bytes() == good
    (out / "answers.csv").unlink()
    assert "up to date" not in run_cli(*args)[2] and (out / "answers.csv").exists()


def test_disk_full_leaves_the_previous_build(tmp_path):
    """A real 2 MB tmpfs where this test may mount one (root); a simulated ENOSPC elsewhere."""
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                             capture_output=True).returncode == 0
    try:
        out = mount / "out"
        assert run_cli("build", "--variants", 2, "--formats", "md,json", "--out", out, "-q")[0] == 0
        before = snapshot(out)
        if mounted:
            status, _, err = run_cli("build", "--variants", 400, "--formats", "md,json", "--out", out, "-q")
        else:
            import wsgen.pipeline.output as output
            real = output.Staging.write
            count = iter(range(10 ** 6))

            def full(self, rel, data):
                if next(count) > 30:
                    return self.guard(rel, lambda: (_ for _ in ()).throw(
                        OSError(28, "No space left on device")))
                return real(self, rel, data)
            output.Staging.write = full
            try:
                status, _, err = run_cli("build", "--variants", 400, "--formats", "md,json", "--out", out, "-q")
            finally:
                output.Staging.write = real
        assert status == 2 and "No space left on device" in err and err.count("\n") == 1, err
        assert snapshot(out) == before and not list(out.glob(".wsgen-staging-*"))
        status, _, err = run_cli("build", "--variants", 2, "--formats", "md,json", "--out", out)
        assert status == 0 and "up to date" in err
        assert_consistent(out)
    finally:
        if mounted:
            subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.slow
def test_concurrent_builds_into_one_folder_are_refused(tmp_path):
    out = tmp_path / "out"
    first = wsgen("build", "--variants", 300, "--seed", 1, "--formats", "md,json", "--out", out, "-j", 1, "-q")
    assert wait_for(lambda: staged_files(out) > 10 or first.poll() is not None)
    status, _, err = finished("build", "--variants", 300, "--seed", 2, "--formats", "md,json",
                              "--out", out, "-q")
    assert status == 2 and "another wsgen build is writing into this folder" in err
    assert err.count("\n") == 1
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert_consistent(out)
    manifest = json.loads((out / "answers.json").read_text())
    assert manifest["master_seed"] == 1


def test_files_wsgen_did_not_write_are_never_overwritten(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "answers.csv"
    mine.write_text("my own grades\n")
    status, _, err = run_cli("build", "--variants", 1, "--formats", "md,json", "--out", out, "-q")
    assert status == 2 and f"{mine}: not written by wsgen" in err and err.count("\n") == 1
    assert mine.read_text() == "my own grades\n" and not (out / "canonical").exists()
    status, _, err = run_cli("build", "--variants", 1, "--formats", "md,json", "--out", out, "-q", "--force")
    assert status == 0 and mine.read_text().startswith("variant,")


def test_dropping_a_format_removes_that_builds_files_and_says_so(tmp_path):
    """Keys of an earlier build beside a newer answers.json would disagree with it."""
    out = tmp_path / "out"
    assert run_cli("build", "--variants", 1, "--formats", "md,json", "--out", out)[0] == 0
    status, _, err = run_cli("build", "--variants", 1, "--seed", 9, "--formats", "json", "--out", out)
    # per sheet: key.md, questions.md and the figures' SVG files (the default exam's key
    # draws 3 figures, its question sheet 1)
    assert status == 0 and "removed 12 files of the previous build" in err
    assert not (out / "canonical" / "key.md").exists() and (out / "answers.json").exists()
    own = out / "notes.txt"
    own.write_text("keep me")
    assert run_cli("build", "--variants", 1, "--formats", "md,json", "--out", out, "-q")[0] == 0
    assert own.read_text() == "keep me"


def test_roster_ids_cannot_collide_with_the_builds_own_names(tmp_path):
    exam = tmp_path / "quiz.toml"
    exam.write_text(EXAM_ONE_PROBLEM)
    roster = tmp_path / "r.csv"
    roster.write_text("id,name\nanswers.json,Ann\nkeys-booklet.pdf,Kim\nv001,Vic\n")
    out = tmp_path / "out"
    status, _, err = run_cli("build", "--exam", exam, "--roster", roster, "--secret",
                             tmp_path / "k.key", "--out", out, "--formats", "md,json", "-q")
    assert status == 0, err
    assert (out / "answers.json").is_file() and (out / "students/answers.json/key.md").is_file()
    assert (out / "students/keys-booklet.pdf/questions.md").is_file()
    assert_consistent(out)
    records = json.loads((out / "answers.json").read_text())["variants"]
    assert [r["student"] for r in records] == [None, "answers.json", "keys-booklet.pdf", "v001"]


@pytest.mark.parametrize("where", ["below-a-file", "proc"])
def test_unwritable_output_is_one_line(tmp_path, where):
    if where == "below-a-file":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "out"
    else:
        out = Path("/proc/wsgen-no-such-folder/out")
    status, _, err = run_cli("build", "--variants", 0, "--formats", "md,json", "--out", out, "-q")
    assert status == 2 and err.startswith("wsgen: error: --out ") and err.count("\n") == 1, err


@pytest.mark.slow
def test_spawned_workers_give_the_same_bytes(tmp_path):
    """Workers rebuild the registry themselves: `spawn` gives the bytes of `fork`."""
    from wsgen.pipeline.output import OutputFolder
    from wsgen.pipeline.run import run_build
    from wsgen.pipeline.sheets import BuildPlan
    from wsgen.exam.load import load_exam
    plan = BuildPlan(load_exam(), 20, formats=("md", "json"))
    folders = {}
    for method in ("fork", "spawn"):
        with OutputFolder(tmp_path / method) as folder:
            run_build(plan, folder, jobs=2, start_method=method)
        folders[method] = snapshot(tmp_path / method)
    assert folders["fork"] == folders["spawn"] and len(folders["fork"]) > 40


@pytest.mark.tex
def test_duplex_pdfs_do_not_depend_on_jobs(tmp_path):
    """30 variants: three key chunks; -j 1 and -j 2 give the same bytes, booklets included."""
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"j{jobs}"
        status, _, err = run_cli("build", "--variants", 30, "--formats", "pdf", "--duplex",
                                 "-j", jobs, "--out", out, "-q")
        assert status == 0, err
        outs.append(snapshot(out))
    differing = [name for name in outs[0] if outs[0][name] != outs[1].get(name)]
    assert differing == [] and len(outs[0]) == 2 * 31 + 3


@pytest.mark.tex
def test_interrupted_pdf_build_leaves_no_tex_files(tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    proc = wsgen("build", "--variants", 60, "--formats", "pdf", "--out", out, "-q", env=env)
    assert wait_for(lambda: any(out.glob(".wsgen-staging-*/scratch/tex/*")) or proc.poll() is not None)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 143
    assert not list(out.glob(".wsgen-staging-*")) and not list((tmp_path / "tmp").iterdir())


def test_links_inside_the_output_folder_are_never_written_through(tmp_path):
    """A linked folder where the build writes (to a folder outside, or to another variant's
    folder) is refused; nothing outside is touched, nothing of the build is lost."""
    out, outside = tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    (outside / "key.md").write_text("MY NOTES")
    assert run_cli("build", "--variants", 3, "--formats", "md,json", "--out", out, "-q")[0] == 0
    import shutil
    shutil.rmtree(out / "v003")
    (out / "v003").symlink_to(outside)
    status, _, err = run_cli("build", "--variants", 3, "--seed", 5, "--formats", "md,json", "--out", out, "-q")
    assert status == 2 and "linked folder" in err and err.count("\n") == 1
    assert (outside / "key.md").read_text() == "MY NOTES" and len(list(outside.iterdir())) == 1
    (out / "v003").unlink()
    (out / "v003").symlink_to("canonical")          # a link to another variant's folder
    status, _, err = run_cli("build", "--variants", 2, "--formats", "md,json", "--out", out, "-q")
    assert status == 0, err
    # the same build into a fresh folder: the canonical key must be exactly that one,
    # not v003's output written through the link
    fresh = tmp_path / "fresh"
    assert run_cli("build", "--variants", 2, "--formats", "md,json", "--out", fresh, "-q")[0] == 0
    assert (out / "canonical" / "key.md").read_bytes() == (fresh / "canonical" / "key.md").read_bytes()
    assert (out / "v003").is_symlink()                # the user's link is theirs to remove
    (out / "v003").unlink()
    assert_consistent(out)


def test_a_users_folder_named_like_staging_is_kept(tmp_path):
    out = tmp_path / "out"
    mine = out / ".wsgen-staging-mine"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("important")
    assert run_cli("build", "--variants", 1, "--formats", "md", "--out", out, "-q")[0] == 0
    assert (mine / "notes.txt").read_text() == "important"


def test_a_changed_file_of_the_previous_build_is_not_removed(tmp_path):
    out = tmp_path / "out"
    assert run_cli("build", "--variants", 3, "--formats", "md", "--out", out, "-q")[0] == 0
    mine = out / "v003" / "key.md"
    mine.write_text("my own notes")
    assert run_cli("build", "--variants", 2, "--formats", "md", "--out", out, "-q")[0] == 0
    assert mine.read_text() == "my own notes" and not (out / "v003" / "questions.md").exists()


def test_out_is_resolved_once_links_on_the_way_followed_as_the_readme_says(tmp_path):
    """Issue 28, items 20 and 21: README said nothing is written through a symbolic link,
    yet `--out LINK` was followed by the build (and, by grading, renamed away).  Now both
    commands follow a link on the way to the folder, once, as README says; a dangling or
    looping link is one line."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    said = " ".join(readme.split())
    assert "a symbolic link on the way to it, `--out` itself included, is followed then" in said
    assert "Inside the output folder nothing is ever written, replaced or removed through a " \
           "symbolic link" in said
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    args = ("--variants", 1, "--formats", "md,json", "-q")
    assert run_cli("build", "--out", tmp_path / "link", *args)[0] == 0
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / "answers.json").is_file()
    assert_consistent(tmp_path / "real")
    status, _, err = run_cli("build", "--out", tmp_path / "link", "--variants", 1, "--formats", "md,json")
    assert status == 0 and "up to date" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]
    (tmp_path / "dangling").symlink_to("nowhere")
    (tmp_path / "loop").symlink_to("loop")
    for name, needle in (("dangling", "which does not exist"), ("loop", "loops")):
        for where in (tmp_path / name, tmp_path / name / "sub"):
            status, _, err = run_cli("build", "--out", where, *args)
            assert status == 2 and err.count("\n") == 1 and err.startswith(f"wsgen: error: --out {where}: ")
            assert "symbolic link" in err and needle in err
    assert not (tmp_path / "nowhere").exists()


def test_a_build_and_a_grading_never_share_a_folder(tmp_path):
    out = tmp_path / "out"
    assert run_cli("build", "--out", out, "--variants", 1, "--formats", "json", "-q")[0] == 0
    responses = tmp_path / "r.csv"
    responses.write_text("variant,label,answer,entry,response\ncanonical,Q3,L,,29/250\n")
    status, _, err = run_cli("grade", responses, "--answers", out / "answers.json", "--out", out)
    assert status == 2 and "inside the build folder" in err and not (out / "grades.csv").exists()
    grades = tmp_path / "grades"
    assert run_cli("grade", responses, "--answers", out / "answers.json", "--out", grades)[0] == 0
    for force in ((), ("--force",)):
        status, _, err = run_cli("build", "--out", grades, "--variants", 1, "--formats", "json",
                                 "-q", *force)
        assert status == 2 and "holds grades written by `wsgen grade`" in err
    assert sorted(p.name for p in grades.iterdir() if not p.name.startswith(".")) == \
        ["analysis.csv", "analysis.html", "feedback", "grades.csv", "grading.json"]
