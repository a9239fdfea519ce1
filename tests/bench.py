"""Benchmarks (`make bench`): print figures, assert nothing about time.

`make bench` (``python tests/bench.py compare``) prints issue 27's five figures for this
checkout and, run back to back on the same seeds, for a reference commit
(``WSGEN_BENCH_REF``, default the first release's last commit f3d9d02), each a whole
`wsgen` process timed from outside: wall, CPU and peak RSS from the waited-for process
(its workers included).  The reference is installed once into its own virtual
environment under /tmp.  ``WSGEN_BENCH_REPEAT=3`` takes the median of three paired runs;
``WSGEN_BENCH_FULL=1`` adds the in-process sweep below (every problem, memory at 10,000
variants, the PDF floor, each publishing format).

Each in-process figure is the median of several runs; output folders are temporary and
their removal is not timed.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Benchmarks write beside output/, in build/ (git-ignored): the disk a real build uses.
SCRATCH = ROOT / "build"

from wsgen import discover  # noqa: E402
from wsgen.pipeline.output import OutputFolder  # noqa: E402
from wsgen.pipeline.run import run_build, sheet_outputs  # noqa: E402
from wsgen.pipeline.sheets import BuildPlan  # noqa: E402
from wsgen.exam.load import load_exam  # noqa: E402
from wsgen.exam.spec import Exam, ExamItem  # noqa: E402


def build_into(plan, out: Path, jobs=None) -> None:
    with OutputFolder(out) as folder:
        run_build(plan, folder, jobs=jobs)


def median_time(run, repeat: int = 3) -> tuple[float, float]:
    """Median wall time of `run(out_dir)`.  The folders are removed only after the last run:
    on this machine's disk, deleting thousands of files slows the writes that follow."""
    walls, cpus = [], []
    SCRATCH.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=SCRATCH) as parent:
        for i in range(repeat):
            start, cpu = time.perf_counter(), time.process_time()
            run(Path(parent) / f"run{i}")
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def bench_single_problem(problem_id: str, count: int) -> None:
    """Variants per second of one problem to Markdown + JSON, on one core."""
    problem = discover().problems[problem_id]
    exam = Exam(title="bench", course="", date="", instructions="", master_seed=1, variants=count,
                items=(ExamItem("Q1", problem_id, 1, problem.Options()),))

    plan = BuildPlan(exam, count, formats=("md", "json"))

    def run(out: Path) -> None:
        build_into(plan, out, jobs=1)

    wall, cpu = median_time(run, repeat=5 if count >= 1000 else 3)
    print(f"{problem_id}: {count} variants to md+json (draw, check, render, write) in "
          f"{wall:.2f} s wall = {count / wall:.0f} variants/s on one core "
          f"({cpu:.2f} s CPU = {count / cpu:.0f} variants/s; median of {5 if count >= 1000 else 3})")


def bench_pdf_build(count: int) -> None:
    """The default exam with PDF: per-variant sheets and keys plus both booklets."""
    import subprocess

    from wsgen.formats.pdf import TEX_ENV, booklet_source

    exam = load_exam()
    plan = BuildPlan(exam, count, formats=("md", "json", "pdf"))
    # SymPy's derivations warm (once per problem and shape, as a long-running process has
    # them): the figure is the build itself; the CLI figure below includes everything.
    from wsgen.pipeline.sheets import draw_sheet
    draw_sheet(plan, 0)
    wall, cpu = median_time(lambda out: build_into(plan, out), repeat=1)
    with tempfile.TemporaryDirectory(prefix="wsgen-bench-") as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wsgen", "build", "--out", str(Path(tmp, "out")),
                        "--variants", str(count), "--formats", "md,json,pdf", "--quiet"], check=True)
        cli = time.perf_counter() - start
    # The floor: one pdflatex pass over each whole booklet (keys, question sheets), the two
    # run side by side on the two cores, as the build's own jobs are.
    outputs = list(sheet_outputs(BuildPlan(exam, count, formats=("pdf",)), jobs=2))
    with tempfile.TemporaryDirectory(prefix="wsgen-bench-") as tmp:
        for kind in ("key", "questions"):
            bodies = [o.rendered["pdf"].data[kind] for o in outputs]
            Path(tmp, f"{kind}.tex").write_text(booklet_source(exam, bodies), encoding="utf-8")
        env = dict(__import__("os").environ, **TEX_ENV)
        start = time.perf_counter()
        jobs = [subprocess.Popen(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape",
                                  f"{kind}.tex"], cwd=tmp, env=env, stdout=subprocess.DEVNULL)
                for kind in ("key", "questions")]
        assert all(job.wait() == 0 for job in jobs)
        floor = time.perf_counter() - start
        pages = {kind: len(__import__("pypdf").PdfReader(Path(tmp, f"{kind}.pdf")).pages)
                 for kind in ("key", "questions")}
    print(f"default exam, {count} variants + canonical, md+json+pdf (sheets, keys, 2 booklets): "
          f"{wall:.2f} s wall in-process (derivations warm); {cli:.2f} s through the CLI from a cold start")
    print(f"  floor: one pdflatex pass over each booklet side by side ({pages['key']} key pages, "
          f"{pages['questions']} question pages, with the stamp pages): {floor:.2f} s; "
          f"ratio build/floor = {wall / floor:.1f}")


