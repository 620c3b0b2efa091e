"""HTTP plumbing: numbers from untrusted text (ids, years) and download headers.

Every id and year a user sends goes through ``StrictIntegerField`` (through a Django form,
or ``parse_id`` / ``parse_year`` for one parameter): numbers are ASCII digits within the
range the database can hold, so "²" (which ``str.isdigit()`` accepts and ``int()``
refuses) or a 5,000-digit year never reaches ``int()`` or a query.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from common.safetext import safe_filename_text

# The types files are served as.
PDF_CONTENT_TYPE = "application/pdf"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The largest id (primary key) the database holds: a 64-bit signed integer. An id beyond it
# in a URL or a query string is no match (404), never a number handed to the database.
MAX_ID = 2**63 - 1
# Years as a filter: anything a form's year could be, and no more than four digits.
MIN_YEAR, MAX_YEAR = 1, 9999


class StrictIntegerField(forms.IntegerField):
    """An integer typed in ASCII digits (optionally signed) that fits its bounds.

    Django's IntegerField hands the text to ``int()``, which also reads other scripts'
    digits ("١٢") and fails on over 4,300 digits; this one refuses both before ``int()``.
    """

    def __init__(self, *, min_value: int, max_value: int, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip() if value is not None else ""
        if text in self.empty_values:
            return None
        digits = text.removeprefix("-")
        width = max(len(str(abs(b))) for b in (self.min_value, self.max_value) if b is not None)
        if not (digits.isascii() and digits.isdigit() and len(digits) <= width):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


def id_field(**kwargs: Any) -> StrictIntegerField:
    """A database id: 1 to MAX_ID."""
    return StrictIntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def year_field(**kwargs: Any) -> StrictIntegerField:
    """A year: MIN_YEAR to MAX_YEAR."""
    malformed = _("年度应为四位数字，如 2021。")
    kwargs["error_messages"] = {
        "invalid": malformed,
        "min_value": malformed,
        "max_value": malformed,
        **kwargs.get("error_messages", {}),
    }
    return StrictIntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR, **kwargs)


def parse_integer(field: StrictIntegerField, value: Any) -> int | None:
    """The field's number from untrusted text, or None when it is not one."""
    try:
        return field.clean(value)
    except ValidationError:
        return None


def parse_id(value: Any) -> int | None:
    """A database id from untrusted text, or None when it is not one."""
    return parse_integer(id_field(), value)


def parse_year(value: Any) -> int | None:
    """A year from untrusted text (MIN_YEAR to MAX_YEAR), or None when it is not one."""
    return parse_integer(year_field(), value)


# Line breaks, tabs, quotes and backslashes cannot stand in the quoted ASCII name.
_NOT_IN_QUOTED_NAME = re.compile(r'[\x00-\x1f\x7f"\\]')


def content_disposition(filename: str, fallback: str) -> str:
    """An attachment header every browser understands: ASCII name plus RFC 5987 UTF-8 name.

    Whatever the caller built the name from, control and bidirectional characters are
    dropped here too: a browser shows the decoded name, and U+202E would reverse it.
    """
    filename = safe_filename_text(filename) or "download"
    ascii_name = safe_filename_text(fallback).encode("ascii", "ignore").decode()
    ascii_name = _NOT_IN_QUOTED_NAME.sub("", ascii_name) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
