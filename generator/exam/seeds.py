"""Per-student variant seeds under a secret key.

A student's problem seed is HMAC-SHA256(key, exam id ‖ student id ‖ problem slot),
cut to 48 bits.  The key lives in a file outside the output folder, created on
first use (32 random bytes, hex, mode 0600) and never printed into a document
or manifest: publishing the exam file, the generator and a student's id does
not let anyone compute that student's seeds.  The same key and roster always
give the same variants; a new key gives new ones.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ..errors import UserError
from ..core.rng import SEED_BITS

__all__ = ["default_key_path", "load_or_create_key", "student_seed"]


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "wsgen" / "roster-secret.key"


def load_or_create_key(path: Path, out_dir: Path) -> bytes:
    """The key in `path`, created (0600) if missing.  Refuses a path inside out_dir."""
    path = Path(path).expanduser()
    if path.resolve().is_relative_to(Path(out_dir).resolve()):
        raise UserError(f"--secret {path}: the key must not live inside the output folder {out_dir}")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    try:
        text = path.read_text("ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError, UnicodeDecodeError):
        raise UserError(f"--secret {path}: not a key file written by wsgen (64 hex digits)") from None
    if len(key) < 16:
        raise UserError(f"--secret {path}: key too short")
    return key


def student_seed(key: bytes, exam_id: str, student_id: str, slot: str) -> int:
    message = b"\0".join(s.encode("utf-8") for s in ("wsgen-student-v1", exam_id, student_id, slot))
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)
