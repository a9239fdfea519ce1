"""Errors a user can cause: reported as one line, exit status 2."""
from __future__ import annotations

__all__ = ["ProblemError", "UserError", "read_input"]


class UserError(Exception):
    """Bad input from the user; the message names the file, field or argument."""


class ProblemError(Exception):
    """A problem module that is not well-formed (the developer's error, named by module)."""


def read_input(path, what: str) -> bytes:
    """The bytes of a user's input file, or a UserError naming it."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise UserError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
