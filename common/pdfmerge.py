"""Concatenate PDF documents into one file as a stream: each input is written and dropped.

A general-purpose merger (pypdf's PdfWriter) keeps every page of every input until it
writes the result, so its memory grows with the number of forms. Here each input's
pages and what they use are renumbered and written out at once; only the page numbers,
the byte offsets and one outline entry per document stay in memory until the end.

The objects of a WeasyPrint PDF sit in compressed object streams. Parsing them into
pypdf objects and writing them back cost most of the merge (a font's width table alone is
a thousand numbers): those objects are copied as bytes instead, only their references
("12 0 R", outside strings) renumbered. Streams (page contents, fonts) are copied with
their bytes still encoded. An input of another shape (a reference this copy cannot read
safely) is merged through pypdf's objects, with the same result.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import BytesIO
from typing import IO, Any

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

CATALOG, PAGES, OUTLINES, INFO = 1, 2, 3, 4


class StreamingPdfMerger:
    """Append whole PDF documents to ``target``; call ``close()`` to finish the file.

    ``title`` and ``author`` become the merged file's document information (what a PDF
    reader shows as its properties); the inputs' own information is not carried over.
    """

    def __init__(self, target: IO[bytes], *, title: str = "", author: str = "") -> None:
        self.target = target
        self.title = title
        self.author = author
        self.position = 0
        self.offsets: dict[int, int] = {}
        self.next_id = INFO + 1
        self.page_ids: list[int] = []
        self.documents: list[tuple[str, int]] = []  # (outline title, index of first page)
        self._emit(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _emit(self, data: bytes) -> None:
        self.target.write(data)
        self.position += len(data)

    def _write_object(self, number: int, obj: Any) -> None:
        buffer = BytesIO()
        obj.write_to_stream(buffer)
        self.offsets[number] = self.position
        self._emit(f"{number} 0 obj\n".encode() + buffer.getvalue() + b"\nendobj\n")

    def append(self, data: bytes, title: str) -> int:
        """Write every page of one PDF document; return its number of pages."""
        reader = PdfReader(BytesIO(data))
        try:
            copied = _RawDocument(reader).copy(self.next_id)
        except _Unsupported:
            return self._append_parsed(reader, title)
        objects, page_numbers = copied
        for number, obj in objects:
            if isinstance(obj, bytes):
                self.offsets[number] = self.position
                self._emit(b"%d 0 obj\n%b\nendobj\n" % (number, obj))
            else:
                self._write_object(number, obj)
        self.next_id += len(objects)
        self.documents.append((title, len(self.page_ids)))
        self.page_ids.extend(page_numbers)
        return len(page_numbers)

    def _append_parsed(self, reader: PdfReader, title: str) -> int:
        """``append`` through pypdf's objects: any PDF pypdf reads."""
        pages = [page.indirect_reference for page in reader.pages]
        numbers: dict[tuple[int, int], int] = {}
        order: list[IndirectObject] = []
        stack = list(reversed(pages))
        while stack:
            ref = stack.pop()
            key = (ref.idnum, ref.generation)
            if key in numbers:
                continue
            numbers[key] = self.next_id
            self.next_id += 1
            order.append(ref)
            stack.extend(_references(ref.get_object()))
        page_keys = {(p.idnum, p.generation) for p in pages}
        for ref in order:
            obj = _renumber(ref.get_object(), numbers)
            if (ref.idnum, ref.generation) in page_keys:
                obj[NameObject("/Parent")] = IndirectObject(PAGES, 0, None)  # type: ignore[arg-type]
            self._write_object(numbers[(ref.idnum, ref.generation)], obj)
        self.documents.append((title, len(self.page_ids)))
        self.page_ids.extend(numbers[(p.idnum, p.generation)] for p in pages)
        return len(pages)

    def close(self) -> None:
        """Write the page tree, outline, page labels, cross-reference table and trailer."""
        ref = _ref
        kids = ArrayObject([ref(n) for n in self.page_ids])
        pages = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Pages"),
                NameObject("/Kids"): kids,
                NameObject("/Count"): _int(len(self.page_ids)),
            }
        )
        self._write_object(PAGES, pages)

        item_ids = [self.next_id + i for i in range(len(self.documents))]
        self.next_id += len(self.documents)
        for i, ((title, first_page), number) in enumerate(
            zip(self.documents, item_ids, strict=True)
        ):
            item = DictionaryObject(
                {
                    NameObject("/Title"): TextStringObject(title),
                    NameObject("/Parent"): ref(OUTLINES),
                    NameObject("/Dest"): ArrayObject(
                        [ref(self.page_ids[first_page]), NameObject("/Fit")]
                    )
                    if self.page_ids
                    else ArrayObject(),
                }
            )
            if i > 0:
                item[NameObject("/Prev")] = ref(item_ids[i - 1])
            if i + 1 < len(item_ids):
                item[NameObject("/Next")] = ref(item_ids[i + 1])
            self._write_object(number, item)
        outlines = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Outlines"),
                NameObject("/Count"): _int(len(item_ids)),
            }
        )
        if item_ids:
            outlines[NameObject("/First")] = ref(item_ids[0])
            outlines[NameObject("/Last")] = ref(item_ids[-1])
        self._write_object(OUTLINES, outlines)

        # Page numbers restart at 1 for each document, as printed in its footer.
        nums = ArrayObject()
        for _title, first_page in self.documents:
            nums.append(_int(first_page))
            nums.append(
                DictionaryObject({NameObject("/S"): NameObject("/D"), NameObject("/St"): _int(1)})
            )
        catalog = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Catalog"),
                NameObject("/Pages"): ref(PAGES),
                NameObject("/Outlines"): ref(OUTLINES),
                NameObject("/PageMode"): NameObject("/UseOutlines"),
                NameObject("/PageLabels"): DictionaryObject({NameObject("/Nums"): nums}),
            }
        )
        self._write_object(CATALOG, catalog)
        self._write_object(INFO, self._info())

        size = self.next_id
        xref_at = self.position
        lines = [f"xref\n0 {size}\n", "0000000000 65535 f \n"]
        for number in range(1, size):
            lines.append(f"{self.offsets[number]:010d} 00000 n \n")
        self._emit("".join(lines).encode())
        self._emit(
            f"trailer\n<< /Size {size} /Root {CATALOG} 0 R /Info {INFO} 0 R >>\n"
            f"startxref\n{xref_at}\n%%EOF\n".encode()
        )

    def _info(self) -> DictionaryObject:
        """The document information dictionary: title, author, producer, creation date."""
        now = datetime.now(UTC).strftime("D:%Y%m%d%H%M%SZ")
        info = DictionaryObject(
            {
                NameObject("/Producer"): TextStringObject("perfeval"),
                NameObject("/CreationDate"): TextStringObject(now),
                NameObject("/ModDate"): TextStringObject(now),
            }
        )
        if self.title:
            info[NameObject("/Title")] = TextStringObject(self.title)
        if self.author:
            info[NameObject("/Author")] = TextStringObject(self.author)
        return info


