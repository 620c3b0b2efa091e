"""What reading a file gives back: the forms, the problems met and their messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluations.core.evaluation_data import FormData


@dataclass
class Problem:
    """Something the importer could not read, with its source line where known."""

    line: int | None
    message: str


@dataclass
class ParseResult:
    """Forms read from one file and the problems met while reading it."""

    forms: list[FormData] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class UnreadableFile(Exception):
    """The file is not text the importer can decode (binary data, a .docx, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
