"""Writing files atomically, and a whole build's files at once."""
from __future__ import annotations

import json
import os
import itertools
from pathlib import Path
from typing import Mapping

__all__ = ["MANIFEST", "atomic_write", "write_build"]

MANIFEST = ".wsgen-files.json"
_COUNTER = itertools.count()


def atomic_write(path: Path, data: bytes | str, make_parent: bool = True) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    if make_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{next(_COUNTER)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_manifest(out_dir: Path) -> dict:
    try:
        data = json.loads((Path(out_dir) / MANIFEST).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def is_up_to_date(out_dir: Path, fingerprint: str) -> bool:
    """True when the last build into out_dir had these inputs and its files are all there."""
    manifest = read_manifest(out_dir)
    files = manifest.get("files")
    return (manifest.get("fingerprint") == fingerprint and isinstance(files, list)
            and all((Path(out_dir) / rel).is_file() for rel in files))


def write_build(out_dir: Path, files: Mapping[str, bytes | str], fingerprint: str | None = None
                ) -> list[str]:
    """Write every file of a build (each atomically), then remove the files that the
    previous build into `out_dir` wrote and this one did not.  Returns the stale paths
    removed.  Everything is computed before this is called, so a failure in the
    computation leaves out_dir untouched."""
    out_dir = Path(out_dir)
    previous = [str(p) for p in read_manifest(out_dir).get("files", [])]
    made: set[Path] = set()
    for rel, data in files.items():
        target = out_dir / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        atomic_write(target, data, make_parent=False)
    stale = sorted(set(previous) - set(files))
    for rel in stale:
        target = (out_dir / rel)
        if target.resolve().is_relative_to(out_dir.resolve()):
            target.unlink(missing_ok=True)
            try:
                target.parent.rmdir()  # only if now empty
            except OSError:
                pass
    atomic_write(out_dir / MANIFEST, json.dumps({"fingerprint": fingerprint, "files": sorted(files)},
                                                indent=1) + "\n")
    return stale