def _ref(number: int) -> IndirectObject:
    return IndirectObject(number, 0, None)  # type: ignore[arg-type]


def _int(value: int) -> Any:
    return NumberObject(value)


def _references(obj: Any) -> list[IndirectObject]:
    """Indirect references inside an object, not following a page's /Parent."""
    found: list[IndirectObject] = []
    todo = [obj]
    while todo:
        item = todo.pop()
        if isinstance(item, IndirectObject):
            found.append(item)
        elif isinstance(item, DictionaryObject):
            todo.extend(v for k, v in item.items() if k != "/Parent")
        elif isinstance(item, ArrayObject):
            todo.extend(item)
    return found


def _renumber(obj: Any, numbers: dict[tuple[int, int], int]) -> Any:
    """A copy of ``obj`` whose references point at the new object numbers."""
    if isinstance(obj, IndirectObject):
        number = numbers.get((obj.idnum, obj.generation))
        return _ref(number) if number is not None else _null()
    if isinstance(obj, StreamObject):
        copy = obj.__class__()
        for key, value in obj.items():
            copy[NameObject(key)] = _renumber(value, numbers)
        copy._data = obj._data  # the stream's bytes, still encoded as in the input
        return copy
    if isinstance(obj, DictionaryObject):
        return DictionaryObject(
            {NameObject(k): _renumber(v, numbers) for k, v in obj.items() if k != "/Parent"}
        )
    if isinstance(obj, ArrayObject):
        return ArrayObject(_renumber(v, numbers) for v in obj)
    return obj


