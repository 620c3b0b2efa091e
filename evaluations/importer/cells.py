"""Table cells and rows, and reading their text as labels, values and numbers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from evaluations.core.values import read_number


@dataclass
class Cell:
    """One table cell and the 1-based source line where it starts."""

    text: str
    line: int


@dataclass
class Row:
    """One table row; a paragraph outside a table is a row of one cell."""

    cells: list[Cell]
    line: int


_WHITESPACE = re.compile(r"\s+")
# Cells that mean "nothing here" on these forms.
_PLACEHOLDERS = frozenset({"", "-", "--", "—", "——", "–", "/", "\\", "无数据", "〃", "同上"})
# Units a number cell may carry; the importer does not know each column's unit. Not 元:
# the money columns are in 万元, and "95000元" read as 95000 万元 would be silently wrong
# (it is reported as a cell that is not a number instead).
_NUMBER_UNITS = ("分", "万元", "万")


def label_key(text: str) -> str:
    """Return text in the form used to recognise labels: NFKC, no whitespace at all."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def clean_cell(text: str) -> str:
    """Return a value as written, without the surrounding (also full-width) spaces."""
    return text.replace("\x07", "").replace("\x0b", "\n").strip()


def category_label(text: str) -> str:
    """Return a category label without inner breaks (社会效益 / 指标 → 社会效益指标)."""
    label = _WHITESPACE.sub("", text.replace("\x07", ""))
    return "" if label_key(label) in _PLACEHOLDERS else label


def snippet(text: str, size: int = 30) -> str:
    """Return a short single-line excerpt of a cell for a message."""
    flat = _WHITESPACE.sub(" ", text).strip()
    return flat if len(flat) <= size else flat[:size] + "…"


def parse_number(text: str) -> tuple[Decimal | None, bool]:
    """Read a decimal as written ("10.00分", "13万", " 8.22 "); blanks give (None, True).

    The second item is False when the text is neither blank nor a number.
    """
    value = label_key(text)
    if value in _PLACEHOLDERS:
        return None, True
    # The entry page's reader (values.read_number): one lenient reading everywhere.
    reading = read_number(value, units=_NUMBER_UNITS)
    return reading.number, reading.ok


def row_snippet(cells: list[Cell]) -> str:
    """Return a short single-line excerpt of a row's non-empty cells for a message."""
    return snippet(" | ".join(clean_cell(c.text) for c in cells if c.text.strip()), 40)
