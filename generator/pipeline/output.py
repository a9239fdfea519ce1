"""The output folder: one build at a time, files staged, then committed under a manifest.

What a finished build means, and how this module keeps it true:

* A build holds an exclusive lock on ``OUT/.wsgen.lock`` from its first look at the
  folder to its last write; a second build into the same folder is refused at once.
* Every file is first written into a staging folder inside OUT (same file system),
  each through a temporary name and a rename.  Nothing in OUT itself changes until the
  whole build exists there: an interrupted or failed build leaves the previous build's
  files as they were, and its staging folder is removed (or, after SIGKILL, removed by
  the next build).
* Commit: the manifest ``OUT/.wsgen-files.json`` is first rewritten to say "committing"
  (so no build is claimed finished), the staged files are renamed into place, the files
  of the previous build that this one no longer makes are removed, and the manifest is
  rewritten as "complete" with the fingerprint of the inputs and the SHA-256 of every file.
* Up to date means: a "complete" manifest with the same input fingerprint, and every file
  it lists present with the recorded SHA-256.  A file changed, lost, or written by another
  or an unfinished build makes the next build do the work again.
* A file in OUT that no build of wsgen wrote (it is not in the manifest) is never
  overwritten or removed: the build stops with one line naming it, unless --force.
"""
from __future__ import annotations

import fcntl
import hashlib
import io
import itertools
import json
import os
import shutil
import signal
from pathlib import Path

from ..errors import UserError

__all__ = ["LOCK", "MANIFEST", "OutputFolder", "Staging", "atomic_write"]

MANIFEST = ".wsgen-files.json"
LOCK = ".wsgen.lock"
STAGING_PREFIX = ".wsgen-staging-"
_COUNTER = itertools.count()


def _os_error(where, exc: OSError) -> UserError:
    return UserError(f"{where}: {exc.strerror or exc}")


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    path = Path(path)
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


class _HashingStream(io.TextIOBase):
    """A text stream into a staged file that hashes what it writes."""

    def __init__(self, staging: "Staging", rel: str):
        self.staging, self.rel = staging, rel
        self.path = staging.path_of(rel)
        self.hash = hashlib.sha256()
        self.handle = staging.guard(rel, lambda: open(self.path, "wb"))

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.hash.update(data)
        self.staging.guard(self.rel, lambda: self.handle.write(data))
        return len(text)

    def close(self) -> None:
        if not self.handle.closed:
            self.staging.guard(self.rel, self.handle.close)
            self.staging.hashes[self.rel] = self.hash.hexdigest()
        super().close()


class Staging:
    """A build's files, before they are committed: a folder inside the output folder."""

    def __init__(self, root: Path, out_dir: Path):
        self.root, self.out_dir = root, out_dir
        self.hashes: dict[str, str] = {}
        self._folders: set[Path] = set()

    def guard(self, rel: str, action):
        try:
            return action()
        except OSError as exc:
            raise _os_error(f"{self.out_dir}: cannot write {rel}", exc) from None

    def path_of(self, rel: str) -> Path:
        path = self.root / "files" / rel
        if path.parent not in self._folders:
            self.guard(rel, lambda: path.parent.mkdir(parents=True, exist_ok=True))
            self._folders.add(path.parent)
        return path

    def write(self, rel: str, data: bytes | str) -> None:
        if rel in self.hashes:
            raise ValueError(f"{rel} written twice in one build")
        payload = data.encode("utf-8") if isinstance(data, str) else data
        path = self.path_of(rel)
        # The staging folder is private to this build and committed as a whole: a plain
        # write suffices here (each file is renamed into place at commit).
        self.guard(rel, lambda: path.write_bytes(payload))
        self.hashes[rel] = hashlib.sha256(payload).hexdigest()

    def stream(self, rel: str) -> _HashingStream:
        if rel in self.hashes:
            raise ValueError(f"{rel} written twice in one build")
        return _HashingStream(self, rel)

    def scratch(self, name: str) -> Path:
        """A folder for a format's temporary work, removed with the staging folder."""
        path = self.root / "scratch" / name
        self.guard(name, lambda: path.mkdir(parents=True, exist_ok=True))
        return path


