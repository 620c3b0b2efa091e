"""Concatenate PDF documents into one file as a stream: each input is written and dropped.

A general-purpose merger (pypdf's PdfWriter) keeps every page of every input until it
writes the result, so its memory grows with the number of forms. Here each input's
pages and what they use are renumbered and written out at once; only the page numbers,
the byte offsets and one outline entry per document stay in memory until the end.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from typing import IO, Any

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
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
    from pypdf.generic import NumberObject

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
    from pypdf.generic import NullObject

    return NullObject()
