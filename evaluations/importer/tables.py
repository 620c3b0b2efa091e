"""Recognise 项目支出绩效自评表 forms in a sequence of table rows, whatever the source format."""

from __future__ import annotations

from collections.abc import Iterable

from common.translation import _
from evaluations.core.evaluation_data import FormData
from evaluations.importer.cells import Cell, Row, parse_number
from evaluations.importer.parser import _Parser
from evaluations.importer.results import ParseResult, Problem, UnreadableFile

# The parts: cells.py (cell text and numbers), sections.py (which row is which part of
# a form), body.py (filling a form from its body rows) and parser.py (the walk). The
# readers (text, xlsx, docx) and the service import from here.
__all__ = [
    "Cell",
    "ParseResult",
    "Problem",
    "Row",
    "UnreadableFile",
    "parse_number",
    "parse_rows",
]


def parse_rows(rows: Iterable[Row]) -> tuple[list[FormData], list[Problem]]:
    """Read every 项目支出绩效自评表 in the rows; never raises, problems say what was not read.

    A form is returned when it has at least a project name and a year; what else
    it lacks is listed in the problems. Values are kept as written: nothing is
    checked against the scoring rules here.
    """
    parser = _Parser()
    try:
        parser.run(rows)
    except Exception as error:  # noqa: BLE001 - a bug must become a reported problem, not a crash
        parser.problems.append(
            Problem(
                None,
                _("读取时发生内部错误（%(error)s），结果可能不完整。")
                % {"error": type(error).__name__},
            )
        )
    return parser.forms, parser.problems
