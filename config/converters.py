"""Path converters of every URLconf: numbers in a URL within what the database holds."""

from __future__ import annotations

from common.http import MAX_ID, MAX_YEAR, MIN_YEAR


class IdConverter:
    """``<id:pk>``: a database id, at most MAX_ID; a larger number is no match (404).

    Django's ``<int:...>`` passes any number of digits on, and a number beyond the
    database's 64-bit integers makes the query raise OverflowError (a 500).
    """

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(value)  # the resolver reads ValueError as "no match"
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)


class YearConverter:
    """``<year:year>``: a fiscal year, MIN_YEAR to MAX_YEAR (four digits at most)."""

    regex = "[0-9]{1,4}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not MIN_YEAR <= number <= MAX_YEAR:
            raise ValueError(value)
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)
