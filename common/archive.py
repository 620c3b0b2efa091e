"""Zip archives (.xlsx and .docx files) checked before, and bounded while, anything is read.

Why code of our own: ``zipfile`` believes the central directory and has no budget across
entries, and no reader we use (openpyxl, lxml) bounds what it decompresses or parses; defusedxml-type libraries guard against XML entity tricks, not against a few
kilobytes that inflate to gigabytes. So, before anything is parsed, the archive's
directory is checked (entry count, declared uncompressed size, compression ratio,
overlapping or duplicate entries, encryption, compression method); then every entry is
read through a stream that counts what it really yields: the declared size of the entry
and the file's uncompressed budget can never be exceeded, whatever the directory says,
and the XML markup (one ``<`` per tag) parsed in one reading of the file is bounded, so
parsing time and memory are bounded too. A part read whole (a parser that materialises
it as a tree) has much smaller budgets (markup and bytes) than a part that is streamed.

Every limit comes from settings (``IMPORT_MAX_*``); a file over one is refused with a
message that names it, as :class:`ArchiveRefused`.
"""

from __future__ import annotations

import zipfile
import zlib
from io import BytesIO
from typing import IO

from django.conf import settings

from common.translation import _

MIB = 1024 * 1024
# An old binary Office file (.xls, .doc): an OLE compound document, not a zip.
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# An entry this small cannot hurt whatever its ratio: a few KB of repetitive XML (styles,
# an empty sheet) compress far better than 100:1 in files Excel and Word write.
RATIO_FLOOR = MIB
# The markup budgets are settings (IMPORT_MAX_XML_MARKUP, IMPORT_MAX_XML_PART_MARKUP): an
# exported workbook of 200 forms has 0.17 million tags, a python-docx document of 200 forms
# 0.34 million; two million take lxml about a second at the densest (one ``<`` per
# element). A part parsed whole (an lxml tree, openpyxl's styles) has a few thousand tags
# and at most a few hundred KB (Word's styles.xml: 350 KB).
WHOLE_PART_SIZE = 5 * MIB


def max_markup() -> int:
    return settings.IMPORT_MAX_XML_MARKUP


def max_whole_part_markup() -> int:
    return settings.IMPORT_MAX_XML_PART_MARKUP


def megabytes(size: int) -> str:
    """A size as the limits are written ("50 MB", "2.5 MB", "20 KB")."""
    value, unit = (size / MIB, "MB") if size >= MIB else (size / 1024, "KB")
    return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"


# What a damaged or foreign file raises while it is opened: it is not a valid workbook or
# document. (SyntaxError: malformed XML, from expat and lxml alike; zlib.error: a broken
# deflate stream; TypeError: openpyxl on a value of the wrong type.)
NOT_VALID = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    ValueError,
    OSError,
    EOFError,
    TypeError,
    SyntaxError,
)