def _null() -> Any:
    return NullObject()


# --- copying objects as bytes ------------------------------------------------------------------

# PDF delimiters and white space: what may stand before and after a reference's tokens.
_BEFORE = rb"(?<![^\s\[\]<>{}()])"
_AFTER = rb"(?![^\s\[\]<>{}()/%])"
_REFERENCE = re.compile(_BEFORE + rb"(\d+)\s+(\d+)\s+R" + _AFTER)
_PARENT = re.compile(rb"/Parent\s+(\d+)\s+(\d+)\s+R" + _AFTER)
_PAGES = re.compile(rb"/Pages\s+(\d+)\s+(\d+)\s+R" + _AFTER)
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
_PAGE_TYPE = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9])")
_STRING_SIGN = re.compile(rb"[()\\]")


class _Unsupported(Exception):
    """The input has a shape the byte copy does not handle: merge it through pypdf."""


def _string_spans(raw: bytes) -> list[tuple[int, int]]:
    """Where the literal strings "(...)" are (nested parentheses and escapes honoured)."""
    spans = []
    start = raw.find(b"(")
    while start != -1:
        depth, position = 0, start
        while True:
            sign = _STRING_SIGN.search(raw, position)
            if sign is None:
                raise _Unsupported("unterminated string")
            position = sign.end()
            if raw[sign.start()] == 0x5C:  # a backslash escapes the next byte
                position += 1
                continue
            depth += 1 if raw[sign.start()] == 0x28 else -1
            if depth == 0:
                break
        spans.append((start, position))
        start = raw.find(b"(", position)
    if b")" in _outside(raw, spans):
        raise _Unsupported("unbalanced string")
    return spans


def _outside(raw: bytes, spans: list[tuple[int, int]]) -> bytes:
    """The bytes of ``raw`` that are not inside a literal string."""
    parts, position = [], 0
    for start, end in spans:
        parts.append(raw[position:start])
        position = end
    parts.append(raw[position:])
    return b"".join(parts)


