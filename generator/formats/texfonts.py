"""The OpenType fonts of the PDF documents that LuaLaTeX sets, and what they cover.

A document whose user text holds a script pdfTeX's fonts lack (formats/markup.py,
`unicode_only`: Vietnamese letters, CJK, Arabic, Hebrew, Indic scripts, …) is set by
LuaLaTeX: the text in Latin Modern (the design of every other document) with a chain of
Noto fonts behind it (luaotfload's fallback, shaped by HarfBuzz), from Debian's packages
fonts-noto-core and fonts-noto-cjk (scripts/ensure-fonts, run by `make setup`).  The
mathematics keeps the Type 1 fonts of the pdfTeX documents.

`missing` reads the fonts' character maps (the OpenType ``cmap`` table), so that a
character no font has (an emoji, a private-use code) is refused before the build, with
the field that holds it, instead of being lost in the PDF.
"""
from __future__ import annotations

import os
import struct
from functools import lru_cache
from pathlib import Path

__all__ = ["FONT_DIRS", "FONT_PACKAGES", "MAIN", "FALLBACK", "font_files", "missing",
           "missing_fonts", "preamble"]

#: Where Debian (and a local install) puts fonts; luaotfload indexes the same folders.
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/usr/share/texmf/fonts/opentype",
             "/usr/share/texlive/texmf-dist/fonts/opentype")
FONT_PACKAGES = "fonts-noto-core fonts-noto-cjk texlive-luatex"

#: The text fonts: Latin Modern's OpenType faces (fonts-lmodern), the same design as the
#: pdfTeX documents' T1 fonts, with Vietnamese.
MAIN = {"regular": "lmroman10-regular.otf", "bold": "lmroman10-bold.otf",
        "italic": "lmroman10-italic.otf", "bolditalic": "lmroman10-bolditalic.otf"}

# (Noto file stem, file extension, face index, OpenType script):
# the serif faces where Noto has them, in the order luaotfload tries them.  The CJK
# collection's face 2 is Simplified Chinese (its Han, kana and Hangul serve all three).
_CHAIN = (
    ("NotoSerif", ".ttf", "", ""),                      # Latin, Greek, Cyrillic beyond LM
    ("NotoSerifCJK", ".ttc", "(2)", ""),                # Han, kana, Hangul
    ("NotoNaskhArabic", ".ttf", "", "arab"),
    ("NotoSerifHebrew", ".ttf", "", "hebr"),
    ("NotoSerifDevanagari", ".ttf", "", "dev2"),
    ("NotoSerifBengali", ".ttf", "", "bng2"),
    ("NotoSerifGurmukhi", ".ttf", "", "gur2"),
    ("NotoSerifGujarati", ".ttf", "", "gjr2"),
    ("NotoSerifTamil", ".ttf", "", "tml2"),
    ("NotoSerifTelugu", ".ttf", "", "tel2"),
    ("NotoSerifKannada", ".ttf", "", "knd2"),
    ("NotoSerifMalayalam", ".ttf", "", "mlm2"),
    ("NotoSerifSinhala", ".ttf", "", "sinh"),
    ("NotoSerifThai", ".ttf", "", "thai"),
    ("NotoSerifLao", ".ttf", "", "lao"),
    ("NotoSerifKhmer", ".ttf", "", "khmr"),
    ("NotoSerifMyanmar", ".ttf", "", "mym2"),
    ("NotoSerifArmenian", ".ttf", "", "armn"),
    ("NotoSerifGeorgian", ".ttf", "", "geor"),
    ("NotoSerifEthiopic", ".ttf", "", "ethi"),
    ("NotoSansThaana", ".ttf", "", "thaa"),
)

#: weight -> [(file name, face index suffix, OpenType script)] of the fallback chain; the
#: script tells HarfBuzz how to shape (Arabic letters join, Indic clusters reorder).
FALLBACK = {weight: tuple((f"{stem}-{weight.capitalize()}{ext}", face, script)
                          for stem, ext, face, script in _CHAIN)
            for weight in ("regular", "bold")}


@lru_cache(maxsize=1)
def _index() -> dict[str, Path]:
    """Every font file under FONT_DIRS by its name (the first found)."""
    found: dict[str, Path] = {}
    for root in FONT_DIRS:
        for folder, _, files in sorted(os.walk(root)):
            for name in sorted(files):
                if name.endswith((".otf", ".ttf", ".ttc")):
                    found.setdefault(name, Path(folder, name))
    return found


def font_files() -> list[Path]:
    """The files of the text fonts (regular weight) and the fallback chain, those found."""
    index = _index()
    names = [MAIN["regular"]] + [name for name, _, _ in FALLBACK["regular"]]
    return [index[name] for name in names if name in index]


def missing_fonts() -> list[str]:
    """The font files LuaLaTeX's documents use that are not installed."""
    index = _index()
    names = list(MAIN.values()) + [name for chain in FALLBACK.values() for name, _, _ in chain]
    return [name for name in dict.fromkeys(names) if name not in index]


