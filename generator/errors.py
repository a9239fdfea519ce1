"""Errors and their exit statuses: every one ends as one line on stderr, never a traceback.

* 2, UserError: bad input (a file, field, option or argument), or an environment that
  refuses (a folder that cannot be written, a full disk); the message names it.
  A problem module that cannot load (ProblemError) is input too: the message names its file.
* 3, BuildError: a problem that raised, failed its independent check or failed to render
  during a build (the problem author's error, or ours); the message names the problem,
  the exam slot, the variant and the seed.
"""
from __future__ import annotations

import os
import re
import tomllib

__all__ = ["BuildError", "EXIT", "EXIT_STATUSES", "INPUT_LIMIT", "ProblemError", "UserError",
           "read_input", "read_toml"]


class EXIT:
    """The exit statuses of the command line (README's table is generated from
    EXIT_STATUSES)."""
    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    FAILED = 3
    INTERRUPTED = 130
    TERMINATED = 143


#: Status -> what it means, for the README (scripts/generated_docs.py writes the table).
EXIT_STATUSES = {
    (EXIT.OK,): "done (or up to date)",
    (EXIT.FINDINGS,): "findings: `wsgen stress` found check failures, `wsgen audit` a wrong claim",
    (EXIT.BAD_INPUT,): "bad input: a file, field, option or argument; a problem module that cannot "
                       "load (import error, missing piece, duplicate id, failed self-test); an "
                       "output folder that cannot be written (read-only, full disk) or that "
                       "another command wrote; a build or grading already writing there",
    (EXIT.FAILED,): "a problem failed inside a build (it raised, failed its independent check, or "
                    "could not render, in TeX too), named with its exam slot, variant and seed; a "
                    "worker process that died; or an internal error",
    (EXIT.INTERRUPTED, EXIT.TERMINATED): "interrupted (Ctrl-C, SIGTERM); the output folder is as "
                                         "it was",
}

#: The largest input file (exam, roster, key) read: 4 MiB.
INPUT_LIMIT = 4 * 1024 * 1024


class UserError(Exception):
    """Bad input from the user; the message names the file, field or argument.  Exit 2."""
    status = 2


class ProblemError(Exception):
    """A problem module that cannot load: it fails to import, is not well-formed, repeats
    another's id or fails its self-test (named by its file).  Exit 2: it is the input."""
    status = 2


class BuildError(Exception):
    """A problem that failed inside a build, named with its slot, variant and seed.  Exit 3."""
    status = 3


def read_input(path, what: str, limit: int = INPUT_LIMIT) -> bytes:
    """The bytes of a user's input file (a regular file of at most `limit` bytes), or a
    UserError naming it."""
    try:
        if not os.path.isfile(path) and os.path.exists(path):   # a device or a pipe
            raise UserError(f"{path}: cannot read {what}: not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UserError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UserError(f"{path}: {what} larger than {limit // (1024 * 1024)} MiB")
    return data


def read_toml(path, what: str) -> tuple[str, dict]:
    """The text and the table of a user's TOML file (a byte-order mark is accepted), or a
    UserError naming the file and the line."""
    raw = read_input(path, what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x})") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
        if at:
            raise UserError(f"{path}:{at.group(1)}: invalid TOML: {message[:at.start()]}") from None
        raise UserError(f"{path}: invalid TOML: {message}") from None
