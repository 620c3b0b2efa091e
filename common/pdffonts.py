"""Compact embedded fonts: WeasyPrint's font subsets without its retained glyph ids.

WeasyPrint (70) subsets each font with HarfBuzz keeping every glyph id up to the last one
used (``RETAIN_GIDS``), because its pages draw glyphs by their ids in the full font. For
Noto Serif CJK (65,535 glyphs, the ideographs at high ids) a form's subset thus keeps
widths and an empty outline for ~63,000 glyphs: 805 KB (180 KB compressed) for the few
hundred characters the form prints.

The CJK faces are CID-keyed CFF fonts whose CIDs equal their glyph ids. In a PDF, a CID
font program embedded as bare CFF (``/FontFile3`` of ``/Subtype /CIDFontType0C``) finds a
glyph by its CID through the CFF charset, not by its position. So, inside
``compact_fonts()``, such a font is subset to the glyphs used only (HarfBuzz keeps their
CIDs), and ``bare_cff`` (the ``finisher`` of ``write_pdf``) embeds its CFF table alone: the
pages, widths and ToUnicode maps WeasyPrint writes by CID stay as they are, the text
extracts as before, and the outlines are the same. A font of any other kind (TrueType, a
name-keyed CFF, CIDs that differ from glyph ids) is subset as WeasyPrint does it.

WeasyPrint's ``Font.subset`` is replaced once per process (``install``); outside
``compact_fonts()`` it is WeasyPrint's own. tests/exports/test_pdf_size.py checks the result
(size, text, rendering) on every upgrade of WeasyPrint.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from typing import Any

# Bump when what this module embeds changes: the PDF cache's key includes it.
VERSION = "cff-compact-1"
CFF_TABLE = b"CFF "
# Only the CFF table is embedded: every other table need not be subset.
_DROPPED_TABLES = (
    b"BASE",
    b"DSIG",
    b"EBDT",
    b"EBLC",
    b"EBSC",
    b"GDEF",
    b"GPOS",
    b"GSUB",
    b"JSTF",
    b"LTSH",
    b"PCLT",
    b"SVG ",
    b"VORG",
    b"kern",
    b"vhea",
    b"vmtx",
)

_compact: ContextVar[bool] = ContextVar("compact_fonts", default=False)


@contextmanager
def compact_fonts() -> Iterator[None]:
    """Within this block, CID-keyed CFF fonts are subset to the glyphs used only."""
    token = _compact.set(True)
    try:
        yield
    finally:
        _compact.reset(token)


@cache
def install() -> None:
    """Put ``_subset`` in place of WeasyPrint's ``Font.subset`` (once per process)."""
    # WeasyPrint is imported when a PDF is made, not with this module (common/pdf.py).
    from weasyprint.pdf.fonts import Font

    stock = Font.subset

    def subset(font: Any, to_unicode: dict[int, str], hinting: bool) -> None:
        if not (_compact.get() and to_unicode and _subset(font, sorted(to_unicode), hinting)):
            stock(font, to_unicode, hinting)

    Font.subset = subset


def _subset(font: Any, gids: list[int], hinting: bool) -> bool:
    """Subset ``font`` to ``gids`` without retaining glyph ids; False when it must not be."""
    # Imported with WeasyPrint, as in install().
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset
    from weasyprint.text.fonts import get_hb_object_data

    if not harfbuzz_subset or not harfbuzz.hb_version_atleast(4, 1, 0):
        return False
    plan = ffi.gc(
        harfbuzz_subset.hb_subset_input_create_or_fail(), harfbuzz_subset.hb_subset_input_destroy
    )
    glyphs = harfbuzz_subset.hb_subset_input_glyph_set(plan)
    harfbuzz.hb_set_add_sorted_array(glyphs, ffi.new("hb_codepoint_t[]", gids), len(gids))
    flags = harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE
    if not hinting:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING
    if font.missing:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NOTDEF_OUTLINE
    harfbuzz_subset.hb_subset_input_set_flags(plan, flags)
    dropped = harfbuzz_subset.hb_subset_input_set(
        plan, harfbuzz_subset.HB_SUBSET_SETS_DROP_TABLE_TAG
    )
    tags = sorted(harfbuzz.hb_tag_from_string(tag, -1) for tag in _DROPPED_TABLES)
    harfbuzz.hb_set_add_sorted_array(dropped, ffi.new("hb_codepoint_t[]", tags), len(tags))
    face = ffi.gc(harfbuzz_subset.hb_subset_or_fail(font.hb_face, plan), harfbuzz.hb_face_destroy)
    data = get_hb_object_data(face) if face else None
    if not data:
        return False
    cff = _table(data, CFF_TABLE)
    if cff is None or not _keeps_cids(data, gids, font.glyph_count):
        return False
    font.file_content = data
    font.bare_cff = cff
    return True


def _keeps_cids(data: bytes, gids: list[int], glyph_count: int) -> bool:
    """Whether the subset is CID-keyed and holds each glyph under its id as CID.

    (HarfBuzz may add a few glyphs that those use; they keep their own CIDs.)
    """
    # Imported when a PDF is made, as WeasyPrint is: it costs every web worker ~0.1 s.
    from fontTools.ttLib import TTFont

    subset = TTFont(BytesIO(data))
    if not hasattr(subset["CFF "].cff.topDictIndex[0], "ROS"):
        return False
    # Ids past the font's last glyph stand for characters it lacks (drawn as .notdef).
    wanted = {f"cid{gid:05d}" for gid in gids if 0 < gid < glyph_count}
    return wanted <= set(subset.getGlyphOrder())


def _table(data: bytes, tag: bytes) -> bytes | None:
    """One table of an OpenType font file, from its table directory."""
    (count,) = struct.unpack_from(">H", data, 4)
    for index in range(count):
        name, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * index)
        if name == tag:
            return data[offset : offset + length]
    return None


def bare_cff(document: Any, pdf: Any) -> None:
    """Embed the compact subsets as bare CFF (a ``write_pdf`` finisher)."""
    compact = {
        id(font.file_content): font.bare_cff
        for font in document.fonts.values()
        if getattr(font, "bare_cff", None) is not None
    }
    if not compact:
        return
    for obj in pdf.objects:
        stream = getattr(obj, "stream", None)
        if stream and len(stream) == 1 and id(stream[0]) in compact:
            obj.stream = [compact[id(stream[0])]]
            obj.extra["Subtype"] = "/CIDFontType0C"
