"""Errors a user can cause: reported as one line, exit status 2."""
from __future__ import annotations

__all__ = ["ProblemError", "UserError"]


class UserError(Exception):
    """Bad input from the user; the message names the file, field or argument."""


class ProblemError(Exception):
    """A problem module that is not well-formed (the developer's error, named by module)."""
