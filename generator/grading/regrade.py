"""The grading record: what a grading was made from, so that grading again is cheap and
traceable.

`wsgen grade` writes `grading.json` into its output folder:

    {"wsgen": version,
     "answers": {"path", "sha256"},                 answers.json
     "responses": [{"path", "sha256"}, …],          the responses file, or each LMS export
     "manual": {"path", "sha256"} | null,           --manual
     "roster": {"path", "sha256"} | null,           --roster (for a gradebook)
     "policy": {"overrides": {…},                   what the command line set
                "slots": {label: {…}}},             each slot's policy as applied
     "options": {…},                                what else shapes the files (--gradebook, …)
     "keys": {"sha256", "missing"}}                 the build's keys the feedback links to

Its fingerprint (SHA-256 of the record without the paths: a moved file is the same input)
is the output folder's fingerprint (pipeline.output): a grading with the same record into a
folder whose files are all as that grading wrote them writes nothing and says so; a
grading with another record says, on stdout, which inputs changed since the last one.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from fractions import Fraction
from pathlib import Path
from typing import Callable

from ..errors import UserError

__all__ = ["RECORD", "changes", "commit_files", "file_entry", "fingerprint", "grade_once",
           "settings_json"]

RECORD = "grading.json"
_TRACKED = ("wsgen", "answers", "responses", "manual", "roster", "policy", "options", "keys")


def file_entry(path: Path | None) -> dict | None:
    """A file as the record names it: its path as given and its SHA-256 (read in blocks)."""
    if path is None:
        return None
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return {"path": str(path), "sha256": digest.hexdigest()}


def settings_json(settings) -> dict:
    """The policy settings the command line set (policy.Settings), as JSON: only those set."""
    out = {}
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        if value is None or value == ():
            continue
        if hasattr(value, "to_json"):
            value = value.to_json()
        elif isinstance(value, Fraction):
            value = str(value)
        elif item.name == "mistake_credit":
            value = {mistake: str(share) for mistake, share in value}
        elif item.name == "credit":
            value = dict(value)
        out[item.name] = value
    return out


def _without_paths(value):
    if isinstance(value, dict):
        return {k: _without_paths(v) for k, v in value.items() if k != "path"}
    if isinstance(value, list):
        return [_without_paths(v) for v in value]
    return value


def fingerprint(record: dict) -> str:
    text = json.dumps(_without_paths({k: record.get(k) for k in _TRACKED}), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _describe(key: str, old, new) -> str:
    if key == "policy":
        parts = []
        before, after = (old or {}).get("overrides", {}), (new or {}).get("overrides", {})
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                parts.append(f"{name} {json.dumps(before.get(name))} -> {json.dumps(after.get(name))}")
        slots = [label for label in (new or {}).get("slots", {})
                 if (old or {}).get("slots", {}).get(label) != new["slots"][label]]
        if slots and not parts:
            parts.append("slots " + ", ".join(slots))
        return "policy (" + "; ".join(parts) + ")" if parts else "policy"
    if key == "options":
        before, after = old or {}, new or {}
        return "options (" + "; ".join(
            f"{name} {json.dumps(before.get(name))} -> {json.dumps(after.get(name))}"
            for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)) + ")"
    if key == "wsgen":
        return f"wsgen {old} -> {new}"
    return {"answers": "answers.json", "keys": "the build's keys"}.get(key, key)


def changes(old: dict, new: dict) -> list[str]:
    """What differs between two records, in words ("responses", "policy (sigfigs …)")."""
    return [_describe(key, old.get(key), new.get(key)) for key in _TRACKED
            if _without_paths(old.get(key)) != _without_paths(new.get(key))]


def commit_files(folder, files: dict[str, str], fingerprint_: str | None, staging=None) -> None:
    """Stage `files` (relative path -> text) in the locked output folder (in `staging`, or a
    new staging folder) and commit them."""
    staging = staging if staging is not None else folder.staging()
    try:
        for relative, text in files.items():
            staging.write(relative, text)
        folder.commit(staging, fingerprint=fingerprint_)
    except BaseException:
        folder.discard(staging)
        raise


def _previous(folder) -> dict:
    try:
        data = json.loads((folder.root / RECORD).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and RECORD in folder.owned() else {}


def _outside_the_build(out_dir: Path, record: dict) -> None:
    """Grades are never written into the folder `wsgen build` wrote answers.json in, or
    below it: a build folder is what gets published, keys and all."""
    answers = (record.get("answers") or {}).get("path")
    if not answers:
        return
    try:
        build = Path(answers).resolve().parent
        out = Path(out_dir).resolve()
        built = json.loads((build / ".wsgen-files.json").read_text("utf-8")).get("writer") == "build"
    except (OSError, RuntimeError, ValueError, AttributeError):
        return                  # not a build's folder, or an --out the output folder refuses
    if built and (out == build or build in out.parents):
        raise UserError(f"--out {out_dir}: inside the build folder {build} (where answers.json "
                        "is), which is published with the keys: write grades and feedback "
                        "to a folder outside it")


def grade_once(out_dir: Path, record: dict,
               grade: Callable[[Path], tuple[dict[str, str], list[str]]]) -> list[str]:
    """Grade into `out_dir` (through pipeline.output.OutputFolder) unless it already holds,
    unchanged, the grading `record` describes; `grade(scratch)` (a scratch folder in the
    staging folder) returns the files and the summary lines.  The lines for stdout."""
    from ..pipeline.output import OutputFolder
    _outside_the_build(out_dir, record)
    key = fingerprint(record)
    with OutputFolder(out_dir, writer="grade") as folder:
        if folder.is_up_to_date(key):
            return [f"wsgen grade: {Path(out_dir) / RECORD}: the same answers.json, responses, "
                    "policy and options as the last grading; nothing written"]
        previous = _previous(folder)
        # the grading's own scratch work (TeX for PDF feedback) is in its staging folder:
        # removed with it, or by the next run after a kill
        staging = folder.staging()
        try:
            files, lines = grade(staging.scratch("feedback"))
        except BaseException:
            folder.discard(staging)
            raise
        files[RECORD] = json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        commit_files(folder, files, key, staging)
    changed = changes(previous, record) if previous else []
    if changed:
        lines.insert(1, "changed since the last grading: " + ", ".join(changed))
    return lines
