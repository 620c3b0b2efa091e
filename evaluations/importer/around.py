"""Rows around the table: signature rows, report numbers, summaries and footnotes.

Templates of other places print lines above and below the form's table. What the form
has a place for is read there (填报人, 联系电话, 单位负责人 of the signature block); the
rest (报表编号, 部门：…, 公开14表, 项目负责人及电话, 项目基本情况, 评价结论, 存在问题,
改进措施, 填报日期, 注：…) is reported as not read with its line, never put into another
field. A row is claimed only when each of its cells is such a label or a label's value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.translation import _
from evaluations.core.evaluation_data import FormData
from evaluations.importer.cells import Cell, Row, clean_cell, label_key, snippet
from evaluations.importer.results import Problem

# Labels of the signature block the form stores, and its field.
_READ = {
    "填报人": "filler_name",
    "联系电话": "filler_phone",
    "单位负责人": "unit_head",
}
# Short labels the form has no place for; their values are reported, not read.
_NOT_READ = (
    "项目负责人及电话",
    "项目负责人及联系电话",
    "项目负责人",
    "填报单位",
    "填报日期",
    "审核人",
    "审核日期",
    "审核单位",
    "财务负责人",
    "部门负责人",
    "报表编号",
    "表号",
    "部门",
    "单位名称",
)
# Labels of long text the form has no field for: the whole row is reported.
_PROSE = (
    "项目基本情况",
    "项目概况",
    "其他需要说明事项",
    "其他需要说明的事项",
    "其他说明",
    "评价结论",
    "自评结论",
    "存在问题",
    "存在的问题",
    "主要问题",
    "改进措施",
    "改进建议",
    "整改措施",
)
# Labels naming a person: a 联系电话 that follows one is that person's.
_PEOPLE = frozenset({"填报人", "单位负责人", "项目负责人", "审核人", "财务负责人", "部门负责人"})
_LABELS = tuple(sorted((*_READ, *_NOT_READ), key=len, reverse=True))
_LABEL_AT = re.compile(
    "(" + "|".join(map(re.escape, _LABELS)) + r")(?:\((?:签字|签章|签名|盖章|公章)\))?:?"
)
_REPORT_NUMBER = re.compile(r"^公开\d+表$")
# First characters of every label above: most rows are told apart by their first cell's.
_FIRST_CHARACTERS = frozenset(
    label[0] for label in (*_LABELS, *_PROSE, "注", "备注", "说明", "公开")
)
_NOTE = re.compile(r"^(?:注|备注|说明)\d*:")


@dataclass
class AroundItem:
    """One label found around the table, with its value as written."""

    label: str
    value: str
    line: int


def around_items(row: Row, norms: list[str]) -> list[AroundItem] | None:
    """The labels and values of a row around the table, or None if the row is not one.

    ``norms``: the cells' ``label_key``, as the parser has them.
    """
    cells = [(c, n) for c, n in zip(row.cells, norms, strict=True) if n]
    if not cells or cells[0][1][0] not in _FIRST_CHARACTERS:
        return None
    first, first_key = cells[0]
    if _REPORT_NUMBER.match(first_key) and len(cells) == 1:
        return [AroundItem(first_key, "", first.line)]
    prose = next((p for p in _PROSE if first_key == p or first_key.startswith(p + ":")), None)
    if prose is None and _NOTE.match(first_key):
        prose = first_key.split(":", 1)[0]
    if prose is not None:
        # The label's own cell may hold the text after a colon ("注：…", "评价结论：…").
        own = re.split("[:：]", clean_cell(first.text), maxsplit=1)
        texts = [own[1].strip()] if len(own) > 1 else []
        texts += [clean_cell(c.text) for c, _key in cells[1:]]
        return [AroundItem(prose, "\n".join(t for t in texts if t), first.line)]
    items: list[AroundItem] = []
    for cell, key, text in _pieces(cells):
        found = list(_LABEL_AT.finditer(key))
        if not found or found[0].start() != 0:
            if items and not items[-1].value and not found:
                items[-1].value = text
                continue
            return None
        for at, match in enumerate(found):
            end = found[at + 1].start() if at + 1 < len(found) else len(key)
            if end > match.end() and not match.group(0).endswith(":"):
                return None  # "部门协作机制": a name that starts like a label
            items.append(AroundItem(match.group(1), key[match.end() : end], cell.line))
    _name_phone_owners(items)
    return items


def _pieces(cells: list[tuple[Cell, str]]) -> list[tuple[Cell, str, str]]:
    """(cell, key, text) of each piece: a cell that starts with a label and has no colon
    ("填报人　张三　联系电话　…") is split at its spaces, so its labels and values come apart."""
    pieces = []
    for cell, key in cells:
        words = cell.text.split()
        if ":" in key or len(words) < 2 or not _LABEL_AT.fullmatch(label_key(words[0])):
            pieces.append((cell, key, clean_cell(cell.text)))
        else:
            pieces += [(cell, label_key(word), word) for word in words]
    return pieces


def _name_phone_owners(items: list[AroundItem]) -> None:
    """A 联系电话 after another person's name is that person's, not the filler's."""
    person = ""
    for item in items:
        if item.label in _PEOPLE:
            person = item.label
        elif item.label == "联系电话" and person and person != "填报人":
            item.label = _("%(person)s的联系电话") % {"person": person}


def header_item(cell: Cell) -> AroundItem | None:
    """A header cell the form has no place for (项目负责人及电话：…), if it is one."""
    key = label_key(cell.text)
    match = _LABEL_AT.match(key)
    if match is None or match.group(1) in _READ:
        return None
    if match.end() < len(key) and not match.group(0).endswith(":"):
        return None
    return AroundItem(match.group(1), key[match.end() :], cell.line)


def read_around(
    items: list[AroundItem], form: FormData | None, *, below_table: bool = False
) -> list[Problem]:
    """Put what the form has a place for into ``form``; a problem for everything else.

    The signature block is read only below the table (``below_table``): a 联系电话 in the
    header may be anyone's, and is never taken for the filler's.
    """
    problems = []
    for item in items:
        problem = read_item(item, form if below_table else None, in_form=form is not None)
        if problem is not None:
            problems.append(problem)
    return problems


def read_item(item: AroundItem, form: FormData | None, *, in_form: bool) -> Problem | None:
    """Read the item into ``form`` if it has a place there; else the problem saying so.

    ``in_form``: the row is inside a form (above its total row when ``form`` is None).
    """
    attr = _READ.get(item.label)
    if attr is not None and form is not None:
        if item.value:
            setattr(form, attr, item.value)
        return None
    if not item.value and not _REPORT_NUMBER.match(item.label):
        return None  # an empty label loses nothing
    text = f"{item.label}：{item.value}" if item.value else item.label
    if attr is not None and in_form:
        message = _("“%(text)s”不在表格下方的签字栏中，无法确定是谁的，未读取。")
    elif attr is not None:
        message = _("“%(text)s”出现在自评表之外，不属于任何自评表，未读取。")
    else:
        message = _("“%(text)s”在本系统的自评表中没有对应栏目，未读取。")
    return Problem(item.line, message % {"text": snippet(text, 40)})