def _cmap_points(data: bytes, offset: int) -> set[int]:
    """The code points of the font at `offset` of `data` (a TrueType/OpenType file or a
    face of a collection), from its Unicode cmap subtable (format 12, else 4)."""
    (count,) = struct.unpack_from(">H", data, offset + 4)
    cmap = None
    for k in range(count):
        tag, _, table_offset, _ = struct.unpack_from(">4sIII", data, offset + 12 + 16 * k)
        if tag == b"cmap":
            cmap = table_offset
    if cmap is None:
        return set()
    (subtables,) = struct.unpack_from(">H", data, cmap + 2)
    chosen = {}
    for k in range(subtables):
        platform, encoding, sub = struct.unpack_from(">HHI", data, cmap + 4 + 8 * k)
        (fmt,) = struct.unpack_from(">H", data, cmap + sub)
        if (platform, encoding) in ((3, 10), (0, 4), (0, 6)) and fmt == 12:
            chosen.setdefault(12, cmap + sub)
        elif (platform, encoding) in ((3, 1), (0, 3)) and fmt == 4:
            chosen.setdefault(4, cmap + sub)
    points: set[int] = set()
    if 12 in chosen:
        start = chosen[12]
        (groups,) = struct.unpack_from(">I", data, start + 12)
        for g in range(groups):
            first, last, _ = struct.unpack_from(">III", data, start + 16 + 12 * g)
            points.update(range(first, last + 1))
    elif 4 in chosen:
        start = chosen[4]
        (seg_x2,) = struct.unpack_from(">H", data, start + 6)
        ends = struct.unpack_from(f">{seg_x2 // 2}H", data, start + 14)
        starts = struct.unpack_from(f">{seg_x2 // 2}H", data, start + 16 + seg_x2)
        deltas = struct.unpack_from(f">{seg_x2 // 2}h", data, start + 16 + 2 * seg_x2)
        range_at = start + 16 + 3 * seg_x2
        ranges = struct.unpack_from(f">{seg_x2 // 2}H", data, range_at)
        for k, (first, last) in enumerate(zip(starts, ends)):
            for code in range(first, min(last, 0xFFFE) + 1):
                if ranges[k] == 0:
                    glyph = (code + deltas[k]) & 0xFFFF
                else:
                    at = range_at + 2 * k + ranges[k] + 2 * (code - first)
                    (glyph,) = struct.unpack_from(">H", data, at)
                    glyph = (glyph + deltas[k]) & 0xFFFF if glyph else 0
                if glyph:
                    points.add(code)
    return points


def _face_offset(data: bytes, face: int) -> int:
    if data[:4] != b"ttcf":
        return 0
    return struct.unpack_from(">I", data, 12 + 4 * face)[0]


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    index = _index()
    points: set[int] = set()
    for name, face, _ in [(MAIN["regular"], "", "")] + list(FALLBACK["regular"]):
        if name in index:
            data = index[name].read_bytes()
            points |= _cmap_points(data, _face_offset(data, int(face.strip("()") or 0)))
    return frozenset(points)


# Characters that need no glyph: HarfBuzz shapes them (joiners, variation selectors) or
# the text runs stand in for them.
_IGNORABLE = frozenset(range(0xFE00, 0xFE10)) | {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF}


def missing(chars) -> list[str]:
    """Those of `chars` that no font of LuaLaTeX's documents has."""
    covered = _covered()
    return [ch for ch in chars if ord(ch) not in covered and ord(ch) not in _IGNORABLE
            and not ch.isspace()]


def _chain(weight: str) -> str:
    return ",".join(f'"{name}{face}:mode=harf;' + (f"script={script};" if script else "") + '"'
                    for name, face, script in FALLBACK[weight])


def preamble() -> str:
    """The LaTeX that sets the text fonts of a LuaLaTeX document (after lmodern, whose
    mathematics it keeps)."""
    return (r"\usepackage[no-math]{fontspec}" "\n"
            r"\directlua{luaotfload.add_fallback('wsgenregular', {" + _chain("regular") + "})"
            r" luaotfload.add_fallback('wsgenbold', {" + _chain("bold") + "})}\n"
            # TeX's ligatures off: user text prints each character as itself (` ' -- << …)
            r"\setmainfont{" + MAIN["regular"] + "}[Ligatures=TeXOff, "
            r"RawFeature={fallback=wsgenregular}, BoldFont=" + MAIN["bold"] + ", "
            r"BoldFeatures={RawFeature={fallback=wsgenbold}}, ItalicFont=" + MAIN["italic"] + ", "
            r"ItalicFeatures={RawFeature={fallback=wsgenregular}}, "
            r"BoldItalicFont=" + MAIN["bolditalic"] + ", "
            r"BoldItalicFeatures={RawFeature={fallback=wsgenbold}}]" "\n")