class ArchiveRefused(Exception):
    """The archive is over a limit or malformed; the message says which, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _unusual(reason: str) -> ArchiveRefused:
    return ArchiveRefused(_("文件结构异常（%(reason)s），未读取。") % {"reason": reason})


def over_uncompressed_size() -> ArchiveRefused:
    return ArchiveRefused(
        _("文件解压后超过 %(limit)s（上限），未读取。")
        % {"limit": megabytes(settings.IMPORT_MAX_UNCOMPRESSED_SIZE)}
    )


def over_markup(limit: int) -> ArchiveRefused:
    return ArchiveRefused(
        _("文件内容过于复杂：XML 标记超过 %(limit)s 个（上限），未读取。") % {"limit": f"{limit:,}"}
    )


class Budget:
    """What one reading of a file may still decompress and parse."""

    def __init__(self, markup: int | None = None) -> None:
        self.bytes_left = settings.IMPORT_MAX_UNCOMPRESSED_SIZE
        self.markup_limit = max_markup() if markup is None else markup
        self.markup_left = self.markup_limit

    def take(self, chunk: bytes) -> None:
        self.bytes_left -= len(chunk)
        if self.bytes_left < 0:
            raise over_uncompressed_size()
        self.markup_left -= chunk.count(b"<")
        if self.markup_left < 0:
            raise over_markup(self.markup_limit)


class CappedStream:
    """One entry of the archive, read through the budget of the current reading.

    Streaming parsers read in chunks and share the file's markup budget; a read of
    everything at once (``read()``) means the caller builds a whole tree, so the part
    must also fit the smaller budget of a part read whole. A streaming reader that frees
    what it has handled can also bound what it holds (:meth:`hold`): the markup read
    since its last :meth:`release`, checked a read at a time. A document type
    declaration (the door to entity expansion) is refused: Office files never have one.
    """

    def __init__(self, raw: IO[bytes], info: zipfile.ZipInfo, budget: Budget) -> None:
        self._raw = raw
        self._declared = info.file_size
        self._budget = budget
        self._read = 0
        self.markup = 0  # ``<`` read so far from this entry
        self._prolog: bytes | None = b""  # None once the root element has started
        self._held_limit: int | None = None
        self._held_refusal: ArchiveRefused | None = None
        self._released = 0

    def hold(self, limit: int, refusal: ArchiveRefused) -> None:
        """Refuse (with ``refusal``) once more than ``limit`` markup is read without a release."""
        self._held_limit = limit
        self._held_refusal = refusal

    def release(self) -> None:
        """The reader has freed everything it read so far."""
        self._released = self.markup

    def read(self, size: int = -1) -> bytes:
        if size is not None and size >= 0:
            chunk = self._raw.read(size)
            self._account(chunk)
            return chunk
        # Everything at once: for a tree, so within the budgets of a part read whole.
        markup_limit = max_whole_part_markup()
        pieces = []
        while chunk := self._raw.read(MIB):
            self._account(chunk)
            pieces.append(chunk)
            if self._read > WHOLE_PART_SIZE:
                raise ArchiveRefused(
                    _("文件内容过于复杂：其中一个部分超过 %(limit)s（上限），未读取。")
                    % {"limit": megabytes(WHOLE_PART_SIZE)}
                )
            if self.markup > markup_limit:
                raise over_markup(markup_limit)
        return b"".join(pieces)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size if size and size > 0 else 64 * 1024)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> CappedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _account(self, chunk: bytes) -> None:
        self._read += len(chunk)
        if self._read > self._declared:
            raise ArchiveRefused(_("文件已损坏：压缩条目解压后比声明的大，未读取。"))
        if self._held_limit is not None and self.markup - self._released > self._held_limit:
            raise self._held_refusal or over_markup(self._held_limit)
        if self._prolog is not None:
            self._check_prolog(chunk)
        self.markup += chunk.count(b"<")
        self._budget.take(chunk)

    def _check_prolog(self, chunk: bytes) -> None:
        """Refuse a DOCTYPE (and XML not in UTF-8) before the root element starts."""
        assert self._prolog is not None
        seen = self._prolog + chunk
        if seen.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
            raise _unusual(_("XML 不是 UTF-8 编码"))
        position = 0
        while True:
            position = seen.find(b"<", position)
            if position < 0:
                break
            rest = seen[position : position + 9]
            if b"<!DOCTYPE".startswith(rest) or b"<!--".startswith(rest):
                if len(rest) < 9 and not rest.startswith(b"<!--"):
                    break  # cut between chunks: wait for the next one
            if rest.startswith(b"<!DOCTYPE"):
                raise _unusual(_("含有 XML 文档类型声明"))
            if rest.startswith((b"<?", b"<!--")):
                closing = b"?>" if rest.startswith(b"<?") else b"-->"
                end = seen.find(closing, position + 2)
                if end < 0:
                    break  # the declaration or comment goes on in the next chunk
                position = end + len(closing)
                continue
            if len(rest) < 2:
                break
            if rest.startswith(b"<!"):
                raise _unusual(_("XML 开头有无法识别的声明"))
            self._prolog = None  # the root element starts here
            return
        if len(seen) > 64 * 1024:
            raise _unusual(_("XML 开头过长"))
        self._prolog = seen


class CheckedArchive:
    """A zip archive whose directory passed the checks; entries are read through budgets."""

    def __init__(self, data: bytes) -> None:
        # zipfile's own errors (BadZipFile, ...) pass through: each reader words them.
        try:
            self.zip = zipfile.ZipFile(BytesIO(data))
        except NotImplementedError as error:  # a zip format version zipfile does not know
            raise _unusual(_("不支持的压缩格式")) from error
        infos = self.zip.infolist()
        _check_directory(infos, len(data))
        self.infos = {info.filename: info for info in infos}

    def namelist(self) -> list[str]:
        return list(self.infos)

    def open(self, name: str, budget: Budget) -> CappedStream:
        """An entry as a stream bounded by the budget (KeyError when there is none)."""
        info = self.infos[name]
        return CappedStream(self.zip.open(info), info, budget)

    def read(self, name: str, budget: Budget) -> bytes:
        """A whole entry, to be parsed whole: the smaller markup budget applies."""
        with self.open(name, budget) as stream:
            return stream.read()


def _check_directory(infos: list[zipfile.ZipInfo], size: int) -> None:
    """Refuse an archive whose directory is over a limit or built to mislead a reader."""
    if len(infos) > settings.IMPORT_MAX_ARCHIVE_ENTRIES:
        raise ArchiveRefused(
            _("文件包含 %(count)s 个压缩条目，超过 %(limit)s 个（上限），未读取。")
            % {"count": len(infos), "limit": settings.IMPORT_MAX_ARCHIVE_ENTRIES}
        )
    names = set()
    total = 0
    ratio_limit = settings.IMPORT_MAX_COMPRESSION_RATIO
    for info in infos:
        if info.filename in names:
            raise _unusual(_("压缩条目名称重复"))
        names.add(info.filename)
        if info.flag_bits & 0x41:  # encrypted, or strongly encrypted
            raise ArchiveRefused(_("文件已加密，请取消密码保护后再导入。"))
        if info.flag_bits & 0x20:  # "compressed patched data": zipfile cannot read it
            raise _unusual(_("不支持的压缩方式"))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _unusual(_("不支持的压缩方式"))
        total += info.file_size
        if total > settings.IMPORT_MAX_UNCOMPRESSED_SIZE:
            raise over_uncompressed_size()
        if info.file_size > RATIO_FLOOR and info.file_size > ratio_limit * info.compress_size:
            raise ArchiveRefused(
                _("文件的压缩比超过 %(limit)s 倍（上限），可能是“压缩炸弹”，未读取。")
                % {"limit": ratio_limit}
            )
    if total > RATIO_FLOOR and total > ratio_limit * size:
        raise ArchiveRefused(
            _("文件的压缩比超过 %(limit)s 倍（上限），可能是“压缩炸弹”，未读取。")
            % {"limit": ratio_limit}
        )
    # Entries that share their compressed data (the "overlapping" zip bomb) or lie
    # outside the file: each entry's data must end before the next one starts.
    spans = sorted((info.header_offset, info.compress_size) for info in infos)
    for (start, length), (following, _length) in zip(spans, spans[1:], strict=False):
        if start + length > following:
            raise _unusual(_("压缩条目相互重叠"))
    if spans and spans[-1][0] + spans[-1][1] > size:
        raise _unusual(_("压缩条目超出文件末尾"))


def open_archive(data: bytes) -> CheckedArchive:
    """Check an archive's directory; raises ArchiveRefused with the reason in Chinese."""
    return CheckedArchive(data)
