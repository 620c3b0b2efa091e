"""Cells of the workbooks the application writes: text stays text, titles Excel accepts.

Every text cell and sheet title of every workbook (the forms' in exports/excel.py, the
results', the overview's, the due-list template's) goes through ``set_text`` and
``safe_sheet_title``: what users typed or imported can then neither break the file (control
characters, which XML cannot hold) nor become a formula.
"""

from __future__ import annotations

import re

from openpyxl.cell.cell import Cell

from evaluations.core.safetext import clean_text

FORMULA_PREFIXES = ("=", "+", "-", "@")
# What Excel accepts: characters per cell, characters per sheet title.
CELL_MAX_LENGTH = 32767
SHEET_TITLE_MAX_LENGTH = 31

# Excel refuses these in a sheet title; line breaks and tabs become spaces.
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")
_SHEET_SPACES = re.compile(r"\s+")


def set_text(cell: Cell, value: str) -> None:
    """Write text that stays text: a leading =, +, - or @ never becomes a formula.

    Characters an .xlsx cannot hold are dropped (``safetext.clean_text``: control
    characters, U+FFFE/U+FFFF, lone surrogates; openpyxl's own ``ILLEGAL_CHARACTERS_RE``
    misses the non-characters, which make Excel refuse the file), so a stored text from
    before the forms cleaned their input still exports.
    """
    value = clean_text(value)[:CELL_MAX_LENGTH]
    cell.value = value
    if value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
        cell.quotePrefix = True


def fit_utf16(text: str, limit: int) -> str:
    """The longest start of ``text`` of at most ``limit`` UTF-16 units (Excel's count)."""
    while len(text.encode("utf-16-le")) > 2 * limit:
        text = text[:-1]
    return text


def safe_sheet_title(text: str, fallback: str = "Sheet") -> str:
    """A sheet title Excel accepts: no control or forbidden characters, at most 31 long."""
    title = _SHEET_SPACES.sub(" ", clean_text(text))
    title = fit_utf16(_SHEET_UNSAFE.sub("_", title).strip().strip("'"), SHEET_TITLE_MAX_LENGTH)
    title = title.strip().strip("'")
    # "History" is reserved by Excel (in any case).
    if title.casefold() == "history":
        title += "_"
    return title or fallback
