"""The output folder: one run at a time, files staged, then committed under a manifest.

`wsgen build` and `wsgen grade` write through this one primitive (`OutputFolder(path,
writer)`); below, "a run" is either.  What a finished run means, and how this module
keeps it true:

* The folder `--out` names is resolved once, when the run starts: a symbolic link on
  the way to it (the folder itself included) is followed then, and only then; a link
  that leads nowhere or loops is refused with one line.  Inside the folder nothing is
  ever written, replaced or removed through a symbolic link.
* The manifest records which command wrote the folder ("writer"): a build never writes
  into a folder of grades, nor grading into a build's folder.
* A run holds an exclusive lock on ``OUT/.wsgen.lock`` from its first look at the
  folder to its last write; a second run into the same folder is refused at once.
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
* A file in OUT that no run of wsgen wrote (it is not in the manifest) is never
  overwritten or removed: the run stops with one line naming it (a build's --force
  overwrites it).
"""
from __future__ import annotations

import errno
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

__all__ = ["LOCK", "MANIFEST", "WRITERS", "OutputFolder", "Staging", "atomic_write"]

MANIFEST = ".wsgen-files.json"
LOCK = ".wsgen.lock"
STAGING_PREFIX = ".wsgen-staging-"
_COUNTER = itertools.count()
#: The commands that write an output folder, and what their folder holds.
WRITERS = {"build": "a build (sheets, keys, answers.json)",
           "grade": "grades written by `wsgen grade` (grades.csv, feedback/)"}


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


def real_folder(path: Path, option: str = "--out") -> Path:
    """The real folder `path` names, symbolic links on the way followed now; a link that
    leads nowhere or loops, or a file where the folder should be, is a UserError."""
    parts = path.parts
    for i in range(1, len(parts) + 1):
        current = Path(*parts[:i])
        if os.path.exists(current):
            continue
        if os.path.lexists(current):                  # a link that cannot be followed
            try:
                os.stat(current)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise UserError(f"{option} {path}: {current} is a symbolic link that loops; "
                                    "remove it or point it at a folder") from None
                if exc.errno == errno.ENOENT:
                    raise UserError(f"{option} {path}: {current} is a symbolic link to "
                                    f"{os.readlink(current)}, which does not exist; create that "
                                    "folder or remove the link") from None
                raise _os_error(f"{option} {path}: cannot reach {current}", exc) from None
        break                                         # the rest is created by the run
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"{option} {path}: exists and is not a folder")
    return Path(os.path.realpath(path))


