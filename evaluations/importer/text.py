"""Read text dumps of Word tables: one row per block of lines, one cell per leading TAB."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from evaluations.importer.tables import (
    Cell,
    ParseResult,
    Problem,
    Row,
    UnreadableFile,
    _,
    parse_rows,
)

# Magic numbers of the office files people upload instead of the text dump.
_SIGNATURES = (
    (b"PK\x03\x04", "zip"),  # .docx / .xlsx
    (b"\xd0\xcf\x11\xe0", "ole"),  # .doc / .xls
    (b"%PDF", "pdf"),
)
# Control characters that do occur in text saved from Word: TAB, line breaks,
# the vertical tab of a manual line break, form feed and the cell-end mark.
_ALLOWED_CONTROLS = frozenset("\t\n\r\x0b\x0c\x07")
_MAX_JUNK_RATIO = 0.02
_MAX_BAD_BYTES_RATIO = 0.001
# Runs of characters that are text for certain (printable ASCII, line breaks, CJK
# ideographs and punctuation, full-width forms): skipped in C before the per-character
# check, which would otherwise take a Python step per character of a 5 MB file.
_PLAIN = re.compile("[\t\n\r\x20-\x7e\u3000-\u303f\u4e00-\u9fa5\uff01-\uff5e]+")


def _junk_ratio(text: str) -> float:
    """Return the share of characters that do not belong in a text file."""
    if not text:
        return 0.0
    bad = 0
    for char in _PLAIN.sub("", text):
        if char in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Co", "Cn", "Cs") or char == "\ufffd":
            bad += 1
    return bad / len(text)


def _line_of(data: bytes, offset: int) -> int:
    """Return the 1-based line of a byte offset."""
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes) -> tuple[str, list[Problem]]:
    """Decode a dump and say what was damaged on the way; raise UnreadableFile for junk."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            if kind == "pdf":
                raise UnreadableFile(_("这是PDF文件，不是文本文件，无法读取。"))
            raise UnreadableFile(_("这是Word或Excel文件，不是文本文件：请另存为“纯文本”后再导入。"))
    problems: list[Problem] = []
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8"]
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]

    text: str | None = None
    for encoding in candidates:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError as error:
            if error.reason == "unexpected end of data" and encoding == "utf-8":
                # Cut in the middle of a character: the file was truncated.
                text = data[: error.start].decode("utf-8", errors="replace")
                problems.append(
                    Problem(
                        _line_of(data, error.start),
                        _("文件末尾有不完整的字符，文件可能被截断。"),
                    )
                )
                break
            continue
    if text is None:
        # A few damaged bytes in an otherwise readable file: keep the rest, say where.
        for encoding in candidates:
            replaced = data.decode(encoding, errors="replace")
            bad = replaced.count("\ufffd")
            if bad <= max(3, len(replaced) * _MAX_BAD_BYTES_RATIO):
                text = replaced
                first = replaced.index("\ufffd")
                problems.append(
                    Problem(
                        replaced.count("\n", 0, first) + 1,
                        _("文件中有%(count)d处无法识别的字符，已替换为“\ufffd”。") % {"count": bad},
                    )
                )
                break
    if text is None:
        raise UnreadableFile(_("无法识别文件的编码（不是UTF-8或GB18030文本），无法读取。"))
    if _junk_ratio(text) > _MAX_JUNK_RATIO:
        raise UnreadableFile(_("文件含有大量非文本内容（可能是二进制文件），无法读取。"))
    return text, problems


def decode(data: bytes) -> str:
    """Decode a dump: UTF-8 with or without BOM, UTF-16 with BOM, else GB18030."""
    text, _problems = _decode(data)
    return text


def read_rows(text: str) -> list[Row]:
    """Split a dump into rows of cells, keeping the 1-based line where each cell starts.

    A row is a block of lines between blank lines; each cell starts with a TAB;
    a line without a leading TAB continues the previous cell (even after a
    blank line: paragraphs inside a cell are separated by blank lines too).
    """
    return list(iter_rows(text))


def iter_rows(text: str) -> Iterator[Row]:
    """The rows of read_rows one at a time: the parser stops reading at the forms cap."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    cells: list[Cell] = []
    blank_lines = 0
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip(" \u3000"):
            blank_lines += 1
            continue
        if line.startswith("\t"):
            if blank_lines and cells:
                yield Row(cells=cells, line=cells[0].line)
                cells = []
            # Some dumps put a whole row on one line: every TAB starts a cell.
            for part in line[1:].split("\t"):
                cells.append(Cell(text=part, line=number))
        elif cells:
            cells[-1].text += "\n" * (blank_lines + 1) + line
        else:
            cells.append(Cell(text=line, line=number))
        blank_lines = 0
    if cells:
        yield Row(cells=cells, line=cells[0].line)


def _lines(text: str) -> Iterator[str]:
    """The lines of a text without splitting all of it at once."""
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


# Characters no form may hold (common.safetext), but for those the row reader and
# check_forms give a meaning to: VT and FF (Word's line and page breaks) and BEL.
_MAX_CONTROL_PROBLEMS = 10
_STRAY_CONTROLS = re.compile("[\x00-\x06\x08\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def _strip_controls(text: str) -> tuple[str, list[Problem]]:
    """Remove control characters before the rows are read, so a NUL inside a label
    ("其中：当年财\x00政拨款") does not hide the label; a problem for each line that held one.
    """
    if _STRAY_CONTROLS.search(text) is None:
        return text, []
    by_line: dict[int, list[str]] = {}
    for match in _STRAY_CONTROLS.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        by_line.setdefault(line, []).append(match.group())
    problems = []
    for line, chars in list(by_line.items())[:_MAX_CONTROL_PROBLEMS]:
        codes = "、".join(dict.fromkeys(f"U+{ord(c):04X}" for c in chars))
        problems.append(
            Problem(
                line,
                _("第%(line)d行含有 %(count)d 个不可见的控制字符（%(codes)s），已删除。")
                % {"line": line, "count": len(chars), "codes": codes},
            )
        )
    if len(by_line) > _MAX_CONTROL_PROBLEMS:
        problems.append(
            Problem(
                None,
                _("另有 %(count)d 行含有不可见的控制字符，已删除。")
                % {"count": len(by_line) - _MAX_CONTROL_PROBLEMS},
            )
        )
    return _STRAY_CONTROLS.sub("", text), problems


def parse_text(data: bytes | str) -> ParseResult:
    """Read every form in a text dump; never raises, problems say what could not be read."""
    problems: list[Problem] = []
    try:
        if isinstance(data, bytes):
            text, problems = _decode(data)
        else:
            text = data
    except UnreadableFile as error:
        return ParseResult(forms=[], problems=[Problem(1, error.message)])
    if not text.strip():
        return ParseResult(forms=[], problems=[*problems, Problem(1, _("文件为空。"))])
    text, removed = _strip_controls(text)
    problems = problems + removed
    # Rows are read as the parser asks for them: past the forms cap it stops, and the
    # rest of the file is never split into rows. A reader bug surfaces in parse_rows
    # as an internal-error problem, like a parser bug.
    forms, row_problems = parse_rows(iter_rows(text))
    return ParseResult(forms=forms, problems=problems + row_problems)