def _in_spans(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


class _RawObject:
    """One object's bytes, with its references (outside strings) and /Parent entries found."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.spans = spans = _string_spans(raw) if b"(" in raw else []
        bare = _outside(raw, spans) if spans else raw
        if b"%" in bare or b"stream" in bare:
            raise _Unsupported("a comment or a stream among the object's tokens")
        self.parents = [m for m in _PARENT.finditer(raw) if not _in_spans(m.start(), spans)]
        if bare.count(b"/Parent") != len(self.parents):
            raise _Unsupported("a /Parent that is not a reference")
        inside_parent = [(m.start(), m.end()) for m in self.parents]
        self.references = [
            m
            for m in _REFERENCE.finditer(raw)
            if not _in_spans(m.start(), spans) and not _in_spans(m.start(), inside_parent)
        ]

    def find(self, pattern: re.Pattern[bytes]) -> re.Match[bytes] | None:
        """The first match of ``pattern`` outside the object's strings."""
        for match in pattern.finditer(self.raw):
            if not _in_spans(match.start(), self.spans):
                return match
        return None

    def keys(self) -> list[tuple[int, int]]:
        return [(int(m[1]), int(m[2])) for m in self.references]

    def renumbered(self, numbers: dict[tuple[int, int], int], parent: int | None) -> bytes:
        """The bytes with every reference renumbered; /Parent dropped, or ``parent`` for a page."""
        edits = [
            (m.start(), m.end(), b"%d 0 R" % numbers[(int(m[1]), int(m[2]))])
            for m in self.references
        ]
        edits += [
            (m.start(), m.end(), b"/Parent %d 0 R" % parent if parent is not None else b"")
            for m in self.parents
        ]
        edits.sort()
        parts, position = [], 0
        for start, end, replacement in edits:
            parts.append(self.raw[position:start])
            parts.append(replacement)
            position = end
        parts.append(self.raw[position:])
        return b"".join(parts)


class _RawDocument:
    """The objects of one input read from its object streams as bytes, without parsing them."""

    def __init__(self, reader: PdfReader) -> None:
        self.reader = reader
        self.streams: dict[int, dict[int, bytes]] = {}

    def _stream_objects(self, number: int) -> dict[int, bytes]:
        """The objects held in object stream ``number``, by object number."""
        found = self.streams.get(number)
        if found is None:
            stream = self.reader.get_object(number)
            if not isinstance(stream, StreamObject) or stream.get("/Type") != "/ObjStm":
                raise _Unsupported("not an object stream")
            data = stream.get_data()
            first = int(stream["/First"])  # type: ignore[arg-type]
            header = [int(value) for value in data[:first].split()]
            entries = sorted(zip(header[1::2], header[0::2], strict=True))  # (offset, number)
            ends = [offset for offset, _number in entries[1:]] + [len(data) - first]
            found = {
                object_number: data[first + offset : first + end].strip()
                for (offset, object_number), end in zip(entries, ends, strict=True)
            }
            self.streams[number] = found
        return found

    def raw(self, key: tuple[int, int]) -> _RawObject | None:
        """The object's bytes when it sits in an object stream; None for one in the file."""
        location = self.reader.xref_objStm.get(key[0])
        if location is None:
            return None
        if key[1] != 0:
            raise _Unsupported("an object stream's object of a later generation")
        found = self._stream_objects(int(location[0])).get(key[0])
        if found is None:
            raise _Unsupported("an object missing from its object stream")
        return _RawObject(found)

    def _page_keys(self) -> list[tuple[int, int]]:
        """The pages, in order, from a flat page tree in object streams."""
        root = self.reader.trailer.raw_get("/Root")
        if not isinstance(root, IndirectObject):
            raise _Unsupported("no catalog reference")
        catalog = self.raw((root.idnum, root.generation))
        if catalog is None:
            raise _Unsupported("the catalog is not in an object stream")
        pages_match = catalog.find(_PAGES)
        if pages_match is None:
            raise _Unsupported("no page tree")
        tree = self.raw((int(pages_match[1]), int(pages_match[2])))
        if tree is None:
            raise _Unsupported("the page tree is not in an object stream")
        kids = tree.find(_KIDS)
        if kids is None:
            raise _Unsupported("no kids")
        keys = [(int(m[1]), int(m[2])) for m in _REFERENCE.finditer(kids[1])]
        if not keys:
            raise _Unsupported("no pages")
        return keys

    def copy(self, first_number: int) -> tuple[list[tuple[int, bytes | Any]], list[int]]:
        """Every object the pages use, renumbered from ``first_number``, and the page numbers.

        Objects in object streams come as bytes, the others (streams) as pypdf objects.
        """
        pages = self._page_keys()
        page_set = set(pages)
        numbers: dict[tuple[int, int], int] = {}
        order: list[tuple[tuple[int, int], _RawObject | Any]] = []
        stack = list(reversed(pages))
        while stack:
            key = stack.pop()
            if key in numbers:
                continue
            raw = self.raw(key)
            if raw is None:
                obj = IndirectObject(key[0], key[1], self.reader).get_object()
                children = [(ref.idnum, ref.generation) for ref in _references(obj)]
                item: _RawObject | Any = obj
            else:
                if key in page_set and not raw.parents:
                    raise _Unsupported("a page without a parent")
                if key in page_set and not _PAGE_TYPE.search(raw.raw):
                    raise _Unsupported("a page tree of more than one level")
                children = raw.keys()
                item = raw
            numbers[key] = first_number + len(numbers)
            order.append((key, item))
            stack.extend(reversed(children))
        objects: list[tuple[int, bytes | Any]] = []
        for key, item in order:
            is_page = key in page_set
            if isinstance(item, _RawObject):
                objects.append((numbers[key], item.renumbered(numbers, PAGES if is_page else None)))
            else:
                obj = _renumber(item, numbers)
                if is_page:
                    obj[NameObject("/Parent")] = _ref(PAGES)
                objects.append((numbers[key], obj))
        return objects, [numbers[key] for key in pages]
