"""Characters that must never be stored: what the forms, importers and exports remove.

C0 control characters other than TAB, LF and CR (NUL among them: PostgreSQL refuses it
in text, and XML — hence .xlsx and .docx — cannot hold any of them), DEL, the
non-characters U+FFFE and U+FFFF (also illegal in XML; openpyxl's own
``ILLEGAL_CHARACTERS_RE`` misses them) and lone surrogates (not encodable as UTF-8).
Word's manual line break (VT) and page break (FF) become newlines rather than vanish.

Bidirectional controls (U+202E "right-to-left override" and its kin) are legitimate in
text but let a displayed file name lie about its extension, so they are removed from
generated file names only (``safe_filename_text``).

A few lines of our own: no library covers exactly this set (Django's
``ProhibitNullCharactersValidator`` checks NUL only; openpyxl's regex misses U+FFFE/F).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Every character that is removed (VT and FF are turned into newlines first).
FORBIDDEN_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})
BIDI_CONTROLS_RE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def count_forbidden(text: str) -> int:
    """How many characters ``clean_text`` would remove or replace."""
    return len(FORBIDDEN_RE.findall(text))


def clean_text(text: str) -> str:
    """The text without control characters, non-characters and lone surrogates."""
    if not text:
        return text
    return FORBIDDEN_RE.sub("", text.translate(_LINE_BREAKS))


def safe_filename_text(text: str) -> str:
    """Text fit for a file name: also without bidirectional controls."""
    return BIDI_CONTROLS_RE.sub("", clean_text(text))


def describe_forbidden(text: str) -> str:
    """The forbidden characters of ``text`` as code points, for a message ("U+0001、U+FFFE")."""
    seen: list[str] = []
    for char in FORBIDDEN_RE.findall(text):
        code = f"U+{ord(char):04X}"
        if code not in seen:
            seen.append(code)
    return "、".join(seen[:5])


@deconstructible
class CleanTextValidator:
    """Refuse text holding characters ``clean_text`` removes (the model's last line of defence)."""

    message = _("含有不可见的控制字符（%(chars)s），请删除后再保存。")
    code = "control_characters"

    def __call__(self, value: object) -> None:
        text = str(value)
        if FORBIDDEN_RE.search(text):
            raise ValidationError(
                self.message, code=self.code, params={"chars": describe_forbidden(text)}
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CleanTextValidator)

    def __hash__(self) -> int:
        return hash(self.code)


validate_clean_text = CleanTextValidator()
