"""Output formats: the neutral document of a sheet (document), prose and TeX line breaking
(prose, markup, texbreak, templating), and one module per format behind one small
interface, found through entry points.

A format has a `name` and a life cycle in two halves:

* `render(sheet, documents)`, in a worker process, once per sheet: the sheet's own
  files ({path relative to the sheet's folder: text or bytes}) and any picklable data
  its collector needs (the LaTeX of a sheet, for the PDF booklets);
* `collector(build, staging)`, in the build's process: an object whose `add(summary,
  data)` is called once per sheet, in order, and whose `finish()` writes the files
  that span sheets (answers.json, booklets), through `staging`.

The built-in formats are registered in the `wsgen.formats` entry-point group of the
package's own metadata, the same way a plugin registers one; nothing else names them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar

__all__ = ["Format", "FormatError", "Rendered", "SheetSummary", "available_formats", "get_format"]

GROUP = "wsgen.formats"


class FormatError(Exception):
    """A format plugin that cannot be loaded."""


@dataclass
class Rendered:
    files: dict[str, str | bytes] = field(default_factory=dict)   # relative to the sheet's folder
    data: Any = None                                               # for this format's collector


@dataclass(frozen=True)
class SheetSummary:
    """What the build's process learns of each sheet, in order."""
    index: int                 # 0: canonical
    variant_id: str
    folder: str                # the sheet's folder, relative to the output folder
    record: dict               # the sheet's JSON record (answers.json)


class Format:
    """Base class of a format.  Subclasses set `name` and `description`."""
    name: ClassVar[str]
    description: ClassVar[str] = ""

    def render(self, sheet, documents) -> Rendered:
        """The sheet's files; `documents` maps "questions" and "key" to their Document."""
        return Rendered()

    def collector(self, build, staging):
        """An object with add(summary, data) and finish(), or None."""
        return None

    def check_inputs(self, exam, students, exam_file, roster_file) -> None:
        """Refuse, before anything is built, user text this format cannot show faithfully
        (raise errors.UserError naming the file and field).  Default: anything goes."""

    def selftest(self, sheet, documents) -> None:
        """Render a sheet in memory and raise on any error (used when a problem loads)."""
        self.render(sheet, documents)


_CACHE: dict[str, Format] = {}


def _entry_points() -> dict[str, Any]:
    found = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def available_formats() -> tuple[str, ...]:
    """Names of every registered format, built-in ones first, in the order they declare."""
    names = list(_entry_points())
    order = {"md": 0, "json": 1, "pdf": 2}
    return tuple(sorted(names, key=lambda n: (order.get(n, 3), n)))


def get_format(name: str) -> Format:
    if name not in _CACHE:
        eps = _entry_points()
        if name not in eps:
            raise FormatError(f"unknown format {name!r} (known: {', '.join(available_formats())})")
        try:
            cls = eps[name].load()
        except Exception as exc:  # noqa: BLE001 - reported as one line
            raise FormatError(f"format {name!r} ({eps[name].value}): cannot load: "
                              f"{type(exc).__name__}: {exc}") from None
        if not (isinstance(cls, type) and issubclass(cls, Format)):
            raise FormatError(f"format {name!r} ({eps[name].value}) is not a wsgen Format class")
        _CACHE[name] = cls()
    return _CACHE[name]