def _sha256(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


STAGING_MARK = ".wsgen-staging"


class OutputFolder:
    """The output folder, locked for the duration of a `with` block.

    Nothing is ever written, replaced or removed through a symbolic link: a path in the
    folder whose parent is not the real folder it seems to be (a linked folder inside the
    output folder) is refused.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = None
        self._created = False

    # --- lock -----------------------------------------------------------------------
    def __enter__(self) -> "OutputFolder":
        if str(self.path) == "":
            raise UserError("--out: empty folder name")
        try:
            if self.path.exists() and not self.path.is_dir():
                raise UserError(f"--out {self.path}: exists and is not a folder")
            self._created = not self.path.exists()
            self.path.mkdir(parents=True, exist_ok=True)
            self.real = Path(os.path.realpath(self.path))
            fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            self._lock = os.fdopen(fd, "r+b")
        except OSError as exc:
            raise _os_error(f"--out {self.path}: cannot write", exc) from None
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            raise UserError(f"--out {self.path}: another wsgen build is writing into this "
                            "folder; wait for it to finish") from None
        self._remove_abandoned_staging()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._lock is None:
            return
        if self._created and not (self.path / MANIFEST).exists():
            # a folder this build made and never filled: leave no trace of it
            (self.path / LOCK).unlink(missing_ok=True)
            try:
                self.path.rmdir()
            except OSError:
                pass
        self._lock.close()              # releases the lock
        self._lock = None

    def _remove_abandoned_staging(self) -> None:
        """Staging folders of builds that were killed: only real folders that carry this
        tool's mark (a user's folder of the same name is left alone)."""
        for entry in self.path.glob(STAGING_PREFIX + "*"):
            if entry.is_dir() and not entry.is_symlink() and (entry / STAGING_MARK).is_file():
                shutil.rmtree(entry, ignore_errors=True)

    def _inside(self, rel: str) -> Path:
        """The path of `rel` in the folder, refused if any folder on the way is a link."""
        target = self.path / rel
        if Path(os.path.realpath(target.parent)) != self.real / Path(rel).parent:
            raise UserError(f"{target}: a linked folder stands on the path the build writes; "
                            "wsgen does not write through links: remove the link")
        return target

    # --- manifest -------------------------------------------------------------------
    def manifest(self) -> dict:
        try:
            data = json.loads((self.path / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_manifest(self, state: str, fingerprint: str | None, files) -> None:
        text = json.dumps({"state": state, "fingerprint": fingerprint, "files": files},
                          indent=1, sort_keys=True) + "\n"
        try:
            atomic_write(self._inside(MANIFEST), text)
        except OSError as exc:
            raise _os_error(f"{self.path}: cannot write {MANIFEST}", exc) from None

    def owned(self) -> dict[str, set[str]]:
        """The paths that a build of wsgen wrote here, each with the SHA-256 it may have
        (an empty set: not recorded, as after a wave-1 build)."""
        files = self.manifest().get("files", {})
        if isinstance(files, dict):
            return {str(rel): ({d for d in digests} if isinstance(digests, list) else {str(digests)})
                    for rel, digests in files.items()}
        if isinstance(files, list):
            return {str(rel): set() for rel in files}
        return {}

    def is_up_to_date(self, fingerprint: str) -> bool:
        manifest = self.manifest()
        files = manifest.get("files")
        if manifest.get("state") != "complete" or manifest.get("fingerprint") != fingerprint \
                or not isinstance(files, dict) or not files:
            return False
        return all(_sha256(self.path / rel) == digest for rel, digest in files.items())

    def _as_written(self, rel: str, digests: set[str]) -> bool:
        """Whether the file at `rel` is still what a build of wsgen wrote there."""
        target = self.path / rel
        if Path(os.path.realpath(target.parent)) != self.real / Path(rel).parent:
            return False                                 # reached through a link
        if target.is_symlink() or not target.is_file():
            return False
        return not digests or _sha256(target) in digests

    # --- staging and commit ---------------------------------------------------------
    def staging(self) -> Staging:
        root = self.path / f"{STAGING_PREFIX}{os.getpid()}"
        try:
            if root.is_symlink() or root.is_file():
                root.unlink()
            elif root.is_dir():
                shutil.rmtree(root)
            root.mkdir()
            (root / STAGING_MARK).write_text("a wsgen build in progress\n")
            (root / "files").mkdir()
        except OSError as exc:
            raise _os_error(f"--out {self.path}: cannot write", exc) from None
        return Staging(root, self.path)

    def discard(self, staging: Staging) -> None:
        shutil.rmtree(staging.root, ignore_errors=True)

    def commit(self, staging: Staging, fingerprint: str | None, force: bool = False) -> list[str]:
        """Move the staged files into place; returns the previous build's files removed.
        SIGINT and SIGTERM wait until the folder is consistent again."""
        new = staging.hashes
        owned = self.owned()
        for rel in sorted(new):
            target = self._inside(rel)
            if target.is_dir() and not target.is_symlink():
                raise UserError(f"{target}: a folder stands where the build writes a file; "
                                "move it away")
            exists = target.exists() or target.is_symlink()
            if exists and not force:
                if rel not in owned:
                    raise UserError(f"{target}: not written by wsgen; the build would overwrite "
                                    "it (move it away, choose another --out, or use --force)")
                if not self._as_written(rel, owned[rel]):
                    raise UserError(f"{target}: changed since wsgen wrote it; the build would "
                                    "overwrite it (move it away, or use --force)")
        previous = sorted(set(owned) - set(new))
        stale = [rel for rel in previous if self._as_written(rel, owned[rel])]
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            accepted = {rel: sorted(owned.get(rel, set()) | {new.get(rel)} - {None})
                        for rel in set(owned) | set(new)}
            self._write_manifest("committing", fingerprint, dict(sorted(accepted.items())))
            try:
                for rel in sorted(new):
                    target = self._inside(rel)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self._inside(rel)
                    os.replace(staging.root / "files" / rel, target)
                for rel in stale:
                    target = self._inside(rel)
                    target.unlink(missing_ok=True)
                    _remove_empty_parents(target.parent, self.path)
            except OSError as exc:
                raise _os_error(f"{self.path}: cannot write", exc) from None
            self._write_manifest("complete", fingerprint, dict(sorted(new.items())))
            self.discard(staging)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return stale


def _remove_empty_parents(folder: Path, top: Path) -> None:
    while folder != top and folder.is_relative_to(top):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
