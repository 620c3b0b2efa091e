"""The type of an uploaded file, decided from its content (magic bytes), never from its name.

A file whose content does not match its extension is refused: a renamed program (``MZ``)
called ``.pdf``, a PDF called ``.png``. ``.docx``, ``.xlsx`` and ``.ofd`` are zip archives:
their directory goes through the importer's checks (common/archive.py: entry
count, uncompressed size, compression ratio, overlapping entries, encryption) and every
entry is then read once, in chunks, so a damaged or lying archive is refused too. Nothing
here reads a whole file into memory.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _

from common import archive
from evidence.models import Kind

CHUNK = 64 * 1024

EXTENSIONS: dict[str, Kind] = {
    "pdf": Kind.PDF,
    "jpg": Kind.JPEG,
    "jpeg": Kind.JPEG,
    "png": Kind.PNG,
    "docx": Kind.DOCX,
    "xlsx": Kind.XLSX,
    "ofd": Kind.OFD,
}
# The entry that makes a zip archive one of the office formats.
ZIP_MARKERS: list[tuple[str, Kind]] = [
    ("word/document.xml", Kind.DOCX),
    ("xl/workbook.xml", Kind.XLSX),
    ("OFD.xml", Kind.OFD),
]


class FileRefused(Exception):
    """The file is not accepted; the message (Chinese) says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Sniffed:
    kind: Kind
    size: int
    sha256: str


def allowed_names() -> str:
    return "PDF、JPEG、PNG、Word（.docx）、Excel（.xlsx）、OFD"


def extension_kind(name: str) -> Kind | None:
    """The kind the file's name claims, or None for an extension that is not allowed."""
    _stem, dot, extension = name.rpartition(".")
    return EXTENSIONS.get(extension.lower()) if dot else None


def magic_kind(head: bytes) -> Kind | None:
    """The kind of the first bytes: PDF, JPEG, PNG, or a zip archive (DOCX, to be refined)."""
    if head.startswith(b"%PDF-"):
        return Kind.PDF
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if head.startswith(b"PK\x03\x04"):
        return Kind.DOCX  # a zip: zip_kind says which
    return None


def zip_kind(file: IO[bytes], size: int) -> Kind:
    """The office format of a zip archive, after the importer's checks and one full reading."""
    file.seek(0)
    try:
        zf = zipfile.ZipFile(file)
        infos = zf.infolist()
        archive._check_directory(infos, size)
        # Read every entry once: the CRC and the declared sizes are checked by zipfile,
        # which never yields more than an entry's declared size.
        for info in infos:
            with zf.open(info) as entry:
                while entry.read(CHUNK):
                    pass
    except archive.ArchiveRefused as refused:
        raise FileRefused(refused.message) from refused
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError):
        raise FileRefused(_("文件已损坏，无法读取。")) from None
    names = {info.filename for info in infos}
    for marker, kind in ZIP_MARKERS:
        if marker in names:
            return kind
    raise FileRefused(
        _("文件内容不是允许的格式（允许：%(allowed)s）。") % {"allowed": allowed_names()}
    )


def sniff(file: IO[bytes], name: str) -> Sniffed:
    """Hash and type a file read in chunks; refuses a type not allowed or not as named."""
    claimed = extension_kind(name)
    if claimed is None:
        raise FileRefused(
            _("不支持的文件类型“%(name)s”（允许：%(allowed)s）。")
            % {"name": name, "allowed": allowed_names()}
        )
    file.seek(0)
    digest = hashlib.sha256()
    head = b""
    size = 0
    while chunk := file.read(CHUNK):
        if len(head) < 16:
            head += chunk[:16]
        digest.update(chunk)
        size += len(chunk)
    kind = magic_kind(head)
    if kind == Kind.DOCX:
        kind = zip_kind(file, size)
    file.seek(0)
    if kind is None:
        raise FileRefused(
            _("文件“%(name)s”的内容不是允许的格式（允许：%(allowed)s）。")
            % {"name": name, "allowed": allowed_names()}
        )
    if kind != claimed:
        raise FileRefused(
            _("文件“%(name)s”的内容是 %(kind)s，与扩展名不符，未接受。")
            % {"name": name, "kind": kind.label}
        )
    return Sniffed(kind=kind, size=size, sha256=digest.hexdigest())