class OutputFolder:
    """The output folder of a `writer` ("build" or "grade"), locked for the duration of a
    `with` block.

    `path` is resolved once, on entering (`real_folder`); every file operation then goes
    to that real folder, and messages name the path as the user gave it.  Nothing is
    ever written, replaced or removed through a symbolic link inside it: a path in the
    folder whose parent is not the real folder it seems to be (a linked folder inside
    the output folder) is refused.
    """

    def __init__(self, path: Path, writer: str = "build"):
        if writer not in WRITERS:
            raise ValueError(f"unknown writer {writer!r}")
        self.path = Path(path)          # as given: what messages name
        self.writer = writer
        self.root = self.path           # the real folder, once entered
        self._lock = None
        self._created = False

    # --- lock -----------------------------------------------------------------------
    def __enter__(self) -> "OutputFolder":
        if str(self.path) == "":
            raise UserError("--out: empty folder name")
        self.root = real_folder(self.path)
        try:
            self._created = not self.root.exists()
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            self._lock = os.fdopen(fd, "r+b")
        except OSError as exc:
            raise _os_error(f"--out {self.path}: cannot write", exc) from None
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = self._lock.read(16).decode("ascii", "replace").strip()
            self._lock.close()
            self._lock = None
            raise UserError(f"--out {self.path}: another wsgen "
                            f"{holder if holder in WRITERS else 'run'} is writing into this "
                            "folder; wait for it to finish") from None
        try:
            self._lock.truncate(0)
            self._lock.write(f"{self.writer}\n".encode("ascii"))
            self._lock.flush()
        except OSError:
            pass                        # the lock holds without its note
        try:
            self._check_writer()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self._remove_abandoned_staging()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._lock is None:
            return
        if not (self.root / MANIFEST).exists():
            # no run of wsgen ever finished writing here: leave no trace (and a folder this
            # run made goes too, when empty)
            (self.root / LOCK).unlink(missing_ok=True)
            if self._created:
                try:
                    self.root.rmdir()
                except OSError:
                    pass
        self._lock.close()              # releases the lock
        self._lock = None

    def _check_writer(self) -> None:
        """A folder written by the other command is refused (a build would remove the
        grades as files of its previous build; grades beside a build mix two records)."""
        manifest = self.manifest()
        if not manifest:
            return
        other = manifest.get("writer", "build")     # manifests before "writer": builds
        if other != self.writer:
            held = WRITERS.get(other, f"the output of `wsgen {other}`")
            raise UserError(f"--out {self.path}: holds {held}; `wsgen {self.writer}` writes "
                            "into a folder of its own: choose another --out")

    def _remove_abandoned_staging(self) -> None:
        """Staging folders of runs that were killed: only real folders that carry this
        tool's mark (a user's folder of the same name is left alone)."""
        for entry in self.root.glob(STAGING_PREFIX + "*"):
            if entry.is_dir() and not entry.is_symlink() and (entry / STAGING_MARK).is_file():
                shutil.rmtree(entry, ignore_errors=True)

    def _shown(self, rel: str) -> Path:
        return self.path / rel

    def _inside(self, rel: str) -> Path:
        """The real path of `rel` in the folder, refused if any folder on the way is a link."""
        target = self.root / rel
        if Path(os.path.realpath(target.parent)) != self.root / Path(rel).parent:
            raise UserError(f"{self._shown(rel)}: a linked folder stands on the path wsgen "
                            f"{self.writer} writes; wsgen does not write through links: "
                            "remove the link")
        return target

    # --- manifest -------------------------------------------------------------------
    def manifest(self) -> dict:
        try:
            data = json.loads((self.root / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_manifest(self, state: str, fingerprint: str | None, files) -> None:
        text = json.dumps({"state": state, "writer": self.writer, "fingerprint": fingerprint,
                           "files": files}, indent=1, sort_keys=True) + "\n"
        try:
            atomic_write(self._inside(MANIFEST), text)
        except OSError as exc:
            raise _os_error(f"{self.path}: cannot write {MANIFEST}", exc) from None

    def owned(self) -> dict[str, set[str]]:
        """The paths that a run of wsgen wrote here, each with the SHA-256 it may have
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
        return all(_sha256(self.root / rel) == digest for rel, digest in files.items())

    def _as_written(self, rel: str, digests: set[str]) -> bool:
        """Whether the file at `rel` is still what a run of wsgen wrote there."""
        target = self.root / rel
        if Path(os.path.realpath(target.parent)) != self.root / Path(rel).parent:
            return False                                 # reached through a link
        if target.is_symlink() or not target.is_file():
            return False
        return not digests or _sha256(target) in digests

    # --- staging and commit ---------------------------------------------------------
    def staging(self) -> Staging:
        root = self.root / f"{STAGING_PREFIX}{os.getpid()}"
        try:
            if root.is_symlink() or root.is_file():
                root.unlink()
            elif root.is_dir():
                shutil.rmtree(root)
            root.mkdir()
            (root / STAGING_MARK).write_text(f"a wsgen {self.writer} in progress\n")
            (root / "files").mkdir()
        except OSError as exc:
            raise _os_error(f"--out {self.path}: cannot write", exc) from None
        return Staging(root, self.path)

    def discard(self, staging: Staging) -> None:
        shutil.rmtree(staging.root, ignore_errors=True)

    def commit(self, staging: Staging, fingerprint: str | None, force: bool = False) -> list[str]:
        """Move the staged files into place; returns the previous run's files removed.
        SIGINT and SIGTERM wait until the folder is consistent again."""
        new = staging.hashes
        owned = self.owned()
        elsewhere = ("move it away, choose another --out, or use --force" if self.writer == "build"
                     else "move it away, or choose another --out")
        for rel in sorted(new):
            target = self._inside(rel)
            if target.is_dir() and not target.is_symlink():
                raise UserError(f"{self._shown(rel)}: a folder stands where wsgen {self.writer} "
                                "writes a file; move it away")
            exists = target.exists() or target.is_symlink()
            if exists and not force:
                if rel not in owned:
                    raise UserError(f"{self._shown(rel)}: not written by wsgen; {self.writer} "
                                    f"would overwrite it ({elsewhere})")
                if not self._as_written(rel, owned[rel]):
                    raise UserError(f"{self._shown(rel)}: changed since wsgen wrote it; "
                                    f"{self.writer} would overwrite it ({elsewhere})")
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
                    _remove_empty_parents(target.parent, self.root)
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
