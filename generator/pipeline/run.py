"""The build pipeline: exam -> sheets (drawn and checked) -> documents -> formats -> output.

Sheets are drawn and rendered in worker processes, in chunks, a bounded number
of chunks ahead; the build's process takes the results in variant order and
streams them into the output folder's staging area, so memory does not grow
with the number of variants and the output does not depend on the number of
workers.  Workers rebuild the problem registry themselves from the exam's
problem paths, so they need not inherit it (the bytes are the same under
`spawn` as under `fork`).  Within one build no two variants of a problem share
their parameters: a repeat is redrawn, deterministically, from a retry seed.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from importlib.metadata import version
from itertools import islice
from typing import Callable, Iterator, Sequence

from ..errors import BuildError, UserError
from ..formats import Rendered, SheetSummary, get_format
from ..formats.document import KINDS, build_document
from ..formats.json import variant_record
from ..registry import discover
from .output import OutputFolder
from .sheets import BuildPlan, draw_sheet

__all__ = ["BuildInfo", "SheetOutput", "render_sheet_outputs", "run_build", "sheet_outputs"]

CHUNK = 8
WINDOW = 4          # chunks in flight per worker


@dataclass(frozen=True)
class BuildInfo:
    """What a format's collector may know of the build."""
    exam: object
    master_seed: int | None
    duplex: bool
    jobs: int
    version: str


@dataclass(frozen=True)
class SheetOutput:
    """What one sheet contributes to a build, rendered (cheap to send between processes)."""
    index: int
    variant_id: str
    signatures: tuple[str, ...]                    # one per problem slot, for the repeat check
    record: dict
    rendered: dict[str, Rendered]                  # by format name


def sheet_record(sheet) -> dict:
    return {"variant": sheet.variant_id,
            "student": None if sheet.student is None else sheet.student.id,
            "problems": [dict(label=item.label, points=item.points,
                              **variant_record(item.variant, item.points,
                                               sheet.exam.slot_grading(item.label)))
                         for item in sheet.items]}


def _render(sheet, formats: Sequence[str]) -> dict[str, Rendered]:
    documents = {kind: build_document(sheet, kind) for kind in KINDS}
    return {name: get_format(name).render(sheet, documents) for name in formats}


def render_sheet_outputs(sheet, formats: Sequence[str]) -> SheetOutput:
    try:
        rendered = _render(sheet, formats)
    except (UserError, BuildError):
        raise
    except Exception as exc:  # noqa: BLE001 - located below, reported as one line
        raise _render_failure(sheet, formats, exc) from None
    signatures = tuple(repr(item.variant.params) for item in sheet.items)
    return SheetOutput(sheet.variant_index, sheet.variant_id, signatures, sheet_record(sheet),
                       rendered)


def _render_failure(sheet, formats, exc: Exception) -> BuildError:
    """Name the problem whose rendering fails, by rendering each slot alone."""
    import dataclasses
    for item in sheet.items:
        try:
            _render(dataclasses.replace(sheet, items=(item,)), formats)
        except Exception as inner:  # noqa: BLE001
            v = item.variant
            return BuildError(f"{v.problem_id} in slot {item.label}, variant {sheet.variant_id}, "
                              f"seed {'canonical' if v.seed is None else v.seed}: cannot render: "
                              f"{type(inner).__name__}: {' '.join(str(inner).split())[:300]}")
    return BuildError(f"variant {sheet.variant_id}: cannot render: {type(exc).__name__}: {exc}")


def _work(plan: BuildPlan, indices: Sequence[int]) -> list[SheetOutput]:
    return [render_sheet_outputs(draw_sheet(plan, i), plan.formats) for i in indices]


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive a build killed with SIGKILL (Linux: PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)                  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:                         # the parent died before prctl
        os._exit(1)