def bench_full_exam(count: int) -> None:
    """The default exam to Markdown + JSON, all cores; then an unchanged re-run via the CLI."""
    import os
    import subprocess
    plan = BuildPlan(load_exam(), count, formats=("md", "json"))
    wall, cpu = median_time(lambda out: build_into(plan, out), repeat=1)
    print(f"default exam, {count} variants + canonical, md+json on {os.cpu_count()} cores: "
          f"{wall:.2f} s wall ({(count + 1) / wall:.0f} variants/s, {cpu:.2f} s CPU in the parent)")
    with tempfile.TemporaryDirectory(prefix="bench-", dir=SCRATCH) as tmp:
        command = [sys.executable, "-m", "wsgen", "build", "--out", tmp, "--variants", str(count),
                   "--formats", "md,json", "--quiet"]
        start = time.perf_counter()
        subprocess.run(command, cwd=tmp, check=True)
        first = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run(command, cwd=tmp, check=True)
        again = time.perf_counter() - start
    print(f"  the same through the CLI: {first:.2f} s; unchanged re-run: {again:.2f} s")


def bench_memory(counts=(1000, 10_000)) -> None:
    """Peak RSS of a CLI build (md+json): the largest process of the build, parent or worker
    (getrusage of the waited-for children).  Streaming keeps it flat in the variant count."""
    import subprocess
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="bench-", dir=SCRATCH) as tmp:
            command = [sys.executable, "-c", "import resource, subprocess, sys; "
                       "subprocess.run(sys.argv[1:], check=True); "
                       "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
                       sys.executable, "-m", "wsgen", "build", "--out", str(Path(tmp) / "out"),
                       "--variants", str(count), "--formats", "md,json", "--quiet"]
            start = time.perf_counter()
            peak_kib = int(subprocess.run(command, cwd=tmp, check=True, capture_output=True,
                                          text=True).stdout.split()[-1])
            wall = time.perf_counter() - start
        print(f"default exam, {count} variants md+json through the CLI: {wall:.1f} s, "
              f"peak RSS {peak_kib / 1024:.0f} MB (largest process)")


def bench_publishing(count: int) -> None:
    """The default exam, `count` variants + canonical, to each format alone (all cores):
    Markdown beside the publishing formats (HTML with MathML, Moodle XML, QTI for Canvas)."""
    exam = load_exam()
    for fmt in ("md", "html", "moodle", "qti"):
        plan = BuildPlan(exam, count, formats=(fmt,))
        wall, cpu = median_time(lambda out: build_into(plan, out), repeat=3)
        print(f"default exam, {count} variants + canonical, --formats {fmt}: {wall:.2f} s wall "
              f"({count / wall:.0f} variants/s; median of 3)")


# --- issue 27's five figures, this checkout beside a reference commit ---------------------

REFERENCE = "f3d9d02"
#: (label, wsgen arguments; OUT is the output folder) -- the issue's five figures
FIGURES = (
    ("default exam, 1000 variants, md+json", ["build", "--out", "OUT", "--variants", "1000",
                                             "--formats", "md,json", "--quiet", "--force"]),
    ("default exam, 100 variants, md+json+pdf", ["build", "--out", "OUT", "--variants", "100",
                                                "--formats", "md,json,pdf", "--quiet", "--force"]),
    ("default exam, 50 variants, html", ["build", "--out", "OUT", "--variants", "50",
                                        "--formats", "html", "--quiet", "--force"]),
    ("default exam, 50 variants, moodle", ["build", "--out", "OUT", "--variants", "50",
                                          "--formats", "moodle", "--quiet", "--force"]),
    ("wsgen show matrix_backprop --canonical (cold)", ["show", "matrix_backprop", "--canonical"]),
)


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mb: float
    failure: str = ""


def timed_process(command: list[str], cwd: Path) -> Run:
    """One process timed from outside: wall clock, and CPU and peak RSS from wait4 (the
    process and every descendant it waited for, as /usr/bin/time -v reports them)."""
    import os
    import subprocess
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    failure = "" if process.returncode == 0 else \
        f"exit {process.returncode}: {(stderr.strip().splitlines() or [''])[-1][:100]}"
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, failure)


