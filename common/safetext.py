"""Characters that must never be stored: what the forms, importers and exports remove.

C0 control characters other than TAB, LF and CR (NUL among them: PostgreSQL refuses it
in text, and XML — hence .xlsx and .docx — cannot hold any of them), DEL, the
non-characters U+FFFE and U+FFFF (also illegal in XML; openpyxl's own
``ILLEGAL_CHARACTERS_RE`` misses them) and lone surrogates (not encodable as UTF-8).
Word's manual line break (VT) and page break (FF) become newlines rather than vanish.

Bidirectional controls (U+202E "right-to-left override" and its kin) are legitimate in
text but let a displayed file name lie about its extension, so they are removed from
generated file names only (``safe_filename_text``).

Single-line fields (a project name, 实施单位, a department's or campaign's name, a person's
name, a phone number) hold no line break or tab either (``single_line``): they end up in
mail subjects, where a newline is refused (Django raises ``BadHeaderError``), and in table
cells and file names meant to hold one line. Web forms and importers replace them with a
space (``single_line``); the models refuse them (``validate_single_line``).

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
# What breaks a line (or jumps like one) in a single-line field: TAB, LF, VT, FF, CR, NEL and
# Unicode's line and paragraph separators (Python's str.splitlines() splits on these too).
LINE_BREAK_RE = re.compile("[\t\n\x0b\x0c\r\x1c-\x1e\x85\u2028\u2029]")
_BREAK_RUN_RE = re.compile(f" *{LINE_BREAK_RE.pattern}+ *")


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


def single_line(text: str) -> str:
    """The text cleaned (``clean_text``) on one line: each run of breaks and tabs is one space."""
    if not text:
        return text
    return clean_text(_BREAK_RUN_RE.sub(" ", text)).strip()


def one_line_subject(text: str) -> str:
    """A mail subject: cleaned, every run of whitespace (line breaks included) one space."""
    return " ".join(clean_text(text).split())


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


@deconstructible
class SingleLineValidator:
    """Refuse a line break or tab in a single-line field (the model's last line of defence)."""

    message = _("只能填写一行：请删除其中的换行符或制表符。")
    code = "line_break"

    def __call__(self, value: object) -> None:
        if LINE_BREAK_RE.search(str(value)):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SingleLineValidator)

    def __hash__(self) -> int:
        return hash(self.code)


validate_single_line = SingleLineValidator()
# A single-line field's validators: no control characters, no line breaks or tabs.
SINGLE_LINE = [validate_clean_text, validate_single_line]