def _init_worker(problem_paths: tuple[str, ...], parent: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # the build's process handles ^C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    discover(problem_paths)


def _start_method(name: str | None) -> str:
    if name:
        return name
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _chunk_size(sheets: int, jobs: int) -> int:
    """Sheets per chunk: CHUNK, or fewer when a build has too few sheets to keep every
    worker busy to the end (its last chunks would otherwise run on one core)."""
    return max(1, min(CHUNK, sheets // (jobs * 8)))


def _in_order(plan: BuildPlan, jobs: int, start_method: str | None) -> Iterator[SheetOutput]:
    indices = list(range(plan.count + 1))
    if jobs <= 1 or plan.count + 1 <= CHUNK:
        for i in range(0, len(indices), CHUNK):
            yield from _work(plan, indices[i:i + CHUNK])
        return
    method = _start_method(start_method)
    warm: list[SheetOutput] = []
    if method == "fork":
        # The first sheet in this process: its SymPy derivations (cached per problem and
        # shape), templates and printing caches are then inherited by every forked worker
        # instead of repeated in each; the rest waits for no more than one sheet.
        warm = _work(plan, indices[:1])
        indices = indices[1:]
        # Freeze what exists now (problems, caches) out of the garbage collector's reach:
        # otherwise each forked worker's collections touch, and so copy, the parent's pages.
        gc.freeze()
    size = _chunk_size(len(indices), jobs)
    chunks = iter([indices[i:i + size] for i in range(0, len(indices), size)])
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method),
                               initializer=_init_worker, initargs=(plan.exam.problem_paths, os.getpid()))
    try:
        window = deque(pool.submit(_work, plan, c) for c in islice(chunks, WINDOW * jobs))
        yield from warm
        while window:
            try:
                result = window.popleft().result()
            except BrokenProcessPool:
                raise BuildError("a worker process died while drawing variants (a problem "
                                 "ended or crashed the interpreter); build with -j 1 to see "
                                 "which problem, slot and seed") from None
            following = next(chunks, None)
            if following is not None:
                window.append(pool.submit(_work, plan, following))
            yield from result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if method == "fork":
            gc.unfreeze()


def sheet_outputs(plan: BuildPlan, jobs: int = 1, start_method: str | None = None
                  ) -> Iterator[SheetOutput]:
    """Every sheet of the build, in order, drawn, checked and rendered; repeats redrawn."""
    seen: list[set[str]] = [set() for _ in plan.exam.items]
    for output in _in_order(plan, jobs, start_method):
        attempts = [0] * len(plan.exam.items)
        while True:
            clash = [p for p, sig in enumerate(output.signatures) if sig in seen[p]]
            if not clash:
                break
            for p in clash:
                attempts[p] += 1
                if attempts[p] > 50:
                    raise UserError(f"{plan.exam.source}: {plan.exam.items[p].label}: no parameters "
                                    f"left that no other variant has ({plan.count} variants); "
                                    "widen the problem's options or build fewer variants")
            output = render_sheet_outputs(draw_sheet(plan, output.index, attempts), plan.formats)
        for p, sig in enumerate(output.signatures):
            seen[p].add(sig)
        yield output


def run_build(plan: BuildPlan, folder: OutputFolder, jobs: int | None = None,
              progress: Callable[[int], None] | None = None, fingerprint: str | None = None,
              force: bool = False, start_method: str | None = None) -> dict:
    """Draw, check, render and write a build into a locked output folder.  Returns a
    short summary.  On any failure the folder is left as it was."""
    jobs = jobs or os.cpu_count() or 1
    info = BuildInfo(exam=plan.exam, master_seed=None if plan.students is not None
                     else plan.exam.master_seed, duplex=plan.duplex, jobs=jobs,
                     version=version("wsgen"))
    staging = folder.staging()
    collectors = []
    try:
        for name in plan.formats:
            collector = get_format(name).collector(info, staging)
            if collector is not None:
                collectors.append((name, collector))
        sheets = 0
        for output in sheet_outputs(plan, jobs, start_method):
            where = plan.folder(output.index)
            for rendered in output.rendered.values():
                for rel, data in rendered.files.items():
                    staging.write(f"{where}/{rel}", data)
            summary = SheetSummary(output.index, output.variant_id, where, output.record)
            for name, collector in collectors:
                collector.add(summary, output.rendered[name].data)
            sheets += 1
            if progress:
                progress(1)
        for _, collector in collectors:
            collector.finish()
        removed = folder.commit(staging, fingerprint, force=force)
    except BaseException:
        for _, collector in collectors:
            close = getattr(collector, "close", None)
            if close:
                close()
        folder.discard(staging)
        raise
    return {"sheets": sheets, "files": len(staging.hashes), "stale_removed": len(removed)}