def reference_wsgen(commit: str) -> Path | str:
    """The `wsgen` program of `commit`, installed once into its own virtual environment
    under /tmp (a git worktree of the commit, installed editable with its own pins: early
    commits read their files from the source tree); or why not."""
    import subprocess
    run = lambda *a, **k: subprocess.run(a, capture_output=True, text=True, **k)
    full = run("git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    if full.returncode != 0:
        return f"commit {commit} is not in this repository's history"
    sha = full.stdout.strip()
    home = Path(tempfile.gettempdir(), f"wsgen-bench-ref-{sha[:12]}")
    wsgen, stamp = home / "venv" / "bin" / "wsgen", home / "installed"
    if stamp.exists() and wsgen.exists():
        return wsgen
    import shutil
    shutil.rmtree(home, ignore_errors=True)
    run("git", "-C", str(ROOT), "worktree", "prune")
    steps = [("git", "-C", str(ROOT), "worktree", "add", "--detach", str(home / "src"), sha),
             (sys.executable, "-m", "venv", str(home / "venv")),
             (str(home / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
              "--disable-pip-version-check", "-c", "constraints.txt", "-e", ".")]
    print(f"installing the reference {sha[:7]} into {home} (once) ...", flush=True)
    for step in steps:
        done = run(*step, cwd=home / "src" if step[-1] == "." else None)
        if done.returncode != 0:
            return f"cannot install {sha[:7]}: {' '.join(step[:4])}: " + \
                " ".join(done.stderr.split())[-200:]
    stamp.touch()
    return wsgen


def _cell(runs: list[Run]) -> str:
    """Wall, CPU (the steadier figure on a shared machine) and peak RSS."""
    failed = [r.failure for r in runs if r.failure]
    if failed:
        return f"n/a ({failed[0]})"
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    peak = max(r.peak_mb for r in runs)
    return f"{wall:.2f} s wall, {cpu:.2f} s CPU, {peak:.0f} MB"


def bench_compare(reference: str, repeat: int) -> None:
    """Issue 27's five figures, for the reference commit and this checkout, each run of one
    paired with the same run of the other (same arguments, same seeds, one after the other)."""
    import shutil
    current = Path(sys.executable).parent / "wsgen"
    old = reference_wsgen(reference)
    if isinstance(old, str):
        print(f"reference: {old}; printing this checkout's figures alone")
    head = __import__("subprocess").run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                                        capture_output=True, text=True).stdout.strip()
    print(f"issue 27's figures, whole processes, median of {repeat}; "
          f"reference {reference} vs this checkout ({head})")
    SCRATCH.mkdir(exist_ok=True)
    rows = []
    for label, arguments in FIGURES:
        runs: dict[str, list[Run]] = {"ref": [], "now": []}
        with tempfile.TemporaryDirectory(prefix="bench-compare-", dir=SCRATCH) as tmp:
            for _ in range(repeat):
                for name, program in (("ref", old), ("now", current)):
                    if isinstance(program, str):
                        continue
                    out = Path(tmp, name)
                    runs[name].append(timed_process(
                        [str(program)] + [str(out) if a == "OUT" else a for a in arguments],
                        cwd=Path(tmp)))
                    shutil.rmtree(out, ignore_errors=True)
        ref_cell = _cell(runs["ref"]) if runs["ref"] else "-"
        now_cell = _cell(runs["now"])
        ratio = ""
        if runs["ref"] and not any(r.failure for r in runs["ref"] + runs["now"]):
            ratio = "%.2fx" % (statistics.median(r.wall for r in runs["now"])
                               / statistics.median(r.wall for r in runs["ref"]))
        rows.append((label, ref_cell, now_cell, ratio))
        print(f"  {label}: {reference}: {ref_cell} | now: {now_cell} | now/ref wall {ratio or '-'}",
              flush=True)
    widths = [max(len(r[i]) for r in rows + [("build", reference, "now", "now/ref")])
              for i in range(4)]
    print()
    for row in [("build", reference, "now", "now/ref")] + rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def bench_grading(papers: int = 1000) -> None:
    """Issue 25's figure: `wsgen grade` on a simulated class of `papers` papers of the
    default exam (scripts/simulate_class.py), one process timed from outside."""
    import subprocess
    current = Path(sys.executable).parent / "wsgen"
    SCRATCH.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-grade-", dir=SCRATCH) as tmp:
        subprocess.run([str(current), "build", "--out", "b", "--formats", "json", "-q"],
                       cwd=tmp, check=True)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "simulate_class.py"),
                        "b/answers.json", "r.csv", "--papers", str(papers)], cwd=tmp,
                       check=True, capture_output=True)
        run = timed_process([str(current), "grade", "r.csv", "--answers", "b/answers.json",
                             "--out", "g"], cwd=Path(tmp))
    print(f"  wsgen grade, a simulated class of {papers} papers of the default exam: "
          f"{_cell([run])}", flush=True)


if __name__ == "__main__":
    import os
    if sys.argv[1:] == ["compare"]:              # `make bench`: the five figures, both commits
        bench_compare(os.environ.get("WSGEN_BENCH_REF", REFERENCE),
                      int(os.environ.get("WSGEN_BENCH_REPEAT", "1")))
        print()
        bench_grading()
        if os.environ.get("WSGEN_BENCH_FULL") != "1":
            sys.exit(0)
        print()
    discover()
    if sys.argv[1:] == ["publishing"]:           # `python tests/bench.py publishing`: this case alone
        bench_publishing(100)
        sys.exit(0)
    bench_single_problem("matrix_backprop", 1000)
    for problem_id in sorted(discover().problems):
        if problem_id != "matrix_backprop":
            bench_single_problem(problem_id, 300)
    bench_full_exam(1000)
    bench_memory()
    bench_pdf_build(100)
    bench_publishing(100)
