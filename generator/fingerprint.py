"""A build's input fingerprint, computed without importing the heavy libraries.

It covers the exam file, the roster, the key (as a digest, never the key), the
command-line choices, the generator's own code and templates, and the versions
of the libraries that shape the documents.  When the output folder's manifest
holds the same fingerprint and all its files, a build has nothing to do.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

__all__ = ["build_fingerprint"]

ROOT = Path(__file__).resolve().parent.parent
_LIBRARIES = ("sympy", "mpmath", "numpy", "Jinja2", "PyLaTeX", "pypdf")


def _code_digest() -> str:
    h = hashlib.sha256()
    for folder in ("generator", "problems", "templates"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".j2"):
                h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _versions() -> str:
    out = []
    for name in _LIBRARIES:
        try:
            out.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name}=?")
    return ",".join(out)


def build_fingerprint(version: str, exam_bytes: bytes, roster_bytes: bytes | None,
                      key: bytes | None, choices: dict) -> str:
    h = hashlib.sha256()
    for part in (version, _code_digest(), _versions(), repr(sorted(choices.items()))):
        h.update(part.encode("utf-8") + b"\0")
    h.update(hashlib.sha256(exam_bytes).digest())
    h.update(hashlib.sha256(roster_bytes).digest() if roster_bytes is not None else b"-")
    h.update(hashlib.sha256(b"wsgen-key\0" + key).digest() if key is not None else b"-")
    return h.hexdigest()
