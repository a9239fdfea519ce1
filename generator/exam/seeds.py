"""Per-student variant seeds under a secret key.

A student's problem seed is HMAC-SHA256(key, exam id ‖ student id ‖ problem slot),
cut to 48 bits.  The key lives in a file outside the output folder, created on
first use (32 random bytes, hex, mode 0600) and never printed into a document
or manifest: publishing the exam file, the generator and a student's id does
not let anyone compute that student's seeds.  The same key and roster always
give the same variants; a new key gives new ones.  So a key created by a build is
announced (`on_create`: the command line prints its path on stderr, saying that the
variants depend on it), never created silently: a rebuild on another machine without
it would give every student other numbers than those printed.

The key file is refused, with one line saying why, when it lies inside the output
folder (by its path or by where it resolves: a symlink inside the output folder, a
symlink to a file inside it), when group or others may read or write it (chmod 600
fixes it), when it is not a regular file or lies in /proc, /sys or /dev, or when it or
its folder cannot be read, created or written.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from ..errors import UserError
from ..core.rng import SEED_BITS

__all__ = ["default_key_path", "load_or_create_key", "student_seed"]


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "wsgen" / "roster-secret.key"


_KEY_LIMIT = 4096
_SYSTEM = (Path("/proc"), Path("/sys"), Path("/dev"))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def load_or_create_key(path: Path, out_dir: Path, on_create=None, create: bool = True) -> bytes | None:
    """The key in `path`, created (0600) if missing, then `on_create(path)` called; with
    `create` false, None when missing (every check of the path made all the same).
    Refuses a path inside out_dir."""
    given = Path(path).expanduser()
    try:
        absolute = Path(os.path.abspath(given))
        resolved = given.resolve()
        out_abs = Path(os.path.abspath(Path(out_dir).expanduser()))
        out_resolved = out_abs.resolve()
    except (OSError, RuntimeError) as exc:      # a symlink loop
        raise UserError(f"--secret {given}: cannot resolve the path: "
                        f"{getattr(exc, 'strerror', None) or exc}") from None
    if any(_inside(p, o) for p in (absolute, resolved) for o in (out_abs, out_resolved)):
        raise UserError(f"--secret {given}: the key must not live inside the output folder "
                        f"{out_dir} (it would be published with it); keep it elsewhere, e.g. "
                        f"{default_key_path()}")
    if any(_inside(p, system) for p in (absolute, resolved) for system in _SYSTEM):
        raise UserError(f"--secret {given}: not a key file (a system path: {resolved})")
    try:
        if not os.path.lexists(given):
            if not create:
                return None
            _create_key(given)
            if on_create is not None:
                on_create(given)
        elif not os.path.exists(given):
            raise UserError(f"--secret {given}: a dangling symlink (to {os.readlink(given)}); "
                            "remove it or point it at the key file")
        return _read_key(given)
    except OSError as exc:
        raise UserError(f"--secret {given}: cannot use the key file: "
                        f"{exc.strerror or exc}") from None


def _create_key(path: Path) -> None:
    for folder in path.parents:
        if os.path.exists(folder):
            if not os.path.isdir(folder):
                raise UserError(f"--secret {path}: {folder} is not a folder")
            break
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"--secret {path}: not a regular file")
        if info.st_mode & 0o077:
            raise UserError(f"--secret {path}: the key may be read or written by group or "
                            f"others (mode {stat.S_IMODE(info.st_mode):04o}); make it private: "
                            f"chmod 600 {path}")
        data = handle.read(_KEY_LIMIT + 1)
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except (ValueError, UnicodeDecodeError):
        key = None
    if key is None or len(data) > _KEY_LIMIT:
        raise UserError(f"--secret {path}: not a key file written by wsgen (64 hex digits)")
    if len(key) < 16:
        raise UserError(f"--secret {path}: key too short (at least 32 hex digits)")
    return key


def student_seed(key: bytes, exam_id: str, student_id: str, slot: str) -> int:
    message = b"\0".join(s.encode("utf-8") for s in ("wsgen-student-v1", exam_id, student_id, slot))
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)
